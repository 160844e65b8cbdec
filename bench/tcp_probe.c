/* tcp_probe: TCP bulk transfer between two driven stacks over a memlink, through TCP's
 * internal interface (src/transport/tcp.h) rather than the socket API. A development tool
 * for profiling TCP itself (callgrind, perf) while or where the socket layer is not in
 * the way; `make bench` measures through the socket API only.
 *
 *   build/bench/tcp_probe [MTU [MBYTES]]      (default 65535, 1024) */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ipstack/ipstack.h>

#include "bench.h"
#include "core/stack.h"
#include "transport/tcp.h"

static void pump(ips_stack *a, ips_stack *b)
{
	ips_stack_poll(a, 0);
	ips_stack_poll(b, 0);
}

int main(int argc, char **argv)
{
	uint32_t mtu = argc > 1 ? (uint32_t)atoi(argv[1]) : 65535;
	uint64_t total = (argc > 2 ? strtoull(argv[2], NULL, 0) : 1024) << 20;
	struct ips_stack_config cfg = { .mode = IPS_MODE_DRIVEN };
	ips_stack *a = ips_stack_new(&cfg), *b = ips_stack_new(&cfg);
	struct ips_link_config link = { .mtu = mtu };
	struct tcp_sock *l, *c, *s = NULL;
	char *wbuf = calloc(1, BULK_WRITE), *rbuf = malloc(BULK_WRITE);
	struct iovec wio = { wbuf, BULK_WRITE }, rio = { rbuf, BULK_WRITE };
	uint64_t sent = 0, got = 0;
	int err;

	if (ips_memlink_new(a, "eth0", b, "eth0", &link) < 0 ||
	    ips_addr_add(a, "eth0", "10.0.0.1/24") < 0 || ips_addr_add(b, "eth0", "10.0.0.2/24") < 0)
		bench_die("setup");
	stack_lock(b);
	tcp_init(b);
	l = tcp_sock_new(b);
	if (!l || tcp_bind(l, inet_addr("10.0.0.2"), BENCH_PORT) < 0 || tcp_listen(l, 16) < 0)
		bench_die("listen");
	stack_unlock(b);
	stack_lock(a);
	tcp_init(a);
	c = tcp_sock_new(a);
	err = c ? tcp_connect(c, inet_addr("10.0.0.2"), BENCH_PORT) : -ENOMEM;
	stack_unlock(a);
	if (err != -EINPROGRESS)
		bench_die("connect: %d", err);
	for (int i = 0; i < 100000 && !s; i++) {
		pump(a, b);
		stack_lock(b);
		s = tcp_accept(l, &err);
		stack_unlock(b);
	}
	if (!s)
		bench_die("no connection");

	uint64_t t0 = bench_now_ns();
	double c0 = bench_cpu_s();
	bool closed = false;

	for (;;) {
		ssize_t n;

		if (!closed) {
			size_t want = total - sent < BULK_WRITE ? (size_t)(total - sent) : BULK_WRITE;

			wio.iov_len = want;
			stack_lock(a);
			n = tcp_sendmsg(c, &wio, 1, 0);
			if (n > 0)
				sent += (uint64_t)n;
			if (sent >= total) {
				tcp_shutdown(c, SHUT_WR);
				closed = true;
			}
			stack_unlock(a);
		}
		ips_stack_poll(b, 0);
		stack_lock(b);
		while ((n = tcp_recvmsg(s, &rio, 1, 0)) > 0)
			got += (uint64_t)n;
		stack_unlock(b);
		if (n == 0)
			break;
		ips_stack_poll(a, 0);
	}
	double el = (double)(bench_now_ns() - t0) / 1e9, cpu = bench_cpu_s() - c0;

	printf("tcp_probe mtu %u: %llu bytes in %.3f s = %.2f Gbit/s, cpu %.3f s = %.3f ns/byte\n",
	       mtu, (unsigned long long)got, el, (double)got * 8 / el / 1e9, cpu, cpu * 1e9 / (double)got);
	stack_lock(a);
	tcp_close(c);
	stack_unlock(a);
	stack_lock(b);
	tcp_close(s);
	tcp_close(l);
	stack_unlock(b);
	for (int i = 0; i < 100; i++)
		pump(a, b);
	ips_stack_free(a);
	ips_stack_free(b);
	free(wbuf);
	free(rbuf);
	return 0;
}

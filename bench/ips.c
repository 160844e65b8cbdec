/* The ipstack side of every case.
 *
 * How the stacks run (docs/performance.md, "How each case runs"): per the architecture,
 * the fast path never waits on a cross-thread wake-up, so every ipstack case runs its
 * stacks in driven mode on the real monotonic clock, and the application shares the
 * stack's thread: it makes non-blocking socket calls and calls ips_stack_poll(st, 0)
 * between them, as an event loop embedding ipstack would. (A simulated world would run
 * on a virtual clock, which is not what a throughput figure may be measured on.)
 *
 *   tcp_bulk_lo      two stacks joined by a memlink with a 65535-byte MTU (the largest
 *                    an Ethernet memlink takes; Linux's lo has 65536)
 *   tcp_bulk_1500    the same with a 1500-byte MTU
 *   tcp_bulk_tap     one stack on a TAP device; the kernel in the same namespace reads
 *   tcp_rr_64, udp_pps_64, tcp_connect_rate, tcp_idle_conn_mem
 *                    one stack, client and server on its `lo`, as the kernel's run on lo
 *
 * Failures of the stack under test are reported as "na" with the reason, never as a
 * number. */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ipstack/ipstack.h>

#include "bench.h"

static char na_buf[400];

/* Report the case as not available and return from the calling case function. */
#define NA(r, ...)                                                          \
	do {                                                                \
		snprintf(na_buf, sizeof(na_buf), __VA_ARGS__);              \
		(r)->na = na_buf;                                           \
		return 0;                                                   \
	} while (0)

static ips_stack *driven_stack(const char *name)
{
	struct ips_stack_config cfg = { .mode = IPS_MODE_DRIVEN, .name = name };
	ips_stack *st = ips_stack_new(&cfg);

	if (!st)
		bench_die("ips_stack_new(%s) failed", name);
	return st;
}

static void pump(ips_stack *a, ips_stack *b)
{
	ips_stack_poll(a, 0);
	if (b && b != a)
		ips_stack_poll(b, 0);
}

static struct sockaddr_in sin_of(const char *addr, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	inet_pton(AF_INET, addr, &sin.sin_addr);
	return sin;
}

/* Is TCP there at all? NULL if so, else why not. */
static const char *tcp_missing(ips_stack *st)
{
	static char why[120];
	int fd;

	ips_stack_enter(st);
	fd = ips_socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		snprintf(why, sizeof(why), "TCP not yet available (socket: %s)", strerror(errno));
		return why;
	}
	ips_close(fd);
	return NULL;
}

static void set_int(int fd, int level, int name, int v)
{
	ips_setsockopt(fd, level, name, &v, sizeof(v));
}

static void set_linger0(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	ips_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static int ips_listener(ips_stack *st, const char *addr, int type, int backlog)
{
	struct sockaddr_in sin = sin_of(addr, BENCH_PORT);
	int fd;

	ips_stack_enter(st);
	fd = ips_socket(AF_INET, type | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (ips_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    (type == SOCK_STREAM && ips_listen(fd, backlog) < 0)) {
		ips_close(fd);
		return -1;
	}
	return fd;
}

/* A non-blocking client socket in st, connect started. -1 on error (errno). */
static int ips_connect_start(ips_stack *st, const char *addr, int type)
{
	struct sockaddr_in sin = sin_of(addr, BENCH_PORT);
	int fd;

	ips_stack_enter(st);
	fd = ips_socket(AF_INET, type | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (ips_connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS) {
		int e = errno;

		ips_close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Pump stacks a and b until lfd (in b) has a connection to accept and cfd (in a) is
 * connected; returns the accepted descriptor, or -1 after timeout_ms. */
static int establish(ips_stack *a, ips_stack *b, int lfd, int cfd, int timeout_ms)
{
	uint64_t deadline = bench_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	int sfd = -1;

	while (bench_now_ns() < deadline) {
		pump(a, b);
		if (sfd < 0)
			sfd = ips_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		if (sfd >= 0) {
			struct pollfd p = { .fd = cfd, .events = POLLOUT };

			if (ips_poll(&p, 1, 0) == 1 && (p.revents & POLLOUT))
				return sfd;
		}
	}
	if (sfd >= 0)
		ips_close(sfd);
	return -1;
}

/* ---- tcp_bulk_*: one stream, 128 KiB writes ---- */

struct bulk_run {
	ips_stack *snd, *rcv;		/* may be one stack; rcv NULL: the kernel reads */
	int cfd, sfd;
	uint64_t limit;
	double time_s;
	uint64_t writes;		/* write() calls that took something */
};

/* The send/receive loop shared by the memlink and TAP cases. */
static int bulk_loop(struct bulk_run *b, struct bench_result *r, uint64_t *sent_out)
{
	char *wbuf = calloc(1, BULK_WRITE), *rbuf = malloc(BULK_WRITE);
	uint64_t sent = 0, got = 0;
	uint64_t t0 = bench_now_ns(), deadline = t0 + (uint64_t)(b->time_s * 1e9), t_end = 0;
	double c0 = bench_cpu_s();
	bool closed = false, eof = b->sfd < 0;
	uint64_t hard = deadline + 10ULL * 1000000000ULL;	/* draining is bounded too */

	while (!eof || !closed) {
		uint64_t now = bench_now_ns();

		if (now >= hard)
			break;
		if (!closed && (sent >= b->limit || now >= deadline)) {
			ips_shutdown(b->cfd, SHUT_WR);	/* FIN after what is queued */
			closed = true;
		}
		if (!closed) {
			size_t want = BULK_WRITE;

			if (b->limit - sent < want)
				want = (size_t)(b->limit - sent);
			ssize_t n = ips_write(b->cfd, wbuf, want);

			if (n > 0) {
				sent += (uint64_t)n;
				b->writes++;
			}
			else if (n < 0 && errno != EAGAIN)
				break;
		}
		pump(b->rcv ? b->rcv : b->snd, b->snd);
		if (b->sfd >= 0 && !eof) {
			ssize_t n;

			while ((n = ips_read(b->sfd, rbuf, BULK_WRITE)) > 0)
				got += (uint64_t)n;
			if (n == 0) {
				eof = true;
				t_end = bench_now_ns();
			}
		}
		if (b->sfd < 0 && closed)
			break;		/* the kernel reads: its thread reports */
		ips_stack_poll(b->snd, 0);
	}
	r->cpu_s = bench_cpu_s() - c0;
	if (b->sfd >= 0) {
		ips_close(b->cfd);
		ips_close(b->sfd);
		if (!eof) {
			free(wbuf);
			free(rbuf);
			return -1;
		}
		r->elapsed_s = (double)(t_end - t0) / 1e9;
		r->bytes = got;
		r->value = (double)got * 8 / r->elapsed_s / 1e9;
		r->unit = "Gbit/s";
	}
	*sent_out = sent;
	free(wbuf);
	free(rbuf);
	return 0;
}

int ips_tcp_bulk_memlink(const struct bench_opts *o, struct bench_result *r, uint32_t mtu)
{
	ips_stack *a = driven_stack("a"), *b = driven_stack("b");
	struct ips_link_config link = { .mtu = mtu };
	const char *why;
	int lfd, cfd, sfd, rc;
	uint64_t sent;

	if (ips_memlink_new(a, "eth0", b, "eth0", &link) < 0 ||
	    ips_addr_add(a, "eth0", "10.0.0.1/24") < 0 || ips_addr_add(b, "eth0", "10.0.0.2/24") < 0)
		bench_die("memlink setup failed");
	if ((why = tcp_missing(a)))
		NA(r, "%s", why);
	lfd = ips_listener(b, "10.0.0.2", SOCK_STREAM, 16);
	cfd = ips_connect_start(a, "10.0.0.2", SOCK_STREAM);
	if (lfd < 0 || cfd < 0)
		NA(r, "TCP setup failed: %s", strerror(errno));
	sfd = establish(a, b, lfd, cfd, 5000);
	if (sfd < 0)
		NA(r, "TCP connection over the memlink did not establish within 5 s");
	ips_close(lfd);

	struct bulk_run run = { .snd = a, .rcv = b, .cfd = cfd, .sfd = sfd,
				.limit = o->count ? o->count : 64ULL << 30, .time_s = o->time_s };

	rc = bulk_loop(&run, r, &sent);
	if (rc < 0)
		NA(r, "TCP bulk transfer did not finish (sent %llu bytes, got %llu)",
		   (unsigned long long)sent, (unsigned long long)r->bytes);
	snprintf(r->note, sizeof(r->note), "memlink mtu %u, %.1f KiB taken per write()", mtu,
		 run.writes ? (double)sent / (double)run.writes / 1024 : 0.0);
	for (int i = 0; i < 100 && (ips_stack_pkb_outstanding(a) || ips_stack_pkb_outstanding(b)); i++)
		pump(a, b);
	ips_stack_free(a);
	ips_stack_free(b);
	return 0;
}

int ips_tcp_bulk_lo(const struct bench_opts *o, struct bench_result *r)
{
	return ips_tcp_bulk_memlink(o, r, 65535);
}

int ips_tcp_bulk_1500(const struct bench_opts *o, struct bench_result *r)
{
	return ips_tcp_bulk_memlink(o, r, 1500);
}

/* ---- tcp_bulk_tap: ipstack on a TAP device sends; the kernel reads ---- */

struct kreader {
	int lfd;
	uint64_t bytes;
	uint64_t end_ns;
	int err;
};

static void *kreader_main(void *arg)
{
	struct kreader *k = arg;
	char *buf = malloc(BULK_WRITE);
	int fd = accept4(k->lfd, NULL, NULL, SOCK_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		k->err = errno;
		free(buf);
		return NULL;
	}
	while ((n = read(fd, buf, BULK_WRITE)) > 0)
		k->bytes += (uint64_t)n;
	k->end_ns = bench_now_ns();
	close(fd);
	free(buf);
	return NULL;
}

int ips_tcp_bulk_tap(const struct bench_opts *o, struct bench_result *r)
{
	const char *tap = o->tap ? o->tap : "ipsb0";
	ips_stack *st = driven_stack("tap");
	struct kreader k = { 0 };
	struct sockaddr_in ksin = { .sin_family = AF_INET, .sin_port = htons(BENCH_PORT) };
	struct timeval tv = { .tv_sec = 15 };
	char cmd[256];
	const char *why;
	pthread_t th;
	int one = 1, cfd, rc, err;
	uint64_t sent;

	if ((err = ips_tap_attach(st, tap)) < 0)
		NA(r, "cannot attach TAP %s: %s (needs root and /dev/net/tun)", tap, strerror(-err));
	if (ips_addr_add(st, tap, "10.203.0.2/24") < 0)
		bench_die("ips_addr_add on %s failed", tap);
	snprintf(cmd, sizeof(cmd),
		 "ip link set %s mtu 1500 up && ip addr add 10.203.0.1/24 dev %s", tap, tap);
	if (system(cmd) != 0)
		NA(r, "cannot configure %s in the kernel (ip link/ip addr failed)", tap);
	if ((why = tcp_missing(st)))
		NA(r, "%s", why);

	k.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, "10.203.0.1", &ksin.sin_addr);
	setsockopt(k.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(k.lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(k.lfd, (struct sockaddr *)&ksin, sizeof(ksin)) < 0 || listen(k.lfd, 4) < 0)
		bench_die("kernel listener on 10.203.0.1: %s", strerror(errno));
	pthread_create(&th, NULL, kreader_main, &k);

	cfd = ips_connect_start(st, "10.203.0.1", SOCK_STREAM);
	if (cfd < 0)
		NA(r, "TCP connect failed: %s", strerror(errno));
	{
		uint64_t dl = bench_now_ns() + 5000000000ULL;
		struct pollfd p = { .fd = cfd, .events = POLLOUT };

		while (bench_now_ns() < dl) {
			ips_stack_poll(st, 1);
			if (ips_poll(&p, 1, 0) == 1)
				break;
		}
		if (!(p.revents & POLLOUT) || (p.revents & (POLLERR | POLLHUP))) {
			shutdown(k.lfd, SHUT_RDWR);
			pthread_join(th, NULL);
			NA(r, "TCP connection to the kernel over %s did not establish", tap);
		}
	}

	struct bulk_run run = { .snd = st, .rcv = NULL, .cfd = cfd, .sfd = -1,
				.limit = o->count ? o->count : 64ULL << 30, .time_s = o->time_s };
	uint64_t t0 = bench_now_ns();

	rc = bulk_loop(&run, r, &sent);
	/* Keep the stack running (retransmissions, the FIN) until the kernel has read it all. */
	{
		uint64_t dl = bench_now_ns() + 10000000000ULL;

		while (!k.end_ns && !k.err && bench_now_ns() < dl)
			ips_stack_poll(st, 1);
	}
	if (!k.end_ns)
		shutdown(k.lfd, SHUT_RDWR);
	pthread_join(th, NULL);
	close(k.lfd);
	ips_close(cfd);
	if (rc < 0 || !k.end_ns)
		NA(r, "TCP transfer to the kernel did not finish (sent %llu, kernel read %llu)",
		   (unsigned long long)sent, (unsigned long long)k.bytes);
	r->elapsed_s = (double)(k.end_ns - t0) / 1e9;
	r->bytes = k.bytes;
	r->value = (double)k.bytes * 8 / r->elapsed_s / 1e9;
	r->unit = "Gbit/s";
	snprintf(r->note, sizeof(r->note), "ipstack on TAP %s sends, kernel reads", tap);
	ips_stack_free(st);
	return 0;
}

/* ---- tcp_rr_64 ---- */

/* Read exactly len bytes from fd, pumping st while nothing is there. */
static bool recv_full(ips_stack *st, int fd, char *buf, size_t len)
{
	size_t got = 0;

	for (int spins = 0; got < len; ) {
		ssize_t n = ips_recv(fd, buf + got, len - got, 0);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0 || errno != EAGAIN || ++spins > 1000000)
			return false;
		ips_stack_poll(st, 0);
	}
	return true;
}

int ips_tcp_rr(const struct bench_opts *o, struct bench_result *r)
{
	uint64_t limit = o->count ? o->count : 100000000ULL;
	ips_stack *st = driven_stack("rr");
	char buf[RR_SIZE] = { 0 };
	const char *why;
	int lfd, cfd, sfd;
	uint64_t n = 0;

	if ((why = tcp_missing(st)))
		NA(r, "%s", why);
	lfd = ips_listener(st, "127.0.0.1", SOCK_STREAM, 16);
	cfd = ips_connect_start(st, "127.0.0.1", SOCK_STREAM);
	if (lfd < 0 || cfd < 0)
		NA(r, "TCP setup failed: %s", strerror(errno));
	sfd = establish(st, NULL, lfd, cfd, 5000);
	if (sfd < 0)
		NA(r, "TCP connection over lo did not establish within 5 s");
	ips_close(lfd);
	set_int(cfd, IPPROTO_TCP, TCP_NODELAY, 1);
	set_int(sfd, IPPROTO_TCP, TCP_NODELAY, 1);

	uint64_t t0 = bench_now_ns(), deadline = t0 + (uint64_t)(o->time_s * 1e9), t1;
	double c0 = bench_cpu_s();

	while (n < limit) {
		if (ips_send(cfd, buf, RR_SIZE, 0) != RR_SIZE)
			NA(r, "send failed after %llu transactions: %s", (unsigned long long)n,
			   strerror(errno));
		ips_stack_poll(st, 0);
		if (!recv_full(st, sfd, buf, RR_SIZE))
			NA(r, "server recv failed after %llu transactions", (unsigned long long)n);
		if (ips_send(sfd, buf, RR_SIZE, 0) != RR_SIZE)
			NA(r, "server send failed: %s", strerror(errno));
		ips_stack_poll(st, 0);
		if (!recv_full(st, cfd, buf, RR_SIZE))
			NA(r, "client recv failed after %llu transactions", (unsigned long long)n);
		n++;
		if ((n & 63) == 0 && bench_now_ns() >= deadline)
			break;
	}
	t1 = bench_now_ns();
	r->cpu_s = bench_cpu_s() - c0;
	ips_close(cfd);
	ips_close(sfd);
	ips_stack_free(st);
	r->elapsed_s = (double)(t1 - t0) / 1e9;
	r->packets = n;
	r->bytes = n * RR_SIZE * 2;
	r->value = (double)n / r->elapsed_s;
	r->unit = "trans/s";
	return 0;
}

/* ---- udp_pps_64: bursts of UDP_BURST datagrams, then the stack runs, then the
 * receiver drains its socket ---- */

#define UDP_BURST 32

int ips_udp_pps(const struct bench_opts *o, struct bench_result *r)
{
	uint64_t limit = o->count ? o->count : 1000000000ULL;
	ips_stack *st = driven_stack("udp");
	char buf[2048] = { 0 };
	uint64_t sent = 0, got = 0;
	int rfd, cfd;

	rfd = ips_listener(st, "127.0.0.1", SOCK_DGRAM, 0);
	cfd = ips_connect_start(st, "127.0.0.1", SOCK_DGRAM);
	if (rfd < 0 || cfd < 0)
		NA(r, "UDP sockets not available: %s", strerror(errno));

	uint64_t t0 = bench_now_ns(), deadline = t0 + (uint64_t)(o->time_s * 1e9), t1;
	double c0 = bench_cpu_s();

	while (sent < limit) {
		for (int i = 0; i < UDP_BURST; i++)
			if (ips_send(cfd, buf, UDP_SIZE, 0) == UDP_SIZE)
				sent++;
		ips_stack_poll(st, 0);
		while (ips_recv(rfd, buf, sizeof(buf), 0) >= 0)
			got++;
		if (bench_now_ns() >= deadline)
			break;
	}
	t1 = bench_now_ns();
	r->cpu_s = bench_cpu_s() - c0;
	ips_close(cfd);
	ips_close(rfd);
	ips_stack_free(st);
	r->elapsed_s = (double)(t1 - t0) / 1e9;
	r->packets = got;
	r->bytes = got * UDP_SIZE;
	r->value = (double)got / r->elapsed_s;
	r->unit = "pkt/s";
	snprintf(r->note, sizeof(r->note), "sent %llu, delivered %llu, bursts of %d",
		 (unsigned long long)sent, (unsigned long long)got, UDP_BURST);
	return 0;
}

/* ---- tcp_connect_rate ---- */

int ips_tcp_connect_rate(const struct bench_opts *o, struct bench_result *r)
{
	uint64_t limit = o->count ? o->count : 10000000ULL;
	ips_stack *st = driven_stack("conn");
	const char *why;
	int lfd;
	uint64_t n = 0;

	if ((why = tcp_missing(st)))
		NA(r, "%s", why);
	lfd = ips_listener(st, "127.0.0.1", SOCK_STREAM, 128);
	if (lfd < 0)
		NA(r, "TCP listen failed: %s", strerror(errno));

	uint64_t t0 = bench_now_ns(), deadline = t0 + (uint64_t)(o->time_s * 1e9), t1;
	double c0 = bench_cpu_s();

	uint64_t slowest = 0, slow = 0, slow_ns = 0;

	while (n < limit && bench_now_ns() < deadline) {
		uint64_t c_start = bench_now_ns();
		int cfd = ips_connect_start(st, "127.0.0.1", SOCK_STREAM), sfd;

		if (cfd < 0)
			NA(r, "connect %llu failed: %s", (unsigned long long)n, strerror(errno));
		set_linger0(cfd);
		sfd = establish(st, NULL, lfd, cfd, 2000);
		if (sfd < 0)
			NA(r, "connection %llu did not establish within 2 s", (unsigned long long)n);
		set_linger0(sfd);
		ips_close(cfd);
		ips_close(sfd);
		n++;
		uint64_t took = bench_now_ns() - c_start;

		if (took > slowest)
			slowest = took;
		if (took > 1000000) {
			slow++;
			slow_ns += took;
		}
	}
	ips_stack_poll(st, 0);
	t1 = bench_now_ns();
	r->cpu_s = bench_cpu_s() - c0;
	ips_close(lfd);
	ips_stack_free(st);
	r->elapsed_s = (double)(t1 - t0) / 1e9;
	r->packets = n;
	r->value = (double)n / r->elapsed_s;
	r->unit = "conn/s";
	snprintf(r->note, sizeof(r->note),
		 "slowest connection %.3f ms, %llu over 1 ms; without those: %.0f conn/s",
		 (double)slowest / 1e6, (unsigned long long)slow,
		 (double)(n - slow) / ((double)(t1 - t0 - slow_ns) / 1e9));
	return 0;
}

/* ---- tcp_idle_conn_mem: heap growth (malloc'd bytes in use, mallinfo2) across opening
 * the connections, both ends in one stack over lo, after the stack has settled. ---- */

static long long heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (long long)(mi.uordblks + mi.hblkhd);
}

static void settle(ips_stack *st, int ms)
{
	uint64_t dl = bench_now_ns() + (uint64_t)ms * 1000000ULL;

	while (bench_now_ns() < dl)
		ips_stack_poll(st, 5);
}

int ips_tcp_idle_conn_mem(const struct bench_opts *o, struct bench_result *r)
{
	int conns = o->conns > 0 ? o->conns : 10000;
	ips_stack *st = driven_stack("mem");
	int *fds = calloc((size_t)conns * 2, sizeof(int));
	const char *why;
	int lfd, n;

	if ((why = tcp_missing(st)))
		NA(r, "%s", why);
	lfd = ips_listener(st, "127.0.0.1", SOCK_STREAM, 4096);
	if (lfd < 0)
		NA(r, "TCP listen failed: %s", strerror(errno));
	{	/* warm-up: first-use allocations are not per connection */
		int c = ips_connect_start(st, "127.0.0.1", SOCK_STREAM), s;

		s = c < 0 ? -1 : establish(st, NULL, lfd, c, 2000);
		if (s < 0)
			NA(r, "TCP connection over lo did not establish");
		set_linger0(c);
		ips_close(c);
		ips_close(s);
		settle(st, 50);
	}
	long long heap0 = heap_in_use();
	uint64_t t0 = bench_now_ns(), deadline = t0 + (uint64_t)(o->time_s * 1e9);

	for (n = 0; n < conns && bench_now_ns() < deadline; n++) {
		int c = ips_connect_start(st, "127.0.0.1", SOCK_STREAM), s;

		if (c < 0)
			NA(r, "connect %d failed: %s", n, strerror(errno));
		s = establish(st, NULL, lfd, c, 2000);
		if (s < 0)
			NA(r, "connection %d did not establish", n);
		fds[2 * n] = c;
		fds[2 * n + 1] = s;
	}
	settle(st, 200);
	long long heap1 = heap_in_use();

	r->elapsed_s = (double)(bench_now_ns() - t0) / 1e9;
	for (int i = 0; i < 2 * n; i++) {
		set_linger0(fds[i]);
		ips_close(fds[i]);
	}
	ips_close(lfd);
	ips_stack_free(st);
	free(fds);
	r->packets = (uint64_t)n;
	r->value = (double)(heap1 - heap0) / n;
	r->unit = "B/conn";
	r->method = "heap growth (mallinfo2 uordblks + hblkhd), both ends, per connection";
	snprintf(r->note, sizeof(r->note), "%d conns: heap +%lld B", n, heap1 - heap0);
	return 0;
}

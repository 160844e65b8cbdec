/* The kernel side of every case: the same loads as bench/ips.c, on the kernel's own
 * sockets, in whatever network namespace(s) the runner put us in (a fresh one per case,
 * Linux defaults, tcp_congestion_control=cubic).
 *
 * Sockets are made in the namespace of the thread that creates them, so for the veth
 * cases the main thread enters the receiving namespace to make the listener, then the
 * sending one to connect; the accepted socket stays where it was made. Each side of a
 * load runs in its own thread, as two programs would (iperf-like), except where the case
 * says otherwise (tcp_rr_64: both on one core; tcp_connect_rate and tcp_idle_conn_mem:
 * one thread, connect and accept in turn). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static void enter_netns(const char *path)
{
	int fd;

	if (!path)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
		bench_die("setns %s: %s", path, strerror(errno));
	close(fd);
}

static struct sockaddr_in sin_of(const char *addr, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	if (inet_pton(AF_INET, addr ? addr : "127.0.0.1", &sin.sin_addr) != 1)
		bench_die("bad address %s", addr);
	return sin;
}

/* Cubic on every TCP socket of ours. The runner also sets the namespace's default
 * (net.ipv4.tcp_congestion_control=cubic), but a namespace other than the first may
 * only choose a congestion control listed in tcp_allowed_congestion_control, which on
 * some machines (this one: "reno bbr") leaves cubic out; per socket, CAP_NET_ADMIN may
 * choose any. Accepted sockets inherit the listener's. */
static void set_cubic(int fd)
{
	static const char cubic[] = "cubic";

	if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cubic, sizeof(cubic) - 1) < 0)
		bench_die("TCP_CONGESTION cubic: %s", strerror(errno));
}

static int k_socket(int type)
{
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		bench_die("socket: %s", strerror(errno));
	if (type == SOCK_STREAM)
		set_cubic(fd);
	return fd;
}

static int k_listener(const char *addr, int type, int backlog)
{
	struct sockaddr_in sin = sin_of(addr, BENCH_PORT);
	int one = 1;
	int fd = k_socket(type);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		bench_die("bind %s:%d: %s", addr ? addr : "127.0.0.1", BENCH_PORT, strerror(errno));
	if (type == SOCK_STREAM && listen(fd, backlog) < 0)
		bench_die("listen: %s", strerror(errno));
	return fd;
}

static int k_connect(const char *addr, int type)
{
	struct sockaddr_in sin = sin_of(addr, BENCH_PORT);
	int fd = k_socket(type);

	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		bench_die("connect: %s", strerror(errno));
	return fd;
}

static void set_linger0(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static void set_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* The congestion control a kernel TCP socket ended up with, for the record. */
static void note_cc(int fd, struct bench_result *r)
{
	char cc[16] = "";
	socklen_t len = sizeof(cc) - 1;

	getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &len);
	snprintf(r->note, sizeof(r->note), "congestion control %s", cc);
}

/* ---- tcp_bulk_lo, tcp_bulk_1500, tcp_bulk_tap (kernel<->kernel) ---- */

struct bulk_rx {
	int fd;
	uint64_t bytes;
	uint64_t end_ns;
};

static void *bulk_rx_main(void *arg)
{
	struct bulk_rx *rx = arg;
	char *buf = malloc(BULK_WRITE);
	ssize_t n;

	while ((n = read(rx->fd, buf, BULK_WRITE)) > 0)
		rx->bytes += (uint64_t)n;
	rx->end_ns = bench_now_ns();
	free(buf);
	return NULL;
}

int kern_tcp_bulk(const struct bench_opts *o, struct bench_result *r)
{
	uint64_t limit = o->count ? o->count : 64ULL << 30;
	struct bulk_rx rx = { 0 };
	pthread_t th;
	int lfd, cfd;
	char *buf = calloc(1, BULK_WRITE);

	enter_netns(o->netns_rx);
	lfd = k_listener(o->rx_addr, SOCK_STREAM, 16);
	enter_netns(o->netns_tx);
	cfd = k_connect(o->rx_addr, SOCK_STREAM);
	rx.fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (rx.fd < 0)
		bench_die("accept: %s", strerror(errno));
	close(lfd);

	uint64_t t0 = bench_now_ns(), deadline = t0 + (uint64_t)(o->time_s * 1e9);
	double c0 = bench_cpu_s();
	uint64_t sent = 0;

	pthread_create(&th, NULL, bulk_rx_main, &rx);
	note_cc(cfd, r);
	while (sent < limit && bench_now_ns() < deadline) {
		ssize_t n = write(cfd, buf, BULK_WRITE);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			bench_die("write: %s", strerror(errno));
		}
		sent += (uint64_t)n;
	}
	shutdown(cfd, SHUT_WR);
	pthread_join(th, NULL);
	r->cpu_s = bench_cpu_s() - c0;
	close(cfd);
	close(rx.fd);
	r->elapsed_s = (double)(rx.end_ns - t0) / 1e9;
	r->bytes = rx.bytes;
	r->value = (double)rx.bytes * 8 / r->elapsed_s / 1e9;
	r->unit = "Gbit/s";
	free(buf);
	return 0;
}


/* ---- tcp_rr_64: both threads pinned to one core ---- */

static void pin_to_one_cpu(void)
{
	static int cpu = -1;
	cpu_set_t set;

	if (cpu < 0) {
		CPU_ZERO(&set);
		sched_getaffinity(0, sizeof(set), &set);
		for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set); cpu++)
			;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		bench_die("sched_setaffinity: %s", strerror(errno));
}

static bool read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return false;
		}
		got += (size_t)n;
	}
	return true;
}

static void *rr_server_main(void *arg)
{
	int fd = *(int *)arg;
	char buf[RR_SIZE];

	pin_to_one_cpu();
	while (read_full(fd, buf, RR_SIZE))
		if (write(fd, buf, RR_SIZE) != RR_SIZE)
			break;
	return NULL;
}

int kern_tcp_rr(const struct bench_opts *o, struct bench_result *r)
{
	uint64_t limit = o->count ? o->count : 100000000ULL;
	char buf[RR_SIZE] = { 0 };
	pthread_t th;
	int lfd, cfd, sfd;
	uint64_t n = 0;

	lfd = k_listener(o->rx_addr, SOCK_STREAM, 16);
	cfd = k_connect(o->rx_addr, SOCK_STREAM);
	sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (sfd < 0)
		bench_die("accept: %s", strerror(errno));
	close(lfd);
	set_nodelay(cfd);
	set_nodelay(sfd);
	pin_to_one_cpu();
	pthread_create(&th, NULL, rr_server_main, &sfd);

	uint64_t t0 = bench_now_ns(), deadline = t0 + (uint64_t)(o->time_s * 1e9), t1;
	double c0 = bench_cpu_s();

	while (n < limit) {
		if (write(cfd, buf, RR_SIZE) != RR_SIZE || !read_full(cfd, buf, RR_SIZE))
			bench_die("rr: %s", strerror(errno));
		n++;
		if ((n & 63) == 0 && bench_now_ns() >= deadline)
			break;
	}
	t1 = bench_now_ns();
	r->cpu_s = bench_cpu_s() - c0;
	shutdown(cfd, SHUT_WR);
	pthread_join(th, NULL);
	close(cfd);
	close(sfd);
	r->elapsed_s = (double)(t1 - t0) / 1e9;
	r->packets = n;
	r->bytes = n * RR_SIZE * 2;
	r->value = (double)n / r->elapsed_s;
	r->unit = "trans/s";
	return 0;
}

/* ---- udp_pps_64: a sender thread and a receiver thread ---- */

struct udp_rx {
	int fd;
	atomic_ullong got;
	atomic_bool stop;
};

static void *udp_rx_main(void *arg)
{
	struct udp_rx *rx = arg;
	char buf[2048];

	while (!atomic_load_explicit(&rx->stop, memory_order_relaxed)) {
		ssize_t n = recv(rx->fd, buf, sizeof(buf), 0);

		if (n >= 0)
			atomic_fetch_add_explicit(&rx->got, 1, memory_order_relaxed);
	}
	return NULL;
}

int kern_udp_pps(const struct bench_opts *o, struct bench_result *r)
{
	uint64_t limit = o->count ? o->count : 1000000000ULL;
	struct udp_rx rx = { 0 };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 50000 };
	char buf[UDP_SIZE] = { 0 };
	uint64_t sent = 0, got;
	pthread_t th;
	int cfd;

	rx.fd = k_listener(o->rx_addr, SOCK_DGRAM, 0);
	setsockopt(rx.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cfd = k_connect(o->rx_addr, SOCK_DGRAM);
	pthread_create(&th, NULL, udp_rx_main, &rx);

	uint64_t t0 = bench_now_ns(), deadline = t0 + (uint64_t)(o->time_s * 1e9), t1;
	double c0 = bench_cpu_s();

	while (sent < limit) {
		if (send(cfd, buf, UDP_SIZE, 0) == UDP_SIZE)
			sent++;
		if ((sent & 63) == 0 && bench_now_ns() >= deadline)
			break;
	}
	t1 = bench_now_ns();
	got = atomic_load(&rx.got);
	r->cpu_s = bench_cpu_s() - c0;
	atomic_store(&rx.stop, true);
	pthread_join(th, NULL);
	close(cfd);
	close(rx.fd);
	r->elapsed_s = (double)(t1 - t0) / 1e9;
	r->packets = got;
	r->bytes = got * UDP_SIZE;
	r->value = (double)got / r->elapsed_s;
	r->unit = "pkt/s";
	snprintf(r->note, sizeof(r->note), "sent %llu, delivered %llu",
		 (unsigned long long)sent, (unsigned long long)got);
	return 0;
}

/* ---- tcp_connect_rate: connect, accept, close both (SO_LINGER 0), one thread ---- */

int kern_tcp_connect_rate(const struct bench_opts *o, struct bench_result *r)
{
	uint64_t limit = o->count ? o->count : 10000000ULL;
	struct sockaddr_in sin = sin_of(o->rx_addr, BENCH_PORT);
	int lfd = k_listener(o->rx_addr, SOCK_STREAM, 128);
	uint64_t n = 0;
	uint64_t t0 = bench_now_ns(), deadline = t0 + (uint64_t)(o->time_s * 1e9), t1;
	double c0 = bench_cpu_s();

	while (n < limit && bench_now_ns() < deadline) {
		int cfd = k_socket(SOCK_STREAM), sfd;

		set_linger0(cfd);
		if (connect(cfd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			bench_die("connect: %s", strerror(errno));
		sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (sfd < 0)
			bench_die("accept: %s", strerror(errno));
		set_linger0(sfd);
		close(cfd);
		close(sfd);
		n++;
	}
	t1 = bench_now_ns();
	r->cpu_s = bench_cpu_s() - c0;
	close(lfd);
	r->elapsed_s = (double)(t1 - t0) / 1e9;
	r->packets = n;
	r->value = (double)n / r->elapsed_s;
	r->unit = "conn/s";
	return 0;
}

/* ---- tcp_idle_conn_mem ----
 * Kernel memory is measured as the growth of the slab allocator (the sum over
 * /proc/slabinfo of active objects x object size: sockets, inodes, dentries, files,
 * TCP and request socks, kmalloc'd pieces) plus the growth of TCP's own buffer
 * accounting (/proc/net/sockstat "TCP: ... mem", pages), across opening `conns`
 * established loopback connections (both ends) and letting them settle. The slab figure
 * is machine-wide, so anything else allocating at the same time adds noise: the runner
 * takes the median of several runs. */

static long long slab_bytes(void)
{
	FILE *f = fopen("/proc/slabinfo", "r");
	char line[512];
	long long total = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char name[128];
		long long active, num, objsize;

		if (line[0] == '#' || strncmp(line, "slabinfo", 8) == 0)
			continue;
		if (sscanf(line, "%127s %lld %lld %lld", name, &active, &num, &objsize) == 4)
			total += active * objsize;
	}
	fclose(f);
	return total;
}

static long long sockstat_tcp_mem_pages(void)
{
	FILE *f = fopen("/proc/net/sockstat", "r");
	char line[256];
	long long mem = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *m = strstr(line, " mem ");

		if (strncmp(line, "TCP:", 4) == 0 && m)
			mem = atoll(m + 5);
	}
	fclose(f);
	return mem;
}

/* The client ends live in a child process and the accepted ends in this one, so that
 * neither needs more than `conns` descriptors (raising RLIMIT_NOFILE's hard limit takes
 * CAP_SYS_RESOURCE, which a container may not give). The child is forked before the
 * first measurement, so the process itself is not counted. */
static void pipe_put(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		bench_die("pipe write: %s", strerror(errno));
}

static char pipe_get(int fd)
{
	char c = 0;

	if (read(fd, &c, 1) != 1)
		return 0;
	return c;
}

static void idle_clients(const char *addr, int conns, int go_fd, int done_fd)
{
	struct sockaddr_in sin = sin_of(addr, BENCH_PORT);
	int *fds = calloc((size_t)conns, sizeof(int));
	int n;

	if (pipe_get(go_fd) != 'g')
		_exit(1);
	for (n = 0; n < conns; n++) {
		fds[n] = k_socket(SOCK_STREAM);
		if (connect(fds[n], (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			fprintf(stderr, "ipsbench: connection %d: %s\n", n, strerror(errno));
			break;
		}
	}
	pipe_put(done_fd, n == conns ? 'd' : 'e');
	pipe_get(go_fd);		/* measured: close them all */
	for (int i = 0; i < n; i++) {
		set_linger0(fds[i]);
		close(fds[i]);
	}
	_exit(0);
}

int kern_tcp_idle_conn_mem(const struct bench_opts *o, struct bench_result *r)
{
	int conns = o->conns > 0 ? o->conns : 10000;
	struct rlimit rl;
	int *fds = calloc((size_t)conns, sizeof(int));
	int lfd, n = 0, go[2], done[2];
	pid_t pid;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)conns + 64)
		bench_die("RLIMIT_NOFILE hard limit %llu < %d connections + 64",
			  (unsigned long long)rl.rlim_max, conns);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	lfd = k_listener(o->rx_addr, SOCK_STREAM, 4096);
	/* Warm up: one connection first, so that per-namespace first-use allocations are not
	 * charged to the connections. */
	{
		int c = k_connect(o->rx_addr, SOCK_STREAM), s = accept(lfd, NULL, NULL);

		set_linger0(c);
		close(c);
		close(s);
	}
	if (pipe(go) < 0 || pipe(done) < 0)
		bench_die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(lfd);
		idle_clients(o->rx_addr, conns, go[0], done[1]);
	}
	usleep(100000);
	long long slab0 = slab_bytes(), mem0 = sockstat_tcp_mem_pages();
	uint64_t t0 = bench_now_ns();

	pipe_put(go[1], 'g');
	for (n = 0; n < conns; n++) {
		fds[n] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fds[n] < 0)
			bench_die("accept %d: %s", n, strerror(errno));
	}
	if (pipe_get(done[0]) != 'd')
		bench_die("the client process failed");
	usleep(200000);		/* delayed ACKs and deferred frees settle */
	long long slab1 = slab_bytes(), mem1 = sockstat_tcp_mem_pages();

	r->elapsed_s = (double)(bench_now_ns() - t0) / 1e9;
	pipe_put(go[1], 'c');
	for (int i = 0; i < n; i++) {
		set_linger0(fds[i]);
		close(fds[i]);
	}
	waitpid(pid, NULL, 0);
	close(lfd);
	free(fds);
	if (slab0 < 0 || slab1 < 0) {
		r->na = "cannot read /proc/slabinfo";
		return 0;
	}
	long long bytes = (slab1 - slab0) + (mem1 - mem0) * sysconf(_SC_PAGESIZE);

	r->packets = (uint64_t)n;
	r->value = (double)bytes / n;
	r->unit = "B/conn";
	r->method = "slab growth (/proc/slabinfo active_objs x objsize) + sockstat TCP mem pages, "
		    "both ends, per connection";
	snprintf(r->note, sizeof(r->note), "%d conns: slab +%lld B, tcp mem +%lld pages", n,
		 slab1 - slab0, mem1 - mem0);
	return 0;
}

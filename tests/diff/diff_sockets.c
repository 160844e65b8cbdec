/* The differential socket test: ONE program, built twice -- against the kernel's
 * sockets and (with -DUSE_IPSTACK) against ipstack through ips_map.h -- that prints one
 * line per case: the case name, the return value, the errno name on failure, and the
 * values the case looks at. tests/interop/test_diff_sockets.sh runs the kernel build in a
 * fresh network namespace (only `lo`, 127.0.0.1/8), the ipstack build on a stack with the
 * same `lo`, and compares the outputs line by line.
 *
 * Rules for cases: print nothing that legitimately differs between runs (ephemeral ports,
 * timestamps, identifiers) -- print a property of it instead ("in range"); wait for
 * asynchronous delivery with poll() (the kernel's loopback is synchronous, ipstack's
 * stack thread is not). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/errqueue.h>
#include <netinet/ip_icmp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/sockios.h>

#ifndef UDPLITE_SEND_CSCOV
#define UDPLITE_SEND_CSCOV 10
#define UDPLITE_RECV_CSCOV 11
#endif
#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif
#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif
#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62
#endif

#ifdef USE_IPSTACK
#include "ips_map.h"
static ips_stack *g_st;
#define BUILD "ipstack"
#else
#define BUILD "kernel"
#endif

static int ncases;

static const char *en(int e)
{
	const char *s = strerrorname_np(e);

	return s ? s : "E?";
}

/* One case line: name, result (and errno name when negative), then extra text. */
static void out(const char *name, long r, int e, const char *fmt, ...)
{
	char extra[1024] = "";

	if (fmt) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(extra, sizeof(extra), fmt, ap);
		va_end(ap);
	}
	ncases++;
	if (r < 0)
		printf("%s: r=%ld e=%s%s%s\n", name, r, en(e), *extra ? " " : "", extra);
	else
		printf("%s: r=%ld%s%s\n", name, r, *extra ? " " : "", extra);
	fflush(stdout);
}

#define C(name, expr)                           \
	do {                                    \
		errno = 0;                      \
		long _r = (long)(expr);         \
		out(name, _r, errno, NULL);     \
	} while (0)
#define CV(name, expr, ...)                                \
	do {                                               \
		errno = 0;                                 \
		long _r = (long)(expr);                    \
		int _e = errno;                            \
		out(name, _r, _e, __VA_ARGS__);            \
	} while (0)

static struct sockaddr_in sin4(const char *a, int port)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, a, &s.sin_addr);
	return s;
}

#define SA(x) ((struct sockaddr *)&(x))

/* An rvalue address as a pointer (a few live at once). */
static struct sockaddr *sap(struct sockaddr_in a)
{
	static struct sockaddr_in b[8];
	static int i;

	i = (i + 1) % 8;
	b[i] = a;
	return (struct sockaddr *)&b[i];
}

static const char *ip(uint32_t a)
{
	static char b[4][INET_ADDRSTRLEN];
	static int i;

	i = (i + 1) % 4;
	inet_ntop(AF_INET, &a, b[i], sizeof(b[i]));
	return b[i];
}

static int udp(void)
{
	return socket(AF_INET, SOCK_DGRAM, 0);
}

static int udp_bound(const char *a, int port)
{
	int s = udp();
	struct sockaddr_in sa = sin4(a, port);

	if (bind(s, SA(sa), sizeof(sa)) < 0)
		printf("# setup bind %s:%d failed: %s\n", a, port, en(errno));
	return s;
}

static int wait_fd(int fd, short ev)
{
	struct pollfd p = { .fd = fd, .events = ev };

	if (poll(&p, 1, 2000) <= 0)
		return 0;
	return p.revents;
}

static int local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);

	if (getsockname(fd, SA(a), &l) < 0)
		return -1;
	return ntohs(a.sin_port);
}

static int in_range(int port)
{
	return port >= 32768 && port <= 60999;
}

static int geti(int fd, int level, int name, int *v)
{
	socklen_t l = sizeof(*v);

	*v = -12345;
	return getsockopt(fd, level, name, v, &l);
}

static int seti(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v));
}

static void set_sysctl(const char *name, const char *value)
{
#ifdef USE_IPSTACK
	ips_sysctl_set(g_st, name, value);
#else
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	for (char *p = path + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	f = fopen(path, "w");
	if (f) {
		fputs(value, f);
		fclose(f);
	}
#endif
}

static void drop_caps(void)
{
#ifdef USE_IPSTACK
	ips_stack_set_creds(g_st, 0, 0, 0);
#else
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	syscall(SYS_capget, &h, d);
	d[0].effective = 0;
	d[1].effective = 0;
	if (syscall(SYS_capset, &h, d) < 0)
		printf("# capset failed: %s\n", en(errno));
#endif
}

static void restore_caps(void)
{
#ifdef USE_IPSTACK
	ips_stack_set_creds(g_st, IPS_CAPS_ALL, 0, 0);
#else
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	syscall(SYS_capget, &h, d);
	d[0].effective = d[0].permitted;
	d[1].effective = d[1].permitted;
	syscall(SYS_capset, &h, d);
#endif
}

static void hex(char *dst, size_t n, const uint8_t *p, size_t len)
{
	size_t o = 0;

	dst[0] = 0;
	for (size_t i = 0; i < len && o + 3 < n; i++)
		o += (size_t)snprintf(dst + o, n - o, "%02x", p[i]);
}

/* ---------------------------------------------------------------- socket() */

static void t_socket(void)
{
	int s;

	CV("socket.dgram0", (s = socket(AF_INET, SOCK_DGRAM, 0)) >= 0, NULL);
	close(s);
	CV("socket.dgram_udp", (s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP)) >= 0, NULL);
	close(s);
	CV("socket.dgram_udplite", (s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE)) >= 0, NULL);
	close(s);
	C("socket.dgram_tcp", socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
	C("socket.dgram_raw", socket(AF_INET, SOCK_DGRAM, IPPROTO_RAW));
	C("socket.dgram_icmp_default_range", socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP));
	C("socket.raw0", socket(AF_INET, SOCK_RAW, 0));
	CV("socket.raw_icmp", (s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)) >= 0, NULL);
	close(s);
	CV("socket.raw_udp", (s = socket(AF_INET, SOCK_RAW, IPPROTO_UDP)) >= 0, NULL);
	close(s);
	CV("socket.raw_raw", (s = socket(AF_INET, SOCK_RAW, IPPROTO_RAW)) >= 0, NULL);
	close(s);
	CV("socket.raw_200", (s = socket(AF_INET, SOCK_RAW, 200)) >= 0, NULL);
	close(s);
	C("socket.type0", socket(AF_INET, 0, 0));
	C("socket.rdm", socket(AF_INET, SOCK_RDM, 0));
	C("socket.seqpacket", socket(AF_INET, SOCK_SEQPACKET, 0));
	C("socket.type11", socket(AF_INET, 11, 0));
	C("socket.type15", socket(AF_INET, 15, 0));
	C("socket.badflag", socket(AF_INET, SOCK_DGRAM | 0x1000, 0));
	C("socket.proto_neg", socket(AF_INET, SOCK_DGRAM, -1));
	C("socket.proto_263", socket(AF_INET, SOCK_DGRAM, 263));
	C("socket.proto_263_raw", socket(AF_INET, SOCK_RAW, 263));
	C("socket.domain_neg", socket(-1, SOCK_DGRAM, 0));
	C("socket.domain_46", socket(46, SOCK_DGRAM, 0));
	C("socket.domain_1000", socket(1000, SOCK_DGRAM, 0));

	s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CV("socket.nonblock_getfl", fcntl(s, F_GETFL), NULL);
	CV("socket.cloexec_getfd", fcntl(s, F_GETFD), NULL);
	C("fcntl.setfl0", fcntl(s, F_SETFL, 0));
	CV("fcntl.getfl_after", fcntl(s, F_GETFL), NULL);
	C("fcntl.setfd0", fcntl(s, F_SETFD, 0));
	CV("fcntl.getfd_after", fcntl(s, F_GETFD), NULL);
	int one = 1;

	C("ioctl.fionbio", ioctl(s, FIONBIO, &one));
	CV("ioctl.fionbio_getfl", fcntl(s, F_GETFL), NULL);
	close(s);
	C("close.twice", close(s));

	int types[][2] = { { SOCK_DGRAM, 0 }, { SOCK_DGRAM, IPPROTO_UDPLITE }, { SOCK_RAW, IPPROTO_ICMP },
			   { SOCK_RAW, IPPROTO_RAW } };
	for (size_t i = 0; i < 4; i++) {
		int t, p, d;
		char n[64];

		s = socket(AF_INET, types[i][0], types[i][1]);
		geti(s, SOL_SOCKET, SO_TYPE, &t);
		geti(s, SOL_SOCKET, SO_PROTOCOL, &p);
		geti(s, SOL_SOCKET, SO_DOMAIN, &d);
		snprintf(n, sizeof(n), "socket.so_type_proto_domain.%zu", i);
		CV(n, 0, "type=%d proto=%d domain=%d", t, p, d);
		close(s);
	}
}

/* ---------------------------------------------------------------- bind() */

static void t_bind(void)
{
	struct sockaddr_in a = sin4("127.0.0.1", 40001), b;
	int s, s2;

	s = udp();
	C("bind.len15", bind(s, SA(a), 15));
	C("bind.len0", bind(s, SA(a), 0));
	b = a;
	b.sin_family = AF_INET6;
	C("bind.family_inet6", bind(s, SA(b), sizeof(b)));
	b.sin_family = AF_UNSPEC;
	C("bind.unspec_nonany", bind(s, SA(b), sizeof(b)));
	b = sin4("10.9.9.9", 40001);
	C("bind.nonlocal", bind(s, SA(b), sizeof(b)));
	C("bind.ok", bind(s, SA(a), sizeof(a)));
	CV("bind.getsockname", 0, "port=%d", local_port(s));
	C("bind.again", bind(s, SA(a), sizeof(a)));
	s2 = udp();
	C("bind.inuse", bind(s2, SA(a), sizeof(a)));
	b = sin4("0.0.0.0", 40001);
	C("bind.inuse_wildcard", bind(s2, SA(b), sizeof(b)));
	b = sin4("127.0.0.2", 40001);
	C("bind.other_addr_same_port", bind(s2, SA(b), sizeof(b)));
	close(s2);
	s2 = udp();
	b.sin_family = AF_UNSPEC;
	b.sin_addr.s_addr = 0;
	b.sin_port = htons(40002);
	C("bind.unspec_any", bind(s2, SA(b), sizeof(b)));
	CV("bind.unspec_any_name", 0, "port=%d", local_port(s2));
	close(s2);
	close(s);

	/* SO_REUSEADDR: both or nothing */
	s = udp();
	s2 = udp();
	a = sin4("127.0.0.1", 40003);
	seti(s, SOL_SOCKET, SO_REUSEADDR, 1);
	C("bind.reuseaddr_first", bind(s, SA(a), sizeof(a)));
	C("bind.reuseaddr_second_without", bind(s2, SA(a), sizeof(a)));
	seti(s2, SOL_SOCKET, SO_REUSEADDR, 1);
	C("bind.reuseaddr_second_with", bind(s2, SA(a), sizeof(a)));
	close(s);
	close(s2);
	/* SO_REUSEPORT */
	s = udp();
	s2 = udp();
	a = sin4("0.0.0.0", 40004);
	seti(s, SOL_SOCKET, SO_REUSEPORT, 1);
	C("bind.reuseport_first", bind(s, SA(a), sizeof(a)));
	C("bind.reuseport_second_without", bind(s2, SA(a), sizeof(a)));
	seti(s2, SOL_SOCKET, SO_REUSEPORT, 1);
	C("bind.reuseport_second_with", bind(s2, SA(a), sizeof(a)));
	close(s);
	close(s2);

	/* Special addresses */
	const char *addrs[] = { "127.0.0.5", "127.255.255.255", "255.255.255.255", "224.0.0.1",
				"0.0.0.0", "1.2.3.4", "240.0.0.1" };
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		char n[64];

		s = udp();
		a = sin4(addrs[i], 0);
		snprintf(n, sizeof(n), "bind.addr.%s", addrs[i]);
		CV(n, bind(s, SA(a), sizeof(a)), "inrange=%d", in_range(local_port(s)));
		close(s);
	}
	s = udp();
	seti(s, IPPROTO_IP, IP_FREEBIND, 1);
	a = sin4("10.9.9.9", 40005);
	C("bind.freebind_nonlocal", bind(s, SA(a), sizeof(a)));
	close(s);
	s = udp();
	seti(s, IPPROTO_IP, IP_TRANSPARENT, 1);
	C("bind.transparent_nonlocal", bind(s, SA(a), sizeof(a)));
	close(s);
	set_sysctl("net.ipv4.ip_nonlocal_bind", "1");
	s = udp();
	C("bind.nonlocal_sysctl", bind(s, SA(a), sizeof(a)));
	close(s);
	set_sysctl("net.ipv4.ip_nonlocal_bind", "0");

	/* ephemeral ports */
	s = udp();
	a = sin4("127.0.0.1", 0);
	CV("bind.port0", bind(s, SA(a), sizeof(a)), "inrange=%d", in_range(local_port(s)));
	close(s);
	s = udp();
	seti(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
	CV("bind.no_port", bind(s, SA(a), sizeof(a)), "port=%d", local_port(s));
	b = sin4("127.0.0.1", 9);
	CV("bind.no_port_connect", connect(s, SA(b), sizeof(b)), "inrange=%d", in_range(local_port(s)));
	close(s);
	s = udp();
	uint32_t range = 41000u << 16 | 41000u;

	C("bind.local_port_range_set", setsockopt(s, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, 4));
	CV("bind.local_port_range_bind", bind(s, SA(a), sizeof(a)), "port=%d", local_port(s));
	s2 = udp();
	setsockopt(s2, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, 4);
	CV("bind.local_port_range_exhausted", bind(s2, SA(a), sizeof(a)), "port=%d", local_port(s2));
	CV("bind.local_port_range_autobind_send",
	   sendto(s2, "x", 1, 0, SA(b), sizeof(b)), "port=%d", local_port(s2));
	close(s2);
	close(s);
	set_sysctl("net.ipv4.ip_local_port_range", "42000 42001");
	s = udp();
	s2 = udp();
	int s3 = udp();

	CV("bind.sysctl_range_1", bind(s, SA(a), sizeof(a)), "port_ok=%d",
	   local_port(s) == 42000 || local_port(s) == 42001);
	CV("bind.sysctl_range_2", bind(s2, SA(a), sizeof(a)), "port_ok=%d",
	   local_port(s2) == 42000 || local_port(s2) == 42001);
	C("bind.sysctl_range_3", bind(s3, SA(a), sizeof(a)));
	C("connect.sysctl_range_exhausted", connect(s3, SA(b), sizeof(b)));
	close(s);
	close(s2);
	close(s3);
	set_sysctl("net.ipv4.ip_local_port_range", "32768 60999");
	set_sysctl("net.ipv4.ip_local_reserved_ports", "43000");
	s = udp();
	range = 43001u << 16 | 43000u;
	setsockopt(s, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, 4);
	CV("bind.reserved_port_skipped", bind(s, SA(a), sizeof(a)), "port=%d", local_port(s));
	close(s);
	set_sysctl("net.ipv4.ip_local_reserved_ports", "");

	/* bind after connect */
	s = udp();
	connect(s, SA(b), sizeof(b));
	a = sin4("127.0.0.1", 40006);
	C("bind.after_connect", bind(s, SA(a), sizeof(a)));
	close(s);
	/* privileged port as root */
	s = udp();
	a = sin4("127.0.0.1", 999);
	C("bind.port999_root", bind(s, SA(a), sizeof(a)));
	close(s);
}

/* ---------------------------------------------------------------- connect() */

static void t_connect(void)
{
	struct sockaddr_in a = sin4("127.0.0.1", 40100), b, p;
	socklen_t l;
	int s = udp();

	C("connect.len1", connect(s, SA(a), 1));
	CV("connect.len1_name", 0, "port=%d", local_port(s));
	C("connect.len15", connect(s, SA(a), 15));
	CV("connect.len15_autobound", 0, "inrange=%d", in_range(local_port(s)));
	b = a;
	b.sin_family = AF_INET6;
	C("connect.inet6", connect(s, SA(b), sizeof(b)));
	C("getpeername.unconnected", getpeername(s, SA(p), &(socklen_t){ sizeof(p) }));
	C("connect.ok", connect(s, SA(a), sizeof(a)));
	l = sizeof(p);
	CV("getpeername.connected", getpeername(s, SA(p), &l), "%s:%d len=%u", ip(p.sin_addr.s_addr),
	   ntohs(p.sin_port), l);
	l = sizeof(p);
	CV("getsockname.connected", getsockname(s, SA(p), &l), "%s inrange=%d",
	   ip(p.sin_addr.s_addr), in_range(ntohs(p.sin_port)));
	l = 4;
	memset(&p, 0, sizeof(p));
	CV("getsockname.short", getsockname(s, SA(p), &l), "len=%u fam=%d", l, p.sin_family);
	l = (socklen_t)-1;
	C("getsockname.neg", getsockname(s, SA(p), &l));
	b.sin_family = AF_UNSPEC;
	C("connect.unspec", connect(s, SA(b), sizeof(b)));
	C("getpeername.after_unspec", getpeername(s, SA(p), &(socklen_t){ sizeof(p) }));
	l = sizeof(p);
	CV("getsockname.after_unspec", getsockname(s, SA(p), &l), "%s:%d", ip(p.sin_addr.s_addr),
	   ntohs(p.sin_port));
	C("connect.unspec_short", connect(s, SA(b), 2));
	close(s);

	s = udp();
	a = sin4("0.0.0.0", 40101);
	C("connect.any", connect(s, SA(a), sizeof(a)));
	l = sizeof(p);
	CV("connect.any_peer", getpeername(s, SA(p), &l), "%s:%d", ip(p.sin_addr.s_addr),
	   ntohs(p.sin_port));
	close(s);

	s = udp_bound("127.0.0.1", 40102);
	a = sin4("127.0.0.1", 40103);
	connect(s, SA(a), sizeof(a));
	b.sin_family = AF_UNSPEC;
	connect(s, SA(b), sizeof(b));
	CV("connect.unspec_keeps_bound", 0, "port=%d", local_port(s));
	close(s);

	s = udp();
	a = sin4("255.255.255.255", 40104);
	C("connect.broadcast_noflag", connect(s, SA(a), sizeof(a)));
	seti(s, SOL_SOCKET, SO_BROADCAST, 1);
	C("connect.broadcast_flag", connect(s, SA(a), sizeof(a)));
	a = sin4("127.255.255.255", 40104);
	seti(s, SOL_SOCKET, SO_BROADCAST, 0);
	C("connect.subnet_broadcast_noflag", connect(s, SA(a), sizeof(a)));
	a = sin4("10.1.1.1", 40104);
	C("connect.no_route", connect(s, SA(a), sizeof(a)));
	a = sin4("224.0.0.1", 40104);
	C("connect.multicast", connect(s, SA(a), sizeof(a)));
	close(s);

	s = udp();
	C("listen.dgram", listen(s, 5));
	C("accept.dgram", accept(s, NULL, NULL));
	C("accept4.badflags", accept4(s, NULL, NULL, 0x1000));
	close(s);
}

/* ---------------------------------------------------------------- send/recv */

static void t_io(void)
{
	struct sockaddr_in a = sin4("127.0.0.1", 40200), from;
	socklen_t fl;
	char buf[70000];
	static char big[70000];
	int s = udp_bound("127.0.0.1", 40200);
	int c = udp();
	struct timeval tv = { 0, 200000 };

	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	C("send.unconnected", send(c, "x", 1, 0));
	C("sendto.port0", sendto(c, "x", 1, 0, sap(sin4("127.0.0.1", 0)), sizeof(a)));
	C("sendto.len15", sendto(c, "x", 1, 0, SA(a), 15));
	C("sendto.len0", sendto(c, "x", 1, 0, SA(a), 0));
	C("sendto.len200", sendto(c, "x", 1, 0, SA(a), 200));
	struct sockaddr_in b = a;

	b.sin_family = AF_INET6;
	C("sendto.inet6", sendto(c, "x", 1, 0, SA(b), sizeof(b)));
	C("sendto.oob", sendto(c, "x", 1, MSG_OOB, SA(a), sizeof(a)));
	C("sendto.no_route", sendto(c, "x", 1, 0, sap(sin4("10.1.1.1", 5)), sizeof(a)));
	C("sendto.broadcast_noflag", sendto(c, "x", 1, 0, sap(sin4("255.255.255.255", 5)), sizeof(a)));
	b.sin_family = AF_UNSPEC;
	C("sendto.unspec", sendto(c, "u", 1, 0, SA(b), sizeof(b)));
	fl = sizeof(from);
	CV("recvfrom.unspec", recvfrom(s, buf, sizeof(buf), 0, SA(from), &fl), "%s len=%u byte=%c",
	   ip(from.sin_addr.s_addr), fl, buf[0]);
	CV("sendto.65507", sendto(c, big, 65507, 0, SA(a), sizeof(a)), NULL);
	CV("recv.65507", recv(s, buf, sizeof(buf), 0), NULL);
	C("sendto.65508", sendto(c, big, 65508, 0, SA(a), sizeof(a)));
	C("sendto.65536", sendto(c, big, 65536, 0, SA(a), sizeof(a)));
	C("sendto.zero", sendto(c, big, 0, 0, SA(a), sizeof(a)));
	CV("recv.zero", recv(s, buf, sizeof(buf), 0), NULL);

	/* truncation and peeking */
	sendto(c, "abcdef", 6, 0, SA(a), sizeof(a));
	wait_fd(s, POLLIN);
	CV("recv.peek", recv(s, buf, 3, MSG_PEEK), "%.3s", buf);
	int n = 0;

	CV("ioctl.fionread", ioctl(s, FIONREAD, &n), "n=%d", n);
	CV("recv.trunc_flag", recv(s, buf, 2, MSG_TRUNC), "%.2s", buf);
	sendto(c, "abcdef", 6, 0, SA(a), sizeof(a));
	struct iovec iov = { buf, 4 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	CV("recvmsg.trunc", recvmsg(s, &m, 0), "flags=%#x namelen=%u", m.msg_flags, m.msg_namelen);
	CV("ioctl.fionread_empty", ioctl(s, FIONREAD, &n), "n=%d", n);
	C("recv.dontwait_empty", recv(s, buf, 10, MSG_DONTWAIT));
	C("recv.timeout", recv(s, buf, 10, 0));
	sendto(c, "abc", 3, 0, SA(a), sizeof(a));
	fl = 4;
	memset(&from, 0, sizeof(from));
	CV("recvfrom.short_addrlen", recvfrom(s, buf, 10, 0, SA(from), &fl), "fl=%u fam=%d", fl,
	   from.sin_family);
	sendto(c, "abc", 3, 0, SA(a), sizeof(a));
	fl = (socklen_t)-1;
	C("recvfrom.neg_addrlen", recvfrom(s, buf, 10, 0, SA(from), &fl));
	C("recv.after_neg_addrlen_consumed", recv(s, buf, 10, MSG_DONTWAIT));
	sendto(c, "abc", 3, 0, SA(a), sizeof(a));
	wait_fd(s, POLLIN);
	C("read.zero", read(s, buf, 0));
	CV("read.data", read(s, buf, 10), NULL);
	char b1[2], b2[10];
	struct iovec v2[2] = { { b1, 2 }, { b2, 10 } };

	C("writev.to_connected_needed", writev(c, v2, 2));
	connect(c, SA(a), sizeof(a));
	memcpy(b1, "AB", 2);
	memcpy(b2, "CDEFGHIJKL", 10);
	C("writev.connected", writev(c, v2, 2));
	memset(b1, 0, 2);
	memset(b2, 0, 10);
	CV("readv.data", readv(s, v2, 2), "%.2s|%.10s", b1, b2);
	C("write.connected", write(c, "xyz", 3));
	CV("read.after_write", read(s, buf, 10), NULL);
	volatile int badcnt = -1;

	C("readv.badcnt", readv(s, v2, badcnt));
	badcnt = 1025;
	C("writev.badcnt", writev(c, v2, badcnt));

	/* SIOCGSTAMP */
	int t = udp_bound("127.0.0.1", 40201);
	struct timeval stamp;

	C("ioctl.siocgstamp_before", ioctl(t, SIOCGSTAMP, &stamp));
	sendto(c, "s", 1, 0, sap(sin4("127.0.0.1", 40201)), sizeof(a));
	wait_fd(t, POLLIN);
	C("ioctl.siocgstamp_queued", ioctl(t, SIOCGSTAMP, &stamp));
	recv(t, buf, 10, 0);
	C("ioctl.siocgstamp_after", ioctl(t, SIOCGSTAMP, &stamp));
	C("ioctl.siocoutq", ioctl(t, SIOCOUTQ, &n));
	C("ioctl.unknown", ioctl(t, 0x12345678, &n));
	close(t);

	/* shutdown */
	C("shutdown.bad", shutdown(s, 5));
	C("shutdown.unconnected_rd", shutdown(s, SHUT_RD));
	C("recv.after_shut_rd_nonblock", recv(s, buf, 10, MSG_DONTWAIT));
	C("recv.after_shut_rd_block", recv(s, buf, 10, 0));
	struct pollfd pf = { s, POLLIN | POLLOUT | POLLRDHUP, 0 };

	CV("poll.after_shut_rd", poll(&pf, 1, 0), "revents=%#x", pf.revents);
	C("shutdown.connected_wr", shutdown(c, SHUT_WR));
	C("send.after_shut_wr", send(c, "x", 1, 0));
	C("sendto.after_shut_wr", sendto(c, "x", 1, 0, SA(a), sizeof(a)));
	pf.fd = c;
	CV("poll.after_shut_wr", poll(&pf, 1, 0), "revents=%#x", pf.revents);
	shutdown(c, SHUT_RD);
	CV("poll.after_shut_both", poll(&pf, 1, 0), "revents=%#x", pf.revents);
	close(c);
	close(s);

	/* poll on a fresh socket and one with data */
	s = udp_bound("127.0.0.1", 40202);
	pf.fd = s;
	pf.events = POLLIN | POLLOUT;
	CV("poll.fresh", poll(&pf, 1, 0), "revents=%#x", pf.revents);
	c = udp();
	sendto(c, "p", 1, 0, sap(sin4("127.0.0.1", 40202)), sizeof(a));
	wait_fd(s, POLLIN);
	CV("poll.readable", poll(&pf, 1, 0), "revents=%#x", pf.revents);
	pf.events = 0;
	CV("poll.no_events", poll(&pf, 1, 0), "revents=%#x", pf.revents);
	pf.fd = -1;
	CV("poll.negative_fd", poll(&pf, 1, 0), "revents=%#x", pf.revents);
	close(c);
	close(s);
}

/* ---------------------------------------------------------------- errors: ICMP, queue */

static void t_errors(void)
{
	struct sockaddr_in closed = sin4("127.0.0.1", 40300), from;
	char buf[256], ctl[512];
	int c = udp();
	int v;

	connect(c, SA(closed), sizeof(closed));
	C("refused.send1", send(c, "x", 1, 0));
	CV("refused.poll", wait_fd(c, POLLIN), NULL);
	C("refused.recv", recv(c, buf, sizeof(buf), MSG_DONTWAIT));
	C("refused.recv_again", recv(c, buf, sizeof(buf), MSG_DONTWAIT));
	C("refused.send2", send(c, "x", 1, 0));
	wait_fd(c, POLLIN);
	C("refused.send3_reports", send(c, "x", 1, 0));
	wait_fd(c, POLLIN);
	CV("refused.so_error", geti(c, SOL_SOCKET, SO_ERROR, &v), "v=%s", v ? en(v) : "0");
	CV("refused.so_error_cleared", geti(c, SOL_SOCKET, SO_ERROR, &v), "v=%d", v);
	close(c);

	/* unconnected without IP_RECVERR: nothing */
	c = udp();
	sendto(c, "x", 1, 0, SA(closed), sizeof(closed));
	struct pollfd pf = { c, POLLIN, 0 };

	poll(&pf, 1, 300);
	CV("unconnected.no_error", recv(c, buf, sizeof(buf), MSG_DONTWAIT), NULL);
	close(c);

	/* IP_RECVERR: the error queue */
	c = udp();
	C("recverr.set", seti(c, IPPROTO_IP, IP_RECVERR, 1));
	sendto(c, "hello", 5, 0, SA(closed), sizeof(closed));
	CV("recverr.poll", wait_fd(c, POLLIN), NULL);
	CV("recverr.so_error", geti(c, SOL_SOCKET, SO_ERROR, &v), "v=%s", v ? en(v) : "0");
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	long r = recvmsg(c, &m, MSG_ERRQUEUE);
	int e = errno;
	char info[512] = "";
	size_t o = 0;

	o += (size_t)snprintf(info + o, sizeof(info) - o, "flags=%#x namelen=%u name=%s:%d data=%.*s",
			      m.msg_flags, m.msg_namelen, ip(from.sin_addr.s_addr),
			      ntohs(from.sin_port), (int)(r > 0 ? r : 0), buf);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
		if (cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) {
			struct sock_extended_err *ee = (void *)CMSG_DATA(cm);
			struct sockaddr_in *off = (void *)SO_EE_OFFENDER(ee);

			o += (size_t)snprintf(info + o, sizeof(info) - o,
					      " ee_errno=%s origin=%d type=%d code=%d info=%u off=%d:%s",
					      en((int)ee->ee_errno), ee->ee_origin, ee->ee_type,
					      ee->ee_code, ee->ee_info, off->sin_family,
					      ip(off->sin_addr.s_addr));
		} else {
			o += (size_t)snprintf(info + o, sizeof(info) - o, " cmsg=%d/%d", cm->cmsg_level,
					      cm->cmsg_type);
		}
	}
	out("recverr.errqueue", r, e, "%s", info);
	C("recverr.errqueue_empty", recvmsg(c, &m, MSG_ERRQUEUE));
	C("recverr.recv_after", recv(c, buf, sizeof(buf), MSG_DONTWAIT));
	close(c);

	/* IP_RECVERR + IP_PKTINFO on the error */
	c = udp();
	seti(c, IPPROTO_IP, IP_RECVERR, 1);
	seti(c, IPPROTO_IP, IP_PKTINFO, 1);
	seti(c, IPPROTO_IP, IP_RECVTTL, 1);
	sendto(c, "x", 1, 0, SA(closed), sizeof(closed));
	wait_fd(c, POLLIN);
	m.msg_controllen = sizeof(ctl);
	m.msg_namelen = sizeof(from);
	r = recvmsg(c, &m, MSG_ERRQUEUE);
	e = errno;
	o = 0;
	info[0] = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
		o += (size_t)snprintf(info + o, sizeof(info) - o, " cmsg=%d/%d/%zu", cm->cmsg_level,
				      cm->cmsg_type, (size_t)cm->cmsg_len);
		if (cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo *pi = (void *)CMSG_DATA(cm);

			o += (size_t)snprintf(info + o, sizeof(info) - o, "[if=%d spec=%s addr=%s]",
					      pi->ipi_ifindex, ip(pi->ipi_spec_dst.s_addr),
					      ip(pi->ipi_addr.s_addr));
		}
		if (cm->cmsg_type == IP_TTL)
			o += (size_t)snprintf(info + o, sizeof(info) - o, "[ttl=%d]",
					      *(int *)CMSG_DATA(cm));
	}
	out("recverr.errqueue_cmsgs", r, e, "%s", info);
	close(c);

	/* IP_RECVERR turned off purges the queue */
	c = udp();
	seti(c, IPPROTO_IP, IP_RECVERR, 1);
	sendto(c, "x", 1, 0, SA(closed), sizeof(closed));
	wait_fd(c, POLLIN);
	seti(c, IPPROTO_IP, IP_RECVERR, 0);
	m.msg_controllen = sizeof(ctl);
	C("recverr.off_purges", recvmsg(c, &m, MSG_ERRQUEUE));
	close(c);

	/* EMSGSIZE with a path MTU: lo's MTU lowered to 1500 */
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	ifr.ifr_mtu = 1500;
	C("mtu.siocsifmtu_1500", ioctl(udp(), SIOCSIFMTU, &ifr));
	int srv = udp_bound("127.0.0.1", 40301);
	static char big[70000];

	c = udp();
	C("mtu.pmtudisc_do", seti(c, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO));
	seti(c, IPPROTO_IP, IP_RECVERR, 1);
	C("mtu.send_1472", sendto(c, big, 1472, 0, sap(sin4("127.0.0.1", 40301)), sizeof(from)));
	C("mtu.send_1473", sendto(c, big, 1473, 0, sap(sin4("127.0.0.1", 40301)), sizeof(from)));
	m.msg_controllen = sizeof(ctl);
	m.msg_namelen = sizeof(from);
	memset(&from, 0, sizeof(from));
	r = recvmsg(c, &m, MSG_ERRQUEUE);
	e = errno;
	o = 0;
	info[0] = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
		if (cm->cmsg_type == IP_RECVERR) {
			struct sock_extended_err *ee = (void *)CMSG_DATA(cm);
			struct sockaddr_in *off = (void *)SO_EE_OFFENDER(ee);

			o += (size_t)snprintf(info + o, sizeof(info) - o,
					      " ee_errno=%s origin=%d info=%u off=%d",
					      en((int)ee->ee_errno), ee->ee_origin, ee->ee_info,
					      off->sin_family);
		}
	}
	out("mtu.errqueue_local", r, e, "namelen=%u name=%s:%d flags=%#x%s", m.msg_namelen,
	    ip(from.sin_addr.s_addr), ntohs(from.sin_port), m.msg_flags, info);
	connect(c, sap(sin4("127.0.0.1", 40301)), sizeof(from));
	CV("mtu.ip_mtu_connected", geti(c, IPPROTO_IP, IP_MTU, &v), "v=%d", v);
	C("mtu.send_connected_1473", send(c, big, 1473, 0));
	m.msg_controllen = sizeof(ctl);
	m.msg_namelen = sizeof(from);
	memset(&from, 0, sizeof(from));
	r = recvmsg(c, &m, MSG_ERRQUEUE);
	CV("mtu.errqueue_connected", r, "namelen=%u name=%s:%d", m.msg_namelen,
	   ip(from.sin_addr.s_addr), ntohs(from.sin_port));
	seti(c, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT);
	C("mtu.dont_fragments", send(c, big, 4000, 0));
	CV("mtu.dont_fragments_recv", (wait_fd(srv, POLLIN), recv(srv, big, sizeof(big), MSG_DONTWAIT)),
	   NULL);
	/* The kernel delivers on lo before send() returns; ipstack's lo is serviced by the
	 * stack's loop, so wait for the datagram (immediate on the kernel). */
	CV("mtu.dont_fragments_recv2", (wait_fd(srv, POLLIN), recv(srv, big, sizeof(big), MSG_DONTWAIT)),
	   NULL);
	seti(c, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE);
	C("mtu.probe_1473", send(c, big, 1473, 0));
	close(c);
	close(srv);
	ifr.ifr_mtu = 65536;
	C("mtu.siocsifmtu_restore", ioctl(udp(), SIOCSIFMTU, &ifr));
}

/* ---------------------------------------------------------------- cmsgs */

static const void *big_opts(void)
{
	static uint8_t b[48];

	memset(b, IPOPT_NOP, sizeof(b));
	return b;
}

static struct sockaddr_in g_unspec;

static void cmsg_dump(char *info, size_t n, struct msghdr *m)
{
	size_t o = 0;

	info[0] = 0;
	o += (size_t)snprintf(info + o, n - o, "flags=%#x ctl=%zu", m->msg_flags,
			      (size_t)m->msg_controllen);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
		o += (size_t)snprintf(info + o, n - o, " %d/%d/%zu", cm->cmsg_level, cm->cmsg_type,
				      (size_t)cm->cmsg_len);
		if (cm->cmsg_level != SOL_IP)
			continue;
		if (cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo *pi = (void *)CMSG_DATA(cm);

			o += (size_t)snprintf(info + o, n - o, "[if=%d spec=%s addr=%s]",
					      pi->ipi_ifindex, ip(pi->ipi_spec_dst.s_addr),
					      ip(pi->ipi_addr.s_addr));
		} else if (cm->cmsg_type == IP_TTL) {
			o += (size_t)snprintf(info + o, n - o, "[%d]", *(int *)CMSG_DATA(cm));
		} else if (cm->cmsg_type == IP_TOS) {
			o += (size_t)snprintf(info + o, n - o, "[%#x]", *(uint8_t *)CMSG_DATA(cm));
		} else if (cm->cmsg_type == IP_ORIGDSTADDR) {
			struct sockaddr_in *s = (void *)CMSG_DATA(cm);

			o += (size_t)snprintf(info + o, n - o, "[%s:%d]", ip(s->sin_addr.s_addr),
					      ntohs(s->sin_port));
		} else if (cm->cmsg_type == IP_RECVOPTS || cm->cmsg_type == IP_RETOPTS) {
			char h[128];

			hex(h, sizeof(h), CMSG_DATA(cm), cm->cmsg_len - CMSG_LEN(0));
			o += (size_t)snprintf(info + o, n - o, "[%s]", h);
		}
	}
}

static void t_cmsg(void)
{
	struct sockaddr_in a = sin4("127.0.0.1", 40400), from;
	char buf[256], ctl[512], info[1024];
	int s = udp_bound("127.0.0.1", 40400);
	int c = udp();
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	long r;

#define RECV_DUMP(name)                                                \
	do {                                                           \
		wait_fd(s, POLLIN);                                    \
		m.msg_controllen = sizeof(ctl);                        \
		m.msg_namelen = sizeof(from);                          \
		errno = 0;                                             \
		r = recvmsg(s, &m, MSG_DONTWAIT);                      \
		int _e = errno;                                        \
		cmsg_dump(info, sizeof(info), &m);                     \
		out(name, r, _e, "%s from=%s", info, ip(from.sin_addr.s_addr)); \
	} while (0)

	sendto(c, "a", 1, 0, SA(a), sizeof(a));
	RECV_DUMP("cmsg.none");
	seti(s, IPPROTO_IP, IP_PKTINFO, 1);
	seti(s, IPPROTO_IP, IP_RECVTTL, 1);
	seti(s, IPPROTO_IP, IP_RECVTOS, 1);
	seti(s, IPPROTO_IP, IP_RECVORIGDSTADDR, 1);
	seti(c, IPPROTO_IP, IP_TOS, 0x28);
	seti(c, IPPROTO_IP, IP_TTL, 33);
	sendto(c, "a", 1, 0, SA(a), sizeof(a));
	RECV_DUMP("cmsg.pktinfo_ttl_tos_origdst");
	seti(s, SOL_SOCKET, SO_TIMESTAMP, 1);
	sendto(c, "a", 1, 0, SA(a), sizeof(a));
	RECV_DUMP("cmsg.with_timestamp");
	seti(s, SOL_SOCKET, SO_TIMESTAMPNS, 1);
	sendto(c, "a", 1, 0, SA(a), sizeof(a));
	RECV_DUMP("cmsg.with_timestampns");
	seti(s, SOL_SOCKET, SO_TIMESTAMP, 0);
	/* MSG_CTRUNC: room for the first one only, then for a header only */
	sendto(c, "a", 1, 0, SA(a), sizeof(a));
	wait_fd(s, POLLIN);
	m.msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo)) + 4;
	m.msg_namelen = sizeof(from);
	r = recvmsg(s, &m, MSG_DONTWAIT);
	cmsg_dump(info, sizeof(info), &m);
	CV("cmsg.ctrunc", r, "%s", info);
	sendto(c, "a", 1, 0, SA(a), sizeof(a));
	wait_fd(s, POLLIN);
	m.msg_controllen = 8;
	r = recvmsg(s, &m, MSG_DONTWAIT);
	CV("cmsg.ctrunc_tiny", r, "flags=%#x ctl=%zu", m.msg_flags, (size_t)m.msg_controllen);
	sendto(c, "a", 1, 0, SA(a), sizeof(a));
	wait_fd(s, POLLIN);
	m.msg_control = NULL;
	m.msg_controllen = 0;
	r = recvmsg(s, &m, MSG_DONTWAIT);
	CV("cmsg.no_control", r, "flags=%#x", m.msg_flags);
	m.msg_control = ctl;
	seti(c, IPPROTO_IP, IP_TOS, 0);
	seti(c, IPPROTO_IP, IP_TTL, -1);

	/* send-side cmsgs */
	/* struct cmsghdr ends in a flexible array: spell its three fields out (same
	 * layout) so that a value can follow it. */
	struct {
		struct { size_t cmsg_len; int cmsg_level, cmsg_type; } h;
		int v;
	} __attribute__((aligned(8))) ttlc = { { CMSG_LEN(sizeof(int)), SOL_IP, IP_TTL }, 7 };
	struct iovec siov = { "s", 1 };
	struct msghdr sm = { .msg_name = &a, .msg_namelen = sizeof(a), .msg_iov = &siov,
			     .msg_iovlen = 1, .msg_control = &ttlc, .msg_controllen = sizeof(ttlc) };

	C("sendmsg.cmsg_ttl", sendmsg(c, &sm, 0));
	RECV_DUMP("cmsg.recv_ttl7");
	ttlc.v = 0;
	C("sendmsg.cmsg_ttl0", sendmsg(c, &sm, 0));
	ttlc.v = 256;
	C("sendmsg.cmsg_ttl256", sendmsg(c, &sm, 0));
	ttlc.h.cmsg_type = IP_TOS;
	ttlc.v = 0x10;
	C("sendmsg.cmsg_tos", sendmsg(c, &sm, 0));
	RECV_DUMP("cmsg.recv_tos");
	ttlc.h.cmsg_type = 99;
	C("sendmsg.cmsg_unknown_type", sendmsg(c, &sm, 0));
	ttlc.h.cmsg_level = 99;
	C("sendmsg.cmsg_other_level", sendmsg(c, &sm, 0));
	RECV_DUMP("cmsg.recv_other_level");
	ttlc.h.cmsg_level = SOL_IP;
	ttlc.h.cmsg_type = IP_TTL;
	ttlc.v = 9;
	ttlc.h.cmsg_len = 100;
	C("sendmsg.cmsg_len_too_big", sendmsg(c, &sm, 0));
	ttlc.h.cmsg_len = CMSG_LEN(2);
	C("sendmsg.cmsg_ttl_badlen", sendmsg(c, &sm, 0));
	ttlc.h.cmsg_len = CMSG_LEN(sizeof(int));
	sm.msg_controllen = 4;
	C("sendmsg.controllen_tiny", sendmsg(c, &sm, 0));
	RECV_DUMP("cmsg.recv_after_tiny");
	ttlc.h.cmsg_level = SOL_SOCKET;
	ttlc.h.cmsg_type = SO_MARK;
	ttlc.v = 3;
	sm.msg_controllen = sizeof(ttlc);
	C("sendmsg.cmsg_so_mark", sendmsg(c, &sm, 0));
	RECV_DUMP("cmsg.recv_after_mark");
	ttlc.h.cmsg_type = SO_RCVBUF;
	C("sendmsg.cmsg_sol_socket_bad", sendmsg(c, &sm, 0));

	struct {
		struct { size_t cmsg_len; int cmsg_level, cmsg_type; } h;
		struct in_pktinfo pi;
	} __attribute__((aligned(8))) pic;

	memset(&pic, 0, sizeof(pic));
	pic.h.cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
	pic.h.cmsg_level = SOL_IP;
	pic.h.cmsg_type = IP_PKTINFO;
	inet_pton(AF_INET, "127.0.0.9", &pic.pi.ipi_spec_dst);
	sm.msg_control = &pic;
	sm.msg_controllen = sizeof(pic);
	C("sendmsg.pktinfo_src", sendmsg(c, &sm, 0));
	RECV_DUMP("cmsg.recv_pktinfo_src");
	inet_pton(AF_INET, "10.9.9.9", &pic.pi.ipi_spec_dst);
	C("sendmsg.pktinfo_nonlocal_src", sendmsg(c, &sm, 0));
	pic.pi.ipi_spec_dst.s_addr = 0;
	pic.pi.ipi_ifindex = 77;
	C("sendmsg.pktinfo_bad_ifindex", sendmsg(c, &sm, 0));

	/* sendmsg argument rules */
	sm.msg_control = NULL;
	sm.msg_controllen = 0;
	sm.msg_namelen = 0;
	C("sendmsg.name_len0_unconnected", sendmsg(c, &sm, 0));
	struct sockaddr_storage big_name;

	memset(&big_name, 0, sizeof(big_name));
	memcpy(&big_name, &a, sizeof(a));
	sm.msg_name = &big_name;	/* the kernel reads up to 128 bytes of it */
	sm.msg_namelen = 1000;
	C("sendmsg.namelen_big_clamped", sendmsg(c, &sm, 0));
	sm.msg_name = &a;
	RECV_DUMP("cmsg.recv_namelen_big");
	sm.msg_namelen = sizeof(a);
	sm.msg_iovlen = 1025;
	C("sendmsg.iovlen_big", sendmsg(c, &sm, 0));
	sm.msg_iovlen = 1;

	/* IP options on the wire: RR option set by the sender, seen by the receiver */
	uint8_t rr[8] = { IPOPT_NOP, IPOPT_RR, 7, 4, 0, 0, 0, 0 };

	C("ipopt.set_rr", setsockopt(c, IPPROTO_IP, IP_OPTIONS, rr, 8));
	uint8_t got[40];
	socklen_t gl = sizeof(got);
	char h[128];

	CV("ipopt.get_rr", getsockopt(c, IPPROTO_IP, IP_OPTIONS, got, &gl), "len=%u %s", gl,
	   (hex(h, sizeof(h), got, gl), h));
	seti(s, IPPROTO_IP, IP_PKTINFO, 0);
	seti(s, IPPROTO_IP, IP_RECVTTL, 0);
	seti(s, IPPROTO_IP, IP_RECVTOS, 0);
	seti(s, IPPROTO_IP, IP_RECVORIGDSTADDR, 0);
	seti(s, IPPROTO_IP, IP_RECVOPTS, 1);
	seti(s, IPPROTO_IP, IP_RETOPTS, 1);
	sendto(c, "o", 1, 0, SA(a), sizeof(a));
	RECV_DUMP("cmsg.recvopts_retopts");
	uint8_t bad[4] = { 0x44, 3, 5, 0 };

	C("ipopt.set_bad_ts", setsockopt(c, IPPROTO_IP, IP_OPTIONS, bad, 4));
	C("ipopt.set_41", setsockopt(c, IPPROTO_IP, IP_OPTIONS, big_opts(), 41));
	C("ipopt.clear", setsockopt(c, IPPROTO_IP, IP_OPTIONS, NULL, 0));
	gl = sizeof(got);
	CV("ipopt.get_cleared", getsockopt(c, IPPROTO_IP, IP_OPTIONS, got, &gl), "len=%u", gl);
	close(c);
	close(s);
}

/* ---------------------------------------------------------------- options */

struct intopt {
	const char *name;
	int level, opt;
	int good, bad;		/* bad: INT_MIN = no bad value to try */
};

static void t_intopts(int s, const char *prefix, const struct intopt *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char nm[96];
		int v;
		socklen_t l;
		unsigned char b;

		snprintf(nm, sizeof(nm), "%s.%s.default", prefix, o[i].name);
		CV(nm, geti(s, o[i].level, o[i].opt, &v), "v=%d", v);
		snprintf(nm, sizeof(nm), "%s.%s.set_good", prefix, o[i].name);
		C(nm, seti(s, o[i].level, o[i].opt, o[i].good));
		snprintf(nm, sizeof(nm), "%s.%s.get_good", prefix, o[i].name);
		CV(nm, geti(s, o[i].level, o[i].opt, &v), "v=%d", v);
		if (o[i].bad != INT_MIN) {
			snprintf(nm, sizeof(nm), "%s.%s.set_bad", prefix, o[i].name);
			C(nm, seti(s, o[i].level, o[i].opt, o[i].bad));
			snprintf(nm, sizeof(nm), "%s.%s.get_after_bad", prefix, o[i].name);
			CV(nm, geti(s, o[i].level, o[i].opt, &v), "v=%d", v);
		}
		snprintf(nm, sizeof(nm), "%s.%s.set_len0", prefix, o[i].name);
		v = o[i].good;
		C(nm, setsockopt(s, o[i].level, o[i].opt, &v, 0));
		snprintf(nm, sizeof(nm), "%s.%s.set_len1", prefix, o[i].name);
		b = 1;
		C(nm, setsockopt(s, o[i].level, o[i].opt, &b, 1));
		snprintf(nm, sizeof(nm), "%s.%s.get_len1", prefix, o[i].name);
		l = 1;
		v = 0;
		CV(nm, getsockopt(s, o[i].level, o[i].opt, &v, &l), "len=%u v=%d", l, v);
		snprintf(nm, sizeof(nm), "%s.%s.get_len0", prefix, o[i].name);
		l = 0;
		CV(nm, getsockopt(s, o[i].level, o[i].opt, &v, &l), "len=%u", l);
		snprintf(nm, sizeof(nm), "%s.%s.get_len8", prefix, o[i].name);
		l = 8;
		CV(nm, getsockopt(s, o[i].level, o[i].opt, &v, &l), "len=%u", l);
		snprintf(nm, sizeof(nm), "%s.%s.get_lenneg", prefix, o[i].name);
		l = (socklen_t)-1;
		C(nm, getsockopt(s, o[i].level, o[i].opt, &v, &l));
	}
}

static void t_options(void)
{
	static const struct intopt sol[] = {
		{ "SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, 1, INT_MIN },
		{ "SO_REUSEPORT", SOL_SOCKET, SO_REUSEPORT, 1, INT_MIN },
		{ "SO_BROADCAST", SOL_SOCKET, SO_BROADCAST, 1, INT_MIN },
		{ "SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, 100000, 0 },
		{ "SO_RCVBUF_small", SOL_SOCKET, SO_RCVBUF, 1024, 0 },
		{ "SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, 100000, 0 },
		{ "SO_SNDBUF_small", SOL_SOCKET, SO_SNDBUF, 1024, 1 },
		{ "SO_RCVLOWAT", SOL_SOCKET, SO_RCVLOWAT, 10, -1 },
		{ "SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, 1, INT_MIN },
		{ "SO_DONTROUTE", SOL_SOCKET, SO_DONTROUTE, 1, INT_MIN },
		{ "SO_PRIORITY", SOL_SOCKET, SO_PRIORITY, 6, 7 },
		{ "SO_MARK", SOL_SOCKET, SO_MARK, 5, INT_MIN },
		{ "SO_TIMESTAMP", SOL_SOCKET, SO_TIMESTAMP, 1, INT_MIN },
		{ "SO_TIMESTAMPNS", SOL_SOCKET, SO_TIMESTAMPNS, 1, INT_MIN },
		{ "SO_OOBINLINE", SOL_SOCKET, SO_OOBINLINE, 1, INT_MIN },
		{ "SO_NO_CHECK", SOL_SOCKET, SO_NO_CHECK, 1, INT_MIN },
		{ "SO_ERROR", SOL_SOCKET, SO_ERROR, 1, INT_MIN },
		{ "SO_TYPE", SOL_SOCKET, SO_TYPE, 1, INT_MIN },
		{ "SO_ACCEPTCONN", SOL_SOCKET, SO_ACCEPTCONN, 1, INT_MIN },
		{ "SO_SNDLOWAT", SOL_SOCKET, SO_SNDLOWAT, 1, INT_MIN },
		{ "SO_BINDTOIFINDEX", SOL_SOCKET, SO_BINDTOIFINDEX, 1, 99 },
		{ "SO_PASSCRED", SOL_SOCKET, SO_PASSCRED, 1, INT_MIN },
		{ "SO_PASSSEC", SOL_SOCKET, SO_PASSSEC, 1, INT_MIN },
		{ "SO_RXQ_OVFL", SOL_SOCKET, SO_RXQ_OVFL, 1, INT_MIN },
		{ "SO_SELECT_ERR_QUEUE", SOL_SOCKET, SO_SELECT_ERR_QUEUE, 1, INT_MIN },
		{ "SO_DEBUG", SOL_SOCKET, SO_DEBUG, 1, INT_MIN },
		{ "SO_ZEROCOPY", SOL_SOCKET, SO_ZEROCOPY, 1, 2 },
		{ "SO_unknown9999", SOL_SOCKET, 9999, 1, INT_MIN },
	};
	static const struct intopt ipo[] = {
		{ "IP_TTL", IPPROTO_IP, IP_TTL, 10, 0 },
		{ "IP_TTL_256", IPPROTO_IP, IP_TTL, -1, 256 },
		{ "IP_TOS", IPPROTO_IP, IP_TOS, 0x10, 0x1ff },
		{ "IP_PKTINFO", IPPROTO_IP, IP_PKTINFO, 1, INT_MIN },
		{ "IP_RECVTTL", IPPROTO_IP, IP_RECVTTL, 1, INT_MIN },
		{ "IP_RECVTOS", IPPROTO_IP, IP_RECVTOS, 1, INT_MIN },
		{ "IP_RECVOPTS", IPPROTO_IP, IP_RECVOPTS, 1, INT_MIN },
		{ "IP_RETOPTS", IPPROTO_IP, IP_RETOPTS, 1, INT_MIN },
		{ "IP_RECVORIGDSTADDR", IPPROTO_IP, IP_RECVORIGDSTADDR, 1, INT_MIN },
		{ "IP_RECVERR", IPPROTO_IP, IP_RECVERR, 1, INT_MIN },
		{ "IP_MTU_DISCOVER", IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_OMIT, 6 },
		{ "IP_MTU_DISCOVER_neg", IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO, -1 },
		{ "IP_MTU", IPPROTO_IP, IP_MTU, 1000, INT_MIN },
		{ "IP_HDRINCL", IPPROTO_IP, IP_HDRINCL, 1, INT_MIN },
		{ "IP_NODEFRAG", IPPROTO_IP, IP_NODEFRAG, 1, INT_MIN },
		{ "IP_FREEBIND", IPPROTO_IP, IP_FREEBIND, 1, INT_MIN },
		{ "IP_TRANSPARENT", IPPROTO_IP, IP_TRANSPARENT, 1, INT_MIN },
		{ "IP_BIND_ADDRESS_NO_PORT", IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1, INT_MIN },
		{ "IP_PASSSEC", IPPROTO_IP, IP_PASSSEC, 1, INT_MIN },
		{ "IP_MULTICAST_TTL", IPPROTO_IP, IP_MULTICAST_TTL, 5, 256 },
		{ "IP_MULTICAST_TTL_m1", IPPROTO_IP, IP_MULTICAST_TTL, -1, -2 },
		{ "IP_MULTICAST_LOOP", IPPROTO_IP, IP_MULTICAST_LOOP, 0, INT_MIN },
		{ "IP_MULTICAST_ALL", IPPROTO_IP, IP_MULTICAST_ALL, 0, 2 },
		{ "IP_MINTTL", IPPROTO_IP, IP_MINTTL, 3, 256 },
		{ "IP_ROUTER_ALERT", IPPROTO_IP, IP_ROUTER_ALERT, 1, INT_MIN },
		{ "IP_RECVERR_RFC4884", IPPROTO_IP, 26, 1, 2 },
		{ "IP_CHECKSUM", IPPROTO_IP, 23, 1, INT_MIN },
		{ "IP_RECVFRAGSIZE", IPPROTO_IP, 25, 1, INT_MIN },
		{ "IP_UNICAST_IF", IPPROTO_IP, 50, 0x01000000, 0x63000000 },
		{ "IP_LOCAL_PORT_RANGE", IPPROTO_IP, IP_LOCAL_PORT_RANGE, 0x9c409c40, 0x9c409c41 - 2 },
		{ "IP_PKTOPTIONS", IPPROTO_IP, IP_PKTOPTIONS, 1, INT_MIN },
		{ "IP_unknown200", IPPROTO_IP, 200, 1, INT_MIN },
		{ "level99", 99, 1, 1, INT_MIN },
	};
	static const struct intopt udpo[] = {
		{ "UDP_CORK", IPPROTO_UDP, UDP_CORK, 1, INT_MIN },
		{ "UDP_SEGMENT", IPPROTO_UDP, UDP_SEGMENT, 1400, -1 },
		{ "UDP_GRO", IPPROTO_UDP, UDP_GRO, 1, INT_MIN },
		{ "UDPLITE_SEND_CSCOV", IPPROTO_UDP, UDPLITE_SEND_CSCOV, 20, INT_MIN },
		{ "UDP_unknown77", IPPROTO_UDP, 77, 1, INT_MIN },
	};
	static const struct intopt liteo[] = {
		{ "UDPLITE_SEND_CSCOV", IPPROTO_UDPLITE, UDPLITE_SEND_CSCOV, 20, 5 },
		{ "UDPLITE_RECV_CSCOV", IPPROTO_UDPLITE, UDPLITE_RECV_CSCOV, 30, 70000 },
		{ "UDPLITE_SEND_CSCOV_zero", IPPROTO_UDPLITE, UDPLITE_SEND_CSCOV, 0, -3 },
	};
	static const struct intopt rawo[] = {
		{ "IP_HDRINCL", IPPROTO_IP, IP_HDRINCL, 1, INT_MIN },
		{ "IP_NODEFRAG", IPPROTO_IP, IP_NODEFRAG, 1, INT_MIN },
		{ "IP_ROUTER_ALERT", IPPROTO_IP, IP_ROUTER_ALERT, 1, INT_MIN },
		{ "SOL_RAW_unknown", SOL_RAW, 5, 1, INT_MIN },
	};
	int s = udp();

	t_intopts(s, "opt.udp", sol, sizeof(sol) / sizeof(sol[0]));
	close(s);
	s = udp();
	t_intopts(s, "opt.udp", ipo, sizeof(ipo) / sizeof(ipo[0]));
	close(s);
	s = udp();
	t_intopts(s, "opt.udp", udpo, sizeof(udpo) / sizeof(udpo[0]));
	close(s);
	s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
	t_intopts(s, "opt.udplite", liteo, sizeof(liteo) / sizeof(liteo[0]));
	close(s);
	s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	t_intopts(s, "opt.rawicmp", rawo, sizeof(rawo) / sizeof(rawo[0]));
	close(s);
	s = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	t_intopts(s, "opt.rawraw", rawo, sizeof(rawo) / sizeof(rawo[0]));
	close(s);

	/* The priority follows IP_TOS */
	s = udp();
	int v;

	seti(s, IPPROTO_IP, IP_TOS, 0x10);
	CV("opt.tos_sets_priority", geti(s, SOL_SOCKET, SO_PRIORITY, &v), "v=%d", v);
	seti(s, IPPROTO_IP, IP_TOS, 0x08);
	CV("opt.tos_sets_priority2", geti(s, SOL_SOCKET, SO_PRIORITY, &v), "v=%d", v);
	seti(s, IPPROTO_IP, IP_TOS, 0x103);
	CV("opt.tos_truncates", geti(s, IPPROTO_IP, IP_TOS, &v), "v=%d", v);
	/* SO_TIMESTAMP vs SO_TIMESTAMPNS */
	seti(s, SOL_SOCKET, SO_TIMESTAMPNS, 1);
	CV("opt.timestampns_then_timestamp", geti(s, SOL_SOCKET, SO_TIMESTAMP, &v), "v=%d", v);
	seti(s, SOL_SOCKET, SO_TIMESTAMP, 1);
	CV("opt.timestamp_then_timestampns", geti(s, SOL_SOCKET, SO_TIMESTAMPNS, &v), "v=%d", v);
	/* timeouts */
	struct timeval tv = { 1, 500000 }, g;
	socklen_t l = sizeof(g);

	CV("opt.rcvtimeo.default", getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &g, &l), "%ld.%06ld len=%u",
	   (long)g.tv_sec, (long)g.tv_usec, l);
	C("opt.rcvtimeo.set", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	l = sizeof(g);
	CV("opt.rcvtimeo.get", getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &g, &l), "%ld.%06ld", (long)g.tv_sec,
	   (long)g.tv_usec);
	tv.tv_sec = 0;
	tv.tv_usec = 1;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	l = sizeof(g);
	CV("opt.rcvtimeo.one_usec_rounds", getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &g, &l), "%ld.%06ld",
	   (long)g.tv_sec, (long)g.tv_usec);
	tv.tv_usec = 1000000;
	C("opt.rcvtimeo.usec_too_big", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	tv.tv_usec = -1;
	C("opt.rcvtimeo.usec_neg", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	C("opt.rcvtimeo.short", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, 8));
	tv.tv_sec = -1;
	tv.tv_usec = 0;
	C("opt.rcvtimeo.neg_sec", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	l = sizeof(g);
	CV("opt.rcvtimeo.neg_sec_get", getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &g, &l), "%ld.%06ld",
	   (long)g.tv_sec, (long)g.tv_usec);
	char buf[8];

	C("opt.rcvtimeo.neg_sec_recv", recv(s, buf, sizeof(buf), 0));
	tv.tv_sec = 0;
	tv.tv_usec = 250000;
	C("opt.sndtimeo.set", setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	l = sizeof(g);
	CV("opt.sndtimeo.get", getsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &g, &l), "%ld.%06ld", (long)g.tv_sec,
	   (long)g.tv_usec);
	l = 4;
	CV("opt.sndtimeo.get_short", getsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &g, &l), "len=%u", l);
	/* linger */
	struct linger lg = { 1, 5 }, lgo;

	l = sizeof(lgo);
	CV("opt.linger.default", getsockopt(s, SOL_SOCKET, SO_LINGER, &lgo, &l), "%d/%d len=%u",
	   lgo.l_onoff, lgo.l_linger, l);
	C("opt.linger.set", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	l = sizeof(lgo);
	CV("opt.linger.get", getsockopt(s, SOL_SOCKET, SO_LINGER, &lgo, &l), "%d/%d", lgo.l_onoff,
	   lgo.l_linger);
	C("opt.linger.short", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, 4));
	/* SO_BINDTODEVICE */
	char dev[IFNAMSIZ];

	l = sizeof(dev);
	CV("opt.bindtodevice.default", getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, dev, &l), "len=%u", l);
	C("opt.bindtodevice.lo", setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3));
	l = sizeof(dev);
	memset(dev, 0, sizeof(dev));
	CV("opt.bindtodevice.get", getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, dev, &l), "len=%u %s", l,
	   dev);
	l = 4;
	C("opt.bindtodevice.get_short", getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, dev, &l));
	CV("opt.bindtodevice.ifindex", geti(s, SOL_SOCKET, SO_BINDTOIFINDEX, &v), "v=%d", v);
	C("opt.bindtodevice.nodev", setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "nope0", 6));
	C("opt.bindtodevice.unbind", setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "", 1));
	l = sizeof(dev);
	CV("opt.bindtodevice.after_unbind", getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, dev, &l), "len=%u",
	   l);
	setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "lo", 2);
	connect(s, sap(sin4("127.0.0.1", 9)), sizeof(struct sockaddr_in));
	struct sockaddr un = { .sa_family = AF_UNSPEC };

	connect(s, &un, sizeof(un));
	CV("opt.bindtodevice.after_disconnect", geti(s, SOL_SOCKET, SO_BINDTOIFINDEX, &v), "v=%d", v);
	l = sizeof(dev);
	C("opt.peersec", getsockopt(s, SOL_SOCKET, SO_PEERSEC, dev, &l));
	l = sizeof(v);
	C("opt.peek_off", getsockopt(s, SOL_SOCKET, SO_PEEK_OFF, &v, &l));
	CV("opt.peek_off_v", 0, "v=%d", v);
	/* IP_MULTICAST_IF */
	struct in_addr ia;

	l = sizeof(ia);
	CV("opt.mcast_if.default", getsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &ia, &l), "%s len=%u",
	   ip(ia.s_addr), l);
	inet_pton(AF_INET, "127.0.0.1", &ia);
	C("opt.mcast_if.set_addr", setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &ia, sizeof(ia)));
	l = sizeof(ia);
	CV("opt.mcast_if.get", getsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &ia, &l), "%s", ip(ia.s_addr));
	inet_pton(AF_INET, "10.9.9.9", &ia);
	C("opt.mcast_if.nonlocal", setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &ia, sizeof(ia)));
	C("opt.mcast_if.short", setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &ia, 2));
	struct ip_mreqn mr;

	memset(&mr, 0, sizeof(mr));
	mr.imr_ifindex = 1;
	C("opt.mcast_if.mreqn", setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)));
	l = sizeof(ia);
	CV("opt.mcast_if.mreqn_get", getsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &ia, &l), "%s",
	   ip(ia.s_addr));
	mr.imr_ifindex = 55;
	C("opt.mcast_if.mreqn_nodev", setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)));
	ia.s_addr = 0;
	C("opt.mcast_if.clear", setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &ia, sizeof(ia)));
	/* negative optlen */
	C("opt.setsockopt_neglen", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, (socklen_t)-1));
	C("opt.setsockopt_short", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 3));
	close(s);

	/* ICMP_FILTER */
	s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	uint32_t f = 0, fo;

	l = sizeof(fo);
	CV("opt.icmp_filter.default", getsockopt(s, SOL_RAW, ICMP_FILTER, &fo, &l), "%#x len=%u", fo, l);
	f = ~(1u << ICMP_ECHOREPLY);
	C("opt.icmp_filter.set", setsockopt(s, SOL_RAW, ICMP_FILTER, &f, sizeof(f)));
	l = sizeof(fo);
	CV("opt.icmp_filter.get", getsockopt(s, SOL_RAW, ICMP_FILTER, &fo, &l), "%#x", fo);
	C("opt.icmp_filter.set_long", setsockopt(s, SOL_RAW, ICMP_FILTER, &f, 8));
	l = 2;
	CV("opt.icmp_filter.get_short", getsockopt(s, SOL_RAW, ICMP_FILTER, &fo, &l), "len=%u", l);
	close(s);
	s = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
	C("opt.icmp_filter.non_icmp", setsockopt(s, SOL_RAW, ICMP_FILTER, &f, sizeof(f)));
	l = sizeof(fo);
	C("opt.icmp_filter.non_icmp_get", getsockopt(s, SOL_RAW, ICMP_FILTER, &fo, &l));
	close(s);
}

/* ---------------------------------------------------------------- raw and ping */

static uint16_t csum16(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)(b[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void t_raw(void)
{
	struct sockaddr_in lo = sin4("127.0.0.1", 0), from;
	uint8_t pkt[64], buf[256];
	socklen_t fl;
	int r = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	struct timeval tv = { 1, 0 };

	setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CV("raw.getsockname", 0, "port=%d", local_port(r));
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = ICMP_ECHO;
	pkt[4] = 0x12;
	pkt[5] = 0x34;
	pkt[7] = 1;
	memcpy(pkt + 8, "raw-ping", 8);
	uint16_t ck = csum16(pkt, 16);

	pkt[2] = (uint8_t)(ck >> 8);
	pkt[3] = (uint8_t)ck;
	C("raw.send_echo", sendto(r, pkt, 16, 0, SA(lo), sizeof(lo)));
	for (int i = 0; i < 2; i++) {
		char n[32];

		fl = sizeof(from);
		snprintf(n, sizeof(n), "raw.recv_%d", i);
		long k = recvfrom(r, buf, sizeof(buf), 0, SA(from), &fl);
		int ihl = (buf[0] & 15) * 4;

		CV(n, k, "v=%#x ttl=%d proto=%d type=%d from=%s:%d fl=%u", buf[0], buf[8], buf[9],
		   k > ihl ? buf[ihl] : -1, ip(from.sin_addr.s_addr), ntohs(from.sin_port), fl);
	}
	uint32_t f = ~(1u << ICMP_ECHOREPLY);

	setsockopt(r, SOL_RAW, ICMP_FILTER, &f, sizeof(f));
	sendto(r, pkt, 16, 0, SA(lo), sizeof(lo));
	long k = recv(r, buf, sizeof(buf), 0);

	CV("raw.filtered_only_reply", k, "type=%d", k > 20 ? buf[20] : -1);
	C("raw.filtered_nothing_more", recv(r, buf, sizeof(buf), MSG_DONTWAIT));
	C("raw.send_unconnected_noaddr", send(r, pkt, 16, 0));
	C("raw.sendto_short_name", sendto(r, pkt, 16, 0, SA(lo), 8));
	struct sockaddr_in b6 = lo;

	b6.sin_family = AF_INET6;
	C("raw.sendto_inet6", sendto(r, pkt, 16, 0, SA(b6), sizeof(b6)));
	b6.sin_family = 0;
	C("raw.sendto_family0", sendto(r, pkt, 16, 0, SA(b6), sizeof(b6)));
	recv(r, buf, sizeof(buf), 0);
	C("raw.sendto_oob", sendto(r, pkt, 16, MSG_OOB, SA(lo), sizeof(lo)));
	C("raw.recv_oob", recv(r, buf, sizeof(buf), MSG_OOB | MSG_DONTWAIT));
	C("raw.send_too_big", sendto(r, buf, 65536, 0, SA(lo), sizeof(lo)));
	b6.sin_family = AF_INET6;
	C("raw.bind_any_family", bind(r, SA(b6), sizeof(b6)));
	C("raw.bind_nonlocal", bind(r, sap(sin4("10.9.9.9", 0)), sizeof(lo)));
	C("raw.bind_short", bind(r, SA(lo), 8));
	C("raw.connect", connect(r, SA(lo), sizeof(lo)));
	C("raw.getpeername_port0", getpeername(r, SA(from), &(socklen_t){ sizeof(from) }));
	close(r);

	/* IP_HDRINCL: a whole UDP datagram built by hand */
	int u = udp_bound("127.0.0.1", 40500);
	int h = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);

	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x45;
	pkt[2] = 0;
	pkt[3] = 33;
	pkt[8] = 64;
	pkt[9] = IPPROTO_UDP;
	inet_pton(AF_INET, "127.0.0.1", pkt + 12);
	inet_pton(AF_INET, "127.0.0.1", pkt + 16);
	pkt[20] = 0x9c;
	pkt[21] = 0x41;		/* 40001 */
	pkt[22] = 0x9e;
	pkt[23] = 0x34;		/* 40500 */
	pkt[25] = 13;
	memcpy(pkt + 28, "hdrin", 5);
	C("hdrincl.send", sendto(h, pkt, 33, 0, SA(lo), sizeof(lo)));
	fl = sizeof(from);
	k = (wait_fd(u, POLLIN), recvfrom(u, buf, sizeof(buf), MSG_DONTWAIT, SA(from), &fl));
	CV("hdrincl.udp_recv", k, "%.5s from=%s:%d", buf, ip(from.sin_addr.s_addr), ntohs(from.sin_port));
	C("hdrincl.too_short", sendto(h, pkt, 10, 0, SA(lo), sizeof(lo)));
	pkt[0] = 0x4f;
	C("hdrincl.ihl_beyond", sendto(h, pkt, 33, 0, SA(lo), sizeof(lo)));
	uint8_t opt4[4] = { 1, 1, 1, 0 };

	C("hdrincl.ip_options", setsockopt(h, IPPROTO_IP, IP_OPTIONS, opt4, 4));
	pkt[0] = 0x45;
	C("hdrincl.send_with_options", sendto(h, pkt, 33, 0, SA(lo), sizeof(lo)));
	close(h);
	close(u);

	/* raw UDP socket sees UDP datagrams with their IP header */
	int ru = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
	int c = udp();

	sendto(c, "ru", 2, 0, sap(sin4("127.0.0.1", 40501)), sizeof(lo));
	k = (wait_fd(ru, POLLIN), recv(ru, buf, sizeof(buf), MSG_DONTWAIT));
	CV("raw.udp_sees_datagram", k, "proto=%d dport=%d", buf[9], buf[22] << 8 | buf[23]);
	close(ru);
	close(c);

	/* ping sockets */
	set_sysctl("net.ipv4.ping_group_range", "0 0");
	int p = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);

	CV("ping.socket", p >= 0, NULL);
	setsockopt(p, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	C("ping.bind", bind(p, sap(sin4("127.0.0.1", 4321)), sizeof(lo)));
	CV("ping.getsockname", 0, "port=%d", local_port(p));
	int p2 = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);

	C("ping.bind_same_ident", bind(p2, sap(sin4("127.0.0.1", 4321)), sizeof(lo)));
	C("ping.bind_nonlocal", bind(p2, sap(sin4("10.9.9.9", 1)), sizeof(lo)));
	C("ping.bind_bcast", bind(p2, sap(sin4("255.255.255.255", 1)), sizeof(lo)));
	C("ping.bind_short", bind(p2, SA(lo), 8));
	struct sockaddr_in b = lo;

	b.sin_family = AF_INET6;
	C("ping.bind_inet6", bind(p2, SA(b), sizeof(b)));
	close(p2);
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = ICMP_ECHO;
	pkt[7] = 9;
	memcpy(pkt + 8, "pingdata", 8);
	C("ping.send", sendto(p, pkt, 16, 0, SA(lo), sizeof(lo)));
	fl = sizeof(from);
	k = recvfrom(p, buf, sizeof(buf), 0, SA(from), &fl);
	CV("ping.recv", k, "type=%d code=%d id=%d seq=%d data=%.8s from=%s:%d", buf[0], buf[1],
	   buf[4] << 8 | buf[5], buf[6] << 8 | buf[7], buf + 8, ip(from.sin_addr.s_addr),
	   ntohs(from.sin_port));
	C("ping.recv_trunc", (sendto(p, pkt, 16, 0, SA(lo), sizeof(lo)), recv(p, buf, 4, MSG_TRUNC)));
	pkt[0] = ICMP_ECHOREPLY;
	C("ping.send_not_echo", sendto(p, pkt, 16, 0, SA(lo), sizeof(lo)));
	pkt[0] = ICMP_ECHO;
	pkt[1] = 1;
	C("ping.send_code1", sendto(p, pkt, 16, 0, SA(lo), sizeof(lo)));
	pkt[1] = 0;
	C("ping.send_short", sendto(p, pkt, 7, 0, SA(lo), sizeof(lo)));
	C("ping.send_noaddr", send(p, pkt, 16, 0));
	C("ping.send_unspec", sendto(p, pkt, 16, 0, SA(g_unspec), sizeof(lo)));
	C("ping.send_oob", sendto(p, pkt, 16, MSG_OOB, SA(lo), sizeof(lo)));
	C("ping.recv_oob", recv(p, buf, sizeof(buf), MSG_OOB | MSG_DONTWAIT));
	int n;

	C("ping.fionread", ioctl(p, FIONREAD, &n));
	close(p);
	set_sysctl("net.ipv4.ping_group_range", "1 0");
	C("ping.socket_range_again", socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP));
}

/* ---------------------------------------------------------------- netdevice ioctls */

static void t_netdev(void)
{
	int s = udp();
	struct ifreq ifr;
	struct sockaddr_in *sa = (struct sockaddr_in *)&ifr.ifr_addr;

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	CV("ifr.index", ioctl(s, SIOCGIFINDEX, &ifr), "idx=%d", ifr.ifr_ifindex);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifindex = 1;
	CV("ifr.name", ioctl(s, SIOCGIFNAME, &ifr), "%s", ifr.ifr_name);
	ifr.ifr_ifindex = 99;
	C("ifr.name_nodev", ioctl(s, SIOCGIFNAME, &ifr));
	strcpy(ifr.ifr_name, "lo");
	CV("ifr.flags", ioctl(s, SIOCGIFFLAGS, &ifr), "flags=%#x", (unsigned short)ifr.ifr_flags);
	CV("ifr.mtu", ioctl(s, SIOCGIFMTU, &ifr), "mtu=%d", ifr.ifr_mtu);
	CV("ifr.addr", ioctl(s, SIOCGIFADDR, &ifr), "%d %s", sa->sin_family, ip(sa->sin_addr.s_addr));
	CV("ifr.netmask", ioctl(s, SIOCGIFNETMASK, &ifr), "%s", ip(sa->sin_addr.s_addr));
	CV("ifr.brdaddr", ioctl(s, SIOCGIFBRDADDR, &ifr), "%s", ip(sa->sin_addr.s_addr));
	memset(&ifr.ifr_hwaddr, 0x55, sizeof(ifr.ifr_hwaddr));
	CV("ifr.hwaddr", ioctl(s, SIOCGIFHWADDR, &ifr), "fam=%d %02x%02x", ifr.ifr_hwaddr.sa_family,
	   (uint8_t)ifr.ifr_hwaddr.sa_data[0], (uint8_t)ifr.ifr_hwaddr.sa_data[5]);
	strcpy(ifr.ifr_name, "nope0");
	C("ifr.flags_nodev", ioctl(s, SIOCGIFFLAGS, &ifr));
	C("ifr.addr_nodev", ioctl(s, SIOCGIFADDR, &ifr));
	C("ifr.mtu_nodev", ioctl(s, SIOCGIFMTU, &ifr));
	strcpy(ifr.ifr_name, "lo");
	ifr.ifr_mtu = -1;
	C("ifr.set_mtu_neg", ioctl(s, SIOCSIFMTU, &ifr));
	sa->sin_family = AF_INET6;
	C("ifr.set_addr_family", ioctl(s, SIOCSIFADDR, &ifr));

	struct ifconf ifc;
	struct ifreq reqs[8];

	ifc.ifc_len = sizeof(reqs);
	ifc.ifc_req = reqs;
	CV("ifc.conf", ioctl(s, SIOCGIFCONF, &ifc), "len=%d n0=%s a0=%s", ifc.ifc_len, reqs[0].ifr_name,
	   ip(((struct sockaddr_in *)&reqs[0].ifr_addr)->sin_addr.s_addr));
	ifc.ifc_req = NULL;
	ifc.ifc_len = 0;
	CV("ifc.conf_size", ioctl(s, SIOCGIFCONF, &ifc), "len=%d", ifc.ifc_len);
	ifc.ifc_req = reqs;
	ifc.ifc_len = 10;
	CV("ifc.conf_small", ioctl(s, SIOCGIFCONF, &ifc), "len=%d", ifc.ifc_len);

	drop_caps();
	strcpy(ifr.ifr_name, "lo");
	ifr.ifr_mtu = 1500;
	C("caps.set_mtu", ioctl(s, SIOCSIFMTU, &ifr));
	ifr.ifr_flags = 0;
	C("caps.set_flags", ioctl(s, SIOCSIFFLAGS, &ifr));
	C("caps.raw_socket", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
	int u = udp();

	C("caps.bind_80", bind(u, sap(sin4("127.0.0.1", 80)), sizeof(struct sockaddr_in)));
	C("caps.bind_1024", bind(u, sap(sin4("127.0.0.1", 1024)), sizeof(struct sockaddr_in)));
	C("caps.so_mark", seti(u, SOL_SOCKET, SO_MARK, 1));
	C("caps.so_priority7", seti(u, SOL_SOCKET, SO_PRIORITY, 7));
	C("caps.so_priority6", seti(u, SOL_SOCKET, SO_PRIORITY, 6));
	C("caps.ip_transparent", seti(u, IPPROTO_IP, IP_TRANSPARENT, 1));
	C("caps.ip_transparent0", seti(u, IPPROTO_IP, IP_TRANSPARENT, 0));
	C("caps.so_rcvbufforce", seti(u, SOL_SOCKET, SO_RCVBUFFORCE, 1000000));
	C("caps.so_sndbufforce", seti(u, SOL_SOCKET, SO_SNDBUFFORCE, 1000000));
	C("caps.so_debug", seti(u, SOL_SOCKET, SO_DEBUG, 1));
	C("caps.so_bindtodevice_once", setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3));
	C("caps.so_bindtodevice_twice", setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3));
	close(u);
	restore_caps();
	C("caps.restored_raw", (u = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)) >= 0);
	close(u);
	close(s);
}

/* ---------------------------------------------------------------- reuseport balancing */

static void t_reuseport(void)
{
	int g[4], c = udp(), got[4] = { 0 }, total = 0;
	struct sockaddr_in a = sin4("127.0.0.1", 40600);
	char buf[8];

	for (int i = 0; i < 4; i++) {
		g[i] = udp();
		seti(g[i], SOL_SOCKET, SO_REUSEPORT, 1);
		bind(g[i], SA(a), sizeof(a));
	}
	/* one sender = one 4-tuple = one socket of the group, every time */
	for (int i = 0; i < 20; i++)
		sendto(c, "r", 1, 0, SA(a), sizeof(a));
	for (int i = 0; i < 4; i++) {
		struct pollfd pf = { g[i], POLLIN, 0 };

		while (poll(&pf, 1, 200) > 0 && recv(g[i], buf, sizeof(buf), MSG_DONTWAIT) == 1)
			got[i]++;
		total += got[i];
	}
	int nonzero = 0;

	for (int i = 0; i < 4; i++)
		nonzero += got[i] > 0;
	CV("reuseport.one_flow_one_socket", total, "sockets_used=%d", nonzero);
	for (int i = 0; i < 4; i++)
		close(g[i]);
	close(c);
}

/* ---------------------------------------------------------------- corking and segmentation */

/* Everything that arrives at r until 150 ms pass quietly: "n=<count> <size>,<size>...". */
static const char *arrivals(int r)
{
	static char out[4096];
	static char buf[70000];
	struct pollfd pf = { r, POLLIN, 0 };
	size_t o = 0;
	int n = 0;
	long got;

	out[0] = 0;
	while (poll(&pf, 1, 150) > 0) {
		while ((got = recv(r, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
			if (o < sizeof(out) - 16)
				o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%ld", n ? "," : " ",
						      got);
			n++;
		}
	}
	static char line[4200];

	snprintf(line, sizeof(line), "n=%d%s", n, out);
	return line;
}

static const char *first_bytes(int r)
{
	static char b[64];
	struct pollfd pf = { r, POLLIN, 0 };
	long n;

	poll(&pf, 1, 1000);
	n = recv(r, b, sizeof(b) - 1, MSG_DONTWAIT);
	b[n < 0 ? 0 : n] = 0;
	return b;
}

/* MSG_MORE / UDP_CORK (udp_sendmsg's pending datagram) and UDP_SEGMENT (udp_send_skb's
 * GSO rules): what arrives, and every error. */
static void t_cork(void)
{
	static char big[65536];
	int r = udp_bound("127.0.0.1", 40800), s = udp(), one = 1, zero = 0;
	struct sockaddr_in a = sin4("127.0.0.1", 40800), other = sin4("127.0.0.1", 40801);
	int big_rcvbuf = 4 << 20;

	setsockopt(r, SOL_SOCKET, SO_RCVBUFFORCE, &big_rcvbuf, sizeof(big_rcvbuf));
	memset(big, 'a', sizeof(big));
	C("cork.on", setsockopt(s, IPPROTO_UDP, UDP_CORK, &one, sizeof(one)));
	C("cork.send_abc", sendto(s, "abc", 3, 0, SA(a), sizeof(a)));
	C("cork.send_def_elsewhere", sendto(s, "def", 3, 0, SA(other), sizeof(other)));
	C("cork.send_noaddr", send(s, "x", 1, 0));
	CV("cork.nothing_yet", 0, "%s", arrivals(r));
	C("cork.off", setsockopt(s, IPPROTO_UDP, UDP_CORK, &zero, sizeof(zero)));
	CV("cork.one_datagram", 0, "%s", first_bytes(r));
	C("more.unconnected_noaddr", send(s, "m", 1, MSG_MORE));
	C("more.first", sendto(s, "m1", 2, MSG_MORE, SA(a), sizeof(a)));
	CV("more.nothing_yet", 0, "%s", arrivals(r));
	C("more.last_noaddr", send(s, "m2", 2, 0));
	CV("more.joined", 0, "%s", first_bytes(r));
	C("more.len_0xffff_plus", sendto(s, big, 0x10000, MSG_MORE, SA(a), sizeof(a)));
	C("more.40000", sendto(s, big, 40000, MSG_MORE, SA(a), sizeof(a)));
	C("more.30000_over", sendto(s, big, 30000, MSG_MORE, SA(a), sizeof(a)));
	C("more.after_flush", sendto(s, "z", 1, 0, SA(a), sizeof(a)));
	CV("more.flushed", 0, "%s", arrivals(r));
	C("more.65507_exact", sendto(s, big, 65500, MSG_MORE, SA(a), sizeof(a)));
	C("more.65507_exact_last", sendto(s, big, 7, 0, SA(a), sizeof(a)));
	CV("more.65507_arrives", 0, "%s", arrivals(r));

	/* The overflow reported on the error queue with IP_RECVERR. */
	int e = udp();

	seti(e, IPPROTO_IP, IP_RECVERR, 1);
	connect(e, SA(a), sizeof(a));
	C("more.recverr_40000", send(e, big, 40000, MSG_MORE));
	C("more.recverr_30000", send(e, big, 30000, MSG_MORE));
	{
		char b[64], cb[256];
		struct iovec iov = { b, sizeof(b) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb,
				    .msg_controllen = sizeof(cb) };
		struct sock_extended_err ee = { 0 };
		long n = recvmsg(e, &m, MSG_ERRQUEUE);

		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); n >= 0 && c; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR)
				memcpy(&ee, CMSG_DATA(c), sizeof(ee));
		CV("more.recverr_entry", n, "errno=%s origin=%u info=%u", en((int)ee.ee_errno),
		   ee.ee_origin, ee.ee_info);
	}
	/* Corked data is dropped by close(). */
	C("more.close_pending", send(e, "lost", 4, MSG_MORE));
	close(e);
	CV("more.close_drops", 0, "%s", arrivals(r));
	/* The first corked call decides: broadcast without SO_BROADCAST. */
	C("more.bcast_eacces", sendto(s, "b", 1, MSG_MORE, sap(sin4("127.255.255.255", 40800)),
				      sizeof(struct sockaddr_in)));
	C("more.lbcast_noroute", sendto(s, "b", 1, MSG_MORE, sap(sin4("255.255.255.255", 40800)),
					sizeof(struct sockaddr_in)));
	C("more.not_pending_after_errors", send(s, "b", 1, 0));

	/* UDP_SEGMENT */
	int g = udp();

	C("gso.set_100", seti(g, IPPROTO_UDP, UDP_SEGMENT, 100));
	C("gso.send_1000", sendto(g, big, 1000, 0, SA(a), sizeof(a)));
	CV("gso.recv_1000", 0, "%s", arrivals(r));
	C("gso.send_50", sendto(g, big, 50, 0, SA(a), sizeof(a)));
	CV("gso.recv_50", 0, "%s", arrivals(r));
	C("gso.send_12800", sendto(g, big, 12800, 0, SA(a), sizeof(a)));
	CV("gso.recv_12800", 0, "%s", arrivals(r));
	C("gso.send_12801_too_many", sendto(g, big, 12801, 0, SA(a), sizeof(a)));
	C("gso.send_6401", sendto(g, big, 6401, 0, SA(a), sizeof(a)));
	CV("gso.recv_6401", 0, "%s", arrivals(r));
	C("gso.send_0", sendto(g, big, 0, 0, SA(a), sizeof(a)));
	CV("gso.recv_0", 0, "%s", arrivals(r));
	C("gso.set_65000", seti(g, IPPROTO_UDP, UDP_SEGMENT, 65000));
	C("gso.send_65507", sendto(g, big, 65507, 0, SA(a), sizeof(a)));
	CV("gso.recv_65507", 0, "%s", arrivals(r));
	C("gso.set_0", seti(g, IPPROTO_UDP, UDP_SEGMENT, 0));
	{
		union {
			struct cmsghdr c;
			char b[CMSG_SPACE(sizeof(int))];
		} u;
		struct iovec iov = { big, 1000 };
		struct msghdr m = { .msg_name = &a, .msg_namelen = sizeof(a), .msg_iov = &iov,
				    .msg_iovlen = 1, .msg_control = u.b };
		uint16_t seg = 200;
		int seg_int = 200;

		memset(&u, 0, sizeof(u));
		u.c.cmsg_level = SOL_UDP;
		u.c.cmsg_type = UDP_SEGMENT;
		u.c.cmsg_len = CMSG_LEN(sizeof(seg));
		memcpy(CMSG_DATA(&u.c), &seg, sizeof(seg));
		m.msg_controllen = CMSG_SPACE(sizeof(seg));
		C("gso.cmsg_200", sendmsg(g, &m, 0));
		CV("gso.cmsg_recv", 0, "%s", arrivals(r));
		u.c.cmsg_len = CMSG_LEN(sizeof(seg_int));
		memcpy(CMSG_DATA(&u.c), &seg_int, sizeof(seg_int));
		m.msg_controllen = CMSG_SPACE(sizeof(seg_int));
		C("gso.cmsg_bad_len", sendmsg(g, &m, 0));
		u.c.cmsg_type = UDP_CORK;
		C("gso.cmsg_unknown_type", sendmsg(g, &m, 0));
	}
	C("gso.no_check_set", seti(g, SOL_SOCKET, SO_NO_CHECK, 1));
	seti(g, IPPROTO_UDP, UDP_SEGMENT, 100);
	C("gso.no_check", sendto(g, big, 1000, 0, SA(a), sizeof(a)));
	C("gso.no_check_small", sendto(g, big, 10, 0, SA(a), sizeof(a)));
	CV("gso.no_check_recv", 0, "%s", arrivals(r));
	close(g);
	g = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
	C("gso.udplite_set", seti(g, IPPROTO_UDP, UDP_SEGMENT, 100));
	C("gso.udplite_send", sendto(g, big, 1000, 0, SA(a), sizeof(a)));
	close(g);
	/* Corked, then cut: the pending datagram keeps the first call's segment size. */
	g = udp();
	seti(g, IPPROTO_UDP, UDP_SEGMENT, 300);
	C("gso.more_first", sendto(g, big, 500, MSG_MORE, SA(a), sizeof(a)));
	seti(g, IPPROTO_UDP, UDP_SEGMENT, 0);
	C("gso.more_last", sendto(g, big, 500, 0, SA(a), sizeof(a)));
	CV("gso.more_recv", 0, "%s", arrivals(r));
	close(g);

	/* A segment must fit the MTU (EMSGSIZE); lo at 1500 for the cases. */
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	ifr.ifr_mtu = 1500;
	ioctl(s, SIOCSIFMTU, &ifr);
	g = udp();
	seti(g, IPPROTO_UDP, UDP_SEGMENT, 1473);
	C("gso.mtu1500_seg1473", sendto(g, big, 3000, 0, SA(a), sizeof(a)));
	seti(g, IPPROTO_UDP, UDP_SEGMENT, 1472);
	C("gso.mtu1500_seg1472", sendto(g, big, 3000, 0, SA(a), sizeof(a)));
	CV("gso.mtu1500_recv", 0, "%s", arrivals(r));
	seti(g, IPPROTO_UDP, UDP_SEGMENT, 2000);
	C("gso.mtu1500_small_seg2000", sendto(g, big, 1400, 0, SA(a), sizeof(a)));
	C("gso.mtu1500_single_over", sendto(g, big, 1600, 0, SA(a), sizeof(a)));
	seti(g, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO);
	seti(g, IPPROTO_UDP, UDP_SEGMENT, 1000);
	C("gso.mtu1500_do_3000", sendto(g, big, 3000, 0, SA(a), sizeof(a)));
	CV("gso.mtu1500_do_recv", 0, "%s", arrivals(r));
	seti(g, IPPROTO_UDP, UDP_SEGMENT, 0);
	C("gso.mtu1500_do_nogso_3000", sendto(g, big, 3000, 0, SA(a), sizeof(a)));
	close(g);
	ifr.ifr_mtu = 65536;
	ioctl(s, SIOCSIFMTU, &ifr);
	close(s);
	close(r);
}

/* ---------------------------------------------------------------- ICMP errors to sockets */

/* One error-queue entry: "errno origin type code info offender name:port len". */
static void errq_case(const char *name, int fd)
{
	char b[256], cb[512];
	struct sockaddr_in from;
	struct iovec iov = { b, sizeof(b) };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = cb, .msg_controllen = sizeof(cb) };
	struct sock_extended_err ee = { 0 };
	struct sockaddr_in off = { 0 };
	struct pollfd pf = { fd, POLLERR, 0 };

	poll(&pf, 1, 500);
	memset(&from, 0, sizeof(from));
	errno = 0;
	long n = recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT);
	int e = errno;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); n >= 0 && c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) {
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			memcpy(&off, SO_EE_OFFENDER((struct sock_extended_err *)CMSG_DATA(c)),
			       sizeof(off));
		}
	if (n < 0)
		out(name, n, e, NULL);
	else
		out(name, n, 0, "errno=%s origin=%u type=%u code=%u info=%u offender=%s name=%s:%d",
		    ee.ee_errno ? en((int)ee.ee_errno) : "0", ee.ee_origin, ee.ee_type, ee.ee_code,
		    ee.ee_info, ip(off.sin_addr.s_addr), ip(from.sin_addr.s_addr),
		    ntohs(from.sin_port));
}

/* A forged ICMP error to 127.0.0.1 quoting a packet of `proto` from 127.0.0.1 to dst
 * whose first 8 bytes are `l4` (only `l4len` of them when short, to be rejected). */
static void forge(int raw, uint8_t type, uint8_t code, uint32_t word, uint8_t proto,
		  const char *dst, const uint8_t *l4, size_t l4len)
{
	uint8_t p[64];
	struct sockaddr_in to = sin4("127.0.0.1", 0);

	memset(p, 0, sizeof(p));
	p[0] = type;
	p[1] = code;
	p[4] = (uint8_t)(word >> 24);
	p[5] = (uint8_t)(word >> 16);
	p[6] = (uint8_t)(word >> 8);
	p[7] = (uint8_t)word;
	uint8_t *ih = p + 8;

	ih[0] = 0x45;
	ih[3] = 28;
	ih[8] = 64;
	ih[9] = proto;
	inet_pton(AF_INET, "127.0.0.1", ih + 12);
	inet_pton(AF_INET, dst, ih + 16);
	memcpy(ih + 20, l4, l4len);
	uint16_t c = csum16(p, 28 + l4len);

	p[2] = (uint8_t)(c >> 8);
	p[3] = (uint8_t)c;
	sendto(raw, p, 28 + l4len, 0, SA(to), sizeof(to));
}

/* ICMP errors reach raw, ping and UDP sockets only after icmp.c's own checks (Linux's
 * icmp_unreach() -> raw_icmp_error() / the protocol's err handler / ping_err()), and
 * echo replies reach ping sockets (ping_rcv()). */
static void t_icmp_errors(void)
{
#ifdef USE_IPSTACK
	ips_sysctl_set(g_st, "net.ipv4.ping_group_range", "0 2147483647");
#else
	FILE *f = fopen("/proc/sys/net/ipv4/ping_group_range", "w");

	if (f) {
		fputs("0 2147483647", f);
		fclose(f);
	}
#endif
	int inj = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	int p = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	int r253 = socket(AF_INET, SOCK_RAW, 253);
	int u = udp_bound("127.0.0.1", 40900);
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);
	uint8_t echo[8] = { ICMP_ECHO, 0, 0, 0, 0, 0, 0, 5 }, l4[8];

	C("icmperr.ping_socket", p >= 0);
	C("icmperr.ping_bind", bind(p, sap(sin4("127.0.0.1", 0)), sizeof(struct sockaddr_in)));
	getsockname(p, SA(me), &ml);
	seti(p, IPPROTO_IP, IP_RECVERR, 1);
	seti(r253, IPPROTO_IP, IP_RECVERR, 1);
	seti(u, IPPROTO_IP, IP_RECVERR, 1);

	/* A real echo through the ping socket: the reply comes back (ping_rcv). */
	{
		uint8_t req[16] = { ICMP_ECHO, 0, 0, 0, 0, 0, 0, 3, 'p', 'i', 'n', 'g' }, rep[64];
		struct pollfd pf = { p, POLLIN, 0 };

		C("icmperr.ping_send", sendto(p, req, 12, 0, sap(sin4("127.0.0.1", 0)),
					      sizeof(struct sockaddr_in)));
		poll(&pf, 1, 1000);
		long n = recv(p, rep, sizeof(rep), MSG_DONTWAIT);

		CV("icmperr.ping_reply", n, "type=%u seq=%u id_is_port=%d data=%.4s", rep[0], rep[7],
		   n >= 8 && (rep[4] << 8 | rep[5]) == ntohs(me.sin_port), (char *)rep + 8);
	}
	echo[4] = (uint8_t)(ntohs(me.sin_port) >> 8);
	echo[5] = (uint8_t)ntohs(me.sin_port);
	forge(inj, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0, IPPROTO_ICMP, "127.0.0.2", echo, 8);
	errq_case("icmperr.ping_host_unreach", p);
	forge(inj, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1000, IPPROTO_ICMP, "127.0.0.2", echo, 8);
	errq_case("icmperr.ping_frag_needed", p);
	forge(inj, ICMP_PARAMETERPROB, 0, 7u << 24, IPPROTO_ICMP, "127.0.0.2", echo, 8);
	errq_case("icmperr.ping_param_problem", p);
	forge(inj, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0, IPPROTO_ICMP, "127.0.0.2", echo, 8);
	errq_case("icmperr.ping_time_exceeded", p);
	forge(inj, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME, 0, IPPROTO_ICMP, "127.0.0.2", echo, 8);
	errq_case("icmperr.ping_reasm_timeout_ignored", p);
	forge(inj, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0, IPPROTO_ICMP, "127.0.0.2", echo, 4);
	errq_case("icmperr.ping_short_quote_rejected", p);
	forge(inj, ICMP_DEST_UNREACH, 16, 0, IPPROTO_ICMP, "127.0.0.2", echo, 8);
	errq_case("icmperr.ping_bad_code_rejected", p);
	echo[4] ^= 0x55;
	forge(inj, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0, IPPROTO_ICMP, "127.0.0.2", echo, 8);
	errq_case("icmperr.ping_other_ident", p);
	int soerr = -1;

	geti(p, SOL_SOCKET, SO_ERROR, &soerr);
	CV("icmperr.ping_so_error", 0, "%s", soerr ? en(soerr) : "0");

	/* Raw sockets of the quoted protocol (raw_icmp_error) */
	memset(l4, 0xab, sizeof(l4));
	forge(inj, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0, 253, "127.0.0.2", l4, 8);
	errq_case("icmperr.raw253_prot_unreach", r253);
	forge(inj, ICMP_PARAMETERPROB, 0, 9u << 24, 253, "127.0.0.2", l4, 8);
	errq_case("icmperr.raw253_param_problem", r253);
	forge(inj, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0, 253, "127.0.0.2", l4, 2);
	errq_case("icmperr.raw253_short_rejected", r253);

	/* A UDP socket (the protocol's err handler) */
	struct sockaddr_in ua;
	socklen_t ul = sizeof(ua);

	getsockname(u, SA(ua), &ul);
	memset(l4, 0, sizeof(l4));
	memcpy(l4, &ua.sin_port, 2);
	l4[3] = 9;
	l4[5] = 8;
	forge(inj, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0, IPPROTO_UDP, "127.0.0.2", l4, 8);
	errq_case("icmperr.udp_time_exceeded", u);
	forge(inj, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1200, IPPROTO_UDP, "127.0.0.3", l4, 8);
	errq_case("icmperr.udp_frag_needed", u);
	forge(inj, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, IPPROTO_UDP, "127.0.0.2", l4, 8);
	errq_case("icmperr.udp_port_unreach", u);
	close(inj);
	close(p);
	close(r253);
	close(u);
}

/* ---------------------------------------------------------------- net.core.optmem_max */

/* A control buffer larger than the kernel's on-stack one is sock_kmalloc()ed, which
 * refuses net.core.optmem_max (131072) or more: ENOBUFS before the cmsgs are looked at;
 * one byte less and the (zero) cmsg header is what fails. */
static void t_optmem(void)
{
	static uint64_t big[(131072 + 64) / 8];
	int s = udp();
	struct sockaddr_in a = sin4("127.0.0.1", 40710);
	struct iovec iov = { (void *)"x", 1 };
	struct msghdr m;

	memset(&m, 0, sizeof(m));
	m.msg_name = &a;
	m.msg_namelen = sizeof(a);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = big;
	m.msg_controllen = 131072;
	C("optmem.ctl_131072", sendmsg(s, &m, 0));
	m.msg_controllen = 200000;
	C("optmem.ctl_200000", sendmsg(s, &m, 0));
	m.msg_controllen = 131071;
	C("optmem.ctl_131071_zero_cmsg", sendmsg(s, &m, 0));
	m.msg_controllen = 36;
	C("optmem.ctl_36_zero_cmsg", sendmsg(s, &m, 0));
	struct cmsghdr *c = (struct cmsghdr *)big;

	c->cmsg_len = CMSG_LEN(sizeof(int));
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_TTL;
	*(int *)CMSG_DATA(c) = 9;
	m.msg_controllen = 131072;
	C("optmem.ctl_131072_ttl", sendmsg(s, &m, 0));
	m.msg_controllen = CMSG_SPACE(sizeof(int));
	C("optmem.ctl_ttl", sendmsg(s, &m, 0));
	close(s);
}

/* ---------------------------------------------------------------- lo's MTU range */

/* lo takes any MTU from 0 (no minimum, no maximum); below 68 IPv4 leaves the device
 * (inetdev_destroy) and comes back empty when the MTU is raised; the next "up" gives lo
 * 127.0.0.1/8 again. Runs last: it takes lo down and up. */
static void t_lo_mtu(void)
{
	int s = udp();
	struct ifreq ifr;
	struct sockaddr_in *sa = (struct sockaddr_in *)&ifr.ifr_addr;
	static const int mtus[] = { 0, 1, 67, 68, 1 << 20, INT_MAX, 65536 };
	char name[64];

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	for (size_t i = 0; i < sizeof(mtus) / sizeof(mtus[0]); i++) {
		snprintf(name, sizeof(name), "lomtu.set_%d", mtus[i]);
		ifr.ifr_mtu = mtus[i];
		C(name, ioctl(s, SIOCSIFMTU, &ifr));
		snprintf(name, sizeof(name), "lomtu.get_%d", mtus[i]);
		CV(name, ioctl(s, SIOCGIFMTU, &ifr), "mtu=%d", ifr.ifr_mtu);
		snprintf(name, sizeof(name), "lomtu.addr_%d", mtus[i]);
		CV(name, ioctl(s, SIOCGIFADDR, &ifr), "%s", ip(sa->sin_addr.s_addr));
	}
	C("lomtu.send_no_addr", sendto(s, "x", 1, 0, sap(sin4("127.0.0.1", 9)),
				       sizeof(struct sockaddr_in)));
	C("lomtu.bind_no_addr", bind(udp(), sap(sin4("127.0.0.1", 0)), sizeof(struct sockaddr_in)));
	C("lomtu.get_flags", ioctl(s, SIOCGIFFLAGS, &ifr));
	short flags = ifr.ifr_flags;

	ifr.ifr_flags = (short)(flags & ~IFF_UP);
	C("lomtu.down", ioctl(s, SIOCSIFFLAGS, &ifr));
	ifr.ifr_flags = flags;
	C("lomtu.up", ioctl(s, SIOCSIFFLAGS, &ifr));
	CV("lomtu.addr_after_up", ioctl(s, SIOCGIFADDR, &ifr), "%s", ip(sa->sin_addr.s_addr));
	CV("lomtu.brdaddr_after_up", ioctl(s, SIOCGIFBRDADDR, &ifr), "%s", ip(sa->sin_addr.s_addr));
	CV("lomtu.netmask_after_up", ioctl(s, SIOCGIFNETMASK, &ifr), "%s", ip(sa->sin_addr.s_addr));

	int r = udp();
	struct pollfd pf = { r, POLLIN, 0 };
	char buf[4];

	C("lomtu.bind_after_up", bind(r, sap(sin4("127.0.0.1", 40700)), sizeof(struct sockaddr_in)));
	C("lomtu.send_after_up", sendto(s, "x", 1, 0, sap(sin4("127.0.0.1", 40700)),
					sizeof(struct sockaddr_in)));
	poll(&pf, 1, 1000);
	C("lomtu.recv_after_up", recv(r, buf, sizeof(buf), MSG_DONTWAIT));
	close(r);
	close(s);
}

/* ip(7) ERRORS from the routing table, seen through sockets: an unreachable route gives
 * EHOSTUNREACH, prohibit EACCES, blackhole EINVAL, no route at all ENETUNREACH. */
static void add_route(const char *spec)
{
#ifdef USE_IPSTACK
	ips_route_add_str(g_st, spec);
#else
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "ip route add %s", spec);
	if (system(cmd) != 0)
		fprintf(stderr, "diff_sockets: '%s' failed\n", cmd);
#endif
}

static void t_routes(void)
{
	static const struct {
		const char *name, *route, *dst;
	} rts[] = {
		{ "unreachable", "unreachable 10.55.0.0/16", "10.55.1.1" },
		{ "prohibit", "prohibit 10.56.0.0/16", "10.56.1.1" },
		{ "blackhole", "blackhole 10.57.0.0/16", "10.57.1.1" },
		{ "noroute", NULL, "10.58.1.1" },
	};
	char name[64];

	for (size_t i = 0; i < sizeof(rts) / sizeof(rts[0]); i++) {
		struct sockaddr_in d = sin4(rts[i].dst, 9);
		int u = udp(), c = udp(), r = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
		static const uint8_t echo[8] = { 8, 0, 0xf7, 0xff, 0, 0, 0, 0 };

		if (rts[i].route)
			add_route(rts[i].route);
		snprintf(name, sizeof(name), "route.%s.udp_sendto", rts[i].name);
		C(name, sendto(u, "x", 1, 0, sap(d), sizeof(d)));
		snprintf(name, sizeof(name), "route.%s.udp_connect", rts[i].name);
		C(name, connect(c, sap(d), sizeof(d)));
		snprintf(name, sizeof(name), "route.%s.raw_sendto", rts[i].name);
		C(name, sendto(r, echo, sizeof(echo), 0, sap(d), sizeof(d)));
		close(u);
		close(c);
		close(r);
	}
}

/* ---------------------------------------------------------------- TCP (SOCK_STREAM over lo) */

#ifndef SO_TIMESTAMPING
#define SO_TIMESTAMPING 37
#endif
#ifndef SCM_TIMESTAMPING
#define SCM_TIMESTAMPING SO_TIMESTAMPING
#endif
#define TS_RX_SOFTWARE (1 << 3)		/* SOF_TIMESTAMPING_RX_SOFTWARE */
#define TS_SOFTWARE (1 << 4)		/* SOF_TIMESTAMPING_SOFTWARE */
#define TCP_MAXSEG_ 2
#define TCP_NODELAY_ 1

static int tcp_listener(const char *a, int port, int backlog)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);

	seti(l, SOL_SOCKET, SO_REUSEADDR, 1);
	if (bind(l, sap(sin4(a, port)), sizeof(struct sockaddr_in)) < 0 || listen(l, backlog) < 0)
		printf("# setup tcp listener %s:%d failed: %s\n", a, port, en(errno));
	return l;
}

/* A blocking connect to a:port; *acc = the listener's accepted end (when l >= 0). */
static int tcp_pair(int l, const char *a, int port, int *acc)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);

	if (connect(c, sap(sin4(a, port)), sizeof(struct sockaddr_in)) < 0)
		printf("# setup tcp connect %s:%d failed: %s\n", a, port, en(errno));
	if (acc)
		*acc = l >= 0 ? accept(l, NULL, NULL) : -1;
	return c;
}

/* Every packet sent before this on lo has been processed (lo is one FIFO; ipstack's is
 * serviced by the stack's own thread, the kernel's before send() returns). */
static void lo_sync(void)
{
	int u = udp_bound("127.0.0.1", 0);
	struct sockaddr_in me;
	socklen_t ml = sizeof(me);
	char b[4];

	getsockname(u, SA(me), &ml);
	sendto(u, "s", 1, 0, SA(me), sizeof(me));
	wait_fd(u, POLLIN);
	recv(u, b, sizeof(b), MSG_DONTWAIT);
	close(u);
}

/* Bytes readable on fd, waited for until there are at least n. */
static int wait_inq(int fd, int n)
{
	int q = 0;

	for (int i = 0; i < 2000; i++) {
		if (ioctl(fd, FIONREAD, &q) < 0 || q >= n)
			break;
		usleep(1000);
	}
	return q;
}

static double ts_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The cmsgs of a TCP recvmsg: level/type/len each, and for timestamps whether the time
 * is within 10 s of now and not before `after` (the time the last segment read was sent). */
static void ts_dump(char *info, size_t n, struct msghdr *m, double after)
{
	size_t o = 0;
	double now = ts_now();

	info[0] = 0;
	o += (size_t)snprintf(info + o, n - o, "flags=%#x ctl=%zu", m->msg_flags,
			      (size_t)m->msg_controllen);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
		double t = -1;

		o += (size_t)snprintf(info + o, n - o, " %d/%d/%zu", cm->cmsg_level, cm->cmsg_type,
				      (size_t)cm->cmsg_len);
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SO_TIMESTAMP) {
			struct timeval tv;

			memcpy(&tv, CMSG_DATA(cm), sizeof(tv));
			t = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
		} else if (cm->cmsg_type == SO_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		} else if (cm->cmsg_type == SCM_TIMESTAMPING) {
			struct timespec ts[3];

			memcpy(ts, CMSG_DATA(cm), sizeof(ts));
			t = (double)ts[0].tv_sec + (double)ts[0].tv_nsec / 1e9;
			o += (size_t)snprintf(info + o, n - o, "[hw=%d,%d]", ts[1].tv_sec || ts[1].tv_nsec,
					      ts[2].tv_sec || ts[2].tv_nsec);
		} else {
			continue;
		}
		o += (size_t)snprintf(info + o, n - o, "[near=%d last=%d]", t > now - 10 && t <= now + 0.001,
				      t + 0.000001 >= after);
	}
}

static long tcp_recv_cmsg(int fd, char *b, size_t bl, char *info, size_t il, double after, int flags)
{
	char cb[512];
	struct iovec iov = { b, bl };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb,
			    .msg_controllen = sizeof(cb) };
	long n;

	memset(cb, 0, sizeof(cb));
	n = recvmsg(fd, &m, flags);
	if (n >= 0)
		ts_dump(info, il, &m, after);
	else
		info[0] = 0;
	return n;
}

/* Every IP_* and SOL_SOCKET integer option on an unconnected TCP socket: accepted or
 * not, defaults and bounds, as do_ip_setsockopt()/sk_setsockopt() take them for TCP. */
static void t_tcp_options(void)
{
	static const struct intopt sol[] = {
		{ "SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, 1, INT_MIN },
		{ "SO_REUSEPORT", SOL_SOCKET, SO_REUSEPORT, 1, INT_MIN },
		{ "SO_BROADCAST", SOL_SOCKET, SO_BROADCAST, 1, INT_MIN },
		{ "SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, 100000, 0 },
		{ "SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, 100000, 0 },
		{ "SO_RCVLOWAT", SOL_SOCKET, SO_RCVLOWAT, 10, -1 },
		{ "SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, 1, INT_MIN },
		{ "SO_DONTROUTE", SOL_SOCKET, SO_DONTROUTE, 1, INT_MIN },
		{ "SO_PRIORITY", SOL_SOCKET, SO_PRIORITY, 6, 7 },
		{ "SO_MARK", SOL_SOCKET, SO_MARK, 5, INT_MIN },
		{ "SO_TIMESTAMP", SOL_SOCKET, SO_TIMESTAMP, 1, INT_MIN },
		{ "SO_TIMESTAMPNS", SOL_SOCKET, SO_TIMESTAMPNS, 1, INT_MIN },
		{ "SO_OOBINLINE", SOL_SOCKET, SO_OOBINLINE, 1, INT_MIN },
		{ "SO_NO_CHECK", SOL_SOCKET, SO_NO_CHECK, 1, INT_MIN },
		{ "SO_ERROR", SOL_SOCKET, SO_ERROR, 1, INT_MIN },
		{ "SO_TYPE", SOL_SOCKET, SO_TYPE, 1, INT_MIN },
		{ "SO_PROTOCOL", SOL_SOCKET, SO_PROTOCOL, 1, INT_MIN },
		{ "SO_ACCEPTCONN", SOL_SOCKET, SO_ACCEPTCONN, 1, INT_MIN },
		{ "SO_SNDLOWAT", SOL_SOCKET, SO_SNDLOWAT, 1, INT_MIN },
		{ "SO_BINDTOIFINDEX", SOL_SOCKET, SO_BINDTOIFINDEX, 1, 99 },
		{ "SO_PASSCRED", SOL_SOCKET, SO_PASSCRED, 1, INT_MIN },
		{ "SO_RXQ_OVFL", SOL_SOCKET, SO_RXQ_OVFL, 1, INT_MIN },
		{ "SO_SELECT_ERR_QUEUE", SOL_SOCKET, SO_SELECT_ERR_QUEUE, 1, INT_MIN },
		{ "SO_ZEROCOPY", SOL_SOCKET, SO_ZEROCOPY, 1, 2 },
	};
	static const struct intopt ipo[] = {
		{ "IP_TTL", IPPROTO_IP, IP_TTL, 10, 0 },
		{ "IP_TTL_256", IPPROTO_IP, IP_TTL, -1, 256 },
		{ "IP_TOS", IPPROTO_IP, IP_TOS, 0x10, 0x1ff },
		{ "IP_TOS_ecn", IPPROTO_IP, IP_TOS, 0x13, INT_MIN },
		{ "IP_PKTINFO", IPPROTO_IP, IP_PKTINFO, 1, INT_MIN },
		{ "IP_RECVTTL", IPPROTO_IP, IP_RECVTTL, 1, INT_MIN },
		{ "IP_RECVTOS", IPPROTO_IP, IP_RECVTOS, 1, INT_MIN },
		{ "IP_RECVOPTS", IPPROTO_IP, IP_RECVOPTS, 1, INT_MIN },
		{ "IP_RETOPTS", IPPROTO_IP, IP_RETOPTS, 1, INT_MIN },
		{ "IP_RECVORIGDSTADDR", IPPROTO_IP, IP_RECVORIGDSTADDR, 1, INT_MIN },
		{ "IP_RECVERR", IPPROTO_IP, IP_RECVERR, 1, INT_MIN },
		{ "IP_RECVERR_RFC4884", IPPROTO_IP, 26, 1, 2 },
		{ "IP_MTU_DISCOVER", IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_OMIT, 6 },
		{ "IP_MTU_DISCOVER_dont", IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT, -1 },
		{ "IP_MTU", IPPROTO_IP, IP_MTU, 1000, INT_MIN },
		{ "IP_HDRINCL", IPPROTO_IP, IP_HDRINCL, 1, INT_MIN },
		{ "IP_NODEFRAG", IPPROTO_IP, IP_NODEFRAG, 1, INT_MIN },
		{ "IP_FREEBIND", IPPROTO_IP, IP_FREEBIND, 1, INT_MIN },
		{ "IP_TRANSPARENT", IPPROTO_IP, IP_TRANSPARENT, 1, INT_MIN },
		{ "IP_BIND_ADDRESS_NO_PORT", IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1, INT_MIN },
		{ "IP_PASSSEC", IPPROTO_IP, IP_PASSSEC, 1, INT_MIN },
		{ "IP_MULTICAST_TTL", IPPROTO_IP, IP_MULTICAST_TTL, 5, 256 },
		{ "IP_MULTICAST_LOOP", IPPROTO_IP, IP_MULTICAST_LOOP, 0, INT_MIN },
		{ "IP_MULTICAST_ALL", IPPROTO_IP, IP_MULTICAST_ALL, 0, 2 },
		{ "IP_MINTTL", IPPROTO_IP, IP_MINTTL, 3, 256 },
		{ "IP_ROUTER_ALERT", IPPROTO_IP, IP_ROUTER_ALERT, 1, INT_MIN },
		{ "IP_CHECKSUM", IPPROTO_IP, 23, 1, INT_MIN },
		{ "IP_RECVFRAGSIZE", IPPROTO_IP, 25, 1, INT_MIN },
		{ "IP_UNICAST_IF", IPPROTO_IP, 50, 0x01000000, 0x63000000 },
		{ "IP_LOCAL_PORT_RANGE", IPPROTO_IP, IP_LOCAL_PORT_RANGE, 0x9c409c40, 0x9c409c41 - 2 },
		{ "IP_PROTOCOL", IPPROTO_IP, 52, 1, INT_MIN },
		{ "IP_unknown200", IPPROTO_IP, 200, 1, INT_MIN },
	};
	int s = socket(AF_INET, SOCK_STREAM, 0), v;
	socklen_t l;

	t_intopts(s, "tcp.opt", sol, sizeof(sol) / sizeof(sol[0]));
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	t_intopts(s, "tcp.opt", ipo, sizeof(ipo) / sizeof(ipo[0]));
	close(s);

	/* IP_MULTICAST_IF (struct), IP_OPTIONS and IP_PKTOPTIONS on an unconnected socket */
	s = socket(AF_INET, SOCK_STREAM, 0);
	struct in_addr ia = { htonl(INADDR_LOOPBACK) };

	C("tcp.opt.mcast_if.set", setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &ia, sizeof(ia)));
	l = sizeof(ia);
	CV("tcp.opt.mcast_if.get", getsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &ia, &l), "len=%u", l);
	struct ip_mreqn mr;

	memset(&mr, 0, sizeof(mr));
	C("tcp.opt.add_membership", setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)));
	C("tcp.opt.add_membership_short", setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, 2));
	C("tcp.opt.drop_membership", setsockopt(s, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr)));
	uint8_t ob[40];

	l = sizeof(ob);
	CV("tcp.opt.ip_options.default", getsockopt(s, IPPROTO_IP, IP_OPTIONS, ob, &l), "len=%u", l);
	l = sizeof(ob);
	CV("tcp.opt.pktoptions.unconnected", getsockopt(s, IPPROTO_IP, IP_PKTOPTIONS, ob, &l), "len=%u",
	   l);
	/* SO_TIMESTAMPING: flags in, struct so_timestamping (flags, bind_phc) out */
	int tsf[2] = { 0, 0 };

	l = sizeof(tsf);
	CV("tcp.opt.timestamping.default", getsockopt(s, SOL_SOCKET, SO_TIMESTAMPING, tsf, &l),
	   "len=%u v=%#x", l, tsf[0]);
	C("tcp.opt.timestamping.set", seti(s, SOL_SOCKET, SO_TIMESTAMPING, TS_RX_SOFTWARE | TS_SOFTWARE));
	l = sizeof(tsf);
	CV("tcp.opt.timestamping.get", getsockopt(s, SOL_SOCKET, SO_TIMESTAMPING, tsf, &l),
	   "len=%u v=%#x", l, tsf[0]);
	C("tcp.opt.timestamping.bad", seti(s, SOL_SOCKET, SO_TIMESTAMPING, 1 << 30));
	CV("tcp.opt.timestamping.then_timestamp", geti(s, SOL_SOCKET, SO_TIMESTAMP, &v), "v=%d", v);
	C("tcp.opt.timestamping.clear", seti(s, SOL_SOCKET, SO_TIMESTAMPING, 0));
	close(s);
}

/* Options on connected and listening TCP sockets; what recvmsg gives as cmsgs. */
static void t_tcp_connected(void)
{
	int l = tcp_listener("127.0.0.1", 41500, 8), a = -1, c, v;
	char b[64], info[512];
	socklen_t ol;

	CV("tcp.conn.listener_ip_mtu", geti(l, IPPROTO_IP, IP_MTU, &v), "v=%d", v);
	CV("tcp.conn.listener_acceptconn", geti(l, SOL_SOCKET, SO_ACCEPTCONN, &v), "v=%d", v);
	c = tcp_pair(l, "127.0.0.1", 41500, &a);
	CV("tcp.conn.client_ip_mtu", geti(c, IPPROTO_IP, IP_MTU, &v), "v=%d", v);
	CV("tcp.conn.accepted_ip_mtu", geti(a, IPPROTO_IP, IP_MTU, &v), "v=%d", v);
	CV("tcp.conn.accepted_acceptconn", geti(a, SOL_SOCKET, SO_ACCEPTCONN, &v), "v=%d", v);
	CV("tcp.conn.accepted_error", geti(a, SOL_SOCKET, SO_ERROR, &v), "v=%d", v);
	CV("tcp.conn.accepted_ttl", geti(a, IPPROTO_IP, IP_TTL, &v), "v=%d", v);
	CV("tcp.conn.accepted_tos", geti(a, IPPROTO_IP, IP_TOS, &v), "v=%d", v);
	CV("tcp.conn.accepted_mcast_ttl", geti(a, IPPROTO_IP, IP_MULTICAST_TTL, &v), "v=%d", v);
	CV("tcp.conn.client_mcast_ttl", geti(c, IPPROTO_IP, IP_MULTICAST_TTL, &v), "v=%d", v);

	/* IP_PKTINFO and friends are accepted on TCP but give no cmsg */
	seti(a, IPPROTO_IP, IP_PKTINFO, 1);
	seti(a, IPPROTO_IP, IP_RECVTTL, 1);
	seti(a, IPPROTO_IP, IP_RECVTOS, 1);
	seti(a, IPPROTO_IP, IP_RECVOPTS, 1);
	seti(a, IPPROTO_IP, IP_RETOPTS, 1);
	seti(a, IPPROTO_IP, IP_RECVORIGDSTADDR, 1);
	send(c, "abcd", 4, 0);
	wait_inq(a, 4);
	CV("tcp.conn.pktinfo_no_cmsg", tcp_recv_cmsg(a, b, sizeof(b), info, sizeof(info), 0, 0), "%s",
	   info);
	/* IP_PKTOPTIONS: the SOCK_STREAM-only getsockopt (do_ip_getsockopt) */
	uint8_t pk[256];
	struct msghdr m = { .msg_control = pk };

	ol = sizeof(pk);
	errno = 0;
	long r = getsockopt(a, IPPROTO_IP, IP_PKTOPTIONS, pk, &ol);
	int e = errno;

	m.msg_controllen = r == 0 ? ol : 0;
	cmsg_dump(info, sizeof(info), &m);
	out("tcp.conn.pktoptions", r, e, "%s", info);
	seti(c, IPPROTO_IP, IP_PKTINFO, 1);
	seti(c, IPPROTO_IP, IP_RECVTTL, 1);
	seti(c, IPPROTO_IP, IP_RECVTOS, 1);
	ol = sizeof(pk);
	errno = 0;
	r = getsockopt(c, IPPROTO_IP, IP_PKTOPTIONS, pk, &ol);
	e = errno;
	m.msg_controllen = r == 0 ? ol : 0;
	cmsg_dump(info, sizeof(info), &m);
	out("tcp.conn.pktoptions_client", r, e, "%s", info);
	ol = 4;
	C("tcp.conn.pktoptions_short", getsockopt(a, IPPROTO_IP, IP_PKTOPTIONS, pk, &ol));

	/* Timestamps: tcp_recv_timestamp() stamps with the last segment read. */
	static const struct {
		const char *name;
		int opt, val;
	} tso[] = {
		{ "timestamp", SO_TIMESTAMP, 1 },
		{ "timestampns", SO_TIMESTAMPNS, 1 },
		{ "timestamping", SO_TIMESTAMPING, TS_RX_SOFTWARE | TS_SOFTWARE },
		{ "timestamping_rx_only", SO_TIMESTAMPING, TS_RX_SOFTWARE },
	};
	char name[96];

	for (size_t i = 0; i < sizeof(tso) / sizeof(tso[0]); i++) {
		double mid;

		seti(a, SOL_SOCKET, SO_TIMESTAMP, 0);
		seti(a, SOL_SOCKET, SO_TIMESTAMPING, 0);
		seti(a, SOL_SOCKET, tso[i].opt, tso[i].val);
		send(c, "1", 1, 0);
		wait_inq(a, 1);
		usleep(2000);
		mid = ts_now();
		send(c, "2", 1, 0);
		wait_inq(a, 2);
		snprintf(name, sizeof(name), "tcp.conn.%s.two_segments", tso[i].name);
		CV(name, tcp_recv_cmsg(a, b, sizeof(b), info, sizeof(info), mid, 0), "%s", info);
		send(c, "3", 1, 0);
		wait_inq(a, 1);
		snprintf(name, sizeof(name), "tcp.conn.%s.peek", tso[i].name);
		CV(name, tcp_recv_cmsg(a, b, sizeof(b), info, sizeof(info), 0, MSG_PEEK), "%s", info);
		snprintf(name, sizeof(name), "tcp.conn.%s.read", tso[i].name);
		CV(name, tcp_recv_cmsg(a, b, sizeof(b), info, sizeof(info), 0, 0), "%s", info);
		snprintf(name, sizeof(name), "tcp.conn.%s.empty", tso[i].name);
		CV(name, tcp_recv_cmsg(a, b, sizeof(b), info, sizeof(info), 0, MSG_DONTWAIT), "%s", info);
	}
	/* both: the old-style cmsg first, then SCM_TIMESTAMPING */
	seti(a, SOL_SOCKET, SO_TIMESTAMPNS, 1);
	seti(a, SOL_SOCKET, SO_TIMESTAMPING, TS_RX_SOFTWARE | TS_SOFTWARE);
	send(c, "4", 1, 0);
	wait_inq(a, 1);
	CV("tcp.conn.timestampns_and_timestamping", tcp_recv_cmsg(a, b, sizeof(b), info, sizeof(info), 0, 0),
	   "%s", info);
	close(c);
	close(a);
	close(l);
}

/* IP_BIND_ADDRESS_NO_PORT: bind() with port 0 takes no port; connect() picks one by the
 * 4-tuple (__inet_hash_connect), so a one-port range serves several destinations. */
static void t_tcp_no_port(void)
{
	int l1 = tcp_listener("127.0.0.1", 41510, 8), l2 = tcp_listener("127.0.0.1", 41511, 8);
	int s[4], a[4], p[4];

	for (int i = 0; i < 4; i++) {
		s[i] = socket(AF_INET, SOCK_STREAM, 0);
		a[i] = -1;
	}
	C("tcp.noport.set", seti(s[0], IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1));
	C("tcp.noport.bind", bind(s[0], sap(sin4("127.0.0.1", 0)), sizeof(struct sockaddr_in)));
	CV("tcp.noport.port_after_bind", 0, "port=%d", local_port(s[0]));
	C("tcp.noport.connect", connect(s[0], sap(sin4("127.0.0.1", 41510)), sizeof(struct sockaddr_in)));
	p[0] = local_port(s[0]);
	CV("tcp.noport.port_after_connect", 0, "in_range=%d", in_range(p[0]));
	a[0] = accept(l1, NULL, NULL);
	/* a second one to the same place, from the same address: another port */
	seti(s[1], IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
	bind(s[1], sap(sin4("127.0.0.1", 0)), sizeof(struct sockaddr_in));
	C("tcp.noport.connect2", connect(s[1], sap(sin4("127.0.0.1", 41510)), sizeof(struct sockaddr_in)));
	p[1] = local_port(s[1]);
	CV("tcp.noport.second_port", 0, "differs=%d", p[1] != p[0] && in_range(p[1]));
	a[1] = accept(l1, NULL, NULL);
	/* bind() then listen(): the port is taken at listen() */
	int ls = socket(AF_INET, SOCK_STREAM, 0);

	seti(ls, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
	bind(ls, sap(sin4("127.0.0.1", 0)), sizeof(struct sockaddr_in));
	C("tcp.noport.listen", listen(ls, 1));
	CV("tcp.noport.listen_port", 0, "in_range=%d", in_range(local_port(ls)));
	close(ls);
	/* a port given to bind() is taken at once, the option notwithstanding */
	ls = socket(AF_INET, SOCK_STREAM, 0);
	seti(ls, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
	C("tcp.noport.bind_port", bind(ls, sap(sin4("127.0.0.1", 41512)), sizeof(struct sockaddr_in)));
	CV("tcp.noport.bind_port_kept", 0, "port=%d", local_port(ls));
	int dup = socket(AF_INET, SOCK_STREAM, 0);

	C("tcp.noport.bind_port_inuse", bind(dup, sap(sin4("127.0.0.1", 41512)), sizeof(struct sockaddr_in)));
	close(dup);
	close(ls);
	/* bound without a port, the socket may be bound again (inet_num is still 0) */
	seti(s[2], IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
	C("tcp.noport.bind_first", bind(s[2], sap(sin4("127.0.0.1", 0)), sizeof(struct sockaddr_in)));
	C("tcp.noport.bind_again", bind(s[2], sap(sin4("127.0.0.1", 0)), sizeof(struct sockaddr_in)));
	seti(s[2], IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 0);
	C("tcp.noport.bind_again_port", bind(s[2], sap(sin4("127.0.0.1", 0)), sizeof(struct sockaddr_in)));
	CV("tcp.noport.bind_again_port_v", 0, "in_range=%d", in_range(local_port(s[2])));
	C("tcp.noport.bind_third", bind(s[2], sap(sin4("127.0.0.1", 0)), sizeof(struct sockaddr_in)));
	for (int i = 0; i < 4; i++) {
		close(s[i]);
		if (a[i] >= 0)
			close(a[i]);
		s[i] = socket(AF_INET, SOCK_STREAM, 0);
		a[i] = -1;
	}
	/* A one-port range: without the option bind(0) owns the port, so a second socket
	 * finds none; with it, connections to two destinations share the one port, and a
	 * third to a destination already served finds none (EADDRNOTAVAIL). */
	int range = (int)(41600u | 41600u << 16);	/* hi << 16 | lo */

	for (int i = 0; i < 2; i++)
		seti(s[i], IPPROTO_IP, IP_LOCAL_PORT_RANGE, range);
	C("tcp.noport.range_plain_bind", bind(s[0], sap(sin4("127.0.0.1", 0)), sizeof(struct sockaddr_in)));
	CV("tcp.noport.range_plain_port", 0, "port=%d", local_port(s[0]));
	C("tcp.noport.range_plain_bind2", bind(s[1], sap(sin4("127.0.0.1", 0)), sizeof(struct sockaddr_in)));
	close(s[0]);
	close(s[1]);
	for (int i = 0; i < 4; i++) {
		char nm[64];

		if (i < 2)
			s[i] = socket(AF_INET, SOCK_STREAM, 0);
		seti(s[i], IPPROTO_IP, IP_LOCAL_PORT_RANGE, range);
		seti(s[i], IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
		snprintf(nm, sizeof(nm), "tcp.noport.range_bind%d", i);
		C(nm, bind(s[i], sap(sin4("127.0.0.1", 0)), sizeof(struct sockaddr_in)));
		snprintf(nm, sizeof(nm), "tcp.noport.range_connect%d", i);
		C(nm, connect(s[i], sap(sin4("127.0.0.1", i == 1 ? 41511 : 41510)),
			      sizeof(struct sockaddr_in)));
		snprintf(nm, sizeof(nm), "tcp.noport.range_port%d", i);
		CV(nm, 0, "port=%d", local_port(s[i]));
		a[i] = accept(i == 1 ? l2 : l1, NULL, NULL);
		if (i == 1)
			break;
	}
	/* the third: same destination as the first, no port left */
	s[2] = socket(AF_INET, SOCK_STREAM, 0);
	seti(s[2], IPPROTO_IP, IP_LOCAL_PORT_RANGE, range);
	seti(s[2], IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
	bind(s[2], sap(sin4("127.0.0.1", 0)), sizeof(struct sockaddr_in));
	C("tcp.noport.range_connect_same_dst", connect(s[2], sap(sin4("127.0.0.1", 41510)),
						      sizeof(struct sockaddr_in)));
	/* and a plain bind(0) finds the port busy */
	s[3] = socket(AF_INET, SOCK_STREAM, 0);
	seti(s[3], IPPROTO_IP, IP_LOCAL_PORT_RANGE, range);
	C("tcp.noport.range_plain_after", bind(s[3], sap(sin4("127.0.0.1", 0)), sizeof(struct sockaddr_in)));
	for (int i = 0; i < 4; i++) {
		close(s[i]);
		if (a[i] >= 0)
			close(a[i]);
	}
	close(l1);
	close(l2);
}

/* The last TCP segment from sport to dport that the raw socket r saw: its sequence
 * number and the one after it (data, SYN, FIN counted). 0 if none. */
static int raw_tcp_seq(int r, int sport, int dport, uint32_t *seq, uint32_t *next)
{
	static uint8_t p[66000];
	int found = 0;

	lo_sync();
	for (;;) {
		long n = recv(r, p, sizeof(p), MSG_DONTWAIT);

		if (n < 40)
			break;
		size_t ihl = (size_t)(p[0] & 15) * 4, tot = (size_t)(p[2] << 8 | p[3]);
		const uint8_t *t = p + ihl;

		if ((size_t)n < ihl + 20 || (t[0] << 8 | t[1]) != sport || (t[2] << 8 | t[3]) != dport)
			continue;
		*seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
		*next = *seq + (uint32_t)(tot - ihl - (size_t)(t[12] >> 4) * 4) + !!(t[13] & 2) +
			!!(t[13] & 1);
		found = 1;
	}
	return found;
}

/* A forged ICMP error about the TCP segment sport -> dport (both on 127.0.0.1) with seq. */
static void forge_tcp(int inj, uint8_t type, uint8_t code, uint32_t word, int sport, int dport,
		      uint32_t seq)
{
	uint8_t th[8] = { (uint8_t)(sport >> 8), (uint8_t)sport, (uint8_t)(dport >> 8), (uint8_t)dport,
			  (uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8), (uint8_t)seq };

	forge(inj, type, code, word, IPPROTO_TCP, "127.0.0.1", th, 8);
	lo_sync();
}

static const char *tcp_state_name(int fd)
{
	static const char *names[] = { "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
				       "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
				       "LISTEN", "CLOSING" };
	uint8_t info[8] = { 0 };
	socklen_t l = sizeof(info);

	if (getsockopt(fd, IPPROTO_TCP, 11 /* TCP_INFO */, info, &l) < 0 || info[0] > 11)
		return "?";
	return names[info[0]];
}

static void so_error_case(const char *name, int fd)
{
	int v;

	CV(name, geti(fd, SOL_SOCKET, SO_ERROR, &v), "v=%s state=%s", v ? en(v) : "0",
	   tcp_state_name(fd));
}

/* ICMP errors for TCP connections (tcp_v4_err): in SYN_SENT a hard error ends the attempt
 * and, with IP_RECVERR, is queued (ip_icmp_error); once established only IP_RECVERR makes
 * them sk_err (nothing queued); the sequence number must be in [snd_una, snd_nxt]. */
static void t_tcp_icmp(void)
{
	int inj = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	int r = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
	int l = tcp_listener("127.0.0.1", 41520, 8), a = -1, c, cp, v;
	uint32_t seq = 0, nxt = 0;
	char b[64], name[96];

	c = tcp_pair(l, "127.0.0.1", 41520, &a);
	cp = local_port(c);
	send(c, "hello", 5, 0);
	wait_inq(a, 5);
	recv(a, b, sizeof(b), 0);
	CV("tcp.icmp.est_seq_seen", raw_tcp_seq(r, cp, 41520, &seq, &nxt), NULL);
	static const struct {
		const char *name;
		uint8_t type, code;
		uint32_t word;
	} errs[] = {
		{ "host_unreach", ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0 },
		{ "port_unreach", ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0 },
		{ "net_unreach", ICMP_DEST_UNREACH, ICMP_NET_UNREACH, 0 },
		{ "prot_unreach", ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0 },
		{ "admin_prohib", ICMP_DEST_UNREACH, 13, 0 },
		{ "code16", ICMP_DEST_UNREACH, 16, 0 },
		{ "time_exceeded", ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0 },
		{ "param_problem", ICMP_PARAMETERPROB, 0, 5u << 24 },
		{ "source_quench", ICMP_SOURCE_QUENCH, 0, 0 },
		{ "redirect", ICMP_REDIRECT, 1, 0x7f000002 },
	};

	for (int rv = 0; rv < 2; rv++) {
		seti(c, IPPROTO_IP, IP_RECVERR, rv);
		for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
			forge_tcp(inj, errs[i].type, errs[i].code, errs[i].word, cp, 41520, nxt);
			snprintf(name, sizeof(name), "tcp.icmp.est_recverr%d.%s", rv, errs[i].name);
			so_error_case(name, c);
			snprintf(name, sizeof(name), "tcp.icmp.est_recverr%d.%s.errq", rv, errs[i].name);
			C(name, recv(c, b, sizeof(b), MSG_ERRQUEUE | MSG_DONTWAIT));
		}
	}
	/* out of the window [snd_una, snd_nxt]: ignored */
	forge_tcp(inj, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, cp, 41520, nxt + 1000);
	so_error_case("tcp.icmp.est_out_of_window", c);
	forge_tcp(inj, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, cp, 41520, nxt - 1);
	so_error_case("tcp.icmp.est_before_una", c);
	/* a hard error with IP_RECVERR: the next call reports it once */
	forge_tcp(inj, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, cp, 41520, nxt);
	C("tcp.icmp.est_send_after_error", send(c, "x", 1, 0));
	C("tcp.icmp.est_send_after_error2", send(c, "y", 1, 0));
	CV("tcp.icmp.est_poll_after", 0, "revents=%#x", wait_fd(c, POLLIN | POLLOUT) & ~POLLIN);
	/* fragmentation needed: the MSS follows the new path MTU; nothing queued */
	int mss0 = 0, mss1 = 0;

	geti(c, IPPROTO_TCP, TCP_MAXSEG_, &mss0);
	raw_tcp_seq(r, cp, 41520, &seq, &nxt);
	forge_tcp(inj, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1200, cp, 41520, nxt);
	geti(c, IPPROTO_TCP, TCP_MAXSEG_, &mss1);
	CV("tcp.icmp.est_frag_needed", geti(c, IPPROTO_IP, IP_MTU, &v), "mtu=%d mss_changed=%d mss=%d", v,
	   mss0 != mss1, mss1);
	so_error_case("tcp.icmp.est_frag_needed_error", c);
	C("tcp.icmp.est_frag_needed_errq", recv(c, b, sizeof(b), MSG_ERRQUEUE | MSG_DONTWAIT));
	close(c);
	close(a);
	close(l);

	/* SYN_SENT: a listener whose accept queue is full drops the SYN, so the attempt
	 * waits; the SYN's sequence number comes from the raw socket. */
	l = tcp_listener("127.0.0.1", 41521, 0);
	int filler = tcp_pair(-1, "127.0.0.1", 41521, NULL);

	lo_sync();
	static const struct {
		const char *name;
		uint8_t type, code;
		int recverr, seq_off;
	} ss[] = {
		{ "host_unreach", ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0, 0 },
		{ "host_unreach_recverr", ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 1, 0 },
		{ "port_unreach_recverr", ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 1, 0 },
		{ "time_exceeded_recverr", ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 1, 0 },
		{ "frag_needed_recverr", ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1, 0 },
		{ "bad_seq_recverr", ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 1, 5 },
		{ "seq_plus1_recverr", ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 1, 1 },
	};

	for (size_t i = 0; i < sizeof(ss) / sizeof(ss[0]); i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0), sp;

		seti(s, IPPROTO_IP, IP_RECVERR, ss[i].recverr);
		fcntl(s, F_SETFL, O_NONBLOCK);
		connect(s, sap(sin4("127.0.0.1", 41521)), sizeof(struct sockaddr_in));
		sp = local_port(s);
		snprintf(name, sizeof(name), "tcp.icmp.synsent.%s.syn_seen", ss[i].name);
		CV(name, raw_tcp_seq(r, sp, 41521, &seq, &nxt), "state=%s", tcp_state_name(s));
		forge_tcp(inj, ss[i].type, ss[i].code, ss[i].code == ICMP_FRAG_NEEDED ? 1000 : 0, sp, 41521,
			  seq + (uint32_t)ss[i].seq_off);
		snprintf(name, sizeof(name), "tcp.icmp.synsent.%s.poll", ss[i].name);
		CV(name, 0, "revents=%#x", wait_fd(s, POLLOUT) & (POLLOUT | POLLERR | POLLHUP));
		snprintf(name, sizeof(name), "tcp.icmp.synsent.%s.errq", ss[i].name);
		errq_case(name, s);
		snprintf(name, sizeof(name), "tcp.icmp.synsent.%s.so_error", ss[i].name);
		so_error_case(name, s);
		snprintf(name, sizeof(name), "tcp.icmp.synsent.%s.connect", ss[i].name);
		C(name, connect(s, sap(sin4("127.0.0.1", 41521)), sizeof(struct sockaddr_in)));
		close(s);
	}
	/* reading the queue first: sk_err follows the queue (sock_dequeue_err_skb) */
	{
		int s = socket(AF_INET, SOCK_STREAM, 0), sp;

		seti(s, IPPROTO_IP, IP_RECVERR, 1);
		fcntl(s, F_SETFL, O_NONBLOCK);
		connect(s, sap(sin4("127.0.0.1", 41521)), sizeof(struct sockaddr_in));
		sp = local_port(s);
		raw_tcp_seq(r, sp, 41521, &seq, &nxt);
		forge_tcp(inj, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, 0, sp, 41521, seq);
		errq_case("tcp.icmp.synsent_errq_first.errq", s);
		so_error_case("tcp.icmp.synsent_errq_first.so_error", s);
		C("tcp.icmp.synsent_errq_first.connect",
		  connect(s, sap(sin4("127.0.0.1", 41521)), sizeof(struct sockaddr_in)));
		C("tcp.icmp.synsent_errq_first.connect2",
		  connect(s, sap(sin4("127.0.0.1", 41521)), sizeof(struct sockaddr_in)));
		close(s);
	}
	close(filler);
	close(l);
	close(r);
	close(inj);
}

/* IP_OPTIONS on TCP: sent on every segment (the MSS shrinks by their length,
 * icsk_ext_hdr_len); the listener echoes a SYN's options (tcp_v4_save_options) and the
 * accepted socket has them (reversed source route included). */
static void t_tcp_ip_options(void)
{
	static const uint8_t rr[8] = { IPOPT_NOP, IPOPT_RR, 7, 4, 0, 0, 0, 0 };
	static const uint8_t ts[12] = { IPOPT_TS, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t lsrr[8] = { IPOPT_NOP, IPOPT_LSRR, 7, 4, 127, 0, 0, 1 };
	static const struct {
		const char *name;
		const uint8_t *o;
		socklen_t len;
	} os[] = {
		{ "none", NULL, 0 },
		{ "rr", rr, sizeof(rr) },
		{ "ts", ts, sizeof(ts) },
	};
	char name[96], h[128];
	uint8_t got[40];
	socklen_t gl;
	static char big[100000];
	int l = tcp_listener("127.0.0.1", 41530, 8), v;

	for (size_t i = 0; i < sizeof(os) / sizeof(os[0]); i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0), a = -1, mss[2] = { 0, 0 };
		long n = 0, m;

		snprintf(name, sizeof(name), "tcp.ipopt.%s.set", os[i].name);
		C(name, setsockopt(c, IPPROTO_IP, IP_OPTIONS, os[i].o, os[i].len));
		gl = sizeof(got);
		getsockopt(c, IPPROTO_IP, IP_OPTIONS, got, &gl);
		hex(h, sizeof(h), got, gl);
		snprintf(name, sizeof(name), "tcp.ipopt.%s.get", os[i].name);
		CV(name, 0, "len=%u %s", gl, h);
		fcntl(c, F_SETFL, O_NONBLOCK);
		connect(c, sap(sin4("127.0.0.1", 41530)), sizeof(struct sockaddr_in));
		snprintf(name, sizeof(name), "tcp.ipopt.%s.connected", os[i].name);
		CV(name, 0, "revents=%#x", wait_fd(c, POLLOUT));
		fcntl(c, F_SETFL, 0);
		if (wait_fd(l, POLLIN))
			a = accept(l, NULL, NULL);
		gl = sizeof(got);
		memset(got, 0, sizeof(got));
		snprintf(name, sizeof(name), "tcp.ipopt.%s.accepted_get", os[i].name);
		errno = 0;
		m = a >= 0 ? getsockopt(a, IPPROTO_IP, IP_OPTIONS, got, &gl) : -1;
		/* the timestamps in a TS option differ from run to run: whether they are set */
		hex(h, sizeof(h), got, m == 0 ? (got[0] == IPOPT_TS ? 4 : gl) : 0);
		if (m == 0 && got[0] == IPOPT_TS && gl >= 12)
			snprintf(h + 8, sizeof(h) - 8, "+stamped=%d,%d", !!memcmp(got + 4, "\0\0\0", 4),
				 !!memcmp(got + 8, "\0\0\0", 4));
		CV(name, m, "len=%u %s", gl, h);
		geti(c, IPPROTO_TCP, TCP_MAXSEG_, &mss[0]);
		if (a >= 0)
			geti(a, IPPROTO_TCP, TCP_MAXSEG_, &mss[1]);
		snprintf(name, sizeof(name), "tcp.ipopt.%s.mss", os[i].name);
		CV(name, 0, "client=%d accepted=%d", mss[0], mss[1]);
		/* data both ways */
		if (a >= 0) {
			n = send(c, big, sizeof(big), 0);
			for (m = 0; m < n;) {
				long k = recv(a, big, sizeof(big), 0);

				if (k <= 0)
					break;
				m += k;
			}
			send(a, "back", 4, 0);
			wait_inq(c, 4);
		}
		snprintf(name, sizeof(name), "tcp.ipopt.%s.data", os[i].name);
		CV(name, n, "received=%ld back=%ld", m, recv(c, got, sizeof(got), MSG_DONTWAIT));
		/* set on a connected socket: the MSS follows at once */
		setsockopt(c, IPPROTO_IP, IP_OPTIONS, ts, sizeof(ts));
		geti(c, IPPROTO_TCP, TCP_MAXSEG_, &v);
		snprintf(name, sizeof(name), "tcp.ipopt.%s.set_connected_mss", os[i].name);
		CV(name, 0, "mss=%d", v);
		setsockopt(c, IPPROTO_IP, IP_OPTIONS, NULL, 0);
		geti(c, IPPROTO_TCP, TCP_MAXSEG_, &v);
		snprintf(name, sizeof(name), "tcp.ipopt.%s.cleared_mss", os[i].name);
		CV(name, 0, "mss=%d", v);
		close(c);
		if (a >= 0)
			close(a);
	}
	/* a source route: the first hop leaves the option (ip_options_compile() of a user
	 * option keeps it as faddr) */
	{
		int c = socket(AF_INET, SOCK_STREAM, 0);

		C("tcp.ipopt.lsrr.set", setsockopt(c, IPPROTO_IP, IP_OPTIONS, lsrr, sizeof(lsrr)));
		gl = sizeof(got);
		getsockopt(c, IPPROTO_IP, IP_OPTIONS, got, &gl);
		hex(h, sizeof(h), got, gl);
		CV("tcp.ipopt.lsrr.get", 0, "len=%u %s", gl, h);
		close(c);
	}
	/* a socket that never had a route: do_ip_setsockopt() syncs the MSS to its MTU
	 * cookie, 0 (tcp_min_snd_mss + 20 by Linux's arithmetic), and clearing does too */
	{
		int c = socket(AF_INET, SOCK_STREAM, 0), m0 = 0, m1 = 0, m2 = 0;

		geti(c, IPPROTO_TCP, TCP_MAXSEG_, &m0);
		setsockopt(c, IPPROTO_IP, IP_OPTIONS, rr, sizeof(rr));
		geti(c, IPPROTO_TCP, TCP_MAXSEG_, &m1);
		setsockopt(c, IPPROTO_IP, IP_OPTIONS, NULL, 0);
		geti(c, IPPROTO_TCP, TCP_MAXSEG_, &m2);
		CV("tcp.ipopt.unconnected_mss", 0, "before=%d set=%d cleared=%d", m0, m1, m2);
		close(c);
	}
	/* a listener's own options are not the accepted socket's (the SYN's echo is) */
	setsockopt(l, IPPROTO_IP, IP_OPTIONS, rr, sizeof(rr));
	CV("tcp.ipopt.listener_mss", geti(l, IPPROTO_TCP, TCP_MAXSEG_, &v), "mss=%d", v);
	{
		int a = -1, c = tcp_pair(l, "127.0.0.1", 41530, &a), mss = 0;

		gl = sizeof(got);
		C("tcp.ipopt.listener_opts.accepted_get", getsockopt(a, IPPROTO_IP, IP_OPTIONS, got, &gl));
		CV("tcp.ipopt.listener_opts.accepted_len", 0, "len=%u", gl);
		geti(a, IPPROTO_TCP, TCP_MAXSEG_, &mss);
		CV("tcp.ipopt.listener_opts.accepted_mss", 0, "mss=%d", mss);
		close(c);
		close(a);
	}
	close(l);
}

static void t_tcp(void)
{
	t_tcp_options();
	t_tcp_connected();
	t_tcp_no_port();
	t_tcp_icmp();
	t_tcp_ip_options();
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
#ifdef USE_IPSTACK
	g_st = ips_stack_new(NULL);
	if (!g_st) {
		fprintf(stderr, "ips_stack_new failed\n");
		return 2;
	}
#endif
	t_socket();
	t_bind();
	t_connect();
	t_io();
	t_errors();
	t_cmsg();
	t_options();
	t_raw();
	t_netdev();
	t_reuseport();
	t_cork();
	t_icmp_errors();
	t_optmem();
	t_lo_mtu();
	t_routes();
	t_tcp();
	printf("# %s: %d cases\n", BUILD, ncases);
#ifdef USE_IPSTACK
	ips_stack_free(g_st);
#endif
	return 0;
}

/* ips_udp: ipstack's datagram sockets against the kernel over a TAP device. The stack runs
 * threaded (its own thread, the real clock) and this program uses ipstack sockets the way
 * an application uses the kernel's, next to a few kernel sockets in the same namespace
 * (the kernel side of the TAP device). It prints what it observes, one `key: value` line
 * per fact; tests/interop/test_udp_sock.sh asserts on them.
 *
 * usage: ips_udp --tap IF --addr A.B.C.D/LEN --peer A.B.C.D --bcast A.B.C.D
 *                [--echo-port N] [--pcap FILE] [--stats FILE]
 * Steps (all of them, in this order):
 *   echo      ipstack client -> kernel echo server (socat) on --echo-port: 1, 8192 and
 *             65507-byte datagrams come back intact
 *   cork      MSG_MORE and UDP_CORK make one datagram for a kernel socket; UDP_SEGMENT
 *             cuts 3000 bytes into three 1000-byte datagrams
 *   bcast     sendto the subnet and the limited broadcast without SO_BROADCAST (EACCES,
 *             compared with a kernel socket doing the same), then with it (a kernel
 *             socket receives them, IP_PKTINFO shows the broadcast destination)
 *   pktinfo   a kernel socket sends to an ipstack socket (unicast and broadcast): the
 *             IP_PKTINFO / IP_RECVTTL / IP_RECVTOS cmsgs ipstack reports
 *   recverr   the kernel answers a closed port with ICMP port unreachable: ipstack's
 *             IP_RECVERR error queue entry (SO_EE_ORIGIN_ICMP, offender = the kernel),
 *             its IP_PKTINFO cmsg, SO_ERROR, and ECONNREFUSED on a connected socket
 *   raw       a raw ICMP socket sends an echo request, the kernel's reply is read with
 *             its IP header; then a ping socket (SOCK_DGRAM, IPPROTO_ICMP) does the same */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ipstack/ipstack.h"

static const char *tap, *addr_cidr, *pcap, *stats;
static struct in_addr peer, bcast, self;
static int echo_port = 7777;
static ips_stack *st;

static void usage(void)
{
	fprintf(stderr, "usage: ips_udp --tap IF --addr A.B.C.D/LEN --peer A.B.C.D --bcast A.B.C.D "
			"[--echo-port N] [--pcap FILE] [--stats FILE]\n");
	exit(2);
}

static const char *ename(int e)
{
	const char *s = strerrorname_np(e);

	return s ? s : "E?";
}

static const char *ip(struct in_addr a)
{
	static char b[4][INET_ADDRSTRLEN];
	static int i;

	i = (i + 1) % 4;
	inet_ntop(AF_INET, &a, b[i], sizeof(b[i]));
	return b[i];
}

static struct sockaddr_in sin4(struct in_addr a, int port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	s.sin_addr = a;
	return s;
}

#define SA(x) ((struct sockaddr *)&(x))

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 31u + i * 7u + (i >> 8));
}

static void ips_timeo(int s, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	ips_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void k_timeo(int s, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int ones(int s, int level, int name, int kernel)
{
	int one = 1;

	return kernel ? setsockopt(s, level, name, &one, sizeof(one))
		      : ips_setsockopt(s, level, name, &one, sizeof(one));
}

/* ---- echo: ipstack client, kernel server ---- */

static void step_echo(void)
{
	static uint8_t out[65507], in[65536];
	static const size_t sizes[] = { 1, 8192, 65507 };
	int s = ips_socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = sin4(peer, echo_port);

	ips_timeo(s, 3000);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);

		fill(out, n, (unsigned)k + 1);
		ssize_t w = ips_sendto(s, out, n, 0, SA(to), sizeof(to));
		int we = errno;
		ssize_t r = ips_recvfrom(s, in, sizeof(in), 0, SA(from), &flen);
		int re = errno;

		printf("echo %zu: sent=%zd%s%s recv=%zd%s%s from=%s:%d match=%s\n", n, w,
		       w < 0 ? " " : "", w < 0 ? ename(we) : "", r, r < 0 ? " " : "",
		       r < 0 ? ename(re) : "", r >= 0 ? ip(from.sin_addr) : "-",
		       r >= 0 ? ntohs(from.sin_port) : 0,
		       r == (ssize_t)n && memcmp(in, out, n) == 0 ? "yes" : "no");
	}
	ips_close(s);
}

/* ---- MSG_MORE / UDP_CORK and UDP_SEGMENT towards a kernel socket ---- */

static void k_arrivals(const char *tag, int k)
{
	static char buf[70000];
	char line[512];
	size_t o = 0;
	int n = 0;
	ssize_t r;

	line[0] = 0;
	while ((r = recv(k, buf, sizeof(buf), 0)) >= 0) {
		if (n < 20)
			o += (size_t)snprintf(line + o, sizeof(line) - o, "%s%zd", n ? "," : "", r);
		if (r <= 8 && o < sizeof(line) - 16)
			o += (size_t)snprintf(line + o, sizeof(line) - o, "\"%.*s\"", (int)r, buf);
		n++;
		k_timeo(k, 300);	/* the rest follow at once */
	}
	k_timeo(k, 3000);
	printf("%s: kernel got n=%d %s\n", tag, n, line);
}

static void step_cork(void)
{
	static uint8_t big[3000];
	int s = ips_socket(AF_INET, SOCK_DGRAM, 0);
	int k = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in any = sin4((struct in_addr){ htonl(INADDR_ANY) }, 7781);
	struct sockaddr_in to = sin4(peer, 7781);
	int one = 1, zero = 0, seg = 1000;

	bind(k, SA(any), sizeof(any));
	k_timeo(k, 3000);
	ips_sendto(s, "a", 1, MSG_MORE, SA(to), sizeof(to));
	ips_send(s, "b", 1, MSG_MORE);
	ips_send(s, "c", 1, 0);
	k_arrivals("cork MSG_MORE a+b+c", k);
	ips_setsockopt(s, IPPROTO_UDP, UDP_CORK, &one, sizeof(one));
	ips_sendto(s, "xy", 2, 0, SA(to), sizeof(to));
	ips_send(s, "z", 1, 0);
	ips_setsockopt(s, IPPROTO_UDP, UDP_CORK, &zero, sizeof(zero));
	k_arrivals("cork UDP_CORK xy+z", k);
	ips_setsockopt(s, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof(seg));
	fill(big, sizeof(big), 5);
	ssize_t w = ips_sendto(s, big, 3000, 0, SA(to), sizeof(to));

	printf("gso 3000/1000: sent=%zd\n", w);
	k_arrivals("gso 3000/1000", k);
	w = ips_sendto(s, big, 1000, 0, SA(to), sizeof(to));
	printf("gso 1000/1000: sent=%zd\n", w);
	k_arrivals("gso 1000/1000", k);
	close(k);
	ips_close(s);
}

/* ---- broadcast with and without SO_BROADCAST ---- */

static void recv_pktinfo_line(const char *tag, int k)
{
	char buf[256];
	union {
		struct cmsghdr a;
		char b[256];
	} ctl;
	struct sockaddr_in from;
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	ssize_t r = recvmsg(k, &m, 0);
	struct in_pktinfo pi = { 0 };

	if (r < 0) {
		printf("%s: kernel recv r=-1 %s\n", tag, ename(errno));
		return;
	}
	buf[r] = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	printf("%s: kernel got \"%s\" from=%s dst=%s\n", tag, buf, ip(from.sin_addr),
	       ip(pi.ipi_addr));
}

static void step_bcast(void)
{
	int s = ips_socket(AF_INET, SOCK_DGRAM, 0);
	int ks = socket(AF_INET, SOCK_DGRAM, 0);
	int k = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in any = sin4((struct in_addr){ htonl(INADDR_ANY) }, 7778);
	struct sockaddr_in sub = sin4(bcast, 7778);
	struct sockaddr_in lim = sin4((struct in_addr){ htonl(INADDR_BROADCAST) }, 7778);
	struct ifreq_idx {
		char name[16];
	} dev;
	ssize_t r, kr;
	int e, ke;

	snprintf(dev.name, sizeof(dev.name), "%s", tap);
	/* the kernel receiver: any address, port 7778, with IP_PKTINFO */
	ones(k, IPPROTO_IP, IP_PKTINFO, 1);
	bind(k, SA(any), sizeof(any));
	k_timeo(k, 3000);

	/* Without SO_BROADCAST: ipstack and a kernel socket (same namespace layout). */
	errno = 0;
	r = ips_sendto(s, "x", 1, 0, SA(sub), sizeof(sub));
	e = errno;
	errno = 0;
	kr = sendto(ks, "x", 1, 0, SA(sub), sizeof(sub));
	ke = errno;
	printf("bcast subnet without SO_BROADCAST: ipstack r=%zd %s, kernel r=%zd %s\n", r,
	       r < 0 ? ename(e) : "-", kr, kr < 0 ? ename(ke) : "-");
	/* The limited broadcast: bound to the TAP device (no route covers it otherwise). */
	ips_setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, dev.name, (socklen_t)strlen(dev.name) + 1);
	setsockopt(ks, SOL_SOCKET, SO_BINDTODEVICE, dev.name, (socklen_t)strlen(dev.name) + 1);
	errno = 0;
	r = ips_sendto(s, "x", 1, 0, SA(lim), sizeof(lim));
	e = errno;
	errno = 0;
	kr = sendto(ks, "x", 1, 0, SA(lim), sizeof(lim));
	ke = errno;
	printf("bcast limited without SO_BROADCAST: ipstack r=%zd %s, kernel r=%zd %s\n", r,
	       r < 0 ? ename(e) : "-", kr, kr < 0 ? ename(ke) : "-");
	close(ks);

	ones(s, SOL_SOCKET, SO_BROADCAST, 0);
	r = ips_sendto(s, "subnet", 6, 0, SA(sub), sizeof(sub));
	printf("bcast subnet with SO_BROADCAST: r=%zd%s%s\n", r, r < 0 ? " " : "",
	       r < 0 ? ename(errno) : "");
	recv_pktinfo_line("bcast subnet", k);
	r = ips_sendto(s, "limited", 7, 0, SA(lim), sizeof(lim));
	printf("bcast limited with SO_BROADCAST: r=%zd%s%s\n", r, r < 0 ? " " : "",
	       r < 0 ? ename(errno) : "");
	recv_pktinfo_line("bcast limited", k);
	close(k);
	ips_close(s);
}

/* ---- IP_PKTINFO and friends on ipstack's receive side ---- */

static void ips_recv_cmsgs(const char *tag, int s)
{
	char buf[256];
	union {
		struct cmsghdr a;
		char b[512];
	} ctl;
	struct sockaddr_in from;
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	ssize_t r = ips_recvmsg(s, &m, 0);
	struct in_pktinfo pi = { 0 };
	int ttl = -1, tos = -1;

	if (r < 0) {
		printf("%s: ipstack recv r=-1 %s\n", tag, ename(errno));
		return;
	}
	buf[r] = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != IPPROTO_IP)
			continue;
		if (c->cmsg_type == IP_PKTINFO)
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		else if (c->cmsg_type == IP_TTL)
			memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
		else if (c->cmsg_type == IP_TOS)
			tos = *(uint8_t *)CMSG_DATA(c);
	}
	printf("%s: ipstack got \"%s\" from=%s ifindex_is_tap=%s addr=%s spec_dst=%s ttl=%d tos=%#x\n",
	       tag, buf, ip(from.sin_addr),
	       pi.ipi_ifindex == ips_dev_index(st, tap) ? "yes" : "no", ip(pi.ipi_addr),
	       ip(pi.ipi_spec_dst), ttl, tos);
}

static void step_pktinfo(void)
{
	int s = ips_socket(AF_INET, SOCK_DGRAM, 0);
	int k = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in any = sin4((struct in_addr){ htonl(INADDR_ANY) }, 7780);
	struct sockaddr_in uni = sin4(self, 7780), sub = sin4(bcast, 7780);
	int tos = 0x28;

	ones(s, IPPROTO_IP, IP_PKTINFO, 0);
	ones(s, IPPROTO_IP, IP_RECVTTL, 0);
	ones(s, IPPROTO_IP, IP_RECVTOS, 0);
	ips_bind(s, SA(any), sizeof(any));
	ips_timeo(s, 3000);
	ones(k, SOL_SOCKET, SO_BROADCAST, 1);
	setsockopt(k, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	sendto(k, "unicast", 7, 0, SA(uni), sizeof(uni));
	ips_recv_cmsgs("pktinfo unicast", s);
	sendto(k, "broadcast", 9, 0, SA(sub), sizeof(sub));
	ips_recv_cmsgs("pktinfo broadcast", s);
	close(k);
	ips_close(s);
}

/* ---- IP_RECVERR with a kernel-originated ICMP error ---- */

static void step_recverr(void)
{
	int s = ips_socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = sin4(peer, 7779);	/* nothing listens there */
	struct pollfd pf = { s, POLLERR, 0 };
	char buf[64];
	union {
		struct cmsghdr a;
		char b[512];
	} ctl;
	struct sockaddr_in name;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_name = &name, .msg_namelen = sizeof(name), .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };

	ones(s, IPPROTO_IP, IP_RECVERR, 0);
	ones(s, IPPROTO_IP, IP_PKTINFO, 0);
	ssize_t w = ips_sendto(s, "probe", 5, 0, SA(to), sizeof(to));
	int n = ips_poll(&pf, 1, 3000);

	printf("recverr: sent=%zd poll=%d revents=%s\n", w, n,
	       pf.revents & POLLERR ? "POLLERR" : "-");
	memset(&name, 0, sizeof(name));
	ssize_t r = ips_recvmsg(s, &m, MSG_ERRQUEUE);

	if (r < 0) {
		printf("recverr: errqueue r=-1 %s\n", ename(errno));
	} else {
		struct sock_extended_err ee = { 0 };
		struct sockaddr_in off = { 0 };
		struct in_pktinfo pi = { 0 };
		int have_pi = 0;

		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) {
				memcpy(&ee, CMSG_DATA(c), sizeof(ee));
				memcpy(&off, SO_EE_OFFENDER((struct sock_extended_err *)CMSG_DATA(c)),
				       sizeof(off));
			} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				have_pi = 1;
			}
		}
		printf("recverr: errqueue r=%zd payload=\"%.*s\" flags=%s name=%s:%d\n", r, (int)r,
		       buf, m.msg_flags & MSG_ERRQUEUE ? "MSG_ERRQUEUE" : "-", ip(name.sin_addr),
		       ntohs(name.sin_port));
		printf("recverr: ee_errno=%s origin=%s type=%u code=%u info=%u offender=%s\n",
		       ename((int)ee.ee_errno),
		       ee.ee_origin == SO_EE_ORIGIN_ICMP ? "SO_EE_ORIGIN_ICMP" : "other",
		       ee.ee_type, ee.ee_code, ee.ee_info, ip(off.sin_addr));
		printf("recverr: pktinfo=%s ifindex_is_tap=%s addr=%s\n", have_pi ? "yes" : "no",
		       pi.ipi_ifindex == ips_dev_index(st, tap) ? "yes" : "no", ip(pi.ipi_addr));
	}
	int err = 0;
	socklen_t elen = sizeof(err);

	ips_getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &elen);
	printf("recverr: so_error=%s\n", err ? ename(err) : "0");
	r = ips_recvmsg(s, &m, MSG_ERRQUEUE | MSG_DONTWAIT);
	printf("recverr: errqueue again r=%zd %s\n", r, r < 0 ? ename(errno) : "");
	ips_close(s);

	/* A connected socket without IP_RECVERR: the next call reports ECONNREFUSED. */
	s = ips_socket(AF_INET, SOCK_DGRAM, 0);
	ips_connect(s, SA(to), sizeof(to));
	ips_send(s, "probe", 5, 0);
	pf = (struct pollfd){ s, POLLIN, 0 };
	n = ips_poll(&pf, 1, 3000);
	errno = 0;
	r = ips_recv(s, buf, sizeof(buf), MSG_DONTWAIT);
	printf("refused: poll=%d revents=%s recv r=%zd %s\n", n,
	       pf.revents & POLLERR ? "POLLERR" : "-", r, r < 0 ? ename(errno) : "");
	ips_close(s);
}

/* ---- raw ICMP echo, then a ping socket ---- */

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static size_t echo_build(uint8_t *b, uint16_t id, uint16_t seq, size_t payload)
{
	b[0] = ICMP_ECHO;
	b[1] = 0;
	b[2] = b[3] = 0;
	b[4] = (uint8_t)(id >> 8);
	b[5] = (uint8_t)id;
	b[6] = (uint8_t)(seq >> 8);
	b[7] = (uint8_t)seq;
	fill(b + 8, payload, seq);
	uint16_t c = csum(b, 8 + payload);

	b[2] = (uint8_t)(c >> 8);
	b[3] = (uint8_t)c;
	return 8 + payload;
}

static void step_raw(void)
{
	uint8_t req[128], in[2048], want[56];
	int s = ips_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	struct sockaddr_in to = sin4(peer, 0), from;
	socklen_t flen = sizeof(from);
	size_t n = echo_build(req, 0x4242, 7, 56);

	ips_timeo(s, 3000);
	fill(want, 56, 7);
	ssize_t w = ips_sendto(s, req, n, 0, SA(to), sizeof(to));

	printf("raw: sent=%zd\n", w);
	for (;;) {
		ssize_t r = ips_recvfrom(s, in, sizeof(in), 0, SA(from), &flen);

		if (r < 0) {
			printf("raw: recv r=-1 %s\n", ename(errno));
			break;
		}
		size_t ihl = (size_t)(in[0] & 0xf) * 4;

		if (r < (ssize_t)(ihl + 8) || in[ihl] != ICMP_ECHOREPLY)
			continue;	/* not the reply (raw sockets see every ICMP message) */
		const uint8_t *ic = in + ihl;

		printf("raw: reply r=%zd from=%s ip_version=%d proto=%d type=%u code=%u id=%#x "
		       "seq=%u payload=%s csum_ok=%s\n",
		       r, ip(from.sin_addr), in[0] >> 4, in[9], ic[0], ic[1], ic[4] << 8 | ic[5],
		       ic[6] << 8 | ic[7],
		       (size_t)r == ihl + 64 && memcmp(ic + 8, want, 56) == 0 ? "match" : "differs",
		       csum(ic, (size_t)r - ihl) == 0 ? "yes" : "no");
		break;
	}
	ips_close(s);

	/* A ping socket: allowed once ping_group_range covers our gid (0). */
	s = ips_socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	printf("ping: socket before range r=%d %s\n", s, s < 0 ? ename(errno) : "");
	if (s >= 0)
		ips_close(s);
	ips_sysctl_set(st, "net.ipv4.ping_group_range", "0 0");
	s = ips_socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	ips_timeo(s, 3000);
	n = echo_build(req, 0, 9, 56);
	w = ips_sendto(s, req, n, 0, SA(to), sizeof(to));
	struct sockaddr_in me;
	socklen_t mlen = sizeof(me);

	ips_getsockname(s, SA(me), &mlen);
	fill(want, 56, 9);
	ssize_t r = ips_recvfrom(s, in, sizeof(in), 0, SA(from), &flen);

	if (r < 0)
		printf("ping: sent=%zd recv r=-1 %s\n", w, ename(errno));
	else
		printf("ping: sent=%zd reply r=%zd from=%s type=%u id_is_port=%s seq=%u payload=%s\n",
		       w, r, ip(from.sin_addr), in[0],
		       (in[4] << 8 | in[5]) == ntohs(me.sin_port) ? "yes" : "no", in[6] << 8 | in[7],
		       r == 64 && memcmp(in + 8, want, 56) == 0 ? "match" : "differs");
	ips_close(s);
}

static int stats_line(void *arg, const char *name, uint64_t value)
{
	fprintf(arg, "%s %llu\n", name, (unsigned long long)value);
	return 0;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		i++;
		if (!strcmp(o, "--tap"))
			tap = v;
		else if (!strcmp(o, "--addr"))
			addr_cidr = v;
		else if (!strcmp(o, "--peer"))
			inet_pton(AF_INET, v, &peer);
		else if (!strcmp(o, "--bcast"))
			inet_pton(AF_INET, v, &bcast);
		else if (!strcmp(o, "--echo-port"))
			echo_port = atoi(v);
		else if (!strcmp(o, "--pcap"))
			pcap = v;
		else if (!strcmp(o, "--stats"))
			stats = v;
		else
			usage();
	}
	if (!tap || !addr_cidr || !peer.s_addr || !bcast.s_addr)
		usage();
	char a[32];

	snprintf(a, sizeof(a), "%s", addr_cidr);
	*strchrnul(a, '/') = 0;
	inet_pton(AF_INET, a, &self);
	setvbuf(stdout, NULL, _IOLBF, 0);

	struct ips_stack_config cfg = { .mode = IPS_MODE_THREADED, .name = "ips_udp" };
	int rc;

	st = ips_stack_new(&cfg);
	if (!st) {
		fprintf(stderr, "ips_udp: cannot create a stack\n");
		return 1;
	}
	if ((rc = ips_tap_attach(st, tap)) < 0 || (pcap && (rc = ips_dev_set_pcap(st, tap, pcap)) < 0) ||
	    (rc = ips_dev_set_up(st, tap, 1)) < 0 || (rc = ips_addr_add(st, tap, addr_cidr)) < 0) {
		fprintf(stderr, "ips_udp: %s: %s\n", tap, strerror(-rc));
		return 1;
	}
	step_echo();
	step_cork();
	step_bcast();
	step_pktinfo();
	step_recverr();
	step_raw();
	if (stats) {
		FILE *f = fopen(stats, "w");

		if (f) {
			ips_counter_foreach(st, stats_line, f);
			fclose(f);
		}
	}
	if (pcap)
		ips_dev_set_pcap(st, tap, NULL);
	ips_stack_free(st);
	return 0;
}

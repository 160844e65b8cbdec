/* Shared machinery of the stack-level harnesses (fuzz_stack_*.c): a simulated world with
 * one stack, two devices whose far end is the harness, a few sockets, and a small script
 * language in which the fuzz input is written.
 *
 * The devices are registered with the internal netdev API (netdev_register() with our
 * own ops): frames from the input go straight to netdev_rx(), and every frame the stack
 * transmits comes to fz_xmit(), which checks it is well formed and frees it. Nothing is
 * looped back: the harness is the whole outside world.
 *
 * Input = one config byte, then records. A record starts with an op byte:
 *     kind = op & 7, arg = op >> 3
 *   0, 6  frame, as is            dev = arg & 1; then len (2 bytes, big-endian) and the
 *   1, 7  frame, fixed up         bytes (len is cut to what is left); "fixed up" makes
 *                                 the harness repair what a fuzzer cannot (checksums;
 *                                 with arg & 2 also the IPv4 total length), see
 *                                 fz_fix_ipv4(); each harness frames the bytes itself
 *   2     advance time by N ms    N: 2 bytes, big-endian
 *   3     advance time by arg * 100 ms
 *   4     action arg              fz_action(): send a datagram or a ping (next hop
 *                                 resolution, output, fragmentation), sysctl writes,
 *                                 device down/up, MTU, static neighbours, addresses,
 *                                 routes, impairments, draining the sockets
 *   5     repeat the last frame arg + 1 times
 * After the last record: drain and close the sockets, run the world for FZ_SETTLE_S
 * seconds (every reassembly queue times out, every unresolved neighbour fails), require
 * that the stack holds no packet buffer (ips_stack_pkb_outstanding() == 0; abort()
 * otherwise), and free the world. libFuzzer's leak check covers every other allocation.
 *
 * Config byte bits: 0 ip_forward, 1 rp_filter=1 (all), 2 accept_source_route (all),
 * 3 arp_accept=1 (all), 4 proxy_arp on dev 0, 5 accept_local (all), 6 icmp_ratelimit=0,
 * 7 ipfrag_high_thresh=8192 (memory pressure on reassembly). */
#ifndef IPS_FUZZ_STACK_H
#define IPS_FUZZ_STACK_H

#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_common.h"
#include "ipstack/ipstack.h"
#include "core/csum.h"
#include "core/stack.h"
#include "ip/icmp.h"
#include "ip/ip.h"
#include "link/link.h"
#include "link/link_priv.h"
#include "link/netdev.h"
#include "wire/ipv4.h"
#include "wire/wire.h"

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif

#define FZ_SEED		1		/* world seed: every run of an input is the same */
#define FZ_SETTLE_S	900		/* > ipfrag_time (30 s), neighbour failure (3 s),
					 * orphaned TCP retransmissions and TIME_WAIT */
#define FZ_MAX_ADVANCE_S 600		/* virtual time an input may spend in steps */
#define FZ_MAX_FRAME	65535
#define FZ_NSOCK	13

struct fz;

/* What a harness plugs in. */
struct fz_harness {
	const char *dev_name[2];
	enum netdev_type dev_type;
	/* Turn the input bytes of a frame record into a frame for dev (buf has room for
	 * FZ_MAX_FRAME + 64 bytes; returns the frame length, or 0 to skip). */
	size_t (*build)(struct fz *f, int dev, bool fix, unsigned arg, const uint8_t *in, size_t len,
			uint8_t *buf);
	/* Addresses, routes and sysctls after the devices exist (returns < 0 on failure). */
	int (*setup)(struct fz *f);
};

struct fz {
	const struct fz_harness *h;
	ips_world *w;
	ips_stack *st;
	struct netdev *dev[2];
	uint32_t max_mtu_seen[2];	/* frames queued before an MTU cut may still leave */
	int sock[FZ_NSOCK];
	uint8_t *frame;			/* the last frame, for repeats */
	size_t frame_len;
	int frame_dev;
	uint64_t advanced_ms;
	uint64_t tx_frames;
	bool lax;			/* a forwarded packet may carry a local source */
	struct {			/* the last TCP segment sent, for the answer action */
		bool valid;
		int dev;
		uint32_t saddr, daddr, seq, ack;
		uint16_t sport, dport;
		uint8_t flags;
		uint32_t len;		/* payload bytes */
	} tcp;
};

/* The fixed addresses the corpus is written against. */
static const uint8_t fz_mac[2][6] = {
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 },
};
static const uint8_t fz_peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0xa1 };

static inline uint32_t fz_a(const char *dotted)
{
	struct in_addr a = { 0 };

	inet_pton(AF_INET, dotted, &a);
	return a.s_addr;
}

/* ---- Checksums the fuzzer cannot compute ---- */

static inline void fz_l4_fix(uint8_t *ip, size_t hl, size_t tot)
{
	uint8_t proto = ip[9];
	uint8_t *l4 = ip + hl;
	size_t n = tot - hl;
	uint32_t saddr, daddr;
	uint32_t sum;

	memcpy(&saddr, ip + 12, 4);
	memcpy(&daddr, ip + 16, 4);
	switch (proto) {
	case IPPROTO_ICMP:
	case IPPROTO_IGMP:
		if (n < 4)
			return;
		put_be16(l4 + 2, 0);
		put_be16(l4 + 2, ips_csum_fold(ips_csum_add(0, l4, n)));
		return;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE: {
		size_t ulen, cov;

		if (n < 8)
			return;
		ulen = get_be16(l4 + 4);
		if (proto == IPPROTO_UDP) {
			if (get_be16(l4 + 6) == 0)
				return;		/* no checksum is a path of its own */
			if (ulen < 8 || ulen > n)
				return;
			cov = ulen;
		} else {
			/* UDP-Lite: the length field is the checksum coverage (0 = all). */
			cov = ulen == 0 ? n : ulen;
			if (cov < 8 || cov > n)
				return;
			ulen = n;
		}
		put_be16(l4 + 6, 0);
		sum = ips_csum_pseudo(saddr, daddr, proto, (uint16_t)ulen);
		uint16_t c = ips_csum_fold(ips_csum_add(sum, l4, cov));

		put_be16(l4 + 6, c ? c : 0xffff);
		return;
	}
	case IPPROTO_TCP:
		if (n < 20)
			return;
		put_be16(l4 + 16, 0);
		sum = ips_csum_pseudo(saddr, daddr, proto, (uint16_t)n);
		put_be16(l4 + 16, ips_csum_fold(ips_csum_add(sum, l4, n)));
		return;
	default:
		return;
	}
}

/* Repair an IPv4 packet at ip[0..len): with fix_len the total length becomes len; the
 * header checksum is recomputed; an unfragmented packet gets its ICMP/IGMP/UDP/UDP-Lite/
 * TCP checksum recomputed over what tot_len covers. Fragments keep their transport
 * checksum (the corpus carries fragment trains with a right one). */
static inline void fz_fix_ipv4(uint8_t *ip, size_t len, bool fix_len)
{
	size_t hl, tot;

	if (len < 20 || (ip[0] >> 4) != 4)
		return;
	hl = (size_t)(ip[0] & 0xf) * 4;
	if (hl < 20 || hl > len)
		return;
	if (fix_len)
		put_be16(ip + 2, (uint16_t)(len > 65535 ? 65535 : len));
	tot = get_be16(ip + 2);
	if (tot >= hl && tot <= len && (get_be16(ip + 6) & (WIRE_IPV4_MF | WIRE_IPV4_OFFMASK)) == 0)
		fz_l4_fix(ip, hl, tot);
	put_be16(ip + 10, wire_ipv4_csum(ip, hl));
}

/* ---- The devices: the harness is their wire ---- */

/* FZ_TRACE=1 in the environment: print every frame sent (for writing seeds). */
static inline bool fz_trace(void)
{
	static int on = -1;

	if (on < 0)
		on = getenv("FZ_TRACE") != NULL;
	return on;
}

static inline bool fz_icmp_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* A packet from one of our addresses was made here (forwarding such a source needs
 * accept_local/route_localnet, or an address added while a forwarded packet waited:
 * f->lax covers those): its transport checksum is right, and an ICMP error obeys
 * RFC 1122 3.2.2 / RFC 1812 4.3.2.3 as Linux's icmp_send() does: at most 576 bytes,
 * never to a multicast or limited-broadcast address (unless a source route says so),
 * never about an ICMP error or a fragment other than the first. */
static inline void fz_check_local_out(const uint8_t *ip, const struct wire_ipv4 *h)
{
	const uint8_t *l4 = ip + h->hdr_len;
	size_t n = h->tot_len - h->hdr_len;
	uint32_t daddr = ntohl(h->daddr);

	if (h->mf || h->frag_off)
		return;
	if (h->proto == IPPROTO_ICMP && n >= 8) {
		CHECK(ips_csum_fold(ips_csum_add(0, l4, n)) == 0);
		if (fz_icmp_is_error(l4[0]) && l4[0] != 5) {
			const uint8_t *in = l4 + 8;
			size_t in_len = n - 8;

			CHECK(h->tot_len <= 576);
			/* With options the destination may be the first hop of the echoed
			 * source route, which Linux takes from the packet unchecked (even a
			 * multicast address: __ip_options_echo(), icmp_route_lookup()). */
			if (h->hdr_len == 20)
				CHECK((daddr >> 28) != 0xe && daddr != 0xffffffff);
			if (in_len >= 20) {
				size_t ihl = (size_t)(in[0] & 15) * 4;

				CHECK((get_be16(in + 6) & WIRE_IPV4_OFFMASK) == 0);
				if (in[9] == IPPROTO_ICMP && ihl >= 20 && in_len > ihl)
					CHECK(!fz_icmp_is_error(in[ihl]));
			}
		}
	} else if (h->proto == IPPROTO_UDP && n >= 8 && get_be16(l4 + 6) != 0 &&
		   get_be16(l4 + 4) == n) {
		uint32_t sum = ips_csum_pseudo(h->saddr, h->daddr, IPPROTO_UDP, (uint16_t)n);

		CHECK(ips_csum_fold(ips_csum_add(sum, l4, n)) == 0);
	}
}

/* A transmitted IPv4 packet must be well formed: the stack never emits a bad header
 * checksum, a length that disagrees with the frame, or a packet over the MTU (the
 * largest the device had during the input: packets queued for resolution before an MTU
 * cut still leave, as in Linux). */
static inline void fz_check_ipv4_out(struct fz *f, int d, const uint8_t *ip, size_t len)
{
	struct wire_ipv4 h;

	CHECK(wire_ipv4_parse(ip, len, &h) == 0);
	CHECK(wire_ipv4_csum_ok(ip, h.hdr_len));
	CHECK(h.tot_len >= h.hdr_len);
	CHECK(h.tot_len <= len);
	CHECK(h.tot_len <= f->max_mtu_seen[d]);
	/* Not checked: offset + length <= 65535. A router forwards fragments as they came,
	 * and so does Linux (only reassembly refuses oversized datagrams). */
	if (!f->lax && ip4_local_dev(f->st, h.saddr))
		fz_check_local_out(ip, &h);
	if (h.proto == IPPROTO_TCP && !h.mf && !h.frag_off && h.tot_len - h.hdr_len >= 20) {
		const uint8_t *th = ip + h.hdr_len;
		size_t doff = (size_t)(th[12] >> 4) * 4;

		f->tcp.valid = true;
		f->tcp.dev = d;
		f->tcp.saddr = h.saddr;
		f->tcp.daddr = h.daddr;
		f->tcp.sport = get_be16(th);
		f->tcp.dport = get_be16(th + 2);
		f->tcp.seq = get_be32(th + 4);
		f->tcp.ack = get_be32(th + 8);
		f->tcp.flags = th[13];
		f->tcp.len = h.tot_len - h.hdr_len > doff ? (uint32_t)(h.tot_len - h.hdr_len - doff) : 0;
	}
}

static int fz_xmit(struct netdev *dev, struct pkb *pkb)
{
	struct fz *f = dev->priv;
	int d = dev == f->dev[0] ? 0 : 1;
	const uint8_t *p = pkb->data;
	size_t len = pkb->len;

	f->tx_frames++;
	if (fz_trace()) {
		fprintf(stderr, "tx %s %4zu:", dev->name, len);
		for (size_t i = 0; i < len && i < 64; i++)
			fprintf(stderr, "%s%02x", i % 4 ? "" : " ", p[i]);
		fprintf(stderr, "\n");
	}
	if (dev->type == NETDEV_ETHER) {
		CHECK(len >= 14);
		CHECK(memcmp(p + 6, dev->hwaddr, 6) == 0);
		CHECK(len - 14 <= f->max_mtu_seen[d]);
		switch (get_be16(p + 12)) {
		case 0x0800:
			fz_check_ipv4_out(f, d, p + 14, len - 14);
			break;
		case 0x0806:
			CHECK(len >= 14 + 28);
			break;
		default:
			CHECK(!"unexpected EtherType sent");
		}
	} else {
		CHECK(len <= f->max_mtu_seen[d]);
		fz_check_ipv4_out(f, d, p, len);
	}
	pkb_free(pkb);
	return 0;
}

static const struct netdev_ops fz_dev_ops = {
	.xmit = fz_xmit,
};

static inline void fz_sysctl(struct fz *f, const char *name, const char *value)
{
	ips_sysctl_set(f->st, name, value);
}

/* ---- Sockets: the transports' input paths end here ---- */

static inline struct sockaddr_in fz_sin(uint32_t addr, uint16_t port)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_port = htons(port);
	s.sin_addr.s_addr = addr;
	return s;
}

static inline int fz_udp(int proto, uint32_t addr, uint16_t port)
{
	int s = ips_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, proto);
	struct sockaddr_in a = fz_sin(addr, port);
	int one = 1;

	if (s < 0)
		return -1;
	ips_setsockopt(s, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	ips_setsockopt(s, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	ips_setsockopt(s, IPPROTO_IP, IP_RECVOPTS, &one, sizeof(one));
	ips_setsockopt(s, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	ips_setsockopt(s, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one));
	if (port && ips_bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		ips_close(s);
		return -1;
	}
	return s;
}

/* The sockets every harness has (ports the corpus aims at):
 *   0  UDP *:7 with IP_RECVERR and every IP_RECV* cmsg
 *   1  UDP <local0>:53
 *   2  UDP 0.0.0.0:5000 connected to <peer0>:9 (ICMP errors come back to it)
 *   3  UDP-Lite *:8
 *   4  raw IPPROTO_ICMP (sees every ICMP message)
 *   5  raw protocol 253
 *   6  UDP *:5353 in group 224.0.0.251 on dev 0 (SO_REUSEADDR)
 *   7  TCP listener *:80 once TCP sockets exist (harmless -1 before)
 *   8  UDP *:5353 too, in the group on any device (multicast fan-out to two sockets)
 *   9  UDP *:6000 SO_REUSEPORT, 10 the same (a reuseport group), with a 2 KB SO_RCVBUF
 *  11  UDP-Lite *:9 with UDPLITE_RECV_CSCOV 20
 *  12  ping socket (SOCK_DGRAM, IPPROTO_ICMP) with identifier 0x4242 */
static inline int fz_udp_reuse(int proto, uint16_t port, int opt)
{
	int s = ips_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, proto);
	struct sockaddr_in a = fz_sin(0, port);
	int one = 1;

	if (s < 0)
		return -1;
	ips_setsockopt(s, SOL_SOCKET, opt, &one, sizeof(one));
	ips_setsockopt(s, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	if (ips_bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		ips_close(s);
		return -1;
	}
	return s;
}

static inline void fz_join(int s, const char *group, int ifindex)
{
	struct ip_mreqn mr;

	if (s < 0)
		return;
	memset(&mr, 0, sizeof(mr));
	mr.imr_multiaddr.s_addr = fz_a(group);
	mr.imr_ifindex = ifindex;
	ips_setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr));
}

static inline void fz_sockets_open(struct fz *f, uint32_t local0, uint32_t peer0)
{
	struct sockaddr_in a;
	int one = 1, small = 2048, cov = 20;

	for (int i = 0; i < FZ_NSOCK; i++)
		f->sock[i] = -1;
	ips_stack_enter(f->st);
	f->sock[0] = fz_udp(0, 0, 7);
	f->sock[1] = fz_udp(0, local0, 53);
	f->sock[2] = fz_udp(0, 0, 5000);
	if (f->sock[2] >= 0) {
		a = fz_sin(peer0, 9);
		ips_connect(f->sock[2], (struct sockaddr *)&a, sizeof(a));
	}
	f->sock[3] = fz_udp(IPPROTO_UDPLITE, 0, 8);
	f->sock[4] = ips_socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_ICMP);
	if (f->sock[4] >= 0)
		ips_setsockopt(f->sock[4], IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	f->sock[5] = ips_socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, 253);
	f->sock[6] = fz_udp_reuse(0, 5353, SO_REUSEADDR);
	fz_join(f->sock[6], "224.0.0.251", f->dev[0]->ifindex);
	f->sock[7] = ips_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (f->sock[7] >= 0) {
		a = fz_sin(0, 80);
		if (ips_bind(f->sock[7], (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    ips_listen(f->sock[7], 4) < 0) {
			ips_close(f->sock[7]);
			f->sock[7] = -1;
		}
	}
	f->sock[8] = fz_udp_reuse(0, 5353, SO_REUSEADDR);
	fz_join(f->sock[8], "224.0.0.251", 0);
	f->sock[9] = fz_udp_reuse(0, 6000, SO_REUSEPORT);
	f->sock[10] = fz_udp_reuse(0, 6000, SO_REUSEPORT);
	if (f->sock[10] >= 0)
		ips_setsockopt(f->sock[10], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	f->sock[11] = fz_udp(IPPROTO_UDPLITE, 0, 9);
	if (f->sock[11] >= 0)
		ips_setsockopt(f->sock[11], IPPROTO_UDPLITE, 11 /* UDPLITE_RECV_CSCOV */, &cov,
			       sizeof(cov));
	fz_sysctl(f, "net.ipv4.ping_group_range", "0 0");
	f->sock[12] = ips_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_ICMP);
	if (f->sock[12] >= 0) {
		a = fz_sin(0, 0x4242);
		ips_setsockopt(f->sock[12], IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
		ips_bind(f->sock[12], (struct sockaddr *)&a, sizeof(a));
	}
}

/* Read everything queued: data with its control messages, then the error queue; accept
 * and close what a listener holds. */
static inline void fz_sockets_drain(struct fz *f)
{
	uint8_t buf[2048], ctl[512];
	struct sockaddr_in from;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m;

	for (int i = 0; i < FZ_NSOCK; i++) {
		int s = f->sock[i];

		if (s < 0)
			continue;
		if (i == 7) {
			int c;

			while ((c = ips_accept4(s, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
				ips_recv(c, buf, sizeof(buf), MSG_DONTWAIT);
				ips_close(c);
			}
			continue;
		}
		for (int flags = 0; flags <= MSG_ERRQUEUE; flags += MSG_ERRQUEUE) {
			for (int n = 0; n < 4096; n++) {
				memset(&m, 0, sizeof(m));
				m.msg_name = &from;
				m.msg_namelen = sizeof(from);
				m.msg_iov = &iov;
				m.msg_iovlen = 1;
				m.msg_control = ctl;
				m.msg_controllen = sizeof(ctl);
				if (ips_recvmsg(s, &m, flags | MSG_DONTWAIT) < 0)
					break;
			}
		}
	}
}

static inline void fz_sockets_close(struct fz *f)
{
	for (int i = 0; i < FZ_NSOCK; i++) {
		if (f->sock[i] >= 0)
			ips_close(f->sock[i]);
		f->sock[i] = -1;
	}
	ips_stack_enter(NULL);
}

/* ---- The world ---- */

static inline void fz_run_ms(struct fz *f, uint64_t ms)
{
	ips_world_run_for(f->w, ms * 1000000ull);
}

static inline int fz_world_new(struct fz *f, const struct fz_harness *h, uint8_t config)
{
	unsigned flags = h->dev_type == NETDEV_ETHER ?
				 IFF_BROADCAST | IFF_MULTICAST | IFF_UP | IFF_RUNNING :
				 IFF_POINTOPOINT | IFF_NOARP | IFF_MULTICAST | IFF_UP | IFF_RUNNING;
	int err = 0;

	memset(f, 0, sizeof(*f));
	f->h = h;
	f->w = ips_world_new(FZ_SEED);
	f->st = f->w ? ips_world_add_stack(f->w, "fz") : NULL;
	CHECK(f->st);
	f->frame = malloc(FZ_MAX_FRAME + 64);
	CHECK(f->frame);
	stack_lock(f->st);
	for (int d = 0; d < 2; d++) {
		f->dev[d] = netdev_register(f->st, h->dev_name[d], h->dev_type, flags, 1500,
					    &fz_dev_ops, f, &err);
		CHECK(f->dev[d]);
		memcpy(f->dev[d]->hwaddr, fz_mac[d], 6);
		f->max_mtu_seen[d] = 1500;
	}
	stack_unlock(f->st);
	if (config & 0x01)
		fz_sysctl(f, "net.ipv4.ip_forward", "1");
	if (config & 0x02)
		fz_sysctl(f, "net.ipv4.conf.all.rp_filter", "1");
	if (config & 0x04)
		fz_sysctl(f, "net.ipv4.conf.all.accept_source_route", "1");
	if (config & 0x08)
		fz_sysctl(f, "net.ipv4.conf.all.arp_accept", "1");
	if (config & 0x10) {
		char name[64];

		snprintf(name, sizeof(name), "net.ipv4.conf.%s.proxy_arp", h->dev_name[0]);
		fz_sysctl(f, name, "1");
	}
	if (config & 0x20) {
		fz_sysctl(f, "net.ipv4.conf.all.accept_local", "1");
		f->lax = true;
	}
	if (config & 0x40)
		fz_sysctl(f, "net.ipv4.icmp_ratelimit", "0");
	if (config & 0x80) {
		fz_sysctl(f, "net.ipv4.ipfrag_low_thresh", "4096");
		fz_sysctl(f, "net.ipv4.ipfrag_high_thresh", "8192");
	}
	return h->setup(f);
}

/* Everything the stack still holds must go once time has passed: reassembly queues
 * time out, unresolved neighbours fail, sockets are closed. A buffer left over is a
 * leak: abort. */
static int fz_print_counter(void *arg, const char *name, uint64_t value)
{
	if (value)
		fprintf(stderr, "  %s %llu\n", name, (unsigned long long)value);
	return 0;
}

/* The neighbour tables agree with the stack-wide count, every entry is in exactly one
 * NUD state, and no entry that can no longer send holds packets. */
static int fz_neigh_cb(void *arg, const struct neigh_info *ni)
{
	static const uint8_t states = NUD_INCOMPLETE | NUD_REACHABLE | NUD_STALE | NUD_DELAY |
				      NUD_PROBE | NUD_FAILED | NUD_NOARP | NUD_PERMANENT;

	CHECK(ni->state && (ni->state & (ni->state - 1)) == 0);	/* one bit */
	CHECK((ni->state & ~states) == 0);
	/* a failed entry handed its queue to ip4_link_failure(); a valid static one sent it */
	CHECK(ni->queued == 0 || !(ni->state & (NUD_FAILED | NUD_NOARP | NUD_PERMANENT)));
	(*(unsigned *)arg)++;
	return 0;
}

static inline void fz_check_neigh(struct fz *f)
{
	unsigned n = 0;

	stack_lock(f->st);
	neigh_foreach(f->st, fz_neigh_cb, &n);
	CHECK(n == link_state(f->st)->neigh_entries);
	stack_unlock(f->st);
}

static inline void fz_world_free(struct fz *f)
{
	fz_check_neigh(f);
	if (fz_trace())
		ips_counter_foreach(f->st, fz_print_counter, NULL);
	fz_sockets_drain(f);
	fz_sockets_close(f);
	fz_run_ms(f, FZ_SETTLE_S * 1000ull);
	fz_check_neigh(f);
	/* every reassembly queue timed out, and its memory was given back */
	CHECK(ipfrag_queues(f->st) == 0);
	CHECK(ipfrag_mem(f->st) == 0);
	long left = ips_stack_pkb_outstanding(f->st);

	if (left != 0) {
		fprintf(stderr, "fuzz_stack: %ld packet buffers outstanding after %d s\n", left,
			FZ_SETTLE_S);
		abort();
	}
	ips_world_free(f->w);
	free(f->frame);
}

/* ---- Records ---- */

static inline void fz_rx(struct fz *f, int d, const uint8_t *frame, size_t len)
{
	struct pkb *p;

	if (len == 0)
		return;
	if (fz_trace())
		fprintf(stderr, "rx %s %4zu\n", f->dev[d]->name, len);
	p = stack_pkb_alloc(f->st, len);
	if (!p)
		return;
	memcpy(pkb_put(p, len), frame, len);
	stack_lock(f->st);
	netdev_rx(f->dev[d], p);
	CHECK(ipfrag_mem(f->st) >= 0);
	CHECK(ipfrag_mem(f->st) == 0 || ipfrag_queues(f->st) > 0);
	stack_unlock(f->st);
	fz_run_ms(f, 0);	/* what the frame queued on lo etc. */
}

/* Values a sysctl action may write: bounded so that FZ_SETTLE_S still drains the stack
 * (ipfrag_time, proxy_delay). */
static const struct {
	const char *name;	/* "%s" is dev 0's name */
	const char *values[6];
} fz_sysctls[] = {
	{ "net.ipv4.ip_forward", { "0", "1" } },
	{ "net.ipv4.conf.all.rp_filter", { "0", "1", "2" } },
	{ "net.ipv4.conf.all.accept_source_route", { "0", "1" } },
	{ "net.ipv4.conf.all.accept_local", { "0", "1" } },
	{ "net.ipv4.conf.all.route_localnet", { "0", "1" } },
	{ "net.ipv4.conf.all.arp_accept", { "0", "1", "2" } },
	{ "net.ipv4.conf.all.arp_ignore", { "0", "1", "2", "8", "3", "4" } },
	{ "net.ipv4.conf.all.arp_filter", { "0", "1" } },
	{ "net.ipv4.conf.all.arp_announce", { "0", "1", "2" } },
	{ "net.ipv4.conf.all.arp_notify", { "0", "1" } },
	{ "net.ipv4.conf.%s.proxy_arp", { "0", "1" } },
	{ "net.ipv4.conf.%s.proxy_arp_pvlan", { "0", "1" } },
	{ "net.ipv4.conf.all.drop_gratuitous_arp", { "0", "1" } },
	{ "net.ipv4.conf.all.accept_redirects", { "0", "1" } },
	{ "net.ipv4.conf.all.secure_redirects", { "0", "1" } },
	{ "net.ipv4.conf.all.send_redirects", { "0", "1" } },
	{ "net.ipv4.conf.all.bc_forwarding", { "0", "1" } },
	{ "net.ipv4.conf.%s.forwarding", { "0", "1" } },
	{ "net.ipv4.conf.all.drop_unicast_in_l2_multicast", { "0", "1" } },
	{ "net.ipv4.icmp_echo_ignore_broadcasts", { "0", "1" } },
	{ "net.ipv4.icmp_echo_ignore_all", { "0", "1" } },
	{ "net.ipv4.icmp_ignore_bogus_error_responses", { "0", "1" } },
	{ "net.ipv4.icmp_errors_use_inbound_ifaddr", { "0", "1" } },
	{ "net.ipv4.icmp_ratelimit", { "0", "1000", "250" } },
	{ "net.ipv4.icmp_ratemask", { "0", "6168", "65535" } },
	{ "net.ipv4.icmp_msgs_per_sec", { "0", "1", "1000" } },
	{ "net.ipv4.icmp_msgs_burst", { "0", "1", "50" } },
	{ "net.ipv4.icmp_echo_enable_probe", { "0", "1" } },
	{ "net.ipv4.ipfrag_max_dist", { "0", "2", "64" } },
	{ "net.ipv4.ipfrag_time", { "1", "5", "30" } },
	{ "net.ipv4.ipfrag_high_thresh", { "4194304", "8192", "2000" } },
	{ "net.ipv4.ipfrag_low_thresh", { "3145728", "4096", "1000" } },
	{ "net.ipv4.ip_no_pmtu_disc", { "0", "1", "2", "3" } },
	{ "net.ipv4.route.min_pmtu", { "552", "68", "1400" } },
	{ "net.ipv4.route.mtu_expires", { "600", "1", "5" } },
	{ "net.ipv4.ip_forward_use_pmtu", { "0", "1" } },
	{ "net.ipv4.ip_default_ttl", { "64", "1", "255" } },
	{ "net.ipv4.neigh.%s.unres_qlen_bytes", { "212992", "0", "1", "3000" } },
	{ "net.ipv4.neigh.%s.proxy_delay", { "80", "0", "1" } },
	{ "net.ipv4.neigh.%s.proxy_qlen", { "64", "0", "1" } },
	{ "net.ipv4.neigh.%s.locktime", { "100", "0", "1000" } },
	{ "net.ipv4.neigh.%s.app_solicit", { "0", "1", "3" } },
	{ "net.ipv4.neigh.%s.mcast_solicit", { "3", "0", "1", "10" } },
	{ "net.ipv4.neigh.%s.ucast_solicit", { "3", "0", "1" } },
	{ "net.ipv4.neigh.%s.mcast_resolicit", { "0", "1", "3" } },
	{ "net.ipv4.neigh.%s.retrans_time_ms", { "1000", "1", "100" } },
	{ "net.ipv4.neigh.%s.base_reachable_time_ms", { "30000", "1", "1000" } },
	{ "net.ipv4.neigh.%s.delay_first_probe_time", { "5", "0", "1" } },
	{ "net.ipv4.neigh.%s.gc_stale_time", { "60", "0", "1" } },
	{ "net.ipv4.neigh.default.gc_thresh1", { "128", "0", "2" } },
	{ "net.ipv4.neigh.default.gc_thresh2", { "512", "1", "4" } },
	{ "net.ipv4.neigh.default.gc_thresh3", { "1024", "2", "8" } },
	{ "net.ipv4.neigh.default.gc_interval", { "30", "1" } },
	{ "net.ipv4.conf.%s.medium_id", { "0", "1", "-1", "2" } },
	{ "net.ipv4.conf.%s.arp_ignore", { "0", "1", "2", "3", "8" } },
	{ "net.ipv4.conf.%s.arp_announce", { "0", "1", "2" } },
	{ "net.ipv4.conf.%s.arp_accept", { "0", "1", "2" } },
	{ "net.ipv4.conf.%s.rp_filter", { "0", "1", "2" } },
	{ "net.ipv4.conf.%s.accept_redirects", { "0", "1" } },
	{ "net.ipv4.conf.%s.shared_media", { "1", "0" } },
	{ "net.ipv4.conf.%s.arp_evict_nocarrier", { "1", "0" } },
	{ "net.ipv4.conf.%s.src_valid_mark", { "0", "1" } },
	{ "net.ipv4.icmp_echo_enable_probe", { "0", "1" } },
	{ "net.ipv4.ip_nonlocal_bind", { "0", "1" } },
	{ "net.ipv4.conf.%s.ignore_routes_with_linkdown", { "0", "1" } },
};
#define FZ_NSYSCTLS (sizeof(fz_sysctls) / sizeof(fz_sysctls[0]))

static inline uint32_t fz_take(const uint8_t **p, size_t *n, size_t bytes)
{
	uint32_t v = 0;

	for (size_t i = 0; i < bytes; i++) {
		v <<= 8;
		if (*n) {
			v |= **p;
			(*p)++;
			(*n)--;
		}
	}
	return v;
}

static inline uint16_t fz_csum_icmp(uint8_t *icmp, size_t len)
{
	put_be16(icmp + 2, 0);
	uint16_t c = ips_csum_fold(ips_csum_add(0, icmp, len));

	put_be16(icmp + 2, c);
	return c;
}

/* Actions (arg of kind 4). Addresses come from the input (4 bytes), so the corpus aims
 * them at the harness's subnets. */
static inline void fz_action(struct fz *f, unsigned arg, const uint8_t **p, size_t *n)
{
	uint8_t buf[9000];
	char name[80], cidr[32];
	struct sockaddr_in to;
	struct in_addr ia;

	switch (arg) {
	case 0: {	/* UDP from socket 0 (sendto): addr, port, size/16 */
		uint32_t addr = htonl(fz_take(p, n, 4));
		uint16_t port = (uint16_t)fz_take(p, n, 2);
		size_t len = fz_take(p, n, 1) * 16;
		int s = f->sock[0];

		if (s < 0)
			return;
		memset(buf, 0x5a, len);
		to = fz_sin(addr, port);
		ips_sendto(s, buf, len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to));
		break;
	}
	case 1: {	/* ping through the raw ICMP socket: addr, size/16, ttl */
		uint32_t addr = htonl(fz_take(p, n, 4));
		size_t len = 8 + fz_take(p, n, 1) * 16;
		int ttl = (int)fz_take(p, n, 1);
		int s = f->sock[4];

		if (s < 0)
			return;
		memset(buf, 0xa5, len);
		buf[0] = 8;
		buf[1] = 0;
		put_be16(buf + 4, 0x4242);
		put_be16(buf + 6, (uint16_t)f->tx_frames);
		fz_csum_icmp(buf, len);
		if (ttl)
			ips_setsockopt(s, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
		to = fz_sin(addr, 0);
		ips_sendto(s, buf, len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to));
		break;
	}
	case 2:
	case 3: {	/* sysctl: index, value index */
		unsigned i = fz_take(p, n, 1) % FZ_NSYSCTLS;
		unsigned v = fz_take(p, n, 1) % 6;
		const char *val = fz_sysctls[i].values[v] ? fz_sysctls[i].values[v] :
							    fz_sysctls[i].values[0];

		snprintf(name, sizeof(name), fz_sysctls[i].name,
			 f->h->dev_name[arg & 1]);
		fz_sysctl(f, name, val);
		if (strstr(name, "accept_local") || strstr(name, "route_localnet"))
			f->lax = true;
		break;
	}
	case 4:
	case 5: {	/* device arg&1 down then up again after N*10 ms */
		int d = arg & 1;
		unsigned ms = fz_take(p, n, 1) * 10;

		ips_dev_set_up(f->st, f->h->dev_name[d], 0);
		fz_run_ms(f, ms);
		ips_dev_set_up(f->st, f->h->dev_name[d], 1);
		break;
	}
	case 6:
	case 7: {	/* MTU of dev arg&1 */
		int d = arg & 1;
		uint32_t mtu = fz_take(p, n, 2);

		if (ips_dev_set_mtu(f->st, f->h->dev_name[d], mtu) == 0 &&
		    mtu > f->max_mtu_seen[d])
			f->max_mtu_seen[d] = mtu;
		break;
	}
	case 8:
	case 9: {	/* static neighbour on dev arg&1: addr, state, MAC */
		static const uint8_t states[4] = { NUD_PERMANENT, NUD_NOARP, NUD_REACHABLE,
						   NUD_STALE };
		uint32_t addr = htonl(fz_take(p, n, 4));
		uint8_t st = states[fz_take(p, n, 1) & 3];
		uint8_t mac[6];

		for (int i = 0; i < 6; i++)
			mac[i] = (uint8_t)fz_take(p, n, 1);
		stack_lock(f->st);
		neigh_add_static(f->dev[arg & 1], addr, mac, st);
		stack_unlock(f->st);
		break;
	}
	case 10:
	case 11: {	/* delete neighbour */
		uint32_t addr = htonl(fz_take(p, n, 4));

		stack_lock(f->st);
		neigh_del(f->dev[arg & 1], addr);
		stack_unlock(f->st);
		break;
	}
	case 12:
	case 13:
	case 14:
	case 15: {	/* add (12, 13) or delete (14, 15) an address on dev arg&1: addr, plen */
		uint32_t addr = fz_take(p, n, 4);
		unsigned plen = fz_take(p, n, 1) % 33;

		ia.s_addr = htonl(addr);
		snprintf(cidr, sizeof(cidr), "%s/%u", inet_ntoa(ia), plen);
		if (arg < 14) {
			ips_addr_add(f->st, f->h->dev_name[arg & 1], cidr);
			f->lax = true;
		}
		else
			ips_addr_del(f->st, f->h->dev_name[arg & 1], cidr);
		break;
	}
	case 16:	/* read every socket now */
		fz_sockets_drain(f);
		break;
	case 17: {	/* UDP from the connected socket 2 (errors come back to it) */
		size_t len = fz_take(p, n, 1) * 16;

		if (f->sock[2] >= 0) {
			memset(buf, 0x33, len);
			ips_send(f->sock[2], buf, len, MSG_DONTWAIT);
		}
		break;
	}
	case 18: {	/* UDP with DF (IP_PMTUDISC_DO) from socket 0: addr, port, size/16 */
		int pmtu = IP_PMTUDISC_DO, dflt = IP_PMTUDISC_WANT;
		uint32_t addr = htonl(fz_take(p, n, 4));
		uint16_t port = (uint16_t)fz_take(p, n, 2);
		size_t len = fz_take(p, n, 1) * 16;

		if (f->sock[0] < 0)
			return;
		ips_setsockopt(f->sock[0], IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
		memset(buf, 0x77, len);
		to = fz_sin(addr, port);
		ips_sendto(f->sock[0], buf, len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to));
		ips_setsockopt(f->sock[0], IPPROTO_IP, IP_MTU_DISCOVER, &dflt, sizeof(dflt));
		break;
	}
	case 19: {	/* route add/del: dst, plen, gateway */
		struct ips_route r;
		uint32_t dst = htonl(fz_take(p, n, 4));
		unsigned plen = fz_take(p, n, 1);
		uint32_t gw = htonl(fz_take(p, n, 4));

		memset(&r, 0, sizeof(r));
		r.dst.s_addr = dst;
		r.prefixlen = (int)(plen % 33);
		r.gateway.s_addr = gw;
		r.type = (enum ips_route_type)(1 + (plen >> 6) % 6);
		if (plen & 0x20)
			ips_route_del(f->st, &r);
		else
			ips_route_add(f->st, &r);
		break;
	}
	case 20:
	case 21: {	/* impairments on dev arg&1: loss, dup, reorder, corrupt (percent,
			 * byte % 101), delay ms, jitter 1/10 ms (bytes). Both directions, but
			 * corruption only on receive: the transmit checks must hold. */
		struct ips_impair imp, tx;

		memset(&imp, 0, sizeof(imp));
		imp.loss_pct = fz_take(p, n, 1) % 101;
		imp.dup_pct = fz_take(p, n, 1) % 101;
		imp.reorder_pct = fz_take(p, n, 1) % 101;
		imp.corrupt_pct = fz_take(p, n, 1) % 101;
		imp.delay_us = fz_take(p, n, 1) * 1000;
		imp.jitter_us = fz_take(p, n, 1) * 100;
		tx = imp;
		tx.corrupt_pct = 0;
		stack_lock(f->st);
		netdev_set_impair(f->dev[arg & 1], &tx, &imp);
		stack_unlock(f->st);
		break;
	}
	case 22:
	case 23: {	/* answer the last TCP segment the stack sent (a fuzzer cannot guess
			 * its ISN): flags, seq delta (signed byte), window (2 bytes),
			 * payload bytes / 8; arg & 1 adds a timestamp option */
		uint8_t flags = (uint8_t)fz_take(p, n, 1);
		int8_t delta = (int8_t)fz_take(p, n, 1);
		uint16_t win = (uint16_t)fz_take(p, n, 2);
		size_t plen = fz_take(p, n, 1) * 8;
		size_t optlen = arg & 1 ? 12 : 0, hl = 20 + optlen;
		size_t off = f->h->dev_type == NETDEV_ETHER ? 14 : 0;
		uint8_t *ip = buf + off, *th = ip + 20;
		uint32_t ack;

		if (!f->tcp.valid)
			return;
		ack = f->tcp.seq + f->tcp.len + ((f->tcp.flags & 0x02) ? 1 : 0) +
		      ((f->tcp.flags & 0x01) ? 1 : 0);
		memset(buf, 0, off + 20 + hl + plen);
		if (off) {
			memcpy(buf, fz_mac[f->tcp.dev], 6);
			memcpy(buf + 6, fz_peer_mac, 6);
			put_be16(buf + 12, 0x0800);
		}
		ip[0] = 0x45;
		put_be16(ip + 2, (uint16_t)(20 + hl + plen));
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, &f->tcp.daddr, 4);
		memcpy(ip + 16, &f->tcp.saddr, 4);
		put_be16(th, f->tcp.dport);
		put_be16(th + 2, f->tcp.sport);
		put_be32(th + 4, f->tcp.ack + (uint32_t)(int32_t)delta);
		put_be32(th + 8, ack);
		th[12] = (uint8_t)((hl / 4) << 4);
		th[13] = flags;
		put_be16(th + 14, win);
		if (optlen) {
			th[20] = 1;
			th[21] = 1;
			th[22] = 8;
			th[23] = 10;
			put_be32(th + 24, (uint32_t)f->tx_frames);
		}
		memset(th + hl, 0x61, plen);
		fz_fix_ipv4(ip, 20 + hl + plen, false);
		fz_rx(f, f->tcp.dev, buf, off + 20 + hl + plen);
		break;
	}
	default:
		return;
	}
	fz_run_ms(f, 0);
}

/* The Ethernet world of fuzz_stack_eth and fuzz_stack_arp:
 *   eth0 02:00:00:00:00:01  10.0.0.1/24 (+ secondary 10.0.0.100/24)   peer 10.0.0.2
 *   eth1 02:00:00:00:00:02  10.0.1.1/24                              gateway 10.0.1.254
 *   default via 10.0.1.254; 10.5.0.0/16 via 10.0.0.2; blackhole 10.9.0.0/16,
 *   unreachable 10.10.0.0/16, prohibit 10.11.0.0/16; 10.6.0.0/16 dev eth0 mtu 576. */
static inline int fz_setup_eth(struct fz *f)
{
	static const char *const routes[] = {
		"default via 10.0.1.254", "10.5.0.0/16 via 10.0.0.2",
		"blackhole 10.9.0.0/16", "unreachable 10.10.0.0/16", "prohibit 10.11.0.0/16",
		"10.6.0.0/16 dev eth0 mtu 576",
	};

	if (ips_addr_add(f->st, "eth0", "10.0.0.1/24") < 0 ||
	    ips_addr_add(f->st, "eth0", "10.0.0.100/24") < 0 ||
	    ips_addr_add(f->st, "eth1", "10.0.1.1/24") < 0)
		return -1;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (ips_route_add_str(f->st, routes[i]) < 0)
			return -1;
	fz_sockets_open(f, fz_a("10.0.0.1"), fz_a("10.0.0.2"));
	fz_run_ms(f, 0);	/* the gratuitous ARPs of the addresses */
	return 0;
}

/* Run the script in data[0..size) on a fresh world. */
static inline void fz_run(const struct fz_harness *h, const uint8_t *data, size_t size)
{
	uint8_t *in;		/* the input in an exact-size block, for ASan */
	struct fz f;
	const uint8_t *p;
	size_t n;

	if (size < 1)
		return;
	in = fuzz_dup(data, size);
	if (fz_world_new(&f, h, in[0]) < 0)
		abort();
	p = in + 1;
	n = size - 1;
	while (n > 0) {
		uint8_t op = *p++;
		unsigned kind = op & 7, arg = op >> 3;

		n--;
		switch (kind) {
		case 0:
		case 1:
		case 6:
		case 7: {
			size_t len = fz_take(&p, &n, 2), flen;
			int d = arg & 1;

			if (len > n)
				len = n;
			flen = h->build(&f, d, kind & 1, arg, p, len, f.frame);
			p += len;
			n -= len;
			f.frame_len = flen;
			f.frame_dev = d;
			fz_rx(&f, d, f.frame, flen);
			break;
		}
		case 2: {
			uint64_t ms = fz_take(&p, &n, 2);

			if (f.advanced_ms + ms <= FZ_MAX_ADVANCE_S * 1000ull) {
				f.advanced_ms += ms;
				fz_run_ms(&f, ms);
			}
			break;
		}
		case 3:
			if (f.advanced_ms + arg * 100 <= FZ_MAX_ADVANCE_S * 1000ull) {
				f.advanced_ms += arg * 100;
				fz_run_ms(&f, arg * 100);
			}
			break;
		case 4:
			fz_action(&f, arg, &p, &n);
			break;
		case 5:
			for (unsigned i = 0; i <= arg && f.frame_len; i++)
				fz_rx(&f, f.frame_dev, f.frame, f.frame_len);
			break;
		}
	}
	fz_world_free(&f);
	free(in);
}

#endif

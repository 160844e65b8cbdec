/* UDP (RFC 768, RFC 1122 4.1) with Linux's semantics (net/ipv4/udp.c): the receive path
 * (__udp4_lib_rcv), ICMP errors (__udp4_lib_err), the port table with SO_REUSEADDR /
 * SO_REUSEPORT rules (udp_lib_lport_inuse, udp_lib_get_port), and sendmsg.
 * UDP-Lite (RFC 3828) shares all of it; udplite.c adds its registration and options. */
#include <errno.h>
#include <netinet/ip_icmp.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"
#include "ip/ip.h"
#include "ip/route.h"
#include "link/netdev.h"
#include "socket/sock.h"
#include "transport/transport_state.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"
#include "wire/wire.h"

#ifndef UDPLITE_SEND_CSCOV
#define UDPLITE_SEND_CSCOV 10
#define UDPLITE_RECV_CSCOV 11
#endif

/* ---- Port table ---- */

void udp_table_insert(struct udp_table *t, struct sock *sk)
{
	struct sock **head = &t->hash[udp_hashfn(sk->num)];

	sk->hash_next = *head;
	if (*head)
		(*head)->hash_pprev = &sk->hash_next;
	*head = sk;
	sk->hash_pprev = head;
	t->count++;
}

void udp_table_remove(struct udp_table *t, struct sock *sk)
{
	if (!sk->hash_pprev)
		return;
	*sk->hash_pprev = sk->hash_next;
	if (sk->hash_next)
		sk->hash_next->hash_pprev = sk->hash_pprev;
	sk->hash_next = NULL;
	sk->hash_pprev = NULL;
	t->count--;
}

struct udp_table *udp_table_of(struct sock *sk)
{
	struct transport_state *ts = sk->st->transport;

	return sk->protocol == IPPROTO_UDPLITE ? &ts->udplite : &ts->udp;
}

/* SO_REUSEPORT groups (Linux sock_reuseport): members in joining order; a member that
 * leaves is replaced by the last one (reuseport_detach_sock). */
struct rp_group {
	int n, cap;
	struct sock **socks;
};

static void rp_leave(struct sock *sk)
{
	struct rp_group *g = sk->rp_group;

	if (!g)
		return;
	for (int i = 0; i < g->n; i++) {
		if (g->socks[i] == sk) {
			g->socks[i] = g->socks[--g->n];
			break;
		}
	}
	sk->rp_group = NULL;
	if (g->n == 0) {
		free(g->socks);
		free(g);
	}
}

static int rp_join(struct udp_table *t, struct sock *sk)
{
	struct rp_group *g = NULL;

	for (struct sock *s2 = t->hash[udp_hashfn(sk->num)]; s2; s2 = s2->hash_next) {
		if (s2 != sk && s2->num == sk->num && s2->reuseport && s2->rp_group &&
		    s2->bound_dev_if == sk->bound_dev_if && s2->uid == sk->uid &&
		    s2->rcv_saddr == sk->rcv_saddr) {
			g = s2->rp_group;
			break;
		}
	}
	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g)
			return -ENOMEM;
	}
	if (g->n == g->cap) {
		int cap = g->cap ? g->cap * 2 : 4;
		struct sock **n = realloc(g->socks, (size_t)cap * sizeof(*n));

		if (!n) {
			if (!g->n)
				free(g);
			return -ENOMEM;
		}
		g->socks = n;
		g->cap = cap;
	}
	g->socks[g->n++] = sk;
	sk->rp_group = g;
	return 0;
}

/* inet_rcv_saddr_equal(sk, sk2, match_wildcard = true) */
static bool rcv_saddr_equal_wild(const struct sock *a, const struct sock *b)
{
	return a->rcv_saddr == b->rcv_saddr || !a->rcv_saddr || !b->rcv_saddr;
}

/* udp_lib_lport_inuse(): would sk conflict with another socket on port num? */
static bool udp_port_inuse(struct udp_table *t, struct sock *sk, uint16_t num)
{
	for (struct sock *s2 = t->hash[udp_hashfn(num)]; s2; s2 = s2->hash_next) {
		if (s2 == sk || s2->num != num)
			continue;
		if (s2->reuse && sk->reuse)
			continue;
		if (s2->bound_dev_if && sk->bound_dev_if && s2->bound_dev_if != sk->bound_dev_if)
			continue;
		if (!rcv_saddr_equal_wild(sk, s2))
			continue;
		if (s2->reuseport && sk->reuseport && s2->uid == sk->uid)
			continue;
		return true;
	}
	return false;
}

/* udp_lib_get_port(): bind to `port` (host order), or pick an ephemeral one when 0.
 * Linux starts at a random point of the range and walks it (RFC 6056 3.3.1, "simple
 * port randomization"), skipping ports in use and ip_local_reserved_ports. */
static int udp_get_port(struct sock *sk, uint16_t port)
{
	struct ips_stack *st = sk->st;
	struct udp_table *t = udp_table_of(sk);

	if (!port) {
		int low, high;

		sock_port_range(sk, &low, &high);
		uint32_t remaining = (uint32_t)(high - low) + 1;
		uint32_t first = (uint32_t)(((uint64_t)rng_u32(&st->rng) * remaining) >> 32);

		for (uint32_t i = 0; i < remaining; i++) {
			uint16_t p = (uint16_t)(low + (first + i) % remaining);

			if (sysctl_port_reserved(&st->sysctl.ip, p))
				continue;
			if (!udp_port_inuse(t, sk, p)) {
				port = p;
				break;
			}
		}
		if (!port)
			return -EADDRINUSE;
	} else if (udp_port_inuse(t, sk, port)) {
		return -EADDRINUSE;
	}
	sk->num = port;
	udp_table_insert(t, sk);
	if (sk->reuseport && rp_join(t, sk) < 0) {
		udp_table_remove(t, sk);
		sk->num = 0;
		return -ENOMEM;
	}
	return 0;
}

static void udp_unhash(struct sock *sk)
{
	if (!sk->hash_pprev)
		return;
	rp_leave(sk);
	udp_table_remove(udp_table_of(sk), sk);
	sk->num = 0;
}

/* After connect() set the bound address, the reuseport group follows it
 * (udp_lib_rehash()). */
static void udp_rehash(struct sock *sk)
{
	if (sk->rp_group) {
		rp_leave(sk);
		rp_join(udp_table_of(sk), sk);
	}
}

/* compute_score() of net/ipv4/udp.c */
static int udp_score(struct sock *sk, uint16_t hnum, uint32_t saddr, uint16_t sport,
		     uint32_t daddr, int dif)
{
	int score = 2;

	if (sk->num != hnum || sk->rcv_saddr != daddr)
		return -1;
	if (sk->daddr) {
		if (sk->daddr != saddr)
			return -1;
		score += 4;
	}
	if (sk->dport) {
		if (sk->dport != sport)
			return -1;
		score += 4;
	}
	if (sk->bound_dev_if) {
		if (sk->bound_dev_if != dif)
			return -1;
		score += 4;
	}
	return score;
}

static uint32_t udp_ehashfn(struct ips_stack *st, uint32_t laddr, uint16_t lport, uint32_t faddr,
			    uint16_t fport)
{
	uint8_t k[12];

	memcpy(k, &laddr, 4);
	memcpy(k + 4, &faddr, 4);
	memcpy(k + 8, &lport, 2);
	memcpy(k + 10, &fport, 2);
	return (uint32_t)siphash24(st->secret, k, sizeof(k));
}

/* udp4_lib_lookup2() for one bound address (exact, then INADDR_ANY). */
static struct sock *udp_lookup2(struct ips_stack *st, struct udp_table *t, uint32_t saddr,
				uint16_t sport, uint32_t laddr, uint32_t daddr, uint16_t hnum,
				int dif)
{
	struct sock *result = NULL;
	int badness = 0;

	for (struct sock *sk = t->hash[udp_hashfn(hnum)]; sk; sk = sk->hash_next) {
		int score = udp_score(sk, hnum, saddr, sport, laddr, dif);

		if (score > badness) {
			badness = score;
			result = sk;
			if (sk->state != SS_ESTABLISHED && sk->rp_group) {
				struct rp_group *g = sk->rp_group;
				uint32_t h = udp_ehashfn(st, daddr, htons(hnum), saddr, sport);
				struct sock *sel = g->socks[((uint64_t)h * (uint32_t)g->n) >> 32];
				bool has_conns = false;

				for (int i = 0; i < g->n; i++)
					if (g->socks[i]->state == SS_ESTABLISHED)
						has_conns = true;
				if (!has_conns)
					return sel;
				result = sel;
				badness = udp_score(sel, hnum, saddr, sport, laddr, dif);
			}
		}
	}
	return result;
}

/* __udp4_lib_lookup(): sockets bound to daddr first, then wildcard ones. */
static struct sock *udp_lookup(struct ips_stack *st, struct udp_table *t, uint32_t saddr,
			       uint16_t sport, uint32_t daddr, uint16_t dport, int dif)
{
	uint16_t hnum = ntohs(dport);
	struct sock *sk = udp_lookup2(st, t, saddr, sport, daddr, daddr, hnum, dif);

	if (!sk)
		sk = udp_lookup2(st, t, saddr, sport, htonl(INADDR_ANY), daddr, hnum, dif);
	return sk;
}

/* ---- Receive ---- */

#define UDP_INC(st, lite, name)                         \
	do {                                            \
		if (lite)                               \
			MIB_INC(st, UdpLite##name);     \
		else                                    \
			MIB_INC(st, Udp##name);         \
	} while (0)

static int pkb_iif(const struct pkb *pkb)
{
	return pkb->dev ? pkb->dev->ifindex : 0;
}

/* udp_queue_rcv_one_skb(): per-socket checks, then the receive queue. Consumes pkb. */
static void udp_queue_rcv(struct sock *sk, struct pkb *pkb, bool lite, size_t cov, size_t ulen)
{
	struct ips_stack *st = sk->st;

	if (lite && sk->u.udp.pcrlen_set && cov < ulen) {
		/* RFC 3828 3.3: coverage below what the receiver asked for is dropped. */
		if (sk->u.udp.cscov_recv == 0 || cov < sk->u.udp.cscov_recv) {
			UDP_INC(st, lite, InErrors);
			sk->drops++;
			pkb_free(pkb);
			return;
		}
	}
	if (sk->minttl && wire_ipv4_ttl(pkb->nh) < sk->minttl) {
		pkb_free(pkb);
		return;
	}
	int rc = sock_queue_rcv(sk, pkb);

	if (rc < 0) {
		if (rc == -ENOMEM)
			UDP_INC(st, lite, RcvbufErrors);
		else
			UDP_INC(st, lite, MemErrors);
		UDP_INC(st, lite, InErrors);
	}
}

/* __udp_is_mcast_sock() */
static bool udp_mcast_match(struct sock *sk, uint16_t hnum, uint32_t loc, uint32_t rmt,
			    uint16_t rmt_port, int dif)
{
	if (sk->num != hnum || (sk->daddr && sk->daddr != rmt) ||
	    (sk->dport && sk->dport != rmt_port) || (sk->rcv_saddr && sk->rcv_saddr != loc))
		return false;
	if (sk->bound_dev_if && sk->bound_dev_if != dif)
		return false;
	/* ip_mc_sf_allow(): without group memberships (the multicast issue), a socket gets
	 * multicast to its port only with IP_MULTICAST_ALL, Linux's default. */
	if (ip4_is_multicast(loc) && !sk->mc_all)
		return false;
	return true;
}

/* __udp4_lib_mcast_deliver(): a copy to every matching socket; nobody -> IgnoredMulti. */
static void udp_mcast_deliver(struct ips_stack *st, struct pkb *pkb, struct udp_table *t,
			      uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport,
			      bool lite, size_t cov, size_t ulen)
{
	uint16_t hnum = ntohs(dport);
	int dif = pkb_iif(pkb);
	struct sock *first = NULL;

	for (struct sock *sk = t->hash[udp_hashfn(hnum)]; sk; sk = sk->hash_next) {
		if (!udp_mcast_match(sk, hnum, daddr, saddr, sport, dif))
			continue;
		if (!first) {
			first = sk;
			continue;
		}
		struct pkb *c = pkb_copy(pkb);

		if (!c) {
			UDP_INC(st, lite, RcvbufErrors);
			UDP_INC(st, lite, InErrors);
			continue;
		}
		udp_queue_rcv(sk, c, lite, cov, ulen);
	}
	if (first) {
		udp_queue_rcv(first, pkb, lite, cov, ulen);
	} else {
		pkb_free(pkb);
		UDP_INC(st, lite, IgnoredMulti);
	}
}

/* __udp4_lib_rcv(). pkb->data at the UDP header, pkb->nh at the IPv4 header. */
void udp_lib_input(struct ips_stack *st, struct pkb *pkb, struct udp_table *t)
{
	bool lite = t->proto == IPPROTO_UDPLITE;
	struct wire_udp uh;
	uint32_t saddr, daddr;
	size_t ulen, cov;

	pkb->th = pkb->data;
	if (pkb->len < WIRE_UDP_HLEN || wire_udp_parse(pkb->data, pkb->len, &uh) < 0)
		goto drop;				/* no room for the header */
	saddr = wire_ipv4_saddr(pkb->nh);
	daddr = wire_ipv4_daddr(pkb->nh);
	if (uh.len > pkb->len)
		goto drop;				/* short packet */
	if (!lite) {
		if (uh.len < WIRE_UDP_HLEN)
			goto drop;
		pkb_trim(pkb, uh.len);
		ulen = cov = uh.len;
		/* RFC 768: an all-zero checksum means none was computed; Linux accepts it. */
		if (uh.csum && !wire_udp_csum_ok(pkb->data, ulen, saddr, daddr))
			goto csum_error;
	} else {
		ulen = pkb->len;
		if (wire_udplite_coverage(&uh, ulen, &cov) < 0 ||
		    !wire_udplite_csum_ok(pkb->data, ulen, cov, saddr, daddr))
			goto csum_error;
	}

	uint16_t sport = htons(uh.sport), dport = htons(uh.dport);

	inet_rx_cb_fill(st, pkb, sport, dport);
	if (ip4_is_multicast(daddr) || ip4_is_lbcast(daddr) ||
	    route_addr_type(st, daddr) == RTN_BROADCAST_) {
		pkb_pull(pkb, WIRE_UDP_HLEN);
		udp_mcast_deliver(st, pkb, t, saddr, sport, daddr, dport, lite, cov, ulen);
		return;
	}
	struct sock *sk = udp_lookup(st, t, saddr, sport, daddr, dport, pkb_iif(pkb));

	if (sk) {
		pkb_pull(pkb, WIRE_UDP_HLEN);
		udp_queue_rcv(sk, pkb, lite, cov, ulen);
		return;
	}
	/* RFC 1122 4.1.3.1: no port -> ICMP port unreachable (icmp_send() never answers
	 * broadcast or multicast, which went above anyway). */
	UDP_INC(st, lite, NoPorts);
	icmp_send(st, pkb, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
	pkb_free(pkb);
	return;

csum_error:
	UDP_INC(st, lite, InCsumErrors);
drop:
	UDP_INC(st, lite, InErrors);
	pkb_free(pkb);
}

static void udp_input(struct ips_stack *st, struct pkb *pkb)
{
	udp_lib_input(st, pkb, &((struct transport_state *)st->transport)->udp);
}

/* ---- ICMP errors ---- */

/* icmp_err_convert[] of net/ipv4/icmp.c */
static const struct {
	int err;
	bool fatal;
} icmp_unreach_err[] = {
	{ ENETUNREACH, false },		/* ICMP_NET_UNREACH */
	{ EHOSTUNREACH, false },	/* ICMP_HOST_UNREACH */
	{ ENOPROTOOPT, true },		/* ICMP_PROT_UNREACH */
	{ ECONNREFUSED, true },		/* ICMP_PORT_UNREACH */
	{ EMSGSIZE, false },		/* ICMP_FRAG_NEEDED */
	{ EOPNOTSUPP, false },		/* ICMP_SR_FAILED */
	{ ENETUNREACH, true },		/* ICMP_NET_UNKNOWN */
	{ EHOSTDOWN, true },		/* ICMP_HOST_UNKNOWN */
	{ ENONET, true },		/* ICMP_HOST_ISOLATED */
	{ ENETUNREACH, true },		/* ICMP_NET_ANO */
	{ EHOSTUNREACH, true },		/* ICMP_HOST_ANO */
	{ ENETUNREACH, false },		/* ICMP_NET_UNR_TOS */
	{ EHOSTUNREACH, false },	/* ICMP_HOST_UNR_TOS */
	{ EHOSTUNREACH, true },		/* ICMP_PKT_FILTERED */
	{ EHOSTUNREACH, true },		/* ICMP_PREC_VIOLATION */
	{ EHOSTUNREACH, true },		/* ICMP_PREC_CUTOFF */
};

/* The errno an ICMP error maps to, as __udp4_lib_err() (and raw_err, ping_err) do; 0
 * means "ignore" (source quench, redirect, frag-needed without PMTU discovery is the
 * caller's business). */
int icmp_err_to_errno(int type, int code, bool *harderr)
{
	*harderr = false;
	switch (type) {
	case ICMP_SOURCE_QUENCH:
	case ICMP_REDIRECT:
		return 0;
	case ICMP_PARAMETERPROB:
		*harderr = true;
		return EPROTO;
	case ICMP_DEST_UNREACH:
		if (code == ICMP_FRAG_NEEDED) {
			*harderr = true;
			return EMSGSIZE;
		}
		if (code >= 0 && code < (int)(sizeof(icmp_unreach_err) / sizeof(icmp_unreach_err[0]))) {
			*harderr = icmp_unreach_err[code].fatal;
			return icmp_unreach_err[code].err;
		}
		return EHOSTUNREACH;
	case ICMP_TIME_EXCEEDED:
	default:
		return EHOSTUNREACH;
	}
}

/* __udp4_lib_err(): inner is the quoted IPv4 header of a datagram we sent. */
void udp_lib_err(struct ips_stack *st, struct pkb *icmp_pkb, int type, int code, uint32_t info,
		 const uint8_t *inner, size_t inner_len, struct udp_table *t)
{
	size_t ihl;
	bool harderr;

	if (inner_len < WIRE_IPV4_HLEN)
		return;
	ihl = wire_ipv4_hdr_len(inner);
	if (inner_len < ihl + 8)
		return;
	uint32_t isaddr = get_in4(inner + 12), idaddr = get_in4(inner + 16);
	uint16_t sport, dport;

	memcpy(&sport, inner + ihl, 2);
	memcpy(&dport, inner + ihl + 2, 2);
	/* The socket that sent it: local = inner source, remote = inner destination. */
	struct sock *sk = udp_lookup(st, t, idaddr, dport, isaddr, sport, pkb_iif(icmp_pkb));

	if (!sk) {
		MIB_INC(st, IcmpInErrors);
		return;
	}
	int err = icmp_err_to_errno(type, code, &harderr);

	if (type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED) {
		/* Path MTU discovery (RFC 1191): ipv4_sk_update_pmtu() */
		if (info)
			pmtu_update(st, idaddr, info);
		if (sk->pmtudisc == IP_PMTUDISC_DONT)
			return;
	}
	if (!err)
		return;
	if (!sk->recverr) {
		/* RFC 1122 4.1.3.3: only hard errors, only on connected sockets. */
		if (!harderr || sk->state != SS_ESTABLISHED)
			return;
	} else {
		sock_icmp_error(sk, icmp_pkb, err, dport, info, inner + ihl + 8, idaddr);
	}
	sock_set_err(sk, err);
}

static void udp_err(struct ips_stack *st, struct pkb *icmp_pkb, int type, int code, uint32_t info,
		    const uint8_t *inner, size_t inner_len)
{
	udp_lib_err(st, icmp_pkb, type, code, info, inner, inner_len,
		    &((struct transport_state *)st->transport)->udp);
}

/* ---- Socket operations ---- */

static int udp_sock_init(struct sock *sk)
{
	return 0;
}

static void udp_cork_flush(struct sock *sk);

static void udp_release(struct sock *sk)
{
	udp_cork_flush(sk);	/* udp_destroy_sock(): a corked datagram is dropped */
	udp_unhash(sk);
}

static int udp_bind(struct sock *sk, const struct sockaddr_in *sin, socklen_t len)
{
	if (len < sizeof(*sin))
		return -EINVAL;
	return inet_bind_addr(sk, sin);
}

/* ---- Sending: one datagram, or corked (MSG_MORE / UDP_CORK), or segmented
 * (UDP_SEGMENT) ---- */

/* Linux's UDP_MAX_SEGMENTS (6.x: 128 segments per send). */
#define UDP_MAX_SEGMENTS 128

/* Everything a datagram's destination and options resolve to: what Linux keeps in
 * inet->cork (the flow, the route's fragment size, the cmsg options) while corked. */
struct udp_flow {
	uint32_t daddr;		/* the datagram's destination (UDP pseudo header) */
	uint32_t faddr;		/* where it is routed (a source route's first hop) */
	uint32_t saddr;
	uint16_t dport;
	int oif;
	uint32_t fragsize;	/* cork->fragsize: path MTU, or the device's (PROBE...) */
	uint32_t rt_mtu;	/* the route's path MTU (__ip_make_skb's DF choice) */
	uint8_t optlen;
	uint16_t gso_size;
	bool dontroute;		/* MSG_DONTROUTE on the call that made the flow */
	struct sock_cmsg_out cm;
};

/* The corked datagram (up->pending, up->len and the write queue's bytes). */
struct udp_cork {
	struct udp_flow fl;
	size_t len;		/* payload bytes so far */
	uint8_t data[0xFFFF];
};

/* udp_cmsg_send(): SOL_UDP cmsgs (UDP_SEGMENT) come first; others are ip_cmsg_send()'s. */
static int udp_cmsg_send(const struct msghdr *msg, uint16_t *gso_size)
{
	if (!msg->msg_control || msg->msg_controllen < sizeof(struct cmsghdr))
		return 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c;
	     c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		if (c->cmsg_len < sizeof(struct cmsghdr) ||
		    c->cmsg_len > msg->msg_controllen -
					  (size_t)((uint8_t *)c - (uint8_t *)msg->msg_control))
			return -EINVAL;
		if (c->cmsg_level != SOL_UDP)
			continue;
		if (c->cmsg_type != UDP_SEGMENT || c->cmsg_len != CMSG_LEN(sizeof(uint16_t)))
			return -EINVAL;
		memcpy(gso_size, CMSG_DATA(c), sizeof(uint16_t));
	}
	return 0;
}

/* The first half of udp_sendmsg(): destination, cmsgs, route, source address. */
static int udp_flow_resolve(struct sock *sk, const struct msghdr *msg, int flags,
			    struct udp_flow *fl)
{
	struct sock_cmsg_out *cm = &fl->cm;
	struct rt_result rt;
	int err;

	memset(fl, 0, sizeof(*fl));
	if (msg->msg_name) {
		const struct sockaddr_in *usin = msg->msg_name;

		if (msg->msg_namelen < sizeof(*usin))
			return -EINVAL;
		if (usin->sin_family != AF_INET && usin->sin_family != AF_UNSPEC)
			return -EAFNOSUPPORT;
		fl->daddr = usin->sin_addr.s_addr;
		fl->dport = usin->sin_port;
		if (fl->dport == 0)
			return -EINVAL;
	} else {
		if (sk->state != SS_ESTABLISHED)
			return -EDESTADDRREQ;
		fl->daddr = sk->daddr;
		fl->dport = sk->dport;
	}
	fl->gso_size = sk->u.udp.gso_size;
	fl->dontroute = flags & MSG_DONTROUTE;
	err = udp_cmsg_send(msg, &fl->gso_size);
	if (err)
		return err;
	err = sock_cmsg_send(sk, msg, cm);
	if (err)
		return err;
	fl->saddr = cm->has_pktinfo && cm->saddr ? cm->saddr : sk->saddr;
	fl->faddr = fl->daddr;
	uint32_t first_hop = inet_opts_faddr(sk, cm);

	if (first_hop) {
		if (!fl->daddr)
			return -EINVAL;
		fl->faddr = first_hop;
	}
	fl->oif = cm->oif;
	if (ip4_is_multicast(fl->daddr)) {
		if (!fl->oif)
			fl->oif = sk->mc_index;
		if (!fl->saddr)
			fl->saddr = sk->mc_addr;
	} else if (!fl->oif) {
		fl->oif = sk->uc_index;
	}
	err = inet_route_out(sk, &fl->faddr, fl->saddr, fl->oif, &rt);
	if (err)
		return err;
	if (!first_hop)
		fl->daddr = fl->faddr;
	if (rt.type == RTN_BROADCAST_ && !sk->broadcast)
		return -EACCES;
	if (!fl->saddr)
		fl->saddr = rt.prefsrc;
	fl->optlen = inet_opts_len(sk, cm);
	/* ip_setup_cork(): ip_sk_use_pmtu() sizes by the path, PROBE and above by the
	 * device. */
	fl->fragsize = sk->pmtudisc >= IP_PMTUDISC_PROBE && rt.dev ? rt.dev->mtu
		       : rt.mtu < 0xFFFF ? rt.mtu : 0xFFFF;	/* dst_mtu(): IP_MAX_MTU at most */
	fl->rt_mtu = rt.mtu;
	return 0;
}

/* __ip_append_data()'s size rule: may `ulen` more UDP bytes (header included on the
 * first piece) join the `have` already queued? With UDP_SEGMENT the datagram is cut
 * later, so only the 64 KiB IP limit applies. */
static int udp_append_ok(struct sock *sk, const struct udp_flow *fl, size_t have, size_t ulen)
{
	size_t mtu = fl->gso_size ? 0xFFFF : fl->fragsize;
	size_t maxnonfrag = inet_ignore_df(sk) ? 0xFFFF : mtu;

	if (have + ulen + WIRE_IPV4_HLEN + fl->optlen > maxnonfrag) {
		sock_local_error(sk, EMSGSIZE, fl->daddr, sk->dport, (uint32_t)mtu - fl->optlen);
		return -EMSGSIZE;
	}
	return 0;
}

/* One UDP datagram on the wire (header, checksum, IP). Consumes nothing; counts nothing. */
static int udp_xmit_one(struct sock *sk, const struct udp_flow *fl, const uint8_t *data, size_t len,
			bool no_df)
{
	struct ips_stack *st = sk->st;
	bool lite = sk->protocol == IPPROTO_UDPLITE;
	uint8_t opts[40];
	struct pkb *pkb = stack_pkb_alloc(st, WIRE_UDP_HLEN + len);

	if (!pkb)
		return -ENOBUFS;
	uint8_t *p = pkb_put(pkb, WIRE_UDP_HLEN + len);
	struct wire_udp uh = {
		.sport = ntohs(sk->sport),
		.dport = ntohs(fl->dport),
		.len = (uint16_t)(WIRE_UDP_HLEN + len),
	};

	if (len)
		memcpy(p + WIRE_UDP_HLEN, data, len);
	if (lite) {
		size_t cov = WIRE_UDP_HLEN + len;

		/* udplite_sender_cscov(): 0 < pcslen < length gives partial coverage;
		 * pcslen 0 (set) means full coverage written as 0. */
		if (sk->u.udp.pcslen_set && sk->u.udp.cscov_send < WIRE_UDP_HLEN + len) {
			if (sk->u.udp.cscov_send)
				cov = sk->u.udp.cscov_send;
			uh.len = sk->u.udp.cscov_send;
		}
		wire_udp_emit(p, &uh);
		wire_udplite_csum_fill(p, WIRE_UDP_HLEN + len, cov, fl->saddr, fl->daddr);
	} else {
		wire_udp_emit(p, &uh);
		if (!sk->u.udp.no_check_tx)
			wire_udp_csum_fill(p, WIRE_UDP_HLEN + len, fl->saddr, fl->daddr);
	}
	pkb->th = p;

	struct ip4_out o;
	const struct sock_cmsg_out *cm = &fl->cm;

	sock_ip4_out_init(sk, &o);
	o.saddr = fl->saddr;
	o.daddr = fl->faddr;
	o.proto = (uint8_t)sk->protocol;
	o.oif = fl->oif;
	if (no_df)
		o.pmtudisc = IP_PMTUDISC_DONT;
	if (cm->tos >= 0)
		o.tos = (uint8_t)cm->tos;
	if (cm->ttl >= 0)
		o.ttl = cm->ttl;
	else if (ip4_is_multicast(fl->daddr))
		o.ttl = sk->mc_ttl;
	if (fl->dontroute)
		o.dontroute = true;
	uint32_t hop = 0, mtu = 0;

	o.opts_len = inet_opts_build(sk, cm, fl->daddr, fl->saddr, opts, &hop);
	o.opts = o.opts_len ? opts : NULL;
	int err = ip4_output(st, pkb, &o, &mtu);

	if (err == -EMSGSIZE)
		sock_local_error(sk, EMSGSIZE, fl->daddr, sk->dport, mtu - fl->optlen);
	return err;
}

/* udp_send_skb(): the whole datagram, cut into UDP_SEGMENT-sized datagrams when asked
 * (Linux hands one GSO packet to the device, which cuts it the same way; here the
 * segments are cut before IP, so IP counts each). */
static int udp_send_datagram(struct sock *sk, const struct udp_flow *fl, const uint8_t *data,
			     size_t len, int flags)
{
	struct ips_stack *st = sk->st;
	bool lite = sk->protocol == IPPROTO_UDPLITE;
	size_t gso = fl->gso_size;
	int err = 0;

	if (gso) {
		size_t hlen = WIRE_IPV4_HLEN + fl->optlen + WIRE_UDP_HLEN;

		if (hlen + (len < gso ? len : gso) > fl->fragsize)
			return -EMSGSIZE;
		if (len > gso * UDP_MAX_SEGMENTS)
			return -EINVAL;
		if (sk->u.udp.no_check_tx)
			return -EINVAL;
		if (lite)
			return -EIO;
	}
	if (gso && len > gso) {
		/* __ip_make_skb() chose DF for the whole GSO packet: with IP_PMTUDISC_WANT
		 * only when all of it fits the path (so its segments go without DF when it
		 * does not). */
		bool no_df = sk->pmtudisc == IP_PMTUDISC_WANT &&
			     WIRE_IPV4_HLEN + fl->optlen + WIRE_UDP_HLEN + len > fl->rt_mtu;

		for (size_t off = 0; off < len && !err; off += gso)
			err = udp_xmit_one(sk, fl, data + off, len - off < gso ? len - off : gso,
					   no_df);
	} else {
		err = udp_xmit_one(sk, fl, data, len, false);
	}
	if (err == -ENOBUFS) {
		/* not sent (udp_send_skb: no OutDatagrams), silent unless IP_RECVERR */
		UDP_INC(st, lite, SndbufErrors);
		return sk->recverr ? err : 0;
	}
	if (!err)
		UDP_INC(st, lite, OutDatagrams);
	return err;
}

/* udp_flush_pending_frames() */
static void udp_cork_flush(struct sock *sk)
{
	free(sk->u.udp.pending);
	sk->u.udp.pending = NULL;
}

/* udp_push_pending_frames() */
static int udp_cork_push(struct sock *sk)
{
	struct udp_cork *c = sk->u.udp.pending;
	int err;

	if (!c)
		return 0;
	err = udp_send_datagram(sk, &c->fl, c->data, c->len, 0);
	udp_cork_flush(sk);
	return err;
}

/* udp_sendmsg() */
static long udp_sendmsg(struct sock *sk, const struct msghdr *msg, size_t len, int flags)
{
	bool corkreq = sk->u.udp.cork || (flags & MSG_MORE);
	struct udp_cork *c = sk->u.udp.pending;
	struct udp_flow fl;
	int err;

	if (len > 0xFFFF)
		return -EMSGSIZE;
	if (flags & MSG_OOB)	/* Mirror BSD error message compatibility */
		return -EOPNOTSUPP;
	/* Corked: the data joins the pending datagram; its destination and options were
	 * fixed by the call that started it (msg_name and cmsgs are not looked at). */
	if (c)
		goto append;

	err = udp_flow_resolve(sk, msg, flags, &fl);
	if (err)
		return err;
	err = udp_append_ok(sk, &fl, 0, WIRE_UDP_HLEN + len);
	if (err)
		return err;
	/* sock_alloc_send_pskb(): a pending error, then a shut-down sending side. */
	err = sock_error(sk);
	if (err)
		return err;
	if (sk->shutdown & SEND_SHUTDOWN)
		return -EPIPE;
	if (!corkreq) {
		uint8_t *buf = len ? malloc(len) : NULL;

		if (len && !buf)
			return -ENOBUFS;
		sock_iov_copy_from(buf, msg, len);
		err = udp_send_datagram(sk, &fl, buf, len, flags);
		free(buf);
		return err ? err : (long)len;
	}
	/* Start corking (up->pending = AF_INET). */
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOBUFS;
	c->fl = fl;
	c->len = 0;
	sk->u.udp.pending = c;
	sock_iov_copy_from(c->data, msg, len);
	c->len = len;
	goto done;

append:
	err = udp_append_ok(sk, &c->fl, WIRE_UDP_HLEN + c->len, len);
	if (err) {
		udp_cork_flush(sk);
		return err;
	}
	sock_iov_copy_from(c->data + c->len, msg, len);
	c->len += len;
done:
	if (!corkreq) {
		err = udp_cork_push(sk);
		if (err)
			return err;
	}
	return (long)len;
}

static void udp_recv_name(struct sock *sk, struct pkb *pkb, struct sockaddr_in *sin)
{
	struct sock_rx_cb *cb = sock_rx_cb(pkb);

	sin->sin_family = AF_INET;
	sin->sin_port = cb->sport;
	sin->sin_addr.s_addr = cb->saddr;
}

/* udp_lib_setsockopt() / udp_lib_getsockopt() */
static int udp_setsockopt(struct sock *sk, int level, int name, const void *val, socklen_t len)
{
	bool lite = sk->protocol == IPPROTO_UDPLITE;
	int v;

	if (level != SOL_UDP && level != IPPROTO_UDPLITE)
		return 1;
	if (len < sizeof(int))
		return -EINVAL;
	memcpy(&v, val, sizeof(v));
	switch (name) {
	case UDP_CORK:
		sk->u.udp.cork = v != 0;
		/* Uncorking sends what is pending (udp_push_pending_frames()); its error
		 * is not setsockopt()'s. */
		if (!v)
			(void)udp_cork_push(sk);
		return 0;
	case UDP_SEGMENT:
		if (v < 0 || v > 0xFFFF)
			return -EINVAL;
		sk->u.udp.gso_size = (uint16_t)v;
		return 0;
	case UDP_GRO:
		sk->u.udp.gro = v != 0;
		return 0;
	case UDP_NO_CHECK6_TX:
	case UDP_NO_CHECK6_RX:
		return 0;
	case UDP_ENCAP:
		return 0;
	case UDPLITE_SEND_CSCOV:
		if (!lite)
			return -ENOPROTOOPT;
		if (v != 0 && v < 8)
			v = 8;
		else if (v > 0xFFFF)
			v = 0xFFFF;
		sk->u.udp.cscov_send = (uint16_t)v;
		sk->u.udp.pcslen_set = true;
		return 0;
	case UDPLITE_RECV_CSCOV:
		if (!lite)
			return -ENOPROTOOPT;
		if (v != 0 && v < 8)
			v = 8;
		else if (v > 0xFFFF)
			v = 0xFFFF;
		sk->u.udp.cscov_recv = (uint16_t)v;
		sk->u.udp.pcrlen_set = true;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static int udp_getsockopt(struct sock *sk, int level, int name, void *val, socklen_t *len)
{
	int v;

	if (level != SOL_UDP && level != IPPROTO_UDPLITE)
		return 1;
	if ((int)*len < 0)
		return -EINVAL;
	switch (name) {
	case UDP_CORK:
		v = sk->u.udp.cork;
		break;
	case UDP_ENCAP:
	case UDP_NO_CHECK6_TX:
	case UDP_NO_CHECK6_RX:
		v = 0;
		break;
	case UDP_SEGMENT:
		v = sk->u.udp.gso_size;
		break;
	case UDP_GRO:
		v = sk->u.udp.gro;
		break;
	case UDPLITE_SEND_CSCOV:
		v = sk->u.udp.cscov_send;
		break;
	case UDPLITE_RECV_CSCOV:
		v = sk->u.udp.cscov_recv;
		break;
	default:
		return -ENOPROTOOPT;
	}
	if (*len > sizeof(int))
		*len = sizeof(int);
	memcpy(val, &v, *len);
	return 0;
}

const struct sock_proto udp_prot = {
	.name = "UDP",
	.init = udp_sock_init,
	.release = udp_release,
	.bind = udp_bind,
	.connect = ip4_dgram_connect,
	.disconnect = dgram_disconnect,
	.sendmsg = udp_sendmsg,
	.recv_name = udp_recv_name,
	.setsockopt = udp_setsockopt,
	.getsockopt = udp_getsockopt,
	.get_port = udp_get_port,
	.unhash = udp_unhash,
	.rehash = udp_rehash,
};

const struct sock_proto udplite_prot = {
	.name = "UDP-Lite",
	.init = udp_sock_init,
	.release = udp_release,
	.bind = udp_bind,
	.connect = ip4_dgram_connect,
	.disconnect = dgram_disconnect,
	.sendmsg = udp_sendmsg,
	.recv_name = udp_recv_name,
	.setsockopt = udp_setsockopt,
	.getsockopt = udp_getsockopt,
	.get_port = udp_get_port,
	.unhash = udp_unhash,
	.rehash = udp_rehash,
};

static const struct ip_proto_ops udp_ops = {
	.input = udp_input,
	.err = udp_err,
};

int udp_init(struct ips_stack *st)
{
	struct transport_state *ts = st->transport;

	ts->udp.proto = IPPROTO_UDP;
	return ip4_proto_register(st, IPPROTO_UDP, &udp_ops);
}

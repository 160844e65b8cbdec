/* ICMP for IPv4 (RFC 792, RFC 1122 3.2.2, RFC 1812 4.3) with the behaviour of Linux's
 * net/ipv4/icmp.c: input (icmp_rcv and its handler table), echo and timestamp replies
 * (icmp_reply), errors (__icmp_send) with the two rate limiters, delivery of received
 * errors to the transport they are about, and an echo sender below the socket layer
 * (icmp_echo_send(), used by tests and tests/interop/ips_pinger; applications ping
 * through ping or raw sockets in src/transport).
 *
 * Counting follows /proc/net/snmp: the per-type Icmp In and Out counters ARE the
 * IcmpMsg counters of their type (Linux prints them from icmpmsg_statistics), so the
 * two are always bumped together, through icmp_count_in()/icmp_out_count(). */
#include "ip/icmp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include <string.h>

#include "core/csum.h"
#include "core/stack.h"
#include "ip/inetpeer.h"
#include "ip/ip_state.h"
#include "ip/route.h"
#include "link/netdev.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/ipv4_opts.h"
#include "wire/wire.h"

#define ICMP_NR_TYPES		18	/* NR_ICMP_TYPES: the highest type Linux knows */
#define ICMP_NR_UNREACH		15	/* NR_ICMP_UNREACH */
#define ICMP_TYPE_EXT_ECHO	42	/* RFC 8335 PROBE */
#define ICMP_TYPE_EXT_ECHOREPLY	43
#define ICMP_TOS_INTERNETCONTROL 0xc0	/* IPTOS_PREC_INTERNETCONTROL */
#define ICMP_RFC1812_ROOM	576	/* RFC 1812 4.3.2.3: at most 576 bytes in all */

/* icmp_pointers[].error: the types Linux treats as error messages (never answered with
 * an error; their inner header is handed to the transport). Router advertisement and
 * solicitation (9, 10) are in the list, as in Linux. */
static bool icmp_type_is_error(unsigned int type)
{
	switch (type) {
	case 1: case 2: case ICMP_DEST_UNREACH: case ICMP_SOURCE_QUENCH: case ICMP_REDIRECT:
	case 6: case 7: case 9: case 10: case ICMP_TIME_EXCEEDED: case ICMP_PARAMETERPROB:
		return true;
	default:
		return false;
	}
}

/* ---- Counters: icmpmibmap (net/ipv4/proc.c) ---- */

static int icmp_mib_in(unsigned int type)
{
	switch (type) {
	case ICMP_ECHOREPLY: return MIB_IcmpInEchoReps;
	case ICMP_DEST_UNREACH: return MIB_IcmpInDestUnreachs;
	case ICMP_SOURCE_QUENCH: return MIB_IcmpInSrcQuenchs;
	case ICMP_REDIRECT: return MIB_IcmpInRedirects;
	case ICMP_ECHO: return MIB_IcmpInEchos;
	case ICMP_TIME_EXCEEDED: return MIB_IcmpInTimeExcds;
	case ICMP_PARAMETERPROB: return MIB_IcmpInParmProbs;
	case ICMP_TIMESTAMP: return MIB_IcmpInTimestamps;
	case ICMP_TIMESTAMPREPLY: return MIB_IcmpInTimestampReps;
	case ICMP_ADDRESS: return MIB_IcmpInAddrMasks;
	case ICMP_ADDRESSREPLY: return MIB_IcmpInAddrMaskReps;
	default: return -1;
	}
}

static int icmp_mib_out(unsigned int type)
{
	switch (type) {
	case ICMP_ECHOREPLY: return MIB_IcmpOutEchoReps;
	case ICMP_DEST_UNREACH: return MIB_IcmpOutDestUnreachs;
	case ICMP_SOURCE_QUENCH: return MIB_IcmpOutSrcQuenchs;
	case ICMP_REDIRECT: return MIB_IcmpOutRedirects;
	case ICMP_ECHO: return MIB_IcmpOutEchos;
	case ICMP_TIME_EXCEEDED: return MIB_IcmpOutTimeExcds;
	case ICMP_PARAMETERPROB: return MIB_IcmpOutParmProbs;
	case ICMP_TIMESTAMP: return MIB_IcmpOutTimestamps;
	case ICMP_TIMESTAMPREPLY: return MIB_IcmpOutTimestampReps;
	case ICMP_ADDRESS: return MIB_IcmpOutAddrMasks;
	case ICMP_ADDRESSREPLY: return MIB_IcmpOutAddrMaskReps;
	default: return -1;
	}
}

/* ICMPMSGIN_INC_STATS() */
static void icmp_count_in(struct ips_stack *st, uint8_t type)
{
	int id = icmp_mib_in(type);

	st->mib.icmpmsg_in[type]++;
	if (id >= 0)
		st->mib.v[id]++;
}

/* icmp_out_count(): Linux calls it from __ip_make_skb() for every ICMP message built,
 * whoever sends it (replies, errors, ping and raw sockets). */
static void icmp_out_count(struct ips_stack *st, uint8_t type)
{
	int id = icmp_mib_out(type);

	st->mib.icmpmsg_out[type]++;
	if (id >= 0)
		st->mib.v[id]++;
	MIB_INC(st, IcmpOutMsgs);
}

/* ---- Small helpers ---- */

uint32_t icmp_timestamp_ms(const struct ips_stack *st)
{
	return (uint32_t)(stack_now_ms(st) % 86400000u);
}

static bool icmp_dev_is_loopback(const struct netdev *dev)
{
	return dev && (dev->type == NETDEV_LOOPBACK || (dev->flags & IFF_LOOPBACK));
}

/* The input route of a received packet was broadcast or multicast (RTCF_BROADCAST |
 * RTCF_MULTICAST): its destination is a broadcast address of ours or a group. */
static bool icmp_daddr_is_bcast(struct ips_stack *st, uint32_t daddr)
{
	enum rtn_type t;

	if (ip4_is_multicast(daddr) || ip4_is_lbcast(daddr))
		return true;
	t = route_addr_type(st, daddr);
	return t == RTN_BROADCAST_ || t == RTN_MULTICAST_;
}

/* TS option flag 3 and echo: Linux timestamps a prespecified address when
 * inet_addr_type(addr) != RTN_UNICAST. */
static bool icmp_prespec_is_ours(void *arg, uint32_t addr)
{
	return route_addr_type(arg, addr) != RTN_UNICAST_;
}

/* Was pkb received (its IP4_CB filled by ip4_rcv()), rather than built here? */
static bool icmp_pkb_received(const struct pkb *pkb)
{
	return IP4_CB(pkb)->iif != 0;
}

/* The options of a packet as ip_options_compile() left them (IPCB(skb)->opt): kept in
 * IP4_CB by ip4_rcv() for received packets. For our own packets (an error about one
 * of them) they are read back from the header: the offsets are the same, and a slot is
 * claimed exactly when one is still free, as the compile of IP_OPTIONS did. */
static int icmp_rx_opts(struct ips_stack *st, const struct pkb *pkb, struct wire_ipv4_opts *opt)
{
	const uint8_t *iph = pkb->nh;
	size_t hlen = wire_ipv4_hdr_len(iph);
	uint8_t pp;

	if (icmp_pkb_received(pkb)) {
		*opt = IP4_CB(pkb)->opt;
		return 0;
	}
	memset(opt, 0, sizeof(*opt));
	if (hlen <= WIRE_IPV4_HLEN)
		return 0;
	if (wire_ipv4_opts_parse(iph, hlen, opt, &pp) < 0)
		return -EINVAL;
	return 0;
}

/* The input route of a received packet was broadcast or multicast (RTCF_BROADCAST |
 * RTCF_MULTICAST); for our own packets, the output route's class. */
static bool icmp_pkb_to_bcast(struct ips_stack *st, const struct pkb *pkb)
{
	if (icmp_pkb_received(pkb))
		return (IP4_CB(pkb)->flags & (IP4_CB_BROADCAST | IP4_CB_MULTICAST)) != 0;
	return icmp_daddr_is_bcast(st, wire_ipv4_daddr(pkb->nh));
}

/* RTCF_LOCAL without broadcast/multicast: the packet was addressed to one of ours. */
static bool icmp_pkb_to_local(struct ips_stack *st, const struct pkb *pkb)
{
	if (icmp_pkb_received(pkb))
		return (IP4_CB(pkb)->flags & IP4_CB_LOCAL_UNICAST) != 0;
	return route_addr_type(st, wire_ipv4_daddr(pkb->nh)) == RTN_LOCAL_;
}

/* ---- Rate limiting (icmp_global_allow, icmpv4_xrlim_allow) ---- */

static uint32_t icmp_jiffies(struct ips_stack *st)
{
	return inet_jiffies(st);
}

/* Token bucket for the whole stack: icmp_msgs_per_sec, burst icmp_msgs_burst. Checks
 * only; the tokens are taken by icmp_global_consume() once the per-host check passed
 * ("icmp: change the order of rate limits", Linux 6.11). */
static bool icmp_global_allow(struct ips_stack *st)
{
	struct icmp_state *is = st->icmp;
	uint32_t hz = inet_hz(st);
	uint32_t now, delta;
	int64_t incr;

	if (is->global_credit > 0)
		return true;
	now = icmp_jiffies(st);
	delta = now - is->global_stamp;
	if (delta > hz)
		delta = hz;
	if (delta < hz / 50)
		return false;
	incr = (int64_t)st->sysctl.ip.icmp_msgs_per_sec * delta / hz;
	if (incr <= 0)
		return false;
	is->global_stamp = now;
	incr += is->global_credit;
	if (incr > st->sysctl.ip.icmp_msgs_burst)
		incr = st->sysctl.ip.icmp_msgs_burst;
	is->global_credit = (int32_t)incr;
	return true;
}

/* "We want to use a credit of one in average, but need to randomize it for security
 * reasons": 0, 1 or 2 tokens. The credit may go negative. */
static void icmp_global_consume(struct ips_stack *st)
{
	st->icmp->global_credit -= (int32_t)rng_below(&st->rng, 3);
}

/* icmpv4_mask_allow(): types not in icmp_ratemask, and "fragmentation needed" (never
 * limit PMTU discovery), are not limited at all. */
static bool icmp_mask_allow(struct ips_stack *st, int type, int code)
{
	if (type > ICMP_NR_TYPES)
		return true;
	if (type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED)
		return true;
	if (!((1u << type) & (unsigned int)st->sysctl.ip.icmp_ratemask))
		return true;
	return false;
}

static bool icmp_global_allow_type(struct ips_stack *st, int type, int code, bool *apply)
{
	if (icmp_mask_allow(st, type, code))
		return true;
	if (icmp_global_allow(st)) {
		*apply = true;
		return true;
	}
	MIB_INC(st, IcmpOutRateLimitGlobal);
	return false;
}

/* Per destination host: inet_peer_xrlim_allow() with icmp_ratelimit. */
static bool icmp_xrlim_allow(struct ips_stack *st, const struct rt_result *rt, uint32_t daddr,
			     bool apply)
{
	bool rc = true;

	if (!apply)
		return true;
	/* No rate limit on loopback. */
	if (!icmp_dev_is_loopback(rt->dev)) {
		struct inet_peer *peer = inet_peer_get(st, daddr);

		rc = inet_peer_xrlim_allow(st, peer,
					   inet_msecs_to_jiffies(st, st->sysctl.ip.icmp_ratelimit));
	}
	if (!rc)
		MIB_INC(st, IcmpOutRateLimitHost);
	else
		icmp_global_consume(st);
	return rc;
}

/* ---- Transmit ---- */

struct icmp_xmit {
	const uint8_t *head;		/* ICMP header (+ timestamp words) */
	size_t head_len;
	const uint8_t *data;		/* payload copied after it */
	size_t data_len;
	uint32_t saddr;			/* chosen source */
	uint32_t daddr;			/* the final destination */
	uint8_t tos;
	uint32_t mark;
	const uint8_t *opt_data;	/* reply options (compile_user form) */
	const struct wire_ipv4_opts *opt;
	int oif;
	/* The type icmp_out_count() sees: __ip_make_skb() takes it from the flow
	 * (fl4_icmp_type) for the ICMP control socket, and icmp_reply() never sets it, so
	 * Linux 6.x counts every reply it makes as an echo reply (type 0) -- a timestamp
	 * reply too (checked with nstat in a netns: IcmpOutEchoReps and IcmpMsgOutType0
	 * move, not IcmpOutTimestampReps). __icmp_send() sets it to the error's type. */
	uint8_t count_type;
};

/* icmp_push_reply(): build the message, checksum it, fill in the options as
 * ip_options_build() does and send it the way Linux's ICMP socket does (IP_PMTUDISC_DONT:
 * no DF, fragmented to the path MTU). */
static int icmp_push(struct ips_stack *st, const struct icmp_xmit *x)
{
	struct ip4_out o = {
		.saddr = x->saddr,
		.daddr = x->daddr,
		.proto = IPPROTO_ICMP,
		.tos = x->tos,
		.ttl = -1,
		.pmtudisc = IP_PMTUDISC_DONT,
		.oif = x->oif,
		.mark = x->mark,
	};
	struct pkb *pkb;
	uint8_t *p;

	pkb = stack_pkb_alloc(st, x->head_len + x->data_len);
	if (!pkb) {
		MIB_INC(st, IcmpOutErrors);
		return -ENOBUFS;
	}
	p = pkb_put(pkb, x->head_len + x->data_len);
	memcpy(p, x->head, x->head_len);
	if (x->data_len)
		memcpy(p + x->head_len, x->data, x->data_len);
	wire_icmp_fix_csum(p, pkb->len);
	if (x->opt && x->opt->optlen) {
		/* ip4_output() routes to an echoed source route's first hop and fills in
		 * the options (ip_options_build()). */
		o.opts = x->opt_data;
		o.opts_len = x->opt->optlen;
		o.opt = x->opt;
	}
	icmp_out_count(st, x->count_type);
	return ip4_output(st, pkb, &o, NULL);
}

/* IP4_REPLY_MARK() */
static uint32_t icmp_reply_mark(struct ips_stack *st, const struct pkb *pkb)
{
	return st->sysctl.ip.fwmark_reflect ? pkb->mark : 0;
}

/* icmp_reply(): answer a query (echo, timestamp) in pkb. The reply goes back to the
 * sender from the address the request reached (fib_compute_spec_dst()), with the
 * request's TOS and its options echoed (__ip_options_echo). */
static void icmp_reply(struct ips_stack *st, struct pkb *req, const uint8_t *head,
		       size_t head_len, const uint8_t *data, size_t data_len)
{
	const uint8_t *iph = req->nh;
	uint32_t req_saddr = get_in4(iph + 12), req_daddr = get_in4(iph + 16);
	uint8_t opt_data[MAX_IPOPTLEN];
	struct wire_ipv4_opts in, out;
	struct rt_result rt;
	bool apply = false;
	uint32_t daddr, saddr, mark;
	int type = head[0], code = head[1];

	memset(&out, 0, sizeof(out));
	if (icmp_rx_opts(st, req, &in) < 0)
		return;
	if (in.optlen && wire_ipv4_opts_echo(iph, &in, opt_data, &out, icmp_prespec_is_ours, st) < 0)
		return;
	if (!icmp_global_allow_type(st, type, code, &apply))
		return;
	mark = icmp_reply_mark(st, req);
	daddr = req_saddr;
	saddr = req->dev ? route_spec_dst(st, req->dev, req_saddr, req_daddr,
					  icmp_pkb_to_local(st, req))
			 : req_daddr;
	if (out.optlen && out.srr)
		daddr = out.faddr;
	if (route_output(st, daddr, saddr, 0, mark, &rt) < 0)
		return;
	if (!icmp_xrlim_allow(st, &rt, daddr, apply))
		return;

	struct icmp_xmit x = {
		.head = head, .head_len = head_len,
		.data = data, .data_len = data_len,
		.saddr = saddr, .daddr = req_saddr,
		.tos = wire_ipv4_tos(iph), .mark = mark,
		.opt_data = opt_data, .opt = &out,
		.count_type = ICMP_ECHOREPLY,
	};
	icmp_push(st, &x);
}

/* __icmp_send(). RFC 1122 3.2.2: MUST send at least the IP header and 8 bytes of
 * header, MAY send more (we do, up to 576 bytes in all, RFC 1812 4.3.2.3); MUST NOT
 * reply to a multicast/broadcast IP or link address; MUST reply only to the first
 * fragment; MUST NOT answer an ICMP error with an error. */
void icmp_send(struct ips_stack *st, struct pkb *orig, int type, int code, uint32_t info)
{
	const uint8_t *end, *iph;
	uint8_t head[WIRE_ICMP_HLEN];
	uint8_t opt_data[MAX_IPOPTLEN];
	struct wire_ipv4_opts in, out;
	struct rt_result rt;
	uint32_t saddr, daddr, orig_saddr, orig_daddr, mark;
	bool apply = false;
	size_t ihl, avail;
	int room;
	uint8_t tos;

	if (!st->icmp || !orig || !orig->nh || type < 0 || type > 255)
		return;
	iph = orig->nh;
	end = orig->data + orig->len;
	if (iph < orig->buf || iph + WIRE_IPV4_HLEN > end)
		return;
	ihl = wire_ipv4_hdr_len(iph);
	avail = (size_t)(end - iph);
	orig_saddr = get_in4(iph + 12);
	orig_daddr = get_in4(iph + 16);

	/* No replies to physical multicast/broadcast (pkt_type != PACKET_HOST; our own
	 * packets and loopback ones count as host, as in Linux). */
	if (orig->pkt_type == PKB_BROADCAST || orig->pkt_type == PKB_MULTICAST ||
	    orig->pkt_type == PKB_OTHERHOST)
		return;
	/* Now check at the protocol level. */
	if (icmp_pkb_to_bcast(st, orig))
		return;
	/* A source that does not name one host (RFC 1122 3.2.2 (e)): Linux never gets
	 * here with one, its input route drops such packets as martians. */
	if (ip4_is_zeronet(orig_saddr) || ip4_is_lbcast(orig_saddr) ||
	    ip4_is_multicast(orig_saddr))
		return;
	/* Only reply to fragment 0. */
	if (get_be16(iph + 6) & WIRE_IPV4_OFFMASK)
		return;
	/* If we send an ICMP error to an ICMP error a mess would result. Unknown types
	 * count as errors ("think about it"). */
	if (icmp_type_is_error((unsigned int)type) && wire_ipv4_proto(iph) == IPPROTO_ICMP) {
		if (ihl > avail || avail - ihl < 1)
			return;
		uint8_t inner = wire_icmp_type(iph + ihl);

		if (inner > ICMP_NR_TYPES || icmp_type_is_error(inner))
			return;
	}
	/* The host-wide limit, unless the packet came in on loopback. */
	if (!icmp_dev_is_loopback(orig->dev) && !icmp_global_allow_type(st, type, code, &apply))
		return;

	/* Source address: the one the packet was sent to when that is ours; otherwise
	 * the route's (or, with icmp_errors_use_inbound_ifaddr, the arrival device's). */
	saddr = orig_daddr;
	if (!icmp_pkb_to_local(st, orig)) {
		struct netdev *in_dev = NULL;

		saddr = 0;
		if (icmp_pkb_received(orig) && st->sysctl.ip.icmp_errors_use_inbound_ifaddr)
			in_dev = stack_dev_by_index(st, IP4_CB(orig)->iif);
		if (in_dev)
			saddr = ip4_select_addr_scope(in_dev, orig_saddr, FIB_SCOPE_LINK);
	}
	tos = icmp_type_is_error((unsigned int)type)
		      ? (uint8_t)((wire_ipv4_tos(iph) & IPTOS_TOS_MASK) | ICMP_TOS_INTERNETCONTROL)
		      : wire_ipv4_tos(iph);
	mark = icmp_reply_mark(st, orig);

	memset(&out, 0, sizeof(out));
	if (ihl > WIRE_IPV4_HLEN && ihl <= avail) {
		if (icmp_rx_opts(st, orig, &in) < 0)
			return;
		if (in.optlen && wire_ipv4_opts_echo(iph, &in, opt_data, &out, icmp_prespec_is_ours, st) < 0)
			return;
	}

	/* icmp_route_lookup() */
	daddr = out.srr ? out.faddr : orig_saddr;
	if (route_output(st, daddr, saddr, 0, mark, &rt) < 0)
		return;
	/* Per-host limit. */
	if (!icmp_xrlim_allow(st, &rt, daddr, apply))
		return;

	room = rt.mtu > ICMP_RFC1812_ROOM ? ICMP_RFC1812_ROOM : (int)rt.mtu;
	room -= WIRE_IPV4_HLEN + out.optlen;
	room -= WIRE_ICMP_HLEN;
	/* Guard against tiny mtu: at least one IP header must fit to make sense. */
	if (room <= WIRE_IPV4_HLEN)
		return;
	if (!saddr)
		saddr = rt.prefsrc;
	/* "if we don't have a source address at this point, fall back to the dummy
	 * address instead of sending out a packet with a source address of 0.0.0.0" */
	if (!saddr)
		saddr = htonl(ICMP_INADDR_DUMMY);

	head[0] = (uint8_t)type;
	head[1] = (uint8_t)code;
	head[2] = head[3] = 0;
	memcpy(head + 4, &info, 4);	/* __be32, as Linux's callers pass it (htonl(mtu)) */

	struct icmp_xmit x = {
		.head = head, .head_len = WIRE_ICMP_HLEN,
		.data = iph, .data_len = avail > (size_t)room ? (size_t)room : avail,
		.saddr = saddr, .daddr = orig_saddr,
		.tos = tos, .mark = mark,
		.opt_data = opt_data, .opt = &out,
		.count_type = (uint8_t)type,
	};
	icmp_push(st, &x);
}

/* ---- Receive ---- */

/* icmp_socket_deliver(): hand the inner header to the protocol it quotes. */
static void icmp_socket_deliver(struct ips_stack *st, struct pkb *pkb, uint32_t info)
{
	const uint8_t *inner = pkb->data + WIRE_ICMP_HLEN;
	size_t inner_len = pkb->len - WIRE_ICMP_HLEN;
	const struct ip_proto_ops *ops;

	/* "Checkin full IP header plus 8 bytes of protocol to avoid additional coding at
	 * protocol handlers." */
	if (inner_len < (size_t)wire_ipv4_hdr_len(inner) + 8) {
		MIB_INC(st, IcmpInErrors);
		return;
	}
	if (st->icmp->sock.raw_icmp_error)
		st->icmp->sock.raw_icmp_error(st, pkb, inner[9], pkb->data[0], pkb->data[1], info,
					      inner, inner_len);
	ops = st->ip ? st->ip->protos[inner[9]] : NULL;
	if (ops && ops->err)
		ops->err(st, pkb, pkb->data[0], pkb->data[1], info, inner, inner_len);
}

/* icmp_unreach(): destination unreachable, source quench, time exceeded, parameter
 * problem. */
static void icmp_unreach(struct ips_stack *st, struct pkb *pkb)
{
	const uint8_t *icmph = pkb->data, *inner = pkb->data + WIRE_ICMP_HLEN;
	size_t inner_len = pkb->len - WIRE_ICMP_HLEN;
	uint32_t info = 0;

	/* Incomplete header? Only the IP header is checked here. */
	if (inner_len < WIRE_IPV4_HLEN || (inner[0] & 0x0f) < 5) {
		MIB_INC(st, IcmpInErrors);
		return;
	}
	switch (icmph[0]) {
	case ICMP_DEST_UNREACH:
		if ((icmph[1] & 15) == ICMP_FRAG_NEEDED) {
			/* ip_no_pmtu_disc (Documentation/networking/ip-sysctl.rst) */
			switch (st->sysctl.ip.ip_no_pmtu_disc) {
			default:
				break;
			case 2:
				return;
			case 3:
				/* icmp_strict_tag_validation: TCP's handler can check the
				 * quoted sequence number, so only TCP is trusted. */
				if (inner[9] != IPPROTO_TCP)
					return;
				/* fall through */
			case 0:
				info = get_be16(icmph + 6);
			}
		}
		if (icmph[1] > ICMP_NR_UNREACH)
			return;
		break;
	case ICMP_PARAMETERPROB:
		info = get_be32(icmph + 4) >> 24;
		break;
	case ICMP_TIME_EXCEEDED:
		if (icmph[1] == ICMP_EXC_FRAGTIME)
			return;
		break;
	}
	/* "Check the other end isn't violating RFC 1122. Some routers send bogus responses
	 * to broadcast frames." Only when told not to ignore them. */
	if (!st->sysctl.ip.icmp_ignore_bogus_error_responses &&
	    route_addr_type(st, get_in4(inner + 16)) == RTN_BROADCAST_)
		return;
	icmp_socket_deliver(st, pkb, info);
}

static void icmp_redirect(struct ips_stack *st, struct pkb *pkb)
{
	if (pkb->len - WIRE_ICMP_HLEN < WIRE_IPV4_HLEN) {
		MIB_INC(st, IcmpInErrors);
		return;
	}
	icmp_socket_deliver(st, pkb, get_be32(pkb->data + 4));
}

/* RFC 1122 3.2.2.6: MUST have an echo server; the data MUST be returned. RFC 1812
 * 4.3.3.6: MAY ignore echoes (icmp_echo_ignore_all), default not. The reply keeps the
 * code, identifier and sequence number. */
static void icmp_echo(struct ips_stack *st, struct pkb *pkb)
{
	uint8_t head[WIRE_ICMP_HLEN];

	if (st->sysctl.ip.icmp_echo_ignore_all)
		return;
	memcpy(head, pkb->data, WIRE_ICMP_HLEN);
	head[0] = ICMP_ECHOREPLY;
	icmp_reply(st, pkb, head, WIRE_ICMP_HLEN, pkb->data + WIRE_ICMP_HLEN,
		   pkb->len - WIRE_ICMP_HLEN);
}

/* RFC 1122 3.2.2.8: MAY answer timestamps. Linux does, with the originate timestamp
 * copied and receive = transmit = now (ms since midnight UT): always 20 bytes. */
static bool icmp_timestamp(struct ips_stack *st, struct pkb *pkb)
{
	uint8_t head[WIRE_ICMP_HLEN + 12];
	uint32_t now = icmp_timestamp_ms(st);

	if (pkb->len - WIRE_ICMP_HLEN < 4)
		return false;
	memcpy(head, pkb->data, WIRE_ICMP_HLEN);
	head[0] = ICMP_TIMESTAMPREPLY;
	head[1] = 0;
	memcpy(head + 8, pkb->data + 8, 4);
	put_be32(head + 12, now);
	put_be32(head + 16, now);
	icmp_reply(st, pkb, head, sizeof(head), NULL, 0);
	return true;
}

static void icmp_listeners_run(struct ips_stack *st, struct pkb *pkb)
{
	for (struct icmp_listener *l = st->icmp->listeners, *n; l; l = n) {
		n = l->next;	/* a listener may remove itself */
		l->fn(l->arg, pkb);
	}
}

/* icmp_rcv(): pkb->data at the ICMP header, pkb->nh at the IPv4 header (reassembled
 * already). Consumes pkb. */
static void icmp_rcv(struct ips_stack *st, struct pkb *pkb)
{
	uint8_t type;

	MIB_INC(st, IcmpInMsgs);
	/* RFC 1122 3.2.2: the checksum covers the whole message. */
	if (!pkb->ip_summed && ips_csum_fold(ips_csum_add(0, pkb->data, pkb->len)) != 0) {
		MIB_INC(st, IcmpInCsumErrors);
		goto error;
	}
	if (pkb->len < WIRE_ICMP_HLEN)
		goto error;
	pkb->th = pkb->data;
	type = pkb->data[0];
	icmp_count_in(st, type);
	icmp_listeners_run(st, pkb);

	/* PROBE (RFC 8335) is off unless icmp_echo_enable_probe; we do not answer it.
	 * Its replies go to ping sockets (none here). Neither is an error. */
	if (type == ICMP_TYPE_EXT_ECHO || type == ICMP_TYPE_EXT_ECHOREPLY)
		goto out;
	/* RFC 1122 3.2.2: unknown message types MUST be silently discarded. */
	if (type > ICMP_NR_TYPES)
		goto error;
	if (icmp_pkb_to_bcast(st, pkb)) {
		/* RFC 1122 3.2.2.6: an echo to broadcast MAY be silently ignored; 3.2.2.8:
		 * likewise a timestamp. Linux drops them as errors when told to. */
		if ((type == ICMP_ECHO || type == ICMP_TIMESTAMP) &&
		    st->sysctl.ip.icmp_echo_ignore_broadcasts)
			goto error;
		if (type != ICMP_ECHO && type != ICMP_TIMESTAMP && type != ICMP_ADDRESS &&
		    type != ICMP_ADDRESSREPLY)
			goto error;
	}
	switch (type) {
	case ICMP_DEST_UNREACH:
	case ICMP_SOURCE_QUENCH:
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAMETERPROB:
		icmp_unreach(st, pkb);
		break;
	case ICMP_REDIRECT:
		icmp_redirect(st, pkb);
		break;
	case ICMP_ECHO:
		icmp_echo(st, pkb);
		break;
	case ICMP_TIMESTAMP:
		if (!icmp_timestamp(st, pkb))
			goto error;
		break;
	case ICMP_ECHOREPLY:
		if (st->icmp->sock.ping_rcv)
			st->icmp->sock.ping_rcv(st, pkb);
		break;
	default:
		/* the rest: discarded, counted only. */
		break;
	}
out:
	pkb_free(pkb);
	return;
error:
	MIB_INC(st, IcmpInErrors);
	pkb_free(pkb);
}

/* ---- Errors about ICMP we sent ---- */

struct default_gw_match {
	uint32_t gw;
	const struct netdev *dev;
	bool found;
};

static int default_gw_cb(void *arg, const struct fib_route *r)
{
	struct default_gw_match *m = arg;

	if (r->plen == 0 && r->gw == m->gw && r->dev == m->dev) {
		m->found = true;
		return 1;
	}
	return 0;
}

void icmp_redirect_learn(struct ips_stack *st, struct pkb *icmp_pkb, const uint8_t *inner,
			 size_t inner_len)
{
	const uint8_t *icmph = icmp_pkb->th ? icmp_pkb->th : icmp_pkb->data;
	uint32_t new_gw = get_in4(icmph + 4);
	uint32_t old_gw = wire_ipv4_saddr(icmp_pkb->nh);
	uint32_t daddr, saddr;
	struct netdev *dev = icmp_pkb->dev;
	struct rt_result rt;
	const struct sysctl_ns *ns = &st->sysctl;

	if (inner_len < WIRE_IPV4_HLEN || !dev)
		return;
	daddr = get_in4(inner + 16);
	saddr = get_in4(inner + 12);
	/* __ip_do_redirect() */
	switch (icmph[1] & 7) {
	case ICMP_REDIR_NET:
	case ICMP_REDIR_HOST:
	case ICMP_REDIR_NETTOS:
	case ICMP_REDIR_HOSTTOS:
		break;
	default:
		return;
	}
	if (route_output(st, daddr, ip4_local_dev(st, saddr) ? saddr : 0, 0, 0, &rt) < 0)
		return;
	/* Only the gateway we use for daddr may redirect us. */
	if (!rt.gateway || rt.nexthop != old_gw)
		return;
	if (!dev->in)
		return;
	if (new_gw == old_gw || !in_dev_rx_redirects(ns, &dev->conf) ||
	    ip4_is_multicast(new_gw) || ip4_is_lbcast(new_gw) || ip4_is_zeronet(new_gw))
		return;
	if (!in_dev_shared_media(ns, &dev->conf)) {
		/* inet_addr_onlink(in_dev, new_gw, old_gw) */
		bool onlink = false;

		for (const struct in_ifaddr *ifa = dev->in->ifa_list; ifa; ifa = ifa->next) {
			if (ifa->secondary)
				continue;
			if (((new_gw ^ ifa->local) & ifa->mask) == 0 &&
			    ((old_gw ^ ifa->local) & ifa->mask) == 0)
				onlink = true;
		}
		if (!onlink)
			return;
		/* secure_redirects: only to a gateway of one of our default routes on
		 * this device (ip_fib_check_default()). */
		if (in_dev_sec_redirects(ns, &dev->conf)) {
			struct default_gw_match m = { .gw = new_gw, .dev = dev };

			route_foreach(st, default_gw_cb, &m);
			if (!m.found)
				return;
		}
	} else if (route_addr_type(st, new_gw) != RTN_UNICAST_) {
		return;
	}
	/* Linux applies the redirect only once the new gateway's neighbour entry is
	 * valid (and otherwise just starts resolving it); the neighbour cache is the
	 * link layer's, so we apply it at once. */
	pmtu_exception_set(st, daddr, new_gw, 0, false,
			   stack_now_ms(st) + 300 * 1000ull /* ip_rt_gc_timeout */);
}

/* Was this echo request (quoted in an error) sent lately by icmp_echo_send()? */
static bool icmp_echo_recent(struct ips_stack *st, const uint8_t *inner, size_t inner_len)
{
	size_t ihl = wire_ipv4_hdr_len(inner);
	uint32_t daddr = get_in4(inner + 16);
	uint16_t id;

	if (inner_len < ihl + 8)
		return false;
	id = get_be16(inner + ihl + 4);
	for (unsigned int i = 0; i < ICMP_ECHO_RECENT; i++)
		if (st->icmp->echo_recent[i].used && st->icmp->echo_recent[i].daddr == daddr &&
		    st->icmp->echo_recent[i].id == id)
			return true;
	return false;
}

static void icmp_echo_remember(struct icmp_state *is, uint32_t daddr, uint16_t id)
{
	unsigned int i;

	for (i = 0; i < ICMP_ECHO_RECENT; i++)
		if (is->echo_recent[i].used && is->echo_recent[i].daddr == daddr &&
		    is->echo_recent[i].id == id)
			return;
	i = is->echo_recent_next++ % ICMP_ECHO_RECENT;
	is->echo_recent[i].daddr = daddr;
	is->echo_recent[i].id = id;
	is->echo_recent[i].used = true;
}

/* icmp_err(): the ICMP protocol's own error handler, for errors quoting an ICMP
 * message we sent. A quoted echo reply (sent by the kernel side, icmp_reply()) updates
 * the PMTU / follows the redirect here; anything else is for ping sockets (ping_err()).
 * icmp_echo_send() acts as a raw ICMP socket would (raw_err()) for its own requests. */
static void icmp_err(struct ips_stack *st, struct pkb *icmp_pkb, int type, int code,
		     uint32_t info, const uint8_t *inner, size_t inner_len)
{
	size_t ihl = wire_ipv4_hdr_len(inner);

	if (inner[ihl] != ICMP_ECHOREPLY) {
		if (st->icmp->sock.ping_err)
			st->icmp->sock.ping_err(st, icmp_pkb, type, code, info, inner, inner_len);
		if (inner[ihl] != ICMP_ECHO || !icmp_echo_recent(st, inner, inner_len))
			return;
	}
	if (type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED)
		pmtu_update(st, get_in4(inner + 16), info);
	else if (type == ICMP_REDIRECT)
		icmp_redirect_learn(st, icmp_pkb, inner, inner_len);
}

/* ---- Our echo sender ---- */

int icmp_echo_send(struct ips_stack *st, const struct icmp_echo_req *req, uint32_t *mtu_out)
{
	uint8_t opt_data[MAX_IPOPTLEN];
	struct wire_ipv4_opts opt;
	struct ip4_out o = {
		.daddr = req->daddr,
		.saddr = req->saddr,
		.proto = IPPROTO_ICMP,
		.tos = req->tos,
		.ttl = req->ttl,
		.pmtudisc = req->pmtudisc,
		.oif = req->oif,
		.broadcast_ok = req->broadcast,
	};
	size_t optlen = 0;
	struct pkb *pkb;
	uint8_t *p;

	memset(&opt, 0, sizeof(opt));
	if (req->opts_len) {
		/* setsockopt(IP_OPTIONS) as root */
		if (req->opts_len > MAX_IPOPTLEN)
			return -EINVAL;
		memset(opt_data, 0, sizeof(opt_data));
		memcpy(opt_data, req->opts, req->opts_len);
		optlen = req->opts_len;
		if (wire_ipv4_opts_compile_user(opt_data, &optlen, true, icmp_prespec_is_ours, st,
						&opt) < 0)
			return -EINVAL;
		o.opts = opt_data;
		o.opts_len = (uint8_t)optlen;
		o.opt = &opt;
	}
	/* raw_sendmsg()/ip_append_data(): the datagram may not exceed 65535 bytes. */
	if (req->len > 0xffff - WIRE_IPV4_HLEN - optlen - WIRE_ICMP_HLEN)
		return -EMSGSIZE;
	pkb = stack_pkb_alloc(st, WIRE_ICMP_HLEN + req->len);
	if (!pkb)
		return -ENOBUFS;
	p = pkb_put(pkb, WIRE_ICMP_HLEN + req->len);
	struct wire_icmp h = { .type = ICMP_ECHO, .code = req->code };

	h.un.echo.id = req->id;
	h.un.echo.seq = req->seq;
	wire_icmp_emit(p, &h, req->len ? req->payload : NULL, req->len);
	icmp_out_count(st, ICMP_ECHO);
	icmp_echo_remember(st->icmp, req->daddr, req->id);
	return ip4_output(st, pkb, &o, mtu_out);
}

/* ---- Listeners ---- */

void icmp_listener_add(struct ips_stack *st, struct icmp_listener *l)
{
	l->next = st->icmp->listeners;
	st->icmp->listeners = l;
}

void icmp_listener_del(struct ips_stack *st, struct icmp_listener *l)
{
	for (struct icmp_listener **pp = &st->icmp->listeners; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			l->next = NULL;
			return;
		}
	}
}

/* ---- Life ---- */

static const struct ip_proto_ops icmp_proto_ops = {
	.input = icmp_rcv,
	.err = icmp_err,
};

int icmp_init(struct ips_stack *st)
{
	int err;

	st->icmp = calloc(1, sizeof(*st->icmp));
	if (!st->icmp)
		return -ENOMEM;
	/* Linux's stamp starts 0 while jiffies starts far from it, so the first check
	 * refills the bucket completely; make ours a second old for the same effect. */
	st->icmp->global_stamp = inet_jiffies(st) - inet_hz(st);
	err = inet_peers_init(st);
	if (!err)
		err = pmtu_init(st);
	if (!err)
		err = ipfrag_init(st);
	if (!err)
		err = ip4_proto_register(st, IPPROTO_ICMP, &icmp_proto_ops);
	return err;
}

void icmp_fini(struct ips_stack *st)
{
	if (!st->icmp)
		return;
	ipfrag_fini(st);
	pmtu_fini(st);
	inet_peers_fini(st);
	free(st->icmp);
	st->icmp = NULL;
}

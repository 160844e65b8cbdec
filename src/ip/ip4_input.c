/* IPv4 receive: Linux's ip_rcv_core() -> ip_rcv_finish_core() -> dst_input(), that is
 * ip_local_deliver() -> ip_local_deliver_finish(), ip_forward() or ip_error()
 * (net/ipv4/ip_input.c, route.c). Every drop bumps the counter Linux bumps, and only
 * that one; where Linux counts nothing, neither do we. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip_icmp.h>
#include <string.h>

#include "core/stack.h"
#include "core/sysctl.h"
#include "ip/icmp.h"
#include "ip/inetpeer.h"
#include "ip/ip.h"
#include "ip/ip_state.h"
#include "ip/route.h"
#include "link/netdev.h"
#include "wire/ipv4.h"
#include "wire/wire.h"

/* net/ipv4/route.c: ip_rt_error_cost = HZ, ip_rt_error_burst = 5 * HZ. */
#define IP_RT_ERROR_COST_MS	1000
#define IP_RT_ERROR_BURST_MS	5000

static void ip4_local_deliver_finish(struct ips_stack *st, struct pkb *pkb)
{
	struct ip_state *ip = st->ip;
	uint8_t proto;
	size_t hl;
	bool raw;

	pkb->nh = pkb->data;
	hl = wire_ipv4_hdr_len(pkb->data);
	proto = pkb->data[9];
	pkb_pull(pkb, hl);
	pkb->th = pkb->data;

	/* ip_protocol_deliver_rcu(): raw sockets get a copy first. */
	raw = ip->raw_deliver && ip->raw_deliver(st, pkb, proto);
	if (ip->protos[proto]) {
		MIB_INC(st, IpInDelivers);
		ip->protos[proto]->input(st, pkb);
		return;
	}
	if (!raw) {
		MIB_INC(st, IpInUnknownProtos);
		/* icmp_send() quotes from pkb->nh. */
		icmp_send(st, pkb, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0);
	} else {
		MIB_INC(st, IpInDelivers);
	}
	pkb_free(pkb);
}

/* ip_local_deliver(): reassemble, then hand to the protocol. */
static void ip4_local_deliver(struct ips_stack *st, struct pkb *pkb)
{
	uint16_t frag = get_be16(pkb->data + 6);

	if (frag & (WIRE_IPV4_MF | WIRE_IPV4_OFFMASK)) {
		pkb = ip4_defrag(st, pkb);
		if (!pkb)
			return;
	}
	ip4_local_deliver_finish(st, pkb);
}

/* ip_error(): a packet whose input route is an "unreachable" one. */
static void ip4_error(struct ips_stack *st, struct pkb *pkb, const struct rt_result *rt)
{
	struct netdev *dev = pkb->dev;
	struct inet_peer *peer;
	int code;

	if (!in_dev_forward(&st->sysctl, &dev->conf)) {
		if (rt->error == -EHOSTUNREACH)
			MIB_INC(st, IpInAddrErrors);
		else if (rt->error == -ENETUNREACH)
			MIB_INC(st, IpExtInNoRoutes);
		goto out;
	}
	switch (rt->error) {
	case -EHOSTUNREACH:
		code = ICMP_HOST_UNREACH;
		break;
	case -ENETUNREACH:
		code = ICMP_NET_UNREACH;
		MIB_INC(st, IpExtInNoRoutes);
		break;
	case -EACCES:
		code = ICMP_PKT_FILTERED;
		break;
	default:	/* blackhole (-EINVAL): silently */
		goto out;
	}
	/* The per-source token bucket, shared with the ICMP limiter (inet_peer). */
	peer = inet_peer_get(st, get_in4(pkb->data + 12));
	if (!peer || inet_peer_take_token(st, peer,
					  inet_msecs_to_jiffies(st, IP_RT_ERROR_BURST_MS),
					  inet_msecs_to_jiffies(st, IP_RT_ERROR_COST_MS)))
		icmp_send(st, pkb, ICMP_DEST_UNREACH, code, 0);
out:
	pkb_free(pkb);
}

/* Packets we sent to ourselves keep the route they were sent with in Linux (the dst
 * rides along through loopback_xmit), so they never meet the martian checks: our own
 * address as the source is fine on lo. Reconstruct that route from the destination. */
static bool ip4_loopback_route(struct ips_stack *st, struct netdev *dev, struct pkb *pkb,
			       struct rt_result *rt)
{
	uint32_t daddr = get_in4(pkb->data + 16);

	if (dev->type != NETDEV_LOOPBACK && pkb->pkt_type != PKB_LOOPBACK)
		return false;
	memset(rt, 0, sizeof(*rt));
	rt->dev = st->lo;
	switch (route_addr_type(st, daddr)) {
	case RTN_LOCAL_:
		rt->type = RTN_LOCAL_;
		rt->prefsrc = daddr;
		return true;
	case RTN_BROADCAST_:
		rt->type = RTN_BROADCAST_;
		return true;
	case RTN_MULTICAST_:
		rt->type = RTN_MULTICAST_;
		return true;
	default:
		return false;
	}
}

/* ip_rcv_finish_core() + dst_input() */
static void ip4_rcv_finish(struct ips_stack *st, struct netdev *dev, struct pkb *pkb)
{
	struct ip4_cb *cb = IP4_CB(pkb);
	struct rt_result rt;
	uint8_t *iph = pkb->data;

	if (!ip4_loopback_route(st, dev, pkb, &rt)) {
		int err = route_input(st, dev, get_in4(iph + 16), get_in4(iph + 12), &rt);

		if (err < 0) {
			/* Martians are not counted (Linux: RT_CACHE_STAT only, not in nstat);
			 * a reverse-path failure is. */
			if (err == -EXDEV)
				MIB_INC(st, TcpExtIPReversePathFilter);
			pkb_free(pkb);
			return;
		}
	}
	if (rt.type == RTN_LOCAL_)
		cb->flags |= IP4_CB_LOCAL_UNICAST;
	else if (rt.type == RTN_BROADCAST_)
		cb->flags |= IP4_CB_BROADCAST;
	else if (rt.type == RTN_MULTICAST_)
		cb->flags |= IP4_CB_MULTICAST;

	if (wire_ipv4_hdr_len(iph) > WIRE_IPV4_HLEN && ip4_rcv_options(st, pkb, &rt) < 0) {
		pkb_free(pkb);
		return;
	}

	if (rt.type == RTN_MULTICAST_) {
		MIB_INC(st, IpExtInMcastPkts);
		MIB_ADD(st, IpExtInMcastOctets, pkb->len);
	} else if (rt.type == RTN_BROADCAST_) {
		MIB_INC(st, IpExtInBcastPkts);
		MIB_ADD(st, IpExtInBcastOctets, pkb->len);
	} else if ((pkb->pkt_type == PKB_BROADCAST || pkb->pkt_type == PKB_MULTICAST) &&
		   in_dev_drop_unicast_in_l2_multicast(&st->sysctl, &dev->conf)) {
		/* RFC 1122 3.3.6: unicast IP in a link-layer broadcast. */
		pkb_free(pkb);
		return;
	}

	switch (rt.type) {
	case RTN_LOCAL_:
	case RTN_BROADCAST_:
	case RTN_MULTICAST_:
		ip4_local_deliver(st, pkb);
		return;
	case RTN_UNICAST_:
		ip4_forward(st, pkb, &rt);
		return;
	case RTN_UNREACHABLE_:
		ip4_error(st, pkb, &rt);
		return;
	default:
		pkb_free(pkb);
		return;
	}
}

void ip4_rcv(struct netdev *dev, struct pkb *pkb)
{
	struct ips_stack *st = dev->st;
	const uint8_t *iph;
	unsigned int ihl, tot_len;

	/* "When the interface is in promisc. mode, drop all the crap that it receives." */
	if (pkb->pkt_type == PKB_OTHERHOST) {
		dev->rx_otherhost_dropped++;
		pkb_free(pkb);
		return;
	}
	MIB_INC(st, IpInReceives);
	MIB_ADD(st, IpExtInOctets, pkb->len);

	pkb = pkb_unshare(pkb);
	if (!pkb) {
		MIB_INC(st, IpInDiscards);
		return;
	}
	pkb->dev = dev;
	if (pkb->len < WIRE_IPV4_HLEN)
		goto inhdr_error;
	iph = pkb->data;
	ihl = wire_ipv4_hdr_len(iph) / 4;
	if (ihl < 5 || wire_ipv4_version(iph) != 4)
		goto inhdr_error;
	/* IpExtInNoECTPkts, InECT1Pkts, InECT0Pkts, InCEPkts: in ECN codepoint order. */
	st->mib.v[MIB_IpExtInNoECTPkts + (wire_ipv4_tos(iph) & 3)]++;
	if (pkb->len < ihl * 4)
		goto inhdr_error;
	/* RFC 1122 3.2.1.2: MUST silently discard any IP frame that fails the checksum. */
	if (!wire_ipv4_csum_ok(iph, ihl * 4)) {
		MIB_INC(st, IpExtInCsumErrors);
		goto inhdr_error;
	}
	tot_len = get_be16(iph + 2);
	if (pkb->len < tot_len) {
		MIB_INC(st, IpExtInTruncatedPkts);
		pkb_free(pkb);
		return;
	}
	if (tot_len < ihl * 4)
		goto inhdr_error;
	/* The medium may have padded the frame: trim to the datagram. */
	pkb_trim(pkb, tot_len);
	pkb->nh = pkb->data;
	pkb->th = pkb->data + ihl * 4;
	memset(IP4_CB(pkb), 0, sizeof(struct ip4_cb));
	IP4_CB(pkb)->iif = dev->ifindex;
	ip4_rcv_finish(st, dev, pkb);
	return;

inhdr_error:
	MIB_INC(st, IpInHdrErrors);
	pkb_free(pkb);
}

/* ipv4_link_failure(): the neighbour could not be resolved; tell the local sender. */
void ip4_link_failure(struct ips_stack *st, struct pkb *pkb)
{
	const uint8_t *end = pkb->data + pkb->len;
	uint8_t *iph = pkb->nh ? pkb->nh : pkb->data;
	size_t hl;
	uint8_t pp;

	/* ipv4_send_dest_unreach(): "Recompile ip options since IPCB may not be valid
	 * anymore. Also check we have a reasonable ipv4 header." */
	pkb->nh = iph;
	if (iph < pkb->data || end - iph < WIRE_IPV4_HLEN || wire_ipv4_version(iph) != 4 ||
	    wire_ipv4_hdr_len(iph) < WIRE_IPV4_HLEN)
		goto out;
	hl = wire_ipv4_hdr_len(iph);
	memset(IP4_CB(pkb), 0, sizeof(struct ip4_cb));
	if (hl > WIRE_IPV4_HLEN &&
	    ((size_t)(end - iph) < hl || wire_ipv4_opts_parse(iph, hl, &IP4_CB(pkb)->opt, &pp) < 0))
		goto out;
	icmp_send(st, pkb, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
out:
	pkb_free(pkb);
}

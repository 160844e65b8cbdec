/* IPv4 output of locally generated datagrams: route, header, then the shared tail that
 * forwarded packets take too (Linux net/ipv4/ip_output.c: __ip_make_skb() +
 * ip_local_out() + ip_output()/ip_mc_output() + ip_finish_output(2)).
 *
 * Counters as Linux 6.18 counts them (checked with nstat in a netns: one 3028-byte
 * ping over a 1500 MTU moves OutRequests by 1, FragCreates and OutTransmits by 3 and
 * OutOctets by the bytes of the three fragments): IpOutRequests once per datagram in
 * ip_local_out, IpOutTransmits and IpExtOutOctets per packet handed to the device. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <string.h>

#include "core/stack.h"
#include "core/sysctl.h"
#include "ip/gso.h"
#include "ip/icmp.h"
#include "ip/ip.h"
#include "ip/ip_state.h"
#include "ip/route.h"
#include "link/link.h"
#include "link/netdev.h"
#include "wire/ipv4.h"
#include "wire/wire.h"

/* ip_finish_output2(): hand one packet (data at its IPv4 header) to the link. */
static int ip4_finish_output2(struct ips_stack *st, struct pkb *pkb, const struct rt_result *rt)
{
	if (rt->type == RTN_MULTICAST_) {
		MIB_INC(st, IpExtOutMcastPkts);
		MIB_ADD(st, IpExtOutMcastOctets, pkb->len);
	} else if (rt->type == RTN_BROADCAST_) {
		MIB_INC(st, IpExtOutBcastPkts);
		MIB_ADD(st, IpExtOutBcastOctets, pkb->len);
	}
	/* "OUTOCTETS should be counted after fragment" */
	MIB_INC(st, IpOutTransmits);
	MIB_ADD(st, IpExtOutOctets, pkb->len);
	pkb->nh = pkb->data;
	pkb->dev = rt->dev;
	return link_output(rt->dev, pkb, rt->nexthop);
}

/* ip_finish_output_gso(): a super-packet whose segments do not fit the MTU (a smaller
 * route than the one it was made for, or forwarded from a larger link) is cut here, and
 * each segment takes the ordinary path (fragmentation or "fragmentation needed"). */
static int ip4_finish_output_gso(struct ips_stack *st, struct pkb *pkb, const struct rt_result *rt)
{
	struct pkb_queue q;
	int err, ret = 0;

	pkb_queue_init(&q);
	err = gso_segment(pkb, 0, &q);
	pkb_free(pkb);
	if (err < 0) {
		MIB_INC(st, IpOutDiscards);
		return err;
	}
	while ((pkb = pkb_queue_pop(&q)) != NULL) {
		err = ip4_finish_output(st, pkb, rt);
		if (err < 0 && !ret)
			ret = err;
	}
	return ret;
}

/* ip_finish_output() + ip_fragment(). */
int ip4_finish_output(struct ips_stack *st, struct pkb *pkb, const struct rt_result *rt)
{
	uint32_t mtu = rt->mtu ? rt->mtu : rt->dev->mtu;

	if (pkb->gso_size) {
		if (gso_network_seglen(pkb, pkb->data) <= mtu)
			return ip4_finish_output2(st, pkb, rt);
		return ip4_finish_output_gso(st, pkb, rt);
	}
	if (pkb->len <= mtu)
		return ip4_finish_output2(st, pkb, rt);
	if ((get_be16(pkb->data + 6) & WIRE_IPV4_DF) && !(IP4_CB(pkb)->flags & IP4_CB_IGNORE_DF)) {
		/* ip_fragment(): DF and too big. The ICMP goes to the packet's source, which
		 * may be us (then it updates our own PMTU, as in Linux). */
		MIB_INC(st, IpFragFails);
		pkb->nh = pkb->data;
		icmp_send(st, pkb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, htonl(mtu));
		pkb_free(pkb);
		return -EMSGSIZE;
	}
	return ip4_fragment(st, pkb, mtu, rt, ip4_finish_output2);
}

/* Loop a copy of an outgoing broadcast or multicast back to ourselves (ip_mc_output()
 * -> dev_loopback_xmit()), through lo so that it is received on a later pass. */
static void ip4_loop_copy(struct ips_stack *st, const struct pkb *pkb)
{
	struct pkb *copy;

	if (!st->lo)
		return;
	copy = pkb_copy(pkb);
	if (!copy)
		return;
	copy->pkt_type = PKB_LOOPBACK;
	copy->nh = copy->data;
	copy->dev = st->lo;
	link_output(st->lo, copy, get_in4(copy->data + 16));
}

static int ip4_pmtudisc(struct ips_stack *st, const struct ip4_out *o)
{
	if (o->pmtudisc >= 0)
		return o->pmtudisc;
	/* inet_create(): the socket default comes from ip_no_pmtu_disc. */
	return st->sysctl.ip.ip_no_pmtu_disc ? IP_PMTUDISC_DONT : IP_PMTUDISC_WANT;
}

int ip4_output(struct ips_stack *st, struct pkb *pkb, const struct ip4_out *o, uint32_t *mtu_out)
{
	const struct wire_ipv4_opts *copt = o->opts_len ? o->opt : NULL;
	struct flow4 fl = {
		.daddr = copt && copt->srr ? copt->faddr : o->daddr,
		.saddr = o->saddr,
		.oif = o->oif,
		.mark = o->mark,
		/* SO_DONTROUTE / MSG_DONTROUTE: RTO_ONLINK, only scope-link routes. */
		.scope = o->dontroute ? FIB_SCOPE_LINK : FIB_SCOPE_UNIVERSE,
	};
	int pmtudisc = ip4_pmtudisc(st, o);
	bool ignore_df, df;
	uint16_t gso_size = pkb->gso_size, gso_segs = pkb->gso_segs;
	struct rt_result rt;
	struct wire_ipv4 h;
	size_t hlen = WIRE_IPV4_HLEN + o->opts_len, total, seglen;
	uint32_t mtu;
	int err;

	if (o->opts_len > WIRE_IPV4_MAX_OPTLEN || (o->opts_len & 3) || (o->opts_len && !o->opts)) {
		pkb_free(pkb);
		return -EINVAL;
	}
	err = route_output_flow(st, &fl, &rt);
	if (err) {
		if (err == -ENETUNREACH)
			MIB_INC(st, IpOutNoRoutes);
		pkb_free(pkb);
		return err;
	}
	if (copt && copt->is_strictroute && rt.gateway) {
		/* A strict source route's first hop must be a neighbour. */
		MIB_INC(st, IpOutNoRoutes);
		pkb_free(pkb);
		return -EHOSTUNREACH;
	}
	if (rt.type == RTN_BROADCAST_ && !o->broadcast_ok) {
		pkb_free(pkb);
		return -EACCES;
	}

	/* ip_sk_use_pmtu(): PROBE, INTERFACE and OMIT size by the device. */
	mtu = pmtudisc < IP_PMTUDISC_PROBE ? rt.mtu : rt.dev->mtu;
	/* ip_sk_ignore_df() */
	ignore_df = pmtudisc < IP_PMTUDISC_DO || pmtudisc == IP_PMTUDISC_OMIT;
	total = hlen + pkb->len;
	/* A super-packet (TCP) is sized by its segments: they are the packets that go. */
	seglen = gso_size ? hlen + (size_t)(pkb->data[12] >> 4) * 4 + gso_size : total;
	if (seglen > total)
		seglen = total;
	if (total > 0xffff || (!ignore_df && seglen > mtu)) {
		/* __ip_append_data(): the datagram cannot go unfragmented. */
		if (mtu_out)
			*mtu_out = mtu;
		pkb_free(pkb);
		return -EMSGSIZE;
	}
	/* __ip_make_skb(): DF always for DO/PROBE; for WANT when it fits the path and the
	 * route's MTU is not locked (ip_dont_fragment()). */
	df = pmtudisc == IP_PMTUDISC_DO || pmtudisc == IP_PMTUDISC_PROBE ||
	     (seglen <= rt.mtu && pmtudisc == IP_PMTUDISC_WANT && !rt.pmtu_locked);

	if (pkb_headroom(pkb) < hlen + 16 || pkb_shared(pkb)) {
		struct pkb *n = pkb_alloc(&st->pool, pkb->len);

		if (!n) {
			pkb_free(pkb);
			MIB_INC(st, IpOutDiscards);
			return -ENOBUFS;
		}
		/* Data alone: the metadata is set from o below. */
		memcpy(pkb_put(n, pkb->len), pkb->data, pkb->len);
		pkb_csum_copy_state(n, pkb);
		pkb_free(pkb);
		pkb = n;
	}
	memset(&h, 0, sizeof(h));
	h.tos = o->tos;
	h.tot_len = (uint16_t)total;
	h.df = df;
	h.ttl = (uint8_t)(o->ttl >= 0 ? o->ttl
			  : rt.type == RTN_MULTICAST_ ? 1 : st->sysctl.ip.ip_default_ttl);
	h.proto = o->proto;
	h.saddr = fl.saddr;
	h.daddr = copt && copt->srr ? copt->faddr : o->daddr;
	h.opts = o->opts;
	h.opts_len = o->opts_len;
	/* ip_select_ident_segs(): a connected socket's own counter; 0 for a DF packet that
	 * may not be fragmented; otherwise the hashed per-destination counters. */
	if (o->set_id)
		h.id = o->id;
	else if (df && !ignore_df)
		h.id = 0;
	else
		h.id = ip4_select_id(st, h.saddr, h.daddr, h.proto);
	pkb->th = pkb->data;
	wire_ipv4_emit(pkb_push(pkb, hlen), &h);
	pkb->nh = pkb->data;
	if (copt) {
		/* ip_options_build() */
		wire_ipv4_opts_write(pkb->data, o->opts, copt, o->daddr, fl.saddr,
				     icmp_timestamp_ms(st));
		wire_ipv4_fix_csum(pkb->data);
	}
	pkb->mark = o->mark;
	pkb->priority = o->priority;
	pkb->pkt_type = PKB_OUTGOING;
	pkb->gso_size = gso_size;
	pkb->gso_segs = gso_segs;
	memset(IP4_CB(pkb), 0, sizeof(struct ip4_cb));
	if (ignore_df)
		IP4_CB(pkb)->flags |= IP4_CB_IGNORE_DF;

	/* ip_local_out() */
	MIB_INC(st, IpOutRequests);
	/* ip_mc_output(): broadcasts and multicasts are looped back to local listeners. */
	if ((rt.type == RTN_BROADCAST_ || rt.type == RTN_MULTICAST_) && rt.dev != st->lo) {
		ip4_loop_copy(st, pkb);
		/* "Multicasts with ttl 0 must not go beyond the host" */
		if (rt.type == RTN_MULTICAST_ && h.ttl == 0) {
			pkb_free(pkb);
			return 0;
		}
	}
	rt.mtu = mtu;
	err = ip4_finish_output(st, pkb, &rt);
	/* A packet waiting for ARP counts as sent (neigh_resolve_output()); a full device
	 * queue is told at once, as the qdisc's NET_XMIT_DROP reaches ip_local_out()'s
	 * caller (TCP enters CWR, UDP counts SndbufErrors, ping says ENOBUFS). */
	return err == -EMSGSIZE || err == -ENOBUFS ? err : 0;
}

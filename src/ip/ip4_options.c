/* IP options on the receive and forward paths (Linux net/ipv4/ip_input.c
 * ip_rcv_options(), ip_options.c ip_options_rcv_srr() and ip_forward_options()). The
 * byte-level work is the wire layer's (src/wire/ipv4_opts.h); here are the decisions
 * that need routes and addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip_icmp.h>
#include <string.h>

#include "core/stack.h"
#include "core/sysctl.h"
#include "ip/icmp.h"
#include "ip/ip.h"
#include "ip/ip_state.h"
#include "ip/route.h"
#include "link/netdev.h"
#include "wire/ipv4.h"
#include "wire/wire.h"

/* TS flag 3: Linux timestamps a prespecified address when inet_addr_type() is not
 * RTN_UNICAST (ours, or broadcast/multicast). */
static bool prespec_is_ours(void *arg, uint32_t addr)
{
	return route_addr_type(arg, addr) != RTN_UNICAST_;
}

/* ip_options_rcv_srr(): walk the source route while its hops are our own addresses;
 * the first hop that is not makes the packet go there (srr_is_hit). rt is replaced by
 * the route to that hop, as Linux replaces the skb's dst. Returns 0 or -EINVAL (drop;
 * an ICMP parameter problem may have been sent). */
static int ip4_options_rcv_srr(struct ips_stack *st, struct pkb *pkb, struct rt_result *rt)
{
	struct wire_ipv4_opts *opt = &IP4_CB(pkb)->opt;
	uint8_t *iph = pkb->data;
	uint32_t saddr = get_in4(iph + 12), nexthop = 0;
	unsigned int ptr = iph[opt->srr + 2];
	struct rt_result rt2 = *rt;
	bool hit = false;

	if (pkb->pkt_type != PKB_HOST)
		return -EINVAL;
	if (rt->type == RTN_UNICAST_) {
		if (!opt->is_strictroute)
			return 0;
		icmp_send(st, pkb, ICMP_PARAMETERPROB, 0, htonl(16u << 24));
		return -EINVAL;
	}
	if (rt->type != RTN_LOCAL_)
		return -EINVAL;
	for (;;) {
		uint8_t pp = 0;
		int r = wire_ipv4_opts_srr_hop(iph, opt, ptr, &nexthop, &pp);

		if (r == 0)
			break;
		if (r < 0) {
			icmp_send(st, pkb, ICMP_PARAMETERPROB, 0, htonl((uint32_t)pp << 24));
			return -EINVAL;
		}
		if (route_input(st, pkb->dev, nexthop, saddr, &rt2) < 0 ||
		    (rt2.type != RTN_UNICAST_ && rt2.type != RTN_LOCAL_))
			return -EINVAL;
		if (rt2.type != RTN_LOCAL_) {
			hit = true;
			break;
		}
		/* "Superfast 8) loopback forward": a hop that is ours again. */
		put_in4(iph + 16, nexthop);
		opt->is_changed = true;
		ptr += 4;
	}
	*rt = rt2;
	if (hit) {
		opt->srr_is_hit = true;
		opt->nexthop = nexthop;
		opt->is_changed = true;
	}
	return 0;
}

int ip4_rcv_options(struct ips_stack *st, struct pkb *pkb, struct rt_result *rt)
{
	struct wire_ipv4_opts *opt = &IP4_CB(pkb)->opt;
	struct netdev *dev = pkb->dev;
	uint8_t *iph = pkb->data;
	struct wire_ipv4_opts_env env = {
		.spec_dst = route_spec_dst(st, dev, get_in4(iph + 12), get_in4(iph + 16),
					   rt->type == RTN_LOCAL_),
		.ts_ms = icmp_timestamp_ms(st),
		.prespec_is_ours = prespec_is_ours,
		.arg = st,
	};
	uint8_t pp_ptr = 0;

	if (wire_ipv4_opts_compile(iph, wire_ipv4_hdr_len(iph), &env, opt, &pp_ptr) < 0) {
		/* ip_options_compile() answers, ip_rcv_options() counts. */
		icmp_send(st, pkb, ICMP_PARAMETERPROB, 0, htonl((uint32_t)pp_ptr << 24));
		MIB_INC(st, IpInHdrErrors);
		return -EINVAL;
	}
	if (opt->srr) {
		/* accept_source_route: conf.all AND the device (IN_DEV_SOURCE_ROUTE). Linux
		 * 6.18 drops without counting anything (checked: an LSRR echo to a netns
		 * moves only IpInReceives). */
		if (!in_dev_source_route(&st->sysctl, &dev->conf))
			return -EINVAL;
		if (ip4_options_rcv_srr(st, pkb, rt) < 0)
			return -EINVAL;
	}
	return 0;
}

/* ip_rt_get_source() for an input route: the source address we would use towards the
 * packet's destination out of rt->dev (RR and SRR record it when forwarding). */
uint32_t ip4_rt_get_source(struct ips_stack *st, const uint8_t *iph, const struct rt_result *rt)
{
	struct flow4 fl = {
		.daddr = get_in4(iph + 16),
		.saddr = get_in4(iph + 12),
		.oif = rt->dev ? rt->dev->ifindex : 0,
	};
	struct fib_result res;

	if (fib_lookup(st, &fl, &res) == 0)
		return fib_result_prefsrc(&res);
	return rt->dev ? ip4_select_addr_scope(rt->dev, rt->nexthop, FIB_SCOPE_UNIVERSE) : 0;
}

void ip4_forward_options(struct ips_stack *st, struct pkb *pkb, const struct rt_result *rt)
{
	struct wire_ipv4_opts *opt = &IP4_CB(pkb)->opt;
	uint8_t *iph = pkb->data;
	uint32_t out_addr;

	/* With a source route hit Linux asks for the source after making the next hop
	 * the destination. */
	if (opt->srr_is_hit) {
		uint8_t tmp[20];

		memcpy(tmp, iph, sizeof(tmp));
		put_in4(tmp + 16, opt->nexthop);
		out_addr = ip4_rt_get_source(st, tmp, rt);
	} else {
		out_addr = ip4_rt_get_source(st, iph, rt);
	}
	/* -ENOENT: "Destination lost!" -- the packet goes on anyway, as in Linux. */
	(void)wire_ipv4_opts_forward(iph, opt, out_addr);
}

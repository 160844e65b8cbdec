/* Forwarding (Linux net/ipv4/ip_forward.c ip_forward()/ip_forward_finish(), and
 * route.c ip_rt_send_redirect()). route_input() has already decided that the packet
 * is to be forwarded: the input device forwards, the destination is unicast, the
 * source is no martian. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip_icmp.h>

#include "core/stack.h"
#include "core/sysctl.h"
#include "ip/gso.h"
#include "ip/icmp.h"
#include "ip/inetpeer.h"
#include "ip/ip.h"
#include "ip/ip_state.h"
#include "ip/route.h"
#include "link/netdev.h"
#include "wire/ipv4.h"
#include "wire/wire.h"

/* net/ipv4/route.c: ip_rt_redirect_number = 9, ip_rt_redirect_load = HZ / 50,
 * ip_rt_redirect_silence = (HZ / 50) << (9 + 1). */
#define IP_RT_REDIRECT_NUMBER	9
#define IP_RT_REDIRECT_LOAD_MS	20
#define IP_RT_REDIRECT_SILENCE_MS (IP_RT_REDIRECT_LOAD_MS << (IP_RT_REDIRECT_NUMBER + 1))

/* ip_rt_send_redirect(): "The first ip_rt_redirect_number redirects are sent with
 * exponential backoff, then we stop sending them at all, assuming that the host
 * ignores our redirects", until the host has been quiet for ip_rt_redirect_silence. */
static void ip4_send_redirect(struct ips_stack *st, struct pkb *pkb, const struct rt_result *rt)
{
	struct inet_peer *peer;
	uint32_t now, load, silence;

	if (!in_dev_tx_redirects(&st->sysctl, &rt->dev->conf))
		return;
	peer = inet_peer_get(st, get_in4(pkb->data + 12));
	if (!peer)
		return;
	now = inet_jiffies(st);
	load = inet_msecs_to_jiffies(st, IP_RT_REDIRECT_LOAD_MS);
	silence = inet_msecs_to_jiffies(st, IP_RT_REDIRECT_SILENCE_MS);
	if ((int32_t)(now - (peer->rate_last + silence)) > 0) {
		peer->rate_tokens = 0;
		peer->n_redirects = 0;
	}
	if (peer->n_redirects >= IP_RT_REDIRECT_NUMBER) {
		peer->rate_last = now;
		return;
	}
	if (peer->n_redirects == 0 ||
	    (int32_t)(now - (peer->rate_last + (load << peer->n_redirects))) > 0) {
		/* rt_nexthop(): the gateway we forward to, or the destination itself. */
		icmp_send(st, pkb, ICMP_REDIRECT, ICMP_REDIR_HOST, rt->nexthop);
		peer->rate_last = now;
		peer->n_redirects++;
	}
}

/* rt_tos2priority(): ip_tos2prio[IPTOS_TOS(tos) >> 1] (include/net/route.h). */
static uint32_t ip4_tos2priority(uint8_t tos)
{
	static const uint8_t tos2prio[16] = {
		0 /* BESTEFFORT */, 1 /* FILLER */, 0, 0, 2 /* BULK */, 2, 2, 2,
		6 /* INTERACTIVE */, 6, 6, 6, 4 /* INTERACTIVE_BULK */, 4, 4, 4,
	};

	return tos2prio[(tos & 0x1e) >> 1];
}

void ip4_forward(struct ips_stack *st, struct pkb *pkb, const struct rt_result *rt)
{
	struct ip4_cb *cb = IP4_CB(pkb);
	uint8_t *iph = pkb->data;

	/* "that should never happen" */
	if (pkb->pkt_type != PKB_HOST)
		goto drop;
	if (cb->opt.router_alert && st->ip->raw_ra_deliver && st->ip->raw_ra_deliver(st, pkb))
		return;
	/* RFC 1812 5.3.1: the TTL must be decremented first; a packet that would leave
	 * with TTL 0 dies here and its sender is told. */
	if (wire_ipv4_ttl(iph) <= 1) {
		MIB_INC(st, IpInHdrErrors);
		icmp_send(st, pkb, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0);
		goto drop;
	}
	/* "Strict routing permits no gatewaying" */
	if (cb->opt.is_strictroute && rt->gateway) {
		icmp_send(st, pkb, ICMP_DEST_UNREACH, ICMP_SR_FAILED, 0);
		goto drop;
	}
	cb->flags |= IP4_CB_FORWARDED;
	/* Linux 6.18 counts the datagram as forwarded before the MTU check: a DF packet
	 * too big for the next hop moves IpForwDatagrams and IpFragFails both (checked
	 * in a netns: `ping -M do -s 1400` through a router with a 1000-byte next hop). */
	MIB_INC(st, IpForwDatagrams);
	/* ip_exceeds_mtu(): DF and bigger than the next hop takes (RFC 1191). */
	if (gso_network_seglen(pkb, iph) > rt->mtu && wire_ipv4_df(iph)) {
		MIB_INC(st, IpFragFails);
		icmp_send(st, pkb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, htonl(rt->mtu));
		goto drop;
	}
	wire_ipv4_dec_ttl(iph);
	/* "We now generate an ICMP HOST REDIRECT giving the route we calculated." */
	if (rt->redirect && !cb->opt.srr)
		ip4_send_redirect(st, pkb, rt);
	if (st->sysctl.ip.ip_forward_update_priority)
		pkb->priority = ip4_tos2priority(wire_ipv4_tos(iph));

	/* ip_forward_finish() */
	if (cb->opt.optlen)
		ip4_forward_options(st, pkb, rt);
	pkb->tstamp_ns = 0;
	(void)ip4_finish_output(st, pkb, rt);
	return;
drop:
	pkb_free(pkb);
}

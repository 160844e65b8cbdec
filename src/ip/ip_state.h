/* The IPv4 layer's per-stack state (st->ip), private to src/ip.
 *
 * Two parts, kept apart so that two people can edit this file without stepping on each
 * other: the core part (addresses, routes, protocol table, IP IDs) is
 * owned by addr.c/route.c/ip4_*.c and set up by ip_init()/ip_fini(); the second part is
 * for fragmentation, reassembly, ICMP and the PMTU cache (ip4_frag.c, ip4_reasm.c,
 * icmp.c, pmtu.c), which st->ip already exists for when icmp_init() runs (the stack
 * calls ip_init() first and ip_fini() last), so those files can set up and tear down
 * their fields in icmp_init()/icmp_fini(). */
#ifndef IPS_IP_IP_STATE_H
#define IPS_IP_IP_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "ip/ip.h"
#include "ip/route.h"

/* Linux ip_idents: a table of per-bucket ID counters and the time each was last used
 * (net/ipv4/route.c, IP_IDENTS_SZ is at least 2048). */
#define IP_IDENTS_SZ 2048

struct ip_state {
	/* ---- core: addr.c, route.c, ip4_input.c, ip4_output.c, ip4_forward.c ---- */
	struct fib_table local;		/* RT_TABLE_LOCAL (255): local, broadcast routes */
	struct fib_table main;		/* RT_TABLE_MAIN (254) */
	const struct ip_proto_ops *protos[256];
	uint32_t idents[IP_IDENTS_SZ];	/* ip_idents */
	uint32_t ident_tstamps[IP_IDENTS_SZ];	/* ip_tstamps (ms) */
	uint8_t id_key[16];		/* net->ipv4.ip_id_key */
	/* Raw sockets (set by src/transport): returns true when one took a copy of the
	 * packet, so that an unknown protocol is not answered with protocol unreachable.
	 * NULL while no transport layer is attached. */
	bool (*raw_deliver)(struct ips_stack *st, struct pkb *pkb, uint8_t proto);
	/* ip_call_ra_chain(): a datagram to forward that carries a Router Alert goes to the
	 * raw sockets of its protocol that set IP_ROUTER_ALERT; true when they took it
	 * (consumed, not forwarded). */
	bool (*raw_ra_deliver)(struct ips_stack *st, struct pkb *pkb);

	/* ---- end of the core part ---- */

	/* ---- ip4_frag.c, ip4_reasm.c, icmp.c, pmtu.c: add fields below this line (their
	 * state lives in st->icmp today, see icmp.h) ---- */
};

/* Core internals shared by addr.c, route.c, ip_init.c, ip4_*.c. */
/* ip4_options.c: ip_rcv_options() (compile, answer bad options with a parameter
 * problem, refuse or follow source routes); 0 or < 0 to drop (counted inside). rt may
 * be replaced by the route to a source-route hop. */
int ip4_rcv_options(struct ips_stack *st, struct pkb *pkb, struct rt_result *rt);
/* ip_forward_options(): record the outgoing address in RR/SRR (and TS flag 1). */
void ip4_forward_options(struct ips_stack *st, struct pkb *pkb, const struct rt_result *rt);
/* ip_rt_get_source() for an input route. */
uint32_t ip4_rt_get_source(struct ips_stack *st, const uint8_t *iph, const struct rt_result *rt);

#endif

/* The link layer seen from above: output towards a next hop, and the module's life. */
#ifndef IPS_LINK_LINK_H
#define IPS_LINK_LINK_H

#include <stdint.h>

#include "core/pkb.h"
#include "ipstack/ipstack.h"

struct ips_stack;
struct netdev;

int link_init(struct ips_stack *st);	/* creates `lo` unless cfg says not to */
void link_fini(struct ips_stack *st);	/* unregisters every device */

/* Send an IPv4 packet (pkb->data at the IPv4 header) to next hop nexthop (network byte
 * order; for a directly connected destination, the destination itself) on dev: adds the
 * Ethernet header, resolving by ARP and queueing while resolution is pending (bounded by
 * unres_qlen_bytes); multicast and broadcast map to their MAC addresses. Consumes pkb.
 * When resolution fails, queued packets go to ip4_link_failure(). */
int link_output(struct netdev *dev, struct pkb *pkb, uint32_t nexthop);

/* An address was added to dev. Linux sends no ARP for `ip addr add` (checked on 6.18
 * with arp_notify 0 and 1): it announces only when the device comes up with
 * arp_notify=1. So this is a hook that sends nothing; see docs/link.md. */
void arp_addr_added(struct netdev *dev, uint32_t addr);
/* Forget neighbours on dev (device down, address removed). */
void neigh_flush_dev(struct netdev *dev);

/* ---- Neighbour cache (src/link/arp.c) ----
 * States are Linux's NUD_* values (<linux/neighbour.h>): INCOMPLETE, REACHABLE, STALE,
 * DELAY, PROBE, FAILED, and the pseudo-states NOARP and PERMANENT. */

/* Forward progress towards nexthop on dev proves the neighbour reachable (Linux's
 * dst_confirm_neigh(), e.g. TCP acking new data): refreshes its confirmed time. */
void neigh_confirm(struct netdev *dev, uint32_t nexthop);

struct neigh_info {
	struct netdev *dev;
	uint32_t addr;			/* network order */
	uint8_t lladdr[6];		/* valid when state & (NUD_VALID) */
	uint8_t state;			/* NUD_* */
	uint32_t probes;
	uint32_t queued;		/* packets waiting for resolution */
	uint64_t used_ms, confirmed_ms, updated_ms;	/* stack clock, ms */
};
/* Every entry of every device (`ip neigh show nud all`); cb returns nonzero to stop, and
 * that value is returned. Lock held; cb must not change the cache. */
int neigh_foreach(struct ips_stack *st, int (*cb)(void *arg, const struct neigh_info *n),
		  void *arg);
/* One entry: 0 and *out filled, or -ENOENT. */
int neigh_lookup_info(struct netdev *dev, uint32_t addr, struct neigh_info *out);
/* The device's current reachable time (random in [base/2, 3*base/2) of
 * base_reachable_time_ms, re-drawn every 300 s and when the base changes), as
 * `ip ntable show` prints it. */
uint64_t neigh_reachable_time_ms(struct netdev *dev);
/* `ip neigh replace ADDR lladdr MAC nud STATE dev DEV`: create or override an entry as
 * the administrator (NUD_PERMANENT, NUD_NOARP, NUD_REACHABLE or NUD_STALE). lladdr may
 * be NULL for NUD_NOARP. -ENODEV, -EINVAL, -ENOBUFS (table full). */
int neigh_add_static(struct netdev *dev, uint32_t addr, const uint8_t lladdr[6], uint8_t state);
/* `ip neigh del`: -ENOENT if there is no entry. Queued packets are dropped. */
int neigh_del(struct netdev *dev, uint32_t addr);

/* Linux's /proc/net/stat/arp_cache counters (per stack), plus link-failure reports. */
struct neigh_stats {
	uint64_t allocs, destroys, lookups, hits, res_failed;
	uint64_t rcv_probes_mcast, rcv_probes_ucast;
	uint64_t periodic_gc_runs, forced_gc_runs, unres_discards, table_fulls;
	uint64_t link_failures;		/* packets handed to ip4_link_failure() */
};
const struct neigh_stats *neigh_get_stats(struct ips_stack *st);

/* Capture: ips_pcap_flush() is declared in include/ipstack/ipstack.h. */

#endif

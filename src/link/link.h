/* The link layer seen from above: output towards a next hop, and the module's life. */
#ifndef IPS_LINK_LINK_H
#define IPS_LINK_LINK_H

#include <stdint.h>

#include "core/pkb.h"

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

/* An address was added to dev: send gratuitous ARP (arp_notify semantics aside, Linux
 * announces on NETDEV_UP/address add). */
void arp_addr_added(struct netdev *dev, uint32_t addr);
/* Forget neighbours on dev (device down, address removed). */
void neigh_flush_dev(struct netdev *dev);

#endif

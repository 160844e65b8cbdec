/* Private to src/link: the module's per-stack state and the functions its files share. */
#ifndef IPS_LINK_LINK_PRIV_H
#define IPS_LINK_LINK_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pkb.h"
#include "core/timer.h"
#include "link/link.h"
#include "link/netdev.h"

struct ips_stack;

/* net.core.netdev_max_backlog: the loopback backlog (and a cbdev's inbox) holds at most
 * this many packets; more are dropped and counted in rx_dropped, as netif_rx() does. */
#define LINK_BACKLOG_MAX 1000
/* Frames a driver pulls in one service() call before yielding to the rest of the loop
 * (NAPI budget); a busy device re-kicks itself. */
#define LINK_SERVICE_BUDGET 256

struct link_state {
	/* The neighbour (ARP) table is split per device (dev->neigh) but counted and
	 * garbage collected per stack, as Linux's arp_tbl is per namespace. */
	unsigned neigh_entries;
	struct timer neigh_gc;		/* armed only while entries exist */
	uint64_t neigh_last_flush_ms;	/* last forced gc */
	int64_t neigh_last_rand_ms;	/* last re-draw of the reachable times */
	/* Proxy ARP requests waiting out a random part of proxy_delay (pneigh_enqueue()). */
	struct pkb_queue proxy_queue;
	struct timer proxy_timer;
	struct neigh_stats neigh_stats;
};

static inline struct link_state *link_state(struct ips_stack *st);

/* ---- netdev.c ---- */
/* Deliver a frame that has passed rx capture and rx impairment. Consumes pkb. */
void netdev_rx_deliver(struct netdev *dev, struct pkb *pkb);
/* Hand a frame that has passed tx impairment to the driver (tx capture first). Consumes
 * pkb. */
void netdev_xmit_wire(struct netdev *dev, struct pkb *pkb);
/* Replace dev's impairments (NULL or all-zero = none) in either direction. */
int netdev_set_impair(struct netdev *dev, const struct ips_impair *tx, const struct ips_impair *rx);
/* A random locally administered unicast MAC (02:xx:xx:xx:xx:xx) from st's generator. */
void link_random_mac(struct ips_stack *st, uint8_t mac[6]);

/* ---- loopback.c ---- */
struct netdev *loopback_create(struct ips_stack *st, int *err);

/* ---- eth.c ---- */
/* An Ethernet frame arrived (pkb->data at the Ethernet header). Consumes pkb. */
void eth_input(struct netdev *dev, struct pkb *pkb);
/* Prepend an Ethernet header (our MAC as source) and send it through netdev_xmit(). Makes
 * the buffer private and grows its headroom if needed. Consumes pkb. */
int eth_output(struct netdev *dev, struct pkb *pkb, const uint8_t dst[6], uint16_t ethertype);
/* p itself if private with `need` bytes of headroom, else a private copy that has them
 * (p released). NULL on allocation failure (p released). */
struct pkb *link_pkb_prepare(struct pkb *p, size_t need);

/* ---- arp.c ---- */
int neigh_init(struct ips_stack *st);
void neigh_fini(struct ips_stack *st);
int neigh_dev_init(struct netdev *dev);
void neigh_dev_free(struct netdev *dev);
/* An ARP packet arrived (pkb->data at the ARP header, pkb->mac at the Ethernet header,
 * pkt_type set). Consumes pkb. */
void arp_rcv(struct netdev *dev, struct pkb *pkb);
/* Announce every address of dev (inetdev_send_gratuitous_arp()). */
void arp_announce_dev(struct netdev *dev);

/* ---- pcap.c: capture on every device ---- */
void pcap_dev_capture(struct netdev *dev, struct pkb *pkb);
void pcap_dev_close(struct netdev *dev);

#include "core/stack.h"

static inline struct link_state *link_state(struct ips_stack *st)
{
	return st->link;
}

#endif

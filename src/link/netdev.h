/* Network devices: the interface between the stack and a link.
 *
 * Receive: a driver hands each frame to netdev_rx() (from its service() callback, which
 * the stack loop calls while holding the stack lock). Transmit: upper layers call
 * link_output() (src/link/link.h), which resolves the next hop, adds the link header and
 * calls netdev_xmit(); impairments and pcap capture sit in netdev_rx()/netdev_xmit(), so
 * they wrap every kind of device. */
#ifndef IPS_LINK_NETDEV_H
#define IPS_LINK_NETDEV_H

#include <net/if.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/pkb.h"
#include "core/sysctl.h"

struct ips_stack;
struct netdev;
struct impair;
struct pcap_writer;
struct in_device;
struct neigh_dev;

enum netdev_type {
	NETDEV_LOOPBACK,	/* frames are bare IPv4 packets, looped back */
	NETDEV_ETHER,		/* Ethernet II frames; ARP */
	NETDEV_RAWIP,		/* bare IPv4 packets (TUN, callback device) */
};

/* Device features (Linux's NETIF_F_*): what the device takes. Without them the stack
 * does the work in software at netdev_xmit() (src/ip/gso.h), so upper layers may hand
 * any device a super-packet or a packet with its checksum left to fill in. */
#define NETIF_F_HW_CSUM	0x1u	/* takes CHECKSUM_PARTIAL buffers as they are (lo, veth) */
#define NETIF_F_TSO	0x2u	/* takes TCPv4 super-packets (pkb->gso_size); needs HW_CSUM */
#define NETIF_F_OFFLOADS (NETIF_F_HW_CSUM | NETIF_F_TSO)
/* Linux's GSO_LEGACY_MAX_SIZE and GSO_MAX_SEGS: the default gso_max_size/segs. */
#define NETDEV_GSO_MAX_SIZE 65536
#define NETDEV_GSO_MAX_SEGS 65535

struct netdev_ops {
	/* Send one frame (link header included). Consumes pkb. Called with the lock held. */
	int (*xmit)(struct netdev *dev, struct pkb *pkb);
	/* Pull pending input and pass it to netdev_rx(). Called with the lock held when the
	 * stack was kicked or the device's fd is readable. May be NULL. */
	void (*service)(struct netdev *dev);
	/* The fd that the loop polls for readability, or -1. May be NULL. */
	int (*poll_fd)(struct netdev *dev);
	/* Release priv. */
	void (*destroy)(struct netdev *dev);
	/* Turn offloads on or off (a subset of dev->hw_features; ethtool -K): tell the
	 * driver's other end what it will get. NULL: nothing to tell. 0 or -errno. */
	int (*set_features)(struct netdev *dev, unsigned features);
};

struct netdev {
	struct ips_stack *st;
	struct netdev *next;
	char name[IFNAMSIZ];
	int ifindex;
	enum netdev_type type;
	unsigned flags;			/* IFF_UP, IFF_RUNNING, IFF_BROADCAST, ... */
	uint32_t mtu;
	uint32_t max_mtu;
	uint8_t hwaddr[6];
	uint8_t broadcast[6];
	const struct netdev_ops *ops;
	void *priv;
	atomic_bool pending;		/* set by the driver (any thread) with stack_kick() */
	uint32_t features;		/* NETIF_F_*: offloads in use */
	uint32_t hw_features;		/* NETIF_F_*: offloads that may be turned on */
	uint32_t gso_max_size;		/* largest super-packet, link header excluded */
	uint32_t gso_max_segs;		/* most segments in one super-packet */

	struct ipv4_devconf conf;	/* net.ipv4.conf.<name>.* */
	struct neigh_parms neigh_parms;	/* net.ipv4.neigh.<name>.* */
	struct in_device *in;		/* addresses: src/ip */
	struct neigh_dev *neigh;	/* ARP cache: src/link/arp.c */

	struct impair *tx_impair, *rx_impair;	/* src/link/impair.c */
	struct pcap_writer *pcap;		/* src/link/pcap.c */

	/* Like `ip -s -s link`: rx_* count frames the device took in (after rx
	 * impairment), tx_* frames handed to the driver (after tx impairment). */
	uint64_t rx_packets, rx_bytes, rx_dropped;
	uint64_t tx_packets, tx_bytes, tx_dropped;
	uint64_t rx_otherhost_dropped;	/* unicast to another MAC, dropped before IP */
	uint64_t rx_frame_errors;	/* a driver could not make sense of the frame (a TAP's
					 * virtio_net_hdr refused: virtio_net's rx_frame_errors) */
};

/* Create and register a device: assigns the ifindex, registers its sysctls (copying
 * conf.default), links it into st->devs. flags as IFF_*; the device starts down unless
 * IFF_UP is given. Returns NULL with *err set on failure. */
struct netdev *netdev_register(struct ips_stack *st, const char *name, enum netdev_type type,
			       unsigned flags, uint32_t mtu, const struct netdev_ops *ops,
			       void *priv, int *err);
/* Remove a device: its addresses, routes and neighbours go with it. */
void netdev_unregister(struct netdev *dev);

/* A frame arrived on dev (pkb->data at the link header, or at the IP header for
 * LOOPBACK/RAWIP devices). Consumes pkb. Lock held. */
void netdev_rx(struct netdev *dev, struct pkb *pkb);
/* Send a complete frame on dev, through impairment and capture. Consumes pkb. 0, or
 * -ENETDOWN, -ENOBUFS (no memory, or the transmit impairment's queue was full: the
 * frame is dropped, as a qdisc's NET_XMIT_DROP). */
int netdev_xmit(struct netdev *dev, struct pkb *pkb);

/* Offloads on or off: features must be a subset of hw_features (-EOPNOTSUPP), TSO only
 * with HW_CSUM (-EINVAL), as netdev_fix_features() requires. */
int netdev_set_features(struct netdev *dev, unsigned features);

int netdev_set_up(struct netdev *dev, bool up);
int netdev_set_mtu(struct netdev *dev, uint32_t mtu);

static inline bool netdev_is_up(const struct netdev *dev)
{
	return (dev->flags & IFF_UP) != 0;
}

#endif

/* Network devices: registration, the receive and transmit doors (capture and
 * impairment wrap every kind of device here), up/down, MTU, and the module's life. */
#include "link/netdev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"
#include "ip/gso.h"
#include "ip/ip.h"
#include "link/impair.h"
#include "link/link_priv.h"
#include "link/pcap.h"
#include "wire/eth.h"

#define NETDEV_MIN_MTU 68	/* RFC 791: every IPv4 module must forward 68 octets */

void link_random_mac(struct ips_stack *st, uint8_t mac[6])
{
	rng_fill(&st->rng, mac, 6);
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);	/* locally administered, unicast */
}

static uint32_t netdev_default_max_mtu(enum netdev_type type)
{
	switch (type) {
	case NETDEV_LOOPBACK:
		return 0x7fffffff;	/* Linux's lo has no maximum (max_mtu 0) */
	case NETDEV_ETHER:
	case NETDEV_RAWIP:
	default:
		return 65535;		/* ETH_MAX_MTU */
	}
}

struct netdev *netdev_register(struct ips_stack *st, const char *name, enum netdev_type type,
			       unsigned flags, uint32_t mtu, const struct netdev_ops *ops,
			       void *priv, int *err)
{
	struct netdev *dev, **pp;
	size_t n = name ? strlen(name) : 0;
	int e;

	if (n == 0 || n >= IFNAMSIZ || strchr(name, '/') || strchr(name, ' ') || !ops ||
	    !ops->xmit) {
		*err = -EINVAL;
		return NULL;
	}
	if (stack_dev_by_name(st, name)) {
		*err = -EEXIST;
		return NULL;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev) {
		*err = -ENOMEM;
		return NULL;
	}
	dev->st = st;
	memcpy(dev->name, name, n + 1);
	dev->type = type;
	dev->flags = flags;
	dev->mtu = mtu;
	dev->max_mtu = netdev_default_max_mtu(type);
	if (dev->mtu > dev->max_mtu)
		dev->max_mtu = dev->mtu;
	memset(dev->broadcast, 0xff, sizeof(dev->broadcast));
	dev->ops = ops;
	dev->priv = priv;
	dev->gso_max_size = NETDEV_GSO_MAX_SIZE;
	dev->gso_max_segs = NETDEV_GSO_MAX_SEGS;
	atomic_init(&dev->pending, false);
	e = sysctl_register_dev(&st->sysctl, name, &dev->conf, &dev->neigh_parms);
	if (e < 0) {
		free(dev);
		*err = e;
		return NULL;
	}
	e = neigh_dev_init(dev);
	if (e < 0) {
		sysctl_unregister_dev(&st->sysctl, name);
		free(dev);
		*err = e;
		return NULL;
	}
	dev->ifindex = st->next_ifindex++;
	for (pp = &st->devs; *pp; pp = &(*pp)->next)
		;
	*pp = dev;
	*err = 0;
	return dev;
}

void netdev_unregister(struct netdev *dev)
{
	struct ips_stack *st = dev->st;

	if (netdev_is_up(dev))
		netdev_set_up(dev, false);
	ip4_dev_unregister(dev);
	neigh_flush_dev(dev);
	neigh_dev_free(dev);
	impair_free(dev->tx_impair);
	impair_free(dev->rx_impair);
	dev->tx_impair = dev->rx_impair = NULL;
	pcap_dev_close(dev);
	for (struct netdev **pp = &st->devs; *pp; pp = &(*pp)->next) {
		if (*pp == dev) {
			*pp = dev->next;
			break;
		}
	}
	if (st->lo == dev)
		st->lo = NULL;
	sysctl_unregister_dev(&st->sysctl, dev->name);
	if (dev->ops->destroy)
		dev->ops->destroy(dev);
	free(dev);
}

/* ---- Receive ---- */

void netdev_rx_deliver(struct netdev *dev, struct pkb *pkb)
{
	if (!netdev_is_up(dev)) {
		dev->rx_dropped++;
		pkb_free(pkb);
		return;
	}
	dev->rx_packets++;
	dev->rx_bytes += pkb->len;
	pkb->dev = dev;
	switch (dev->type) {
	case NETDEV_ETHER:
		eth_input(dev, pkb);
		return;
	case NETDEV_LOOPBACK:
	case NETDEV_RAWIP:
		/* Bare packets: the version nibble tells the protocol, as tun does without
		 * packet information; anything but IPv4 has no handler here. */
		if (pkb->len < 1 || (pkb->data[0] >> 4) != 4) {
			dev->rx_dropped++;
			pkb_free(pkb);
			return;
		}
		pkb->mac = NULL;
		pkb->nh = pkb->data;
		if (pkb->pkt_type != PKB_LOOPBACK)
			pkb->pkt_type = PKB_HOST;
		ip4_rcv(dev, pkb);
		return;
	}
	dev->rx_dropped++;
	pkb_free(pkb);
}

/* Bytes of link header in front of the IPv4 header of dev's frames. */
static size_t netdev_mac_len(const struct netdev *dev)
{
	return dev->type == NETDEV_ETHER ? ETH_HLEN : 0;
}

/* A super-packet cut into the wire frames it stands for, with their checksums
 * (appended to q). Consumes pkb; a packet that cannot be cut (malformed) goes as it is.
 * -ENOBUFS when out of memory (pkb dropped). */
static int netdev_software_gso(struct netdev *dev, struct pkb *pkb, struct pkb_queue *q)
{
	int err = gso_segment(pkb, netdev_mac_len(dev), q);

	if (err != -EINVAL) {
		pkb_free(pkb);
		return err;
	}
	pkb->gso_size = pkb->gso_segs = 0;
	pkb_queue_push(q, pkb);
	return 0;
}

void netdev_rx(struct netdev *dev, struct pkb *pkb)
{
	if (!netdev_is_up(dev)) {
		dev->rx_dropped++;
		pkb_free(pkb);
		return;
	}
	pkb->dev = dev;
	pkb->tstamp_ns = stack_now_ns(dev->st);
	if (dev->pcap)
		pcap_dev_capture(dev, pkb);
	if (dev->rx_impair) {
		struct pkb_queue q;

		/* Impairment acts on wire frames: a super-packet (from a memlink or a TAP
		 * with offloads) is cut first. */
		pkb_queue_init(&q);
		if (!pkb->gso_size)
			pkb_queue_push(&q, pkb);
		else if (netdev_software_gso(dev, pkb, &q) < 0)
			dev->rx_dropped++;
		while ((pkb = pkb_queue_pop(&q)) != NULL)
			if (impair_input(dev->rx_impair, pkb))
				dev->rx_dropped++;	/* its queue was full */
	} else
		netdev_rx_deliver(dev, pkb);
}

/* ---- Transmit ---- */

void netdev_xmit_wire(struct netdev *dev, struct pkb *pkb)
{
	uint32_t len = pkb->len;

	if (!netdev_is_up(dev)) {
		dev->tx_dropped++;
		pkb_free(pkb);
		return;
	}
	/* On lo every packet is also received: capture it once, on receive, as libpcap
	 * does by skipping lo's outgoing copies. */
	if (dev->pcap && dev->type != NETDEV_LOOPBACK)
		pcap_dev_capture(dev, pkb);
	if (dev->ops->xmit(dev, pkb) < 0) {
		dev->tx_dropped++;
		return;
	}
	dev->tx_packets++;
	dev->tx_bytes += len;
}

/* One frame the device can take, through tx impairment to the driver. */
static int netdev_xmit_one(struct netdev *dev, struct pkb *pkb)
{
	if (dev->tx_impair) {
		/* A full transmit queue drops the frame (Linux: the qdisc's drop, shown by
		 * `tc -s qdisc`; here the device's tx_dropped) and tells the sender. */
		int err = impair_input(dev->tx_impair, pkb);

		if (err)
			dev->tx_dropped++;
		return err;
	}
	netdev_xmit_wire(dev, pkb);
	return 0;
}

int netdev_xmit(struct netdev *dev, struct pkb *pkb)
{
	if (!netdev_is_up(dev)) {
		dev->tx_dropped++;
		pkb_free(pkb);
		return -ENETDOWN;
	}
	/* From here on the frame may wait in queues (impairment, a backlog, a peer's
	 * inbox) and be read by a receiver that moves its data pointer: it must be ours
	 * alone. Upper layers that keep a reference (retransmit queues) get a copy made. */
	pkb = pkb_unshare(pkb);
	if (!pkb) {
		dev->tx_dropped++;
		return -ENOBUFS;
	}
	pkb->dev = dev;
	/* validate_xmit_skb(): what the device cannot do is done here in software. The
	 * impairment engine acts per wire frame: it gets a super-packet's segments. */
	if (pkb->gso_size && (dev->tx_impair || !(dev->features & NETIF_F_TSO))) {
		struct pkb_queue q;
		int err, sent = 0;

		pkb_queue_init(&q);
		err = netdev_software_gso(dev, pkb, &q);
		if (err < 0) {
			dev->tx_dropped++;
			return err;
		}
		/* Linux segments after the qdisc, which takes or drops the whole
		 * super-packet (NET_XMIT_DROP): so does the impairment's queue here, when
		 * it has no room for every segment. */
		if (dev->tx_impair && q.len > 1 &&
		    impair_queued(dev->tx_impair) + q.len > dev->tx_impair->limit) {
			dev->tx_dropped++;
			pkb_queue_purge(&q);
			return -ENOBUFS;
		}
		while ((pkb = pkb_queue_pop(&q)) != NULL) {
			pkb_csum_resolve(pkb);	/* a malformed one that went uncut */
			if (netdev_xmit_one(dev, pkb) == 0)
				sent++;
			else if (!err)
				err = -ENOBUFS;
		}
		return sent ? 0 : err;
	}
	if (pkb->ip_summed == PKB_CSUM_PARTIAL && !(dev->features & NETIF_F_HW_CSUM))
		pkb_csum_resolve(pkb);
	return netdev_xmit_one(dev, pkb);
}

/* ---- Configuration ---- */

int netdev_set_up(struct netdev *dev, bool up)
{
	if (up == netdev_is_up(dev))
		return 0;
	if (up) {
		dev->flags |= IFF_UP | IFF_RUNNING;
		/* NETDEV_UP: fib_netdev_event() re-adds the routes of its addresses; a loopback
		 * device gets 127.0.0.1/8 (again) from inetdev_event(). */
		ip4_dev_up(dev);
		if (dev->type == NETDEV_LOOPBACK)
			(void)ip4_addr_add_loopback(dev);
		/* NETDEV_UP: with arp_notify, announce our addresses (devinet.c
		 * inetdev_event(); by default Linux sends nothing). */
		if (dev->type == NETDEV_ETHER && in_dev_arp_notify(&dev->st->sysctl, &dev->conf))
			arp_announce_dev(dev);
		return 0;
	}
	dev->flags &= ~(unsigned)(IFF_UP | IFF_RUNNING);
	/* dev_deactivate() resets the qdiscs: packets waiting in impairment go. */
	if (dev->tx_impair)
		impair_purge(dev->tx_impair);
	if (dev->rx_impair)
		impair_purge(dev->rx_impair);
	ip4_dev_down(dev);
	neigh_flush_dev(dev);	/* arp_ifdown(): every entry, permanent ones too */
	return 0;
}

int netdev_set_features(struct netdev *dev, unsigned features)
{
	int err;

	if (features & ~dev->hw_features)
		return -EOPNOTSUPP;
	if ((features & NETIF_F_TSO) && !(features & NETIF_F_HW_CSUM))
		return -EINVAL;
	if (dev->ops->set_features) {
		err = dev->ops->set_features(dev, features);
		if (err < 0)
			return err;
	}
	dev->features = features;
	return 0;
}

int netdev_set_mtu(struct netdev *dev, uint32_t mtu)
{
	/* Linux's loopback has min_mtu 0 and no maximum (0..INT_MAX through SIOCSIFMTU, checked
	 * on 6.18); other devices start at ETH_MIN_MTU. */
	uint32_t min = dev->type == NETDEV_LOOPBACK ? 0 : NETDEV_MIN_MTU;

	if (mtu < min || mtu > dev->max_mtu)
		return -EINVAL;
	dev->mtu = mtu;
	/* inetdev_event(NETDEV_CHANGEMTU): below 68 IPv4 is disabled on the device (its
	 * addresses and routes go, inetdev_destroy()); raising the MTU again brings back an
	 * empty in_device, and lo gets 127.0.0.1 back on its next NETDEV_UP. */
	if (mtu < NETDEV_MIN_MTU)
		ip4_dev_unregister(dev);
	return 0;
}

static void netdev_impair_out_tx(struct netdev *dev, struct pkb *pkb)
{
	netdev_xmit_wire(dev, pkb);
}

static int impair_replace(struct netdev *dev, struct impair **slot, const struct ips_impair *cfg,
			  impair_out_fn out)
{
	struct impair *imp = NULL;

	if (cfg && impair_cfg_check(cfg) < 0)
		return -EINVAL;
	if (!impair_cfg_is_zero(cfg)) {
		imp = impair_new(dev->st, cfg, dev, out);
		if (!imp)
			return -ENOMEM;
	}
	/* Packets already waiting under the old settings are dropped, as replacing a netem
	 * qdisc does. */
	impair_free(*slot);
	*slot = imp;
	return 0;
}

int netdev_set_impair(struct netdev *dev, const struct ips_impair *tx, const struct ips_impair *rx)
{
	if ((tx && impair_cfg_check(tx) < 0) || (rx && impair_cfg_check(rx) < 0))
		return -EINVAL;

	int err = impair_replace(dev, &dev->tx_impair, tx, netdev_impair_out_tx);

	if (err < 0)
		return err;
	return impair_replace(dev, &dev->rx_impair, rx, netdev_rx_deliver);
}

/* ---- Capture (the file format is in pcap.c) ---- */

/* Captures show wire frames: a checksum left to the device is filled in, and a
 * super-packet is written as the segments it becomes (copies: it goes on as it is).
 * Linux's tcpdump shows what the driver is handed instead (super-packets on a device
 * with TSO); docs/link.md. */
void pcap_dev_capture(struct netdev *dev, struct pkb *pkb)
{
	uint64_t now = stack_now_ns(dev->st);
	struct pkb_queue q;
	struct pkb *c;

	if (!pkb->gso_size) {
		pkb_csum_resolve(pkb);	/* a capture shows the checksums a wire would carry */
		pcap_write(dev->pcap, now, pkb->data, pkb->len);
		return;
	}
	pkb_queue_init(&q);
	c = pkb_copy(pkb);
	if (!c || netdev_software_gso(dev, c, &q) < 0) {
		/* No memory for the copy: the frame as it is, rather than nothing. */
		pcap_write(dev->pcap, now, pkb->data, pkb->len);
		return;
	}
	while ((c = pkb_queue_pop(&q)) != NULL) {
		pkb_csum_resolve(c);
		pcap_write(dev->pcap, now, c->data, c->len);
		pkb_free(c);
	}
}

void pcap_dev_close(struct netdev *dev)
{
	pcap_close(dev->pcap);
	dev->pcap = NULL;
}

IPS_API int ips_dev_set_pcap(ips_stack *st, const char *ifname, const char *path)
{
	struct netdev *dev;
	struct pcap_writer *w = NULL;
	int err = 0;

	if (!st || !ifname)
		return -EINVAL;
	stack_lock(st);
	dev = stack_dev_by_name(st, ifname);
	if (!dev) {
		err = -ENODEV;
		goto out;
	}
	if (path) {
		w = pcap_open(path, dev->type == NETDEV_ETHER ? PCAP_LINKTYPE_ETHERNET
							      : PCAP_LINKTYPE_RAW, &err);
		if (!w)
			goto out;
	}
	/* Stopping reports a failure to write the file out (disk full...). */
	err = pcap_close(dev->pcap);
	dev->pcap = w;
	if (w)
		err = 0;
out:
	stack_unlock(st);
	return err;
}

IPS_API int ips_pcap_flush(ips_stack *st)
{
	int err = 0;

	if (!st)
		return -EINVAL;
	stack_lock(st);
	for (struct netdev *d = st->devs; d; d = d->next)
		if (d->pcap) {
			int e = pcap_flush(d->pcap);

			if (e && !err)
				err = e;
		}
	stack_unlock(st);
	return err;
}

/* ---- The module ---- */

int link_init(struct ips_stack *st)
{
	int err;

	st->link = calloc(1, sizeof(*st->link));
	if (!st->link)
		return -ENOMEM;
	err = neigh_init(st);
	if (err < 0)
		return err;
	st->lo = loopback_create(st, &err);
	return st->lo ? 0 : err;
}

void link_fini(struct ips_stack *st)
{
	if (!st->link)
		return;
	/* Last registered first, so that lo (which others may loop packets through) goes
	 * last. */
	while (st->devs) {
		struct netdev *last = st->devs;

		while (last->next)
			last = last->next;
		netdev_unregister(last);
	}
	neigh_fini(st);
	free(st->link);
	st->link = NULL;
}

/* ---- Public wrappers ---- */

typedef int (*dev_op_fn)(struct netdev *dev, void *arg);

static int with_dev(ips_stack *st, const char *ifname, dev_op_fn fn, void *arg)
{
	struct netdev *dev;
	int err;

	if (!st || !ifname)
		return -EINVAL;
	stack_lock(st);
	dev = stack_dev_by_name(st, ifname);
	err = dev ? fn(dev, arg) : -ENODEV;
	stack_unlock(st);
	return err;
}

static int op_set_mtu(struct netdev *dev, void *arg)
{
	return netdev_set_mtu(dev, *(uint32_t *)arg);
}

static int op_set_up(struct netdev *dev, void *arg)
{
	return netdev_set_up(dev, *(int *)arg != 0);
}

static int op_index(struct netdev *dev, void *arg)
{
	return dev->ifindex;
}

static int op_hwaddr(struct netdev *dev, void *arg)
{
	memcpy(arg, dev->hwaddr, 6);
	return 0;
}

static int op_set_offload(struct netdev *dev, void *arg)
{
	unsigned want = *(unsigned *)arg, f = 0;

	if (want & ~(unsigned)(IPS_OFFLOAD_CSUM | IPS_OFFLOAD_TSO))
		return -EINVAL;
	if (want & IPS_OFFLOAD_CSUM)
		f |= NETIF_F_HW_CSUM;
	if (want & IPS_OFFLOAD_TSO)
		f |= NETIF_F_TSO;
	return netdev_set_features(dev, f);
}

static int op_get_offload(struct netdev *dev, void *arg)
{
	return ((dev->features & NETIF_F_HW_CSUM) ? IPS_OFFLOAD_CSUM : 0) |
	       ((dev->features & NETIF_F_TSO) ? IPS_OFFLOAD_TSO : 0);
}

static int op_impair(struct netdev *dev, void *arg)
{
	const struct ips_impair *imp = arg;

	return netdev_set_impair(dev, imp, imp);
}

IPS_API int ips_dev_set_mtu(ips_stack *st, const char *ifname, uint32_t mtu)
{
	return with_dev(st, ifname, op_set_mtu, &mtu);
}

IPS_API int ips_dev_set_up(ips_stack *st, const char *ifname, int up)
{
	return with_dev(st, ifname, op_set_up, &up);
}

IPS_API int ips_dev_set_offload(ips_stack *st, const char *ifname, unsigned flags)
{
	return with_dev(st, ifname, op_set_offload, &flags);
}

IPS_API int ips_dev_get_offload(ips_stack *st, const char *ifname)
{
	return with_dev(st, ifname, op_get_offload, NULL);
}

IPS_API int ips_dev_index(ips_stack *st, const char *ifname)
{
	return with_dev(st, ifname, op_index, NULL);
}

IPS_API int ips_dev_hwaddr(ips_stack *st, const char *ifname, uint8_t mac[6])
{
	if (!mac)
		return -EINVAL;
	return with_dev(st, ifname, op_hwaddr, mac);
}

/* Both directions of the device, so that on any device a delay of D adds 2D to a round
 * trip, as the same settings do on a memlink (where they apply to each end's transmit). */
IPS_API int ips_dev_set_impair(ips_stack *st, const char *ifname, const struct ips_impair *imp)
{
	return with_dev(st, ifname, op_impair, (void *)imp);
}

/* In-memory Ethernet: point-to-point links (a veth pair) and learning switches joining
 * devices of stacks that may run in different threads.
 *
 * A medium (link or switch) has ports; each port is one NETDEV_ETHER device of some
 * stack, with an inbox. Transmit moves the frame's buffer into the receiving stack's pool
 * (a copy when a switch floods it to several ports), appends it to the receiver's inbox, marks the receiving device pending and kicks
 * its stack; the receiving stack's loop drains the inbox into netdev_rx().
 *
 * Offloads, as veth: a port takes TCP super-packets and packets whose checksum is left
 * to fill in (NETIF_F_TSO | NETIF_F_HW_CSUM, unless the link was made with
 * IPS_LINK_NO_OFFLOAD), and hands them to the peer as they are, with their metadata:
 * the peer's TCP takes 64 KB in one input pass, as from GRO, and trusts the checksum,
 * as Linux does for CHECKSUM_PARTIAL. A port whose peer cannot take them (a switch
 * flooding, offloads turned off at the other end) gets them cut and checksummed in
 * software; impairment (netdev_xmit()) always cuts first, so loss and reordering act
 * per wire frame.
 *
 * Locking: the medium's mutex guards its ports, inboxes and forwarding table. It is
 * taken with (at most) the lock of the stack whose device transmits or is serviced or
 * unregistered, and no stack lock is ever taken while holding it, so stacks in different
 * threads never wait for each other's lock. A port's stack stays valid while its device
 * is registered; unregistering clears port->dev under the medium's mutex before the stack
 * goes, so a sender never touches a stack that is being freed. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"
#include "ip/gso.h"
#include "link/impair.h"
#include "link/link_priv.h"
#include "wire/eth.h"

#define MEMLINK_MAX_MTU 65535		/* ETH_MAX_MTU, as veth */
#define MEMSWITCH_FDB_MAX 4096
#define MEMSWITCH_AGEING_NS (300 * NS_PER_SEC)	/* bridge ageing_time default */
#define VLAN_HLEN 4

struct medium;

struct memport {
	struct medium *m;
	struct memport *next;
	struct netdev *dev;		/* NULL once unregistered */
	struct ips_stack *st;
	struct pkb_queue inbox;
	uint64_t inbox_drops;		/* added to dev->rx_dropped by the owner */
};

struct fdb_entry {
	uint8_t mac[ETH_ALEN];
	struct memport *port;
	uint64_t seen_ns;
};

struct medium {
	pthread_mutex_t lock;
	int refs;			/* ports + (switch) the creator's handle */
	bool is_switch;
	struct ips_link_config cfg;
	struct memport *ports;
	struct fdb_entry *fdb;
	size_t fdb_len, fdb_cap;
};

struct ips_memswitch {
	struct medium m;
};

static struct medium *medium_new(const struct ips_link_config *cfg, bool is_switch)
{
	struct medium *m = calloc(1, is_switch ? sizeof(struct ips_memswitch) : sizeof(*m));

	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->is_switch = is_switch;
	if (cfg)
		m->cfg = *cfg;
	return m;
}

/* Drop one reference; m->lock held on entry, released (and m maybe freed) on return. */
static void medium_put_unlock(struct medium *m)
{
	bool last = --m->refs == 0;

	pthread_mutex_unlock(&m->lock);
	if (last) {
		pthread_mutex_destroy(&m->lock);
		free(m->fdb);
		free(m);
	}
}

static uint32_t link_cfg_mtu(const struct ips_link_config *cfg)
{
	return cfg && cfg->mtu ? cfg->mtu : 1500;
}

static int link_cfg_check(const struct ips_link_config *cfg)
{
	uint32_t mtu = link_cfg_mtu(cfg);

	if (mtu < 68 || mtu > MEMLINK_MAX_MTU)
		return -EINVAL;
	if (cfg && (cfg->flags & ~IPS_LINK_NO_OFFLOAD))
		return -EINVAL;
	if (cfg && impair_cfg_check(&cfg->impair) < 0)
		return -EINVAL;
	return 0;
}

static bool memport_deliver_one(struct memport *to, struct pkb *frame, bool give);

/* Put a frame into port's inbox: as it is when the receiving device could have sent it
 * itself (it has the offloads the frame needs), else as the wire frames it stands for.
 * When `give` (port is its only receiver) the buffer itself moves into the receiving
 * stack's pool, as veth moves the skb; otherwise a copy goes. Returns whether frame was
 * taken. m->lock held. */
static bool memport_deliver(struct memport *to, struct pkb *frame, bool give)
{
	struct pkb_queue q;
	struct pkb *c;

	if (!to->dev)
		return false;
	if ((!frame->gso_size || (to->dev->features & NETIF_F_TSO)) &&
	    (frame->ip_summed != PKB_CSUM_PARTIAL || (to->dev->features & NETIF_F_HW_CSUM)))
		return memport_deliver_one(to, frame, give);
	pkb_queue_init(&q);
	c = pkb_copy(frame);
	if (!c) {
		to->inbox_drops++;
		return false;
	}
	if (c->gso_size) {
		if (gso_segment(c, ETH_HLEN, &q) < 0) {
			to->inbox_drops++;
			pkb_free(c);
			return false;
		}
		pkb_free(c);
	} else {
		pkb_csum_resolve(c);
		pkb_queue_push(&q, c);
	}
	while ((c = pkb_queue_pop(&q)) != NULL)	/* ours: they move */
		if (!memport_deliver_one(to, c, true))
			pkb_free(c);
	return false;
}

static bool memport_deliver_one(struct memport *to, struct pkb *frame, bool give)
{
	struct pkb *p;

	if (to->inbox.len >= LINK_BACKLOG_MAX) {
		to->inbox_drops++;	/* netif_rx() backlog full */
		return false;
	}
	if (give && !pkb_shared(frame)) {
		p = frame;
		pkb_adopt(&to->st->pool, p);
	} else {
		p = stack_pkb_alloc(to->st, frame->len);
		if (!p) {
			to->inbox_drops++;
			return false;
		}
		memcpy(pkb_put(p, frame->len), frame->data, frame->len);
		pkb_csum_copy_state(p, frame);	/* as veth: PARTIAL crosses, trusted on receive */
		p->gso_size = frame->gso_size;
		p->gso_segs = frame->gso_segs;
	}
	pkb_queue_push(&to->inbox, p);
	if (to->inbox.len == 1) {
		atomic_store(&to->dev->pending, true);
		stack_kick(to->st);
	}
	return p == frame;
}

/* ---- Switch forwarding table ---- */

static struct fdb_entry *fdb_find(struct medium *m, const uint8_t mac[ETH_ALEN])
{
	for (size_t i = 0; i < m->fdb_len; i++)
		if (memcmp(m->fdb[i].mac, mac, ETH_ALEN) == 0)
			return &m->fdb[i];
	return NULL;
}

static void fdb_learn(struct medium *m, const uint8_t mac[ETH_ALEN], struct memport *port,
		      uint64_t now)
{
	struct fdb_entry *e;

	if (!wire_eth_is_valid_unicast(mac))
		return;
	e = fdb_find(m, mac);
	if (!e) {
		if (m->fdb_len == m->fdb_cap) {
			size_t cap = m->fdb_cap ? m->fdb_cap * 2 : 16;
			struct fdb_entry *n;

			if (cap > MEMSWITCH_FDB_MAX)
				return;	/* full: unknown destinations flood */
			n = realloc(m->fdb, cap * sizeof(*n));
			if (!n)
				return;
			m->fdb = n;
			m->fdb_cap = cap;
		}
		e = &m->fdb[m->fdb_len++];
		memcpy(e->mac, mac, ETH_ALEN);
	}
	e->port = port;		/* a station that moved is learnt on its new port */
	e->seen_ns = now;
}

static void fdb_forget_port(struct medium *m, struct memport *port)
{
	for (size_t i = 0; i < m->fdb_len;) {
		if (m->fdb[i].port == port)
			m->fdb[i] = m->fdb[--m->fdb_len];
		else
			i++;
	}
}

/* ---- The device ---- */

static int memport_xmit(struct netdev *dev, struct pkb *pkb)
{
	struct memport *from = dev->priv;
	struct medium *m = from->m;
	uint64_t now = stack_now_ns(dev->st);
	bool taken = false;

	pthread_mutex_lock(&m->lock);
	if (!m->is_switch) {
		struct memport *peer = m->ports == from ? from->next : m->ports;

		/* A link has two ports (one while the other end is being made or freed). */
		if (peer && peer != from)
			taken = memport_deliver(peer, pkb, true);
	} else if (pkb->len >= ETH_HLEN) {
		const uint8_t *dst = pkb->data, *src = pkb->data + ETH_ALEN;
		struct fdb_entry *e = NULL;

		fdb_learn(m, src, from, now);
		if (!wire_eth_is_multicast(dst)) {
			e = fdb_find(m, dst);
			if (e && now - e->seen_ns > MEMSWITCH_AGEING_NS && now > e->seen_ns) {
				*e = m->fdb[--m->fdb_len];
				e = NULL;
			}
		}
		if (e) {
			if (e->port != from)	/* never back out of the port it came in */
				taken = memport_deliver(e->port, pkb, true);
		} else {
			/* Broadcast, multicast, unknown unicast: flood. */
			for (struct memport *p = m->ports; p; p = p->next)
				if (p != from)
					memport_deliver(p, pkb, false);
		}
	}
	pthread_mutex_unlock(&m->lock);
	if (!taken)
		pkb_free(pkb);
	return 0;
}

static void memport_service(struct netdev *dev)
{
	struct memport *port = dev->priv;
	struct medium *m = port->m;
	struct pkb_queue q;
	uint64_t drops;
	struct pkb *p;

	pthread_mutex_lock(&m->lock);
	q = port->inbox;
	pkb_queue_init(&port->inbox);
	drops = port->inbox_drops;
	port->inbox_drops = 0;
	pthread_mutex_unlock(&m->lock);

	dev->rx_dropped += drops;
	while ((p = pkb_queue_pop(&q)) != NULL) {
		/* is_skb_forwardable(): a frame longer than our MTU allows is dropped; a
		 * super-packet by the size of its segments. */
		if ((p->gso_size ? gso_network_seglen(p, p->data + ETH_HLEN) + ETH_HLEN
				 : p->len) > dev->mtu + ETH_HLEN + VLAN_HLEN) {
			dev->rx_dropped++;
			pkb_free(p);
			continue;
		}
		netdev_rx(dev, p);
	}
}

static void memport_destroy(struct netdev *dev)
{
	struct memport *port = dev->priv;
	struct medium *m = port->m;

	pthread_mutex_lock(&m->lock);
	port->dev = NULL;
	pkb_queue_purge(&port->inbox);	/* our pool's buffers: free them while it lives */
	for (struct memport **pp = &m->ports; *pp; pp = &(*pp)->next) {
		if (*pp == port) {
			*pp = port->next;
			break;
		}
	}
	fdb_forget_port(m, port);
	free(port);
	medium_put_unlock(m);
}

static const struct netdev_ops memport_ops = {
	.xmit = memport_xmit,
	.service = memport_service,
	.destroy = memport_destroy,
};

/* Create ifname in st as a port of m. Takes st's lock. */
static int memport_add(struct medium *m, struct ips_stack *st, const char *ifname)
{
	struct memport *port = calloc(1, sizeof(*port));
	struct netdev *dev;
	int err;

	if (!port)
		return -ENOMEM;
	port->m = m;
	port->st = st;
	pkb_queue_init(&port->inbox);

	stack_lock(st);
	pthread_mutex_lock(&m->lock);
	m->refs++;
	port->next = m->ports;
	m->ports = port;
	pthread_mutex_unlock(&m->lock);

	dev = netdev_register(st, ifname, NETDEV_ETHER,
			      IFF_BROADCAST | IFF_MULTICAST | IFF_UP | IFF_RUNNING,
			      link_cfg_mtu(&m->cfg), &memport_ops, port, &err);
	if (!dev) {
		pthread_mutex_lock(&m->lock);
		for (struct memport **pp = &m->ports; *pp; pp = &(*pp)->next) {
			if (*pp == port) {
				*pp = port->next;
				break;
			}
		}
		free(port);
		medium_put_unlock(m);
		stack_unlock(st);
		return err;
	}
	dev->max_mtu = MEMLINK_MAX_MTU;
	dev->hw_features = NETIF_F_OFFLOADS;
	if (!(m->cfg.flags & IPS_LINK_NO_OFFLOAD))
		dev->features = NETIF_F_OFFLOADS;
	link_random_mac(st, dev->hwaddr);
	err = netdev_set_impair(dev, &m->cfg.impair, NULL);
	if (err < 0) {
		netdev_unregister(dev);
		stack_unlock(st);
		return err;
	}
	pthread_mutex_lock(&m->lock);
	port->dev = dev;
	pthread_mutex_unlock(&m->lock);
	stack_unlock(st);
	return 0;
}

/* Unregister ifname in st (undoing a half-made link). */
static void memport_remove(struct ips_stack *st, const char *ifname)
{
	struct netdev *dev;

	stack_lock(st);
	dev = stack_dev_by_name(st, ifname);
	if (dev && dev->ops == &memport_ops)
		netdev_unregister(dev);
	stack_unlock(st);
}

IPS_API int ips_memlink_new(ips_stack *a, const char *ifa, ips_stack *b, const char *ifb,
			    const struct ips_link_config *cfg)
{
	struct medium *m;
	int err;

	if (!a || !b || !ifa || !ifb)
		return -EINVAL;
	if (a == b && strcmp(ifa, ifb) == 0)
		return -EEXIST;
	err = link_cfg_check(cfg);
	if (err < 0)
		return err;
	m = medium_new(cfg, false);
	if (!m)
		return -ENOMEM;
	m->refs = 1;	/* ours until both ends hold theirs */
	err = memport_add(m, a, ifa);
	if (err == 0) {
		err = memport_add(m, b, ifb);
		if (err < 0)
			memport_remove(a, ifa);
	}
	pthread_mutex_lock(&m->lock);
	medium_put_unlock(m);
	return err;
}

IPS_API ips_memswitch *ips_memswitch_new(const struct ips_link_config *cfg)
{
	struct medium *m;

	if (link_cfg_check(cfg) < 0)
		return NULL;
	m = medium_new(cfg, true);
	if (!m)
		return NULL;
	m->refs = 1;	/* the caller's handle */
	return (ips_memswitch *)m;
}

IPS_API int ips_memswitch_add_port(ips_memswitch *sw, ips_stack *st, const char *ifname)
{
	if (!sw || !st || !ifname)
		return -EINVAL;
	return memport_add(&sw->m, st, ifname);
}

/* The switch goes when the last of its ports does: freeing it while stacks still use
 * ports only drops the caller's handle. */
IPS_API void ips_memswitch_free(ips_memswitch *sw)
{
	if (!sw)
		return;
	pthread_mutex_lock(&sw->m.lock);
	medium_put_unlock(&sw->m);
}

/* The neighbour cache and ARP: Linux's net/core/neighbour.c state machine with the
 * IPv4 parts of net/ipv4/arp.c (arp_constructor, arp_solicit, arp_process).
 *
 * Entries live in a hash table per device (dev->neigh). Times are milliseconds on the
 * stack clock (Linux's jiffies at HZ=1000), kept signed so that "confirmed long ago"
 * (now - 2 * base_reachable_time) needs no special case. Each entry owns one timer,
 * armed only in the timed states INCOMPLETE, REACHABLE, DELAY and PROBE (NUD_IN_TIMER);
 * a STALE, FAILED, NOARP or PERMANENT entry costs no work at all. A periodic sweep
 * (every base_reachable_time/2 of neigh.default) recomputes reachable times and, once
 * there are gc_thresh1 entries, removes entries unused for gc_stale_time; it is armed
 * only while the stack has entries. */
#include <errno.h>
#include <linux/neighbour.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"
#include "ip/ip.h"
#include "link/link_priv.h"
#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/wire.h"

#define NUD_IN_TIMER (NUD_INCOMPLETE | NUD_REACHABLE | NUD_DELAY | NUD_PROBE)
#define NUD_VALID \
	(NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY)
#define NUD_CONNECTED (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE)

/* neigh_update() flags (include/net/neighbour.h). */
#define NEIGH_UPDATE_F_OVERRIDE 0x1u
#define NEIGH_UPDATE_F_WEAK_OVERRIDE 0x2u
#define NEIGH_UPDATE_F_ADMIN 0x80000000u

/* RT_SCOPE_* as inet_confirm_addr() compares them. */
#define SCOPE_UNIVERSE 0
#define SCOPE_LINK 253
#define SCOPE_HOST 254

#define NEIGH_HASH_MIN 16
/* pkb->cb[0] of a request that waited in the proxy queue (Linux's LOCALLY_ENQUEUED). */
#define ARP_PROXY_REDO 0x70726f78u

struct neighbour {
	struct neighbour *next;		/* hash chain */
	struct netdev *dev;
	uint32_t addr;			/* network order */
	uint8_t ha[ETH_ALEN];
	uint8_t nud_state;
	bool dead;			/* unlinked; freed when the last reference goes */
	int refcnt;			/* the table's, plus callers' across outbound calls */
	uint32_t probes;
	int64_t updated, used, confirmed;	/* ms */
	struct timer timer;
	struct pkb_queue arp_queue;
	size_t arp_queue_bytes;		/* truesize, against unres_qlen_bytes */
};

struct neigh_dev {
	struct neighbour **buckets;
	uint32_t shift;			/* 1 << shift buckets */
	uint32_t count;
	uint32_t hash_key;
	int64_t reachable_time;		/* ms: random in [base/2, 3*base/2) */
	int64_t reachable_base;		/* the base it was drawn for */
};

static int64_t now_ms(struct ips_stack *st)
{
	return (int64_t)stack_now_ms(st);
}

static bool ip4_multicast(uint32_t a)
{
	return (ntohl(a) & 0xf0000000u) == 0xe0000000u;
}

static bool ip4_loopback(uint32_t a)
{
	return (ntohl(a) & 0xff000000u) == 0x7f000000u;
}

/* neigh_rand_reach_time() */
static int64_t neigh_rand_reach_time(struct ips_stack *st, int64_t base)
{
	if (base <= 0)
		return 0;
	if (base > 0xffffffffLL)
		base = 0xffffffffLL;
	return (int64_t)rng_below(&st->rng, (uint32_t)base) + (base >> 1);
}

static int64_t neigh_reachable_time(struct netdev *dev)
{
	struct neigh_dev *nd = dev->neigh;
	int64_t base = dev->neigh_parms.base_reachable_time_ms;

	/* A write to base_reachable_time re-draws at once, as Linux's proc handler does. */
	if (base != nd->reachable_base) {
		nd->reachable_base = base;
		nd->reachable_time = neigh_rand_reach_time(dev->st, base);
	}
	return nd->reachable_time;
}

static int64_t neigh_retrans(const struct netdev *dev)
{
	int64_t r = dev->neigh_parms.retrans_time_ms;

	return r > 10 ? r : 10;		/* max(RETRANS_TIME, HZ/100) */
}

/* ---- The table ---- */

static uint32_t neigh_hash(const struct neigh_dev *nd, uint32_t addr)
{
	return ((addr ^ nd->hash_key) * 0x9e3779b1u) >> (32 - nd->shift);
}

int neigh_dev_init(struct netdev *dev)
{
	struct neigh_dev *nd = calloc(1, sizeof(*nd));

	if (!nd)
		return -ENOMEM;
	nd->shift = 4;
	nd->buckets = calloc(NEIGH_HASH_MIN, sizeof(*nd->buckets));
	if (!nd->buckets) {
		free(nd);
		return -ENOMEM;
	}
	nd->hash_key = rng_u32(&dev->st->rng);
	dev->neigh = nd;
	nd->reachable_base = -1;
	neigh_reachable_time(dev);	/* neigh_parms_alloc() draws one */
	return 0;
}

void neigh_dev_free(struct netdev *dev)
{
	struct neigh_dev *nd = dev->neigh;

	if (!nd)
		return;
	neigh_flush_dev(dev);
	free(nd->buckets);
	free(nd);
	dev->neigh = NULL;
}

static void neigh_grow(struct neigh_dev *nd)
{
	uint32_t old_n = 1u << nd->shift, new_shift = nd->shift + 1;
	struct neighbour **nb = calloc((size_t)1 << new_shift, sizeof(*nb));

	if (!nb)
		return;		/* longer chains, still correct */
	nd->shift = new_shift;
	for (uint32_t i = 0; i < old_n; i++) {
		for (struct neighbour *n = nd->buckets[i], *next; n; n = next) {
			uint32_t h = neigh_hash(nd, n->addr);

			next = n->next;
			n->next = nb[h];
			nb[h] = n;
		}
	}
	free(nd->buckets);
	nd->buckets = nb;
}

static struct neighbour *neigh_find(struct netdev *dev, uint32_t addr)
{
	struct neigh_dev *nd = dev->neigh;

	if (!nd)
		return NULL;
	for (struct neighbour *n = nd->buckets[neigh_hash(nd, addr)]; n; n = n->next)
		if (n->addr == addr)
			return n;
	return NULL;
}

static struct neighbour *neigh_lookup(struct netdev *dev, uint32_t addr)
{
	struct neigh_stats *s = &link_state(dev->st)->neigh_stats;
	struct neighbour *n = neigh_find(dev, addr);

	s->lookups++;
	if (n)
		s->hits++;
	return n;
}

static void neigh_hold(struct neighbour *n)
{
	n->refcnt++;
}

static void neigh_put(struct neighbour *n)
{
	if (--n->refcnt > 0)
		return;
	pkb_queue_purge(&n->arp_queue);
	free(n);
}

static void neigh_gc_arm(struct ips_stack *st);

static void neigh_del_timer(struct neighbour *n)
{
	stack_timer_cancel(n->dev->st, &n->timer);
}

static void neigh_add_timer(struct neighbour *n, int64_t when_ms)
{
	stack_timer_arm(n->dev->st, &n->timer, when_ms < 0 ? 0 : (uint64_t)when_ms * NS_PER_MS);
}

/* Unlink n from its table and drop the table's reference (queued packets go with it). */
static void neigh_remove(struct neighbour *n)
{
	struct neigh_dev *nd = n->dev->neigh;
	struct link_state *ls = link_state(n->dev->st);

	for (struct neighbour **pp = &nd->buckets[neigh_hash(nd, n->addr)]; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	}
	n->dead = true;
	neigh_del_timer(n);
	pkb_queue_purge(&n->arp_queue);
	n->arp_queue_bytes = 0;
	nd->count--;
	ls->neigh_entries--;
	ls->neigh_stats.destroys++;
	if (!ls->neigh_entries)
		stack_timer_cancel(n->dev->st, &ls->neigh_gc);
	neigh_put(n);
}

/* neigh_forced_gc(): make room by dropping entries that are failed, NOARP, or not
 * updated for 5 s, down to gc_thresh2. Returns how many went. */
static int neigh_forced_gc(struct ips_stack *st)
{
	struct link_state *ls = link_state(st);
	int64_t now = now_ms(st), tref = now - 5000;
	int max_clean = (int)ls->neigh_entries - st->sysctl.neigh_dflt.gc_thresh2;
	int shrunk = 0;

	ls->neigh_stats.forced_gc_runs++;
	for (struct netdev *dev = st->devs; dev && shrunk < max_clean; dev = dev->next) {
		struct neigh_dev *nd = dev->neigh;

		if (!nd)
			continue;
		for (uint32_t i = 0; i < (1u << nd->shift) && shrunk < max_clean; i++) {
			for (struct neighbour *n = nd->buckets[i], *next; n && shrunk < max_clean;
			     n = next) {
				next = n->next;
				if (n->nud_state == NUD_PERMANENT || n->refcnt != 1)
					continue;
				if (n->nud_state == NUD_FAILED || n->nud_state == NUD_NOARP ||
				    !(n->updated >= tref && n->updated <= now)) {
					neigh_remove(n);
					shrunk++;
				}
			}
		}
	}
	ls->neigh_last_flush_ms = (uint64_t)now;
	return shrunk;
}

static void neigh_timer_handler(void *arg);

/* __neigh_create() with arp_constructor(): broadcast and multicast next hops, and
 * devices without ARP, get a NOARP entry with the address they map to. */
static struct neighbour *neigh_create(struct netdev *dev, uint32_t addr, int *err)
{
	struct ips_stack *st = dev->st;
	struct link_state *ls = link_state(st);
	struct neigh_dev *nd = dev->neigh;
	struct neighbour *n;
	int64_t now = now_ms(st);
	int thresh3 = st->sysctl.neigh_dflt.gc_thresh3;
	int thresh2 = st->sysctl.neigh_dflt.gc_thresh2;
	int entries = (int)ls->neigh_entries;

	if (!nd) {
		*err = -ENODEV;
		return NULL;
	}
	if (entries >= thresh3 ||
	    (entries >= thresh2 && now > (int64_t)ls->neigh_last_flush_ms + 5000)) {
		if (!neigh_forced_gc(st) && entries >= thresh3) {
			ls->neigh_stats.table_fulls++;
			*err = -ENOBUFS;
			return NULL;
		}
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		*err = -ENOBUFS;
		return NULL;
	}
	n->dev = dev;
	n->addr = addr;
	n->refcnt = 1;
	n->updated = n->used = now;
	/* Never confirmed: neigh_alloc() backdates it. */
	n->confirmed = now - (dev->neigh_parms.base_reachable_time_ms << 1);
	timer_init(&n->timer, neigh_timer_handler, n);
	pkb_queue_init(&n->arp_queue);

	if (ip4_multicast(addr)) {
		n->nud_state = NUD_NOARP;
		wire_eth_ip4_mcast_map(addr, n->ha);
	} else if (dev->flags & (IFF_NOARP | IFF_LOOPBACK)) {
		n->nud_state = NUD_NOARP;
		memcpy(n->ha, dev->hwaddr, ETH_ALEN);
	} else if (addr == 0xffffffffu || route_addr_type(st, addr) == RTN_BROADCAST_) {
		n->nud_state = NUD_NOARP;
		memcpy(n->ha, dev->broadcast, ETH_ALEN);
	}

	if (nd->count >= (1u << nd->shift))
		neigh_grow(nd);
	uint32_t h = neigh_hash(nd, addr);

	n->next = nd->buckets[h];
	nd->buckets[h] = n;
	nd->count++;
	ls->neigh_entries++;
	ls->neigh_stats.allocs++;
	if (ls->neigh_entries == 1)
		neigh_gc_arm(st);
	*err = 0;
	return n;
}

static struct neighbour *neigh_lookup_create(struct netdev *dev, uint32_t addr, int *err)
{
	struct neighbour *n = neigh_lookup(dev, addr);

	*err = 0;
	return n ? n : neigh_create(dev, addr, err);
}

/* ---- Sending ---- */

/* arp_create() + arp_xmit(): dest_hw NULL = broadcast, target_hw NULL = zeros. */
static void arp_send(struct netdev *dev, uint16_t op, uint32_t dest_ip, uint32_t src_ip,
		     const uint8_t *dest_hw, const uint8_t *src_hw, const uint8_t *target_hw)
{
	struct wire_arp a;
	struct pkb *p;

	if (dev->flags & IFF_NOARP)
		return;
	p = stack_pkb_alloc(dev->st, WIRE_ARP_LEN);
	if (!p) {
		dev->tx_dropped++;
		return;
	}
	wire_arp_init(&a, op);
	memcpy(a.sha, src_hw ? src_hw : dev->hwaddr, ETH_ALEN);
	a.spa = src_ip;
	if (target_hw)
		memcpy(a.tha, target_hw, ETH_ALEN);
	a.tpa = dest_ip;
	wire_arp_emit(pkb_put(p, WIRE_ARP_LEN), &a);
	eth_output(dev, p, dest_hw ? dest_hw : dev->broadcast, ETH_P_ARP);
}

static uint32_t pkb_ip_saddr(const struct pkb *p)
{
	return p && p->len >= 20 ? get_in4(p->data + 12) : 0;
}

/* inet_addr_onlink(): is a (and b, unless 0) inside a subnet of dev? */
static bool addr_onlink(const struct netdev *dev, uint32_t a, uint32_t b)
{
	if (!dev->in)
		return false;
	for (const struct in_ifaddr *ifa = dev->in->ifa_list; ifa; ifa = ifa->next)
		if (((a ^ ifa->local) & ifa->mask) == 0 &&
		    (!b || ((b ^ ifa->local) & ifa->mask) == 0))
			return true;
	return false;
}

/* arp_solicit(): who-has for n, from the source of the packet that needs it when that
 * is ours (arp_announce), by broadcast while INCOMPLETE and by unicast to the cached
 * address while PROBE (the first ucast_solicit probes). */
static void arp_solicit(struct neighbour *n, const struct pkb *skb)
{
	struct netdev *dev = n->dev;
	struct ips_stack *st = dev->st;
	uint32_t saddr = 0, target = n->addr;
	int probes = (int)n->probes;
	uint8_t ha[ETH_ALEN];
	const uint8_t *dst_hw = NULL;

	switch (in_dev_arp_announce(&st->sysctl, &dev->conf)) {
	default:
	case 0:		/* announce any local address */
		if (skb && route_addr_type(st, pkb_ip_saddr(skb)) == RTN_LOCAL_)
			saddr = pkb_ip_saddr(skb);
		break;
	case 1:		/* only one the target can see on its subnet */
		if (!skb)
			break;
		saddr = pkb_ip_saddr(skb);
		if (route_addr_type(st, saddr) == RTN_LOCAL_ && addr_onlink(dev, target, saddr))
			break;
		saddr = 0;
		break;
	case 2:		/* the best local address for the target */
		break;
	}
	if (!saddr)
		saddr = ip4_select_addr(dev, target);

	probes -= dev->neigh_parms.ucast_solicit;
	if (probes < 0) {
		memcpy(ha, n->ha, ETH_ALEN);
		dst_hw = ha;
	} else {
		probes -= dev->neigh_parms.app_solicit;
		if (probes < 0)
			return;	/* neigh_app_ns(): a user-space resolver's turn; there is none */
	}
	arp_send(dev, ARPOP_REQUEST, target, saddr, dst_hw, dev->hwaddr, NULL);
}

/* neigh_probe(): solicit on behalf of the newest queued packet. */
static void neigh_probe(struct neighbour *n)
{
	neigh_hold(n);
	arp_solicit(n, n->arp_queue.tail);
	n->probes++;
	neigh_put(n);
}

static uint32_t neigh_max_probes(const struct neighbour *n)
{
	const struct neigh_parms *p = &n->dev->neigh_parms;

	return (uint32_t)(p->ucast_solicit + p->app_solicit +
			  ((n->nud_state & NUD_PROBE) ? p->mcast_resolicit : p->mcast_solicit));
}

/* neigh_invalidate(): resolution failed; every queued packet is reported to the IP
 * layer (ipv4_link_failure(): host unreachable to the local sender). */
static void neigh_invalidate(struct neighbour *n)
{
	struct ips_stack *st = n->dev->st;
	struct link_state *ls = link_state(st);
	struct pkb *p;

	ls->neigh_stats.res_failed++;
	n->updated = now_ms(st);
	neigh_hold(n);
	while (n->nud_state == NUD_FAILED && (p = pkb_queue_pop(&n->arp_queue)) != NULL) {
		n->arp_queue_bytes -= pkb_truesize(p);
		ls->neigh_stats.link_failures++;
		p->dev = n->dev;
		ip4_link_failure(st, p);
	}
	pkb_queue_purge(&n->arp_queue);
	n->arp_queue_bytes = 0;
	neigh_put(n);
}

/* __neigh_event_send(): may the packet go now? 0 = yes (with n->ha), 1 = queued or
 * dropped (consumed). Starts resolution from NONE/FAILED, and the delay before probing
 * from STALE. */
static int neigh_event_send(struct neighbour *n, struct pkb *pkb)
{
	struct netdev *dev = n->dev;
	struct ips_stack *st = dev->st;
	const struct neigh_parms *parms = &dev->neigh_parms;
	int64_t now = now_ms(st);
	bool immediate_probe = false;

	n->used = now;
	if (n->nud_state & (NUD_CONNECTED | NUD_DELAY | NUD_PROBE))
		return 0;
	if (!(n->nud_state & (NUD_STALE | NUD_INCOMPLETE))) {
		if (parms->mcast_solicit + parms->app_solicit) {
			n->probes = (uint32_t)parms->ucast_solicit;
			neigh_del_timer(n);
			n->nud_state = NUD_INCOMPLETE;
			n->updated = now;
			immediate_probe = true;
			neigh_add_timer(n, now + neigh_retrans(dev));
		} else {
			n->nud_state = NUD_FAILED;
			n->updated = now;
			pkb_free(pkb);
			return 1;
		}
	} else if (n->nud_state & NUD_STALE) {
		neigh_del_timer(n);
		n->nud_state = NUD_DELAY;
		n->updated = now;
		neigh_add_timer(n, now + parms->delay_first_probe_time);
	}
	if (n->nud_state != NUD_INCOMPLETE)
		return 0;
	if (pkb) {
		size_t limit = parms->unres_qlen_bytes > 0 ? (size_t)parms->unres_qlen_bytes : 0;

		/* Oldest first out to make room (unres_qlen_bytes, counted in truesize). */
		while (n->arp_queue_bytes + pkb_truesize(pkb) > limit) {
			struct pkb *old = pkb_queue_pop(&n->arp_queue);

			if (!old)
				break;
			n->arp_queue_bytes -= pkb_truesize(old);
			pkb_free(old);
			link_state(st)->neigh_stats.unres_discards++;
		}
		pkb_queue_push(&n->arp_queue, pkb);
		n->arp_queue_bytes += pkb_truesize(pkb);
	}
	if (immediate_probe)
		neigh_probe(n);
	return 1;
}

/* neigh_resolve_output() for a packet at its IPv4 header. Consumes pkb. */
static int neigh_output(struct neighbour *n, struct pkb *pkb)
{
	uint8_t ha[ETH_ALEN];

	if (neigh_event_send(n, pkb))
		return 0;
	memcpy(ha, n->ha, ETH_ALEN);
	return eth_output(n->dev, pkb, ha, ETH_P_IP);
}

/* ---- The state machine ---- */

/* __neigh_update(): one door for what ARP input and the administrator learn. */
static int neigh_update(struct neighbour *n, const uint8_t *lladdr, uint8_t new, unsigned flags)
{
	struct netdev *dev = n->dev;
	int64_t now = now_ms(dev->st);
	uint8_t old = n->nud_state;
	bool change_ha;

	if (n->dead)
		return -ENOENT;
	if (!(flags & NEIGH_UPDATE_F_ADMIN) && (old & (NUD_NOARP | NUD_PERMANENT)))
		return -EPERM;

	if (!(new & NUD_VALID)) {
		neigh_del_timer(n);
		n->nud_state = new;
		if ((old & (NUD_INCOMPLETE | NUD_PROBE)) && (new & NUD_FAILED))
			neigh_invalidate(n);
		return 0;
	}

	if (lladdr) {
		change_ha = !((old & NUD_VALID) && memcmp(lladdr, n->ha, ETH_ALEN) == 0);
	} else {
		if (!(old & NUD_VALID))
			return -EINVAL;	/* no link-layer address given */
		change_ha = false;
	}

	/* Any ARP packet confirms, even one that changes nothing. */
	if (new & NUD_CONNECTED)
		n->confirmed = now;

	if (old & NUD_VALID) {
		if (change_ha && !(flags & NEIGH_UPDATE_F_OVERRIDE)) {
			if ((flags & NEIGH_UPDATE_F_WEAK_OVERRIDE) && (old & NUD_CONNECTED)) {
				change_ha = false;
				new = NUD_STALE;
			} else {
				return 0;
			}
		} else if (!change_ha && new == NUD_STALE && !(flags & NEIGH_UPDATE_F_ADMIN)) {
			/* Same address, "maybe stale" news: keep what we know. */
			new = old;
		}
	}

	if (new != old || change_ha)
		n->updated = now;
	if (new != old) {
		neigh_del_timer(n);
		if (new & NUD_PROBE)
			n->probes = 0;
		if (new & NUD_IN_TIMER)
			neigh_add_timer(n, now + ((new & NUD_REACHABLE) ? neigh_reachable_time(dev) : 0));
		n->nud_state = new;
	}
	if (change_ha) {
		memcpy(n->ha, lladdr, ETH_ALEN);
		if (!(new & NUD_CONNECTED))
			n->confirmed = now - (dev->neigh_parms.base_reachable_time_ms << 1);
	}
	if (new == old)
		return 0;
	if (!(old & NUD_VALID)) {
		/* Resolved: the packets that waited go, oldest first. */
		struct pkb *p;

		neigh_hold(n);
		while ((n->nud_state & NUD_VALID) && !n->dead &&
		       (p = pkb_queue_pop(&n->arp_queue)) != NULL) {
			n->arp_queue_bytes -= pkb_truesize(p);
			neigh_output(n, p);
		}
		pkb_queue_purge(&n->arp_queue);
		n->arp_queue_bytes = 0;
		neigh_put(n);
	}
	return 0;
}

static void neigh_timer_handler(void *arg)
{
	struct neighbour *n = arg;
	struct netdev *dev = n->dev;
	const struct neigh_parms *parms = &dev->neigh_parms;
	int64_t now = now_ms(dev->st);
	int64_t next = now + 1000;
	uint8_t state = n->nud_state;

	if (!(state & NUD_IN_TIMER) || n->dead)
		return;

	if (state & NUD_REACHABLE) {
		int64_t reach = neigh_reachable_time(dev);

		if (now <= n->confirmed + reach) {
			next = n->confirmed + reach;	/* confirmed meanwhile: still alive */
		} else if (now <= n->used + parms->delay_first_probe_time) {
			n->nud_state = NUD_DELAY;	/* in use: give upper layers a chance */
			n->updated = now;
			next = now + parms->delay_first_probe_time;
		} else {
			n->nud_state = NUD_STALE;	/* idle: suspect, no timer */
			n->updated = now;
		}
	} else if (state & NUD_DELAY) {
		if (now <= n->confirmed + parms->delay_first_probe_time) {
			n->nud_state = NUD_REACHABLE;
			n->updated = now;
			next = n->confirmed + neigh_reachable_time(dev);
		} else {
			n->nud_state = NUD_PROBE;
			n->updated = now;
			n->probes = 0;
			next = now + neigh_retrans(dev);
		}
	} else {
		next = now + neigh_retrans(dev);	/* INCOMPLETE, PROBE */
	}

	/* In PROBE the probes past ucast_solicit (mcast_resolicit of them) broadcast. */
	if ((n->nud_state & (NUD_INCOMPLETE | NUD_PROBE)) && n->probes >= neigh_max_probes(n)) {
		n->nud_state = NUD_FAILED;
		n->updated = now;
		neigh_invalidate(n);
		return;
	}

	if (n->nud_state & NUD_IN_TIMER) {
		if (next < now + 10)
			next = now + 10;	/* HZ/100 */
		neigh_add_timer(n, next);
	}
	if (n->nud_state & (NUD_INCOMPLETE | NUD_PROBE))
		neigh_probe(n);
}

/* ---- The periodic sweep ---- */

static void neigh_gc_run(void *arg);
static void arp_proxy_run(void *arg);

static void neigh_gc_arm(struct ips_stack *st)
{
	struct link_state *ls = link_state(st);
	int64_t iv = st->sysctl.neigh_dflt.base_reachable_time_ms >> 1;

	if (!ls->neigh_gc.fn)
		timer_init(&ls->neigh_gc, neigh_gc_run, st);
	stack_timer_arm_ms(st, &ls->neigh_gc, iv > 0 ? (uint64_t)iv : 1);
}

/* neigh_periodic_work() */
static void neigh_gc_run(void *arg)
{
	struct ips_stack *st = arg;
	struct link_state *ls = link_state(st);
	int64_t now = now_ms(st);

	ls->neigh_stats.periodic_gc_runs++;
	if (now > ls->neigh_last_rand_ms + 300 * 1000) {
		ls->neigh_last_rand_ms = now;
		for (struct netdev *dev = st->devs; dev; dev = dev->next)
			if (dev->neigh)
				dev->neigh->reachable_time = neigh_rand_reach_time(
					st, dev->neigh->reachable_base);
	}
	if ((int)ls->neigh_entries >= st->sysctl.neigh_dflt.gc_thresh1) {
		for (struct netdev *dev = st->devs; dev; dev = dev->next) {
			struct neigh_dev *nd = dev->neigh;

			if (!nd)
				continue;
			for (uint32_t i = 0; i < (1u << nd->shift); i++) {
				for (struct neighbour *n = nd->buckets[i], *next; n; n = next) {
					next = n->next;
					if (n->nud_state & (NUD_PERMANENT | NUD_IN_TIMER))
						continue;
					if (n->used < n->confirmed && n->confirmed <= now)
						n->used = n->confirmed;
					if (n->refcnt == 1 &&
					    (n->nud_state == NUD_FAILED ||
					     !(now >= n->used &&
					       now <= n->used + dev->neigh_parms.gc_stale_time)))
						neigh_remove(n);
				}
			}
		}
	}
	if (ls->neigh_entries)
		neigh_gc_arm(st);
}

int neigh_init(struct ips_stack *st)
{
	struct link_state *ls = link_state(st);

	timer_init(&ls->neigh_gc, neigh_gc_run, st);
	timer_init(&ls->proxy_timer, arp_proxy_run, st);
	pkb_queue_init(&ls->proxy_queue);
	ls->neigh_last_rand_ms = (int64_t)stack_now_ms(st);
	ls->neigh_last_flush_ms = stack_now_ms(st);
	return 0;
}

void neigh_fini(struct ips_stack *st)
{
	stack_timer_cancel(st, &link_state(st)->neigh_gc);
	stack_timer_cancel(st, &link_state(st)->proxy_timer);
	pkb_queue_purge(&link_state(st)->proxy_queue);
}

static void arp_proxy_purge_dev(struct netdev *dev);

void neigh_flush_dev(struct netdev *dev)
{
	struct neigh_dev *nd = dev->neigh;

	arp_proxy_purge_dev(dev);
	if (!nd)
		return;
	for (uint32_t i = 0; i < (1u << nd->shift); i++)
		while (nd->buckets[i])
			neigh_remove(nd->buckets[i]);
}

/* ---- Output ---- */

int link_output(struct netdev *dev, struct pkb *pkb, uint32_t nexthop)
{
	struct neighbour *n;
	uint8_t mac[ETH_ALEN];
	int err;

	if (!netdev_is_up(dev)) {
		dev->tx_dropped++;
		pkb_free(pkb);
		return -ENETDOWN;
	}
	if (dev->type != NETDEV_ETHER)
		return netdev_xmit(dev, pkb);
	/* Ours alone (it may wait in a queue linked through it) with room for the header. */
	pkb = link_pkb_prepare(pkb, ETH_HLEN);
	if (!pkb) {
		dev->tx_dropped++;
		return -ENOBUFS;
	}
	if (nexthop == 0xffffffffu)
		return eth_output(dev, pkb, dev->broadcast, ETH_P_IP);
	if (ip4_multicast(nexthop)) {
		wire_eth_ip4_mcast_map(nexthop, mac);	/* RFC 1112 6.4 */
		return eth_output(dev, pkb, mac, ETH_P_IP);
	}
	n = neigh_lookup_create(dev, nexthop, &err);
	if (!n) {
		dev->tx_dropped++;
		pkb_free(pkb);
		return err;
	}
	return neigh_output(n, pkb);
}

void neigh_confirm(struct netdev *dev, uint32_t nexthop)
{
	struct neighbour *n = neigh_find(dev, nexthop);

	if (n)
		n->confirmed = now_ms(dev->st);
}

/* ---- ARP input ---- */

static uint8_t ifa_scope(const struct in_ifaddr *ifa)
{
	return ip4_loopback(ifa->local) ? SCOPE_HOST : SCOPE_UNIVERSE;
}

static bool ifa_match(uint32_t addr, const struct in_ifaddr *ifa)
{
	return ((addr ^ ifa->local) & ifa->mask) == 0;
}

/* confirm_addr_indev() */
static uint32_t confirm_addr_indev(struct netdev *dev, uint32_t dst, uint32_t local, int scope)
{
	uint8_t localnet_scope = SCOPE_HOST;
	uint32_t addr = 0;
	bool same = false;

	if (!dev->in)
		return 0;
	if (in_dev_route_localnet(&dev->st->sysctl, &dev->conf))
		localnet_scope = SCOPE_LINK;
	for (const struct in_ifaddr *ifa = dev->in->ifa_list; ifa; ifa = ifa->next) {
		uint8_t s = ifa_scope(ifa);
		int min_scope = s < localnet_scope ? s : localnet_scope;

		if (!addr && (local == ifa->local || !local) && min_scope <= scope) {
			addr = ifa->local;
			if (same)
				break;
		}
		if (!same) {
			same = (!local || ifa_match(local, ifa)) && (!dst || ifa_match(dst, ifa));
			if (same && addr) {
				if (local || !dst)
					break;
				if (ifa_match(addr, ifa))
					break;
				if (min_scope <= scope) {
					addr = ifa->local;
					break;
				}
				same = false;
			}
		}
	}
	return same ? addr : 0;
}

/* inet_confirm_addr(): dev NULL = any device. */
static uint32_t confirm_addr(struct ips_stack *st, struct netdev *dev, uint32_t dst,
			     uint32_t local, int scope)
{
	if (dev)
		return confirm_addr_indev(dev, dst, local, scope);
	for (struct netdev *d = st->devs; d; d = d->next) {
		uint32_t a = confirm_addr_indev(d, dst, local, scope);

		if (a)
			return a;
	}
	return 0;
}

/* arp_ignore(): nonzero = do not answer this request for tip. */
static int arp_ignore(struct netdev *dev, uint32_t sip, uint32_t tip)
{
	struct netdev *in = dev;
	int scope;

	switch (in_dev_arp_ignore(&dev->st->sysctl, &dev->conf)) {
	case 0:		/* any local address, on any interface */
		return 0;
	case 1:		/* only addresses configured on the incoming interface */
		sip = 0;
		scope = SCOPE_HOST;
		break;
	case 2:		/* ... and in the sender's subnet */
		scope = SCOPE_HOST;
		break;
	case 3:		/* not for host-scope addresses */
		sip = 0;
		scope = SCOPE_LINK;
		in = NULL;
		break;
	case 8:		/* never */
		return 1;
	default:	/* 4-7 reserved */
		return 0;
	}
	return !confirm_addr(dev->st, in, sip, tip, scope);
}

/* arp_filter(): answer only if we would route the reply out of this device. */
static int arp_filter(struct netdev *dev, uint32_t sip, uint32_t tip)
{
	struct rt_result rt;

	if (route_output(dev->st, sip, tip, 0, 0, &rt) < 0)
		return 1;
	if (rt.dev != dev) {
		MIB_INC(dev->st, TcpExtArpFilter);
		return 1;
	}
	return 0;
}

/* arp_accept(): may an unsolicited ARP create an entry? */
static int arp_accept(struct netdev *dev, uint32_t sip)
{
	switch (in_dev_arp_accept(&dev->st->sysctl, &dev->conf)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:		/* only from our subnets */
		return confirm_addr(dev->st, dev, sip, 0, SCOPE_HOST) != 0;
	default:
		return 0;
	}
}

static bool arp_is_garp(struct netdev *dev, int *addr_type, uint16_t op, uint32_t sip,
			uint32_t tip, const uint8_t *sha, const uint8_t *tha)
{
	bool is_garp = tip == sip;

	/* Gratuitous replies also carry the sender's address as the target's. */
	if (is_garp && op == ARPOP_REPLY)
		is_garp = memcmp(tha, sha, ETH_ALEN) == 0;
	if (is_garp) {
		*addr_type = route_addr_type(dev->st, sip);
		if (*addr_type != RTN_UNICAST_)
			is_garp = false;
	}
	return is_garp;
}

/* arp_fwd_proxy(): proxy_arp answers for hosts reached through another device (on
 * another medium, when medium_id says which devices share one). */
static int arp_fwd_proxy(struct netdev *dev, const struct rt_result *rt)
{
	struct sysctl_ns *ns = &dev->st->sysctl;
	int imi, omi;

	if (rt->dev == dev || !in_dev_proxy_arp(ns, &dev->conf))
		return 0;
	imi = in_dev_medium_id(ns, &dev->conf);
	if (imi == 0)
		return 1;
	if (imi == -1)
		return 0;
	omi = rt->dev ? in_dev_medium_id(ns, &rt->dev->conf) : -1;
	return omi != imi && omi != -1;
}

/* arp_fwd_pvlan(): private VLAN proxy ARP answers for hosts on the same segment. */
static int arp_fwd_pvlan(struct netdev *dev, const struct rt_result *rt, uint32_t sip, uint32_t tip)
{
	if (rt->dev != dev || sip == tip)	/* "don't reply on self probes" */
		return 0;
	return in_dev_proxy_arp_pvlan(&dev->st->sysctl, &dev->conf) != 0;
}

/* pneigh_enqueue(): answer a proxied broadcast request after a random part of
 * proxy_delay, so that the real owner, if there is one, answers first. */
static void pneigh_enqueue(struct netdev *dev, struct pkb *pkb)
{
	struct ips_stack *st = dev->st;
	struct link_state *ls = link_state(st);
	int64_t delay = dev->neigh_parms.proxy_delay;
	uint64_t when = stack_now_ms(st) + rng_below(&st->rng, (uint32_t)(delay > 0 ? delay : 1));

	if ((int)ls->proxy_queue.len > dev->neigh_parms.proxy_qlen) {
		pkb_free(pkb);
		return;
	}
	pkb->cb[0] = ARP_PROXY_REDO;
	pkb->cb[1] = (uint32_t)when;
	pkb->cb[2] = (uint32_t)(when >> 32);
	pkb->dev = dev;
	pkb_queue_push(&ls->proxy_queue, pkb);
	if (!timer_pending(&ls->proxy_timer) ||
	    timer_expires_ns(&ls->proxy_timer) > when * NS_PER_MS)
		stack_timer_arm(st, &ls->proxy_timer, when * NS_PER_MS);
}

/* neigh_event_ns(): someone asked for us, so they are about to talk to us: cache them
 * (STALE, to be confirmed by the traffic that follows). */
static struct neighbour *neigh_event_ns(struct netdev *dev, const uint8_t *sha, uint32_t sip)
{
	int err;
	struct neighbour *n = neigh_lookup_create(dev, sip, &err);

	if (n)
		neigh_update(n, sha, NUD_STALE, NEIGH_UPDATE_F_OVERRIDE);
	return n;
}

static void arp_process(struct netdev *dev, struct pkb *pkb, const struct wire_arp *a)
{
	struct ips_stack *st = dev->st;
	const struct neigh_parms *parms = &dev->neigh_parms;
	uint32_t sip = a->spa, tip = a->tpa;
	struct rt_result rt;
	struct neighbour *n;
	int addr_type;
	bool is_garp = false;

	if (a->op != ARPOP_REPLY && a->op != ARPOP_REQUEST)
		goto out;
	/* "Check for bad requests for 127.x.x.x and requests for multicast addresses." */
	if (ip4_multicast(tip) ||
	    (!in_dev_route_localnet(&st->sysctl, &dev->conf) && ip4_loopback(tip)))
		goto out;
	if (sip == tip && in_dev_drop_gratuitous_arp(&st->sysctl, &dev->conf))
		goto out;

	/* RFC 5227 / RFC 2131 duplicate address detection probe: sender 0.0.0.0. */
	if (sip == 0) {
		if (a->op == ARPOP_REQUEST && route_addr_type(st, tip) == RTN_LOCAL_ &&
		    !arp_ignore(dev, sip, tip))
			arp_send(dev, ARPOP_REPLY, sip, tip, a->sha, dev->hwaddr, a->sha);
		goto out;
	}

	/* (The address-type test first only spares route_input() the requests for other
	 * hosts, which it could not find local anyway.) */
	if (a->op == ARPOP_REQUEST &&
	    (route_addr_type(st, tip) == RTN_LOCAL_ || in_dev_forward(&st->sysctl, &dev->conf)) &&
	    route_input(st, dev, tip, sip, &rt) == 0) {
		if (rt.type == RTN_LOCAL_) {
			int dont_send = arp_ignore(dev, sip, tip);

			if (!dont_send && in_dev_arpfilter(&st->sysctl, &dev->conf))
				dont_send = arp_filter(dev, sip, tip);
			if (!dont_send) {
				n = neigh_event_ns(dev, a->sha, sip);
				if (n)
					arp_send(dev, ARPOP_REPLY, sip, tip, a->sha, dev->hwaddr,
						 a->sha);
			}
			goto out;
		}
		if (in_dev_forward(&st->sysctl, &dev->conf) && rt.type == RTN_UNICAST_ &&
		    (arp_fwd_proxy(dev, &rt) || arp_fwd_pvlan(dev, &rt, sip, tip))) {
			neigh_event_ns(dev, a->sha, sip);
			if (pkb->cb[0] == ARP_PROXY_REDO || pkb->pkt_type == PKB_HOST ||
			    parms->proxy_delay == 0) {
				arp_send(dev, ARPOP_REPLY, sip, tip, a->sha, dev->hwaddr, a->sha);
			} else {
				pneigh_enqueue(dev, pkb);
				return;
			}
			goto out;
		}
	}

	/* Update our table: only for neighbours we already know, unless arp_accept. */
	n = neigh_lookup(dev, sip);
	addr_type = -1;
	if (n || arp_accept(dev, sip))
		is_garp = arp_is_garp(dev, &addr_type, a->op, sip, tip, a->sha, a->tha);
	if (arp_accept(dev, sip) && !n &&
	    (is_garp ||
	     (a->op == ARPOP_REPLY &&
	      (addr_type == RTN_UNICAST_ ||
	       (addr_type < 0 && route_addr_type(st, sip) == RTN_UNICAST_))))) {
		int err;

		n = neigh_lookup_create(dev, sip, &err);
	}
	if (n) {
		uint8_t state = NUD_REACHABLE;
		/* Back-to-back replies (several proxies): the first wins for locktime. */
		bool override = now_ms(st) > n->updated + parms->locktime || is_garp;

		/* Broadcast replies and requests do not prove reachability. */
		if (a->op != ARPOP_REPLY || pkb->pkt_type != PKB_HOST)
			state = NUD_STALE;
		neigh_update(n, a->sha, state, override ? NEIGH_UPDATE_F_OVERRIDE : 0);
	}
out:
	pkb_free(pkb);
}

static void arp_rcv_parsed(struct netdev *dev, struct pkb *pkb);

/* neigh_proxy_process(): answer the proxied requests whose time has come. */
static void arp_proxy_run(void *arg)
{
	struct ips_stack *st = arg;
	struct link_state *ls = link_state(st);
	uint64_t now = stack_now_ms(st), next = UINT64_MAX;
	struct pkb_queue due, keep;
	struct pkb *p;

	pkb_queue_init(&due);
	pkb_queue_init(&keep);
	while ((p = pkb_queue_pop(&ls->proxy_queue)) != NULL) {
		uint64_t when = (uint64_t)p->cb[1] | (uint64_t)p->cb[2] << 32;

		if (when <= now) {
			pkb_queue_push(&due, p);
		} else {
			pkb_queue_push(&keep, p);
			if (when < next)
				next = when;
		}
	}
	ls->proxy_queue = keep;
	if (next != UINT64_MAX)
		stack_timer_arm(st, &ls->proxy_timer, next * NS_PER_MS);
	while ((p = pkb_queue_pop(&due)) != NULL) {
		if (netdev_is_up(p->dev))
			arp_rcv_parsed(p->dev, p);	/* proxy_redo */
		else
			pkb_free(p);
	}
}

/* pneigh_queue_purge() for one device. */
static void arp_proxy_purge_dev(struct netdev *dev)
{
	struct link_state *ls = link_state(dev->st);
	struct pkb_queue keep;
	struct pkb *p;

	if (!ls)
		return;
	pkb_queue_init(&keep);
	while ((p = pkb_queue_pop(&ls->proxy_queue)) != NULL) {
		if (p->dev == dev)
			pkb_free(p);
		else
			pkb_queue_push(&keep, p);
	}
	ls->proxy_queue = keep;
	if (!keep.len)
		stack_timer_cancel(dev->st, &ls->proxy_timer);
}

void arp_rcv(struct netdev *dev, struct pkb *pkb)
{
	pkb->cb[0] = 0;
	arp_rcv_parsed(dev, pkb);
}

static void arp_rcv_parsed(struct netdev *dev, struct pkb *pkb)
{
	struct wire_arp a;
	int rc;

	if ((dev->flags & IFF_NOARP) || pkb->pkt_type == PKB_OTHERHOST ||
	    pkb->pkt_type == PKB_LOOPBACK) {
		pkb_free(pkb);
		return;
	}
	rc = wire_arp_parse(pkb->data, pkb->len, &a);
	if (rc == -EPROTONOSUPPORT && pkb->len >= WIRE_ARP_LEN &&
	    get_be16(pkb->data) == ARPHRD_IEEE802 && get_be16(pkb->data + 2) == ETH_P_IP &&
	    pkb->data[4] == ETH_ALEN && pkb->data[5] == 4) {
		/* Ethernet devices also accept hardware type 6 (IEEE 802), as Linux does. */
		uint8_t copy[WIRE_ARP_LEN];

		memcpy(copy, pkb->data, WIRE_ARP_LEN);
		put_be16(copy, ARPHRD_ETHER);
		rc = wire_arp_parse(copy, sizeof(copy), &a);
	}
	if (rc < 0) {
		pkb_free(pkb);
		return;
	}
	arp_process(dev, pkb, &a);
}

/* ---- Announcements ---- */

void arp_announce_dev(struct netdev *dev)
{
	if (!dev->in)
		return;
	for (const struct in_ifaddr *ifa = dev->in->ifa_list; ifa; ifa = ifa->next)
		arp_send(dev, ARPOP_REQUEST, ifa->local, ifa->local, NULL, dev->hwaddr, NULL);
}

/* Linux sends nothing when an address is added (checked on 6.x: `ip addr add` on a veth
 * is silent, with arp_notify 0 or 1); announcements come with NETDEV_UP when arp_notify
 * is set (netdev_set_up()). The hook stays for the IP layer to call. */
void arp_addr_added(struct netdev *dev, uint32_t addr)
{
}

/* ---- Administration and observation ---- */

static void neigh_fill_info(const struct neighbour *n, struct neigh_info *o)
{
	memset(o, 0, sizeof(*o));
	o->dev = n->dev;
	o->addr = n->addr;
	memcpy(o->lladdr, n->ha, ETH_ALEN);
	o->state = n->nud_state;
	o->probes = n->probes;
	o->queued = (uint32_t)n->arp_queue.len;
	o->used_ms = (uint64_t)(n->used > 0 ? n->used : 0);
	o->confirmed_ms = (uint64_t)(n->confirmed > 0 ? n->confirmed : 0);
	o->updated_ms = (uint64_t)(n->updated > 0 ? n->updated : 0);
}

int neigh_foreach(struct ips_stack *st, int (*cb)(void *arg, const struct neigh_info *n), void *arg)
{
	struct neigh_info info;

	for (struct netdev *dev = st->devs; dev; dev = dev->next) {
		struct neigh_dev *nd = dev->neigh;

		if (!nd)
			continue;
		for (uint32_t i = 0; i < (1u << nd->shift); i++) {
			for (struct neighbour *n = nd->buckets[i]; n; n = n->next) {
				int r;

				neigh_fill_info(n, &info);
				r = cb(arg, &info);
				if (r)
					return r;
			}
		}
	}
	return 0;
}

int neigh_lookup_info(struct netdev *dev, uint32_t addr, struct neigh_info *out)
{
	struct neighbour *n = neigh_find(dev, addr);

	if (!n)
		return -ENOENT;
	neigh_fill_info(n, out);
	return 0;
}

int neigh_add_static(struct netdev *dev, uint32_t addr, const uint8_t lladdr[6], uint8_t state)
{
	struct neighbour *n;
	int err;

	if (!dev || !dev->neigh)
		return -ENODEV;
	if (state != NUD_PERMANENT && state != NUD_NOARP && state != NUD_REACHABLE &&
	    state != NUD_STALE)
		return -EINVAL;
	if (!lladdr && !neigh_find(dev, addr))
		return -EINVAL;
	n = neigh_lookup_create(dev, addr, &err);
	if (!n)
		return err;
	return neigh_update(n, lladdr, state, NEIGH_UPDATE_F_OVERRIDE | NEIGH_UPDATE_F_ADMIN);
}

int neigh_del(struct netdev *dev, uint32_t addr)
{
	struct neighbour *n;

	if (!dev || !dev->neigh)
		return -ENODEV;
	n = neigh_find(dev, addr);
	if (!n)
		return -ENOENT;
	neigh_hold(n);
	neigh_update(n, NULL, NUD_FAILED, NEIGH_UPDATE_F_OVERRIDE | NEIGH_UPDATE_F_ADMIN);
	if (!n->dead)
		neigh_remove(n);
	neigh_put(n);
	return 0;
}

uint64_t neigh_reachable_time_ms(struct netdev *dev)
{
	return dev->neigh ? (uint64_t)neigh_reachable_time(dev) : 0;
}

const struct neigh_stats *neigh_get_stats(struct ips_stack *st)
{
	return &link_state(st)->neigh_stats;
}

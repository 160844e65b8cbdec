/* Per-remote-address state shared by the ICMP limiter, ip_error(), redirects and the
 * reassembler: Linux's inet_peer (net/ipv4/inetpeer.c), in a hash table instead of an
 * rb-tree. Entries nobody holds are collected once idle for inet_peer_maxttl (10 min),
 * when a new entry is made in their bucket, as Linux collects nodes met on a lookup. */
#include "ip/inetpeer.h"

#include <errno.h>
#include <stdlib.h>

#include "core/stack.h"
#include "ip/icmp.h"

#define PEER_BUCKETS	256
#define PEER_MAXTTL_S	600	/* inet_peer_maxttl: 10 * 60 * HZ */
#define PEER_THRESHOLD	(65536 + 128)	/* inet_peer_threshold: collect everything idle */

struct inet_peer_base {
	struct inet_peer *buckets[PEER_BUCKETS];
	unsigned int total;
};

uint32_t inet_hz(const struct ips_stack *st)
{
	int hz = st->sysctl.hz;

	return hz > 0 && hz <= 1000 ? (uint32_t)hz : 1000;
}

uint32_t inet_jiffies(const struct ips_stack *st)
{
	return (uint32_t)(stack_now_ns(st) / (NS_PER_SEC / inet_hz(st)));
}

uint32_t inet_msecs_to_jiffies(const struct ips_stack *st, uint32_t ms)
{
	uint32_t hz = inet_hz(st);

	return (uint32_t)(((uint64_t)ms * hz + 999) / 1000);
}

static unsigned int peer_hash(const struct ips_stack *st, uint32_t addr)
{
	return (unsigned int)(siphash24(st->secret, &addr, sizeof(addr)) % PEER_BUCKETS);
}

struct inet_peer *inet_peer_find(struct ips_stack *st, uint32_t addr)
{
	struct inet_peer_base *base = st->icmp ? st->icmp->peers : NULL;

	if (!base)
		return NULL;
	for (struct inet_peer *p = base->buckets[peer_hash(st, addr)]; p; p = p->next)
		if (p->daddr == addr)
			return p;
	return NULL;
}

/* inet_peer_gc(): drop unreferenced entries idle for the TTL (0 when over threshold). */
static void peer_gc_bucket(struct ips_stack *st, struct inet_peer **pp)
{
	struct inet_peer_base *base = st->icmp->peers;
	uint32_t now = inet_jiffies(st);
	uint32_t ttl = base->total >= PEER_THRESHOLD ? 0 : PEER_MAXTTL_S * inet_hz(st);

	while (*pp) {
		struct inet_peer *p = *pp;

		if (p->refcnt == 0 && now - p->dtime >= ttl) {
			*pp = p->next;
			base->total--;
			free(p);
			continue;
		}
		pp = &p->next;
	}
}

struct inet_peer *inet_peer_get(struct ips_stack *st, uint32_t addr)
{
	struct inet_peer_base *base = st->icmp ? st->icmp->peers : NULL;
	struct inet_peer *p = inet_peer_find(st, addr);
	struct inet_peer **bucket;

	if (p) {
		p->dtime = inet_jiffies(st);
		return p;
	}
	if (!base)
		return NULL;
	bucket = &base->buckets[peer_hash(st, addr)];
	peer_gc_bucket(st, bucket);
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->daddr = addr;
	/* "60*HZ is arbitrary, but chosen enough high so that the first calculation of
	 * tokens is at its maximum." */
	p->rate_last = inet_jiffies(st) - 60 * inet_hz(st);
	p->dtime = inet_jiffies(st);
	p->next = *bucket;
	*bucket = p;
	base->total++;
	return p;
}

void inet_peer_hold(struct inet_peer *p)
{
	p->refcnt++;
}

void inet_peer_put(struct ips_stack *st, struct inet_peer *p)
{
	p->dtime = inet_jiffies(st);
	if (p->refcnt > 0)
		p->refcnt--;
}

/* The token bucket that icmpv4_xrlim_allow() and ip_error() each write out in Linux:
 * tokens are jiffies, earned one per jiffy since rate_last up to `burst`; a message
 * costs `cost`. */
bool inet_peer_take_token(struct ips_stack *st, struct inet_peer *p, uint32_t burst,
			  uint32_t cost)
{
	uint32_t now = inet_jiffies(st);
	uint32_t token = p->rate_tokens + (now - p->rate_last);
	bool rc = false;

	p->rate_last = now;
	if (token > burst)
		token = burst;
	if (token >= cost) {
		token -= cost;
		rc = true;
	}
	p->rate_tokens = token;
	return rc;
}

/* RFC 1812 4.3.2.8: SHOULD be able to limit error message rate. Token bucket as
 * suggested by Alexey Kuznetsov, exactly as inet_peer_xrlim_allow(). */
bool inet_peer_xrlim_allow(struct ips_stack *st, struct inet_peer *p, uint32_t timeout)
{
	if (!p)
		return true;
	return inet_peer_take_token(st, p, ICMP_XRLIM_BURST_FACTOR * timeout, timeout);
}

int inet_peers_init(struct ips_stack *st)
{
	st->icmp->peers = calloc(1, sizeof(*st->icmp->peers));
	return st->icmp->peers ? 0 : -ENOMEM;
}

void inet_peers_fini(struct ips_stack *st)
{
	struct inet_peer_base *base = st->icmp ? st->icmp->peers : NULL;

	if (!base)
		return;
	for (unsigned int i = 0; i < PEER_BUCKETS; i++) {
		for (struct inet_peer *p = base->buckets[i], *n; p; p = n) {
			n = p->next;
			free(p);
		}
	}
	free(base);
	st->icmp->peers = NULL;
}

unsigned int inet_peers_count(const struct ips_stack *st)
{
	return st->icmp && st->icmp->peers ? st->icmp->peers->total : 0;
}

/* Next-hop exceptions: learned path MTUs and redirect gateways per destination, as
 * Linux 6.x keeps them in fib_nh_exception (net/ipv4/route.c) since the route cache
 * went away. One entry per destination holds both, with ONE expiry, exactly as an fnhe
 * does: a PMTU update sets it to now + route.mtu_expires, a redirect to now +
 * ip_rt_gc_timeout (300 s), whichever came last.
 *
 * Linux hangs the table off the nexthop the route used; we key by destination only
 * (a route change does not move an exception to another nexthop here; pmtu_flush()
 * forgets them all). */
#include "ip/icmp.h"

#include <errno.h>
#include <stdlib.h>

#include "core/stack.h"
#include "ip/inetpeer.h"

#define FNHE_HASH_SIZE		2048	/* 1 << FNHE_HASH_SHIFT */
#define FNHE_RECLAIM_DEPTH	5

struct fnhe {
	struct fnhe *next;
	uint32_t daddr;
	uint32_t gw;
	uint32_t pmtu;
	bool mtu_locked;
	uint64_t expires_ms;
	uint64_t stamp_ms;		/* last creation/update/use: the oldest is reclaimed */
};

struct pmtu_cache {
	struct fnhe **buckets;		/* allocated with the first exception, as Linux does */
	unsigned int count;
};

static unsigned int fnhe_hash(const struct ips_stack *st, uint32_t daddr)
{
	return (unsigned int)(siphash24(st->secret, &daddr, sizeof(daddr)) % FNHE_HASH_SIZE);
}

static uint64_t now_ms(const struct ips_stack *st)
{
	return stack_now_ms(st);
}

/* find_exception(): the live entry, removing it when expired. An entry is live while
 * now < expires (ipv4_mtu() stops using the PMTU at time_after_eq(jiffies, expires)). */
static struct fnhe *fnhe_find(struct ips_stack *st, uint32_t daddr)
{
	struct pmtu_cache *pc = st->icmp ? st->icmp->pmtu : NULL;
	struct fnhe **pp;

	if (!pc || !pc->buckets)
		return NULL;
	for (pp = &pc->buckets[fnhe_hash(st, daddr)]; *pp; pp = &(*pp)->next) {
		struct fnhe *f = *pp;

		if (f->daddr != daddr)
			continue;
		if (now_ms(st) >= f->expires_ms) {
			*pp = f->next;
			pc->count--;
			free(f);
			return NULL;
		}
		return f;
	}
	return NULL;
}

bool pmtu_lookup(struct ips_stack *st, uint32_t daddr, struct pmtu_info *out)
{
	struct fnhe *f = fnhe_find(st, daddr);

	if (!f)
		return false;
	f->stamp_ms = now_ms(st);
	out->mtu = f->pmtu;
	out->locked = f->pmtu ? f->mtu_locked : false;
	out->gateway = f->gw;
	out->expires_ms = f->expires_ms;
	return true;
}

uint32_t pmtu_get(struct ips_stack *st, uint32_t daddr)
{
	struct pmtu_info pi;

	return pmtu_lookup(st, daddr, &pi) ? pi.mtu : 0;
}

uint32_t pmtu_gateway_get(struct ips_stack *st, uint32_t daddr)
{
	struct pmtu_info pi;

	return pmtu_lookup(st, daddr, &pi) ? pi.gateway : 0;
}

static void fnhe_remove_oldest(struct pmtu_cache *pc, struct fnhe **chain)
{
	struct fnhe **oldest = NULL;

	for (struct fnhe **pp = chain; *pp; pp = &(*pp)->next)
		if (!oldest || (*pp)->stamp_ms < (*oldest)->stamp_ms)
			oldest = pp;
	if (oldest) {
		struct fnhe *f = *oldest;

		*oldest = f->next;
		pc->count--;
		free(f);
	}
}

/* update_or_create_fnhe() */
void pmtu_exception_set(struct ips_stack *st, uint32_t daddr, uint32_t gw, uint32_t mtu,
			bool locked, uint64_t expires_ms)
{
	struct pmtu_cache *pc = st->icmp ? st->icmp->pmtu : NULL;
	struct fnhe **chain, *f;
	int depth = 0;

	if (!pc)
		return;
	if (!pc->buckets) {
		pc->buckets = calloc(FNHE_HASH_SIZE, sizeof(*pc->buckets));
		if (!pc->buckets)
			return;
	}
	chain = &pc->buckets[fnhe_hash(st, daddr)];
	for (f = *chain; f; f = f->next) {
		if (f->daddr == daddr)
			break;
		depth++;
	}
	if (f) {
		if (gw)
			f->gw = gw;
		if (mtu) {
			f->pmtu = mtu;
			f->mtu_locked = locked;
		}
	} else {
		/* "Randomize max depth to avoid some side channels attacks." */
		int max_depth = FNHE_RECLAIM_DEPTH + (int)rng_below(&st->rng, FNHE_RECLAIM_DEPTH);

		while (depth > max_depth) {
			fnhe_remove_oldest(pc, chain);
			depth--;
		}
		f = calloc(1, sizeof(*f));
		if (!f)
			return;
		f->daddr = daddr;
		f->gw = gw;
		f->pmtu = mtu;
		f->mtu_locked = locked;
		f->next = *chain;
		*chain = f;
		pc->count++;
	}
	f->expires_ms = expires_ms ? expires_ms : 1;
	f->stamp_ms = now_ms(st);
}

/* __ip_rt_update_pmtu() after ipv4_update_pmtu()'s route lookup: never raise the path
 * MTU; a report under route.min_pmtu is replaced by min(current, min_pmtu) and LOCKED
 * (then DF is no longer set towards daddr and further reports are ignored until the
 * exception expires); an unchanged MTU only refreshes the expiry once half of it has
 * gone. */
void pmtu_update(struct ips_stack *st, uint32_t daddr, uint32_t mtu)
{
	const struct ipv4_sysctl *ip = &st->sysctl.ip;
	uint64_t expires = (uint64_t)(ip->route_mtu_expires > 0 ? ip->route_mtu_expires : 0) * 1000;
	uint32_t min_pmtu = ip->route_min_pmtu > 0 ? (uint32_t)ip->route_min_pmtu : 0;
	struct rt_result rt;
	struct fnhe *f;
	uint32_t old_mtu;
	bool lock = false;

	if (route_output(st, daddr, 0, 0, 0, &rt) < 0)
		return;
	f = fnhe_find(st, daddr);
	/* ip_mtu_locked(): the route's "mtu lock" or a locked exception. */
	if (rt.pmtu_locked || (f && f->pmtu && f->mtu_locked))
		return;
	old_mtu = rt.mtu;
	if (f && f->pmtu && f->pmtu < old_mtu)
		old_mtu = f->pmtu;
	if (old_mtu < mtu)
		return;
	if (mtu < min_pmtu) {
		lock = true;
		mtu = old_mtu < min_pmtu ? old_mtu : min_pmtu;
	}
	if (f && f->pmtu == mtu && !lock && now_ms(st) + expires / 2 < f->expires_ms)
		return;
	pmtu_exception_set(st, daddr, 0, mtu, lock, now_ms(st) + expires);
}

void pmtu_flush(struct ips_stack *st)
{
	struct pmtu_cache *pc = st->icmp ? st->icmp->pmtu : NULL;

	if (!pc || !pc->buckets)
		return;
	for (unsigned int i = 0; i < FNHE_HASH_SIZE; i++) {
		for (struct fnhe *f = pc->buckets[i], *n; f; f = n) {
			n = f->next;
			free(f);
		}
		pc->buckets[i] = NULL;
	}
	pc->count = 0;
}

int pmtu_init(struct ips_stack *st)
{
	st->icmp->pmtu = calloc(1, sizeof(*st->icmp->pmtu));
	return st->icmp->pmtu ? 0 : -ENOMEM;
}

void pmtu_fini(struct ips_stack *st)
{
	struct pmtu_cache *pc = st->icmp ? st->icmp->pmtu : NULL;

	if (!pc)
		return;
	pmtu_flush(st);
	free(pc->buckets);
	free(pc);
	st->icmp->pmtu = NULL;
}

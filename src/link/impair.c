/* The impairment engine (see impair.h) and ips_impair_parse(). */
#include "link/impair.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"

bool impair_cfg_is_zero(const struct ips_impair *c)
{
	return !c || (c->loss_pct <= 0 && c->dup_pct <= 0 && c->reorder_pct <= 0 &&
		      c->corrupt_pct <= 0 && c->delay_us == 0 && c->jitter_us == 0 &&
		      c->rate_bps == 0);
}

static bool pct_ok(double v)
{
	return v >= 0 && v <= 100;	/* false for NaN */
}

int impair_cfg_check(const struct ips_impair *c)
{
	if (!pct_ok(c->loss_pct) || !pct_ok(c->dup_pct) || !pct_ok(c->reorder_pct) ||
	    !pct_ok(c->corrupt_pct))
		return -EINVAL;
	return 0;
}

static void impair_timer_fn(void *arg);

struct impair *impair_new(struct ips_stack *st, const struct ips_impair *cfg, struct netdev *dev,
			  impair_out_fn out)
{
	struct impair *imp = calloc(1, sizeof(*imp));

	if (!imp)
		return NULL;
	imp->st = st;
	imp->dev = dev;
	imp->out = out;
	imp->cfg = *cfg;
	imp->limit = cfg->queue_limit ? cfg->queue_limit : IMPAIR_QUEUE_LIMIT_DEFAULT;
	/* A private generator: the engine's draws are reproducible per seed and do not
	 * disturb the sequence the protocols draw from st->rng. */
	rng_seed(&imp->rng, rng_next(&st->rng));
	timer_init(&imp->timer, impair_timer_fn, imp);
	pkb_queue_init(&imp->q);
	return imp;
}

void impair_purge(struct impair *imp)
{
	stack_timer_cancel(imp->st, &imp->timer);
	pkb_queue_purge(&imp->q);
	pkb_free(imp->parked);
	imp->parked = NULL;
	imp->last_release_ns = 0;
	imp->link_free_ns = 0;
}

void impair_free(struct impair *imp)
{
	if (!imp)
		return;
	impair_purge(imp);
	free(imp);
}

uint32_t impair_queued(const struct impair *imp)
{
	return (uint32_t)imp->q.len + (imp->parked ? 1 : 0);
}

static inline uint64_t pkb_release_ns(const struct pkb *p)
{
	return (uint64_t)p->cb[0] | (uint64_t)p->cb[1] << 32;
}

static inline void pkb_set_release_ns(struct pkb *p, uint64_t t)
{
	p->cb[0] = (uint32_t)t;
	p->cb[1] = (uint32_t)(t >> 32);
}

static void impair_rearm(struct impair *imp)
{
	uint64_t next = TIMER_NONE;

	if (imp->q.head)
		next = pkb_release_ns(imp->q.head);
	if (imp->parked && imp->parked_until_ns < next)
		next = imp->parked_until_ns;
	if (next == TIMER_NONE)
		stack_timer_cancel(imp->st, &imp->timer);
	else
		stack_timer_arm(imp->st, &imp->timer, next);
}

static void impair_release(struct impair *imp, struct pkb *p)
{
	imp->stats.out++;
	imp->out(imp->dev, p);
}

/* When a packet offered now leaves: serialisation at the rate, then delay +/- jitter,
 * never before the packet ahead of it. */
static uint64_t impair_when(struct impair *imp, const struct pkb *p, uint64_t now)
{
	const struct ips_impair *c = &imp->cfg;
	uint64_t t = now;
	int64_t d;

	if (c->rate_bps) {
		uint64_t start = imp->link_free_ns > now ? imp->link_free_ns : now;
		uint64_t bits = (uint64_t)p->len * 8;
		uint64_t tx_ns = (bits * NS_PER_SEC + c->rate_bps - 1) / c->rate_bps;

		imp->link_free_ns = start + tx_ns;
		t = imp->link_free_ns;
	}
	d = c->delay_us;
	if (c->jitter_us) {
		uint32_t j = c->jitter_us > 0x7fffffffu ? 0x7fffffffu : c->jitter_us;

		d += (int64_t)rng_below(&imp->rng, 2 * j + 1) - (int64_t)j;
	}
	if (d > 0)
		t += (uint64_t)d * NS_PER_US;
	if (imp->q.len && t < imp->last_release_ns)
		t = imp->last_release_ns;
	return t;
}

/* Queue p to leave at time t (or release it now if nothing is due before it). */
static void impair_schedule(struct impair *imp, struct pkb *p, uint64_t t, uint64_t now)
{
	if (t <= now && !imp->q.len) {
		impair_release(imp, p);
		return;
	}
	pkb_set_release_ns(p, t);
	pkb_queue_push(&imp->q, p);
	imp->last_release_ns = t;
}

/* Steps 4-6 for one packet (after loss/dup/corrupt). -ENOBUFS when the queue was full. */
static int impair_time(struct impair *imp, struct pkb *p, uint64_t now, bool may_reorder)
{
	uint64_t t;

	if (imp->q.len >= imp->limit) {
		imp->stats.queue_drops++;
		pkb_free(p);
		return -ENOBUFS;
	}
	if (may_reorder && !imp->parked && rng_chance(&imp->rng, imp->cfg.reorder_pct)) {
		imp->stats.reordered++;
		imp->parked = p;
		imp->parked_until_ns = now + ((uint64_t)imp->cfg.delay_us + imp->cfg.jitter_us) *
				       NS_PER_US + IMPAIR_REORDER_HOLD_NS;
		return 0;
	}
	t = impair_when(imp, p, now);
	impair_schedule(imp, p, t, now);
	if (imp->parked) {
		/* The held-back packet follows the one that overtook it (impair_when never
		 * schedules it ahead of a queued packet). */
		struct pkb *h = imp->parked;

		imp->parked = NULL;
		impair_schedule(imp, h, impair_when(imp, h, now), now);
	}
	return 0;
}

static void impair_corrupt(struct impair *imp, struct pkb **pp)
{
	struct pkb *p;
	uint32_t bit;

	if (!rng_chance(&imp->rng, imp->cfg.corrupt_pct) || !(*pp)->len)
		return;
	p = pkb_unshare(*pp);
	*pp = p;
	if (!p)
		return;
	pkb_csum_resolve(p);	/* netem: corrupt the real bytes, so the receiver sees it */
	bit = rng_below(&imp->rng, p->len * 8);
	p->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	imp->stats.corrupted++;
}

int impair_input(struct impair *imp, struct pkb *pkb)
{
	uint64_t now = stack_now_ns(imp->st);
	struct pkb *dup = NULL;
	int err = 0;

	imp->stats.in++;
	if (rng_chance(&imp->rng, imp->cfg.loss_pct)) {
		imp->stats.lost++;
		pkb_free(pkb);
		return 0;
	}
	if (rng_chance(&imp->rng, imp->cfg.dup_pct)) {
		dup = pkb_copy(pkb);
		if (dup)
			imp->stats.duplicated++;
	}
	impair_corrupt(imp, &pkb);
	if (pkb)
		err = impair_time(imp, pkb, now, true);
	if (dup) {
		impair_corrupt(imp, &dup);
		if (dup)
			impair_time(imp, dup, now, true);
	}
	impair_rearm(imp);
	return err;
}

static void impair_timer_fn(void *arg)
{
	struct impair *imp = arg;
	uint64_t now = stack_now_ns(imp->st);

	while (imp->q.head && pkb_release_ns(imp->q.head) <= now)
		impair_release(imp, pkb_queue_pop(&imp->q));
	if (imp->parked && imp->parked_until_ns <= now) {
		/* Nothing came to overtake it: it goes on its way. */
		struct pkb *h = imp->parked;

		imp->parked = NULL;
		impair_schedule(imp, h, impair_when(imp, h, now), now);
	}
	impair_rearm(imp);
}

/* ---- "loss=5,dup=1,reorder=2,delay=10,jitter=3,corrupt=0.5,rate=100,limit=500" ---- */

static int parse_num(const char *s, size_t n, double *out)
{
	char buf[64], *end;
	double v;

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = 0;
	v = strtod(buf, &end);
	if (*end || end == buf || !(v >= 0 && v < 1e300))	/* also rejects NaN, inf */
		return -EINVAL;
	*out = v;
	return 0;
}

IPS_API int ips_impair_parse(const char *spec, struct ips_impair *out)
{
	struct ips_impair c;
	const char *p = spec;

	if (!spec || !out)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	while (*p) {
		const char *comma = strchr(p, ','), *eq;
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		size_t klen;
		double v;

		eq = memchr(p, '=', len);
		if (!eq)
			return -EINVAL;
		klen = (size_t)(eq - p);
		if (parse_num(eq + 1, len - klen - 1, &v) < 0)
			return -EINVAL;
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(p, k, klen) == 0)
		if (KEY("loss") || KEY("dup") || KEY("reorder") || KEY("corrupt")) {
			if (v > 100)
				return -EINVAL;
			if (KEY("loss"))
				c.loss_pct = v;
			else if (KEY("dup"))
				c.dup_pct = v;
			else if (KEY("reorder"))
				c.reorder_pct = v;
			else
				c.corrupt_pct = v;
		} else if (KEY("delay") || KEY("jitter")) {
			double us = v * 1000.0;	/* ms -> us */

			if (us + 0.5 >= 4294967296.0)
				return -EINVAL;
			if (KEY("delay"))
				c.delay_us = (uint32_t)(us + 0.5);
			else
				c.jitter_us = (uint32_t)(us + 0.5);
		} else if (KEY("rate")) {
			double bps = v * 1e6;	/* Mbit/s -> bit/s */

			if (bps > 1e18 || (v > 0 && bps < 1))
				return -EINVAL;
			c.rate_bps = (uint64_t)(bps + 0.5);
		} else if (KEY("limit")) {
			if (v > UINT32_MAX || v != (double)(uint32_t)v)
				return -EINVAL;
			c.queue_limit = (uint32_t)v;
		} else {
			return -EINVAL;
		}
#undef KEY
		if (!comma)
			break;
		p = comma + 1;
		if (!*p)
			return -EINVAL;	/* trailing comma */
	}
	*out = c;
	return 0;
}

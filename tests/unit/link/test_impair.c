/* The impairment engine on its own: a bare stack object (clock, wheel, generator, pool)
 * and a sink that records what is released and when. Rates are checked over 100 000
 * packets against +/- 5 standard deviations; times are exact on the virtual clock. */
#include <errno.h>

#include "core/stack.h"
#include "link/impair.h"
#include "test.h"

TEST_MAIN

static uint64_t fake_now;

static uint64_t fake_clock(void *ctx)
{
	return fake_now;
}

struct rec {
	uint32_t id;
	uint64_t t;
	uint8_t first;
	uint32_t len;
	uint8_t bytes[64];
};

static struct rec *recs;
static size_t nrecs, caprecs;

static void sink(struct netdev *dev, struct pkb *p)
{
	if (nrecs == caprecs) {
		caprecs = caprecs ? caprecs * 2 : 1024;
		recs = realloc(recs, caprecs * sizeof(*recs));
	}
	struct rec *r = &recs[nrecs++];

	memcpy(&r->id, p->data, 4);
	r->t = fake_now;
	r->len = p->len;
	memcpy(r->bytes, p->data, p->len < 64 ? p->len : 64);
	pkb_free(p);
}

static void stack_setup(struct ips_stack *st, uint64_t seed)
{
	memset(st, 0, sizeof(*st));
	fake_now = 0;
	st->clock.now_ns = fake_clock;
	rng_seed(&st->rng, seed);
	timer_wheel_init(&st->wheel, 0);
	pkb_pool_init(&st->pool);
	nrecs = 0;
}

static void stack_teardown(struct ips_stack *st)
{
	CHECK_EQ(atomic_load(&st->pool.outstanding), 0);
	pkb_pool_destroy(&st->pool);
}

/* A packet of len bytes whose first 4 bytes are id, the rest a fixed pattern. */
static struct pkb *mkpkt(struct ips_stack *st, uint32_t id, size_t len)
{
	struct pkb *p = pkb_alloc(&st->pool, len);
	uint8_t *d = pkb_put(p, len);

	for (size_t i = 0; i < len; i++)
		d[i] = (uint8_t)(i * 7 + 1);
	memcpy(d, &id, 4);
	return p;
}

/* Run the wheel up to t. */
static void advance_to(struct ips_stack *st, uint64_t t)
{
	for (;;) {
		uint64_t next = timer_wheel_next_ns(&st->wheel);

		if (next == TIMER_NONE || next > t)
			break;
		if (next > fake_now)
			fake_now = next;
		timer_wheel_run(&st->wheel, fake_now);
	}
	fake_now = t;
	timer_wheel_run(&st->wheel, fake_now);
}

static double sqrt_newton(double x)
{
	double r = x > 1 ? x : 1;

	for (int i = 0; i < 100; i++)
		r = (r + x / r) / 2;
	return r;
}

static bool within(double got, double n, double pct)
{
	double mean = n * pct / 100, sd = sqrt_newton(n * pct / 100 * (1 - pct / 100));
	double diff = got > mean ? got - mean : mean - got;

	if (diff > 5 * sd) {
		fprintf(stderr, "  %.0f not within 5 sd of %.0f (sd %.1f)\n", got, mean, sd);
		return false;
	}
	return true;
}

#define N 100000

TEST(zero_config_needs_no_engine)
{
	struct ips_impair c = { 0 };

	CHECK(impair_cfg_is_zero(&c));
	CHECK(impair_cfg_is_zero(NULL));
	c.queue_limit = 5;	/* a limit alone impairs nothing */
	CHECK(impair_cfg_is_zero(&c));
	c.jitter_us = 1;
	CHECK(!impair_cfg_is_zero(&c));
}

TEST(loss_rate_within_bounds)
{
	struct ips_stack st;
	struct ips_impair c = { .loss_pct = 5 };

	stack_setup(&st, 1);
	struct impair *imp = impair_new(&st, &c, NULL, sink);

	for (uint32_t i = 0; i < N; i++)	/* random loss is silent (netem: success) */
		CHECK_EQ(impair_input(imp, mkpkt(&st, i, 60)), 0);
	CHECK(within((double)imp->stats.lost, N, 5));
	CHECK_EQ(nrecs + imp->stats.lost, N);
	/* Nothing to wait for: every survivor left synchronously, in order. */
	for (size_t i = 1; i < nrecs; i++)
		CHECK(recs[i].id > recs[i - 1].id);
	impair_free(imp);
	stack_teardown(&st);
}

TEST(dup_rate_within_bounds_and_copies_follow)
{
	struct ips_stack st;
	struct ips_impair c = { .dup_pct = 1 };

	stack_setup(&st, 2);
	struct impair *imp = impair_new(&st, &c, NULL, sink);

	for (uint32_t i = 0; i < N; i++)
		impair_input(imp, mkpkt(&st, i, 60));
	CHECK(within((double)imp->stats.duplicated, N, 1));
	CHECK_EQ(nrecs, N + imp->stats.duplicated);
	size_t twins = 0;

	for (size_t i = 1; i < nrecs; i++)
		if (recs[i].id == recs[i - 1].id)
			twins++;
	CHECK_EQ(twins, imp->stats.duplicated);
	impair_free(imp);
	stack_teardown(&st);
}

static int bits_differ(const uint8_t *a, const uint8_t *b, size_t n)
{
	int d = 0;

	for (size_t i = 0; i < n; i++)
		d += __builtin_popcount((unsigned)(a[i] ^ b[i]));
	return d;
}

TEST(corrupt_flips_exactly_one_bit_at_rate)
{
	struct ips_stack st;
	struct ips_impair c = { .corrupt_pct = 0.5 };
	uint8_t ref[64];
	size_t corrupted = 0;

	stack_setup(&st, 3);
	struct impair *imp = impair_new(&st, &c, NULL, sink);

	for (uint32_t i = 0; i < N; i++)
		impair_input(imp, mkpkt(&st, 0, 64));	/* id 0: any flip shows */
	ASSERT_EQ(nrecs, N);
	for (size_t i = 0; i < 64; i++)
		ref[i] = (uint8_t)(i * 7 + 1);
	memset(ref, 0, 4);
	for (size_t i = 0; i < nrecs; i++) {
		int d = bits_differ(recs[i].bytes, ref, 64);

		CHECK(d == 0 || d == 1);
		corrupted += d;
	}
	CHECK_EQ(corrupted, imp->stats.corrupted);
	CHECK(within((double)corrupted, N, 0.5));
	impair_free(imp);
	stack_teardown(&st);
}

/* Same seed, same input: the same packets, byte for byte, at the same times. */
static uint64_t run_mixed(uint64_t seed)
{
	struct ips_stack st;
	struct ips_impair c = { .loss_pct = 3, .dup_pct = 2, .reorder_pct = 2, .corrupt_pct = 1,
				.delay_us = 500, .jitter_us = 200 };
	uint64_t h = 1469598103934665603ULL;

	stack_setup(&st, seed);
	struct impair *imp = impair_new(&st, &c, NULL, sink);

	for (uint32_t i = 0; i < 20000; i++) {
		advance_to(&st, (uint64_t)i * 100 * NS_PER_US);
		impair_input(imp, mkpkt(&st, i, 64));
	}
	advance_to(&st, fake_now + NS_PER_SEC);
	for (size_t i = 0; i < nrecs; i++) {
		h = (h ^ recs[i].t) * 1099511628211ULL;
		for (int b = 0; b < 64; b++)
			h = (h ^ recs[i].bytes[b]) * 1099511628211ULL;
	}
	impair_free(imp);
	stack_teardown(&st);
	return h ^ nrecs;
}

TEST(same_seed_same_result)
{
	uint64_t a = run_mixed(77), b = run_mixed(77), c = run_mixed(78);

	CHECK(a == b);
	CHECK(a != c);
}

TEST(delay_is_exact)
{
	struct ips_stack st;
	struct ips_impair c = { .delay_us = 10000 };

	stack_setup(&st, 4);
	struct impair *imp = impair_new(&st, &c, NULL, sink);

	impair_input(imp, mkpkt(&st, 1, 100));
	advance_to(&st, 3 * NS_PER_MS);
	impair_input(imp, mkpkt(&st, 2, 100));
	CHECK_EQ(impair_queued(imp), 2);
	advance_to(&st, 10 * NS_PER_MS - 1);
	CHECK_EQ(nrecs, 0);
	advance_to(&st, 100 * NS_PER_MS);
	ASSERT_EQ(nrecs, 2);
	CHECK_EQ(recs[0].t, 10 * NS_PER_MS);
	CHECK_EQ(recs[1].t, 13 * NS_PER_MS);
	impair_free(imp);
	stack_teardown(&st);
}

TEST(jitter_stays_in_range_and_keeps_order)
{
	struct ips_stack st;
	struct ips_impair c = { .delay_us = 10000, .jitter_us = 3000 };
	uint64_t lo = UINT64_MAX, hi = 0;

	stack_setup(&st, 5);
	struct impair *imp = impair_new(&st, &c, NULL, sink);

	for (uint32_t i = 0; i < 1000; i++) {
		advance_to(&st, (uint64_t)i * 20 * NS_PER_MS);	/* far apart: no clamping */
		impair_input(imp, mkpkt(&st, i, 100));
	}
	advance_to(&st, fake_now + NS_PER_SEC);
	ASSERT_EQ(nrecs, 1000);
	for (size_t i = 0; i < nrecs; i++) {
		uint64_t d = recs[i].t - (uint64_t)recs[i].id * 20 * NS_PER_MS;

		CHECK(d >= 7 * NS_PER_MS && d <= 13 * NS_PER_MS);
		CHECK(d % NS_PER_US == 0);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
		if (i)
			CHECK(recs[i].id == recs[i - 1].id + 1);
	}
	CHECK(lo < 8 * NS_PER_MS && hi > 12 * NS_PER_MS);	/* spread over the range */
	/* Back to back, jitter never reorders. */
	nrecs = 0;
	for (uint32_t i = 0; i < 100; i++)
		impair_input(imp, mkpkt(&st, i, 100));
	advance_to(&st, fake_now + NS_PER_SEC);
	ASSERT_EQ(nrecs, 100);
	for (size_t i = 1; i < nrecs; i++) {
		CHECK(recs[i].id == recs[i - 1].id + 1);
		CHECK(recs[i].t >= recs[i - 1].t);
	}
	impair_free(imp);
	stack_teardown(&st);
}

TEST(rate_serialises_exactly)
{
	struct ips_stack st;
	struct ips_impair c = { .rate_bps = 1000000 };	/* 1 Mbit/s: 1250 bytes = 10 ms */

	stack_setup(&st, 6);
	struct impair *imp = impair_new(&st, &c, NULL, sink);

	for (uint32_t i = 0; i < 3; i++)
		impair_input(imp, mkpkt(&st, i, 1250));
	advance_to(&st, 35 * NS_PER_MS);
	impair_input(imp, mkpkt(&st, 3, 125));	/* idle link: 1 ms */
	advance_to(&st, NS_PER_SEC);
	ASSERT_EQ(nrecs, 4);
	CHECK_EQ(recs[0].t, 10 * NS_PER_MS);
	CHECK_EQ(recs[1].t, 20 * NS_PER_MS);
	CHECK_EQ(recs[2].t, 30 * NS_PER_MS);
	CHECK_EQ(recs[3].t, 36 * NS_PER_MS);
	impair_free(imp);
	stack_teardown(&st);
}

TEST(rate_plus_delay)
{
	struct ips_stack st;
	struct ips_impair c = { .rate_bps = 100000000, .delay_us = 5000 };	/* 100 Mbit/s */

	stack_setup(&st, 7);
	struct impair *imp = impair_new(&st, &c, NULL, sink);

	impair_input(imp, mkpkt(&st, 0, 1000));		/* 80 us on the wire */
	impair_input(imp, mkpkt(&st, 1, 1000));
	advance_to(&st, NS_PER_SEC);
	ASSERT_EQ(nrecs, 2);
	CHECK_EQ(recs[0].t, 5 * NS_PER_MS + 80 * NS_PER_US);
	CHECK_EQ(recs[1].t, 5 * NS_PER_MS + 160 * NS_PER_US);
	impair_free(imp);
	stack_teardown(&st);
}

TEST(queue_limit_drops_at_the_tail)
{
	struct ips_stack st;
	struct ips_impair c = { .rate_bps = 1000000, .queue_limit = 2 };

	stack_setup(&st, 8);
	struct impair *imp = impair_new(&st, &c, NULL, sink);

	for (uint32_t i = 0; i < 5; i++)
		impair_input(imp, mkpkt(&st, i, 1250));
	CHECK_EQ(imp->stats.queue_drops, 3);
	advance_to(&st, NS_PER_SEC);
	ASSERT_EQ(nrecs, 2);
	CHECK_EQ(recs[0].id, 0);
	CHECK_EQ(recs[1].id, 1);
	CHECK_EQ(recs[1].t, 20 * NS_PER_MS);	/* dropped frames took no wire time */
	impair_free(imp);
	stack_teardown(&st);
}

TEST(default_queue_limit_is_1000)
{
	struct ips_stack st;
	struct ips_impair c = { .delay_us = 1000 };

	stack_setup(&st, 9);
	struct impair *imp = impair_new(&st, &c, NULL, sink);

	for (uint32_t i = 0; i < 1005; i++)	/* the sender is told of a full queue */
		CHECK_EQ(impair_input(imp, mkpkt(&st, i, 60)), i < 1000 ? 0 : -ENOBUFS);
	CHECK_EQ(imp->stats.queue_drops, 5);
	CHECK_EQ(impair_queued(imp), 1000);
	impair_free(imp);	/* drops what waits */
	stack_teardown(&st);
}

TEST(reorder_lets_exactly_one_overtake)
{
	struct ips_stack st;
	struct ips_impair c = { .reorder_pct = 20 };
	size_t swaps = 0;

	stack_setup(&st, 10);
	struct impair *imp = impair_new(&st, &c, NULL, sink);

	for (uint32_t i = 0; i < 10000; i++) {
		advance_to(&st, (uint64_t)i * NS_PER_MS);
		if (i == 9999)
			imp->cfg.reorder_pct = 0;	/* the last one releases any held back */
		impair_input(imp, mkpkt(&st, i, 60));
	}
	advance_to(&st, fake_now + NS_PER_SEC);
	ASSERT_EQ(nrecs, 10000);
	/* A packet can be held only while none is: p = 0.2 (1 - p), p = 1/6. */
	CHECK(imp->stats.reordered > 1400 && imp->stats.reordered < 1950);
	for (size_t i = 1; i < nrecs; i++) {
		if (recs[i].id < recs[i - 1].id) {
			swaps++;
			CHECK_EQ(recs[i].id + 1, recs[i - 1].id);	/* adjacent swap */
			CHECK_EQ(recs[i].t, recs[i - 1].t);		/* right behind it */
		}
	}
	CHECK_EQ(swaps, imp->stats.reordered);
	impair_free(imp);
	stack_teardown(&st);
}

TEST(reordered_packet_alone_leaves_after_hold)
{
	struct ips_stack st;
	struct ips_impair c = { .reorder_pct = 100, .delay_us = 2000 };

	stack_setup(&st, 11);
	struct impair *imp = impair_new(&st, &c, NULL, sink);

	impair_input(imp, mkpkt(&st, 1, 60));
	advance_to(&st, NS_PER_SEC);
	ASSERT_EQ(nrecs, 1);
	/* Held for delay + jitter + 10 ms, then delayed as any packet. */
	CHECK_EQ(recs[0].t, 2 * NS_PER_MS + IMPAIR_REORDER_HOLD_NS + 2 * NS_PER_MS);
	impair_free(imp);
	stack_teardown(&st);
}

TEST(purge_drops_waiting_packets)
{
	struct ips_stack st;
	struct ips_impair c = { .delay_us = 1000, .reorder_pct = 100 };

	stack_setup(&st, 12);
	struct impair *imp = impair_new(&st, &c, NULL, sink);

	for (uint32_t i = 0; i < 10; i++)
		impair_input(imp, mkpkt(&st, i, 60));
	CHECK(impair_queued(imp) > 0);
	impair_purge(imp);
	CHECK_EQ(impair_queued(imp), 0);
	advance_to(&st, NS_PER_SEC);
	CHECK_EQ(nrecs, 0);
	impair_free(imp);
	stack_teardown(&st);
}

TEST(parse_full_spec)
{
	struct ips_impair c;

	ASSERT_EQ(ips_impair_parse("loss=5,dup=1,reorder=2,delay=10,jitter=3,corrupt=0.5,rate=100", &c), 0);
	CHECK(c.loss_pct == 5);
	CHECK(c.dup_pct == 1);
	CHECK(c.reorder_pct == 2);
	CHECK(c.corrupt_pct == 0.5);
	CHECK_EQ(c.delay_us, 10000);
	CHECK_EQ(c.jitter_us, 3000);
	CHECK_EQ(c.rate_bps, 100000000);
	CHECK_EQ(c.queue_limit, 0);
	ASSERT_EQ(ips_impair_parse("delay=0.25,rate=0.5,limit=50", &c), 0);
	CHECK_EQ(c.delay_us, 250);
	CHECK_EQ(c.rate_bps, 500000);
	CHECK_EQ(c.queue_limit, 50);
	CHECK(c.loss_pct == 0);
	ASSERT_EQ(ips_impair_parse("", &c), 0);
	CHECK(impair_cfg_is_zero(&c));
}

TEST(parse_rejects_bad_input)
{
	struct ips_impair c = { .loss_pct = 42 };
	const char *bad[] = { "loss", "loss=", "loss=x", "loss=101", "loss=-1", "bogus=1",
			      "loss=5,", ",loss=5", "loss=5,,dup=1", "delay=1e20", "limit=1.5",
			      "loss=nan", "rate=inf", "Loss=5", "loss =5" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = ips_impair_parse(bad[i], &c);

		if (rc != -EINVAL)
			TEST_FAIL_AT("\"%s\" gave %d", bad[i], rc);
	}
	CHECK(c.loss_pct == 42);	/* untouched on error */
}

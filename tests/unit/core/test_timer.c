/* The timer wheel fires every timer exactly at its expiry tick, in order, whatever the
 * spread of expiries, and supports cancel/re-arm from inside callbacks. */
#include "test.h"

#include "core/random.h"
#include "core/timer.h"

struct rec {
	struct timer t;
	uint64_t want_ns;
	uint64_t fired_at;
	int fired;
};

static uint64_t now_ns;
static uint64_t last_fired;
static int order_ok;

static void rec_fire(void *arg)
{
	struct rec *r = arg;

	r->fired++;
	r->fired_at = now_ns;
	if (r->want_ns < last_fired)
		order_ok = 0;
	last_fired = r->want_ns;
}

/* Drive the wheel the way a simulated world does: jump to the next event each time. */
static void run_to(struct timer_wheel *w, uint64_t end)
{
	for (;;) {
		uint64_t next = timer_wheel_next_ns(w);

		if (next == TIMER_NONE || next > end) {
			now_ns = end;
			timer_wheel_run(w, now_ns);
			return;
		}
		if (next > now_ns)
			now_ns = next;
		timer_wheel_run(w, now_ns);
	}
}

TEST(timer_fires_at_exact_tick_across_all_levels)
{
	static struct rec recs[2000];
	struct timer_wheel w;
	struct rng r;

	now_ns = 5000;	/* not zero, not aligned */
	last_fired = 0;
	order_ok = 1;
	timer_wheel_init(&w, now_ns);
	rng_seed(&r, 42);
	for (int i = 0; i < 2000; i++) {
		/* expiries from 1 us to ~3 days, log-uniform */
		int bits = 1 + (int)rng_below(&r, 48);
		uint64_t d = (rng_next(&r) & ((1ULL << bits) - 1)) + 1;

		d = d / 1000 * 1000 + 1000;	/* whole microseconds */
		recs[i].want_ns = now_ns - (now_ns % 1000) + d;
		recs[i].fired = 0;
		timer_init(&recs[i].t, rec_fire, &recs[i]);
		timer_arm(&w, &recs[i].t, recs[i].want_ns);
	}
	CHECK_EQ(w.count, 2000);
	run_to(&w, 1ULL << 50);
	for (int i = 0; i < 2000; i++) {
		CHECK_EQ(recs[i].fired, 1);
		CHECK_EQ(recs[i].fired_at, recs[i].want_ns);
	}
	CHECK(order_ok);
	CHECK_EQ(w.count, 0);
	CHECK_EQ(timer_wheel_next_ns(&w), TIMER_NONE);
}

TEST(timer_cancel_and_rearm)
{
	struct timer_wheel w;
	struct rec a = { 0 }, b = { 0 };

	now_ns = 0;
	timer_wheel_init(&w, 0);
	timer_init(&a.t, rec_fire, &a);
	timer_init(&b.t, rec_fire, &b);
	a.want_ns = 10 * 1000000ULL;
	b.want_ns = 20 * 1000000ULL;
	timer_arm(&w, &a.t, a.want_ns);
	timer_arm(&w, &b.t, 5 * 1000000ULL);
	timer_arm(&w, &b.t, b.want_ns);	/* re-arm moves it */
	CHECK_EQ(w.count, 2);
	timer_cancel(&w, &a.t);
	CHECK(!timer_pending(&a.t));
	timer_cancel(&w, &a.t);	/* cancelling twice is harmless */
	last_fired = 0;
	order_ok = 1;
	run_to(&w, 100 * 1000000ULL);
	CHECK_EQ(a.fired, 0);
	CHECK_EQ(b.fired, 1);
	CHECK_EQ(b.fired_at, b.want_ns);
}

static struct timer_wheel *cb_wheel;
static struct rec chain[3];

static void chain_fire(void *arg)
{
	struct rec *r = arg;

	r->fired++;
	r->fired_at = now_ns;
	if (r == &chain[0]) {
		/* cancel a timer due at the same tick, arm one that is already due */
		timer_cancel(cb_wheel, &chain[1].t);
		timer_arm(cb_wheel, &chain[2].t, now_ns - 1000);
	}
}

TEST(timer_callbacks_cancel_and_arm_due_timers)
{
	struct timer_wheel w;

	cb_wheel = &w;
	now_ns = 0;
	timer_wheel_init(&w, 0);
	memset(chain, 0, sizeof(chain));
	for (int i = 0; i < 3; i++)
		timer_init(&chain[i].t, chain_fire, &chain[i]);
	/* chain[1] armed first so it sits after chain[0] in the slot list */
	timer_arm(&w, &chain[1].t, 7000);
	timer_arm(&w, &chain[0].t, 7000);
	run_to(&w, 10000);
	CHECK_EQ(chain[0].fired, 1);
	CHECK_EQ(chain[1].fired, 0);
	CHECK_EQ(chain[2].fired, 1);
	CHECK_EQ(chain[2].fired_at, 7000);
	CHECK_EQ(w.count, 0);
}

TEST(timer_far_future_is_clamped_not_lost)
{
	struct timer_wheel w;
	struct rec a = { 0 };

	now_ns = 0;
	timer_wheel_init(&w, 0);
	timer_init(&a.t, rec_fire, &a);
	timer_arm(&w, &a.t, UINT64_MAX / 2);
	run_to(&w, (1ULL << 42) * 1000);
	CHECK_EQ(a.fired, 1);
}

TEST_MAIN

/* A hierarchical timer wheel on the stack's injected clock.
 *
 * Ticks are microseconds. Seven levels of 64 slots; level L slot width is 64^L ticks.
 * A timer lives at the lowest level whose higher-order tick bits it shares with the
 * wheel's current tick, so it is cascaded at most six times and an idle wheel costs
 * nothing: finding the next expiry is a few bit scans, whatever the number of timers.
 * Cancel and re-arm are O(1). Expiries further than 2^41 us (25 days) are clamped. */
#ifndef IPS_CORE_TIMER_H
#define IPS_CORE_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMER_LEVELS 7
#define TIMER_SLOTS 64
#define TIMER_NONE UINT64_MAX

struct timer {
	struct timer *next;
	struct timer **pprev;	/* NULL when not pending */
	uint64_t expires;	/* tick */
	void (*fn)(void *arg);
	void *arg;
};

struct timer_wheel {
	uint64_t cur;		/* current tick; all timers expire at or after it */
	uint64_t occupied[TIMER_LEVELS];
	struct timer *slots[TIMER_LEVELS][TIMER_SLOTS];
	size_t count;
};

void timer_wheel_init(struct timer_wheel *w, uint64_t now_ns);
void timer_init(struct timer *t, void (*fn)(void *arg), void *arg);
/* Arm (or re-arm) t to fire once now_ns >= expires_ns. */
void timer_arm(struct timer_wheel *w, struct timer *t, uint64_t expires_ns);
void timer_cancel(struct timer_wheel *w, struct timer *t);
static inline bool timer_pending(const struct timer *t)
{
	return t->pprev != NULL;
}
/* Expiry of a pending timer in ns. */
static inline uint64_t timer_expires_ns(const struct timer *t)
{
	return t->expires * 1000;
}
/* Fire every timer due at now_ns, in expiry order; callbacks may arm and cancel timers.
 * Returns the number fired. */
size_t timer_wheel_run(struct timer_wheel *w, uint64_t now_ns);
/* The time by which timer_wheel_run() must next be called (possibly early: a cascade
 * point), or TIMER_NONE. */
uint64_t timer_wheel_next_ns(const struct timer_wheel *w);

#endif

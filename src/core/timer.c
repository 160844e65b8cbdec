#include "core/timer.h"

#include <string.h>

#define LEVEL_SHIFT(l) (6 * (l))
#define MAX_DELTA ((1ULL << 41) - 1)

void timer_wheel_init(struct timer_wheel *w, uint64_t now_ns)
{
	memset(w, 0, sizeof(*w));
	w->cur = now_ns / 1000;
}

void timer_init(struct timer *t, void (*fn)(void *arg), void *arg)
{
	t->next = NULL;
	t->pprev = NULL;
	t->expires = 0;
	t->fn = fn;
	t->arg = arg;
}

static void slot_insert(struct timer_wheel *w, struct timer *t)
{
	uint64_t e = t->expires;
	int level;

	for (level = 0; level < TIMER_LEVELS - 1; level++)
		if ((e >> LEVEL_SHIFT(level + 1)) == (w->cur >> LEVEL_SHIFT(level + 1)))
			break;

	unsigned idx = (e >> LEVEL_SHIFT(level)) & (TIMER_SLOTS - 1);
	struct timer **head = &w->slots[level][idx];

	t->next = *head;
	if (t->next)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
	w->occupied[level] |= 1ULL << idx;
}

static void slot_unlink(struct timer_wheel *w, struct timer *t)
{
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
}

static void slot_update_bit(struct timer_wheel *w, struct timer **head)
{
	/* A slot's bit is cleared once its list empties. */
	size_t off = (size_t)(head - &w->slots[0][0]);
	unsigned level = (unsigned)(off / TIMER_SLOTS), idx = (unsigned)(off % TIMER_SLOTS);

	if (!*head)
		w->occupied[level] &= ~(1ULL << idx);
}

void timer_cancel(struct timer_wheel *w, struct timer *t)
{
	if (!t->pprev)
		return;

	/* pprev points either at a slot head or at a predecessor's next field; find the slot
	 * head only when the timer was first in it. */
	struct timer **pp = t->pprev;
	int was_head = pp >= &w->slots[0][0] && pp < &w->slots[0][0] + TIMER_LEVELS * TIMER_SLOTS;

	slot_unlink(w, t);
	w->count--;
	if (was_head)
		slot_update_bit(w, pp);
}

void timer_arm(struct timer_wheel *w, struct timer *t, uint64_t expires_ns)
{
	uint64_t tick = (expires_ns + 999) / 1000;

	timer_cancel(w, t);
	if (tick < w->cur)
		tick = w->cur;
	if (tick - w->cur > MAX_DELTA)
		tick = w->cur + MAX_DELTA;
	t->expires = tick;
	slot_insert(w, t);
	w->count++;
}

/* Next tick at which something happens: a level-0 expiry or a higher-level cascade. */
static uint64_t next_event_tick(const struct timer_wheel *w)
{
	uint64_t best = TIMER_NONE;

	for (int level = 0; level < TIMER_LEVELS; level++) {
		uint64_t occ = w->occupied[level];

		if (!occ)
			continue;
		unsigned shift = LEVEL_SHIFT(level);
		unsigned pos = (w->cur >> shift) & (TIMER_SLOTS - 1);
		/* Level 0 may hold timers due at the current tick; higher levels only hold
		 * slots strictly after the current one (see slot_insert). */
		uint64_t mask = level == 0 ? occ & (~0ULL << pos)
					   : (pos == 63 ? 0 : occ & (~0ULL << (pos + 1)));

		if (!mask)
			continue;	/* cannot happen for a consistent wheel */
		unsigned idx = (unsigned)__builtin_ctzll(mask);
		uint64_t base = (w->cur >> (shift + 6)) << (shift + 6);
		uint64_t t = base | ((uint64_t)idx << shift);

		if (t < best)
			best = t;
	}
	return best;
}

uint64_t timer_wheel_next_ns(const struct timer_wheel *w)
{
	uint64_t t = next_event_tick(w);

	return t == TIMER_NONE ? TIMER_NONE : t * 1000;
}

size_t timer_wheel_run(struct timer_wheel *w, uint64_t now_ns)
{
	uint64_t now = now_ns / 1000;
	size_t fired = 0;

	for (;;) {
		uint64_t t = next_event_tick(w);

		if (t == TIMER_NONE || t > now) {
			if (now > w->cur)
				w->cur = now;
			break;
		}
		w->cur = t;
		/* Cascade every level whose slot starts exactly at t. */
		for (int level = TIMER_LEVELS - 1; level >= 1; level--) {
			unsigned shift = LEVEL_SHIFT(level);

			if (t & ((1ULL << shift) - 1))
				continue;
			unsigned idx = (t >> shift) & (TIMER_SLOTS - 1);

			if (!(w->occupied[level] & (1ULL << idx)))
				continue;
			struct timer *list = w->slots[level][idx];

			w->slots[level][idx] = NULL;
			w->occupied[level] &= ~(1ULL << idx);
			while (list) {
				struct timer *n = list->next;

				list->next = NULL;
				list->pprev = NULL;
				slot_insert(w, list);
				list = n;
			}
		}
		/* Fire the level-0 slot of t. Detach first: callbacks may arm new timers at t. */
		unsigned idx = t & (TIMER_SLOTS - 1);
		struct timer *list = w->slots[0][idx];

		if (!list)
			continue;
		w->slots[0][idx] = NULL;
		w->occupied[0] &= ~(1ULL << idx);
		/* Keep the detached list well-formed, so that a callback cancelling a later
		 * timer of the same batch unlinks it from this list. */
		struct timer *batch = list;

		batch->pprev = &batch;
		while (batch) {
			struct timer *x = batch;

			slot_unlink(w, x);	/* batch advances via *pprev */
			w->count--;
			fired++;
			x->fn(x->arg);
		}
	}
	return fired;
}

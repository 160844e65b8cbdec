/* The stack object: everything Linux keeps per network namespace. Protocol modules keep
 * their state behind the pointers below and reach each other only through the
 * functions declared in their headers (src/link/link.h, src/ip/ip.h, ...). */
#ifndef IPS_CORE_STACK_H
#define IPS_CORE_STACK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipstack/ipstack.h"
#include "core/clock.h"
#include "core/mib.h"
#include "core/pkb.h"
#include "core/random.h"
#include "core/sysctl.h"
#include "core/timer.h"

struct netdev;
struct link_state;
struct ip_state;
struct icmp_state;
struct transport_state;
struct socket_state;
struct tcp_state;

struct ips_stack {
	pthread_mutex_t lock;		/* held by the loop and by every API call */
	char name[32];
	enum ips_mode mode;
	struct ips_clock_ops clock;
	struct rng rng;			/* all protocol randomness comes from here */
	uint8_t secret[16];		/* SipHash key for ISNs, ports, IP IDs, hashes */
	struct timer_wheel wheel;
	struct pkb_pool pool;
	struct sysctl_ns sysctl;
	struct mib mib;

	struct netdev *devs;		/* list in ifindex order */
	int next_ifindex;
	struct netdev *lo;

	struct link_state *link;	/* src/link */
	struct ip_state *ip;		/* src/ip: addresses, routes, fragments, PMTU */
	struct icmp_state *icmp;	/* src/ip/icmp.c */
	struct transport_state *transport;
	struct socket_state *sock;
	struct tcp_state *tcp;		/* src/transport/tcp*.c */

	/* Loop plumbing. */
	atomic_int kicked;		/* some device has pending input */
	int wake_fd;			/* eventfd; -1 in simulated mode */
	pthread_t thread;
	bool thread_running;
	atomic_bool stop;
	struct ips_world *world;	/* simulated stacks only */
	struct ips_stack *world_next;
	atomic_int pollers;		/* threads in (or about to enter) poll() on wake_fd:
					 * a kick writes wake_fd only when there is one */
	_Atomic uint64_t poll_deadline_ns;	/* when that poll() returns by itself */
};

/* The pass of a stack's loop (stack_process()) this thread is running, if any, and the
 * time read at the start of its current round. */
struct stack_pass {
	const struct ips_stack *st;
	uint64_t now_ns;
};
extern __thread struct stack_pass stack_pass __attribute__((tls_model("initial-exec")));

/* The stack's clock. Inside a pass of the loop, the time is read once per round and every
 * stack_now_ns() of that stack in that thread returns the same value: as Linux reads
 * jiffies or refreshes tcp_mstamp once per event rather than at every use, and as a
 * simulated stack's virtual clock always behaves. A real clock read costs ~40 ns on these
 * VMs and TCP reads it several times per segment (docs/performance.md). */
static inline uint64_t stack_now_ns(const struct ips_stack *st)
{
	if (stack_pass.st == st)
		return stack_pass.now_ns;
	return st->clock.now_ns(st->clock.ctx);
}

/* The same for a stretch of protocol work done by an API call under the stack lock (a
 * send or receive that may emit segments): read the clock once for all of it. Never
 * around a wait: time stands still in between (sock_wait() would never time out).
 *	struct stack_pass saved = stack_pass_begin(st);  ...  stack_pass_end(saved); */
static inline struct stack_pass stack_pass_begin(const struct ips_stack *st)
{
	struct stack_pass saved = stack_pass;

	stack_pass.now_ns = st->clock.now_ns(st->clock.ctx);
	stack_pass.st = st;
	return saved;
}

static inline void stack_pass_end(struct stack_pass saved)
{
	stack_pass = saved;
}

/* Milliseconds on the stack clock (jiffies at HZ=1000). */
static inline uint64_t stack_now_ms(const struct ips_stack *st)
{
	return stack_now_ns(st) / NS_PER_MS;
}

static inline void stack_timer_arm(struct ips_stack *st, struct timer *t, uint64_t expires_ns)
{
	timer_arm(&st->wheel, t, expires_ns);
}

/* Arm t to fire delay_ms from now. */
static inline void stack_timer_arm_ms(struct ips_stack *st, struct timer *t, uint64_t delay_ms)
{
	timer_arm(&st->wheel, t, stack_now_ns(st) + delay_ms * NS_PER_MS);
}

static inline void stack_timer_cancel(struct ips_stack *st, struct timer *t)
{
	timer_cancel(&st->wheel, t);
}

static inline struct pkb *stack_pkb_alloc(struct ips_stack *st, size_t size)
{
	return pkb_alloc(&st->pool, size);
}

/* Tell the stack's loop that a device has input to service (any thread). */
void stack_kick(struct ips_stack *st);

/* Do all work that is due now: timers, device input. Caller holds st->lock. Returns the
 * time of the next timer (or TIMER_NONE). */
uint64_t stack_process(struct ips_stack *st);

struct netdev *stack_dev_by_name(struct ips_stack *st, const char *name);
struct netdev *stack_dev_by_index(struct ips_stack *st, int ifindex);

#define stack_lock(st) pthread_mutex_lock(&(st)->lock)

/* Unlock; if a thread sleeps in ips_stack_poll() past the earliest timer (one that an
 * API call just armed — a delayed frame on an impaired link, a retransmission), wake it
 * so the timer fires on time. The poller publishes its deadline and counts itself in
 * `pollers` while holding the lock, so whoever arms a timer after that sees both. A
 * thread that gives up the lock by waiting on a condition variable calls
 * stack_poke_poller() first. */
static inline void stack_poke_poller(struct ips_stack *st)
{
	if (atomic_load_explicit(&st->pollers, memory_order_relaxed) > 0 &&
	    timer_wheel_next_ns(&st->wheel) <
		    atomic_load_explicit(&st->poll_deadline_ns, memory_order_relaxed))
		ips_stack_wake(st);
}

static inline void stack_unlock(struct ips_stack *st)
{
	stack_poke_poller(st);
	pthread_mutex_unlock(&st->lock);
}

#endif

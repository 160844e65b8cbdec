/* The stack object, its event loop, and simulated worlds. */
#include "core/stack.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ip/ip.h"
#include "link/link.h"
#include "link/netdev.h"
#include "transport/tcp.h"
#include "transport/transport.h"

struct ips_world {
	uint64_t now_ns;
	uint64_t seed;
	int nstacks;
	struct ips_stack *stacks, *stacks_tail;
};

static uint64_t world_clock(void *ctx)
{
	return ((struct ips_world *)ctx)->now_ns;
}

static void stack_seed(struct ips_stack *st, const struct ips_stack_config *cfg)
{
	uint64_t seed = cfg ? cfg->seed : 0;

	if (!seed) {
		if (cfg && cfg->random)
			cfg->random->fill(cfg->random->ctx, &seed, sizeof(seed));
		else
			random_system_fill(NULL, &seed, sizeof(seed));
	}
	rng_seed(&st->rng, seed);
	rng_fill(&st->rng, st->secret, sizeof(st->secret));
}

static void stack_destroy(struct ips_stack *st)
{
	/* TCP first: it frees every connection without sending anything (the socket layer's
	 * SOCK_STREAM sockets then find st->tcp gone and only drop their side). */
	tcp_fini(st);
	transport_fini(st);
	link_fini(st);
	icmp_fini(st);
	ip_fini(st);
	sysctl_ns_fini(&st->sysctl);
	pkb_pool_destroy(&st->pool);
	if (st->wake_fd >= 0)
		close(st->wake_fd);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static struct ips_stack *stack_create(const struct ips_stack_config *cfg, struct ips_world *w)
{
	struct ips_stack *st = calloc(1, sizeof(*st));
	pthread_mutexattr_t attr;

	if (!st)
		return NULL;
	/* Recursive: a management call may run protocol code that calls back into the
	 * stack's own API paths (never across stacks while holding the lock). */
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&st->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	snprintf(st->name, sizeof(st->name), "%s", cfg && cfg->name ? cfg->name : "ipstack");
	st->mode = cfg ? cfg->mode : IPS_MODE_THREADED;
	st->wake_fd = -1;
	st->world = w;
	if (w) {
		st->clock.now_ns = world_clock;
		st->clock.ctx = w;
	} else if (cfg && cfg->clock) {
		st->clock = *cfg->clock;
	} else {
		st->clock.now_ns = clock_real_now_ns;
	}
	stack_seed(st, cfg);
	timer_wheel_init(&st->wheel, stack_now_ns(st));
	pkb_pool_init(&st->pool);
	sysctl_ns_init(&st->sysctl);
	st->next_ifindex = 1;
	if (st->mode != IPS_MODE_SIMULATED) {
		st->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (st->wake_fd < 0)
			goto fail;
	}
	if (ip_init(st) < 0 || icmp_init(st) < 0 || link_init(st) < 0 || transport_init(st) < 0 ||
	    tcp_init(st) < 0)
		goto fail;
	if (!(cfg && cfg->no_loopback) && st->lo) {
		netdev_set_up(st->lo, true);
		if (ip4_addr_add_loopback(st->lo) < 0)
			goto fail;
	}
	return st;
fail:
	stack_destroy(st);
	return NULL;
}

static void *stack_thread_main(void *arg)
{
	struct ips_stack *st = arg;

	while (!atomic_load(&st->stop))
		ips_stack_poll(st, -1);
	return NULL;
}

IPS_API ips_stack *ips_stack_new(const struct ips_stack_config *cfg)
{
	if (cfg && cfg->mode == IPS_MODE_SIMULATED)
		return NULL;	/* simulated stacks belong to a world */

	struct ips_stack *st = stack_create(cfg, NULL);

	if (!st)
		return NULL;
	if (st->mode == IPS_MODE_THREADED) {
		if (pthread_create(&st->thread, NULL, stack_thread_main, st) != 0) {
			stack_destroy(st);
			return NULL;
		}
		st->thread_running = true;
	}
	return st;
}

IPS_API void ips_stack_free(ips_stack *st)
{
	if (!st)
		return;
	if (st->thread_running) {
		atomic_store(&st->stop, true);
		ips_stack_wake(st);
		pthread_join(st->thread, NULL);
	}
	stack_destroy(st);
}

IPS_API const char *ips_stack_name(const ips_stack *st)
{
	return st->name;
}

IPS_API uint64_t ips_stack_now_ns(ips_stack *st)
{
	return stack_now_ns(st);
}

IPS_API long ips_stack_pkb_outstanding(ips_stack *st)
{
	return atomic_load(&st->pool.outstanding);
}

IPS_API void ips_stack_wake(ips_stack *st)
{
	if (st->wake_fd >= 0) {
		uint64_t one = 1;
		ssize_t n = write(st->wake_fd, &one, sizeof(one));

		(void)n;	/* EAGAIN: the counter is already non-zero */
	}
}

/* The eventfd write (a system call, ~0.4 us on these VMs) is needed only to end a
 * poll() that is sleeping or about to sleep; a kick from the thread that runs the loop
 * itself (a reply looped back, a memlink frame between two stacks driven by one thread)
 * is seen by the loop's next look at `kicked`. The two sides pair up Dekker-style, both
 * sequentially consistent: ips_stack_poll() counts itself in `pollers` and then reads
 * `kicked`; a kick sets `kicked` and then reads `pollers`. Whichever comes second sees
 * the other, so either the poller does not sleep or the kick writes the eventfd. */
void stack_kick(struct ips_stack *st)
{
	if (atomic_exchange(&st->kicked, 1) == 0 && atomic_load(&st->pollers) > 0)
		ips_stack_wake(st);
}

struct netdev *stack_dev_by_name(struct ips_stack *st, const char *name)
{
	for (struct netdev *d = st->devs; d; d = d->next)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

struct netdev *stack_dev_by_index(struct ips_stack *st, int ifindex)
{
	for (struct netdev *d = st->devs; d; d = d->next)
		if (d->ifindex == ifindex)
			return d;
	return NULL;
}

__thread struct stack_pass stack_pass __attribute__((tls_model("initial-exec")));

uint64_t stack_process(struct ips_stack *st)
{
	struct stack_pass outer = stack_pass;

	/* Device input and timers can each make more work for the other (a loopback
	 * packet sent from a timer): go round until neither has any. */
	for (int round = 0; round < 64; round++) {
		bool busy = false;

		stack_pass.now_ns = st->clock.now_ns(st->clock.ctx);	/* this round's time */
		stack_pass.st = st;

		if (atomic_exchange(&st->kicked, 0)) {
			for (struct netdev *d = st->devs, *n; d; d = n) {
				n = d->next;
				if (atomic_exchange(&d->pending, false) && d->ops->service) {
					d->ops->service(d);
					busy = true;
				}
			}
		}
		if (timer_wheel_run(&st->wheel, stack_now_ns(st)))
			busy = true;
		if (!busy && !atomic_load(&st->kicked))
			break;
	}
	stack_pass = outer;
	if (atomic_load(&st->kicked))
		return stack_now_ns(st);
	return timer_wheel_next_ns(&st->wheel);
}

#define POLL_MAX_DEVS 64

IPS_API int ips_stack_poll(ips_stack *st, int timeout_ms)
{
	struct pollfd pfd[POLL_MAX_DEVS + 1];
	struct netdev *pdev[POLL_MAX_DEVS + 1];
	int n = 0, wait_ms;
	uint64_t next, now = 0;
	bool polled;

	if (st->mode == IPS_MODE_SIMULATED)
		return -EINVAL;
	stack_lock(st);
	next = stack_process(st);
	if (timeout_ms != 0)
		now = stack_now_ns(st);	/* a clock read only for a poll that may sleep */
	pfd[n].fd = st->wake_fd;
	pfd[n].events = POLLIN;
	pdev[n++] = NULL;
	for (struct netdev *d = st->devs; d && n <= POLL_MAX_DEVS; d = d->next) {
		int fd = d->ops->poll_fd ? d->ops->poll_fd(d) : -1;

		if (fd < 0)
			continue;
		pfd[n].fd = fd;
		pfd[n].events = POLLIN;
		pdev[n++] = d;
	}
	wait_ms = timeout_ms;
	if (next != TIMER_NONE && wait_ms != 0) {
		uint64_t until = next > now ? (next - now + NS_PER_MS - 1) / NS_PER_MS : 0;

		if (wait_ms < 0 || until < (uint64_t)wait_ms)
			wait_ms = (int)(until > 60000 ? 60000 : until);
	}
	/* Published under the lock: a timer armed by another thread from here on is
	 * compared with it in stack_unlock(). A poll that does not sleep needs no poke. */
	atomic_store(&st->poll_deadline_ns, wait_ms < 0    ? UINT64_MAX
					    : wait_ms == 0 ? 0
							   : now + (uint64_t)wait_ms * NS_PER_MS);
	atomic_fetch_add(&st->pollers, 1);
	pthread_mutex_unlock(&st->lock);	/* not stack_unlock(): we are the poller */

	int rc;

	if (atomic_load(&st->kicked))
		wait_ms = 0;	/* input came while we were unlocked: do not sleep */
	polled = !(wait_ms == 0 && n == 1);
	if (!polled) {
		/* Nothing to sleep for and no device descriptor to look at: skip the system
		 * call. An ips_stack_wake() left in wake_fd is read by the next poll that
		 * does sleep (at worst one early return). */
		rc = 0;
	} else {
		rc = poll(pfd, (nfds_t)n, wait_ms);
	}
	atomic_fetch_sub(&st->pollers, 1);
	if (rc < 0 && errno != EINTR)
		return -errno;
	if (rc > 0) {
		if (pfd[0].revents & POLLIN) {
			uint64_t v;
			ssize_t r = read(st->wake_fd, &v, sizeof(v));

			(void)r;
		}
		for (int i = 1; i < n; i++) {
			if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) {
				atomic_store(&pdev[i]->pending, true);
				atomic_store(&st->kicked, 1);
			}
		}
	}
	/* Without a system call only input kicked in meanwhile is new (a timer due in
	 * those nanoseconds waits for the next call, as it would a moment later). */
	if (polled || atomic_load(&st->kicked)) {
		stack_lock(st);
		stack_process(st);
		stack_unlock(st);
	}
	return rc < 0 ? 0 : rc;
}

/* ---- Simulated worlds ---- */

IPS_API ips_world *ips_world_new(uint64_t seed)
{
	struct ips_world *w = calloc(1, sizeof(*w));

	if (w)
		w->seed = seed ? seed : 1;
	return w;
}

IPS_API void ips_world_free(ips_world *w)
{
	if (!w)
		return;
	for (struct ips_stack *st = w->stacks, *n; st; st = n) {
		n = st->world_next;
		stack_destroy(st);
	}
	free(w);
}

IPS_API ips_stack *ips_world_add_stack(ips_world *w, const char *name)
{
	struct ips_stack_config cfg = {
		.mode = IPS_MODE_SIMULATED,
		.name = name,
		/* Each stack's generator is a pure function of the world seed and its order. */
		.seed = w->seed * 0x9e3779b97f4a7c15ULL + (uint64_t)(w->nstacks + 1),
	};
	struct ips_stack *st = stack_create(&cfg, w);

	if (!st)
		return NULL;
	if (w->stacks_tail)
		w->stacks_tail->world_next = st;
	else
		w->stacks = st;
	w->stacks_tail = st;
	w->nstacks++;
	return st;
}

IPS_API uint64_t ips_world_now_ns(const ips_world *w)
{
	return w->now_ns;
}

static bool world_kicked(struct ips_world *w)
{
	for (struct ips_stack *st = w->stacks; st; st = st->world_next)
		if (atomic_load(&st->kicked))
			return true;
	return false;
}

/* Run every stack until none has work due now; return the next event time. */
static uint64_t world_settle(struct ips_world *w)
{
	uint64_t next;

	for (;;) {
		next = TIMER_NONE;
		for (struct ips_stack *st = w->stacks; st; st = st->world_next) {
			stack_lock(st);
			uint64_t t = stack_process(st);

			stack_unlock(st);
			if (t < next)
				next = t;
		}
		if (!world_kicked(w))
			return next;
	}
}

IPS_API uint64_t ips_world_next_event_ns(ips_world *w)
{
	return world_settle(w);
}

IPS_API int ips_world_run_until(ips_world *w, int (*done)(void *arg), void *arg, uint64_t max_ns)
{
	uint64_t deadline = w->now_ns + max_ns;

	for (;;) {
		uint64_t next = world_settle(w);

		if (done) {
			if (done(arg))
				return 1;
			/* done() may act (a test pumping a transfer sends, which kicks the
			 * peer, and arms timers): what it started runs at this instant and
			 * done() is asked again before time moves on; a timer it armed counts
			 * for the next event time */
			if (world_kicked(w))
				continue;
			next = world_settle(w);
		}
		if (next == TIMER_NONE || next > deadline) {
			w->now_ns = deadline;
			world_settle(w);
			return done ? (done(arg) ? 1 : 0) : 1;
		}
		if (next > w->now_ns)
			w->now_ns = next;
	}
}

IPS_API int ips_world_run_for(ips_world *w, uint64_t ns)
{
	ips_world_run_until(w, NULL, NULL, ns);
	return 0;
}

/* ---- Counters and sysctls ---- */

IPS_API int ips_counter_get(ips_stack *st, const char *name, uint64_t *value)
{
	int id, type;
	int rc = 0;

	stack_lock(st);
	if (sscanf(name, "IcmpMsgInType%d", &type) == 1 && type >= 0 && type < 256) {
		*value = st->mib.icmpmsg_in[type];
	} else if (sscanf(name, "IcmpMsgOutType%d", &type) == 1 && type >= 0 && type < 256) {
		*value = st->mib.icmpmsg_out[type];
	} else if (strcmp(name, "IpForwarding") == 0) {
		*value = st->sysctl.ip.ip_forward ? 1 : 2;	/* RFC 1213 forwarding(1) */
	} else if (strcmp(name, "IpDefaultTTL") == 0) {
		*value = (uint64_t)st->sysctl.ip.ip_default_ttl;
	} else if ((id = mib_lookup(name)) >= 0) {
		*value = st->mib.v[id];
	} else {
		rc = -ENOENT;
	}
	stack_unlock(st);
	return rc;
}

IPS_API int ips_counter_foreach(ips_stack *st,
				int (*cb)(void *arg, const char *name, uint64_t value), void *arg)
{
	char name[64];
	uint64_t v;

	for (int i = 0; i < MIB_MAX; i++) {
		snprintf(name, sizeof(name), "%s%s", mib_group(i), mib_field(i));
		if (ips_counter_get(st, name, &v) == 0 && cb(arg, name, v))
			return 0;
		/* nstat lists IcmpMsg after Icmp. */
		if (i + 1 < MIB_MAX && strcmp(mib_group(i), "Icmp") == 0 &&
		    strcmp(mib_group(i + 1), "Icmp") != 0) {
			for (int t = 0; t < 256; t++) {
				snprintf(name, sizeof(name), "IcmpMsgInType%d", t);
				if (st->mib.icmpmsg_in[t] && cb(arg, name, st->mib.icmpmsg_in[t]))
					return 0;
			}
			for (int t = 0; t < 256; t++) {
				snprintf(name, sizeof(name), "IcmpMsgOutType%d", t);
				if (st->mib.icmpmsg_out[t] && cb(arg, name, st->mib.icmpmsg_out[t]))
					return 0;
			}
		}
	}
	return 0;
}

IPS_API int ips_sysctl_get(ips_stack *st, const char *name, char *buf, size_t len)
{
	stack_lock(st);
	int rc = sysctl_read(&st->sysctl, name, buf, len);

	stack_unlock(st);
	return rc;
}

IPS_API int ips_sysctl_set(ips_stack *st, const char *name, const char *value)
{
	stack_lock(st);
	int rc = sysctl_write(&st->sysctl, name, value);

	stack_unlock(st);
	return rc;
}

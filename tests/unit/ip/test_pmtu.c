/* Next-hop exceptions (pmtu.c): the rules of Linux's __ip_rt_update_pmtu() and
 * update_or_create_fnhe(). The MTU rules were checked on Linux 6.18 with frag-needed
 * messages quoting an echo reply (see tests/sim/test_icmp.c) and `ip route get`, which
 * shows "cache expires 599sec mtu lock 552" and the like. */
#include <arpa/inet.h>

#include "test.h"
#include "support/support.h"
#include "core/stack.h"
#include "ip/icmp.h"
#include "ip/ip.h"

static ips_world *W;
static ips_stack *A_, *B_;
static uint32_t D;

static void setup(void)
{
	W = ips_world_new(4);
	ASSERT_EQ(two_hosts(W, &A_, &B_, NULL), 0);
	ASSERT_EQ(ips_route_add_str(A_, "10.77.0.0/16 via 10.0.0.2"), 0);
	D = A("10.77.0.9");
}

static void teardown(void)
{
	CHECK_EQ(ips_stack_pkb_outstanding(A_), 0);
	ips_world_free(W);
}

static void update(uint32_t daddr, uint32_t mtu)
{
	stack_lock(A_);
	pmtu_update(A_, daddr, mtu);
	stack_unlock(A_);
}

static uint64_t now_ms(void)
{
	return ips_world_now_ns(W) / 1000000u;
}

TEST(pmtu_never_raised_above_route)
{
	setup();
	update(D, 1600);
	CHECK_EQ(pmtu_get(A_, D), 0);
	update(D, 1500);
	CHECK_EQ(pmtu_get(A_, D), 1500);
	update(D, 1400);
	CHECK_EQ(pmtu_get(A_, D), 1400);
	update(D, 1450);		/* higher than what we have: ignored */
	CHECK_EQ(pmtu_get(A_, D), 1400);
	teardown();
}

/* Below route.min_pmtu (552): min(current, 552), locked; a locked exception takes no
 * further updates until it expires. */
TEST(pmtu_below_min_is_locked_at_min)
{
	struct pmtu_info pi;

	setup();
	update(D, 300);
	ASSERT(pmtu_lookup(A_, D, &pi));
	CHECK_EQ(pi.mtu, 552);
	CHECK(pi.locked);
	update(D, 400);
	update(D, 1000);
	ASSERT(pmtu_lookup(A_, D, &pi));
	CHECK_EQ(pi.mtu, 552);
	test_run(W, SEC(600));
	CHECK(!pmtu_lookup(A_, D, &pi));
	update(D, 1000);
	ASSERT(pmtu_lookup(A_, D, &pi));
	CHECK_EQ(pi.mtu, 1000);
	CHECK(!pi.locked);
	teardown();
}

TEST(pmtu_min_pmtu_sysctl)
{
	struct pmtu_info pi;

	setup();
	ASSERT_EQ(ips_sysctl_set(A_, "net.ipv4.route.min_pmtu", "1000"), 0);
	update(D, 800);
	ASSERT(pmtu_lookup(A_, D, &pi));
	CHECK_EQ(pi.mtu, 1000);
	CHECK(pi.locked);
	teardown();
}

/* A route with "mtu lock" takes no learned MTU at all. */
TEST(pmtu_route_mtu_lock_ignores_updates)
{
	setup();
	ASSERT_EQ(ips_route_add_str(A_, "10.78.0.0/16 via 10.0.0.2 mtu lock 1400"), 0);
	update(A("10.78.0.1"), 1000);
	CHECK_EQ(pmtu_get(A_, A("10.78.0.1")), 0);
	teardown();
}

/* The same MTU again refreshes the expiry only once half of route.mtu_expires has
 * gone ("rt->rt_pmtu == mtu && time_before(jiffies, expires - mtu_expires / 2)"). */
TEST(pmtu_same_mtu_refreshes_after_half_life)
{
	struct pmtu_info pi;
	uint64_t t0;

	setup();
	test_run(W, SEC(1));
	t0 = now_ms();
	update(D, 1000);
	ASSERT(pmtu_lookup(A_, D, &pi));
	CHECK_EQ(pi.expires_ms, t0 + 600000);
	test_run(W, SEC(299));
	update(D, 1000);
	ASSERT(pmtu_lookup(A_, D, &pi));
	CHECK_EQ(pi.expires_ms, t0 + 600000);
	test_run(W, SEC(2));
	update(D, 1000);
	ASSERT(pmtu_lookup(A_, D, &pi));
	CHECK_EQ(pi.expires_ms, t0 + 301000 + 600000);
	teardown();
}

TEST(pmtu_mtu_expires_sysctl)
{
	setup();
	ASSERT_EQ(ips_sysctl_set(A_, "net.ipv4.route.mtu_expires", "10"), 0);
	update(D, 1000);
	test_run(W, SEC(10) - MS(1));
	CHECK_EQ(pmtu_get(A_, D), 1000);
	test_run(W, MS(1));
	CHECK_EQ(pmtu_get(A_, D), 0);
	teardown();
}

/* One exception holds the PMTU and a redirect gateway with a single expiry, as an
 * fnhe does: the later of the two sets it (a redirect: ip_rt_gc_timeout, 300 s). */
TEST(pmtu_and_redirect_share_one_expiry)
{
	struct pmtu_info pi;
	uint64_t t0;

	setup();
	t0 = now_ms();
	update(D, 1000);
	test_run(W, SEC(10));
	stack_lock(A_);
	pmtu_exception_set(A_, D, A("10.0.0.3"), 0, false, now_ms() + 300000);
	stack_unlock(A_);
	ASSERT(pmtu_lookup(A_, D, &pi));
	CHECK_EQ(pi.mtu, 1000);
	CHECK_EQ(pi.gateway, A("10.0.0.3"));
	CHECK_EQ(pi.expires_ms, t0 + 310000);
	CHECK_EQ(pmtu_gateway_get(A_, D), A("10.0.0.3"));
	test_run(W, SEC(300));
	CHECK(!pmtu_lookup(A_, D, &pi));
	CHECK_EQ(pmtu_gateway_get(A_, D), 0);
	teardown();
}

TEST(pmtu_flush_forgets_all)
{
	setup();
	update(D, 1000);
	update(A("10.77.1.1"), 900);
	stack_lock(A_);
	pmtu_flush(A_);
	stack_unlock(A_);
	CHECK_EQ(pmtu_get(A_, D), 0);
	CHECK_EQ(pmtu_get(A_, A("10.77.1.1")), 0);
	teardown();
}

/* Many destinations: each keeps its own exception (buckets reclaim only beyond a
 * chain depth of 5..9 in one of 2048 buckets). */
TEST(pmtu_many_destinations)
{
	int kept = 0;

	setup();
	for (int i = 0; i < 500; i++)
		update(A("10.77.0.0") + htonl((uint32_t)i), 1000 - (uint32_t)i % 100);
	for (int i = 0; i < 500; i++)
		kept += pmtu_get(A_, A("10.77.0.0") + htonl((uint32_t)i)) == 1000 - (uint32_t)i % 100;
	CHECK_EQ(kept, 500);
	teardown();
}

TEST_MAIN

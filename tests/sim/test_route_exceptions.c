/* Output routes honour the per-destination exceptions that ICMP learns (Linux's fnhe,
 * bound by rt_bind_exception): a path MTU reported below min_pmtu is locked, so DF is not
 * set; a gateway learned from a redirect becomes the next hop. */
#include "test.h"
#include "support/support.h"

#include "core/stack.h"
#include "ip/icmp.h"
#include "ip/ip.h"

TEST(locked_pmtu_exception_locks_the_output_route)
{
	ips_world *w = ips_world_new(1);
	ips_stack *a, *b;
	struct rt_result rt;

	ASSERT(two_hosts(w, &a, &b, NULL) == 0);
	stack_lock(a);
	ASSERT_EQ(route_output(a, A("10.0.0.2"), 0, 0, 0, &rt), 0);
	CHECK_EQ(rt.mtu, 1500);
	CHECK(!rt.pmtu_locked);
	/* Linux: a frag-needed below route_min_pmtu (552) leaves "mtu lock 552". */
	pmtu_exception_set(a, A("10.0.0.2"), 0, 552, true, stack_now_ms(a) + 600000);
	ASSERT_EQ(route_output(a, A("10.0.0.2"), 0, 0, 0, &rt), 0);
	CHECK_EQ(rt.mtu, 552);
	CHECK(rt.pmtu_locked);
	/* An unlocked one lowers the MTU only. */
	pmtu_exception_set(a, A("10.0.0.2"), 0, 1000, false, stack_now_ms(a) + 600000);
	pmtu_flush(a);
	pmtu_exception_set(a, A("10.0.0.2"), 0, 1000, false, stack_now_ms(a) + 600000);
	ASSERT_EQ(route_output(a, A("10.0.0.2"), 0, 0, 0, &rt), 0);
	CHECK_EQ(rt.mtu, 1000);
	CHECK(!rt.pmtu_locked);
	stack_unlock(a);
	ips_world_free(w);
}

TEST(redirect_gateway_exception_becomes_the_next_hop)
{
	ips_world *w = ips_world_new(2);
	ips_stack *a, *b;
	struct rt_result rt;

	ASSERT(two_hosts(w, &a, &b, NULL) == 0);
	ASSERT_EQ(ips_route_add_str(a, "10.9.0.0/16 via 10.0.0.3"), 0);
	stack_lock(a);
	ASSERT_EQ(route_output(a, A("10.9.9.9"), 0, 0, 0, &rt), 0);
	CHECK_EQ(rt.nexthop, A("10.0.0.3"));
	pmtu_exception_set(a, A("10.9.9.9"), A("10.0.0.2"), 0, false, stack_now_ms(a) + 300000);
	ASSERT_EQ(route_output(a, A("10.9.9.9"), 0, 0, 0, &rt), 0);
	CHECK_EQ(rt.nexthop, A("10.0.0.2"));
	CHECK(rt.gateway);
	/* Other destinations under the same route keep the route's gateway. */
	ASSERT_EQ(route_output(a, A("10.9.9.8"), 0, 0, 0, &rt), 0);
	CHECK_EQ(rt.nexthop, A("10.0.0.3"));
	stack_unlock(a);
	/* The exception expires with its redirect lifetime (300 s here). */
	ips_world_run_for(w, SEC(301));
	stack_lock(a);
	ASSERT_EQ(route_output(a, A("10.9.9.9"), 0, 0, 0, &rt), 0);
	CHECK_EQ(rt.nexthop, A("10.0.0.3"));
	stack_unlock(a);
	ips_world_free(w);
}

TEST_MAIN

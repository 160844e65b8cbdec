/* The routing table: longest prefix match, metrics, route types and their errors,
 * `ip route` syntax and errors, output route details (source, next hop, MTU, oif,
 * dontroute), inet_addr_type. Where an error value comes from Linux it was checked with
 * `ip route add` in a netns on Linux 6.18 (e.g. a gateway with no connected route:
 * "Error: Nexthop has invalid gateway", ENETUNREACH). */
#include <arpa/inet.h>
#include <errno.h>

#include "test.h"
#include "core/stack.h"
#include "ip/ip.h"
#include "ip/route.h"
#include "link/netdev.h"

static uint32_t A(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

struct t {
	ips_world *w;
	ips_stack *st, *p1, *p2;
	struct netdev *eth0, *eth1;
};

/* st: eth0 10.0.0.1/24 (peer p1), eth1 10.0.1.1/24 (peer p2). */
static void setup(struct t *t)
{
	t->w = ips_world_new(7);
	t->st = ips_world_add_stack(t->w, "h");
	t->p1 = ips_world_add_stack(t->w, "p1");
	t->p2 = ips_world_add_stack(t->w, "p2");
	ips_memlink_new(t->st, "eth0", t->p1, "eth0", NULL);
	ips_memlink_new(t->st, "eth1", t->p2, "eth0", NULL);
	t->eth0 = stack_dev_by_name(t->st, "eth0");
	t->eth1 = stack_dev_by_name(t->st, "eth1");
	ips_addr_add(t->st, "eth0", "10.0.0.1/24");
	ips_addr_add(t->st, "eth1", "10.0.1.1/24");
}

static void teardown(struct t *t)
{
	ips_world_run_for(t->w, 5 * NS_PER_SEC);
	CHECK_EQ(ips_stack_pkb_outstanding(t->st), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(t->p1), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(t->p2), 0);
	ips_world_free(t->w);
}

static int out(struct t *t, const char *daddr, struct rt_result *rt)
{
	return route_output(t->st, A(daddr), 0, 0, 0, rt);
}

TEST(longest_prefix_wins)
{
	struct t t;
	struct rt_result rt;

	setup(&t);
	ASSERT_EQ(ips_route_add_str(t.st, "10.0.0.0/8 via 10.0.0.2"), 0);
	ASSERT_EQ(ips_route_add_str(t.st, "10.1.0.0/16 via 10.0.1.2"), 0);
	ASSERT_EQ(ips_route_add_str(t.st, "10.1.2.0/24 via 10.0.0.3"), 0);
	ASSERT_EQ(ips_route_add_str(t.st, "10.1.2.128/25 dev eth1"), 0);
	ASSERT_EQ(out(&t, "10.9.9.9", &rt), 0);
	CHECK_EQ(rt.nexthop, A("10.0.0.2"));
	CHECK(rt.gateway);
	ASSERT_EQ(out(&t, "10.1.9.9", &rt), 0);
	CHECK_EQ(rt.nexthop, A("10.0.1.2"));
	CHECK(rt.dev == t.eth1);
	ASSERT_EQ(out(&t, "10.1.2.3", &rt), 0);
	CHECK_EQ(rt.nexthop, A("10.0.0.3"));
	ASSERT_EQ(out(&t, "10.1.2.200", &rt), 0);
	CHECK_EQ(rt.nexthop, A("10.1.2.200"));	/* connected: the destination itself */
	CHECK(!rt.gateway);
	CHECK(rt.dev == t.eth1);
	CHECK_EQ(rt.prefsrc, A("10.0.1.1"));
	ASSERT_EQ(out(&t, "10.0.0.77", &rt), 0);	/* the connected /24 beats the /8 */
	CHECK_EQ(rt.nexthop, A("10.0.0.77"));
	teardown(&t);
}

TEST(no_route_is_enetunreach_and_default_route_catches_all)
{
	struct t t;
	struct rt_result rt;

	setup(&t);
	CHECK_EQ(out(&t, "8.8.8.8", &rt), -ENETUNREACH);
	ASSERT_EQ(ips_route_add_str(t.st, "default via 10.0.1.254"), 0);
	ASSERT_EQ(out(&t, "8.8.8.8", &rt), 0);
	CHECK_EQ(rt.type, RTN_UNICAST_);
	CHECK_EQ(rt.nexthop, A("10.0.1.254"));
	CHECK_EQ(rt.prefsrc, A("10.0.1.1"));
	CHECK_EQ(rt.mtu, 1500);
	teardown(&t);
}

TEST(lowest_metric_wins_and_same_metric_is_eexist)
{
	struct t t;
	struct rt_result rt;
	struct ips_route del = { .prefixlen = 16, .metric = 5 };

	setup(&t);
	ASSERT_EQ(ips_route_add_str(t.st, "10.7.0.0/16 via 10.0.0.2 metric 10"), 0);
	ASSERT_EQ(ips_route_add_str(t.st, "10.7.0.0/16 via 10.0.1.2 metric 5"), 0);
	CHECK_EQ(ips_route_add_str(t.st, "10.7.0.0/16 via 10.0.0.3 metric 5"), -EEXIST);
	ASSERT_EQ(out(&t, "10.7.1.1", &rt), 0);
	CHECK_EQ(rt.nexthop, A("10.0.1.2"));
	inet_pton(AF_INET, "10.7.0.0", &del.dst);
	ASSERT_EQ(ips_route_del(t.st, &del), 0);
	CHECK_EQ(ips_route_del(t.st, &del), -ESRCH);
	ASSERT_EQ(out(&t, "10.7.1.1", &rt), 0);
	CHECK_EQ(rt.nexthop, A("10.0.0.2"));
	teardown(&t);
}

/* ip(7)/Linux fib_props: blackhole EINVAL, unreachable EHOSTUNREACH, prohibit EACCES. */
TEST(reject_route_types_give_their_errors)
{
	struct t t;
	struct rt_result rt;

	setup(&t);
	ASSERT_EQ(ips_route_add_str(t.st, "default via 10.0.0.2"), 0);
	ASSERT_EQ(ips_route_add_str(t.st, "blackhole 10.9.0.0/16"), 0);
	ASSERT_EQ(ips_route_add_str(t.st, "unreachable 10.10.0.0/16"), 0);
	ASSERT_EQ(ips_route_add_str(t.st, "prohibit 10.11.0.0/16"), 0);
	CHECK_EQ(out(&t, "10.9.1.1", &rt), -EINVAL);
	CHECK_EQ(out(&t, "10.10.1.1", &rt), -EHOSTUNREACH);
	CHECK_EQ(out(&t, "10.11.1.1", &rt), -EACCES);
	/* With an oif, a failed lookup means "assume on link" even for a reject route
	 * (Linux 6.18: `ip route get 10.9.1.1 oif v0` answers "dev v0 src 10.0.0.1"). */
	CHECK_EQ(route_output(t.st, A("10.9.1.1"), 0, t.eth0->ifindex, 0, &rt), 0);
	CHECK(rt.dev == t.eth0);
	CHECK_EQ(out(&t, "10.12.1.1", &rt), 0);
	teardown(&t);
}

TEST(route_add_errors_match_ip_route)
{
	struct t t;

	setup(&t);
	/* gateway without a connected route: "Nexthop has invalid gateway" */
	CHECK_EQ(ips_route_add_str(t.st, "10.5.0.0/16 via 192.168.1.1"), -ENETUNREACH);
	/* host bits set: "Invalid prefix for given prefix length" */
	CHECK_EQ(ips_route_add_str(t.st, "10.5.0.1/16 via 10.0.0.2"), -EINVAL);
	/* reject routes take no gateway or device */
	CHECK_EQ(ips_route_add_str(t.st, "blackhole 10.5.0.0/16 dev eth0"), -EINVAL);
	CHECK_EQ(ips_route_add_str(t.st, "10.5.0.0/16 dev nope9"), -ENODEV);
	CHECK_EQ(ips_route_add_str(t.st, "10.5.0.0/16 via 10.0.0.2 metric x"), -EINVAL);
	CHECK_EQ(ips_route_add_str(t.st, "via 10.0.0.2"), -EINVAL);
	/* the preferred source must be ours */
	CHECK_EQ(ips_route_add_str(t.st, "10.5.0.0/16 via 10.0.0.2 src 10.0.0.99"), -EINVAL);
	/* gateway given with a device it is not on */
	CHECK_EQ(ips_route_add_str(t.st, "10.5.0.0/16 via 10.0.0.2 dev eth1"), -ENETUNREACH);
	CHECK_EQ(ips_route_add_str(t.st, "10.5.0.0/16 via 10.0.0.2 dev eth0"), 0);
	teardown(&t);
}

TEST(route_mtu_and_prefsrc_are_used)
{
	struct t t;
	struct rt_result rt;

	setup(&t);
	ASSERT_EQ(ips_addr_add(t.st, "eth0", "10.0.0.50/24"), 0);
	ASSERT_EQ(ips_route_add_str(t.st, "10.1.0.0/16 via 10.0.0.2 dev eth0 metric 5 mtu 1400 src 10.0.1.1"), 0);
	ASSERT_EQ(ips_route_add_str(t.st, "10.2.0.0/16 via 10.0.0.2 mtu lock 1280"), 0);
	ASSERT_EQ(out(&t, "10.1.3.4", &rt), 0);
	CHECK_EQ(rt.mtu, 1400);
	CHECK(!rt.pmtu_locked);
	CHECK_EQ(rt.prefsrc, A("10.0.1.1"));
	ASSERT_EQ(out(&t, "10.2.3.4", &rt), 0);
	CHECK_EQ(rt.mtu, 1280);
	CHECK(rt.pmtu_locked);
	CHECK_EQ(rt.prefsrc, A("10.0.0.1"));	/* the primary, not the secondary */
	teardown(&t);
}

TEST(oif_selects_among_routes_and_forces_on_link_without_one)
{
	struct t t;
	struct rt_result rt;

	setup(&t);
	ASSERT_EQ(ips_route_add_str(t.st, "10.8.0.0/16 via 10.0.0.2"), 0);
	ASSERT_EQ(ips_route_add_str(t.st, "10.8.0.0/16 via 10.0.1.2 metric 9"), 0);
	ASSERT_EQ(route_output(t.st, A("10.8.0.1"), 0, t.eth1->ifindex, 0, &rt), 0);
	CHECK_EQ(rt.nexthop, A("10.0.1.2"));
	/* "Apparently, routing tables are wrong. Assume, that the destination is on link." */
	ASSERT_EQ(route_output(t.st, A("172.16.0.1"), 0, t.eth1->ifindex, 0, &rt), 0);
	CHECK(rt.dev == t.eth1);
	CHECK_EQ(rt.nexthop, A("172.16.0.1"));
	CHECK_EQ(rt.prefsrc, A("10.0.1.1"));
	teardown(&t);
}

TEST(dontroute_uses_only_connected_routes)
{
	struct t t;
	struct flow4 fl = { .daddr = A("10.8.0.1"), .scope = FIB_SCOPE_LINK };
	struct rt_result rt;

	setup(&t);
	ASSERT_EQ(ips_route_add_str(t.st, "10.8.0.0/16 via 10.0.0.2"), 0);
	CHECK_EQ(route_output_flow(t.st, &fl, &rt), -ENETUNREACH);
	fl.daddr = A("10.0.0.9");
	fl.saddr = 0;
	ASSERT_EQ(route_output_flow(t.st, &fl, &rt), 0);
	CHECK(rt.dev == t.eth0);
	teardown(&t);
}

TEST(local_table_wins_over_main)
{
	struct t t;
	struct rt_result rt;

	setup(&t);
	/* a more specific main route to our own address does not win: local is first */
	ASSERT_EQ(ips_route_add_str(t.st, "10.0.0.1/32 via 10.0.1.2"), 0);
	ASSERT_EQ(out(&t, "10.0.0.1", &rt), 0);
	CHECK_EQ(rt.type, RTN_LOCAL_);
	CHECK(rt.dev == t.st->lo);
	CHECK_EQ(rt.prefsrc, A("10.0.0.1"));
	CHECK_EQ(rt.mtu, 65536);
	teardown(&t);
}

TEST(broadcast_and_loopback_outputs)
{
	struct t t;
	struct rt_result rt;

	setup(&t);
	ASSERT_EQ(out(&t, "10.0.0.255", &rt), 0);
	CHECK_EQ(rt.type, RTN_BROADCAST_);
	CHECK(rt.dev == t.eth0);
	/* 255.255.255.255 with no oif and no default route: ENETUNREACH, as Linux */
	CHECK_EQ(out(&t, "255.255.255.255", &rt), -ENETUNREACH);
	ASSERT_EQ(route_output(t.st, A("255.255.255.255"), 0, t.eth1->ifindex, 0, &rt), 0);
	CHECK_EQ(rt.type, RTN_BROADCAST_);
	CHECK_EQ(rt.prefsrc, A("10.0.1.1"));
	ASSERT_EQ(out(&t, "127.0.0.9", &rt), 0);
	CHECK_EQ(rt.type, RTN_LOCAL_);
	CHECK_EQ(rt.prefsrc, A("127.0.0.1"));
	/* a loopback source may not leave the host */
	CHECK_EQ(route_output(t.st, A("10.0.0.9"), A("127.0.0.1"), 0, 0, &rt), -EINVAL);
	/* a source that is not ours */
	CHECK_EQ(route_output(t.st, A("10.0.0.9"), A("10.0.0.99"), 0, 0, &rt), -ENETUNREACH);
	teardown(&t);
}

TEST(addr_type_classifies_like_inet_addr_type)
{
	struct t t;

	setup(&t);
	CHECK_EQ(route_addr_type(t.st, A("10.0.0.1")), RTN_LOCAL_);
	CHECK_EQ(route_addr_type(t.st, A("127.3.4.5")), RTN_LOCAL_);
	CHECK_EQ(route_addr_type(t.st, A("10.0.0.255")), RTN_BROADCAST_);
	CHECK_EQ(route_addr_type(t.st, A("255.255.255.255")), RTN_BROADCAST_);
	CHECK_EQ(route_addr_type(t.st, A("0.0.0.0")), RTN_BROADCAST_);
	CHECK_EQ(route_addr_type(t.st, A("224.0.0.1")), RTN_MULTICAST_);
	CHECK_EQ(route_addr_type(t.st, A("239.1.2.3")), RTN_MULTICAST_);
	CHECK_EQ(route_addr_type(t.st, A("10.0.0.2")), RTN_UNICAST_);
	CHECK_EQ(route_addr_type(t.st, A("8.8.8.8")), RTN_UNICAST_);
	teardown(&t);
}

TEST(many_routes_all_found)
{
	struct t t;
	struct rt_result rt;
	char spec[64];
	int bad = 0;

	setup(&t);
	for (int i = 0; i < 4096; i++) {
		snprintf(spec, sizeof(spec), "172.%d.%d.0/24 via 10.0.%d.2", 16 + i / 256, i % 256,
			 i & 1);
		ASSERT_EQ(ips_route_add_str(t.st, spec), 0);
	}
	for (int i = 0; i < 4096; i++) {
		char d[32];

		snprintf(d, sizeof(d), "172.%d.%d.9", 16 + i / 256, i % 256);
		if (out(&t, d, &rt) != 0 || rt.nexthop != A(i & 1 ? "10.0.1.2" : "10.0.0.2"))
			bad++;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(out(&t, "172.32.0.1", &rt), -ENETUNREACH);
	teardown(&t);
}

TEST_MAIN

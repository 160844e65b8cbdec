/* Interface addresses and the routes they make. The expected tables are what Linux 6.18
 * shows for the same commands (`ip addr add ...; ip route show table all` in a fresh
 * netns with a veth pair), written in the same format. */
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

struct dump {
	char buf[4096];
	size_t n;
};

static int dump_cb(void *arg, const struct fib_route *r)
{
	struct dump *d = arg;
	char line[256];

	route_format(r, line, sizeof(line));
	d->n += (size_t)snprintf(d->buf + d->n, sizeof(d->buf) - d->n, "%s\n", line);
	return 0;
}

static const char *routes(struct ips_stack *st)
{
	static struct dump d;

	d.n = 0;
	d.buf[0] = 0;
	route_foreach(st, dump_cb, &d);
	return d.buf;
}

struct world1 {
	ips_world *w;
	ips_stack *st, *peer;
	struct netdev *eth0;
};

static void setup(struct world1 *t)
{
	t->w = ips_world_new(1);
	t->st = ips_world_add_stack(t->w, "h");
	t->peer = ips_world_add_stack(t->w, "p");
	ips_memlink_new(t->st, "eth0", t->peer, "eth0", NULL);
	t->eth0 = stack_dev_by_name(t->st, "eth0");
}

static void teardown(struct world1 *t)
{
	ips_world_run_for(t->w, 5 * NS_PER_SEC);
	CHECK_EQ(ips_stack_pkb_outstanding(t->st), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(t->peer), 0);
	ips_world_free(t->w);
}

TEST(fresh_stack_has_only_loopback_routes)
{
	struct world1 t;

	setup(&t);
	CHECK_STR(routes(t.st), "local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1\n"
				"broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1\n"
				"local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1\n");
	teardown(&t);
}

TEST(address_adds_local_connected_and_broadcast_routes)
{
	struct world1 t;

	setup(&t);
	ASSERT_EQ(ips_addr_add(t.st, "eth0", "10.0.0.1/24"), 0);
	CHECK_STR(routes(t.st), "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1\n"
				"local 10.0.0.1 dev eth0 table local proto kernel scope host src 10.0.0.1\n"
				"broadcast 10.0.0.255 dev eth0 table local proto kernel scope link src 10.0.0.1\n"
				"local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1\n"
				"broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1\n"
				"local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1\n");
	teardown(&t);
}

TEST(secondary_address_gets_local_route_with_primary_source_only)
{
	struct world1 t;
	const struct in_ifaddr *ifa;

	setup(&t);
	ASSERT_EQ(ips_addr_add(t.st, "eth0", "10.0.0.1/24"), 0);
	ASSERT_EQ(ips_addr_add(t.st, "eth0", "10.0.0.2/24"), 0);
	ifa = t.eth0->in->ifa_list;
	CHECK(!ifa->secondary);
	CHECK(ifa->next && ifa->next->secondary && ifa->next->local == A("10.0.0.2"));
	CHECK(strstr(routes(t.st), "local 10.0.0.2 dev eth0 table local proto kernel scope host src 10.0.0.1\n"));
	/* no second connected route */
	CHECK(!strstr(routes(t.st), "src 10.0.0.2"));
	teardown(&t);
}

TEST(slash31_and_slash32_make_no_broadcast_and_slash32_no_prefix_route)
{
	struct world1 t;
	const char *r;

	setup(&t);
	ASSERT_EQ(ips_addr_add(t.st, "eth0", "10.1.0.1/31"), 0);
	ASSERT_EQ(ips_addr_add(t.st, "eth0", "10.2.0.1/32"), 0);
	r = routes(t.st);
	CHECK(strstr(r, "10.1.0.0/31 dev eth0 proto kernel scope link src 10.1.0.1\n"));
	CHECK(strstr(r, "local 10.1.0.1 dev eth0 table local proto kernel scope host src 10.1.0.1\n"));
	CHECK(strstr(r, "local 10.2.0.1 dev eth0 table local proto kernel scope host src 10.2.0.1\n"));
	CHECK(!strstr(r, "broadcast 10.1"));
	CHECK(!strstr(r, "broadcast 10.2"));
	CHECK(!strstr(r, "10.2.0.1 dev eth0 proto"));
	teardown(&t);
}

TEST(duplicate_address_is_eexist_and_unknown_delete_is_eaddrnotavail)
{
	struct world1 t;

	setup(&t);
	CHECK_EQ(ips_addr_add(t.st, "eth0", "10.0.0.1/24"), 0);
	CHECK_EQ(ips_addr_add(t.st, "eth0", "10.0.0.1/24"), -EEXIST);
	CHECK_EQ(ips_addr_del(t.st, "eth0", "10.0.0.9/24"), -EADDRNOTAVAIL);
	CHECK_EQ(ips_addr_add(t.st, "nope0", "10.0.0.1/24"), -ENODEV);
	CHECK_EQ(ips_addr_add(t.st, "eth0", "10.0.0.1/33"), -EINVAL);
	teardown(&t);
}

TEST(deleting_primary_takes_secondaries_and_their_routes)
{
	struct world1 t;

	setup(&t);
	ASSERT_EQ(ips_addr_add(t.st, "eth0", "10.0.0.1/24"), 0);
	ASSERT_EQ(ips_addr_add(t.st, "eth0", "10.0.0.2/24"), 0);
	ASSERT_EQ(ips_addr_del(t.st, "eth0", "10.0.0.1/24"), 0);
	CHECK(t.eth0->in->ifa_list == NULL);
	CHECK(!strstr(routes(t.st), "10.0.0"));
	CHECK_EQ(route_addr_type(t.st, A("10.0.0.2")), RTN_UNICAST_);
	teardown(&t);
}

TEST(promote_secondaries_keeps_the_secondary_as_new_primary)
{
	struct world1 t;

	setup(&t);
	ASSERT_EQ(ips_sysctl_set(t.st, "net.ipv4.conf.eth0.promote_secondaries", "1"), 0);
	ASSERT_EQ(ips_addr_add(t.st, "eth0", "10.0.0.1/24"), 0);
	ASSERT_EQ(ips_addr_add(t.st, "eth0", "10.0.0.2/24"), 0);
	ASSERT_EQ(ips_addr_del(t.st, "eth0", "10.0.0.1/24"), 0);
	ASSERT(t.eth0->in->ifa_list != NULL);
	CHECK(!t.eth0->in->ifa_list->secondary);
	CHECK(strstr(routes(t.st), "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.2\n"));
	CHECK(strstr(routes(t.st), "local 10.0.0.2 dev eth0 table local proto kernel scope host src 10.0.0.2\n"));
	teardown(&t);
}

TEST(select_addr_prefers_the_destination_subnet)
{
	struct world1 t;

	setup(&t);
	ASSERT_EQ(ips_addr_add(t.st, "eth0", "10.0.0.1/24"), 0);
	ASSERT_EQ(ips_addr_add(t.st, "eth0", "192.168.5.1/24"), 0);
	stack_lock(t.st);
	CHECK_EQ(ip4_select_addr(t.eth0, A("192.168.5.77")), A("192.168.5.1"));
	CHECK_EQ(ip4_select_addr(t.eth0, A("8.8.8.8")), A("10.0.0.1"));
	/* scope host addresses (127/8) are never picked for the universe */
	CHECK_EQ(ip4_select_addr(t.st->lo, A("8.8.8.8")), A("10.0.0.1"));
	CHECK(ip4_local_dev(t.st, A("10.0.0.1")) == t.eth0);
	CHECK(ip4_local_dev(t.st, A("127.0.0.5")) == t.st->lo);
	CHECK(ip4_local_dev(t.st, A("10.0.0.2")) == NULL);
	stack_unlock(t.st);
	teardown(&t);
}

/* Linux 6.18: `ip link set v0 down` leaves only "local 10.0.0.1 dev v0 table local"; a
 * user route through the device is gone for good, the address routes come back up. */
TEST(device_down_flushes_all_but_local_routes_and_up_restores_address_routes)
{
	struct world1 t;
	const char *r;

	setup(&t);
	ASSERT_EQ(ips_addr_add(t.st, "eth0", "10.0.0.1/24"), 0);
	ASSERT_EQ(ips_route_add_str(t.st, "10.5.0.0/16 via 10.0.0.9"), 0);
	ASSERT_EQ(ips_dev_set_up(t.st, "eth0", 0), 0);
	r = routes(t.st);
	CHECK(strstr(r, "local 10.0.0.1 dev eth0 table local"));
	CHECK(!strstr(r, "10.0.0.0/24"));
	CHECK(!strstr(r, "broadcast 10.0.0.255"));
	CHECK(!strstr(r, "10.5.0.0/16"));
	ASSERT_EQ(ips_dev_set_up(t.st, "eth0", 1), 0);
	r = routes(t.st);
	CHECK(strstr(r, "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1\n"));
	CHECK(strstr(r, "broadcast 10.0.0.255 dev eth0 table local"));
	CHECK(!strstr(r, "10.5.0.0/16"));
	teardown(&t);
}

static int count_cb(void *arg, struct netdev *dev, const struct in_ifaddr *ifa)
{
	(*(int *)arg)++;
	return 0;
}

TEST(addr_foreach_lists_every_address)
{
	struct world1 t;
	int n = 0;

	setup(&t);
	ASSERT_EQ(ips_addr_add(t.st, "eth0", "10.0.0.1/24"), 0);
	ASSERT_EQ(ips_addr_add(t.st, "eth0", "10.0.0.2/24"), 0);
	addr_foreach(t.st, count_cb, &n);
	CHECK_EQ(n, 3);	/* 127.0.0.1 too */
	teardown(&t);
}

TEST_MAIN

/* Devices on a simulated world: memlinks between stacks, the learning memswitch,
 * loopback, callback devices, per-device impairment and capture, and the ips_dev_*
 * management calls. Traffic is ICMP echo (the IP layer's echo sender and listeners). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/stack.h"
#include "ip/icmp.h"
#include "ip/ip.h"
#include "link/impair.h"
#include "link/link.h"
#include "link/netdev.h"
#include "link/pcap.h"
#include "test.h"
#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/wire.h"

TEST_MAIN

#define MS(x) ((uint64_t)(x) * 1000000ull)

static uint32_t IP(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static struct netdev *dev_of(ips_stack *st, const char *name)
{
	return stack_dev_by_name(st, name);
}

/* Echo replies seen by a stack, with the time of the last one. */
struct pinger {
	struct icmp_listener l;
	ips_stack *st;
	int replies, unreach;
	uint64_t last_reply_ns;
};

static void pinger_fn(void *arg, struct pkb *pkb)
{
	struct pinger *p = arg;

	if (pkb->th[0] == ICMP_ECHOREPLY) {
		p->replies++;
		p->last_reply_ns = stack_now_ns(p->st);
	} else if (pkb->th[0] == ICMP_DEST_UNREACH) {
		p->unreach++;
	}
}

static void pinger_init(struct pinger *p, ips_stack *st)
{
	memset(p, 0, sizeof(*p));
	p->st = st;
	p->l.fn = pinger_fn;
	p->l.arg = p;
	stack_lock(st);
	icmp_listener_add(st, &p->l);
	stack_unlock(st);
}

static void pinger_fini(struct pinger *p)
{
	stack_lock(p->st);
	icmp_listener_del(p->st, &p->l);
	stack_unlock(p->st);
}

static int send_ping(ips_stack *st, const char *dst, uint16_t seq, size_t len)
{
	static uint8_t payload[9000];
	struct icmp_echo_req req = {
		.daddr = IP(dst), .id = 0x4242, .seq = seq, .payload = payload, .len = len,
		.ttl = -1, .pmtudisc = -1,
	};
	int rc;

	stack_lock(st);
	rc = icmp_echo_send(st, &req, NULL);
	stack_unlock(st);
	return rc;
}

static int done_replies_target;
static struct pinger *done_pinger;

static int got_replies(void *arg)
{
	return done_pinger->replies >= done_replies_target;
}

static int wait_replies(ips_world *w, struct pinger *p, int n, uint64_t max_ns)
{
	done_pinger = p;
	done_replies_target = n;
	return ips_world_run_until(w, got_replies, NULL, max_ns);
}

static void world_free_checked(ips_world *w, ips_stack **sts, int n)
{
	long left = 0;

	ips_world_run_for(w, MS(10000));
	for (int i = 0; i < n; i++)
		left += ips_stack_pkb_outstanding(sts[i]);
	ips_world_free(w);
	CHECK_EQ(left, 0);
}

/* a(eth0 10.0.0.1/24) <-> b(eth0 10.0.0.2/24) */
static int pair(ips_world *w, ips_stack **a, ips_stack **b, const struct ips_link_config *cfg)
{
	*a = ips_world_add_stack(w, "a");
	*b = ips_world_add_stack(w, "b");
	if (!*a || !*b)
		return -1;
	if (ips_memlink_new(*a, "eth0", *b, "eth0", cfg) < 0)
		return -1;
	if (ips_addr_add(*a, "eth0", "10.0.0.1/24") < 0 || ips_addr_add(*b, "eth0", "10.0.0.2/24") < 0)
		return -1;
	return 0;
}

TEST(memlink_carries_a_ping_between_two_stacks)
{
	ips_world *w = ips_world_new(1);
	ips_stack *a, *b;
	struct pinger p;

	ASSERT_EQ(pair(w, &a, &b, NULL), 0);
	pinger_init(&p, a);
	ASSERT_EQ(send_ping(a, "10.0.0.2", 1, 56), 0);
	CHECK(wait_replies(w, &p, 1, MS(1000)));
	CHECK_EQ(ips_world_now_ns(w), 0);	/* no delay configured: same instant */
	struct netdev *da = dev_of(a, "eth0"), *db = dev_of(b, "eth0");

	CHECK_EQ(da->tx_packets, 2);		/* ARP request + echo request */
	CHECK_EQ(db->rx_packets, 2);
	CHECK_EQ(db->tx_packets, 2);		/* ARP reply + echo reply */
	struct neigh_info ni;

	stack_lock(a);
	CHECK_EQ(neigh_lookup_info(da, IP("10.0.0.2"), &ni), 0);
	stack_unlock(a);
	CHECK_EQ(ni.state, NUD_REACHABLE);
	CHECK_MEM(ni.lladdr, db->hwaddr, 6);
	pinger_fini(&p);
	ips_stack *sts[] = { a, b };

	world_free_checked(w, sts, 2);
}

TEST(memlink_macs_are_local_unicast_and_seeded)
{
	uint8_t m1[6], m2[6], m3[6];

	for (int round = 0; round < 2; round++) {
		ips_world *w = ips_world_new(42 + (uint64_t)round * 0);
		ips_stack *a = ips_world_add_stack(w, "a"), *b = ips_world_add_stack(w, "b");

		ASSERT_EQ(ips_memlink_new(a, "eth0", b, "eth0", NULL), 0);
		ASSERT_EQ(ips_dev_hwaddr(a, "eth0", round ? m3 : m1), 0);
		ASSERT_EQ(ips_dev_hwaddr(b, "eth0", m2), 0);
		CHECK_EQ(m1[0] & 0x03, 0x02);	/* locally administered, unicast */
		CHECK_EQ(m2[0] & 0x03, 0x02);
		CHECK(memcmp(m1, m2, 6) != 0);
		ips_world_free(w);
	}
	CHECK_MEM(m1, m3, 6);			/* same seed, same addresses */
	ips_world *w = ips_world_new(43);
	ips_stack *a = ips_world_add_stack(w, "a"), *b = ips_world_add_stack(w, "b");

	ASSERT_EQ(ips_memlink_new(a, "eth0", b, "eth0", NULL), 0);
	ASSERT_EQ(ips_dev_hwaddr(a, "eth0", m3), 0);
	CHECK(memcmp(m1, m3, 6) != 0);
	ips_world_free(w);
}

TEST(memlink_configuration_errors)
{
	ips_world *w = ips_world_new(2);
	ips_stack *a = ips_world_add_stack(w, "a"), *b = ips_world_add_stack(w, "b");
	struct ips_link_config cfg = { .mtu = 67 };

	CHECK_EQ(ips_memlink_new(a, "eth0", b, "eth0", &cfg), -EINVAL);
	cfg.mtu = 65536;
	CHECK_EQ(ips_memlink_new(a, "eth0", b, "eth0", &cfg), -EINVAL);
	cfg.mtu = 9000;
	cfg.impair.loss_pct = 101;
	CHECK_EQ(ips_memlink_new(a, "eth0", b, "eth0", &cfg), -EINVAL);
	cfg.impair.loss_pct = 0;
	ASSERT_EQ(ips_memlink_new(a, "eth0", b, "eth0", &cfg), 0);
	CHECK_EQ(dev_of(a, "eth0")->mtu, 9000);
	CHECK_EQ(dev_of(b, "eth0")->mtu, 9000);
	/* b's end exists already: a's new end is undone. */
	CHECK_EQ(ips_memlink_new(a, "eth1", b, "eth0", NULL), -EEXIST);
	CHECK(dev_of(a, "eth1") == NULL);
	CHECK_EQ(ips_memlink_new(a, "eth1", a, "eth1", NULL), -EEXIST);
	/* Both ends in one stack. */
	ASSERT_EQ(ips_memlink_new(a, "veth0", a, "veth1", NULL), 0);
	CHECK_EQ(dev_of(a, "veth0")->mtu, 1500);
	CHECK(dev_of(a, "veth0")->flags & IFF_UP);
	CHECK(dev_of(a, "veth0")->flags & IFF_BROADCAST);
	CHECK(dev_of(a, "veth0")->flags & IFF_MULTICAST);
	ips_world_free(w);
}

TEST(frames_over_the_receivers_mtu_are_dropped)
{
	ips_world *w = ips_world_new(3);
	ips_stack *a, *b;
	struct pinger p;

	ASSERT_EQ(pair(w, &a, &b, NULL), 0);
	pinger_init(&p, a);
	ASSERT_EQ(send_ping(a, "10.0.0.2", 1, 56), 0);
	ASSERT(wait_replies(w, &p, 1, MS(100)));
	/* a may send 9000-byte frames; b only takes 1500. */
	ASSERT_EQ(ips_dev_set_mtu(a, "eth0", 9000), 0);
	uint64_t drops = dev_of(b, "eth0")->rx_dropped;

	ASSERT_EQ(send_ping(a, "10.0.0.2", 2, 4000), 0);
	CHECK(!wait_replies(w, &p, 2, MS(100)));
	CHECK_EQ(dev_of(b, "eth0")->rx_dropped, drops + 1);
	pinger_fini(&p);
	ips_stack *sts[] = { a, b };

	world_free_checked(w, sts, 2);
}

TEST(link_delay_applies_in_each_direction)
{
	ips_world *w = ips_world_new(4);
	ips_stack *a, *b;
	struct pinger p;
	struct ips_link_config cfg = { 0 };

	ASSERT_EQ(ips_impair_parse("delay=10", &cfg.impair), 0);
	ASSERT_EQ(pair(w, &a, &b, &cfg), 0);
	pinger_init(&p, a);
	ASSERT_EQ(send_ping(a, "10.0.0.2", 1, 56), 0);
	ASSERT(wait_replies(w, &p, 1, MS(1000)));
	/* ARP request, reply, echo request, reply: four one-way trips. */
	CHECK_EQ(p.last_reply_ns, MS(40));
	uint64_t t0 = ips_world_now_ns(w);

	ASSERT_EQ(send_ping(a, "10.0.0.2", 2, 56), 0);
	ASSERT(wait_replies(w, &p, 2, MS(1000)));
	CHECK_EQ(p.last_reply_ns - t0, MS(20));
	pinger_fini(&p);
	ips_stack *sts[] = { a, b };

	world_free_checked(w, sts, 2);
}

TEST(link_rate_serialises_frames)
{
	ips_world *w = ips_world_new(5);
	ips_stack *a, *b;
	struct pinger p;
	struct ips_link_config cfg = { .impair = { .rate_bps = 8000000 } };	/* 1 byte/us */

	ASSERT_EQ(pair(w, &a, &b, &cfg), 0);
	pinger_init(&p, a);
	ASSERT_EQ(send_ping(a, "10.0.0.2", 1, 56), 0);
	ASSERT(wait_replies(w, &p, 1, MS(1000)));
	/* 42-byte ARP each way, then 98-byte echo frames each way. */
	CHECK_EQ(p.last_reply_ns, (42 + 42 + 98 + 98) * 1000ull);
	pinger_fini(&p);
	ips_stack *sts[] = { a, b };

	world_free_checked(w, sts, 2);
}

TEST(total_loss_means_resolution_fails)
{
	ips_world *w = ips_world_new(6);
	ips_stack *a, *b;
	struct pinger p;
	struct ips_link_config cfg = { .impair = { .loss_pct = 100 } };

	ASSERT_EQ(pair(w, &a, &b, &cfg), 0);
	pinger_init(&p, a);
	ASSERT_EQ(send_ping(a, "10.0.0.2", 1, 56), 0);
	ips_world_run_for(w, MS(5000));
	CHECK_EQ(p.replies, 0);
	CHECK_EQ(dev_of(b, "eth0")->rx_packets, 0);
	CHECK_EQ(dev_of(a, "eth0")->tx_impair->stats.lost, 3);	/* three ARP requests */
	CHECK_EQ(p.unreach, 1);		/* host unreachable, from ourselves */
	CHECK_EQ(neigh_get_stats(a)->link_failures, 1);
	pinger_fini(&p);
	ips_stack *sts[] = { a, b };

	world_free_checked(w, sts, 2);
}

TEST(dev_set_impair_covers_both_directions)
{
	ips_world *w = ips_world_new(7);
	ips_stack *a, *b;
	struct pinger p;
	struct ips_impair imp = { .delay_us = 5000 };

	ASSERT_EQ(pair(w, &a, &b, NULL), 0);
	pinger_init(&p, a);
	ASSERT_EQ(send_ping(a, "10.0.0.2", 1, 56), 0);
	ASSERT(wait_replies(w, &p, 1, MS(1000)));
	ASSERT_EQ(ips_dev_set_impair(a, "eth0", &imp), 0);
	uint64_t t0 = ips_world_now_ns(w);

	ASSERT_EQ(send_ping(a, "10.0.0.2", 2, 56), 0);
	ASSERT(wait_replies(w, &p, 2, MS(1000)));
	CHECK_EQ(p.last_reply_ns - t0, MS(10));	/* out on tx, back on rx */
	ASSERT_EQ(ips_dev_set_impair(a, "eth0", NULL), 0);
	CHECK(dev_of(a, "eth0")->tx_impair == NULL && dev_of(a, "eth0")->rx_impair == NULL);
	imp.dup_pct = 200;
	CHECK_EQ(ips_dev_set_impair(a, "eth0", &imp), -EINVAL);
	CHECK_EQ(ips_dev_set_impair(a, "nope", NULL), -ENODEV);
	pinger_fini(&p);
	ips_stack *sts[] = { a, b };

	world_free_checked(w, sts, 2);
}

TEST(down_device_neither_sends_nor_receives)
{
	ips_world *w = ips_world_new(8);
	ips_stack *a, *b;
	struct pinger p;

	ASSERT_EQ(pair(w, &a, &b, NULL), 0);
	pinger_init(&p, a);
	ASSERT_EQ(send_ping(a, "10.0.0.2", 1, 56), 0);
	ASSERT(wait_replies(w, &p, 1, MS(100)));
	ASSERT_EQ(ips_dev_set_up(b, "eth0", 0), 0);
	uint64_t rx = dev_of(b, "eth0")->rx_packets;

	send_ping(a, "10.0.0.2", 2, 56);
	ips_world_run_for(w, MS(100));
	CHECK_EQ(p.replies, 1);
	CHECK_EQ(dev_of(b, "eth0")->rx_packets, rx);
	CHECK(dev_of(b, "eth0")->rx_dropped >= 1);
	ASSERT_EQ(ips_dev_set_up(b, "eth0", 1), 0);
	send_ping(a, "10.0.0.2", 3, 56);
	CHECK(wait_replies(w, &p, 2, MS(10000)));
	pinger_fini(&p);
	ips_stack *sts[] = { a, b };

	world_free_checked(w, sts, 2);
}

TEST(switch_learns_and_floods)
{
	ips_world *w = ips_world_new(9);
	ips_stack *s[3];
	struct pinger p;
	ips_memswitch *sw = ips_memswitch_new(NULL);

	ASSERT(sw);
	for (int i = 0; i < 3; i++) {
		char name[16], cidr[32];

		snprintf(name, sizeof(name), "s%d", i);
		snprintf(cidr, sizeof(cidr), "10.0.0.%d/24", i + 1);
		s[i] = ips_world_add_stack(w, name);
		ASSERT_EQ(ips_memswitch_add_port(sw, s[i], "eth0"), 0);
		ASSERT_EQ(ips_addr_add(s[i], "eth0", cidr), 0);
	}
	pinger_init(&p, s[0]);
	ASSERT_EQ(send_ping(s[0], "10.0.0.2", 1, 56), 0);
	ASSERT(wait_replies(w, &p, 1, MS(100)));
	/* The broadcast request reached both others; the rest was switched. */
	CHECK_EQ(dev_of(s[1], "eth0")->rx_packets, 2);
	CHECK_EQ(dev_of(s[2], "eth0")->rx_packets, 1);
	CHECK_EQ(dev_of(s[2], "eth0")->rx_otherhost_dropped, 0);
	ASSERT_EQ(send_ping(s[0], "10.0.0.2", 2, 56), 0);
	ASSERT(wait_replies(w, &p, 2, MS(100)));
	CHECK_EQ(dev_of(s[2], "eth0")->rx_packets, 1);
	/* Unknown unicast floods: s0 talks to a MAC the switch has not seen. */
	static const uint8_t nobody[6] = { 0x02, 0xde, 0xad, 0, 0, 1 };

	stack_lock(s[0]);
	CHECK_EQ(neigh_add_static(dev_of(s[0], "eth0"), IP("10.0.0.9"), nobody, NUD_PERMANENT), 0);
	stack_unlock(s[0]);
	send_ping(s[0], "10.0.0.9", 3, 56);
	ips_world_run_for(w, MS(10));
	CHECK_EQ(dev_of(s[1], "eth0")->rx_otherhost_dropped, 1);
	CHECK_EQ(dev_of(s[2], "eth0")->rx_otherhost_dropped, 1);
	pinger_fini(&p);
	world_free_checked(w, s, 3);
	ips_memswitch_free(sw);
}

TEST(switch_may_be_freed_before_its_stacks)
{
	ips_world *w = ips_world_new(10);
	ips_stack *a = ips_world_add_stack(w, "a"), *b = ips_world_add_stack(w, "b");
	ips_memswitch *sw = ips_memswitch_new(NULL);
	struct pinger p;

	ASSERT_EQ(ips_memswitch_add_port(sw, a, "eth0"), 0);
	ASSERT_EQ(ips_memswitch_add_port(sw, b, "eth0"), 0);
	CHECK_EQ(ips_memswitch_add_port(sw, b, "eth0"), -EEXIST);
	ips_memswitch_free(sw);		/* the ports keep it alive */
	ASSERT_EQ(ips_addr_add(a, "eth0", "10.0.0.1/24"), 0);
	ASSERT_EQ(ips_addr_add(b, "eth0", "10.0.0.2/24"), 0);
	pinger_init(&p, a);
	ASSERT_EQ(send_ping(a, "10.0.0.2", 1, 56), 0);
	CHECK(wait_replies(w, &p, 1, MS(100)));
	pinger_fini(&p);
	ips_stack *sts[] = { a, b };

	world_free_checked(w, sts, 2);
}

TEST(loopback_delivers_on_the_next_pass)
{
	ips_world *w = ips_world_new(11);
	ips_stack *a = ips_world_add_stack(w, "a");
	struct pinger p;

	ASSERT(a->lo);
	CHECK_EQ(a->lo->mtu, 65536);
	CHECK((a->lo->flags & (IFF_LOOPBACK | IFF_UP | IFF_RUNNING)) ==
	      (IFF_LOOPBACK | IFF_UP | IFF_RUNNING));
	CHECK_EQ(ips_dev_index(a, "lo"), 1);
	pinger_init(&p, a);
	ASSERT_EQ(send_ping(a, "127.0.0.1", 1, 56), 0);
	CHECK_EQ(p.replies, 0);			/* not inside the send */
	CHECK(wait_replies(w, &p, 1, MS(1)));
	CHECK_EQ(a->lo->tx_packets, 2);
	CHECK_EQ(a->lo->rx_packets, 2);
	/* A big one: lo's MTU is 65536, no fragments. */
	ASSERT_EQ(send_ping(a, "127.0.0.1", 2, 1900), 0);
	CHECK(wait_replies(w, &p, 2, MS(1)));
	pinger_fini(&p);
	ips_stack *sts[] = { a };

	world_free_checked(w, sts, 1);
}

/* Two stacks joined by callback devices: each one's output is injected into the other. */
struct cb_peer {
	ips_stack *to;
	const char *ifname;
	int count;
};

static void cb_out(void *arg, const void *pkt, size_t len)
{
	struct cb_peer *p = arg;

	p->count++;
	ips_cbdev_inject(p->to, p->ifname, pkt, len);
}

TEST(callback_devices_carry_raw_ip)
{
	ips_world *w = ips_world_new(12);
	ips_stack *a = ips_world_add_stack(w, "a"), *b = ips_world_add_stack(w, "b");
	struct cb_peer to_b = { b, "cb0", 0 }, to_a = { a, "cb0", 0 };
	struct pinger p;

	ASSERT_EQ(ips_cbdev_new(a, "cb0", 0, cb_out, &to_b), 0);
	ASSERT_EQ(ips_cbdev_new(b, "cb0", 0, cb_out, &to_a), 0);
	CHECK_EQ(ips_cbdev_new(b, "cb0", 0, cb_out, &to_a), -EEXIST);
	CHECK_EQ(ips_cbdev_new(b, "cb1", 10, cb_out, &to_a), -EINVAL);
	ASSERT_EQ(ips_addr_add(a, "cb0", "10.0.0.1/24"), 0);
	ASSERT_EQ(ips_addr_add(b, "cb0", "10.0.0.2/24"), 0);
	CHECK_EQ(dev_of(a, "cb0")->mtu, 1500);
	CHECK(dev_of(a, "cb0")->flags & IFF_NOARP);
	pinger_init(&p, a);
	ASSERT_EQ(send_ping(a, "10.0.0.2", 1, 56), 0);
	CHECK(wait_replies(w, &p, 1, MS(10)));
	CHECK_EQ(to_b.count, 1);		/* no ARP: the echo request only */
	CHECK_EQ(to_a.count, 1);
	/* Injection errors. */
	uint8_t junk[4] = { 0x45 };

	CHECK_EQ(ips_cbdev_inject(a, "nope", junk, 4), -ENODEV);
	CHECK_EQ(ips_cbdev_inject(a, "lo", junk, 4), -ENODEV);
	CHECK_EQ(ips_cbdev_inject(a, "cb0", junk, 0), -EMSGSIZE);
	/* Not IPv4: counted and dropped by the device. */
	uint8_t v6[40] = { 0x60 };

	CHECK_EQ(ips_cbdev_inject(a, "cb0", v6, sizeof(v6)), 0);
	ips_world_run_for(w, 0);
	CHECK_EQ(dev_of(a, "cb0")->rx_dropped, 1);
	pinger_fini(&p);
	ips_stack *sts[] = { a, b };

	world_free_checked(w, sts, 2);
}

TEST(management_calls)
{
	ips_world *w = ips_world_new(13);
	ips_stack *a = ips_world_add_stack(w, "a"), *b = ips_world_add_stack(w, "b");
	uint8_t mac[6];

	ASSERT_EQ(ips_memlink_new(a, "eth0", b, "eth0", NULL), 0);
	CHECK_EQ(ips_dev_index(a, "eth0"), 2);
	CHECK_EQ(ips_dev_index(a, "eth9"), -ENODEV);
	CHECK_EQ(ips_dev_set_mtu(a, "eth0", 67), -EINVAL);
	CHECK_EQ(ips_dev_set_mtu(a, "eth0", 68), 0);
	CHECK_EQ(ips_dev_set_mtu(a, "eth0", 65535), 0);
	CHECK_EQ(ips_dev_set_mtu(a, "eth0", 65536), -EINVAL);
	CHECK_EQ(ips_dev_set_mtu(a, "eth9", 1500), -ENODEV);
	CHECK_EQ(ips_dev_set_up(a, "eth9", 1), -ENODEV);
	CHECK_EQ(ips_dev_hwaddr(a, "eth9", mac), -ENODEV);
	CHECK_EQ(ips_dev_hwaddr(a, "lo", mac), 0);
	CHECK_MEM(mac, "\0\0\0\0\0\0", 6);
	CHECK_EQ(ips_dev_set_up(a, "eth0", 0), 0);
	CHECK(!(dev_of(a, "eth0")->flags & IFF_UP));
	CHECK_EQ(ips_dev_set_up(a, "eth0", 0), 0);	/* idempotent */
	CHECK_EQ(ips_dev_set_up(a, "eth0", 1), 0);
	CHECK(dev_of(a, "eth0")->flags & IFF_RUNNING);
	CHECK_EQ(ips_dev_set_pcap(a, "eth9", "/tmp/x.pcap"), -ENODEV);
	CHECK_EQ(ips_dev_set_pcap(a, "eth0", "/nonexistent-dir/x.pcap"), -ENOENT);
	/* Per-device sysctls exist from registration. */
	char buf[32];

	CHECK(ips_sysctl_get(a, "net.ipv4.conf.eth0.arp_ignore", buf, sizeof(buf)) > 0);
	CHECK(ips_sysctl_get(a, "net.ipv4.neigh.eth0.ucast_solicit", buf, sizeof(buf)) > 0);
	ips_world_free(w);
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Records of a pcap file: count, and the offsets/lengths of up to 16. */
static int pcap_records(const char *path, uint32_t *linktype, size_t *off, uint32_t *len,
			uint32_t *ts_ns, uint8_t **buf)
{
	FILE *f = fopen(path, "rb");
	size_t n, pos = 24;
	int count = 0;

	if (!f)
		return -1;
	*buf = malloc(1 << 20);
	n = fread(*buf, 1, 1 << 20, f);
	fclose(f);
	if (n < 24 || rd32(*buf) != PCAP_MAGIC_NSEC)
		return -1;
	*linktype = rd32(*buf + 20);
	while (pos + 16 <= n) {
		uint32_t incl = rd32(*buf + pos + 8);

		if (count < 16) {
			off[count] = pos + 16;
			len[count] = incl;
			ts_ns[count] = rd32(*buf + pos + 4);
		}
		count++;
		pos += 16 + incl;
	}
	return count;
}

TEST(pcap_captures_what_goes_on_the_wire)
{
	ips_world *w = ips_world_new(14);
	ips_stack *a, *b;
	struct pinger p;
	char path[64], lopath[64];
	struct ips_link_config cfg = { .impair = { .delay_us = 1000 } };
	size_t off[16];
	uint32_t len[16], ts[16], lt;
	uint8_t *buf;

	snprintf(path, sizeof(path), "/tmp/ipstack-link-%d.pcap", (int)getpid());
	snprintf(lopath, sizeof(lopath), "/tmp/ipstack-lo-%d.pcap", (int)getpid());
	ASSERT_EQ(pair(w, &a, &b, &cfg), 0);
	ASSERT_EQ(ips_dev_set_pcap(a, "eth0", path), 0);
	ASSERT_EQ(ips_dev_set_pcap(a, "lo", lopath), 0);
	pinger_init(&p, a);
	ASSERT_EQ(send_ping(a, "10.0.0.2", 1, 56), 0);
	ASSERT(wait_replies(w, &p, 1, MS(100)));
	ASSERT_EQ(send_ping(a, "127.0.0.1", 2, 56), 0);
	ASSERT(wait_replies(w, &p, 2, MS(100)));
	ASSERT_EQ(ips_pcap_flush(a), 0);
	/* On eth0: ARP request (t=0), ARP reply (in, 1 ms), echo request (1 ms after the
	 * reply arrived: a's tx delay starts when it is sent), echo reply. */
	ASSERT_EQ(pcap_records(path, &lt, off, len, ts, &buf), 4);
	CHECK_EQ(lt, PCAP_LINKTYPE_ETHERNET);
	CHECK_EQ(len[0], 42);
	CHECK_EQ(get_be16(buf + off[0] + 12), ETH_P_ARP);
	CHECK_EQ(ts[0], 1000000);		/* captured after the tx delay */
	CHECK_EQ(ts[1], 2000000);
	CHECK_EQ(get_be16(buf + off[2] + 12), ETH_P_IP);
	CHECK_EQ(len[2], 98);
	free(buf);
	/* lo: bare IPv4, each packet once. */
	ASSERT_EQ(ips_dev_set_pcap(a, "lo", NULL), 0);
	ASSERT_EQ(pcap_records(lopath, &lt, off, len, ts, &buf), 2);
	CHECK_EQ(lt, PCAP_LINKTYPE_RAW);
	CHECK_EQ(buf[off[0]], 0x45);
	free(buf);
	pinger_fini(&p);
	ips_stack *sts[] = { a, b };

	world_free_checked(w, sts, 2);	/* runs 10 s more, then closes eth0's capture */
	/* b learnt a from its request (STALE), answered through it (DELAY) and, with
	 * nothing confirming a, probed it by unicast 5 s later; a answered. */
	ASSERT_EQ(pcap_records(path, &lt, off, len, ts, &buf), 6);
	CHECK_EQ(get_be16(buf + off[4] + 12), ETH_P_ARP);
	CHECK(!(buf[off[4]] & 1));		/* unicast */
	CHECK_EQ(get_be16(buf + off[4] + 14 + 6), ARPOP_REQUEST);
	CHECK_EQ(get_be16(buf + off[5] + 14 + 6), ARPOP_REPLY);
	free(buf);
	unlink(path);
	unlink(lopath);
}

TEST(pcap_skips_frames_lost_on_transmit)
{
	ips_world *w = ips_world_new(15);
	ips_stack *a, *b;
	char path[64];
	struct ips_link_config cfg = { .impair = { .loss_pct = 100 } };
	size_t off[16];
	uint32_t len[16], ts[16], lt;
	uint8_t *buf;

	snprintf(path, sizeof(path), "/tmp/ipstack-loss-%d.pcap", (int)getpid());
	ASSERT_EQ(pair(w, &a, &b, &cfg), 0);
	ASSERT_EQ(ips_dev_set_pcap(a, "eth0", path), 0);
	send_ping(a, "10.0.0.2", 1, 56);
	ips_world_run_for(w, MS(5000));
	ASSERT_EQ(ips_dev_set_pcap(a, "eth0", NULL), 0);
	CHECK_EQ(pcap_records(path, &lt, off, len, ts, &buf), 0);
	free(buf);
	unlink(path);
	ips_stack *sts[] = { a, b };

	world_free_checked(w, sts, 2);
}

/* Frames straight into a device's receive path. */
static void rx_frame(ips_stack *st, struct netdev *dev, const uint8_t *f, size_t len)
{
	struct pkb *p = stack_pkb_alloc(st, len);

	memcpy(pkb_put(p, len), f, len);
	stack_lock(st);
	netdev_rx(dev, p);
	stack_unlock(st);
}

TEST(ethernet_input_classifies_and_drops)
{
	ips_world *w = ips_world_new(16);
	ips_stack *a, *b;

	ASSERT_EQ(pair(w, &a, &b, NULL), 0);
	struct netdev *d = dev_of(a, "eth0");
	uint8_t f[60] = { 0 };
	uint64_t in0, in;

	ips_counter_get(a, "IpInReceives", &in0);
	/* Unicast IPv4 to another MAC: dropped before IP. */
	memcpy(f, "\x02\x99\x99\x99\x99\x99", 6);
	memcpy(f + 6, "\x02\x11\x11\x11\x11\x11", 6);
	put_be16(f + 12, ETH_P_IP);
	f[14] = 0x45;
	rx_frame(a, d, f, sizeof(f));
	CHECK_EQ(d->rx_otherhost_dropped, 1);
	ips_counter_get(a, "IpInReceives", &in);
	CHECK_EQ(in, in0);
	/* An EtherType nobody handles (IPv6). */
	memcpy(f, d->hwaddr, 6);
	put_be16(f + 12, 0x86dd);
	rx_frame(a, d, f, sizeof(f));
	CHECK_EQ(d->rx_dropped, 1);
	/* Our own source address. */
	memcpy(f + 6, d->hwaddr, 6);
	put_be16(f + 12, ETH_P_IP);
	rx_frame(a, d, f, sizeof(f));
	CHECK_EQ(d->rx_dropped, 2);
	/* Runt. */
	rx_frame(a, d, f, 10);
	CHECK_EQ(d->rx_dropped, 3);
	/* To us: IP sees it (and counts it, whatever it thinks of the header). */
	memcpy(f + 6, "\x02\x11\x11\x11\x11\x11", 6);
	rx_frame(a, d, f, sizeof(f));
	ips_counter_get(a, "IpInReceives", &in);
	CHECK_EQ(in, in0 + 1);
	CHECK_EQ(d->rx_packets, 5);
	ips_stack *sts[] = { a, b };

	world_free_checked(w, sts, 2);
}

/* ARP input as net/ipv4/arp.c arp_process() handles it: which requests are answered
 * (our addresses only, arp_ignore, arp_filter, never 127/8 or multicast), what the
 * cache learns from requests and replies (neigh_event_ns, locktime, arp_accept,
 * gratuitous ARP), static entries, and announcements (arp_notify). */
#include "test_arp_harness.h"

TEST_MAIN

#define H IP("10.0.0.1")
#define PEER IP("10.0.0.2")

/* The last frame h sent, if it is an ARP reply; returns 0 if there is none since n0. */
static int last_reply(struct harness *t, int n0, struct seen *out)
{
	for (int i = t->eth0.n - 1; i >= n0; i--) {
		*out = frame_parse(&t->eth0.f[i]);
		if (out->eth.type == ETH_P_ARP && out->arp.op == ARPOP_REPLY)
			return 1;
	}
	return 0;
}

TEST(request_for_our_address_is_answered_and_cached)
{
	struct harness t;
	struct seen s;

	ASSERT_EQ(harness_init(&t, 1), 0);
	inject_arp(&t, BCAST, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, H);
	ASSERT(last_reply(&t, 0, &s));
	CHECK_EQ(t.eth0.n, 1);
	CHECK_MEM(s.eth.dst, P_MAC, 6);
	CHECK_MEM(s.eth.src, H_MAC, 6);
	CHECK_MEM(s.arp.sha, H_MAC, 6);
	CHECK_EQ(s.arp.spa, H);
	CHECK_MEM(s.arp.tha, P_MAC, 6);
	CHECK_EQ(s.arp.tpa, PEER);
	/* neigh_event_ns(): the asker is cached, STALE until traffic confirms it. */
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_STALE);
	/* So our first packet to it needs no request. */
	h_send(&t, t.eth0.dev, PEER, PEER, 5);
	CHECK_EQ(count_arp(&t.eth0, 0, ARPOP_REQUEST), 0);
	CHECK_EQ(frame_parse(&t.eth0.f[t.eth0.n - 1]).tag, 5);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_DELAY);
	harness_fini(&t);
}

TEST(request_for_another_address_is_ignored)
{
	struct harness t;
	struct seen s;

	ASSERT_EQ(harness_init(&t, 2), 0);
	inject_arp(&t, BCAST, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, IP("10.0.0.99"));
	CHECK(!last_reply(&t, 0, &s));
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), 0xff);	/* not learnt either */
	inject_arp(&t, BCAST, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, IP("10.0.0.255"));
	CHECK(!last_reply(&t, 0, &s));
	harness_fini(&t);
}

TEST(never_answers_for_loopback_or_multicast)
{
	struct harness t;
	struct seen s;

	ASSERT_EQ(harness_init(&t, 3), 0);
	inject_arp(&t, BCAST, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, IP("127.0.0.1"));
	inject_arp(&t, BCAST, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, IP("224.0.0.1"));
	CHECK(!last_reply(&t, 0, &s));
	CHECK_EQ(t.eth0.n, 0);
	harness_fini(&t);
}

TEST(weak_host_answers_for_an_address_on_another_device)
{
	struct harness t;
	struct wire eth1;
	struct seen s;

	ASSERT_EQ(harness_init(&t, 4), 0);
	ASSERT(harness_dev(&t, "eth1", &eth1, Q_MAC));
	ASSERT_EQ(ips_addr_add(t.h, "eth1", "10.1.0.1/24"), 0);
	/* arp_ignore=0: any local address, whatever the interface. */
	inject_arp(&t, BCAST, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, IP("10.1.0.1"));
	ASSERT(last_reply(&t, 0, &s));
	CHECK_EQ(s.arp.spa, IP("10.1.0.1"));
	CHECK_MEM(s.arp.sha, H_MAC, 6);		/* eth0's address answers */
	CHECK_EQ(eth1.n, 0);
	/* arp_ignore=1: only addresses configured on the incoming interface. */
	int n0 = t.eth0.n;

	ASSERT_EQ(set_sysctl(&t, "net.ipv4.conf.eth0.arp_ignore", "1"), 0);
	inject_arp(&t, BCAST, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, IP("10.1.0.1"));
	CHECK(!last_reply(&t, n0, &s));
	inject_arp(&t, BCAST, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, H);
	CHECK(last_reply(&t, n0, &s));
	harness_fini(&t);
}

TEST(arp_ignore_2_wants_the_sender_in_our_subnet)
{
	struct harness t;
	struct seen s;

	ASSERT_EQ(harness_init(&t, 5), 0);
	ASSERT_EQ(set_sysctl(&t, "net.ipv4.conf.eth0.arp_ignore", "2"), 0);
	inject_arp(&t, BCAST, ARPOP_REQUEST, P_MAC, IP("10.9.9.9"), ZERO_MAC, H);
	CHECK(!last_reply(&t, 0, &s));
	inject_arp(&t, BCAST, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, H);
	CHECK(last_reply(&t, 0, &s));
	harness_fini(&t);
}

TEST(arp_ignore_8_never_answers_and_all_counts)
{
	struct harness t;
	struct seen s;

	ASSERT_EQ(harness_init(&t, 6), 0);
	ASSERT_EQ(set_sysctl(&t, "net.ipv4.conf.all.arp_ignore", "8"), 0);
	inject_arp(&t, BCAST, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, H);
	CHECK(!last_reply(&t, 0, &s));
	harness_fini(&t);
}

TEST(duplicate_address_probe_is_answered)
{
	struct harness t;
	struct seen s;

	ASSERT_EQ(harness_init(&t, 7), 0);
	/* RFC 5227 probe: sender 0.0.0.0. */
	inject_arp(&t, BCAST, ARPOP_REQUEST, P_MAC, 0, ZERO_MAC, H);
	ASSERT(last_reply(&t, 0, &s));
	CHECK_MEM(s.eth.dst, P_MAC, 6);
	CHECK_EQ(s.arp.tpa, 0);
	CHECK_EQ(s.arp.spa, H);
	CHECK_MEM(s.arp.tha, P_MAC, 6);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, 0), 0xff);	/* nothing cached for 0.0.0.0 */
	harness_fini(&t);
}

TEST(arp_filter_answers_only_where_the_reply_would_be_routed)
{
	struct harness t;
	struct wire eth1;

	ASSERT_EQ(harness_init(&t, 8), 0);
	ASSERT(harness_dev(&t, "eth1", &eth1, Q_MAC));
	ASSERT_EQ(ips_addr_add(t.h, "eth1", "10.1.0.1/24"), 0);
	ASSERT_EQ(set_sysctl(&t, "net.ipv4.conf.all.arp_filter", "1"), 0);
	/* A request on eth1 from 10.0.0.2, which we route out of eth0. */
	inject_arp_on(&t, &eth1, BCAST, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, IP("10.1.0.1"));
	CHECK_EQ(eth1.n, 0);
	uint64_t v = 0;

	ips_counter_get(t.h, "TcpExtArpFilter", &v);
	CHECK_EQ(v, 1);
	/* From eth1's own subnet it is answered. */
	inject_arp_on(&t, &eth1, BCAST, ARPOP_REQUEST, P_MAC, IP("10.1.0.2"), ZERO_MAC,
		      IP("10.1.0.1"));
	CHECK_EQ(eth1.n, 1);
	harness_fini(&t);
}

TEST(unsolicited_reply_is_not_learnt_by_default)
{
	struct harness t;

	ASSERT_EQ(harness_init(&t, 9), 0);
	peer_reply(&t, P_MAC, PEER);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), 0xff);
	inject_arp(&t, BCAST, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, PEER);	/* GARP */
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), 0xff);
	harness_fini(&t);
}

TEST(arp_accept_learns_unsolicited_arp)
{
	struct harness t;

	ASSERT_EQ(harness_init(&t, 10), 0);
	ASSERT_EQ(set_sysctl(&t, "net.ipv4.conf.eth0.arp_accept", "1"), 0);
	peer_reply(&t, P_MAC, PEER);	/* unicast reply to us: reachable */
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_REACHABLE);
	/* A gratuitous request: created STALE (requests do not prove reachability). */
	inject_arp(&t, BCAST, ARPOP_REQUEST, Q_MAC, IP("10.0.0.3"), ZERO_MAC, IP("10.0.0.3"));
	CHECK_EQ(neigh_state(&t, t.eth0.dev, IP("10.0.0.3")), NUD_STALE);
	/* arp_accept=2: only senders inside one of our subnets. */
	ASSERT_EQ(set_sysctl(&t, "net.ipv4.conf.eth0.arp_accept", "2"), 0);
	inject_arp(&t, BCAST, ARPOP_REQUEST, Q_MAC, IP("10.7.0.3"), ZERO_MAC, IP("10.7.0.3"));
	CHECK_EQ(neigh_state(&t, t.eth0.dev, IP("10.7.0.3")), 0xff);
	inject_arp(&t, BCAST, ARPOP_REQUEST, Q_MAC, IP("10.0.0.4"), ZERO_MAC, IP("10.0.0.4"));
	CHECK_EQ(neigh_state(&t, t.eth0.dev, IP("10.0.0.4")), NUD_STALE);
	harness_fini(&t);
}

TEST(broadcast_reply_only_makes_stale)
{
	struct harness t;

	ASSERT_EQ(harness_init(&t, 11), 0);
	h_send(&t, t.eth0.dev, PEER, PEER, 1);
	inject_arp(&t, BCAST, ARPOP_REPLY, P_MAC, PEER, H_MAC, H);
	/* STALE, and sending the queued packet through it starts the delay timer. */
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_DELAY);
	CHECK_EQ(frame_parse(&t.eth0.f[t.eth0.n - 1]).tag, 1);	/* queue released */
	/* Nothing confirms it: probed after delay_first_probe_time. */
	run_to_ms(&t, 5000);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_PROBE);
	harness_fini(&t);
}

TEST(locktime_keeps_the_first_of_competing_replies)
{
	struct harness t;
	struct neigh_info ni;

	ASSERT_EQ(harness_init(&t, 12), 0);
	h_send(&t, t.eth0.dev, PEER, PEER, 1);
	run_to_ms(&t, 10);
	peer_reply(&t, P_MAC, PEER);		/* updated at 10 ms */
	run_to_ms(&t, 500);
	peer_reply(&t, Q_MAC, PEER);		/* within locktime (1 s): ignored */
	ASSERT_EQ(neigh_lookup_info(t.eth0.dev, PEER, &ni), 0);
	CHECK_MEM(ni.lladdr, P_MAC, 6);
	run_to_ms(&t, 1011);
	peer_reply(&t, Q_MAC, PEER);		/* after it: the new address wins */
	ASSERT_EQ(neigh_lookup_info(t.eth0.dev, PEER, &ni), 0);
	CHECK_MEM(ni.lladdr, Q_MAC, 6);
	CHECK_EQ(ni.state, NUD_REACHABLE);
	harness_fini(&t);
}

TEST(gratuitous_arp_overrides_within_locktime)
{
	struct harness t;
	struct neigh_info ni;

	ASSERT_EQ(harness_init(&t, 13), 0);
	h_send(&t, t.eth0.dev, PEER, PEER, 1);
	peer_reply(&t, P_MAC, PEER);
	run_to_ms(&t, 100);
	/* The peer moved to another NIC and announces it. */
	inject_arp(&t, BCAST, ARPOP_REQUEST, Q_MAC, PEER, ZERO_MAC, PEER);
	ASSERT_EQ(neigh_lookup_info(t.eth0.dev, PEER, &ni), 0);
	CHECK_MEM(ni.lladdr, Q_MAC, 6);
	CHECK_EQ(ni.state, NUD_STALE);
	harness_fini(&t);
}

TEST(drop_gratuitous_arp_ignores_announcements)
{
	struct harness t;
	struct neigh_info ni;

	ASSERT_EQ(harness_init(&t, 14), 0);
	ASSERT_EQ(set_sysctl(&t, "net.ipv4.conf.eth0.drop_gratuitous_arp", "1"), 0);
	h_send(&t, t.eth0.dev, PEER, PEER, 1);
	peer_reply(&t, P_MAC, PEER);
	inject_arp(&t, BCAST, ARPOP_REQUEST, Q_MAC, PEER, ZERO_MAC, PEER);
	ASSERT_EQ(neigh_lookup_info(t.eth0.dev, PEER, &ni), 0);
	CHECK_MEM(ni.lladdr, P_MAC, 6);
	harness_fini(&t);
}

TEST(request_from_known_neighbour_keeps_it_reachable)
{
	struct harness t;

	ASSERT_EQ(harness_init(&t, 15), 0);
	h_send(&t, t.eth0.dev, PEER, PEER, 1);
	peer_reply(&t, P_MAC, PEER);
	inject_arp(&t, BCAST, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, H);
	/* Same address, "stale" news: __neigh_update() keeps REACHABLE. */
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_REACHABLE);
	harness_fini(&t);
}

TEST(static_entries_resist_arp_and_go_with_the_device)
{
	struct harness t;
	struct neigh_info ni;
	uint32_t s = IP("10.0.0.5");

	ASSERT_EQ(harness_init(&t, 16), 0);
	stack_lock(t.h);
	CHECK_EQ(neigh_add_static(t.eth0.dev, s, Q_MAC, NUD_PERMANENT), 0);
	CHECK_EQ(neigh_add_static(t.eth0.dev, s, NULL, NUD_STALE), 0);	/* keeps lladdr */
	CHECK_EQ(neigh_add_static(t.eth0.dev, s, Q_MAC, NUD_PERMANENT), 0);
	CHECK_EQ(neigh_add_static(t.eth0.dev, IP("10.0.0.6"), NULL, NUD_PERMANENT), -EINVAL);
	CHECK_EQ(neigh_add_static(t.eth0.dev, s, Q_MAC, NUD_INCOMPLETE), -EINVAL);
	stack_unlock(t.h);
	h_send(&t, t.eth0.dev, s, s, 3);
	ASSERT_EQ(t.eth0.n, 1);
	CHECK_MEM(frame_parse(&t.eth0.f[0]).eth.dst, Q_MAC, 6);	/* no ARP */
	run_to_ms(&t, 2000);
	peer_reply(&t, P_MAC, s);
	inject_arp(&t, BCAST, ARPOP_REQUEST, P_MAC, s, ZERO_MAC, s);
	ASSERT_EQ(neigh_lookup_info(t.eth0.dev, s, &ni), 0);
	CHECK_EQ(ni.state, NUD_PERMANENT);
	CHECK_MEM(ni.lladdr, Q_MAC, 6);
	run_to_ms(&t, 500000);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, s), NUD_PERMANENT);
	/* ip neigh del */
	stack_lock(t.h);
	CHECK_EQ(neigh_del(t.eth0.dev, s), 0);
	CHECK_EQ(neigh_del(t.eth0.dev, s), -ENOENT);
	CHECK_EQ(neigh_add_static(t.eth0.dev, s, Q_MAC, NUD_PERMANENT), 0);
	stack_unlock(t.h);
	/* arp_ifdown(): down flushes permanent entries too. */
	ASSERT_EQ(ips_dev_set_up(t.h, "eth0", 0), 0);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, s), 0xff);
	ASSERT_EQ(ips_dev_set_up(t.h, "eth0", 1), 0);
	harness_fini(&t);
}

static int count_cb(void *arg, const struct neigh_info *n)
{
	int *c = arg;

	if (n->state != NUD_NOARP)
		(*c)++;
	return 0;
}

TEST(neigh_foreach_lists_every_entry)
{
	struct harness t;
	int c = 0;

	ASSERT_EQ(harness_init(&t, 17), 0);
	for (int i = 0; i < 40; i++) {	/* enough to grow the hash table twice */
		char a[32];

		snprintf(a, sizeof(a), "10.0.0.%d", 10 + i);
		h_send(&t, t.eth0.dev, IP(a), IP(a), 0);
	}
	stack_lock(t.h);
	neigh_foreach(t.h, count_cb, &c);
	stack_unlock(t.h);
	CHECK_EQ(c, 40);
	for (int i = 0; i < 40; i++) {
		char a[32];

		snprintf(a, sizeof(a), "10.0.0.%d", 10 + i);
		CHECK_EQ(neigh_state(&t, t.eth0.dev, IP(a)), NUD_INCOMPLETE);
	}
	harness_fini(&t);
}

TEST(adding_an_address_sends_nothing)
{
	struct harness t;

	/* Linux 6.x: `ip addr add` on a veth is silent on the wire, arp_notify or not. */
	ASSERT_EQ(harness_init(&t, 18), 0);
	ASSERT_EQ(ips_addr_add(t.h, "eth0", "10.0.5.1/24"), 0);
	ASSERT_EQ(set_sysctl(&t, "net.ipv4.conf.eth0.arp_notify", "1"), 0);
	ASSERT_EQ(ips_addr_add(t.h, "eth0", "10.0.6.1/24"), 0);
	run_to_ms(&t, 1000);
	CHECK_EQ(t.eth0.n, 0);
	harness_fini(&t);
}

TEST(arp_notify_announces_every_address_on_up)
{
	struct harness t;

	ASSERT_EQ(harness_init(&t, 19), 0);
	ASSERT_EQ(ips_addr_add(t.h, "eth0", "10.0.5.1/24"), 0);
	ASSERT_EQ(ips_dev_set_up(t.h, "eth0", 0), 0);
	ASSERT_EQ(ips_dev_set_up(t.h, "eth0", 1), 0);
	CHECK_EQ(t.eth0.n, 0);			/* arp_notify=0: silent */
	ASSERT_EQ(set_sysctl(&t, "net.ipv4.conf.eth0.arp_notify", "1"), 0);
	ASSERT_EQ(ips_dev_set_up(t.h, "eth0", 0), 0);
	ASSERT_EQ(ips_dev_set_up(t.h, "eth0", 1), 0);
	ASSERT_EQ(t.eth0.n, 2);
	uint32_t want[2] = { H, IP("10.0.5.1") };

	for (int i = 0; i < 2; i++) {
		struct seen s = frame_parse(&t.eth0.f[i]);

		CHECK_MEM(s.eth.dst, BCAST, 6);
		CHECK_EQ(s.arp.op, ARPOP_REQUEST);
		CHECK_EQ(s.arp.spa, want[i]);
		CHECK_EQ(s.arp.tpa, want[i]);
		CHECK_MEM(s.arp.tha, ZERO_MAC, 6);
	}
	harness_fini(&t);
}

TEST(arp_announce_picks_the_source_address)
{
	struct harness t;
	struct seen s;

	ASSERT_EQ(harness_init(&t, 20), 0);
	ASSERT_EQ(ips_addr_add(t.h, "eth0", "192.168.9.1/24"), 0);
	/* arp_announce=0: the waiting packet's source, when it is ours. */
	h_send(&t, t.eth0.dev, IP("192.168.9.7"), PEER, 1);
	s = frame_parse(&t.eth0.f[0]);
	CHECK_EQ(s.arp.spa, H);		/* h_send uses 10.0.0.1 as the source */
	harness_fini(&t);

	/* arp_announce=2: the best address for the target, whatever the packet. */
	ASSERT_EQ(harness_init(&t, 21), 0);
	ASSERT_EQ(ips_addr_add(t.h, "eth0", "192.168.9.1/24"), 0);
	ASSERT_EQ(set_sysctl(&t, "net.ipv4.conf.eth0.arp_announce", "2"), 0);
	h_send(&t, t.eth0.dev, IP("192.168.9.7"), IP("192.168.9.7"), 1);
	s = frame_parse(&t.eth0.f[0]);
	CHECK_EQ(s.arp.spa, IP("192.168.9.1"));
	harness_fini(&t);
}

TEST(otherhost_and_own_frames_are_not_processed)
{
	struct harness t;
	struct seen s;
	static const uint8_t other[6] = { 0x02, 9, 9, 9, 9, 9 };

	ASSERT_EQ(harness_init(&t, 22), 0);
	/* A request unicast to someone else (we see it through a hub). */
	inject_arp(&t, other, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, H);
	CHECK(!last_reply(&t, 0, &s));
	/* A frame with our own source address. */
	inject_arp(&t, BCAST, ARPOP_REQUEST, H_MAC, PEER, ZERO_MAC, H);
	CHECK(!last_reply(&t, 0, &s));
	CHECK(t.eth0.dev->rx_dropped >= 1);
	harness_fini(&t);
}

TEST(ieee802_hardware_type_is_accepted)
{
	struct harness t;
	uint8_t f[ETH_HLEN + WIRE_ARP_LEN];
	struct wire_eth e = { .type = ETH_P_ARP };
	struct wire_arp a;
	struct seen s;

	ASSERT_EQ(harness_init(&t, 23), 0);
	memcpy(e.dst, BCAST, 6);
	memcpy(e.src, P_MAC, 6);
	wire_eth_emit(f, &e);
	wire_arp_init(&a, ARPOP_REQUEST);
	a.htype = ARPHRD_IEEE802;
	memcpy(a.sha, P_MAC, 6);
	a.spa = PEER;
	a.tpa = H;
	wire_arp_emit(f + ETH_HLEN, &a);
	wire_inject(&t, &t.eth0, f, sizeof(f));
	CHECK(last_reply(&t, 0, &s));
	/* A different protocol type is not ours to answer. */
	a.ptype = 0x86dd;
	a.htype = ARPHRD_ETHER;
	wire_arp_emit(f + ETH_HLEN, &a);
	int n0 = t.eth0.n;

	wire_inject(&t, &t.eth0, f, sizeof(f));
	CHECK(!last_reply(&t, n0, &s));
	harness_fini(&t);
}

/* h routes 10.1.0.0/24 out of eth1; with forwarding and proxy_arp on eth0 it answers
 * on eth0 for hosts behind eth1. */
static void proxy_setup(struct harness *t, struct wire *eth1)
{
	harness_dev(t, "eth1", eth1, Q_MAC);
	ips_addr_add(t->h, "eth1", "10.1.0.1/24");
	set_sysctl(t, "net.ipv4.ip_forward", "1");
	set_sysctl(t, "net.ipv4.conf.eth0.proxy_arp", "1");
}

TEST(proxy_arp_answers_broadcasts_after_a_random_delay)
{
	struct harness t;
	struct wire eth1;
	struct seen s;

	ASSERT_EQ(harness_init(&t, 30), 0);
	proxy_setup(&t, &eth1);
	inject_arp(&t, BCAST, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, IP("10.1.0.5"));
	CHECK(!last_reply(&t, 0, &s));		/* not at once */
	run_to_ms(&t, 800);			/* within proxy_delay (0.8 s) */
	ASSERT(last_reply(&t, 0, &s));
	CHECK_EQ(s.arp.spa, IP("10.1.0.5"));
	CHECK_MEM(s.arp.sha, H_MAC, 6);
	CHECK_MEM(s.eth.dst, P_MAC, 6);
	CHECK(t.eth0.f[t.eth0.n - 1].t < H_MS(800));
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_STALE);
	harness_fini(&t);
}

TEST(proxy_arp_answers_unicast_requests_at_once)
{
	struct harness t;
	struct wire eth1;
	struct seen s;

	ASSERT_EQ(harness_init(&t, 31), 0);
	proxy_setup(&t, &eth1);
	inject_arp(&t, H_MAC, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, IP("10.1.0.5"));
	CHECK(last_reply(&t, 0, &s));
	harness_fini(&t);
}

TEST(proxy_arp_needs_forwarding_and_another_device)
{
	struct harness t;
	struct wire eth1;
	struct seen s;

	ASSERT_EQ(harness_init(&t, 32), 0);
	proxy_setup(&t, &eth1);
	/* Routed back out of eth0 itself: the owner answers, not us. */
	inject_arp(&t, H_MAC, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, IP("10.0.0.7"));
	CHECK(!last_reply(&t, 0, &s));
	/* Not forwarding: no proxy. */
	ASSERT_EQ(set_sysctl(&t, "net.ipv4.ip_forward", "0"), 0);
	inject_arp(&t, H_MAC, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, IP("10.1.0.5"));
	CHECK(!last_reply(&t, 0, &s));
	/* Device down while a proxied request waits: it is dropped with it. */
	ASSERT_EQ(set_sysctl(&t, "net.ipv4.ip_forward", "1"), 0);
	inject_arp(&t, BCAST, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, IP("10.1.0.5"));
	ASSERT_EQ(ips_dev_set_up(t.h, "eth0", 0), 0);
	run_to_ms(&t, 2000);
	CHECK(!last_reply(&t, 0, &s));
	ASSERT_EQ(ips_dev_set_up(t.h, "eth0", 1), 0);
	harness_fini(&t);
}

TEST(proxy_arp_pvlan_answers_on_the_same_segment)
{
	struct harness t;
	struct seen s;

	ASSERT_EQ(harness_init(&t, 33), 0);
	set_sysctl(&t, "net.ipv4.ip_forward", "1");
	set_sysctl(&t, "net.ipv4.conf.eth0.proxy_arp_pvlan", "1");
	inject_arp(&t, H_MAC, ARPOP_REQUEST, P_MAC, PEER, ZERO_MAC, IP("10.0.0.7"));
	ASSERT(last_reply(&t, 0, &s));
	CHECK_EQ(s.arp.spa, IP("10.0.0.7"));
	CHECK_MEM(s.arp.sha, H_MAC, 6);
	harness_fini(&t);
}

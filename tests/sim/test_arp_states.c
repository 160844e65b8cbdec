/* The neighbour state machine with Linux's default timers (net.ipv4.neigh.*:
 * base_reachable_time_ms 30000, delay_first_probe_time 5 s, retrans_time_ms 1000,
 * ucast_solicit 3, mcast_solicit 3), on the virtual clock, exact to the millisecond.
 * The expected times are those of net/core/neighbour.c (neigh_timer_handler(),
 * __neigh_event_send(), __neigh_update()); HZ/100 = 10 ms is the timer's minimum step. */
#include "test_arp_harness.h"

TEST_MAIN

#define PEER IP("10.0.0.2")

/* Resolve 10.0.0.2: h sends at t=0, the peer replies at t=100 ms. */
static void resolve(struct harness *t)
{
	h_send(t, t->eth0.dev, PEER, PEER, 1);
	run_to_ms(t, 100);
	peer_reply(t, P_MAC, PEER);
}

TEST(first_packet_broadcasts_a_request_and_waits)
{
	struct harness t;

	ASSERT_EQ(harness_init(&t, 1), 0);
	ASSERT_EQ(h_send(&t, t.eth0.dev, PEER, PEER, 7), 0);
	ASSERT_EQ(t.eth0.n, 1);
	struct seen s = frame_parse(&t.eth0.f[0]);

	CHECK_EQ(t.eth0.f[0].t, 0);
	CHECK_MEM(s.eth.dst, BCAST, 6);
	CHECK_MEM(s.eth.src, H_MAC, 6);
	CHECK_EQ(s.eth.type, ETH_P_ARP);
	CHECK_EQ(s.arp.op, ARPOP_REQUEST);
	CHECK_MEM(s.arp.sha, H_MAC, 6);
	CHECK_EQ(s.arp.spa, IP("10.0.0.1"));	/* the waiting packet's source */
	CHECK_MEM(s.arp.tha, ZERO_MAC, 6);
	CHECK_EQ(s.arp.tpa, PEER);
	CHECK_EQ(t.eth0.f[0].len, ETH_HLEN + WIRE_ARP_LEN);	/* 42, unpadded, as Linux */
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_INCOMPLETE);
	harness_fini(&t);
}

TEST(reply_makes_reachable_and_releases_the_queue)
{
	struct harness t;
	struct neigh_info ni;

	ASSERT_EQ(harness_init(&t, 2), 0);
	h_send(&t, t.eth0.dev, PEER, PEER, 1);
	h_send(&t, t.eth0.dev, PEER, PEER, 2);
	CHECK_EQ(t.eth0.n, 1);			/* one request for both */
	run_to_ms(&t, 100);
	peer_reply(&t, P_MAC, PEER);
	ASSERT_EQ(t.eth0.n, 3);
	for (int i = 1; i <= 2; i++) {
		struct seen s = frame_parse(&t.eth0.f[i]);

		CHECK_EQ(s.eth.type, ETH_P_IP);
		CHECK_MEM(s.eth.dst, P_MAC, 6);
		CHECK_EQ(s.tag, (uint32_t)i);	/* oldest first */
		CHECK_EQ(t.eth0.f[i].t, H_MS(100));
	}
	ASSERT_EQ(neigh_lookup_info(t.eth0.dev, PEER, &ni), 0);
	CHECK_EQ(ni.state, NUD_REACHABLE);
	CHECK_MEM(ni.lladdr, P_MAC, 6);
	CHECK_EQ(ni.confirmed_ms, 100);
	/* Later packets go at once. */
	h_send(&t, t.eth0.dev, PEER, PEER, 3);
	CHECK_EQ(t.eth0.n, 4);
	harness_fini(&t);
}

TEST(incomplete_sends_three_broadcasts_then_fails)
{
	struct harness t;

	ASSERT_EQ(harness_init(&t, 3), 0);
	h_send(&t, t.eth0.dev, PEER, PEER, 1);
	run_to_ms(&t, 2999);
	ASSERT_EQ(t.eth0.n, 3);
	for (int i = 0; i < 3; i++) {
		struct seen s = frame_parse(&t.eth0.f[i]);

		CHECK_EQ(t.eth0.f[i].t, H_MS(1000 * i));
		CHECK_MEM(s.eth.dst, BCAST, 6);
		CHECK_EQ(s.arp.op, ARPOP_REQUEST);
	}
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_INCOMPLETE);
	run_to_ms(&t, 3000);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_FAILED);
	run_to_ms(&t, 10000);
	CHECK_EQ(count_arp(&t.eth0, 0, ARPOP_REQUEST), 3);	/* FAILED: quiet */
	CHECK_EQ(neigh_get_stats(t.h)->res_failed, 1);
	harness_fini(&t);
}

TEST(failed_resolution_reports_every_queued_packet)
{
	struct harness t;
	uint64_t unreach0;

	ASSERT_EQ(harness_init(&t, 4), 0);
	ips_counter_get(t.h, "IcmpOutDestUnreachs", &unreach0);
	for (uint32_t i = 0; i < 4; i++)
		h_send(&t, t.eth0.dev, PEER, PEER, i);
	run_to_ms(&t, 3000);
	CHECK_EQ(neigh_get_stats(t.h)->link_failures, 4);
	/* ipv4_link_failure(): host unreachable to ourselves, the sender (rate limited:
	 * at least the first goes out). */
	uint64_t unreach;

	ips_counter_get(t.h, "IcmpOutDestUnreachs", &unreach);
	CHECK(unreach > unreach0);
	harness_fini(&t);
}

TEST(a_failed_entry_resolves_again_on_the_next_packet)
{
	struct harness t;

	ASSERT_EQ(harness_init(&t, 5), 0);
	h_send(&t, t.eth0.dev, PEER, PEER, 1);
	run_to_ms(&t, 5000);
	ASSERT_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_FAILED);
	int before = t.eth0.n;

	h_send(&t, t.eth0.dev, PEER, PEER, 2);
	CHECK_EQ(t.eth0.n, before + 1);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_INCOMPLETE);
	peer_reply(&t, P_MAC, PEER);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_REACHABLE);
	struct seen s = frame_parse(&t.eth0.f[t.eth0.n - 1]);

	CHECK_EQ(s.tag, 2);
	harness_fini(&t);
}

TEST(reachable_time_is_random_between_half_and_one_and_a_half_base)
{
	uint64_t seen_lo = UINT64_MAX, seen_hi = 0;

	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct harness t;

		ASSERT_EQ(harness_init(&t, seed), 0);
		uint64_t r = neigh_reachable_time_ms(t.eth0.dev);

		CHECK(r >= 15000 && r < 45000);
		seen_lo = r < seen_lo ? r : seen_lo;
		seen_hi = r > seen_hi ? r : seen_hi;
		/* A new base re-draws at once. */
		ASSERT_EQ(set_sysctl(&t, "net.ipv4.neigh.eth0.base_reachable_time_ms", "1000"), 0);
		r = neigh_reachable_time_ms(t.eth0.dev);
		CHECK(r >= 500 && r < 1500);
		harness_fini(&t);
	}
	CHECK(seen_hi - seen_lo > 5000);
}

TEST(reachable_becomes_stale_after_reachable_time)
{
	struct harness t;

	ASSERT_EQ(harness_init(&t, 6), 0);
	resolve(&t);
	uint64_t r = neigh_reachable_time_ms(t.eth0.dev);

	/* The timer fires at confirmed + reachable_time, finds "still alive" (<=) and
	 * looks again HZ/100 later. */
	run_to_ms(&t, 100 + r + 9);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_REACHABLE);
	run_to_ms(&t, 100 + r + 10);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_STALE);
	/* STALE waits for traffic: no probes. */
	int n = t.eth0.n;

	run_to_ms(&t, 100 + r + 50000);
	CHECK_EQ(t.eth0.n, n);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_STALE);
	harness_fini(&t);
}

TEST(confirmation_keeps_an_entry_reachable)
{
	struct harness t;

	ASSERT_EQ(harness_init(&t, 7), 0);
	resolve(&t);
	uint64_t r = neigh_reachable_time_ms(t.eth0.dev);

	run_to_ms(&t, 100 + r - 1000);
	stack_lock(t.h);
	neigh_confirm(t.eth0.dev, PEER);	/* e.g. TCP saw new data acked */
	stack_unlock(t.h);
	uint64_t c = now_ms_w(&t);

	run_to_ms(&t, c + r + 9);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_REACHABLE);
	run_to_ms(&t, c + r + 10);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_STALE);
	harness_fini(&t);
}

TEST(reachable_in_use_goes_to_delay_not_stale)
{
	struct harness t;

	ASSERT_EQ(harness_init(&t, 8), 0);
	resolve(&t);
	uint64_t r = neigh_reachable_time_ms(t.eth0.dev);
	uint64_t expire = 100 + r + 10;

	/* Used within delay_first_probe_time of the expiry. */
	run_to_ms(&t, expire - 3000);
	h_send(&t, t.eth0.dev, PEER, PEER, 9);
	run_to_ms(&t, expire);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_DELAY);
	harness_fini(&t);
}

/* STALE -> (packet) DELAY -> 5 s -> PROBE: unicast probes every second. */
static uint64_t to_probe(struct harness *t, uint64_t *t_send)
{
	resolve(t);
	uint64_t r = neigh_reachable_time_ms(t->eth0.dev);

	run_to_ms(t, 100 + r + 1000);
	if (neigh_state(t, t->eth0.dev, PEER) != NUD_STALE)
		return 0;
	*t_send = now_ms_w(t);
	h_send(t, t->eth0.dev, PEER, PEER, 42);
	return *t_send + 5000;
}

TEST(stale_packet_goes_at_once_and_delays_a_probe)
{
	struct harness t;
	uint64_t ts;

	ASSERT_EQ(harness_init(&t, 9), 0);
	uint64_t probe_at = to_probe(&t, &ts);

	ASSERT(probe_at);
	struct seen s = frame_parse(&t.eth0.f[t.eth0.n - 1]);

	CHECK_EQ(s.eth.type, ETH_P_IP);	/* sent with the cached address */
	CHECK_MEM(s.eth.dst, P_MAC, 6);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_DELAY);
	int n = t.eth0.n;

	run_to_ms(&t, probe_at - 1);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_DELAY);
	CHECK_EQ(t.eth0.n, n);
	run_to_ms(&t, probe_at);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_PROBE);
	ASSERT_EQ(t.eth0.n, n + 1);
	s = frame_parse(&t.eth0.f[n]);
	CHECK_EQ(s.arp.op, ARPOP_REQUEST);
	CHECK_MEM(s.eth.dst, P_MAC, 6);		/* unicast probe */
	CHECK_MEM(s.arp.tha, ZERO_MAC, 6);
	CHECK_EQ(s.arp.tpa, PEER);
	CHECK_EQ(s.arp.spa, IP("10.0.0.1"));
	harness_fini(&t);
}

TEST(probe_answered_becomes_reachable)
{
	struct harness t;
	uint64_t ts;

	ASSERT_EQ(harness_init(&t, 10), 0);
	uint64_t probe_at = to_probe(&t, &ts);

	ASSERT(probe_at);
	run_to_ms(&t, probe_at + 50);
	ASSERT_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_PROBE);
	peer_reply(&t, P_MAC, PEER);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_REACHABLE);
	int n = t.eth0.n;

	run_to_ms(&t, probe_at + 5000);
	CHECK_EQ(t.eth0.n, n);			/* no more probes */
	harness_fini(&t);
}

TEST(confirmed_during_delay_skips_the_probe)
{
	struct harness t;
	uint64_t ts;

	ASSERT_EQ(harness_init(&t, 11), 0);
	uint64_t probe_at = to_probe(&t, &ts);

	ASSERT(probe_at);
	run_to_ms(&t, ts + 1000);
	stack_lock(t.h);
	neigh_confirm(t.eth0.dev, PEER);
	stack_unlock(t.h);
	int n = t.eth0.n;

	run_to_ms(&t, probe_at);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_REACHABLE);
	CHECK_EQ(t.eth0.n, n);
	harness_fini(&t);
}

TEST(probe_unanswered_fails_after_three_unicasts)
{
	struct harness t;
	uint64_t ts;

	ASSERT_EQ(harness_init(&t, 12), 0);
	uint64_t probe_at = to_probe(&t, &ts);

	ASSERT(probe_at);
	int n = t.eth0.n;

	run_to_ms(&t, probe_at + 2999);
	ASSERT_EQ(t.eth0.n, n + 3);
	for (int i = 0; i < 3; i++) {
		struct seen s = frame_parse(&t.eth0.f[n + i]);

		CHECK_EQ(t.eth0.f[n + i].t, H_MS(probe_at + 1000 * i));
		CHECK_MEM(s.eth.dst, P_MAC, 6);
	}
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_PROBE);
	/* Packets still flow to the cached address while probing. */
	h_send(&t, t.eth0.dev, PEER, PEER, 77);
	CHECK_EQ(frame_parse(&t.eth0.f[t.eth0.n - 1]).tag, 77);
	run_to_ms(&t, probe_at + 3000);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_FAILED);
	harness_fini(&t);
}

TEST(mcast_resolicit_broadcasts_after_failed_unicast_probes)
{
	struct harness t;
	uint64_t ts;

	ASSERT_EQ(harness_init(&t, 13), 0);
	ASSERT_EQ(set_sysctl(&t, "net.ipv4.neigh.eth0.mcast_resolicit", "2"), 0);
	uint64_t probe_at = to_probe(&t, &ts);

	ASSERT(probe_at);
	int n = t.eth0.n;

	/* neigh_max_probes() in PROBE: ucast_solicit + app_solicit + mcast_resolicit;
	 * arp_solicit() broadcasts the probes past ucast_solicit. */
	run_to_ms(&t, probe_at + 4999);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_PROBE);
	ASSERT_EQ(t.eth0.n, n + 5);
	CHECK_MEM(frame_parse(&t.eth0.f[n + 2]).eth.dst, P_MAC, 6);
	CHECK_MEM(frame_parse(&t.eth0.f[n + 3]).eth.dst, BCAST, 6);
	CHECK_MEM(frame_parse(&t.eth0.f[n + 4]).eth.dst, BCAST, 6);
	CHECK_EQ(t.eth0.f[n + 4].t, H_MS(probe_at + 4000));
	run_to_ms(&t, probe_at + 5000);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_FAILED);
	harness_fini(&t);
}

TEST(unres_qlen_bytes_drops_the_oldest)
{
	struct harness t;
	struct pkb *probe;
	size_t ts;
	char v[32];

	ASSERT_EQ(harness_init(&t, 14), 0);
	probe = stack_pkb_alloc(t.h, 28);
	ts = pkb_truesize(probe);
	pkb_free(probe);
	snprintf(v, sizeof(v), "%zu", 3 * ts);
	ASSERT_EQ(set_sysctl(&t, "net.ipv4.neigh.eth0.unres_qlen_bytes", v), 0);
	for (uint32_t i = 1; i <= 5; i++)
		h_send(&t, t.eth0.dev, PEER, PEER, i);
	CHECK_EQ(neigh_get_stats(t.h)->unres_discards, 2);
	struct neigh_info ni;

	ASSERT_EQ(neigh_lookup_info(t.eth0.dev, PEER, &ni), 0);
	CHECK_EQ(ni.queued, 3);
	peer_reply(&t, P_MAC, PEER);
	ASSERT_EQ(t.eth0.n, 4);
	for (int i = 1; i <= 3; i++)
		CHECK_EQ(frame_parse(&t.eth0.f[i]).tag, (uint32_t)(i + 2));
	harness_fini(&t);
}

TEST(default_unres_qlen_bytes_is_linux_default)
{
	struct harness t;
	char buf[32];

	ASSERT_EQ(harness_init(&t, 15), 0);
	ASSERT(ips_sysctl_get(t.h, "net.ipv4.neigh.eth0.unres_qlen_bytes", buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "212992");
	for (uint32_t i = 0; i < 200; i++)
		h_send(&t, t.eth0.dev, PEER, PEER, i);
	struct neigh_info ni;

	ASSERT_EQ(neigh_lookup_info(t.eth0.dev, PEER, &ni), 0);
	CHECK(ni.queued > 50 && ni.queued < 200);
	CHECK_EQ(neigh_get_stats(t.h)->unres_discards, 200 - ni.queued);
	harness_fini(&t);
}

TEST(no_multicast_probes_means_immediate_failure)
{
	struct harness t;

	ASSERT_EQ(harness_init(&t, 16), 0);
	ASSERT_EQ(set_sysctl(&t, "net.ipv4.neigh.eth0.mcast_solicit", "0"), 0);
	h_send(&t, t.eth0.dev, PEER, PEER, 1);
	CHECK_EQ(t.eth0.n, 0);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_FAILED);
	harness_fini(&t);
}

TEST(broadcast_and_multicast_next_hops_need_no_arp)
{
	struct harness t;
	static const uint8_t mc[6] = { 0x01, 0x00, 0x5e, 0x7f, 0x00, 0x05 };

	ASSERT_EQ(harness_init(&t, 17), 0);
	h_send(&t, t.eth0.dev, IP("255.255.255.255"), IP("255.255.255.255"), 1);
	h_send(&t, t.eth0.dev, IP("10.0.0.255"), IP("10.0.0.255"), 2);
	h_send(&t, t.eth0.dev, IP("239.255.0.5"), IP("239.255.0.5"), 3);
	ASSERT_EQ(t.eth0.n, 3);
	CHECK_MEM(frame_parse(&t.eth0.f[0]).eth.dst, BCAST, 6);
	CHECK_MEM(frame_parse(&t.eth0.f[1]).eth.dst, BCAST, 6);
	CHECK_MEM(frame_parse(&t.eth0.f[2]).eth.dst, mc, 6);	/* low 23 bits */
	CHECK_EQ(neigh_state(&t, t.eth0.dev, IP("10.0.0.255")), NUD_NOARP);
	harness_fini(&t);
}

TEST(device_down_flushes_and_drops)
{
	struct harness t;

	ASSERT_EQ(harness_init(&t, 18), 0);
	h_send(&t, t.eth0.dev, PEER, PEER, 1);
	ASSERT_EQ(ips_dev_set_up(t.h, "eth0", 0), 0);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), 0xff);
	CHECK_EQ(h_send(&t, t.eth0.dev, PEER, PEER, 2), -ENETDOWN);
	CHECK(t.eth0.dev->tx_dropped >= 1);
	run_to_ms(&t, 5000);
	CHECK_EQ(t.eth0.n, 1);			/* the first request only */
	ASSERT_EQ(ips_dev_set_up(t.h, "eth0", 1), 0);
	harness_fini(&t);
}

TEST(idle_entries_leave_no_timers_and_are_collected)
{
	struct harness t;

	ASSERT_EQ(harness_init(&t, 19), 0);
	ASSERT_EQ(set_sysctl(&t, "net.ipv4.neigh.default.gc_thresh1", "0"), 0);
	resolve(&t);
	/* REACHABLE -> STALE, then the sweep (every 15 s) collects it once unused for
	 * gc_stale_time (60 s). */
	run_to_ms(&t, 60100);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_STALE);
	run_to_ms(&t, 75000);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), 0xff);
	CHECK(neigh_get_stats(t.h)->periodic_gc_runs >= 4);
	/* No entries: no sweep, nothing pending in the link layer. */
	uint64_t runs = neigh_get_stats(t.h)->periodic_gc_runs;

	run_to_ms(&t, 200000);
	CHECK_EQ(neigh_get_stats(t.h)->periodic_gc_runs, runs);
	harness_fini(&t);
}

TEST(gc_waits_for_gc_thresh1_entries)
{
	struct harness t;

	ASSERT_EQ(harness_init(&t, 20), 0);
	resolve(&t);
	run_to_ms(&t, 300000);
	CHECK_EQ(neigh_state(&t, t.eth0.dev, PEER), NUD_STALE);	/* 1 < 128 */
	harness_fini(&t);
}

TEST(table_full_refuses_new_entries)
{
	struct harness t;

	ASSERT_EQ(harness_init(&t, 21), 0);
	ASSERT_EQ(set_sysctl(&t, "net.ipv4.neigh.default.gc_thresh2", "2"), 0);
	ASSERT_EQ(set_sysctl(&t, "net.ipv4.neigh.default.gc_thresh3", "3"), 0);
	char a[32];

	for (int i = 0; i < 3; i++) {
		snprintf(a, sizeof(a), "10.0.0.%d", 10 + i);
		ASSERT_EQ(h_send(&t, t.eth0.dev, IP(a), IP(a), 0), 0);
	}
	/* All three in INCOMPLETE, recently updated: nothing to collect. */
	CHECK_EQ(h_send(&t, t.eth0.dev, IP("10.0.0.20"), IP("10.0.0.20"), 0), -ENOBUFS);
	CHECK_EQ(neigh_get_stats(t.h)->table_fulls, 1);
	/* Once they failed, forced gc makes room. */
	run_to_ms(&t, 10000);
	CHECK_EQ(h_send(&t, t.eth0.dev, IP("10.0.0.20"), IP("10.0.0.20"), 0), 0);
	CHECK(neigh_get_stats(t.h)->forced_gc_runs >= 2);
	harness_fini(&t);
}

/* IP options through a router: `ping -R` and `ping -T tsonly|tsandaddr|tsprespec` from A
 * to B through R must come back as they do between Linux hosts.
 *
 * Reference: netns A (10.0.1.1) -- R (10.0.1.254 | 10.0.2.254, forwarding) -- B
 * (10.0.2.1) on Linux 6.18, the echo reply's options captured on A's veth with scapy:
 *   ping -R         07 27 18 | 10.0.1.1 10.0.2.254 10.0.2.1 10.0.2.1 10.0.1.254 | 0...
 *   -T tsonly       44 28 19 00 | 5 times
 *   -T tsandaddr    44 24 25 11 | 10.0.1.1 t 10.0.1.254 t 10.0.2.1 t 10.0.2.1 t
 *   -T tsprespec 10.0.1.254 10.0.2.1
 *                   44 14 15 03 | 10.0.1.254 t 10.0.2.1 t
 * Here the listener sees the reply after A's own receive processing, which adds A's
 * entry (RR: 10.0.1.1; tsonly: a sixth time; tsandaddr: overflow 2) exactly as ping on
 * Linux then prints it (RR: six addresses, "Unrecorded hops: 2"). */
#include "ip_test_util.h"

static uint32_t now_ts(ips_world *w)
{
	return (uint32_t)((ips_world_now_ns(w) / NS_PER_MS) % 86400000u);
}

static const uint8_t *reply_opts(struct icmp_seen *s, size_t *len)
{
	*len = (size_t)((s->m[0].pkt[0] & 0x0f) * 4) - 20;
	return s->m[0].pkt + 20;
}

TEST(record_route_shows_every_hop_as_linux)
{
	struct arb t;
	struct icmp_seen seen;
	/* ping -R: NOP, RR length 39, nine slots */
	uint8_t opt[40] = { IPOPT_NOP, IPOPT_RR, 39, 4 };
	static const char *hops[] = { "10.0.1.1", "10.0.2.254", "10.0.2.1", "10.0.2.1",
				      "10.0.1.254", "10.0.1.1" };
	const uint8_t *o;
	size_t ol;

	arb_setup(&t, true, 0);
	icmp_seen_start(t.a, &seen);
	ASSERT_EQ(ping_opts(t.a, "10.0.2.1", 56, -1, opt, sizeof(opt), -1), 0);
	run_ms(t.w, 500);
	ASSERT_EQ(seen.n, 1);
	CHECK_EQ(seen.m[0].type, ICMP_ECHOREPLY);
	o = reply_opts(&seen, &ol);
	ASSERT_EQ(ol, 40);
	/* the reply carries the RR option alone (the NOP is not echoed) */
	CHECK_EQ(o[0], IPOPT_RR);
	CHECK_EQ(o[1], 39);
	CHECK_EQ(o[2], 4 + 4 * 6);
	for (int i = 0; i < 6; i++)
		CHECK_EQ(get_in4(o + 3 + 4 * i), A(hops[i]));
	for (int i = 6; i < 9; i++)
		CHECK_EQ(get_in4(o + 3 + 4 * i), 0);
	icmp_seen_stop(t.a, &seen);
	arb_teardown(&t);
}

TEST(timestamp_only_collects_a_time_per_hop)
{
	struct arb t;
	struct icmp_seen seen;
	uint8_t opt[40] = { IPOPT_TS, 40, 5, IPOPT_TS_TSONLY };
	const uint8_t *o;
	uint32_t ts;
	size_t ol;

	arb_setup(&t, true, 0);
	icmp_seen_start(t.a, &seen);
	ts = now_ts(t.w);
	ASSERT_EQ(ping_opts(t.a, "10.0.2.1", 56, -1, opt, sizeof(opt), -1), 0);
	run_ms(t.w, 500);
	ASSERT_EQ(seen.n, 1);
	o = reply_opts(&seen, &ol);
	ASSERT_EQ(ol, 40);
	CHECK_EQ(o[0], IPOPT_TS);
	CHECK_EQ(o[1], 40);
	CHECK_EQ(o[2], 5 + 4 * 6);
	CHECK_EQ(o[3], IPOPT_TS_TSONLY);
	for (int i = 0; i < 6; i++)
		CHECK_EQ(get_be32(o + 4 + 4 * i), ts);	/* the links have no delay */
	CHECK_EQ(get_be32(o + 4 + 4 * 6), 0);
	icmp_seen_stop(t.a, &seen);
	arb_teardown(&t);
}

TEST(timestamp_and_address_records_input_addresses_then_overflows)
{
	struct arb t;
	struct icmp_seen seen;
	uint8_t opt[36] = { IPOPT_TS, 36, 5, IPOPT_TS_TSANDADDR };
	/* R records the address it received on (spec_dst), not its output address:
	 * only a source-route hit makes ip_forward_options() rewrite a TS address. */
	static const char *addrs[] = { "10.0.1.1", "10.0.1.254", "10.0.2.1", "10.0.2.1" };
	const uint8_t *o;
	uint32_t ts;
	size_t ol;

	arb_setup(&t, true, 0);
	icmp_seen_start(t.a, &seen);
	ts = now_ts(t.w);
	ASSERT_EQ(ping_opts(t.a, "10.0.2.1", 56, -1, opt, sizeof(opt), -1), 0);
	run_ms(t.w, 500);
	ASSERT_EQ(seen.n, 1);
	o = reply_opts(&seen, &ol);
	ASSERT_EQ(ol, 36);
	CHECK_EQ(o[1], 36);
	CHECK_EQ(o[2], 37);		/* full */
	CHECK_EQ(o[3], 0x21);		/* two unrecorded hops (R back, A), flag 1 */
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(get_in4(o + 4 + 8 * i), A(addrs[i]));
		CHECK_EQ(get_be32(o + 8 + 8 * i), ts);
	}
	icmp_seen_stop(t.a, &seen);
	arb_teardown(&t);
}

TEST(timestamp_prespecified_is_filled_only_by_the_named_hosts)
{
	struct arb t;
	struct icmp_seen seen;
	uint8_t opt[20] = { IPOPT_TS, 20, 5, IPOPT_TS_PRESPEC };
	const uint8_t *o;
	uint32_t ts;
	size_t ol;

	put_in4(opt + 4, A("10.0.1.254"));
	put_in4(opt + 12, A("10.0.2.1"));
	arb_setup(&t, true, 0);
	icmp_seen_start(t.a, &seen);
	ts = now_ts(t.w);
	ASSERT_EQ(ping_opts(t.a, "10.0.2.1", 56, -1, opt, sizeof(opt), -1), 0);
	run_ms(t.w, 500);
	ASSERT_EQ(seen.n, 1);
	o = reply_opts(&seen, &ol);
	ASSERT_EQ(ol, 20);
	CHECK_EQ(o[2], 21);
	CHECK_EQ(o[3], IPOPT_TS_PRESPEC);	/* no overflow count for flag 3 */
	CHECK_EQ(get_in4(o + 4), A("10.0.1.254"));
	CHECK_EQ(get_be32(o + 8), ts);
	CHECK_EQ(get_in4(o + 12), A("10.0.2.1"));
	CHECK_EQ(get_be32(o + 16), ts);
	icmp_seen_stop(t.a, &seen);
	arb_teardown(&t);
}

/* With accept_source_route on (conf.all and the device), a loose source route through
 * R to B is followed: R takes the next hop from the option and records itself. */
TEST(loose_source_route_is_followed_when_accepted)
{
	struct arb t;
	struct icmp_seen seen;
	uint8_t opt[40];
	uint32_t hops[2] = { A("10.0.1.254"), A("10.0.2.1") };
	size_t ol;

	arb_setup(&t, true, 0);
	ips_sysctl_set(t.r, "net.ipv4.conf.all.accept_source_route", "1");
	ips_sysctl_set(t.r, "net.ipv4.conf.eth0.accept_source_route", "1");
	ips_sysctl_set(t.r, "net.ipv4.conf.eth1.accept_source_route", "1");
	ips_sysctl_set(t.b, "net.ipv4.conf.all.accept_source_route", "1");
	ips_sysctl_set(t.b, "net.ipv4.conf.eth0.accept_source_route", "1");
	/* The reply carries the reversed route, which A must accept too. */
	ips_sysctl_set(t.a, "net.ipv4.conf.all.accept_source_route", "1");
	ips_sysctl_set(t.a, "net.ipv4.conf.eth0.accept_source_route", "1");
	ol = wire_ipv4_opts_pad(opt, wire_ipv4_opts_build_srr(opt, false, hops, 2));
	icmp_seen_start(t.a, &seen);
	ASSERT_EQ(ping_opts(t.a, "10.0.2.1", 56, -1, opt, ol, -1), 0);
	run_ms(t.w, 500);
	CHECK_EQ(ctr(t.r, "IpForwDatagrams"), 2);
	ASSERT_EQ(seen.n, 1);
	CHECK_EQ(seen.m[0].type, ICMP_ECHOREPLY);
	CHECK_EQ(seen.m[0].saddr, A("10.0.2.1"));
	icmp_seen_stop(t.a, &seen);
	arb_teardown(&t);
}

TEST_MAIN

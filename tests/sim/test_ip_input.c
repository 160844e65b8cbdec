/* IPv4 receive checks, one packet each, and the exact counters they move.
 *
 * Every expected counter string is what Linux 6.18 moved for the same bytes: netns R
 * (10.0.1.254/24 on a veth, ip_forward as stated) received each packet crafted with
 * scapy from netns A, `nstat -asz` before and after, Ip/IpExt counters that changed,
 * sorted by name. Here the stack R gets the packet on a callback device cb0
 * (10.0.1.254/24; its replies land in `sent`). */
#include "ip_test_util.h"
#include "link/netdev.h"

struct inj {
	ips_world *w;
	ips_stack *r;
	int nsent;
	uint8_t sent[8][1600];
	size_t sent_len[8];
	struct ctr_snap before;
};

static void cb_out(void *arg, const void *pkt, size_t len)
{
	struct inj *t = arg;

	if (t->nsent < 8) {
		memcpy(t->sent[t->nsent], pkt, len < 1600 ? len : 1600);
		t->sent_len[t->nsent++] = len;
	}
}

static void inj_setup(struct inj *t, bool fwd)
{
	memset(t, 0, sizeof(*t));
	t->w = ips_world_new(3);
	t->r = ips_world_add_stack(t->w, "R");
	ips_cbdev_new(t->r, "cb0", 1500, cb_out, t);
	ips_addr_add(t->r, "cb0", "10.0.1.254/24");
	if (fwd)
		ips_sysctl_set(t->r, "net.ipv4.ip_forward", "1");
	ips_world_run_for(t->w, NS_PER_SEC);
	t->nsent = 0;
	ctr_snap(t->r, &t->before);
}

static const char *inj_send(struct inj *t, const void *pkt, size_t len)
{
	ips_cbdev_inject(t->r, "cb0", pkt, len);
	ips_world_run_for(t->w, 100 * NS_PER_MS);
	return ctr_diff(t->r, &t->before, "Ip");
}

/* Straight into ip4_rcv(), as an Ethernet device hands over an ETH_P_IP frame (a raw
 * IP device sorts by the version nibble and would not pass a version-5 packet to IP). */
static const char *inj_rcv(struct inj *t, const void *pkt, size_t len)
{
	struct netdev *dev;
	struct pkb *pkb;

	stack_lock(t->r);
	dev = stack_dev_by_name(t->r, "cb0");
	pkb = stack_pkb_alloc(t->r, len);
	memcpy(pkb_put(pkb, len), pkt, len);
	pkb->dev = dev;
	pkb->nh = pkb->data;
	pkb->pkt_type = PKB_HOST;
	ip4_rcv(dev, pkb);
	stack_unlock(t->r);
	ips_world_run_for(t->w, 100 * NS_PER_MS);
	return ctr_diff(t->r, &t->before, "Ip");
}

static void inj_teardown(struct inj *t)
{
	ips_world_run_for(t->w, 5 * NS_PER_SEC);
	CHECK_EQ(ips_stack_pkb_outstanding(t->r), 0);
	ips_world_free(t->w);
}

/* An IPv4 datagram carrying an 8-byte ICMP echo request (28 bytes without options). */
static size_t echo_pkt(uint8_t *p, const char *src, const char *dst, uint8_t ttl, uint8_t tos,
		       uint8_t proto, const uint8_t *opts, uint8_t optlen)
{
	struct wire_ipv4 h = {
		.tos = tos, .id = 1, .ttl = ttl, .proto = proto,
		.saddr = A(src), .daddr = A(dst), .opts = opts, .opts_len = optlen,
	};
	struct wire_icmp ic = { .type = ICMP_ECHO };
	size_t hl;

	h.tot_len = (uint16_t)(20 + optlen + 8);
	hl = wire_ipv4_emit(p, &h);
	ic.un.echo.id = 7;
	ic.un.echo.seq = 1;
	return hl + wire_icmp_emit(p + hl, &ic, NULL, 0);
}

static size_t echo(uint8_t *p, const char *src, const char *dst)
{
	return echo_pkt(p, src, dst, 64, 0, IPPROTO_ICMP, NULL, 0);
}

TEST(good_echo_is_delivered_and_answered)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	n = echo(p, "10.0.1.1", "10.0.1.254");
	CHECK_STR(inj_send(&t, p, n), "IpExtInNoECTPkts 1 IpExtInOctets 28 IpExtOutOctets 28 "
				      "IpInDelivers 1 IpInReceives 1 IpOutRequests 1 IpOutTransmits 1");
	CHECK_EQ(t.nsent, 1);
	inj_teardown(&t);
}

TEST(bad_version_is_an_inhdrerror)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	n = echo(p, "10.0.1.1", "10.0.1.254");
	p[0] = 0x55;
	CHECK_STR(inj_rcv(&t, p, n), "IpExtInOctets 28 IpInHdrErrors 1 IpInReceives 1");
	inj_teardown(&t);
}

TEST(ihl_below_five_is_an_inhdrerror)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	n = echo(p, "10.0.1.1", "10.0.1.254");
	p[0] = 0x44;
	CHECK_STR(inj_send(&t, p, n), "IpExtInOctets 28 IpInHdrErrors 1 IpInReceives 1");
	inj_teardown(&t);
}

TEST(shorter_than_a_header_is_an_inhdrerror)
{
	struct inj t;
	uint8_t p[64];

	inj_setup(&t, true);
	echo(p, "10.0.1.1", "10.0.1.254");
	CHECK_STR(inj_send(&t, p, 16), "IpExtInOctets 16 IpInHdrErrors 1 IpInReceives 1");
	inj_teardown(&t);
}

TEST(ihl_longer_than_the_frame_is_an_inhdrerror_after_the_ecn_count)
{
	struct inj t;
	uint8_t p[64];

	inj_setup(&t, true);
	echo(p, "10.0.1.1", "10.0.1.254");
	p[0] = 0x4f;	/* 60-byte header in a 30-byte frame */
	CHECK_STR(inj_send(&t, p, 30),
		  "IpExtInNoECTPkts 1 IpExtInOctets 30 IpInHdrErrors 1 IpInReceives 1");
	inj_teardown(&t);
}

TEST(bad_checksum_counts_csumerrors_and_hdrerrors)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	n = echo(p, "10.0.1.1", "10.0.1.254");
	p[10] ^= 0x12;
	CHECK_STR(inj_send(&t, p, n), "IpExtInCsumErrors 1 IpExtInNoECTPkts 1 IpExtInOctets 28 "
				      "IpInHdrErrors 1 IpInReceives 1");
	CHECK_EQ(t.nsent, 0);
	inj_teardown(&t);
}

TEST(tot_len_beyond_the_frame_is_truncated)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	n = echo(p, "10.0.1.1", "10.0.1.254");
	wire_ipv4_set_tot_len(p, 100);
	CHECK_STR(inj_send(&t, p, n), "IpExtInNoECTPkts 1 IpExtInOctets 28 "
				      "IpExtInTruncatedPkts 1 IpInReceives 1");
	inj_teardown(&t);
}

TEST(tot_len_below_the_header_is_an_inhdrerror)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	n = echo(p, "10.0.1.1", "10.0.1.254");
	wire_ipv4_set_tot_len(p, 16);
	CHECK_STR(inj_send(&t, p, n),
		  "IpExtInNoECTPkts 1 IpExtInOctets 28 IpInHdrErrors 1 IpInReceives 1");
	inj_teardown(&t);
}

TEST(link_padding_is_trimmed)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	n = echo(p, "10.0.1.1", "10.0.1.254");
	memset(p + n, 0xee, 18);	/* Ethernet minimum frame padding */
	inj_send(&t, p, n + 18);
	CHECK_EQ(ctr(t.r, "IpInDelivers"), 1);
	CHECK_EQ(ctr(t.r, "IcmpInErrors"), 0);
	CHECK_EQ(t.nsent, 1);
	CHECK_EQ(t.sent_len[0], 28);
	inj_teardown(&t);
}

TEST(ecn_codepoint_is_counted)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	n = echo_pkt(p, "10.0.1.1", "10.0.1.254", 64, 3, IPPROTO_ICMP, NULL, 0);
	CHECK_STR(inj_send(&t, p, n), "IpExtInCEPkts 1 IpExtInOctets 28 IpExtOutOctets 28 "
				      "IpInDelivers 1 IpInReceives 1 IpOutRequests 1 IpOutTransmits 1");
	inj_teardown(&t);
}

/* Martians: dropped in the input route, counted nowhere in nstat (Linux keeps them in
 * /proc/net/stat/rt_cache only). */
static void check_martian(const char *src, const char *dst)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	n = echo(p, src, dst);
	CHECK_STR(inj_send(&t, p, n), "IpExtInNoECTPkts 1 IpExtInOctets 28 IpInReceives 1");
	CHECK_EQ(t.nsent, 0);
	inj_teardown(&t);
}

TEST(martian_loopback_source_is_dropped_uncounted)
{
	check_martian("127.0.0.1", "10.0.1.254");
}

TEST(martian_multicast_source_is_dropped_uncounted)
{
	check_martian("224.1.1.1", "10.0.1.254");
}

TEST(martian_limited_broadcast_source_is_dropped_uncounted)
{
	check_martian("255.255.255.255", "10.0.1.254");
}

TEST(martian_own_address_as_source_is_dropped_uncounted)
{
	check_martian("10.0.1.254", "10.0.1.254");
}

TEST(martian_loopback_destination_is_dropped_uncounted)
{
	check_martian("10.0.1.1", "127.0.0.1");
}

TEST(martian_zero_source_to_unicast_is_dropped_uncounted)
{
	check_martian("0.0.0.0", "10.0.1.254");
}

/* Since Linux 5.3 only 0.0.0.0 itself is "zeronet": 0.1.2.3 is an ordinary source
 * (delivered; the reply has no route here) and an ordinary destination (no route). */
TEST(source_in_0_8_other_than_zero_is_accepted)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	n = echo(p, "0.1.2.3", "10.0.1.254");
	CHECK_STR(inj_send(&t, p, n),
		  "IpExtInNoECTPkts 1 IpExtInOctets 28 IpInDelivers 1 IpInReceives 1");
	inj_teardown(&t);
}

TEST(route_localnet_admits_loopback_destinations)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	ips_sysctl_set(t.r, "net.ipv4.conf.cb0.route_localnet", "1");
	n = echo(p, "10.0.1.1", "127.0.0.1");
	inj_send(&t, p, n);
	CHECK_EQ(ctr(t.r, "IpInDelivers"), 1);
	inj_teardown(&t);
}

TEST(no_route_when_forwarding_is_innoroutes_and_net_unreachable)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	n = echo(p, "10.0.1.1", "10.9.9.9");
	CHECK_STR(inj_send(&t, p, n), "IpExtInNoECTPkts 1 IpExtInNoRoutes 1 IpExtInOctets 28 "
				      "IpExtOutOctets 56 IpInReceives 1 IpOutRequests 1 IpOutTransmits 1");
	ASSERT_EQ(t.nsent, 1);
	CHECK_EQ(t.sent[0][20], ICMP_DEST_UNREACH);
	CHECK_EQ(t.sent[0][21], ICMP_NET_UNREACH);
	inj_teardown(&t);
}

/* Linux 6.18 routes class E (240/4) and 0.1.2.3 as unicast: no route, as above. */
TEST(class_e_destination_is_routed_like_unicast)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	n = echo(p, "10.0.1.1", "240.0.0.1");
	CHECK_STR(inj_send(&t, p, n), "IpExtInNoECTPkts 1 IpExtInNoRoutes 1 IpExtInOctets 28 "
				      "IpExtOutOctets 56 IpInReceives 1 IpOutRequests 1 IpOutTransmits 1");
	inj_teardown(&t);
}

TEST(not_for_us_on_a_host_is_inaddrerrors)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, false);
	n = echo(p, "10.0.1.1", "10.9.9.9");
	CHECK_STR(inj_send(&t, p, n),
		  "IpExtInNoECTPkts 1 IpExtInOctets 28 IpInAddrErrors 1 IpInReceives 1");
	CHECK_EQ(t.nsent, 0);
	inj_teardown(&t);
}

TEST(reject_routes_on_input_answer_as_ip_error)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	ips_route_add_str(t.r, "unreachable 10.10.0.0/16");
	ips_route_add_str(t.r, "prohibit 10.11.0.0/16");
	ips_route_add_str(t.r, "blackhole 10.12.0.0/16");
	n = echo(p, "10.0.1.1", "10.10.0.1");
	inj_send(&t, p, n);
	n = echo(p, "10.0.1.1", "10.11.0.1");
	inj_send(&t, p, n);
	n = echo(p, "10.0.1.1", "10.12.0.1");
	CHECK_STR(inj_send(&t, p, n), "IpExtInNoECTPkts 3 IpExtInOctets 84 IpExtOutOctets 112 "
				      "IpInReceives 3 IpOutRequests 2 IpOutTransmits 2");
	ASSERT_EQ(t.nsent, 2);
	CHECK_EQ(t.sent[0][21], ICMP_HOST_UNREACH);
	CHECK_EQ(t.sent[1][21], ICMP_PKT_FILTERED);
	inj_teardown(&t);
}

/* ip_error() spends the source's inet_peer tokens (burst 5 s, 1 s each) before
 * icmp_send() spends them again under icmp_ratelimit (burst 6 s, 1 s each): "these ICMPs
 * are twice limited". From a full bucket two answers go, then the bucket is dry. */
TEST(ip_error_answers_are_limited_by_the_shared_peer_bucket)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	ips_route_add_str(t.r, "unreachable 10.10.0.0/16");
	n = echo(p, "10.0.1.1", "10.10.0.1");
	for (int i = 0; i < 6; i++)
		inj_send(&t, p, n);	/* 100 ms apart */
	CHECK_EQ(t.nsent, 2);
	/* 1 s later 1.5 tokens: ip_error takes one, the ICMP limiter finds half of one. */
	ips_world_run_for(t.w, 900 * NS_PER_MS);
	inj_send(&t, p, n);
	CHECK_EQ(t.nsent, 2);
	/* 2 s on: ip_error and the limiter both find a whole token. */
	ips_world_run_for(t.w, 1900 * NS_PER_MS);
	inj_send(&t, p, n);
	CHECK_EQ(t.nsent, 3);
	inj_teardown(&t);
}

TEST(ttl_zero_to_us_is_accepted)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	n = echo_pkt(p, "10.0.1.1", "10.0.1.254", 0, 0, IPPROTO_ICMP, NULL, 0);
	CHECK_STR(inj_send(&t, p, n), "IpExtInNoECTPkts 1 IpExtInOctets 28 IpExtOutOctets 28 "
				      "IpInDelivers 1 IpInReceives 1 IpOutRequests 1 IpOutTransmits 1");
	inj_teardown(&t);
}

TEST(unknown_protocol_is_answered_with_protocol_unreachable)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	n = echo_pkt(p, "10.0.1.1", "10.0.1.254", 64, 0, 200, NULL, 0);
	CHECK_STR(inj_send(&t, p, n), "IpExtInNoECTPkts 1 IpExtInOctets 28 IpExtOutOctets 56 "
				      "IpInReceives 1 IpInUnknownProtos 1 IpOutRequests 1 IpOutTransmits 1");
	ASSERT_EQ(t.nsent, 1);
	CHECK_EQ(t.sent[0][20], ICMP_DEST_UNREACH);
	CHECK_EQ(t.sent[0][21], ICMP_PROT_UNREACH);
	inj_teardown(&t);
}

TEST(subnet_and_limited_broadcasts_are_delivered_and_counted)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	n = echo(p, "10.0.1.1", "10.0.1.255");
	inj_send(&t, p, n);
	n = echo(p, "10.0.1.1", "255.255.255.255");
	CHECK_STR(inj_send(&t, p, n), "IpExtInBcastOctets 56 IpExtInBcastPkts 2 IpExtInNoECTPkts 2 "
				      "IpExtInOctets 56 IpInDelivers 2 IpInReceives 2");
	CHECK_EQ(t.nsent, 0);	/* icmp_echo_ignore_broadcasts */
	inj_teardown(&t);
}

TEST(bad_option_gets_parameter_problem_pointing_at_it)
{
	struct inj t;
	uint8_t p[64];
	/* RR with length 2: Linux pp_ptr = optptr + 1 = byte 21 */
	static const uint8_t opt[4] = { IPOPT_RR, 2, 4, 0 };
	size_t n;

	inj_setup(&t, true);
	n = echo_pkt(p, "10.0.1.1", "10.0.1.254", 64, 0, IPPROTO_ICMP, opt, 4);
	CHECK_STR(inj_send(&t, p, n), "IpExtInNoECTPkts 1 IpExtInOctets 32 IpExtOutOctets 60 "
				      "IpInHdrErrors 1 IpInReceives 1 IpOutRequests 1 IpOutTransmits 1");
	ASSERT_EQ(t.nsent, 1);
	CHECK_EQ(t.sent[0][20], ICMP_PARAMETERPROB);
	CHECK_EQ(t.sent[0][24], 21);
	inj_teardown(&t);
}

/* accept_source_route: conf.all is 0 in a fresh netns. Linux drops silently. */
TEST(source_routed_packet_is_dropped_uncounted)
{
	struct inj t;
	uint8_t p[64], opt[8];
	uint32_t hop = A("10.0.2.1");
	size_t n, ol = wire_ipv4_opts_build_srr(opt, false, &hop, 1);

	inj_setup(&t, true);
	ol = wire_ipv4_opts_pad(opt, ol);
	n = echo_pkt(p, "10.0.1.1", "10.0.1.254", 64, 0, IPPROTO_ICMP, opt, (uint8_t)ol);
	CHECK_STR(inj_send(&t, p, n), "IpExtInNoECTPkts 1 IpExtInOctets 36 IpInReceives 1");
	CHECK_EQ(t.nsent, 0);
	inj_teardown(&t);
}

TEST(rp_filter_strict_drops_a_source_routed_elsewhere)
{
	struct inj t;
	uint8_t p[64];
	size_t n;

	inj_setup(&t, true);
	ips_cbdev_new(t.r, "cb1", 1500, cb_out, &t);
	ips_addr_add(t.r, "cb1", "10.0.2.254/24");
	ips_sysctl_set(t.r, "net.ipv4.conf.all.rp_filter", "1");
	ctr_snap(t.r, &t.before);
	n = echo(p, "10.0.2.7", "10.0.1.254");	/* 10.0.2.0/24 is reached through cb1 */
	CHECK_STR(inj_send(&t, p, n), "IpExtInNoECTPkts 1 IpExtInOctets 28 IpInReceives 1");
	CHECK_EQ(ctr(t.r, "TcpExtIPReversePathFilter"), 1);
	inj_teardown(&t);
}

TEST_MAIN

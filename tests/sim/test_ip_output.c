/* Output of locally generated datagrams: DF and IP ID by PMTU discovery mode, sizes,
 * errors, loopback, broadcast, link failure. The DF/ID rules are Linux's
 * __ip_make_skb()/ip_select_ident_segs(): DO and PROBE always set DF, WANT sets it when
 * the datagram fits the path; the ID is 0 only for a DF datagram that may not be
 * fragmented (DO/PROBE/INTERFACE), hashed per destination otherwise. */
#include "ip_test_util.h"

struct cap {
	ips_world *w;
	ips_stack *st;
	int n;
	uint8_t pkt[8][2048];
	size_t len[8];
};

static void cap_out(void *arg, const void *pkt, size_t len)
{
	struct cap *c = arg;

	if (c->n < 8) {
		memcpy(c->pkt[c->n], pkt, len < 2048 ? len : 2048);
		c->len[c->n++] = len;
	}
}

static void cap_setup(struct cap *c)
{
	memset(c, 0, sizeof(*c));
	c->w = ips_world_new(5);
	c->st = ips_world_add_stack(c->w, "A");
	ips_cbdev_new(c->st, "cb0", 1500, cap_out, c);
	ips_addr_add(c->st, "cb0", "10.0.1.1/24");
	ips_world_run_for(c->w, NS_PER_SEC);
	c->n = 0;
}

static void cap_teardown(struct cap *c)
{
	ips_world_run_for(c->w, 5 * NS_PER_SEC);
	CHECK_EQ(ips_stack_pkb_outstanding(c->st), 0);
	ips_world_free(c->w);
}

/* ip4_output() of `len` payload bytes of protocol 253 (RFC 3692 experimentation). */
static int send_raw(struct cap *c, const char *dst, size_t len, int pmtudisc, bool bcast,
		    uint32_t *mtu_out)
{
	struct ip4_out o = { .daddr = A(dst), .proto = 253, .ttl = -1, .pmtudisc = pmtudisc,
			     .broadcast_ok = bcast };
	struct pkb *pkb;
	int rc;

	stack_lock(c->st);
	pkb = stack_pkb_alloc(c->st, len);
	memset(pkb_put(pkb, len), 0xab, len);
	rc = ip4_output(c->st, pkb, &o, mtu_out);
	stack_unlock(c->st);
	ips_world_run_for(c->w, 10 * NS_PER_MS);
	return rc;
}

TEST(pmtudisc_do_sets_df_and_id_zero)
{
	struct cap c;

	cap_setup(&c);
	ASSERT_EQ(send_raw(&c, "10.0.1.2", 100, IP_PMTUDISC_DO, false, NULL), 0);
	ASSERT_EQ(c.n, 1);
	CHECK_EQ(get_be16(c.pkt[0] + 6), WIRE_IPV4_DF);
	CHECK_EQ(get_be16(c.pkt[0] + 4), 0);
	CHECK_EQ(c.pkt[0][8], 64);		/* ip_default_ttl */
	CHECK_EQ(get_in4(c.pkt[0] + 12), A("10.0.1.1"));
	CHECK(wire_ipv4_csum_ok(c.pkt[0], 20));
	cap_teardown(&c);
}

TEST(pmtudisc_want_sets_df_with_a_hashed_id)
{
	struct cap c;
	uint16_t id1, id2;

	cap_setup(&c);
	ASSERT_EQ(send_raw(&c, "10.0.1.2", 100, -1, false, NULL), 0);	/* default: WANT */
	ASSERT_EQ(send_raw(&c, "10.0.1.2", 100, IP_PMTUDISC_WANT, false, NULL), 0);
	ASSERT_EQ(c.n, 2);
	CHECK_EQ(get_be16(c.pkt[0] + 6), WIRE_IPV4_DF);
	id1 = get_be16(c.pkt[0] + 4);
	id2 = get_be16(c.pkt[1] + 4);
	/* the same bucket, 10 ms later: +1 plus a random amount below the gap */
	CHECK((uint16_t)(id2 - id1) >= 1 && (uint16_t)(id2 - id1) <= 11);
	cap_teardown(&c);
}

TEST(pmtudisc_dont_never_sets_df)
{
	struct cap c;

	cap_setup(&c);
	ASSERT_EQ(send_raw(&c, "10.0.1.2", 100, IP_PMTUDISC_DONT, false, NULL), 0);
	ASSERT_EQ(c.n, 1);
	CHECK_EQ(get_be16(c.pkt[0] + 6) & WIRE_IPV4_DF, 0);
	cap_teardown(&c);
}

TEST(ip_no_pmtu_disc_makes_the_default_dont)
{
	struct cap c;

	cap_setup(&c);
	ips_sysctl_set(c.st, "net.ipv4.ip_no_pmtu_disc", "1");
	ASSERT_EQ(send_raw(&c, "10.0.1.2", 100, -1, false, NULL), 0);
	ASSERT_EQ(c.n, 1);
	CHECK_EQ(get_be16(c.pkt[0] + 6) & WIRE_IPV4_DF, 0);
	cap_teardown(&c);
}

TEST(want_fragments_what_does_not_fit_without_df)
{
	struct cap c;

	cap_setup(&c);
	ASSERT_EQ(send_raw(&c, "10.0.1.2", 2000, IP_PMTUDISC_WANT, false, NULL), 0);
	ASSERT_EQ(c.n, 2);
	CHECK_EQ(c.len[0], 1500);
	CHECK_EQ(get_be16(c.pkt[0] + 6), WIRE_IPV4_MF);
	CHECK_EQ(get_be16(c.pkt[1] + 6), 1480 / 8);
	CHECK_EQ(get_be16(c.pkt[0] + 4), get_be16(c.pkt[1] + 4));	/* one ID */
	CHECK_EQ(ctr(c.st, "IpOutRequests"), 1);
	CHECK_EQ(ctr(c.st, "IpOutTransmits"), 2);
	CHECK_EQ(ctr(c.st, "IpFragCreates"), 2);
	cap_teardown(&c);
}

TEST(do_too_big_is_emsgsize_with_the_mtu)
{
	struct cap c;
	uint32_t mtu = 0;

	cap_setup(&c);
	CHECK_EQ(send_raw(&c, "10.0.1.2", 1600, IP_PMTUDISC_DO, false, &mtu), -EMSGSIZE);
	CHECK_EQ(mtu, 1500);
	CHECK_EQ(c.n, 0);
	CHECK_EQ(ctr(c.st, "IpOutRequests"), 0);
	CHECK_EQ(send_raw(&c, "10.0.1.2", 65536, IP_PMTUDISC_DONT, false, NULL), -EMSGSIZE);
	cap_teardown(&c);
}

TEST(probe_sizes_by_the_device_not_the_learned_path)
{
	struct cap c;
	uint32_t mtu = 0;

	cap_setup(&c);
	stack_lock(c.st);
	pmtu_update(c.st, A("10.0.1.2"), 1200);
	stack_unlock(c.st);
	CHECK_EQ(send_raw(&c, "10.0.1.2", 1300, IP_PMTUDISC_DO, false, &mtu), -EMSGSIZE);
	CHECK_EQ(mtu, 1200);
	CHECK_EQ(send_raw(&c, "10.0.1.2", 1300, IP_PMTUDISC_PROBE, false, NULL), 0);
	ASSERT_EQ(c.n, 1);
	CHECK_EQ(get_be16(c.pkt[0] + 6), WIRE_IPV4_DF);
	cap_teardown(&c);
}

TEST(no_route_is_enetunreach_and_counted)
{
	struct cap c;

	cap_setup(&c);
	CHECK_EQ(send_raw(&c, "8.8.8.8", 10, -1, false, NULL), -ENETUNREACH);
	CHECK_EQ(ctr(c.st, "IpOutNoRoutes"), 1);
	CHECK_EQ(ctr(c.st, "IpOutRequests"), 0);
	cap_teardown(&c);
}

TEST(broadcast_needs_so_broadcast_and_is_looped_back)
{
	struct cap c;

	cap_setup(&c);
	CHECK_EQ(send_raw(&c, "10.0.1.255", 10, -1, false, NULL), -EACCES);
	CHECK_EQ(c.n, 0);
	CHECK_EQ(send_raw(&c, "10.0.1.255", 10, -1, true, NULL), 0);
	CHECK_EQ(c.n, 1);
	CHECK_EQ(ctr(c.st, "IpExtOutBcastPkts"), 1);
	/* our own copy came back through lo: a broadcast for us, unknown protocol 253
	 * (no ICMP error about a broadcast) */
	CHECK_EQ(ctr(c.st, "IpExtInBcastPkts"), 1);
	CHECK_EQ(ctr(c.st, "IpInUnknownProtos"), 1);
	CHECK_EQ(ctr(c.st, "IcmpOutDestUnreachs"), 0);
	cap_teardown(&c);
}

/* The counter string is Linux 6.18's for `ping -c1` to the host's own address. */
TEST(ping_to_own_address_goes_over_loopback)
{
	struct arb t;
	struct icmp_seen seen;
	struct ctr_snap before;

	arb_setup(&t, false, 0);
	icmp_seen_start(t.a, &seen);
	ctr_snap(t.a, &before);
	ASSERT_EQ(ping(t.a, "10.0.1.1"), 0);
	run_ms(t.w, 100);
	CHECK_STR(ctr_diff(t.a, &before, "Ip"),
		  "IpExtInNoECTPkts 2 IpExtInOctets 168 IpExtOutOctets 168 IpInDelivers 2 "
		  "IpInReceives 2 IpOutRequests 2 IpOutTransmits 2");
	CHECK_EQ(seen.n, 2);	/* the request and the reply, both seen locally */
	icmp_seen_stop(t.a, &seen);
	arb_teardown(&t);
}

/* ARP gives up on a neighbour that does not answer: the sender hears "host
 * unreachable" from itself, as `ping` on Linux prints "From 10.0.1.1 ... Destination
 * Host Unreachable". */
TEST(unresolvable_neighbour_gives_host_unreachable)
{
	struct arb t;
	struct icmp_seen seen;

	arb_setup(&t, false, 0);
	icmp_seen_start(t.a, &seen);
	ASSERT_EQ(ping(t.a, "10.0.1.77"), 0);
	run_ms(t.w, 5000);
	ASSERT_EQ(seen.n, 1);
	CHECK_EQ(seen.m[0].type, ICMP_DEST_UNREACH);
	CHECK_EQ(seen.m[0].code, ICMP_HOST_UNREACH);
	CHECK_EQ(seen.m[0].saddr, A("10.0.1.1"));
	icmp_seen_stop(t.a, &seen);
	arb_teardown(&t);
}

TEST_MAIN

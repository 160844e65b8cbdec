/* Forwarding through a router R between hosts A (10.0.1.1) and B (10.0.2.1).
 *
 * Counter strings are what Linux 6.18's R moved for the same ping (netns A -- R -- B
 * over veth pairs, `nstat -asz` diffs of R, Ip/IpExt only). */
#include "ip_test_util.h"
#include "ipstack/ipstack.h"

TEST(forwarding_off_drops_with_inaddrerrors)
{
	struct arb t;
	struct icmp_seen seen;
	struct ctr_snap before;

	arb_setup(&t, false, 0);
	icmp_seen_start(t.a, &seen);
	ctr_snap(t.r, &before);
	ASSERT_EQ(ping(t.a, "10.0.2.1"), 0);
	run_ms(t.w, 500);
	CHECK_STR(ctr_diff(t.r, &before, "Ip"),
		  "IpExtInNoECTPkts 1 IpExtInOctets 84 IpInAddrErrors 1 IpInReceives 1");
	CHECK_EQ(seen.n, 0);
	icmp_seen_stop(t.a, &seen);
	arb_teardown(&t);
}

TEST(forwarding_on_passes_the_echo_both_ways)
{
	struct arb t;
	struct icmp_seen seen;
	struct ctr_snap before;

	arb_setup(&t, true, 0);
	icmp_seen_start(t.a, &seen);
	ctr_snap(t.r, &before);
	ASSERT_EQ(ping(t.a, "10.0.2.1"), 0);
	run_ms(t.w, 500);
	CHECK_STR(ctr_diff(t.r, &before, "Ip"),
		  "IpExtInNoECTPkts 2 IpExtInOctets 168 IpExtOutOctets 168 IpForwDatagrams 2 "
		  "IpInReceives 2 IpOutTransmits 2");
	ASSERT_EQ(seen.n, 1);
	CHECK_EQ(seen.m[0].type, ICMP_ECHOREPLY);
	CHECK_EQ(seen.m[0].saddr, A("10.0.2.1"));
	CHECK_EQ(seen.m[0].pkt[8], 63);	/* one hop: TTL 64 - 1 */
	icmp_seen_stop(t.a, &seen);
	arb_teardown(&t);
}

TEST(per_device_forwarding_is_what_counts)
{
	struct arb t;
	struct icmp_seen seen;

	arb_setup(&t, false, 0);
	/* only the input device's forwarding matters (IN_DEV_FORWARD) */
	ips_sysctl_set(t.r, "net.ipv4.conf.eth0.forwarding", "1");
	icmp_seen_start(t.a, &seen);
	ASSERT_EQ(ping(t.a, "10.0.2.1"), 0);
	run_ms(t.w, 500);
	/* A -> B goes through; B's reply arrives on eth1, which does not forward */
	CHECK_EQ(ctr(t.r, "IpForwDatagrams"), 1);
	CHECK_EQ(ctr(t.r, "IpInAddrErrors"), 1);
	CHECK_EQ(seen.n, 0);
	icmp_seen_stop(t.a, &seen);
	arb_teardown(&t);
}

TEST(ttl_expiry_sends_time_exceeded)
{
	struct arb t;
	struct icmp_seen seen;
	struct ctr_snap before;

	uint64_t b_in;

	arb_setup(&t, true, 0);
	icmp_seen_start(t.a, &seen);
	ctr_snap(t.r, &before);
	b_in = ctr(t.b, "IpInReceives");
	ASSERT_EQ(ping_opts(t.a, "10.0.2.1", 56, -1, NULL, 0, 1), 0);
	run_ms(t.w, 500);
	/* Linux: IpInHdrErrors (and the ICMP error's own output counters) */
	CHECK_STR(ctr_diff(t.r, &before, "Ip"),
		  "IpExtInNoECTPkts 1 IpExtInOctets 84 IpExtOutOctets 112 IpInHdrErrors 1 "
		  "IpInReceives 1 IpOutRequests 1 IpOutTransmits 1");
	ASSERT_EQ(seen.n, 1);
	CHECK_EQ(seen.m[0].type, ICMP_TIME_EXCEEDED);
	CHECK_EQ(seen.m[0].code, ICMP_EXC_TTL);
	CHECK_EQ(seen.m[0].saddr, A("10.0.1.254"));
	CHECK_EQ(ctr(t.b, "IpInReceives"), b_in);
	icmp_seen_stop(t.a, &seen);
	arb_teardown(&t);
}

TEST(df_over_next_hop_mtu_gets_frag_needed_with_that_mtu)
{
	struct arb t;
	struct icmp_seen seen;
	struct ctr_snap before;

	arb_setup(&t, true, 1000);
	icmp_seen_start(t.a, &seen);
	ctr_snap(t.r, &before);
	ASSERT_EQ(ping_opts(t.a, "10.0.2.1", 1400, IP_PMTUDISC_DO, NULL, 0, -1), 0);
	run_ms(t.w, 500);
	/* Linux 6.18, `ping -M do -s 1400` through R with a 1000-byte next hop */
	CHECK_STR(ctr_diff(t.r, &before, "Ip"),
		  "IpExtInNoECTPkts 1 IpExtInOctets 1428 IpExtOutOctets 576 IpForwDatagrams 1 "
		  "IpFragFails 1 IpInReceives 1 IpOutRequests 1 IpOutTransmits 1");
	ASSERT_EQ(seen.n, 1);
	CHECK_EQ(seen.m[0].type, ICMP_DEST_UNREACH);
	CHECK_EQ(seen.m[0].code, ICMP_FRAG_NEEDED);
	CHECK_EQ(get_be16(seen.m[0].pkt + 20 + 6), 1000);
	icmp_seen_stop(t.a, &seen);
	arb_teardown(&t);
}

TEST(forwarding_fragments_to_the_next_hop_mtu_without_df)
{
	struct arb t;
	struct icmp_seen seen;
	struct ctr_snap before;

	arb_setup(&t, true, 1000);
	icmp_seen_start(t.a, &seen);
	ctr_snap(t.r, &before);
	ASSERT_EQ(ping_opts(t.a, "10.0.2.1", 1400, IP_PMTUDISC_DONT, NULL, 0, -1), 0);
	run_ms(t.w, 500);
	/* A -> B: one 1428-byte datagram in, two fragments out; B's reply comes back as
	 * two fragments (B fragments for its 1000-byte link) that pass unchanged. */
	CHECK_EQ(ctr(t.r, "IpFragOKs"), 1);
	CHECK_EQ(ctr(t.r, "IpFragCreates"), 2);
	CHECK_EQ(ctr(t.r, "IpForwDatagrams"), 3);
	CHECK_EQ(ctr(t.b, "IpReasmOKs"), 1);
	ASSERT_EQ(seen.n, 1);
	CHECK_EQ(seen.m[0].type, ICMP_ECHOREPLY);
	CHECK_EQ(seen.m[0].len, 1428);
	(void)before;
	icmp_seen_stop(t.a, &seen);
	arb_teardown(&t);
}

/* Same segment: A (10.0.1.1) sends to 10.5.0.1 through its default gateway R, whose
 * route to 10.5/16 is G (10.0.1.253) on the same segment: R forwards and tells A
 * (ICMP redirect host, gateway G), once, then backs off. */
TEST(forwarding_back_out_the_same_link_sends_a_redirect)
{
	ips_world *w = ips_world_new(9);
	ips_stack *a = ips_world_add_stack(w, "A"), *r = ips_world_add_stack(w, "R"),
		  *g = ips_world_add_stack(w, "G");
	ips_memswitch *sw = ips_memswitch_new(NULL);
	struct icmp_seen seen;

	ips_memswitch_add_port(sw, a, "eth0");
	ips_memswitch_add_port(sw, r, "eth0");
	ips_memswitch_add_port(sw, g, "eth0");
	ips_addr_add(a, "eth0", "10.0.1.1/24");
	ips_addr_add(r, "eth0", "10.0.1.254/24");
	ips_addr_add(g, "eth0", "10.0.1.253/24");
	ips_addr_add(g, "lo", "10.5.0.1/32");
	ips_route_add_str(a, "default via 10.0.1.254");
	ips_route_add_str(r, "10.5.0.0/16 via 10.0.1.253");
	ips_route_add_str(g, "default via 10.0.1.254");
	ips_sysctl_set(r, "net.ipv4.ip_forward", "1");
	/* A ignores redirects here, so that every ping takes the same path through R. */
	ips_sysctl_set(a, "net.ipv4.conf.all.accept_redirects", "0");
	ips_sysctl_set(a, "net.ipv4.conf.eth0.accept_redirects", "0");
	icmp_seen_start(a, &seen);
	ASSERT_EQ(ping(a, "10.5.0.1"), 0);
	run_ms(w, 5);
	ASSERT_EQ(ping(a, "10.5.0.1"), 0);	/* within ip_rt_redirect_load << 1: silent */
	run_ms(w, 500);
	CHECK_EQ(ctr(r, "IcmpOutRedirects"), 1);
	CHECK_EQ(ctr(r, "IpForwDatagrams"), 2);
	ASSERT(seen.n >= 2);
	CHECK_EQ(seen.m[0].type, ICMP_REDIRECT);
	CHECK_EQ(seen.m[0].code, ICMP_REDIR_HOST);
	CHECK_EQ(get_in4(seen.m[0].pkt + 24), A("10.0.1.253"));
	ASSERT_EQ(ping(a, "10.5.0.1"), 0);	/* 500 ms later: the next one of the backoff */
	run_ms(w, 500);
	CHECK_EQ(ctr(r, "IcmpOutRedirects"), 2);
	icmp_seen_stop(a, &seen);
	ips_world_run_for(w, 10 * NS_PER_SEC);
	CHECK_EQ(ips_stack_pkb_outstanding(a), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(r), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(g), 0);
	ips_world_free(w);
	ips_memswitch_free(sw);
}

TEST(send_redirects_off_forwards_silently)
{
	ips_world *w = ips_world_new(9);
	ips_stack *a = ips_world_add_stack(w, "A"), *r = ips_world_add_stack(w, "R"),
		  *g = ips_world_add_stack(w, "G");
	ips_memswitch *sw = ips_memswitch_new(NULL);

	ips_memswitch_add_port(sw, a, "eth0");
	ips_memswitch_add_port(sw, r, "eth0");
	ips_memswitch_add_port(sw, g, "eth0");
	ips_addr_add(a, "eth0", "10.0.1.1/24");
	ips_addr_add(r, "eth0", "10.0.1.254/24");
	ips_addr_add(g, "eth0", "10.0.1.253/24");
	ips_addr_add(g, "lo", "10.5.0.1/32");
	ips_route_add_str(a, "default via 10.0.1.254");
	ips_route_add_str(r, "10.5.0.0/16 via 10.0.1.253");
	ips_route_add_str(g, "default via 10.0.1.254");
	ips_sysctl_set(r, "net.ipv4.ip_forward", "1");
	ips_sysctl_set(r, "net.ipv4.conf.all.send_redirects", "0");
	ips_sysctl_set(r, "net.ipv4.conf.eth0.send_redirects", "0");
	ASSERT_EQ(ping(a, "10.5.0.1"), 0);
	run_ms(w, 500);
	CHECK_EQ(ctr(r, "IcmpOutRedirects"), 0);
	CHECK_EQ(ctr(r, "IpForwDatagrams"), 1);
	CHECK_EQ(ctr(a, "IcmpInEchoReps"), 1);
	ips_world_run_for(w, 10 * NS_PER_SEC);
	CHECK_EQ(ips_stack_pkb_outstanding(a), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(r), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(g), 0);
	ips_world_free(w);
	ips_memswitch_free(sw);
}

/* ---- Router Alert (RFC 2113) as Linux's ip_forward() -> ip_call_ra_chain(): a datagram
 * to forward that carries a Router Alert goes to the raw sockets of its protocol that set
 * IP_ROUTER_ALERT (unbound, or bound to the input device), reassembled if it came in
 * fragments, and is not forwarded; without such a socket it is forwarded as usual. ---- */

static int ra_udp_sender(ips_stack *st, bool ra)
{
	static const uint8_t opt[4] = { 0x94, 0x04, 0x00, 0x00 };	/* IPOPT_RA, value 0 */

	ips_stack_enter(st);
	int s = ips_socket(AF_INET, SOCK_DGRAM, 0);

	if (s >= 0 && ra)
		CHECK_EQ(ips_setsockopt(s, IPPROTO_IP, IP_OPTIONS, opt, sizeof(opt)), 0);
	return s;
}

static long ra_send(int s, size_t len)
{
	static uint8_t buf[4000];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(5000) };

	to.sin_addr.s_addr = A("10.0.2.1");
	memset(buf, 'r', sizeof(buf));
	return ips_sendto(s, buf, len, 0, (struct sockaddr *)&to, sizeof(to));
}

TEST(router_alert_goes_to_ip_router_alert_sockets_instead_of_on)
{
	struct arb t;
	uint8_t buf[5000];
	int one = 1;

	arb_setup(&t, true, 0);
	ips_stack_enter(t.r);
	int rs = ips_socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
	int other = ips_socket(AF_INET, SOCK_RAW, IPPROTO_TCP);	/* another protocol */

	ASSERT(rs >= 0 && other >= 0);
	ASSERT_EQ(ips_setsockopt(rs, IPPROTO_IP, IP_ROUTER_ALERT, &one, sizeof(one)), 0);
	ASSERT_EQ(ips_setsockopt(other, IPPROTO_IP, IP_ROUTER_ALERT, &one, sizeof(one)), 0);
	ips_stack_enter(t.b);
	int bs = ips_socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(5000) };

	ASSERT_EQ(ips_bind(bs, (struct sockaddr *)&sa, sizeof(sa)), 0);
	int ra = ra_udp_sender(t.a, true), plain = ra_udp_sender(t.a, false);

	ASSERT(ra >= 0 && plain >= 0);
	uint64_t fwd = ctr(t.r, "IpForwDatagrams");

	/* With the option: R's IP_ROUTER_ALERT socket for UDP takes it, B never sees it. */
	ASSERT_EQ(ra_send(ra, 5), 5);
	run_ms(t.w, 200);
	ips_stack_enter(t.r);
	CHECK_EQ(ips_recv(rs, buf, sizeof(buf), MSG_DONTWAIT), 20 + 4 + 8 + 5);
	CHECK_EQ(buf[0], 0x46);		/* the IP header with its option */
	CHECK_EQ(buf[20], 0x94);
	CHECK_EQ(buf[8], 64);		/* not forwarded: TTL untouched */
	CHECK_EQ(ips_recv(other, buf, sizeof(buf), MSG_DONTWAIT), -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK_EQ(ctr(t.r, "IpForwDatagrams"), fwd);
	ips_stack_enter(t.b);
	CHECK_EQ(ips_recv(bs, buf, sizeof(buf), MSG_DONTWAIT), -1);
	CHECK_EQ(errno, EAGAIN);

	/* Without the option it is forwarded, and a raw socket sees no forwarded packet. */
	ASSERT_EQ(ra_send(plain, 5), 5);
	run_ms(t.w, 200);
	ips_stack_enter(t.b);
	CHECK_EQ(ips_recv(bs, buf, sizeof(buf), MSG_DONTWAIT), 5);
	ips_stack_enter(t.r);
	CHECK_EQ(ips_recv(rs, buf, sizeof(buf), MSG_DONTWAIT), -1);
	CHECK_EQ(ctr(t.r, "IpForwDatagrams"), fwd + 1);

	/* In fragments (A's link has an MTU of 1500): reassembled at R, delivered whole. */
	ASSERT_EQ(ra_send(ra, 3000), 3000);
	run_ms(t.w, 200);
	ips_stack_enter(t.r);
	CHECK_EQ(ips_recv(rs, buf, sizeof(buf), MSG_DONTWAIT), 20 + 4 + 8 + 3000);
	ips_stack_enter(t.b);
	CHECK_EQ(ips_recv(bs, buf, sizeof(buf), MSG_DONTWAIT), -1);

	/* Bound to the other device: not for this packet, which goes on to B. */
	ips_stack_enter(t.r);
	ASSERT_EQ(ips_setsockopt(rs, SOL_SOCKET, SO_BINDTODEVICE, "eth1", 5), 0);
	ASSERT_EQ(ra_send(ra, 7), 7);
	run_ms(t.w, 200);
	CHECK_EQ(ips_recv(rs, buf, sizeof(buf), MSG_DONTWAIT), -1);
	ips_stack_enter(t.b);
	CHECK_EQ(ips_recv(bs, buf, sizeof(buf), MSG_DONTWAIT), 7);

	/* IP_ROUTER_ALERT off again: forwarded. */
	ips_stack_enter(t.r);
	ASSERT_EQ(ips_setsockopt(rs, SOL_SOCKET, SO_BINDTODEVICE, "", 0), 0);
	one = 0;
	ASSERT_EQ(ips_setsockopt(rs, IPPROTO_IP, IP_ROUTER_ALERT, &one, sizeof(one)), 0);
	ASSERT_EQ(ra_send(ra, 9), 9);
	run_ms(t.w, 200);
	CHECK_EQ(ips_recv(rs, buf, sizeof(buf), MSG_DONTWAIT), -1);
	ips_stack_enter(t.b);
	CHECK_EQ(ips_recv(bs, buf, sizeof(buf), MSG_DONTWAIT), 9);

	ips_stack_enter(NULL);
	ips_close(rs);
	ips_close(other);
	ips_close(bs);
	ips_close(ra);
	ips_close(plain);
	arb_teardown(&t);
}

TEST_MAIN

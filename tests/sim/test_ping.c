/* Ping between simulated hosts: echo replies of every size up to the 65507-byte
 * maximum, fragmented and reassembled at the ends, across one link and across routers
 * with a 576-byte link in the middle that refragments. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>

#include "test.h"
#include "support/support.h"

struct w2 {
	ips_world *w;
	ips_stack *a, *b;
};

static int setup2(struct w2 *t)
{
	t->w = ips_world_new(7);
	return two_hosts(t->w, &t->a, &t->b, NULL);
}

static void done2(struct w2 *t)
{
	CHECK_EQ(ips_stack_pkb_outstanding(t->a), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(t->b), 0);
	ips_world_free(t->w);
}

TEST(ping_two_hosts_gets_one_reply)
{
	struct w2 t;
	struct ping_result r;

	ASSERT_EQ(setup2(&t), 0);
	CHECK_EQ(test_ping(t.a, A("10.0.0.2"), 56, NULL, &r), 1);
	CHECK_EQ(r.sent, 1);
	CHECK_EQ(r.errors, 0);
	CHECK_EQ(r.dups, 0);
	CHECK_EQ(r.bad_replies, 0);
	CHECK_EQ(r.reply_from, A("10.0.0.2"));
	CHECK_EQ(r.reply_ttl, 64);
	CHECK_EQ(r.reply_len, 56);
	/* IcmpMsg counters on both sides (nstat after one `ping -c1` between two netns). */
	CHECK_EQ(test_counter(t.a, "IcmpOutEchos"), 1);
	CHECK_EQ(test_counter(t.a, "IcmpMsgOutType8"), 1);
	CHECK_EQ(test_counter(t.a, "IcmpInEchoReps"), 1);
	CHECK_EQ(test_counter(t.a, "IcmpMsgInType0"), 1);
	CHECK_EQ(test_counter(t.a, "IcmpInMsgs"), 1);
	CHECK_EQ(test_counter(t.a, "IcmpOutMsgs"), 1);
	CHECK_EQ(test_counter(t.b, "IcmpInEchos"), 1);
	CHECK_EQ(test_counter(t.b, "IcmpMsgInType8"), 1);
	CHECK_EQ(test_counter(t.b, "IcmpOutEchoReps"), 1);
	CHECK_EQ(test_counter(t.b, "IcmpMsgOutType0"), 1);
	CHECK_EQ(test_counter(t.b, "IcmpInErrors"), 0);
	done2(&t);
}

TEST(ping_three_in_a_row_each_answered)
{
	struct w2 t;
	struct ping_result r;
	struct ping_opts o = { .count = 3 };

	ASSERT_EQ(setup2(&t), 0);
	CHECK_EQ(test_ping(t.a, A("10.0.0.2"), 56, &o, &r), 3);
	CHECK_EQ(test_counter(t.b, "IcmpInEchos"), 3);
	done2(&t);
}

/* Payload sizes around the 1500-byte MTU: 1472 is the largest that fits one frame
 * (1500 - 20 - 8); 1473 needs two fragments each way. */
static void ping_size_two_hosts(size_t size, uint64_t frags_each_way)
{
	struct w2 t;
	struct ping_result r;

	ASSERT_EQ(setup2(&t), 0);
	CHECK_EQ(test_ping(t.a, A("10.0.0.2"), size, NULL, &r), 1);
	CHECK_EQ(r.reply_len, size);
	CHECK_EQ(r.bad_replies, 0);
	if (frags_each_way > 1) {
		CHECK_EQ(test_counter(t.a, "IpFragOKs"), 1);
		CHECK_EQ(test_counter(t.a, "IpFragCreates"), frags_each_way);
		CHECK_EQ(test_counter(t.b, "IpReasmOKs"), 1);
		CHECK_EQ(test_counter(t.b, "IpReasmReqds"), frags_each_way);
		CHECK_EQ(test_counter(t.b, "IpFragOKs"), 1);
		CHECK_EQ(test_counter(t.b, "IpFragCreates"), frags_each_way);
		CHECK_EQ(test_counter(t.a, "IpReasmOKs"), 1);
	} else {
		CHECK_EQ(test_counter(t.a, "IpFragCreates"), 0);
		CHECK_EQ(test_counter(t.b, "IpReasmReqds"), 0);
	}
	done2(&t);
}

TEST(ping_size_0)
{
	ping_size_two_hosts(0, 1);
}

TEST(ping_size_1472_fits_one_frame)
{
	ping_size_two_hosts(1472, 1);
}

TEST(ping_size_1473_two_fragments)
{
	ping_size_two_hosts(1473, 2);
}

/* 8008 bytes of ICMP in 1480-byte pieces: 6 fragments. */
TEST(ping_size_8000_six_fragments)
{
	ping_size_two_hosts(8000, 6);
}

/* 65515 bytes of ICMP: 44 full 1480-byte fragments and one of 395. */
TEST(ping_size_65507_largest)
{
	ping_size_two_hosts(65507, 45);
}

TEST(ping_size_65508_too_big_for_ip)
{
	struct w2 t;
	struct ping_result r;

	ASSERT_EQ(setup2(&t), 0);
	CHECK_EQ(test_ping(t.a, A("10.0.0.2"), 65508, NULL, &r), 0);
	CHECK_EQ(r.send_err, -EMSGSIZE);
	CHECK_EQ(r.sent, 0);
	done2(&t);
}

/* ---- Across routers: h0 -1500- r1 -576- r2 -1500- h3 ---- */

struct w4 {
	ips_world *w;
	ips_stack *n[4];
};

static int setup4(struct w4 *t)
{
	static const uint32_t mtus[3] = { 1500, 576, 1500 };

	t->w = ips_world_new(11);
	return chain_world(t->w, 4, mtus, t->n);
}

static void done4(struct w4 *t)
{
	for (int i = 0; i < 4; i++)
		CHECK_EQ(ips_stack_pkb_outstanding(t->n[i]), 0);
	ips_world_free(t->w);
}

/* ping -M dont (no DF: routers may fragment) after a first small ping that fills the
 * ARP caches (a cold cache would hold at most unres_qlen_bytes of fragments). */
static void ping_size_chain(size_t size, uint64_t frags_at_host, uint64_t frags_at_router)
{
	struct w4 t;
	struct ping_result r;
	struct ping_opts o = { .pmtudisc = PING_PMTU_DONT };

	ASSERT_EQ(setup4(&t), 0);
	ASSERT_EQ(test_ping(t.n[0], chain_addr(3, true), 8, NULL, &r), 1);
	CHECK_EQ(test_ping(t.n[0], chain_addr(3, true), size, &o, &r), 1);
	CHECK_EQ(r.reply_len, size);
	CHECK_EQ(r.bad_replies, 0);
	CHECK_EQ(r.errors, 0);
	/* Two routers decrement the TTL. */
	CHECK_EQ(r.reply_ttl, 62);
	CHECK_EQ(test_counter(t.n[0], "IpFragCreates"), frags_at_host);
	CHECK_EQ(test_counter(t.n[1], "IpFragCreates"), frags_at_router);
	CHECK_EQ(test_counter(t.n[3], "IpFragCreates"), frags_at_host);
	CHECK_EQ(test_counter(t.n[2], "IpFragCreates"), frags_at_router);
	CHECK_EQ(test_counter(t.n[3], "IpReasmOKs"), frags_at_host + frags_at_router ? 1 : 0);
	CHECK_EQ(test_counter(t.n[0], "IpReasmOKs"), frags_at_host + frags_at_router ? 1 : 0);
	/* Routers never reassemble. */
	CHECK_EQ(test_counter(t.n[1], "IpReasmReqds"), 0);
	CHECK_EQ(test_counter(t.n[2], "IpReasmReqds"), 0);
	done4(&t);
}

/* 56 bytes fit everywhere. */
TEST(ping_across_576_link_small)
{
	ping_size_chain(56, 0, 0);
}

/* 1472 + 28 = 1500: one frame to the router, refragmented into 552-byte pieces
 * (576 - 20 = 556, rounded down to 552): 552 + 552 + 376 = 1480. */
TEST(ping_across_576_link_1472_refragmented)
{
	ping_size_chain(1472, 0, 3);
}

/* 1473: the host makes 1480 + 1 bytes; the router cuts the 1480 into three and
 * passes the 1-byte last fragment on as it is. */
TEST(ping_across_576_link_1473)
{
	ping_size_chain(1473, 2, 3);
}

/* 8008 bytes: five 1480-byte fragments (three pieces each at the router) and a
 * 608-byte one (552 + 56): 6 at the host, 5 * 3 + 2 = 17 at the router. */
TEST(ping_across_576_link_8000)
{
	ping_size_chain(8000, 6, 17);
}

/* 65515 bytes: 44 fragments of 1480 (3 each) and one of 395 (fits): 45 and 132. */
TEST(ping_across_576_link_65507)
{
	ping_size_chain(65507, 45, 132);
}

/* ping(8) without -M: DF on what fits the first hop (IP_PMTUDISC_WANT). The router
 * answers "fragmentation needed" with its next-hop MTU; the sender learns the path MTU
 * and fragments the next request itself to 576 (as `ping -s 1472` through such a
 * router shows "Frag needed and DF set (mtu = 576)" once, then replies). */
TEST(ping_default_df_learns_path_mtu)
{
	struct w4 t;
	struct ping_result r;
	struct ping_opts o = { .count = 2 };

	ASSERT_EQ(setup4(&t), 0);
	ASSERT_EQ(test_ping(t.n[0], chain_addr(3, true), 8, NULL, &r), 1);
	CHECK_EQ(test_ping(t.n[0], chain_addr(3, true), 1472, &o, &r), 1);
	CHECK_EQ(r.errors, 1);
	CHECK_EQ(r.err_type, ICMP_DEST_UNREACH);
	CHECK_EQ(r.err_code, ICMP_FRAG_NEEDED);
	CHECK_EQ(r.err_info & 0xffff, 576);
	CHECK_EQ(r.err_from, chain_addr(1, true));
	CHECK_EQ(test_counter(t.n[1], "IpFragFails"), 1);
	/* The second request: 1500 bytes cut by the sender into 552 + 552 + 376. */
	CHECK_EQ(test_counter(t.n[0], "IpFragCreates"), 3);
	CHECK_EQ(test_counter(t.n[1], "IpFragCreates"), 0);
	/* The reply has no DF over 576 (the ICMP socket is IP_PMTUDISC_DONT): r2 cuts it. */
	CHECK_EQ(test_counter(t.n[2], "IpFragCreates"), 3);
	done4(&t);
}

TEST_MAIN

/* Fragmented pings over impaired links (seeded, so the same packets every run):
 * reordering and duplication must not lose a datagram; loss leaves queues that time out
 * and are freed. */
#include <netinet/in.h>

#include "test.h"
#include "support/support.h"
#include "core/stack.h"
#include "ip/icmp.h"

static void run_impaired(const struct ips_impair *imp, uint64_t seed, int count,
			 struct ping_result *r, ips_stack **pa, ips_stack **pb, ips_world **pw)
{
	struct ips_link_config cfg = { .impair = *imp };
	struct ping_opts o = { .count = count, .interval_ns = MS(200), .timeout_ns = SEC(2) };
	ips_world *w = ips_world_new(seed);
	ips_stack *a, *b;

	*pw = w;
	if (two_hosts(w, &a, &b, &cfg) != 0) {
		TEST_FAIL_AT("world");
		return;
	}
	*pa = a;
	*pb = b;
	test_ping(a, A("10.0.0.2"), 8000, &o, r);
}

/* 6 fragments each way per ping; a quarter held back so that later ones overtake them,
 * one in twenty duplicated: every ping answered, every duplicate dropped quietly. */
TEST(frag_ping_survives_reorder_and_duplicates)
{
	struct ips_impair imp = { .reorder_pct = 25, .dup_pct = 5, .delay_us = 1000 };
	struct ping_result r;
	ips_stack *a = NULL, *b = NULL;
	ips_world *w = NULL;

	run_impaired(&imp, 21, 30, &r, &a, &b, &w);
	ASSERT(a && b);
	CHECK_EQ(r.replies, 30);
	CHECK_EQ(r.bad_replies, 0);
	CHECK_EQ(test_counter(b, "IpReasmOKs"), 30);
	CHECK_EQ(test_counter(a, "IpReasmOKs"), 30);
	CHECK_EQ(test_counter(b, "IpReasmFails"), 0);
	CHECK_EQ(test_counter(a, "IpReasmFails"), 0);
	CHECK(test_counter(b, "IpReasmReqds") >= 180);
	test_run(w, SEC(31));
	CHECK_EQ(ipfrag_queues(a), 0);
	CHECK_EQ(ipfrag_queues(b), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(a), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(b), 0);
	ips_world_free(w);
}

/* One fragment in ten lost: datagrams missing a piece are never delivered; their
 * queues time out (ReasmTimeout), and a Time Exceeded goes back for each one whose
 * first fragment came. Every datagram is accounted for, nothing leaks. */
TEST(frag_ping_with_loss_times_out_and_cleans_up)
{
	struct ips_impair imp = { .loss_pct = 10 };
	struct ping_result r;
	ips_stack *a = NULL, *b = NULL;
	ips_world *w = NULL;
	uint64_t b_started, a_started;

	run_impaired(&imp, 5, 30, &r, &a, &b, &w);
	ASSERT(a && b);
	test_run(w, SEC(31));
	CHECK(r.replies < 30);
	CHECK(r.replies > 0);
	/* b: reassembled requests + timed-out queues = requests of which something came */
	CHECK_EQ(test_counter(b, "IpReasmOKs"), test_counter(b, "IcmpInEchos"));
	b_started = test_counter(b, "IpReasmOKs") + test_counter(b, "IpReasmTimeout");
	CHECK(b_started <= 30);
	CHECK_EQ(test_counter(b, "IpReasmFails"), test_counter(b, "IpReasmTimeout"));
	/* a: replies delivered = reassembled replies */
	CHECK_EQ(test_counter(a, "IpReasmOKs"), (uint64_t)r.replies);
	a_started = test_counter(a, "IpReasmOKs") + test_counter(a, "IpReasmTimeout");
	CHECK(a_started <= test_counter(b, "IcmpOutEchoReps"));
	CHECK_EQ(ipfrag_queues(a), 0);
	CHECK_EQ(ipfrag_queues(b), 0);
	CHECK_EQ(ipfrag_mem(a), 0);
	CHECK_EQ(ipfrag_mem(b), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(a), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(b), 0);
	ips_world_free(w);
}

TEST_MAIN

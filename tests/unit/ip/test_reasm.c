/* Reassembly (ip4_defrag): orders, duplicates, overlaps, bad lengths, limits, timeouts.
 *
 * The expected outcomes and counters of the table-driven cases are Linux 6.18's: the same
 * fragment sequences of a 40-byte ICMP echo request were sent from a raw socket in one
 * netns to another over veth, and `nstat` read before and after each (IpReasmReqds,
 * IpReasmOKs, IpReasmFails, IpExtReasmOverlaps), along with whether a reply came. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "support/support.h"
#include "core/csum.h"
#include "core/stack.h"
#include "ip/icmp.h"
#include "ip/ip.h"
#include "wire/ipv4.h"
#include "wire/wire.h"

static ips_world *W;
static ips_stack *ST;
static uint8_t MSG[70000];

static void setup(void)
{
	W = ips_world_new(1);
	ST = ips_world_add_stack(W, "h");
}

static void teardown(void)
{
	CHECK_EQ(ipfrag_queues(ST), 0);
	CHECK_EQ(ipfrag_mem(ST), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(ST), 0);
	ips_world_free(W);
}

/* A datagram of `total` bytes (an echo request in the table cases). */
static void make_msg(size_t total, unsigned int seed)
{
	test_fill(MSG, total, seed);
	MSG[0] = ICMP_ECHO;
	MSG[1] = 0;
}

static struct pkb *frag_pkb(uint16_t id, uint32_t off, uint32_t len, bool mf, uint8_t tos,
			    bool df)
{
	struct test_ipv4 h = {
		.saddr = A("10.9.0.1"), .daddr = A("10.9.0.2"), .proto = IPPROTO_ICMP,
		.id = id, .frag_off = (uint16_t)off, .mf = mf, .df = df, .tos = tos,
		.payload = MSG + off, .len = len,
	};

	return test_ipv4_build(ST, &h);
}

/* Feed one fragment; returns the reassembled datagram if this completed one. */
static struct pkb *feed(uint16_t id, uint32_t off, uint32_t len, bool mf)
{
	struct pkb *p;

	stack_lock(ST);
	p = ip4_defrag(ST, frag_pkb(id, off, len, mf, 0, false));
	stack_unlock(ST);
	return p;
}

struct frag_spec {
	uint32_t off, len;
	bool mf;
};

struct reasm_case {
	const char *name;
	struct frag_spec f[8];
	int n;
	bool completes;
	uint64_t reqds, oks, fails, overlaps;
};

#define F(o, l, m) { o, l, m }

static const struct reasm_case CASES[] = {
	{ "forward", { F(0, 16, 1), F(16, 16, 1), F(32, 8, 0) }, 3, true, 3, 1, 0, 0 },
	{ "exact duplicate ignored", { F(0, 16, 1), F(0, 16, 1), F(16, 16, 1), F(32, 8, 0) }, 4,
	  true, 4, 1, 0, 0 },
	/* [8,24) lies inside the run [0,32) that two in-order fragments made: a duplicate */
	{ "straddle inside a run is a duplicate", { F(0, 16, 1), F(16, 16, 1), F(8, 16, 1),
	  F(32, 8, 0) }, 4, true, 4, 1, 0, 0 },
	/* the same fragments in reverse order make two runs: [8,24) overlaps both */
	{ "straddle across runs is an overlap", { F(16, 16, 1), F(0, 16, 1), F(8, 16, 1),
	  F(32, 8, 0) }, 4, false, 4, 0, 1, 1 },
	{ "overlap drops the datagram", { F(0, 24, 1), F(16, 24, 0) }, 2, false, 2, 0, 1, 1 },
	{ "piece inside the first fragment", { F(0, 24, 1), F(8, 8, 1), F(24, 16, 0) }, 3, true,
	  3, 1, 0, 0 },
	{ "last fragment twice", { F(0, 16, 1), F(16, 24, 0), F(16, 24, 0) }, 3, true, 3, 1, 0,
	  0 },
	{ "reverse", { F(32, 8, 0), F(16, 16, 1), F(0, 16, 1) }, 3, true, 3, 1, 0, 0 },
	{ "gap then fill", { F(0, 8, 1), F(32, 8, 0), F(16, 8, 1), F(8, 8, 1), F(24, 8, 1) }, 5,
	  true, 5, 1, 0, 0 },
	{ "straddle into a gap between runs", { F(0, 8, 1), F(16, 8, 1), F(8, 16, 1),
	  F(24, 16, 0) }, 4, false, 4, 0, 1, 1 },
	{ "duplicate of a gap filler", { F(0, 8, 1), F(32, 8, 0), F(16, 8, 1), F(8, 8, 1),
	  F(16, 8, 1), F(24, 8, 1) }, 6, true, 6, 1, 0, 0 },
	/* a non-final fragment's length is cut down to a multiple of 8 */
	{ "non-final length not a multiple of 8", { F(0, 13, 1), F(8, 32, 0) }, 2, true, 2, 1, 0,
	  0 },
	{ "last fragment ends before data seen", { F(0, 32, 1), F(16, 8, 0) }, 2, false, 2, 0,
	  1, 0 },
	{ "two different last fragments", { F(32, 8, 0), F(24, 8, 0) }, 2, false, 2, 0, 1, 0 },
	{ "zero-length non-final fragment", { F(0, 0, 1) }, 1, false, 1, 0, 1, 0 },
};

TEST(reasm_table_as_linux)
{
	for (size_t c = 0; c < sizeof(CASES) / sizeof(CASES[0]); c++) {
		const struct reasm_case *k = &CASES[c];
		struct pkb *done = NULL;

		setup();
		make_msg(40, (unsigned int)c);
		for (int i = 0; i < k->n; i++) {
			struct pkb *p = feed(100, k->f[i].off, k->f[i].len, k->f[i].mf);

			if (p) {
				CHECK(!done);
				done = p;
			}
		}
		if ((done != NULL) != k->completes)
			TEST_FAIL_AT("case \"%s\": completes %d", k->name, done != NULL);
		if (done) {
			CHECK_EQ(done->len, 60);
			CHECK(memcmp(done->data + 20, MSG, 40) == 0);
			pkb_free(done);
		}
		if (test_counter(ST, "IpReasmReqds") != k->reqds ||
		    test_counter(ST, "IpReasmOKs") != k->oks ||
		    test_counter(ST, "IpReasmFails") != k->fails ||
		    test_counter(ST, "IpExtReasmOverlaps") != k->overlaps)
			TEST_FAIL_AT("case \"%s\": reqds %llu oks %llu fails %llu overlaps %llu",
				     k->name, (unsigned long long)test_counter(ST, "IpReasmReqds"),
				     (unsigned long long)test_counter(ST, "IpReasmOKs"),
				     (unsigned long long)test_counter(ST, "IpReasmFails"),
				     (unsigned long long)test_counter(ST, "IpExtReasmOverlaps"));
		/* incomplete queues die with the stack (or by timeout) */
		test_run(W, SEC(31));
		teardown();
	}
}

/* The largest datagram in 1480-byte fragments, in a seeded random order. */
TEST(reasm_shuffled_65535_bytes)
{
	enum { N = 45 };
	uint32_t order[N];
	struct pkb *done = NULL;
	uint32_t seed = 12345;

	setup();
	make_msg(65515, 9);
	for (uint32_t i = 0; i < N; i++)
		order[i] = i;
	for (uint32_t i = N - 1; i > 0; i--) {	/* Fisher-Yates, a fixed LCG */
		uint32_t j;

		seed = seed * 1103515245u + 12345u;
		j = (seed >> 8) % (i + 1);
		uint32_t tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (uint32_t i = 0; i < N; i++) {
		uint32_t k = order[i], off = k * 1480, len = k + 1 < N ? 1480 : 65515 - off;
		struct pkb *p = feed(7, off, len, k + 1 < N);

		if (p)
			done = p;
		CHECK(!p || i == N - 1);
	}
	ASSERT(done);
	CHECK_EQ(done->len, 65535);
	CHECK_EQ(get_be16(done->data + 2), 65535);
	CHECK(memcmp(done->data + 20, MSG, 65515) == 0);
	CHECK_EQ(test_counter(ST, "IpReasmReqds"), N);
	CHECK_EQ(test_counter(ST, "IpReasmOKs"), 1);
	pkb_free(done);
	teardown();
}

/* The reassembled header: the first fragment's (with its options), tot_len set, the
 * fragment fields cleared, a valid checksum, frag_max_size the largest fragment. */
TEST(reasm_header_from_first_fragment)
{
	static const uint8_t opts[8] = { IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_NOP, IPOPT_NOP,
					 IPOPT_NOP, IPOPT_NOP, IPOPT_EOL };
	struct test_ipv4 h = {
		.saddr = A("10.9.0.1"), .daddr = A("10.9.0.2"), .proto = 17, .id = 9,
		.ttl = 33, .tos = 0x10, .mf = true, .opts = opts, .opts_len = 8,
	};
	struct pkb *p;

	setup();
	make_msg(1000, 4);
	h.frag_off = 0;
	h.payload = MSG;
	h.len = 600;
	stack_lock(ST);
	CHECK(!ip4_defrag(ST, test_ipv4_build(ST, &h)));
	h.opts = NULL;
	h.opts_len = 0;
	h.ttl = 5;		/* later fragments' fields do not matter */
	h.frag_off = 600;
	h.payload = MSG + 600;
	h.len = 400;
	h.mf = false;
	p = ip4_defrag(ST, test_ipv4_build(ST, &h));
	stack_unlock(ST);
	ASSERT(p);
	CHECK_EQ(p->len, 28 + 1000);
	CHECK_EQ(p->nh, p->data);
	CHECK_EQ(wire_ipv4_hdr_len(p->data), 28);
	CHECK_EQ(get_be16(p->data + 2), 1028);
	CHECK_EQ(get_be16(p->data + 6), 0);	/* no MF, offset 0, no DF */
	CHECK_EQ(p->data[8], 33);
	CHECK_EQ(p->data[1], 0x10);
	CHECK(memcmp(p->data + 20, opts, 8) == 0);
	CHECK(wire_ipv4_csum_ok(p->data, 28));
	CHECK(memcmp(p->data + 28, MSG, 1000) == 0);
	CHECK_EQ(p->frag_max_size, 628);
	pkb_free(p);
	teardown();
}

/* The whole datagram is stamped with the arrival time of the fragment that completed it
 * (ip_frag_queue() keeps q->stamp = skb->tstamp of each fragment as it comes;
 * inet_frag_reasm_finish() sets head->tstamp = q->stamp), not with that of the fragment
 * at the highest offset: here the last piece comes first. */
TEST(reasm_stamped_with_the_completing_fragment_arrival)
{
	struct pkb *f, *p;

	setup();
	make_msg(64, 2);
	stack_lock(ST);
	f = frag_pkb(3, 32, 32, false, 0, false);
	f->tstamp_ns = 1000;
	CHECK(!ip4_defrag(ST, f));
	f = frag_pkb(3, 0, 32, true, 0, false);
	f->tstamp_ns = 2000;
	p = ip4_defrag(ST, f);
	stack_unlock(ST);
	ASSERT(p);
	CHECK_EQ(p->tstamp_ns, 2000);
	pkb_free(p);
	teardown();
}

/* DF on the reassembled datagram only if the largest fragment carried DF
 * (IPSKB_FRAG_PMTU), so that forwarding it keeps the sender's choice. */
TEST(reasm_df_kept_when_largest_fragment_had_it)
{
	struct pkb *p;

	setup();
	make_msg(64, 1);
	stack_lock(ST);
	CHECK(!ip4_defrag(ST, frag_pkb(1, 0, 32, true, 0, true)));
	p = ip4_defrag(ST, frag_pkb(1, 32, 32, false, 0, false));
	ASSERT(p);
	CHECK_EQ(get_be16(p->data + 6), WIRE_IPV4_DF);
	pkb_free(p);
	CHECK(!ip4_defrag(ST, frag_pkb(2, 0, 32, true, 0, false)));
	p = ip4_defrag(ST, frag_pkb(2, 32, 8, false, 0, true));
	stack_unlock(ST);
	ASSERT(p);
	CHECK_EQ(get_be16(p->data + 6), 0);
	pkb_free(p);
	teardown();
}

/* RFC 3168 5.3 via ip_frag_ecn_table: CE with ECT fragments -> CE; not-ECT mixed with
 * ECT or CE -> the datagram is dropped (ReasmFails). */
TEST(reasm_ecn_combined_or_dropped)
{
	struct pkb *p;

	setup();
	make_msg(64, 1);
	stack_lock(ST);
	CHECK(!ip4_defrag(ST, frag_pkb(1, 0, 32, true, 0x02, false)));	/* ECT(0) */
	p = ip4_defrag(ST, frag_pkb(1, 32, 32, false, 0x03, false));	/* CE */
	ASSERT(p);
	CHECK_EQ(p->data[1] & 3, 3);
	pkb_free(p);
	CHECK(!ip4_defrag(ST, frag_pkb(2, 0, 32, true, 0x00, false)));	/* not ECT */
	CHECK(!ip4_defrag(ST, frag_pkb(2, 32, 32, false, 0x03, false)));	/* CE */
	stack_unlock(ST);
	CHECK_EQ(test_counter(ST, "IpReasmOKs"), 1);
	CHECK_EQ(test_counter(ST, "IpReasmFails"), 1);
	teardown();
}

/* More than 65535 bytes in all (the "ping of death"): dropped when complete. */
TEST(reasm_oversize_dropped)
{
	setup();
	make_msg(65600, 2);
	CHECK(!feed(3, 0, 65000, true));
	CHECK(!feed(3, 65000, 600, false));
	CHECK_EQ(test_counter(ST, "IpReasmFails"), 1);
	CHECK_EQ(test_counter(ST, "IpReasmOKs"), 0);
	teardown();
}

/* Over ipfrag_high_thresh every new fragment is dropped (ReasmFails), even one that
 * would complete an existing queue; nothing is evicted (Linux since 4.17:
 * ipfrag_low_thresh is obsolete). Linux with high_thresh 4000: 20 first fragments ->
 * 1 queue and 19 ReasmFails; the completing fragment of the queue: ReasmFails. */
TEST(reasm_over_high_thresh_drops_new_fragments)
{
	setup();
	ASSERT_EQ(ips_sysctl_set(ST, "net.ipv4.ipfrag_low_thresh", "0"), 0);
	ASSERT_EQ(ips_sysctl_set(ST, "net.ipv4.ipfrag_high_thresh", "1"), 0);
	make_msg(40, 1);
	for (int i = 0; i < 20; i++)
		CHECK(!feed((uint16_t)(400 + i), 0, 16, true));
	CHECK_EQ(test_counter(ST, "IpReasmReqds"), 20);
	CHECK_EQ(test_counter(ST, "IpReasmFails"), 19);
	CHECK_EQ(ipfrag_queues(ST), 1);
	CHECK(!feed(400, 16, 24, false));
	CHECK_EQ(test_counter(ST, "IpReasmFails"), 20);
	CHECK_EQ(ipfrag_queues(ST), 1);
	/* the queue lives until ipfrag_time */
	test_run(W, SEC(30) - MS(1));
	CHECK_EQ(ipfrag_queues(ST), 1);
	test_run(W, MS(1));
	CHECK_EQ(ipfrag_queues(ST), 0);
	CHECK_EQ(test_counter(ST, "IpReasmTimeout"), 1);
	teardown();
}

/* ipfrag_max_dist 64: a queue that has seen more than 64 fragments from its source
 * (counted in any queue) since its own last one starts over. Linux: the first fragment
 * of X, then 31 complete two-fragment datagrams, then X's last: X completes; with 32 in
 * between: ReasmFails + 1 and X does not complete. */
static void max_dist_case(int between, bool x_completes)
{
	struct pkb *p;

	setup();
	make_msg(40, 1);
	CHECK(!feed(500, 0, 16, true));
	for (int i = 0; i < between; i++) {
		CHECK(!feed((uint16_t)(600 + i), 0, 16, true));
		p = feed((uint16_t)(600 + i), 16, 24, false);
		CHECK(p != NULL);
		pkb_free(p);
	}
	p = feed(500, 16, 24, false);
	CHECK_EQ(p != NULL, x_completes);
	pkb_free(p);
	CHECK_EQ(test_counter(ST, "IpReasmOKs"), (uint64_t)between + (x_completes ? 1 : 0));
	CHECK_EQ(test_counter(ST, "IpReasmFails"), x_completes ? 0 : 1);
	test_run(W, SEC(31));
	teardown();
}

TEST(reasm_max_dist_within)
{
	max_dist_case(31, true);
}

TEST(reasm_max_dist_too_far_starts_over)
{
	max_dist_case(32, false);
}

TEST(reasm_max_dist_zero_disables)
{
	struct pkb *p;

	setup();
	ASSERT_EQ(ips_sysctl_set(ST, "net.ipv4.ipfrag_max_dist", "0"), 0);
	make_msg(40, 1);
	CHECK(!feed(500, 0, 16, true));
	for (int i = 0; i < 100; i++) {
		CHECK(!feed((uint16_t)(600 + i), 0, 16, true));
		pkb_free(feed((uint16_t)(600 + i), 16, 24, false));
	}
	p = feed(500, 16, 24, false);
	CHECK(p != NULL);
	pkb_free(p);
	teardown();
}

/* ---- Timeouts, through the receive path of a host with a neighbour ---- */

struct te_seen {
	struct icmp_listener l;
	int n;
	uint8_t type, code;
	size_t quoted;
	uint16_t inner_frag;
};

static void te_fn(void *arg, struct pkb *pkb)
{
	struct te_seen *s = arg;

	s->n++;
	s->type = pkb->th[0];
	s->code = pkb->th[1];
	s->quoted = (size_t)(pkb->data + pkb->len - pkb->th) - 8;
	s->inner_frag = get_be16(pkb->th + 8 + 6);
}

/* Linux with ipfrag_time 2: only fragment 0 -> Time Exceeded (11/1) after 2 s with TOS
 * 0xc0, quoting fragment 0's header and its 16 bytes (36 in all, inner MF set),
 * IpReasmTimeout + IpReasmFails; fragment 0 and the last -> the same; only a later
 * fragment -> the counters but no ICMP. */
static void timeout_case(bool with_first, bool with_last, int icmps)
{
	ips_world *w = ips_world_new(2);
	ips_stack *a, *b;
	struct te_seen s = { 0 };
	struct ping_result pr;
	struct test_ipv4 h = {
		.saddr = A("10.0.0.1"), .daddr = A("10.0.0.2"), .proto = IPPROTO_ICMP, .id = 301,
		.mf = true,
	};

	ASSERT_EQ(two_hosts(w, &a, &b, NULL), 0);
	ASSERT_EQ(test_ping(a, A("10.0.0.2"), 8, NULL, &pr), 1);	/* ARP both ways */
	ASSERT_EQ(ips_sysctl_set(b, "net.ipv4.ipfrag_time", "2"), 0);
	s.l.fn = te_fn;
	s.l.arg = &s;
	icmp_listener_add(a, &s.l);
	make_msg(40, 5);
	if (with_first) {
		h.payload = MSG;
		h.len = 16;
		test_ipv4_inject(b, "eth0", test_ipv4_build(b, &h));
	}
	h.frag_off = 16;
	h.payload = MSG + 16;
	h.len = 8;
	test_ipv4_inject(b, "eth0", test_ipv4_build(b, &h));
	if (with_last) {
		h.frag_off = 32;
		h.payload = MSG + 32;
		h.len = 8;
		h.mf = false;
		test_ipv4_inject(b, "eth0", test_ipv4_build(b, &h));
	}
	test_run(w, SEC(2) - MS(1));
	CHECK_EQ(s.n, 0);
	CHECK_EQ(test_counter(b, "IpReasmTimeout"), 0);
	test_run(w, SEC(1));
	CHECK_EQ(s.n, icmps);
	if (icmps) {
		CHECK_EQ(s.type, ICMP_TIME_EXCEEDED);
		CHECK_EQ(s.code, ICMP_EXC_FRAGTIME);
		CHECK_EQ(s.quoted, 36);
		CHECK_EQ(s.inner_frag, WIRE_IPV4_MF);
	}
	CHECK_EQ(test_counter(b, "IpReasmTimeout"), 1);
	CHECK_EQ(test_counter(b, "IpReasmFails"), 1);
	CHECK_EQ(test_counter(b, "IcmpOutTimeExcds"), icmps);
	icmp_listener_del(a, &s.l);
	CHECK_EQ(ips_stack_pkb_outstanding(a), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(b), 0);
	ips_world_free(w);
}

TEST(reasm_timeout_time_exceeded_when_first_fragment_came)
{
	timeout_case(true, false, 1);
}

TEST(reasm_timeout_time_exceeded_with_a_hole)
{
	timeout_case(true, true, 1);
}

TEST(reasm_timeout_silent_without_first_fragment)
{
	timeout_case(false, true, 0);
}

TEST_MAIN

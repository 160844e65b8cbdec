/* Output fragmentation (ip4_fragment), as Linux's ip_do_fragment() cuts datagrams:
 * sizes, offsets and flags, options per their copied bit, refragmentation, DF,
 * frag_max_size and the counters. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <string.h>

#include "test.h"
#include "support/support.h"
#include "core/stack.h"
#include "ip/ip.h"
#include "wire/ipv4.h"
#include "wire/wire.h"

static ips_world *W;
static ips_stack *ST;
static uint8_t DATA[70000];

struct cap {
	int n;
	int fail_at;			/* out() fails on this fragment (1-based); 0 = never */
	struct pkb *p[64];
};
static struct cap CAP;
static uint32_t BASE;		/* offset of the datagram being cut */

static int cap_out(struct ips_stack *st, struct pkb *frag, const struct rt_result *rt)
{
	if (CAP.fail_at && CAP.n + 1 == CAP.fail_at) {
		pkb_free(frag);
		return -ENOBUFS;
	}
	if (CAP.n < 64)
		CAP.p[CAP.n++] = frag;
	else
		pkb_free(frag);
	return 0;
}

static void setup(void)
{
	W = ips_world_new(1);
	ST = ips_world_add_stack(W, "h");
	memset(&CAP, 0, sizeof(CAP));
	BASE = 0;
	test_fill(DATA, sizeof(DATA), 1);
}

static void teardown(void)
{
	for (int i = 0; i < CAP.n; i++)
		pkb_free(CAP.p[i]);
	CHECK_EQ(ips_stack_pkb_outstanding(ST), 0);
	ips_world_free(W);
}

static struct pkb *dgram(size_t len, uint16_t frag_off, bool mf, bool df, const uint8_t *opts,
			 size_t opts_len)
{
	struct test_ipv4 h = {
		.saddr = A("10.0.0.1"), .daddr = A("10.0.0.2"), .proto = 17, .id = 0x1234,
		.frag_off = frag_off, .mf = mf, .df = df, .ttl = 9,
		.opts = opts, .opts_len = opts_len, .payload = DATA, .len = len,
	};
	struct pkb *p = test_ipv4_build(ST, &h);

	memset(IP4_CB(p), 0, sizeof(struct ip4_cb));
	return p;
}

static int frag(struct pkb *p, uint32_t mtu)
{
	struct rt_result rt = { .mtu = mtu };
	int err;

	stack_lock(ST);
	err = ip4_fragment(ST, p, mtu, &rt, cap_out);
	stack_unlock(ST);
	return err;
}

/* Check fragment i: offset, data length, MF, and that its bytes are the datagram's. */
static void check_frag(int i, uint32_t off, uint32_t len, bool mf, size_t hlen)
{
	const uint8_t *h;

	ASSERT(i < CAP.n);
	h = CAP.p[i]->data;
	CHECK_EQ(CAP.p[i]->len, hlen + len);
	CHECK_EQ(wire_ipv4_hdr_len(h), hlen);
	CHECK_EQ(get_be16(h + 2), hlen + len);
	CHECK_EQ(get_be16(h + 4), 0x1234);
	CHECK_EQ(get_be16(h + 6), (off >> 3) | (mf ? WIRE_IPV4_MF : 0));
	CHECK_EQ(h[8], 9);
	CHECK(wire_ipv4_csum_ok(h, hlen));
	CHECK(memcmp(h + hlen, DATA + off - BASE, len) == 0);
}

/* 1480 bytes over 576: 552 + 552 + 376 (556 rounded down to a multiple of 8). */
TEST(frag_1500_into_576)
{
	setup();
	CHECK_EQ(frag(dgram(1480, 0, false, false, NULL, 0), 576), 0);
	ASSERT_EQ(CAP.n, 3);
	check_frag(0, 0, 552, true, 20);
	check_frag(1, 552, 552, true, 20);
	check_frag(2, 1104, 376, false, 20);
	for (int i = 0; i < 3; i++)
		CHECK(memcmp(CAP.p[i]->data + 20, DATA + 552 * i, i < 2 ? 552 : 376) == 0);
	CHECK_EQ(test_counter(ST, "IpFragOKs"), 1);
	CHECK_EQ(test_counter(ST, "IpFragCreates"), 3);
	CHECK_EQ(test_counter(ST, "IpFragFails"), 0);
	teardown();
}

/* An MTU that leaves a data space not a multiple of 8: rounded down (501 - 20 = 481
 * -> 480). */
TEST(frag_data_space_rounded_down_to_8)
{
	setup();
	CHECK_EQ(frag(dgram(1000, 0, false, false, NULL, 0), 501), 0);
	ASSERT_EQ(CAP.n, 3);
	check_frag(0, 0, 480, true, 20);
	check_frag(1, 480, 480, true, 20);
	check_frag(2, 960, 40, false, 20);
	teardown();
}

/* RFC 791: options without the copied flag (RR) stay in the first fragment only; the
 * later headers have them overwritten with NOPs (same length); copied ones (Router
 * Alert, 0x94) are in every fragment. */
TEST(frag_options_copied_per_copied_bit)
{
	uint8_t opts[12] = { IPOPT_NOP, IPOPT_RR, 7, 4, 0, 0, 0, 0, IPOPT_RA, 4, 0, 0 };
	const uint8_t *h;

	setup();
	/* 532 - 32 = 500 -> 496 per fragment */
	CHECK_EQ(frag(dgram(900, 0, false, false, opts, sizeof(opts)), 532), 0);
	ASSERT_EQ(CAP.n, 2);
	check_frag(0, 0, 496, true, 32);
	check_frag(1, 496, 404, false, 32);
	h = CAP.p[0]->data;
	CHECK(memcmp(h + 20, opts, 12) == 0);
	h = CAP.p[1]->data;
	for (int i = 0; i < 8; i++)
		CHECK_EQ(h[20 + i], IPOPT_NOP);
	CHECK(memcmp(h + 28, opts + 8, 4) == 0);
	teardown();
}

/* A router refragmenting a fragment from the middle: offsets continue from it and MF
 * stays on every piece ("If we are fragmenting a fragment that's not the last
 * fragment then keep MF on each bit"). */
TEST(frag_refragment_middle_fragment_keeps_mf)
{
	setup();
	BASE = 1480;
	CHECK_EQ(frag(dgram(1480, 1480, true, false, NULL, 0), 576), 0);
	ASSERT_EQ(CAP.n, 3);
	check_frag(0, 1480, 552, true, 20);
	check_frag(1, 2032, 552, true, 20);
	check_frag(2, 2584, 376, true, 20);
	teardown();
}

TEST(frag_refragment_last_fragment_clears_mf_at_end)
{
	setup();
	BASE = 2960;
	CHECK_EQ(frag(dgram(1000, 2960, false, false, NULL, 0), 576), 0);
	ASSERT_EQ(CAP.n, 2);
	check_frag(0, 2960, 552, true, 20);
	check_frag(1, 3512, 448, false, 20);
	teardown();
}

/* DF: not fragmented; FragFails, -EMSGSIZE (and a frag-needed back to the source). */
TEST(frag_df_refused)
{
	setup();
	CHECK_EQ(frag(dgram(1480, 0, false, true, NULL, 0), 576), -EMSGSIZE);
	CHECK_EQ(CAP.n, 0);
	CHECK_EQ(test_counter(ST, "IpFragFails"), 1);
	CHECK_EQ(test_counter(ST, "IpFragCreates"), 0);
	teardown();
}

/* A local datagram whose socket lets the stack fragment despite DF (skb->ignore_df):
 * cut, and the pieces carry no DF. */
TEST(frag_ignore_df_fragments_without_df)
{
	struct pkb *p;

	setup();
	p = dgram(1480, 0, false, true, NULL, 0);
	IP4_CB(p)->flags |= IP4_CB_IGNORE_DF;
	CHECK_EQ(frag(p, 1000), 0);
	ASSERT_EQ(CAP.n, 2);
	check_frag(0, 0, 976, true, 20);
	check_frag(1, 976, 504, false, 20);
	teardown();
}

/* A reassembled datagram leaves in pieces no larger than its largest fragment was
 * (IPCB(skb)->frag_max_size), even where the MTU is larger. */
TEST(frag_honours_frag_max_size)
{
	struct pkb *p;

	setup();
	p = dgram(1480, 0, false, false, NULL, 0);
	p->frag_max_size = 620;
	CHECK_EQ(frag(p, 1500), 0);
	ASSERT_EQ(CAP.n, 3);
	check_frag(0, 0, 600, true, 20);
	check_frag(1, 600, 600, true, 20);
	check_frag(2, 1200, 280, false, 20);
	teardown();
}

/* The output failing on the second fragment: FragFails, no FragOKs, one created. */
TEST(frag_output_failure_counts_fragfails)
{
	setup();
	CAP.fail_at = 2;
	CHECK_EQ(frag(dgram(1480, 0, false, false, NULL, 0), 576), -ENOBUFS);
	CHECK_EQ(CAP.n, 1);
	CHECK_EQ(test_counter(ST, "IpFragFails"), 1);
	CHECK_EQ(test_counter(ST, "IpFragOKs"), 0);
	CHECK_EQ(test_counter(ST, "IpFragCreates"), 1);
	teardown();
}

/* Too small an MTU for one 8-byte block after the header: refused. */
TEST(frag_mtu_below_header_plus_8_refused)
{
	setup();
	CHECK_EQ(frag(dgram(100, 0, false, false, NULL, 0), 27), -EINVAL);
	CHECK_EQ(CAP.n, 0);
	CHECK_EQ(test_counter(ST, "IpFragFails"), 1);
	teardown();
}

/* The largest datagram over 1500: 44 x 1480 + 395, and it reassembles. */
TEST(frag_65535_round_trip)
{
	struct pkb *r = NULL;

	setup();
	CHECK_EQ(frag(dgram(65515, 0, false, false, NULL, 0), 1500), 0);
	ASSERT_EQ(CAP.n, 45);
	check_frag(44, 44 * 1480, 395, false, 20);
	stack_lock(ST);
	for (int i = CAP.n - 1; i >= 0; i--) {
		struct pkb *p = ip4_defrag(ST, CAP.p[i]);

		CAP.p[i] = NULL;
		if (p)
			r = p;
	}
	stack_unlock(ST);
	CAP.n = 0;
	ASSERT(r);
	CHECK_EQ(r->len, 65535);
	CHECK(memcmp(r->data + 20, DATA, 65515) == 0);
	pkb_free(r);
	teardown();
}

TEST_MAIN

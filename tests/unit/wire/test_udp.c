/* UDP and UDP-Lite header and checksums. */
#include "core/csum.h"
#include "test.h"
#include "vectors.h"
#include "wire/udp.h"
#include "wire/wire.h"
#include "wire_test.h"

#include <errno.h>
#include <netinet/in.h>

#define LO ip4("127.0.0.1")

TEST(parse_real_datagram)
{
	uint8_t b[64];
	size_t n = unhex(CAP_UDP_DGRAM, b) - 20;
	struct wire_udp h;

	ASSERT_EQ(wire_udp_parse(b + 20, n, &h), 0);
	CHECK_EQ(h.sport, 0xca8a);
	CHECK_EQ(h.dport, 9999);
	CHECK_EQ(h.len, 22);
	CHECK_EQ(wire_udp_check_len(&h, n), 0);
	/* loopback leaves the pseudo-header sum for checksum offload to finish */
	CHECK_EQ(h.csum, (uint16_t)~ips_csum_fold(ips_csum_pseudo(LO, LO, IPPROTO_UDP, 22)));
	wire_udp_csum_fill(b + 20, n, LO, LO);
	CHECK(wire_udp_csum_ok(b + 20, n, LO, LO));
	b[30] ^= 1;
	CHECK(!wire_udp_csum_ok(b + 20, n, LO, LO));
}

TEST(every_truncated_length)
{
	uint8_t v[64];
	size_t n = unhex(CAP_UDP_DGRAM, v) - 20, len;
	struct wire_udp h;

	for (len = 0; len <= n; len++) {
		uint8_t *b = dup_exact(v + 20, len);
		int r = wire_udp_parse(b, len, &h);

		CHECK_EQ(r, len < 8 ? -EBADMSG : 0);
		if (r == 0)	/* a cut datagram is shorter than its length field */
			CHECK_EQ(wire_udp_check_len(&h, len), len < n ? -EBADMSG : 0);
		free(b);
	}
}

TEST(length_field_checks)
{
	struct wire_udp h = { .len = 7 };

	CHECK_EQ(wire_udp_check_len(&h, 100), -EBADMSG);
	h.len = 8;
	CHECK_EQ(wire_udp_check_len(&h, 100), 0);	/* caller trims to 8 */
	h.len = 101;
	CHECK_EQ(wire_udp_check_len(&h, 100), -EBADMSG);
}

TEST(zero_checksum_means_none_and_computed_zero_is_ffff)
{
	uint8_t b[10];
	struct wire_udp h = { .sport = 1, .dport = 2, .len = 10, .csum = 0 };
	uint32_t sa = ip4("10.0.0.1"), da = ip4("10.0.0.2");
	uint16_t c;

	wire_udp_emit(b, &h);
	b[8] = 0;
	b[9] = 0;
	CHECK(wire_udp_csum_ok(b, 10, sa, da));	/* no checksum sent */
	/* choose the payload so that the sum is exactly 0xffff */
	c = wire_udp_csum(b, 10, sa, da);
	put_be16(b + 8, (uint16_t)(c == 0xffff ? 0 : c));
	CHECK_EQ(wire_udp_csum(b, 10, sa, da), 0xffff);
	wire_udp_csum_fill(b, 10, sa, da);
	CHECK_EQ(get_be16(b + 6), 0xffff);
	CHECK(wire_udp_csum_ok(b, 10, sa, da));
}

TEST(emit_parse_round_trip)
{
	uint8_t b[8];
	struct wire_udp h = { .sport = 53, .dport = 40000, .len = 512, .csum = 0xabcd }, g;

	CHECK_EQ(wire_udp_emit(b, &h), 8);
	ASSERT_EQ(wire_udp_parse(b, 8, &g), 0);
	CHECK_EQ(g.sport, 53);
	CHECK_EQ(g.dport, 40000);
	CHECK_EQ(g.len, 512);
	CHECK_EQ(g.csum, 0xabcd);
}

TEST(udplite_coverage_rules)
{
	struct wire_udp h = { .len = 0 };
	size_t cov = 0;

	CHECK_EQ(wire_udplite_coverage(&h, 100, &cov), 0);
	CHECK_EQ(cov, 100);	/* 0 = whole datagram */
	h.len = 8;
	CHECK_EQ(wire_udplite_coverage(&h, 100, &cov), 0);
	CHECK_EQ(cov, 8);	/* header only */
	h.len = 7;
	CHECK_EQ(wire_udplite_coverage(&h, 100, &cov), -EBADMSG);
	h.len = 1;
	CHECK_EQ(wire_udplite_coverage(&h, 100, &cov), -EBADMSG);
	h.len = 100;
	CHECK_EQ(wire_udplite_coverage(&h, 100, &cov), 0);
	h.len = 101;
	CHECK_EQ(wire_udplite_coverage(&h, 100, &cov), -EBADMSG);
}

TEST(udplite_partial_coverage)
{
	uint8_t b[40];
	uint32_t sa = ip4("192.0.2.1"), da = ip4("192.0.2.2");
	struct wire_udp h = { .sport = 1000, .dport = 2000, .len = 12 };
	uint32_t s;
	size_t cov;

	memset(b, 0x5a, sizeof(b));
	wire_udp_emit(b, &h);
	ASSERT_EQ(wire_udplite_coverage(&h, sizeof(b), &cov), 0);
	wire_udplite_csum_fill(b, sizeof(b), cov, sa, da);
	CHECK(wire_udplite_csum_ok(b, sizeof(b), cov, sa, da));
	/* RFC 3828 3.1: pseudo-header length is the datagram length, proto 136 */
	s = ips_csum_pseudo(sa, da, 136, sizeof(b));
	CHECK_EQ(ips_csum_fold(ips_csum_add(s, b, 12)), 0);
	b[30] ^= 0xff;	/* outside the coverage: still fine */
	CHECK(wire_udplite_csum_ok(b, sizeof(b), cov, sa, da));
	b[10] ^= 0xff;	/* inside */
	CHECK(!wire_udplite_csum_ok(b, sizeof(b), cov, sa, da));
	/* the checksum is mandatory */
	put_be16(b + 6, 0);
	CHECK(!wire_udplite_csum_ok(b, sizeof(b), cov, sa, da));
}

TEST_MAIN

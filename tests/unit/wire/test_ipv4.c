/* IPv4 header parse/emit, checksum and in-place edits. */
#include "core/csum.h"
#include "test.h"
#include "vectors.h"
#include "wire/ipv4.h"
#include "wire/wire.h"
#include "wire_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>

static uint32_t rng_state = 0xdecafbad;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

TEST(parse_real_header_with_rr_option)
{
	uint8_t b[128];
	size_t n = unhex(RR_REQ, b);
	struct wire_ipv4 h;

	ASSERT_EQ(n, 76);
	ASSERT_EQ(wire_ipv4_parse(b, n, &h), 0);
	CHECK_EQ(h.version, 4);
	CHECK_EQ(h.hdr_len, 60);
	CHECK_EQ(h.tos, 0);
	CHECK_EQ(h.tot_len, 76);
	CHECK_EQ(h.id, 0x2b46);
	CHECK(h.df);
	CHECK(!h.mf);
	CHECK(!h.rf);
	CHECK_EQ(h.frag_off, 0);
	CHECK_EQ(h.ttl, 64);
	CHECK_EQ(h.proto, IPPROTO_ICMP);
	CHECK_EQ(h.csum, 0x6058);
	CHECK_EQ(h.saddr, ip4("127.0.0.1"));
	CHECK_EQ(h.daddr, ip4("127.0.0.1"));
	CHECK(h.opts == b + 20);
	CHECK_EQ(h.opts_len, 40);
	CHECK(wire_ipv4_csum_ok(b, h.hdr_len));
	CHECK_EQ(wire_ipv4_csum(b, h.hdr_len), 0x6058);
	CHECK_EQ(wire_ipv4_check_len(&h, n), WIRE_IPV4_LEN_OK);
}

TEST(every_truncated_length_of_a_header_with_options)
{
	uint8_t v[128];
	size_t n = unhex(RR_REQ, v), len;
	struct wire_ipv4 h;

	for (len = 0; len < n; len++) {
		uint8_t *b = dup_exact(v, len);
		int err = wire_ipv4_parse(b, len, &h);

		if (len < 60)
			CHECK_EQ(err, -ENODATA);	/* < 20, or < IHL * 4 */
		else
			CHECK_EQ(err, 0);
		if (err == 0)	/* header complete but datagram cut short */
			CHECK_EQ(wire_ipv4_check_len(&h, len), WIRE_IPV4_LEN_TRUNCATED);
		free(b);
	}
}

TEST(bad_version_and_ihl_are_header_errors)
{
	uint8_t v[128];
	size_t n = unhex(RR_REQ, v);
	struct wire_ipv4 h;
	int ihl;

	v[0] = 0x6f;
	CHECK_EQ(wire_ipv4_parse(v, n, &h), -EBADMSG);
	for (ihl = 0; ihl < 5; ihl++) {
		v[0] = (uint8_t)(0x40 | ihl);
		CHECK_EQ(wire_ipv4_parse(v, n, &h), -EBADMSG);
	}
	/* a bad version is reported once 20 bytes are there, but not before */
	v[0] = 0x65;
	CHECK_EQ(wire_ipv4_parse(v, 19, &h), -ENODATA);
	CHECK_EQ(wire_ipv4_parse(v, 20, &h), -EBADMSG);
}

TEST(tot_len_checks)
{
	uint8_t v[128];
	size_t n = unhex(RR_REQ, v);
	struct wire_ipv4 h;

	ASSERT_EQ(wire_ipv4_parse(v, n, &h), 0);
	CHECK_EQ(wire_ipv4_check_len(&h, n + 100), WIRE_IPV4_LEN_OK);	/* padding: trim */
	CHECK_EQ(wire_ipv4_check_len(&h, n - 1), WIRE_IPV4_LEN_TRUNCATED);
	h.tot_len = 59;	/* shorter than its own header */
	CHECK_EQ(wire_ipv4_check_len(&h, n), WIRE_IPV4_LEN_BAD);
}

TEST(bad_checksum_detected)
{
	uint8_t v[128];
	size_t n = unhex(RR_REQ, v);

	(void)n;
	v[11] ^= 0x01;
	CHECK(!wire_ipv4_csum_ok(v, 60));
}

TEST(emit_reproduces_real_header)
{
	uint8_t v[128], b[60];
	size_t n = unhex(RR_REQ, v);
	struct wire_ipv4 h;

	(void)n;
	ASSERT_EQ(wire_ipv4_parse(v, 76, &h), 0);
	CHECK_EQ(wire_ipv4_emit(b, &h), 60);
	CHECK_MEM(b, v, 60);
}

TEST(emit_parse_round_trip_and_option_padding)
{
	static const uint8_t ra[] = { 0x94, 0x04, 0x00, 0x00, 0x01, 0x07 };	/* RA + NOP + junk */
	struct wire_ipv4 h = {
		.tos = 0xb8, .tot_len = 1000, .id = 0xbeef, .mf = true, .frag_off = 1480,
		.ttl = 1, .proto = IPPROTO_UDP, .saddr = ip4("10.1.2.3"), .daddr = ip4("224.0.0.22"),
		.opts = ra, .opts_len = 5,
	}, g;
	uint8_t b[60];

	ASSERT_EQ(wire_ipv4_emit(b, &h), 28);	/* 5 bytes of options pad to 8 */
	CHECK_EQ(b[0], 0x47);
	CHECK_EQ(get_be16(b + 6), WIRE_IPV4_MF | 1480 / 8);
	CHECK_MEM(b + 20, ra, 5);
	CHECK_EQ(b[25], 0);	/* EOL padding */
	CHECK_EQ(b[26], 0);
	CHECK_EQ(b[27], 0);
	CHECK(wire_ipv4_csum_ok(b, 28));
	ASSERT_EQ(wire_ipv4_parse(b, 28, &g), 0);
	CHECK_EQ(g.hdr_len, 28);
	CHECK_EQ(g.tos, h.tos);
	CHECK_EQ(g.tot_len, h.tot_len);
	CHECK_EQ(g.id, h.id);
	CHECK(g.mf && !g.df && !g.rf);
	CHECK_EQ(g.frag_off, 1480);
	CHECK_EQ(g.ttl, 1);
	CHECK_EQ(g.proto, IPPROTO_UDP);
	CHECK_EQ(g.saddr, h.saddr);
	CHECK_EQ(g.daddr, h.daddr);
	CHECK_EQ(g.opts_len, 8);
}

TEST(evil_bit_round_trips)
{
	struct wire_ipv4 h = { .tot_len = 20, .rf = true, .df = true, .ttl = 64 }, g;
	uint8_t b[20];

	wire_ipv4_emit(b, &h);
	CHECK_EQ(b[6], 0xc0);
	ASSERT_EQ(wire_ipv4_parse(b, 20, &g), 0);
	CHECK(g.rf && g.df && !g.mf);
}

TEST(in_place_edits_keep_checksum_valid)
{
	int round;

	for (round = 0; round < 2000; round++) {
		struct wire_ipv4 h = {
			.tos = (uint8_t)rng(), .tot_len = (uint16_t)rng(), .id = (uint16_t)rng(),
			.df = rng() & 1, .mf = rng() & 1, .frag_off = (uint16_t)(rng() & 0xfff8),
			.ttl = (uint8_t)rng(), .proto = (uint8_t)rng(), .saddr = rng(), .daddr = rng(),
		}, g;
		uint8_t b[20], ttl;

		wire_ipv4_emit(b, &h);
		switch (round % 8) {
		case 0:
			wire_ipv4_set_ttl(b, (uint8_t)rng());
			break;
		case 1:
			ttl = b[8];
			CHECK_EQ(wire_ipv4_dec_ttl(b), (uint8_t)(ttl - 1));
			break;
		case 2:
			wire_ipv4_set_tos(b, (uint8_t)rng());
			break;
		case 3:
			wire_ipv4_set_tot_len(b, (uint16_t)rng());
			break;
		case 4:
			wire_ipv4_set_id(b, (uint16_t)rng());
			break;
		case 5:
			wire_ipv4_set_frag(b, (uint16_t)(rng() & 0xfff8), rng() & 1, rng() & 1);
			break;
		case 6:
			wire_ipv4_set_saddr(b, rng());
			break;
		case 7:
			wire_ipv4_set_daddr(b, rng());
			break;
		}
		ASSERT(wire_ipv4_csum_ok(b, 20));
		ASSERT_EQ(get_be16(b + 10), wire_ipv4_csum(b, 20));
		ASSERT_EQ(wire_ipv4_parse(b, 20, &g), 0);
	}
}

TEST(set_frag_writes_fields)
{
	struct wire_ipv4 h = { .tot_len = 20, .rf = true, .ttl = 9 }, g;
	uint8_t b[20];

	wire_ipv4_emit(b, &h);
	wire_ipv4_set_frag(b, 2960, true, false);
	ASSERT_EQ(wire_ipv4_parse(b, 20, &g), 0);
	CHECK_EQ(g.frag_off, 2960);
	CHECK(g.mf);
	CHECK(!g.df);
	CHECK(!g.rf);	/* written afresh, as Linux does */
	wire_ipv4_set_saddr(b, ip4("192.0.2.1"));
	wire_ipv4_set_daddr(b, ip4("198.51.100.7"));
	ASSERT_EQ(wire_ipv4_parse(b, 20, &g), 0);
	CHECK_EQ(g.saddr, ip4("192.0.2.1"));
	CHECK_EQ(g.daddr, ip4("198.51.100.7"));
	CHECK(wire_ipv4_csum_ok(b, 20));
}

TEST(fix_csum_after_option_edit)
{
	uint8_t v[128];

	unhex(RR_REQ, v);
	v[23] = 12;	/* RR pointer */
	CHECK(!wire_ipv4_csum_ok(v, 60));
	wire_ipv4_fix_csum(v);
	CHECK(wire_ipv4_csum_ok(v, 60));
}

TEST(address_getters)
{
	uint8_t b[128];

	unhex(RR_REQ, b);
	struct wire_ipv4 h;

	ASSERT_EQ(wire_ipv4_parse(b, 60, &h), 0);
	CHECK_EQ(wire_ipv4_saddr(b), h.saddr);
	CHECK_EQ(wire_ipv4_daddr(b), h.daddr);
	CHECK_EQ(wire_ipv4_saddr(b), htonl(0x7f000001));
	wire_ipv4_set_daddr(b, htonl(0x0a000002));
	CHECK_EQ(wire_ipv4_daddr(b), htonl(0x0a000002));
	CHECK_EQ(wire_ipv4_saddr(b), htonl(0x7f000001));
}

TEST(field_getters_agree_with_parse)
{
	uint8_t b[128];
	struct wire_ipv4 h;

	unhex(RR_REQ, b);
	ASSERT_EQ(wire_ipv4_parse(b, 76, &h), 0);
	CHECK_EQ(wire_ipv4_version(b), 4);
	CHECK_EQ(wire_ipv4_tos(b), h.tos);
	CHECK_EQ(wire_ipv4_tot_len(b), h.tot_len);
	CHECK_EQ(wire_ipv4_id(b), h.id);
	CHECK_EQ(wire_ipv4_ttl(b), h.ttl);
	CHECK_EQ(wire_ipv4_proto(b), h.proto);
	CHECK(!wire_ipv4_is_fragment(b));	/* DF alone is not a fragment */
	wire_ipv4_set_frag(b, 0, true, false);
	CHECK(wire_ipv4_is_fragment(b));
	wire_ipv4_set_frag(b, 1480, false, false);
	CHECK(wire_ipv4_is_fragment(b));
	wire_ipv4_set_frag(b, 0, false, true);
	CHECK(!wire_ipv4_is_fragment(b));
	CHECK(wire_ipv4_csum_ok(b, wire_ipv4_hdr_len(b)));
}

TEST_MAIN

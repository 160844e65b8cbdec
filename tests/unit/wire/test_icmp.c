/* ICMP header parse/emit and checksum. */
#include "test.h"
#include "vectors.h"
#include "wire/icmp.h"
#include "wire/wire.h"
#include "wire_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

TEST(parse_real_echo_request_and_reply)
{
	uint8_t b[128];
	size_t n = unhex(RR_REQ, b);
	struct wire_icmp h;

	ASSERT_EQ(wire_icmp_parse(b + 60, n - 60, &h), 0);
	CHECK_EQ(h.type, ICMP_ECHO);
	CHECK_EQ(h.code, 0);
	CHECK_EQ(h.un.echo.id, 0x21b1);
	CHECK_EQ(h.un.echo.seq, 1);
	CHECK(wire_icmp_csum_ok(b + 60, n - 60));
	n = unhex(RR_REPLY, b);
	ASSERT_EQ(wire_icmp_parse(b + 60, n - 60, &h), 0);
	CHECK_EQ(h.type, ICMP_ECHOREPLY);
	CHECK_EQ(h.un.echo.id, 0x21b1);
	CHECK(wire_icmp_csum_ok(b + 60, n - 60));
}

TEST(parse_real_port_unreachable)
{
	uint8_t b[128];
	size_t n = unhex(CAP_ICMP_PORT_UNREACH, b);
	struct wire_icmp h;

	ASSERT_EQ(wire_icmp_parse(b + 20, n - 20, &h), 0);
	CHECK_EQ(h.type, ICMP_DEST_UNREACH);
	CHECK_EQ(h.code, ICMP_PORT_UNREACH);
	CHECK_EQ(h.un.unreach.length, 0);
	CHECK_EQ(h.un.unreach.mtu, 0);
	CHECK(wire_icmp_csum_ok(b + 20, n - 20));
	b[n - 1] ^= 0x40;	/* the checksum covers the quoted datagram too */
	CHECK(!wire_icmp_csum_ok(b + 20, n - 20));
}

TEST(every_truncated_length)
{
	uint8_t v[128];
	size_t n = unhex(RR_REQ, v) - 60, len;
	struct wire_icmp h;

	for (len = 0; len <= n; len++) {
		uint8_t *b = dup_exact(v + 60, len);

		CHECK_EQ(wire_icmp_parse(b, len, &h), len < 8 ? -EBADMSG : 0);
		if (len >= 8 && len < n)
			CHECK(!wire_icmp_csum_ok(b, len));
		free(b);
	}
}

TEST(emit_reproduces_real_echo_reply)
{
	uint8_t v[128], b[64];
	size_t n = unhex(RR_REPLY, v);
	struct wire_icmp h = { .type = ICMP_ECHOREPLY, .un.echo = { .id = 0x21b1, .seq = 1 } };

	ASSERT_EQ(wire_icmp_emit(b, &h, v + 68, n - 68), n - 60);
	CHECK_MEM(b, v + 60, n - 60);
}

TEST(emit_in_place_payload)
{
	uint8_t b[64];
	struct wire_icmp h = { .type = ICMP_ECHO, .un.echo = { .id = 7, .seq = 9 } }, g;

	memcpy(b + 8, "abcdefg", 7);
	ASSERT_EQ(wire_icmp_emit(b, &h, b + 8, 7), 15);
	CHECK_MEM(b + 8, "abcdefg", 7);
	CHECK(wire_icmp_csum_ok(b, 15));	/* odd length */
	ASSERT_EQ(wire_icmp_parse(b, 15, &g), 0);
	CHECK_EQ(g.un.echo.seq, 9);
}

TEST(views_round_trip)
{
	struct wire_icmp f = { .type = ICMP_DEST_UNREACH, .code = ICMP_FRAG_NEEDED,
			       .un.unreach = { .mtu = 1400 } };
	struct wire_icmp pp = { .type = ICMP_PARAMETERPROB, .un.pp = { .pointer = 22 } };
	struct wire_icmp rd = { .type = ICMP_REDIRECT, .code = ICMP_REDIR_HOST,
				.un.gateway = ip4("10.0.0.254") };
	struct wire_icmp raw = { .type = 42, .un.raw = { 1, 2, 3, 4 } };
	struct wire_icmp g;
	uint8_t b[8];

	wire_icmp_emit(b, &f, NULL, 0);
	CHECK_EQ(get_be16(b + 6), 1400);	/* RFC 1191: low half of the word */
	ASSERT_EQ(wire_icmp_parse(b, 8, &g), 0);
	CHECK_EQ(g.un.unreach.mtu, 1400);
	wire_icmp_emit(b, &pp, NULL, 0);
	CHECK_EQ(b[4], 22);
	ASSERT_EQ(wire_icmp_parse(b, 8, &g), 0);
	CHECK_EQ(g.un.pp.pointer, 22);
	wire_icmp_emit(b, &rd, NULL, 0);
	ASSERT_EQ(wire_icmp_parse(b, 8, &g), 0);
	CHECK_EQ(g.un.gateway, ip4("10.0.0.254"));
	CHECK_EQ(b[4], 10);
	wire_icmp_emit(b, &raw, NULL, 0);
	ASSERT_EQ(wire_icmp_parse(b, 8, &g), 0);
	CHECK_MEM(g.un.raw, raw.un.raw, 4);
	CHECK(wire_icmp_csum_ok(b, 8));
}

TEST(view_table)
{
	CHECK_EQ(wire_icmp_view(ICMP_ECHO), WIRE_ICMP_VIEW_ECHO);
	CHECK_EQ(wire_icmp_view(ICMP_TIMESTAMP), WIRE_ICMP_VIEW_ECHO);
	CHECK_EQ(wire_icmp_view(ICMP_TIME_EXCEEDED), WIRE_ICMP_VIEW_UNREACH);
	CHECK_EQ(wire_icmp_view(ICMP_REDIRECT), WIRE_ICMP_VIEW_GATEWAY);
	CHECK_EQ(wire_icmp_view(ICMP_PARAMETERPROB), WIRE_ICMP_VIEW_PP);
	CHECK_EQ(wire_icmp_view(9), WIRE_ICMP_VIEW_RAW);	/* router advertisement */
}

TEST(echo_id_and_fix_csum_in_place)
{
	uint8_t b[128];
	size_t n = unhex(RR_REQ, b);
	uint8_t *p = b + 60;
	size_t len = n - 60;
	struct wire_icmp h;

	CHECK_EQ(wire_icmp_echo_id_be(p), htons(0x21b1));
	wire_icmp_set_echo_id_be(p, htons(0x1234));
	CHECK(!wire_icmp_csum_ok(p, len));
	wire_icmp_fix_csum(p, len);
	CHECK(wire_icmp_csum_ok(p, len));
	ASSERT_EQ(wire_icmp_parse(p, len, &h), 0);
	CHECK_EQ(h.un.echo.id, 0x1234);
	CHECK_EQ(h.un.echo.seq, 1);
	/* A message rewritten back to the captured identifier gets the captured checksum. */
	wire_icmp_set_echo_id_be(p, htons(0x21b1));
	wire_icmp_fix_csum(p, len);
	uint8_t orig[128];

	unhex(RR_REQ, orig);
	CHECK_EQ(memcmp(p, orig + 60, len), 0);
}

TEST(type_getter)
{
	uint8_t b[128];
	size_t n = unhex(CAP_ICMP_PORT_UNREACH, b);

	ASSERT(n > 28);
	CHECK_EQ(wire_icmp_type(b + 20), ICMP_DEST_UNREACH);
	unhex(RR_REPLY, b);
	CHECK_EQ(wire_icmp_type(b + 60), ICMP_ECHOREPLY);
}

TEST_MAIN

/* TCP header and options: Linux's parse rules and Linux's exact option layout. */
#include "core/csum.h"
#include "test.h"
#include "vectors.h"
#include "wire/tcp.h"
#include "wire/wire.h"
#include "wire_test.h"

#include <errno.h>
#include <netinet/in.h>

#define LO ip4("127.0.0.1")

/* Options from hex into a TCP header; returns doff. */
static size_t seg_with_opts(uint8_t *b, const char *hex)
{
	uint8_t o[64];
	struct wire_tcp h = { .sport = 1, .dport = 2, .flags = WIRE_TCP_SYN, .opts = o };

	h.opts_len = (uint8_t)unhex(hex, o);
	return wire_tcp_emit(b, &h);
}

TEST(parse_real_syn)
{
	uint8_t b[128];
	size_t n = unhex(CAP_TCP_SYN, b) - 20;
	struct wire_tcp h;
	struct wire_tcp_opts o;

	ASSERT_EQ(wire_tcp_parse(b + 20, n, &h), 0);
	CHECK_EQ(h.sport, 0xdbb2);
	CHECK_EQ(h.dport, 5555);
	CHECK_EQ(h.seq, 0xf74f998f);
	CHECK_EQ(h.ack, 0);
	CHECK_EQ(h.doff, 40);
	CHECK_EQ(h.flags, WIRE_TCP_SYN);
	CHECK_EQ(h.window, 65495);
	CHECK_EQ(h.urg, 0);
	CHECK_EQ(h.opts_len, 20);
	ASSERT_EQ(wire_tcp_opts_parse(b + 20, h.doff, &o), 0);
	CHECK(o.has_mss);
	CHECK_EQ(o.mss, 65495);
	CHECK(o.sack_ok);
	CHECK(o.has_ts);
	CHECK_EQ(o.tsval, 0xeec4c275);
	CHECK_EQ(o.tsecr, 0);
	CHECK(o.has_wscale);
	CHECK_EQ(o.wscale, 10);
	CHECK_EQ(o.num_sacks, 0);
	CHECK(!o.has_fastopen && !o.has_md5);
}

TEST(loopback_checksum_is_partial_then_fill_completes_it)
{
	uint8_t b[128];
	size_t n = unhex(CAP_TCP_DATA, b) - 20;

	CHECK_EQ(get_be16(b + 36),
		 (uint16_t)~ips_csum_fold(ips_csum_pseudo(LO, LO, IPPROTO_TCP, (uint16_t)n)));
	CHECK(!wire_tcp_csum_ok(b + 20, n, LO, LO));
	wire_tcp_csum_fill(b + 20, n, LO, LO);
	CHECK(wire_tcp_csum_ok(b + 20, n, LO, LO));
	b[60] ^= 0x20;	/* payload */
	CHECK(!wire_tcp_csum_ok(b + 20, n, LO, LO));
}

/* Our emit writes the same option bytes Linux wrote in each captured segment. */
static void check_linux_layout(const char *vec)
{
	uint8_t b[128], out[40];
	struct wire_tcp h;
	struct wire_tcp_opts o;

	unhex(vec, b);
	ASSERT_EQ(wire_tcp_parse(b + 20, 60, &h), 0);
	ASSERT_EQ(wire_tcp_opts_parse(b + 20, h.doff, &o), 0);
	ASSERT_EQ(wire_tcp_opts_len(&o), h.opts_len);
	ASSERT_EQ(wire_tcp_opts_emit(out, &o), h.opts_len);
	CHECK_MEM(out, h.opts, h.opts_len);
}

TEST(emit_options_like_linux_syn)
{
	check_linux_layout(CAP_TCP_SYN);
}

TEST(emit_options_like_linux_synack)
{
	check_linux_layout(CAP_TCP_SYNACK);
}

TEST(emit_options_like_linux_ack)
{
	check_linux_layout(CAP_TCP_ACK);
}

TEST(emit_reproduces_real_header)
{
	uint8_t v[128], b[60];
	struct wire_tcp h;

	unhex(CAP_TCP_DATA, v);
	ASSERT_EQ(wire_tcp_parse(v + 20, 50, &h), 0);
	CHECK_EQ(h.flags, WIRE_TCP_ACK | WIRE_TCP_PSH);
	CHECK_EQ(wire_tcp_emit(b, &h), 32);
	CHECK_MEM(b, v + 20, 32);
}

TEST(every_truncated_length)
{
	uint8_t v[128];
	size_t n = unhex(CAP_TCP_DATA, v) - 20, len;
	struct wire_tcp h;

	for (len = 0; len <= n; len++) {
		uint8_t *b = dup_exact(v + 20, len);
		int r = wire_tcp_parse(b, len, &h);

		CHECK_EQ(r, len < 32 ? -EBADMSG : 0);
		if (r == 0) {
			struct wire_tcp_opts o;

			CHECK_EQ(wire_tcp_opts_parse(b, h.doff, &o), 0);
		}
		free(b);
	}
}

TEST(every_truncated_option_area)
{
	/* The option parser gets doff from the caller: cut the options short at every
	 * length (over an exact heap copy) and it must stop, never overrun. */
	uint8_t v[128];
	size_t doff;

	unhex(CAP_TCP_SYN, v);
	for (doff = 20; doff <= 40; doff++) {
		uint8_t *b = dup_exact(v + 20, doff);
		struct wire_tcp_opts o;
		int r = wire_tcp_opts_parse(b, doff, &o);

		CHECK(r == 0 || r == -EBADMSG);
		CHECK_EQ(o.has_mss, doff >= 24);
		CHECK_EQ(o.has_ts, doff >= 36);
		CHECK_EQ(o.has_wscale, doff >= 40);
		free(b);
	}
}

TEST(bad_data_offset)
{
	uint8_t v[128];
	size_t n = unhex(CAP_TCP_SYN, v) - 20;
	struct wire_tcp h;

	v[32] = 0x40;	/* 4 words < 20 bytes */
	CHECK_EQ(wire_tcp_parse(v + 20, n, &h), -EBADMSG);
	v[32] = 0xf0;	/* 60 bytes > 40 */
	CHECK_EQ(wire_tcp_parse(v + 20, n, &h), -EBADMSG);
}

TEST(flags_ae_and_reserved_round_trip)
{
	struct wire_tcp h = { .flags = WIRE_TCP_AE | WIRE_TCP_CWR | WIRE_TCP_ECE | WIRE_TCP_URG |
				       WIRE_TCP_FIN, .res = 5, .urg = 99 }, g;
	uint8_t b[20];

	wire_tcp_emit(b, &h);
	CHECK_EQ(b[12], 0x5b);	/* doff 5, res 101, AE */
	CHECK_EQ(b[13], 0xe1);
	ASSERT_EQ(wire_tcp_parse(b, 20, &g), 0);
	CHECK_EQ(g.flags, h.flags);
	CHECK_EQ(g.res, 5);
	CHECK_EQ(g.urg, 99);
}

TEST(options_unknown_skipped_wrong_length_ignored)
{
	uint8_t b[60];
	size_t doff = seg_with_opts(b, "fd 04 aabb 02 03 05 0204 05b4 03 02");
	struct wire_tcp_opts o;

	/* unknown kind 253 skipped; MSS with length 3 ignored; then a good MSS; then a
	 * window scale with length 2, ignored */
	ASSERT_EQ(wire_tcp_opts_parse(b, doff, &o), 0);
	CHECK(o.has_mss);
	CHECK_EQ(o.mss, 1460);
	CHECK(!o.has_wscale);
}

TEST(options_malformed_stop_parsing)
{
	uint8_t b[60];
	size_t doff;
	struct wire_tcp_opts o;

	doff = seg_with_opts(b, "0204 05b4 08 01 0303 07");	/* "silly" length 1 */
	CHECK_EQ(wire_tcp_opts_parse(b, doff, &o), -EBADMSG);
	CHECK(o.has_mss);	/* what came before is kept */
	CHECK(!o.has_wscale);
	doff = seg_with_opts(b, "0204 05b4 010101010101 080a 00000001");	/* partial TS */
	CHECK_EQ(wire_tcp_opts_parse(b, doff, &o), -EBADMSG);
	CHECK(o.has_mss && !o.has_ts);
	doff = seg_with_opts(b, "0204 05b4 00 0303 07");	/* EOL ends the list */
	CHECK_EQ(wire_tcp_opts_parse(b, doff, &o), 0);
	CHECK(!o.has_wscale);
	doff = seg_with_opts(b, "010101 02");	/* a kind with no room for its length */
	CHECK_EQ(wire_tcp_opts_parse(b, doff, &o), -EBADMSG);
}

TEST(sack_blocks)
{
	uint8_t b[60];
	size_t doff = seg_with_opts(b, "0101 0512 00000001 00000002 00000003 00000004");
	struct wire_tcp_opts o;

	ASSERT_EQ(wire_tcp_opts_parse(b, doff, &o), 0);
	CHECK_EQ(o.num_sacks, 2);
	CHECK_EQ(o.sack_off, 22);
	CHECK_EQ(o.sack[1].start, 3);
	CHECK_EQ(o.sack[1].end, 4);
	doff = seg_with_opts(b, "0101 0509 00000001 000000 00");	/* not 2 + 8n */
	ASSERT_EQ(wire_tcp_opts_parse(b, doff, &o), 0);
	CHECK_EQ(o.num_sacks, 0);
}

TEST(sack_emit_layout_and_clamp)
{
	struct wire_tcp_opts o = { .has_ts = true, .tsval = 1, .tsecr = 2, .num_sacks = 4,
				   .sack = { { 10, 20 }, { 30, 40 }, { 50, 60 }, { 70, 80 } } };
	uint8_t out[40], want[40];
	size_t n;

	/* with TS only 3 blocks fit: 12 + 4 + 24 = 40 */
	ASSERT_EQ(wire_tcp_opts_emit(out, &o), 40);
	n = unhex("0101080a 00000001 00000002 0101051a 0000000a 00000014 0000001e 00000028"
		  "00000032 0000003c", want);
	CHECK_MEM(out, want, n);
	o.has_ts = false;
	ASSERT_EQ(wire_tcp_opts_emit(out, &o), 36);	/* all 4 */
	CHECK_EQ(out[3], 34);
}

TEST(sack_ok_without_ts_and_ts_without_sack)
{
	struct wire_tcp_opts o = { .has_mss = true, .mss = 1460, .sack_ok = true,
				   .has_wscale = true, .wscale = 7 };
	uint8_t out[40], want[40];
	size_t n;

	n = unhex("020405b4 01010402 01030307", want);
	ASSERT_EQ(wire_tcp_opts_emit(out, &o), n);
	CHECK_MEM(out, want, n);
	o.sack_ok = false;
	o.has_ts = true;
	o.tsval = 0x11223344;
	n = unhex("020405b4 0101080a 11223344 00000000 01030307", want);
	ASSERT_EQ(wire_tcp_opts_emit(out, &o), n);
	CHECK_MEM(out, want, n);
}

TEST(fastopen)
{
	uint8_t b[60], out[40], want[40];
	size_t doff, n;
	struct wire_tcp_opts o;

	doff = seg_with_opts(b, "220a 0102030405060708 0101");
	ASSERT_EQ(wire_tcp_opts_parse(b, doff, &o), 0);
	CHECK(o.has_fastopen && !o.fastopen_exp);
	CHECK_EQ(o.fastopen_len, 8);
	CHECK_EQ(o.fastopen_cookie[7], 8);
	n = unhex("220a 0102030405060708 0101", want);
	ASSERT_EQ(wire_tcp_opts_emit(out, &o), n);	/* padded with NOPs like Linux */
	CHECK_MEM(out, want, n);
	/* the experimental form, RFC 6994 magic */
	doff = seg_with_opts(b, "fe08 f989 01020304");
	ASSERT_EQ(wire_tcp_opts_parse(b, doff, &o), 0);
	CHECK(o.has_fastopen && o.fastopen_exp);
	CHECK_EQ(o.fastopen_len, 4);
	ASSERT_EQ(wire_tcp_opts_emit(out, &o), 8);
	CHECK_MEM(out, "\xfe\x08\xf9\x89\x01\x02\x03\x04", 8);
	/* a cookie request */
	doff = seg_with_opts(b, "2202 0101");
	ASSERT_EQ(wire_tcp_opts_parse(b, doff, &o), 0);
	CHECK(o.has_fastopen);
	CHECK_EQ(o.fastopen_len, 0);
	/* odd length: ignored; too short a cookie: invalid */
	doff = seg_with_opts(b, "2203 01 01");
	ASSERT_EQ(wire_tcp_opts_parse(b, doff, &o), 0);
	CHECK(!o.has_fastopen);
	doff = seg_with_opts(b, "2204 0102");
	ASSERT_EQ(wire_tcp_opts_parse(b, doff, &o), 0);
	CHECK(o.has_fastopen);
	CHECK_EQ(o.fastopen_len, 0xff);
	/* a different experiment under 254 is not Fast Open */
	doff = seg_with_opts(b, "fe06 1234 0000");
	ASSERT_EQ(wire_tcp_opts_parse(b, doff, &o), 0);
	CHECK(!o.has_fastopen);
}

TEST(md5_signature_slot)
{
	struct wire_tcp_opts o = { .has_md5 = true, .has_mss = true, .mss = 536 }, p;
	uint8_t seg[60];
	struct wire_tcp h = { .flags = WIRE_TCP_SYN, .opts = seg + 20 };

	ASSERT_EQ(wire_tcp_opts_emit(seg + 20, &o), 24);
	CHECK_EQ(o.md5_off, 24);	/* 20 + NOP NOP kind len */
	CHECK_MEM(seg + 20, "\x01\x01\x13\x12", 4);
	h.opts_len = 24;
	wire_tcp_emit(seg, &h);
	ASSERT_EQ(wire_tcp_opts_parse(seg, 44, &p), 0);
	CHECK(p.has_md5);
	CHECK_EQ(p.md5_off, 24);
	CHECK(p.has_mss);
}

TEST(raw_field_access_agrees_with_parse)
{
	uint8_t b[128];
	size_t n = unhex(CAP_TCP_DATA, b) - 20;
	uint8_t *th = b + 20;
	struct wire_tcp h;

	ASSERT_EQ(wire_tcp_parse(th, n, &h), 0);
	CHECK_EQ(wire_tcp_hdr_len(th), h.doff);
	CHECK_EQ(wire_tcp_seq(th), h.seq);
	CHECK_EQ(wire_tcp_flags(th), h.flags);
	wire_tcp_set_seq(th, 0x01020304);
	wire_tcp_set_flags(th, WIRE_TCP_ACK | WIRE_TCP_FIN | WIRE_TCP_CWR);
	ASSERT_EQ(wire_tcp_parse(th, n, &h), 0);
	CHECK_EQ(h.seq, 0x01020304);
	CHECK_EQ(h.flags, WIRE_TCP_ACK | WIRE_TCP_FIN | WIRE_TCP_CWR);
	/* the data offset shares the flags' 16 bits and is kept */
	CHECK_EQ(wire_tcp_hdr_len(th), h.doff);
	CHECK_EQ(h.doff >= WIRE_TCP_HLEN, 1);
}

TEST_MAIN

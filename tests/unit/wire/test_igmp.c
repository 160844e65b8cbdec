/* IGMP v1/v2/v3 parse/emit and the RFC 3376 code format. */
#include "test.h"
#include "vectors.h"
#include "wire/igmp.h"
#include "wire/ipv4.h"
#include "wire/ipv4_opts.h"
#include "wire/wire.h"
#include "wire_test.h"

#include <errno.h>

TEST(parse_real_v3_join_report)
{
	uint8_t b[64], pp;
	size_t n = unhex(CAP_IGMPV3_JOIN, b);
	struct wire_ipv4 ip;
	struct wire_ipv4_opts o;
	struct wire_igmpv3_report r;
	struct wire_igmpv3_rec rec;
	struct wire_igmpv3_rec_iter it = { 0 };

	/* IP: TTL 1, to 224.0.0.22, with Router Alert (RFC 3376 4) */
	ASSERT_EQ(wire_ipv4_parse(b, n, &ip), 0);
	CHECK_EQ(ip.ttl, 1);
	CHECK_EQ(ip.daddr, ip4("224.0.0.22"));
	ASSERT_EQ(wire_ipv4_opts_parse(b, ip.hdr_len, &o, &pp), 0);
	CHECK_EQ(o.router_alert, 20);
	CHECK(wire_igmp_csum_ok(b + 24, n - 24));
	ASSERT_EQ(wire_igmpv3_report_parse(b + 24, n - 24, &r), 0);
	CHECK_EQ(r.nrecs, 1);
	ASSERT_EQ(wire_igmpv3_rec_next(&r, &it, &rec), 1);
	CHECK_EQ(rec.type, WIRE_IGMPV3_CHANGE_TO_EXCLUDE);	/* join = EXCLUDE {} */
	CHECK_EQ(rec.nsrcs, 0);
	CHECK_EQ(rec.aux_words, 0);
	CHECK_EQ(rec.group, ip4("239.1.2.3"));
	CHECK_EQ(wire_igmpv3_rec_next(&r, &it, &rec), 0);
}

TEST(emit_reproduces_real_v3_reports)
{
	uint8_t v[64], b[64];
	struct wire_igmpv3_rec_out rec = { .type = WIRE_IGMPV3_CHANGE_TO_EXCLUDE,
					   .group = ip4("239.1.2.3") };

	unhex(CAP_IGMPV3_JOIN, v);
	CHECK_EQ(wire_igmpv3_report_len(&rec, 1), 16);
	ASSERT_EQ(wire_igmpv3_report_emit(b, &rec, 1), 16);
	CHECK_MEM(b, v + 24, 16);
	unhex(CAP_IGMPV3_LEAVE, v);
	rec.type = WIRE_IGMPV3_CHANGE_TO_INCLUDE;	/* leave = INCLUDE {} */
	wire_igmpv3_report_emit(b, &rec, 1);
	CHECK_MEM(b, v + 24, 16);
}

TEST(report_with_sources_round_trip)
{
	uint32_t s1[2] = { ip4("10.0.0.1"), ip4("10.0.0.2") }, s2[1] = { ip4("10.9.9.9") };
	struct wire_igmpv3_rec_out recs[3] = {
		{ WIRE_IGMPV3_MODE_IS_INCLUDE, ip4("232.1.1.1"), s1, 2 },
		{ WIRE_IGMPV3_ALLOW_NEW_SOURCES, ip4("232.1.1.2"), s2, 1 },
		{ WIRE_IGMPV3_MODE_IS_EXCLUDE, ip4("239.0.0.1"), NULL, 0 },
	};
	uint8_t b[128];
	size_t n = wire_igmpv3_report_emit(b, recs, 3);
	struct wire_igmpv3_report r;
	struct wire_igmpv3_rec rec;
	struct wire_igmpv3_rec_iter it = { 0 };
	int k = 0;

	CHECK_EQ(n, wire_igmpv3_report_len(recs, 3));
	CHECK_EQ(n, 8 + 16 + 12 + 8);
	CHECK(wire_igmp_csum_ok(b, n));
	ASSERT_EQ(wire_igmpv3_report_parse(b, n, &r), 0);
	while (wire_igmpv3_rec_next(&r, &it, &rec) == 1) {
		unsigned int i;

		CHECK_EQ(rec.type, recs[k].type);
		CHECK_EQ(rec.group, recs[k].group);
		ASSERT_EQ(rec.nsrcs, recs[k].nsrcs);
		for (i = 0; i < rec.nsrcs; i++)
			CHECK_EQ(wire_igmpv3_src(rec.srcs, i), recs[k].srcs[i]);
		k++;
	}
	CHECK_EQ(k, 3);
}

TEST(report_records_past_the_end_fail)
{
	uint32_t s1[2] = { ip4("10.0.0.1"), ip4("10.0.0.2") };
	struct wire_igmpv3_rec_out rec = { WIRE_IGMPV3_MODE_IS_INCLUDE, ip4("232.1.1.1"), s1, 2 };
	uint8_t v[64];
	size_t n = wire_igmpv3_report_emit(v, &rec, 1), len;

	for (len = 0; len <= n; len++) {
		uint8_t *b = dup_exact(v, len);
		struct wire_igmpv3_report r;
		struct wire_igmpv3_rec out;
		struct wire_igmpv3_rec_iter it = { 0 };
		int ret = wire_igmpv3_report_parse(b, len, &r);

		if (len < 8) {
			CHECK_EQ(ret, -EBADMSG);
		} else {
			ASSERT_EQ(ret, 0);
			CHECK_EQ(wire_igmpv3_rec_next(&r, &it, &out), len < n ? -EBADMSG : 1);
		}
		free(b);
	}
	/* aux data counts too */
	v[9] = 1;
	{
		struct wire_igmpv3_report r;
		struct wire_igmpv3_rec out;
		struct wire_igmpv3_rec_iter it = { 0 };

		ASSERT_EQ(wire_igmpv3_report_parse(v, n, &r), 0);
		CHECK_EQ(wire_igmpv3_rec_next(&r, &it, &out), -EBADMSG);
	}
}

TEST(v1_v2_messages)
{
	/* an IGMPv2 general query as routers send it (Max Resp 10 s), and a v2 report */
	uint8_t q[8], b[8];
	struct wire_igmp h, g;

	unhex("11 64 ee9b 00000000", q);
	ASSERT_EQ(wire_igmp_parse(q, 8, &h), 0);
	CHECK_EQ(h.type, WIRE_IGMP_QUERY);
	CHECK_EQ(h.code, 100);
	CHECK_EQ(h.group, 0);
	CHECK(wire_igmp_csum_ok(q, 8));
	CHECK_EQ(wire_igmp_query_version(8, h.code), 2);
	CHECK_EQ(wire_igmp_query_version(8, 0), 1);
	CHECK_EQ(wire_igmp_query_version(10, 100), 0);
	CHECK_EQ(wire_igmp_query_version(12, 100), 3);
	CHECK_EQ(wire_igmp_emit(b, &h), 8);
	CHECK_MEM(b, q, 8);
	h = (struct wire_igmp){ .type = WIRE_IGMP_V2_REPORT, .group = ip4("239.1.2.3") };
	wire_igmp_emit(b, &h);
	CHECK(wire_igmp_csum_ok(b, 8));
	ASSERT_EQ(wire_igmp_parse(b, 8, &g), 0);
	CHECK_EQ(g.group, h.group);
	CHECK_EQ(wire_igmp_parse(b, 7, &g), -EBADMSG);
}

TEST(v3_query_parse_emit)
{
	uint32_t srcs[2] = { ip4("192.0.2.1"), ip4("192.0.2.2") };
	struct wire_igmpv3_query q = { .max_resp_code = 100, .group = ip4("232.1.1.1"),
				       .s_flag = true, .qrv = 2, .qqic = 125, .nsrcs = 2 }, g;
	uint8_t b[32];
	size_t n = wire_igmpv3_query_emit(b, &q, srcs), len;

	ASSERT_EQ(n, 20);
	CHECK_EQ(b[8], 0x0a);	/* S | QRV 2 */
	CHECK(wire_igmp_csum_ok(b, n));
	ASSERT_EQ(wire_igmpv3_query_parse(b, n, &g), 0);
	CHECK(g.s_flag);
	CHECK_EQ(g.qrv, 2);
	CHECK_EQ(g.qqic, 125);
	CHECK_EQ(g.nsrcs, 2);
	CHECK_EQ(wire_igmpv3_src(g.srcs, 1), srcs[1]);
	CHECK_EQ(g.group, q.group);
	for (len = 0; len < n; len++) {
		uint8_t *c = dup_exact(b, len);

		CHECK_EQ(wire_igmpv3_query_parse(c, len, &g), -EBADMSG);
		free(c);
	}
	/* re-emit from parsed bytes */
	{
		uint8_t c[32];

		ASSERT_EQ(wire_igmpv3_query_parse(b, n, &g), 0);
		CHECK_EQ(wire_igmpv3_query_emit(c, &g, NULL), n);
		CHECK_MEM(c, b, n);
	}
}

TEST(code_format)
{
	unsigned int v;

	CHECK_EQ(wire_igmpv3_code_decode(0), 0);
	CHECK_EQ(wire_igmpv3_code_decode(127), 127);
	CHECK_EQ(wire_igmpv3_code_decode(0x80), 128);
	CHECK_EQ(wire_igmpv3_code_decode(0xff), 31744);
	CHECK_EQ(wire_igmpv3_code_decode(0x8f), 0x1f << 3);
	CHECK_EQ(wire_igmpv3_code_encode(100), 100);
	CHECK_EQ(wire_igmpv3_code_encode(128), 0x80);
	CHECK_EQ(wire_igmpv3_code_encode(31744), 0xff);
	CHECK_EQ(wire_igmpv3_code_encode(1000000), 0xff);
	/* every code decodes and re-encodes to itself; every value rounds down */
	for (v = 0; v < 256; v++)
		CHECK_EQ(wire_igmpv3_code_encode(wire_igmpv3_code_decode((uint8_t)v)), v);
	for (v = 0; v < 40000; v++) {
		unsigned int d = wire_igmpv3_code_decode(wire_igmpv3_code_encode(v));

		if (v <= 31744 && d > v)
			TEST_FAIL_AT("%u encodes to %u", v, d);
	}
}

TEST_MAIN

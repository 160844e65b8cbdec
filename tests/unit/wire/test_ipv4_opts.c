/* IPv4 options: Linux ip_options_compile() rules and Parameter Problem pointers,
 * recording, echo, fragmentation, IP_OPTIONS compile/undo, forwarding. */
#include "test.h"
#include "vectors.h"
#include "wire/ipv4.h"
#include "wire/ipv4_opts.h"
#include "wire/wire.h"
#include "wire_test.h"

#include <errno.h>
#include <netinet/in.h>

/* "Ours" = 127/8 or 10.0.0.1, standing in for inet_addr_type() != RTN_UNICAST. */
static bool is_ours(void *arg, uint32_t a)
{
	(void)arg;
	return (ntohl(a) >> 24) == 127 || a == ip4("10.0.0.1");
}

/* An IPv4 header around the given option bytes (padded with EOL). */
static size_t hdr_with(uint8_t *b, const char *opts_hex)
{
	uint8_t o[64];
	struct wire_ipv4 h = {
		.tot_len = 100, .ttl = 64, .proto = IPPROTO_ICMP,
		.saddr = ip4("192.0.2.1"), .daddr = ip4("10.0.0.1"), .opts = o,
	};

	h.opts_len = (uint8_t)unhex(opts_hex, o);
	return wire_ipv4_emit(b, &h);
}

/* compile() on a header with these options; returns the error and *pp. */
static int compile_opts(const char *opts_hex, struct wire_ipv4_opts *opt, uint8_t *pp)
{
	uint8_t b[64];
	size_t n = hdr_with(b, opts_hex);
	struct wire_ipv4_opts_env env = { .spec_dst = ip4("10.0.0.1"), .ts_ms = 1234,
					  .prespec_is_ours = is_ours };

	*pp = 0xee;
	return wire_ipv4_opts_compile(b, n, &env, opt, pp);
}

/* Each case: options, the expected Parameter Problem pointer (from the IP header). */
#define CHECK_PP(hex, want)                                                   \
	do {                                                                  \
		struct wire_ipv4_opts _o;                                     \
		uint8_t _pp;                                                  \
		CHECK_EQ(compile_opts(hex, &_o, &_pp), -EBADMSG);             \
		CHECK_EQ(_pp, want);                                          \
	} while (0)

#define CHECK_OK(hex)                                                         \
	do {                                                                  \
		struct wire_ipv4_opts _o;                                     \
		uint8_t _pp;                                                  \
		CHECK_EQ(compile_opts(hex, &_o, &_pp), 0);                    \
	} while (0)

TEST(option_length_errors_point_at_the_option)
{
	CHECK_PP("07 01 04 00", 20);		/* length < 2 */
	CHECK_PP("07 00 04 00", 20);
	CHECK_PP("07 09 04 00 00000000", 20);	/* length > what is left (8) */
	CHECK_PP("01 01 01 07", 23);		/* no room for the length byte */
	CHECK_PP("01 44 40", 21);		/* TS at 21, length 0x40 > 3 left */
}

TEST(record_route_errors)
{
	CHECK_PP("07 02 0000", 21);			/* optlen < 3 */
	CHECK_PP("07 07 03 00000000 00", 22);		/* pointer < 4 */
	CHECK_PP("07 08 08 00000000 0000 0000", 22);	/* pointer 8 leaves 1 byte */
	CHECK_PP("07 07 04 00000000 07 07 04 00000000 00", 27);	/* duplicate */
	CHECK_OK("07 07 08 0a000001 00");	/* full: pointer = length + 1 */
	CHECK_OK("07 07 0c 0a000001 00");	/* pointer past the end: also "full" */
}

TEST(timestamp_errors)
{
	CHECK_PP("44 03 05 00", 21);				/* optlen < 4 */
	CHECK_PP("44 08 04 00 00000000", 22);			/* pointer < 5 */
	CHECK_PP("44 0a 09 00 00000000 0000 0000", 22);	/* 9 + 3 > 10 */
	CHECK_PP("44 0c 09 01 00000000 00000000", 22);		/* flag 1: 9 + 7 > 12 */
	CHECK_PP("44 0c 09 03 00000000 00000000", 22);		/* flag 3 likewise */
	CHECK_PP("44 08 09 f0 00000000", 23);			/* full, overflow 15 */
	CHECK_PP("44 08 09 f1 00000000", 23);
	CHECK_PP("44 08 05 00 00000000 44 08 05 00 00000000", 28);	/* duplicate */
	CHECK_OK("44 08 09 f3 00000000");	/* prespec overflow is left alone */
	CHECK_OK("44 08 05 02 00000000");	/* unknown flag on receipt: accepted */
}

TEST(source_route_errors)
{
	CHECK_PP("83 02 0000", 21);
	CHECK_PP("83 07 03 0a000001 00", 22);
	CHECK_PP("89 07 02 0a000001 00", 22);
	/* duplicate, even LSRR + SSRR (RFC 1812 5.2.4.1) */
	CHECK_PP("83 07 04 0a000001 89 07 04 0a000001 00", 27);
	/* a received route need not be whole, nor start at pointer 4 */
	CHECK_OK("83 08 08 0a000001 0000 0000");
}

TEST(router_alert_and_cipso_and_unknown)
{
	struct wire_ipv4_opts o;
	uint8_t pp;

	CHECK_PP("94 03 00 00", 21);
	ASSERT_EQ(compile_opts("94 04 0000", &o, &pp), 0);
	CHECK_EQ(o.router_alert, 20);
	ASSERT_EQ(compile_opts("01 94 04 0001", &o, &pp), 0);
	CHECK_EQ(o.router_alert, 0);	/* value != 0: not ours to act on */
	/* CIPSO with no DOI configured (Linux with NetLabel, the default) */
	CHECK_PP("86 06 00000001", 21);
	CHECK_PP("86 0a 00000001 0000 0000 0000", 22);
	/* unknown options, security, stream id: accepted on receipt */
	CHECK_OK("88 04 0001");
	CHECK_OK("82 0b 00000000 00000000 000000");
	CHECK_OK("1e 02 0000");
}

TEST(eol_ends_the_list_and_the_rest_is_zeroed)
{
	uint8_t b[64], pp;
	size_t n = hdr_with(b, "01 00 07 03 04 05 06 07");
	struct wire_ipv4_opts o;

	ASSERT_EQ(wire_ipv4_opts_compile(b, n, NULL, &o, &pp), 0);
	CHECK(o.is_changed);
	CHECK_EQ(o.rr, 0);	/* the RR after EOL is not an option */
	CHECK_EQ(b[21], 0);
	CHECK_EQ(b[27], 0);
	/* parse reports the same without writing */
	n = hdr_with(b, "01 00 07 03 04 05 06 07");
	ASSERT_EQ(wire_ipv4_opts_parse(b, n, &o, &pp), 0);
	CHECK_EQ(b[22], 7);
	CHECK(!o.is_changed);
}

TEST(rr_received_records_our_address)
{
	uint8_t b[128], pp;
	struct wire_ipv4_opts o;
	struct wire_ipv4_opts_env env = { .spec_dst = ip4("127.0.0.1") };

	unhex(RR_REQ, b);
	ASSERT_EQ(wire_ipv4_opts_compile(b, 60, &env, &o, &pp), 0);
	CHECK_EQ(o.optlen, 40);
	CHECK_EQ(o.rr, 21);
	CHECK(o.rr_needaddr);
	CHECK(o.is_changed);
	CHECK_EQ(b[23], 12);
	CHECK_EQ(get_in4(b + 28), ip4("127.0.0.1"));
}

TEST(rr_full_records_nothing)
{
	uint8_t b[64], pp;
	size_t n = hdr_with(b, "07 07 08 0a000002 00");
	struct wire_ipv4_opts o;
	struct wire_ipv4_opts_env env = { .spec_dst = ip4("10.0.0.1") };

	ASSERT_EQ(wire_ipv4_opts_compile(b, n, &env, &o, &pp), 0);
	CHECK_EQ(o.rr, 20);
	CHECK(!o.rr_needaddr);
	CHECK(!o.is_changed);
	CHECK_EQ(get_in4(b + 23), ip4("10.0.0.2"));
}

TEST(ts_flags_record_time_and_address)
{
	uint8_t b[64], pp;
	size_t n;
	struct wire_ipv4_opts o;
	struct wire_ipv4_opts_env env = { .spec_dst = ip4("10.0.0.1"), .ts_ms = 0x01020304,
					  .prespec_is_ours = is_ours };

	/* flag 0: time only */
	n = hdr_with(b, "44 0c 05 00 00000000 00000000");
	ASSERT_EQ(wire_ipv4_opts_compile(b, n, &env, &o, &pp), 0);
	CHECK_EQ(o.ts, 20);
	CHECK(o.ts_needtime && !o.ts_needaddr);
	CHECK_EQ(b[22], 9);
	CHECK_EQ(get_be32(b + 24), 0x01020304);
	/* flag 1: address + time */
	n = hdr_with(b, "44 0c 05 01 00000000 00000000");
	ASSERT_EQ(wire_ipv4_opts_compile(b, n, &env, &o, &pp), 0);
	CHECK(o.ts_needtime && o.ts_needaddr);
	CHECK_EQ(b[22], 13);
	CHECK_EQ(get_in4(b + 24), ip4("10.0.0.1"));
	CHECK_EQ(get_be32(b + 28), 0x01020304);
	/* flag 3, next address ours: time */
	n = hdr_with(b, "44 14 05 03 0a000001 00000000 0a000002 00000000");
	ASSERT_EQ(wire_ipv4_opts_compile(b, n, &env, &o, &pp), 0);
	CHECK(o.ts_needtime && !o.ts_needaddr);
	CHECK_EQ(b[22], 13);
	CHECK_EQ(get_be32(b + 28), 0x01020304);
	/* flag 3, next address someone else's: untouched */
	n = hdr_with(b, "44 14 05 03 0a000002 00000000 0a000001 00000000");
	ASSERT_EQ(wire_ipv4_opts_compile(b, n, &env, &o, &pp), 0);
	CHECK(!o.ts_needtime);
	CHECK(!o.is_changed);
	CHECK_EQ(b[22], 5);
	CHECK_EQ(o.ts, 20);
}

TEST(ts_full_increments_overflow)
{
	uint8_t b[64], pp;
	size_t n = hdr_with(b, "44 08 09 21 0a000002");
	struct wire_ipv4_opts o;

	ASSERT_EQ(wire_ipv4_opts_compile(b, n, NULL, &o, &pp), 0);
	CHECK_EQ(b[23], 0x31);
	CHECK(o.is_changed);
	CHECK(!o.ts_needtime);
	/* parse does not touch it */
	n = hdr_with(b, "44 08 09 21 0a000002");
	ASSERT_EQ(wire_ipv4_opts_parse(b, n, &o, &pp), 0);
	CHECK_EQ(b[23], 0x21);
}

/* The whole exchange Linux did for the captured pings: compile on receipt, echo,
 * write into the reply header: the reply must come out byte for byte. */
static void check_echo_vector(const char *req_hex, const char *reply_hex, uint32_t ts_ms)
{
	uint8_t req[128], want[128], out[MAX_IPOPTLEN], reply[60], pp;
	size_t hl;
	struct wire_ipv4 rq, wr;
	struct wire_ipv4_opts o, e;
	struct wire_ipv4_opts_env env = { .spec_dst = ip4("127.0.0.1"), .ts_ms = ts_ms,
					  .prespec_is_ours = is_ours };

	unhex(req_hex, req);
	unhex(reply_hex, want);
	ASSERT_EQ(wire_ipv4_parse(req, 128, &rq), 0);
	ASSERT_EQ(wire_ipv4_parse(want, 128, &wr), 0);
	hl = rq.hdr_len;
	ASSERT_EQ(wire_ipv4_opts_compile(req, hl, &env, &o, &pp), 0);
	ASSERT_EQ(wire_ipv4_opts_echo(req, &o, out, &e, is_ours, NULL), 0);
	ASSERT_EQ(WIRE_IPV4_HLEN + e.optlen, wr.hdr_len);
	/* the reply header as icmp_reply() builds it (no DF, the next IP ID) */
	wr.opts = out;
	wr.opts_len = e.optlen;
	wire_ipv4_emit(reply, &wr);
	wire_ipv4_opts_write(reply, out, &e, rq.saddr, ip4("127.0.0.1"), ts_ms);
	wire_ipv4_fix_csum(reply);
	CHECK_MEM(reply, want, wr.hdr_len);
}

TEST(echo_reproduces_linux_reply_rr)
{
	check_echo_vector(RR_REQ, RR_REPLY, 0);
}

TEST(echo_reproduces_linux_reply_ts_only)
{
	check_echo_vector(TSONLY_REQ, TSONLY_REPLY, 0x03510d1a);
}

TEST(echo_reproduces_linux_reply_ts_and_addr)
{
	check_echo_vector(TSADDR_REQ, TSADDR_REPLY, 0x03510dc2);
}

TEST(echo_reproduces_linux_reply_ts_prespec)
{
	check_echo_vector(PRESPEC_REQ, PRESPEC_REPLY, 0x03510e4e);
}

TEST(echo_reverses_source_route)
{
	/* S=192.0.2.1 sent via R1, R2 to us; each router replaced its hop with its
	 * outgoing address: LSRR [R1o, R2o], pointer past the end. */
	uint8_t b[64], out[MAX_IPOPTLEN], reply[64], pp;
	size_t n = hdr_with(b, "83 0b 0c c6336401 c6336402 00");
	struct wire_ipv4_opts o, e;
	struct wire_ipv4 h = { .tot_len = 20, .ttl = 64 };

	ASSERT_EQ(wire_ipv4_opts_compile(b, n, NULL, &o, &pp), 0);
	ASSERT_EQ(o.srr, 20);
	CHECK(!o.is_strictroute);
	ASSERT_EQ(wire_ipv4_opts_echo(b, &o, out, &e, NULL, NULL), 0);
	CHECK_EQ(e.srr, 20);
	CHECK_EQ(e.optlen, 12);
	CHECK(e.faddr_present);
	CHECK_EQ(e.faddr, ip4("198.51.100.2"));	/* the reply goes to R2o first */
	CHECK_EQ(out[0], 0x83);
	CHECK_EQ(out[1], 11);
	CHECK_EQ(out[2], 4);
	CHECK_EQ(get_in4(out + 3), ip4("198.51.100.1"));
	h.opts = out;
	h.opts_len = e.optlen;
	wire_ipv4_emit(reply, &h);
	wire_ipv4_opts_write(reply, out, &e, ip4("192.0.2.1"), ip4("10.0.0.1"), 0);
	/* ... then R1o, then the original source in the last slot */
	CHECK_EQ(get_in4(reply + 23), ip4("198.51.100.1"));
	CHECK_EQ(get_in4(reply + 27), ip4("192.0.2.1"));
}

TEST(echo_shortens_route_naming_the_source)
{
	/* RFC 1812 5.2.4.1: the first recorded hop is the packet's own source address */
	uint8_t b[64], out[MAX_IPOPTLEN], pp;
	size_t n = hdr_with(b, "83 0b 0c c0000201 c6336402 00");
	struct wire_ipv4_opts o, e;

	ASSERT_EQ(wire_ipv4_opts_compile(b, n, NULL, &o, &pp), 0);
	ASSERT_EQ(wire_ipv4_opts_echo(b, &o, out, &e, NULL, NULL), 0);
	/* the reply goes to R2o and straight on to the source: S is not listed as a hop */
	CHECK_EQ(e.srr, 20);
	CHECK_EQ(e.faddr, ip4("198.51.100.2"));
	CHECK_EQ(out[1], 7);	/* just the slot for the destination */
	CHECK_EQ(e.optlen, 8);
}

TEST(echo_strict_route_with_nothing_visited_is_dropped)
{
	uint8_t b[64], out[MAX_IPOPTLEN], pp;
	size_t n = hdr_with(b, "89 07 04 c6336401 00");
	struct wire_ipv4_opts o, e;

	ASSERT_EQ(wire_ipv4_opts_compile(b, n, NULL, &o, &pp), 0);
	CHECK(o.is_strictroute);
	ASSERT_EQ(wire_ipv4_opts_echo(b, &o, out, &e, NULL, NULL), 0);
	CHECK_EQ(e.srr, 0);
	CHECK_EQ(e.optlen, 0);
}

TEST(echo_copies_full_rr_without_claiming)
{
	/* one slot, taken by us on receipt: the option is full, the reply copies it */
	uint8_t b[64], out[MAX_IPOPTLEN], pp;
	size_t n = hdr_with(b, "07 07 04 00000000 00");
	struct wire_ipv4_opts o, e;
	struct wire_ipv4_opts_env env = { .spec_dst = ip4("10.0.0.1") };

	ASSERT_EQ(wire_ipv4_opts_compile(b, n, &env, &o, &pp), 0);
	CHECK_EQ(b[22], 8);
	ASSERT_EQ(wire_ipv4_opts_echo(b, &o, out, &e, NULL, NULL), 0);
	CHECK(!e.rr_needaddr);
	CHECK_EQ(out[2], 8);
	CHECK_EQ(get_in4(out + 3), ip4("10.0.0.1"));
}

TEST(echo_rr_with_partial_room_fails)
{
	/* length 10: one whole slot and 3 spare bytes. After we record, the pointer (8)
	 * is inside the option but no address fits: Linux ip_options_echo() -> -EINVAL,
	 * and icmp_reply() sends nothing. */
	uint8_t b[64], out[MAX_IPOPTLEN], pp;
	size_t n = hdr_with(b, "07 0a 04 00000000 000000 00 00");
	struct wire_ipv4_opts o, e;
	struct wire_ipv4_opts_env env = { .spec_dst = ip4("10.0.0.1") };

	ASSERT_EQ(wire_ipv4_opts_compile(b, n, &env, &o, &pp), 0);
	CHECK_EQ(wire_ipv4_opts_echo(b, &o, out, &e, NULL, NULL), -EINVAL);
}

TEST(echo_drops_router_alert_and_unknown)
{
	uint8_t b[64], out[MAX_IPOPTLEN], pp;
	size_t n = hdr_with(b, "94 04 0000 88 04 0001");
	struct wire_ipv4_opts o, e;

	ASSERT_EQ(wire_ipv4_opts_compile(b, n, NULL, &o, &pp), 0);
	ASSERT_EQ(wire_ipv4_opts_echo(b, &o, out, &e, NULL, NULL), 0);
	CHECK_EQ(e.optlen, 0);
}

TEST(fragment_copy_replaces_uncopied_options_with_nops)
{
	uint8_t b[64], pp;
	size_t n = hdr_with(b, "07 07 04 00000000 83 07 04 0a000002 94 04 0000 44 08 05 00 00000000");
	struct wire_ipv4_opts o;
	static const uint8_t nops7[7] = { 1, 1, 1, 1, 1, 1, 1 };
	static const uint8_t nops8[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };

	ASSERT_EQ(n, 48);
	ASSERT_EQ(wire_ipv4_opts_parse(b, n, &o, &pp), 0);
	CHECK(o.rr && o.ts && o.srr && o.router_alert);
	wire_ipv4_opts_fragment_copy(b, &o);
	CHECK_MEM(b + 20, nops7, 7);		/* RR (class 0, not copied) */
	CHECK_EQ(b[27], 0x83);			/* LSRR copied */
	CHECK_EQ(b[34], 0x94);			/* RA copied */
	CHECK_MEM(b + 38, nops8, 8);		/* TS (class 2, not copied) */
	CHECK_EQ(o.rr, 0);
	CHECK_EQ(o.ts, 0);
	CHECK(o.srr);
}

TEST(user_options_compile_and_undo)
{
	uint8_t d[MAX_IPOPTLEN], orig[MAX_IPOPTLEN], iph[60];
	size_t len = unhex("83 0b 04 0a000002 0a000003", d);
	struct wire_ipv4_opts o;

	memcpy(orig, d, len);
	ASSERT_EQ(wire_ipv4_opts_compile_user(d, &len, false, NULL, NULL, &o), 0);
	CHECK_EQ(len, 12);	/* padded */
	CHECK_EQ(d[11], 0);
	CHECK_EQ(o.srr, 20);
	CHECK(o.faddr_present);
	CHECK_EQ(o.faddr, ip4("10.0.0.2"));
	CHECK_EQ(get_in4(d + 3), ip4("10.0.0.3"));	/* shifted down */
	/* on output the destination fills the last slot */
	wire_ipv4_opts_write(iph, d, &o, ip4("192.0.2.9"), ip4("10.0.0.1"), 0);
	CHECK_EQ(get_in4(iph + 23), ip4("10.0.0.3"));
	CHECK_EQ(get_in4(iph + 27), ip4("192.0.2.9"));
	wire_ipv4_opts_undo(d, &o);
	CHECK_MEM(d, orig, 11);
}

TEST(user_rr_and_ts_claim_slots_for_output)
{
	uint8_t d[MAX_IPOPTLEN], iph[60];
	size_t len = unhex("07 0b 04 00000000 00000000 44 0c 05 01 00000000 00000000", d);
	struct wire_ipv4_opts o;

	ASSERT_EQ(wire_ipv4_opts_compile_user(d, &len, false, NULL, NULL, &o), 0);
	CHECK_EQ(len, 24);
	CHECK(o.rr_needaddr && o.ts_needaddr && o.ts_needtime);
	CHECK_EQ(d[2], 8);
	CHECK_EQ(d[11 + 2], 13);
	wire_ipv4_opts_write(iph, d, &o, ip4("192.0.2.9"), ip4("10.0.0.1"), 777);
	CHECK_EQ(get_in4(iph + 23), ip4("10.0.0.1"));
	CHECK_EQ(get_in4(iph + 35), ip4("10.0.0.1"));
	CHECK_EQ(get_be32(iph + 39), 777);
	wire_ipv4_opts_undo(d, &o);
	CHECK_EQ(d[2], 4);
	CHECK_EQ(d[13], 5);
}

TEST(user_options_rules)
{
	uint8_t d[MAX_IPOPTLEN];
	size_t len;
	struct wire_ipv4_opts o;

	/* a sender's route starts at pointer 4 with whole addresses */
	len = unhex("83 07 08 0a000002", d);
	CHECK_EQ(wire_ipv4_opts_compile_user(d, &len, false, NULL, NULL, &o), -EINVAL);
	len = unhex("83 08 04 0a000002 00", d);
	CHECK_EQ(wire_ipv4_opts_compile_user(d, &len, false, NULL, NULL, &o), -EINVAL);
	len = unhex("83 03 04", d);
	CHECK_EQ(wire_ipv4_opts_compile_user(d, &len, false, NULL, NULL, &o), -EINVAL);
	/* unknown options and TS flags need CAP_NET_RAW */
	len = unhex("88 04 0001", d);
	CHECK_EQ(wire_ipv4_opts_compile_user(d, &len, false, NULL, NULL, &o), -EINVAL);
	len = unhex("88 04 0001", d);
	CHECK_EQ(wire_ipv4_opts_compile_user(d, &len, true, NULL, NULL, &o), 0);
	len = unhex("44 08 05 02 00000000", d);
	CHECK_EQ(wire_ipv4_opts_compile_user(d, &len, false, NULL, NULL, &o), -EINVAL);
	len = unhex("44 08 05 02 00000000", d);
	CHECK_EQ(wire_ipv4_opts_compile_user(d, &len, true, NULL, NULL, &o), 0);
	/* empty is fine; more than 40 is not */
	len = 0;
	CHECK_EQ(wire_ipv4_opts_compile_user(d, &len, false, NULL, NULL, &o), 0);
	len = 41;
	CHECK_EQ(wire_ipv4_opts_compile_user(d, &len, false, NULL, NULL, &o), -EINVAL);
}

TEST(srr_walk_and_forward)
{
	/* We are 10.0.0.1 and the first hop; the route goes on to 10.9.9.9. */
	uint8_t b[64], pp;
	size_t n = hdr_with(b, "83 0b 04 0a000001 0a090909 00");
	struct wire_ipv4_opts o;
	unsigned int ptr;
	uint32_t hop = 0;
	int r;

	ASSERT_EQ(wire_ipv4_opts_compile(b, n, NULL, &o, &pp), 0);
	/* the caller's ip_options_rcv_srr() loop: skip our own addresses */
	for (ptr = b[o.srr + 2]; (r = wire_ipv4_opts_srr_hop(b, &o, ptr, &hop, &pp)) == 1; ptr += 4) {
		if (!is_ours(NULL, hop))
			break;
		wire_ipv4_set_daddr(b, hop);
	}
	ASSERT_EQ(r, 1);
	CHECK_EQ(hop, ip4("10.9.9.9"));
	o.srr_is_hit = true;
	o.nexthop = hop;
	CHECK_EQ(wire_ipv4_opts_forward(b, &o, ip4("10.1.1.1")), 0);
	CHECK_EQ(get_in4(b + 16), ip4("10.9.9.9"));	/* new destination */
	CHECK_EQ(get_in4(b + 27), ip4("10.1.1.1"));	/* replaced by our outgoing address */
	CHECK_EQ(b[22], 12);
	CHECK(wire_ipv4_csum_ok(b, n));
	/* at the end of the route the walk reports "for us" */
	CHECK_EQ(wire_ipv4_opts_srr_hop(b, &o, 12, &hop, &pp), 0);
}

TEST(srr_walk_partial_address)
{
	uint8_t b[64], pp = 0;
	size_t n = hdr_with(b, "83 09 08 0a000001 0a09 00 00 00");
	struct wire_ipv4_opts o;
	uint32_t hop;

	ASSERT_EQ(wire_ipv4_opts_compile(b, n, NULL, &o, &pp), 0);
	CHECK_EQ(wire_ipv4_opts_srr_hop(b, &o, 8, &hop, &pp), -EBADMSG);
	CHECK_EQ(pp, 22);
}

TEST(forward_records_outgoing_address_in_rr)
{
	uint8_t b[64], pp;
	size_t n = hdr_with(b, "07 0b 04 00000000 00000000");
	struct wire_ipv4_opts o;
	struct wire_ipv4_opts_env env = { .spec_dst = ip4("10.0.0.1") };

	ASSERT_EQ(wire_ipv4_opts_compile(b, n, &env, &o, &pp), 0);
	wire_ipv4_fix_csum(b);
	CHECK_EQ(get_in4(b + 23), ip4("10.0.0.1"));
	CHECK_EQ(wire_ipv4_opts_forward(b, &o, ip4("172.16.0.1")), 0);
	CHECK_EQ(get_in4(b + 23), ip4("172.16.0.1"));
	CHECK_EQ(b[22], 8);
	CHECK(wire_ipv4_csum_ok(b, n));
}

TEST(builders)
{
	uint8_t p[MAX_IPOPTLEN];
	uint32_t hops[2] = { ip4("10.0.0.2"), ip4("10.0.0.3") };
	uint8_t want[MAX_IPOPTLEN];
	size_t n;

	n = unhex("07 27 04", want);
	memset(want + n, 0, 36);
	CHECK_EQ(wire_ipv4_opts_build_rr(p, 9), 39);
	CHECK_MEM(p, want, 39);
	CHECK_EQ(wire_ipv4_opts_build_rr(p, 10), 0);	/* would exceed 40 */
	n = unhex("44 0c 05 00 00000000 00000000", want);
	CHECK_EQ(wire_ipv4_opts_build_ts(p, IPOPT_TS_TSONLY, 2, NULL), n);
	CHECK_MEM(p, want, n);
	n = unhex("44 14 05 03 0a000002 00000000 0a000003 00000000", want);
	CHECK_EQ(wire_ipv4_opts_build_ts(p, IPOPT_TS_PRESPEC, 2, hops), n);
	CHECK_MEM(p, want, n);
	n = unhex("44 0c 05 01 00000000 00000000", want);
	CHECK_EQ(wire_ipv4_opts_build_ts(p, IPOPT_TS_TSANDADDR, 1, NULL), n);
	CHECK_MEM(p, want, n);
	n = unhex("89 0b 04 0a000002 0a000003", want);
	CHECK_EQ(wire_ipv4_opts_build_srr(p, true, hops, 2), n);
	CHECK_MEM(p, want, n);
	n = unhex("94 04 00 00", want);
	CHECK_EQ(wire_ipv4_opts_build_ra(p, 0), n);
	CHECK_MEM(p, want, n);
	CHECK_EQ(wire_ipv4_opts_pad(p, 5), 8);
	CHECK_EQ(p[5], 0);
}

TEST(every_truncated_option_area_is_safe)
{
	/* Compile must never read or write past the option area, however it is cut:
	 * shrink IHL (so the bytes beyond are not options) over heap copies. */
	const char *vecs[] = { RR_REQ, TSONLY_REQ, TSADDR_REQ, PRESPEC_REQ };
	size_t k;

	for (k = 0; k < sizeof(vecs) / sizeof(vecs[0]); k++) {
		uint8_t v[128];
		size_t full, hl;

		unhex(vecs[k], v);
		full = (size_t)(v[0] & 0xf) * 4;
		for (hl = 20; hl <= full; hl += 4) {
			uint8_t *b = dup_exact(v, hl), pp;
			struct wire_ipv4_opts o;
			struct wire_ipv4_opts_env env = { .spec_dst = 1, .ts_ms = 2,
							  .prespec_is_ours = is_ours };
			int r;

			b[0] = (uint8_t)(0x40 | hl / 4);
			r = wire_ipv4_opts_parse(b, hl, &o, &pp);
			CHECK(r == 0 || (r == -EBADMSG && pp >= 20 && pp < hl));
			r = wire_ipv4_opts_compile(b, hl, &env, &o, &pp);
			CHECK(r == 0 || (r == -EBADMSG && pp >= 20 && pp < hl));
			free(b);
		}
	}
}

TEST_MAIN

/* ICMP between simulated stacks: options echoed in replies, the echo sysctls, the
 * timestamp server, errors (their rate limit, TOS, and the packets never answered with
 * one) and path MTU learning.
 *
 * Where a number comes from Linux it was taken from Linux 6.18 in two network
 * namespaces joined by a veth pair (10.9.0.1 - 10.9.0.2), with iputils ping, Python raw
 * sockets and nstat; each test says what was run. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <string.h>

#include "test.h"
#include "support/support.h"
#include "core/csum.h"
#include "core/stack.h"
#include "ip/icmp.h"
#include "wire/wire.h"

struct w2 {
	ips_world *w;
	ips_stack *a, *b;
};

static int setup2(struct w2 *t)
{
	t->w = ips_world_new(3);
	return two_hosts(t->w, &t->a, &t->b, NULL);
}

static void done2(struct w2 *t)
{
	CHECK_EQ(ips_stack_pkb_outstanding(t->a), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(t->b), 0);
	ips_world_free(t->w);
}

/* Every ICMP message a stack receives, summarised. */
struct seen {
	struct icmp_listener l;
	int n;
	int by_type[256];
	uint8_t last_type, last_code, last_tos;
	uint32_t last_from;
	size_t last_len;		/* ICMP bytes */
	uint8_t last[600];
};

static void seen_fn(void *arg, struct pkb *pkb)
{
	struct seen *s = arg;
	size_t len = (size_t)(pkb->data + pkb->len - pkb->th);

	s->n++;
	s->by_type[pkb->th[0]]++;
	s->last_type = pkb->th[0];
	s->last_code = pkb->th[1];
	s->last_tos = pkb->nh[1];
	s->last_from = get_in4(pkb->nh + 12);
	s->last_len = len;
	memcpy(s->last, pkb->th, len < sizeof(s->last) ? len : sizeof(s->last));
}

static void seen_start(struct seen *s, ips_stack *st)
{
	memset(s, 0, sizeof(*s));
	s->l.fn = seen_fn;
	s->l.arg = s;
	icmp_listener_add(st, &s->l);
}

/* ---- Options ---- */

/* `ping -R` (iputils: a NOP, then RR with 9 slots) between two Linux netns prints
 * "RR: 10.9.0.1 10.9.0.2 10.9.0.2 10.9.0.1": the sender records itself on output, the
 * echoer on input and again in the reply (__ip_options_echo claims the next slot),
 * and the sender on input. (The listener sees the reply after input processing.) */
TEST(ping_record_route_shows_four_hops_like_linux)
{
	static const uint8_t rr[40] = { IPOPT_NOP, IPOPT_RR, 39, 4 };
	struct ping_opts o = { .ipopts = rr, .ipopts_len = sizeof(rr) };
	struct w2 t;
	struct ping_result r;
	uint32_t a = A("10.0.0.1"), b = A("10.0.0.2");

	ASSERT_EQ(setup2(&t), 0);
	ASSERT_EQ(test_ping(t.a, b, 56, &o, &r), 1);
	/* The reply's options are the RR alone (the NOP is not echoed), padded with EOL. */
	ASSERT_EQ(r.reply_opts_len, 40);
	CHECK_EQ(r.reply_opts[0], IPOPT_RR);
	CHECK_EQ(r.reply_opts[1], 39);
	CHECK_EQ(r.reply_opts[2], 4 + 4 * 4);
	CHECK_EQ(get_in4(r.reply_opts + 3), a);
	CHECK_EQ(get_in4(r.reply_opts + 7), b);
	CHECK_EQ(get_in4(r.reply_opts + 11), b);
	CHECK_EQ(get_in4(r.reply_opts + 15), a);
	CHECK_EQ(get_in4(r.reply_opts + 19), 0);
	CHECK_EQ(r.reply_opts[39], IPOPT_EOL);
	done2(&t);
}

/* `ping -T tsonly` (TS, length 40, flag 0) prints four stamps: sender out, echoer in,
 * echoer out, sender in; `ping -T tsandaddr` (length 36, flag 1) four address+stamp
 * pairs with the same addresses as -R. */
TEST(ping_timestamp_tsonly_four_stamps_like_linux)
{
	static const uint8_t ts[40] = { IPOPT_TS, 40, 5, IPOPT_TS_TSONLY };
	struct ping_opts o = { .ipopts = ts, .ipopts_len = sizeof(ts) };
	struct w2 t;
	struct ping_result r;
	uint32_t now;

	ASSERT_EQ(setup2(&t), 0);
	/* Let the clock run into the day so that the stamps are not zero. */
	test_run(t.w, SEC(5));
	now = (uint32_t)(ips_world_now_ns(t.w) / 1000000u);
	ASSERT_EQ(test_ping(t.a, A("10.0.0.2"), 56, &o, &r), 1);
	ASSERT_EQ(r.reply_opts_len, 40);
	CHECK_EQ(r.reply_opts[2], 5 + 4 * 4);
	CHECK_EQ(r.reply_opts[3], IPOPT_TS_TSONLY);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(get_be32(r.reply_opts + 4 + 4 * i), now);
	CHECK_EQ(get_be32(r.reply_opts + 20), 0);
	done2(&t);
}

TEST(ping_timestamp_tsandaddr_four_pairs_like_linux)
{
	static const uint8_t ts[36] = { IPOPT_TS, 36, 5, IPOPT_TS_TSANDADDR };
	struct ping_opts o = { .ipopts = ts, .ipopts_len = sizeof(ts) };
	struct w2 t;
	struct ping_result r;
	uint32_t a = A("10.0.0.1"), b = A("10.0.0.2");

	ASSERT_EQ(setup2(&t), 0);
	ASSERT_EQ(test_ping(t.a, b, 56, &o, &r), 1);
	ASSERT_EQ(r.reply_opts_len, 36);
	CHECK_EQ(r.reply_opts[2], 37);	/* full */
	CHECK_EQ(get_in4(r.reply_opts + 4), a);
	CHECK_EQ(get_in4(r.reply_opts + 12), b);
	CHECK_EQ(get_in4(r.reply_opts + 20), b);
	CHECK_EQ(get_in4(r.reply_opts + 28), a);
	done2(&t);
}

/* ---- Echo sysctls ---- */

/* icmp_echo_ignore_all: the request is counted (IcmpInEchos), no reply, no error. */
TEST(echo_ignore_all_no_reply)
{
	struct w2 t;
	struct ping_result r;

	ASSERT_EQ(setup2(&t), 0);
	ASSERT_EQ(ips_sysctl_set(t.b, "net.ipv4.icmp_echo_ignore_all", "1"), 0);
	CHECK_EQ(test_ping(t.a, A("10.0.0.2"), 56, NULL, &r), 0);
	CHECK_EQ(r.errors, 0);
	CHECK_EQ(test_counter(t.b, "IcmpInEchos"), 1);
	CHECK_EQ(test_counter(t.b, "IcmpOutEchoReps"), 0);
	CHECK_EQ(test_counter(t.b, "IcmpInErrors"), 0);
	done2(&t);
}

/* `ping -b 10.9.0.255` to a Linux host with the default icmp_echo_ignore_broadcasts=1:
 * no reply, and the host counts the request in IcmpInEchos and IcmpInErrors (icmp_rcv
 * drops it through its error label). */
TEST(echo_to_broadcast_ignored_by_default)
{
	struct w2 t;
	struct ping_result r;
	struct ping_opts o = { .broadcast = true };

	ASSERT_EQ(setup2(&t), 0);
	CHECK_EQ(test_ping(t.a, A("10.0.0.255"), 56, &o, &r), 0);
	CHECK_EQ(r.sent, 1);
	CHECK_EQ(test_counter(t.b, "IcmpInEchos"), 1);
	CHECK_EQ(test_counter(t.b, "IcmpInErrors"), 1);
	CHECK_EQ(test_counter(t.b, "IcmpOutEchoReps"), 0);
	done2(&t);
}

/* With icmp_echo_ignore_broadcasts=0 the reply comes from the host's own address on
 * that subnet (fib_compute_spec_dst()), not from the broadcast address. */
TEST(echo_to_broadcast_answered_when_allowed)
{
	struct w2 t;
	struct ping_result r;
	struct ping_opts o = { .broadcast = true };

	ASSERT_EQ(setup2(&t), 0);
	ASSERT_EQ(ips_sysctl_set(t.b, "net.ipv4.icmp_echo_ignore_broadcasts", "0"), 0);
	CHECK_EQ(test_ping(t.a, A("10.0.0.255"), 56, &o, &r), 1);
	CHECK_EQ(r.reply_from, A("10.0.0.2"));
	done2(&t);
}

TEST(echo_reply_keeps_request_tos)
{
	struct w2 t;
	struct ping_result r;
	struct ping_opts o = { .tos = 0xb8 };

	ASSERT_EQ(setup2(&t), 0);
	CHECK_EQ(test_ping(t.a, A("10.0.0.2"), 56, &o, &r), 1);
	CHECK_EQ(r.reply_tos, 0xb8);
	done2(&t);
}

/* ---- Timestamp ---- */

/* A timestamp request (originate 12345) to Linux: a 20-byte reply with originate
 * copied and receive = transmit = ms since midnight UT; Linux counts the reply as
 * IcmpOutEchoReps / IcmpMsgOutType0 (not OutTimestampReps): its ICMP socket counts
 * by the flow's ICMP type, which icmp_reply() leaves 0. */
TEST(timestamp_request_answered_and_counted_as_linux)
{
	struct w2 t;
	struct seen s;
	uint8_t req[20] = { ICMP_TIMESTAMP, 0, 0, 0, 0x00, 0x77, 0x00, 0x01 };
	uint32_t now;

	ASSERT_EQ(setup2(&t), 0);
	seen_start(&s, t.a);
	test_run(t.w, SEC(2));
	now = (uint32_t)(ips_world_now_ns(t.w) / 1000000u);
	put_be32(req + 8, 12345);
	put_be16(req + 2, ips_csum_fold(ips_csum_add(0, req, sizeof(req))));
	ASSERT_EQ(test_send_ip(t.a, A("10.0.0.2"), IPPROTO_ICMP, req, sizeof(req), -1, 0, -1), 0);
	test_run(t.w, MS(100));
	ASSERT_EQ(s.by_type[ICMP_TIMESTAMPREPLY], 1);
	CHECK_EQ(s.last_len, 20);
	CHECK_EQ(get_be16(s.last + 4), 0x77);
	CHECK_EQ(get_be32(s.last + 8), 12345);
	CHECK_EQ(get_be32(s.last + 12), now);
	CHECK_EQ(get_be32(s.last + 16), now);
	CHECK_EQ(test_counter(t.b, "IcmpInTimestamps"), 1);
	CHECK_EQ(test_counter(t.b, "IcmpOutEchoReps"), 1);
	CHECK_EQ(test_counter(t.b, "IcmpMsgOutType0"), 1);
	CHECK_EQ(test_counter(t.b, "IcmpOutTimestampReps"), 0);
	CHECK_EQ(test_counter(t.b, "IcmpOutMsgs"), 1);
	icmp_listener_del(t.a, &s.l);
	done2(&t);
}

/* ---- Errors ---- */

/* Ten datagrams of an unknown protocol at once, three a second later, five three
 * seconds after that: protocol unreachables 6, 1 and 3 (10 sent, 8 limited), exactly
 * what Linux's per-host bucket (icmp_ratelimit 1000 ms, burst 6) gives. Checked
 * against Linux with the same pattern of UDP datagrams to a closed port from a raw
 * socket: 6, 1, 3 errors and IcmpOutRateLimitHost 8. */
TEST(error_rate_limit_per_host_exact)
{
	struct w2 t;
	struct seen s;
	uint8_t junk[8] = { 0 };

	ASSERT_EQ(setup2(&t), 0);
	seen_start(&s, t.a);
	for (int i = 0; i < 10; i++)
		test_send_ip(t.a, A("10.0.0.2"), 253, junk, sizeof(junk), -1, 0, -1);
	test_run(t.w, SEC(1));
	CHECK_EQ(s.by_type[ICMP_DEST_UNREACH], 6);
	CHECK_EQ(s.last_code, ICMP_PROT_UNREACH);
	for (int i = 0; i < 3; i++)
		test_send_ip(t.a, A("10.0.0.2"), 253, junk, sizeof(junk), -1, 0, -1);
	test_run(t.w, SEC(3));
	CHECK_EQ(s.by_type[ICMP_DEST_UNREACH], 7);
	for (int i = 0; i < 5; i++)
		test_send_ip(t.a, A("10.0.0.2"), 253, junk, sizeof(junk), -1, 0, -1);
	test_run(t.w, SEC(1));
	CHECK_EQ(s.by_type[ICMP_DEST_UNREACH], 10);
	CHECK_EQ(test_counter(t.b, "IcmpOutRateLimitHost"), 8);
	CHECK_EQ(test_counter(t.b, "IcmpOutRateLimitGlobal"), 0);
	CHECK_EQ(test_counter(t.b, "IcmpOutDestUnreachs"), 10);
	CHECK_EQ(test_counter(t.b, "IpInUnknownProtos"), 18);
	icmp_listener_del(t.a, &s.l);
	done2(&t);
}

/* icmp_ratemask without Destination Unreachable: nothing is limited. */
TEST(error_rate_limit_off_for_types_outside_ratemask)
{
	struct w2 t;
	struct seen s;
	uint8_t junk[8] = { 0 };

	ASSERT_EQ(setup2(&t), 0);
	ASSERT_EQ(ips_sysctl_set(t.b, "net.ipv4.icmp_ratemask", "6160"), 0);	/* 6168 - 8 */
	seen_start(&s, t.a);
	for (int i = 0; i < 20; i++)
		test_send_ip(t.a, A("10.0.0.2"), 253, junk, sizeof(junk), -1, 0, -1);
	test_run(t.w, SEC(1));
	CHECK_EQ(s.by_type[ICMP_DEST_UNREACH], 20);
	CHECK_EQ(test_counter(t.b, "IcmpOutRateLimitHost"), 0);
	icmp_listener_del(t.a, &s.l);
	done2(&t);
}

/* The TOS of an error is the offender's TOS bits (IPTOS_TOS_MASK, 0x1e) with
 * precedence "internetwork control" (0xc0). Linux 6.18 answers UDP sent with TOS 0xb8,
 * 0x1e and 0x04 to a closed port with TOS 0xd8, 0xde and 0xc4. */
TEST(error_tos_is_internetcontrol_plus_tos_bits)
{
	static const uint8_t tos_in[3] = { 0xb8, 0x1e, 0x04 }, tos_out[3] = { 0xd8, 0xde, 0xc4 };
	uint8_t junk[8] = { 0 };

	for (int i = 0; i < 3; i++) {
		struct w2 t;
		struct seen s;

		ASSERT_EQ(setup2(&t), 0);
		seen_start(&s, t.a);
		test_send_ip(t.a, A("10.0.0.2"), 253, junk, sizeof(junk), -1, tos_in[i], -1);
		test_run(t.w, MS(100));
		CHECK_EQ(s.by_type[ICMP_DEST_UNREACH], 1);
		CHECK_EQ(s.last_tos, tos_out[i]);
		icmp_listener_del(t.a, &s.l);
		done2(&t);
	}
}

/* An error quotes the offending header and as much of its payload as fits in 576
 * bytes (RFC 1812 4.3.2.3): 576 - 20 - 8 = 548 bytes of the original. */
TEST(error_quotes_up_to_576_bytes)
{
	struct w2 t;
	struct seen s;
	uint8_t big[1000];

	ASSERT_EQ(setup2(&t), 0);
	seen_start(&s, t.a);
	test_fill(big, sizeof(big), 3);
	test_send_ip(t.a, A("10.0.0.2"), 253, big, sizeof(big), -1, 0, -1);
	test_run(t.w, MS(100));
	ASSERT_EQ(s.by_type[ICMP_DEST_UNREACH], 1);
	CHECK_EQ(s.last_len, 8 + 548);
	CHECK_EQ(s.last[8 + 9], 253);
	CHECK_EQ(get_be16(s.last + 8 + 2), 1020);	/* the original's tot_len, untouched */
	CHECK(memcmp(s.last + 8 + 20, big, 528) == 0);
	icmp_listener_del(t.a, &s.l);
	done2(&t);
}

/* Never an error about an error: an ICMP Destination Unreachable whose TTL runs out
 * at a router is dropped silently; an echo request with the same TTL gets its Time
 * Exceeded. */
TEST(no_error_about_an_icmp_error)
{
	ips_world *w = ips_world_new(5);
	ips_stack *a, *r, *b;
	struct seen s;
	struct ping_result pr;
	struct ping_opts o = { .ttl = 1 };
	uint8_t err[36] = { ICMP_DEST_UNREACH, ICMP_PORT_UNREACH };

	ASSERT_EQ(host_router_host(w, &a, &r, &b, 0, 0), 0);
	seen_start(&s, a);
	/* a quoted header + 8 bytes */
	err[8] = 0x45;
	err[8 + 9] = IPPROTO_UDP;
	put_be16(err + 2, ips_csum_fold(ips_csum_add(0, err, sizeof(err))));
	ASSERT_EQ(test_send_ip(a, A("10.0.2.2"), IPPROTO_ICMP, err, sizeof(err), 1, 0, -1), 0);
	test_run(w, SEC(1));
	CHECK_EQ(s.n, 0);
	CHECK_EQ(test_counter(r, "IcmpOutTimeExcds"), 0);
	/* the control: an echo request */
	CHECK_EQ(test_ping(a, A("10.0.2.2"), 56, &o, &pr), 0);
	CHECK_EQ(pr.errors, 1);
	CHECK_EQ(pr.err_type, ICMP_TIME_EXCEEDED);
	CHECK_EQ(pr.err_code, ICMP_EXC_TTL);
	CHECK_EQ(pr.err_from, A("10.0.1.2"));
	CHECK_EQ(test_counter(r, "IcmpOutTimeExcds"), 1);
	icmp_listener_del(a, &s.l);
	CHECK_EQ(ips_stack_pkb_outstanding(a), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(r), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(b), 0);
	ips_world_free(w);
}

/* Never an error about a broadcast: an unknown protocol sent to the subnet broadcast
 * is counted (IpInUnknownProtos) but not answered; sent to the host, it is. */
TEST(no_error_about_a_broadcast)
{
	struct w2 t;
	struct seen s;
	uint8_t junk[8] = { 0 };

	ASSERT_EQ(setup2(&t), 0);
	seen_start(&s, t.a);
	ASSERT_EQ(test_send_ip(t.a, A("10.0.0.255"), 253, junk, sizeof(junk), -1, 0, -1), 0);
	test_run(t.w, SEC(1));
	CHECK_EQ(test_counter(t.b, "IpInUnknownProtos"), 1);
	CHECK_EQ(test_counter(t.b, "IcmpOutDestUnreachs"), 0);
	CHECK_EQ(s.by_type[ICMP_DEST_UNREACH], 0);
	ASSERT_EQ(test_send_ip(t.a, A("10.0.0.2"), 253, junk, sizeof(junk), -1, 0, -1), 0);
	test_run(t.w, SEC(1));
	CHECK_EQ(s.by_type[ICMP_DEST_UNREACH], 1);
	icmp_listener_del(t.a, &s.l);
	done2(&t);
}

/* Never an error about a fragment other than the first: a router whose TTL check
 * fails answers the offset-0 fragment with Time Exceeded and drops the second
 * silently. */
TEST(no_error_about_a_non_first_fragment)
{
	ips_world *w = ips_world_new(5);
	ips_stack *a, *r, *b;
	struct seen s;
	uint8_t data[16] = { 0 };
	struct test_ipv4 h = {
		.saddr = A("10.0.1.1"), .daddr = A("10.0.2.2"), .id = 77, .ttl = 1,
		.payload = data, .len = sizeof(data), .mf = true,
	};

	ASSERT_EQ(host_router_host(w, &a, &r, &b, 0, 0), 0);
	/* let r learn a's link address first */
	struct ping_result pr;
	ASSERT_EQ(test_ping(a, A("10.0.1.2"), 8, NULL, &pr), 1);
	seen_start(&s, a);
	h.frag_off = 16;
	test_ipv4_inject(r, "eth0", test_ipv4_build(r, &h));
	test_run(w, SEC(1));
	CHECK_EQ(s.n, 0);
	h.frag_off = 0;
	test_ipv4_inject(r, "eth0", test_ipv4_build(r, &h));
	test_run(w, SEC(1));
	CHECK_EQ(s.by_type[ICMP_TIME_EXCEEDED], 1);
	icmp_listener_del(a, &s.l);
	CHECK_EQ(ips_stack_pkb_outstanding(a), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(r), 0);
	ips_world_free(w);
}

/* A corrupted ICMP checksum: IcmpInMsgs, IcmpInCsumErrors and IcmpInErrors, no reply. */
TEST(bad_checksum_counted_and_dropped)
{
	struct w2 t;
	uint8_t req[16] = { ICMP_ECHO, 0, 0x12, 0x34, 0, 1, 0, 1 };

	ASSERT_EQ(setup2(&t), 0);
	ASSERT_EQ(test_send_ip(t.a, A("10.0.0.2"), IPPROTO_ICMP, req, sizeof(req), -1, 0, -1), 0);
	test_run(t.w, MS(100));
	CHECK_EQ(test_counter(t.b, "IcmpInMsgs"), 1);
	CHECK_EQ(test_counter(t.b, "IcmpInCsumErrors"), 1);
	CHECK_EQ(test_counter(t.b, "IcmpInErrors"), 1);
	CHECK_EQ(test_counter(t.b, "IcmpInEchos"), 0);
	CHECK_EQ(test_counter(t.b, "IcmpOutMsgs"), 0);
	done2(&t);
}

/* Unknown type 99: counted (IcmpMsgInType99) and dropped as an error (RFC 1122
 * 3.2.2: silently discarded). */
TEST(unknown_type_counted_and_discarded)
{
	struct w2 t;
	uint8_t m[16] = { 99 };

	ASSERT_EQ(setup2(&t), 0);
	put_be16(m + 2, ips_csum_fold(ips_csum_add(0, m, sizeof(m))));
	ASSERT_EQ(test_send_ip(t.a, A("10.0.0.2"), IPPROTO_ICMP, m, sizeof(m), -1, 0, -1), 0);
	test_run(t.w, MS(100));
	CHECK_EQ(test_counter(t.b, "IcmpMsgInType99"), 1);
	CHECK_EQ(test_counter(t.b, "IcmpInErrors"), 1);
	CHECK_EQ(test_counter(t.b, "IcmpOutMsgs"), 0);
	done2(&t);
}

/* ---- Path MTU ---- */

/* `ping -M do -s 1472` through a router whose next link has MTU 576: "Frag needed and
 * DF set (mtu = 576)"; the sender's exception holds 576 for route.mtu_expires (600 s)
 * and is gone after. */
TEST(frag_needed_updates_pmtu_which_expires)
{
	ips_world *w = ips_world_new(9);
	ips_stack *a, *r, *b;
	struct ping_result pr;
	struct ping_opts o = { .pmtudisc = PING_PMTU_DO };
	struct pmtu_info pi;
	uint32_t dst = A("10.0.2.2");
	uint64_t learnt;

	ASSERT_EQ(host_router_host(w, &a, &r, &b, 0, 576), 0);
	CHECK_EQ(test_ping(a, dst, 1472, &o, &pr), 0);
	CHECK_EQ(pr.errors, 1);
	CHECK_EQ(pr.err_type, ICMP_DEST_UNREACH);
	CHECK_EQ(pr.err_code, ICMP_FRAG_NEEDED);
	CHECK_EQ(pr.err_info & 0xffff, 576);
	learnt = ips_world_now_ns(w);
	ASSERT(pmtu_lookup(a, dst, &pi));
	CHECK_EQ(pi.mtu, 576);
	CHECK(!pi.locked);
	/* Now too big to send at all with DF: EMSGSIZE at the sender, MTU 576. */
	CHECK_EQ(test_ping(a, dst, 1472, &o, &pr), 0);
	CHECK_EQ(pr.send_err, -EMSGSIZE);
	CHECK_EQ(pr.send_mtu, 576);
	CHECK_EQ(test_ping(a, dst, 548, &o, &pr), 1);
	/* expiry: present until 600 s after it was learnt, gone at 600 s */
	test_run(w, learnt + SEC(600) - MS(1) - ips_world_now_ns(w));
	CHECK_EQ(pmtu_get(a, dst), 576);
	test_run(w, MS(1));
	CHECK_EQ(pmtu_get(a, dst), 0);
	CHECK(!pmtu_lookup(a, dst, &pi));
	CHECK_EQ(ips_stack_pkb_outstanding(a), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(r), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(b), 0);
	ips_world_free(w);
}

/* Frag-needed quoting an echo reply we sent (icmp_err -> ipv4_update_pmtu, no socket
 * needed), injected as a Linux host got it from a raw socket in the other netns, with
 * these MTUs in a row for 10.77.0.x routed via the neighbour: 60 -> "mtu lock 552",
 * 0 -> "mtu lock 552", 1000 then 600 -> "mtu 600", 1600 (above the route's 1500) ->
 * nothing (`ip route get` after each). */
static void inject_frag_needed(ips_stack *st, uint32_t about, uint16_t mtu)
{
	uint8_t m[8 + 28] = { ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED };
	uint8_t *in = m + 8;
	struct test_ipv4 h = {
		.saddr = A("10.0.0.2"), .daddr = A("10.0.0.1"), .proto = IPPROTO_ICMP,
		.payload = m, .len = sizeof(m),
	};

	put_be16(m + 6, mtu);
	in[0] = 0x45;
	put_be16(in + 2, 1400);
	put_be16(in + 6, 0x4000);
	in[8] = 64;
	in[9] = IPPROTO_ICMP;
	put_in4(in + 12, A("10.0.0.1"));
	put_in4(in + 16, about);
	in[20] = ICMP_ECHOREPLY;
	put_be16(m + 2, ips_csum_fold(ips_csum_add(0, m, sizeof(m))));
	test_ipv4_inject(st, "eth0", test_ipv4_build(st, &h));
}

TEST(frag_needed_values_as_linux_route_get_shows)
{
	struct w2 t;
	struct pmtu_info pi;

	ASSERT_EQ(setup2(&t), 0);
	ASSERT_EQ(ips_route_add_str(t.a, "10.77.0.0/16 via 10.0.0.2"), 0);
	inject_frag_needed(t.a, A("10.77.0.9"), 60);
	inject_frag_needed(t.a, A("10.77.0.10"), 0);
	inject_frag_needed(t.a, A("10.77.0.11"), 1000);
	inject_frag_needed(t.a, A("10.77.0.11"), 600);
	inject_frag_needed(t.a, A("10.77.0.12"), 1600);
	ASSERT(pmtu_lookup(t.a, A("10.77.0.9"), &pi));
	CHECK_EQ(pi.mtu, 552);
	CHECK(pi.locked);
	ASSERT(pmtu_lookup(t.a, A("10.77.0.10"), &pi));
	CHECK_EQ(pi.mtu, 552);
	CHECK(pi.locked);
	ASSERT(pmtu_lookup(t.a, A("10.77.0.11"), &pi));
	CHECK_EQ(pi.mtu, 600);
	CHECK(!pi.locked);
	CHECK(!pmtu_lookup(t.a, A("10.77.0.12"), &pi));
	CHECK_EQ(test_counter(t.a, "IcmpInDestUnreachs"), 5);
	done2(&t);
}

/* ---- Redirects ---- */

/* A redirect from `from` about something we sent to 10.77.0.9, naming new_gw as the
 * better first hop. It quotes an echo reply: Linux's icmp_err() follows redirects about
 * those without any socket (about an echo request, only the raw or ping socket that
 * sent it would). */
static void inject_redirect_quoting(ips_stack *st, uint32_t from, uint32_t new_gw, uint8_t code,
				    uint8_t quoted_type, uint16_t quoted_id)
{
	uint8_t m[8 + 28] = { ICMP_REDIRECT, code };
	uint8_t *in = m + 8;
	struct test_ipv4 h = {
		.saddr = from, .daddr = A("10.0.0.1"), .proto = IPPROTO_ICMP,
		.payload = m, .len = sizeof(m),
	};

	put_in4(m + 4, new_gw);
	in[0] = 0x45;
	put_be16(in + 2, 84);
	in[8] = 63;
	in[9] = IPPROTO_ICMP;
	put_in4(in + 12, A("10.0.0.1"));
	put_in4(in + 16, A("10.77.0.9"));
	in[20] = quoted_type;
	put_be16(in + 24, quoted_id);
	put_be16(m + 2, ips_csum_fold(ips_csum_add(0, m, sizeof(m))));
	test_ipv4_inject(st, "eth0", test_ipv4_build(st, &h));
}

static void inject_redirect(ips_stack *st, uint32_t from, uint32_t new_gw, uint8_t code)
{
	inject_redirect_quoting(st, from, new_gw, code, ICMP_ECHOREPLY, 0);
}

/* A redirect quoting an echo request is for the socket that sent it: ignored when none
 * did, followed when icmp_echo_send() (a raw ICMP socket's stand-in) sent that id. */
TEST(redirect_about_echo_request_only_for_its_sender)
{
	struct w2 t;
	struct ping_result r;
	struct ping_opts o = { .id = 0x777, .timeout_ns = MS(10) };

	ASSERT_EQ(setup2(&t), 0);
	ASSERT_EQ(ips_route_add_str(t.a, "10.77.0.0/16 via 10.0.0.2"), 0);
	inject_redirect_quoting(t.a, A("10.0.0.2"), A("10.0.0.3"), ICMP_REDIR_HOST, ICMP_ECHO,
				0x777);
	CHECK_EQ(pmtu_gateway_get(t.a, A("10.77.0.9")), 0);
	test_ping(t.a, A("10.77.0.9"), 8, &o, &r);
	inject_redirect_quoting(t.a, A("10.0.0.2"), A("10.0.0.3"), ICMP_REDIR_HOST, ICMP_ECHO,
				0x778);
	CHECK_EQ(pmtu_gateway_get(t.a, A("10.77.0.9")), 0);
	inject_redirect_quoting(t.a, A("10.0.0.2"), A("10.0.0.3"), ICMP_REDIR_HOST, ICMP_ECHO,
				0x777);
	CHECK_EQ(pmtu_gateway_get(t.a, A("10.77.0.9")), A("10.0.0.3"));
	done2(&t);
}

/* A host (accept_redirects 1, shared_media 1: the new gateway need only be a unicast
 * address) learns the gateway as a next-hop exception for the destination, for
 * ip_rt_gc_timeout (300 s). */
TEST(redirect_from_our_gateway_learnt)
{
	struct w2 t;
	struct pmtu_info pi;

	ASSERT_EQ(setup2(&t), 0);
	ASSERT_EQ(ips_route_add_str(t.a, "10.77.0.0/16 via 10.0.0.2"), 0);
	inject_redirect(t.a, A("10.0.0.2"), A("10.0.0.3"), ICMP_REDIR_HOST);
	CHECK_EQ(test_counter(t.a, "IcmpInRedirects"), 1);
	ASSERT(pmtu_lookup(t.a, A("10.77.0.9"), &pi));
	CHECK_EQ(pi.gateway, A("10.0.0.3"));
	CHECK_EQ(pi.mtu, 0);
	test_run(t.w, SEC(300));
	CHECK_EQ(pmtu_gateway_get(t.a, A("10.77.0.9")), 0);
	done2(&t);
}

/* Ignored: from a router that is not our gateway for that destination, naming a
 * multicast gateway, with an unknown code, when redirects are not accepted, and on a
 * router (ip_forward=1 turns conf.all.accept_redirects off, as Linux 6.18 does). */
TEST(redirect_ignored_unless_valid)
{
	struct w2 t;

	ASSERT_EQ(setup2(&t), 0);
	ASSERT_EQ(ips_route_add_str(t.a, "10.77.0.0/16 via 10.0.0.2"), 0);
	inject_redirect(t.a, A("10.0.0.5"), A("10.0.0.3"), ICMP_REDIR_HOST);
	inject_redirect(t.a, A("10.0.0.2"), A("224.0.0.1"), ICMP_REDIR_HOST);
	inject_redirect(t.a, A("10.0.0.2"), A("10.0.0.2"), ICMP_REDIR_HOST);
	inject_redirect(t.a, A("10.0.0.2"), A("10.0.0.3"), 4);
	CHECK_EQ(pmtu_gateway_get(t.a, A("10.77.0.9")), 0);
	ASSERT_EQ(ips_sysctl_set(t.a, "net.ipv4.conf.all.accept_redirects", "0"), 0);
	ASSERT_EQ(ips_sysctl_set(t.a, "net.ipv4.conf.eth0.accept_redirects", "0"), 0);
	inject_redirect(t.a, A("10.0.0.2"), A("10.0.0.3"), ICMP_REDIR_HOST);
	CHECK_EQ(pmtu_gateway_get(t.a, A("10.77.0.9")), 0);
	ASSERT_EQ(ips_sysctl_set(t.a, "net.ipv4.conf.all.accept_redirects", "1"), 0);
	ASSERT_EQ(ips_sysctl_set(t.a, "net.ipv4.conf.eth0.accept_redirects", "1"), 0);
	ASSERT_EQ(ips_sysctl_set(t.a, "net.ipv4.ip_forward", "1"), 0);
	inject_redirect(t.a, A("10.0.0.2"), A("10.0.0.3"), ICMP_REDIR_HOST);
	CHECK_EQ(pmtu_gateway_get(t.a, A("10.77.0.9")), 0);
	CHECK_EQ(test_counter(t.a, "IcmpInRedirects"), 6);
	done2(&t);
}

/* shared_media 0: the new gateway must be on the link with the old one, and with
 * secure_redirects it must also be the gateway of one of our default routes. */
TEST(redirect_secure_without_shared_media)
{
	struct w2 t;

	ASSERT_EQ(setup2(&t), 0);
	ASSERT_EQ(ips_route_add_str(t.a, "10.77.0.0/16 via 10.0.0.2"), 0);
	ASSERT_EQ(ips_sysctl_set(t.a, "net.ipv4.conf.all.shared_media", "0"), 0);
	ASSERT_EQ(ips_sysctl_set(t.a, "net.ipv4.conf.eth0.shared_media", "0"), 0);
	inject_redirect(t.a, A("10.0.0.2"), A("10.0.0.3"), ICMP_REDIR_HOST);
	CHECK_EQ(pmtu_gateway_get(t.a, A("10.77.0.9")), 0);
	ASSERT_EQ(ips_route_add_str(t.a, "default via 10.0.0.3"), 0);
	inject_redirect(t.a, A("10.0.0.2"), A("10.0.0.3"), ICMP_REDIR_HOST);
	CHECK_EQ(pmtu_gateway_get(t.a, A("10.77.0.9")), A("10.0.0.3"));
	/* off the link: never */
	inject_redirect(t.a, A("10.0.0.2"), A("10.9.9.9"), ICMP_REDIR_HOST);
	CHECK_EQ(pmtu_gateway_get(t.a, A("10.77.0.9")), A("10.0.0.3"));
	done2(&t);
}

/* The source of an error about a packet that is not for us: the address the route back
 * to its sender prefers; with icmp_errors_use_inbound_ifaddr=1, the address of the
 * interface the packet came in on. Here a packet from 10.0.1.1 arrives on r's eth1
 * (10.0.2.1) with TTL 1, while the route back leaves by eth0 (10.0.1.2). */
static uint32_t ttl_error_source(bool inbound)
{
	ips_world *w = ips_world_new(5);
	ips_stack *a, *r, *b;
	struct seen s;
	struct ping_result pr;
	uint8_t data[8] = { 0 };
	struct test_ipv4 h = {
		.saddr = A("10.0.1.1"), .daddr = A("10.0.2.2"), .ttl = 1,
		.payload = data, .len = sizeof(data),
	};
	uint32_t from;

	if (host_router_host(w, &a, &r, &b, 0, 0) != 0)
		return 0;
	if (inbound)
		ips_sysctl_set(r, "net.ipv4.icmp_errors_use_inbound_ifaddr", "1");
	test_ping(a, A("10.0.2.2"), 8, NULL, &pr);	/* neighbours */
	seen_start(&s, a);
	test_ipv4_inject(r, "eth1", test_ipv4_build(r, &h));
	test_run(w, SEC(1));
	CHECK_EQ(s.by_type[ICMP_TIME_EXCEEDED], 1);
	from = s.last_from;
	icmp_listener_del(a, &s.l);
	CHECK_EQ(ips_stack_pkb_outstanding(r), 0);
	ips_world_free(w);
	return from;
}

TEST(error_source_route_preferred_by_default)
{
	CHECK_EQ(ttl_error_source(false), A("10.0.1.2"));
}

TEST(error_source_inbound_interface_when_asked)
{
	CHECK_EQ(ttl_error_source(true), A("10.0.2.1"));
}

/* ---- Delivery of received errors to the quoted protocol ---- */

static struct {
	int n;
	int type, code;
	uint32_t info;
	uint32_t inner_daddr;
	size_t inner_len;
} ERR;

static void p253_input(struct ips_stack *st, struct pkb *pkb)
{
	pkb_free(pkb);
}

static void p253_err(struct ips_stack *st, struct pkb *icmp_pkb, int type, int code,
		     uint32_t info, const uint8_t *inner, size_t inner_len)
{
	ERR.n++;
	ERR.type = type;
	ERR.code = code;
	ERR.info = info;
	ERR.inner_daddr = get_in4(inner + 16);
	ERR.inner_len = inner_len;
}

static const struct ip_proto_ops P253 = { .input = p253_input, .err = p253_err };

/* An error from b about a protocol-253 datagram a sent to inner_daddr; rest = bytes
 * 4..7 of the ICMP header; quote = how many bytes of the datagram are quoted. */
static void inject_error(ips_stack *st, uint8_t type, uint8_t code, uint32_t rest,
			 uint32_t inner_daddr, size_t quote)
{
	uint8_t m[8 + 60] = { type, code };
	uint8_t *in = m + 8;
	struct test_ipv4 h = {
		.saddr = A("10.0.0.2"), .daddr = A("10.0.0.1"), .proto = IPPROTO_ICMP,
		.payload = m, .len = 8 + quote,
	};

	put_be32(m + 4, rest);
	in[0] = 0x45;
	put_be16(in + 2, 48);
	in[8] = 64;
	in[9] = 253;
	put_in4(in + 12, A("10.0.0.1"));
	put_in4(in + 16, inner_daddr);
	put_be16(m + 2, ips_csum_fold(ips_csum_add(0, m, 8 + quote)));
	test_ipv4_inject(st, "eth0", test_ipv4_build(st, &h));
}

TEST(errors_reach_the_quoted_protocol)
{
	struct w2 t;
	uint8_t junk[8] = { 0 };

	memset(&ERR, 0, sizeof(ERR));
	ASSERT_EQ(setup2(&t), 0);
	ASSERT_EQ(ip4_proto_register(t.a, 253, &P253), 0);
	/* a real one: b does not know protocol 253 */
	ASSERT_EQ(test_send_ip(t.a, A("10.0.0.2"), 253, junk, sizeof(junk), -1, 0, -1), 0);
	test_run(t.w, MS(100));
	CHECK_EQ(ERR.n, 1);
	CHECK_EQ(ERR.type, ICMP_DEST_UNREACH);
	CHECK_EQ(ERR.code, ICMP_PROT_UNREACH);
	CHECK_EQ(ERR.info, 0);
	CHECK_EQ(ERR.inner_daddr, A("10.0.0.2"));
	CHECK_EQ(ERR.inner_len, 28);
	/* fragmentation needed: info is the MTU */
	inject_error(t.a, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1280, A("10.0.0.2"), 28);
	CHECK_EQ(ERR.n, 2);
	CHECK_EQ(ERR.info, 1280);
	/* parameter problem: info is the pointer */
	inject_error(t.a, ICMP_PARAMETERPROB, 0, 13u << 24, A("10.0.0.2"), 28);
	CHECK_EQ(ERR.n, 3);
	CHECK_EQ(ERR.info, 13);
	/* source quench and time exceeded (in transit) are delivered too */
	inject_error(t.a, ICMP_SOURCE_QUENCH, 0, 0, A("10.0.0.2"), 28);
	inject_error(t.a, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0, A("10.0.0.2"), 28);
	CHECK_EQ(ERR.n, 5);
	CHECK_EQ(test_counter(t.a, "IcmpInErrors"), 0);
	ip4_proto_register(t.a, 253, NULL);
	done2(&t);
}

/* Not delivered: reassembly timeouts, unreachable codes above 15, a quote too short
 * for the quoted header + 8 bytes (IcmpInErrors); errors quoting a datagram to one of
 * our broadcast addresses only when icmp_ignore_bogus_error_responses is 0. */
TEST(errors_not_delivered)
{
	struct w2 t;

	memset(&ERR, 0, sizeof(ERR));
	ASSERT_EQ(setup2(&t), 0);
	ASSERT_EQ(ip4_proto_register(t.a, 253, &P253), 0);
	inject_error(t.a, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME, 0, A("10.0.0.2"), 28);
	inject_error(t.a, ICMP_DEST_UNREACH, 16, 0, A("10.0.0.2"), 28);
	CHECK_EQ(ERR.n, 0);
	CHECK_EQ(test_counter(t.a, "IcmpInErrors"), 0);
	inject_error(t.a, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, A("10.0.0.2"), 27);
	CHECK_EQ(ERR.n, 0);
	CHECK_EQ(test_counter(t.a, "IcmpInErrors"), 1);
	inject_error(t.a, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, A("10.0.0.2"), 19);
	CHECK_EQ(test_counter(t.a, "IcmpInErrors"), 2);
	inject_error(t.a, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, A("10.0.0.255"), 28);
	CHECK_EQ(ERR.n, 1);
	ASSERT_EQ(ips_sysctl_set(t.a, "net.ipv4.icmp_ignore_bogus_error_responses", "0"), 0);
	inject_error(t.a, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, A("10.0.0.255"), 28);
	CHECK_EQ(ERR.n, 1);
	inject_error(t.a, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, A("10.0.0.2"), 28);
	CHECK_EQ(ERR.n, 2);
	ip4_proto_register(t.a, 253, NULL);
	done2(&t);
}

TEST_MAIN

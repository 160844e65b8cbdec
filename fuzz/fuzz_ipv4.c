/* IPv4 header + options. For every input that parses:
 *  - emit reproduces the header (checksum aside) and the in-place setters keep it valid;
 *  - the read-only options parse and the receive compile agree on the verdict and on the
 *    Parameter Problem pointer, which lies inside the option area;
 *  - after compile, echo() builds reply options that a receiver accepts again;
 *  - fragment_copy() leaves options that still parse;
 *  - IP_OPTIONS compile of the same bytes, then write/undo, stay in bounds. */
#include "fuzz_common.h"
#include "wire/ipv4.h"
#include "wire/ipv4_opts.h"
#include "wire/wire.h"

#include <errno.h>

static bool ours(void *arg, uint32_t a)
{
	(void)arg;
	return (a & 0xff) == 127 || a == 0x0100000a;	/* 127/8, 10.0.0.1 */
}

static void check_opts(const uint8_t *hdr, size_t hl)
{
	uint8_t *c = fuzz_dup(hdr, hl), *r = fuzz_dup(hdr, hl);
	uint8_t pp1 = 0, pp2 = 0, out[MAX_IPOPTLEN], reply[WIRE_IPV4_MAX_HLEN];
	struct wire_ipv4_opts o1, o2, e;
	struct wire_ipv4_opts_env env = { .spec_dst = 0x0100000a, .ts_ms = 12345678,
					  .prespec_is_ours = ours };
	int r1 = wire_ipv4_opts_parse(hdr, hl, &o1, &pp1);
	int r2 = wire_ipv4_opts_compile(c, hl, &env, &o2, &pp2);

	CHECK(r1 == r2);
	CHECK(r1 == 0 || r1 == -EBADMSG);
	if (r1) {
		CHECK(pp1 == pp2);
		CHECK(pp1 >= WIRE_IPV4_HLEN && pp1 < hl);
		goto out;
	}
	CHECK(o1.rr == o2.rr && o1.ts == o2.ts && o1.srr == o2.srr);
	CHECK(o1.router_alert == o2.router_alert);
	/* What compile wrote parses again, though not always cleanly: an RR or TS whose
	 * length is not 3 + 4n (4 + 4n, 4 + 8n) can be left with a pointer inside a
	 * partial slot, and a full TS's overflow count can reach 15; the next hop then
	 * rejects it, as Linux's would. */
	{
		struct wire_ipv4_opts o3;
		uint8_t pp3 = 0;

		wire_ipv4_fix_csum(c);
		if (wire_ipv4_opts_parse(c, hl, &o3, &pp3) == 0)
			CHECK(o3.rr == o2.rr && o3.ts == o2.ts && o3.srr == o2.srr);
		else
			CHECK(pp3 == o2.rr + 2 || pp3 == o2.ts + 2 || pp3 == o2.ts + 3);
	}
	if (wire_ipv4_opts_echo(c, &o2, out, &e, ours, NULL) == 0) {
		struct wire_ipv4 h = { .tot_len = 20, .ttl = 64, .saddr = 0x0100000a,
				       .daddr = 0x0200000a, .opts = out, .opts_len = e.optlen };
		struct wire_ipv4_opts o4;
		uint8_t pp4;
		size_t rl;

		CHECK(e.optlen <= MAX_IPOPTLEN && (e.optlen & 3) == 0);
		rl = wire_ipv4_emit(reply, &h);
		CHECK(rl == WIRE_IPV4_HLEN + e.optlen);
		wire_ipv4_opts_write(reply, out, &e, 0x0300000a, 0x0100000a, 42);
		/* the reply is acceptable to a receiver unless an RR/TS slot is partial
		 * (see above) */
		if (wire_ipv4_opts_compile(reply, rl, &env, &o4, &pp4) == 0)
			CHECK(!!o4.rr == !!e.rr && !!o4.ts == !!e.ts && !!o4.srr == !!e.srr);
		else
			CHECK(pp4 == e.rr + 2 || pp4 == e.ts + 2 || pp4 == e.ts + 3);
	}
	/* the header for later fragments */
	{
		struct wire_ipv4_opts o5;
		uint8_t pp5;

		wire_ipv4_opts_fragment_copy(r, &o1);
		CHECK(o1.rr == 0 && o1.ts == 0);
		CHECK(wire_ipv4_opts_parse(r, hl, &o5, &pp5) == 0);
		CHECK(o5.rr == 0 && o5.ts == 0);
	}
	/* forward path with a made-up SRR hit */
	if (o2.srr) {
		uint32_t hop;
		uint8_t pp6;

		if (wire_ipv4_opts_srr_hop(c, &o2, c[o2.srr + 2], &hop, &pp6) == 1) {
			o2.srr_is_hit = true;
			o2.nexthop = hop;
		}
	}
	wire_ipv4_opts_forward(c, &o2, 0x0400000a);
	CHECK(wire_ipv4_csum_ok(c, hl));
out:
	free(c);
	free(r);
}

static void check_user(const uint8_t *opts, size_t n)
{
	uint8_t d[MAX_IPOPTLEN], iph[WIRE_IPV4_MAX_HLEN];
	struct wire_ipv4_opts o;
	size_t len = n > MAX_IPOPTLEN ? MAX_IPOPTLEN : n;
	bool cap;

	for (cap = false; ; cap = true) {
		size_t l = len;

		memcpy(d, opts, len);
		if (wire_ipv4_opts_compile_user(d, &l, cap, ours, NULL, &o) == 0) {
			CHECK(l == o.optlen && (l & 3) == 0 && l <= MAX_IPOPTLEN);
			memset(iph, 0, sizeof(iph));
			wire_ipv4_opts_write(iph, d, &o, 0x0300000a, 0x0100000a, 7);
			wire_ipv4_opts_undo(d, &o);
		}
		if (cap)
			break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = fuzz_dup(data, size), out[WIRE_IPV4_MAX_HLEN];
	struct wire_ipv4 h, g;
	int err = wire_ipv4_parse(b, size, &h);

	CHECK(err == 0 || err == -EBADMSG || err == -ENODATA);
	if (err) {
		free(b);
		return 0;
	}
	CHECK(h.hdr_len >= WIRE_IPV4_HLEN && h.hdr_len <= size && h.hdr_len <= 60);
	(void)wire_ipv4_check_len(&h, size);
	/* emit reproduces the header, checksum aside */
	CHECK(wire_ipv4_emit(out, &h) == h.hdr_len);
	CHECK(memcmp(out, b, 10) == 0 && memcmp(out + 12, b + 12, h.hdr_len - 12u) == 0);
	CHECK(wire_ipv4_csum_ok(out, h.hdr_len));
	CHECK(wire_ipv4_parse(out, h.hdr_len, &g) == 0);
	CHECK(g.frag_off == h.frag_off && g.df == h.df && g.mf == h.mf && g.rf == h.rf);
	/* setters on the valid copy keep the checksum right */
	wire_ipv4_dec_ttl(out);
	wire_ipv4_set_frag(out, (uint16_t)(h.frag_off + 8), !h.mf, h.df);
	wire_ipv4_set_daddr(out, h.saddr);
	wire_ipv4_set_tot_len(out, (uint16_t)(h.tot_len ^ 0x5a5a));
	CHECK(wire_ipv4_csum_ok(out, h.hdr_len));

	check_opts(b, h.hdr_len);
	if (h.opts_len)
		check_user(h.opts, h.opts_len);
	free(b);
	return 0;
}

/* TCP header and options: header round trip; options parse -> emit -> parse keeps
 * every option the emitter writes; parsing never reads past doff. */
#include "fuzz_common.h"
#include "wire/tcp.h"
#include "wire/wire.h"

#include <errno.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = fuzz_dup(data, size), out[WIRE_TCP_MAX_HLEN], seg[WIRE_TCP_MAX_HLEN];
	struct wire_tcp h, g;
	struct wire_tcp_opts o, p, tmp;
	int r;

	if (wire_tcp_parse(b, size, &h) != 0) {
		/* also fuzz the option parser alone on the raw bytes as a header */
		if (size >= 20 && size <= 60)
			(void)wire_tcp_opts_parse(b, size, &o);
		free(b);
		return 0;
	}
	CHECK(wire_tcp_emit(out, &h) == h.doff);
	CHECK(memcmp(out, b, h.doff) == 0);
	CHECK(wire_tcp_parse(out, h.doff, &g) == 0);
	CHECK(g.flags == h.flags && g.seq == h.seq && g.res == h.res);

	r = wire_tcp_opts_parse(b, h.doff, &o);
	CHECK(r == 0 || r == -EBADMSG);
	CHECK(o.num_sacks <= WIRE_TCP_NUM_SACKS);
	CHECK(o.sack_off == 0 || o.sack_off + 2 + 8u * o.num_sacks <= h.doff);
	CHECK(o.md5_off == 0 || o.md5_off + 16u <= h.doff);

	tmp = o;
	tmp.num_sacks = 0;
	if (wire_tcp_opts_len(&tmp) <= WIRE_TCP_MAX_OPTLEN) {
		struct wire_tcp hh = { .opts = seg + 20 };
		size_t n = wire_tcp_opts_emit(seg + 20, &o);

		CHECK(n <= WIRE_TCP_MAX_OPTLEN && (n & 3) == 0);
		hh.opts_len = (uint8_t)n;
		wire_tcp_emit(seg, &hh);
		CHECK(wire_tcp_opts_parse(seg, 20 + n, &p) == 0);
		CHECK(p.has_mss == o.has_mss && p.mss == o.mss);
		CHECK(p.has_wscale == o.has_wscale && p.wscale == o.wscale);
		CHECK(p.sack_ok == o.sack_ok);
		CHECK(p.has_ts == o.has_ts && p.tsval == o.tsval && p.tsecr == o.tsecr);
		CHECK(p.has_md5 == o.has_md5);
		CHECK(p.num_sacks <= o.num_sacks);
		CHECK(memcmp(p.sack, o.sack, p.num_sacks * sizeof(p.sack[0])) == 0);
		CHECK(p.has_fastopen == o.has_fastopen);
		if (o.has_fastopen && o.fastopen_len <= WIRE_TCP_FASTOPEN_COOKIE_MAX) {
			CHECK(p.fastopen_len == o.fastopen_len && p.fastopen_exp == o.fastopen_exp);
			CHECK(memcmp(p.fastopen_cookie, o.fastopen_cookie, o.fastopen_len) == 0);
		}
		/* emit again from the reparsed options: a fixed point */
		{
			uint8_t again[WIRE_TCP_MAX_OPTLEN];

			CHECK(wire_tcp_opts_emit(again, &p) == n || p.num_sacks < o.num_sacks);
		}
	}
	free(b);
	return 0;
}

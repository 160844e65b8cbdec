/* IGMP: v1/v2 header round trip; v3 query parse -> emit reproduces the bytes; v3
 * report records iterate within bounds and re-emit to the same bytes (no aux data). */
#include "fuzz_common.h"
#include "wire/igmp.h"
#include "wire/wire.h"

#include <errno.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = fuzz_dup(data, size), *out;
	struct wire_igmp h;
	struct wire_igmpv3_query q;
	struct wire_igmpv3_report r;

	if (wire_igmp_parse(b, size, &h) == 0) {
		uint8_t o8[8];

		wire_igmp_emit(o8, &h);
		CHECK(memcmp(o8, b, 2) == 0 && memcmp(o8 + 4, b + 4, 4) == 0);
		CHECK(wire_igmp_csum_ok(o8, 8));
		(void)wire_igmp_query_version(size, h.code);
	}
	if (wire_igmpv3_query_parse(b, size, &q) == 0) {
		size_t n = 12 + 4 * (size_t)q.nsrcs;

		CHECK(n <= size);
		out = malloc(n);
		CHECK(wire_igmpv3_query_emit(out, &q, NULL) == n);
		CHECK(memcmp(out, b, 2) == 0 && memcmp(out + 4, b + 4, n - 4) == 0);
		CHECK(wire_igmp_csum_ok(out, n));
		free(out);
		CHECK(wire_igmpv3_code_decode(wire_igmpv3_code_encode(
			      wire_igmpv3_code_decode(q.qqic))) == wire_igmpv3_code_decode(q.qqic));
	}
	if (wire_igmpv3_report_parse(b, size, &r) == 0) {
		struct wire_igmpv3_rec_iter it = { 0 };
		struct wire_igmpv3_rec rec;
		struct wire_igmpv3_rec_out recs[64];
		uint32_t srcs[2048];
		size_t nrec = 0, nsrc = 0, end = 8;
		bool simple = true;
		int ret;

		while ((ret = wire_igmpv3_rec_next(&r, &it, &rec)) == 1) {
			unsigned int i;

			CHECK(rec.srcs >= b && rec.aux + 4 * (size_t)rec.aux_words <= b + size);
			if (rec.aux_words || nrec == 64 || nsrc + rec.nsrcs > 2048) {
				simple = false;
				continue;
			}
			recs[nrec] = (struct wire_igmpv3_rec_out){ rec.type, rec.group,
								   srcs + nsrc, rec.nsrcs };
			for (i = 0; i < rec.nsrcs; i++)
				srcs[nsrc++] = wire_igmpv3_src(rec.srcs, i);
			nrec++;
			end = 8 + it.off;
		}
		CHECK(ret == 0 || ret == -EBADMSG);
		if (ret == 0 && simple && nrec == r.nrecs && b[1] == 0 && get_be16(b + 4) == 0) {
			size_t n = wire_igmpv3_report_len(recs, nrec);

			CHECK(n == end);
			out = malloc(n);
			CHECK(wire_igmpv3_report_emit(out, recs, nrec) == n);
			CHECK(memcmp(out, b, 2) == 0 && memcmp(out + 4, b + 4, n - 4) == 0);
			free(out);
		}
	}
	free(b);
	return 0;
}

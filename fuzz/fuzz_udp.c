/* UDP / UDP-Lite: header round trip, length and coverage rules, checksum fill/verify. */
#include "fuzz_common.h"
#include "wire/udp.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = fuzz_dup(data, size), out[8];
	struct wire_udp h, g;
	uint32_t sa = 0x0100000a, da = 0x0200000a;	/* 10.0.0.1, 10.0.0.2 */
	size_t cov;

	if (size > 0xffff)
		size = 0xffff;
	if (wire_udp_parse(b, size, &h) != 0) {
		CHECK(size < 8);
		free(b);
		return 0;
	}
	CHECK(wire_udp_emit(out, &h) == 8);
	CHECK(memcmp(out, b, 8) == 0);
	CHECK(wire_udp_parse(out, 8, &g) == 0);
	if (wire_udp_check_len(&h, size) == 0) {
		CHECK(h.len >= 8 && h.len <= size);
		wire_udp_csum_fill(b, h.len, sa, da);
		CHECK(get_be16(b + 6) != 0);
		CHECK(wire_udp_csum_ok(b, h.len, sa, da));
	} else {
		CHECK(h.len < 8 || h.len > size);
	}
	if (wire_udp_parse(b, size, &h) == 0 && wire_udplite_coverage(&h, size, &cov) == 0) {
		CHECK(cov >= 8 && cov <= size);
		wire_udplite_csum_fill(b, size, cov, sa, da);
		CHECK(wire_udplite_csum_ok(b, size, cov, sa, da));
	}
	free(b);
	return 0;
}

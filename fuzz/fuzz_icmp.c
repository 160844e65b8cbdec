/* ICMP: parse -> emit with the same payload reproduces every byte but the checksum,
 * which then verifies; the checksum check agrees with a recomputation. */
#include "core/csum.h"
#include "fuzz_common.h"
#include "wire/icmp.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = fuzz_dup(data, size), *out;
	struct wire_icmp h, g;
	bool ok;

	if (wire_icmp_parse(b, size, &h) != 0) {
		CHECK(size < WIRE_ICMP_HLEN);
		free(b);
		return 0;
	}
	ok = wire_icmp_csum_ok(b, size);
	out = malloc(size);
	CHECK(wire_icmp_emit(out, &h, b + 8, size - 8) == size);
	CHECK(memcmp(out, b, 2) == 0 && memcmp(out + 4, b + 4, size - 4) == 0);
	CHECK(wire_icmp_csum_ok(out, size));
	/* a valid checksum is the one emit computes (one's-complement zero aside) */
	if (ok && get_be16(b + 2) != 0xffff && get_be16(out + 2) != 0xffff)
		CHECK(get_be16(out + 2) == h.csum);
	CHECK(wire_icmp_parse(out, size, &g) == 0);
	CHECK(g.type == h.type && g.code == h.code);
	/* emit with the payload already in place */
	CHECK(wire_icmp_emit(out, &h, out + 8, size - 8) == size);
	CHECK(wire_icmp_csum_ok(out, size));
	free(out);
	free(b);
	return 0;
}

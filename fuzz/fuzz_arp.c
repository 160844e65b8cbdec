/* ARP: a packet that parses re-emits to the same 28 bytes and parses again. */
#include "fuzz_common.h"
#include "wire/arp.h"

#include <errno.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = fuzz_dup(data, size), out[WIRE_ARP_LEN];
	struct wire_arp a, r;
	int err = wire_arp_parse(b, size, &a);

	CHECK(err == 0 || err == -EBADMSG || err == -EPROTONOSUPPORT);
	if (err == 0) {
		CHECK(size >= WIRE_ARP_LEN);
		CHECK(wire_arp_emit(out, &a) == WIRE_ARP_LEN);
		CHECK(memcmp(out, b, WIRE_ARP_LEN) == 0);
		CHECK(wire_arp_parse(out, sizeof(out), &r) == 0);
		CHECK(r.op == a.op && r.spa == a.spa && r.tpa == a.tpa);
	}
	free(b);
	return 0;
}

/* Ethernet header: parse -> emit reproduces the 14 bytes; MAC classes are consistent. */
#include "fuzz_common.h"
#include "wire/eth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = fuzz_dup(data, size), out[ETH_HLEN], mac[ETH_ALEN];
	struct wire_eth h;

	if (wire_eth_parse(b, size, &h) == 0) {
		CHECK(size >= ETH_HLEN);
		CHECK(wire_eth_emit(out, &h) == ETH_HLEN);
		CHECK(memcmp(out, b, ETH_HLEN) == 0);
		if (wire_eth_is_broadcast(h.dst))
			CHECK(wire_eth_is_multicast(h.dst));
		CHECK(wire_eth_is_valid_unicast(h.src) ==
		      (!wire_eth_is_multicast(h.src) && !wire_eth_is_zero(h.src)));
		if (size >= 18) {
			uint32_t g;

			memcpy(&g, b + 14, 4);
			wire_eth_ip4_mcast_map(g, mac);
			CHECK(wire_eth_is_multicast(mac) && !wire_eth_is_broadcast(mac));
			CHECK((mac[3] & 0x80) == 0);
		}
	} else {
		CHECK(size < ETH_HLEN);
	}
	free(b);
	return 0;
}

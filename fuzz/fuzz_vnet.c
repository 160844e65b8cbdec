/* virtio_net_hdr (what a TAP fd with IFF_VNET_HDR hands us): parse -> emit reproduces
 * the 10 bytes; the rest of the input is the frame it came with (Ethernet, or bare IPv4
 * when the first byte after the header is odd), and whatever wire_vnet_check() accepts
 * is consistent with that frame. */
#include "fuzz_common.h"
#include "wire/eth.h"
#include "wire/virtio_net.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = fuzz_dup(data, size), out[WIRE_VNET_HLEN];
	struct wire_vnet h;
	struct wire_vnet_rx rx;

	if (wire_vnet_parse(b, size, &h) != 0) {
		CHECK(size < WIRE_VNET_HLEN);
		free(b);
		return 0;
	}
	CHECK(wire_vnet_emit(out, &h) == WIRE_VNET_HLEN);
	CHECK(memcmp(out, b, WIRE_VNET_HLEN) == 0);
	if (size > WIRE_VNET_HLEN) {
		bool tun = b[WIRE_VNET_HLEN] & 1;
		/* The frame in a block of its own: ASan sees any read past it. */
		size_t len = size - WIRE_VNET_HLEN - 1;
		uint8_t *f = fuzz_dup(b + WIRE_VNET_HLEN + 1, len);
		long ip_off = -1;

		if (tun && len >= 1 && (f[0] >> 4) == 4)
			ip_off = 0;
		else if (!tun && len >= ETH_HLEN && get_be16(f + 12) == ETH_P_IP)
			ip_off = ETH_HLEN;
		if (wire_vnet_check(&h, f, len, ip_off, &rx) == 0) {
			CHECK(h.hdr_len <= len);
			if (rx.csum_partial)
				CHECK((size_t)rx.csum_start + rx.csum_offset + 2 <= len);
			if (rx.csum_tcp)
				CHECK(rx.csum_partial && rx.csum_offset == 16 && ip_off >= 0);
			if (rx.gso_size) {
				CHECK(ip_off >= 0 && rx.gso_segs >= 2);
				CHECK((h.gso_type & 0x7f) == WIRE_VNET_GSO_TCPV4);
				/* the IPv4 packet lies within the frame */
				CHECK((size_t)ip_off + get_be16(f + ip_off + 2) <= len);
				/* and its segments carry exactly its payload */
				size_t ihl = (size_t)(f[ip_off] & 15) * 4;
				size_t thl = (size_t)(f[ip_off + ihl + 12] >> 4) * 4;
				size_t pay = get_be16(f + ip_off + 2) - ihl - thl;

				CHECK((size_t)rx.gso_segs * rx.gso_size >= pay);
				CHECK((size_t)(rx.gso_segs - 1) * rx.gso_size < pay);
			}
			if (!(h.flags & 1))
				CHECK(!rx.csum_partial);
		}
		free(f);
	}
	free(b);
	return 0;
}

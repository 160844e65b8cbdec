/* struct virtio_net_hdr: parse/emit, and the checks a TAP reader makes against the frame
 * (virtio_net_hdr_to_skb()'s rules, src/wire/virtio_net.h). */
#include "test.h"
#include "wire/eth.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "wire/virtio_net.h"
#include "wire/wire.h"
#include "wire_test.h"

#include <errno.h>
#include <netinet/in.h>

/* The header of a TSO burst as the kernel's tap hands it over (tun_put_user() on x86:
 * NEEDS_CSUM, GSO_TCPV4, hdr_len 66 = 14 + 20 + 32, gso_size 1448, csum_start 34,
 * csum_offset 16), little-endian. */
static const uint8_t kernel_hdr[WIRE_VNET_HLEN] = {
	0x01, 0x01, 0x42, 0x00, 0xa8, 0x05, 0x22, 0x00, 0x10, 0x00,
};

#define IP_OFF ETH_HLEN
#define TCP_OFF (IP_OFF + WIRE_IPV4_HLEN)
#define TCP_HL 32	/* with the timestamp option */

/* An Ethernet + IPv4 + TCP (32-byte header) frame with payload bytes of data: returns
 * its length. proto IPPROTO_TCP or IPPROTO_UDP (then an 8-byte UDP header). */
static size_t build(uint8_t *f, size_t payload, uint8_t proto)
{
	size_t thl = proto == IPPROTO_TCP ? TCP_HL : 8, tot = WIRE_IPV4_HLEN + thl + payload;

	memset(f, 0, ETH_HLEN + tot);
	memcpy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	put_be16(f + 12, ETH_P_IP);
	f[IP_OFF] = 0x45;
	put_be16(f + IP_OFF + 2, (uint16_t)tot);
	put_be16(f + IP_OFF + 6, WIRE_IPV4_DF);
	f[IP_OFF + 8] = 64;
	f[IP_OFF + 9] = proto;
	memcpy(f + IP_OFF + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	wire_ipv4_fix_csum(f + IP_OFF);
	if (proto == IPPROTO_TCP) {
		f[TCP_OFF + 12] = (TCP_HL / 4) << 4;
		f[TCP_OFF + 13] = WIRE_TCP_ACK;
	} else {
		put_be16(f + TCP_OFF + 4, (uint16_t)(8 + payload));
	}
	for (size_t i = 0; i < payload; i++)
		f[TCP_OFF + thl + i] = (uint8_t)i;
	return ETH_HLEN + tot;
}

static struct wire_vnet tso_hdr(uint16_t gso_size)
{
	struct wire_vnet h = {
		.flags = WIRE_VNET_F_NEEDS_CSUM, .gso_type = WIRE_VNET_GSO_TCPV4,
		.hdr_len = TCP_OFF + TCP_HL, .gso_size = gso_size,
		.csum_start = TCP_OFF, .csum_offset = 16,
	};

	return h;
}

static uint8_t frame[ETH_HLEN + 65535];

TEST(parse_the_kernels_header)
{
	struct wire_vnet h;

	ASSERT_EQ(wire_vnet_parse(kernel_hdr, sizeof(kernel_hdr), &h), 0);
	CHECK_EQ(h.flags, WIRE_VNET_F_NEEDS_CSUM);
	CHECK_EQ(h.gso_type, WIRE_VNET_GSO_TCPV4);
	CHECK_EQ(h.hdr_len, 66);
	CHECK_EQ(h.gso_size, 1448);
	CHECK_EQ(h.csum_start, 34);
	CHECK_EQ(h.csum_offset, 16);
}

TEST(every_truncated_header_fails)
{
	struct wire_vnet h;

	for (size_t len = 0; len < WIRE_VNET_HLEN; len++) {
		uint8_t *b = dup_exact(kernel_hdr, len);

		CHECK_EQ(wire_vnet_parse(b, len, &h), -EBADMSG);
		free(b);
	}
	uint8_t *b = dup_exact(kernel_hdr, WIRE_VNET_HLEN);

	CHECK_EQ(wire_vnet_parse(b, WIRE_VNET_HLEN, &h), 0);
	free(b);
}

TEST(emit_parse_round_trip_is_little_endian)
{
	struct wire_vnet h = { .flags = 3, .gso_type = 0x81, .hdr_len = 0x1234,
			       .gso_size = 0xfedc, .csum_start = 0x0102, .csum_offset = 0xa0b0 }, g;
	uint8_t b[WIRE_VNET_HLEN];
	static const uint8_t want[WIRE_VNET_HLEN] = { 3, 0x81, 0x34, 0x12, 0xdc, 0xfe,
						      0x02, 0x01, 0xb0, 0xa0 };

	CHECK_EQ(wire_vnet_emit(b, &h), WIRE_VNET_HLEN);
	CHECK_MEM(b, want, sizeof(want));
	ASSERT_EQ(wire_vnet_parse(b, sizeof(b), &g), 0);
	CHECK_EQ(g.flags, h.flags);
	CHECK_EQ(g.gso_type, h.gso_type);
	CHECK_EQ(g.hdr_len, h.hdr_len);
	CHECK_EQ(g.gso_size, h.gso_size);
	CHECK_EQ(g.csum_start, h.csum_start);
	CHECK_EQ(g.csum_offset, h.csum_offset);
	/* ... and the kernel's bytes come back out as they went in */
	ASSERT_EQ(wire_vnet_parse(kernel_hdr, sizeof(kernel_hdr), &g), 0);
	wire_vnet_emit(b, &g);
	CHECK_MEM(b, kernel_hdr, sizeof(kernel_hdr));
}

TEST(a_tcp_super_packet_is_accepted_with_its_segment_count)
{
	size_t len = build(frame, 3000, IPPROTO_TCP);
	struct wire_vnet h = tso_hdr(1448);
	struct wire_vnet_rx rx;

	ASSERT_EQ(wire_vnet_check(&h, frame, len, IP_OFF, &rx), 0);
	CHECK_EQ(rx.gso_size, 1448);
	CHECK_EQ(rx.gso_segs, 3);		/* 1448 + 1448 + 104 */
	CHECK(rx.csum_partial);
	CHECK(rx.csum_tcp);
	CHECK_EQ(rx.csum_start, TCP_OFF);
	CHECK_EQ(rx.csum_offset, 16);
	CHECK(!rx.data_valid);
	/* exactly two segments' worth */
	len = build(frame, 2896, IPPROTO_TCP);
	ASSERT_EQ(wire_vnet_check(&h, frame, len, IP_OFF, &rx), 0);
	CHECK_EQ(rx.gso_segs, 2);
	/* with ECN (CWR on the first segment) too */
	h.gso_type |= WIRE_VNET_GSO_ECN;
	ASSERT_EQ(wire_vnet_check(&h, frame, len, IP_OFF, &rx), 0);
	CHECK_EQ(rx.gso_segs, 2);
}

TEST(a_super_packet_that_fits_one_segment_is_an_ordinary_packet)
{
	/* virtio_net_hdr_to_skb(): "too small packets are not really GSO ones" */
	size_t len = build(frame, 1448, IPPROTO_TCP);
	struct wire_vnet h = tso_hdr(1448);
	struct wire_vnet_rx rx;

	ASSERT_EQ(wire_vnet_check(&h, frame, len, IP_OFF, &rx), 0);
	CHECK_EQ(rx.gso_size, 0);
	CHECK_EQ(rx.gso_segs, 0);
	CHECK(rx.csum_tcp);
}

TEST(needs_csum_without_gso)
{
	size_t len = build(frame, 100, IPPROTO_TCP);
	struct wire_vnet h = { .flags = WIRE_VNET_F_NEEDS_CSUM, .csum_start = TCP_OFF,
			       .csum_offset = 16 };
	struct wire_vnet_rx rx;

	ASSERT_EQ(wire_vnet_check(&h, frame, len, IP_OFF, &rx), 0);
	CHECK(rx.csum_partial);
	CHECK(rx.csum_tcp);
	CHECK_EQ(rx.gso_size, 0);
	/* UDP's checksum (offset 6): partial, but not TCP's */
	len = build(frame, 100, IPPROTO_UDP);
	h.csum_offset = 6;
	ASSERT_EQ(wire_vnet_check(&h, frame, len, IP_OFF, &rx), 0);
	CHECK(rx.csum_partial);
	CHECK(!rx.csum_tcp);
	/* a TCP frame whose partial sum is not at TCP's checksum field */
	len = build(frame, 100, IPPROTO_TCP);
	h.csum_offset = 6;
	ASSERT_EQ(wire_vnet_check(&h, frame, len, IP_OFF, &rx), 0);
	CHECK(rx.csum_partial);
	CHECK(!rx.csum_tcp);
	/* the last possible place for the field: the frame's last two bytes */
	h.csum_offset = (uint16_t)(len - TCP_OFF - 2);
	ASSERT_EQ(wire_vnet_check(&h, frame, len, IP_OFF, &rx), 0);
	h.csum_offset++;
	CHECK_EQ(wire_vnet_check(&h, frame, len, IP_OFF, &rx), -EBADMSG);
}

TEST(data_valid_and_an_empty_header)
{
	size_t len = build(frame, 100, IPPROTO_TCP);
	struct wire_vnet h = { 0 };
	struct wire_vnet_rx rx;

	ASSERT_EQ(wire_vnet_check(&h, frame, len, IP_OFF, &rx), 0);
	CHECK(!rx.csum_partial && !rx.data_valid && !rx.gso_size);
	h.flags = WIRE_VNET_F_DATA_VALID;
	ASSERT_EQ(wire_vnet_check(&h, frame, len, IP_OFF, &rx), 0);
	CHECK(rx.data_valid);
	CHECK(!rx.csum_partial);
	/* a frame that is not IPv4 (an ARP) with an empty header is fine */
	put_be16(frame + 12, ETH_P_ARP);
	h.flags = 0;
	CHECK_EQ(wire_vnet_check(&h, frame, 42, -1, &rx), 0);
}

TEST(malformed_headers_are_refused)
{
	size_t len = build(frame, 3000, IPPROTO_TCP);
	struct wire_vnet_rx rx;
	struct wire_vnet h;

#define REFUSED(mod)                                                              \
	do {                                                                      \
		h = tso_hdr(1448);                                                \
		mod;                                                              \
		CHECK_EQ(wire_vnet_check(&h, frame, len, IP_OFF, &rx), -EBADMSG); \
	} while (0)
	REFUSED(h.flags |= WIRE_VNET_F_RSC_INFO);	/* a flag tun never sets */
	REFUSED(h.flags = 0x80);
	REFUSED(h.hdr_len = (uint16_t)(len + 1));	/* headers longer than the frame */
	REFUSED(h.gso_type = WIRE_VNET_GSO_UDP);	/* not negotiated */
	REFUSED(h.gso_type = WIRE_VNET_GSO_TCPV6);
	REFUSED(h.gso_type = WIRE_VNET_GSO_UDP_L4);
	REFUSED(h.gso_type = WIRE_VNET_GSO_ECN);	/* ECN alone */
	REFUSED(h.gso_type = 2);
	REFUSED(h.gso_size = 0);
	REFUSED(h.csum_offset = 6);			/* GSO: must be TCP's check */
	REFUSED(h.csum_start = TCP_OFF + 4);		/* GSO: must be the TCP header */
	REFUSED(h.csum_start = IP_OFF + 19);		/* inside the IPv4 header */
	REFUSED(h.csum_start = (uint16_t)len);		/* past the frame */
	REFUSED(h.csum_start = 0xffff; h.csum_offset = 0xffff);
#undef REFUSED
	/* GSO on what is not a whole IPv4/TCP packet */
	struct wire_vnet g = tso_hdr(1448);

	CHECK_EQ(wire_vnet_check(&g, frame, len, -1, &rx), -EBADMSG);	/* not IPv4 */
	put_be16(frame + IP_OFF + 6, WIRE_IPV4_MF);			/* a fragment */
	CHECK_EQ(wire_vnet_check(&g, frame, len, IP_OFF, &rx), -EBADMSG);
	put_be16(frame + IP_OFF + 6, 0);
	put_be16(frame + IP_OFF + 2, (uint16_t)(len - IP_OFF + 1));	/* longer than the frame */
	CHECK_EQ(wire_vnet_check(&g, frame, len, IP_OFF, &rx), -EBADMSG);
	put_be16(frame + IP_OFF + 2, (uint16_t)(len - IP_OFF));
	frame[TCP_OFF + 12] = 0x40;					/* TCP header of 16 bytes */
	CHECK_EQ(wire_vnet_check(&g, frame, len, IP_OFF, &rx), -EBADMSG);
	frame[TCP_OFF + 12] = (TCP_HL / 4) << 4;
	frame[IP_OFF] = 0x44;						/* IHL 16 bytes */
	CHECK_EQ(wire_vnet_check(&g, frame, len, IP_OFF, &rx), -EBADMSG);
	frame[IP_OFF] = 0x45;
	ASSERT_EQ(wire_vnet_check(&g, frame, len, IP_OFF, &rx), 0);	/* restored */
	len = build(frame, 3000, IPPROTO_UDP);				/* UDP */
	g.csum_offset = 6;
	CHECK_EQ(wire_vnet_check(&g, frame, len, IP_OFF, &rx), -EBADMSG);
}

TEST(every_truncated_super_packet_is_refused)
{
	size_t full = build(frame, 3000, IPPROTO_TCP);
	struct wire_vnet h = tso_hdr(1448);
	struct wire_vnet_rx rx;

	h.hdr_len = 0;	/* (a hint only; let the frame's own lengths decide) */
	for (size_t len = 0; len < full; len++) {
		uint8_t *b = dup_exact(frame, len);

		CHECK_EQ(wire_vnet_check(&h, b, len, len >= IP_OFF ? IP_OFF : -1, &rx), -EBADMSG);
		free(b);
	}
	uint8_t *b = dup_exact(frame, full);

	CHECK_EQ(wire_vnet_check(&h, b, full, IP_OFF, &rx), 0);
	free(b);
}

TEST(a_tun_frame_has_its_ipv4_header_first)
{
	/* IFF_TUN: no link header; csum_start counts from the IPv4 header */
	size_t len = build(frame, 3000, IPPROTO_TCP) - ETH_HLEN;
	struct wire_vnet h = tso_hdr(1000);
	struct wire_vnet_rx rx;

	h.csum_start = WIRE_IPV4_HLEN;
	h.hdr_len = WIRE_IPV4_HLEN + TCP_HL;
	ASSERT_EQ(wire_vnet_check(&h, frame + ETH_HLEN, len, 0, &rx), 0);
	CHECK_EQ(rx.gso_segs, 3);
	CHECK(rx.csum_tcp);
}

TEST_MAIN

/* Ethernet II header and MAC classes. */
#include "test.h"
#include "wire/eth.h"
#include "wire_test.h"

#include <errno.h>

/* The first 14 bytes of a real broadcast ARP request (Wireshark sample arp-storm). */
static const uint8_t frame[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54, 0x08, 0x06,
	0x00, 0x01,	/* start of the ARP payload */
};

TEST(parse_real_header)
{
	struct wire_eth h;
	static const uint8_t src[6] = { 0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54 };

	ASSERT_EQ(wire_eth_parse(frame, sizeof(frame), &h), 0);
	CHECK(wire_eth_is_broadcast(h.dst));
	CHECK_MEM(h.src, src, 6);
	CHECK_EQ(h.type, ETH_P_ARP);
}

TEST(every_truncated_length_fails)
{
	size_t len;
	struct wire_eth h;

	for (len = 0; len < ETH_HLEN; len++) {
		uint8_t *b = dup_exact(frame, len);

		CHECK_EQ(wire_eth_parse(b, len, &h), -EBADMSG);
		free(b);
	}
	{
		uint8_t *b = dup_exact(frame, ETH_HLEN);

		CHECK_EQ(wire_eth_parse(b, ETH_HLEN, &h), 0);
		free(b);
	}
}

TEST(emit_parse_round_trip)
{
	struct wire_eth h = { .dst = { 1, 2, 3, 4, 5, 6 }, .src = { 0xa, 0xb, 0xc, 0xd, 0xe, 0xf },
			      .type = ETH_P_IP }, g;
	uint8_t b[ETH_HLEN];

	CHECK_EQ(wire_eth_emit(b, &h), ETH_HLEN);
	CHECK_EQ(b[12], 0x08);
	CHECK_EQ(b[13], 0x00);
	ASSERT_EQ(wire_eth_parse(b, sizeof(b), &g), 0);
	CHECK_MEM(g.dst, h.dst, 6);
	CHECK_MEM(g.src, h.src, 6);
	CHECK_EQ(g.type, h.type);
}

TEST(address_classes)
{
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mc[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	static const uint8_t uc[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t zero[6] = { 0 };
	static const uint8_t almost[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };

	CHECK(wire_eth_is_broadcast(bc));
	CHECK(wire_eth_is_multicast(bc));	/* broadcast has the group bit */
	CHECK(!wire_eth_is_broadcast(mc));
	CHECK(wire_eth_is_multicast(mc));
	CHECK(!wire_eth_is_multicast(uc));
	CHECK(wire_eth_is_valid_unicast(uc));
	CHECK(!wire_eth_is_valid_unicast(zero));
	CHECK(!wire_eth_is_valid_unicast(mc));
	CHECK(wire_eth_is_zero(zero));
	CHECK(!wire_eth_is_broadcast(almost));
}

TEST(ip4_multicast_mapping_uses_low_23_bits)
{
	uint8_t mac[6];
	static const uint8_t all_hosts[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	static const uint8_t m1[6] = { 0x01, 0x00, 0x5e, 0x7f, 0xfe, 0xfd };

	wire_eth_ip4_mcast_map(ip4("224.0.0.1"), mac);
	CHECK_MEM(mac, all_hosts, 6);
	/* 239.255.254.253 and 224.127.254.253 share a MAC: bit 23 is dropped */
	wire_eth_ip4_mcast_map(ip4("239.255.254.253"), mac);
	CHECK_MEM(mac, m1, 6);
	wire_eth_ip4_mcast_map(ip4("224.127.254.253"), mac);
	CHECK_MEM(mac, m1, 6);
}

TEST_MAIN

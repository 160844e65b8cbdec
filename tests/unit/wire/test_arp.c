/* ARP (RFC 826) parse/emit. */
#include "test.h"
#include "wire/arp.h"
#include "wire_test.h"

#include <errno.h>
#include <linux/if_ether.h>

/* A real who-has 24.166.173.159 tell 24.166.172.1 (Wireshark sample arp-storm), after
 * the Ethernet header, with the 18 bytes of Ethernet padding to 60. */
static const uint8_t req[] = {
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54,
	0x18, 0xa6, 0xac, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0xa6, 0xad, 0x9f,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
};

TEST(parse_real_request)
{
	struct wire_arp a;
	static const uint8_t sha[6] = { 0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54 };
	static const uint8_t zero[6] = { 0 };

	ASSERT_EQ(wire_arp_parse(req, sizeof(req), &a), 0);
	CHECK_EQ(a.htype, ARPHRD_ETHER);
	CHECK_EQ(a.ptype, ETH_P_IP);
	CHECK_EQ(a.op, ARPOP_REQUEST);
	CHECK_MEM(a.sha, sha, 6);
	CHECK_MEM(a.tha, zero, 6);
	CHECK_EQ(a.spa, ip4("24.166.172.1"));
	CHECK_EQ(a.tpa, ip4("24.166.173.159"));
}

TEST(every_truncated_length_fails)
{
	struct wire_arp a;
	size_t len;

	for (len = 0; len < WIRE_ARP_LEN; len++) {
		uint8_t *b = dup_exact(req, len);

		CHECK_EQ(wire_arp_parse(b, len, &a), -EBADMSG);
		free(b);
	}
	for (; len <= sizeof(req); len++) {
		uint8_t *b = dup_exact(req, len);

		CHECK_EQ(wire_arp_parse(b, len, &a), 0);
		free(b);
	}
}

TEST(other_hardware_or_protocol_is_not_supported)
{
	uint8_t b[WIRE_ARP_LEN];
	struct wire_arp a;

	memcpy(b, req, sizeof(b));
	b[1] = 6;	/* IEEE 802 */
	CHECK_EQ(wire_arp_parse(b, sizeof(b), &a), -EPROTONOSUPPORT);
	memcpy(b, req, sizeof(b));
	b[2] = 0x86;
	b[3] = 0xdd;	/* IPv6 */
	CHECK_EQ(wire_arp_parse(b, sizeof(b), &a), -EPROTONOSUPPORT);
	/* told apart from a truncated packet with 8 bytes */
	CHECK_EQ(wire_arp_parse(b, 8, &a), -EPROTONOSUPPORT);
}

TEST(wrong_address_lengths_are_malformed)
{
	uint8_t b[WIRE_ARP_LEN];
	struct wire_arp a;

	memcpy(b, req, sizeof(b));
	b[4] = 8;
	CHECK_EQ(wire_arp_parse(b, sizeof(b), &a), -EBADMSG);
	memcpy(b, req, sizeof(b));
	b[5] = 16;
	CHECK_EQ(wire_arp_parse(b, sizeof(b), &a), -EBADMSG);
}

TEST(emit_parse_round_trip)
{
	struct wire_arp a, r;
	uint8_t b[WIRE_ARP_LEN];

	wire_arp_init(&a, ARPOP_REPLY);
	memcpy(a.sha, "\x02\x00\x00\x00\x00\x02", 6);
	memcpy(a.tha, "\x00\x07\x0d\xaf\xf4\x54", 6);
	a.spa = ip4("24.166.173.159");
	a.tpa = ip4("24.166.172.1");
	CHECK_EQ(wire_arp_emit(b, &a), WIRE_ARP_LEN);
	ASSERT_EQ(wire_arp_parse(b, sizeof(b), &r), 0);
	CHECK_EQ(r.op, ARPOP_REPLY);
	CHECK_MEM(r.sha, a.sha, 6);
	CHECK_MEM(r.tha, a.tha, 6);
	CHECK_EQ(r.spa, a.spa);
	CHECK_EQ(r.tpa, a.tpa);
	/* the request vector re-emits to its own bytes */
	ASSERT_EQ(wire_arp_parse(req, sizeof(req), &r), 0);
	wire_arp_emit(b, &r);
	CHECK_MEM(b, req, WIRE_ARP_LEN);
}

TEST_MAIN

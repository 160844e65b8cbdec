/* RFC 1071 checksum and RFC 1624 incremental update. */
#include "core/csum.h"
#include "test.h"
#include "wire/wire.h"

#include <arpa/inet.h>

/* A fixed-seed xorshift so the random cases are the same on every run. */
static uint32_t rng_state = 0x12345678;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* The obvious RFC 1071 implementation, to compare the fast one against. */
static uint16_t ref_csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

TEST(rfc1071_example)
{
	/* RFC 1071 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (before complementing). */
	static const uint8_t d[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	CHECK_EQ(ips_csum_fold(ips_csum_add(0, d, sizeof(d))), (uint16_t)~0xddf2);
	/* Any split at even boundaries gives the same sum (RFC 1071 2(C)). */
	CHECK_EQ(ips_csum_fold(ips_csum_add(ips_csum_add(0, d, 2), d + 2, 6)), (uint16_t)~0xddf2);
}

TEST(empty_and_zero)
{
	uint8_t z[64] = { 0 };

	CHECK_EQ(ips_csum_fold(ips_csum_add(0, NULL, 0)), 0xffff);
	CHECK_EQ(ips_csum_fold(ips_csum_add(0, z, sizeof(z))), 0xffff);
}

TEST(odd_lengths_pad_on_the_right)
{
	uint8_t b[1] = { 0xab };
	uint8_t b3[3] = { 0x12, 0x34, 0x56 };

	CHECK_EQ(ips_csum_fold(ips_csum_add(0, b, 1)), (uint16_t)~0xab00);
	CHECK_EQ(ips_csum_fold(ips_csum_add(0, b3, 3)), (uint16_t)~(0x1234 + 0x5600));
}

TEST(matches_reference_for_every_length_and_alignment)
{
	uint8_t buf[300];
	size_t len, off, i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rng();
	for (off = 0; off < 8; off++)
		for (len = 0; len + off <= sizeof(buf); len++)
			if (ips_csum_fold(ips_csum_add(0, buf + off, len)) != ref_csum(buf + off, len)) {
				TEST_FAIL_AT("off %zu len %zu", off, len);
				return;
			}
}

/* Long buffers (the SIMD path from 128 bytes) at every offset mod 16, random and
 * all-ones, up to a 64 KiB segment, alone and chained after a prefix. */
TEST(long_buffers_match_reference)
{
	static uint8_t buf[65536 + 32], ff[65536 + 32];
	static const size_t lens[] = { 127, 128, 129, 130, 191, 192, 255, 256, 1000, 1460,
				       1461, 4095, 9000, 65495, 65535, 65536 };

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rng();
	memset(ff, 0xff, sizeof(ff));
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++)
		for (size_t off = 0; off < 16; off++) {
			size_t len = lens[k];
			uint32_t pre = ips_csum_add(0, buf + off, 2);

			if (ips_csum_fold(ips_csum_add(0, buf + off, len)) != ref_csum(buf + off, len) ||
			    ips_csum_fold(ips_csum_add(0, ff + off, len)) != ref_csum(ff + off, len) ||
			    ips_csum_fold(ips_csum_add(pre, buf + off + 2, len)) !=
				    ref_csum(buf + off, len + 2)) {
				TEST_FAIL_AT("off %zu len %zu", off, len);
				return;
			}
		}
	for (int round = 0; round < 200; round++) {
		size_t len = rng() % 65536, off = rng() % 16;

		ASSERT_EQ(ips_csum_fold(ips_csum_add(0, buf + off, len)), ref_csum(buf + off, len));
	}
}

TEST(all_ones_data_does_not_lose_carries)
{
	uint8_t ff[4096];

	memset(ff, 0xff, sizeof(ff));
	CHECK_EQ(ips_csum_fold(ips_csum_add(0, ff, sizeof(ff))), ref_csum(ff, sizeof(ff)));
	/* ffff ffff ffff ff00 plus a sum of 0xffffffff (== -0): ~0xff00 */
	CHECK_EQ(ips_csum_fold(ips_csum_add(0xffffffff, ff, 7)), 0x00ff);
	/* A large incoming partial sum chains with end-around carry. */
	CHECK_EQ(ips_csum_fold(ips_csum_add(0xfffffffe, ff, 8)),
		 ips_csum_fold(0xfffe + 0xffff + 0xffff));
}

TEST(chaining_random_even_chunks)
{
	uint8_t buf[1500];
	int round;

	for (round = 0; round < 200; round++) {
		size_t len = rng() % sizeof(buf), pos = 0, i;
		uint32_t s = 0;

		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)rng();
		while (pos < len) {
			size_t chunk = (rng() % 64) & ~(size_t)1;

			if (chunk == 0 || pos + chunk > len)
				chunk = len - pos;	/* the last chunk may be odd */
			s = ips_csum_add(s, buf + pos, chunk);
			pos += chunk;
		}
		ASSERT_EQ(ips_csum_fold(s), ref_csum(buf, len));
	}
}

TEST(pseudo_header_matches_bytes)
{
	uint8_t ph[12];
	uint32_t sa = inet_addr("192.168.1.10"), da = inet_addr("10.0.0.1");

	memcpy(ph, &sa, 4);
	memcpy(ph + 4, &da, 4);
	ph[8] = 0;
	ph[9] = 17;
	put_be16(ph + 10, 1234);
	CHECK_EQ(ips_csum_fold(ips_csum_pseudo(sa, da, 17, 1234)), ref_csum(ph, 12));
}

/* A real IPv4 header (ping 192.168.0.1 -> 192.168.0.199, from RFC-style captures). */
static const uint8_t ip_hdr[20] = {
	0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
};

TEST(verify_of_correct_header_is_zero)
{
	uint8_t h[20];

	CHECK_EQ(ips_csum_fold(ips_csum_add(0, ip_hdr, 20)), 0);
	memcpy(h, ip_hdr, 20);
	put_be16(h + 10, 0);
	CHECK_EQ(ips_csum_fold(ips_csum_add(0, h, 20)), 0xb861);
	h[8] ^= 1;
	put_be16(h + 10, 0xb861);
	CHECK(ips_csum_fold(ips_csum_add(0, h, 20)) != 0);
}

TEST(incremental_update16_equals_recompute)
{
	uint8_t buf[64];
	int round;

	for (round = 0; round < 10000; round++) {
		size_t i, off = 2 * (rng() % 31);	/* even offset, not the csum at 62 */
		uint16_t csum, old, nw;

		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)rng();
		if (round % 7 == 0)
			memset(buf, round % 2 ? 0xff : 0, sizeof(buf) - 2);
		put_be16(buf + 62, 0);
		csum = ips_csum_fold(ips_csum_add(0, buf, sizeof(buf)));
		put_be16(buf + 62, csum);
		old = get_be16(buf + off);
		nw = (uint16_t)rng();
		if (round % 5 == 0)
			nw = (uint16_t)(old - 1);	/* TTL-style decrement */
		put_be16(buf + off, nw);
		csum = ips_csum_update16(csum, old, nw);
		put_be16(buf + 62, 0);
		ASSERT_EQ(csum, ips_csum_fold(ips_csum_add(0, buf, sizeof(buf))));
	}
}

TEST(incremental_update32_equals_recompute)
{
	uint8_t buf[40];
	int round;

	for (round = 0; round < 10000; round++) {
		size_t i, off = 2 * (rng() % 18);
		uint16_t csum;
		uint32_t old, nw;

		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)rng();
		put_be16(buf + 38, 0);
		csum = ips_csum_fold(ips_csum_add(0, buf, sizeof(buf)));
		old = get_be32(buf + off);
		nw = rng();
		put_be32(buf + off, nw);
		csum = ips_csum_update32(csum, old, nw);
		ASSERT_EQ(csum, ips_csum_fold(ips_csum_add(0, buf, sizeof(buf))));
	}
}

TEST(rfc1624_corner_case)
{
	/* RFC 1624 4: the other header words sum to 0xcd7a and a field goes 0x5555 ->
	 * 0x3285; HC = 0xdd2f and the right HC' is 0x0000 (eqn. 2 gives 0xffff). */
	uint8_t d[4];
	uint16_t c;

	put_be16(d, 0xcd7a);
	put_be16(d + 2, 0x5555);
	c = ips_csum_fold(ips_csum_add(0, d, 4));
	CHECK_EQ(c, 0xdd2f);
	c = ips_csum_update16(c, 0x5555, 0x3285);
	put_be16(d + 2, 0x3285);
	CHECK_EQ(c, ips_csum_fold(ips_csum_add(0, d, 4)));
	CHECK_EQ(c, 0x0000);
}

TEST_MAIN

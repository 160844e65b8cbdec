/* The Internet checksum, RFC 1071, with RFC 1624 incremental updates.
 *
 * Speed: the bulk of ips_csum_add() adds the data as native-endian 64-bit words into a
 * 64-bit accumulator with end-around carry. That is legitimate because 2^64 - 1 is a
 * multiple of 2^16 - 1, so one's-complement sums modulo 2^64 - 1 and modulo 2^16 - 1
 * agree once folded (RFC 1071 2(B), "parallel summation"), and because summing
 * byte-swapped words gives the byte-swapped sum (RFC 1071 2(B), "byte order
 * independence"): on a little-endian host we fold and swap once at the end.
 *
 * Long buffers (>= 128 bytes: TCP segments, big datagrams) take a SIMD path on x86-64
 * (SSE2, which every x86-64 has): 32-bit words zero-extended into eight 64-bit lanes and
 * added without carries (no lane can overflow below 2^34 bytes), then the lanes are
 * added with end-around carry. Sums of 32-bit words fold to the same 16-bit sum because
 * 2^32 - 1 is a multiple of 2^16 - 1, as above. Measured on 64 KiB: 5.6 -> 18.8 bytes per
 * cycle; on 1460 bytes 6.1 -> 14.3. From 256 bytes, where the CPU has AVX2, the same with
 * 32-byte loads: 36.5 and 19.0 (docs/performance.md). */
#include "core/csum.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static inline uint64_t add_carry64(uint64_t a, uint64_t b)
{
	uint64_t s = a + b;

	return s + (s < a);	/* end-around carry */
}

/* Fold a 64-bit one's-complement sum to 16 bits (not complemented). */
static inline uint32_t fold64_to16(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);	/* <= 2^33 - 2 */
	s = (s & 0xffffffffu) + (s >> 32);	/* <= 2^32 - 1 */
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint32_t)s;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CSUM_HAVE_AVX2 1
/* The same lane sums 32 bytes per load, where the CPU has AVX2 (checked at run time):
 * consumes a multiple of 128 bytes, advancing *pp and *lenp; returns their sum. */
__attribute__((target("avx2"))) static uint64_t csum_avx2(const unsigned char **pp,
							    size_t *lenp)
{
	const unsigned char *p = *pp;
	size_t len = *lenp;
	const __m256i zero = _mm256_setzero_si256();
	__m256i s0 = zero, s1 = zero, s2 = zero, s3 = zero;
	uint64_t lanes[16], acc = 0;

	do {
		__m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
		__m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
		__m256i v2 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 64));
		__m256i v3 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 96));

		s0 = _mm256_add_epi64(s0, _mm256_unpacklo_epi32(v0, zero));
		s1 = _mm256_add_epi64(s1, _mm256_unpackhi_epi32(v0, zero));
		s2 = _mm256_add_epi64(s2, _mm256_unpacklo_epi32(v1, zero));
		s3 = _mm256_add_epi64(s3, _mm256_unpackhi_epi32(v1, zero));
		s0 = _mm256_add_epi64(s0, _mm256_unpacklo_epi32(v2, zero));
		s1 = _mm256_add_epi64(s1, _mm256_unpackhi_epi32(v2, zero));
		s2 = _mm256_add_epi64(s2, _mm256_unpacklo_epi32(v3, zero));
		s3 = _mm256_add_epi64(s3, _mm256_unpackhi_epi32(v3, zero));
		p += 128;
		len -= 128;
	} while (len >= 128);
	_mm256_storeu_si256((__m256i *)(void *)&lanes[0], s0);
	_mm256_storeu_si256((__m256i *)(void *)&lanes[4], s1);
	_mm256_storeu_si256((__m256i *)(void *)&lanes[8], s2);
	_mm256_storeu_si256((__m256i *)(void *)&lanes[12], s3);
	for (int i = 0; i < 16; i++)
		acc = add_carry64(acc, lanes[i]);
	*pp = p;
	*lenp = len;
	return acc;
}
#endif

uint32_t ips_csum_add(uint32_t sum, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t acc = 0;
	uint64_t w0, w1, w2, w3;
	uint32_t r;

#ifdef CSUM_HAVE_AVX2
	if (len >= 256 && __builtin_cpu_supports("avx2"))
		acc = csum_avx2(&p, &len);
#endif
#ifdef __SSE2__
	if (len >= 128) {
		const __m128i zero = _mm_setzero_si128();
		__m128i s0 = zero, s1 = zero, s2 = zero, s3 = zero;
		uint64_t lanes[8];

		do {
			__m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)p);
			__m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
			__m128i v2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
			__m128i v3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));

			s0 = _mm_add_epi64(s0, _mm_unpacklo_epi32(v0, zero));
			s1 = _mm_add_epi64(s1, _mm_unpackhi_epi32(v0, zero));
			s2 = _mm_add_epi64(s2, _mm_unpacklo_epi32(v1, zero));
			s3 = _mm_add_epi64(s3, _mm_unpackhi_epi32(v1, zero));
			s0 = _mm_add_epi64(s0, _mm_unpacklo_epi32(v2, zero));
			s1 = _mm_add_epi64(s1, _mm_unpackhi_epi32(v2, zero));
			s2 = _mm_add_epi64(s2, _mm_unpacklo_epi32(v3, zero));
			s3 = _mm_add_epi64(s3, _mm_unpackhi_epi32(v3, zero));
			p += 64;
			len -= 64;
		} while (len >= 64);
		_mm_storeu_si128((__m128i *)(void *)&lanes[0], s0);
		_mm_storeu_si128((__m128i *)(void *)&lanes[2], s1);
		_mm_storeu_si128((__m128i *)(void *)&lanes[4], s2);
		_mm_storeu_si128((__m128i *)(void *)&lanes[6], s3);
		for (int i = 0; i < 8; i++)
			acc = add_carry64(acc, lanes[i]);
	}
#endif
	while (len >= 32) {
		memcpy(&w0, p, 8);
		memcpy(&w1, p + 8, 8);
		memcpy(&w2, p + 16, 8);
		memcpy(&w3, p + 24, 8);
		acc = add_carry64(acc, w0);
		acc = add_carry64(acc, w1);
		acc = add_carry64(acc, w2);
		acc = add_carry64(acc, w3);
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		memcpy(&w0, p, 8);
		acc = add_carry64(acc, w0);
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		acc = add_carry64(acc, w);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		acc = add_carry64(acc, w);
		p += 2;
		len -= 2;
	}
	if (len) {
		/* RFC 1071 4.1: an odd last byte is the high byte of a word whose low byte is
		 * zero; in memory order that is {b, 0}. */
		unsigned char last[2] = { p[0], 0 };
		uint16_t w;

		memcpy(&w, last, 2);
		acc = add_carry64(acc, w);
	}

	r = fold64_to16(acc);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	r = ((r & 0xff) << 8) | (r >> 8);
#endif
	/* Chain into the caller's sum, keeping the end-around carry within 32 bits. */
	sum += r;
	if (sum < r)
		sum++;
	return sum;
}

uint16_t ips_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t ips_csum_pseudo(uint32_t saddr_be, uint32_t daddr_be, uint8_t proto, uint16_t len)
{
	unsigned char b[8];
	uint32_t s;

	/* The addresses are in network order, i.e. already wire bytes. */
	memcpy(b, &saddr_be, 4);
	memcpy(b + 4, &daddr_be, 4);
	s = ((uint32_t)b[0] << 8 | b[1]) + ((uint32_t)b[2] << 8 | b[3]) +
	    ((uint32_t)b[4] << 8 | b[5]) + ((uint32_t)b[6] << 8 | b[7]);
	return s + proto + len;	/* zero byte + protocol form one word; then the length */
}

uint16_t ips_csum_update16(uint16_t csum, uint16_t old, uint16_t new_)
{
	/* RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'): matches a full recomputation, including
	 * the one's-complement zero corner case where RFC 1141's formula is wrong
	 * (RFC 1624 section 3). */
	uint32_t s = (uint32_t)(uint16_t)~csum + (uint16_t)~old + new_;

	return ips_csum_fold(s);
}

uint16_t ips_csum_update32(uint16_t csum, uint32_t old, uint32_t new_)
{
	uint32_t s = (uint32_t)(uint16_t)~csum + (uint16_t)~(old >> 16) + (uint16_t)~old +
		     (new_ >> 16) + (new_ & 0xffff);

	return ips_csum_fold(s);
}

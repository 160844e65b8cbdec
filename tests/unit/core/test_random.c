#include "test.h"

#include "core/random.h"

TEST(rng_same_seed_same_sequence)
{
	struct rng a, b, c;

	rng_seed(&a, 7);
	rng_seed(&b, 7);
	rng_seed(&c, 8);
	int differ = 0;

	for (int i = 0; i < 1000; i++) {
		uint64_t x = rng_next(&a), y = rng_next(&b), z = rng_next(&c);

		CHECK_EQ(x, y);
		differ += x != z;
	}
	CHECK(differ > 990);
}

TEST(rng_below_stays_in_range_and_covers_it)
{
	struct rng r;
	int seen[10] = { 0 };

	rng_seed(&r, 1);
	for (int i = 0; i < 10000; i++) {
		uint32_t v = rng_below(&r, 10);

		ASSERT(v < 10);
		seen[v]++;
	}
	for (int i = 0; i < 10; i++)
		CHECK(seen[i] > 800 && seen[i] < 1200);	/* 1000 expected; > 6 sigma margin */
}

TEST(rng_chance_matches_percentage)
{
	struct rng r;
	int hits = 0;

	rng_seed(&r, 3);
	for (int i = 0; i < 100000; i++)
		hits += rng_chance(&r, 5.0);
	CHECK(hits > 4500 && hits < 5500);	/* 5000 +- 7 sigma */
	CHECK_EQ(rng_chance(&r, 0), 0);
	CHECK_EQ(rng_chance(&r, 100), 1);
}

TEST(siphash24_reference_vector)
{
	/* SipHash-2-4 paper, Appendix A: key 00..0f, message 00..0e -> a129ca6149be45e5 */
	uint8_t key[16], msg[15];

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	CHECK_EQ(siphash24(key, msg, 15), 0xa129ca6149be45e5ULL);
	CHECK_EQ(siphash24(key, msg, 0), 0x726fdb47dd0e0e31ULL);
}

TEST_MAIN

/* Randomness: a seeded xoshiro256** generator per stack (fed from the injected random
 * source, or from a seed in simulation) and SipHash-2-4 for keyed hashes (RFC 6528 ISNs,
 * RFC 6056 port selection, hash-table secrets, IP IDs). */
#ifndef IPS_CORE_RANDOM_H
#define IPS_CORE_RANDOM_H

#include <stddef.h>
#include <stdint.h>

struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
uint32_t rng_u32(struct rng *r);
/* Uniform in [0, bound) without modulo bias; bound > 0. */
uint32_t rng_below(struct rng *r, uint32_t bound);
/* true with probability pct/100 (pct may be fractional, 0..100). */
int rng_chance(struct rng *r, double pct);
void rng_fill(struct rng *r, void *buf, size_t len);

/* SipHash-2-4 of data under a 128-bit key. */
uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);

/* The system's random source (getrandom); only the default random ops use it. */
void random_system_fill(void *ctx, void *buf, size_t len);

#endif

/* Shared bits of the libFuzzer harnesses: each is one LLVMFuzzerTestOneInput() over a
 * wire-layer parser. Input is copied into an exact-size heap block so that ASan catches
 * any read past the end. CHECK() aborts: a failed consistency check is a finding. */
#ifndef IPS_FUZZ_COMMON_H
#define IPS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                \
	do {                                                                    \
		if (!(c)) {                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                \
		}                                                               \
	} while (0)

static inline uint8_t *fuzz_dup(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);

	if (size)
		memcpy(b, data, size);
	return b;
}

#endif

/* Helpers shared by the wire-layer unit tests. */
#ifndef IPS_TESTS_WIRE_TEST_H
#define IPS_TESTS_WIRE_TEST_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A heap copy of exactly len bytes, so that AddressSanitizer flags any read past len
 * (a stack or static array would hide it). Free with free(). len 0 gives a 1-byte block
 * that the parser must not touch either: callers pass len 0 explicitly. */
static inline uint8_t *dup_exact(const uint8_t *p, size_t len)
{
	uint8_t *b = malloc(len ? len : 1);

	if (len)
		memcpy(b, p, len);
	return b;
}

static inline uint32_t ip4(const char *s)
{
	return inet_addr(s);
}

#endif

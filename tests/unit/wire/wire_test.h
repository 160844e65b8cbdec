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

/* Hex string -> bytes; spaces are ignored. Returns the byte count. */
static inline size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;

		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

static inline uint32_t ip4(const char *s)
{
	return inet_addr(s);
}

#endif

/* Byte access helpers for the wire layer. Packet memory is only ever read and written
 * through these (or memcpy), never by casting a struct over it: packets need not be
 * aligned, and the struct layout is not the wire layout.
 *
 * Conventions of the whole wire layer (src/wire/):
 *  - IPv4 addresses are uint32_t in NETWORK byte order everywhere (as struct in_addr's
 *    s_addr): read and write them with get_in4()/put_in4(), which copy bytes unchanged.
 *  - Every other numeric field is in host order in the parsed structs.
 *  - Parsers: int wire_X_parse(const uint8_t *p, size_t len, struct wire_X *out) return 0
 *    or a negative errno (-EBADMSG unless the header says otherwise) and never read
 *    p[len] or beyond. Emitters: size_t wire_X_emit(uint8_t *p, const struct wire_X *h)
 *    return the number of bytes written; the caller provides the room. */
#ifndef IPS_WIRE_WIRE_H
#define IPS_WIRE_WIRE_H

#include <stdint.h>
#include <string.h>

static inline uint8_t get_u8(const uint8_t *p)
{
	return p[0];
}

static inline void put_u8(uint8_t *p, uint8_t v)
{
	p[0] = v;
}

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* An IPv4 address as stored: network byte order in and out, bytes unchanged. */
static inline uint32_t get_in4(const uint8_t *p)
{
	uint32_t a;

	memcpy(&a, p, 4);
	return a;
}

static inline void put_in4(uint8_t *p, uint32_t addr_be)
{
	memcpy(p, &addr_be, 4);
}

#endif

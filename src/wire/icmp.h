/* ICMP for IPv4 (RFC 792): type, code, checksum, and the 4-byte "rest of header",
 * decoded into the view that the type uses. */
#ifndef IPS_WIRE_ICMP_H
#define IPS_WIRE_ICMP_H

#include <netinet/ip_icmp.h>	/* ICMP_ECHO, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ... */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WIRE_ICMP_HLEN 8

/* Which member of wire_icmp.un a type uses (wire_icmp_view()). */
enum wire_icmp_view {
	WIRE_ICMP_VIEW_RAW = 0,	/* unknown types: the 4 bytes as they are */
	WIRE_ICMP_VIEW_ECHO,	/* echo, echo reply, timestamp(+reply), info, mask (RFC 792, 950) */
	WIRE_ICMP_VIEW_GATEWAY,	/* redirect */
	WIRE_ICMP_VIEW_UNREACH,	/* destination unreachable, time exceeded */
	WIRE_ICMP_VIEW_PP,	/* parameter problem */
};

struct wire_icmp {
	uint8_t type, code;
	uint16_t csum;		/* as received; emit computes its own */
	union {
		struct {
			uint16_t id, seq;	/* host order */
		} echo;
		uint32_t gateway;		/* network order (RFC 792 redirect) */
		struct {
			uint8_t unused;
			uint8_t length;	/* RFC 4884: original datagram length, 32-bit words */
			uint16_t mtu;	/* RFC 1191: next-hop MTU (code 4, frag needed) */
		} unreach;
		struct {
			uint8_t pointer;	/* RFC 792: octet in the quoted header */
			uint8_t length;		/* RFC 4884 */
			uint16_t unused;
		} pp;
		uint8_t raw[4];
	} un;
};

enum wire_icmp_view wire_icmp_view(uint8_t type);

/* Needs len >= 8; decodes un by wire_icmp_view(type). The checksum is not checked here. */
int wire_icmp_parse(const uint8_t *p, size_t len, struct wire_icmp *out);

/* The checksum over the whole message p[0..len) verifies (RFC 792: header + data). */
bool wire_icmp_csum_ok(const uint8_t *p, size_t len);

/* Writes the 8-byte header and the payload after it, checksum over both. payload may
 * point at p + 8 already (no copy then), may overlap, or be NULL with payload_len 0.
 * Returns 8 + payload_len. */
size_t wire_icmp_emit(uint8_t *p, const struct wire_icmp *h, const void *payload,
		      size_t payload_len);

/* Recompute the checksum of the message p[0..len) in place (after the body was
 * written or a field was edited). */
void wire_icmp_fix_csum(uint8_t *p, size_t len);

static inline uint8_t wire_icmp_type(const uint8_t *p)
{
	return p[0];
}

/* Raw-byte access to the echo identifier (bytes 4-5, kept in network order, as the ping
 * socket's port) of a message holding at least 8 bytes. */
static inline uint16_t wire_icmp_echo_id_be(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p + 4, 2);
	return v;
}

static inline void wire_icmp_set_echo_id_be(uint8_t *p, uint16_t id_be)
{
	memcpy(p + 4, &id_be, 2);
}

#endif

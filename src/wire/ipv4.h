/* IPv4 header (RFC 791 3.1). Options are parsed separately (ipv4_opts.h). */
#ifndef IPS_WIRE_IPV4_H
#define IPS_WIRE_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/wire.h"

#define WIRE_IPV4_HLEN		20	/* without options */
#define WIRE_IPV4_MAX_HLEN	60	/* IHL 15 */
#define WIRE_IPV4_MAX_OPTLEN	40

/* Flags in the frag_off field (RFC 791 3.1; RF is RFC 3514's "evil bit"). */
#define WIRE_IPV4_RF		0x8000
#define WIRE_IPV4_DF		0x4000
#define WIRE_IPV4_MF		0x2000
#define WIRE_IPV4_OFFMASK	0x1fff	/* in units of 8 bytes */

struct wire_ipv4 {
	uint8_t version;	/* 4 after a successful parse */
	uint8_t hdr_len;	/* bytes: IHL * 4, 20..60 */
	uint8_t tos;		/* DSCP << 2 | ECN */
	uint16_t tot_len, id;
	bool df, mf, rf;	/* rf: the reserved bit ("evil bit") */
	uint16_t frag_off;	/* fragment offset in BYTES (field value * 8) */
	uint8_t ttl, proto;
	uint16_t csum;		/* as received; emit computes its own */
	uint32_t saddr, daddr;	/* network order */
	const uint8_t *opts;	/* parse: points into the packet (p + 20); NULL if none */
	uint8_t opts_len;	/* hdr_len - 20 */
};

/* Header structure only. Returns
 *   0          len >= 20, version 4, IHL >= 5, hdr_len <= len;
 *   -ENODATA   the buffer is too short: len < 20, or len < hdr_len;
 *   -EBADMSG   version != 4 or IHL < 5 (checked once 20 bytes are there).
 * Linux ip_rcv_core() counts both as InHdrErrors; they are distinct so a caller can tell
 * them apart anyway. The checksum (wire_ipv4_csum_ok()) and tot_len against the frame
 * (wire_ipv4_check_len()) are separate steps, in Linux's order: parse, checksum, length. */
int wire_ipv4_parse(const uint8_t *p, size_t len, struct wire_ipv4 *out);

/* RFC 1122 3.2.1.2: the header checksum over hdr_len bytes verifies. */
bool wire_ipv4_csum_ok(const uint8_t *p, size_t hdr_len);

/* The checksum to store for the header p[0..hdr_len) (the csum field's value ignored). */
uint16_t wire_ipv4_csum(const uint8_t *p, size_t hdr_len);

/* tot_len against the frame, as Linux ip_rcv_core() does after the checksum. */
enum wire_ipv4_len_check {
	WIRE_IPV4_LEN_OK = 0,		/* the caller trims the frame to tot_len */
	WIRE_IPV4_LEN_TRUNCATED,	/* frame_len < tot_len: IpInTruncatedPkts */
	WIRE_IPV4_LEN_BAD,		/* tot_len < hdr_len: IpInHdrErrors */
};
enum wire_ipv4_len_check wire_ipv4_check_len(const struct wire_ipv4 *h, size_t frame_len);

/* Writes the header: version 4, hdr_len = 20 + opts_len rounded up to 4 (padded with
 * IPOPT_EOL, as Linux ip_options_get() pads), the flags and frag_off (bytes, must be a
 * multiple of 8), and a freshly computed checksum (h->version, h->hdr_len and h->csum
 * are ignored). opts may be NULL when opts_len is 0. Returns the header length. */
size_t wire_ipv4_emit(uint8_t *p, const struct wire_ipv4 *h);

/* In-place edits of a valid header that keep the checksum right with an RFC 1624
 * incremental update (no full recomputation). p points at the IP header. */
void wire_ipv4_set_ttl(uint8_t *p, uint8_t ttl);
/* Linux ip_decrease_ttl(): TTL - 1 with the checksum adjusted; returns the new TTL.
 * The caller checks TTL <= 1 before forwarding (RFC 1812 5.3.1). */
uint8_t wire_ipv4_dec_ttl(uint8_t *p);
void wire_ipv4_set_tos(uint8_t *p, uint8_t tos);
void wire_ipv4_set_tot_len(uint8_t *p, uint16_t tot_len);
void wire_ipv4_set_id(uint8_t *p, uint16_t id);
/* Rewrites the whole flags+offset field: offset in bytes (multiple of 8), MF, DF; the
 * reserved bit is cleared, as Linux's ip_fragment code writes the field afresh. */
void wire_ipv4_set_frag(uint8_t *p, uint16_t offset_bytes, bool mf, bool df);
void wire_ipv4_set_saddr(uint8_t *p, uint32_t saddr_be);
void wire_ipv4_set_daddr(uint8_t *p, uint32_t daddr_be);
/* Recompute the checksum from scratch (after editing options in place). */
void wire_ipv4_fix_csum(uint8_t *p);

/* Convenience getters on raw bytes (p must hold at least 20 bytes). */
static inline uint8_t wire_ipv4_hdr_len(const uint8_t *p)
{
	return (uint8_t)((p[0] & 0x0f) * 4);
}

static inline uint8_t wire_ipv4_version(const uint8_t *p)
{
	return (uint8_t)(p[0] >> 4);
}

static inline uint8_t wire_ipv4_tos(const uint8_t *p)
{
	return p[1];
}

static inline uint16_t wire_ipv4_tot_len(const uint8_t *p)
{
	return get_be16(p + 2);
}

static inline uint16_t wire_ipv4_id(const uint8_t *p)
{
	return get_be16(p + 4);
}

/* A fragment (MF set or a non-zero offset): it carries no whole transport header. */
static inline bool wire_ipv4_is_fragment(const uint8_t *p)
{
	return (get_be16(p + 6) & (WIRE_IPV4_MF | WIRE_IPV4_OFFMASK)) != 0;
}

static inline bool wire_ipv4_df(const uint8_t *p)
{
	return (get_be16(p + 6) & WIRE_IPV4_DF) != 0;
}

static inline uint8_t wire_ipv4_ttl(const uint8_t *p)
{
	return p[8];
}

static inline uint8_t wire_ipv4_proto(const uint8_t *p)
{
	return p[9];
}

/* Source and destination address, network order (as in_addr.s_addr). */
static inline uint32_t wire_ipv4_saddr(const uint8_t *p)
{
	return get_in4(p + 12);
}

static inline uint32_t wire_ipv4_daddr(const uint8_t *p)
{
	return get_in4(p + 16);
}

#endif

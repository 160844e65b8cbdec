/* TCP header (RFC 9293 3.1) and options (RFC 9293 3.2, RFC 7323, RFC 2018, RFC 7413). */
#ifndef IPS_WIRE_TCP_H
#define IPS_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/wire.h"

#define WIRE_TCP_HLEN		20
#define WIRE_TCP_MAX_HLEN	60
#define WIRE_TCP_MAX_OPTLEN	40

/* Flags, host order: the low 8 bits are byte 13 of the header; WIRE_TCP_AE is the bit
 * before CWR (byte 12 bit 0: RFC 3540's NS, now AccECN's AE, RFC 9768). */
#define WIRE_TCP_FIN	0x001
#define WIRE_TCP_SYN	0x002
#define WIRE_TCP_RST	0x004
#define WIRE_TCP_PSH	0x008
#define WIRE_TCP_ACK	0x010
#define WIRE_TCP_URG	0x020
#define WIRE_TCP_ECE	0x040
#define WIRE_TCP_CWR	0x080
#define WIRE_TCP_AE	0x100
#define WIRE_TCP_NS	WIRE_TCP_AE

/* Option kinds (IANA) and lengths */
#define WIRE_TCPOPT_EOL		0
#define WIRE_TCPOPT_NOP		1
#define WIRE_TCPOPT_MSS		2	/* len 4 */
#define WIRE_TCPOPT_WSCALE	3	/* len 3 */
#define WIRE_TCPOPT_SACK_PERM	4	/* len 2 */
#define WIRE_TCPOPT_SACK	5	/* len 2 + 8n */
#define WIRE_TCPOPT_TS		8	/* len 10 */
#define WIRE_TCPOPT_MD5		19	/* len 18, RFC 2385 */
#define WIRE_TCPOPT_AO		29	/* RFC 5925 */
#define WIRE_TCPOPT_MPTCP	30
#define WIRE_TCPOPT_FASTOPEN	34	/* len 2 + cookie, RFC 7413 */
#define WIRE_TCPOPT_EXP		254	/* RFC 6994; Fast Open used magic 0xF989 before 34 */
#define WIRE_TCPOPT_FASTOPEN_MAGIC 0xF989

#define WIRE_TCP_MAX_WSCALE	14	/* RFC 7323 2.3 */
#define WIRE_TCP_NUM_SACKS	4	/* at most 4 blocks fit in 40 bytes */
#define WIRE_TCP_FASTOPEN_COOKIE_MIN 4	/* RFC 7413 4.1.1, Linux TCP_FASTOPEN_COOKIE_MIN */
#define WIRE_TCP_FASTOPEN_COOKIE_MAX 16

struct wire_tcp {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t doff;		/* header length in BYTES (data offset * 4), 20..60 */
	uint16_t flags;		/* WIRE_TCP_*; the 3 reserved bits are in `res` */
	uint8_t res;		/* reserved bits (byte 12 bits 1..3), kept for round trips */
	uint16_t window, csum, urg;
	const uint8_t *opts;	/* parse: p + 20 (NULL if none); emit: bytes to copy */
	uint8_t opts_len;	/* doff - 20 (emit: padded with EOL to a multiple of 4) */
};

/* Needs len >= 20, data offset >= 5 and doff <= len; else -EBADMSG (Linux tcp_v4_rcv()
 * drops "th->doff < sizeof(struct tcphdr) / 4" and a header longer than the segment). */
/* Raw-byte access to fields of a TCP header already known to hold 20 bytes (segments
 * built or cut in place: software GSO). */
static inline size_t wire_tcp_hdr_len(const uint8_t *p)
{
	return (size_t)(p[12] >> 4) * 4;
}

static inline uint32_t wire_tcp_seq(const uint8_t *p)
{
	return get_be32(p + 4);
}

static inline void wire_tcp_set_seq(uint8_t *p, uint32_t seq)
{
	put_be32(p + 4, seq);
}

/* The nine flag bits (WIRE_TCP_FIN .. WIRE_TCP_AE). */
static inline uint16_t wire_tcp_flags(const uint8_t *p)
{
	return (uint16_t)(get_be16(p + 12) & 0x01ff);
}

static inline void wire_tcp_set_flags(uint8_t *p, uint16_t flags)
{
	put_be16(p + 12, (uint16_t)((get_be16(p + 12) & ~0x01ffu) | (flags & 0x01ffu)));
}

int wire_tcp_parse(const uint8_t *p, size_t len, struct wire_tcp *out);
/* Writes doff = 20 + opts_len rounded up to 4 bytes, csum as given (fill it afterwards
 * with wire_tcp_csum_fill() once the payload is in place). Returns the header length. */
size_t wire_tcp_emit(uint8_t *p, const struct wire_tcp *h);

/* Checksum with the pseudo-header over the segment p[0..len) (header + data). */
void wire_tcp_csum_fill(uint8_t *p, size_t len, uint32_t saddr_be, uint32_t daddr_be);
bool wire_tcp_csum_ok(const uint8_t *p, size_t len, uint32_t saddr_be, uint32_t daddr_be);

struct wire_tcp_sack {
	uint32_t start, end;	/* host order */
};

struct wire_tcp_opts {
	bool has_mss;
	uint16_t mss;
	bool has_wscale;
	uint8_t wscale;		/* as sent; Linux clamps > 14 to 14 (and logs) */
	bool sack_ok;		/* SACK permitted */
	uint8_t num_sacks;	/* SACK blocks, at most 4 */
	struct wire_tcp_sack sack[WIRE_TCP_NUM_SACKS];
	uint8_t sack_off;	/* parse: offset of the SACK option from the TCP header, 0 none */
	bool has_ts;
	uint32_t tsval, tsecr;
	bool has_fastopen;	/* kind 34, or 254 with the magic when fastopen_exp */
	bool fastopen_exp;
	uint8_t fastopen_len;	/* cookie bytes; 0 = cookie request */
	uint8_t fastopen_cookie[WIRE_TCP_FASTOPEN_COOKIE_MAX];
	bool has_md5;		/* RFC 2385 option present */
	uint8_t md5_off;	/* parse: offset of the 16-byte digest from the TCP header;
				 * emit: set to where the digest goes (zeroed) */
	bool has_ao;		/* RFC 5925 option present (not emitted) */
};

/* Parse the options of a TCP header p (p[20..doff)), following Linux tcp_parse_options():
 * EOL ends the list, NOP is skipped; an option whose length is < 2 or runs past the
 * end stops parsing ("silly options", "don't parse partial options"). Unknown kinds are
 * skipped, and a known kind with the wrong length is ignored, both as Linux does.
 * Differences: everything present is reported regardless of SYN/state/sysctls (the TCP
 * layer applies Linux's gating: MSS, WS, SACK_PERM only on SYN; TS when enabled), and
 * the MSS value 0 is reported (Linux ignores it). Fast Open: as
 * tcp_parse_fastopen_option(), an odd cookie length is ignored, a length outside 4..16
 * is reported as has_fastopen with fastopen_len = 0xff (Linux: foc->len = -1).
 * Returns 0, or -EBADMSG if parsing stopped at a malformed option; the fields parsed
 * before it are still filled, so a caller that wants Linux's exact behaviour just ignores
 * the return value. */
int wire_tcp_opts_parse(const uint8_t *th, size_t doff, struct wire_tcp_opts *out);

/* Bytes wire_tcp_opts_emit() writes for o (a multiple of 4), before any SACK clamping. */
size_t wire_tcp_opts_len(const struct wire_tcp_opts *o);

/* Write options in Linux tcp_options_write() order and layout (each group 32-bit
 * aligned):
 *   MD5      01 01 13 12 + 16 zero bytes (o->md5_off set to the digest)
 *   MSS      02 04 mm mm
 *   TS       with sack_ok: 04 02 08 0a tsval tsecr; without: 01 01 08 0a tsval tsecr
 *   SACK_OK  without TS: 01 01 04 02
 *   WSCALE   01 03 03 ws
 *   SACK     01 01 05 (2 + 8n) blocks
 *   FASTOPEN 22 len cookie (+ 01 01 when len % 4 == 2), or fe len f9 89 cookie (+pad)
 * SACK blocks that would not fit in 40 bytes are dropped (as Linux's
 * tcp_established_options() sizes num_sack_blocks to the space left). The other options
 * must fit in 40 bytes by themselves (Linux never sends MD5 with Fast Open; check with
 * wire_tcp_opts_len()). Returns the number of bytes written (a multiple of 4). o is not
 * const because md5_off is set. */
size_t wire_tcp_opts_emit(uint8_t *p, struct wire_tcp_opts *o);

#endif

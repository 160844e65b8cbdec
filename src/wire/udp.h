/* UDP (RFC 768) and UDP-Lite (RFC 3828): the same 8-byte header; in UDP-Lite the length
 * field is the checksum coverage. */
#ifndef IPS_WIRE_UDP_H
#define IPS_WIRE_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_UDP_HLEN 8

struct wire_udp {
	uint16_t sport, dport;	/* host order */
	uint16_t len;		/* UDP: header + data; UDP-Lite: checksum coverage */
	uint16_t csum;		/* as on the wire; 0 = none (UDP only) */
};

/* Needs len >= 8. The length field is not compared with the datagram here: Linux
 * __udp4_lib_rcv() counts "len field > datagram" and "< 8" as short packets, and trims
 * the datagram to the field, so the caller does it (wire_udp_check_len()). */
int wire_udp_parse(const uint8_t *p, size_t len, struct wire_udp *out);
size_t wire_udp_emit(uint8_t *p, const struct wire_udp *h);	/* 8 bytes, csum as given */

/* UDP: 0 when 8 <= h->len <= dgram_len (the caller then trims to h->len), -EBADMSG
 * otherwise. dgram_len is the IP payload length. */
int wire_udp_check_len(const struct wire_udp *h, size_t dgram_len);

/* All checksum helpers need len/cov >= 8 (a whole header).
 * UDP checksum of p[0..len) (len = the UDP length) with the pseudo-header, treating the
 * checksum field as zero: the value to store, where a computed 0 is sent as 0xffff
 * (RFC 768: 0 means "no checksum"). */
uint16_t wire_udp_csum(const uint8_t *p, size_t len, uint32_t saddr_be, uint32_t daddr_be);
/* Computes and stores the checksum in place. */
void wire_udp_csum_fill(uint8_t *p, size_t len, uint32_t saddr_be, uint32_t daddr_be);
/* Receive: true if the checksum field is 0 (none sent: the caller may count or refuse
 * that, e.g. for UDP_NO_CHECK6_RX-like policies) or the checksum verifies. */
bool wire_udp_csum_ok(const uint8_t *p, size_t len, uint32_t saddr_be, uint32_t daddr_be);

/* UDP-Lite checksum coverage (RFC 3828 3.1), as Linux udplite_checksum_init(): coverage
 * 0 means the whole datagram; 1..7 (less than the header) or more than the datagram is
 * invalid (-EBADMSG); otherwise *cov = coverage. dgram_len is the IP payload length. */
int wire_udplite_coverage(const struct wire_udp *h, size_t dgram_len, size_t *cov);
/* UDP-Lite checksum over the first cov bytes of the dgram_len-byte datagram; the
 * pseudo-header length is the datagram length (RFC 3828 3.1), not the coverage. As for
 * UDP, a computed 0 is sent as 0xffff. */
uint16_t wire_udplite_csum(const uint8_t *p, size_t dgram_len, size_t cov, uint32_t saddr_be,
			   uint32_t daddr_be);
void wire_udplite_csum_fill(uint8_t *p, size_t dgram_len, size_t cov, uint32_t saddr_be,
			    uint32_t daddr_be);
/* Receive: the checksum is mandatory in UDP-Lite (RFC 3828 3.1), so a 0 field fails
 * (Linux: "UDPLite: zeroed checksum field"); otherwise it must verify over cov bytes. */
bool wire_udplite_csum_ok(const uint8_t *p, size_t dgram_len, size_t cov, uint32_t saddr_be,
			  uint32_t daddr_be);

#endif

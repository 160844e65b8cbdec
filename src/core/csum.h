/* The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * Values: a "partial sum" (uint32_t) is an unfolded one's-complement sum of 16-bit
 * big-endian words; any uint32_t is a valid partial sum, so chains may start from 0 or
 * from ips_csum_pseudo(). ips_csum_fold() turns it into the 16-bit value to store in a
 * header, in host order: write it with put_be16(). Verifying a received header or
 * segment is ips_csum_fold(ips_csum_add(...over the whole thing...)) == 0.
 *
 * The ips_ prefix is the one exception to "ips_ means public": these are internal
 * (hidden like the rest), named so by the project's convention. */
#ifndef IPS_CORE_CSUM_H
#define IPS_CORE_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* RFC 1071: add 16-bit words into a 32-bit sum; chain pseudo-header, header and payload
 * (all but the last chunk of even length), then fold once. An odd final byte is padded
 * with a zero byte on the right, as RFC 1071 4.1 specifies. */
uint32_t ips_csum_add(uint32_t sum, const void *data, size_t len);

/* Fold the carries into 16 bits and complement: the value to store (host order of the
 * big-endian field, so store with put_be16()). */
uint16_t ips_csum_fold(uint32_t sum);

/* IPv4 pseudo-header (RFC 793 3.1, RFC 768): source, destination (network byte order,
 * as in struct in_addr), zero, protocol, and the transport length (host order).
 * Returns a partial sum to chain with ips_csum_add() over the transport bytes. */
uint32_t ips_csum_pseudo(uint32_t saddr_be, uint32_t daddr_be, uint8_t proto, uint16_t len);

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). The new checksum after a 16-bit field that
 * was `old` becomes `new_`; all three are host-order values of big-endian fields (as
 * get_be16() reads them). The field must start at an even offset from the start of the
 * checksummed region (every IPv4/TCP/UDP field we rewrite does). */
uint16_t ips_csum_update16(uint16_t csum, uint16_t old, uint16_t new_);

/* The same for a 32-bit field (e.g. an address); `old`/`new_` are the values as
 * get_be32() reads them (so for an in_addr.s_addr, pass ntohl(addr)). */
uint16_t ips_csum_update32(uint16_t csum, uint32_t old, uint32_t new_);

#endif

/* UDP (RFC 768) and UDP-Lite (RFC 3828) header and checksums. */
#include "wire/udp.h"

#include <errno.h>
#include <netinet/in.h>

#include "core/csum.h"
#include "wire/wire.h"

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif

int wire_udp_parse(const uint8_t *p, size_t len, struct wire_udp *out)
{
	if (len < WIRE_UDP_HLEN)
		return -EBADMSG;
	out->sport = get_be16(p);
	out->dport = get_be16(p + 2);
	out->len = get_be16(p + 4);
	out->csum = get_be16(p + 6);
	return 0;
}

size_t wire_udp_emit(uint8_t *p, const struct wire_udp *h)
{
	put_be16(p, h->sport);
	put_be16(p + 2, h->dport);
	put_be16(p + 4, h->len);
	put_be16(p + 6, h->csum);
	return WIRE_UDP_HLEN;
}

int wire_udp_check_len(const struct wire_udp *h, size_t dgram_len)
{
	if (h->len < WIRE_UDP_HLEN || h->len > dgram_len)
		return -EBADMSG;
	return 0;
}

/* The sum over pseudo-header + datagram with the checksum field counted as zero:
 * sum around the field instead of writing to it (the packet may be shared). */
static uint16_t csum_without_field(const uint8_t *p, size_t sum_len, size_t pseudo_len,
				   uint8_t proto, uint32_t saddr, uint32_t daddr)
{
	uint32_t s = ips_csum_pseudo(saddr, daddr, proto, (uint16_t)pseudo_len);

	s = ips_csum_add(s, p, 6);
	s = ips_csum_add(s, p + 8, sum_len - 8);
	return ips_csum_fold(s);
}

uint16_t wire_udp_csum(const uint8_t *p, size_t len, uint32_t saddr_be, uint32_t daddr_be)
{
	uint16_t c = csum_without_field(p, len, len, IPPROTO_UDP, saddr_be, daddr_be);

	return c ? c : 0xffff;	/* RFC 768: a computed zero is sent as all ones */
}

void wire_udp_csum_fill(uint8_t *p, size_t len, uint32_t saddr_be, uint32_t daddr_be)
{
	put_be16(p + 6, wire_udp_csum(p, len, saddr_be, daddr_be));
}

bool wire_udp_csum_ok(const uint8_t *p, size_t len, uint32_t saddr_be, uint32_t daddr_be)
{
	uint32_t s;

	if (get_be16(p + 6) == 0)
		return true;
	s = ips_csum_pseudo(saddr_be, daddr_be, IPPROTO_UDP, (uint16_t)len);
	return ips_csum_fold(ips_csum_add(s, p, len)) == 0;
}

int wire_udplite_coverage(const struct wire_udp *h, size_t dgram_len, size_t *cov)
{
	if (h->len == 0) {
		*cov = dgram_len;	/* RFC 3828 3.1: 0 means the entire datagram */
		return 0;
	}
	if (h->len < WIRE_UDP_HLEN || h->len > dgram_len)
		return -EBADMSG;	/* RFC 3828 3.1: MUST be discarded */
	*cov = h->len;
	return 0;
}

uint16_t wire_udplite_csum(const uint8_t *p, size_t dgram_len, size_t cov, uint32_t saddr_be,
			   uint32_t daddr_be)
{
	uint16_t c = csum_without_field(p, cov, dgram_len, IPPROTO_UDPLITE, saddr_be, daddr_be);

	return c ? c : 0xffff;
}

void wire_udplite_csum_fill(uint8_t *p, size_t dgram_len, size_t cov, uint32_t saddr_be,
			    uint32_t daddr_be)
{
	put_be16(p + 6, wire_udplite_csum(p, dgram_len, cov, saddr_be, daddr_be));
}

bool wire_udplite_csum_ok(const uint8_t *p, size_t dgram_len, size_t cov, uint32_t saddr_be,
			  uint32_t daddr_be)
{
	uint32_t s;

	if (get_be16(p + 6) == 0)
		return false;
	s = ips_csum_pseudo(saddr_be, daddr_be, IPPROTO_UDPLITE, (uint16_t)dgram_len);
	return ips_csum_fold(ips_csum_add(s, p, cov)) == 0;
}

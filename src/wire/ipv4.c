/* IPv4 header parse/emit (RFC 791 3.1) and checksum-preserving in-place edits. */
#include "wire/ipv4.h"

#include <errno.h>
#include <string.h>

#include "core/csum.h"
#include "wire/wire.h"

int wire_ipv4_parse(const uint8_t *p, size_t len, struct wire_ipv4 *out)
{
	uint16_t frag;

	if (len < WIRE_IPV4_HLEN)
		return -ENODATA;
	/* Linux ip_rcv_core(): "iph->ihl < 5 || iph->version != 4" -> InHdrErrors */
	out->version = p[0] >> 4;
	out->hdr_len = (uint8_t)((p[0] & 0x0f) * 4);
	if (out->version != 4 || out->hdr_len < WIRE_IPV4_HLEN)
		return -EBADMSG;
	if (out->hdr_len > len)
		return -ENODATA;
	out->tos = p[1];
	out->tot_len = get_be16(p + 2);
	out->id = get_be16(p + 4);
	frag = get_be16(p + 6);
	out->rf = frag & WIRE_IPV4_RF;
	out->df = frag & WIRE_IPV4_DF;
	out->mf = frag & WIRE_IPV4_MF;
	out->frag_off = (uint16_t)((frag & WIRE_IPV4_OFFMASK) << 3);
	out->ttl = p[8];
	out->proto = p[9];
	out->csum = get_be16(p + 10);
	out->saddr = get_in4(p + 12);
	out->daddr = get_in4(p + 16);
	out->opts_len = (uint8_t)(out->hdr_len - WIRE_IPV4_HLEN);
	out->opts = out->opts_len ? p + WIRE_IPV4_HLEN : NULL;
	return 0;
}

bool wire_ipv4_csum_ok(const uint8_t *p, size_t hdr_len)
{
	return ips_csum_fold(ips_csum_add(0, p, hdr_len)) == 0;
}

uint16_t wire_ipv4_csum(const uint8_t *p, size_t hdr_len)
{
	/* Sum around the checksum field rather than copying the header to zero it. */
	uint32_t s = ips_csum_add(0, p, 10);

	return ips_csum_fold(ips_csum_add(s, p + 12, hdr_len - 12));
}

enum wire_ipv4_len_check wire_ipv4_check_len(const struct wire_ipv4 *h, size_t frame_len)
{
	if (frame_len < h->tot_len)
		return WIRE_IPV4_LEN_TRUNCATED;
	if (h->tot_len < h->hdr_len)
		return WIRE_IPV4_LEN_BAD;
	return WIRE_IPV4_LEN_OK;
}

size_t wire_ipv4_emit(uint8_t *p, const struct wire_ipv4 *h)
{
	size_t olen = h->opts_len > WIRE_IPV4_MAX_OPTLEN ? WIRE_IPV4_MAX_OPTLEN : h->opts_len;
	size_t hlen = WIRE_IPV4_HLEN + ((olen + 3) & ~(size_t)3);
	uint16_t frag = (uint16_t)((h->frag_off >> 3) & WIRE_IPV4_OFFMASK);

	if (h->rf)
		frag |= WIRE_IPV4_RF;
	if (h->df)
		frag |= WIRE_IPV4_DF;
	if (h->mf)
		frag |= WIRE_IPV4_MF;
	p[0] = (uint8_t)(0x40 | hlen / 4);
	p[1] = h->tos;
	put_be16(p + 2, h->tot_len);
	put_be16(p + 4, h->id);
	put_be16(p + 6, frag);
	p[8] = h->ttl;
	p[9] = h->proto;
	put_be16(p + 10, 0);
	put_in4(p + 12, h->saddr);
	put_in4(p + 16, h->daddr);
	if (olen)
		memmove(p + WIRE_IPV4_HLEN, h->opts, olen);
	memset(p + WIRE_IPV4_HLEN + olen, 0, hlen - WIRE_IPV4_HLEN - olen);	/* IPOPT_EOL */
	put_be16(p + 10, ips_csum_fold(ips_csum_add(0, p, hlen)));
	return hlen;
}

/* Replace the 16-bit word at even offset off and patch the checksum (RFC 1624). */
static void set_word(uint8_t *p, size_t off, uint16_t nw)
{
	uint16_t old = get_be16(p + off);

	put_be16(p + off, nw);
	put_be16(p + 10, ips_csum_update16(get_be16(p + 10), old, nw));
}

void wire_ipv4_set_ttl(uint8_t *p, uint8_t ttl)
{
	set_word(p, 8, (uint16_t)(ttl << 8 | p[9]));
}

uint8_t wire_ipv4_dec_ttl(uint8_t *p)
{
	wire_ipv4_set_ttl(p, (uint8_t)(p[8] - 1));
	return p[8];
}

void wire_ipv4_set_tos(uint8_t *p, uint8_t tos)
{
	set_word(p, 0, (uint16_t)(p[0] << 8 | tos));
}

void wire_ipv4_set_tot_len(uint8_t *p, uint16_t tot_len)
{
	set_word(p, 2, tot_len);
}

void wire_ipv4_set_id(uint8_t *p, uint16_t id)
{
	set_word(p, 4, id);
}

void wire_ipv4_set_frag(uint8_t *p, uint16_t offset_bytes, bool mf, bool df)
{
	uint16_t v = (uint16_t)((offset_bytes >> 3) & WIRE_IPV4_OFFMASK);

	if (mf)
		v |= WIRE_IPV4_MF;
	if (df)
		v |= WIRE_IPV4_DF;
	set_word(p, 6, v);
}

static void set_addr(uint8_t *p, size_t off, uint32_t addr_be)
{
	uint32_t old = get_be32(p + off);

	put_in4(p + off, addr_be);
	put_be16(p + 10, ips_csum_update32(get_be16(p + 10), old, get_be32(p + off)));
}

void wire_ipv4_set_saddr(uint8_t *p, uint32_t saddr_be)
{
	set_addr(p, 12, saddr_be);
}

void wire_ipv4_set_daddr(uint8_t *p, uint32_t daddr_be)
{
	set_addr(p, 16, daddr_be);
}

void wire_ipv4_fix_csum(uint8_t *p)
{
	put_be16(p + 10, wire_ipv4_csum(p, wire_ipv4_hdr_len(p)));
}

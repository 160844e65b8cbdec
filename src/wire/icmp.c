/* ICMP (RFC 792) header parse/emit. */
#include "wire/icmp.h"

#include <errno.h>
#include <string.h>

#include "core/csum.h"
#include "wire/wire.h"

enum wire_icmp_view wire_icmp_view(uint8_t type)
{
	switch (type) {
	case ICMP_ECHOREPLY:
	case ICMP_ECHO:
	case ICMP_TIMESTAMP:
	case ICMP_TIMESTAMPREPLY:
	case ICMP_INFO_REQUEST:
	case ICMP_INFO_REPLY:
	case ICMP_ADDRESS:
	case ICMP_ADDRESSREPLY:
		return WIRE_ICMP_VIEW_ECHO;	/* identifier + sequence number */
	case ICMP_REDIRECT:
		return WIRE_ICMP_VIEW_GATEWAY;
	case ICMP_DEST_UNREACH:
	case ICMP_TIME_EXCEEDED:
		return WIRE_ICMP_VIEW_UNREACH;
	case ICMP_PARAMETERPROB:
		return WIRE_ICMP_VIEW_PP;
	default:
		return WIRE_ICMP_VIEW_RAW;
	}
}

int wire_icmp_parse(const uint8_t *p, size_t len, struct wire_icmp *out)
{
	const uint8_t *r = p + 4;

	if (len < WIRE_ICMP_HLEN)
		return -EBADMSG;
	out->type = p[0];
	out->code = p[1];
	out->csum = get_be16(p + 2);
	switch (wire_icmp_view(out->type)) {
	case WIRE_ICMP_VIEW_ECHO:
		out->un.echo.id = get_be16(r);
		out->un.echo.seq = get_be16(r + 2);
		break;
	case WIRE_ICMP_VIEW_GATEWAY:
		out->un.gateway = get_in4(r);
		break;
	case WIRE_ICMP_VIEW_UNREACH:
		out->un.unreach.unused = r[0];
		out->un.unreach.length = r[1];
		out->un.unreach.mtu = get_be16(r + 2);
		break;
	case WIRE_ICMP_VIEW_PP:
		out->un.pp.pointer = r[0];
		out->un.pp.length = r[1];
		out->un.pp.unused = get_be16(r + 2);
		break;
	case WIRE_ICMP_VIEW_RAW:
		memcpy(out->un.raw, r, 4);
		break;
	}
	return 0;
}

bool wire_icmp_csum_ok(const uint8_t *p, size_t len)
{
	return ips_csum_fold(ips_csum_add(0, p, len)) == 0;
}

size_t wire_icmp_emit(uint8_t *p, const struct wire_icmp *h, const void *payload,
		      size_t payload_len)
{
	uint8_t *r = p + 4;

	/* Payload first: it may overlap the header's destination bytes only if the
	 * caller passed p + 8 exactly (then this is a no-op). */
	if (payload_len && payload != p + WIRE_ICMP_HLEN)
		memmove(p + WIRE_ICMP_HLEN, payload, payload_len);
	p[0] = h->type;
	p[1] = h->code;
	put_be16(p + 2, 0);
	switch (wire_icmp_view(h->type)) {
	case WIRE_ICMP_VIEW_ECHO:
		put_be16(r, h->un.echo.id);
		put_be16(r + 2, h->un.echo.seq);
		break;
	case WIRE_ICMP_VIEW_GATEWAY:
		put_in4(r, h->un.gateway);
		break;
	case WIRE_ICMP_VIEW_UNREACH:
		r[0] = h->un.unreach.unused;
		r[1] = h->un.unreach.length;
		put_be16(r + 2, h->un.unreach.mtu);
		break;
	case WIRE_ICMP_VIEW_PP:
		r[0] = h->un.pp.pointer;
		r[1] = h->un.pp.length;
		put_be16(r + 2, h->un.pp.unused);
		break;
	case WIRE_ICMP_VIEW_RAW:
		memcpy(r, h->un.raw, 4);
		break;
	}
	put_be16(p + 2, ips_csum_fold(ips_csum_add(0, p, WIRE_ICMP_HLEN + payload_len)));
	return WIRE_ICMP_HLEN + payload_len;
}

void wire_icmp_fix_csum(uint8_t *p, size_t len)
{
	put_be16(p + 2, 0);
	put_be16(p + 2, ips_csum_fold(ips_csum_add(0, p, len)));
}

/* TCP header (RFC 9293 3.1) and options, parsed as Linux tcp_parse_options() does and
 * written in Linux tcp_options_write()'s order and byte layout, so that our segments
 * look like Linux's on the wire (and in test captures). */
#include "wire/tcp.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "core/csum.h"
#include "wire/wire.h"

int wire_tcp_parse(const uint8_t *p, size_t len, struct wire_tcp *out)
{
	if (len < WIRE_TCP_HLEN)
		return -EBADMSG;
	out->doff = (uint8_t)((p[12] >> 4) * 4);
	if (out->doff < WIRE_TCP_HLEN || out->doff > len)
		return -EBADMSG;
	out->sport = get_be16(p);
	out->dport = get_be16(p + 2);
	out->seq = get_be32(p + 4);
	out->ack = get_be32(p + 8);
	out->res = (p[12] >> 1) & 0x07;
	out->flags = (uint16_t)((p[12] & 0x01) << 8 | p[13]);
	out->window = get_be16(p + 14);
	out->csum = get_be16(p + 16);
	out->urg = get_be16(p + 18);
	out->opts_len = (uint8_t)(out->doff - WIRE_TCP_HLEN);
	out->opts = out->opts_len ? p + WIRE_TCP_HLEN : NULL;
	return 0;
}

size_t wire_tcp_emit(uint8_t *p, const struct wire_tcp *h)
{
	size_t olen = h->opts_len > WIRE_TCP_MAX_OPTLEN ? WIRE_TCP_MAX_OPTLEN : h->opts_len;
	size_t hlen = WIRE_TCP_HLEN + ((olen + 3) & ~(size_t)3);

	put_be16(p, h->sport);
	put_be16(p + 2, h->dport);
	put_be32(p + 4, h->seq);
	put_be32(p + 8, h->ack);
	p[12] = (uint8_t)((hlen / 4) << 4 | (h->res & 0x07) << 1 | ((h->flags >> 8) & 0x01));
	p[13] = (uint8_t)h->flags;
	put_be16(p + 14, h->window);
	put_be16(p + 16, h->csum);
	put_be16(p + 18, h->urg);
	if (olen)
		memmove(p + WIRE_TCP_HLEN, h->opts, olen);
	memset(p + WIRE_TCP_HLEN + olen, WIRE_TCPOPT_EOL, hlen - WIRE_TCP_HLEN - olen);
	return hlen;
}

void wire_tcp_csum_fill(uint8_t *p, size_t len, uint32_t saddr_be, uint32_t daddr_be)
{
	uint32_t s = ips_csum_pseudo(saddr_be, daddr_be, IPPROTO_TCP, (uint16_t)len);

	s = ips_csum_add(s, p, 16);	/* around the checksum field */
	s = ips_csum_add(s, p + 18, len - 18);
	put_be16(p + 16, ips_csum_fold(s));
}

bool wire_tcp_csum_ok(const uint8_t *p, size_t len, uint32_t saddr_be, uint32_t daddr_be)
{
	uint32_t s = ips_csum_pseudo(saddr_be, daddr_be, IPPROTO_TCP, (uint16_t)len);

	return ips_csum_fold(ips_csum_add(s, p, len)) == 0;
}

/* Linux tcp_parse_fastopen_option(): an odd length is ignored altogether; 4..16 is a
 * cookie; 0 a cookie request; anything else is remembered as invalid (len -1). */
static void parse_fastopen(struct wire_tcp_opts *o, const uint8_t *cookie, int len, bool exp)
{
	if (len < 0 || (len & 1))
		return;
	o->has_fastopen = true;
	o->fastopen_exp = exp;
	if (len >= WIRE_TCP_FASTOPEN_COOKIE_MIN && len <= WIRE_TCP_FASTOPEN_COOKIE_MAX) {
		memcpy(o->fastopen_cookie, cookie, (size_t)len);
		o->fastopen_len = (uint8_t)len;
	} else {
		o->fastopen_len = len == 0 ? 0 : 0xff;
	}
}

int wire_tcp_opts_parse(const uint8_t *th, size_t doff, struct wire_tcp_opts *out)
{
	const uint8_t *p = th + WIRE_TCP_HLEN;
	long length = (long)doff - WIRE_TCP_HLEN;

	memset(out, 0, sizeof(*out));
	while (length > 0) {
		int opcode = *p++, opsize;

		switch (opcode) {
		case WIRE_TCPOPT_EOL:
			return 0;
		case WIRE_TCPOPT_NOP:
			length--;
			continue;
		}
		if (length < 2)
			return -EBADMSG;
		opsize = *p++;
		if (opsize < 2)			/* "silly options" */
			return -EBADMSG;
		if (opsize > length)		/* "don't parse partial options" */
			return -EBADMSG;
		/* p now points at the option's data, opsize - 2 bytes */
		switch (opcode) {
		case WIRE_TCPOPT_MSS:
			if (opsize == 4) {
				out->has_mss = true;
				out->mss = get_be16(p);
			}
			break;
		case WIRE_TCPOPT_WSCALE:
			if (opsize == 3) {
				out->has_wscale = true;
				out->wscale = p[0];
			}
			break;
		case WIRE_TCPOPT_TS:
			if (opsize == 10) {
				out->has_ts = true;
				out->tsval = get_be32(p);
				out->tsecr = get_be32(p + 4);
			}
			break;
		case WIRE_TCPOPT_SACK_PERM:
			if (opsize == 2)
				out->sack_ok = true;
			break;
		case WIRE_TCPOPT_SACK:
			/* RFC 2018: 2 + 8n bytes; Linux uses at most 4 blocks. */
			if (opsize >= 2 + 8 && (opsize - 2) % 8 == 0) {
				int k, n = (opsize - 2) / 8;

				if (n > WIRE_TCP_NUM_SACKS)
					n = WIRE_TCP_NUM_SACKS;
				out->sack_off = (uint8_t)(p - 2 - th);
				out->num_sacks = (uint8_t)n;
				for (k = 0; k < n; k++) {
					out->sack[k].start = get_be32(p + 8 * k);
					out->sack[k].end = get_be32(p + 8 * k + 4);
				}
			}
			break;
		case WIRE_TCPOPT_MD5:
			if (opsize == 18) {
				out->has_md5 = true;
				out->md5_off = (uint8_t)(p - th);
			}
			break;
		case WIRE_TCPOPT_AO:
			out->has_ao = true;
			break;
		case WIRE_TCPOPT_FASTOPEN:
			parse_fastopen(out, p, opsize - 2, false);
			break;
		case WIRE_TCPOPT_EXP:
			/* RFC 6994 experimental: Fast Open before it had kind 34 */
			if (opsize >= 4 && get_be16(p) == WIRE_TCPOPT_FASTOPEN_MAGIC)
				parse_fastopen(out, p + 2, opsize - 4, true);
			break;
		}
		p += opsize - 2;
		length -= opsize;
	}
	return 0;
}

/* What fits: Linux sizes num_sack_blocks to the option space left (MAX_TCP_OPTION_SPACE
 * 40 minus what the other options took), 4 bytes of header and 8 per block. */
static unsigned int sacks_that_fit(const struct wire_tcp_opts *o, size_t others)
{
	unsigned int n = o->num_sacks > WIRE_TCP_NUM_SACKS ? WIRE_TCP_NUM_SACKS : o->num_sacks;

	if (!n || others + 4 + 8 > WIRE_TCP_MAX_OPTLEN)
		return 0;
	if (n > (WIRE_TCP_MAX_OPTLEN - others - 4) / 8)
		n = (unsigned int)((WIRE_TCP_MAX_OPTLEN - others - 4) / 8);
	return n;
}

static size_t fastopen_len(const struct wire_tcp_opts *o)
{
	size_t cl = o->fastopen_len > WIRE_TCP_FASTOPEN_COOKIE_MAX ? 0 : o->fastopen_len;
	size_t len = (o->fastopen_exp ? 4 : 2) + cl;

	return (len + 3) & ~(size_t)3;
}

static size_t len_without_sacks(const struct wire_tcp_opts *o)
{
	size_t n = 0;

	if (o->has_md5)
		n += 20;
	if (o->has_mss)
		n += 4;
	if (o->has_ts)
		n += 12;	/* includes SACK_PERM when both */
	else if (o->sack_ok)
		n += 4;
	if (o->has_wscale)
		n += 4;
	if (o->has_fastopen)
		n += fastopen_len(o);
	return n;
}

size_t wire_tcp_opts_len(const struct wire_tcp_opts *o)
{
	size_t n = len_without_sacks(o);

	if (o->num_sacks)
		n += 4 + 8 * (size_t)(o->num_sacks > 4 ? 4 : o->num_sacks);
	return n;
}

size_t wire_tcp_opts_emit(uint8_t *p, struct wire_tcp_opts *o)
{
	uint8_t *q = p;
	unsigned int nsack = sacks_that_fit(o, len_without_sacks(o)), k;

	if (o->has_md5) {
		q[0] = WIRE_TCPOPT_NOP;
		q[1] = WIRE_TCPOPT_NOP;
		q[2] = WIRE_TCPOPT_MD5;
		q[3] = 18;
		memset(q + 4, 0, 16);
		o->md5_off = (uint8_t)(WIRE_TCP_HLEN + (q + 4 - p));
		q += 20;
	}
	if (o->has_mss) {
		q[0] = WIRE_TCPOPT_MSS;
		q[1] = 4;
		put_be16(q + 2, o->mss);
		q += 4;
	}
	if (o->has_ts) {
		/* SACK_PERM rides in the two bytes that would otherwise be NOPs */
		if (o->sack_ok) {
			q[0] = WIRE_TCPOPT_SACK_PERM;
			q[1] = 2;
		} else {
			q[0] = WIRE_TCPOPT_NOP;
			q[1] = WIRE_TCPOPT_NOP;
		}
		q[2] = WIRE_TCPOPT_TS;
		q[3] = 10;
		put_be32(q + 4, o->tsval);
		put_be32(q + 8, o->tsecr);
		q += 12;
	} else if (o->sack_ok) {
		q[0] = WIRE_TCPOPT_NOP;
		q[1] = WIRE_TCPOPT_NOP;
		q[2] = WIRE_TCPOPT_SACK_PERM;
		q[3] = 2;
		q += 4;
	}
	if (o->has_wscale) {
		q[0] = WIRE_TCPOPT_NOP;
		q[1] = WIRE_TCPOPT_WSCALE;
		q[2] = 3;
		q[3] = o->wscale;
		q += 4;
	}
	if (nsack) {
		q[0] = WIRE_TCPOPT_NOP;
		q[1] = WIRE_TCPOPT_NOP;
		q[2] = WIRE_TCPOPT_SACK;
		q[3] = (uint8_t)(2 + 8 * nsack);
		q += 4;
		for (k = 0; k < nsack; k++) {
			put_be32(q, o->sack[k].start);
			put_be32(q + 4, o->sack[k].end);
			q += 8;
		}
	}
	if (o->has_fastopen) {
		size_t cl = o->fastopen_len > WIRE_TCP_FASTOPEN_COOKIE_MAX ? 0 : o->fastopen_len;
		size_t len;

		if (o->fastopen_exp) {
			len = 4 + cl;
			q[0] = WIRE_TCPOPT_EXP;
			q[1] = (uint8_t)len;
			put_be16(q + 2, WIRE_TCPOPT_FASTOPEN_MAGIC);
			memcpy(q + 4, o->fastopen_cookie, cl);
		} else {
			len = 2 + cl;
			q[0] = WIRE_TCPOPT_FASTOPEN;
			q[1] = (uint8_t)len;
			memcpy(q + 2, o->fastopen_cookie, cl);
		}
		/* Linux pads a cookie option of length 2 mod 4 with two NOPs */
		while (len & 3)
			q[len++] = WIRE_TCPOPT_NOP;
		q += len;
	}
	return (size_t)(q - p);
}

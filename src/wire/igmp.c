/* IGMP v1/v2/v3 messages (RFC 1112, RFC 2236, RFC 3376 4). */
#include "wire/igmp.h"

#include <errno.h>
#include <string.h>

#include "core/csum.h"

int wire_igmp_parse(const uint8_t *p, size_t len, struct wire_igmp *out)
{
	if (len < WIRE_IGMP_LEN)
		return -EBADMSG;
	out->type = p[0];
	out->code = p[1];
	out->csum = get_be16(p + 2);
	out->group = get_in4(p + 4);
	return 0;
}

size_t wire_igmp_emit(uint8_t *p, const struct wire_igmp *h)
{
	p[0] = h->type;
	p[1] = h->code;
	put_be16(p + 2, 0);
	put_in4(p + 4, h->group);
	put_be16(p + 2, ips_csum_fold(ips_csum_add(0, p, WIRE_IGMP_LEN)));
	return WIRE_IGMP_LEN;
}

bool wire_igmp_csum_ok(const uint8_t *p, size_t len)
{
	return ips_csum_fold(ips_csum_add(0, p, len)) == 0;
}

int wire_igmp_query_version(size_t len, uint8_t code)
{
	if (len == WIRE_IGMP_LEN)
		return code == 0 ? 1 : 2;
	if (len >= WIRE_IGMPV3_QUERY_LEN)
		return 3;
	return 0;
}

int wire_igmpv3_query_parse(const uint8_t *p, size_t len, struct wire_igmpv3_query *out)
{
	if (len < WIRE_IGMPV3_QUERY_LEN || p[0] != WIRE_IGMP_QUERY)
		return -EBADMSG;
	out->max_resp_code = p[1];
	out->csum = get_be16(p + 2);
	out->group = get_in4(p + 4);
	out->resv = p[8] >> 4;
	out->s_flag = p[8] & 0x08;
	out->qrv = p[8] & 0x07;
	out->qqic = p[9];
	out->nsrcs = get_be16(p + 10);
	if ((len - WIRE_IGMPV3_QUERY_LEN) / 4 < out->nsrcs)
		return -EBADMSG;
	out->srcs = p + WIRE_IGMPV3_QUERY_LEN;
	return 0;
}

size_t wire_igmpv3_query_emit(uint8_t *p, const struct wire_igmpv3_query *h,
			      const uint32_t *srcs_be)
{
	size_t len = WIRE_IGMPV3_QUERY_LEN + 4 * (size_t)h->nsrcs;
	unsigned int i;

	p[0] = WIRE_IGMP_QUERY;
	p[1] = h->max_resp_code;
	put_be16(p + 2, 0);
	put_in4(p + 4, h->group);
	p[8] = (uint8_t)((h->resv & 0x0f) << 4 | (h->s_flag ? 0x08 : 0) | (h->qrv & 0x07));
	p[9] = h->qqic;
	put_be16(p + 10, h->nsrcs);
	if (srcs_be) {
		for (i = 0; i < h->nsrcs; i++)
			put_in4(p + WIRE_IGMPV3_QUERY_LEN + 4 * i, srcs_be[i]);
	} else if (h->nsrcs) {
		memmove(p + WIRE_IGMPV3_QUERY_LEN, h->srcs, 4 * (size_t)h->nsrcs);
	}
	put_be16(p + 2, ips_csum_fold(ips_csum_add(0, p, len)));
	return len;
}

unsigned int wire_igmpv3_code_decode(uint8_t code)
{
	if (code < 128)
		return code;
	/* RFC 3376 4.1.1: 1 | exp (3 bits) | mant (4 bits) */
	return ((unsigned int)(code & 0x0f) | 0x10) << (((code >> 4) & 0x07) + 3);
}

uint8_t wire_igmpv3_code_encode(unsigned int value)
{
	unsigned int exp = 0;

	if (value < 128)
		return (uint8_t)value;
	if (value >= (0x1fu << 10))	/* (0xf | 0x10) << (7 + 3) = 31744 */
		return 0xff;
	/* Find exp with value >> (exp + 3) in 16..31; the mantissa is the low 4 bits of
	 * that, truncated (rounding down). 128 = 0x10 << 3 is exp 0. */
	while ((value >> (exp + 3)) > 0x1f)
		exp++;
	return (uint8_t)(0x80 | exp << 4 | ((value >> (exp + 3)) & 0x0f));
}

int wire_igmpv3_report_parse(const uint8_t *p, size_t len, struct wire_igmpv3_report *out)
{
	if (len < WIRE_IGMPV3_REPORT_LEN || p[0] != WIRE_IGMP_V3_REPORT)
		return -EBADMSG;
	out->csum = get_be16(p + 2);
	out->nrecs = get_be16(p + 6);
	out->recs = p + WIRE_IGMPV3_REPORT_LEN;
	out->recs_len = len - WIRE_IGMPV3_REPORT_LEN;
	return 0;
}

int wire_igmpv3_rec_next(const struct wire_igmpv3_report *r, struct wire_igmpv3_rec_iter *it,
			 struct wire_igmpv3_rec *rec)
{
	const uint8_t *q;
	size_t left, need;

	if (it->idx >= r->nrecs)
		return 0;
	if (it->off > r->recs_len)
		return -EBADMSG;
	left = r->recs_len - it->off;
	if (left < WIRE_IGMPV3_REC_LEN)
		return -EBADMSG;
	q = r->recs + it->off;
	rec->type = q[0];
	rec->aux_words = q[1];
	rec->nsrcs = get_be16(q + 2);
	rec->group = get_in4(q + 4);
	need = WIRE_IGMPV3_REC_LEN + 4 * (size_t)rec->nsrcs + 4 * (size_t)rec->aux_words;
	if (need > left)
		return -EBADMSG;
	rec->srcs = q + WIRE_IGMPV3_REC_LEN;
	rec->aux = rec->srcs + 4 * (size_t)rec->nsrcs;
	it->off += need;
	it->idx++;
	return 1;
}

size_t wire_igmpv3_report_len(const struct wire_igmpv3_rec_out *recs, size_t nrecs)
{
	size_t len = WIRE_IGMPV3_REPORT_LEN, i;

	for (i = 0; i < nrecs; i++)
		len += WIRE_IGMPV3_REC_LEN + 4 * (size_t)recs[i].nsrcs;
	return len;
}

size_t wire_igmpv3_report_emit(uint8_t *p, const struct wire_igmpv3_rec_out *recs, size_t nrecs)
{
	size_t off = WIRE_IGMPV3_REPORT_LEN, i;
	unsigned int k;

	p[0] = WIRE_IGMP_V3_REPORT;
	p[1] = 0;
	put_be16(p + 2, 0);
	put_be16(p + 4, 0);
	put_be16(p + 6, (uint16_t)nrecs);
	for (i = 0; i < nrecs; i++) {
		uint8_t *q = p + off;

		q[0] = recs[i].type;
		q[1] = 0;	/* no aux data (RFC 3376 4.2.6: none defined for v3) */
		put_be16(q + 2, recs[i].nsrcs);
		put_in4(q + 4, recs[i].group);
		for (k = 0; k < recs[i].nsrcs; k++)
			put_in4(q + WIRE_IGMPV3_REC_LEN + 4 * k, recs[i].srcs[k]);
		off += WIRE_IGMPV3_REC_LEN + 4 * (size_t)recs[i].nsrcs;
	}
	put_be16(p + 2, ips_csum_fold(ips_csum_add(0, p, off)));
	return off;
}

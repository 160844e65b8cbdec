/* Software GSO and checksum completion (gso.h). */
#include "ip/gso.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "core/csum.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "wire/wire.h"

/* The IPv4 and transport header of p at mac_len: header lengths, or -EINVAL. */
static int gso_headers(const struct pkb *p, size_t mac_len, size_t *ihl, size_t *thl)
{
	const uint8_t *iph = p->data + mac_len;
	size_t tot;

	if (p->len < mac_len + WIRE_IPV4_HLEN || (iph[0] >> 4) != 4)
		return -EINVAL;
	*ihl = (size_t)(iph[0] & 15) * 4;
	tot = get_be16(iph + 2);
	if (*ihl < WIRE_IPV4_HLEN || tot < *ihl || mac_len + tot > p->len)
		return -EINVAL;
	/* A fragment carries no transport header to fill in. */
	if (get_be16(iph + 6) & (WIRE_IPV4_MF | WIRE_IPV4_OFFMASK))
		return -EINVAL;
	switch (iph[9]) {
	case IPPROTO_TCP:
		if (tot < *ihl + WIRE_TCP_HLEN)
			return -EINVAL;
		*thl = (size_t)(iph[*ihl + 12] >> 4) * 4;
		if (*thl < WIRE_TCP_HLEN || tot < *ihl + *thl)
			return -EINVAL;
		return 0;
	case IPPROTO_UDP:
		if (tot < *ihl + 8)
			return -EINVAL;
		*thl = 8;
		return 0;
	default:
		return -EINVAL;
	}
}

uint32_t gso_network_seglen(const struct pkb *p, const uint8_t *iph)
{
	size_t ihl = (size_t)(iph[0] & 15) * 4;
	uint32_t tot = get_be16(iph + 2);

	if (!p->gso_size || iph[9] != IPPROTO_TCP || tot < ihl + WIRE_TCP_HLEN)
		return tot;
	size_t hdrs = ihl + (size_t)(iph[ihl + 12] >> 4) * 4;

	return tot <= hdrs + p->gso_size ? tot : (uint32_t)(hdrs + p->gso_size);
}

/* The checksum of a transport segment th[0..len) (its checksum field at csum_off
 * treated as zero). */
static uint16_t gso_l4_csum(const uint8_t *iph, const uint8_t *th, size_t len, size_t csum_off)
{
	uint32_t s = ips_csum_pseudo(get_in4(iph + 12), get_in4(iph + 16), iph[9], (uint16_t)len);

	s = ips_csum_add(s, th, csum_off);
	s = ips_csum_add(s, th + csum_off + 2, len - csum_off - 2);
	return ips_csum_fold(s);
}

int gso_segment(const struct pkb *p, size_t mac_len, struct pkb_queue *q)
{
	const uint8_t *iph = p->data + mac_len;
	size_t ihl, thl, hdrs, payload, off;
	uint32_t seq;
	uint16_t id, flags;
	struct pkb_queue out;

	if (gso_headers(p, mac_len, &ihl, &thl) < 0 || iph[9] != IPPROTO_TCP || !p->gso_size)
		return -EINVAL;
	hdrs = mac_len + ihl + thl;
	payload = get_be16(iph + 2) - ihl - thl;
	seq = get_be32(iph + ihl + 4);
	id = get_be16(iph + 4);
	flags = (uint16_t)(get_be16(iph + ihl + 12) & 0x01ff);
	pkb_queue_init(&out);
	off = 0;
	do {
		size_t n = payload - off < p->gso_size ? payload - off : p->gso_size;
		bool first = off == 0, last = off + n == payload;
		struct pkb *s = pkb_alloc(p->pool, hdrs + n);
		uint8_t *b, *sip, *sth;
		uint16_t f = flags;

		if (!s) {
			pkb_queue_purge(&out);
			return -ENOBUFS;
		}
		b = pkb_put(s, hdrs + n);
		memcpy(b, p->data, hdrs);
		memcpy(b + hdrs, p->data + hdrs + off, n);
		sip = b + mac_len;
		sth = sip + ihl;
		put_be16(sip + 2, (uint16_t)(ihl + thl + n));
		put_be16(sip + 4, id);
		wire_ipv4_fix_csum(sip);
		put_be32(sth + 4, seq + (uint32_t)off);
		if (!last)
			f &= (uint16_t)~(WIRE_TCP_PSH | WIRE_TCP_FIN);
		if (!first)
			f &= (uint16_t)~WIRE_TCP_CWR;
		put_be16(sth + 12, (uint16_t)((get_be16(sth + 12) & ~0x01ffu) | f));
		put_be16(sth + 16, gso_l4_csum(sip, sth, thl + n, 16));
		s->dev = p->dev;
		s->tstamp_ns = p->tstamp_ns;
		s->mac = mac_len ? s->data : NULL;
		s->nh = sip;
		s->th = sth;
		s->mark = p->mark;
		s->priority = p->priority;
		s->pkt_type = p->pkt_type;
		memcpy(s->cb, p->cb, sizeof(s->cb));
		pkb_queue_push(&out, s);
		id++;
		off += n;
	} while (off < payload);
	while (out.head)
		pkb_queue_push(q, pkb_queue_pop(&out));
	return 0;
}

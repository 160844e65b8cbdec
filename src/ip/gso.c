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

	if (p->len < mac_len + WIRE_IPV4_HLEN || wire_ipv4_version(iph) != 4)
		return -EINVAL;
	*ihl = wire_ipv4_hdr_len(iph);
	tot = wire_ipv4_tot_len(iph);
	if (*ihl < WIRE_IPV4_HLEN || tot < *ihl || mac_len + tot > p->len)
		return -EINVAL;
	/* A fragment carries no transport header to fill in. */
	if (wire_ipv4_is_fragment(iph))
		return -EINVAL;
	switch (wire_ipv4_proto(iph)) {
	case IPPROTO_TCP:
		if (tot < *ihl + WIRE_TCP_HLEN)
			return -EINVAL;
		*thl = wire_tcp_hdr_len(iph + *ihl);
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
	size_t ihl = wire_ipv4_hdr_len(iph);
	uint32_t tot = wire_ipv4_tot_len(iph);

	if (!p->gso_size || wire_ipv4_proto(iph) != IPPROTO_TCP || tot < ihl + WIRE_TCP_HLEN)
		return tot;
	size_t hdrs = ihl + wire_tcp_hdr_len(iph + ihl);

	return tot <= hdrs + p->gso_size ? tot : (uint32_t)(hdrs + p->gso_size);
}

int gso_segment(const struct pkb *p, size_t mac_len, struct pkb_queue *q)
{
	const uint8_t *iph = p->data + mac_len;
	size_t ihl, thl, hdrs, payload, off;
	uint32_t seq;
	uint16_t id, flags;
	struct pkb_queue out;

	if (gso_headers(p, mac_len, &ihl, &thl) < 0 || wire_ipv4_proto(iph) != IPPROTO_TCP ||
	    !p->gso_size)
		return -EINVAL;
	hdrs = mac_len + ihl + thl;
	payload = wire_ipv4_tot_len(iph) - ihl - thl;
	seq = wire_tcp_seq(iph + ihl);
	id = wire_ipv4_id(iph);
	flags = wire_tcp_flags(iph + ihl);
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
		wire_ipv4_set_tot_len(sip, (uint16_t)(ihl + thl + n));
		wire_ipv4_set_id(sip, id);
		wire_ipv4_fix_csum(sip);
		wire_tcp_set_seq(sth, seq + (uint32_t)off);
		if (!last)
			f &= (uint16_t)~(WIRE_TCP_PSH | WIRE_TCP_FIN);
		if (!first)
			f &= (uint16_t)~WIRE_TCP_CWR;
		wire_tcp_set_flags(sth, f);
		wire_tcp_csum_fill(sth, thl + n, wire_ipv4_saddr(sip), wire_ipv4_daddr(sip));
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

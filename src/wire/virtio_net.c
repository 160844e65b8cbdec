/* struct virtio_net_hdr: parse, emit, and the checks a receiver makes against its frame. */
#include "wire/virtio_net.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "wire/wire.h"

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

int wire_vnet_parse(const uint8_t *p, size_t len, struct wire_vnet *out)
{
	if (len < WIRE_VNET_HLEN)
		return -EBADMSG;
	out->flags = p[0];
	out->gso_type = p[1];
	out->hdr_len = get_le16(p + 2);
	out->gso_size = get_le16(p + 4);
	out->csum_start = get_le16(p + 6);
	out->csum_offset = get_le16(p + 8);
	return 0;
}

size_t wire_vnet_emit(uint8_t *p, const struct wire_vnet *h)
{
	p[0] = h->flags;
	p[1] = h->gso_type;
	put_le16(p + 2, h->hdr_len);
	put_le16(p + 4, h->gso_size);
	put_le16(p + 6, h->csum_start);
	put_le16(p + 8, h->csum_offset);
	return WIRE_VNET_HLEN;
}

/* A whole, unfragmented IPv4/TCP packet at frame + ip_off: its header lengths and payload
 * length. false for anything else. */
static bool vnet_tcp4(const uint8_t *frame, size_t len, size_t ip_off, size_t *ihl,
		      size_t *payload)
{
	const uint8_t *iph = frame + ip_off;
	size_t tot, thl;

	if (ip_off > len || len - ip_off < WIRE_IPV4_HLEN || (iph[0] >> 4) != 4)
		return false;
	*ihl = (size_t)(iph[0] & 15) * 4;
	tot = get_be16(iph + 2);
	if (*ihl < WIRE_IPV4_HLEN || tot < *ihl + WIRE_TCP_HLEN || tot > len - ip_off ||
	    iph[9] != IPPROTO_TCP || (get_be16(iph + 6) & (WIRE_IPV4_MF | WIRE_IPV4_OFFMASK)))
		return false;
	thl = (size_t)(iph[*ihl + 12] >> 4) * 4;
	if (thl < WIRE_TCP_HLEN || *ihl + thl > tot)
		return false;
	*payload = tot - *ihl - thl;
	return true;
}

int wire_vnet_check(const struct wire_vnet *h, const uint8_t *frame, size_t len, long ip_off,
		    struct wire_vnet_rx *out)
{
	size_t l3 = ip_off < 0 ? 0 : (size_t)ip_off, ihl = 0, payload = 0;
	bool gso = false, tcp4;

	memset(out, 0, sizeof(*out));
	/* Unknown flags (RSC_INFO needs a feature tun never offers) mean a header we do not
	 * understand: Linux ignores them, we would rather not guess. */
	if (h->flags & ~(WIRE_VNET_F_NEEDS_CSUM | WIRE_VNET_F_DATA_VALID))
		return -EBADMSG;
	if (h->hdr_len > len)
		return -EBADMSG;	/* tun_get_user(): hdr_len > len is -EINVAL */
	switch (h->gso_type) {
	case WIRE_VNET_GSO_NONE:
		break;
	case WIRE_VNET_GSO_TCPV4:
	case WIRE_VNET_GSO_TCPV4 | WIRE_VNET_GSO_ECN:
		if (!h->gso_size)
			return -EBADMSG;
		gso = true;
		break;
	default:
		return -EBADMSG;	/* ECN alone, UDP, TCPv6, USO: not negotiated */
	}
	out->data_valid = (h->flags & WIRE_VNET_F_DATA_VALID) != 0;
	tcp4 = ip_off >= 0 && vnet_tcp4(frame, len, l3, &ihl, &payload);
	if (h->flags & WIRE_VNET_F_NEEDS_CSUM) {
		size_t start = h->csum_start, off = h->csum_offset;

		/* virtio_net_hdr_to_skb(): the transport header at least a minimal IPv4
		 * header in, the checksum field within the frame. */
		if (start < l3 + WIRE_IPV4_HLEN || start + off + 2 > len)
			return -EBADMSG;
		out->csum_partial = true;
		out->csum_start = h->csum_start;
		out->csum_offset = h->csum_offset;
		out->csum_tcp = tcp4 && start == l3 + ihl && off == 16;
	}
	if (gso) {
		if (!tcp4)
			return -EBADMSG;
		/* SKB_GSO_TCPV4 with CHECKSUM_PARTIAL: csum_offset must be TCP's check. */
		if (out->csum_partial && !out->csum_tcp)
			return -EBADMSG;
		if (payload > h->gso_size) {
			out->gso_size = h->gso_size;
			out->gso_segs = (uint16_t)((payload + h->gso_size - 1) / h->gso_size);
		}
	}
	return 0;
}

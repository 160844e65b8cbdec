/* ARP for Ethernet/IPv4, RFC 826. */
#include "wire/arp.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <string.h>

#include "wire/wire.h"

int wire_arp_parse(const uint8_t *p, size_t len, struct wire_arp *out)
{
	if (len < 8)
		return -EBADMSG;
	out->htype = get_be16(p);
	out->ptype = get_be16(p + 2);
	out->hlen = p[4];
	out->plen = p[5];
	out->op = get_be16(p + 6);
	/* A different hardware/protocol pair is a valid ARP packet we do not handle;
	 * report it distinctly so the caller need not count it as malformed. */
	if (out->htype != ARPHRD_ETHER || out->ptype != ETH_P_IP)
		return -EPROTONOSUPPORT;
	/* Linux arp_rcv(): ar_hln must be the device's address length, ar_pln 4. */
	if (out->hlen != ETH_ALEN || out->plen != 4)
		return -EBADMSG;
	if (len < WIRE_ARP_LEN)
		return -EBADMSG;
	memcpy(out->sha, p + 8, 6);
	out->spa = get_in4(p + 14);
	memcpy(out->tha, p + 18, 6);
	out->tpa = get_in4(p + 24);
	return 0;
}

size_t wire_arp_emit(uint8_t *p, const struct wire_arp *h)
{
	put_be16(p, h->htype);
	put_be16(p + 2, h->ptype);
	p[4] = h->hlen;
	p[5] = h->plen;
	put_be16(p + 6, h->op);
	memcpy(p + 8, h->sha, 6);
	put_in4(p + 14, h->spa);
	memcpy(p + 18, h->tha, 6);
	put_in4(p + 24, h->tpa);
	return WIRE_ARP_LEN;
}

void wire_arp_init(struct wire_arp *h, uint16_t op)
{
	memset(h, 0, sizeof(*h));
	h->htype = ARPHRD_ETHER;
	h->ptype = ETH_P_IP;
	h->hlen = ETH_ALEN;
	h->plen = 4;
	h->op = op;
}

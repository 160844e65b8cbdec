/* Ethernet II input and output (Linux's eth_type_trans() and the dispatch in
 * __netif_receive_skb_core(), eth_header()). */
#include <errno.h>
#include <string.h>

#include "core/stack.h"
#include "ip/ip.h"
#include "link/link_priv.h"
#include "wire/eth.h"

struct pkb *link_pkb_prepare(struct pkb *p, size_t need)
{
	struct pkb *c;

	if (!pkb_shared(p) && pkb_headroom(p) >= need)
		return p;
	c = pkb_alloc_head(p->pool, need + PKB_HEADROOM, p->len);
	if (!c) {
		pkb_free(p);
		return NULL;
	}
	memcpy(pkb_put(c, p->len), p->data, p->len);
	c->dev = p->dev;
	c->tstamp_ns = p->tstamp_ns;
	c->nh = p->nh ? c->data + (p->nh - p->data) : NULL;
	c->th = p->th ? c->data + (p->th - p->data) : NULL;
	c->mac = NULL;
	c->mark = p->mark;
	c->priority = p->priority;
	c->pkt_type = p->pkt_type;
	pkb_csum_copy_state(c, p);
	c->frag_max_size = p->frag_max_size;
	c->gso_size = p->gso_size;
	c->gso_segs = p->gso_segs;
	memcpy(c->cb, p->cb, sizeof(c->cb));
	pkb_free(p);
	return c;
}

int eth_output(struct netdev *dev, struct pkb *pkb, const uint8_t dst[6], uint16_t ethertype)
{
	struct wire_eth h;

	pkb = link_pkb_prepare(pkb, ETH_HLEN);
	if (!pkb) {
		dev->tx_dropped++;
		return -ENOBUFS;
	}
	memcpy(h.dst, dst, ETH_ALEN);
	memcpy(h.src, dev->hwaddr, ETH_ALEN);
	h.type = ethertype;
	pkb->mac = pkb_push(pkb, ETH_HLEN);
	wire_eth_emit(pkb->mac, &h);
	return netdev_xmit(dev, pkb);
}

void eth_input(struct netdev *dev, struct pkb *pkb)
{
	struct wire_eth h;

	if (wire_eth_parse(pkb->data, pkb->len, &h) < 0)
		goto drop;
	pkb->mac = pkb->data;
	if (memcmp(h.dst, dev->hwaddr, ETH_ALEN) == 0)
		pkb->pkt_type = PKB_HOST;
	else if (wire_eth_is_broadcast(h.dst))
		pkb->pkt_type = PKB_BROADCAST;
	else if (wire_eth_is_multicast(h.dst))
		pkb->pkt_type = PKB_MULTICAST;
	else
		pkb->pkt_type = PKB_OTHERHOST;
	/* Our own frame reflected back (a hub, a looped switch): never input. */
	if (memcmp(h.src, dev->hwaddr, ETH_ALEN) == 0)
		goto drop;
	pkb_pull(pkb, ETH_HLEN);
	switch (h.type) {
	case ETH_P_IP:
		/* A frame for another host is dropped by ip4_rcv() (ip_rcv_core()), before
		 * any IP counter. */
		pkb->nh = pkb->data;
		ip4_rcv(dev, pkb);
		return;
	case ETH_P_ARP:
		arp_rcv(dev, pkb);
		return;
	default:
		break;	/* no handler: __netif_receive_skb_core() counts rx_dropped */
	}
drop:
	dev->rx_dropped++;
	pkb_free(pkb);
}

/* Ethernet II header parse/emit and MAC address classes. */
#include "wire/eth.h"

#include <errno.h>
#include <string.h>

#include "wire/wire.h"

int wire_eth_parse(const uint8_t *p, size_t len, struct wire_eth *out)
{
	if (len < ETH_HLEN)
		return -EBADMSG;
	memcpy(out->dst, p, ETH_ALEN);
	memcpy(out->src, p + 6, ETH_ALEN);
	out->type = get_be16(p + 12);
	return 0;
}

size_t wire_eth_emit(uint8_t *p, const struct wire_eth *h)
{
	memcpy(p, h->dst, ETH_ALEN);
	memcpy(p + 6, h->src, ETH_ALEN);
	put_be16(p + 12, h->type);
	return ETH_HLEN;
}

bool wire_eth_is_broadcast(const uint8_t mac[ETH_ALEN])
{
	return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

bool wire_eth_is_multicast(const uint8_t mac[ETH_ALEN])
{
	return mac[0] & 0x01;	/* I/G bit: first bit on the wire */
}

bool wire_eth_is_zero(const uint8_t mac[ETH_ALEN])
{
	return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0;
}

bool wire_eth_is_valid_unicast(const uint8_t mac[ETH_ALEN])
{
	return !wire_eth_is_multicast(mac) && !wire_eth_is_zero(mac);
}

void wire_eth_ip4_mcast_map(uint32_t group_be, uint8_t mac[ETH_ALEN])
{
	uint8_t g[4];

	put_in4(g, group_be);
	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = g[1] & 0x7f;	/* RFC 1112 6.4: only the low 23 bits are mapped */
	mac[4] = g[2];
	mac[5] = g[3];
}

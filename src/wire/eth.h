/* Ethernet II framing (IEEE 802.3 with an EtherType, RFC 894): 6-byte destination,
 * 6-byte source, 2-byte EtherType; no FCS (the NIC or tap device strips it). */
#ifndef IPS_WIRE_ETH_H
#define IPS_WIRE_ETH_H

#include <linux/if_ether.h>	/* ETH_ALEN, ETH_HLEN, ETH_P_IP, ETH_P_ARP, ETH_P_8021Q */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wire_eth {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t type;		/* EtherType, host order; < 0x0600 would be an 802.3 length */
};

/* Needs len >= ETH_HLEN (14). The EtherType is not checked: the caller dispatches on it
 * (and drops 802.3/LLC frames, whose field is a length < ETH_P_802_3_MIN). */
int wire_eth_parse(const uint8_t *p, size_t len, struct wire_eth *out);
size_t wire_eth_emit(uint8_t *p, const struct wire_eth *h);	/* writes ETH_HLEN bytes */

/* ff:ff:ff:ff:ff:ff */
bool wire_eth_is_broadcast(const uint8_t mac[ETH_ALEN]);
/* The I/G (group) bit, i.e. multicast or broadcast (IEEE 802-2014 8.2). */
bool wire_eth_is_multicast(const uint8_t mac[ETH_ALEN]);
/* 00:00:00:00:00:00, never a valid source (Linux is_valid_ether_addr()). */
bool wire_eth_is_zero(const uint8_t mac[ETH_ALEN]);
/* A unicast source we can accept: neither group nor zero (Linux is_valid_ether_addr()). */
bool wire_eth_is_valid_unicast(const uint8_t mac[ETH_ALEN]);

/* RFC 1112 6.4: IPv4 group (network order) -> 01:00:5e + low 23 bits of the group
 * (Linux ip_eth_mc_map()). */
void wire_eth_ip4_mcast_map(uint32_t group_be, uint8_t mac[ETH_ALEN]);

#endif

/* ARP for Ethernet/IPv4 (RFC 826): the 28-byte packet after the Ethernet header. */
#ifndef IPS_WIRE_ARP_H
#define IPS_WIRE_ARP_H

#include <net/if_arp.h>		/* ARPHRD_ETHER, ARPOP_REQUEST, ARPOP_REPLY */
#include <stddef.h>
#include <stdint.h>

#define WIRE_ARP_LEN 28		/* hrd(2) pro(2) hln(1) pln(1) op(2) sha(6) spa(4) tha(6) tpa(4) */

struct wire_arp {
	uint16_t htype, ptype;	/* host order: ARPHRD_ETHER, ETH_P_IP */
	uint8_t hlen, plen;	/* 6, 4 */
	uint16_t op;		/* host order: ARPOP_REQUEST, ARPOP_REPLY, ... (not checked) */
	uint8_t sha[6];
	uint32_t spa;		/* network order */
	uint8_t tha[6];
	uint32_t tpa;		/* network order */
};

/* Returns 0, or:
 *  -EPROTONOSUPPORT  hardware type is not Ethernet (1) or protocol type is not IPv4
 *                    (0x0800): a well-formed ARP we simply do not speak (Linux
 *                    arp_process() ignores it); needs len >= 8 to tell.
 *  -EBADMSG          too short (len < 8, or < 28 for Ethernet/IPv4), or hlen != 6 or
 *                    plen != 4 (Linux arp_rcv() drops: "ar_hln != dev->addr_len ||
 *                    ar_pln != 4").
 * The opcode is not checked: the caller drops what is neither request nor reply.
 * Trailing bytes (Ethernet padding to 60) are ignored. */
int wire_arp_parse(const uint8_t *p, size_t len, struct wire_arp *out);

/* Writes WIRE_ARP_LEN bytes from h (htype/ptype/hlen/plen as given, so tests can
 * build bad packets; wire_arp_init() fills the Ethernet/IPv4 values). */
size_t wire_arp_emit(uint8_t *p, const struct wire_arp *h);

/* htype ARPHRD_ETHER, ptype ETH_P_IP, hlen 6, plen 4, and op; addresses zeroed. */
void wire_arp_init(struct wire_arp *h, uint16_t op);

#endif

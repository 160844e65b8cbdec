/* Segmentation offload in software (Linux's skb_gso_segment() for SKB_GSO_TCPV4; checksum
 * completion alone is pkb_csum_resolve()): what a device cannot take is done here, on the transmit path
 * (netdev_xmit()), for impairment (which acts per wire frame) and for capture (which
 * shows wire frames).
 *
 * A super-packet is an IPv4/TCP packet with pkb->gso_size set: its payload is cut into
 * segments of gso_size bytes (the last may be shorter), each with a copy of the headers:
 * IPv4 tot_len, ID (+1 per segment, as Linux for DF TCP) and header checksum; TCP
 * sequence number advanced, PSH and FIN only on the last segment, CWR only on the first
 * (tcp_gso_segment()), and its own checksum. */
#ifndef IPS_IP_GSO_H
#define IPS_IP_GSO_H

#include <stddef.h>
#include <stdint.h>

#include "core/pkb.h"

/* The length of the largest IPv4 packet p becomes on the wire (its segments' for a
 * super-packet: skb_gso_network_seglen()); iph is its IPv4 header inside p. */
uint32_t gso_network_seglen(const struct pkb *p, const uint8_t *iph);

/* Cut the super-packet p (IPv4 header mac_len bytes into p->data; the first mac_len
 * bytes are copied to every segment) into complete wire packets appended to q, with
 * checksums filled in. p is not consumed. 0, -EINVAL (malformed: not IPv4/TCP, a
 * truncated header), or -ENOBUFS (what was made is freed). */
int gso_segment(const struct pkb *p, size_t mac_len, struct pkb_queue *q);

#endif

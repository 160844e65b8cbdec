/* struct virtio_net_hdr (the virtio 1.x network header, Linux's <linux/virtio_net.h>): the
 * 10 bytes in front of every frame read from or written to a TAP/TUN fd opened with
 * IFF_VNET_HDR. It says what the frame leaves to the other side: a checksum to fill in
 * (NEEDS_CSUM at csum_start + csum_offset), a super-packet to cut into segments of
 * gso_size payload bytes (GSO_TCPV4), or a checksum already verified (DATA_VALID).
 *
 * Fields are little-endian: the fd is put in that mode with TUNSETVNETLE, as virtio 1.x
 * devices are (legacy virtio used the host's order, which is the same on x86). */
#ifndef IPS_WIRE_VIRTIO_NET_H
#define IPS_WIRE_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_VNET_HLEN 10		/* sizeof(struct virtio_net_hdr), no num_buffers */

/* flags */
#define WIRE_VNET_F_NEEDS_CSUM 0x01	/* checksum at csum_start + csum_offset to fill in */
#define WIRE_VNET_F_DATA_VALID 0x02	/* the (outermost) L4 checksum was verified */
#define WIRE_VNET_F_RSC_INFO   0x04	/* only with VIRTIO_NET_F_RSC_EXT, never from tun */

/* gso_type */
#define WIRE_VNET_GSO_NONE   0
#define WIRE_VNET_GSO_TCPV4  1
#define WIRE_VNET_GSO_UDP    3
#define WIRE_VNET_GSO_TCPV6  4
#define WIRE_VNET_GSO_UDP_L4 5
#define WIRE_VNET_GSO_ECN    0x80	/* the super-packet has CWR on its first segment */

struct wire_vnet {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;	/* bytes of headers (a hint for the receiver's linear part) */
	uint16_t gso_size;	/* payload bytes per segment */
	uint16_t csum_start;	/* from the start of the frame (link header included) */
	uint16_t csum_offset;	/* of the checksum field, from csum_start */
};

/* Needs len >= WIRE_VNET_HLEN; the values are not checked (wire_vnet_check()). */
int wire_vnet_parse(const uint8_t *p, size_t len, struct wire_vnet *out);
size_t wire_vnet_emit(uint8_t *p, const struct wire_vnet *h);	/* WIRE_VNET_HLEN bytes */

/* What a received header means for its frame, once checked against it. */
struct wire_vnet_rx {
	uint16_t gso_size;	/* 0: an ordinary packet */
	uint16_t gso_segs;	/* segments the super-packet stands for */
	bool csum_partial;	/* the checksum at csum_start + csum_offset is left to fill in */
	bool csum_tcp;		/* ... and it is the TCP checksum of the IPv4 packet */
	bool data_valid;	/* DATA_VALID (the caller decides whether to trust it) */
	uint16_t csum_start;	/* from the start of the frame */
	uint16_t csum_offset;
};

/* Check header h against the frame frame[0..len) it came with, as Linux's
 * virtio_net_hdr_to_skb() does, and a little more: ip_off is the offset of the IPv4
 * header, or -1 when the frame is not IPv4 (ARP...). Rules:
 *  - flags only NEEDS_CSUM and DATA_VALID; hdr_len <= len;
 *  - gso_type NONE or TCPV4 (with or without ECN), gso_size > 0 for TCPV4; a super-packet
 *    must be a whole IPv4/TCP packet (no fragment, headers within the IPv4 total length,
 *    which lies within the frame), and with NEEDS_CSUM its checksum must be TCP's
 *    (csum_start at the TCP header, csum_offset 16); one whose payload fits in gso_size is
 *    an ordinary packet (virtio_net_hdr_to_skb: "too small packets are not really GSO");
 *  - NEEDS_CSUM: csum_start at least 20 bytes past the IPv4 header's start (or the frame's
 *    start when it is not IPv4), csum_start + csum_offset + 2 <= len.
 * 0, or -EBADMSG (out->... undefined). */
int wire_vnet_check(const struct wire_vnet *h, const uint8_t *frame, size_t len, long ip_off,
		    struct wire_vnet_rx *out);

#endif

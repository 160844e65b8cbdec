/* ARP against the neighbour cache, with time: the Ethernet world of fuzz_stack_eth, but
 * a frame record is an ARP packet body (normally 28 bytes) and the harness writes the
 * Ethernet header, so mutations land on opcodes, addresses and lengths. Interleaved
 * actions send datagrams and pings (neighbour resolution: INCOMPLETE entries, queued
 * packets, failures reported as host unreachable), add static entries and addresses
 * (gratuitous ARP), switch arp_accept/arp_ignore/arp_filter/arp_announce/proxy_arp/
 * drop_gratuitous_arp/locktime/gc thresholds, and take devices down; time steps walk
 * entries through REACHABLE, STALE, DELAY, PROBE and FAILED and run the garbage
 * collector and the proxy_delay queue.
 *
 * Ethernet header of a frame record on dev = arg & 1: destination by (arg >> 1) & 3:
 * broadcast, the device's MAC, the ARP target hardware address, 01:00:5e:00:00:01;
 * source: the ARP sender hardware address, or with arg & 8 02:00:00:00:00:99.
 * Fixed up (kinds 1/7): hardware type 1, protocol 0x0800, lengths 6 and 4 are forced,
 * so that every mutation reaches the cache. */
#include "fuzz_stack.h"

static size_t arp_build(struct fz *f, int d, bool fix, unsigned arg, const uint8_t *in, size_t len,
			uint8_t *buf)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	static const uint8_t other[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 };
	uint8_t *arp = buf + 14;

	memcpy(arp, in, len);
	if (fix && len >= 8) {
		put_be16(arp, 1);
		put_be16(arp + 2, 0x0800);
		arp[4] = 6;
		arp[5] = 4;
	}
	switch ((arg >> 1) & 3) {
	case 0:
		memcpy(buf, bcast, 6);
		break;
	case 1:
		memcpy(buf, fz_mac[d], 6);
		break;
	case 2:
		memcpy(buf, len >= 24 ? arp + 18 : other, 6);
		break;
	default:
		memcpy(buf, mcast, 6);
		break;
	}
	memcpy(buf + 6, (arg & 8) || len < 14 ? other : arp + 8, 6);
	put_be16(buf + 12, 0x0806);
	return 14 + len;
}

static const struct fz_harness arp_harness = {
	.dev_name = { "eth0", "eth1" },
	.dev_type = NETDEV_ETHER,
	.build = arp_build,
	.setup = fz_setup_eth,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_run(&arp_harness, data, size);
	return 0;
}

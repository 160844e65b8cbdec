/* A whole stack fed Ethernet frames: two Ethernet devices (eth0, eth1; the harness is
 * their wire), addresses, routes, sockets; frames, time steps and actions as
 * fuzz_stack.h describes. Covers eth_input, ARP and the neighbour cache, IPv4 input,
 * options, reassembly, forwarding (config bit 0 / the ip_forward sysctl action),
 * ICMP (errors, echo, rate limits, redirects, PMTU), UDP/UDP-Lite/raw delivery, and
 * whatever else registers an IP protocol (TCP once it does).
 *
 * Frame records are whole Ethernet frames. Fixed up (kinds 1/7): an IPv4 frame gets its
 * checksums (and with arg & 2 its total length) repaired; with arg & 4 its destination
 * MAC becomes the device's, with arg & 8 its source the peer's (02:00:00:00:00:a1). */
#include "fuzz_stack.h"

static size_t eth_build(struct fz *f, int d, bool fix, unsigned arg, const uint8_t *in, size_t len,
			uint8_t *buf)
{
	memcpy(buf, in, len);
	if (!fix || len < 14)
		return len;
	if (arg & 4)
		memcpy(buf, fz_mac[d], 6);
	if (arg & 8)
		memcpy(buf + 6, fz_peer_mac, 6);
	if (get_be16(buf + 12) == 0x0800)
		fz_fix_ipv4(buf + 14, len - 14, arg & 2);
	return len;
}

static const struct fz_harness eth_harness = {
	.dev_name = { "eth0", "eth1" },
	.dev_type = NETDEV_ETHER,
	.build = eth_build,
	.setup = fz_setup_eth,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_run(&eth_harness, data, size);
	return 0;
}

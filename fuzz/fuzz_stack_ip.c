/* A whole stack fed bare IPv4 packets on two TUN-like (NETDEV_RAWIP) devices: the IPv4
 * input path without the link layer in the way. Covers header checks, options (RR, TS,
 * LSRR/SSRR, RA, CIPSO, ...), fragment reassembly, forwarding between tun0 and tun1,
 * the route types (blackhole/unreachable/prohibit answered as Linux's ip_error()),
 * ICMP (echo, timestamp, errors quoting packets back to sockets, rate limits, PMTU),
 * UDP, UDP-Lite and raw socket delivery, and whatever else registers an IP protocol
 * (TCP once it does: a listener on port 80 is opened when SOCK_STREAM sockets exist).
 *
 *   tun0 10.1.0.1/24 (+ 10.1.0.100/24)   peer 10.1.0.2
 *   tun1 10.2.0.1/24                     gateway 10.2.0.2
 *   default via 10.2.0.2; 10.5.0.0/16 via 10.1.0.2; blackhole 10.9.0.0/16,
 *   unreachable 10.10.0.0/16, prohibit 10.11.0.0/16; 10.6.0.0/16 via 10.1.0.2 mtu 576.
 *
 * Frame records are IPv4 packets; fixed up (kinds 1/7) their checksums are repaired and
 * with arg & 2 their total length. */
#include "fuzz_stack.h"

static size_t ip_build(struct fz *f, int d, bool fix, unsigned arg, const uint8_t *in, size_t len,
		       uint8_t *buf)
{
	memcpy(buf, in, len);
	if (fix)
		fz_fix_ipv4(buf, len, arg & 2);
	return len;
}

static int ip_setup(struct fz *f)
{
	static const char *const routes[] = {
		"default via 10.2.0.2", "10.5.0.0/16 via 10.1.0.2",
		"blackhole 10.9.0.0/16", "unreachable 10.10.0.0/16", "prohibit 10.11.0.0/16",
		"10.6.0.0/16 via 10.1.0.2 mtu 576",
	};

	if (ips_addr_add(f->st, "tun0", "10.1.0.1/24") < 0 ||
	    ips_addr_add(f->st, "tun0", "10.1.0.100/24") < 0 ||
	    ips_addr_add(f->st, "tun1", "10.2.0.1/24") < 0)
		return -1;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (ips_route_add_str(f->st, routes[i]) < 0)
			return -1;
	fz_sockets_open(f, fz_a("10.1.0.1"), fz_a("10.1.0.2"));
	return 0;
}

static const struct fz_harness ip_harness = {
	.dev_name = { "tun0", "tun1" },
	.dev_type = NETDEV_RAWIP,
	.build = ip_build,
	.setup = ip_setup,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_run(&ip_harness, data, size);
	return 0;
}

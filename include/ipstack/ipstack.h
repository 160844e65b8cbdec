/* ipstack: a userspace IPv4 network stack with the Linux socket API.
 *
 * One ips_stack is one network namespace: interfaces, addresses, routes, neighbours,
 * sockets, sysctls, counters, timers, its clock and its random source.
 *
 * Management calls (everything here that is not a socket call) return 0 or a count on
 * success and a negative errno value on failure; they never touch errno. */
#ifndef IPSTACK_IPSTACK_H
#define IPSTACK_IPSTACK_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IPS_API __attribute__((visibility("default")))

typedef struct ips_stack ips_stack;
typedef struct ips_world ips_world;

/* How a stack runs (see docs/architecture.md). */
enum ips_mode {
	IPS_MODE_THREADED = 0,	/* its own thread runs the event loop */
	IPS_MODE_DRIVEN,	/* the caller runs ips_stack_poll() */
	IPS_MODE_SIMULATED,	/* part of an ips_world: virtual clock, no threads */
};

/* Injected time: nanoseconds on a monotonic scale. */
struct ips_clock_ops {
	uint64_t (*now_ns)(void *ctx);
	void *ctx;
};

/* Injected randomness. */
struct ips_random_ops {
	void (*fill)(void *ctx, void *buf, size_t len);
	void *ctx;
};

struct ips_stack_config {
	enum ips_mode mode;
	const char *name;			/* for logs and pcap names; may be NULL */
	const struct ips_clock_ops *clock;	/* NULL: CLOCK_MONOTONIC */
	const struct ips_random_ops *random;	/* NULL: getrandom(2) */
	uint64_t seed;				/* nonzero: seed the stack's generator from
						 * this instead of the random source */
	int no_loopback;			/* do not create `lo` */
};

/* NULL cfg = defaults: threaded, real clock, `lo` up with 127.0.0.1/8. NULL on error. */
IPS_API ips_stack *ips_stack_new(const struct ips_stack_config *cfg);
IPS_API void ips_stack_free(ips_stack *st);
IPS_API const char *ips_stack_name(const ips_stack *st);
/* Driven mode: wait up to timeout_ms (-1 = until something happens) for device input or
 * a timer, then do all work that is due. Returns >= 0 or -errno. */
IPS_API int ips_stack_poll(ips_stack *st, int timeout_ms);
/* Ask a running stack's loop (threaded, or a driven stack blocked in ips_stack_poll) to
 * return/recheck promptly. Safe from any thread and from signal handlers. */
IPS_API void ips_stack_wake(ips_stack *st);
IPS_API uint64_t ips_stack_now_ns(ips_stack *st);
/* Buffers of this stack still in use (for leak checks in tests). */
IPS_API long ips_stack_pkb_outstanding(ips_stack *st);

/* ---- Simulated worlds: several stacks on one virtual clock, one thread. ---- */
IPS_API ips_world *ips_world_new(uint64_t seed);
IPS_API void ips_world_free(ips_world *w);		/* frees its stacks too */
/* A simulated stack in w with `lo`; name is used for pcap file names and logs. */
IPS_API ips_stack *ips_world_add_stack(ips_world *w, const char *name);
IPS_API uint64_t ips_world_now_ns(const ips_world *w);
/* Run every stack for ns nanoseconds of virtual time. */
IPS_API int ips_world_run_for(ips_world *w, uint64_t ns);
/* Run until done(arg) returns nonzero (checked after each step) or max_ns passes;
 * returns 1 if done, 0 on time-out. */
IPS_API int ips_world_run_until(ips_world *w, int (*done)(void *arg), void *arg,
				uint64_t max_ns);
/* Time of the next pending event in w, or UINT64_MAX when the world is idle. */
IPS_API uint64_t ips_world_next_event_ns(ips_world *w);

/* ---- Devices ---- */

/* Impairments (netem-like), seeded from the stack's generator and timed by its clock.
 * Percentages are 0..100 and may be fractional. */
struct ips_impair {
	double loss_pct;
	double dup_pct;
	double reorder_pct;	/* share of packets held back so later ones overtake them */
	double corrupt_pct;	/* share of packets with one bit flipped */
	uint32_t delay_us;
	uint32_t jitter_us;
	uint64_t rate_bps;	/* 0 = unlimited */
	uint32_t queue_limit;	/* packets waiting under rate/delay; 0 = 1000 */
};

/* Parse "loss=5,dup=1,reorder=2,delay=10,jitter=3,corrupt=0.5,rate=100" (percent,
 * milliseconds, Mbit/s). */
IPS_API int ips_impair_parse(const char *spec, struct ips_impair *out);

struct ips_link_config {
	uint32_t mtu;			/* 0 = 1500 */
	struct ips_impair impair;	/* applied in both directions */
	/* IPS_LINK_NO_OFFLOAD: ports start without TSO and checksum offload (by default
	 * they have both, as veth; ips_dev_set_offload() changes one port). */
	uint32_t flags;
};
#define IPS_LINK_NO_OFFLOAD 0x1u

/* An Ethernet point-to-point link between a's interface ifa and b's interface ifb
 * (both created). The stacks may be the same. */
IPS_API int ips_memlink_new(ips_stack *a, const char *ifa, ips_stack *b, const char *ifb,
			    const struct ips_link_config *cfg);
/* An in-memory learning Ethernet switch with ports added one by one. */
typedef struct ips_memswitch ips_memswitch;
IPS_API ips_memswitch *ips_memswitch_new(const struct ips_link_config *cfg);
IPS_API int ips_memswitch_add_port(ips_memswitch *sw, ips_stack *st, const char *ifname);
IPS_API void ips_memswitch_free(ips_memswitch *sw);	/* after its stacks are freed */

/* Attach to the TAP (Ethernet) or TUN (raw IP) device `ifname` on /dev/net/tun, creating
 * it if it does not exist. */
IPS_API int ips_tap_attach(ips_stack *st, const char *ifname);
IPS_API int ips_tun_attach(ips_stack *st, const char *ifname);

/* A device that hands raw IPv4 packets to a callback and takes them from the caller. */
typedef void (*ips_packet_cb)(void *arg, const void *pkt, size_t len);
IPS_API int ips_cbdev_new(ips_stack *st, const char *ifname, uint32_t mtu, ips_packet_cb out,
			  void *arg);
IPS_API int ips_cbdev_inject(ips_stack *st, const char *ifname, const void *pkt, size_t len);

IPS_API int ips_dev_set_impair(ips_stack *st, const char *ifname, const struct ips_impair *imp);
/* Write every frame sent or received on ifname to a pcap file (NULL path stops). */
IPS_API int ips_dev_set_pcap(ips_stack *st, const char *ifname, const char *path);
/* Flush every open capture file of st to disk (e.g. on SIGINT). */
IPS_API int ips_pcap_flush(ips_stack *st);
IPS_API int ips_dev_set_mtu(ips_stack *st, const char *ifname, uint32_t mtu);
IPS_API int ips_dev_set_up(ips_stack *st, const char *ifname, int up);
IPS_API int ips_dev_index(ips_stack *st, const char *ifname);
/* Offloads (ethtool -K): IPS_OFFLOAD_CSUM, the device fills in TCP checksums; _TSO, it
 * takes TCP segments larger than its MTU and cuts them itself (needs CSUM). Memlinks
 * offer both and have them on (as veth); a TAP/TUN when the kernel accepts
 * IFF_VNET_HDR and TUNSETOFFLOAD (on by default); other devices none. Set: 0,
 * -EOPNOTSUPP (the device cannot), -EINVAL. Get: the flags in use, or -errno.
 * docs/link.md. */
#define IPS_OFFLOAD_CSUM 0x1u
#define IPS_OFFLOAD_TSO  0x2u
IPS_API int ips_dev_set_offload(ips_stack *st, const char *ifname, unsigned flags);
IPS_API int ips_dev_get_offload(ips_stack *st, const char *ifname);
IPS_API int ips_dev_hwaddr(ips_stack *st, const char *ifname, uint8_t mac[6]);

/* ---- Addresses and routes ---- */
/* "10.0.0.1/24" on ifname; adds the connected and local routes, announces by ARP. */
IPS_API int ips_addr_add(ips_stack *st, const char *ifname, const char *cidr);
IPS_API int ips_addr_del(ips_stack *st, const char *ifname, const char *cidr);

enum ips_route_type {
	IPS_RT_UNICAST = 1,
	IPS_RT_LOCAL,
	IPS_RT_BROADCAST,
	IPS_RT_BLACKHOLE,
	IPS_RT_UNREACHABLE,
	IPS_RT_PROHIBIT,
};

struct ips_route {
	struct in_addr dst;
	int prefixlen;
	struct in_addr gateway;		/* 0.0.0.0 = directly connected */
	const char *dev;		/* NULL = chosen from the gateway */
	enum ips_route_type type;	/* 0 = unicast */
	uint32_t metric;
	uint32_t mtu;			/* 0 = the device's */
	struct in_addr prefsrc;
};
IPS_API int ips_route_add(ips_stack *st, const struct ips_route *r);
IPS_API int ips_route_del(ips_stack *st, const struct ips_route *r);
/* "default via 10.0.0.1", "10.1.0.0/16 via 10.0.0.2 metric 5", "blackhole 10.9.0.0/16",
 * "10.2.0.0/16 dev eth1" — the `ip route add` syntax. */
IPS_API int ips_route_add_str(ips_stack *st, const char *spec);

/* ---- Sysctls and counters ---- */
/* name as "net.ipv4.ip_default_ttl" (or with '/'); value as `sysctl` prints/takes it. */
IPS_API int ips_sysctl_get(ips_stack *st, const char *name, char *buf, size_t len);
IPS_API int ips_sysctl_set(ips_stack *st, const char *name, const char *value);
/* A counter by its nstat name: "IpInReceives", "IcmpMsgInType8", "TcpExtListenDrops". */
IPS_API int ips_counter_get(ips_stack *st, const char *name, uint64_t *value);
/* Every counter in nstat order; cb returns nonzero to stop. */
IPS_API int ips_counter_foreach(ips_stack *st,
				int (*cb)(void *arg, const char *name, uint64_t value), void *arg);

#ifdef __cplusplus
}
#endif

/* The POSIX-shaped socket API: ips_socket(), ips_bind(), ... */
#include <ipstack/socket.h>
#endif

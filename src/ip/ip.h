/* The IPv4 layer seen from the link layer below, the transports above and its own
 * parts (addresses, routing, input, output, options, fragmentation, reassembly,
 * forwarding, ICMP, PMTU). Addresses are uint32_t in network byte order throughout. */
#ifndef IPS_IP_IP_H
#define IPS_IP_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pkb.h"
#include "wire/ipv4_opts.h"

struct ips_stack;
struct netdev;

int ip_init(struct ips_stack *st);
void ip_fini(struct ips_stack *st);
int icmp_init(struct ips_stack *st);
void icmp_fini(struct ips_stack *st);

/* ---- Addresses (src/ip/addr.c) ---- */
struct in_ifaddr {
	struct in_ifaddr *next;
	struct netdev *dev;
	uint32_t local;
	uint32_t mask;
	uint32_t broadcast;
	uint8_t prefixlen;
	bool secondary;
};

struct in_device {
	struct netdev *dev;
	struct in_ifaddr *ifa_list;	/* primary addresses first */
};

int ip4_addr_add(struct netdev *dev, uint32_t addr, int prefixlen);
int ip4_addr_del(struct netdev *dev, uint32_t addr, int prefixlen);
/* A loopback device came up: 127.0.0.1/8 without a broadcast address, as Linux. */
int ip4_addr_add_loopback(struct netdev *dev);
void ip4_dev_up(struct netdev *dev);		/* device came up: its address routes return */
void ip4_dev_down(struct netdev *dev);		/* device went down: flush routes it owns */
void ip4_dev_unregister(struct netdev *dev);	/* drop its addresses and routes */
/* inet_select_addr(): a source address on dev for reaching dst (0 = any scope). */
uint32_t ip4_select_addr(struct netdev *dev, uint32_t dst);
/* The local address's device, or NULL if addr is not one of ours. */
struct netdev *ip4_local_dev(struct ips_stack *st, uint32_t addr);
/* Every address of every device (primaries of a device first); cb returns nonzero to
 * stop, and that value is returned. */
int addr_foreach(struct ips_stack *st,
		 int (*cb)(void *arg, struct netdev *dev, const struct in_ifaddr *ifa), void *arg);

/* ---- Routing (src/ip/route.c) ---- */
enum rtn_type {
	RTN_UNSPEC_ = 0,
	RTN_UNICAST_ = 1,
	RTN_LOCAL_,
	RTN_BROADCAST_,
	RTN_ANYCAST_,
	RTN_MULTICAST_,
	RTN_BLACKHOLE_,
	RTN_UNREACHABLE_,
	RTN_PROHIBIT_,
};

struct rt_result {
	enum rtn_type type;
	struct netdev *dev;		/* output device (lo for local) */
	uint32_t nexthop;		/* gateway, or the destination when connected */
	uint32_t prefsrc;		/* source address to use when the socket has none */
	uint32_t mtu;			/* path MTU: PMTU cache, else route MTU, else dev MTU */
	bool pmtu_locked;		/* route mtu lock */
	bool gateway;			/* nexthop is a gateway */
	/* route_input() only: */
	int error;			/* RTN_UNREACHABLE_: -EHOSTUNREACH/-ENETUNREACH/-EACCES/
					 * -EINVAL, handled as Linux's ip_error() */
	bool redirect;			/* forwarding back out of the arrival interface to an
					 * on-link sender: send ICMP redirect (IPSKB_DOREDIRECT) */
};

/* Output route for daddr (fib_lookup + ip_route_output_key): for a blackhole route
 * -EINVAL, unreachable -EHOSTUNREACH, prohibit -EACCES, no route -ENETUNREACH (as
 * ip(7) and Linux's fib_props give them). oif 0 = any. */
int route_output(struct ips_stack *st, uint32_t daddr, uint32_t saddr, int oif, uint32_t mark,
		 struct rt_result *res);
/* Input route decision for a received packet (ip_route_input_slow): res->type LOCAL,
 * BROADCAST or MULTICAST (deliver locally), UNICAST (forward through res->dev to
 * res->nexthop, res->mtu the forwarding MTU), or UNREACHABLE with res->error (no route,
 * or a reject route: dropped, counted and maybe answered as ip_error() does). Returns
 * < 0 for martians (-EINVAL, not counted, as Linux) and reverse-path failures (-EXDEV:
 * TcpExtIPReversePathFilter). */
int route_input(struct ips_stack *st, struct netdev *in_dev, uint32_t daddr, uint32_t saddr,
		struct rt_result *res);
/* RTN_* class of an address as seen by this stack (inet_addr_type). */
enum rtn_type route_addr_type(struct ips_stack *st, uint32_t addr);

/* ---- Transports ---- */
struct ip_proto_ops {
	/* pkb->data at the transport header, pkb->nh at the IPv4 header. Consumes pkb. */
	void (*input)(struct ips_stack *st, struct pkb *pkb);
	/* An ICMP error about a packet we sent with this protocol: `inner` is the quoted
	 * IPv4 header (at least 8 bytes of payload follow, inner_len in total). */
	void (*err)(struct ips_stack *st, struct pkb *icmp_pkb, int type, int code,
		    uint32_t info, const uint8_t *inner, size_t inner_len);
};
int ip4_proto_register(struct ips_stack *st, uint8_t proto, const struct ip_proto_ops *ops);

/* Per-packet IPv4 state in pkb->cb (Linux's IPCB(skb), struct inet_skb_parm): set by
 * ip4_rcv() for received packets, kept on their way to the transport (which may reuse
 * the cb afterwards) and to ip4_forward(). opt holds the options as compiled on receipt
 * (offsets from the IP header, needaddr/needtime flags) for replies (ICMP echo, errors)
 * that must echo them (ip_options_echo). */
struct ip4_cb {
	struct wire_ipv4_opts opt;
	int iif;			/* ifindex the packet arrived on */
	uint16_t flags;			/* IP4_CB_* */
};
#define IP4_CB_FORWARDED	0x1	/* IPSKB_FORWARDED */
#define IP4_CB_LOCAL_UNICAST	0x2	/* input route was RTN_LOCAL (RTCF_LOCAL, not bcast) */
#define IP4_CB_BROADCAST	0x4	/* input route was RTN_BROADCAST (RTCF_BROADCAST) */
#define IP4_CB_MULTICAST	0x8	/* input route was RTN_MULTICAST (RTCF_MULTICAST) */
#define IP4_CB_IGNORE_DF	0x10	/* skb->ignore_df: locally sent, may fragment despite DF */
#define IP4_CB(p) ((struct ip4_cb *)(void *)(p)->cb)
_Static_assert(sizeof(struct ip4_cb) <= sizeof(((struct pkb *)0)->cb), "ip4_cb fits pkb->cb");

/* ---- Input (src/ip/ip4_input.c) ---- */
/* A received IPv4 packet; pkb->data at the IPv4 header, pkb->dev set, pkt_type set by
 * the link layer. Consumes pkb. */
void ip4_rcv(struct netdev *dev, struct pkb *pkb);
/* The link layer could not deliver pkb (ARP failed): ICMP host unreachable to the local
 * sender, as Linux's ipv4_link_failure(). Consumes pkb. */
void ip4_link_failure(struct ips_stack *st, struct pkb *pkb);

/* ---- Output (src/ip/ip4_output.c) ---- */
struct ip4_out {
	uint32_t saddr;			/* 0: chosen from the route */
	uint32_t daddr;
	uint8_t proto;
	uint8_t tos;
	int ttl;			/* < 0: ip_default_ttl (or multicast default 1) */
	int pmtudisc;			/* IP_PMTUDISC_* (linux/in.h); -1: from sysctl */
	int oif;			/* 0 = route decides */
	uint32_t mark;
	uint32_t priority;
	const uint8_t *opts;		/* IP options as they go on the wire, or NULL */
	uint8_t opts_len;		/* multiple of 4, <= 40 */
	/* When non-NULL, opts/opts_len are wire_ipv4_opts_compile_user() output and this
	 * is its result (IP_OPTIONS, ip_options_echo): a source route's first hop
	 * (opt->faddr) is where the packet is routed, and the destination, our source
	 * address and the time are filled in once routed (ip_options_build). */
	const struct wire_ipv4_opts *opt;
	bool dontroute;			/* SO_DONTROUTE / MSG_DONTROUTE */
	bool broadcast_ok;		/* SO_BROADCAST */
	uint16_t id;			/* used when set_id */
	bool set_id;
};
/* Build the IPv4 header in front of pkb->data (the transport header and payload), route,
 * fragment to the path MTU unless DF, and send. Consumes pkb. Returns 0, or -EMSGSIZE
 * (DF and too big; *mtu_out gets the MTU if non-NULL), -ENETUNREACH, -EHOSTUNREACH,
 * -EACCES (broadcast without SO_BROADCAST, prohibit route), -EINVAL, -ENOBUFS. */
int ip4_output(struct ips_stack *st, struct pkb *pkb, const struct ip4_out *o, uint32_t *mtu_out);
/* Send a complete IPv4 packet (pkb->data at the header) along a resolved route:
 * fragmenting when allowed, then link_output (or loopback). Consumes pkb. */
int ip4_finish_output(struct ips_stack *st, struct pkb *pkb, const struct rt_result *rt);
/* Next IP ID for a datagram from saddr to daddr (Linux: per-destination hashed
 * counters, ip_idents). */
uint16_t ip4_select_id(struct ips_stack *st, uint32_t saddr, uint32_t daddr, uint8_t proto);

/* ---- Fragmentation and reassembly (src/ip/ip4_frag.c, src/ip/ip4_reasm.c) ---- */
/* Split pkb (a full datagram, data at the IPv4 header) into fragments of at most mtu
 * bytes and hand each to out(st, frag, rt). Counts FragOKs/FragFails/FragCreates.
 * Consumes pkb. */
int ip4_fragment(struct ips_stack *st, struct pkb *pkb, uint32_t mtu, const struct rt_result *rt,
		 int (*out)(struct ips_stack *st, struct pkb *frag, const struct rt_result *rt));
/* Queue a fragment; returns the reassembled datagram (data at its IPv4 header) when
 * complete, else NULL. Consumes pkb. */
struct pkb *ip4_defrag(struct ips_stack *st, struct pkb *pkb);

/* ---- Forwarding (src/ip/ip4_forward.c) ---- */
void ip4_forward(struct ips_stack *st, struct pkb *pkb, const struct rt_result *rt);

/* ---- ICMP (src/ip/icmp.c) and the PMTU cache (src/ip/pmtu.c) ---- */
/* Send an ICMP error about orig (orig->nh at its IPv4 header) — icmp_send() in Linux:
 * never about an ICMP error, a broadcast/multicast, or a non-first fragment; rate
 * limited. Does not consume orig. */
void icmp_send(struct ips_stack *st, struct pkb *orig, int type, int code, uint32_t info);
/* Current path MTU towards daddr, or 0 when nothing is cached. */
uint32_t pmtu_get(struct ips_stack *st, uint32_t daddr);
/* Learn a path MTU (clamped to min_pmtu, expires after mtu_expires). */
void pmtu_update(struct ips_stack *st, uint32_t daddr, uint32_t mtu);

/* Observers of ICMP messages delivered locally, below the socket layer: tests and
 * tests/interop/ips_pinger watch pings with them (applications use ping and raw
 * sockets, which get their copies through st->icmp->sock and raw_deliver). */
struct icmp_listener {
	struct icmp_listener *next;
	/* pkb->nh at the IPv4 header, pkb->th at the ICMP header. Must not consume. */
	void (*fn)(void *arg, struct pkb *pkb);
	void *arg;
};
void icmp_listener_add(struct ips_stack *st, struct icmp_listener *l);
void icmp_listener_del(struct ips_stack *st, struct icmp_listener *l);

#endif

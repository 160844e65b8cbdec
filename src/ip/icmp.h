/* ICMP, fragmentation, reassembly and the PMTU/exception cache: the parts of src/ip that
 * live in icmp.c, ip4_frag.c, ip4_reasm.c and pmtu.c. Private to src/ip (and the tests).
 *
 * All the state is behind st->icmp (struct icmp_state): created by icmp_init(), which the
 * stack calls after ip_init(), and torn down by icmp_fini(). */
#ifndef IPS_IP_ICMP_H
#define IPS_IP_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ip/ip.h"

struct ips_stack;
struct ipfrag_state;
struct pmtu_cache;
struct inet_peer_base;

/* Linux's sysctl defaults we rely on when a value is out of range. */
#define ICMP_XRLIM_BURST_FACTOR	6		/* net/ipv4/inetpeer.c */
#define ICMP_INADDR_DUMMY	0xc0000008u	/* 192.0.0.8 (RFC 7600), host order */
#define ICMP_MAX_ECHO_PAYLOAD	65507		/* 65535 - 20 - 8 */

/* Sockets plug in here (transport_init()); each may be NULL. As in Linux's
 * icmp_socket_deliver() / icmp_err() / icmp_rcv(): raw_icmp_error() gets every error
 * icmp.c delivers, before the quoted protocol's err handler; ping_err() the errors
 * quoting an echo request (from IPPROTO_ICMP's err handler); ping_rcv() every echo
 * reply. `info` as for ip_proto_ops.err. None of them consumes the pkb. */
struct icmp_socket_hooks {
	void (*raw_icmp_error)(struct ips_stack *st, struct pkb *icmp_pkb, uint8_t proto, int type,
			       int code, uint32_t info, const uint8_t *inner, size_t inner_len);
	void (*ping_err)(struct ips_stack *st, struct pkb *icmp_pkb, int type, int code,
			 uint32_t info, const uint8_t *inner, size_t inner_len);
	void (*ping_rcv)(struct ips_stack *st, struct pkb *pkb);
};

/* Echo requests icmp_echo_send() sent lately: it behaves as a raw ICMP socket, whose
 * raw_err() follows frag-needed and redirects about what it sent. */
#define ICMP_ECHO_RECENT 16

struct icmp_state {
	struct icmp_listener *listeners;
	struct icmp_socket_hooks sock;
	struct {
		uint32_t daddr;
		uint16_t id;
		bool used;
	} echo_recent[ICMP_ECHO_RECENT];
	unsigned int echo_recent_next;

	/* Host-wide token bucket (icmp_global_allow(); per network namespace since 6.12).
	 * credit may go negative: icmp_global_consume() takes 0..2 tokens. */
	int32_t global_credit;
	uint32_t global_stamp;		/* jiffies (ms) of the last refill */

	struct inet_peer_base *peers;	/* inetpeer.c */
	struct ipfrag_state *frag;	/* ip4_reasm.c */
	struct pmtu_cache *pmtu;	/* pmtu.c */
};

/* ---- icmp.c ---- */

/* Send one echo request from below the socket layer, as a raw ICMP socket would (for
 * tests and tests/interop/ips_pinger; ping and raw sockets live in src/transport). */
struct icmp_echo_req {
	uint32_t daddr;			/* network order */
	uint32_t saddr;			/* 0: the route's preferred source */
	uint16_t id, seq;
	uint8_t code;			/* normally 0 */
	const void *payload;
	size_t len;			/* payload bytes after the 8-byte ICMP header */
	int ttl;			/* < 0: ip_default_ttl */
	uint8_t tos;
	/* IP options as a user gives them to setsockopt(IP_OPTIONS): compiled the same way
	 * (RR/TS slots claimed, an LSRR/SSRR first hop becomes the next hop) and filled in
	 * with our source address and the time when the packet is built. */
	const uint8_t *opts;
	size_t opts_len;
	int pmtudisc;			/* IP_PMTUDISC_*; -1: the sysctl default (WANT) */
	int oif;
	bool broadcast;			/* SO_BROADCAST (ping -b) */
};
/* Returns 0 or -errno as sendto() on a raw ICMP socket would: -EMSGSIZE (too big for
 * 65535, or DF and over the path MTU: *mtu_out set), -EINVAL (bad options),
 * -ENETUNREACH, -EHOSTUNREACH, -ENOBUFS. Counts IcmpOutMsgs and IcmpOutEchos. */
int icmp_echo_send(struct ips_stack *st, const struct icmp_echo_req *req, uint32_t *mtu_out);

/* Milliseconds since midnight UT for RFC 791/792 timestamps (Linux
 * inet_current_timestamp()). The stack clock is monotonic and carries no date, so its
 * zero is taken to be a midnight: the value is (stack_now_ms % 86400000). */
uint32_t icmp_timestamp_ms(const struct ips_stack *st);

/* Linux ipv4_redirect(): learn a next-hop exception from a redirect whose quoted header
 * is `inner` (a packet we sent to inner->daddr through the gateway that sent icmp_pkb).
 * Transports call it from their err handler when a socket matched, as Linux's do. */
void icmp_redirect_learn(struct ips_stack *st, struct pkb *icmp_pkb, const uint8_t *inner,
			 size_t inner_len);

/* ---- pmtu.c: next-hop exceptions (Linux fib_nh_exception) ---- */
struct pmtu_info {
	uint32_t mtu;			/* 0: none */
	bool locked;			/* the reported MTU was below route_min_pmtu */
	uint32_t gateway;		/* redirect gateway, network order; 0: none */
	uint64_t expires_ms;		/* stack ms */
};
/* The live exception for daddr (expired ones are removed on the way). */
bool pmtu_lookup(struct ips_stack *st, uint32_t daddr, struct pmtu_info *out);
/* Gateway learnt from an ICMP redirect for daddr, or 0. */
uint32_t pmtu_gateway_get(struct ips_stack *st, uint32_t daddr);
/* update_or_create_fnhe(): gw and/or mtu (0 = leave as it is) with a new expiry. */
void pmtu_exception_set(struct ips_stack *st, uint32_t daddr, uint32_t gw, uint32_t mtu,
			bool locked, uint64_t expires_ms);
/* Forget every exception (routes changed; optional: Linux ties them to the nexthop). */
void pmtu_flush(struct ips_stack *st);
int pmtu_init(struct ips_stack *st);
void pmtu_fini(struct ips_stack *st);

/* ---- ip4_reasm.c ---- */
int ipfrag_init(struct ips_stack *st);
void ipfrag_fini(struct ips_stack *st);
/* Bytes charged to reassembly (frag_mem_limit()): truesize of queued fragments plus
 * the queue descriptors. */
long ipfrag_mem(const struct ips_stack *st);
/* Incomplete datagrams waiting. */
unsigned int ipfrag_queues(const struct ips_stack *st);

#endif

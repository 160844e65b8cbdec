/* Shared helpers for the tests (compiled into every test binary: keep them small and
 * dependent only on what the library already has).
 *
 *   Worlds      two_hosts(), host_router_host(), chain_world(): simulated stacks joined
 *               by memlinks, addressed and routed, ready to ping.
 *   Addresses   A("10.0.0.1") -> network-order uint32_t.
 *   Ping        test_ping(): our ping(8) on an icmp_listener: sends echo requests,
 *               runs the world, collects replies and the ICMP errors they provoked.
 *   Packets     test_ipv4_build(): a raw IPv4 packet (fragment fields, options,
 *               payload) in a pkb, to feed to ip4_rcv()/ip4_defrag()/ip4_fragment().
 *               test_send_ip(): send any protocol's payload through ip4_output().
 *   Capture     test_tap_*: see every IPv4 packet a stack sends on a device.
 *   Counters    test_counter(st, "IpReasmOKs").
 */
#ifndef IPS_TEST_SUPPORT_H
#define IPS_TEST_SUPPORT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipstack/ipstack.h"
#include "core/pkb.h"

#define MS(x) ((uint64_t)(x) * 1000000ull)
#define SEC(x) ((uint64_t)(x) * 1000000000ull)

/* "10.0.0.1" -> network order */
uint32_t A(const char *dotted);
/* "10.0.0.1", 80 -> a struct sockaddr_in */
struct sockaddr_in sin4(const char *dotted, int port);
/* network order -> static string (two rotating buffers) */
const char *S(uint32_t addr);

/* ---- Worlds ----
 * two_hosts:         a(eth0 10.0.0.1/24) <-> b(eth0 10.0.0.2/24)
 * host_router_host:  a(eth0 10.0.1.1/24) <-> (eth0 10.0.1.2/24) r (eth1 10.0.2.1/24)
 *                    <-> b(eth0 10.0.2.2/24); default routes via r; r forwards.
 *                    mtu_a / mtu_b: the two links' MTUs (0 = 1500).
 * chain_world:       n stacks in a line, link i (0-based) joins stack i (eth1, or eth0
 *                    for the first) and stack i+1 (eth0) on 10.0.(i+1).0/24, the left
 *                    one .1, the right one .2; every stack has routes to every subnet
 *                    and the inner ones forward. mtus[i]: link i's MTU (0 = 1500). */
int two_hosts(ips_world *w, ips_stack **a, ips_stack **b, const struct ips_link_config *cfg);
int host_router_host(ips_world *w, ips_stack **a, ips_stack **r, ips_stack **b, uint32_t mtu_a,
		     uint32_t mtu_b);
int chain_world(ips_world *w, int n, const uint32_t *mtus, ips_stack **stacks);
/* The address chain_world() gives stack i on the link to its left (i > 0) or right. */
uint32_t chain_addr(int i, bool left);

uint64_t test_counter(ips_stack *st, const char *name);
/* Run the world until nothing is pending or max_ns has passed. */
void test_run(ips_world *w, uint64_t max_ns);

/* ---- Ping ---- */
struct ping_opts {
	int count;			/* 0 = 1 */
	uint64_t interval_ns;		/* between requests; 0 = 1 s */
	uint64_t timeout_ns;		/* after the last request; 0 = 2 s */
	uint16_t id;			/* 0 = 0x4242 */
	int ttl;			/* 0 = default */
	uint8_t tos;
	const uint8_t *ipopts;		/* IP_OPTIONS form */
	size_t ipopts_len;
	int pmtudisc;			/* PING_PMTU_* below */
	uint32_t saddr;
	bool broadcast;			/* ping -b */
};
#define PING_PMTU_DEFAULT 0		/* as ping(8) without -M: the socket default (WANT) */
#define PING_PMTU_DONT	  1		/* -M dont */
#define PING_PMTU_DO	  2		/* -M do */

struct ping_result {
	int sent;			/* requests accepted by icmp_echo_send() */
	int send_err;			/* last error from icmp_echo_send(), or 0 */
	uint32_t send_mtu;		/* its *mtu_out for -EMSGSIZE */
	int replies;			/* echo replies that matched (id, seq, payload) */
	int bad_replies;		/* matched id/seq but wrong payload or length */
	int dups;
	int errors;			/* ICMP errors quoting one of our requests */
	uint8_t err_type, err_code;	/* the last error */
	uint32_t err_from;
	uint32_t err_info;		/* bytes 4..7 of the error, host order (mtu = & 0xffff) */
	/* The last reply */
	uint32_t reply_from;
	uint8_t reply_ttl, reply_tos;
	bool reply_df;
	size_t reply_len;		/* ICMP payload bytes */
	uint8_t reply_opts[40];
	size_t reply_opts_len;
	uint64_t rtt_ns;
};

/* ping -c count -s size dst from st (which must be in a world). Returns the number of
 * replies. NULL o = defaults. */
int test_ping(ips_stack *st, uint32_t dst, size_t size, const struct ping_opts *o,
	      struct ping_result *res);

/* ---- Packets ---- */
struct test_ipv4 {
	uint32_t saddr, daddr;
	uint8_t proto;			/* 0 = 253 (RFC 3692 experiment) */
	uint16_t id;
	uint16_t frag_off;		/* bytes, multiple of 8 */
	bool mf, df;
	uint8_t ttl;			/* 0 = 64 */
	uint8_t tos;
	const uint8_t *opts;
	size_t opts_len;		/* multiple of 4 */
	const void *payload;
	size_t len;
	size_t pad_to;			/* extra zero bytes after the payload, not in tot_len */
};
/* A well-formed packet (checksum right) in a new pkb, data and nh at the IPv4 header. */
struct pkb *test_ipv4_build(ips_stack *st, const struct test_ipv4 *h);
/* Hand a built packet to st's IPv4 input as if it arrived on dev (PKB_HOST). */
void test_ipv4_inject(ips_stack *st, const char *dev, struct pkb *pkb);
/* ip4_output() a payload of any protocol (no transport needed). Returns its result. */
int test_send_ip(ips_stack *st, uint32_t daddr, uint8_t proto, const void *payload, size_t len,
		 int ttl, uint8_t tos, int pmtudisc);
/* A payload byte pattern: byte i of a datagram is (i * 7 + seed) & 0xff. */
void test_fill(uint8_t *p, size_t len, unsigned int seed);

/* ---- Capture: every IPv4 packet st hands to dev's driver ---- */
#define TEST_TAP_MAX 4096
struct test_tap {
	ips_stack *st;
	char dev[16];
	size_t n;
	struct test_tap_pkt {
		uint8_t *data;		/* from the IPv4 header */
		size_t len;
	} pkts[TEST_TAP_MAX];
	void *priv;
};
int test_tap_start(struct test_tap *t, ips_stack *st, const char *dev);
void test_tap_stop(struct test_tap *t);	/* frees the copies */

#endif

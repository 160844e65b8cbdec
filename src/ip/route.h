/* The routing tables (Linux's FIB), private to src/ip.
 *
 * Two tables as in a Linux namespace without policy rules: RT_TABLE_LOCAL (255), holding
 * the local and broadcast routes that addresses create, consulted first, then
 * RT_TABLE_MAIN (254). Each table keeps, per prefix length, a hash table of prefixes;
 * a lookup walks the lengths in use from the longest down, so it costs at most 33 hash
 * probes whatever the number of routes (Linux uses an LC-trie with the same answers).
 * Under one prefix the routes are kept in metric order (Linux's fib_alias list order:
 * tos, then priority), and the first usable one wins. */
#ifndef IPS_IP_ROUTE_H
#define IPS_IP_ROUTE_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ip/ip.h"

struct ips_stack;
struct netdev;

/* Linux's ipv4_is_*() (include/linux/in.h); a is in network order. */
static inline uint32_t ip4_h(uint32_t a)
{
	return ntohl(a);
}
/* Only 0.0.0.0 since Linux 5.3 ("Allow 0.0.0.0/8 as a valid address range"): a packet
 * from 0.1.2.3 is delivered by Linux 6.18, and one to 0.1.2.3 is routed as unicast. */
static inline bool ip4_is_zeronet(uint32_t a)
{
	return a == 0;
}
static inline bool ip4_is_loopback(uint32_t a)
{
	return (ip4_h(a) & 0xff000000u) == 0x7f000000u;
}
static inline bool ip4_is_multicast(uint32_t a)
{
	return (ip4_h(a) & 0xf0000000u) == 0xe0000000u;
}
static inline bool ip4_is_local_multicast(uint32_t a)
{
	return (ip4_h(a) & 0xffffff00u) == 0xe0000000u;
}
static inline bool ip4_is_lbcast(uint32_t a)
{
	return a == 0xffffffffu;
}
static inline uint32_t ip4_mask(int plen)
{
	return plen <= 0 ? 0 : htonl(0xffffffffu << (32 - plen));
}

/* RT_SCOPE_* (linux/rtnetlink.h). */
#define FIB_SCOPE_UNIVERSE	0
#define FIB_SCOPE_LINK		253
#define FIB_SCOPE_HOST		254
#define FIB_SCOPE_NOWHERE	255

/* RTPROT_* */
#define FIB_PROTO_KERNEL	2	/* made by an address */
#define FIB_PROTO_BOOT		3	/* `ip route add` */

#define FIB_TABLE_MAIN		254
#define FIB_TABLE_LOCAL		255

struct fib_route {
	struct fib_route *next;		/* same prefix, ascending metric */
	uint32_t dst;			/* prefix (network order, host bits clear) */
	uint8_t plen;
	uint8_t type;			/* enum rtn_type */
	uint8_t scope;			/* FIB_SCOPE_*: the route's scope */
	uint8_t nh_scope;		/* HOST when connected, LINK via a gateway */
	uint8_t proto;			/* FIB_PROTO_* */
	uint8_t table;			/* FIB_TABLE_* */
	bool mtu_lock;
	uint32_t metric;
	uint32_t gw;			/* 0: directly connected */
	uint32_t prefsrc;
	uint32_t mtu;			/* 0: the device's */
	struct netdev *dev;		/* NULL for blackhole/unreachable/prohibit */
};

struct fib_prefix {
	struct fib_prefix *hnext;
	uint32_t key;
	struct fib_route *routes;
};

struct fib_len_table {
	struct fib_prefix **buckets;
	uint32_t nbuckets;		/* power of two, or 0 */
	uint32_t count;			/* prefixes */
};

struct fib_table {
	uint8_t id;
	uint64_t lens_used;		/* bit n: some prefix of length n exists */
	uint32_t nroutes;
	uint32_t salt;
	struct fib_len_table len[33];
};

/* A lookup key (Linux's struct flowi4, the parts we use). */
struct flow4 {
	uint32_t daddr, saddr;
	int oif;			/* 0 = any */
	int iif;
	uint8_t scope;			/* routes of a narrower scope are skipped */
	uint32_t mark;
};

struct fib_result {
	const struct fib_route *r;	/* NULL on error */
	uint8_t type;
	uint8_t scope;
	uint8_t plen;
	uint32_t prefix;
};

void fib_table_init(struct fib_table *tb, uint8_t id, uint32_t salt);
void fib_table_fini(struct fib_table *tb);

/* fib_table_lookup(): 0 with *res, the route type's error for blackhole (-EINVAL),
 * unreachable (-EHOSTUNREACH) and prohibit (-EACCES), or -EAGAIN when nothing matches. */
int fib_table_lookup(const struct fib_table *tb, const struct flow4 *fl, struct fib_result *res);
/* fib_lookup(): local table, then main; no match is -ENETUNREACH. */
int fib_lookup(struct ips_stack *st, const struct flow4 *fl, struct fib_result *res);

/* Insert a copy of *r. excl: -EEXIST when a route with the same prefix and metric is
 * there (NLM_F_EXCL, `ip route add`); otherwise only an identical route is refused
 * (NLM_F_APPEND, what the kernel's own address routes use). */
int fib_insert(struct ips_stack *st, const struct fib_route *r, bool excl);
/* Delete the first route matching *m: dst/plen/table always; type, metric, gw, dev,
 * prefsrc, proto only when non-zero (Linux fib_table_delete()). 0 or -ESRCH. */
int fib_delete(struct ips_stack *st, const struct fib_route *m);
/* Remove every route whose device is dev (any table). */
void fib_flush_dev(struct ips_stack *st, struct netdev *dev);
/* Device down (fib_disable_ip): every route through dev except the local ones. */
void fib_flush_down(struct ips_stack *st, struct netdev *dev);
/* The routes that dev's addresses made (proto kernel). */
void fib_flush_kernel(struct ips_stack *st, struct netdev *dev);
/* Stray routes with a preferred source that is no longer ours (fib_sync_down_addr). */
void fib_flush_prefsrc(struct ips_stack *st, uint32_t prefsrc);

/* The source address Linux's fib_result_prefsrc() gives for a result. */
uint32_t fib_result_prefsrc(const struct fib_result *res);

/* inet_select_addr(): the first primary address on dev of scope <= scope, preferring
 * one in dst's subnet; else any device's (lo first). */
uint32_t ip4_select_addr_scope(const struct netdev *dev, uint32_t dst, int scope);
/* fib_compute_spec_dst(): our address as the sender saddr of a packet that arrived on
 * dev sees it (RR/TS options, ICMP replies); local_unicast when the input route was a
 * plain RTN_LOCAL (not broadcast/multicast): then it is daddr. */
uint32_t route_spec_dst(struct ips_stack *st, struct netdev *dev, uint32_t saddr,
			uint32_t daddr, bool local_unicast);

/* route_output() with the whole flow: dontroute is scope LINK (RTO_ONLINK). */
int route_output_flow(struct ips_stack *st, struct flow4 *fl, struct rt_result *res);

/* Every route, local table first, each table in prefix order (longest first). cb
 * returns nonzero to stop. */
int route_foreach(struct ips_stack *st, int (*cb)(void *arg, const struct fib_route *r),
		  void *arg);
/* `ip route show table all` style line for r, without a newline. */
int route_format(const struct fib_route *r, char *buf, size_t len);
/* The `ip route` name of a route type (RTN_*_): "unicast", "local", "blackhole", ... */
const char *route_type_name(uint8_t type);
/* A type keyword that may start a route spec ("blackhole", "local", ...); 0 if none. */
enum ips_route_type route_type_parse(const char *name);

#endif

/* Long-lived per-remote-address state: Linux's inet_peer (net/ipv4/inetpeer.c).
 *
 * In Linux one inet_peer per address is shared by everything that keeps per-host state,
 * and the sharing is visible: the ICMP error limiter (icmpv4_xrlim_allow), ip_error()
 * and ip_rt_send_redirect() all spend the same rate_tokens, so "these ICMPs are twice
 * limited" (inetpeer.c); and the fragment reassembler counts fragments per source in
 * rid (ip_frag_too_far()). Use this table for all of them so the interplay matches.
 *
 * Times are jiffies: the stack clock in ticks of 1/st->sysctl.hz seconds (Linux's
 * CONFIG_HZ, 250 by default), so that rate limits round exactly as a kernel with that HZ
 * rounds them. */
#ifndef IPS_IP_INETPEER_H
#define IPS_IP_INETPEER_H

#include <stdbool.h>
#include <stdint.h>

struct ips_stack;

struct inet_peer {
	struct inet_peer *next;
	uint32_t daddr;			/* network order */
	uint32_t rate_last;		/* jiffies */
	uint32_t rate_tokens;		/* jiffies' worth of tokens */
	uint32_t n_redirects;
	uint32_t rid;			/* fragments seen from this source (ip_frag_too_far) */
	uint32_t dtime;			/* jiffies of the last use (inet_putpeer) */
	int refcnt;			/* holders besides the table (fragment queues) */
};

/* Jiffies now (u32, wrapping as Linux's do in comparisons). */
uint32_t inet_jiffies(const struct ips_stack *st);
/* msecs_to_jiffies(): rounds up, as Linux does. */
uint32_t inet_msecs_to_jiffies(const struct ips_stack *st, uint32_t ms);
uint32_t inet_hz(const struct ips_stack *st);

/* inet_getpeer_v4(create=1): the peer for addr, created when missing with
 * rate_last = now - 60 s so that the first token computation is at its maximum (as
 * Linux does). NULL only when out of memory. Does not take a reference: the pointer is
 * valid until the next inet_peer_get() unless held. */
struct inet_peer *inet_peer_get(struct ips_stack *st, uint32_t addr);
/* The existing peer for addr, or NULL. */
struct inet_peer *inet_peer_find(struct ips_stack *st, uint32_t addr);
void inet_peer_hold(struct inet_peer *p);
void inet_peer_put(struct ips_stack *st, struct inet_peer *p);

/* Token bucket on p->rate_tokens: earn a token a jiffy since p->rate_last, at most
 * `burst`; true (and `cost` spent) when there are `cost` of them. */
bool inet_peer_take_token(struct ips_stack *st, struct inet_peer *p, uint32_t burst,
			  uint32_t cost);
/* inet_peer_xrlim_allow(): token bucket, `timeout` jiffies per message, a burst of six.
 * p NULL (out of memory) allows. */
bool inet_peer_xrlim_allow(struct ips_stack *st, struct inet_peer *p, uint32_t timeout);

int inet_peers_init(struct ips_stack *st);
void inet_peers_fini(struct ips_stack *st);
unsigned int inet_peers_count(const struct ips_stack *st);

#endif

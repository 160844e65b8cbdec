/* TCP lookup tables: the connection hash (sockets, request sockets and time-waits keyed
 * by the 4-tuple under the stack secret; O(1), grows by doubling), the listener table
 * by local port, and the bind table (port ownership, SO_REUSEADDR rules, RFC 6056
 * ephemeral ports as Linux's __inet_hash_connect). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "transport/tcp_int.h"

#define EHASH_INIT	256
#define BHASH_SIZE	4096
#define LHASH_SIZE	1024

#define container_of(p, type, member) ((type *)(void *)((char *)(p) - offsetof(type, member)))

int tcp_hash_init(struct tcp_state *ts)
{
	ts->ehash = calloc(EHASH_INIT, sizeof(*ts->ehash));
	ts->bhash = calloc(BHASH_SIZE, sizeof(*ts->bhash));
	ts->lh = calloc(LHASH_SIZE, sizeof(*ts->lh));
	if (!ts->ehash || !ts->bhash || !ts->lh) {
		free(ts->ehash);
		free(ts->bhash);
		free(ts->lh);
		return -ENOMEM;
	}
	ts->ehash_mask = EHASH_INIT - 1;
	ts->bhash_mask = BHASH_SIZE - 1;
	ts->lh_mask = LHASH_SIZE - 1;
	ts->st->sysctl.ip.tcp_ehash_entries = EHASH_INIT;
	/* From the stack's key, not its random stream (seeded worlds stay as they were),
	 * and through SipHash, so the seed tells nothing of the key. */
	ts->ehash_secret = (uint32_t)siphash24(ts->st->secret, "inet_ehash_secret", 17);
	return 0;
}

void tcp_hash_fini(struct tcp_state *ts)
{
	/* Requests and time-waits are only reachable from here. */
	for (uint32_t i = 0; i <= ts->ehash_mask; i++) {
		while (ts->ehash[i]) {
			struct tcp_hnode *h = ts->ehash[i];

			if (h->kind == TCP_HK_REQ)
				tcp_req_free(ts, (struct tcp_req *)h);
			else if (h->kind == TCP_HK_TW)
				tcp_tw_free(ts, (struct tcp_tw *)h);
			else
				tcp_ehash_remove(ts, h);
		}
	}
	for (uint32_t i = 0; i <= ts->bhash_mask; i++) {
		while (ts->bhash[i]) {
			struct tcp_bucket *tb = ts->bhash[i];

			ts->bhash[i] = tb->next;
			free(tb);
		}
	}
	for (uint32_t i = 0; i <= ts->lh_mask; i++) {
		while (ts->lh[i]) {
			struct tcp_lnode *l = ts->lh[i];

			ts->lh[i] = l->next;
			free(l);
		}
	}
	free(ts->ehash);
	free(ts->bhash);
	free(ts->lh);
	ts->ehash = NULL;
	ts->bhash = NULL;
	ts->lh = NULL;
}

static inline uint32_t rol32(uint32_t w, unsigned s)
{
	return (w << s) | (w >> (32 - s));
}

/* Linux's inet_ehashfn(): jhash_3words(laddr, faddr, lport << 16 | fport, secret), the
 * secret drawn at random per stack (inet_ehash_secret). The connection hash runs on
 * every segment; jhash's final mix is a fraction of a SipHash (the ISN and the
 * ephemeral port offset keep SipHash, as Linux's secure_tcp_seq and
 * secure_ipv4_port_ephemeral do). */
uint32_t tcp_ehashfn(struct ips_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
		     uint16_t rport)
{
	uint32_t a, b, c, secret = tcp_state_of(st)->ehash_secret;

	a = laddr + 0xdeadbeef;		/* JHASH_INITVAL */
	b = raddr + 0xdeadbeef;
	c = ((uint32_t)lport << 16 | rport) + secret;
	/* __jhash_final() */
	c ^= b; c -= rol32(b, 14);
	a ^= c; a -= rol32(c, 11);
	b ^= a; b -= rol32(a, 25);
	c ^= b; c -= rol32(b, 16);
	a ^= c; a -= rol32(c, 4);
	b ^= a; b -= rol32(a, 14);
	c ^= b; c -= rol32(b, 24);
	return c;
}

static void ehash_link(struct tcp_state *ts, struct tcp_hnode *h)
{
	struct tcp_hnode **head = &ts->ehash[h->hash & ts->ehash_mask];

	h->next = *head;
	if (*head)
		(*head)->pprev = &h->next;
	*head = h;
	h->pprev = head;
}

static void ehash_grow(struct tcp_state *ts)
{
	uint32_t nsize = (ts->ehash_mask + 1) * 2;
	struct tcp_hnode **old = ts->ehash, **n = calloc(nsize, sizeof(*n));
	uint32_t omask = ts->ehash_mask;

	if (!n)
		return;	/* keep the smaller table: slower, still correct */
	ts->ehash = n;
	ts->ehash_mask = nsize - 1;
	for (uint32_t i = 0; i <= omask; i++) {
		for (struct tcp_hnode *h = old[i], *nx; h; h = nx) {
			nx = h->next;
			ehash_link(ts, h);
		}
	}
	free(old);
	ts->st->sysctl.ip.tcp_ehash_entries = (int)nsize;
}

void tcp_ehash_insert(struct tcp_state *ts, struct tcp_hnode *h)
{
	h->hash = tcp_ehashfn(ts->st, h->laddr, h->lport, h->raddr, h->rport);
	if (ts->ehash_count + 1 > ts->ehash_mask + 1)
		ehash_grow(ts);
	ehash_link(ts, h);
	ts->ehash_count++;
}

void tcp_ehash_remove(struct tcp_state *ts, struct tcp_hnode *h)
{
	if (!h->pprev)
		return;
	*h->pprev = h->next;
	if (h->next)
		h->next->pprev = h->pprev;
	h->next = NULL;
	h->pprev = NULL;
	ts->ehash_count--;
}

struct tcp_hnode *tcp_ehash_lookup(struct tcp_state *ts, uint32_t laddr, uint16_t lport,
				   uint32_t raddr, uint16_t rport)
{
	uint32_t hash = tcp_ehashfn(ts->st, laddr, lport, raddr, rport);

	for (struct tcp_hnode *h = ts->ehash[hash & ts->ehash_mask]; h; h = h->next)
		if (h->hash == hash && h->laddr == laddr && h->raddr == raddr && h->lport == lport &&
		    h->rport == rport)
			return h;
	return NULL;
}

/* ---- Listeners ---- */

int tcp_listen_hash(struct tcp_state *ts, struct tcp_sock *tp)
{
	struct tcp_lnode *l = malloc(sizeof(*l));
	uint32_t i = tp->h.lport & ts->lh_mask;

	if (!l)
		return -ENOMEM;
	l->tp = tp;
	l->next = ts->lh[i];
	ts->lh[i] = l;
	return 0;
}

void tcp_listen_unhash(struct tcp_state *ts, struct tcp_sock *tp)
{
	for (struct tcp_lnode **pp = &ts->lh[tp->h.lport & ts->lh_mask]; *pp; pp = &(*pp)->next) {
		if ((*pp)->tp == tp) {
			struct tcp_lnode *l = *pp;

			*pp = l->next;
			free(l);
			return;
		}
	}
}

/* Linux compute_score(): an exact local address beats the wildcard; a bound device must
 * match. */
struct tcp_sock *tcp_listener_lookup(struct tcp_state *ts, uint32_t laddr, uint16_t lport,
				     int ifindex)
{
	struct tcp_sock *best = NULL;
	int best_score = -1;

	for (struct tcp_lnode *l = ts->lh[lport & ts->lh_mask]; l; l = l->next) {
		struct tcp_sock *tp = l->tp;
		int score = 1;

		if (tp->h.lport != lport || tp->state != TCP_LISTEN)
			continue;
		if (tp->h.laddr) {
			if (tp->h.laddr != laddr)
				continue;
			score += 4;
		}
		if (tp->bound_ifindex) {
			if (tp->bound_ifindex != ifindex)
				continue;
			score += 4;
		}
		if (score > best_score) {
			best = tp;
			best_score = score;
		}
	}
	return best;
}

/* ---- Bind table ---- */

static struct tcp_bucket *bucket_find(struct tcp_state *ts, uint16_t port)
{
	for (struct tcp_bucket *tb = ts->bhash[port & ts->bhash_mask]; tb; tb = tb->next)
		if (tb->port == port)
			return tb;
	return NULL;
}

static struct tcp_bucket *bucket_create(struct tcp_state *ts, uint16_t port, int8_t fastreuse)
{
	struct tcp_bucket *tb = calloc(1, sizeof(*tb));

	if (!tb)
		return NULL;
	tb->port = port;
	tb->fastreuse = fastreuse;
	tb->next = ts->bhash[port & ts->bhash_mask];
	ts->bhash[port & ts->bhash_mask] = tb;
	return tb;
}

static void bucket_maybe_free(struct tcp_state *ts, struct tcp_bucket *tb)
{
	if (tb->owners)
		return;
	for (struct tcp_bucket **pp = &ts->bhash[tb->port & ts->bhash_mask]; *pp; pp = &(*pp)->next) {
		if (*pp == tb) {
			*pp = tb->next;
			free(tb);
			return;
		}
	}
}

static void bnode_add(struct tcp_bucket *tb, struct tcp_bnode *b, uint8_t kind)
{
	b->kind = kind;
	b->tb = tb;
	b->next = tb->owners;
	if (tb->owners)
		tb->owners->pprev = &b->next;
	tb->owners = b;
	b->pprev = &tb->owners;
}

void tcp_bnode_put(struct tcp_state *ts, struct tcp_bnode *b)
{
	struct tcp_bucket *tb = b->tb;

	if (!tb)
		return;
	*b->pprev = b->next;
	if (b->next)
		b->next->pprev = b->pprev;
	b->next = NULL;
	b->pprev = NULL;
	b->tb = NULL;
	bucket_maybe_free(ts, tb);
}

void tcp_bnode_inherit(struct tcp_bnode *child, struct tcp_bnode *parent)
{
	if (parent->tb)
		bnode_add(parent->tb, child, child->kind ? child->kind : TCP_HK_SOCK);
}

struct owner_view {
	uint32_t laddr;
	bool reuse, listen;
	int ifindex;
};

static struct owner_view owner_of(const struct tcp_bnode *b)
{
	struct owner_view v;

	if (b->kind == TCP_HK_TW) {
		const struct tcp_tw *tw = container_of(b, struct tcp_tw, b);

		v.laddr = tw->h.laddr;
		v.reuse = tw->reuse;
		v.listen = false;
		v.ifindex = 0;
	} else {
		const struct tcp_sock *tp = container_of(b, struct tcp_sock, b);

		v.laddr = tp->h.laddr;
		v.reuse = tp->reuseaddr;
		v.listen = tp->state == TCP_LISTEN;
		v.ifindex = tp->bound_ifindex;
	}
	return v;
}

uint32_t tcp_sk_laddr(const struct tcp_bnode *b)
{
	return owner_of(b).laddr;
}

/* Linux inet_bind_conflict() (without SO_REUSEPORT): both SO_REUSEADDR and the other
 * not listening, or different devices, or different specific addresses -> no conflict. */
static bool bind_conflict(struct tcp_bucket *tb, struct tcp_sock *tp)
{
	for (struct tcp_bnode *b = tb->owners; b; b = b->next) {
		struct owner_view o;

		if (b == &tp->b)
			continue;
		o = owner_of(b);
		if (tp->bound_ifindex && o.ifindex && tp->bound_ifindex != o.ifindex)
			continue;
		if (tp->reuseaddr && o.reuse && !o.listen)
			continue;
		if (!o.laddr || !tp->h.laddr || o.laddr == tp->h.laddr)
			return true;
	}
	return false;
}

/* inet_sk_get_local_port_range(): the sysctl range, narrowed by the socket's
 * IP_LOCAL_PORT_RANGE where its ends fall inside; true when the socket has one. */
static bool port_range(struct tcp_state *ts, const struct tcp_sock *tp, int *lo, int *hi)
{
	uint32_t r = tp->local_port_range;

	*lo = ts->st->sysctl.ip.ip_local_port_range[0];
	*hi = ts->st->sysctl.ip.ip_local_port_range[1];
	if (*lo <= 0 || *hi < *lo) {
		*lo = 32768;
		*hi = 60999;
	}
	if (!r)
		return false;
	int sk_lo = (int)(r & 0xffff), sk_hi = (int)(r >> 16);

	if (*lo <= sk_lo && sk_lo <= *hi)
		*lo = sk_lo;
	if (*lo <= sk_hi && sk_hi <= *hi)
		*hi = sk_hi;
	return true;
}

/* bind(): port 0 picks a free port of the odd parity first (inet_csk_find_open_port:
 * connect() prefers even ones). */
int tcp_bind_port(struct tcp_state *ts, struct tcp_sock *tp, uint16_t port)
{
	struct tcp_bucket *tb;

	if (tp->b.tb) {
		/* listen() after bind(): re-check against listeners */
		if (bind_conflict(tp->b.tb, tp))
			return -EADDRINUSE;
		return 0;
	}
	if (port) {
		tb = bucket_find(ts, port);
		if (tb && bind_conflict(tb, tp))
			return -EADDRINUSE;
		if (!tb) {
			tb = bucket_create(ts, port, 0);
			if (!tb)
				return -ENOMEM;
		}
		tp->h.lport = port;
		bnode_add(tb, &tp->b, TCP_HK_SOCK);
		return 0;
	}
	int lo, hi;

	port_range(ts, tp, &lo, &hi);
	uint32_t remaining = (uint32_t)(hi - lo + 1);
	uint32_t offset = rng_below(&ts->st->rng, remaining) | 1u;

	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < remaining; i += 2) {
			uint32_t p = (uint32_t)lo + ((offset + i) % remaining);

			if (sysctl_port_reserved(&ts->st->sysctl.ip, p))
				continue;
			tb = bucket_find(ts, (uint16_t)p);
			if (tb && bind_conflict(tb, tp))
				continue;
			if (!tb) {
				tb = bucket_create(ts, (uint16_t)p, 0);
				if (!tb)
					return -ENOMEM;
			}
			tp->h.lport = (uint16_t)p;
			bnode_add(tb, &tp->b, TCP_HK_SOCK);
			return 0;
		}
		offset++;	/* the other parity */
	}
	return -EADDRINUSE;
}

/* __inet_check_established(): is the 4-tuple free (a reusable TIME_WAIT is recycled)?
 * bound: the port was bound before connect() (Linux passes twp == NULL then). */
static int check_established(struct tcp_state *ts, struct tcp_sock *tp, uint16_t lport, bool bound)
{
	struct tcp_hnode *h = tcp_ehash_lookup(ts, tp->h.laddr, lport, tp->h.raddr, tp->h.rport);

	if (!h)
		return 0;
	if (h->kind == TCP_HK_TW && tcp_tw_reusable(ts, (struct tcp_tw *)h, tp, bound)) {
		tcp_tw_free(ts, (struct tcp_tw *)h);
		MIB_INC(ts->st, TcpExtTWRecycled);
		return 0;
	}
	return -EADDRNOTAVAIL;
}

static uint32_t port_offset(struct tcp_state *ts, struct tcp_sock *tp)
{
	uint8_t key[10];

	memcpy(key, &tp->h.laddr, 4);
	memcpy(key + 4, &tp->h.raddr, 4);
	memcpy(key + 8, &tp->h.rport, 2);
	return (uint32_t)siphash24(ts->st->secret, key, sizeof(key));
}

int tcp_hash_connect(struct tcp_state *ts, struct tcp_sock *tp)
{
	struct tcp_bucket *tb;
	int lo, hi, err;

	if (tp->b.tb) {
		err = check_established(ts, tp, tp->h.lport, true);
		if (err < 0)
			return err;
		tcp_ehash_insert(ts, &tp->h);
		return 0;
	}
	/* RFC 6056 3.3.4 (algorithm 4, "double-hash"), as Linux: an offset from a keyed hash
	 * of the destination, perturbed by a per-bucket counter; even ports first. A
	 * per-socket range (IP_LOCAL_PORT_RANGE) is walked port by port, in one pass
	 * (__inet_hash_connect(): step 1, no parity). */
	bool local = port_range(ts, tp, &lo, &hi);
	uint32_t remaining = (uint32_t)(hi - lo + 1);
	uint32_t step = local ? 1 : 2;
	uint32_t po = port_offset(ts, tp);
	uint32_t idx = po & 255;
	uint32_t offset = ((uint32_t)ts->port_table[idx] + (po >> 16)) % remaining;

	if (!local)
		offset &= ~1u;
	for (int pass = 0; pass < (local ? 1 : 2); pass++) {
		for (uint32_t i = 0; i < remaining; i += step) {
			uint32_t p = (uint32_t)lo + ((offset + i) % remaining);

			if (sysctl_port_reserved(&ts->st->sysctl.ip, p))
				continue;
			tb = bucket_find(ts, (uint16_t)p);
			if (tb) {
				if (tb->fastreuse >= 0)
					continue;	/* taken by bind() */
				if (check_established(ts, tp, (uint16_t)p, false) < 0)
					continue;
				/* A recycled TIME_WAIT may have been the bucket's last owner. */
				tb = bucket_find(ts, (uint16_t)p);
			}
			if (!tb) {
				tb = bucket_create(ts, (uint16_t)p, -1);
				if (!tb)
					return -ENOMEM;
			}
			ts->port_table[idx] = (uint16_t)(ts->port_table[idx] + i + step);
			tp->h.lport = (uint16_t)p;
			bnode_add(tb, &tp->b, TCP_HK_SOCK);
			tcp_ehash_insert(ts, &tp->h);
			return 0;
		}
		offset++;
	}
	return -EADDRNOTAVAIL;
}

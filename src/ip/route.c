/* Routing: the FIB tables (local, main), output and input route decisions, address
 * classification, and the `ip route` management calls.
 *
 * Linux sources matched: net/ipv4/fib_trie.c (fib_table_lookup/insert/delete),
 * fib_frontend.c (fib_validate_source, inet_addr_type, fib_compute_spec_dst),
 * fib_semantics.c (fib_check_nh, fib_props), route.c (ip_route_output_key_hash_rcu,
 * __mkroute_output, ip_route_input_slow, __mkroute_input). */
#include "ip/icmp.h"
#include "ip/route.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"
#include "core/sysctl.h"
#include "ip/ip_state.h"
#include "link/netdev.h"

/* fib_props[type].error */
static int fib_type_error(uint8_t type)
{
	switch (type) {
	case RTN_BLACKHOLE_:
		return -EINVAL;
	case RTN_UNREACHABLE_:
		return -EHOSTUNREACH;
	case RTN_PROHIBIT_:
		return -EACCES;
	default:
		return 0;
	}
}

static bool fib_type_is_reject(uint8_t type)
{
	return fib_type_error(type) < 0;
}

/* ---- Tables ---- */

void fib_table_init(struct fib_table *tb, uint8_t id, uint32_t salt)
{
	memset(tb, 0, sizeof(*tb));
	tb->id = id;
	tb->salt = salt;
}

static void fib_prefix_free(struct fib_prefix *p)
{
	for (struct fib_route *r = p->routes, *n; r; r = n) {
		n = r->next;
		free(r);
	}
	free(p);
}

void fib_table_fini(struct fib_table *tb)
{
	for (int l = 0; l <= 32; l++) {
		struct fib_len_table *lt = &tb->len[l];

		for (uint32_t b = 0; b < lt->nbuckets; b++) {
			for (struct fib_prefix *p = lt->buckets[b], *n; p; p = n) {
				n = p->hnext;
				fib_prefix_free(p);
			}
		}
		free(lt->buckets);
	}
	memset(tb->len, 0, sizeof(tb->len));
	tb->lens_used = 0;
	tb->nroutes = 0;
}

static uint32_t fib_hash(const struct fib_table *tb, uint32_t key, uint32_t nbuckets)
{
	uint32_t h = (key ^ tb->salt) * 0x9e3779b1u;

	h ^= h >> 15;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return h & (nbuckets - 1);
}

static struct fib_prefix *fib_prefix_find(const struct fib_table *tb, int plen, uint32_t key)
{
	const struct fib_len_table *lt = &tb->len[plen];

	if (!lt->nbuckets)
		return NULL;
	for (struct fib_prefix *p = lt->buckets[fib_hash(tb, key, lt->nbuckets)]; p; p = p->hnext)
		if (p->key == key)
			return p;
	return NULL;
}

static int fib_len_grow(struct fib_table *tb, struct fib_len_table *lt)
{
	uint32_t n = lt->nbuckets ? lt->nbuckets * 2 : 4;
	struct fib_prefix **nb = calloc(n, sizeof(*nb));

	if (!nb)
		return -ENOMEM;
	for (uint32_t b = 0; b < lt->nbuckets; b++) {
		for (struct fib_prefix *p = lt->buckets[b], *next; p; p = next) {
			uint32_t h = fib_hash(tb, p->key, n);

			next = p->hnext;
			p->hnext = nb[h];
			nb[h] = p;
		}
	}
	free(lt->buckets);
	lt->buckets = nb;
	lt->nbuckets = n;
	return 0;
}

static struct fib_prefix *fib_prefix_get(struct fib_table *tb, int plen, uint32_t key)
{
	struct fib_len_table *lt = &tb->len[plen];
	struct fib_prefix *p = fib_prefix_find(tb, plen, key);
	uint32_t h;

	if (p)
		return p;
	if (lt->count + 1 > lt->nbuckets && fib_len_grow(tb, lt) < 0)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->key = key;
	h = fib_hash(tb, key, lt->nbuckets);
	p->hnext = lt->buckets[h];
	lt->buckets[h] = p;
	lt->count++;
	tb->lens_used |= 1ull << plen;
	return p;
}

static void fib_prefix_remove(struct fib_table *tb, int plen, struct fib_prefix *p)
{
	struct fib_len_table *lt = &tb->len[plen];
	struct fib_prefix **pp = &lt->buckets[fib_hash(tb, p->key, lt->nbuckets)];

	while (*pp != p)
		pp = &(*pp)->hnext;
	*pp = p->hnext;
	free(p);
	if (--lt->count == 0)
		tb->lens_used &= ~(1ull << plen);
}

static struct fib_table *fib_table_get(struct ips_stack *st, uint8_t id)
{
	return id == FIB_TABLE_LOCAL ? &st->ip->local : &st->ip->main;
}

/* fib_lookup_good_nhc() plus the alias checks of fib_table_lookup(). Returns 1 usable,
 * 0 skip, or the route type's error. */
static int fib_route_usable(const struct fib_route *r, const struct flow4 *fl)
{
	if (r->scope < fl->scope)
		return 0;
	if (fib_type_is_reject(r->type))
		return fib_type_error(r->type);
	if (!r->dev)
		return 0;
	if (fl->oif && fl->oif != r->dev->ifindex)
		return 0;
	return 1;
}

int fib_table_lookup(const struct fib_table *tb, const struct flow4 *fl, struct fib_result *res)
{
	uint64_t used = tb->lens_used;

	while (used) {
		int plen = 63 - __builtin_clzll(used);
		uint32_t key = fl->daddr & ip4_mask(plen);
		const struct fib_prefix *p;

		used &= ~(1ull << plen);
		p = fib_prefix_find(tb, plen, key);
		if (!p)
			continue;
		/* Backtracking to shorter prefixes when no alias of this one is usable is
		 * what fib_trie does too. */
		for (const struct fib_route *r = p->routes; r; r = r->next) {
			int ok = fib_route_usable(r, fl);

			if (ok < 0) {
				res->r = NULL;
				res->type = r->type;
				return ok;
			}
			if (!ok)
				continue;
			res->r = r;
			res->type = r->type;
			res->scope = r->scope;
			res->plen = (uint8_t)plen;
			res->prefix = key;
			return 0;
		}
	}
	return -EAGAIN;
}

int fib_lookup(struct ips_stack *st, const struct flow4 *fl, struct fib_result *res)
{
	int err = fib_table_lookup(&st->ip->local, fl, res);

	if (err == -EAGAIN)
		err = fib_table_lookup(&st->ip->main, fl, res);
	return err == -EAGAIN ? -ENETUNREACH : err;
}

static bool fib_route_same(const struct fib_route *a, const struct fib_route *b)
{
	return a->type == b->type && a->metric == b->metric && a->gw == b->gw &&
	       a->dev == b->dev && a->prefsrc == b->prefsrc && a->scope == b->scope &&
	       a->mtu == b->mtu;
}

int fib_insert(struct ips_stack *st, const struct fib_route *tmpl, bool excl)
{
	struct fib_table *tb = fib_table_get(st, tmpl->table);
	uint32_t key = tmpl->dst & ip4_mask(tmpl->plen);
	struct fib_prefix *p = fib_prefix_find(tb, tmpl->plen, key);
	struct fib_route *r, **pp;

	if (p) {
		for (r = p->routes; r; r = r->next) {
			if (excl && r->metric == tmpl->metric)
				return -EEXIST;
			if (!excl && fib_route_same(r, tmpl))
				return -EEXIST;
		}
	} else {
		p = fib_prefix_get(tb, tmpl->plen, key);
		if (!p)
			return -ENOMEM;
	}
	r = malloc(sizeof(*r));
	if (!r) {
		if (!p->routes)
			fib_prefix_remove(tb, tmpl->plen, p);
		return -ENOMEM;
	}
	*r = *tmpl;
	r->dst = key;
	for (pp = &p->routes; *pp && (*pp)->metric <= r->metric; pp = &(*pp)->next)
		;
	r->next = *pp;
	*pp = r;
	tb->nroutes++;
	return 0;
}

static bool fib_route_matches(const struct fib_route *r, const struct fib_route *m)
{
	return (!m->type || r->type == m->type) && (!m->metric || r->metric == m->metric) &&
	       (!m->gw || r->gw == m->gw) && (!m->dev || r->dev == m->dev) &&
	       (!m->prefsrc || r->prefsrc == m->prefsrc) && (!m->proto || r->proto == m->proto);
}

int fib_delete(struct ips_stack *st, const struct fib_route *m)
{
	struct fib_table *tb = fib_table_get(st, m->table);
	uint32_t key = m->dst & ip4_mask(m->plen);
	struct fib_prefix *p = fib_prefix_find(tb, m->plen, key);

	if (!p || key != m->dst)
		return -ESRCH;
	for (struct fib_route **pp = &p->routes; *pp; pp = &(*pp)->next) {
		struct fib_route *r = *pp;

		if (!fib_route_matches(r, m))
			continue;
		*pp = r->next;
		free(r);
		tb->nroutes--;
		if (!p->routes)
			fib_prefix_remove(tb, m->plen, p);
		return 0;
	}
	return -ESRCH;
}

/* Remove the routes matching dev (NULL: any), proto (0: any), prefsrc (0: any); keep
 * local routes when keep_local. */
static void fib_table_flush(struct fib_table *tb, struct netdev *dev, uint8_t proto,
			    uint32_t prefsrc, bool keep_local)
{
	for (int l = 0; l <= 32; l++) {
		struct fib_len_table *lt = &tb->len[l];

		for (uint32_t b = 0; b < lt->nbuckets; b++) {
			for (struct fib_prefix *p = lt->buckets[b], *pn; p; p = pn) {
				pn = p->hnext;
				for (struct fib_route **pp = &p->routes; *pp;) {
					struct fib_route *r = *pp;

					if ((dev && r->dev != dev) || (proto && r->proto != proto) ||
					    (prefsrc && r->prefsrc != prefsrc) ||
					    (keep_local && r->type == RTN_LOCAL_)) {
						pp = &r->next;
						continue;
					}
					*pp = r->next;
					free(r);
					tb->nroutes--;
				}
				if (!p->routes)
					fib_prefix_remove(tb, l, p);
			}
		}
	}
}

void fib_flush_dev(struct ips_stack *st, struct netdev *dev)
{
	fib_table_flush(&st->ip->local, dev, 0, 0, false);
	fib_table_flush(&st->ip->main, dev, 0, 0, false);
}

void fib_flush_down(struct ips_stack *st, struct netdev *dev)
{
	fib_table_flush(&st->ip->local, dev, 0, 0, true);
	fib_table_flush(&st->ip->main, dev, 0, 0, true);
}

void fib_flush_kernel(struct ips_stack *st, struct netdev *dev)
{
	fib_table_flush(&st->ip->local, dev, FIB_PROTO_KERNEL, 0, false);
	fib_table_flush(&st->ip->main, dev, FIB_PROTO_KERNEL, 0, false);
}

void fib_flush_prefsrc(struct ips_stack *st, uint32_t prefsrc)
{
	fib_table_flush(&st->ip->local, NULL, 0, prefsrc, false);
	fib_table_flush(&st->ip->main, NULL, 0, prefsrc, false);
}

uint32_t fib_result_prefsrc(const struct fib_result *res)
{
	const struct fib_route *r = res->r;

	if (!r)
		return 0;
	if (r->prefsrc)
		return r->prefsrc;
	return r->dev ? ip4_select_addr_scope(r->dev, r->gw, r->scope) : 0;
}

/* ---- Address classification ---- */

/* __inet_dev_addr_type() on the local table, any device. */
enum rtn_type route_addr_type(struct ips_stack *st, uint32_t addr)
{
	struct flow4 fl = { .daddr = addr };
	struct fib_result res;

	if (ip4_is_zeronet(addr) || ip4_is_lbcast(addr))
		return RTN_BROADCAST_;
	if (ip4_is_multicast(addr))
		return RTN_MULTICAST_;
	if (fib_table_lookup(&st->ip->local, &fl, &res) == 0)
		return (enum rtn_type)res.type;
	return RTN_UNICAST_;
}

/* ---- Output routes ---- */

static uint32_t route_mtu(struct ips_stack *st, const struct fib_route *r, struct netdev *dev,
			  uint32_t daddr, bool *locked)
{
	uint32_t mtu = dev ? dev->mtu : 0;
	struct pmtu_info pi;

	*locked = false;
	if (r && r->mtu) {
		mtu = r->mtu;
		if (r->mtu_lock) {
			*locked = true;
			return mtu;
		}
	}
	/* ipv4_mtu(): a learned path MTU (fnhe) overrides, never above the route's; one
	 * learned from a report below min_pmtu is locked (DF off, as Linux's mtu lock). */
	if (pmtu_lookup(st, daddr, &pi) && pi.mtu && pi.mtu < mtu) {
		mtu = pi.mtu;
		*locked = pi.locked;
	}
	return mtu;
}

int route_output_flow(struct ips_stack *st, struct flow4 *fl, struct rt_result *res)
{
	struct netdev *dev_out = NULL;
	struct fib_result fr = { 0 };
	enum rtn_type type = RTN_UNICAST_;
	uint32_t daddr = fl->daddr;
	bool have_fr = false;
	int err;

	memset(res, 0, sizeof(*res));
	if (fl->saddr) {
		if (ip4_is_multicast(fl->saddr) || ip4_is_lbcast(fl->saddr) ||
		    ip4_is_zeronet(fl->saddr))
			return -EINVAL;
		if (!fl->oif && (ip4_is_multicast(daddr) || ip4_is_lbcast(daddr))) {
			/* Linux: a broadcast/multicast sent from a given source goes out of
			 * that source's device. */
			dev_out = ip4_local_dev(st, fl->saddr);
			if (!dev_out)
				return -ENETUNREACH;
			fl->oif = dev_out->ifindex;
			goto make_route;
		}
		if (!ip4_local_dev(st, fl->saddr))
			return -ENETUNREACH;
	}
	if (fl->oif) {
		dev_out = stack_dev_by_index(st, fl->oif);
		if (!dev_out)
			return -ENODEV;
		if (!netdev_is_up(dev_out))
			return -ENETUNREACH;
		if (ip4_is_local_multicast(daddr) || ip4_is_lbcast(daddr)) {
			if (!fl->saddr)
				fl->saddr = ip4_select_addr_scope(dev_out, 0, FIB_SCOPE_LINK);
			goto make_route;
		}
		if (!fl->saddr) {
			if (ip4_is_multicast(daddr))
				fl->saddr = ip4_select_addr_scope(dev_out, 0, fl->scope);
			else if (!daddr)
				fl->saddr = ip4_select_addr_scope(dev_out, 0, FIB_SCOPE_HOST);
		}
	}
	if (!daddr) {
		/* Linux sends to 0.0.0.0 as to the source address, or 127.0.0.1. */
		daddr = fl->daddr = fl->saddr;
		if (!daddr)
			daddr = fl->daddr = fl->saddr = htonl(0x7f000001);
		dev_out = st->lo;
		type = RTN_LOCAL_;
		goto make_route;
	}
	err = fib_lookup(st, fl, &fr);
	if (err) {
		if (fl->oif) {
			/* "Apparently, routing tables are wrong. Assume that the destination
			 * is on link." */
			if (!fl->saddr)
				fl->saddr = ip4_select_addr_scope(dev_out, 0, FIB_SCOPE_LINK);
			goto make_route;
		}
		return err;
	}
	have_fr = true;
	type = (enum rtn_type)fr.type;
	if (type == RTN_LOCAL_) {
		if (!fl->saddr)
			fl->saddr = fr.r->prefsrc ? fr.r->prefsrc : daddr;
		dev_out = st->lo;
		goto make_route;
	}
	dev_out = fr.r->dev;
	if (!fl->saddr)
		fl->saddr = fib_result_prefsrc(&fr);

make_route:
	/* __mkroute_output() */
	if (!dev_out)
		return -EINVAL;
	if (ip4_is_loopback(fl->saddr) && dev_out->type != NETDEV_LOOPBACK)
		return -EINVAL;
	if (ip4_is_lbcast(daddr))
		type = RTN_BROADCAST_;
	else if (ip4_is_multicast(daddr))
		type = RTN_MULTICAST_;
	else if (ip4_is_zeronet(daddr))
		return -EINVAL;

	res->type = type;
	res->dev = dev_out;
	res->prefsrc = fl->saddr;
	res->nexthop = daddr;
	if (have_fr && type == RTN_UNICAST_ && fr.r->gw && fr.r->nh_scope == FIB_SCOPE_LINK) {
		res->nexthop = fr.r->gw;
		res->gateway = true;
	}
	if (have_fr && type == RTN_UNICAST_ && fr.r->type == RTN_UNICAST_) {
		/* rt_bind_exception(): a gateway learned from an ICMP redirect. */
		uint32_t gw = pmtu_gateway_get(st, daddr);

		if (gw) {
			res->nexthop = gw;
			res->gateway = true;
		}
	}
	res->mtu = route_mtu(st, have_fr && type != RTN_BROADCAST_ ? fr.r : NULL, dev_out, daddr,
			     &res->pmtu_locked);
	return 0;
}

int route_output(struct ips_stack *st, uint32_t daddr, uint32_t saddr, int oif, uint32_t mark,
		 struct rt_result *res)
{
	struct flow4 fl = { .daddr = daddr, .saddr = saddr, .oif = oif, .mark = mark };

	return route_output_flow(st, &fl, res);
}

/* ---- Input routes ---- */

/* fib_validate_source(): is saddr an acceptable source for a packet arriving on dev?
 * Returns < 0 (-EINVAL martian, -EXDEV reverse path filter), else 1 when the source is
 * reached directly through dev (nexthop scope host), 0 otherwise. oif is the output
 * interface when forwarding (0 for local delivery). */
static int fib_validate_source(struct ips_stack *st, uint32_t src, uint32_t dst, int oif,
			       struct netdev *dev)
{
	const struct sysctl_ns *ns = &st->sysctl;
	int rpf = in_dev_rpfilter(ns, &dev->conf);
	struct flow4 fl = { .daddr = src, .saddr = dst, .iif = oif ? oif : 1 };
	struct fib_result res;
	bool no_addr = !dev->in || !dev->in->ifa_list;

	if (!rpf && (dev->ifindex != oif || !in_dev_tx_redirects(ns, &dev->conf))) {
		if (in_dev_accept_local(ns, &dev->conf))
			return 0;
		/* Without custom local routes Linux only checks that the source is not
		 * one of our addresses. */
		if (ip4_local_dev(st, src))
			return -EINVAL;
		return 0;
	}
	/* __fib_validate_source() */
	if (fib_lookup(st, &fl, &res))
		goto last_resort;
	if (res.type != RTN_UNICAST_ &&
	    (res.type != RTN_LOCAL_ || !in_dev_accept_local(ns, &dev->conf)))
		return -EINVAL;
	if (res.r->dev == dev || (res.type == RTN_LOCAL_ && dev == st->lo))
		return res.r->nh_scope >= FIB_SCOPE_HOST;
	if (no_addr)
		goto last_resort;
	if (rpf == 1)
		return -EXDEV;
	fl.oif = dev->ifindex;
	if (fib_lookup(st, &fl, &res) == 0 && res.type == RTN_UNICAST_)
		return res.r->nh_scope >= FIB_SCOPE_HOST;
	return 0;
last_resort:
	if (rpf)
		return -EXDEV;
	return 0;
}

/* inet_addr_onlink(): is a (and b, if set) inside one of dev's primary subnets? */
static bool ip4_addr_onlink(const struct netdev *dev, uint32_t a, uint32_t b)
{
	if (!dev->in)
		return false;
	for (const struct in_ifaddr *ifa = dev->in->ifa_list; ifa; ifa = ifa->next) {
		if (ifa->secondary)
			continue;
		if (((a ^ ifa->local) & ifa->mask) == 0 && (!b || ((b ^ ifa->local) & ifa->mask) == 0))
			return true;
	}
	return false;
}

/* The forwarding MTU: ip_dst_mtu_maybe_forward(dst, true) with ip_forward_use_pmtu=0 —
 * the route's MTU metric, else the device's; learned PMTUs only count when locked. */
static uint32_t route_forward_mtu(const struct fib_route *r, struct netdev *dev)
{
	if (r && r->mtu)
		return r->mtu;
	return dev->mtu;
}

int route_input(struct ips_stack *st, struct netdev *dev, uint32_t daddr, uint32_t saddr,
		struct rt_result *res)
{
	const struct sysctl_ns *ns = &st->sysctl;
	struct flow4 fl = { .daddr = daddr, .saddr = saddr, .iif = dev->ifindex };
	struct fib_result fr;
	int err;

	memset(res, 0, sizeof(*res));

	if (ip4_is_multicast(daddr)) {
		/* ip_route_input_rcu() -> ip_check_mc_rcu(): until IGMP keeps group
		 * memberships, every multicast-capable device is in all-hosts. */
		if (daddr != htonl(0xe0000001))
			return -EINVAL;
		/* ip_route_input_mc() */
		if (ip4_is_multicast(saddr) || ip4_is_lbcast(saddr))
			return -EINVAL;
		if (ip4_is_loopback(saddr) && !in_dev_route_localnet(ns, &dev->conf))
			return -EINVAL;
		if (!ip4_is_zeronet(saddr)) {
			err = fib_validate_source(st, saddr, 0, 0, dev);
			if (err < 0)
				return err;
		} else if (!ip4_is_local_multicast(daddr)) {
			return -EINVAL;
		}
		res->type = RTN_MULTICAST_;
		res->dev = dev;
		return 0;
	}

	/* ip_route_input_slow(): the weird martians fib_lookup cannot see. */
	if (ip4_is_multicast(saddr) || ip4_is_lbcast(saddr))
		return -EINVAL;
	if (ip4_is_lbcast(daddr) || (saddr == 0 && daddr == 0))
		goto brd_input;
	/* "Accept zero addresses only to limited broadcast" */
	if (ip4_is_zeronet(saddr))
		return -EINVAL;
	if (ip4_is_zeronet(daddr))
		return -EINVAL;
	if (ip4_is_loopback(daddr)) {
		if (!in_dev_route_localnet(ns, &dev->conf))
			return -EINVAL;
	} else if (ip4_is_loopback(saddr)) {
		if (!in_dev_route_localnet(ns, &dev->conf))
			return -EINVAL;
	}

	err = fib_lookup(st, &fl, &fr);
	if (err) {
		if (!in_dev_forward(ns, &dev->conf))
			err = -EHOSTUNREACH;
		goto no_route;
	}
	if (fr.type == RTN_BROADCAST_) {
		if (in_dev_bforward(ns, &dev->conf))
			goto make_route;
		goto brd_input;
	}
	if (fr.type == RTN_LOCAL_) {
		err = fib_validate_source(st, saddr, daddr, 0, dev);
		if (err < 0)
			return err;
		res->type = RTN_LOCAL_;
		res->dev = st->lo;
		res->prefsrc = daddr;
		return 0;
	}
	if (!in_dev_forward(ns, &dev->conf)) {
		err = -EHOSTUNREACH;
		goto no_route;
	}
	if (fr.type != RTN_UNICAST_)
		return -EINVAL;	/* martian destination */

make_route:
	/* __mkroute_input() */
	err = fib_validate_source(st, saddr, daddr, fr.r->dev->ifindex, dev);
	if (err < 0)
		return err;
	if (fr.r->dev == dev && err && in_dev_tx_redirects(ns, &fr.r->dev->conf)) {
		uint32_t gw = fr.r->gw;

		if (in_dev_shared_media(ns, &dev->conf) || ip4_addr_onlink(dev, saddr, gw))
			res->redirect = true;
	}
	res->type = (enum rtn_type)fr.type;
	res->dev = fr.r->dev;
	res->nexthop = daddr;
	if (fr.r->gw && fr.r->nh_scope == FIB_SCOPE_LINK) {
		res->nexthop = fr.r->gw;
		res->gateway = true;
	}
	res->prefsrc = fib_result_prefsrc(&fr);
	res->mtu = route_forward_mtu(fr.r, fr.r->dev);
	res->pmtu_locked = fr.r->mtu_lock;
	return 0;

brd_input:
	if (!ip4_is_zeronet(saddr)) {
		err = fib_validate_source(st, saddr, 0, 0, dev);
		if (err < 0)
			return err;
	}
	res->type = RTN_BROADCAST_;
	res->dev = st->lo;
	return 0;

no_route:
	/* An "unreachable" input route: ip_error() decides after the options. */
	res->type = RTN_UNREACHABLE_;
	res->error = err;
	res->dev = dev;
	return 0;
}

/* fib_compute_spec_dst(): our address as the sender of pkt (saddr) sees it, for the
 * RR/TS options and ICMP replies. local_unicast: the input route was RTN_LOCAL. */
uint32_t route_spec_dst(struct ips_stack *st, struct netdev *dev, uint32_t saddr,
			uint32_t daddr, bool local_unicast)
{
	struct flow4 fl = { .daddr = saddr, .iif = 1 };
	struct fib_result fr;
	int scope = FIB_SCOPE_UNIVERSE;

	if (local_unicast)
		return daddr;
	if (!ip4_is_zeronet(saddr)) {
		if (fib_lookup(st, &fl, &fr) == 0)
			return fib_result_prefsrc(&fr);
	} else {
		scope = FIB_SCOPE_LINK;
	}
	return ip4_select_addr_scope(dev, saddr, scope);
}

/* ---- Walking and printing ---- */

static int fib_table_walk(struct fib_table *tb, int (*cb)(void *arg, const struct fib_route *r),
			  void *arg)
{
	/* Sorted output: collect the prefixes of each length, sort by address. */
	for (int l = 32; l >= 0; l--) {
		struct fib_len_table *lt = &tb->len[l];
		struct fib_prefix **v;
		uint32_t n = 0;
		int rc = 0;

		if (!lt->count)
			continue;
		v = malloc(lt->count * sizeof(*v));
		if (!v)
			return -ENOMEM;
		for (uint32_t b = 0; b < lt->nbuckets; b++)
			for (struct fib_prefix *p = lt->buckets[b]; p; p = p->hnext)
				v[n++] = p;
		for (uint32_t i = 1; i < n; i++) {
			struct fib_prefix *x = v[i];
			uint32_t j = i;

			while (j > 0 && ntohl(v[j - 1]->key) > ntohl(x->key)) {
				v[j] = v[j - 1];
				j--;
			}
			v[j] = x;
		}
		for (uint32_t i = 0; i < n && !rc; i++)
			for (const struct fib_route *r = v[i]->routes; r && !rc; r = r->next)
				rc = cb(arg, r);
		free(v);
		if (rc)
			return rc;
	}
	return 0;
}

int route_foreach(struct ips_stack *st, int (*cb)(void *arg, const struct fib_route *r), void *arg)
{
	int rc = fib_table_walk(&st->ip->main, cb, arg);

	if (!rc)
		rc = fib_table_walk(&st->ip->local, cb, arg);
	return rc;
}

const char *route_type_name(uint8_t type)
{
	switch (type) {
	case RTN_LOCAL_:
		return "local";
	case RTN_BROADCAST_:
		return "broadcast";
	case RTN_BLACKHOLE_:
		return "blackhole";
	case RTN_UNREACHABLE_:
		return "unreachable";
	case RTN_PROHIBIT_:
		return "prohibit";
	case RTN_MULTICAST_:
		return "multicast";
	case RTN_ANYCAST_:
		return "anycast";
	default:
		return "unicast";
	}
}

enum ips_route_type route_type_parse(const char *name)
{
	static const struct {
		const char *name;
		enum ips_route_type type;
	} types[] = {
		{ "unicast", IPS_RT_UNICAST },	   { "local", IPS_RT_LOCAL },
		{ "broadcast", IPS_RT_BROADCAST }, { "blackhole", IPS_RT_BLACKHOLE },
		{ "unreachable", IPS_RT_UNREACHABLE }, { "prohibit", IPS_RT_PROHIBIT },
	};

	for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++)
		if (strcmp(name, types[k].name) == 0)
			return types[k].type;
	return 0;
}

static const char *ip4_str(uint32_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

int route_format(const struct fib_route *r, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];
	size_t n = 0;

#define OUT(...)                                                                  \
	do {                                                                      \
		int k_ = snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__);   \
		if (k_ > 0)                                                       \
			n += (size_t)k_;                                          \
	} while (0)
	if (r->type != RTN_UNICAST_)
		OUT("%s ", route_type_name(r->type));
	if (r->plen == 0 && r->table == FIB_TABLE_MAIN)
		OUT("default");
	else if (r->plen == 32)
		OUT("%s", ip4_str(r->dst, a));
	else
		OUT("%s/%u", ip4_str(r->dst, a), r->plen);
	if (r->gw)
		OUT(" via %s", ip4_str(r->gw, a));
	if (r->dev)
		OUT(" dev %s", r->dev->name);
	if (r->table == FIB_TABLE_LOCAL)
		OUT(" table local");
	if (r->proto == FIB_PROTO_KERNEL)
		OUT(" proto kernel");
	if (r->scope == FIB_SCOPE_HOST)
		OUT(" scope host");
	else if (r->scope == FIB_SCOPE_LINK)
		OUT(" scope link");
	if (r->prefsrc)
		OUT(" src %s", ip4_str(r->prefsrc, a));
	if (r->metric)
		OUT(" metric %u", r->metric);
	if (r->mtu)
		OUT(" mtu %s%u", r->mtu_lock ? "lock " : "", r->mtu);
#undef OUT
	return (int)n;
}

/* ---- `ip route add/del` ---- */

static uint8_t route_type_from_public(enum ips_route_type t)
{
	switch (t) {
	case IPS_RT_LOCAL:
		return RTN_LOCAL_;
	case IPS_RT_BROADCAST:
		return RTN_BROADCAST_;
	case IPS_RT_BLACKHOLE:
		return RTN_BLACKHOLE_;
	case IPS_RT_UNREACHABLE:
		return RTN_UNREACHABLE_;
	case IPS_RT_PROHIBIT:
		return RTN_PROHIBIT_;
	case IPS_RT_UNICAST:
		return RTN_UNICAST_;
	default:
		return 0;
	}
}

/* fib_create_info() + fib_check_nh() for one `ip route add`; fills r. */
static int route_build(struct ips_stack *st, const struct ips_route *u, struct fib_route *r)
{
	uint32_t dst = u->dst.s_addr;
	struct netdev *dev = NULL;

	memset(r, 0, sizeof(*r));
	if (u->prefixlen < 0 || u->prefixlen > 32)
		return -EINVAL;
	if (dst & ~ip4_mask(u->prefixlen))
		return -EINVAL;	/* "Invalid prefix for given prefix length" */
	r->dst = dst;
	r->plen = (uint8_t)u->prefixlen;
	r->type = u->type ? route_type_from_public(u->type) : RTN_UNICAST_;
	if (!r->type)
		return -EINVAL;
	r->metric = u->metric;
	r->mtu = u->mtu;
	r->proto = FIB_PROTO_BOOT;
	r->prefsrc = u->prefsrc.s_addr;
	/* iproute2's defaults: local/broadcast routes go to the local table; scope host
	 * for local, link for broadcast and gateway-less unicast, universe otherwise. */
	r->table = (r->type == RTN_LOCAL_ || r->type == RTN_BROADCAST_) ? FIB_TABLE_LOCAL
									 : FIB_TABLE_MAIN;
	if (r->type == RTN_LOCAL_)
		r->scope = FIB_SCOPE_HOST;
	else if (r->type == RTN_BROADCAST_ || (r->type == RTN_UNICAST_ && !u->gateway.s_addr))
		r->scope = FIB_SCOPE_LINK;
	else
		r->scope = FIB_SCOPE_UNIVERSE;

	if (u->dev) {
		dev = stack_dev_by_name(st, u->dev);
		if (!dev)
			return -ENODEV;
	}
	if (fib_type_is_reject(r->type)) {
		/* "Gateway, device and multipath can not be specified for this route type" */
		if (u->gateway.s_addr || dev)
			return -EINVAL;
		goto check_src;
	}
	if (r->scope == FIB_SCOPE_HOST) {
		if (u->gateway.s_addr)
			return -EINVAL;	/* "Route with host scope can not have a gateway" */
		if (!dev)
			return -ENODEV;
		r->dev = dev;
		r->nh_scope = FIB_SCOPE_NOWHERE;
		goto check_src;
	}
	if (u->gateway.s_addr) {
		/* fib_check_nh_v4_gw(): the gateway must be reachable through a connected
		 * (scope link or narrower) unicast or local route. */
		struct flow4 fl = { .daddr = u->gateway.s_addr, .oif = dev ? dev->ifindex : 0,
				    .scope = FIB_SCOPE_LINK };
		struct fib_result fr;
		int err = fib_lookup(st, &fl, &fr);

		if (err)
			return err;
		if (fr.type != RTN_UNICAST_ && fr.type != RTN_LOCAL_)
			return -EINVAL;
		r->gw = u->gateway.s_addr;
		r->nh_scope = FIB_SCOPE_LINK;
		r->dev = fr.r->dev;
		if (!r->dev)
			return -EINVAL;
		if (!netdev_is_up(r->dev))
			return -ENETDOWN;
	} else {
		/* fib_check_nh_nongw() */
		if (!dev)
			return -ENODEV;
		if (!netdev_is_up(dev))
			return -ENETDOWN;
		r->dev = dev;
		r->nh_scope = FIB_SCOPE_HOST;
	}
check_src:
	/* fib_valid_prefsrc(): the preferred source must be one of our addresses. */
	if (r->prefsrc && !(r->type == RTN_LOCAL_ && r->prefsrc == r->dst) &&
	    route_addr_type(st, r->prefsrc) != RTN_LOCAL_)
		return -EINVAL;
	return 0;
}

static int route_add(ips_stack *st, const struct ips_route *u, bool mtu_lock)
{
	struct fib_route r;
	int err;

	if (!st || !u)
		return -EINVAL;
	stack_lock(st);
	err = route_build(st, u, &r);
	if (!err) {
		r.mtu_lock = mtu_lock && r.mtu;
		err = fib_insert(st, &r, true);
	}
	stack_unlock(st);
	return err;
}

IPS_API int ips_route_add(ips_stack *st, const struct ips_route *u)
{
	return route_add(st, u, false);
}

IPS_API int ips_route_del(ips_stack *st, const struct ips_route *u)
{
	struct fib_route m = { 0 };
	int err = 0;

	if (!st || !u || u->prefixlen < 0 || u->prefixlen > 32)
		return -EINVAL;
	stack_lock(st);
	m.dst = u->dst.s_addr;
	m.plen = (uint8_t)u->prefixlen;
	m.type = u->type ? route_type_from_public(u->type) : 0;
	m.table = (m.type == RTN_LOCAL_ || m.type == RTN_BROADCAST_) ? FIB_TABLE_LOCAL
								     : FIB_TABLE_MAIN;
	m.metric = u->metric;
	m.gw = u->gateway.s_addr;
	m.prefsrc = u->prefsrc.s_addr;
	if (u->dev) {
		m.dev = stack_dev_by_name(st, u->dev);
		if (!m.dev)
			err = -ENODEV;
	}
	if (!err)
		err = fib_delete(st, &m);
	stack_unlock(st);
	return err;
}

/* "A.B.C.D[/LEN]" or "default". */
static int parse_prefix(const char *s, uint32_t *addr, int *plen)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	struct in_addr a;

	if (strcmp(s, "default") == 0 || strcmp(s, "all") == 0 || strcmp(s, "any") == 0) {
		*addr = 0;
		*plen = 0;
		return 0;
	}
	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*addr = a.s_addr;
	*plen = 32;
	if (slash) {
		char *end;
		long v = strtol(slash + 1, &end, 10);

		if (!slash[1] || *end || v < 0 || v > 32)
			return -EINVAL;
		*plen = (int)v;
	}
	return 0;
}

static int parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long x;

	if (!s || !*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	x = strtoul(s, &end, 0);
	if (*end || x > 0xffffffffu)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

IPS_API int ips_route_add_str(ips_stack *st, const char *spec)
{
	char buf[256], dev[IFNAMSIZ] = "";
	char *tok[32], *save = NULL;
	struct ips_route r = { 0 };
	int ntok = 0, i = 0;
	bool have_dst = false, mtu_lock = false;

	if (!st || !spec || strlen(spec) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, spec);
	for (char *t = strtok_r(buf, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
		if (ntok == 32)
			return -EINVAL;
		tok[ntok++] = t;
	}
	if (i < ntok && (r.type = route_type_parse(tok[i])) != 0)
		i++;
	for (; i < ntok; i++) {
		const char *t = tok[i], *arg = i + 1 < ntok ? tok[i + 1] : NULL;
		struct in_addr a;

		if (strcmp(t, "via") == 0 || strcmp(t, "gw") == 0) {
			if (!arg || inet_pton(AF_INET, arg, &a) != 1)
				return -EINVAL;
			r.gateway = a;
			i++;
		} else if (strcmp(t, "dev") == 0 || strcmp(t, "oif") == 0) {
			if (!arg || strlen(arg) >= sizeof(dev))
				return -EINVAL;
			strcpy(dev, arg);
			r.dev = dev;
			i++;
		} else if (strcmp(t, "metric") == 0 || strcmp(t, "priority") == 0 ||
			   strcmp(t, "preference") == 0) {
			if (parse_u32(arg, &r.metric))
				return -EINVAL;
			i++;
		} else if (strcmp(t, "mtu") == 0) {
			if (arg && strcmp(arg, "lock") == 0) {
				mtu_lock = true;
				arg = ++i + 1 < ntok ? tok[i + 1] : NULL;
			}
			if (parse_u32(arg, &r.mtu))
				return -EINVAL;
			i++;
		} else if (strcmp(t, "src") == 0) {
			if (!arg || inet_pton(AF_INET, arg, &a) != 1)
				return -EINVAL;
			r.prefsrc = a;
			i++;
		} else if (strcmp(t, "to") == 0) {
			continue;
		} else if (!have_dst) {
			uint32_t addr;

			if (parse_prefix(t, &addr, &r.prefixlen))
				return -EINVAL;
			r.dst.s_addr = addr;
			have_dst = true;
		} else {
			return -EINVAL;
		}
	}
	if (!have_dst)
		return -EINVAL;
	return route_add(st, &r, mtu_lock);
}

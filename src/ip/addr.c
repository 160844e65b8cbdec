/* Interface addresses (Linux net/ipv4/devinet.c) and the routes they make
 * (fib_add_ifaddr/fib_del_ifaddr in fib_frontend.c).
 *
 * An address adds, like Linux: "local A" (scope host) to the local table; when the
 * device is up, the connected prefix route (main table, scope link, proto kernel; on a
 * loopback device a "local" prefix route instead) unless the address is a /32 or a
 * secondary, and the broadcast route of the subnet (local table) for prefixes shorter
 * than /31. All of them carry the subnet's primary address as preferred source. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"
#include "core/sysctl.h"
#include "ip/ip.h"
#include "ip/ip_state.h"
#include "ip/route.h"
#include "link/link.h"
#include "link/netdev.h"

/* ifa_scope: iproute2 gives 127/8 scope host, everything else scope global. */
static int ifa_scope(const struct in_ifaddr *ifa)
{
	return ip4_is_loopback(ifa->local) ? FIB_SCOPE_HOST : FIB_SCOPE_UNIVERSE;
}

/* inet_ifa_match() */
static bool ifa_match(uint32_t addr, const struct in_ifaddr *ifa)
{
	return ((addr ^ ifa->local) & ifa->mask) == 0;
}

static struct in_device *in_dev_get(struct netdev *dev)
{
	if (!dev->in) {
		dev->in = calloc(1, sizeof(*dev->in));
		if (dev->in)
			dev->in->dev = dev;
	}
	return dev->in;
}

/* inet_ifa_byprefix(): the primary address of a subnet. */
static struct in_ifaddr *ifa_primary_of(const struct in_device *in, uint32_t prefix, uint32_t mask)
{
	for (struct in_ifaddr *ifa = in->ifa_list; ifa; ifa = ifa->next)
		if (!ifa->secondary && ifa->mask == mask && ifa_match(prefix, ifa))
			return ifa;
	return NULL;
}

static void fib_magic(struct ips_stack *st, uint8_t type, uint32_t dst, int plen,
		      const struct in_ifaddr *prim)
{
	struct fib_route r = {
		.dst = dst,
		.plen = (uint8_t)plen,
		.type = type,
		.proto = FIB_PROTO_KERNEL,
		.table = type == RTN_UNICAST_ ? FIB_TABLE_MAIN : FIB_TABLE_LOCAL,
		.scope = type == RTN_LOCAL_ ? FIB_SCOPE_HOST : FIB_SCOPE_LINK,
		.nh_scope = type == RTN_LOCAL_ ? FIB_SCOPE_NOWHERE : FIB_SCOPE_HOST,
		.prefsrc = prim->local,
		.dev = prim->dev,
	};

	/* NLM_F_APPEND: an identical route already there is not an error worth
	 * reporting (two addresses share a broadcast address, say). */
	(void)fib_insert(st, &r, false);
}

/* fib_add_ifaddr() */
static void fib_add_ifaddr(struct ips_stack *st, struct in_ifaddr *ifa)
{
	struct netdev *dev = ifa->dev;
	struct in_ifaddr *prim = ifa;
	uint32_t prefix = ifa->local & ifa->mask;

	if (ifa->secondary) {
		prim = ifa_primary_of(dev->in, prefix, ifa->mask);
		if (!prim)
			return;
	}
	fib_magic(st, RTN_LOCAL_, ifa->local, 32, prim);
	if (!netdev_is_up(dev))
		return;
	if (ifa->broadcast && ifa->broadcast != 0xffffffffu)
		fib_magic(st, RTN_BROADCAST_, ifa->broadcast, 32, prim);
	if (!ip4_is_zeronet(prefix) && !ifa->secondary &&
	    (prefix != ifa->local || ifa->prefixlen < 32)) {
		fib_magic(st, dev->type == NETDEV_LOOPBACK ? RTN_LOCAL_ : RTN_UNICAST_, prefix,
			  ifa->prefixlen, prim);
		if (ifa->prefixlen < 31)
			fib_magic(st, RTN_BROADCAST_, prefix | ~ifa->mask, 32, prim);
	}
}

/* Re-derive the kernel routes of dev from its current addresses. Linux's
 * fib_del_ifaddr() removes exactly the routes no remaining address still needs; making
 * them afresh from the remaining addresses gives the same table. */
static void fib_sync_ifaddrs(struct ips_stack *st, struct netdev *dev)
{
	fib_flush_kernel(st, dev);
	if (!dev->in)
		return;
	for (struct in_ifaddr *ifa = dev->in->ifa_list; ifa; ifa = ifa->next)
		fib_add_ifaddr(st, ifa);
}

static int addr_add(struct netdev *dev, uint32_t addr, int prefixlen, bool brd)
{
	struct ips_stack *st = dev->st;
	struct in_device *in;
	struct in_ifaddr *ifa, **pp, **last_primary;

	if (prefixlen < 0 || prefixlen > 32)
		return -EINVAL;
	in = in_dev_get(dev);
	if (!in)
		return -ENOMEM;
	ifa = calloc(1, sizeof(*ifa));
	if (!ifa)
		return -ENOMEM;
	ifa->dev = dev;
	ifa->local = addr;
	ifa->prefixlen = (uint8_t)prefixlen;
	ifa->mask = ip4_mask(prefixlen);
	/* `ip addr add ... brd +`: the subnet broadcast where there is one. */
	ifa->broadcast = brd && prefixlen < 31 ? (addr | ~ifa->mask) : 0;

	/* __inet_insert_ifa(): same subnet as an existing address makes a secondary;
	 * the same address and mask again is EEXIST. Primaries go after the last primary
	 * of wider-or-equal scope, secondaries at the end. */
	last_primary = &in->ifa_list;
	for (pp = &in->ifa_list; *pp; pp = &(*pp)->next) {
		struct in_ifaddr *o = *pp;

		if (!o->secondary && ifa_scope(ifa) <= ifa_scope(o))
			last_primary = &o->next;
		if (o->mask == ifa->mask && ifa_match(o->local, ifa)) {
			if (o->local == ifa->local) {
				free(ifa);
				return -EEXIST;
			}
			if (ifa_scope(o) != ifa_scope(ifa)) {
				free(ifa);
				return -EINVAL;
			}
			ifa->secondary = true;
		}
	}
	if (!ifa->secondary)
		pp = last_primary;
	ifa->next = *pp;
	*pp = ifa;

	fib_add_ifaddr(st, ifa);
	if (netdev_is_up(dev))
		arp_addr_added(dev, addr);
	return 0;
}

int ip4_addr_add(struct netdev *dev, uint32_t addr, int prefixlen)
{
	return addr_add(dev, addr, prefixlen, true);
}

/* inetdev_event(NETDEV_UP) for a loopback device: 127.0.0.1/8 (again), scope host and
 * without a broadcast address (ifa_broadcast 0, so SIOCGIFBRDADDR reads 0.0.0.0; the
 * local table still gets "broadcast 127.255.255.255", as on Linux 6.18). An address
 * already there is left alone (inet_insert_ifa() answers EEXIST, ignored). Not while the
 * MTU is below 68 (inetdev_valid_mtu()). */
int ip4_addr_add_loopback(struct netdev *dev)
{
	int err;

	if (dev->mtu < 68)
		return 0;
	err = addr_add(dev, htonl(0x7f000001), 8, false);
	return err == -EEXIST ? 0 : err;
}

int ip4_addr_del(struct netdev *dev, uint32_t addr, int prefixlen)
{
	struct ips_stack *st = dev->st;
	struct in_device *in = dev->in;
	uint32_t mask = ip4_mask(prefixlen);
	struct in_ifaddr **pp, *ifa = NULL;
	uint32_t gone[64];
	int ngone = 0;

	if (!in || prefixlen < 0 || prefixlen > 32)
		return -EADDRNOTAVAIL;
	for (pp = &in->ifa_list; *pp; pp = &(*pp)->next) {
		if ((*pp)->local == addr && (*pp)->mask == mask) {
			ifa = *pp;
			break;
		}
	}
	if (!ifa)
		return -EADDRNOTAVAIL;
	*pp = ifa->next;
	gone[ngone++] = ifa->local;

	/* __inet_del_ifa(): a primary takes its secondaries with it, unless
	 * promote_secondaries makes the first of them primary. */
	if (!ifa->secondary) {
		bool promote = in_dev_promote_secondaries(&st->sysctl, &dev->conf);
		struct in_ifaddr **sp = &in->ifa_list;

		while (*sp) {
			struct in_ifaddr *s = *sp;

			if (!s->secondary || s->mask != ifa->mask || !ifa_match(s->local, ifa)) {
				sp = &s->next;
				continue;
			}
			if (promote) {
				struct in_ifaddr **lp;

				/* The promoted address moves to the end of the primaries. */
				*sp = s->next;
				s->secondary = false;
				for (lp = &in->ifa_list; *lp && !(*lp)->secondary; lp = &(*lp)->next)
					;
				s->next = *lp;
				*lp = s;
				break;
			}
			*sp = s->next;
			if (ngone < 64)
				gone[ngone++] = s->local;
			free(s);
		}
	}
	free(ifa);
	fib_sync_ifaddrs(st, dev);
	/* "We must flush stray FIB entries": routes preferring an address that is gone. */
	for (int i = 0; i < ngone; i++)
		if (route_addr_type(st, gone[i]) != RTN_LOCAL_)
			fib_flush_prefsrc(st, gone[i]);
	return 0;
}

void ip4_dev_up(struct netdev *dev)
{
	if (dev->in)
		fib_sync_ifaddrs(dev->st, dev);
}

void ip4_dev_down(struct netdev *dev)
{
	/* fib_disable_ip(): every route through the device goes, user routes too; the
	 * local routes of its addresses stay (checked on Linux 6.18: `ip link set down`
	 * leaves only "local A dev X table local"). */
	fib_flush_down(dev->st, dev);
}

void ip4_dev_unregister(struct netdev *dev)
{
	struct in_device *in = dev->in;

	fib_flush_dev(dev->st, dev);
	if (!in)
		return;
	for (struct in_ifaddr *ifa = in->ifa_list, *n; ifa; ifa = n) {
		n = ifa->next;
		fib_flush_prefsrc(dev->st, ifa->local);
		free(ifa);
	}
	free(in);
	dev->in = NULL;
}

/* in_dev_select_addr() */
static uint32_t in_dev_select_addr(const struct in_device *in, int scope)
{
	for (const struct in_ifaddr *ifa = in->ifa_list; ifa; ifa = ifa->next) {
		if (ifa->secondary)
			continue;
		if (ifa_scope(ifa) != FIB_SCOPE_LINK && ifa_scope(ifa) <= scope)
			return ifa->local;
	}
	return 0;
}

uint32_t ip4_select_addr_scope(const struct netdev *dev, uint32_t dst, int scope)
{
	const struct ips_stack *st = dev->st;
	int localnet_scope = FIB_SCOPE_HOST;
	uint32_t addr = 0;

	if (dev->in) {
		if (in_dev_route_localnet(&st->sysctl, &dev->conf))
			localnet_scope = FIB_SCOPE_LINK;
		for (const struct in_ifaddr *ifa = dev->in->ifa_list; ifa; ifa = ifa->next) {
			int s = ifa_scope(ifa);

			if (ifa->secondary)
				continue;
			if ((s < localnet_scope ? s : localnet_scope) > scope)
				continue;
			if (!dst || ifa_match(dst, ifa))
				return ifa->local;
			if (!addr)
				addr = ifa->local;
		}
		if (addr)
			return addr;
	}
	/* "Not loopback addresses on loopback should be preferred in this case. It is
	 * important that lo is the first interface in dev_base list." */
	for (const struct netdev *d = st->devs; d; d = d->next) {
		if (d->in && (addr = in_dev_select_addr(d->in, scope)) != 0)
			return addr;
	}
	return 0;
}

uint32_t ip4_select_addr(struct netdev *dev, uint32_t dst)
{
	return ip4_select_addr_scope(dev, dst, FIB_SCOPE_UNIVERSE);
}

/* __ip_dev_find(): our addresses, then anything a local route covers (127/8). */
struct netdev *ip4_local_dev(struct ips_stack *st, uint32_t addr)
{
	struct flow4 fl = { .daddr = addr };
	struct fib_result res;

	for (struct netdev *d = st->devs; d; d = d->next) {
		if (!d->in)
			continue;
		for (const struct in_ifaddr *ifa = d->in->ifa_list; ifa; ifa = ifa->next)
			if (ifa->local == addr)
				return d;
	}
	if (fib_table_lookup(&st->ip->local, &fl, &res) == 0 && res.type == RTN_LOCAL_)
		return res.r->dev;
	return NULL;
}

int addr_foreach(struct ips_stack *st,
		 int (*cb)(void *arg, struct netdev *dev, const struct in_ifaddr *ifa), void *arg)
{
	for (struct netdev *d = st->devs; d; d = d->next) {
		if (!d->in)
			continue;
		for (const struct in_ifaddr *ifa = d->in->ifa_list; ifa; ifa = ifa->next) {
			int rc = cb(arg, d, ifa);

			if (rc)
				return rc;
		}
	}
	return 0;
}

/* "A.B.C.D[/LEN]" */
static int parse_cidr(const char *cidr, uint32_t *addr, int *plen)
{
	char buf[INET_ADDRSTRLEN + 4];
	char *slash, *end;
	struct in_addr a;

	if (!cidr || strlen(cidr) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, cidr);
	slash = strchr(buf, '/');
	*plen = 32;
	if (slash) {
		long v;

		*slash = 0;
		v = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || v < 0 || v > 32)
			return -EINVAL;
		*plen = (int)v;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*addr = a.s_addr;
	return 0;
}

/* The public door for both changes: parse, lock, find the device, apply. */
static int addr_change(ips_stack *st, const char *ifname, const char *cidr,
		       int (*fn)(struct netdev *dev, uint32_t addr, int prefixlen))
{
	struct netdev *dev;
	uint32_t addr;
	int plen, err;

	if (!st || !ifname || parse_cidr(cidr, &addr, &plen))
		return -EINVAL;
	stack_lock(st);
	dev = stack_dev_by_name(st, ifname);
	err = dev ? fn(dev, addr, plen) : -ENODEV;
	stack_unlock(st);
	return err;
}

IPS_API int ips_addr_add(ips_stack *st, const char *ifname, const char *cidr)
{
	return addr_change(st, ifname, cidr, ip4_addr_add);
}

IPS_API int ips_addr_del(ips_stack *st, const char *ifname, const char *cidr)
{
	return addr_change(st, ifname, cidr, ip4_addr_del);
}

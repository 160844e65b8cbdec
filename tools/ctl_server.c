/* `ipstack host --ctl PATH`: the control socket server and the commands it runs (see
 * ctl_server.h and docs/ctl.md).
 *
 * Each command is formatted here, on the server side, because only the server can see
 * the stack's tables; the client (tools/ctl.c) prints what comes back. Text output is
 * shaped like the Linux tool a user would run against the kernel (`ip -4 addr`,
 * `ip route`, `ip neigh`, `ip link`, `ss`, `nstat -az`, `sysctl`); --json gives the same
 * facts as JSON for scripts. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_server.h"
#include "cli.h"
#include "core/stack.h"
#include "ip/ip.h"
#include "ip/route.h"
#include "link/link.h"
#include "link/netdev.h"
#include "socket/sock.h"
#include "transport/tcp.h"

/* ---- Output buffers ---- */

struct cbuf {
	char *p;
	size_t len, cap;
};

static void cb_grow(struct cbuf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 1024;

	while (cap - b->len <= more)
		cap *= 2;
	if (cap != b->cap) {
		char *np = realloc(b->p, cap);

		if (!np)
			abort();	/* a CLI tool: out of memory is fatal */
		b->p = np;
		b->cap = cap;
	}
}

static void cb_printf(struct cbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cb_printf(struct cbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	cb_grow(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* A JSON string literal (quotes included). */
static void cb_jstr(struct cbuf *b, const char *s)
{
	cb_printf(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			cb_printf(b, "\\%c", c);
		else if (c == '\t')
			cb_printf(b, "\\t");
		else if (c == '\n')
			cb_printf(b, "\\n");
		else if (c < 0x20)
			cb_printf(b, "\\u%04x", c);
		else
			cb_printf(b, "%c", c);
	}
	cb_printf(b, "\"");
}

static char *cb_take(struct cbuf *b)
{
	cb_grow(b, 1);
	b->p[b->len] = '\0';
	return b->p;
}

/* One command's context. */
struct ctl_ctx {
	ips_stack *st;
	bool json;
	struct cbuf out, err;
};

static int ctl_fail(struct ctl_ctx *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int ctl_fail(struct ctl_ctx *c, int status, const char *fmt, ...)
{
	va_list ap;
	char line[1024];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	cb_printf(&c->err, "%s\n", line);
	return status;
}

static const char *ip4s(uint32_t a, char buf[INET_ADDRSTRLEN])
{
	struct in_addr in = { .s_addr = a };

	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

static void mac_str(const uint8_t m[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* ---- link ---- */

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

/* iproute2's print_link_flags(): NO-CARRIER, then the flags in its fixed order, with
 * LOWER_UP standing for a running (carrier up) device. */
static int link_flag_names(const struct netdev *dev, const char *names[16])
{
	static const struct {
		unsigned bit;
		const char *name;
	} order[] = {
		{ IFF_LOOPBACK, "LOOPBACK" }, { IFF_BROADCAST, "BROADCAST" },
		{ IFF_POINTOPOINT, "POINTOPOINT" }, { IFF_MULTICAST, "MULTICAST" },
		{ IFF_NOARP, "NOARP" }, { IFF_ALLMULTI, "ALLMULTI" }, { IFF_PROMISC, "PROMISC" },
		{ IFF_UP, "UP" },
	};
	int n = 0;

	if ((dev->flags & IFF_UP) && !(dev->flags & IFF_RUNNING))
		names[n++] = "NO-CARRIER";
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (dev->flags & order[i].bit)
			names[n++] = order[i].name;
	if ((dev->flags & IFF_UP) && (dev->flags & IFF_RUNNING))
		names[n++] = "LOWER_UP";
	return n;
}

/* operstate as `ip link` shows it: the loopback device has no carrier notion (UNKNOWN). */
static const char *link_operstate(const struct netdev *dev)
{
	if (!(dev->flags & IFF_UP))
		return "DOWN";
	if (dev->type == NETDEV_LOOPBACK || dev->type == NETDEV_RAWIP)
		return "UNKNOWN";
	return (dev->flags & IFF_RUNNING) ? "UP" : "DOWN";
}

static const char *link_type_name(const struct netdev *dev)
{
	switch (dev->type) {
	case NETDEV_LOOPBACK:
		return "loopback";
	case NETDEV_ETHER:
		return "ether";
	default:
		return "none";
	}
}

/* "3: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP" */
static void link_head_text(struct cbuf *b, const struct netdev *dev, bool mode)
{
	const char *names[16];
	int n = link_flag_names(dev, names);

	cb_printf(b, "%d: %s: <", dev->ifindex, dev->name);
	for (int i = 0; i < n; i++)
		cb_printf(b, "%s%s", i ? "," : "", names[i]);
	cb_printf(b, "> mtu %u qdisc noqueue state %s%s group default\n", dev->mtu,
		  link_operstate(dev), mode ? " mode DEFAULT" : "");
}

static void link_head_json(struct cbuf *b, const struct netdev *dev)
{
	const char *names[16];
	int n = link_flag_names(dev, names);

	cb_printf(b, "\"ifindex\":%d,\"ifname\":", dev->ifindex);
	cb_jstr(b, dev->name);
	cb_printf(b, ",\"flags\":[");
	for (int i = 0; i < n; i++)
		cb_printf(b, "%s\"%s\"", i ? "," : "", names[i]);
	cb_printf(b, "],\"mtu\":%u,\"qdisc\":\"noqueue\",\"operstate\":\"%s\",\"group\":\"default\"",
		  dev->mtu, link_operstate(dev));
}

static int cmd_link_show(struct ctl_ctx *c, const char *only, bool stats)
{
	struct cbuf *b = &c->out;
	bool first = true;
	int shown = 0;

	if (c->json)
		cb_printf(b, "[");
	for (struct netdev *dev = c->st->devs; dev; dev = dev->next) {
		char mac[18], brd[18];

		if (only && strcmp(only, dev->name) != 0)
			continue;
		shown++;
		mac_str(dev->hwaddr, mac);
		mac_str(dev->broadcast, brd);
		if (dev->type == NETDEV_LOOPBACK)	/* Linux: brd 00:00:00:00:00:00 */
			strcpy(brd, "00:00:00:00:00:00");
		if (c->json) {
			cb_printf(b, "%s{", first ? "" : ",");
			first = false;
			link_head_json(b, dev);
			cb_printf(b, ",\"link_type\":\"%s\"", link_type_name(dev));
			if (dev->type != NETDEV_RAWIP)
				cb_printf(b, ",\"address\":\"%s\",\"broadcast\":\"%s\"", mac, brd);
			if (stats)
				cb_printf(b,
					  ",\"stats64\":{\"rx\":{\"bytes\":%llu,\"packets\":%llu,"
					  "\"errors\":0,\"dropped\":%llu},\"tx\":{\"bytes\":%llu,"
					  "\"packets\":%llu,\"errors\":0,\"dropped\":%llu}}",
					  (unsigned long long)dev->rx_bytes,
					  (unsigned long long)dev->rx_packets,
					  (unsigned long long)(dev->rx_dropped + dev->rx_otherhost_dropped),
					  (unsigned long long)dev->tx_bytes,
					  (unsigned long long)dev->tx_packets,
					  (unsigned long long)dev->tx_dropped);
			cb_printf(b, "}");
			continue;
		}
		link_head_text(b, dev, true);
		if (dev->type == NETDEV_RAWIP)
			cb_printf(b, "    link/none \n");
		else
			cb_printf(b, "    link/%s %s brd %s\n", link_type_name(dev), mac, brd);
		if (stats) {
			cb_printf(b, "    RX:  bytes packets errors dropped\n");
			cb_printf(b, "    %10llu %7llu %6u %7llu\n", (unsigned long long)dev->rx_bytes,
				  (unsigned long long)dev->rx_packets, 0u,
				  (unsigned long long)(dev->rx_dropped + dev->rx_otherhost_dropped));
			cb_printf(b, "    TX:  bytes packets errors dropped\n");
			cb_printf(b, "    %10llu %7llu %6u %7llu\n", (unsigned long long)dev->tx_bytes,
				  (unsigned long long)dev->tx_packets, 0u,
				  (unsigned long long)dev->tx_dropped);
		}
	}
	if (c->json)
		cb_printf(b, "]\n");
	if (only && !shown)
		return ctl_fail(c, CLI_EXIT_RUNTIME, "Device \"%s\" does not exist.", only);
	return CLI_EXIT_OK;
}

static int cmd_link(struct ctl_ctx *c, int argc, char **argv)
{
	bool stats = false;
	const char *only = NULL;
	int i = 1;

	if (i < argc && !strcmp(argv[i], "-s")) {
		stats = true;
		i++;
	}
	if (i >= argc || !strcmp(argv[i], "show") || !strcmp(argv[i], "list")) {
		if (i < argc)
			i++;
		if (i < argc && !strcmp(argv[i], "dev"))
			i++;
		if (i < argc)
			only = argv[i++];
		if (i < argc)
			return ctl_fail(c, CLI_EXIT_USAGE, "link show: unexpected '%s'", argv[i]);
		return cmd_link_show(c, only, stats);
	}
	if (strcmp(argv[i], "set") != 0)
		return ctl_fail(c, CLI_EXIT_USAGE,
				"link: unknown command '%s' (link [show [IF]] | link set IF mtu N|up|down)",
				argv[i]);
	i++;
	if (i < argc && !strcmp(argv[i], "dev"))
		i++;
	if (i >= argc)
		return ctl_fail(c, CLI_EXIT_USAGE, "link set: which device? (link set IF mtu N|up|down)");
	const char *ifname = argv[i++];

	if (!stack_dev_by_name(c->st, ifname))
		return ctl_fail(c, CLI_EXIT_RUNTIME, "Cannot find device \"%s\"", ifname);
	if (i >= argc)
		return ctl_fail(c, CLI_EXIT_USAGE, "link set %s: nothing to set (mtu N | up | down)",
				ifname);
	/* Check every argument before changing anything, as `ip link set` does. */
	for (int k = i; k < argc; k++) {
		if (!strcmp(argv[k], "up") || !strcmp(argv[k], "down"))
			continue;
		if (!strcmp(argv[k], "mtu") && k + 1 < argc) {
			char *end;
			unsigned long v = strtoul(argv[k + 1], &end, 0);

			if (!*argv[k + 1] || *end || v > 0xffffffffu)
				return ctl_fail(c, CLI_EXIT_USAGE, "link set: invalid mtu '%s'",
						argv[k + 1]);
			k++;
			continue;
		}
		return ctl_fail(c, CLI_EXIT_USAGE, "link set: unknown or incomplete argument '%s'",
				argv[k]);
	}
	for (; i < argc; i++) {
		int rc;
		const char *what = argv[i];

		if (!strcmp(what, "mtu")) {
			rc = ips_dev_set_mtu(c->st, ifname, (uint32_t)strtoul(argv[++i], NULL, 0));
			if (rc < 0)
				return ctl_fail(c, CLI_EXIT_RUNTIME, "link set %s mtu %s: %s", ifname,
						argv[i], strerror(-rc));
			continue;
		}
		rc = ips_dev_set_up(c->st, ifname, !strcmp(what, "up"));
		if (rc < 0)
			return ctl_fail(c, CLI_EXIT_RUNTIME, "link set %s %s: %s", ifname, what,
					strerror(-rc));
	}
	return CLI_EXIT_OK;
}

/* ---- addr ---- */

/* The scope Linux gives an address added without "scope": host for 127/8, else global. */
static const char *addr_scope(uint32_t a)
{
	return ip4_is_loopback(a) ? "host" : "global";
}

static int cmd_addr_show(struct ctl_ctx *c, const char *only)
{
	struct cbuf *b = &c->out;
	bool first = true;
	int found = 0;
	char a[INET_ADDRSTRLEN];

	if (c->json)
		cb_printf(b, "[");
	for (struct netdev *dev = c->st->devs; dev; dev = dev->next) {
		if (only && strcmp(only, dev->name) != 0)
			continue;
		found++;
		/* `ip -4 addr` lists only devices with an IPv4 address. */
		if (!dev->in || !dev->in->ifa_list)
			continue;
		if (c->json) {
			bool f2 = true;

			cb_printf(b, "%s{", first ? "" : ",");
			first = false;
			link_head_json(b, dev);
			cb_printf(b, ",\"addr_info\":[");
			for (const struct in_ifaddr *ifa = dev->in->ifa_list; ifa; ifa = ifa->next) {
				cb_printf(b, "%s{\"family\":\"inet\",\"local\":\"%s\",\"prefixlen\":%u,",
					  f2 ? "" : ",", ip4s(ifa->local, a), ifa->prefixlen);
				f2 = false;
				cb_printf(b, "\"scope\":\"%s\",", addr_scope(ifa->local));
				if (ifa->secondary)
					cb_printf(b, "\"secondary\":true,");
				cb_printf(b, "\"label\":");
				cb_jstr(b, dev->name);
				cb_printf(b, ",\"valid_life_time\":4294967295,"
					     "\"preferred_life_time\":4294967295}");
			}
			cb_printf(b, "]}");
			continue;
		}
		link_head_text(b, dev, false);
		for (const struct in_ifaddr *ifa = dev->in->ifa_list; ifa; ifa = ifa->next) {
			/* No "brd": Linux shows one only when it was given (`brd +`). */
			cb_printf(b, "    inet %s/%u scope %s%s %s\n", ip4s(ifa->local, a),
				  ifa->prefixlen, addr_scope(ifa->local),
				  ifa->secondary ? " secondary" : "", dev->name);
			cb_printf(b, "       valid_lft forever preferred_lft forever\n");
		}
	}
	if (c->json)
		cb_printf(b, "]\n");
	if (only && !found)
		return ctl_fail(c, CLI_EXIT_RUNTIME, "Device \"%s\" does not exist.", only);
	return CLI_EXIT_OK;
}

static int cmd_addr(struct ctl_ctx *c, int argc, char **argv)
{
	int i = 1;

	if (i >= argc || !strcmp(argv[i], "show") || !strcmp(argv[i], "list")) {
		const char *only = NULL;

		if (i < argc)
			i++;
		if (i < argc && !strcmp(argv[i], "dev"))
			i++;
		if (i < argc)
			only = argv[i++];
		if (i < argc)
			return ctl_fail(c, CLI_EXIT_USAGE, "addr show: unexpected '%s'", argv[i]);
		return cmd_addr_show(c, only);
	}
	bool add = !strcmp(argv[i], "add");

	if (!add && strcmp(argv[i], "del") != 0 && strcmp(argv[i], "delete") != 0)
		return ctl_fail(c, CLI_EXIT_USAGE,
				"addr: unknown command '%s' (addr [show [dev IF]] | addr add|del A/LEN dev IF)",
				argv[i]);
	if (argc - i != 4 || strcmp(argv[i + 2], "dev") != 0)
		return ctl_fail(c, CLI_EXIT_USAGE, "usage: addr %s A.B.C.D/LEN dev IF", argv[i]);
	const char *cidr = argv[i + 1], *ifname = argv[i + 3];
	char full[32];

	/* `ip addr add 10.0.0.1 dev X` means /32. */
	if (!strchr(cidr, '/') && strlen(cidr) < sizeof(full) - 3) {
		snprintf(full, sizeof(full), "%s/32", cidr);
		cidr = full;
	}
	if (!stack_dev_by_name(c->st, ifname))
		return ctl_fail(c, CLI_EXIT_RUNTIME, "Cannot find device \"%s\"", ifname);
	int rc = add ? ips_addr_add(c->st, ifname, cidr) : ips_addr_del(c->st, ifname, cidr);

	if (rc == -EINVAL)
		return ctl_fail(c, CLI_EXIT_USAGE, "addr %s: invalid address \"%s\"", argv[i],
				argv[i + 1]);
	if (rc == -EADDRNOTAVAIL && !add)
		return ctl_fail(c, CLI_EXIT_RUNTIME,
				"addr del %s dev %s: Cannot assign requested address (no such address)",
				cidr, ifname);
	if (rc < 0)
		return ctl_fail(c, CLI_EXIT_RUNTIME, "addr %s %s dev %s: %s", argv[i], cidr, ifname,
				strerror(-rc));
	return CLI_EXIT_OK;
}

/* ---- route ---- */

struct route_walk {
	struct ctl_ctx *c;
	int table;	/* 0: all */
	bool first;
};

static int route_show_one(void *arg, const struct fib_route *r)
{
	struct route_walk *w = arg;
	struct cbuf *b = &w->c->out;
	char line[256], a[INET_ADDRSTRLEN];

	if (w->table && r->table != w->table)
		return 0;
	if (!w->c->json) {
		route_format(r, line, sizeof(line));
		cb_printf(b, "%s\n", line);
		return 0;
	}
	cb_printf(b, "%s{", w->first ? "" : ",");
	w->first = false;
	if (r->type != RTN_UNICAST_)
		cb_printf(b, "\"type\":\"%s\",", route_type_name(r->type));
	if (r->plen == 0 && r->table == FIB_TABLE_MAIN)
		cb_printf(b, "\"dst\":\"default\"");
	else if (r->plen == 32)
		cb_printf(b, "\"dst\":\"%s\"", ip4s(r->dst, a));
	else
		cb_printf(b, "\"dst\":\"%s/%u\"", ip4s(r->dst, a), r->plen);
	if (r->gw)
		cb_printf(b, ",\"gateway\":\"%s\"", ip4s(r->gw, a));
	if (r->dev) {
		cb_printf(b, ",\"dev\":");
		cb_jstr(b, r->dev->name);
	}
	if (r->table == FIB_TABLE_LOCAL)
		cb_printf(b, ",\"table\":\"local\"");
	if (r->proto == FIB_PROTO_KERNEL)
		cb_printf(b, ",\"protocol\":\"kernel\"");
	if (r->scope == FIB_SCOPE_HOST)
		cb_printf(b, ",\"scope\":\"host\"");
	else if (r->scope == FIB_SCOPE_LINK)
		cb_printf(b, ",\"scope\":\"link\"");
	if (r->prefsrc)
		cb_printf(b, ",\"prefsrc\":\"%s\"", ip4s(r->prefsrc, a));
	if (r->metric)
		cb_printf(b, ",\"metric\":%u", r->metric);
	if (r->mtu)
		cb_printf(b, ",\"metrics\":[{\"mtu\":%u%s}]", r->mtu, r->mtu_lock ? ",\"lock\":true" : "");
	cb_printf(b, ",\"flags\":[]}");
	return 0;
}

struct route_vec {
	const struct fib_route **r;
	size_t n, cap;
};

static int route_collect(void *arg, const struct fib_route *r)
{
	struct route_vec *v = arg;

	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		const struct fib_route **np = realloc(v->r, cap * sizeof(*np));

		if (!np)
			abort();
		v->r = np;
		v->cap = cap;
	}
	v->r[v->n++] = r;
	return 0;
}

/* Linux lists a table in the trie's order: by prefix address, a shorter prefix before a
 * longer one at the same address; routes of one prefix keep their (metric) order. The
 * main table comes before the local one in `table all`. */
static int route_cmp(const void *pa, const void *pb)
{
	const struct fib_route *a = *(const struct fib_route *const *)pa;
	const struct fib_route *b = *(const struct fib_route *const *)pb;
	uint32_t ka = ntohl(a->dst), kb = ntohl(b->dst);

	if (a->table != b->table)
		return a->table == FIB_TABLE_MAIN ? -1 : 1;
	if (ka != kb)
		return ka < kb ? -1 : 1;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	return 0;
}

static int route_show(struct ctl_ctx *c, struct route_walk *w)
{
	struct route_vec v = { 0 };
	size_t *order;

	route_foreach(c->st, route_collect, &v);
	/* qsort is not stable: sort indexes, tie-broken by the walk's position. */
	order = calloc(v.n ? v.n : 1, sizeof(*order));
	if (!order)
		abort();
	for (size_t i = 0; i < v.n; i++)
		order[i] = i;
	for (size_t i = 1; i < v.n; i++) {	/* insertion sort: tables are small */
		size_t k = order[i], j = i;

		while (j > 0 && route_cmp(&v.r[order[j - 1]], &v.r[k]) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = k;
	}
	if (c->json)
		cb_printf(&c->out, "[");
	for (size_t i = 0; i < v.n; i++)
		route_show_one(w, v.r[order[i]]);
	if (c->json)
		cb_printf(&c->out, "]\n");
	free(order);
	free(v.r);
	return CLI_EXIT_OK;
}

/* `ip route del` SPEC: [TYPE] PREFIX [via GW] [dev IF] [metric N] [src A]. */
static int route_parse_del(const char *const *tok, int ntok, struct ips_route *r, char *dev,
			   size_t devlen)
{
	bool have_dst = false;
	int i = 0;

	memset(r, 0, sizeof(*r));
	if (i < ntok && (r->type = route_type_parse(tok[i])) != 0)
		i++;
	for (; i < ntok; i++) {
		const char *t = tok[i], *arg = i + 1 < ntok ? tok[i + 1] : NULL;
		struct in_addr a;

		if (!strcmp(t, "via") || !strcmp(t, "gw") || !strcmp(t, "src")) {
			if (!arg || inet_pton(AF_INET, arg, &a) != 1)
				return -EINVAL;
			if (t[0] == 's')
				r->prefsrc = a;
			else
				r->gateway = a;
			i++;
		} else if (!strcmp(t, "dev") || !strcmp(t, "oif")) {
			if (!arg || strlen(arg) >= devlen)
				return -EINVAL;
			strcpy(dev, arg);
			r->dev = dev;
			i++;
		} else if (!strcmp(t, "metric") || !strcmp(t, "priority") ||
			   !strcmp(t, "preference")) {
			char *end;
			unsigned long v;

			if (!arg || !*arg)
				return -EINVAL;
			v = strtoul(arg, &end, 0);
			if (*end || v > 0xffffffffu)
				return -EINVAL;
			r->metric = (uint32_t)v;
			i++;
		} else if (!strcmp(t, "to")) {
			continue;
		} else if (!have_dst) {
			char buf[32];
			const char *slash = strchr(t, '/');
			size_t n = slash ? (size_t)(slash - t) : strlen(t);

			have_dst = true;
			if (!strcmp(t, "default") || !strcmp(t, "all") || !strcmp(t, "any"))
				continue;
			if (n >= sizeof(buf))
				return -EINVAL;
			memcpy(buf, t, n);
			buf[n] = '\0';
			if (inet_pton(AF_INET, buf, &r->dst) != 1)
				return -EINVAL;
			r->prefixlen = 32;
			if (slash) {
				char *end;
				long v = strtol(slash + 1, &end, 10);

				if (!slash[1] || *end || v < 0 || v > 32)
					return -EINVAL;
				r->prefixlen = (int)v;
			}
		} else {
			return -EINVAL;
		}
	}
	return have_dst ? 0 : -EINVAL;
}

static int cmd_route(struct ctl_ctx *c, int argc, char **argv)
{
	int i = 1;

	if (i >= argc || !strcmp(argv[i], "show") || !strcmp(argv[i], "list")) {
		struct route_walk w = { c, FIB_TABLE_MAIN, true };

		if (i < argc)
			i++;
		if (i + 1 < argc && !strcmp(argv[i], "table")) {
			if (!strcmp(argv[i + 1], "all"))
				w.table = 0;
			else if (!strcmp(argv[i + 1], "local") || !strcmp(argv[i + 1], "255"))
				w.table = FIB_TABLE_LOCAL;
			else if (!strcmp(argv[i + 1], "main") || !strcmp(argv[i + 1], "254"))
				w.table = FIB_TABLE_MAIN;
			else
				return ctl_fail(c, CLI_EXIT_USAGE,
						"route show: table \"%s\" does not exist (main, local, all)",
						argv[i + 1]);
			i += 2;
		}
		if (i < argc)
			return ctl_fail(c, CLI_EXIT_USAGE,
					"route show: unexpected '%s' (route [show [table main|local|all]])",
					argv[i]);
		return route_show(c, &w);
	}
	bool add = !strcmp(argv[i], "add");

	if (!add && strcmp(argv[i], "del") != 0 && strcmp(argv[i], "delete") != 0)
		return ctl_fail(c, CLI_EXIT_USAGE,
				"route: unknown command '%s' (route [show] | route add|del PREFIX [via GW] [dev IF] ...)",
				argv[i]);
	if (i + 1 >= argc)
		return ctl_fail(c, CLI_EXIT_USAGE, "usage: route %s PREFIX [via GW] [dev IF] [metric N]",
				argv[i]);
	/* The spec as one string, as `ip route add` would see its words. */
	char spec[512];
	size_t n = 0;

	spec[0] = '\0';
	for (int k = i + 1; k < argc; k++) {
		int w = snprintf(spec + n, sizeof(spec) - n, "%s%s", k > i + 1 ? " " : "", argv[k]);

		if (w < 0 || (size_t)w >= sizeof(spec) - n)
			return ctl_fail(c, CLI_EXIT_USAGE, "route %s: spec too long", argv[i]);
		n += (size_t)w;
	}
	int rc;

	if (add) {
		rc = ips_route_add_str(c->st, spec);
	} else {
		struct ips_route r;
		char dev[IFNAMSIZ];

		rc = route_parse_del((const char *const *)argv + i + 1, argc - i - 1, &r, dev,
				     sizeof(dev));
		if (rc == 0)
			rc = ips_route_del(c->st, &r);
	}
	if (rc == -EINVAL)
		return ctl_fail(c, CLI_EXIT_RUNTIME, "route %s %s: Invalid argument", argv[i], spec);
	if (rc == -ESRCH)
		return ctl_fail(c, CLI_EXIT_RUNTIME, "route del %s: No such process (no such route)",
				spec);
	if (rc < 0)
		return ctl_fail(c, CLI_EXIT_RUNTIME, "route %s %s: %s", argv[i], spec, strerror(-rc));
	return CLI_EXIT_OK;
}

/* ---- neigh ---- */

#define NUD_INCOMPLETE_ 0x01
#define NUD_REACHABLE_ 0x02
#define NUD_STALE_ 0x04
#define NUD_DELAY_ 0x08
#define NUD_PROBE_ 0x10
#define NUD_FAILED_ 0x20
#define NUD_NOARP_ 0x40
#define NUD_PERMANENT_ 0x80
#define NUD_VALID_ (NUD_PERMANENT_ | NUD_NOARP_ | NUD_REACHABLE_ | NUD_PROBE_ | NUD_STALE_ | NUD_DELAY_)

static const char *nud_name(uint8_t s)
{
	switch (s) {
	case NUD_INCOMPLETE_:
		return "INCOMPLETE";
	case NUD_REACHABLE_:
		return "REACHABLE";
	case NUD_STALE_:
		return "STALE";
	case NUD_DELAY_:
		return "DELAY";
	case NUD_PROBE_:
		return "PROBE";
	case NUD_FAILED_:
		return "FAILED";
	case NUD_NOARP_:
		return "NOARP";
	case NUD_PERMANENT_:
		return "PERMANENT";
	default:
		return "NONE";
	}
}

struct neigh_walk {
	struct ctl_ctx *c;
	bool all, first;
};

static int neigh_show_one(void *arg, const struct neigh_info *n)
{
	struct neigh_walk *w = arg;
	struct cbuf *b = &w->c->out;
	char a[INET_ADDRSTRLEN], mac[18];
	bool ll = (n->state & NUD_VALID_) && n->dev->type == NETDEV_ETHER;

	/* `ip neigh` hides NOARP (and NONE) entries unless asked for `nud all`. */
	if (!w->all && (n->state & NUD_NOARP_ || n->state == 0))
		return 0;
	mac_str(n->lladdr, mac);
	if (w->c->json) {
		cb_printf(b, "%s{\"dst\":\"%s\",\"dev\":", w->first ? "" : ",", ip4s(n->addr, a));
		w->first = false;
		cb_jstr(b, n->dev->name);
		if (ll)
			cb_printf(b, ",\"lladdr\":\"%s\"", mac);
		if (n->probes)
			cb_printf(b, ",\"probes\":%u", n->probes);
		cb_printf(b, ",\"state\":[\"%s\"]}", nud_name(n->state));
		return 0;
	}
	cb_printf(b, "%s dev %s", ip4s(n->addr, a), n->dev->name);
	if (ll)
		cb_printf(b, " lladdr %s", mac);
	cb_printf(b, " %s\n", nud_name(n->state));
	return 0;
}

static int cmd_neigh(struct ctl_ctx *c, int argc, char **argv)
{
	struct neigh_walk w = { c, false, true };
	int i = 1;

	if (i < argc && (!strcmp(argv[i], "show") || !strcmp(argv[i], "list")))
		i++;
	if (i + 1 < argc && !strcmp(argv[i], "nud") && !strcmp(argv[i + 1], "all")) {
		w.all = true;
		i += 2;
	}
	if (i < argc)
		return ctl_fail(c, CLI_EXIT_USAGE, "neigh: unexpected '%s' (neigh [show [nud all]])",
				argv[i]);
	if (c->json)
		cb_printf(&c->out, "[");
	neigh_foreach(c->st, neigh_show_one, &w);
	if (c->json)
		cb_printf(&c->out, "]\n");
	return CLI_EXIT_OK;
}

/* ---- stat (nstat -az) ---- */

struct stat_walk {
	struct ctl_ctx *c;
	char **pat;
	int npat;
	bool first;
};

static int stat_one(void *arg, const char *name, uint64_t value)
{
	struct stat_walk *w = arg;
	struct cbuf *b = &w->c->out;

	if (w->npat) {
		int k;

		for (k = 0; k < w->npat; k++)
			if (fnmatch(w->pat[k], name, 0) == 0)
				break;
		if (k == w->npat)
			return 0;
	}
	if (w->c->json) {
		cb_printf(b, "%s\"%s\":%llu", w->first ? "" : ",", name, (unsigned long long)value);
		w->first = false;
		return 0;
	}
	/* nstat: "%-32s%-16llu%6.1f" (a space kept between columns for long names). */
	int n = (int)strlen(name);

	cb_printf(b, "%s%*s", name, n < 32 ? 32 - n : 1, "");
	char v[24];

	n = snprintf(v, sizeof(v), "%llu", (unsigned long long)value);
	cb_printf(b, "%s%*s%6.1f\n", v, n < 16 ? 16 - n : 1, "", 0.0);
	return 0;
}

static int cmd_stat(struct ctl_ctx *c, int argc, char **argv)
{
	struct stat_walk w = { c, NULL, 0, true };
	int i = 1;

	/* nstat's own flags are accepted: this always shows absolute values (-a), zeros
	 * included (-z), and a rate of 0.0 (there is no history between runs). */
	while (i < argc && argv[i][0] == '-') {
		if (strspn(argv[i] + 1, "azs") != strlen(argv[i] + 1) || !argv[i][1])
			return ctl_fail(c, CLI_EXIT_USAGE, "stat: unknown option '%s' (stat [PATTERN...])",
					argv[i]);
		i++;
	}
	w.pat = argv + i;
	w.npat = argc - i;
	cb_printf(&c->out, c->json ? "{\"kernel\":{" : "#kernel\n");
	ips_counter_foreach(c->st, stat_one, &w);
	if (c->json)
		cb_printf(&c->out, "}}\n");
	return CLI_EXIT_OK;
}

/* ---- sysctl ---- */

/* procps prints names dotted whatever the user typed. */
static void sysctl_dotted(const char *in, char *out, size_t len)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < len; i++)
		out[i] = in[i] == '/' ? '.' : in[i];
	out[i] = '\0';
}

static void sysctl_slashed(const char *in, char *out, size_t len)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < len; i++)
		out[i] = in[i] == '.' ? '/' : in[i];
	out[i] = '\0';
}

struct sysctl_walk {
	struct ctl_ctx *c;
	bool names_only, values_only, first;
	const char *pattern;
};

static void sysctl_emit(struct sysctl_walk *w, const char *name, const char *value)
{
	struct cbuf *b = &w->c->out;

	if (w->c->json) {
		cb_printf(b, "%s", w->first ? "" : ",");
		w->first = false;
		cb_jstr(b, name);
		cb_printf(b, ":");
		cb_jstr(b, value);
	} else if (w->names_only) {
		cb_printf(b, "%s\n", name);
	} else if (w->values_only) {
		cb_printf(b, "%s\n", value);
	} else {
		cb_printf(b, "%s = %s\n", name, value);
	}
}

static int sysctl_all_one(void *arg, const char *name, const char *value)
{
	struct sysctl_walk *w = arg;

	if (w->pattern && !strstr(name, w->pattern))
		return 0;
	sysctl_emit(w, name, value);
	return 0;
}

/* One `sysctl NAME` read; 0 or an exit status (message given). */
static int sysctl_show(struct sysctl_walk *w, const char *name)
{
	struct ctl_ctx *c = w->c;
	char value[4096], dotted[256], slashed[256];
	int rc = ips_sysctl_get(c->st, name, value, sizeof(value));

	sysctl_dotted(name, dotted, sizeof(dotted));
	if (rc == -ENOENT) {
		sysctl_slashed(name, slashed, sizeof(slashed));
		return ctl_fail(c, CLI_EXIT_RUNTIME,
				"sysctl: cannot stat /proc/sys/%s: No such file or directory", slashed);
	}
	if (rc == -EACCES)
		return ctl_fail(c, CLI_EXIT_RUNTIME, "sysctl: permission denied on key \"%s\"", dotted);
	if (rc < 0)
		return ctl_fail(c, CLI_EXIT_RUNTIME, "sysctl: reading key \"%s\": %s", dotted,
				strerror(-rc));
	sysctl_emit(w, dotted, value);
	return 0;
}

/* `sysctl -w NAME=VALUE`. */
static int sysctl_assign(struct sysctl_walk *w, const char *nv, bool quiet)
{
	struct ctl_ctx *c = w->c;
	char name[256], dotted[256], slashed[256];
	const char *eq = strchr(nv, '=');
	size_t n;

	if (!eq || eq == nv) {
		return ctl_fail(c, CLI_EXIT_USAGE,
				"sysctl: \"%s\" must be of the form name=value", nv);
	}
	n = (size_t)(eq - nv);
	if (n >= sizeof(name))
		return ctl_fail(c, CLI_EXIT_RUNTIME, "sysctl: key \"%.40s...\" too long", nv);
	memcpy(name, nv, n);
	name[n] = '\0';
	while (n && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		name[--n] = '\0';
	eq++;
	while (*eq == ' ' || *eq == '\t')
		eq++;
	sysctl_dotted(name, dotted, sizeof(dotted));
	int rc = ips_sysctl_set(c->st, name, eq);

	if (rc == -ENOENT) {
		sysctl_slashed(name, slashed, sizeof(slashed));
		return ctl_fail(c, CLI_EXIT_RUNTIME,
				"sysctl: cannot stat /proc/sys/%s: No such file or directory", slashed);
	}
	if (rc == -EACCES)
		return ctl_fail(c, CLI_EXIT_RUNTIME, "sysctl: permission denied on key \"%s\"", dotted);
	if (rc < 0)
		return ctl_fail(c, CLI_EXIT_RUNTIME, "sysctl: setting key \"%s\": %s", dotted,
				strerror(-rc));
	if (quiet)
		return 0;
	/* procps echoes the value it wrote. */
	sysctl_emit(w, dotted, eq);
	return 0;
}

static int cmd_sysctl(struct ctl_ctx *c, int argc, char **argv)
{
	struct sysctl_walk w = { c, false, false, true, NULL };
	bool all = false, write = false, quiet = false;
	int i = 1, status = 0, nargs;

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--all")) {
			all = true;
			continue;
		}
		if (!strcmp(argv[i], "--write")) {
			write = true;
			continue;
		}
		for (const char *f = argv[i] + 1; *f; f++) {
			switch (*f) {
			case 'a':
			case 'A':
			case 'X':
				all = true;
				break;
			case 'w':
				write = true;
				break;
			case 'n':
				w.values_only = true;
				break;
			case 'N':
				w.names_only = true;
				break;
			case 'q':
				quiet = true;
				break;
			case 'e':
				break;
			default:
				return ctl_fail(c, CLI_EXIT_USAGE,
						"sysctl: unknown option -%c (sysctl [-n|-N|-q] NAME... | -a | -w NAME=VALUE...)",
						*f);
			}
		}
	}
	nargs = argc - i;
	if (!all && nargs == 0)
		return ctl_fail(c, CLI_EXIT_USAGE,
				"sysctl: no variables specified (sysctl NAME... | -a | -w NAME=VALUE...)");
	if (c->json)
		cb_printf(&c->out, "{");
	if (all) {
		/* `sysctl -a PATTERN` is not procps syntax, but handy: a substring filter. */
		w.pattern = nargs ? argv[i] : NULL;
		sysctl_foreach(&c->st->sysctl, sysctl_all_one, &w);
	} else {
		for (; i < argc; i++) {
			int rc;

			/* procps: an '=' in an argument means an assignment even without -w. */
			if (write || strchr(argv[i], '='))
				rc = sysctl_assign(&w, argv[i], quiet);
			else
				rc = sysctl_show(&w, argv[i]);
			if (rc && !status)
				status = rc;
		}
	}
	if (c->json)
		cb_printf(&c->out, "}\n");
	return status;
}

/* ---- ss ---- */

#define SS_TCP 1
#define SS_UDP 2
#define SS_RAW 4

struct ss_row {
	const char *netid;
	const char *state;
	bool listening;		/* LISTEN, or an unconnected datagram socket */
	unsigned long rq, sq;
	uint32_t laddr, raddr;
	int lport, rport;	/* -1: '*' */
	char *info;		/* -i line (malloc'd), or NULL */
	char *info_json;	/* the same as JSON members, or NULL */
};

struct ss_list {
	struct ss_row *rows;
	int n, cap;
};

static struct ss_row *ss_add(struct ss_list *l)
{
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 16;
		struct ss_row *np = realloc(l->rows, (size_t)cap * sizeof(*np));

		if (!np)
			abort();
		l->rows = np;
		l->cap = cap;
	}
	memset(&l->rows[l->n], 0, sizeof(l->rows[0]));
	return &l->rows[l->n++];
}

static void ss_port_str(int port, bool numeric, const char *proto, char *out, size_t len)
{
	struct servent *se;

	if (port < 0) {
		snprintf(out, len, "*");
		return;
	}
	/* ss resolves service names unless -n; raw sockets show their protocol number. */
	if (!numeric && proto && port > 0 && (se = getservbyport(htons((uint16_t)port), proto)))
		snprintf(out, len, "%s", se->s_name);
	else
		snprintf(out, len, "%d", port);
}

static void ss_collect_dgram(struct ips_stack *st, int which, struct ss_list *l)
{
	for (struct sock *sk = sock_first(st); sk; sk = sk->st_next) {
		struct ss_row *r;
		bool udp = sk->prot && !strcmp(sk->prot->name, "UDP");
		bool raw = sk->type == SOCK_RAW;

		if (sk->dead || sk->family != AF_INET || (!udp && !raw))
			continue;
		if ((udp && !(which & SS_UDP)) || (raw && !(which & SS_RAW)))
			continue;
		/* An unbound UDP socket is not in the tables yet: ss does not see it. */
		if (udp && !sk->num)
			continue;
		r = ss_add(l);
		r->netid = udp ? "udp" : "raw";
		r->listening = sk->state != SS_ESTABLISHED;
		r->state = r->listening ? "UNCONN" : "ESTAB";
		r->rq = sk->rmem;
		r->sq = sk->wmem;
		r->laddr = sk->rcv_saddr;
		r->lport = raw ? sk->protocol : ntohs(sk->sport);
		r->raddr = sk->daddr;
		r->rport = raw ? 0 : (sk->state == SS_ESTABLISHED ? ntohs(sk->dport) : -1);
	}
}

/* ss's names for the TCP states (sstate_name[] in iproute2's ss.c). */
static const char *tcp_state_name(int state)
{
	static const char *names[] = {
		[TCP_ESTABLISHED] = "ESTAB", [TCP_SYN_SENT] = "SYN-SENT",
		[TCP_SYN_RECV] = "SYN-RECV", [TCP_FIN_WAIT1] = "FIN-WAIT-1",
		[TCP_FIN_WAIT2] = "FIN-WAIT-2", [TCP_TIME_WAIT] = "TIME-WAIT",
		[TCP_CLOSE] = "UNCONN", [TCP_CLOSE_WAIT] = "CLOSE-WAIT",
		[TCP_LAST_ACK] = "LAST-ACK", [TCP_LISTEN] = "LISTEN", [TCP_CLOSING] = "CLOSING",
	};

	return state > 0 && state < (int)(sizeof(names) / sizeof(names[0])) && names[state]
		       ? names[state] : "UNKNOWN";
}

struct tcp_walk {
	struct ss_list *l;
	bool info;
};

/* ss -i's line for one connection from TCP_INFO, in ss's order (tcp_show_info()). */
static void ss_tcp_info(struct tcp_sock *tp, struct ss_row *r)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	char cc[16] = "";
	socklen_t cclen = sizeof(cc) - 1;
	struct cbuf t = { 0 }, j = { 0 };

	if (tcp_getsockopt(tp, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return;
	tcp_getsockopt(tp, IPPROTO_TCP, TCP_CONGESTION, cc, &cclen);
	if (cc[0]) {
		cb_printf(&t, "%s", cc);
		cb_printf(&j, "\"cong_alg\":");
		cb_jstr(&j, cc);
		cb_printf(&j, ",");
	}
	if (ti.tcpi_options & TCPI_OPT_WSCALE) {
		cb_printf(&t, " wscale:%u,%u", ti.tcpi_snd_wscale, ti.tcpi_rcv_wscale);
		cb_printf(&j, "\"snd_wscale\":%u,\"rcv_wscale\":%u,", ti.tcpi_snd_wscale,
			  ti.tcpi_rcv_wscale);
	}
	if (ti.tcpi_rto)
		cb_printf(&t, " rto:%g", ti.tcpi_rto / 1000.0);
	if (ti.tcpi_rtt)
		cb_printf(&t, " rtt:%g/%g", ti.tcpi_rtt / 1000.0, ti.tcpi_rttvar / 1000.0);
	if (ti.tcpi_ato)
		cb_printf(&t, " ato:%g", ti.tcpi_ato / 1000.0);
	cb_printf(&t, " mss:%u pmtu:%u rcvmss:%u advmss:%u cwnd:%u", ti.tcpi_snd_mss, ti.tcpi_pmtu,
		  ti.tcpi_rcv_mss, ti.tcpi_advmss, ti.tcpi_snd_cwnd);
	if (ti.tcpi_snd_ssthresh < 0xffff)
		cb_printf(&t, " ssthresh:%u", ti.tcpi_snd_ssthresh);
	if (ti.tcpi_rtt && ti.tcpi_snd_mss && ti.tcpi_snd_cwnd)
		cb_printf(&t, " send %.0fbps",
			  (double)ti.tcpi_snd_mss * ti.tcpi_snd_cwnd * 8e6 / ti.tcpi_rtt);
	cb_printf(&t, " lastsnd:%u lastrcv:%u lastack:%u", ti.tcpi_last_data_sent,
		  ti.tcpi_last_data_recv, ti.tcpi_last_ack_recv);
	if (ti.tcpi_unacked)
		cb_printf(&t, " unacked:%u", ti.tcpi_unacked);
	if (ti.tcpi_retrans || ti.tcpi_total_retrans)
		cb_printf(&t, " retrans:%u/%u", ti.tcpi_retrans, ti.tcpi_total_retrans);
	if (ti.tcpi_lost)
		cb_printf(&t, " lost:%u", ti.tcpi_lost);
	if (ti.tcpi_sacked)
		cb_printf(&t, " sacked:%u", ti.tcpi_sacked);
	if (ti.tcpi_reordering != 3)
		cb_printf(&t, " reordering:%u", ti.tcpi_reordering);
	if (ti.tcpi_rcv_rtt)
		cb_printf(&t, " rcv_rtt:%g", ti.tcpi_rcv_rtt / 1000.0);
	if (ti.tcpi_rcv_space)
		cb_printf(&t, " rcv_space:%u", ti.tcpi_rcv_space);
	cb_printf(&t, " rcv_ssthresh:%u", ti.tcpi_rcv_ssthresh);
	cb_printf(&j,
		  "\"rto\":%g,\"rtt\":%g,\"rttvar\":%g,\"ato\":%g,\"mss\":%u,\"pmtu\":%u,"
		  "\"rcvmss\":%u,\"advmss\":%u,\"cwnd\":%u,\"ssthresh\":%u,\"lastsnd\":%u,"
		  "\"lastrcv\":%u,\"lastack\":%u,\"unacked\":%u,\"retrans\":%u,"
		  "\"total_retrans\":%u,\"lost\":%u,\"sacked\":%u,\"reordering\":%u,"
		  "\"rcv_rtt\":%g,\"rcv_space\":%u,\"rcv_ssthresh\":%u",
		  ti.tcpi_rto / 1000.0, ti.tcpi_rtt / 1000.0, ti.tcpi_rttvar / 1000.0,
		  ti.tcpi_ato / 1000.0, ti.tcpi_snd_mss, ti.tcpi_pmtu, ti.tcpi_rcv_mss,
		  ti.tcpi_advmss, ti.tcpi_snd_cwnd, ti.tcpi_snd_ssthresh, ti.tcpi_last_data_sent,
		  ti.tcpi_last_data_recv, ti.tcpi_last_ack_recv, ti.tcpi_unacked, ti.tcpi_retrans,
		  ti.tcpi_total_retrans, ti.tcpi_lost, ti.tcpi_sacked, ti.tcpi_reordering,
		  ti.tcpi_rcv_rtt / 1000.0, ti.tcpi_rcv_space, ti.tcpi_rcv_ssthresh);
	r->info = cb_take(&t);
	r->info_json = cb_take(&j);
}

static void ss_tcp_one(void *arg, struct tcp_sock *tp)
{
	struct tcp_walk *w = arg;
	int state = tcp_sock_state(tp), q;
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	struct ss_row *r;

	/* A socket that is neither bound-and-listening nor connecting is in no table:
	 * ss does not see it. */
	if (state == TCP_CLOSE)
		return;
	tcp_sock_names(tp, &laddr, &lport, &raddr, &rport);
	r = ss_add(w->l);
	r->netid = "tcp";
	r->state = tcp_state_name(state);
	r->listening = state == TCP_LISTEN;
	r->laddr = laddr;
	r->lport = lport;
	r->raddr = raddr;
	r->rport = state == TCP_LISTEN ? -1 : rport;
	if (state == TCP_LISTEN) {
		/* ss: a listener's Recv-Q is its accept queue, Send-Q its backlog, which
		 * TCP_INFO carries in tcpi_unacked / tcpi_sacked for listeners. */
		struct tcp_info ti;
		socklen_t len = sizeof(ti);

		if (tcp_getsockopt(tp, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0) {
			r->rq = ti.tcpi_unacked;
			r->sq = ti.tcpi_sacked;
		}
	} else {
		if (tcp_ioctl(tp, 0x541B /* SIOCINQ */, &q) == 0)
			r->rq = (unsigned long)q;
		if (tcp_ioctl(tp, 0x5411 /* SIOCOUTQ */, &q) == 0)
			r->sq = (unsigned long)q;
		if (w->info)
			ss_tcp_info(tp, r);
	}
}

/* TCP sockets (listeners and connections; request and time-wait objects are not
 * listed: docs/ctl.md). */
static void ss_collect_tcp(struct ips_stack *st, bool info, struct ss_list *l)
{
	struct tcp_walk w = { l, info };

	tcp_foreach_sock(st, ss_tcp_one, &w);
}

static int cmd_ss(struct ctl_ctx *c, int argc, char **argv)
{
	int which = 0;
	bool all = false, listening = false, numeric = false, info = false;
	struct ss_list l = { 0 };
	struct cbuf *b = &c->out;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || !a[1])
			return ctl_fail(c, CLI_EXIT_USAGE,
					"ss: unexpected '%s' (filters are not supported; ss [-t|-u|-w|-l|-a|-n|-i])",
					a);
		if (!strcmp(a, "--tcp")) { which |= SS_TCP; continue; }
		if (!strcmp(a, "--udp")) { which |= SS_UDP; continue; }
		if (!strcmp(a, "--raw")) { which |= SS_RAW; continue; }
		if (!strcmp(a, "--all")) { all = true; continue; }
		if (!strcmp(a, "--listening")) { listening = true; continue; }
		if (!strcmp(a, "--numeric")) { numeric = true; continue; }
		if (!strcmp(a, "--info")) { info = true; continue; }
		for (const char *f = a + 1; *f; f++) {
			switch (*f) {
			case 't': which |= SS_TCP; break;
			case 'u': which |= SS_UDP; break;
			case 'w': which |= SS_RAW; break;
			case 'a': all = true; break;
			case 'l': listening = true; break;
			case 'n': numeric = true; break;
			case 'i': info = true; break;
			case '4': break;
			default:
				return ctl_fail(c, CLI_EXIT_USAGE,
						"ss: unknown option -%c (ss [-t|-u|-w|-l|-a|-n|-i])", *f);
			}
		}
	}
	if (!which)
		which = SS_TCP | SS_UDP | SS_RAW;
	/* ss's order: raw, udp, then tcp (listeners first, as inet_diag dumps them). */
	if (which & SS_RAW)
		ss_collect_dgram(c->st, SS_RAW, &l);
	if (which & SS_UDP)
		ss_collect_dgram(c->st, SS_UDP, &l);
	if (which & SS_TCP) {
		int first = l.n;

		ss_collect_tcp(c->st, info, &l);
		for (int i = first + 1; i < l.n; i++)	/* stable: listeners to the front */
			for (int j = i; j > first && l.rows[j].listening && !l.rows[j - 1].listening; j--) {
				struct ss_row t = l.rows[j];

				l.rows[j] = l.rows[j - 1];
				l.rows[j - 1] = t;
			}
	}

	/* ss's state filter: by default everything but listening sockets (and, for
	 * datagrams, unconnected ones); -l only those; -a both. */
	int keep = 0;

	for (int i = 0; i < l.n; i++) {
		struct ss_row *r = &l.rows[i];
		bool show = all || (listening ? r->listening : !r->listening);

		if (show)
			l.rows[keep++] = *r;
		else {
			free(r->info);
			free(r->info_json);
		}
	}
	l.n = keep;

	bool netid_col = (which & (which - 1)) != 0;	/* more than one protocol */
	char la[64], lp[32], ra[64], rp[32];

	if (c->json) {
		cb_printf(b, "[");
		for (int i = 0; i < l.n; i++) {
			struct ss_row *r = &l.rows[i];

			cb_printf(b, "%s{\"netid\":\"%s\",\"state\":\"%s\",\"recv_q\":%lu,\"send_q\":%lu,",
				  i ? "," : "", r->netid, r->state, r->rq, r->sq);
			cb_printf(b, "\"local\":{\"addr\":\"%s\",\"port\":%d},", ip4s(r->laddr, la),
				  r->lport);
			cb_printf(b, "\"peer\":{\"addr\":\"%s\",\"port\":", ip4s(r->raddr, ra));
			if (r->rport < 0)
				cb_printf(b, "null}");
			else
				cb_printf(b, "%d}", r->rport);
			if (r->info_json)
				cb_printf(b, ",\"info\":{%s}", r->info_json);
			cb_printf(b, "}");
		}
		cb_printf(b, "]\n");
	} else {
		/* Column widths from the contents, as ss sizes its columns. */
		int wn = 5, ws = 5, wla = 13, wlp = 4, wra = 12, wrp = 4;

		for (int i = 0; i < l.n; i++) {
			struct ss_row *r = &l.rows[i];
			const char *proto = !strcmp(r->netid, "raw") ? NULL : r->netid;
			int k;

			if ((k = (int)strlen(r->netid)) > wn) wn = k;
			if ((k = (int)strlen(r->state)) > ws) ws = k;
			if ((k = (int)strlen(ip4s(r->laddr, la))) > wla) wla = k;
			if ((k = (int)strlen(ip4s(r->raddr, ra))) > wra) wra = k;
			ss_port_str(r->lport, numeric, proto, lp, sizeof(lp));
			ss_port_str(r->rport, numeric, proto, rp, sizeof(rp));
			if ((k = (int)strlen(lp)) > wlp) wlp = k;
			if ((k = (int)strlen(rp)) > wrp) wrp = k;
		}
		if (netid_col)
			cb_printf(b, "%-*s ", wn, "Netid");
		cb_printf(b, "%-*s Recv-Q Send-Q %*s:%-*s %*s:%-*s Process\n", ws, "State", wla,
			  "Local Address", wlp, "Port", wra, "Peer Address", wrp, "Port");
		for (int i = 0; i < l.n; i++) {
			struct ss_row *r = &l.rows[i];
			const char *proto = !strcmp(r->netid, "raw") ? NULL : r->netid;

			ss_port_str(r->lport, numeric, proto, lp, sizeof(lp));
			ss_port_str(r->rport, numeric, proto, rp, sizeof(rp));
			if (netid_col)
				cb_printf(b, "%-*s ", wn, r->netid);
			cb_printf(b, "%-*s %-6lu %-6lu %*s:%-*s %*s:%-*s\n", ws, r->state, r->rq, r->sq,
				  wla, ip4s(r->laddr, la), wlp, lp, wra, ip4s(r->raddr, ra), wrp, rp);
			if (info && r->info)
				cb_printf(b, "\t %s\n", r->info);
		}
	}
	for (int i = 0; i < l.n; i++) {
		free(l.rows[i].info);
		free(l.rows[i].info_json);
	}
	free(l.rows);
	return CLI_EXIT_OK;
}

/* ---- dispatch ---- */

static const char ctl_help[] =
	"commands (PATH is the host's --ctl socket; --json on any command for JSON):\n"
	"  addr [show [dev IF]]            like `ip -4 addr`\n"
	"  addr add|del A.B.C.D/LEN dev IF\n"
	"  route [show [table main|local|all]]   like `ip route`\n"
	"  route add|del PREFIX [via GW] [dev IF] [metric N] [src A] [mtu [lock] N]\n"
	"  neigh [show [nud all]]          like `ip neigh`\n"
	"  link [-s] [show [IF]]           like `ip link`\n"
	"  link set IF [mtu N] [up|down]\n"
	"  ss [-t|-u|-w|-l|-a|-n|-i]       like `ss`\n"
	"  stat [PATTERN...]               counters like `nstat -az`\n"
	"  sysctl [-n|-N|-q] NAME...       like `sysctl`\n"
	"  sysctl -a [SUBSTRING]\n"
	"  sysctl -w NAME=VALUE...\n";

int ctl_exec(ips_stack *st, int argc, char **argv, char **out, char **err)
{
	struct ctl_ctx c = { .st = st };
	char *args[CTL_MAX_ARGS];
	int n = 0, status;
	bool changes;

	/* --json anywhere (and -j before the command) selects JSON output. */
	for (int i = 0; i < argc && n < CTL_MAX_ARGS; i++) {
		if (!strcmp(argv[i], "--json") || (n == 0 && !strcmp(argv[i], "-j")))
			c.json = true;
		else
			args[n++] = argv[i];
	}
	if (n == 0) {
		status = ctl_fail(&c, CLI_EXIT_USAGE, "no command (try 'help')");
		goto done;
	}
	const char *cmd = args[0];

	changes = n > 1 && (!strcmp(args[1], "add") || !strcmp(args[1], "del") ||
			    !strcmp(args[1], "delete") || !strcmp(args[1], "set") ||
			    !strcmp(cmd, "sysctl"));
	stack_lock(st);
	if (!strcmp(cmd, "addr") || !strcmp(cmd, "address") || !strcmp(cmd, "a"))
		status = cmd_addr(&c, n, args);
	else if (!strcmp(cmd, "route") || !strcmp(cmd, "r"))
		status = cmd_route(&c, n, args);
	else if (!strcmp(cmd, "neigh") || !strcmp(cmd, "neighbour") || !strcmp(cmd, "n"))
		status = cmd_neigh(&c, n, args);
	else if (!strcmp(cmd, "link") || !strcmp(cmd, "l"))
		status = cmd_link(&c, n, args);
	else if (!strcmp(cmd, "ss"))
		status = cmd_ss(&c, n, args);
	else if (!strcmp(cmd, "stat") || !strcmp(cmd, "nstat"))
		status = cmd_stat(&c, n, args);
	else if (!strcmp(cmd, "sysctl"))
		status = cmd_sysctl(&c, n, args);
	else if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		cb_printf(&c.out, "%s", ctl_help);
		status = CLI_EXIT_OK;
	} else
		status = ctl_fail(&c, CLI_EXIT_USAGE, "unknown command '%s' (try 'help')", cmd);
	stack_unlock(st);
	/* A change may have armed timers or queued packets: let the loop look again. */
	if (changes && st->mode != IPS_MODE_SIMULATED)
		ips_stack_wake(st);
done:
	*out = cb_take(&c.out);
	*err = cb_take(&c.err);
	return status;
}

/* ---- the server ---- */

struct ctl_server {
	ips_stack *st;
	int lfd;
	int stop_pipe[2];
	pthread_t thread;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read one request (bounded in size and time: a stuck client cannot block the server
 * for more than a few seconds). Returns its length, or -1. */
static ssize_t read_request(int fd, uint8_t *buf, size_t cap)
{
	size_t len = 0;

	while (len < cap) {
		struct pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, 5000);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		ssize_t n = recv(fd, buf + len, cap - len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;	/* the client shut down its side: the request is complete */
		len += (size_t)n;
		/* Complete once argc strings have arrived. */
		if (len >= 8) {
			uint32_t argc = get_u32(buf + 4), seen = 0;

			for (size_t i = 8; i < len; i++)
				if (!buf[i])
					seen++;
			if (seen >= argc)
				break;
		}
	}
	return (ssize_t)len;
}

static void serve_one(struct ctl_server *srv, int fd)
{
	uint8_t *req = malloc(CTL_MAX_REQ);
	char *args[CTL_MAX_ARGS];
	char *out = NULL, *err = NULL;
	uint32_t argc = 0;
	int status;
	ssize_t len;

	if (!req)
		return;
	len = read_request(fd, req, CTL_MAX_REQ);
	if (len < 8 || memcmp(req, CTL_REQ_MAGIC, 4) != 0 ||
	    (argc = get_u32(req + 4)) > CTL_MAX_ARGS) {
		free(req);
		return;
	}
	size_t off = 8;

	for (uint32_t i = 0; i < argc; i++) {
		char *s = (char *)req + off;
		size_t k = strnlen(s, (size_t)len - off);

		if (off + k >= (size_t)len) {
			free(req);
			return;	/* truncated */
		}
		args[i] = s;
		off += k + 1;
	}
	status = ctl_exec(srv->st, (int)argc, args, &out, &err);

	uint8_t hdr[12];
	size_t olen = strlen(out), elen = strlen(err);

	memcpy(hdr, CTL_REP_MAGIC, 4);
	put_u32(hdr + 4, (uint32_t)status);
	put_u32(hdr + 8, (uint32_t)olen);
	if (write_all(fd, hdr, 12) == 0 && write_all(fd, out, olen) == 0) {
		put_u32(hdr, (uint32_t)elen);
		if (write_all(fd, hdr, 4) == 0)
			write_all(fd, err, elen);
	}
	free(out);
	free(err);
	free(req);
}

static void *ctl_server_main(void *arg)
{
	struct ctl_server *srv = arg;

	for (;;) {
		struct pollfd p[2] = { { srv->lfd, POLLIN, 0 }, { srv->stop_pipe[0], POLLIN, 0 } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			continue;
		serve_one(srv, fd);
		close(fd);
	}
	return NULL;
}

struct ctl_server *ctl_server_start(ips_stack *st, const char *path, int *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl_server *srv;
	struct stat sb;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*err = -ENAMETOOLONG;
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		*err = -ENOMEM;
		return NULL;
	}
	srv->st = st;
	srv->lfd = -1;
	srv->stop_pipe[0] = srv->stop_pipe[1] = -1;
	strcpy(srv->path, path);
	strcpy(sun.sun_path, path);
	/* A socket left behind by an earlier run is replaced; any other file is not. */
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			*err = -EEXIST;
			goto fail;
		}
		unlink(path);
	}
	srv->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv->lfd < 0 || bind(srv->lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		*err = -errno;
		goto fail;
	}
	/* Only the owner may change the stack (as only root may change a namespace). */
	chmod(path, 0600);
	if (listen(srv->lfd, 16) < 0 || pipe2(srv->stop_pipe, O_CLOEXEC) < 0) {
		*err = -errno;
		unlink(path);
		goto fail;
	}
	int e = pthread_create(&srv->thread, NULL, ctl_server_main, srv);

	if (e) {
		*err = -e;
		unlink(path);
		goto fail;
	}
	return srv;
fail:
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->stop_pipe[0] >= 0) {
		close(srv->stop_pipe[0]);
		close(srv->stop_pipe[1]);
	}
	free(srv);
	return NULL;
}

void ctl_server_stop(struct ctl_server *srv)
{
	if (!srv)
		return;
	if (write(srv->stop_pipe[1], "x", 1) < 0) {
		/* The pipe cannot be full: one byte, written once. */
	}
	pthread_join(srv->thread, NULL);
	close(srv->lfd);
	close(srv->stop_pipe[0]);
	close(srv->stop_pipe[1]);
	unlink(srv->path);
	free(srv);
}

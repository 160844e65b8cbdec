/* The sysctl registry: name lookup, the devices of a namespace, the write path (the one
 * door that validates, propagates conf.default / neigh.default / forwarding the way
 * Linux does, and calls the change hook), reads, and `sysctl -a` order. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/sysctl_priv.h"

struct sysctl_dev {
	struct sysctl_dev *next;
	char name[SYSCTL_IFNAMSIZ];
	struct ipv4_devconf *conf;
	struct neigh_parms *neigh;
};

_Static_assert(offsetof(struct ipv4_devconf, state) / sizeof(int) <= 64,
	       "one state bit per conf field");
_Static_assert(offsetof(struct neigh_parms, state) / 4 <= 64, "one state bit per neigh field");

#define NAME_MAX_LEN 128

/* Where a name points. */
enum which { W_IP, W_ALL, W_DFLT, W_DEV };

struct resolved {
	const struct sysctl_entry *e;
	void *base;
	enum which which;
	char canon[NAME_MAX_LEN];	/* "net.ipv4.conf.eth0.rp_filter" */
};

void sysctl_ns_init(struct sysctl_ns *ns)
{
	memset(ns, 0, sizeof(*ns));
	ns->hz = SYSCTL_HZ_DEFAULT;
	sysctl_defaults_init(ns);
}

void sysctl_ns_fini(struct sysctl_ns *ns)
{
	while (ns->devs) {
		struct sysctl_dev *d = ns->devs;

		ns->devs = d->next;
		free(d);
	}
}

static struct sysctl_dev *dev_find(struct sysctl_ns *ns, const char *ifname)
{
	for (struct sysctl_dev *d = ns->devs; d; d = d->next)
		if (strcmp(d->name, ifname) == 0)
			return d;
	return NULL;
}

int sysctl_register_dev(struct sysctl_ns *ns, const char *ifname, struct ipv4_devconf *conf,
			struct neigh_parms *neigh)
{
	struct sysctl_dev *d, **tail;
	size_t len = strlen(ifname);

	/* "all" and "default" name the namespace-wide entries; '/' cannot be in a name. */
	if (len == 0 || len >= SYSCTL_IFNAMSIZ || strchr(ifname, '/') ||
	    strcmp(ifname, "all") == 0 || strcmp(ifname, "default") == 0 ||
	    strcmp(ifname, ".") == 0 || strcmp(ifname, "..") == 0)
		return -EINVAL;
	if (dev_find(ns, ifname))
		return -EEXIST;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	memcpy(d->name, ifname, len + 1);
	d->conf = conf;
	d->neigh = neigh;
	if (conf) {
		/* inetdev_init(): a copy of conf.default, state bits included */
		*conf = ns->conf_dflt;
		if (strcmp(ifname, "lo") == 0) {
			sysctl_devconf_set(conf, disable_xfrm, 1);
			sysctl_devconf_set(conf, disable_policy, 1);
		}
	}
	if (neigh) {
		/* neigh_parms_alloc(): a copy of the table's parms, state cleared */
		*neigh = ns->neigh_dflt;
		neigh->state = 0;
	}
	for (tail = &ns->devs; *tail; tail = &(*tail)->next)
		;
	*tail = d;
	return 0;
}

void sysctl_unregister_dev(struct sysctl_ns *ns, const char *ifname)
{
	for (struct sysctl_dev **pp = &ns->devs; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->name, ifname) == 0) {
			struct sysctl_dev *d = *pp;

			*pp = d->next;
			free(d);
			return;
		}
	}
}

struct ipv4_devconf *sysctl_dev_conf(struct sysctl_ns *ns, const char *ifname)
{
	struct sysctl_dev *d = dev_find(ns, ifname);

	return d ? d->conf : NULL;
}

struct neigh_parms *sysctl_dev_neigh(struct sysctl_ns *ns, const char *ifname)
{
	struct sysctl_dev *d = dev_find(ns, ifname);

	return d ? d->neigh : NULL;
}

/* ---- names ---- */

static const struct sysctl_entry *entry_find(enum sysctl_scope scope, const char *name)
{
	for (size_t i = 0; i < sysctl_table_len; i++)
		if (sysctl_table[i].scope == scope && strcmp(sysctl_table[i].name, name) == 0)
			return &sysctl_table[i];
	return NULL;
}

/* "conf.eth0.100" style device names are written with '/' in dotted names (procps). */
static void canon_dev(char *out, size_t len, const char *dev)
{
	size_t i;

	for (i = 0; dev[i] && i + 1 < len; i++)
		out[i] = dev[i] == '.' ? '/' : dev[i];
	out[i] = 0;
}

static int resolve(struct sysctl_ns *ns, const char *name, struct resolved *r)
{
	char tmp[NAME_MAX_LEN], *comp[8], devcanon[SYSCTL_IFNAMSIZ];
	char sep;
	int n = 0;
	char *p;

	if (strncmp(name, "/proc/sys/", 10) == 0)
		name += 10;
	/* procps: the first separator says which form the name is in */
	p = strpbrk(name, "/.");
	sep = p ? *p : '.';
	if (strlen(name) >= sizeof(tmp))
		return -ENOENT;
	strcpy(tmp, name);
	for (p = tmp; n < 8;) {
		comp[n++] = p;
		p = strchr(p, sep);
		if (!p)
			break;
		*p++ = 0;
	}
	if (!p && n == 3 && strcmp(comp[0], "net") == 0 && strcmp(comp[1], "core") == 0) {
		r->e = entry_find(SC_CORE, comp[2]);
		if (!r->e)
			return -ENOENT;
		r->base = &ns->core;
		r->which = W_IP;
		snprintf(r->canon, sizeof(r->canon), "net.core.%s", r->e->name);
		return 0;
	}
	if (p || n < 3 || strcmp(comp[0], "net") || strcmp(comp[1], "ipv4"))
		return -ENOENT;
	if (sep == '.')	/* a '/' in a dotted name is a '.' of the device name */
		for (int i = 2; i < n; i++)
			for (char *c = comp[i]; *c; c++)
				if (*c == '/')
					*c = '.';
	r->e = NULL;
	if (n == 3 || (n == 4 && strcmp(comp[2], "route") == 0)) {
		char leaf[NAME_MAX_LEN];

		snprintf(leaf, sizeof(leaf), n == 3 ? "%s" : "route.%s", comp[n - 1]);
		if (n == 3 && strchr(leaf, '.'))
			return -ENOENT;
		r->e = entry_find(SC_IP, leaf);
		if (!r->e)
			return -ENOENT;
		r->base = &ns->ip;
		r->which = W_IP;
		snprintf(r->canon, sizeof(r->canon), "net.ipv4.%s", r->e->name);
	} else if (n == 5 && strcmp(comp[2], "conf") == 0) {
		const char *dev = comp[3];

		r->e = entry_find(SC_CONF, comp[4]);
		if (!r->e)
			return -ENOENT;
		if (strcmp(dev, "all") == 0) {
			r->base = &ns->conf_all;
			r->which = W_ALL;
		} else if (strcmp(dev, "default") == 0) {
			r->base = &ns->conf_dflt;
			r->which = W_DFLT;
		} else {
			struct sysctl_dev *d = dev_find(ns, dev);

			if (!d || !d->conf)
				return -ENOENT;
			r->base = d->conf;
			r->which = W_DEV;
		}
		canon_dev(devcanon, sizeof(devcanon), dev);
		snprintf(r->canon, sizeof(r->canon), "net.ipv4.conf.%s.%s", devcanon, r->e->name);
	} else if (n == 5 && strcmp(comp[2], "neigh") == 0) {
		const char *dev = comp[3];

		r->e = entry_find(SC_NEIGH, comp[4]);
		if (!r->e)
			return -ENOENT;
		if (strcmp(dev, "default") == 0) {
			r->base = &ns->neigh_dflt;
			r->which = W_DFLT;
		} else {
			struct sysctl_dev *d = dev_find(ns, dev);

			if (!d || !d->neigh || (r->e->flags & F_DFLT_ONLY))
				return -ENOENT;
			r->base = d->neigh;
			r->which = W_DEV;
		}
		canon_dev(devcanon, sizeof(devcanon), dev);
		snprintf(r->canon, sizeof(r->canon), "net.ipv4.neigh.%s.%s", devcanon, r->e->name);
	}
	return r->e ? 0 : -ENOENT;
}

/* ---- writing ---- */

static void notify(struct sysctl_ns *ns, const char *name)
{
	if (ns->on_change)
		ns->on_change(ns->on_change_ctx, name);
}

static size_t field_size(const struct sysctl_entry *e)
{
	return e->store == ST_MS64 ? sizeof(int64_t) : sizeof(int);
}

/* devinet_conf_proc() / neigh_proc_update(): the written struct's state bit is set (even
 * when the write was rejected) and a write to the default reaches every device that has
 * not set that entry itself. */
static void follow_default(struct sysctl_ns *ns, const struct resolved *r)
{
	const struct sysctl_entry *e = r->e;
	size_t sz = field_size(e);

	if (e->flags & F_DEVINET) {
		uint64_t bit = 1ull << (e->off / sizeof(int));

		((struct ipv4_devconf *)r->base)->state |= bit;
		if (r->which != W_DFLT)
			return;
		for (struct sysctl_dev *d = ns->devs; d; d = d->next)
			if (d->conf && !(d->conf->state & bit))
				memcpy((char *)d->conf + e->off, (char *)&ns->conf_dflt + e->off, sz);
	} else if (e->flags & F_NEIGH) {
		uint64_t bit = 1ull << (e->off / 4);

		((struct neigh_parms *)r->base)->state |= bit;
		if (r->which != W_DFLT)
			return;
		for (struct sysctl_dev *d = ns->devs; d; d = d->next)
			if (d->neigh && !(d->neigh->state & bit))
				memcpy((char *)d->neigh + e->off, (char *)&ns->neigh_dflt + e->off,
				       sz);
	}
}

/* inet_forward_change(): conf.all.forwarding (= ip_forward) changed. */
static void forward_change(struct sysctl_ns *ns)
{
	int on = ns->conf_all.forwarding;

	ns->conf_all.accept_redirects = !on;
	ns->conf_dflt.forwarding = on;
	for (struct sysctl_dev *d = ns->devs; d; d = d->next)
		if (d->conf)
			d->conf->forwarding = on;
}

/* devinet_sysctl_forward(): no state bit, no following of conf.default. */
static long write_forward(struct sysctl_ns *ns, const struct resolved *r, const char *buf,
			  size_t len, size_t pos)
{
	int *valp = r->which == W_IP ? &ns->conf_all.forwarding
				     : &((struct ipv4_devconf *)r->base)->forwarding;
	int old = *valp;
	long n = sysctl_proc_dointvec(buf, len, pos, valp);

	if (*valp != old && valp == &ns->conf_all.forwarding)
		forward_change(ns);
	ns->ip.ip_forward = ns->conf_all.forwarding;
	return n;
}

/* The field an entry stores into, as the leaf that owns it: the canonical leaf of an
 * alias (retrans_time -> retrans_time_ms), conf.*.forwarding for ip_forward. */
static const struct sysctl_entry *owner(const struct sysctl_entry *e)
{
	if (e->kind == SK_FORWARD)
		return entry_find(SC_CONF, "forwarding");
	if (e->flags & F_ALIAS)
		for (size_t i = 0; i < sysctl_table_len; i++)
			if (sysctl_table[i].scope == e->scope && sysctl_table[i].off == e->off &&
			    !(sysctl_table[i].flags & F_ALIAS))
				return &sysctl_table[i];
	return e;
}

/* The values that a write to r may change besides r itself, for the change hook:
 * the field in conf.all (forwarding only), the default, and every device. */
struct snap {
	const struct sysctl_entry *fe;	/* NULL: nothing else can change */
	const char *dir;		/* "conf" / "neigh" */
	int64_t *v;			/* [0] all, [1] default, [2..] devices */
	size_t n;
	int ip_forward, accept_redirects;
};

static const void *snap_base(struct sysctl_ns *ns, const struct snap *s, size_t i,
			     const struct sysctl_dev *d)
{
	bool neigh = s->fe->scope == SC_NEIGH;

	if (i == 0)
		return neigh ? NULL : (const void *)&ns->conf_all;
	if (i == 1)
		return neigh ? (const void *)&ns->neigh_dflt : (const void *)&ns->conf_dflt;
	return neigh ? (const void *)d->neigh : (const void *)d->conf;
}

static int64_t snap_get(const void *base, const struct sysctl_entry *fe)
{
	const char *f = (const char *)base + fe->off;

	if (field_size(fe) == sizeof(int64_t))
		return *(const int64_t *)f;
	return *(const int *)f;
}

static int snap_take(struct sysctl_ns *ns, const struct resolved *r, struct snap *s)
{
	const struct sysctl_dev *d = ns->devs;
	size_t ndev = 0;

	memset(s, 0, sizeof(*s));
	if ((r->e->scope == SC_IP || r->e->scope == SC_CORE) && r->e->kind != SK_FORWARD)
		return 0;
	s->fe = owner(r->e);
	s->dir = s->fe->scope == SC_NEIGH ? "neigh" : "conf";
	for (const struct sysctl_dev *x = ns->devs; x; x = x->next)
		ndev++;
	s->n = ndev + 2;
	s->v = calloc(s->n, sizeof(*s->v));
	if (!s->v)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		const void *base = snap_base(ns, s, i, d);

		s->v[i] = base ? snap_get(base, s->fe) : 0;
		if (i >= 2)
			d = d->next;
	}
	s->ip_forward = ns->ip.ip_forward;
	s->accept_redirects = ns->conf_all.accept_redirects;
	return 0;
}

/* After a successful write: the hook for r (and its owner leaf when r is an alias),
 * then for every other watched value that changed. */
static void snap_notify(struct sysctl_ns *ns, const struct resolved *r, const struct snap *s)
{
	static const char *const fixed[2] = { "all", "default" };
	const struct sysctl_dev *d = ns->devs;
	char name[NAME_MAX_LEN], dev[SYSCTL_IFNAMSIZ];

	notify(ns, r->canon);
	if (!s->fe)
		return;
	if (r->e->flags & F_ALIAS) {
		char *leaf = strrchr(r->canon, '.');

		snprintf(name, sizeof(name), "%.*s.%s", (int)(leaf - r->canon), r->canon, s->fe->name);
		notify(ns, name);
	}
	if (r->e->kind == SK_FORWARD) {
		if (r->which != W_IP && ns->ip.ip_forward != s->ip_forward)
			notify(ns, "net.ipv4.ip_forward");
		if (r->which == W_IP && ns->ip.ip_forward != s->ip_forward)
			notify(ns, "net.ipv4.conf.all.forwarding");
		if (ns->conf_all.accept_redirects != s->accept_redirects)
			notify(ns, "net.ipv4.conf.all.accept_redirects");
	}
	for (size_t i = 0; i < s->n; i++) {
		const void *base = snap_base(ns, s, i, d);

		if (i >= 2) {
			canon_dev(dev, sizeof(dev), d->name);
			d = d->next;
		}
		if (!base || base == r->base || snap_get(base, s->fe) == s->v[i])
			continue;
		if (i == 0 && r->which == W_IP)
			continue;	/* conf.all.forwarding, already reported */
		snprintf(name, sizeof(name), "net.ipv4.%s.%s.%s", s->dir, i < 2 ? fixed[i] : dev,
			 s->fe->name);
		notify(ns, name);
	}
}

int sysctl_write(struct sysctl_ns *ns, const char *name, const char *value)
{
	struct resolved r;
	struct snap s;
	size_t len = strlen(value), pos = 0;
	long n;
	int err = resolve(ns, name, &r);

	if (err)
		return err;
	if (r.e->flags & F_RO)
		return -EACCES;
	if (!len)	/* opened and closed without a write(2): nothing happens */
		return 0;
	err = snap_take(ns, &r, &s);
	if (err)
		return err;
	/* Like stdio writing the value to the file: a short write is continued at the
	 * next offset until every byte is taken (or an error). */
	do {
		struct sysctl_target t = { ns, r.e, r.base };

		if (r.e->kind == SK_FORWARD)
			n = write_forward(ns, &r, value + pos, len - pos, pos);
		else
			n = sysctl_proc_write(&t, value + pos, len - pos, pos);
		follow_default(ns, &r);
		if (n <= 0)
			break;
		pos += (size_t)n;
	} while (pos < len);
	if (n >= 0)
		snap_notify(ns, &r, &s);
	free(s.v);
	return n < 0 ? (int)n : 0;
}

/* ---- reading ---- */

int sysctl_read(struct sysctl_ns *ns, const char *name, char *buf, size_t len)
{
	struct resolved r;
	int err = resolve(ns, name, &r);
	struct sysctl_target t;

	if (err)
		return err;
	if (r.e->flags & F_WO)
		return -EACCES;
	if (!len)
		return -ENOSPC;
	t = (struct sysctl_target){ ns, r.e, r.base };
	return sysctl_proc_read(&t, buf, len);
}

/* ---- sysctl -a ---- */

struct listed {
	char name[NAME_MAX_LEN];
	const struct sysctl_entry *e;
	void *base;
};

/* Names compare component by component (the kernel keeps each sysctl directory sorted),
 * i.e. the separator sorts before every other character. */
static int name_cmp(const void *a, const void *b)
{
	const unsigned char *x = (const unsigned char *)((const struct listed *)a)->name;
	const unsigned char *y = (const unsigned char *)((const struct listed *)b)->name;

	for (;; x++, y++) {
		unsigned cx = *x == '.' ? 1 : *x, cy = *y == '.' ? 1 : *y;

		if (cx != cy || !cx)
			return (int)cx - (int)cy;
	}
}

static size_t list_add(struct listed *l, size_t n, const char *prefix, const char *dev,
		       const struct sysctl_entry *e, void *base)
{
	char devcanon[SYSCTL_IFNAMSIZ];

	if (e->scope == SC_CORE) {
		snprintf(l[n].name, sizeof(l[n].name), "net.core.%s", e->name);
	} else if (dev) {
		canon_dev(devcanon, sizeof(devcanon), dev);
		snprintf(l[n].name, sizeof(l[n].name), "net.ipv4.%s.%s.%s", prefix, devcanon,
			 e->name);
	} else {
		snprintf(l[n].name, sizeof(l[n].name), "net.ipv4.%s", e->name);
	}
	l[n].e = e;
	l[n].base = base;
	return n + 1;
}

int sysctl_foreach(struct sysctl_ns *ns, int (*cb)(void *arg, const char *name, const char *value),
		   void *arg)
{
	size_t ndev = 0, cap, n = 0, vlen = 256;
	struct listed *l;
	char *val;
	int rc = 0;

	for (struct sysctl_dev *d = ns->devs; d; d = d->next)
		ndev++;
	cap = sysctl_table_len * (ndev + 2);
	l = calloc(cap, sizeof(*l));
	val = malloc(vlen);
	if (!l || !val) {
		free(l);
		free(val);
		return -ENOMEM;
	}
	for (size_t i = 0; i < sysctl_table_len; i++) {
		const struct sysctl_entry *e = &sysctl_table[i];

		if (e->flags & (F_WO | F_DEPRECATED))
			continue;
		switch (e->scope) {
		case SC_CORE:
			n = list_add(l, n, NULL, NULL, e, &ns->core);
			break;
		case SC_IP:
			n = list_add(l, n, NULL, NULL, e, &ns->ip);
			break;
		case SC_CONF:
			n = list_add(l, n, "conf", "all", e, &ns->conf_all);
			n = list_add(l, n, "conf", "default", e, &ns->conf_dflt);
			for (struct sysctl_dev *d = ns->devs; d; d = d->next)
				if (d->conf)
					n = list_add(l, n, "conf", d->name, e, d->conf);
			break;
		case SC_NEIGH:
			n = list_add(l, n, "neigh", "default", e, &ns->neigh_dflt);
			if (e->flags & F_DFLT_ONLY)
				break;
			for (struct sysctl_dev *d = ns->devs; d; d = d->next)
				if (d->neigh)
					n = list_add(l, n, "neigh", d->name, e, d->neigh);
			break;
		}
	}
	qsort(l, n, sizeof(*l), name_cmp);
	for (size_t i = 0; i < n && !rc; i++) {
		struct sysctl_target t = { ns, l[i].e, l[i].base };
		int len;

		while ((len = sysctl_proc_read(&t, val, vlen)) == -ENOSPC) {
			char *bigger = realloc(val, vlen * 2);

			if (!bigger) {
				rc = -ENOMEM;
				break;
			}
			val = bigger;
			vlen *= 2;
		}
		if (!rc)
			rc = cb(arg, l[i].name, val);
	}
	free(l);
	free(val);
	return rc;
}

/* ---- docs/sysctl.md ---- */

void sysctl_doc_table(FILE *f)
{
	struct sysctl_ns ns;
	struct listed *l = calloc(sysctl_table_len, sizeof(*l));
	char val[256], all[256], range[128];
	size_t n = 0;

	if (!l)
		return;
	sysctl_ns_init(&ns);
	for (size_t i = 0; i < sysctl_table_len; i++) {
		const struct sysctl_entry *e = &sysctl_table[i];

		if (e->scope == SC_CORE)
			n = list_add(l, n, NULL, NULL, e, &ns.core);
		else if (e->scope == SC_IP)
			n = list_add(l, n, NULL, NULL, e, &ns.ip);
		else if (e->scope == SC_CONF)
			n = list_add(l, n, "conf", "*", e, &ns.conf_dflt);
		else
			n = list_add(l, n, "neigh", e->flags & F_DFLT_ONLY ? "default" : "*", e,
				     &ns.neigh_dflt);
	}
	qsort(l, n, sizeof(*l), name_cmp);
	fprintf(f, "| name | default | range | implemented |\n");
	fprintf(f, "|------|---------|-------|-------------|\n");
	for (size_t i = 0; i < n; i++) {
		const struct sysctl_entry *e = l[i].e;
		struct sysctl_target t = { &ns, e, l[i].base };
		char extra[300] = "";

		if (sysctl_proc_read(&t, val, sizeof(val)) < 0)
			snprintf(val, sizeof(val), "-");
		for (char *c = val; *c; c++)
			if (*c == '\t')
				*c = ' ';
		if (e->scope == SC_CONF) {
			struct sysctl_target ta = { &ns, e, &ns.conf_all };

			if (sysctl_proc_read(&ta, all, sizeof(all)) >= 0 && strcmp(all, val))
				snprintf(extra, sizeof(extra), " (all: `%s`)", all);
		}
		if (e->flags & F_ALIAS)
			snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " (view of %s)",
				 owner(e)->name);
		sysctl_entry_range(&ns, e, range, sizeof(range));
		fprintf(f, "| %s | %s%s%s%s | %s%s | %s |\n", l[i].name, *val ? "`" : "",
			*val ? val : "(empty)", *val ? "`" : "", extra, range,
			e->flags & F_DEPRECATED ? "; hidden from -a" : "",
			e->implemented ? "yes" : "no");
	}
	sysctl_ns_fini(&ns);
	free(l);
}

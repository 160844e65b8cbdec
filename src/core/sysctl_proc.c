/* Linux's sysctl proc handlers, re-implemented: how the bytes of one write(2) to
 * /proc/sys/net/ipv4/... are parsed, validated and stored, and how a value is printed.
 * Each function names the kernel function whose behaviour it reproduces (kernel/sysctl.c,
 * lib/kstrtox.c, net/ipv4/sysctl_net_ipv4.c, net/core/neighbour.c); corner cases such as
 * "-0", "0x10", "010", trailing garbage after a vector, and the 64-bit wrap-arounds of
 * the jiffies conversions are deliberate, and tests/unit/core compares them with a real
 * kernel. The kernel's internal value of a time entry is jiffies; here it is derived
 * from the stored value (see enum sysctl_store) at ns->hz. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/sysctl_priv.h"

#define TMPBUFLEN 22

struct pbuf {
	const char *p;
	size_t left;
};

/* lib/ctype.c: isspace() is true for \t..\r, ' ' and 0xa0 */
static bool k_isspace(char c)
{
	unsigned char u = (unsigned char)c;

	return u == ' ' || (u >= '\t' && u <= '\r') || u == 0xa0;
}

static bool k_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

static bool k_isxdigit(char c)
{
	return k_isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void skip_spaces(struct pbuf *b)
{
	while (b->left && k_isspace(*b->p)) {
		b->left--;
		b->p++;
	}
}

static void skip_char(struct pbuf *b, char c)
{
	while (b->left && *b->p == c) {
		b->left--;
		b->p++;
	}
}

/* _parse_integer_fixup_radix() */
static const char *fixup_radix(const char *s, unsigned *base)
{
	if (*base == 0) {
		if (s[0] == '0') {
			if ((s[1] | 0x20) == 'x' && k_isxdigit(s[2]))
				*base = 16;
			else
				*base = 8;
		} else {
			*base = 10;
		}
	}
	if (*base == 16 && s[0] == '0' && (s[1] | 0x20) == 'x')
		s += 2;
	return s;
}

/* _parse_integer_limit(): digits consumed; *ovf when the value exceeded 64 bits (the
 * result then wraps, as the kernel's does). */
static size_t parse_integer(const char *s, unsigned base, size_t max_chars, uint64_t *res,
			    bool *ovf)
{
	uint64_t r = 0;
	size_t n = 0;

	*ovf = false;
	while (n < max_chars) {
		unsigned c = (unsigned char)s[n], lc = c | 0x20, val;

		if (c >= '0' && c <= '9')
			val = c - '0';
		else if (lc >= 'a' && lc <= 'f')
			val = lc - 'a' + 10;
		else
			break;
		if (val >= base)
			break;
		if (r & (~0ull << 60)) {
			if (r > (UINT64_MAX - val) / base)
				*ovf = true;
		}
		r = r * base + val;
		n++;
	}
	*res = r;
	return n;
}

/* proc_get_long(): one number, optionally negative, followed by the end of the input or
 * one of perm_tr. Parses at most TMPBUFLEN - 1 characters. */
static int get_long(struct pbuf *b, uint64_t *val, bool *neg, const char *perm_tr,
		    size_t perm_tr_len, char *tr)
{
	char tmp[TMPBUFLEN];
	size_t len = b->left;
	const char *p;
	unsigned base = 0;
	bool ovf;

	if (len == 0)
		return -EINVAL;
	if (len > TMPBUFLEN - 1)
		len = TMPBUFLEN - 1;
	memcpy(tmp, b->p, len);
	tmp[len] = 0;
	p = tmp;
	if (*p == '-' && b->left > 1) {
		*neg = true;
		p++;
	} else {
		*neg = false;
	}
	if (!k_isdigit(*p))
		return -EINVAL;
	p = fixup_radix(p, &base);	/* strtoul_lenient() */
	p += parse_integer(p, base, SIZE_MAX, val, &ovf);
	if (ovf)
		return -EINVAL;
	len = (size_t)(p - tmp);
	/* "We don't know if the next char is whitespace thus we may accept invalid integers
	 * (e.g. 1234...a) or two integers instead of one (e.g. 123...1)." */
	if (len == TMPBUFLEN - 1)
		return -EINVAL;
	if (len < b->left && perm_tr_len && !memchr(perm_tr, *p, perm_tr_len))
		return -EINVAL;
	if (tr && len < b->left)
		*tr = *p;
	b->p += len;
	b->left -= len;
	return 0;
}

static const char wspace_sep[] = { ' ', '\t', '\n' };

static void limit_page(struct pbuf *b)
{
	if (b->left > SYSCTL_PAGE_SIZE - 1)
		b->left = SYSCTL_PAGE_SIZE - 1;
}

/* ---- jiffies at ns->hz (include/linux/jiffies.h, kernel/time/time.c) ---- */

static unsigned tick_ms(const struct sysctl_ns *ns)
{
	return 1000u / (unsigned)ns->hz;
}

/* msecs_to_jiffies() for an HZ that divides 1000; > INT_MAX means "too large". */
static uint64_t msecs_to_jiffies(const struct sysctl_ns *ns, uint32_t m)
{
	if ((int32_t)m < 0)
		return (uint64_t)(LONG_MAX >> 1) - 1;	/* MAX_JIFFY_OFFSET */
	return (m + tick_ms(ns) - 1) / tick_ms(ns);
}

static uint32_t jiffies_to_msecs(const struct sysctl_ns *ns, uint64_t j)
{
	return (uint32_t)(tick_ms(ns) * j);
}

static uint64_t clock_t_to_jiffies(const struct sysctl_ns *ns, uint64_t x)
{
	uint64_t hz = (uint64_t)ns->hz;

	if (hz % SYSCTL_USER_HZ == 0) {
		if (x >= UINT64_MAX / (hz / SYSCTL_USER_HZ))
			return UINT64_MAX;
		return x * (hz / SYSCTL_USER_HZ);
	}
	if (x >= UINT64_MAX / hz * SYSCTL_USER_HZ)
		return UINT64_MAX;
	return x * hz / SYSCTL_USER_HZ;	/* wraps for huge x, as div_u64((u64)x * HZ, USER_HZ) */
}

static uint64_t jiffies_to_clock_t(const struct sysctl_ns *ns, uint64_t j)
{
	return j * (1000000000u / (unsigned)ns->hz) / (1000000000u / SYSCTL_USER_HZ);
}

/* ---- the stored value <-> the kernel's int (jiffies for time entries) ---- */

static void *field(const struct sysctl_target *t)
{
	return (char *)t->base + t->e->off;
}

static int64_t load(const struct sysctl_target *t, int i)
{
	const struct sysctl_ns *ns = t->ns;
	void *f = field(t);

	switch (t->e->store) {
	case ST_INT:
		return ((int *)f)[i];
	case ST_UINT:
		return ((unsigned *)f)[i];
	case ST_SEC:
		return (int)((int64_t)((int *)f)[i] * ns->hz);
	case ST_UMS:
		return ((unsigned *)f)[i] / tick_ms(ns);
	case ST_MS64:
		return (int)(((int64_t *)f)[i] / tick_ms(ns));
	}
	return 0;
}

static void store(const struct sysctl_target *t, int i, int64_t v)
{
	const struct sysctl_ns *ns = t->ns;
	void *f = field(t);

	switch (t->e->store) {
	case ST_INT:
		((int *)f)[i] = (int)v;
		break;
	case ST_UINT:
		((unsigned *)f)[i] = (unsigned)v;
		break;
	case ST_SEC:
		((int *)f)[i] = (int)(v / ns->hz);
		break;
	case ST_UMS:
		((unsigned *)f)[i] = (unsigned)((uint64_t)v * tick_ms(ns));
		break;
	case ST_MS64:
		((int64_t *)f)[i] = v * tick_ms(ns);
		break;
	}
}

/* The bounds of an entry, resolving bounds held in other fields. */
static bool bound_lo(const struct sysctl_target *t, int64_t *lo)
{
	const struct sysctl_entry *e = t->e;

	if (e->flags & F_MIN_FIELD)
		*lo = *(int *)((char *)t->base + e->min);
	else if (e->flags & F_MIN)
		*lo = e->min;
	else
		return false;
	return true;
}

static bool bound_hi(const struct sysctl_target *t, int64_t *hi)
{
	const struct sysctl_entry *e = t->e;

	if (e->flags & F_MAX_FIELD)
		*hi = *(int *)((char *)t->base + e->max);
	else if (e->flags & F_MAX)
		*hi = e->max;
	else if (e->flags & F_MAX_UINT_DIV_HZ)
		*hi = UINT_MAX / (unsigned)t->ns->hz;
	else
		return false;
	return true;
}

/* ---- proc_dointvec() and its conversions ---- */

/* One element: lval/neg as parsed -> the kernel's int, or -EINVAL. */
typedef int (*int_conv)(const struct sysctl_target *t, bool neg, uint64_t lval, int *out);

static int conv_int(const struct sysctl_target *t, bool neg, uint64_t lval, int *out)
{
	int64_t v, lo, hi;

	if (neg) {	/* do_proc_dointvec_conv() */
		if (lval > (uint64_t)INT_MAX + 1)
			return -EINVAL;
		v = -(int64_t)lval;
	} else {
		if (lval > INT_MAX)
			return -EINVAL;
		v = (int64_t)lval;
	}
	if (t && ((bound_lo(t, &lo) && v < lo) || (bound_hi(t, &hi) && v > hi)))
		return -EINVAL;	/* do_proc_dointvec_minmax_conv() */
	*out = (int)v;
	return 0;
}

static int conv_jiffies(const struct sysctl_target *t, bool neg, uint64_t lval, int *out)
{
	uint64_t hz = (uint64_t)t->ns->hz;

	if (lval > INT_MAX / hz)	/* do_proc_dointvec_jiffies_conv() */
		return -EINVAL;
	*out = neg ? -(int)(lval * hz) : (int)(lval * hz);
	return 0;
}

static int conv_ms_jiffies(const struct sysctl_target *t, bool neg, uint64_t lval, int *out)
{
	/* do_proc_dointvec_ms_jiffies_conv(): msecs_to_jiffies() takes an unsigned int */
	uint64_t jif = msecs_to_jiffies(t->ns, (uint32_t)(neg ? -lval : lval));
	int64_t lo, hi;

	if (jif > INT_MAX)
		return -EINVAL;
	if ((bound_lo(t, &lo) && (int64_t)jif < lo) || (bound_hi(t, &hi) && (int64_t)jif > hi))
		return -EINVAL;
	*out = (int)jif;
	return 0;
}

static int conv_userhz(const struct sysctl_target *t, bool neg, uint64_t lval, int *out)
{
	uint64_t hz = (uint64_t)t->ns->hz;

	/* do_proc_dointvec_userhz_jiffies_conv(); the result is truncated to an int */
	if (SYSCTL_USER_HZ < hz && lval > (uint64_t)(LONG_MAX / (long)hz) * SYSCTL_USER_HZ)
		return -EINVAL;
	*out = (int)(uint32_t)clock_t_to_jiffies(t->ns, neg ? -lval : lval);
	return 0;
}

/* __do_proc_dointvec() write side on vec[0..n). Elements are converted one by one and
 * stay converted when a later one fails (callers decide whether to commit). *consumed
 * gets the bytes the kernel reports as written. */
static int dointvec_write(const struct sysctl_target *t, const char *buf, size_t len,
			  int *vec, int n, int_conv conv, size_t *consumed)
{
	struct pbuf b = { buf, len };
	int err = 0, i = 0;
	bool first = true;

	*consumed = len;
	if (len == 0)
		return 0;
	limit_page(&b);
	for (; b.left && n-- > 0; i++, first = false) {
		uint64_t lval;
		bool neg;

		skip_spaces(&b);
		if (!b.left)
			break;
		err = get_long(&b, &lval, &neg, wspace_sep, sizeof(wspace_sep), NULL);
		if (err)
			break;
		if (conv(t, neg, lval, &vec[i])) {
			err = -EINVAL;
			break;
		}
	}
	if (!err && b.left)
		skip_spaces(&b);
	if (first)
		return err ? err : -EINVAL;
	*consumed = len - b.left;	/* "*lenp -= left": bytes past the page count as read */
	return err;
}

/* A proc_dointvec()-family write on the entry's own storage: elements converted before
 * a failing one are kept, as in Linux (tcp_rmem "8192 x" sets tcp_rmem[0]). */
static long write_intvec(const struct sysctl_target *t, const char *buf, size_t len, size_t pos,
			 int_conv conv)
{
	int vec[4];
	size_t consumed;
	int err;

	if (pos)
		return (long)len;	/* proc_first_pos_non_zero_ignore() */
	for (int i = 0; i < t->e->n; i++)
		vec[i] = (int)load(t, i);
	err = dointvec_write(t, buf, len, vec, t->e->n, conv, &consumed);
	for (int i = 0; i < t->e->n; i++)
		store(t, i, vec[i]);
	return err ? err : (long)consumed;
}

long sysctl_proc_dointvec(const char *buf, size_t len, size_t pos, int *val)
{
	size_t consumed;
	int v = *val, err;

	if (pos)
		return (long)len;
	err = dointvec_write(NULL, buf, len, &v, 1, conv_int, &consumed);
	*val = v;
	return err ? err : (long)consumed;
}

/* do_proc_douintvec_w(): one unsigned value, no sign, trailing input ignored. */
static long write_uint(const struct sysctl_target *t, const char *buf, size_t len, size_t pos)
{
	struct pbuf b = { buf, len };
	int64_t lo = 0, hi = t->e->kind == SK_U8 ? 255 : UINT_MAX;
	uint64_t lval;
	bool neg;

	if (pos || len == 0)
		return (long)len;
	limit_page(&b);
	skip_spaces(&b);
	if (!b.left)
		return -EINVAL;
	if (get_long(&b, &lval, &neg, wspace_sep, sizeof(wspace_sep), NULL) || neg)
		return -EINVAL;
	if (lval > UINT_MAX)
		return -EINVAL;
	bound_lo(t, &lo);
	bound_hi(t, &hi);
	if ((int64_t)lval < lo || (int64_t)lval > hi)
		return -EINVAL;
	store(t, 0, (int64_t)lval);
	return (long)len;
}

/* __do_proc_doulongvec_minmax() write side, on the entry's unsigned longs. */
static long write_ulongvec(const struct sysctl_target *t, const char *buf, size_t len,
			   size_t pos, unsigned long *vec, int n, const unsigned long *min,
			   const unsigned long *max)
{
	struct pbuf b = { buf, len };
	int err = 0, i = 0;
	bool first = true;

	if (pos || len == 0)
		return (long)len;
	limit_page(&b);
	for (; b.left && n-- > 0; i++, first = false) {
		uint64_t lval;
		bool neg;

		skip_spaces(&b);
		if (!b.left)
			break;
		err = get_long(&b, &lval, &neg, wspace_sep, sizeof(wspace_sep), NULL);
		if (err || neg) {
			err = -EINVAL;
			break;
		}
		if ((min && lval < min[i]) || (max && lval > max[i])) {
			err = -EINVAL;
			break;
		}
		vec[i] = (unsigned long)lval;
	}
	if (!err)
		skip_spaces(&b);
	if (first)
		return err ? err : -EINVAL;
	return err ? err : (long)(len - b.left);
}

static long write_ulong_entry(const struct sysctl_target *t, const char *buf, size_t len,
			      size_t pos)
{
	const struct sysctl_entry *e = t->e;
	unsigned long lo[4], hi[4];
	bool has_lo = false, has_hi = false;

	for (int i = 0; i < e->n; i++) {
		lo[i] = 0;
		hi[i] = ULONG_MAX;
		if (e->flags & F_MIN_FIELD) {
			lo[i] = *(unsigned long *)((char *)t->base + e->min);
			has_lo = true;
		} else if (e->flags & F_MIN) {
			lo[i] = (unsigned long)e->min;
			has_lo = true;
		}
		if (e->flags & F_MAX_FIELD) {
			hi[i] = *(unsigned long *)((char *)t->base + e->max);
			has_hi = true;
		} else if (e->flags & F_MAX) {
			hi[i] = (unsigned long)e->max;
			has_hi = true;
		}
	}
	return write_ulongvec(t, buf, len, pos, field(t), e->n, has_lo ? lo : NULL,
			      has_hi ? hi : NULL);
}

/* ---- the special handlers ---- */

/* ipv4_local_port_range(): both ends in 1..65535, low <= high, and the range must not
 * reach below ip_unprivileged_port_start. All or nothing. */
static long write_port_range(const struct sysctl_target *t, const char *buf, size_t len,
			     size_t pos)
{
	static const struct sysctl_entry bounds = { .flags = F_MIN | F_MAX, .min = 1, .max = 65535 };
	struct sysctl_target bt = { t->ns, &bounds, t->base };
	struct ipv4_sysctl *ip = &t->ns->ip;
	int range[2] = { ip->ip_local_port_range[0], ip->ip_local_port_range[1] };
	size_t consumed = len;
	int err = 0;

	if (!pos)
		err = dointvec_write(&bt, buf, len, range, 2, conv_int, &consumed);
	if (err)
		return err;
	if (range[1] < range[0] || range[0] < ip->ip_unprivileged_port_start)
		return -EINVAL;
	ip->ip_local_port_range[0] = range[0];
	ip->ip_local_port_range[1] = range[1];
	return (long)consumed;
}

/* ipv4_privileged_ports(): 0..65535 and not above the local port range's low end. */
static long write_unpriv_port(const struct sysctl_target *t, const char *buf, size_t len,
			      size_t pos)
{
	static const struct sysctl_entry bounds = { .flags = F_MIN | F_MAX, .min = 0, .max = 65535 };
	struct sysctl_target bt = { t->ns, &bounds, t->base };
	struct ipv4_sysctl *ip = &t->ns->ip;
	int pports = ip->ip_unprivileged_port_start;
	size_t consumed = len;
	int err = 0;

	if (!pos)
		err = dointvec_write(&bt, buf, len, &pports, 1, conv_int, &consumed);
	if (err)
		return err;
	if (ip->ip_local_port_range[0] < pports)
		return -EINVAL;
	ip->ip_unprivileged_port_start = pports;
	return (long)consumed;
}

/* ipv4_ping_group_range(): gids 0..GID_T_MAX; high < low means "nobody" (1 0). */
static long write_ping_group(const struct sysctl_target *t, const char *buf, size_t len,
			     size_t pos)
{
	static const unsigned long min[2] = { 0, 0 };
	static const unsigned long max[2] = { SYSCTL_GID_T_MAX, SYSCTL_GID_T_MAX };
	struct ipv4_sysctl *ip = &t->ns->ip;
	unsigned long urange[2] = { ip->ping_group_range[0], ip->ping_group_range[1] };
	long n = write_ulongvec(t, buf, len, pos, urange, 2, min, max);

	if (n < 0)
		return n;
	if (urange[1] < urange[0]) {
		urange[0] = 1;
		urange[1] = 0;
	}
	ip->ping_group_range[0] = (unsigned)urange[0];
	ip->ping_group_range[1] = (unsigned)urange[1];
	return n;
}

/* proc_do_large_bitmap(): "a,b-c,..." (newlines also separate). A write at offset 0
 * replaces the set; the continuation of a long write adds to it. */
static long write_port_bitmap(const struct sysctl_target *t, const char *buf, size_t len,
			      size_t pos)
{
	static const char tr_a[] = { '-', ',', '\n' }, tr_b[] = { ',', '\n', 0 };
	uint64_t *bitmap = t->ns->ip.ip_local_reserved_ports;
	uint64_t tmp[65536 / 64];
	struct pbuf b = { buf, len };
	size_t skipped = 0;
	int err = 0;
	char c = 0;

	if (len == 0)
		return 0;
	if (b.left > SYSCTL_PAGE_SIZE - 1) {
		b.left = SYSCTL_PAGE_SIZE - 1;
		skipped = len - b.left;
	}
	memset(tmp, 0, sizeof(tmp));
	skip_char(&b, '\n');
	while (!err && b.left) {
		uint64_t a, z;
		bool neg;
		struct pbuf saved = b;

		err = get_long(&b, &a, &neg, tr_a, sizeof(tr_a), &c);
		/* Stop before a number that the page limit may have cut; the next write
		 * continues from there. */
		if (b.left <= 1 && skipped) {
			b = saved;
			break;
		}
		if (err)
			break;
		if (a >= 65536 || neg) {
			err = -EINVAL;
			break;
		}
		z = a;
		if (b.left) {
			b.p++;
			b.left--;
		}
		if (c == '-') {
			err = get_long(&b, &z, &neg, tr_b, sizeof(tr_b), &c);
			if (!b.left && skipped) {
				b = saved;
				break;
			}
			if (err)
				break;
			if (z >= 65536 || neg || a > z) {
				err = -EINVAL;
				break;
			}
			if (b.left) {
				b.p++;
				b.left--;
			}
		}
		for (uint64_t p = a; p <= z; p++)
			tmp[p / 64] |= 1ull << (p % 64);
		skip_char(&b, '\n');
	}
	if (err)
		return err;
	for (size_t i = 0; i < 65536 / 64; i++)
		bitmap[i] = pos ? bitmap[i] | tmp[i] : tmp[i];
	return (long)(len - (b.left + skipped));
}

static int read_port_bitmap(const struct sysctl_target *t, char *buf, size_t len)
{
	const uint64_t *bitmap = t->ns->ip.ip_local_reserved_ports;
	size_t n = 0;
	int first = 1;

#define BIT(p) ((bitmap[(p) / 64] >> ((p) % 64)) & 1)
	for (unsigned a = 0; a < 65536; a++) {
		unsigned z = a;
		int w;

		if (!BIT(a))
			continue;
		while (z + 1 < 65536 && BIT(z + 1))
			z++;
		if (a == z)
			w = snprintf(buf + n, n < len ? len - n : 0, "%s%u", first ? "" : ",", a);
		else
			w = snprintf(buf + n, n < len ? len - n : 0, "%s%u-%u", first ? "" : ",", a, z);
		n += (size_t)w;
		first = 0;
		a = z;
	}
#undef BIT
	if (n >= len)
		return -ENOSPC;
	if (!n)
		buf[0] = 0;
	return (int)n;
}

/* _proc_do_string() at offset 0: copy up to a NUL or newline, at most maxlen - 1 bytes. */
static void dostring(char *data, size_t maxlen, const char *buf, size_t len)
{
	size_t n = 0;

	while (n < len && n < maxlen - 1) {
		char c = buf[n];

		if (c == 0 || c == '\n')
			break;
		data[n++] = c;
	}
	data[n] = 0;
}

/* proc_tcp_congestion_control() + tcp_set_default_congestion_control(): -ENOENT for a
 * name ipstack does not have. (Linux also returns -EPERM in a child namespace for an
 * available but not allowed one; here every available one is allowed.) */
static long write_cc(const struct sysctl_target *t, const char *buf, size_t len, size_t pos)
{
	struct ipv4_sysctl *ip = &t->ns->ip;
	char val[SYSCTL_TCP_CA_NAME_MAX];

	if (pos || len == 0)	/* a later chunk / no bytes: the current name stays */
		return (long)len;
	dostring(val, sizeof(val), buf, len);
	for (int i = 0; sysctl_tcp_cc_available[i]; i++) {
		if (strcmp(val, sysctl_tcp_cc_available[i]) == 0) {
			memcpy(ip->tcp_congestion_control, val, sizeof(val));
			return (long)len;
		}
	}
	return -ENOENT;
}

static int read_cc_list(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; sysctl_tcp_cc_available[i]; i++) {
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", i ? " " : "",
				      sysctl_tcp_cc_available[i]);
		if (n >= len)
			return -ENOSPC;
	}
	return (int)n;
}

/* The kernel's vsscanf(buf, "%x-%x-%x-%x") as sscanf_key() uses it: returns how many
 * numbers it converted. */
static int scan_key(const char *s, uint32_t key[4])
{
	int num = 0;

	for (int i = 0; i < 4; i++) {
		unsigned base = 16;
		uint64_t v;
		bool ovf;

		if (i) {
			if (*s != '-')
				break;
			s++;
		}
		while (k_isspace(*s))
			s++;
		if (!*s || !k_isxdigit(*s))
			break;
		s = fixup_radix(s, &base);
		s += parse_integer(s, 16, INT_MAX, &v, &ovf);
		key[i] = (uint32_t)v;
		num++;
	}
	return num;
}

/* proc_tcp_fastopen_key(): "k0-k1-k2-k3[,b0-b1-b2-b3]" in hex. */
static long write_tfo_key(const struct sysctl_target *t, const char *buf, size_t len, size_t pos)
{
	struct ipv4_sysctl *ip = &t->ns->ip;
	char data[SYSCTL_TFO_KEY_MAXLEN];
	uint32_t key[8];
	char *backup;

	if (pos || len == 0)
		return (long)len;
	dostring(data, sizeof(data), buf, len);
	backup = strchr(data, ',');
	if (backup)
		*backup++ = 0;
	if (scan_key(data, key) != 4 || (backup && scan_key(backup, key + 4) != 4))
		return -EINVAL;
	memcpy(ip->tcp_fastopen_key, key, sizeof(uint32_t) * (backup ? 8 : 4));
	if (!backup)
		memset(ip->tcp_fastopen_key + 4, 0, 4 * sizeof(uint32_t));
	ip->tcp_fastopen_key_n = backup ? 2 : 1;
	return (long)len;
}

static int read_tfo_key(const struct sysctl_target *t, char *buf, size_t len)
{
	const struct ipv4_sysctl *ip = &t->ns->ip;
	int keys = ip->tcp_fastopen_key_n ? ip->tcp_fastopen_key_n : 1;
	size_t n = 0;

	for (int i = 0; i < keys; i++) {
		const uint32_t *k = ip->tcp_fastopen_key_n ? ip->tcp_fastopen_key + 4 * i
							   : (const uint32_t[4]){ 0 };

		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%08x-%08x-%08x-%08x",
				      i ? "," : "", k[0], k[1], k[2], k[3]);
	}
	return n < len ? (int)n : -ENOSPC;
}

/* neigh_proc_dointvec_unres_qlen(): packets in, bytes stored. */
static long write_unres_qlen(const struct sysctl_target *t, const char *buf, size_t len,
			     size_t pos)
{
	static const struct sysctl_entry bounds = {
		.flags = F_MIN | F_MAX, .min = 0, .max = INT_MAX / SYSCTL_SKB_TRUESIZE
	};
	struct sysctl_target bt = { t->ns, &bounds, t->base };
	int *bytes = field(t);
	int size = *bytes / SYSCTL_SKB_TRUESIZE;
	size_t consumed = len;
	int err = 0;

	if (!pos)
		err = dointvec_write(&bt, buf, len, &size, 1, conv_int, &consumed);
	if (err)
		return err;
	*bytes = size * SYSCTL_SKB_TRUESIZE;
	return (long)consumed;
}

long sysctl_proc_write(const struct sysctl_target *t, const char *buf, size_t len, size_t pos)
{
	switch (t->e->kind) {
	case SK_INT:
		return write_intvec(t, buf, len, pos, conv_int);
	case SK_JIFFIES:
		return write_intvec(t, buf, len, pos, conv_jiffies);
	case SK_MS_JIFFIES:
		return write_intvec(t, buf, len, pos, conv_ms_jiffies);
	case SK_USERHZ:
		return write_intvec(t, buf, len, pos, conv_userhz);
	case SK_U8:
	case SK_UINT:
		return write_uint(t, buf, len, pos);
	case SK_ULONG:
		return write_ulong_entry(t, buf, len, pos);
	case SK_UNRES_QLEN:
		return write_unres_qlen(t, buf, len, pos);
	case SK_PORT_RANGE:
		return write_port_range(t, buf, len, pos);
	case SK_UNPRIV_PORT:
		return write_unpriv_port(t, buf, len, pos);
	case SK_PING_GROUP:
		return write_ping_group(t, buf, len, pos);
	case SK_PORT_BITMAP:
		return write_port_bitmap(t, buf, len, pos);
	case SK_CC:
		return write_cc(t, buf, len, pos);
	case SK_TFO_KEY:
		return write_tfo_key(t, buf, len, pos);
	case SK_FLUSH:
		return (long)len;
	case SK_FORWARD:	/* handled by sysctl.c (it reaches every device) */
	case SK_CC_LIST:	/* read-only */
		break;
	}
	return -EACCES;
}

/* ---- reading ---- */

struct out {
	char *buf;
	size_t len, n;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	o->n += (size_t)vsnprintf(o->buf + o->n, o->n < o->len ? o->len - o->n : 0, fmt, ap);
	va_end(ap);
}

/* The kernel's int v printed by the entry's conversion. */
static void put_kernel_int(struct out *o, const struct sysctl_target *t, int64_t v)
{
	bool neg = v < 0;
	uint64_t lval = neg ? (uint64_t)(-v) : (uint64_t)v;

	switch (t->e->kind) {
	case SK_JIFFIES:
		put(o, "%s%" PRIu64, neg ? "-" : "", lval / (uint64_t)t->ns->hz);
		break;
	case SK_MS_JIFFIES:
		put(o, "%s%" PRIu32, neg ? "-" : "", jiffies_to_msecs(t->ns, lval));
		break;
	case SK_USERHZ:
		put(o, "%s%" PRIu64, neg ? "-" : "", jiffies_to_clock_t(t->ns, lval));
		break;
	case SK_U8:
	case SK_UINT:
		put(o, "%" PRIu64, (uint64_t)v);
		break;
	default:
		put(o, "%d", (int)v);
		break;
	}
}

int sysctl_proc_read(const struct sysctl_target *t, char *buf, size_t len)
{
	const struct sysctl_entry *e = t->e;
	struct out o = { buf, len, 0 };

	if (len)
		buf[0] = 0;
	switch (e->kind) {
	case SK_PORT_BITMAP:
		return read_port_bitmap(t, buf, len);
	case SK_CC_LIST:
		return read_cc_list(buf, len);
	case SK_TFO_KEY:
		return read_tfo_key(t, buf, len);
	case SK_CC:
		put(&o, "%s", t->ns->ip.tcp_congestion_control);
		break;
	case SK_FLUSH:
		return -EACCES;
	case SK_UNRES_QLEN:
		put(&o, "%d", *(int *)field(t) / SYSCTL_SKB_TRUESIZE);
		break;
	case SK_FORWARD:
		put(&o, "%d", e->scope == SC_IP ? t->ns->conf_all.forwarding : *(int *)field(t));
		break;
	case SK_PING_GROUP:
	case SK_ULONG:
		for (int i = 0; i < e->n; i++) {
			unsigned long v = e->kind == SK_PING_GROUP
						  ? t->ns->ip.ping_group_range[i]
						  : ((unsigned long *)field(t))[i];
			put(&o, "%s%lu", i ? "\t" : "", v);
		}
		break;
	default:
		for (int i = 0; i < e->n; i++) {
			if (i)
				put(&o, "\t");
			put_kernel_int(&o, t, load(t, i));
		}
		break;
	}
	return o.n < len ? (int)o.n : -ENOSPC;
}

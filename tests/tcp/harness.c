/* The scripted packet-level TCP harness (see harness.h and tests/tcp/README.md). */
#include "tcp/harness.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipstack/ipstack.h"
#include "core/stack.h"
#include "transport/tcp.h"
#include "transport/tcp_int.h"
#include "wire/tcp.h"
#include "wire/wire.h"

#define H_LOCAL "192.168.0.1"
#define H_REMOTE "192.0.2.1"
#define H_MAXFD 64
#define H_MAXPKT 65536
#define H_REMOTE_ISN 1000000000u
#define H_MAXPEERS 4096

struct hpkt {
	struct hpkt *next;
	uint64_t t_ns;
	size_t len;
	uint8_t data[];
};

/* One remote end the harness plays: its address and port, the ISNs that make sequence
 * numbers relative, the last TS val the stack sent it (for "ecr *") and the last segment
 * the stack sent it (quoted by ICMP errors). The untagged lines of a script use the
 * default peer (192.0.2.1, port remote_port); a line tagged "[port N]" uses its own. */
struct hpeer {
	uint32_t addr;			/* network byte order */
	uint16_t port;			/* the peer's port (tagged peers) */
	uint16_t local_port;		/* ours, learned from what the stack sent (0: listener's) */
	bool local_isn_known;
	uint32_t local_isn;
	uint32_t remote_isn;
	uint32_t last_tsval;		/* last TS val the stack sent */
	uint32_t last_ecr;		/* TS ecr of the last segment injected ("ecr =") */
	uint8_t last_out[128];		/* last data/SYN segment sent (for ICMP quotes) */
	size_t last_out_len;
	bool picked;			/* scratch: matched by the current ranged '>' line */
};

struct harness {
	const char *name;
	FILE *err;
	int lineno;
	const char *line;
	ips_world *w;
	ips_stack *st;
	uint64_t t0_ns;			/* script time 0 on the world clock */
	uint64_t last_ns;		/* time of the previous event (script clock) */
	uint64_t tol_ns;
	struct hpkt *q, *q_tail;	/* packets the stack sent, not yet matched */
	struct tcp_sock *fds[H_MAXFD];
	struct hpeer dflt;		/* the untagged peer */
	struct hpeer *peers;		/* tagged peers */
	size_t npeers;
	uint16_t ip_id;
	uint16_t remote_port;		/* default remote port */
	uint16_t local_port;		/* last seen local port of the connection */
	uint16_t remote_port_seen;
	uint16_t listen_port;		/* port of the last listen() */
	struct hpeer **sel;		/* scratch: the peers of the current line */
	uint32_t mtu;
	bool failed;
};

static int hfail(struct harness *h, const char *fmt, ...)
{
	va_list ap;

	if (h->failed)
		return -1;
	h->failed = true;
	fprintf(h->err, "%s:%d: ", h->name, h->lineno);
	va_start(ap, fmt);
	vfprintf(h->err, fmt, ap);
	va_end(ap);
	fprintf(h->err, "\n    script: %s\n", h->line ? h->line : "");
	return -1;
}

static uint8_t pattern(uint32_t off)
{
	return (uint8_t)(off * 7 + 13);
}

static void out_cb(void *arg, const void *pkt, size_t len)
{
	struct harness *h = arg;
	struct hpkt *p = malloc(sizeof(*p) + len);

	if (!p)
		return;
	p->next = NULL;
	p->t_ns = ips_world_now_ns(h->w);
	p->len = len;
	memcpy(p->data, pkt, len);
	if (h->q_tail)
		h->q_tail->next = p;
	else
		h->q = p;
	h->q_tail = p;
}

static struct hpkt *q_pop(struct harness *h)
{
	struct hpkt *p = h->q;

	if (p) {
		h->q = p->next;
		if (!h->q)
			h->q_tail = NULL;
	}
	return p;
}

static int q_nonempty(void *arg)
{
	return ((struct harness *)arg)->q != NULL;
}

static uint64_t now_script(struct harness *h)
{
	return ips_world_now_ns(h->w) - h->t0_ns;
}

/* ---- packet printing (tcpdump/packetdrill style) ---- */

static void flags_str(uint16_t f, char *b)
{
	char *p = b;

	if (f & WIRE_TCP_SYN)
		*p++ = 'S';
	if (f & WIRE_TCP_FIN)
		*p++ = 'F';
	if (f & WIRE_TCP_RST)
		*p++ = 'R';
	if (f & WIRE_TCP_PSH)
		*p++ = 'P';
	if (f & WIRE_TCP_URG)
		*p++ = 'U';
	if (f & WIRE_TCP_ECE)
		*p++ = 'E';
	if (f & WIRE_TCP_CWR)
		*p++ = 'W';
	if (f & WIRE_TCP_ACK)
		*p++ = '.';
	*p = 0;
}

/* Options as a comma list: "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7". SACK blocks
 * are printed relative to base. */
static void opts_str(const uint8_t *o, size_t n, uint32_t base, char *b, size_t bl)
{
	size_t i = 0, w = 0;

	b[0] = 0;
	while (i < n && w < bl - 64) {
		uint8_t k = o[i], l;

		if (w)
			b[w++] = ',';
		b[w] = 0;
		if (k == 0) {
			w += (size_t)snprintf(b + w, bl - w, "eol");
			i++;
			continue;
		}
		if (k == 1) {
			w += (size_t)snprintf(b + w, bl - w, "nop");
			i++;
			continue;
		}
		if (i + 1 >= n || (l = o[i + 1]) < 2 || i + l > n) {
			w += (size_t)snprintf(b + w, bl - w, "bad");
			break;
		}
		if (k == 2 && l == 4)
			w += (size_t)snprintf(b + w, bl - w, "mss %u", get_be16(o + i + 2));
		else if (k == 3 && l == 3)
			w += (size_t)snprintf(b + w, bl - w, "wscale %u", o[i + 2]);
		else if (k == 4 && l == 2)
			w += (size_t)snprintf(b + w, bl - w, "sackOK");
		else if (k == 8 && l == 10)
			w += (size_t)snprintf(b + w, bl - w, "TS val %u ecr %u", get_be32(o + i + 2),
					      get_be32(o + i + 6));
		else if (k == 5 && (l - 2) % 8 == 0) {
			w += (size_t)snprintf(b + w, bl - w, "sack");
			for (int j = 0; j < (l - 2) / 8; j++)
				w += (size_t)snprintf(b + w, bl - w, " %u:%u",
						      get_be32(o + i + 2 + 8 * j) - base,
						      get_be32(o + i + 6 + 8 * j) - base);
		} else
			w += (size_t)snprintf(b + w, bl - w, "opt%u/%u", k, l);
		i += l;
	}
}

struct tcpv {
	uint32_t saddr, daddr;
	uint8_t tos, ttl;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint16_t flags, win, urg;
	const uint8_t *opts;
	size_t optlen;
	const uint8_t *payload;
	size_t plen;
	uint8_t proto;
	const uint8_t *ipopts;		/* IP options (ihl > 5) */
	size_t ipoptlen;
};

static int parse_ip_tcp(const uint8_t *p, size_t len, struct tcpv *v)
{
	size_t ihl, doff;

	memset(v, 0, sizeof(*v));
	if (len < 20 || (p[0] >> 4) != 4)
		return -1;
	ihl = (size_t)(p[0] & 15) * 4;
	v->tos = p[1];
	v->ttl = p[8];
	v->proto = p[9];
	memcpy(&v->saddr, p + 12, 4);
	memcpy(&v->daddr, p + 16, 4);
	if (v->proto != IPPROTO_TCP || len < ihl + 20 || ihl < 20)
		return -1;
	v->ipopts = p + 20;
	v->ipoptlen = ihl - 20;
	p += ihl;
	len -= ihl;
	doff = (size_t)(p[12] >> 4) * 4;
	if (doff < 20 || doff > len)
		return -1;
	v->sport = get_be16(p);
	v->dport = get_be16(p + 2);
	v->seq = get_be32(p + 4);
	v->ack = get_be32(p + 8);
	v->flags = (uint16_t)(p[13] | ((p[12] & 1) << 8));
	v->win = get_be16(p + 14);
	v->urg = get_be16(p + 18);
	v->opts = p + 20;
	v->optlen = doff - 20;
	v->payload = p + doff;
	v->plen = len - doff;
	return 0;
}

static void pkt_str(const struct hpeer *c, const struct tcpv *v, bool out, char *b, size_t bl)
{
	char f[12], o[400];
	uint32_t sbase = out ? c->local_isn : c->remote_isn;
	uint32_t abase = out ? c->remote_isn : c->local_isn;
	uint32_t rel = v->seq - sbase;
	size_t w;

	flags_str(v->flags, f);
	opts_str(v->opts, v->optlen, abase, o, sizeof(o));
	w = (size_t)snprintf(b, bl, "%s %s %u:%u(%zu)", out ? ">" : "<", f, rel,
			     rel + (uint32_t)v->plen, v->plen);
	if (v->flags & WIRE_TCP_ACK)
		w += (size_t)snprintf(b + w, bl - w, " ack %u", v->ack - abase);
	w += (size_t)snprintf(b + w, bl - w, " win %u", v->win);
	if (v->flags & WIRE_TCP_URG)
		w += (size_t)snprintf(b + w, bl - w, " urg %u", v->urg);
	if (o[0])
		snprintf(b + w, bl - w, " <%s>", o);
}

/* ---- tokenizer ---- */

struct tok {
	const char *s;
};

static void skip_ws(struct tok *t)
{
	while (*t->s && isspace((unsigned char)*t->s))
		t->s++;
}

static bool next_word(struct tok *t, char *w, size_t wl)
{
	size_t n = 0;

	skip_ws(t);
	if (!*t->s)
		return false;
	while (*t->s && !isspace((unsigned char)*t->s) && n < wl - 1)
		w[n++] = *t->s++;
	w[n] = 0;
	return true;
}

static bool peek_word(struct tok *t, char *w, size_t wl)
{
	struct tok c = *t;

	return next_word(&c, w, wl);
}

/* ---- inbound packets ---- */

static uint16_t csum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An IPv4 header with olen bytes of options (a multiple of 4) at b; returns its length. */
static size_t build_ip_opts(struct harness *h, uint8_t *b, uint8_t proto, size_t plen,
			    uint32_t src, uint32_t dst, uint8_t tos, const uint8_t *opts, size_t olen)
{
	size_t hl = 20 + olen;

	b[0] = (uint8_t)(0x40 | hl / 4);
	b[1] = tos;
	put_be16(b + 2, (uint16_t)(hl + plen));
	put_be16(b + 4, h->ip_id++);
	put_be16(b + 6, 0x4000);
	b[8] = 64;
	b[9] = proto;
	put_be16(b + 10, 0);
	memcpy(b + 12, &src, 4);
	memcpy(b + 16, &dst, 4);
	if (olen)
		memcpy(b + 20, opts, olen);
	put_be16(b + 10, csum16(b, hl, 0));
	return hl;
}

static size_t build_ip(struct harness *h, uint8_t *b, uint8_t proto, size_t plen, uint32_t src,
		       uint32_t dst, uint8_t tos)
{
	b[0] = 0x45;
	b[1] = tos;
	put_be16(b + 2, (uint16_t)(20 + plen));
	put_be16(b + 4, h->ip_id++);
	put_be16(b + 6, 0x4000);
	b[8] = 64;
	b[9] = proto;
	put_be16(b + 10, 0);
	memcpy(b + 12, &src, 4);
	memcpy(b + 16, &dst, 4);
	put_be16(b + 10, csum16(b, 20, 0));
	return 20;
}

static int parse_u32(const char *s, uint32_t *v)
{
	char *e;
	unsigned long long x = strtoull(s, &e, 0);

	if (e == s)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

/* Parse "<mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>" (the text inside < >) into
 * bytes (inbound) */
static int build_opts(struct harness *h, struct hpeer *c, const char *spec, uint8_t *o,
		      size_t *olen)
{
	char buf[512], *save = NULL, *item;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char w[32];
		struct tok t = { item };
		uint32_t a = 0, b = 0;

		if (!next_word(&t, w, sizeof(w)))
			continue;
		if (!strcmp(w, "nop")) {
			o[n++] = 1;
		} else if (!strcmp(w, "eol")) {
			o[n++] = 0;
		} else if (!strcmp(w, "mss")) {
			next_word(&t, w, sizeof(w));
			parse_u32(w, &a);
			o[n++] = 2;
			o[n++] = 4;
			put_be16(o + n, (uint16_t)a);
			n += 2;
		} else if (!strcmp(w, "wscale")) {
			next_word(&t, w, sizeof(w));
			parse_u32(w, &a);
			o[n++] = 3;
			o[n++] = 3;
			o[n++] = (uint8_t)a;
		} else if (!strcmp(w, "sackOK")) {
			o[n++] = 4;
			o[n++] = 2;
		} else if (!strcmp(w, "TS")) {
			char w2[32];

			next_word(&t, w, sizeof(w));	/* val */
			next_word(&t, w2, sizeof(w2));
			parse_u32(w2, &a);
			next_word(&t, w, sizeof(w));	/* ecr */
			next_word(&t, w2, sizeof(w2));
			if (!strcmp(w2, "*"))
				b = c->last_tsval;
			else if (!strcmp(w2, "="))
				b = c->last_ecr;	/* a burst echoing one old timestamp */
			else
				parse_u32(w2, &b);
			c->last_ecr = b;
			o[n++] = 8;
			o[n++] = 10;
			put_be32(o + n, a);
			put_be32(o + n + 4, b);
			n += 8;
		} else if (!strcmp(w, "sack")) {
			size_t at = n;

			o[n++] = 5;
			o[n++] = 2;
			while (next_word(&t, w, sizeof(w))) {
				char *colon = strchr(w, ':');

				if (!colon)
					return hfail(h, "bad sack block %s", w);
				*colon = 0;
				parse_u32(w, &a);
				parse_u32(colon + 1, &b);
				put_be32(o + n, a + c->local_isn);
				put_be32(o + n + 4, b + c->local_isn);
				n += 8;
				o[at + 1] += 8;
			}
		} else {
			return hfail(h, "unknown option '%s'", w);
		}
		if (n > 40)
			return hfail(h, "options longer than 40 bytes");
	}
	*olen = n;
	return 0;
}

static uint16_t parse_flags(const char *s, bool *ok)
{
	uint16_t f = 0;

	*ok = true;
	for (; *s; s++) {
		switch (*s) {
		case 'S': f |= WIRE_TCP_SYN; break;
		case 'F': f |= WIRE_TCP_FIN; break;
		case 'R': f |= WIRE_TCP_RST; break;
		case 'P': f |= WIRE_TCP_PSH; break;
		case 'U': f |= WIRE_TCP_URG; break;
		case 'E': f |= WIRE_TCP_ECE; break;
		case 'W': f |= WIRE_TCP_CWR; break;
		case '.': f |= WIRE_TCP_ACK; break;
		default: *ok = false;
		}
	}
	return f;
}

struct pspec {
	uint16_t flags;
	uint32_t seq, end, len;
	bool has_ack;
	uint32_t ack;
	bool has_win;
	uint32_t win;
	bool has_urg;
	uint32_t urg;
	bool has_opts;
	char opts[512];
	bool ect0, ce;
	bool has_tos;
	uint32_t tos;
	bool has_ipopt;			/* ipopt HEX: IP options sent / expected exactly */
	uint8_t ipopt[40];
	size_t ipopt_len;
	bool has_ipdst;			/* ipdst A.B.C.D: the IP destination expected (a
					 * source route's first hop) */
	uint32_t ipdst;
};

/* HEX (pairs of digits) into at most 40 bytes, padded with EOL to a multiple of 4;
 * "-": none. */
static int parse_ipopt_hex(const char *w, uint8_t *out, size_t *len)
{
	size_t n = strcmp(w, "-") ? strlen(w) : 0;

	if (n % 2 || n / 2 > 40)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned x;

		if (sscanf(w + 2 * i, "%2x", &x) != 1)
			return -1;
		out[i] = (uint8_t)x;
	}
	*len = n / 2;
	while (*len % 4 && *len < 40)
		out[(*len)++] = 0;
	return 0;
}

/* FLAGS SEQ:END(LEN) [ack N] [win N] [urg N] [ect0|ce] [<opts>] */
static int parse_pspec(struct harness *h, struct tok *t, struct pspec *p)
{
	char w[64];
	bool ok;
	const char *lt;

	memset(p, 0, sizeof(*p));
	if (!next_word(t, w, sizeof(w)))
		return hfail(h, "missing flags");
	p->flags = parse_flags(w, &ok);
	if (!ok)
		return hfail(h, "bad flags '%s'", w);
	if (!next_word(t, w, sizeof(w)))
		return hfail(h, "missing seq");
	if (sscanf(w, "%u:%u(%u)", &p->seq, &p->end, &p->len) != 3)
		return hfail(h, "bad seq '%s' (want start:end(len))", w);
	if (p->end - p->seq != p->len)
		return hfail(h, "seq range and length disagree in '%s'", w);
	for (;;) {
		skip_ws(t);
		if (!*t->s)
			break;
		if (*t->s == '<') {
			lt = strrchr(t->s, '>');
			if (!lt)
				return hfail(h, "unterminated options");
			snprintf(p->opts, sizeof(p->opts), "%.*s", (int)(lt - t->s - 1), t->s + 1);
			p->has_opts = true;
			t->s = lt + 1;
			continue;
		}
		next_word(t, w, sizeof(w));
		if (!strcmp(w, "ack")) {
			next_word(t, w, sizeof(w));
			p->has_ack = true;
			if (parse_u32(w, &p->ack))
				return hfail(h, "bad ack");
		} else if (!strcmp(w, "win")) {
			next_word(t, w, sizeof(w));
			p->has_win = true;
			if (parse_u32(w, &p->win))
				return hfail(h, "bad win");
		} else if (!strcmp(w, "urg")) {
			next_word(t, w, sizeof(w));
			p->has_urg = true;
			parse_u32(w, &p->urg);
		} else if (!strcmp(w, "ect0")) {
			p->ect0 = true;
		} else if (!strcmp(w, "ce")) {
			p->ce = true;
		} else if (!strcmp(w, "tos")) {
			next_word(t, w, sizeof(w));
			p->has_tos = true;
			parse_u32(w, &p->tos);
		} else if (!strcmp(w, "ipopt")) {
			next_word(t, w, sizeof(w));
			p->has_ipopt = true;
			if (parse_ipopt_hex(w, p->ipopt, &p->ipopt_len) < 0)
				return hfail(h, "bad ipopt '%s' (hex, at most 40 bytes)", w);
		} else if (!strcmp(w, "ipdst")) {
			next_word(t, w, sizeof(w));
			p->has_ipdst = true;
			if (inet_pton(AF_INET, w, &p->ipdst) != 1)
				return hfail(h, "bad ipdst '%s'", w);
		} else {
			return hfail(h, "unexpected '%s' in packet", w);
		}
	}
	return 0;
}

/* The ports of a segment from peer c (the default peer follows the connection the stack
 * last spoke for; a tagged peer has its own port, and ours is what the stack last used
 * towards it, else the listener's). */
static void peer_ports(struct harness *h, const struct hpeer *c, uint16_t *sport, uint16_t *dport)
{
	if (c == &h->dflt) {
		*sport = h->remote_port_seen ? h->remote_port_seen : h->remote_port;
		*dport = h->local_port;
	} else {
		*sport = c->port;
		*dport = c->local_port ? c->local_port : h->listen_port;
	}
}

static int inject_tcp(struct harness *h, struct hpeer *c, const struct pspec *p)
{
	uint8_t b[H_MAXPKT];
	uint8_t opts[48];
	size_t olen = 0, hl, tl;
	uint32_t src = c->addr, dst = inet_addr(H_LOCAL);
	uint8_t *th;
	uint8_t tos = 0;
	uint16_t sport, dport;
	size_t ihl;

	if (p->has_opts && build_opts(h, c, p->opts, opts, &olen) < 0)
		return -1;
	if (p->has_ipdst)
		return hfail(h, "ipdst is for packets the stack sends");
	while (olen % 4)
		opts[olen++] = 0;
	hl = 20 + olen;
	tl = hl + p->len;
	if (tl + 60 > sizeof(b))
		return hfail(h, "packet too big");
	if (p->ect0)
		tos = 2;
	if (p->ce)
		tos = 3;
	if (p->has_tos)
		tos = (uint8_t)p->tos;
	ihl = build_ip_opts(h, b, IPPROTO_TCP, tl, src, dst, tos, p->ipopt,
			    p->has_ipopt ? p->ipopt_len : 0);
	th = b + ihl;
	memset(th, 0, hl);
	peer_ports(h, c, &sport, &dport);
	put_be16(th, sport);
	put_be16(th + 2, dport);
	put_be32(th + 4, p->seq + c->remote_isn);
	put_be32(th + 8, p->has_ack ? p->ack + c->local_isn : 0);
	th[12] = (uint8_t)((hl / 4) << 4) | ((p->flags >> 8) & 1);
	th[13] = (uint8_t)p->flags;
	put_be16(th + 14, (uint16_t)(p->has_win ? p->win : 65535));
	put_be16(th + 18, (uint16_t)(p->has_urg ? p->urg : 0));
	memcpy(th + 20, opts, olen);
	for (uint32_t i = 0; i < p->len; i++)
		th[hl + i] = pattern(p->seq + i - ((p->flags & WIRE_TCP_SYN) ? 0 : 1));
	wire_tcp_csum_fill(th, tl, src, dst);
	return ips_cbdev_inject(h->st, "tun0", b, ihl + tl) < 0 ? hfail(h, "inject failed") : 0;
}

/* Compare an outbound options string with the expected spec (comma items; '*' matches
 * any value word). */
static bool opts_match(const char *exp, const char *got)
{
	char e[512], g[512];
	char *es = NULL, *gs = NULL, *ei, *gi;

	snprintf(e, sizeof(e), "%s", exp);
	snprintf(g, sizeof(g), "%s", got);
	ei = strtok_r(e, ",", &es);
	gi = strtok_r(g, ",", &gs);
	while (ei && gi) {
		struct tok te = { ei }, tg = { gi };
		char we[40], wg[40];

		for (;;) {
			bool he = next_word(&te, we, sizeof(we)), hg = next_word(&tg, wg, sizeof(wg));

			if (!he && !hg)
				break;
			if (he != hg)
				return false;
			if (strcmp(we, "*") && strcmp(we, wg))
				return false;
		}
		ei = strtok_r(NULL, ",", &es);
		gi = strtok_r(NULL, ",", &gs);
	}
	return !ei && !gi;
}

static int match_out(struct harness *h, struct hpeer *c, const struct pspec *p, struct hpkt *pk)
{
	struct tcpv v;
	char got[600];
	uint32_t rel;

	if (parse_ip_tcp(pk->data, pk->len, &v) < 0)
		return hfail(h, "stack sent a non-TCP packet (%zu bytes)", pk->len);
	if ((v.flags & WIRE_TCP_SYN) && !c->local_isn_known) {
		c->local_isn = v.seq - p->seq;
		c->local_isn_known = true;
	}
	if (c == &h->dflt) {
		h->local_port = v.sport;
		h->remote_port_seen = v.dport;
	} else {
		c->local_port = v.sport;
	}
	for (size_t i = 0; i + 10 <= v.optlen;) {
		uint8_t k = v.opts[i];

		if (k == 0)
			break;
		if (k == 1) {
			i++;
			continue;
		}
		if (v.opts[i + 1] < 2)
			break;
		if (k == 8 && v.opts[i + 1] == 10)
			c->last_tsval = get_be32(v.opts + i + 2);
		i += v.opts[i + 1];
	}
	pkt_str(c, &v, true, got, sizeof(got));
	rel = v.seq - c->local_isn;
	if (v.flags != p->flags)
		return hfail(h, "flags differ: got %s", got);
	if (rel != p->seq || v.plen != p->len)
		return hfail(h, "sequence/length differ: got %s", got);
	if (p->has_ack && v.ack - c->remote_isn != p->ack)
		return hfail(h, "ack differs: got %s", got);
	if (p->has_win && v.win != p->win)
		return hfail(h, "window differs: got %s", got);
	if (p->has_urg && v.urg != p->urg)
		return hfail(h, "urgent pointer differs: got %s", got);
	if (p->ect0 && (v.tos & 3) != 2)
		return hfail(h, "expected ECT(0): tos 0x%x, %s", v.tos, got);
	if (p->has_tos && v.tos != p->tos)
		return hfail(h, "expected tos 0x%x: tos 0x%x, %s", p->tos, v.tos, got);
	if (p->has_ipdst && v.daddr != p->ipdst) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &v.daddr, a, sizeof(a));
		return hfail(h, "IP destination differs: %s, %s", a, got);
	}
	if (p->has_ipopt &&
	    (v.ipoptlen != p->ipopt_len || memcmp(v.ipopts, p->ipopt, p->ipopt_len))) {
		char x[100];

		for (size_t i = 0; i < v.ipoptlen && i < 40; i++)
			snprintf(x + 2 * i, sizeof(x) - 2 * i, "%02x", v.ipopts[i]);
		x[2 * (v.ipoptlen < 40 ? v.ipoptlen : 40)] = 0;
		return hfail(h, "IP options differ: ipopt %s, %s", v.ipoptlen ? x : "(none)", got);
	}
	if (p->has_opts) {
		char o[400];

		opts_str(v.opts, v.optlen, c->remote_isn, o, sizeof(o));
		if (!opts_match(p->opts, o))
			return hfail(h, "options differ: got <%s> in %s", o, got);
	}
	/* payload: the write() pattern by stream offset */
	for (size_t i = 0; i < v.plen; i++) {
		uint32_t off = rel - ((v.flags & WIRE_TCP_SYN) ? 0 : 1) + (uint32_t)i;

		if (v.payload[i] != pattern(off))
			return hfail(h, "payload byte %zu differs (%u != %u): %s", i, v.payload[i],
				     pattern(off), got);
	}
	if (v.plen || (v.flags & (WIRE_TCP_SYN | WIRE_TCP_FIN))) {
		size_t n = pk->len < sizeof(c->last_out) ? pk->len : sizeof(c->last_out);

		memcpy(c->last_out, pk->data, n);
		c->last_out_len = n;
	}
	return 0;
}

static struct hpeer *peer_find(struct harness *h, uint32_t addr, uint16_t port)
{
	for (size_t i = 0; i < h->npeers; i++)
		if (h->peers[i].addr == addr && h->peers[i].port == port)
			return &h->peers[i];
	return NULL;
}

/* The peer whose numbers make a packet from the stack readable. */
static struct hpeer *pkt_peer(struct harness *h, const struct tcpv *v)
{
	struct hpeer *c = peer_find(h, v->daddr, v->dport);

	return c ? c : &h->dflt;
}

/* Run the world to script time t; any packet the stack sends before is unexpected. */
static int run_to(struct harness *h, uint64_t t)
{
	uint64_t now = now_script(h);

	if (h->q) {
		struct tcpv v;
		char got[600];

		if (parse_ip_tcp(h->q->data, h->q->len, &v) == 0)
			pkt_str(pkt_peer(h, &v), &v, true, got, sizeof(got));
		else
			snprintf(got, sizeof(got), "(non-TCP, %zu bytes)", h->q->len);
		return hfail(h, "unexpected packet at %.3f: %s", (double)(h->q->t_ns - h->t0_ns) / 1e9,
			     got);
	}
	ips_world_run_until(h->w, q_nonempty, h, t > now ? t - now : 0);
	if (h->q) {
		struct tcpv v;
		char got[600];

		if (parse_ip_tcp(h->q->data, h->q->len, &v) == 0)
			pkt_str(pkt_peer(h, &v), &v, true, got, sizeof(got));
		else
			snprintf(got, sizeof(got), "(non-TCP, %zu bytes)", h->q->len);
		return hfail(h, "unexpected packet at %.3f: %s", (double)(h->q->t_ns - h->t0_ns) / 1e9,
			     got);
	}
	return 0;
}

/* The packets of a tagged line go to these peers (n == 0: an untagged line). */
struct psel {
	struct hpeer **v;
	size_t n;
	size_t want;	/* '>': packets expected (count N: any N of the peers), else n */
};

/* The first queued packet for a selected peer not yet matched by this line (its link). */
static struct hpkt **q_find(struct harness *h, const struct psel *sel, struct hpeer **who)
{
	for (struct hpkt **pp = &h->q; *pp; pp = &(*pp)->next) {
		struct tcpv v;

		if (parse_ip_tcp((*pp)->data, (*pp)->len, &v) < 0)
			continue;
		for (size_t i = 0; i < sel->n; i++) {
			struct hpeer *c = sel->v[i];

			if (!c->picked && c->addr == v.daddr && c->port == v.dport) {
				*who = c;
				return pp;
			}
		}
	}
	return NULL;
}

struct qwait {
	struct harness *h;
	const struct psel *sel;
};

static int q_has_for(void *arg)
{
	struct qwait *qw = arg;
	struct hpeer *c;

	return q_find(qw->h, qw->sel, &c) != NULL;
}

static struct hpkt *q_unlink(struct harness *h, struct hpkt **pp)
{
	struct hpkt *p = *pp;

	*pp = p->next;
	if (h->q_tail == p) {
		h->q_tail = h->q;
		while (h->q_tail && h->q_tail->next)
			h->q_tail = h->q_tail->next;
	}
	p->next = NULL;
	return p;
}

static int check_not_early(struct harness *h, struct hpeer *c, struct hpkt *pk, uint64_t t,
			   uint64_t lo)
{
	uint64_t at = pk->t_ns - h->t0_ns;

	if (at < lo) {
		struct tcpv v;
		char got[600];

		parse_ip_tcp(pk->data, pk->len, &v);
		pkt_str(c, &v, true, got, sizeof(got));
		free(pk);
		return hfail(h, "packet sent too early at %.3f (expected %.3f): %s",
			     (double)at / 1e9, (double)t / 1e9, got);
	}
	return 0;
}

/* An untagged '>' takes the next packet the stack sent; a tagged one takes, for each of its
 * peers, the first packet to that peer (packets to different peers may come in any order:
 * timers that expire together fire in an order neither stack promises). */
static int expect_out(struct harness *h, uint64_t t, uint64_t lo, uint64_t hi,
		      const struct pspec *p, const struct psel *sel)
{
	struct hpkt *pk;
	int rc = 0;

	if (!sel->n) {
		uint64_t now = now_script(h);

		if (!h->q)
			ips_world_run_until(h->w, q_nonempty, h, hi > now ? hi - now : 0);
		pk = q_pop(h);
		if (!pk)
			return hfail(h, "expected packet not sent by %.3f", (double)hi / 1e9);
		if (check_not_early(h, &h->dflt, pk, t, lo) < 0)
			return -1;
		rc = match_out(h, &h->dflt, p, pk);
		free(pk);
		return rc;
	}
	for (size_t k = 0; k < sel->want && !rc; k++) {
		struct qwait qw = { h, sel };
		struct hpeer *c = NULL;
		struct hpkt **pp = q_find(h, sel, &c);
		uint64_t now = now_script(h);

		if (!pp) {
			ips_world_run_until(h->w, q_has_for, &qw, hi > now ? hi - now : 0);
			pp = q_find(h, sel, &c);
		}
		if (!pp) {
			rc = hfail(h, "expected packet not sent by %.3f (%zu of %zu)", (double)hi / 1e9,
				   k, sel->want);
			break;
		}
		pk = q_unlink(h, pp);
		c->picked = true;
		if (check_not_early(h, c, pk, t, lo) < 0) {
			rc = -1;
			break;
		}
		rc = match_out(h, c, p, pk);
		free(pk);
	}
	for (size_t i = 0; i < sel->n; i++)
		sel->v[i]->picked = false;
	return rc;
}

/* ---- ICMP ---- */

static int inject_icmp(struct harness *h, const struct hpeer *c, struct tok *t)
{
	char w[32];
	uint8_t b[256];
	uint32_t src = c->addr, dst = inet_addr(H_LOCAL);
	int type = 3, code = 0;
	uint32_t mtu = 0;
	size_t q = c->last_out_len < 48 ? c->last_out_len : 48, n;
	uint8_t *ic;

	while (next_word(t, w, sizeof(w))) {
		if (!strcmp(w, "unreach") || !strcmp(w, "unreachable"))
			type = 3;
		else if (!strcmp(w, "net"))
			code = 0;
		else if (!strcmp(w, "host"))
			code = 1;
		else if (!strcmp(w, "proto"))
			code = 2;
		else if (!strcmp(w, "port"))
			code = 3;
		else if (!strcmp(w, "frag_needed"))
			code = 4;
		else if (!strcmp(w, "time_exceeded"))
			type = 11, code = 0;
		else if (!strcmp(w, "mtu")) {
			next_word(t, w, sizeof(w));
			parse_u32(w, &mtu);
		} else
			return hfail(h, "bad icmp word '%s'", w);
	}
	if (!q)
		return hfail(h, "no packet sent yet to quote in an ICMP error");
	n = build_ip(h, b, IPPROTO_ICMP, 8 + q, src, dst, 0);
	ic = b + n;
	memset(ic, 0, 8);
	ic[0] = (uint8_t)type;
	ic[1] = (uint8_t)code;
	if (code == 4)
		put_be16(ic + 6, (uint16_t)mtu);
	memcpy(ic + 8, c->last_out, q);
	put_be16(ic + 2, csum16(ic, 8 + q, 0));
	return ips_cbdev_inject(h->st, "tun0", b, n + 8 + q) < 0 ? hfail(h, "inject failed") : 0;
}

/* ---- socket calls ---- */

struct nameval {
	const char *name;
	int val;
};

static const struct nameval errnames[] = {
	{ "EAGAIN", EAGAIN }, { "EINPROGRESS", EINPROGRESS }, { "ECONNREFUSED", ECONNREFUSED },
	{ "ECONNRESET", ECONNRESET }, { "EPIPE", EPIPE }, { "ENOTCONN", ENOTCONN },
	{ "ETIMEDOUT", ETIMEDOUT }, { "EINVAL", EINVAL }, { "EADDRINUSE", EADDRINUSE },
	{ "EISCONN", EISCONN }, { "EALREADY", EALREADY }, { "EHOSTUNREACH", EHOSTUNREACH },
	{ "ENETUNREACH", ENETUNREACH }, { "ECONNABORTED", ECONNABORTED },
	{ "ENOPROTOOPT", ENOPROTOOPT }, { "ENOENT", ENOENT }, { "EMSGSIZE", EMSGSIZE },
	{ "EADDRNOTAVAIL", EADDRNOTAVAIL }, { "EPROTO", EPROTO }, { "ENOTTY", ENOTTY },
	{ NULL, 0 }
};

static int lookup(const struct nameval *t, const char *n, int *v)
{
	for (; t->name; t++)
		if (!strcmp(t->name, n)) {
			*v = t->val;
			return 0;
		}
	return -1;
}

static const char *errname(int e)
{
	for (const struct nameval *t = errnames; t->name; t++)
		if (t->val == e)
			return t->name;
	return "E?";
}

struct optdef {
	const char *name;
	int level, opt;
};

static const struct optdef optdefs[] = {
	{ "TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY }, { "TCP_CORK", IPPROTO_TCP, TCP_CORK },
	{ "TCP_MAXSEG", IPPROTO_TCP, TCP_MAXSEG }, { "TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE },
	{ "TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL }, { "TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT },
	{ "TCP_SYNCNT", IPPROTO_TCP, TCP_SYNCNT }, { "TCP_LINGER2", IPPROTO_TCP, TCP_LINGER2 },
	{ "TCP_DEFER_ACCEPT", IPPROTO_TCP, TCP_DEFER_ACCEPT },
	{ "TCP_WINDOW_CLAMP", IPPROTO_TCP, TCP_WINDOW_CLAMP },
	{ "TCP_QUICKACK", IPPROTO_TCP, TCP_QUICKACK },
	{ "TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT },
	{ "TCP_NOTSENT_LOWAT", IPPROTO_TCP, TCP_NOTSENT_LOWAT },
	{ "TCP_CONGESTION", IPPROTO_TCP, TCP_CONGESTION },
	{ "SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE }, { "SO_LINGER", SOL_SOCKET, SO_LINGER },
	{ "SO_RCVBUF", SOL_SOCKET, SO_RCVBUF }, { "SO_SNDBUF", SOL_SOCKET, SO_SNDBUF },
	{ "SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR }, { "SO_OOBINLINE", SOL_SOCKET, SO_OOBINLINE },
	{ "SO_RCVLOWAT", SOL_SOCKET, SO_RCVLOWAT }, { "SO_ERROR", SOL_SOCKET, SO_ERROR },
	{ "IP_TOS", IPPROTO_IP, IP_TOS }, { "IP_TTL", IPPROTO_IP, IP_TTL },
	{ "IP_RECVERR", IPPROTO_IP, IP_RECVERR }, { "IP_MTU", IPPROTO_IP, IP_MTU },
	{ "IP_MTU_DISCOVER", IPPROTO_IP, IP_MTU_DISCOVER },
	{ "IP_OPTIONS", IPPROTO_IP, IP_OPTIONS },
	{ NULL, 0, 0 }
};

static const struct optdef *find_opt(const char *n)
{
	for (const struct optdef *o = optdefs; o->name; o++)
		if (!strcmp(o->name, n))
			return o;
	return NULL;
}

static const char *state_names[] = { "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
				     "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
				     "LISTEN", "CLOSING" };

/* "= 5", "= -1 EAGAIN", "= ECONNRESET": the expected result of a call. */
static int parse_result(struct harness *h, struct tok *t, long *val, bool *has)
{
	char w[64];

	*has = false;
	if (!next_word(t, w, sizeof(w)))
		return 0;
	if (strcmp(w, "="))
		return hfail(h, "expected '=' before the result, got '%s'", w);
	if (!next_word(t, w, sizeof(w)))
		return hfail(h, "missing result");
	*has = true;
	if (!strcmp(w, "-1")) {
		int e;

		if (!next_word(t, w, sizeof(w)) || lookup(errnames, w, &e))
			return hfail(h, "bad errno name");
		*val = -e;
		return 0;
	}
	if (isalpha((unsigned char)w[0])) {
		int e;

		if (lookup(errnames, w, &e))
			return hfail(h, "unknown name %s", w);
		*val = e;
		return 0;
	}
	*val = strtol(w, NULL, 0);
	return 0;
}

static int check_result(struct harness *h, const char *what, long got, long want, bool has)
{
	if (!has)
		return 0;
	if (got != want) {
		char g[32], e[32];

		if (got < 0)
			snprintf(g, sizeof(g), "-1 %s", errname((int)-got));
		else
			snprintf(g, sizeof(g), "%ld", got);
		if (want < 0)
			snprintf(e, sizeof(e), "-1 %s", errname((int)-want));
		else
			snprintf(e, sizeof(e), "%ld", want);
		return hfail(h, "%s returned %s, expected %s", what, g, e);
	}
	return 0;
}

static struct tcp_sock *get_fd(struct harness *h, const char *w)
{
	int fd = atoi(w);

	if (fd < 3 || fd >= H_MAXFD || !h->fds[fd]) {
		hfail(h, "bad fd %s", w);
		return NULL;
	}
	return h->fds[fd];
}

static int new_fd(struct harness *h, struct tcp_sock *tp)
{
	for (int i = 3; i < H_MAXFD; i++)
		if (!h->fds[i]) {
			h->fds[i] = tp;
			return i;
		}
	return -1;
}

static int msg_flags(const char *w)
{
	int f = 0;

	if (strstr(w, "MSG_MORE"))
		f |= MSG_MORE;
	if (strstr(w, "MSG_OOB"))
		f |= MSG_OOB;
	if (strstr(w, "MSG_PEEK"))
		f |= MSG_PEEK;
	if (strstr(w, "MSG_WAITALL"))
		f |= MSG_WAITALL;
	if (strstr(w, "MSG_TRUNC"))
		f |= MSG_TRUNC;
	return f;
}

struct ifield {
	const char *name;
	size_t off, size;
};

/* struct tcp_info offsets (Linux 6.7+ <linux/tcp.h>; see src/transport/tcp_opts.c) */
static const struct ifield ifields[] = {
	{ "state", 0, 1 }, { "ca_state", 1, 1 }, { "retransmits", 2, 1 }, { "probes", 3, 1 },
	{ "backoff", 4, 1 }, { "options", 5, 1 }, { "wscale", 6, 1 },
	{ "rto", 8, 4 }, { "ato", 12, 4 }, { "snd_mss", 16, 4 }, { "rcv_mss", 20, 4 },
	{ "unacked", 24, 4 }, { "sacked", 28, 4 }, { "lost", 32, 4 }, { "retrans", 36, 4 },
	{ "fackets", 40, 4 }, { "last_data_sent", 44, 4 }, { "last_ack_sent", 48, 4 },
	{ "last_data_recv", 52, 4 }, { "last_ack_recv", 56, 4 },
	{ "pmtu", 60, 4 }, { "rcv_ssthresh", 64, 4 }, { "rtt", 68, 4 }, { "rttvar", 72, 4 },
	{ "snd_ssthresh", 76, 4 }, { "snd_cwnd", 80, 4 }, { "advmss", 84, 4 },
	{ "reordering", 88, 4 }, { "rcv_rtt", 92, 4 }, { "rcv_space", 96, 4 },
	{ "total_retrans", 100, 4 }, { "bytes_acked", 120, 8 }, { "bytes_received", 128, 8 },
	{ "segs_out", 136, 4 }, { "segs_in", 140, 4 }, { "notsent_bytes", 144, 4 },
	{ "min_rtt", 148, 4 }, { "data_segs_in", 152, 4 }, { "data_segs_out", 156, 4 },
	{ "delivered", 192, 4 }, { "delivered_ce", 196, 4 }, { "bytes_sent", 200, 8 },
	{ "bytes_retrans", 208, 8 }, { "dsack_dups", 216, 4 }, { "reord_seen", 220, 4 },
	{ "rcv_ooopack", 224, 4 }, { "snd_wnd", 228, 4 }, { "rcv_wnd", 232, 4 },
	{ "total_rto", 240, 2 }, { "total_rto_recoveries", 242, 2 }, { "total_rto_time", 244, 4 },
	{ NULL, 0, 0 }
};

static int do_info(struct harness *h, struct tcp_sock *tp, struct tok *t)
{
	uint8_t buf[256];
	socklen_t len = sizeof(buf);
	char w[64];

	memset(buf, 0, sizeof(buf));
	if (tcp_getsockopt(tp, IPPROTO_TCP, TCP_INFO, buf, &len) < 0)
		return hfail(h, "TCP_INFO failed");
	while (next_word(t, w, sizeof(w))) {
		char *eq = strchr(w, '=');
		const struct ifield *f;
		uint64_t got = 0;
		uint32_t want;

		if (!eq)
			return hfail(h, "info wants field=value, got %s", w);
		*eq = 0;
		if (!strcmp(w, "snd_wscale") || !strcmp(w, "rcv_wscale")) {
			uint32_t ws = !strcmp(w, "snd_wscale") ? (buf[6] & 15u) : (buf[6] >> 4u);

			if (parse_u32(eq + 1, &want) || ws != want)
				return hfail(h, "tcp_info %s = %u, expected %s", w, ws, eq + 1);
			continue;
		}
		for (f = ifields; f->name && strcmp(f->name, w); f++)
			;
		if (!f->name)
			return hfail(h, "unknown tcp_info field %s", w);
		memcpy(&got, buf + f->off, f->size);
		if (parse_u32(eq + 1, &want))
			return hfail(h, "bad value for %s", w);
		if (got != want)
			return hfail(h, "tcp_info %s = %llu, expected %u", w, (unsigned long long)got, want);
	}
	return 0;
}

static int set_sysctl(struct harness *h, const char *name, const char *val)
{
	struct ipv4_sysctl *s = &h->st->sysctl.ip;
	char full[128];
	int v = atoi(val);

	if (!strncmp(name, "net.", 4))	/* a full name: net.core.somaxconn */
		return ips_sysctl_set(h->st, name, val) == 0 ? 0 : hfail(h, "cannot set %s", name);
	snprintf(full, sizeof(full), "net.ipv4.%s", name);
	if (ips_sysctl_set(h->st, full, val) == 0)
		return 0;
	if (strchr(val, ',') && strcmp(name, "tcp_rmem") && strcmp(name, "tcp_wmem")) {
		/* a vector written with commas (one script word): "40000,40000" */
		char sp[128];

		snprintf(sp, sizeof(sp), "%s", val);
		for (char *c = sp; *c; c++)
			if (*c == ',')
				*c = ' ';
		if (ips_sysctl_set(h->st, full, sp) == 0)
			return 0;
	}
#define F(x) if (!strcmp(name, #x)) { s->x = v; return 0; }
	F(tcp_timestamps) F(tcp_sack) F(tcp_window_scaling) F(tcp_dsack) F(tcp_ecn)
	F(tcp_syn_retries) F(tcp_synack_retries) F(tcp_retries2) F(tcp_syncookies)
	F(tcp_challenge_ack_limit) F(tcp_fin_timeout) F(tcp_keepalive_time)
	F(tcp_keepalive_intvl) F(tcp_keepalive_probes) F(tcp_tw_reuse) F(tcp_rfc1337)
	F(tcp_early_retrans) F(tcp_recovery) F(tcp_syn_linear_timeouts) F(tcp_abort_on_overflow)
	F(tcp_max_syn_backlog) F(tcp_slow_start_after_idle) F(tcp_orphan_retries)
	F(tcp_invalid_ratelimit) F(tcp_stdurg) F(tcp_moderate_rcvbuf) F(tcp_thin_linear_timeouts)
	F(tcp_comp_sack_nr)
#undef F
	if (!strcmp(name, "tcp_rmem") || !strcmp(name, "tcp_wmem")) {
		int *a = !strcmp(name, "tcp_rmem") ? s->tcp_rmem : s->tcp_wmem;

		return sscanf(val, "%d,%d,%d", &a[0], &a[1], &a[2]) == 3 ? 0 : hfail(h, "bad vector");
	}
	if (!strcmp(name, "tcp_congestion_control")) {
		snprintf(s->tcp_congestion_control, sizeof(s->tcp_congestion_control), "%.*s", (int)sizeof(s->tcp_congestion_control) - 1, val);
		return 0;
	}
	return hfail(h, "unknown sysctl %s", name);
}

static int do_call(struct harness *h, const char *cmd, struct tok *t)
{
	char w[64], w2[64];
	long want = 0;
	bool has = false;
	struct tcp_sock *tp;
	int rc;

	stack_lock(h->st);
	if (!strcmp(cmd, "socket")) {
		int fd;

		tp = tcp_sock_new(h->st);
		if (!tp) {
			stack_unlock(h->st);
			return hfail(h, "tcp_sock_new failed");
		}
		fd = new_fd(h, tp);
		stack_unlock(h->st);
		if (parse_result(h, t, &want, &has) < 0)
			return -1;
		return check_result(h, "socket", fd, want, has);
	}
	if (!strcmp(cmd, "sysctl")) {
		next_word(t, w, sizeof(w));
		next_word(t, w2, sizeof(w2));
		rc = set_sysctl(h, w, w2);
		stack_unlock(h->st);
		return rc;
	}
	if (!strcmp(cmd, "counter")) {
		uint64_t v = 0;

		next_word(t, w, sizeof(w));
		stack_unlock(h->st);
		if (ips_counter_get(h->st, w, &v) < 0)
			return hfail(h, "unknown counter %s", w);
		if (parse_result(h, t, &want, &has) < 0)
			return -1;
		if (has && (long)v != want)
			return hfail(h, "counter %s = %llu, expected %ld", w, (unsigned long long)v, want);
		return 0;
	}
	if (!strcmp(cmd, "synq")) {
		/* request sockets of every listener (the kernel's SYN_RECV lines in
		 * /proc/net/tcp) */
		long n = 0;

		for (int i = 3; i < H_MAXFD; i++)
			if (h->fds[i] && h->fds[i]->state == TCP_LISTEN && h->fds[i]->lq)
				n += h->fds[i]->lq->syn_qlen;
		stack_unlock(h->st);
		if (parse_result(h, t, &want, &has) < 0)
			return -1;
		return check_result(h, "synq", n, want, has);
	}
	if (!strcmp(cmd, "tw_count") || !strcmp(cmd, "socks")) {
		long n = !strcmp(cmd, "socks") ? tcp_count_socks(h->st) : tcp_count_timewait(h->st);

		stack_unlock(h->st);
		if (parse_result(h, t, &want, &has) < 0)
			return -1;
		return check_result(h, "tw_count", n, want, has);
	}
	if (!next_word(t, w, sizeof(w))) {
		stack_unlock(h->st);
		return hfail(h, "%s needs an fd", cmd);
	}
	tp = get_fd(h, w);
	if (!tp) {
		stack_unlock(h->st);
		return -1;
	}
	if (!strcmp(cmd, "bind")) {
		uint32_t port = 0, addr = 0;

		next_word(t, w, sizeof(w));
		parse_u32(w, &port);
		if (peek_word(t, w, sizeof(w)) && strcmp(w, "=")) {
			next_word(t, w, sizeof(w));
			addr = inet_addr(w);
		}
		rc = tcp_bind(tp, addr, (uint16_t)port);
	} else if (!strcmp(cmd, "listen")) {
		uint32_t b = 0;

		unsigned somaxconn = (unsigned)h->st->sysctl.core.somaxconn;

		next_word(t, w, sizeof(w));
		parse_u32(w, &b);
		/* __sys_listen() clamps the backlog to net.core.somaxconn */
		if (b > somaxconn)
			b = somaxconn;
		rc = tcp_listen(tp, (int)b);
		if (!rc)
			h->local_port = h->listen_port = tp->h.lport;
	} else if (!strcmp(cmd, "connect")) {
		uint32_t port = 0;

		next_word(t, w, sizeof(w));
		parse_u32(w, &port);
		h->remote_port = (uint16_t)port;
		h->remote_port_seen = 0;
		h->dflt.local_isn_known = false;
		rc = tcp_connect(tp, inet_addr(H_REMOTE), (uint16_t)port);
		h->local_port = tp->h.lport;
		{
			/* a tagged peer at that port now speaks for this connection (its
			 * ISNs stay until a tag says "new") */
			struct hpeer *c = peer_find(h, inet_addr(H_REMOTE), (uint16_t)port);

			if (c)
				c->local_port = tp->h.lport;
		}
	} else if (!strcmp(cmd, "accept")) {
		int err;
		struct tcp_sock *c = tcp_accept(tp, &err);

		rc = c ? new_fd(h, c) : err;
	} else if (!strcmp(cmd, "write") || !strcmp(cmd, "send")) {
		uint32_t n = 0;
		static uint8_t buf[1 << 20];
		struct iovec iov;
		int fl = 0;

		next_word(t, w, sizeof(w));
		parse_u32(w, &n);
		if (peek_word(t, w, sizeof(w)) && strcmp(w, "=")) {
			next_word(t, w, sizeof(w));
			fl = msg_flags(w);
		}
		if (n > sizeof(buf))
			n = sizeof(buf);
		for (uint32_t i = 0; i < n; i++)
			buf[i] = pattern(tp->write_seq - tp->iss - 1 + i);
		iov.iov_base = buf;
		iov.iov_len = n;
		rc = (int)tcp_sendmsg(tp, &iov, 1, fl);
	} else if (!strcmp(cmd, "read") || !strcmp(cmd, "recv")) {
		uint32_t n = 0;
		static uint8_t buf[1 << 20];
		struct iovec iov;
		int fl = 0;
		uint32_t start = tp->copied_seq - tp->irs - 1;

		next_word(t, w, sizeof(w));
		parse_u32(w, &n);
		if (peek_word(t, w, sizeof(w)) && strcmp(w, "=")) {
			next_word(t, w, sizeof(w));
			fl = msg_flags(w);
		}
		if (n > sizeof(buf))
			n = sizeof(buf);
		iov.iov_base = buf;
		iov.iov_len = n;
		rc = (int)tcp_recvmsg(tp, &iov, 1, fl);
		if (rc > 0 && !(fl & (MSG_OOB | MSG_TRUNC)) && !tp->urg_state) {
			for (int i = 0; i < rc; i++)
				if (buf[i] != pattern(start + (uint32_t)i)) {
					stack_unlock(h->st);
					return hfail(h, "read data byte %d differs", i);
				}
		}
	} else if (!strcmp(cmd, "shutdown")) {
		next_word(t, w, sizeof(w));
		rc = tcp_shutdown(tp, !strcmp(w, "SHUT_RD") ? SHUT_RD
					      : !strcmp(w, "SHUT_WR") ? SHUT_WR : SHUT_RDWR);
	} else if (!strcmp(cmd, "close")) {
		for (int i = 3; i < H_MAXFD; i++)
			if (h->fds[i] == tp)
				h->fds[i] = NULL;
		tcp_close(tp);
		rc = 0;
	} else if (!strcmp(cmd, "setsockopt")) {
		const struct optdef *o;

		next_word(t, w, sizeof(w));
		next_word(t, w2, sizeof(w2));
		o = find_opt(w);
		if (!o) {
			stack_unlock(h->st);
			return hfail(h, "unknown option %s", w);
		}
		if (o->opt == TCP_CONGESTION && o->level == IPPROTO_TCP) {
			rc = tcp_setsockopt(tp, o->level, o->opt, w2, (socklen_t)strlen(w2));
		} else if (o->opt == IP_OPTIONS && o->level == IPPROTO_IP) {
			/* HEX, compiled as setsockopt(IP_OPTIONS) does (as root) */
			uint8_t d[40];
			size_t n = 0;
			struct wire_ipv4_opts info;

			memset(d, 0, sizeof(d));
			memset(&info, 0, sizeof(info));
			rc = -EINVAL;
			if (parse_ipopt_hex(w2, d, &n) == 0 &&
			    (!n || wire_ipv4_opts_compile_user(d, &n, true, NULL, NULL, &info) == 0))
				rc = tcp_set_ip_options(tp, d, (uint8_t)n, &info);
		} else if (o->opt == SO_LINGER && o->level == SOL_SOCKET) {
			struct linger l = { 0, 0 };

			sscanf(w2, "%d,%d", &l.l_onoff, &l.l_linger);
			rc = tcp_setsockopt(tp, o->level, o->opt, &l, sizeof(l));
		} else {
			int v = atoi(w2);

			rc = tcp_setsockopt(tp, o->level, o->opt, &v, sizeof(v));
		}
	} else if (!strcmp(cmd, "getsockopt")) {
		const struct optdef *o;
		int v = 0;
		socklen_t l = sizeof(v);

		next_word(t, w, sizeof(w));
		o = find_opt(w);
		if (!o) {
			stack_unlock(h->st);
			return hfail(h, "unknown option %s", w);
		}
		rc = tcp_getsockopt(tp, o->level, o->opt, &v, &l);
		if (!rc)
			rc = v;
	} else if (!strcmp(cmd, "info")) {
		rc = do_info(h, tp, t);
		stack_unlock(h->st);
		return rc;
	} else if (!strcmp(cmd, "state")) {
		next_word(t, w, sizeof(w));
		rc = tp->state;
		stack_unlock(h->st);
		if (rc < 1 || rc > 11 || strcmp(state_names[rc], w))
			return hfail(h, "state is %s, expected %s", rc >= 1 && rc <= 11 ? state_names[rc] : "?",
				     w);
		return 0;
	} else if (!strcmp(cmd, "error")) {
		rc = tcp_sock_error(tp);
	} else if (!strcmp(cmd, "poll")) {
		unsigned m = tcp_poll(tp), want_m = 0;

		stack_unlock(h->st);
		next_word(t, w, sizeof(w));	/* = */
		next_word(t, w, sizeof(w));
		for (char *save = NULL, *f = strtok_r(w, "|", &save); f; f = strtok_r(NULL, "|", &save)) {
			if (!strcmp(f, "IN"))
				want_m |= POLLIN | POLLRDNORM;
			else if (!strcmp(f, "OUT"))
				want_m |= POLLOUT | POLLWRNORM;
			else if (!strcmp(f, "HUP"))
				want_m |= POLLHUP;
			else if (!strcmp(f, "RDHUP"))
				want_m |= POLLRDHUP;
			else if (!strcmp(f, "ERR"))
				want_m |= POLLERR;
			else if (!strcmp(f, "PRI"))
				want_m |= POLLPRI;
		}
		if (m != want_m)
			return hfail(h, "poll mask 0x%x, expected 0x%x (%s)", m, want_m, w);
		return 0;
	} else if (!strcmp(cmd, "ioctl")) {
		int v = 0;
		unsigned long req = 0;

		next_word(t, w, sizeof(w));
		if (!strcmp(w, "SIOCINQ") || !strcmp(w, "FIONREAD"))
			req = 0x541B;
		else if (!strcmp(w, "SIOCOUTQ"))
			req = 0x5411;
		else if (!strcmp(w, "SIOCOUTQNSD"))
			req = 0x894C;
		else if (!strcmp(w, "SIOCATMARK"))
			req = 0x8905;
		rc = tcp_ioctl(tp, req, &v);
		if (!rc)
			rc = v;
	} else {
		stack_unlock(h->st);
		return hfail(h, "unknown command %s", cmd);
	}
	stack_unlock(h->st);
	if (parse_result(h, t, &want, &has) < 0)
		return -1;
	return check_result(h, cmd, rc, want, has);
}

/* ---- the script ---- */

static struct hpeer *peer_get(struct harness *h, uint32_t addr, uint16_t port)
{
	struct hpeer *c = peer_find(h, addr, port);

	if (c || h->npeers == H_MAXPEERS)
		return c;
	c = &h->peers[h->npeers++];
	memset(c, 0, sizeof(*c));
	c->addr = addr;
	c->port = port;
	c->remote_isn = H_REMOTE_ISN;
	return c;
}

/* "A" or "A..B" (numbers, or dotted addresses within one /24). */
static int parse_range(const char *w, bool is_addr, uint32_t *lo, uint32_t *hi)
{
	char a[64];
	const char *dots = strstr(w, "..");

	snprintf(a, sizeof(a), "%.*s", dots ? (int)(dots - w) : (int)strlen(w), w);
	if (is_addr) {
		struct in_addr x, y;

		if (!inet_aton(a, &x) || (dots && !inet_aton(dots + 2, &y)))
			return -1;
		*lo = ntohl(x.s_addr);
		*hi = dots ? ntohl(y.s_addr) : *lo;
		if ((*lo >> 8) != (*hi >> 8))
			return -1;
	} else {
		if (parse_u32(a, lo) || (dots && parse_u32(dots + 2, hi)))
			return -1;
		if (!dots)
			*hi = *lo;
		if (*hi > 65535)
			return -1;
	}
	return *hi < *lo ? -1 : 0;
}

/* An optional peer tag after '<' or '>': "[port P]", "[addr A port P]", ranges "P1..P2"
 * and "A1..A2" (every address with every port), "count N" ('>': any N of them, one
 * packet each), "lport P" (our port), "isn N" / "isn +N"
 * (the peer's ISN, which
 * makes its sequence numbers relative; implies new), "new" (a new connection from the same
 * peer: the stack's ISN is learned again from its next SYN). */
static int parse_tag(struct harness *h, struct tok *t, struct psel *sel)
{
	char buf[256], w[64];
	const char *end;
	uint32_t alo = ntohl(inet_addr(H_REMOTE)), ahi = alo, plo = 0, phi = 0, isn = 0, lport = 0;
	uint32_t count = 0;
	bool has_port = false, isn_rel = false, has_isn = false, fresh = false;
	struct tok tt;

	sel->n = 0;
	skip_ws(t);
	if (*t->s != '[')
		return 0;
	end = strchr(t->s, ']');
	if (!end)
		return hfail(h, "unterminated peer tag");
	snprintf(buf, sizeof(buf), "%.*s", (int)(end - t->s - 1), t->s + 1);
	t->s = end + 1;
	tt.s = buf;
	while (next_word(&tt, w, sizeof(w))) {
		char v[64];

		if (!strcmp(w, "new")) {
			fresh = true;
			continue;
		}
		if (!next_word(&tt, v, sizeof(v)))
			return hfail(h, "peer tag: %s wants a value", w);
		if (!strcmp(w, "port")) {
			if (parse_range(v, false, &plo, &phi) < 0)
				return hfail(h, "peer tag: bad port %s", v);
			has_port = true;
		} else if (!strcmp(w, "addr")) {
			if (parse_range(v, true, &alo, &ahi) < 0)
				return hfail(h, "peer tag: bad address %s (ranges within one /24)", v);
		} else if (!strcmp(w, "count")) {
			if (parse_u32(v, &count) || !count)
				return hfail(h, "peer tag: bad count %s", v);
		} else if (!strcmp(w, "lport")) {
			if (parse_u32(v, &lport) || !lport || lport > 65535)
				return hfail(h, "peer tag: bad lport %s", v);
		} else if (!strcmp(w, "isn")) {
			isn_rel = v[0] == '+' || v[0] == '-';
			if (parse_u32(v[0] == '+' ? v + 1 : v, &isn))
				return hfail(h, "peer tag: bad isn %s", v);
			has_isn = fresh = true;
		} else {
			return hfail(h, "peer tag: unknown word %s", w);
		}
	}
	if (!has_port)
		return hfail(h, "peer tag without a port");
	for (uint32_t a = alo; a <= ahi; a++)
		for (uint32_t p = plo; p <= phi; p++) {
			struct hpeer *c = peer_get(h, htonl(a), (uint16_t)p);

			if (!c)
				return hfail(h, "more than %d peers", H_MAXPEERS);
			if (has_isn)
				c->remote_isn = isn_rel ? c->remote_isn + isn : isn;
			if (fresh)
				c->local_isn_known = false;
			if (lport)
				c->local_port = (uint16_t)lport;
			sel->v[sel->n++] = c;
		}
	if (count > sel->n)
		return hfail(h, "peer tag: count %u of %zu peers", count, sel->n);
	sel->want = count ? count : sel->n;
	return 0;
}

static int parse_time(struct harness *h, const char *w, uint64_t *t, uint64_t *lo, uint64_t *hi)
{
	char a[80], b[80];
	const char *tilde = strchr(w, '~');
	double x;

	if (tilde) {
		snprintf(a, sizeof(a), "%.*s", (int)(tilde - w), w);
		snprintf(b, sizeof(b), "%s", tilde + 1);
	} else {
		snprintf(a, sizeof(a), "%s", w);
		b[0] = 0;
	}
	if (!strcmp(a, "*")) {
		*t = h->last_ns;
		*lo = h->last_ns;
		*hi = UINT64_MAX / 4;
		return 0;
	}
	x = strtod(a[0] == '+' ? a + 1 : a, NULL);
	*t = (uint64_t)(x * 1e9 + 0.5) + (a[0] == '+' ? h->last_ns : 0);
	*lo = *t > h->tol_ns ? *t - h->tol_ns : 0;
	*hi = *t + h->tol_ns;
	if (b[0]) {
		double y = strtod(b[0] == '+' ? b + 1 : b, NULL);

		*hi = (uint64_t)(y * 1e9 + 0.5) + (b[0] == '+' ? h->last_ns : 0);
		*lo = *t;
	}
	return 0;
}

static int run_line(struct harness *h, char *line)
{
	struct tok t = { line };
	char w[64];
	uint64_t tm, lo, hi;

	if (!next_word(&t, w, sizeof(w)))
		return 0;
	if (!strcmp(w, "option")) {
		char v[64];

		next_word(&t, w, sizeof(w));
		next_word(&t, v, sizeof(v));
		if (!strcmp(w, "tolerance_ms"))
			h->tol_ns = (uint64_t)(atof(v) * 1e6);
		else if (!strcmp(w, "mtu"))
			;	/* handled before the world is built */
		else
			return hfail(h, "unknown option %s", w);
		return 0;
	}
	if (parse_time(h, w, &tm, &lo, &hi) < 0)
		return -1;
	if (!next_word(&t, w, sizeof(w)))
		return hfail(h, "missing event after the time");
	if (!strcmp(w, ">")) {
		struct pspec p;
		struct psel sel = { h->sel, 0, 0 };

		if (parse_tag(h, &t, &sel) < 0 || parse_pspec(h, &t, &p) < 0)
			return -1;
		if (expect_out(h, tm, lo, hi, &p, &sel) < 0)
			return -1;
		h->last_ns = tm;
		return 0;
	}
	if (run_to(h, tm) < 0)
		return -1;
	h->last_ns = tm;
	if (!strcmp(w, "<")) {
		struct pspec p;
		struct psel sel = { h->sel, 0, 0 };

		if (parse_tag(h, &t, &sel) < 0)
			return -1;
		skip_ws(&t);
		if (!strncmp(t.s, "icmp", 4)) {
			t.s += 4;
			if (!sel.n)
				return inject_icmp(h, &h->dflt, &t);
			for (size_t i = 0; i < sel.n; i++) {
				struct tok ti = t;

				if (inject_icmp(h, sel.v[i], &ti) < 0)
					return -1;
			}
			return 0;
		}
		if (parse_pspec(h, &t, &p) < 0)
			return -1;
		if (!sel.n) {
			if (p.flags & WIRE_TCP_SYN && !(p.flags & WIRE_TCP_ACK) && p.seq == 0)
				h->remote_port_seen = 0;
			return inject_tcp(h, &h->dflt, &p);
		}
		for (size_t i = 0; i < sel.n; i++)
			if (inject_tcp(h, sel.v[i], &p) < 0)
				return -1;
		return 0;
	}
	return do_call(h, w, &t);
}

int tcp_script_run(const char *name, const char *text, FILE *err)
{
	struct harness *h = calloc(1, sizeof(*h));
	char *copy = strdup(text), *save = NULL, *line;
	const char *m;
	int rc = 0;
	long outstanding;

	if (!h || !copy)
		return -1;
	h->name = name;
	h->err = err;
	h->tol_ns = 4000000;	/* 4 ms, as packetdrill */
	h->dflt.remote_isn = H_REMOTE_ISN;
	h->dflt.addr = inet_addr(H_REMOTE);
	h->remote_port = 8080;
	h->peers = calloc(H_MAXPEERS, sizeof(*h->peers));
	h->sel = calloc(H_MAXPEERS, sizeof(*h->sel));
	if (!h->peers || !h->sel) {
		rc = -1;
		goto out_nomem;
	}
	h->mtu = 1500;
	m = strstr(text, "option mtu ");
	if (m)
		h->mtu = (uint32_t)atoi(m + 11);
	h->w = ips_world_new(1);
	h->st = ips_world_add_stack(h->w, "local");
	if (ips_cbdev_new(h->st, "tun0", h->mtu, out_cb, h) < 0 ||
	    ips_addr_add(h->st, "tun0", H_LOCAL "/24") < 0 ||
	    ips_route_add_str(h->st, "192.0.2.0/24 dev tun0") < 0) {
		fprintf(err, "%s: world setup failed\n", name);
		rc = -1;
		goto out;
	}
	stack_lock(h->st);
	tcp_init(h->st);
	stack_unlock(h->st);
	/* start the script clock away from 0 (Linux's clocks never read 0) */
	ips_world_run_for(h->w, 1000000000ull);
	while (h->q)
		free(q_pop(h));
	h->t0_ns = ips_world_now_ns(h->w);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(line, '#');

		/* line numbers: strtok_r skips empty lines, count them in the text (the copy
		 * has NULs for newlines and comments) */
		h->lineno = 1;
		for (const char *c = text; c < text + (line - copy); c++)
			if (*c == '\n')
				h->lineno++;
		if (hash)
			*hash = 0;
		h->line = line;
		if (run_line(h, line) < 0) {
			rc = -1;
			break;
		}
	}
	if (!rc && h->q) {
		h->line = "(end of script)";
		run_to(h, now_script(h));
		rc = -1;
	}
out:
	stack_lock(h->st);
	for (int i = 3; i < H_MAXFD; i++)
		if (h->fds[i])
			tcp_close(h->fds[i]);
	tcp_fini(h->st);
	stack_unlock(h->st);
	ips_world_run_for(h->w, 1000000ull);
	while (h->q)
		free(q_pop(h));
	outstanding = ips_stack_pkb_outstanding(h->st);
	if (!rc && outstanding != 0) {
		fprintf(err, "%s: %ld packet buffers leaked\n", name, outstanding);
		rc = -1;
	}
	ips_world_free(h->w);
out_nomem:
	free(h->peers);
	free(h->sel);
	free(copy);
	free(h);
	return rc;
}

int tcp_script_run_file(const char *path, FILE *err)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;
	int rc;

	if (!f) {
		fprintf(err, "%s: cannot open\n", path);
		return -1;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return -1;
	}
	buf[n] = 0;
	fclose(f);
	rc = tcp_script_run(path, buf, err);
	free(buf);
	return rc;
}

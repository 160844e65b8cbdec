/* IPv4 options, modelled on Linux net/ipv4/ip_options.c (see ipv4_opts.h for the map of
 * functions). The code is our own; the rules, the order of the checks and the Parameter
 * Problem pointers are Linux's, because peers and tests observe exactly those. */
#include "wire/ipv4_opts.h"

#include <errno.h>
#include <string.h>

#include "wire/ipv4.h"
#include "wire/wire.h"

enum compile_mode {
	MODE_RX,	/* received packet (Linux: skb != NULL): validate and record */
	MODE_PARSE,	/* received-packet rules, read-only */
	MODE_USER,	/* IP_OPTIONS from a socket (Linux: skb == NULL) */
};

struct compile_ctx {
	enum compile_mode mode;
	bool cap_net_raw;			/* MODE_USER only */
	const struct wire_ipv4_opts_env *env;	/* MODE_RX: NULL = record nothing */
	bool (*prespec_is_ours)(void *arg, uint32_t addr_be);
	void *arg;
};

static bool prespec_ours(const struct compile_ctx *c, uint32_t addr)
{
	return c->prespec_is_ours && c->prespec_is_ours(c->arg, addr);
}

/* Linux cipso_v4_validate() on a kernel with CONFIG_NETLABEL (every major distribution)
 * and no CIPSO DOI configured, which is the default: a short option is faulted at its
 * length, anything else at the DOI ("cipso_v4_doi_search() failed"). We implement no
 * labelled networking, so that is the behaviour to match. Returns the fault offset
 * within the option (never 0). */
static unsigned int cipso_fault(const uint8_t *o)
{
	return o[1] < 8 ? 1 : 2;
}

/* The engine behind compile/parse/compile_user: Linux __ip_options_compile().
 * o = the option bytes (l = their count); w = the same bytes writable, or NULL in
 * MODE_PARSE; offsets reported are 20 + index, i.e. from the start of the IP header. */
static int compile(const uint8_t *o, uint8_t *w, size_t l_total, const struct compile_ctx *c,
		   struct wire_ipv4_opts *opt, uint8_t *pp_ptr)
{
	const bool rx = c->mode != MODE_USER;
	const bool record = c->mode == MODE_RX && c->env;
	size_t i = 0, l = l_total;
	size_t pp;		/* fault index within o */

	while (l > 0) {
		unsigned int optlen, ptr;

		switch (o[i]) {
		case IPOPT_EOL:
			/* Everything after EOL must be EOL too; Linux quietly rewrites it. */
			for (i++, l--; l > 0; i++, l--) {
				if (o[i] != IPOPT_EOL) {
					if (!w)
						continue;
					w[i] = IPOPT_EOL;
					opt->is_changed = true;
				}
			}
			return 0;
		case IPOPT_NOP:
			i++;
			l--;
			continue;
		}
		if (l < 2) {	/* no room for the length byte */
			pp = i;
			goto error;
		}
		optlen = o[i + 1];
		if (optlen < 2 || optlen > l) {
			pp = i;
			goto error;
		}
		switch (o[i]) {
		case IPOPT_SSRR:
		case IPOPT_LSRR:
			if (optlen < 3) {
				pp = i + 1;
				goto error;
			}
			if (o[i + 2] < 4) {
				pp = i + 2;
				goto error;
			}
			/* Only one source route (RFC 1812 5.2.4.1); Linux checks this after
			 * the length and pointer, unlike for RR and TS. */
			if (opt->srr) {
				pp = i;
				goto error;
			}
			if (!rx) {
				/* A sender's route starts at its first hop and is whole. */
				if (o[i + 2] != 4 || optlen < 7 || ((optlen - 3) & 3)) {
					pp = i + 1;
					goto error;
				}
				/* The first hop becomes the packet's destination: take it out
				 * and shift the rest down (Linux ip_options_compile(), skb NULL). */
				opt->faddr = get_in4(o + i + 3);
				opt->faddr_present = true;
				if (optlen > 7)
					memmove(w + i + 3, w + i + 7, optlen - 7);
			}
			opt->is_strictroute = o[i] == IPOPT_SSRR;
			opt->srr = (uint8_t)(WIRE_IPV4_HLEN + i);
			break;
		case IPOPT_RR:
			if (opt->rr) {
				pp = i;
				goto error;
			}
			if (optlen < 3) {
				pp = i + 1;
				goto error;
			}
			ptr = o[i + 2];
			if (ptr < 4) {
				pp = i + 2;
				goto error;
			}
			if (ptr <= optlen) {
				/* Room left: it must be a whole address (RFC 791). */
				if (ptr + 3 > optlen) {
					pp = i + 2;
					goto error;
				}
				if (record) {
					put_in4(w + i + ptr - 1, c->env->spec_dst);
					opt->is_changed = true;
				}
				if (w) {
					w[i + 2] = (uint8_t)(ptr + 4);
					if (rx)
						opt->is_changed = true;
				}
				opt->rr_needaddr = true;
			}
			opt->rr = (uint8_t)(WIRE_IPV4_HLEN + i);
			break;
		case IPOPT_TS: {
			unsigned int flag, oflw;

			if (opt->ts) {
				pp = i;
				goto error;
			}
			if (optlen < 4) {
				pp = i + 1;
				goto error;
			}
			ptr = o[i + 2];
			if (ptr < 5) {
				pp = i + 2;
				goto error;
			}
			flag = o[i + 3] & 0x0f;
			if (ptr <= optlen) {
				size_t timepos = 0;	/* index of the time slot to fill, 0 none */
				unsigned int adv = 0;

				if (ptr + 3 > optlen) {
					pp = i + 2;
					goto error;
				}
				switch (flag) {
				case IPOPT_TS_TSONLY:
					if (record)
						timepos = i + ptr - 1;
					opt->ts_needtime = true;
					adv = 4;
					break;
				case IPOPT_TS_TSANDADDR:
					if (ptr + 7 > optlen) {
						pp = i + 2;
						goto error;
					}
					if (record) {
						put_in4(w + i + ptr - 1, c->env->spec_dst);
						timepos = i + ptr + 3;
					}
					opt->ts_needaddr = true;
					opt->ts_needtime = true;
					adv = 8;
					break;
				case IPOPT_TS_PRESPEC:
					if (ptr + 7 > optlen) {
						pp = i + 2;
						goto error;
					}
					/* RFC 791: only the named host stamps; Linux skips when the
					 * address is a remote unicast one. */
					if (!prespec_ours(c, get_in4(o + i + ptr - 1)))
						break;
					if (record)
						timepos = i + ptr + 3;
					opt->ts_needtime = true;
					adv = 8;
					break;
				default:
					/* Received: left alone. From a user: needs CAP_NET_RAW. */
					if (!rx && !c->cap_net_raw) {
						pp = i + 3;
						goto error;
					}
					break;
				}
				if (timepos) {
					put_be32(w + timepos, c->env->ts_ms);
					opt->is_changed = true;
				}
				if (adv && w) {
					w[i + 2] = (uint8_t)(ptr + adv);
					if (rx)
						opt->is_changed = true;
				}
			} else if (flag != IPOPT_TS_PRESPEC) {
				/* Full (RFC 791): count the hop in the 4-bit overflow field; when
				 * that overflows too the datagram is in error. Linux leaves the
				 * counter of a prespecified list alone. */
				oflw = o[i + 3] >> 4;
				if (oflw == 15) {
					pp = i + 3;
					goto error;
				}
				if (rx && w) {
					w[i + 3] = (uint8_t)((o[i + 3] & 0x0f) | ((oflw + 1) << 4));
					opt->is_changed = true;
				}
			}
			opt->ts = (uint8_t)(WIRE_IPV4_HLEN + i);
			break;
		}
		case IPOPT_RA:
			/* RFC 2113: 94 04 value; only value 0 ("examine packet") is one we act
			 * on. Linux does not refuse a second RA. */
			if (optlen < 4) {
				pp = i + 1;
				goto error;
			}
			if (o[i + 2] == 0 && o[i + 3] == 0)
				opt->router_alert = (uint8_t)(WIRE_IPV4_HLEN + i);
			break;
		case WIRE_IPOPT_CIPSO:
			if ((!rx && !c->cap_net_raw) || opt->cipso) {
				pp = i;
				goto error;
			}
			opt->cipso = (uint8_t)(WIRE_IPV4_HLEN + i);
			pp = i + cipso_fault(o + i);
			goto error;
		default:	/* IPOPT_SEC, IPOPT_SID and anything unknown */
			if (!rx && !c->cap_net_raw) {
				pp = i;
				goto error;
			}
			break;
		}
		l -= optlen;
		i += optlen;
	}
	return 0;

error:
	if (pp_ptr)
		*pp_ptr = (uint8_t)(WIRE_IPV4_HLEN + pp);
	return -EBADMSG;
}

int wire_ipv4_opts_compile(uint8_t *iph, size_t hdr_len, const struct wire_ipv4_opts_env *env,
			   struct wire_ipv4_opts *opt, uint8_t *pp_ptr)
{
	struct compile_ctx c = {
		.mode = MODE_RX,
		.env = env,
		.prespec_is_ours = env ? env->prespec_is_ours : NULL,
		.arg = env ? env->arg : NULL,
	};

	memset(opt, 0, sizeof(*opt));
	if (hdr_len <= WIRE_IPV4_HLEN)
		return 0;
	opt->optlen = (uint8_t)(hdr_len - WIRE_IPV4_HLEN);
	return compile(iph + WIRE_IPV4_HLEN, iph + WIRE_IPV4_HLEN, opt->optlen, &c, opt, pp_ptr);
}

int wire_ipv4_opts_parse(const uint8_t *iph, size_t hdr_len, struct wire_ipv4_opts *opt,
			 uint8_t *pp_ptr)
{
	struct compile_ctx c = { .mode = MODE_PARSE };

	memset(opt, 0, sizeof(*opt));
	if (hdr_len <= WIRE_IPV4_HLEN)
		return 0;
	opt->optlen = (uint8_t)(hdr_len - WIRE_IPV4_HLEN);
	return compile(iph + WIRE_IPV4_HLEN, NULL, opt->optlen, &c, opt, pp_ptr);
}

int wire_ipv4_opts_compile_user(uint8_t data[MAX_IPOPTLEN], size_t *len, bool cap_net_raw,
				bool (*prespec_is_ours)(void *arg, uint32_t addr_be), void *arg,
				struct wire_ipv4_opts *opt)
{
	struct compile_ctx c = {
		.mode = MODE_USER,
		.cap_net_raw = cap_net_raw,
		.prespec_is_ours = prespec_is_ours,
		.arg = arg,
	};
	size_t n = *len;

	memset(opt, 0, sizeof(*opt));
	if (n > MAX_IPOPTLEN)
		return -EINVAL;
	/* Linux ip_options_get(): pad to a whole number of 32-bit words with EOL. */
	while (n & 3)
		data[n++] = IPOPT_EOL;
	*len = n;
	opt->optlen = (uint8_t)n;
	if (n && compile(data, data, n, &c, opt, NULL) < 0)
		return -EINVAL;
	return 0;
}

void wire_ipv4_opts_write(uint8_t *iph, const uint8_t *data, const struct wire_ipv4_opts *opt,
			  uint32_t daddr, uint32_t saddr, uint32_t ts_ms)
{
	if (!opt->optlen)
		return;
	memcpy(iph + WIRE_IPV4_HLEN, data, opt->optlen);
	/* The final destination goes in the last slot of the source route; the packet
	 * itself is addressed to opt->faddr. */
	if (opt->srr)
		put_in4(iph + opt->srr + iph[opt->srr + 1] - 4, daddr);
	/* The slots claimed at compile time sit just below the pointer. */
	if (opt->rr_needaddr)
		put_in4(iph + opt->rr + iph[opt->rr + 2] - 5, saddr);
	if (opt->ts_needaddr)
		put_in4(iph + opt->ts + iph[opt->ts + 2] - 9, saddr);
	if (opt->ts_needtime)
		put_be32(iph + opt->ts + iph[opt->ts + 2] - 5, ts_ms);
}

void wire_ipv4_opts_undo(uint8_t *data, const struct wire_ipv4_opts *opt)
{
	if (opt->srr) {
		uint8_t *o = data + opt->srr - WIRE_IPV4_HLEN;

		memmove(o + 7, o + 3, o[1] - 7u);
		put_in4(o + 3, opt->faddr);
	}
	if (opt->rr_needaddr) {
		uint8_t *o = data + opt->rr - WIRE_IPV4_HLEN;

		o[2] -= 4;
		memset(o + o[2] - 1, 0, 4);
	}
	if (opt->ts) {
		uint8_t *o = data + opt->ts - WIRE_IPV4_HLEN;

		if (opt->ts_needtime) {
			o[2] -= 4;
			memset(o + o[2] - 1, 0, 4);
			if ((o[3] & 0x0f) == IPOPT_TS_PRESPEC)
				o[2] -= 4;	/* the prespecified address stays */
		}
		if (opt->ts_needaddr) {
			o[2] -= 4;
			memset(o + o[2] - 1, 0, 4);
		}
	}
}

int wire_ipv4_opts_forward(uint8_t *iph, struct wire_ipv4_opts *opt, uint32_t out_addr)
{
	int ret = 0;

	/* RFC 791 / RFC 1812 5.3.13.2: a router records the address of the interface the
	 * packet leaves by; compile recorded the receiving one in the claimed slot. */
	if (opt->rr_needaddr) {
		uint8_t *o = iph + opt->rr;

		put_in4(o + o[2] - 5, out_addr);
		opt->is_changed = true;
	}
	if (opt->srr_is_hit) {
		uint8_t *o = iph + opt->srr;
		unsigned int ptr = o[2], space = o[1];

		/* Find the hop we route to (the caller's walk stopped on it). */
		for (; ptr >= 4 && ptr <= space; ptr += 4) {
			if (ptr + 3 > space)
				break;
			if (get_in4(o + ptr - 1) == opt->nexthop)
				break;
		}
		if (ptr >= 4 && ptr + 3 <= space) {
			/* RFC 791 3.1 (LSRR/SSRR): the hop becomes the destination and is
			 * replaced by our outgoing address; the pointer moves on. */
			opt->is_changed = true;
			put_in4(iph + 16, opt->nexthop);
			put_in4(o + ptr - 1, out_addr);
			o[2] = (uint8_t)(ptr + 4);
		} else {
			ret = -ENOENT;	/* Linux: "Argh! Destination lost!" */
		}
		if (opt->ts_needaddr) {
			uint8_t *t = iph + opt->ts;

			put_in4(t + t[2] - 9, out_addr);
			opt->is_changed = true;
		}
	}
	if (opt->is_changed) {
		opt->is_changed = false;
		wire_ipv4_fix_csum(iph);
	}
	return ret;
}

int wire_ipv4_opts_srr_hop(const uint8_t *iph, const struct wire_ipv4_opts *opt,
			   unsigned int ptr, uint32_t *hop, uint8_t *pp_ptr)
{
	const uint8_t *o = iph + opt->srr;
	unsigned int space = o[1];

	if (ptr > space)
		return 0;
	if (ptr < 4 || ptr + 3 > space) {
		if (pp_ptr)
			*pp_ptr = (uint8_t)(opt->srr + 2);
		return -EBADMSG;
	}
	*hop = get_in4(o + ptr - 1);
	return 1;
}

void wire_ipv4_opts_fragment_copy(uint8_t *iph, struct wire_ipv4_opts *opt)
{
	uint8_t *o = iph + WIRE_IPV4_HLEN;
	int l = opt->optlen;

	while (l > 0) {
		int optlen;

		if (*o == IPOPT_EOL)
			break;
		if (*o == IPOPT_NOP) {
			l--;
			o++;
			continue;
		}
		if (l < 2)
			break;
		optlen = o[1];
		if (optlen < 2 || optlen > l)
			break;
		/* RFC 791: the copied flag says whether an option goes in every fragment. */
		if (!IPOPT_COPIED(*o))
			memset(o, IPOPT_NOP, (size_t)optlen);
		l -= optlen;
		o += optlen;
	}
	/* Linux returns before this point when it meets EOL or a bad length, leaving
	 * opt->rr/ts set although the options are gone (nothing reads them afterwards).
	 * The bytes are what matters and they are the same; we keep the struct truthful. */
	opt->ts = 0;
	opt->rr = 0;
	opt->rr_needaddr = false;
	opt->ts_needaddr = false;
	opt->ts_needtime = false;
}

int wire_ipv4_opts_echo(const uint8_t *iph, const struct wire_ipv4_opts *in,
			uint8_t out_data[MAX_IPOPTLEN], struct wire_ipv4_opts *out,
			bool (*prespec_is_ours)(void *arg, uint32_t addr_be), void *arg)
{
	uint8_t *d = out_data;
	unsigned int optlen, soff;

	memset(out, 0, sizeof(*out));
	if (in->optlen == 0)
		return 0;

	if (in->rr) {
		optlen = iph[in->rr + 1];
		soff = iph[in->rr + 2];
		out->rr = (uint8_t)(out->optlen + WIRE_IPV4_HLEN);
		memcpy(d, iph + in->rr, optlen);
		/* We recorded ourselves on the way in; the reply records us again. */
		if (in->rr_needaddr && soff <= optlen) {
			if (soff + 3 > optlen)
				return -EINVAL;
			d[2] = (uint8_t)(soff + 4);
			out->rr_needaddr = true;
		}
		d += optlen;
		out->optlen = (uint8_t)(out->optlen + optlen);
	}
	if (in->ts) {
		optlen = iph[in->ts + 1];
		soff = iph[in->ts + 2];
		out->ts = (uint8_t)(out->optlen + WIRE_IPV4_HLEN);
		memcpy(d, iph + in->ts, optlen);
		if (soff <= optlen) {
			if (in->ts_needaddr) {
				if (soff + 3 > optlen)
					return -EINVAL;
				out->ts_needaddr = true;
				soff += 4;
			}
			if (in->ts_needtime) {
				if (soff + 3 > optlen)
					return -EINVAL;
				if ((d[3] & 0x0f) != IPOPT_TS_PRESPEC) {
					out->ts_needtime = true;
					soff += 4;
				} else if (soff + 7 <= optlen &&
					   prespec_is_ours && prespec_is_ours(arg, get_in4(d + soff - 1))) {
					out->ts_needtime = true;
					soff += 8;
				}
			}
			d[2] = (uint8_t)soff;
		}
		d += optlen;
		out->optlen = (uint8_t)(out->optlen + optlen);
	}
	if (in->srr) {
		/* Reverse the part of the route already travelled (RFC 1122 3.2.1.8: a
		 * reply to a source-routed datagram uses the reversed route). */
		const uint8_t *start = iph + in->srr;
		unsigned int doff = 0;
		int s;
		uint32_t faddr = 0;

		optlen = start[1];
		s = start[2];
		if (s > (int)optlen)
			s = (int)optlen + 1;
		s -= 4;
		if (s > 3) {
			/* The last hop visited is the reply's first hop. */
			faddr = get_in4(start + s - 1);
			for (s -= 4, doff = 4; s > 3; s -= 4, doff += 4)
				memcpy(d + doff - 1, start + s - 1, 4);
			/* RFC 1812 5.2.4.1 ("fix illegal source routes"): a route that
			 * names the packet's own source is shortened by that hop. */
			if (memcmp(iph + 12, start + s + 3, 4) == 0)
				doff -= 4;
		}
		if (doff > 3) {
			out->faddr = faddr;
			out->faddr_present = true;
			d[0] = start[0];
			d[1] = (uint8_t)(doff + 3);
			d[2] = 4;
			d += doff + 3;
			out->srr = (uint8_t)(out->optlen + WIRE_IPV4_HLEN);
			out->optlen = (uint8_t)(out->optlen + doff + 3);
			out->is_strictroute = in->is_strictroute;
		}
	}
	if (in->cipso) {
		optlen = iph[in->cipso + 1];
		out->cipso = (uint8_t)(out->optlen + WIRE_IPV4_HLEN);
		memcpy(d, iph + in->cipso, optlen);
		d += optlen;
		out->optlen = (uint8_t)(out->optlen + optlen);
	}
	while (out->optlen & 3) {
		*d++ = IPOPT_EOL;
		out->optlen++;
	}
	return 0;
}

size_t wire_ipv4_opts_build_rr(uint8_t *p, unsigned int slots)
{
	size_t len = 3 + 4 * (size_t)slots;

	if (len > MAX_IPOPTLEN)
		return 0;
	p[0] = IPOPT_RR;
	p[1] = (uint8_t)len;
	p[2] = 4;
	memset(p + 3, 0, len - 3);
	return len;
}

size_t wire_ipv4_opts_build_ts(uint8_t *p, uint8_t flag, unsigned int slots,
			       const uint32_t *prespec)
{
	size_t slot = flag == IPOPT_TS_TSONLY ? 4 : 8;
	size_t len = 4 + slot * slots;
	unsigned int k;

	if (len > MAX_IPOPTLEN)
		return 0;
	p[0] = IPOPT_TS;
	p[1] = (uint8_t)len;
	p[2] = 5;
	p[3] = flag & 0x0f;
	memset(p + 4, 0, len - 4);
	if (flag == IPOPT_TS_PRESPEC && prespec)
		for (k = 0; k < slots; k++)
			put_in4(p + 4 + 8 * k, prespec[k]);
	return len;
}

size_t wire_ipv4_opts_build_srr(uint8_t *p, bool strict, const uint32_t *hops, unsigned int n)
{
	size_t len = 3 + 4 * (size_t)n;
	unsigned int k;

	if (len > MAX_IPOPTLEN)
		return 0;
	p[0] = strict ? IPOPT_SSRR : IPOPT_LSRR;
	p[1] = (uint8_t)len;
	p[2] = 4;
	for (k = 0; k < n; k++)
		put_in4(p + 3 + 4 * k, hops[k]);
	return len;
}

size_t wire_ipv4_opts_build_ra(uint8_t *p, uint16_t value)
{
	p[0] = IPOPT_RA;
	p[1] = 4;
	put_be16(p + 2, value);
	return 4;
}

size_t wire_ipv4_opts_pad(uint8_t *p, size_t len)
{
	while (len & 3)
		p[len++] = IPOPT_EOL;
	return len;
}

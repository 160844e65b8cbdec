/* Output fragmentation: Linux's ip_fragment() / ip_do_fragment() slow path
 * (net/ipv4/ip_output.c), RFC 791 3.2 and RFC 1812 5.2.6.
 *
 * Each fragment carries a copy of the header (same ID, TOS, TTL, protocol, addresses)
 * with its own offset, MF and length. Data goes in multiples of 8 bytes except in the
 * last fragment. Options whose copied flag is clear (RR, TS) are kept in the first
 * fragment only: after the first is cut, the header they are copied from has them
 * overwritten with NOPs (ip_options_fragment()), so every later header keeps the same
 * length. Refragmenting a fragment keeps its offset base and, when it was not the last,
 * MF on every piece. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "core/stack.h"
#include "ip/icmp.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/ipv4_opts.h"
#include "wire/wire.h"

/* ip_frag_next(): the next piece of pkb's datagram (header at hdr, hlen bytes). */
static struct pkb *ip4_frag_next(struct ips_stack *st, const struct pkb *pkb, const uint8_t *hdr,
				 size_t hlen, size_t ptr, size_t len, uint32_t offset, bool more)
{
	struct pkb *f = stack_pkb_alloc(st, hlen + len);
	uint8_t *p;

	if (!f)
		return NULL;
	p = pkb_put(f, hlen + len);
	memcpy(p, hdr, hlen);
	memcpy(p + hlen, pkb->data + ptr, len);
	/* ip_copy_metadata() */
	f->dev = pkb->dev;
	f->pkt_type = pkb->pkt_type;
	f->priority = pkb->priority;
	f->mark = pkb->mark;
	f->tstamp_ns = pkb->tstamp_ns;
	memcpy(f->cb, pkb->cb, sizeof(f->cb));
	f->nh = p;
	f->th = p + hlen;
	/* The DF state of ip_frag_init() only comes from IPSKB_FRAG_PMTU (a reassembled
	 * DF datagram being forwarded), which we never produce: fragments have no DF. */
	wire_ipv4_set_frag(p, (uint16_t)offset, more, false);
	wire_ipv4_set_tot_len(p, (uint16_t)(hlen + len));
	wire_ipv4_fix_csum(p);	/* the options may have been cut from the copied header */
	return f;
}

int ip4_fragment(struct ips_stack *st, struct pkb *pkb, uint32_t mtu, const struct rt_result *rt,
		 int (*out)(struct ips_stack *st, struct pkb *frag, const struct rt_result *rt))
{
	uint8_t *hdr = pkb->data;
	size_t hlen, left, ptr;
	uint32_t offset;
	bool not_last_frag;
	uint16_t frag_off;
	int err = 0;

	if (pkb->len < WIRE_IPV4_HLEN || (hlen = wire_ipv4_hdr_len(hdr)) < WIRE_IPV4_HLEN ||
	    hlen > pkb->len) {
		MIB_INC(st, IpFragFails);
		pkb_free(pkb);
		return -EINVAL;
	}
	frag_off = get_be16(hdr + 6);
	pkb_csum_resolve(pkb);	/* ip_do_fragment(): a fragment's device cannot sum the whole */
	/* ip_fragment(): a DF datagram is not ours to cut unless its sender allowed it
	 * (skb->ignore_df: a local socket whose IP_MTU_DISCOVER lets the stack fragment)
	 * and it was not reassembled from smaller pieces. Linux answers "fragmentation
	 * needed" with the MTU (ip4_finish_output() normally did so before we get here). */
	if ((frag_off & WIRE_IPV4_DF) &&
	    (!(IP4_CB(pkb)->flags & IP4_CB_IGNORE_DF) ||
	     (pkb->frag_max_size && pkb->frag_max_size > mtu))) {
		MIB_INC(st, IpFragFails);
		if (!pkb->nh)
			pkb->nh = pkb->data;
		icmp_send(st, pkb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, htonl(mtu));
		pkb_free(pkb);
		return -EMSGSIZE;
	}
	/* A reassembled datagram leaves at most at the size of the largest fragment it was
	 * made of (IPCB(skb)->frag_max_size), so forwarding it changes nothing. */
	if (pkb->frag_max_size && pkb->frag_max_size < mtu)
		mtu = pkb->frag_max_size;
	if (mtu < hlen + 8) {
		MIB_INC(st, IpFragFails);
		pkb_free(pkb);
		return -EINVAL;
	}
	pkb = pkb_unshare(pkb);	/* the header is rewritten below (options) */
	if (!pkb) {
		MIB_INC(st, IpFragFails);
		return -ENOBUFS;
	}
	hdr = pkb->data;
	mtu -= (uint32_t)hlen;		/* data space */
	left = pkb->len - hlen;
	ptr = hlen;
	offset = (uint32_t)(frag_off & WIRE_IPV4_OFFMASK) << 3;
	not_last_frag = (frag_off & WIRE_IPV4_MF) != 0;

	while (left > 0) {
		bool first_frag = offset == 0;
		size_t len = left;
		struct pkb *f;

		/* IF: it doesn't fit, use 'mtu' - the data space left. IF: we are not
		 * sending up to and including the packet end then align the next start on
		 * an eight byte boundary. */
		if (len > mtu)
			len = mtu;
		if (len < left)
			len &= ~(size_t)7;
		f = ip4_frag_next(st, pkb, hdr, hlen, ptr, len, offset, left - len > 0 || not_last_frag);
		if (!f) {
			err = -ENOMEM;
			goto fail;
		}
		left -= len;
		ptr += len;
		offset += (uint32_t)len;
		/* ip_frag_ipcb(): after the first fragment, the header the rest copy loses
		 * the options that are not to be copied. */
		if (first_frag && hlen > WIRE_IPV4_HLEN) {
			struct wire_ipv4_opts opt;

			memset(&opt, 0, sizeof(opt));
			opt.optlen = (uint8_t)(hlen - WIRE_IPV4_HLEN);
			wire_ipv4_opts_fragment_copy(hdr, &opt);
		}
		err = out(st, f, rt);
		if (err < 0)
			goto fail;
		MIB_INC(st, IpFragCreates);
	}
	pkb_free(pkb);
	MIB_INC(st, IpFragOKs);
	return 0;
fail:
	pkb_free(pkb);
	MIB_INC(st, IpFragFails);
	return err;
}

/* IPv4 options (RFC 791 3.1; Router Alert RFC 2113), with the semantics of Linux
 * net/ipv4/ip_options.c, function for function, but pure: the caller passes in what
 * Linux looks up (our address, the time, "is this address one of ours").
 *
 * Offsets (srr, rr, ts, router_alert, cipso) are from the start of the IP header, as in
 * Linux's struct ip_options, so an option is at iph + off and 0 means absent. Options
 * are processed in place in the packet (or in a 40-byte buffer for IP_OPTIONS).
 *
 *   Linux                           here
 *   ip_options_compile(skb)         wire_ipv4_opts_compile()     receive: check + record
 *   (the checks alone)              wire_ipv4_opts_parse()       read-only
 *   ip_options_get() + compile(NULL) wire_ipv4_opts_compile_user() IP_OPTIONS setsockopt
 *   ip_options_build()              wire_ipv4_opts_write()       output of own packets
 *   ip_options_undo()               wire_ipv4_opts_undo()        IP_OPTIONS getsockopt
 *   ip_forward_options()            wire_ipv4_opts_forward()
 *   ip_options_rcv_srr() loop       wire_ipv4_opts_srr_hop()
 *   ip_options_fragment()           wire_ipv4_opts_fragment_copy()
 *   __ip_options_echo()             wire_ipv4_opts_echo()        replies (ICMP, TCP RST..)
 */
#ifndef IPS_WIRE_IPV4_OPTS_H
#define IPS_WIRE_IPV4_OPTS_H

#include <netinet/ip.h>		/* IPOPT_EOL, IPOPT_NOP, IPOPT_RR, IPOPT_TS, IPOPT_LSRR,
				 * IPOPT_SSRR, IPOPT_RA, IPOPT_SEC, IPOPT_SID, IPOPT_COPIED,
				 * IPOPT_TS_TSONLY/TSANDADDR/PRESPEC, MAX_IPOPTLEN */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_IPOPT_CIPSO	134	/* RFC-draft CIPSO (Linux IPOPT_CIPSO) */

struct wire_ipv4_opts {
	uint8_t optlen;		/* bytes of options (hdr_len - 20); user: padded length */
	uint8_t srr, rr, ts, router_alert, cipso;	/* offsets from IP header; 0 = absent */
	bool is_strictroute;	/* srr is SSRR (137) rather than LSRR (131) */
	bool srr_is_hit;	/* set by the caller's SRR walk: forward to nexthop */
	bool is_changed;	/* bytes were rewritten: the header checksum needs fixing */
	bool rr_needaddr;	/* RR had room: a slot was taken (pointer advanced) */
	bool ts_needtime;	/* TS had room: a time slot was taken */
	bool ts_needaddr;	/* TS flag 1 had room: an address slot was taken */
	bool faddr_present;	/* compile_user(): SRR first hop removed into faddr */
	uint32_t faddr;		/* network order: first hop of a user source route */
	uint32_t nexthop;	/* network order: set by the caller with srr_is_hit */
};

/* What ip_options_compile() asks the rest of the kernel, supplied by the caller. */
struct wire_ipv4_opts_env {
	/* Our address to record in RR and in TS flag 1 (Linux fib_compute_spec_dst():
	 * the address of the receiving interface as seen from the sender). Network order. */
	uint32_t spec_dst;
	/* RFC 791 timestamp value: milliseconds since midnight UT (Linux
	 * inet_current_timestamp()), host order; written big-endian. */
	uint32_t ts_ms;
	/* TS flag 3 (prespecified addresses): return true when the address in the next slot
	 * should be timestamped by us. Linux does so when inet_addr_type(addr) !=
	 * RTN_UNICAST, i.e. the address is local (or broadcast, multicast, ...), not a
	 * plain remote unicast address. NULL: never ours. */
	bool (*prespec_is_ours)(void *arg, uint32_t addr_be);
	void *arg;
};

/* Receive path: Linux ip_options_compile(net, opt, skb) on iph (hdr_len = IHL*4 bytes;
 * options are iph[20..hdr_len)). Validates every option and, in place:
 *  - bytes after an EOL are zeroed (opt->is_changed if any was not);
 *  - RR with room: env->spec_dst recorded, pointer += 4 (rr_needaddr);
 *  - TS flag 0: time recorded, pointer += 4; flag 1: spec_dst + time, pointer += 8;
 *    flag 3: if the next prespecified address is ours, time recorded, pointer += 8;
 *    unknown flag (2, 4..15): accepted untouched (Linux, with a received packet);
 *    full TS (pointer > length), flags other than 3: overflow count + 1 (RFC 791),
 *    and a count already at 15 is an error.
 *  - SRR: only located (the route walk is the caller's, see wire_ipv4_opts_srr_hop()).
 * opt is filled (zeroed first). When anything was rewritten opt->is_changed is set and
 * the caller fixes the header checksum (wire_ipv4_fix_csum()), as Linux's callers do.
 * Returns 0, or -EBADMSG with *pp_ptr = the offset from the IP header start that an ICMP
 * Parameter Problem (type 12 code 0) should point at, computed exactly as Linux's pp_ptr;
 * on error the header may have been partly rewritten (as in Linux; the packet is dropped).
 * env may be NULL: then nothing is recorded (Linux with rt == NULL) but pointers and the
 * overflow count still advance. */
int wire_ipv4_opts_compile(uint8_t *iph, size_t hdr_len, const struct wire_ipv4_opts_env *env,
			   struct wire_ipv4_opts *opt, uint8_t *pp_ptr);

/* The same checks without touching the bytes (e.g. a header quoted in an ICMP error, a
 * raw socket's view): offsets and needaddr/needtime as compile would set them, except
 * that TS flag 3 never sets ts_needtime (no address lookup here). */
int wire_ipv4_opts_parse(const uint8_t *iph, size_t hdr_len, struct wire_ipv4_opts *opt,
			 uint8_t *pp_ptr);

/* IP_OPTIONS setsockopt: Linux ip_options_get() + ip_options_compile(opt, NULL).
 * data holds *len (<= 40) bytes and has room for 40; it is padded in place with EOL to
 * a multiple of 4 (*len updated). Checks as on receive plus the sender rules: SRR must
 * have pointer 4, length >= 7 and whole addresses, and its first hop is moved out into
 * opt->faddr (the remaining hops shift down; the last slot will hold the destination,
 * written by wire_ipv4_opts_write()). Without cap_net_raw (CAP_NET_RAW in Linux), unknown
 * options, unknown TS flags and CIPSO are refused. Nothing is recorded (no address or
 * time yet); RR/TS pointers advance to claim the slot filled at output time; a TS
 * flag-3 slot is claimed only if prespec_is_ours() says its address is ours (Linux asks
 * inet_addr_type() at setsockopt time; NULL: never).
 * Returns 0 or -EINVAL (what setsockopt returns; Linux does the same). */
int wire_ipv4_opts_compile_user(uint8_t data[MAX_IPOPTLEN], size_t *len, bool cap_net_raw,
				bool (*prespec_is_ours)(void *arg, uint32_t addr_be), void *arg,
				struct wire_ipv4_opts *opt);

/* Linux ip_options_build(): copy compiled options `data` (opt->optlen bytes, from
 * compile_user() or echo()) into iph + 20 and fill them in for this packet: the final
 * destination daddr into the last SRR slot (the packet itself goes to opt->faddr), our
 * source address saddr into the claimed RR / TS slots, and ts_ms into the TS time slot.
 * The caller has set IHL to include opt->optlen and computes the checksum afterwards. */
void wire_ipv4_opts_write(uint8_t *iph, const uint8_t *data, const struct wire_ipv4_opts *opt,
			  uint32_t daddr, uint32_t saddr, uint32_t ts_ms);

/* Linux ip_options_undo(): turn compile_user() output back into what the user gave
 * (for getsockopt(IP_OPTIONS) / IP_RETOPTS); data is modified in place. */
void wire_ipv4_opts_undo(uint8_t *data, const struct wire_ipv4_opts *opt);

/* Linux ip_forward_options(), after routing: record out_addr (the outgoing interface's
 * address, Linux ip_rt_get_source()) in the RR slot claimed at compile; if
 * opt->srr_is_hit, find opt->nexthop in the source route, make it the destination,
 * replace it with out_addr and advance the pointer (and fill a TS flag-1 address slot
 * with out_addr too); then fix the checksum if anything changed. Returns 0, or
 * -ENOENT when the next hop was not found in the route (Linux: "Destination lost",
 * the packet still goes). */
int wire_ipv4_opts_forward(uint8_t *iph, struct wire_ipv4_opts *opt, uint32_t out_addr);

/* One step of Linux's ip_options_rcv_srr() walk: the source-route hop at pointer value
 * ptr (start with iph[opt->srr + 2], then ptr += 4 while the hop is one of ours).
 * Returns 1 with *hop (network order); 0 when the route is exhausted (ptr > length: the
 * packet is for us); -EBADMSG with *pp_ptr = opt->srr + 2 when ptr points at a partial
 * address. The caller does the routing (Linux: strict route to a non-local next hop ->
 * Parameter Problem pointer 16; any other route type -> drop). */
int wire_ipv4_opts_srr_hop(const uint8_t *iph, const struct wire_ipv4_opts *opt,
			   unsigned int ptr, uint32_t *hop, uint8_t *pp_ptr);

/* Linux ip_options_fragment(): in the header kept for the second and later fragments,
 * overwrite every option whose copied flag (type bit 0x80, RFC 791) is clear -- RR, TS --
 * with NOPs, so the option area keeps its length. Stops quietly at EOL or a malformed
 * length, as Linux does. Clears opt->rr/ts and their flags (always; Linux skips that
 * when it stops early, see the .c). */
void wire_ipv4_opts_fragment_copy(uint8_t *iph, struct wire_ipv4_opts *opt);

/* Linux __ip_options_echo(): options for a reply to a received packet whose header
 * is iph and whose compiled options are in (as wire_ipv4_opts_compile() left them).
 * Writes to out_data (room for 40) and *out, in compile_user() form, ready for
 * wire_ipv4_opts_write(out_data, out, reply_daddr = original source, our saddr, time):
 *  - RR copied with the addresses recorded so far; if a slot was claimed on receipt,
 *    one more is claimed for the reply;
 *  - TS copied likewise (flag 3: a slot only if the next prespecified address is ours,
 *    by prespec_is_ours, as Linux asks inet_addr_type() != RTN_UNICAST);
 *  - SRR reversed: the hops already visited in reverse order, the nearest first-hop in
 *    out->faddr and the last slot left for the destination; a route whose last
 *    visited hop is the packet's own source address is shortened by one (RFC 1812
 *    5.2.4.1, "fix illegal source routes"); a route with nothing visited is dropped;
 *  - CIPSO copied; the result is padded with EOL to a multiple of 4.
 * Router Alert and unknown options are not echoed. Returns 0, or -EINVAL where Linux
 * does (an RR/TS pointer that leaves room for no whole slot). */
int wire_ipv4_opts_echo(const uint8_t *iph, const struct wire_ipv4_opts *in,
			uint8_t out_data[MAX_IPOPTLEN], struct wire_ipv4_opts *out,
			bool (*prespec_is_ours)(void *arg, uint32_t addr_be), void *arg);

/* Builders for tests and for constructing IP_OPTIONS buffers. Each writes one option at
 * p and returns its length (0 if it would not fit in 40 bytes). Unused slots are zero. */
/* RR: 07 len 04, slots * 4 bytes (RFC 791: length 3 + 4n). */
size_t wire_ipv4_opts_build_rr(uint8_t *p, unsigned int slots);
/* TS: 44 len 05 (overflow<<4 | flag), then slots of 4 bytes (IPOPT_TS_TSONLY) or 8
 * bytes (IPOPT_TS_TSANDADDR, IPOPT_TS_PRESPEC); for PRESPEC, prespec[i] (network order)
 * fills the address half of slot i (prespec may be NULL otherwise). */
size_t wire_ipv4_opts_build_ts(uint8_t *p, uint8_t flag, unsigned int slots,
			       const uint32_t *prespec);
/* LSRR (131) / SSRR (137): type len 04, then the n hops (network order). */
size_t wire_ipv4_opts_build_srr(uint8_t *p, bool strict, const uint32_t *hops, unsigned int n);
/* Router Alert (RFC 2113): 94 04 value(2); value 0 = "examine packet". */
size_t wire_ipv4_opts_build_ra(uint8_t *p, uint16_t value);
/* Pad an options area of len bytes with EOL up to a multiple of 4; returns new len. */
size_t wire_ipv4_opts_pad(uint8_t *p, size_t len);

#endif

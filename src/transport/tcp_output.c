/* TCP output: building segments (header, options in Linux's order, window selection),
 * the transmit engine (Nagle/cork, congestion and receive window tests; segments are cut
 * from the send ring at transmit time), ACKs (immediate, delayed, challenge), RSTs, FIN,
 * retransmission of the scoreboard's lost segments, tail loss probes and window probes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/csum.h"
#include "ip/ip.h"
#include "ip/route.h"
#include "link/netdev.h"
#include "transport/tcp_int.h"
#include "wire/ipv4.h"
#include "wire/wire.h"

#define TCP_NAGLE_OFF	1
#define TCP_NAGLE_CORK	2
#define TCP_NAGLE_PUSH	4

struct tcp_emit {
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint16_t flags;
	uint16_t win;
	uint16_t urg;
	struct wire_tcp_opts *opts;
	const struct tcp_sock *data_tp;	/* payload from this socket's ring */
	uint32_t data_seq, data_len;
	uint8_t tos;
	int ttl;
	int oif;
	uint32_t mark, priority;
	int pmtudisc;
	bool set_id;
	uint16_t id;
	uint16_t gso_size;		/* data_len > gso_size: a super-packet of such segments */
	/* IP options (inet_opt / ireq_opt), compiled: filled in per packet by ip4_output()
	 * (ip_options_build()), a source route sent to its first hop */
	const struct tcp_ipopt *ip_opt;	/* NULL: none */
};

static int tcp_emit_segment(struct ips_stack *st, const struct tcp_emit *e, uint32_t *mtu_out)
{
	uint8_t optbuf[WIRE_TCP_MAX_OPTLEN];
	size_t olen = e->opts ? wire_tcp_opts_emit(optbuf, e->opts) : 0;
	size_t hlen = WIRE_TCP_HLEN + olen;
	struct pkb *p = stack_pkb_alloc(st, hlen + e->data_len);
	struct wire_tcp th = { 0 };
	struct ip4_out o = { 0 };
	uint8_t *b;

	if (!p)
		return -ENOBUFS;
	b = pkb_put(p, hlen + e->data_len);
	th.sport = e->sport;
	th.dport = e->dport;
	th.seq = e->seq;
	th.ack = e->ack;
	th.flags = e->flags;
	th.window = e->win;
	th.urg = e->urg;
	th.opts = optbuf;
	th.opts_len = (uint8_t)olen;
	wire_tcp_emit(b, &th);
	if (e->data_len)
		tcp_ring_copy(e->data_tp, e->data_seq, b + hlen, e->data_len);
	/* CHECKSUM_PARTIAL, as tcp_v4_send_check(): completed by the device, or by
	 * netdev_xmit() for one without NETIF_F_HW_CSUM. */
	pkb_csum_partial(p, b, 16, ips_csum_pseudo(e->saddr, e->daddr, IPPROTO_TCP,
						   (uint16_t)(hlen + e->data_len)));
	if (e->gso_size && e->data_len > e->gso_size) {
		p->gso_size = e->gso_size;
		p->gso_segs = (uint16_t)((e->data_len + e->gso_size - 1) / e->gso_size);
	}
	p->th = b;
	o.saddr = e->saddr;
	o.daddr = e->daddr;
	o.proto = IPPROTO_TCP;
	o.tos = e->tos;
	o.ttl = e->ttl;
	o.pmtudisc = e->pmtudisc;
	o.oif = e->oif;
	o.mark = e->mark;
	o.priority = e->priority;
	o.set_id = e->set_id;
	o.id = e->id;
	if (e->ip_opt && e->ip_opt->len) {
		o.opts = e->ip_opt->data;
		o.opts_len = e->ip_opt->len;
		o.opt = &e->ip_opt->info;
	}
	MIB_ADD(st, TcpOutSegs, p->gso_segs ? p->gso_segs : 1);
	return ip4_output(st, p, &o, mtu_out);
}

/* ---- Window selection (Linux __tcp_select_window / tcp_select_window) ---- */

uint32_t tcp_raw_select_window(struct tcp_sock *tp)
{
	uint32_t mss = tp->ack.rcv_mss;
	int free_space = tcp_space(tp);
	int allowed_space = tcp_full_space(tp);
	int full_space = (int)(tp->window_clamp < (uint32_t)allowed_space ? tp->window_clamp
									   : (uint32_t)allowed_space);
	uint32_t window;

	if (full_space <= 0)
		return 0;
	if ((int)mss > full_space)
		mss = (uint32_t)full_space;
	if (free_space < (full_space >> 1)) {
		tp->ack.quick = 0;
		if (free_space < 0)
			free_space = 0;
		free_space = free_space & ~((1 << tp->rcv_wscale) - 1);
		if (free_space < (allowed_space >> 4) || free_space < (int)mss)
			return 0;
	}
	if (free_space > (int)tp->rcv_ssthresh)
		free_space = (int)tp->rcv_ssthresh;
	window = tp->rcv_wnd;
	if (tp->rcv_wscale) {
		uint32_t a = 1u << tp->rcv_wscale;

		window = ((uint32_t)free_space + a - 1) & ~(a - 1);
	} else {
		if (window <= (uint32_t)free_space - mss || window > (uint32_t)free_space)
			window = (uint32_t)free_space / mss * mss;
		else if (mss == (uint32_t)full_space && (uint32_t)free_space > window + (full_space >> 1))
			window = (uint32_t)free_space;
	}
	return window;
}

uint32_t tcp_select_window(struct tcp_sock *tp)
{
	uint32_t old_win = tp->rcv_wnd;
	int32_t cur = (int32_t)(tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt);
	uint32_t cur_win = cur > 0 ? (uint32_t)cur : 0;
	uint32_t new_win = tcp_raw_select_window(tp);

	if (new_win < cur_win) {
		/* RFC 7323 2.4 / RFC 9293: never shrink the offered window. */
		uint32_t a = 1u << tp->rcv_wscale;

		if (new_win == 0)
			MIB_INC(tp->st, TcpExtTCPWantZeroWindowAdv);
		new_win = (cur_win + a - 1) & ~(a - 1);
	}
	tp->rcv_wnd = new_win;
	tp->rcv_wup = tp->rcv_nxt;
	if (!tp->wscale_ok && !tp->st->sysctl.ip.tcp_workaround_signed_windows) {
		if (new_win > 65535)
			new_win = 65535;
	} else if (!tp->wscale_ok) {
		if (new_win > 32767)
			new_win = 32767;
	} else if (new_win > (65535u << tp->rcv_wscale)) {
		new_win = 65535u << tp->rcv_wscale;
	}
	new_win >>= tp->rcv_wscale;
	if (new_win == 0) {
		if (old_win)
			MIB_INC(tp->st, TcpExtTCPToZeroWindowAdv);
	} else if (old_win == 0) {
		MIB_INC(tp->st, TcpExtTCPFromZeroWindowAdv);
	}
	return new_win;
}

/* ---- Segments of a connection ---- */

static void tcp_fill_emit(struct tcp_sock *tp, struct tcp_emit *e)
{
	memset(e, 0, sizeof(*e));
	e->saddr = tp->h.laddr;
	e->daddr = tp->h.raddr;
	e->sport = tp->h.lport;
	e->dport = tp->h.rport;
	e->tos = tp->tos;
	e->ttl = tp->ttl_opt ? tp->ttl_opt : -1;
	e->oif = tp->bound_ifindex;
	e->mark = tp->mark;
	e->priority = tp->priority;
	e->pmtudisc = tp->pmtudisc;
	e->ip_opt = tp->ip_opt;
}

static void tcp_established_options(struct tcp_sock *tp, struct wire_tcp_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (tp->tstamp_ok) {
		o->has_ts = true;
		o->tsval = tcp_tsval(tp->st, tp->ts_off);
		o->tsecr = tp->ts_recent;
	}
	if (tp->sack_ok && (tp->dsack || tp->num_sacks)) {
		unsigned n = 0;

		if (tp->dsack)
			o->sack[n++] = tp->dsack_blk;
		for (unsigned i = 0; i < tp->num_sacks && n < WIRE_TCP_NUM_SACKS; i++)
			o->sack[n++] = tp->sacks[i];
		o->num_sacks = (uint8_t)n;
		tp->dsack = false;	/* a D-SACK is reported once (RFC 2883) */
	}
}

/* Linux tcp_event_ack_sent(). */
static void tcp_event_ack_sent(struct tcp_sock *tp)
{
	if (tp->ack.quick) {
		unsigned pkts = (tp->ack.pending & ICSK_ACK_SCHED) ? 1 : 0;

		if (pkts >= tp->ack.quick) {
			tp->ack.quick = 0;
			tp->ack.ato_ms = TCP_ATO_MIN_MS;
		} else {
			tp->ack.quick -= (uint8_t)pkts;
		}
	}
	tcp_delack_clear(tp);
}

/* tcp_transmit() of len bytes as segments of gso_size (0: one segment): one
 * super-packet, whose segments get the same header (sequence numbers and IP IDs
 * advancing, PSH and FIN on the last only, CWR on the first only: src/ip/gso.h). */
static int tcp_transmit_gso(struct tcp_sock *tp, struct tcp_txrec *rec, uint32_t seq,
			    uint32_t len, uint16_t flags, bool retrans, uint32_t gso_size)
{
	struct ips_stack *st = tp->st;
	struct wire_tcp_opts o;
	struct tcp_emit e;
	uint32_t mtu = 0, segs;
	int err;

	tcp_fill_emit(tp, &e);
	e.seq = seq;
	e.flags = flags;
	if (flags & WIRE_TCP_SYN) {
		struct ipv4_sysctl *s = &st->sysctl.ip;

		/* tcp_syn_options(): MSS, then TS, SACK_PERM, WSCALE as sysctls allow */
		memset(&o, 0, sizeof(o));
		o.has_mss = true;
		o.mss = (uint16_t)tp->advmss;
		if (s->tcp_timestamps) {
			o.has_ts = true;
			o.tsval = tcp_tsval(st, tp->ts_off);
			o.tsecr = tp->ts_recent;
		}
		if (s->tcp_window_scaling) {
			o.has_wscale = true;
			o.wscale = tp->rcv_wscale;
		}
		if (s->tcp_sack)
			o.sack_ok = true;
		e.win = (uint16_t)(tp->rcv_wnd > 65535 ? 65535 : tp->rcv_wnd);
	} else {
		tcp_established_options(tp, &o);
		e.win = (uint16_t)tcp_select_window(tp);
	}
	if (flags & WIRE_TCP_ACK)
		e.ack = tp->rcv_nxt;
	/* RFC 3168 6.1: ECT on new data only; CWR once after a reduction; ECE while the
	 * peer has not confirmed our echo. */
	if (tp->ecn_ok && !(flags & WIRE_TCP_SYN)) {
		if (len && !retrans && !before(seq, tp->snd_nxt)) {
			e.tos = (uint8_t)((e.tos & ~3) | 2);	/* ECT(0) */
			if (tp->ecn_flags & 1) {		/* TCP_ECN_QUEUE_CWR */
				tp->ecn_flags &= ~1u;
				e.flags |= WIRE_TCP_CWR;
			}
		}
		if (tp->ecn_flags & 2)				/* TCP_ECN_DEMAND_CWR */
			e.flags |= WIRE_TCP_ECE;
	}
	/* Urgent pointer (RFC 6093: points to the byte after the urgent data, as BSD/Linux) */
	if (tp->urg_send && after(tp->snd_up, seq)) {
		uint32_t off = tp->snd_up - seq;

		if (off <= 0xffff) {
			e.urg = (uint16_t)off;
			e.flags |= WIRE_TCP_URG;
		} else if (after(tp->snd_up, seq + 0xffff)) {
			e.urg = 0xffff;
			e.flags |= WIRE_TCP_URG;
		}
	}
	e.opts = &o;
	e.data_tp = tp;
	e.data_seq = seq + ((flags & WIRE_TCP_SYN) ? 1 : 0);
	e.data_len = len;
	e.set_id = true;
	e.id = tp->inet_id;
	segs = gso_size && len > gso_size ? (len + gso_size - 1) / gso_size : 1;
	e.gso_size = segs > 1 ? (uint16_t)gso_size : 0;
	tp->inet_id = (uint16_t)(tp->inet_id + segs);
	err = tcp_emit_segment(st, &e, &mtu);
	tp->segs_out += segs;
	if (len) {
		tp->data_segs_out += segs;
		tp->bytes_sent += len;
		if (retrans)
			tp->bytes_retrans += len;
	}
	if (flags & WIRE_TCP_ACK)
		tcp_event_ack_sent(tp);
	/* A device queue that was full (netem's NET_XMIT_DROP, -ENOBUFS here) is local
	 * congestion: __tcp_transmit_skb() enters CWR. */
	if (err == -ENOBUFS)
		tcp_enter_cwr(tp);
	if (err == -EMSGSIZE && mtu)
		tcp_mtu_reduced(tp, mtu);
	(void)rec;
	return err;
}

/* Transmit [seq, seq+len) of the connection (plus SYN/FIN flags as given). rec is the
 * scoreboard record (NULL for pure ACKs and probes). Returns ip4_output()'s result. */
int tcp_transmit(struct tcp_sock *tp, struct tcp_txrec *rec, uint32_t seq, uint32_t len,
		 uint16_t flags, bool retrans)
{
	return tcp_transmit_gso(tp, rec, seq, len, flags, retrans, 0);
}

int tcp_send_syn(struct tcp_sock *tp)
{
	struct tcp_txrec *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOBUFS;
	r->seq = tp->iss;
	r->end_seq = tp->iss + 1;
	r->tcp_flags = WIRE_TCP_SYN;
	r->pcount = 1;
	r->xmit_us = r->first_us = tcp_now_us(tp->st);
	r->prev = tp->rtx_tail;
	if (tp->rtx_tail)
		tp->rtx_tail->next = r;
	else
		tp->rtx_head = r;
	tp->rtx_tail = r;
	tcp_rtx_tsorted_touch(tp, r);
	tp->snd_nxt = tp->iss + 1;
	tp->write_seq = tp->iss + 1;
	tp->sbuf_seq = tp->iss + 1;
	tp->pushed_seq = tp->write_seq;
	tp->packets_out++;
	/* Linux tcp_ecn_send_syn(): tcp_ecn=1 asks for ECN with ECE+CWR in the first SYN
	 * only (a retransmitted SYN goes without them, tcp_ecn_fallback) */
	tp->ecn_ok = tp->st->sysctl.ip.tcp_ecn == 1;
	if (tp->ecn_ok)
		r->tcp_flags |= WIRE_TCP_ECE | WIRE_TCP_CWR;
	/* Linux tcp_connect() stamps retrans_stamp before tcp_transmit_skb(): the SYN's
	 * TSval is read after it, so the SYN-ACK's echo always falls in [retrans_stamp,
	 * now] (tcp_rcv_synsent_state_process). Stamping after the transmit let a
	 * millisecond boundary between the two clock reads fail that check (PAWSActive,
	 * RST, SYN again after 1 s) on a real clock. */
	tp->retrans_stamp_ms = stack_now_ms(tp->st);
	err = tcp_transmit(tp, r, tp->iss, 0, r->tcp_flags, false);
	tcp_reset_xmit_timer(tp, ICSK_TIME_RETRANS, tp->rto_ms);
	return err;
}

/* SYN-ACK for a request socket (tcp_v4_send_synack / tcp_make_synack). */
int tcp_send_synack_req(struct ips_stack *st, struct tcp_req *req, struct tcp_sock *lsk)
{
	struct wire_tcp_opts o;
	struct tcp_emit e;

	memset(&e, 0, sizeof(e));
	memset(&o, 0, sizeof(o));
	e.saddr = req->h.laddr;
	e.daddr = req->h.raddr;
	e.sport = req->h.lport;
	e.dport = req->h.rport;
	e.seq = req->iss;
	e.ack = req->irs + 1;
	e.flags = WIRE_TCP_SYN | WIRE_TCP_ACK;
	if (req->ecn_ok)
		e.flags |= WIRE_TCP_ECE;
	e.win = (uint16_t)(req->rcv_wnd > 65535 ? 65535 : req->rcv_wnd);
	/* tcp_synack_options(): echo only what the SYN offered */
	o.has_mss = true;
	o.mss = req->advmss;
	if (req->wscale_ok) {
		o.has_wscale = true;
		o.wscale = req->rcv_wscale;
	}
	if (req->tstamp_ok) {
		o.has_ts = true;
		o.tsval = tcp_tsval(st, req->ts_off);
		o.tsecr = req->ts_recent;
	}
	o.sack_ok = req->sack_ok;
	e.opts = &o;
	e.tos = lsk ? lsk->tos : req->tos;
	e.ttl = lsk && lsk->ttl_opt ? lsk->ttl_opt : -1;
	e.oif = lsk ? lsk->bound_ifindex : 0;
	e.mark = lsk ? lsk->mark : 0;
	e.pmtudisc = IP_PMTUDISC_WANT;
	e.set_id = true;
	e.id = 0;
	/* ip_build_and_send_pkt() with ireq_opt: the SYN's options echoed */
	e.ip_opt = req->ip_opt;
	return tcp_emit_segment(st, &e, NULL);
}

/* TS flag 3 in an echo: Linux stamps a prespecified address when inet_addr_type() is
 * not RTN_UNICAST. */
static bool tcp_prespec_is_ours(void *arg, uint32_t addr)
{
	return route_addr_type(arg, addr) != RTN_UNICAST_;
}

int tcp_ip_options_echo(struct ips_stack *st, const struct tcp_seg *seg, struct tcp_ipopt *o)
{
	const struct wire_ipv4_opts *in;

	memset(o, 0, sizeof(*o));
	if (!seg || !seg->pkb || !seg->pkb->nh)
		return 0;
	in = &IP4_CB(seg->pkb)->opt;
	if (!in->optlen)
		return 0;
	if (wire_ipv4_opts_echo(seg->pkb->nh, in, o->data, &o->info, tcp_prespec_is_ours, st) < 0) {
		memset(o, 0, sizeof(*o));
		return -EINVAL;
	}
	o->len = o->info.optlen;
	return 0;
}

/* A bare ACK from outside a full socket (time-wait, request socket), answering seg
 * (NULL: none), whose IP options it echoes as ip_send_unicast_reply() does; when they
 * cannot be echoed nothing is sent. */
void tcp_send_ack_raw(struct ips_stack *st, const struct tcp_seg *seg, uint32_t saddr,
		      uint32_t daddr, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		      uint32_t win, uint32_t tsval, uint32_t tsecr, bool ts, uint8_t tos,
		      uint16_t extra_flags)
{
	struct wire_tcp_opts o;
	struct tcp_emit e;
	struct tcp_ipopt ipo;

	if (tcp_ip_options_echo(st, seg, &ipo) < 0)
		return;
	memset(&e, 0, sizeof(e));
	memset(&o, 0, sizeof(o));
	e.saddr = saddr;
	e.daddr = daddr;
	e.sport = sport;
	e.dport = dport;
	e.seq = seq;
	e.ack = ack;
	e.flags = WIRE_TCP_ACK | extra_flags;
	e.win = (uint16_t)(win > 65535 ? 65535 : win);
	if (ts) {
		o.has_ts = true;
		o.tsval = tsval;
		o.tsecr = tsecr;
		e.opts = &o;
	}
	e.tos = tos;
	e.ttl = -1;
	e.pmtudisc = IP_PMTUDISC_WANT;
	e.set_id = true;
	e.id = 0;
	e.ip_opt = &ipo;
	tcp_emit_segment(st, &e, NULL);
}

void tcp_send_ack(struct tcp_sock *tp)
{
	if (tp->state == TCP_CLOSE || tp->state == TCP_LISTEN)
		return;
	tcp_transmit(tp, NULL, tp->snd_nxt, 0, WIRE_TCP_ACK, false);
}

/* Linux tcp_send_delayed_ack(). */
void tcp_send_delayed_ack(struct tcp_sock *tp)
{
	uint32_t ato = tp->ack.ato_ms;
	uint64_t now = stack_now_ms(tp->st), timeout;

	if (ato > TCP_ATO_MIN_MS) {
		uint32_t max_ato = 500;

		if (tp->ack.pingpong || (tp->ack.pending & ICSK_ACK_PUSHED))
			max_ato = TCP_DELACK_MAX_MS;
		if (tp->srtt_us) {
			uint32_t rtt = (tp->srtt_us >> 3) / 1000;

			if (rtt < TCP_ATO_MIN_MS)
				rtt = TCP_ATO_MIN_MS;
			if (rtt < max_ato)
				max_ato = rtt;
		}
		if (ato > max_ato)
			ato = max_ato;
	}
	if (ato > TCP_DELACK_MAX_MS)
		ato = TCP_DELACK_MAX_MS;
	/* ato is 0 until the first data segment (tcp_event_data_recv): a FIN alone is
	 * then ACKed on the next tick, as Linux's timer at jiffies + 0 */
	timeout = now + (ato ? ato : 1);
	if (tp->ack.pending & ICSK_ACK_TIMER) {
		uint64_t cur = tp->tev[TCP_TEV_DELACK] / NS_PER_MS;

		/* If the delayed-ACK timer is about to expire, send the ACK now. */
		if (cur <= now + (ato >> 2)) {
			tcp_send_ack(tp);
			return;
		}
		if (timeout > cur)
			timeout = cur;
	}
	tp->ack.pending |= ICSK_ACK_SCHED | ICSK_ACK_TIMER;
	tcp_delack_arm(tp, timeout);
}

/* Linux tcp_send_dupack(): ACK an unacceptable segment, with a D-SACK for old data. */
void tcp_send_dupack(struct tcp_sock *tp, const struct tcp_seg *seg)
{
	if (seg->end_seq != seg->seq && before(seg->seq, tp->rcv_nxt)) {
		MIB_INC(tp->st, TcpExtDelayedACKLost);
		tcp_enter_quickack_mode(tp, TCP_MAX_QUICKACKS);
		if (tp->sack_ok && tp->st->sysctl.ip.tcp_dsack) {
			uint32_t end = seg->end_seq;

			if (after(end, tp->rcv_nxt))
				end = tp->rcv_nxt;
			tcp_dsack_set(tp, seg->seq, end);
		}
	}
	tcp_send_ack(tp);
}

/* RFC 5961 7 / Linux tcp_send_challenge_ack(): per-socket rate limit
 * (tcp_invalid_ratelimit) and the per-namespace tcp_challenge_ack_limit per second. */
void tcp_send_challenge_ack(struct tcp_sock *tp)
{
	struct ips_stack *st = tp->st;
	struct tcp_state *ts = tcp_state_of(st);
	uint64_t now = stack_now_ms(st);
	uint32_t lim = (uint32_t)st->sysctl.ip.tcp_challenge_ack_limit;

	if (tp->last_oow_ack_ms && now - tp->last_oow_ack_ms < st->sysctl.ip.tcp_invalid_ratelimit) {
		MIB_INC(st, TcpExtTCPACKSkippedChallenge);
		return;
	}
	tp->last_oow_ack_ms = now ? now : 1;
	if (lim < 0x7fffffff) {
		uint64_t sec = now / 1000;

		if (sec != ts->challenge_stamp_s) {
			ts->challenge_stamp_s = sec;
			/* Linux randomizes the budget: lim/2 + random(lim) */
			ts->challenge_count = lim / 2 + rng_below(&st->rng, lim ? lim : 1);
		}
		if (ts->challenge_count == 0)
			return;
		ts->challenge_count--;
	}
	MIB_INC(st, TcpExtTCPChallengeACK);
	tcp_send_ack(tp);
}

/* Linux tcp_send_active_reset(): RST with our next sequence number. */
void tcp_send_active_reset(struct tcp_sock *tp)
{
	struct tcp_emit e;
	struct wire_tcp_opts o;

	tcp_fill_emit(tp, &e);
	memset(&o, 0, sizeof(o));
	e.seq = tp->snd_nxt;
	e.ack = tp->rcv_nxt;
	e.flags = WIRE_TCP_RST | WIRE_TCP_ACK;
	e.win = (uint16_t)tcp_select_window(tp);
	if (tp->tstamp_ok) {
		o.has_ts = true;
		o.tsval = tcp_tsval(tp->st, tp->ts_off);
		o.tsecr = tp->ts_recent;
		e.opts = &o;
	}
	e.set_id = true;
	e.id = tp->inet_id++;
	MIB_INC(tp->st, TcpOutRsts);
	tcp_emit_segment(tp->st, &e, NULL);
}

/* RFC 9293 3.10.7.1 / Linux tcp_v4_send_reset(): answer a segment with no connection. */
void tcp_send_reset_reply(struct ips_stack *st, const struct tcp_seg *seg)
{
	struct tcp_emit e;
	struct tcp_ipopt ipo;

	if (seg->flags & WIRE_TCP_RST)
		return;
	/* ip_send_unicast_reply(): the segment's options echoed, or no reply */
	if (tcp_ip_options_echo(st, seg, &ipo) < 0)
		return;
	memset(&e, 0, sizeof(e));
	e.ip_opt = &ipo;
	e.saddr = seg->daddr;
	e.daddr = seg->saddr;
	e.sport = seg->th.dport;
	e.dport = seg->th.sport;
	if (seg->flags & WIRE_TCP_ACK) {
		e.seq = seg->ack;
		e.flags = WIRE_TCP_RST;
	} else {
		e.ack = seg->end_seq;
		e.flags = WIRE_TCP_RST | WIRE_TCP_ACK;
	}
	e.ttl = -1;
	e.pmtudisc = IP_PMTUDISC_WANT;
	e.set_id = true;
	e.id = 0;
	MIB_INC(st, TcpOutRsts);
	tcp_emit_segment(st, &e, NULL);
}

/* ---- The retransmit queue (scoreboard records) ---- */

uint32_t tcp_rec_data_seq(const struct tcp_txrec *r)
{
	return r->seq + ((r->tcp_flags & WIRE_TCP_SYN) ? 1 : 0);
}

uint32_t tcp_rec_data_len(const struct tcp_txrec *r)
{
	return r->end_seq - r->seq - ((r->tcp_flags & WIRE_TCP_SYN) ? 1 : 0) -
	       ((r->tcp_flags & WIRE_TCP_FIN) ? 1 : 0);
}

static void tsorted_unlink(struct tcp_sock *tp, struct tcp_txrec *r)
{
	if (!(r->flags & TXR_TSORTED))
		return;
	if (r->tprev)
		r->tprev->tnext = r->tnext;
	else
		tp->ts_head = r->tnext;
	if (r->tnext)
		r->tnext->tprev = r->tprev;
	else
		tp->ts_tail = r->tprev;
	r->tnext = r->tprev = NULL;
	r->flags &= (uint8_t)~TXR_TSORTED;
}

/* The record was (re)sent now: move it to the tail of the time-sorted list. */
void tcp_rtx_tsorted_touch(struct tcp_sock *tp, struct tcp_txrec *r)
{
	tsorted_unlink(tp, r);
	r->tprev = tp->ts_tail;
	r->tnext = NULL;
	if (tp->ts_tail)
		tp->ts_tail->tnext = r;
	else
		tp->ts_head = r;
	tp->ts_tail = r;
	r->flags |= TXR_TSORTED;
}

void tcp_rtx_rec_unlink(struct tcp_sock *tp, struct tcp_txrec *r)
{
	tsorted_unlink(tp, r);
	if (r->prev)
		r->prev->next = r->next;
	else
		tp->rtx_head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		tp->rtx_tail = r->prev;
	if (tp->sack_hint == r)
		tp->sack_hint = NULL;
	free(r);
}

void tcp_rtx_purge(struct tcp_sock *tp)
{
	while (tp->rtx_head)
		tcp_rtx_rec_unlink(tp, tp->rtx_head);
	tp->packets_out = tp->sacked_out = tp->lost_out = tp->retrans_out = 0;
}

/* Split r at sequence `at` (inside it): r keeps [seq, at), the new record [at, end).
 * Linux tcp_fragment(). */
struct tcp_txrec *tcp_rec_split(struct tcp_sock *tp, struct tcp_txrec *r, uint32_t at)
{
	struct tcp_txrec *n;

	if (!after(at, r->seq) || !before(at, r->end_seq))
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	*n = *r;
	n->seq = at;
	n->tcp_flags = r->tcp_flags & (uint8_t)~WIRE_TCP_SYN;
	r->tcp_flags &= (uint8_t)~WIRE_TCP_FIN;
	r->end_seq = at;
	n->flags &= (uint8_t)~TXR_TSORTED;
	n->tnext = n->tprev = NULL;
	n->prev = r;
	n->next = r->next;
	if (r->next)
		r->next->prev = n;
	else
		tp->rtx_tail = n;
	r->next = n;
	/* keep time order: n was sent when r was */
	n->tprev = r->flags & TXR_TSORTED ? r : NULL;
	if (r->flags & TXR_TSORTED) {
		n->tnext = r->tnext;
		if (r->tnext)
			r->tnext->tprev = n;
		else
			tp->ts_tail = n;
		r->tnext = n;
		n->flags |= TXR_TSORTED;
	}
	/* counters are per segment */
	tp->packets_out++;
	if (n->flags & TXR_SACKED)
		tp->sacked_out++;
	if (n->flags & TXR_LOST)
		tp->lost_out++;
	if (n->flags & TXR_RETRANS)
		tp->retrans_out++;
	n->pcount = 1;
	r->pcount = 1;
	return n;
}

/* Linux tcp_event_new_data_sent(). */
void tcp_event_new_data_sent(struct tcp_sock *tp, struct tcp_txrec *r)
{
	uint32_t prior = tp->packets_out;

	tp->snd_nxt = r->end_seq;
	tp->packets_out += r->pcount;
	if (!prior || tp->pending == ICSK_TIME_LOSS_PROBE)
		tcp_rearm_rto(tp);
	MIB_ADD(tp->st, TcpExtTCPOrigDataSent, r->pcount);
}

bool tcp_send_head_pending(const struct tcp_sock *tp)
{
	return before(tp->snd_nxt, tp->write_seq) || (tp->fin_pending && !tp->fin_sent);
}

static void tcp_event_data_sent(struct tcp_sock *tp, bool first)
{
	uint64_t now = stack_now_ms(tp->st);

	/* first: the first segment of a burst (the others follow it in flight) */
	if (first && tcp_packets_in_flight(tp) == 0 && tp->cc->cwnd_event)
		tp->cc->cwnd_event(tp, CA_EVENT_TX_START);
	tp->lsndtime_ms = now;
	tp->last_data_sent_ms = now;
	if (now - tp->ack.lrcvtime_ms < tp->ack.ato_ms && tp->ack.pingpong < 255)
		tp->ack.pingpong++;
}

/* PSH on the last segment of what the application wrote (tcp_mark_push), or when half a
 * window went without one (forced_push); [seq, seq+len) is the segment. */
static bool tcp_wants_push(const struct tcp_sock *tp, uint32_t seq, uint32_t len)
{
	return len && (seq + len == tp->write_seq ||
		       after(seq + len, tp->pushed_seq + (tp->max_window >> 1)));
}

/* Send new data [snd_nxt, snd_nxt+len) (+FIN) as nsegs segments of mss bytes (the last
 * may be shorter): one record per segment on the scoreboard, as if each had been sent
 * alone, and one transmission (a super-packet when nsegs > 1: the caller saw that the
 * route's device takes them). When the transmission fails (a full device queue, no
 * route, no memory) nothing was sent: as in Linux's tcp_write_xmit(), whose skb stays at
 * the send head when tcp_transmit_skb() fails, nothing is recorded, snd_nxt stays, and
 * the caller stops sending. */
static int tcp_send_new_segs(struct tcp_sock *tp, uint32_t len, bool fin, uint32_t nsegs,
			     uint32_t mss)
{
	struct tcp_txrec *head = NULL, *tail = NULL, *r;
	uint16_t flags = WIRE_TCP_ACK;
	uint64_t now_us = tcp_now_us(tp->st);
	uint32_t seq = tp->snd_nxt, last_len = len - mss * (nsegs - 1);
	int err;

	/* The records, chained through next until they join the queue. */
	for (uint32_t i = 0; i < nsegs; i++) {
		r = calloc(1, sizeof(*r));
		if (!r) {
			err = -ENOBUFS;
			goto fail;
		}
		r->seq = seq;
		r->end_seq = seq + (i + 1 < nsegs ? mss : last_len);
		r->pcount = 1;
		r->xmit_us = r->first_us = now_us;
		seq = r->end_seq;
		if (tail)
			tail->next = r;
		else
			head = r;
		tail = r;
	}
	if (fin) {
		tail->tcp_flags |= WIRE_TCP_FIN;
		tail->end_seq++;
		flags |= WIRE_TCP_FIN;
	}
	/* Only the last segment may carry PSH (a burst ends there). */
	if (tcp_wants_push(tp, tail->seq, last_len)) {
		flags |= WIRE_TCP_PSH;
		tp->pushed_seq = tp->snd_nxt + len;
	}
	for (uint32_t i = 0; len && i < nsegs; i++)
		tcp_event_data_sent(tp, i == 0);
	err = tcp_transmit_gso(tp, head, tp->snd_nxt, len, flags, false, nsegs > 1 ? mss : 0);
	if (err < 0)
		goto fail;
	if (fin)
		tp->fin_sent = true;
	while ((r = head) != NULL) {
		uint32_t n = tcp_rec_data_len(r);

		head = r->next;
		r->next = NULL;
		r->prev = tp->rtx_tail;
		if (tp->rtx_tail)
			tp->rtx_tail->next = r;
		else
			tp->rtx_head = r;
		tp->rtx_tail = r;
		tcp_rtx_tsorted_touch(tp, r);
		if (n && n < tp->mss_cache)
			tp->snd_sml = r->end_seq;	/* Minshall's Nagle (tcp_minshall_update) */
		tcp_event_new_data_sent(tp, r);
	}
	return 0;
fail:
	while ((r = head) != NULL) {
		head = r->next;
		free(r);
	}
	return err;
}

/* Send one new segment [snd_nxt, snd_nxt+len) (+FIN). */
static int tcp_send_new(struct tcp_sock *tp, uint32_t len, bool fin)
{
	return tcp_send_new_segs(tp, len, fin, 1, len);
}

static uint32_t tcp_cwnd_test(const struct tcp_sock *tp)
{
	uint32_t in_flight = tcp_packets_in_flight(tp);

	return in_flight < tp->snd_cwnd ? tp->snd_cwnd - in_flight : 0;
}

/* Linux tcp_nagle_check() (Minshall's variant): hold a partial segment while an earlier
 * small segment is unacknowledged, or while corked. packets_out and snd_nxt as they
 * will be when the segment goes (after the earlier segments of its burst). */
static bool tcp_nagle_hold_at(const struct tcp_sock *tp, bool partial, int nonagle,
			      uint32_t packets_out, uint32_t snd_nxt)
{
	if (!partial || (nonagle & TCP_NAGLE_PUSH))
		return false;
	if (nonagle & TCP_NAGLE_CORK)
		return true;
	if (!nonagle && packets_out && after(tp->snd_sml, tp->snd_una) &&
	    !after(tp->snd_sml, snd_nxt))
		return true;
	return false;
}

static bool tcp_nagle_hold(const struct tcp_sock *tp, bool partial, int nonagle)
{
	return tcp_nagle_hold_at(tp, partial, nonagle, tp->packets_out, tp->snd_nxt);
}

/* ---- Segmentation offload ----
 *
 * When the route's device takes TCP super-packets (NETIF_F_TSO), tcp_write_xmit() sends
 * a run of segments as one packet of up to tcp_tso_segs() segments of the MSS. Every
 * rule still decides segment by segment, in units of the MSS, exactly as without TSO
 * (congestion window, receive window, Nagle, PSH, FIN), and each segment gets its own
 * scoreboard record; only the transmission is shared. So the segments a device cuts from
 * the super-packet (or software GSO, src/ip/gso.h) are the ones that would have gone
 * one by one. A burst ends at a segment with PSH or FIN or shorter than the MSS; urgent
 * data and a pending D-SACK (reported once, in one segment) send segments alone. Not
 * done: Linux's TSO deferral (tcp_tso_should_defer(), waiting for a larger burst). */

/* Linux MAX_TCP_HEADER + 1 on x86-64: sk_setup_caps() takes it off the device's
 * gso_max_size, so a kernel sends at most 65536 - 321 bytes of payload per super-packet
 * (45 segments of 1448). */
#define TCP_GSO_HEADROOM 321
#define TCP_MIN_TSO_SEGS 2	/* net.ipv4.tcp_min_tso_segs */
#define TCP_TSO_RTT_LOG 9	/* net.ipv4.tcp_tso_rtt_log */
#define TCP_PACING_SHIFT 10	/* sk_pacing_shift: 1 ms of the pacing rate */

/* Linux tcp_tso_segs() + tcp_tso_autosize(): segments per super-packet on the route's
 * device, 1 when it takes none. About 1 ms of the pacing rate (200 % of cwnd/srtt in
 * slow start, 120 % after, as tcp_update_pacing_rate()), plus gso_max_size >>
 * (min_rtt / 512 us) for short paths, within gso_max_size, at least
 * tcp_min_tso_segs. */
static uint32_t tcp_tso_segs(struct tcp_sock *tp, uint32_t mss)
{
	struct rt_result rt;
	uint64_t bytes, gso_max;
	uint32_t segs, r;

	if (route_output(tp->st, tp->h.raddr, tp->h.laddr, tp->bound_ifindex, tp->mark, &rt) < 0 ||
	    !rt.dev || !(rt.dev->features & NETIF_F_TSO) || rt.dev->gso_max_size <= TCP_GSO_HEADROOM)
		return 1;
	gso_max = rt.dev->gso_max_size - TCP_GSO_HEADROOM;
	bytes = gso_max;
	if (tp->srtt_us) {
		uint32_t cwnd = tp->snd_cwnd > tp->packets_out ? tp->snd_cwnd : tp->packets_out;
		uint64_t rate = (uint64_t)tp->mss_cache * cwnd * 1000000ull * 8 / tp->srtt_us;

		rate = rate * (tp->snd_cwnd < tp->snd_ssthresh / 2 ? 200 : 120) / 100;
		bytes = rate >> TCP_PACING_SHIFT;
		r = tp->min_rtt_us >> TCP_TSO_RTT_LOG;
		if (r < 32)
			bytes += gso_max >> r;
		if (bytes > gso_max)
			bytes = gso_max;
	}
	segs = (uint32_t)(bytes / mss);
	if (segs < TCP_MIN_TSO_SEGS)
		segs = TCP_MIN_TSO_SEGS;
	if (segs > rt.dev->gso_max_segs)
		segs = rt.dev->gso_max_segs;
	/* The super-packet's IPv4 length must fit 16 bits. */
	while (segs > 1 && (uint64_t)segs * mss + WIRE_IPV4_MAX_HLEN + WIRE_TCP_MAX_HLEN > 0xffff)
		segs--;
	return segs;
}

/* After a first full segment [snd_nxt, +mss) passed every test of tcp_write_xmit(): how
 * many segments, the first included, may go with it in one super-packet (at most
 * max_segs, quota of the congestion window). The same tests, segment by segment, as
 * the loop would make them after sending the earlier ones. *len and *fin: the burst's
 * bytes and whether its last segment carries the FIN. */
static uint32_t tcp_tso_burst(struct tcp_sock *tp, uint32_t mss, int nonagle, uint32_t quota,
			      uint32_t max_segs, uint32_t *len, bool *fin)
{
	uint32_t n = 1, seq = tp->snd_nxt + mss;

	*len = mss;
	*fin = false;
	if (tcp_wants_push(tp, tp->snd_nxt, mss))
		return 1;
	while (n < max_segs && n < quota && before(seq, tp->write_seq)) {
		uint32_t unsent = tp->write_seq - seq;
		uint32_t l = unsent < mss ? unsent : mss;
		bool f = l == unsent && tp->fin_pending && !tp->fin_sent;

		if (after(seq + l, tp->snd_una + tp->snd_wnd))
			break;
		if (!f && tcp_nagle_hold_at(tp, l < mss, nonagle, tp->packets_out + n, seq))
			break;
		n++;
		*len += l;
		seq += l;
		if (f) {
			*fin = true;
			break;
		}
		if (l < mss || tcp_wants_push(tp, seq - l, l))
			break;
	}
	return n;
}

/* Linux tcp_write_xmit(). push_one: 1 = at most one segment, 2 = a loss probe (may
 * exceed cwnd). Returns true when data is pending but nothing is in flight (the caller
 * arms the window probe timer). */
bool tcp_write_xmit(struct tcp_sock *tp, uint32_t mss, int nonagle, int push_one)
{
	int sent = 0;
	bool cwnd_limited = false;
	uint32_t tso_segs = 0;	/* looked up when a burst may start */

	if (tp->state == TCP_CLOSE || tp->state == TCP_SYN_SENT || tp->state == TCP_LISTEN)
		return false;
	while (tcp_send_head_pending(tp)) {
		uint32_t unsent = tp->write_seq - tp->snd_nxt;
		uint32_t len = unsent < mss ? unsent : mss;
		uint32_t quota = tcp_cwnd_test(tp);
		bool fin = false;

		if (before(tp->write_seq, tp->snd_nxt))
			unsent = len = 0;
		if (!quota) {
			if (push_one == 2)
				quota = 1;
			else {
				cwnd_limited = true;
				break;
			}
		}
		/* tcp_snd_wnd_test(): the whole segment must fit the offered window */
		if (len && after(tp->snd_nxt + len, tp->snd_una + tp->snd_wnd))
			break;
		if (len == unsent && tp->fin_pending && !tp->fin_sent)
			fin = true;
		/* Nagle / cork apply to a partial last segment, not to one carrying the FIN
		 * or urgent data (tcp_nagle_test) */
		if (len && !fin && !(tp->urg_send && after(tp->snd_up, tp->snd_una)) &&
		    tcp_nagle_hold(tp, len < mss, nonagle))
			break;
		if (!len && !fin)
			break;
		if (!push_one && !fin && len == mss && quota > 1 && unsent > mss && !tp->urg_send &&
		    !tp->dsack) {
			uint32_t n;

			if (!tso_segs)
				tso_segs = tcp_tso_segs(tp, mss);
			if (tso_segs > 1) {
				n = tcp_tso_burst(tp, mss, nonagle, quota, tso_segs, &len, &fin);
				if (tcp_send_new_segs(tp, len, fin, n, mss) < 0)
					break;
				sent += (int)n;
				continue;
			}
		}
		if (tcp_send_new(tp, len, fin) < 0)
			break;
		sent++;
		if (push_one)
			break;
	}
	if (sent) {
		if (tp->ca_state == TCP_CA_Recovery || tp->ca_state == TCP_CA_CWR)
			tp->prr_out += (uint32_t)sent;
		if (push_one != 2)
			tcp_schedule_loss_probe(tp, false);
		if (tcp_packets_in_flight(tp) >= tp->snd_cwnd)
			cwnd_limited = true;
		if (cwnd_limited)
			tp->is_cwnd_limited = 1;
		if (tp->packets_out > tp->max_packets_out)
			tp->max_packets_out = tp->packets_out;
		return false;
	}
	return !tp->packets_out && tcp_send_head_pending(tp);
}

/* Linux __tcp_push_pending_frames(). nonagle: 0 Nagle, 1 off, 2 cork. */
void tcp_push(struct tcp_sock *tp, int nonagle)
{
	if (tp->state == TCP_CLOSE)
		return;
	if (tcp_write_xmit(tp, tcp_current_mss(tp), nonagle, 0))
		tcp_check_probe_timer(tp);
}

/* Called after an ACK: send what the windows now allow (tcp_data_snd_check). */
void tcp_data_snd_check(struct tcp_sock *tp)
{
	int nonagle = (tp->cork || tp->more_pending) ? TCP_NAGLE_CORK
						     : (tp->nonagle_nodelay ? TCP_NAGLE_OFF : 0);

	if (tp->cork && tp->nonagle_nodelay)
		nonagle = TCP_NAGLE_CORK;
	tcp_push(tp, nonagle);
	tcp_check_space(tp);
}

/* Linux tcp_check_space()/tcp_new_space(): once the writer found the buffer full
 * (SOCK_NOSPACE), each ACK that makes room grows SO_SNDBUF with cwnd
 * (tcp_should_expand_sndbuf: not when locked or when cwnd is full) until the socket is
 * writeable again; a writer that never fills the buffer never grows it. */
void tcp_check_space(struct tcp_sock *tp)
{
	if (tp->nospace) {
		if (!tp->sndbuf_locked && tcp_packets_in_flight(tp) < tp->snd_cwnd) {
			tcp_sndbuf_expand(tp);
			tp->snd_cwnd_stamp_ms = stack_now_ms(tp->st);
		}
		if (tcp_is_writeable(tp))
			tp->nospace = false;
	}
	if (tcp_ring_free(tp) >= (tp->write_seq - tp->sbuf_seq) / 2)
		tcp_sock_wake(tp);
}

void tcp_send_fin(struct tcp_sock *tp)
{
	tp->fin_pending = true;
	/* A FIN goes out even when Nagle or cork would hold data (tcp_send_fin pushes
	 * with TCP_NAGLE_OFF). */
	tcp_push(tp, TCP_NAGLE_OFF);
	if (!tp->fin_sent && !tp->packets_out)
		tcp_check_probe_timer(tp);
}

/* Retransmit one record. counted: Linux tcp_retransmit_skb() (retrans_out, the
 * retransmission stamp, undo_retrans); a loss probe calls __tcp_retransmit_skb() alone,
 * so it counts only in total_retrans and marks the record EVER_RETRANS (no RTT sample). */
static int tcp_retransmit_rec_x(struct tcp_sock *tp, struct tcp_txrec *r, bool counted)
{
	uint32_t mss = tcp_current_mss(tp);
	uint32_t dlen;
	uint16_t flags = WIRE_TCP_ACK;
	int err;

	if (before(r->seq, tp->snd_una)) {
		/* partially acked: trim the front (tcp_trim_head) */
		if (!before(tp->snd_una, r->end_seq))
			return -EINVAL;
		r->tcp_flags &= (uint8_t)~WIRE_TCP_SYN;
		r->seq = tp->snd_una;
	}
	dlen = tcp_rec_data_len(r);
	if (dlen > mss && !(r->tcp_flags & WIRE_TCP_SYN))
		tcp_rec_split(tp, r, tcp_rec_data_seq(r) + mss);
	dlen = tcp_rec_data_len(r);
	/* The receiver window may have shrunk: send only what fits (RFC 9293 3.8.6.2.1) */
	if (dlen && after(r->seq + 1, tp->snd_una + tp->snd_wnd) && tp->snd_wnd)
		return -EAGAIN;
	if (r->tcp_flags & WIRE_TCP_SYN)
		flags = WIRE_TCP_SYN | (tp->state == TCP_SYN_SENT ? 0 : WIRE_TCP_ACK);
	if (r->tcp_flags & WIRE_TCP_FIN)
		flags |= WIRE_TCP_FIN;
	if (dlen)
		flags |= WIRE_TCP_PSH * (r->end_seq - ((r->tcp_flags & WIRE_TCP_FIN) ? 1 : 0) ==
					 tp->write_seq);
	/* Linux tcp_retransmit_skb(): the stamp of the first retransmission (the time this
	 * copy goes), which tcp_retries2/TCP_USER_TIMEOUT and Eifel undo count from. A SYN
	 * keeps the one tcp_connect() gave it even when that is 0 ms (a simulated world's
	 * first instant: Linux's clocks never read 0), or a SYN-ACK echoing the first SYN
	 * would fail the SYN_SENT check */
	if (counted && !tp->retrans_stamp_ms && tp->state != TCP_SYN_SENT)
		tp->retrans_stamp_ms = stack_now_ms(tp->st) ? stack_now_ms(tp->st) : 1;
	r->xmit_us = tcp_now_us(tp->st);
	tcp_rtx_tsorted_touch(tp, r);
	err = tcp_transmit(tp, r, r->seq, dlen, flags, true);
	tp->total_retrans++;
	MIB_INC(tp->st, TcpRetransSegs);
	if (r->tcp_flags & WIRE_TCP_SYN)
		MIB_INC(tp->st, TcpExtTCPSynRetrans);
	if (err < 0) {
		/* not sent: counted as attempted, not marked retransmitted (Linux
		 * __tcp_retransmit_skb / tcp_retransmit_skb); the callers stop */
		MIB_INC(tp->st, TcpExtTCPRetransFail);
		r->flags |= TXR_EVER_RETRANS;
		if (!counted)
			return err;
		if (tp->undo_retrans < 0)
			tp->undo_retrans = 0;
		tp->undo_retrans += r->pcount;
		return err;
	}
	r->flags |= TXR_EVER_RETRANS;
	if (!counted)
		return err;
	if (!(r->flags & TXR_RETRANS)) {
		r->flags |= TXR_RETRANS;
		tp->retrans_out += r->pcount;
	}
	/* Linux tcp_retransmit_skb(): counted for D-SACK undo (tcp_try_undo_dsack) */
	if (tp->undo_retrans < 0)
		tp->undo_retrans = 0;
	tp->undo_retrans += r->pcount;
	return err;
}

int tcp_retransmit_rec(struct tcp_sock *tp, struct tcp_txrec *r)
{
	return tcp_retransmit_rec_x(tp, r, true);
}

/* Linux tcp_xmit_retransmit_queue(): resend lost segments as PRR/cwnd allows. */
void tcp_xmit_retransmit_queue(struct tcp_sock *tp)
{
	for (struct tcp_txrec *r = tp->rtx_head; r; r = r->next) {
		if (r->flags & (TXR_SACKED | TXR_RETRANS))
			continue;
		if (!(r->flags & TXR_LOST))
			continue;
		if (tcp_packets_in_flight(tp) >= tp->snd_cwnd)
			break;
		tcp_retransmit_rec(tp, r);
		if (!(r->flags & TXR_RETRANS))
			break;
		if (tp->ca_state == TCP_CA_Recovery || tp->ca_state == TCP_CA_CWR)
			tp->prr_out++;
		if (tp->ca_state == TCP_CA_Recovery)
			MIB_INC(tp->st, TcpExtTCPFastRetrans);
		else if (tp->ca_state == TCP_CA_Loss)
			MIB_INC(tp->st, TcpExtTCPSlowStartRetrans);
		if (r == tp->rtx_head)
			tcp_rearm_rto(tp);
	}
}

/* Linux tcp_schedule_loss_probe() (RFC 8985 7.2). */
bool tcp_schedule_loss_probe(struct tcp_sock *tp, bool advancing_rto)
{
	int er = tp->st->sysctl.ip.tcp_early_retrans;
	uint64_t timeout_ms;
	int64_t rto_delta_us;

	if ((er != 3 && er != 4) || !tp->packets_out || !tp->sack_ok ||
	    (tp->ca_state != TCP_CA_Open && tp->ca_state != TCP_CA_CWR))
		return false;
	if (tp->srtt_us) {
		timeout_ms = ((tp->srtt_us >> 2) + 999) / 1000;
		if (tp->packets_out == 1)
			timeout_ms += TCP_RTO_MIN_MS;
		else
			timeout_ms += 2;	/* TCP_TIMEOUT_MIN */
	} else {
		timeout_ms = TCP_TIMEOUT_INIT_MS;
	}
	if (advancing_rto) {
		rto_delta_us = (int64_t)tp->rto_ms * 1000;
	} else {
		struct tcp_txrec *h = tp->rtx_head;

		rto_delta_us = (int64_t)tp->rto_ms * 1000;
		if (h)
			rto_delta_us -= (int64_t)(tcp_now_us(tp->st) - h->xmit_us);
	}
	if (rto_delta_us > 0 && (uint64_t)((rto_delta_us + 999) / 1000) < timeout_ms)
		timeout_ms = (uint64_t)((rto_delta_us + 999) / 1000);
	tcp_reset_xmit_timer(tp, ICSK_TIME_LOSS_PROBE, timeout_ms);
	return true;
}

/* Linux tcp_send_loss_probe(): new data if allowed, else the last segment again. */
void tcp_send_loss_probe(struct tcp_sock *tp)
{
	uint32_t mss = tcp_current_mss(tp);
	struct tcp_txrec *r;

	if (tp->tlp_high_seq)
		goto rearm;
	tp->tlp_retrans = false;
	if (tcp_send_head_pending(tp) &&
	    !after(tp->snd_nxt + (tp->write_seq - tp->snd_nxt < mss ? tp->write_seq - tp->snd_nxt : mss),
		   tp->snd_una + tp->snd_wnd)) {
		uint32_t pk = tp->packets_out;

		tcp_write_xmit(tp, mss, 1, 2);
		if (tp->packets_out > pk)
			goto probe_sent;
	}
	r = tp->rtx_tail;
	if (!r)
		goto rearm;
	if (tcp_rec_data_len(r) > mss)
		r = tcp_rec_split(tp, r, r->end_seq - mss - ((r->tcp_flags & WIRE_TCP_FIN) ? 1 : 0))
			    ?: r;
	if (r->flags & TXR_SACKED)
		goto rearm;
	if (tcp_retransmit_rec_x(tp, r, false) < 0)
		goto rearm;
	tp->tlp_retrans = true;
probe_sent:
	tp->tlp_high_seq = tp->snd_nxt;
	tp->tlp_probes++;
	MIB_INC(tp->st, TcpExtTCPLossProbes);
	tp->backoff = 0;	/* a probe is not a timeout */
	tp->pending = 0;	/* so tcp_rearm_rto() gives a full RTO from now */
rearm:
	tcp_rearm_rto(tp);
}

/* Linux tcp_xmit_probe_skb(): an ACK with an old sequence number to elicit an ACK. */
static void tcp_xmit_probe(struct tcp_sock *tp, bool urgent)
{
	tcp_transmit(tp, NULL, urgent ? tp->snd_una : tp->snd_una - 1, 0, WIRE_TCP_ACK, false);
}

/* Linux tcp_write_wakeup(): keepalive / window probe. */
int tcp_write_wakeup(struct tcp_sock *tp)
{
	if (tp->state == TCP_CLOSE)
		return -1;
	if (tcp_send_head_pending(tp) && before(tp->snd_nxt, tp->snd_una + tp->snd_wnd)) {
		uint32_t mss = tcp_current_mss(tp);
		uint32_t seg = tp->snd_una + tp->snd_wnd - tp->snd_nxt;
		uint32_t unsent = after(tp->write_seq, tp->snd_nxt) ? tp->write_seq - tp->snd_nxt : 0;
		uint32_t len = unsent;
		bool fin = false;

		if (len > seg)
			len = seg;
		if (len > mss)
			len = mss;
		if (len == unsent && tp->fin_pending && !tp->fin_sent)
			fin = true;
		tp->pushed_seq = tp->snd_nxt + len;
		return tcp_send_new(tp, len, fin);
	}
	if (between(tp->snd_up, tp->snd_una + 1, tp->snd_una + 0xffff))
		tcp_xmit_probe(tp, true);
	tcp_xmit_probe(tp, false);
	return 0;
}

/* Linux tcp_send_probe0(). */
void tcp_send_probe0(struct tcp_sock *tp)
{
	int err = tcp_write_wakeup(tp);

	if (tp->packets_out || !tcp_send_head_pending(tp)) {
		tp->probes_out = 0;
		tp->backoff = 0;
		tp->probes_tstamp_ms = 0;
		return;
	}
	tp->probes_out++;
	if (!tp->probes_tstamp_ms)
		tp->probes_tstamp_ms = stack_now_ms(tp->st);
	if (err <= 0) {
		if (tp->backoff < tp->st->sysctl.ip.tcp_retries2)
			tp->backoff++;
		tcp_reset_xmit_timer(tp, ICSK_TIME_PROBE0, tcp_probe0_when_ms(tp, TCP_RTO_MAX_MS));
	} else {
		tcp_reset_xmit_timer(tp, ICSK_TIME_PROBE0, TCP_RESOURCE_PROBE_MS);
	}
	MIB_INC(tp->st, TcpExtTCPWinProbe);
}

/* ICMP fragmentation needed (RFC 1191) or a local EMSGSIZE: Linux tcp_v4_mtu_reduced()
 * + tcp_simple_retransmit(). */
void tcp_mtu_reduced(struct tcp_sock *tp, uint32_t mtu)
{
	uint32_t old = tp->mss_cache;

	if (tp->state == TCP_LISTEN || tp->state == TCP_CLOSE)
		return;
	if (mtu < 68)
		mtu = 68;
	if (tp->pmtu && mtu >= tp->pmtu)
		return;
	if (tp->pmtudisc == IP_PMTUDISC_DONT)
		return;
	tcp_sync_mss(tp, mtu);
	if (tp->mss_cache >= old)
		return;
	/* tcp_simple_retransmit(): everything larger than the new MSS is lost */
	for (struct tcp_txrec *r = tp->rtx_head; r; r = r->next)
		if (tcp_rec_data_len(r) > tp->mss_cache && !(r->flags & TXR_SACKED))
			tcp_mark_rec_lost(tp, r);
	if (tp->lost_out) {
		if (tp->ca_state != TCP_CA_Loss) {
			tp->high_seq = tp->snd_nxt;
			tp->ca_state = TCP_CA_Loss;
			tp->prior_ssthresh = 0;
		}
		tcp_xmit_retransmit_queue(tp);
	}
}

/* ACKs for objects without a full socket. */
void tcp_tw_send_ack(struct ips_stack *st, struct tcp_tw *tw, const struct tcp_seg *seg)
{
	uint32_t win = tw->rcv_wnd >> tw->rcv_wscale;

	tcp_send_ack_raw(st, seg, tw->h.laddr, tw->h.raddr, tw->h.lport, tw->h.rport, tw->snd_nxt,
			 tw->rcv_nxt, win, tcp_tsval(st, tw->ts_off), tw->ts_recent, tw->tstamp_ok,
			 tw->tos, 0);
}

void tcp_req_send_ack(struct ips_stack *st, struct tcp_req *req, const struct tcp_seg *seg)
{
	/* tcp_v4_reqsk_send_ack(): RFC 7323 2.3 - the window in a non-SYN is scaled */
	tcp_send_ack_raw(st, seg, req->h.laddr, req->h.raddr, req->h.lport, req->h.rport,
			 req->iss + 1, req->irs + 1, req->rcv_wnd >> req->rcv_wscale,
			 tcp_tsval(st, req->ts_off), req->ts_recent, req->tstamp_ok, req->tos, 0);
}

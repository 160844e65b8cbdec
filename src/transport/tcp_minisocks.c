/* The small objects of TCP (Linux tcp_minisocks.c and the request-socket parts of
 * tcp_input.c/tcp_ipv4.c): request sockets for a listener's SYN queue (SYN-ACK
 * retransmission, tcp_check_req), the child socket they turn into, the accept queue, and
 * TIME_WAIT objects (RFC 9293 3.6.1, RFC 1337 off as Linux, RFC 6191-style SYN
 * acceptance). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ip/ip.h"
#include "transport/tcp_int.h"

/* ---- request sockets ---- */

static void tcp_req_timer(void *arg);

/* A request that was never hashed, or the end of one that was. */
static void tcp_req_free_opts(struct tcp_req *req)
{
	free(req->ip_opt);
	free(req);
}

void tcp_req_free(struct tcp_state *ts, struct tcp_req *req)
{
	stack_timer_cancel(ts->st, &req->timer);
	tcp_ehash_remove(ts, &req->h);
	if (req->lpprev) {
		*req->lpprev = req->lnext;
		if (req->lnext)
			req->lnext->lpprev = req->lpprev;
		req->listener->lq->syn_qlen--;
		if (!req->num_timeout)
			req->listener->lq->young--;
	}
	tcp_req_free_opts(req);
}

/* Linux tcp_openreq_init_rwin(). */
static void tcp_req_init_rwin(struct tcp_sock *lsk, struct tcp_req *req)
{
	int full = tcp_full_space(lsk);
	uint32_t clamp = lsk->window_clamp ? lsk->window_clamp : lsk->user_window_clamp;

	if (lsk->rcvbuf_locked && (clamp > (uint32_t)full || clamp == 0))
		clamp = (uint32_t)full;
	req->window_clamp = clamp;
	tcp_select_initial_window(lsk, full, req->advmss - (req->tstamp_ok ? TCP_OLEN_TS_ALIGNED : 0),
				  &req->rcv_wnd, &req->window_clamp, req->wscale_ok, &req->rcv_wscale);
}

static uint16_t tcp_route_advmss(struct ips_stack *st, struct tcp_sock *lsk, uint32_t saddr,
				 uint32_t daddr)
{
	struct rt_result rt;
	uint32_t mtu = 1500, adv;

	if (route_output(st, daddr, saddr, lsk->bound_ifindex, lsk->mark, &rt) == 0 && rt.mtu)
		mtu = rt.mtu;
	adv = mtu - 40;
	if (adv < (uint32_t)st->sysctl.ip.route_min_adv_mss)
		adv = (uint32_t)st->sysctl.ip.route_min_adv_mss;
	if (lsk->user_mss && lsk->user_mss < adv)
		adv = lsk->user_mss;
	return (uint16_t)(adv > 65535 ? 65535 : adv);
}

/* tcp_v4_save_options(): the reply options for the connection seg opens, the echo of
 * the options it arrived with (a source route reversed, __ip_options_echo()); none
 * when it had none or they cannot be echoed. */
void tcp_req_save_ip_options(struct ips_stack *st, struct tcp_req *req, const struct tcp_seg *seg)
{
	struct tcp_ipopt o;

	free(req->ip_opt);
	req->ip_opt = NULL;
	if (tcp_ip_options_echo(st, seg, &o) < 0 || !o.len)
		return;
	req->ip_opt = malloc(sizeof(*req->ip_opt));
	if (req->ip_opt)
		*req->ip_opt = o;
}

static void tcp_req_from_syn(struct tcp_sock *lsk, struct tcp_req *req, const struct tcp_seg *seg,
			     bool want_cookie)
{
	struct ipv4_sysctl *s = &lsk->st->sysctl.ip;

	req->h.kind = TCP_HK_REQ;
	req->h.laddr = seg->daddr;
	req->h.raddr = seg->saddr;
	req->h.lport = seg->th.dport;
	req->h.rport = seg->th.sport;
	req->listener = lsk;
	req->irs = seg->seq;
	req->mss = TCP_MSS_DEFAULT;
	if (seg->opt.has_mss && seg->opt.mss) {
		req->mss = seg->opt.mss;
		if (lsk->user_mss && lsk->user_mss < req->mss)
			req->mss = (uint16_t)lsk->user_mss;
	}
	req->tstamp_ok = seg->opt.has_ts && s->tcp_timestamps;
	if (!(want_cookie && !req->tstamp_ok)) {
		req->wscale_ok = seg->opt.has_wscale && s->tcp_window_scaling;
		req->snd_wscale = req->wscale_ok ? (seg->opt.wscale > 14 ? 14 : seg->opt.wscale) : 0;
		req->sack_ok = seg->opt.sack_ok && s->tcp_sack;
	}
	req->ts_recent = req->tstamp_ok ? seg->opt.tsval : 0;
	/* RFC 3168 6.1.1: ECN-setup SYN is ECE+CWR on a not-ECT packet; tcp_ecn >= 1 answers */
	if ((seg->flags & (WIRE_TCP_ECE | WIRE_TCP_CWR)) == (WIRE_TCP_ECE | WIRE_TCP_CWR) &&
	    s->tcp_ecn && ((seg->tos & 3) == 0 || seg->th.res))
		req->ecn_ok = true;
	if (want_cookie && !req->tstamp_ok)
		req->ecn_ok = false;
	req->tos = lsk->tos;
	tcp_req_save_ip_options(lsk->st, req, seg);
	req->advmss = tcp_route_advmss(lsk->st, lsk, seg->daddr, seg->saddr);
	if (req->tstamp_ok)
		req->ts_off = tcp_ts_off(lsk->st, seg->daddr, seg->saddr);
	tcp_req_init_rwin(lsk, req);
}

static bool tcp_acceptq_full(const struct tcp_sock *lsk)
{
	return lsk->lq->acc_qlen > lsk->lq->backlog;
}

/* Linux tcp_conn_request(): a SYN reached a listener. isn != 0: a SYN that recycles a
 * TIME_WAIT. */
static void tcp_conn_request_isn(struct tcp_sock *lsk, struct tcp_seg *seg, uint32_t isn)
{
	struct ips_stack *st = lsk->st;
	struct tcp_state *ts = tcp_state_of(st);
	int syncookies = st->sysctl.ip.tcp_syncookies;
	bool want_cookie = false;
	struct tcp_req *req;

	if ((syncookies == 2 || lsk->lq->syn_qlen > lsk->lq->backlog) && !isn) {
		if (syncookies) {
			want_cookie = true;
			MIB_INC(st, TcpExtTCPReqQFullDoCookies);
		} else {
			MIB_INC(st, TcpExtTCPReqQFullDrop);
			goto drop;
		}
	}
	if (tcp_acceptq_full(lsk)) {
		MIB_INC(st, TcpExtListenOverflows);
		goto drop;
	}
	req = calloc(1, sizeof(*req));
	if (!req)
		goto drop;
	tcp_req_from_syn(lsk, req, seg, want_cookie);
	if (!want_cookie && !isn) {
		int max_syn = st->sysctl.ip.tcp_max_syn_backlog;

		if (!syncookies && max_syn - lsk->lq->syn_qlen < (max_syn >> 2)) {
			tcp_req_free_opts(req);
			goto drop;
		}
		isn = tcp_isn(st, seg->daddr, seg->saddr, seg->th.dport, seg->th.sport);
	}
	if (want_cookie) {
		isn = tcp_cookie_init_seq(st, seg, &req->mss);
		req->iss = isn;
		if (req->tstamp_ok)
			req->ts_off = tcp_cookie_init_ts(st, req, req->ts_off) -
				      (uint32_t)stack_now_ms(st);
		MIB_INC(st, TcpExtSyncookiesSent);
		/* per listener, as Linux keeps it in the listener's ts_recent_stamp */
		lsk->lq->syncookie_last_overflow_s = stack_now_ms(st) / 1000 + 1;
		tcp_send_synack_req(st, req, lsk);
		tcp_req_free_opts(req);
		return;
	}
	req->iss = isn;
	req->synack_us = tcp_now_us(st);
	tcp_ehash_insert(ts, &req->h);
	req->lnext = lsk->lq->syn_head;
	if (req->lnext)
		req->lnext->lpprev = &req->lnext;
	lsk->lq->syn_head = req;
	req->lpprev = &lsk->lq->syn_head;
	lsk->lq->syn_qlen++;
	lsk->lq->young++;
	timer_init(&req->timer, tcp_req_timer, req);
	stack_timer_arm_ms(st, &req->timer, TCP_TIMEOUT_INIT_MS);
	tcp_send_synack_req(st, req, lsk);
	return;
drop:
	MIB_INC(st, TcpExtListenDrops);
}

void tcp_conn_request(struct tcp_sock *lsk, struct tcp_seg *seg)
{
	tcp_conn_request_isn(lsk, seg, 0);
}

/* reqsk_timer_handler(): SYN-ACK retransmission with backoff, tcp_synack_retries. */
static void tcp_req_timer(void *arg)
{
	struct tcp_req *req = arg;
	struct tcp_sock *lsk = req->listener;
	struct ips_stack *st = lsk->st;
	struct tcp_listen_q *q = lsk->lq;
	int max_retries = lsk->syncnt ? lsk->syncnt : st->sysctl.ip.tcp_synack_retries;
	/* TCP_DEFER_ACCEPT is kept in SYN-ACK retransmissions (secs_to_retrans) */
	int defer = lsk->defer_accept_s;
	bool expire, resend;

	/* "we reserve half of room for young embrions; and abort old ones without pity, if
	 * old ones are about to clog our table": a SYN queue more than half full (against
	 * max(8, backlog)) where the requests that never timed out are few gets fewer
	 * retransmissions, down to 2 (a flood of SYNs that never answer) */
	if ((unsigned)q->syn_qlen << 1 > (q->backlog > 8 ? (unsigned)q->backlog : 8u)) {
		int young = q->young << 1;

		while (max_retries > 2) {
			if (q->syn_qlen < young)
				break;
			max_retries--;
			young <<= 1;
		}
	}
	/* syn_ack_recalc() */
	if (!defer) {
		expire = req->num_timeout >= max_retries;
		resend = true;
	} else {
		expire = req->num_timeout >= max_retries && (!req->acked || req->num_timeout >= defer);
		resend = !req->acked || req->num_timeout >= defer - 1;
	}
	if (!expire) {
		if (resend) {
			tcp_send_synack_req(st, req, lsk);
			MIB_INC(st, TcpRetransSegs);
			MIB_INC(st, TcpExtTCPSynRetrans);
			req->num_retrans++;
		}
		if (req->num_timeout++ == 0)
			q->young--;
		{
			uint64_t t = (uint64_t)TCP_TIMEOUT_INIT_MS << req->num_timeout;

			stack_timer_arm_ms(st, &req->timer, t < TCP_RTO_MAX_MS ? t : TCP_RTO_MAX_MS);
		}
		return;
	}
	tcp_req_free(tcp_state_of(st), req);
}

/* Linux tcp_create_openreq_child() + tcp_v4_syn_recv_sock(): the full socket, in
 * SYN_RECV, hashed in place of the request. NULL when the accept queue is full. */
struct tcp_sock *tcp_create_child(struct tcp_sock *lsk, struct tcp_req *req, struct tcp_seg *seg)
{
	struct ips_stack *st = lsk->st;
	struct tcp_state *ts = tcp_state_of(st);
	struct tcp_sock *tp;
	uint32_t mtu = 1500;

	if (tcp_acceptq_full(lsk)) {
		MIB_INC(st, TcpExtListenOverflows);
		MIB_INC(st, TcpExtListenDrops);
		return NULL;
	}
	tp = tcp_sock_alloc(st);
	if (!tp) {
		MIB_INC(st, TcpExtListenDrops);
		return NULL;
	}
	/* inherited socket options (inet_csk_clone) */
	tp->reuseaddr = lsk->reuseaddr;
	tp->nonagle_nodelay = lsk->nonagle_nodelay;
	tp->cork = lsk->cork;
	tp->keepalive_on = lsk->keepalive_on;
	tp->keepidle_s = lsk->keepidle_s;
	tp->keepintvl_s = lsk->keepintvl_s;
	tp->keepcnt = lsk->keepcnt;
	tp->linger_on = lsk->linger_on;
	tp->linger_s = lsk->linger_s;
	tp->linger2_s = lsk->linger2_s;
	tp->user_mss = lsk->user_mss;
	tp->user_timeout_ms = lsk->user_timeout_ms;
	tp->user_window_clamp = lsk->user_window_clamp;
	tp->notsent_lowat = lsk->notsent_lowat;
	tp->oobinline = lsk->oobinline;
	tp->rcvbuf = lsk->rcvbuf;
	tp->sndbuf = lsk->sndbuf;
	tp->rcvbuf_locked = lsk->rcvbuf_locked;
	tp->sndbuf_locked = lsk->sndbuf_locked;
	tp->tos = lsk->tos;
	tp->ttl_opt = lsk->ttl_opt;
	tp->mark = lsk->mark;
	tp->priority = lsk->priority;
	tp->bound_ifindex = lsk->bound_ifindex;
	tp->pmtudisc = lsk->pmtudisc;
	tp->recverr = lsk->recverr;
	tp->syncnt = lsk->syncnt;
	tp->quickack_opt = lsk->quickack_opt;
	tp->cc = lsk->cc;
	tp->inet_id = (uint16_t)rng_u32(&st->rng);

	tp->h.laddr = req->h.laddr;
	tp->h.raddr = req->h.raddr;
	tp->h.lport = req->h.lport;
	tp->h.rport = req->h.rport;
	tp->iss = req->iss;
	tp->irs = req->irs;
	tp->rcv_nxt = tp->rcv_wup = tp->copied_seq = req->irs + 1;
	tp->snd_una = tp->snd_nxt = tp->snd_up = tp->snd_sml = req->iss + 1;
	tp->write_seq = tp->pushed_seq = tp->sbuf_seq = req->iss + 1;
	tp->snd_wl1 = req->irs;
	tp->ack.lrcvtime_ms = stack_now_ms(st);
	tp->lsndtime_ms = stack_now_ms(st);
	tp->total_retrans = req->num_retrans;
	tp->tstamp_ok = req->tstamp_ok;
	tp->sack_ok = req->sack_ok;
	tp->window_clamp = req->window_clamp;
	tp->rcv_ssthresh = req->rcv_wnd;
	tp->rcv_wnd = req->rcv_wnd;
	tp->wscale_ok = req->wscale_ok;
	if (tp->wscale_ok) {
		tp->snd_wscale = req->snd_wscale;
		tp->rcv_wscale = req->rcv_wscale;
	} else {
		tp->snd_wscale = tp->rcv_wscale = 0;
		if (tp->window_clamp > 65535)
			tp->window_clamp = 65535;
	}
	tp->snd_wnd = (uint32_t)seg->th.window << tp->snd_wscale;
	tp->max_window = tp->snd_wnd;
	if (tp->tstamp_ok) {
		tp->ts_recent = req->ts_recent;
		tp->ts_recent_stamp_s = stack_now_ms(st) / 1000;
		tp->tcp_header_len = WIRE_TCP_HLEN + TCP_OLEN_TS_ALIGNED;
	} else {
		tp->tcp_header_len = WIRE_TCP_HLEN;
	}
	if (req->num_timeout) {
		tp->undo_marker = req->iss;
		tp->retrans_stamp_ms = req->synack_us / 1000 ? req->synack_us / 1000 : 1;
	}
	tp->ts_off = req->ts_off;
	tp->mss_clamp = req->mss;
	tp->ecn_ok = req->ecn_ok;
	/* tcp_v4_syn_recv_sock(): the request's options become the child's (the
	 * listener's own are not inherited) and their length its icsk_ext_hdr_len; the
	 * final ACK's interface, TTL and TOS are kept (mc_index, mc_ttl, rcv_tos) */
	tp->ip_opt = req->ip_opt;
	req->ip_opt = NULL;
	tp->syn_rx = true;
	tp->syn_iif = seg->ifindex;
	tp->syn_ttl = seg->ttl;
	tp->syn_tos = seg->tos;
	{
		struct rt_result rt;
		uint32_t nexthop = tcp_ipopt_nexthop(tp->ip_opt, tp->h.raddr);

		if (route_output(st, nexthop, tp->h.laddr, tp->bound_ifindex, tp->mark, &rt) == 0 &&
		    rt.mtu)
			mtu = rt.mtu;
	}
	tcp_sync_mss(tp, mtu);
	tp->advmss = req->advmss;
	tp->ack.rcv_mss = tp->advmss < tp->mss_cache ? tp->advmss : tp->mss_cache;
	if (tp->ack.rcv_mss > TCP_MSS_DEFAULT)
		tp->ack.rcv_mss = TCP_MSS_DEFAULT;
	tp->state = TCP_SYN_RECV;
	/* Linux tcp_check_req() -> tcp_synack_rtt_meas(): the SYN-ACK's RTT from its send
	 * time when it went only once (Karn), timestamps or not */
	if (!req->num_retrans && req->synack_us) {
		long rtt_us = (long)(tcp_now_us(st) - req->synack_us);

		tcp_ack_update_rtt(tp, FLAG_SYN_ACKED, rtt_us, -1, rtt_us);
	}
	if (tp->keepalive_on)
		tcp_reset_keepalive_timer(tp, tcp_keepalive_time_ms(tp));
	MIB_INC(st, TcpPassiveOpens);
	/* the child takes the request's place in the hash and shares the port */
	tcp_req_free(ts, req);
	tcp_ehash_insert(ts, &tp->h);
	tcp_bnode_inherit(&tp->b, &lsk->b);
	tcp_accept_enqueue(lsk, tp);
	return tp;
}

static bool tcp_in_window(uint32_t seq, uint32_t end_seq, uint32_t s_win, uint32_t e_win)
{
	if (seq == s_win)
		return true;
	if (after(end_seq, s_win) && before(seq, e_win))
		return true;
	return seq == e_win && seq == end_seq;
}

static bool req_oow_rate_limited(struct ips_stack *st, struct tcp_req *req, const struct tcp_seg *seg)
{
	uint64_t now = stack_now_ms(st);

	if (seg->seq != seg->end_seq && !(seg->flags & WIRE_TCP_SYN))
		return false;
	if (req->last_oow_ack_ms && now - req->last_oow_ack_ms < st->sysctl.ip.tcp_invalid_ratelimit) {
		MIB_INC(st, TcpExtTCPACKSkippedSynRecv);
		return true;
	}
	req->last_oow_ack_ms = now ? now : 1;
	return false;
}

/* Linux tcp_check_req(): a segment for a request socket. */
void tcp_check_req(struct tcp_req *req, struct tcp_seg *seg)
{
	struct tcp_sock *lsk = req->listener;
	struct ips_stack *st = lsk->st;
	struct tcp_state *ts = tcp_state_of(st);
	uint16_t flg = seg->flags & (WIRE_TCP_SYN | WIRE_TCP_RST | WIRE_TCP_ACK | WIRE_TCP_FIN);
	bool paws_reject = false;
	struct tcp_sock *child;

	if (lsk->state != TCP_LISTEN) {
		tcp_req_free(ts, req);
		tcp_send_reset_reply(st, seg);
		return;
	}
	if (seg->opt.has_ts && req->tstamp_ok) {
		/* ts_recent_stamp is estimated as Linux does (not stored) */
		if ((int32_t)(req->ts_recent - seg->opt.tsval) > 0 && req->ts_recent &&
		    !((seg->flags & WIRE_TCP_RST)))
			paws_reject = true;
	}
	/* a retransmitted SYN: send the SYN-ACK again */
	if (seg->seq == req->irs && flg == WIRE_TCP_SYN && !paws_reject) {
		if (!req_oow_rate_limited(st, req, seg)) {
			tcp_send_synack_req(st, req, lsk);
			MIB_INC(st, TcpRetransSegs);
			MIB_INC(st, TcpExtTCPSynRetrans);
			req->num_retrans++;
		}
		return;
	}
	/* an unacceptable ACK: the listener answers with a RST */
	if ((flg & WIRE_TCP_ACK) && seg->ack != req->iss + 1) {
		tcp_send_reset_reply(st, seg);
		return;
	}
	if (paws_reject || !tcp_in_window(seg->seq, seg->end_seq, req->irs + 1,
					  req->irs + 1 + (req->rcv_wnd < 65535 ? req->rcv_wnd : 65535))) {
		if (!(flg & WIRE_TCP_RST) && !req_oow_rate_limited(st, req, seg))
			tcp_req_send_ack(st, req, seg);
		if (paws_reject)
			MIB_INC(st, TcpExtPAWSEstab);
		return;
	}
	if (seg->opt.has_ts && req->tstamp_ok && !after(seg->seq, req->irs + 1))
		req->ts_recent = seg->opt.tsval;
	if (seg->seq == req->irs)
		flg &= (uint16_t)~WIRE_TCP_SYN;
	if (flg & (WIRE_TCP_RST | WIRE_TCP_SYN)) {
		MIB_INC(st, TcpAttemptFails);
		if (!(flg & WIRE_TCP_RST))
			tcp_send_reset_reply(st, seg);
		tcp_req_free(ts, req);
		MIB_INC(st, TcpExtEmbryonicRsts);
		return;
	}
	if (!(flg & WIRE_TCP_ACK))
		return;
	/* TCP_DEFER_ACCEPT: a bare ACK waits for data */
	if (req->num_timeout < lsk->defer_accept_s && seg->end_seq == req->irs + 1) {
		req->acked = true;
		MIB_INC(st, TcpExtTCPDeferAcceptDrop);
		return;
	}
	child = tcp_create_child(lsk, req, seg);
	if (!child) {
		if (!st->sysctl.ip.tcp_abort_on_overflow) {
			req->acked = true;
			return;
		}
		tcp_send_reset_reply(st, seg);
		tcp_req_free(ts, req);
		MIB_INC(st, TcpExtEmbryonicRsts);
		return;
	}
	tcp_hold(child);
	if (tcp_rcv_state_process(child, seg))
		tcp_send_reset_reply(st, seg);
	tcp_release(child);
}

/* inet_csk_listen_stop(): children not yet accepted are aborted, requests dropped. */
void tcp_listen_flush(struct tcp_sock *lsk)
{
	struct tcp_state *ts = tcp_state_of(lsk->st);
	struct tcp_listen_q *q = lsk->lq;

	if (!q)
		return;
	while (q->syn_head)
		tcp_req_free(ts, q->syn_head);
	while (q->acc_head) {
		struct tcp_sock *c = q->acc_head;

		q->acc_head = c->acc_next;
		c->in_accept_q = false;
		c->parent = NULL;
		tcp_abort(c, ECONNABORTED);
		if (c->state == TCP_CLOSE)
			tcp_sock_destroy(c);
		else
			tcp_close(c);
	}
	q->acc_tail = NULL;
	q->acc_qlen = 0;
	free(q);
	lsk->lq = NULL;
}

/* ---- TIME_WAIT ---- */

static void tcp_tw_timer(void *arg);

void tcp_tw_free(struct tcp_state *ts, struct tcp_tw *tw)
{
	stack_timer_cancel(ts->st, &tw->timer);
	tcp_ehash_remove(ts, &tw->h);
	tcp_bnode_put(ts, &tw->b);
	ts->ntw--;
	free(tw);
}

static void tcp_tw_timer(void *arg)
{
	struct tcp_tw *tw = arg;
	struct ips_stack *st = tw->st;

	MIB_INC(st, TcpExtTW);
	tcp_tw_free(tcp_state_of(st), tw);
}

/* Linux tcp_time_wait(): replace the socket by a time-wait object and close it. */
void tcp_time_wait(struct tcp_sock *tp, int state, uint32_t timeo_ms)
{
	struct ips_stack *st = tp->st;
	struct tcp_state *ts = tcp_state_of(st);
	struct tcp_tw *tw = NULL;

	if (ts->ntw < st->sysctl.ip.tcp_max_tw_buckets)
		tw = calloc(1, sizeof(*tw));
	if (tw) {
		uint32_t rto = (tp->rto_ms << 2) - (tp->rto_ms >> 1);

		tw->h.kind = TCP_HK_TW;
		tw->st = st;
		tw->h.laddr = tp->h.laddr;
		tw->h.raddr = tp->h.raddr;
		tw->h.lport = tp->h.lport;
		tw->h.rport = tp->h.rport;
		tw->substate = (uint8_t)state;
		tw->rcv_nxt = tp->rcv_nxt;
		tw->snd_nxt = tp->snd_nxt;
		{
			int32_t w = (int32_t)(tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt);

			tw->rcv_wnd = w > 0 ? (uint32_t)w : 0;
		}
		tw->rcv_wscale = tp->rcv_wscale;
		tw->ts_recent = tp->ts_recent;
		tw->ts_recent_stamp_s = tp->tstamp_ok ? tp->ts_recent_stamp_s : 0;
		tw->tstamp_ok = tp->tstamp_ok;
		tw->ts_off = tp->ts_off;
		tw->tos = tp->tos;
		tw->reuse = tp->reuseaddr;
		tw->created_ms = stack_now_ms(st);
		if (timeo_ms < rto)
			timeo_ms = rto;
		if (state == TCP_TIME_WAIT)
			timeo_ms = TCP_TIMEWAIT_LEN_MS;
		if (tp->b.tb) {
			tw->b.kind = TCP_HK_TW;
			tcp_bnode_inherit(&tw->b, &tp->b);
			tw->b.kind = TCP_HK_TW;
		}
		tcp_ehash_remove(ts, &tp->h);
		tcp_ehash_insert(ts, &tw->h);
		timer_init(&tw->timer, tcp_tw_timer, tw);
		stack_timer_arm_ms(st, &tw->timer, timeo_ms);
		ts->ntw++;
	} else {
		MIB_INC(st, TcpExtTCPTimeWaitOverflow);
	}
	tcp_done(tp);
}

static void tcp_tw_reschedule(struct ips_stack *st, struct tcp_tw *tw, uint32_t ms)
{
	stack_timer_arm_ms(st, &tw->timer, ms);
}

static bool tw_paws_reject(struct ips_stack *st, const struct tcp_tw *tw, const struct tcp_seg *seg)
{
	uint64_t now_s = stack_now_ms(st) / 1000;

	if (!tw->ts_recent_stamp_s || !seg->opt.has_ts)
		return false;
	if ((int32_t)(tw->ts_recent - seg->opt.tsval) <= 0)
		return false;
	if (now_s >= tw->ts_recent_stamp_s + TCP_PAWS_24DAYS_S)
		return false;
	if (!tw->ts_recent)
		return false;
	if ((seg->flags & WIRE_TCP_RST) && now_s >= tw->ts_recent_stamp_s + TCP_PAWS_MSL_S)
		return false;
	return true;
}

static void tw_ack_rate_limited(struct ips_stack *st, struct tcp_tw *tw, const struct tcp_seg *seg,
				int mib)
{
	uint64_t now = stack_now_ms(st);

	if (seg->seq == seg->end_seq || (seg->flags & WIRE_TCP_SYN)) {
		if (tw->last_oow_ack_ms && now - tw->last_oow_ack_ms < st->sysctl.ip.tcp_invalid_ratelimit) {
			st->mib.v[mib]++;
			return;
		}
		tw->last_oow_ack_ms = now ? now : 1;
	}
	tcp_tw_send_ack(st, tw, seg);
}

/* Linux tcp_timewait_state_process() + the TCP_TW_* dispositions of tcp_v4_rcv(). */
void tcp_tw_process(struct tcp_tw *tw, struct tcp_seg *seg)
{
	struct ips_stack *st = tw->st;
	struct tcp_state *ts = tcp_state_of(st);
	bool paws_reject = tw_paws_reject(st, tw, seg);
	uint16_t f = seg->flags;

	if (tw->substate == TCP_FIN_WAIT2) {
		/* repeat the checks of tcp_rcv_state_process() */
		if (paws_reject || !tcp_in_window(seg->seq, seg->end_seq, tw->rcv_nxt,
						  tw->rcv_nxt + tw->rcv_wnd)) {
			tw_ack_rate_limited(st, tw, seg, MIB_TcpExtTCPACKSkippedFinWait2);
			return;
		}
		if (f & WIRE_TCP_RST)
			goto kill;
		if ((f & WIRE_TCP_SYN) && !before(seg->seq, tw->rcv_nxt))
			goto rst;
		if (!(f & WIRE_TCP_ACK) || !after(seg->end_seq, tw->rcv_nxt) || seg->end_seq == seg->seq)
			return;
		/* new data after a half-duplex close: reset */
		if (!(f & WIRE_TCP_FIN) || seg->end_seq != tw->rcv_nxt + 1)
			goto rst;
		/* FIN: the real TIME_WAIT */
		tw->substate = TCP_TIME_WAIT;
		tw->rcv_nxt = seg->end_seq;
		if (seg->opt.has_ts) {
			tw->ts_recent_stamp_s = stack_now_ms(st) / 1000;
			tw->ts_recent = seg->opt.tsval;
		}
		tcp_tw_reschedule(st, tw, TCP_TIMEWAIT_LEN_MS);
		tcp_tw_send_ack(st, tw, seg);
		return;
	}
	/* TIME_WAIT proper */
	if (!paws_reject && seg->seq == tw->rcv_nxt && (seg->seq == seg->end_seq || (f & WIRE_TCP_RST))) {
		if (f & WIRE_TCP_RST) {
			/* TIME_WAIT assassination (RFC 1337): Linux accepts it unless
			 * tcp_rfc1337 */
			if (!st->sysctl.ip.tcp_rfc1337)
				goto kill;
		} else {
			tcp_tw_reschedule(st, tw, TCP_TIMEWAIT_LEN_MS);
		}
		if (seg->opt.has_ts && tw->tstamp_ok) {
			tw->ts_recent = seg->opt.tsval;
			tw->ts_recent_stamp_s = stack_now_ms(st) / 1000;
		}
		return;
	}
	/* A new SYN may reopen the connection (RFC 1122 4.2.2.13): when newer than what we
	 * saw, by sequence number or timestamp. */
	if ((f & WIRE_TCP_SYN) && !(f & (WIRE_TCP_RST | WIRE_TCP_ACK)) && !paws_reject &&
	    (after(seg->seq, tw->rcv_nxt) ||
	     (seg->opt.has_ts && tw->ts_recent_stamp_s && (int32_t)(tw->ts_recent - seg->opt.tsval) < 0))) {
		uint32_t isn = tw->snd_nxt + 65535 + 2;
		struct tcp_sock *lsk = tcp_listener_lookup(ts, seg->daddr, seg->th.dport, seg->ifindex);

		if (!isn)
			isn++;
		if (lsk) {
			tcp_tw_free(ts, tw);
			tcp_conn_request_isn(lsk, seg, isn);
			return;
		}
		/* no listener: tcp_v4_rcv()'s TCP_TW_SYN falls through to TCP_TW_ACK, the
		 * time-wait ACK, without the out-of-window rate limit */
		tcp_tw_send_ack(st, tw, seg);
		return;
	}
	if (paws_reject)
		MIB_INC(st, TcpExtPAWSTimewait);
	if (!(f & WIRE_TCP_RST)) {
		if (paws_reject || (f & WIRE_TCP_ACK))
			tcp_tw_reschedule(st, tw, TCP_TIMEWAIT_LEN_MS);
		tw_ack_rate_limited(st, tw, seg, MIB_TcpExtTCPACKSkippedTimeWait);
	}
	return;
rst:
	tcp_send_reset_reply(st, seg);
kill:
	tcp_tw_free(ts, tw);
}

bool tcp_tw_reusable(struct tcp_state *ts, struct tcp_tw *tw, struct tcp_sock *tp, bool bound)
{
	struct ips_stack *st = ts->st;
	int reuse = st->sysctl.ip.tcp_tw_reuse;

	if (tw->substate == TCP_FIN_WAIT2)
		reuse = 0;
	if (reuse == 2) {
		bool loop = (ntohl(tw->h.raddr) >> 24) == 127 || (ntohl(tw->h.laddr) >> 24) == 127;

		if (!loop)
			reuse = 0;
	}
	/* with PAWS a reuse is safe: a connect() from a bound port may always take the
	 * 4-tuple over (twp == NULL in Linux), an ephemeral one when tcp_tw_reuse allows and
	 * the time-wait socket is older than tcp_tw_reuse_delay */
	if (tw->ts_recent_stamp_s &&
	    (bound || (reuse && stack_now_ms(st) > tw->created_ms + st->sysctl.ip.tcp_tw_reuse_delay))) {
		uint32_t seq = tw->snd_nxt + 65535 + 2;

		if (!seq)
			seq = 1;
		tp->write_seq = seq;
		tp->write_seq_preset = true;
		tp->ts_recent = tw->ts_recent;
		tp->ts_recent_stamp_s = tw->ts_recent_stamp_s;
		return true;
	}
	return false;
}

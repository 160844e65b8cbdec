/* TCP input: demultiplexing (tcp_v4_rcv), the RFC 9293 3.10.7 segment arrival rules as
 * Linux orders them (tcp_rcv_state_process, tcp_rcv_synsent_state_process,
 * tcp_validate_incoming with RFC 7323 PAWS and RFC 5961 challenge ACKs), the receive
 * queue and out-of-order queue with SACK blocks, delayed ACK decisions, FIN and urgent
 * data, and ICMP errors (tcp_v4_err). ACK processing is in tcp_ack.c. */
#include <errno.h>
#include <string.h>

#include "ip/ip.h"
#include "link/netdev.h"
#include "transport/tcp_int.h"
#include "wire/wire.h"

/* ---- options ---- */

void tcp_parse_seg_opts(struct ips_stack *st, struct tcp_seg *seg)
{
	memset(&seg->opt, 0, sizeof(seg->opt));
	if (seg->th.doff > WIRE_TCP_HLEN)
		wire_tcp_opts_parse(seg->pkb->th, seg->th.doff, &seg->opt);
	if (!st->sysctl.ip.tcp_timestamps && (seg->flags & WIRE_TCP_SYN))
		seg->opt.has_ts = false;
}

void tcp_store_ts_recent(struct tcp_sock *tp, const struct tcp_seg *seg)
{
	tp->ts_recent = seg->opt.tsval;
	tp->ts_recent_stamp_s = stack_now_ms(tp->st) / 1000;
}

/* tcp_paws_check(): is the segment's timestamp acceptable against ts_recent? */
bool tcp_paws_check(const struct tcp_sock *tp, uint32_t tsval, int win)
{
	uint64_t now_s = stack_now_ms(tp->st) / 1000;

	if ((int32_t)(tp->ts_recent - tsval) <= win)
		return true;
	if (now_s >= tp->ts_recent_stamp_s + TCP_PAWS_24DAYS_S)
		return true;
	if (!tp->ts_recent)
		return true;
	return false;
}

static bool tcp_paws_reject(const struct tcp_sock *tp, uint32_t tsval, bool rst)
{
	if (tcp_paws_check(tp, tsval, 0))
		return false;
	if (rst && stack_now_ms(tp->st) / 1000 >= tp->ts_recent_stamp_s + TCP_PAWS_MSL_S)
		return false;
	return true;
}

bool tcp_may_update_window(const struct tcp_sock *tp, uint32_t ack, uint32_t ack_seq,
			   uint32_t nwin)
{
	return after(ack, tp->snd_una) || after(ack_seq, tp->snd_wl1) ||
	       (ack_seq == tp->snd_wl1 && (nwin > tp->snd_wnd || !nwin));
}

/* tcp_disordered_ack(): a pure duplicate ACK that PAWS would reject only because of
 * reordering with data segments. */
static bool tcp_disordered_ack(const struct tcp_sock *tp, const struct tcp_seg *seg)
{
	uint32_t nwin = (uint32_t)seg->th.window << tp->snd_wscale;

	return (seg->flags & WIRE_TCP_ACK) && seg->seq == seg->end_seq && seg->seq == tp->rcv_nxt &&
	       seg->ack == tp->snd_una && !tcp_may_update_window(tp, seg->ack, seg->seq, nwin) &&
	       (int32_t)(tp->ts_recent - seg->opt.tsval) <= (int32_t)(tp->rto_ms * 1024 / 1000);
}

static bool tcp_paws_discard(const struct tcp_sock *tp, const struct tcp_seg *seg)
{
	return !tcp_paws_check(tp, seg->opt.tsval, TCP_PAWS_WINDOW) && !tcp_disordered_ack(tp, seg);
}

/* __tcp_oow_rate_limited(): at most one ACK per tcp_invalid_ratelimit for segments
 * without data. */
static bool tcp_oow_rate_limited(struct tcp_sock *tp, const struct tcp_seg *seg, int mib)
{
	uint64_t now = stack_now_ms(tp->st);

	if (seg->seq != seg->end_seq && !(seg->flags & WIRE_TCP_SYN))
		return false;
	if (tp->last_oow_ack_ms && now - tp->last_oow_ack_ms < tp->st->sysctl.ip.tcp_invalid_ratelimit) {
		tp->st->mib.v[mib]++;
		return true;
	}
	tp->last_oow_ack_ms = now ? now : 1;
	return false;
}

static uint32_t tcp_receive_window(const struct tcp_sock *tp)
{
	int32_t w = (int32_t)(tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt);

	return w < 0 ? 0 : (uint32_t)w;
}

/* ---- Receiving data ---- */

void tcp_enter_quickack_mode(struct tcp_sock *tp, unsigned max_quickacks)
{
	unsigned q = tp->rcv_wnd / (2 * (tp->ack.rcv_mss ? tp->ack.rcv_mss : 536));

	if (q == 0)
		q = 2;
	if (q > max_quickacks)
		q = max_quickacks;
	if (q > tp->ack.quick)
		tp->ack.quick = (uint8_t)q;
	tp->ack.pingpong = 0;
	tp->ack.ato_ms = TCP_ATO_MIN_MS;
}

static void tcp_incr_quickack(struct tcp_sock *tp, unsigned max_quickacks)
{
	unsigned q = tp->rcv_wnd / (2 * (tp->ack.rcv_mss ? tp->ack.rcv_mss : 536));

	if (q == 0)
		q = 2;
	if (q > max_quickacks)
		q = max_quickacks;
	if (q > tp->ack.quick)
		tp->ack.quick = (uint8_t)q;
}

static bool tcp_in_quickack_mode(const struct tcp_sock *tp)
{
	return tp->ack.quick && tp->ack.pingpong < tp->st->sysctl.ip.tcp_pingpong_thresh;
}

/* Linux tcp_measure_rcv_mss(). A full-sized segment of a new size also sets the
 * scaling ratio (payload per byte of buffer) and the window clamp that follows. */
static void tcp_measure_rcv_mss(struct tcp_sock *tp, const struct tcp_seg *seg, uint32_t truesize)
{
	uint32_t lss = tp->ack.last_seg_size;
	/* a super-packet tells its segments' size (gso_size ?: skb->len) */
	uint32_t len = seg->gso_size ? seg->gso_size : seg->len;

	tp->ack.last_seg_size = 0;
	if (len >= tp->ack.rcv_mss) {
		if (len != tp->ack.rcv_mss && truesize) {
			uint64_t val = ((uint64_t)seg->len << TCP_RMEM_TO_WIN_SCALE) / truesize;
			uint8_t old = tp->scaling_ratio;

			tp->scaling_ratio = (uint8_t)(val ? (val > 255 ? 255 : val) : 1);
			if (old != tp->scaling_ratio) {
				tcp_set_window_clamp(tp, tcp_win_from_space(tp, (int)tp->rcvbuf));
				if (tp->window_clamp < tp->rcvq_space.space)
					tp->rcvq_space.space = tp->window_clamp;
			}
		}
		tp->ack.rcv_mss = len < tp->advmss ? len : tp->advmss;
		tp->ack.pending &= (uint8_t)~ICSK_ACK_PUSHED;
	} else {
		len += seg->th.doff;
		if (len >= TCP_MSS_DEFAULT + WIRE_TCP_HLEN ||
		    (len >= TCP_MIN_MSS + WIRE_TCP_HLEN &&
		     !(seg->flags & (WIRE_TCP_URG | WIRE_TCP_PSH | WIRE_TCP_FIN | WIRE_TCP_RST | WIRE_TCP_SYN)))) {
			len -= tp->tcp_header_len;
			tp->ack.last_seg_size = len;
			if (len == lss) {
				tp->ack.rcv_mss = len;
				return;
			}
		}
		if (tp->ack.pending & ICSK_ACK_PUSHED)
			tp->ack.pending |= ICSK_ACK_PUSHED2;
		tp->ack.pending |= ICSK_ACK_PUSHED;
	}
}

/* Receiver-side RTT for receive buffer tuning (Linux 6.18 tcp_rcv_rtt_update): a lower
 * sample is taken at once; a higher one is averaged in (1/8) only when it comes from a
 * timestamp (win_dep 0) and the application has read everything, so that a slow reader
 * does not inflate the estimate and with it the buffer. */
static void tcp_rcv_rtt_update(struct tcp_sock *tp, uint32_t sample_us, bool win_dep)
{
	uint32_t old = tp->rcv_rtt_us, m = sample_us << 3;

	if (old == 0 || m < old) {
		tp->rcv_rtt_us = m;
		return;
	}
	if (win_dep || tp->rcv_nxt != tp->copied_seq)
		return;
	tp->rcv_rtt_us = old - (old >> 3) + sample_us;
}

/* Linux tcp_rcv_rtt_measure(): without timestamps, the time to receive one advertised
 * window (an upper bound of the RTT, so only ever lowers the estimate). rcv_nxt is the
 * value after this segment was queued, as in Linux (tcp_queue_rcv ran first). */
static void tcp_rcv_rtt_measure(struct tcp_sock *tp, uint32_t rcv_nxt)
{
	uint64_t now = tcp_now_us(tp->st);

	if (tp->rcv_rtt_time_us) {
		uint64_t delta;

		if (before(rcv_nxt, tp->rcv_rtt_seq))
			return;
		delta = now - tp->rcv_rtt_time_us;
		tcp_rcv_rtt_update(tp, delta ? (uint32_t)delta : 1, true);
	}
	tp->rcv_rtt_seq = rcv_nxt + tp->rcv_wnd;
	tp->rcv_rtt_time_us = now;
}

/* Linux tcp_rcv_rtt_measure_ts(), for a segment in ESTABLISHED before its data is
 * queued: a full-sized segment echoing a timestamp not seen before gives a sample of
 * now - TSecr (ms clock; 0 ms samples are ignored, Linux 6.16+). */
static void tcp_rcv_rtt_measure_ts(struct tcp_sock *tp, const struct tcp_seg *seg)
{
	uint32_t delta;

	if (!tp->saw_ts || tp->rcv_tsecr == tp->rcv_rtt_last_tsecr)
		return;
	tp->rcv_rtt_last_tsecr = tp->rcv_tsecr;
	if (seg->end_seq - seg->seq < tp->ack.rcv_mss)
		return;
	delta = tcp_tsval(tp->st, tp->ts_off) - tp->rcv_tsecr;
	if (delta && delta < INT32_MAX / 1000)
		tcp_rcv_rtt_update(tp, delta * 1000, false);
}

/* Linux __tcp_grow_window(): a segment with more overhead than the ratio allows still
 * grows rcv_ssthresh while it is small against tcp_rmem[2]. */
static uint32_t __tcp_grow_window(const struct tcp_sock *tp, uint32_t len, uint32_t truesize)
{
	uint32_t ts = tcp_win_from_space(tp, (int)truesize) >> 1;
	uint32_t window = tcp_win_from_space(tp, tp->st->sysctl.ip.tcp_rmem[2]) >> 1;

	while (tp->rcv_ssthresh <= window) {
		if (ts <= len)
			return 2 * tp->ack.rcv_mss;
		ts >>= 1;
		window >>= 1;
	}
	return 0;
}

/* Linux tcp_grow_window(): slow start of the offered window, by twice the segment
 * (at least two advertised MSS) up to min(window_clamp, free space). */
static void tcp_grow_window(struct tcp_sock *tp, uint32_t len, uint32_t truesize)
{
	int space = tcp_space(tp);
	int room = (int)(tp->window_clamp < (uint32_t)(space > 0 ? space : 0) ? tp->window_clamp
										 : (uint32_t)space) -
		   (int)tp->rcv_ssthresh;
	uint32_t incr;

	if (room <= 0)
		return;
	if (tcp_win_from_space(tp, (int)truesize) <= len)
		incr = 2 * tp->advmss;
	else
		incr = __tcp_grow_window(tp, len, truesize);
	if (incr) {
		if (incr < 2 * len)
			incr = 2 * len;
		tp->rcv_ssthresh += incr < (uint32_t)room ? incr : (uint32_t)room;
		tp->ack.quick |= 1;
	}
}

/* Linux tcp_event_data_recv(): delayed-ACK engine bookkeeping (after the segment was
 * queued and charged; truesize is its buffer's). */
static void tcp_event_data_recv(struct tcp_sock *tp, const struct tcp_seg *seg, uint32_t truesize)
{
	uint64_t now = stack_now_ms(tp->st);

	tp->ack.pending |= ICSK_ACK_SCHED;
	tcp_measure_rcv_mss(tp, seg, truesize);
	tcp_rcv_rtt_measure(tp, seg->end_seq);
	if (!tp->ack.ato_ms) {
		tcp_incr_quickack(tp, TCP_MAX_QUICKACKS);
		tp->ack.ato_ms = TCP_ATO_MIN_MS;
	} else {
		uint64_t m = now - tp->ack.lrcvtime_ms;

		if (m <= TCP_ATO_MIN_MS / 2) {
			tp->ack.ato_ms = (tp->ack.ato_ms >> 1) + TCP_ATO_MIN_MS / 2;
		} else if (m < tp->ack.ato_ms) {
			tp->ack.ato_ms = (tp->ack.ato_ms >> 1) + (uint32_t)m;
			if (tp->ack.ato_ms > tp->rto_ms)
				tp->ack.ato_ms = tp->rto_ms;
		} else if (m > tp->rto_ms) {
			tcp_incr_quickack(tp, TCP_MAX_QUICKACKS);
		}
	}
	tp->ack.lrcvtime_ms = now;
	/* RFC 3168 6.1.3: CE on the IP header -> echo ECE until CWR */
	if (tp->ecn_ok && (seg->tos & 3) == 3) {
		if (!(tp->ecn_flags & 2))
			tcp_enter_quickack_mode(tp, 2);
		tp->ecn_flags |= 2;
	}
	if (seg->len >= 128)
		tcp_grow_window(tp, seg->len, truesize);
}

void tcp_data_ready(struct tcp_sock *tp)
{
	tcp_sock_wake(tp);
}

/* Linux tcp_fin(). */
void tcp_fin_received(struct tcp_sock *tp)
{
	tp->ack.pending |= ICSK_ACK_SCHED;
	tp->shutdown |= RCV_SHUTDOWN;
	tp->rcv_done = true;
	switch (tp->state) {
	case TCP_SYN_RECV:
	case TCP_ESTABLISHED:
		tcp_set_state(tp, TCP_CLOSE_WAIT);
		tp->ack.pingpong = (uint8_t)tp->st->sysctl.ip.tcp_pingpong_thresh;
		break;
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		break;
	case TCP_FIN_WAIT1:
		/* simultaneous close (RFC 9293 3.6 figure 13) */
		tcp_send_ack(tp);
		tcp_set_state(tp, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT2:
		tcp_send_ack(tp);
		tcp_time_wait(tp, TCP_TIME_WAIT, 0);
		break;
	}
	/* out-of-order data after a FIN is dropped */
	pkb_queue_purge(&tp->ofoq);
	tp->num_sacks = 0;
	tcp_sock_wake(tp);
}

static void tcp_queue_rcv(struct tcp_sock *tp, struct pkb *p, uint32_t seq, uint32_t dend)
{
	struct tcp_rcb *cb = TCP_RCB(p);

	cb->seq = seq;
	cb->end_seq = dend;
	if (dend != seq) {
		tp->rmem_alloc += tcp_rmem_truesize(p);
		pkb_queue_push(&tp->rcvq, p);
		tp->bytes_received += dend - (before(seq, tp->rcv_nxt) ? tp->rcv_nxt : seq);
	} else {
		pkb_free(p);
	}
}

/* Move what the out-of-order queue now continues to the receive queue. */
static void tcp_ofo_queue(struct tcp_sock *tp)
{
	struct pkb *p;

	while ((p = tp->ofoq.head)) {
		struct tcp_rcb *cb = TCP_RCB(p);
		uint32_t end = cb->end_seq + cb->fin;
		bool fin = cb->fin;

		if (after(cb->seq, tp->rcv_nxt))
			break;
		p = pkb_queue_pop(&tp->ofoq);
		tp->rmem_alloc -= tcp_rmem_truesize(p);
		if (!after(end, tp->rcv_nxt)) {
			tcp_dsack_extend(tp, cb->seq, end);
			pkb_free(p);
			continue;
		}
		tcp_queue_rcv(tp, p, cb->seq, cb->end_seq);
		tp->rcv_nxt = end;
		if (fin) {
			tcp_fin_received(tp);
			break;
		}
	}
}

/* Insert into the out-of-order queue, sorted by seq (Linux tcp_data_queue_ofo, without
 * the rb-tree: segments usually arrive at the tail, so the walk starts there). */
static void tcp_data_queue_ofo(struct tcp_sock *tp, struct pkb *p, uint32_t seq, uint32_t dend,
			       bool fin)
{
	struct tcp_rcb *cb = TCP_RCB(p);
	uint32_t end = dend + (fin ? 1 : 0);
	struct pkb *pos;

	tp->ack.pending |= ICSK_ACK_SCHED;
	tp->rcv_ooopack++;
	MIB_INC(tp->st, TcpExtTCPOFOQueue);
	if (tp->rmem_alloc + tcp_rmem_truesize(p) > tp->rcvbuf) {
		MIB_INC(tp->st, TcpExtTCPOFODrop);
		pkb_free(p);
		return;
	}
	cb->seq = seq;
	cb->end_seq = dend;
	cb->fin = fin;
	/* find the last segment starting at or before seq */
	for (pos = tp->ofoq.tail; pos && after(TCP_RCB(pos)->seq, seq); pos = pos->prev)
		;
	if (pos) {
		uint32_t pend = TCP_RCB(pos)->end_seq + TCP_RCB(pos)->fin;

		if (!after(end, pend)) {
			/* fully covered by what we hold: a duplicate (RFC 2883 D-SACK) */
			MIB_INC(tp->st, TcpExtTCPOFOMerge);
			tcp_dsack_set(tp, seq, end);
			pkb_free(p);
			tcp_sack_new_ofo(tp, seq, end);
			goto grow;
		}
	}
	/* drop later segments the new one fully covers */
	for (struct pkb *n = pos ? pos->next : tp->ofoq.head, *nx; n; n = nx) {
		nx = n->next;
		if (after(TCP_RCB(n)->end_seq + TCP_RCB(n)->fin, end))
			break;
		tcp_dsack_extend(tp, TCP_RCB(n)->seq, TCP_RCB(n)->end_seq + TCP_RCB(n)->fin);
		MIB_INC(tp->st, TcpExtTCPOFOMerge);
		if (n->prev)
			n->prev->next = n->next;
		else
			tp->ofoq.head = n->next;
		if (n->next)
			n->next->prev = n->prev;
		else
			tp->ofoq.tail = n->prev;
		tp->ofoq.len--;
		tp->ofoq.bytes -= n->len;
		tp->rmem_alloc -= tcp_rmem_truesize(n);
		pkb_free(n);
	}
	/* link after pos */
	p->prev = pos;
	p->next = pos ? pos->next : tp->ofoq.head;
	if (p->next)
		p->next->prev = p;
	else
		tp->ofoq.tail = p;
	if (pos)
		pos->next = p;
	else
		tp->ofoq.head = p;
	tp->ofoq.len++;
	tp->ofoq.bytes += p->len;
	tp->rmem_alloc += tcp_rmem_truesize(p);
	if (tp->sack_ok)
		tcp_sack_new_ofo(tp, seq, end);
grow:
	/* Linux 6.16+: room for what the out-of-order queue holds beyond rcv_nxt, not for
	 * a socket not yet accepted or already closed (no sk_socket) */
	if (!tp->is_child && !tp->orphan)
		tcp_rcvbuf_grow(tp, tp->rcvq_space.space);
}

/* Linux tcp_data_queue(). Consumes seg->pkb (sets it NULL). */
static void tcp_data_queue(struct tcp_sock *tp, struct tcp_seg *seg)
{
	struct pkb *p = seg->pkb;
	uint32_t seq = seg->seq, dend = seg->seq + seg->len;
	bool fin = (seg->flags & WIRE_TCP_FIN) != 0;

	if (seg->flags & WIRE_TCP_SYN) {
		seq++;
		dend++;
	}
	if (seg->seq == seg->end_seq)
		return;
	seg->pkb = NULL;
	tp->dsack = false;
	/* Linux tcp_ecn_accept_cwr(): the peer's CWR ends our ECE echo; with data, ACK now
	 * (its window may be down to one segment) */
	if (seg->flags & WIRE_TCP_CWR) {
		tp->ecn_flags &= ~2u;
		if (seg->len)
			tp->ack.pending |= ICSK_ACK_NOW;
	}
	if ((seg->flags & WIRE_TCP_SYN) && !after(seg->end_seq, tp->rcv_nxt)) {
		/* the crossed SYN-ACK of a simultaneous open is an old sequence number to
		 * Linux's tcp_data_queue: D-SACK it and ACK at once */
		MIB_INC(tp->st, TcpExtDelayedACKLost);
		tcp_dsack_set(tp, seg->seq, seg->end_seq);
		tcp_enter_quickack_mode(tp, TCP_MAX_QUICKACKS);
		tp->ack.pending |= ICSK_ACK_SCHED;
		pkb_free(p);
		return;
	}
	if (seq == tp->rcv_nxt) {
		if (tcp_receive_window(tp) == 0) {
			if (!seg->len && fin)
				goto queue_and_out;
			MIB_INC(tp->st, TcpExtTCPZeroWindowDrop);
			goto out_of_window;
		}
queue_and_out:
		if (seg->len && tp->rmem_alloc + tcp_rmem_truesize(p) > tp->rcvbuf + tp->rcvbuf / 2 &&
		    tp->rcvq.len) {
			/* tcp_try_rmem_schedule() failed: ask for an ACK now, drop */
			tp->ack.pending |= ICSK_ACK_NOW | ICSK_ACK_SCHED;
			MIB_INC(tp->st, TcpExtTCPRcvQDrop);
			pkb_free(p);
			return;
		}
		{
			uint32_t truesize = tcp_rmem_truesize(p);

			tcp_queue_rcv(tp, p, seq, dend);
			if (seg->len)
				tcp_event_data_recv(tp, seg, truesize);
		}
		tp->rcv_nxt = dend + (fin ? 1 : 0);
		if (fin)
			tcp_fin_received(tp);
		if (tp->ofoq.head) {
			tcp_ofo_queue(tp);
			/* RFC 5681 4.2: ACK at once when a gap is filled */
			if (!tp->ofoq.head)
				tp->ack.pending |= ICSK_ACK_NOW;
		}
		if (tp->num_sacks)
			tcp_sack_remove(tp);
		tcp_data_ready(tp);
		return;
	}
	if (!after(dend + (fin ? 1 : 0), tp->rcv_nxt)) {
		/* a retransmission of what we have: D-SACK, immediate ACK */
		MIB_INC(tp->st, TcpExtDelayedACKLost);
		tcp_dsack_set(tp, seq, dend + (fin ? 1 : 0));
out_of_window:
		tcp_enter_quickack_mode(tp, TCP_MAX_QUICKACKS);
		tp->ack.pending |= ICSK_ACK_SCHED;
		pkb_free(p);
		return;
	}
	if (!before(seq, tp->rcv_nxt + tcp_receive_window(tp)))
		goto out_of_window;
	if (before(seq, tp->rcv_nxt)) {
		/* partial overlap: D-SACK the old part, keep the rest */
		tcp_dsack_set(tp, seq, tp->rcv_nxt);
		if (!tcp_receive_window(tp)) {
			MIB_INC(tp->st, TcpExtTCPZeroWindowDrop);
			goto out_of_window;
		}
		goto queue_and_out;
	}
	tcp_data_queue_ofo(tp, p, seq, dend, fin);
}

/* Linux tcp_check_urg() + tcp_urg(). */
static void tcp_urg(struct tcp_sock *tp, const struct tcp_seg *seg)
{
	if (seg->flags & WIRE_TCP_URG) {
		uint32_t ptr = seg->th.urg;

		if (ptr && !tp->st->sysctl.ip.tcp_stdurg)
			ptr--;
		ptr += seg->seq;
		if (!after(tp->copied_seq, ptr) && !before(ptr, tp->rcv_nxt) &&
		    !(tp->urg_state && !after(ptr, tp->urg_data_seq))) {
			tp->urg_state = 3;	/* NOTYET */
			tp->urg_data_seq = ptr;
		}
	}
	if (tp->urg_state == 3) {
		uint32_t off = tp->urg_data_seq - seg->seq - ((seg->flags & WIRE_TCP_SYN) ? 1 : 0);

		if (off < seg->len) {
			tp->urg_byte = seg->data[off];
			tp->urg_state = 1;	/* VALID */
			tcp_sock_wake(tp);
		}
	}
}

/* ---- Delayed ACK decision (Linux __tcp_ack_snd_check) ---- */

static void tcp_ack_snd_check(struct tcp_sock *tp)
{
	if (!(tp->ack.pending & ICSK_ACK_SCHED))
		return;
	if ((tp->rcv_nxt - tp->rcv_wup > tp->ack.rcv_mss &&
	     tcp_raw_select_window(tp) >= tp->rcv_wnd) ||
	    tcp_in_quickack_mode(tp) || (tp->ack.pending & ICSK_ACK_NOW)) {
		tcp_send_ack(tp);
		return;
	}
	if (!tp->ofoq.head) {
		tcp_send_delayed_ack(tp);
		return;
	}
	if (!tp->sack_ok || tp->compressed_ack >= (uint32_t)tp->st->sysctl.ip.tcp_comp_sack_nr) {
		tcp_send_ack(tp);
		return;
	}
	if (tp->compressed_ack_rcv_nxt != tp->rcv_nxt) {
		tp->compressed_ack_rcv_nxt = tp->rcv_nxt;
		tp->dup_ack_counter = 0;
	}
	if (tp->dup_ack_counter < 3) {
		tp->dup_ack_counter++;
		tcp_send_ack(tp);
		return;
	}
	tp->compressed_ack++;
	if (tp->tev[TCP_TEV_COMPACK])
		return;
	{
		/* 5 % of the RTT, at most tcp_comp_sack_delay_ns */
		uint64_t rtt_us = tp->rcv_rtt_us >> 3;
		uint64_t delay_ns;

		if (tp->srtt_us && (tp->srtt_us >> 3) < rtt_us)
			rtt_us = tp->srtt_us >> 3;
		delay_ns = rtt_us * 1000 / 20;
		if (delay_ns > tp->st->sysctl.ip.tcp_comp_sack_delay_ns)
			delay_ns = tp->st->sysctl.ip.tcp_comp_sack_delay_ns;
		tp->tev[TCP_TEV_COMPACK] = stack_now_ns(tp->st) + delay_ns;
		tcp_timer_update(tp);
	}
}

/* ---- Validation of a segment in a synchronized state (tcp_validate_incoming) ---- */

static bool tcp_sequence_ok(const struct tcp_sock *tp, uint32_t seq, uint32_t end_seq)
{
	return !before(end_seq, tp->rcv_wup) && !after(seq, tp->rcv_nxt + tcp_receive_window(tp));
}

static bool tcp_reset_check(const struct tcp_sock *tp, const struct tcp_seg *seg)
{
	return seg->seq == tp->rcv_nxt - 1 &&
	       (tp->state == TCP_CLOSE_WAIT || tp->state == TCP_LAST_ACK || tp->state == TCP_CLOSING);
}

/* Returns true when processing continues; false when the segment was dealt with. */
static bool tcp_validate_incoming(struct tcp_sock *tp, struct tcp_seg *seg, bool syn_inerr)
{
	/* RFC 7323 5: PAWS first */
	if (tp->saw_ts && tp->tstamp_ok && tcp_paws_discard(tp, seg)) {
		if (!(seg->flags & WIRE_TCP_RST)) {
			if (seg->flags & WIRE_TCP_SYN)
				goto syn_challenge;
			MIB_INC(tp->st, TcpExtPAWSEstab);
			if (!tcp_oow_rate_limited(tp, seg, MIB_TcpExtTCPACKSkippedPAWS))
				tcp_send_dupack(tp, seg);
			return false;
		}
		/* a RST is accepted even if it fails PAWS */
	}
	/* RFC 9293 3.10.7.4 first: the sequence number */
	if (!tcp_sequence_ok(tp, seg->seq, seg->end_seq)) {
		if (!(seg->flags & WIRE_TCP_RST)) {
			if (seg->flags & WIRE_TCP_SYN)
				goto syn_challenge;
			if (!tcp_oow_rate_limited(tp, seg, MIB_TcpExtTCPACKSkippedSeq))
				tcp_send_dupack(tp, seg);
		} else if (tcp_reset_check(tp, seg)) {
			tcp_reset(tp);
		}
		return false;
	}
	/* second: RST (RFC 5961 3.2: exact match resets, in window gets a challenge ACK) */
	if (seg->flags & WIRE_TCP_RST) {
		bool match = seg->seq == tp->rcv_nxt || tcp_reset_check(tp, seg);

		if (!match && tp->sack_ok && tp->num_sacks) {
			uint32_t max_sack = tp->sacks[0].end;

			for (unsigned i = 1; i < tp->num_sacks; i++)
				if (after(tp->sacks[i].end, max_sack))
					max_sack = tp->sacks[i].end;
			match = seg->seq == max_sack;
		}
		if (match) {
			tcp_reset(tp);
			return false;
		}
		tcp_send_challenge_ack(tp);
		return false;
	}
	/* fourth: SYN in a synchronized state (RFC 5961 4.2: challenge ACK) */
	if (seg->flags & WIRE_TCP_SYN) {
		if (tp->state == TCP_SYN_RECV && (seg->flags & WIRE_TCP_ACK) &&
		    seg->seq + 1 == seg->end_seq && seg->seq + 1 == tp->rcv_nxt &&
		    seg->ack == tp->snd_nxt)
			return true;	/* crossed SYN-ACK of a simultaneous open */
syn_challenge:
		if (syn_inerr)
			MIB_INC(tp->st, TcpInErrs);
		MIB_INC(tp->st, TcpExtTCPSYNChallenge);
		tcp_send_challenge_ack(tp);
		return false;
	}
	return true;
}

/* ---- SYN_SENT (Linux tcp_rcv_synsent_state_process) ---- */

static void tcp_initialize_rcv_mss(struct tcp_sock *tp)
{
	uint32_t hint = tp->advmss < tp->mss_cache ? tp->advmss : tp->mss_cache;

	if (hint > tp->rcv_wnd / 2)
		hint = tp->rcv_wnd / 2;
	if (hint > TCP_MSS_DEFAULT)
		hint = TCP_MSS_DEFAULT;
	if (hint < TCP_MIN_MSS)
		hint = TCP_MIN_MSS;
	tp->ack.rcv_mss = hint;
}

static void tcp_apply_syn_opts(struct tcp_sock *tp, const struct tcp_seg *seg)
{
	struct ipv4_sysctl *s = &tp->st->sysctl.ip;

	if (seg->opt.has_mss && seg->opt.mss) {
		uint32_t m = seg->opt.mss;

		if (tp->user_mss && tp->user_mss < m)
			m = tp->user_mss;
		tp->mss_clamp = m;
	}
	tp->wscale_ok = seg->opt.has_wscale && s->tcp_window_scaling;
	tp->snd_wscale = tp->wscale_ok ? (seg->opt.wscale > WIRE_TCP_MAX_WSCALE ? WIRE_TCP_MAX_WSCALE
									      : seg->opt.wscale) : 0;
	tp->sack_ok = seg->opt.sack_ok && s->tcp_sack;
}

/* Returns 1 when the caller should answer with a RST. */
static int tcp_rcv_synsent(struct tcp_sock *tp, struct tcp_seg *seg)
{
	uint32_t saved_clamp = tp->mss_clamp;

	if (seg->flags & WIRE_TCP_ACK) {
		/* RFC 9293 3.10.7.3: SEG.ACK =< ISS or > SND.NXT -> RST */
		if (!after(seg->ack, tp->snd_una) || after(seg->ack, tp->snd_nxt)) {
			if (tp->retransmits == 0)
				tcp_reset_xmit_timer(tp, ICSK_TIME_RETRANS, 2);
			return 1;
		}
		if (seg->opt.has_ts && seg->opt.tsecr && tp->retrans_stamp_ms &&
		    !between(seg->opt.tsecr - tp->ts_off, (uint32_t)tp->retrans_stamp_ms,
			     (uint32_t)stack_now_ms(tp->st))) {
			MIB_INC(tp->st, TcpExtPAWSActive);
			return 1;
		}
		if (seg->flags & WIRE_TCP_RST) {
			tcp_reset(tp);
			return 0;
		}
		if (!(seg->flags & WIRE_TCP_SYN))
			return 0;
		tcp_apply_syn_opts(tp, seg);
		/* ECN (RFC 3168 6.1.1, Linux tcp_ecn_rcv_synack): asked for with tcp_ecn=1, on
		 * only if the SYN-ACK has ECE without CWR */
		if (tp->ecn_ok && (!(seg->flags & WIRE_TCP_ECE) || (seg->flags & WIRE_TCP_CWR)))
			tp->ecn_ok = false;
		tp->snd_wl1 = seg->seq;
		tp->saw_ts = seg->opt.has_ts;
		tp->rcv_tsecr = seg->opt.tsecr;
		tcp_ack(tp, seg, FLAG_SLOWPATH);
		tp->rcv_nxt = seg->seq + 1;
		tp->rcv_wup = seg->seq + 1;
		tp->irs = seg->seq;
		tp->snd_wnd = seg->th.window;	/* RFC 7323 2.2: never scaled in a SYN */
		if (!tp->wscale_ok) {
			tp->snd_wscale = tp->rcv_wscale = 0;
			if (tp->window_clamp > 65535)
				tp->window_clamp = 65535;
		}
		if (seg->opt.has_ts && tp->st->sysctl.ip.tcp_timestamps) {
			tp->tstamp_ok = true;
			tp->tcp_header_len = WIRE_TCP_HLEN + TCP_OLEN_TS_ALIGNED;
			tp->advmss -= TCP_OLEN_TS_ALIGNED;
			tcp_store_ts_recent(tp, seg);
		} else {
			tp->tcp_header_len = WIRE_TCP_HLEN;
		}
		if (tp->snd_wnd > tp->max_window)
			tp->max_window = tp->snd_wnd;
		tcp_sync_mss(tp, tp->pmtu ? tp->pmtu : 1500);
		tcp_initialize_rcv_mss(tp);
		tp->copied_seq = tp->rcv_nxt;
		tcp_finish_connect(tp);
		if (tp->defer_accept_s || tp->ack.pingpong) {
			tp->ack.pending |= ICSK_ACK_SCHED;
			tcp_enter_quickack_mode(tp, TCP_MAX_QUICKACKS);
			tcp_delack_arm(tp, stack_now_ms(tp->st) + TCP_DELACK_MAX_MS);
			tp->ack.pending |= ICSK_ACK_TIMER;
			return 0;
		}
		tcp_send_ack(tp);
		/* data in the SYN-ACK (RFC 9293 allows it) is queued as usual */
		if (seg->len) {
			tcp_data_queue(tp, seg);
			tcp_ack_snd_check(tp);
		}
		tcp_data_snd_check(tp);
		return 0;
	}
	if (seg->flags & WIRE_TCP_RST)
		return 0;
	if (tp->ts_recent_stamp_s && seg->opt.has_ts && tcp_paws_reject(tp, seg->opt.tsval, false))
		return 0;
	if (seg->flags & WIRE_TCP_SYN) {
		/* Simultaneous open (RFC 9293 3.5 figure 8): SYN_SENT -> SYN_RECEIVED, send
		 * SYN-ACK (our SYN again, with an ACK). */
		tcp_apply_syn_opts(tp, seg);
		tcp_set_state(tp, TCP_SYN_RECV);
		if (seg->opt.has_ts && tp->st->sysctl.ip.tcp_timestamps) {
			tp->tstamp_ok = true;
			tcp_store_ts_recent(tp, seg);
			tp->tcp_header_len = WIRE_TCP_HLEN + TCP_OLEN_TS_ALIGNED;
		} else {
			tp->tcp_header_len = WIRE_TCP_HLEN;
		}
		if (!tp->wscale_ok)
			tp->snd_wscale = tp->rcv_wscale = 0;
		tp->irs = seg->seq;
		tp->rcv_nxt = seg->seq + 1;
		tp->copied_seq = tp->rcv_nxt;
		tp->rcv_wup = seg->seq + 1;
		tp->snd_wnd = seg->th.window;
		tp->snd_wl1 = seg->seq;
		tp->max_window = tp->snd_wnd;
		tcp_sync_mss(tp, tp->pmtu ? tp->pmtu : 1500);
		tcp_initialize_rcv_mss(tp);
		/* tcp_send_synack(): the SYN record goes again, now with ACK */
		if (tp->rtx_head && (tp->rtx_head->tcp_flags & WIRE_TCP_SYN))
			tcp_transmit(tp, tp->rtx_head, tp->iss, 0, WIRE_TCP_SYN | WIRE_TCP_ACK, false);
		return 0;
	}
	tp->mss_clamp = saved_clamp;
	return 0;
}

/* ---- The state machine for synchronized states (tcp_rcv_state_process) ----
 * Returns 1 when the caller should answer with a RST (tcp_v4_send_reset). */
int tcp_rcv_state_process(struct tcp_sock *tp, struct tcp_seg *seg)
{
	struct ips_stack *st = tp->st;
	int acceptable;

	tp->saw_ts = seg->opt.has_ts && (tp->tstamp_ok || tp->state == TCP_SYN_SENT);
	tp->rcv_tsval = seg->opt.tsval;
	tp->rcv_tsecr = seg->opt.tsecr;
	tp->segs_in += seg->gso_segs ? seg->gso_segs : 1;
	if (seg->len)
		tp->data_segs_in += seg->gso_segs ? seg->gso_segs : 1;
	tp->lrcvtime_ms = stack_now_ms(st);

	switch (tp->state) {
	case TCP_CLOSE:
		return 1;
	case TCP_LISTEN:
		return 0;	/* handled by the caller */
	case TCP_SYN_SENT:
		return tcp_rcv_synsent(tp, seg);
	}
	if (!(seg->flags & (WIRE_TCP_ACK | WIRE_TCP_RST | WIRE_TCP_SYN)))
		return 0;
	if (!tcp_validate_incoming(tp, seg, tp->state == TCP_ESTABLISHED))
		return 0;
	if (!(seg->flags & WIRE_TCP_ACK))
		return 0;
	/* fifth: the ACK field */
	acceptable = tcp_ack(tp, seg, FLAG_SLOWPATH | FLAG_UPDATE_TS_RECENT |
				      (tp->state == TCP_ESTABLISHED ? 0 : FLAG_NO_CHALLENGE_ACK));
	if (tp->state == TCP_ESTABLISHED) {
		if (acceptable < 0)
			return 0;
	} else if (acceptable <= 0) {
		if (tp->state == TCP_SYN_RECV)
			return 1;	/* send one RST */
		tcp_send_challenge_ack(tp);
		return 0;
	}
	switch (tp->state) {
	case TCP_SYN_RECV:
		tp->delivered++;
		if (!tp->srtt_us)
			tcp_ack_update_rtt(tp, FLAG_SYN_ACKED, -1, -1, -1);
		tcp_set_state(tp, TCP_ESTABLISHED);
		tp->snd_una = seg->ack;
		tp->snd_wnd = (uint32_t)seg->th.window << tp->snd_wscale;
		tp->snd_wl1 = seg->seq;
		if (tp->snd_wnd > tp->max_window)
			tp->max_window = tp->snd_wnd;
		if (tp->tstamp_ok)
			tp->advmss -= TCP_OLEN_TS_ALIGNED;
		tp->lsndtime_ms = stack_now_ms(st);
		tp->retrans_stamp_ms = 0;
		tcp_init_transfer(tp);
		tp->copied_seq = tp->rcv_nxt;
		tcp_initialize_rcv_mss(tp);
		tcp_sock_wake(tp);
		if (tp->shutdown & SEND_SHUTDOWN)
			tcp_shutdown(tp, SHUT_WR);
		break;
	case TCP_FIN_WAIT1:
		if (tp->snd_una != tp->write_seq + 1 || !tp->fin_sent)
			break;
		tcp_set_state(tp, TCP_FIN_WAIT2);
		tp->shutdown |= SEND_SHUTDOWN;
		if (!tp->orphan) {
			tcp_sock_wake(tp);
			break;
		}
		if (tp->linger2_s < 0) {
			tcp_done(tp);
			MIB_INC(st, TcpExtTCPAbortOnData);
			return 1;
		}
		if (seg->end_seq != seg->seq &&
		    after(seg->end_seq - ((seg->flags & WIRE_TCP_FIN) ? 1 : 0), tp->rcv_nxt)) {
			/* out-of-order FIN after close() */
			tcp_done(tp);
			MIB_INC(st, TcpExtTCPAbortOnData);
			return 1;
		}
		{
			uint32_t tmo = tcp_fin_time_ms(tp);

			if (tmo > TCP_TIMEWAIT_LEN_MS) {
				tcp_reset_keepalive_timer(tp, tmo - TCP_TIMEWAIT_LEN_MS);
			} else if (seg->flags & WIRE_TCP_FIN) {
				tcp_reset_keepalive_timer(tp, tmo);
			} else {
				tcp_time_wait(tp, TCP_FIN_WAIT2, tmo);
				return 0;
			}
		}
		break;
	case TCP_CLOSING:
		if (tp->snd_una == tp->write_seq + 1 && tp->fin_sent) {
			tcp_time_wait(tp, TCP_TIME_WAIT, 0);
			return 0;
		}
		break;
	case TCP_LAST_ACK:
		if (tp->snd_una == tp->write_seq + 1 && tp->fin_sent) {
			tcp_done(tp);
			return 0;
		}
		break;
	}
	/* Linux tcp_rcv_established() step 5: the receiver's RTT sample from the echo */
	if (tp->state == TCP_ESTABLISHED)
		tcp_rcv_rtt_measure_ts(tp, seg);
	/* sixth: URG */
	tcp_urg(tp, seg);
	/* seventh: the segment text */
	switch (tp->state) {
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		if (!before(seg->seq, tp->rcv_nxt))
			break;
		/* fallthrough */
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
		/* RFC 1122 4.2.2.13: data after the application closed -> RST */
		if ((tp->shutdown & RCV_SHUTDOWN) && tp->orphan && seg->end_seq != seg->seq &&
		    after(seg->end_seq - ((seg->flags & WIRE_TCP_FIN) ? 1 : 0), tp->rcv_nxt)) {
			MIB_INC(st, TcpExtTCPAbortOnData);
			tcp_reset(tp);
			return 1;
		}
		/* fallthrough */
	case TCP_ESTABLISHED:
		tcp_data_queue(tp, seg);
		break;
	}
	if (tp->state != TCP_CLOSE) {
		tcp_data_snd_check(tp);
		tcp_ack_snd_check(tp);
	}
	return 0;
}

/* ---- Demultiplexing (Linux tcp_v4_rcv) ---- */

static void tcp_listen_input(struct tcp_sock *lsk, struct tcp_seg *seg)
{
	if (seg->flags & WIRE_TCP_ACK) {
		/* an ACK for a connection we do not know: maybe a SYN cookie */
		if (!(seg->flags & (WIRE_TCP_RST | WIRE_TCP_SYN)) &&
		    tcp_cookie_check(lsk, seg))
			return;
		tcp_send_reset_reply(lsk->st, seg);
		return;
	}
	if (seg->flags & WIRE_TCP_RST)
		return;
	if (seg->flags & WIRE_TCP_SYN) {
		if (seg->flags & WIRE_TCP_FIN)
			return;
		tcp_conn_request(lsk, seg);
	}
}

void tcp_v4_rcv(struct ips_stack *st, struct pkb *pkb)
{
	struct tcp_state *ts = tcp_state_of(st);
	struct tcp_seg seg;
	struct tcp_hnode *h;
	uint32_t ihl;

	MIB_INC(st, TcpInSegs);
	if (!ts || pkb->pkt_type != PKB_HOST)
		goto drop;
	memset(&seg, 0, sizeof(seg));
	if (wire_tcp_parse(pkb->data, pkb->len, &seg.th) < 0) {
		MIB_INC(st, TcpInErrs);
		goto drop;
	}
	memcpy(&seg.saddr, pkb->nh + 12, 4);
	memcpy(&seg.daddr, pkb->nh + 16, 4);
	ihl = (uint32_t)(pkb->nh[0] & 15) * 4;
	(void)ihl;
	if (!pkb->ip_summed && !wire_tcp_csum_ok(pkb->data, pkb->len, seg.saddr, seg.daddr)) {
		MIB_INC(st, TcpInCsumErrors);
		MIB_INC(st, TcpInErrs);
		goto drop;
	}
	pkb->th = pkb->data;
	seg.pkb = pkb;
	seg.flags = seg.th.flags;
	seg.seq = seg.th.seq;
	seg.ack = seg.th.ack;
	seg.len = pkb->len - seg.th.doff;
	seg.end_seq = seg.seq + seg.len + ((seg.flags & WIRE_TCP_SYN) ? 1 : 0) +
		      ((seg.flags & WIRE_TCP_FIN) ? 1 : 0);
	seg.tos = pkb->nh[1];
	seg.ttl = pkb->nh[8];
	seg.ifindex = pkb->dev ? pkb->dev->ifindex : 0;
	seg.gso_size = pkb->gso_size;
	seg.gso_segs = pkb->gso_segs;
	tcp_parse_seg_opts(st, &seg);
	pkb_pull(pkb, seg.th.doff);
	seg.data = pkb->data;

	h = tcp_ehash_lookup(ts, seg.daddr, seg.th.dport, seg.saddr, seg.th.sport);
	if (h) {
		switch (h->kind) {
		case TCP_HK_SOCK: {
			struct tcp_sock *tp = (struct tcp_sock *)h;

			tcp_hold(tp);
			if (tcp_rcv_state_process(tp, &seg))
				tcp_send_reset_reply(st, &seg);
			tcp_release(tp);
			goto out;
		}
		case TCP_HK_REQ:
			tcp_check_req((struct tcp_req *)h, &seg);
			goto out;
		case TCP_HK_TW:
			tcp_tw_process((struct tcp_tw *)h, &seg);
			goto out;
		}
	}
	{
		struct tcp_sock *lsk = tcp_listener_lookup(ts, seg.daddr, seg.th.dport, seg.ifindex);

		if (lsk) {
			tcp_listen_input(lsk, &seg);
			goto out;
		}
	}
	/* RFC 9293 3.10.7.1: no connection -> RST unless the segment is a RST */
	tcp_send_reset_reply(st, &seg);
out:
	if (seg.pkb)
		pkb_free(seg.pkb);
	return;
drop:
	pkb_free(pkb);
}

/* ---- ICMP errors (Linux tcp_v4_err) ---- */

void tcp_v4_err(struct ips_stack *st, struct pkb *icmp, int type, int code, uint32_t info,
		const uint8_t *inner, size_t inner_len)
{
	struct tcp_state *ts = tcp_state_of(st);
	uint32_t saddr, daddr, seq;
	uint16_t sport, dport;
	size_t ihl;
	struct tcp_hnode *h;
	struct tcp_sock *tp;
	int err;

	if (!ts || inner_len < 20)
		return;
	ihl = (size_t)(inner[0] & 15) * 4;
	if (inner_len < ihl + 8)
		return;
	memcpy(&saddr, inner + 12, 4);
	memcpy(&daddr, inner + 16, 4);
	sport = get_be16(inner + ihl);
	dport = get_be16(inner + ihl + 2);
	seq = get_be32(inner + ihl + 4);
	h = tcp_ehash_lookup(ts, saddr, sport, daddr, dport);
	if (!h) {
		MIB_INC(st, IcmpInErrors);
		return;
	}
	if (h->kind == TCP_HK_TW)
		return;
	if (h->kind == TCP_HK_REQ) {
		struct tcp_req *req = (struct tcp_req *)h;

		/* tcp_req_err() (RFC 5927 4.2): only for the exact ISN; parameter problem, time
		 * exceeded and net/host unreachable drop the request (a listen drop), nothing
		 * else does. */
		if (seq != req->iss) {
			MIB_INC(st, TcpExtOutOfWindowIcmps);
			return;
		}
		if (type == 12 || type == 11 || (type == 3 && (code == 0 || code == 1))) {
			tcp_req_free(ts, req);
			MIB_INC(st, TcpExtListenDrops);
		}
		return;
	}
	tp = (struct tcp_sock *)h;
	if (tp->state == TCP_CLOSE)
		return;
	/* In SYN_SENT too: snd_una is the ISN and snd_nxt the ISN + 1 there. */
	if (tp->state != TCP_LISTEN && !between(seq, tp->snd_una, tp->snd_nxt)) {
		MIB_INC(st, TcpExtOutOfWindowIcmps);
		return;
	}
	switch (type) {
	case 4:		/* source quench: ignored (RFC 6633) */
		return;
	case 12:	/* parameter problem */
		err = EPROTO;
		break;
	case 3:		/* destination unreachable */
		if (code > 15)
			return;
		if (code == 4) {	/* fragmentation needed: RFC 1191 */
			if (tp->state == TCP_LISTEN)
				return;
			if (info < 68)
				info = 68;
			pmtu_update(st, tp->h.raddr, info);
			/* Linux tcp_v4_mtu_reduced() syncs the MSS to the route's MTU after the
			 * update, which raised a report under min_pmtu (552) to it */
			{
				uint32_t mtu = pmtu_get(st, tp->h.raddr);

				tcp_mtu_reduced(tp, mtu ? mtu : info);
			}
			return;
		}
		{
			static const int icmp_unreach_errno[16] = {
				ENETUNREACH, EHOSTUNREACH, ENOPROTOOPT, ECONNREFUSED, EMSGSIZE,
				EOPNOTSUPP, ENETUNREACH, EHOSTDOWN, ENONET, ENETUNREACH,
				EHOSTUNREACH, ENETUNREACH, EHOSTUNREACH, EHOSTUNREACH,
				EHOSTUNREACH, EHOSTUNREACH,
			};

			err = icmp_unreach_errno[code];
		}
		/* RFC 6069: a net/host unreachable during backoff reverts one RTO
		 * doubling (Linux tcp_ld_RTO_revert); not done here. */
		break;
	case 11:	/* time exceeded */
		err = EHOSTUNREACH;
		break;
	default:
		return;
	}
	switch (tp->state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		/* Linux: any of these aborts a handshake in progress (RFC 1122 4.2.3.9
		 * allows it), and the error is queued whether IP_RECVERR is set or not
		 * (tcp_v4_err() calls ip_icmp_error() unconditionally here; reading it
		 * clears sk_err again, sock_dequeue_err_skb()). */
		if (tp->icmp_error && tp->wake.arg)
			tp->icmp_error(tp->wake.arg, icmp, err, htons(dport), info, inner + ihl, daddr);
		tp->err = err;
		tcp_hold(tp);
		tcp_done(tp);
		tcp_release(tp);
		return;
	}
	/* RFC 1122 4.2.3.9: in a synchronized state these are soft errors, reported at
	 * once only with IP_RECVERR (Linux: inet->recverr -> sk_err). */
	if (tp->recverr) {
		tp->err = err;
		tcp_sock_wake(tp);
	} else {
		tp->err_soft = err;
	}
}

/* Loss recovery: the SACK scoreboard (RFC 2018, D-SACK RFC 2883), RACK-TLP loss
 * detection (RFC 8985, Linux tcp_recovery.c), proportional rate reduction (RFC 6937,
 * Linux tcp_cwnd_reduction), NewReno head marking for peers without SACK, and the
 * receiver's SACK blocks (Linux tcp_sack_new_ofo_skb and friends). */
#include <stdlib.h>
#include <string.h>

#include "transport/tcp_int.h"

/* ---- Sender scoreboard ---- */

void tcp_mark_rec_lost(struct tcp_sock *tp, struct tcp_txrec *r)
{
	if (r->flags & TXR_SACKED)
		return;
	if (r->flags & TXR_LOST) {
		if (r->flags & TXR_RETRANS) {
			/* a retransmission lost again */
			r->flags &= (uint8_t)~TXR_RETRANS;
			tp->retrans_out -= r->pcount;
			MIB_ADD(tp->st, TcpExtTCPLostRetransmit, r->pcount);
		}
	} else {
		r->flags |= TXR_LOST;
		tp->lost_out += r->pcount;
	}
	/* off the time-sorted list until retransmitted */
	if (r->flags & TXR_TSORTED) {
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
}

static bool sent_after(uint64_t t1, uint64_t t2, uint32_t seq1, uint32_t seq2)
{
	return t1 > t2 || (t1 == t2 && after(seq1, seq2));
}

/* RFC 8985 6.2 step 2 (Linux tcp_rack_advance). */
void tcp_rack_advance(struct tcp_sock *tp, uint8_t flags, uint64_t xmit_us, uint32_t end_seq)
{
	uint64_t now = tcp_now_us(tp->st);
	uint32_t rtt_us = (uint32_t)(now - xmit_us);

	if (flags & (TXR_RETRANS | TXR_EVER_RETRANS)) {
		/* ambiguous: the original or the retransmission was delivered */
		if (rtt_us < tp->min_rtt_us)
			return;
	}
	tp->rack.advanced = true;
	tp->rack.rtt_us = rtt_us;
	if (sent_after(xmit_us, tp->rack.mstamp_us, end_seq, tp->rack.end_seq)) {
		tp->rack.mstamp_us = xmit_us;
		tp->rack.end_seq = end_seq;
	}
}

/* RFC 8985 6.2 step 4: the reordering window. */
static uint32_t tcp_rack_reo_wnd(const struct tcp_sock *tp)
{
	uint32_t min_rtt = tp->min_rtt_us, srtt = tp->srtt_us >> 3;
	uint64_t w;

	if (!tp->rack.reord) {
		if (tp->ca_state >= TCP_CA_Recovery)
			return 0;
		if (tp->sacked_out >= tp->reordering && !(tp->st->sysctl.ip.tcp_recovery & 4))
			return 0;
	}
	if (min_rtt == UINT32_MAX)
		min_rtt = srtt;
	w = (uint64_t)(min_rtt >> 2) * tp->rack.reo_wnd_steps;
	return w < srtt ? (uint32_t)w : srtt;
}

/* RFC 8985 6.2 step 5 (Linux tcp_rack_detect_loss). Returns the longest wait (us) of a
 * segment not yet deemed lost, 0 when none. */
static uint32_t tcp_rack_detect_loss(struct tcp_sock *tp)
{
	uint64_t now = tcp_now_us(tp->st);
	uint32_t reo_wnd = tcp_rack_reo_wnd(tp), reo_timeout = 0;

	for (struct tcp_txrec *r = tp->ts_head, *n; r; r = n) {
		int64_t remaining;

		n = r->tnext;
		if (!sent_after(tp->rack.mstamp_us, r->xmit_us, tp->rack.end_seq, r->end_seq))
			break;
		remaining = (int64_t)tp->rack.rtt_us + reo_wnd - (int64_t)(now - r->xmit_us);
		if (remaining <= 0)
			tcp_mark_rec_lost(tp, r);
		else if ((uint32_t)remaining > reo_timeout)
			reo_timeout = (uint32_t)remaining;
	}
	return reo_timeout;
}

void tcp_rack_mark_lost(struct tcp_sock *tp)
{
	uint32_t timeout;

	if (!tp->rack.advanced)
		return;
	tp->rack.advanced = false;
	timeout = tcp_rack_detect_loss(tp);
	if (timeout) {
		uint64_t ms = (timeout + 999) / 1000 + 2;	/* + TCP_TIMEOUT_MIN */

		if (ms > tp->rto_ms)
			ms = tp->rto_ms;
		tcp_reset_xmit_timer(tp, ICSK_TIME_REO_TIMEOUT, ms);
	}
}

/* The RACK reordering timer fired (Linux tcp_rack_reo_timeout). */
void tcp_rack_reo_timeout(struct tcp_sock *tp)
{
	uint32_t prior_inflight = tcp_packets_in_flight(tp);
	uint32_t prior_lost = tp->lost_out;

	tcp_rack_detect_loss(tp);
	if (prior_inflight != tcp_packets_in_flight(tp)) {
		if (tp->ca_state != TCP_CA_Recovery) {
			tp->prior_ssthresh = 0;
			tcp_init_undo(tp);
			MIB_INC(tp->st, TcpExtTCPSackRecovery);
			if (tp->ca_state != TCP_CA_CWR)
				tcp_init_cwnd_reduction(tp);
			if (tp->cc->set_state)
				tp->cc->set_state(tp, TCP_CA_Recovery);
			tp->ca_state = TCP_CA_Recovery;
			tcp_cwnd_reduction(tp, 1, tp->lost_out - prior_lost, 0);
		}
		tcp_xmit_retransmit_queue(tp);
	}
	if (tp->pending != ICSK_TIME_RETRANS)
		tcp_rearm_rto(tp);
}

void tcp_rack_update_reo_wnd(struct tcp_sock *tp, uint32_t dsack_seen)
{
	/* RFC 8985 6.2 step 4: widen the window after a D-SACK shows a spurious repair */
	if (dsack_seen && tp->rack.reo_wnd_steps < TCP_REO_WND_STEPS_MAX / 2) {
		tp->rack.reo_wnd_steps++;
		tp->rack.reo_wnd_persist = 16;
	}
}

/* NewReno without SACK (Linux tcp_newreno_mark_lost): the head is lost after
 * `reordering` duplicate ACKs, and after each partial ACK in recovery. */
void tcp_newreno_mark_head_lost(struct tcp_sock *tp)
{
	struct tcp_txrec *h = tp->rtx_head;

	if (!h || (h->flags & TXR_LOST))
		return;
	if ((tp->ca_state < TCP_CA_Recovery && tp->sacked_out >= tp->reordering) ||
	    tp->ca_state == TCP_CA_Recovery) {
		uint32_t mss = tp->mss_cache;

		if (tcp_rec_data_len(h) > mss)
			tcp_rec_split(tp, h, tcp_rec_data_seq(h) + mss);
		tcp_mark_rec_lost(tp, h);
	}
}

/* RFC 6937 PRR (Linux tcp_cwnd_reduction). */
void tcp_cwnd_reduction(struct tcp_sock *tp, uint32_t newly_acked_sacked, uint32_t newly_lost,
			int flag)
{
	int64_t sndcnt;
	int64_t delta = (int64_t)tp->snd_ssthresh - (int64_t)tcp_packets_in_flight(tp);

	if (!newly_acked_sacked || !tp->prior_cwnd)
		return;
	tp->prr_delivered += newly_acked_sacked;
	if (delta < 0) {
		uint64_t dividend = (uint64_t)tp->snd_ssthresh * tp->prr_delivered + tp->prior_cwnd - 1;

		sndcnt = (int64_t)(dividend / tp->prior_cwnd) - (int64_t)tp->prr_out;
	} else {
		sndcnt = (int64_t)tp->prr_delivered - (int64_t)tp->prr_out;
		if (sndcnt < (int64_t)newly_acked_sacked)
			sndcnt = newly_acked_sacked;
		if ((flag & 0x400 /* FLAG_SND_UNA_ADVANCED */) && !newly_lost)
			sndcnt++;
		if (sndcnt > delta)
			sndcnt = delta;
	}
	/* force a fast retransmit upon entering fast recovery */
	if (sndcnt < (tp->prr_out ? 0 : 1))
		sndcnt = tp->prr_out ? 0 : 1;
	tp->snd_cwnd = tcp_packets_in_flight(tp) + (uint32_t)sndcnt;
}

uint32_t tcp_highest_sack_seq(const struct tcp_sock *tp)
{
	return tp->sacked_out ? tp->highest_sack : tp->snd_una;
}

void tcp_check_sack_reordering(struct tcp_sock *tp, uint32_t low_seq)
{
	uint32_t mss = tp->mss_cache, fack = tcp_highest_sack_seq(tp), metric;

	if (!before(low_seq, fack))
		return;
	metric = fack - low_seq;
	if (mss && metric > tp->reordering * mss) {
		uint32_t segs = (metric + mss - 1) / mss;
		uint32_t max = (uint32_t)tp->st->sysctl.ip.tcp_max_reordering;

		tp->reordering = segs < max ? segs : max;
	}
	tp->reord_seen++;
	tp->rack.reord = true;
	MIB_INC(tp->st, TcpExtTCPSACKReorder);
}

/* Tag [start, end) as SACKed; *reord takes the lowest start of original data SACKed below
 * the highest SACK (Linux tcp_sacktag_one). Returns FLAG_* bits. */
static int tcp_sacktag_range(struct tcp_sock *tp, uint32_t start, uint32_t end, uint32_t *reord)
{
	struct tcp_txrec *r = tp->sack_hint;
	int flag = 0;

	if (!r || after(r->seq, start))
		r = tp->rtx_head;
	for (; r && !after(r->end_seq, start); r = r->next)
		;
	for (; r && before(r->seq, end); r = r->next) {
		if (r->tcp_flags & WIRE_TCP_SYN)
			continue;
		if (r->flags & TXR_SACKED)
			continue;
		if (before(r->seq, start)) {
			struct tcp_txrec *n = tcp_rec_split(tp, r, start);

			if (!n)
				break;
			continue;	/* the loop moves to n */
		}
		if (after(r->end_seq, end) && !tcp_rec_split(tp, r, end))
			break;
		if (after(r->end_seq, end))
			continue;
		if (r->flags & TXR_RETRANS) {
			r->flags &= (uint8_t)~TXR_RETRANS;
			tp->retrans_out -= r->pcount;
		}
		if (r->flags & TXR_LOST) {
			r->flags &= (uint8_t)~TXR_LOST;
			tp->lost_out -= r->pcount;
		}
		tcp_rack_advance(tp, r->flags, r->xmit_us, r->end_seq);
		if (!(r->flags & TXR_EVER_RETRANS)) {
			if (before(r->seq, tcp_highest_sack_seq(tp)) && before(r->seq, *reord))
				*reord = r->seq;
			if (!after(r->end_seq, tp->high_seq))
				flag |= FLAG_ORIG_SACK_ACKED;
		}
		if (after(r->end_seq, tp->highest_sack))
			tp->highest_sack = r->end_seq;
		r->flags |= TXR_SACKED;
		tp->sacked_out += r->pcount;
		tp->delivered += r->pcount;
		if (r->flags & TXR_TSORTED) {
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
		flag |= 0x20;	/* FLAG_DATA_SACKED */
		tp->sack_hint = r;
	}
	return flag;
}

/* Linux tcp_dsack_seen(): how many duplicate segments a D-SACK block reports, 0 when
 * dubious (longer than the largest window, or more duplicates than retransmissions). */
static uint32_t tcp_dsack_seen(struct tcp_sock *tp, uint32_t start, uint32_t end, int *flag)
{
	uint32_t len, dup = 1;

	if (!before(start, end))
		return 0;
	len = end - start;
	if (len > tp->max_window)
		return 0;
	if (len > tp->mss_cache)
		dup = (len + tp->mss_cache - 1) / tp->mss_cache;
	else if (tp->tlp_high_seq && tp->tlp_high_seq == end)
		*flag |= FLAG_DSACK_TLP;
	tp->dsack_dups += dup;
	if (tp->dsack_dups > tp->total_retrans)
		return 0;
	/* RACK widens its reordering window only for D-SACKs after reordering was seen
	 * and not for a TLP probe's */
	if (tp->reord_seen && !(*flag & FLAG_DSACK_TLP)) {
		tp->rack.dsack_seen = true;
		tcp_rack_update_reo_wnd(tp, 1);
	}
	*flag |= FLAG_DSACKING_ACK;
	return dup;
}

/* A D-SACK for retransmitted data: one retransmission fewer that may have repaired a
 * loss (Linux tcp_check_dsack's "dumb counting" for data already acked and forgotten,
 * tcp_sacktag_one for data still queued). */
static void tcp_dsack_undo_count(struct tcp_sock *tp, uint32_t start, uint32_t end,
				 uint32_t prior_snd_una, uint32_t dup)
{
	if (!tp->undo_marker || tp->undo_retrans <= 0)
		return;
	if (!after(end, prior_snd_una)) {
		if (after(end, tp->undo_marker))
			tp->undo_retrans = tp->undo_retrans > (int32_t)dup
						   ? tp->undo_retrans - (int32_t)dup : 0;
		return;
	}
	for (struct tcp_txrec *r = tp->rtx_head; r && before(r->seq, end); r = r->next) {
		if (before(r->seq, start) || after(r->end_seq, end) ||
		    !(r->flags & (TXR_RETRANS | TXR_EVER_RETRANS)))
			continue;
		if (tp->undo_retrans > 0 && after(r->end_seq, tp->undo_marker))
			tp->undo_retrans = tp->undo_retrans > (int32_t)r->pcount
						   ? tp->undo_retrans - (int32_t)r->pcount : 0;
	}
}

/* Linux tcp_sacktag_write_queue() + tcp_check_dsack(). *dsack_out: the duplicate
 * segments a valid D-SACK reported (they count as delivered). */
int tcp_sacktag(struct tcp_sock *tp, const struct tcp_seg *seg, uint32_t prior_snd_una,
		uint32_t *dsack_out)
{
	struct wire_tcp_sack sp[WIRE_TCP_NUM_SACKS];
	unsigned n = seg->opt.num_sacks, first = 0;
	uint32_t reord = tp->snd_nxt;
	int flag = 0;

	bool is_dsack = false;

	*dsack_out = 0;
	if (!n || !tp->sack_ok)
		return 0;
	memcpy(sp, seg->opt.sack, n * sizeof(sp[0]));
	/* RFC 2883 4: the first block is a D-SACK when below the cumulative ACK or inside
	 * the second block. */
	if (before(sp[0].start, seg->ack)) {
		is_dsack = true;
		MIB_INC(tp->st, TcpExtTCPDSACKRecv);
	} else if (n > 1 && !after(sp[0].end, sp[1].end) && !before(sp[0].start, sp[1].start)) {
		is_dsack = true;
		MIB_INC(tp->st, TcpExtTCPDSACKOfoRecv);
	}
	if (is_dsack) {
		uint32_t dup = tcp_dsack_seen(tp, sp[0].start, sp[0].end, &flag);

		first = 1;
		if (!dup) {
			MIB_INC(tp->st, TcpExtTCPDSACKIgnoredDubious);
		} else {
			MIB_ADD(tp->st, TcpExtTCPDSACKRecvSegs, dup);
			tcp_dsack_undo_count(tp, sp[0].start, sp[0].end, prior_snd_una, dup);
			*dsack_out = dup;
		}
	}
	/* blocks in sequence order, as Linux sorts them: data SACKed below a block of the
	 * same ACK is not reordering */
	for (unsigned i = first + 1; i < n; i++)
		for (unsigned j = i; j > first && after(sp[j - 1].start, sp[j].start); j--) {
			struct wire_tcp_sack t = sp[j];

			sp[j] = sp[j - 1];
			sp[j - 1] = t;
		}
	for (unsigned i = first; i < n; i++) {
		uint32_t start = sp[i].start, end = sp[i].end;

		/* tcp_is_sackblock_valid() */
		if (!after(end, start) || after(end, tp->snd_nxt)) {
			MIB_INC(tp->st, TcpExtTCPSACKDiscard);
			continue;
		}
		if (!after(end, tp->snd_una))
			continue;
		if (before(start, tp->snd_una)) {
			if (before(start, tp->snd_una - tp->max_window)) {
				MIB_INC(tp->st, TcpExtTCPSACKDiscard);
				continue;
			}
			start = tp->snd_una;
		}
		flag |= tcp_sacktag_range(tp, start, end, &reord);
	}
	if (tp->ca_state != TCP_CA_Loss || tp->undo_marker)
		tcp_check_sack_reordering(tp, reord);
	return flag;
}

/* ---- Receiver SACK blocks ---- */

static bool sack_extend(struct wire_tcp_sack *sp, uint32_t seq, uint32_t end_seq)
{
	if (!after(seq, sp->end) && !after(sp->start, end_seq)) {
		if (before(seq, sp->start))
			sp->start = seq;
		if (after(end_seq, sp->end))
			sp->end = end_seq;
		return true;
	}
	return false;
}

static void sack_maybe_coalesce(struct tcp_sock *tp)
{
	struct wire_tcp_sack *sp = &tp->sacks[0];

	for (unsigned i = 1; i < tp->num_sacks;) {
		if (sack_extend(sp, tp->sacks[i].start, tp->sacks[i].end)) {
			tp->num_sacks--;
			for (unsigned j = i; j < tp->num_sacks; j++)
				tp->sacks[j] = tp->sacks[j + 1];
			continue;
		}
		i++;
	}
}

/* RFC 2018 4: the block with the newest segment first. */
void tcp_sack_new_ofo(struct tcp_sock *tp, uint32_t seq, uint32_t end_seq)
{
	unsigned cur = tp->num_sacks, i;

	if (!tp->sack_ok)
		return;
	for (i = 0; i < cur; i++) {
		if (sack_extend(&tp->sacks[i], seq, end_seq)) {
			for (; i > 0; i--) {
				struct wire_tcp_sack t = tp->sacks[i];

				tp->sacks[i] = tp->sacks[i - 1];
				tp->sacks[i - 1] = t;
			}
			if (cur > 1)
				sack_maybe_coalesce(tp);
			return;
		}
	}
	if (cur >= WIRE_TCP_NUM_SACKS) {
		cur--;
		tp->num_sacks--;
	}
	for (i = cur; i > 0; i--)
		tp->sacks[i] = tp->sacks[i - 1];
	tp->sacks[0].start = seq;
	tp->sacks[0].end = end_seq;
	tp->num_sacks++;
}

/* Blocks now below RCV.NXT go (Linux tcp_sack_remove). */
void tcp_sack_remove(struct tcp_sock *tp)
{
	unsigned n = tp->num_sacks;

	if (!tp->ofoq.head) {
		tp->num_sacks = 0;
		return;
	}
	for (unsigned i = 0; i < n;) {
		if (!before(tp->rcv_nxt, tp->sacks[i].start)) {
			for (unsigned j = i + 1; j < n; j++)
				tp->sacks[j - 1] = tp->sacks[j];
			n--;
			continue;
		}
		i++;
	}
	tp->num_sacks = (uint8_t)n;
}

void tcp_dsack_set(struct tcp_sock *tp, uint32_t seq, uint32_t end_seq)
{
	if (!tp->sack_ok || !tp->st->sysctl.ip.tcp_dsack)
		return;
	if (before(seq, tp->rcv_nxt))
		MIB_INC(tp->st, TcpExtTCPDSACKOldSent);
	else
		MIB_INC(tp->st, TcpExtTCPDSACKOfoSent);
	tp->dsack = true;
	tp->dsack_blk.start = seq;
	tp->dsack_blk.end = end_seq;
}

void tcp_dsack_extend(struct tcp_sock *tp, uint32_t seq, uint32_t end_seq)
{
	if (!tp->dsack)
		tcp_dsack_set(tp, seq, end_seq);
	else
		sack_extend(&tp->dsack_blk, seq, end_seq);
}

/* TCP ACK processing, as Linux's tcp_ack() and what it calls: the RTT estimator and RTO
 * (RFC 6298 with Linux's mdev filter and bounds), the window update, the retransmit
 * queue (tcp_clean_rtx_queue), the congestion state machine with Eifel undo and PRR
 * (tcp_fastretrans_alert), TLP ACK handling and zero-window probe ACKs. Segment arrival
 * and the receive side are in tcp_input.c. */
#include <errno.h>
#include <string.h>

#include "transport/tcp_int.h"
#include "wire/wire.h"

/* ---- RTT and RTO (Linux tcp_rtt_estimator, RFC 6298 with Linux's mdev filter) ---- */

void tcp_rtt_estimator(struct tcp_sock *tp, long mrtt_us)
{
	long m = mrtt_us;
	uint32_t srtt = tp->srtt_us;
	uint32_t rto_min_us = (uint32_t)tp->st->sysctl.ip.tcp_rto_min_us;

	if (!rto_min_us)
		rto_min_us = TCP_RTO_MIN_MS * 1000;
	if (srtt) {
		m -= (long)(srtt >> 3);
		srtt = (uint32_t)((long)srtt + m);
		if (m < 0) {
			m = -m;
			m -= (long)(tp->mdev_us >> 2);
			if (m > 0)
				m >>= 3;
		} else {
			m -= (long)(tp->mdev_us >> 2);
		}
		tp->mdev_us = (uint32_t)((long)tp->mdev_us + m);
		if (tp->mdev_us > tp->mdev_max_us) {
			tp->mdev_max_us = tp->mdev_us;
			if (tp->mdev_max_us > tp->rttvar_us)
				tp->rttvar_us = tp->mdev_max_us;
		}
		if (after(tp->snd_una, tp->rtt_seq)) {
			if (tp->mdev_max_us < tp->rttvar_us)
				tp->rttvar_us -= (tp->rttvar_us - tp->mdev_max_us) >> 2;
			tp->rtt_seq = tp->snd_nxt;
			tp->mdev_max_us = rto_min_us;
		}
	} else {
		srtt = (uint32_t)m << 3;
		tp->mdev_us = (uint32_t)m << 1;
		tp->rttvar_us = tp->mdev_us > rto_min_us ? tp->mdev_us : rto_min_us;
		tp->mdev_max_us = tp->rttvar_us;
		tp->rtt_seq = tp->snd_nxt;
	}
	tp->srtt_us = srtt ? srtt : 1;
}

uint32_t tcp_bound_rto(struct tcp_sock *tp)
{
	if (tp->rto_ms > TCP_RTO_MAX_MS)
		tp->rto_ms = TCP_RTO_MAX_MS;
	return tp->rto_ms;
}

void tcp_set_rto(struct tcp_sock *tp)
{
	uint64_t us = (tp->srtt_us >> 3) + tp->rttvar_us;

	tp->rto_ms = (uint32_t)((us + 999) / 1000);
	tcp_bound_rto(tp);
}

static void tcp_update_rtt_min(struct tcp_sock *tp, uint32_t rtt_us)
{
	uint64_t now = stack_now_ms(tp->st);
	uint32_t wlen = (uint32_t)tp->st->sysctl.ip.tcp_min_rtt_wlen * 1000;

	if (!rtt_us)
		rtt_us = 1;
	/* a windowed min (Linux uses Kathleen Nichols' filter; a plain expiring min here) */
	if (rtt_us <= tp->min_rtt_us || now - tp->min_rtt_stamp_ms > wlen) {
		tp->min_rtt_us = rtt_us;
		tp->min_rtt_stamp_ms = now;
	}
}

bool tcp_ack_update_rtt(struct tcp_sock *tp, int flag, long seq_rtt_us, long sack_rtt_us,
			long ca_rtt_us)
{
	if (seq_rtt_us < 0)
		seq_rtt_us = sack_rtt_us;
	/* RFC 7323 4.1 RTTM: a TSecr is used only if the ACK acknowledges new data. */
	if (seq_rtt_us < 0 && tp->saw_ts && tp->rcv_tsecr && (flag & FLAG_ACKED)) {
		uint32_t delta = tcp_tsval(tp->st, tp->ts_off) - tp->rcv_tsecr;

		if (delta < 0x7fffffff / 1000) {
			if (!delta)
				delta = 1;
			seq_rtt_us = (long)delta * 1000;
			ca_rtt_us = seq_rtt_us;
		}
	}
	if (seq_rtt_us < 0)
		return false;
	tcp_update_rtt_min(tp, (uint32_t)(ca_rtt_us >= 0 ? ca_rtt_us : seq_rtt_us));
	tcp_rtt_estimator(tp, seq_rtt_us);
	tcp_set_rto(tp);
	tp->backoff = 0;	/* RFC 6298: only reset backoff on a valid measurement */
	return true;
}

/* ---- Congestion state ---- */

static void tcp_set_ca_state(struct tcp_sock *tp, uint8_t s)
{
	if (tp->cc->set_state)
		tp->cc->set_state(tp, s);
	tp->ca_state = s;
}

static bool tcp_in_cwnd_reduction(const struct tcp_sock *tp)
{
	return tp->ca_state == TCP_CA_CWR || tp->ca_state == TCP_CA_Recovery;
}

uint32_t tcp_current_ssthresh(const struct tcp_sock *tp)
{
	if (tcp_in_cwnd_reduction(tp))
		return tp->snd_ssthresh;
	return tp->snd_ssthresh > ((tp->snd_cwnd >> 1) + (tp->snd_cwnd >> 2))
		       ? tp->snd_ssthresh : ((tp->snd_cwnd >> 1) + (tp->snd_cwnd >> 2));
}

/* Linux tcp_init_undo(): remember where this reduction began; retransmissions still in
 * flight (a TLP one too) may be D-SACKed later. undo_retrans 0 means "all D-SACKed: may
 * undo", so "none made" is -1. */
void tcp_init_undo(struct tcp_sock *tp)
{
	tp->undo_marker = tp->snd_una;
	tp->undo_retrans = (int32_t)tp->retrans_out;
	if (tp->tlp_high_seq && tp->tlp_retrans)
		tp->undo_retrans++;
	if (!tp->undo_retrans)
		tp->undo_retrans = -1;
}

void tcp_init_cwnd_reduction(struct tcp_sock *tp)
{
	tp->high_seq = tp->snd_nxt;
	tp->tlp_high_seq = 0;
	tp->snd_cwnd_cnt = 0;
	tp->prior_cwnd = tp->snd_cwnd;
	tp->prr_delivered = 0;
	tp->prr_out = 0;
	tp->snd_ssthresh = tp->cc->ssthresh(tp);
	if (tp->ecn_ok)
		tp->ecn_flags |= 1;	/* TCP_ECN_QUEUE_CWR */
}

static void tcp_end_cwnd_reduction(struct tcp_sock *tp)
{
	if (tp->snd_ssthresh < 0x7fffffff && (tp->ca_state == TCP_CA_CWR || tp->undo_marker)) {
		tp->snd_cwnd = tp->snd_ssthresh;
		tp->snd_cwnd_stamp_ms = stack_now_ms(tp->st);
	}
	if (tp->cc->cwnd_event)
		tp->cc->cwnd_event(tp, CA_EVENT_COMPLETE_CWR);
}

void tcp_enter_cwr(struct tcp_sock *tp)
{
	tp->prior_ssthresh = 0;
	if (tp->ca_state < TCP_CA_CWR) {
		tp->undo_marker = 0;
		tcp_init_cwnd_reduction(tp);
		tcp_set_ca_state(tp, TCP_CA_CWR);
	}
}

static void tcp_enter_recovery(struct tcp_sock *tp, bool ece_ack)
{
	tp->prior_ssthresh = 0;
	tcp_init_undo(tp);
	MIB_INC(tp->st, TcpExtTCPSackRecovery);
	if (!tp->sack_ok) {
		tp->st->mib.v[MIB_TcpExtTCPSackRecovery]--;
		MIB_INC(tp->st, TcpExtTCPRenoRecovery);
	}
	if (!tcp_in_cwnd_reduction(tp)) {
		if (!ece_ack)
			tp->prior_ssthresh = tcp_current_ssthresh(tp);
		tcp_init_cwnd_reduction(tp);
	}
	tcp_set_ca_state(tp, TCP_CA_Recovery);
}

void tcp_clear_retrans(struct tcp_sock *tp)
{
	tp->retrans_out = 0;
	tp->lost_out = 0;
	tp->undo_marker = 0;
	tp->undo_retrans = 0;
	tp->sacked_out = 0;
}

/* RFC 6298 5.5-5.7 + Linux tcp_enter_loss(): the RTO fired. */
void tcp_enter_loss(struct tcp_sock *tp)
{
	struct tcp_txrec *head = tp->rtx_head;
	bool reneg = head && (head->flags & TXR_SACKED);
	bool new_recovery = tp->ca_state < TCP_CA_Recovery;

	if (reneg) {
		MIB_INC(tp->st, TcpExtTCPSACKReneging);
		tp->sacked_out = 0;
	}
	if (!tp->sack_ok)
		tp->sacked_out = 0;
	for (struct tcp_txrec *r = head; r; r = r->next) {
		if (reneg)
			r->flags &= (uint8_t)~TXR_SACKED;
		else if (r != head && tp->rack.rtt_us &&
			 (int64_t)tp->rack.rtt_us -
				 (int64_t)(tcp_now_us(tp->st) - r->xmit_us) > 0)
			continue;	/* sent recently: not lost yet (RACK) */
		tcp_mark_rec_lost(tp, r);
	}
	if (tp->ca_state <= TCP_CA_Disorder || !after(tp->high_seq, tp->snd_una) ||
	    (tp->ca_state == TCP_CA_Loss && !tp->retransmits)) {
		tp->prior_ssthresh = tcp_current_ssthresh(tp);
		tp->prior_cwnd = tp->snd_cwnd;
		tp->snd_ssthresh = tp->cc->ssthresh(tp);
		if (tp->cc->cwnd_event)
			tp->cc->cwnd_event(tp, CA_EVENT_LOSS);
		tcp_init_undo(tp);
	}
	tp->snd_cwnd = tcp_packets_in_flight(tp) + 1;
	tp->snd_cwnd_cnt = 0;
	tp->snd_cwnd_stamp_ms = stack_now_ms(tp->st);
	if (tp->ca_state <= TCP_CA_Disorder && tp->sacked_out >= (uint32_t)tp->st->sysctl.ip.tcp_reordering &&
	    tp->reordering > (uint32_t)tp->st->sysctl.ip.tcp_reordering)
		tp->reordering = (uint32_t)tp->st->sysctl.ip.tcp_reordering;
	tcp_set_ca_state(tp, TCP_CA_Loss);
	tp->high_seq = tp->snd_nxt;
	tp->tlp_high_seq = 0;
	if (tp->ecn_ok)
		tp->ecn_flags |= 1;
	/* F-RTO (RFC 5682 3.1 step 1, net.ipv4.tcp_frto): only SND.UNA is retransmitted;
	 * not when a loss recovery is underway, except a timeout recurring on the same
	 * SND.UNA (3.2) */
	tp->frto = tp->st->sysctl.ip.tcp_frto && (new_recovery || tp->retransmits);
}

/* Linux tcp_packet_delayed(): the ACK echoes a timestamp older than our first
 * retransmission, so the original arrived (Eifel, RFC 3522); or nothing was
 * retransmitted at all. */
static bool tcp_packet_delayed(const struct tcp_sock *tp)
{
	if (tp->retrans_stamp_ms && tp->saw_ts && tp->rcv_tsecr &&
	    before(tp->rcv_tsecr - tp->ts_off, (uint32_t)tp->retrans_stamp_ms))
		return true;
	return !tp->retrans_stamp_ms && tp->state != TCP_SYN_SENT;
}

/* Linux tcp_may_undo(): every retransmission was D-SACKed, or the originals arrived. */
static bool tcp_may_undo(const struct tcp_sock *tp)
{
	return tp->undo_marker && (!tp->undo_retrans || tcp_packet_delayed(tp));
}

/* Linux tcp_undo_cwnd_reduction(): back to the window before the reduction. */
static void tcp_undo_cwnd_reduction(struct tcp_sock *tp, bool unmark_loss)
{
	if (unmark_loss) {
		/* the segments were delayed, not lost */
		for (struct tcp_txrec *r = tp->rtx_head; r; r = r->next) {
			if (r->flags & TXR_LOST) {
				r->flags &= (uint8_t)~TXR_LOST;
				if (!(r->flags & TXR_TSORTED) && !(r->flags & TXR_SACKED))
					tcp_rtx_tsorted_touch(tp, r);
			}
		}
		tp->lost_out = 0;
	}
	if (tp->prior_ssthresh) {
		tp->snd_cwnd = tp->cc->undo_cwnd ? tp->cc->undo_cwnd(tp) : tp->prior_cwnd;
		if (tp->prior_ssthresh > tp->snd_ssthresh) {
			tp->snd_ssthresh = tp->prior_ssthresh;
			tp->ecn_flags &= ~1u;	/* tcp_ecn_withdraw_cwr */
		}
	}
	tp->snd_cwnd_stamp_ms = stack_now_ms(tp->st);
	tp->undo_marker = 0;
	tp->rack.advanced = true;	/* make RACK look at the losses again */
}

static bool tcp_any_retrans_done(const struct tcp_sock *tp);

/* Linux tcp_is_non_sack_preventing_reopen(): without SACK, hold the state until
 * something above high_seq is ACKed (RFC 6582: no false fast retransmits). */
static bool tcp_is_non_sack_preventing_reopen(struct tcp_sock *tp)
{
	if (tp->snd_una == tp->high_seq && !tp->sack_ok) {
		if (!tcp_any_retrans_done(tp))
			tp->retrans_stamp_ms = 0;
		return true;
	}
	return false;
}

/* Linux tcp_try_undo_recovery(): high_seq is ACKed; undo if nothing was really lost. */
static bool tcp_try_undo_recovery(struct tcp_sock *tp)
{
	if (tcp_may_undo(tp)) {
		tcp_undo_cwnd_reduction(tp, false);
		if (tp->ca_state == TCP_CA_Loss)
			MIB_INC(tp->st, TcpExtTCPLossUndo);
		else
			MIB_INC(tp->st, TcpExtTCPFullUndo);
	} else if (tp->rack.reo_wnd_persist) {
		tp->rack.reo_wnd_persist--;
	}
	if (tcp_is_non_sack_preventing_reopen(tp))
		return true;
	tcp_set_ca_state(tp, TCP_CA_Open);
	return false;
}

/* Linux tcp_try_undo_dsack(): D-SACKs covered every retransmission (RFC 2883 4.1). */
static bool tcp_try_undo_dsack(struct tcp_sock *tp)
{
	if (tp->undo_marker && !tp->undo_retrans) {
		if (tp->rack.reo_wnd_persist < 16)
			tp->rack.reo_wnd_persist++;
		tcp_undo_cwnd_reduction(tp, false);
		MIB_INC(tp->st, TcpExtTCPDSACKUndo);
		return true;
	}
	return false;
}

/* Linux tcp_try_undo_loss(): the RTO was spurious (Eifel, D-SACKs, or F-RTO). */
static bool tcp_try_undo_loss(struct tcp_sock *tp, bool frto_undo)
{
	if (frto_undo || tcp_may_undo(tp)) {
		tcp_undo_cwnd_reduction(tp, true);
		MIB_INC(tp->st, TcpExtTCPLossUndo);
		if (frto_undo)
			MIB_INC(tp->st, TcpExtTCPSpuriousRTOs);
		tp->retransmits = 0;
		if (tcp_is_non_sack_preventing_reopen(tp))
			return true;
		if (frto_undo || tp->sack_ok)
			tcp_set_ca_state(tp, TCP_CA_Open);
		return true;
	}
	return false;
}

static bool tcp_any_retrans_done(const struct tcp_sock *tp)
{
	if (tp->retrans_out)
		return true;
	return tp->rtx_head && (tp->rtx_head->flags & TXR_EVER_RETRANS);
}

static void tcp_try_keep_open(struct tcp_sock *tp)
{
	uint8_t state = TCP_CA_Open;

	if (tp->sacked_out + tp->lost_out || tcp_any_retrans_done(tp))
		state = TCP_CA_Disorder;
	if (tp->ca_state != state) {
		tcp_set_ca_state(tp, state);
		tp->high_seq = tp->snd_nxt;
	}
}

static void tcp_try_to_open(struct tcp_sock *tp, int flag)
{
	if (!tcp_any_retrans_done(tp))
		tp->retrans_stamp_ms = 0;
	if (flag & FLAG_ECE)
		tcp_enter_cwr(tp);
	if (tp->ca_state != TCP_CA_CWR)
		tcp_try_keep_open(tp);
}

/* Duplicate ACKs of a peer without SACK count as SACKed segments (Linux "Reno SACK"). */
static void tcp_add_reno_sack(struct tcp_sock *tp, int num_dupack)
{
	if (num_dupack) {
		uint32_t prior = tp->sacked_out;

		tp->sacked_out += (uint32_t)num_dupack;
		if (tp->sacked_out + 1 > tp->packets_out)	/* limit to packets_out - 1 */
			tp->sacked_out = tp->packets_out ? tp->packets_out - 1 : 0;
		if (tp->sacked_out > prior)
			tp->delivered += tp->sacked_out - prior;
	}
}

static void tcp_identify_packet_loss(struct tcp_sock *tp, int *flag)
{
	if (!tp->rtx_head)
		return;
	if (!tp->sack_ok) {
		tcp_newreno_mark_head_lost(tp);
	} else {
		/* RACK always (Linux 6.18 ignores tcp_recovery's RACK_LOSS_DETECTION bit:
		 * there is no duplicate-ACK-count fallback for SACK connections any more) */
		uint32_t prior_retrans = tp->retrans_out;

		tcp_rack_mark_lost(tp);
		if (prior_retrans > tp->retrans_out)
			*flag |= FLAG_LOST_RETRANS;
	}
}

static bool tcp_time_to_recover(const struct tcp_sock *tp)
{
	return tp->lost_out != 0;	/* the loss is proven (RACK or NewReno marked it) */
}

enum { REXMIT_NONE, REXMIT_LOST, REXMIT_NEW };

/* Linux tcp_process_loss(): an ACK in the Loss state, with F-RTO (RFC 5682 3.1, the
 * SACK-enhanced version) deciding whether the timeout was spurious. */
static void tcp_process_loss(struct tcp_sock *tp, int flag, int num_dupack, int *rexmit)
{
	bool recovered = !before(tp->snd_una, tp->high_seq);

	if ((flag & FLAG_SND_UNA_ADVANCED) && tcp_try_undo_loss(tp, false))
		return;
	if (tp->frto) {
		/* step 3.b: never-retransmitted data (s)acked: the RTO was spurious */
		if ((flag & FLAG_ORIG_SACK_ACKED) && tcp_try_undo_loss(tp, true))
			return;
		if (after(tp->snd_nxt, tp->high_seq)) {
			if ((flag & FLAG_DATA_SACKED) || num_dupack)
				tp->frto = false;	/* step 3.a: the loss was real */
		} else if ((flag & FLAG_SND_UNA_ADVANCED) && !recovered) {
			tp->high_seq = tp->snd_nxt;
			/* step 2.b: send new data (once tcp_ack() updated cwnd), else fall
			 * back to the conventional recovery */
			if (tcp_send_head_pending(tp) &&
			    after(tp->snd_una + tp->snd_wnd, tp->snd_nxt)) {
				*rexmit = REXMIT_NEW;
				return;
			}
			tp->frto = false;
		}
	}
	if (recovered) {
		/* step 2.a and the first part of 3.a */
		tcp_try_undo_recovery(tp);
		return;
	}
	if (!tp->sack_ok) {
		/* a Reno duplicate ACK means new data of step 2.b was delivered */
		if (after(tp->snd_nxt, tp->high_seq) && num_dupack)
			tcp_add_reno_sack(tp, num_dupack);
		else if (flag & FLAG_SND_UNA_ADVANCED)
			tp->sacked_out = 0;
	}
	*rexmit = REXMIT_LOST;
}

/* Linux tcp_fastretrans_alert(): the recovery state machine. Sets *rexmit to what
 * should be sent (REXMIT_LOST: lost segments, REXMIT_NEW: new data for F-RTO). */
static void tcp_fastretrans_alert(struct tcp_sock *tp, uint32_t prior_snd_una, int num_dupack,
				  int *flag, int *rexmit)
{
	bool ece_ack = (*flag & FLAG_ECE) != 0;

	if (!tp->packets_out && tp->sacked_out)
		tp->sacked_out = 0;
	if (ece_ack)
		tp->prior_ssthresh = 0;
	/* B. SACK reneging (Linux tcp_check_sack_reneging): the ACK advanced to a SACKed
	 * segment, so the receiver may have dropped it (RFC 2018 8); wait srtt/2 (at
	 * least 10 ms) for an ACK that covers it, then the RTO (tcp_enter_loss) forgets
	 * the SACKs and retransmits from the head */
	if ((*flag & FLAG_SACK_RENEGING) && (*flag & FLAG_SND_UNA_ADVANCED)) {
		uint64_t ms = ((uint64_t)(tp->srtt_us >> 4) + 999) / 1000;

		tcp_reset_xmit_timer(tp, ICSK_TIME_RETRANS, ms > 10 ? ms : 10);
		*flag &= ~FLAG_SET_XMIT_TIMER;
		return;
	}
	/* D. exit conditions */
	if (tp->ca_state == TCP_CA_Open) {
		tp->retrans_stamp_ms = 0;
	} else if (!before(tp->snd_una, tp->high_seq)) {
		switch (tp->ca_state) {
		case TCP_CA_CWR:
			if (tp->snd_una != tp->high_seq) {
				tcp_end_cwnd_reduction(tp);
				tcp_set_ca_state(tp, TCP_CA_Open);
			}
			break;
		case TCP_CA_Recovery:
			if (!tp->sack_ok)
				tp->sacked_out = 0;
			if (tcp_try_undo_recovery(tp))
				return;
			tcp_end_cwnd_reduction(tp);
			break;
		}
	}
	/* E. process state */
	switch (tp->ca_state) {
	case TCP_CA_Recovery:
		if (!(*flag & FLAG_SND_UNA_ADVANCED)) {
			if (!tp->sack_ok)
				tcp_add_reno_sack(tp, num_dupack);
		}
		if (tcp_try_undo_dsack(tp))
			tcp_try_to_open(tp, *flag);
		tcp_identify_packet_loss(tp, flag);
		if (tp->ca_state != TCP_CA_Recovery) {
			if (!tcp_time_to_recover(tp))
				return;
			/* undone, but loss is evident: a new recovery */
			tcp_enter_recovery(tp, ece_ack);
		}
		break;
	case TCP_CA_Loss:
		tcp_process_loss(tp, *flag, num_dupack, rexmit);
		tcp_identify_packet_loss(tp, flag);
		if (!(tp->ca_state == TCP_CA_Open || (*flag & FLAG_LOST_RETRANS)))
			return;
		/* cwnd undone, or retransmissions lost: */
		/* fallthrough */
	default:
		if (!tp->sack_ok) {
			if (*flag & FLAG_SND_UNA_ADVANCED)
				tp->sacked_out = 0;
			tcp_add_reno_sack(tp, num_dupack);
		}
		if (tp->ca_state <= TCP_CA_Disorder)
			tcp_try_undo_dsack(tp);
		tcp_identify_packet_loss(tp, flag);
		if (!tcp_time_to_recover(tp)) {
			tcp_try_to_open(tp, *flag);
			return;
		}
		tcp_enter_recovery(tp, ece_ack);
	}
	*rexmit = REXMIT_LOST;
}

/* Linux tcp_xmit_recovery(). */
static void tcp_xmit_recovery(struct tcp_sock *tp, int rexmit)
{
	if (rexmit == REXMIT_NONE || tp->state == TCP_SYN_SENT)
		return;
	if (rexmit == REXMIT_NEW) {
		tcp_push(tp, 1 /* TCP_NAGLE_OFF */);
		if (after(tp->snd_nxt, tp->high_seq))
			return;
		tp->frto = false;
	}
	tcp_xmit_retransmit_queue(tp);
}

static bool tcp_is_cwnd_limited(const struct tcp_sock *tp)
{
	if (tp->is_cwnd_limited)
		return true;
	if (tp->snd_cwnd < tp->snd_ssthresh)
		return tp->snd_cwnd < 2 * tp->max_packets_out;
	return false;
}

static void tcp_cong_control(struct tcp_sock *tp, uint32_t ack, uint32_t acked_sacked, int flag,
			     uint32_t newly_lost)
{
	if (tcp_in_cwnd_reduction(tp)) {
		tcp_cwnd_reduction(tp, acked_sacked, newly_lost, flag);
	} else if ((tp->reordering > (uint32_t)tp->st->sysctl.ip.tcp_reordering)
			   ? (flag & FLAG_FORWARD_PROGRESS) : (flag & FLAG_DATA_ACKED)) {
		if (tcp_is_cwnd_limited(tp))
			tp->cc->cong_avoid(tp, ack, acked_sacked);
		tp->snd_cwnd_stamp_ms = stack_now_ms(tp->st);
	}
}

/* Linux tcp_cwnd_validate() bookkeeping, once per window. */
static void tcp_cwnd_validate(struct tcp_sock *tp)
{
	if (!before(tp->snd_una, tp->cwnd_usage_seq)) {
		tp->is_cwnd_limited = tcp_packets_in_flight(tp) >= tp->snd_cwnd;
		tp->max_packets_out = tp->packets_out;
		tp->cwnd_usage_seq = tp->snd_nxt;
	}
}

/* ---- The retransmit queue on an ACK (Linux tcp_clean_rtx_queue) ---- */

static int tcp_clean_rtx_queue(struct tcp_sock *tp, uint32_t prior_snd_una, uint32_t prior_fack,
			       uint32_t *acked_pkts,
			       uint32_t *sacked_before, long sack_rtt_us)
{
	uint64_t now = tcp_now_us(tp->st);
	uint64_t first_ackt = 0, last_ackt = 0;
	long seq_rtt_us = -1, ca_rtt_us = -1;
	int flag = 0;
	uint32_t pkts = 0, reord = tp->snd_nxt;
	struct tcp_txrec *r;

	while ((r = tp->rtx_head)) {
		uint8_t f = r->flags;

		if (after(r->end_seq, tp->snd_una)) {
			/* partially acked (tcp_tso_acked): only data before snd_una went */
			if (after(tp->snd_una, r->seq) && !(r->tcp_flags & WIRE_TCP_SYN)) {
				r->seq = tp->snd_una;
				flag |= FLAG_DATA_ACKED;
			}
			break;
		}
		if (f & TXR_RETRANS) {
			tp->retrans_out -= r->pcount;
			flag |= FLAG_RETRANS_DATA_ACKED;
		} else if (!(f & TXR_SACKED)) {
			last_ackt = r->xmit_us;
			if (!first_ackt && !(f & TXR_EVER_RETRANS))
				first_ackt = r->xmit_us;
			if (f & TXR_EVER_RETRANS)
				first_ackt = 0;
			/* original data below high_seq delivered (F-RTO step 3.b) */
			if (!(f & TXR_EVER_RETRANS) && !after(r->end_seq, tp->high_seq))
				flag |= FLAG_ORIG_SACK_ACKED;
		}
		if (f & TXR_EVER_RETRANS)
			flag |= FLAG_RETRANS_DATA_ACKED;
		if (f & TXR_SACKED) {
			tp->sacked_out -= r->pcount;
		} else {
			tcp_rack_advance(tp, f, r->xmit_us, r->end_seq);
			if (!(f & TXR_EVER_RETRANS) && before(r->seq, reord))
				reord = r->seq;
		}
		if (f & TXR_LOST)
			tp->lost_out -= r->pcount;
		if (r->tcp_flags & WIRE_TCP_SYN) {
			flag |= FLAG_SYN_ACKED;
			tp->retrans_stamp_ms = 0;	/* as Linux tcp_clean_rtx_queue() */
		} else if (!(f & TXR_SACKED))
			flag |= FLAG_DATA_ACKED;
		tp->packets_out -= r->pcount;
		pkts += r->pcount;
		if (f & TXR_SACKED)
			*sacked_before += r->pcount;	/* delivered when SACKed */
		tcp_rtx_rec_unlink(tp, r);
	}
	if (!tp->rtx_head)
		tp->packets_out = tp->sacked_out = tp->lost_out = tp->retrans_out = 0;
	/* snd_una now at a SACKed segment: the receiver dropped what it had SACKed */
	else if (tp->rtx_head->flags & TXR_SACKED)
		flag |= FLAG_SACK_RENEGING;
	/* a never-retransmitted hole filled below the highest SACK: reordering */
	if ((flag & FLAG_ACKED) && tp->sack_ok && before(reord, prior_fack))
		tcp_check_sack_reordering(tp, reord);
	/* Karn: no sequence RTT sample from an ACK that covers any retransmitted data, even
	 * if it also covers never-retransmitted segments (Linux tcp_clean_rtx_queue): those
	 * may have arrived long ago, their SACKs lost, and only now be cumulatively ACKed
	 * once the hole is repaired (a sample of seconds that inflates the RTO). The
	 * timestamp echo (tcp_ack_update_rtt) measures such an ACK instead. */
	if ((flag & FLAG_ACKED) && first_ackt && !(flag & FLAG_RETRANS_DATA_ACKED)) {
		seq_rtt_us = (long)(now - first_ackt);
		ca_rtt_us = (long)(now - last_ackt);
	}
	tcp_ack_update_rtt(tp, flag, seq_rtt_us, sack_rtt_us, ca_rtt_us);
	if (flag & FLAG_ACKED) {
		flag |= FLAG_SET_XMIT_TIMER;
		if (tp->cc->pkts_acked)
			tp->cc->pkts_acked(tp, pkts, ca_rtt_us);
	}
	/* Without SACK, a cumulative ACK that covers a retransmission cannot tell whether
	 * the originals got through (Linux tcp_clean_rtx_queue, for F-RTO) */
	if (!tp->sack_ok && (flag & FLAG_RETRANS_DATA_ACKED))
		flag &= ~FLAG_ORIG_SACK_ACKED;
	*acked_pkts = pkts;
	return flag;
}

/* Linux tcp_ack_update_window(). */
static int tcp_ack_update_window(struct tcp_sock *tp, const struct tcp_seg *seg)
{
	uint32_t nwin = seg->th.window;
	int flag = 0;

	if (!(seg->flags & WIRE_TCP_SYN))
		nwin <<= tp->snd_wscale;
	if (tcp_may_update_window(tp, seg->ack, seg->seq, nwin)) {
		flag |= FLAG_WIN_UPDATE;
		tp->snd_wl1 = seg->seq;
		if (tp->snd_wnd != nwin) {
			tp->snd_wnd = nwin;
			if (nwin > tp->max_window) {
				tp->max_window = nwin;
				tcp_sync_mss(tp, tp->pmtu ? tp->pmtu : 1500);
			}
		}
	}
	tp->snd_una = seg->ack;
	return flag;
}

/* RFC 8985 7.3: an ACK of the probe (or a D-SACK of it) ends the TLP episode. */
static void tcp_process_tlp_ack(struct tcp_sock *tp, uint32_t ack, int flag)
{
	if (!tp->tlp_high_seq || before(ack, tp->tlp_high_seq))
		return;
	if (!tp->tlp_retrans) {
		tp->tlp_high_seq = 0;
	} else if (flag & FLAG_DSACKING_ACK) {
		tp->tlp_high_seq = 0;	/* the probe was a duplicate: no loss */
	} else if (after(ack, tp->tlp_high_seq)) {
		/* the probe repaired a loss: reduce once and at once, then Open again
		 * (Linux: CWR entered and ended here, tcp_try_keep_open) */
		tcp_init_cwnd_reduction(tp);
		tcp_set_ca_state(tp, TCP_CA_CWR);
		tcp_end_cwnd_reduction(tp);
		tcp_try_keep_open(tp);
		MIB_INC(tp->st, TcpExtTCPLossProbeRecovery);
	} else if (!(flag & (FLAG_SND_UNA_ADVANCED | FLAG_NOT_DUP | FLAG_DATA_SACKED))) {
		tp->tlp_high_seq = 0;
	}
}

/* The window-probe timer is re-armed or stopped on every ACK (tcp_ack_probe). */
static void tcp_ack_probe(struct tcp_sock *tp)
{
	if (!tcp_send_head_pending(tp))
		return;
	if (!after(tp->snd_nxt + tcp_current_mss(tp), tp->snd_una + tp->snd_wnd) ||
	    (tp->snd_wnd && !after(tp->write_seq + (tp->fin_pending && !tp->fin_sent),
				   tp->snd_una + tp->snd_wnd))) {
		tp->backoff = 0;
		tp->probes_tstamp_ms = 0;
		if (tp->pending == ICSK_TIME_PROBE0)
			tcp_clear_xmit_timer(tp);
	} else {
		tcp_reset_xmit_timer(tp, ICSK_TIME_PROBE0, tcp_probe0_when_ms(tp, TCP_RTO_MAX_MS));
	}
}

/* Linux tcp_ack(). Returns 1 (acceptable), 0 (old ACK), -1 (invalid: discard). */
int tcp_ack(struct tcp_sock *tp, struct tcp_seg *seg, int flag)
{
	uint32_t prior_snd_una = tp->snd_una;
	uint32_t prior_packets = tp->packets_out;
	uint32_t prior_delivered = tp->delivered;
	uint32_t prior_lost = tp->lost_out;
	uint32_t ack = seg->ack;
	uint32_t acked_pkts = 0, dsack = 0, sacked_before = 0;
	uint32_t prior_sacked = tp->sacked_out;
	uint32_t prior_fack = tp->sack_ok ? tcp_highest_sack_seq(tp) : tp->snd_una;
	long sack_rtt_us = -1;
	int num_dupack = 0;
	int rexmit = REXMIT_NONE;

	if (before(ack, prior_snd_una)) {
		uint64_t mw = tp->max_window < tp->bytes_acked ? tp->max_window : tp->bytes_acked;

		/* RFC 5961 5.2: an ACK far below SND.UNA gets a challenge ACK */
		if (before(ack, prior_snd_una - (uint32_t)mw)) {
			if (!(flag & FLAG_NO_CHALLENGE_ACK))
				tcp_send_challenge_ack(tp);
			return -1;
		}
		goto old_ack;
	}
	if (after(ack, tp->snd_nxt)) {
		/* RFC 5961 5.2 / RFC 9293 3.10.7.4: an ACK of unsent data is dropped and
		 * answered with a (rate-limited) challenge ACK, as Linux 6.18's tcp_ack() */
		if (!(flag & FLAG_NO_CHALLENGE_ACK))
			tcp_send_challenge_ack(tp);
		return -1;
	}
	if (after(ack, prior_snd_una)) {
		flag |= FLAG_SND_UNA_ADVANCED;
		tp->retransmits = 0;
	}
	tp->last_ack_recv_ms = stack_now_ms(tp->st);
	if ((flag & FLAG_UPDATE_TS_RECENT) && tp->saw_ts && !after(seg->seq, tp->rcv_wup) &&
	    tcp_paws_check(tp, seg->opt.tsval, 0))
		tcp_store_ts_recent(tp, seg);
	flag |= tcp_ack_update_window(tp, seg);
	if (after(ack, prior_snd_una)) {
		uint32_t n = ack - prior_snd_una;

		tp->bytes_acked += n;
		tcp_ring_consume(tp, ack);
	}
	if (seg->len || (seg->flags & (WIRE_TCP_SYN | WIRE_TCP_FIN)))
		flag |= FLAG_DATA;
	if (seg->opt.num_sacks) {
		flag |= tcp_sacktag(tp, seg, prior_snd_una, &dsack);
		tp->delivered += dsack;	/* a spurious retransmission was delivered */
	}
	if ((seg->flags & WIRE_TCP_ECE) && tp->ecn_ok && !(seg->flags & WIRE_TCP_SYN))
		flag |= FLAG_ECE;
	if (!prior_packets)
		goto no_queue;
	flag |= tcp_clean_rtx_queue(tp, prior_snd_una, prior_fack, &acked_pkts, &sacked_before,
				    sack_rtt_us);
	tp->delivered += acked_pkts - (tp->sack_ok ? sacked_before : 0);
	tcp_process_tlp_ack(tp, ack, flag);
	if (!(flag & FLAG_NOT_DUP) && !(flag & FLAG_DSACKING_ACK) && !(flag & FLAG_SND_UNA_ADVANCED))
		num_dupack = 1;
	/* tcp_ack_is_dubious() */
	if (!(flag & FLAG_NOT_DUP) || (flag & FLAG_CA_ALERT) || tp->ca_state != TCP_CA_Open)
		tcp_fastretrans_alert(tp, prior_snd_una, num_dupack, &flag, &rexmit);
	if (flag & FLAG_SET_XMIT_TIMER) {
		if (!tcp_schedule_loss_probe(tp, true))
			tcp_rearm_rto(tp);
	}
	{
		uint32_t newly_sacked = tp->sacked_out > prior_sacked ? tp->sacked_out - prior_sacked : 0;
		uint32_t acked_sacked = acked_pkts + newly_sacked + dsack;
		uint32_t newly_lost = tp->lost_out > prior_lost ? tp->lost_out - prior_lost : 0;

		/* Linux tcp_newly_delivered(): what this ACK delivered; a segment SACKed
		 * before counted then */
		if (tp->sack_ok)
			acked_sacked = tp->delivered - prior_delivered;

		if (!tp->sack_ok && num_dupack)
			acked_sacked = tp->delivered - prior_delivered;
		tcp_cong_control(tp, ack, acked_sacked, flag, newly_lost);
	}
	tcp_xmit_recovery(tp, rexmit);
	tcp_cwnd_validate(tp);
	if (tp->snd_una == tp->snd_nxt && !tcp_send_head_pending(tp))
		tp->probes_out = 0;
	if (flag & FLAG_SND_UNA_ADVANCED)
		tp->probes_out = 0, tp->probes_tstamp_ms = 0;
	return 1;
no_queue:
	/* data D-SACKed: maybe a reduction can be undone */
	if (flag & FLAG_DSACKING_ACK)
		tcp_fastretrans_alert(tp, prior_snd_una, num_dupack, &flag, &rexmit);
	tcp_ack_probe(tp);
	if (flag & FLAG_SND_UNA_ADVANCED || (flag & FLAG_WIN_UPDATE))
		tp->probes_out = 0;
	return 1;
old_ack:
	if (seg->opt.num_sacks) {
		flag |= tcp_sacktag(tp, seg, prior_snd_una, &dsack);
		tp->delivered += dsack;
		tcp_fastretrans_alert(tp, prior_snd_una, 0, &flag, &rexmit);
		tcp_xmit_recovery(tp, rexmit);
	}
	return 0;
}

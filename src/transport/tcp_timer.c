/* TCP timers: one struct timer per connection, re-armed to the earliest of its pending
 * deadlines (retransmit/probe/TLP/RACK, delayed ACK, keepalive, compressed SACK), so an
 * idle connection costs nothing and nothing is ever scanned. The handlers follow Linux
 * tcp_timer.c: RFC 6298 backoff with Linux's bounds, tcp_retries2/tcp_syn_retries with
 * tcp_model_timeout(), tcp_syn_linear_timeouts, TCP_USER_TIMEOUT, zero-window probes,
 * keepalive, orphan FIN_WAIT2. */
#include <errno.h>

#include "transport/tcp_int.h"

static void tcp_timer_fire(void *arg);

void tcp_timer_init(struct tcp_sock *tp)
{
	timer_init(&tp->timer, tcp_timer_fire, tp);
}

void tcp_timer_update(struct tcp_sock *tp)
{
	uint64_t first = 0;

	for (int i = 0; i < TCP_TEV_MAX; i++)
		if (tp->tev[i] && (!first || tp->tev[i] < first))
			first = tp->tev[i];
	if (!first)
		stack_timer_cancel(tp->st, &tp->timer);
	else if (!timer_pending(&tp->timer) || timer_expires_ns(&tp->timer) != first)
		stack_timer_arm(tp->st, &tp->timer, first);
}

/* inet_csk_reset_xmit_timer(): one of RTO / probe0 / TLP / RACK at a time. */
void tcp_reset_xmit_timer(struct tcp_sock *tp, int what, uint64_t when_ms)
{
	if (when_ms > TCP_RTO_MAX_MS)
		when_ms = TCP_RTO_MAX_MS;
	tp->pending = (uint8_t)what;
	tp->tev[TCP_TEV_RETRANS] = stack_now_ns(tp->st) + when_ms * NS_PER_MS;
	tcp_timer_update(tp);
}

void tcp_clear_xmit_timer(struct tcp_sock *tp)
{
	tp->pending = 0;
	tp->tev[TCP_TEV_RETRANS] = 0;
	tcp_timer_update(tp);
}

void tcp_clear_xmit_timers(struct tcp_sock *tp)
{
	tp->pending = 0;
	tp->ack.pending = 0;
	for (int i = 0; i < TCP_TEV_MAX; i++)
		tp->tev[i] = 0;
	stack_timer_cancel(tp->st, &tp->timer);
}

void tcp_delack_arm(struct tcp_sock *tp, uint64_t when_ms)
{
	tp->tev[TCP_TEV_DELACK] = when_ms * NS_PER_MS;
	tcp_timer_update(tp);
}

void tcp_delack_clear(struct tcp_sock *tp)
{
	tp->ack.pending = 0;
	if (tp->compressed_ack) {
		MIB_ADD(tp->st, TcpExtTCPAckCompressed, tp->compressed_ack);
		tp->compressed_ack = 0;
	}
	if (tp->tev[TCP_TEV_DELACK] || tp->tev[TCP_TEV_COMPACK]) {
		tp->tev[TCP_TEV_DELACK] = 0;
		tp->tev[TCP_TEV_COMPACK] = 0;
		tcp_timer_update(tp);
	}
}

void tcp_reset_keepalive_timer(struct tcp_sock *tp, uint64_t when_ms)
{
	tp->tev[TCP_TEV_KEEPALIVE] = stack_now_ns(tp->st) + when_ms * NS_PER_MS;
	tcp_timer_update(tp);
}

void tcp_delete_keepalive_timer(struct tcp_sock *tp)
{
	tp->tev[TCP_TEV_KEEPALIVE] = 0;
	tcp_timer_update(tp);
}

uint32_t tcp_keepalive_time_ms(const struct tcp_sock *tp)
{
	return (uint32_t)(tp->keepidle_s ? tp->keepidle_s : tp->st->sysctl.ip.tcp_keepalive_time) * 1000;
}

uint32_t tcp_keepalive_intvl_ms(const struct tcp_sock *tp)
{
	return (uint32_t)(tp->keepintvl_s ? tp->keepintvl_s : tp->st->sysctl.ip.tcp_keepalive_intvl) *
	       1000;
}

int tcp_keepalive_probes(const struct tcp_sock *tp)
{
	return tp->keepcnt ? tp->keepcnt : tp->st->sysctl.ip.tcp_keepalive_probes;
}

/* Linux tcp_fin_time(). */
uint32_t tcp_fin_time_ms(const struct tcp_sock *tp)
{
	uint32_t fin = (uint32_t)(tp->linger2_s ? tp->linger2_s : tp->st->sysctl.ip.tcp_fin_timeout) * 1000;
	uint32_t rto = tp->rto_ms;

	if (fin < (rto << 2) - (rto >> 1))
		fin = (rto << 2) - (rto >> 1);
	return fin;
}

void tcp_set_keepalive(struct tcp_sock *tp, bool on)
{
	if (tp->state == TCP_CLOSE || tp->state == TCP_LISTEN) {
		tp->keepalive_on = on;
		return;
	}
	if (on && !tp->keepalive_on)
		tcp_reset_keepalive_timer(tp, tcp_keepalive_time_ms(tp));
	else if (!on)
		tcp_delete_keepalive_timer(tp);
	tp->keepalive_on = on;
}

/* Linux tcp_rearm_rto(). */
void tcp_rearm_rto(struct tcp_sock *tp)
{
	if (!tp->packets_out) {
		if (tp->pending != ICSK_TIME_PROBE0)
			tcp_clear_xmit_timer(tp);
		return;
	}
	{
		uint64_t rto = tp->rto_ms;

		if (tp->pending == ICSK_TIME_REO_TIMEOUT || tp->pending == ICSK_TIME_LOSS_PROBE) {
			int64_t delta_us = (int64_t)tp->rto_ms * 1000;

			if (tp->rtx_head)
				delta_us -= (int64_t)(tcp_now_us(tp->st) - tp->rtx_head->xmit_us);
			rto = delta_us > 1000 ? (uint64_t)(delta_us + 999) / 1000 : 1;
		}
		tcp_reset_xmit_timer(tp, ICSK_TIME_RETRANS, rto);
	}
}

static uint64_t tcp_probe0_base(const struct tcp_sock *tp)
{
	return tp->rto_ms > TCP_RTO_MIN_MS ? tp->rto_ms : TCP_RTO_MIN_MS;
}

uint64_t tcp_probe0_when_ms(const struct tcp_sock *tp, uint32_t max_ms)
{
	unsigned b = tp->backoff < 10 ? tp->backoff : 10;	/* ilog2(RTO_MAX/RTO_MIN)+1 */
	uint64_t when = tcp_probe0_base(tp) << b;

	return when < max_ms ? when : max_ms;
}

void tcp_check_probe_timer(struct tcp_sock *tp)
{
	if (!tp->packets_out && !tp->pending)
		tcp_reset_xmit_timer(tp, ICSK_TIME_PROBE0, tcp_probe0_base(tp));
}

/* Linux tcp_model_timeout(): the time retries exponential retransmissions from
 * rto_base take, with the 120 s ceiling. */
static uint64_t tcp_model_timeout(unsigned boundary, uint64_t rto_base)
{
	unsigned thresh = 0;

	for (uint64_t v = TCP_RTO_MAX_MS / rto_base; v > 1; v >>= 1)
		thresh++;
	if (boundary <= thresh)
		return ((2ull << boundary) - 1) * rto_base;
	return ((2ull << thresh) - 1) * rto_base + (boundary - thresh) * (uint64_t)TCP_RTO_MAX_MS;
}

static bool retransmits_timed_out(struct tcp_sock *tp, unsigned boundary, uint32_t timeout_ms)
{
	uint64_t now = stack_now_ms(tp->st);

	if (!tp->retransmits)
		return false;
	if (!timeout_ms) {
		uint64_t base = TCP_RTO_MIN_MS;

		if (tp->state == TCP_SYN_SENT || tp->state == TCP_SYN_RECV)
			base = TCP_TIMEOUT_INIT_MS;
		timeout_ms = (uint32_t)tcp_model_timeout(boundary, base);
	}
	return (int64_t)(now - tp->retrans_stamp_ms) - (int64_t)timeout_ms >= 0;
}

static int tcp_orphan_retries(const struct tcp_sock *tp, bool alive)
{
	int retries = tp->st->sysctl.ip.tcp_orphan_retries;

	if (tp->err_soft && !alive)
		retries = 0;
	if (retries == 0 && alive)
		retries = 8;
	return retries;
}

/* Linux tcp_write_timeout(): true when the connection was given up. */
static bool tcp_write_timeout(struct tcp_sock *tp)
{
	struct ipv4_sysctl *s = &tp->st->sysctl.ip;
	bool expired = false;
	unsigned retry_until;

	if (tp->state == TCP_SYN_SENT || tp->state == TCP_SYN_RECV) {
		unsigned max_retx;

		retry_until = (unsigned)(tp->syncnt ? tp->syncnt : s->tcp_syn_retries);
		max_retx = retry_until;
		if (tp->state == TCP_SYN_SENT)
			max_retx += (unsigned)s->tcp_syn_linear_timeouts;
		expired = tp->retransmits >= max_retx;
	} else {
		retry_until = (unsigned)s->tcp_retries2;
		if (tp->orphan) {
			bool alive = tp->rto_ms < TCP_RTO_MAX_MS;

			retry_until = (unsigned)tcp_orphan_retries(tp, alive);
		}
	}
	if (!expired)
		expired = retransmits_timed_out(tp, retry_until, tp->user_timeout_ms);
	if (expired) {
		tcp_write_err(tp);
		return true;
	}
	return false;
}

static uint64_t tcp_clamp_rto_to_user_timeout(const struct tcp_sock *tp)
{
	int64_t remaining;

	if (!tp->user_timeout_ms || !tp->retrans_stamp_ms)
		return tp->rto_ms;
	remaining = (int64_t)tp->user_timeout_ms - (int64_t)(stack_now_ms(tp->st) - tp->retrans_stamp_ms);
	if (remaining <= 0)
		return 1;
	return (uint64_t)remaining < tp->rto_ms ? (uint64_t)remaining : tp->rto_ms;
}

/* Linux tcp_retransmit_timer(). */
static void tcp_retransmit_timer(struct tcp_sock *tp)
{
	struct ips_stack *st = tp->st;
	struct tcp_txrec *head = tp->rtx_head;

	if (!tp->packets_out || !head)
		return;
	if (!tp->snd_wnd && !tp->orphan && tp->state != TCP_SYN_SENT && tp->state != TCP_SYN_RECV) {
		/* The receiver shrank its window: retransmissions act as zero-window probes
		 * and do not time the connection out (RFC 9293 3.8.6.1). */
		uint64_t stamp = tp->retrans_stamp_ms ? tp->retrans_stamp_ms : head->xmit_us / 1000;
		uint64_t delta = stack_now_ms(st) - stamp;

		if (tp->user_timeout_ms ? delta >= tp->user_timeout_ms
					: delta > 2ull * TCP_RTO_MAX_MS) {
			tcp_write_err(tp);
			return;
		}
		tcp_enter_loss(tp);
		tcp_retransmit_rec(tp, head);
		goto out_reset_timer;
	}
	MIB_INC(st, TcpExtTCPTimeouts);
	if (tcp_write_timeout(tp))
		return;
	if (tp->retransmits == 0) {
		if (tp->ca_state == TCP_CA_Recovery)
			tp->sack_ok ? MIB_INC(st, TcpExtTCPSackRecoveryFail)
				    : MIB_INC(st, TcpExtTCPRenoRecoveryFail);
		else if (tp->ca_state == TCP_CA_Loss)
			MIB_INC(st, TcpExtTCPLossFailures);
		else if (tp->ca_state == TCP_CA_Disorder || tp->sacked_out)
			tp->sack_ok ? MIB_INC(st, TcpExtTCPSackFailures)
				    : MIB_INC(st, TcpExtTCPRenoFailures);
	}
	tcp_enter_loss(tp);
	tp->retransmits++;
	tp->total_rto_count++;
	if (tcp_retransmit_rec(tp, tp->rtx_head) == -ENOBUFS) {
		tcp_reset_xmit_timer(tp, ICSK_TIME_RETRANS, TCP_RESOURCE_PROBE_MS);
		return;
	}
	tp->backoff++;
out_reset_timer:
	if (tp->state == TCP_ESTABLISHED && st->sysctl.ip.tcp_thin_linear_timeouts &&
	    tp->packets_out < 4 && tp->retransmits <= 6) {
		tp->backoff = 0;
		tcp_set_rto(tp);
	} else if (tp->state != TCP_SYN_SENT ||
		   tp->total_rto_count > (uint32_t)st->sysctl.ip.tcp_syn_linear_timeouts) {
		tp->rto_ms = tp->rto_ms << 1 < TCP_RTO_MAX_MS ? tp->rto_ms << 1 : TCP_RTO_MAX_MS;
	}
	tcp_reset_xmit_timer(tp, ICSK_TIME_RETRANS, tcp_clamp_rto_to_user_timeout(tp));
}

/* Linux tcp_probe_timer(): the zero-window probe timer. */
static void tcp_probe_timer(struct tcp_sock *tp)
{
	int max_probes;

	if (tp->packets_out || !tcp_send_head_pending(tp)) {
		tp->probes_out = 0;
		tp->probes_tstamp_ms = 0;
		return;
	}
	if (!tp->probes_tstamp_ms) {
		tp->probes_tstamp_ms = stack_now_ms(tp->st);
	} else if (tp->user_timeout_ms &&
		   stack_now_ms(tp->st) - tp->probes_tstamp_ms >= tp->user_timeout_ms) {
		tcp_write_err(tp);
		return;
	}
	max_probes = tp->st->sysctl.ip.tcp_retries2;
	if (tp->orphan) {
		uint64_t rto = (uint64_t)tp->rto_ms << (tp->backoff < 20 ? tp->backoff : 20);
		bool alive = rto < TCP_RTO_MAX_MS;

		max_probes = tcp_orphan_retries(tp, alive);
		if (!alive && tp->backoff >= max_probes) {
			tcp_write_err(tp);
			return;
		}
	}
	if (tp->probes_out >= max_probes)
		tcp_write_err(tp);
	else
		tcp_send_probe0(tp);
}

/* Linux tcp_delack_timer_handler(). */
static void tcp_delack_timer(struct tcp_sock *tp)
{
	if (tp->state == TCP_CLOSE || tp->state == TCP_LISTEN)
		return;
	if (!(tp->ack.pending & ICSK_ACK_TIMER))
		return;
	tp->ack.pending &= (uint8_t)~ICSK_ACK_TIMER;
	if (tp->ack.pending & ICSK_ACK_SCHED) {
		if (tp->ack.pingpong < tp->st->sysctl.ip.tcp_pingpong_thresh) {
			uint32_t a = tp->ack.ato_ms << 1;

			tp->ack.ato_ms = a < tp->rto_ms ? a : tp->rto_ms;
		} else {
			tp->ack.pingpong = 0;
			tp->ack.ato_ms = TCP_ATO_MIN_MS;
		}
		tcp_send_ack(tp);
		MIB_INC(tp->st, TcpExtDelayedACKs);
	}
}

/* Linux tcp_keepalive_timer(). */
static void tcp_keepalive_timer(struct tcp_sock *tp)
{
	uint64_t now = stack_now_ms(tp->st), elapsed, when;

	if (tp->state == TCP_LISTEN)
		return;
	if (tp->state == TCP_FIN_WAIT2 && tp->orphan) {
		if (tp->linger2_s >= 0) {
			int64_t tmo = (int64_t)tcp_fin_time_ms(tp) - TCP_TIMEWAIT_LEN_MS;

			if (tmo > 0) {
				tcp_time_wait(tp, TCP_FIN_WAIT2, (uint32_t)tmo);
				return;
			}
		}
		tcp_send_active_reset(tp);
		tcp_done(tp);
		return;
	}
	if (!tp->keepalive_on || tp->state == TCP_CLOSE || tp->state == TCP_SYN_SENT)
		return;
	when = tcp_keepalive_time_ms(tp);
	if (tp->packets_out || tcp_send_head_pending(tp))
		goto resched;
	{
		uint64_t a = now - tp->ack.lrcvtime_ms, b = now - tp->last_ack_recv_ms;

		elapsed = a < b ? a : b;
	}
	if (elapsed >= when) {
		if ((tp->user_timeout_ms && elapsed >= tp->user_timeout_ms && tp->probes_out > 0) ||
		    (!tp->user_timeout_ms && tp->probes_out >= tcp_keepalive_probes(tp))) {
			tcp_send_active_reset(tp);
			tcp_write_err(tp);
			return;
		}
		MIB_INC(tp->st, TcpExtTCPKeepAlive);
		if (tcp_write_wakeup(tp) <= 0) {
			tp->probes_out++;
			when = tcp_keepalive_intvl_ms(tp);
		} else {
			when = TCP_RESOURCE_PROBE_MS;
		}
	} else {
		when = when - elapsed;
	}
resched:
	tcp_reset_keepalive_timer(tp, when);
}

static void tcp_timer_fire(void *arg)
{
	struct tcp_sock *tp = arg;
	uint64_t now = stack_now_ns(tp->st);

	tcp_hold(tp);
	if (tp->tev[TCP_TEV_DELACK] && tp->tev[TCP_TEV_DELACK] <= now) {
		tp->tev[TCP_TEV_DELACK] = 0;
		tcp_delack_timer(tp);
	}
	if (tp->tev[TCP_TEV_COMPACK] && tp->tev[TCP_TEV_COMPACK] <= now && !tp->zombie) {
		tp->tev[TCP_TEV_COMPACK] = 0;
		if (tp->compressed_ack) {
			tp->compressed_ack--;
			tcp_send_ack(tp);
		}
	}
	if (tp->tev[TCP_TEV_RETRANS] && tp->tev[TCP_TEV_RETRANS] <= now && !tp->zombie) {
		uint8_t what = tp->pending;

		tp->tev[TCP_TEV_RETRANS] = 0;
		/* Linux tcp_write_timer_handler(): the reorder and probe timers leave
		 * icsk_pending set while they run, so tcp_rearm_rto() re-arms the RTO for
		 * what is left of the head's RTO, not a full one */
		if (what != ICSK_TIME_REO_TIMEOUT && what != ICSK_TIME_LOSS_PROBE)
			tp->pending = 0;
		if (tp->state != TCP_CLOSE && tp->state != TCP_LISTEN) {
			switch (what) {
			case ICSK_TIME_REO_TIMEOUT:
				tcp_rack_reo_timeout(tp);
				break;
			case ICSK_TIME_LOSS_PROBE:
				tcp_send_loss_probe(tp);
				break;
			case ICSK_TIME_RETRANS:
				tcp_retransmit_timer(tp);
				break;
			case ICSK_TIME_PROBE0:
				tcp_probe_timer(tp);
				break;
			}
		} else {
			tp->pending = 0;
		}
	}
	if (tp->tev[TCP_TEV_KEEPALIVE] && tp->tev[TCP_TEV_KEEPALIVE] <= now && !tp->zombie) {
		tp->tev[TCP_TEV_KEEPALIVE] = 0;
		tcp_keepalive_timer(tp);
	}
	if (!tp->zombie)
		tcp_timer_update(tp);
	tcp_release(tp);
}

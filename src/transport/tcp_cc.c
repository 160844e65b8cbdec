/* Congestion control plumbing (Linux tcp_cong.c): the registry selected by
 * tcp_congestion_control / TCP_CONGESTION, slow start, additive increase, and Reno
 * (RFC 5681) as a selectable algorithm. */
#include <string.h>

#include "transport/tcp_int.h"

const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
	if (!name || !*name || !strcmp(name, "cubic"))
		return &tcp_cubic_ops;
	if (!strcmp(name, "reno"))
		return &tcp_reno_ops;
	return NULL;
}

/* RFC 5681 3.1 slow start, Linux tcp_slow_start(): returns the ACKed segments left over
 * once cwnd reached ssthresh. */
uint32_t tcp_slow_start(struct tcp_sock *tp, uint32_t acked)
{
	uint32_t cwnd = tp->snd_cwnd + acked;

	if (cwnd > tp->snd_ssthresh)
		cwnd = tp->snd_ssthresh;
	acked -= cwnd - tp->snd_cwnd;
	tp->snd_cwnd = cwnd < tp->snd_cwnd_clamp ? cwnd : tp->snd_cwnd_clamp;
	return acked;
}

/* Linux tcp_cong_avoid_ai(): one segment per w segments ACKed. */
void tcp_cong_avoid_ai(struct tcp_sock *tp, uint32_t w, uint32_t acked)
{
	if (tp->snd_cwnd_cnt >= w) {
		tp->snd_cwnd_cnt = 0;
		tp->snd_cwnd++;
	}
	tp->snd_cwnd_cnt += acked;
	if (tp->snd_cwnd_cnt >= w) {
		uint32_t delta = tp->snd_cwnd_cnt / w;

		tp->snd_cwnd_cnt -= delta * w;
		tp->snd_cwnd += delta;
	}
	if (tp->snd_cwnd > tp->snd_cwnd_clamp)
		tp->snd_cwnd = tp->snd_cwnd_clamp;
}

/* Linux tcp_cwnd_restart() (RFC 2861 / RFC 7661 style decay): after delta_ms of idle
 * time, halve cwnd once per RTO elapsed beyond the first, but not below the initial
 * window (or the current cwnd, when that is lower); ssthresh keeps 3/4 of the old cwnd. */
void tcp_cwnd_restart(struct tcp_sock *tp, int32_t delta_ms)
{
	uint32_t restart_cwnd = TCP_INIT_CWND;
	uint32_t cwnd = tp->snd_cwnd;

	if (tp->cc->cwnd_event)
		tp->cc->cwnd_event(tp, CA_EVENT_CWND_RESTART);
	tp->snd_ssthresh = tcp_current_ssthresh(tp);
	if (restart_cwnd > cwnd)
		restart_cwnd = cwnd;
	while ((delta_ms -= (int32_t)tp->rto_ms) > 0 && cwnd > restart_cwnd)
		cwnd >>= 1;
	tp->snd_cwnd = cwnd > restart_cwnd ? cwnd : restart_cwnd;
	tp->snd_cwnd_stamp_ms = stack_now_ms(tp->st);
	tp->snd_cwnd_used = 0;
}

/* Linux tcp_slow_start_after_idle_check(), called when new data is queued behind an
 * empty send queue (tcp_skb_entail): nothing in flight and no data sent for longer
 * than the RTO -> restart (net.ipv4.tcp_slow_start_after_idle, default 1). */
void tcp_slow_start_after_idle_check(struct tcp_sock *tp)
{
	int32_t delta;

	if (!tp->st->sysctl.ip.tcp_slow_start_after_idle || tp->packets_out)
		return;
	delta = (int32_t)(stack_now_ms(tp->st) - tp->lsndtime_ms);
	if (delta > (int32_t)tp->rto_ms)
		tcp_cwnd_restart(tp, delta);
}

void tcp_reno_cong_avoid(struct tcp_sock *tp, uint32_t ack, uint32_t acked)
{
	if (tp->snd_cwnd < tp->snd_ssthresh) {
		acked = tcp_slow_start(tp, acked);
		if (!acked)
			return;
	}
	tcp_cong_avoid_ai(tp, tp->snd_cwnd, acked);
}

uint32_t tcp_reno_ssthresh(struct tcp_sock *tp)
{
	uint32_t h = tp->snd_cwnd >> 1;

	return h > 2 ? h : 2;
}

uint32_t tcp_reno_undo_cwnd(struct tcp_sock *tp)
{
	return tp->snd_cwnd > tp->prior_cwnd ? tp->snd_cwnd : tp->prior_cwnd;
}

const struct tcp_cc_ops tcp_reno_ops = {
	.name = "reno",
	.ssthresh = tcp_reno_ssthresh,
	.cong_avoid = tcp_reno_cong_avoid,
	.undo_cwnd = tcp_reno_undo_cwnd,
};

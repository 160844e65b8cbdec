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

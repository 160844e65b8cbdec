/* CUBIC (RFC 9438) with HyStart, following Linux net/ipv4/tcp_cubic.c: the same
 * constants (beta 717/1024, C = 0.4 as bic_scale 41, fast convergence, TCP friendliness),
 * the same fixed-point cube root, and HyStart's ACK-train and delay detectors. Time is
 * the stack clock in ms (jiffies at HZ=1000) and us for RTT samples. */
#include <string.h>

#include "transport/tcp_int.h"

#define BICTCP_BETA_SCALE	1024
#define BICTCP_HZ		10
#define CUBIC_HZ		1000
#define HYSTART_ACK_TRAIN	1
#define HYSTART_DELAY		2
#define HYSTART_MIN_SAMPLES	8
#define HYSTART_DELAY_MIN	4000u
#define HYSTART_DELAY_MAX	16000u

static const int beta = 717;
static const int bic_scale = 41;
static const uint32_t hystart_low_window = 16;
static const uint32_t hystart_ack_delta_us = 2000;

struct bictcp {
	uint32_t cnt, last_max_cwnd, last_cwnd, last_time, bic_origin_point, bic_K, delay_min;
	uint32_t epoch_start, ack_cnt, tcp_cwnd;
	uint8_t sample_cnt, found;
	uint32_t round_start, end_seq, last_ack, curr_rtt;
};

_Static_assert(sizeof(struct bictcp) <= sizeof(((struct tcp_sock *)0)->cc_priv), "cc_priv too small");

static struct bictcp *ca_of(struct tcp_sock *tp)
{
	return (struct bictcp *)(void *)tp->cc_priv;
}

static uint32_t jiffies32(const struct tcp_sock *tp)
{
	return (uint32_t)stack_now_ms(tp->st);
}

static uint32_t clock_us(const struct tcp_sock *tp)
{
	return (uint32_t)tcp_now_us(tp->st);
}

static void bictcp_reset(struct bictcp *ca)
{
	memset(ca, 0, sizeof(*ca));
}

static void hystart_reset(struct tcp_sock *tp)
{
	struct bictcp *ca = ca_of(tp);

	ca->round_start = ca->last_ack = clock_us(tp);
	ca->end_seq = tp->snd_nxt;
	ca->curr_rtt = ~0u;
	ca->sample_cnt = 0;
}

static void cubic_init(struct tcp_sock *tp)
{
	bictcp_reset(ca_of(tp));
	hystart_reset(tp);
}

static void cubic_cwnd_event(struct tcp_sock *tp, int ev)
{
	if (ev == CA_EVENT_TX_START) {
		struct bictcp *ca = ca_of(tp);
		uint32_t now = jiffies32(tp);
		int32_t delta = (int32_t)(now - (uint32_t)tp->lsndtime_ms);

		/* application-limited for a while: shift the epoch to stay on the curve */
		if (ca->epoch_start && delta > 0) {
			ca->epoch_start += (uint32_t)delta;
			if (after(ca->epoch_start, now))
				ca->epoch_start = now;
		}
	}
}

static int fls64_(uint64_t x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

/* Linux cubic_root(): table lookup + one Newton-Raphson step. */
static uint32_t cubic_root(uint64_t a)
{
	static const uint8_t v[] = {
		0,   54,  54,  54,  118, 118, 118, 118, 123, 129, 134, 138, 143, 147, 151, 156,
		157, 161, 164, 168, 170, 173, 176, 179, 181, 185, 187, 190, 192, 194, 197, 199,
		200, 202, 204, 206, 209, 211, 213, 215, 217, 219, 221, 222, 224, 225, 227, 229,
		231, 232, 234, 236, 237, 239, 240, 242, 244, 245, 246, 248, 250, 251, 252, 254,
	};
	uint32_t x, b, shift;

	b = (uint32_t)fls64_(a);
	if (b < 7)
		return ((uint32_t)v[(uint32_t)a] + 35) >> 6;
	b = ((b * 84) >> 8) - 1;
	shift = (uint32_t)(a >> (b * 3));
	x = ((uint32_t)(((uint32_t)v[shift] + 10) << b)) >> 6;
	x = (2 * x + (uint32_t)(a / ((uint64_t)x * (uint64_t)(x - 1))));
	x = ((x * 341) >> 10);
	return x;
}

static void bictcp_update(struct tcp_sock *tp, struct bictcp *ca, uint32_t cwnd, uint32_t acked)
{
	uint32_t beta_scale = 8 * (BICTCP_BETA_SCALE + beta) / 3 / (BICTCP_BETA_SCALE - beta);
	uint64_t cube_rtt_scale = (uint64_t)bic_scale * 10;
	uint64_t cube_factor = (1ull << (10 + 3 * BICTCP_HZ)) / ((uint64_t)bic_scale * 10);
	uint32_t now = jiffies32(tp), delta, bic_target, max_cnt;
	uint64_t offs, t;

	ca->ack_cnt += acked;
	if (ca->last_cwnd == cwnd && (int32_t)(now - ca->last_time) <= CUBIC_HZ / 32)
		return;
	if (ca->epoch_start && now == ca->last_time)
		goto tcp_friendliness;
	ca->last_cwnd = cwnd;
	ca->last_time = now;
	if (ca->epoch_start == 0) {
		ca->epoch_start = now ? now : 1;
		ca->ack_cnt = acked;
		ca->tcp_cwnd = cwnd;
		if (ca->last_max_cwnd <= cwnd) {
			ca->bic_K = 0;
			ca->bic_origin_point = cwnd;
		} else {
			ca->bic_K = cubic_root(cube_factor * (ca->last_max_cwnd - cwnd));
			ca->bic_origin_point = ca->last_max_cwnd;
		}
	}
	t = (uint64_t)(int32_t)(now - ca->epoch_start);
	t += (ca->delay_min + 999) / 1000;	/* usecs_to_jiffies */
	t <<= BICTCP_HZ;
	t /= CUBIC_HZ;
	offs = t < ca->bic_K ? ca->bic_K - t : t - ca->bic_K;
	delta = (uint32_t)((cube_rtt_scale * offs * offs * offs) >> (10 + 3 * BICTCP_HZ));
	bic_target = t < ca->bic_K ? ca->bic_origin_point - delta : ca->bic_origin_point + delta;
	if (bic_target > cwnd)
		ca->cnt = cwnd / (bic_target - cwnd);
	else
		ca->cnt = 100 * cwnd;
	if (ca->last_max_cwnd == 0 && ca->cnt > 20)
		ca->cnt = 20;
tcp_friendliness:
	delta = (cwnd * beta_scale) >> 3;
	while (delta && ca->ack_cnt > delta) {
		ca->ack_cnt -= delta;
		ca->tcp_cwnd++;
	}
	if (ca->tcp_cwnd > cwnd) {
		delta = ca->tcp_cwnd - cwnd;
		max_cnt = cwnd / delta;
		if (ca->cnt > max_cnt)
			ca->cnt = max_cnt;
	}
	if (ca->cnt < 2)
		ca->cnt = 2;
}

static void cubic_cong_avoid(struct tcp_sock *tp, uint32_t ack, uint32_t acked)
{
	struct bictcp *ca = ca_of(tp);

	if (tp->snd_cwnd < tp->snd_ssthresh) {
		acked = tcp_slow_start(tp, acked);
		if (!acked)
			return;
	}
	bictcp_update(tp, ca, tp->snd_cwnd, acked);
	tcp_cong_avoid_ai(tp, ca->cnt, acked);
}

static uint32_t cubic_ssthresh(struct tcp_sock *tp)
{
	struct bictcp *ca = ca_of(tp);
	uint32_t cwnd = tp->snd_cwnd, s;

	ca->epoch_start = 0;
	if (cwnd < ca->last_max_cwnd)	/* fast convergence */
		ca->last_max_cwnd = (cwnd * (BICTCP_BETA_SCALE + beta)) / (2 * BICTCP_BETA_SCALE);
	else
		ca->last_max_cwnd = cwnd;
	s = (cwnd * beta) / BICTCP_BETA_SCALE;
	return s > 2 ? s : 2;
}

static void cubic_state(struct tcp_sock *tp, uint8_t new_state)
{
	if (new_state == TCP_CA_Loss) {
		bictcp_reset(ca_of(tp));
		hystart_reset(tp);
	}
}

/* Linux hystart_ack_delay(): a cushion for TSO/GRO aggregation, the time 4 GSO
 * super-packets take at the pacing rate, at most 1 ms. The pacing rate is
 * tcp_update_pacing_rate()'s: 200 % of mss * max(cwnd, packets_out) / srtt in slow start
 * (below ssthresh / 2), 120 % after, unbounded (so no cushion) before an RTT sample.
 * sk_gso_max_size is the same on every route: sk_setup_caps() gives TCP software GSO
 * with 65536 (GSO_LEGACY_MAX_SIZE) minus MAX_TCP_HEADER + 1. */
static uint32_t hystart_ack_delay(const struct tcp_sock *tp)
{
	const uint64_t gso_max_size = 65536 - 321;
	uint32_t cwnd = tp->snd_cwnd > tp->packets_out ? tp->snd_cwnd : tp->packets_out;
	uint64_t rate, delay;

	if (!tp->srtt_us)
		return 0;
	/* bytes per second, in Linux's order of operations (srtt_us is 8 times the RTT) */
	rate = (uint64_t)tp->mss_cache * ((1000000 / 100) << 3);
	rate *= tp->snd_cwnd < tp->snd_ssthresh / 2 ? 200 : 120;
	rate = rate * cwnd / tp->srtt_us;
	if (!rate)
		return 0;
	delay = gso_max_size * 4 * 1000000ull / rate;
	return delay < 1000 ? (uint32_t)delay : 1000;
}

static void hystart_update(struct tcp_sock *tp, uint32_t delay)
{
	struct bictcp *ca = ca_of(tp);
	uint32_t threshold;

	if (after(tp->snd_una, ca->end_seq))
		hystart_reset(tp);
	if (tp->snd_cwnd < hystart_low_window)
		return;
	{
		uint32_t now = clock_us(tp);

		/* ACK train: ACKs closely spaced for longer than half the min delay */
		if ((int32_t)(now - ca->last_ack) <= (int32_t)hystart_ack_delta_us) {
			ca->last_ack = now;
			/* Linux: delay_min plus hystart_ack_delay(), halved because nothing
			 * paces this socket (sk_pacing_status SK_PACING_NONE: no fq qdisc) */
			threshold = (ca->delay_min + hystart_ack_delay(tp)) >> 1;
			if ((int32_t)(now - ca->round_start) > (int32_t)threshold) {
				ca->found = 1;
				MIB_INC(tp->st, TcpExtTCPHystartTrainDetect);
				MIB_ADD(tp->st, TcpExtTCPHystartTrainCwnd, tp->snd_cwnd);
				tp->snd_ssthresh = tp->snd_cwnd;
			}
		}
	}
	/* delay increase */
	if (ca->curr_rtt > delay)
		ca->curr_rtt = delay;
	if (ca->sample_cnt < HYSTART_MIN_SAMPLES) {
		ca->sample_cnt++;
	} else {
		uint32_t th = ca->delay_min >> 3;

		if (th < HYSTART_DELAY_MIN)
			th = HYSTART_DELAY_MIN;
		if (th > HYSTART_DELAY_MAX)
			th = HYSTART_DELAY_MAX;
		if (ca->curr_rtt > ca->delay_min + th) {
			ca->found = 1;
			MIB_INC(tp->st, TcpExtTCPHystartDelayDetect);
			MIB_ADD(tp->st, TcpExtTCPHystartDelayCwnd, tp->snd_cwnd);
			tp->snd_ssthresh = tp->snd_cwnd;
		}
	}
}

static void cubic_acked(struct tcp_sock *tp, uint32_t acked, int64_t rtt_us)
{
	struct bictcp *ca = ca_of(tp);
	uint32_t delay;

	if (rtt_us < 0)
		return;
	if (ca->epoch_start && (int32_t)(jiffies32(tp) - ca->epoch_start) < CUBIC_HZ)
		return;
	delay = rtt_us ? (uint32_t)rtt_us : 1;
	if (ca->delay_min == 0 || ca->delay_min > delay)
		ca->delay_min = delay;
	if (!ca->found && tp->snd_cwnd < tp->snd_ssthresh)
		hystart_update(tp, delay);
}

const struct tcp_cc_ops tcp_cubic_ops = {
	.name = "cubic",
	.init = cubic_init,
	.ssthresh = cubic_ssthresh,
	.cong_avoid = cubic_cong_avoid,
	.set_state = cubic_state,
	.cwnd_event = cubic_cwnd_event,
	.pkts_acked = cubic_acked,
	.undo_cwnd = tcp_reno_undo_cwnd,
};

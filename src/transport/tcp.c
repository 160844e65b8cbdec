/* TCP: per-stack state, socket life (RFC 9293 3.3.2 state machine through one door),
 * connect/listen/accept, the send ring and the receive queue as the socket layer sees
 * them, shutdown/close. Input is tcp_input.c, output tcp_output.c, timers tcp_timer.c,
 * options tcp_opts.c. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ip/ip.h"
#include "transport/tcp_int.h"

/* ---- Per-stack state: st->tcp, created by stack_create() (tcp_init) and freed by
 * stack_destroy() (tcp_fini). ---- */

static void ring_block_free(uint8_t *b, uint32_t cap);

static const struct ip_proto_ops tcp_proto_ops = {
	.input = tcp_v4_rcv,
	.err = tcp_v4_err,
};

/* While the sysctl table is a placeholder (every leaf reads 0), use Linux's
 * fresh-namespace defaults for the TCP leaves. Dead once the table fills them. */
static void tcp_sysctl_defaults(struct ips_stack *st)
{
	struct ipv4_sysctl *s = &st->sysctl.ip;

	if (s->tcp_rmem[1])
		return;
	s->tcp_rmem[0] = 4096; s->tcp_rmem[1] = 131072; s->tcp_rmem[2] = 6291456;
	s->tcp_wmem[0] = 4096; s->tcp_wmem[1] = 16384; s->tcp_wmem[2] = 4194304;
	s->tcp_timestamps = 1; s->tcp_window_scaling = 1; s->tcp_sack = 1; s->tcp_dsack = 1;
	s->tcp_ecn = 2; s->tcp_ecn_fallback = 1;
	s->tcp_syn_retries = 6; s->tcp_synack_retries = 5;
	s->tcp_retries1 = 3; s->tcp_retries2 = 15; s->tcp_orphan_retries = 0;
	s->tcp_fin_timeout = 60;
	s->tcp_keepalive_time = 7200; s->tcp_keepalive_intvl = 75; s->tcp_keepalive_probes = 9;
	s->tcp_syncookies = 1; s->tcp_max_syn_backlog = 4096;
	s->tcp_challenge_ack_limit = 0x7fffffff; s->tcp_invalid_ratelimit = 500;
	s->tcp_reordering = 3; s->tcp_max_reordering = 300; s->tcp_recovery = 1;
	s->tcp_early_retrans = 3; s->tcp_frto = 2;
	s->tcp_slow_start_after_idle = 1; s->tcp_moderate_rcvbuf = 1;
	s->tcp_adv_win_scale = 1; s->tcp_app_win = 31;
	s->tcp_base_mss = 1024; s->tcp_min_snd_mss = 48; s->tcp_mtu_probe_floor = 48;
	s->tcp_notsent_lowat = 0xffffffffu;
	s->tcp_tw_reuse = 2; s->tcp_tw_reuse_delay = 1000; s->tcp_max_tw_buckets = 262144;
	s->tcp_rto_min_us = 200000; s->tcp_rto_max_ms = 120000;
	s->tcp_min_rtt_wlen = 300; s->tcp_pingpong_thresh = 1;
	s->tcp_autocorking = 1; s->tcp_limit_output_bytes = 4194304;
	s->tcp_retrans_collapse = 1;
	s->tcp_syn_linear_timeouts = 4;
	s->tcp_comp_sack_delay_ns = 1000000; s->tcp_comp_sack_nr = 44;
	s->tcp_comp_sack_slack_ns = 100000;
	if (!s->route_min_adv_mss)
		s->route_min_adv_mss = 256;
	if (!s->tcp_congestion_control[0])
		strcpy(s->tcp_congestion_control, "cubic");
}

int tcp_init(struct ips_stack *st)
{
	struct tcp_state *ts;
	int err;

	if (st->tcp)
		return 0;
	ts = calloc(1, sizeof(*ts));
	if (!ts)
		return -ENOMEM;
	ts->st = st;
	err = tcp_hash_init(ts);
	if (err < 0) {
		free(ts);
		return err;
	}
	tcp_sysctl_defaults(st);
	st->tcp = ts;
	/* /proc/net/snmp constants */
	st->mib.v[MIB_TcpRtoAlgorithm] = 1;
	st->mib.v[MIB_TcpRtoMin] = TCP_RTO_MIN_MS;
	st->mib.v[MIB_TcpRtoMax] = TCP_RTO_MAX_MS;
	st->mib.v[MIB_TcpMaxConn] = (uint64_t)-1;
	return ip4_proto_register(st, IPPROTO_TCP, &tcp_proto_ops);
}

void tcp_fini(struct ips_stack *st)
{
	struct tcp_state *ts = tcp_state_of(st);

	if (!ts)
		return;
	/* The stack is going away (Linux: the namespace exits): nothing is sent. Listeners
	 * let go of their queues first -- requests freed, children unlinked -- so that no
	 * child is freed while an accept queue still points at it (ts->all holds children
	 * ahead of their listener) and tcp_listen_flush() does not abort them with RSTs. */
	for (struct tcp_sock *tp = ts->all; tp; tp = tp->all_next) {
		struct tcp_listen_q *q = tp->lq;

		if (!q)
			continue;
		while (q->syn_head)
			tcp_req_free(ts, q->syn_head);
		for (struct tcp_sock *c = q->acc_head; c; c = c->acc_next) {
			c->in_accept_q = false;
			c->parent = NULL;
		}
		free(q);
		tp->lq = NULL;
	}
	while (ts->all)
		tcp_sock_destroy(ts->all);
	tcp_hash_fini(ts);	/* frees time-waits */
	st->tcp = NULL;
	free(ts);
}

/* ---- Socket objects ---- */

struct tcp_sock *tcp_sock_alloc(struct ips_stack *st)
{
	struct tcp_state *ts = tcp_state_of(st);
	struct ipv4_sysctl *s = &st->sysctl.ip;
	struct tcp_sock *tp;

	if (!ts)
		return NULL;
	tp = calloc(1, sizeof(*tp));
	if (!tp)
		return NULL;
	tp->st = st;
	tp->h.kind = TCP_HK_SOCK;
	tp->state = TCP_CLOSE;
	tp->rto_ms = TCP_TIMEOUT_INIT_MS;
	tp->mdev_us = TCP_TIMEOUT_INIT_MS * 1000;
	tp->rttvar_us = tp->mdev_us;
	tp->mdev_max_us = tp->mdev_us;
	tp->min_rtt_us = UINT32_MAX;
	tp->snd_cwnd = TCP_INIT_CWND;
	tp->snd_ssthresh = 0x7fffffff;	/* TCP_INFINITE_SSTHRESH */
	tp->snd_cwnd_clamp = ~0u;
	tp->mss_cache = TCP_MSS_DEFAULT;
	tp->mss_clamp = TCP_MSS_DEFAULT;
	tp->tcp_header_len = WIRE_TCP_HLEN;
	tp->reordering = (uint32_t)s->tcp_reordering;
	tp->rack.reo_wnd_steps = 1;
	tp->rcvbuf = (uint32_t)s->tcp_rmem[1];
	tp->scaling_ratio = TCP_DEFAULT_SCALING_RATIO;
	tp->sndbuf = (uint32_t)s->tcp_wmem[1];
	tp->pmtudisc = IP_PMTUDISC_WANT;
	tp->rcvlowat = 1;
	pkb_queue_init(&tp->rcvq);
	pkb_queue_init(&tp->ofoq);
	tcp_timer_init(tp);
	tp->cc = tcp_cc_find(s->tcp_congestion_control);
	if (!tp->cc)
		tp->cc = &tcp_cubic_ops;
	tp->all_next = ts->all;
	if (ts->all)
		ts->all->all_prev = tp;
	ts->all = tp;
	ts->nsocks++;
	return tp;
}

struct tcp_sock *tcp_sock_new(struct ips_stack *st)
{
	if (tcp_init(st) < 0)
		return NULL;
	return tcp_sock_alloc(st);
}

void tcp_sock_set_wake(struct tcp_sock *tp, const struct tcp_wake *w)
{
	tp->wake = w ? *w : (struct tcp_wake){ 0 };
}

static void tcp_purge_rcv(struct tcp_sock *tp)
{
	pkb_queue_purge(&tp->rcvq);
	pkb_queue_purge(&tp->ofoq);
	tp->rmem_alloc = 0;
	tp->num_sacks = 0;
}

/* Free everything; the socket must be unhashed or is unhashed here. */
void tcp_sock_destroy(struct tcp_sock *tp)
{
	struct tcp_state *ts = tcp_state_of(tp->st);

	tcp_clear_xmit_timers(tp);
	stack_timer_cancel(tp->st, &tp->timer);
	if (tp->state == TCP_LISTEN || tp->lq) {
		tcp_listen_unhash(ts, tp);
		tcp_listen_flush(tp);
	}
	if (tp->h.pprev)
		tcp_ehash_remove(ts, &tp->h);
	if (tp->b.tb)
		tcp_bnode_put(ts, &tp->b);
	tcp_rtx_purge(tp);
	tcp_purge_rcv(tp);
	ring_block_free(tp->sbuf, tp->sbuf_cap);
	ts->ring_bytes -= tp->sbuf_cap;
	if (tp->all_prev)
		tp->all_prev->all_next = tp->all_next;
	else
		ts->all = tp->all_next;
	if (tp->all_next)
		tp->all_next->all_prev = tp->all_prev;
	ts->nsocks--;
	free(tp->ip_opt);
	free(tp);
}

void tcp_sock_wake(struct tcp_sock *tp)
{
	if (tp->in_accept_q && tp->parent) {
		tcp_sock_wake(tp->parent);
		return;
	}
	if (tp->wake.wake)
		tp->wake.wake(tp->wake.arg);
}

static bool tcp_state_is_estab(int s)
{
	return s == TCP_ESTABLISHED || s == TCP_CLOSE_WAIT;
}

/* Every state change goes through here (RFC 9293 3.3.2), so that counters, hashing and
 * wake-ups are never missed: Linux tcp_set_state(). */
void tcp_set_state(struct tcp_sock *tp, int to)
{
	struct ips_stack *st = tp->st;
	int from = tp->state;

	if (from == to)
		return;
	if (tcp_state_is_estab(to) && !tcp_state_is_estab(from))
		MIB_INC(st, TcpCurrEstab);
	else if (!tcp_state_is_estab(to) && tcp_state_is_estab(from))
		MIB_DEC(st, TcpCurrEstab);
	if (to == TCP_CLOSE) {
		if (tcp_state_is_estab(from))
			MIB_INC(st, TcpEstabResets);
		if (from == TCP_SYN_SENT || from == TCP_SYN_RECV)
			MIB_INC(st, TcpAttemptFails);
		if (tp->h.pprev)
			tcp_ehash_remove(tcp_state_of(st), &tp->h);
		/* A port taken implicitly (connect without bind) goes back now. */
		if (tp->b.tb && !tp->userlocks_port)
			tcp_bnode_put(tcp_state_of(st), &tp->b);
	}
	if (to == TCP_ESTABLISHED)
		tp->ever_connected = true;
	tp->state = (uint8_t)to;
}

/* Linux tcp_done(): the connection is over. */
void tcp_done(struct tcp_sock *tp)
{
	tcp_set_state(tp, TCP_CLOSE);
	tcp_clear_xmit_timers(tp);
	tp->shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
	if (tp->orphan) {
		if (tp->busy)
			tp->zombie = true;	/* freed by tcp_release() */
		else
			tcp_sock_destroy(tp);
		return;
	}
	tcp_sock_wake(tp);
}

/* Input and timer code hold the socket so that a transition that frees an orphan
 * (tcp_done, time-wait) cannot pull it from under them. */
void tcp_hold(struct tcp_sock *tp)
{
	tp->busy++;
}

void tcp_release(struct tcp_sock *tp)
{
	if (--tp->busy == 0 && tp->zombie)
		tcp_sock_destroy(tp);
}

/* A valid RST arrived (RFC 9293 3.10.7.3, Linux tcp_reset()). */
void tcp_reset(struct tcp_sock *tp)
{
	switch (tp->state) {
	case TCP_SYN_SENT:
		tp->err = ECONNREFUSED;
		break;
	case TCP_CLOSE_WAIT:
		tp->err = EPIPE;
		break;
	case TCP_CLOSE:
		return;
	default:
		tp->err = ECONNRESET;
	}
	tcp_rtx_purge(tp);
	tcp_done(tp);
}

/* Retransmissions ran out (Linux tcp_write_err()). */
void tcp_write_err(struct tcp_sock *tp)
{
	tp->err = tp->err_soft ? tp->err_soft : ETIMEDOUT;
	tcp_rtx_purge(tp);
	tcp_done(tp);
	MIB_INC(tp->st, TcpExtTCPAbortOnTimeout);
}

/* ---- Buffer space (Linux tcp_win_from_space/tcp_space_from_win: the window a buffer
 * holds is scaling_ratio/256 of it; 1/2 until tcp_measure_rcv_mss() learns the ratio of
 * payload to buffer size from a full-sized segment) */

uint32_t tcp_win_from_space(const struct tcp_sock *tp, int space)
{
	return space <= 0 ? 0 : (uint32_t)(((uint64_t)space * tp->scaling_ratio) >> TCP_RMEM_TO_WIN_SCALE);
}

uint32_t tcp_space_from_win(const struct tcp_sock *tp, uint32_t win)
{
	return (uint32_t)(((uint64_t)win << TCP_RMEM_TO_WIN_SCALE) / tp->scaling_ratio);
}

int tcp_full_space(const struct tcp_sock *tp)
{
	return (int)tcp_win_from_space(tp, (int)tp->rcvbuf);
}

int tcp_space(const struct tcp_sock *tp)
{
	return (int)tcp_win_from_space(tp, (int)tp->rcvbuf - (int)tp->rmem_alloc);
}

/* Linux tcp_set_window_clamp() (for a non-zero clamp): a lower clamp lowers
 * rcv_ssthresh, a higher one lets it reach the current window. */
void tcp_set_window_clamp(struct tcp_sock *tp, uint32_t val)
{
	uint32_t old = tp->window_clamp;

	if (val < TCP_SOCK_MIN_RCVBUF / 2)
		val = TCP_SOCK_MIN_RCVBUF / 2;
	if (tp->user_window_clamp && val > tp->user_window_clamp)
		val = tp->user_window_clamp;
	tp->window_clamp = val;
	if (val < old) {
		if (tp->rcv_ssthresh > val)
			tp->rcv_ssthresh = val;
	} else {
		uint32_t n = tp->rcv_wnd < val ? tp->rcv_wnd : val;

		if (n > tp->rcv_ssthresh)
			tp->rcv_ssthresh = n;
	}
}

/* Linux tcp_select_initial_window(). */
void tcp_select_initial_window(struct tcp_sock *tp, int space, uint32_t mss, uint32_t *rcv_wnd,
			       uint32_t *clamp, bool wscale_ok, uint8_t *rcv_wscale)
{
	struct ipv4_sysctl *s = &tp->st->sysctl.ip;

	if (space < 0)
		space = 0;
	if (*clamp == 0)
		*clamp = 65535u << WIRE_TCP_MAX_WSCALE;
	if ((uint32_t)space > *clamp)
		space = (int)*clamp;
	if (space > (int)mss)
		space = (int)((uint32_t)space / mss * mss);
	/* The whole space (a SYN's window field says at most 65535; the first scaled
	 * window offers the rest), 32767 with tcp_workaround_signed_windows. */
	if (s->tcp_workaround_signed_windows)
		*rcv_wnd = (uint32_t)(space < 32767 ? space : 32767);
	else
		*rcv_wnd = (uint32_t)space;
	*rcv_wscale = 0;
	if (wscale_ok) {
		/* Set window scaling on max possible window: ilog2(max(tcp_rmem[2],
		 * net.core.rmem_max, window_clamp)) - 15, clamped to 0..14. */
		uint64_t sp = (uint64_t)(s->tcp_rmem[2] > 212992 ? s->tcp_rmem[2] : 212992);
		int ws = -15;

		if (sp < (uint64_t)space)
			sp = (uint64_t)space;
		if (sp > *clamp)
			sp = *clamp;
		for (uint64_t v = sp; v >= 2; v >>= 1)
			ws++;
		if (ws < 0)
			ws = 0;
		if (ws > WIRE_TCP_MAX_WSCALE)
			ws = WIRE_TCP_MAX_WSCALE;
		*rcv_wscale = (uint8_t)ws;
	}
	/* Set the clamp no higher than max representable value */
	if (*clamp > (65535u << *rcv_wscale))
		*clamp = 65535u << *rcv_wscale;
}

/* Send buffer accounting in Linux's units. SO_SNDBUF bounds sk_wmem_queued, the
 * truesize of the skbs in the write and retransmit queues: each holds up to a size
 * goal of payload plus TCP_SKB_SND_OVERHEAD (an fclone sk_buff with a MAX_TCP_HEADER
 * head from the small-head cache: 832 on x86-64). The ring holds payload only, so
 * ipstack charges the ring's bytes as skbs of one MSS (Linux on a device without TSO,
 * as the script harness's and kreplay's TUN). */
#define TCP_SKB_SND_OVERHEAD 832u
#define TCP_MAX_TCP_HEADER 192u		/* L1_CACHE_ALIGN(128 + MAX_HEADER), 6.18 here */
#define TCP_SHINFO_SIZE 320u		/* SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) */

static uint32_t tcp_size_goal(const struct tcp_sock *tp)
{
	return tp->mss_cache ? tp->mss_cache : TCP_MSS_DEFAULT;
}

/* sk_wmem_queued of the ring's bytes */
static uint64_t tcp_wmem_queued(const struct tcp_sock *tp)
{
	uint32_t used = tp->write_seq - tp->sbuf_seq, goal = tcp_size_goal(tp);

	return used + (uint64_t)((used + goal - 1) / goal) * TCP_SKB_SND_OVERHEAD;
}

/* Linux tcp_sndbuf_expand(): room for two congestion windows (cwnd, at least IW10 and
 * reordering + 1) of full-sized non-GSO skbs, each a power-of-two head of MSS + headers
 * plus its sk_buff (2304 for an MSS up to 1536), within tcp_wmem[2]; only grows. */
void tcp_sndbuf_expand(struct tcp_sock *tp)
{
	struct ipv4_sysctl *s = &tp->st->sysctl.ip;
	uint32_t nr = tp->snd_cwnd > TCP_INIT_CWND ? tp->snd_cwnd : TCP_INIT_CWND;
	uint32_t mss = tp->mss_clamp > tp->mss_cache ? tp->mss_clamp : tp->mss_cache;
	uint64_t per_mss = 1, want;

	if (tp->sndbuf_locked)
		return;
	if (nr < tp->reordering + 1)
		nr = tp->reordering + 1;
	while (per_mss < (uint64_t)mss + TCP_MAX_TCP_HEADER + TCP_SHINFO_SIZE)
		per_mss <<= 1;
	per_mss += TCP_SKB_OVERHEAD;
	want = 2 * nr * per_mss;
	if (want > (uint64_t)s->tcp_wmem[2])
		want = (uint64_t)s->tcp_wmem[2];
	if (want > tp->sndbuf)
		tp->sndbuf = (uint32_t)want;
}

/* Linux tcp_init_buffer_space(). */
void tcp_init_buffer_space(struct tcp_sock *tp)
{
	struct ipv4_sysctl *s = &tp->st->sysctl.ip;
	uint32_t maxwin;

	tcp_sndbuf_expand(tp);
	tp->rcvq_space.time_us = tcp_now_us(tp->st);
	tp->rcvq_space.seq = tp->copied_seq;
	maxwin = (uint32_t)tcp_full_space(tp);
	if (tp->window_clamp >= maxwin) {
		tp->window_clamp = maxwin;
		if (s->tcp_app_win && s->tcp_app_win < 31 && maxwin > 4 * tp->advmss) {
			uint32_t w = maxwin - (maxwin >> s->tcp_app_win);

			tp->window_clamp = w > 4 * tp->advmss ? w : 4 * tp->advmss;
		}
	}
	/* Force reservation of one segment. */
	if (s->tcp_app_win && tp->window_clamp > 2 * tp->advmss &&
	    tp->window_clamp + tp->advmss > maxwin)
		tp->window_clamp = maxwin - tp->advmss > 2 * tp->advmss ? maxwin - tp->advmss
									 : 2 * tp->advmss;
	if (tp->user_window_clamp && tp->window_clamp > tp->user_window_clamp)
		tp->window_clamp = tp->user_window_clamp;
	if (tp->rcv_ssthresh > tp->window_clamp)
		tp->rcv_ssthresh = tp->window_clamp;
	tp->rcvq_space.space = tp->rcv_ssthresh < tp->rcv_wnd ? tp->rcv_ssthresh : tp->rcv_wnd;
	if (tp->rcvq_space.space > TCP_INIT_CWND * tp->advmss)
		tp->rcvq_space.space = TCP_INIT_CWND * tp->advmss;
	tp->snd_cwnd_stamp_ms = stack_now_ms(tp->st);
}

/* Linux 6.18 tcp_rcvbuf_grow(): rcvq_space.space becomes newval (what the application
 * read in the last receiver RTT); unless the buffer is locked (SO_RCVBUF) or
 * tcp_moderate_rcvbuf is 0, the buffer grows to hold twice that (DRS is one RTT late),
 * plus twice the growth over the previous RTT (the sender in slow start doubles its
 * rate), plus what the out-of-order queue holds beyond rcv_nxt, in truesize units
 * (tcp_space_from_win), up to tcp_rmem[2]; the window clamp follows. Never shrinks. */
void tcp_rcvbuf_grow(struct tcp_sock *tp, uint32_t newval)
{
	struct ipv4_sysctl *s = &tp->st->sysctl.ip;
	uint32_t oldval = tp->rcvq_space.space, rcvwin, rcvbuf;

	tp->rcvq_space.space = newval;
	if (!s->tcp_moderate_rcvbuf || tp->rcvbuf_locked)
		return;
	rcvwin = newval << 1;
	if (oldval && newval > oldval)
		rcvwin += (uint32_t)(((uint64_t)rcvwin * (newval - oldval) / oldval) << 1);
	if (tp->ofoq.tail)
		rcvwin += TCP_RCB(tp->ofoq.tail)->end_seq + TCP_RCB(tp->ofoq.tail)->fin - tp->rcv_nxt;
	rcvbuf = tcp_space_from_win(tp, rcvwin);
	if (rcvbuf > (uint32_t)s->tcp_rmem[2])
		rcvbuf = (uint32_t)s->tcp_rmem[2];
	if (rcvbuf > tp->rcvbuf) {
		tp->rcvbuf = rcvbuf;
		tp->window_clamp = tcp_win_from_space(tp, (int)rcvbuf);
		if (tp->user_window_clamp && tp->window_clamp > tp->user_window_clamp)
			tp->window_clamp = tp->user_window_clamp;
	}
}

/* Linux tcp_rcv_space_adjust() (dynamic right-sizing), after each chunk the application
 * reads: once per receiver RTT (none without an estimate), what it read in that time,
 * less what still waits in the receive queue, becomes the new rcvq_space.space when it
 * is more than before, and the buffer grows with it (tcp_rcvbuf_grow). */
void tcp_rcv_space_adjust(struct tcp_sock *tp)
{
	uint64_t now = tcp_now_us(tp->st);
	int32_t copied;

	if (!tp->rcv_rtt_us || now - tp->rcvq_space.time_us < (tp->rcv_rtt_us >> 3))
		return;
	copied = (int32_t)(tp->copied_seq - tp->rcvq_space.seq) -
		 (int32_t)(tp->rcv_nxt - tp->copied_seq);
	if (copied > (int32_t)tp->rcvq_space.space)
		tcp_rcvbuf_grow(tp, (uint32_t)copied);
	tp->rcvq_space.seq = tp->copied_seq;
	tp->rcvq_space.time_us = now;
}

/* ---- The send ring: bytes [sbuf_seq, write_seq) ---- */

/* Rings start at TCP_RING_MIN bytes, and a connection gives its ring back whenever it
 * empties (idle connections hold none), so a request/response connection takes one and
 * frees it for every answer. A per-thread cache of free blocks of that size, as pkb.c's
 * buffer cache, keeps malloc off that path: glibc consolidates its fast bins before
 * every allocation of this size (~6 % of tcp_rr_64's CPU, docs/performance.md). The
 * blocks are plain memory, not any stack's (a ring's bytes are accounted while a socket
 * holds it); a thread's cache is freed when it exits and reachable from its TLS until
 * then. */
#define TCP_RING_MIN 4096
#define TCP_RING_CACHE_MAX 16

struct ring_cache {
	void *head;		/* blocks linked through their first bytes */
	unsigned n;
};

static __thread struct ring_cache ring_cache __attribute__((tls_model("initial-exec")));
static pthread_key_t ring_cache_key;
static pthread_once_t ring_cache_once = PTHREAD_ONCE_INIT;

static void ring_cache_destroy(void *arg)
{
	struct ring_cache *c = arg;

	while (c->head) {
		void *next;

		memcpy(&next, c->head, sizeof(next));
		free(c->head);
		c->head = next;
	}
	c->n = 0;
}

static void ring_cache_key_init(void)
{
	if (pthread_key_create(&ring_cache_key, ring_cache_destroy) != 0)
		abort();
}

static uint8_t *ring_block_alloc(uint32_t cap)
{
	void *b = ring_cache.head;

	if (cap != TCP_RING_MIN || !b)
		return malloc(cap);
	memcpy(&ring_cache.head, b, sizeof(void *));
	ring_cache.n--;
	return b;
}

static void ring_block_free(uint8_t *b, uint32_t cap)
{
	if (!b)
		return;
	if (cap != TCP_RING_MIN || ring_cache.n >= TCP_RING_CACHE_MAX) {
		free(b);
		return;
	}
	if (ring_cache.n == 0 && !ring_cache.head) {
		/* First use in this thread: make sure the destructor sees the cache. */
		pthread_once(&ring_cache_once, ring_cache_key_init);
		if (!pthread_getspecific(ring_cache_key))
			pthread_setspecific(ring_cache_key, &ring_cache);
	}
	memcpy(b, &ring_cache.head, sizeof(void *));
	ring_cache.head = b;
	ring_cache.n++;
}

static uint32_t tcp_ring_used(const struct tcp_sock *tp)
{
	return tp->write_seq - tp->sbuf_seq;
}

/* Payload bytes a write may still queue, as tcp_sendmsg_locked(): the unsent tail skb
 * fills up to the size goal, and a new skb starts only while sk_wmem_queued is below
 * SO_SNDBUF (so the last one may overshoot it). */
uint32_t tcp_ring_free(const struct tcp_sock *tp)
{
	uint32_t used = tcp_ring_used(tp), goal = tcp_size_goal(tp), tail = 0;
	uint64_t queued = tcp_wmem_queued(tp), skbs;

	if (used % goal && after(tp->write_seq, tp->snd_nxt))
		tail = goal - used % goal;
	if (queued >= tp->sndbuf)
		return tail;
	skbs = (tp->sndbuf - queued + goal + TCP_SKB_SND_OVERHEAD - 1) / (goal + TCP_SKB_SND_OVERHEAD);
	return (uint32_t)(tail + skbs * goal > UINT32_MAX / 2 ? UINT32_MAX / 2 : tail + skbs * goal);
}

static int tcp_ring_reserve(struct tcp_sock *tp, uint32_t need)
{
	uint32_t used = tcp_ring_used(tp), cap = tp->sbuf_cap ? tp->sbuf_cap : TCP_RING_MIN;
	uint8_t *n;

	if (used + need <= tp->sbuf_cap)
		return 0;
	while (cap < used + need)
		cap <<= 1;
	n = ring_block_alloc(cap);
	if (!n)
		return -ENOMEM;
	if (used) {
		uint32_t first = tp->sbuf_cap - tp->sbuf_head;

		if (first > used)
			first = used;
		memcpy(n, tp->sbuf + tp->sbuf_head, first);
		memcpy(n + first, tp->sbuf, used - first);
	}
	ring_block_free(tp->sbuf, tp->sbuf_cap);
	tcp_state_of(tp->st)->ring_bytes += cap - tp->sbuf_cap;
	tp->sbuf = n;
	tp->sbuf_cap = cap;
	tp->sbuf_head = 0;
	return 0;
}

static void tcp_ring_write(struct tcp_sock *tp, const uint8_t *src, uint32_t len)
{
	uint32_t mask = tp->sbuf_cap - 1;
	uint32_t pos = (tp->sbuf_head + tcp_ring_used(tp)) & mask;
	uint32_t first = tp->sbuf_cap - pos;

	if (first > len)
		first = len;
	memcpy(tp->sbuf + pos, src, first);
	memcpy(tp->sbuf, src + first, len - first);
	tp->write_seq += len;
}

void tcp_ring_copy(const struct tcp_sock *tp, uint32_t seq, uint8_t *dst, uint32_t len)
{
	uint32_t mask = tp->sbuf_cap - 1;
	uint32_t pos = (tp->sbuf_head + (seq - tp->sbuf_seq)) & mask;
	uint32_t first = tp->sbuf_cap - pos;

	if (first > len)
		first = len;
	memcpy(dst, tp->sbuf + pos, first);
	memcpy(dst + first, tp->sbuf, len - first);
}

/* Acked data leaves the ring. */
void tcp_ring_consume(struct tcp_sock *tp, uint32_t upto_seq)
{
	uint32_t n;

	if (after(upto_seq, tp->write_seq))
		upto_seq = tp->write_seq;
	if (!after(upto_seq, tp->sbuf_seq))
		return;
	n = upto_seq - tp->sbuf_seq;
	tp->sbuf_seq = upto_seq;
	if (tp->sbuf_cap)
		tp->sbuf_head = (tp->sbuf_head + n) & (tp->sbuf_cap - 1);
	if (tcp_ring_used(tp) == 0 && tp->sbuf_cap && !tp->orphan) {
		/* An idle connection keeps no send buffer: it is taken again when data
		 * flows (issue 4: memory per idle connection). */
		tcp_state_of(tp->st)->ring_bytes -= tp->sbuf_cap;
		ring_block_free(tp->sbuf, tp->sbuf_cap);
		tp->sbuf = NULL;
		tp->sbuf_cap = 0;
		tp->sbuf_head = 0;
	}
}

/* ---- Route and MSS ---- */

int tcp_route(struct tcp_sock *tp, uint32_t *mtu)
{
	struct rt_result rt;
	/* tcp_v4_connect(): a source route goes to its first hop (inet_opt->opt.faddr) */
	uint32_t nexthop = tcp_ipopt_nexthop(tp->ip_opt, tp->h.raddr);
	int err = route_output(tp->st, nexthop, tp->h.laddr, tp->bound_ifindex, tp->mark, &rt);

	if (err < 0)
		return err;
	if (rt.type == RTN_BROADCAST_ || rt.type == RTN_MULTICAST_)
		return -ENETUNREACH;
	if (!tp->h.laddr)
		tp->h.laddr = rt.prefsrc;
	if (mtu)
		*mtu = rt.mtu ? rt.mtu : 1500;
	return 0;
}

/* Linux tcp_mtu_to_mss(). */
uint32_t tcp_mss_from_mtu(struct tcp_sock *tp, uint32_t pmtu)
{
	int mss = (int)pmtu - 20 - WIRE_TCP_HLEN;

	if (mss > (int)tp->mss_clamp)
		mss = (int)tp->mss_clamp;
	/* icsk_ext_hdr_len: the IP options every segment carries, after the clamp (the
	 * peer's MSS counts neither IP nor TCP options) */
	mss -= tcp_ipopt_len(tp->ip_opt);
	if (mss < tp->st->sysctl.ip.tcp_min_snd_mss)
		mss = tp->st->sysctl.ip.tcp_min_snd_mss;
	mss -= (int)(tp->tcp_header_len - WIRE_TCP_HLEN);
	return mss < 8 ? 8 : (uint32_t)mss;
}

/* Linux tcp_sync_mss(). */
uint32_t tcp_sync_mss(struct tcp_sock *tp, uint32_t pmtu)
{
	uint32_t mss = tcp_mss_from_mtu(tp, pmtu);
	uint32_t cutoff = tp->max_window > TCP_MSS_DEFAULT ? tp->max_window >> 1 : tp->max_window;

	/* tcp_bound_to_half_wnd() */
	if (cutoff && mss > cutoff) {
		uint32_t lo = 68 - tp->tcp_header_len;

		mss = cutoff > lo ? cutoff : lo;
	}
	tp->pmtu = pmtu;
	tp->mss_cache = mss;
	return mss;
}

/* Linux tcp_current_mss(): the MSS for the options this segment will carry. */
uint32_t tcp_current_mss(struct tcp_sock *tp)
{
	uint32_t mss = tp->mss_cache;
	uint32_t hlen = WIRE_TCP_HLEN + (tp->tstamp_ok ? TCP_OLEN_TS_ALIGNED : 0);
	unsigned n = tp->num_sacks + (tp->dsack ? 1 : 0);

	if (n) {
		unsigned room = (40 - (tp->tstamp_ok ? TCP_OLEN_TS_ALIGNED : 0) - 4) / 8;

		if (n > room)
			n = room;
		hlen += 4 + 8 * n;
	}
	if (hlen > tp->tcp_header_len)
		mss -= hlen - tp->tcp_header_len;
	return mss;
}

uint32_t tcp_packets_in_flight(const struct tcp_sock *tp)
{
	return tp->packets_out - (tp->sacked_out + tp->lost_out) + tp->retrans_out;
}

bool tcp_in_initial_slowstart(const struct tcp_sock *tp)
{
	return tp->snd_ssthresh >= 0x7fffffff;
}

void tcp_cc_set(struct tcp_sock *tp, const struct tcp_cc_ops *cc)
{
	tp->cc = cc;
	memset(tp->cc_priv, 0, sizeof(tp->cc_priv));
	if (tp->state != TCP_CLOSE && tp->state != TCP_LISTEN && tp->state != TCP_SYN_SENT &&
	    cc->init)
		cc->init(tp);
}

/* ---- bind / connect / listen / accept ---- */

int tcp_bind(struct tcp_sock *tp, uint32_t addr, uint16_t port)
{
	struct tcp_state *ts = tcp_state_of(tp->st);
	int err;

	if (tp->state != TCP_CLOSE || tp->bound)
		return -EINVAL;
	tp->h.laddr = addr;
	err = tcp_bind_port(ts, tp, port);
	if (err < 0) {
		tp->h.laddr = 0;
		return err;
	}
	tp->bound = true;
	tp->userlocks_port = port != 0;
	return 0;
}

/* Linux tcp_connect_init(). */
static void tcp_connect_init(struct tcp_sock *tp, uint32_t mtu)
{
	struct ipv4_sysctl *s = &tp->st->sysctl.ip;
	uint32_t adv;

	tp->tcp_header_len = WIRE_TCP_HLEN + (s->tcp_timestamps ? TCP_OLEN_TS_ALIGNED : 0);
	if (tp->user_mss)
		tp->mss_clamp = tp->user_mss;
	tp->max_window = 0;
	tcp_sync_mss(tp, mtu);
	adv = mtu - 40;
	if (adv < (uint32_t)s->route_min_adv_mss)
		adv = (uint32_t)s->route_min_adv_mss;
	if (tp->user_mss && adv > tp->user_mss)
		adv = tp->user_mss;
	tp->advmss = adv;
	tp->ack.rcv_mss = tp->advmss < tp->mss_cache ? tp->advmss : tp->mss_cache;
	if (tp->ack.rcv_mss > TCP_MSS_DEFAULT)
		tp->ack.rcv_mss = TCP_MSS_DEFAULT;
	if (tp->ack.rcv_mss < TCP_MIN_MSS)
		tp->ack.rcv_mss = TCP_MIN_MSS;
	if (tp->rcvbuf_locked && (tp->window_clamp > (uint32_t)tcp_full_space(tp) ||
				  tp->window_clamp == 0))
		tp->window_clamp = (uint32_t)tcp_full_space(tp);
	if (tp->user_window_clamp)
		tp->window_clamp = tp->user_window_clamp;
	/* a recycled time-wait 4-tuple (ts_recent known) will carry timestamps */
	tcp_select_initial_window(tp, tcp_full_space(tp),
				  tp->advmss - (tp->ts_recent_stamp_s ? tp->tcp_header_len - WIRE_TCP_HLEN : 0),
				  &tp->rcv_wnd, &tp->window_clamp, s->tcp_window_scaling != 0,
				  &tp->rcv_wscale);
	tp->rcv_ssthresh = tp->rcv_wnd;
	tp->err = 0;
	tp->rcv_done = false;
	tp->snd_wnd = 0;
	tp->snd_wl1 = 0;
	tp->snd_una = tp->write_seq;
	tp->snd_up = tp->write_seq;
	tp->snd_nxt = tp->write_seq;
	tp->sbuf_seq = tp->write_seq + 1;	/* data starts after the SYN */
	tp->rcv_nxt = 0;
	tp->rcv_wup = 0;
	tp->copied_seq = 0;
	tp->rto_ms = TCP_TIMEOUT_INIT_MS;
	tp->retransmits = 0;
	tcp_clear_retrans(tp);
}

int tcp_connect(struct tcp_sock *tp, uint32_t daddr, uint16_t dport)
{
	struct tcp_state *ts = tcp_state_of(tp->st);
	uint32_t mtu, old_laddr = tp->h.laddr;
	int err;

	switch (tp->state) {
	case TCP_CLOSE:
		break;
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		return -EALREADY;
	case TCP_LISTEN:
		return -EISCONN;
	default:
		return -EISCONN;
	}
	if (!dport)
		return -ECONNREFUSED;
	tp->h.raddr = daddr;
	tp->h.rport = dport;
	err = tcp_route(tp, &mtu);
	if (err < 0) {
		tp->h.raddr = 0;
		tp->h.rport = 0;
		if (err == -ENETUNREACH)
			MIB_INC(tp->st, IpOutNoRoutes);
		return err;
	}
	tcp_set_state(tp, TCP_SYN_SENT);
	err = tcp_hash_connect(ts, tp);
	if (err < 0) {
		tcp_set_state(tp, TCP_CLOSE);
		tp->h.laddr = old_laddr;
		tp->h.raddr = 0;
		tp->h.rport = 0;
		return err;
	}
	/* a recycled time-wait 4-tuple chose the ISN (tcp_twsk_unique) */
	tp->iss = tp->write_seq_preset ? tp->write_seq
				       : tcp_isn(tp->st, tp->h.laddr, daddr, tp->h.lport, dport);
	tp->ts_off = tcp_ts_off(tp->st, tp->h.laddr, daddr);
	tp->write_seq = tp->iss;
	tcp_connect_init(tp, mtu);
	err = tcp_send_syn(tp);
	if (err < 0 && err != -ENOBUFS) {
		tcp_set_state(tp, TCP_CLOSE);
		tp->h.raddr = 0;
		tp->h.rport = 0;
		return err;
	}
	MIB_INC(tp->st, TcpActiveOpens);
	return -EINPROGRESS;
}

int tcp_listen(struct tcp_sock *tp, int backlog)
{
	struct tcp_state *ts = tcp_state_of(tp->st);
	int err;

	if (backlog > TCP_SOMAXCONN)
		backlog = TCP_SOMAXCONN;
	if (backlog < 0)
		backlog = 0;
	if (tp->state == TCP_LISTEN) {
		tp->lq->backlog = backlog;
		return 0;
	}
	if (tp->state != TCP_CLOSE)
		return -EINVAL;
	if (!tp->b.tb) {
		err = tcp_bind_port(ts, tp, 0);
		if (err < 0)
			return err;
	}
	tp->lq = calloc(1, sizeof(*tp->lq));
	if (!tp->lq)
		return -ENOMEM;
	tp->lq->backlog = backlog;
	err = tcp_listen_hash(ts, tp);
	if (err < 0) {
		free(tp->lq);
		tp->lq = NULL;
		return err;
	}
	tcp_set_state(tp, TCP_LISTEN);
	return 0;
}

struct tcp_sock *tcp_accept(struct tcp_sock *tp, int *err)
{
	struct tcp_sock *child;

	if (tp->state != TCP_LISTEN) {
		*err = -EINVAL;
		return NULL;
	}
	child = tp->lq->acc_head;
	if (!child) {
		*err = -EAGAIN;
		return NULL;
	}
	tp->lq->acc_head = child->acc_next;
	if (!tp->lq->acc_head)
		tp->lq->acc_tail = NULL;
	tp->lq->acc_qlen--;
	child->acc_next = NULL;
	child->in_accept_q = false;
	child->is_child = false;
	child->parent = NULL;
	*err = 0;
	return child;
}

void tcp_accept_enqueue(struct tcp_sock *lsk, struct tcp_sock *child)
{
	struct tcp_listen_q *q = lsk->lq;

	child->parent = lsk;
	child->in_accept_q = true;
	child->is_child = true;
	child->acc_next = NULL;
	if (q->acc_tail)
		q->acc_tail->acc_next = child;
	else
		q->acc_head = child;
	q->acc_tail = child;
	q->acc_qlen++;
	tcp_sock_wake(lsk);
}

/* Linux tcp_init_transfer() + tcp_init_metrics(). */
void tcp_init_transfer(struct tcp_sock *tp)
{
	if (!tp->srtt_us) {
		/* RFC 6298 5.7: no RTT sample from the handshake: fall back to 3 s
		 * (Linux tcp_init_metrics, TCP_TIMEOUT_FALLBACK). */
		tp->rttvar_us = 3000000;
		tp->mdev_us = tp->mdev_max_us = tp->rttvar_us;
		tp->rto_ms = 3000;
	}
	if (tp->total_retrans > 1 && tp->undo_marker)
		tp->snd_cwnd = 1;
	else
		tp->snd_cwnd = TCP_INIT_CWND;
	tp->snd_cwnd_stamp_ms = stack_now_ms(tp->st);
	tp->lsndtime_ms = stack_now_ms(tp->st);
	tcp_init_buffer_space(tp);
	if (tp->cc->init)
		tp->cc->init(tp);
	if (tp->keepalive_on)
		tcp_reset_keepalive_timer(tp, tcp_keepalive_time_ms(tp));
}

/* Linux tcp_finish_connect(): SYN_SENT -> ESTABLISHED. */
void tcp_finish_connect(struct tcp_sock *tp)
{
	tcp_set_state(tp, TCP_ESTABLISHED);
	tp->lrcvtime_ms = stack_now_ms(tp->st);
	tcp_init_transfer(tp);
	tcp_sock_wake(tp);
}

/* ---- send / receive ---- */

static bool tcp_stream_memory_free(const struct tcp_sock *tp)
{
	uint32_t lowat = tp->notsent_lowat ? tp->notsent_lowat
					   : tp->st->sysctl.ip.tcp_notsent_lowat;
	uint32_t notsent = tp->write_seq - tp->snd_nxt;

	if (after(tp->snd_nxt, tp->write_seq))
		notsent = 0;
	return notsent < lowat;
}

/* sk_stream_is_writeable(): free space (in truesize units) at least a third of the
 * buffer. */
bool tcp_is_writeable(const struct tcp_sock *tp)
{
	uint64_t queued = tcp_wmem_queued(tp);

	return tp->sndbuf > queued && tp->sndbuf - queued >= queued / 2 &&
	       tcp_stream_memory_free(tp);
}

static int tcp_take_error(struct tcp_sock *tp)
{
	int e = tp->err;

	tp->err = 0;
	return -e;
}

ssize_t tcp_sendmsg(struct tcp_sock *tp, const struct iovec *iov, int iovcnt, int flags)
{
	size_t copied = 0;
	uint32_t mss;

	if (tp->state != TCP_ESTABLISHED && tp->state != TCP_CLOSE_WAIT) {
		/* sk_stream_wait_connect() */
		if (tp->err)
			return tcp_take_error(tp);
		if (tp->state != TCP_SYN_SENT && tp->state != TCP_SYN_RECV)
			return -EPIPE;
		return -EAGAIN;
	}
	if (tp->err || (tp->shutdown & SEND_SHUTDOWN)) {
		if (tp->err)
			return tcp_take_error(tp);
		return -EPIPE;
	}
	/* a new segment is started behind an empty send queue (tcp_skb_entail) */
	if (!before(tp->snd_nxt, tp->write_seq) && tcp_ring_free(tp))
		tcp_slow_start_after_idle_check(tp);
	for (int i = 0; i < iovcnt; i++) {
		const uint8_t *src = iov[i].iov_base;
		size_t left = iov[i].iov_len;

		while (left) {
			uint32_t room = tcp_ring_free(tp);
			uint32_t n;

			if (!room) {
				tp->nospace = true;	/* SOCK_NOSPACE: wait_for_space */
				goto out;
			}
			n = left < room ? (uint32_t)left : room;
			if (tcp_ring_reserve(tp, n) < 0)
				goto out;
			tcp_ring_write(tp, src, n);
			src += n;
			left -= n;
			copied += n;
		}
	}
out:
	if (!copied)
		return -EAGAIN;
	if (flags & MSG_OOB) {
		/* tcp_mark_urg(): the urgent pointer points after the last byte sent. */
		tp->snd_up = tp->write_seq;
		tp->urg_send = true;
	}
	tp->more_pending = (flags & MSG_MORE) != 0;
	mss = tcp_current_mss(tp);
	tcp_push(tp, (flags & MSG_MORE) || tp->cork ? 2 : (tp->nonagle_nodelay ? 1 : 0));
	(void)mss;
	return (ssize_t)copied;
}

/* Linux tcp_cleanup_rbuf(): after the user read, ACK now if the window opened a lot. */
static void tcp_cleanup_rbuf(struct tcp_sock *tp, uint32_t copied)
{
	bool time_to_ack = false;

	if (tp->ack.pending & ICSK_ACK_SCHED) {
		if (tp->rcv_nxt - tp->rcv_wup > tp->ack.rcv_mss ||
		    (copied > 0 && ((tp->ack.pending & ICSK_ACK_PUSHED2) ||
				    ((tp->ack.pending & ICSK_ACK_PUSHED) && !tp->ack.pingpong)) &&
		     !tp->rmem_alloc))
			time_to_ack = true;
	}
	if (copied > 0 && !time_to_ack && !(tp->shutdown & RCV_SHUTDOWN)) {
		int32_t win_now = (int32_t)(tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt);

		if (win_now < 0)
			win_now = 0;
		if (2 * (uint32_t)win_now <= tp->window_clamp) {
			/* the window __tcp_select_window() would offer, with its receiver
			 * SWS avoidance (RFC 1122 4.2.3.3): no update for a read that frees
			 * less than an MSS */
			uint32_t new_win = tcp_raw_select_window(tp);

			if (new_win && new_win >= 2 * (uint32_t)win_now)
				time_to_ack = true;
		}
	}
	if (time_to_ack)
		tcp_send_ack(tp);
}

ssize_t tcp_recvmsg(struct tcp_sock *tp, const struct iovec *iov, int iovcnt, int flags)
{
	size_t copied = 0;
	int vi = 0;
	size_t voff = 0;
	uint32_t seq = tp->copied_seq;
	bool peek = (flags & MSG_PEEK) != 0;

	if (tp->state == TCP_LISTEN)
		return -ENOTCONN;
	if (flags & MSG_OOB) {
		/* tcp_recv_urg() */
		if (tp->oobinline || tp->urg_state != 1)
			return -EINVAL;
		if (tp->state == TCP_CLOSE && !tp->rcv_done)
			return -ENOTCONN;
		if (iovcnt && iov[0].iov_len) {
			((uint8_t *)iov[0].iov_base)[0] = tp->urg_byte;
			if (!peek)
				tp->urg_state = 2;
			return 1;
		}
		return 0;
	}
	for (struct pkb *p = tp->rcvq.head; p && vi < iovcnt;) {
		struct tcp_rcb *cb = TCP_RCB(p);
		uint32_t off = seq - cb->seq;
		uint32_t avail;

		if (!before(seq, cb->end_seq)) {
			p = p->next;
			continue;
		}
		avail = cb->end_seq - seq;
		/* Stop at the urgent mark, with SO_OOBINLINE too (Linux tcp_recvmsg_locked):
		 * a read ends before it and the next one starts there. Without OOBINLINE the
		 * byte is skipped, also once read by MSG_OOB (state 2), as Linux, whose
		 * urg_data stays set until copied_seq passes urg_seq. */
		if (tp->urg_state) {
			if (seq == tp->urg_data_seq) {
				if (copied)
					break;
				if (!tp->oobinline) {
					seq++;		/* skip the urgent byte */
					if (!peek)
						tp->copied_seq = seq;
					continue;
				}
			} else if (between(tp->urg_data_seq, seq, seq + avail - 1)) {
				avail = tp->urg_data_seq - seq;
			}
		}
		while (avail && vi < iovcnt) {
			size_t room = iov[vi].iov_len - voff;
			size_t n = avail < room ? avail : room;

			if (!(flags & MSG_TRUNC))
				memcpy((uint8_t *)iov[vi].iov_base + voff, p->data + off, n);
			tp->rx_tstamp_ns = p->tstamp_ns;	/* tcp_update_recv_tstamps() */
			off += (uint32_t)n;
			avail -= (uint32_t)n;
			seq += (uint32_t)n;
			copied += n;
			voff += n;
			if (voff == iov[vi].iov_len) {
				vi++;
				voff = 0;
			}
		}
		if (!peek && after(seq, tp->copied_seq)) {
			/* Linux tcp_recvmsg_locked(): buffer tuning after each chunk copied */
			tp->copied_seq = seq;
			tcp_rcv_space_adjust(tp);
		}
		if (tp->urg_state && seq == tp->urg_data_seq)
			break;
		if (avail)
			break;
		p = p->next;
	}
	if (!copied) {
		if (tp->rcv_done)
			return 0;
		if (tp->err)
			return tcp_take_error(tp);
		if (tp->shutdown & RCV_SHUTDOWN)
			return 0;
		if (tp->state == TCP_CLOSE)
			return tp->ever_connected ? 0 : -ENOTCONN;
		return -EAGAIN;
	}
	if (peek)
		return (ssize_t)copied;
	tp->copied_seq = seq;
	if (tp->urg_state && tp->urg_state != 3 && after(seq, tp->urg_data_seq))
		tp->urg_state = 0;
	/* free fully read segments */
	while (tp->rcvq.head && !before(seq, TCP_RCB(tp->rcvq.head)->end_seq)) {
		struct pkb *p = pkb_queue_pop(&tp->rcvq);

		tp->rmem_alloc -= tcp_rmem_truesize(p);
		pkb_free(p);
	}
	tcp_cleanup_rbuf(tp, (uint32_t)copied);
	return (ssize_t)copied;
}

unsigned tcp_poll(struct tcp_sock *tp)
{
	unsigned mask = 0;
	int state = tp->state;

	if (state == TCP_LISTEN)
		return tp->lq && tp->lq->acc_head ? POLLIN | POLLRDNORM : 0;
	if (tp->shutdown == (RCV_SHUTDOWN | SEND_SHUTDOWN) || state == TCP_CLOSE)
		mask |= POLLHUP;
	if (tp->shutdown & RCV_SHUTDOWN)
		mask |= POLLIN | POLLRDNORM | POLLRDHUP;
	if (state != TCP_SYN_SENT && state != TCP_SYN_RECV) {
		uint32_t avail = tp->rcv_nxt - tp->copied_seq;
		uint32_t target = tp->rcvlowat > 1 ? (uint32_t)tp->rcvlowat : 1;

		if (tp->urg_state == 1 && !tp->oobinline && avail)
			avail--;	/* the urgent byte is not in-band data */
		if (avail >= target || (avail && (tp->shutdown & RCV_SHUTDOWN)))
			mask |= POLLIN | POLLRDNORM;
		if (!(tp->shutdown & SEND_SHUTDOWN)) {
			if (tcp_is_writeable(tp))
				mask |= POLLOUT | POLLWRNORM;
			else
				tp->nospace = true;	/* tcp_poll sets SOCK_NOSPACE */
		} else {
			mask |= POLLOUT | POLLWRNORM;
		}
		if (tp->urg_state == 1)
			mask |= POLLPRI;
	}
	if (tp->err)
		mask |= POLLERR;
	return mask;
}

int tcp_sock_error(struct tcp_sock *tp)
{
	int e = tp->err ? tp->err : 0;

	if (!e && tp->err_soft && tp->state == TCP_CLOSE)
		e = tp->err_soft;
	tp->err = 0;
	return e;
}

/* Linux tcp_close_state(): the next state on close/shutdown(WR), and whether a FIN goes. */
static bool tcp_close_state(struct tcp_sock *tp)
{
	int next;
	bool fin = false;

	switch (tp->state) {
	case TCP_ESTABLISHED:
	case TCP_SYN_RECV:
		next = TCP_FIN_WAIT1;
		fin = true;
		break;
	case TCP_CLOSE_WAIT:
		next = TCP_LAST_ACK;
		fin = true;
		break;
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_LAST_ACK:
	case TCP_CLOSING:
		next = tp->state;
		break;
	default:
		next = TCP_CLOSE;
	}
	tcp_set_state(tp, next);
	return fin;
}

static bool tcp_need_reset(int state)
{
	return state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT || state == TCP_FIN_WAIT1 ||
	       state == TCP_FIN_WAIT2 || state == TCP_SYN_RECV;
}

/* Linux tcp_disconnect(): back to CLOSE, with a RST where the peer must hear of it. */
int tcp_disconnect(struct tcp_sock *tp)
{
	int old = tp->state;

	if (old != TCP_CLOSE)
		tcp_set_state(tp, TCP_CLOSE);
	if (old == TCP_LISTEN) {
		tcp_listen_unhash(tcp_state_of(tp->st), tp);
		tcp_listen_flush(tp);
	} else if (tcp_need_reset(old) ||
		   (tp->snd_nxt != tp->write_seq && (old == TCP_CLOSING || old == TCP_LAST_ACK))) {
		tcp_send_active_reset(tp);
		tp->err = ECONNRESET;
	} else if (old == TCP_SYN_SENT) {
		tp->err = ECONNRESET;
	}
	tcp_clear_xmit_timers(tp);
	tcp_rtx_purge(tp);
	tcp_purge_rcv(tp);
	tp->shutdown = 0;
	tp->rcv_done = false;
	tp->fin_pending = tp->fin_sent = false;
	tp->srtt_us = 0;
	tp->mdev_us = TCP_TIMEOUT_INIT_MS * 1000;
	tp->rto_ms = TCP_TIMEOUT_INIT_MS;
	tp->snd_cwnd = TCP_INIT_CWND;
	tp->snd_ssthresh = 0x7fffffff;
	tp->write_seq = tp->snd_nxt;
	tp->sbuf_seq = tp->write_seq;
	tp->h.raddr = 0;
	tp->h.rport = 0;
	tp->ca_state = TCP_CA_Open;
	tp->backoff = 0;
	tp->retransmits = 0;
	tp->probes_out = 0;
	tcp_sock_wake(tp);
	return 0;
}

int tcp_shutdown(struct tcp_sock *tp, int how)
{
	int bits = how + 1;	/* SHUT_RD 0 -> RCV_SHUTDOWN 1, SHUT_WR -> 2, RDWR -> 3 */
	int err = 0;

	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	switch (tp->state) {
	case TCP_CLOSE:
		err = -ENOTCONN;
		tp->shutdown |= (uint8_t)bits;
		break;
	case TCP_LISTEN:
		if (!(bits & RCV_SHUTDOWN))
			break;
		/* fallthrough */
	case TCP_SYN_SENT:
		tcp_disconnect(tp);
		break;
	default:
		tp->shutdown |= (uint8_t)bits;
		if ((bits & SEND_SHUTDOWN) &&
		    (tp->state == TCP_ESTABLISHED || tp->state == TCP_SYN_RECV ||
		     tp->state == TCP_CLOSE_WAIT)) {
			if (tcp_close_state(tp))
				tcp_send_fin(tp);
		}
	}
	tcp_sock_wake(tp);
	return err;
}

void tcp_abort(struct tcp_sock *tp, int err)
{
	if (tp->state == TCP_CLOSE)
		return;
	if (tcp_need_reset(tp->state))
		tcp_send_active_reset(tp);
	tp->err = err;
	tcp_rtx_purge(tp);
	tcp_done(tp);
}

void tcp_close(struct tcp_sock *tp)
{
	bool data_was_unread;

	tp->shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
	tp->wake = (struct tcp_wake){ 0 };
	if (tp->state == TCP_LISTEN) {
		tcp_set_state(tp, TCP_CLOSE);
		tcp_listen_unhash(tcp_state_of(tp->st), tp);
		tcp_listen_flush(tp);
		tcp_sock_destroy(tp);
		return;
	}
	data_was_unread = tp->rcv_nxt - tp->copied_seq > (tp->rcv_done ? 1u : 0u);
	tcp_purge_rcv(tp);
	tp->orphan = true;
	if (tp->state == TCP_CLOSE) {
		tcp_sock_destroy(tp);
		return;
	}
	if (data_was_unread) {
		/* RFC 2525 2.17: unread data at close -> RST, as Linux. */
		tcp_set_state(tp, TCP_CLOSE);
		tcp_send_active_reset(tp);
		MIB_INC(tp->st, TcpExtTCPAbortOnClose);
	} else if (tp->linger_on && tp->linger_s == 0) {
		tp->orphan = false;
		tcp_disconnect(tp);
		tp->orphan = true;
		MIB_INC(tp->st, TcpExtTCPAbortOnData);
		tcp_sock_destroy(tp);
		return;
	} else if (tcp_close_state(tp)) {
		tcp_send_fin(tp);
	}
	if (tp->state == TCP_FIN_WAIT2) {
		if (tp->linger2_s < 0) {
			tcp_set_state(tp, TCP_CLOSE);
			tcp_send_active_reset(tp);
			MIB_INC(tp->st, TcpExtTCPAbortOnLinger);
		} else {
			uint32_t tmo = tcp_fin_time_ms(tp);

			if (tmo > TCP_TIMEWAIT_LEN_MS) {
				tcp_reset_keepalive_timer(tp, tmo - TCP_TIMEWAIT_LEN_MS);
			} else {
				tcp_time_wait(tp, TCP_FIN_WAIT2, tmo);
				return;
			}
		}
	}
	if (tp->state == TCP_CLOSE) {
		tcp_clear_xmit_timers(tp);
		tcp_sock_destroy(tp);
	}
}

int tcp_ioctl(struct tcp_sock *tp, unsigned long req, int *val)
{
	switch (req) {
	case 0x541B:	/* SIOCINQ / FIONREAD */
		if (tp->state == TCP_LISTEN)
			return -EINVAL;
		if (tp->state == TCP_SYN_SENT || tp->state == TCP_SYN_RECV) {
			*val = 0;
		} else {
			uint32_t n = tp->rcv_nxt - tp->copied_seq;

			if (n && tp->rcv_done)
				n--;	/* the FIN is not data */
			if (tp->urg_state == 1 && !tp->oobinline && n &&
			    !before(tp->urg_data_seq, tp->copied_seq))
				n--;
			*val = (int)n;
		}
		return 0;
	case 0x8905:	/* SIOCATMARK */
		*val = tp->urg_state == 1 && tp->copied_seq == tp->urg_data_seq;
		return 0;
	case 0x5411:	/* SIOCOUTQ / TIOCOUTQ */
		if (tp->state == TCP_LISTEN)
			return -EINVAL;
		*val = (tp->state == TCP_SYN_SENT || tp->state == TCP_SYN_RECV)
			       ? 0 : (int)(tp->write_seq - tp->snd_una);
		return 0;
	case 0x894C:	/* SIOCOUTQNSD */
		if (tp->state == TCP_LISTEN)
			return -EINVAL;
		*val = (tp->state == TCP_SYN_SENT || tp->state == TCP_SYN_RECV)
			       ? 0 : (int)(tp->write_seq - tp->snd_nxt);
		if (*val < 0)
			*val = 0;
		return 0;
	}
	return -ENOTTY;
}

void tcp_sock_names(const struct tcp_sock *tp, uint32_t *laddr, uint16_t *lport, uint32_t *raddr,
		    uint16_t *rport)
{
	if (laddr)
		*laddr = tp->h.laddr;
	if (lport)
		*lport = tp->h.lport;
	if (raddr)
		*raddr = tp->h.raddr;
	if (rport)
		*rport = tp->h.rport;
}

int tcp_sock_state(const struct tcp_sock *tp)
{
	return tp->state;
}

void tcp_foreach_sock(struct ips_stack *st, void (*fn)(void *arg, struct tcp_sock *tp), void *arg)
{
	struct tcp_state *ts = tcp_state_of(st);

	if (!ts)
		return;
	for (struct tcp_sock *tp = ts->all, *n; tp; tp = n) {
		n = tp->all_next;
		fn(arg, tp);
	}
}

size_t tcp_mem_bytes(struct ips_stack *st)
{
	struct tcp_state *ts = tcp_state_of(st);

	if (!ts)
		return 0;
	return sizeof(*ts) + (size_t)ts->nsocks * sizeof(struct tcp_sock) +
	       (size_t)ts->ntw * sizeof(struct tcp_tw) + ts->ring_bytes +
	       ((size_t)ts->ehash_mask + 1) * sizeof(*ts->ehash);
}

long tcp_count_timewait(struct ips_stack *st)
{
	struct tcp_state *ts = tcp_state_of(st);

	return ts ? ts->ntw : 0;
}

long tcp_count_socks(struct ips_stack *st)
{
	struct tcp_state *ts = tcp_state_of(st);

	return ts ? ts->nsocks : 0;
}

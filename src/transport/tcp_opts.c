/* tcp(7) socket options (Linux do_tcp_setsockopt / do_tcp_getsockopt), TCP_INFO in
 * Linux's struct tcp_info layout, and the SOL_SOCKET / IPPROTO_IP options that change
 * what TCP does. Validation and the values read back follow Linux. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "transport/tcp_int.h"

#define SOCK_MIN_RCVBUF_	2304
#define SOCK_MIN_SNDBUF_	4608
#define NET_CORE_RMEM_MAX	212992
#define NET_CORE_WMEM_MAX	212992
#define MAX_TCP_WINDOW_		32767

/* struct tcp_info of <linux/tcp.h> (Linux 6.7+ layout). */
struct tcp_info_linux {
	uint8_t tcpi_state, tcpi_ca_state, tcpi_retransmits, tcpi_probes, tcpi_backoff, tcpi_options;
	uint8_t tcpi_wscale;		/* snd_wscale:4, rcv_wscale:4 */
	uint8_t tcpi_flags;		/* delivery_rate_app_limited:1, fastopen_client_fail:2 */
	uint32_t tcpi_rto, tcpi_ato, tcpi_snd_mss, tcpi_rcv_mss;
	uint32_t tcpi_unacked, tcpi_sacked, tcpi_lost, tcpi_retrans, tcpi_fackets;
	uint32_t tcpi_last_data_sent, tcpi_last_ack_sent, tcpi_last_data_recv, tcpi_last_ack_recv;
	uint32_t tcpi_pmtu, tcpi_rcv_ssthresh, tcpi_rtt, tcpi_rttvar, tcpi_snd_ssthresh;
	uint32_t tcpi_snd_cwnd, tcpi_advmss, tcpi_reordering;
	uint32_t tcpi_rcv_rtt, tcpi_rcv_space;
	uint32_t tcpi_total_retrans;
	uint64_t tcpi_pacing_rate, tcpi_max_pacing_rate, tcpi_bytes_acked, tcpi_bytes_received;
	uint32_t tcpi_segs_out, tcpi_segs_in;
	uint32_t tcpi_notsent_bytes, tcpi_min_rtt, tcpi_data_segs_in, tcpi_data_segs_out;
	uint64_t tcpi_delivery_rate;
	uint64_t tcpi_busy_time, tcpi_rwnd_limited, tcpi_sndbuf_limited;
	uint32_t tcpi_delivered, tcpi_delivered_ce;
	uint64_t tcpi_bytes_sent, tcpi_bytes_retrans;
	uint32_t tcpi_dsack_dups, tcpi_reord_seen;
	uint32_t tcpi_rcv_ooopack;
	uint32_t tcpi_snd_wnd;
	uint32_t tcpi_rcv_wnd;
	uint32_t tcpi_rehash;
	uint16_t tcpi_total_rto, tcpi_total_rto_recoveries;
	uint32_t tcpi_total_rto_time;
};

#define TCPI_OPT_TIMESTAMPS	1
#define TCPI_OPT_SACK		2
#define TCPI_OPT_WSCALE		4
#define TCPI_OPT_ECN		8
#define TCPI_OPT_ECN_SEEN	16

static void tcp_get_info(struct tcp_sock *tp, struct tcp_info_linux *i)
{
	uint64_t now = stack_now_ms(tp->st);

	memset(i, 0, sizeof(*i));
	i->tcpi_state = tp->state;
	i->tcpi_reordering = tp->reordering;
	i->tcpi_snd_cwnd = tp->snd_cwnd;
	i->tcpi_max_pacing_rate = ~0ull;
	if (tp->state == TCP_LISTEN) {
		i->tcpi_unacked = tp->lq ? (uint32_t)tp->lq->acc_qlen : 0;
		i->tcpi_sacked = tp->lq ? (uint32_t)tp->lq->backlog : 0;
		return;
	}
	i->tcpi_ca_state = tp->ca_state;
	i->tcpi_retransmits = tp->retransmits;
	i->tcpi_probes = tp->probes_out;
	i->tcpi_backoff = tp->backoff;
	if (tp->tstamp_ok)
		i->tcpi_options |= TCPI_OPT_TIMESTAMPS;
	if (tp->sack_ok)
		i->tcpi_options |= TCPI_OPT_SACK;
	if (tp->wscale_ok) {
		i->tcpi_options |= TCPI_OPT_WSCALE;
		i->tcpi_wscale = (uint8_t)((tp->snd_wscale & 15) | (tp->rcv_wscale << 4));
	}
	if (tp->ecn_ok)
		i->tcpi_options |= TCPI_OPT_ECN;
	i->tcpi_rto = tp->rto_ms * 1000;
	i->tcpi_ato = (tp->ack.ato_ms < TCP_DELACK_MAX_MS ? tp->ack.ato_ms : TCP_DELACK_MAX_MS) * 1000;
	i->tcpi_snd_mss = tp->mss_cache;
	i->tcpi_rcv_mss = tp->ack.rcv_mss;
	i->tcpi_unacked = tp->packets_out;
	i->tcpi_sacked = tp->sacked_out;
	i->tcpi_lost = tp->lost_out;
	i->tcpi_retrans = tp->retrans_out;
	i->tcpi_last_data_sent = (uint32_t)(now - tp->lsndtime_ms);
	i->tcpi_last_data_recv = (uint32_t)(now - tp->ack.lrcvtime_ms);
	i->tcpi_last_ack_recv = (uint32_t)(now - tp->last_ack_recv_ms);
	i->tcpi_pmtu = tp->pmtu;
	i->tcpi_rcv_ssthresh = tp->rcv_ssthresh;
	i->tcpi_rtt = tp->srtt_us >> 3;
	i->tcpi_rttvar = tp->mdev_us >> 2;
	i->tcpi_snd_ssthresh = tp->snd_ssthresh;
	i->tcpi_advmss = tp->advmss;
	i->tcpi_rcv_rtt = tp->rcv_rtt_us >> 3;
	i->tcpi_rcv_space = tp->rcvq_space.space;
	i->tcpi_total_retrans = tp->total_retrans;
	if (tp->srtt_us) {
		/* tcp_update_pacing_rate(): 200 % of cwnd/srtt in slow start, 120 % after */
		uint64_t rate = (uint64_t)tp->mss_cache * tp->snd_cwnd * 1000000ull * 8 / tp->srtt_us;

		rate = rate * (tp->snd_cwnd < tp->snd_ssthresh / 2 ? 200 : 120) / 100;
		i->tcpi_pacing_rate = rate;
		i->tcpi_delivery_rate = (uint64_t)tp->mss_cache * tp->snd_cwnd * 1000000ull * 8 / tp->srtt_us;
	}
	i->tcpi_bytes_acked = tp->bytes_acked;
	i->tcpi_bytes_received = tp->bytes_received;
	i->tcpi_segs_out = tp->segs_out;
	i->tcpi_segs_in = tp->segs_in;
	i->tcpi_notsent_bytes = after(tp->write_seq, tp->snd_nxt) ? tp->write_seq - tp->snd_nxt : 0;
	i->tcpi_min_rtt = tp->min_rtt_us;
	i->tcpi_data_segs_in = tp->data_segs_in;
	i->tcpi_data_segs_out = tp->data_segs_out;
	i->tcpi_delivered = tp->delivered;
	i->tcpi_bytes_sent = tp->bytes_sent;
	i->tcpi_bytes_retrans = tp->bytes_retrans;
	i->tcpi_dsack_dups = tp->dsack_dups;
	i->tcpi_reord_seen = tp->reord_seen;
	i->tcpi_rcv_ooopack = tp->rcv_ooopack;
	i->tcpi_snd_wnd = tp->snd_wnd;
	i->tcpi_rcv_wnd = tp->rcv_wnd;
	i->tcpi_total_rto = (uint16_t)tp->total_rto_count;
}

/* Linux secs_to_retrans(): TCP_DEFER_ACCEPT is kept as a number of SYN-ACK
 * retransmissions. */
static int secs_to_retrans(int seconds)
{
	int res = 0, timeout = 1, period = 1;

	if (seconds > 0) {
		res = 1;
		while (seconds > timeout && res < 255) {
			res++;
			period <<= 1;
			if (period > TCP_RTO_MAX_MS / 1000)
				period = TCP_RTO_MAX_MS / 1000;
			timeout += period;
		}
	}
	return res;
}

static int retrans_to_secs(int retrans)
{
	int period = 1, timeout = 0;

	if (retrans > 0) {
		timeout = 1;
		while (--retrans) {
			period <<= 1;
			if (period > TCP_RTO_MAX_MS / 1000)
				period = TCP_RTO_MAX_MS / 1000;
			timeout += period;
		}
	}
	return timeout;
}

static int get_int(const void *optval, socklen_t optlen, int *val)
{
	if (optlen < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(val, optval, sizeof(int));
	return 0;
}

static int put_int(void *optval, socklen_t *optlen, int val)
{
	socklen_t len = *optlen;

	if ((int)len < 0)
		return -EINVAL;
	if (len > sizeof(int))
		len = sizeof(int);
	memcpy(optval, &val, len);
	*optlen = len;
	return 0;
}

static void tcp_keepidle_rearm(struct tcp_sock *tp)
{
	if (tp->keepalive_on && tp->state != TCP_CLOSE && tp->state != TCP_LISTEN) {
		uint64_t now = stack_now_ms(tp->st);
		uint64_t a = now - tp->ack.lrcvtime_ms, b = now - tp->last_ack_recv_ms;
		uint64_t elapsed = a < b ? a : b, when = tcp_keepalive_time_ms(tp);

		tcp_reset_keepalive_timer(tp, when > elapsed ? when - elapsed : 0);
	}
}

static int tcp_setsockopt_tcp(struct tcp_sock *tp, int optname, const void *optval,
			      socklen_t optlen)
{
	int val, err;

	if (optname == TCP_CONGESTION) {
		char name[16] = { 0 };
		const struct tcp_cc_ops *cc;

		if ((int)optlen < 1)
			return -EINVAL;
		memcpy(name, optval, optlen < sizeof(name) - 1 ? optlen : sizeof(name) - 1);
		cc = tcp_cc_find(name);
		if (!cc)
			return -ENOENT;
		tcp_cc_set(tp, cc);
		return 0;
	}
	err = get_int(optval, optlen, &val);
	if (err)
		return err;
	switch (optname) {
	case TCP_MAXSEG:
		if (val && (val < TCP_MIN_MSS || val > MAX_TCP_WINDOW_))
			return -EINVAL;
		tp->user_mss = (uint32_t)val;
		return 0;
	case TCP_NODELAY:
		tp->nonagle_nodelay = val != 0;
		if (val)
			tcp_push(tp, 1);
		return 0;
	case TCP_CORK:
		tp->cork = val != 0;
		if (!val)
			tcp_push(tp, tp->nonagle_nodelay ? 4 : 0);
		return 0;
	case TCP_KEEPIDLE:
		if (val < 1 || val > TCP_MAX_TCP_KEEPIDLE)
			return -EINVAL;
		tp->keepidle_s = val;
		tcp_keepidle_rearm(tp);
		return 0;
	case TCP_KEEPINTVL:
		if (val < 1 || val > TCP_MAX_TCP_KEEPINTVL)
			return -EINVAL;
		tp->keepintvl_s = val;
		return 0;
	case TCP_KEEPCNT:
		if (val < 1 || val > TCP_MAX_TCP_KEEPCNT)
			return -EINVAL;
		tp->keepcnt = val;
		return 0;
	case TCP_SYNCNT:
		if (val < 1 || val > TCP_MAX_TCP_SYNCNT)
			return -EINVAL;
		tp->syncnt = val;
		return 0;
	case TCP_LINGER2:
		if (val < 0)
			tp->linger2_s = -1;
		else if (val > TCP_FIN_TIMEOUT_MAX_S)
			tp->linger2_s = TCP_FIN_TIMEOUT_MAX_S;
		else
			tp->linger2_s = val;
		return 0;
	case TCP_DEFER_ACCEPT:
		tp->defer_accept_s = secs_to_retrans(val);
		return 0;
	case TCP_WINDOW_CLAMP:
		if (!val) {
			if (tp->state != TCP_CLOSE)
				return -EINVAL;
			tp->window_clamp = 0;
			tp->user_window_clamp = 0;
			return 0;
		}
		if (val < SOCK_MIN_RCVBUF_ / 2)
			val = SOCK_MIN_RCVBUF_ / 2;
		tp->user_window_clamp = (uint32_t)val;
		tp->window_clamp = (uint32_t)val;
		if (tp->rcv_ssthresh > tp->window_clamp)
			tp->rcv_ssthresh = tp->window_clamp;
		return 0;
	case TCP_QUICKACK:
		if (!val) {
			tp->ack.pingpong = (uint8_t)tp->st->sysctl.ip.tcp_pingpong_thresh;
			return 0;
		}
		tp->ack.pingpong = 0;
		if ((tp->state == TCP_ESTABLISHED || tp->state == TCP_CLOSE_WAIT) &&
		    (tp->ack.pending & ICSK_ACK_SCHED)) {
			tp->ack.pending |= ICSK_ACK_PUSHED;
			tcp_send_ack(tp);
			if (!(val & 1))
				tp->ack.pingpong = (uint8_t)tp->st->sysctl.ip.tcp_pingpong_thresh;
		}
		return 0;
	case TCP_USER_TIMEOUT:
		if (val < 0)
			return -EINVAL;
		tp->user_timeout_ms = (uint32_t)val;
		return 0;
	case TCP_NOTSENT_LOWAT:
		tp->notsent_lowat = (uint32_t)val;
		tcp_sock_wake(tp);
		return 0;
	}
	return -ENOPROTOOPT;
}

static int tcp_getsockopt_tcp(struct tcp_sock *tp, int optname, void *optval, socklen_t *optlen)
{
	struct ipv4_sysctl *s = &tp->st->sysctl.ip;
	int val;

	switch (optname) {
	case TCP_INFO: {
		struct tcp_info_linux info;
		socklen_t len = *optlen;

		if ((int)len < 0)
			return -EINVAL;
		tcp_get_info(tp, &info);
		if (len > sizeof(info))
			len = sizeof(info);
		memcpy(optval, &info, len);
		*optlen = len;
		return 0;
	}
	case TCP_CONGESTION: {
		socklen_t len = *optlen;
		char name[16] = { 0 };

		if ((int)len < 0)
			return -EINVAL;
		strncpy(name, tp->cc->name, sizeof(name) - 1);
		if (len > sizeof(name))
			len = sizeof(name);
		memcpy(optval, name, len);
		*optlen = len;
		return 0;
	}
	case TCP_MAXSEG:
		val = (int)tp->mss_cache;
		if (tp->user_mss && (tp->state == TCP_CLOSE || tp->state == TCP_LISTEN))
			val = (int)tp->user_mss;
		break;
	case TCP_NODELAY:
		val = tp->nonagle_nodelay;
		break;
	case TCP_CORK:
		val = tp->cork;
		break;
	case TCP_KEEPIDLE:
		val = (int)(tcp_keepalive_time_ms(tp) / 1000);
		break;
	case TCP_KEEPINTVL:
		val = (int)(tcp_keepalive_intvl_ms(tp) / 1000);
		break;
	case TCP_KEEPCNT:
		val = tcp_keepalive_probes(tp);
		break;
	case TCP_SYNCNT:
		val = tp->syncnt ? tp->syncnt : s->tcp_syn_retries;
		break;
	case TCP_LINGER2:
		val = tp->linger2_s;
		if (val >= 0)
			val = val ? val : s->tcp_fin_timeout;
		break;
	case TCP_DEFER_ACCEPT:
		val = retrans_to_secs(tp->defer_accept_s);
		break;
	case TCP_WINDOW_CLAMP:
		val = (int)tp->window_clamp;
		break;
	case TCP_QUICKACK:
		val = tp->ack.pingpong < s->tcp_pingpong_thresh;
		break;
	case TCP_USER_TIMEOUT:
		val = (int)tp->user_timeout_ms;
		break;
	case TCP_NOTSENT_LOWAT:
		val = (int)(tp->notsent_lowat ? tp->notsent_lowat : s->tcp_notsent_lowat);
		break;
	default:
		return -ENOPROTOOPT;
	}
	return put_int(optval, optlen, val);
}

int tcp_setsockopt(struct tcp_sock *tp, int level, int optname, const void *optval,
		   socklen_t optlen)
{
	int val, err;

	if (level == IPPROTO_TCP)
		return tcp_setsockopt_tcp(tp, optname, optval, optlen);
	if (level == SOL_SOCKET) {
		if (optname == SO_LINGER) {
			struct linger l;

			if (optlen < (socklen_t)sizeof(l))
				return -EINVAL;
			memcpy(&l, optval, sizeof(l));
			tp->linger_on = l.l_onoff != 0;
			tp->linger_s = l.l_linger;
			return 0;
		}
		err = get_int(optval, optlen, &val);
		if (err)
			return err;
		switch (optname) {
		case SO_KEEPALIVE:
			tcp_set_keepalive(tp, val != 0);
			return 0;
		case SO_REUSEADDR:
			tp->reuseaddr = val != 0;
			return 0;
		case SO_OOBINLINE:
			tp->oobinline = val != 0;
			return 0;
		case SO_RCVBUF:
			if (val > NET_CORE_RMEM_MAX)
				val = NET_CORE_RMEM_MAX;
			tp->rcvbuf_locked = true;
			tp->rcvbuf = (uint32_t)(val * 2 > SOCK_MIN_RCVBUF_ ? val * 2 : SOCK_MIN_RCVBUF_);
			return 0;
		case SO_SNDBUF:
			if (val > NET_CORE_WMEM_MAX)
				val = NET_CORE_WMEM_MAX;
			tp->sndbuf_locked = true;
			tp->sndbuf = (uint32_t)(val * 2 > SOCK_MIN_SNDBUF_ ? val * 2 : SOCK_MIN_SNDBUF_);
			tcp_sock_wake(tp);
			return 0;
		case SO_RCVLOWAT: {
			/* tcp_set_rcvlowat(): at most half the buffer (tcp_rmem[2] when not
			 * locked), which grows to hold that much when it may */
			int cap = tp->rcvbuf_locked ? (int)(tp->rcvbuf >> 1)
						    : tp->st->sysctl.ip.tcp_rmem[2] >> 1;
			uint32_t space;

			if (val > cap)
				val = cap;
			tp->rcvlowat = val > 0 ? val : 1;
			tcp_sock_wake(tp);
			if (tp->rcvbuf_locked || val <= 0)
				return 0;
			space = tcp_space_from_win(tp, (uint32_t)val);
			if (space > tp->rcvbuf) {
				tp->rcvbuf = space;
				if (tp->window_clamp && tp->window_clamp < (uint32_t)val)
					tp->window_clamp = (uint32_t)val;
			}
			return 0;
		}
		case SO_PRIORITY:
			tp->priority = (uint32_t)val;
			return 0;
		case SO_MARK:
			tp->mark = (uint32_t)val;
			return 0;
		}
		return -ENOPROTOOPT;
	}
	if (level == IPPROTO_IP) {
		err = get_int(optval, optlen, &val);
		if (err)
			return err;
		switch (optname) {
		case IP_TOS:
			/* the ECN bits belong to TCP */
			tp->tos = (uint8_t)((val & ~3) | (tp->tos & 3));
			return 0;
		case IP_TTL:
			if (val == -1)
				val = 0;
			else if (val < 1 || val > 255)
				return -EINVAL;
			tp->ttl_opt = (uint8_t)val;
			return 0;
		case IP_MTU_DISCOVER:
			if (val < IP_PMTUDISC_DONT || val > IP_PMTUDISC_OMIT)
				return -EINVAL;
			tp->pmtudisc = val;
			return 0;
		case IP_RECVERR:
			tp->recverr = val != 0;
			return 0;
		}
		return -ENOPROTOOPT;
	}
	return -ENOPROTOOPT;
}

void tcp_set_rcvbuf(struct tcp_sock *tp, int bytes)
{
	tp->rcvbuf_locked = true;
	tp->rcvbuf = (uint32_t)(bytes > SOCK_MIN_RCVBUF_ ? bytes : SOCK_MIN_RCVBUF_);
}

void tcp_set_sndbuf(struct tcp_sock *tp, int bytes)
{
	tp->sndbuf_locked = true;
	tp->sndbuf = (uint32_t)(bytes > SOCK_MIN_SNDBUF_ ? bytes : SOCK_MIN_SNDBUF_);
	tcp_sock_wake(tp);
}

void tcp_sock_set_icmp_error(struct tcp_sock *tp, tcp_icmp_error_fn *fn)
{
	tp->icmp_error = fn;
}

uint64_t tcp_sock_rx_tstamp(const struct tcp_sock *tp)
{
	return tp->rx_tstamp_ns;
}

void tcp_sock_set_rx_tstamp(struct tcp_sock *tp, uint64_t ns)
{
	tp->rx_tstamp_ns = ns;
}

int tcp_sock_peek_error(const struct tcp_sock *tp)
{
	return tp->err;
}

void tcp_sock_set_error(struct tcp_sock *tp, int err)
{
	tp->err = err;
}

int tcp_set_ip_options(struct tcp_sock *tp, const uint8_t *data, uint8_t len,
		       const struct wire_ipv4_opts *info)
{
	if (len > MAX_IPOPTLEN)
		return -EINVAL;
	if (!len) {
		free(tp->ip_opt);
		tp->ip_opt = NULL;
	} else {
		if (!tp->ip_opt && !(tp->ip_opt = calloc(1, sizeof(*tp->ip_opt))))
			return -ENOMEM;
		memset(tp->ip_opt->data, 0, sizeof(tp->ip_opt->data));
		memcpy(tp->ip_opt->data, data, len);
		tp->ip_opt->len = len;
		tp->ip_opt->info = *info;
	}
	/* do_ip_setsockopt(): icsk_ext_hdr_len changes and icsk_sync_mss() runs with the
	 * MTU cookie, whatever the state. A socket that never had a route (unconnected,
	 * listening) has cookie 0: __tcp_mtu_to_mss() floors at tcp_min_snd_mss and
	 * tcp_header_len, still 0 there, takes away 0 - 20: TCP_MAXSEG reads
	 * tcp_min_snd_mss + 20 (68) until connect() syncs to the route. */
	if (tp->pmtu)
		tcp_sync_mss(tp, tp->pmtu);
	else
		tp->mss_cache = (uint32_t)tp->st->sysctl.ip.tcp_min_snd_mss + WIRE_TCP_HLEN;
	return 0;
}

uint8_t tcp_get_ip_options(const struct tcp_sock *tp, uint8_t *data, struct wire_ipv4_opts *info)
{
	if (!tp->ip_opt)
		return 0;
	memcpy(data, tp->ip_opt->data, tp->ip_opt->len);
	*info = tp->ip_opt->info;
	return tp->ip_opt->len;
}

void tcp_set_local_port_range(struct tcp_sock *tp, uint32_t range)
{
	tp->local_port_range = range;
}

bool tcp_get_syn_rx(const struct tcp_sock *tp, int *ifindex, int *ttl, int *tos)
{
	if (!tp->syn_rx)
		return false;
	*ifindex = tp->syn_iif;
	*ttl = tp->syn_ttl;
	*tos = tp->syn_tos;
	return true;
}

void tcp_set_bound_dev(struct tcp_sock *tp, int ifindex)
{
	tp->bound_ifindex = ifindex;
}

int tcp_getsockopt(struct tcp_sock *tp, int level, int optname, void *optval, socklen_t *optlen)
{
	if (level == IPPROTO_TCP)
		return tcp_getsockopt_tcp(tp, optname, optval, optlen);
	if (level == IPPROTO_IP) {
		switch (optname) {
		case IP_MTU:
			if ((int)*optlen < 0)
				return -EINVAL;
			if (tp->state == TCP_CLOSE || tp->state == TCP_LISTEN || !tp->pmtu)
				return -ENOTCONN;
			/* ipv4_mtu() caps a route's MTU at IP_MAX_MTU (lo's 65536 reads 65535) */
			return put_int(optval, optlen, (int)(tp->pmtu < 0xffff ? tp->pmtu : 0xffff));
		case IP_TOS:
			return put_int(optval, optlen, tp->tos);
		case IP_TTL:
			return put_int(optval, optlen,
				       tp->ttl_opt ? tp->ttl_opt : tp->st->sysctl.ip.ip_default_ttl);
		case IP_MTU_DISCOVER:
			return put_int(optval, optlen, tp->pmtudisc);
		case IP_RECVERR:
			return put_int(optval, optlen, tp->recverr);
		}
		return -ENOPROTOOPT;
	}
	if (level == SOL_SOCKET) {
		switch (optname) {
		case SO_RCVBUF:
			return put_int(optval, optlen, (int)tp->rcvbuf);
		case SO_SNDBUF:
			return put_int(optval, optlen, (int)tp->sndbuf);
		case SO_KEEPALIVE:
			return put_int(optval, optlen, tp->keepalive_on);
		case SO_ERROR: {
			/* sock_getsockopt(): sk_err, else the soft error, each cleared */
			int e = tcp_sock_error(tp);

			if (!e) {
				e = tp->err_soft;
				tp->err_soft = 0;
			}
			return put_int(optval, optlen, e);
		}
		case SO_ACCEPTCONN:
			return put_int(optval, optlen, tp->state == TCP_LISTEN);
		case SO_RCVLOWAT:
			return put_int(optval, optlen, tp->rcvlowat);
		}
		return -ENOPROTOOPT;
	}
	return -ENOPROTOOPT;
}

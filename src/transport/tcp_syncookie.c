/* SYN cookies (RFC 4987 3.6) as Linux net/ipv4/syncookies.c: when the SYN queue is full
 * the SYN-ACK's ISN encodes a keyed hash of the 4-tuple, a minute counter and an MSS
 * index; the options (wscale, SACK, ECN) ride in the low 6 bits of the timestamp. The
 * connection is rebuilt from the ACK, so a flood cannot exhaust the queue. Keys are
 * derived from the stack secret (SipHash), never from a global. */
#include <stdlib.h>
#include <string.h>

#include "ip/ip.h"

#include "transport/tcp_int.h"

#define COOKIEBITS	24
#define COOKIEMASK	((1u << COOKIEBITS) - 1)
#define MAX_SYNCOOKIE_AGE 2
#define TSBITS		6
#define TSMASK		((1u << TSBITS) - 1)
#define TS_OPT_WSCALE_MASK 0xf
#define TS_OPT_SACK	(1u << 4)
#define TS_OPT_ECN	(1u << 5)

/* Linux msstab[]: the MSS values a cookie can carry. */
static const uint16_t msstab[] = { 536, 1300, 1440, 1460 };

static uint32_t cookie_hash(struct ips_stack *st, uint32_t saddr, uint32_t daddr, uint16_t sport,
			    uint16_t dport, uint32_t count, int c)
{
	uint8_t key[16];
	uint8_t data[17];

	memcpy(key, st->secret, 16);
	key[0] ^= (uint8_t)(0xc0 + c);	/* two independent keys, as syncookie_secret[2] */
	memcpy(data, &saddr, 4);
	memcpy(data + 4, &daddr, 4);
	memcpy(data + 8, &sport, 2);
	memcpy(data + 10, &dport, 2);
	memcpy(data + 12, &count, 4);
	data[16] = (uint8_t)c;
	return (uint32_t)siphash24(key, data, sizeof(data));
}

static uint32_t cookie_time(struct ips_stack *st)
{
	return (uint32_t)(stack_now_ms(st) / 60000);	/* minutes */
}

/* The ISN for a SYN-ACK answering seg; *mss is lowered to the table value it encodes. */
uint32_t tcp_cookie_init_seq(struct ips_stack *st, const struct tcp_seg *seg, uint16_t *mss)
{
	uint32_t saddr = seg->saddr, daddr = seg->daddr, count = cookie_time(st), idx;

	for (idx = sizeof(msstab) / sizeof(msstab[0]) - 1; idx; idx--)
		if (*mss >= msstab[idx])
			break;
	*mss = msstab[idx];
	return cookie_hash(st, saddr, daddr, seg->th.sport, seg->th.dport, 0, 0) + seg->seq +
	       (count << COOKIEBITS) +
	       ((cookie_hash(st, saddr, daddr, seg->th.sport, seg->th.dport, count, 1) + idx) &
		COOKIEMASK);
}

/* Linux cookie_init_timestamp(): the TS value with the options in its low bits. */
uint32_t tcp_cookie_init_ts(struct ips_stack *st, struct tcp_req *req, uint32_t ts_off)
{
	uint32_t now = (uint32_t)stack_now_ms(st) + ts_off;
	uint32_t opts = req->wscale_ok ? req->snd_wscale : TS_OPT_WSCALE_MASK;
	uint32_t ts;

	if (req->sack_ok)
		opts |= TS_OPT_SACK;
	if (req->ecn_ok)
		opts |= TS_OPT_ECN;
	ts = (now & ~TSMASK) | opts;
	if (after(ts, now))
		ts -= 1u << TSBITS;
	return ts;
}

/* Returns the MSS index + 1 for a valid cookie, 0 otherwise. */
static uint32_t cookie_check_seq(struct ips_stack *st, const struct tcp_seg *seg, uint32_t cookie)
{
	uint32_t count = cookie_time(st), diff, seq = seg->seq - 1, v;

	cookie -= cookie_hash(st, seg->saddr, seg->daddr, seg->th.sport, seg->th.dport, 0, 0) + seq;
	diff = (count - (cookie >> COOKIEBITS)) & ((uint32_t)-1 >> COOKIEBITS);
	if (diff >= MAX_SYNCOOKIE_AGE)
		return 0;
	v = (cookie - cookie_hash(st, seg->saddr, seg->daddr, seg->th.sport, seg->th.dport,
				  count - diff, 1)) & COOKIEMASK;
	return v < sizeof(msstab) / sizeof(msstab[0]) ? v + 1 : 0;
}

/* Linux cookie_v4_check(): an ACK to a listener that may complete a cookie handshake. */
bool tcp_cookie_check(struct tcp_sock *lsk, struct tcp_seg *seg)
{
	struct ips_stack *st = lsk->st;
	struct tcp_req *req;
	uint32_t idx;

	if (!st->sysctl.ip.tcp_syncookies)
		return false;
	/* tcp_synq_no_recent_overflow(): cookies are only checked for 2 minutes after this
	 * listener sent one */
	if (!lsk->lq->syncookie_last_overflow_s ||
	    stack_now_ms(st) / 1000 + 1 > lsk->lq->syncookie_last_overflow_s + 120)
		return false;
	idx = cookie_check_seq(st, seg, seg->ack - 1);
	if (!idx) {
		MIB_INC(st, TcpExtSyncookiesFailed);
		return false;
	}
	MIB_INC(st, TcpExtSyncookiesRecv);
	req = calloc(1, sizeof(*req));
	if (!req)
		return true;
	req->h.kind = TCP_HK_REQ;
	req->h.laddr = seg->daddr;
	req->h.raddr = seg->saddr;
	req->h.lport = seg->th.dport;
	req->h.rport = seg->th.sport;
	req->listener = lsk;
	req->irs = seg->seq - 1;
	req->iss = seg->ack - 1;
	req->mss = msstab[idx - 1];
	if (lsk->user_mss && lsk->user_mss < req->mss)
		req->mss = (uint16_t)lsk->user_mss;
	if (seg->opt.has_ts && st->sysctl.ip.tcp_timestamps) {
		/* cookie_timestamp_decode(): options from the echoed TS value */
		uint32_t opts = seg->opt.tsecr & TSMASK;
		uint32_t ws = opts & TS_OPT_WSCALE_MASK;

		req->tstamp_ok = true;
		req->ts_recent = seg->opt.tsval;
		req->ts_off = tcp_ts_off(st, seg->daddr, seg->saddr);
		if (ws != TS_OPT_WSCALE_MASK && st->sysctl.ip.tcp_window_scaling) {
			req->wscale_ok = true;
			req->snd_wscale = (uint8_t)(ws > 14 ? 14 : ws);
		}
		req->sack_ok = (opts & TS_OPT_SACK) && st->sysctl.ip.tcp_sack;
		req->ecn_ok = (opts & TS_OPT_ECN) && st->sysctl.ip.tcp_ecn;
	}
	/* cookie_v4_check(): ireq_opt from the ACK's options */
	tcp_req_save_ip_options(st, req, seg);
	{
		struct rt_result rt;
		uint32_t mtu = 1500;

		if (route_output(st, seg->saddr, seg->daddr, lsk->bound_ifindex, lsk->mark, &rt) == 0 &&
		    rt.mtu)
			mtu = rt.mtu;
		req->advmss = (uint16_t)(mtu - 40);
		if (lsk->user_mss && lsk->user_mss < req->advmss)
			req->advmss = (uint16_t)lsk->user_mss;
	}
	{
		/* the window the SYN-ACK offered (tcp_openreq_init_rwin again) */
		int full = tcp_full_space(lsk);

		req->window_clamp = lsk->window_clamp;
		tcp_select_initial_window(lsk, full,
					  req->advmss - (req->tstamp_ok ? TCP_OLEN_TS_ALIGNED : 0),
					  &req->rcv_wnd, &req->window_clamp, req->wscale_ok,
					  &req->rcv_wscale);
	}
	timer_init(&req->timer, NULL, NULL);
	/* the child takes over; the request was never hashed */
	{
		struct tcp_sock *child = tcp_create_child(lsk, req, seg);

		if (!child) {
			/* accept queue full: dropped, as tcp_get_cookie_sock() frees it */
			tcp_req_free(tcp_state_of(st), req);
			return true;
		}
		tcp_hold(child);
		if (tcp_rcv_state_process(child, seg))
			tcp_send_reset_reply(st, seg);
		tcp_release(child);
	}
	return true;
}

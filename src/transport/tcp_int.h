/* TCP internals shared by src/transport/tcp*.c. Not for other layers (see tcp.h). */
#ifndef IPS_TRANSPORT_TCP_INT_H
#define IPS_TRANSPORT_TCP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pkb.h"
#include "core/stack.h"
#include "core/timer.h"
#include "transport/tcp.h"
#include "wire/ipv4_opts.h"
#include "wire/tcp.h"

/* ---- Linux constants (include/net/tcp.h) ---- */
#define TCP_RTO_MIN_MS		200
#define TCP_RTO_MAX_MS		120000
#define TCP_TIMEOUT_INIT_MS	1000
#define TCP_TIMEWAIT_LEN_MS	60000
#define TCP_ATO_MIN_MS		40
#define TCP_DELACK_MAX_MS	200
#define TCP_MAX_QUICKACKS	16
#define TCP_INIT_CWND		10
#define TCP_KEEPALIVE_TIME_S	7200
#define TCP_RESOURCE_PROBE_MS	500
#define TCP_MIN_MSS		88
#define TCP_MAX_WINDOW		65535
#define TCP_PAWS_24DAYS_S	(60 * 60 * 24 * 24)
#define TCP_PAWS_MSL_S		60
#define TCP_PAWS_WINDOW		1
#define TCP_SOMAXCONN		4096
#define TCP_MAX_TCP_KEEPIDLE	32767
#define TCP_MAX_TCP_KEEPINTVL	32767
#define TCP_MAX_TCP_KEEPCNT	127
#define TCP_MAX_TCP_SYNCNT	127
#define TCP_FIN_TIMEOUT_MAX_S	120
#define TCP_OLEN_TS_ALIGNED	12
#define TCP_REO_WND_STEPS_MAX	256
#define TCP_RMEM_TO_WIN_SCALE	8
#define TCP_DEFAULT_SCALING_RATIO (1 << (TCP_RMEM_TO_WIN_SCALE - 1))
#define TCP_SOCK_MIN_RCVBUF	2304	/* SOCK_MIN_RCVBUF */

/* sequence arithmetic, RFC 9293 3.4 */
static inline bool before(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool after(uint32_t a, uint32_t b) { return (int32_t)(b - a) < 0; }
static inline bool between(uint32_t s, uint32_t lo, uint32_t hi) { return hi - lo >= s - lo; }
static inline uint32_t seq_max(uint32_t a, uint32_t b) { return after(a, b) ? a : b; }
static inline uint32_t seq_min(uint32_t a, uint32_t b) { return before(a, b) ? a : b; }

enum tcp_hkind { TCP_HK_SOCK = 1, TCP_HK_REQ, TCP_HK_TW };

/* What every object in the connection hash carries: its 4-tuple (addresses network
 * order, ports host order) and its kind. */
struct tcp_hnode {
	struct tcp_hnode *next, **pprev;	/* ehash chain; pprev NULL when unhashed */
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint32_t hash;
	uint8_t kind;
};

struct tcp_bucket;
/* Local port ownership (bind table): sockets and time-wait objects. */
struct tcp_bnode {
	struct tcp_bnode *next, **pprev;
	struct tcp_bucket *tb;
	uint8_t kind;				/* TCP_HK_SOCK or TCP_HK_TW */
};

struct tcp_bucket {
	struct tcp_bucket *next;
	uint16_t port;
	int8_t fastreuse;			/* -1: taken by connect(), else by bind() */
	struct tcp_bnode *owners;
};

/* Congestion control (tcp_cong_ops in Linux). */
struct tcp_cc_ops {
	const char *name;
	void (*init)(struct tcp_sock *tp);
	uint32_t (*ssthresh)(struct tcp_sock *tp);
	void (*cong_avoid)(struct tcp_sock *tp, uint32_t ack, uint32_t acked);
	void (*set_state)(struct tcp_sock *tp, uint8_t ca_state);
	void (*cwnd_event)(struct tcp_sock *tp, int ev);
	void (*pkts_acked)(struct tcp_sock *tp, uint32_t acked, int64_t rtt_us);
	uint32_t (*undo_cwnd)(struct tcp_sock *tp);
};
enum { CA_EVENT_TX_START = 0, CA_EVENT_CWND_RESTART, CA_EVENT_COMPLETE_CWR, CA_EVENT_LOSS };
/* TCP_CA_Open ... TCP_CA_Loss come from <netinet/tcp.h> */

extern const struct tcp_cc_ops tcp_cubic_ops;
extern const struct tcp_cc_ops tcp_reno_ops;
const struct tcp_cc_ops *tcp_cc_find(const char *name);
void tcp_reno_cong_avoid(struct tcp_sock *tp, uint32_t ack, uint32_t acked);
uint32_t tcp_reno_ssthresh(struct tcp_sock *tp);
uint32_t tcp_reno_undo_cwnd(struct tcp_sock *tp);
uint32_t tcp_slow_start(struct tcp_sock *tp, uint32_t acked);
void tcp_cong_avoid_ai(struct tcp_sock *tp, uint32_t w, uint32_t acked);
void tcp_cwnd_restart(struct tcp_sock *tp, int32_t delta_ms);
void tcp_slow_start_after_idle_check(struct tcp_sock *tp);
uint32_t tcp_current_ssthresh(const struct tcp_sock *tp);	/* tcp_ack.c */

/* One transmitted segment of the retransmit queue: sequence space only, the bytes are
 * in the send ring. Kept in sequence order (next/prev) and, while not fully acked, in
 * transmit-time order (tnext/tprev: Linux's tsorted list, so RACK walks only the
 * segments it can mark). */
struct tcp_txrec {
	struct tcp_txrec *next, *prev;
	struct tcp_txrec *tnext, *tprev;
	uint32_t seq, end_seq;		/* end_seq counts SYN and FIN */
	uint64_t xmit_us;		/* last (re)transmission */
	uint64_t first_us;		/* first transmission (retrans_stamp, delivery) */
	uint8_t flags;
	uint8_t tcp_flags;		/* WIRE_TCP_SYN / FIN / URG... carried */
	uint16_t pcount;		/* segments (1; more when larger than mss after a
					 * PMTU drop, until re-cut) */
};
#define TXR_SACKED	0x01
#define TXR_LOST	0x02
#define TXR_RETRANS	0x04	/* retransmitted and not yet acked/declared lost again */
#define TXR_EVER_RETRANS 0x08
#define TXR_TSORTED	0x10	/* on the tsorted list */

/* Received segment metadata in pkb->cb. */
struct tcp_rcb {
	uint32_t seq, end_seq;		/* data only (no SYN/FIN) for queued segments */
	uint8_t fin;
};
static inline struct tcp_rcb *TCP_RCB(struct pkb *p)
{
	return (struct tcp_rcb *)p->cb;
}

/* A parsed incoming segment. */
struct tcp_seg {
	struct wire_tcp th;
	struct wire_tcp_opts opt;
	uint32_t saddr, daddr;		/* network order */
	uint32_t seq, end_seq, ack;
	uint32_t len;			/* payload bytes */
	const uint8_t *data;
	uint16_t flags;
	uint8_t tos;
	uint8_t ttl;
	struct pkb *pkb;		/* data at the payload */
	int ifindex;
	/* A super-packet (GRO, a memlink or TAP with TSO): its sender's segment size and
	 * count (skb_shinfo(skb)->gso_size/gso_segs); 0 for an ordinary segment. */
	uint16_t gso_size, gso_segs;
};

/* Pending timer events of a connection (one struct timer; these are deadlines, 0 = off). */
enum tcp_tev {
	TCP_TEV_RETRANS = 0,	/* RTO, TLP, RACK reorder, zero-window probe: one at a time */
	TCP_TEV_DELACK,
	TCP_TEV_KEEPALIVE,	/* keepalive, and the SYN_SENT/FIN_WAIT2 orphan timeouts */
	TCP_TEV_COMPACK,	/* compressed SACK (tcp_comp_sack_delay_ns) */
	TCP_TEV_MAX
};
enum tcp_pending { ICSK_TIME_RETRANS = 1, ICSK_TIME_PROBE0, ICSK_TIME_LOSS_PROBE,
		   ICSK_TIME_REO_TIMEOUT };

/* ack.pending bits (Linux inet_csk ack state) */
#define ICSK_ACK_SCHED	1
#define ICSK_ACK_TIMER	2
#define ICSK_ACK_PUSHED	4
#define ICSK_ACK_PUSHED2 8
#define ICSK_ACK_NOW	16

struct tcp_listen_q;

/* IP options a connection or request sends, held apart (allocated when there are any),
 * compiled: data/len as wire_ipv4_opts_compile_user() or wire_ipv4_opts_echo() left
 * them, ready for ip4_output() (ip_options_build()). */
struct tcp_ipopt {
	uint8_t data[MAX_IPOPTLEN];
	uint8_t len;
	struct wire_ipv4_opts info;
};
/* icsk_ext_hdr_len */
static inline uint8_t tcp_ipopt_len(const struct tcp_ipopt *o)
{
	return o ? o->len : 0;
}
/* Where a connection's packets are routed: a source route's first hop (faddr). */
static inline uint32_t tcp_ipopt_nexthop(const struct tcp_ipopt *o, uint32_t daddr)
{
	return o && o->info.srr ? o->info.faddr : daddr;
}

struct tcp_sock {
	struct tcp_hnode h;		/* must be first */
	struct tcp_bnode b;
	struct ips_stack *st;
	uint8_t state;
	uint8_t shutdown;		/* RCV_SHUTDOWN 1 | SEND_SHUTDOWN 2 */
	bool orphan;			/* user closed it */
	bool bound;			/* explicit bind() (or autobind) done */
	bool userlocks_port;		/* bound by bind() with a port */
	bool reuseaddr;
	bool nonagle_nodelay, cork, keepalive_on, oobinline;
	bool quickack_opt;
	bool linger_on;
	bool fin_pending;		/* user shutdown(WR): FIN after the queued data */
	bool fin_sent;
	bool is_child;			/* created from a listener, not yet accepted */
	bool in_accept_q;
	int linger_s;
	int err;			/* sk_err: reported by tcp_sock_error / calls */
	int err_soft;			/* sk_err_soft: ICMP soft errors */
	struct tcp_wake wake;
	tcp_icmp_error_fn *icmp_error;	/* the owner's error queue (ip_icmp_error) */
	uint64_t rx_tstamp_ns;		/* receive time of the last segment read (tss) */

	/* listener */
	struct tcp_listen_q *lq;
	struct tcp_sock *parent;	/* for a child in the accept queue */
	struct tcp_sock *acc_next;
	struct tcp_sock *all_next, *all_prev;	/* every socket of the stack */
	bool rcv_done;			/* SOCK_DONE: FIN received */
	bool ever_connected;
	bool write_seq_preset;		/* ISN chosen by TIME_WAIT reuse */
	uint16_t busy;			/* input/timer processing in progress */
	bool zombie;			/* orphan done while busy: free when idle */
	uint16_t inet_id;		/* IP ID counter (DF packets of a connection) */
	uint32_t snd_sml;		/* end of the last small segment (Minshall) */
	uint32_t cwnd_usage_seq;
	uint32_t highest_sack;		/* end of the highest SACKed segment */
	uint32_t reord_seen;
	uint32_t compressed_ack, dup_ack_counter, compressed_ack_rcv_nxt;
	bool syn_data_acked;
	bool saw_ts;			/* the segment being processed had TS */
	bool recverr;			/* IP_RECVERR */
	uint32_t rcv_tsval, rcv_tsecr;

	/* timers */
	struct timer timer;
	uint64_t tev[TCP_TEV_MAX];	/* deadlines in ns, 0 = not pending */
	uint8_t pending;		/* which retransmit-timer event (ICSK_TIME_*) */
	uint8_t retransmits;		/* icsk_retransmits */
	uint8_t backoff;		/* icsk_backoff */
	uint8_t probes_out;		/* icsk_probes_out */
	uint32_t rto_ms;
	uint64_t probes_tstamp_ms;	/* first unanswered zero-window probe */
	uint64_t retrans_stamp_ms;	/* first transmission of the oldest unacked segment
					 * being retransmitted (Linux retrans_stamp), 0 = none */
	uint32_t user_timeout_ms;
	int keepidle_s, keepintvl_s, keepcnt, syncnt, linger2_s, defer_accept_s;

	/* addresses, route */
	uint32_t mark, priority;
	int bound_ifindex;
	uint8_t tos, ttl_opt;		/* ttl_opt 0 = default */
	int pmtudisc;			/* IP_PMTUDISC_* */
	uint32_t pmtu;			/* path MTU in use */
	uint32_t local_port_range;	/* IP_LOCAL_PORT_RANGE: hi << 16 | lo, 0 = none */
	/* IP options on every segment (inet_opt), NULL: none (nearly every connection):
	 * IP_OPTIONS as compiled by wire_ipv4_opts_compile_user(), or for a child the echo
	 * of its SYN's (tcp_v4_save_options()). Their length is icsk_ext_hdr_len: the MSS
	 * shrinks by it. */
	struct tcp_ipopt *ip_opt;
	/* the handshake's final ACK (tcp_v4_syn_recv_sock(): mc_index, mc_ttl, rcv_tos) */
	bool syn_rx;			/* a child: the three below are set */
	int syn_iif;
	uint8_t syn_ttl, syn_tos;

	/* sequence state (RFC 9293 3.3.1) */
	uint32_t iss, irs;
	uint32_t snd_una, snd_nxt, snd_wnd, snd_wl1, snd_up, max_window;
	uint32_t write_seq;		/* seq after the last byte queued by the user */
	uint32_t pushed_seq;
	uint32_t rcv_nxt, rcv_wup, rcv_wnd, copied_seq, rcv_ssthresh, window_clamp;
	uint32_t user_window_clamp;
	uint8_t scaling_ratio;		/* window per byte of buffer, /256 (Linux scaling_ratio) */
	uint32_t urg_data_seq;		/* seq of the urgent byte when urg_state */
	uint8_t urg_state;		/* 0 none, 1 pending (not yet read), 2 read */
	uint8_t urg_byte;
	uint32_t snd_up_seq;
	bool urg_send;

	/* options negotiated */
	bool tstamp_ok, sack_ok, wscale_ok, ecn_ok;
	uint8_t snd_wscale, rcv_wscale;
	uint32_t ts_recent, ts_off;
	uint64_t ts_recent_stamp_s;
	uint32_t mss_cache;		/* current effective send MSS (minus TS option) */
	uint32_t mss_clamp;		/* peer's MSS option (or 536) clamped by TCP_MAXSEG */
	uint32_t advmss;
	uint32_t user_mss;
	uint32_t rcv_mss;		/* estimate of the peer's segment size */
	uint32_t tcp_header_len;
	uint16_t saw_ts_synack;

	/* RTT (Linux tcp_rtt_estimator) */
	uint32_t srtt_us;		/* << 3 */
	uint32_t mdev_us;		/* << 2 */
	uint32_t mdev_max_us, rttvar_us;
	uint32_t rtt_seq;
	uint32_t min_rtt_us;
	uint64_t min_rtt_stamp_ms;

	/* congestion control */
	const struct tcp_cc_ops *cc;
	uint64_t cc_priv[16];
	uint32_t snd_cwnd, snd_ssthresh, snd_cwnd_cnt, snd_cwnd_clamp;
	uint32_t prior_cwnd, prior_ssthresh;
	uint64_t snd_cwnd_stamp_ms;
	uint64_t lsndtime_ms, lrcvtime_ms;	/* last send of data / last receive */
	uint32_t max_packets_out, is_cwnd_limited;
	uint32_t snd_cwnd_used;		/* most packets out while not cwnd-limited */
	uint8_t ca_state;
	uint32_t high_seq, undo_marker;
	int32_t undo_retrans;		/* retransmissions not yet D-SACKed; -1: none made
					 * (0 means "may undo now", as Linux) */
	bool frto;			/* F-RTO (RFC 5682) running in this Loss episode */
	uint32_t prr_delivered, prr_out;
	uint32_t packets_out, sacked_out, lost_out, retrans_out;
	uint32_t reordering;
	uint32_t dupacks;		/* Reno (no SACK) duplicate ACK count */
	uint32_t tlp_high_seq;
	bool tlp_retrans;
	uint32_t delivered;
	uint32_t ecn_flags;

	/* RACK (RFC 8985) */
	struct {
		uint64_t mstamp_us;	/* xmit time of the most recently delivered segment */
		uint32_t end_seq;
		uint32_t rtt_us;
		uint32_t last_delivered;
		uint8_t reo_wnd_steps;
		uint8_t reo_wnd_persist;
		bool dsack_seen;
		bool advanced;
		bool reord;
	} rack;

	/* send: the byte ring holds [snd_una data .. write_seq) */
	uint8_t *sbuf;
	uint32_t sbuf_cap;		/* power of two */
	uint32_t sbuf_head;		/* ring index of the byte at sbuf_seq */
	uint32_t sbuf_seq;		/* seq of the oldest byte in the ring */
	uint32_t sndbuf;		/* SO_SNDBUF (doubled as Linux) */
	bool sndbuf_locked, rcvbuf_locked;
	bool nospace;			/* the writer found the buffer full (SOCK_NOSPACE) */
	struct tcp_txrec *rtx_head, *rtx_tail;	/* sequence order */
	struct tcp_txrec *ts_head, *ts_tail;	/* transmit-time order */
	struct tcp_txrec *sack_hint;
	uint32_t notsent_lowat;
	bool more_pending;		/* MSG_MORE on the last send */

	/* receive */
	struct pkb_queue rcvq;		/* in order, data from copied_seq */
	struct pkb_queue ofoq;		/* out of order, sorted by seq */
	uint32_t rmem_alloc;		/* truesize of both queues */
	uint32_t rcvbuf;
	int rcvlowat;
	struct wire_tcp_sack sacks[WIRE_TCP_NUM_SACKS];
	uint8_t num_sacks;
	bool dsack;
	struct wire_tcp_sack dsack_blk;
	struct {
		uint32_t space, seq;
		uint64_t time_us;
	} rcvq_space;
	uint32_t rcv_rtt_us;		/* receiver RTT estimate (<<3) */
	uint32_t rcv_rtt_seq;
	uint64_t rcv_rtt_time_us;
	uint32_t rcv_rtt_last_tsecr;	/* one TS sample per echoed value */

	/* delayed ACK (inet_connection_sock.icsk_ack) */
	struct {
		uint8_t pending;
		uint8_t quick;
		uint8_t pingpong;
		uint32_t ato_ms;
		uint64_t lrcvtime_ms;
		uint32_t last_seg_size;
		uint32_t rcv_mss;
	} ack;
	uint64_t last_oow_ack_ms;
	uint64_t last_challenge_ms;

	/* statistics for TCP_INFO */
	uint32_t total_retrans, segs_in, segs_out, data_segs_in, data_segs_out;
	uint64_t bytes_acked, bytes_received, bytes_sent, bytes_retrans;
	uint32_t dsack_dups, rcv_ooopack, snd_wnd_max_seen;
	uint64_t last_data_recv_ms, last_ack_recv_ms, last_data_sent_ms;
	uint64_t delivered_mstamp_us;
	uint32_t tlp_probes;
	uint32_t total_rto_count;
};

#define RCV_SHUTDOWN	1
#define SEND_SHUTDOWN	2

/* A listener's queues. */
struct tcp_req;
struct tcp_listen_q {
	int backlog;			/* sk_max_ack_backlog */
	int syn_qlen;
	int young;			/* requests not yet timed out (queue->young) */
	int acc_qlen;
	uint64_t syncookie_last_overflow_s;	/* last cookie sent + 1 (tcp_synq_overflow) */
	struct tcp_req *syn_head;	/* request sockets (list) */
	struct tcp_sock *acc_head, *acc_tail;
};

/* A request socket (SYN received, SYN-ACK sent): Linux's tcp_request_sock. */
struct tcp_req {
	struct tcp_hnode h;		/* must be first */
	struct tcp_req *lnext, **lpprev;	/* listener's list */
	struct tcp_sock *listener;
	struct timer timer;
	uint32_t iss, irs;
	uint32_t ts_recent, ts_off;
	uint32_t rcv_wnd;
	uint16_t mss;			/* the peer's MSS option (mss_clamp), 536 if none */
	uint16_t advmss;		/* what our SYN-ACK offers */
	uint32_t window_clamp;
	uint64_t last_oow_ack_ms;
	uint8_t snd_wscale, rcv_wscale;
	bool tstamp_ok, sack_ok, wscale_ok, ecn_ok;
	bool acked;			/* bare ACK seen while deferring accept */
	uint8_t num_retrans, num_timeout;
	uint64_t synack_us;		/* first SYN-ACK transmission (RTT sample) */
	uint8_t tos;
	/* ireq_opt: the echo of the SYN's IP options (tcp_v4_save_options()), on the
	 * SYN-ACKs and then the child's segments (a source route reversed); NULL: none */
	struct tcp_ipopt *ip_opt;
};

/* A connection in TIME_WAIT (or an orphan in FIN_WAIT2): inet_timewait_sock. */
struct tcp_tw {
	struct tcp_hnode h;		/* must be first */
	struct tcp_bnode b;
	struct ips_stack *st;
	struct timer timer;
	uint8_t substate;		/* TCP_TIME_WAIT or TCP_FIN_WAIT2 */
	uint32_t snd_nxt, rcv_nxt, rcv_wnd;
	uint32_t ts_recent, ts_off;
	uint64_t ts_recent_stamp_s;
	uint8_t rcv_wscale;
	bool tstamp_ok;
	uint8_t tos;
	uint64_t created_ms;
	uint64_t last_oow_ack_ms;
	bool reuse;			/* SO_REUSEADDR of the socket it replaced */
};

/* Per-stack TCP state. */
struct tcp_state {
	struct ips_stack *st;
	struct tcp_hnode **ehash;	/* connections: socks, requests, time-waits */
	uint32_t ehash_mask;
	uint32_t ehash_count;
	struct tcp_bucket **bhash;	/* bound ports */
	uint32_t bhash_mask;
	struct tcp_lnode **lh;
	uint32_t lh_mask;
	long nsocks, ntw;
	uint32_t port_hint;		/* RFC 6056 algorithm 3 table perturbation */
	uint16_t port_table[256];
	uint32_t challenge_count;
	uint64_t challenge_stamp_s;
	struct tcp_sock *all;		/* every tcp_sock, for fini and foreach */
	size_t ring_bytes;		/* send rings allocated (tcp_mem_bytes) */
	uint32_t ehash_secret;		/* tcp_ehashfn()'s jhash seed (inet_ehash_secret) */
};

struct tcp_lnode {			/* listener table entry */
	struct tcp_lnode *next;
	struct tcp_sock *tp;
};

/* ---- tcp.c ---- */
static inline struct tcp_state *tcp_state_of(struct ips_stack *st) { return st->tcp; }
void tcp_set_state(struct tcp_sock *tp, int to);
void tcp_done(struct tcp_sock *tp);		/* to CLOSE: timers off, unhash, wake */
void tcp_sock_wake(struct tcp_sock *tp);
void tcp_reset(struct tcp_sock *tp);		/* received a valid RST */
void tcp_write_err(struct tcp_sock *tp);	/* timed out */
struct tcp_sock *tcp_sock_alloc(struct ips_stack *st);
void tcp_sock_destroy(struct tcp_sock *tp);
void tcp_init_buffer_space(struct tcp_sock *tp);
uint32_t tcp_win_from_space(const struct tcp_sock *tp, int space);
uint32_t tcp_space_from_win(const struct tcp_sock *tp, uint32_t win);
void tcp_set_window_clamp(struct tcp_sock *tp, uint32_t val);
int tcp_full_space(const struct tcp_sock *tp);
int tcp_space(const struct tcp_sock *tp);
void tcp_select_initial_window(struct tcp_sock *tp, int space, uint32_t mss, uint32_t *rcv_wnd,
			       uint32_t *clamp, bool wscale_ok, uint8_t *rcv_wscale);
void tcp_hold(struct tcp_sock *tp);
void tcp_release(struct tcp_sock *tp);	/* frees a zombie */
void tcp_sndbuf_expand(struct tcp_sock *tp);
uint32_t tcp_ring_free(const struct tcp_sock *tp);
bool tcp_is_writeable(const struct tcp_sock *tp);
void tcp_ring_consume(struct tcp_sock *tp, uint32_t upto_seq);
void tcp_ring_copy(const struct tcp_sock *tp, uint32_t seq, uint8_t *dst, uint32_t len);
int tcp_route(struct tcp_sock *tp, uint32_t *mtu);
uint32_t tcp_mss_from_mtu(struct tcp_sock *tp, uint32_t pmtu);
uint32_t tcp_sync_mss(struct tcp_sock *tp, uint32_t pmtu);
uint32_t tcp_current_mss(struct tcp_sock *tp);
void tcp_finish_connect(struct tcp_sock *tp);
void tcp_init_transfer(struct tcp_sock *tp);
void tcp_fin_received(struct tcp_sock *tp);
void tcp_rcv_space_adjust(struct tcp_sock *tp);
void tcp_rcvbuf_grow(struct tcp_sock *tp, uint32_t newval);
int tcp_ts_now(const struct tcp_sock *tp);
/* What a received packet costs the receive buffer, in Linux's units: its data buffer
 * plus an sk_buff (SKB_DATA_ALIGN(sizeof(struct sk_buff)) = 256 on x86-64), so that a
 * full-sized segment in a 2 KB buffer costs 2304 as a kernel skb from a kmalloc-2048
 * head (TUN, most NIC drivers) and tcp_rmem, SO_RCVBUF and the scaling ratio
 * (payload/truesize) come out as Linux's. */
#define TCP_SKB_OVERHEAD 256u
static inline uint32_t tcp_rmem_truesize(const struct pkb *p)
{
	return (uint32_t)p->size + TCP_SKB_OVERHEAD;
}
static inline uint32_t tcp_now_ms(const struct ips_stack *st) { return (uint32_t)stack_now_ms(st); }
static inline uint64_t tcp_now_us(const struct ips_stack *st) { return stack_now_ns(st) / 1000; }
static inline uint32_t tcp_tsval(const struct ips_stack *st, uint32_t off)
{
	return (uint32_t)stack_now_ms(st) + off;
}
void tcp_cc_set(struct tcp_sock *tp, const struct tcp_cc_ops *cc);
bool tcp_in_initial_slowstart(const struct tcp_sock *tp);
void tcp_enter_quickack_mode(struct tcp_sock *tp, unsigned max_quickacks);

/* tcp_ack() flags (tcp_ack.c, tcp_input.c: Linux's FLAG_*) */
#define FLAG_DATA		0x01
#define FLAG_WIN_UPDATE		0x02
#define FLAG_DATA_ACKED		0x04
#define FLAG_RETRANS_DATA_ACKED	0x08
#define FLAG_SYN_ACKED		0x10
#define FLAG_DATA_SACKED	0x20
#define FLAG_ECE		0x40
#define FLAG_LOST_RETRANS	0x80
#define FLAG_SLOWPATH		0x100
#define FLAG_ORIG_SACK_ACKED	0x200
#define FLAG_SND_UNA_ADVANCED	0x400
#define FLAG_DSACKING_ACK	0x800
#define FLAG_SET_XMIT_TIMER	0x1000
#define FLAG_SACK_RENEGING	0x2000
#define FLAG_UPDATE_TS_RECENT	0x4000
#define FLAG_NO_CHALLENGE_ACK	0x8000
#define FLAG_DSACK_TLP		0x20000
#define FLAG_ACK_MAYBE_DELAYED	0x10000
#define FLAG_ACKED		(FLAG_DATA_ACKED | FLAG_SYN_ACKED)
#define FLAG_NOT_DUP		(FLAG_DATA | FLAG_WIN_UPDATE | FLAG_ACKED)
#define FLAG_CA_ALERT		(FLAG_DATA_SACKED | FLAG_ECE | FLAG_DSACKING_ACK)
#define FLAG_FORWARD_PROGRESS	(FLAG_ACKED | FLAG_DATA_SACKED)
int tcp_ack(struct tcp_sock *tp, struct tcp_seg *seg, int flag);
bool tcp_ack_update_rtt(struct tcp_sock *tp, int flag, long seq_rtt_us, long sack_rtt_us,
			long ca_rtt_us);
bool tcp_may_update_window(const struct tcp_sock *tp, uint32_t ack, uint32_t ack_seq,
			   uint32_t nwin);
void tcp_store_ts_recent(struct tcp_sock *tp, const struct tcp_seg *seg);
bool tcp_paws_check(const struct tcp_sock *tp, uint32_t tsval, int win);
uint32_t tcp_packets_in_flight(const struct tcp_sock *tp);
uint32_t tcp_bound_rto(struct tcp_sock *tp);

/* ---- tcp_hash.c ---- */
int tcp_hash_init(struct tcp_state *ts);
void tcp_hash_fini(struct tcp_state *ts);
uint32_t tcp_ehashfn(struct ips_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
		     uint16_t rport);
void tcp_ehash_insert(struct tcp_state *ts, struct tcp_hnode *h);
void tcp_ehash_remove(struct tcp_state *ts, struct tcp_hnode *h);
struct tcp_hnode *tcp_ehash_lookup(struct tcp_state *ts, uint32_t laddr, uint16_t lport,
				   uint32_t raddr, uint16_t rport);
struct tcp_sock *tcp_listener_lookup(struct tcp_state *ts, uint32_t laddr, uint16_t lport,
				     int ifindex);
int tcp_listen_hash(struct tcp_state *ts, struct tcp_sock *tp);
void tcp_listen_unhash(struct tcp_state *ts, struct tcp_sock *tp);
int tcp_bind_port(struct tcp_state *ts, struct tcp_sock *tp, uint16_t port);
void tcp_bnode_put(struct tcp_state *ts, struct tcp_bnode *b);
void tcp_bnode_inherit(struct tcp_bnode *child, struct tcp_bnode *parent);
/* Pick the local port (if unbound) and hash the connection; may recycle a TIME_WAIT
 * with the same 4-tuple (tcp_tw_reuse), setting *isn_out to the ISN to use. */
int tcp_hash_connect(struct tcp_state *ts, struct tcp_sock *tp);
uint32_t tcp_sk_laddr(const struct tcp_bnode *b);

/* ---- tcp_isn.c ---- */
uint32_t tcp_isn(struct ips_stack *st, uint32_t saddr, uint32_t daddr, uint16_t sport,
		 uint16_t dport);
uint32_t tcp_ts_off(struct ips_stack *st, uint32_t saddr, uint32_t daddr);

/* ---- tcp_output.c ---- */
int tcp_transmit(struct tcp_sock *tp, struct tcp_txrec *rec, uint32_t seq, uint32_t len,
		 uint16_t flags, bool retrans);
void tcp_send_ack(struct tcp_sock *tp);
void tcp_send_delayed_ack(struct tcp_sock *tp);
void tcp_send_dupack(struct tcp_sock *tp, const struct tcp_seg *seg);
void tcp_send_challenge_ack(struct tcp_sock *tp);
void tcp_send_active_reset(struct tcp_sock *tp);
void tcp_send_fin(struct tcp_sock *tp);
int tcp_send_syn(struct tcp_sock *tp);
int tcp_send_synack_req(struct ips_stack *st, struct tcp_req *req, struct tcp_sock *lsk);
void tcp_send_reset_reply(struct ips_stack *st, const struct tcp_seg *seg);
/* ip_send_unicast_reply()'s options: the echo of seg's IP options into o (o->len 0:
 * none); -EINVAL when they cannot be echoed (no reply then). */
int tcp_ip_options_echo(struct ips_stack *st, const struct tcp_seg *seg, struct tcp_ipopt *o);
void tcp_send_ack_raw(struct ips_stack *st, const struct tcp_seg *seg, uint32_t saddr,
		      uint32_t daddr, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		      uint32_t win, uint32_t tsval, uint32_t tsecr, bool ts, uint8_t tos,
		      uint16_t extra_flags);
void tcp_push(struct tcp_sock *tp, int nonagle);
bool tcp_write_xmit(struct tcp_sock *tp, uint32_t mss, int nonagle, int push_one);
void tcp_xmit_retransmit_queue(struct tcp_sock *tp);
int tcp_retransmit_rec(struct tcp_sock *tp, struct tcp_txrec *rec);
void tcp_send_loss_probe(struct tcp_sock *tp);
int tcp_write_wakeup(struct tcp_sock *tp);
void tcp_send_probe0(struct tcp_sock *tp);
uint32_t tcp_select_window(struct tcp_sock *tp);
uint32_t tcp_raw_select_window(struct tcp_sock *tp);	/* __tcp_select_window */
bool tcp_send_head_pending(const struct tcp_sock *tp);
void tcp_event_new_data_sent(struct tcp_sock *tp, struct tcp_txrec *rec);
void tcp_rtx_rec_unlink(struct tcp_sock *tp, struct tcp_txrec *rec);
void tcp_rtx_tsorted_touch(struct tcp_sock *tp, struct tcp_txrec *rec);
void tcp_rtx_purge(struct tcp_sock *tp);
struct tcp_txrec *tcp_rec_split(struct tcp_sock *tp, struct tcp_txrec *rec, uint32_t at);
void tcp_check_space(struct tcp_sock *tp);
void tcp_data_snd_check(struct tcp_sock *tp);
bool tcp_schedule_loss_probe(struct tcp_sock *tp, bool advancing_rto);
void tcp_mtu_reduced(struct tcp_sock *tp, uint32_t mtu);
void tcp_tw_send_ack(struct ips_stack *st, struct tcp_tw *tw, const struct tcp_seg *seg);
void tcp_req_send_ack(struct ips_stack *st, struct tcp_req *req, const struct tcp_seg *seg);
uint32_t tcp_rec_data_seq(const struct tcp_txrec *r);
uint32_t tcp_rec_data_len(const struct tcp_txrec *r);

/* ---- tcp_input.c ---- */
void tcp_v4_rcv(struct ips_stack *st, struct pkb *pkb);
void tcp_v4_err(struct ips_stack *st, struct pkb *icmp, int type, int code, uint32_t info,
		const uint8_t *inner, size_t inner_len);
void tcp_rtt_estimator(struct tcp_sock *tp, long mrtt_us);
void tcp_set_rto(struct tcp_sock *tp);
void tcp_update_pacing(struct tcp_sock *tp);
void tcp_enter_loss(struct tcp_sock *tp);
void tcp_init_cwnd_reduction(struct tcp_sock *tp);
void tcp_enter_cwr(struct tcp_sock *tp);	/* tcp_ack.c: local congestion, ECE */
void tcp_init_undo(struct tcp_sock *tp);	/* tcp_ack.c */
int tcp_rcv_state_process(struct tcp_sock *tp, struct tcp_seg *seg);
void tcp_data_ready(struct tcp_sock *tp);
void tcp_parse_seg_opts(struct ips_stack *st, struct tcp_seg *seg);
void tcp_clear_retrans(struct tcp_sock *tp);

/* ---- tcp_recovery.c (SACK scoreboard, RACK-TLP, PRR) ---- */
int tcp_sacktag(struct tcp_sock *tp, const struct tcp_seg *seg, uint32_t prior_snd_una,
		uint32_t *dsack_out);
void tcp_rack_advance(struct tcp_sock *tp, uint8_t flags, uint64_t xmit_us, uint32_t end_seq);
/* Linux tcp_highest_sack_seq(): end of the highest SACKed data, SND.UNA without any. */
uint32_t tcp_highest_sack_seq(const struct tcp_sock *tp);
/* Linux tcp_check_sack_reordering(): original data from low_seq was delivered below the
 * highest SACK: count the reordering and widen `reordering` to its extent. */
void tcp_check_sack_reordering(struct tcp_sock *tp, uint32_t low_seq);
void tcp_rack_mark_lost(struct tcp_sock *tp);
void tcp_rack_reo_timeout(struct tcp_sock *tp);
void tcp_rack_update_reo_wnd(struct tcp_sock *tp, uint32_t dsack_seen);
void tcp_mark_rec_lost(struct tcp_sock *tp, struct tcp_txrec *r);
void tcp_cwnd_reduction(struct tcp_sock *tp, uint32_t newly_acked_sacked, uint32_t newly_lost,
			int flag);
void tcp_newreno_mark_head_lost(struct tcp_sock *tp);
void tcp_sack_new_ofo(struct tcp_sock *tp, uint32_t seq, uint32_t end_seq);
void tcp_sack_remove(struct tcp_sock *tp);
void tcp_dsack_set(struct tcp_sock *tp, uint32_t seq, uint32_t end_seq);
void tcp_dsack_extend(struct tcp_sock *tp, uint32_t seq, uint32_t end_seq);

/* ---- tcp_timer.c ---- */
void tcp_timer_init(struct tcp_sock *tp);
void tcp_timer_update(struct tcp_sock *tp);
void tcp_reset_xmit_timer(struct tcp_sock *tp, int what, uint64_t when_ms);
void tcp_clear_xmit_timer(struct tcp_sock *tp);
void tcp_clear_xmit_timers(struct tcp_sock *tp);
void tcp_rearm_rto(struct tcp_sock *tp);
void tcp_reset_keepalive_timer(struct tcp_sock *tp, uint64_t when_ms);
void tcp_delete_keepalive_timer(struct tcp_sock *tp);
void tcp_delack_arm(struct tcp_sock *tp, uint64_t when_ms);
void tcp_delack_clear(struct tcp_sock *tp);
uint32_t tcp_keepalive_time_ms(const struct tcp_sock *tp);
uint32_t tcp_keepalive_intvl_ms(const struct tcp_sock *tp);
int tcp_keepalive_probes(const struct tcp_sock *tp);
uint32_t tcp_fin_time_ms(const struct tcp_sock *tp);
void tcp_check_probe_timer(struct tcp_sock *tp);
uint64_t tcp_probe0_when_ms(const struct tcp_sock *tp, uint32_t max_ms);
void tcp_set_keepalive(struct tcp_sock *tp, bool on);

/* ---- tcp_minisocks.c (request sockets, time-wait, SYN cookies) ---- */
void tcp_conn_request(struct tcp_sock *lsk, struct tcp_seg *seg);
void tcp_check_req(struct tcp_req *req, struct tcp_seg *seg);
void tcp_req_free(struct tcp_state *ts, struct tcp_req *req);
void tcp_req_save_ip_options(struct ips_stack *st, struct tcp_req *req, const struct tcp_seg *seg);
void tcp_listen_flush(struct tcp_sock *lsk);
void tcp_time_wait(struct tcp_sock *tp, int state, uint32_t timeo_ms);
void tcp_tw_process(struct tcp_tw *tw, struct tcp_seg *seg);
void tcp_tw_free(struct tcp_state *ts, struct tcp_tw *tw);
/* tcp_twsk_unique(); bound: connect() from a bound port (Linux's twp == NULL) */
bool tcp_tw_reusable(struct tcp_state *ts, struct tcp_tw *tw, struct tcp_sock *tp, bool bound);
/* SYN cookies (tcp_syncookie.c) */
uint32_t tcp_cookie_init_seq(struct ips_stack *st, const struct tcp_seg *seg, uint16_t *mss);
uint32_t tcp_cookie_init_ts(struct ips_stack *st, struct tcp_req *req, uint32_t ts_off);
/* An ACK reached a listener: if it carries a valid cookie, build the connection.
 * Returns true when the segment was consumed. */
bool tcp_cookie_check(struct tcp_sock *lsk, struct tcp_seg *seg);
struct tcp_sock *tcp_create_child(struct tcp_sock *lsk, struct tcp_req *req, struct tcp_seg *seg);
void tcp_accept_enqueue(struct tcp_sock *lsk, struct tcp_sock *child);

#endif

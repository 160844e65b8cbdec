/* Socket objects as the protocols see them (Linux's struct sock + inet_sock in one).
 *
 * Ownership and locking. A socket belongs to one stack; every field is read and written
 * with that stack's lock held (st->lock). A socket is reference counted: the descriptor
 * table holds one reference, every API call in progress holds one (so a close() from
 * another thread never frees a socket under a blocked recv(), as in Linux, where the
 * call holds a file reference). When the last reference goes, the protocol's release()
 * unhashes it and its queues are purged.
 *
 * Wake-ups. Protocol code that changes what poll() would report calls sock_wake(sk):
 * it broadcasts the socket's condition variable (threads blocked in a call), wakes
 * ips_poll() waiters registered on the socket, and updates the socket's eventfd. */
#ifndef IPS_SOCKET_SOCK_H
#define IPS_SOCKET_SOCK_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/pkb.h"
#include "wire/ipv4_opts.h"

struct ips_stack;
struct sock;
struct sock_waiter;
struct udp_cork;

/* The buffer sizes come from st->sysctl.core (net.core.rmem_default, ...). */
/* SOCK_MIN_RCVBUF / SOCK_MIN_SNDBUF: TCP_SKB_MIN_TRUESIZE = 2048 + aligned sk_buff. */
#define SOCK_MIN_RCVBUF 2304
#define SOCK_MIN_SNDBUF 4608

#define SOCK_TIMEO_MAX INT64_MAX

/* sk_shutdown bits */
#define RCV_SHUTDOWN 1
#define SEND_SHUTDOWN 2

/* Datagram socket state (Linux reuses TCP's numbers for UDP). */
enum sock_state {
	SS_CLOSE = 7,		/* TCP_CLOSE */
	SS_ESTABLISHED = 1,	/* TCP_ESTABLISHED: connected datagram socket */
};

/* What a received datagram carries besides its bytes, kept in pkb->cb while the pkb
 * waits in a receive queue (pkb->data at what recv() returns, pkb->nh at the IPv4
 * header). */
struct sock_rx_cb {
	uint32_t saddr;		/* msg_name address (network order) */
	uint32_t daddr;		/* destination address of the packet (IP_ORIGDSTADDR,
				 * ipi_addr) */
	uint32_t spec_dst;	/* ipi_spec_dst: the local address that would answer */
	uint16_t sport;		/* msg_name port (network order); 0 for raw */
	uint16_t dport;		/* network order (IP_ORIGDSTADDR) */
	int32_t iif;		/* receiving interface */
};

/* An error-queue entry (Linux's sock_exterr_skb), in pkb->cb. */
struct sock_err_cb {
	struct sock_extended_err_ {
		uint32_t ee_errno;
		uint8_t ee_origin, ee_type, ee_code, ee_pad;
		uint32_t ee_info;
		uint32_t ee_data;
	} ee;
	uint32_t addr;		/* the address msg_name reports (original destination) */
	uint16_t port;		/* network order; 0: msg_name is not filled */
	uint32_t offender;	/* ICMP sender, for SO_EE_OFFENDER (0 for local errors) */
	bool icmp;		/* ICMP origin: cmsgs of the ICMP packet are given too */
	int32_t iif;
	uint32_t daddr;		/* destination of the ICMP packet (for IP_PKTINFO) */
};

/* Per socket type operations (udp, udplite, raw, ping). Each returns 0/count or -errno
 * and runs with the stack lock held; none of them blocks: the socket layer waits and
 * calls again. */
struct sock_proto {
	const char *name;
	int (*init)(struct sock *sk);
	/* The last reference is gone: unhash and free protocol state. */
	void (*release)(struct sock *sk);
	/* bind(): sin is a copy of the caller's address padded with zeros; len as given. */
	int (*bind)(struct sock *sk, const struct sockaddr_in *sin, socklen_t len);
	/* connect() (AF_UNSPEC went to disconnect). */
	int (*connect)(struct sock *sk, const struct sockaddr_in *sin, socklen_t len);
	int (*disconnect)(struct sock *sk);
	/* Send one datagram; -EAGAIN when the send buffer is full (the socket layer waits
	 * for SO_SNDTIMEO unless MSG_DONTWAIT/O_NONBLOCK). */
	long (*sendmsg)(struct sock *sk, const struct msghdr *msg, size_t len, int flags);
	/* Dequeued pkb -> fill msg_name (and protocol-specific cmsgs). */
	void (*recv_name)(struct sock *sk, struct pkb *pkb, struct sockaddr_in *sin);
	/* The protocol's own option level (SOL_UDP/SOL_UDPLITE, SOL_RAW): 0/-errno, or 1
	 * when `level` is not the protocol's (then SOL_IP is tried). May be NULL. */
	int (*setsockopt)(struct sock *sk, int level, int name, const void *val, socklen_t len);
	int (*getsockopt)(struct sock *sk, int level, int name, void *val, socklen_t *len);
	/* Re-hash after the bound address/port or device changed (may be NULL). */
	int (*get_port)(struct sock *sk, uint16_t port);	/* host order; 0 = pick */
	void (*unhash)(struct sock *sk);
	/* The bound address changed (connect() chose one): move in the tables. */
	void (*rehash)(struct sock *sk);
};

/* A thread waiting in ips_poll() on several sockets (possibly in several stacks). */
struct sock_waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool woken;
};

struct sock_wait_entry {
	struct sock_wait_entry *next, *prev;
	struct sock_waiter *w;
};

/* IP_OPTIONS as set: compiled (wire_ipv4_opts_compile_user), len > 0. Held apart from
 * struct sock (memory per idle connection, docs/performance.md). */
struct sock_ipopt {
	uint8_t data[40];
	uint8_t len;
	struct wire_ipv4_opts info;
};

struct sock {
	struct ips_stack *st;		/* NULL once the stack is gone */
	atomic_int refcnt;
	int fd;
	const struct sock_proto *prot;
	struct sock *st_next, *st_prev;	/* every socket of the stack */
	struct sock *hash_next, **hash_pprev;	/* protocol's lookup table */
	void *rp_group;			/* SO_REUSEPORT group (udp.c) */

	int family, type, protocol;
	int state;			/* enum sock_state */
	int shutdown;			/* RCV_SHUTDOWN | SEND_SHUTDOWN */
	bool nonblock, cloexec;
	bool dead;			/* closed / stack gone */

	/* Addresses and ports, network order (inet_sock). */
	uint32_t rcv_saddr;		/* bound address (inet_rcv_saddr) */
	uint32_t saddr;			/* source address used for sending (inet_saddr) */
	uint32_t daddr;			/* connected peer */
	uint16_t sport;			/* bound port (inet_sport), network order */
	uint16_t num;			/* bound port, host order (inet_num); raw: protocol */
	uint16_t dport;
	bool userlocks_addr, userlocks_port;	/* SOCK_BINDADDR_LOCK, SOCK_BINDPORT_LOCK */
	int bound_dev_if;

	/* socket(7) options */
	int err;			/* sk_err: reported once by SO_ERROR / next call */
	int err_soft;
	bool reuse;			/* SO_REUSEADDR */
	bool reuseport;			/* SO_REUSEPORT */
	bool broadcast, dontroute, keepalive;
	bool linger;
	int linger_sec;
	int priority;
	uint32_t mark;
	int rcvbuf, sndbuf;
	bool rcvbuf_locked, sndbuf_locked;
	int rcvlowat;
	int64_t rcvtimeo, sndtimeo;	/* jiffies (the sysctl tick); SOCK_TIMEO_MAX = forever,
					 * 0 = do not wait */
	bool ts_old, ts_ns;		/* SOCK_RCVTSTAMP, SOCK_RCVTSTAMPNS */
	uint32_t tsflags;		/* SO_TIMESTAMPING (SOF_TIMESTAMPING_*) */
	bool select_err_queue, rxq_ovfl, zerocopy, no_check_tx, dbg;
	int buf_lock;			/* SO_BUF_LOCK bits */
	bool passcred, passsec, oobinline;
	uint32_t uid;

	/* ip(7) options (inet_sock) */
	int uc_ttl;			/* -1 = ip_default_ttl */
	uint8_t tos;
	int mc_ttl;
	bool mc_loop, mc_all;
	int mc_index;
	uint32_t mc_addr;
	int uc_index;			/* IP_UNICAST_IF */
	int pmtudisc;			/* IP_PMTUDISC_*; default WANT */
	bool recverr, recverr_rfc4884, hdrincl, nodefrag, freebind, transparent;
	bool bind_address_no_port, recvfragsize, checksum_cmsg;
	uint32_t cmsg_flags;		/* IP_CMSG_* below */
	uint8_t minttl;
	uint32_t local_port_range;	/* IP_LOCAL_PORT_RANGE: hi << 16 | lo */
	int router_alert;
	struct sock_ipopt *opt;		/* IP_OPTIONS, or NULL (none: nearly every socket) */

	/* Queues */
	struct pkb_queue rcvq;
	size_t rmem;			/* truesize of rcvq + errq */
	struct pkb_queue errq;
	size_t wmem;			/* bytes in flight (always 0 for datagrams here) */
	uint64_t stamp_ns;		/* time of the last datagram returned (SIOCGSTAMP) */
	uint64_t drops;
	bool stamp_set;

	/* Waiting */
	int waiters;
	pthread_cond_t *cond;		/* made by the first sock_wait(): most sockets (idle
					 * connections, sockets of a driven loop) never wait */
	struct sock_wait_entry wait_head;	/* ips_poll() waiters */
	int efd;			/* ips_socket_eventfd(), or -1 */
	short efd_events;
	bool efd_ready;

	/* Protocol private */
	union {
		struct {
			uint16_t cscov_send, cscov_recv;	/* UDP-Lite */
			bool pcslen_set, pcrlen_set;
			bool no_check_tx;		/* SO_NO_CHECK */
			bool cork;			/* UDP_CORK */
			bool gro;			/* UDP_GRO (kept; datagrams are
							 * never coalesced here) */
			uint16_t gso_size;		/* UDP_SEGMENT */
			struct udp_cork *pending;	/* corked datagram (udp.c), or
							 * NULL */
		} udp;
		struct {
			uint32_t icmp_filter;		/* ICMP_FILTER */
		} raw;
		struct {
			struct tcp_sock *tp;	/* SOCK_STREAM (stream.c); NULL once closed */
			uint8_t ss;		/* socket->state: SS_UNCONNECTED... */
		} stream;
	} u;
};

/* cmsg_flags, as Linux's IP_CMSG_* */
#define IP_CMSG_PKTINFO		(1u << 0)
#define IP_CMSG_TTL		(1u << 1)
#define IP_CMSG_TOS		(1u << 2)
#define IP_CMSG_RECVOPTS	(1u << 3)
#define IP_CMSG_RETOPTS		(1u << 4)
#define IP_CMSG_PASSSEC		(1u << 5)
#define IP_CMSG_ORIGDSTADDR	(1u << 6)
#define IP_CMSG_CHECKSUM	(1u << 7)
#define IP_CMSG_RECVFRAGSIZE	(1u << 8)

static inline struct sock_rx_cb *sock_rx_cb(struct pkb *p)
{
	_Static_assert(sizeof(struct sock_rx_cb) <= sizeof(p->cb), "cb too small");
	return (struct sock_rx_cb *)(void *)p->cb;
}

static inline struct sock_err_cb *sock_err_cb(struct pkb *p)
{
	_Static_assert(sizeof(struct sock_err_cb) <= sizeof(p->cb), "cb too small");
	return (struct sock_err_cb *)(void *)p->cb;
}

/* ---- Used by protocols (src/socket/sock.c) ---- */

/* Readiness changed: wake blocked callers, poll waiters and the eventfd. */
void sock_wake(struct sock *sk);
/* Queue a received datagram (consumes pkb). Returns 0, or -ENOMEM / -ENOBUFS when the
 * receive buffer is full (the pkb is freed; the caller counts RcvbufErrors). */
int sock_queue_rcv(struct sock *sk, struct pkb *pkb);
/* Queue an error-queue entry (consumes pkb; dropped if the buffer is full). */
int sock_queue_err(struct sock *sk, struct pkb *pkb);
/* Linux ip_icmp_error(): queue an ICMP error for IP_RECVERR. icmp_pkb is the ICMP
 * message (nh at its IPv4 header, th at the ICMP header); payload is where the quoted
 * packet's payload starts inside it (after the inner transport header), port the
 * original destination port. Does not consume icmp_pkb. */
void sock_icmp_error(struct sock *sk, struct pkb *icmp_pkb, int err, uint16_t port, uint32_t info,
		     const uint8_t *payload, uint32_t inner_daddr);
/* Linux ip_local_error(): an error found while sending (EMSGSIZE with the MTU). */
void sock_local_error(struct sock *sk, int err, uint32_t daddr, uint16_t port, uint32_t info);
/* The socket's pending error (sock_error(): read and clear). */
static inline int sock_error(struct sock *sk)
{
	int e = sk->err;

	sk->err = 0;
	return -e;
}
/* Report an asynchronous error (sk_err + wake). */
void sock_set_err(struct sock *sk, int err);

/* Has the calling context (the stack's credential model) this capability? */
bool sock_capable(struct ips_stack *st, int cap);
/* The stack's ephemeral port range as Linux inet_sk_get_local_port_range(). */
void sock_port_range(struct sock *sk, int *low, int *high);

/* Outgoing IPv4 parameters from the socket's options (ttl, tos, pmtudisc, ...). */
struct ip4_out;
void sock_ip4_out_init(struct sock *sk, struct ip4_out *o);

/* Send-side cmsgs (IP_PKTINFO, IP_TTL, IP_TOS, IP_RETOPTS...), Linux ip_cmsg_send(). */
struct sock_cmsg_out {
	uint32_t saddr;		/* ipi_spec_dst / ipi_addr */
	int oif;		/* ipi_ifindex */
	int ttl;		/* -1 = not given */
	int tos;		/* -1 = not given */
	const uint8_t *opt;	/* IP_RETOPTS: options to use (compiled, 40 bytes max) */
	uint8_t opt_len;
	bool opt_set;
	uint8_t opt_buf[40];
	struct wire_ipv4_opts opt_info;
	bool has_pktinfo;
	uint32_t mark;		/* SOL_SOCKET SO_MARK */
	bool mark_set;
	uint32_t priority;	/* SOL_SOCKET SO_PRIORITY */
	bool priority_set;
	int protocol;		/* IP_PROTOCOL (raw); 0 = not given */
};
int sock_cmsg_send(struct sock *sk, const struct msghdr *msg, struct sock_cmsg_out *out);

/* Copy a msghdr's iovecs into buf (len bytes in total). */
void sock_iov_copy_from(void *buf, const struct msghdr *msg, size_t len);
size_t sock_iov_len(const struct msghdr *msg);

/* ---- inet helpers shared by UDP, raw and ping (src/socket/inet.c) ---- */
struct rt_result;
/* __inet_bind() after the protocol's own length/family checks: address class, the
 * privileged-port rule, double bind, then prot->get_port(). */
int inet_bind_addr(struct sock *sk, const struct sockaddr_in *sin);
/* inet_autobind(): pick a port if none; -EAGAIN when the range is exhausted. */
int inet_autobind(struct sock *sk);
/* ip4_datagram_connect(): route, choose the source, become ESTABLISHED. */
int ip4_dgram_connect(struct sock *sk, const struct sockaddr_in *sin, socklen_t len);
/* __udp_disconnect() (connect(AF_UNSPEC)). */
int dgram_disconnect(struct sock *sk);
/* Output route as the datagram protocols ask for it (daddr 0 = ourselves, as Linux's
 * ip_route_output_key()); checks a given source address is ours unless the socket may
 * use any (IP_FREEBIND/IP_TRANSPARENT). Counts IpOutNoRoutes. */
int inet_route_out(struct sock *sk, uint32_t *daddr, uint32_t saddr, int oif,
		   struct rt_result *res);
/* The socket's IP_OPTIONS (or cmsg IP_RETOPTS) made ready for this packet's header:
 * writes up to 40 bytes to out, returns their length; *first_hop gets the source
 * route's first hop when there is one (else daddr). */
uint8_t inet_opts_build(struct sock *sk, const struct sock_cmsg_out *cm, uint32_t daddr,
			uint32_t saddr, uint8_t out[40], uint32_t *first_hop);
/* Length of the IP options that inet_opts_build() will produce (0 if none). */
uint8_t inet_opts_len(struct sock *sk, const struct sock_cmsg_out *cm);
/* Source-routed: the route goes to the first hop (0: no source route). */
uint32_t inet_opts_faddr(struct sock *sk, const struct sock_cmsg_out *cm);
/* Linux ip_sk_ignore_df(). */
static inline bool inet_ignore_df(const struct sock *sk)
{
	return sk->pmtudisc < 2 /* IP_PMTUDISC_DO */ || sk->pmtudisc == 5 /* OMIT */;
}
/* One datagram on its way out of a raw or ping socket (raw_sendmsg() and
 * ping_v4_sendmsg() share everything after the destination is known). */
struct inet_dgram {
	struct sock_cmsg_out cm;
	struct rt_result *rt;	/* the caller's route result */
	uint32_t daddr;		/* final destination */
	uint32_t faddr;		/* where the route goes: daddr, or a source route's first hop */
	uint32_t saddr;
	int oif;
};
/* Control messages, IP options (EINVAL with hdrincl or a source route to nowhere), the
 * device and source for multicast, the route, broadcast permission, the source address. */
int inet_dgram_route(struct sock *sk, const struct msghdr *msg, uint32_t daddr, bool hdrincl,
		     struct inet_dgram *d);
/* A pending error, shutdown (EPIPE), then a buffer holding the user's len bytes. */
int inet_dgram_copy_in(struct sock *sk, const struct msghdr *msg, size_t len, struct pkb **out);
/* The rest: the size against the path MTU (EMSGSIZE queued as a local error), a pending
 * error, shutdown, the user's bytes copied (fill, if given, edits them), the IP header
 * from the socket and the cmsgs, ip4_output(). Returns 0 or -errno. */
int inet_dgram_send(struct sock *sk, const struct msghdr *msg, size_t len, int flags,
		    uint8_t proto, struct inet_dgram *d,
		    void (*fill)(struct sock *sk, uint8_t *p, size_t len));
/* Receive-side info for cmsgs, filled by the protocol when it queues a datagram. */
void inet_rx_cb_fill(struct ips_stack *st, struct pkb *pkb, uint16_t sport, uint16_t dport);

/* Every socket of a stack (for ipstack ctl and stack teardown). */
struct sock *sock_first(struct ips_stack *st);

#endif

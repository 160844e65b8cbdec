/* TCP as the socket layer sees it (src/socket calls these; everything else is internal to
 * src/transport/tcp*.c). All functions run with the stack lock held. Internal functions
 * return 0 / a count or -errno; none sets errno.
 *
 * Life of a tcp_sock: tcp_sock_new() -> (tcp_bind) -> tcp_connect() or tcp_listen() ->
 * ... -> tcp_close(). After tcp_close() the socket belongs to TCP (an "orphan", as
 * Linux): it finishes its FIN handshake or reset on its own and frees itself; the caller
 * must not touch it again. Children of a listener are created by TCP and handed over by
 * tcp_accept(); until then they have no owner.
 *
 * Wake-ups: TCP calls owner->wake(owner_arg) whenever readability, writability, an error
 * or the state may have changed; the socket layer then re-checks with tcp_poll(). */
#ifndef IPS_TRANSPORT_TCP_H
#define IPS_TRANSPORT_TCP_H

#include <netinet/tcp.h>	/* TCP_ESTABLISHED ... TCP_CLOSING, TCP_NODELAY ... */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

struct ips_stack;
struct tcp_sock;

/* Register IPPROTO_TCP with the IPv4 layer; create the per-stack tables. Idempotent. */
int tcp_init(struct ips_stack *st);
/* Free every TCP object of the stack (sockets still owned by the socket layer included:
 * call it after the socket layer has closed its descriptors). */
void tcp_fini(struct ips_stack *st);

struct pkb;

struct tcp_wake {
	void (*wake)(void *arg);	/* readiness may have changed */
	void *arg;
};

/* An ICMP error for the connection, to be queued on the owner's error queue (Linux
 * ip_icmp_error(): icmp is the ICMP packet, payload the quoted TCP header in it, port
 * (network order) and daddr the quoted destination); arg is the wake-up's. */
typedef void tcp_icmp_error_fn(void *arg, struct pkb *icmp, int err, uint16_t port,
			       uint32_t info, const uint8_t *payload, uint32_t daddr);

/* A new socket in state TCP_CLOSE. NULL when out of memory. */
struct tcp_sock *tcp_sock_new(struct ips_stack *st);
void tcp_sock_set_wake(struct tcp_sock *tp, const struct tcp_wake *w);
void tcp_sock_set_icmp_error(struct tcp_sock *tp, tcp_icmp_error_fn *fn);

/* Addresses in network byte order, ports in host order. port 0 = pick an ephemeral port
 * (bind(2) with port 0). -EADDRINUSE, -EINVAL (already bound), -EADDRNOTAVAIL. */
int tcp_bind(struct tcp_sock *tp, uint32_t addr, uint16_t port);
/* Start an active open. Returns -EINPROGRESS once the SYN is out (the caller waits for
 * POLLOUT, then reads the result with tcp_sock_error()), -EISCONN, -EALREADY,
 * -EADDRNOTAVAIL (no ephemeral port), -ENETUNREACH ... (route errors). */
int tcp_connect(struct tcp_sock *tp, uint32_t daddr, uint16_t dport);
/* backlog is clamped to somaxconn (4096) as Linux does; <= 0 means 0 (one connection). */
int tcp_listen(struct tcp_sock *tp, int backlog);
/* The next established child, or NULL with *err = -EAGAIN (nothing yet), -EINVAL (not
 * listening). The child is owned by the caller from now on. */
struct tcp_sock *tcp_accept(struct tcp_sock *tp, int *err);

/* Copy up to the free send-buffer space from iov into the send ring; segments are cut
 * when they are transmitted. flags: MSG_MORE, MSG_OOB, MSG_DONTWAIT (ignored here: the
 * caller blocks). Returns bytes taken (maybe short), -EAGAIN (no room: wait for POLLOUT),
 * -EPIPE (caller raises SIGPIPE unless MSG_NOSIGNAL), -ENOTCONN, or a pending error. */
ssize_t tcp_sendmsg(struct tcp_sock *tp, const struct iovec *iov, int iovcnt, int flags);
/* Copy received bytes out. flags: MSG_PEEK, MSG_OOB, MSG_TRUNC (discard), MSG_WAITALL
 * (the caller loops). Returns bytes, 0 at end of stream, -EAGAIN (nothing yet), -ENOTCONN,
 * -EINVAL (MSG_OOB with nothing / inline), or a pending error (-ECONNRESET ...).
 */
ssize_t tcp_recvmsg(struct tcp_sock *tp, const struct iovec *iov, int iovcnt, int flags);
/* how: SHUT_RD, SHUT_WR, SHUT_RDWR. -ENOTCONN when not connected. */
int tcp_shutdown(struct tcp_sock *tp, int how);
/* close(2): hand the socket to TCP (see above). SO_LINGER with 0 -> RST. Data unread at
 * close -> RST (RFC 2525 2.17, as Linux). */
void tcp_close(struct tcp_sock *tp);
/* connect(AF_UNSPEC) / shutdown of a listener: back to CLOSE (RST where due). */
int tcp_disconnect(struct tcp_sock *tp);
/* Abort now with a RST (SO_LINGER 0 semantics), used by tcp_close and by tests. */
void tcp_abort(struct tcp_sock *tp, int err);

/* POLLIN / POLLOUT / POLLERR / POLLHUP / POLLRDHUP / POLLPRI as Linux's tcp_poll(). */
unsigned tcp_poll(struct tcp_sock *tp);
/* The receive time (stack clock) of the segment the last byte read came from, for
 * SO_TIMESTAMP* (tcp_recv_timestamp()); 0 before any. */
uint64_t tcp_sock_rx_tstamp(const struct tcp_sock *tp);
void tcp_sock_set_rx_tstamp(struct tcp_sock *tp, uint64_t ns);
/* SO_ERROR: the pending error, cleared by reading (0 if none). */
int tcp_sock_error(struct tcp_sock *tp);
/* sk_err without clearing it, and set as the error queue leaves it (sock_dequeue_err_skb). */
int tcp_sock_peek_error(const struct tcp_sock *tp);
void tcp_sock_set_error(struct tcp_sock *tp, int err);

/* level IPPROTO_TCP: every tcp(7) option; SOL_SOCKET: the ones TCP acts on
 * (SO_KEEPALIVE, SO_LINGER, SO_RCVBUF, SO_SNDBUF, SO_REUSEADDR, SO_OOBINLINE,
 * SO_RCVLOWAT, SO_PRIORITY, SO_MARK, SO_BINDTODEVICE index via tcp_set_bound_dev);
 * IPPROTO_IP: IP_TOS, IP_TTL, IP_MTU_DISCOVER, IP_MTU (get). Others -ENOPROTOOPT. */
int tcp_setsockopt(struct tcp_sock *tp, int level, int optname, const void *optval,
		   socklen_t optlen);
int tcp_getsockopt(struct tcp_sock *tp, int level, int optname, void *optval,
		   socklen_t *optlen);
/* SO_RCVBUF / SO_SNDBUF (and the *FORCE forms) as the socket layer sized them (doubled and
 * clamped to net.core.[rw]mem_max as Linux's sock_setsockopt() does): the size is fixed
 * from now on (SOCK_RCVBUF_LOCK / SOCK_SNDBUF_LOCK: no auto-tuning). */
void tcp_set_rcvbuf(struct tcp_sock *tp, int bytes);
void tcp_set_sndbuf(struct tcp_sock *tp, int bytes);
/* SO_BINDTODEVICE / SO_BINDTOIFINDEX (0 = unbind). */
void tcp_set_bound_dev(struct tcp_sock *tp, int ifindex);
/* IP_OPTIONS (do_ip_setsockopt() on a connection socket): data/len as
 * wire_ipv4_opts_compile_user() left them (len 0: none). They go on every segment and
 * the MSS follows at once (icsk_ext_hdr_len, tcp_sync_mss()). 0 or -ENOMEM. */
struct wire_ipv4_opts;
int tcp_set_ip_options(struct tcp_sock *tp, const uint8_t *data, uint8_t len,
		       const struct wire_ipv4_opts *info);
/* The options the connection sends (an accepted one: the echo of its SYN's options,
 * tcp_v4_save_options()); data has room for 40 bytes. Returns their length. */
uint8_t tcp_get_ip_options(const struct tcp_sock *tp, uint8_t *data, struct wire_ipv4_opts *info);
/* IP_LOCAL_PORT_RANGE (hi << 16 | lo, 0 = none): narrows the ports bind(0) and
 * connect() pick (inet_sk_get_local_port_range()). */
void tcp_set_local_port_range(struct tcp_sock *tp, uint32_t range);
/* What IP_PKTOPTIONS and IP_MULTICAST_TTL answer on an accepted socket: the interface,
 * TTL and TOS of the handshake's final ACK (tcp_v4_syn_recv_sock(): mc_index, mc_ttl,
 * rcv_tos). Returns false for a socket that was not accepted. */
bool tcp_get_syn_rx(const struct tcp_sock *tp, int *ifindex, int *ttl, int *tos);
/* SIOCINQ, SIOCOUTQ, SIOCOUTQNSD, SIOCATMARK. */
int tcp_ioctl(struct tcp_sock *tp, unsigned long req, int *val);

/* getsockname/getpeername: addresses network order, ports host order. */
void tcp_sock_names(const struct tcp_sock *tp, uint32_t *laddr, uint16_t *lport,
		    uint32_t *raddr, uint16_t *rport);
int tcp_sock_state(const struct tcp_sock *tp);	/* TCP_ESTABLISHED ... */

/* For `ss`-style listings and tests: call fn for every socket of the stack (listeners,
 * connections; not request or time-wait objects, see tcp_count_*). */
void tcp_foreach_sock(struct ips_stack *st, void (*fn)(void *arg, struct tcp_sock *tp), void *arg);
long tcp_count_timewait(struct ips_stack *st);
/* Bytes TCP holds for the stack's connections: socket and time-wait objects, send rings
 * (taken while data is unacknowledged, given back when the ring empties), the
 * connection hash table. Received data is in packet buffers (the stack's pkb pool);
 * retransmit records, request sockets and listen queues are not counted. */
size_t tcp_mem_bytes(struct ips_stack *st);
long tcp_count_socks(struct ips_stack *st);

#endif

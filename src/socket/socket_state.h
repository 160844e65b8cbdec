/* The socket layer's per-stack state (st->sock) and its internal entry points, private to
 * src/socket. */
#ifndef IPS_SOCKET_SOCKET_STATE_H
#define IPS_SOCKET_SOCKET_STATE_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "socket/sock.h"

struct ips_stack;

/* The credential model: what the code calling into this stack may do, as a process
 * with these capabilities and ids would be allowed to in a Linux namespace. */
#define SOCK_CAP_NET_BIND_SERVICE 10	/* capability numbers of linux/capability.h */
#define SOCK_CAP_NET_ADMIN 12
#define SOCK_CAP_NET_RAW 13

struct socket_state {
	struct sock *socks;		/* every socket of the stack */
	long nsocks;
	uint64_t caps;			/* bit n = capability n */
	uint32_t uid, gid;
};

int sock_stack_init(struct ips_stack *st);
void sock_stack_fini(struct ips_stack *st);

/* ---- sock.c ---- */
struct sock *sock_alloc(struct ips_stack *st, int type, int protocol,
			const struct sock_proto *prot);
void sock_hold(struct sock *sk);
/* Drop a reference; the last one releases the socket (takes the stack lock). */
void sock_put(struct sock *sk);
/* poll(2) mask of the socket (datagram_poll()). Lock held. */
short sock_poll_mask(struct sock *sk);
/* Keep the socket's eventfd in step with its readiness. Lock held. */
void sock_efd_update(struct sock *sk);
/* Block until ready(sk, arg) or the timeout (ns on the stack clock; < 0 forever).
 * Lock held (once) on entry and on return. Returns 0 when ready, -EAGAIN on time-out
 * (and when a simulated world goes idle first). */
int sock_wait(struct sock *sk, bool (*ready)(struct sock *sk, void *arg), void *arg,
	      int64_t timeo_ns, const char *what);
/* Datagram receive for every socket type here (udp_recvmsg/raw_recvmsg/ping_recvmsg
 * share everything but the address): blocks unless nonblocking. */
long sock_dgram_recvmsg(struct sock *sk, struct msghdr *msg, int flags);
/* ip_recv_error(): read one error-queue entry. */
long sock_recv_error(struct sock *sk, struct msghdr *msg, int flags);

/* ---- cmsg.c ---- */
/* Write one control message (put_cmsg() semantics: MSG_CTRUNC when it does not fit). */
void cmsg_put(struct msghdr *msg, size_t *used, int level, int type, const void *data,
	      size_t len);
/* The IP_* receive cmsgs of a datagram (ip_cmsg_recv_offset()), nh at its IPv4 header. */
void cmsg_put_ip(struct sock *sk, struct msghdr *msg, size_t *used, const uint8_t *nh,
		 const uint8_t *th, size_t th_len, const struct sock_rx_cb *cb);
/* SO_TIMESTAMP / SO_TIMESTAMPNS (sock_recv_timestamp()). */
void cmsg_put_timestamp(struct sock *sk, struct msghdr *msg, size_t *used, uint64_t tstamp_ns);

/* ---- sockopt.c ---- */
int sock_setsockopt(struct sock *sk, int level, int name, const void *val, socklen_t len);
int sock_getsockopt(struct sock *sk, int level, int name, void *val, socklen_t *len);

/* ---- ioctl.c ---- */
int sock_ioctl(struct sock *sk, unsigned long req, void *arg);

/* Wall-clock time of a stack-clock instant (for timestamps shown to users). */
void sock_stamp_to_real(struct ips_stack *st, uint64_t stamp_ns, struct timespec *ts);

#endif

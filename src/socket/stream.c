/* SOCK_STREAM sockets over TCP (src/transport/tcp.h): Linux's inet_stream_ops with the
 * blocking parts of net/ipv4/tcp.c and net/core/stream.c. TCP itself never blocks; here a
 * call that must wait does so through sock_wait() (a condition variable in threaded and
 * driven stacks, running the world in a simulated one) and calls TCP again.
 *
 * The socket keeps Linux's two states: socket->state (SS_UNCONNECTED, SS_CONNECTING,
 * SS_CONNECTED: what connect() has been asked, sk->u.stream.ss) and sk_state (TCP's,
 * mirrored into sk->state on every wake-up so that generic code and `ss` listings see it).
 * Options are stored by the generic SOL_SOCKET / SOL_IP code (which validates them as
 * Linux does) and then pushed to TCP when TCP acts on them. */
#include "socket/stream.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include "core/stack.h"
#include "socket/socket_state.h"
#include "transport/tcp.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51	/* linux/in.h 6.3; older libc headers lack it */
#endif

#define SS(sk) ((sk)->u.stream.ss)
#define TP(sk) ((sk)->u.stream.tp)

static bool tcpf(int state, unsigned mask)
{
	return (1u << state) & mask;
}
#define F(s) (1u << (s))

/* sk_state, addresses and ports as TCP has them now (inet_sock fields). */
static void stream_sync(struct sock *sk)
{
	struct tcp_sock *tp = TP(sk);
	uint32_t la, ra;
	uint16_t lp, rp;

	if (!tp)
		return;
	sk->state = tcp_sock_state(tp);
	tcp_sock_names(tp, &la, &lp, &ra, &rp);
	sk->rcv_saddr = sk->saddr = la;
	sk->num = lp;
	sk->sport = htons(lp);
	sk->daddr = ra;
	sk->dport = htons(rp);
}

/* TCP's wake-up: readiness may have changed. */
static void stream_wake(void *arg)
{
	struct sock *sk = arg;

	stream_sync(sk);
	sock_wake(sk);
}

/* TCP's ICMP errors in SYN_SENT / SYN_RECV (tcp_v4_err() -> ip_icmp_error()). */
static void stream_icmp_error(void *arg, struct pkb *icmp, int err, uint16_t port, uint32_t info,
			      const uint8_t *payload, uint32_t daddr)
{
	sock_icmp_error(arg, icmp, err, port, info, payload, daddr);
}

static void stream_attach(struct sock *sk, struct tcp_sock *tp)
{
	struct tcp_wake w = { stream_wake, sk };

	TP(sk) = tp;
	tcp_sock_set_wake(tp, &w);
	tcp_sock_set_icmp_error(tp, stream_icmp_error);
	stream_sync(sk);
}

/* A socket timeout (jiffies) as nanoseconds for sock_wait(); -1 = forever. */
static int64_t timeo_ns(struct sock *sk, int64_t timeo)
{
	int hz = sk->st->sysctl.hz > 0 ? sk->st->sysctl.hz : 250;

	if (timeo == SOCK_TIMEO_MAX)
		return -1;
	return timeo * (int64_t)(NS_PER_SEC / (uint64_t)hz);
}

/* sock_rcvtimeo()/sock_sndtimeo(): false when the call must not wait at all. */
static bool may_block(struct sock *sk, int flags, int64_t timeo)
{
	return !(flags & MSG_DONTWAIT) && !sk->nonblock && timeo != 0;
}

/* ---- sock_proto ---- */

static int stream_init(struct sock *sk)
{
	struct ips_stack *st = sk->st;
	struct tcp_sock *tp = tcp_sock_new(st);

	if (!tp)
		return -ENOBUFS;
	/* tcp_init_sock(): the buffers start at tcp_rmem[1] / tcp_wmem[1]. */
	sk->rcvbuf = st->sysctl.ip.tcp_rmem[1];
	sk->sndbuf = st->sysctl.ip.tcp_wmem[1];
	SS(sk) = STREAM_SS_UNCONNECTED;
	stream_attach(sk, tp);
	return 0;
}

/* The last reference is gone: hand the connection to TCP, which finishes it on its own
 * (FIN handshake, TIME_WAIT, or a RST for unread data / SO_LINGER 0). When the stack is
 * being destroyed, tcp_fini() has already freed every connection (st->tcp is NULL). */
static void stream_release(struct sock *sk)
{
	struct tcp_sock *tp = TP(sk);
	struct stack_pass saved;

	TP(sk) = NULL;
	if (!tp || !sk->st || !sk->st->tcp)
		return;
	tcp_sock_set_wake(tp, NULL);
	tcp_sock_set_icmp_error(tp, NULL);
	saved = stack_pass_begin(sk->st);	/* one clock read (see stream_tcp_io) */
	tcp_close(tp);
	stack_pass_end(saved);
}

static int stream_get_port(struct sock *sk, uint16_t port)
{
	struct tcp_sock *tp = TP(sk);
	int err;

	if (!tp)
		return -EINVAL;
	err = tcp_bind(tp, sk->rcv_saddr, port);
	if (err == 0)
		stream_sync(sk);
	return err;
}

/* inet_bind() */
static int stream_bind(struct sock *sk, const struct sockaddr_in *sin, socklen_t len)
{
	if (len < sizeof(*sin))
		return -EINVAL;
	return inet_bind_addr(sk, sin);
}

static int stream_disconnect(struct sock *sk)
{
	int err = TP(sk) ? tcp_disconnect(TP(sk)) : 0;

	stream_sync(sk);
	return err;
}

static long stream_prot_sendmsg(struct sock *sk, const struct msghdr *msg, size_t len, int flags)
{
	return stream_sendmsg(sk, msg, flags);
}

static int stream_prot_connect(struct sock *sk, const struct sockaddr_in *sin, socklen_t len)
{
	return (int)stream_connect(sk, sin, len);
}

const struct sock_proto tcp_stream_prot = {
	.name = "TCP",
	.init = stream_init,
	.release = stream_release,
	.bind = stream_bind,
	.connect = stream_prot_connect,
	.disconnect = stream_disconnect,
	.sendmsg = stream_prot_sendmsg,
	.get_port = stream_get_port,
};

/* ---- connect ---- */

static bool connect_ready(struct sock *sk, void *arg)
{
	return !TP(sk) || !tcpf(tcp_sock_state(TP(sk)), F(TCP_SYN_SENT) | F(TCP_SYN_RECV));
}

/* __inet_stream_connect() */
long stream_connect(struct sock *sk, const struct sockaddr_in *sin, socklen_t len)
{
	struct tcp_sock *tp = TP(sk);
	long err;

	if (!tp)
		return -EBADF;
	if (len < sizeof(sin->sin_family))
		return -EINVAL;
	if (sin->sin_family == AF_UNSPEC) {
		err = tcp_disconnect(tp);
		SS(sk) = err ? STREAM_SS_DISCONNECTING : STREAM_SS_UNCONNECTED;
		stream_sync(sk);
		return err;
	}
	switch (SS(sk)) {
	case STREAM_SS_CONNECTED:
		return -EISCONN;
	case STREAM_SS_CONNECTING:
		err = -EALREADY;	/* unless it has finished meanwhile: see below */
		break;
	case STREAM_SS_UNCONNECTED:
		if (tcp_sock_state(tp) != TCP_CLOSE)
			return -EISCONN;
		/* tcp_v4_connect() */
		if (len < sizeof(*sin))
			return -EINVAL;
		if (sin->sin_family != AF_INET)
			return -EAFNOSUPPORT;
		{
			/* one clock read for the SYN (see stream_tcp_io) */
			struct stack_pass saved = stack_pass_begin(sk->st);

			err = tcp_connect(tp, sin->sin_addr.s_addr, ntohs(sin->sin_port));
			stack_pass_end(saved);
		}
		stream_sync(sk);
		if (err != -EINPROGRESS)
			return err < 0 ? err : -EINVAL;
		SS(sk) = STREAM_SS_CONNECTING;
		break;
	default:
		return -EINVAL;
	}
	if (tcpf(tcp_sock_state(tp), F(TCP_SYN_SENT) | F(TCP_SYN_RECV))) {
		/* Non-blocking, or SO_SNDTIMEO ran out: the error set above (EINPROGRESS /
		 * EALREADY), as Linux. */
		if (!may_block(sk, 0, sk->sndtimeo))
			return err;
		if (sock_wait(sk, connect_ready, NULL, timeo_ns(sk, sk->sndtimeo), "connect") < 0)
			return sk->st ? err : -EBADF;
		tp = TP(sk);
		if (!tp)
			return -EBADF;
	}
	if (tcp_sock_state(tp) == TCP_CLOSE) {
		/* Refused, reset, timed out, or an ICMP error. */
		int e = tcp_sock_error(tp);

		err = e ? -e : -ECONNABORTED;
		SS(sk) = tcp_disconnect(tp) ? STREAM_SS_DISCONNECTING : STREAM_SS_UNCONNECTED;
		stream_sync(sk);
		return err;
	}
	SS(sk) = STREAM_SS_CONNECTED;
	stream_sync(sk);
	return 0;
}

/* ---- listen / accept ---- */

/* inet_listen() (the backlog clamp is __sys_listen()'s, against net.core.somaxconn). */
long stream_listen(struct sock *sk, int backlog)
{
	struct tcp_sock *tp = TP(sk);
	unsigned somaxconn = (unsigned)sk->st->sysctl.core.somaxconn;
	long err;

	if (!tp || SS(sk) != STREAM_SS_UNCONNECTED)
		return -EINVAL;
	if (!tcpf(tcp_sock_state(tp), F(TCP_CLOSE) | F(TCP_LISTEN)))
		return -EINVAL;
	if ((unsigned)backlog > somaxconn)
		backlog = (int)somaxconn;
	err = tcp_listen(tp, backlog);
	stream_sync(sk);
	return err;
}

static bool accept_ready(struct sock *sk, void *arg)
{
	return !TP(sk) || tcp_sock_state(TP(sk)) != TCP_LISTEN || (tcp_poll(TP(sk)) & POLLIN);
}

/* The listener's options a new connection starts with (sk_clone_lock() copies the
 * whole sock; TCP's own state is copied by TCP). */
static void stream_inherit(struct sock *nsk, const struct sock *sk)
{
	nsk->reuse = sk->reuse;
	nsk->reuseport = sk->reuseport;
	nsk->broadcast = sk->broadcast;
	nsk->dontroute = sk->dontroute;
	nsk->keepalive = sk->keepalive;
	nsk->linger = sk->linger;
	nsk->linger_sec = sk->linger_sec;
	nsk->priority = sk->priority;
	nsk->mark = sk->mark;
	nsk->rcvbuf = sk->rcvbuf;
	nsk->sndbuf = sk->sndbuf;
	nsk->rcvbuf_locked = sk->rcvbuf_locked;
	nsk->sndbuf_locked = sk->sndbuf_locked;
	nsk->buf_lock = sk->buf_lock;
	nsk->rcvlowat = sk->rcvlowat;
	nsk->rcvtimeo = sk->rcvtimeo;
	nsk->sndtimeo = sk->sndtimeo;
	nsk->ts_old = sk->ts_old;
	nsk->ts_ns = sk->ts_ns;
	nsk->tsflags = sk->tsflags;
	nsk->oobinline = sk->oobinline;
	nsk->dbg = sk->dbg;
	nsk->zerocopy = sk->zerocopy;
	nsk->uid = sk->uid;
	nsk->uc_ttl = sk->uc_ttl;
	nsk->tos = sk->tos;
	nsk->pmtudisc = sk->pmtudisc;
	nsk->recverr = sk->recverr;
	nsk->freebind = sk->freebind;
	nsk->transparent = sk->transparent;
	nsk->cmsg_flags = sk->cmsg_flags;
	nsk->minttl = sk->minttl;
	nsk->bound_dev_if = sk->bound_dev_if;
}

/* inet_accept() + inet_csk_accept() */
long stream_accept(struct sock *sk, int flags, struct sock **newsk, struct sockaddr_in *peer)
{
	struct tcp_sock *tp = TP(sk), *child;
	struct sock *nsk;
	int err;

	if (!tp)
		return -EBADF;
	for (;;) {
		if (tcp_sock_state(tp) != TCP_LISTEN)
			return -EINVAL;
		if (tcp_poll(tp) & POLLIN)
			break;
		if (!may_block(sk, 0, sk->rcvtimeo))
			return -EAGAIN;
		err = sock_wait(sk, accept_ready, NULL, timeo_ns(sk, sk->rcvtimeo), "accept");
		tp = TP(sk);
		if (!sk->st || !tp)
			return -EBADF;
		if (err < 0 && !(tcp_poll(tp) & POLLIN))
			return err;
	}
	nsk = sock_alloc(sk->st, SOCK_STREAM, IPPROTO_TCP, &tcp_stream_prot);
	if (!nsk)
		return -ENOMEM;
	child = tcp_accept(tp, &err);
	if (!child) {
		sock_put(nsk);
		return err;
	}
	stream_inherit(nsk, sk);
	{
		/* tcp_v4_syn_recv_sock(): inet_opt is the echo of the SYN's options (the
		 * listener's own are not inherited); mc_index and mc_ttl come from the
		 * final ACK */
		struct sock_ipopt o;
		int iif, ttl, tos;

		memset(&o, 0, sizeof(o));
		o.len = tcp_get_ip_options(child, o.data, &o.info);
		if (o.len && (nsk->opt = malloc(sizeof(*nsk->opt))))
			*nsk->opt = o;	/* without memory getsockopt() shows none; TCP keeps them */
		if (tcp_get_syn_rx(child, &iif, &ttl, &tos)) {
			nsk->mc_index = iif;
			nsk->mc_ttl = ttl;
		}
	}
	nsk->nonblock = (flags & SOCK_NONBLOCK) != 0;
	nsk->cloexec = (flags & SOCK_CLOEXEC) != 0;
	SS(nsk) = STREAM_SS_CONNECTED;
	stream_attach(nsk, child);
	memset(peer, 0, sizeof(*peer));
	peer->sin_family = AF_INET;
	peer->sin_addr.s_addr = nsk->daddr;
	peer->sin_port = nsk->dport;
	*newsk = nsk;
	return 0;
}

/* ---- send ---- */

/* TCP's work for one send or receive (io: tcp_sendmsg or tcp_recvmsg) reads the clock
 * once (stack_pass_begin(): TCP reads it several times per segment, ~40 ns each on these
 * VMs; docs/performance.md). Never around sock_wait(). */
static ssize_t stream_tcp_io(struct sock *sk, struct tcp_sock *tp,
			     ssize_t (*io)(struct tcp_sock *, const struct iovec *, int, int),
			     const struct iovec *iov, int n, int flags)
{
	struct stack_pass saved;
	ssize_t r;

	if (!sk->st)
		return io(tp, iov, n, flags);
	saved = stack_pass_begin(sk->st);
	r = io(tp, iov, n, flags);
	stack_pass_end(saved);
	return r;
}

/* The iovecs of msg from byte `skip` on, into out[] (room for msg_iovlen entries). */
static int iov_from(const struct msghdr *msg, size_t skip, struct iovec *out)
{
	int n = 0;

	for (size_t i = 0; i < (size_t)msg->msg_iovlen; i++) {
		const struct iovec *v = &msg->msg_iov[i];

		if (skip >= v->iov_len) {
			skip -= v->iov_len;
			continue;
		}
		out[n].iov_base = (uint8_t *)v->iov_base + skip;
		out[n].iov_len = v->iov_len - skip;
		skip = 0;
		n++;
	}
	return n;
}

static bool send_ready(struct sock *sk, void *arg)
{
	struct tcp_sock *tp = TP(sk);

	if (!tp)
		return true;
	if (tcpf(tcp_sock_state(tp), F(TCP_SYN_SENT) | F(TCP_SYN_RECV)))
		return false;
	return tcp_poll(tp) & (POLLOUT | POLLERR | POLLHUP);
}

/* tcp_sendmsg_locked(): copy as much as fits, wait for room (sk_stream_wait_memory) and
 * go on until everything is queued, unless non-blocking or SO_SNDTIMEO runs out: then
 * what was queued so far, or EAGAIN. -EPIPE is returned as is (socket.c raises
 * SIGPIPE unless MSG_NOSIGNAL). */
long stream_sendmsg(struct sock *sk, const struct msghdr *msg, int flags)
{
	struct iovec small[8], *iov = small;
	size_t len = sock_iov_len(msg), copied = 0;
	bool block = may_block(sk, flags, sk->sndtimeo);
	int64_t timeo = timeo_ns(sk, sk->sndtimeo);
	long err = 0;

	if (!TP(sk))
		return -EBADF;
	if (msg->msg_iovlen > sizeof(small) / sizeof(small[0])) {
		iov = malloc(msg->msg_iovlen * sizeof(*iov));
		if (!iov)
			return -ENOMEM;
	}
	for (;;) {
		struct tcp_sock *tp = TP(sk);
		int n = iov_from(msg, copied, iov);
		ssize_t r;

		if (!tp) {
			err = -EBADF;
			break;
		}
		r = stream_tcp_io(sk, tp, tcp_sendmsg, iov, n, flags);
		if (r > 0) {
			copied += (size_t)r;
			if (copied >= len)
				break;
			continue;
		}
		if (r == -EAGAIN && len == 0 &&
		    tcpf(tcp_sock_state(tp), F(TCP_ESTABLISHED) | F(TCP_CLOSE_WAIT)))
			break;	/* nothing to send: 0, as Linux */
		if (r != -EAGAIN) {
			err = r;
			break;
		}
		if (!block) {
			err = -EAGAIN;
			break;
		}
		if (sock_wait(sk, send_ready, NULL, timeo, "send") < 0) {
			err = sk->st ? -EAGAIN : -EBADF;
			break;
		}
		if (!sk->st) {
			err = -EBADF;
			break;
		}
	}
	if (iov != small)
		free(iov);
	stream_sync(sk);
	if (copied)
		return (long)copied;
	return err;
}

/* ---- receive ---- */

static int inq(struct tcp_sock *tp)
{
	int n = 0;

	if (tcp_ioctl(tp, SIOCINQ, &n) < 0)
		return 0;
	return n;
}

static bool recv_ready(struct sock *sk, void *arg)
{
	struct tcp_sock *tp = TP(sk);
	int target = arg ? *(int *)arg : 1;

	if (!tp || !sk->st)
		return true;
	if (tcp_poll(tp) & (POLLERR | POLLHUP | POLLRDHUP))
		return true;
	return inq(tp) >= target;
}

/* tcp_recv_timestamp(): after data was read, the receive time of the last segment it
 * came from, as SO_TIMESTAMP / SO_TIMESTAMPNS / SO_TIMESTAMPING ask. */
static void stream_recv_timestamp(struct sock *sk, struct msghdr *msg, size_t ctl_room)
{
	uint64_t stamp = TP(sk) && sk->st ? tcp_sock_rx_tstamp(TP(sk)) : 0;
	size_t used = 0;

	if (!stamp || !msg->msg_control)
		return;
	msg->msg_controllen = ctl_room;
	cmsg_put_timestamp(sk, msg, &used, stamp);
	msg->msg_controllen = used;
}

/* tcp_recvmsg_locked(): wait for data (sk_wait_data), copy, and for MSG_WAITALL (or
 * SO_RCVLOWAT) go on until the target is reached; an error, the end of the stream or
 * a time-out ends the call with what was copied. */
long stream_recvmsg(struct sock *sk, struct msghdr *msg, int flags)
{
	struct iovec small[8], *iov = small;
	size_t len = sock_iov_len(msg), copied = 0, target;
	bool block = may_block(sk, flags, sk->rcvtimeo);
	int64_t timeo = timeo_ns(sk, sk->rcvtimeo);
	bool peek = flags & MSG_PEEK;
	size_t ctl_room = msg->msg_controllen;
	long err = 0;

	if (!TP(sk))
		return -EBADF;
	if (flags & MSG_ERRQUEUE) {
		/* one sk_err: TCP's, which the error queue may clear (sock_dequeue_err_skb) */
		long r;

		sk->err = tcp_sock_peek_error(TP(sk));
		r = sock_recv_error(sk, msg, flags);
		tcp_sock_set_error(TP(sk), sk->err);
		sk->err = 0;
		return r;
	}
	msg->msg_flags = 0;
	msg->msg_namelen = 0;	/* TCP fills no address */
	msg->msg_controllen = 0;
	if (TP(sk))
		tcp_sock_set_rx_tstamp(TP(sk), 0);
	if (tcp_sock_state(TP(sk)) == TCP_LISTEN)
		return -ENOTCONN;
	if (flags & MSG_OOB) {
		int n = iov_from(msg, 0, small);

		return tcp_recvmsg(TP(sk), small, n > 0 ? 1 : 0, flags);
	}
	if (len == 0)
		return 0;
	/* sock_rcvlowat() */
	target = (flags & MSG_WAITALL) ? len : (size_t)(sk->rcvlowat > 0 ? sk->rcvlowat : 1);
	if (target > len)
		target = len;
	if (target > INT_MAX)
		target = INT_MAX;
	if (msg->msg_iovlen > sizeof(small) / sizeof(small[0])) {
		iov = malloc(msg->msg_iovlen * sizeof(*iov));
		if (!iov)
			return -ENOMEM;
	}
	if (peek) {
		/* A peek cannot consume and go on: wait until the target is there (or the
		 * stream ends), then copy once. */
		int t = (int)target;

		if (block && !recv_ready(sk, &t))
			sock_wait(sk, recv_ready, &t, timeo, "recv");
		if (!TP(sk) || !sk->st) {
			err = -EBADF;
		} else {
			int n = iov_from(msg, 0, iov);

			err = tcp_recvmsg(TP(sk), iov, n, flags & ~MSG_WAITALL);
		}
		if (iov != small)
			free(iov);
		if (err > 0)
			stream_recv_timestamp(sk, msg, ctl_room);
		return err;
	}
	for (;;) {
		struct tcp_sock *tp = TP(sk);
		int n;
		ssize_t r;

		if (!tp || !sk->st) {
			err = -EBADF;
			break;
		}
		n = iov_from(msg, copied, iov);
		r = stream_tcp_io(sk, tp, tcp_recvmsg, iov, n, flags & ~MSG_WAITALL);
		if (r > 0) {
			copied += (size_t)r;
			if (copied >= target)
				break;
			/* Short of the target: stop at an error, the end or a close (left
			 * for the next call), else wait for more. */
			if (tcp_poll(tp) & (POLLERR | POLLHUP))
				break;
			continue;
		}
		if (r == 0)
			break;		/* end of stream */
		if (r != -EAGAIN) {
			err = r;
			break;
		}
		if (!block) {
			err = -EAGAIN;
			break;
		}
		if (sock_wait(sk, recv_ready, NULL, timeo, "recv") < 0) {
			err = sk->st ? -EAGAIN : -EBADF;
			if (sk->st && TP(sk) && recv_ready(sk, NULL))
				continue;
			break;
		}
	}
	if (iov != small)
		free(iov);
	if (copied) {
		stream_recv_timestamp(sk, msg, ctl_room);
		return (long)copied;
	}
	return err;
}

/* ---- shutdown, names, options, ioctls, poll ---- */

/* inet_shutdown() */
long stream_shutdown(struct sock *sk, int how)
{
	struct tcp_sock *tp = TP(sk);
	long err;

	if (!tp)
		return -EBADF;
	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	if (SS(sk) == STREAM_SS_CONNECTING) {
		if (tcpf(tcp_sock_state(tp), F(TCP_SYN_SENT) | F(TCP_SYN_RECV) | F(TCP_CLOSE)))
			SS(sk) = STREAM_SS_DISCONNECTING;
		else
			SS(sk) = STREAM_SS_CONNECTED;
	}
	if (tcpf(tcp_sock_state(tp), F(TCP_SYN_SENT)) ||
	    (tcp_sock_state(tp) == TCP_LISTEN && how != SHUT_WR)) {
		err = tcp_shutdown(tp, how);
		SS(sk) = err ? STREAM_SS_DISCONNECTING : STREAM_SS_UNCONNECTED;
	} else {
		err = tcp_shutdown(tp, how);
	}
	stream_sync(sk);
	sock_wake(sk);
	return err;
}

/* inet_getname() */
int stream_getname(struct sock *sk, struct sockaddr_in *sin, bool peer)
{
	struct tcp_sock *tp = TP(sk);
	uint32_t la = 0, ra = 0;
	uint16_t lp = 0, rp = 0;

	if (tp)
		tcp_sock_names(tp, &la, &lp, &ra, &rp);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (peer) {
		if (!rp || !tp || tcpf(tcp_sock_state(tp), F(TCP_CLOSE) | F(TCP_SYN_SENT)))
			return -ENOTCONN;
		sin->sin_port = htons(rp);
		sin->sin_addr.s_addr = ra;
	} else {
		sin->sin_port = htons(lp);
		sin->sin_addr.s_addr = la;
	}
	return 0;
}

/* Push an option that the generic code just stored in sk to TCP. */
static void stream_mirror(struct sock *sk, int level, int name)
{
	struct tcp_sock *tp = TP(sk);
	int v;

	if (!tp)
		return;
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_KEEPALIVE:
			v = sk->keepalive;
			break;
		case SO_REUSEADDR:
			v = sk->reuse;
			break;
		case SO_OOBINLINE:
			v = sk->oobinline;
			break;
		case SO_RCVLOWAT:
			v = sk->rcvlowat;
			break;
		case SO_PRIORITY:
			v = sk->priority;
			break;
		case SO_MARK:
			v = (int)sk->mark;
			break;
		case SO_LINGER: {
			struct linger l = { sk->linger, sk->linger ? sk->linger_sec : 0 };

			tcp_setsockopt(tp, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
			return;
		}
		case SO_RCVBUF:
		case SO_RCVBUFFORCE:
			tcp_set_rcvbuf(tp, sk->rcvbuf);
			return;
		case SO_SNDBUF:
		case SO_SNDBUFFORCE:
			tcp_set_sndbuf(tp, sk->sndbuf);
			return;
		case SO_BINDTODEVICE:
		case SO_BINDTOIFINDEX:
			tcp_set_bound_dev(tp, sk->bound_dev_if);
			return;
		default:
			return;
		}
		tcp_setsockopt(tp, SOL_SOCKET, name, &v, sizeof(v));
		return;
	}
	if (level == SOL_IP) {
		switch (name) {
		case IP_TOS:
			v = sk->tos;
			break;
		case IP_TTL:
			v = sk->uc_ttl;
			break;
		case IP_MTU_DISCOVER:
			v = sk->pmtudisc;
			break;
		case IP_RECVERR:
			v = sk->recverr;
			break;
		case IP_OPTIONS:
			if (sk->opt)
				tcp_set_ip_options(tp, sk->opt->data, sk->opt->len, &sk->opt->info);
			else
				tcp_set_ip_options(tp, NULL, 0, NULL);
			return;
		case IP_LOCAL_PORT_RANGE:
			tcp_set_local_port_range(tp, sk->local_port_range);
			return;
		default:
			return;
		}
		tcp_setsockopt(tp, SOL_IP, name, &v, sizeof(v));
	}
}

int stream_setsockopt(struct sock *sk, int level, int name, const void *val, socklen_t len)
{
	int err;

	if (!TP(sk))
		return -EBADF;
	if (level == SOL_TCP)
		return tcp_setsockopt(TP(sk), level, name, val, len);
	if (level == SOL_SOCKET && name == SO_ZEROCOPY) {
		/* sk_setsockopt(): TCP takes it as UDP does. */
		int v;

		if (len < sizeof(int))
			return -EINVAL;
		memcpy(&v, val, sizeof(v));
		if (v < 0 || v > 1)
			return -EINVAL;
		sk->zerocopy = v;
		return 0;
	}
	/* do_ip_setsockopt(): group membership is for datagram sockets (is_icsk) */
	if (level == SOL_IP && (name == IP_ADD_MEMBERSHIP || name == IP_DROP_MEMBERSHIP))
		return -EPROTO;
	uint8_t old_tos = sk->tos;

	err = sock_setsockopt(sk, level, name, val, len);
	if (err)
		return err;
	/* __ip_sock_set_tos(): on a stream socket the ECN bits stay TCP's */
	if (level == SOL_IP && name == IP_TOS)
		sk->tos = (uint8_t)((sk->tos & ~3) | (old_tos & 3));
	stream_mirror(sk, level, name);
	if (level == SOL_SOCKET && name == SO_RCVLOWAT) {
		/* TCP caps it by the buffer (tcp_set_rcvlowat) */
		socklen_t l = sizeof(sk->rcvlowat);

		tcp_getsockopt(TP(sk), SOL_SOCKET, SO_RCVLOWAT, &sk->rcvlowat, &l);
	}
	return 0;
}

/* do_ip_getsockopt(IP_PKTOPTIONS), the SOCK_STREAM-only option: control messages as
 * recvmsg() would give, from the connection rather than a packet -- IP_PKTINFO with the
 * bound address and mc_index, IP_TTL with mc_ttl, IP_TOS with rcv_tos (an accepted
 * socket has the final ACK's, tcp_v4_syn_recv_sock()); *len becomes the bytes
 * written (a short buffer takes none, MSG_CTRUNC is not reported). */
static int stream_pktoptions(struct sock *sk, void *val, socklen_t *len)
{
	struct msghdr m = { .msg_control = val };
	int iif, ttl, tos = 0;
	size_t used = 0;

	if ((int)*len < 0)
		return -EINVAL;
	m.msg_controllen = *len;
	if (!tcp_get_syn_rx(TP(sk), &iif, &ttl, &tos))
		tos = 0;
	if (sk->cmsg_flags & IP_CMSG_PKTINFO) {
		struct in_pktinfo pi = { .ipi_ifindex = sk->mc_index };

		pi.ipi_addr.s_addr = sk->rcv_saddr;
		pi.ipi_spec_dst.s_addr = sk->rcv_saddr;
		cmsg_put(&m, &used, SOL_IP, IP_PKTINFO, &pi, sizeof(pi));
	}
	if (sk->cmsg_flags & IP_CMSG_TTL) {
		int hlim = sk->mc_ttl;

		cmsg_put(&m, &used, SOL_IP, IP_TTL, &hlim, sizeof(hlim));
	}
	if (sk->cmsg_flags & IP_CMSG_TOS)
		cmsg_put(&m, &used, SOL_IP, IP_TOS, &tos, sizeof(tos));
	*len = (socklen_t)used;
	return 0;
}

int stream_getsockopt(struct sock *sk, int level, int name, void *val, socklen_t *len)
{
	struct tcp_sock *tp = TP(sk);

	if (!tp)
		return -EBADF;
	if (level == SOL_TCP)
		return tcp_getsockopt(tp, level, name, val, len);
	if (level == SOL_SOCKET && (name == SO_RCVBUF || name == SO_SNDBUF || name == SO_ERROR ||
				    name == SO_ACCEPTCONN)) {
		if ((int)*len < 0)
			return -EINVAL;
		return tcp_getsockopt(tp, level, name, val, len);
	}
	if (level == SOL_IP && name == IP_MTU)
		return tcp_getsockopt(tp, level, name, val, len);
	if (level == SOL_IP && name == IP_PKTOPTIONS)
		return stream_pktoptions(sk, val, len);
	return sock_getsockopt(sk, level, name, val, len);
}

int stream_ioctl(struct sock *sk, unsigned long req, void *arg)
{
	int v = 0, err;

	switch (req) {
	case SIOCINQ:
	case SIOCOUTQ:
	case SIOCOUTQNSD:
	case SIOCATMARK:
		break;
	default:
		return 1;
	}
	if (!TP(sk))
		return -EBADF;
	err = tcp_ioctl(TP(sk), req, &v);
	if (err < 0)
		return err;
	if (!arg)
		return -EFAULT;
	memcpy(arg, &v, sizeof(v));
	return 0;
}

short stream_poll_mask(struct sock *sk)
{
	struct tcp_sock *tp = TP(sk);
	unsigned m;

	if (!tp)
		return POLLHUP;
	m = tcp_poll(tp);
	if (sk->errq.head)
		m |= POLLERR;
	return (short)m;
}

/* ---- close ---- */

static bool close_ready(struct sock *sk, void *arg)
{
	return !TP(sk) ||
	       !tcpf(tcp_sock_state(TP(sk)), F(TCP_FIN_WAIT1) | F(TCP_CLOSING) | F(TCP_LAST_ACK));
}

/* tcp_close()'s sk_stream_wait_close(): with SO_LINGER and a time, a blocking close()
 * waits until the FIN is acknowledged (so every byte before it) or the time is up. The
 * FIN goes out first by shutdown(SHUT_WR) unless it already has (unless unread data
 * makes the close a RST: then there is nothing to wait for); tcp_close() then finds the
 * connection half-closed and carries on. */
void stream_close(struct sock *sk)
{
	struct ips_stack *st = sk->st;
	struct tcp_sock *tp;

	if (!st)
		return;
	stack_lock(st);
	tp = TP(sk);
	if (tp && sk->linger && sk->linger_sec > 0 && !sk->nonblock && inq(tp) == 0 &&
	    tcpf(tcp_sock_state(tp), F(TCP_ESTABLISHED) | F(TCP_CLOSE_WAIT) | F(TCP_FIN_WAIT1) |
					     F(TCP_CLOSING) | F(TCP_LAST_ACK))) {
		if (tcpf(tcp_sock_state(tp), F(TCP_ESTABLISHED) | F(TCP_CLOSE_WAIT)))
			tcp_shutdown(tp, SHUT_WR);
		sock_wait(sk, close_ready, NULL, (int64_t)sk->linger_sec * (int64_t)NS_PER_SEC,
			  "close");
	}
	if (sk->st)
		stack_unlock(st);
}

/* The POSIX-shaped socket API: the descriptor table, the current stack of a thread, and
 * every ips_* socket call. errno is set here and only here; everything below returns
 * -errno. Each call takes a reference on the socket (so a concurrent ips_close() cannot
 * free it), locks its stack once, and on the way out brings the socket's eventfd up to
 * date. Argument checks follow Linux's net/socket.c in order. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "core/stack.h"
#include "socket/socket_state.h"
#include "socket/stream.h"
#include "transport/transport_state.h"

#define FD_MAX_SOCKETS (1 << 24)

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sock **fd_tab;
static int fd_cap;
static int fd_lowest_free;		/* every slot below is in use */
static struct ips_stack *g_default;	/* the stack created most recently */
static __thread struct ips_stack *tls_stack;

/* ---- Stacks ---- */

int sock_stack_init(struct ips_stack *st)
{
	struct socket_state *ss = calloc(1, sizeof(*ss));

	if (!ss)
		return -ENOMEM;
	ss->caps = IPS_CAPS_ALL;
	st->sock = ss;
	pthread_mutex_lock(&g_lock);
	g_default = st;
	pthread_mutex_unlock(&g_lock);
	return 0;
}

/* The stack goes away: its sockets are detached (their descriptors stay allocated and
 * answer EBADF until closed). */
void sock_stack_fini(struct ips_stack *st)
{
	struct socket_state *ss = st->sock;

	if (!ss)
		return;
	pthread_mutex_lock(&g_lock);
	if (g_default == st)
		g_default = NULL;
	pthread_mutex_unlock(&g_lock);
	if (tls_stack == st)
		tls_stack = NULL;
	while (ss->socks) {
		struct sock *sk = ss->socks;

		if (sk->prot->release)
			sk->prot->release(sk);
		pkb_queue_purge(&sk->rcvq);
		pkb_queue_purge(&sk->errq);
		ss->socks = sk->st_next;
		sk->st_next = sk->st_prev = NULL;
		sk->dead = true;
		sk->st = NULL;
		if (sk->cond)
			pthread_cond_broadcast(sk->cond);
	}
	free(ss);
	st->sock = NULL;
}

IPS_API int ips_stack_enter(ips_stack *st)
{
	tls_stack = st;
	return 0;
}

IPS_API ips_stack *ips_stack_current(void)
{
	struct ips_stack *st = tls_stack;

	if (!st) {
		pthread_mutex_lock(&g_lock);
		st = g_default;
		pthread_mutex_unlock(&g_lock);
	}
	return st;
}

IPS_API int ips_stack_set_creds(ips_stack *st, uint64_t caps, uid_t uid, gid_t gid)
{
	struct socket_state *ss;

	stack_lock(st);
	ss = st->sock;
	ss->caps = caps;
	ss->uid = uid;
	ss->gid = gid;
	stack_unlock(st);
	return 0;
}

/* ---- Descriptors ---- */

IPS_API int ips_is_socket(int fd)
{
	return fd >= IPS_FD_BASE && fd - IPS_FD_BASE < FD_MAX_SOCKETS;
}

static int fd_install(struct sock *sk)
{
	int i;

	pthread_mutex_lock(&g_lock);
	for (i = fd_lowest_free; i < fd_cap && fd_tab[i]; i++)
		;
	if (i == fd_cap) {
		int cap = fd_cap ? fd_cap * 2 : 64;
		struct sock **n;

		if (cap > FD_MAX_SOCKETS || !(n = realloc(fd_tab, (size_t)cap * sizeof(*n)))) {
			pthread_mutex_unlock(&g_lock);
			return -EMFILE;
		}
		memset(n + fd_cap, 0, (size_t)(cap - fd_cap) * sizeof(*n));
		fd_tab = n;
		fd_cap = cap;
	}
	fd_tab[i] = sk;
	fd_lowest_free = i + 1;
	sk->fd = IPS_FD_BASE + i;
	pthread_mutex_unlock(&g_lock);
	return IPS_FD_BASE + i;
}

/* The socket of fd with a reference, or NULL. */
static struct sock *fd_get(int fd)
{
	struct sock *sk = NULL;
	int i = fd - IPS_FD_BASE;

	if (fd < IPS_FD_BASE)
		return NULL;
	pthread_mutex_lock(&g_lock);
	if (i < fd_cap && fd_tab[i]) {
		sk = fd_tab[i];
		sock_hold(sk);
	}
	pthread_mutex_unlock(&g_lock);
	return sk;
}

static struct sock *fd_remove(int fd)
{
	struct sock *sk = NULL;
	int i = fd - IPS_FD_BASE;

	if (fd < IPS_FD_BASE)
		return NULL;
	pthread_mutex_lock(&g_lock);
	if (i < fd_cap && fd_tab[i]) {
		sk = fd_tab[i];
		fd_tab[i] = NULL;
		if (i < fd_lowest_free)
			fd_lowest_free = i;
	}
	pthread_mutex_unlock(&g_lock);
	return sk;
}

static inline long set_errno(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* Enter a call on fd: the socket, referenced, with its stack locked. */
static struct sock *sock_enter(int fd, long *err)
{
	struct sock *sk = fd_get(fd);

	if (!sk) {
		/* A kernel descriptor is not ours: EBADF as for a closed one (ENOTSOCK would
		 * need to know the kernel's table). */
		*err = -EBADF;
		return NULL;
	}
	if (!sk->st) {
		sock_put(sk);
		*err = -EBADF;
		return NULL;
	}
	stack_lock(sk->st);
	*err = 0;
	return sk;
}

static void sock_leave(struct sock *sk)
{
	struct ips_stack *st = sk->st;

	if (st) {
		sock_efd_update(sk);
		stack_unlock(st);
	}
	sock_put(sk);
}

/* ---- Socket types (Linux inetsw) ---- */

struct sock_type_entry {
	int type;
	int protocol;		/* IPPROTO_IP = wildcard (raw) */
	const struct sock_proto *prot;
};

static const struct sock_type_entry inetsw[] = {
	{ SOCK_STREAM, IPPROTO_TCP, &tcp_stream_prot },
	{ SOCK_DGRAM, IPPROTO_UDP, &udp_prot },
	{ SOCK_DGRAM, IPPROTO_ICMP, &ping_prot },
	{ SOCK_DGRAM, IPPROTO_UDPLITE, &udplite_prot },
	{ SOCK_RAW, IPPROTO_IP, &raw_prot },
};

static long sock_create(int domain, int type, int protocol)
{
	struct ips_stack *st = ips_stack_current();
	int flags = type & ~0xf;
	const struct sock_type_entry *answer = NULL;
	long err;

	type &= 0xf;
	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	if (domain < 0 || domain >= 46 /* NPROTO */)
		return -EAFNOSUPPORT;
	if (type < 0 || type >= 11 /* SOCK_MAX */)
		return -EINVAL;
	if (domain != AF_INET)
		return -EAFNOSUPPORT;
	if (!st)
		return -ENETDOWN;
	if (protocol < 0 || protocol >= 263 /* IPPROTO_MAX */)
		return -EINVAL;
	/* inet_create(): the first entry of the type that matches, with the two wildcard
	 * cases (protocol 0 takes the type's default; a wildcard entry takes any). */
	err = -ESOCKTNOSUPPORT;
	for (size_t i = 0; i < sizeof(inetsw) / sizeof(inetsw[0]); i++) {
		const struct sock_type_entry *e = &inetsw[i];

		if (e->type != type)
			continue;
		err = 0;
		if (protocol == e->protocol) {
			if (protocol != IPPROTO_IP) {
				answer = e;
				break;
			}
		} else {
			if (protocol == IPPROTO_IP) {
				protocol = e->protocol;
				answer = e;
				break;
			}
			if (e->protocol == IPPROTO_IP) {
				answer = e;
				break;
			}
		}
		err = -EPROTONOSUPPORT;
	}
	if (!answer)
		return err ? err : -EPROTONOSUPPORT;

	stack_lock(st);
	if (!st->sock) {
		stack_unlock(st);
		return -ENETDOWN;
	}
	if (type == SOCK_RAW && !sock_capable(st, SOCK_CAP_NET_RAW)) {
		stack_unlock(st);
		return -EPERM;
	}
	struct sock *sk = sock_alloc(st, type, protocol, answer->prot);

	if (!sk) {
		stack_unlock(st);
		return -ENOMEM;
	}
	sk->nonblock = (flags & SOCK_NONBLOCK) != 0;
	sk->cloexec = (flags & SOCK_CLOEXEC) != 0;
	err = sk->prot->init ? sk->prot->init(sk) : 0;
	stack_unlock(st);
	if (err) {
		sock_put(sk);
		return err;
	}
	err = fd_install(sk);
	if (err < 0)
		sock_put(sk);
	return err;
}

IPS_API int ips_socket(int domain, int type, int protocol)
{
	return (int)set_errno(sock_create(domain, type, protocol));
}

/* move_addr_to_kernel() */
static long addr_in(const struct sockaddr *addr, socklen_t len, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if ((int)len < 0 || len > sizeof(*out))
		return -EINVAL;
	if (len == 0)
		return 0;
	if (!addr)
		return -EFAULT;
	memcpy(out, addr, len);
	return 0;
}

/* move_addr_to_user(): klen bytes of kaddr, truncated to *ulen; *ulen = klen. */
static long addr_out(const void *kaddr, socklen_t klen, struct sockaddr *uaddr, socklen_t *ulen)
{
	int len;

	if (!ulen)
		return -EFAULT;
	len = (int)*ulen;
	if (len > (int)klen)
		len = (int)klen;
	if (len < 0)
		return -EINVAL;
	if (len) {
		if (!uaddr)
			return -EFAULT;
		memcpy(uaddr, kaddr, (size_t)len);
	}
	*ulen = klen;
	return 0;
}

IPS_API int ips_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage ss;
	long err = addr_in(addr, len, &ss);
	struct sock *sk;

	if (err)
		return (int)set_errno(err);
	sk = sock_enter(fd, &err);
	if (!sk)
		return (int)set_errno(err);
	err = sk->prot->bind(sk, (struct sockaddr_in *)&ss, len);
	sock_leave(sk);
	return (int)set_errno(err);
}

IPS_API int ips_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage ss;
	long err = addr_in(addr, len, &ss);
	struct sock *sk;

	if (err)
		return (int)set_errno(err);
	sk = sock_enter(fd, &err);
	if (!sk)
		return (int)set_errno(err);
	if (sk->type == SOCK_STREAM) {
		err = stream_connect(sk, (struct sockaddr_in *)&ss, len);
		sock_leave(sk);
		return (int)set_errno(err);
	}
	/* inet_dgram_connect() */
	if (len < sizeof(ss.ss_family))
		err = -EINVAL;
	else if (ss.ss_family == AF_UNSPEC)
		err = sk->prot->disconnect(sk);
	else if (!sk->num && inet_autobind(sk))
		err = -EAGAIN;
	else
		err = sk->prot->connect(sk, (struct sockaddr_in *)&ss, len);
	sock_wake(sk);
	sock_leave(sk);
	return (int)set_errno(err);
}

IPS_API int ips_listen(int fd, int backlog)
{
	long err;
	struct sock *sk = sock_enter(fd, &err);

	if (!sk)
		return (int)set_errno(err);
	if (sk->type == SOCK_STREAM)
		err = stream_listen(sk, backlog);
	else
		err = -EOPNOTSUPP;	/* sock_no_listen(): datagram and raw sockets */
	sock_leave(sk);
	return (int)set_errno(err);
}

IPS_API int ips_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	long err;

	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return (int)set_errno(-EINVAL);
	struct sock *sk = sock_enter(fd, &err);

	if (!sk)
		return (int)set_errno(err);
	if (sk->type != SOCK_STREAM) {
		err = -EOPNOTSUPP;	/* sock_no_accept() */
		sock_leave(sk);
		return (int)set_errno(err);
	}
	struct sock *nsk = NULL;
	struct sockaddr_in peer;

	err = stream_accept(sk, flags, &nsk, &peer);
	sock_leave(sk);
	if (err)
		return (int)set_errno(err);
	if (addr || len) {
		err = addr_out(&peer, sizeof(peer), addr, len);
		if (err) {
			sock_put(nsk);
			return (int)set_errno(err);
		}
	}
	err = fd_install(nsk);
	if (err < 0)
		sock_put(nsk);
	return (int)set_errno(err);
}

IPS_API int ips_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return ips_accept4(fd, addr, len, 0);
}

/* ---- Sending ---- */

static long do_sendmsg(int fd, struct msghdr *msg, int flags)
{
	long err;
	struct sock *sk = sock_enter(fd, &err);

	if (!sk)
		return err;
	if (sk->nonblock)
		flags |= MSG_DONTWAIT;
	if (sk->type == SOCK_STREAM) {
		err = stream_sendmsg(sk, msg, flags);
		sock_leave(sk);
		/* sk_stream_error(): EPIPE raises SIGPIPE unless MSG_NOSIGNAL. */
		if (err == -EPIPE && !(flags & MSG_NOSIGNAL))
			raise(SIGPIPE);
		return err;
	}
	size_t len = sock_iov_len(msg);

	/* ____sys_sendmsg(): a control buffer larger than the on-stack one (cmsghdr + 20
	 * bytes) comes from sock_kmalloc(), which refuses net.core.optmem_max or more. */
	if (msg->msg_controllen > sizeof(struct cmsghdr) + 20 &&
	    msg->msg_controllen >= (size_t)sk->st->sysctl.core.optmem_max)
		err = -ENOBUFS;
	/* inet_send_prepare(): bind a port first if there is none. */
	else if (!sk->num && inet_autobind(sk))
		err = -EAGAIN;
	else
		err = sk->prot->sendmsg(sk, msg, len, flags);
	sock_leave(sk);
	return err;
}

IPS_API ssize_t ips_sendto(int fd, const void *buf, size_t len, int flags,
			   const struct sockaddr *addr, socklen_t alen)
{
	struct sockaddr_storage ss;
	struct iovec iov = { (void *)buf, len > INT_MAX ? INT_MAX : len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (addr) {
		long err = addr_in(addr, alen, &ss);

		if (err)
			return set_errno(err);
		msg.msg_name = &ss;
		msg.msg_namelen = alen;
	}
	if (len && !buf)
		return set_errno(-EFAULT);
	return set_errno(do_sendmsg(fd, &msg, flags));
}

IPS_API ssize_t ips_send(int fd, const void *buf, size_t len, int flags)
{
	return ips_sendto(fd, buf, len, flags, NULL, 0);
}

IPS_API ssize_t ips_sendmsg(int fd, const struct msghdr *umsg, int flags)
{
	struct sockaddr_storage ss;
	struct msghdr msg;

	if (!umsg)
		return set_errno(-EFAULT);
	msg = *umsg;
	/* copy_msghdr_from_user() */
	if (!msg.msg_name)
		msg.msg_namelen = 0;
	if ((int)msg.msg_namelen < 0)
		return set_errno(-EINVAL);
	if (msg.msg_namelen > sizeof(ss))
		msg.msg_namelen = sizeof(ss);
	if (msg.msg_name && msg.msg_namelen) {
		addr_in(msg.msg_name, msg.msg_namelen, &ss);
		msg.msg_name = &ss;
	} else {
		msg.msg_name = NULL;
		msg.msg_namelen = 0;
	}
	if (msg.msg_iovlen > IOV_MAX)
		return set_errno(-EMSGSIZE);
	if (msg.msg_iovlen && !msg.msg_iov)
		return set_errno(-EFAULT);
	if (msg.msg_controllen > INT_MAX)
		return set_errno(-ENOBUFS);
	if (!msg.msg_control)
		msg.msg_controllen = 0;
	return set_errno(do_sendmsg(fd, &msg, flags));
}

IPS_API ssize_t ips_write(int fd, const void *buf, size_t len)
{
	return ips_sendto(fd, buf, len, 0, NULL, 0);
}

IPS_API ssize_t ips_writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };

	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return set_errno(-EINVAL);
	return set_errno(do_sendmsg(fd, &msg, 0));
}

/* ---- Receiving ---- */

/* msg->msg_name is the kernel-side address buffer (msg_namelen is set to what was
 * filled, 0 if nothing). */
static long do_recvmsg(int fd, struct msghdr *msg, int flags)
{
	long err;
	struct sock *sk = sock_enter(fd, &err);

	if (!sk)
		return err;
	if (sk->nonblock)
		flags |= MSG_DONTWAIT;
	if (sk->type == SOCK_STREAM)
		err = stream_recvmsg(sk, msg, flags);
	else
		err = sock_dgram_recvmsg(sk, msg, flags);
	sock_leave(sk);
	return err;
}

IPS_API ssize_t ips_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
			     socklen_t *alen)
{
	struct sockaddr_storage ss;
	struct iovec iov = { buf, len > INT_MAX ? INT_MAX : len };
	struct msghdr msg = { .msg_name = &ss, .msg_namelen = sizeof(ss), .msg_iov = &iov,
			      .msg_iovlen = 1 };
	long n;

	if (len && !buf)
		return set_errno(-EFAULT);
	n = do_recvmsg(fd, &msg, flags & ~MSG_CMSG_CLOEXEC);
	if (n < 0)
		return set_errno(n);
	if (addr) {
		long e = addr_out(&ss, msg.msg_namelen, addr, alen);

		if (e)
			return set_errno(e);
	}
	return n;
}

IPS_API ssize_t ips_recv(int fd, void *buf, size_t len, int flags)
{
	return ips_recvfrom(fd, buf, len, flags, NULL, NULL);
}

IPS_API ssize_t ips_recvmsg(int fd, struct msghdr *umsg, int flags)
{
	struct sockaddr_storage ss;
	struct msghdr msg;
	long n;

	if (!umsg)
		return set_errno(-EFAULT);
	msg = *umsg;
	if ((int)umsg->msg_namelen < 0 && umsg->msg_name)
		return set_errno(-EINVAL);
	if (msg.msg_iovlen > IOV_MAX)
		return set_errno(-EMSGSIZE);
	if (!msg.msg_control)
		msg.msg_controllen = 0;
	msg.msg_name = &ss;
	msg.msg_namelen = sizeof(ss);
	msg.msg_flags = 0;
	n = do_recvmsg(fd, &msg, flags);
	if (n < 0)
		return set_errno(n);
	if (umsg->msg_name) {
		socklen_t ul = umsg->msg_namelen > sizeof(ss) ? sizeof(ss) : umsg->msg_namelen;
		long e = addr_out(&ss, msg.msg_namelen, umsg->msg_name, &ul);

		if (e)
			return set_errno(e);
		umsg->msg_namelen = ul;
	}
	umsg->msg_flags = msg.msg_flags;
	umsg->msg_controllen = msg.msg_controllen;
	return n;
}

IPS_API ssize_t ips_read(int fd, void *buf, size_t len)
{
	struct sockaddr_storage ss;
	struct iovec iov = { buf, len };
	struct msghdr msg = { .msg_name = &ss, .msg_namelen = sizeof(ss), .msg_iov = &iov,
			      .msg_iovlen = 1 };
	long err;
	struct sock *sk;

	/* sock_read_iter(): "Match SYS5 behaviour" -- nothing asked, nothing read. */
	if (!len) {
		sk = sock_enter(fd, &err);
		if (!sk)
			return set_errno(err);
		sock_leave(sk);
		return 0;
	}
	return set_errno(do_recvmsg(fd, &msg, 0));
}

IPS_API ssize_t ips_readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct sockaddr_storage ss;
	struct msghdr msg = { .msg_name = &ss, .msg_namelen = sizeof(ss),
			      .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };

	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return set_errno(-EINVAL);
	if (!sock_iov_len(&msg)) {
		long err;
		struct sock *sk = sock_enter(fd, &err);

		if (!sk)
			return set_errno(err);
		sock_leave(sk);
		return 0;
	}
	return set_errno(do_recvmsg(fd, &msg, 0));
}

/* ---- The rest ---- */

IPS_API int ips_shutdown(int fd, int how)
{
	long err;
	struct sock *sk = sock_enter(fd, &err);

	if (!sk)
		return (int)set_errno(err);
	/* inet_shutdown(): 0,1,2 -> RCV, SEND, both. An unconnected datagram socket still
	 * records it (and says ENOTCONN) so that pollers wake with POLLHUP. */
	if (sk->type == SOCK_STREAM) {
		err = stream_shutdown(sk, how);
		sock_leave(sk);
		return (int)set_errno(err);
	}
	how++;
	if ((how & ~3) || !how) {
		err = -EINVAL;
	} else {
		err = sk->state == SS_CLOSE ? -ENOTCONN : 0;
		sk->shutdown |= how;
		sock_wake(sk);
	}
	sock_leave(sk);
	return (int)set_errno(err);
}

IPS_API int ips_close(int fd)
{
	struct sock *sk = fd_remove(fd);

	if (!sk)
		return (int)set_errno(-EBADF);
	if (sk->type == SOCK_STREAM)
		stream_close(sk);	/* SO_LINGER with a time waits here */
	sock_put(sk);
	return 0;
}

static int do_getname(int fd, struct sockaddr *addr, socklen_t *len, bool peer)
{
	struct sockaddr_in sin;
	long err;
	struct sock *sk = sock_enter(fd, &err);

	if (!sk)
		return (int)set_errno(err);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (sk->type == SOCK_STREAM) {
		err = stream_getname(sk, &sin, peer);
	} else if (peer) {
		if (!sk->dport)
			err = -ENOTCONN;
		sin.sin_port = sk->dport;
		sin.sin_addr.s_addr = sk->daddr;
	} else {
		sin.sin_port = sk->sport;
		sin.sin_addr.s_addr = sk->rcv_saddr ? sk->rcv_saddr : sk->saddr;
	}
	sock_leave(sk);
	if (!err)
		err = addr_out(&sin, sizeof(sin), addr, len);
	return (int)set_errno(err);
}

IPS_API int ips_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	return do_getname(fd, addr, len, false);
}

IPS_API int ips_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	return do_getname(fd, addr, len, true);
}

IPS_API int ips_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	long err;
	struct sock *sk;

	if ((int)len < 0)
		return (int)set_errno(-EINVAL);
	sk = sock_enter(fd, &err);
	if (!sk)
		return (int)set_errno(err);
	if (len && !val)
		err = -EFAULT;
	else if (sk->type == SOCK_STREAM)
		err = stream_setsockopt(sk, level, name, val, len);
	else
		err = sock_setsockopt(sk, level, name, val, len);
	sock_wake(sk);
	sock_leave(sk);
	return (int)set_errno(err);
}

IPS_API int ips_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	long err;
	struct sock *sk = sock_enter(fd, &err);

	if (!sk)
		return (int)set_errno(err);
	if (!len)
		err = -EFAULT;
	else if (sk->type == SOCK_STREAM)
		err = stream_getsockopt(sk, level, name, val, len);
	else
		err = sock_getsockopt(sk, level, name, val, len);
	sock_leave(sk);
	return (int)set_errno(err);
}

IPS_API int ips_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg, err;
	struct sock *sk;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	sk = sock_enter(fd, &err);
	if (!sk)
		return (int)set_errno(err);
	switch (cmd) {
	case F_GETFL:
		err = O_RDWR | (sk->nonblock ? O_NONBLOCK : 0);
		break;
	case F_SETFL:
		sk->nonblock = (arg & O_NONBLOCK) != 0;
		err = 0;
		break;
	case F_GETFD:
		err = sk->cloexec ? FD_CLOEXEC : 0;
		break;
	case F_SETFD:
		sk->cloexec = (arg & FD_CLOEXEC) != 0;
		err = 0;
		break;
	default:
		err = -EINVAL;
		break;
	}
	sock_leave(sk);
	return (int)set_errno(err);
}

IPS_API int ips_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	long err;
	struct sock *sk;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	sk = sock_enter(fd, &err);
	if (!sk)
		return (int)set_errno(err);
	switch (req) {
	case FIONBIO:
		if (!arg) {
			err = -EFAULT;
		} else {
			sk->nonblock = *(int *)arg != 0;
			err = 0;
		}
		break;
	case FIOCLEX:
		sk->cloexec = true;
		err = 0;
		break;
	case FIONCLEX:
		sk->cloexec = false;
		err = 0;
		break;
	default:
		err = sk->type == SOCK_STREAM ? stream_ioctl(sk, req, arg) : 1;
		if (err == 1)
			err = sock_ioctl(sk, req, arg);
		break;
	}
	sock_leave(sk);
	return (int)set_errno(err);
}

IPS_API int ips_socket_eventfd(int fd, short events)
{
	long err;
	struct sock *sk = sock_enter(fd, &err);

	if (!sk)
		return (int)set_errno(err);
	if (sk->efd < 0) {
		sk->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (sk->efd < 0)
			err = -errno;
		sk->efd_ready = false;
	}
	sk->efd_events = events;
	if (!err)
		err = sk->efd;
	sock_leave(sk);	/* brings the eventfd up to date */
	return (int)set_errno(err);
}

/* ---- poll ---- */

struct poll_ctx {
	struct pollfd *fds;
	nfds_t nfds;
	struct sock **socks;
};

/* Fill revents; returns the number of ready entries. */
static int poll_scan(struct poll_ctx *c)
{
	int n = 0;

	for (nfds_t i = 0; i < c->nfds; i++) {
		struct pollfd *p = &c->fds[i];
		struct sock *sk = c->socks[i];

		p->revents = 0;
		if (p->fd < 0)
			continue;
		if (!sk || !sk->st) {
			p->revents = POLLNVAL;
		} else {
			stack_lock(sk->st);
			p->revents = sock_poll_mask(sk) & (p->events | POLLERR | POLLHUP);
			stack_unlock(sk->st);
		}
		if (p->revents)
			n++;
	}
	return n;
}

static int poll_sim_done(void *arg)
{
	return poll_scan(arg) > 0;
}

IPS_API int ips_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	struct sock *stack_socks[16];
	struct sock **socks = nfds <= 16 ? stack_socks : calloc(nfds, sizeof(*socks));
	struct poll_ctx c = { fds, nfds, socks };
	struct ips_world *world = NULL;
	int n;

	if (!socks)
		return (int)set_errno(-ENOMEM);
	if (nfds > (nfds_t)INT_MAX)
		return (int)set_errno(-EINVAL);
	for (nfds_t i = 0; i < nfds; i++) {
		socks[i] = fds[i].fd >= 0 ? fd_get(fds[i].fd) : NULL;
		if (socks[i] && socks[i]->st && socks[i]->st->world)
			world = socks[i]->st->world;
	}
	n = poll_scan(&c);
	if (n == 0 && timeout_ms != 0) {
		if (world) {
			/* Simulated: run the world until something is ready or the (virtual)
			 * timeout passes; an idle world ends the wait. */
			uint64_t max = timeout_ms < 0 ? UINT64_MAX : (uint64_t)timeout_ms * NS_PER_MS;
			uint64_t start = ips_world_now_ns(world);

			for (;;) {
				uint64_t now = ips_world_now_ns(world);
				uint64_t next = ips_world_next_event_ns(world);

				if ((n = poll_scan(&c)) > 0)
					break;
				if (timeout_ms >= 0 && now - start >= max)
					break;
				if (next == UINT64_MAX ||
				    (timeout_ms >= 0 && next - start > max)) {
					if (timeout_ms >= 0)
						ips_world_run_until(world, poll_sim_done, &c,
								    start + max - now);
					else
						fprintf(stderr, "ipstack: ips_poll would block forever: "
								"the simulated world is idle\n");
					n = poll_scan(&c);
					break;
				}
				ips_world_run_until(world, poll_sim_done, &c, next - now);
			}
		} else {
			struct sock_waiter w = { .woken = false };
			struct sock_wait_entry *ents = calloc(nfds ? nfds : 1, sizeof(*ents));
			struct timespec dl;

			pthread_mutex_init(&w.lock, NULL);
			{
				pthread_condattr_t ca;

				pthread_condattr_init(&ca);
				pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
				pthread_cond_init(&w.cond, &ca);
				pthread_condattr_destroy(&ca);
			}
			clock_gettime(CLOCK_MONOTONIC, &dl);
			if (timeout_ms > 0) {
				uint64_t t = (uint64_t)dl.tv_sec * NS_PER_SEC + (uint64_t)dl.tv_nsec +
					     (uint64_t)timeout_ms * NS_PER_MS;

				dl.tv_sec = (time_t)(t / NS_PER_SEC);
				dl.tv_nsec = (long)(t % NS_PER_SEC);
			}
			for (nfds_t i = 0; ents && i < nfds; i++) {
				struct sock *sk = socks[i];

				if (!sk || !sk->st)
					continue;
				ents[i].w = &w;
				stack_lock(sk->st);
				ents[i].next = sk->wait_head.next;
				ents[i].prev = &sk->wait_head;
				sk->wait_head.next->prev = &ents[i];
				sk->wait_head.next = &ents[i];
				stack_unlock(sk->st);
			}
			for (;;) {
				/* Registered first, then checked: a wake-up in between sets
				 * w.woken, so it is not lost. */
				if ((n = poll_scan(&c)) > 0)
					break;
				pthread_mutex_lock(&w.lock);
				int rc = 0;

				while (!w.woken && rc == 0) {
					if (timeout_ms < 0)
						pthread_cond_wait(&w.cond, &w.lock);
					else
						rc = pthread_cond_timedwait(&w.cond, &w.lock, &dl);
				}
				w.woken = false;
				pthread_mutex_unlock(&w.lock);
				if (rc) {
					n = poll_scan(&c);
					break;
				}
			}
			for (nfds_t i = 0; ents && i < nfds; i++) {
				struct sock *sk = socks[i];

				if (!ents[i].w)
					continue;
				if (sk->st)
					stack_lock(sk->st);
				ents[i].prev->next = ents[i].next;
				ents[i].next->prev = ents[i].prev;
				if (sk->st)
					stack_unlock(sk->st);
			}
			free(ents);
			pthread_cond_destroy(&w.cond);
			pthread_mutex_destroy(&w.lock);
		}
	}
	for (nfds_t i = 0; i < nfds; i++)
		if (socks[i])
			sock_put(socks[i]);
	if (socks != stack_socks)
		free(socks);
	return n;
}

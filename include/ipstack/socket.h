/* The socket API of ipstack: the POSIX calls with an ips_ prefix, the same arguments,
 * the same <netinet/in.h> structures and constants; each returns -1 and sets errno as
 * Linux does (see docs/sockets.md).
 *
 * Descriptors. ipstack socket descriptors live in their own number space, starting at
 * IPS_FD_BASE (2^30), far above any kernel file descriptor: Linux never hands out a
 * descriptor at or above fs.nr_open (1048576 by default, and raising it to 2^30 would
 * need gigabytes per process), so a program — or an LD_PRELOAD shim — can tell an
 * ipstack socket from a kernel one by its number alone (ips_is_socket()). The table is
 * process-wide, like a process's file table; each socket remembers its stack. Like
 * kernel descriptors, the lowest free number is used. They cannot be passed to the
 * kernel's poll/select/epoll: use ips_poll(), or ips_socket_eventfd() for an epoll loop.
 *
 * Stacks. A socket is created in the calling thread's current stack: the one given to
 * ips_stack_enter() (like setns(2)), or else the stack created most recently. */
#ifndef IPSTACK_SOCKET_H
#define IPSTACK_SOCKET_H

#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <ipstack/ipstack.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IPS_FD_BASE 0x40000000

/* Make st the calling thread's stack for new sockets (NULL: back to the default). */
IPS_API int ips_stack_enter(ips_stack *st);
/* The stack new sockets of this thread would be created in (NULL if none exists). */
IPS_API ips_stack *ips_stack_current(void);
/* Is fd an ipstack socket descriptor (open or not, by its number)? */
IPS_API int ips_is_socket(int fd);

/* The credential model of a stack: which capabilities (numbers as in
 * <linux/capability.h>: IPS_CAP_NET_BIND_SERVICE 10, IPS_CAP_NET_ADMIN 12,
 * IPS_CAP_NET_RAW 13) and which uid/gid the callers of this stack act with. A new stack
 * gives all capabilities, uid 0, gid 0 (like root in a fresh namespace). */
#define IPS_CAP_NET_BIND_SERVICE 10
#define IPS_CAP_NET_ADMIN 12
#define IPS_CAP_NET_RAW 13
#define IPS_CAPS_ALL ((1ULL << IPS_CAP_NET_BIND_SERVICE) | (1ULL << IPS_CAP_NET_ADMIN) | \
		      (1ULL << IPS_CAP_NET_RAW))
IPS_API int ips_stack_set_creds(ips_stack *st, uint64_t caps, uid_t uid, gid_t gid);

IPS_API int ips_socket(int domain, int type, int protocol);
IPS_API int ips_bind(int fd, const struct sockaddr *addr, socklen_t len);
IPS_API int ips_connect(int fd, const struct sockaddr *addr, socklen_t len);
IPS_API int ips_listen(int fd, int backlog);
IPS_API int ips_accept(int fd, struct sockaddr *addr, socklen_t *len);
IPS_API int ips_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
IPS_API ssize_t ips_send(int fd, const void *buf, size_t len, int flags);
IPS_API ssize_t ips_sendto(int fd, const void *buf, size_t len, int flags,
			   const struct sockaddr *addr, socklen_t alen);
IPS_API ssize_t ips_sendmsg(int fd, const struct msghdr *msg, int flags);
IPS_API ssize_t ips_recv(int fd, void *buf, size_t len, int flags);
IPS_API ssize_t ips_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
			     socklen_t *alen);
IPS_API ssize_t ips_recvmsg(int fd, struct msghdr *msg, int flags);
IPS_API ssize_t ips_read(int fd, void *buf, size_t len);
IPS_API ssize_t ips_write(int fd, const void *buf, size_t len);
IPS_API ssize_t ips_readv(int fd, const struct iovec *iov, int iovcnt);
IPS_API ssize_t ips_writev(int fd, const struct iovec *iov, int iovcnt);
IPS_API int ips_shutdown(int fd, int how);
IPS_API int ips_close(int fd);
IPS_API int ips_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
IPS_API int ips_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
IPS_API int ips_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
IPS_API int ips_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
/* Only ipstack descriptors (others report POLLNVAL). In a simulated world the timeout is
 * virtual time, and a wait on an idle world ends at once (0). */
IPS_API int ips_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms);
/* F_GETFL/F_SETFL (O_NONBLOCK), F_GETFD/F_SETFD (FD_CLOEXEC). */
IPS_API int ips_fcntl(int fd, int cmd, ...);
/* socket(7) and netdevice(7) ioctls, FIONBIO, FIOCLEX/FIONCLEX. */
IPS_API int ips_ioctl(int fd, unsigned long req, ...);

/* A kernel eventfd that is readable exactly while the socket has one of `events`
 * (POLLIN, POLLOUT, ...; POLLERR and POLLHUP always count) pending: add it to an epoll
 * set (EPOLLIN, level-triggered) and call ips_poll()/ips_recv() on the socket when it
 * fires. The eventfd belongs to the socket (closed by ips_close); calling again changes
 * the events and returns the same descriptor. */
IPS_API int ips_socket_eventfd(int fd, short events);

#ifdef __cplusplus
}
#endif

#endif

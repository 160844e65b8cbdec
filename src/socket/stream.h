/* SOCK_STREAM sockets: the glue between the POSIX calls of socket.c and TCP's non-blocking
 * interface (src/transport/tcp.h). Linux's inet_stream_ops + the blocking halves of
 * net/ipv4/tcp.c (sk_stream_wait_connect, sk_wait_data, inet_csk_wait_for_connect,
 * sk_stream_wait_memory, sk_stream_wait_close). Every function runs with the stack lock
 * held (socket.c's sock_enter) and returns a count or -errno; the blocking ones wait
 * through sock_wait(), so a simulated world runs while they wait. */
#ifndef IPS_SOCKET_STREAM_H
#define IPS_SOCKET_STREAM_H

#include <stdbool.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "socket/sock.h"

/* socket->state (Linux enum socket_state) of a stream socket, kept in sk->u.stream.ss. */
enum { STREAM_SS_UNCONNECTED = 1, STREAM_SS_CONNECTING, STREAM_SS_CONNECTED,
       STREAM_SS_DISCONNECTING };

extern const struct sock_proto tcp_stream_prot;

long stream_connect(struct sock *sk, const struct sockaddr_in *sin, socklen_t len);
long stream_listen(struct sock *sk, int backlog);
/* The next connection as a new socket (not yet in the descriptor table): *newsk, *peer. */
long stream_accept(struct sock *sk, int flags, struct sock **newsk, struct sockaddr_in *peer);
long stream_sendmsg(struct sock *sk, const struct msghdr *msg, int flags);
long stream_recvmsg(struct sock *sk, struct msghdr *msg, int flags);
long stream_shutdown(struct sock *sk, int how);
int stream_getname(struct sock *sk, struct sockaddr_in *sin, bool peer);
int stream_setsockopt(struct sock *sk, int level, int name, const void *val, socklen_t len);
int stream_getsockopt(struct sock *sk, int level, int name, void *val, socklen_t *len);
/* The TCP ioctls (SIOCINQ, SIOCOUTQ, SIOCOUTQNSD, SIOCATMARK); 1 = not one of them. */
int stream_ioctl(struct sock *sk, unsigned long req, void *arg);
short stream_poll_mask(struct sock *sk);
/* close() of the descriptor, before the reference goes: SO_LINGER with a time waits
 * (sk_stream_wait_close) for the FIN to be acknowledged. Takes the stack lock itself. */
void stream_close(struct sock *sk);

#endif

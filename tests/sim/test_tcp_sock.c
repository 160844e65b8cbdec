/* SOCK_STREAM through the socket API (src/socket/stream.c) on simulated stacks: blocking
 * calls run the world, so each test reads as straight-line socket code. Connect/accept,
 * EINPROGRESS and the second connect, refusal, data both ways with MSG_PEEK/WAITALL/OOB,
 * shutdown and end of stream, EPIPE + SIGPIPE (and MSG_NOSIGNAL), SO_LINGER 0 -> RST,
 * options and ioctls, SO_RCVTIMEO, and nothing left over once TIME_WAIT has passed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include "support/support.h"
#include "test.h"

#define SA(x) ((struct sockaddr *)&(x))

static int listener(ips_stack *st, const char *addr, int port)
{
	struct sockaddr_in a = sin4(addr, port);
	int one = 1;

	ips_stack_enter(st);
	int l = ips_socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0)
		return -1;
	ips_setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ips_bind(l, SA(a), sizeof(a)) < 0 || ips_listen(l, 16) < 0)
		return -1;
	return l;
}

/* Close everything, let TIME_WAIT and the FIN handshakes finish, check nothing leaked. */
static void finish(ips_world *w, ips_stack *a, ips_stack *b)
{
	ips_stack_enter(NULL);
	ips_world_run_for(w, SEC(200));
	CHECK_EQ(ips_stack_pkb_outstanding(a), 0);
	if (b)
		CHECK_EQ(ips_stack_pkb_outstanding(b), 0);
	CHECK_EQ(test_counter(a, "TcpCurrEstab"), 0);
	ips_world_free(w);
}

TEST(tcp_loopback_blocking_connect_accept_echo)
{
	ips_world *w = ips_world_new(1);
	ips_stack *st = ips_world_add_stack(w, "a");
	struct sockaddr_in a = sin4("127.0.0.1", 5000), peer, name;
	socklen_t pl = sizeof(peer), nl = sizeof(name);
	char buf[64];
	int l = listener(st, "127.0.0.1", 5000);
	int c = ips_socket(AF_INET, SOCK_STREAM, 0);

	ASSERT(l >= 0 && c >= 0);
	CHECK_EQ(ips_connect(c, SA(a), sizeof(a)), 0);
	int s = ips_accept(l, SA(peer), &pl);

	ASSERT(s >= 0);
	CHECK_EQ(pl, sizeof(peer));
	CHECK_EQ(peer.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	CHECK_EQ(ips_getsockname(c, SA(name), &nl), 0);
	CHECK_EQ(name.sin_port, peer.sin_port);
	CHECK_EQ(ips_getpeername(c, SA(name), &nl), 0);
	CHECK_EQ(ntohs(name.sin_port), 5000);
	CHECK_EQ(ips_send(c, "hello", 5, 0), 5);
	CHECK_EQ(ips_recv(s, buf, sizeof(buf), 0), 5);	/* blocks: runs the world */
	CHECK_MEM(buf, "hello", 5);
	CHECK_EQ(ips_write(s, "world!", 6), 6);
	CHECK_EQ(ips_read(c, buf, sizeof(buf)), 6);
	CHECK_MEM(buf, "world!", 6);
	CHECK_EQ(test_counter(st, "TcpCurrEstab"), 2);
	CHECK_EQ(test_counter(st, "TcpActiveOpens"), 1);
	CHECK_EQ(test_counter(st, "TcpPassiveOpens"), 1);
	/* Orderly close: the peer reads the end of the stream. */
	CHECK_EQ(ips_close(c), 0);
	CHECK_EQ(ips_recv(s, buf, sizeof(buf), 0), 0);
	CHECK_EQ(ips_close(s), 0);
	CHECK_EQ(ips_close(l), 0);
	finish(w, st, NULL);
}

TEST(tcp_nonblocking_connect_einprogress_then_poll)
{
	ips_world *w = ips_world_new(2);
	ips_stack *a, *b;

	ASSERT_EQ(two_hosts(w, &a, &b, NULL), 0);
	int l = listener(b, "0.0.0.0", 80);

	ips_stack_enter(a);
	int c = ips_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in dst = sin4("10.0.0.2", 80);
	struct pollfd pf = { .fd = c, .events = POLLOUT };
	int err = -1;
	socklen_t el = sizeof(err);

	CHECK_EQ(ips_connect(c, SA(dst), sizeof(dst)), -1);
	CHECK_EQ(errno, EINPROGRESS);
	CHECK_EQ(ips_connect(c, SA(dst), sizeof(dst)), -1);
	CHECK_EQ(errno, EALREADY);
	CHECK_EQ(ips_poll(&pf, 1, 5000), 1);
	CHECK_EQ(pf.revents, POLLOUT);
	CHECK_EQ(ips_getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	CHECK_EQ(err, 0);
	/* Linux: the connect after completion says 0 once, then EISCONN. */
	CHECK_EQ(ips_connect(c, SA(dst), sizeof(dst)), 0);
	CHECK_EQ(ips_connect(c, SA(dst), sizeof(dst)), -1);
	CHECK_EQ(errno, EISCONN);
	/* accept4 non-blocking, twice: the second finds nothing. */
	ips_stack_enter(b);
	int s = ips_accept4(l, NULL, NULL, SOCK_NONBLOCK);

	ASSERT(s >= 0);
	CHECK_EQ(ips_fcntl(l, F_SETFL, O_NONBLOCK), 0);
	CHECK_EQ(ips_accept4(l, NULL, NULL, SOCK_NONBLOCK), -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK_EQ(ips_fcntl(s, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	char buf[4];

	CHECK_EQ(ips_recv(s, buf, sizeof(buf), 0), -1);
	CHECK_EQ(errno, EAGAIN);
	int v = 1;
	socklen_t vl = sizeof(v);

	CHECK_EQ(ips_getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl), 0);
	CHECK_EQ(v, 1);
	CHECK_EQ(ips_getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(ips_getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vl), 0);
	CHECK_EQ(v, SOCK_STREAM);
	CHECK_EQ(ips_getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &vl), 0);
	CHECK_EQ(v, IPPROTO_TCP);
	ips_close(s);
	ips_close(l);
	ips_stack_enter(a);
	ips_close(c);
	finish(w, a, b);
}

TEST(tcp_connect_refused)
{
	ips_world *w = ips_world_new(3);
	ips_stack *a, *b;

	ASSERT_EQ(two_hosts(w, &a, &b, NULL), 0);
	ips_stack_enter(a);
	struct sockaddr_in dst = sin4("10.0.0.2", 81);
	int c = ips_socket(AF_INET, SOCK_STREAM, 0);

	CHECK_EQ(ips_connect(c, SA(dst), sizeof(dst)), -1);
	CHECK_EQ(errno, ECONNREFUSED);
	CHECK_EQ(test_counter(b, "TcpOutRsts"), 1);
	CHECK_EQ(test_counter(a, "TcpAttemptFails"), 1);
	/* The socket can connect again (to a listener now). */
	int l = listener(b, "10.0.0.2", 81);

	ips_stack_enter(a);
	CHECK_EQ(ips_connect(c, SA(dst), sizeof(dst)), 0);
	ips_close(c);
	/* Non-blocking: POLLERR|POLLHUP and SO_ERROR ECONNREFUSED. */
	int n = ips_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in dst2 = sin4("10.0.0.2", 82);
	struct pollfd pf = { .fd = n, .events = POLLOUT | POLLIN };
	int err = 0;
	socklen_t el = sizeof(err);

	CHECK_EQ(ips_connect(n, SA(dst2), sizeof(dst2)), -1);
	CHECK_EQ(errno, EINPROGRESS);
	CHECK_EQ(ips_poll(&pf, 1, 5000), 1);
	CHECK(pf.revents & POLLERR);
	CHECK(pf.revents & POLLHUP);
	CHECK_EQ(ips_getsockopt(n, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	CHECK_EQ(err, ECONNREFUSED);
	ips_close(n);
	ips_stack_enter(b);
	ips_close(l);
	finish(w, a, b);
}

/* Connected pair a -> b (client on a, accepted socket on b). */
static void pair(ips_world *w, ips_stack **a, ips_stack **b, int *c, int *s, int *l)
{
	ASSERT_EQ(two_hosts(w, a, b, NULL), 0);
	*l = listener(*b, "10.0.0.2", 7);
	ips_stack_enter(*a);
	struct sockaddr_in dst = sin4("10.0.0.2", 7);

	*c = ips_socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_EQ(ips_connect(*c, SA(dst), sizeof(dst)), 0);
	*s = ips_accept(*l, NULL, NULL);
	ASSERT(*s >= 0);
}

static volatile sig_atomic_t n_sigpipe;

static void on_sigpipe(int sig)
{
	(void)sig;
	n_sigpipe++;
}

TEST(tcp_peek_waitall_oob_shutdown)
{
	ips_world *w = ips_world_new(4);
	ips_stack *a, *b;
	int c, s, l, v;
	char buf[64];

	pair(w, &a, &b, &c, &s, &l);
	/* PEEK leaves the bytes; WAITALL waits for all of them (two sends). */
	CHECK_EQ(ips_send(c, "abc", 3, 0), 3);
	CHECK_EQ(ips_recv(s, buf, sizeof(buf), MSG_PEEK), 3);
	CHECK_EQ(ips_ioctl(s, SIOCINQ, &v), 0);
	CHECK_EQ(v, 3);
	CHECK_EQ(ips_send(c, "defgh", 5, 0), 5);
	CHECK_EQ(ips_recv(s, buf, 8, MSG_WAITALL), 8);
	CHECK_MEM(buf, "abcdefgh", 8);
	/* Urgent data: POLLPRI, the byte out of band, the mark. */
	CHECK_EQ(ips_send(c, "xy", 2, 0), 2);
	CHECK_EQ(ips_send(c, "!", 1, MSG_OOB), 1);
	CHECK_EQ(ips_send(c, "z", 1, 0), 1);
	struct pollfd pf = { .fd = s, .events = POLLPRI | POLLIN };

	CHECK_EQ(ips_poll(&pf, 1, 1000), 1);
	CHECK(pf.revents & POLLPRI);
	CHECK_EQ(ips_recv(s, buf, 1, MSG_OOB), 1);
	CHECK_EQ(buf[0], '!');
	CHECK_EQ(ips_recv(s, buf, sizeof(buf), 0), 2);	/* stops at the mark */
	CHECK_MEM(buf, "xy", 2);
	CHECK_EQ(ips_recv(s, buf, sizeof(buf), 0), 1);
	CHECK_EQ(buf[0], 'z');
	/* Half close: the reader sees the end, POLLRDHUP; the other way still works. */
	CHECK_EQ(ips_shutdown(c, SHUT_WR), 0);
	CHECK_EQ(ips_recv(s, buf, sizeof(buf), 0), 0);
	pf.events = POLLIN | POLLRDHUP;
	CHECK_EQ(ips_poll(&pf, 1, 0), 1);
	CHECK(pf.revents & POLLRDHUP);
	CHECK_EQ(ips_send(s, "back", 4, 0), 4);
	CHECK_EQ(ips_recv(c, buf, sizeof(buf), 0), 4);
	/* Writing after SHUT_WR: EPIPE and SIGPIPE, or only EPIPE with MSG_NOSIGNAL. */
	struct sigaction sa = { .sa_handler = on_sigpipe }, old;

	sigaction(SIGPIPE, &sa, &old);
	n_sigpipe = 0;
	CHECK_EQ(ips_send(c, "x", 1, 0), -1);
	CHECK_EQ(errno, EPIPE);
	CHECK_EQ(n_sigpipe, 1);
	CHECK_EQ(ips_send(c, "x", 1, MSG_NOSIGNAL), -1);
	CHECK_EQ(errno, EPIPE);
	CHECK_EQ(n_sigpipe, 1);
	sigaction(SIGPIPE, &old, NULL);
	ips_close(c);
	ips_stack_enter(b);
	ips_close(s);
	ips_close(l);
	finish(w, a, b);
}

TEST(tcp_linger_zero_resets_and_rcvtimeo)
{
	ips_world *w = ips_world_new(5);
	ips_stack *a, *b;
	int c, s, l;
	char buf[16];

	pair(w, &a, &b, &c, &s, &l);
	/* SO_RCVTIMEO: a recv with nothing to read runs the world to the deadline. */
	struct timeval tv = { 0, 300000 };
	uint64_t t0 = ips_world_now_ns(w);

	CHECK_EQ(ips_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	CHECK_EQ(ips_recv(s, buf, sizeof(buf), 0), -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK(ips_world_now_ns(w) - t0 >= MS(300));
	/* SO_LINGER {1, 0}: close sends a RST, the peer reads ECONNRESET. */
	struct linger lg = { 1, 0 };

	CHECK_EQ(ips_setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	uint64_t rsts = test_counter(a, "TcpOutRsts");

	CHECK_EQ(ips_close(c), 0);
	CHECK_EQ(test_counter(a, "TcpOutRsts"), rsts + 1);
	CHECK_EQ(ips_recv(s, buf, sizeof(buf), 0), -1);
	CHECK_EQ(errno, ECONNRESET);
	CHECK_EQ(ips_recv(s, buf, sizeof(buf), 0), 0);
	ips_close(s);
	ips_close(l);
	finish(w, a, b);
}

TEST(tcp_options_and_ioctls)
{
	ips_world *w = ips_world_new(6);
	ips_stack *a, *b;
	int c, s, l, v;
	socklen_t vl = sizeof(v);

	pair(w, &a, &b, &c, &s, &l);
	ips_stack_enter(a);
	v = 1;
	CHECK_EQ(ips_setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)), 0);
	v = 0;
	CHECK_EQ(ips_getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &vl), 0);
	CHECK_EQ(v, 1);
	vl = sizeof(v);
	CHECK_EQ(ips_getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &v, &vl), 0);
	CHECK_EQ(v, 1448);	/* 1500 - 40 - 12 (timestamps) */
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);

	CHECK_EQ(ips_getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
	CHECK_EQ(ti.tcpi_state, TCP_ESTABLISHED);
	CHECK(ti.tcpi_options & TCPI_OPT_TIMESTAMPS);
	CHECK(ti.tcpi_options & TCPI_OPT_SACK);
	CHECK(ti.tcpi_options & TCPI_OPT_WSCALE);
	CHECK_EQ(ti.tcpi_snd_mss, 1448);
	/* SO_RCVBUF is doubled as Linux and reads back from TCP. */
	v = 10000;
	CHECK_EQ(ips_setsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
	vl = sizeof(v);
	CHECK_EQ(ips_getsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, &vl), 0);
	CHECK_EQ(v, 20000);
	/* SIOCOUTQ counts unacknowledged bytes; SIOCATMARK is 0 without urgent data. */
	CHECK_EQ(ips_ioctl(c, SIOCOUTQ, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(ips_ioctl(c, SIOCATMARK, &v), 0);
	CHECK_EQ(v, 0);
	char big[3000];

	memset(big, 'q', sizeof(big));
	CHECK_EQ(ips_send(c, big, sizeof(big), 0), (long)sizeof(big));
	CHECK_EQ(ips_ioctl(c, SIOCOUTQ, &v), 0);
	CHECK_EQ(v, 3000);
	/* IP_TOS reaches TCP (and reads back). */
	v = 0x10;
	CHECK_EQ(ips_setsockopt(c, IPPROTO_IP, IP_TOS, &v, sizeof(v)), 0);
	vl = sizeof(v);
	CHECK_EQ(ips_getsockopt(c, IPPROTO_IP, IP_TOS, &v, &vl), 0);
	CHECK_EQ(v, 0x10);
	vl = sizeof(v);
	CHECK_EQ(ips_getsockopt(c, IPPROTO_IP, IP_MTU, &v, &vl), 0);
	CHECK_EQ(v, 1500);
	/* Listener errors. */
	ips_stack_enter(b);
	CHECK_EQ(ips_recv(l, big, 1, 0), -1);
	CHECK_EQ(errno, ENOTCONN);
	CHECK_EQ(ips_ioctl(l, SIOCINQ, &v), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(ips_recv(s, big, sizeof(big), MSG_WAITALL), (long)sizeof(big));
	ips_close(s);
	ips_close(l);
	ips_stack_enter(a);
	ips_close(c);
	finish(w, a, b);
}

TEST(tcp_unconnected_socket_errors)
{
	ips_world *w = ips_world_new(7);
	ips_stack *st = ips_world_add_stack(w, "a");
	struct sockaddr_in name;
	socklen_t nl = sizeof(name);
	char buf[4];

	ips_stack_enter(st);
	int c = ips_socket(AF_INET, SOCK_STREAM, 0);
	struct pollfd pf = { .fd = c, .events = POLLIN | POLLOUT };

	CHECK_EQ(ips_getpeername(c, SA(name), &nl), -1);
	CHECK_EQ(errno, ENOTCONN);
	CHECK_EQ(ips_recv(c, buf, sizeof(buf), 0), -1);
	CHECK_EQ(errno, ENOTCONN);
	CHECK_EQ(ips_send(c, "x", 1, MSG_NOSIGNAL), -1);
	CHECK_EQ(errno, EPIPE);
	/* A fresh socket polls POLLOUT|POLLHUP, as Linux's. */
	CHECK_EQ(ips_poll(&pf, 1, 0), 1);
	CHECK_EQ(pf.revents, POLLOUT | POLLHUP);
	CHECK_EQ(ips_accept(c, NULL, NULL), -1);
	CHECK_EQ(errno, EINVAL);
	/* shutdown says ENOTCONN but is recorded (inet_shutdown()). */
	CHECK_EQ(ips_shutdown(c, SHUT_RDWR), -1);
	CHECK_EQ(errno, ENOTCONN);
	CHECK_EQ(ips_poll(&pf, 1, 0), 1);
	CHECK_EQ(pf.revents, POLLIN | POLLOUT | POLLHUP);
	CHECK_EQ(ips_socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), -1);
	CHECK_EQ(errno, EPROTONOSUPPORT);
	ips_close(c);
	finish(w, st, NULL);
}

TEST(tcp_linger_with_time_waits_for_the_ack)
{
	ips_world *w = ips_world_new(8);
	ips_stack *a, *b;
	int c, s, l;
	static char big[200000], got[200000];
	struct linger lg = { 1, 30 };

	pair(w, &a, &b, &c, &s, &l);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	/* The receiver reads nothing yet: close() must wait until the data and the FIN are
	 * acknowledged, which needs the receive window, so read in a second world step. */
	CHECK_EQ(ips_setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	long n = ips_send(c, big, 60000, 0);

	CHECK_EQ(n, 60000);
	uint64_t t0 = ips_world_now_ns(w);

	CHECK_EQ(ips_close(c), 0);
	CHECK(ips_world_now_ns(w) > t0);	/* it ran the world until acknowledged */
	CHECK_EQ(ips_recv(s, got, sizeof(got), MSG_WAITALL | MSG_DONTWAIT), 60000);
	CHECK_MEM(got, big, 60000);
	CHECK_EQ(ips_recv(s, got, sizeof(got), 0), 0);
	ips_close(s);
	ips_close(l);
	finish(w, a, b);
}

TEST_MAIN

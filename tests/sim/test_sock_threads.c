/* Blocking socket calls from many threads: a threaded stack, 16 receiver threads each
 * blocked in recv() (or in ips_poll()) on its own socket, woken by datagrams from the
 * main thread; repeated rounds so a lost wake-up shows up as a hang (bounded by
 * SO_RCVTIMEO, counted as a failure); 8 sender threads and 24 receivers sharing 8
 * sockets, in a threaded and in a driven stack. Plus a simulated world where a blocking recv()
 * runs the world, two stacks on a memlink, and the eventfd export. */
#include <arpa/inet.h>
#include <errno.h>
#include <ipstack/ipstack.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "support/support.h"
#include "test.h"

#define NTHREADS 16
#define ROUNDS 50

struct rx {
	int fd;
	int use_poll;
	int got;
	int timeouts;
};

static void *rx_main(void *arg)
{
	struct rx *r = arg;
	char buf[16];

	for (int i = 0; i < ROUNDS; i++) {
		if (r->use_poll) {
			struct pollfd p = { r->fd, POLLIN, 0 };

			if (ips_poll(&p, 1, 5000) != 1) {
				r->timeouts++;
				continue;
			}
		}
		if (ips_recv(r->fd, buf, sizeof(buf), 0) > 0)
			r->got++;
		else
			r->timeouts++;
	}
	return NULL;
}

TEST(many_threads_block_and_are_woken)
{
	ips_stack *st = ips_stack_new(NULL);
	struct rx rx[NTHREADS];
	pthread_t th[NTHREADS];
	struct timeval tv = { 5, 0 };

	ASSERT(st);
	ips_stack_enter(st);
	for (int i = 0; i < NTHREADS; i++) {
		struct sockaddr_in a = sin4("127.0.0.1", 41000 + i);

		rx[i].fd = ips_socket(AF_INET, SOCK_DGRAM, 0);
		rx[i].use_poll = i & 1;
		rx[i].got = rx[i].timeouts = 0;
		CHECK_EQ(ips_bind(rx[i].fd, (struct sockaddr *)&a, sizeof(a)), 0);
		ips_setsockopt(rx[i].fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		pthread_create(&th[i], NULL, rx_main, &rx[i]);
	}
	int c = ips_socket(AF_INET, SOCK_DGRAM, 0);

	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < NTHREADS; i++) {
			struct sockaddr_in a = sin4("127.0.0.1", 41000 + i);

			ips_sendto(c, "w", 1, 0, (struct sockaddr *)&a, sizeof(a));
		}
		if (r % 10 == 0)
			usleep(1000);	/* let some receivers go to sleep first */
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(rx[i].got, ROUNDS);
		CHECK_EQ(rx[i].timeouts, 0);
		ips_close(rx[i].fd);
	}
	ips_close(c);
	ips_stack_enter(NULL);
	ips_stack_free(st);
}

/* Many senders and many receivers at once: 8 sender threads each send SHARED_ROUNDS
 * datagrams to every one of 8 sockets while 3 threads block in recv() on each socket
 * (24 receivers). Every datagram is received exactly once, and a wake-up lost anywhere
 * shows up as a receiver that times out while datagrams are still to come. In all,
 * fewer datagrams than lo's backlog holds (1000, netdev_max_backlog), so none may be
 * dropped even if the stack's thread does not run until the senders are done. */
#define SHARED_SOCKS 8
#define SHARED_RX_PER_SOCK 3
#define SHARED_TX 8
#define SHARED_ROUNDS 15
_Static_assert(SHARED_SOCKS * SHARED_TX * SHARED_ROUNDS < 1000, "within lo's backlog");

struct shared_rx {
	int fd;
	int got;
	int timeouts;
	int *done;		/* datagrams left to receive on this socket (atomic) */
};

static void *shared_rx_main(void *arg)
{
	struct shared_rx *r = arg;
	char buf[16];

	/* until this socket's datagrams are all taken (by any of its receivers) */
	while (__atomic_load_n(r->done, __ATOMIC_SEQ_CST) > 0 && r->timeouts < 3) {
		if (ips_recv(r->fd, buf, sizeof(buf), 0) == 1) {
			r->got++;
			__atomic_sub_fetch(r->done, 1, __ATOMIC_SEQ_CST);
		} else {
			r->timeouts++;
		}
	}
	return NULL;
}

struct shared_tx {
	int fd;
};

static void *shared_tx_main(void *arg)
{
	struct shared_tx *t = arg;

	for (int r = 0; r < SHARED_ROUNDS; r++)
		for (int i = 0; i < SHARED_SOCKS; i++) {
			struct sockaddr_in a = sin4("127.0.0.1", 41200 + i);

			while (ips_sendto(t->fd, "s", 1, 0, (struct sockaddr *)&a, sizeof(a)) != 1)
				usleep(100);
		}
	return NULL;
}

static void shared_run(ips_stack *st, pthread_t *driver, volatile int *stop)
{
	struct shared_rx rx[SHARED_SOCKS][SHARED_RX_PER_SOCK];
	struct shared_tx tx[SHARED_TX];
	pthread_t rth[SHARED_SOCKS][SHARED_RX_PER_SOCK], tth[SHARED_TX];
	int left[SHARED_SOCKS], fds[SHARED_SOCKS];
	/* Long enough that a receiver times out only at the end, when its siblings took
	 * the socket's last datagrams; a lost wake-up shows up as a time-out earlier. */
	struct timeval tv = { 2, 0 };
	int big = 1 << 20;

	ips_stack_enter(st);
	for (int i = 0; i < SHARED_SOCKS; i++) {
		struct sockaddr_in a = sin4("127.0.0.1", 41200 + i);

		fds[i] = ips_socket(AF_INET, SOCK_DGRAM, 0);
		CHECK_EQ(ips_bind(fds[i], (struct sockaddr *)&a, sizeof(a)), 0);
		ips_setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		ips_setsockopt(fds[i], SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
		left[i] = SHARED_TX * SHARED_ROUNDS;
		for (int j = 0; j < SHARED_RX_PER_SOCK; j++) {
			rx[i][j] = (struct shared_rx){ fds[i], 0, 0, &left[i] };
			pthread_create(&rth[i][j], NULL, shared_rx_main, &rx[i][j]);
		}
	}
	for (int k = 0; k < SHARED_TX; k++) {
		tx[k].fd = ips_socket(AF_INET, SOCK_DGRAM, 0);
		pthread_create(&tth[k], NULL, shared_tx_main, &tx[k]);
	}
	for (int k = 0; k < SHARED_TX; k++)
		pthread_join(tth[k], NULL);
	for (int i = 0; i < SHARED_SOCKS; i++) {
		int got = 0;

		for (int j = 0; j < SHARED_RX_PER_SOCK; j++) {
			pthread_join(rth[i][j], NULL);
			got += rx[i][j].got;
			CHECK(rx[i][j].timeouts <= 1);	/* only the final wait */
		}
		CHECK_EQ(got, SHARED_TX * SHARED_ROUNDS);
		CHECK_EQ(left[i], 0);
		ips_close(fds[i]);
	}
	for (int k = 0; k < SHARED_TX; k++)
		ips_close(tx[k].fd);
	if (driver) {
		*stop = 1;
		pthread_join(*driver, NULL);
	}
	ips_stack_enter(NULL);
	uint64_t drops = 0;

	CHECK_EQ(ips_counter_get(st, "UdpRcvbufErrors", &drops), 0);
	CHECK_EQ(drops, 0);
}

TEST(many_senders_many_receivers_threaded)
{
	ips_stack *st = ips_stack_new(NULL);

	ASSERT(st);
	shared_run(st, NULL, NULL);
	ips_stack_free(st);
}

/* The same in a driven stack: one thread runs ips_stack_poll(), the others block. */
struct driver {
	ips_stack *st;
	volatile int stop;
};

static void *driver_main(void *arg)
{
	struct driver *d = arg;

	while (!d->stop)
		ips_stack_poll(d->st, 10);
	return NULL;
}

TEST(many_senders_many_receivers_driven)
{
	struct ips_stack_config cfg = { .mode = IPS_MODE_DRIVEN, .name = "driven" };
	struct driver d = { ips_stack_new(&cfg), 0 };
	pthread_t th;

	ASSERT(d.st);
	pthread_create(&th, NULL, driver_main, &d);
	shared_run(d.st, &th, &d.stop);
	ips_stack_free(d.st);
}

TEST(close_does_not_free_under_a_blocked_recv)
{
	ips_stack *st = ips_stack_new(NULL);
	struct rx r = { 0 };
	pthread_t th;
	struct timeval tv = { 0, 300000 };

	ips_stack_enter(st);
	r.fd = ips_socket(AF_INET, SOCK_DGRAM, 0);
	ips_setsockopt(r.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pthread_create(&th, NULL, rx_main, &r);
	usleep(20000);
	CHECK_EQ(ips_close(r.fd), 0);	/* the blocked call keeps its reference */
	pthread_join(th, NULL);
	CHECK_EQ(r.got, 0);
	ips_stack_enter(NULL);
	ips_stack_free(st);
}

TEST(simulated_blocking_recv_runs_the_world)
{
	ips_world *w = ips_world_new(7);
	ips_stack *a = ips_world_add_stack(w, "a");
	ips_stack *b = ips_world_add_stack(w, "b");
	struct sockaddr_in sa = sin4("10.0.0.2", 7);
	char buf[32];

	ASSERT(ips_memlink_new(a, "eth0", b, "eth0", NULL) == 0);
	ASSERT(ips_addr_add(a, "eth0", "10.0.0.1/24") == 0);
	ASSERT(ips_addr_add(b, "eth0", "10.0.0.2/24") == 0);
	ips_dev_set_up(a, "eth0", 1);
	ips_dev_set_up(b, "eth0", 1);
	ips_stack_enter(b);
	int s = ips_socket(AF_INET, SOCK_DGRAM, 0);

	CHECK_EQ(ips_bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ips_stack_enter(a);
	int c = ips_socket(AF_INET, SOCK_DGRAM, 0);

	CHECK_EQ(ips_sendto(c, "over the link", 13, 0, (struct sockaddr *)&sa, sizeof(sa)), 13);
	/* blocking: ARP, then the datagram, all in virtual time */
	CHECK_EQ(ips_recv(s, buf, sizeof(buf), 0), 13);
	CHECK_MEM(buf, "over the link", 13);
	/* nothing pending and no timeout: the idle world ends the wait with EAGAIN */
	CHECK_EQ(ips_recv(s, buf, sizeof(buf), 0), -1);
	CHECK_EQ(errno, EAGAIN);
	/* SO_RCVTIMEO: virtual time passes by exactly that much */
	struct timeval tv = { 2, 0 };
	uint64_t t0 = ips_world_now_ns(w);

	ips_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CHECK_EQ(ips_recv(s, buf, sizeof(buf), 0), -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK(ips_world_now_ns(w) - t0 >= 2000000000ULL);
	ips_close(s);
	ips_close(c);
	ips_stack_enter(NULL);
	ips_world_run_for(w, 1000000000ULL);
	CHECK_EQ(ips_stack_pkb_outstanding(a), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(b), 0);
	ips_world_free(w);
}

TEST(eventfd_follows_readiness)
{
	ips_stack *st = ips_stack_new(NULL);
	struct sockaddr_in a = sin4("127.0.0.1", 41100);
	char buf[8];

	ips_stack_enter(st);
	int s = ips_socket(AF_INET, SOCK_DGRAM, 0);
	int c = ips_socket(AF_INET, SOCK_DGRAM, 0);

	ips_bind(s, (struct sockaddr *)&a, sizeof(a));
	int efd = ips_socket_eventfd(s, POLLIN);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = efd };

	ASSERT(efd >= 0);
	epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
	CHECK_EQ(epoll_wait(ep, &ev, 1, 0), 0);
	ips_sendto(c, "e", 1, 0, (struct sockaddr *)&a, sizeof(a));
	CHECK_EQ(epoll_wait(ep, &ev, 1, 2000), 1);
	CHECK_EQ(ips_recv(s, buf, sizeof(buf), MSG_DONTWAIT), 1);
	CHECK_EQ(epoll_wait(ep, &ev, 1, 0), 0);	/* drained: not readable any more */
	close(ep);
	ips_close(s);
	ips_close(c);
	ips_stack_enter(NULL);
	ips_stack_free(st);
}

TEST_MAIN

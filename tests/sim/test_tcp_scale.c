/* Scale (issue 4 item 6): N concurrent established connections between two simulated
 * stacks (both ends in ipstack, through the socket API), then the memory each idle
 * connection costs, the connection hash's longest chain (O(1) demultiplexing), and that
 * idle connections keep no timer and no packet buffer.
 *
 * N is IPS_TCP_SCALE_N (default 100000, the figure: about 3 s). Memory is
 * reported two ways: what the stacks account for (socket
 * objects, TCP objects and send rings, the connection hash, packet buffers held) and
 * what the allocator says (mallinfo2() before and after; not under ASan). */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support/support.h"
#include "test.h"
#include "core/stack.h"
#include "socket/socket_state.h"
#include "transport/tcp.h"
#include "transport/tcp_int.h"

/* Each destination port gets n/NLISTEN connections: RFC 6056's double-hash search (as
 * Linux's __inet_hash_connect) tries even ports first and slows down as a destination's
 * even half fills up, so stay well below 32768 per destination. */
#define NLISTEN 8
#define BATCH 500

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

struct timer_count {
	long pending;
};

static void count_timers(void *arg, struct tcp_sock *tp)
{
	struct timer_count *c = arg;

	if (timer_pending(&tp->timer))
		c->pending++;
}

static uint32_t longest_chain(struct ips_stack *st)
{
	struct tcp_state *ts = st->tcp;
	uint32_t best = 0;

	for (uint32_t i = 0; i <= ts->ehash_mask; i++) {
		uint32_t n = 0;

		for (struct tcp_hnode *h = ts->ehash[i]; h; h = h->next)
			n++;
		if (n > best)
			best = n;
	}
	return best;
}

static long nsocks(struct ips_stack *st)
{
	return ((struct socket_state *)st->sock)->nsocks;
}

TEST(tcp_scale_idle_connections)
{
	const char *env = getenv("IPS_TCP_SCALE_N");
	long n = env ? atol(env) : 100000;
	ips_world *w = ips_world_new(42);
	ips_stack *a, *b;
	int *cfd, *sfd, lfd[NLISTEN];
	long opened = 0, accepted = 0, stalls = 0;
	double t0 = wall();
	char buf[4];

	ASSERT(n > 0 && n <= 120000);
	cfd = calloc((size_t)n, sizeof(*cfd));
	sfd = calloc((size_t)n, sizeof(*sfd));
	ASSERT(cfd && sfd);
	ASSERT_EQ(two_hosts(w, &a, &b, NULL), 0);
	ASSERT_EQ(ips_sysctl_set(a, "net.ipv4.ip_local_port_range", "1024 65535"), 0);
	ips_stack_enter(b);
	for (int i = 0; i < NLISTEN; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(8000 + i) };

		lfd[i] = ips_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		ASSERT(lfd[i] >= 0);
		ASSERT_EQ(ips_bind(lfd[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
		ASSERT_EQ(ips_listen(lfd[i], 4096), 0);
	}
	ips_world_run_for(w, MS(10));	/* ARP settles */
	size_t heap0 = heap_used();

	/* Open in batches: connect (non-blocking), let the handshakes run, accept. */
	ips_stack_enter(a);
	while (accepted < n) {
		for (int k = 0; k < BATCH && opened < n; k++, opened++) {
			struct sockaddr_in sa = { .sin_family = AF_INET,
						  .sin_port = htons(8000 + opened % NLISTEN) };

			sa.sin_addr.s_addr = A("10.0.0.2");
			cfd[opened] = ips_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			ASSERT(cfd[opened] >= 0);
			if (ips_connect(cfd[opened], (struct sockaddr *)&sa, sizeof(sa)) != -1 ||
			    errno != EINPROGRESS) {
				CHECK_EQ(errno, EINPROGRESS);
				goto out;
			}
		}
		ips_world_run_for(w, MS(1));
		long before = accepted;

		for (int i = 0; i < NLISTEN; i++) {
			int s;

			while (accepted < n && (s = ips_accept4(lfd[i], NULL, NULL, SOCK_NONBLOCK)) >= 0)
				sfd[accepted++] = s;
		}
		if (accepted == before && opened == n) {
			/* Handshakes waiting for a retransmission (the first SYNs wait for
			 * ARP): let virtual time pass. */
			if (++stalls > 100) {
				CHECK(!"no progress accepting");
				goto out;
			}
			ips_world_run_for(w, MS(100));
		}
	}
	double t_est = wall() - t0;

	CHECK_EQ(test_counter(a, "TcpCurrEstab"), (uint64_t)n);
	CHECK_EQ(test_counter(b, "TcpCurrEstab"), (uint64_t)n);
	CHECK_EQ(test_counter(a, "TcpAttemptFails"), 0);
	/* One byte each way on every connection (so that buffers have been used), then
	 * idle: the send rings and receive buffers go back. */
	/* (In batches: a memlink drops what exceeds its receive backlog in one instant.) */
	for (long i = 0; i < n; i++) {
		CHECK_EQ(ips_send(cfd[i], "q", 1, 0), 1);
		if (i % BATCH == BATCH - 1)
			ips_world_run_for(w, MS(1));
	}
	ips_world_run_for(w, MS(5));
	for (long i = 0; i < n; i++) {
		if (ips_recv(sfd[i], buf, sizeof(buf), 0) != 1 || ips_send(sfd[i], "r", 1, 0) != 1) {
			CHECK(!"server side echo");
			goto out;
		}
		if (i % BATCH == BATCH - 1)
			ips_world_run_for(w, MS(1));
	}
	ips_world_run_for(w, MS(5));
	for (long i = 0; i < n; i++)
		if (ips_recv(cfd[i], buf, sizeof(buf), 0) != 1) {
			CHECK(!"client side read");
			goto out;
		}
	ips_world_run_for(w, SEC(1));	/* delayed ACKs, RTOs cancelled: idle */

	size_t heap1 = heap_used();
	struct timer_count tc = { 0 };

	tcp_foreach_sock(a, count_timers, &tc);
	tcp_foreach_sock(b, count_timers, &tc);
	CHECK_EQ(tc.pending, 0);	/* an idle connection arms no timer */
	CHECK_EQ(ips_stack_pkb_outstanding(a), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(b), 0);

	long socks = nsocks(a) + nsocks(b);	/* n + n + the listeners */
	size_t sock_bytes = (size_t)socks * sizeof(struct sock);
	size_t tcp_bytes = tcp_mem_bytes(a) + tcp_mem_bytes(b);
	size_t pkb_bytes = (size_t)atomic_load(&a->pool.bytes) + (size_t)atomic_load(&b->pool.bytes);
	double per_end = (double)(sock_bytes + tcp_bytes + pkb_bytes) / (double)(2 * n);
	uint32_t chain = longest_chain(b);

	printf("     %ld connections (both ends in ipstack) established in %.2f s\n", n, t_est);
	printf("     memory per idle connection end (socket): %.0f bytes accounted "
	       "(struct sock %zu + TCP %.0f [tcp_sock %zu, send rings %zu B total, hash] + "
	       "packet buffers %zu B total)\n",
	       per_end, sizeof(struct sock), (double)tcp_bytes / (double)(2 * n),
	       sizeof(struct tcp_sock), a->tcp->ring_bytes + b->tcp->ring_bytes, pkb_bytes);
	if (heap1 > heap0)
		printf("     allocator: %.0f bytes per connection end (mallinfo2, descriptor table "
		       "and malloc overhead included)\n",
		       (double)(heap1 - heap0) / (double)(2 * n));
	printf("     demultiplexing: %u connections in %u hash buckets, longest chain %u\n",
	       b->tcp->ehash_count, b->tcp->ehash_mask + 1, chain);
	CHECK(chain <= 16);
	CHECK(per_end < 2500);
out:
	/* The stacks go first (TCP frees every connection without a packet); the
	 * descriptors then only answer EBADF and are given back. */
	ips_stack_enter(NULL);
	ips_world_free(w);
	for (long i = 0; i < opened; i++)
		ips_close(cfd[i]);
	for (long i = 0; i < accepted; i++)
		ips_close(sfd[i]);
	for (int i = 0; i < NLISTEN; i++)
		ips_close(lfd[i]);
	free(cfd);
	free(sfd);
}

TEST_MAIN

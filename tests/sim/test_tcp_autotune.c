/* TCP buffer auto-tuning on a path with a real RTT (two stacks over a memlink with
 * 10 ms of delay each way, virtual clock): a bulk transfer grows the receiver's
 * SO_RCVBUF (tcp_rcv_space_adjust/tcp_rcvbuf_grow) and the sender's SO_SNDBUF
 * (tcp_new_space) past their starting values and never past tcp_rmem[2]/tcp_wmem[2];
 * SO_RCVBUF/SO_SNDBUF set by the user, tcp_moderate_rcvbuf = 0 and a receiver that
 * does not read keep them where they were. The packet scripts window/rcvbuf_autotune_*
 * and data/sndbuf_* (tests/tcp/scripts) pin the exact values against Linux. */
#include <errno.h>
#include <linux/neighbour.h>
#include <string.h>
#include <sys/socket.h>

#include "support/support.h"
#include "test.h"
#include "core/stack.h"
#include "transport/tcp.h"
#include "transport/tcp_int.h"

#define CHUNK 65536

struct bulk {
	ips_world *w;
	ips_stack *cs, *ss;
	struct tcp_sock *l, *c, *a;	/* listener, client (sender), accepted (receiver) */
	size_t total, sent, got;
	bool read;			/* the receiving application reads */
	uint32_t max_rcvbuf, max_sndbuf;
};

static void wake_noop(void *arg)
{
	(void)arg;
}

static void pump(struct bulk *b)
{
	static uint8_t buf[CHUNK];

	if (!b->a) {
		int err = 0;

		stack_lock(b->ss);
		b->a = tcp_accept(b->l, &err);
		if (b->a)
			tcp_sock_set_wake(b->a, &(struct tcp_wake){ wake_noop, NULL });
		stack_unlock(b->ss);
	}
	stack_lock(b->cs);
	while (b->sent < b->total) {
		size_t n = b->total - b->sent < CHUNK ? b->total - b->sent : CHUNK;
		struct iovec iov = { buf, n };
		ssize_t r = tcp_sendmsg(b->c, &iov, 1, 0);

		if (r <= 0)
			break;
		b->sent += (size_t)r;
	}
	if (b->c->sndbuf > b->max_sndbuf)
		b->max_sndbuf = b->c->sndbuf;
	stack_unlock(b->cs);
	if (!b->a)
		return;
	stack_lock(b->ss);
	while (b->read) {
		struct iovec iov = { buf, sizeof(buf) };
		ssize_t r = tcp_recvmsg(b->a, &iov, 1, 0);

		if (r <= 0)
			break;
		b->got += (size_t)r;
	}
	if (b->a->rcvbuf > b->max_rcvbuf)
		b->max_rcvbuf = b->a->rcvbuf;
	stack_unlock(b->ss);
}

static int bulk_done(void *arg)
{
	struct bulk *b = arg;

	pump(b);
	return b->read && b->got == b->total;	/* a non-reader runs for max_ns */
}

/* Transfers `total` bytes from a to b with 20 ms of RTT for at most `max_ns`; the
 * hooks lock buffers or turn tcp_moderate_rcvbuf off before the connection opens. */
static int bulk_run(struct bulk *b, size_t total, bool read, int moderate, int lock_bytes,
		    uint64_t max_ns)
{
	struct ips_link_config cfg;

	memset(b, 0, sizeof(*b));
	memset(&cfg, 0, sizeof(cfg));
	if (ips_impair_parse("delay=10", &cfg.impair) < 0)
		return -1;
	b->w = ips_world_new(7);
	if (two_hosts(b->w, &b->cs, &b->ss, &cfg) < 0)
		return -1;
	b->total = total;
	b->read = read;
	b->cs->sysctl.ip.tcp_moderate_rcvbuf = moderate;
	b->ss->sysctl.ip.tcp_moderate_rcvbuf = moderate;
	stack_lock(b->ss);
	b->l = tcp_sock_new(b->ss);
	if (lock_bytes)
		tcp_set_rcvbuf(b->l, lock_bytes);
	tcp_bind(b->l, 0, 5001);
	tcp_listen(b->l, 16);
	stack_unlock(b->ss);
	stack_lock(b->cs);
	b->c = tcp_sock_new(b->cs);
	if (lock_bytes)
		tcp_set_sndbuf(b->c, lock_bytes);
	tcp_sock_set_wake(b->c, &(struct tcp_wake){ wake_noop, NULL });
	tcp_connect(b->c, A("10.0.0.2"), 5001);
	stack_unlock(b->cs);
	ips_world_run_until(b->w, bulk_done, b, max_ns);
	return 0;
}

static int bulk_end(struct bulk *b)
{
	int leaked;

	stack_lock(b->cs);
	tcp_fini(b->cs);
	stack_unlock(b->cs);
	stack_lock(b->ss);
	tcp_fini(b->ss);
	stack_unlock(b->ss);
	ips_world_run_for(b->w, SEC(1));	/* drain the links' delay queues */
	leaked = ips_stack_pkb_outstanding(b->cs) || ips_stack_pkb_outstanding(b->ss);
	ips_world_free(b->w);
	return leaked;
}

TEST(bulk_transfer_grows_both_buffers_within_the_sysctl_limits)
{
	struct bulk b;

	ASSERT_EQ(bulk_run(&b, 16u << 20, true, 1, 0, SEC(120)), 0);
	CHECK_EQ(b.got, b.total);
	/* 20 ms x a virtual link without a rate limit: the sender's cwnd and the reader's
	 * window must both have been auto-tuned far above their starting points */
	CHECK(b.max_rcvbuf > (uint32_t)b.ss->sysctl.ip.tcp_rmem[1] * 4);
	CHECK(b.max_rcvbuf <= (uint32_t)b.ss->sysctl.ip.tcp_rmem[2]);
	CHECK(b.max_sndbuf > 46080u * 4);
	CHECK(b.max_sndbuf <= (uint32_t)b.cs->sysctl.ip.tcp_wmem[2]);
	CHECK(b.a->rcvq_space.space > 14480u);
	CHECK_EQ(bulk_end(&b), 0);
}

TEST(buffers_set_by_the_user_stay_fixed)
{
	struct bulk b;

	ASSERT_EQ(bulk_run(&b, 4u << 20, true, 1, 200000, SEC(120)), 0);
	CHECK_EQ(b.got, b.total);
	CHECK_EQ(b.max_rcvbuf, 200000u);
	CHECK_EQ(b.max_sndbuf, 200000u);
	CHECK_EQ(b.a->rcvbuf, 200000u);
	CHECK_EQ(b.c->sndbuf, 200000u);
	CHECK_EQ(bulk_end(&b), 0);
}

TEST(moderate_rcvbuf_off_keeps_the_receive_buffer)
{
	struct bulk b;

	ASSERT_EQ(bulk_run(&b, 4u << 20, true, 0, 0, SEC(120)), 0);
	CHECK_EQ(b.got, b.total);
	CHECK_EQ(b.max_rcvbuf, (uint32_t)b.ss->sysctl.ip.tcp_rmem[1]);
	CHECK(b.max_sndbuf > 46080u);	/* the send side still tunes itself */
	CHECK_EQ(bulk_end(&b), 0);
}

TEST(a_receiver_that_does_not_read_does_not_grow_its_buffer)
{
	struct bulk b;

	/* 2 s of virtual time: the receive queue fills and the window closes */
	ASSERT_EQ(bulk_run(&b, 4u << 20, false, 1, 0, SEC(2)), 0);
	ASSERT(b.a);
	CHECK_EQ(b.got, 0u);
	CHECK(b.a->rcv_nxt != b.a->copied_seq);	/* data arrived and waits */
	CHECK_EQ(b.max_rcvbuf, (uint32_t)b.ss->sysctl.ip.tcp_rmem[1]);
	CHECK_EQ(b.a->rcvq_space.space, 14480u);
	CHECK_EQ(bulk_end(&b), 0);
}

TEST_MAIN

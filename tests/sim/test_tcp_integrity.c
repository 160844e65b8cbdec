/* Integrity under impairment: bulk transfers between two simulated stacks over a memlink
 * with loss, reordering, duplication, corruption, delay and jitter (many seeds, both
 * directions), each verified by SHA-256 of the bytes delivered. Drives TCP through its
 * internal API (src/transport/tcp.h) until the socket layer routes SOCK_STREAM to it. */
#include <errno.h>
#include <string.h>

#include "support/support.h"
#include "test.h"
#include "../../tools/sha256.c"
#include "core/stack.h"
#include "transport/tcp.h"
#include "transport/tcp_int.h"

struct xfer {
	ips_world *w;
	ips_stack *cs, *ss;
	struct tcp_sock *c, *l, *s;	/* client, listener, server child */
	struct tcp_sock *snd, *rcv;	/* which way the bytes go */
	size_t total, sent, got;
	struct sha256 hs, hr;
	uint64_t rng;
	bool shut, eof;
	int err;
};

static uint8_t stream_byte(uint64_t *r)
{
	*r = *r * 6364136223846793005ull + 1442695040888963407ull;
	return (uint8_t)(*r >> 56);
}

static void pump(struct xfer *x)
{
	static uint8_t buf[65536];

	stack_lock(x->ss);
	if (!x->s) {
		int err;

		x->s = tcp_accept(x->l, &err);
		if (x->s) {
			if (x->snd == NULL) {
				x->snd = x->s;
				x->rcv = x->c;
			} else if (x->rcv == NULL) {
				x->rcv = x->s;
			}
		}
	}
	stack_unlock(x->ss);
	if (x->snd && x->sent < x->total) {
		ips_stack *st = x->snd == x->c ? x->cs : x->ss;

		stack_lock(st);
		for (;;) {
			size_t n = x->total - x->sent < sizeof(buf) ? x->total - x->sent : sizeof(buf);
			struct iovec iov;
			ssize_t r;
			uint64_t save = x->rng;

			if (!n)
				break;
			for (size_t i = 0; i < n; i++)
				buf[i] = stream_byte(&x->rng);
			iov.iov_base = buf;
			iov.iov_len = n;
			r = tcp_sendmsg(x->snd, &iov, 1, 0);
			if (r <= 0) {
				x->rng = save;
				if (r != -EAGAIN)
					x->err = (int)r;
				break;
			}
			/* rewind the generator for the part not taken */
			x->rng = save;
			for (ssize_t i = 0; i < r; i++)
				stream_byte(&x->rng);
			sha256_update(&x->hs, buf, (size_t)r);
			x->sent += (size_t)r;
		}
		if (x->sent == x->total && !x->shut) {
			tcp_shutdown(x->snd, SHUT_WR);
			x->shut = true;
		}
		stack_unlock(st);
	}
	if (x->rcv && !x->eof) {
		ips_stack *st = x->rcv == x->c ? x->cs : x->ss;

		stack_lock(st);
		for (;;) {
			struct iovec iov = { buf, sizeof(buf) };
			ssize_t r = tcp_recvmsg(x->rcv, &iov, 1, 0);

			if (r == 0) {
				x->eof = true;
				break;
			}
			if (r < 0) {
				if (r != -EAGAIN)
					x->err = (int)r;
				break;
			}
			sha256_update(&x->hr, buf, (size_t)r);
			x->got += (size_t)r;
		}
		stack_unlock(st);
	}
}

static int xfer_done(void *arg)
{
	struct xfer *x = arg;

	pump(x);
	return x->eof || x->err;
}

static void wake_noop(void *arg)
{
	(void)arg;
}

/* One transfer; returns 0 when the receiver got exactly the sender's bytes. */
static int run_xfer(uint64_t seed, size_t bytes, const char *impair, bool upload, uint32_t mtu,
		    uint64_t *vtime_ns)
{
	struct ips_link_config cfg;
	struct xfer x;
	uint8_t d1[32], d2[32];
	int rc = 0;

	memset(&cfg, 0, sizeof(cfg));
	memset(&x, 0, sizeof(x));
	cfg.mtu = mtu;
	if (impair && ips_impair_parse(impair, &cfg.impair) < 0)
		return -1;
	x.w = ips_world_new(seed);
	if (two_hosts(x.w, &x.cs, &x.ss, &cfg) < 0)
		return -1;
	x.total = bytes;
	x.rng = seed * 2654435761u + 1;
	sha256_init(&x.hs);
	sha256_init(&x.hr);
	stack_lock(x.cs);
	tcp_init(x.cs);
	stack_unlock(x.cs);
	stack_lock(x.ss);
	tcp_init(x.ss);
	x.l = tcp_sock_new(x.ss);
	tcp_bind(x.l, 0, 5001);
	tcp_listen(x.l, 16);
	stack_unlock(x.ss);
	stack_lock(x.cs);
	x.c = tcp_sock_new(x.cs);
	tcp_sock_set_wake(x.c, &(struct tcp_wake){ wake_noop, NULL });
	tcp_connect(x.c, A("10.0.0.2"), 5001);
	stack_unlock(x.cs);
	if (upload) {
		x.snd = x.c;	/* client -> server; rcv set at accept */
	} else {
		x.rcv = x.c;	/* server -> client; snd set at accept */
	}
	ips_world_run_until(x.w, xfer_done, &x, 3600ull * 1000000000ull);
	*vtime_ns = ips_world_now_ns(x.w);
	sha256_final(&x.hs, d1);
	sha256_final(&x.hr, d2);
	if (x.err || !x.eof || x.got != bytes || x.sent != bytes || memcmp(d1, d2, 32)) {
		fprintf(stderr, "  seed %llu %s %s: sent %zu got %zu eof %d err %d sha %s\n",
			(unsigned long long)seed, impair ? impair : "clean", upload ? "up" : "down", x.sent,
			x.got, x.eof, x.err, memcmp(d1, d2, 32) ? "DIFFERS" : "same");
		rc = -1;
	}
	stack_lock(x.cs);
	tcp_fini(x.cs);
	stack_unlock(x.cs);
	stack_lock(x.ss);
	tcp_fini(x.ss);
	stack_unlock(x.ss);
	ips_world_run_for(x.w, 10ull * 1000000000ull);	/* drain the links' delay queues */
	if (ips_stack_pkb_outstanding(x.cs) || ips_stack_pkb_outstanding(x.ss)) {
		fprintf(stderr, "  seed %llu: packet buffers leaked (%ld, %ld)\n", (unsigned long long)seed,
			ips_stack_pkb_outstanding(x.cs), ips_stack_pkb_outstanding(x.ss));
		rc = -1;
	}
	ips_world_free(x.w);
	return rc;
}

TEST(sha256_matches_fips_vector)
{
	struct sha256 c;
	uint8_t d[32];
	static const uint8_t want[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
		0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
		0xf2, 0x00, 0x15, 0xad,
	};

	sha256_init(&c);
	sha256_update(&c, "abc", 3);
	sha256_final(&c, d);
	CHECK_MEM(d, want, 32);
}

static void matrix(const char *impair, size_t bytes, int seeds, uint32_t mtu)
{
	int bad = 0;

	for (int s = 1; s <= seeds; s++) {
		uint64_t t;

		if (run_xfer((uint64_t)s, bytes, impair, s & 1, mtu, &t) < 0)
			bad++;
	}
	CHECK_EQ(bad, 0);
}

TEST(clean_1mb_both_directions)
{
	matrix(NULL, 1 << 20, 2, 0);
}

TEST(clean_32mb_upload)
{
	uint64_t t;

	CHECK_EQ(run_xfer(7, 32u << 20, NULL, true, 0, &t), 0);
}

TEST(loss_1pct_1mb_8_seeds)
{
	matrix("loss=1", 1 << 20, 8, 0);
}

TEST(loss_5pct_1mb_8_seeds)
{
	matrix("loss=5", 1 << 20, 8, 0);
}

TEST(loss_20pct_256k_4_seeds)
{
	matrix("loss=20", 256 << 10, 4, 0);
}

TEST(reorder_dup_delay_jitter_1mb_8_seeds)
{
	matrix("reorder=5,dup=2,delay=10,jitter=5", 1 << 20, 8, 0);
}

TEST(corrupt_1pct_1mb_8_seeds)
{
	matrix("corrupt=1,loss=1", 1 << 20, 8, 0);
}

TEST(everything_at_once_2mb_6_seeds)
{
	matrix("loss=3,reorder=3,dup=1,corrupt=1,delay=20,jitter=10", 2 << 20, 6, 0);
}

TEST(big_mtu_link_4mb)
{
	matrix("loss=1,delay=5", 4 << 20, 2, 9000);
}

TEST_MAIN

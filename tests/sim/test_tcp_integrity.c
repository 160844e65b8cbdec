/* Integrity under impairment: bulk transfers between two simulated stacks over a memlink
 * with loss, reordering, duplication, corruption, delay and jitter (many seeds, both
 * directions), each verified by SHA-256 of the bytes delivered, by the counters that the
 * impairment must move (retransmissions under loss, checksum errors under corruption,
 * none of either on a clean link, never a reset) and by no packet buffer leaked.
 *
 * IPS_TCP_INTEGRITY=full runs the whole matrix (every mix, 1 MB to 100 MB, both
 * directions, 2-4 seeds each: 170 transfers, about a minute); the default is a
 * representative subset (one 100 MB transfer each way, every mix both ways, 66 transfers
 * with distinct seeds, a few seconds). Under AddressSanitizer the sizes are divided by 16
 * (IPS_TCP_INTEGRITY_SCALE=N divides them by N anywhere); IPS_TCP_INTEGRITY_MIX=name
 * runs one mix of the full matrix; IPS_TCP_INTEGRITY_VERBOSE=1 prints every transfer.
 *
 * Drives TCP through its internal API (src/transport/tcp.h): the test owns the loop. */
#include <errno.h>
#include <linux/neighbour.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support/support.h"
#include "test.h"
#include "../../tools/sha256.c"
#include "core/stack.h"
#include "link/impair.h"
#include "link/link.h"
#include "link/netdev.h"
#include "transport/tcp.h"
#include "transport/tcp_int.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define MB (1u << 20)
#define CHUNK 65536

struct xfer {
	ips_world *w;
	ips_stack *cs, *ss;
	struct tcp_sock *c, *l, *s;	/* client, listener, server child */
	struct tcp_sock *snd, *rcv;	/* which way the bytes go */
	size_t total, sent, got, made;
	struct sha256 hs, hr;
	uint64_t rng;
	uint8_t out[CHUNK];		/* bytes made but not yet taken by the sender */
	size_t out_off, out_len;
	bool shut, eof;
	int err;
};

/* What one transfer showed, for the checks and the verbose line. */
struct xfer_result {
	uint64_t vtime_ns;
	double wall_s;
	uint64_t retrans, csum_errs, rsts, resets, sack_recov, tlp, rto;
	uint64_t lost, corrupted;	/* frames the link lost/corrupted, both ways */
};

/* What the link's impairment engine did to the frames st sent. */
static struct impair_stats tx_impair_stats(ips_stack *st)
{
	struct impair_stats z = { 0 };
	struct netdev *dev = stack_dev_by_name(st, "eth0");

	return dev && dev->tx_impair ? dev->tx_impair->stats : z;
}

static uint8_t stream_byte(uint64_t *r)
{
	*r = *r * 6364136223846793005ull + 1442695040888963407ull;
	return (uint8_t)(*r >> 56);
}

static void pump(struct xfer *x)
{
	static uint8_t buf[CHUNK];

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
			struct iovec iov;
			ssize_t r;

			if (x->out_off == x->out_len) {
				/* make the next chunk only once the last one is taken */
				size_t n = x->total - x->made < CHUNK ? x->total - x->made : CHUNK;

				if (!n)
					break;
				for (size_t i = 0; i < n; i++)
					x->out[i] = stream_byte(&x->rng);
				x->made += n;
				x->out_off = 0;
				x->out_len = n;
			}
			iov.iov_base = x->out + x->out_off;
			iov.iov_len = x->out_len - x->out_off;
			r = tcp_sendmsg(x->snd, &iov, 1, 0);
			if (r <= 0) {
				if (r != -EAGAIN)
					x->err = (int)r;
				break;
			}
			sha256_update(&x->hs, x->out + x->out_off, (size_t)r);
			x->out_off += (size_t)r;
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

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* the test's own figures, not the stack's */
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t both(ips_stack *a, ips_stack *b, const char *name)
{
	return test_counter(a, name) + test_counter(b, name);
}

static int static_neighbours(ips_stack *a, ips_stack *b)
{
	uint8_t ma[6], mb[6];
	int err;

	if (ips_dev_hwaddr(a, "eth0", ma) < 0 || ips_dev_hwaddr(b, "eth0", mb) < 0)
		return -1;
	stack_lock(a);
	err = neigh_add_static(stack_dev_by_name(a, "eth0"), A("10.0.0.2"), mb, NUD_PERMANENT);
	stack_unlock(a);
	if (err < 0)
		return err;
	stack_lock(b);
	err = neigh_add_static(stack_dev_by_name(b, "eth0"), A("10.0.0.1"), ma, NUD_PERMANENT);
	stack_unlock(b);
	return err;
}

/* One transfer; returns 0 when the receiver got exactly the sender's bytes, nothing
 * leaked, and the counters agree with the impairment. */
static int run_xfer(uint64_t seed, size_t bytes, const char *impair, bool upload, uint32_t mtu,
		    struct xfer_result *res)
{
	struct ips_link_config cfg;
	struct xfer *x = calloc(1, sizeof(*x));
	struct xfer_result r0;
	uint8_t d1[32], d2[32];
	ips_stack *sst, *rst;
	double t0 = wall_now();
	int rc = 0;

	if (!res)
		res = &r0;
	memset(res, 0, sizeof(*res));
	memset(&cfg, 0, sizeof(cfg));
	if (!x)
		return -1;
	cfg.mtu = mtu;
	if (impair && ips_impair_parse(impair, &cfg.impair) < 0) {
		free(x);
		return -1;
	}
	x->w = ips_world_new(seed);
	/* Permanent ARP entries: under 20 % loss three ARP requests in a row go unanswered
	 * now and then, and the connect fails with EHOSTUNREACH as in Linux (the neighbour's
	 * failure reaches the socket as a host unreachable); this test is about TCP. */
	if (two_hosts(x->w, &x->cs, &x->ss, &cfg) < 0 || static_neighbours(x->cs, x->ss) < 0) {
		ips_world_free(x->w);
		free(x);
		return -1;
	}
	x->total = bytes;
	x->rng = seed * 2654435761u + 1;
	sha256_init(&x->hs);
	sha256_init(&x->hr);
	stack_lock(x->ss);
	x->l = tcp_sock_new(x->ss);
	tcp_bind(x->l, 0, 5001);
	tcp_listen(x->l, 16);
	stack_unlock(x->ss);
	stack_lock(x->cs);
	x->c = tcp_sock_new(x->cs);
	tcp_sock_set_wake(x->c, &(struct tcp_wake){ wake_noop, NULL });
	tcp_connect(x->c, A("10.0.0.2"), 5001);
	stack_unlock(x->cs);
	if (upload)
		x->snd = x->c;	/* client -> server; rcv set at accept */
	else
		x->rcv = x->c;	/* server -> client; snd set at accept */
	ips_world_run_until(x->w, xfer_done, x, 7ull * 86400 * 1000000000ull);	/* a week */
	res->vtime_ns = ips_world_now_ns(x->w);
	sha256_final(&x->hs, d1);
	sha256_final(&x->hr, d2);
	sst = upload ? x->cs : x->ss;
	rst = upload ? x->ss : x->cs;
	res->retrans = test_counter(sst, "TcpRetransSegs");
	res->sack_recov = test_counter(sst, "TcpExtTCPSackRecovery");
	res->tlp = test_counter(sst, "TcpExtTCPLossProbes");
	res->rto = test_counter(sst, "TcpExtTCPTimeouts");
	res->csum_errs = both(x->cs, x->ss, "TcpInCsumErrors");
	res->rsts = both(x->cs, x->ss, "TcpOutRsts");
	res->resets = both(x->cs, x->ss, "TcpEstabResets");
	if (x->err || !x->eof || x->got != bytes || x->sent != bytes || memcmp(d1, d2, 32)) {
		fprintf(stderr, "  seed %llu %s %s %zu: sent %zu got %zu eof %d err %d sha %s\n",
			(unsigned long long)seed, impair ? impair : "clean", upload ? "up" : "down",
			bytes, x->sent, x->got, x->eof, x->err, memcmp(d1, d2, 32) ? "DIFFERS" : "same");
		if (x->snd)
			fprintf(stderr, "  sender: state %u ca_state %u, srtt %u us, min_rtt %u us, rto %u ms, "
				"backoff %u, timer %u, out %u sacked %u lost %u retrans %u, una %u nxt %u\n",
				x->snd->state, x->snd->ca_state, x->snd->srtt_us >> 3, x->snd->min_rtt_us,
				x->snd->rto_ms, x->snd->backoff, x->snd->pending, x->snd->packets_out,
				x->snd->sacked_out, x->snd->lost_out, x->snd->retrans_out,
				x->snd->snd_una - x->snd->iss, x->snd->snd_nxt - x->snd->iss);
		rc = -1;
	}
	/* The counters must agree with what the link did: a data segment (or SYN, FIN) the
	 * link lost from the sender must have been retransmitted; a clean link needs no
	 * retransmission; every TCP checksum error is a frame the link corrupted, and a few
	 * corrupted data frames (97 % of their bits are TCP's) show up as checksum errors. */
	{
		struct impair_stats st_snd = tx_impair_stats(sst), st_rcv = tx_impair_stats(rst);

		res->lost = st_snd.lost + st_rcv.lost;
		res->corrupted = st_snd.corrupted + st_rcv.corrupted;
		if (st_snd.lost && !res->retrans) {
			fprintf(stderr, "  seed %llu %s: %llu frames lost, no retransmission\n",
				(unsigned long long)seed, impair, (unsigned long long)st_snd.lost);
			rc = -1;
		}
		if (impair_cfg_is_zero(&cfg.impair) && both(x->cs, x->ss, "TcpRetransSegs") != 0) {
			fprintf(stderr, "  seed %llu clean: %llu retransmissions\n",
				(unsigned long long)seed,
				(unsigned long long)both(x->cs, x->ss, "TcpRetransSegs"));
			rc = -1;
		}
		if (res->csum_errs > res->corrupted ||
		    (st_snd.corrupted >= 3 && test_counter(rst, "TcpInCsumErrors") == 0)) {
			fprintf(stderr, "  seed %llu %s: %llu TCP checksum errors, %llu+%llu frames corrupted\n",
				(unsigned long long)seed, impair ? impair : "clean",
				(unsigned long long)res->csum_errs, (unsigned long long)st_snd.corrupted,
				(unsigned long long)st_rcv.corrupted);
			rc = -1;
		}
	}
	if (res->rsts || res->resets) {
		fprintf(stderr, "  seed %llu %s: %llu RSTs sent, %llu resets\n", (unsigned long long)seed,
			impair ? impair : "clean", (unsigned long long)res->rsts,
			(unsigned long long)res->resets);
		rc = -1;
	}
	stack_lock(x->cs);
	tcp_fini(x->cs);
	stack_unlock(x->cs);
	stack_lock(x->ss);
	tcp_fini(x->ss);
	stack_unlock(x->ss);
	ips_world_run_for(x->w, 10ull * 1000000000ull);	/* drain the links' delay queues */
	if (ips_stack_pkb_outstanding(x->cs) || ips_stack_pkb_outstanding(x->ss)) {
		fprintf(stderr, "  seed %llu: packet buffers leaked (%ld, %ld)\n", (unsigned long long)seed,
			ips_stack_pkb_outstanding(x->cs), ips_stack_pkb_outstanding(x->ss));
		rc = -1;
	}
	ips_world_free(x->w);
	free(x);
	res->wall_s = wall_now() - t0;
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

/* ---- The matrix ---- */

struct mix {
	const char *name;
	const char *impair;
	uint32_t mtu;
	unsigned max_mb;	/* largest transfer in the full matrix */
};

static const struct mix mixes[] = {
	{ "clean", NULL, 0, 100 },
	{ "loss1", "loss=1", 0, 100 },
	{ "loss5", "loss=5", 0, 100 },
	{ "loss10", "loss=10", 0, 100 },
	/* 20 % loss both ways: past a few MB a connection may die of tcp_retries2 (ETIMEDOUT)
	 * as Linux's would: an RTO retransmission of data the receiver already has draws a
	 * duplicate ACK echoing an old TSval (tcp_sequence() drops it before ts_recent
	 * moves), its RTT sample is the whole RTO, srtt climbs towards the RTO and the RTO to
	 * 120 s; a few lost retransmissions in a row then exceed tcp_retries2 */
	{ "loss20", "loss=20", 0, 4 },
	{ "loss20_delay", "loss=20,delay=10,jitter=2", 0, 4 },
	{ "reorder", "reorder=5,dup=2,delay=10,jitter=5", 0, 100 },
	{ "dup", "dup=10", 0, 100 },
	{ "corrupt", "corrupt=1", 0, 100 },
	{ "corrupt_loss", "corrupt=1,loss=1", 0, 100 },
	{ "delay", "delay=25,jitter=10,loss=2", 0, 100 },
	{ "everything", "loss=3,reorder=3,dup=1,corrupt=1,delay=20,jitter=10", 0, 100 },
	{ "jumbo", "loss=1,delay=5", 9000, 100 },
};
#define NMIX (sizeof(mixes) / sizeof(mixes[0]))

static unsigned scale_div(void)
{
	const char *e = getenv("IPS_TCP_INTEGRITY_SCALE");

	if (e && atoi(e) > 0)
		return (unsigned)atoi(e);
	return UNDER_ASAN ? 16 : 1;
}

static bool verbose(void)
{
	const char *e = getenv("IPS_TCP_INTEGRITY_VERBOSE");

	return e && *e && strcmp(e, "0") != 0;
}

static bool full_matrix(void)
{
	const char *e = getenv("IPS_TCP_INTEGRITY");

	return e && strcmp(e, "full") == 0;
}

struct tally {
	int runs, bad;
	double bytes, wall_s, vtime_s;
};

/* seeds transfers of mb megabytes (scaled) over mix m, alternating directions from up;
 * each seed distinct over the whole matrix. */
static void run_cell(struct tally *t, const struct mix *m, unsigned mb, int seeds, bool up)
{
	size_t bytes = (size_t)mb * MB / scale_div();

	for (int s = 0; s < seeds; s++) {
		uint64_t seed = (uint64_t)(m - mixes + 1) * 1000003u + (uint64_t)mb * 1009u +
				(uint64_t)s * 2u + (up ? 1 : 0);
		bool dir = (s & 1) ? !up : up;
		struct xfer_result r;
		int rc = run_xfer(seed, bytes, m->impair, dir, m->mtu, &r);

		t->runs++;
		t->bad += rc < 0;
		t->bytes += (double)bytes;
		t->wall_s += r.wall_s;
		t->vtime_s += (double)r.vtime_ns / 1e9;
		if (verbose() || rc < 0)
			fprintf(stderr,
				"  %-12s %5.1f MB %-4s seed %-8llu %s: %7.2f s virtual, %6.2f s wall, "
				"lost %llu, corrupted %llu, retrans %llu, csum errors %llu, SACK recoveries %llu, TLP %llu, "
				"RTO %llu\n",
				m->name, (double)bytes / MB, dir ? "up" : "down", (unsigned long long)seed,
				rc < 0 ? "FAIL" : "ok", (double)r.vtime_ns / 1e9, r.wall_s,
				(unsigned long long)r.lost, (unsigned long long)r.corrupted,
				(unsigned long long)r.retrans, (unsigned long long)r.csum_errs,
				(unsigned long long)r.sack_recov, (unsigned long long)r.tlp,
				(unsigned long long)r.rto);
	}
}

static void tally_report(const char *what, const struct tally *t)
{
	fprintf(stderr, "  %s: %d transfers, %.1f MB, %d failed, %.1f s wall, %.1f s virtual\n", what,
		t->runs, t->bytes / MB, t->bad, t->wall_s, t->vtime_s);
}

static const struct mix *mix_named(const char *name)
{
	for (size_t i = 0; i < NMIX; i++)
		if (strcmp(mixes[i].name, name) == 0)
			return &mixes[i];
	return NULL;
}

/* The default: one 100 MB transfer each way on a clean link and on a lossy one, then
 * every mix in both directions at 1-2 MB (2-8 seeds each) and some at 4-16 MB. */
TEST(integrity_subset)
{
	struct tally t = { 0 };
	static const struct {
		const char *mix;
		unsigned mb;
		int seeds;
	} cells[] = {
		{ "clean", 100, 1 },	/* up */
		{ "loss1", 100, 1 },	/* down (below) */
		{ "clean", 1, 2 },
		{ "loss1", 1, 8 },
		{ "loss5", 1, 8 },
		{ "loss10", 1, 2 },
		{ "loss20", 1, 4 },
		{ "reorder", 1, 8 },
		{ "dup", 1, 2 },
		{ "corrupt", 1, 4 },
		{ "corrupt_loss", 1, 8 },
		{ "delay", 1, 2 },
		{ "everything", 2, 6 },
		{ "jumbo", 4, 2 },
		{ "loss5", 16, 2 },
		{ "corrupt_loss", 16, 2 },
		{ "reorder", 16, 2 },
		{ "jumbo", 16, 2 },
	};

	if (full_matrix())
		return;
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		const struct mix *m = mix_named(cells[i].mix);

		ASSERT(m != NULL);
		run_cell(&t, m, cells[i].mb, cells[i].seeds, i != 1);
	}
	tally_report("subset", &t);
	CHECK(t.runs >= 40);
	CHECK_EQ(t.bad, 0);
}

/* IPS_TCP_INTEGRITY=full: every mix at 1, 4, 16 and 100 MB (up to its max), both
 * directions, 2 seeds per direction. */
TEST(integrity_full_matrix)
{
	static const unsigned sizes[] = { 1, 4, 16, 100 };
	struct tally all = { 0 };

	if (!full_matrix())
		return;
	for (size_t i = 0; i < NMIX; i++) {
		const char *only = getenv("IPS_TCP_INTEGRITY_MIX");
		struct tally t = { 0 };

		if (only && strcmp(only, mixes[i].name) != 0)
			continue;
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			if (sizes[k] > mixes[i].max_mb)
				continue;
			run_cell(&t, &mixes[i], sizes[k], sizes[k] >= 100 ? 2 : 4, true);
		}
		tally_report(mixes[i].name, &t);
		all.runs += t.runs;
		all.bad += t.bad;
		all.bytes += t.bytes;
		all.wall_s += t.wall_s;
		all.vtime_s += t.vtime_s;
	}
	tally_report("full matrix", &all);
	CHECK_EQ(all.bad, 0);
}

/* The simulated loop runs what the test's pump starts at once: a clean 1 MB transfer on
 * a link without delay takes well under a second of virtual time (it took 5 s when the
 * world loop left a pump's frames in an inbox until an unrelated timer). */
TEST(clean_transfer_takes_no_virtual_time)
{
	struct xfer_result r;

	CHECK_EQ(run_xfer(5, 1 * MB, NULL, true, 0, &r), 0);
	CHECK(r.vtime_ns < 1000000000ull);
	CHECK_EQ(run_xfer(6, 1 * MB, NULL, false, 0, &r), 0);
	CHECK(r.vtime_ns < 1000000000ull);
}

TEST_MAIN

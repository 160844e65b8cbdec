/* The demo's TCP steps: a few MB A -> B across the lossy link (live progress, throughput,
 * retransmissions, SHA-256 of both ends), and a connect to a closed port. Written
 * against the POSIX-shaped socket API only; until ipstack has TCP sockets the steps say
 * so and count as not available (the demo then exits non-zero). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define TCP_PORT 5001
#define CLOSED_PORT 81

static struct sockaddr_in sin_of(const char *addr, int port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	inet_pton(AF_INET, addr, &s.sin_addr);
	return s;
}

/* A TCP socket in st, or -1 with errno (EPROTONOSUPPORT... when TCP is not there). */
static int tcp_socket(ips_stack *st)
{
	ips_stack_enter(st);
	return ips_socket(AF_INET, SOCK_STREAM, 0);
}

static bool tcp_missing(int err)
{
	return err == EPROTONOSUPPORT || err == ESOCKTNOSUPPORT || err == EAFNOSUPPORT ||
	       err == EPROTOTYPE || err == ENOSYS || err == EOPNOTSUPP;
}

/* The bytes A sends: a pseudo-random block (from the seed), varied per block, so that
 * a misplaced or repeated segment changes the digest. */
static void fill_block(uint8_t *p, size_t len, uint64_t seed, uint64_t blockno)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + blockno * 0xbf58476d1ce4e5b9ull + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

static void fmt_bytes(char *buf, size_t len, uint64_t n)
{
	if (n >= (1u << 20))
		snprintf(buf, len, "%.1f MiB", n / 1048576.0);
	else if (n >= 1024)
		snprintf(buf, len, "%.1f KiB", n / 1024.0);
	else
		snprintf(buf, len, "%llu B", (unsigned long long)n);
}

void demo_step_tcp(struct demo *d)
{
	enum { BLOCK = 65536 };
	struct sockaddr_in baddr = sin_of(DEMO_B, TCP_PORT);
	const uint64_t total = d->o.tcp_bytes;
	uint64_t sent = 0, rcvd = 0, retrans0, t_start = 0, t_conn = 0, t_end = 0, next_progress = 0;
	int lfd = -1, afd = -1, bfd = -1, one = 1, mss = 0;
	bool connected = false, shut = false, eof = false, failed = false;
	uint8_t *blk = malloc(BLOCK), *rbuf = malloc(BLOCK);
	struct sha256 hs, hr;
	uint8_t ds[32], dr[32];
	char xs[65], xr[65], sz[32], why[160] = "";

	char title[160];

	fmt_bytes(sz, sizeof(sz), total);
	snprintf(title, sizeof(title), "TCP: %s A -> B:%d across the lossy link (iperf-like)", sz,
		 TCP_PORT);
	demo_step_begin(d, "tcp_transfer", title);
	if (!blk || !rbuf)
		abort();
	lfd = tcp_socket(d->b);
	if (lfd < 0) {
		int e = errno;

		free(blk);
		free(rbuf);
		demo_step_end(d, tcp_missing(e) ? STEP_UNAVAILABLE : STEP_FAILED,
			      "TCP sockets are not in ipstack yet: socket(AF_INET, SOCK_STREAM, 0): %s",
			      strerror(e));
		return;
	}
	retrans0 = demo_counter(d->a, "TcpRetransSegs");
	sha256_init(&hs);
	sha256_init(&hr);
	ips_setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ips_bind(lfd, (struct sockaddr *)&baddr, sizeof(baddr)) < 0 || ips_listen(lfd, 8) < 0 ||
	    (afd = tcp_socket(d->a)) < 0) {
		snprintf(why, sizeof(why), "listen on B:%d / socket on A: %s", TCP_PORT, strerror(errno));
		goto out;
	}
	int fl = ips_fcntl(afd, F_GETFL);

	ips_fcntl(afd, F_SETFL, fl | O_NONBLOCK);
	fl = ips_fcntl(lfd, F_GETFL);
	ips_fcntl(lfd, F_SETFL, fl | O_NONBLOCK);
	t_start = demo_now_ns(d);
	if (ips_connect(afd, (struct sockaddr *)&baddr, sizeof(baddr)) < 0 && errno != EINPROGRESS) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		goto out;
	}
	/* One thread plays both ends: A writes while it may, B reads what has arrived. */
	uint64_t deadline = t_start + 600 * NS_PER_S, wall_deadline = demo_wall_ns() + 120 * NS_PER_S;
	size_t boff = BLOCK;	/* offset in the current block (BLOCK: make the next one) */
	uint64_t blockno = 0;

	while (!eof) {
		struct pollfd p[2] = { { afd, (short)(shut ? 0 : POLLOUT), 0 },
				       { bfd >= 0 ? bfd : lfd, POLLIN, 0 } };

		if (demo_now_ns(d) > deadline || demo_wall_ns() > wall_deadline) {
			snprintf(why, sizeof(why), "timed out after %llu of %llu bytes",
				 (unsigned long long)rcvd, (unsigned long long)total);
			goto out;
		}
		if (!demo_wait(d, p, 2, demo_now_ns(d) + 200 * NS_PER_MS))
			continue;
		if (p[0].revents & (POLLERR | POLLHUP)) {
			int err = 0;
			socklen_t el = sizeof(err);

			ips_getsockopt(afd, SOL_SOCKET, SO_ERROR, &err, &el);
			snprintf(why, sizeof(why), "A's connection failed: %s", strerror(err ? err : EPIPE));
			goto out;
		}
		if (!connected && (p[0].revents & POLLOUT)) {
			socklen_t ml = sizeof(mss);

			connected = true;
			t_conn = demo_now_ns(d);
			ips_getsockopt(afd, IPPROTO_TCP, TCP_MAXSEG, &mss, &ml);
		}
		while (connected && !shut && (p[0].revents & POLLOUT)) {
			if (boff == BLOCK) {
				size_t n = total - sent < BLOCK ? (size_t)(total - sent) : BLOCK;

				fill_block(blk, n, d->o.seed, blockno++);
				sha256_update(&hs, blk, n);
				boff = 0;
			}
			size_t want = BLOCK - boff;

			if (sent + want > total)
				want = (size_t)(total - sent);
			ssize_t n = ips_send(afd, blk + boff, want, MSG_NOSIGNAL);

			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				snprintf(why, sizeof(why), "send: %s", strerror(errno));
				goto out;
			}
			sent += (uint64_t)n;
			boff += (size_t)n;
			if (sent == total) {
				ips_shutdown(afd, SHUT_WR);
				shut = true;
			}
		}
		if (bfd < 0 && (p[1].revents & POLLIN)) {
			bfd = ips_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
			if (bfd < 0 && errno != EAGAIN) {
				snprintf(why, sizeof(why), "accept: %s", strerror(errno));
				goto out;
			}
		} else if (bfd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			for (;;) {
				ssize_t n = ips_recv(bfd, rbuf, BLOCK, 0);

				if (n > 0) {
					sha256_update(&hr, rbuf, (size_t)n);
					rcvd += (uint64_t)n;
					continue;
				}
				if (n == 0) {
					eof = true;
					t_end = demo_now_ns(d);
				} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
					snprintf(why, sizeof(why), "B's recv: %s", strerror(errno));
					goto out;
				}
				break;
			}
		}
		if (demo_now_ns(d) >= next_progress) {
			uint64_t el = demo_now_ns(d) - (t_conn ? t_conn : t_start);
			char b1[32];

			fmt_bytes(b1, sizeof(b1), rcvd);
			demo_progress(d, "%s of %s at B  %3d%%  %.2f Mbit/s  retransmitted %llu", b1, sz,
				      (int)(rcvd * 100 / total), el ? rcvd * 8e3 / el : 0.0,
				      (unsigned long long)(demo_counter(d->a, "TcpRetransSegs") - retrans0));
			next_progress = demo_now_ns(d) + 250 * NS_PER_MS;
		}
	}
out:
	failed = !eof;
	uint64_t retrans = demo_counter(d->a, "TcpRetransSegs") - retrans0;
	struct tcp_info ti;
	socklen_t til = sizeof(ti);
	bool have_info = afd >= 0 && ips_getsockopt(afd, IPPROTO_TCP, TCP_INFO, &ti, &til) == 0;

	sha256_final(&hs, ds);
	sha256_final(&hr, dr);
	sha256_hex(ds, xs);
	sha256_hex(dr, xr);
	bool match = !failed && rcvd == total && memcmp(ds, dr, 32) == 0;
	double secs = t_end > t_conn && t_conn ? (t_end - t_conn) / 1e9 : 0;
	double mbps = secs > 0 ? rcvd * 8 / secs / 1e6 : 0;

	if (why[0])
		demo_say(d, "%s", why);
	if (mss) {
		bool ts = have_info && (ti.tcpi_options & TCPI_OPT_TIMESTAMPS);

		demo_say(d, "connected in %.1f ms; MSS %d = path MTU %u - 40 (IP + TCP headers)%s",
			 (t_conn - t_start) / 1e6, mss, mss + 40 + (ts ? 12 : 0),
			 ts ? " - 12 (timestamps option)" : "");
	}
	fmt_bytes(sz, sizeof(sz), rcvd);
	demo_say(d, "%s received by B in %.2f s: %.2f Mbit/s", sz, secs, mbps);
	demo_say(d, "segments retransmitted by A: %llu (TcpRetransSegs)%s", (unsigned long long)retrans,
		 have_info ? "" : "");
	if (have_info)
		demo_say(d, "A's TCP_INFO: rtt %.1f ms, cwnd %u, total_retrans %u",
			 ti.tcpi_rtt / 1e3, ti.tcpi_snd_cwnd, ti.tcpi_total_retrans);
	demo_say(d, "SHA-256 sent     %s", xs);
	demo_say(d, "SHA-256 received %s", xr);
	demo_fig_int(d, "bytes", (long long)total);
	demo_fig_int(d, "received", (long long)rcvd);
	demo_fig_int(d, "mss", mss);
	demo_fig_num(d, "seconds", secs);
	demo_fig_num(d, "mbit_per_s", mbps);
	demo_fig_int(d, "retransmits", (long long)retrans);
	demo_fig_str(d, "sha256_sent", xs);
	demo_fig_str(d, "sha256_received", xr);
	demo_fig_bool(d, "sha256_match", match);
	if (afd >= 0)
		ips_close(afd);
	if (bfd >= 0)
		ips_close(bfd);
	if (lfd >= 0)
		ips_close(lfd);
	free(blk);
	free(rbuf);
	if (match)
		demo_step_end(d, STEP_OK, "%s in %.2f s (%.2f Mbit/s) with %llu retransmissions; SHA-256 match",
			      sz, secs, mbps, (unsigned long long)retrans);
	else
		demo_step_end(d, STEP_FAILED, "%s", why[0] ? why : "the bytes B received differ");
}

void demo_step_refused(struct demo *d)
{
	struct sockaddr_in dst = sin_of(DEMO_B, CLOSED_PORT);
	struct timeval tv = { 20, 0 };
	int fd, rc, err;
	uint64_t t0;

	demo_step_begin(d, "refused", "connect A -> B:81, where nothing listens");
	fd = tcp_socket(d->a);
	if (fd < 0) {
		err = errno;
		demo_step_end(d, tcp_missing(err) ? STEP_UNAVAILABLE : STEP_FAILED,
			      "TCP sockets are not in ipstack yet: socket(AF_INET, SOCK_STREAM, 0): %s",
			      strerror(err));
		return;
	}
	ips_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	t0 = demo_now_ns(d);
	rc = ips_connect(fd, (struct sockaddr *)&dst, sizeof(dst));
	err = rc < 0 ? errno : 0;
	ips_close(fd);
	demo_say(d, "connect(%s:%d) = %d%s%s after %.1f ms", DEMO_B, CLOSED_PORT, rc,
		 rc < 0 ? " " : "", rc < 0 ? strerror(err) : "", (demo_now_ns(d) - t0) / 1e6);
	demo_fig_int(d, "port", CLOSED_PORT);
	demo_fig_str(d, "errno", err == ECONNREFUSED ? "ECONNREFUSED" : err ? strerror(err) : "none");
	if (err == ECONNREFUSED)
		demo_step_end(d, STEP_OK, "refused: B answered the SYN with a RST (ECONNREFUSED)");
	else
		demo_step_end(d, STEP_FAILED, "expected ECONNREFUSED, got %s",
			      err ? strerror(err) : "a connection");
}

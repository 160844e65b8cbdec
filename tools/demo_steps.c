/* The demo's steps that need only IPv4 and datagram sockets: ping (an ICMP datagram
 * socket, as unprivileged ping(8) uses), a large UDP datagram that R fragments and B
 * reassembles, and the path found by TTL as tracepath(8) finds it (UDP probes with
 * IP_RECVERR, IP_PMTUDISC_PROBE). Each is ordinary socket code running on the stacks. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull

static struct sockaddr_in sin_of(const char *addr, int port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	inet_pton(AF_INET, addr, &s.sin_addr);
	return s;
}

/* Wait until one of fds is ready or the stack clock reaches deadline_ns. On the virtual
 * clock an idle world ends a poll at once; time then jumps to the deadline (nothing can
 * happen before it). Returns the number of ready descriptors (0: deadline). */
int demo_wait(struct demo *d, struct pollfd *fds, int n, uint64_t deadline_ns)
{
	/* Threaded stacks: a send from this thread may have armed a timer (a delayed frame
	 * on an impaired link, an ARP retry) earlier than the one each stack's loop is
	 * sleeping towards, and the loop does not notice by itself yet; wake them so they
	 * look again. (Every send here is followed by a wait.) */
	if (!d->w)
		for (int k = 0; k < DEMO_NSTACKS; k++)
			ips_stack_wake(d->all[k]);
	for (;;) {
		uint64_t now = demo_now_ns(d);

		if (now >= deadline_ns)
			return 0;
		int ms = (int)((deadline_ns - now + NS_PER_MS - 1) / NS_PER_MS);
		int r = ips_poll(fds, (nfds_t)n, ms);

		if (r > 0)
			return r;
		if (r < 0 && errno != EINTR)
			return 0;
		now = demo_now_ns(d);
		if (r == 0 && d->w && now < deadline_ns)
			demo_sleep(d, deadline_ns - now);
	}
}

static uint64_t isqrt(uint64_t v)
{
	uint64_t x = v, y = (x + 1) / 2;

	if (v < 2)
		return v;
	while (y < x) {
		x = y;
		y = (x + v / x) / 2;
	}
	return x;
}

/* ---- 1. ping ---- */

void demo_step_ping(struct demo *d)
{
	enum { COUNT = 5, DATALEN = 56 };
	struct sockaddr_in dst = sin_of(DEMO_B, 0);
	uint64_t sent_at[COUNT + 1] = { 0 }, rtt[COUNT];
	bool got[COUNT + 1] = { false };
	int sent = 0, received = 0, nrtt = 0, ttl = -1, on = 1, fd;
	char t[32];

	demo_step_begin(d, "ping", "ping A -> B: 5 echo requests, one a second (ping -c 5 " DEMO_B ")");
	ips_stack_enter(d->a);
	fd = ips_socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	if (fd < 0) {
		demo_step_end(d, STEP_FAILED, "socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP): %s",
			      strerror(errno));
		return;
	}
	ips_setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof(on));
	demo_say(d, "PING %s (%s) %d(%d) bytes of data.", DEMO_B, DEMO_B, DATALEN, DATALEN + 28);
	uint64_t start = demo_now_ns(d), last = start;

	for (int seq = 1; seq <= COUNT; seq++) {
		uint8_t pkt[8 + DATALEN] = { ICMP_ECHO, 0, 0, 0, 0, 0, (uint8_t)(seq >> 8), (uint8_t)seq };

		for (int i = 0; i < DATALEN; i++)
			pkt[8 + i] = (uint8_t)i;
		sent_at[seq] = demo_now_ns(d);
		if (ips_sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
			demo_say(d, "ping: sendto: %s", strerror(errno));
		else
			sent++;
		/* Replies until the next request is due (one a second), or for the last one
		 * until every reply is in or 2 s have passed. */
		uint64_t until = seq < COUNT ? start + (uint64_t)seq * NS_PER_S : sent_at[seq] + 2 * NS_PER_S;

		while (!(seq == COUNT && received == sent)) {
			struct pollfd p = { fd, POLLIN, 0 };
			uint8_t buf[512];
			char ctrl[256];
			struct iovec iov = { buf, sizeof(buf) };
			struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
					    .msg_controllen = sizeof(ctrl) };

			if (!demo_wait(d, &p, 1, until))
				break;
			ssize_t n = ips_recvmsg(fd, &m, MSG_DONTWAIT);

			if (n < 0) {
				if (errno != EAGAIN)
					demo_say(d, "From %s: %s", DEMO_B, strerror(errno));
				continue;
			}
			int s = n >= 8 ? (buf[6] << 8 | buf[7]) : 0;

			if (n != 8 + DATALEN || buf[0] != ICMP_ECHOREPLY || s < 1 || s > COUNT ||
			    got[s] || memcmp(buf + 8, pkt + 8, DATALEN) != 0)
				continue;
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
				if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL)
					memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
			got[s] = true;
			received++;
			last = demo_now_ns(d);
			rtt[nrtt++] = last - sent_at[s];
			demo_fmt_ms(t, sizeof(t), rtt[nrtt - 1]);
			demo_say(d, "%zd bytes from %s: icmp_seq=%d ttl=%d time=%s ms", n, DEMO_B, s, ttl, t);
		}
	}
	ips_close(fd);

	uint64_t min = UINT64_MAX, max = 0, sum = 0, sum2 = 0;

	for (int i = 0; i < nrtt; i++) {
		uint64_t us = rtt[i] / 1000;

		min = rtt[i] < min ? rtt[i] : min;
		max = rtt[i] > max ? rtt[i] : max;
		sum += rtt[i];
		sum2 += us * us;
	}
	int loss = sent ? (sent - received) * 100 / sent : 100;

	demo_say(d, "--- %s ping statistics ---", DEMO_B);
	demo_say(d, "%d packets transmitted, %d received, %d%% packet loss, time %llums", sent,
		 received, loss, (unsigned long long)((last - start) / NS_PER_MS));
	if (nrtt) {
		uint64_t avg = sum / (uint64_t)nrtt, avg_us = avg / 1000;
		uint64_t mdev_us = isqrt(sum2 / (uint64_t)nrtt - avg_us * avg_us);

		demo_say(d, "rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms", min / 1e6, avg / 1e6,
			 max / 1e6, mdev_us / 1e3);
	}
	demo_fig_int(d, "sent", sent);
	demo_fig_int(d, "received", received);
	demo_fig_int(d, "ttl", ttl);
	struct dbuf r = { 0 };

	dbuf_printf(&r, "[");
	for (int i = 0; i < nrtt; i++)
		dbuf_printf(&r, "%s%.3f", i ? "," : "", rtt[i] / 1e6);
	dbuf_printf(&r, "]");
	demo_fig_raw(d, "rtt_ms", r.p);
	dbuf_free(&r);
	/* ping(8)'s own verdict: success when any reply came back. */
	if (received)
		demo_step_end(d, STEP_OK, "%d/%d replies from B through R (ttl %d: one hop)", received,
			      sent, ttl);
	else
		demo_step_end(d, STEP_FAILED, "no reply from B (%d sent)", sent);
}

/* ---- 2. a large UDP datagram, fragmented at R, reassembled at B ---- */

void demo_step_udp_frag(struct demo *d)
{
	enum { LEN = 20000, PORT = 9000, TRIES = 5 };
	struct sockaddr_in bdst = sin_of(DEMO_B, PORT);
	static uint8_t msg[LEN], got[LEN + 100];
	static const char *cnames[] = { "IpFragOKs", "IpFragCreates", "IpForwDatagrams",
					 "IpReasmReqds", "IpReasmOKs", "IpReasmFails" };
	enum { FRAGOK, FRAGCR, FORW, RQDS, ROKS, RFAIL, NC };
	uint64_t c0[DEMO_NSTACKS][NC], c1[DEMO_NSTACKS][NC];
	int fa, fb, attempt, ok = 0;
	ssize_t n = -1;

	demo_step_begin(d, "udp_fragments",
			"a 20000-byte UDP datagram A -> B:9000: R fragments it for link2, B reassembles it");
	for (int i = 0; i < LEN; i++)
		msg[i] = (uint8_t)(i * 7 + (int)d->o.seed);
	for (int k = 0; k < DEMO_NSTACKS; k++)
		for (int c = 0; c < NC; c++)
			c0[k][c] = demo_counter(d->all[k], cnames[c]);
	ips_stack_enter(d->b);
	fb = ips_socket(AF_INET, SOCK_DGRAM, 0);
	ips_stack_enter(d->a);
	fa = ips_socket(AF_INET, SOCK_DGRAM, 0);
	if (fa < 0 || fb < 0 || ips_bind(fb, (struct sockaddr *)&bdst, sizeof(bdst)) < 0) {
		demo_step_end(d, STEP_FAILED, "UDP sockets: %s", strerror(errno));
		if (fa >= 0)
			ips_close(fa);
		if (fb >= 0)
			ips_close(fb);
		return;
	}
	/* A datagram lost to link2 (one of its fragments dropped) is sent again, as an
	 * application over UDP would. */
	for (attempt = 1; attempt <= TRIES && !ok; attempt++) {
		struct pollfd p = { fb, POLLIN, 0 };

		if (ips_sendto(fa, msg, LEN, 0, (struct sockaddr *)&bdst, sizeof(bdst)) != LEN) {
			demo_say(d, "sendto: %s", strerror(errno));
			break;
		}
		if (!demo_wait(d, &p, 1, demo_now_ns(d) + 3 * NS_PER_S)) {
			demo_say(d, "attempt %d: nothing arrived within 3 s (a fragment was lost on link2)",
				 attempt);
			continue;
		}
		n = ips_recv(fb, got, sizeof(got), MSG_DONTWAIT);
		ok = n == LEN && memcmp(got, msg, LEN) == 0;
		if (!ok)
			demo_say(d, "attempt %d: B received %zd bytes that do not match", attempt, n);
	}
	attempt--;
	ips_close(fa);
	ips_close(fb);
	for (int k = 0; k < DEMO_NSTACKS; k++)
		for (int c = 0; c < NC; c++)
			c1[k][c] = demo_counter(d->all[k], cnames[c]) - c0[k][c];

	long long a_frags = (long long)c1[0][FRAGCR], r_in = (long long)c1[1][FORW];
	long long r_frag = (long long)c1[1][FRAGOK], r_new = (long long)c1[1][FRAGCR];
	long long b_reqd = (long long)c1[2][RQDS], b_ok = (long long)c1[2][ROKS];

	demo_say(d, "A: one datagram of %d bytes (+8 UDP) leaves as %lld fragments for link1 (MTU 1500)",
		 LEN, a_frags);
	if (r_frag)
		demo_say(d, "R: forwards %lld fragments; %lld of them are too big for link2 (MTU %u) and become %lld",
			 r_in, r_frag, d->o.mtu2, r_new);
	else
		demo_say(d, "R: forwards %lld fragments, none too big for link2 (MTU %u)", r_in, d->o.mtu2);
	demo_say(d, "B: %lld fragments in, %lld datagram%s reassembled, %zd bytes delivered, %s",
		 b_reqd, b_ok, b_ok == 1 ? "" : "s", n < 0 ? 0 : n,
		 ok ? "identical to what A sent" : "NOT what A sent");
	demo_fig_int(d, "datagram_bytes", LEN);
	demo_fig_int(d, "attempts", attempt);
	demo_fig_int(d, "a_fragments", a_frags);
	demo_fig_int(d, "r_forwarded", r_in);
	demo_fig_int(d, "r_fragmented", r_frag);
	demo_fig_int(d, "r_fragments_created", r_new);
	demo_fig_int(d, "b_fragments_received", b_reqd);
	demo_fig_int(d, "b_reassembled", b_ok);
	demo_fig_int(d, "b_received_bytes", n < 0 ? 0 : n);
	demo_fig_bool(d, "payload_match", ok);
	if (ok && r_new > 0 && b_ok >= 1)
		demo_step_end(d, STEP_OK, "fragmented at R into %lld pieces, reassembled at B, bytes match%s",
			      r_new, attempt > 1 ? " (after a loss on link2)" : "");
	else if (ok && d->o.mtu2 >= 1500)	/* --mtu 1500: nothing for R to do */
		demo_step_end(d, STEP_OK, "link2's MTU is %u: R forwards A's fragments as they are; reassembled at B, bytes match",
			      d->o.mtu2);
	else if (ok)
		demo_step_end(d, STEP_FAILED, "B got the datagram, but R did not fragment it");
	else
		demo_step_end(d, STEP_FAILED, "B did not get the datagram in %d attempts", attempt);
}

/* ---- 3. the path by TTL, as tracepath(8) finds it ---- */

struct probe_result {
	int kind;		/* 0 none, 1 time exceeded, 2 reached, 3 pmtu, 4 local pmtu, 5 other */
	uint32_t from;
	uint32_t mtu;
	int err;
	int rethops;		/* TTL of the ICMP message as received, or -1 */
	uint64_t rtt;
};

static void read_errqueue(int fd, struct probe_result *pr)
{
	uint8_t buf[2048];
	char ctrl[512];
	struct sockaddr_in from;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof(ctrl) };

	pr->kind = 0;
	pr->rethops = -1;
	if (ips_recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != IPPROTO_IP)
			continue;
		if (c->cmsg_type == IP_TTL) {
			memcpy(&pr->rethops, CMSG_DATA(c), sizeof(int));
		} else if (c->cmsg_type == IP_RECVERR) {
			struct sock_extended_err ee;
			struct sockaddr_in off;

			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			memcpy(&off, (uint8_t *)CMSG_DATA(c) + sizeof(ee), sizeof(off));
			pr->err = (int)ee.ee_errno;
			pr->from = off.sin_addr.s_addr;
			if (ee.ee_origin == SO_EE_ORIGIN_LOCAL) {
				pr->kind = ee.ee_errno == EMSGSIZE ? 4 : 5;
				pr->mtu = ee.ee_info;
			} else if (ee.ee_errno == EMSGSIZE) {
				pr->kind = 3;
				pr->mtu = ee.ee_info;
			} else if (ee.ee_type == ICMP_TIME_EXCEEDED) {
				pr->kind = 1;
			} else if (ee.ee_errno == ECONNREFUSED) {
				pr->kind = 2;
			} else {
				pr->kind = 5;
			}
		}
	}
}

/* tracepath's guess of the hops back from the TTL left in a reply. */
static int hops_back(int rethops)
{
	if (rethops < 0)
		return -1;
	if (rethops <= 64)
		return 65 - rethops;
	if (rethops <= 128)
		return 129 - rethops;
	return 256 - rethops;
}

void demo_step_path(struct demo *d)
{
	enum { MAX_HOPS = 8, TRIES = 3, BASE_PORT = 44444 };
	int fd, on = 1, probe = IP_PMTUDISC_PROBE, port = BASE_PORT, hops = 0, back = -1;
	uint32_t mtu = 65535, first_mtu = 0;
	bool reached = false;
	struct dbuf hj = { 0 };
	static uint8_t payload[65535];
	char a[16], t[32];

	demo_step_begin(d, "path", "the path A -> B by TTL, with its path MTU (tracepath " DEMO_B ")");
	ips_stack_enter(d->a);
	fd = ips_socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || ips_setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on)) < 0 ||
	    ips_setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof(probe)) < 0 ||
	    ips_setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof(on)) < 0) {
		demo_step_end(d, STEP_FAILED, "UDP socket with IP_RECVERR/IP_PMTUDISC_PROBE: %s",
			      strerror(errno));
		if (fd >= 0)
			ips_close(fd);
		return;
	}
	dbuf_printf(&hj, "[");
	for (int ttl = 1; ttl <= MAX_HOPS && !reached; ttl++) {
		bool answered = false;

		for (int tries = 0; tries < TRIES && !answered;) {
			struct sockaddr_in dst = sin_of(DEMO_B, port++);
			struct probe_result pr = { 0 };
			struct pollfd p = { fd, POLLERR, 0 };
			uint64_t t0 = demo_now_ns(d);

			ips_setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
			if (ips_sendto(fd, payload, mtu - 28, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
				if (errno != EMSGSIZE) {
					demo_say(d, "sendto: %s", strerror(errno));
					tries = TRIES;
					break;
				}
				/* Too big for our own device: the error queue says how big. */
				read_errqueue(fd, &pr);
				if (pr.kind == 4 && pr.mtu && pr.mtu < mtu) {
					mtu = pr.mtu;
					if (!first_mtu)
						first_mtu = mtu;
					demo_say(d, "%2d?: %-50s pmtu %u", ttl, "[LOCALHOST]", mtu);
					continue;
				}
				tries = TRIES;
				break;
			}
			if (!demo_wait(d, &p, 1, t0 + NS_PER_S)) {
				demo_say(d, "%2d:  no reply", ttl);
				tries++;
				continue;
			}
			read_errqueue(fd, &pr);
			pr.rtt = demo_now_ns(d) - t0;
			demo_fmt_ms(t, sizeof(t), pr.rtt);
			if (pr.kind == 4) {	/* learnt locally after all */
				mtu = pr.mtu;
				demo_say(d, "%2d?: %-50s pmtu %u", ttl, "[LOCALHOST]", mtu);
				continue;
			}
			if (pr.kind == 0) {
				tries++;
				continue;
			}
			if (pr.kind == 3) {
				/* Frag Needed from a router: probe this hop again, smaller. */
				mtu = pr.mtu;
				demo_say(d, "%2d:  %-50s %sms pmtu %u", ttl, demo_ip(pr.from, a), t, mtu);
				dbuf_printf(&hj, "%s{\"ttl\":%d,\"addr\":\"%s\",\"pmtu\":%u}",
					    hj.len > 1 ? "," : "", ttl, a, mtu);
				continue;
			}
			answered = true;
			hops = ttl;
			if (pr.kind == 2) {
				reached = true;
				back = hops_back(pr.rethops);
			}
			demo_say(d, "%2d:  %-50s %sms%s", ttl, demo_ip(pr.from, a), t,
				 pr.kind == 2 ? " reached" : pr.kind == 5 ? " !error" : "");
			dbuf_printf(&hj, "%s{\"ttl\":%d,\"addr\":\"%s\",\"rtt_ms\":%.3f%s}",
				    hj.len > 1 ? "," : "", ttl, a, pr.rtt / 1e6,
				    pr.kind == 2 ? ",\"reached\":true" : "");
			if (pr.kind == 5) {
				tries = TRIES;
				break;
			}
		}
		if (!answered && !reached && hops < ttl - 1)
			break;	/* two silent hops in a row: give up, as tracepath would not, but
				 * a demo should not wait for 30 hops */
	}
	ips_close(fd);
	dbuf_printf(&hj, "]");
	if (reached)
		demo_say(d, "    Resume: pmtu %u hops %d back %d", mtu, hops, back);
	else
		demo_say(d, "    Too many hops: pmtu %u", mtu);
	demo_fig_raw(d, "hops", hj.p);
	demo_fig_bool(d, "reached", reached);
	demo_fig_int(d, "hop_count", reached ? hops : -1);
	demo_fig_int(d, "back", back);
	demo_fig_int(d, "first_pmtu", first_mtu);
	demo_fig_int(d, "pmtu", mtu);
	dbuf_free(&hj);
	if (reached && mtu == d->o.mtu2)
		demo_step_end(d, STEP_OK, "B is %d hops away (R, then B); path MTU %u found (link2)", hops,
			      mtu);
	else if (reached)
		demo_step_end(d, STEP_FAILED, "B reached in %d hops, but the path MTU found is %u, not %u",
			      hops, mtu, d->o.mtu2);
	else
		demo_step_end(d, STEP_FAILED, "B not reached");
}

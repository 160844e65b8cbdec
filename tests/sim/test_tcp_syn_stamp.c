/* A SYN's timestamp and the connection's retrans_stamp come from separate clock reads;
 * on a real clock a millisecond boundary can fall between them. The SYN-ACK's echo must
 * still pass the SYN_SENT check (Linux stamps before transmitting). A clock that moves
 * 0.7 ms at every read puts a boundary between nearly every pair of reads. */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include "ipstack/ipstack.h"
#include "core/csum.h"
#include "wire/tcp.h"

static uint64_t fake_ns = 1000000000ULL;

static uint64_t creeping_clock(void *ctx)
{
	(void)ctx;
	fake_ns += 700000;
	return fake_ns;
}

TEST(connects_succeed_when_the_clock_moves_between_reads)
{
	struct ips_clock_ops clk = { creeping_clock, NULL };
	struct ips_stack_config cfg = { .mode = IPS_MODE_DRIVEN, .clock = &clk, .seed = 5 };
	ips_stack *st = ips_stack_new(&cfg);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(4242) };
	int one = 1, ok = 0;
	uint64_t paws = 0, rst = 0;

	ASSERT(st);
	ips_stack_enter(st);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int l = ips_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	ASSERT(l >= 0);
	ips_setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ASSERT_EQ(ips_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ASSERT_EQ(ips_listen(l, 128), 0);
	for (int i = 0; i < 50; i++) {
		int c = ips_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		int err = 0, s = -1;
		socklen_t len = sizeof(err);

		ASSERT(c >= 0);
		if (ips_connect(c, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS)
			break;
		/* A handful of loop passes complete a loopback handshake; a rejected
		 * SYN-ACK would leave the connect pending for a 1 s retransmission. */
		for (int k = 0; k < 20 && s < 0; k++) {
			ips_stack_poll(st, 0);
			s = ips_accept(l, NULL, NULL);
		}
		ips_getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
		struct pollfd pf = { c, POLLOUT, 0 };

		if (s >= 0 && err == 0 && ips_poll(&pf, 1, 0) == 1 && (pf.revents & POLLOUT))
			ok++;
		if (s >= 0)
			ips_close(s);
		ips_close(c);
		ips_stack_poll(st, 0);
	}
	ips_counter_get(st, "TcpExtPAWSActive", &paws);
	ips_counter_get(st, "TcpOutRsts", &rst);
	CHECK_EQ(ok, 50);
	CHECK_EQ(paws, 0);
	ips_close(l);
	ips_stack_free(st);
}

/* A simulated world's clock starts at 0: a connect in its first millisecond stamps
 * retrans_stamp 0 ms, which is also "no stamp". The SYN retransmission must not then take
 * its own time as the stamp, or a SYN-ACK echoing the first SYN's TSval (the peer's SYN-ACK
 * retransmission when our second SYN was lost) fails the SYN_SENT check: PAWSActive and a
 * RST instead of a connection (found by test_tcp_integrity under 10 % loss). */
struct syn_cap {
	int syns;
	uint32_t iss, tsval;
	uint16_t sport;
	int rsts, acks;
};

static void syn_cap_out(void *arg, const void *pkt, size_t len)
{
	struct syn_cap *c = arg;
	const uint8_t *p = pkt;
	struct wire_tcp th;
	struct wire_tcp_opts o;

	if (len < 40 || p[9] != IPPROTO_TCP || wire_tcp_parse(p + 20, len - 20, &th) < 0)
		return;
	if (th.flags & WIRE_TCP_RST) {
		c->rsts++;
		return;
	}
	if (!(th.flags & WIRE_TCP_SYN)) {
		c->acks++;
		return;
	}
	if (c->syns++ == 0 && wire_tcp_opts_parse(p + 20, th.doff, &o) == 0 && o.has_ts) {
		c->iss = th.seq;
		c->tsval = o.tsval;
		c->sport = th.sport;
	}
}

TEST(synack_echoing_a_syn_sent_at_time_zero_connects)
{
	ips_world *w = ips_world_new(3);
	ips_stack *st = ips_world_add_stack(w, "a");
	struct syn_cap cap = { 0 };
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(80) };
	uint8_t b[64] = { 0 }, *th = b + 20;
	struct wire_tcp h = { 0 };
	struct wire_tcp_opts o = { 0 };
	uint8_t opts[40];
	uint32_t src = inet_addr("192.168.0.2"), dst = inet_addr("192.168.0.1");
	size_t olen, tl;
	uint64_t paws = 1, rsts = 1;
	int err = -1;
	socklen_t elen = sizeof(err);

	ASSERT(st);
	ASSERT_EQ(ips_cbdev_new(st, "tun0", 1500, syn_cap_out, &cap), 0);
	ASSERT_EQ(ips_addr_add(st, "tun0", "192.168.0.1/24"), 0);
	ASSERT_EQ(ips_world_now_ns(w), 0);
	ips_stack_enter(st);
	int c = ips_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	ASSERT(c >= 0);
	peer.sin_addr.s_addr = src;
	ASSERT(ips_connect(c, (struct sockaddr *)&peer, sizeof(peer)) < 0 && errno == EINPROGRESS);
	ips_world_run_for(w, 1500000000ull);	/* the SYN again at 1 s */
	ASSERT_EQ(cap.syns, 2);
	/* the peer's SYN-ACK, echoing the first SYN */
	o.has_mss = true;
	o.mss = 1460;
	o.has_ts = true;
	o.tsval = 100;
	o.tsecr = cap.tsval;
	olen = wire_tcp_opts_emit(opts, &o);
	h.sport = 80;
	h.dport = cap.sport;
	h.seq = 5000;
	h.ack = cap.iss + 1;
	h.flags = WIRE_TCP_SYN | WIRE_TCP_ACK;
	h.window = 65535;
	h.opts = opts;
	h.opts_len = (uint8_t)olen;
	tl = wire_tcp_emit(th, &h);
	b[0] = 0x45;
	b[2] = (uint8_t)((20 + tl) >> 8);
	b[3] = (uint8_t)(20 + tl);
	b[8] = 64;
	b[9] = IPPROTO_TCP;
	memcpy(b + 12, &src, 4);
	memcpy(b + 16, &dst, 4);
	{
		uint16_t ck = ips_csum_fold(ips_csum_add(0, b, 20));	/* host order */

		b[10] = (uint8_t)(ck >> 8);
		b[11] = (uint8_t)ck;
	}
	wire_tcp_csum_fill(th, tl, src, dst);
	ASSERT_EQ(ips_cbdev_inject(st, "tun0", b, 20 + tl), 0);
	ips_world_run_for(w, 10000000ull);
	ips_getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &elen);
	ips_counter_get(st, "TcpExtPAWSActive", &paws);
	ips_counter_get(st, "TcpOutRsts", &rsts);
	CHECK_EQ(err, 0);
	CHECK_EQ(paws, 0);
	CHECK_EQ(rsts, 0);
	CHECK_EQ(cap.rsts, 0);
	CHECK_EQ(cap.acks, 1);
	ips_close(c);
	ips_world_free(w);
}

TEST_MAIN

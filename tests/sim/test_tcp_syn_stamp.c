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

TEST_MAIN

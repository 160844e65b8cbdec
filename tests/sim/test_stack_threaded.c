/* Threaded stacks: a timer that an application thread arms (a frame delayed by an
 * impaired link, a retransmission) fires on time even though the stack's own thread is
 * asleep in poll() with no deadline of its own. */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "ipstack/ipstack.h"

static int udp_roundtrip(uint32_t delay_us, int *got)
{
	ips_stack *a = ips_stack_new(NULL), *b = ips_stack_new(NULL);
	struct ips_link_config link = { .mtu = 1500, .impair = { .delay_us = delay_us } };
	struct sockaddr_in sb = { .sin_family = AF_INET, .sin_port = htons(5000) };
	struct timeval tv = { .tv_sec = 5 };
	char buf[16];
	int sa, sbk, rc = -1;

	*got = -1;
	if (!a || !b || ips_memlink_new(a, "eth0", b, "eth0", &link) < 0 ||
	    ips_addr_add(a, "eth0", "10.0.0.1/24") < 0 || ips_addr_add(b, "eth0", "10.0.0.2/24") < 0)
		goto out;
	inet_pton(AF_INET, "10.0.0.2", &sb.sin_addr);
	ips_stack_enter(b);
	sbk = ips_socket(AF_INET, SOCK_DGRAM, 0);
	if (sbk < 0 || ips_bind(sbk, (struct sockaddr *)&sb, sizeof(sb)) < 0 ||
	    ips_setsockopt(sbk, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		goto out;
	ips_stack_enter(a);
	sa = ips_socket(AF_INET, SOCK_DGRAM, 0);
	/* The first datagram waits for ARP (whose frames are delayed too); the stacks'
	 * threads are asleep with nothing due when sendto() arms the delay timer. */
	if (sa < 0 || ips_sendto(sa, "ping", 4, 0, (struct sockaddr *)&sb, sizeof(sb)) != 4)
		goto out;
	*got = (int)ips_recv(sbk, buf, sizeof(buf), 0);
	rc = 0;
	ips_close(sa);
	ips_close(sbk);
out:
	ips_stack_free(a);
	ips_stack_free(b);
	return rc;
}

TEST(timer_armed_by_an_api_call_wakes_a_sleeping_loop)
{
	int got;

	ASSERT_EQ(udp_roundtrip(1000, &got), 0);
	CHECK_EQ(got, 4);	/* -1 (EAGAIN after 5 s) when the loop slept through */
}

TEST(timer_armed_by_an_api_call_on_an_undelayed_link)
{
	int got;

	ASSERT_EQ(udp_roundtrip(0, &got), 0);
	CHECK_EQ(got, 4);
}

TEST_MAIN

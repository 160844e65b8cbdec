/* UDP on one simulated stack over `lo`: datagrams both ways, port unreachable counted and
 * answered, ECONNREFUSED on a connected socket, connect(AF_UNSPEC). */
#include <arpa/inet.h>
#include <errno.h>
#include <ipstack/ipstack.h>
#include <string.h>

#include "support/support.h"
#include "test.h"

static uint64_t counter(ips_stack *st, const char *name)
{
	uint64_t v = 0;

	ips_counter_get(st, name, &v);
	return v;
}

TEST(udp_loopback_echo)
{
	ips_world *w = ips_world_new(1);
	ips_stack *st = ips_world_add_stack(w, "a");
	struct sockaddr_in a = sin4("127.0.0.1", 7000), from;
	socklen_t fl = sizeof(from);
	char buf[64];

	ASSERT(st);
	ips_stack_enter(st);
	int s = ips_socket(AF_INET, SOCK_DGRAM, 0);
	int c = ips_socket(AF_INET, SOCK_DGRAM, 0);

	ASSERT(s >= IPS_FD_BASE && c >= IPS_FD_BASE);
	CHECK_EQ(ips_bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ(ips_sendto(c, "hello", 5, 0, (struct sockaddr *)&a, sizeof(a)), 5);
	CHECK_EQ(ips_recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 5);
	CHECK_MEM(buf, "hello", 5);
	CHECK_EQ(fl, sizeof(from));
	CHECK_EQ(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	/* and back to the autobound port */
	CHECK_EQ(ips_sendto(s, "back", 4, 0, (struct sockaddr *)&from, fl), 4);
	CHECK_EQ(ips_recv(c, buf, sizeof(buf), 0), 4);
	CHECK_EQ(counter(st, "UdpInDatagrams"), 2);
	CHECK_EQ(counter(st, "UdpOutDatagrams"), 2);
	CHECK_EQ(ips_close(s), 0);
	CHECK_EQ(ips_close(c), 0);
	CHECK_EQ(ips_close(c), -1);
	CHECK_EQ(errno, EBADF);
	ips_stack_enter(NULL);
	ips_world_run_for(w, 1000000);
	CHECK_EQ(ips_stack_pkb_outstanding(st), 0);
	ips_world_free(w);
}

TEST(udp_port_unreachable_refuses_connected)
{
	ips_world *w = ips_world_new(2);
	ips_stack *st = ips_world_add_stack(w, "a");
	struct sockaddr_in a = sin4("127.0.0.1", 9999);
	char buf[8];

	ips_stack_enter(st);
	int c = ips_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	CHECK_EQ(ips_connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ(ips_send(c, "x", 1, 0), 1);
	ips_world_run_for(w, 1000000);
	CHECK_EQ(counter(st, "UdpNoPorts"), 1);
	CHECK_EQ(ips_recv(c, buf, sizeof(buf), 0), -1);
	CHECK_EQ(errno, ECONNREFUSED);
	CHECK_EQ(ips_recv(c, buf, sizeof(buf), 0), -1);
	CHECK_EQ(errno, EAGAIN);
	/* dissolve the association: unconnected sockets ignore port unreachable */
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };

	CHECK_EQ(ips_connect(c, &unspec, sizeof(unspec)), 0);
	CHECK_EQ(ips_sendto(c, "x", 1, 0, (struct sockaddr *)&a, sizeof(a)), 1);
	ips_world_run_for(w, 1000000);
	CHECK_EQ(counter(st, "UdpNoPorts"), 2);
	CHECK_EQ(ips_recv(c, buf, sizeof(buf), 0), -1);
	CHECK_EQ(errno, EAGAIN);
	ips_close(c);
	ips_stack_enter(NULL);
	CHECK_EQ(ips_stack_pkb_outstanding(st), 0);
	ips_world_free(w);
}

TEST_MAIN

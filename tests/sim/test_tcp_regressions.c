/* TCP regressions, each pinned by the scenario that showed it (simulated world, virtual
 * clock).
 *
 * Teardown: freeing a world (ips_world_free) or a stack while TCP still has objects in
 * every state -- a listener with children it has not handed out (SYN_RECV requests,
 * ESTABLISHED children with data), TIME_WAIT, orphans in FIN_WAIT1/FIN_WAIT2, sockets
 * the application still holds -- frees everything without touching freed memory
 * (tcp_fini used to free a child before its listener's accept queue let go of it) and
 * without sending; the application's descriptors then answer EBADF and close cleanly.
 * Run under ASan (make BUILD=build/asan SAN=...) for the memory half of the checks. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

#include "core/stack.h"
#include "link/netdev.h"
#include "support/support.h"
#include "test.h"
#include "transport/tcp.h"

#define SA(x) ((struct sockaddr *)&(x))

static int listener(ips_stack *st, int port, int backlog)
{
	struct sockaddr_in a = sin4("0.0.0.0", port);

	ips_stack_enter(st);
	int l = ips_socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || ips_bind(l, SA(a), sizeof(a)) < 0 || ips_listen(l, backlog) < 0)
		return -1;
	return l;
}

/* A connects to B:port (blocking: the handshake runs the world). */
static int connect_to_b(ips_stack *a, int port)
{
	struct sockaddr_in dst = sin4("10.0.0.2", port);

	ips_stack_enter(a);
	int c = ips_socket(AF_INET, SOCK_STREAM, 0);

	if (c < 0 || ips_connect(c, SA(dst), sizeof(dst)) < 0)
		return -1;
	return c;
}

/* st's eth0 loses every frame, both ways. */
static void drop_everything_at(ips_stack *st)
{
	struct ips_impair imp = { .loss_pct = 100 };

	ips_dev_set_impair(st, "eth0", &imp);
}

/* TCP's own teardown on a quiet stack releases every buffer it held (the receive and
 * out-of-order queues of children nobody accepted, of sockets still open). */
static void check_tcp_fini_releases_buffers(ips_stack *st)
{
	tcp_fini(st);		/* stack_destroy() calls it first; a second call is a no-op */
	CHECK_EQ(ips_stack_pkb_outstanding(st), 0);
}

TEST(teardown_listener_with_unaccepted_established_children)
{
	ips_world *w = ips_world_new(11);
	ips_stack *a, *b;
	char data[3000];

	ASSERT_EQ(two_hosts(w, &a, &b, NULL), 0);
	int l = listener(b, 80, 8);

	ASSERT(l >= 0);
	memset(data, 'x', sizeof(data));
	for (int i = 0; i < 3; i++) {
		int c = connect_to_b(a, 80);

		ASSERT(c >= 0);
		ips_stack_enter(a);
		CHECK_EQ(ips_send(c, data, sizeof(data), 0), (long)sizeof(data));
	}
	ips_world_run_for(w, SEC(1));
	CHECK_EQ(test_counter(b, "TcpPassiveOpens"), 3);
	CHECK(ips_stack_pkb_outstanding(b) > 0);	/* the children's unread data */
	check_tcp_fini_releases_buffers(b);
	ips_stack_enter(NULL);
	ips_world_free(w);
	/* the descriptors outlive the stack: EBADF, then a clean close */
	CHECK_EQ(ips_send(l, "x", 1, 0), -1);
	CHECK_EQ(errno, EBADF);
	CHECK_EQ(ips_close(l), 0);
}

TEST(teardown_world_free_with_unaccepted_child)
{
	ips_world *w = ips_world_new(12);
	ips_stack *a, *b;

	ASSERT_EQ(two_hosts(w, &a, &b, NULL), 0);
	ASSERT(listener(b, 80, 8) >= 0);
	ASSERT(connect_to_b(a, 80) >= 0);
	ips_stack_enter(a);
	ips_world_run_for(w, SEC(1));
	ips_stack_enter(NULL);
	ips_world_free(w);	/* crashed in tcp_fini -> tcp_listen_flush (use after free) */
}

TEST(teardown_with_requests_in_syn_recv)
{
	ips_world *w = ips_world_new(13);
	ips_stack *a, *b;
	int defer = 30;		/* TCP_DEFER_ACCEPT: a bare ACK leaves the request waiting */
	int l;

	ASSERT_EQ(two_hosts(w, &a, &b, NULL), 0);
	l = listener(b, 80, 8);
	ASSERT(l >= 0);
	ASSERT(connect_to_b(a, 80) >= 0);	/* one ESTABLISHED child */
	ips_stack_enter(b);
	CHECK_EQ(ips_setsockopt(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer)), 0);
	for (int i = 0; i < 3; i++)
		ASSERT(connect_to_b(a, 80) >= 0);
	ips_world_run_for(w, SEC(2));
	CHECK_EQ(test_counter(b, "TcpPassiveOpens"), 1);
	CHECK_EQ(test_counter(b, "TcpExtTCPDeferAcceptDrop"), 3);
	ips_stack_enter(NULL);
	ips_world_free(w);
}

TEST(teardown_with_time_wait_and_fin_wait_orphans)
{
	ips_world *w = ips_world_new(14);
	ips_stack *a, *b;
	int l, c1, c2, c3, s1, s2, s3;
	int linger2 = 120;	/* > TCP_TIMEWAIT_LEN: FIN_WAIT2 stays a full orphan socket */
	char buf[16];

	ASSERT_EQ(two_hosts(w, &a, &b, NULL), 0);
	l = listener(b, 80, 8);
	ASSERT(l >= 0);
	c1 = connect_to_b(a, 80);
	c2 = connect_to_b(a, 80);
	c3 = connect_to_b(a, 80);
	ASSERT(c1 >= 0 && c2 >= 0 && c3 >= 0);
	ips_stack_enter(b);
	s1 = ips_accept(l, NULL, NULL);
	s2 = ips_accept(l, NULL, NULL);
	s3 = ips_accept(l, NULL, NULL);
	ASSERT(s1 >= 0 && s2 >= 0 && s3 >= 0);
	/* c1: TIME_WAIT at A (A closes first, B answers with its FIN) */
	ips_stack_enter(a);
	CHECK_EQ(ips_close(c1), 0);
	ips_stack_enter(b);
	CHECK_EQ(ips_recv(s1, buf, sizeof(buf), 0), 0);
	CHECK_EQ(ips_close(s1), 0);
	/* c2: an orphan in FIN_WAIT2 (B never closes) */
	ips_stack_enter(a);
	CHECK_EQ(ips_setsockopt(c2, IPPROTO_TCP, TCP_LINGER2, &linger2, sizeof(linger2)), 0);
	CHECK_EQ(ips_close(c2), 0);
	ips_world_run_for(w, SEC(1));
	/* c3: an orphan in FIN_WAIT1 with data unacknowledged (nothing reaches B) */
	drop_everything_at(a);
	ips_stack_enter(a);
	CHECK_EQ(ips_send(c3, "data", 4, 0), 4);
	CHECK_EQ(ips_close(c3), 0);
	ips_world_run_for(w, SEC(1));
	CHECK_EQ(tcp_count_timewait(a), 1);
	CHECK_EQ(tcp_count_socks(a), 2);	/* the FIN_WAIT2 and FIN_WAIT1 orphans */
	/* Nothing of A's TCP holds a buffer once every socket is closed. */
	CHECK_EQ(ips_stack_pkb_outstanding(a), 0);
	ips_stack_enter(NULL);
	ips_world_free(w);
	/* B's sockets were still open: the descriptors answer EBADF and close */
	CHECK_EQ(ips_recv(s2, buf, sizeof(buf), MSG_DONTWAIT), -1);
	CHECK_EQ(errno, EBADF);
	CHECK_EQ(ips_close(s2), 0);
	CHECK_EQ(ips_close(s3), 0);
	CHECK_EQ(ips_close(l), 0);
}

TEST(teardown_stack_free_with_open_sockets_and_data)
{
	ips_world *w = ips_world_new(15);
	ips_stack *a, *b;
	static char data[200000];
	int l, c, s;

	ASSERT_EQ(two_hosts(w, &a, &b, NULL), 0);
	l = listener(b, 80, 8);
	ASSERT(l >= 0);
	c = connect_to_b(a, 80);
	ASSERT(c >= 0);
	ips_stack_enter(b);
	s = ips_accept(l, NULL, NULL);
	ASSERT(s >= 0);
	/* B's receive queue fills (nobody reads), A's send ring holds the rest */
	ips_stack_enter(a);
	int fl = MSG_DONTWAIT;
	long sent = ips_send(c, data, sizeof(data), fl);

	CHECK(sent > 0);
	ips_world_run_for(w, SEC(2));
	CHECK(ips_stack_pkb_outstanding(b) > 0);
	check_tcp_fini_releases_buffers(b);
	check_tcp_fini_releases_buffers(a);
	ips_stack_enter(NULL);
	ips_world_free(w);
	CHECK_EQ(ips_close(c), 0);
	CHECK_EQ(ips_close(s), 0);
	CHECK_EQ(ips_close(l), 0);
}

/* ---- A full device queue is told to the sender ----
 * A link's transmit queue (the impairment engine's, netem's limit of 1000 packets) that
 * is full drops the frame, counts it in the device's tx_dropped and tells the sender at
 * once, as a qdisc's NET_XMIT_DROP reaches ip_local_out()'s caller in Linux: UDP counts
 * SndbufErrors (and says ENOBUFS only with IP_RECVERR), TCP does not count the segment
 * as sent. The drops used to be silent and counted nowhere. */
static uint64_t dev_drops(ips_stack *st, const char *ifname, bool tx)
{
	struct netdev *dev = stack_dev_by_name(st, ifname);

	return dev ? (tx ? dev->tx_dropped : dev->rx_dropped) : UINT64_MAX;
}

TEST(full_tx_queue_drop_is_counted_and_reported)
{
	struct ips_link_config cfg = { .impair = { .delay_us = 1000, .queue_limit = 10 } };
	ips_world *w = ips_world_new(21);
	ips_stack *a, *b;
	struct sockaddr_in dst = sin4("10.0.0.2", 9);
	int one = 1, u;

	ASSERT_EQ(two_hosts(w, &a, &b, &cfg), 0);
	ips_stack_enter(a);
	u = ips_socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT(u >= 0);
	CHECK_EQ(ips_sendto(u, "x", 1, 0, SA(dst), sizeof(dst)), 1);	/* resolves ARP */
	ips_world_run_for(w, SEC(1));
	/* 15 datagrams in one instant: 10 wait in the queue, 5 are dropped */
	for (int i = 0; i < 15; i++)
		CHECK_EQ(ips_sendto(u, "x", 1, 0, SA(dst), sizeof(dst)), 1);
	CHECK_EQ(dev_drops(a, "eth0", true), 5);
	CHECK_EQ(test_counter(a, "UdpSndbufErrors"), 5);
	CHECK_EQ(test_counter(a, "UdpOutDatagrams"), 11);
	/* with IP_RECVERR the sender hears ENOBUFS */
	CHECK_EQ(ips_setsockopt(u, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)), 0);
	CHECK_EQ(ips_sendto(u, "x", 1, 0, SA(dst), sizeof(dst)), -1);
	CHECK_EQ(errno, ENOBUFS);
	CHECK_EQ(dev_drops(a, "eth0", true), 6);
	ips_world_run_for(w, SEC(1));
	CHECK_EQ(test_counter(b, "UdpNoPorts"), 11);
	ips_close(u);
	ips_stack_enter(NULL);
	ips_world_run_for(w, SEC(1));
	CHECK_EQ(ips_stack_pkb_outstanding(a), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(b), 0);
	ips_world_free(w);
}

/* ---- Retransmissions on a clean path ----
 * The demo's world: A --link1 (0.1 ms each way, MTU 1500)-- R --link2 (20 ms each way,
 * MTU 1000)-- B, nothing lost on the wire; l1_limit/l2_limit: each link's transmit queue
 * (0 = netem's 1000). */
static int demo_world(ips_world *w, ips_stack **a, ips_stack **r, ips_stack **b, uint32_t l1_limit,
		      uint32_t l2_limit)
{
	struct ips_link_config l1 = { .mtu = 1500,
				      .impair = { .delay_us = 100, .queue_limit = l1_limit } };
	struct ips_link_config l2 = { .mtu = 1000,
				      .impair = { .delay_us = 20000, .queue_limit = l2_limit } };
	int err;

	*a = ips_world_add_stack(w, "a");
	*r = ips_world_add_stack(w, "r");
	*b = ips_world_add_stack(w, "b");
	if (!*a || !*r || !*b)
		return -1;
	err = ips_memlink_new(*a, "eth0", *r, "eth0", &l1);
	if (!err)
		err = ips_memlink_new(*r, "eth1", *b, "eth0", &l2);
	if (!err)
		err = ips_dev_set_up(*a, "eth0", 1) ?: ips_dev_set_up(*r, "eth0", 1) ?:
		      ips_dev_set_up(*r, "eth1", 1) ?: ips_dev_set_up(*b, "eth0", 1);
	if (!err)
		err = ips_addr_add(*a, "eth0", "10.0.1.2/24") ?:
		      ips_addr_add(*r, "eth0", "10.0.1.1/24") ?:
		      ips_addr_add(*r, "eth1", "10.0.2.1/24") ?:
		      ips_addr_add(*b, "eth0", "10.0.2.2/24");
	if (!err)
		err = ips_route_add_str(*a, "default via 10.0.1.1") ?:
		      ips_route_add_str(*b, "default via 10.0.2.1") ?:
		      ips_sysctl_set(*r, "net.ipv4.ip_forward", "1");
	return err;
}

/* A sends n bytes to baddr:port (B) over a fresh connection (non-blocking, both ends driven here
 * as the demo does); returns the bytes B received. */
static long transfer(ips_world *w, ips_stack *a, ips_stack *b, const char *baddr, int port,
		     long n)
{
	static char buf[65536];
	struct sockaddr_in dst = sin4(baddr, port);
	long sent = 0, got = 0;
	int l = listener(b, port, 4), c, s = -1;

	ips_stack_enter(a);
	c = ips_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (l < 0 || c < 0)
		return -1;
	ips_connect(c, SA(dst), sizeof(dst));
	for (int rounds = 0; got < n && rounds < 1000000; rounds++) {
		long k;

		if (s < 0) {
			ips_stack_enter(b);
			s = ips_accept4(l, NULL, NULL, SOCK_NONBLOCK);
		}
		ips_stack_enter(a);
		while (sent < n && (k = ips_send(c, buf, (size_t)(n - sent < (long)sizeof(buf) ?
							  n - sent : (long)sizeof(buf)), 0)) > 0)
			sent += k;
		if (s >= 0) {
			ips_stack_enter(b);
			while ((k = ips_recv(s, buf, sizeof(buf), 0)) > 0)
				got += k;
		}
		ips_world_run_for(w, MS(1));
	}
	ips_stack_enter(a);
	ips_close(c);
	ips_stack_enter(b);
	if (s >= 0)
		ips_close(s);
	ips_close(l);
	ips_world_run_for(w, SEC(1));
	return got;
}

static uint64_t delta(ips_stack *st, const char *name, uint64_t before)
{
	return test_counter(st, name) - before;
}

static void finish3(ips_world *w, ips_stack *a, ips_stack *r, ips_stack *b)
{
	ips_stack_enter(NULL);
	ips_world_run_for(w, SEC(120));
	CHECK_EQ(ips_stack_pkb_outstanding(a), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(r), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(b), 0);
	ips_world_free(w);
}

/* 4 MiB across the demo's path once A knows the path MTU, with A's own link1 queue
 * small (100 packets) so that a window sent in one instant of virtual time overflows
 * it, as it did at 1000 packets in `ipstack demo --loss 0`: the sender is told
 * (NET_XMIT_DROP), the segment was not sent and waits, TCP enters CWR (local
 * congestion) -- and nothing is retransmitted, since nothing left and was lost. The
 * drops used to be counted as sent segments, found missing by SACK and
 * fast-retransmitted: 858 TCPFastRetrans in the demo. */
TEST(clean_path_full_sender_queue_no_retransmissions)
{
	ips_world *w = ips_world_new(1);
	ips_stack *a, *r, *b;
	uint64_t retr, fast, slow, probes, rto;

	ASSERT_EQ(demo_world(w, &a, &r, &b, 100, 10000), 0);
	ASSERT_EQ(transfer(w, a, b, "10.0.2.2", 5000, 100000), 100000);
	retr = test_counter(a, "TcpRetransSegs");
	fast = test_counter(a, "TcpExtTCPFastRetrans");
	slow = test_counter(a, "TcpExtTCPSlowStartRetrans");
	probes = test_counter(a, "TcpExtTCPLossProbes");
	rto = test_counter(a, "TcpExtTCPTimeouts");
	ASSERT_EQ(transfer(w, a, b, "10.0.2.2", 5001, 4 << 20), 4 << 20);
	CHECK(dev_drops(a, "eth0", true) > 0);		/* A's own queue overflowed */
	CHECK_EQ(dev_drops(r, "eth1", true), 0);	/* nothing lost after it */
	CHECK_EQ(delta(a, "TcpRetransSegs", retr), 0);
	CHECK_EQ(delta(a, "TcpExtTCPFastRetrans", fast), 0);
	CHECK_EQ(delta(a, "TcpExtTCPSlowStartRetrans", slow), 0);
	CHECK_EQ(delta(a, "TcpExtTCPLossProbes", probes), 0);
	CHECK_EQ(delta(a, "TcpExtTCPTimeouts", rto), 0);
	CHECK_EQ(test_counter(a, "TcpExtTCPRetransFail"), 0);
	finish3(w, a, r, b);
}

/* The demo's link2 queue (netem's 1000, 20 ms, no rate) holds at most 1000 packets in
 * flight: slow start grows the window past it and R's queue drops -- real losses of
 * forwarded packets, which R now counts (eth1 tx_dropped) and A retransmits: every
 * retransmission answers a drop. */
TEST(router_queue_overflow_is_counted_and_retransmitted)
{
	ips_world *w = ips_world_new(1);
	ips_stack *a, *r, *b;

	ASSERT_EQ(demo_world(w, &a, &r, &b, 0, 0), 0);
	ASSERT_EQ(transfer(w, a, b, "10.0.2.2", 5000, 100000), 100000);
	ASSERT_EQ(test_counter(a, "TcpRetransSegs"), 0);
	ASSERT_EQ(transfer(w, a, b, "10.0.2.2", 5001, 4 << 20), 4 << 20);
	CHECK(dev_drops(r, "eth1", true) > 0);
	CHECK(test_counter(a, "TcpRetransSegs") >= dev_drops(r, "eth1", true));
	finish3(w, a, r, b);
}

/* A --(MTU 1500)-- R1 --(MTU 1000, 20 ms each way)-- R2 --(MTU 1500)-- B: both ends offer
 * MSS 1460 (1448 with timestamps), so A learns the path MTU from R1's Frag Needed. */
static int mtu_step_world(ips_world *w, ips_stack **s)
{
	const uint32_t mtus[3] = { 1500, 1000, 1500 };
	struct ips_impair mid = { .delay_us = 20000, .queue_limit = 10000 };

	if (chain_world(w, 4, mtus, s))
		return -1;
	return ips_dev_set_impair(s[1], "eth1", &mid);	/* R1's side: both directions */
}

/* The same path with A sending segment by segment, as from a NIC without TSO (memlinks
 * take super-packets by default, as veth; R1 then answers each super-packet once). */
static int mtu_step_world_no_tso(ips_world *w, ips_stack **s)
{
	if (mtu_step_world(w, s))
		return -1;
	return ips_dev_set_offload(s[0], "eth0", 0);
}

/* What Linux does at the MTU step: the initial window (10 segments of 1448 bytes) goes
 * out, R1 answers each with Frag Needed (mtu 1000; never rate-limited:
 * icmpv4_xrlim_allow() exempts PMTU discovery). The first one: tcp_v4_mtu_reduced()
 * -> tcp_sync_mss() (MSS 948) -> tcp_simple_retransmit(): every segment longer than
 * the new MSS is marked lost, the state becomes CA_Loss with high_seq = snd_nxt and the
 * window untouched ("we do not increase amount of data in network") and
 * tcp_xmit_retransmit_queue() resends them, each as 948 + 500 bytes, counted in
 * TcpRetransSegs and, being in CA_Loss, in TCPSlowStartRetrans -- not TCPFastRetrans;
 * no RTO, no loss probe. The other nine find the MTU already at 1000 and do nothing.
 * From then on the path is clean: nothing else is retransmitted. (1 MiB: slow start's
 * largest burst stays under the 1000 frames a receive backlog holds -- netdev_max_backlog
 * -- since these links have no rate to spread a window out.) */
TEST(mtu_step_is_a_simple_retransmit)
{
	ips_world *w = ips_world_new(1);
	ips_stack *s[4];

	ASSERT_EQ(mtu_step_world_no_tso(w, s), 0);
	ASSERT_EQ(transfer(w, s[0], s[3], "10.0.3.2", 5000, 1 << 20), 1 << 20);
	CHECK_EQ(test_counter(s[0], "IcmpInDestUnreachs"), 10);
	CHECK_EQ(test_counter(s[0], "TcpRetransSegs"), 20);
	CHECK_EQ(test_counter(s[0], "TcpExtTCPSlowStartRetrans"), 20);
	CHECK_EQ(test_counter(s[0], "TcpExtTCPFastRetrans"), 0);
	CHECK_EQ(test_counter(s[0], "TcpExtTCPTimeouts"), 0);
	CHECK_EQ(test_counter(s[0], "TcpExtTCPLossProbes"), 0);
	CHECK_EQ(test_counter(s[0], "TcpExtTCPLossUndo"), 0);
	CHECK_EQ(test_counter(s[0], "TcpExtTCPRetransFail"), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(dev_drops(s[i], i ? "eth1" : "eth0", true), 0);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(dev_drops(s[i], "eth0", false), 0);
	ips_stack_enter(NULL);
	ips_world_run_for(w, SEC(120));
	for (int i = 0; i < 4; i++)
		CHECK_EQ(ips_stack_pkb_outstanding(s[i]), 0);
	ips_world_free(w);
}

/* The same step with TSO on A's link: the initial window leaves in super-packets whose
 * segments are all too big for R1's next hop. R1 answers each super-packet with one
 * Frag Needed (ip_exceeds_mtu() checks a GSO packet by its segments:
 * skb_gso_validate_network_len()), so A hears fewer than ten; the first lowers the MSS
 * and the simple retransmission is the same as segment by segment: each of the ten
 * 1448-byte segments again as 948 + 500. The super-packets are sent with DF (it is
 * decided by the segments' size, not the super-packet's): none is fragmented. */
TEST(mtu_step_with_tso_one_frag_needed_per_super_packet)
{
	ips_world *w = ips_world_new(1);
	ips_stack *s[4];
	uint64_t icmps;

	ASSERT_EQ(mtu_step_world(w, s), 0);
	ASSERT_EQ(ips_dev_get_offload(s[0], "eth0"), (int)(IPS_OFFLOAD_CSUM | IPS_OFFLOAD_TSO));
	ASSERT_EQ(transfer(w, s[0], s[3], "10.0.3.2", 5000, 1 << 20), 1 << 20);
	icmps = test_counter(s[0], "IcmpInDestUnreachs");
	CHECK(icmps >= 1 && icmps < 10);
	CHECK_EQ(test_counter(s[1], "IpFragFails"), icmps);
	CHECK_EQ(test_counter(s[1], "IpFragCreates"), 0);
	CHECK_EQ(test_counter(s[0], "TcpRetransSegs"), 20);
	CHECK_EQ(test_counter(s[0], "TcpExtTCPSlowStartRetrans"), 20);
	CHECK_EQ(test_counter(s[0], "TcpExtTCPFastRetrans"), 0);
	CHECK_EQ(test_counter(s[0], "TcpExtTCPTimeouts"), 0);
	CHECK_EQ(test_counter(s[0], "TcpExtTCPLossProbes"), 0);
	CHECK_EQ(test_counter(s[0], "TcpExtTCPRetransFail"), 0);
	/* super-packets went: fewer transmissions than segments */
	CHECK(stack_dev_by_name(s[0], "eth0")->tx_packets < test_counter(s[0], "TcpOutSegs"));
	ips_stack_enter(NULL);
	ips_world_run_for(w, SEC(120));
	for (int i = 0; i < 4; i++)
		CHECK_EQ(ips_stack_pkb_outstanding(s[i]), 0);
	ips_world_free(w);
}

TEST_MAIN

/* icmp_send() (Linux's __icmp_send()) on hand-made received packets: what is never
 * answered, the source address, and the host-wide limiter's exact cases. b answers
 * packets "from" a (10.0.0.1) that arrived on its eth0; a's listener sees the errors. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <string.h>

#include "test.h"
#include "support/support.h"
#include "core/stack.h"
#include "ip/icmp.h"
#include "ip/ip.h"
#include "link/netdev.h"
#include "wire/wire.h"

static ips_world *W;
static ips_stack *SA, *SB;

struct seen {
	struct icmp_listener l;
	int n;
	uint8_t type, code;
	uint32_t from;
};
static struct seen SEEN;

static void seen_fn(void *arg, struct pkb *pkb)
{
	struct seen *s = arg;

	s->n++;
	s->type = pkb->th[0];
	s->code = pkb->th[1];
	s->from = get_in4(pkb->nh + 12);
}

static void setup(void)
{
	struct ping_result r;

	W = ips_world_new(6);
	ASSERT_EQ(two_hosts(W, &SA, &SB, NULL), 0);
	ASSERT_EQ(test_ping(SA, A("10.0.0.2"), 8, NULL, &r), 1);	/* ARP */
	memset(&SEEN, 0, sizeof(SEEN));
	SEEN.l.fn = seen_fn;
	SEEN.l.arg = &SEEN;
	icmp_listener_add(SA, &SEEN.l);
}

static void teardown(void)
{
	icmp_listener_del(SA, &SEEN.l);
	CHECK_EQ(ips_stack_pkb_outstanding(SA), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(SB), 0);
	ips_world_free(W);
}

/* A packet as b's ip4_rcv() would have left it: received on dev, to daddr. */
static struct pkb *rx(const char *dev, uint32_t saddr, uint32_t daddr, uint8_t proto,
		      const void *payload, size_t len, uint16_t frag_off, uint8_t pkt_type)
{
	struct test_ipv4 h = {
		.saddr = saddr, .daddr = daddr, .proto = proto, .frag_off = frag_off,
		.payload = payload, .len = len,
	};
	struct pkb *p = test_ipv4_build(SB, &h);
	struct netdev *d = stack_dev_by_name(SB, dev);

	p->dev = d;
	p->pkt_type = pkt_type;
	memset(IP4_CB(p), 0, sizeof(struct ip4_cb));
	IP4_CB(p)->iif = d->ifindex;
	IP4_CB(p)->flags = IP4_CB_LOCAL_UNICAST;
	return p;
}

/* b sends `type/code` about p, the world runs; returns how many a got. */
static int send_about(struct pkb *p, int type, int code, uint32_t info)
{
	int before = SEEN.n;

	stack_lock(SB);
	icmp_send(SB, p, type, code, info);
	stack_unlock(SB);
	pkb_free(p);
	test_run(W, MS(50));
	return SEEN.n - before;
}

static const uint8_t JUNK[8];

TEST(send_basic_port_unreachable)
{
	setup();
	CHECK_EQ(send_about(rx("eth0", A("10.0.0.1"), A("10.0.0.2"), 17, JUNK, 8, 0, PKB_HOST),
			    ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0), 1);
	CHECK_EQ(SEEN.type, ICMP_DEST_UNREACH);
	CHECK_EQ(SEEN.code, ICMP_PORT_UNREACH);
	CHECK_EQ(SEEN.from, A("10.0.0.2"));
	CHECK_EQ(test_counter(SB, "IcmpOutDestUnreachs"), 1);
	CHECK_EQ(test_counter(SB, "IcmpMsgOutType3"), 1);
	teardown();
}

/* The error comes from the address the packet was sent to, when it is ours. */
TEST(send_source_is_the_address_the_packet_reached)
{
	setup();
	ASSERT_EQ(ips_addr_add(SB, "eth0", "10.0.0.3/24"), 0);
	CHECK_EQ(send_about(rx("eth0", A("10.0.0.1"), A("10.0.0.3"), 17, JUNK, 8, 0, PKB_HOST),
			    ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0), 1);
	CHECK_EQ(SEEN.from, A("10.0.0.3"));
	teardown();
}

/* RFC 1122 3.2.2: not about a link-layer broadcast/multicast (pkt_type), nor a packet
 * for another host. */
TEST(send_not_for_link_broadcast_multicast_otherhost)
{
	static const uint8_t types[3] = { PKB_BROADCAST, PKB_MULTICAST, PKB_OTHERHOST };

	setup();
	for (int i = 0; i < 3; i++)
		CHECK_EQ(send_about(rx("eth0", A("10.0.0.1"), A("10.0.0.2"), 17, JUNK, 8, 0, types[i]),
				    ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0), 0);
	CHECK_EQ(test_counter(SB, "IcmpOutDestUnreachs"), 0);
	teardown();
}

/* RFC 1122 3.2.2 (e): not about a datagram whose source is not one host. */
TEST(send_not_for_bad_sources)
{
	setup();
	CHECK_EQ(send_about(rx("eth0", 0, A("10.0.0.2"), 17, JUNK, 8, 0, PKB_HOST),
			    ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0), 0);
	CHECK_EQ(send_about(rx("eth0", A("255.255.255.255"), A("10.0.0.2"), 17, JUNK, 8, 0,
			       PKB_HOST), ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0), 0);
	CHECK_EQ(send_about(rx("eth0", A("224.0.0.5"), A("10.0.0.2"), 17, JUNK, 8, 0, PKB_HOST),
			    ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0), 0);
	CHECK_EQ(test_counter(SB, "IcmpOutDestUnreachs"), 0);
	teardown();
}

/* Errors about ICMP queries are fine; about ICMP errors (and unknown types, "think
 * about it") never. A query (echo reply to an echo) may answer an error. */
TEST(send_about_icmp_queries_only)
{
	uint8_t m[8] = { 0 };

	setup();
	m[0] = ICMP_ECHO;
	CHECK_EQ(send_about(rx("eth0", A("10.0.0.1"), A("10.0.0.2"), IPPROTO_ICMP, m, 8, 0,
			       PKB_HOST), ICMP_PARAMETERPROB, 0, 0), 1);
	m[0] = ICMP_TIMESTAMP;
	CHECK_EQ(send_about(rx("eth0", A("10.0.0.1"), A("10.0.0.2"), IPPROTO_ICMP, m, 8, 0,
			       PKB_HOST), ICMP_PARAMETERPROB, 0, 0), 1);
	m[0] = ICMP_DEST_UNREACH;
	CHECK_EQ(send_about(rx("eth0", A("10.0.0.1"), A("10.0.0.2"), IPPROTO_ICMP, m, 8, 0,
			       PKB_HOST), ICMP_PARAMETERPROB, 0, 0), 0);
	m[0] = ICMP_REDIRECT;
	CHECK_EQ(send_about(rx("eth0", A("10.0.0.1"), A("10.0.0.2"), IPPROTO_ICMP, m, 8, 0,
			       PKB_HOST), ICMP_PARAMETERPROB, 0, 0), 0);
	m[0] = 50;
	CHECK_EQ(send_about(rx("eth0", A("10.0.0.1"), A("10.0.0.2"), IPPROTO_ICMP, m, 8, 0,
			       PKB_HOST), ICMP_PARAMETERPROB, 0, 0), 0);
	teardown();
}

TEST(send_not_about_non_first_fragment)
{
	setup();
	CHECK_EQ(send_about(rx("eth0", A("10.0.0.1"), A("10.0.0.2"), 17, JUNK, 8, 8, PKB_HOST),
			    ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0), 0);
	teardown();
}

/* icmp_msgs_per_sec 0: the host-wide bucket never refills, so every error of a type in
 * icmp_ratemask is refused (IcmpOutRateLimitGlobal), while "fragmentation needed" and
 * types outside the mask (redirect, 5) still go. */
TEST(send_global_limit_exact_with_no_refill)
{
	setup();
	ASSERT_EQ(ips_sysctl_set(SB, "net.ipv4.icmp_msgs_per_sec", "0"), 0);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(send_about(rx("eth0", A("10.0.0.1"), A("10.0.0.2"), 17, JUNK, 8, 0,
				       PKB_HOST), ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0), 0);
	CHECK_EQ(test_counter(SB, "IcmpOutRateLimitGlobal"), 5);
	CHECK_EQ(test_counter(SB, "IcmpOutRateLimitHost"), 0);
	CHECK_EQ(send_about(rx("eth0", A("10.0.0.1"), A("10.0.0.2"), 17, JUNK, 8, 0, PKB_HOST),
			    ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, htonl(1000)), 1);
	CHECK_EQ(send_about(rx("eth0", A("10.0.0.1"), A("10.0.0.2"), 17, JUNK, 8, 0, PKB_HOST),
			    ICMP_REDIRECT, ICMP_REDIR_HOST, A("10.0.0.3")), 1);
	CHECK_EQ(test_counter(SB, "IcmpOutRateLimitGlobal"), 5);
	teardown();
}

/* A packet that came in on loopback skips the host-wide limiter (and then, in Linux's
 * order, the per-host one too). */
TEST(send_loopback_input_not_limited)
{
	setup();
	ASSERT_EQ(ips_sysctl_set(SB, "net.ipv4.icmp_msgs_per_sec", "0"), 0);
	CHECK_EQ(send_about(rx("lo", A("10.0.0.1"), A("10.0.0.2"), 17, JUNK, 8, 0, PKB_HOST),
			    ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0), 1);
	CHECK_EQ(test_counter(SB, "IcmpOutRateLimitGlobal"), 0);
	teardown();
}

/* icmp_ratelimit 0: the per-host bucket lets everything through. */
TEST(send_ratelimit_zero_unlimited)
{
	setup();
	ASSERT_EQ(ips_sysctl_set(SB, "net.ipv4.icmp_ratelimit", "0"), 0);
	for (int i = 0; i < 20; i++)
		CHECK_EQ(send_about(rx("eth0", A("10.0.0.1"), A("10.0.0.2"), 17, JUNK, 8, 0,
				       PKB_HOST), ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0), 1);
	CHECK_EQ(test_counter(SB, "IcmpOutRateLimitHost"), 0);
	teardown();
}

/* b sends n errors at the same instant, then the world runs; returns how many a got. */
static int burst(int n)
{
	int before = SEEN.n;

	stack_lock(SB);
	for (int i = 0; i < n; i++) {
		struct pkb *p = rx("eth0", A("10.0.0.1"), A("10.0.0.2"), 17, JUNK, 8, 0, PKB_HOST);

		icmp_send(SB, p, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
		pkb_free(p);
	}
	stack_unlock(SB);
	test_run(W, MS(50));
	return SEEN.n - before;
}

static void run_to(uint64_t t_ns)
{
	test_run(W, t_ns - ips_world_now_ns(W));
}

/* The per-host bucket counts jiffies (HZ 250, 4 ms): six at once, then one per
 * icmp_ratelimit (1000 ms = 250 jiffies): 996 ms later the bucket holds 249 jiffies'
 * worth, not enough; 4 ms after that, 250: one more. */
TEST(send_host_bucket_refills_one_per_ratelimit)
{
	uint64_t t0;

	setup();
	run_to((ips_world_now_ns(W) / MS(4) + 1) * MS(4));	/* a jiffy boundary */
	t0 = ips_world_now_ns(W);
	CHECK_EQ(burst(7), 6);
	run_to(t0 + MS(996));
	CHECK_EQ(burst(1), 0);
	run_to(t0 + MS(1000));
	CHECK_EQ(burst(1), 1);
	CHECK_EQ(burst(1), 0);
	CHECK_EQ(test_counter(SB, "IcmpOutRateLimitHost"), 3);
	teardown();
}

TEST_MAIN

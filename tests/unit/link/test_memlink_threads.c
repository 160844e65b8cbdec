/* Memlinks and switches between stacks that run in their own threads: frames cross
 * threads through the peers' inboxes, no stack ever waits for another's lock, and a
 * stack can go away while its peer keeps sending. Waits are bounded liveness checks. */
#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <netinet/ip_icmp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "core/stack.h"
#include "ip/icmp.h"
#include "link/link.h"
#include "link/netdev.h"
#include "test.h"

TEST_MAIN

struct counter {
	struct icmp_listener l;
	atomic_int replies;
};

static void count_fn(void *arg, struct pkb *pkb)
{
	struct counter *c = arg;

	if (pkb->th[0] == ICMP_ECHOREPLY)
		atomic_fetch_add(&c->replies, 1);
}

static void counter_add(ips_stack *st, struct counter *c)
{
	atomic_init(&c->replies, 0);
	c->l.fn = count_fn;
	c->l.arg = c;
	stack_lock(st);
	icmp_listener_add(st, &c->l);
	stack_unlock(st);
}

static void counter_del(ips_stack *st, struct counter *c)
{
	stack_lock(st);
	icmp_listener_del(st, &c->l);
	stack_unlock(st);
}

static ips_stack *threaded(const char *name, uint64_t seed)
{
	struct ips_stack_config cfg = { .mode = IPS_MODE_THREADED, .name = name, .seed = seed };

	return ips_stack_new(&cfg);
}

static int ping(ips_stack *st, const char *dst, uint16_t seq)
{
	struct in_addr a;
	struct icmp_echo_req req = { .id = 9, .seq = seq, .ttl = -1, .pmtudisc = -1 };
	int rc;

	inet_pton(AF_INET, dst, &a);
	req.daddr = a.s_addr;
	stack_lock(st);
	rc = icmp_echo_send(st, &req, NULL);
	stack_unlock(st);
	return rc;
}

static bool wait_for(atomic_int *v, int n)
{
	for (int i = 0; i < 5000 && atomic_load(v) < n; i++)
		usleep(1000);
	return atomic_load(v) >= n;
}

TEST(ping_between_threaded_stacks)
{
	ips_stack *a = threaded("a", 1), *b = threaded("b", 2);
	struct counter c;

	ASSERT(a && b);
	ASSERT_EQ(ips_memlink_new(a, "eth0", b, "eth0", NULL), 0);
	ASSERT_EQ(ips_addr_add(a, "eth0", "10.0.0.1/24"), 0);
	ASSERT_EQ(ips_addr_add(b, "eth0", "10.0.0.2/24"), 0);
	counter_add(a, &c);
	ASSERT_EQ(ping(a, "10.0.0.2", 1), 0);
	CHECK(wait_for(&c.replies, 1));
	counter_del(a, &c);
	ips_stack_free(a);
	ips_stack_free(b);
}

struct pinger_arg {
	ips_stack *st;
	const char *dst;
	int n;
};

static void *pinger_thread(void *arg)
{
	struct pinger_arg *p = arg;

	for (int i = 0; i < p->n; i++) {
		ping(p->st, p->dst, (uint16_t)i);
		if (i % 50 == 49)
			usleep(1000);	/* let the backlogs drain: this is not a flood test */
	}
	return NULL;
}

TEST(both_directions_at_once_never_deadlock)
{
	ips_stack *a = threaded("a", 3), *b = threaded("b", 4);
	struct counter ca, cb;
	pthread_t ta, tb;
	struct pinger_arg pa = { a, "10.0.0.2", 500 }, pb = { b, "10.0.0.1", 500 };

	ASSERT(a && b);
	ASSERT_EQ(ips_memlink_new(a, "eth0", b, "eth0", NULL), 0);
	ASSERT_EQ(ips_addr_add(a, "eth0", "10.0.0.1/24"), 0);
	ASSERT_EQ(ips_addr_add(b, "eth0", "10.0.0.2/24"), 0);
	counter_add(a, &ca);
	counter_add(b, &cb);
	/* Resolve first, so that nothing waits in ARP queues. */
	ping(a, "10.0.0.2", 9999);
	ASSERT(wait_for(&ca.replies, 1));
	pthread_create(&ta, NULL, pinger_thread, &pa);
	pthread_create(&tb, NULL, pinger_thread, &pb);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	CHECK(wait_for(&ca.replies, 1 + 500));
	CHECK(wait_for(&cb.replies, 500));
	counter_del(a, &ca);
	counter_del(b, &cb);
	ips_stack_free(a);
	ips_stack_free(b);
}

TEST(peer_freed_while_sending)
{
	ips_stack *a = threaded("a", 5), *b = threaded("b", 6);
	pthread_t ta;
	struct pinger_arg pa = { a, "10.0.0.2", 2000 };

	ASSERT(a && b);
	ASSERT_EQ(ips_memlink_new(a, "eth0", b, "eth0", NULL), 0);
	ASSERT_EQ(ips_addr_add(a, "eth0", "10.0.0.1/24"), 0);
	ASSERT_EQ(ips_addr_add(b, "eth0", "10.0.0.2/24"), 0);
	uint8_t mac[6];

	/* A static entry: every ping goes straight onto the link, no ARP. */
	ASSERT_EQ(ips_dev_hwaddr(b, "eth0", mac), 0);
	stack_lock(a);
	CHECK_EQ(neigh_add_static(stack_dev_by_name(a, "eth0"), inet_addr("10.0.0.2"), mac,
				  NUD_PERMANENT), 0);
	stack_unlock(a);
	pthread_create(&ta, NULL, pinger_thread, &pa);
	usleep(2000);
	ips_stack_free(b);		/* a keeps sending into the void */
	pthread_join(ta, NULL);
	CHECK(stack_dev_by_name(a, "eth0")->tx_packets > 0);
	CHECK_EQ(ips_stack_pkb_outstanding(a), 0);
	ips_stack_free(a);
}

TEST(switch_between_threaded_stacks)
{
	ips_stack *s[3];
	struct counter c;
	ips_memswitch *sw = ips_memswitch_new(NULL);

	ASSERT(sw);
	for (int i = 0; i < 3; i++) {
		char cidr[32];

		s[i] = threaded("s", 10 + (uint64_t)i);
		ASSERT(s[i]);
		ASSERT_EQ(ips_memswitch_add_port(sw, s[i], "eth0"), 0);
		snprintf(cidr, sizeof(cidr), "10.0.0.%d/24", i + 1);
		ASSERT_EQ(ips_addr_add(s[i], "eth0", cidr), 0);
	}
	ips_memswitch_free(sw);
	counter_add(s[0], &c);
	ping(s[0], "10.0.0.2", 1);
	ping(s[0], "10.0.0.3", 2);
	CHECK(wait_for(&c.replies, 2));
	counter_del(s[0], &c);
	for (int i = 0; i < 3; i++)
		ips_stack_free(s[i]);
}

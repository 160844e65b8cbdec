/* A memlink moves a frame's buffer into the receiving stack's pool instead of copying it
 * (as veth hands the skb to its peer); a switch flooding a frame to several ports copies
 * it for each. The pools' accounting follows the buffer. */
#include <string.h>

#include "core/stack.h"
#include "link/netdev.h"
#include "support/support.h"
#include "test.h"

/* A broadcast Ethernet frame of an unknown EtherType from st's dev, straight to the
 * driver path (netdev_xmit), as link_output() hands it on. */
static struct pkb *frame_from(ips_stack *st, const char *dev, size_t headroom, size_t len)
{
	struct pkb *p = pkb_alloc_head(&st->pool, headroom, len);
	uint8_t *b;

	if (!p)
		return NULL;
	b = pkb_put(p, len);
	memset(b, 0xff, 6);
	memcpy(b + 6, stack_dev_by_name(st, dev)->hwaddr, 6);
	b[12] = 0x88;
	b[13] = 0xb5;	/* IEEE 802 local experimental */
	test_fill(b + 14, len - 14, 1);
	return p;
}

static int xmit(ips_stack *st, const char *dev, struct pkb *p)
{
	int err;

	stack_lock(st);
	err = netdev_xmit(stack_dev_by_name(st, dev), p);
	stack_unlock(st);
	return err;
}

TEST(a_link_moves_the_buffer_to_the_receiver)
{
	ips_world *w = ips_world_new(1);
	struct ips_link_config cfg = { .mtu = 9000 };
	ips_stack *a, *b;
	struct pkb *p;
	long truesize;

	ASSERT_EQ(two_hosts(w, &a, &b, &cfg), 0);
	test_run(w, SEC(5));
	ASSERT_EQ(ips_stack_pkb_outstanding(a), 0);
	ASSERT_EQ(ips_stack_pkb_outstanding(b), 0);
	/* An odd headroom, so that only the same buffer has the same size in b. */
	p = frame_from(a, "eth0", 1000, 9014);
	ASSERT(p);
	truesize = (long)pkb_truesize(p);
	CHECK_EQ(ips_stack_pkb_outstanding(a), 1);
	CHECK_EQ(xmit(a, "eth0", p), 0);
	/* In b's inbox now, b's to account for (and to free when it has read it). */
	CHECK_EQ(ips_stack_pkb_outstanding(a), 0);
	CHECK_EQ(atomic_load(&a->pool.bytes), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(b), 1);
	CHECK_EQ(atomic_load(&b->pool.bytes), truesize);
	test_run(w, SEC(1));
	CHECK_EQ(ips_stack_pkb_outstanding(b), 0);
	CHECK_EQ(stack_dev_by_name(b, "eth0")->rx_packets, 1);
	CHECK_EQ(stack_dev_by_name(b, "eth0")->rx_bytes, 9014);
	ips_world_free(w);
}

TEST(a_switch_copies_what_it_floods)
{
	ips_world *w = ips_world_new(2);
	ips_memswitch *sw = ips_memswitch_new(NULL);
	ips_stack *s[3];
	struct pkb *p;

	ASSERT(sw);
	for (int i = 0; i < 3; i++) {
		s[i] = ips_world_add_stack(w, i == 0 ? "a" : i == 1 ? "b" : "c");
		ASSERT(s[i]);
		ASSERT_EQ(ips_memswitch_add_port(sw, s[i], "eth0"), 0);
	}
	test_run(w, SEC(5));
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(ips_stack_pkb_outstanding(s[i]), 0);
	p = frame_from(s[0], "eth0", 1000, 1514);	/* 2514 bytes: not a pool buffer */
	ASSERT(p);
	CHECK_EQ(xmit(s[0], "eth0", p), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(s[0]), 0);	/* the original is freed */
	for (int i = 1; i < 3; i++) {
		CHECK_EQ(ips_stack_pkb_outstanding(s[i]), 1);
		CHECK_EQ(atomic_load(&s[i]->pool.bytes),
			 (long)(sizeof(struct pkb) + PKB_POOL_BUFSZ));	/* a pool copy each */
	}
	test_run(w, SEC(1));
	for (int i = 0; i < 3; i++)
		CHECK_EQ(ips_stack_pkb_outstanding(s[i]), 0);
	CHECK_EQ(stack_dev_by_name(s[1], "eth0")->rx_packets, 1);
	CHECK_EQ(stack_dev_by_name(s[2], "eth0")->rx_packets, 1);
	ips_world_free(w);
	ips_memswitch_free(sw);
}

TEST_MAIN

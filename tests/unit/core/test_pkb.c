#include <pthread.h>

#include "test.h"

#include "core/csum.h"
#include "core/pkb.h"

TEST(pkb_push_pull_put_trim)
{
	struct pkb_pool pool;
	struct pkb *p;

	pkb_pool_init(&pool);
	p = pkb_alloc(&pool, 100);
	ASSERT(p);
	CHECK_EQ(pkb_headroom(p), PKB_HEADROOM);
	CHECK(pkb_tailroom(p) >= 100);
	memcpy(pkb_put(p, 4), "data", 4);
	memcpy(pkb_push(p, 2), "hd", 2);
	CHECK_EQ(p->len, 6);
	CHECK_MEM(p->data, "hddata", 6);
	pkb_pull(p, 2);
	CHECK_MEM(p->data, "data", 4);
	pkb_trim(p, 2);
	CHECK_EQ(p->len, 2);
	CHECK_EQ(atomic_load(&pool.outstanding), 1);
	pkb_free(p);
	CHECK_EQ(atomic_load(&pool.outstanding), 0);
	pkb_pool_destroy(&pool);
}

TEST(pkb_refcount_and_unshare_copies_only_when_shared)
{
	struct pkb_pool pool;
	struct pkb *p, *q;

	pkb_pool_init(&pool);
	p = pkb_alloc(&pool, 64);
	memcpy(pkb_put(p, 3), "abc", 3);
	p->nh = p->data;
	q = pkb_unshare(p);
	CHECK(q == p);	/* sole owner: no copy */
	pkb_get(p);
	q = pkb_unshare(p);	/* drops one reference, returns a copy */
	CHECK(q != p);
	CHECK_MEM(q->data, "abc", 3);
	CHECK(q->nh == q->data);
	q->data[0] = 'x';
	CHECK_EQ(p->data[0], 'a');
	CHECK_EQ(atomic_load(&pool.outstanding), 2);
	pkb_free(p);
	pkb_free(q);
	CHECK_EQ(atomic_load(&pool.outstanding), 0);
	pkb_pool_destroy(&pool);
}

TEST(pkb_large_buffers_and_queue)
{
	struct pkb_pool pool;
	struct pkb_queue q;

	pkb_pool_init(&pool);
	pkb_queue_init(&q);
	for (int i = 0; i < 5; i++) {
		struct pkb *p = pkb_alloc(&pool, i == 2 ? 70000 : 10);

		ASSERT(p);
		pkb_put(p, i == 2 ? 70000 : 10);
		pkb_queue_push(&q, p);
	}
	CHECK_EQ(q.len, 5);
	CHECK_EQ(q.bytes, 70040);
	struct pkb *first = pkb_queue_pop(&q);

	CHECK_EQ(first->len, 10);
	pkb_free(first);
	pkb_queue_purge(&q);
	CHECK_EQ(q.len, 0);
	CHECK_EQ(atomic_load(&pool.outstanding), 0);
	pkb_pool_destroy(&pool);
}

/* Buffers allocated in one thread and freed in another (a memlink sender allocates from
 * the receiver's pool), more of them than a thread keeps cached; the threads' caches are
 * freed when they exit (LeakSanitizer checks that under ASan). */
static struct pkb_pool xpool;
static struct pkb *xbufs[600];

static void *alloc_thread(void *arg)
{
	for (int i = 0; i < 600; i++) {
		xbufs[i] = pkb_alloc(&xpool, 1500);
		memset(pkb_put(xbufs[i], 1500), i & 0xff, 1500);
	}
	return arg;
}

static void *free_thread(void *arg)
{
	for (int i = 0; i < 600; i++)
		pkb_free(xbufs[i]);
	/* ...and reuse what it now holds */
	for (int round = 0; round < 3; round++) {
		struct pkb *p[200];

		for (int i = 0; i < 200; i++)
			p[i] = pkb_alloc(&xpool, 100);
		for (int i = 0; i < 200; i++)
			pkb_free(p[i]);
	}
	return arg;
}

TEST(pkb_buffers_cross_threads)
{
	pthread_t a, b;

	pkb_pool_init(&xpool);
	pthread_create(&a, NULL, alloc_thread, NULL);
	pthread_join(a, NULL);
	CHECK_EQ(atomic_load(&xpool.outstanding), 600);
	for (int i = 0; i < 600; i++)
		if (xbufs[i]->len != 1500 || xbufs[i]->data[0] != (uint8_t)(i & 0xff)) {
			TEST_FAIL_AT("buffer %d", i);
			break;
		}
	pthread_create(&b, NULL, free_thread, NULL);
	pthread_join(b, NULL);
	CHECK_EQ(atomic_load(&xpool.outstanding), 0);
	/* This thread too: allocate and free more than its cache holds. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 600; i++)
			xbufs[i] = pkb_alloc(&xpool, 64);
		for (int i = 0; i < 600; i++)
			pkb_free(xbufs[i]);
	}
	CHECK_EQ(atomic_load(&xpool.outstanding), 0);
	pkb_pool_destroy(&xpool);
}

/* Completing a CHECKSUM_PARTIAL buffer gives exactly the full computation, for every
 * length parity; a copy into a buffer with other headroom carries the state along. */
TEST(pkb_csum_partial_completes_to_the_full_checksum)
{
	struct pkb_pool pool;

	pkb_pool_init(&pool);
	for (size_t len = 20; len < 300; len += 7) {
		struct pkb *p = pkb_alloc(&pool, len + 14), *c;
		uint32_t saddr = 0x0100000a, daddr = 0x0200000a;	/* 10.0.0.1, 10.0.0.2 */
		uint8_t *th, want[2];
		uint16_t full;

		ASSERT(p);
		memset(pkb_put(p, 14), 0xee, 14);	/* a link header before it */
		th = pkb_put(p, len);
		for (size_t i = 0; i < len; i++)
			th[i] = (uint8_t)(i * 31 + len);
		th[16] = th[17] = 0;
		full = ips_csum_fold(ips_csum_add(ips_csum_pseudo(saddr, daddr, 6, (uint16_t)len),
						  th, len));
		want[0] = (uint8_t)(full >> 8);
		want[1] = (uint8_t)full;
		pkb_csum_partial(p, th, 16, ips_csum_pseudo(saddr, daddr, 6, (uint16_t)len));
		CHECK_EQ(p->ip_summed, PKB_CSUM_PARTIAL);
		c = pkb_alloc_head(&pool, 40, p->len);	/* other headroom, as a memlink copy */
		ASSERT(c);
		memcpy(pkb_put(c, p->len), p->data, p->len);
		pkb_csum_copy_state(c, p);
		pkb_csum_resolve(p);
		CHECK_EQ(p->ip_summed, PKB_CSUM_NONE);
		CHECK_MEM(th + 16, want, 2);
		pkb_csum_resolve(c);
		CHECK_MEM(c->data + 14 + 16, want, 2);
		CHECK_EQ(ips_csum_fold(ips_csum_add(ips_csum_pseudo(saddr, daddr, 6, (uint16_t)len),
						    c->data + 14, len)), 0);
		pkb_csum_resolve(c);	/* nothing left to do */
		CHECK_MEM(c->data + 14 + 16, want, 2);
		/* Received and pulled past the transport header: still trusted, unchanged. */
		pkb_csum_partial(c, c->data + 14, 16, 0x1234);
		pkb_pull(c, 14 + 20);
		pkb_csum_resolve(c);
		CHECK_EQ(c->ip_summed, PKB_CSUM_UNNECESSARY);
		CHECK_EQ(c->data[-4], 0x12);	/* the field (th + 16) still holds the seed */
		CHECK_EQ(c->data[-3], 0x34);
		pkb_free(p);
		pkb_free(c);
	}
	CHECK_EQ(atomic_load(&pool.outstanding), 0);
	pkb_pool_destroy(&pool);
}

/* pkb_adopt(): the buffer changes pools with its accounting; data and the checksum
 * and segmentation state stay, the rest of the metadata is cleared as in a new buffer. */
TEST(pkb_adopt_moves_accounting_and_keeps_data_checksum_and_gso_state)
{
	struct pkb_pool from, to;
	struct pkb *p;
	uint8_t *d;
	long truesize;

	pkb_pool_init(&from);
	pkb_pool_init(&to);
	p = pkb_alloc_head(&from, 77, 3000);
	ASSERT(p);
	d = pkb_put(p, 100);
	memset(d, 0x5a, 100);
	pkb_csum_partial(p, d + 20, 16, 1234);
	p->mark = 7;
	p->priority = 3;
	p->nh = d;
	p->pkt_type = PKB_OUTGOING;
	p->cb[0] = 99;
	p->gso_size = 1448;
	p->gso_segs = 2;
	truesize = (long)pkb_truesize(p);
	pkb_adopt(&to, p);
	CHECK_EQ(atomic_load(&from.outstanding), 0);
	CHECK_EQ(atomic_load(&from.bytes), 0);
	CHECK_EQ(atomic_load(&to.outstanding), 1);
	CHECK_EQ(atomic_load(&to.bytes), truesize);
	CHECK(p->pool == &to);
	CHECK(p->data == d);
	CHECK_EQ(p->len, 100);
	CHECK_EQ(pkb_headroom(p), 77);
	CHECK_EQ(p->ip_summed, PKB_CSUM_PARTIAL);
	CHECK(p->buf + p->csum_start == d + 20);
	CHECK_EQ(p->csum_offset, 16);
	CHECK_EQ(p->gso_size, 1448);
	CHECK_EQ(p->gso_segs, 2);
	CHECK_EQ(p->mark, 0);
	CHECK_EQ(p->priority, 0);
	CHECK(p->nh == NULL);
	CHECK_EQ(p->pkt_type, PKB_HOST);
	CHECK_EQ(p->cb[0], 0);
	pkb_free(p);
	CHECK_EQ(atomic_load(&to.outstanding), 0);
	CHECK_EQ(atomic_load(&to.bytes), 0);
	pkb_pool_destroy(&from);
	pkb_pool_destroy(&to);
}

TEST_MAIN

#include "core/pkb.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/csum.h"

/* A per-thread cache of free pool-sized blocks in front of the pools' locked free lists.
 * A stack's thread frees most buffers it allocates (and a memlink sender allocates from
 * the receiver's pool in its own thread), so allocation and release usually take no
 * lock. The blocks are plain memory, not a pool's: a pool's accounting (outstanding,
 * bytes) follows the buffers handed out, as before. A thread's cache is freed when the
 * thread exits (the key's destructor) and is reachable from its TLS until then.
 * Measured: docs/performance.md. */
#define PKB_TLS_MAX 128

struct pkb_tls {
	struct pkb *head;
	unsigned n;
};

static __thread struct pkb_tls pkb_tls __attribute__((tls_model("initial-exec")));
static pthread_key_t pkb_tls_key;
static pthread_once_t pkb_tls_once = PTHREAD_ONCE_INIT;

static void pkb_tls_destroy(void *arg)
{
	struct pkb_tls *c = arg;

	while (c->head) {
		struct pkb *n = c->head->next;

		free(c->head);
		c->head = n;
	}
	c->n = 0;
}

static void pkb_tls_key_init(void)
{
	if (pthread_key_create(&pkb_tls_key, pkb_tls_destroy) != 0)
		abort();
}

/* Take a cached block, or NULL. */
static inline struct pkb *pkb_tls_get(void)
{
	struct pkb *p = pkb_tls.head;

	if (p) {
		pkb_tls.head = p->next;
		pkb_tls.n--;
	}
	return p;
}

/* Keep a block in this thread's cache; false if it is full. */
static inline bool pkb_tls_put(struct pkb *p)
{
	if (pkb_tls.n >= PKB_TLS_MAX)
		return false;
	if (pkb_tls.n == 0 && !pkb_tls.head) {
		/* First use in this thread (or after the cache ran dry, which is cheap to
		 * repeat): make sure the destructor will see the cache at thread exit. */
		pthread_once(&pkb_tls_once, pkb_tls_key_init);
		if (!pthread_getspecific(pkb_tls_key))
			pthread_setspecific(pkb_tls_key, &pkb_tls);
	}
	p->next = pkb_tls.head;
	pkb_tls.head = p;
	pkb_tls.n++;
	return true;
}

void pkb_pool_init(struct pkb_pool *pool)
{
	memset(pool, 0, sizeof(*pool));
	pthread_mutex_init(&pool->lock, NULL);
	pool->free_max = 4096;
}

void pkb_pool_destroy(struct pkb_pool *pool)
{
	struct pkb *p = pool->free_list;

	while (p) {
		struct pkb *n = p->next;

		free(p);
		p = n;
	}
	pool->free_list = NULL;
	pool->free_count = 0;
	pthread_mutex_destroy(&pool->lock);
}

/* Copied over a buffer's header to clear it: gcc -O2 turns a memset of this size into
 * `rep stos`, slow to start for ~150 bytes on every allocation, and a copy of a constant
 * block into a few 16-byte moves (docs/performance.md). */
static const struct pkb pkb_zero_header;

static void pkb_reset(struct pkb *p, struct pkb_pool *pool, size_t size, size_t headroom)
{
	memcpy(p, &pkb_zero_header, offsetof(struct pkb, buf));
	p->size = (uint32_t)size;
	p->data = p->buf + headroom;
	atomic_init(&p->refcnt, 1);
	p->pool = pool;
}

struct pkb *pkb_alloc_head(struct pkb_pool *pool, size_t headroom, size_t size)
{
	size_t total = headroom + size;
	struct pkb *p = NULL;

	if (total > UINT32_MAX / 2)
		return NULL;
	if (total <= PKB_POOL_BUFSZ) {
		p = pkb_tls_get();
		if (!p) {
			pthread_mutex_lock(&pool->lock);
			p = pool->free_list;
			if (p) {
				pool->free_list = p->next;
				pool->free_count--;
			}
			pthread_mutex_unlock(&pool->lock);
		}
		if (!p)
			p = malloc(sizeof(*p) + PKB_POOL_BUFSZ);
		if (!p)
			return NULL;
		total = PKB_POOL_BUFSZ;
	} else {
		p = malloc(sizeof(*p) + total);
		if (!p)
			return NULL;
	}
	pkb_reset(p, pool, total, headroom);
	atomic_fetch_add(&pool->outstanding, 1);
	atomic_fetch_add(&pool->bytes, (long)(sizeof(*p) + total));	/* pkb_truesize() */
	return p;
}

struct pkb *pkb_alloc(struct pkb_pool *pool, size_t size)
{
	return pkb_alloc_head(pool, PKB_HEADROOM, size);
}

void pkb_free(struct pkb *p)
{
	if (!p)
		return;
	if (atomic_fetch_sub_explicit(&p->refcnt, 1, memory_order_acq_rel) != 1)
		return;

	struct pkb_pool *pool = p->pool;

	atomic_fetch_sub(&pool->outstanding, 1);
	atomic_fetch_sub(&pool->bytes, (long)pkb_truesize(p));
	if (p->size == PKB_POOL_BUFSZ) {
		if (pkb_tls_put(p))
			return;
		pthread_mutex_lock(&pool->lock);
		if (pool->free_count < pool->free_max) {
			p->next = pool->free_list;
			pool->free_list = p;
			pool->free_count++;
			p = NULL;
		}
		pthread_mutex_unlock(&pool->lock);
	}
	free(p);
}

struct pkb *pkb_copy(const struct pkb *p)
{
	size_t head = pkb_headroom(p);
	struct pkb *c = pkb_alloc_head(p->pool, head, p->len + pkb_tailroom(p));

	if (!c)
		return NULL;
	memcpy(c->buf, p->buf, head + p->len);
	c->len = p->len;
	c->dev = p->dev;
	c->tstamp_ns = p->tstamp_ns;
	c->mac = p->mac ? c->buf + (p->mac - p->buf) : NULL;
	c->nh = p->nh ? c->buf + (p->nh - p->buf) : NULL;
	c->th = p->th ? c->buf + (p->th - p->buf) : NULL;
	c->mark = p->mark;
	c->priority = p->priority;
	c->pkt_type = p->pkt_type;
	c->ip_summed = p->ip_summed;
	c->csum_start = p->csum_start;	/* same headroom: same offsets */
	c->csum_offset = p->csum_offset;
	c->frag_max_size = p->frag_max_size;
	c->gso_size = p->gso_size;
	c->gso_segs = p->gso_segs;
	memcpy(c->cb, p->cb, sizeof(c->cb));
	return c;
}

static void csum_store(uint8_t *field, uint16_t v)
{
	field[0] = (uint8_t)(v >> 8);	/* big-endian, as put_be16() */
	field[1] = (uint8_t)v;
}

void pkb_csum_partial(struct pkb *p, uint8_t *start, uint16_t field_off, uint32_t pseudo)
{
	assert(start >= p->data && start + field_off + 2 <= p->data + p->len);
	/* ~fold(): the folded sum itself, never 0 for a pseudo-header (its protocol word is
	 * not 0), so completing it gives exactly what a full computation gives. */
	csum_store(start + field_off, (uint16_t)~ips_csum_fold(pseudo));
	p->ip_summed = PKB_CSUM_PARTIAL;
	p->csum_start = (uint16_t)(start - p->buf);
	p->csum_offset = field_off;
}

void pkb_csum_resolve(struct pkb *p)
{
	uint8_t *start = p->buf + p->csum_start;
	uint8_t *end = p->data + p->len;

	if (p->ip_summed != PKB_CSUM_PARTIAL)
		return;
	if (start < p->data) {
		/* Received and already past its transport header: the bytes to sum are no
		 * longer the packet's; what the link vouched for still holds. */
		p->ip_summed = PKB_CSUM_UNNECESSARY;
		return;
	}
	p->ip_summed = PKB_CSUM_NONE;
	/* A buffer cut short has nothing to complete: its receiver will find it wrong. */
	if (start + p->csum_offset + 2 > end)
		return;
	csum_store(start + p->csum_offset, ips_csum_fold(ips_csum_add(0, start, (size_t)(end - start))));
}

void pkb_csum_copy_state(struct pkb *dst, const struct pkb *src)
{
	ptrdiff_t at;

	dst->ip_summed = src->ip_summed;
	if (src->ip_summed != PKB_CSUM_PARTIAL)
		return;
	at = (dst->data - dst->buf) + ((src->buf + src->csum_start) - src->data);
	if (at < 0 || at > UINT16_MAX) {
		/* Received and already past its transport header: only the trust matters. */
		dst->ip_summed = PKB_CSUM_UNNECESSARY;
		return;
	}
	dst->csum_start = (uint16_t)at;
	dst->csum_offset = src->csum_offset;
}

void pkb_adopt(struct pkb_pool *to, struct pkb *p)
{
	size_t head = pkb_headroom(p);
	uint32_t len = p->len, size = p->size;
	uint8_t summed = p->ip_summed;
	uint16_t start = p->csum_start, off = p->csum_offset;
	uint16_t gso_size = p->gso_size, gso_segs = p->gso_segs;
	long truesize = (long)pkb_truesize(p);

	assert(!pkb_shared(p));
	atomic_fetch_sub(&p->pool->outstanding, 1);
	atomic_fetch_sub(&p->pool->bytes, truesize);
	pkb_reset(p, to, size, head);
	p->len = len;
	p->ip_summed = summed;
	p->csum_start = start;
	p->csum_offset = off;
	p->gso_size = gso_size;		/* a super-packet stays one, as GRO output */
	p->gso_segs = gso_segs;
	atomic_fetch_add(&to->outstanding, 1);
	atomic_fetch_add(&to->bytes, truesize);
}

struct pkb *pkb_unshare(struct pkb *p)
{
	if (!pkb_shared(p))
		return p;

	struct pkb *c = pkb_copy(p);

	pkb_free(p);
	return c;
}

uint8_t *pkb_put(struct pkb *p, size_t n)
{
	uint8_t *tail = p->data + p->len;

	assert(n <= pkb_tailroom(p));
	p->len += (uint32_t)n;
	return tail;
}

uint8_t *pkb_push(struct pkb *p, size_t n)
{
	assert(n <= pkb_headroom(p));
	p->data -= n;
	p->len += (uint32_t)n;
	return p->data;
}

uint8_t *pkb_pull(struct pkb *p, size_t n)
{
	assert(n <= p->len);
	p->data += n;
	p->len -= (uint32_t)n;
	return p->data;
}

void pkb_trim(struct pkb *p, size_t len)
{
	if (len < p->len)
		p->len = (uint32_t)len;
}

void pkb_reserve(struct pkb *p, size_t n)
{
	assert(p->len == 0 && n <= pkb_tailroom(p));
	p->data += n;
}

void pkb_queue_init(struct pkb_queue *q)
{
	memset(q, 0, sizeof(*q));
}

void pkb_queue_push(struct pkb_queue *q, struct pkb *p)
{
	p->next = NULL;
	p->prev = q->tail;
	if (q->tail)
		q->tail->next = p;
	else
		q->head = p;
	q->tail = p;
	q->len++;
	q->bytes += p->len;
}

struct pkb *pkb_queue_pop(struct pkb_queue *q)
{
	struct pkb *p = q->head;

	if (!p)
		return NULL;
	q->head = p->next;
	if (q->head)
		q->head->prev = NULL;
	else
		q->tail = NULL;
	p->next = p->prev = NULL;
	q->len--;
	q->bytes -= p->len;
	return p;
}

void pkb_queue_purge(struct pkb_queue *q)
{
	struct pkb *p;

	while ((p = pkb_queue_pop(q)))
		pkb_free(p);
}

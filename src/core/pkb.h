/* Packet buffers: one contiguous block with headroom, a reference count and a little
 * metadata. A function that takes a pkb consumes it on every path (frees it or passes it
 * on) unless its comment says otherwise. Write to a pkb only after pkb_unshare(). */
#ifndef IPS_CORE_PKB_H
#define IPS_CORE_PKB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netdev;
struct pkb_pool;

/* Headroom reserved by pkb_alloc(): Ethernet (14) + IPv4 with options (60) + TCP with
 * options (60), rounded up. */
#define PKB_HEADROOM 160
/* Buffers up to this many bytes (headroom included) come from the pool's free list. */
#define PKB_POOL_BUFSZ 2048

enum pkb_type {
	PKB_HOST = 0,		/* to us (unicast link address) */
	PKB_BROADCAST,
	PKB_MULTICAST,
	PKB_OTHERHOST,
	PKB_OUTGOING,
	PKB_LOOPBACK,
};

struct pkb {
	struct pkb *next, *prev;	/* for the current owner's queues */
	uint8_t *data;			/* first valid byte */
	uint32_t len;			/* valid bytes from data */
	uint32_t size;			/* bytes in buf[] */
	atomic_uint refcnt;
	struct pkb_pool *pool;
	struct netdev *dev;		/* receiving or sending device */
	uint64_t tstamp_ns;		/* receive time on the stack clock */
	uint8_t *mac;			/* link header, or NULL */
	uint8_t *nh;			/* network (IPv4) header */
	uint8_t *th;			/* transport header */
	uint32_t mark;
	uint32_t priority;
	uint8_t pkt_type;		/* enum pkb_type */
	uint8_t ip_summed;		/* PKB_CSUM_*: Linux's skb->ip_summed */
	uint16_t frag_max_size;		/* largest fragment seen when reassembled */
	uint16_t csum_start;		/* PKB_CSUM_PARTIAL: checksummed bytes start at buf + this */
	uint16_t csum_offset;		/* PKB_CSUM_PARTIAL: the checksum field, from csum_start */
	/* Segmentation offload (Linux's skb_shinfo gso_size/gso_segs, SKB_GSO_TCPV4 only):
	 * a TCP super-packet to be cut into segments of gso_size payload bytes, by a device
	 * with TSO or by software GSO (src/ip/gso.h); 0 = an ordinary packet. */
	uint16_t gso_size;
	uint16_t gso_segs;
	uint32_t cb[12];		/* per-layer scratch (like skb->cb) */
	uint8_t buf[];
};

/* ip_summed, as Linux's CHECKSUM_* values.
 * Receive: NONE, the transport verifies; UNNECESSARY or PARTIAL, a lower layer vouches
 * for the bytes (a PARTIAL buffer came over lo or a memlink, which cannot corrupt it, as
 * Linux trusts CHECKSUM_PARTIAL from lo and veth).
 * Transmit: PARTIAL, the transport checksum field holds only the pseudo-header sum and
 * whoever needs real bytes completes it with pkb_csum_resolve() (Linux's
 * skb_checksum_help()): netdev_xmit() for a device without NETIF_F_HW_CSUM, capture,
 * corruption, fragmentation. */
#define PKB_CSUM_NONE 0
#define PKB_CSUM_UNNECESSARY 1
#define PKB_CSUM_PARTIAL 3

struct pkb_pool {
	pthread_mutex_t lock;
	struct pkb *free_list;
	size_t free_count;
	size_t free_max;
	atomic_long outstanding;	/* buffers handed out and not yet freed */
	atomic_long bytes;		/* truesize of those */
};

void pkb_pool_init(struct pkb_pool *pool);
void pkb_pool_destroy(struct pkb_pool *pool);

/* A buffer for `size` bytes of packet after PKB_HEADROOM of headroom; len = 0. NULL when
 * out of memory. */
struct pkb *pkb_alloc(struct pkb_pool *pool, size_t size);
/* A buffer with exactly `headroom` bytes of headroom and room for `size` bytes. */
struct pkb *pkb_alloc_head(struct pkb_pool *pool, size_t headroom, size_t size);
void pkb_free(struct pkb *p);
static inline struct pkb *pkb_get(struct pkb *p)
{
	atomic_fetch_add_explicit(&p->refcnt, 1, memory_order_relaxed);
	return p;
}
static inline bool pkb_shared(const struct pkb *p)
{
	return atomic_load_explicit(&p->refcnt, memory_order_relaxed) > 1;
}
/* A private copy of p (same data, same offsets of mac/nh/th, same metadata). */
struct pkb *pkb_copy(const struct pkb *p);
/* Take p, the only reference to it, into pool `to` (another stack's) as a frame just
 * received: the pools' accounting moves, the metadata is cleared as in a new buffer
 * (skb_scrub_packet() for a veth peer in another namespace) except the checksum and
 * segmentation state;
 * data, len and headroom stay. */
void pkb_adopt(struct pkb_pool *to, struct pkb *p);
/* Returns p if it is not shared, otherwise a private copy (p is released). NULL on
 * allocation failure (p is released too). */
struct pkb *pkb_unshare(struct pkb *p);

static inline size_t pkb_headroom(const struct pkb *p)
{
	return (size_t)(p->data - p->buf);
}
static inline size_t pkb_tailroom(const struct pkb *p)
{
	return p->size - pkb_headroom(p) - p->len;
}
static inline size_t pkb_truesize(const struct pkb *p)
{
	return sizeof(*p) + p->size;
}
/* Add n bytes at the end; returns where they start. Caller checks tailroom. */
uint8_t *pkb_put(struct pkb *p, size_t n);
/* Add n bytes at the front; returns the new data. Caller checks headroom. */
uint8_t *pkb_push(struct pkb *p, size_t n);
/* Remove n bytes from the front; returns the new data. */
uint8_t *pkb_pull(struct pkb *p, size_t n);
/* Cut to len bytes (no-op if already shorter). */
void pkb_trim(struct pkb *p, size_t len);
/* Move an empty buffer's data pointer forward by n bytes. */
void pkb_reserve(struct pkb *p, size_t n);

/* Mark p CHECKSUM_PARTIAL (tcp_v4_send_check()): the 16-bit checksum at field_off from
 * start covers start .. the end of p; pseudo is the pseudo-header's partial sum
 * (ips_csum_pseudo()), stored folded in the field so that summing from start completes
 * it. start must lie in p's data. */
void pkb_csum_partial(struct pkb *p, uint8_t *start, uint16_t field_off, uint32_t pseudo);
/* Complete a PARTIAL checksum in place and make p CHECKSUM_NONE (skb_checksum_help());
 * nothing for any other p. */
void pkb_csum_resolve(struct pkb *p);
/* dst is a copy of src's data (dst->data holds what src->data holds): carry the checksum
 * state over, wherever dst's data sits in its buffer. */
void pkb_csum_copy_state(struct pkb *dst, const struct pkb *src);

/* Simple FIFO of pkbs through next/prev. */
struct pkb_queue {
	struct pkb *head, *tail;
	size_t len;
	size_t bytes;
};
void pkb_queue_init(struct pkb_queue *q);
void pkb_queue_push(struct pkb_queue *q, struct pkb *p);
struct pkb *pkb_queue_pop(struct pkb_queue *q);
void pkb_queue_purge(struct pkb_queue *q);

#endif

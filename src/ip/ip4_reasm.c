/* Reassembly: Linux's ip_defrag() (net/ipv4/ip_fragment.c) on top of its generic
 * fragment queues (net/ipv4/inet_fragment.c), RFC 791 3.2 and RFC 815.
 *
 * Queues are keyed by (saddr, daddr, id, protocol). Fragments may come in any order.
 * Since 2018 Linux discards a whole datagram when any fragment overlaps another
 * (RFC 5722's rule, which Linux applies to IPv4 too), but drops a duplicate -- a
 * fragment lying entirely inside what one "run" of contiguous fragments already covers
 * -- quietly and keeps the queue. A run, exactly as in inet_frag_queue_insert(), is
 * what fragments appended in order at the end of the queue form; a fragment that lands
 * anywhere else starts a run of its own. So whether a fragment straddling two earlier
 * ones is a duplicate or an overlap depends, as in Linux, on the order they came in.
 *
 * A queue lives ipfrag_time seconds from its creation (not from its last fragment:
 * "fragment queue must be destroyed before MSL expires", RFC 791's refresh is not
 * followed), with one timer; on expiry a Time Exceeded (fragment reassembly time
 * exceeded) goes back if and only if fragment 0 had arrived, quoting it.
 *
 * Memory: every queued fragment is charged its truesize and every queue its descriptor.
 * While the total is above ipfrag_high_thresh, new fragments are dropped (ReasmFails),
 * even for existing queues. Linux stopped evicting old queues down to ipfrag_low_thresh
 * in 4.17 (the sysctl is documented as obsolete); queues then only die by timing out or
 * completing, and so do ours. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"
#include "ip/icmp.h"
#include "ip/inetpeer.h"
#include "link/netdev.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/wire.h"

#define IPQ_HASH_SIZE	1024

/* inet_frag_queue flags */
#define FRAG_FIRST_IN	0x01
#define FRAG_LAST_IN	0x02
#define FRAG_COMPLETE	0x04

/* ip4_frag_ecn(): 1 << ECN field */
#define IPFRAG_ECN_NOT_ECT	0x01
#define IPFRAG_ECN_ECT_1	0x02
#define IPFRAG_ECN_ECT_0	0x04
#define IPFRAG_ECN_CE		0x08

struct frag {
	struct frag *next, *prev;	/* by offset */
	struct pkb *pkb;		/* data: this fragment's bytes, nh: its header */
	uint32_t offset, len;
	uint32_t run_len;		/* run heads: bytes the run covers */
	bool run_head;
};

struct ipq {
	struct ipq *hnext;
	struct ips_stack *st;
	uint32_t saddr, daddr;
	uint16_t id;
	uint8_t proto;
	uint8_t flags;
	uint8_t ecn;
	uint32_t len;			/* total length of the datagram's payload, so far known */
	uint32_t meat;			/* bytes received */
	struct frag *frags, *frags_last;	/* sorted list */
	struct frag *tail;		/* fragments_tail: last appended at the end */
	struct frag *last_run_head;
	uint16_t max_size;		/* largest fragment seen */
	uint16_t max_df_size;		/* largest fragment with DF seen */
	int iif;
	uint64_t stamp_ns;		/* arrival of the latest fragment queued (q->stamp) */
	uint32_t rid;
	struct inet_peer *peer;
	struct timer timer;
	long mem;			/* charged to ipfrag_state.mem */
};

struct ipfrag_state {
	struct ipq *hash[IPQ_HASH_SIZE];
	long mem;
	unsigned int nqueues;
};

/* ip_frag_ecn_table: the combined ECN of the reassembled datagram, 0xff = drop. */
static const uint8_t ip_frag_ecn_table[16] = {
	/* at least one fragment had CE, and others ECT_0 or ECT_1 */
	[IPFRAG_ECN_CE | IPFRAG_ECN_ECT_0] = 3,
	[IPFRAG_ECN_CE | IPFRAG_ECN_ECT_1] = 3,
	[IPFRAG_ECN_CE | IPFRAG_ECN_ECT_0 | IPFRAG_ECN_ECT_1] = 3,
	/* invalid combinations : drop frame */
	[IPFRAG_ECN_NOT_ECT | IPFRAG_ECN_CE] = 0xff,
	[IPFRAG_ECN_NOT_ECT | IPFRAG_ECN_ECT_0] = 0xff,
	[IPFRAG_ECN_NOT_ECT | IPFRAG_ECN_ECT_1] = 0xff,
	[IPFRAG_ECN_NOT_ECT | IPFRAG_ECN_ECT_0 | IPFRAG_ECN_ECT_1] = 0xff,
	[IPFRAG_ECN_NOT_ECT | IPFRAG_ECN_CE | IPFRAG_ECN_ECT_0] = 0xff,
	[IPFRAG_ECN_NOT_ECT | IPFRAG_ECN_CE | IPFRAG_ECN_ECT_1] = 0xff,
	[IPFRAG_ECN_NOT_ECT | IPFRAG_ECN_CE | IPFRAG_ECN_ECT_0 | IPFRAG_ECN_ECT_1] = 0xff,
};

long ipfrag_mem(const struct ips_stack *st)
{
	return st->icmp && st->icmp->frag ? st->icmp->frag->mem : 0;
}

unsigned int ipfrag_queues(const struct ips_stack *st)
{
	return st->icmp && st->icmp->frag ? st->icmp->frag->nqueues : 0;
}

static unsigned int ipq_hash(const struct ips_stack *st, uint32_t saddr, uint32_t daddr,
			     uint16_t id, uint8_t proto)
{
	uint32_t key[3] = { saddr, daddr, (uint32_t)id << 16 | proto };

	return (unsigned int)(siphash24(st->secret, key, sizeof(key)) % IPQ_HASH_SIZE);
}

static void frag_charge(struct ipq *q, long bytes)
{
	q->mem += bytes;
	q->st->icmp->frag->mem += bytes;
}

/* Free every fragment of q (inet_frag_rbtree_purge + sub_frag_mem_limit). */
static void ipq_purge(struct ipq *q)
{
	for (struct frag *f = q->frags, *n; f; f = n) {
		n = f->next;
		frag_charge(q, -(long)pkb_truesize(f->pkb));
		pkb_free(f->pkb);
		free(f);
	}
	q->frags = q->frags_last = q->tail = q->last_run_head = NULL;
}

/* inet_frag_kill(): out of the table, timer stopped; the caller destroys it. */
static void ipq_kill(struct ipq *q)
{
	struct ipfrag_state *fs = q->st->icmp->frag;

	if (q->flags & FRAG_COMPLETE)
		return;
	stack_timer_cancel(q->st, &q->timer);
	for (struct ipq **pp = &fs->hash[ipq_hash(q->st, q->saddr, q->daddr, q->id, q->proto)];
	     *pp; pp = &(*pp)->hnext) {
		if (*pp == q) {
			*pp = q->hnext;
			break;
		}
	}
	fs->nqueues--;
	q->flags |= FRAG_COMPLETE;
}

/* inet_frag_destroy() */
static void ipq_destroy(struct ipq *q)
{
	ipq_purge(q);
	frag_charge(q, -(long)sizeof(*q));
	if (q->peer)
		inet_peer_put(q->st, q->peer);
	free(q);
}

static void ip_expire(void *arg);

/* inet_frag_find(): the queue for this fragment, created when missing; NULL when over
 * the memory limit or out of memory. */
static struct ipq *ip_find(struct ips_stack *st, uint32_t saddr, uint32_t daddr, uint16_t id,
			   uint8_t proto)
{
	struct ipfrag_state *fs = st->icmp->frag;
	unsigned long high = st->sysctl.ip.ipfrag_high_thresh;
	unsigned int h = ipq_hash(st, saddr, daddr, id, proto);
	struct ipq *q;

	if (!high || fs->mem > (long)high)
		return NULL;
	for (q = fs->hash[h]; q; q = q->hnext)
		if (q->saddr == saddr && q->daddr == daddr && q->id == id && q->proto == proto)
			return q;
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->st = st;
	q->saddr = saddr;
	q->daddr = daddr;
	q->id = id;
	q->proto = proto;
	/* ip4_frag_init(): the source's peer, for ip_frag_too_far(). */
	if (st->sysctl.ip.ipfrag_max_dist) {
		q->peer = inet_peer_get(st, saddr);
		if (q->peer)
			inet_peer_hold(q->peer);
	}
	frag_charge(q, (long)sizeof(*q));
	timer_init(&q->timer, ip_expire, q);
	stack_timer_arm_ms(st, &q->timer, (uint64_t)st->sysctl.ip.ipfrag_time * 1000);
	q->hnext = fs->hash[h];
	fs->hash[h] = q;
	fs->nqueues++;
	return q;
}

/* ip_expire(): the queue timed out. */
static void ip_expire(void *arg)
{
	struct ipq *q = arg;
	struct ips_stack *st = q->st;
	struct netdev *dev;
	struct rt_result rt;
	struct pkb *head;
	const uint8_t *iph;

	if (q->flags & FRAG_COMPLETE)
		return;
	ipq_kill(q);
	MIB_INC(st, IpReasmFails);
	MIB_INC(st, IpReasmTimeout);
	/* RFC 792 / RFC 1122 3.2.1.4: "fragment reassembly time exceeded", only when
	 * fragment zero is available, quoting it. */
	if (!(q->flags & FRAG_FIRST_IN) || !q->frags || q->frags->offset != 0)
		goto out;
	head = q->frags->pkb;
	dev = stack_dev_by_index(st, q->iif);
	if (!dev)
		goto out;
	iph = head->nh;
	/* The fragment carries no route any more: look it up again, as Linux does. */
	if (route_input(st, dev, get_in4(iph + 16), get_in4(iph + 12), &rt) < 0)
		goto out;
	head->dev = dev;
	icmp_send(st, head, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME, 0);
	head->dev = NULL;
out:
	ipq_destroy(q);
}

/* ip_frag_too_far(): with ipfrag_max_dist, a queue that has seen more than max_dist
 * fragments from its source (in any queue) since its own last fragment is presumed
 * stale (its ID may have wrapped) and is started afresh. */
static bool ip_frag_too_far(struct ipq *q)
{
	struct ips_stack *st = q->st;
	unsigned int max = (unsigned int)st->sysctl.ip.ipfrag_max_dist;
	uint32_t start, end;
	bool rc;

	if (!q->peer || !max)
		return false;
	start = q->rid;
	end = ++q->peer->rid;
	q->rid = end;
	rc = q->tail && (end - start) > max;
	if (rc)
		MIB_INC(st, IpReasmFails);
	return rc;
}

/* ip_frag_reinit() */
static void ip_frag_reinit(struct ipq *q)
{
	stack_timer_arm_ms(q->st, &q->timer, (uint64_t)q->st->sysctl.ip.ipfrag_time * 1000);
	ipq_purge(q);
	q->flags = 0;
	q->len = 0;
	q->meat = 0;
	q->iif = 0;
	q->ecn = 0;
}

enum { IPFRAG_OK, IPFRAG_DUP, IPFRAG_OVERLAP };

static void frag_link_after(struct ipq *q, struct frag *pos, struct frag *f)
{
	f->prev = pos;
	f->next = pos ? pos->next : q->frags;
	if (f->next)
		f->next->prev = f;
	else
		q->frags_last = f;
	if (pos)
		pos->next = f;
	else
		q->frags = f;
}

/* inet_frag_queue_insert() */
static int ipq_insert(struct ipq *q, struct frag *f)
{
	struct frag *last = q->tail;
	uint32_t offset = f->offset, end = f->offset + f->len;

	if (!last) {
		/* First fragment: a new run. */
		f->run_head = true;
		f->run_len = f->len;
		frag_link_after(q, q->frags_last, f);
		q->tail = q->last_run_head = f;
		return IPFRAG_OK;
	}
	if (last->offset + last->len < end) {
		/* The common case: it goes to the end. Detect and discard overlaps. */
		if (offset < last->offset + last->len)
			return IPFRAG_OVERLAP;
		frag_link_after(q, q->frags_last, f);
		if (offset == last->offset + last->len) {
			q->last_run_head->run_len += f->len;
		} else {
			f->run_head = true;
			f->run_len = f->len;
			q->last_run_head = f;
		}
		q->tail = f;
		return IPFRAG_OK;
	}
	/* Somewhere before the end: against the runs. It may become the first fragment,
	 * never the last. */
	{
		struct frag *pos = NULL;

		for (struct frag *r = q->frags; r; r = r->next) {
			uint32_t run_end;

			if (!r->run_head)
				continue;
			run_end = r->offset + r->run_len;
			if (end <= r->offset)
				break;
			if (offset >= run_end) {
				/* after this run: remember its last member */
				pos = r;
				while (pos->next && !pos->next->run_head)
					pos = pos->next;
				continue;
			}
			if (offset >= r->offset && end <= run_end)
				return IPFRAG_DUP;
			return IPFRAG_OVERLAP;
		}
		f->run_head = true;
		f->run_len = f->len;
		frag_link_after(q, pos, f);
	}
	return IPFRAG_OK;
}

/* ip_frag_reasm(): one contiguous datagram with the first fragment's header. */
static struct pkb *ip_frag_reasm(struct ipq *q, struct netdev *dev)
{
	struct ips_stack *st = q->st;
	struct pkb *head, *p;
	size_t ihl, len;
	uint8_t ecn, *iph;

	ipq_kill(q);
	ecn = ip_frag_ecn_table[q->ecn];
	if (ecn == 0xff)
		goto fail;
	head = q->frags->pkb;
	ihl = wire_ipv4_hdr_len(head->nh);
	len = ihl + q->len;
	if (len > 65535)	/* "Oversized IP packet" (the ping of death) */
		goto fail;
	p = stack_pkb_alloc(st, len);
	if (!p)
		goto fail;
	iph = pkb_put(p, len);
	memcpy(iph, head->nh, ihl);
	for (struct frag *f = q->frags; f; f = f->next)
		memcpy(iph + ihl + f->offset, f->pkb->data, f->len);
	p->nh = iph;
	p->dev = dev;
	p->pkt_type = head->pkt_type;
	p->mark = head->mark;
	p->priority = head->priority;
	/* inet_frag_reasm_finish(): head->tstamp = q->stamp, the completing fragment's. */
	p->tstamp_ns = q->stamp_ns;
	p->ip_summed = 0;
	memcpy(p->cb, head->cb, sizeof(p->cb));
	p->frag_max_size = q->max_df_size > q->max_size ? q->max_df_size : q->max_size;
	wire_ipv4_set_tot_len(iph, (uint16_t)len);
	wire_ipv4_set_tos(iph, wire_ipv4_tos(iph) | ecn);
	/* DF on the whole only when the largest fragment had DF (IPSKB_FRAG_PMTU). */
	wire_ipv4_set_frag(iph, 0, false, q->max_df_size == q->max_size);
	wire_ipv4_fix_csum(iph);
	MIB_INC(st, IpReasmOKs);
	ipq_destroy(q);
	return p;
fail:
	MIB_INC(st, IpReasmFails);
	ipq_destroy(q);
	return NULL;
}

/* ip_frag_queue(): consumes pkb. */
static struct pkb *ip_frag_queue(struct ipq *q, struct pkb *pkb)
{
	struct ips_stack *st = q->st;
	const uint8_t *iph = pkb->nh;
	uint16_t frag_off = get_be16(iph + 6);
	uint32_t offset = (uint32_t)(frag_off & WIRE_IPV4_OFFMASK) << 3;
	size_t ihl = wire_ipv4_hdr_len(iph);
	size_t avail = (size_t)(pkb->data + pkb->len - iph);
	struct netdev *dev = pkb->dev;
	uint32_t end, fragsize;
	struct frag *f;
	int err;

	if (ip_frag_too_far(q))
		ip_frag_reinit(q);
	if (avail < ihl)
		goto discard_qp;
	end = offset + (uint32_t)(avail - ihl);
	/* Is this the final fragment? */
	if (!(frag_off & WIRE_IPV4_MF)) {
		/* If we already have some bits beyond end or have a different end, the
		 * segment is corrupted. */
		if (end < q->len || ((q->flags & FRAG_LAST_IN) && end != q->len))
			goto discard_qp;
		q->flags |= FRAG_LAST_IN;
		q->len = end;
	} else {
		/* Non-final fragments carry a multiple of 8 bytes; the rest is ignored. */
		end &= ~7u;
		if (end > q->len) {
			/* Some bits beyond end -> corruption. */
			if (q->flags & FRAG_LAST_IN)
				goto discard_qp;
			q->len = end;
		}
	}
	if (end == offset)
		goto discard_qp;

	/* Keep just this fragment's bytes; nh stays on its header. */
	pkb->data = (uint8_t *)iph + ihl;
	pkb->len = end - offset;
	pkb->dev = NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		goto discard_qp;
	f->pkb = pkb;
	f->offset = offset;
	f->len = end - offset;
	err = ipq_insert(q, f);
	if (err == IPFRAG_DUP) {
		free(f);
		pkb_free(pkb);
		return NULL;
	}
	if (err == IPFRAG_OVERLAP) {
		free(f);
		MIB_INC(st, IpExtReasmOverlaps);
		goto discard_qp;
	}
	if (dev)
		q->iif = dev->ifindex;
	q->stamp_ns = pkb->tstamp_ns;
	q->meat += f->len;
	q->ecn |= (uint8_t)(1u << (wire_ipv4_tos(iph) & 3));
	frag_charge(q, (long)pkb_truesize(pkb));
	if (offset == 0)
		q->flags |= FRAG_FIRST_IN;
	fragsize = f->len + (uint32_t)ihl;
	if (fragsize > q->max_size)
		q->max_size = (uint16_t)fragsize;
	if ((frag_off & WIRE_IPV4_DF) && fragsize > q->max_df_size)
		q->max_df_size = (uint16_t)fragsize;
	if (q->flags == (FRAG_FIRST_IN | FRAG_LAST_IN) && q->meat == q->len)
		return ip_frag_reasm(q, dev);
	return NULL;

discard_qp:
	ipq_kill(q);
	MIB_INC(st, IpReasmFails);
	pkb_free(pkb);
	ipq_destroy(q);
	return NULL;
}

struct pkb *ip4_defrag(struct ips_stack *st, struct pkb *pkb)
{
	const uint8_t *iph;
	struct ipq *q;

	MIB_INC(st, IpReasmReqds);
	/* The queue owns the fragment and trims it: it must be ours alone. */
	pkb = pkb_unshare(pkb);
	if (!pkb) {
		MIB_INC(st, IpReasmFails);
		return NULL;
	}
	if (!pkb->nh)
		pkb->nh = pkb->data;
	iph = pkb->nh;
	if (!st->icmp || !st->icmp->frag || pkb->data + pkb->len < iph + WIRE_IPV4_HLEN)
		goto fail;
	q = ip_find(st, wire_ipv4_saddr(iph), wire_ipv4_daddr(iph), wire_ipv4_id(iph),
		    wire_ipv4_proto(iph));
	if (!q)
		goto fail;
	return ip_frag_queue(q, pkb);
fail:
	MIB_INC(st, IpReasmFails);
	pkb_free(pkb);
	return NULL;
}

int ipfrag_init(struct ips_stack *st)
{
	st->icmp->frag = calloc(1, sizeof(*st->icmp->frag));
	return st->icmp->frag ? 0 : -ENOMEM;
}

void ipfrag_fini(struct ips_stack *st)
{
	struct ipfrag_state *fs = st->icmp ? st->icmp->frag : NULL;

	if (!fs)
		return;
	for (unsigned int i = 0; i < IPQ_HASH_SIZE; i++) {
		while (fs->hash[i]) {
			struct ipq *q = fs->hash[i];

			ipq_kill(q);
			ipq_destroy(q);
		}
	}
	free(fs);
	st->icmp->frag = NULL;
}

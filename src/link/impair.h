/* The impairment engine: a netem-like stage that any device runs on transmit (in
 * netdev_xmit(), before capture) and on receive (in netdev_rx(), after capture).
 *
 * Per packet, in this order, each decision drawn from the engine's own generator (seeded
 * once from the stack's, so runs are reproducible and enabling an impairment does not
 * shift the protocol's random numbers):
 *   1. loss      dropped with probability loss_pct
 *   2. dup       a private copy also goes through (the copy is not lost or duplicated
 *                again, but is corrupted, delayed and reordered on its own draws)
 *   3. corrupt   one uniformly chosen bit of the frame is flipped
 *   4. reorder   the packet is held back until the next packet has been released, so
 *                exactly one later packet overtakes it (or until a hold time of
 *                delay + jitter + 10 ms passes with no later packet)
 *   5. timing    rate: frames are serialised one after another at rate_bps (frame
 *                bytes only, no preamble/FCS), queueing behind each other; then a
 *                propagation delay of delay_us +/- jitter_us (uniform, whole
 *                microseconds). Jitter never reorders: a packet leaves no earlier than
 *                the one before it (use reorder for that).
 *   6. limit     a packet that would make more than queue_limit (0 = 1000) packets wait
 *                is dropped at the tail, and the caller is told (-ENOBUFS; on transmit
 *                netdev_xmit() returns it to the IP layer and the sender).
 * A packet with nothing to wait for leaves synchronously; otherwise one timer per engine
 * (per device and direction) releases due packets in order. */
#ifndef IPS_LINK_IMPAIR_H
#define IPS_LINK_IMPAIR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pkb.h"
#include "core/random.h"
#include "core/timer.h"
#include "ipstack/ipstack.h"

struct ips_stack;
struct netdev;

#define IMPAIR_QUEUE_LIMIT_DEFAULT 1000
#define IMPAIR_REORDER_HOLD_NS (10 * 1000000ULL)

/* Where released packets go (netdev_xmit_wire / netdev_rx_deliver, or a test's sink).
 * Consumes pkb. */
typedef void (*impair_out_fn)(struct netdev *dev, struct pkb *pkb);

struct impair_stats {
	uint64_t in;		/* packets offered */
	uint64_t out;		/* packets released (duplicates included) */
	uint64_t lost, duplicated, corrupted, reordered, queue_drops;
};

struct impair {
	struct ips_stack *st;
	struct netdev *dev;
	impair_out_fn out;
	struct ips_impair cfg;
	uint32_t limit;
	struct rng rng;
	struct timer timer;
	struct pkb_queue q;		/* waiting, in release order; release time in cb[0..1] */
	uint64_t last_release_ns;	/* release time of the newest queued packet */
	uint64_t link_free_ns;		/* rate: when the serialiser is next idle */
	struct pkb *parked;		/* held back by reorder */
	uint64_t parked_until_ns;
	struct impair_stats stats;
};

/* True if cfg impairs nothing (no engine needed). */
bool impair_cfg_is_zero(const struct ips_impair *cfg);
/* -EINVAL for percentages outside 0..100 (or NaN). */
int impair_cfg_check(const struct ips_impair *cfg);
/* An engine for dev releasing to out. NULL on allocation failure. */
struct impair *impair_new(struct ips_stack *st, const struct ips_impair *cfg, struct netdev *dev,
			  impair_out_fn out);
/* Drop every waiting packet and free the engine. Lock held. */
void impair_free(struct impair *imp);
/* Drop every waiting packet (device down: Linux resets the qdisc). */
void impair_purge(struct impair *imp);
/* Offer one packet. Consumes pkb: released now (imp->out), later, or dropped. Returns
 * -ENOBUFS when it was dropped because the queue was full (step 6), as netem's enqueue
 * answers NET_XMIT_DROP, so that a local sender learns it (Linux's TCP then enters CWR
 * and keeps the segment unsent); 0 otherwise -- random loss is silent (netem returns
 * NET_XMIT_SUCCESS | __NET_XMIT_BYPASS), and a duplicate's fate is not reported. */
int impair_input(struct impair *imp, struct pkb *pkb);
/* Packets waiting (held-back one included). */
uint32_t impair_queued(const struct impair *imp);

#endif

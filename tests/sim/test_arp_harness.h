/* A harness for link-layer scenario tests: one simulated stack `h` whose Ethernet
 * device eth0 is joined to the test itself. Everything h transmits on eth0 is recorded
 * (with the virtual time); the test plays the other hosts on the segment by handing h
 * frames it crafts. h: eth0 02:00:00:00:00:01, 10.0.0.1/24. The peer the tests mostly
 * play: 10.0.0.2 at 02:00:00:00:00:02. */
#ifndef IPS_TESTS_SIM_TEST_ARP_HARNESS_H
#define IPS_TESTS_SIM_TEST_ARP_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"
#include "ip/ip.h"
#include "link/link.h"
#include "link/netdev.h"
#include "test.h"
#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/wire.h"

#define H_MS(x) ((uint64_t)(x) * 1000000ull)

static const uint8_t H_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t P_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t Q_MAC[6] = { 0x02, 0, 0, 0, 0, 0x03 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ZERO_MAC[6];

static inline uint32_t IP(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

struct frame {
	uint64_t t;
	size_t len;
	uint8_t d[2048];
};

struct wire {
	struct netdev *dev;
	int n;
	struct frame f[512];
};

static int wire_xmit(struct netdev *dev, struct pkb *pkb)
{
	struct wire *w = dev->priv;

	if (w->n < (int)(sizeof(w->f) / sizeof(w->f[0]))) {
		struct frame *f = &w->f[w->n++];

		f->t = stack_now_ns(dev->st);
		f->len = pkb->len < sizeof(f->d) ? pkb->len : sizeof(f->d);
		memcpy(f->d, pkb->data, f->len);
	}
	pkb_free(pkb);
	return 0;
}

static const struct netdev_ops wire_ops = { .xmit = wire_xmit };

struct harness {
	ips_world *w;
	ips_stack *h;
	struct wire eth0;
};

/* A device of h joined to wire w. */
static inline struct netdev *harness_dev(struct harness *t, const char *name, struct wire *w,
					 const uint8_t mac[6])
{
	int err;
	struct netdev *dev;

	stack_lock(t->h);
	dev = netdev_register(t->h, name, NETDEV_ETHER,
			      IFF_UP | IFF_RUNNING | IFF_BROADCAST | IFF_MULTICAST, 1500, &wire_ops,
			      w, &err);
	if (dev)
		memcpy(dev->hwaddr, mac, 6);
	stack_unlock(t->h);
	w->dev = dev;
	w->n = 0;
	return dev;
}

static inline int harness_init(struct harness *t, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	t->w = ips_world_new(seed);
	t->h = ips_world_add_stack(t->w, "h");
	if (!t->h || !harness_dev(t, "eth0", &t->eth0, H_MAC))
		return -1;
	return ips_addr_add(t->h, "eth0", "10.0.0.1/24");
}

/* Let pending resolutions finish (so no packet waits in a queue), then check that
 * every buffer came back. */
static inline void harness_fini(struct harness *t)
{
	ips_world_run_for(t->w, H_MS(10000));
	long left = ips_stack_pkb_outstanding(t->h);

	ips_world_free(t->w);
	CHECK_EQ(left, 0);
}

static inline uint64_t now_ms_w(struct harness *t)
{
	return ips_world_now_ns(t->w) / 1000000ull;
}

/* Run until virtual time t_ms (absolute). */
static inline void run_to_ms(struct harness *t, uint64_t t_ms)
{
	uint64_t now = ips_world_now_ns(t->w);

	if (H_MS(t_ms) > now)
		ips_world_run_for(t->w, H_MS(t_ms) - now);
	else
		ips_world_run_for(t->w, 0);
}

/* Hand h a frame on w's device. */
static inline void wire_inject(struct harness *t, struct wire *w, const uint8_t *frame, size_t len)
{
	struct pkb *p = stack_pkb_alloc(t->h, len);

	memcpy(pkb_put(p, len), frame, len);
	stack_lock(t->h);
	netdev_rx(w->dev, p);
	stack_unlock(t->h);
	ips_world_run_for(t->w, 0);
}

static inline void inject_arp_on(struct harness *t, struct wire *w, const uint8_t eth_dst[6],
				 uint16_t op, const uint8_t sha[6], uint32_t spa,
				 const uint8_t tha[6], uint32_t tpa)
{
	uint8_t f[ETH_HLEN + WIRE_ARP_LEN];
	struct wire_eth e;
	struct wire_arp a;

	memcpy(e.dst, eth_dst, 6);
	memcpy(e.src, sha, 6);
	e.type = ETH_P_ARP;
	wire_eth_emit(f, &e);
	wire_arp_init(&a, op);
	memcpy(a.sha, sha, 6);
	a.spa = spa;
	memcpy(a.tha, tha, 6);
	a.tpa = tpa;
	wire_arp_emit(f + ETH_HLEN, &a);
	wire_inject(t, w, f, sizeof(f));
}

static inline void inject_arp(struct harness *t, const uint8_t eth_dst[6], uint16_t op,
			      const uint8_t sha[6], uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
	inject_arp_on(t, &t->eth0, eth_dst, op, sha, spa, tha, tpa);
}

/* The peer answers h's request: unicast reply from 10.0.0.2 / P_MAC. */
static inline void peer_reply(struct harness *t, const uint8_t mac[6], uint32_t ip)
{
	inject_arp(t, H_MAC, ARPOP_REPLY, mac, ip, H_MAC, IP("10.0.0.1"));
}

/* h sends an IPv4 datagram (20-byte header + 8 bytes carrying `tag`) from 10.0.0.1 to
 * daddr through link_output() with next hop nexthop. */
static inline int h_send(struct harness *t, struct netdev *dev, uint32_t daddr, uint32_t nexthop,
			 uint32_t tag)
{
	struct pkb *p = stack_pkb_alloc(t->h, 28);
	uint8_t *d = pkb_put(p, 28);
	int rc;

	memset(d, 0, 28);
	d[0] = 0x45;
	put_be16(d + 2, 28);
	d[8] = 64;
	d[9] = 253;		/* experimental protocol number: nobody answers */
	put_in4(d + 12, IP("10.0.0.1"));
	put_in4(d + 16, daddr);
	put_be32(d + 20, tag);
	p->nh = d;
	stack_lock(t->h);
	rc = link_output(dev, p, nexthop);
	stack_unlock(t->h);
	ips_world_run_for(t->w, 0);
	return rc;
}

/* Parsed view of a recorded frame. */
struct seen {
	struct wire_eth eth;
	struct wire_arp arp;	/* when eth.type == ETH_P_ARP */
	uint32_t tag;		/* when IPv4 */
	uint32_t daddr;
};

static inline struct seen frame_parse(const struct frame *f)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	wire_eth_parse(f->d, f->len, &s.eth);
	if (s.eth.type == ETH_P_ARP)
		wire_arp_parse(f->d + ETH_HLEN, f->len - ETH_HLEN, &s.arp);
	else if (s.eth.type == ETH_P_IP && f->len >= ETH_HLEN + 24) {
		s.daddr = get_in4(f->d + ETH_HLEN + 16);
		s.tag = get_be32(f->d + ETH_HLEN + 20);
	}
	return s;
}

static inline int count_arp(const struct wire *w, int from, uint16_t op)
{
	int n = 0;

	for (int i = from; i < w->n; i++) {
		struct seen s = frame_parse(&w->f[i]);

		if (s.eth.type == ETH_P_ARP && s.arp.op == op)
			n++;
	}
	return n;
}

static inline uint8_t neigh_state(struct harness *t, struct netdev *dev, uint32_t addr)
{
	struct neigh_info ni;

	if (neigh_lookup_info(dev, addr, &ni) < 0)
		return 0xff;	/* no entry */
	return ni.state;
}

static inline int set_sysctl(struct harness *t, const char *name, const char *v)
{
	return ips_sysctl_set(t->h, name, v);
}

#endif

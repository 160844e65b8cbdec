/* Raw IPv4 packets for tests, and a capture of what a device sends. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"
#include "ip/ip.h"
#include "link/netdev.h"
#include "support.h"
#include "wire/ipv4.h"
#include "wire/wire.h"

struct pkb *test_ipv4_build(ips_stack *st, const struct test_ipv4 *h)
{
	size_t hlen = 20 + h->opts_len, tot = hlen + h->len;
	struct pkb *p = pkb_alloc(&st->pool, tot + h->pad_to);
	struct wire_ipv4 w;
	uint8_t *d;

	if (!p)
		return NULL;
	d = pkb_put(p, tot + h->pad_to);
	memset(&w, 0, sizeof(w));
	w.tos = h->tos;
	w.tot_len = (uint16_t)tot;
	w.id = h->id;
	w.df = h->df;
	w.mf = h->mf;
	w.frag_off = h->frag_off;
	w.ttl = h->ttl ? h->ttl : 64;
	w.proto = h->proto ? h->proto : 253;
	w.saddr = h->saddr;
	w.daddr = h->daddr;
	w.opts = h->opts;
	w.opts_len = (uint8_t)h->opts_len;
	wire_ipv4_emit(d, &w);
	if (h->len)
		memcpy(d + hlen, h->payload, h->len);
	memset(d + tot, 0, h->pad_to);
	p->nh = d;
	p->pkt_type = PKB_HOST;
	return p;
}

void test_ipv4_inject(ips_stack *st, const char *dev, struct pkb *pkb)
{
	struct netdev *d = stack_dev_by_name(st, dev);

	if (!d) {
		pkb_free(pkb);
		return;
	}
	pkb->dev = d;
	pkb->tstamp_ns = stack_now_ns(st);
	stack_lock(st);
	ip4_rcv(d, pkb);
	stack_unlock(st);
}

int test_send_ip(ips_stack *st, uint32_t daddr, uint8_t proto, const void *payload, size_t len,
		 int ttl, uint8_t tos, int pmtudisc)
{
	struct ip4_out o = {
		.daddr = daddr,
		.proto = proto,
		.tos = tos,
		.ttl = ttl,
		.pmtudisc = pmtudisc,
		.broadcast_ok = true,
	};
	struct pkb *p = pkb_alloc(&st->pool, len);
	int err;

	if (!p)
		return -12;
	if (len)
		memcpy(pkb_put(p, len), payload, len);
	stack_lock(st);
	err = ip4_output(st, p, &o, NULL);
	stack_unlock(st);
	return err;
}

/* ---- Capture ---- */

struct tap_priv {
	struct netdev_ops ops;
	const struct netdev_ops *orig;
	struct test_tap *t;
};

static struct test_tap *taps[16];

static int tap_xmit(struct netdev *dev, struct pkb *pkb)
{
	for (int i = 0; i < 16; i++) {
		struct test_tap *t = taps[i];
		struct tap_priv *tp;

		if (!t || strcmp(t->dev, dev->name) != 0 || t->st != dev->st)
			continue;
		tp = t->priv;
		if (t->n < TEST_TAP_MAX) {
			const uint8_t *d = pkb->data;
			size_t len = pkb->len;

			if (dev->type == NETDEV_ETHER) {
				if (len < 14 || get_be16(d + 12) != 0x0800)
					return tp->orig->xmit(dev, pkb);
				d += 14;
				len -= 14;
			}
			t->pkts[t->n].data = malloc(len ? len : 1);
			if (t->pkts[t->n].data) {
				memcpy(t->pkts[t->n].data, d, len);
				t->pkts[t->n].len = len;
				t->n++;
			}
		}
		return tp->orig->xmit(dev, pkb);
	}
	return -1;
}

int test_tap_start(struct test_tap *t, ips_stack *st, const char *dev)
{
	struct netdev *d = stack_dev_by_name(st, dev);
	struct tap_priv *tp;
	int slot = -1;

	if (!d)
		return -1;
	for (int i = 0; i < 16; i++)
		if (!taps[i]) {
			slot = i;
			break;
		}
	tp = calloc(1, sizeof(*tp));
	if (slot < 0 || !tp) {
		free(tp);
		return -1;
	}
	memset(t, 0, sizeof(*t));
	t->st = st;
	strncpy(t->dev, dev, sizeof(t->dev) - 1);
	tp->orig = d->ops;
	tp->ops = *d->ops;
	tp->ops.xmit = tap_xmit;
	tp->t = t;
	t->priv = tp;
	d->ops = &tp->ops;
	taps[slot] = t;
	return 0;
}

void test_tap_stop(struct test_tap *t)
{
	struct tap_priv *tp = t->priv;
	struct netdev *d = t->st ? stack_dev_by_name(t->st, t->dev) : NULL;

	if (d && tp && d->ops == &tp->ops)
		d->ops = tp->orig;
	for (int i = 0; i < 16; i++)
		if (taps[i] == t)
			taps[i] = NULL;
	for (size_t i = 0; i < t->n; i++)
		free(t->pkts[i].data);
	t->n = 0;
	free(tp);
	t->priv = NULL;
}

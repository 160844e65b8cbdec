/* Callback devices: bare IPv4 in and out through the application (a TUN without the
 * kernel). Transmit calls the user's callback with the packet, with the stack lock held
 * on the stack's loop; the callback must not block, and should queue rather than call
 * back into this stack synchronously. Injected packets are copied into an inbox (any
 * thread) and delivered on the stack's loop, never inside ips_cbdev_inject(): a packet
 * injected from the transmit callback (two stacks wired back to back) is thus received
 * after the current packet is done, not recursively. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"
#include "link/link_priv.h"

#define CBDEV_MAX_PKT 65535

struct cbdev {
	ips_packet_cb out;
	void *arg;
	pthread_mutex_t lock;		/* guards inbox (inject comes from any thread) */
	struct pkb_queue inbox;
	uint64_t inbox_drops;
};

static int cbdev_xmit(struct netdev *dev, struct pkb *pkb)
{
	struct cbdev *c = dev->priv;

	if (c->out)
		c->out(c->arg, pkb->data, pkb->len);
	pkb_free(pkb);
	return 0;
}

static void cbdev_service(struct netdev *dev)
{
	struct cbdev *c = dev->priv;
	struct pkb_queue q;
	uint64_t drops;
	struct pkb *p;

	pthread_mutex_lock(&c->lock);
	q = c->inbox;
	pkb_queue_init(&c->inbox);
	drops = c->inbox_drops;
	c->inbox_drops = 0;
	pthread_mutex_unlock(&c->lock);
	dev->rx_dropped += drops;
	while ((p = pkb_queue_pop(&q)) != NULL)
		netdev_rx(dev, p);
}

static void cbdev_destroy(struct netdev *dev)
{
	struct cbdev *c = dev->priv;

	pkb_queue_purge(&c->inbox);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static const struct netdev_ops cbdev_ops = {
	.xmit = cbdev_xmit,
	.service = cbdev_service,
	.destroy = cbdev_destroy,
};

IPS_API int ips_cbdev_new(ips_stack *st, const char *ifname, uint32_t mtu, ips_packet_cb out,
			  void *arg)
{
	struct cbdev *c;
	struct netdev *dev;
	int err;

	if (!st || !ifname)
		return -EINVAL;
	if (!mtu)
		mtu = 1500;
	if (mtu < 68 || mtu > CBDEV_MAX_PKT)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->out = out;
	c->arg = arg;
	pthread_mutex_init(&c->lock, NULL);
	pkb_queue_init(&c->inbox);
	stack_lock(st);
	dev = netdev_register(st, ifname, NETDEV_RAWIP,
			      IFF_POINTOPOINT | IFF_NOARP | IFF_MULTICAST | IFF_UP | IFF_RUNNING, mtu,
			      &cbdev_ops, c, &err);
	if (dev)
		dev->max_mtu = CBDEV_MAX_PKT;
	stack_unlock(st);
	if (!dev) {
		pthread_mutex_destroy(&c->lock);
		free(c);
		return err;
	}
	return 0;
}

IPS_API int ips_cbdev_inject(ips_stack *st, const char *ifname, const void *pkt, size_t len)
{
	struct netdev *dev;
	struct cbdev *c;
	struct pkb *p;
	int err = 0;

	if (!st || !ifname || (!pkt && len))
		return -EINVAL;
	if (len == 0 || len > CBDEV_MAX_PKT)
		return -EMSGSIZE;
	/* The buffer is made before taking the lock (the pool has its own). */
	p = stack_pkb_alloc(st, len);
	if (!p)
		return -ENOBUFS;
	memcpy(pkb_put(p, len), pkt, len);

	stack_lock(st);
	dev = stack_dev_by_name(st, ifname);
	if (!dev || dev->ops != &cbdev_ops) {
		err = -ENODEV;
		goto out;
	}
	c = dev->priv;
	pthread_mutex_lock(&c->lock);
	if (c->inbox.len >= LINK_BACKLOG_MAX) {
		c->inbox_drops++;
		err = -ENOBUFS;
	} else {
		pkb_queue_push(&c->inbox, p);
		p = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	if (!err) {
		atomic_store(&dev->pending, true);
		stack_kick(st);
	}
out:
	stack_unlock(st);
	pkb_free(p);
	return err;
}

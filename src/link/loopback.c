/* The loopback device `lo`: what is sent on it is queued on a backlog (Linux's
 * loopback_xmit() -> netif_rx()) and received on the next pass of the stack's loop, never
 * synchronously, so a reply is not built inside the call that sent the request. Nothing
 * sent on lo ever leaves the stack. */
#include <errno.h>
#include <stdlib.h>

#include "core/stack.h"
#include "link/link_priv.h"

struct loopback {
	struct pkb_queue backlog;
};

static int loopback_xmit(struct netdev *dev, struct pkb *pkb)
{
	struct loopback *lb = dev->priv;

	if (lb->backlog.len >= LINK_BACKLOG_MAX) {
		/* netif_rx() drop: counted on the receive side, as Linux does. */
		dev->rx_dropped++;
		pkb_free(pkb);
		return 0;
	}
	pkb->pkt_type = pkb->pkt_type == PKB_LOOPBACK ? PKB_LOOPBACK : PKB_HOST;
	pkb_queue_push(&lb->backlog, pkb);
	atomic_store(&dev->pending, true);
	stack_kick(dev->st);
	return 0;
}

static void loopback_service(struct netdev *dev)
{
	struct loopback *lb = dev->priv;
	/* Only what was queued before this pass: packets sent while delivering (replies)
	 * wait for the next pass, as a NAPI budget makes them. */
	size_t n = lb->backlog.len;

	if (n > LINK_SERVICE_BUDGET)
		n = LINK_SERVICE_BUDGET;
	while (n--) {
		struct pkb *p = pkb_queue_pop(&lb->backlog);

		if (!p)
			break;
		netdev_rx(dev, p);
	}
	if (lb->backlog.len) {
		atomic_store(&dev->pending, true);
		stack_kick(dev->st);
	}
}

static void loopback_destroy(struct netdev *dev)
{
	struct loopback *lb = dev->priv;

	pkb_queue_purge(&lb->backlog);
	free(lb);
}

static const struct netdev_ops loopback_ops = {
	.xmit = loopback_xmit,
	.service = loopback_service,
	.destroy = loopback_destroy,
};

struct netdev *loopback_create(struct ips_stack *st, int *err)
{
	struct loopback *lb = calloc(1, sizeof(*lb));
	struct netdev *dev;

	if (!lb) {
		*err = -ENOMEM;
		return NULL;
	}
	pkb_queue_init(&lb->backlog);
	dev = netdev_register(st, "lo", NETDEV_LOOPBACK, IFF_LOOPBACK | IFF_UP | IFF_RUNNING,
			      65536, &loopback_ops, lb, err);
	if (!dev)
		free(lb);
	else
		dev->features |= NETIF_F_HW_CSUM;	/* as Linux's lo: nothing to verify */
	return dev;
}

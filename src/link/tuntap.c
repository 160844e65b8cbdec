/* TAP (Ethernet) and TUN (bare IP) devices on /dev/net/tun.
 *
 * ips_tap_attach(st, "tap0") opens /dev/net/tun with IFF_TAP | IFF_NO_PI and TUNSETIFF,
 * which attaches to the kernel device tap0 if it exists (and we may) or creates it (gone
 * again when the stack closes the fd, unless made persistent). The stack gets a device of
 * the same name whose MTU is the kernel device's (SIOCGIFMTU), and, for a TAP, its own
 * random locally administered MAC: the kernel-side tap0 is the other host on the wire,
 * with its own MAC. The kernel side is left as it is (bring it up, address it with `ip`).
 *
 * The fd is non-blocking: the loop polls it (poll_fd), service() reads until EAGAIN or
 * LINK_SERVICE_BUDGET frames, and xmit writes one frame per write(2); a full kernel queue
 * (EAGAIN) drops the frame and counts tx_dropped, as a full qdisc would. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/stack.h"
#include "link/link_priv.h"
#include "wire/eth.h"

#define TAP_MAX_MTU 65521	/* 65535 - ETH_HLEN, as Linux's tap reports */
#define TUN_MAX_MTU 65535

struct tuntap {
	int fd;
};

static int tuntap_xmit(struct netdev *dev, struct pkb *pkb)
{
	struct tuntap *t = dev->priv;
	ssize_t n = write(t->fd, pkb->data, pkb->len);
	int err = n < 0 ? -errno : 0;

	pkb_free(pkb);
	return err;	/* < 0: netdev_xmit_wire() counts tx_dropped */
}

static void tuntap_service(struct netdev *dev)
{
	struct tuntap *t = dev->priv;
	/* Room for a frame of our MTU (with a VLAN tag); a longer one is cut by read(2)
	 * and dropped below, as a NIC drops frames over its MTU. */
	size_t room = dev->mtu + (dev->type == NETDEV_ETHER ? ETH_HLEN + 4 : 0);

	for (int i = 0; i < LINK_SERVICE_BUDGET; i++) {
		struct pkb *p = stack_pkb_alloc(dev->st, room + 1);
		ssize_t n;

		if (!p) {
			dev->rx_dropped++;
			break;
		}
		n = read(t->fd, p->data, room + 1);
		if (n <= 0) {
			pkb_free(p);
			if (n < 0 && errno == EINTR)
				continue;
			return;		/* EAGAIN (drained), or the device is gone */
		}
		if ((size_t)n > room) {
			dev->rx_dropped++;
			pkb_free(p);
			continue;
		}
		pkb_put(p, (size_t)n);
		netdev_rx(dev, p);
	}
	/* Budget spent with input left: come back on the next pass. */
	atomic_store(&dev->pending, true);
	stack_kick(dev->st);
}

static int tuntap_poll_fd(struct netdev *dev)
{
	return ((struct tuntap *)dev->priv)->fd;
}

static void tuntap_destroy(struct netdev *dev)
{
	struct tuntap *t = dev->priv;

	close(t->fd);
	free(t);
}

static const struct netdev_ops tuntap_ops = {
	.xmit = tuntap_xmit,
	.service = tuntap_service,
	.poll_fd = tuntap_poll_fd,
	.destroy = tuntap_destroy,
};

/* The kernel device's MTU, or 1500. */
static uint32_t kernel_dev_mtu(const char *ifname)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint32_t mtu = 1500;

	if (s < 0)
		return mtu;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
		mtu = (uint32_t)ifr.ifr_mtu;
	close(s);
	return mtu;
}

static int tuntap_attach(ips_stack *st, const char *ifname, bool tap)
{
	struct ifreq ifr;
	struct tuntap *t;
	struct netdev *dev;
	uint32_t mtu, max_mtu = tap ? TAP_MAX_MTU : TUN_MAX_MTU;
	int fd, err;

	if (!st || !ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = (short)((tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI);
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	mtu = kernel_dev_mtu(ifname);
	if (mtu < 68)
		mtu = 68;
	if (mtu > max_mtu)
		mtu = max_mtu;
	t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		return -ENOMEM;
	}
	t->fd = fd;

	stack_lock(st);
	dev = netdev_register(st, ifname, tap ? NETDEV_ETHER : NETDEV_RAWIP,
			      (tap ? IFF_BROADCAST : IFF_POINTOPOINT | IFF_NOARP) | IFF_MULTICAST |
				      IFF_UP | IFF_RUNNING,
			      mtu, &tuntap_ops, t, &err);
	if (dev) {
		dev->max_mtu = max_mtu;
		if (tap)
			link_random_mac(st, dev->hwaddr);
		/* Frames may already be waiting. */
		atomic_store(&dev->pending, true);
		stack_kick(st);
	}
	stack_unlock(st);
	if (!dev) {
		close(fd);
		free(t);
		return err;
	}
	return 0;
}

IPS_API int ips_tap_attach(ips_stack *st, const char *ifname)
{
	return tuntap_attach(st, ifname, true);
}

IPS_API int ips_tun_attach(ips_stack *st, const char *ifname)
{
	return tuntap_attach(st, ifname, false);
}

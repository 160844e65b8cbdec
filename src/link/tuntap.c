/* TAP (Ethernet) and TUN (bare IP) devices on /dev/net/tun.
 *
 * ips_tap_attach(st, "tap0") opens /dev/net/tun with IFF_TAP | IFF_NO_PI and TUNSETIFF,
 * which attaches to the kernel device tap0 if it exists (and we may) or creates it (gone
 * again when the stack closes the fd, unless made persistent). The stack gets a device of
 * the same name whose MTU is the kernel device's (SIOCGIFMTU), and, for a TAP, its own
 * random locally administered MAC: the kernel-side tap0 is the other host on the wire,
 * with its own MAC. The kernel side is left as it is (bring it up, address it with `ip`).
 *
 * Offloads, as a virtio-net guest has them: the fd is opened with IFF_VNET_HDR, so every
 * frame in either direction carries a struct virtio_net_hdr (src/wire/virtio_net.h), and
 * TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN) tells the kernel we take what
 * its side leaves undone (it gives the kernel's tap NETIF_F_HW_CSUM and TSO). Then:
 *  - we send TCP super-packets of up to 64 KB in one writev (gso_type TCPV4, gso_size the
 *    MSS) and leave checksums to the kernel (NEEDS_CSUM; CHECKSUM_PARTIAL there);
 *  - the kernel sends us its TSO bursts and GRO'd packets whole, and its checksums
 *    unfilled (NEEDS_CSUM): they go up as a memlink's super-packets do (netdev_rx() with
 *    gso_size/gso_segs; TCP's checksum trusted, as Linux trusts CHECKSUM_PARTIAL).
 * If the kernel refuses any of it, the fd is opened again without IFF_VNET_HDR: plain
 * frames, no offloads (hw_features 0). ips_dev_set_offload() turns them off and on
 * (TUNSETOFFLOAD follows); the header stays, with nothing in it.
 *
 * The fd is non-blocking: the loop polls it (poll_fd), service() reads until EAGAIN or
 * LINK_SERVICE_BUDGET frames, and xmit writes one frame (or super-packet) per
 * write(2)/writev(2); a full kernel queue (EAGAIN) drops it and counts tx_dropped, as a
 * full qdisc would. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/csum.h"
#include "core/stack.h"
#include "ip/gso.h"
#include "link/link_priv.h"
#include "wire/eth.h"
#include "wire/tcp.h"
#include "wire/virtio_net.h"
#include "wire/wire.h"

#define TAP_MAX_MTU 65521	/* 65535 - ETH_HLEN, as Linux's tap reports */
#define TUN_MAX_MTU 65535
#define VLAN_HLEN 4
/* The largest frame the kernel can hand us: a 64 KB IPv4 packet (a GRO'd or TSO
 * super-packet) behind an Ethernet header with a VLAN tag. */
#define TUNTAP_MAX_FRAME (65535 + ETH_HLEN + VLAN_HLEN)
/* What TUNSETOFFLOAD says for our features. */
#define TUNTAP_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN)

struct tuntap {
	int fd;
	bool vnet;		/* frames carry a struct virtio_net_hdr */
	/* A read fills a pool-sized buffer first and spills into this (frames longer than
	 * a pool buffer are rare except for super-packets, which are copied once). */
	uint8_t *spill;
	size_t spill_len;
};

/* Bytes of link header before the IPv4 header. */
static size_t tuntap_mac_len(const struct netdev *dev)
{
	return dev->type == NETDEV_ETHER ? ETH_HLEN : 0;
}

/* Where the IPv4 header of frame p starts, or -1 when it is not IPv4. */
static long tuntap_ip_off(const struct netdev *dev, const struct pkb *p)
{
	if (dev->type == NETDEV_ETHER)
		return p->len >= ETH_HLEN && get_be16(p->data + 12) == ETH_P_IP ? ETH_HLEN : -1;
	return p->len >= 1 && (p->data[0] >> 4) == 4 ? 0 : -1;
}

/* The virtio_net_hdr for an outgoing frame: what the kernel is left to do
 * (virtio_net_hdr_from_skb()). A super-packet gets its TCP checksum left to the kernel
 * even if it was complete (tcp4_gso_segment() does the same). -EINVAL for a super-packet
 * that is not a whole IPv4/TCP packet (it cannot be described). */
static int tuntap_vnet_hdr(struct netdev *dev, struct pkb *pkb, struct wire_vnet *h)
{
	size_t mac_len = tuntap_mac_len(dev);

	memset(h, 0, sizeof(*h));
	if (pkb->gso_size) {
		const uint8_t *iph = pkb->data + mac_len;
		struct wire_vnet_rx chk;
		size_t ihl, thl;
		uint8_t *th;

		if (pkb->len < mac_len + 20 || (iph[0] >> 4) != 4)
			return -EINVAL;
		ihl = (size_t)(iph[0] & 15) * 4;
		if (pkb->len < mac_len + ihl + WIRE_TCP_HLEN)
			return -EINVAL;
		th = pkb->data + mac_len + ihl;
		thl = (size_t)(th[12] >> 4) * 4;
		if (pkb->ip_summed != PKB_CSUM_PARTIAL) {
			uint16_t tot = get_be16(iph + 2);

			if (tot < ihl)
				return -EINVAL;
			pkb_csum_partial(pkb, th, 16,
					 ips_csum_pseudo(get_in4(iph + 12), get_in4(iph + 16),
							 IPPROTO_TCP, (uint16_t)(tot - ihl)));
		}
		h->gso_type = WIRE_VNET_GSO_TCPV4;
		if (get_be16(th + 12) & WIRE_TCP_CWR)
			h->gso_type |= WIRE_VNET_GSO_ECN;	/* SKB_GSO_TCP_ECN */
		h->gso_size = pkb->gso_size;
		h->hdr_len = (uint16_t)(mac_len + ihl + thl);
		h->flags = WIRE_VNET_F_NEEDS_CSUM;
		h->csum_start = (uint16_t)(mac_len + ihl);
		h->csum_offset = 16;
		/* The header must pass the checks the kernel makes: the same as ours. */
		if (wire_vnet_check(h, pkb->data, pkb->len, (long)mac_len, &chk) < 0 ||
		    (uint8_t *)pkb->buf + pkb->csum_start != th || pkb->csum_offset != 16)
			return -EINVAL;
		return 0;
	}
	if (pkb->ip_summed == PKB_CSUM_PARTIAL) {
		uint8_t *start = pkb->buf + pkb->csum_start;

		if (start < pkb->data || start + pkb->csum_offset + 2 > pkb->data + pkb->len) {
			pkb_csum_resolve(pkb);	/* (resolve checks the same and does nothing) */
			return 0;
		}
		h->flags = WIRE_VNET_F_NEEDS_CSUM;
		h->csum_start = (uint16_t)(start - pkb->data);
		h->csum_offset = pkb->csum_offset;
		h->hdr_len = (uint16_t)(h->csum_start + h->csum_offset + 2);
	}
	return 0;
}

static int tuntap_xmit(struct netdev *dev, struct pkb *pkb)
{
	struct tuntap *t = dev->priv;
	uint8_t vh[WIRE_VNET_HLEN];
	struct wire_vnet h;
	struct iovec iov[2];
	ssize_t n;
	int err = 0;

	if (!t->vnet) {
		n = write(t->fd, pkb->data, pkb->len);
		err = n < 0 ? -errno : 0;
		pkb_free(pkb);
		return err;	/* < 0: netdev_xmit_wire() counts tx_dropped */
	}
	err = tuntap_vnet_hdr(dev, pkb, &h);
	if (err == 0) {
		wire_vnet_emit(vh, &h);
		iov[0].iov_base = vh;
		iov[0].iov_len = sizeof(vh);
		iov[1].iov_base = pkb->data;
		iov[1].iov_len = pkb->len;
		n = writev(t->fd, iov, 2);
		err = n < 0 ? -errno : 0;
	}
	pkb_free(pkb);
	return err;
}

/* One frame read with its virtio_net_hdr (vh): checked, marked and handed up. Consumes p. */
static void tuntap_rx_vnet(struct netdev *dev, const uint8_t *vh, struct pkb *p)
{
	size_t mac_len = tuntap_mac_len(dev);
	size_t max = dev->mtu + mac_len + (dev->type == NETDEV_ETHER ? VLAN_HLEN : 0);
	long ip_off = tuntap_ip_off(dev, p);
	struct wire_vnet h;
	struct wire_vnet_rx rx;

	if (wire_vnet_parse(vh, WIRE_VNET_HLEN, &h) < 0 ||
	    wire_vnet_check(&h, p->data, p->len, ip_off, &rx) < 0) {
		/* virtio_net's receive_buf(): a header virtio_net_hdr_to_skb() refuses is a
		 * frame error, dropped. */
		dev->rx_frame_errors++;
		pkb_free(p);
		return;
	}
	if (rx.gso_size) {
		p->gso_size = rx.gso_size;
		p->gso_segs = rx.gso_segs;
		/* As a memlink's is_skb_forwardable(): by the size of its segments. */
		if (gso_network_seglen(p, p->data + ip_off) + mac_len > max) {
			dev->rx_dropped++;
			pkb_free(p);
			return;
		}
	} else if (p->len > max) {
		dev->rx_dropped++;	/* over the MTU, as a NIC drops it */
		pkb_free(p);
		return;
	}
	if (rx.csum_partial) {
		/* CHECKSUM_PARTIAL: nothing can have corrupted it on the way (it never left
		 * the kernel's memory). TCP takes it as verified, as Linux does; for anything
		 * else (UDP...) the sum is completed here and checked above as usual. */
		p->ip_summed = PKB_CSUM_PARTIAL;
		p->csum_start = (uint16_t)(pkb_headroom(p) + rx.csum_start);
		p->csum_offset = rx.csum_offset;
		if (!rx.csum_tcp)
			pkb_csum_resolve(p);
	} else if (rx.data_valid && (dev->features & NETIF_F_HW_CSUM)) {
		/* DATA_VALID is CHECKSUM_UNNECESSARY for the outermost L4 checksum, and the
		 * virtio spec lets a device set it only when the guest took VIRTIO_NET_F_GUEST_CSUM
		 * (TUN_F_CSUM here): with checksum offload off we verify it ourselves. */
		p->ip_summed = PKB_CSUM_UNNECESSARY;
	}
	netdev_rx(dev, p);
}

static void tuntap_service(struct netdev *dev)
{
	struct tuntap *t = dev->priv;
	/* A frame of our MTU (with a VLAN tag): longer ones are dropped below, as a NIC
	 * drops frames over its MTU, unless they come as super-packets. */
	size_t max = dev->mtu + (dev->type == NETDEV_ETHER ? ETH_HLEN + VLAN_HLEN : 0);

	for (int i = 0; i < LINK_SERVICE_BUDGET; i++) {
		struct pkb *p = stack_pkb_alloc(dev->st, PKB_POOL_BUFSZ - PKB_HEADROOM);
		uint8_t vh[WIRE_VNET_HLEN];
		struct iovec iov[3];
		size_t room, flen;
		int k = 0;
		ssize_t n;

		if (!p) {
			dev->rx_dropped++;
			break;
		}
		room = pkb_tailroom(p);
		if (t->vnet) {
			iov[k].iov_base = vh;
			iov[k++].iov_len = sizeof(vh);
		}
		iov[k].iov_base = p->data;
		iov[k++].iov_len = room;
		iov[k].iov_base = t->spill;
		iov[k++].iov_len = t->spill_len;
		n = readv(t->fd, iov, k);
		if (n <= 0) {
			pkb_free(p);
			if (n < 0 && errno == EINTR)
				continue;
			return;		/* EAGAIN (drained), or the device is gone */
		}
		if (t->vnet && (size_t)n < sizeof(vh)) {
			dev->rx_frame_errors++;
			pkb_free(p);
			continue;
		}
		flen = (size_t)n - (t->vnet ? sizeof(vh) : 0);
		if (!t->vnet && flen > max) {
			dev->rx_dropped++;
			pkb_free(p);
			continue;
		}
		if (flen > room) {
			struct pkb *big = stack_pkb_alloc(dev->st, flen);

			if (!big) {
				dev->rx_dropped++;
				pkb_free(p);
				continue;
			}
			memcpy(pkb_put(big, flen), p->data, room);
			memcpy(big->data + room, t->spill, flen - room);
			pkb_free(p);
			p = big;
		} else {
			pkb_put(p, flen);
		}
		if (t->vnet)
			tuntap_rx_vnet(dev, vh, p);
		else
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
	free(t->spill);
	free(t);
}

/* ethtool -K: what the kernel may leave to us (TUNSETOFFLOAD). What we send follows
 * dev->features in netdev_xmit(). */
static int tuntap_set_features(struct netdev *dev, unsigned features)
{
	struct tuntap *t = dev->priv;
	unsigned long f = 0;

	if (!t->vnet)
		return 0;	/* hw_features 0: features can only be 0 */
	if (features & NETIF_F_HW_CSUM)
		f |= TUN_F_CSUM;
	if (features & NETIF_F_TSO)
		f |= TUN_F_TSO4 | TUN_F_TSO_ECN;
	return ioctl(t->fd, TUNSETOFFLOAD, f) < 0 ? -errno : 0;
}

static const struct netdev_ops tuntap_ops = {
	.xmit = tuntap_xmit,
	.service = tuntap_service,
	.poll_fd = tuntap_poll_fd,
	.destroy = tuntap_destroy,
	.set_features = tuntap_set_features,
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

/* Open /dev/net/tun and attach to (or create) ifname with flags. The fd, or -errno. */
static int tuntap_open(const char *ifname, short flags)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static bool host_is_little_endian(void)
{
	const uint16_t one = 1;

	return *(const uint8_t *)&one == 1;
}

/* The virtio_net_hdr as we use it: 10 bytes, little-endian, and the kernel may leave
 * checksums and segmentation to us. 0, or -errno from the first ioctl the kernel refused. */
static int tuntap_vnet_setup(int fd)
{
	int sz = WIRE_VNET_HLEN, le = 1;

	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
		return -errno;
	/* Without TUNSETVNETLE (before 4.2 / 4.8) the header is in the host's order, which
	 * is little-endian where it matters. */
	if (ioctl(fd, TUNSETVNETLE, &le) < 0 && !host_is_little_endian())
		return -errno;
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)TUNTAP_OFFLOADS) < 0)
		return -errno;
	return 0;
}

static int tuntap_attach(ips_stack *st, const char *ifname, bool tap)
{
	struct tuntap *t;
	struct netdev *dev;
	uint32_t mtu, max_mtu = tap ? TAP_MAX_MTU : TUN_MAX_MTU;
	short flags = (short)((tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI);
	bool vnet = true;
	int fd, err;

	if (!st || !ifname || !*ifname || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	/* Offloads if the kernel takes them; plain frames otherwise (a new fd: TUNSETIFF
	 * cannot be taken back, and IFF_VNET_HDR is a property of the attachment). */
	fd = tuntap_open(ifname, (short)(flags | IFF_VNET_HDR));
	if (fd >= 0 && tuntap_vnet_setup(fd) < 0) {
		close(fd);
		fd = -EINVAL;
	}
	if (fd == -EINVAL) {
		vnet = false;
		fd = tuntap_open(ifname, flags);
	}
	if (fd < 0)
		return fd;
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
	t->vnet = vnet;
	t->spill_len = TUNTAP_MAX_FRAME + 1 - (PKB_POOL_BUFSZ - PKB_HEADROOM) + 1;
	t->spill = malloc(t->spill_len);
	if (!t->spill) {
		close(fd);
		free(t);
		return -ENOMEM;
	}

	stack_lock(st);
	dev = netdev_register(st, ifname, tap ? NETDEV_ETHER : NETDEV_RAWIP,
			      (tap ? IFF_BROADCAST : IFF_POINTOPOINT | IFF_NOARP) | IFF_MULTICAST |
				      IFF_UP | IFF_RUNNING,
			      mtu, &tuntap_ops, t, &err);
	if (dev) {
		dev->max_mtu = max_mtu;
		if (tap)
			link_random_mac(st, dev->hwaddr);
		if (vnet)	/* on, as a virtio-net device's are */
			dev->hw_features = dev->features = NETIF_F_OFFLOADS;
		/* Frames may already be waiting. */
		atomic_store(&dev->pending, true);
		stack_kick(st);
	}
	stack_unlock(st);
	if (!dev) {
		close(fd);
		free(t->spill);
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

/* Socket ioctls: socket(7) (FIONREAD/SIOCINQ, SIOCOUTQ, SIOCGSTAMP(NS), FIOASYNC,
 * SIOCSPGRP/SIOCGPGRP) and netdevice(7) (Linux dev_ioctl(), devinet_ioctl(),
 * dev_ifconf()). */
#include <errno.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>

#include "core/stack.h"
#include "ip/ip.h"
#include "link/netdev.h"
#include "socket/socket_state.h"

#ifndef SIOCGSTAMP_OLD
#define SIOCGSTAMP_OLD 0x8906
#define SIOCGSTAMPNS_OLD 0x8907
#endif

/* Linux inet_abc_len(): the classful prefix length SIOCSIFADDR gives an address. */
static int inet_abc_len(uint32_t addr)
{
	uint32_t h = ntohl(addr);

	if (h == 0)
		return 0;
	if ((h & 0x80000000u) == 0)
		return 8;
	if ((h & 0xc0000000u) == 0x80000000u)
		return 16;
	if ((h & 0xe0000000u) == 0xc0000000u)
		return 24;
	if ((h & 0xf0000000u) == 0xe0000000u)
		return 4;	/* multicast: Linux returns -1 unless zeronet... kept invalid below */
	return -1;
}

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

static unsigned dev_flags(const struct netdev *dev)
{
	unsigned f = dev->flags;

	if (f & IFF_UP)
		f |= IFF_RUNNING | IFF_LOWER_UP;
	return f;
}

static int ifconf(struct ips_stack *st, struct ifconf *ifc)
{
	int total = 0, len = ifc->ifc_len;
	char *buf = ifc->ifc_buf;

	for (struct netdev *d = st->devs; d; d = d->next) {
		if (!d->in)
			continue;
		for (struct in_ifaddr *a = d->in->ifa_list; a; a = a->next) {
			if (!buf) {
				total += (int)sizeof(struct ifreq);
				continue;
			}
			if (len - total < (int)sizeof(struct ifreq))
				break;
			struct ifreq r;
			struct sockaddr_in *sin = (struct sockaddr_in *)&r.ifr_addr;

			memset(&r, 0, sizeof(r));
			snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", d->name);
			sin->sin_family = AF_INET;
			sin->sin_addr.s_addr = a->local;
			memcpy(buf + total, &r, sizeof(r));
			total += (int)sizeof(r);
		}
	}
	ifc->ifc_len = total;
	return 0;
}

/* devinet_ioctl() */
static int devinet_ioctl(struct sock *sk, unsigned long cmd, struct ifreq *ifr)
{
	struct ips_stack *st = sk->st;
	struct sockaddr_in sin_orig, *sin = (struct sockaddr_in *)&ifr->ifr_addr;
	bool tryaddrmatch = false;
	struct netdev *dev;
	struct in_ifaddr *ifa = NULL;

	memcpy(&sin_orig, sin, sizeof(sin_orig));
	ifr->ifr_name[IFNAMSIZ - 1] = 0;
	switch (cmd) {
	case SIOCGIFADDR:
	case SIOCGIFBRDADDR:
	case SIOCGIFDSTADDR:
	case SIOCGIFNETMASK:
		tryaddrmatch = sin_orig.sin_family == AF_INET;
		memset(sin, 0, sizeof(*sin));
		sin->sin_family = AF_INET;
		break;
	case SIOCSIFFLAGS:
		if (!sock_capable(st, SOCK_CAP_NET_ADMIN))
			return -EPERM;
		break;
	case SIOCSIFADDR:
	case SIOCSIFBRDADDR:
	case SIOCSIFDSTADDR:
	case SIOCSIFNETMASK:
		if (!sock_capable(st, SOCK_CAP_NET_ADMIN))
			return -EPERM;
		if (sin->sin_family != AF_INET)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	dev = stack_dev_by_name(st, ifr->ifr_name);
	if (!dev)
		return -ENODEV;
	if (dev->in) {
		if (tryaddrmatch)
			for (ifa = dev->in->ifa_list; ifa; ifa = ifa->next)
				if (ifa->local == sin_orig.sin_addr.s_addr)
					break;
		if (!ifa)
			ifa = dev->in->ifa_list;
	}
	if (!ifa && cmd != SIOCSIFADDR && cmd != SIOCSIFFLAGS)
		return -EADDRNOTAVAIL;
	switch (cmd) {
	case SIOCGIFADDR:
	case SIOCGIFDSTADDR:
		sin->sin_addr.s_addr = ifa->local;
		return 0;
	case SIOCGIFBRDADDR:
		sin->sin_addr.s_addr = ifa->broadcast;
		return 0;
	case SIOCGIFNETMASK:
		sin->sin_addr.s_addr = ifa->mask;
		return 0;
	case SIOCSIFFLAGS:
		return netdev_set_up(dev, (ifr->ifr_flags & IFF_UP) != 0);
	case SIOCSIFADDR: {
		int plen = inet_abc_len(sin->sin_addr.s_addr);

		if (plen < 0 || plen == 4)
			return -EINVAL;
		if (ifa) {
			if (ifa->local == sin->sin_addr.s_addr)
				return 0;
			ip4_addr_del(dev, ifa->local, ifa->prefixlen);
		}
		if (dev->flags & IFF_POINTOPOINT)
			plen = 32;
		return ip4_addr_add(dev, sin->sin_addr.s_addr, plen);
	}
	default:
		return -EINVAL;
	}
}

static int dev_ioctl(struct sock *sk, unsigned long cmd, struct ifreq *ifr)
{
	struct ips_stack *st = sk->st;
	struct netdev *dev;

	if (!ifr)
		return -EFAULT;
	switch (cmd) {
	case SIOCGIFNAME:
		dev = stack_dev_by_index(st, ifr->ifr_ifindex);
		if (!dev)
			return -ENODEV;
		snprintf(ifr->ifr_name, IFNAMSIZ, "%s", dev->name);
		return 0;
	case SIOCGIFADDR:
	case SIOCGIFBRDADDR:
	case SIOCGIFDSTADDR:
	case SIOCGIFNETMASK:
	case SIOCSIFADDR:
	case SIOCSIFBRDADDR:
	case SIOCSIFDSTADDR:
	case SIOCSIFNETMASK:
		return devinet_ioctl(sk, cmd, ifr);
	case SIOCSIFFLAGS:
		if (!sock_capable(st, SOCK_CAP_NET_ADMIN))
			return -EPERM;
		ifr->ifr_name[IFNAMSIZ - 1] = 0;
		dev = stack_dev_by_name(st, ifr->ifr_name);
		if (!dev)
			return -ENODEV;
		return netdev_set_up(dev, (ifr->ifr_flags & IFF_UP) != 0);
	case SIOCSIFMTU:
		if (!sock_capable(st, SOCK_CAP_NET_ADMIN))
			return -EPERM;
		ifr->ifr_name[IFNAMSIZ - 1] = 0;
		dev = stack_dev_by_name(st, ifr->ifr_name);
		if (!dev)
			return -ENODEV;
		if (ifr->ifr_mtu < 0)
			return -EINVAL;
		return netdev_set_mtu(dev, (uint32_t)ifr->ifr_mtu);
	case SIOCGIFFLAGS:
	case SIOCGIFMTU:
	case SIOCGIFINDEX:
	case SIOCGIFHWADDR:
	case SIOCGIFMETRIC:
		ifr->ifr_name[IFNAMSIZ - 1] = 0;
		dev = stack_dev_by_name(st, ifr->ifr_name);
		if (!dev)
			return -ENODEV;
		switch (cmd) {
		case SIOCGIFFLAGS:
			ifr->ifr_flags = (short)dev_flags(dev);
			return 0;
		case SIOCGIFMTU:
			ifr->ifr_mtu = (int)dev->mtu;
			return 0;
		case SIOCGIFINDEX:
			ifr->ifr_ifindex = dev->ifindex;
			return 0;
		case SIOCGIFMETRIC:
			ifr->ifr_metric = 0;
			return 0;
		default:
			memset(&ifr->ifr_hwaddr, 0, sizeof(ifr->ifr_hwaddr));
			ifr->ifr_hwaddr.sa_family = dev->type == NETDEV_ETHER ? ARPHRD_ETHER
					: dev->type == NETDEV_LOOPBACK ? ARPHRD_LOOPBACK : ARPHRD_NONE;
			if (dev->type != NETDEV_RAWIP)
				memcpy(ifr->ifr_hwaddr.sa_data, dev->hwaddr, 6);
			return 0;
		}
	default:
		return -ENOTTY;
	}
}

int sock_ioctl(struct sock *sk, unsigned long req, void *arg)
{
	struct ips_stack *st = sk->st;

	switch (req) {
	case FIONREAD: /* == SIOCINQ */
		if (sk->protocol == IPPROTO_ICMP && sk->type == SOCK_DGRAM)
			return -ENOTTY;	/* ping sockets have no ioctl of their own */
		if (!arg)
			return -EFAULT;
		*(int *)arg = sk->rcvq.head ? (int)sk->rcvq.head->len : 0;
		return 0;
	case SIOCOUTQ:
		if (sk->protocol == IPPROTO_ICMP && sk->type == SOCK_DGRAM)
			return -ENOTTY;
		if (!arg)
			return -EFAULT;
		*(int *)arg = (int)sk->wmem;
		return 0;
	case SIOCGSTAMP_OLD:
	case SIOCGSTAMPNS_OLD: {
		struct timespec ts;

		if (!sk->stamp_set)
			return -ENOENT;
		if (!arg)
			return -EFAULT;
		sock_stamp_to_real(st, sk->stamp_ns, &ts);
		if (req == SIOCGSTAMP_OLD) {
			struct timeval tv = { .tv_sec = ts.tv_sec, .tv_usec = ts.tv_nsec / 1000 };

			memcpy(arg, &tv, sizeof(tv));
		} else {
			memcpy(arg, &ts, sizeof(ts));
		}
		return 0;
	}
	case FIOASYNC:
		return arg ? 0 : -EFAULT;
	case SIOCSPGRP:
	case FIOSETOWN:
		return arg ? 0 : -EFAULT;
	case SIOCGPGRP:
	case FIOGETOWN:
		if (!arg)
			return -EFAULT;
		*(int *)arg = 0;
		return 0;
	case SIOCGIFCONF:
		if (!arg)
			return -EFAULT;
		return ifconf(st, arg);
	default:
		if (((req >> 8) & 0xff) != 0x89)
			return -ENOTTY;	/* not a socket ioctl (is_socket_ioctl_cmd()) */
		return dev_ioctl(sk, req, arg);
	}
}

/* setsockopt/getsockopt for SOL_SOCKET (Linux sk_setsockopt/sk_getsockopt) and
 * IPPROTO_IP (do_ip_setsockopt/do_ip_getsockopt), then the protocol's own levels.
 * Defaults, value checks and optlen rules are Linux's, option by option. */
#include <errno.h>
#include <netinet/tcp.h>	/* TCP_CLOSE, TCP_LISTEN (sk_state of stream sockets) */
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/stack.h"
#include "ip/ip.h"
#include "ip/route.h"
#include "link/netdev.h"
#include "socket/socket_state.h"

/* SO_TIMESTAMPING and its flags (Linux 6.18 <linux/net_tstamp.h>; libc headers lag) */
#define SO_TIMESTAMPING_OLD_			37
#define SOF_TIMESTAMPING_OPT_ID_		(1u << 7)
#define SOF_TIMESTAMPING_OPT_TSONLY_		(1u << 11)
#define SOF_TIMESTAMPING_OPT_STATS_		(1u << 12)
#define SOF_TIMESTAMPING_BIND_PHC_		(1u << 15)
#define SOF_TIMESTAMPING_OPT_ID_TCP_		(1u << 16)
#define SOF_TIMESTAMPING_MASK_			((1u << 19) - 1)

#ifndef SO_TIMESTAMP_OLD
#define SO_TIMESTAMP_OLD 29
#define SO_TIMESTAMPNS_OLD 35
#define SO_RCVTIMEO_OLD 20
#define SO_SNDTIMEO_OLD 21
#endif
#ifndef SO_RCVTIMEO_NEW
#define SO_RCVTIMEO_NEW 66
#define SO_SNDTIMEO_NEW 67
#define SO_TIMESTAMP_NEW 63
#define SO_TIMESTAMPNS_NEW 64
#endif
#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif
#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62
#endif
#ifndef IP_RECVERR_RFC4884
#define IP_RECVERR_RFC4884 26
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif
#ifndef IP_PROTOCOL
#define IP_PROTOCOL 52
#endif
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
#ifndef IP_CHECKSUM
#define IP_CHECKSUM 23
#endif
#ifndef IP_RECVFRAGSIZE
#define IP_RECVFRAGSIZE 25
#endif
#ifndef IP_UNICAST_IF
#define IP_UNICAST_IF 50
#endif
#ifndef IP_MULTICAST_ALL
#define IP_MULTICAST_ALL 49
#endif
#ifndef IP_NODEFRAG
#define IP_NODEFRAG 22
#endif

#define SOCK_SNDBUF_LOCK 1
#define SOCK_RCVBUF_LOCK 2

static int sock_hz(struct sock *sk)
{
	return sk->st->sysctl.hz > 0 ? sk->st->sysctl.hz : 250;
}

/* ip_tos2prio[] of net/ipv4/route.c */
static int rt_tos2priority(uint8_t tos)
{
	static const uint8_t tos2prio[16] = { 0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4 };

	return tos2prio[(tos & 0x1e) >> 1];
}

/* sk_set_prio_allowed() */
static bool prio_allowed(struct sock *sk, int val)
{
	return (val >= 0 && val <= 6) || sock_capable(sk->st, SOCK_CAP_NET_RAW) ||
	       sock_capable(sk->st, SOCK_CAP_NET_ADMIN);
}

/* sock_set_timeout() */
static int set_timeout(struct sock *sk, int64_t *timeo, const void *val, socklen_t len, bool old)
{
	struct timeval tv;
	int hz = sock_hz(sk);

	if (old) {
		if (len < sizeof(tv))
			return -EINVAL;
		memcpy(&tv, val, sizeof(tv));
	} else {
		struct { int64_t sec, usec; } t;

		if (len < sizeof(t))
			return -EINVAL;
		memcpy(&t, val, sizeof(t));
		tv.tv_sec = (time_t)t.sec;
		tv.tv_usec = (suseconds_t)t.usec;
	}
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	if (tv.tv_sec < 0) {
		*timeo = 0;
		return 0;
	}
	*timeo = SOCK_TIMEO_MAX;
	if ((tv.tv_sec || tv.tv_usec) && tv.tv_sec < (int64_t)(LONG_MAX / hz - 1))
		*timeo = (int64_t)tv.tv_sec * hz +
			 ((int64_t)tv.tv_usec + (1000000 / hz) - 1) / (1000000 / hz);
	return 0;
}

static socklen_t get_timeout(struct sock *sk, int64_t timeo, void *out, bool old)
{
	int hz = sock_hz(sk);
	int64_t sec = 0, usec = 0;

	if (timeo != SOCK_TIMEO_MAX) {
		sec = timeo / hz;
		usec = (timeo % hz) * 1000000 / hz;
	}
	if (old) {
		struct timeval tv = { .tv_sec = (time_t)sec, .tv_usec = (suseconds_t)usec };

		memcpy(out, &tv, sizeof(tv));
		return sizeof(tv);
	}
	struct { int64_t sec, usec; } t = { sec, usec };

	memcpy(out, &t, sizeof(t));
	return sizeof(t);
}

static void set_rcvbuf(struct sock *sk, int val)
{
	if (val > INT_MAX / 2)
		val = INT_MAX / 2;
	sk->rcvbuf_locked = true;
	sk->rcvbuf = val * 2 > SOCK_MIN_RCVBUF ? val * 2 : SOCK_MIN_RCVBUF;
}

static void set_sndbuf(struct sock *sk, int val)
{
	if (val > INT_MAX / 2)
		val = INT_MAX / 2;
	sk->sndbuf_locked = true;
	sk->sndbuf = val * 2 > SOCK_MIN_SNDBUF ? val * 2 : SOCK_MIN_SNDBUF;
}

/* sock_bindtoindex_locked() */
static int bind_to_index(struct sock *sk, int ifindex)
{
	if (sk->bound_dev_if && !sock_capable(sk->st, SOCK_CAP_NET_RAW))
		return -EPERM;
	if (ifindex < 0)
		return -EINVAL;	/* (the index is not checked: Linux binds to any number) */
	sk->bound_dev_if = ifindex;
	if (sk->prot->rehash)
		sk->prot->rehash(sk);
	return 0;
}

static int sol_socket_set(struct sock *sk, int name, const void *optval, socklen_t optlen)
{
	const struct core_sysctl *core = &sk->st->sysctl.core;
	int val;
	bool vb;

	if (name == SO_BINDTODEVICE) {
		char devname[IFNAMSIZ];
		int index = 0;

		if (optlen > IFNAMSIZ - 1)
			optlen = IFNAMSIZ - 1;
		memset(devname, 0, sizeof(devname));
		if (optlen)
			memcpy(devname, optval, optlen);
		if (devname[0]) {
			struct netdev *dev = stack_dev_by_name(sk->st, devname);

			if (!dev)
				return -ENODEV;
			index = dev->ifindex;
		}
		return bind_to_index(sk, index);
	}
	if (optlen < sizeof(int))
		return -EINVAL;
	memcpy(&val, optval, sizeof(val));
	vb = val != 0;
	switch (name) {
	case SO_PRIORITY:
		if (!prio_allowed(sk, val))
			return -EPERM;
		sk->priority = val;
		return 0;
	case SO_TYPE:
	case SO_PROTOCOL:
	case SO_DOMAIN:
	case SO_ERROR:
		return -ENOPROTOOPT;
	case SO_SNDTIMEO_OLD:
		return set_timeout(sk, &sk->sndtimeo, optval, optlen, true);
	case SO_RCVTIMEO_OLD:
		return set_timeout(sk, &sk->rcvtimeo, optval, optlen, true);
	case SO_SNDTIMEO_NEW:
		return set_timeout(sk, &sk->sndtimeo, optval, optlen, false);
	case SO_RCVTIMEO_NEW:
		return set_timeout(sk, &sk->rcvtimeo, optval, optlen, false);
	case SO_DEBUG:
		if (val && !sock_capable(sk->st, SOCK_CAP_NET_ADMIN))
			return -EACCES;
		sk->dbg = vb;
		return 0;
	case SO_REUSEADDR:
		sk->reuse = vb;
		return 0;
	case SO_REUSEPORT:
		sk->reuseport = vb;
		return 0;
	case SO_DONTROUTE:
		sk->dontroute = vb;
		return 0;
	case SO_BROADCAST:
		sk->broadcast = vb;
		return 0;
	case SO_SNDBUF:
		/* BSD treats the sizes as hints: clamp, never fail; Linux doubles them for
		 * its bookkeeping overhead and reports the doubled value. */
		set_sndbuf(sk, (int)((uint32_t)val < (uint32_t)core->wmem_max ? (uint32_t)val
									       : (uint32_t)core->wmem_max));
		return 0;
	case SO_SNDBUFFORCE:
		if (!sock_capable(sk->st, SOCK_CAP_NET_ADMIN))
			return -EPERM;
		set_sndbuf(sk, val < 0 ? 0 : val);
		return 0;
	case SO_RCVBUF:
		set_rcvbuf(sk, (int)((uint32_t)val < (uint32_t)core->rmem_max ? (uint32_t)val
									       : (uint32_t)core->rmem_max));
		return 0;
	case SO_RCVBUFFORCE:
		if (!sock_capable(sk->st, SOCK_CAP_NET_ADMIN))
			return -EPERM;
		set_rcvbuf(sk, val < 0 ? 0 : val);
		return 0;
	case SO_KEEPALIVE:
		sk->keepalive = vb;
		return 0;
	case SO_OOBINLINE:
		sk->oobinline = vb;
		return 0;
	case SO_NO_CHECK:
		if (sk->type != SOCK_STREAM)	/* u.udp overlays a stream socket's tcp_sock */
			sk->u.udp.no_check_tx = vb;
		sk->no_check_tx = vb;
		return 0;
	case SO_LINGER: {
		struct linger l;

		if (optlen < sizeof(l))
			return -EINVAL;
		memcpy(&l, optval, sizeof(l));
		if (!l.l_onoff) {
			sk->linger = false;
		} else {
			sk->linger = true;
			sk->linger_sec = l.l_linger;
		}
		return 0;
	}
	case SO_BSDCOMPAT:
		return 0;
	case SO_TIMESTAMPING_OLD_:
		/* sock_set_timestamping(): the flags (an int, or struct so_timestamping
		 * whose bind_phc needs a PHC device: none here). Only software receive
		 * stamps are produced (cmsg_put_timestamp). */
		if ((uint32_t)val & ~SOF_TIMESTAMPING_MASK_)
			return -EINVAL;
		if ((val & SOF_TIMESTAMPING_OPT_ID_TCP_) && !(val & SOF_TIMESTAMPING_OPT_ID_))
			return -EINVAL;
		if ((val & SOF_TIMESTAMPING_OPT_ID_) && !(sk->tsflags & SOF_TIMESTAMPING_OPT_ID_) &&
		    sk->type == SOCK_STREAM && (sk->state == TCP_CLOSE || sk->state == TCP_LISTEN))
			return -EINVAL;
		if ((val & SOF_TIMESTAMPING_OPT_STATS_) && !(val & SOF_TIMESTAMPING_OPT_TSONLY_))
			return -EINVAL;
		if (val & SOF_TIMESTAMPING_BIND_PHC_)
			return -EINVAL;
		sk->tsflags = (uint32_t)val;
		return 0;
	case SO_TIMESTAMP_OLD:
	case SO_TIMESTAMP_NEW:
	case SO_TIMESTAMPNS_OLD:
	case SO_TIMESTAMPNS_NEW:
		/* sock_set_timestamp() */
		if (vb) {
			sk->ts_ns = name == SO_TIMESTAMPNS_OLD || name == SO_TIMESTAMPNS_NEW;
			sk->ts_old = true;
		} else {
			sk->ts_old = sk->ts_ns = false;
		}
		return 0;
	case SO_RCVLOWAT:
		if (val < 0)
			val = INT_MAX;
		sk->rcvlowat = val ? val : 1;
		return 0;
	case SO_MARK:
		if (!sock_capable(sk->st, SOCK_CAP_NET_RAW) &&
		    !sock_capable(sk->st, SOCK_CAP_NET_ADMIN))
			return -EPERM;
		sk->mark = (uint32_t)val;
		return 0;
	case SO_RXQ_OVFL:
		sk->rxq_ovfl = vb;
		return 0;
	case SO_PASSCRED:
	case SO_PASSSEC:
		return -EOPNOTSUPP;	/* sk_may_scm_recv(): AF_UNIX and netlink only */
	case SO_SELECT_ERR_QUEUE:
		sk->select_err_queue = vb;
		return 0;
	case SO_ZEROCOPY:
		if (!(sk->type == SOCK_DGRAM && sk->protocol == IPPROTO_UDP))
			return -EOPNOTSUPP;
		if (val < 0 || val > 1)
			return -EINVAL;
		sk->zerocopy = vb;
		return 0;
	case SO_BINDTOIFINDEX:
		return bind_to_index(sk, val);
	case SO_BUF_LOCK:
		if (val & ~3)
			return -EINVAL;
		sk->buf_lock = val;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static int sol_socket_get(struct sock *sk, int name, void *optval, socklen_t *optlen)
{
	union {
		int val;
		struct linger ling;
		uint8_t raw[32];
	} v;
	socklen_t lv = sizeof(int);
	int len = (int)*optlen;

	if (len < 0)
		return -EINVAL;
	memset(&v, 0, sizeof(v));
	switch (name) {
	case SO_DEBUG:
		v.val = sk->dbg;
		break;
	case SO_DONTROUTE:
		v.val = sk->dontroute;
		break;
	case SO_BROADCAST:
		v.val = sk->broadcast;
		break;
	case SO_SNDBUF:
		v.val = sk->sndbuf;
		break;
	case SO_RCVBUF:
		v.val = sk->rcvbuf;
		break;
	case SO_REUSEADDR:
		v.val = sk->reuse;
		break;
	case SO_REUSEPORT:
		v.val = sk->reuseport;
		break;
	case SO_KEEPALIVE:
		v.val = sk->keepalive;
		break;
	case SO_TYPE:
		v.val = sk->type;
		break;
	case SO_PROTOCOL:
		v.val = sk->protocol;
		break;
	case SO_DOMAIN:
		v.val = sk->family;
		break;
	case SO_ERROR:
		v.val = -sock_error(sk);
		if (!v.val) {
			v.val = sk->err_soft;
			sk->err_soft = 0;
		}
		break;
	case SO_OOBINLINE:
		v.val = sk->oobinline;
		break;
	case SO_NO_CHECK:
		v.val = sk->no_check_tx;
		break;
	case SO_PRIORITY:
		v.val = sk->priority;
		break;
	case SO_LINGER:
		lv = sizeof(v.ling);
		v.ling.l_onoff = sk->linger;
		v.ling.l_linger = sk->linger ? sk->linger_sec : 0;
		break;
	case SO_BSDCOMPAT:
		break;
	case SO_TIMESTAMP_OLD:
		v.val = sk->ts_old && !sk->ts_ns;
		break;
	case SO_TIMESTAMPING_OLD_:
		/* struct so_timestamping { int flags; int bind_phc; } */
		v.val = (int)sk->tsflags;
		lv = 2 * sizeof(int);
		break;
	case SO_TIMESTAMPNS_OLD:
		v.val = sk->ts_ns;
		break;
	case SO_RCVTIMEO_OLD:
	case SO_RCVTIMEO_NEW:
		lv = get_timeout(sk, sk->rcvtimeo, v.raw, name == SO_RCVTIMEO_OLD);
		break;
	case SO_SNDTIMEO_OLD:
	case SO_SNDTIMEO_NEW:
		lv = get_timeout(sk, sk->sndtimeo, v.raw, name == SO_SNDTIMEO_OLD);
		break;
	case SO_RCVLOWAT:
		v.val = sk->rcvlowat;
		break;
	case SO_SNDLOWAT:
		v.val = 1;
		break;
	case SO_ACCEPTCONN:
		v.val = 0;	/* never TCP_LISTEN here */
		break;
	case SO_PEERSEC:
		return -ENOPROTOOPT;
	case SO_PASSCRED:
	case SO_PASSSEC:
		return -EOPNOTSUPP;	/* security_socket_getpeersec_stream() without an LSM */
	case SO_MARK:
		v.val = (int)sk->mark;
		break;
	case SO_RXQ_OVFL:
		v.val = sk->rxq_ovfl;
		break;
	case SO_SELECT_ERR_QUEUE:
		v.val = sk->select_err_queue;
		break;
	case SO_ZEROCOPY:
		v.val = sk->zerocopy;
		break;
	case SO_BINDTOIFINDEX:
		v.val = sk->bound_dev_if;
		break;
	case SO_BUF_LOCK:
		v.val = sk->buf_lock;
		break;
	case SO_PEEK_OFF:
		if (sk->type == SOCK_RAW || sk->protocol == IPPROTO_ICMP)
			return -EOPNOTSUPP;
		v.val = -1;
		break;
	case SO_BINDTODEVICE: {
		/* sock_getbindtodevice() */
		struct netdev *dev;

		if (!sk->bound_dev_if) {
			*optlen = 0;
			return 0;
		}
		if (len < IFNAMSIZ)
			return -EINVAL;
		dev = stack_dev_by_index(sk->st, sk->bound_dev_if);
		if (!dev)
			return -ENXIO;
		len = (int)strlen(dev->name) + 1;
		memcpy(optval, dev->name, (size_t)len);
		*optlen = (socklen_t)len;
		return 0;
	}
	default:
		return -ENOPROTOOPT;
	}
	if (len > (int)lv)
		len = (int)lv;
	memcpy(optval, &v, (size_t)len);
	*optlen = (socklen_t)len;
	return 0;
}

static bool prespec_is_ours(void *arg, uint32_t addr)
{
	return route_addr_type(arg, addr) != RTN_UNICAST_;
}

/* The device that owns a local address (ip_dev_find()). */
static struct netdev *dev_of_addr(struct ips_stack *st, uint32_t addr)
{
	return ip4_local_dev(st, addr);
}

static void cmsg_flag(struct sock *sk, uint32_t bit, int val)
{
	if (val)
		sk->cmsg_flags |= bit;
	else
		sk->cmsg_flags &= ~bit;
}

static int ip_set(struct sock *sk, int name, const void *optval, socklen_t optlen)
{
	struct ips_stack *st = sk->st;
	int val = 0;

	switch (name) {
	case IP_PKTINFO: case IP_RECVTTL: case IP_RECVOPTS: case IP_RECVTOS: case IP_RETOPTS:
	case IP_TOS: case IP_TTL: case IP_HDRINCL: case IP_MTU_DISCOVER: case IP_RECVERR:
	case IP_ROUTER_ALERT: case IP_FREEBIND: case IP_PASSSEC: case IP_TRANSPARENT:
	case IP_MINTTL: case IP_NODEFRAG: case IP_BIND_ADDRESS_NO_PORT: case IP_UNICAST_IF:
	case IP_MULTICAST_TTL: case IP_MULTICAST_ALL: case IP_MULTICAST_LOOP:
	case IP_RECVORIGDSTADDR: case IP_CHECKSUM: case IP_RECVFRAGSIZE: case IP_RECVERR_RFC4884:
	case IP_LOCAL_PORT_RANGE:
		/* Ints, or a single byte; optlen 0 reads as 0. */
		if (optlen >= sizeof(int))
			memcpy(&val, optval, sizeof(val));
		else if (optlen >= 1)
			val = *(const unsigned char *)optval;
		break;
	}
	switch (name) {
	case IP_ROUTER_ALERT:
		/* ip_ra_control() */
		if (sk->type != SOCK_RAW || sk->num == IPPROTO_RAW)
			return -EINVAL;
		sk->router_alert = val ? 1 : 0;
		return 0;
	case IP_PKTINFO:
		cmsg_flag(sk, IP_CMSG_PKTINFO, val);
		return 0;
	case IP_RECVTTL:
		cmsg_flag(sk, IP_CMSG_TTL, val);
		return 0;
	case IP_RECVTOS:
		cmsg_flag(sk, IP_CMSG_TOS, val);
		return 0;
	case IP_RECVOPTS:
		cmsg_flag(sk, IP_CMSG_RECVOPTS, val);
		return 0;
	case IP_RETOPTS:
		cmsg_flag(sk, IP_CMSG_RETOPTS, val);
		return 0;
	case IP_PASSSEC:
		cmsg_flag(sk, IP_CMSG_PASSSEC, val);
		return 0;
	case IP_RECVORIGDSTADDR:
		cmsg_flag(sk, IP_CMSG_ORIGDSTADDR, val);
		return 0;
	case IP_RECVFRAGSIZE:
		if (sk->type != SOCK_RAW && sk->type != SOCK_DGRAM)
			return -EINVAL;
		cmsg_flag(sk, IP_CMSG_RECVFRAGSIZE, val);
		return 0;
	case IP_RECVERR:
		sk->recverr = val != 0;
		if (!val) {
			for (struct pkb *p; (p = pkb_queue_pop(&sk->errq));) {
				sk->rmem -= pkb_truesize(p);
				pkb_free(p);
			}
		}
		return 0;
	case IP_RECVERR_RFC4884:
		if (val < 0 || val > 1)
			return -EINVAL;
		sk->recverr_rfc4884 = val;
		return 0;
	case IP_FREEBIND:
		if (optlen < 1)
			return -EINVAL;
		sk->freebind = val != 0;
		return 0;
	case IP_HDRINCL:
		if (sk->type != SOCK_RAW)
			return -ENOPROTOOPT;
		sk->hdrincl = val != 0;
		return 0;
	case IP_MULTICAST_LOOP:
		if (optlen < 1)
			return -EINVAL;
		sk->mc_loop = val != 0;
		return 0;
	case IP_MULTICAST_ALL:
		if (optlen < 1)
			return -EINVAL;
		if (val != 0 && val != 1)
			return -EINVAL;
		sk->mc_all = val;
		return 0;
	case IP_TRANSPARENT:
		if (val && !sock_capable(st, SOCK_CAP_NET_RAW) && !sock_capable(st, SOCK_CAP_NET_ADMIN))
			return -EPERM;
		if (optlen < 1)
			return -EINVAL;
		sk->transparent = val != 0;
		return 0;
	case IP_NODEFRAG:
		if (sk->type != SOCK_RAW)
			return -ENOPROTOOPT;
		sk->nodefrag = val != 0;
		return 0;
	case IP_BIND_ADDRESS_NO_PORT:
		sk->bind_address_no_port = val != 0;
		return 0;
	case IP_TTL:
		if (optlen < 1)
			return -EINVAL;
		if (val != -1 && (val < 1 || val > 255))
			return -EINVAL;
		sk->uc_ttl = val;
		return 0;
	case IP_MINTTL:
		if (optlen < 1)
			return -EINVAL;
		if (val < 0 || val > 255)
			return -EINVAL;
		sk->minttl = (uint8_t)val;
		return 0;
	case IP_MULTICAST_TTL:
		if (sk->type == SOCK_STREAM)
			return -EINVAL;
		if (optlen < 1)
			return -EINVAL;
		if (val == -1)
			val = 1;
		if (val < 0 || val > 255)
			return -EINVAL;
		sk->mc_ttl = val;
		return 0;
	case IP_MTU_DISCOVER:
		if (val < IP_PMTUDISC_DONT || val > IP_PMTUDISC_OMIT)
			return -EINVAL;
		sk->pmtudisc = val;
		return 0;
	case IP_TOS: {
		/* __ip_sock_set_tos(): the byte as given (ECN bits too, for datagrams);
		 * the priority follows it. */
		uint8_t tos = (uint8_t)val;

		if (tos != sk->tos) {
			sk->tos = tos;
			sk->priority = rt_tos2priority(tos);
		}
		return 0;
	}
	case IP_LOCAL_PORT_RANGE: {
		uint16_t lo = (uint16_t)val, hi = (uint16_t)((uint32_t)val >> 16);

		if (optlen != sizeof(uint32_t))
			return -EINVAL;
		if (lo != 0 && hi != 0 && lo > hi)
			return -EINVAL;
		sk->local_port_range = (uint32_t)val;
		return 0;
	}
	case IP_CHECKSUM:
		cmsg_flag(sk, IP_CMSG_CHECKSUM, val);
		return 0;
	case IP_OPTIONS: {
		uint8_t data[MAX_IPOPTLEN];
		size_t n = optlen;
		struct wire_ipv4_opts info;

		if (optlen > 40)
			return -EINVAL;
		memset(data, 0, sizeof(data));
		if (optlen)
			memcpy(data, optval, optlen);
		memset(&info, 0, sizeof(info));
		if (n && wire_ipv4_opts_compile_user(data, &n, sock_capable(st, SOCK_CAP_NET_RAW),
						     prespec_is_ours, st, &info) < 0)
			return -EINVAL;
		if (!n) {
			free(sk->opt);
			sk->opt = NULL;
			return 0;
		}
		if (!sk->opt && !(sk->opt = malloc(sizeof(*sk->opt))))
			return -ENOMEM;
		memcpy(sk->opt->data, data, sizeof(sk->opt->data));
		sk->opt->len = (uint8_t)n;
		sk->opt->info = info;
		return 0;
	}
	case IP_UNICAST_IF: {
		int ifindex;

		if (optlen != sizeof(int))
			return -EINVAL;
		ifindex = (int)ntohl((uint32_t)val);
		if (ifindex == 0) {
			sk->uc_index = 0;
			return 0;
		}
		if (!stack_dev_by_index(st, ifindex))
			return -EADDRNOTAVAIL;
		if (sk->bound_dev_if && ifindex != sk->bound_dev_if)
			return -EINVAL;
		sk->uc_index = ifindex;
		return 0;
	}
	case IP_MULTICAST_IF: {
		struct ip_mreqn mreq;
		struct netdev *dev = NULL;

		if (sk->type == SOCK_STREAM)
			return -EINVAL;
		if (optlen < sizeof(struct in_addr))
			return -EINVAL;
		memset(&mreq, 0, sizeof(mreq));
		if (optlen >= sizeof(struct ip_mreqn))
			memcpy(&mreq, optval, sizeof(mreq));
		else if (optlen >= sizeof(struct ip_mreq))
			memcpy(&mreq, optval, sizeof(struct ip_mreq));
		else
			memcpy(&mreq.imr_address, optval, sizeof(struct in_addr));
		if (!mreq.imr_ifindex) {
			if (mreq.imr_address.s_addr == htonl(INADDR_ANY)) {
				sk->mc_index = 0;
				sk->mc_addr = 0;
				return 0;
			}
			dev = dev_of_addr(st, mreq.imr_address.s_addr);
			if (dev)
				mreq.imr_ifindex = dev->ifindex;
		} else {
			dev = stack_dev_by_index(st, mreq.imr_ifindex);
		}
		if (!dev)
			return -EADDRNOTAVAIL;
		if (sk->bound_dev_if && mreq.imr_ifindex != sk->bound_dev_if)
			return -EINVAL;
		sk->mc_index = mreq.imr_ifindex;
		sk->mc_addr = mreq.imr_address.s_addr;
		return 0;
	}
	case IP_IPSEC_POLICY:
	case IP_XFRM_POLICY:
		if (!sock_capable(st, SOCK_CAP_NET_ADMIN))
			return -EPERM;
		return -EOPNOTSUPP;
	default:
		return -ENOPROTOOPT;
	}
}

static int ip_get(struct sock *sk, int name, void *optval, socklen_t *optlen)
{
	struct ips_stack *st = sk->st;
	int len = (int)*optlen;
	int val;

	if (len < 0)
		return -EINVAL;
	switch (name) {
	case IP_PKTINFO:
		val = !!(sk->cmsg_flags & IP_CMSG_PKTINFO);
		break;
	case IP_RECVTTL:
		val = !!(sk->cmsg_flags & IP_CMSG_TTL);
		break;
	case IP_RECVTOS:
		val = !!(sk->cmsg_flags & IP_CMSG_TOS);
		break;
	case IP_RECVOPTS:
		val = !!(sk->cmsg_flags & IP_CMSG_RECVOPTS);
		break;
	case IP_RETOPTS:
		val = !!(sk->cmsg_flags & IP_CMSG_RETOPTS);
		break;
	case IP_PASSSEC:
		val = !!(sk->cmsg_flags & IP_CMSG_PASSSEC);
		break;
	case IP_RECVORIGDSTADDR:
		val = !!(sk->cmsg_flags & IP_CMSG_ORIGDSTADDR);
		break;
	case IP_CHECKSUM:
		val = !!(sk->cmsg_flags & IP_CMSG_CHECKSUM);
		break;
	case IP_RECVFRAGSIZE:
		val = !!(sk->cmsg_flags & IP_CMSG_RECVFRAGSIZE);
		break;
	case IP_RECVERR:
		val = sk->recverr;
		break;
	case IP_RECVERR_RFC4884:
		val = sk->recverr_rfc4884;
		break;
	case IP_FREEBIND:
		val = sk->freebind;
		break;
	case IP_HDRINCL:
		val = sk->hdrincl;
		break;
	case IP_NODEFRAG:
		val = sk->nodefrag;
		break;
	case IP_BIND_ADDRESS_NO_PORT:
		val = sk->bind_address_no_port;
		break;
	case IP_MULTICAST_LOOP:
		val = sk->mc_loop;
		break;
	case IP_MULTICAST_ALL:
		val = sk->mc_all;
		break;
	case IP_TRANSPARENT:
		val = sk->transparent;
		break;
	case IP_TOS:
		val = sk->tos;
		break;
	case IP_TTL:
		val = sk->uc_ttl < 0 ? st->sysctl.ip.ip_default_ttl : sk->uc_ttl;
		break;
	case IP_MINTTL:
		val = sk->minttl;
		break;
	case IP_ROUTER_ALERT:
		val = sk->router_alert;
		break;
	case IP_MULTICAST_TTL:
		val = sk->mc_ttl;
		break;
	case IP_MTU_DISCOVER:
		val = sk->pmtudisc;
		break;
	case IP_MTU: {
		/* The connected route's MTU (sk_dst_get()); ENOTCONN without one. */
		struct rt_result rt;

		val = 0;
		if (sk->state == SS_ESTABLISHED &&
		    route_output(st, sk->daddr, sk->saddr, sk->bound_dev_if, sk->mark, &rt) == 0)
			val = (int)rt.mtu;
		if (!val)
			return -ENOTCONN;
		break;
	}
	case IP_LOCAL_PORT_RANGE:
		val = (int)sk->local_port_range;
		break;
	case IP_PROTOCOL:
		val = sk->num;
		break;
	case IP_UNICAST_IF:
		val = (int)htonl((uint32_t)sk->uc_index);
		break;
	case IP_MULTICAST_IF: {
		struct in_addr a = { sk->mc_addr };

		if ((unsigned)len > sizeof(a))
			len = sizeof(a);
		memcpy(optval, &a, (size_t)len);
		*optlen = (socklen_t)len;
		return 0;
	}
	case IP_OPTIONS: {
		uint8_t data[MAX_IPOPTLEN];
		struct wire_ipv4_opts info;

		if (!sk->opt) {
			*optlen = 0;
			return 0;
		}
		info = sk->opt->info;
		memcpy(data, sk->opt->data, sizeof(data));
		wire_ipv4_opts_undo(data, &info);
		if ((unsigned)len > sk->opt->len)
			len = sk->opt->len;
		memcpy(optval, data, (size_t)len);
		*optlen = (socklen_t)len;
		return 0;
	}
	default:
		return -ENOPROTOOPT;
	}
	/* copyval: a short buffer gets one byte when the value fits in one. */
	if (len < (int)sizeof(int) && len > 0 && val >= 0 && val <= 255) {
		*(unsigned char *)optval = (unsigned char)val;
		*optlen = 1;
	} else {
		if (len > (int)sizeof(int))
			len = sizeof(int);
		memcpy(optval, &val, (size_t)len);
		*optlen = (socklen_t)len;
	}
	return 0;
}

int sock_setsockopt(struct sock *sk, int level, int name, const void *val, socklen_t len)
{
	if (level == SOL_SOCKET)
		return sol_socket_set(sk, name, val, len);
	/* The protocol's own level (SOL_UDP, SOL_RAW...); 1 = not its level. */
	if (sk->prot->setsockopt) {
		int err = sk->prot->setsockopt(sk, level, name, val, len);

		if (err <= 0)
			return err;
	}
	if (level != SOL_IP)
		return -ENOPROTOOPT;	/* do_ip_setsockopt() */
	return ip_set(sk, name, val, len);
}

int sock_getsockopt(struct sock *sk, int level, int name, void *val, socklen_t *len)
{
	if (level == SOL_SOCKET)
		return sol_socket_get(sk, name, val, len);
	if (sk->prot->getsockopt) {
		int err = sk->prot->getsockopt(sk, level, name, val, len);

		if (err <= 0)
			return err;
	}
	if (level != SOL_IP)
		return -EOPNOTSUPP;	/* do_ip_getsockopt() */
	return ip_get(sk, name, val, len);
}

/* The inet parts shared by the datagram protocols: binding (__inet_bind), autobind,
 * datagram connect/disconnect (ip4_datagram_connect, __udp_disconnect), output routes,
 * IP options for sending, and the receive info that cmsgs report. */
#include <errno.h>
#include <string.h>

#include "core/stack.h"
#include "ip/ip.h"
#include "ip/route.h"
#include "link/netdev.h"
#include "socket/socket_state.h"
#include "wire/ipv4.h"
#include "wire/wire.h"

bool sock_capable(struct ips_stack *st, int cap)
{
	struct socket_state *ss = st->sock;

	return (ss->caps >> cap) & 1;
}

void sock_port_range(struct sock *sk, int *low, int *high)
{
	int lo = sk->st->sysctl.ip.ip_local_port_range[0];
	int hi = sk->st->sysctl.ip.ip_local_port_range[1];
	uint32_t r = sk->local_port_range;

	/* inet_sk_get_local_port_range(): IP_LOCAL_PORT_RANGE narrows the range. */
	if (r) {
		int sk_lo = (int)(r & 0xffff), sk_hi = (int)(r >> 16);

		if (lo <= sk_lo && sk_lo <= hi)
			lo = sk_lo;
		if (lo <= sk_hi && sk_hi <= hi)
			hi = sk_hi;
	}
	*low = lo;
	*high = hi;
}

static bool inet_can_nonlocal_bind(struct sock *sk)
{
	return sk->st->sysctl.ip.ip_nonlocal_bind || sk->freebind || sk->transparent;
}

/* __inet_bind() from the address-class check on. */
int inet_bind_addr(struct sock *sk, const struct sockaddr_in *sin)
{
	struct ips_stack *st = sk->st;
	uint32_t addr = sin->sin_addr.s_addr;
	uint16_t snum = ntohs(sin->sin_port);
	enum rtn_type type;
	int err;

	if (sin->sin_family != AF_INET) {
		/* Compatibility games: AF_UNSPEC is accepted for INADDR_ANY only. */
		if (sin->sin_family != AF_UNSPEC || addr != htonl(INADDR_ANY))
			return -EAFNOSUPPORT;
	}
	type = route_addr_type(st, addr);
	if (!(inet_can_nonlocal_bind(sk) || addr == htonl(INADDR_ANY) || type == RTN_LOCAL_ ||
	      type == RTN_MULTICAST_ || type == RTN_BROADCAST_))
		return -EADDRNOTAVAIL;
	if (snum && snum < st->sysctl.ip.ip_unprivileged_port_start &&
	    !sock_capable(st, SOCK_CAP_NET_BIND_SERVICE))
		return -EACCES;
	if (sk->state != SS_CLOSE || sk->num)
		return -EINVAL;
	sk->rcv_saddr = sk->saddr = addr;
	if (type == RTN_MULTICAST_ || type == RTN_BROADCAST_)
		sk->saddr = 0;	/* use the device's */
	if (snum || !sk->bind_address_no_port) {
		err = sk->prot->get_port(sk, snum);
		if (err) {
			sk->rcv_saddr = sk->saddr = 0;
			return -EADDRINUSE;
		}
	}
	if (sk->rcv_saddr)
		sk->userlocks_addr = true;
	if (snum)
		sk->userlocks_port = true;
	sk->sport = htons(sk->num);
	sk->daddr = 0;
	sk->dport = 0;
	return 0;
}

int inet_autobind(struct sock *sk)
{
	if (sk->num)
		return 0;
	if (!sk->prot->get_port || sk->prot->get_port(sk, 0))
		return -EAGAIN;
	sk->sport = htons(sk->num);
	return 0;
}

int inet_route_out(struct sock *sk, uint32_t *daddr, uint32_t saddr, int oif,
		   struct rt_result *res)
{
	struct ips_stack *st = sk->st;
	int err;

	/* ip_route_output_key_hash_rcu(): no destination means ourselves. */
	if (!*daddr) {
		*daddr = saddr ? saddr : htonl(INADDR_LOOPBACK);
		oif = st->lo ? st->lo->ifindex : oif;
	}
	if (saddr) {
		if (ip4_is_multicast(saddr) || ip4_is_lbcast(saddr) || ip4_is_zeronet(saddr))
			return -EINVAL;
		/* Not ours and not allowed to pretend: Linux's "rth = ERR_PTR(-ENETUNREACH)"
		 * still stands when __ip_dev_find() fails. */
		if (!(sk->freebind || sk->transparent) && route_addr_type(st, saddr) != RTN_LOCAL_) {
			MIB_INC(st, IpOutNoRoutes);
			return -ENETUNREACH;
		}
	}
	memset(res, 0, sizeof(*res));
	err = route_output(st, *daddr, saddr, oif, sk->mark, res);
	if (err == -ENETUNREACH)
		MIB_INC(st, IpOutNoRoutes);
	return err;
}

int ip4_dgram_connect(struct sock *sk, const struct sockaddr_in *sin, socklen_t len)
{
	struct rt_result rt;
	uint32_t daddr = sin->sin_addr.s_addr;
	uint32_t saddr = sk->saddr;
	int oif = sk->bound_dev_if;
	int err;

	if (len < sizeof(*sin))
		return -EINVAL;
	if (sin->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	if (ip4_is_multicast(daddr)) {
		if (!oif)
			oif = sk->mc_index;
		if (!saddr)
			saddr = sk->mc_addr;
	} else if (!oif) {
		oif = sk->uc_index;
	}
	err = inet_route_out(sk, &daddr, saddr, oif, &rt);
	if (err)
		return err;
	if (rt.type == RTN_BROADCAST_ && !sk->broadcast)
		return -EACCES;
	if (!saddr)
		saddr = rt.prefsrc;
	if (!sk->saddr)
		sk->saddr = saddr;
	if (!sk->rcv_saddr) {
		sk->rcv_saddr = saddr;
		if (sk->prot->rehash)
			sk->prot->rehash(sk);
	}
	sk->daddr = daddr;
	sk->dport = sin->sin_port;
	sk->state = SS_ESTABLISHED;
	return 0;
}

int dgram_disconnect(struct sock *sk)
{
	sk->state = SS_CLOSE;
	sk->daddr = 0;
	sk->dport = 0;
	sk->bound_dev_if = 0;
	if (!sk->userlocks_addr) {
		sk->rcv_saddr = sk->saddr = 0;
		if (sk->prot->rehash && sk->userlocks_port)
			sk->prot->rehash(sk);
	}
	if (!sk->userlocks_port) {
		if (sk->prot->unhash)
			sk->prot->unhash(sk);
		sk->sport = 0;
	}
	return 0;
}

void sock_ip4_out_init(struct sock *sk, struct ip4_out *o)
{
	memset(o, 0, sizeof(*o));
	o->tos = sk->tos;
	o->ttl = sk->uc_ttl;
	o->pmtudisc = sk->pmtudisc;
	o->oif = sk->bound_dev_if;
	o->mark = sk->mark;
	o->priority = (uint32_t)sk->priority;
	o->dontroute = sk->dontroute;
	o->broadcast_ok = sk->broadcast;
}

static const uint8_t *opts_src(struct sock *sk, const struct sock_cmsg_out *cm,
			       const struct wire_ipv4_opts **info, uint8_t *len)
{
	if (cm && cm->opt_set) {
		*info = &cm->opt_info;
		*len = cm->opt_len;
		return cm->opt_buf;
	}
	static const struct sock_ipopt none;
	const struct sock_ipopt *o = sk->opt ? sk->opt : &none;

	*info = &o->info;
	*len = o->len;
	return o->data;
}

uint8_t inet_opts_len(struct sock *sk, const struct sock_cmsg_out *cm)
{
	const struct wire_ipv4_opts *info;
	uint8_t len;

	opts_src(sk, cm, &info, &len);
	return len;
}

uint32_t inet_opts_faddr(struct sock *sk, const struct sock_cmsg_out *cm)
{
	const struct wire_ipv4_opts *info;
	uint8_t len;

	opts_src(sk, cm, &info, &len);
	return len && info->srr && info->faddr_present ? info->faddr : 0;
}

uint8_t inet_opts_build(struct sock *sk, const struct sock_cmsg_out *cm, uint32_t daddr,
			uint32_t saddr, uint8_t out[40], uint32_t *first_hop)
{
	const struct wire_ipv4_opts *info;
	uint8_t len, hdr[WIRE_IPV4_MAX_HLEN];
	const uint8_t *data = opts_src(sk, cm, &info, &len);

	*first_hop = daddr;
	if (!len)
		return 0;
	memset(hdr, 0, sizeof(hdr));
	/* ip_options_build() writes after a header; give it a scratch one. */
	uint64_t ms = stack_now_ms(sk->st) % (24ULL * 3600 * 1000);

	wire_ipv4_opts_write(hdr, data, info, daddr, saddr, (uint32_t)ms);
	memcpy(out, hdr + WIRE_IPV4_HLEN, len);
	if (info->srr && info->faddr_present)
		*first_hop = info->faddr;
	return len;
}

/* ipv4_pktinfo_prepare() + what IP_ORIGDSTADDR needs. */
void inet_rx_cb_fill(struct ips_stack *st, struct pkb *pkb, uint16_t sport, uint16_t dport)
{
	struct sock_rx_cb *cb = sock_rx_cb(pkb);
	uint32_t saddr = wire_ipv4_saddr(pkb->nh), daddr = wire_ipv4_daddr(pkb->nh);

	memset(cb, 0, sizeof(*cb));
	cb->saddr = saddr;
	cb->daddr = daddr;
	cb->sport = sport;
	cb->dport = dport;
	cb->iif = pkb->dev ? pkb->dev->ifindex : 0;
	/* fib_compute_spec_dst(): a local unicast destination answers as itself;
	 * otherwise the address the interface would use towards the sender. */
	if (route_addr_type(st, daddr) == RTN_LOCAL_)
		cb->spec_dst = daddr;
	else if (pkb->dev)
		cb->spec_dst = ip4_select_addr(pkb->dev, saddr);
}

/* ---- The datagram send path of raw and ping sockets ---- */

int inet_dgram_route(struct sock *sk, const struct msghdr *msg, uint32_t daddr, bool hdrincl,
		     struct inet_dgram *d)
{
	struct sock_cmsg_out *cm = &d->cm;
	uint32_t fh = 0;
	int err = sock_cmsg_send(sk, msg, cm);

	if (err)
		return err;
	d->saddr = cm->has_pktinfo ? cm->saddr : sk->saddr;
	d->faddr = daddr;
	if (inet_opts_len(sk, cm)) {
		/* "Linux does not mangle headers on raw sockets, so that IP options +
		 * IP_HDRINCL is non-sense." */
		if (hdrincl)
			return -EINVAL;
		fh = inet_opts_faddr(sk, cm);
		if (fh) {
			if (!daddr)
				return -EINVAL;
			d->faddr = fh;
		}
	}
	d->oif = cm->oif;
	if (ip4_is_multicast(daddr)) {
		if (!d->oif)
			d->oif = sk->mc_index;
		if (!d->saddr)
			d->saddr = sk->mc_addr;
	} else if (!d->oif) {
		d->oif = sk->uc_index;
	}
	err = inet_route_out(sk, &d->faddr, d->saddr, d->oif, d->rt);
	if (err)
		return err;
	/* Without a source route, the destination is what routing made of it (0 becomes
	 * ourselves). */
	d->daddr = fh ? daddr : d->faddr;
	if (d->rt->type == RTN_BROADCAST_ && !sk->broadcast)
		return -EACCES;
	if (!d->saddr)
		d->saddr = d->rt->prefsrc;
	return 0;
}

int inet_dgram_copy_in(struct sock *sk, const struct msghdr *msg, size_t len, struct pkb **out)
{
	int err = sock_error(sk);

	if (err)
		return err;
	if (sk->shutdown & SEND_SHUTDOWN)
		return -EPIPE;
	*out = stack_pkb_alloc(sk->st, len);
	if (!*out)
		return -ENOBUFS;
	sock_iov_copy_from(pkb_put(*out, len), msg, len);
	return 0;
}

int inet_dgram_send(struct sock *sk, const struct msghdr *msg, size_t len, int flags,
		    uint8_t proto, struct inet_dgram *d,
		    void (*fill)(struct sock *sk, uint8_t *p, size_t len))
{
	struct ips_stack *st = sk->st;
	uint8_t optlen = inet_opts_len(sk, &d->cm);
	uint32_t mtu = sk->pmtudisc == IP_PMTUDISC_PROBE && d->rt->dev ? d->rt->dev->mtu
									: d->rt->mtu;
	size_t maxnonfrag = inet_ignore_df(sk) ? 0xFFFF : mtu;
	uint8_t opts[40];
	uint32_t hop;
	int err;

	if (len + WIRE_IPV4_HLEN + optlen > maxnonfrag) {
		sock_local_error(sk, EMSGSIZE, d->daddr, sk->dport, mtu - optlen);
		return -EMSGSIZE;
	}
	struct pkb *pkb;

	err = inet_dgram_copy_in(sk, msg, len, &pkb);
	if (err)
		return err;
	uint8_t *p = pkb->data;

	if (fill)
		fill(sk, p, len);
	pkb->th = p;

	struct ip4_out o;

	sock_ip4_out_init(sk, &o);
	o.saddr = d->saddr;
	o.daddr = d->faddr;
	o.proto = proto;
	o.oif = d->oif;
	if (d->cm.tos >= 0)
		o.tos = (uint8_t)d->cm.tos;
	if (d->cm.ttl >= 0)
		o.ttl = d->cm.ttl;
	else if (ip4_is_multicast(d->daddr))
		o.ttl = sk->mc_ttl;
	if (d->cm.mark_set)
		o.mark = d->cm.mark;
	if (flags & MSG_DONTROUTE)
		o.dontroute = true;
	o.opts_len = inet_opts_build(sk, &d->cm, d->daddr, d->saddr, opts, &hop);
	o.opts = o.opts_len ? opts : NULL;
	err = ip4_output(st, pkb, &o, &mtu);
	if (err == -EMSGSIZE)
		sock_local_error(sk, EMSGSIZE, d->daddr, sk->dport, mtu - optlen);
	return err;
}

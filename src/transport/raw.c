/* Raw sockets (raw(7); Linux net/ipv4/raw.c): every packet of the socket's protocol is
 * delivered with its IPv4 header; sending builds the header unless IP_HDRINCL (always on
 * for IPPROTO_RAW, which is send-only in practice); ICMP_FILTER for IPPROTO_ICMP. */
#include <errno.h>
#include <netinet/ip_icmp.h>

#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif
#include <string.h>

#include "core/stack.h"
#include "ip/ip.h"
#include "ip/route.h"
#include "link/netdev.h"
#include "socket/sock.h"
#include "transport/transport_state.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/wire.h"

static struct transport_state *ts_of(struct ips_stack *st)
{
	return st->transport;
}

static void raw_hash(struct sock *sk)
{
	struct sock **head = &ts_of(sk->st)->raw[sk->num & (RAW_HTABLE_SIZE - 1)];

	if (sk->hash_pprev)
		return;
	sk->hash_next = *head;
	if (*head)
		(*head)->hash_pprev = &sk->hash_next;
	*head = sk;
	sk->hash_pprev = head;
}

static void raw_unhash(struct sock *sk)
{
	if (!sk->hash_pprev)
		return;
	*sk->hash_pprev = sk->hash_next;
	if (sk->hash_next)
		sk->hash_next->hash_pprev = sk->hash_pprev;
	sk->hash_next = NULL;
	sk->hash_pprev = NULL;
}

/* raw_v4_match() */
static bool raw_match(struct sock *sk, uint16_t num, uint32_t raddr, uint32_t laddr, int dif)
{
	return sk->num == num && !(sk->daddr && sk->daddr != raddr) &&
	       !(sk->rcv_saddr && sk->rcv_saddr != laddr) &&
	       !(sk->bound_dev_if && sk->bound_dev_if != dif);
}

/* icmp_filter(): nonzero = drop. Types above 31 are never filtered. */
static bool raw_icmp_filtered(struct sock *sk, const struct pkb *pkb)
{
	const uint8_t *th = pkb->th ? pkb->th : pkb->data;

	if ((size_t)(pkb->data + pkb->len - th) < 1)
		return true;
	uint8_t type = wire_icmp_type(th);

	if (type < 32)
		return (sk->u.raw.icmp_filter >> type) & 1;
	return false;
}

/* raw_rcv(): a copy of pkb, data from the IPv4 header on, onto sk's receive queue. */
static void raw_queue_copy(struct ips_stack *st, struct sock *sk, const struct pkb *pkb)
{
	struct pkb *c = pkb_copy(pkb);

	if (!c)
		return;
	inet_rx_cb_fill(st, c, 0, 0);
	pkb_push(c, (size_t)(c->data - c->nh));
	sock_queue_rcv(sk, c);
}

/* raw_v4_input(): a copy to every matching socket, data at the IPv4 header. Does not
 * consume pkb (the IPv4 layer's raw_deliver hook). */
bool raw_deliver(struct ips_stack *st, struct pkb *pkb, uint8_t proto)
{
	struct transport_state *ts = ts_of(st);
	uint32_t saddr = wire_ipv4_saddr(pkb->nh), daddr = wire_ipv4_daddr(pkb->nh);
	int dif = pkb->dev ? pkb->dev->ifindex : 0;
	bool delivered = false;

	if (!ts)
		return false;
	for (struct sock *sk = ts->raw[proto & (RAW_HTABLE_SIZE - 1)]; sk; sk = sk->hash_next) {
		if (!raw_match(sk, proto, saddr, daddr, dif))
			continue;
		delivered = true;
		if (proto == IPPROTO_ICMP && raw_icmp_filtered(sk, pkb))
			continue;
		if (ip4_is_multicast(daddr) && !sk->mc_all)
			continue;
		raw_queue_copy(st, sk, pkb);
	}
	return delivered;
}

/* A raw socket in ip_call_ra_chain(): its protocol, IP_ROUTER_ALERT set, unbound or bound
 * to the input device. */
static bool raw_ra_match(const struct sock *sk, uint8_t proto, int dif)
{
	return sk->router_alert && sk->num == proto &&
	       !(sk->bound_dev_if && sk->bound_dev_if != dif);
}

/* ip_call_ra_chain(): the matching raw sockets each get a copy; a fragment is reassembled
 * first. Consumes pkb when it returns true. */
bool raw_ra_deliver(struct ips_stack *st, struct pkb *pkb)
{
	struct transport_state *ts = ts_of(st);
	uint8_t proto = wire_ipv4_proto(pkb->nh ? pkb->nh : pkb->data);
	int dif = pkb->dev ? pkb->dev->ifindex : 0;
	struct sock *first;

	if (!ts)
		return false;
	first = ts->raw[proto & (RAW_HTABLE_SIZE - 1)];
	while (first && !raw_ra_match(first, proto, dif))
		first = first->hash_next;
	if (!first)
		return false;
	if (!pkb->nh)
		pkb->nh = pkb->data;
	if (wire_ipv4_is_fragment(pkb->nh)) {
		pkb = ip4_defrag(st, pkb);
		if (!pkb)
			return true;	/* queued (or dropped) for reassembly */
	}
	for (struct sock *sk = first; sk; sk = sk->hash_next) {
		if (raw_ra_match(sk, proto, dif))
			raw_queue_copy(st, sk, pkb);
	}
	pkb_free(pkb);
	return true;
}

/* raw_err() for one socket; inner is the quoted IPv4 header inside icmp_pkb. */
static void raw_err(struct sock *sk, struct pkb *icmp_pkb, int type, int code, uint32_t info,
		    const uint8_t *inner, uint32_t inner_daddr)
{
	bool harderr = false;
	int err;

	if (type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED) {
		if (info)
			pmtu_update(sk->st, inner_daddr, info);
	} else if (type == ICMP_REDIRECT) {
		return;
	}
	if (!sk->recverr && sk->state != SS_ESTABLISHED)
		return;
	switch (type) {
	case ICMP_SOURCE_QUENCH:
		return;
	case ICMP_PARAMETERPROB:
		err = EPROTO;
		harderr = true;
		break;
	case ICMP_DEST_UNREACH:
		err = EHOSTUNREACH;
		if (code > NR_ICMP_UNREACH)
			break;
		if (code == ICMP_FRAG_NEEDED) {
			harderr = sk->pmtudisc != IP_PMTUDISC_DONT;
			err = EMSGSIZE;
		} else {
			err = icmp_err_to_errno(type, code, &harderr);
		}
		break;
	case ICMP_TIME_EXCEEDED:
	default:
		err = EHOSTUNREACH;
		break;
	}
	if (sk->recverr) {
		const uint8_t *payload = sk->hdrincl ? inner : inner + wire_ipv4_hdr_len(inner);

		sock_icmp_error(sk, icmp_pkb, err, 0, info, payload, inner_daddr);
	}
	if (sk->recverr || harderr)
		sock_set_err(sk, err);
}

/* raw_icmp_error(): every raw socket of the quoted packet's protocol. */
void raw_icmp_error(struct ips_stack *st, struct pkb *icmp_pkb, uint8_t proto, int type, int code,
		    uint32_t info, const uint8_t *inner, size_t inner_len)
{
	struct transport_state *ts = ts_of(st);
	uint32_t isaddr = get_in4(inner + 12), idaddr = get_in4(inner + 16);
	int dif = icmp_pkb->dev ? icmp_pkb->dev->ifindex : 0;

	for (struct sock *sk = ts->raw[proto & (RAW_HTABLE_SIZE - 1)], *n; sk; sk = n) {
		n = sk->hash_next;
		if (raw_match(sk, proto, idaddr, isaddr, dif))
			raw_err(sk, icmp_pkb, type, code, info, inner, idaddr);
	}
}

static int raw_sock_init(struct sock *sk)
{
	/* inet_create(): the protocol is the socket's "port"; IPPROTO_RAW implies
	 * IP_HDRINCL. A raw socket is hashed from the start. */
	sk->num = (uint16_t)sk->protocol;
	sk->sport = htons(sk->num);
	sk->reuse = true;	/* INET_PROTOSW_REUSE */
	if (sk->protocol == IPPROTO_RAW)
		sk->hdrincl = true;
	raw_hash(sk);
	return 0;
}

static void raw_release(struct sock *sk)
{
	raw_unhash(sk);
}

/* raw_bind(): no family check at all, as Linux. */
static int raw_bind(struct sock *sk, const struct sockaddr_in *sin, socklen_t len)
{
	enum rtn_type type;
	uint32_t addr = sin->sin_addr.s_addr;

	if (sk->state != SS_CLOSE || len < sizeof(*sin))
		return -EINVAL;
	type = route_addr_type(sk->st, addr);
	if (!(sk->st->sysctl.ip.ip_nonlocal_bind || sk->freebind || sk->transparent ||
	      addr == htonl(INADDR_ANY) || type == RTN_LOCAL_ || type == RTN_MULTICAST_ ||
	      type == RTN_BROADCAST_))
		return -EADDRNOTAVAIL;
	sk->rcv_saddr = sk->saddr = addr;
	if (type == RTN_MULTICAST_ || type == RTN_BROADCAST_)
		sk->saddr = 0;
	return 0;
}

static void icmp_out_count(struct ips_stack *st, uint8_t type)
{
	MIB_INC(st, IcmpOutMsgs);
	st->mib.icmpmsg_out[type]++;
}

/* raw_send_hdrinc(): the caller's own IPv4 header, checked and completed. */
static long raw_send_hdrinc(struct sock *sk, const struct msghdr *msg, size_t len,
			    const struct rt_result *rt, uint32_t daddr, uint32_t saddr)
{
	struct ips_stack *st = sk->st;
	uint32_t mtu = rt->dev ? rt->dev->mtu : rt->mtu;
	int err;

	if (len > mtu) {
		sock_local_error(sk, EMSGSIZE, daddr, sk->dport, mtu);
		return -EMSGSIZE;
	}
	if (len < WIRE_IPV4_HLEN)
		return -EINVAL;
	struct pkb *pkb;

	err = inet_dgram_copy_in(sk, msg, len, &pkb);
	if (err)
		return err;
	uint8_t *iph = pkb->data;
	size_t ihl = wire_ipv4_hdr_len(iph);

	/* "If ihl points beyond the length of the buffer passed in, reject the frame". */
	if (ihl > len) {
		pkb_free(pkb);
		return -EINVAL;
	}
	pkb->nh = iph;
	if (ihl >= WIRE_IPV4_HLEN) {
		if (!wire_ipv4_saddr(iph))
			wire_ipv4_set_saddr(iph, saddr);
		wire_ipv4_set_tot_len(iph, (uint16_t)len);
		if (!wire_ipv4_id(iph))
			wire_ipv4_set_id(iph, ip4_select_id(st, wire_ipv4_saddr(iph), wire_ipv4_daddr(iph),
							    wire_ipv4_proto(iph)));
		/* the user's checksum field is overwritten, as raw_send_hdrinc() does */
		wire_ipv4_fix_csum(iph);
		pkb->th = iph + ihl;
		if (wire_ipv4_proto(iph) == IPPROTO_ICMP && len >= ihl + 8)
			icmp_out_count(st, wire_icmp_type(iph + ihl));
	}
	pkb->mark = sk->mark;
	pkb->priority = (uint32_t)sk->priority;
	MIB_INC(st, IpOutRequests);
	err = ip4_finish_output(st, pkb, rt);
	if (err < 0) {
		MIB_INC(st, IpOutDiscards);
		if (err == -ENOBUFS && !sk->recverr)
			err = 0;
		return err;
	}
	return 0;
}

/* raw_sendmsg() */
static long raw_sendmsg(struct sock *sk, const struct msghdr *msg, size_t len, int flags)
{
	struct ips_stack *st = sk->st;
	struct rt_result rt;
	struct inet_dgram d = { .rt = &rt };
	uint32_t daddr;
	uint8_t icmp_type = 0;
	int err;

	if (len > 0xFFFF)
		return -EMSGSIZE;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (msg->msg_namelen) {
		const struct sockaddr_in *usin = msg->msg_name;

		if (msg->msg_namelen < sizeof(*usin))
			return -EINVAL;
		if (usin->sin_family != AF_INET && usin->sin_family)
			return -EAFNOSUPPORT;
		daddr = usin->sin_addr.s_addr;
	} else {
		if (sk->state != SS_ESTABLISHED)
			return -EDESTADDRREQ;
		daddr = sk->daddr;
	}
	err = inet_dgram_route(sk, msg, daddr, sk->hdrincl, &d);
	if (err)
		return err;
	if (sk->hdrincl) {
		err = (int)raw_send_hdrinc(sk, msg, len, &rt, d.daddr, d.saddr);
		return err ? err : (long)len;
	}
	if (sk->protocol == IPPROTO_ICMP && len >= WIRE_ICMP_HLEN)
		sock_iov_copy_from(&icmp_type, msg, 1);
	err = inet_dgram_send(sk, msg, len, flags, (uint8_t)sk->protocol, &d, NULL);
	if (err == -ENOBUFS && !sk->recverr)
		err = 0;
	if (err)
		return err;
	if (sk->protocol == IPPROTO_ICMP && len >= WIRE_ICMP_HLEN)
		icmp_out_count(st, icmp_type);
	return (long)len;
}

static void raw_recv_name(struct sock *sk, struct pkb *pkb, struct sockaddr_in *sin)
{
	sin->sin_family = AF_INET;
	sin->sin_port = 0;
	sin->sin_addr.s_addr = wire_ipv4_saddr(pkb->nh);
}

/* raw_setsockopt(): SOL_RAW has ICMP_FILTER only. */
static int raw_setsockopt(struct sock *sk, int level, int name, const void *val, socklen_t len)
{
	if (level != SOL_RAW)
		return 1;
	if (name != ICMP_FILTER)
		return -ENOPROTOOPT;
	if (sk->num != IPPROTO_ICMP)
		return -EOPNOTSUPP;
	if (len > sizeof(uint32_t))
		len = sizeof(uint32_t);
	if (len)
		memcpy(&sk->u.raw.icmp_filter, val, len);
	return 0;
}

static int raw_getsockopt(struct sock *sk, int level, int name, void *val, socklen_t *len)
{
	if (level != SOL_RAW)
		return 1;
	if (name != ICMP_FILTER)
		return -ENOPROTOOPT;
	if (sk->num != IPPROTO_ICMP)
		return -EOPNOTSUPP;
	if ((int)*len < 0)
		return -EINVAL;
	if (*len > sizeof(uint32_t))
		*len = sizeof(uint32_t);
	memcpy(val, &sk->u.raw.icmp_filter, *len);
	return 0;
}

const struct sock_proto raw_prot = {
	.name = "RAW",
	.init = raw_sock_init,
	.release = raw_release,
	.bind = raw_bind,
	.connect = ip4_dgram_connect,
	.disconnect = dgram_disconnect,
	.sendmsg = raw_sendmsg,
	.recv_name = raw_recv_name,
	.setsockopt = raw_setsockopt,
	.getsockopt = raw_getsockopt,
	.unhash = raw_unhash,
};

int raw_init(struct ips_stack *st)
{
	return 0;
}

/* ICMP ping sockets (SOCK_DGRAM + IPPROTO_ICMP; Linux net/ipv4/ping.c): an unprivileged
 * way to send echo requests and read the replies. The socket's "port" is the echo
 * identifier; sending overwrites the identifier with it, replies are matched by it.
 * Allowed only to groups in net.ipv4.ping_group_range ("1 0", nobody, by default). */
#include <errno.h>
#include <netinet/ip_icmp.h>

#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif
#include <string.h>

#include "core/csum.h"
#include "core/stack.h"
#include "ip/ip.h"
#include "ip/route.h"
#include "link/netdev.h"
#include "socket/socket_state.h"
#include "transport/transport_state.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/wire.h"

static struct udp_table *ping_table(struct ips_stack *st)
{
	return &((struct transport_state *)st->transport)->ping;
}

/* ping_get_port(): ident 0 takes the next free one after the last given (Linux's
 * ping_port_rover); a fixed ident conflicts unless both sockets have SO_REUSEADDR. */
static int ping_get_port(struct sock *sk, uint16_t ident)
{
	struct udp_table *t = ping_table(sk->st);

	if (ident == 0) {
		uint16_t result = (uint16_t)(t->rover + 1);

		for (int i = 0; i < (1 << 16); i++, result++) {
			bool used = false;

			if (!result)
				continue;
			for (struct sock *s2 = t->hash[udp_hashfn(result)]; s2; s2 = s2->hash_next)
				if (s2->num == result)
					used = true;
			if (!used) {
				t->rover = ident = result;
				break;
			}
		}
		if (!ident)
			return -EADDRINUSE;
	} else {
		for (struct sock *s2 = t->hash[udp_hashfn(ident)]; s2; s2 = s2->hash_next)
			if (s2->num == ident && s2 != sk && (!s2->reuse || !sk->reuse))
				return -EADDRINUSE;
	}
	sk->num = ident;
	if (!sk->hash_pprev)
		udp_table_insert(t, sk);
	return 0;
}

static void ping_unhash(struct sock *sk)
{
	if (!sk->hash_pprev)
		return;
	udp_table_remove(ping_table(sk->st), sk);
	sk->num = 0;
	sk->sport = 0;
}

/* ping_init_sock(): the caller's group must be in ping_group_range. */
static int ping_sock_init(struct sock *sk)
{
	struct ips_stack *st = sk->st;
	struct socket_state *ss = st->sock;
	unsigned int lo = st->sysctl.ip.ping_group_range[0];
	unsigned int hi = st->sysctl.ip.ping_group_range[1];

	sk->reuse = true;	/* INET_PROTOSW_REUSE */
	if (lo <= ss->gid && ss->gid <= hi)
		return 0;
	return -EACCES;
}

static void ping_release(struct sock *sk)
{
	ping_unhash(sk);
}

/* ping_check_bind_addr() + ping_bind() */
static int ping_bind(struct sock *sk, const struct sockaddr_in *sin, socklen_t len)
{
	uint32_t addr = sin->sin_addr.s_addr;
	int err;

	if (len < sizeof(*sin))
		return -EINVAL;
	if (sin->sin_family != AF_INET &&
	    !(sin->sin_family == AF_UNSPEC && addr == htonl(INADDR_ANY)))
		return -EAFNOSUPPORT;
	if (addr != htonl(INADDR_ANY)) {
		enum rtn_type type = route_addr_type(sk->st, addr);

		if (type == RTN_MULTICAST_ || type == RTN_BROADCAST_ ||
		    (type != RTN_LOCAL_ && !(sk->st->sysctl.ip.ip_nonlocal_bind || sk->freebind ||
					     sk->transparent)))
			return -EADDRNOTAVAIL;
	}
	if (sk->num)
		return -EINVAL;
	err = ping_get_port(sk, ntohs(sin->sin_port));
	if (err)
		return -EADDRINUSE;
	sk->rcv_saddr = sk->saddr = addr;
	if (sin->sin_port)
		sk->userlocks_port = true;
	if (addr)
		sk->userlocks_addr = true;
	sk->sport = htons(sk->num);
	sk->daddr = 0;
	sk->dport = 0;
	return 0;
}

/* The identifier is the socket's, whatever the caller wrote. */
static void ping_fill(struct sock *sk, uint8_t *p, size_t len)
{
	wire_icmp_set_echo_id_be(p, sk->sport);
	wire_icmp_fix_csum(p, len);
}

/* ping_v4_sendmsg() */
static long ping_sendmsg(struct sock *sk, const struct msghdr *msg, size_t len, int flags)
{
	struct ips_stack *st = sk->st;
	struct rt_result rt;
	struct inet_dgram d = { .rt = &rt };
	uint8_t user_icmph[WIRE_ICMP_HLEN];
	uint32_t daddr;
	int err;

	if (len > 0xFFFF)
		return -EMSGSIZE;
	if (len < WIRE_ICMP_HLEN)
		return -EINVAL;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	sock_iov_copy_from(user_icmph, msg, sizeof(user_icmph));
	if (!(user_icmph[0] == ICMP_ECHO && user_icmph[1] == 0))
		return -EINVAL;
	if (msg->msg_name) {
		const struct sockaddr_in *usin = msg->msg_name;

		if (msg->msg_namelen < sizeof(*usin))
			return -EINVAL;
		if (usin->sin_family != AF_INET)
			return -EAFNOSUPPORT;
		daddr = usin->sin_addr.s_addr;
	} else {
		if (sk->state != SS_ESTABLISHED)
			return -EDESTADDRREQ;
		daddr = sk->daddr;
	}
	err = inet_dgram_route(sk, msg, daddr, false, &d);
	if (!err)
		err = inet_dgram_send(sk, msg, len, flags, IPPROTO_ICMP, &d, ping_fill);
	if (err)
		return err;
	MIB_INC(st, IcmpOutMsgs);
	st->mib.icmpmsg_out[ICMP_ECHO]++;
	return (long)len;
}

static void ping_recv_name(struct sock *sk, struct pkb *pkb, struct sockaddr_in *sin)
{
	sin->sin_family = AF_INET;
	sin->sin_port = 0;
	sin->sin_addr.s_addr = wire_ipv4_saddr(pkb->nh);
}

/* ping_lookup(): by identifier, bound address and device; the peer is not looked at. */
static struct sock *ping_lookup(struct ips_stack *st, uint16_t ident, uint32_t daddr, int dif)
{
	struct udp_table *t = ping_table(st);

	for (struct sock *sk = t->hash[udp_hashfn(ident)]; sk; sk = sk->hash_next) {
		if (sk->num != ident)
			continue;
		if (sk->rcv_saddr && sk->rcv_saddr != daddr)
			continue;
		if (sk->bound_dev_if && sk->bound_dev_if != dif)
			continue;
		return sk;
	}
	return NULL;
}

/* ping_err(): an ICMP error quoting one of our echo requests (icmp.c's IPPROTO_ICMP
 * error handler calls it once the error passed icmp_unreach()'s checks). */
void ping_err(struct ips_stack *st, struct pkb *pkb, int type, int code, uint32_t info,
		     const uint8_t *inner, size_t inner_len)
{
	size_t ihl = wire_ipv4_hdr_len(inner);
	const uint8_t *icmph = inner + ihl;
	bool harderr = false;
	int err;

	if (inner_len < ihl + 8 || icmph[0] != ICMP_ECHO || icmph[1] != 0)
		return;
	struct sock *sk = ping_lookup(st, ntohs(wire_icmp_echo_id_be(icmph)), wire_ipv4_daddr(pkb->nh),
				      pkb->dev ? pkb->dev->ifindex : 0);

	if (!sk)
		return;
	switch (type) {
	case ICMP_SOURCE_QUENCH:
		/* "This is not a real error but ping wants to see it." */
		err = EREMOTEIO;
		break;
	case ICMP_PARAMETERPROB:
		err = EPROTO;
		harderr = true;
		break;
	case ICMP_DEST_UNREACH:
		if (code == ICMP_FRAG_NEEDED) {
			if (info)
				pmtu_update(st, get_in4(inner + 16), info);
			if (sk->pmtudisc != IP_PMTUDISC_DONT) {
				err = EMSGSIZE;
				harderr = true;
				break;
			}
			return;
		}
		err = EHOSTUNREACH;
		if (code <= NR_ICMP_UNREACH)
			err = icmp_err_to_errno(type, code, &harderr);
		break;
	case ICMP_REDIRECT:
		err = EREMOTEIO;
		break;
	case ICMP_TIME_EXCEEDED:
	default:
		err = EHOSTUNREACH;
		break;
	}
	if (!sk->recverr) {
		if (!harderr || sk->state != SS_ESTABLISHED)
			return;
	} else {
		sock_icmp_error(sk, pkb, err, 0, info, icmph, get_in4(inner + 16));
	}
	sock_set_err(sk, err);
}

/* ping_rcv(): an echo reply (icmp_rcv(), data at the ICMP header) goes to the ping
 * socket whose identifier it carries. Does not consume pkb. */
void ping_rcv(struct ips_stack *st, struct pkb *pkb)
{
	const uint8_t *ih = pkb->data;
	size_t len = pkb->len;

	if (len < WIRE_ICMP_HLEN || !st->transport)
		return;
	struct sock *sk = ping_lookup(st, ntohs(wire_icmp_echo_id_be(ih)), wire_ipv4_daddr(pkb->nh),
				      pkb->dev ? pkb->dev->ifindex : 0);

	if (!sk)
		return;
	struct pkb *c = pkb_copy(pkb);

	if (!c)
		return;
	inet_rx_cb_fill(st, c, 0, 0);
	c->th = c->buf + (ih - pkb->buf);
	c->data = c->th;
	c->len = (uint32_t)len;
	sock_queue_rcv(sk, c);
}

const struct sock_proto ping_prot = {
	.name = "PING",
	.init = ping_sock_init,
	.release = ping_release,
	.bind = ping_bind,
	.connect = ip4_dgram_connect,
	.disconnect = dgram_disconnect,
	.sendmsg = ping_sendmsg,
	.recv_name = ping_recv_name,
	.get_port = ping_get_port,
	.unhash = ping_unhash,
};

int ping_init(struct ips_stack *st)
{
	ping_table(st)->proto = IPPROTO_ICMP;
	return 0;
}

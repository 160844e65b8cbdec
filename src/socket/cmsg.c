/* Control messages: sending (ip_cmsg_send(), __sock_cmsg_send()) and receiving
 * (put_cmsg(), ip_cmsg_recv_offset(), sock_recv_timestamp()). */
#include <errno.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "core/stack.h"
#include "ip/ip.h"
#include "ip/route.h"
#include "socket/socket_state.h"
#include "wire/ipv4.h"
#include "wire/ipv4_opts.h"
#include "wire/wire.h"

#ifndef SO_TIMESTAMP_OLD
#define SO_TIMESTAMP_OLD 29
#define SO_TIMESTAMPNS_OLD 35
#endif
#ifndef SO_TIMESTAMPING_OLD
#define SO_TIMESTAMPING_OLD 37
#endif
#ifndef IP_PROTOCOL
#define IP_PROTOCOL 52
#endif

static bool prespec_is_ours(void *arg, uint32_t addr)
{
	return route_addr_type(arg, addr) != RTN_UNICAST_;
}

int sock_cmsg_send(struct sock *sk, const struct msghdr *msg, struct sock_cmsg_out *out)
{
	struct ips_stack *st = sk->st;

	memset(out, 0, sizeof(*out));
	out->ttl = -1;
	out->tos = -1;
	out->oif = sk->bound_dev_if;
	if (!msg->msg_control || msg->msg_controllen < sizeof(struct cmsghdr))
		return 0;
	if (msg->msg_controllen > 0x7fffffff)
		return -ENOBUFS;
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c;
	     c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		/* CMSG_OK() */
		if (c->cmsg_len < sizeof(struct cmsghdr) ||
		    c->cmsg_len > msg->msg_controllen - (size_t)((uint8_t *)c - (uint8_t *)msg->msg_control))
			return -EINVAL;
		const uint8_t *d = CMSG_DATA(c);
		size_t dlen = c->cmsg_len - CMSG_LEN(0);
		int val;
		uint32_t u;

		if (c->cmsg_level == SOL_SOCKET) {
			switch (c->cmsg_type) {
			case SO_MARK:
				if (!sock_capable(st, SOCK_CAP_NET_RAW) &&
				    !sock_capable(st, SOCK_CAP_NET_ADMIN))
					return -EPERM;
				if (c->cmsg_len != CMSG_LEN(sizeof(uint32_t)))
					return -EINVAL;
				memcpy(&out->mark, d, 4);
				out->mark_set = true;
				break;
			case SO_PRIORITY:
				if (c->cmsg_len != CMSG_LEN(sizeof(uint32_t)))
					return -EINVAL;
				memcpy(&u, d, 4);
				/* sk_set_prio_allowed() */
				if (u > 6 && !sock_capable(st, SOCK_CAP_NET_RAW) &&
				    !sock_capable(st, SOCK_CAP_NET_ADMIN))
					return -EPERM;
				out->priority = u;
				out->priority_set = true;
				break;
			case SO_TIMESTAMPING_OLD:
				if (c->cmsg_len != CMSG_LEN(sizeof(uint32_t)))
					return -EINVAL;
				break;
			case SCM_RIGHTS:
			case SCM_CREDENTIALS:
				break;
			default:
				return -EINVAL;
			}
			continue;
		}
		if (c->cmsg_level != SOL_IP)
			continue;
		switch (c->cmsg_type) {
		case IP_RETOPTS: {
			size_t n = dlen < 40 ? dlen : 40;

			memset(out->opt_buf, 0, sizeof(out->opt_buf));
			memcpy(out->opt_buf, d, n);
			if (wire_ipv4_opts_compile_user(out->opt_buf, &n,
							sock_capable(st, SOCK_CAP_NET_RAW),
							prespec_is_ours, st, &out->opt_info) < 0)
				return -EINVAL;
			out->opt_len = (uint8_t)n;
			out->opt_set = true;
			break;
		}
		case IP_PKTINFO: {
			struct in_pktinfo info;

			if (c->cmsg_len != CMSG_LEN(sizeof(info)))
				return -EINVAL;
			memcpy(&info, d, sizeof(info));
			if (info.ipi_ifindex)
				out->oif = info.ipi_ifindex;
			out->saddr = info.ipi_spec_dst.s_addr;
			out->has_pktinfo = true;
			break;
		}
		case IP_TTL:
			if (c->cmsg_len != CMSG_LEN(sizeof(int)))
				return -EINVAL;
			memcpy(&val, d, sizeof(val));
			if (val < 1 || val > 255)
				return -EINVAL;
			out->ttl = val;
			break;
		case IP_TOS:
			if (c->cmsg_len == CMSG_LEN(sizeof(int)))
				memcpy(&val, d, sizeof(val));
			else if (c->cmsg_len == CMSG_LEN(sizeof(uint8_t)))
				val = d[0];
			else
				return -EINVAL;
			if (val < 0 || val > 255)
				return -EINVAL;
			out->tos = val;
			break;
		case IP_PROTOCOL:
			if (c->cmsg_len != CMSG_LEN(sizeof(int)))
				return -EINVAL;
			memcpy(&val, d, sizeof(val));
			if (val < 1 || val > 255)
				return -EINVAL;
			out->protocol = val;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

void cmsg_put(struct msghdr *msg, size_t *used, int level, int type, const void *data,
	      size_t len)
{
	size_t room = msg->msg_controllen > *used ? msg->msg_controllen - *used : 0;
	size_t cmlen = CMSG_LEN(len);
	uint8_t *at = (uint8_t *)msg->msg_control + *used;
	struct cmsghdr h;

	if (!msg->msg_control || room < sizeof(struct cmsghdr)) {
		msg->msg_flags |= MSG_CTRUNC;
		return;
	}
	if (room < cmlen) {
		msg->msg_flags |= MSG_CTRUNC;
		cmlen = room;
	}
	memset(&h, 0, sizeof(h));
	h.cmsg_len = cmlen;
	h.cmsg_level = level;
	h.cmsg_type = type;
	memcpy(at, &h, sizeof(h));
	memcpy(at + CMSG_LEN(0), data, cmlen - CMSG_LEN(0));
	size_t adv = CMSG_SPACE(len);

	*used += adv < room ? adv : room;
}

#define SOF_TIMESTAMPING_RX_SOFTWARE_	(1u << 3)
#define SOF_TIMESTAMPING_SOFTWARE_	(1u << 4)
#define SOF_TIMESTAMPING_OPT_RX_FILTER_	(1u << 17)

static void cmsg_put_timestamp_old(struct sock *sk, struct msghdr *msg, size_t *used,
				   const struct timespec *ts)
{
	if (sk->ts_ns) {
		cmsg_put(msg, used, SOL_SOCKET, SO_TIMESTAMPNS_OLD, ts, sizeof(*ts));
	} else {
		struct timeval tv = { .tv_sec = ts->tv_sec, .tv_usec = ts->tv_nsec / 1000 };

		cmsg_put(msg, used, SOL_SOCKET, SO_TIMESTAMP_OLD, &tv, sizeof(tv));
	}
}

void cmsg_put_timestamp(struct sock *sk, struct msghdr *msg, size_t *used, uint64_t tstamp_ns)
{
	struct timespec ts[3] = { { 0, 0 }, { 0, 0 }, { 0, 0 } };
	uint32_t f = sk->tsflags;

	sock_stamp_to_real(sk->st, tstamp_ns, &ts[0]);
	if (sk->ts_old || sk->ts_ns)
		cmsg_put_timestamp_old(sk, msg, used, &ts[0]);
	/* __sock_recv_timestamp() / tcp_recv_timestamp(): then SCM_TIMESTAMPING with the
	 * software stamp in ts[0] (ts[1] and the hardware one, ts[2], zero) */
	if ((f & SOF_TIMESTAMPING_SOFTWARE_) &&
	    ((f & SOF_TIMESTAMPING_RX_SOFTWARE_) || !(f & SOF_TIMESTAMPING_OPT_RX_FILTER_)))
		cmsg_put(msg, used, SOL_SOCKET, SO_TIMESTAMPING_OLD, ts, sizeof(ts));
}

void cmsg_put_ip(struct sock *sk, struct msghdr *msg, size_t *used, const uint8_t *nh,
		 const uint8_t *th, size_t th_len, const struct sock_rx_cb *cb)
{
	uint32_t f = sk->cmsg_flags;
	size_t hl = wire_ipv4_hdr_len(nh);

	if (f & IP_CMSG_PKTINFO) {
		struct in_pktinfo info;

		memset(&info, 0, sizeof(info));
		info.ipi_ifindex = cb->iif;
		info.ipi_spec_dst.s_addr = cb->spec_dst;
		info.ipi_addr.s_addr = wire_ipv4_daddr(nh);
		cmsg_put(msg, used, SOL_IP, IP_PKTINFO, &info, sizeof(info));
	}
	if (f & IP_CMSG_TTL) {
		int ttl = wire_ipv4_ttl(nh);

		cmsg_put(msg, used, SOL_IP, IP_TTL, &ttl, sizeof(ttl));
	}
	if (f & IP_CMSG_TOS) {
		uint8_t tos = wire_ipv4_tos(nh);

		cmsg_put(msg, used, SOL_IP, IP_TOS, &tos, 1);
	}
	if ((f & IP_CMSG_RECVOPTS) && hl > WIRE_IPV4_HLEN)
		cmsg_put(msg, used, SOL_IP, IP_RECVOPTS, nh + WIRE_IPV4_HLEN, hl - WIRE_IPV4_HLEN);
	if ((f & IP_CMSG_RETOPTS) && hl > WIRE_IPV4_HLEN) {
		struct wire_ipv4_opts in, out;
		uint8_t data[MAX_IPOPTLEN], pp;

		if (wire_ipv4_opts_parse(nh, hl, &in, &pp) < 0 ||
		    wire_ipv4_opts_echo(nh, &in, data, &out, prespec_is_ours, sk->st) < 0) {
			msg->msg_flags |= MSG_CTRUNC;
		} else {
			wire_ipv4_opts_undo(data, &out);
			cmsg_put(msg, used, SOL_IP, IP_RETOPTS, data, out.optlen);
		}
	}
	/* The ports are the first four bytes of the transport header for every protocol
	 * (Linux assumes so too); nothing when fewer are there. */
	if ((f & IP_CMSG_ORIGDSTADDR) && th && th_len >= 4) {
		struct sockaddr_in sin;
		const uint8_t *t = th;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = wire_ipv4_daddr(nh);
		memcpy(&sin.sin_port, t + 2, 2);
		cmsg_put(msg, used, SOL_IP, IP_ORIGDSTADDR, &sin, sizeof(sin));
	}
}

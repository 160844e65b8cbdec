/* Socket objects: life (reference counts), receive and error queues, readiness, waiting
 * in the three ways a stack can run, and datagram receive (Linux net/core/sock.c,
 * net/core/datagram.c, net/ipv4/ip_sockglue.c ip_recv_error / ip_icmp_error). */
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/stack.h"
#include "ip/ip.h"
#include "link/netdev.h"
#include "socket/socket_state.h"
#include "socket/stream.h"
#include "wire/ipv4.h"
#include "wire/wire.h"

struct sock *sock_alloc(struct ips_stack *st, int type, int protocol,
			const struct sock_proto *prot)
{
	struct socket_state *ss = st->sock;
	struct sock *sk = calloc(1, sizeof(*sk));

	if (!sk)
		return NULL;
	sk->st = st;
	atomic_init(&sk->refcnt, 1);
	sk->fd = -1;
	sk->prot = prot;
	sk->family = AF_INET;
	sk->type = type;
	sk->protocol = protocol;
	sk->state = SS_CLOSE;
	/* sock_init_data(): net.core.rmem_default / wmem_default at creation. */
	sk->rcvbuf = st->sysctl.core.rmem_default;
	sk->sndbuf = st->sysctl.core.wmem_default;
	sk->rcvlowat = 1;
	sk->rcvtimeo = sk->sndtimeo = SOCK_TIMEO_MAX;
	sk->uid = ss->uid;
	sk->uc_ttl = -1;
	sk->mc_ttl = 1;
	sk->mc_loop = true;
	sk->mc_all = true;
	sk->pmtudisc = st->sysctl.ip.ip_no_pmtu_disc ? IP_PMTUDISC_DONT : IP_PMTUDISC_WANT;
	sk->efd = -1;
	pkb_queue_init(&sk->rcvq);
	pkb_queue_init(&sk->errq);
	sk->wait_head.next = sk->wait_head.prev = &sk->wait_head;
	/* Link into the stack's list. */
	sk->st_next = ss->socks;
	if (ss->socks)
		ss->socks->st_prev = sk;
	ss->socks = sk;
	ss->nsocks++;
	return sk;
}

struct sock *sock_first(struct ips_stack *st)
{
	return st->sock ? ((struct socket_state *)st->sock)->socks : NULL;
}

void sock_hold(struct sock *sk)
{
	atomic_fetch_add(&sk->refcnt, 1);
}

/* Unhash, purge and unlink; the memory stays until the last reference. Lock held. */
static void sock_detach(struct sock *sk)
{
	struct ips_stack *st = sk->st;
	struct socket_state *ss = st->sock;

	if (sk->prot->release)
		sk->prot->release(sk);
	pkb_queue_purge(&sk->rcvq);
	pkb_queue_purge(&sk->errq);
	sk->rmem = 0;
	if (sk->st_prev)
		sk->st_prev->st_next = sk->st_next;
	else
		ss->socks = sk->st_next;
	if (sk->st_next)
		sk->st_next->st_prev = sk->st_prev;
	sk->st_next = sk->st_prev = NULL;
	ss->nsocks--;
	sk->dead = true;
	sk->st = NULL;
}

void sock_put(struct sock *sk)
{
	if (atomic_fetch_sub(&sk->refcnt, 1) != 1)
		return;
	struct ips_stack *st = sk->st;

	if (st) {
		stack_lock(st);
		sock_detach(sk);
		stack_unlock(st);
	}
	if (sk->efd >= 0)
		close(sk->efd);
	if (sk->cond) {
		pthread_cond_destroy(sk->cond);
		free(sk->cond);
	}
	free(sk->opt);
	free(sk);
}

/* ---- Readiness ---- */

short sock_poll_mask(struct sock *sk)
{
	short mask = 0;

	if (!sk->st)
		return POLLNVAL;
	if (sk->type == SOCK_STREAM)
		return stream_poll_mask(sk);
	if (sk->err || sk->errq.head)
		mask |= POLLERR;
	if (sk->shutdown & RCV_SHUTDOWN)
		mask |= POLLRDHUP | POLLIN | POLLRDNORM;
	if (sk->shutdown == (RCV_SHUTDOWN | SEND_SHUTDOWN))
		mask |= POLLHUP;
	if (sk->rcvq.head)
		mask |= POLLIN | POLLRDNORM;
	/* sock_writeable(): datagrams leave at once, so the send buffer is never full. */
	if (sk->wmem < (size_t)sk->sndbuf / 2)
		mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
	return mask;
}

void sock_efd_update(struct sock *sk)
{
	if (sk->efd < 0)
		return;
	bool ready = (sock_poll_mask(sk) & (sk->efd_events | POLLERR | POLLHUP)) != 0;

	if (ready == sk->efd_ready)
		return;
	if (ready) {
		uint64_t one = 1;
		ssize_t n = write(sk->efd, &one, sizeof(one));

		(void)n;
	} else {
		uint64_t v;
		ssize_t n = read(sk->efd, &v, sizeof(v));

		(void)n;
	}
	sk->efd_ready = ready;
}

void sock_wake(struct sock *sk)
{
	if (sk->waiters)
		pthread_cond_broadcast(sk->cond);	/* a waiter made it */
	for (struct sock_wait_entry *e = sk->wait_head.next; e != &sk->wait_head; e = e->next) {
		pthread_mutex_lock(&e->w->lock);
		e->w->woken = true;
		pthread_cond_signal(&e->w->cond);
		pthread_mutex_unlock(&e->w->lock);
	}
	sock_efd_update(sk);
}

void sock_set_err(struct sock *sk, int err)
{
	sk->err = err;
	sock_wake(sk);
}

/* ---- Queues ---- */

int sock_queue_rcv(struct sock *sk, struct pkb *pkb)
{
	size_t size = pkb_truesize(pkb);

	/* __udp_enqueue_schedule_skb(): drop when over the buffer, but always let one
	 * datagram in, however small the buffer. */
	if (sk->rmem + size > (size_t)sk->rcvbuf && sk->rmem > (size_t)sk->rcvbuf) {
		sk->drops++;
		pkb_free(pkb);
		return -ENOMEM;
	}
	pkb->dev = NULL;	/* the device may go away while the datagram waits */
	sk->rmem += size;
	pkb_queue_push(&sk->rcvq, pkb);
	sock_wake(sk);
	return 0;
}

int sock_queue_err(struct sock *sk, struct pkb *pkb)
{
	size_t size = pkb_truesize(pkb);

	/* sock_queue_err_skb() */
	if (sk->rmem + size >= (size_t)sk->rcvbuf) {
		pkb_free(pkb);
		return -ENOMEM;
	}
	pkb->dev = NULL;
	sk->rmem += size;
	pkb_queue_push(&sk->errq, pkb);
	sock_wake(sk);
	return 0;
}

/* ip_icmp_error(): the queued entry is the ICMP message (outer IPv4 header, ICMP header,
 * the quoted packet) with data at the quoted payload. */
void sock_icmp_error(struct sock *sk, struct pkb *icmp_pkb, int err, uint16_t port, uint32_t info,
		     const uint8_t *payload, uint32_t inner_daddr)
{
	const uint8_t *nh = icmp_pkb->nh;
	const uint8_t *ih = icmp_pkb->th;
	const uint8_t *end = icmp_pkb->data + icmp_pkb->len;

	if (!nh || !ih || payload < ih || payload > end)
		return;
	size_t hl = wire_ipv4_hdr_len(nh);
	size_t total = (size_t)(end - ih);
	struct pkb *p = stack_pkb_alloc(sk->st, hl + total);

	if (!p)
		return;
	uint8_t *b = pkb_put(p, hl + total);

	memcpy(b, nh, hl);
	memcpy(b + hl, ih, total);
	p->nh = b;
	p->th = b + hl;
	p->tstamp_ns = icmp_pkb->tstamp_ns;
	pkb_pull(p, hl + (size_t)(payload - ih));

	struct sock_err_cb *cb = sock_err_cb(p);

	memset(cb, 0, sizeof(*cb));
	cb->ee.ee_errno = (uint32_t)err;
	cb->ee.ee_origin = SO_EE_ORIGIN_ICMP;
	cb->ee.ee_type = ih[0];
	cb->ee.ee_code = ih[1];
	cb->ee.ee_info = info;
	cb->addr = inner_daddr;
	cb->port = port;
	cb->offender = wire_ipv4_saddr(nh);
	cb->daddr = wire_ipv4_daddr(nh);
	cb->icmp = true;
	cb->iif = icmp_pkb->dev ? icmp_pkb->dev->ifindex : 0;
	sock_queue_err(sk, p);
}

/* ip_local_error(): only with IP_RECVERR; no payload, msg_name = daddr:port (port is the
 * socket's connected port, so an unconnected socket's entry has no name, as in Linux). */
void sock_local_error(struct sock *sk, int err, uint32_t daddr, uint16_t port, uint32_t info)
{
	if (!sk->recverr)
		return;
	struct pkb *p = stack_pkb_alloc(sk->st, WIRE_IPV4_HLEN);

	if (!p)
		return;
	uint8_t *b = pkb_put(p, WIRE_IPV4_HLEN);

	memset(b, 0, WIRE_IPV4_HLEN);
	b[0] = 0x45;
	put_in4(b + 16, daddr);
	p->nh = b;
	pkb_pull(p, WIRE_IPV4_HLEN);
	p->tstamp_ns = stack_now_ns(sk->st);

	struct sock_err_cb *cb = sock_err_cb(p);

	memset(cb, 0, sizeof(*cb));
	cb->ee.ee_errno = (uint32_t)err;
	cb->ee.ee_origin = SO_EE_ORIGIN_LOCAL;
	cb->ee.ee_info = info;
	cb->addr = daddr;
	cb->port = port;
	sock_queue_err(sk, p);
}

/* ---- Waiting ---- */

struct sim_wait {
	struct sock *sk;
	bool (*ready)(struct sock *sk, void *arg);
	void *arg;
};

static int sim_ready(void *arg)
{
	struct sim_wait *w = arg;
	struct ips_stack *st = w->sk->st;
	int r;

	if (!st)
		return 1;
	stack_lock(st);
	r = w->ready(w->sk, w->arg);
	stack_unlock(st);
	return r;
}

/* Simulated: the calling thread is the world's; run it until ready. Virtual time moves
 * only as far as the next event (or the deadline), so an idle world is noticed. */
static int sock_wait_sim(struct sock *sk, bool (*ready)(struct sock *sk, void *arg), void *arg,
			 int64_t timeo_ns, const char *what)
{
	struct ips_stack *st = sk->st;
	struct ips_world *w = st->world;
	struct sim_wait sw = { sk, ready, arg };
	uint64_t deadline = timeo_ns >= 0 ? ips_world_now_ns(w) + (uint64_t)timeo_ns : UINT64_MAX;
	int fd = sk->fd;
	int rc = -EAGAIN;

	stack_unlock(st);
	for (;;) {
		if (sim_ready(&sw)) {
			rc = 0;
			break;
		}
		uint64_t now = ips_world_now_ns(w);
		uint64_t next = ips_world_next_event_ns(w);

		if (sim_ready(&sw)) {
			rc = 0;
			break;
		}
		if (next == UINT64_MAX || next > deadline) {
			if (deadline != UINT64_MAX) {
				/* SO_RCVTIMEO/SO_SNDTIMEO: time passes, then EAGAIN. */
				ips_world_run_until(w, sim_ready, &sw, deadline - now);
				rc = sim_ready(&sw) ? 0 : -EAGAIN;
			} else {
				fprintf(stderr,
					"ipstack: %s on socket %d would block forever: the simulated "
					"world is idle; returning EAGAIN\n",
					what, fd);
			}
			break;
		}
		ips_world_run_until(w, sim_ready, &sw, next > now ? next - now : 0);
	}
	if (sk->st)
		stack_lock(sk->st);
	return rc;
}

int sock_wait(struct sock *sk, bool (*ready)(struct sock *sk, void *arg), void *arg,
	      int64_t timeo_ns, const char *what)
{
	struct ips_stack *st = sk->st;

	if (ready(sk, arg))
		return 0;
	if (st->world)
		return sock_wait_sim(sk, ready, arg, timeo_ns, what);

	/* Threaded and driven: sleep on the socket's condition variable (with the stack
	 * lock, so a wake-up between the check and the sleep cannot be lost). Deadlines
	 * are on the stack clock, which may be a caller's virtual clock, so sleep in
	 * slices and look at it again. */
	uint64_t deadline = timeo_ns >= 0 ? stack_now_ns(st) + (uint64_t)timeo_ns : UINT64_MAX;
	int rc = 0;

	if (!sk->cond) {
		pthread_condattr_t ca;

		sk->cond = malloc(sizeof(*sk->cond));
		if (!sk->cond)
			return -ENOMEM;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(sk->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	sk->waiters++;
	while (!ready(sk, arg)) {
		if (!sk->st) {
			rc = -EBADF;
			break;
		}
		uint64_t now = stack_now_ns(st);

		if (now >= deadline) {
			rc = -EAGAIN;
			break;
		}
		uint64_t slice = deadline - now;

		if (slice > 50 * NS_PER_MS)
			slice = 50 * NS_PER_MS;
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t abs = (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec + slice;

		ts.tv_sec = (time_t)(abs / NS_PER_SEC);
		ts.tv_nsec = (long)(abs % NS_PER_SEC);
		stack_poke_poller(st);	/* timers this call armed must not wait for us */
		pthread_cond_timedwait(sk->cond, &st->lock, &ts);
	}
	sk->waiters--;
	return rc;
}

/* ---- Datagram receive ---- */

static size_t iov_copy_to(struct msghdr *msg, const uint8_t *src, size_t len)
{
	size_t done = 0;

	for (size_t i = 0; i < (size_t)msg->msg_iovlen && done < len; i++) {
		size_t n = msg->msg_iov[i].iov_len;

		if (n > len - done)
			n = len - done;
		if (n)
			memcpy(msg->msg_iov[i].iov_base, src + done, n);
		done += n;
	}
	return done;
}

size_t sock_iov_len(const struct msghdr *msg)
{
	size_t n = 0;

	for (size_t i = 0; i < (size_t)msg->msg_iovlen; i++)
		n += msg->msg_iov[i].iov_len;
	return n;
}

void sock_iov_copy_from(void *buf, const struct msghdr *msg, size_t len)
{
	uint8_t *d = buf;
	size_t done = 0;

	for (size_t i = 0; i < (size_t)msg->msg_iovlen && done < len; i++) {
		size_t n = msg->msg_iov[i].iov_len;

		if (n > len - done)
			n = len - done;
		if (n)
			memcpy(d + done, msg->msg_iov[i].iov_base, n);
		done += n;
	}
}

/* A socket timeout (jiffies) as nanoseconds for sock_wait(); -1 = forever. */
static int64_t sock_timeo_ns(struct sock *sk, int64_t timeo)
{
	int hz = sk->st->sysctl.hz > 0 ? sk->st->sysctl.hz : 250;

	if (timeo == SOCK_TIMEO_MAX)
		return -1;
	return timeo * (int64_t)(NS_PER_SEC / (uint64_t)hz);
}

static bool rcv_ready(struct sock *sk, void *arg)
{
	return !sk->st || sk->rcvq.head || sk->err || (sk->shutdown & RCV_SHUTDOWN);
}

static void name_out(struct msghdr *msg, const struct sockaddr_in *sin)
{
	if (!msg->msg_name)
		return;
	size_t n = msg->msg_namelen < sizeof(*sin) ? msg->msg_namelen : sizeof(*sin);

	memcpy(msg->msg_name, sin, n);
	msg->msg_namelen = sizeof(*sin);
}

long sock_recv_error(struct sock *sk, struct msghdr *msg, int flags)
{
	struct pkb *p = pkb_queue_pop(&sk->errq);
	size_t used = 0, len = sock_iov_len(msg), copied;
	struct {
		struct sock_extended_err ee;
		struct sockaddr_in offender;
	} errhdr;

	msg->msg_flags = 0;
	if (!p) {
		msg->msg_controllen = 0;
		return -EAGAIN;
	}
	sk->rmem -= pkb_truesize(p);
	/* sock_dequeue_err_skb(): sk_err follows the next ICMP entry. */
	struct sock_err_cb *cb = sock_err_cb(p);

	if (sk->errq.head && sock_err_cb(sk->errq.head)->icmp)
		sk->err = (int)sock_err_cb(sk->errq.head)->ee.ee_errno;
	else if (cb->icmp)
		sk->err = 0;

	copied = p->len;
	if (copied > len) {
		msg->msg_flags |= MSG_TRUNC;
		copied = len;
	}
	iov_copy_to(msg, p->data, copied);
	cmsg_put_timestamp(sk, msg, &used, p->tstamp_ns);
	/* The original destination; port 0 for local errors of unconnected sockets and for
	 * raw/ping sockets (Linux fills the name in every case). */
	if (msg->msg_name) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = cb->port };

		sin.sin_addr.s_addr = cb->addr;
		name_out(msg, &sin);
	}
	memset(&errhdr, 0, sizeof(errhdr));
	errhdr.ee.ee_errno = cb->ee.ee_errno;
	errhdr.ee.ee_origin = cb->ee.ee_origin;
	errhdr.ee.ee_type = cb->ee.ee_type;
	errhdr.ee.ee_code = cb->ee.ee_code;
	errhdr.ee.ee_info = cb->ee.ee_info;
	errhdr.ee.ee_data = cb->ee.ee_data;
	if (cb->icmp) {
		/* ipv4_datagram_support_cmsg(): the ICMP sender and the cmsgs of the ICMP
		 * packet itself. */
		errhdr.offender.sin_family = AF_INET;
		errhdr.offender.sin_addr.s_addr = cb->offender;
		if (sk->cmsg_flags) {
			struct sock_rx_cb rx = {
				.saddr = cb->offender,
				.daddr = cb->daddr,
				.spec_dst = 0,	/* not prepared for an ICMP packet */
				.iif = cb->iif,
			};

			cmsg_put_ip(sk, msg, &used, p->nh, p->data, p->len, &rx);
		}
	}
	cmsg_put(msg, &used, SOL_IP, IP_RECVERR, &errhdr, sizeof(errhdr));
	msg->msg_flags |= MSG_ERRQUEUE;
	msg->msg_controllen = used;
	pkb_free(p);
	sock_wake(sk);
	return (long)copied;
}

long sock_dgram_recvmsg(struct sock *sk, struct msghdr *msg, int flags)
{
	struct ips_stack *st = sk->st;
	bool peek = flags & MSG_PEEK;
	size_t len = sock_iov_len(msg), used = 0, copied, ulen;
	struct pkb *p;
	int err;

	if ((flags & MSG_OOB) && sk->type == SOCK_RAW)
		return -EOPNOTSUPP;
	if ((flags & MSG_OOB) && sk->protocol == IPPROTO_ICMP)
		return -EOPNOTSUPP;
	if (flags & MSG_ERRQUEUE)
		return sock_recv_error(sk, msg, flags);
	bool block = !(flags & MSG_DONTWAIT) && !sk->nonblock && sk->rcvtimeo != 0;

	for (;;) {
		err = sock_error(sk);
		if (err)
			return err;
		p = sk->rcvq.head;
		if (p)
			break;
		if (!block)
			return -EAGAIN;
		if (sk->shutdown & RCV_SHUTDOWN)
			return 0;
		err = sock_wait(sk, rcv_ready, NULL, sock_timeo_ns(sk, sk->rcvtimeo), "recv");
		if (!sk->st)
			return -EBADF;
		if (err) {
			if (sk->rcvq.head || sk->err)
				continue;
			return err;
		}
		if (!sk->rcvq.head && !sk->err && (sk->shutdown & RCV_SHUTDOWN))
			return 0;
	}
	msg->msg_flags = 0;
	ulen = p->len;
	copied = len;
	if (copied > ulen)
		copied = ulen;
	else if (copied < ulen)
		msg->msg_flags |= MSG_TRUNC;
	iov_copy_to(msg, p->data, copied);
	if (!peek && sk->type == SOCK_DGRAM) {
		if (sk->protocol == IPPROTO_UDP)
			MIB_INC(st, UdpInDatagrams);
		else if (sk->protocol == IPPROTO_UDPLITE)
			MIB_INC(st, UdpLiteInDatagrams);
	}
	sk->stamp_ns = p->tstamp_ns;
	sk->stamp_set = true;
	cmsg_put_timestamp(sk, msg, &used, p->tstamp_ns);
	if (msg->msg_name) {
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof(sin));
		sk->prot->recv_name(sk, p, &sin);
		name_out(msg, &sin);
	} else {
		msg->msg_namelen = 0;
	}
	if (sk->cmsg_flags)
		cmsg_put_ip(sk, msg, &used, p->nh, p->th,
				    p->th ? (size_t)(p->data + p->len - p->th) : 0, sock_rx_cb(p));
	msg->msg_controllen = used;
	if (!peek) {
		pkb_queue_pop(&sk->rcvq);
		sk->rmem -= pkb_truesize(p);
		pkb_free(p);
	}
	/* ping_recvmsg() returns what it copied even with MSG_TRUNC. */
	if ((flags & MSG_TRUNC) && !(sk->type == SOCK_DGRAM && sk->protocol == IPPROTO_ICMP))
		return (long)ulen;
	return (long)copied;
}

void sock_stamp_to_real(struct ips_stack *st, uint64_t stamp_ns, struct timespec *ts)
{
	uint64_t t = stamp_ns;

	if (!st->world) {
		/* Real-time of a monotonic instant: now(real) - (now(stack) - stamp). */
		struct timespec rt;

		clock_gettime(CLOCK_REALTIME, &rt);
		uint64_t real = (uint64_t)rt.tv_sec * NS_PER_SEC + (uint64_t)rt.tv_nsec;
		uint64_t now = stack_now_ns(st);

		t = real - (now > stamp_ns ? now - stamp_ns : 0);
	}
	ts->tv_sec = (time_t)(t / NS_PER_SEC);
	ts->tv_nsec = (long)(t % NS_PER_SEC);
}

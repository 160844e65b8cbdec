/* `ipstack host --serve`: echo (RFC 862) and discard (RFC 863) over UDP, served by one
 * thread through ipstack's socket API (ips_poll + non-blocking ips_recvmsg), exactly as
 * an inetd would serve them with the kernel's sockets.
 *
 * Echo answers from the address the datagram was sent to (IP_PKTINFO's ipi_spec_dst, so
 * a host with several addresses, or a broadcast request, is answered from the right
 * one), and, like inetd's check_loop(), never answers a datagram that comes from one of
 * the small services' own ports (echo, discard, daytime, chargen, time): two echo
 * servers pointed at each other would bounce one datagram forever. */
#include "serve.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum serve_kind { SERVE_ECHO, SERVE_DISCARD };

static const struct {
	const char *name;
	enum serve_kind kind;
	uint16_t port;
} services[] = {
	{ "echo", SERVE_ECHO, 7 },	/* RFC 862 */
	{ "discard", SERVE_DISCARD, 9 },	/* RFC 863 */
};

#define NSERVICES (sizeof(services) / sizeof(services[0]))
#define SERVE_MAX 8

struct serve {
	ips_stack *st;
	pthread_t thread;
	atomic_bool stop;
	int nfds;
	int fd[SERVE_MAX];
	enum serve_kind kind[SERVE_MAX];
	struct serve_tcp *tcp;	/* the TCP services (serve_tcp.c), or NULL */
	uint8_t buf[65536];	/* the largest UDP payload (65507) fits */
};

static int service_find(const char *spec)
{
	for (size_t i = 0; i < NSERVICES; i++)
		if (strcmp(spec, services[i].name) == 0)
			return (int)i;
	return -1;
}

int serve_check(const char *spec, const char **why)
{
	*why = "unknown service (known: echo, discard, http=DIR)";
	if (service_find(spec) >= 0)
		return 0;
	return serve_tcp_check(spec, why);	/* http=DIR */
}

/* inetd's check_loop(): a request from a small service's port is not answered. */
static bool from_small_service(uint16_t port)
{
	switch (port) {
	case 7:		/* echo */
	case 9:		/* discard */
	case 13:	/* daytime */
	case 19:	/* chargen */
	case 37:	/* time */
		return true;
	default:
		return false;
	}
}

/* Read every datagram waiting on one socket (non-blocking) and answer it. */
static void serve_drain(struct serve *s, int fd, enum serve_kind kind)
{
	for (;;) {
		struct sockaddr_in from;
		struct iovec iov = { s->buf, sizeof(s->buf) };
		union {
			struct cmsghdr align;
			uint8_t b[CMSG_SPACE(sizeof(struct in_pktinfo))];
		} ctl;
		struct msghdr m = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.b, .msg_controllen = sizeof(ctl.b),
		};
		ssize_t n = ips_recvmsg(fd, &m, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			continue;	/* an ICMP error reported on the socket: go on */
		}
		if (kind == SERVE_DISCARD || from_small_service(ntohs(from.sin_port)))
			continue;
		/* Echo the datagram back from the address it was sent to. */
		struct in_pktinfo pi = { 0 };

		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		union {
			struct cmsghdr align;
			uint8_t b[CMSG_SPACE(sizeof(struct in_pktinfo))];
		} out;
		struct in_pktinfo reply = { .ipi_spec_dst = pi.ipi_spec_dst };
		struct iovec riov = { s->buf, (size_t)n };
		struct msghdr r = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &riov, .msg_iovlen = 1,
			.msg_control = out.b, .msg_controllen = sizeof(out.b),
		};
		struct cmsghdr *c = CMSG_FIRSTHDR(&r);

		memset(out.b, 0, sizeof(out.b));
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(reply));
		memcpy(CMSG_DATA(c), &reply, sizeof(reply));
		if (!pi.ipi_spec_dst.s_addr)
			r.msg_control = NULL, r.msg_controllen = 0;
		(void)ips_sendmsg(fd, &r, MSG_DONTWAIT);
	}
}

static void *serve_main(void *arg)
{
	struct serve *s = arg;
	struct pollfd pf[SERVE_MAX];

	while (!atomic_load(&s->stop)) {
		for (int i = 0; i < s->nfds; i++)
			pf[i] = (struct pollfd){ .fd = s->fd[i], .events = POLLIN };
		/* A short timeout so that serve_stop() is noticed without a wake-up channel. */
		int n = ips_poll(pf, (nfds_t)s->nfds, 100);

		if (n <= 0)
			continue;
		for (int i = 0; i < s->nfds; i++)
			if (pf[i].revents & (POLLIN | POLLERR))
				serve_drain(s, s->fd[i], s->kind[i]);
	}
	return NULL;
}

static void serve_close(struct serve *s)
{
	serve_tcp_stop(s->tcp);
	for (int i = 0; i < s->nfds; i++)
		ips_close(s->fd[i]);
	free(s);
}

struct serve *serve_start(ips_stack *st, const char *const *specs, int n, int *err,
			  const char **what)
{
	struct serve *s = calloc(1, sizeof(*s));
	ips_stack *prev = ips_stack_current();

	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	s->st = st;
	atomic_init(&s->stop, false);
	ips_stack_enter(st);
	for (int i = 0; i < n; i++) {
		int k = service_find(specs[i]);
		bool dup = false;

		*what = specs[i];
		if (k < 0) {
			if (serve_tcp_check(specs[i], what) == 0)
				continue;	/* TCP only (http): serve_tcp.c */
			*err = -EINVAL;
			goto fail;
		}
		for (int j = 0; j < s->nfds; j++)
			dup |= s->kind[j] == services[k].kind;
		if (dup)
			continue;	/* `--serve echo --serve echo` is one service */
		if (s->nfds == SERVE_MAX) {
			*err = -ENOSPC;
			goto fail;
		}
		int fd = ips_socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		int one = 1;
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(services[k].port) };

		if (fd < 0) {
			*err = -errno;
			goto fail;
		}
		s->fd[s->nfds] = fd;
		s->kind[s->nfds] = services[k].kind;
		s->nfds++;
		if (ips_setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
		    ips_bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			*err = -errno;
			goto fail;
		}
	}
	ips_stack_enter(prev == st ? st : NULL);
	s->tcp = serve_tcp_start(st, specs, n, err, what);
	if (*err)
		goto fail;
	*err = pthread_create(&s->thread, NULL, serve_main, s);
	if (*err) {
		*err = -*err;
		*what = "thread";
		serve_close(s);
		return NULL;
	}
	return s;
fail:
	ips_stack_enter(prev == st ? st : NULL);
	serve_close(s);
	return NULL;
}

void serve_stop(struct serve *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	serve_close(s);
}

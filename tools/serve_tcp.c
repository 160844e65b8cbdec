/* The TCP services of `ipstack host --serve`: echo (RFC 862, port 7), discard (RFC 863,
 * port 9) and http=DIR (tools/http.c, port 80), written with ipstack's socket API as an
 * inetd with "nowait" services would run them on the kernel's: one thread accepts on
 * every listener (ips_poll), and each connection gets a thread of its own with blocking
 * ips_recv/ips_send. Sockets carry a short SO_RCVTIMEO/SO_SNDTIMEO so that a stop
 * request is noticed within a fraction of a second; serve_tcp_stop() waits for every
 * connection thread. */
#include "serve.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"

#define TCP_SERVE_MAX 8
#define CONN_BUF (256 * 1024)

enum tcp_kind { TK_ECHO, TK_DISCARD, TK_HTTP };

struct serve_tcp {
	ips_stack *st;
	pthread_t thread;
	atomic_bool stop;
	int n;
	int fd[TCP_SERVE_MAX];
	enum tcp_kind kind[TCP_SERVE_MAX];
	char root[4096];		/* http */
	pthread_mutex_t lock;
	pthread_cond_t done;
	int nconns;			/* connection threads alive */
};

struct conn {
	struct serve_tcp *t;
	int fd;
	enum tcp_kind kind;
};

/* Which TCP service a --serve spec names: its kind and port, or -1. */
static int tcp_spec(const char *spec, enum tcp_kind *kind, uint16_t *port, const char **root)
{
	if (!strcmp(spec, "echo")) {
		*kind = TK_ECHO;
		*port = 7;
	} else if (!strcmp(spec, "discard")) {
		*kind = TK_DISCARD;
		*port = 9;
	} else if (!strncmp(spec, "http=", 5) || !strcmp(spec, "http")) {
		*kind = TK_HTTP;
		*port = 80;
		*root = spec[4] == '=' ? spec + 5 : ".";
	} else {
		return -1;
	}
	return 0;
}

int serve_tcp_check(const char *spec, const char **why)
{
	enum tcp_kind k;
	uint16_t port;
	const char *root = NULL;

	if (tcp_spec(spec, &k, &port, &root) < 0)
		return -EINVAL;
	if (k == TK_HTTP && (!*root || http_check_root(root) < 0)) {
		*why = "http=DIR: DIR must be an existing directory";
		return -EINVAL;
	}
	return 0;
}

/* Echo/discard: read until the client closes; echo sends everything back. */
static void stream_service(struct conn *c)
{
	uint8_t *buf = malloc(CONN_BUF);

	while (buf && !atomic_load(&c->t->stop)) {
		ssize_t n = ips_recv(c->fd, buf, CONN_BUF, 0);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		if (c->kind == TK_DISCARD)
			continue;
		for (ssize_t off = 0; off < n && !atomic_load(&c->t->stop);) {
			ssize_t w = ips_send(c->fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);

			if (w < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (w < 0)
				goto out;
			off += w;
		}
	}
	/* The client said it is done (or went away): finish our side with a FIN. */
	ips_shutdown(c->fd, SHUT_WR);
out:
	free(buf);
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct serve_tcp *t = c->t;

	if (c->kind == TK_HTTP)
		http_serve_conn(c->fd, t->root, &t->stop);
	else
		stream_service(c);
	ips_close(c->fd);
	free(c);
	pthread_mutex_lock(&t->lock);
	if (--t->nconns == 0)
		pthread_cond_broadcast(&t->done);
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static void accept_all(struct serve_tcp *t, int lfd, enum tcp_kind kind)
{
	struct timeval tv = { 0, 200000 };

	for (;;) {
		int fd = ips_accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		struct conn *c;
		pthread_t th;
		pthread_attr_t at;

		if (fd < 0)
			return;	/* EAGAIN: the listener is non-blocking */
		ips_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		ips_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		c = calloc(1, sizeof(*c));
		if (!c) {
			ips_close(fd);
			continue;
		}
		c->t = t;
		c->fd = fd;
		c->kind = kind;
		pthread_mutex_lock(&t->lock);
		t->nconns++;
		pthread_mutex_unlock(&t->lock);
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&th, &at, conn_main, c) != 0) {
			pthread_mutex_lock(&t->lock);
			t->nconns--;
			pthread_mutex_unlock(&t->lock);
			ips_close(fd);
			free(c);
		}
		pthread_attr_destroy(&at);
	}
}

static void *accept_main(void *arg)
{
	struct serve_tcp *t = arg;
	struct pollfd pf[TCP_SERVE_MAX];

	while (!atomic_load(&t->stop)) {
		for (int i = 0; i < t->n; i++)
			pf[i] = (struct pollfd){ .fd = t->fd[i], .events = POLLIN };
		if (ips_poll(pf, (nfds_t)t->n, 100) <= 0)
			continue;
		for (int i = 0; i < t->n; i++)
			if (pf[i].revents & POLLIN)
				accept_all(t, t->fd[i], t->kind[i]);
	}
	return NULL;
}

static void serve_tcp_free(struct serve_tcp *t)
{
	for (int i = 0; i < t->n; i++)
		ips_close(t->fd[i]);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->done);
	free(t);
}

struct serve_tcp *serve_tcp_start(ips_stack *st, const char *const *specs, int n, int *err,
				  const char **what)
{
	struct serve_tcp *t = calloc(1, sizeof(*t));
	ips_stack *prev = ips_stack_current();

	*err = 0;
	if (!t) {
		*err = -ENOMEM;
		return NULL;
	}
	t->st = st;
	atomic_init(&t->stop, false);
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->done, NULL);
	ips_stack_enter(st);
	for (int i = 0; i < n; i++) {
		enum tcp_kind kind;
		uint16_t port;
		const char *root = NULL;
		bool dup = false;

		if (tcp_spec(specs[i], &kind, &port, &root) < 0)
			continue;	/* a UDP-only service */
		*what = specs[i];
		for (int j = 0; j < t->n; j++)
			dup |= t->kind[j] == kind;
		if (dup)
			continue;
		if (t->n == TCP_SERVE_MAX) {
			*err = -ENOSPC;
			goto fail;
		}
		if (kind == TK_HTTP)
			snprintf(t->root, sizeof(t->root), "%s", root);
		int fd = ips_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int one = 1;
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

		if (fd < 0) {
			*err = -errno;
			goto fail;
		}
		t->fd[t->n] = fd;
		t->kind[t->n] = kind;
		t->n++;
		if (ips_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    ips_bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || ips_listen(fd, 4096) < 0) {
			*err = -errno;
			goto fail;
		}
	}
	ips_stack_enter(prev == st ? st : NULL);
	if (!t->n) {
		serve_tcp_free(t);
		return NULL;	/* nothing to serve over TCP; *err == 0 */
	}
	*err = pthread_create(&t->thread, NULL, accept_main, t);
	if (*err) {
		*err = -*err;
		*what = "thread";
		serve_tcp_free(t);
		return NULL;
	}
	return t;
fail:
	ips_stack_enter(prev == st ? st : NULL);
	serve_tcp_free(t);
	return NULL;
}

void serve_tcp_stop(struct serve_tcp *t)
{
	if (!t)
		return;
	atomic_store(&t->stop, true);
	pthread_join(t->thread, NULL);
	pthread_mutex_lock(&t->lock);
	while (t->nconns)
		pthread_cond_wait(&t->done, &t->lock);
	pthread_mutex_unlock(&t->lock);
	serve_tcp_free(t);
}

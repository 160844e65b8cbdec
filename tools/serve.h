/* The services of `ipstack host --serve NAME[=ARG]`, written with ipstack's own socket
 * API the way a program would use the kernel's: echo (RFC 862) and discard (RFC 863) on
 * UDP and TCP ports 7 and 9 (serve.c, serve_tcp.c), and http=DIR on TCP port 80
 * (serve_tcp.c, http.c). */
#ifndef IPS_TOOLS_SERVE_H
#define IPS_TOOLS_SERVE_H

#include "ipstack/ipstack.h"

struct serve;

/* Is spec a service this build knows ("echo", "discard")? 0, or -EINVAL with a message
 * for the user in *why (a static string). */
int serve_check(const char *spec, const char **why);
/* Open every service's sockets on st (bound to INADDR_ANY) and start the thread that
 * answers them. Returns NULL with *err = -errno (EADDRINUSE, ...), *what = the service
 * that failed. */
struct serve *serve_start(ips_stack *st, const char *const *specs, int n, int *err,
			  const char **what);
/* Stop the thread and close the sockets (before the stack is freed). NULL is fine. */
void serve_stop(struct serve *s);

/* The TCP half (serve_tcp.c): serve_tcp_check() is 0 for a TCP service (echo, discard,
 * http=DIR), -EINVAL otherwise (*why set when the spec is TCP's but wrong);
 * serve_tcp_start() returns NULL with *err = 0 when no spec is a TCP service. */
struct serve_tcp;
int serve_tcp_check(const char *spec, const char **why);
struct serve_tcp *serve_tcp_start(ips_stack *st, const char *const *specs, int n, int *err,
				  const char **what);
void serve_tcp_stop(struct serve_tcp *t);

#endif

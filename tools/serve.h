/* The services of `ipstack host --serve NAME[=ARG]`, written with ipstack's own socket
 * API the way a program would use the kernel's: echo (RFC 862) and discard (RFC 863) on
 * UDP ports 7 and 9. TCP adds its halves of echo/discard and `http=DIR` here later. */
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

#endif

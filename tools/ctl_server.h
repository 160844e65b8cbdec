/* The control socket of a running stack (`ipstack host --ctl PATH`): a UNIX stream socket
 * that `ipstack ctl PATH CMD...` talks to (docs/ctl.md).
 *
 * The server runs in a small thread of its own; each command takes the stack lock for
 * the time it runs (the lock the stack's loop and every API call take), so it sees and
 * changes the stack exactly as an API call from another thread would, in threaded and
 * in driven mode alike. */
#ifndef IPS_TOOLS_CTL_SERVER_H
#define IPS_TOOLS_CTL_SERVER_H

#include <stddef.h>

#include "ipstack/ipstack.h"

struct ctl_server;

/* Listen on the UNIX socket at path (an existing socket file there is replaced) and
 * serve commands on st until ctl_server_stop(). Returns NULL with *err = -errno. */
struct ctl_server *ctl_server_start(ips_stack *st, const char *path, int *err);
/* Stop serving, join the thread, remove the socket file. NULL is fine. */
void ctl_server_stop(struct ctl_server *srv);

/* Run one ctl command (argv without the PATH: {"addr", "add", ...}) on st and return
 * its exit status (CLI_EXIT_*); what it prints goes to *out and *err (malloc'd,
 * NUL-terminated, the caller frees). The server calls this; so do the demo and tests. */
int ctl_exec(ips_stack *st, int argc, char **argv, char **out, char **err);

/* Wire format (both directions, integers little-endian u32):
 *   request:  "IPSC" argc, then argc NUL-terminated strings
 *   reply:    "IPSR" status, outlen, out bytes, errlen, err bytes */
#define CTL_REQ_MAGIC "IPSC"
#define CTL_REP_MAGIC "IPSR"
#define CTL_MAX_ARGS 64
#define CTL_MAX_REQ (64 * 1024)

#endif

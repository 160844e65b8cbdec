/* A small static HTTP/1.1 server for `ipstack host --serve http=DIR` (tools/http.c):
 * GET and HEAD of regular files under DIR, persistent connections (RFC 9112 9.3),
 * Content-Length on every response, 404/400/405/501 as a plain server gives them. */
#ifndef IPS_TOOLS_HTTP_H
#define IPS_TOOLS_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>

/* Is DIR usable as a document root? 0, or -errno. */
int http_check_root(const char *dir);
/* Serve requests on the connected ipstack socket fd until the client closes, asks to
 * close, errs, or *stop becomes true (the socket has a receive time-out so that this is
 * noticed). Does not close fd. */
void http_serve_conn(int fd, const char *root, const atomic_bool *stop);

#endif

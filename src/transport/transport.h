/* The transport layer's life and its per-stack state (st->transport): the UDP and
 * UDP-Lite tables, raw sockets and ping sockets. Sockets themselves are src/socket's. */
#ifndef IPS_TRANSPORT_TRANSPORT_H
#define IPS_TRANSPORT_TRANSPORT_H

#include <stdint.h>

struct ips_stack;

/* Register UDP, UDP-Lite (and the raw/ping delivery paths) with the IPv4 layer and set up
 * the socket state of the stack. Called by stack_create() after ip_init()/icmp_init(). */
int transport_init(struct ips_stack *st);
/* Close every socket still open in st and free the tables. Called by stack_destroy()
 * before ip_fini(). */
void transport_fini(struct ips_stack *st);

#endif

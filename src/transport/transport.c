/* The transport layer's life: per-stack tables, registration with the IPv4 layer (UDP and
 * UDP-Lite by protocol number, raw sockets through the raw_deliver hook, ICMP errors for
 * raw and ping sockets and echo replies for ping sockets through icmp.c's socket hooks),
 * and the socket layer's state. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"
#include "ip/icmp.h"
#include "ip/ip.h"
#include "ip/ip_state.h"
#include "socket/socket_state.h"
#include "transport/transport.h"
#include "transport/transport_state.h"

int transport_init(struct ips_stack *st)
{
	struct transport_state *ts = calloc(1, sizeof(*ts));
	int err;

	if (!ts)
		return -ENOMEM;
	st->transport = ts;
	err = sock_stack_init(st);
	if (!err)
		err = udp_init(st);
	if (!err)
		err = udplite_init(st);
	if (!err)
		err = raw_init(st);
	if (!err)
		err = ping_init(st);
	if (err) {
		transport_fini(st);
		return err;
	}
	if (st->ip) {
		st->ip->raw_deliver = raw_deliver;
		st->ip->raw_ra_deliver = raw_ra_deliver;
	}
	/* Linux: raw_icmp_error() from icmp_socket_deliver(), ping_err() from IPPROTO_ICMP's
	 * err handler, ping_rcv() for echo replies -- all after icmp.c's own checks. */
	if (st->icmp) {
		st->icmp->sock.raw_icmp_error = raw_icmp_error;
		st->icmp->sock.ping_err = ping_err;
		st->icmp->sock.ping_rcv = ping_rcv;
	}
	return 0;
}

void transport_fini(struct ips_stack *st)
{
	struct transport_state *ts = st->transport;

	if (!ts)
		return;
	if (st->icmp)
		memset(&st->icmp->sock, 0, sizeof(st->icmp->sock));
	if (st->ip && st->ip->raw_deliver == raw_deliver) {
		st->ip->raw_deliver = NULL;
		st->ip->raw_ra_deliver = NULL;
	}
	sock_stack_fini(st);
	free(ts);
	st->transport = NULL;
}

/* The transport layer's life: per-stack tables, registration with the IPv4 layer (UDP and
 * UDP-Lite by protocol number, raw sockets through the raw_deliver hook, ping and raw
 * ICMP errors through an ICMP listener), and the socket layer's state. */
#include <errno.h>
#include <stdlib.h>

#include "core/stack.h"
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
	if (st->ip)
		st->ip->raw_deliver = raw_deliver;
	ts->icmp_listener.fn = ping_icmp_observe;
	ts->icmp_listener.arg = st;
	if (st->icmp)
		icmp_listener_add(st, &ts->icmp_listener);
	return 0;
}

void transport_fini(struct ips_stack *st)
{
	struct transport_state *ts = st->transport;

	if (!ts)
		return;
	if (st->icmp && ts->icmp_listener.fn)
		icmp_listener_del(st, &ts->icmp_listener);
	if (st->ip && st->ip->raw_deliver == raw_deliver)
		st->ip->raw_deliver = NULL;
	sock_stack_fini(st);
	free(ts);
	st->transport = NULL;
}

/* UDP-Lite (RFC 3828; Linux net/ipv4/udplite.c): UDP's code with its own table and
 * counters, a mandatory checksum over a chosen coverage (UDPLITE_SEND_CSCOV /
 * UDPLITE_RECV_CSCOV, handled in udp.c's option code). */
#include <netinet/in.h>

#include "core/stack.h"
#include "ip/ip.h"
#include "socket/sock.h"
#include "transport/transport_state.h"

static void udplite_input(struct ips_stack *st, struct pkb *pkb)
{
	udp_lib_input(st, pkb, &((struct transport_state *)st->transport)->udplite);
}

static void udplite_err(struct ips_stack *st, struct pkb *icmp_pkb, int type, int code,
			uint32_t info, const uint8_t *inner, size_t inner_len)
{
	udp_lib_err(st, icmp_pkb, type, code, info, inner, inner_len,
		    &((struct transport_state *)st->transport)->udplite);
}

static const struct ip_proto_ops udplite_ops = {
	.input = udplite_input,
	.err = udplite_err,
};

int udplite_init(struct ips_stack *st)
{
	struct transport_state *ts = st->transport;

	ts->udplite.proto = IPPROTO_UDPLITE;
	return ip4_proto_register(st, IPPROTO_UDPLITE, &udplite_ops);
}

/* Per-stack transport state (st->transport), private to src/transport. */
#ifndef IPS_TRANSPORT_TRANSPORT_STATE_H
#define IPS_TRANSPORT_TRANSPORT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ip/ip.h"

struct ips_stack;
struct sock;
struct pkb;

/* Sockets keyed by local port (UDP, UDP-Lite) or by ICMP identifier (ping), like Linux's
 * udp_table: a power-of-two array of chains. */
#define UDP_HTABLE_SIZE 4096

struct udp_table {
	struct sock *hash[UDP_HTABLE_SIZE];
	uint8_t proto;		/* IPPROTO_UDP, IPPROTO_UDPLITE, IPPROTO_ICMP (ping) */
	uint16_t rover;		/* ping: the identifier given last (ping_port_rover) */
	size_t count;
};

/* Raw sockets keyed by protocol (Linux raw_v4_hashinfo, RAW_HTABLE_SIZE). */
#define RAW_HTABLE_SIZE 256

struct transport_state {
	struct udp_table udp;
	struct udp_table udplite;
	struct udp_table ping;
	struct sock *raw[RAW_HTABLE_SIZE];
};

static inline unsigned int udp_hashfn(uint16_t num)
{
	return num & (UDP_HTABLE_SIZE - 1);
}

void udp_table_insert(struct udp_table *t, struct sock *sk);
void udp_table_remove(struct udp_table *t, struct sock *sk);

/* udp.c */
int udp_init(struct ips_stack *st);
extern const struct sock_proto udp_prot;
extern const struct sock_proto udplite_prot;
struct udp_table *udp_table_of(struct sock *sk);
/* UDP-Lite shares UDP's code (udplite.c only registers it and its options). */
void udp_lib_input(struct ips_stack *st, struct pkb *pkb, struct udp_table *tbl);
void udp_lib_err(struct ips_stack *st, struct pkb *icmp_pkb, int type, int code, uint32_t info,
		 const uint8_t *inner, size_t inner_len, struct udp_table *tbl);
int udplite_init(struct ips_stack *st);

/* raw.c */
extern const struct sock_proto raw_prot;
int raw_init(struct ips_stack *st);
bool raw_deliver(struct ips_stack *st, struct pkb *pkb, uint8_t proto);
bool raw_ra_deliver(struct ips_stack *st, struct pkb *pkb);
void raw_icmp_error(struct ips_stack *st, struct pkb *icmp_pkb, uint8_t proto, int type, int code,
		    uint32_t info, const uint8_t *inner, size_t inner_len);

/* ping.c */
extern const struct sock_proto ping_prot;
int ping_init(struct ips_stack *st);
/* icmp.c's socket hooks (struct icmp_socket_hooks, src/ip/icmp.h): an echo reply for
 * a ping socket; an error quoting one of our echo requests. Neither consumes the pkb. */
void ping_rcv(struct ips_stack *st, struct pkb *pkb);
void ping_err(struct ips_stack *st, struct pkb *icmp_pkb, int type, int code, uint32_t info,
	      const uint8_t *inner, size_t inner_len);

/* Map an ICMP error to (errno, fatal) as Linux icmp_err_convert[] / __udp4_lib_err(). */
int icmp_err_to_errno(int type, int code, bool *harderr);

#endif

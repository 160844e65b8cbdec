/* The IPv4 layer's life: per-stack state, the protocol table, IP IDs. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"
#include "ip/ip.h"
#include "ip/ip_state.h"
#include "ip/route.h"

int ip_init(struct ips_stack *st)
{
	struct ip_state *ip = calloc(1, sizeof(*ip));

	if (!ip)
		return -ENOMEM;
	fib_table_init(&ip->local, FIB_TABLE_LOCAL, rng_u32(&st->rng));
	fib_table_init(&ip->main, FIB_TABLE_MAIN, rng_u32(&st->rng));
	/* ip_rt_init(): the ID counters start random, the time stamps at zero. */
	rng_fill(&st->rng, ip->idents, sizeof(ip->idents));
	rng_fill(&st->rng, ip->id_key, sizeof(ip->id_key));
	st->ip = ip;
	return 0;
}

void ip_fini(struct ips_stack *st)
{
	struct ip_state *ip = st->ip;

	if (!ip)
		return;
	fib_table_fini(&ip->local);
	fib_table_fini(&ip->main);
	free(ip);
	st->ip = NULL;
}

int ip4_proto_register(struct ips_stack *st, uint8_t proto, const struct ip_proto_ops *ops)
{
	if (!st->ip)
		return -EINVAL;
	if (ops && st->ip->protos[proto])
		return -EEXIST;
	st->ip->protos[proto] = ops;
	return 0;
}

/* ip_idents_reserve(): each bucket's counter advances by one per datagram plus, when
 * the bucket was last used some ticks ago, a random amount below that gap, so that an
 * observer cannot count another flow's packets (CVE-2019-10638 hardening). */
static uint32_t ip_idents_reserve(struct ips_stack *st, uint32_t hash, int segs)
{
	struct ip_state *ip = st->ip;
	uint32_t bucket = hash & (IP_IDENTS_SZ - 1);
	uint32_t now = (uint32_t)stack_now_ms(st);
	uint32_t old = ip->ident_tstamps[bucket];
	uint32_t delta = 0;

	if (old != now) {
		ip->ident_tstamps[bucket] = now;
		delta = rng_below(&st->rng, now - old);
	}
	ip->idents[bucket] += (uint32_t)segs + delta;
	return ip->idents[bucket] - (uint32_t)segs;
}

uint16_t ip4_select_id(struct ips_stack *st, uint32_t saddr, uint32_t daddr, uint8_t proto)
{
	uint32_t key[3] = { daddr, saddr, proto };
	uint32_t hash = (uint32_t)siphash24(st->ip->id_key, key, sizeof(key));

	return (uint16_t)ip_idents_reserve(st, hash, 1);
}

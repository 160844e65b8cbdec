/* Initial sequence numbers (RFC 6528) and timestamp offsets, as Linux secure_tcp_seq()
 * and secure_tcp_ts_off(): a keyed hash of the connection identifiers plus a clock. */
#include <string.h>

#include "transport/tcp_int.h"

/* RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), with M
 * the stack clock in 64 ns ticks (Linux: ktime_get_real_ns() >> 6). */
uint32_t tcp_isn(struct ips_stack *st, uint32_t saddr, uint32_t daddr, uint16_t sport,
		 uint16_t dport)
{
	uint8_t key[12];
	uint32_t h;

	memcpy(key, &saddr, 4);
	memcpy(key + 4, &daddr, 4);
	memcpy(key + 8, &sport, 2);
	memcpy(key + 10, &dport, 2);
	h = (uint32_t)siphash24(st->secret, key, sizeof(key));
	return h + (uint32_t)(stack_now_ns(st) >> 6);
}

/* Per address pair timestamp offset (RFC 7323 7.1: do not leak the uptime), keyed with a
 * different domain than the ISN. */
uint32_t tcp_ts_off(struct ips_stack *st, uint32_t saddr, uint32_t daddr)
{
	uint8_t key[9];

	memcpy(key, &saddr, 4);
	memcpy(key + 4, &daddr, 4);
	key[8] = 0x75;	/* domain separation from tcp_isn() */
	return (uint32_t)siphash24(st->secret, key, sizeof(key));
}

/* ping(8) for tests, on icmp_echo_send() and an icmp_listener. */
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"
#include "ip/icmp.h"
#include "ip/ip.h"
#include "support.h"
#include "wire/wire.h"

struct ping_ctx {
	struct icmp_listener l;
	struct ips_stack *st;
	uint32_t dst;
	uint16_t id;
	size_t size;
	int count;
	uint8_t *answered;		/* per seq */
	uint64_t *sent_ns;
	struct ping_result *res;
};

void test_fill(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

static bool payload_ok(const uint8_t *p, size_t len, unsigned int seq)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != (uint8_t)(i * 7 + seq))
			return false;
	return true;
}

static void ping_listen(void *arg, struct pkb *pkb)
{
	struct ping_ctx *c = arg;
	const uint8_t *iph = pkb->nh, *icmp = pkb->th;
	size_t len = (size_t)(pkb->data + pkb->len - icmp);
	struct ping_result *r = c->res;

	if (len < 8)
		return;
	if (icmp[0] == ICMP_ECHOREPLY) {
		uint16_t id = get_be16(icmp + 4), seq = get_be16(icmp + 6);
		size_t ihl = (size_t)(iph[0] & 0x0f) * 4;

		if (id != c->id || seq >= (unsigned int)c->count)
			return;
		if (c->answered[seq]) {
			r->dups++;
			return;
		}
		if (len - 8 != c->size || !payload_ok(icmp + 8, len - 8, seq)) {
			r->bad_replies++;
			return;
		}
		c->answered[seq] = 1;
		r->replies++;
		r->reply_from = get_in4(iph + 12);
		r->reply_ttl = iph[8];
		r->reply_tos = iph[1];
		r->reply_df = (get_be16(iph + 6) & 0x4000) != 0;
		r->reply_len = len - 8;
		r->reply_opts_len = ihl > 20 ? ihl - 20 : 0;
		memcpy(r->reply_opts, iph + 20, r->reply_opts_len);
		r->rtt_ns = stack_now_ns(c->st) - c->sent_ns[seq];
		return;
	}
	if (icmp[0] == ICMP_DEST_UNREACH || icmp[0] == ICMP_TIME_EXCEEDED ||
	    icmp[0] == ICMP_PARAMETERPROB || icmp[0] == ICMP_SOURCE_QUENCH ||
	    icmp[0] == ICMP_REDIRECT) {
		const uint8_t *in = icmp + 8;
		size_t ihl;
		uint16_t seq;

		if (len < 8 + 20)
			return;
		ihl = (size_t)(in[0] & 0x0f) * 4;
		if (len < 8 + ihl + 8 || in[9] != IPPROTO_ICMP || in[ihl] != ICMP_ECHO ||
		    get_be16(in + ihl + 4) != c->id)
			return;
		seq = get_be16(in + ihl + 6);
		if (icmp[0] != ICMP_REDIRECT && seq < (unsigned int)c->count)
			c->answered[seq] = 1;
		r->errors++;
		r->err_type = icmp[0];
		r->err_code = icmp[1];
		r->err_from = get_in4(iph + 12);
		r->err_info = get_be32(icmp + 4);
	}
}

static int all_done(void *arg)
{
	struct ping_ctx *c = arg;

	for (int i = 0; i < c->count; i++)
		if (!c->answered[i])
			return 0;
	return 1;
}

int test_ping(ips_stack *st, uint32_t dst, size_t size, const struct ping_opts *o,
	      struct ping_result *res)
{
	struct ping_opts def = { 0 };
	struct ping_ctx c = { 0 };
	uint8_t *payload;

	if (!o)
		o = &def;
	memset(res, 0, sizeof(*res));
	c.st = st;
	c.dst = dst;
	c.id = o->id ? o->id : 0x4242;
	c.size = size;
	c.count = o->count > 0 ? o->count : 1;
	c.res = res;
	c.answered = calloc((size_t)c.count, 1);
	c.sent_ns = calloc((size_t)c.count, sizeof(*c.sent_ns));
	payload = malloc(size ? size : 1);
	if (!c.answered || !c.sent_ns || !payload) {
		free(c.answered);
		free(c.sent_ns);
		free(payload);
		return -1;
	}
	c.l.fn = ping_listen;
	c.l.arg = &c;
	stack_lock(st);
	icmp_listener_add(st, &c.l);
	stack_unlock(st);

	for (int seq = 0; seq < c.count; seq++) {
		struct icmp_echo_req req = {
			.daddr = dst,
			.saddr = o->saddr,
			.id = c.id,
			.seq = (uint16_t)seq,
			.payload = payload,
			.len = size,
			.ttl = o->ttl ? o->ttl : -1,
			.tos = o->tos,
			.opts = o->ipopts,
			.opts_len = o->ipopts_len,
			.broadcast = o->broadcast,
			.pmtudisc = o->pmtudisc == PING_PMTU_DO	    ? IP_PMTUDISC_DO
				    : o->pmtudisc == PING_PMTU_DONT ? IP_PMTUDISC_DONT
								    : -1,
		};
		uint64_t wait = seq + 1 < c.count ? (o->interval_ns ? o->interval_ns : SEC(1))
						  : (o->timeout_ns ? o->timeout_ns : SEC(2));
		int err;

		test_fill(payload, size, (unsigned int)seq);
		c.sent_ns[seq] = stack_now_ns(st);
		stack_lock(st);
		err = icmp_echo_send(st, &req, &res->send_mtu);
		stack_unlock(st);
		if (err < 0) {
			res->send_err = err;
			c.answered[seq] = 1;	/* nothing to wait for */
		} else {
			res->sent++;
		}
		if (seq + 1 < c.count) {
			/* ping sends on its interval whatever comes back */
			ips_world_run_for(st->world, wait);
		} else {
			ips_world_run_until(st->world, all_done, &c, wait);
		}
	}
	stack_lock(st);
	icmp_listener_del(st, &c.l);
	stack_unlock(st);
	free(c.answered);
	free(c.sent_ns);
	free(payload);
	return res->replies;
}

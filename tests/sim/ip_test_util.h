/* Helpers for the IPv4 scenario tests (tests/sim/test_ip_*.c, test_forward*.c).
 *
 * Counter checks compare "what moved" with what Linux 6.18 moved for the same packet:
 * ctr_diff() renders the counters that changed since ctr_snap() as "Name delta" pairs
 * sorted by name, the form `nstat` diffs were taken in (scripts in the test comments:
 * a netns A -- R -- B over veth, packets crafted with scapy, /proc counters diffed). */
#ifndef IPS_TESTS_SIM_IP_TEST_UTIL_H
#define IPS_TESTS_SIM_IP_TEST_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "core/stack.h"
#include "ip/icmp.h"
#include "ip/ip.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/ipv4_opts.h"
#include "wire/wire.h"

static inline uint32_t A(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static inline uint64_t ctr(ips_stack *st, const char *name)
{
	uint64_t v = 0;

	ips_counter_get(st, name, &v);
	return v;
}

/* ---- counter snapshots ---- */
#define CTR_MAX 512
struct ctr_snap {
	int n;
	char name[CTR_MAX][48];
	uint64_t v[CTR_MAX];
};

static int ctr_snap_cb(void *arg, const char *name, uint64_t value)
{
	struct ctr_snap *s = arg;

	if (s->n < CTR_MAX) {
		snprintf(s->name[s->n], sizeof(s->name[0]), "%s", name);
		s->v[s->n++] = value;
	}
	return 0;
}

static inline void ctr_snap(ips_stack *st, struct ctr_snap *s)
{
	s->n = 0;
	ips_counter_foreach(st, ctr_snap_cb, s);
}

static int ctr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Counters that moved since *before, whose names start with one of the prefixes in
 * `groups` (space separated, e.g. "Ip Icmp"), as "Name delta" sorted by name. */
static inline const char *ctr_diff(ips_stack *st, const struct ctr_snap *before, const char *groups)
{
	static char out[2048];
	static struct ctr_snap now;
	char *lines[CTR_MAX];
	static char buf[CTR_MAX][80];
	int n = 0;
	size_t len = 0;

	ctr_snap(st, &now);
	for (int i = 0; i < now.n; i++) {
		uint64_t old = 0;
		bool want = false;
		char g[64], *tok, *save;

		for (int j = 0; j < before->n; j++)
			if (strcmp(before->name[j], now.name[i]) == 0)
				old = before->v[j];
		if (now.v[i] == old)
			continue;
		snprintf(g, sizeof(g), "%s", groups);
		for (tok = strtok_r(g, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			size_t k = strlen(tok);

			/* "Ip" matches IpX and IpExtX, not Icmp */
			if (strncmp(now.name[i], tok, k) == 0 &&
			    (now.name[i][k] >= 'A' && now.name[i][k] <= 'Z'))
				want = true;
		}
		if (!want)
			continue;
		snprintf(buf[n], sizeof(buf[n]), "%s %lld", now.name[i], (long long)(now.v[i] - old));
		lines[n] = buf[n];
		n++;
	}
	qsort(lines, (size_t)n, sizeof(lines[0]), ctr_cmp);
	out[0] = 0;
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", i ? " " : "", lines[i]);
	return out;
}

/* ---- ICMP seen by a stack ---- */
#define SEEN_MAX 16
struct icmp_seen {
	struct icmp_listener l;
	int n;
	struct {
		uint8_t type, code;
		uint32_t saddr, daddr;
		size_t len;		/* of the IP datagram */
		uint8_t pkt[1600];	/* the IP datagram */
	} m[SEEN_MAX];
};

static void icmp_seen_fn(void *arg, struct pkb *pkb)
{
	struct icmp_seen *s = arg;
	size_t len = (size_t)(pkb->data + pkb->len - pkb->nh);

	if (s->n >= SEEN_MAX)
		return;
	s->m[s->n].type = pkb->th[0];
	s->m[s->n].code = pkb->th[1];
	s->m[s->n].saddr = get_in4(pkb->nh + 12);
	s->m[s->n].daddr = get_in4(pkb->nh + 16);
	if (len > sizeof(s->m[0].pkt))
		len = sizeof(s->m[0].pkt);
	s->m[s->n].len = len;
	memcpy(s->m[s->n].pkt, pkb->nh, len);
	s->n++;
}

static inline void icmp_seen_start(ips_stack *st, struct icmp_seen *s)
{
	memset(s, 0, sizeof(*s));
	s->l.fn = icmp_seen_fn;
	s->l.arg = s;
	stack_lock(st);
	icmp_listener_add(st, &s->l);
	stack_unlock(st);
}

static inline void icmp_seen_stop(ips_stack *st, struct icmp_seen *s)
{
	stack_lock(st);
	icmp_listener_del(st, &s->l);
	stack_unlock(st);
}

/* One echo request, like `ping -c1` (options as given to setsockopt(IP_OPTIONS)). */
static inline int ping_opts(ips_stack *st, const char *dst, size_t payload, int pmtudisc,
			    const uint8_t *opts, size_t opts_len, int ttl)
{
	static uint8_t data[65536];
	struct icmp_echo_req req = {
		.daddr = A(dst),
		.id = 0x4242,
		.seq = 1,
		.payload = data,
		.len = payload,
		.ttl = ttl,
		.opts = opts,
		.opts_len = opts_len,
		.pmtudisc = pmtudisc,
	};
	int rc;

	for (size_t i = 0; i < payload && i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	stack_lock(st);
	rc = icmp_echo_send(st, &req, NULL);
	stack_unlock(st);
	return rc;
}

static inline int ping(ips_stack *st, const char *dst)
{
	return ping_opts(st, dst, 56, -1, NULL, 0, -1);
}

/* ---- A -- R -- B ----
 * A eth0 10.0.1.1/24, default via 10.0.1.254
 * R eth0 10.0.1.254/24, eth1 10.0.2.254/24 (forwarding per `fwd`)
 * B eth0 10.0.2.1/24, default via 10.0.2.254 */
struct arb {
	ips_world *w;
	ips_stack *a, *r, *b;
};

static inline void arb_setup(struct arb *t, bool fwd, uint32_t mtu_rb)
{
	struct ips_link_config c2 = { .mtu = mtu_rb };

	t->w = ips_world_new(42);
	t->a = ips_world_add_stack(t->w, "A");
	t->r = ips_world_add_stack(t->w, "R");
	t->b = ips_world_add_stack(t->w, "B");
	ips_memlink_new(t->a, "eth0", t->r, "eth0", NULL);
	ips_memlink_new(t->r, "eth1", t->b, "eth0", &c2);
	ips_addr_add(t->a, "eth0", "10.0.1.1/24");
	ips_addr_add(t->r, "eth0", "10.0.1.254/24");
	ips_addr_add(t->r, "eth1", "10.0.2.254/24");
	ips_addr_add(t->b, "eth0", "10.0.2.1/24");
	ips_route_add_str(t->a, "default via 10.0.1.254");
	ips_route_add_str(t->b, "default via 10.0.2.254");
	if (fwd)
		ips_sysctl_set(t->r, "net.ipv4.ip_forward", "1");
	/* Resolve the neighbours first, so that counters below see only the test. */
	ping(t->a, "10.0.1.254");
	ping(t->b, "10.0.2.254");
	ips_world_run_for(t->w, 2 * NS_PER_SEC);
}

static inline void arb_teardown(struct arb *t)
{
	ips_world_run_for(t->w, 10 * NS_PER_SEC);
	CHECK_EQ(ips_stack_pkb_outstanding(t->a), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(t->r), 0);
	CHECK_EQ(ips_stack_pkb_outstanding(t->b), 0);
	ips_world_free(t->w);
}

static inline void run_ms(ips_world *w, uint64_t ms)
{
	ips_world_run_for(w, ms * NS_PER_MS);
}

#endif

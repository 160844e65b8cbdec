/* `ipstack demo` (what `make demo` runs): host A, router R and host B joined by in-memory
 * links, one clean and one with loss, delay and a small MTU, all on ipstack; then ping,
 * a large UDP datagram fragmented at R, the path found by TTL with its PMTU, a TCP
 * transfer across the lossy link, a refused connect, and the counters that moved.
 * Exit 0 only if every step succeeded (docs/demo.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "demo.h"

#define CMD "demo"

/* ---- small helpers ---- */

void dbuf_printf(struct dbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;

		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);

		if (!np)
			abort();
		b->p = np;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void dbuf_jstr(struct dbuf *b, const char *s)
{
	dbuf_printf(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			dbuf_printf(b, "\\%c", c);
		else if (c == '\n')
			dbuf_printf(b, "\\n");
		else if (c < 0x20)
			dbuf_printf(b, "\\u%04x", c);
		else
			dbuf_printf(b, "%c", c);
	}
	dbuf_printf(b, "\"");
}

void dbuf_free(struct dbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

uint64_t demo_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t demo_now_ns(struct demo *d)
{
	return d->w ? ips_world_now_ns(d->w) : ips_stack_now_ns(d->a);
}

void demo_sleep(struct demo *d, uint64_t ns)
{
	if (d->w) {
		ips_world_run_for(d->w, ns);
	} else {
		struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

void demo_fmt_ms(char *buf, size_t len, uint64_t ns)
{
	/* ping(8): "%ld.%03ld" below 1 ms, then fewer decimals as the value grows. */
	uint64_t us = (ns + 500) / 1000;

	if (us >= 100000 - 50)
		snprintf(buf, len, "%llu", (unsigned long long)((us + 500) / 1000));
	else if (us >= 10000 - 5)
		snprintf(buf, len, "%llu.%01llu", (unsigned long long)((us + 50) / 1000),
			 (unsigned long long)(((us + 50) % 1000) / 100));
	else if (us >= 1000)
		snprintf(buf, len, "%llu.%02llu", (unsigned long long)((us + 5) / 1000),
			 (unsigned long long)(((us + 5) % 1000) / 10));
	else
		snprintf(buf, len, "%llu.%03llu", (unsigned long long)(us / 1000),
			 (unsigned long long)(us % 1000));
}

uint64_t demo_counter(ips_stack *st, const char *name)
{
	uint64_t v = 0;

	ips_counter_get(st, name, &v);
	return v;
}

const char *demo_ip(uint32_t addr_be, char buf[16])
{
	struct in_addr a = { addr_be };

	return inet_ntop(AF_INET, &a, buf, 16);
}

/* ---- the report ---- */

void demo_step_begin(struct demo *d, const char *name, const char *title)
{
	d->nsteps++;
	d->fig.len = 0;
	dbuf_printf(&d->fig, ",\"name\":");
	dbuf_jstr(&d->fig, name);
	dbuf_printf(&d->fig, ",\"title\":");
	dbuf_jstr(&d->fig, title);
	dbuf_printf(&d->fig, ",\"lines\":[");
	d->step_wall_ns = demo_wall_ns();
	d->nlines = 0;
	if (d->out) {
		fprintf(d->out, "\n%d. %s\n", d->nsteps, title);
		fflush(d->out);
	}
}

/* Lines go out at once (text) and into the step's "lines" (JSON): the figures must
 * therefore be settled before the step's first number is recorded with demo_fig_*. */
void demo_say(struct demo *d, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (d->out) {
		if (d->progress_shown) {
			fprintf(d->out, "\r\033[K");
			d->progress_shown = false;
		}
		fprintf(d->out, "   %s\n", line);
		fflush(d->out);
	}
	if (d->lines_closed)
		return;	/* a line after the figures began: text only */
	dbuf_printf(&d->fig, "%s", d->nlines++ ? "," : "");
	dbuf_jstr(&d->fig, line);
}

static void fig_key(struct demo *d, const char *key)
{
	if (!d->lines_closed) {
		dbuf_printf(&d->fig, "]");
		d->lines_closed = true;
	}
	dbuf_printf(&d->fig, ",");
	dbuf_jstr(&d->fig, key);
	dbuf_printf(&d->fig, ":");
}

void demo_fig_int(struct demo *d, const char *key, long long v)
{
	fig_key(d, key);
	dbuf_printf(&d->fig, "%lld", v);
}

void demo_fig_num(struct demo *d, const char *key, double v)
{
	fig_key(d, key);
	dbuf_printf(&d->fig, "%.3f", v);
}

void demo_fig_str(struct demo *d, const char *key, const char *v)
{
	fig_key(d, key);
	dbuf_jstr(&d->fig, v);
}

void demo_fig_bool(struct demo *d, const char *key, bool v)
{
	fig_key(d, key);
	dbuf_printf(&d->fig, "%s", v ? "true" : "false");
}

void demo_fig_raw(struct demo *d, const char *key, const char *json)
{
	fig_key(d, key);
	dbuf_printf(&d->fig, "%s", json);
}

void demo_step_end(struct demo *d, enum step_status st, const char *fmt, ...)
{
	static const char *names[] = { "ok", "failed", "not yet available" };
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (st == STEP_OK)
		d->nok++;
	else if (st == STEP_FAILED)
		d->nfailed++;
	else
		d->nunavail++;
	if (d->out) {
		if (d->progress_shown) {
			fprintf(d->out, "\r\033[K");
			d->progress_shown = false;
		}
		fprintf(d->out, "   => %s: %s\n", st == STEP_FAILED ? "FAILED" : names[st], line);
		fflush(d->out);
	}
	if (!d->lines_closed)
		dbuf_printf(&d->fig, "]");
	d->lines_closed = false;
	dbuf_printf(&d->steps_json, "%s{\"status\":\"%s\",\"summary\":", d->nsteps > 1 ? "," : "",
		    names[st]);
	dbuf_jstr(&d->steps_json, line);
	dbuf_printf(&d->steps_json, "%.*s,\"wall_ms\":%llu}", (int)d->fig.len, d->fig.p,
		    (unsigned long long)((demo_wall_ns() - d->step_wall_ns) / 1000000));
}

void demo_progress(struct demo *d, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!d->out || !d->o.progress)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(d->out, "\r\033[K   %s", line);
	fflush(d->out);
	d->progress_shown = true;
}

/* ---- counters (like nstat: the ones that moved) ---- */

struct snap {
	int n, cap;
	char (*name)[48];
	uint64_t *val;
};

static int snap_one(void *arg, const char *name, uint64_t value)
{
	struct snap *s = arg;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 512;
		s->name = realloc(s->name, (size_t)s->cap * sizeof(*s->name));
		s->val = realloc(s->val, (size_t)s->cap * sizeof(*s->val));
		if (!s->name || !s->val)
			abort();
	}
	snprintf(s->name[s->n], sizeof(s->name[0]), "%s", name);
	s->val[s->n++] = value;
	return 0;
}

static uint64_t snap_get(const struct snap *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return s->val[i];
	return 0;
}

static void snap_take(ips_stack *st, struct snap *s)
{
	s->n = 0;
	ips_counter_foreach(st, snap_one, s);
}

static void snap_free(struct snap *s)
{
	free(s->name);
	free(s->val);
}

/* IpForwarding and IpDefaultTTL are settings, not counters. */
static bool counter_is_setting(const char *name)
{
	return !strcmp(name, "IpForwarding") || !strcmp(name, "IpDefaultTTL");
}

/* Order of two IcmpMsg names (0 when either is another counter: they keep their place). */
static int icmpmsg_cmp(const char *a, const char *b)
{
	int ta, tb;
	char da[4], db[4];

	if (sscanf(a, "IcmpMsg%3[InOut]Type%d", da, &ta) != 2 ||
	    sscanf(b, "IcmpMsg%3[InOut]Type%d", db, &tb) != 2)
		return 0;
	if (strcmp(da, db) != 0)
		return da[0] == 'I' ? -1 : 1;
	return ta - tb;
}

static void demo_step_counters(struct demo *d, struct snap before[DEMO_NSTACKS])
{
	struct snap after[DEMO_NSTACKS] = { 0 };
	struct dbuf js[DEMO_NSTACKS] = { 0 };
	/* Every name in nstat order: the stacks list the same counters in the same order,
	 * except the IcmpMsg ones, which appear only once non-zero; a name one stack lacks
	 * goes in right after the name that precedes it in the stack that has it. */
	struct snap names = { 0 };
	int moved = 0;

	for (int k = 0; k < DEMO_NSTACKS; k++)
		snap_take(d->all[k], &after[k]);
	for (int k = 0; k < DEMO_NSTACKS; k++) {
		int at = 0;	/* insertion point: after the previous name of this list */

		for (int i = 0; i < after[k].n; i++) {
			int j;

			for (j = 0; j < names.n; j++)
				if (!strcmp(names.name[j], after[k].name[i]))
					break;
			if (j < names.n) {
				at = j + 1;
				continue;
			}
			snap_one(&names, after[k].name[i], 0);	/* grow by one, then move it */
			memmove(&names.name[at + 1], &names.name[at],
				(size_t)(names.n - 1 - at) * sizeof(names.name[0]));
			snprintf(names.name[at], sizeof(names.name[0]), "%s", after[k].name[i]);
			at++;
		}
	}
	/* nstat lists IcmpMsgInType* then IcmpMsgOutType*, each by type. */
	for (int i = 1; i < names.n; i++)
		for (int j = i; j > 0 && icmpmsg_cmp(names.name[j - 1], names.name[j]) > 0; j--) {
			char tmp[48];

			memcpy(tmp, names.name[j], sizeof(tmp));
			memcpy(names.name[j], names.name[j - 1], sizeof(tmp));
			memcpy(names.name[j - 1], tmp, sizeof(tmp));
		}
	demo_step_begin(d, "counters", "the counters that moved (nstat names, deltas since the world was built)");
	demo_say(d, "%-28s %10s %10s %10s", "", "A", "R", "B");
	for (int i = 0; i < names.n; i++) {
		long long dv[DEMO_NSTACKS];
		bool any = false;

		if (counter_is_setting(names.name[i]))
			continue;
		for (int k = 0; k < DEMO_NSTACKS; k++) {
			dv[k] = (long long)(snap_get(&after[k], names.name[i]) -
					    snap_get(&before[k], names.name[i]));
			any |= dv[k] != 0;
		}
		if (!any)
			continue;
		moved++;
		demo_say(d, "%-28s %10lld %10lld %10lld", names.name[i], dv[0], dv[1], dv[2]);
		for (int k = 0; k < DEMO_NSTACKS; k++)
			if (dv[k]) {
				dbuf_printf(&js[k], "%s\"%s\":%lld", js[k].len ? "," : "", names.name[i],
					    dv[k]);
			}
	}
	struct dbuf all = { 0 };

	dbuf_printf(&all, "{");
	for (int k = 0; k < DEMO_NSTACKS; k++)
		dbuf_printf(&all, "%s\"%s\":{%s}", k ? "," : "", d->names[k], js[k].p ? js[k].p : "");
	dbuf_printf(&all, "}");
	demo_fig_int(d, "moved", moved);
	demo_fig_raw(d, "deltas", all.p);
	demo_step_end(d, moved ? STEP_OK : STEP_FAILED, "%d counters moved", moved);
	dbuf_free(&all);
	for (int k = 0; k < DEMO_NSTACKS; k++) {
		dbuf_free(&js[k]);
		snap_free(&after[k]);
	}
	snap_free(&names);
}

/* ---- the world ---- */

static int demo_build(struct demo *d)
{
	/* link1 is a clean LAN: no loss, 0.1 ms each way. */
	struct ips_link_config clean = { .mtu = 1500, .impair = { .delay_us = 100 } };
	/* link2: lossy, delayed, small MTU (its queue: netem's default limit, 1000). */
	struct ips_link_config lossy = {
		.mtu = d->o.mtu2,
		.impair = { .loss_pct = d->o.loss_pct, .delay_us = d->o.delay_ms * 1000 },
	};
	int rc;

	d->names[0] = "A";
	d->names[1] = "R";
	d->names[2] = "B";
	if (!d->o.realtime) {
		d->w = ips_world_new(d->o.seed);
		if (!d->w)
			return -ENOMEM;
		for (int k = 0; k < DEMO_NSTACKS; k++)
			if (!(d->all[k] = ips_world_add_stack(d->w, d->names[k])))
				return -ENOMEM;
	} else {
		for (int k = 0; k < DEMO_NSTACKS; k++) {
			struct ips_stack_config cfg = {
				.mode = IPS_MODE_THREADED,
				.name = d->names[k],
				/* as ips_world_add_stack derives a world's generators */
				.seed = d->o.seed * 0x9e3779b97f4a7c15ULL + (uint64_t)(k + 1),
			};

			if (!(d->all[k] = ips_stack_new(&cfg)))
				return -ENOMEM;
		}
	}
	d->a = d->all[0];
	d->r = d->all[1];
	d->b = d->all[2];
#define TRY(x)                                                            \
	do {                                                              \
		if ((rc = (x)) < 0) {                                     \
			cli_err(CMD, "building the world: %s: %s", #x, strerror(-rc)); \
			return rc;                                        \
		}                                                         \
	} while (0)
	TRY(ips_memlink_new(d->a, "eth0", d->r, "eth0", &clean));
	TRY(ips_memlink_new(d->r, "eth1", d->b, "eth0", &lossy));
	TRY(ips_addr_add(d->a, "eth0", DEMO_A "/24"));
	TRY(ips_addr_add(d->r, "eth0", DEMO_R1 "/24"));
	TRY(ips_addr_add(d->r, "eth1", DEMO_R2 "/24"));
	TRY(ips_addr_add(d->b, "eth0", DEMO_B "/24"));
	TRY(ips_route_add_str(d->a, "default via " DEMO_R1));
	TRY(ips_route_add_str(d->b, "default via " DEMO_R2));
	TRY(ips_sysctl_set(d->r, "net.ipv4.ip_forward", "1"));
	/* ping(8) without privileges uses an ICMP datagram socket, allowed to the groups in
	 * ping_group_range; distributions open it to everyone, as here. */
	TRY(ips_sysctl_set(d->a, "net.ipv4.ping_group_range", "0 2147483647"));
	if (d->o.pcap_dir) {
		char p1[4096], p2[4096];

		snprintf(p1, sizeof(p1), "%s/link1-A-R.pcap", d->o.pcap_dir);
		snprintf(p2, sizeof(p2), "%s/link2-R-B.pcap", d->o.pcap_dir);
		/* Captured at R, which sees every packet that crosses each link. */
		TRY(ips_dev_set_pcap(d->r, "eth0", p1));
		TRY(ips_dev_set_pcap(d->r, "eth1", p2));
	}
#undef TRY
	return 0;
}

static void demo_teardown(struct demo *d)
{
	if (d->o.pcap_dir && d->r) {
		ips_dev_set_pcap(d->r, "eth0", NULL);
		ips_dev_set_pcap(d->r, "eth1", NULL);
	}
	if (d->w) {
		ips_world_free(d->w);
	} else {
		for (int k = 0; k < DEMO_NSTACKS; k++)
			if (d->all[k])
				ips_stack_free(d->all[k]);
	}
}

/* ---- the command ---- */

static void demo_usage(FILE *f)
{
	fprintf(f,
		"usage: ipstack demo [OPTIONS]\n"
		"A small internet in one process: host A, router R (ip_forward=1) and host B,\n"
		"  A --link1 (clean, MTU 1500)-- R --link2 (loss, delay, MTU 1000)-- B\n"
		"then ping, a large UDP datagram fragmented at R, the path by TTL with its PMTU,\n"
		"a TCP transfer across the lossy link, a refused connect, the counters that moved.\n"
		"  --seed N        random seed (default 1): same seed, same packets\n"
		"  --loss PCT      loss on link2, each direction (default 1)\n"
		"  --delay MS      delay on link2, each direction (default 20)\n"
		"  --mtu N         MTU of link2 (default 1000)\n"
		"  --bytes N       size of the TCP transfer (default 4194304)\n"
		"  --pcap DIR      write DIR/link1-A-R.pcap and DIR/link2-R-B.pcap\n"
		"  --realtime      run on the wall clock, one thread per stack (default: a\n"
		"                  virtual clock, as fast as the CPU allows)\n"
		"  --json          the report as JSON\n"
		"Exit status 0 only if every step succeeded.\n");
}

static int parse_opts(int argc, char **argv, struct demo_opts *o)
{
	o->seed = 1;
	o->loss_pct = 1;
	o->delay_ms = 20;
	o->mtu2 = 1000;
	o->tcp_bytes = 4u << 20;
	for (int i = 1; i < argc; i++) {
		const char *v;
		unsigned u;
		int r;

		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			demo_usage(stdout);
			exit(CLI_EXIT_OK);
		}
		if (!strcmp(argv[i], "--realtime")) {
			o->realtime = true;
			continue;
		}
		if (!strcmp(argv[i], "--json")) {
			o->json = true;
			continue;
		}
#define OPT(name) ((r = cli_opt(CMD, argc, argv, &i, name, &v)) != 0)
		if (OPT("--seed")) {
			char *end;

			if (r < 0)
				return CLI_EXIT_USAGE;
			errno = 0;
			o->seed = strtoull(v, &end, 0);
			if (!*v || *end || errno || o->seed == 0) {
				cli_err(CMD, "--seed: '%s' is not a number above 0", v);
				return CLI_EXIT_USAGE;
			}
		} else if (OPT("--loss")) {
			char *end;

			if (r < 0)
				return CLI_EXIT_USAGE;
			o->loss_pct = strtod(v, &end);
			if (!*v || *end || !(o->loss_pct >= 0 && o->loss_pct <= 100)) {
				cli_err(CMD, "--loss: '%s' is not a percentage (0..100)", v);
				return CLI_EXIT_USAGE;
			}
		} else if (OPT("--delay")) {
			if (r < 0 || cli_parse_u32(CMD, "--delay", v, 0, 10000, &o->delay_ms) < 0)
				return CLI_EXIT_USAGE;
		} else if (OPT("--mtu")) {
			if (r < 0 || cli_parse_u32(CMD, "--mtu", v, 576, 1500, &o->mtu2) < 0)
				return CLI_EXIT_USAGE;
		} else if (OPT("--bytes")) {
			if (r < 0 || cli_parse_u32(CMD, "--bytes", v, 1, 1u << 30, &u) < 0)
				return CLI_EXIT_USAGE;
			o->tcp_bytes = u;
		} else if (OPT("--pcap")) {
			struct stat sb;

			if (r < 0)
				return CLI_EXIT_USAGE;
			if (stat(v, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
				cli_err(CMD, "--pcap: '%s' is not a directory", v);
				return CLI_EXIT_USAGE;
			}
			o->pcap_dir = v;
		} else {
			cli_err(CMD, "unknown option '%s' (try 'ipstack demo --help')", argv[i]);
			return CLI_EXIT_USAGE;
		}
#undef OPT
	}
	return 0;
}

static int cmd_demo(int argc, char **argv)
{
	struct demo d = { 0 };
	struct snap before[DEMO_NSTACKS] = { 0 };
	uint64_t wall0 = demo_wall_ns(), virt0;
	int rc;

	rc = parse_opts(argc, argv, &d.o);
	if (rc)
		return rc;
	d.out = d.o.json ? NULL : stdout;
	d.o.progress = !d.o.json && isatty(STDOUT_FILENO);
	if (demo_build(&d) < 0) {
		demo_teardown(&d);
		return CLI_EXIT_RUNTIME;
	}
	for (int k = 0; k < DEMO_NSTACKS; k++)
		snap_take(d.all[k], &before[k]);
	virt0 = demo_now_ns(&d);

	if (d.out) {
		fprintf(d.out,
			"ipstack demo: a small internet in one process (seed %llu, %s)\n\n"
			"   A %s ---link1--- %s R %s ---link2--- %s B\n"
			"     link1: clean, 0.1 ms, MTU 1500   link2: loss %g%%, delay %u ms each way, MTU %u\n"
			"   R forwards (net.ipv4.ip_forward = 1); A and B have default routes via R.\n",
			(unsigned long long)d.o.seed,
			d.o.realtime ? "real time: the wall clock, a thread per stack"
				     : "virtual clock: simulated time, as fast as the CPU allows",
			DEMO_A, DEMO_R1, DEMO_R2, DEMO_B, d.o.loss_pct, d.o.delay_ms, d.o.mtu2);
		if (d.o.pcap_dir)
			fprintf(d.out, "   Captures: %s/link1-A-R.pcap, %s/link2-R-B.pcap\n",
				d.o.pcap_dir, d.o.pcap_dir);
	}

	demo_step_ping(&d);
	demo_step_udp_frag(&d);
	demo_step_path(&d);
	demo_step_tcp(&d);
	demo_step_refused(&d);
	/* Let the last packets (FINs, ACKs) settle before counting. */
	demo_sleep(&d, 2000000000ull);
	demo_step_counters(&d, before);

	uint64_t virt_ms = (demo_now_ns(&d) - virt0) / 1000000;
	uint64_t wall_ms = (demo_wall_ns() - wall0) / 1000000;
	bool ok = d.nfailed == 0 && d.nunavail == 0;

	if (d.out) {
		fprintf(d.out, "\n%s: %d of %d steps succeeded", ok ? "Result" : "RESULT", d.nok,
			d.nsteps);
		if (d.nfailed)
			fprintf(d.out, ", %d failed", d.nfailed);
		if (d.nunavail)
			fprintf(d.out, ", %d not yet available", d.nunavail);
		fprintf(d.out, " (%llu.%03llu s %s, %llu.%03llu s of wall-clock time)\n",
			(unsigned long long)(virt_ms / 1000), (unsigned long long)(virt_ms % 1000),
			d.o.realtime ? "on the clock" : "of virtual time",
			(unsigned long long)(wall_ms / 1000), (unsigned long long)(wall_ms % 1000));
	} else {
		struct dbuf j = { 0 };

		dbuf_printf(&j,
			    "{\"demo\":\"ipstack\",\"version\":\"%s\",\"seed\":%llu,\"clock\":\"%s\","
			    "\"world\":{\"stacks\":{\"A\":[\"%s\"],\"R\":[\"%s\",\"%s\"],\"B\":[\"%s\"]},"
			    "\"link1\":{\"between\":[\"A\",\"R\"],\"mtu\":1500,\"loss_pct\":0,\"delay_ms\":0.1},"
			    "\"link2\":{\"between\":[\"R\",\"B\"],\"mtu\":%u,\"loss_pct\":%g,\"delay_ms\":%u}},"
			    "\"steps\":[%s],"
			    "\"summary\":{\"steps\":%d,\"ok\":%d,\"failed\":%d,\"unavailable\":%d},"
			    "\"ok\":%s,\"virtual_ms\":%llu,\"wall_ms\":%llu}\n",
			    IPSTACK_VERSION, (unsigned long long)d.o.seed,
			    d.o.realtime ? "realtime" : "virtual", DEMO_A, DEMO_R1, DEMO_R2, DEMO_B,
			    d.o.mtu2, d.o.loss_pct, d.o.delay_ms,
			    d.steps_json.p ? d.steps_json.p : "", d.nsteps, d.nok, d.nfailed,
			    d.nunavail, ok ? "true" : "false",
			    /* on the virtual clock a fact of the run; on the real one a timing */
			    (unsigned long long)virt_ms, (unsigned long long)wall_ms);
		fputs(j.p, stdout);
		dbuf_free(&j);
	}
	for (int k = 0; k < DEMO_NSTACKS; k++)
		snap_free(&before[k]);
	demo_teardown(&d);
	dbuf_free(&d.steps_json);
	dbuf_free(&d.fig);
	return ok ? CLI_EXIT_OK : CLI_EXIT_RUNTIME;
}

CLI_COMMAND(demo, "a small virtual internet in one process: ping, fragments, PMTU, TCP, counters",
	    cmd_demo)

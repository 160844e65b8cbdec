/* ipsbench CASE SIDE [options]: run one case once on one side and print one JSON line.
 * The runner is bench/run.py (`make bench`); see docs/performance.md. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

struct bench_case {
	const char *name;
	bench_fn kernel, ipstack;
};

static int ips_bulk_lo(const struct bench_opts *o, struct bench_result *r)
{
	return ips_tcp_bulk_lo(o, r);
}

static const struct bench_case cases[] = {
	{ "tcp_bulk_lo", kern_tcp_bulk, ips_bulk_lo },
	{ "tcp_bulk_1500", kern_tcp_bulk, ips_tcp_bulk_1500 },
	{ "tcp_bulk_tap", kern_tcp_bulk, ips_tcp_bulk_tap },
	{ "tcp_rr_64", kern_tcp_rr, ips_tcp_rr },
	{ "udp_pps_64", kern_udp_pps, ips_udp_pps },
	{ "tcp_connect_rate", kern_tcp_connect_rate, ips_tcp_connect_rate },
	{ "tcp_idle_conn_mem", kern_tcp_idle_conn_mem, ips_tcp_idle_conn_mem },
};

__attribute__((noreturn)) static void usage(void)
{
	fprintf(stderr,
		"usage: ipsbench CASE kernel|ipstack [--time S] [--count N] [--conns N]\n"
		"                [--netns-tx PATH] [--netns-rx PATH] [--addr A.B.C.D] [--tap IF] [-v]\n"
		"cases:");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		fprintf(stderr, " %s", cases[i].name);
	fprintf(stderr, "\n");
	exit(2);
}

static void json_str(const char *key, const char *v)
{
	printf(",\"%s\":\"", key);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			putchar('\\');
		if ((unsigned char)*v >= 0x20)
			putchar(*v);
	}
	putchar('"');
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "time", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' },
		{ "conns", required_argument, NULL, 'c' },
		{ "netns-tx", required_argument, NULL, 'T' },
		{ "netns-rx", required_argument, NULL, 'R' },
		{ "addr", required_argument, NULL, 'a' },
		{ "tap", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	struct bench_opts o = { .time_s = 2.0 };
	struct bench_result r = { 0 };
	const struct bench_case *c = NULL;
	int opt, kernel, rc;

	while ((opt = getopt_long(argc, argv, "t:n:c:v", lopts, NULL)) != -1) {
		switch (opt) {
		case 't': o.time_s = atof(optarg); break;
		case 'n': o.count = strtoull(optarg, NULL, 0); break;
		case 'c': o.conns = atoi(optarg); break;
		case 'T': o.netns_tx = optarg; break;
		case 'R': o.netns_rx = optarg; break;
		case 'a': o.rx_addr = optarg; break;
		case 'p': o.tap = optarg; break;
		case 'v': o.verbose = bench_verbose = 1; break;
		default: usage();
		}
	}
	if (argc - optind != 2)
		usage();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(cases[i].name, argv[optind]) == 0)
			c = &cases[i];
	if (!c)
		usage();
	if (strcmp(argv[optind + 1], "kernel") == 0)
		kernel = 1;
	else if (strcmp(argv[optind + 1], "ipstack") == 0)
		kernel = 0;
	else
		usage();
	if (o.time_s <= 0 || o.time_s > 600)
		bench_die("--time must be in (0, 600] seconds");
	signal(SIGPIPE, SIG_IGN);

	rc = (kernel ? c->kernel : c->ipstack)(&o, &r);
	if (rc < 0)
		return 1;
	printf("{\"case\":\"%s\",\"side\":\"%s\"", c->name, kernel ? "kernel" : "ipstack");
	if (r.na) {
		json_str("na", r.na);
	} else {
		printf(",\"value\":%.6g", r.value);
		json_str("unit", r.unit);
		printf(",\"elapsed_s\":%.6f,\"cpu_s\":%.6f,\"bytes\":%llu,\"packets\":%llu",
		       r.elapsed_s, r.cpu_s, (unsigned long long)r.bytes,
		       (unsigned long long)r.packets);
		if (r.method)
			json_str("method", r.method);
		if (r.note[0])
			json_str("note", r.note);
	}
	printf("}\n");
	fflush(stdout);
	return 0;
}

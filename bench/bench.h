/* ipsbench: one measurement of one case on one side (ipstack or the kernel) per run.
 *
 * The runner (bench/run.py) calls `ipsbench CASE SIDE [options]` several times per case,
 * alternating the sides, inside the network namespaces it made for the kernel side, and
 * reads the single JSON line each run prints on stdout:
 *
 *   {"case":"udp_pps_64","side":"ipstack","value":1234567,"unit":"pkt/s", ...}
 *   {"case":"tcp_rr_64","side":"ipstack","na":"TCP not yet available"}
 *
 * Every load is bounded twice: by time (--time seconds) and by count (--count units:
 * bytes, packets, transactions or connections, whichever the case counts). */
#ifndef IPS_BENCH_H
#define IPS_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct bench_opts {
	double time_s;		/* load duration bound */
	uint64_t count;		/* load count bound (0 = the case's default) */
	int conns;		/* tcp_idle_conn_mem: connections */
	const char *netns_tx;	/* kernel veth cases: namespace file of the sending side */
	const char *netns_rx;	/* ... and of the receiving side */
	const char *rx_addr;	/* address the receiver listens on (veth/tap cases) */
	const char *tap;	/* tcp_bulk_tap: TAP device name */
	int verbose;
};

/* What one run measured. value is in unit; the rest is for derived figures (cycles per
 * byte/packet from cpu_s) and for the record. */
struct bench_result {
	const char *na;		/* non-NULL: not available, and why */
	double value;
	const char *unit;
	double elapsed_s;	/* measured interval */
	double cpu_s;		/* CPU time (user + system) of this process in that interval */
	uint64_t bytes;		/* payload bytes delivered */
	uint64_t packets;	/* datagrams / transactions / connections */
	const char *method;	/* how the figure was taken, when not obvious */
	char note[160];
};

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* CPU time of the whole process (all threads), seconds. */
static inline double bench_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline uint64_t bench_deadline_ns(const struct bench_opts *o)
{
	return bench_now_ns() + (uint64_t)(o->time_s * 1e9);
}

#define BENCH_PORT 5201
#define BULK_WRITE (128 * 1024)		/* tcp_bulk_*: bytes per write() */
#define RR_SIZE 64			/* tcp_rr_64 request and response size */
#define UDP_SIZE 64			/* udp_pps_64 payload */

/* Each case on each side: fills r, returns 0 (or -1 on a setup failure, with a message
 * on stderr). */
typedef int (*bench_fn)(const struct bench_opts *o, struct bench_result *r);

int kern_tcp_bulk(const struct bench_opts *o, struct bench_result *r);
int kern_tcp_rr(const struct bench_opts *o, struct bench_result *r);
int kern_udp_pps(const struct bench_opts *o, struct bench_result *r);
int kern_tcp_connect_rate(const struct bench_opts *o, struct bench_result *r);
int kern_tcp_idle_conn_mem(const struct bench_opts *o, struct bench_result *r);

int ips_tcp_bulk_memlink(const struct bench_opts *o, struct bench_result *r, uint32_t mtu);
int ips_tcp_bulk_lo(const struct bench_opts *o, struct bench_result *r);
int ips_tcp_bulk_1500(const struct bench_opts *o, struct bench_result *r);
int ips_tcp_bulk_tap(const struct bench_opts *o, struct bench_result *r);
int ips_tcp_rr(const struct bench_opts *o, struct bench_result *r);
int ips_udp_pps(const struct bench_opts *o, struct bench_result *r);
int ips_tcp_connect_rate(const struct bench_opts *o, struct bench_result *r);
int ips_tcp_idle_conn_mem(const struct bench_opts *o, struct bench_result *r);

__attribute__((format(printf, 1, 2))) void bench_die(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void bench_log(const char *fmt, ...);
extern int bench_verbose;

#endif

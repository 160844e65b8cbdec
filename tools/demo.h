/* `ipstack demo`: a small internet in one process (docs/demo.md). Private to
 * tools/demo*.c.
 *
 *   A 10.0.1.2 --link1-- 10.0.1.1 R 10.0.2.1 --link2-- 10.0.2.2 B
 *      link1: clean, MTU 1500        link2: loss, delay, MTU 1000
 *
 * Each step is ordinary socket code on A and B; the report says what it saw. */
#ifndef IPS_TOOLS_DEMO_H
#define IPS_TOOLS_DEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <stdio.h>

#include "ipstack/ipstack.h"
#include "sha256.h"

/* A growable string, for the JSON report and captured lines. */
struct dbuf {
	char *p;
	size_t len, cap;
};
void dbuf_printf(struct dbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dbuf_jstr(struct dbuf *b, const char *s);	/* a JSON string literal */
void dbuf_free(struct dbuf *b);

enum step_status {
	STEP_OK,
	STEP_FAILED,
	STEP_UNAVAILABLE,	/* the stack cannot do it yet (e.g. TCP has not landed) */
};

struct demo_opts {
	uint64_t seed;
	double loss_pct;		/* link2 */
	uint32_t delay_ms;		/* link2, each direction */
	uint32_t mtu2;			/* link2 */
	size_t tcp_bytes;
	const char *pcap_dir;
	bool realtime;
	bool json;
	bool progress;			/* live progress line (a terminal, not --json) */
};

#define DEMO_NSTACKS 3

struct demo {
	struct demo_opts o;
	ips_world *w;			/* virtual clock; NULL with --realtime */
	ips_stack *a, *r, *b;
	ips_stack *all[DEMO_NSTACKS];
	const char *names[DEMO_NSTACKS];
	FILE *out;			/* the text report (NULL with --json) */
	struct dbuf steps_json;		/* ",{...}" per step */
	int nsteps, nok, nfailed, nunavail;
	/* current step */
	struct dbuf fig;		/* its JSON figures: ",\"name\":value" */
	uint64_t step_wall_ns;
	int nlines;			/* report lines of the current step */
	bool lines_closed;		/* its figures have begun */
	bool progress_shown;		/* a live progress line is on the terminal */
};

/* Time on the stacks' clock (virtual or real), ns. */
uint64_t demo_now_ns(struct demo *d);
/* Let time pass: the world runs for ns (virtual), or the thread sleeps (realtime). */
void demo_sleep(struct demo *d, uint64_t ns);
uint64_t demo_wall_ns(void);
/* ips_poll() until one of fds is ready or the stack clock reaches deadline_ns; the number
 * ready, or 0 at the deadline (tools/demo_steps.c). */
int demo_wait(struct demo *d, struct pollfd *fds, int n, uint64_t deadline_ns);

/* Report helpers. A step begins with a title, says what it sees with demo_say(), records
 * its figures with demo_fig_*() (JSON) and ends with a status and a one-line summary. */
void demo_step_begin(struct demo *d, const char *name, const char *title);
void demo_say(struct demo *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void demo_fig_int(struct demo *d, const char *key, long long v);
void demo_fig_num(struct demo *d, const char *key, double v);
void demo_fig_str(struct demo *d, const char *key, const char *v);
void demo_fig_bool(struct demo *d, const char *key, bool v);
void demo_fig_raw(struct demo *d, const char *key, const char *json);
void demo_step_end(struct demo *d, enum step_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A live progress line (terminal only; the next line replaces it). */
void demo_progress(struct demo *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ping's own formatting of a time in ms (3 significant digits: 0.089, 40.2, 123). */
void demo_fmt_ms(char *buf, size_t len, uint64_t ns);
uint64_t demo_counter(ips_stack *st, const char *name);
const char *demo_ip(uint32_t addr_be, char buf[16]);

/* The steps (tools/demo_steps.c, tools/demo_tcp.c). */
void demo_step_ping(struct demo *d);
void demo_step_udp_frag(struct demo *d);
void demo_step_path(struct demo *d);
void demo_step_tcp(struct demo *d);
void demo_step_refused(struct demo *d);


/* Addresses of the demo world. */
#define DEMO_A "10.0.1.2"
#define DEMO_R1 "10.0.1.1"
#define DEMO_R2 "10.0.2.1"
#define DEMO_B "10.0.2.2"

#endif

/* `ipstack host`: run one host (or router) on TAP/TUN devices with the real clock until
 * SIGINT/SIGTERM. The interop tests (tests/interop/) drive the kernel against it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "ipstack/ipstack.h"
#include "cli.h"
#include "ctl_server.h"
#include "serve.h"

#define CMD "host"
#define MAX_DEVS 16
#define MAX_ADDRS 8
#define MAX_LIST 64

enum dev_kind { DEV_TAP, DEV_TUN };

struct dev_group {
	enum dev_kind kind;
	const char *ifname;
	const char *addrs[MAX_ADDRS];
	int naddrs;
	unsigned mtu;			/* 0: leave the device's */
	const char *pcap;
	const char *impair;
};

struct host_opts {
	struct dev_group devs[MAX_DEVS];
	int ndevs;
	const char *sysctls[MAX_LIST];
	int nsysctls;
	const char *routes[MAX_LIST];
	int nroutes;
	const char *gw;
	const char *name;
	const char *ready_file;
	const char *stats_on_exit;
	const char *stats_file;		/* rewritten on SIGUSR1 */
	const char *ctl;		/* control socket (tools/ctl_server.c) */
	const char *serves[MAX_LIST];	/* --serve NAME (tools/serve.c) */
	int nserves;
	int driven;
	int no_offload;
};

static void host_usage(FILE *f)
{
	fprintf(f,
		"usage: ipstack host DEVICE [DEVICE...] [OPTIONS]\n"
		"  DEVICE:  --tap IF | --tun IF, followed by the options for that device:\n"
		"    --addr A.B.C.D/LEN   address (repeatable)\n"
		"    --mtu N              device MTU (68..65535)\n"
		"    --pcap FILE          write every frame sent or received to FILE\n"
		"    --impair SPEC        loss=5,dup=1,reorder=2,delay=10,jitter=3,corrupt=0.5,rate=100\n"
		"                         (percent, ms, Mbit/s; applied in both directions)\n"
		"  OPTIONS:\n"
		"    --gw ADDR            default route via ADDR\n"
		"    --route SPEC         route in `ip route add` syntax (repeatable)\n"
		"    --sysctl NAME=VALUE  e.g. net.ipv4.ip_forward=1 (repeatable)\n"
		"    --name NAME          stack name (logs, pcap names)\n"
		"    --ready-file PATH    written once every device is up\n"
		"    --stats-on-exit FILE write every counter as `Name value` lines at exit\n"
		"    --stats-file FILE    the same, rewritten on SIGUSR1 and at exit\n"
		"    --ctl PATH           control socket for `ipstack ctl PATH ...` (docs/ctl.md)\n"
		"    --serve NAME         answer a service on every address (repeatable):\n"
		"                         echo (UDP and TCP port 7, RFC 862), discard (UDP and\n"
		"                         TCP port 9, RFC 863), http=DIR (static HTTP/1.1 on TCP\n"
		"                         port 80: GET, HEAD, keep-alive)\n"
		"    --no-offload         no segmentation or checksum offload on any device (as\n"
		"                         `ethtool -K DEV tso off tx off rx off`): by default a TAP/TUN\n"
		"                         exchanges 64 KB TCP super-packets and unfilled checksums\n"
		"                         with the kernel (IFF_VNET_HDR), here every frame is whole\n"
		"    --driven             run the stack from this thread (default: its own thread)\n"
		"Runs until SIGINT or SIGTERM, then exits 0 after flushing its pcap files.\n"
		"Example (a router):\n"
		"  ipstack host --tap t1 --addr 10.1.0.1/24 --tap t2 --addr 10.2.0.1/24 \\\n"
		"               --sysctl net.ipv4.ip_forward=1\n");
}

static int valid_cidr(const char *s)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	unsigned len;

	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return 0;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return 0;
	return sscanf(slash + 1, "%u%c", &len, buf) == 1 && len <= 32;
}

/* Returns 0 or an exit status. */
static int host_parse(int argc, char **argv, struct host_opts *o)
{
	struct dev_group *cur = NULL;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];	/* the option itself, before cli_opt moves i */
		const char *v;
		int r;

		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			host_usage(stdout);
			exit(CLI_EXIT_OK);
		}
		if (!strcmp(argv[i], "--driven")) {
			o->driven = 1;
			continue;
		}
		if (!strcmp(argv[i], "--no-offload")) {
			o->no_offload = 1;
			continue;
		}
#define OPT(name) ((r = cli_opt(CMD, argc, argv, &i, name, &v)) != 0)
		if (OPT("--tap") || OPT("--tun")) {
			if (r < 0)
				return CLI_EXIT_USAGE;
			if (o->ndevs == MAX_DEVS) {
				cli_err(CMD, "at most %d devices", MAX_DEVS);
				return CLI_EXIT_USAGE;
			}
			if (!*v || strlen(v) >= 16) {
				cli_err(CMD, "bad interface name '%s'", v);
				return CLI_EXIT_USAGE;
			}
			cur = &o->devs[o->ndevs++];
			cur->kind = !strncmp(arg, "--tun", 5) ? DEV_TUN : DEV_TAP;
			cur->ifname = v;
		} else if (OPT("--addr") || OPT("--mtu") || OPT("--pcap") || OPT("--impair")) {
			const char *opt = arg;

			if (r < 0)
				return CLI_EXIT_USAGE;
			if (!cur) {
				cli_err(CMD, "%.8s must follow --tap IF or --tun IF", opt);
				return CLI_EXIT_USAGE;
			}
			if (!strncmp(opt, "--addr", 6)) {
				if (!valid_cidr(v)) {
					cli_err(CMD, "--addr: '%s' is not A.B.C.D/LEN", v);
					return CLI_EXIT_USAGE;
				}
				if (cur->naddrs == MAX_ADDRS) {
					cli_err(CMD, "at most %d addresses per device", MAX_ADDRS);
					return CLI_EXIT_USAGE;
				}
				cur->addrs[cur->naddrs++] = v;
			} else if (!strncmp(opt, "--mtu", 5)) {
				if (cli_parse_u32(CMD, "--mtu", v, 68, 65535, &cur->mtu) < 0)
					return CLI_EXIT_USAGE;
			} else if (!strncmp(opt, "--pcap", 6)) {
				cur->pcap = v;
			} else {
				struct ips_impair imp;

				if (ips_impair_parse(v, &imp) < 0) {
					cli_err(CMD, "--impair: cannot parse '%s'", v);
					return CLI_EXIT_USAGE;
				}
				cur->impair = v;
			}
		} else if (OPT("--sysctl")) {
			if (r < 0)
				return CLI_EXIT_USAGE;
			if (!strchr(v, '=') || v[0] == '=') {
				cli_err(CMD, "--sysctl: '%s' is not NAME=VALUE", v);
				return CLI_EXIT_USAGE;
			}
			if (o->nsysctls == MAX_LIST) {
				cli_err(CMD, "too many --sysctl");
				return CLI_EXIT_USAGE;
			}
			o->sysctls[o->nsysctls++] = v;
		} else if (OPT("--route")) {
			if (r < 0)
				return CLI_EXIT_USAGE;
			if (o->nroutes == MAX_LIST) {
				cli_err(CMD, "too many --route");
				return CLI_EXIT_USAGE;
			}
			o->routes[o->nroutes++] = v;
		} else if (OPT("--gw")) {
			struct in_addr a;

			if (r < 0)
				return CLI_EXIT_USAGE;
			if (inet_pton(AF_INET, v, &a) != 1) {
				cli_err(CMD, "--gw: '%s' is not an IPv4 address", v);
				return CLI_EXIT_USAGE;
			}
			o->gw = v;
		} else if (OPT("--name")) {
			if (r < 0)
				return CLI_EXIT_USAGE;
			o->name = v;
		} else if (OPT("--ready-file")) {
			if (r < 0)
				return CLI_EXIT_USAGE;
			o->ready_file = v;
		} else if (OPT("--stats-on-exit")) {
			if (r < 0)
				return CLI_EXIT_USAGE;
			o->stats_on_exit = v;
		} else if (OPT("--stats-file")) {
			if (r < 0)
				return CLI_EXIT_USAGE;
			o->stats_file = v;
		} else if (OPT("--ctl")) {
			if (r < 0)
				return CLI_EXIT_USAGE;
			o->ctl = v;
		} else if (OPT("--serve")) {
			const char *why;

			if (r < 0)
				return CLI_EXIT_USAGE;
			if (serve_check(v, &why) < 0) {
				cli_err(CMD, "--serve %s: %s", v, why);
				return CLI_EXIT_USAGE;
			}
			if (o->nserves == MAX_LIST) {
				cli_err(CMD, "too many --serve");
				return CLI_EXIT_USAGE;
			}
			o->serves[o->nserves++] = v;
		} else {
			cli_err(CMD, "unknown option '%s' (try 'ipstack host --help')", argv[i]);
			return CLI_EXIT_USAGE;
		}
#undef OPT
	}
	if (o->ndevs == 0) {
		cli_err(CMD, "no device: give --tap IF or --tun IF (try 'ipstack host --help')");
		return CLI_EXIT_USAGE;
	}
	for (int i = 0; i < o->ndevs; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(o->devs[i].ifname, o->devs[j].ifname)) {
				cli_err(CMD, "device %s given twice", o->devs[i].ifname);
				return CLI_EXIT_USAGE;
			}
	return 0;
}

/* Write path atomically (a temporary file renamed over it) so that a reader polling for
 * it never sees half a file. */
static int write_file_atomic(const char *path, const char *text, size_t len)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	if (fwrite(text, 1, len, f) != len || fflush(f) != 0) {
		int e = errno;

		fclose(f);
		unlink(tmp);
		return -e;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		int e = errno;

		unlink(tmp);
		return -e;
	}
	return 0;
}

struct strbuf {
	char *p;
	size_t len, cap;
};

static void sb_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 4096;

		while (cap - b->len <= (size_t)n)
			cap *= 2;
		char *np = realloc(b->p, cap);

		if (!np)
			return;
		b->p = np;
		b->cap = cap;
	}
}

static int stats_line(void *arg, const char *name, uint64_t value)
{
	sb_printf(arg, "%s %llu\n", name, (unsigned long long)value);
	return 0;
}

static void stats_dump(ips_stack *st, const char *path)
{
	struct strbuf b = { 0 };
	int rc;

	ips_counter_foreach(st, stats_line, &b);
	rc = write_file_atomic(path, b.p ? b.p : "", b.len);
	if (rc < 0)
		cli_err(CMD, "%s: %s", path, strerror(-rc));
	free(b.p);
}

/* "sysctl NAME=VALUE"; returns 0 or -errno. */
static int apply_sysctl(ips_stack *st, const char *nv)
{
	char name[256];
	const char *eq = strchr(nv, '=');
	size_t n = (size_t)(eq - nv);

	if (n >= sizeof(name))
		return -ENAMETOOLONG;
	memcpy(name, nv, n);
	name[n] = '\0';
	/* `sysctl -w` accepts surrounding blanks around '='. */
	while (n && name[n - 1] == ' ')
		name[--n] = '\0';
	eq++;
	while (*eq == ' ')
		eq++;
	return ips_sysctl_set(st, name, eq);
}

/* The host's clock: CLOCK_MONOTONIC (never jumps, as the stack's timers need) shifted
 * once, at start, onto the wall-clock epoch. The stack derives RFC 791/792 timestamps
 * ("milliseconds since midnight UT") from its clock modulo a day, so with this offset
 * `ping -T tsonly` and ICMP timestamp replies carry the time of day as Linux's do. */
static uint64_t host_clock_offset_ns;

static uint64_t host_clock_now_ns(void *ctx)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return host_clock_offset_ns + (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void host_clock_init(void)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	uint64_t m = (uint64_t)mono.tv_sec * 1000000000ULL + (uint64_t)mono.tv_nsec;
	uint64_t r = (uint64_t)real.tv_sec * 1000000000ULL + (uint64_t)real.tv_nsec;

	host_clock_offset_ns = r > m ? r - m : 0;
}

static volatile sig_atomic_t sig_term, sig_usr1;
static ips_stack *sig_stack;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		sig_usr1 = 1;
	else
		sig_term = 1;
	if (sig_stack)
		ips_stack_wake(sig_stack);	/* async-signal-safe: one eventfd write */
}

static int setup_devices(ips_stack *st, struct host_opts *o, struct strbuf *ready)
{
	for (int i = 0; i < o->ndevs; i++) {
		struct dev_group *d = &o->devs[i];
		const char *what = "attach";
		int rc;

		rc = d->kind == DEV_TAP ? ips_tap_attach(st, d->ifname)
					: ips_tun_attach(st, d->ifname);
		if (rc >= 0 && o->no_offload) {
			what = "turn offloads off";
			rc = ips_dev_set_offload(st, d->ifname, 0);
		}
		if (rc >= 0 && d->mtu) {
			what = "set mtu";
			rc = ips_dev_set_mtu(st, d->ifname, d->mtu);
		}
		if (rc >= 0 && d->pcap) {
			what = "open pcap";
			rc = ips_dev_set_pcap(st, d->ifname, d->pcap);
		}
		if (rc >= 0 && d->impair) {
			struct ips_impair imp;

			what = "set impairment";
			rc = ips_impair_parse(d->impair, &imp);
			if (rc >= 0)
				rc = ips_dev_set_impair(st, d->ifname, &imp);
		}
		if (rc >= 0) {
			what = "bring up";
			rc = ips_dev_set_up(st, d->ifname, 1);
		}
		for (int a = 0; rc >= 0 && a < d->naddrs; a++) {
			what = d->addrs[a];
			rc = ips_addr_add(st, d->ifname, d->addrs[a]);
		}
		if (rc < 0) {
			cli_err(CMD, "%s: %s: %s", d->ifname, what, strerror(-rc));
			return CLI_EXIT_RUNTIME;
		}
	}
	/* Late sysctls: the ones that name a device (net.ipv4.conf.tap0.*). */
	for (int i = 0; i < o->nsysctls; i++) {
		if (!o->sysctls[i])
			continue;
		int rc = apply_sysctl(st, o->sysctls[i]);

		if (rc < 0) {
			cli_err(CMD, "--sysctl %s: %s", o->sysctls[i],
				rc == -ENOENT ? "no such sysctl" : strerror(-rc));
			return rc == -ENOENT || rc == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
		}
	}
	for (int i = 0; i < o->nroutes; i++) {
		int rc = ips_route_add_str(st, o->routes[i]);

		if (rc < 0) {
			cli_err(CMD, "--route '%s': %s", o->routes[i], strerror(-rc));
			return rc == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
		}
	}
	if (o->gw) {
		char spec[64];
		int rc;

		snprintf(spec, sizeof(spec), "default via %s", o->gw);
		rc = ips_route_add_str(st, spec);
		if (rc < 0) {
			cli_err(CMD, "--gw %s: %s", o->gw, strerror(-rc));
			return CLI_EXIT_RUNTIME;
		}
	}
	sb_printf(ready, "pid %d\n", (int)getpid());
	for (int i = 0; i < o->ndevs; i++) {
		struct dev_group *d = &o->devs[i];
		char line[512];
		size_t n = 0;
		uint8_t mac[6];

		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s ", d->ifname);
		for (int a = 0; a < d->naddrs; a++)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", a ? "," : "",
					      d->addrs[a]);
		if (!d->naddrs)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "-");
		/* Devices start with MTU 1500 (ips_link_config: 0 = 1500). */
		n += (size_t)snprintf(line + n, sizeof(line) - n, " mtu %u", d->mtu ? d->mtu : 1500);
		if (d->kind == DEV_TAP && ips_dev_hwaddr(st, d->ifname, mac) >= 0)
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      " hwaddr %02x:%02x:%02x:%02x:%02x:%02x", mac[0],
					      mac[1], mac[2], mac[3], mac[4], mac[5]);
		fprintf(stderr, "ipstack: %s\n", line);
		sb_printf(ready, "%s\n", line);
	}
	return 0;
}

static int cmd_host(int argc, char **argv)
{
	struct host_opts o = { 0 };
	struct ips_stack_config cfg = { 0 };
	static const struct ips_clock_ops clock_ops = { host_clock_now_ns, NULL };
	struct strbuf ready = { 0 };
	struct ctl_server *ctl = NULL;
	struct serve *srv = NULL;
	sigset_t set, old;
	ips_stack *st;
	int rc;

	rc = host_parse(argc, argv, &o);
	if (rc)
		return rc;

	/* Block the signals before the stack's thread exists so that only this thread
	 * ever takes them (the thread inherits the mask). */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);

	cfg.mode = o.driven ? IPS_MODE_DRIVEN : IPS_MODE_THREADED;
	cfg.name = o.name ? o.name : "host";
	host_clock_init();
	cfg.clock = &clock_ops;
	st = ips_stack_new(&cfg);
	if (!st) {
		cli_err(CMD, "cannot create the stack");
		return CLI_EXIT_RUNTIME;
	}
	/* Sysctls that exist before any device (net.ipv4.conf.default.* must be set before
	 * the devices are created to apply to them); the rest once devices exist. */
	for (int i = 0; i < o.nsysctls; i++) {
		int e = apply_sysctl(st, o.sysctls[i]);

		if (e == 0)
			o.sysctls[i] = NULL;
		else if (e != -ENOENT) {
			cli_err(CMD, "--sysctl %s: %s", o.sysctls[i], strerror(-e));
			ips_stack_free(st);
			return e == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
		}
	}
	rc = setup_devices(st, &o, &ready);
	if (rc == 0 && o.ctl) {
		int e;

		ctl = ctl_server_start(st, o.ctl, &e);
		if (!ctl) {
			cli_err(CMD, "--ctl %s: %s", o.ctl, strerror(-e));
			rc = CLI_EXIT_RUNTIME;
		}
	}
	if (rc == 0 && o.nserves) {
		const char *what = "";
		int e;

		srv = serve_start(st, o.serves, o.nserves, &e, &what);
		if (!srv) {
			cli_err(CMD, "--serve %s: %s", what, strerror(-e));
			rc = CLI_EXIT_RUNTIME;
		}
	}
	if (rc == 0 && o.ready_file) {
		int e = write_file_atomic(o.ready_file, ready.p, ready.len);

		if (e < 0) {
			cli_err(CMD, "--ready-file %s: %s", o.ready_file, strerror(-e));
			rc = CLI_EXIT_RUNTIME;
		}
	}
	free(ready.p);
	if (rc) {
		serve_stop(srv);
		ctl_server_stop(ctl);
		ips_stack_free(st);
		return rc;
	}

	if (o.driven) {
		struct sigaction sa = { 0 };

		sa.sa_handler = on_signal;	/* no SA_RESTART: poll returns EINTR */
		sigemptyset(&sa.sa_mask);
		sig_stack = st;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		sigaction(SIGUSR1, &sa, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		while (!sig_term) {
			int e = ips_stack_poll(st, -1);

			if (e < 0) {
				cli_err(CMD, "poll: %s", strerror(-e));
				rc = CLI_EXIT_RUNTIME;
				break;
			}
			if (sig_usr1) {
				sig_usr1 = 0;
				if (o.stats_file)
					stats_dump(st, o.stats_file);
			}
		}
	} else {
		int sfd = signalfd(-1, &set, SFD_CLOEXEC);

		if (sfd < 0) {
			cli_err(CMD, "signalfd: %s", strerror(errno));
			rc = CLI_EXIT_RUNTIME;
		}
		while (sfd >= 0) {
			struct signalfd_siginfo si;
			ssize_t n = read(sfd, &si, sizeof(si));

			if (n < 0 && errno == EINTR)
				continue;
			if (n != (ssize_t)sizeof(si)) {
				cli_err(CMD, "signalfd read: %s", strerror(errno));
				rc = CLI_EXIT_RUNTIME;
				break;
			}
			if (si.ssi_signo == SIGUSR1) {
				if (o.stats_file)
					stats_dump(st, o.stats_file);
				continue;
			}
			break;
		}
		if (sfd >= 0)
			close(sfd);
	}

	serve_stop(srv);
	ctl_server_stop(ctl);
	if (o.stats_file)
		stats_dump(st, o.stats_file);
	if (o.stats_on_exit)
		stats_dump(st, o.stats_on_exit);
	/* Close the captures before the stack goes so that every frame is on disk. */
	for (int i = 0; i < o.ndevs; i++) {
		if (!o.devs[i].pcap)
			continue;
		int e = ips_dev_set_pcap(st, o.devs[i].ifname, NULL);

		if (e < 0) {
			cli_err(CMD, "%s: closing %s: %s", o.devs[i].ifname, o.devs[i].pcap,
				strerror(-e));
			rc = CLI_EXIT_RUNTIME;
		}
	}
	sig_stack = NULL;
	ips_stack_free(st);
	return rc;
}

CLI_COMMAND(host, "run a host or router on TAP/TUN devices until SIGINT/SIGTERM", cmd_host)

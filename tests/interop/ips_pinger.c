/* ips_pinger: ipstack pings the kernel. Attaches a TAP device, sends echo requests of
 * the given sizes to a kernel peer (icmp_echo_send, src/ip/icmp.h) and watches replies
 * (an icmp_listener, src/ip/ip.h). Exit 0 iff every request got exactly one reply whose
 * id, sequence and payload match what was sent.
 *
 * usage: ips_pinger --tap IF --addr A.B.C.D/LEN --dst A.B.C.D [--count N]
 *                   [--sizes 56,1472,8000] [--interval-ms N] [--timeout-ms N]
 *                   [--pcap FILE] [--stats FILE]
 * Sends --count requests of each size (payload bytes after the ICMP header), one every
 * --interval-ms, then waits up to --timeout-ms for the last replies. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipstack/ipstack.h"
#include "core/stack.h"
#include "ip/icmp.h"
#include "ip/ip.h"

#define MAX_PINGS 65536
#define MAX_SIZES 32

struct ping {
	size_t len;		/* payload bytes */
	int replies;		/* good replies */
	int bad;		/* replies with the wrong length or payload */
};

struct pinger {
	uint32_t dst;
	uint16_t id;
	struct ping pings[MAX_PINGS];
	int nsent;
	int good, bad, dups, stray, errors;
	uint16_t resolve_id;	/* --resolve: the warm-up echo's identifier */
	bool resolved;
};

static uint8_t pattern(uint16_t seq, size_t i)
{
	return (uint8_t)(seq * 7u + i * 13u + (i >> 8));
}

/* Called by the stack, lock held, for every ICMP message delivered locally. */
static void on_icmp(void *arg, struct pkb *pkb)
{
	struct pinger *p = arg;
	const uint8_t *ip = pkb->nh, *icmp = pkb->th;
	const uint8_t *end = pkb->data + pkb->len;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	size_t tot = (size_t)ip[2] << 8 | ip[3];
	uint32_t saddr;

	memcpy(&saddr, ip + 12, 4);
	if (tot < ihl + 8 || icmp != ip + ihl || ip + tot > end) {
		p->stray++;
		return;
	}
	size_t icmp_len = tot - ihl;

	if (icmp[0] != ICMP_ECHOREPLY) {
		if (icmp[0] != ICMP_ECHO) {
			char from[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &saddr, from, sizeof(from));
			fprintf(stderr, "ips_pinger: ICMP type %u code %u from %s\n", icmp[0],
				icmp[1], from);
			p->errors++;
		}
		return;
	}
	uint16_t id = (uint16_t)(icmp[4] << 8 | icmp[5]);
	uint16_t seq = (uint16_t)(icmp[6] << 8 | icmp[7]);

	if (saddr == p->dst && p->resolve_id && id == p->resolve_id) {
		p->resolved = true;	/* the warm-up: not one of the counted pings */
		return;
	}
	if (saddr != p->dst || id != p->id || seq >= p->nsent) {
		p->stray++;
		return;
	}
	struct ping *pg = &p->pings[seq];
	int ok = icmp_len - 8 == pg->len;

	for (size_t i = 0; ok && i < pg->len; i++)
		ok = icmp[8 + i] == pattern(seq, i);
	if (!ok) {
		fprintf(stderr, "ips_pinger: seq %u: reply of %zu bytes does not match the %zu sent\n",
			seq, icmp_len - 8, pg->len);
		pg->bad++;
		p->bad++;
	} else if (pg->replies++) {
		p->dups++;
	} else {
		p->good++;
	}
}

static int stats_line(void *arg, const char *name, uint64_t value)
{
	fprintf(arg, "%s %llu\n", name, (unsigned long long)value);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: ips_pinger --tap IF --addr A.B.C.D/LEN --dst A.B.C.D [--count N]\n"
			"                  [--sizes 56,1472,8000] [--interval-ms N] [--timeout-ms N]\n"
			"                  [--pcap FILE] [--stats FILE] [--resolve 1]\n"
			"--resolve 1: one uncounted echo, answered, before the counted ones, so that\n"
			"a burst does not start while the neighbour is being resolved (whatever the\n"
			"ARP queue cannot hold is dropped then, as on Linux)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *tap = NULL, *addr = NULL, *dst = NULL, *pcap = NULL, *stats = NULL;
	char sizes_arg[256] = "56";
	size_t sizes[MAX_SIZES];
	int nsizes = 0, count = 3, interval_ms = 10, timeout_ms = 3000, resolve = 0;
	static struct pinger p;
	struct icmp_listener l = { .fn = on_icmp, .arg = &p };
	struct ips_stack_config cfg = { .mode = IPS_MODE_DRIVEN, .name = "pinger" };

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		i++;
		if (!strcmp(o, "--tap"))
			tap = v;
		else if (!strcmp(o, "--addr"))
			addr = v;
		else if (!strcmp(o, "--dst"))
			dst = v;
		else if (!strcmp(o, "--count"))
			count = atoi(v);
		else if (!strcmp(o, "--sizes"))
			snprintf(sizes_arg, sizeof(sizes_arg), "%s", v);
		else if (!strcmp(o, "--interval-ms"))
			interval_ms = atoi(v);
		else if (!strcmp(o, "--timeout-ms"))
			timeout_ms = atoi(v);
		else if (!strcmp(o, "--pcap"))
			pcap = v;
		else if (!strcmp(o, "--stats"))
			stats = v;
		else if (!strcmp(o, "--resolve"))
			resolve = atoi(v);
		else
			usage();
	}
	if (!tap || !addr || !dst || inet_pton(AF_INET, dst, &p.dst) != 1 || count < 1)
		usage();
	for (char *tok = strtok(sizes_arg, ","); tok && nsizes < MAX_SIZES; tok = strtok(NULL, ",")) {
		long n = atol(tok);

		if (n < 0 || n > ICMP_MAX_ECHO_PAYLOAD)
			usage();
		sizes[nsizes++] = (size_t)n;
	}
	if (!nsizes || (long)nsizes * count > MAX_PINGS)
		usage();

	ips_stack *st = ips_stack_new(&cfg);
	int rc;

	if (!st) {
		fprintf(stderr, "ips_pinger: cannot create a stack\n");
		return 1;
	}
	if ((rc = ips_tap_attach(st, tap)) < 0 || (pcap && (rc = ips_dev_set_pcap(st, tap, pcap)) < 0) ||
	    (rc = ips_dev_set_up(st, tap, 1)) < 0 || (rc = ips_addr_add(st, tap, addr)) < 0) {
		fprintf(stderr, "ips_pinger: %s: %s\n", tap, strerror(-rc));
		return 1;
	}
	p.id = (uint16_t)getpid();
	stack_lock(st);
	icmp_listener_add(st, &l);
	stack_unlock(st);

	uint8_t *buf = malloc(ICMP_MAX_ECHO_PAYLOAD);
	int total = nsizes * count, send_errors = 0;

	if (resolve) {
		struct icmp_echo_req req = { .daddr = p.dst, .ttl = -1, .pmtudisc = -1 };
		uint32_t mtu = 0;
		uint64_t until = ips_stack_now_ns(st) + (uint64_t)timeout_ms * 1000000ULL;

		p.resolve_id = req.id = (uint16_t)(p.id ^ 0x8000);
		stack_lock(st);
		rc = icmp_echo_send(st, &req, &mtu);
		stack_unlock(st);
		while (rc == 0 && !p.resolved && ips_stack_now_ns(st) < until)
			ips_stack_poll(st, 10);
		if (!p.resolved) {
			fprintf(stderr, "ips_pinger: no answer to the warm-up echo\n");
			return 1;
		}
	}
	uint64_t next_send = ips_stack_now_ns(st), deadline = 0;

	if (!buf)
		return 1;
	for (;;) {
		uint64_t now = ips_stack_now_ns(st);

		if (p.nsent < total && now >= next_send) {
			uint16_t seq = (uint16_t)p.nsent;
			struct ping *pg = &p.pings[seq];
			struct icmp_echo_req req = {
				.daddr = p.dst, .id = p.id, .seq = seq, .payload = buf,
				.ttl = -1, .pmtudisc = -1,
			};
			uint32_t mtu = 0;

			pg->len = sizes[p.nsent / count];
			for (size_t i = 0; i < pg->len; i++)
				buf[i] = pattern(seq, i);
			req.len = pg->len;
			stack_lock(st);
			rc = icmp_echo_send(st, &req, &mtu);
			stack_unlock(st);
			if (rc < 0) {
				fprintf(stderr, "ips_pinger: seq %u (%zu bytes): %s\n", seq, pg->len,
					strerror(-rc));
				send_errors++;
			}
			p.nsent++;
			next_send = now + (uint64_t)interval_ms * 1000000ULL;
			if (p.nsent == total)
				deadline = now + (uint64_t)timeout_ms * 1000000ULL;
		}
		if (p.nsent == total && (p.good + p.bad >= total || now >= deadline))
			break;
		ips_stack_poll(st, p.nsent < total ? interval_ms : 10);
	}
	stack_lock(st);
	icmp_listener_del(st, &l);
	stack_unlock(st);

	for (int s = 0; s < nsizes; s++) {
		int got = 0;

		for (int i = s * count; i < (s + 1) * count; i++)
			got += p.pings[i].replies > 0 && !p.pings[i].bad;
		printf("size %zu: %d sent, %d replies ok\n", sizes[s], count, got);
	}
	printf("ips_pinger: %d sent, %d good replies, %d bad, %d duplicates, %d stray, "
	       "%d ICMP errors, %d send errors\n",
	       total, p.good, p.bad, p.dups, p.stray, p.errors, send_errors);
	if (stats) {
		FILE *f = fopen(stats, "w");

		if (f) {
			ips_counter_foreach(st, stats_line, f);
			fclose(f);
		}
	}
	if (pcap)
		ips_dev_set_pcap(st, tap, NULL);
	ips_stack_free(st);
	free(buf);
	return p.good == total && !p.bad && !p.dups && !send_errors ? 0 : 1;
}

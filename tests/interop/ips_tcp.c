/* ips_tcp: an ipstack TCP client against a kernel server, written with the ips_* socket
 * calls exactly as one would write it with the kernel's (blocking connect, send, recv).
 * Attaches a TAP device (threaded stack), connects to --dst:--port, then either sends
 * a file (--send FILE, then shutdown(SHUT_WR) and waits for the server's end of stream)
 * or receives until the server closes (--recv). Prints one line:
 *   bytes N sha256 HEX seconds S mbit_per_s R
 * where the digest is of the bytes sent or received. Exit 0 on success.
 *
 * usage: ips_tcp --tap IF --addr A.B.C.D/LEN --dst A.B.C.D --port N (--send FILE | --recv)
 *                [--impair SPEC] [--pcap FILE] [--stats FILE] [--info FILE]
 * --info writes the socket's TCP_INFO (state, options, wscale, mss, retransmits) after
 * the transfer. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipstack/ipstack.h"
#include "../../tools/sha256.c"

#define BUF (256 * 1024)

static int stats_line(void *arg, const char *name, uint64_t value)
{
	fprintf(arg, "%s %llu\n", name, (unsigned long long)value);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: ips_tcp --tap IF --addr A.B.C.D/LEN --dst A.B.C.D --port N "
			"(--send FILE | --recv) [--impair SPEC] [--pcap FILE] [--stats FILE] "
			"[--info FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *tap = NULL, *addr = NULL, *dst = NULL, *send_file = NULL, *impair = NULL;
	const char *pcap = NULL, *stats = NULL, *info = NULL;
	int port = 0, recv_mode = 0, rc;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "--recv")) {
			recv_mode = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		const char *v = argv[++i];

		if (!strcmp(o, "--tap"))
			tap = v;
		else if (!strcmp(o, "--addr"))
			addr = v;
		else if (!strcmp(o, "--dst"))
			dst = v;
		else if (!strcmp(o, "--port"))
			port = atoi(v);
		else if (!strcmp(o, "--send"))
			send_file = v;
		else if (!strcmp(o, "--impair"))
			impair = v;
		else if (!strcmp(o, "--pcap"))
			pcap = v;
		else if (!strcmp(o, "--stats"))
			stats = v;
		else if (!strcmp(o, "--info"))
			info = v;
		else
			usage();
	}
	if (!tap || !addr || !dst || port <= 0 || port > 65535 || (!send_file == !recv_mode))
		usage();

	struct ips_stack_config cfg = { .mode = IPS_MODE_THREADED, .name = "ips_tcp" };
	ips_stack *st = ips_stack_new(&cfg);
	struct ips_impair imp;

	if (!st) {
		fprintf(stderr, "ips_tcp: cannot create the stack\n");
		return 1;
	}
	if ((rc = ips_tap_attach(st, tap)) < 0 || (pcap && (rc = ips_dev_set_pcap(st, tap, pcap)) < 0) ||
	    (impair && ((rc = ips_impair_parse(impair, &imp)) < 0 ||
			(rc = ips_dev_set_impair(st, tap, &imp)) < 0)) ||
	    (rc = ips_dev_set_up(st, tap, 1)) < 0 || (rc = ips_addr_add(st, tap, addr)) < 0) {
		fprintf(stderr, "ips_tcp: %s: %s\n", tap, strerror(-rc));
		return 1;
	}
	ips_stack_enter(st);

	int fd = -1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	uint8_t *buf = malloc(BUF);
	struct sha256 h;
	uint64_t total = 0;
	double t0, t1;
	int status = 0;

	inet_pton(AF_INET, dst, &sa.sin_addr);
	sha256_init(&h);
	/* The kernel's server may not be listening yet: retry a refused connect for 10 s. */
	for (int tries = 0;; tries++) {
		fd = ips_socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || !buf) {
			fprintf(stderr, "ips_tcp: socket: %s\n", strerror(errno));
			return 1;
		}
		if (ips_connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		if (errno != ECONNREFUSED || tries == 100) {
			fprintf(stderr, "ips_tcp: connect %s:%d: %s\n", dst, port, strerror(errno));
			return 1;
		}
		ips_close(fd);
		usleep(100000);
	}
	t0 = now_s();
	if (send_file) {
		int f = open(send_file, O_RDONLY);
		ssize_t n;

		if (f < 0) {
			fprintf(stderr, "ips_tcp: %s: %s\n", send_file, strerror(errno));
			return 1;
		}
		while ((n = read(f, buf, BUF)) > 0) {
			sha256_update(&h, buf, (size_t)n);
			for (ssize_t off = 0; off < n;) {
				ssize_t w = ips_send(fd, buf + off, (size_t)(n - off), 0);

				if (w < 0) {
					fprintf(stderr, "ips_tcp: send: %s\n", strerror(errno));
					return 1;
				}
				off += w;
			}
			total += (uint64_t)n;
		}
		close(f);
		/* Our end of stream; then wait for the server's, so that every byte has
		 * been acknowledged and read before we go. */
		if (ips_shutdown(fd, SHUT_WR) < 0)
			status = 1;
		while ((n = ips_recv(fd, buf, BUF, 0)) > 0)
			;
		if (n < 0) {
			fprintf(stderr, "ips_tcp: recv after shutdown: %s\n", strerror(errno));
			status = 1;
		}
	} else {
		ssize_t n;

		while ((n = ips_recv(fd, buf, BUF, 0)) > 0) {
			sha256_update(&h, buf, (size_t)n);
			total += (uint64_t)n;
		}
		if (n < 0) {
			fprintf(stderr, "ips_tcp: recv: %s\n", strerror(errno));
			status = 1;
		}
	}
	if (info) {
		struct tcp_info ti;
		socklen_t tl = sizeof(ti);
		FILE *f = fopen(info, "w");

		if (f && ips_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0)
			fprintf(f, "state %u options %u snd_wscale %u rcv_wscale %u snd_mss %u "
				   "rcv_mss %u total_retrans %u rtt_us %u\n",
				ti.tcpi_state, ti.tcpi_options, ti.tcpi_snd_wscale, ti.tcpi_rcv_wscale,
				ti.tcpi_snd_mss, ti.tcpi_rcv_mss, ti.tcpi_total_retrans, ti.tcpi_rtt);
		if (f)
			fclose(f);
	}
	/* A process that exits takes its stack with it (unlike the kernel, which keeps an
	 * orphaned connection going): linger until our FIN, and so every byte, is
	 * acknowledged. */
	struct linger lg = { 1, 60 };

	ips_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	ips_close(fd);
	t1 = now_s();	/* after the close: every byte sent has been acknowledged */

	uint8_t d[32];

	sha256_final(&h, d);
	printf("bytes %llu sha256 ", (unsigned long long)total);
	for (int i = 0; i < 32; i++)
		printf("%02x", d[i]);
	printf(" seconds %.3f mbit_per_s %.1f\n", t1 - t0,
	       t1 > t0 ? (double)total * 8 / 1e6 / (t1 - t0) : 0.0);
	free(buf);
	ips_stack_enter(NULL);
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
	return status;
}

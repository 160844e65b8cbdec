/* `ipstack ctl PATH CMD...`: look inside (and change) a running `ipstack host --ctl PATH`
 * the way `ip`, `ss`, `nstat` and `sysctl` look inside Linux. The host formats the
 * answer (tools/ctl_server.c); this side sends the words and prints what comes back:
 * output on stdout, errors on stderr, and the command's exit status. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "ctl_server.h"

#define CMD "ctl"

static void ctl_usage(FILE *f)
{
	fprintf(f,
		"usage: ipstack ctl [--json] [--timeout SEC] PATH COMMAND [ARGS...]\n"
		"Talks to `ipstack host --ctl PATH`. COMMAND is one of:\n"
		"  addr [show [dev IF]] | addr add|del A.B.C.D/LEN dev IF\n"
		"  route [show [table main|local|all]] | route add|del PREFIX [via GW] [dev IF] [metric N]\n"
		"  neigh [show [nud all]]\n"
		"  link [-s] [show [IF]] | link set IF [mtu N] [up|down]\n"
		"  ss [-t|-u|-w|-l|-a|-n|-i]\n"
		"  stat [PATTERN...]\n"
		"  sysctl [-n|-N|-q] NAME... | sysctl -a | sysctl -w NAME=VALUE...\n"
		"--json (anywhere) prints JSON. See docs/ctl.md.\n");
}

static int read_all(int fd, void *buf, size_t len, int timeout_ms)
{
	char *p = buf;

	while (len) {
		struct pollfd pf = { fd, POLLIN, 0 };
		int r = poll(&pf, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			return -errno;
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int cmd_ctl(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	unsigned timeout_s = 10;
	bool json = false;
	int i = 1, fd, rc;

	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *v;
		int r;

		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			ctl_usage(stdout);
			return CLI_EXIT_OK;
		}
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			json = true;
			continue;
		}
		if ((r = cli_opt(CMD, argc, argv, &i, "--timeout", &v)) != 0) {
			if (r < 0 || cli_parse_u32(CMD, "--timeout", v, 1, 3600, &timeout_s) < 0)
				return CLI_EXIT_USAGE;
			continue;
		}
		cli_err(CMD, "unknown option '%s' (try 'ipstack ctl --help')", argv[i]);
		return CLI_EXIT_USAGE;
	}
	if (i >= argc) {
		cli_err(CMD, "no socket path (try 'ipstack ctl --help')");
		return CLI_EXIT_USAGE;
	}
	const char *path = argv[i++];

	if (i >= argc) {
		cli_err(CMD, "no command (try 'ipstack ctl %s help')", path);
		return CLI_EXIT_USAGE;
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		cli_err(CMD, "%s: path too long for a UNIX socket", path);
		return CLI_EXIT_USAGE;
	}
	int nargs = argc - i + (json ? 1 : 0);

	if (nargs > CTL_MAX_ARGS) {
		cli_err(CMD, "too many arguments (at most %d)", CTL_MAX_ARGS);
		return CLI_EXIT_USAGE;
	}

	/* The request: magic, argc, NUL-terminated words. */
	size_t len = 8;

	for (int k = i; k < argc; k++)
		len += strlen(argv[k]) + 1;
	if (json)
		len += sizeof("--json");
	if (len > CTL_MAX_REQ) {
		cli_err(CMD, "arguments too long");
		return CLI_EXIT_USAGE;
	}
	uint8_t *req = malloc(len), *p = req + 8;

	if (!req)
		return CLI_EXIT_RUNTIME;
	memcpy(req, CTL_REQ_MAGIC, 4);
	req[4] = (uint8_t)nargs;
	req[5] = req[6] = req[7] = 0;
	if (json) {
		memcpy(p, "--json", sizeof("--json"));
		p += sizeof("--json");
	}
	for (int k = i; k < argc; k++) {
		size_t n = strlen(argv[k]) + 1;

		memcpy(p, argv[k], n);
		p += n;
	}

	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		cli_err(CMD, "cannot connect to %s: %s (is `ipstack host --ctl %s` running?)", path,
			strerror(errno), path);
		free(req);
		if (fd >= 0)
			close(fd);
		return CLI_EXIT_RUNTIME;
	}
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			cli_err(CMD, "%s: send: %s", path, strerror(errno));
			free(req);
			close(fd);
			return CLI_EXIT_RUNTIME;
		}
		off += (size_t)n;
	}
	free(req);

	/* The reply: magic, status, stdout, stderr. */
	uint8_t hdr[12];
	char *out = NULL, *err = NULL;
	uint32_t status = CLI_EXIT_RUNTIME, olen = 0, elen = 0;
	int tmo = (int)timeout_s * 1000;

	rc = read_all(fd, hdr, 12, tmo);
	if (rc == 0 && memcmp(hdr, CTL_REP_MAGIC, 4) != 0)
		rc = -EPROTO;
	if (rc == 0) {
		status = le32(hdr + 4);
		olen = le32(hdr + 8);
		out = malloc((size_t)olen + 1);
		rc = out ? read_all(fd, out, olen, tmo) : -ENOMEM;
	}
	if (rc == 0)
		rc = read_all(fd, hdr, 4, tmo);
	if (rc == 0) {
		elen = le32(hdr);
		err = malloc((size_t)elen + 1);
		rc = err ? read_all(fd, err, elen, tmo) : -ENOMEM;
	}
	close(fd);
	if (rc < 0) {
		cli_err(CMD, "%s: no answer: %s", path, strerror(-rc));
		free(out);
		free(err);
		return CLI_EXIT_RUNTIME;
	}
	fwrite(out, 1, olen, stdout);
	fflush(stdout);
	fwrite(err, 1, elen, stderr);
	free(out);
	free(err);
	return (int)status;
}

CLI_COMMAND(ctl, "look inside a running `ipstack host --ctl PATH` (addr, route, neigh, link, ss, stat, sysctl)",
	    cmd_ctl)

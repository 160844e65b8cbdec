/* `ipstack`: dispatch to a subcommand. Subcommands live in their own files and register
 * with CLI_COMMAND(), so adding one never touches this file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static struct cli_command *commands;

void cli_register(struct cli_command *cmd)
{
	/* Keep the list sorted by name so --help is stable whatever the link order. */
	struct cli_command **pp = &commands;

	while (*pp && strcmp((*pp)->name, cmd->name) < 0)
		pp = &(*pp)->next;
	cmd->next = *pp;
	*pp = cmd;
}

void cli_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ipstack%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_opt(const char *cmd, int argc, char **argv, int *i, const char *name, const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		cli_err(cmd, "option %s needs a value", name);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

int cli_parse_u32(const char *cmd, const char *opt, const char *s, unsigned long min,
		  unsigned long max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		goto bad;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v < min || v > max)
		goto bad;
	*out = (unsigned)v;
	return 0;
bad:
	cli_err(cmd, "%s: '%s' is not a number in %lu..%lu", opt, s, min, max);
	return -1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ipstack COMMAND [ARGS...]\n"
		   "       ipstack COMMAND --help\n"
		   "       ipstack --version\n\n"
		   "A userspace IPv4 network stack that behaves like Linux.\n\ncommands:\n");
	for (struct cli_command *c = commands; c; c = c->next)
		fprintf(f, "  %-8s %s\n", c->name, c->summary);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		cli_err(NULL, "no command (try 'ipstack --help')");
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("ipstack %s\n", IPSTACK_VERSION);
		return CLI_EXIT_OK;
	}
	for (struct cli_command *c = commands; c; c = c->next)
		if (!strcmp(c->name, argv[1]))
			return c->run(argc - 1, argv + 1);
	cli_err(NULL, "unknown command '%s' (try 'ipstack --help')", argv[1]);
	return CLI_EXIT_USAGE;
}

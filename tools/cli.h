/* The `ipstack` command line: subcommands register themselves (one file each: host.c,
 * and later demo.c, ctl.c, bench.c) so main.c never needs to know them by name. */
#ifndef IPS_TOOLS_CLI_H
#define IPS_TOOLS_CLI_H

#include <stdarg.h>

#define IPSTACK_VERSION "0.1.0"

/* Exit statuses shared by every subcommand. */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_RUNTIME = 1,	/* the command was fine but something failed */
	CLI_EXIT_USAGE = 2,	/* bad command line */
};

struct cli_command {
	const char *name;
	const char *summary;		/* one line for `ipstack --help` */
	int (*run)(int argc, char **argv);	/* argv[0] is the subcommand's name */
	struct cli_command *next;
};

void cli_register(struct cli_command *cmd);

/* CLI_COMMAND(host, "run one host ...", cmd_host) in a subcommand's file. */
#define CLI_COMMAND(id, text, fn)                                             \
	static struct cli_command cli_cmd_##id = { #id, text, fn, 0 };        \
	__attribute__((constructor)) static void cli_cmd_register_##id(void) \
	{                                                                     \
		cli_register(&cli_cmd_##id);                                  \
	}

/* "ipstack host: <message>" on stderr. */
void cli_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Option parsing helpers: `--name VALUE` or `--name=VALUE`. If argv[*i] is option name,
 * store its value in *val (advancing *i past a separate value) and return 1; return 0
 * if it is another option, -1 (after a message) when the value is missing. */
int cli_opt(const char *cmd, int argc, char **argv, int *i, const char *name, const char **val);
/* Parse an unsigned decimal within [min, max]; 0 or -1 (after a message). */
int cli_parse_u32(const char *cmd, const char *opt, const char *s, unsigned long min,
		  unsigned long max, unsigned *out);

#endif

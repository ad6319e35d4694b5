/* SPDX-License-Identifier: BSD-2-Clause */
/* flowctl: dispatch to a subcommand (cli/<name>.c). */
#include "cli.h"

#include "l7.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

/* observe/status may be absent from this build (weak): run is then NULL. */
static const struct command *commands(size_t *n)
{
	static struct command cmds[] = {
		{ "observe", NULL, "show flows of a running flowd, filtered like `hubble observe`" },
		{ "replay", NULL, "run the flowd pipeline on a capture file (pcap, pcapng)" },
		{ "status", NULL, "show the state of a running flowd" },
		{ "policy", NULL, "check a policy file, or load one into a running flowd" },
		{ "version", NULL, "print the version" },
		{ "help", NULL, "show help for flowctl or a subcommand" },
	};
	cmds[0].run = cmd_observe;
	cmds[1].run = cmd_replay;
	cmds[2].run = cmd_status;
	cmds[3].run = cmd_policy;
	cmds[4].run = cmd_version;
	cmds[5].run = cmd_help;
	*n = sizeof(cmds) / sizeof(cmds[0]);
	return cmds;
}

static void usage(FILE *f)
{
	size_t n;
	const struct command *c = commands(&n);
	fprintf(f,
		"flowctl - query and replay flowd network flows (Hubble flow schema)\n"
		"\n"
		"Usage: flowctl COMMAND [OPTIONS] [ARGS]\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %-9s %s%s\n", c[i].name, c[i].summary,
		        c[i].run ? "" : " (not in this build)");
	fprintf(f,
		"\n"
		"Run `flowctl COMMAND --help` (or `flowctl help COMMAND`) for the options of a command.\n"
		"Exit status: 0 success, 1 failure (input, I/O), 2 usage error.\n");
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("flowctl %s\nparsers:", FLOWCTL_VERSION);
	for (int pr = L7_PROTO_NONE + 1; pr < L7_PROTO_MAX; pr++) {
		const struct l7_parser_ops *ops = l7_parser_by_proto((enum l7_proto)pr);
		if (ops)
			printf(" %s", ops->name);
	}
	printf("\n");
	return 0;
}

static const struct command *find(const char *name)
{
	size_t n;
	const struct command *c = commands(&n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].name, name) == 0)
			return &c[i];
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	const struct command *c = find(argv[1]);
	if (!c) {
		fprintf(stderr, "flowctl: unknown command \"%s\"\n", argv[1]);
		return EXIT_USAGE;
	}
	if (!c->run) {
		fprintf(stderr, "flowctl %s: not available in this build\n", c->name);
		return 1;
	}
	char *args[] = { (char *)c->name, (char *)"--help", NULL };
	return c->run(2, args);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(name, "--version") == 0)
		return cmd_version(0, NULL);
	const struct command *c = find(name);
	if (!c) {
		fprintf(stderr, "flowctl: unknown command \"%s\" (see flowctl --help)\n", name);
		return EXIT_USAGE;
	}
	if (!c->run) {
		fprintf(stderr, "flowctl %s: not available in this build\n", c->name);
		return 1;
	}
	return c->run(argc - 1, argv + 1);
}

/* --- value parsers shared by subcommands ----------------------------------- */

int cli_parse_u64(const char *s, uint64_t *v)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

int cli_parse_duration_ns(const char *s, uint64_t *ns)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	char *end;
	errno = 0;
	double x = strtod(s, &end);
	if (errno || end == s || x < 0)
		return -1;
	double mult;
	if (!*end || strcmp(end, "s") == 0)
		mult = 1e9;
	else if (strcmp(end, "ms") == 0)
		mult = 1e6;
	else if (strcmp(end, "us") == 0)
		mult = 1e3;
	else if (strcmp(end, "ns") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0)
		mult = 60e9;
	else if (strcmp(end, "h") == 0)
		mult = 3600e9;
	else
		return -1;
	double v = x * mult;
	if (v > 1.8e19)
		return -1;
	*ns = (uint64_t)v;
	return 0;
}

int cli_parse_size(const char *s, uint64_t *bytes)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	uint64_t mult;
	if (!*end || strcmp(end, "B") == 0)
		mult = 1;
	else if (strcmp(end, "k") == 0 || strcmp(end, "K") == 0 || strcmp(end, "KiB") == 0)
		mult = 1ull << 10;
	else if (strcmp(end, "M") == 0 || strcmp(end, "MiB") == 0)
		mult = 1ull << 20;
	else if (strcmp(end, "G") == 0 || strcmp(end, "GiB") == 0)
		mult = 1ull << 30;
	else
		return -1;
	if (x > UINT64_MAX / mult)
		return -1;
	*bytes = x * mult;
	return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowctl subcommands. Each lives in its own file (cli/<name>.c) and is
 * called with argv[0] = the subcommand name. Exit status: 0 success,
 * 1 failure (bad input file, I/O), 2 usage error (bad flag or value).
 *
 * observe and status are declared weak: until their files are linked in,
 * the dispatcher says so instead of failing to link.
 */
#ifndef FLOWD_CLI_H
#define FLOWD_CLI_H

#include <stdbool.h>
#include <stdint.h>

#define FLOWCTL_VERSION "0.1.0"

#define EXIT_USAGE 2

int cmd_replay(int argc, char **argv);
int cmd_observe(int argc, char **argv) __attribute__((weak));
int cmd_status(int argc, char **argv) __attribute__((weak));
int cmd_policy(int argc, char **argv);

/* Shared value parsers for flags; 0 on success, -1 on a malformed value. */
int cli_parse_duration_ns(const char *s, uint64_t *ns);   /* "15s", "500ms", "2m", "1h", "30" (s) */
int cli_parse_size(const char *s, uint64_t *bytes);       /* "65536", "64k", "1M", "2GiB" */
int cli_parse_u64(const char *s, uint64_t *v);

/* Flags (cli/args.c). */
struct fe_printer_options;
/* "flowctl CMD: <message> (see flowctl CMD --help)" to stderr; returns
 * EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "--opt value" or "--opt=value": *matched when argv[*i] is this option
 * (then *i moves past a separate value); NULL when the value is missing. */
const char *cli_opt_value(int argc, char **argv, int *i, const char *name, bool *matched);
/* The output flags replay and observe share (-o/--output, --time-format,
 * --color, --print-node-name, --print-policy-names, --numeric): 1 when
 * argv[*i] was one (consumed), 0 when not, -EXIT_USAGE after printing the
 * usage error for a bad value. */
int cli_printer_option(const char *cmd, int argc, char **argv, int *i,
                       struct fe_printer_options *po);

#endif /* FLOWD_CLI_H */

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

#endif /* FLOWD_CLI_H */

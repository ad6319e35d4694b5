/* SPDX-License-Identifier: BSD-2-Clause */
/* Flag handling the subcommands share (cli.h). */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "printer.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "flowctl %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (see flowctl %s --help)\n", cmd);
	va_end(ap);
	return EXIT_USAGE;
}

const char *cli_opt_value(int argc, char **argv, int *i, const char *name, bool *matched)
{
	size_t n = strlen(name);
	*matched = false;
	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=') {
		*matched = true;
		return argv[*i] + n + 1;
	}
	if (argv[*i][n] != '\0')
		return NULL;
	*matched = true;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

int cli_printer_option(const char *cmd, int argc, char **argv, int *i,
                       struct fe_printer_options *po)
{
	const char *a = argv[*i], *v;
	bool m;
	if (strcmp(a, "--print-node-name") == 0) {
		po->print_node_name = true;
		return 1;
	}
	if (strcmp(a, "--print-policy-names") == 0) {
		po->print_policy_names = true;
		return 1;
	}
	if (strcmp(a, "--numeric") == 0) {
		po->numeric = true;
		return 1;
	}
	/* -o FORMAT, -oFORMAT, --output FORMAT, --output=FORMAT */
	if (strncmp(a, "-o", 2) == 0 && strncmp(a, "--", 2) != 0) {
		v = a[2] ? a + 2 : *i + 1 < argc ? argv[++*i] : NULL;
		m = true;
	} else {
		v = cli_opt_value(argc, argv, i, "--output", &m);
	}
	if (m) {
		if (!v)
			return -cli_usage_error(cmd, "%s needs a value", a);
		if (fe_output_format_parse(v, &po->format))
			return -cli_usage_error(cmd, "unknown output format \"%s\" (compact, dict, json, jsonpb, table)", v);
		return 1;
	}
	if ((v = cli_opt_value(argc, argv, i, "--time-format", &m)), m) {
		if (!v || fe_time_format_parse(v, &po->time_format))
			return -cli_usage_error(cmd, "unknown --time-format \"%s\" (StampMilli, YearMonthDay, "
			                        "YearMonthDayHour, YearMonthDayHourMinute, RFC3339, RFC3339Milli, "
			                        "RFC3339Micro, RFC3339Nano, RFC1123Z)", v ? v : "");
		return 1;
	}
	if ((v = cli_opt_value(argc, argv, i, "--color", &m)), m) {
		if (!v || fe_color_mode_parse(v, &po->color))
			return -cli_usage_error(cmd, "bad --color \"%s\" (auto, always, never)", v ? v : "");
		return 1;
	}
	return 0;
}

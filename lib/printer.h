/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Text and JSON output of events, exactly as `hubble observe` prints them
 * (../shared/reference/hubble.md §3): compact, dict, table and json/jsonpb,
 * with Hubble's time layouts, colors and terminal-escape sanitising.
 *
 *   struct fe_printer_options o = { .format = FE_OUTPUT_COMPACT };
 *   struct fe_printer *p = fe_printer_new(&o, stdout);
 *   for (each record) fe_printer_print(p, &rec);
 *   fe_printer_flush(p);        // table output is written here
 *   fe_printer_free(p);
 *
 * One printer per output stream; not thread-safe. Errors (write failures,
 * out of memory) are returned with errno set; nothing is printed to stderr.
 */
#ifndef FLOWD_PRINTER_H
#define FLOWD_PRINTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flow_event.h"
#include "flow_json.h"

enum fe_output_format {
	FE_OUTPUT_COMPACT = 0,  /* default */
	FE_OUTPUT_DICT,
	FE_OUTPUT_TABLE,        /* buffered until fe_printer_flush() */
	FE_OUTPUT_JSON,         /* "json" and "jsonpb": one GetFlowsResponse per line */
};

/* Hubble's --time-format names (layouts in Go notation, always UTC). */
enum fe_time_format {
	FE_TIME_STAMP_MILLI = 0,          /* Jan _2 15:04:05.000 (default) */
	FE_TIME_YEAR_MONTH_DAY,           /* 2006-01-02 */
	FE_TIME_YEAR_MONTH_DAY_HOUR,      /* 2006-01-02T15Z07:00 */
	FE_TIME_YEAR_MONTH_DAY_HOUR_MINUTE, /* 2006-01-02T15:04Z07:00 */
	FE_TIME_RFC3339,                  /* 2006-01-02T15:04:05Z07:00 */
	FE_TIME_RFC3339_MILLI,            /* 2006-01-02T15:04:05.999Z07:00 */
	FE_TIME_RFC3339_MICRO,            /* 2006-01-02T15:04:05.999999Z07:00 */
	FE_TIME_RFC3339_NANO,             /* 2006-01-02T15:04:05.999999999Z07:00 */
	FE_TIME_RFC1123Z,                 /* Mon, 02 Jan 2006 15:04:05 -0700 */
};

enum fe_color_mode { FE_COLOR_AUTO = 0, FE_COLOR_ALWAYS, FE_COLOR_NEVER };

/* Name parsers for the CLI flags; 0, or -1 for an unknown name.
 * Output: compact, dict, json, jsonpb, table, tab. Time formats: the names
 * above (StampMilli, RFC3339, ...; exact case). Color: auto, always, never
 * (any case). */
int fe_output_format_parse(const char *name, enum fe_output_format *out);
int fe_time_format_parse(const char *name, enum fe_time_format *out);
int fe_color_mode_parse(const char *name, enum fe_color_mode *out);
/* Help text listing the time formats, one "  Name: layout" per line. */
extern const char fe_time_format_help[];

/* Format ns since the epoch with a layout; 0 (unset) gives "N/A" like
 * Hubble's invalid timestamp. Returns the length (buf needs 40 bytes). */
size_t fe_format_time(enum fe_time_format f, uint64_t ns, char *buf, size_t size);

struct fe_printer_options {
	enum fe_output_format format;
	enum fe_time_format time_format;      /* text formats only */
	enum fe_color_mode color;             /* compact and dict only */
	bool print_node_name;                 /* --print-node-name */
	bool print_policy_names;              /* --print-policy-names */
	bool numeric;                         /* --numeric / --ip-translation=false */
	const struct fe_field_mask *field_mask; /* json only; not owned, may be NULL */
};

struct fe_printer;

/* NULL on allocation failure. Colors "auto" are on when `out` is a
 * terminal, TERM is not "dumb" and NO_COLOR is unset; table output never
 * uses colors. */
struct fe_printer *fe_printer_new(const struct fe_printer_options *opts, FILE *out);

/* Print one record (flow or lost events). 0, or -1 (errno) on a write or
 * allocation error. */
int fe_printer_print(struct fe_printer *p, const struct fe_record *rec);

/* Write what is buffered (table output) and fflush the stream. */
int fe_printer_flush(struct fe_printer *p);

/* Frees without writing; call fe_printer_flush() first. */
void fe_printer_free(struct fe_printer *p);

/* The TYPE column of a flow as Hubble's compact/dict/table show it:
 * "to-endpoint", "http-request", "dns-response proxy", "Policy denied",
 * "policy-verdict:L3-L4 INGRESS", ... Written to buf (NUL-terminated). */
void fe_flow_type_text(const struct flow_event *ev, char *buf, size_t size);

#endif /* FLOWD_PRINTER_H */

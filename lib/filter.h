/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Flow filters with Hubble's semantics (../shared/reference/hubble.md §4):
 * an allowlist and a denylist of FlowFilters; an event is shown when it
 * matches any allowlist filter (or the allowlist is empty) and no denylist
 * filter. A FlowFilter is an AND of its fields, a field an OR of its values.
 * Lost-event records always pass.
 *
 * One implementation for `flowctl replay`, `flowctl observe`, the flowd
 * socket API and the exporter's allow/deny lists:
 *
 *   struct fe_filters *f = fe_filters_new();
 *   for (int i = 1; i < argc; ) {
 *       int r = fe_filters_parse_arg(f, argc, argv, &i, err, sizeof err);
 *       if (r < 0) die(err);          // bad filter flag or value: exit 2
 *       if (r == 0) ...               // not a filter flag: the caller's own
 *   }
 *   if (fe_filters_finish(f, err, sizeof err)) die(err);
 *   ... fe_filters_match(f, &rec) ...
 *   fe_filters_free(f);
 *
 * Raw filters (--allowlist/--denylist, the exporter, the socket API) use
 * Hubble's FlowFilter JSON: {"source_ip":["10.0.0.1"],"destination_port":["80"]}.
 *
 * Deliberate differences from Hubble, documented in the README "Filters":
 * either-side flags of different kinds combine independently (--ip X
 * --port 80 means "X on either side AND port 80 on either side");
 * --verdict is case-insensitive; --dns-query is a flowd flag (FQDN glob on
 * l7.dns.query); regular expressions are POSIX extended (glibc) with RE2's
 * \d \D \s \S \w \W (?:...) and a leading (?i) translated; IP addresses
 * are compared as addresses, not as strings.
 */
#ifndef FLOWD_FILTER_H
#define FLOWD_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "flow_event.h"
#include "flow_json.h"
#include "flow_names.h"

struct fe_filters;

struct fe_filters *fe_filters_new(void);
void fe_filters_free(struct fe_filters *f);

/*
 * Command-line parsing. If argv[*i] is a filter flag ("--ip", "--ip=X",
 * "-t", "-tdrop", "--not", "--allowlist", ...), consume it and its value,
 * advance *i and return 1; return 0 (argv untouched) for anything else;
 * -1 with a message in err for a bad flag value, a missing value, a
 * conflicting combination ("filters --ip and --from-ip cannot be
 * combined") or a doubled --not.
 */
int fe_filters_parse_arg(struct fe_filters *f, int argc, char *const argv[], int *i,
                         char *err, size_t errlen);

/* The same for one flag given by name (without dashes: "ip", "not",
 * "allowlist"); value is NULL for flags without one. */
int fe_filters_set(struct fe_filters *f, const char *flag, const char *value,
                   char *err, size_t errlen);

/* Append raw FlowFilters: one JSON object or several in a row. */
int fe_filters_add_json(struct fe_filters *f, bool deny, const char *json,
                        char *err, size_t errlen);

/* End of input: a trailing --not is an error; builds the flag filters and
 * compiles everything (addresses, regexes, selectors). No more flags after
 * this. */
int fe_filters_finish(struct fe_filters *f, char *err, size_t errlen);

/* After finish. Lost events always match. */
bool fe_filters_match(const struct fe_filters *f, const struct fe_record *rec);
bool fe_filters_match_flow(const struct fe_filters *f, const struct flow_event *ev);

/* Number of allowlist / denylist FlowFilters (after finish). */
size_t fe_filters_count(const struct fe_filters *f, bool deny);

/* --print-raw-filters: Hubble's YAML ("allowlist:\n    - '{...}'\n"...,
 * "{}\n" when there are none). */
int fe_filters_to_yaml(const struct fe_filters *f, struct fe_buf *out);

/* {"allowlist":[{FlowFilter},...],"denylist":[...]} (empty lists omitted):
 * the form the flowd socket API carries. And back: fe_filters_from_json()
 * on a new filter set, then fe_filters_finish(). */
int fe_filters_to_json(const struct fe_filters *f, struct fe_buf *out);
int fe_filters_from_json(struct fe_filters *f, const char *json, size_t len,
                         char *err, size_t errlen);

/* Help text of every filter flag, for `flowctl replay/observe --help`. */
extern const char fe_filters_help[];

#endif /* FLOWD_FILTER_H */

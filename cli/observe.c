/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowctl observe: show flows of a running flowd (over its socket API) or
 * of an exported NDJSON file, with the filters, selectors and output
 * formats of `hubble observe` (../shared/reference/hubble.md §3-§4).
 */
#include "cli.h"

#include "api_client.h"
#include "filter.h"
#include "flow_json.h"
#include "printer.h"
#include "timeparse.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define usage_error(...) cli_usage_error("observe", __VA_ARGS__)

static const char observe_help_head[] =
"NAME\n"
"    flowctl observe - show network flows, filtered like `hubble observe`\n"
"\n"
"SYNOPSIS\n"
"    flowctl observe [FILTERS] [SELECTORS] [OUTPUT OPTIONS] [--socket PATH]\n"
"    flowctl observe --input-file FILE|- [FILTERS] [SELECTORS] [OUTPUT OPTIONS]\n"
"\n"
"DESCRIPTION\n"
"    Asks a running flowd, over its Unix socket, for the flows in its ring\n"
"    buffer (the last --ring-capacity events, 4095 by default) that match the\n"
"    filters, and prints them; with --follow it keeps printing new flows as\n"
"    they happen. Filtering is done by flowd. With --input-file it reads an\n"
"    exported NDJSON file instead (flowd's --export-file, `flowctl replay`\n"
"    output, `hubble observe -o json` output or a Hubble export file) and\n"
"    filters it locally: no daemon and no privileges needed.\n"
"\n"
"    Lost-event notices (\"EVENTS LOST: ...\") are never filtered out: they say\n"
"    that events are missing from what is shown, and why (source\n"
"    PERF_EVENT_RING_BUFFER: the kernel-to-flowd ring overflowed;\n"
"    OBSERVER_EVENTS_QUEUE: a flowd queue was full; HUBBLE_RING_BUFFER: this\n"
"    client read too slowly and flowd's ring overwrote events it had not sent\n"
"    yet, the count being the events matching this request that were missed).\n"
"\n"
"SELECTORS\n"
"    --last N\n"
"        The last N matching flows (default: 20 when no other selector and\n"
"        no --follow is given). Lost-event notices do not count.\n"
"    --first N\n"
"        The oldest N matching flows still in the ring. Cannot be combined\n"
"        with --last, --all or --follow.\n"
"    --all\n"
"        Every matching flow in the ring.\n"
"    -f, --follow\n"
"        Keep printing new flows until interrupted (Ctrl-C). With --last N or\n"
"        --since, the recent ones are printed first.\n"
"    --since TIME, --until TIME\n"
"        Only flows at or after / at or before TIME: a Go duration meaning\n"
"        \"ago\" (30s, 5m, 1h30m, 1.5h) or an absolute time: 2006-01-02,\n"
"        2006-01-02T15Z07:00, 2006-01-02T15:04Z07:00, RFC 3339 with optional\n"
"        fraction (2006-01-02T15:04:05.999Z07:00), RFC 1123 with numeric zone\n"
"        (Mon, 02 Jan 2006 15:04:05 -0700). --until is ignored with --follow.\n"
"\n"
"OUTPUT OPTIONS\n"
"    -o, --output FORMAT\n"
"        compact (default): one line per flow, as hubble observe prints it;\n"
"        dict: a block of KEY: value lines per flow; table (or tab): aligned\n"
"        columns, printed at the end (not with --follow); json or jsonpb: one\n"
"        JSON object per line, exactly flowd's export format (Hubble's\n"
"        GetFlowsResponse).\n"
"    --time-format NAME\n"
"        Timestamps of the text formats, in UTC (default StampMilli):\n";

static const char observe_help_mid[] =
"    --color auto|always|never\n"
"        Colors in compact and dict output (default auto: on a terminal, unless\n"
"        NO_COLOR is set or TERM is dumb).\n"
"    --print-node-name\n"
"        Show the node name of each flow.\n"
"    --print-policy-names\n"
"        Append the names of the policies that allowed or denied a flow.\n"
"    --numeric\n"
"        Show IP addresses instead of names learnt from DNS, pods or services.\n"
"    --field-mask PATH[,PATH...]\n"
"        With -o json: keep only these fields of each flow (Hubble's paths:\n"
"        time, verdict, IP, l4, source.pod_name, l7.http.url, flow_stats ...).\n"
"        Repeatable. The outer node_name/time and lost events are kept whole.\n"
"\n"
"INPUT\n"
"    --socket PATH\n"
"        flowd's socket (default " FLOWD_DEFAULT_SOCKET "). Reading it needs\n"
"        root or the socket's group (flowd --socket-group).\n"
"    --input-file FILE\n"
"        Read NDJSON events from FILE (\"-\" = standard input) instead of asking\n"
"        flowd. Without a selector every matching event is printed, in file\n"
"        order. Lines that are not valid events are reported on standard error\n"
"        with their line number and skipped. Cannot be combined with --follow\n"
"        or --socket.\n"
"    --print-raw-filters\n"
"        Print the filters as Hubble's YAML (allowlist/denylist of FlowFilter\n"
"        JSON, usable with `hubble observe --config` and as flowd's\n"
"        --export-allowlist/--export-denylist) and exit.\n"
"    -h, --help\n"
"        This text.\n"
"\n";

static const char observe_help_tail[] =
"\n"
"EXIT STATUS\n"
"    0  done (or interrupted while following).\n"
"    1  flowd could not be reached or failed, the input file could not be read\n"
"       or had invalid lines, or the output could not be written.\n"
"    2  bad option, value or combination of options.\n"
"\n"
"EXAMPLES\n"
"    flowctl observe --last 50 --protocol http\n"
"    flowctl observe -f --http-status 5+ --to-port 8080\n"
"    flowctl observe --since 5m --verdict DROPPED -o json\n"
"    flowctl observe -f --dns-query '*.example.com' --not --from-ip 198.18.0.1\n"
"    flowctl observe --input-file /var/log/flowd/events.log --ip 198.18.0.5 -o table\n"
"    flowctl observe -t l7 --print-raw-filters\n";

struct observe {
	/* options */
	struct fe_filters *filters;
	struct fe_printer_options popt;
	uint64_t last, first;
	bool all, follow, print_raw;
	uint64_t since_ns, until_ns;
	const char *socket_path, *input_file;
	const char **mask_paths;
	size_t n_mask_paths;
	struct fe_field_mask *mask;
	/* output */
	struct fe_printer *printer;
	struct fe_buf jbuf;
	bool write_failed;
	int write_errno;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void print_help(void)
{
	fputs(observe_help_head, stdout);
	/* indent the layout table like the rest */
	for (const char *p = fe_time_format_help; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		printf("      %.*s\n", (int)n, p);
		p += n + (nl ? 1 : 0);
	}
	fputs(observe_help_mid, stdout);
	fputs(fe_filters_help, stdout);
	fputs(observe_help_tail, stdout);
}

static uint64_t wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --since/--until: a Go duration ago, or an absolute time. */
static int parse_when(const char *s, uint64_t now, uint64_t *ns)
{
	int64_t d;
	if (fe_parse_go_duration(s, &d) == 0) {
		if (d < 0) /* "-5m" ago is 5 minutes ahead */
			*ns = now + (uint64_t)(-(d + 1)) + 1;
		else
			*ns = (uint64_t)d >= now ? 1 : now - (uint64_t)d;
		return 0;
	}
	if (fe_parse_time(s, ns) == 0) {
		if (*ns == 0)
			*ns = 1; /* the epoch itself still counts as set */
		return 0;
	}
	return -1;
}

static int parse_count(const char *flag, const char *v, uint64_t *out)
{
	if (!v || cli_parse_u64(v, out) || *out == 0)
		return usage_error("bad %s \"%s\": a positive number is needed", flag, v ? v : "");
	return 0;
}

/* Parse argv; returns -1 to go on, else the exit status. */
static int parse_args(struct observe *o, int argc, char **argv)
{
	char err[512];
	bool have_last = false, have_first = false;
	const char *since = NULL, *until = NULL;
	uint64_t now = wall_now();
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		bool m;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			print_help();
			return 0;
		}
		if (i == 1 && strcmp(a, "flows") == 0) /* `hubble observe flows` */
			continue;
		if (strcmp(a, "-f") == 0 || strcmp(a, "--follow") == 0) {
			o->follow = true;
			continue;
		}
		if (strcmp(a, "--all") == 0) {
			o->all = true;
			continue;
		}
		if (strcmp(a, "--print-raw-filters") == 0) {
			o->print_raw = true;
			continue;
		}
		int pr = cli_printer_option("observe", argc, argv, &i, &o->popt);
		if (pr < 0)
			return -pr;
		if (pr)
			continue;
#define VALUE_OPT(name) (v = cli_opt_value(argc, argv, &i, name, &m), m)
		if (VALUE_OPT("--last")) {
			if (parse_count("--last", v, &o->last))
				return EXIT_USAGE;
			have_last = true;
		} else if (VALUE_OPT("--first")) {
			if (parse_count("--first", v, &o->first))
				return EXIT_USAGE;
			have_first = true;
		} else if (VALUE_OPT("--since")) {
			if (!v || parse_when(v, now, &o->since_ns))
				return usage_error("bad --since \"%s\": a duration (30s, 5m, 1h30m) or a time "
				                   "(2006-01-02, 2006-01-02T15:04:05Z07:00, ...) is needed", v ? v : "");
			since = v;
		} else if (VALUE_OPT("--until")) {
			if (!v || parse_when(v, now, &o->until_ns))
				return usage_error("bad --until \"%s\": a duration (30s, 5m, 1h30m) or a time "
				                   "(2006-01-02, 2006-01-02T15:04:05Z07:00, ...) is needed", v ? v : "");
			until = v;
		} else if (VALUE_OPT("--socket")) {
			if (!v || !*v)
				return usage_error("--socket needs a path");
			o->socket_path = v;
		} else if (VALUE_OPT("--input-file")) {
			if (!v || !*v)
				return usage_error("--input-file needs a file name (or - for standard input)");
			o->input_file = v;
		} else if (VALUE_OPT("--field-mask")) {
			if (!v || !*v)
				return usage_error("--field-mask needs field paths");
			const char **np = realloc(o->mask_paths, (o->n_mask_paths + 1) * sizeof(*np));
			if (!np) {
				fprintf(stderr, "flowctl observe: out of memory\n");
				return 1;
			}
			o->mask_paths = np;
			o->mask_paths[o->n_mask_paths++] = v;
		} else {
			int r = fe_filters_parse_arg(o->filters, argc, argv, &i, err, sizeof(err));
			if (r < 0)
				return usage_error("%s", err);
			if (r == 0) {
				if (a[0] != '-')
					return usage_error("unexpected argument \"%s\"", a);
				return usage_error("unknown option \"%s\"", a);
			}
			i--; /* the filter parser moved i past its flag */
		}
#undef VALUE_OPT
	}
	if (fe_filters_finish(o->filters, err, sizeof(err)))
		return usage_error("%s", err);

	/* Hubble's rules on combinations */
	if (have_first && (have_last || o->all || o->follow))
		return usage_error("--first cannot be combined with --last, --all or --follow");
	if (o->all && have_last)
		return usage_error("--all cannot be combined with --last");
	if (o->popt.format == FE_OUTPUT_TABLE && o->follow)
		return usage_error("table output format is not compatible with follow mode");
	if (o->n_mask_paths && o->popt.format != FE_OUTPUT_JSON)
		return usage_error("--field-mask can only be used with -o json or -o jsonpb");
	if (o->input_file && o->follow)
		return usage_error("--follow cannot be used with --input-file");
	if (o->input_file && o->socket_path)
		return usage_error("--socket cannot be used with --input-file");
	if (o->since_ns && o->until_ns && o->until_ns < o->since_ns && !o->follow)
		return usage_error("--until %s is before --since %s", until, since);
	if (o->n_mask_paths &&
	    fe_field_mask_new(o->mask_paths, o->n_mask_paths, &o->mask, err, sizeof(err)))
		return usage_error("bad --field-mask: %s", err);
	if (o->all)
		o->last = UINT64_MAX;
	if (o->follow)
		o->until_ns = 0; /* Hubble ignores --until when following */
	/* the default selector (not for files: they are read whole) */
	if (!o->input_file && !have_last && !have_first && !o->all && !o->since_ns && !o->until_ns &&
	    !o->follow)
		o->last = 20;
	return -1;
}

/* --- output -------------------------------------------------------------------------- */

static bool out_failed(struct observe *o)
{
	if (!o->write_failed && ferror(stdout)) {
		o->write_failed = true;
		o->write_errno = errno;
	}
	return o->write_failed;
}

/* One record; raw: its JSON line as received, when it may be written as is. */
static void emit(struct observe *o, const struct fe_record *rec, const char *raw, size_t raw_len)
{
	if (o->write_failed)
		return;
	if (o->popt.format == FE_OUTPUT_JSON) {
		if (raw) {
			fwrite(raw, 1, raw_len, stdout);
			fputc('\n', stdout);
		} else {
			o->jbuf.len = 0;
			if (fe_record_to_json_masked(rec, o->mask, &o->jbuf) == 0)
				fwrite(o->jbuf.data, 1, o->jbuf.len, stdout);
		}
	} else if (fe_printer_print(o->printer, rec)) {
		o->write_failed = true;
		o->write_errno = errno;
	}
	out_failed(o);
}

static int finish_output(struct observe *o)
{
	if (!o->write_failed && o->printer && fe_printer_flush(o->printer)) {
		o->write_failed = true;
		o->write_errno = errno;
	}
	if (!o->write_failed && fflush(stdout)) {
		o->write_failed = true;
		o->write_errno = errno;
	}
	if (o->write_failed && o->write_errno != EPIPE) { /* `| head` is not an error */
		fprintf(stderr, "flowctl observe: writing the output failed: %s\n", strerror(o->write_errno));
		return 1;
	}
	return 0;
}

static uint64_t rec_time(const struct fe_record *rec)
{
	return rec->kind == FE_REC_FLOW ? rec->flow->time_ns : rec->time_ns;
}

/* --- --input-file ---------------------------------------------------------------------- */

/* --last N over a file: the records since the Nth-last matching flow. */
struct tail {
	struct fe_decoded *v;
	size_t n, cap, head;   /* ring of n records starting at head */
	uint64_t flows;
};

static int tail_push(struct tail *t, struct fe_decoded *d, uint64_t last)
{
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		struct fe_decoded *nv = malloc(nc * sizeof(*nv));
		if (!nv)
			return -1;
		for (size_t i = 0; i < t->n; i++)
			nv[i] = t->v[(t->head + i) % t->cap];
		free(t->v);
		t->v = nv;
		t->cap = nc;
		t->head = 0;
	}
	t->v[(t->head + t->n) % t->cap] = *d;
	t->n++;
	if (d->rec.kind == FE_REC_FLOW)
		t->flows++;
	/* drop from the front until exactly `last` flows remain after it */
	while (t->flows > last) {
		struct fe_decoded *f = &t->v[t->head];
		if (f->rec.kind == FE_REC_FLOW)
			t->flows--;
		fe_decoded_clear(f);
		t->head = (t->head + 1) % t->cap;
		t->n--;
	}
	/* once N flows are kept, notices before the first of them are older
	 * than anything shown (as when flowd rewinds its ring for --last) */
	while (t->n && t->flows == last && t->v[t->head].rec.kind != FE_REC_FLOW) {
		fe_decoded_clear(&t->v[t->head]);
		t->head = (t->head + 1) % t->cap;
		t->n--;
	}
	return 0;
}

static int observe_file(struct observe *o)
{
	FILE *in = strcmp(o->input_file, "-") == 0 ? stdin : fopen(o->input_file, "r");
	const char *name = in == stdin ? "standard input" : o->input_file;
	if (!in) {
		fprintf(stderr, "flowctl observe: %s: %s\n", o->input_file, strerror(errno));
		return 1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	uint64_t lineno = 0, bad = 0, printed_flows = 0;
	struct tail tail = { 0 };
	bool use_tail = o->last != 0;
	int rc = 0;
	while ((len = getline(&line, &cap, in)) >= 0 && !interrupted) {
		lineno++;
		size_t l = (size_t)len;
		while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
			l--;
		size_t sp = 0;
		while (sp < l && (line[sp] == ' ' || line[sp] == '\t'))
			sp++;
		if (sp == l)
			continue; /* blank */
		struct fe_decoded d;
		char err[256];
		int r = fe_json_decode(line, l, &d, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "flowctl observe: %s:%" PRIu64 ": %s\n", name, lineno, err);
			bad++;
			continue;
		}
		if (r > 0)
			continue; /* node_status, agent/debug events: not flows */
		uint64_t t = rec_time(&d.rec);
		bool keep = fe_filters_match(o->filters, &d.rec) && (!o->since_ns || t >= o->since_ns) &&
		            (!o->until_ns || t <= o->until_ns);
		if (!keep) {
			fe_decoded_clear(&d);
			continue;
		}
		if (use_tail) {
			if (tail_push(&tail, &d, o->last)) {
				fe_decoded_clear(&d);
				fprintf(stderr, "flowctl observe: out of memory\n");
				rc = 1;
				break;
			}
			continue;
		}
		emit(o, &d.rec, NULL, 0);
		if (d.rec.kind == FE_REC_FLOW)
			printed_flows++;
		fe_decoded_clear(&d);
		if (o->write_failed || (o->first && printed_flows >= o->first))
			break;
	}
	if (ferror(in)) {
		fprintf(stderr, "flowctl observe: reading %s: %s\n", name, strerror(errno));
		rc = 1;
	}
	for (size_t i = 0; i < tail.n; i++) {
		struct fe_decoded *d = &tail.v[(tail.head + i) % tail.cap];
		emit(o, &d->rec, NULL, 0);
		fe_decoded_clear(d);
	}
	free(tail.v);
	free(line);
	if (in != stdin)
		fclose(in);
	if (finish_output(o))
		rc = 1;
	if (bad) {
		fprintf(stderr, "flowctl observe: %s: %" PRIu64 " invalid line%s skipped\n", name, bad,
		        bad == 1 ? "" : "s");
		rc = 1;
	}
	return rc;
}

/* --- flowd ----------------------------------------------------------------------------- */

static int build_request(struct observe *o, struct fe_buf *req)
{
	char tmp[128];
	int rc = fe_buf_append(req, "{\"request\":\"flows\"", 18);
	if (o->last == UINT64_MAX)
		rc |= fe_buf_append(req, ",\"all\":true", 11);
	else if (o->last) {
		snprintf(tmp, sizeof(tmp), ",\"last\":%" PRIu64, o->last);
		rc |= fe_buf_append(req, tmp, strlen(tmp));
	}
	if (o->first) {
		snprintf(tmp, sizeof(tmp), ",\"first\":%" PRIu64, o->first);
		rc |= fe_buf_append(req, tmp, strlen(tmp));
	}
	if (o->follow)
		rc |= fe_buf_append(req, ",\"follow\":true", 14);
	char ts[32];
	if (o->since_ns) {
		fe_format_rfc3339(o->since_ns, ts);
		snprintf(tmp, sizeof(tmp), ",\"since\":\"%s\"", ts);
		rc |= fe_buf_append(req, tmp, strlen(tmp));
	}
	if (o->until_ns) {
		fe_format_rfc3339(o->until_ns, ts);
		snprintf(tmp, sizeof(tmp), ",\"until\":\"%s\"", ts);
		rc |= fe_buf_append(req, tmp, strlen(tmp));
	}
	if (fe_filters_count(o->filters, false) || fe_filters_count(o->filters, true)) {
		rc |= fe_buf_append(req, ",\"filters\":", 11);
		rc |= fe_filters_to_json(o->filters, req);
	}
	if (o->n_mask_paths) {
		rc |= fe_buf_append(req, ",\"field_mask\":[", 15);
		bool first = true;
		for (size_t i = 0; i < o->n_mask_paths; i++) {
			/* one path per element: split the comma lists */
			const char *p = o->mask_paths[i];
			while (*p) {
				size_t n = strcspn(p, ",");
				if (n) {
					char *one = strndup(p, n);
					if (!one)
						return -1;
					if (!first)
						rc |= fe_buf_append(req, ",", 1);
					rc |= fe_json_append_string(req, one);
					free(one);
					first = false;
				}
				p += n + (p[n] == ',');
			}
		}
		rc |= fe_buf_append(req, "]", 1);
	}
	rc |= fe_buf_append(req, "}", 1);
	rc |= fe_buf_append(req, "", 1); /* NUL */
	return rc ? -1 : 0;
}

static int observe_flowd(struct observe *o)
{
	struct fe_buf req = { 0 };
	if (build_request(o, &req)) {
		fprintf(stderr, "flowctl observe: out of memory\n");
		fe_buf_free(&req);
		return 1;
	}
	char err[512];
	struct api_conn c;
	const char *path = o->socket_path ? o->socket_path : FLOWD_DEFAULT_SOCKET;
	if (api_connect(&c, path, req.data, err, sizeof(err))) {
		fprintf(stderr, "flowctl observe: %s\n", err);
		fe_buf_free(&req);
		return 1;
	}
	fe_buf_free(&req);
	int rc = 0;
	char *line;
	size_t len;
	uint64_t bad = 0;
	for (;;) {
		/* while following, show what came before waiting for more */
		if (o->follow && c.off >= c.len) {
			if (o->printer)
				fe_printer_flush(o->printer);
			fflush(stdout);
			out_failed(o);
		}
		if (o->write_failed)
			break;
		int r = api_read_line(&c, &line, &len);
		if (r < 0) {
			if (errno == EINTR && interrupted)
				break;
			if (errno == EINTR)
				continue;
			fprintf(stderr, "flowctl observe: reading from flowd: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		if (r == 0) {
			if (o->follow && !interrupted) {
				fprintf(stderr, "flowctl observe: flowd closed the connection\n");
				rc = 1;
			}
			break;
		}
		if (api_error_line(line, err, sizeof(err))) {
			fprintf(stderr, "flowctl observe: flowd: %s\n", err);
			rc = 1;
			break;
		}
		if (o->popt.format == FE_OUTPUT_JSON) {
			emit(o, NULL, line, len);
			continue;
		}
		struct fe_decoded d;
		int dr = fe_json_decode(line, len, &d, err, sizeof(err));
		if (dr < 0) {
			if (!bad++)
				fprintf(stderr, "flowctl observe: bad line from flowd: %s\n", err);
			continue;
		}
		if (dr == 0) {
			emit(o, &d.rec, NULL, 0);
			fe_decoded_clear(&d);
		}
	}
	api_close(&c);
	if (finish_output(o))
		rc = 1;
	if (bad) {
		fprintf(stderr, "flowctl observe: %" PRIu64 " lines from flowd could not be decoded\n", bad);
		rc = 1;
	}
	return rc;
}

int cmd_observe(int argc, char **argv)
{
	struct observe o = { 0 };
	o.filters = fe_filters_new();
	if (!o.filters) {
		fprintf(stderr, "flowctl observe: out of memory\n");
		return 1;
	}
	int rc = parse_args(&o, argc, argv);
	if (rc >= 0)
		goto out;
	if (o.print_raw) {
		struct fe_buf y = { 0 };
		if (fe_filters_to_yaml(o.filters, &y) == 0)
			fwrite(y.data, 1, y.len, stdout);
		fe_buf_free(&y);
		rc = fflush(stdout) ? 1 : 0;
		goto out;
	}
	o.popt.field_mask = o.mask;
	if (o.popt.format != FE_OUTPUT_JSON) {
		o.printer = fe_printer_new(&o.popt, stdout);
		if (!o.printer) {
			fprintf(stderr, "flowctl observe: out of memory\n");
			rc = 1;
			goto out;
		}
	}
	/* Ctrl-C ends a follow cleanly (what is buffered is printed); a
	 * closed pipe is a write error handled like the end of output */
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = o.input_file ? observe_file(&o) : observe_flowd(&o);
out:
	fe_printer_free(o.printer);
	fe_filters_free(o.filters);
	fe_field_mask_free(o.mask);
	fe_buf_free(&o.jbuf);
	free(o.mask_paths);
	return rc;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowctl status: the state of a running flowd, like `hubble status`
 * (hubble.md §5.3) plus what Hubble keeps elsewhere: lost events per
 * source, BPF program run time, interfaces, the exporter.
 */
#include "cli.h"

#include "api_client.h"
#include "timeparse.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char status_help[] =
"NAME\n"
"    flowctl status - show the state of a running flowd\n"
"\n"
"SYNOPSIS\n"
"    flowctl status [-o compact|json] [--socket PATH]\n"
"\n"
"DESCRIPTION\n"
"    Asks flowd over its socket for its status and prints, like `hubble\n"
"    status`: the ring buffer's occupancy (Current/Max Flows), flows per\n"
"    second over the last minute and flows seen since start; then flowd's\n"
"    additions: uptime, lost events per source (PERF_EVENT_RING_BUFFER:\n"
"    kernel ring overflow; OBSERVER_EVENTS_QUEUE: a flowd queue was full;\n"
"    HUBBLE_RING_BUFFER: events socket clients missed because they read too\n"
"    slowly), the socket API's clients, the observed interfaces and how they\n"
"    are hooked, the BPF programs with their run count and run time (counted\n"
"    by the kernel only while kernel.bpf_stats_enabled is on: flowd\n"
"    --bpf-stats turns it on for its lifetime), the exporter and flowd's\n"
"    non-zero counters.\n"
"\n"
"OPTIONS\n"
"    -o, --output FORMAT\n"
"        compact (default) or json: the status object as flowd sent it (Hubble's\n"
"        ServerStatusResponse fields num_flows, max_flows, seen_flows,\n"
"        uptime_ns, version, flows_rate, then flowd's; see the README).\n"
"    --socket PATH\n"
"        flowd's socket (default " FLOWD_DEFAULT_SOCKET ").\n"
"    -h, --help\n"
"        This text.\n"
"\n"
"EXIT STATUS\n"
"    0  flowd answered.  1  flowd could not be reached.  2  bad option.\n"
"\n"
"EXAMPLE\n"
"    $ flowctl status\n"
"    Healthcheck (via unix://" FLOWD_DEFAULT_SOCKET "): Ok\n"
"    Current/Max Flows: 4,095/4,095 (100.00%)\n"
"    Flows/s: 45.89\n"
"    ...\n";

/* 1234567 -> "1,234,567" */
static const char *grouped(uint64_t v, char *buf, size_t size)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	size_t o = 0;
	for (int i = 0; i < n && o + 2 < size; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
	return buf;
}

/* A protojson 64-bit integer: a string, or a number; absent = 0. */
static uint64_t u64_of(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_integer(v))
		return (uint64_t)json_integer_value(v);
	if (json_is_string(v))
		return strtoull(json_string_value(v), NULL, 10);
	return 0;
}

static const char *str_of(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "";
}

static const char *human_bytes(uint64_t b, char *buf, size_t size)
{
	if (b < 1024)
		snprintf(buf, size, "%" PRIu64 " B", b);
	else if (b < (1ull << 20))
		snprintf(buf, size, "%.1f KiB", (double)b / 1024);
	else if (b < (1ull << 30))
		snprintf(buf, size, "%.1f MiB", (double)b / (1 << 20));
	else
		snprintf(buf, size, "%.2f GiB", (double)b / (1 << 30));
	return buf;
}

static void print_compact(json_t *st, const char *path)
{
	char a[32], b[32], d[40];
	uint64_t num = u64_of(st, "num_flows"), max = u64_of(st, "max_flows");
	uint64_t seen = u64_of(st, "seen_flows"), up = u64_of(st, "uptime_ns");
	printf("Healthcheck (via unix://%s): Ok\n", path);
	printf("Current/Max Flows: %s/%s (%.2f%%)\n", grouped(num, a, sizeof(a)), grouped(max, b, sizeof(b)),
	       max ? 100.0 * (double)num / (double)max : 0.0);
	/* Hubble falls back to seen/uptime when the ring has no rate */
	double rate = json_number_value(json_object_get(st, "flows_rate"));
	if (rate == 0 && up)
		rate = (double)seen / ((double)up / 1e9);
	printf("Flows/s: %.2f\n", rate);
	printf("Seen Flows: %s\n", grouped(seen, a, sizeof(a)));
	fe_format_go_duration((int64_t)(up / 1000000000ull * 1000000000ull), d, sizeof(d));
	printf("Uptime: %s\n", d);
	printf("Version: %s\n", str_of(st, "version"));

	json_t *lost = json_object_get(st, "lost_events");
	printf("Lost Events:\n");
	const char *srcs[] = { "PERF_EVENT_RING_BUFFER", "OBSERVER_EVENTS_QUEUE", "HUBBLE_RING_BUFFER" };
	for (size_t i = 0; i < 3; i++)
		printf("  %s: %s\n", srcs[i], grouped(u64_of(lost, srcs[i]), a, sizeof(a)));

	json_t *api = json_object_get(st, "api");
	if (api) {
		uint64_t cl = u64_of(api, "clients"), fr = u64_of(api, "requests_flows");
		cl = cl ? cl - 1 : 0; /* not counting this status request */
		printf("API: %s other client%s connected; %s flow request%s since start\n", grouped(cl, a, sizeof(a)),
		       cl == 1 ? "" : "s", grouped(fr, b, sizeof(b)), fr == 1 ? "" : "s");
	}

	json_t *ifs = json_object_get(st, "interfaces");
	if (json_array_size(ifs)) {
		printf("Interfaces:\n");
		size_t i;
		json_t *f;
		json_array_foreach(ifs, i, f) {
			printf("  %s (ifindex %" PRIu64 "): ingress %s, egress %s\n", str_of(f, "name"),
			       u64_of(f, "ifindex"), *str_of(f, "ingress") ? str_of(f, "ingress") : "off",
			       *str_of(f, "egress") ? str_of(f, "egress") : "off");
		}
	}

	json_t *progs = json_object_get(st, "bpf_programs");
	if (json_array_size(progs)) {
		bool on = json_is_true(json_object_get(st, "bpf_stats_enabled"));
		printf("BPF Programs (%s):\n", on ? "run time counted by the kernel"
		                                  : "run time not counted: kernel.bpf_stats_enabled=0, see flowd --bpf-stats");
		printf("  %-8s %-14s %-24s %15s %15s %10s\n", "ID", "TYPE", "NAME", "RUNS", "RUN TIME", "AVG/RUN");
		size_t i;
		json_t *p;
		json_array_foreach(progs, i, p) {
			uint64_t cnt = u64_of(p, "run_cnt"), ns = u64_of(p, "run_time_ns");
			char avg[32], tot[40];
			if (cnt)
				snprintf(avg, sizeof(avg), "%.1fns", (double)ns / (double)cnt);
			else
				snprintf(avg, sizeof(avg), "-");
			fe_format_go_duration((int64_t)ns, tot, sizeof(tot));
			printf("  %-8" PRIu64 " %-14s %-24s %15s %15s %10s\n", u64_of(p, "id"), str_of(p, "type"),
			       str_of(p, "name"), grouped(cnt, a, sizeof(a)), on || ns ? tot : "-", avg);
		}
	}

	json_t *x = json_object_get(st, "exporter");
	if (x) {
		char e[32], f[32];
		printf("Exporter: %s\n", str_of(x, "path"));
		printf("  Written: %s events (%s), Dropped: %s, Filtered: %s\n",
		       grouped(u64_of(x, "written"), a, sizeof(a)), human_bytes(u64_of(x, "bytes_written"), d, sizeof(d)),
		       grouped(u64_of(x, "dropped"), b, sizeof(b)), grouped(u64_of(x, "filtered"), e, sizeof(e)));
		uint64_t max_size = u64_of(x, "max_size");
		if (max_size && strcmp(str_of(x, "path"), "stdout") != 0) {
			uint64_t backups = u64_of(x, "max_backups");
			char keep[48];
			if (backups)
				snprintf(keep, sizeof(keep), "keep %" PRIu64 " backup%s", backups, backups == 1 ? "" : "s");
			else
				snprintf(keep, sizeof(keep), "keep all backups");
			printf("  Rotation: at %s, %s%s; %s rotation%s, current file %s\n",
			       human_bytes(max_size, d, sizeof(d)), keep,
			       json_is_true(json_object_get(x, "compress")) ? ", gzip" : "",
			       grouped(u64_of(x, "rotations"), a, sizeof(a)), u64_of(x, "rotations") == 1 ? "" : "s",
			       human_bytes(u64_of(x, "file_size"), f, sizeof(f)));
		}
		if (*str_of(x, "last_error"))
			printf("  Last error: %s\n", str_of(x, "last_error"));
	}

	json_t *cs = json_object_get(st, "counters");
	if (json_object_size(cs)) {
		bool header = false;
		const char *k;
		json_t *v;
		json_object_foreach(cs, k, v) {
			uint64_t n = u64_of(cs, k);
			if (!n)
				continue;
			if (!header)
				printf("Counters (non-zero):\n");
			header = true;
			printf("  %s: %s\n", k, grouped(n, a, sizeof(a)));
		}
	}
}

int cmd_status(int argc, char **argv)
{
	const char *path = FLOWD_DEFAULT_SOCKET;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(status_help, stdout);
			return 0;
		}
		if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--socket")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "flowctl status: %s needs a value (see flowctl status --help)\n", a);
				return EXIT_USAGE;
			}
			v = argv[++i];
		} else if (!strncmp(a, "--output=", 9)) {
			v = a + 9;
			a = "--output";
		} else if (!strncmp(a, "--socket=", 9)) {
			v = a + 9;
			a = "--socket";
		} else if (!strncmp(a, "-o", 2) && a[2]) {
			v = a + 2;
			a = "-o";
		} else {
			fprintf(stderr, "flowctl status: unknown option \"%s\" (see flowctl status --help)\n", a);
			return EXIT_USAGE;
		}
		if (!strcmp(a, "--socket")) {
			path = v;
		} else if (!strcmp(v, "json") || !strcmp(v, "jsonpb")) {
			json = true;
		} else if (!strcmp(v, "compact")) {
			json = false;
		} else {
			fprintf(stderr, "flowctl status: unknown output format \"%s\" (compact, json) "
			                "(see flowctl status --help)\n", v);
			return EXIT_USAGE;
		}
	}
	char err[512];
	struct api_conn c;
	if (api_connect(&c, path, "{\"request\":\"status\"}", err, sizeof(err))) {
		fprintf(stderr, "flowctl status: %s\n", err);
		return 1;
	}
	char *line;
	size_t len;
	int r = api_read_line(&c, &line, &len);
	if (r <= 0) {
		fprintf(stderr, "flowctl status: no answer from flowd at %s\n", path);
		api_close(&c);
		return 1;
	}
	if (api_error_line(line, err, sizeof(err))) {
		fprintf(stderr, "flowctl status: flowd: %s\n", err);
		api_close(&c);
		return 1;
	}
	int rc = 0;
	if (json) {
		printf("%s\n", line);
	} else {
		json_error_t je;
		json_t *st = json_loadb(line, len, 0, &je);
		if (!st || !json_is_object(st)) {
			fprintf(stderr, "flowctl status: bad answer from flowd: %s\n", st ? "not an object" : je.text);
			rc = 1;
		} else {
			print_compact(st, path);
		}
		json_decref(st);
	}
	api_close(&c);
	if (fflush(stdout)) {
		fprintf(stderr, "flowctl status: writing the output failed\n");
		rc = 1;
	}
	return rc;
}

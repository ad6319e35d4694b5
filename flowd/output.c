/* SPDX-License-Identifier: BSD-2-Clause */
#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct output {
	struct observer *obs;
	struct exporter *exp;
	bool to_stdout;
	char node_name[256];
	uint64_t reported_errors;     /* export write errors already logged */
	uint64_t reported_ns;
	struct output_stats stats;
};

static uint64_t wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void to_exporter(void *user, const struct fe_record *rec)
{
	exporter_write(user, rec, wall_now());
}

int output_open(const struct flowd_config *cfg, struct output **out, struct flowd_err *e)
{
	struct output *o = calloc(1, sizeof(*o));
	if (!o)
		return flowd_errf(e, -ENOMEM, "out of memory");
	if (cfg->node_name)
		snprintf(o->node_name, sizeof(o->node_name), "%s", cfg->node_name);
	else if (gethostname(o->node_name, sizeof(o->node_name) - 1))
		snprintf(o->node_name, sizeof(o->node_name), "localhost");
	char err[512];
	o->obs = observer_new(&(struct observer_config){ .capacity = cfg->ring_capacity, .node_name = o->node_name },
	                      err, sizeof(err));
	if (!o->obs) {
		free(o);
		return flowd_errf(e, -EINVAL, "--ring-capacity: %s", err);
	}
	o->to_stdout = !strcmp(cfg->export_file, "stdout") || !strcmp(cfg->export_file, "-");
	const char *mask = cfg->export_fieldmask;
	struct exporter_config xc = {
		.path = cfg->export_file,
		.max_size = o->to_stdout ? 0 : cfg->export_max_size,
		.max_backups = cfg->export_max_backups,
		.compress = cfg->export_compress,
		.allowlist = cfg->export_allowlist,
		.denylist = cfg->export_denylist,
		.field_mask = mask ? &mask : NULL,
		.n_field_mask = mask ? 1 : 0,
		.node_name = o->node_name,
	};
	o->exp = exporter_new(&xc, err, sizeof(err));
	if (!o->exp) {
		observer_free(o->obs);
		free(o);
		return flowd_errf(e, -EINVAL, "--export-file %s", err);
	}
	observer_add_sink(o->obs, to_exporter, o->exp);
	*out = o;
	return 0;
}

int output_flow(struct output *o, struct flow_event *ev)
{
	if (observer_push_flow(o->obs, ev, wall_now()))
		return -1;
	o->stats.events++;
	return 0;
}

static void update_stats(struct output *o, struct exporter_stats *st)
{
	exporter_get_stats(o->exp, st);
	o->stats.bytes_written = st->bytes_written;
	o->stats.export_written = st->written;
	o->stats.export_dropped = st->dropped;
}

void output_update_stats(struct output *o)
{
	struct exporter_stats st;
	update_stats(o, &st);
}

int output_record(struct output *o, const struct fe_record *rec)
{
	if (rec->kind != FE_REC_LOST)
		return -1;
	observer_count_lost(o->obs, rec->lost.source, rec->lost.num_events_lost,
	                    rec->time_ns ? rec->time_ns : wall_now());
	return 0;
}

int output_flush(struct output *o, struct flowd_err *e)
{
	uint64_t now = wall_now();
	observer_tick(o->obs, now);
	struct exporter_stats st;
	update_stats(o, &st);
	if (o->to_stdout && st.last_errno == EPIPE)
		return flowd_errf(e, -EPIPE, "writing events to stdout: %s", strerror(EPIPE));
	if (st.write_errors != o->reported_errors && now - o->reported_ns >= 10000000000ULL) {
		fprintf(stderr, "flowd: warning: export: %s (%llu records dropped so far)\n", st.last_error,
		        (unsigned long long)st.dropped);
		o->reported_errors = st.write_errors;
		o->reported_ns = now;
	}
	return 0;
}

void output_close(struct output *o)
{
	if (!o)
		return;
	observer_flush_lost(o->obs, wall_now()); /* losses still held back go to the export */
	exporter_free(o->exp, 5000);
	observer_free(o->obs);
	free(o);
}

const struct output_stats *output_stats(const struct output *o) { return &o->stats; }
struct observer *output_observer(struct output *o) { return o->obs; }
struct exporter *output_exporter(struct output *o) { return o->exp; }

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where flowd's events go. Today: NDJSON to stdout or appended to a file.
 * Every event passes through output_flow(), the one place where later
 * consumers (observer ring, API clients, rotating exporter) hook in.
 */
#ifndef FLOWD_OUTPUT_H
#define FLOWD_OUTPUT_H

#include <stdint.h>

#include "flow_event.h"
#include "flowd.h"

struct output;

struct output_stats {
	uint64_t events;          /* events encoded */
	uint64_t encode_errors;   /* events that could not be encoded (dropped, counted) */
	uint64_t bytes_written;
};

int output_open(const struct flowd_config *cfg, struct output **out, struct flowd_err *e);
/* Queue one event (not consumed: the caller frees it). */
int output_flow(struct output *o, const struct flow_event *ev);
/* Queue a flow or a lost-events record. */
int output_record(struct output *o, const struct fe_record *rec);
/* Write what is queued. 0, or -errno when the destination failed (e.g. a
 * closed pipe): fatal for the daemon. */
int output_flush(struct output *o, struct flowd_err *e);
void output_close(struct output *o);
const struct output_stats *output_stats(const struct output *o);

#endif /* FLOWD_OUTPUT_H */

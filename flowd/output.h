/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where flowd's events go. Every event passes through output_flow(): it
 * enters the observer ring (flowd/observer.h: what `flowctl observe`
 * reads over the socket API) and, through the ring's sink, the exporter
 * (flowd/exporter.h: NDJSON to stdout or a rotated file, written by its own
 * thread so that a slow destination never stalls the poller).
 */
#ifndef FLOWD_OUTPUT_H
#define FLOWD_OUTPUT_H

#include <stdint.h>

#include "exporter.h"
#include "flow_event.h"
#include "flowd.h"
#include "observer.h"

struct output;

struct output_stats {
	uint64_t events;          /* events that entered the ring */
	uint64_t encode_errors;   /* always 0: the exporter counts its failures as dropped */
	uint64_t bytes_written;   /* by the exporter */
	uint64_t export_written;  /* records the exporter wrote */
	uint64_t export_dropped;  /* records the exporter could not write (queue full, write error) */
};

int output_open(const struct flowd_config *cfg, struct output **out, struct flowd_err *e);
/* One event; output takes ownership of ev (freed when the ring overwrites
 * it). */
int output_flow(struct output *o, struct flow_event *ev);
/* A lost-events record (kernel ring, queue): counted at its source and
 * emitted into the ring (and the export) as one notice per source at most
 * every second (observer.h). A flow record is
 * refused (-1): flows go through output_flow(). */
int output_record(struct output *o, const struct fe_record *rec);
/* Per poll: emits due lost-event notices and checks the exporter. 0, or
 * -EPIPE when standard output was closed (fatal for the daemon: nobody
 * reads what it is for); a failing export file is reported on stderr
 * (at most every 10 s) and in `flowctl status`, not fatal. */
int output_flush(struct output *o, struct flowd_err *e);
/* Writes what the exporter still holds (5 s at most) and frees. */
void output_close(struct output *o);
/* As of the last output_flush() or output_update_stats(). */
const struct output_stats *output_stats(const struct output *o);
void output_update_stats(struct output *o);

struct observer *output_observer(struct output *o);
struct exporter *output_exporter(struct output *o);

#endif /* FLOWD_OUTPUT_H */

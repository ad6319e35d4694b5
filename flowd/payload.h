/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Live L7: consumes the TC programs' payload ring (include/payload_record.h)
 * and runs the records through the pipeline `flowctl replay` uses
 * (l7/pipeline.h), one pipeline per interface, so the same traffic gives
 * the same L7 events live and replayed. L3/L4 events come from the BPF
 * flow table (poller.c), not from here (pipeline emit_l34 = false).
 *
 * Packets the kernel could not hand over (ring full) are reported in-band
 * as Hubble lost_events, source PERF_EVENT_RING_BUFFER, at most once per
 * tick, with the exact count the kernel kept.
 *
 * In the main loop: payload_fd() is readable when records wait;
 * payload_consume() on that, payload_tick() on the poll timer, and after
 * the programs are detached payload_finish().
 */
#ifndef FLOWD_PAYLOAD_H
#define FLOWD_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "datapath.h"
#include "flowd.h"
#include "output.h"

struct payload;

struct payload_stats {
	uint64_t records;           /* records read from the ring */
	uint64_t bad_records;       /* malformed (size/length mismatch): dropped */
	uint64_t unknown_iface;     /* from an interface flowd does not observe: dropped */
	uint64_t parse_errors;      /* frames pkt_parse rejected */
	uint64_t events;            /* L7 events written */
	uint64_t kernel_lost;       /* packets lost in the kernel (ring full, copy error) */
	uint64_t lost_reported;     /* ... of which reported in lost_events so far */
	uint64_t lost_notices;      /* lost_events records written */
	uint64_t consume_batches_cut;  /* consume calls that stopped at the batch bound */
	uint64_t endpoints_marked;  /* --l7-detect: servers whose new flows are captured */
	uint64_t flows_marked;      /* --l7-detect: live flow entries turned on */
};

/* NULL *p (and 0) when L7 is off (--no-l7, or no TC programs). L7 events
 * get endpoints and the policy's L7 verdict, DNS answers feed toFQDNs and
 * the host's DNS names (enrich.h); en may be NULL (tests). */
struct enrich;
int payload_new(const struct flowd_config *cfg, struct datapath *dp, struct output *out,
                struct enrich *en, struct payload **p, struct flowd_err *e);
void payload_free(struct payload *p);

int payload_fd(const struct payload *p);
/* Read what the ring holds, at most a batch so that the loop stays
 * responsive: 1 when records are left (call again soon: the kernel does
 * not signal the fd again until the reader has caught up), 0 when the
 * ring is empty, or a negative errno. */
int payload_consume(struct payload *p, struct flowd_err *e);
/* Timeouts in the pipelines, kernel losses reported. */
int payload_tick(struct payload *p, struct flowd_err *e);
/* After the programs are detached: the rest of the ring, every
 * connection flushed (parsers emit what they hold), the last losses. */
int payload_finish(struct payload *p, struct flowd_err *e);

struct flowd_counter;
/* Append counters ("l7_*") to out[n..max); returns the new n. */
size_t payload_counters(const struct payload *p, struct flowd_counter *out, size_t n, size_t max);
const struct payload_stats *payload_stats(const struct payload *p);

#endif /* FLOWD_PAYLOAD_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The observer: flowd's in-memory ring of the last N records (flows and
 * lost-event notices interleaved), like Hubble's observer ring
 * (../shared/reference/hubble.md §7), and the readers that the socket API
 * serves from it.
 *
 *   struct observer *o = observer_new(&(struct observer_config){ .capacity = 4095 }, err, sizeof err);
 *   observer_push_flow(o, ev, now);           // takes ownership of ev
 *   observer_count_lost(o, FE_LOST_PERF_EVENT_RING_BUFFER, n, now);
 *   observer_tick(o, now);                     // emits aggregated loss notices
 *
 *   struct observer_reader *r = observer_reader_new(o, &query);
 *   while (observer_reader_next(r, &rec, now) == OBS_RECORD) ...
 *
 * Single-threaded: everything runs on flowd's event loop. A record handed
 * out by a reader stays valid until the next push.
 *
 * Capacity is 2^n-1 (1, 3, 7, ..., 4095, ..., 65535), as in Hubble; the ring
 * holds that many records and then overwrites the oldest one.
 *
 * Loss, per Hubble's three sources:
 *  - PERF_EVENT_RING_BUFFER (kernel -> user ring) and OBSERVER_EVENTS_QUEUE
 *    (a user-space queue in front of the observer): the daemon reports
 *    them with observer_count_lost(); they are aggregated and stored in the
 *    ring as one lost-events record per source at most every
 *    OBSERVER_LOST_INTERVAL_NS, like Hubble's hubble-lost-event-send-interval
 *    (OBSERVER_EVENTS_QUEUE notices carry first/last times, as Hubble's).
 *  - HUBBLE_RING_BUFFER: a reader that falls so far behind that the ring
 *    overwrites records it has not read yet. Unlike Hubble (one notice per
 *    lost slot), the reader gets one notice with the number of records it
 *    missed *that its query would have returned* (its filters and time
 *    window are applied to each record as it is overwritten), then
 *    continues with the oldest record still in the ring.
 */
#ifndef FLOWD_OBSERVER_H
#define FLOWD_OBSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_event.h"

#define OBSERVER_DEFAULT_CAPACITY 4095
#define OBSERVER_MAX_CAPACITY ((1u << 24) - 1)
#define OBSERVER_LOST_INTERVAL_NS 1000000000ull

struct observer;
struct observer_reader;

struct observer_config {
	uint32_t capacity;        /* 2^n-1; 0 = OBSERVER_DEFAULT_CAPACITY */
	const char *node_name;    /* node_name of lost-event records (copied); NULL = none */
	uint64_t start_ns;        /* wall clock at start (uptime); 0 = now */
};

/* NULL with a message in err on a bad capacity or no memory. */
struct observer *observer_new(const struct observer_config *cfg, char *err, size_t errlen);
void observer_free(struct observer *o);

/* Is n a valid capacity (2^k-1, 1 .. OBSERVER_MAX_CAPACITY)? */
bool observer_capacity_valid(uint64_t n);

/*
 * Append a flow; the observer owns ev from now on (freed when overwritten
 * or with the observer; also on failure). now_ns: wall clock of arrival
 * (drives flows/s). 0, or -1 when ev is NULL.
 */
int observer_push_flow(struct observer *o, struct flow_event *ev, uint64_t now_ns);

/* Count n events lost at source (PERF_EVENT_RING_BUFFER or
 * OBSERVER_EVENTS_QUEUE). The notice enters the ring at the next
 * observer_tick() at least OBSERVER_LOST_INTERVAL_NS after the previous
 * notice of that source. */
void observer_count_lost(struct observer *o, enum fe_lost_source source, uint64_t n, uint64_t now_ns);

/* Emit due loss notices. Call regularly (each loop iteration is fine). */
void observer_tick(struct observer *o, uint64_t now_ns);
/* Emit every pending loss notice now, whatever the interval (shutdown). */
void observer_flush_lost(struct observer *o, uint64_t now_ns);

/*
 * Sinks see every record as it enters the ring (flows and loss notices),
 * e.g. the exporter and the socket API's wake-up. At most 4. The record is
 * valid for the duration of the call.
 */
typedef void (*observer_sink_fn)(void *user, const struct fe_record *rec);
int observer_add_sink(struct observer *o, observer_sink_fn fn, void *user);

struct observer_stats {
	uint64_t num_flows;        /* records in the ring now (Hubble's num_flows) */
	uint64_t max_flows;        /* capacity */
	uint64_t seen_flows;       /* flows pushed since start */
	uint64_t seen_records;     /* flows + loss notices */
	uint64_t lost[4];          /* by enum fe_lost_source: events counted lost;
	                            * [HUBBLE_RING_BUFFER] = records readers missed */
	double flows_rate;         /* flows/s over the last minute (Hubble's rule) */
	uint64_t uptime_ns;
	size_t readers;            /* open readers */
};
void observer_get_stats(const struct observer *o, uint64_t now_ns, struct observer_stats *st);

/* --- readers --------------------------------------------------------------------- */

/* Does the query want this record? (filters; lost records should pass) */
typedef bool (*observer_match_fn)(void *user, const struct fe_record *rec);

struct observer_query {
	uint64_t last;             /* the last N matching flows (UINT64_MAX: all); 0 = unset */
	uint64_t first;            /* the first N matching flows; 0 = unset */
	bool follow;               /* then wait for new records */
	uint64_t since_ns;         /* records with time >= since; 0 = unset */
	uint64_t until_ns;         /* records with time <= until; 0 = unset (ignored with follow) */
	observer_match_fn match;   /* NULL = every record */
	void *match_user;
};

/*
 * Start a reader. Without last/first/since it starts at the newest end
 * (follow: only new records; not following: nothing). With last N it
 * starts so that N matching flows remain (loss notices do not count);
 * with first N at the oldest record; with since at the oldest record (time
 * is checked per record). Non-following readers end at the record that was
 * newest when they started. NULL on allocation failure.
 */
struct observer_reader *observer_reader_new(struct observer *o, const struct observer_query *q);
void observer_reader_free(struct observer_reader *r);

enum observer_read {
	OBS_RECORD = 1,  /* *rec is the next matching record */
	OBS_WAIT,        /* following and nothing new yet */
	OBS_DONE,        /* not following: the query is complete */
};

/* The next record for this reader. A HUBBLE_RING_BUFFER notice (filled in
 * *rec, time = now_ns) comes first when the reader has missed records. */
enum observer_read observer_reader_next(struct observer_reader *r, struct fe_record *rec, uint64_t now_ns);

/* Records that match and are ready to read (0 = nothing pending). */
bool observer_reader_pending(const struct observer_reader *r);

#endif /* FLOWD_OBSERVER_H */

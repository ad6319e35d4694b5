/* SPDX-License-Identifier: BSD-2-Clause */
#include "observer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct slot {
	struct fe_record rec;       /* rec.flow is owned (FE_REC_FLOW) */
	uint64_t ingest_ns;         /* wall clock of arrival (flows/s) */
};

struct sink {
	observer_sink_fn fn;
	void *user;
};

struct pending_lost {
	uint64_t n, first_ns, last_ns;
	uint64_t last_emit_ns;
};

struct observer {
	struct slot *slots;         /* capacity + 1 (a power of two) */
	uint64_t capacity, mask;
	uint64_t write;             /* sequence number of the next record */
	char *node_name;
	struct sink sinks[4];
	size_t n_sinks;
	struct observer_reader *readers;
	size_t n_readers;
	struct pending_lost pending[4];
	uint64_t seen_flows, seen_records, lost[4];
	uint64_t start_ns;
};

struct observer_reader {
	struct observer *o;
	struct observer_reader *prev, *next;
	struct observer_query q;
	uint64_t seq;               /* next record to examine */
	uint64_t end;               /* stop before this one (UINT64_MAX: follow) */
	uint64_t first_left;        /* --first: flows still to return */
	uint64_t missed;            /* matching records overwritten before being read */
	bool done;
};

static uint64_t wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool observer_capacity_valid(uint64_t n)
{
	return n >= 1 && n <= OBSERVER_MAX_CAPACITY && ((n + 1) & n) == 0;
}

struct observer *observer_new(const struct observer_config *cfg, char *err, size_t errlen)
{
	uint64_t cap = cfg->capacity ? cfg->capacity : OBSERVER_DEFAULT_CAPACITY;
	if (!observer_capacity_valid(cap)) {
		snprintf(err, errlen,
		         "ring capacity %llu is not 2^n-1 (1, 3, 7, ..., 4095, ..., %u)",
		         (unsigned long long)cap, OBSERVER_MAX_CAPACITY);
		return NULL;
	}
	struct observer *o = calloc(1, sizeof(*o));
	if (o)
		o->slots = calloc(cap + 1, sizeof(*o->slots));
	if (o && cfg->node_name)
		o->node_name = strdup(cfg->node_name);
	if (!o || !o->slots || (cfg->node_name && !o->node_name)) {
		snprintf(err, errlen, "out of memory for a ring of %llu records", (unsigned long long)cap);
		if (o) {
			free(o->slots);
			free(o->node_name);
		}
		free(o);
		return NULL;
	}
	o->capacity = cap;
	o->mask = cap; /* cap + 1 is a power of two */
	o->start_ns = cfg->start_ns ? cfg->start_ns : wall_now();
	return o;
}

static void slot_clear(struct slot *s)
{
	if (s->rec.kind == FE_REC_FLOW)
		flow_event_free((struct flow_event *)s->rec.flow);
	memset(s, 0, sizeof(*s));
}

void observer_free(struct observer *o)
{
	if (!o)
		return;
	/* readers outliving the observer would dangle: detach them */
	for (struct observer_reader *r = o->readers; r; r = r->next)
		r->o = NULL;
	for (uint64_t i = 0; i <= o->mask; i++)
		slot_clear(&o->slots[i]);
	free(o->slots);
	free(o->node_name);
	free(o);
}

int observer_add_sink(struct observer *o, observer_sink_fn fn, void *user)
{
	if (o->n_sinks == sizeof(o->sinks) / sizeof(o->sinks[0]))
		return -1;
	o->sinks[o->n_sinks++] = (struct sink){ fn, user };
	return 0;
}

static uint64_t oldest_seq(const struct observer *o)
{
	return o->write > o->capacity ? o->write - o->capacity : 0;
}

static uint64_t rec_time(const struct fe_record *rec)
{
	return rec->kind == FE_REC_FLOW ? rec->flow->time_ns : rec->time_ns;
}

static bool reader_wants(const struct observer_reader *r, const struct fe_record *rec)
{
	uint64_t t = rec_time(rec);
	if (r->q.since_ns && t < r->q.since_ns)
		return false;
	if (r->q.until_ns && !r->q.follow && t > r->q.until_ns)
		return false;
	return !r->q.match || r->q.match(r->q.match_user, rec);
}

/* The oldest record is about to leave the readable window: readers that
 * have not read it yet miss it. */
static void expire_oldest(struct observer *o)
{
	uint64_t seq = oldest_seq(o);
	if (o->write < o->capacity)
		return;
	const struct fe_record *rec = &o->slots[seq & o->mask].rec;
	for (struct observer_reader *r = o->readers; r; r = r->next) {
		if (r->done || r->seq != seq || seq >= r->end)
			continue;
		r->seq++;
		if (!reader_wants(r, rec))
			continue;
		r->missed++;
		o->lost[FE_LOST_HUBBLE_RING_BUFFER]++;
		if (rec->kind == FE_REC_FLOW && r->q.first && --r->first_left == 0)
			r->done = true;
	}
}

static void push(struct observer *o, const struct fe_record *rec, uint64_t now_ns)
{
	expire_oldest(o);
	struct slot *s = &o->slots[o->write & o->mask];
	slot_clear(s);
	s->rec = *rec;
	s->ingest_ns = now_ns;
	o->write++;
	o->seen_records++;
	for (size_t i = 0; i < o->n_sinks; i++)
		o->sinks[i].fn(o->sinks[i].user, &s->rec);
}

int observer_push_flow(struct observer *o, struct flow_event *ev, uint64_t now_ns)
{
	if (!ev)
		return -1;
	struct fe_record rec = { .kind = FE_REC_FLOW, .flow = ev };
	o->seen_flows++;
	push(o, &rec, now_ns);
	return 0;
}

void observer_count_lost(struct observer *o, enum fe_lost_source source, uint64_t n, uint64_t now_ns)
{
	if (n == 0 || source <= FE_LOST_UNKNOWN || source > FE_LOST_HUBBLE_RING_BUFFER)
		return;
	struct pending_lost *p = &o->pending[source];
	if (!p->n)
		p->first_ns = now_ns;
	p->last_ns = now_ns;
	p->n += n;
	o->lost[source] += n;
}

static void emit_lost(struct observer *o, uint64_t now_ns, bool force)
{
	for (int src = 1; src < 4; src++) {
		struct pending_lost *p = &o->pending[src];
		if (!p->n || (!force && p->last_emit_ns && now_ns - p->last_emit_ns < OBSERVER_LOST_INTERVAL_NS))
			continue;
		struct fe_record rec = {
			.kind = FE_REC_LOST,
			.lost = { .source = (enum fe_lost_source)src, .num_events_lost = p->n, .cpu = -1 },
			.node_name = o->node_name,
			.time_ns = now_ns,
		};
		/* Hubble gives the queue's aggregated notices first/last times;
		 * a ring-buffer notice has none */
		if (src == FE_LOST_OBSERVER_EVENTS_QUEUE) {
			rec.lost.first_ns = p->first_ns;
			rec.lost.last_ns = p->last_ns;
		}
		p->n = 0;
		p->last_emit_ns = now_ns;
		push(o, &rec, now_ns);
	}
}

void observer_tick(struct observer *o, uint64_t now_ns)
{
	emit_lost(o, now_ns, false);
}

void observer_flush_lost(struct observer *o, uint64_t now_ns)
{
	emit_lost(o, now_ns, true);
}

/* Hubble's flows_rate: flows that arrived during the last minute, divided
 * by the minute, or by the time since the oldest of them when the ring does
 * not reach back a whole minute. */
static double flows_rate(const struct observer *o, uint64_t now_ns)
{
	const uint64_t minute = 60000000000ull;
	uint64_t since = now_ns > minute ? now_ns - minute : 0;
	uint64_t count = 0, oldest_in = 0;
	bool older_seen = false;
	for (uint64_t seq = o->write; seq > oldest_seq(o); seq--) {
		const struct slot *s = &o->slots[(seq - 1) & o->mask];
		if (s->rec.kind != FE_REC_FLOW)
			continue;
		if (s->ingest_ns < since) {
			older_seen = true;
			break;
		}
		count++;
		oldest_in = s->ingest_ns;
	}
	if (!count)
		return 0;
	if (older_seen)
		return (double)count / 60.0;
	uint64_t span = now_ns > oldest_in ? now_ns - oldest_in : 0;
	if (span < 1000000000ull)
		span = 1000000000ull;
	return (double)count / ((double)span / 1e9);
}

void observer_get_stats(const struct observer *o, uint64_t now_ns, struct observer_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->num_flows = o->write - oldest_seq(o);
	st->max_flows = o->capacity;
	st->seen_flows = o->seen_flows;
	st->seen_records = o->seen_records;
	memcpy(st->lost, o->lost, sizeof(st->lost));
	st->flows_rate = flows_rate(o, now_ns);
	st->uptime_ns = now_ns > o->start_ns ? now_ns - o->start_ns : 0;
	st->readers = o->n_readers;
}

/* --- readers --------------------------------------------------------------------- */

struct observer_reader *observer_reader_new(struct observer *o, const struct observer_query *q)
{
	struct observer_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->o = o;
	r->q = *q;
	r->end = q->follow ? UINT64_MAX : o->write;
	r->first_left = q->first;
	uint64_t oldest = oldest_seq(o);
	if (q->first || (q->since_ns && !q->last)) {
		r->seq = oldest;
	} else if (q->last) {
		/* walk back until `last` matching flows lie ahead */
		uint64_t n = 0, seq = o->write;
		while (seq > oldest && n < q->last) {
			const struct fe_record *rec = &o->slots[(seq - 1) & o->mask].rec;
			if (rec->kind == FE_REC_FLOW && reader_wants(r, rec))
				n++;
			seq--;
		}
		r->seq = seq;
	} else {
		r->seq = o->write;
	}
	r->next = o->readers;
	if (o->readers)
		o->readers->prev = r;
	o->readers = r;
	o->n_readers++;
	return r;
}

void observer_reader_free(struct observer_reader *r)
{
	if (!r)
		return;
	if (r->o) {
		if (r->prev)
			r->prev->next = r->next;
		else
			r->o->readers = r->next;
		if (r->next)
			r->next->prev = r->prev;
		r->o->n_readers--;
	}
	free(r);
}

enum observer_read observer_reader_next(struct observer_reader *r, struct fe_record *rec, uint64_t now_ns)
{
	struct observer *o = r->o;
	if (r->missed) {
		*rec = (struct fe_record){
			.kind = FE_REC_LOST,
			.lost = { .source = FE_LOST_HUBBLE_RING_BUFFER, .num_events_lost = r->missed, .cpu = -1 },
			.node_name = o ? o->node_name : NULL,
			.time_ns = now_ns,
		};
		r->missed = 0;
		return OBS_RECORD;
	}
	if (!o || r->done)
		return OBS_DONE;
	uint64_t stop = o->write < r->end ? o->write : r->end;
	while (r->seq < stop) {
		const struct fe_record *s = &o->slots[r->seq & o->mask].rec;
		r->seq++;
		if (!reader_wants(r, s))
			continue;
		if (s->kind == FE_REC_FLOW && r->q.first && --r->first_left == 0)
			r->done = true;
		*rec = *s;
		return OBS_RECORD;
	}
	if (r->seq >= r->end) {
		r->done = true;
		return OBS_DONE;
	}
	return OBS_WAIT;
}

bool observer_reader_pending(const struct observer_reader *r)
{
	if (r->missed)
		return true;
	if (!r->o || r->done)
		return false;
	return r->seq < r->o->write || r->seq >= r->end;
}

/* SPDX-License-Identifier: BSD-2-Clause */
#include "poller.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "flow_l34.h"
#include "flow_table.h"

#define BATCH 1024

struct pending {
	uint64_t time_ns;          /* the event's packet time: the sort key */
	size_t seq;                /* tie-break: a flow's start before its end */
	struct ft_entry *fe;       /* its rec holds the values to report */
	enum fe_stats_event what;
};

struct poller {
	const struct flowd_config *cfg;
	struct datapath *dp;
	struct output *out;
	struct flow_table *ft;
	int fd;
	unsigned vpk;              /* values per key: CPUs for a per-CPU map */
	uint32_t gen;
	bool batch_unsupported;
	struct flow_key *keys;
	struct flow_rec *vals;     /* BATCH * vpk */
	size_t batch_cap;          /* keys the buffers hold */
	struct flow_key *dead;     /* ended this pass: removed after it */
	size_t n_dead, dead_cap;
	struct pending *pending;   /* this pass's events, emitted in time order */
	size_t n_pending, pending_cap;
	char node_name[256];
	int64_t clock_offset_ns;
	uint8_t rnd[4096];
	size_t rnd_used;
	struct poller_stats stats;
};

static uint64_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int poller_new(const struct flowd_config *cfg, struct datapath *dp, struct output *out,
               struct poller **pp, struct flowd_err *e)
{
	struct poller *p = calloc(1, sizeof(*p));
	if (!p)
		return flowd_errf(e, -ENOMEM, "out of memory");
	p->cfg = cfg;
	p->dp = dp;
	p->out = out;
	p->fd = datapath_flows_fd(dp);
	p->vpk = datapath_values_per_key(dp);
	p->batch_cap = BATCH;
	p->ft = ft_new(1024);
	p->keys = calloc(p->batch_cap, sizeof(*p->keys));
	p->vals = calloc(p->batch_cap * p->vpk, sizeof(*p->vals));
	if (!p->ft || !p->keys || !p->vals) {
		poller_free(p);
		return flowd_errf(e, -ENOMEM, "out of memory");
	}
	if (cfg->node_name)
		snprintf(p->node_name, sizeof(p->node_name), "%s", cfg->node_name);
	else if (gethostname(p->node_name, sizeof(p->node_name) - 1))
		snprintf(p->node_name, sizeof(p->node_name), "localhost");
	p->rnd_used = sizeof(p->rnd);
	p->clock_offset_ns = flow_clock_offset_ns();
	*pp = p;
	return 0;
}

void poller_free(struct poller *p)
{
	if (!p)
		return;
	ft_free(p->ft);
	free(p->keys);
	free(p->vals);
	free(p->dead);
	free(p->pending);
	free(p);
}

const struct poller_stats *poller_stats(const struct poller *p) { return &p->stats; }

static void make_uuid(struct poller *p, char out[37])
{
	if (p->rnd_used + 16 > sizeof(p->rnd)) {
		if (getrandom(p->rnd, sizeof(p->rnd), 0) != (ssize_t)sizeof(p->rnd)) {
			/* No entropy: still unique per run, just predictable. */
			for (size_t i = 0; i < sizeof(p->rnd); i++)
				p->rnd[i] = (uint8_t)(rand() >> 7);
		}
		p->rnd_used = 0;
	}
	flow_uuid_v4(p->rnd + p->rnd_used, out);
	p->rnd_used += 16;
}

static void merge_values(const struct poller *p, const struct flow_rec *v, struct flow_rec *out)
{
	if (p->vpk == 1) {
		*out = *v;
		return;
	}
	memset(out, 0, sizeof(*out));
	for (unsigned c = 0; c < p->vpk; c++)
		flow_rec_merge(out, &v[c]);
}

/* The record of the reverse direction, if flowd tracks it: on one interface
 * the reply leaves through the other hook; across interfaces (a router)
 * it may arrive at the same hook of another interface, which a flow key
 * cannot tell, so only the same interface is searched. */
static const struct flow_rec *reverse_rec(struct poller *p, const struct flow_key *k)
{
	struct flow_key r;
	if (!flow_key_reverse(k, &r))
		return NULL;
	r.direction = k->direction == FLOW_DIR_INGRESS ? FLOW_DIR_EGRESS : FLOW_DIR_INGRESS;
	struct ft_entry *e = ft_find(p->ft, &r);
	if (!e) {
		r.direction = k->direction; /* ingress-only (--no-tc): both ways at ingress */
		e = ft_find(p->ft, &r);
	}
	return e ? &e->rec : NULL;
}

static void emit(struct poller *p, struct ft_entry *e, enum fe_stats_event what, const struct flow_rec *rec)
{
	char uuid[37];
	make_uuid(p, uuid);
	struct flow_l34_opts o = {
		.node_name = p->node_name,
		.ifname = datapath_ifname(p->dp, e->key.ifindex),
		.clock_offset_ns = p->clock_offset_ns,
		.uuid = uuid,
	};
	struct flow_event *ev = flow_event_new();
	if (!ev || flow_l34_event(ev, what, &e->key, rec, reverse_rec(p, &e->key), &o)) {
		p->stats.event_errors++;
		flow_event_free(ev);
		return;
	}
	/* One answer per flow: later events keep what the start event said,
	 * unless it did not know. */
	if (what == FE_STATS_START || e->is_reply < 0)
		e->is_reply = ev->is_reply;
	ev->is_reply = e->is_reply;
	ev->reply = e->is_reply == 1;
	output_flow(p->out, ev);
	flow_event_free(ev);
}

/* Room for every entry is reserved before a pass (reserve_dead), so this
 * cannot fail mid-pass. */
static void mark_dead(struct poller *p, struct ft_entry *e)
{
	p->dead[p->n_dead++] = e->key;
	e->dead = true;
}

static int reserve_pass(struct poller *p)
{
	size_t need = ft_count(p->ft);
	if (need > p->dead_cap) {
		size_t cap = p->dead_cap ? p->dead_cap : 256;
		while (cap < need)
			cap *= 2;
		struct flow_key *d = realloc(p->dead, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		p->dead = d;
		p->dead_cap = cap;
	}
	need *= 2; /* start + update/end */
	if (need > p->pending_cap) {
		size_t cap = p->pending_cap ? p->pending_cap : 512;
		while (cap < need)
			cap *= 2;
		struct pending *q = realloc(p->pending, cap * sizeof(*q));
		if (!q)
			return -ENOMEM;
		p->pending = q;
		p->pending_cap = cap;
	}
	return 0;
}

static void queue(struct poller *p, struct ft_entry *fe, enum fe_stats_event what)
{
	struct pending *q = &p->pending[p->n_pending];
	q->time_ns = what == FE_STATS_START ? fe->rec.first_seen_ns : fe->rec.last_seen_ns;
	q->seq = p->n_pending++;
	q->fe = fe;
	q->what = what;
}

static int pending_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	if (x->time_ns != y->time_ns)
		return x->time_ns < y->time_ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Store one value read from the kernel. */
static int absorb(struct poller *p, const struct flow_key *k, const struct flow_rec *v)
{
	struct flow_rec rec;
	merge_values(p, v, &rec);
	if (!rec.packets)
		return 0; /* created and not yet filled on any CPU */
	bool created;
	struct ft_entry *e = ft_upsert(p->ft, k, &created);
	if (!e)
		return -ENOMEM;
	e->rec = rec;
	e->seen_gen = p->gen;
	if (created)
		e->is_reply = -1;
	return 0;
}

/* Read the whole map: batch lookups, or key iteration where batches are
 * not supported. A flow inserted while we read may be missed: it is found
 * on the next pass. */
static int read_map(struct poller *p, struct flowd_err *e)
{
	if (!p->batch_unsupported) {
		uint8_t in_batch[sizeof(struct flow_key)], out_batch[sizeof(struct flow_key)];
		bool first = true;
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		for (;;) {
			uint32_t count = (uint32_t)p->batch_cap;
			int err = bpf_map_lookup_batch(p->fd, first ? NULL : in_batch, out_batch, p->keys,
			                               p->vals, &count, &opts);
			if (err && errno == ENOSPC && count == 0) {
				/* A hash bucket holds more than the buffer: grow. */
				size_t cap = p->batch_cap * 2;
				struct flow_key *k = realloc(p->keys, cap * sizeof(*k));
				if (k)
					p->keys = k;
				struct flow_rec *v = realloc(p->vals, cap * p->vpk * sizeof(*v));
				if (v)
					p->vals = v;
				if (!k || !v)
					return flowd_errf(e, -ENOMEM, "out of memory");
				p->batch_cap = cap;
				continue;
			}
			if (err && errno != ENOENT) {
				if (first && (errno == EINVAL || errno == ENOTSUP || errno == EOPNOTSUPP)) {
					p->batch_unsupported = true;
					break;
				}
				p->stats.map_read_errors++;
				return flowd_errf(e, -errno, "reading the flow map: %s", strerror(errno));
			}
			for (uint32_t i = 0; i < count; i++)
				if (absorb(p, &p->keys[i], &p->vals[(size_t)i * p->vpk]))
					return flowd_errf(e, -ENOMEM, "out of memory");
			if (err) /* ENOENT: that was the last batch */
				return 0;
			memcpy(in_batch, out_batch, sizeof(in_batch));
			first = false;
		}
	}
	struct flow_key key, next;
	struct flow_key *prev = NULL;
	while (!bpf_map_get_next_key(p->fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(p->fd, &key, p->vals))
			continue; /* deleted meanwhile */
		if (absorb(p, &key, p->vals))
			return flowd_errf(e, -ENOMEM, "out of memory");
	}
	return 0;
}

int poller_poll(struct poller *p, bool final, struct flowd_err *e)
{
	uint64_t t0 = mono_now();
	p->gen++;
	/* One offset for the daemon's life, so a flow's times agree across
	 * its events; re-read only when the wall clock was stepped. */
	int64_t off = flow_clock_offset_ns();
	if (llabs(off - p->clock_offset_ns) > 1000000)
		p->clock_offset_ns = off;
	int err = read_map(p, e);
	if (err)
		return err;
	if (reserve_pass(p))
		return flowd_errf(e, -ENOMEM, "out of memory");
	uint64_t now = mono_now();
	const struct flowd_config *cfg = p->cfg;

	for (size_t i = 0; i < ft_slots(p->ft); i++) {
		struct ft_entry *fe = ft_slot(p->ft, i);
		if (!fe || fe->dead)
			continue;
		if (!fe->started) {
			queue(p, fe, FE_STATS_START);
			fe->started = true;
			fe->last_report_ns = now;
			fe->reported_packets = fe->rec.packets;
			p->stats.flows_started++;
		}
		if (fe->seen_gen != p->gen) {
			/* Removed behind our back (LRU eviction, someone else):
			 * end it with the last counts we read. */
			queue(p, fe, FE_STATS_END);
			p->stats.flows_vanished++;
			p->stats.flows_ended++;
			mark_dead(p, fe);
			continue;
		}
		bool idle = fe->rec.last_seen_ns + cfg->idle_timeout_ns <= now;
		if (final || idle) {
			struct flow_rec last = fe->rec;
			if (!final) {
				/* Take the entry out and read its final values in
				 * one step: a packet after this creates a new flow. */
				struct flow_rec v[p->vpk];
				if (!bpf_map_lookup_and_delete_elem(p->fd, &fe->key, v))
					merge_values(p, v, &last);
				if (last.packets < fe->rec.packets)
					last = fe->rec; /* never report less than before */
			}
			fe->rec = last; /* the entry is done: keep the final values */
			queue(p, fe, FE_STATS_END);
			p->stats.flows_ended++;
			mark_dead(p, fe);
			continue;
		}
		if (fe->last_report_ns + cfg->active_timeout_ns <= now &&
		    fe->rec.packets != fe->reported_packets) {
			queue(p, fe, FE_STATS_UPDATE);
			fe->last_report_ns = now;
			fe->reported_packets = fe->rec.packets;
			p->stats.flows_updated++;
		}
	}
	/* Within a pass, events go out in packet-time order. */
	qsort(p->pending, p->n_pending, sizeof(*p->pending), pending_cmp);
	for (size_t i = 0; i < p->n_pending; i++)
		emit(p, p->pending[i].fe, p->pending[i].what, &p->pending[i].fe->rec);
	p->n_pending = 0;
	for (size_t i = 0; i < p->n_dead; i++)
		ft_remove(p->ft, &p->dead[i]);
	p->n_dead = 0;
	p->stats.polls++;
	p->stats.flows_active = ft_count(p->ft);
	p->stats.last_poll_ns = mono_now() - t0;
	return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The poller reads the kernel flow table (include/flow_table.h: mmapped
 * arrays written by the BPF programs) in place, keeps its own view of the
 * live flows (flow_cache.h) and turns changes into events.
 *
 * Ending an idle flow follows the table's eviction protocol: the flow's
 * slots are marked EVICT (packets stop matching them; a new packet of the
 * same key starts a new flow in a free slot), and one poll later, after at
 * least FLOW_EVICT_GRACE_NS, their final values are read and the slots
 * freed. So the end event carries every packet the kernel counted into the
 * flow, including those that raced with the decision to end it.
 */
#include "poller.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "enrich.h"
#include "flow_cache.h"
#include "flow_l34.h"
#include "flow_table.h"

#define EVICT_SLOTS 8 /* copies of one key the table may hold (CPUs racing on insert) */

/* A flow being ended: its slots are EVICT, its end event is due once the
 * grace period has passed. */
struct evicting {
	struct flow_key key;
	struct flow_rec rec;        /* values when eviction began, then final */
	uint64_t begin_ns;
	uint32_t slot[EVICT_SLOTS]; /* bucket * FLOW_BUCKET_WAYS + way */
	uint32_t n_slots;
	int8_t is_reply;
};

struct evict_list {
	struct evicting *v;
	size_t n, cap;
};

/* An event of this pass; emitted in packet-time order. */
struct pending {
	uint64_t time_ns;
	size_t seq;                 /* tie-break: a flow's start before its end */
	const struct flow_key *key;
	const struct flow_rec *rec;
	int8_t *is_reply;
	enum fe_stats_event what;
	bool verdict_only;          /* a flow judged again (policy reload): its policy-verdict event */
};

struct poller {
	const struct flowd_config *cfg;
	struct datapath *dp;
	struct output *out;
	struct enrich *en;
	struct flow_table *table;
	const struct flow_table_cfg *table_cfg;
	struct flow_cache *fc;
	uint32_t gen;
	struct evict_list evict_prev;  /* begun last pass: finished in this one */
	struct evict_list evict_now;   /* begun in this pass */
	struct flow_key *dead;         /* cache entries to remove after the pass */
	size_t n_dead, dead_cap;
	struct pending *pending;
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
               struct enrich *en, struct poller **pp, struct flowd_err *e)
{
	struct poller *p = calloc(1, sizeof(*p));
	if (!p)
		return flowd_errf(e, -ENOMEM, "out of memory");
	p->cfg = cfg;
	p->dp = dp;
	p->out = out;
	p->en = en;
	p->table = datapath_table(dp);
	p->table_cfg = datapath_table_cfg(dp);
	p->fc = fc_new(1024);
	if (!p->fc) {
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
	fc_free(p->fc);
	free(p->evict_prev.v);
	free(p->evict_now.v);
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

/* The record of the reverse direction, if flowd tracks it: on one interface
 * the reply leaves through the other hook; across interfaces (a router) it
 * may arrive at another interface, which a flow key cannot tell, so only
 * the same interface is searched. */
static const struct flow_rec *reverse_rec(struct poller *p, const struct flow_key *k)
{
	struct flow_key r;
	if (!flow_key_reverse(k, &r))
		return NULL;
	r.direction = k->direction == FLOW_DIR_INGRESS ? FLOW_DIR_EGRESS : FLOW_DIR_INGRESS;
	struct fc_entry *e = fc_find(p->fc, &r);
	if (!e) {
		r.direction = k->direction; /* ingress only (--no-tc): both ways at ingress */
		e = fc_find(p->fc, &r);
	}
	return e ? &e->rec : NULL;
}

static struct flow_event *build(struct poller *p, const struct pending *q)
{
	char uuid[37];
	make_uuid(p, uuid);
	struct flow_l34_opts o = {
		.node_name = p->node_name,
		.ifname = datapath_ifname(p->dp, q->key->ifindex),
		.clock_offset_ns = p->clock_offset_ns,
		.uuid = uuid,
	};
	struct flow_event *ev = flow_event_new();
	if (!ev || flow_l34_event(ev, q->what, q->key, q->rec, reverse_rec(p, q->key), &o)) {
		p->stats.event_errors++;
		flow_event_free(ev);
		return NULL;
	}
	return ev;
}

/* A policy-verdict or TRANSLATED event of the flow (make: an enrich_*
 * function), written when the flow has one. */
static void emit_extra(struct poller *p, const struct pending *q,
                       bool (*make)(struct enrich *, struct flow_event *, const struct flow_key *,
                                    const struct flow_rec *))
{
	struct flow_event *ev = build(p, q);
	if (ev && make(p->en, ev, q->key, q->rec))
		output_flow(p->out, ev); /* takes ev */
	else
		flow_event_free(ev);
}

static bool translated(struct enrich *en, struct flow_event *ev, const struct flow_key *key,
                       const struct flow_rec *rec)
{
	(void)rec;
	return enrich_translated(en, ev, key);
}

static void emit(struct poller *p, const struct pending *q)
{
	if (p->en && (q->what == FE_STATS_START || q->verdict_only))
		emit_extra(p, q, enrich_policy_verdict);
	if (q->verdict_only)
		return;
	if (p->en && q->what == FE_STATS_START)
		emit_extra(p, q, translated);
	struct flow_event *ev = build(p, q);
	if (!ev)
		return;
	/* One answer per flow: later events keep what the start event said,
	 * unless it did not know. */
	if (q->what == FE_STATS_START || *q->is_reply < 0)
		*q->is_reply = ev->is_reply;
	ev->is_reply = *q->is_reply;
	ev->reply = *q->is_reply == 1;
	if (p->en)
		enrich_l34(p->en, ev, q->key, q->rec);
	output_flow(p->out, ev); /* takes ev */
}

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 256;
	while (c < need)
		c *= 2;
	void *n = realloc(*v, c * size);
	if (!n)
		return -ENOMEM;
	*v = n;
	*cap = c;
	return 0;
}

/* Room for everything a pass may add, reserved up front: pointers into
 * these arrays stay valid through the pass. */
static int reserve_pass(struct poller *p)
{
	size_t n = fc_count(p->fc);
	if (grow((void **)&p->dead, &p->dead_cap, n, sizeof(*p->dead)) ||
	    grow((void **)&p->evict_now.v, &p->evict_now.cap, n, sizeof(*p->evict_now.v)) ||
	    grow((void **)&p->pending, &p->pending_cap, 3 * n + p->evict_prev.n, sizeof(*p->pending)))
		return -ENOMEM;
	return 0;
}

static void queue(struct poller *p, const struct flow_key *key, const struct flow_rec *rec,
                  int8_t *is_reply, enum fe_stats_event what)
{
	struct pending *q = &p->pending[p->n_pending];
	q->time_ns = what == FE_STATS_START ? rec->first_seen_ns : rec->last_seen_ns;
	q->seq = p->n_pending++;
	q->key = key;
	q->rec = rec;
	q->is_reply = is_reply;
	q->what = what;
	q->verdict_only = false;
}

static int pending_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	if (x->time_ns != y->time_ns)
		return x->time_ns < y->time_ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Read every published slot; a key in several slots (CPUs that inserted
 * the same new flow at once) is merged. */
static int scan_table(struct poller *p)
{
	const struct flow_table *t = p->table;
	for (uint32_t b = 0; b < t->buckets; b++) {
		for (int i = 0; i < FLOW_BUCKET_WAYS; i++) {
			if (!flow_sig_in_use(flow_table_sig(t, b, i)))
				continue;
			const struct flow_entry *fe = flow_table_entry(t, b, i);
			struct flow_rec one;
			flow_entry_read(fe, &one);
			if (!one.packets)
				continue;
			bool created;
			struct fc_entry *e = fc_upsert(p->fc, &fe->key, &created);
			if (!e)
				return -ENOMEM;
			if (created)
				e->is_reply = -1;
			if (e->seen_gen != p->gen) {
				e->rec = one;
				e->seen_gen = p->gen;
			} else {
				flow_rec_merge(&e->rec, &one);
			}
		}
	}
	return 0;
}

/* Eviction step 1 for every slot holding e's key. */
static void evict_begin(struct poller *p, struct fc_entry *e, uint64_t now)
{
	struct evicting *v = &p->evict_now.v[p->evict_now.n++];
	memset(v, 0, sizeof(*v));
	v->key = e->key;
	v->rec = e->rec;
	v->is_reply = e->is_reply;
	v->begin_ns = now;
	__u64 w[FLOW_KEY_WORDS];
	struct flow_hash h;
	memcpy(w, &e->key, sizeof(w));
	flow_table_hash(p->table_cfg, w, &h);
	for (int c = 0; c < 2; c++) {
		uint32_t b = c ? h.b : h.a;
		for (int i = 0; i < FLOW_BUCKET_WAYS && v->n_slots < EVICT_SLOTS; i++) {
			if (flow_table_sig(p->table, b, i) != h.sig ||
			    memcmp(&flow_table_entry(p->table, b, i)->key, &e->key, sizeof(e->key)))
				continue;
			if (flow_slot_evict_begin(p->table, b, i, h.sig))
				v->slot[v->n_slots++] = b * FLOW_BUCKET_WAYS + (uint32_t)i;
		}
	}
}

/* Eviction step 2: the final values, then the slots are free again. */
static void evict_finish(struct poller *p, struct evicting *v)
{
	struct flow_rec final = { 0 };
	for (uint32_t s = 0; s < v->n_slots; s++) {
		uint32_t b = v->slot[s] / FLOW_BUCKET_WAYS;
		int i = (int)(v->slot[s] % FLOW_BUCKET_WAYS);
		struct flow_rec one;
		flow_entry_read(flow_table_entry(p->table, b, i), &one);
		flow_rec_merge(&final, &one);
		flow_slot_free(p->table, b, i);
	}
	if (final.packets >= v->rec.packets)
		v->rec = final;
}

int poller_poll(struct poller *p, bool final, struct flowd_err *e)
{
	uint64_t t0 = mono_now();
	const struct flowd_config *cfg = p->cfg;
	/* One offset for the daemon's life, so a flow's times agree across
	 * its events; re-read only when the wall clock was stepped. */
	int64_t off = flow_clock_offset_ns();
	if (llabs(off - p->clock_offset_ns) > 1000000)
		p->clock_offset_ns = off;

	/* Evictions begun last pass: wait out the grace period (the poll
	 * interval is at least as long, so normally no wait), finish them. */
	if (p->evict_prev.n && !final) {
		uint64_t due = p->evict_prev.v[p->evict_prev.n - 1].begin_ns + FLOW_EVICT_GRACE_NS;
		uint64_t now = mono_now();
		if (now < due) {
			struct timespec ts = { 0, (long)(due - now) };
			nanosleep(&ts, NULL);
		}
	}
	for (size_t i = 0; i < p->evict_prev.n; i++)
		evict_finish(p, &p->evict_prev.v[i]);

	p->gen++;
	if (scan_table(p))
		return flowd_errf(e, -ENOMEM, "out of memory");
	if (reserve_pass(p))
		return flowd_errf(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < p->evict_prev.n; i++) {
		struct evicting *v = &p->evict_prev.v[i];
		queue(p, &v->key, &v->rec, &v->is_reply, FE_STATS_END);
		p->stats.flows_ended++;
	}
	uint64_t now = mono_now();
	for (size_t i = 0; i < fc_slots(p->fc); i++) {
		struct fc_entry *fe = fc_slot(p->fc, i);
		if (!fe)
			continue;
		if (!fe->started) {
			queue(p, &fe->key, &fe->rec, &fe->is_reply, FE_STATS_START);
			fe->started = true;
			fe->last_report_ns = now;
			fe->reported_packets = fe->rec.packets;
			fe->policy_gen = fe->rec.policy.gen;
			p->stats.flows_started++;
		} else if (fe->rec.policy.gen != fe->policy_gen && fe->seen_gen == p->gen) {
			/* judged again under a new policy: say what it decided */
			fe->policy_gen = fe->rec.policy.gen;
			queue(p, &fe->key, &fe->rec, &fe->is_reply, FE_STATS_UPDATE);
			p->pending[p->n_pending - 1].verdict_only = true;
		}
		if (fe->seen_gen != p->gen || final) {
			/* At shutdown (programs detached, values final), or a
			 * flow gone from the table without us: end it with the
			 * values read. */
			queue(p, &fe->key, &fe->rec, &fe->is_reply, FE_STATS_END);
			p->stats.flows_ended++;
			p->stats.flows_vanished += fe->seen_gen != p->gen;
			p->dead[p->n_dead++] = fe->key;
			continue;
		}
		if (fe->rec.last_seen_ns + cfg->idle_timeout_ns <= now) {
			evict_begin(p, fe, now);
			p->dead[p->n_dead++] = fe->key;
			continue;
		}
		if (fe->last_report_ns + cfg->active_timeout_ns <= now &&
		    fe->rec.packets != fe->reported_packets) {
			queue(p, &fe->key, &fe->rec, &fe->is_reply, FE_STATS_UPDATE);
			fe->last_report_ns = now;
			fe->reported_packets = fe->rec.packets;
			p->stats.flows_updated++;
		}
	}

	/* Events of this pass in packet-time order, then the bookkeeping. */
	qsort(p->pending, p->n_pending, sizeof(*p->pending), pending_cmp);
	for (size_t i = 0; i < p->n_pending; i++)
		emit(p, &p->pending[i]);
	p->n_pending = 0;
	for (size_t i = 0; i < p->n_dead; i++)
		fc_remove(p->fc, &p->dead[i]);
	p->n_dead = 0;
	struct evict_list done = p->evict_prev;
	p->evict_prev = p->evict_now;
	p->evict_now = done;
	p->evict_now.n = 0;
	p->stats.polls++;
	p->stats.flows_active = fc_count(p->fc) + p->evict_prev.n;
	p->stats.last_poll_ns = mono_now() - t0;
	return 0;
}

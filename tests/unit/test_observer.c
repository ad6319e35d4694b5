/* The observer ring (flowd/observer.c): capacity rules, --first/--last/
 * --since/--until/--follow readers, filters applied while rewinding,
 * HUBBLE_RING_BUFFER losses of a reader that falls behind (exact counts,
 * filters applied to what it missed), aggregated PERF/queue loss notices,
 * flows/s, sinks. */
#include "check.h"
#include "../../flowd/observer.h"

#include <stdlib.h>
#include <string.h>

#define SEC 1000000000ull
#define T0 (1739527200ull * SEC) /* 2025-02-14T10:00:00Z */

/* A flow numbered n: time T0 + n s, source port n. */
static struct flow_event *flow(unsigned n)
{
	struct flow_event *ev = flow_event_new();
	ev->time_ns = T0 + n * SEC;
	ev->l4 = FE_L4_TCP;
	ev->sport = (uint16_t)n;
	ev->type = FE_TYPE_L3_L4;
	return ev;
}

static void push_range(struct observer *o, unsigned from, unsigned to)
{
	for (unsigned n = from; n <= to; n++)
		observer_push_flow(o, flow(n), T0 + n * SEC);
}

/* Read everything available; returns "3,4,5" (flows by port, lost as
 * "L<source>:<count>"), and the final state in *end. */
static const char *drain(struct observer_reader *r, enum observer_read *end)
{
	static char out[4096];
	size_t len = 0;
	struct fe_record rec;
	enum observer_read st;
	out[0] = '\0';
	while ((st = observer_reader_next(r, &rec, T0 + 1000 * SEC)) == OBS_RECORD) {
		if (rec.kind == FE_REC_FLOW)
			len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%u", len ? "," : "",
			                        rec.flow->sport);
		else
			len += (size_t)snprintf(out + len, sizeof(out) - len, "%sL%d:%llu", len ? "," : "",
			                        rec.lost.source, (unsigned long long)rec.lost.num_events_lost);
	}
	if (end)
		*end = st;
	return out;
}

static const char *query(struct observer *o, struct observer_query q, enum observer_read *end)
{
	struct observer_reader *r = observer_reader_new(o, &q);
	const char *s = drain(r, end);
	observer_reader_free(r);
	return s;
}

static bool even_port(void *user, const struct fe_record *rec)
{
	(void)user;
	return rec->kind != FE_REC_FLOW || rec->flow->sport % 2 == 0;
}

static struct observer *mk(uint32_t cap)
{
	char err[200];
	struct observer *o = observer_new(&(struct observer_config){ .capacity = cap, .node_name = "node1",
	                                                              .start_ns = T0 },
	                                  err, sizeof(err));
	if (!o)
		printf("observer_new(%u): %s\n", cap, err);
	return o;
}

static void test_capacity(void)
{
	char err[200];
	CHECK("capacity 4095 valid", observer_capacity_valid(4095));
	CHECK("capacity 1 valid", observer_capacity_valid(1));
	CHECK("capacity 65535 valid", observer_capacity_valid(65535));
	CHECK("capacity 4096 invalid", !observer_capacity_valid(4096));
	CHECK("capacity 0 invalid", !observer_capacity_valid(0));
	CHECK("capacity 2 invalid", !observer_capacity_valid(2));
	struct observer *o = observer_new(&(struct observer_config){ .capacity = 1000 }, err, sizeof(err));
	CHECK("observer_new refuses 1000", o == NULL);
	CHECK_STR("capacity error text", err, "ring capacity 1000 is not 2^n-1 (1, 3, 7, ..., 4095, ..., 16777215)");
	o = observer_new(&(struct observer_config){ 0 }, err, sizeof(err));
	struct observer_stats st;
	observer_get_stats(o, 0, &st);
	CHECK_U64("default capacity", st.max_flows, 4095);
	observer_free(o);
}

static void test_selectors(void)
{
	struct observer *o = mk(7);
	push_range(o, 0, 9); /* ring keeps 3..9 */
	struct observer_stats st;
	observer_get_stats(o, T0 + 10 * SEC, &st);
	CHECK_U64("num_flows after overwrite", st.num_flows, 7);
	CHECK_U64("seen_flows", st.seen_flows, 10);
	CHECK_U64("uptime", st.uptime_ns, 10 * SEC);

	enum observer_read end;
	CHECK_STR("first 3", query(o, (struct observer_query){ .first = 3 }, &end), "3,4,5");
	CHECK("first 3 ends", end == OBS_DONE);
	CHECK_STR("last 2", query(o, (struct observer_query){ .last = 2 }, &end), "8,9");
	CHECK_STR("last 100 = what is left", query(o, (struct observer_query){ .last = 100 }, &end),
	          "3,4,5,6,7,8,9");
	CHECK_STR("all", query(o, (struct observer_query){ .last = UINT64_MAX }, &end), "3,4,5,6,7,8,9");
	CHECK_STR("no selector, not following: nothing", query(o, (struct observer_query){ 0 }, &end), "");
	CHECK("... and done", end == OBS_DONE);
	CHECK_STR("last 2 even (filter while rewinding)",
	          query(o, (struct observer_query){ .last = 2, .match = even_port }, &end), "6,8");
	CHECK_STR("first 2 even", query(o, (struct observer_query){ .first = 2, .match = even_port }, &end),
	          "4,6");
	CHECK_STR("since 6s", query(o, (struct observer_query){ .since_ns = T0 + 6 * SEC }, &end), "6,7,8,9");
	CHECK_STR("since 4s until 6s",
	          query(o, (struct observer_query){ .since_ns = T0 + 4 * SEC, .until_ns = T0 + 6 * SEC }, &end),
	          "4,5,6");
	CHECK_STR("last 2 until 6s",
	          query(o, (struct observer_query){ .last = 2, .until_ns = T0 + 6 * SEC }, &end), "5,6");
	CHECK_STR("last 10 since 8s",
	          query(o, (struct observer_query){ .last = 10, .since_ns = T0 + 8 * SEC }, &end), "8,9");
	CHECK_STR("since before the ring: what is left",
	          query(o, (struct observer_query){ .since_ns = T0 }, &end), "3,4,5,6,7,8,9");

	/* a non-following reader stops at what was newest when it started */
	struct observer_reader *r = observer_reader_new(o, &(struct observer_query){ .last = 1 });
	push_range(o, 10, 11);
	CHECK_STR("not following: ends at the start's newest", drain(r, &end), "9");
	observer_reader_free(r);
	observer_free(o);
}

static void test_follow(void)
{
	struct observer *o = mk(15);
	push_range(o, 0, 4);
	enum observer_read end;
	struct observer_reader *r = observer_reader_new(o, &(struct observer_query){ .follow = true });
	CHECK_STR("follow: nothing old", drain(r, &end), "");
	CHECK("follow waits", end == OBS_WAIT);
	CHECK("nothing pending", !observer_reader_pending(r));
	push_range(o, 5, 6);
	CHECK("pending after push", observer_reader_pending(r));
	CHECK_STR("follow: the new ones", drain(r, &end), "5,6");
	observer_reader_free(r);

	r = observer_reader_new(o, &(struct observer_query){ .follow = true, .last = 2 });
	CHECK_STR("follow + last 2 replays 2", drain(r, &end), "5,6");
	push_range(o, 7, 7);
	CHECK_STR("then follows", drain(r, &end), "7");
	observer_reader_free(r);

	r = observer_reader_new(o, &(struct observer_query){ .follow = true, .since_ns = T0 + 6 * SEC,
	                                                     .until_ns = T0 + 6 * SEC });
	push_range(o, 8, 8);
	CHECK_STR("follow + since replays from since, until ignored", drain(r, &end), "6,7,8");
	observer_reader_free(r);
	observer_free(o);
}

static void test_ring_loss(void)
{
	struct observer *o = mk(7);
	enum observer_read end;
	struct observer_reader *all = observer_reader_new(o, &(struct observer_query){ .follow = true });
	struct observer_reader *even =
		observer_reader_new(o, &(struct observer_query){ .follow = true, .match = even_port });
	push_range(o, 0, 9); /* 0, 1, 2 are overwritten before anyone reads */
	CHECK_STR("slow reader: one notice with the count, then the rest", drain(all, &end),
	          "L3:3,3,4,5,6,7,8,9");
	CHECK_STR("slow filtered reader: only what it would have shown (0, 2)", drain(even, &end),
	          "L3:2,4,6,8");
	struct observer_stats st;
	observer_get_stats(o, T0, &st);
	CHECK_U64("HUBBLE_RING_BUFFER counted", st.lost[FE_LOST_HUBBLE_RING_BUFFER], 5);
	CHECK_U64("two readers", st.readers, 2);
	/* keeps going after the loss; a caught-up reader loses nothing */
	push_range(o, 10, 16);
	CHECK_STR("caught up: no loss", drain(all, &end), "10,11,12,13,14,15,16");
	observer_reader_free(all);
	observer_reader_free(even);

	/* --first on a ring that overwrites it: missed ones count toward N */
	struct observer_reader *first = observer_reader_new(o, &(struct observer_query){ .first = 4 });
	push_range(o, 17, 18); /* overwrites 10, 11 */
	CHECK_STR("first 4 with 2 overwritten", drain(first, &end), "L3:2,12,13");
	CHECK("first done", end == OBS_DONE);
	observer_reader_free(first);

	/* the observer may go first: the reader then ends */
	struct observer_reader *orphan = observer_reader_new(o, &(struct observer_query){ .follow = true });
	observer_free(o);
	CHECK_STR("orphaned reader", drain(orphan, &end), "");
	CHECK("orphaned reader is done", end == OBS_DONE);
	observer_reader_free(orphan);
}

static int sink_flows, sink_lost;
static uint64_t sink_lost_n;
static void sink(void *user, const struct fe_record *rec)
{
	(void)user;
	if (rec->kind == FE_REC_FLOW) {
		sink_flows++;
	} else {
		sink_lost++;
		sink_lost_n += rec->lost.num_events_lost;
	}
}

static void test_lost_notices(void)
{
	struct observer *o = mk(63);
	observer_add_sink(o, sink, NULL);
	struct observer_reader *r =
		observer_reader_new(o, &(struct observer_query){ .follow = true, .match = even_port });
	observer_count_lost(o, FE_LOST_PERF_EVENT_RING_BUFFER, 5, T0 + 1 * SEC);
	observer_count_lost(o, FE_LOST_PERF_EVENT_RING_BUFFER, 7, T0 + 1 * SEC + SEC / 5);
	observer_count_lost(o, FE_LOST_OBSERVER_EVENTS_QUEUE, 2, T0 + 1 * SEC);
	push_range(o, 1, 1);
	observer_tick(o, T0 + 1 * SEC + SEC / 2);
	struct fe_record rec;
	enum observer_read st = observer_reader_next(r, &rec, T0);
	/* flow 1 is odd: filtered; then the two notices (never filtered) */
	CHECK("notice 1 is a record", st == OBS_RECORD && rec.kind == FE_REC_LOST);
	CHECK_U64("notice 1 source", rec.lost.source, FE_LOST_PERF_EVENT_RING_BUFFER);
	CHECK_U64("notice 1 aggregated count", rec.lost.num_events_lost, 12);
	CHECK("notice 1: no first/last (ring-buffer notice, as Hubble's)", rec.lost.first_ns == 0 && rec.lost.last_ns == 0);
	CHECK_U64("notice 1 time", rec.time_ns, T0 + 1 * SEC + SEC / 2);
	CHECK_STR("notice node", rec.node_name, "node1");
	CHECK("notice cpu absent", rec.lost.cpu == -1);
	st = observer_reader_next(r, &rec, T0);
	CHECK("notice 2", st == OBS_RECORD && rec.kind == FE_REC_LOST &&
	                      rec.lost.source == FE_LOST_OBSERVER_EVENTS_QUEUE && rec.lost.num_events_lost == 2);
	CHECK_U64("notice 2: queue notices have first", rec.lost.first_ns, T0 + 1 * SEC);
	CHECK_U64("notice 2: and last", rec.lost.last_ns, T0 + 1 * SEC);
	/* at most one notice per source per second */
	observer_count_lost(o, FE_LOST_PERF_EVENT_RING_BUFFER, 3, T0 + 1 * SEC + 8 * SEC / 10);
	observer_tick(o, T0 + 2 * SEC);
	CHECK("held back within the interval", observer_reader_next(r, &rec, T0) == OBS_WAIT);
	observer_tick(o, T0 + 2 * SEC + SEC / 2);
	st = observer_reader_next(r, &rec, T0);
	CHECK("emitted after the interval",
	      st == OBS_RECORD && rec.kind == FE_REC_LOST && rec.lost.num_events_lost == 3);
	observer_tick(o, T0 + 10 * SEC);
	CHECK("nothing to emit", observer_reader_next(r, &rec, T0) == OBS_WAIT);
	/* at shutdown, what is held back goes out at once */
	observer_count_lost(o, FE_LOST_PERF_EVENT_RING_BUFFER, 4, T0 + 10 * SEC + 1);
	observer_tick(o, T0 + 10 * SEC + 2);
	st = observer_reader_next(r, &rec, T0);
	CHECK("due: emitted", st == OBS_RECORD && rec.kind == FE_REC_LOST && rec.lost.num_events_lost == 4);
	observer_count_lost(o, FE_LOST_PERF_EVENT_RING_BUFFER, 5, T0 + 10 * SEC + 3);
	observer_tick(o, T0 + 10 * SEC + 4);
	CHECK("held back", observer_reader_next(r, &rec, T0) == OBS_WAIT);
	observer_flush_lost(o, T0 + 10 * SEC + 5);
	st = observer_reader_next(r, &rec, T0);
	CHECK("flushed at shutdown", st == OBS_RECORD && rec.kind == FE_REC_LOST && rec.lost.num_events_lost == 5);
	struct observer_stats sst;
	observer_get_stats(o, T0, &sst);
	CHECK_U64("PERF lost total", sst.lost[FE_LOST_PERF_EVENT_RING_BUFFER], 24);
	CHECK_U64("queue lost total", sst.lost[FE_LOST_OBSERVER_EVENTS_QUEUE], 2);
	CHECK_U64("ring occupancy counts notices", sst.num_flows, 6);
	CHECK_U64("seen_flows counts flows only", sst.seen_flows, 1);
	CHECK_U64("sink saw 1 flow", sink_flows, 1);
	CHECK_U64("sink saw 5 notices", sink_lost, 5);
	CHECK_U64("sink saw 26 lost", sink_lost_n, 26);
	/* notices do not count toward --last */
	CHECK_STR("last 1 includes later notices", query(o, (struct observer_query){ .last = 1 }, NULL),
	          "1,L1:12,L2:2,L1:3,L1:4,L1:5");
	observer_reader_free(r);
	observer_free(o);
}

static void test_rate(void)
{
	struct observer *o = mk(255);
	struct observer_stats st;
	observer_get_stats(o, T0, &st);
	CHECK("no flows: rate 0", st.flows_rate == 0);
	/* 10 flows over the last 10 s: the ring reaches back less than a minute */
	for (unsigned i = 0; i < 10; i++)
		observer_push_flow(o, flow(i), T0 + (90 + i) * SEC);
	observer_get_stats(o, T0 + 100 * SEC, &st);
	CHECK("10 flows in 10 s = 1/s", st.flows_rate > 0.9999 && st.flows_rate < 1.0001);
	/* 2 per second for 2 more minutes: the last minute holds 120 */
	for (unsigned i = 0; i < 240; i++)
		observer_push_flow(o, flow(i), T0 + 100 * SEC + i * SEC / 2 + 1);
	observer_get_stats(o, T0 + 220 * SEC, &st);
	CHECK("2/s over the last minute", st.flows_rate > 1.9999 && st.flows_rate < 2.0001);
	observer_free(o);
}

int main(void)
{
	test_capacity();
	test_selectors();
	test_follow();
	test_ring_loss();
	test_lost_notices();
	test_rate();
	return CHECK_DONE();
}

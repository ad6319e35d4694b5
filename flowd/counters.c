/* SPDX-License-Identifier: BSD-2-Clause */
#include "counters.h"

#include "enrich.h"

size_t flowd_counters(const struct datapath *dp, const struct poller *p, const struct output *o,
                      const struct enrich *en, struct flowd_counter *out, size_t max)
{
	size_t n = 0;
#define ADD(nm, v, k)                                                       \
	do {                                                                \
		if (n < max)                                                \
			out[n++] = (struct flowd_counter){ .name = (nm), .value = (v), .sparse = (k) }; \
	} while (0)
	const struct poller_stats *ps = poller_stats(p);
	const struct output_stats *os = output_stats(o);
	ADD("flows_active", ps->flows_active, 0);
	ADD("flows_started", ps->flows_started, 0);
	ADD("flows_updated", ps->flows_updated, 0);
	ADD("flows_ended", ps->flows_ended, 0);
	ADD("flows_vanished", ps->flows_vanished, 0);
	ADD("events", os->events, 0);
	ADD("export_written", os->export_written, 0);
	ADD("export_dropped", os->export_dropped, 0);
	ADD("event_errors", ps->event_errors + os->encode_errors, 0);
	ADD("polls", ps->polls, 0);
	ADD("last_poll_us", ps->last_poll_ns / 1000, 0);
	uint64_t k[64];
	int nk = datapath_read_counters(dp, k, 64);
	for (int i = 0; i < nk; i++)
		ADD(datapath_counter_name((size_t)i), k[i], 1);
#undef ADD
	if (en)
		n = enrich_counters(en, out, n, max);
	return n;
}

void flowd_counters_log(FILE *f, const struct flowd_counter *c, size_t n, int all)
{
	fprintf(f, "flowd: counters:");
	for (size_t i = 0; i < n; i++)
		if (all || !c[i].sparse || c[i].value)
			fprintf(f, " %s%s=%llu", c[i].prefix ? c[i].prefix : "", c[i].name,
			        (unsigned long long)c[i].value);
	fputc('\n', f);
	fflush(f);
}

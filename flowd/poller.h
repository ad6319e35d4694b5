/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reads the kernel flow table every poll interval and turns what changed
 * into flow events: `start` for a flow seen for the first time, `update`
 * every active timeout while a flow has new packets, `end` after the idle
 * timeout (through the table's two-step eviction, so its final counts are
 * the ones reported; see poller.c) or at shutdown.
 */
#ifndef FLOWD_POLLER_H
#define FLOWD_POLLER_H

#include <stdbool.h>
#include <stdint.h>

#include "datapath.h"
#include "flowd.h"
#include "output.h"

struct poller;

struct poller_stats {
	uint64_t polls;
	uint64_t flows_active;     /* directional flows being tracked now */
	uint64_t flows_started;
	uint64_t flows_updated;    /* update events */
	uint64_t flows_ended;
	uint64_t flows_vanished;   /* gone from the kernel table without flowd removing
	                            * them: ended with the last counts read */
	uint64_t event_errors;     /* events that could not be built (out of memory) */
	uint64_t last_poll_ns;     /* how long the last poll took */
};

struct enrich;

/* en (may be NULL): identities, conntrack and policy on the events
 * (enrich.h), policy-verdict and TRANSLATED events. */
int poller_new(const struct flowd_config *cfg, struct datapath *dp, struct output *out,
               struct enrich *en, struct poller **p, struct flowd_err *e);
/* One pass. final: end every flow (shutdown, after the programs are
 * detached). Returns 0 or a negative errno (message in e). */
int poller_poll(struct poller *p, bool final, struct flowd_err *e);
const struct poller_stats *poller_stats(const struct poller *p);
void poller_free(struct poller *p);

#endif /* FLOWD_POLLER_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's part of the socket API's status answer (what `flowctl
 * status` shows besides the ring): interfaces and their hooks, BPF
 * programs with their run statistics, the exporter, every counter.
 */
#ifndef FLOWD_STATUS_H
#define FLOWD_STATUS_H

#include "datapath.h"
#include "flow_event.h"
#include "output.h"
#include "payload.h"
#include "poller.h"

struct enrich;

struct flowd_status_src {
	const struct datapath *dp;      /* NULL until the datapath is up */
	const struct poller *poller;    /* NULL likewise */
	const struct payload *payload;  /* NULL: no live L7 */
	const struct enrich *en;        /* identities, policy, conntrack (enrich.h) */
	struct output *out;
	int bpf_stats_fd;               /* >= 0: flowd turned BPF statistics on */
};

/* An api_status_fn (api_server.h): user is a struct flowd_status_src. */
int flowd_status_json(void *user, struct fe_buf *out);

#endif /* FLOWD_STATUS_H */

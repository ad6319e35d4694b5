/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * All of flowd's counters as one named list, in a stable order: what the
 * periodic stderr log and the exit summary print, and what `flowctl status`
 * will read over the API socket. Names are documented in the README.
 */
#ifndef FLOWD_COUNTERS_H
#define FLOWD_COUNTERS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "datapath.h"
#include "output.h"
#include "poller.h"

struct flowd_counter {
	const char *name;
	uint64_t value;
	int sparse;          /* 1: the periodic log shows it only when non-zero (the
	                      * kernel's counters, the pipelines' pipeline.*) */
	const char *prefix;  /* printed before name; NULL: none */
};

#define FLOWD_MAX_COUNTERS 512

struct enrich;

/* Fill out (up to max); returns the count. en may be NULL. */
size_t flowd_counters(const struct datapath *dp, const struct poller *p, const struct output *o,
                      const struct enrich *en, struct flowd_counter *out, size_t max);

/* One line "flowd: counters: name=value ..." to f. all = 0: sparse
 * counters only when non-zero (the periodic line); all = 1: everything
 * (exit). */
void flowd_counters_log(FILE *f, const struct flowd_counter *c, size_t n, int all);

#endif /* FLOWD_COUNTERS_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowd's user-space view of the live flows: for every directional flow in
 * the kernel map, the last values read and what has been reported. Open
 * addressing with linear probing; grows, never shrinks below its start.
 */
#ifndef FLOWD_FLOW_CACHE_H
#define FLOWD_FLOW_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_record.h"

struct fc_entry {
	struct flow_key key;
	struct flow_rec rec;        /* last values read from the kernel */
	uint64_t last_report_ns;    /* monotonic time of the last start/update event */
	uint64_t reported_packets;  /* rec.packets at that event */
	uint32_t seen_gen;          /* last poll that found it in the kernel map */
	int8_t is_reply;            /* decided by the start event, kept for the flow's life */
	uint32_t policy_gen;        /* rec.policy.gen of the last policy-verdict event */
	bool used;
	bool started;               /* start event emitted */
};

struct flow_cache;

struct flow_cache *fc_new(size_t initial);
void fc_free(struct flow_cache *fc);
size_t fc_count(const struct flow_cache *fc);

struct fc_entry *fc_find(struct flow_cache *fc, const struct flow_key *key);
/* Find or insert (zeroed but for the key); NULL on allocation failure.
 * May move entries: pointers from earlier calls become invalid. */
struct fc_entry *fc_upsert(struct flow_cache *fc, const struct flow_key *key, bool *created);
void fc_remove(struct flow_cache *fc, const struct flow_key *key);

/* Iteration by slot: for (i = 0; i < fc_slots(fc); i++) if ((e = fc_slot(fc, i))) ...
 * Do not insert or remove while iterating. */
size_t fc_slots(const struct flow_cache *fc);
struct fc_entry *fc_slot(struct flow_cache *fc, size_t i);

#endif /* FLOWD_FLOW_CACHE_H */

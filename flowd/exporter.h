/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The file exporter, like Hubble's static exporter (hubble.md §5.1): every
 * record (flows and lost-event notices) that passes the allow/deny filters
 * is written as one NDJSON line, with an optional field mask, to a file
 * rotated by size (lumberjack's scheme: the full file is renamed to
 * <name>-<UTC time>.<ext>, e.g. events-2025-02-14T10-00-00.000.log, and
 * optionally gzipped to ...log.gz; only the newest max_backups are kept),
 * or to standard output.
 *
 * Never blocks the caller: exporter_write() encodes the line and appends it
 * to a bounded in-memory queue; a writer thread writes the queue out and
 * rotates, a second thread compresses and prunes backups. When the queue is
 * full the record is dropped and counted; once the queue has room again a
 * lost-events line (source OBSERVER_EVENTS_QUEUE, with the count and the
 * first/last drop times) is written before the next record, so the file
 * itself says how much is missing. Write errors (disk full...) drop the
 * lines concerned, are counted, and the file is reopened on the next write.
 */
#ifndef FLOWD_EXPORTER_H
#define FLOWD_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_event.h"

struct exporter;

struct exporter_config {
	const char *path;             /* file, or "stdout" / "-" */
	uint64_t max_size;            /* rotate beyond this many bytes; 0 = never */
	unsigned max_backups;         /* rotated files kept; 0 = all */
	bool compress;                /* gzip rotated files */
	const char *allowlist;        /* JSON FlowFilter(s) (Hubble's exporter allowlist); NULL = none */
	const char *denylist;         /* JSON FlowFilter(s); NULL = none */
	const char *const *field_mask;/* paths, each possibly comma-separated; NULL = all fields */
	size_t n_field_mask;
	size_t queue_bytes;           /* encoded bytes waiting for the writer; 0 = 8 MiB */
	const char *node_name;        /* node_name of the exporter's own lost-event lines */
};

/* Defaults of Hubble's exporter: 10 MiB per file, 5 backups. */
#define EXPORTER_DEFAULT_MAX_SIZE (10ull << 20)
#define EXPORTER_DEFAULT_MAX_BACKUPS 5

/* Opens (appends to) the file and starts the threads. NULL with a message
 * in err (bad filter or mask; "PATH: strerror" for an unopenable file: its
 * directory must exist). */
struct exporter *exporter_new(const struct exporter_config *cfg, char *err, size_t errlen);

/* Write the queue out (waits at most timeout_ms for the writer; 0 = no
 * limit), compress/prune, stop the threads, free. */
void exporter_free(struct exporter *x, unsigned timeout_ms);

/* One record (not consumed). now_ns: wall clock, for drop times. Filtered
 * out: 0. Queued: 0. Dropped (queue full): 1. -1: encoding failed (no
 * memory; counted as dropped). */
int exporter_write(struct exporter *x, const struct fe_record *rec, uint64_t now_ns);

/* Wait until everything queued so far is written and the backups are
 * compressed (tests, shutdown). false on timeout. */
bool exporter_sync(struct exporter *x, unsigned timeout_ms);

struct exporter_stats {
	uint64_t records_in;          /* records offered */
	uint64_t filtered;            /* not exported (allow/deny lists) */
	uint64_t written;             /* records written to the file */
	uint64_t dropped;             /* queue full or write error */
	uint64_t write_errors;
	uint64_t notices;             /* lost-events lines the exporter wrote about its drops */
	uint64_t bytes_written;
	uint64_t rotations;
	uint64_t compressed;          /* backups gzipped */
	uint64_t removed;             /* backups deleted beyond max_backups */
	uint64_t queue_bytes, queue_max;
	uint64_t file_size;           /* current file */
	char last_error[160];         /* "" when none */
	int last_errno;               /* errno of the last failure; 0 when none */
};
void exporter_get_stats(struct exporter *x, struct exporter_stats *st);

/* `"exporter":{...}` for the status answer (no leading comma). */
int exporter_status_json(struct exporter *x, struct fe_buf *out);

#endif /* FLOWD_EXPORTER_H */

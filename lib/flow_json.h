/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hubble JSON beyond the plain encoder declared in flow_event.h:
 * field masks (`--field-mask`, the exporter's fieldMask), the NDJSON
 * decoder (`flowctl observe --input-file`, Hubble's own output), and the
 * small output-buffer helpers the encoder and printers share.
 */
#ifndef FLOWD_FLOW_JSON_H
#define FLOWD_FLOW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_event.h"

/* --- output buffer ----------------------------------------------------------- */

/* Make room for n more bytes. 0, or -1 on allocation failure (buffer kept). */
int fe_buf_reserve(struct fe_buf *b, size_t n);
int fe_buf_append(struct fe_buf *b, const void *data, size_t n);

/* Append s as a JSON string with Go's escaping (as the encoder writes
 * every string). 0, or -1 on allocation failure. */
int fe_json_append_string(struct fe_buf *b, const char *s);

/* RFC 3339 UTC exactly as protojson writes a Timestamp: 0, 3, 6 or 9
 * fraction digits and "Z" ("2025-02-14T10:00:05.100Z"). buf needs 31
 * bytes; returns the length written (without the NUL). */
size_t fe_format_rfc3339(uint64_t ns, char buf[32]);

/* --- field masks ---------------------------------------------------------------- */

/*
 * A field mask keeps only the listed fields of each flow, like protobuf's
 * FieldMask as Hubble applies it: paths use proto field names
 * ("time", "IP", "source.pod_name", "l7.http.url", "flow_stats"); a path
 * to a sub-field keeps the parent object even if the sub-field is empty
 * ("source":{}). Lost events and the wrapper's node_name/time are never
 * masked. An empty mask keeps everything.
 */
struct fe_field_mask;

/* Parse paths; each string may itself hold several comma-separated paths
 * ("time,IP,l4"). On error returns -1 with a message in err ("unknown
 * field \"foo\" in field mask path \"source.foo\""). */
int fe_field_mask_new(const char *const *paths, size_t n_paths,
                      struct fe_field_mask **out, char *err, size_t errlen);
void fe_field_mask_free(struct fe_field_mask *m);
/* Number of top-level paths (0 = keeps everything). */
size_t fe_field_mask_size(const struct fe_field_mask *m);
/* Does the mask keep the field at this dotted path, or a part of it
 * ("l7.http.headers", "Summary")? NULL or empty: keeps everything. */
bool fe_field_mask_wants(const struct fe_field_mask *m, const char *path);

/* fe_record_to_json() with a mask (NULL = no mask). */
int fe_record_to_json_masked(const struct fe_record *rec, const struct fe_field_mask *mask,
                             struct fe_buf *out);

/* --- decoding -------------------------------------------------------------------- */

/*
 * One decoded NDJSON line. `ev` owns every string (its arena); for a lost
 * event it exists only to hold rec.node_name. Free with fe_decoded_clear().
 */
struct fe_decoded {
	struct fe_record rec;
	struct flow_event *ev;
};

/*
 * Decode one line of `hubble observe -o json` / our own output / a Hubble
 * export file: the wrapper {"flow":..} / {"lost_events":..}, or a bare Flow
 * object (Hubble's legacy JSON output). Keys are accepted in proto
 * spelling and lowerCamelCase JSON spelling, as protojson does; unknown
 * keys are ignored; enums by name or number; 64-bit integers as strings or
 * numbers. Returns 0 (free with fe_decoded_clear()), 1 when the line is a
 * message we do not model (node_status, agent_event, debug_event: skip
 * it), or -1 with a message in err; on 1 and -1 nothing is allocated.
 * A trailing newline is tolerated.
 */
int fe_json_decode(const char *line, size_t len, struct fe_decoded *out,
                   char *err, size_t errlen);
void fe_decoded_clear(struct fe_decoded *d);

#endif /* FLOWD_FLOW_JSON_H */

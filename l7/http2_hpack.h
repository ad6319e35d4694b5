/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HPACK decoding for a passive observer: nghttp2's inflater, wrapped so that
 * it can start on a connection whose dynamic table is unknown (capture or
 * attach started mid-connection, or bytes lost), never reports a field that
 * could come from a wrongly indexed table, and recovers by itself.
 *
 * How: dynamic-table index 62+j always names the j-th newest entry. Our
 * inflater holds exactly the entries inserted since we (re)started, so an
 * index within its table is certain, whatever the encoder's table size; an
 * index beyond it names an entry inserted before we started ("unknown
 * tail"), and that field is reported as unknown instead of decoded. Each
 * representation's leading integer is read here before the bytes go to
 * nghttp2, which does all actual decoding (integers, Huffman, table):
 *   - indexed field beyond our table: not fed, counted unknown;
 *   - literal whose name index is beyond our table: fed with an empty
 *     literal name instead (empty names are the "unknown name" marker, also
 *     when later indexed), so the entry is still inserted and later indices
 *     stay aligned;
 *   - dynamic table size update: clamped to our inflater's bound; an update
 *     below 32 bytes empties the table, and with it the unknown tail.
 * Our inflater's table bound is never lowered, so it always holds at least
 * every entry the encoder still holds (a bigger table only keeps entries the
 * encoder never references again).
 *
 * A block that cannot be decoded completely (gap, corrupt input, abandoned
 * CONTINUATION) loses insertions: the inflater is replaced by an empty one at
 * the next block, in unknown-tail mode ("desync", counted).
 */
#ifndef FLOWD_HTTP2_HPACK_H
#define FLOWD_HTTP2_HPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest dynamic table we mirror (bytes, RFC 7541 accounting). A peer may
 * allow more; fields beyond it then become unknown, never wrong. */
#define H2_HPACK_MAX_TABLE 65536u

struct h2_hpack;

/* One header field whose name and value are both certain. Pointers are
 * valid only during the call. */
typedef void (*h2_hpack_field_fn)(void *user, const uint8_t *name, size_t nlen,
                                  const uint8_t *value, size_t vlen);

/* table_known: false when the connection was joined mid-stream. NULL on
 * allocation failure. */
struct h2_hpack *h2_hpack_new(bool table_known);
void h2_hpack_free(struct h2_hpack *hp);

/* SETTINGS_HEADER_TABLE_SIZE announced by the decoding peer (the bound of
 * the encoder we mirror). Takes effect at the next block boundary. */
void h2_hpack_settings_table_size(struct h2_hpack *hp, uint32_t size);

/* One header block (HEADERS or PUSH_PROMISE plus CONTINUATIONs), fed in
 * pieces as frames arrive. fn gets each certain field as soon as it is
 * decoded. */
void h2_hpack_block_begin(struct h2_hpack *hp);
void h2_hpack_block_data(struct h2_hpack *hp, const uint8_t *p, size_t n,
                         h2_hpack_field_fn fn, void *user);

struct h2_hpack_block_result {
	uint32_t unknown;   /* fields not reported (unknown table entries, or lost) */
	bool failed;        /* the block could not be decoded to its end */
};
/* End of the block (END_HEADERS). */
struct h2_hpack_block_result h2_hpack_block_end(struct h2_hpack *hp);

/* Bytes of this direction were lost or a block was abandoned: the table
 * is no longer known (applied at the next block). */
void h2_hpack_lost(struct h2_hpack *hp);

/* True when every entry the encoder may reference is in our table. */
bool h2_hpack_table_known(const struct h2_hpack *hp);

struct h2_hpack_stats {
	uint64_t desyncs;         /* times the table was lost and restarted */
	uint64_t recoveries;      /* times the unknown tail was proven gone */
	uint64_t unknown_fields;  /* fields not reported */
};
const struct h2_hpack_stats *h2_hpack_stats(const struct h2_hpack *hp);

#endif /* FLOWD_HTTP2_HPACK_H */

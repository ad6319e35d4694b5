/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IP reassembly: fragments of IPv4 and IPv6 datagrams rebuilt into the
 * datagram's payload (what follows the IP header, or the IPv6 fragment
 * header: the transport header and its payload), for the L7 pipeline.
 *
 * Datagrams are keyed by (family, source, destination, protocol, id). A
 * datagram is complete when its last fragment (no more-fragments flag) has
 * been seen and every byte before it is covered. Everything is bounded and
 * every datagram dropped is counted with its reason (struct
 * ip_reasm_stats):
 *
 *   - datagrams in progress (max_datagrams) and bytes held (max_bytes,
 *     fragment data plus a fixed overhead per fragment and per datagram):
 *     to make room, the oldest datagrams are dropped (limit_drops), as
 *     Linux's fragment evictor does;
 *   - a datagram not complete timeout_ns after its first fragment is
 *     dropped (timeouts); time is the callers' (packet timestamps);
 *   - payload beyond 65535 bytes (too_big), more than
 *     IP_REASM_MAX_FRAGMENTS fragments (limit_drops);
 *   - overlapping fragments drop the whole datagram, for IPv6 as RFC 5722
 *     requires and for IPv4 too (as Linux does since 4.19): receivers
 *     resolve overlaps differently, so the bytes an observer would pick may
 *     not be the ones the receiver used. An exact copy of a fragment held
 *     (same offset, length and bytes: a duplicate on the wire) is ignored;
 *   - a fragment the capture cut (snap length) drops its datagram
 *     (truncated); a non-last fragment whose length is not a multiple of 8,
 *     or fragments that disagree on where the datagram ends, drop it
 *     (malformed).
 *
 * A dropped datagram is remembered, without its bytes, until its timeout:
 * its other fragments (also those still to come) are discarded with it
 * (RFC 5722), counted as discarded_fragments, and do not start a datagram
 * that could only time out.
 */
#ifndef FLOWD_IP_REASM_H
#define FLOWD_IP_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IP_REASM_MAX_PAYLOAD 65535
#define IP_REASM_MAX_FRAGMENTS 256   /* per datagram (64 KiB in 256-byte fragments) */

struct ip_reasm;

struct ip_reasm_config {
	size_t max_datagrams;    /* in progress (and remembered as dropped) */
	size_t max_bytes;        /* held, all datagrams, overhead included */
	uint64_t timeout_ns;     /* from a datagram's first fragment */
};

/* Linux's defaults: ipfrag_time 30 s, ipfrag_high_thresh 4 MiB. */
#define IP_REASM_DEFAULT_DATAGRAMS 1024
#define IP_REASM_DEFAULT_BYTES (4u << 20)
#define IP_REASM_DEFAULT_TIMEOUT_NS (30ull * 1000000000ull)

struct ip_reasm_stats {
	uint64_t fragments;           /* offered */
	uint64_t reassembled;         /* datagrams completed */
	uint64_t duplicates;          /* fragments that were exact copies: ignored */
	uint64_t discarded_fragments; /* fragments of a datagram already dropped */
	/* datagrams dropped, by reason */
	uint64_t timeouts;            /* not complete in time (or at ip_reasm_expire_all) */
	uint64_t overlaps;
	uint64_t truncated;
	uint64_t too_big;
	uint64_t malformed;
	uint64_t limit_drops;         /* a bound made room or refused */
	uint64_t oom;
	uint64_t discarded;           /* ip_reasm_discard(): the caller did not want it */
	/* gauges */
	uint64_t in_progress;         /* datagrams held (not the dropped ones remembered) */
	uint64_t held_bytes;          /* counted against max_bytes */
	uint64_t held_bytes_peak;
};

/* One fragment. saddr/daddr: 16 bytes each (IPv4 in the first 4, as in
 * struct pkt_info). offset: bytes from the start of the datagram's payload
 * (pkt_frag_offset()); data: the fragment's bytes after the IP header (or
 * the IPv6 fragment header), len of them per the IP header, of which
 * caplen were captured. */
struct ip_frag {
	uint8_t family;
	uint8_t proto;
	const uint8_t *saddr, *daddr;
	uint32_t id;
	uint32_t offset;
	bool more;
	const uint8_t *data;
	uint32_t len;
	uint32_t caplen;
};

enum ip_reasm_result {
	IP_REASM_HELD = 0,      /* kept; the datagram is not complete yet */
	IP_REASM_COMPLETE,      /* *out, *out_len: the datagram's payload */
	IP_REASM_DUPLICATE,     /* an exact copy of a fragment held: ignored */
	IP_REASM_DISCARDED,     /* its datagram was dropped before: discarded too */
	/* the datagram was dropped now, for this reason: */
	IP_REASM_OVERLAP,
	IP_REASM_TRUNCATED,
	IP_REASM_TOO_BIG,
	IP_REASM_MALFORMED,
	IP_REASM_LIMIT,
	IP_REASM_NOMEM,
};

/* NULL on a bad configuration (EINVAL: a bound of 0) or ENOMEM (errno). */
struct ip_reasm *ip_reasm_new(const struct ip_reasm_config *cfg);
void ip_reasm_free(struct ip_reasm *r);

/* One fragment seen at ts_ns. Datagrams whose timeout passed by then are
 * dropped first. On IP_REASM_COMPLETE, *out points to the payload in a
 * buffer of r, valid until the next call on r. */
enum ip_reasm_result ip_reasm_add(struct ip_reasm *r, const struct ip_frag *f, uint64_t ts_ns,
                                  const uint8_t **out, uint32_t *out_len);

/* Drop the datagram f belongs to (only f's key is read), if one is held:
 * counted as discarded. True if there was one. */
bool ip_reasm_discard(struct ip_reasm *r, const struct ip_frag *f);

/* Time passed without a fragment: drop what timed out by now_ns. */
void ip_reasm_expire(struct ip_reasm *r, uint64_t now_ns);

/* End of input: drop every datagram still incomplete (counted as timeouts). */
void ip_reasm_expire_all(struct ip_reasm *r);

const struct ip_reasm_stats *ip_reasm_get_stats(const struct ip_reasm *r);

#endif /* FLOWD_IP_REASM_H */

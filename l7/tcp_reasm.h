/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One direction of a TCP byte stream, rebuilt from segments by sequence
 * number. The reassembler hands out in-order bytes and gaps through two
 * callbacks and never anything twice:
 *
 *   - retransmitted and overlapping bytes are dropped (counted);
 *   - segments ahead of the next expected byte are held, copied, until the
 *     hole before them fills, within a per-direction and a shared byte
 *     budget; when a budget is exhausted the stream skips ahead: the hole is
 *     reported as a gap and the held bytes are delivered (counted);
 *   - a hole is also reported as a gap when the peer has acknowledged bytes
 *     beyond it (the receiver got them: the capture lost them) and the
 *     sender has since sent something else without filling it (an ACK can
 *     overtake the data it acknowledges when the capture point sees the two
 *     directions on different paths), or when the stream is flushed
 *     (FIN/RST, timeout, end of capture);
 *   - bytes past the captured length of a segment (snap length) are a gap of
 *     exactly that many bytes.
 *
 * Sequence numbers are mapped to 64-bit stream offsets, so wrap-around is
 * invisible above this file. Segments more than TCP_REASM_WINDOW away from
 * the next expected byte are ignored (counted).
 */
#ifndef FLOWD_TCP_REASM_H
#define FLOWD_TCP_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Segments further than this from the next expected byte are not believed. */
#define TCP_REASM_WINDOW (1u << 30)

/* Counters shared by every stream of a pipeline. */
struct tcp_reasm_stats {
	uint64_t segments;            /* segments with payload or FIN */
	uint64_t delivered_bytes;
	uint64_t retransmitted_bytes; /* already delivered or covered by a gap */
	uint64_t overlap_bytes;       /* duplicated inside held (out-of-order) data */
	uint64_t ooo_segments;        /* segments held because they came early */
	uint64_t gaps;
	uint64_t gap_bytes;
	uint64_t gap_bytes_snaplen;   /* part of gap_bytes: not captured (snap length) */
	uint64_t limit_skips;         /* a buffer bound forced a skip ahead */
	uint64_t limit_skipped_bytes; /* part of gap_bytes: reported early because of a bound */
	uint64_t out_of_window_bytes;
};

/* Shared byte budget for all held segments, and where counters go. */
struct tcp_reasm_pool {
	size_t used, peak, max;       /* held payload bytes, all streams */
	size_t max_per_stream;
	struct tcp_reasm_stats st;
};

struct tcp_reasm_seg;

struct tcp_reasm {
	uint64_t next_off;            /* stream offset of the next expected byte */
	uint32_t next_seq;            /* its sequence number */
	bool started;                 /* next_* valid */
	bool fin_seen;
	bool closed;                  /* FIN reached or stream flushed: nothing more */
	uint64_t fin_off;
	bool ack_pending;             /* the peer acknowledged up to ack_off */
	uint64_t ack_off;
	struct tcp_reasm_seg *held;   /* out-of-order segments, sorted, disjoint */
	size_t held_bytes;
};

/* Where the bytes go. A callback may not call back into the same stream. */
struct tcp_reasm_sink {
	void (*data)(void *user, const uint8_t *p, size_t n, uint64_t ts_ns);
	void (*gap)(void *user, uint64_t len, uint64_t ts_ns);
	void (*fin)(void *user, uint64_t ts_ns);   /* stream complete up to its FIN */
	void *user;
};

void tcp_reasm_pool_init(struct tcp_reasm_pool *pool, size_t max_total, size_t max_per_stream);

void tcp_reasm_init(struct tcp_reasm *r);
/* First expected sequence number (ISN + 1 after a SYN, or the sequence of the
 * first segment seen when the connection started before the capture). */
void tcp_reasm_start(struct tcp_reasm *r, uint32_t next_seq);

/*
 * One segment: payload [seq, seq + len), of which the first caplen bytes
 * (at p) were captured. fin: the segment carries FIN (after its payload).
 * Returns 0, or -1 when held data could not be allocated (the segment is then
 * treated as lost: it becomes part of a gap).
 */
int tcp_reasm_segment(struct tcp_reasm *r, struct tcp_reasm_pool *pool,
                      const struct tcp_reasm_sink *sink, uint32_t seq,
                      const uint8_t *p, uint32_t caplen, uint32_t len, bool fin,
                      uint64_t ts_ns);

/* The peer acknowledged everything before ack: holes below it will be gaps
 * unless filled before the sender's next packet (see above). */
void tcp_reasm_ack(struct tcp_reasm *r, uint32_t ack);

/* The sender sent a packet (any packet; tcp_reasm_segment implies it):
 * holes below what the peer acknowledged are now gaps. */
void tcp_reasm_sender_seen(struct tcp_reasm *r, struct tcp_reasm_pool *pool,
                           const struct tcp_reasm_sink *sink, uint64_t ts_ns);

/* No more segments will come (RST, timeout, end of input): report holes as
 * gaps, deliver everything held, mark the stream closed. Calls sink->fin only
 * if a FIN was seen. */
void tcp_reasm_flush(struct tcp_reasm *r, struct tcp_reasm_pool *pool,
                     const struct tcp_reasm_sink *sink, uint64_t ts_ns);

/* Free held data without delivering it. */
void tcp_reasm_free(struct tcp_reasm *r, struct tcp_reasm_pool *pool);

#endif /* FLOWD_TCP_REASM_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/* TCP reassembly of one direction; see tcp_reasm.h for the contract. */
#include "tcp_reasm.h"

#include <stdlib.h>
#include <string.h>

/* A held (out-of-order) piece: [off, off + len) of the stream, of which the
 * first cap bytes were captured and are stored in data. */
struct tcp_reasm_seg {
	struct tcp_reasm_seg *next;
	uint64_t off;
	uint32_t len;
	uint32_t cap;
	uint8_t data[];
};

/* What a held piece costs against the budgets: its bytes plus its header,
 * so that many tiny segments cannot hide memory behind a byte count. */
#define SEG_COST(cap) ((size_t)(cap) + sizeof(struct tcp_reasm_seg))

void tcp_reasm_pool_init(struct tcp_reasm_pool *pool, size_t max_total, size_t max_per_stream)
{
	memset(pool, 0, sizeof(*pool));
	pool->max = max_total;
	pool->max_per_stream = max_per_stream;
}

void tcp_reasm_init(struct tcp_reasm *r)
{
	memset(r, 0, sizeof(*r));
}

void tcp_reasm_start(struct tcp_reasm *r, uint32_t next_seq)
{
	r->next_seq = next_seq;
	r->next_off = 0;
	r->started = true;
}

static void advance(struct tcp_reasm *r, uint64_t n)
{
	r->next_off += n;
	r->next_seq += (uint32_t)n;
}

static void emit_data(struct tcp_reasm *r, struct tcp_reasm_pool *pool,
                      const struct tcp_reasm_sink *sink, const uint8_t *p,
                      uint32_t cap, uint32_t len, uint64_t ts)
{
	if (cap) {
		pool->st.delivered_bytes += cap;
		sink->data(sink->user, p, cap, ts);
	}
	if (len > cap) {
		pool->st.gaps++;
		pool->st.gap_bytes += len - cap;
		pool->st.gap_bytes_snaplen += len - cap;
		sink->gap(sink->user, len - cap, ts);
	}
	advance(r, len);
}

static void emit_gap(struct tcp_reasm *r, struct tcp_reasm_pool *pool,
                     const struct tcp_reasm_sink *sink, uint64_t len, uint64_t ts)
{
	if (!len)
		return;
	pool->st.gaps++;
	pool->st.gap_bytes += len;
	sink->gap(sink->user, len, ts);
	advance(r, len);
}

static void seg_free(struct tcp_reasm *r, struct tcp_reasm_pool *pool, struct tcp_reasm_seg *s)
{
	r->held_bytes -= SEG_COST(s->cap);
	pool->used -= SEG_COST(s->cap);
	free(s);
}

/* Deliver held pieces that start at (or, after a skip, before) next_off. */
static void drain(struct tcp_reasm *r, struct tcp_reasm_pool *pool,
                  const struct tcp_reasm_sink *sink, uint64_t ts)
{
	struct tcp_reasm_seg *s;
	while ((s = r->held) && s->off <= r->next_off) {
		r->held = s->next;
		uint64_t end = s->off + s->len;
		if (end > r->next_off) {
			uint32_t skip = (uint32_t)(r->next_off - s->off);
			uint32_t cap = s->cap > skip ? s->cap - skip : 0;
			pool->st.overlap_bytes += skip;
			emit_data(r, pool, sink, s->data + skip, cap, s->len - skip, ts);
		} else {
			pool->st.overlap_bytes += s->len;
		}
		seg_free(r, pool, s);
	}
}

/* Report the hole before the first held piece as a gap and deliver what
 * follows it. Used when a bound or an ACK says the hole will not fill. */
static void skip_to_held(struct tcp_reasm *r, struct tcp_reasm_pool *pool,
                         const struct tcp_reasm_sink *sink, uint64_t ts)
{
	if (r->held && r->held->off > r->next_off)
		emit_gap(r, pool, sink, r->held->off - r->next_off, ts);
	drain(r, pool, sink, ts);
}

static void check_fin(struct tcp_reasm *r, const struct tcp_reasm_sink *sink, uint64_t ts)
{
	if (r->fin_seen && !r->closed && r->next_off >= r->fin_off) {
		r->closed = true;
		if (sink->fin)
			sink->fin(sink->user, ts);
	}
}

static int hold_piece(struct tcp_reasm *r, struct tcp_reasm_pool *pool,
                      struct tcp_reasm_seg **link, uint64_t off, uint32_t len,
                      const uint8_t *src, uint32_t cap)
{
	struct tcp_reasm_seg *s = malloc(sizeof(*s) + cap);
	if (!s)
		return -1;
	s->off = off;
	s->len = len;
	s->cap = cap;
	if (cap)
		memcpy(s->data, src, cap);
	s->next = *link;
	*link = s;
	r->held_bytes += SEG_COST(cap);
	pool->used += SEG_COST(cap);
	if (pool->used > pool->peak)
		pool->peak = pool->used;
	return 0;
}

/* Hold [off, off + len) (captured: the first cap bytes at p) without
 * duplicating bytes already held: only the parts not covered are stored. */
static int hold(struct tcp_reasm *r, struct tcp_reasm_pool *pool, uint64_t off,
                const uint8_t *p, uint32_t cap, uint32_t len)
{
	const uint64_t end = off + len, cap_end = off + cap;
	uint64_t cur = off;
	struct tcp_reasm_seg **link = &r->held;
	int rc = 0;

	pool->st.ooo_segments++;
	while (cur < end) {
		struct tcp_reasm_seg *h = *link;
		uint64_t piece_end = end;
		if (h) {
			uint64_t h_end = h->off + h->len;
			if (h_end <= cur) {
				link = &h->next;
				continue;
			}
			if (h->off <= cur) {
				uint64_t covered = (h_end < end ? h_end : end) - cur;
				pool->st.overlap_bytes += covered;
				cur += covered;
				link = &h->next;
				continue;
			}
			if (h->off < end)
				piece_end = h->off;
		}
		uint32_t plen = (uint32_t)(piece_end - cur);
		uint32_t pcap = cur < cap_end
			? (uint32_t)((cap_end < piece_end ? cap_end : piece_end) - cur) : 0;
		if (hold_piece(r, pool, link, cur, plen, p + (cur - off), pcap) < 0)
			rc = -1;
		else
			link = &(*link)->next;
		cur = piece_end;
	}
	return rc;
}

/* What hold() would add: the uncovered pieces of [off, off + len), each
 * with its header. */
static size_t hold_cost(const struct tcp_reasm *r, uint64_t off, uint32_t cap, uint32_t len)
{
	const uint64_t end = off + len, cap_end = off + cap;
	uint64_t cur = off;
	size_t cost = 0;
	const struct tcp_reasm_seg *h = r->held;
	while (cur < end) {
		uint64_t piece_end = end;
		if (h) {
			uint64_t h_end = h->off + h->len;
			if (h_end <= cur) {
				h = h->next;
				continue;
			}
			if (h->off <= cur) {
				cur = h_end < end ? h_end : end;
				h = h->next;
				continue;
			}
			if (h->off < end)
				piece_end = h->off;
		}
		uint64_t pcap_end = cap_end < piece_end ? cap_end : piece_end;
		cost += SEG_COST(cur < cap_end ? pcap_end - cur : 0);
		cur = piece_end;
	}
	return cost;
}

static bool over_budget(const struct tcp_reasm *r, const struct tcp_reasm_pool *pool, size_t need)
{
	return r->held_bytes + need > pool->max_per_stream || pool->used + need > pool->max;
}

void tcp_reasm_ack(struct tcp_reasm *r, uint32_t ack)
{
	if (!r->started || r->closed)
		return;
	int64_t delta = (int32_t)(ack - r->next_seq);
	if (delta <= 0 || delta > (int64_t)TCP_REASM_WINDOW)
		return;
	/* An ACK one past what we have, with nothing held, is almost always the
	 * ACK of a FIN the capture missed, not one lost byte of data. */
	if (delta == 1 && !r->held && !r->fin_seen)
		return;
	uint64_t target = r->next_off + (uint64_t)delta;
	if (r->fin_seen && target > r->fin_off)
		target = r->fin_off;
	if (!r->ack_pending || target > r->ack_off)
		r->ack_off = target;
	r->ack_pending = true;
}

void tcp_reasm_sender_seen(struct tcp_reasm *r, struct tcp_reasm_pool *pool,
                           const struct tcp_reasm_sink *sink, uint64_t ts)
{
	if (!r->ack_pending || r->closed)
		return;
	r->ack_pending = false;
	const uint64_t target = r->ack_off;
	while (r->next_off < target) {
		if (r->held && r->held->off < target)
			skip_to_held(r, pool, sink, ts);
		else
			emit_gap(r, pool, sink, target - r->next_off, ts);
	}
	drain(r, pool, sink, ts);
	check_fin(r, sink, ts);
}

static int segment(struct tcp_reasm *r, struct tcp_reasm_pool *pool,
                   const struct tcp_reasm_sink *sink, uint32_t seq,
                   const uint8_t *p, uint32_t caplen, uint32_t len, bool fin,
                   uint64_t ts)
{
	if (caplen > len)
		caplen = len;
	if (!r->started)
		tcp_reasm_start(r, seq);
	pool->st.segments++;

	int64_t delta = (int32_t)(seq - r->next_seq);
	if (delta > (int64_t)TCP_REASM_WINDOW || delta < -(int64_t)TCP_REASM_WINDOW) {
		pool->st.out_of_window_bytes += len;
		return 0;
	}
	/* Offsets before the start of the stream (delta reaching below 0) are
	 * old data: clamp them away as retransmissions. */
	if (delta < 0 && (uint64_t)-delta > r->next_off) {
		uint64_t before = (uint64_t)-delta - r->next_off;
		if (before >= len) {
			pool->st.retransmitted_bytes += len;
			return 0;
		}
		pool->st.retransmitted_bytes += before;
		p += before;
		caplen = caplen > before ? caplen - (uint32_t)before : 0;
		len -= (uint32_t)before;
		delta += (int64_t)before;
	}
	uint64_t off = r->next_off + delta;
	uint64_t end = off + len;

	if (fin && !r->fin_seen) {
		r->fin_seen = true;
		r->fin_off = end;
	}
	if (r->closed) {
		uint64_t from = off > r->next_off ? off : r->next_off;
		uint64_t beyond = end > from ? end - from : 0;
		pool->st.out_of_window_bytes += beyond;
		pool->st.retransmitted_bytes += len - beyond;
		return 0;
	}

	int rc = 0;
	for (;;) {
		if (end <= r->next_off) {
			pool->st.retransmitted_bytes += len;
			break;
		}
		if (off < r->next_off) {
			uint32_t trim = (uint32_t)(r->next_off - off);
			pool->st.retransmitted_bytes += trim;
			p += trim;
			caplen = caplen > trim ? caplen - trim : 0;
			len -= trim;
			off = r->next_off;
		}
		if (off == r->next_off) {
			emit_data(r, pool, sink, p, caplen, len, ts);
			drain(r, pool, sink, ts);
			break;
		}
		if (!len)
			break;   /* a bare FIN ahead of a hole: fin_off is all we need */
		/* Early segment: hold it, making room first if a bound says so. */
		size_t need = hold_cost(r, off, caplen, len);
		if (!over_budget(r, pool, need)) {
			rc = hold(r, pool, off, p, caplen, len);
			break;
		}
		pool->st.limit_skips++;
		uint64_t gap_before = pool->st.gap_bytes;
		if (r->held)
			skip_to_held(r, pool, sink, ts);
		else
			emit_gap(r, pool, sink, off - r->next_off, ts);
		pool->st.limit_skipped_bytes += pool->st.gap_bytes - gap_before;
		/* loop: the segment is now in order, behind, or still early */
	}
	check_fin(r, sink, ts);
	return rc;
}

int tcp_reasm_segment(struct tcp_reasm *r, struct tcp_reasm_pool *pool,
                      const struct tcp_reasm_sink *sink, uint32_t seq,
                      const uint8_t *p, uint32_t caplen, uint32_t len, bool fin,
                      uint64_t ts)
{
	int rc = segment(r, pool, sink, seq, p, caplen, len, fin, ts);
	tcp_reasm_sender_seen(r, pool, sink, ts);
	return rc;
}

void tcp_reasm_flush(struct tcp_reasm *r, struct tcp_reasm_pool *pool,
                     const struct tcp_reasm_sink *sink, uint64_t ts)
{
	if (r->started && !r->closed) {
		tcp_reasm_sender_seen(r, pool, sink, ts);
		while (!r->closed && r->held)
			skip_to_held(r, pool, sink, ts);
		if (!r->closed && r->fin_seen && r->next_off < r->fin_off)
			emit_gap(r, pool, sink, r->fin_off - r->next_off, ts);
	}
	r->closed = true;
	tcp_reasm_free(r, pool);
}

void tcp_reasm_free(struct tcp_reasm *r, struct tcp_reasm_pool *pool)
{
	while (r->held) {
		struct tcp_reasm_seg *s = r->held;
		r->held = s->next;
		seg_free(r, pool, s);
	}
}

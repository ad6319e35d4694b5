/* TCP reassembly: every byte delivered once, in order; holes reported as gaps
 * of the right length; bounds respected and counted. The stream content is a
 * function of the offset, so any misplaced byte is visible. */
#include "tcp_reasm.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

#define STREAM_MAX (1 << 20)

static uint8_t byte_at(uint64_t off) { return (uint8_t)(off * 131 + (off >> 8) * 7 + 3); }

struct out {
	uint64_t off;             /* stream offset of the next output byte */
	uint64_t data_bytes, gap_bytes;
	unsigned gaps, fins, data_calls;
	bool bad_byte;
	uint8_t got[STREAM_MAX];  /* 1: delivered as data, 2: reported as gap */
};

static void o_data(void *u, const uint8_t *p, size_t n, uint64_t ts)
{
	(void)ts;
	struct out *o = u;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != byte_at(o->off + i))
			o->bad_byte = true;
		if (o->off + i < STREAM_MAX)
			o->got[o->off + i] = 1;
	}
	o->off += n;
	o->data_bytes += n;
	o->data_calls++;
}

static void o_gap(void *u, uint64_t len, uint64_t ts)
{
	(void)ts;
	struct out *o = u;
	for (uint64_t i = 0; i < len; i++)
		if (o->off + i < STREAM_MAX)
			o->got[o->off + i] = 2;
	o->off += len;
	o->gap_bytes += len;
	o->gaps++;
}

static void o_fin(void *u, uint64_t ts)
{
	(void)ts;
	((struct out *)u)->fins++;
}

struct rig {
	struct tcp_reasm r;
	struct tcp_reasm_pool pool;
	struct tcp_reasm_sink sink;
	struct out *o;
	uint32_t isn1;            /* sequence number of stream offset 0 */
	uint8_t buf[STREAM_MAX];
};

static struct rig *rig_new(uint32_t isn1, size_t max_total, size_t max_stream)
{
	struct rig *g = calloc(1, sizeof(*g));
	g->o = calloc(1, sizeof(*g->o));
	tcp_reasm_pool_init(&g->pool, max_total, max_stream);
	tcp_reasm_init(&g->r);
	tcp_reasm_start(&g->r, isn1);
	g->isn1 = isn1;
	g->sink = (struct tcp_reasm_sink){ o_data, o_gap, o_fin, g->o };
	for (size_t i = 0; i < STREAM_MAX; i++)
		g->buf[i] = byte_at(i);
	return g;
}

static void rig_free(struct rig *g)
{
	tcp_reasm_free(&g->r, &g->pool);
	free(g->o);
	free(g);
}

/* Send stream bytes [off, off + len) as one segment. */
static int seg(struct rig *g, uint64_t off, uint32_t len, bool fin)
{
	return tcp_reasm_segment(&g->r, &g->pool, &g->sink, g->isn1 + (uint32_t)off,
	                         g->buf + off, len, len, fin, 0);
}

/* The peer acknowledges off; then the sender sends something (a pure ACK):
 * holes below off become gaps. */
static void ack(struct rig *g, uint64_t off)
{
	tcp_reasm_ack(&g->r, g->isn1 + (uint32_t)off);
	tcp_reasm_sender_seen(&g->r, &g->pool, &g->sink, 0);
}

static uint64_t rnd_state = 88172645463325252ull;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void test_in_order(void)
{
	struct rig *g = rig_new(1000, 1 << 20, 1 << 20);
	for (int i = 0; i < 100; i++)
		seg(g, (uint64_t)i * 100, 100, i == 99);
	CHECK_U64("in-order: all bytes delivered", g->o->data_bytes, 10000);
	CHECK("in-order: content right", !g->o->bad_byte);
	CHECK_U64("in-order: no gap", g->o->gaps, 0);
	CHECK_U64("in-order: fin once", g->o->fins, 1);
	CHECK_U64("in-order: nothing held", g->pool.used, 0);
	rig_free(g);
}

/* Random segmentation, order, duplicates and overlapping resends: the
 * output must be the stream, exactly once. */
static void test_shuffled(uint32_t isn1, const char *name)
{
	enum { N = 200000 };
	struct rig *g = rig_new(isn1, 64 << 20, 64 << 20);
	struct { uint64_t off; uint32_t len; } segs[6000];
	size_t n = 0;
	uint64_t off = 0;
	while (off < N) {
		uint32_t len = 1 + (uint32_t)(rnd() % 1460);
		if (off + len > N)
			len = (uint32_t)(N - off);
		segs[n].off = off;
		segs[n++].len = len;
		off += len;
	}
	/* overlapping resends with different boundaries */
	size_t base = n;
	for (size_t i = 0; i < base / 4; i++) {
		uint64_t o = rnd() % N;
		uint32_t len = 1 + (uint32_t)(rnd() % 3000);
		if (o + len > N)
			len = (uint32_t)(N - o);
		segs[n].off = o;
		segs[n++].len = len;
	}
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rnd() % (i + 1);
		__typeof__(segs[0]) t = segs[i];
		segs[i] = segs[j];
		segs[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		seg(g, segs[i].off, segs[i].len, false);
	char nm[128];
	snprintf(nm, sizeof(nm), "%s: every byte delivered once", name);
	CHECK_U64(nm, g->o->data_bytes, N);
	snprintf(nm, sizeof(nm), "%s: content in order", name);
	CHECK(nm, !g->o->bad_byte);
	snprintf(nm, sizeof(nm), "%s: no gap", name);
	CHECK_U64(nm, g->o->gap_bytes, 0);
	snprintf(nm, sizeof(nm), "%s: nothing left held", name);
	CHECK_U64(nm, g->pool.used, 0);
	snprintf(nm, sizeof(nm), "%s: duplicates counted", name);
	CHECK(nm, g->pool.st.retransmitted_bytes + g->pool.st.overlap_bytes > 0);
	rig_free(g);
}

/* Lost segments (never resent): after flush, gaps cover exactly them. */
static void test_loss(void)
{
	struct rig *g = rig_new(77, 1 << 20, 1 << 20);
	bool lost[100] = { false };
	lost[3] = lost[4] = lost[50] = lost[99] = true;
	for (int i = 0; i < 100; i++)
		if (!lost[i])
			seg(g, (uint64_t)i * 1000, 1000, false);
	CHECK_U64("loss: delivered up to the first hole", g->o->data_bytes, 3000);
	tcp_reasm_flush(&g->r, &g->pool, &g->sink, 0);
	CHECK_U64("loss: delivered all but the lost", g->o->data_bytes, 96000);
	/* the trailing lost segment is unknowable without an ACK or FIN */
	CHECK_U64("loss: gap bytes = lost inner segments", g->o->gap_bytes, 3000);
	CHECK_U64("loss: two gaps (3-4 merged, 50)", g->o->gaps, 2);
	bool placed = true;
	for (int i = 0; i < 99; i++)
		for (int k = 0; k < 1000; k++)
			if (g->o->got[i * 1000 + k] != (lost[i] ? 2 : 1))
				placed = false;
	CHECK("loss: gaps exactly where the holes are", placed);
	CHECK("loss: content right", !g->o->bad_byte);
	rig_free(g);
}

/* The peer's ACK beyond a hole reports the gap at once. */
static void test_ack_gap(void)
{
	struct rig *g = rig_new(5, 1 << 20, 1 << 20);
	seg(g, 0, 100, false);
	seg(g, 200, 100, false);      /* [100,200) lost */
	CHECK_U64("ack-gap: held before ack", g->o->data_bytes, 100);
	ack(g, 150);                  /* peer got 150: [100,150) is lost for us */
	CHECK_U64("ack-gap: gap reported on ack", g->o->gap_bytes, 50);
	CHECK_U64("ack-gap: hole above the ack still open", g->o->data_bytes, 100);
	ack(g, 250);
	CHECK_U64("ack-gap: second hole reported", g->o->gap_bytes, 100);
	CHECK_U64("ack-gap: held data delivered", g->o->data_bytes, 200);
	ack(g, 400);                  /* beyond everything: [300,400) lost too */
	CHECK_U64("ack-gap: trailing loss reported", g->o->gap_bytes, 200);
	seg(g, 300, 100, false);      /* late copy of what we declared lost */
	CHECK_U64("ack-gap: late bytes not delivered twice", g->o->data_bytes, 200);
	CHECK_U64("ack-gap: late bytes counted", g->pool.st.retransmitted_bytes, 100);
	seg(g, 400, 10, true);
	CHECK_U64("ack-gap: fin after data", g->o->fins, 1);
	ack(g, 411);
	CHECK_U64("ack-gap: ack of FIN is no gap", g->o->gap_bytes, 200);
	rig_free(g);
}

/* An ACK can overtake the data it acknowledges (capture point sees the two
 * directions on different paths): no gap while the hole can still fill. */
static void test_ack_overtakes(void)
{
	struct rig *g = rig_new(5, 1 << 20, 1 << 20);
	seg(g, 0, 100, false);
	seg(g, 200, 100, false);
	tcp_reasm_ack(&g->r, g->isn1 + 300);
	seg(g, 100, 100, false);      /* the data the ACK covered, late */
	CHECK_U64("ack overtakes data: no gap", g->o->gap_bytes, 0);
	CHECK_U64("ack overtakes data: all delivered", g->o->data_bytes, 300);
	tcp_reasm_ack(&g->r, g->isn1 + 400);
	seg(g, 500, 10, false);       /* sender moves on: [300,400) is lost */
	CHECK_U64("ack then sender activity: gap", g->o->gap_bytes, 100);
	tcp_reasm_ack(&g->r, g->isn1 + 600);
	tcp_reasm_flush(&g->r, &g->pool, &g->sink, 0);
	CHECK_U64("flush reports acknowledged loss", g->o->gap_bytes, 100 + 100 + 90);
	rig_free(g);
}

/* A one-byte ACK advance with nothing held is a missed FIN, not data. */
static void test_ack_fin_missed(void)
{
	struct rig *g = rig_new(9, 1 << 20, 1 << 20);
	seg(g, 0, 10, false);
	ack(g, 11);
	CHECK_U64("missed-fin ack: no gap", g->o->gap_bytes, 0);
	rig_free(g);
}

static void test_wrap(void)
{
	struct rig *g = rig_new(0xFFFFFF00u, 1 << 20, 1 << 20);
	seg(g, 0, 200, false);
	seg(g, 400, 200, false);      /* after the wrap, early */
	seg(g, 200, 200, false);      /* straddles 2^32 */
	CHECK_U64("wrap: all delivered", g->o->data_bytes, 600);
	CHECK("wrap: content right", !g->o->bad_byte);
	CHECK_U64("wrap: no gap", g->o->gaps, 0);
	rig_free(g);
}

/* Per-stream bound: held bytes never exceed it; a skip is counted and the
 * stream keeps flowing; nothing is delivered twice. */
static void test_stream_limit(void)
{
	const size_t lim = 8 * (1000 + 64);
	struct rig *g = rig_new(1, 1 << 20, lim);
	for (int i = 20; i >= 1; i--) {     /* everything early but segment 0 */
		seg(g, (uint64_t)i * 1000, 1000, false);
		if (g->r.held_bytes > lim)
			break;
	}
	CHECK("limit: held bytes within the bound", g->r.held_bytes <= lim);
	CHECK("limit: skips counted", g->pool.st.limit_skips > 0);
	CHECK_U64("limit: skipped bytes are gap bytes", g->pool.st.limit_skipped_bytes, g->o->gap_bytes);
	seg(g, 0, 1000, false);             /* the hole fills late */
	tcp_reasm_flush(&g->r, &g->pool, &g->sink, 0);
	CHECK_U64("limit: every offset accounted once", g->o->data_bytes + g->o->gap_bytes, 21000);
	CHECK("limit: content right", !g->o->bad_byte);
	CHECK_U64("limit: pool empty after flush", g->pool.used, 0);
	rig_free(g);
}

/* Shared bound across streams. */
static void test_total_limit(void)
{
	struct tcp_reasm_pool pool;
	const size_t lim = 4 * (1000 + 64);
	tcp_reasm_pool_init(&pool, lim, 1 << 20);
	struct tcp_reasm a, b;
	tcp_reasm_init(&a);
	tcp_reasm_init(&b);
	tcp_reasm_start(&a, 0);
	tcp_reasm_start(&b, 0);
	struct out *oa = calloc(1, sizeof(*oa)), *ob = calloc(1, sizeof(*ob));
	struct tcp_reasm_sink sa = { o_data, o_gap, o_fin, oa }, sb = { o_data, o_gap, o_fin, ob };
	uint8_t *buf = malloc(20000);
	for (int i = 0; i < 20000; i++)
		buf[i] = byte_at((uint64_t)i);
	size_t peak = 0;
	for (int i = 1; i < 10; i++) {
		tcp_reasm_segment(&a, &pool, &sa, (uint32_t)i * 1000, buf + i * 1000, 1000, 1000, false, 0);
		tcp_reasm_segment(&b, &pool, &sb, (uint32_t)i * 1000, buf + i * 1000, 1000, 1000, false, 0);
		if (pool.used > peak)
			peak = pool.used;
	}
	CHECK("total limit: never above the shared bound", peak <= lim && pool.peak <= lim);
	CHECK("total limit: skips counted", pool.st.limit_skips > 0);
	CHECK("total limit: content right", !oa->bad_byte && !ob->bad_byte);
	tcp_reasm_flush(&a, &pool, &sa, 0);
	tcp_reasm_flush(&b, &pool, &sb, 0);
	CHECK_U64("total limit: stream a accounted", oa->data_bytes + oa->gap_bytes, 10000);
	CHECK_U64("total limit: stream b accounted", ob->data_bytes + ob->gap_bytes, 10000);
	free(buf);
	free(oa);
	free(ob);
}

/* Snap length: bytes not captured are a gap of exactly their length, in
 * order and out of order. */
/* fuzz_reasm finding: a segment spanning several holes is held as several
 * pieces; their headers count too, so the bound must hold for all of them. */
static void test_multi_piece_bound(void)
{
	struct rig *g = rig_new(1, 1 << 20, 1 << 20);
	for (int i = 1; i <= 9; i++)
		seg(g, 100 + 10 * (uint64_t)i, 1, false);   /* nine 1-byte pieces */
	/* room for the new segment as one piece, not as the ten it becomes */
	g->pool.max_per_stream = g->r.held_bytes + 100 + 64;
	const size_t lim = g->pool.max_per_stream;
	seg(g, 100, 100, false);
	CHECK("multi-piece: bound respected", g->r.held_bytes <= lim && g->pool.peak <= lim);
	tcp_reasm_flush(&g->r, &g->pool, &g->sink, 0);
	CHECK_U64("multi-piece: every offset accounted once", g->o->data_bytes + g->o->gap_bytes, 200);
	CHECK("multi-piece: content right", !g->o->bad_byte);
	rig_free(g);
}

static void test_snaplen(void)
{
	struct rig *g = rig_new(100, 1 << 20, 1 << 20);
	tcp_reasm_segment(&g->r, &g->pool, &g->sink, 100, g->buf, 60, 1000, false, 0);
	CHECK_U64("snaplen: captured part delivered", g->o->data_bytes, 60);
	CHECK_U64("snaplen: rest is a gap", g->o->gap_bytes, 940);
	tcp_reasm_segment(&g->r, &g->pool, &g->sink, 100 + 2000, g->buf + 2000, 50, 1000, false, 0);
	tcp_reasm_segment(&g->r, &g->pool, &g->sink, 100 + 1000, g->buf + 1000, 1000, 1000, false, 0);
	CHECK_U64("snaplen ooo: delivered", g->o->data_bytes, 1110);
	CHECK_U64("snaplen ooo: gaps", g->o->gap_bytes, 940 + 950);
	CHECK_U64("snaplen: counted apart", g->pool.st.gap_bytes_snaplen, 940 + 950);
	CHECK("snaplen: content right", !g->o->bad_byte);
	rig_free(g);
}

static void test_fin_hole(void)
{
	struct rig *g = rig_new(1, 1 << 20, 1 << 20);
	seg(g, 0, 100, false);
	seg(g, 200, 100, true);
	CHECK_U64("fin after hole: not yet", g->o->fins, 0);
	seg(g, 100, 100, false);
	CHECK_U64("fin after hole: once filled", g->o->fins, 1);
	CHECK_U64("fin after hole: all data", g->o->data_bytes, 300);
	seg(g, 300, 50, false);
	CHECK_U64("data after FIN ignored", g->o->data_bytes, 300);
	rig_free(g);

	g = rig_new(1, 1 << 20, 1 << 20);
	seg(g, 0, 100, false);
	seg(g, 300, 0, true);             /* bare FIN: [100,300) lost */
	tcp_reasm_flush(&g->r, &g->pool, &g->sink, 0);
	CHECK_U64("flush: hole before FIN is a gap", g->o->gap_bytes, 200);
	rig_free(g);
}

static void test_window(void)
{
	struct rig *g = rig_new(1, 1 << 20, 1 << 20);
	tcp_reasm_segment(&g->r, &g->pool, &g->sink, 1 + 0x7000000u * 16, g->buf, 100, 100, false, 0);
	CHECK_U64("far segment ignored", g->o->data_bytes + g->r.held_bytes, 0);
	CHECK_U64("far segment counted", g->pool.st.out_of_window_bytes, 100);
	/* data from before the stream start (joined mid-stream) */
	tcp_reasm_segment(&g->r, &g->pool, &g->sink, 1 - 50, g->buf, 80, 80, false, 0);
	CHECK_U64("pre-start bytes dropped, rest delivered", g->o->data_bytes, 30);
	rig_free(g);
}

int main(void)
{
	test_in_order();
	test_shuffled(12345, "shuffled");
	test_shuffled(0xFFFF0000u, "shuffled across wrap");
	test_loss();
	test_ack_gap();
	test_ack_fin_missed();
	test_ack_overtakes();
	test_wrap();
	test_stream_limit();
	test_total_limit();
	test_snaplen();
	test_multi_piece_bound();
	test_fin_hole();
	test_window();
	return CHECK_DONE();
}

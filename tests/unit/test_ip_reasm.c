/* l7/ip_reasm.c: order, duplicates, overlaps (RFC 5722), timeouts, bounds,
 * every drop counted with its reason. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ip_reasm.h"

#define SEC 1000000000ull

static uint8_t dg[IP_REASM_MAX_PAYLOAD + 64];   /* the datagram's payload: byte k is a function of k */

static const uint8_t A4[16] = { 198, 18, 0, 2 }, B4[16] = { 198, 18, 0, 1 };
static const uint8_t A6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t B6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

static struct ip_frag frag(uint8_t family, uint32_t id, uint32_t off, uint32_t len, bool more)
{
	struct ip_frag f = {
		.family = family, .proto = 17, .saddr = family == 4 ? A4 : A6,
		.daddr = family == 4 ? B4 : B6, .id = id, .offset = off, .more = more,
		.data = dg + off, .len = len, .caplen = len,
	};
	return f;
}

static struct ip_reasm *mk(size_t dgrams, size_t bytes, uint64_t timeout)
{
	struct ip_reasm_config cfg = { .max_datagrams = dgrams, .max_bytes = bytes, .timeout_ns = timeout };
	return ip_reasm_new(&cfg);
}

static struct ip_reasm *mk_default(void)
{
	return mk(IP_REASM_DEFAULT_DATAGRAMS, IP_REASM_DEFAULT_BYTES, IP_REASM_DEFAULT_TIMEOUT_NS);
}

static const uint8_t *out;
static uint32_t out_len;

static int add(struct ip_reasm *r, struct ip_frag f, uint64_t ts)
{
	out = NULL;
	out_len = 0;
	return ip_reasm_add(r, &f, ts, &out, &out_len);
}

static bool out_is(uint32_t len)
{
	return out && out_len == len && memcmp(out, dg, len) == 0;
}

/* Three fragments of a 3000-byte payload in the given order. */
static void order(const char *name, const int ord[3], uint8_t family)
{
	char nm[128];
	struct ip_reasm *r = mk_default();
	const uint32_t off[3] = { 0, 1232, 2464 }, len[3] = { 1232, 1232, 536 };
	for (int i = 0; i < 3; i++) {
		int k = ord[i];
		int rc = add(r, frag(family, 7, off[k], len[k], k < 2), SEC + (uint64_t)i);
		snprintf(nm, sizeof(nm), "%s: fragment %d", name, i + 1);
		CHECK_U64(nm, rc, i < 2 ? IP_REASM_HELD : IP_REASM_COMPLETE);
	}
	snprintf(nm, sizeof(nm), "%s: the payload", name);
	CHECK(nm, out_is(3000));
	const struct ip_reasm_stats *st = ip_reasm_get_stats(r);
	snprintf(nm, sizeof(nm), "%s: counted", name);
	CHECK(nm, st->fragments == 3 && st->reassembled == 1 && st->in_progress == 0 &&
	          st->held_bytes == 0 && st->held_bytes_peak > 3000 - 536);
	ip_reasm_free(r);
}

static void test_order(void)
{
	static const int inorder[3] = { 0, 1, 2 }, reverse[3] = { 2, 1, 0 }, mixed[3] = { 1, 2, 0 },
	                 first_last[3] = { 0, 2, 1 };
	order("ipv4 in order", inorder, 4);
	order("ipv4 reversed", reverse, 4);
	order("ipv4 first fragment last", mixed, 4);
	order("ipv4 middle fragment last", first_last, 4);
	order("ipv6 in order", inorder, 6);
	order("ipv6 reversed", reverse, 6);
}

/* Datagrams are told apart by every part of the key. */
static void test_keys(void)
{
	struct ip_reasm *r = mk_default();
	struct ip_frag a = frag(4, 1, 0, 8, true), b;
	CHECK_U64("keys: first", add(r, a, SEC), IP_REASM_HELD);
	b = frag(4, 2, 8, 8, false);
	CHECK_U64("keys: other id", add(r, b, SEC), IP_REASM_HELD);
	b = frag(4, 1, 8, 8, false);
	b.proto = 6;
	CHECK_U64("keys: other protocol", add(r, b, SEC), IP_REASM_HELD);
	b = frag(4, 1, 8, 8, false);
	b.saddr = A6;
	CHECK_U64("keys: other source", add(r, b, SEC), IP_REASM_HELD);
	b = frag(6, 1, 8, 8, false);
	b.saddr = A4;
	b.daddr = B4;
	CHECK_U64("keys: other family", add(r, b, SEC), IP_REASM_HELD);
	CHECK_U64("keys: 5 in progress", ip_reasm_get_stats(r)->in_progress, 5);
	CHECK_U64("keys: the right one completes", add(r, frag(4, 1, 8, 8, false), SEC), IP_REASM_COMPLETE);
	CHECK("keys: its payload", out_is(16));
	ip_reasm_expire_all(r);
	const struct ip_reasm_stats *st = ip_reasm_get_stats(r);
	CHECK("keys: the rest time out at the end", st->timeouts == 4 && st->in_progress == 0 &&
	                                             st->held_bytes == 0);
	ip_reasm_free(r);
}

static void test_duplicates(void)
{
	struct ip_reasm *r = mk_default();
	CHECK_U64("dup: first", add(r, frag(4, 9, 0, 16, true), SEC), IP_REASM_HELD);
	CHECK_U64("dup: first again", add(r, frag(4, 9, 0, 16, true), SEC), IP_REASM_DUPLICATE);
	CHECK_U64("dup: last", add(r, frag(4, 9, 32, 5, false), SEC), IP_REASM_HELD);
	CHECK_U64("dup: last again", add(r, frag(4, 9, 32, 5, false), SEC), IP_REASM_DUPLICATE);
	CHECK_U64("dup: middle completes", add(r, frag(4, 9, 16, 16, true), SEC), IP_REASM_COMPLETE);
	CHECK("dup: payload", out_is(37));
	const struct ip_reasm_stats *st = ip_reasm_get_stats(r);
	CHECK("dup: counted, nothing dropped", st->duplicates == 2 && st->reassembled == 1 &&
	                                        st->overlaps == 0 && st->held_bytes == 0);
	ip_reasm_free(r);
}

/* Any overlap that is not an exact copy drops the datagram, and its
 * fragments still to come. */
static void overlap(const char *name, uint8_t family, struct ip_frag second)
{
	char nm[128];
	struct ip_reasm *r = mk_default();
	add(r, frag(family, 3, 0, 16, true), SEC);
	add(r, frag(family, 3, 16, 16, true), SEC);
	snprintf(nm, sizeof(nm), "%s: dropped", name);
	CHECK_U64(nm, add(r, second, SEC), IP_REASM_OVERLAP);
	snprintf(nm, sizeof(nm), "%s: later fragments discarded", name);
	CHECK_U64(nm, add(r, frag(family, 3, 32, 8, false), SEC), IP_REASM_DISCARDED);
	const struct ip_reasm_stats *st = ip_reasm_get_stats(r);
	snprintf(nm, sizeof(nm), "%s: counted, bytes released", name);
	CHECK(nm, st->overlaps == 1 && st->discarded_fragments == 1 && st->reassembled == 0 &&
	          st->in_progress == 0 && st->held_bytes < 256);
	/* remembered until its timeout, then forgotten without a timeout count */
	ip_reasm_expire(r, SEC + IP_REASM_DEFAULT_TIMEOUT_NS);
	snprintf(nm, sizeof(nm), "%s: forgotten after the timeout", name);
	CHECK(nm, st->held_bytes == 0 && st->timeouts == 0);
	snprintf(nm, sizeof(nm), "%s: a new datagram with the id", name);
	CHECK_U64(nm, add(r, frag(family, 3, 0, 16, true), 2 * SEC + IP_REASM_DEFAULT_TIMEOUT_NS),
	          IP_REASM_HELD);
	ip_reasm_free(r);
}

static void test_overlaps(void)
{
	struct ip_frag f;
	overlap("ipv6 overlap inside", 6, frag(6, 3, 8, 16, true));
	overlap("ipv6 overlap at the end", 6, frag(6, 3, 24, 16, false));
	overlap("ipv4 overlap across two", 4, frag(4, 3, 8, 16, true));
	overlap("ipv4 overlap covering", 4, frag(4, 3, 0, 32, true));
	f = frag(4, 3, 16, 16, true);
	f.data = dg + 1;
	overlap("ipv4 same place, other bytes", 4, f);
	overlap("ipv4 same place, now last", 4, frag(4, 3, 16, 16, false));
}

static void test_malformed(void)
{
	struct ip_reasm *r = mk_default();
	CHECK_U64("malformed: non-last length not a multiple of 8", add(r, frag(4, 1, 0, 12, true), SEC),
	          IP_REASM_MALFORMED);
	CHECK_U64("malformed: ... rest discarded", add(r, frag(4, 1, 16, 8, false), SEC), IP_REASM_DISCARDED);
	add(r, frag(4, 2, 16, 8, false), SEC);
	CHECK_U64("malformed: two ends", add(r, frag(4, 2, 32, 8, false), SEC), IP_REASM_MALFORMED);
	add(r, frag(4, 3, 16, 8, false), SEC);
	CHECK_U64("malformed: past the end", add(r, frag(4, 3, 24, 8, true), SEC), IP_REASM_MALFORMED);
	add(r, frag(4, 4, 16, 8, true), SEC);
	CHECK_U64("malformed: end before held data", add(r, frag(4, 4, 0, 8, false), SEC), IP_REASM_MALFORMED);
	CHECK_U64("malformed: empty fragment", add(r, frag(4, 5, 8, 0, true), SEC), IP_REASM_MALFORMED);
	CHECK_U64("too big: beyond 65535", add(r, frag(4, 6, 65528, 16, false), SEC), IP_REASM_TOO_BIG);
	CHECK_U64("too big: ... rest discarded", add(r, frag(4, 6, 0, 8, true), SEC), IP_REASM_DISCARDED);
	/* exactly 65535 is fine */
	struct ip_reasm *r2 = mk_default();
	int rc = IP_REASM_HELD;
	for (uint32_t off = 0; off < 65535 && rc == IP_REASM_HELD; off += 1480) {
		uint32_t len = 65535 - off < 1480 ? 65535 - off : 1480;
		rc = add(r2, frag(6, 1, off, len, off + len < 65535), SEC);
	}
	CHECK_U64("largest datagram: complete", rc, IP_REASM_COMPLETE);
	CHECK("largest datagram: payload", out_is(65535));
	ip_reasm_free(r2);
	const struct ip_reasm_stats *st = ip_reasm_get_stats(r);
	CHECK_U64("malformed: counted", st->malformed, 5);
	CHECK_U64("too big: counted", st->too_big, 1);
	CHECK_U64("malformed: discarded counted", st->discarded_fragments, 2);
	ip_reasm_free(r);
}

static void test_truncated(void)
{
	struct ip_reasm *r = mk_default();
	add(r, frag(4, 1, 0, 1480, true), SEC);
	struct ip_frag f = frag(4, 1, 1480, 1480, true);
	f.caplen = 100;
	CHECK_U64("truncated: the cut fragment drops the datagram", add(r, f, SEC), IP_REASM_TRUNCATED);
	CHECK_U64("truncated: the rest discarded", add(r, frag(4, 1, 2960, 40, false), SEC), IP_REASM_DISCARDED);
	f = frag(4, 2, 0, 1480, true);
	f.caplen = 0;
	CHECK_U64("truncated: a cut first fragment", add(r, f, SEC), IP_REASM_TRUNCATED);
	CHECK_U64("truncated: its rest discarded", add(r, frag(4, 2, 1480, 40, false), SEC), IP_REASM_DISCARDED);
	const struct ip_reasm_stats *st = ip_reasm_get_stats(r);
	CHECK("truncated: counted", st->truncated == 2 && st->discarded_fragments == 2 &&
	                            st->reassembled == 0 && st->in_progress == 0);
	ip_reasm_free(r);
}

static void test_timeout(void)
{
	struct ip_reasm *r = mk(16, 1 << 20, 30 * SEC);
	const struct ip_reasm_stats *st = ip_reasm_get_stats(r);
	add(r, frag(4, 1, 0, 8, true), 100 * SEC);
	add(r, frag(4, 2, 0, 8, true), 110 * SEC);
	CHECK_U64("timeout: 29.9 s later, still there", add(r, frag(4, 1, 16, 8, false), 129 * SEC + SEC / 2),
	          IP_REASM_HELD);
	CHECK_U64("timeout: ... and completes", add(r, frag(4, 1, 8, 8, true), 129 * SEC + SEC / 2 + 1),
	          IP_REASM_COMPLETE);
	add(r, frag(4, 3, 0, 8, true), 130 * SEC);
	/* the timeout counts from the first fragment, not the last */
	add(r, frag(4, 2, 16, 8, false), 139 * SEC);
	CHECK_U64("timeout: at 30 s after the first fragment", add(r, frag(4, 2, 8, 8, true), 140 * SEC),
	          IP_REASM_HELD);
	CHECK_U64("timeout: counted", st->timeouts, 1);
	CHECK_U64("timeout: the late fragment starts over", st->in_progress, 2);
	ip_reasm_expire(r, 159 * SEC);
	CHECK_U64("timeout: expire without a fragment (not yet)", st->timeouts, 1);
	ip_reasm_expire(r, 160 * SEC);
	CHECK_U64("timeout: expire without a fragment", st->timeouts, 2);
	/* time does not go back: an older timestamp is taken as now */
	ip_reasm_expire(r, 10 * SEC);
	CHECK_U64("timeout: clock going back", add(r, frag(4, 9, 0, 8, true), 5 * SEC), IP_REASM_HELD);
	ip_reasm_expire(r, 189 * SEC);
	CHECK_U64("timeout: ... timed from the latest time seen", st->timeouts, 3);
	ip_reasm_expire_all(r);
	CHECK("timeout: end of input", st->timeouts == 4 && st->held_bytes == 0 && st->in_progress == 0);
	ip_reasm_free(r);
}

static void test_bounds(void)
{
	/* datagrams: the oldest is evicted */
	struct ip_reasm *r = mk(2, 1 << 20, 30 * SEC);
	const struct ip_reasm_stats *st = ip_reasm_get_stats(r);
	add(r, frag(4, 1, 0, 8, true), SEC);
	add(r, frag(4, 2, 0, 8, true), SEC + 1);
	add(r, frag(4, 3, 0, 8, true), SEC + 2);
	CHECK("bound datagrams: oldest evicted", st->limit_drops == 1 && st->in_progress == 2);
	CHECK_U64("bound datagrams: the evicted one does not complete",
	          add(r, frag(4, 1, 8, 8, false), SEC + 3), IP_REASM_HELD);
	CHECK_U64("bound datagrams: ... evicting the next oldest", st->limit_drops, 2);
	CHECK_U64("bound datagrams: the newest completes",
	          add(r, frag(4, 3, 8, 8, false), SEC + 4), IP_REASM_COMPLETE);
	ip_reasm_free(r);

	/* bytes: older datagrams make room, then the datagram itself goes */
	r = mk(64, 8192, 30 * SEC);
	st = ip_reasm_get_stats(r);
	add(r, frag(4, 1, 0, 2000, true), SEC);
	add(r, frag(4, 2, 0, 2000, true), SEC);
	add(r, frag(4, 3, 0, 2000, true), SEC);
	CHECK("bound bytes: three fit", st->in_progress == 3 && st->held_bytes <= 8192);
	add(r, frag(4, 4, 0, 2000, true), SEC);
	CHECK("bound bytes: the oldest made room", st->limit_drops == 1 && st->in_progress == 3 &&
	                                           st->held_bytes <= 8192);
	CHECK_U64("bound bytes: a datagram larger than the bound",
	          add(r, frag(4, 4, 2000, 8000, true), SEC), IP_REASM_LIMIT);
	CHECK("bound bytes: dropped after the others", st->limit_drops == 4 && st->in_progress == 0 &&
	                                              st->held_bytes < 256);
	CHECK("bound bytes: peak within the bound", st->held_bytes_peak <= 8192);
	ip_reasm_free(r);

	/* fragments per datagram */
	r = mk_default();
	st = ip_reasm_get_stats(r);
	int rc = IP_REASM_HELD;
	uint32_t k;
	for (k = 0; k <= IP_REASM_MAX_FRAGMENTS && rc == IP_REASM_HELD; k++)
		rc = add(r, frag(4, 1, k * 8, 8, true), SEC);
	CHECK_U64("bound fragments: the one past the bound", k, IP_REASM_MAX_FRAGMENTS + 1);
	CHECK_U64("bound fragments: drops the datagram", rc, IP_REASM_LIMIT);
	CHECK("bound fragments: counted", st->limit_drops == 1 && st->in_progress == 0);
	ip_reasm_free(r);

	struct ip_reasm_config bad = { .max_datagrams = 0, .max_bytes = 1, .timeout_ns = 1 };
	errno = 0;
	CHECK("config: no datagrams refused", !ip_reasm_new(&bad) && errno == EINVAL);
}

static void test_discard(void)
{
	struct ip_reasm *r = mk_default();
	struct ip_frag f = frag(6, 5, 8, 8, false);
	add(r, f, SEC);
	CHECK("discard: held one dropped", ip_reasm_discard(r, &f));
	CHECK("discard: none left", !ip_reasm_discard(r, &f));
	const struct ip_reasm_stats *st = ip_reasm_get_stats(r);
	CHECK("discard: counted", st->discarded == 1 && st->in_progress == 0 && st->held_bytes == 0);
	ip_reasm_free(r);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(dg); i++)
		dg[i] = (uint8_t)((i * 2654435761u) >> 24);
	test_order();
	test_keys();
	test_duplicates();
	test_overlaps();
	test_malformed();
	test_truncated();
	test_timeout();
	test_bounds();
	test_discard();
	return CHECK_DONE();
}

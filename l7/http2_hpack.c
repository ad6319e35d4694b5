/* SPDX-License-Identifier: BSD-2-Clause */
/* HPACK for a passive observer around nghttp2's inflater: see http2_hpack.h
 * for the model (known table prefix, unknown tail, empty-name marker). */
#include "http2_hpack.h"

#include <nghttp2/nghttp2.h>
#include <stdlib.h>
#include <string.h>

#define HPACK_DEFAULT_TABLE 4096u
#define HPACK_ENTRY_OVERHEAD 32u    /* RFC 7541 §4.1 */
#define HPACK_STATIC_ENTRIES 61u
#define BOUND_UNKNOWN UINT64_MAX
/* Leading integer of a representation: prefix byte + up to 5 continuation
 * bytes (values up to 2^32 and a bit; anything longer is corrupt). */
#define INT_MAX_BYTES 6

enum rep_kind { REP_INDEXED, REP_LIT_INC, REP_LIT_NOINC, REP_LIT_NEVER, REP_SIZE_UPDATE };

struct h2_hpack {
	nghttp2_hd_inflater *inf;   /* NULL after an allocation failure */
	uint32_t limit;             /* table bound given to the inflater */
	uint32_t pending_limit;     /* raise at the next block boundary (0: none) */
	bool tail_unknown;          /* the encoder may hold entries we never saw */
	bool reset_pending;         /* table lost: restart at the next block */
	uint64_t enc_bound;         /* upper bound of the encoder's current table size */
	uint64_t inserted;          /* bytes inserted since restart (lower bound of
	                             * the encoder's accounting) */

	/* current block */
	bool in_block, failed, in_literal, literal_inserts;
	uint32_t fields, unknown;
	uint8_t carry[INT_MAX_BYTES];
	size_t ncarry;

	struct h2_hpack_stats stats;
};

static void apply_limit(struct h2_hpack *hp, uint32_t limit)
{
	if (hp->inf && nghttp2_hd_inflate_change_table_size(hp->inf, limit) == 0)
		hp->limit = limit;
}

/* A new, empty inflater: only entries inserted from now on are known. */
static void restart(struct h2_hpack *hp)
{
	if (hp->inf)
		nghttp2_hd_inflate_del(hp->inf);
	hp->inf = NULL;
	if (nghttp2_hd_inflate_new(&hp->inf) != 0)
		hp->inf = NULL;
	uint32_t limit = hp->limit;
	hp->limit = HPACK_DEFAULT_TABLE;
	if (limit != HPACK_DEFAULT_TABLE)
		apply_limit(hp, limit);
	hp->tail_unknown = true;
	hp->reset_pending = false;
	hp->enc_bound = BOUND_UNKNOWN;
	hp->inserted = 0;
}

struct h2_hpack *h2_hpack_new(bool table_known)
{
	struct h2_hpack *hp = calloc(1, sizeof(*hp));
	if (!hp)
		return NULL;
	if (nghttp2_hd_inflate_new(&hp->inf) != 0) {
		free(hp);
		return NULL;
	}
	hp->limit = HPACK_DEFAULT_TABLE;
	if (table_known) {
		hp->enc_bound = HPACK_DEFAULT_TABLE;
	} else {
		/* Settings were exchanged before we joined: mirror generously. */
		apply_limit(hp, H2_HPACK_MAX_TABLE);
		hp->tail_unknown = true;
		hp->enc_bound = BOUND_UNKNOWN;
	}
	return hp;
}

void h2_hpack_free(struct h2_hpack *hp)
{
	if (!hp)
		return;
	if (hp->inf)
		nghttp2_hd_inflate_del(hp->inf);
	free(hp);
}

void h2_hpack_settings_table_size(struct h2_hpack *hp, uint32_t size)
{
	/* The encoder may grow its table up to the new bound (some do without
	 * a size update), and still uses the old one until it updates. */
	if (hp->enc_bound != BOUND_UNKNOWN && size > hp->enc_bound)
		hp->enc_bound = size;
	if (size > H2_HPACK_MAX_TABLE) {
		/* It may keep entries we cannot mirror. */
		hp->tail_unknown = true;
		size = H2_HPACK_MAX_TABLE;
	}
	if (size <= hp->limit || size <= hp->pending_limit)
		return;   /* never lower our bound: a bigger table is harmless */
	if (hp->in_block)
		hp->pending_limit = size;
	else
		apply_limit(hp, size);
}

bool h2_hpack_table_known(const struct h2_hpack *hp)
{
	return !hp->tail_unknown && !hp->reset_pending;
}

const struct h2_hpack_stats *h2_hpack_stats(const struct h2_hpack *hp)
{
	return &hp->stats;
}

void h2_hpack_block_begin(struct h2_hpack *hp)
{
	if (hp->reset_pending) {
		restart(hp);
		hp->stats.desyncs++;
	}
	if (hp->pending_limit) {
		apply_limit(hp, hp->pending_limit);
		hp->pending_limit = 0;
	}
	hp->in_block = true;
	hp->failed = hp->inf == NULL;
	hp->in_literal = false;
	hp->fields = hp->unknown = 0;
	hp->ncarry = 0;
	if (hp->failed)
		hp->unknown++;
}

static void block_fail(struct h2_hpack *hp)
{
	if (hp->failed)
		return;
	hp->failed = true;
	hp->unknown++;              /* at least one field lost */
	hp->stats.unknown_fields++;
	hp->reset_pending = true;   /* insertions in the rest of the block are lost */
}

void h2_hpack_lost(struct h2_hpack *hp)
{
	hp->reset_pending = true;
	if (hp->in_block)
		block_fail(hp);
}

static void check_recovery(struct h2_hpack *hp)
{
	/* An entry older than everything inserted since the restart would make
	 * the table at least inserted + 32 bytes. */
	if (hp->tail_unknown && hp->enc_bound != BOUND_UNKNOWN &&
	    hp->inserted + HPACK_ENTRY_OVERHEAD > hp->enc_bound) {
		hp->tail_unknown = false;
		hp->stats.recoveries++;
	}
}

static void on_field(struct h2_hpack *hp, const nghttp2_nv *nv, bool inserted,
                     h2_hpack_field_fn fn, void *user)
{
	hp->fields++;
	if (inserted) {
		/* An unknown name counts as empty: a lower bound. */
		hp->inserted += nv->namelen + nv->valuelen + HPACK_ENTRY_OVERHEAD;
		check_recovery(hp);
	}
	if (nv->namelen == 0) {
		hp->unknown++;
		hp->stats.unknown_fields++;
		return;
	}
	fn(user, nv->name, nv->namelen, nv->value, nv->valuelen);
}

/* Feed bytes that must be consumed whole; returns false on error. */
static bool feed_all(struct h2_hpack *hp, const uint8_t *p, size_t n, nghttp2_nv *nv, int *flags)
{
	*flags = 0;
	ssize_t r = nghttp2_hd_inflate_hd2(hp->inf, nv, flags, p, n, 0);
	return r >= 0 && (size_t)r == n;
}

/* HPACK integer with an N-bit prefix (RFC 7541 §5.1). Returns the bytes
 * used, 0 if more are needed, -1 if corrupt. */
static int read_int(const uint8_t *p, size_t n, unsigned prefix_bits, uint64_t *out)
{
	const uint64_t max = (1u << prefix_bits) - 1;
	uint64_t v = p[0] & max;
	if (v < max) {
		*out = v;
		return 1;
	}
	for (size_t i = 1; i < INT_MAX_BYTES; i++) {
		if (i >= n)
			return 0;
		v += (uint64_t)(p[i] & 0x7f) << (7 * (i - 1));
		if (!(p[i] & 0x80)) {
			if (v > UINT32_MAX)
				return -1;
			*out = v;
			return (int)i + 1;
		}
	}
	return -1;
}

static size_t write_int(uint8_t *p, uint8_t first_bits, unsigned prefix_bits, uint64_t v)
{
	const uint64_t max = (1u << prefix_bits) - 1;
	if (v < max) {
		p[0] = first_bits | (uint8_t)v;
		return 1;
	}
	p[0] = first_bits | (uint8_t)max;
	v -= max;
	size_t i = 1;
	while (v >= 0x80) {
		p[i++] = (uint8_t)(0x80 | (v & 0x7f));
		v >>= 7;
	}
	p[i++] = (uint8_t)v;
	return i;
}

/* One representation whose leading integer (bytes rep[0..len)) is complete. */
static void representation(struct h2_hpack *hp, enum rep_kind kind, uint64_t v,
                           const uint8_t *rep, size_t len, h2_hpack_field_fn fn, void *user)
{
	nghttp2_nv nv;
	int flags;
	const uint64_t ntable = nghttp2_hd_inflate_get_num_table_entries(hp->inf);

	switch (kind) {
	case REP_INDEXED:
		if (v == 0) {
			block_fail(hp);
		} else if (v <= ntable) {
			if (!feed_all(hp, rep, len, &nv, &flags) || !(flags & NGHTTP2_HD_INFLATE_EMIT))
				block_fail(hp);
			else
				on_field(hp, &nv, false, fn, user);
		} else if (hp->tail_unknown) {
			hp->fields++;
			hp->unknown++;
			hp->stats.unknown_fields++;
		} else {
			block_fail(hp);   /* our table is not what we thought */
		}
		return;

	case REP_SIZE_UPDATE: {
		if (hp->fields > 0) {   /* only allowed at the start of a block */
			block_fail(hp);
			return;
		}
		uint64_t size = v;
		if (size > hp->limit) {
			size = hp->limit;
			hp->tail_unknown = true;   /* the encoder keeps more than we can */
		}
		hp->enc_bound = v;
		uint8_t buf[INT_MAX_BYTES];
		size_t n = write_int(buf, 0x20, 5, size);
		if (!feed_all(hp, buf, n, &nv, &flags)) {
			block_fail(hp);
			return;
		}
		if (v < HPACK_ENTRY_OVERHEAD && hp->tail_unknown) {
			/* No entry fits: the table is empty, hence known. */
			hp->tail_unknown = false;
			hp->stats.recoveries++;
		}
		check_recovery(hp);
		return;
	}

	case REP_LIT_INC:
	case REP_LIT_NOINC:
	case REP_LIT_NEVER:
		if (v == 0 || v <= ntable) {
			if (!feed_all(hp, rep, len, &nv, &flags)) {
				block_fail(hp);
				return;
			}
		} else if (hp->tail_unknown) {
			/* Name from an entry we never saw: an empty literal name
			 * keeps the entry (and later indices) in place. */
			uint8_t buf[2] = { kind == REP_LIT_INC ? 0x40 : kind == REP_LIT_NEVER ? 0x10 : 0x00, 0x00 };
			if (!feed_all(hp, buf, sizeof(buf), &nv, &flags)) {
				block_fail(hp);
				return;
			}
		} else {
			block_fail(hp);
			return;
		}
		hp->in_literal = true;
		hp->literal_inserts = kind == REP_LIT_INC;
		return;
	}
}

void h2_hpack_block_data(struct h2_hpack *hp, const uint8_t *p, size_t n,
                         h2_hpack_field_fn fn, void *user)
{
	while (n > 0 && hp->in_block && !hp->failed) {
		if (hp->in_literal) {
			nghttp2_nv nv;
			int flags = 0;
			ssize_t r = nghttp2_hd_inflate_hd2(hp->inf, &nv, &flags, p, n, 0);
			if (r < 0 || (r == 0 && !(flags & NGHTTP2_HD_INFLATE_EMIT))) {
				block_fail(hp);
				return;
			}
			p += r;
			n -= (size_t)r;
			if (flags & NGHTTP2_HD_INFLATE_EMIT) {
				hp->in_literal = false;
				on_field(hp, &nv, hp->literal_inserts, fn, user);
			}
			continue;
		}

		/* At a representation boundary: read its leading integer, which
		 * may straddle frames (carry). */
		uint8_t tmp[INT_MAX_BYTES];
		const size_t t = hp->ncarry;
		memcpy(tmp, hp->carry, t);
		const size_t take = n < sizeof(tmp) - t ? n : sizeof(tmp) - t;
		memcpy(tmp + t, p, take);

		enum rep_kind kind;
		unsigned bits;
		const uint8_t b = tmp[0];
		if (b & 0x80) {
			kind = REP_INDEXED, bits = 7;
		} else if (b & 0x40) {
			kind = REP_LIT_INC, bits = 6;
		} else if (b & 0x20) {
			kind = REP_SIZE_UPDATE, bits = 5;
		} else if (b & 0x10) {
			kind = REP_LIT_NEVER, bits = 4;
		} else {
			kind = REP_LIT_NOINC, bits = 4;
		}
		uint64_t v;
		const int used = read_int(tmp, t + take, bits, &v);
		if (used < 0) {
			block_fail(hp);
			return;
		}
		if (used == 0) {
			memcpy(hp->carry, tmp, t + take);
			hp->ncarry = t + take;
			p += take;
			n -= take;
			continue;
		}
		hp->ncarry = 0;
		p += (size_t)used - t;
		n -= (size_t)used - t;
		representation(hp, kind, v, tmp, (size_t)used, fn, user);
	}
}

struct h2_hpack_block_result h2_hpack_block_end(struct h2_hpack *hp)
{
	struct h2_hpack_block_result res = { 0, false };
	if (!hp->in_block)
		return res;
	if (!hp->failed) {
		if (hp->in_literal || hp->ncarry) {
			block_fail(hp);   /* block ended inside a field */
		} else {
			nghttp2_nv nv;
			int flags = 0;
			ssize_t r = nghttp2_hd_inflate_hd2(hp->inf, &nv, &flags, (const uint8_t *)"", 0, 1);
			if (r < 0 || !(flags & NGHTTP2_HD_INFLATE_FINAL))
				block_fail(hp);
			else
				nghttp2_hd_inflate_end_headers(hp->inf);
		}
	}
	hp->in_block = false;
	res.unknown = hp->unknown;
	res.failed = hp->failed;
	return res;
}

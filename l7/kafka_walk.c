/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Streaming decoder for Kafka message bodies described by field tables
 * (kafka_proto.h). It is resumable at every byte: each call consumes what it
 * is given and keeps partial values (a length split across TCP segments, a
 * topic name in two packets) in the walker. Bulk data (record batches,
 * strings we do not report) is skipped by counting, never copied.
 */
#include "kafka_proto.h"

#include <string.h>

enum step {
	ST_START = 0,
	ST_VALUE,       /* reading a fixed-size value or a length/count prefix */
	ST_CAPTURE,     /* copying string bytes we report */
	ST_SKIP,        /* skipping bytes, then the op is done */
	ST_ELEM_LEN,    /* KOP_PARR of strings: reading one element's length */
	ST_ELEM_CAPTURE,
	ST_ELEM_SKIP,
	ST_TAGS,        /* a tagged-field section (KOP_TAGS, or struct end) */
};

enum tag_step { TG_COUNT = 0, TG_ID, TG_SIZE, TG_SKIP };

static int fail(struct kwalk *w, const char *why)
{
	w->error = why;
	return KW_ERROR;
}

static void consume(struct kwalk *w, const uint8_t **p, size_t *n, size_t c)
{
	*p += c;
	*n -= c;
	w->left -= c;
}

/* k contiguous bytes (k <= 16), gathered across calls; NULL: need more. */
static const uint8_t *gather(struct kwalk *w, const uint8_t **p, size_t *n, size_t k)
{
	if (w->acc_len == 0 && *n >= k) {
		const uint8_t *r = *p;
		consume(w, p, n, k);
		return r;
	}
	size_t c = k - w->acc_len;
	if (c > *n)
		c = *n;
	memcpy(w->acc + w->acc_len, *p, c);
	w->acc_len += c;
	consume(w, p, n, c);
	if (w->acc_len < k)
		return NULL;
	w->acc_len = 0;
	return w->acc;
}

/* Unsigned varint up to 32 bits. 1: done, 0: need more, -1: malformed. */
static int uvarint(struct kwalk *w, const uint8_t **p, size_t *n, uint32_t *out)
{
	while (*n) {
		uint8_t b = **p;
		consume(w, p, n, 1);
		if (w->uv_bytes == 4 && (b & 0xf0))
			return -1;
		w->uv |= (uint32_t)(b & 0x7f) << (7 * w->uv_bytes);
		w->uv_bytes++;
		if (!(b & 0x80)) {
			*out = w->uv;
			w->uv = 0;
			w->uv_bytes = 0;
			return 1;
		}
	}
	return 0;
}

static uint16_t be16(const uint8_t *b) { return (uint16_t)(b[0] << 8 | b[1]); }
static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}
static uint64_t be64(const uint8_t *b) { return (uint64_t)be32(b) << 32 | be32(b + 4); }

static bool applies(const struct kwalk *w, const struct kop *op)
{
	return w->version >= op->vmin && w->version <= op->vmax;
}

static uint32_t cur_elem(const struct kwalk *w)
{
	return w->depth ? w->stack[w->depth - 1].elem : 0;
}

static void report(struct kwalk *w, enum kop_cap cap, const char *s, size_t len, bool null,
                   const uint8_t *id, int64_t v)
{
	if (cap == KCAP_NONE || !w->cb)
		return;
	struct kwalk_field f = {
		.cap = cap, .s = s, .len = len, .null = null, .id = id, .v = v,
		.elem = cur_elem(w),
	};
	w->cb(w->user, &f);
}

/* Index just past the KOP_END matching the KOP_ARR at i. */
static uint16_t skip_array_ops(const struct kwalk *w, uint16_t i)
{
	int nest = 0;
	for (; i < w->n_ops; i++) {
		if (w->ops[i].type == KOP_ARR)
			nest++;
		else if (w->ops[i].type == KOP_END && --nest == 0)
			return (uint16_t)(i + 1);
	}
	return w->n_ops;
}

/* Length or count prefix of a string/bytes/array. Classic: int16 (strings)
 * or int32, -1 = null; compact: uvarint N+1, 0 = null. Sets *len = -1 for
 * null. 1 done, 0 more, -1 malformed. */
static int length_prefix(struct kwalk *w, const uint8_t **p, size_t *n, int width, bool compact,
                         int64_t *len)
{
	if (compact) {
		uint32_t v;
		int r = uvarint(w, p, n, &v);
		if (r <= 0)
			return r;
		*len = (int64_t)v - 1;
		return 1;
	}
	const uint8_t *b = gather(w, p, n, (size_t)width);
	if (!b)
		return 0;
	*len = width == 2 ? (int16_t)be16(b) : (int32_t)be32(b);
	return *len < -1 ? -1 : 1;
}

static size_t fixed_size(uint8_t type)
{
	switch (type) {
	case KOP_I8: return 1;
	case KOP_I16: return 2;
	case KOP_I32: return 4;
	case KOP_I64: return 8;
	case KOP_UUID: return 16;
	default: return 0;
	}
}

static int64_t fixed_value(uint8_t type, const uint8_t *b)
{
	switch (type) {
	case KOP_I8: return (int8_t)b[0];
	case KOP_I16: return (int16_t)be16(b);
	case KOP_I32: return (int32_t)be32(b);
	case KOP_I64: return (int64_t)be64(b);
	default: return 0;
	}
}

void kwalk_init(struct kwalk *w, const struct kop *ops, size_t n_ops, int16_t version,
                bool flexible, uint64_t len, kwalk_cb cb, void *user)
{
	memset(w, 0, sizeof(*w));
	w->ops = ops;
	w->n_ops = (uint16_t)n_ops;
	w->version = version;
	w->flexible = flexible;
	w->left = len;
	w->cb = cb;
	w->user = user;
}

/* One tagged-field section. 1 done, 0 more, -1 malformed. */
static int tags(struct kwalk *w, const uint8_t **p, size_t *n)
{
	for (;;) {
		uint32_t v;
		int r;
		switch (w->tag_step) {
		case TG_COUNT:
			if ((r = uvarint(w, p, n, &v)) <= 0)
				return r;
			if (v > w->left)
				return -1;
			w->tags_left = v;
			w->tag_step = TG_ID;
			break;
		case TG_ID:
			if (w->tags_left == 0) {
				w->tag_step = TG_COUNT;
				return 1;
			}
			if ((r = uvarint(w, p, n, &v)) <= 0)
				return r;
			w->tag_step = TG_SIZE;
			break;
		case TG_SIZE:
			if ((r = uvarint(w, p, n, &v)) <= 0)
				return r;
			if (v > w->left)
				return -1;
			w->skip = v;
			w->tag_step = TG_SKIP;
			break;
		case TG_SKIP: {
			size_t c = w->skip < *n ? (size_t)w->skip : *n;
			consume(w, p, n, c);
			w->skip -= c;
			if (w->skip)
				return 0;
			w->tags_left--;
			w->tag_step = TG_ID;
			break;
		}
		}
	}
}

/* Finish the op at pc and go to the next one. */
static void next_op(struct kwalk *w)
{
	w->pc++;
	w->step = ST_START;
}

/* Struct end: repeat the array body or leave it. */
static void end_of_element(struct kwalk *w)
{
	if (w->depth == 0) {          /* KOP_END without KOP_ARR: bad table, stop */
		w->pc = w->n_ops;
		w->step = ST_START;
		return;
	}
	struct kwalk_frame *top = &w->stack[w->depth - 1];
	if (--top->left > 0) {
		top->elem = ++w->elem_seq;
		w->pc = (uint16_t)(top->begin + 1);
	} else {
		w->depth--;
		w->pc++;
	}
	w->step = ST_START;
}

static int run(struct kwalk *w, const uint8_t **p, size_t *n)
{
	for (;;) {
		if (w->pc >= w->n_ops)
			return KW_DONE;
		const struct kop *op = &w->ops[w->pc];
		bool compact = w->flexible && op->type != KOP_STR16;
		int r;

		if (w->step == ST_START) {
			if (op->type != KOP_END && !applies(w, op)) {
				if (op->type == KOP_ARR)
					w->pc = skip_array_ops(w, w->pc);
				else
					w->pc++;
				continue;
			}
			if (op->type == KOP_STOP)
				return KW_DONE;
			if (op->type == KOP_END && !w->flexible) {
				end_of_element(w);
				continue;
			}
			w->step = (op->type == KOP_END || op->type == KOP_TAGS) ? ST_TAGS : ST_VALUE;
		}

		switch (w->step) {
		case ST_VALUE: {
			size_t k = fixed_size(op->type);
			if (k) {
				const uint8_t *b = gather(w, p, n, k);
				if (!b)
					return KW_MORE;
				if (op->type == KOP_UUID)
					report(w, op->cap, NULL, 0, false, b, 0);
				else
					report(w, op->cap, NULL, 0, false, NULL, fixed_value(op->type, b));
				next_op(w);
				break;
			}
			int width = (op->type == KOP_STR || op->type == KOP_STR16) ? 2 : 4;
			int64_t len;
			r = length_prefix(w, p, n, width, compact, &len);
			if (r == 0)
				return KW_MORE;
			if (r < 0)
				return fail(w, "bad length");
			switch (op->type) {
			case KOP_STR:
			case KOP_STR16:
				if (len < 0) {
					report(w, op->cap, "", 0, true, NULL, 0);
					next_op(w);
				} else if ((uint64_t)len > w->left) {
					return fail(w, "string beyond message");
				} else if (op->cap != KCAP_NONE && len <= KAFKA_NAME_MAX) {
					w->count = len;
					w->str_len = 0;
					w->step = ST_CAPTURE;
				} else {
					w->skip = (uint64_t)len;
					w->step = ST_SKIP;
				}
				break;
			case KOP_BYTES:
				if (len > 0 && (uint64_t)len > w->left)
					return fail(w, "bytes beyond message");
				w->skip = len > 0 ? (uint64_t)len : 0;
				w->step = ST_SKIP;
				break;
			case KOP_ARR:
				if (len > 0 && (uint64_t)len > w->left)
					return fail(w, "array count beyond message");
				if (len <= 0) {
					w->pc = skip_array_ops(w, w->pc);
					w->step = ST_START;
				} else {
					if (w->depth == KW_DEPTH)
						return fail(w, "nesting");
					w->stack[w->depth].begin = w->pc;
					w->stack[w->depth].left = (uint32_t)len;
					w->stack[w->depth].elem = ++w->elem_seq;
					w->depth++;
					next_op(w);
				}
				break;
			case KOP_PARR:
				if (len <= 0) {
					next_op(w);
				} else if (op->elem == KOP_STR) {
					if ((uint64_t)len > w->left)
						return fail(w, "array count beyond message");
					w->count = len;
					w->step = ST_ELEM_LEN;
				} else {
					uint64_t bytes = (uint64_t)len * fixed_size(op->elem);
					if (bytes > w->left)
						return fail(w, "array beyond message");
					w->skip = bytes;
					w->step = ST_SKIP;
				}
				break;
			default:
				return fail(w, "bad op");
			}
			break;
		}
		case ST_CAPTURE:
		case ST_ELEM_CAPTURE: {
			size_t want = (size_t)w->count - w->str_len;
			size_t c = want < *n ? want : *n;
			memcpy(w->str + w->str_len, *p, c);
			w->str_len += (uint16_t)c;
			consume(w, p, n, c);
			if (w->str_len < w->count)
				return KW_MORE;
			report(w, op->cap, w->str, w->str_len, false, NULL, 0);
			if (w->step == ST_CAPTURE || --w->elems == 0)
				next_op(w);
			else
				w->step = ST_ELEM_LEN;
			break;
		}
		case ST_SKIP:
		case ST_ELEM_SKIP: {
			size_t c = w->skip < *n ? (size_t)w->skip : *n;
			consume(w, p, n, c);
			w->skip -= c;
			if (w->skip)
				return KW_MORE;
			if (w->step == ST_ELEM_SKIP) {
				report(w, op->cap, NULL, KAFKA_NAME_MAX + 1, false, NULL, 0);
				if (--w->elems) {
					w->step = ST_ELEM_LEN;
					break;
				}
			} else if ((op->type == KOP_STR || op->type == KOP_STR16) &&
			           op->cap != KCAP_NONE) {
				/* a string too long to be a name */
				report(w, op->cap, NULL, KAFKA_NAME_MAX + 1, false, NULL, 0);
			}
			next_op(w);
			break;
		}
		case ST_ELEM_LEN: {
			int64_t len;
			r = length_prefix(w, p, n, 2, compact, &len);
			if (r == 0)
				return KW_MORE;
			if (r < 0)
				return fail(w, "bad length");
			if (len > 0 && (uint64_t)len > w->left)
				return fail(w, "string beyond message");
			if (len < 0) {
				report(w, op->cap, "", 0, true, NULL, 0);
				if (--w->elems == 0)
					next_op(w);
			} else if (op->cap != KCAP_NONE && len <= KAFKA_NAME_MAX) {
				w->count = len;
				w->str_len = 0;
				w->step = ST_ELEM_CAPTURE;
			} else {
				w->skip = (uint64_t)len;
				w->step = ST_ELEM_SKIP;
			}
			break;
		}
		case ST_TAGS:
			r = tags(w, p, n);
			if (r == 0)
				return KW_MORE;
			if (r < 0)
				return fail(w, "bad tagged fields");
			if (op->type == KOP_END)
				end_of_element(w);
			else
				next_op(w);
			break;
		default:
			return fail(w, "bad state");
		}
	}
}

enum kwalk_status kwalk_feed(struct kwalk *w, const uint8_t *p, size_t n, size_t *used)
{
	const uint8_t *start = p;
	if (n > w->left)
		n = (size_t)w->left;
	int r = w->error ? KW_ERROR : run(w, &p, &n);
	*used = (size_t)(p - start);
	return r;
}

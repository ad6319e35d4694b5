/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Hubble JSON encoder: one GetFlowsResponse per line, byte for byte as
 * `hubble observe -o json` prints it (hubble.md §1.1).
 *
 * Hubble's bytes come from protojson (proto field names, declaration order,
 * zero values omitted, enum names, 64-bit integers as strings, RFC 3339
 * timestamps with 0/3/6/9 fraction digits) re-compacted by Go's
 * encoding/json Encoder, which HTML-escapes <, >, & and escapes U+2028/
 * U+2029. This is a hand-written writer on purpose: jansson cannot emit
 * Go's escaping (it has no \u003c/\u2028 forms and rejects invalid UTF-8
 * instead of writing \ufffd) nor proto field order without building a
 * tree, and it allocates once per node; here a line is written straight
 * into one reusable buffer with no allocation at all once it has grown.
 */
#include "flow_json.h"
#include "flow_names.h"
#include "flow_record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* --- buffer ---------------------------------------------------------------- */

int fe_buf_reserve(struct fe_buf *b, size_t n)
{
	if (b->cap - b->len >= n)
		return 0;
	size_t need = b->len + n;
	if (need < b->len)
		return -1;
	size_t cap = b->cap ? b->cap : 512;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	char *p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int fe_buf_append(struct fe_buf *b, const void *data, size_t n)
{
	if (fe_buf_reserve(b, n + 1))
		return -1;
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* --- writer ------------------------------------------------------------------ */

/* Writes go to a cursor into b's buffer; b->len is brought up to date when
 * the buffer grows and at the end (jw_done). One byte after end is always
 * spare, for the terminating NUL. */
struct jw {
	char *o, *end;
	struct fe_buf *b;
	bool oom;
	bool first;        /* next key opens the object: no comma */
};

/* Room for n more bytes; false (and nothing writable) when out of memory. */
static __attribute__((noinline)) bool jw_grow(struct jw *w, size_t n)
{
	if (w->oom)
		return false;
	w->b->len = (size_t)(w->o - w->b->data);
	if (fe_buf_reserve(w->b, n + 1)) {
		w->oom = true;
		w->end = w->o;
		return false;
	}
	w->o = w->b->data + w->b->len;
	w->end = w->b->data + w->b->cap - 1;
	return true;
}

/* Start writing at the end of b. -1 when not even that is possible. */
static int jw_init(struct jw *w, struct fe_buf *b)
{
	*w = (struct jw){ .b = b };
	if (fe_buf_reserve(b, 512))
		return -1;
	w->o = b->data + b->len;
	w->end = b->data + b->cap - 1;
	return 0;
}

/* Settle b->len and terminate; -1 if anything could not be written. */
static int jw_done(struct jw *w)
{
	w->b->len = (size_t)(w->o - w->b->data);
	w->b->data[w->b->len] = '\0';
	return w->oom ? -1 : 0;
}

/* The writers below run for every token of every event: always inlined,
 * so that a key or literal of known length is a few stores, not a call. */
#define W_INLINE static inline __attribute__((always_inline))

W_INLINE void w_raw(struct jw *w, const char *s, size_t n)
{
	if ((size_t)(w->end - w->o) < n && !jw_grow(w, n))
		return;
	memcpy(w->o, s, n);
	w->o += n;
}

W_INLINE void w_char(struct jw *w, char c)
{
	w_raw(w, &c, 1);
}

#define W_LIT(w, lit) w_raw((w), lit, sizeof(lit) - 1)

/* "name": with a comma when needed. */
W_INLINE void w_key_(struct jw *w, const char *quoted, size_t n)
{
	if (!w->first)
		w_char(w, ',');
	w->first = false;
	w_raw(w, quoted, n);
}
#define KEY(w, name) w_key_((w), "\"" name "\":", sizeof("\"" name "\":") - 1)

/* Same for a key known only at run time (never needs escaping). */
static inline void w_key_dyn(struct jw *w, const char *name)
{
	w_key_(w, "\"", 1);
	w_raw(w, name, strlen(name));
	W_LIT(w, "\":");
}

W_INLINE void w_open(struct jw *w)
{
	w_char(w, '{');
	w->first = true;
}

W_INLINE void w_close(struct jw *w)
{
	w_char(w, '}');
	w->first = false;
}

/* "00" "01" ... "99": numbers are written two digits at a time */
static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Numbers are written right-aligned at buf[20], then copied as 20 bytes
 * whatever their length: one fixed-size move instead of a memcpy call
 * (the bytes past the number are written over by what follows). */
static void w_u64(struct jw *w, uint64_t v)
{
	char buf[40];
	memset(buf + 20, 0, 20);
	size_t i = 20;
	while (v >= 100) {
		unsigned d = (unsigned)(v % 100);
		v /= 100;
		i -= 2;
		memcpy(buf + i, digit_pairs + 2 * d, 2);
	}
	if (v >= 10) {
		i -= 2;
		memcpy(buf + i, digit_pairs + 2 * v, 2);
	} else {
		buf[--i] = (char)('0' + v);
	}
	if ((size_t)(w->end - w->o) < 20 && !jw_grow(w, 20))
		return;
	memcpy(w->o, buf + i, 20);
	w->o += 20 - i;
}

static void w_i64(struct jw *w, int64_t v)
{
	if (v < 0) {
		w_char(w, '-');
		w_u64(w, (uint64_t)0 - (uint64_t)v);
	} else {
		w_u64(w, (uint64_t)v);
	}
}

/* 64-bit integers are JSON strings in protojson. */
static void w_u64_str(struct jw *w, uint64_t v)
{
	w_char(w, '"');
	w_u64(w, v);
	w_char(w, '"');
}

/* Bytes needing attention inside a string: 1 = ASCII to escape, 2 = start
 * of a multi-byte sequence (validated, U+2028/9 escaped). */
static const uint8_t esc_class[256] = {
	[0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, ['<'] = 1, ['>'] = 1, ['&'] = 1,
	[0x80 ... 0xff] = 2,
};

/* Length of the valid UTF-8 sequence at p (Go's utf8.DecodeRune rules:
 * no overlongs, no surrogates, <= U+10FFFF), or 0 when invalid. p is
 * NUL-terminated, and NUL is never a continuation byte. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

static const char hexdigits[] = "0123456789abcdef";

/* Copies p[0..n) to dst (which has room for n bytes) and returns the length
 * of its prefix that needs no escaping (no byte of esc_class): n for most
 * strings, which are then written. One pass, without calls: 16 bytes at a
 * time where SSE2 is there, and shorter strings (addresses, names) as two
 * overlapping 8- or 4-byte words, so nothing is read outside p[0..n).
 * Bytes from the first special one on may be copied too: the caller writes
 * over them. */
#ifdef __SSE2__
/* Bit k set when byte k of v needs attention: as signed bytes, controls
 * and every byte >= 0x80 are below 0x20. */
static inline unsigned special16(__m128i v)
{
	const __m128i lim = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'),
	              bslash = _mm_set1_epi8('\\'), lt = _mm_set1_epi8('<'),
	              gt = _mm_set1_epi8('>'), amp = _mm_set1_epi8('&');
	__m128i m = _mm_or_si128(_mm_cmplt_epi8(v, lim), _mm_cmpeq_epi8(v, quote));
	m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, bslash), _mm_cmpeq_epi8(v, lt)));
	m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, gt), _mm_cmpeq_epi8(v, amp)));
	return (unsigned)_mm_movemask_epi8(m);
}
#endif

static size_t plain_prefix_slow(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (esc_class[p[i]])
			return i;
	return n;
}

static inline size_t copy_plain(char *dst, const unsigned char *p, size_t n)
{
#ifdef __SSE2__
	if (n >= 16) {
		size_t i = 0;
		unsigned bits;
		for (; i + 16 <= n; i += 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
			_mm_storeu_si128((__m128i *)(void *)(dst + i), v);
			if ((bits = special16(v)))
				return i + (size_t)__builtin_ctz(bits);
		}
		if (i == n)
			return n;
		/* the tail: the last 16 bytes, of which those before i were seen */
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + n - 16));
		_mm_storeu_si128((__m128i *)(void *)(dst + n - 16), v);
		bits = special16(v) >> (16 - (n - i));
		return bits ? i + (size_t)__builtin_ctz(bits) : n;
	}
	if (n >= 8) {
		uint64_t lo, hi;
		memcpy(&lo, p, 8);
		memcpy(&hi, p + n - 8, 8);
		memcpy(dst, &lo, 8);
		memcpy(dst + n - 8, &hi, 8);
		return special16(_mm_set_epi64x((long long)hi, (long long)lo)) ? plain_prefix_slow(p, n) : n;
	}
	if (n >= 4) {
		uint32_t lo, hi;
		memcpy(&lo, p, 4);
		memcpy(&hi, p + n - 4, 4);
		/* the upper 8 bytes are zeros, which count as controls: masked off */
		memcpy(dst, &lo, 4);
		memcpy(dst + n - 4, &hi, 4);
		return special16(_mm_set_epi32(0, 0, (int)hi, (int)lo)) & 0xff ? plain_prefix_slow(p, n) : n;
	}
#endif
	size_t plain = plain_prefix_slow(p, n);
	memcpy(dst, p, plain);
	return plain;
}

static void w_str(struct jw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t len = strlen((const char *)p);
	/* the common case: nothing to escape, one copy */
	if ((size_t)(w->end - w->o) < len + 2 && !jw_grow(w, len + 2))
		return;
	char *o = w->o;
	o[0] = '"';
	size_t plain = copy_plain(o + 1, p, len);
	w->o += plain + 1;
	if (plain == len) {
		o[plain + 1] = '"';
		w->o++;
		return;
	}
	p += plain;
	const unsigned char *run = p;
	while (*p) {
		uint8_t cls = esc_class[*p];
		if (!cls) {
			p++;
			continue;
		}
		w_raw(w, (const char *)run, (size_t)(p - run));
		if (cls == 1) {
			unsigned char c = *p++;
			switch (c) {
			case '"': W_LIT(w, "\\\""); break;
			case '\\': W_LIT(w, "\\\\"); break;
			case '\b': W_LIT(w, "\\b"); break;
			case '\f': W_LIT(w, "\\f"); break;
			case '\n': W_LIT(w, "\\n"); break;
			case '\r': W_LIT(w, "\\r"); break;
			case '\t': W_LIT(w, "\\t"); break;
			default: {
				char u[6] = { '\\', 'u', '0', '0', hexdigits[c >> 4], hexdigits[c & 15] };
				w_raw(w, u, sizeof(u));
			}
			}
		} else {
			size_t n = utf8_len(p);
			if (n == 0) {
				W_LIT(w, "\\ufffd");
				p++;
			} else if (n == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] & 0xfe) == 0xa8) {
				w_raw(w, p[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
				p += 3;
			} else {
				w_raw(w, (const char *)p, n);
				p += n;
			}
		}
		run = p;
	}
	w_raw(w, (const char *)run, (size_t)(p - run));
	w_char(w, '"');
}

int fe_json_append_string(struct fe_buf *b, const char *s)
{
	struct jw w;
	size_t start = b->len;
	if (jw_init(&w, b))
		return -1;
	w_str(&w, s);
	if (jw_done(&w)) {
		b->len = start;
		b->data[start] = '\0';
		return -1;
	}
	return 0;
}

static inline bool nonempty(const char *s)
{
	return s && *s;
}

static void w_str_array(struct jw *w, const char *const *v, size_t n)
{
	w_char(w, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			w_char(w, ',');
		w_str(w, v[i]);
	}
	w_char(w, ']');
}

/* An enum prints as its name, or as a number when the table has none. */
static void w_enum(struct jw *w, const struct fe_enum *e, uint32_t v)
{
	const char *name = fe_enum_name(e, v);
	if (name) {
		w_char(w, '"');
		w_raw(w, name, strlen(name));
		w_char(w, '"');
	} else {
		w_u64(w, v);
	}
}

/* --- time ---------------------------------------------------------------------- */

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

static char *put_digits(char *p, unsigned v, int width)
{
	int i = width;
	while (i >= 2) {
		i -= 2;
		memcpy(p + i, digit_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (i)
		p[0] = (char)('0' + v % 10);
	return p + width;
}

/* "YYYY-MM-DDTHH:MM:SS" of the last second formatted: events come in time
 * order, so most share their second with the one before. */
static _Thread_local struct {
	uint64_t secs;
	bool valid;
	char text[19];
} rfc3339_last;

size_t fe_format_rfc3339(uint64_t ns, char buf[32])
{
	uint64_t secs = ns / 1000000000u;
	unsigned nanos = (unsigned)(ns % 1000000000u);
	char *p = buf;
	if (rfc3339_last.valid && rfc3339_last.secs == secs) {
		memcpy(p, rfc3339_last.text, 19);
		p += 19;
	} else {
		int y;
		unsigned mo, d;
		civil_from_days((int64_t)(secs / 86400), &y, &mo, &d);
		unsigned rem = (unsigned)(secs % 86400);
		p = put_digits(p, (unsigned)y, 4);
		*p++ = '-';
		p = put_digits(p, mo, 2);
		*p++ = '-';
		p = put_digits(p, d, 2);
		*p++ = 'T';
		p = put_digits(p, rem / 3600, 2);
		*p++ = ':';
		p = put_digits(p, rem / 60 % 60, 2);
		*p++ = ':';
		p = put_digits(p, rem % 60, 2);
		memcpy(rfc3339_last.text, buf, 19);
		rfc3339_last.secs = secs;
		rfc3339_last.valid = true;
	}
	if (nanos) {
		*p++ = '.';
		if (nanos % 1000000 == 0)
			p = put_digits(p, nanos / 1000000, 3);
		else if (nanos % 1000 == 0)
			p = put_digits(p, nanos / 1000, 6);
		else
			p = put_digits(p, nanos, 9);
	}
	*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - buf);
}

/* Every event prints its time twice (flow.time and the response's time):
 * the second is a copy of the first. */
static _Thread_local struct {
	uint64_t ns;
	size_t len;          /* 0: nothing kept */
	char text[40];       /* quoted (at most 32 bytes) */
} w_time_last;

static void w_time(struct jw *w, uint64_t ns)
{
	if (w_time_last.len == 0 || w_time_last.ns != ns) {
		w_time_last.text[0] = '"';
		size_t n = fe_format_rfc3339(ns, w_time_last.text + 1);
		w_time_last.text[n + 1] = '"';
		w_time_last.len = n + 2;
		w_time_last.ns = ns;
	}
	/* copied as 32 bytes whatever its length: a fixed-size move */
	if ((size_t)(w->end - w->o) < 32 && !jw_grow(w, 32))
		return;
	memcpy(w->o, w_time_last.text, 32);
	w->o += w_time_last.len;
}

/* --- field masks ---------------------------------------------------------------- */

struct fm_kid {
	char *name;
	const char *lit;             /* the schema's spelling (the writer's literal) */
	unsigned idx;                /* position in its message's schema */
	struct fe_field_mask *sub;   /* NULL: the whole field */
};

struct fe_field_mask {
	size_t n;
	struct fm_kid *kids;
	uint64_t sig;                /* fm_sig() bit of each kid's name */
	uint64_t idx_bits;           /* bit idx of each kid */
};

/* A bit per name from its first two bytes (every field name has two):
 * most fields a mask leaves out are told apart by it alone. */
static inline uint64_t fm_sig(const char *name)
{
	return (uint64_t)1 << (((unsigned char)name[0] * 31u + (unsigned char)name[1]) & 63);
}

/* Is field `name` kept? *sub: NULL = whole field, else keep only sub's
 * children (and print the object even when the flow lacks it, as Hubble's
 * masked copy does). */
static inline bool fm_want(const struct fe_field_mask *m, const char *name,
                           const struct fe_field_mask **sub)
{
	*sub = NULL;
	if (!m)
		return true;
	/* asked ~50 times per event, mostly for fields the mask leaves out */
	if (!(m->sig & fm_sig(name)))
		return false;
	for (size_t i = 0; i < m->n; i++)
		if (m->kids[i].lit == name ||
		    (m->kids[i].name[0] == name[0] && m->kids[i].name[1] == name[1] &&
		     strcmp(m->kids[i].name, name) == 0)) {
			*sub = m->kids[i].sub;
			return true;
		}
	return false;
}

/* fm_want() by position in the message's schema (FF_*): the Flow's fields
 * are asked for by every event. */
static inline bool fm_want_ff(const struct fe_field_mask *m, unsigned idx,
                              const struct fe_field_mask **sub)
{
	*sub = NULL;
	if (!m)
		return true;
	if (!(m->idx_bits >> idx & 1))
		return false;
	for (size_t i = 0; i < m->n; i++)
		if (m->kids[i].idx == idx) {
			*sub = m->kids[i].sub;
			return true;
		}
	return false;
}

/* The message schema the mask paths are validated against: for each
 * message, its fields and the message type of each (NULL = scalar,
 * repeated or a type we treat as a leaf). */
struct fm_schema {
	const char *name;
	const struct fm_schema *type;
};

#define S_END { NULL, NULL }
static const struct fm_schema s_leaf_end[] = { S_END };
static const struct fm_schema s_emitter[] = { { "name", NULL }, { "version", NULL }, S_END };
static const struct fm_schema s_ethernet[] = { { "source", NULL }, { "destination", NULL }, S_END };
static const struct fm_schema s_ip[] = {
	{ "source", NULL }, { "source_xlated", NULL }, { "destination", NULL },
	{ "ipVersion", NULL }, { "encrypted", NULL }, S_END };
static const struct fm_schema s_tcp_flags[] = {
	{ "FIN", NULL }, { "SYN", NULL }, { "RST", NULL }, { "PSH", NULL }, { "ACK", NULL },
	{ "URG", NULL }, { "ECE", NULL }, { "CWR", NULL }, { "NS", NULL }, S_END };
static const struct fm_schema s_tcp[] = {
	{ "source_port", NULL }, { "destination_port", NULL }, { "flags", s_tcp_flags }, S_END };
static const struct fm_schema s_ports[] = { { "source_port", NULL }, { "destination_port", NULL }, S_END };
static const struct fm_schema s_icmp[] = { { "type", NULL }, { "code", NULL }, S_END };
static const struct fm_schema s_l4[] = {
	{ "TCP", s_tcp }, { "UDP", s_ports }, { "ICMPv4", s_icmp }, { "ICMPv6", s_icmp },
	{ "SCTP", s_ports }, { "VRRP", s_leaf_end }, { "IGMP", s_leaf_end }, S_END };
static const struct fm_schema s_endpoint[] = {
	{ "ID", NULL }, { "identity", NULL }, { "cluster_name", NULL }, { "namespace", NULL },
	{ "labels", NULL }, { "pod_name", NULL }, { "workloads", NULL }, S_END };
static const struct fm_schema s_dns[] = {
	{ "query", NULL }, { "ips", NULL }, { "ttl", NULL }, { "cnames", NULL },
	{ "observation_source", NULL }, { "rcode", NULL }, { "qtypes", NULL }, { "rrtypes", NULL }, S_END };
static const struct fm_schema s_http[] = {
	{ "code", NULL }, { "method", NULL }, { "url", NULL }, { "protocol", NULL }, { "headers", NULL }, S_END };
static const struct fm_schema s_kafka[] = {
	{ "error_code", NULL }, { "api_version", NULL }, { "api_key", NULL },
	{ "correlation_id", NULL }, { "topic", NULL }, S_END };
static const struct fm_schema s_l7[] = {
	{ "type", NULL }, { "latency_ns", NULL }, { "dns", s_dns }, { "http", s_http },
	{ "kafka", s_kafka }, S_END };
static const struct fm_schema s_event_type[] = { { "type", NULL }, { "sub_type", NULL }, S_END };
static const struct fm_schema s_service[] = { { "name", NULL }, { "namespace", NULL }, S_END };
static const struct fm_schema s_file[] = { { "name", NULL }, { "line", NULL }, S_END };
static const struct fm_schema s_ip_trace_id[] = { { "trace_id", NULL }, { "ip_option_type", NULL }, S_END };
static const struct fm_schema s_interface[] = { { "index", NULL }, { "name", NULL }, S_END };
static const struct fm_schema s_trace_parent[] = { { "trace_id", NULL }, S_END };
static const struct fm_schema s_trace_context[] = { { "parent", s_trace_parent }, S_END };
static const struct fm_schema s_flow_stats[] = {
	{ "event", NULL }, { "packets", NULL }, { "bytes", NULL }, { "first_seen", NULL },
	{ "last_seen", NULL }, S_END };
static const struct fm_schema s_l7_info[] = {
	{ "gap_bytes", NULL }, { "messages", NULL }, { "unknown_headers", NULL },
	{ "truncated", NULL }, S_END };
/* The Flow message's fields, in declaration order: the schema below, and
 * the writer's index into a mask (FF_time, FF_IP, ...). */
#define FLOW_FIELDS(X) \
	X(time, NULL) X(uuid, NULL) X(emitter, s_emitter) X(verdict, NULL) X(drop_reason, NULL) \
	X(auth_type, NULL) X(ethernet, s_ethernet) X(IP, s_ip) X(l4, s_l4) X(tunnel, s_leaf_end) \
	X(source, s_endpoint) X(destination, s_endpoint) X(Type, NULL) X(node_name, NULL) \
	X(node_labels, NULL) X(source_names, NULL) X(destination_names, NULL) X(l7, s_l7) \
	X(reply, NULL) X(event_type, s_event_type) X(source_service, s_service) \
	X(destination_service, s_service) X(traffic_direction, NULL) X(policy_match_type, NULL) \
	X(trace_observation_point, NULL) X(trace_reason, NULL) X(file, s_file) \
	X(ip_trace_id, s_ip_trace_id) X(drop_reason_desc, NULL) X(is_reply, NULL) \
	X(debug_capture_point, NULL) X(interface, s_interface) X(proxy_port, NULL) \
	X(trace_context, s_trace_context) X(sock_xlate_point, NULL) X(socket_cookie, NULL) \
	X(cgroup_id, NULL) X(Summary, NULL) X(extensions, NULL) X(egress_allowed_by, NULL) \
	X(ingress_allowed_by, NULL) X(egress_denied_by, NULL) X(ingress_denied_by, NULL) \
	X(policy_log, NULL) X(aggregate, s_leaf_end) X(flow_stats, s_flow_stats) \
	X(l7_info, s_l7_info) X(conntrack, NULL)

enum flow_field {
#define X(name, type) FF_##name,
	FLOW_FIELDS(X)
#undef X
	FF_COUNT
};
_Static_assert(FF_COUNT <= 64, "a mask node keeps one bit per field");

static const struct fm_schema s_flow[] = {
#define X(name, type) { #name, type },
	FLOW_FIELDS(X)
#undef X
	S_END
};

static const struct fm_schema *schema_find(const struct fm_schema *s, const char *name, size_t len)
{
	for (; s->name; s++)
		if (strlen(s->name) == len && memcmp(s->name, name, len) == 0)
			return s;
	return NULL;
}

static void fm_free_node(struct fe_field_mask *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->kids[i].name);
		fm_free_node(m->kids[i].sub);
	}
	free(m->kids);
	free(m);
}

void fe_field_mask_free(struct fe_field_mask *m)
{
	fm_free_node(m);
}

size_t fe_field_mask_size(const struct fe_field_mask *m)
{
	return m ? m->n : 0;
}

bool fe_field_mask_wants(const struct fe_field_mask *m, const char *path)
{
	if (!m || m->n == 0)
		return true;
	for (;;) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		const struct fm_kid *k = NULL;
		for (size_t i = 0; i < m->n && !k; i++)
			if (strlen(m->kids[i].name) == len && memcmp(m->kids[i].name, path, len) == 0)
				k = &m->kids[i];
		if (!k)
			return false;
		if (!k->sub || !dot)
			return true;   /* the whole field, or some of its parts */
		m = k->sub;
		path = dot + 1;
	}
}

static struct fm_kid *fm_kid_get(struct fe_field_mask *m, const char *name, size_t len)
{
	for (size_t i = 0; i < m->n; i++)
		if (strlen(m->kids[i].name) == len && memcmp(m->kids[i].name, name, len) == 0)
			return &m->kids[i];
	struct fm_kid *k = realloc(m->kids, (m->n + 1) * sizeof(*k));
	if (!k)
		return NULL;
	m->kids = k;
	k = &m->kids[m->n];
	k->name = strndup(name, len);
	k->lit = NULL;
	k->sub = NULL;
	if (!k->name)
		return NULL;
	m->n++;
	m->sig |= fm_sig(k->name);
	return k;
}

/* Add one dotted path. A shorter path wins over a longer one ("source"
 * and "source.pod_name" keep all of source), as FieldMask.Normalize does. */
static int fm_add(struct fe_field_mask *root, const char *path, size_t plen, char *err, size_t errlen)
{
	const struct fm_schema *schema = s_flow;
	struct fe_field_mask *node = root;
	const char *p = path, *end = path + plen;
	for (;;) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t len = (size_t)((dot ? dot : end) - p);
		const struct fm_schema *f = schema_find(schema, p, len);
		if (!f) {
			snprintf(err, errlen, "invalid field mask path \"%.*s\": unknown field \"%.*s\"",
			         (int)plen, path, (int)len, p);
			return -1;
		}
		if (dot && !f->type) {
			snprintf(err, errlen, "invalid field mask path \"%.*s\": \"%.*s\" has no sub-fields",
			         (int)plen, path, (int)len, p);
			return -1;
		}
		bool existed = false;
		for (size_t i = 0; i < node->n; i++)
			if (strlen(node->kids[i].name) == len && memcmp(node->kids[i].name, p, len) == 0)
				existed = true;
		struct fm_kid *k = fm_kid_get(node, p, len);
		if (!k) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		k->lit = f->name;
		k->idx = (unsigned)(f - schema);
		node->idx_bits |= (uint64_t)1 << (k->idx & 63);
		if (!dot) {
			/* Whole field: drop any narrower paths below it. */
			fm_free_node(k->sub);
			k->sub = NULL;
			return 0;
		}
		if (existed && !k->sub)
			return 0;  /* already whole */
		if (!k->sub) {
			k->sub = calloc(1, sizeof(*k->sub));
			if (!k->sub) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
		}
		node = k->sub;
		schema = f->type;
		p = dot + 1;
	}
}

int fe_field_mask_new(const char *const *paths, size_t n_paths,
                      struct fe_field_mask **out, char *err, size_t errlen)
{
	struct fe_field_mask *m = calloc(1, sizeof(*m));
	*out = NULL;
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n_paths; i++) {
		const char *s = paths[i];
		while (s && *s) {
			const char *comma = strchr(s, ',');
			size_t len = comma ? (size_t)(comma - s) : strlen(s);
			/* Surrounding spaces are tolerated ("time, IP"). */
			const char *a = s, *b = s + len;
			while (a < b && *a == ' ')
				a++;
			while (b > a && b[-1] == ' ')
				b--;
			if (a == b) {
				snprintf(err, errlen, "invalid field mask: empty path in \"%s\"", paths[i]);
				fm_free_node(m);
				return -1;
			}
			if (fm_add(m, a, (size_t)(b - a), err, errlen)) {
				fm_free_node(m);
				return -1;
			}
			s = comma ? comma + 1 : NULL;
		}
	}
	*out = m;
	return 0;
}

/* --- flow ------------------------------------------------------------------------- */

typedef const struct fe_field_mask fmask;

static void w_endpoint(struct jw *w, const struct fe_endpoint *e, fmask *m)
{
	fmask *sub;
	w_open(w);
	if (e->id && fm_want(m, "ID", &sub)) {
		KEY(w, "ID");
		w_u64(w, e->id);
	}
	if (e->identity && fm_want(m, "identity", &sub)) {
		KEY(w, "identity");
		w_u64(w, e->identity);
	}
	if (nonempty(e->cluster_name) && fm_want(m, "cluster_name", &sub)) {
		KEY(w, "cluster_name");
		w_str(w, e->cluster_name);
	}
	if (nonempty(e->namespace_) && fm_want(m, "namespace", &sub)) {
		KEY(w, "namespace");
		w_str(w, e->namespace_);
	}
	if (e->n_labels && fm_want(m, "labels", &sub)) {
		KEY(w, "labels");
		w_str_array(w, e->labels, e->n_labels);
	}
	if (nonempty(e->pod_name) && fm_want(m, "pod_name", &sub)) {
		KEY(w, "pod_name");
		w_str(w, e->pod_name);
	}
	if (e->n_workloads && fm_want(m, "workloads", &sub)) {
		KEY(w, "workloads");
		w_char(w, '[');
		for (size_t i = 0; i < e->n_workloads; i++) {
			if (i)
				w_char(w, ',');
			w_open(w);
			if (nonempty(e->workloads[i].name)) {
				KEY(w, "name");
				w_str(w, e->workloads[i].name);
			}
			if (nonempty(e->workloads[i].kind)) {
				KEY(w, "kind");
				w_str(w, e->workloads[i].kind);
			}
			w_close(w);
		}
		w_char(w, ']');
	}
	w_close(w);
}

static void w_ports(struct jw *w, const struct flow_event *ev, fmask *m)
{
	fmask *sub;
	if (ev->sport && fm_want(m, "source_port", &sub)) {
		KEY(w, "source_port");
		w_u64(w, ev->sport);
	}
	if (ev->dport && fm_want(m, "destination_port", &sub)) {
		KEY(w, "destination_port");
		w_u64(w, ev->dport);
	}
}

static void w_tcp_flags(struct jw *w, uint16_t f, fmask *m)
{
	/* TCPFlags declaration order; only true flags are printed. */
	static const struct { uint16_t bit; const char *name; } order[] = {
		{ FLOW_TCP_FIN, "FIN" }, { FLOW_TCP_SYN, "SYN" }, { FLOW_TCP_RST, "RST" },
		{ FLOW_TCP_PSH, "PSH" }, { FLOW_TCP_ACK, "ACK" }, { FLOW_TCP_URG, "URG" },
		{ FLOW_TCP_ECE, "ECE" }, { FLOW_TCP_CWR, "CWR" }, { FLOW_TCP_NS, "NS" },
	};
	fmask *sub;
	w_open(w);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(f & order[i].bit) || !fm_want(m, order[i].name, &sub))
			continue;
		w_key_dyn(w, order[i].name);
		W_LIT(w, "true");
	}
	w_close(w);
}

static void w_l4(struct jw *w, const struct flow_event *ev, fmask *m)
{
	static const char *const names[] = {
		[FE_L4_TCP] = "TCP", [FE_L4_UDP] = "UDP", [FE_L4_ICMPV4] = "ICMPv4",
		[FE_L4_ICMPV6] = "ICMPv6", [FE_L4_SCTP] = "SCTP",
	};
	fmask *sub = NULL;
	w_open(w);
	if (ev->l4 > FE_L4_NONE && ev->l4 <= FE_L4_SCTP && fm_want(m, names[ev->l4], &sub)) {
		w_key_dyn(w, names[ev->l4]);
		w_open(w);
		switch (ev->l4) {
		case FE_L4_TCP: {
			fmask *fsub;
			w_ports(w, ev, sub);
			if (fm_want(sub, "flags", &fsub) && (ev->tcp_flags || fsub)) {
				KEY(w, "flags");
				w_tcp_flags(w, ev->tcp_flags, fsub);
			}
			break;
		}
		case FE_L4_UDP:
		case FE_L4_SCTP:
			w_ports(w, ev, sub);
			break;
		case FE_L4_ICMPV4:
		case FE_L4_ICMPV6: {
			fmask *x;
			if (ev->icmp_type && fm_want(sub, "type", &x)) {
				KEY(w, "type");
				w_u64(w, ev->icmp_type);
			}
			if (ev->icmp_code && fm_want(sub, "code", &x)) {
				KEY(w, "code");
				w_u64(w, ev->icmp_code);
			}
			break;
		}
		default:
			break;
		}
		w_close(w);
	}
	w_close(w);
}

static void w_dns(struct jw *w, const struct fe_dns *d, fmask *m)
{
	fmask *x;
	w_open(w);
	if (nonempty(d->query) && fm_want(m, "query", &x)) {
		KEY(w, "query");
		w_str(w, d->query);
	}
	if (d->n_ips && fm_want(m, "ips", &x)) {
		KEY(w, "ips");
		w_str_array(w, d->ips, d->n_ips);
	}
	if (d->ttl && fm_want(m, "ttl", &x)) {
		KEY(w, "ttl");
		w_u64(w, d->ttl);
	}
	if (d->n_cnames && fm_want(m, "cnames", &x)) {
		KEY(w, "cnames");
		w_str_array(w, d->cnames, d->n_cnames);
	}
	if (nonempty(d->observation_source) && fm_want(m, "observation_source", &x)) {
		KEY(w, "observation_source");
		w_str(w, d->observation_source);
	}
	if (d->rcode && fm_want(m, "rcode", &x)) {
		KEY(w, "rcode");
		w_u64(w, d->rcode);
	}
	if (d->n_qtypes && fm_want(m, "qtypes", &x)) {
		KEY(w, "qtypes");
		w_str_array(w, d->qtypes, d->n_qtypes);
	}
	if (d->n_rrtypes && fm_want(m, "rrtypes", &x)) {
		KEY(w, "rrtypes");
		w_str_array(w, d->rrtypes, d->n_rrtypes);
	}
	w_close(w);
}

static void w_http(struct jw *w, const struct fe_http *h, fmask *m)
{
	fmask *x;
	w_open(w);
	if (h->code && fm_want(m, "code", &x)) {
		KEY(w, "code");
		w_u64(w, h->code);
	}
	if (nonempty(h->method) && fm_want(m, "method", &x)) {
		KEY(w, "method");
		w_str(w, h->method);
	}
	if (nonempty(h->url) && fm_want(m, "url", &x)) {
		KEY(w, "url");
		w_str(w, h->url);
	}
	if (nonempty(h->protocol) && fm_want(m, "protocol", &x)) {
		KEY(w, "protocol");
		w_str(w, h->protocol);
	}
	if (h->n_headers && fm_want(m, "headers", &x)) {
		KEY(w, "headers");
		w_char(w, '[');
		for (size_t i = 0; i < h->n_headers; i++) {
			if (i)
				w_char(w, ',');
			w_open(w);
			if (nonempty(h->headers[i].key)) {
				KEY(w, "key");
				w_str(w, h->headers[i].key);
			}
			if (nonempty(h->headers[i].value)) {
				KEY(w, "value");
				w_str(w, h->headers[i].value);
			}
			w_close(w);
		}
		w_char(w, ']');
	}
	w_close(w);
}

static void w_kafka(struct jw *w, const struct fe_kafka *k, fmask *m)
{
	fmask *x;
	w_open(w);
	if (k->error_code && fm_want(m, "error_code", &x)) {
		KEY(w, "error_code");
		w_i64(w, k->error_code);
	}
	if (k->api_version && fm_want(m, "api_version", &x)) {
		KEY(w, "api_version");
		w_i64(w, k->api_version);
	}
	if (nonempty(k->api_key) && fm_want(m, "api_key", &x)) {
		KEY(w, "api_key");
		w_str(w, k->api_key);
	}
	if (k->correlation_id && fm_want(m, "correlation_id", &x)) {
		KEY(w, "correlation_id");
		w_i64(w, k->correlation_id);
	}
	if (nonempty(k->topic) && fm_want(m, "topic", &x)) {
		KEY(w, "topic");
		w_str(w, k->topic);
	}
	w_close(w);
}

static void w_l7(struct jw *w, const struct fe_l7 *l7, fmask *m)
{
	fmask *sub;
	w_open(w);
	if (l7->type && fm_want(m, "type", &sub)) {
		KEY(w, "type");
		w_enum(w, &fe_enum_l7_type, l7->type);
	}
	if (l7->latency_ns && fm_want(m, "latency_ns", &sub)) {
		KEY(w, "latency_ns");
		w_u64_str(w, l7->latency_ns);
	}
	switch (l7->kind) {
	case FE_L7K_DNS:
		if (fm_want(m, "dns", &sub)) {
			KEY(w, "dns");
			w_dns(w, &l7->dns, sub);
		}
		break;
	case FE_L7K_HTTP:
		if (fm_want(m, "http", &sub)) {
			KEY(w, "http");
			w_http(w, &l7->http, sub);
		}
		break;
	case FE_L7K_KAFKA:
		if (fm_want(m, "kafka", &sub)) {
			KEY(w, "kafka");
			w_kafka(w, &l7->kafka, sub);
		}
		break;
	default:
		break;
	}
	w_close(w);
}

static void w_policies(struct jw *w, const struct fe_policy *p, size_t n)
{
	w_char(w, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			w_char(w, ',');
		w_open(w);
		if (nonempty(p[i].name)) {
			KEY(w, "name");
			w_str(w, p[i].name);
		}
		if (nonempty(p[i].namespace_)) {
			KEY(w, "namespace");
			w_str(w, p[i].namespace_);
		}
		if (p[i].n_labels) {
			KEY(w, "labels");
			w_str_array(w, p[i].labels, p[i].n_labels);
		}
		if (p[i].revision) {
			KEY(w, "revision");
			w_u64_str(w, p[i].revision);
		}
		if (nonempty(p[i].kind)) {
			KEY(w, "kind");
			w_str(w, p[i].kind);
		}
		w_close(w);
	}
	w_char(w, ']');
}

static void w_service(struct jw *w, const struct fe_service *s, fmask *m)
{
	fmask *x;
	w_open(w);
	if (nonempty(s->name) && fm_want(m, "name", &x)) {
		KEY(w, "name");
		w_str(w, s->name);
	}
	if (nonempty(s->namespace_) && fm_want(m, "namespace", &x)) {
		KEY(w, "namespace");
		w_str(w, s->namespace_);
	}
	w_close(w);
}

static bool service_set(const struct fe_service *s)
{
	return nonempty(s->name) || nonempty(s->namespace_);
}

static const char *const stats_event_names[] = {
	[FE_STATS_START] = "start", [FE_STATS_UPDATE] = "update", [FE_STATS_END] = "end",
};

/* Convenience for the many "scalar field if set and not masked out" cases. */
#define WANT(cond, field) ((cond) && fm_want_ff(m, field, &sub))

static void w_flow(struct jw *w, const struct flow_event *ev, fmask *m)
{
	fmask *sub;
	w_open(w);
	if (WANT(ev->time_ns, FF_time)) {
		KEY(w, "time");
		w_time(w, ev->time_ns);
	}
	if (WANT(ev->uuid[0], FF_uuid)) {
		KEY(w, "uuid");
		w_str(w, ev->uuid);
	}
	if (fm_want_ff(m, FF_emitter, &sub) &&
	    (sub || nonempty(ev->emitter_name) || nonempty(ev->emitter_version))) {
		fmask *x, *em = sub;
		KEY(w, "emitter");
		w_open(w);
		if (nonempty(ev->emitter_name) && fm_want(em, "name", &x)) {
			KEY(w, "name");
			w_str(w, ev->emitter_name);
		}
		if (nonempty(ev->emitter_version) && fm_want(em, "version", &x)) {
			KEY(w, "version");
			w_str(w, ev->emitter_version);
		}
		w_close(w);
	}
	if (WANT(ev->verdict, FF_verdict)) {
		KEY(w, "verdict");
		w_enum(w, &fe_enum_verdict, ev->verdict);
	}
	if (WANT(ev->drop_reason, FF_drop_reason)) {
		KEY(w, "drop_reason");
		w_u64(w, ev->drop_reason);
	}
	if (WANT(ev->auth_type, FF_auth_type)) {
		KEY(w, "auth_type");
		w_enum(w, &fe_enum_auth_type, ev->auth_type);
	}
	if (fm_want_ff(m, FF_ethernet, &sub) && (ev->has_ethernet || sub)) {
		fmask *x, *em = sub;
		KEY(w, "ethernet");
		w_open(w);
		if (ev->has_ethernet && ev->eth_src[0] && fm_want(em, "source", &x)) {
			KEY(w, "source");
			w_str(w, ev->eth_src);
		}
		if (ev->has_ethernet && ev->eth_dst[0] && fm_want(em, "destination", &x)) {
			KEY(w, "destination");
			w_str(w, ev->eth_dst);
		}
		w_close(w);
	}
	if (fm_want_ff(m, FF_IP, &sub) && (ev->has_ip || sub)) {
		fmask *x, *im = sub;
		bool on = ev->has_ip;
		KEY(w, "IP");
		w_open(w);
		if (on && ev->ip_src[0] && fm_want(im, "source", &x)) {
			KEY(w, "source");
			w_str(w, ev->ip_src);
		}
		if (on && ev->ip_src_xlated[0] && fm_want(im, "source_xlated", &x)) {
			KEY(w, "source_xlated");
			w_str(w, ev->ip_src_xlated);
		}
		if (on && ev->ip_dst[0] && fm_want(im, "destination", &x)) {
			KEY(w, "destination");
			w_str(w, ev->ip_dst);
		}
		if (on && ev->ip_version && fm_want(im, "ipVersion", &x)) {
			KEY(w, "ipVersion");
			w_enum(w, &fe_enum_ip_version, ev->ip_version);
		}
		if (on && ev->encrypted && fm_want(im, "encrypted", &x)) {
			KEY(w, "encrypted");
			W_LIT(w, "true");
		}
		w_close(w);
	}
	if (fm_want_ff(m, FF_l4, &sub) && (ev->l4 != FE_L4_NONE || sub)) {
		KEY(w, "l4");
		w_l4(w, ev, sub);
	}
	/* Hubble's parsers always set both endpoints, so they are always
	 * printed, possibly as {}. */
	if (fm_want_ff(m, FF_source, &sub)) {
		KEY(w, "source");
		w_endpoint(w, &ev->source, sub);
	}
	if (fm_want_ff(m, FF_destination, &sub)) {
		KEY(w, "destination");
		w_endpoint(w, &ev->destination, sub);
	}
	if (WANT(ev->type, FF_Type)) {
		KEY(w, "Type");
		w_enum(w, &fe_enum_flow_type, ev->type);
	}
	if (WANT(nonempty(ev->node_name), FF_node_name)) {
		KEY(w, "node_name");
		w_str(w, ev->node_name);
	}
	if (WANT(ev->n_node_labels, FF_node_labels)) {
		KEY(w, "node_labels");
		w_str_array(w, ev->node_labels, ev->n_node_labels);
	}
	if (WANT(ev->n_source_names, FF_source_names)) {
		KEY(w, "source_names");
		w_str_array(w, ev->source_names, ev->n_source_names);
	}
	if (WANT(ev->n_destination_names, FF_destination_names)) {
		KEY(w, "destination_names");
		w_str_array(w, ev->destination_names, ev->n_destination_names);
	}
	if (fm_want_ff(m, FF_l7, &sub) &&
	    (sub || ev->type == FE_TYPE_L7 || ev->l7.kind || ev->l7.type || ev->l7.latency_ns)) {
		KEY(w, "l7");
		w_l7(w, &ev->l7, sub);
	}
	if (WANT(ev->reply, FF_reply)) {
		KEY(w, "reply");
		W_LIT(w, "true");
	}
	if (fm_want_ff(m, FF_event_type, &sub) && (sub || ev->event_type || ev->event_sub_type)) {
		fmask *x, *em = sub;
		KEY(w, "event_type");
		w_open(w);
		/* int32 in the proto */
		if (ev->event_type && fm_want(em, "type", &x)) {
			KEY(w, "type");
			w_i64(w, (int32_t)ev->event_type);
		}
		if (ev->event_sub_type && fm_want(em, "sub_type", &x)) {
			KEY(w, "sub_type");
			w_i64(w, (int32_t)ev->event_sub_type);
		}
		w_close(w);
	}
	if (fm_want_ff(m, FF_source_service, &sub) && (sub || service_set(&ev->source_service))) {
		KEY(w, "source_service");
		w_service(w, &ev->source_service, sub);
	}
	if (fm_want_ff(m, FF_destination_service, &sub) && (sub || service_set(&ev->destination_service))) {
		KEY(w, "destination_service");
		w_service(w, &ev->destination_service, sub);
	}
	if (WANT(ev->traffic_direction, FF_traffic_direction)) {
		KEY(w, "traffic_direction");
		w_enum(w, &fe_enum_traffic_direction, ev->traffic_direction);
	}
	if (WANT(ev->policy_match_type, FF_policy_match_type)) {
		KEY(w, "policy_match_type");
		w_u64(w, ev->policy_match_type);
	}
	if (WANT(ev->trace_observation_point, FF_trace_observation_point)) {
		KEY(w, "trace_observation_point");
		w_enum(w, &fe_enum_trace_point, ev->trace_observation_point);
	}
	if (WANT(ev->trace_reason, FF_trace_reason)) {
		KEY(w, "trace_reason");
		w_enum(w, &fe_enum_trace_reason, ev->trace_reason);
	}
	if (fm_want_ff(m, FF_file, &sub) && (sub || nonempty(ev->file_name) || ev->file_line)) {
		fmask *x, *fm = sub;
		KEY(w, "file");
		w_open(w);
		if (nonempty(ev->file_name) && fm_want(fm, "name", &x)) {
			KEY(w, "name");
			w_str(w, ev->file_name);
		}
		if (ev->file_line && fm_want(fm, "line", &x)) {
			KEY(w, "line");
			w_u64(w, ev->file_line);
		}
		w_close(w);
	}
	if (fm_want_ff(m, FF_ip_trace_id, &sub) && (sub || ev->ip_trace_id || ev->ip_option_type)) {
		fmask *x, *tm = sub;
		KEY(w, "ip_trace_id");
		w_open(w);
		if (ev->ip_trace_id && fm_want(tm, "trace_id", &x)) {
			KEY(w, "trace_id");
			w_u64_str(w, ev->ip_trace_id);
		}
		if (ev->ip_option_type && fm_want(tm, "ip_option_type", &x)) {
			KEY(w, "ip_option_type");
			w_u64(w, ev->ip_option_type);
		}
		w_close(w);
	}
	if (WANT(ev->drop_reason_desc, FF_drop_reason_desc)) {
		KEY(w, "drop_reason_desc");
		w_enum(w, &fe_enum_drop_reason, ev->drop_reason_desc);
	}
	if (WANT(ev->is_reply >= 0, FF_is_reply)) {
		KEY(w, "is_reply");
		if (ev->is_reply)
			W_LIT(w, "true");
		else
			W_LIT(w, "false");
	}
	if (WANT(ev->debug_capture_point, FF_debug_capture_point)) {
		KEY(w, "debug_capture_point");
		w_enum(w, &fe_enum_debug_capture, ev->debug_capture_point);
	}
	if (fm_want_ff(m, FF_interface, &sub) && (sub || ev->ifindex || nonempty(ev->ifname))) {
		fmask *x, *im = sub;
		KEY(w, "interface");
		w_open(w);
		if (ev->ifindex && fm_want(im, "index", &x)) {
			KEY(w, "index");
			w_u64(w, ev->ifindex);
		}
		if (nonempty(ev->ifname) && fm_want(im, "name", &x)) {
			KEY(w, "name");
			w_str(w, ev->ifname);
		}
		w_close(w);
	}
	if (WANT(ev->proxy_port, FF_proxy_port)) {
		KEY(w, "proxy_port");
		w_u64(w, ev->proxy_port);
	}
	if (fm_want_ff(m, FF_trace_context, &sub) && (sub || nonempty(ev->trace_parent_id))) {
		fmask *x, *y, *tm = sub;
		KEY(w, "trace_context");
		w_open(w);
		if (fm_want(tm, "parent", &x) && (x || nonempty(ev->trace_parent_id))) {
			KEY(w, "parent");
			w_open(w);
			if (nonempty(ev->trace_parent_id) && fm_want(x, "trace_id", &y)) {
				KEY(w, "trace_id");
				w_str(w, ev->trace_parent_id);
			}
			w_close(w);
		}
		w_close(w);
	}
	if (WANT(ev->sock_xlate_point, FF_sock_xlate_point)) {
		KEY(w, "sock_xlate_point");
		w_enum(w, &fe_enum_sock_xlate, ev->sock_xlate_point);
	}
	if (WANT(ev->socket_cookie, FF_socket_cookie)) {
		KEY(w, "socket_cookie");
		w_u64_str(w, ev->socket_cookie);
	}
	if (WANT(ev->cgroup_id, FF_cgroup_id)) {
		KEY(w, "cgroup_id");
		w_u64_str(w, ev->cgroup_id);
	}
	if (WANT(nonempty(ev->summary), FF_Summary)) {
		KEY(w, "Summary");
		w_str(w, ev->summary);
	}
	if (WANT(ev->n_egress_allowed_by, FF_egress_allowed_by)) {
		KEY(w, "egress_allowed_by");
		w_policies(w, ev->egress_allowed_by, ev->n_egress_allowed_by);
	}
	if (WANT(ev->n_ingress_allowed_by, FF_ingress_allowed_by)) {
		KEY(w, "ingress_allowed_by");
		w_policies(w, ev->ingress_allowed_by, ev->n_ingress_allowed_by);
	}
	if (WANT(ev->n_egress_denied_by, FF_egress_denied_by)) {
		KEY(w, "egress_denied_by");
		w_policies(w, ev->egress_denied_by, ev->n_egress_denied_by);
	}
	if (WANT(ev->n_ingress_denied_by, FF_ingress_denied_by)) {
		KEY(w, "ingress_denied_by");
		w_policies(w, ev->ingress_denied_by, ev->n_ingress_denied_by);
	}
	if (WANT(ev->n_policy_log, FF_policy_log)) {
		KEY(w, "policy_log");
		w_str_array(w, ev->policy_log, ev->n_policy_log);
	}
	/* flowd extensions (README "JSON schema"): after all Hubble fields. */
	const struct fe_flow_stats *st = &ev->stats;
	if (fm_want_ff(m, FF_flow_stats, &sub) && (sub || st->event != FE_STATS_NONE)) {
		fmask *x, *sm = sub;
		KEY(w, "flow_stats");
		w_open(w);
		if (st->event > FE_STATS_NONE && st->event <= FE_STATS_END && fm_want(sm, "event", &x)) {
			KEY(w, "event");
			w_str(w, stats_event_names[st->event]);
		}
		if (st->event != FE_STATS_NONE && fm_want(sm, "packets", &x)) {
			KEY(w, "packets");
			w_u64(w, st->packets);
		}
		if (st->event != FE_STATS_NONE && fm_want(sm, "bytes", &x)) {
			KEY(w, "bytes");
			w_u64(w, st->bytes);
		}
		if (st->first_seen_ns && fm_want(sm, "first_seen", &x)) {
			KEY(w, "first_seen");
			w_time(w, st->first_seen_ns);
		}
		if (st->last_seen_ns && fm_want(sm, "last_seen", &x)) {
			KEY(w, "last_seen");
			w_time(w, st->last_seen_ns);
		}
		w_close(w);
	}
	const struct fe_l7_info *li = &ev->l7_info;
	if (fm_want_ff(m, FF_l7_info, &sub) &&
	    (sub || li->gap_bytes || li->messages || li->unknown_headers || li->truncated)) {
		fmask *x, *lm = sub;
		KEY(w, "l7_info");
		w_open(w);
		if (li->gap_bytes && fm_want(lm, "gap_bytes", &x)) {
			KEY(w, "gap_bytes");
			w_u64(w, li->gap_bytes);
		}
		if (li->messages && fm_want(lm, "messages", &x)) {
			KEY(w, "messages");
			w_u64(w, li->messages);
		}
		if (li->unknown_headers && fm_want(lm, "unknown_headers", &x)) {
			KEY(w, "unknown_headers");
			w_u64(w, li->unknown_headers);
		}
		if (li->truncated && fm_want(lm, "truncated", &x)) {
			KEY(w, "truncated");
			W_LIT(w, "true");
		}
		w_close(w);
	}
	/* already JSON (ct_entry_json(), or a decoded object re-serialised) */
	if (ev->conntrack_json && fm_want_ff(m, FF_conntrack, &sub)) {
		KEY(w, "conntrack");
		w_raw(w, ev->conntrack_json, strlen(ev->conntrack_json));
	}
	w_close(w);
}

static void w_lost(struct jw *w, const struct fe_lost_event *l)
{
	w_open(w);
	if (l->source) {
		KEY(w, "source");
		w_enum(w, &fe_enum_lost_source, l->source);
	}
	if (l->num_events_lost) {
		KEY(w, "num_events_lost");
		w_u64_str(w, l->num_events_lost);
	}
	if (l->cpu >= 0) {  /* Int32Value wrapper: present even when 0 */
		KEY(w, "cpu");
		w_i64(w, l->cpu);
	}
	if (l->first_ns) {
		KEY(w, "first");
		w_time(w, l->first_ns);
	}
	if (l->last_ns) {
		KEY(w, "last");
		w_time(w, l->last_ns);
	}
	w_close(w);
}

int fe_record_to_json_masked(const struct fe_record *rec, const struct fe_field_mask *mask,
                             struct fe_buf *out)
{
	struct jw w;
	size_t start = out->len;
	const char *node_name;
	uint64_t time_ns;

	if (mask && mask->n == 0)
		mask = NULL;
	if (jw_init(&w, out)) {
		errno = ENOMEM;
		return -1;
	}
	w_open(&w);
	if (rec->kind == FE_REC_FLOW && rec->flow) {
		KEY(&w, "flow");
		w_flow(&w, rec->flow, mask);
		node_name = rec->flow->node_name;
		time_ns = rec->flow->time_ns;
	} else if (rec->kind == FE_REC_LOST) {
		KEY(&w, "lost_events");
		w_lost(&w, &rec->lost);
		node_name = rec->node_name;
		time_ns = rec->time_ns;
	} else {
		errno = EINVAL;
		out->len = start;
		out->data[start] = '\0';
		return -1;
	}
	if (nonempty(node_name)) {
		KEY(&w, "node_name");
		w_str(&w, node_name);
	}
	if (time_ns) {
		KEY(&w, "time");
		w_time(&w, time_ns);
	}
	w_close(&w);
	w_char(&w, '\n');
	if (jw_done(&w)) {
		out->len = start;
		out->data[start] = '\0';
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int fe_record_to_json(const struct fe_record *rec, struct fe_buf *out)
{
	return fe_record_to_json_masked(rec, NULL, out);
}

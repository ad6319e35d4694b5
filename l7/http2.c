/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HTTP/2 over cleartext TCP (h2c: prior knowledge, or after an HTTP/1.1
 * "Upgrade: h2c" handed over by http1.c), including gRPC.
 *
 * Per direction: the client preface, then frames (RFC 9113 §4). Header
 * blocks (HEADERS/PUSH_PROMISE + CONTINUATION) stream through one HPACK
 * decoder per direction (http2_hpack.c, around nghttp2's inflater); DATA is
 * counted, never buffered. Each stream is one transaction:
 *
 *  - request event (client -> server), stamped with the first byte of its
 *    header block, emitted when that block is complete; for gRPC
 *    (content-type application/grpc*) when the client ends its side of the
 *    stream, so that it carries the request message count
 *    (l7_info.messages). PUSH_PROMISE gives the request of a pushed stream.
 *  - response event (server -> client), stamped when its header block is
 *    complete (latency_ns from the request's stamp, as for HTTP/1.x), emitted
 *    when the response stream ends (END_STREAM), so that trailers (gRPC:
 *    grpc-status, grpc-message) are merged into its headers and the message
 *    count is final.
 *  - RST_STREAM or a GOAWAY that excludes the stream end it early: both
 *    events are still emitted with what is known and l7_info.truncated set
 *    (request: if its side had not ended). At the end of the connection a
 *    response that had begun is emitted truncated; a stream never answered
 *    gets its request event only (counted as http2.unanswered).
 *
 * Joining mid-connection (capture or attach started late, bytes lost):
 * frames are found again by a plausibility check of consecutive frame
 * headers; header fields that refer to HPACK table entries we never saw are
 * left out and counted in l7_info.unknown_headers, so :method or :path are
 * omitted rather than guessed (see http2_hpack.h). Responses whose request
 * was never seen are still reported (without method and URL).
 */
#include "http_common.h"
#include "http2_hpack.h"
#include "l7.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24
#define H2_FRAME_HDR 9
#define H2_DEFAULT_MAX_FRAME 16384u
#define H2_MAX_FRAME_LIMIT 0xffffffu
#define H2_MIN_STREAMS 256         /* concurrent streams tracked at least */
#define H2_RESYNC_BUF (64 * 1024)  /* bytes searched for a frame boundary */
#define H2_SMALL 16                /* payload bytes kept of control frames */
#define H2_CONN_HEADER_BUDGET (1024 * 1024)   /* header bytes held per connection */

enum h2_frame_type {
	H2_DATA = 0, H2_HEADERS, H2_PRIORITY, H2_RST_STREAM, H2_SETTINGS,
	H2_PUSH_PROMISE, H2_PING, H2_GOAWAY, H2_WINDOW_UPDATE, H2_CONTINUATION,
};
#define F_END_STREAM 0x01
#define F_ACK 0x01
#define F_END_HEADERS 0x04
#define F_PADDED 0x08
#define F_PRIORITY 0x20

#define SETTINGS_HEADER_TABLE_SIZE 1
#define SETTINGS_MAX_FRAME_SIZE 5

/* Header fields of one message, kept until its event is built. */
struct h2_msg {
	char *buf;                 /* "name\0value\0" pairs */
	size_t len, cap;
	uint32_t nfields;
	uint32_t unknown;          /* fields not recoverable (HPACK) */
	size_t hdr_bytes;          /* counted against max_header_bytes */
	bool over;                 /* max_header_bytes reached: rest dropped */
	uint32_t messages;         /* gRPC length-prefixed messages */
	uint64_t gap_bytes;
	/* gRPC message framing across DATA frames */
	uint8_t g_got;             /* prefix bytes seen of the current message */
	uint8_t g_len[4];
	uint32_t g_left;           /* body bytes left of the current message */
	bool g_lost;               /* framing lost (gap): stop counting */
};

struct h2_stream {
	uint32_t id;
	uint64_t req_ts;           /* first byte of the request header block */
	uint64_t resp_ts;          /* final response header block complete */
	struct h2_msg req, resp;
	uint32_t status;
	bool req_headers;          /* request header block complete */
	bool req_emitted, req_end;
	bool resp_headers;         /* final (non-1xx) response headers seen */
	bool grpc;
};

enum blk_kind { BLK_DISCARD, BLK_REQ, BLK_REQ_TRAILERS, BLK_RESP, BLK_PUSH };

enum dir_state { ST_PREFACE, ST_HEADER, ST_PAYLOAD, ST_RESYNC };

struct h2_dir {
	enum dir_state st;
	uint8_t hdr[H2_FRAME_HDR];
	uint32_t hdr_got;          /* frame header bytes, or preface bytes */
	/* current frame */
	uint32_t len, pos, sid;
	uint8_t type, flags;
	uint32_t front;            /* pad length / priority / promised id fields */
	uint32_t content_end;      /* len minus padding, once known */
	uint8_t small[H2_SMALL];
	uint32_t small_got;
	struct h2_stream *fs;      /* stream of the current DATA frame */
	/* header block in progress */
	bool blk;
	uint32_t blk_sid;
	enum blk_kind blk_kind;
	bool blk_end_stream;
	struct h2_stream *blk_st;
	struct h2_hpack *hp;
	uint32_t max_frame;        /* what the peer allows this direction to send */
	/* resync: looking for a frame boundary */
	uint8_t *rbuf;
	size_t rlen, rscan;
	bool closed;
};

struct h2_conn {
	const struct l7_config *cfg;
	struct l7_conn_info ci;
	struct h2_dir d[2];
	struct h2_stream **streams;
	size_t nstreams, cap_streams, max_streams;
	uint32_t max_client_sid;   /* highest client stream id seen */
	size_t hdr_held;           /* header bytes held by all streams */
	bool joined;               /* state before our first byte unknown */
	bool any_request;          /* a client header block was seen */
	int cur_dir;               /* direction whose header block is being decoded */
	/* valid during one parser call */
	struct l7_ctx *ctx;
	uint64_t ts;
};

/* ---------------------------------------------------------------------------
 * Small helpers */

static uint32_t be24(const uint8_t *p) { return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]; }
static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void count(struct h2_conn *c, const char *name)
{
	l7_count(c->ctx, name, 1);
}

/* ---------------------------------------------------------------------------
 * Messages: header fields and gRPC message counting */

static void msg_free(struct h2_conn *c, struct h2_msg *m)
{
	c->hdr_held -= m->hdr_bytes;
	free(m->buf);
	memset(m, 0, sizeof(*m));
}

/* Drop the fields (a 1xx response), keep the counters. */
static void msg_clear_fields(struct h2_conn *c, struct h2_msg *m)
{
	c->hdr_held -= m->hdr_bytes;
	m->len = 0;
	m->nfields = 0;
	m->hdr_bytes = 0;
	m->over = false;
}

static void msg_add(struct h2_conn *c, struct h2_msg *m, const uint8_t *name, size_t nlen,
                    const uint8_t *value, size_t vlen)
{
	if (m->over)
		return;
	if (m->hdr_bytes + nlen + vlen > c->cfg->max_header_bytes) {
		m->over = true;
		count(c, "http2.header_bytes_exceeded");
		return;
	}
	if (c->hdr_held + nlen + vlen > H2_CONN_HEADER_BUDGET) {
		/* many streams with large headers: bound the connection too */
		m->over = true;
		count(c, "http2.header_budget_exceeded");
		return;
	}
	size_t need = m->len + nlen + vlen + 2;
	if (need > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 256;
		while (cap < need)
			cap *= 2;
		char *nb = realloc(m->buf, cap);
		if (!nb) {
			m->over = true;
			count(c, "http2.oom");
			return;
		}
		m->buf = nb;
		m->cap = cap;
	}
	/* a NUL inside a name or value would cut it: such fields are malformed */
	if (memchr(name, 0, nlen) || memchr(value, 0, vlen)) {
		m->unknown++;
		count(c, "http2.malformed_field");
		return;
	}
	memcpy(m->buf + m->len, name, nlen);
	m->buf[m->len + nlen] = 0;
	memcpy(m->buf + m->len + nlen + 1, value, vlen);
	m->buf[m->len + nlen + 1 + vlen] = 0;
	m->len = need;
	m->nfields++;
	m->hdr_bytes += nlen + vlen;
	c->hdr_held += nlen + vlen;
}

/* Iterate fields: *off starts at 0. */
static bool msg_next(const struct h2_msg *m, size_t *off, const char **name, const char **value)
{
	if (*off >= m->len)
		return false;
	*name = m->buf + *off;
	*value = *name + strlen(*name) + 1;
	*off = (size_t)(*value - m->buf) + strlen(*value) + 1;
	return true;
}

static const char *msg_get(const struct h2_msg *m, const char *want)
{
	size_t off = 0;
	const char *n, *v;
	while (msg_next(m, &off, &n, &v))
		if (strcmp(n, want) == 0)
			return v;
	return NULL;
}

/* gRPC: 1 byte compressed flag + 4 bytes length, then the message. */
static void grpc_count(struct h2_msg *m, const uint8_t *p, size_t n)
{
	while (n > 0 && !m->g_lost) {
		if (m->g_left > 0) {
			size_t k = n < m->g_left ? n : m->g_left;
			m->g_left -= (uint32_t)k;
			p += k;
			n -= k;
			continue;
		}
		if (m->g_got == 0)
			m->messages++;
		if (m->g_got >= 1)
			m->g_len[m->g_got - 1] = *p;
		m->g_got++;
		p++;
		n--;
		if (m->g_got == 5) {
			m->g_left = be32(m->g_len);
			m->g_got = 0;
		}
	}
}

/* ---------------------------------------------------------------------------
 * Streams */

static struct h2_stream *stream_find(struct h2_conn *c, uint32_t id)
{
	for (size_t i = c->nstreams; i-- > 0;)
		if (c->streams[i]->id == id)
			return c->streams[i];
	return NULL;
}

static struct h2_stream *stream_new(struct h2_conn *c, uint32_t id)
{
	if (c->nstreams >= c->max_streams) {
		count(c, "http2.stream_limit");
		return NULL;
	}
	if (c->nstreams == c->cap_streams) {
		size_t cap = c->cap_streams ? c->cap_streams * 2 : 16;
		struct h2_stream **ns = realloc(c->streams, cap * sizeof(*ns));
		if (!ns) {
			count(c, "http2.oom");
			return NULL;
		}
		c->streams = ns;
		c->cap_streams = cap;
	}
	struct h2_stream *s = calloc(1, sizeof(*s));
	if (!s) {
		count(c, "http2.oom");
		return NULL;
	}
	s->id = id;
	c->streams[c->nstreams++] = s;
	return s;
}

static void stream_remove(struct h2_conn *c, struct h2_stream *s)
{
	for (int d = 0; d < 2; d++) {
		if (c->d[d].fs == s)
			c->d[d].fs = NULL;
		if (c->d[d].blk_st == s) {
			c->d[d].blk_st = NULL;
			c->d[d].blk_kind = BLK_DISCARD;
		}
	}
	for (size_t i = 0; i < c->nstreams; i++) {
		if (c->streams[i] == s) {
			c->streams[i] = c->streams[--c->nstreams];
			break;
		}
	}
	msg_free(c, &s->req);
	msg_free(c, &s->resp);
	free(s);
}

/* ---------------------------------------------------------------------------
 * Events */

static bool starts_with_ci(const char *s, const char *prefix)
{
	return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Regular fields of m (and, for responses, the request's X-Request-Id as
 * Hubble does) as the event's headers; cookie crumbs joined with "; " as
 * RFC 9113 §8.2.3 says for HTTP/1.1 recipients. */
static int set_headers(struct h2_conn *c, struct flow_event *ev, const struct h2_msg *m,
                       const struct h2_msg *req_for_id)
{
	size_t n = m->nfields + 1, k = 0;
	struct http_header_in *h = calloc(n, sizeof(*h));
	if (!h)
		return -1;
	char *cookie = NULL;
	size_t cookie_len = 0;
	bool has_id = false;
	size_t off = 0;
	const char *name, *value;
	while (msg_next(m, &off, &name, &value)) {
		if (name[0] == ':')
			continue;
		if (strcmp(name, "cookie") == 0) {
			size_t vl = strlen(value);
			char *nc = realloc(cookie, cookie_len + vl + 3);
			if (!nc)
				continue;
			cookie = nc;
			if (cookie_len) {
				memcpy(cookie + cookie_len, "; ", 2);
				cookie_len += 2;
			}
			memcpy(cookie + cookie_len, value, vl + 1);
			cookie_len += vl;
			continue;
		}
		if (strcmp(name, "x-request-id") == 0)
			has_id = true;
		h[k++] = (struct http_header_in){ name, strlen(name), value, strlen(value) };
	}
	if (cookie)
		h[k++] = (struct http_header_in){ "cookie", 6, cookie, cookie_len };
	if (req_for_id && !has_id) {
		const char *id = msg_get(req_for_id, "x-request-id");
		if (id && k < n)
			h[k++] = (struct http_header_in){ "x-request-id", 12, id, strlen(id) };
	}
	int rc = http_event_set_headers(ev, h, k, c->cfg);
	free(cookie);
	free(h);
	return rc;
}

/* method and url from the request's pseudo-header fields; absent when
 * unknown (never guessed). */
static void set_request_line(struct h2_conn *c, struct flow_event *ev, const struct h2_stream *s)
{
	if (!s->req_headers)
		return;
	const struct h2_msg *m = &s->req;
	const char *method = msg_get(m, ":method");
	const char *path = msg_get(m, ":path");
	const char *scheme = msg_get(m, ":scheme");
	const char *authority = msg_get(m, ":authority");
	if (!authority)
		authority = msg_get(m, "host");
	if (method)
		ev->l7.http.method = fe_strdup(ev, method);
	if (method && strcmp(method, "CONNECT") == 0 && !path)
		path = "";
	else if (!path)
		return;   /* unknown: no URL rather than a wrong one */
	ev->l7.http.url = http_event_url(ev, scheme ? scheme : "http", authority,
	                                 authority ? strlen(authority) : 0, path, strlen(path),
	                                 &c->ci);
}

static void emit_request(struct h2_conn *c, struct h2_stream *s, bool truncated)
{
	s->req_emitted = true;
	struct flow_event *ev = l7_event_new(c->ctx, L7_DIR_TO_SERVER, s->req_ts);
	if (!ev)
		return;
	ev->l7.kind = FE_L7K_HTTP;
	ev->l7.http.protocol = "HTTP/2";
	set_request_line(c, ev, s);
	if (set_headers(c, ev, &s->req, NULL) != 0)
		count(c, "http2.oom");
	ev->l7_info.unknown_headers = s->req.unknown;
	ev->l7_info.gap_bytes = s->req.gap_bytes;
	ev->l7_info.messages = s->grpc ? s->req.messages : 0;
	ev->l7_info.truncated = truncated || s->req.over;
	l7_event_emit(c->ctx, ev);
}

/* Emit the response (and the request first if still pending); the stream
 * is done. */
static void finish_stream(struct h2_conn *c, struct h2_stream *s, bool truncated)
{
	if (s->req_headers && !s->req_emitted)
		emit_request(c, s, !s->req_end);
	/* Nothing identifies a stream whose request and response headers were
	 * both missed: count it instead of emitting an empty event. */
	if (!s->req_headers && !s->resp_headers) {
		count(c, "http2.stream_unidentified");
		stream_remove(c, s);
		return;
	}
	const uint64_t t = s->resp_headers ? s->resp_ts : c->ts;
	struct flow_event *ev = l7_event_new(c->ctx, L7_DIR_TO_CLIENT, t);
	if (ev) {
		ev->l7.kind = FE_L7K_HTTP;
		ev->l7.http.protocol = "HTTP/2";
		ev->l7.http.code = s->status;
		set_request_line(c, ev, s);
		if (s->req_headers)
			ev->l7.latency_ns = t > s->req_ts ? t - s->req_ts : 0;
		if (set_headers(c, ev, &s->resp, s->req_headers ? &s->req : NULL) != 0)
			count(c, "http2.oom");
		ev->l7_info.unknown_headers = s->resp.unknown;
		ev->l7_info.gap_bytes = s->resp.gap_bytes;
		ev->l7_info.messages = s->grpc ? s->resp.messages : 0;
		ev->l7_info.truncated = truncated || s->resp.over;
		l7_event_emit(c->ctx, ev);
	}
	stream_remove(c, s);
}

/* The stream ends early (RST_STREAM, GOAWAY, end of connection). */
static void abort_stream(struct h2_conn *c, struct h2_stream *s)
{
	if (!s->req_headers && !s->resp_headers) {
		stream_remove(c, s);
		return;
	}
	finish_stream(c, s, true);
}

static bool is_grpc_type(const char *ct)
{
	return starts_with_ci(ct, "application/grpc");
}

/* ---------------------------------------------------------------------------
 * Header blocks */


/* Report what the HPACK decoder of direction d did since the last call. */
static void hpack_counters(struct h2_conn *c, int d, struct h2_hpack_stats *before)
{
	const struct h2_hpack_stats *now = h2_hpack_stats(c->d[d].hp);
	if (now->desyncs > before->desyncs)
		l7_count(c->ctx, "http2.hpack_desync", now->desyncs - before->desyncs);
	if (now->recoveries > before->recoveries)
		l7_count(c->ctx, "http2.hpack_recovered", now->recoveries - before->recoveries);
	if (now->unknown_fields > before->unknown_fields)
		l7_count(c->ctx, "http2.unknown_fields", now->unknown_fields - before->unknown_fields);
	*before = *now;
}

static void on_field(void *user, const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen)
{
	struct h2_conn *c = user;
	struct h2_dir *D = &c->d[c->cur_dir];
	struct h2_stream *s = D->blk_st;
	if (!s)
		return;
	const bool pseudo = nlen && name[0] == ':';
	struct h2_msg *m;
	switch (D->blk_kind) {
	case BLK_REQ:
	case BLK_PUSH:
		m = &s->req;
		break;
	case BLK_REQ_TRAILERS:
		if (s->req_emitted || pseudo)
			return;
		m = &s->req;
		break;
	case BLK_RESP:
		if (s->resp_headers && pseudo)
			return;   /* no pseudo-header fields in trailers */
		m = &s->resp;
		break;
	default:
		return;
	}
	msg_add(c, m, name, nlen, value, vlen);
}

static void block_start(struct h2_conn *c, int d, enum blk_kind kind, struct h2_stream *s,
                        bool end_stream)
{
	struct h2_dir *D = &c->d[d];
	struct h2_hpack_stats before = *h2_hpack_stats(D->hp);
	D->blk = true;
	D->blk_sid = D->sid;
	D->blk_kind = s ? kind : BLK_DISCARD;
	D->blk_st = s;
	D->blk_end_stream = end_stream;
	h2_hpack_block_begin(D->hp);
	hpack_counters(c, d, &before);
}

static void block_feed(struct h2_conn *c, int d, const uint8_t *p, size_t n)
{
	struct h2_dir *D = &c->d[d];
	struct h2_hpack_stats before = *h2_hpack_stats(D->hp);
	c->cur_dir = d;
	h2_hpack_block_data(D->hp, p, n, on_field, c);
	hpack_counters(c, d, &before);
}

static uint32_t parse_status(const char *s)
{
	if (!s || strlen(s) != 3)
		return 0;
	uint32_t v = 0;
	for (int i = 0; i < 3; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	return v;
}

/* END_HEADERS (or the block was abandoned: then the decoder failed it). */
static void block_finish(struct h2_conn *c, int d)
{
	struct h2_dir *D = &c->d[d];
	struct h2_hpack_stats before = *h2_hpack_stats(D->hp);
	struct h2_hpack_block_result r = h2_hpack_block_end(D->hp);
	hpack_counters(c, d, &before);
	struct h2_stream *s = D->blk_st;
	enum blk_kind kind = D->blk_kind;
	D->blk = false;
	D->blk_st = NULL;
	if (!s)
		return;

	switch (kind) {
	case BLK_REQ:
	case BLK_PUSH:
		s->req.unknown += r.unknown;
		s->req_headers = true;
		s->grpc = is_grpc_type(msg_get(&s->req, "content-type"));
		if (D->blk_end_stream || kind == BLK_PUSH)
			s->req_end = true;
		if (!s->grpc || s->req_end)
			emit_request(c, s, false);
		break;
	case BLK_REQ_TRAILERS:
		if (!s->req_emitted)
			s->req.unknown += r.unknown;
		if (D->blk_end_stream) {
			s->req_end = true;
			if (!s->req_emitted)
				emit_request(c, s, false);
		}
		break;
	case BLK_RESP:
		if (!s->resp_headers) {
			uint32_t code = parse_status(msg_get(&s->resp, ":status"));
			if (code >= 100 && code < 200 && !D->blk_end_stream) {
				msg_clear_fields(c, &s->resp);   /* informational: the final one follows */
				break;
			}
			s->resp_headers = true;
			s->resp_ts = c->ts;
			s->status = code;
			if (is_grpc_type(msg_get(&s->resp, "content-type")))
				s->grpc = true;
		}
		s->resp.unknown += r.unknown;
		if (msg_get(&s->resp, "grpc-status"))
			s->grpc = true;
		if (D->blk_end_stream)
			finish_stream(c, s, false);
		break;
	case BLK_DISCARD:
		break;
	}
}

/* ---------------------------------------------------------------------------
 * Frames */

/* Could h be the header of a frame sent in direction d? Strict: used to find
 * frame boundaries without context (detection, after lost bytes). */
static bool frame_plausible(const uint8_t *h, int d, uint32_t max_frame)
{
	const uint32_t len = be24(h);
	const uint8_t type = h[3], fl = h[4];
	const uint32_t sid = be32(h + 5);
	if (sid & 0x80000000u || len > max_frame)
		return false;
	const bool client = d == L7_DIR_TO_SERVER;
	switch (type) {
	case H2_DATA:
		return !(fl & ~(F_END_STREAM | F_PADDED)) && sid && (!client || (sid & 1));
	case H2_HEADERS:
		return !(fl & ~(F_END_STREAM | F_END_HEADERS | F_PADDED | F_PRIORITY)) && sid &&
		       (!client || (sid & 1)) && len > 0;
	case H2_PRIORITY:
		return fl == 0 && len == 5 && sid;
	case H2_RST_STREAM:
		return fl == 0 && len == 4 && sid;
	case H2_SETTINGS:
		return !(fl & ~F_ACK) && sid == 0 && ((fl & F_ACK) ? len == 0 : len % 6 == 0);
	case H2_PUSH_PROMISE:
		return !client && !(fl & ~(F_END_HEADERS | F_PADDED)) && (sid & 1) && len >= 4;
	case H2_PING:
		return !(fl & ~F_ACK) && sid == 0 && len == 8;
	case H2_GOAWAY:
		return fl == 0 && sid == 0 && len >= 8;
	case H2_WINDOW_UPDATE:
		return fl == 0 && len == 4;
	case H2_CONTINUATION:
		return !(fl & ~F_END_HEADERS) && sid && (!client || (sid & 1));
	default:
		return false;
	}
}

/* Do plausible frames start at p? 1: two consecutive plausible headers, or
 * one frame ending exactly at the end of the data; 0: cannot tell yet;
 * -1: no. */
static int frame_chain(const uint8_t *p, size_t n, int d, uint32_t max_frame)
{
	size_t off = 0;
	int frames = 0;
	bool want_cont = false;
	uint32_t cont_sid = 0;
	for (;;) {
		if (off + H2_FRAME_HDR > n)
			return off == n && frames == 1 ? 1 : 0;
		const uint8_t *h = p + off;
		if (!frame_plausible(h, d, max_frame))
			return -1;
		const uint8_t type = h[3], fl = h[4];
		const uint32_t sid = be32(h + 5);
		if (want_cont && (type != H2_CONTINUATION || sid != cont_sid))
			return -1;
		if (!want_cont && type == H2_CONTINUATION && frames > 0)
			return -1;
		want_cont = (type == H2_HEADERS || type == H2_PUSH_PROMISE || type == H2_CONTINUATION) &&
		            !(fl & F_END_HEADERS);
		cont_sid = sid;
		if (++frames == 2)
			return 1;
		off += H2_FRAME_HDR + be24(h);
	}
}

static void stream_end(struct h2_conn *c, int d, struct h2_stream *s)
{
	if (d == L7_DIR_TO_SERVER) {
		s->req_end = true;
		if (s->req_headers && !s->req_emitted)
			emit_request(c, s, false);
	} else {
		finish_stream(c, s, false);
	}
}

static void headers_begin(struct h2_conn *c, int d)
{
	struct h2_dir *D = &c->d[d];
	const uint32_t sid = D->sid;
	struct h2_stream *s = sid ? stream_find(c, sid) : NULL;
	enum blk_kind kind = BLK_DISCARD;
	if (d == L7_DIR_TO_SERVER) {
		if (s) {
			kind = s->req_headers ? BLK_REQ_TRAILERS : BLK_REQ;
		} else if ((sid & 1) && sid > c->max_client_sid) {
			c->max_client_sid = sid;
			c->any_request = true;
			s = stream_new(c, sid);
			kind = BLK_REQ;
			if (s)
				s->req_ts = c->ts;
		} else {
			count(c, "http2.orphan_frame");
		}
	} else {
		if (s) {
			kind = BLK_RESP;
		} else if (sid && (c->joined || (sid == 1 && !c->any_request))) {
			/* Joined late, or the answer to an HTTP/1.1 Upgrade request
			 * (stream 1, whose request was HTTP/1.1): report what we see. */
			s = stream_new(c, sid);
			kind = BLK_RESP;
			if ((sid & 1) && sid > c->max_client_sid)
				c->max_client_sid = sid;
		} else {
			count(c, "http2.orphan_frame");
		}
	}
	block_start(c, d, kind, s, D->flags & F_END_STREAM);
}

static void push_begin(struct h2_conn *c, int d, uint32_t promised)
{
	struct h2_stream *s = NULL;
	if (d == L7_DIR_TO_CLIENT && promised && !(promised & 1) && !stream_find(c, promised)) {
		s = stream_new(c, promised);
		if (s)
			s->req_ts = c->ts;
	}
	else
		count(c, "http2.protocol_error");
	block_start(c, d, BLK_PUSH, s, false);
}

static void goaway(struct h2_conn *c, int d, uint32_t last)
{
	count(c, "http2.goaway");
	/* The sender will not process streams the peer opened above last. */
	for (size_t i = 0; i < c->nstreams;) {
		struct h2_stream *s = c->streams[i];
		const bool opened_by_peer = d == L7_DIR_TO_CLIENT ? (s->id & 1) : !(s->id & 1);
		if (opened_by_peer && s->id > last) {
			count(c, "http2.stream_goaway");
			abort_stream(c, s);   /* removes s: same index again */
			continue;
		}
		i++;
	}
}

static void setting(struct h2_conn *c, int d, uint16_t id, uint32_t val)
{
	/* Sent by the receiver of direction !d: bounds what !d may send. */
	struct h2_dir *peer = &c->d[!d];
	switch (id) {
	case SETTINGS_HEADER_TABLE_SIZE:
		h2_hpack_settings_table_size(peer->hp, val);
		break;
	case SETTINGS_MAX_FRAME_SIZE:
		if (val >= H2_DEFAULT_MAX_FRAME && val <= H2_MAX_FRAME_LIMIT)
			peer->max_frame = val;
		break;
	default:
		break;
	}
}

static void frame_end(struct h2_conn *c, int d)
{
	struct h2_dir *D = &c->d[d];
	D->st = ST_HEADER;
	D->hdr_got = 0;
	switch (D->type) {
	case H2_DATA:
		if ((D->flags & F_END_STREAM) && D->fs)
			stream_end(c, d, D->fs);
		break;
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
	case H2_CONTINUATION:
		if (D->blk && (D->flags & F_END_HEADERS))
			block_finish(c, d);
		break;
	case H2_RST_STREAM:
		if (D->len == 4 && D->sid) {
			struct h2_stream *s = stream_find(c, D->sid);
			count(c, "http2.stream_reset");
			if (s)
				abort_stream(c, s);
		}
		break;
	case H2_GOAWAY:
		if (D->len >= 8)
			goaway(c, d, be32(D->small) & 0x7fffffffu);
		break;
	default:
		break;
	}
	D->fs = NULL;
}

static void front_done(struct h2_conn *c, int d)
{
	struct h2_dir *D = &c->d[d];
	uint32_t pad = 0;
	if (D->flags & F_PADDED) {
		pad = D->small[0];
		if (D->front + pad > D->len) {
			count(c, "http2.malformed_frame");
			if (D->blk)
				h2_hpack_lost(D->hp);
			pad = D->len - D->front;
		}
	}
	D->content_end = D->len - pad;
	if (D->type == H2_PUSH_PROMISE)
		push_begin(c, d, be32(D->small + ((D->flags & F_PADDED) ? 1 : 0)) & 0x7fffffffu);
}

static void frame_begin(struct h2_conn *c, int d)
{
	struct h2_dir *D = &c->d[d];
	const uint8_t *h = D->hdr;
	D->len = be24(h);
	D->type = h[3];
	D->flags = h[4];
	D->sid = be32(h + 5) & 0x7fffffffu;
	D->pos = 0;
	D->small_got = 0;
	D->front = 0;
	D->content_end = D->len;
	D->fs = NULL;
	D->st = ST_PAYLOAD;
	if (D->len > D->max_frame)
		count(c, "http2.frame_too_long");

	if (D->blk && !(D->type == H2_CONTINUATION && D->sid == D->blk_sid)) {
		/* a header block may only be continued by CONTINUATION */
		count(c, "http2.protocol_error");
		h2_hpack_lost(D->hp);
		block_finish(c, d);
	}
	switch (D->type) {
	case H2_DATA:
		D->front = (D->flags & F_PADDED) ? 1 : 0;
		D->fs = D->sid ? stream_find(c, D->sid) : NULL;
		break;
	case H2_HEADERS:
		D->front = ((D->flags & F_PADDED) ? 1 : 0) + ((D->flags & F_PRIORITY) ? 5 : 0);
		headers_begin(c, d);
		break;
	case H2_PUSH_PROMISE:
		D->front = ((D->flags & F_PADDED) ? 1 : 0) + 4;   /* block starts after these */
		break;
	case H2_CONTINUATION:
		if (!D->blk) {
			/* we missed the start of this block, and its insertions */
			count(c, "http2.orphan_continuation");
			h2_hpack_lost(D->hp);
		}
		break;
	default:
		break;
	}
	if (D->front > D->len) {
		count(c, "http2.malformed_frame");
		if (D->blk)
			h2_hpack_lost(D->hp);
		else if (D->type == H2_PUSH_PROMISE)
			h2_hpack_lost(D->hp);
		D->front = D->content_end = D->len;
	}
	if (D->len == 0)
		frame_end(c, d);
}

/* Payload bytes of the current frame that are neither front fields nor
 * padding; off: offset within that content. */
static void content(struct h2_conn *c, int d, const uint8_t *p, size_t n)
{
	struct h2_dir *D = &c->d[d];
	switch (D->type) {
	case H2_DATA:
		if (D->fs)
			grpc_count(d == L7_DIR_TO_SERVER ? &D->fs->req : &D->fs->resp, p, n);
		break;
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
	case H2_CONTINUATION:
		if (D->blk)
			block_feed(c, d, p, n);
		break;
	case H2_SETTINGS:
		if (D->flags & F_ACK)
			break;
		for (size_t i = 0; i < n; i++) {
			D->small[D->small_got++] = p[i];
			if (D->small_got == 6) {
				setting(c, d, (uint16_t)(D->small[0] << 8 | D->small[1]), be32(D->small + 2));
				D->small_got = 0;
			}
		}
		break;
	default:
		for (size_t i = 0; i < n && D->small_got < H2_SMALL; i++)
			D->small[D->small_got++] = p[i];
		break;
	}
}

/* Consumes payload bytes of the current frame; returns how many. */
static size_t payload(struct h2_conn *c, int d, const uint8_t *p, size_t n)
{
	struct h2_dir *D = &c->d[d];
	size_t used = 0;
	while (used < n && D->pos < D->len) {
		const uint8_t *q = p + used;
		const size_t avail = n - used;
		size_t k;
		if (D->pos < D->front) {
			k = D->front - D->pos < avail ? D->front - D->pos : avail;
			memcpy(D->small + D->pos, q, k);
			D->pos += (uint32_t)k;
			used += k;
			if (D->pos == D->front)
				front_done(c, d);
			continue;
		}
		if (D->pos < D->content_end) {
			k = D->content_end - D->pos < avail ? D->content_end - D->pos : avail;
			D->pos += (uint32_t)k;   /* before: content() may end the stream */
			content(c, d, q, k);
			used += k;
			continue;
		}
		k = D->len - D->pos < avail ? D->len - D->pos : avail;   /* padding */
		D->pos += (uint32_t)k;
		used += k;
	}
	if (D->pos == D->len)
		frame_end(c, d);
	return used;
}

/* ---------------------------------------------------------------------------
 * Losing and finding frame boundaries */

static struct h2_msg *frame_msg(struct h2_conn *c, int d)
{
	struct h2_dir *D = &c->d[d];
	struct h2_stream *s = D->blk ? D->blk_st : D->fs;
	if (!s)
		return NULL;
	if (D->blk)
		return D->blk_kind == BLK_RESP ? &s->resp : &s->req;
	return d == L7_DIR_TO_SERVER ? &s->req : &s->resp;
}

static void enter_resync(struct h2_conn *c, int d)
{
	struct h2_dir *D = &c->d[d];
	D->st = ST_RESYNC;
	D->rlen = D->rscan = 0;
	D->fs = NULL;
}

/* len bytes lost where we could not skip them inside the current frame. */
static void lose_framing(struct h2_conn *c, int d, uint64_t len)
{
	struct h2_dir *D = &c->d[d];
	count(c, "http2.desync");
	struct h2_msg *m = D->st == ST_PAYLOAD ? frame_msg(c, d) : NULL;
	if (m) {
		m->gap_bytes += len;
		m->g_lost = true;
	}
	h2_hpack_lost(D->hp);
	if (D->blk)
		block_finish(c, d);
	enter_resync(c, d);
}

static void parse(struct h2_conn *c, int d, const uint8_t *p, size_t n);

static void unjoin_if_fresh(struct h2_conn *c)
{
	/* Joined by the pipeline's view, but we see the client preface: the
	 * connection starts here, with empty tables. */
	if (!c->joined || c->d[0].blk || c->d[1].blk || c->nstreams || c->any_request)
		return;
	for (int d = 0; d < 2; d++) {
		struct h2_hpack *hp = h2_hpack_new(true);
		if (!hp)
			return;
		h2_hpack_free(c->d[d].hp);
		c->d[d].hp = hp;
	}
	c->joined = false;
}

/* Look for a frame boundary in the resync buffer: earliest offset first. */
static int resync_search(struct h2_conn *c, int d, size_t *at)
{
	struct h2_dir *D = &c->d[d];
	uint32_t max_frame = D->max_frame < H2_RESYNC_BUF / 2 ? D->max_frame : H2_RESYNC_BUF / 2;
	for (size_t off = D->rscan; off + H2_FRAME_HDR <= D->rlen; off++) {
		int r = frame_chain(D->rbuf + off, D->rlen - off, d, max_frame);
		if (r > 0) {
			*at = off;
			return 1;
		}
		if (r == 0)
			return 0;
		D->rscan = off + 1;
	}
	return 0;
}

static void resync(struct h2_conn *c, int d, const uint8_t *p, size_t n)
{
	struct h2_dir *D = &c->d[d];
	if (!D->rbuf) {
		D->rbuf = malloc(H2_RESYNC_BUF);
		if (!D->rbuf) {
			count(c, "http2.oom");
			return;
		}
		D->rlen = D->rscan = 0;
	}
	while (n > 0) {
		size_t k = H2_RESYNC_BUF - D->rlen < n ? H2_RESYNC_BUF - D->rlen : n;
		memcpy(D->rbuf + D->rlen, p, k);
		D->rlen += k;
		p += k;
		n -= k;

		size_t at;
		if (resync_search(c, d, &at)) {
			uint8_t *buf = D->rbuf;
			size_t blen = D->rlen;
			D->rbuf = NULL;
			D->rlen = D->rscan = 0;
			if (at)
				l7_count(c->ctx, "http2.resync_skipped_bytes", at);
			count(c, "http2.resync");
			D->st = ST_HEADER;
			D->hdr_got = 0;
			parse(c, d, buf + at, blen - at);
			free(buf);
			if (n)
				parse(c, d, p, n);
			return;
		}
		if (D->rlen == H2_RESYNC_BUF) {
			/* what was rejected cannot start a frame; an undecided start
			 * at the front would need more than the buffer: drop it too */
			size_t drop = D->rscan ? D->rscan : 1;
			memmove(D->rbuf, D->rbuf + drop, D->rlen - drop);
			D->rlen -= drop;
			D->rscan -= D->rscan ? drop : 0;
			l7_count(c->ctx, "http2.resync_skipped_bytes", drop);
		}
	}
}

static void no_preface(struct h2_conn *c, int d, const uint8_t *p, size_t n)
{
	struct h2_dir *D = &c->d[d];
	/* Frames without the client preface: the connection started before we
	 * saw it, and so did both HPACK tables. */
	count(c, "http2.no_preface");
	c->joined = true;
	h2_hpack_lost(c->d[0].hp);
	h2_hpack_lost(c->d[1].hp);
	uint32_t matched = D->hdr_got;
	enter_resync(c, d);
	if (matched)
		resync(c, d, (const uint8_t *)H2_PREFACE, matched);
	resync(c, d, p, n);
}

static void parse(struct h2_conn *c, int d, const uint8_t *p, size_t n)
{
	struct h2_dir *D = &c->d[d];
	while (n > 0) {
		size_t k;
		switch (D->st) {
		case ST_PREFACE:
			k = H2_PREFACE_LEN - D->hdr_got < n ? H2_PREFACE_LEN - D->hdr_got : n;
			if (memcmp(p, &H2_PREFACE[D->hdr_got], k) != 0) {
				no_preface(c, d, p, n);
				return;
			}
			D->hdr_got += (uint32_t)k;
			if (D->hdr_got == H2_PREFACE_LEN) {
				D->st = ST_HEADER;
				D->hdr_got = 0;
			}
			break;
		case ST_HEADER:
			k = H2_FRAME_HDR - D->hdr_got < n ? H2_FRAME_HDR - D->hdr_got : n;
			memcpy(D->hdr + D->hdr_got, p, k);
			D->hdr_got += (uint32_t)k;
			if (D->hdr_got == H2_FRAME_HDR)
				frame_begin(c, d);
			break;
		case ST_PAYLOAD:
			k = payload(c, d, p, n);
			break;
		case ST_RESYNC:
		default:
			if (d == L7_DIR_TO_SERVER && D->rlen == 0 && !D->closed &&
			    memcmp(p, H2_PREFACE, n < H2_PREFACE_LEN ? n : H2_PREFACE_LEN) == 0 &&
			    n >= 4 && !c->any_request) {
				/* the client preface after all */
				unjoin_if_fresh(c);
				D->st = ST_PREFACE;
				D->hdr_got = 0;
				continue;
			}
			resync(c, d, p, n);
			return;
		}
		p += k;
		n -= k;
	}
}

/* ---------------------------------------------------------------------------
 * Parser interface */

static int h2_probe(const uint8_t *data, size_t len, enum l7_dir dir, const struct l7_conn_info *ci)
{
	(void)ci;
	if (dir == L7_DIR_TO_SERVER && len >= 4) {
		size_t k = len < H2_PREFACE_LEN ? len : H2_PREFACE_LEN;
		if (memcmp(data, H2_PREFACE, k) == 0)
			return k == H2_PREFACE_LEN ? 100 : 80;
	}
	int r = frame_chain(data, len, dir, H2_DEFAULT_MAX_FRAME);
	if (r > 0)
		return 70;
	if (r == 0 && len >= H2_FRAME_HDR)
		return 30;   /* one plausible frame header so far: needs a port hint */
	return 0;
}

static void *h2_create(const struct l7_conn_info *ci, const struct l7_config *cfg)
{
	struct h2_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cfg = cfg;
	c->ci = *ci;
	c->joined = ci->midstream;
	c->max_streams = cfg->max_pending > H2_MIN_STREAMS ? cfg->max_pending : H2_MIN_STREAMS;
	for (int d = 0; d < 2; d++) {
		struct h2_dir *D = &c->d[d];
		D->hp = h2_hpack_new(!c->joined);
		if (!D->hp) {
			h2_hpack_free(c->d[0].hp);
			free(c);
			return NULL;
		}
		D->max_frame = H2_DEFAULT_MAX_FRAME;
		if (c->joined)
			D->st = ST_RESYNC;
		else
			D->st = d == L7_DIR_TO_SERVER ? ST_PREFACE : ST_HEADER;
	}
	return c;
}

static void h2_destroy(void *state)
{
	struct h2_conn *c = state;
	if (!c)
		return;
	for (size_t i = 0; i < c->nstreams; i++) {
		msg_free(c, &c->streams[i]->req);
		msg_free(c, &c->streams[i]->resp);
		free(c->streams[i]);
	}
	free(c->streams);
	for (int d = 0; d < 2; d++) {
		h2_hpack_free(c->d[d].hp);
		free(c->d[d].rbuf);
	}
	free(c);
}

static void h2_data(void *state, struct l7_ctx *ctx, enum l7_dir dir, const uint8_t *p, size_t n,
                    uint64_t ts_ns)
{
	struct h2_conn *c = state;
	c->ctx = ctx;
	c->ts = ts_ns;
	parse(c, dir, p, n);
}

static void h2_gap(void *state, struct l7_ctx *ctx, enum l7_dir dir, uint64_t len, uint64_t ts_ns)
{
	struct h2_conn *c = state;
	struct h2_dir *D = &c->d[dir];
	c->ctx = ctx;
	c->ts = ts_ns;
	if (len == 0)
		return;
	if (D->st == ST_PAYLOAD && D->pos >= D->front && len <= D->len - D->pos) {
		/* The hole is inside the current frame: its end is still known. */
		struct h2_msg *m = frame_msg(c, dir);
		if (m) {
			m->gap_bytes += len;
			m->g_lost = true;
		}
		if (D->type == H2_HEADERS || D->type == H2_PUSH_PROMISE || D->type == H2_CONTINUATION)
			h2_hpack_lost(D->hp);   /* the block (and its insertions) is cut */
		D->pos += (uint32_t)len;
		if (D->pos == D->len)
			frame_end(c, dir);
		return;
	}
	if (D->st == ST_RESYNC) {
		if (D->rlen)
			l7_count(ctx, "http2.resync_skipped_bytes", D->rlen);
		D->rlen = D->rscan = 0;
		return;
	}
	if (D->st == ST_PREFACE) {
		/* we never see how this connection started */
		c->joined = true;
		h2_hpack_lost(c->d[0].hp);
		h2_hpack_lost(c->d[1].hp);
	}
	lose_framing(c, dir, len);
}

/* Streams in id order, for a deterministic flush. */
static struct h2_stream *lowest_stream(struct h2_conn *c, bool (*want)(const struct h2_stream *))
{
	struct h2_stream *best = NULL;
	for (size_t i = 0; i < c->nstreams; i++) {
		struct h2_stream *s = c->streams[i];
		if ((!want || want(s)) && (!best || s->id < best->id))
			best = s;
	}
	return best;
}

static bool request_pending(const struct h2_stream *s)
{
	return s->req_headers && !s->req_emitted;
}

static void h2_close(void *state, struct l7_ctx *ctx, enum l7_dir dir, uint64_t ts_ns)
{
	struct h2_conn *c = state;
	struct h2_dir *D = &c->d[dir];
	c->ctx = ctx;
	c->ts = ts_ns;
	D->closed = true;
	if (D->blk) {
		h2_hpack_lost(D->hp);
		block_finish(c, dir);
	}
	struct h2_stream *s;
	if (dir == L7_DIR_TO_CLIENT) {
		/* The server side is gone: every open stream ends here. A
		 * response that had begun is reported truncated; one that never
		 * began is not invented, only counted. */
		while ((s = lowest_stream(c, NULL))) {
			if (s->resp_headers) {
				abort_stream(c, s);
				continue;
			}
			if (request_pending(s))
				emit_request(c, s, !s->req_end);
			if (s->req_headers)
				count(c, "http2.unanswered");
			stream_remove(c, s);
		}
	} else {
		/* requests waiting for the client to finish its side */
		while ((s = lowest_stream(c, request_pending)))
			emit_request(c, s, !s->req_end);
	}
}

const struct l7_parser_ops l7_http2_ops = {
	.name = "http2",
	.proto = L7_PROTO_HTTP2,
	.probe = h2_probe,
	.create = h2_create,
	.destroy = h2_destroy,
	.data = h2_data,
	.gap = h2_gap,
	.close = h2_close,
};

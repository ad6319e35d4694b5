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
 *  - "Upgrade: h2c": the HTTP/1.1 request (reported by http1.c, handed over
 *    in ci->upgrade) is stream 1's; its answer is reported as an HTTP/2
 *    response with that request's method, URL and time. No HTTP/2 request
 *    event is made for it: it was not HTTP/2 on the wire.
 *
 * Joining mid-connection (capture or attach started late): frames are found
 * by a plausibility check of consecutive frame headers; header fields that
 * refer to HPACK table entries we never saw are left out and counted in
 * l7_info.unknown_headers, so :method or :path are omitted rather than
 * guessed (see http2_hpack.h). Responses whose request was never seen are
 * still reported (without method and URL). Bytes lost later (capture loss,
 * flowd's live budget): see "Losing and finding frame boundaries".
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
#define H2_Q_BYTES (64 * 1024)     /* received bytes held while finding a frame boundary */
#define H2_Q_SEGS 1024             /* ... in at most this many pieces (bytes or holes) */
#define H2_PROBATION 4             /* frames after a resync checked as the two judged were */
#define H2_OPAQUE 0xff             /* frame type: a frame whose header was cut by a gap */
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
	uint64_t gap_bytes;        /* DATA or header block bytes lost in frames we followed */
	uint64_t body_rx;          /* DATA bytes received (padding excluded) */
	/* Bytes of this direction were lost where frames could not be told
	 * apart while this message was open: some of its frames (its end,
	 * even) may be among them. lost_unattr: those bytes, an upper bound. */
	bool exposed;
	uint64_t lost_unattr;
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
	char *h1_url;              /* stream 1 after "Upgrade: h2c": the HTTP/1.1 request's URL */
};

enum blk_kind { BLK_DISCARD, BLK_REQ, BLK_REQ_TRAILERS, BLK_RESP, BLK_PUSH };

enum dir_state { ST_PREFACE, ST_HEADER, ST_PAYLOAD, ST_RESYNC };

/* A piece of the resync queue: received bytes, or a hole of known size. */
struct h2_qseg {
	uint64_t off;              /* position in this direction's byte stream */
	uint64_t len;
	uint32_t boff;             /* received bytes: where they are in qbuf */
	bool hole;
};

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
	bool cut;                  /* a gap took part of this frame's payload */
	struct h2_stream *fs;      /* stream of the current DATA frame */
	/* header block in progress */
	bool blk;
	uint32_t blk_sid;
	enum blk_kind blk_kind;
	bool blk_end_stream;
	struct h2_stream *blk_st;
	struct h2_hpack *hp;
	uint32_t max_frame;        /* what the peer allows this direction to send */
	/* Resync queue: what arrived since framing was lost and not yet
	 * parsed, holes included; its front is the next candidate boundary
	 * (ST_RESYNC), or the next bytes to parse once one was accepted. */
	uint8_t *qbuf;
	uint32_t qhead, qtail;     /* received bytes in qbuf[qhead, qtail) */
	struct h2_qseg *qseg;
	uint32_t qn;
	uint64_t qend;             /* stream position just past the queue */
	uint64_t lost_pending;     /* unattributed bytes of this resync, not yet charged */
	uint8_t probation;         /* frames still checked after a resync */
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
	bool lost[2];              /* framing was lost in this direction at least once */
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
	if (c->ctx)   /* none during create() */
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
	free(s->h1_url);
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
	if (s->h1_url) {
		/* the HTTP/1.1 request of an h2c upgrade: its URL as reported */
		ev->l7.http.method = method ? fe_strdup(ev, method) : NULL;
		ev->l7.http.url = fe_strdup(ev, s->h1_url);
		return;
	}
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

static bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* Bytes lost inside message m. A message exposed to an unattributed loss
 * is judged by its content-length when it has one (exact: the body bytes
 * that did not arrive); without, every such loss counts in full (an upper
 * bound). *size_known: whether the body's size is known (content-length,
 * or a response that has no body). */
static uint64_t msg_gap(const struct h2_stream *s, const struct h2_msg *m, bool *size_known)
{
	*size_known = false;
	if (!m->exposed)
		return m->gap_bytes;
	if (m == &s->resp) {
		const char *method = msg_get(&s->req, ":method");
		const uint32_t st = s->status;
		if ((method && strcmp(method, "HEAD") == 0) || st == 204 || st == 304) {
			*size_known = true;   /* no body */
			return m->gap_bytes;
		}
	}
	uint64_t cl;
	if (parse_u64(msg_get(m, "content-length"), &cl)) {
		*size_known = true;
		const uint64_t missing = cl > m->body_rx ? cl - m->body_rx : 0;
		return missing > m->gap_bytes ? missing : m->gap_bytes;
	}
	return m->gap_bytes + m->lost_unattr;
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
	bool known;
	ev->l7_info.unknown_headers = s->req.unknown;
	ev->l7_info.gap_bytes = msg_gap(s, &s->req, &known);
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
	/* Its response headers may have been in bytes we lost: no response
	 * is invented. */
	if (!s->resp_headers && s->resp.exposed) {
		count(c, "http2.response_headers_lost");
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
		bool known;
		ev->l7_info.unknown_headers = s->resp.unknown;
		ev->l7_info.gap_bytes = msg_gap(s, &s->resp, &known);
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

/* Does frame header h fit the streams we know? Frames on a stream that is
 * closed for that direction do not (RST_STREAM, WINDOW_UPDATE and PRIORITY
 * may follow a stream's end); a stream we do not know may have been opened
 * in bytes we lost. Joined mid-connection, streams opened before are
 * unknown: everything fits. */
static bool frame_fits_streams(struct h2_conn *c, int d, const uint8_t *h)
{
	const uint8_t type = h[3];
	const uint32_t sid = be32(h + 5) & 0x7fffffffu;
	if (c->joined || sid == 0 || type == H2_PRIORITY || type == H2_RST_STREAM ||
	    type == H2_WINDOW_UPDATE)
		return true;
	const struct h2_stream *s = stream_find(c, sid);
	if (d == L7_DIR_TO_SERVER)
		return s ? !s->req_end : (sid & 1) && sid > c->max_client_sid;
	if (type == H2_PUSH_PROMISE)
		return s != NULL;
	/* a pushed stream (even) whose PUSH_PROMISE we lost, or a request we lost */
	return s || !(sid & 1) || sid > c->max_client_sid;
}

/* A frame that carries a stream we know to be open in direction d: after a
 * resync it is accepted even when the frame after it fell into a hole. */
static bool frame_anchored(struct h2_conn *c, int d, const uint8_t *h)
{
	const uint8_t type = h[3];
	const uint32_t sid = be32(h + 5) & 0x7fffffffu;
	if ((type != H2_DATA && type != H2_HEADERS) || sid == 0)
		return false;
	const struct h2_stream *s = stream_find(c, sid);
	return s && (d == L7_DIR_TO_CLIENT || !s->req_end);
}

static void lose_framing(struct h2_conn *c, int d, uint64_t unattributed);

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
		} else if (sid && (c->joined || (sid == 1 && !c->any_request) ||
		                   (c->lost[L7_DIR_TO_SERVER] && (sid & 1) && sid > c->max_client_sid))) {
			/* Joined late, a request lost in a gap, or the answer to an
			 * HTTP/1.1 Upgrade request we did not get (stream 1): report
			 * what we see. */
			if (!c->joined && !(sid == 1 && !c->any_request))
				count(c, "http2.request_headers_lost");
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
		if (D->len >= 8 && !D->cut)   /* last-stream-id lost in a gap: ignored */
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
	if (D->probation) {
		/* just after a resync: a frame that makes no sense means the
		 * boundary found was not one */
		D->probation--;
		if (!frame_plausible(h, d, D->max_frame) || !frame_fits_streams(c, d, h)) {
			count(c, "http2.resync_false");
			lose_framing(c, d, 0);
			return;
		}
	}
	D->pos = 0;
	D->small_got = 0;
	D->front = 0;
	D->content_end = D->len;
	D->cut = false;
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
		if (D->fs) {
			struct h2_msg *m = d == L7_DIR_TO_SERVER ? &D->fs->req : &D->fs->resp;
			m->body_rx += n;
			grpc_count(m, p, n);
		}
		break;
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
	case H2_CONTINUATION:
		if (D->blk)
			block_feed(c, d, p, n);
		break;
	case H2_SETTINGS:
		if ((D->flags & F_ACK) || D->cut)   /* after a gap: pairs misaligned */
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
 * Losing and finding frame boundaries
 *
 * A gap (capture loss, or the live per-flow budget cutting payload) inside
 * a frame whose length is known costs that frame only: its lost bytes are
 * counted against its message (l7_info.gap_bytes) and parsing goes on at
 * its end. Bytes lost beyond it belong to frames we cannot see
 * ("unattributed"): header blocks among them may have changed the HPACK
 * table (it restarts not knowing its older entries, http2_hpack.h), and
 * any stream open in that direction may have lost data or its end there
 * (its message is "exposed", see msg_gap()).
 *
 * The next frame boundary is then searched in what follows, holes
 * included: the resync queue keeps received bytes and holes with their
 * stream positions. A plausible frame header is accepted when the frame
 * after it is plausible too (also across holes), or, when that one falls
 * into a hole, when it carries a stream known to be open in this direction
 * (a DATA frame of the download the budget is cutting). Stream ids must fit
 * the streams we know. The first frames after are checked the same way
 * (probation). */

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
	D->hdr_got = 0;
	D->fs = NULL;
	D->probation = 0;
}

/* bytes of direction d were lost where we cannot tell whose they were:
 * every message still open in that direction may have lost them. */
static void charge_lost(struct h2_conn *c, int d, uint64_t bytes)
{
	for (size_t i = 0; i < c->nstreams; i++) {
		struct h2_stream *s = c->streams[i];
		if (d == L7_DIR_TO_SERVER && s->req_end)
			continue;
		struct h2_msg *m = d == L7_DIR_TO_SERVER ? &s->req : &s->resp;
		m->exposed = true;
		m->g_lost = true;
		m->lost_unattr += bytes;
	}
}

/* Framing is lost in direction d: unattributed bytes (at least) went by
 * in frames we did not see. */
static void lose_framing(struct h2_conn *c, int d, uint64_t unattributed)
{
	struct h2_dir *D = &c->d[d];
	count(c, "http2.desync");
	h2_hpack_lost(D->hp);
	if (D->blk)
		block_finish(c, d);
	charge_lost(c, d, unattributed);
	c->lost[d] = true;
	enter_resync(c, d);
}

static bool is_block_type(uint8_t type)
{
	return type == H2_HEADERS || type == H2_PUSH_PROMISE || type == H2_CONTINUATION;
}

/* k bytes of the current frame's payload, from D->pos on, were lost. */
static void lost_in_frame(struct h2_conn *c, int d, uint32_t k)
{
	struct h2_dir *D = &c->d[d];
	if (k == 0)
		return;
	D->cut = true;
	if (D->pos < D->front) {
		/* Pad length, priority or promised stream id lost: the content
		 * cannot be delimited (header blocks), or padding is taken for
		 * content (DATA); a pushed stream's id is unknown. */
		if (is_block_type(D->type))
			h2_hpack_lost(D->hp);
		D->front = D->pos;
		D->content_end = D->len;
	}
	const uint32_t from = D->pos, to = D->pos + k;
	const uint32_t lo = from > D->front ? from : D->front;
	const uint32_t hi = to < D->content_end ? to : D->content_end;
	if (hi <= lo)
		return;   /* padding only */
	struct h2_msg *m = NULL;
	if (D->type == H2_DATA) {
		m = frame_msg(c, d);
	} else if (is_block_type(D->type) && D->blk) {
		h2_hpack_lost(D->hp);   /* the block (and its insertions) is cut */
		m = frame_msg(c, d);
	}
	if (m) {
		m->gap_bytes += hi - lo;
		m->g_lost = true;
	}
}

/* A gap of len bytes in direction d, outside resync. */
static void dir_gap(struct h2_conn *c, int d, uint64_t len)
{
	struct h2_dir *D = &c->d[d];
	if (D->st == ST_PREFACE) {
		/* we never see how this connection started */
		c->joined = true;
		h2_hpack_lost(c->d[0].hp);
		h2_hpack_lost(c->d[1].hp);
		lose_framing(c, d, len);
		return;
	}
	if (D->st == ST_HEADER && D->hdr_got >= 3) {
		/* A frame header cut by the gap, but its length arrived: the
		 * frame's end is known. Whatever it was (a header block, a
		 * stream's DATA or end), it is lost, but not the framing. */
		const uint8_t type = D->hdr_got >= 4 ? D->hdr[3] : H2_OPAQUE;
		const uint32_t total = H2_FRAME_HDR - D->hdr_got + be24(D->hdr);
		count(c, "http2.frame_header_cut");
		if (type == H2_OPAQUE || is_block_type(type))
			h2_hpack_lost(D->hp);
		if (D->blk)
			block_finish(c, d);   /* fails: its CONTINUATION is gone */
		if (type == H2_OPAQUE || type == H2_DATA || is_block_type(type))
			charge_lost(c, d, len < total ? len : total);
		D->type = H2_OPAQUE;
		D->flags = 0;
		D->sid = 0;
		D->len = total;
		D->pos = D->front = D->small_got = 0;
		D->content_end = total;
		D->cut = true;
		D->fs = NULL;
		D->st = ST_PAYLOAD;
		D->probation = 0;
	}
	if (D->st == ST_PAYLOAD) {
		const uint32_t rem = D->len - D->pos;
		const uint32_t k = len < rem ? (uint32_t)len : rem;
		lost_in_frame(c, d, k);
		D->pos += k;
		len -= k;
		if (D->pos == D->len)
			frame_end(c, d);   /* its END_STREAM / END_HEADERS still count */
		if (len == 0)
			return;
	}
	lose_framing(c, d, len);
}

/* --- the resync queue --- */

static bool q_alloc(struct h2_conn *c, struct h2_dir *D)
{
	if (D->qbuf)
		return true;
	D->qbuf = malloc(H2_Q_BYTES);
	D->qseg = malloc(H2_Q_SEGS * sizeof(*D->qseg));
	if (!D->qbuf || !D->qseg) {
		free(D->qbuf);
		free(D->qseg);
		D->qbuf = NULL;
		D->qseg = NULL;
		count(c, "http2.oom");
		return false;
	}
	D->qhead = D->qtail = D->qn = 0;
	return true;
}

static void q_release(struct h2_dir *D)
{
	free(D->qbuf);
	free(D->qseg);
	D->qbuf = NULL;
	D->qseg = NULL;
	D->qhead = D->qtail = D->qn = 0;
}

/* Remove k bytes (received or hole) from the front. */
static void q_pop(struct h2_dir *D, uint64_t k)
{
	while (k > 0 && D->qn > 0) {
		struct h2_qseg *s = &D->qseg[0];
		const uint64_t t = k < s->len ? k : s->len;
		s->off += t;
		s->len -= t;
		if (!s->hole) {
			s->boff += (uint32_t)t;
			D->qhead += (uint32_t)t;
		}
		k -= t;
		if (s->len == 0)
			memmove(D->qseg, D->qseg + 1, --D->qn * sizeof(*D->qseg));
	}
	if (D->qhead == D->qtail)
		D->qhead = D->qtail = 0;
}

/* Room for bytes more received bytes and one more piece: compact, and drop
 * from the front (unattributed, counted) when still full. */
static void q_room(struct h2_conn *c, struct h2_dir *D, uint32_t bytes)
{
	if (D->qtail + bytes > H2_Q_BYTES && D->qhead > 0) {
		memmove(D->qbuf, D->qbuf + D->qhead, D->qtail - D->qhead);
		for (uint32_t i = 0; i < D->qn; i++)
			if (!D->qseg[i].hole)
				D->qseg[i].boff -= D->qhead;
		D->qtail -= D->qhead;
		D->qhead = 0;
	}
	while (D->qn > 0 && (D->qtail + bytes > H2_Q_BYTES || D->qn + 1 > H2_Q_SEGS)) {
		struct h2_qseg *s = &D->qseg[0];
		uint64_t k = s->len;
		if (!s->hole && D->qtail + bytes > H2_Q_BYTES && D->qn + 1 <= H2_Q_SEGS) {
			const uint32_t need = D->qtail + bytes - H2_Q_BYTES;
			k = need < k ? need : k;
		}
		if (!s->hole)
			l7_count(c->ctx, "http2.resync_skipped_bytes", k);
		D->lost_pending += k;
		q_pop(D, k);
		if (D->qhead > 0) {
			memmove(D->qbuf, D->qbuf + D->qhead, D->qtail - D->qhead);
			for (uint32_t i = 0; i < D->qn; i++)
				if (!D->qseg[i].hole)
					D->qseg[i].boff -= D->qhead;
			D->qtail -= D->qhead;
			D->qhead = 0;
		}
	}
}

/* n <= H2_Q_BYTES / 2 received bytes at the back. */
static bool q_push_bytes(struct h2_conn *c, struct h2_dir *D, const uint8_t *p, uint32_t n)
{
	if (!q_alloc(c, D))
		return false;
	q_room(c, D, n);
	if (D->qn == 0 && D->qhead == D->qtail)
		D->qhead = D->qtail = 0;
	struct h2_qseg *last = D->qn ? &D->qseg[D->qn - 1] : NULL;
	if (last && !last->hole) {
		last->len += n;   /* received bytes are kept in order: it ends at qtail */
	} else {
		D->qseg[D->qn++] = (struct h2_qseg){ .off = D->qend, .len = n, .boff = D->qtail };
	}
	memcpy(D->qbuf + D->qtail, p, n);
	D->qtail += n;
	D->qend += n;
	return true;
}

static void q_push_hole(struct h2_conn *c, struct h2_dir *D, uint64_t len)
{
	if (!q_alloc(c, D))
		return;
	q_room(c, D, 0);
	struct h2_qseg *last = D->qn ? &D->qseg[D->qn - 1] : NULL;
	if (last && last->hole)
		last->len += len;
	else
		D->qseg[D->qn++] = (struct h2_qseg){ .off = D->qend, .len = len, .hole = true };
	D->qend += len;
}

/* The 9 bytes at stream position off: 1 and *h when all received, 0 when
 * not all there yet, -1 when part of them is in a hole. */
static int q_header_at(const struct h2_dir *D, uint64_t off, const uint8_t **h)
{
	for (uint32_t i = 0; i < D->qn; i++) {
		const struct h2_qseg *s = &D->qseg[i];
		if (off >= s->off + s->len)
			continue;
		if (off < s->off)
			return -1;   /* not reachable: pieces are contiguous */
		if (s->hole)
			return -1;
		if (s->off + s->len - off >= H2_FRAME_HDR) {
			*h = D->qbuf + s->boff + (off - s->off);
			return 1;
		}
		/* received pieces are merged: what follows is a hole or nothing yet */
		return i + 1 == D->qn ? 0 : -1;
	}
	return 0;
}

/* Is there a frame boundary at position x, whose header is h? 1 yes, 0 not
 * known yet, -1 no. */
static int judge(struct h2_conn *c, int d, uint64_t x, const uint8_t *h)
{
	const struct h2_dir *D = &c->d[d];
	const uint32_t max_frame = D->max_frame < H2_Q_BYTES / 2 ? D->max_frame : H2_Q_BYTES / 2;
	if (!frame_plausible(h, d, max_frame) || !frame_fits_streams(c, d, h))
		return -1;
	const uint64_t next = x + H2_FRAME_HDR + be24(h);
	const uint8_t *h2 = NULL;
	switch (q_header_at(D, next, &h2)) {
	case 0:
		/* a frame ending exactly where the received bytes end */
		if (next == D->qend && D->qn && !D->qseg[D->qn - 1].hole)
			return 1;
		return 0;
	case -1:
		/* the next header fell into a hole: trust a frame of an open stream */
		return frame_anchored(c, d, h) ? 1 : -1;
	default:
		break;
	}
	if (!frame_plausible(h2, d, max_frame) || !frame_fits_streams(c, d, h2))
		return -1;
	const bool want_cont = is_block_type(h[3]) && !(h[4] & F_END_HEADERS);
	const bool is_cont = h2[3] == H2_CONTINUATION;
	if (want_cont != is_cont || (is_cont && (be32(h2 + 5) & 0x7fffffffu) != (be32(h + 5) & 0x7fffffffu)))
		return -1;
	return 1;
}

/* Search the queue for a frame boundary, earliest first; what cannot start
 * one is dropped. True when one was found: it is now the queue's front. */
static bool resync_search(struct h2_conn *c, int d)
{
	struct h2_dir *D = &c->d[d];
	uint64_t skipped = 0;
	bool found = false;
	for (;;) {
		while (D->qn && D->qseg[0].hole) {
			D->lost_pending += D->qseg[0].len;
			q_pop(D, D->qseg[0].len);
		}
		if (D->qn == 0)
			break;
		const struct h2_qseg *s = &D->qseg[0];
		if (s->len < H2_FRAME_HDR) {
			if (D->qn == 1)
				break;   /* more bytes may come */
			skipped += s->len;   /* a hole follows: no header starts here */
			q_pop(D, s->len);
			continue;
		}
		const int r = judge(c, d, s->off, D->qbuf + s->boff);
		if (r > 0)
			found = true;
		if (r >= 0)
			break;
		skipped++;
		q_pop(D, 1);
	}
	if (skipped) {
		l7_count(c->ctx, "http2.resync_skipped_bytes", skipped);
		D->lost_pending += skipped;
	}
	if (found) {
		count(c, "http2.resync");
		charge_lost(c, d, D->lost_pending);
		D->lost_pending = 0;
		D->st = ST_HEADER;
		D->hdr_got = 0;
		D->probation = H2_PROBATION;
	}
	return found;
}

static size_t parse_some(struct h2_conn *c, int d, const uint8_t *p, size_t n);

/* Work through the queue: search while resyncing, parse once a boundary
 * was found (parsing may lose framing again: back to searching). */
static void drain(struct h2_conn *c, int d)
{
	struct h2_dir *D = &c->d[d];
	while (D->qn > 0) {
		if (D->st == ST_RESYNC) {
			if (!resync_search(c, d))
				break;
			continue;
		}
		const struct h2_qseg *s = &D->qseg[0];
		if (s->hole) {
			const uint64_t len = s->len;
			q_pop(D, len);
			dir_gap(c, d, len);
			continue;
		}
		q_pop(D, parse_some(c, d, D->qbuf + s->boff, (size_t)s->len));
	}
	if (D->qn == 0 && D->st != ST_RESYNC)
		q_release(D);
}

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

static void no_preface(struct h2_conn *c, int d)
{
	struct h2_dir *D = &c->d[d];
	/* Frames without the client preface: the connection started before we
	 * saw it, and so did both HPACK tables. */
	count(c, "http2.no_preface");
	c->joined = true;
	h2_hpack_lost(c->d[0].hp);
	h2_hpack_lost(c->d[1].hp);
	const uint32_t matched = D->hdr_got;
	enter_resync(c, d);
	if (matched)   /* the bytes that looked like the preface are searched too */
		q_push_bytes(c, D, (const uint8_t *)H2_PREFACE, matched);
}

/* Parse in-order bytes until they are used up or framing is lost; returns
 * how many were used. */
static size_t parse_some(struct h2_conn *c, int d, const uint8_t *p, size_t n)
{
	struct h2_dir *D = &c->d[d];
	size_t used = 0;
	while (used < n) {
		const uint8_t *q = p + used;
		const size_t avail = n - used;
		size_t k;
		switch (D->st) {
		case ST_PREFACE:
			k = H2_PREFACE_LEN - D->hdr_got < avail ? H2_PREFACE_LEN - D->hdr_got : avail;
			if (memcmp(q, &H2_PREFACE[D->hdr_got], k) != 0) {
				no_preface(c, d);
				return used;
			}
			D->hdr_got += (uint32_t)k;
			if (D->hdr_got == H2_PREFACE_LEN) {
				D->st = ST_HEADER;
				D->hdr_got = 0;
			}
			break;
		case ST_HEADER:
			k = H2_FRAME_HDR - D->hdr_got < avail ? H2_FRAME_HDR - D->hdr_got : avail;
			memcpy(D->hdr + D->hdr_got, q, k);
			D->hdr_got += (uint32_t)k;
			if (D->hdr_got == H2_FRAME_HDR)
				frame_begin(c, d);
			break;
		case ST_PAYLOAD:
			k = payload(c, d, q, avail);
			break;
		case ST_RESYNC:
		default:
			if (d == L7_DIR_TO_SERVER && D->qn == 0 && !D->closed && avail >= 4 &&
			    memcmp(q, H2_PREFACE, avail < H2_PREFACE_LEN ? avail : H2_PREFACE_LEN) == 0 &&
			    !c->any_request) {
				/* the client preface after all */
				unjoin_if_fresh(c);
				D->st = ST_PREFACE;
				D->hdr_got = 0;
				continue;
			}
			return used;
		}
		used += k;
	}
	return used;
}

/* In-order bytes of direction d. */
static void input(struct h2_conn *c, int d, const uint8_t *p, size_t n)
{
	struct h2_dir *D = &c->d[d];
	while (n > 0) {
		if (D->qn == 0) {
			const size_t k = parse_some(c, d, p, n);
			p += k;
			n -= k;
			if (n == 0)
				break;
		}
		/* resyncing: queue them (in pieces the queue can hold) */
		const uint32_t k = n < H2_Q_BYTES / 2 ? (uint32_t)n : H2_Q_BYTES / 2;
		if (!q_push_bytes(c, D, p, k))
			return;
		p += k;
		n -= k;
		drain(c, d);
	}
}

/* len bytes of direction d lost. */
static void input_gap(struct h2_conn *c, int d, uint64_t len)
{
	struct h2_dir *D = &c->d[d];
	if (D->qn == 0) {
		if (D->st == ST_RESYNC)
			D->lost_pending += len;   /* nothing queued that it could help judge */
		else
			dir_gap(c, d, len);
		return;
	}
	q_push_hole(c, D, len);
	drain(c, d);
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

/* RFC 7540 §3.2.1: the client's SETTINGS payload, base64url without
 * padding, in its Upgrade request. */
static void upgrade_settings(struct h2_conn *c, const char *v)
{
	uint8_t pair[6];
	size_t got = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (; *v && *v != '='; v++) {
		int x;
		if (*v >= 'A' && *v <= 'Z')
			x = *v - 'A';
		else if (*v >= 'a' && *v <= 'z')
			x = *v - 'a' + 26;
		else if (*v >= '0' && *v <= '9')
			x = *v - '0' + 52;
		else if (*v == '-')
			x = 62;
		else if (*v == '_')
			x = 63;
		else
			return;   /* not base64url: ignored */
		acc = (acc << 6 | (uint32_t)x) & 0xffffff;
		bits += 6;
		if (bits < 8)
			continue;
		bits -= 8;
		pair[got++] = (uint8_t)(acc >> bits);
		if (got == 6) {
			setting(c, L7_DIR_TO_SERVER, (uint16_t)(pair[0] << 8 | pair[1]), be32(pair + 2));
			got = 0;
		}
	}
}

/* "Upgrade: h2c" (RFC 7540 §3.2): the HTTP/1.1 request is stream 1, sent
 * and half-closed by the client. Its answer comes as an HTTP/2 response on
 * that stream; no HTTP/2 request event is made for it (it was HTTP/1.1 on
 * the wire, and reported so by the HTTP/1.x parser). */
static void upgrade_stream(struct h2_conn *c, const struct l7_upgrade *up)
{
	struct h2_stream *s = stream_new(c, 1);
	if (!s)
		return;
	s->req_ts = up->ts_ns;
	if (up->method && *up->method)
		msg_add(c, &s->req, (const uint8_t *)":method", 7, (const uint8_t *)up->method,
		        strlen(up->method));
	for (size_t i = 0; i < up->n_headers; i++) {
		const char *name = up->headers[2 * i], *value = up->headers[2 * i + 1];
		char *lower = strdup(name);
		if (!lower)
			continue;
		for (char *q = lower; *q; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q - 'A' + 'a');
		if (strcmp(lower, "http2-settings") == 0)
			upgrade_settings(c, value);
		msg_add(c, &s->req, (const uint8_t *)lower, strlen(lower), (const uint8_t *)value,
		        strlen(value));
		free(lower);
	}
	s->h1_url = up->url ? strdup(up->url) : NULL;
	s->req_headers = s->req_emitted = s->req_end = true;
	s->grpc = is_grpc_type(msg_get(&s->req, "content-type"));
	c->max_client_sid = 1;
	c->any_request = true;
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

static void h2_upgraded(void *state, const struct l7_upgrade *up)
{
	struct h2_conn *c = state;
	/* HTTP/2 starts here, even on a connection we joined late: tables
	 * empty, the client preface to come */
	if (c->joined) {
		for (int d = 0; d < 2; d++) {
			struct h2_hpack *hp = h2_hpack_new(true);
			if (!hp)
				return;
			h2_hpack_free(c->d[d].hp);
			c->d[d].hp = hp;
			c->d[d].st = d == L7_DIR_TO_SERVER ? ST_PREFACE : ST_HEADER;
		}
		c->joined = false;
	}
	upgrade_stream(c, up);
}

static void h2_destroy(void *state)
{
	struct h2_conn *c = state;
	if (!c)
		return;
	for (size_t i = 0; i < c->nstreams; i++) {
		msg_free(c, &c->streams[i]->req);
		msg_free(c, &c->streams[i]->resp);
		free(c->streams[i]->h1_url);
		free(c->streams[i]);
	}
	free(c->streams);
	for (int d = 0; d < 2; d++) {
		h2_hpack_free(c->d[d].hp);
		q_release(&c->d[d]);
	}
	free(c);
}

static void h2_data(void *state, struct l7_ctx *ctx, enum l7_dir dir, const uint8_t *p, size_t n,
                    uint64_t ts_ns)
{
	struct h2_conn *c = state;
	c->ctx = ctx;
	c->ts = ts_ns;
	input(c, dir, p, n);
}

static void h2_gap(void *state, struct l7_ctx *ctx, enum l7_dir dir, uint64_t len, uint64_t ts_ns)
{
	struct h2_conn *c = state;
	c->ctx = ctx;
	c->ts = ts_ns;
	if (len)
		input_gap(c, dir, len);
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
	if (D->qn || D->lost_pending) {
		/* still looking for a frame boundary: what is queued is lost */
		uint64_t bytes = 0;
		for (uint32_t i = 0; i < D->qn; i++) {
			D->lost_pending += D->qseg[i].len;
			bytes += D->qseg[i].hole ? 0 : D->qseg[i].len;
		}
		if (bytes)
			l7_count(ctx, "http2.resync_skipped_bytes", bytes);
		charge_lost(c, dir, D->lost_pending);
		D->lost_pending = 0;
		q_release(D);
	}
	struct h2_stream *s;
	if (dir == L7_DIR_TO_CLIENT) {
		/* The server side is gone: every open stream ends here. A
		 * response that had begun is reported truncated, unless bytes were
		 * lost while it was open and its size says they explain what is
		 * missing (its end may have been among them): then it completes
		 * with gap_bytes. One that never began is not invented, only
		 * counted. */
		while ((s = lowest_stream(c, NULL))) {
			if (s->resp_headers) {
				bool known = false;
				if (s->resp.exposed)
					msg_gap(s, &s->resp, &known);
				finish_stream(c, s, !known);
				continue;
			}
			if (request_pending(s))
				emit_request(c, s, !s->req_end);
			if (s->req_headers)
				count(c, s->resp.exposed ? "http2.response_lost" : "http2.unanswered");
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
	.upgraded = h2_upgraded,
};

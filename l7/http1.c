/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HTTP/1.x on one TCP connection, parsed with llhttp (one parser per
 * direction), reported the way Hubble reports Envoy's access log:
 *
 *   - A request event is emitted when its headers are complete, stamped with
 *     the time its first byte was seen (Envoy's stream start time).
 *   - A response is paired with the oldest unanswered request (HTTP/1.1
 *     pipelining answers in order) when its headers are complete; that is
 *     its time, and latency_ns = response headers complete - request first
 *     byte, as Hubble computes from Envoy's two log records. The event is
 *     held until the response body ends (bodies are counted, never
 *     buffered) so that it can say whether bytes were lost inside it
 *     (l7_info.gap_bytes) or it was cut short (l7_info.truncated); a
 *     response that never ends is flushed by close().
 *   - protocol: "HTTP/1.1"; HTTP/1.0 prints as "HTTP/1", Cilium's name for
 *     it (pkg/envoy GetProtocol); anything else as "HTTP/<major>.<minor>".
 *   - url: http_event_url() (Host header, else the server address); the Host
 *     header itself is not listed (Envoy turns it into :authority, which
 *     Cilium's log leaves out), and a response repeats the request's
 *     X-Request-Id like Cilium's Envoy filter does.
 *
 * 1xx interim responses are skipped (101 is final: it is reported, then
 * the connection goes to the HTTP/2 parser for "Upgrade: h2c", with the
 * upgrade request, whose answer comes on HTTP/2 stream 1; or parsing stops
 * for other protocols and CONNECT tunnels). After a parse error or a
 * gap in a header section the direction resynchronises at the next line
 * that starts a request (method + space) or a status line.
 */
#include "http_common.h"
#include "l7.h"

#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum h1_mode {
	M_PARSE,          /* llhttp has the stream */
	M_RESYNC,         /* scanning for the start of a message */
	M_WAIT_UPGRADE,   /* request asked to switch protocols: wait for the answer */
	M_STOPPED,        /* not HTTP/1 any more (tunnel, websocket, ...) */
};

enum h1_phase { PH_IDLE, PH_HEADERS, PH_BODY };

struct h1_hdr {
	size_t name_off, name_len, val_off, val_len;
};

struct h1_dir {
	llhttp_t p;
	enum h1_mode mode;
	enum h1_phase phase;
	bool closed;
	/* the message being parsed: URL then header bytes, bounded */
	char *buf;
	size_t len, cap;
	size_t url_len;
	struct h1_hdr *hdrs;
	size_t n_hdrs, cap_hdrs;
	bool field_open;      /* the last callback was a header name */
	bool truncated;       /* max_header_bytes reached */
	bool interim;         /* response: 1xx other than 101 */
	char ext_method[24];  /* request: extension method llhttp was shown as GET */
	uint64_t msg_ts;
	uint64_t body_bytes, gap_bytes;
	/* llhttp is inside a Content-Length body that goes on past the last
	 * bytes it was given (its on_body span reached their end): the next
	 * segments that end before the body does are only counted (feed) */
	bool mid_body;
	const char *body_end;      /* end of the last on_body span */
	struct flow_event *held;   /* response waiting for its body to end */
	/* resynchronisation: a line start that may begin a message */
	bool line_start;
	char carry[16];
	size_t carry_len;
	uint64_t lost_between;     /* hole bytes since the last message (responses) */
	/* request bytes that arrived while waiting for an upgrade's answer */
	char *ubuf;
	size_t ulen;
};

struct h1_req {
	bool known;            /* false: a request we lost (gap, parse error) */
	char method[24];       /* as sent (extension methods too) */
	bool head, connect, upgrade, h2c, expect_continue;
	const char *protocol;
	char *url, *xrid;
	uint64_t ts;
	uint32_t dropped_before;   /* requests dropped (queue full) just before this one */
	/* "Upgrade: h2c": the header fields, "name\0value\0" pairs, for the
	 * HTTP/2 parser (this request is its stream 1) */
	char *fields;
	size_t n_fields;
};

struct h1_state {
	struct h1_dir d[2];
	struct h1_req *q;          /* ring of unanswered requests, grown on demand */
	size_t q_head, q_len, q_cap;
	size_t q_max;              /* bound: cfg->max_pending */
	uint32_t dropped_tail;     /* dropped after the last queued request */
	struct h1_req cur;         /* the request the current response answers */
	const struct l7_config *cfg;
	size_t max_header_bytes;
	char server_ip[64];
	uint16_t server_port;
	struct l7_conn_info ci;    /* server side only, for URLs */
	/* the call in progress */
	struct l7_ctx *ctx;
	uint64_t ts;
	bool switched;             /* handed to another parser: touch nothing */
	bool tunnel;               /* CONNECT answered 2xx */
	bool resume_req;           /* the upgrade was declined */
	bool expect_skip;          /* final answer before a 100-continue body */
	uint32_t resp_lost;        /* responses lost in holes, not yet settled */
};

/* The shortest message a hole can have swallowed ("GET / HTTP/1.1" or a
 * status line, and an empty header section). */
#define H1_MIN_MESSAGE 17

static const char *const h1_methods[] = {
	"DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS", "TRACE", "COPY", "LOCK",
	"MKCOL", "MOVE", "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "BIND", "REBIND", "UNBIND",
	"ACL", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE",
	"UNSUBSCRIBE", "PATCH", "PURGE", "MKCALENDAR", "LINK", "UNLINK", "SOURCE",
};

static const char *error_counter(llhttp_errno_t e)
{
	switch (e) {
#define XX(num, name, str) case HPE_##name: return "http.error." #name;
	HTTP_ERRNO_MAP(XX)
#undef XX
	default: return "http.error.UNKNOWN";
	}
}

static const char *protocol_name(llhttp_t *p)
{
	if (p->http_major == 1 && p->http_minor == 1)
		return "HTTP/1.1";
	if (p->http_major == 1 && p->http_minor == 0)
		return "HTTP/1";
	if (p->http_major == 0 && p->http_minor == 9)
		return "HTTP/0.9";
	if (p->http_major == 2 && p->http_minor == 0)
		return "HTTP/2.0";
	return "HTTP/?";
}

/* --- request queue ------------------------------------------------------------ */

static void req_free(struct h1_req *r)
{
	free(r->url);
	free(r->xrid);
	free(r->fields);
	memset(r, 0, sizeof(*r));
}

/* Room for one more request: most connections never have more than one
 * or two unanswered, so the ring starts small. */
static bool queue_grow(struct h1_state *st)
{
	if (st->q_cap >= st->q_max)
		return false;
	size_t cap = st->q_cap ? st->q_cap * 2 : 4;
	if (cap > st->q_max)
		cap = st->q_max;
	struct h1_req *q = malloc(cap * sizeof(*q));
	if (!q)
		return false;
	for (size_t i = 0; i < st->q_len; i++)
		q[i] = st->q[(st->q_head + i) % st->q_cap];
	free(st->q);
	st->q = q;
	st->q_cap = cap;
	st->q_head = 0;
	return true;
}

static void queue_push(struct h1_state *st, struct h1_req *r)
{
	if (st->q_len == st->q_cap && !queue_grow(st)) {
		l7_count(st->ctx, st->q_cap < st->q_max ? "http.oom" : "http.pending_overflow", 1);
		st->dropped_tail++;
		req_free(r);
		return;
	}
	r->dropped_before = st->dropped_tail;
	st->dropped_tail = 0;
	st->q[(st->q_head + st->q_len++) % st->q_cap] = *r;
	memset(r, 0, sizeof(*r));
}

/* The request a final response answers, into st->cur (known=false if none). */
static void queue_pop(struct h1_state *st)
{
	req_free(&st->cur);
	if (st->q_len > 0) {
		struct h1_req *h = &st->q[st->q_head];
		if (h->dropped_before > 0) {
			h->dropped_before--;
		} else {
			st->cur = *h;
			memset(h, 0, sizeof(*h));
			st->q_head = (st->q_head + 1) % st->q_cap;
			st->q_len--;
		}
	} else if (st->dropped_tail > 0) {
		st->dropped_tail--;
	}
	if (!st->cur.known)
		l7_count(st->ctx, "http.response_unmatched", 1);
}

/* A request we know happened but could not read: its response must not be
 * paired with the next one. */
static void queue_placeholder(struct h1_state *st)
{
	struct h1_req r = { 0 };
	queue_push(st, &r);
}

/* --- message buffer -------------------------------------------------------------- */

static void msg_reset(struct h1_dir *d)
{
	d->len = d->url_len = d->n_hdrs = 0;
	d->field_open = d->truncated = d->interim = d->mid_body = false;
	d->body_bytes = d->gap_bytes = 0;
}

/* buf_put() when the bytes do not fit the buffer as it is: grow it, or
 * mark the message truncated at max_header_bytes. */
static __attribute__((noinline)) bool buf_put_grow(struct h1_state *st, struct h1_dir *d,
                                                   const char *at, size_t n)
{
	if (d->truncated)
		return false;
	if (n == 0)
		return true;
	if (d->len + n > st->max_header_bytes) {
		d->truncated = true;
		return false;
	}
	size_t cap = d->cap ? d->cap : 512;
	while (cap < d->len + n)
		cap *= 2;
	if (cap > st->max_header_bytes)
		cap = st->max_header_bytes;
	char *b = realloc(d->buf, cap);
	if (!b) {
		d->truncated = true;
		return false;
	}
	d->buf = b;
	d->cap = cap;
	memcpy(d->buf + d->len, at, n);
	d->len += n;
	return true;
}

/* Appends to the header buffer within max_header_bytes; false once full.
 * Runs for every URL, header name and value: the common case (room in the
 * buffer, which never exceeds max_header_bytes) inline. */
static inline bool buf_put(struct h1_state *st, struct h1_dir *d, const char *at, size_t n)
{
	if (d->truncated || n > d->cap - d->len)
		return buf_put_grow(st, d, at, n);
	memcpy(d->buf + d->len, at, n);
	d->len += n;
	return true;
}

/* strncasecmp(s, lower, n) == 0 for a lower-case ASCII name, without the
 * library call (names are compared for every header of every message). */
static inline bool name_is(const char *s, const char *lower, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c) != (unsigned char)lower[i])
			return false;
	}
	return true;
}

static struct h1_dir *dir_from_parser(llhttp_t *p)
{
	return (struct h1_dir *)p;   /* p is the first member */
}

static struct h1_state *state_of(llhttp_t *p)
{
	return p->data;
}

/* Header value with OWS trimmed and obs-fold line breaks as spaces. */
static void hdr_value(const struct h1_dir *d, const struct h1_hdr *h, const char **v, size_t *n)
{
	const char *s = d->buf + h->val_off;
	size_t l = h->val_len;
	while (l && (s[0] == ' ' || s[0] == '\t'))
		s++, l--;
	while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
		l--;
	*v = s;
	*n = l;
}

static const struct h1_hdr *find_hdr(const struct h1_dir *d, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < d->n_hdrs; i++) {
		const struct h1_hdr *h = &d->hdrs[i];
		if (h->name_len == n && name_is(d->buf + h->name_off, name, n))
			return h;
	}
	return NULL;
}

/* The headers a request's handling reads, found in one pass (the first
 * of each name, as find_hdr() finds it). */
struct req_hdrs {
	const struct h1_hdr *host, *upgrade, *expect, *xrid;
};

static void find_req_hdrs(const struct h1_dir *d, struct req_hdrs *r)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < d->n_hdrs; i++) {
		const struct h1_hdr *h = &d->hdrs[i];
		const char *nm = d->buf + h->name_off;
		const struct h1_hdr **slot = NULL;
		switch (h->name_len) {
		case 4: slot = name_is(nm, "host", 4) ? &r->host : NULL; break;
		case 6: slot = name_is(nm, "expect", 6) ? &r->expect : NULL; break;
		case 7: slot = name_is(nm, "upgrade", 7) ? &r->upgrade : NULL; break;
		case 12: slot = name_is(nm, "x-request-id", 12) ? &r->xrid : NULL; break;
		}
		if (slot && !*slot)
			*slot = h;
	}
}

static bool hdr_has_token(const struct h1_dir *d, const struct h1_hdr *h, const char *tok)
{
	const char *v;
	size_t n, tl = strlen(tok);
	if (!h)
		return false;
	hdr_value(d, h, &v, &n);
	for (size_t i = 0; i + tl <= n; i++) {
		if (name_is(v + i, tok, tl) && (i == 0 || v[i - 1] == ',' || v[i - 1] == ' ') &&
		    (i + tl == n || v[i + tl] == ',' || v[i + tl] == ' '))
			return true;
	}
	return false;
}

static char *hdr_dup(const struct h1_dir *d, const struct h1_hdr *h)
{
	const char *v;
	size_t n;
	if (!h)
		return NULL;
	hdr_value(d, h, &v, &n);
	return strndup(v, n);
}

/* The message's header fields as "name\0value\0" pairs (values trimmed). */
static char *fields_dup(const struct h1_dir *d, size_t *n_fields)
{
	size_t len = 0;
	for (size_t i = 0; i < d->n_hdrs; i++)
		len += d->hdrs[i].name_len + d->hdrs[i].val_len + 2;
	char *out = malloc(len ? len : 1), *w = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < d->n_hdrs; i++) {
		const char *v;
		size_t vn;
		hdr_value(d, &d->hdrs[i], &v, &vn);
		memcpy(w, d->buf + d->hdrs[i].name_off, d->hdrs[i].name_len);
		w += d->hdrs[i].name_len;
		*w++ = '\0';
		memcpy(w, v, vn);
		w += vn;
		*w++ = '\0';
	}
	*n_fields = d->n_hdrs;
	return out;
}

/* Fills ev->l7.http.headers from the message (without Host); extra: a
 * header added at the end (the request's X-Request-Id on responses). */
static void set_headers(struct h1_state *st, struct h1_dir *d, struct flow_event *ev,
                        const char *extra_name, const char *extra_value)
{
	if (st->cfg && st->cfg->no_headers)
		return;
	size_t n = 0;
	struct http_header_in local[32];
	struct http_header_in *in = d->n_hdrs < 32 ? local : malloc((d->n_hdrs + 1) * sizeof(*in));
	if (!in) {
		l7_count(st->ctx, "http.oom", 1);
		return;
	}
	/* obs-fold continuation chunks were joined as sent; OWS trimmed here */
	for (size_t i = 0; i < d->n_hdrs; i++) {
		const struct h1_hdr *h = &d->hdrs[i];
		if (h->name_len == 4 && name_is(d->buf + h->name_off, "host", 4))
			continue;
		in[n].name = d->buf + h->name_off;
		in[n].name_len = h->name_len;
		hdr_value(d, h, &in[n].value, &in[n].value_len);
		n++;
	}
	if (extra_name) {
		in[n++] = (struct http_header_in){ extra_name, strlen(extra_name), extra_value,
		                                   strlen(extra_value) };
	}
	if (http_event_set_headers(ev, in, n, st->cfg) < 0)
		l7_count(st->ctx, "http.oom", 1);
	if (in != local)
		free(in);
}

/* --- llhttp callbacks ------------------------------------------------------------------ */

static int cb_message_begin(llhttp_t *p)
{
	struct h1_state *st = state_of(p);
	struct h1_dir *d = dir_from_parser(p);
	msg_reset(d);
	d->phase = PH_HEADERS;
	d->msg_ts = st->ts;
	return 0;
}

static int cb_url(llhttp_t *p, const char *at, size_t n)
{
	struct h1_dir *d = dir_from_parser(p);
	if (buf_put(state_of(p), d, at, n))
		d->url_len += n;
	return 0;
}

static int cb_header_field(llhttp_t *p, const char *at, size_t n)
{
	struct h1_state *st = state_of(p);
	struct h1_dir *d = dir_from_parser(p);
	if (d->truncated || n == 0)
		return 0;
	if (!d->field_open) {
		if (d->n_hdrs == d->cap_hdrs) {
			size_t cap = d->cap_hdrs ? d->cap_hdrs * 2 : 16;
			struct h1_hdr *h = realloc(d->hdrs, cap * sizeof(*h));
			if (!h) {
				d->truncated = true;
				return 0;
			}
			d->hdrs = h;
			d->cap_hdrs = cap;
		}
		d->hdrs[d->n_hdrs++] = (struct h1_hdr){ d->len, 0, d->len, 0 };
		d->field_open = true;
	}
	struct h1_hdr *h = &d->hdrs[d->n_hdrs - 1];
	if (buf_put(st, d, at, n)) {
		h->name_len += n;
		h->val_off = d->len;
	} else {
		d->n_hdrs--;   /* a name cut short is no header */
	}
	return 0;
}

static int cb_header_value(llhttp_t *p, const char *at, size_t n)
{
	struct h1_dir *d = dir_from_parser(p);
	if (d->truncated || d->n_hdrs == 0)
		return 0;
	struct h1_hdr *h = &d->hdrs[d->n_hdrs - 1];
	d->field_open = false;
	if (buf_put(state_of(p), d, at, n))
		h->val_len += n;
	return 0;
}

static int cb_header_value_complete(llhttp_t *p)
{
	dir_from_parser(p)->field_open = false;
	return 0;
}

static int request_headers_complete(struct h1_state *st, struct h1_dir *d, llhttp_t *p)
{
	if (p->http_major == 0 && d->url_len == 0) {
		/* llhttp takes "CONNECT \r\n" for HTTP/0.9: not a request */
		l7_count(st->ctx, "http.error.EMPTY_URL", 1);
		return HPE_USER;
	}
	if (d->truncated)
		l7_count(st->ctx, "http.headers_truncated", 1);
	const char *method = d->ext_method[0] ? d->ext_method
	                                      : llhttp_method_name((llhttp_method_t)p->method);
	const char *target = d->buf ? d->buf : "";
	size_t target_len = d->url_len;
	struct req_hdrs rh;
	find_req_hdrs(d, &rh);
	const struct h1_hdr *host = rh.host;
	const char *hv = NULL;
	size_t hn = 0;
	if (host)
		hdr_value(d, host, &hv, &hn);
	if (p->method == HTTP_CONNECT) {
		/* authority-form target: that is the host, the path is empty */
		hv = target;
		hn = target_len;
		target_len = 0;
	}

	struct h1_req r = { .known = true, .ts = d->msg_ts };
	size_t ml = strnlen(method, sizeof(r.method) - 1);
	memcpy(r.method, method, ml);
	r.method[ml] = '\0';
	r.protocol = protocol_name(p);
	r.head = p->method == HTTP_HEAD && !d->ext_method[0];
	r.connect = p->method == HTTP_CONNECT;
	r.upgrade = p->upgrade;
	r.h2c = p->upgrade && hdr_has_token(d, rh.upgrade, "h2c");
	r.expect_continue = hdr_has_token(d, rh.expect, "100-continue");
	r.xrid = hdr_dup(d, rh.xrid);
	if (r.h2c)
		r.fields = fields_dup(d, &r.n_fields);

	struct flow_event *ev = l7_event_new(st->ctx, L7_DIR_TO_SERVER, d->msg_ts);
	if (ev) {
		ev->l7.kind = FE_L7K_HTTP;
		ev->l7.http.method = fe_strdup(ev, method);
		ev->l7.http.protocol = r.protocol;
		ev->l7.http.url = http_event_url(ev, "http", hv, hn, target, target_len, &st->ci);
		if (ev->l7.http.url)
			r.url = strdup(ev->l7.http.url);
		set_headers(st, d, ev, NULL, NULL);
		l7_event_emit(st->ctx, ev);
	} else {
		r.url = NULL;
	}
	queue_push(st, &r);
	d->phase = PH_BODY;
	return 0;
}

static void resume_requests(struct h1_state *st);

static int response_headers_complete(struct h1_state *st, struct h1_dir *d, llhttp_t *p)
{
	unsigned status = p->status_code;
	if (status >= 100 && status < 200 && status != 101) {
		/* interim (100 Continue, 103 Early Hints, ...): not the answer */
		l7_count(st->ctx, "http.interim_response", 1);
		d->interim = true;
		d->phase = PH_BODY;
		return 1;
	}
	if (d->truncated)
		l7_count(st->ctx, "http.headers_truncated", 1);
	if (d->lost_between >= H1_MIN_MESSAGE)
		st->resp_lost++;
	d->lost_between = 0;
	for (; st->resp_lost > 0; st->resp_lost--) {
		/* answers we never saw: their requests are done */
		l7_count(st->ctx, "http.response_lost", 1);
		if (st->q_len || st->dropped_tail)
			queue_pop(st);
	}
	queue_pop(st);
	struct h1_req *r = &st->cur;

	struct flow_event *ev = l7_event_new(st->ctx, L7_DIR_TO_CLIENT, st->ts);
	if (ev) {
		ev->l7.kind = FE_L7K_HTTP;
		ev->l7.http.code = status;
		if (r->known) {
			ev->l7.http.method = fe_strdup(ev, r->method);
			ev->l7.http.protocol = r->protocol;
			ev->l7.http.url = r->url ? fe_strdup(ev, r->url) : NULL;
			ev->l7.latency_ns = st->ts > r->ts ? st->ts - r->ts : 0;
		} else {
			ev->l7.http.protocol = protocol_name(p);
		}
		const char *xrid = NULL;
		if (r->xrid && !find_hdr(d, "x-request-id"))
			xrid = r->xrid;
		set_headers(st, d, ev, xrid ? "X-Request-Id" : NULL, xrid);
		d->held = ev;
	}
	d->phase = PH_BODY;

	if (r->upgrade && status != 101 && !(r->connect && status / 100 == 2)) {
		/* the server declined: requests go on (before this response is
		 * paired further, so pipelined ones keep their order) */
		st->resume_req = true;
		resume_requests(st);
	}
	if (r->expect_continue && st->d[0].phase == PH_BODY && st->d[0].body_bytes == 0)
		st->expect_skip = true;
	/* llhttp 8.1 would read a body after a 304 that has Content-Length */
	if (r->head || status == 204 || status == 304)
		return 1;
	if (r->connect && status / 100 == 2) {
		st->tunnel = true;
		return 2;   /* no body; llhttp pauses as for an upgrade */
	}
	return 0;
}

static int cb_headers_complete(llhttp_t *p)
{
	struct h1_state *st = state_of(p);
	struct h1_dir *d = dir_from_parser(p);
	if (d == &st->d[0])
		return request_headers_complete(st, d, p);
	return response_headers_complete(st, d, p);
}

static int cb_body(llhttp_t *p, const char *at, size_t n)
{
	struct h1_dir *d = dir_from_parser(p);
	d->body_bytes += n;
	d->body_end = at + n;
	return 0;
}

/* Emits the held response. */
static void flush_response(struct h1_state *st, struct h1_dir *d, bool truncated)
{
	if (d->held) {
		d->held->l7_info.gap_bytes = d->gap_bytes;
		d->held->l7_info.truncated = truncated;
		l7_event_emit(st->ctx, d->held);
		d->held = NULL;
	}
}

static int cb_message_complete(llhttp_t *p)
{
	struct h1_state *st = state_of(p);
	struct h1_dir *d = dir_from_parser(p);
	d->ext_method[0] = '\0';
	if (d == &st->d[1] && !d->interim)
		flush_response(st, d, false);
	d->phase = PH_IDLE;
	d->interim = false;
	/* requests: give feed() the boundary (extension methods) */
	return d == &st->d[0] ? HPE_PAUSED : 0;
}

static const llhttp_settings_t h1_settings = {
	.on_message_begin = cb_message_begin,
	.on_url = cb_url,
	.on_header_field = cb_header_field,
	.on_header_value = cb_header_value,
	.on_header_value_complete = cb_header_value_complete,
	.on_headers_complete = cb_headers_complete,
	.on_body = cb_body,
	.on_message_complete = cb_message_complete,
};

/* --- resynchronisation ---------------------------------------------------------------- */

/* Does s start a message of this direction? 1 yes, 0 no, -1 not enough bytes. */
static int message_start(const char *s, size_t n, bool response)
{
	if (response) {
		static const char v[] = "HTTP/1.";
		size_t k = n < 7 ? n : 7;
		if (memcmp(s, v, k) != 0)
			return 0;
		if (n < 13)
			return -1;
		if ((s[7] != '0' && s[7] != '1') || s[8] != ' ')
			return 0;
		for (int i = 9; i < 12; i++)
			if (s[i] < '0' || s[i] > '9')
				return 0;
		return s[12] == ' ' || s[12] == '\r' || s[12] == '\n' ? 1 : 0;
	}
	/* most bytes start no method: the initials of h1_methods[] say so */
#define INITIAL(c) (1u << ((c) - 'A'))
	static const uint32_t initials = INITIAL('A') | INITIAL('B') | INITIAL('C') | INITIAL('D') |
		INITIAL('G') | INITIAL('H') | INITIAL('L') | INITIAL('M') | INITIAL('N') | INITIAL('O') |
		INITIAL('P') | INITIAL('R') | INITIAL('S') | INITIAL('T') | INITIAL('U');
#undef INITIAL
	if (n && (s[0] < 'A' || s[0] > 'Z' || !(initials >> (s[0] - 'A') & 1)))
		return 0;
	int need_more = 0;
	for (size_t i = 0; i < sizeof(h1_methods) / sizeof(h1_methods[0]); i++) {
		if (n && h1_methods[i][0] != s[0])
			continue;
		size_t ml = strlen(h1_methods[i]);
		size_t k = n < ml ? n : ml;
		if (memcmp(s, h1_methods[i], k) != 0)
			continue;
		if (n < ml + 2) {
			need_more = 1;
			continue;
		}
		if (s[ml] == ' ' && s[ml + 1] != ' ' && s[ml + 1] != '\r' && s[ml + 1] != '\n')
			return 1;
	}
	return need_more ? -1 : 0;
}

static void feed(struct h1_state *st, struct h1_dir *d, const char *p, size_t n);

/* Scans for a message start at a line start. Returns how many bytes of p
 * it consumed; when it found a start, d->mode is M_PARSE and parsing goes
 * on from there. */
static size_t resync(struct h1_state *st, struct h1_dir *d, const char *p, size_t n)
{
	bool response = d == &st->d[1];
	if (d->carry_len) {
		char tmp[sizeof(d->carry) + 16];
		size_t extra = n < 16 ? n : 16;
		memcpy(tmp, d->carry, d->carry_len);
		memcpy(tmp + d->carry_len, p, extra);
		int m = message_start(tmp, d->carry_len + extra, response);
		if (m == 1) {
			char carry[sizeof(d->carry)];
			size_t cl = d->carry_len;
			memcpy(carry, d->carry, cl);
			d->carry_len = 0;
			d->mode = M_PARSE;
			l7_count(st->ctx, "http.resync", 1);
			llhttp_reset(&d->p);
			feed(st, d, carry, cl);   /* at most 16 bytes: no deep recursion */
			return 0;
		}
		if (m == -1 && d->carry_len + n < sizeof(d->carry)) {
			memcpy(d->carry + d->carry_len, p, n);
			d->carry_len += n;
			return n;
		}
		d->carry_len = 0;
		d->line_start = false;
	}
	size_t i = 0;
	while (i < n) {
		if (!d->line_start) {
			const char *nl = memchr(p + i, '\n', n - i);
			if (!nl)
				return n;
			i = (size_t)(nl - p) + 1;
			d->line_start = true;
			continue;
		}
		int m = message_start(p + i, n - i, response);
		if (m == 1) {
			d->mode = M_PARSE;
			l7_count(st->ctx, "http.resync", 1);
			llhttp_reset(&d->p);
			return i;
		}
		if (m == -1) {
			memcpy(d->carry, p + i, n - i);
			d->carry_len = n - i;
			return n;
		}
		d->line_start = false;
	}
	return n;
}

static void start_resync(struct h1_dir *d, bool at_boundary)
{
	d->mode = M_RESYNC;
	d->phase = PH_IDLE;
	d->mid_body = false;
	d->line_start = at_boundary;
	d->carry_len = 0;
}

/* --- feeding llhttp ---------------------------------------------------------------------- */

static void stop_parsing(struct h1_state *st, const char *counter)
{
	l7_count(st->ctx, counter, 1);
	st->d[0].mode = st->d[1].mode = M_STOPPED;
	free(st->d[0].ubuf);
	st->d[0].ubuf = NULL;
	st->d[0].ulen = 0;
}

/* up: the request that asked for the switch (NULL for the prior-knowledge
 * preface): the HTTP/2 parser makes it the request of stream 1. */
static void switch_to_h2(struct h1_state *st, enum l7_dir dir, const char *rest, size_t n,
                         const struct h1_req *up)
{
	struct l7_upgrade u = { 0 };
	const char **hv = NULL;
	if (up && up->known) {
		hv = calloc(2 * up->n_fields + 1, sizeof(*hv));
		const char *f = up->fields;
		for (size_t i = 0; hv && f && i < 2 * up->n_fields; i++) {
			hv[i] = f;
			f += strlen(f) + 1;
		}
		u = (struct l7_upgrade){ .method = up->method, .url = up->url, .ts_ns = up->ts,
		                         .headers = hv, .n_headers = hv && up->fields ? up->n_fields : 0 };
	}
	if (l7_switch_protocol_upgrade(st->ctx, L7_PROTO_HTTP2, dir, (const uint8_t *)rest, n,
	                               up && up->known ? &u : NULL) == 0) {
		l7_count(st->ctx, "http.upgrade_h2c", 1);
		st->switched = true;
	} else {
		stop_parsing(st, "http.upgrade_no_parser");
	}
	free(hv);
}

/* The answer to an upgrade request arrived and declined it: the request
 * parser continues with what it held back. */
static void resume_requests(struct h1_state *st)
{
	struct h1_dir *d = &st->d[0];
	if (d->mode != M_WAIT_UPGRADE)
		return;   /* not paused yet (body still coming): later */
	st->resume_req = false;
	llhttp_resume_after_upgrade(&d->p);
	d->mode = M_PARSE;
	char *b = d->ubuf;
	size_t n = d->ulen;
	d->ubuf = NULL;
	d->ulen = 0;
	if (b) {
		feed(st, d, b, n);
		free(b);
	}
}

static void on_parse_error(struct h1_state *st, struct h1_dir *d, llhttp_errno_t err)
{
	if (err != HPE_USER)   /* ours: counted where raised */
		l7_count(st->ctx, error_counter(err), 1);
	if (d == &st->d[0]) {
		if (d->phase == PH_HEADERS)
			queue_placeholder(st);   /* the server will likely answer it */
	} else if (d->phase == PH_BODY && !d->interim) {
		flush_response(st, d, true);
	} else if (d->phase == PH_HEADERS) {
		/* an unreadable answer still answers the oldest request */
		l7_count(st->ctx, "http.response_unreadable", 1);
		queue_pop(st);
	}
	d->phase = PH_IDLE;
	d->ext_method[0] = '\0';
}

/* llhttp knows a fixed list of methods; RFC 9110 allows any token. At the
 * start of a request, an unknown upper-case token followed by a space is
 * remembered and llhttp is shown "GET" in its place (same framing: a
 * request body needs Content-Length or Transfer-Encoding whatever the
 * method). Returns how many bytes of p were replaced, 0 if none. */
static size_t extension_method(struct h1_dir *d, const char *p, size_t n)
{
	size_t i = 0;
	while (i < n && ((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
	                 p[i] == '_' || p[i] == '-'))
		i++;
	if (i == 0 || i >= n || p[i] != ' ' || i >= sizeof(d->ext_method))
		return 0;
	for (size_t k = 0; k < sizeof(h1_methods) / sizeof(h1_methods[0]); k++)
		if (strlen(h1_methods[k]) == i && memcmp(h1_methods[k], p, i) == 0)
			return 0;
	/* RTSP methods and "PRI" are llhttp's to judge */
	static const char *const other[] = { "PRI", "DESCRIBE", "ANNOUNCE", "SETUP", "PLAY", "PAUSE",
	                                     "TEARDOWN", "GET_PARAMETER", "SET_PARAMETER", "REDIRECT",
	                                     "RECORD", "FLUSH" };
	for (size_t k = 0; k < sizeof(other) / sizeof(other[0]); k++)
		if (strlen(other[k]) == i && memcmp(other[k], p, i) == 0)
			return 0;
	memcpy(d->ext_method, p, i);
	d->ext_method[i] = '\0';
	return i;
}

static void feed(struct h1_state *st, struct h1_dir *d, const char *p, size_t n)
{
	const char *last_err = NULL;
	while (n > 0 && !st->switched) {
		switch (d->mode) {
		case M_STOPPED:
			return;
		case M_RESYNC: {
			size_t k = resync(st, d, p, n);
			p += k;
			n -= k;
			continue;
		}
		case M_WAIT_UPGRADE: {
			size_t room = st->max_header_bytes > d->ulen ? st->max_header_bytes - d->ulen : 0;
			size_t k = n < room ? n : room;
			if (k < n)
				l7_count(st->ctx, "http.upgrade_wait_overflow", n - k);
			if (k) {
				char *b = realloc(d->ubuf, d->ulen + k);
				if (b) {
					memcpy(b + d->ulen, p, k);
					d->ubuf = b;
					d->ulen += k;
				}
			}
			return;
		}
		case M_PARSE:
			break;
		}
		if (d->mid_body && n < d->p.content_length) {
			/* what llhttp does with these bytes (consume_content_length
			 * and its on_body span), without the call: most segments of
			 * a response are body */
			d->p.content_length -= n;
			d->body_bytes += n;
			return;
		}
		d->mid_body = false;
		if (d == &st->d[0] && st->expect_skip) {
			/* the server answered before the 100-continue body: if the
			 * client goes on with a new request, there is no body */
			st->expect_skip = false;
			if (d->phase == PH_BODY && d->body_bytes == 0 && message_start(p, n, false) == 1) {
				l7_count(st->ctx, "http.expect_body_skipped", 1);
				llhttp_reset(&d->p);
				d->phase = PH_IDLE;
			}
		}
		if (d == &st->d[0] && d->phase == PH_IDLE) {
			size_t lead = 0;   /* CRLFs between messages */
			while (lead < n && (p[lead] == '\r' || p[lead] == '\n'))
				lead++;
			size_t m = extension_method(d, p + lead, n - lead);
			if (m && (lead == 0 || llhttp_execute(&d->p, p, lead) == HPE_OK)) {
				char saved[sizeof(d->ext_method)];
				memcpy(saved, d->ext_method, sizeof(saved));
				llhttp_errno_t e = llhttp_execute(&d->p, "GET", 3);
				memcpy(d->ext_method, saved, sizeof(saved));
				if (e == HPE_OK) {
					l7_count(st->ctx, "http.extension_method", 1);
					p += lead + m;
					n -= lead + m;
				}
			} else {
				d->ext_method[0] = '\0';
			}
		}
		d->body_end = NULL;
		llhttp_errno_t err = llhttp_execute(&d->p, p, n);
		if (err == HPE_OK) {
			d->mid_body = d->phase == PH_BODY && !d->interim && d->body_end == p + n &&
			              (d->p.flags & (F_CONTENT_LENGTH | F_CHUNKED)) == F_CONTENT_LENGTH &&
			              d->p.content_length > 0;
			return;
		}
		const char *pos = llhttp_get_error_pos(&d->p);
		if (!pos || pos < p || pos > p + n)
			pos = p + n;
		size_t used = (size_t)(pos - p);
		const char *rest = pos;
		size_t rn = n - used;

		if (err == HPE_PAUSED_UPGRADE) {
			if (d == &st->d[0]) {
				d->mode = M_WAIT_UPGRADE;
				if (st->resume_req)   /* already declined (answer came first) */
					resume_requests(st);
				p = rest;
				n = rn;
				continue;
			}
			if (st->tunnel) {
				stop_parsing(st, "http.connect_tunnel");
				return;
			}
			/* 101 Switching Protocols */
			const struct h1_hdr *up = find_hdr(d, "upgrade");
			bool h2c = up ? hdr_has_token(d, up, "h2c") : st->cur.h2c;
			if (h2c) {
				if (st->d[0].ulen)
					l7_count(st->ctx, "http.upgrade_dropped_bytes", st->d[0].ulen);
				switch_to_h2(st, L7_DIR_TO_CLIENT, rest, rn, &st->cur);
			} else {
				stop_parsing(st, "http.upgrade_other");
			}
			return;
		}
		if (err == HPE_PAUSED_H2_UPGRADE && d == &st->d[0]) {
			/* "PRI * HTTP/2.0": prior-knowledge HTTP/2 on this connection */
			static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
			char *b = malloc(24 + rn);
			if (!b) {
				stop_parsing(st, "http.oom");
				return;
			}
			memcpy(b, preface, 24);
			memcpy(b + 24, rest, rn);
			switch_to_h2(st, L7_DIR_TO_SERVER, b, 24 + rn, NULL);
			free(b);
			return;
		}
		if (err == HPE_PAUSED) {
			llhttp_resume(&d->p);
			p = rest;
			n = rn;
			continue;
		}
		on_parse_error(st, d, err);
		/* scan for the next message from the failing byte: it can start
		 * one if it begins a line (never twice at the same byte) */
		start_resync(d, pos != last_err && pos > p && pos[-1] == '\n');
		last_err = pos;
		if (rn == 0)
			return;
		p = rest;
		n = rn;
	}
}

static void after_call(struct h1_state *st)
{
	if (!st->switched && st->resume_req)
		resume_requests(st);
}

/* --- parser ops ------------------------------------------------------------------------------ */

static void *h1_create(const struct l7_conn_info *ci, const struct l7_config *cfg)
{
	struct h1_state *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->cfg = cfg;
	st->max_header_bytes = cfg && cfg->max_header_bytes ? cfg->max_header_bytes : 64 * 1024;
	st->q_max = cfg && cfg->max_pending ? cfg->max_pending : 64;
	if (ci) {
		const char *ip = ci->server_ip ? ci->server_ip : "";
		size_t n = strnlen(ip, sizeof(st->server_ip) - 1);
		memcpy(st->server_ip, ip, n);
		st->server_ip[n] = '\0';
		st->ci.transport = ci->transport;
		st->ci.server_port = ci->server_port;
	}
	st->ci.server_ip = st->server_ip;
	for (int i = 0; i < 2; i++) {
		struct h1_dir *d = &st->d[i];
		llhttp_init(&d->p, i == 0 ? HTTP_REQUEST : HTTP_RESPONSE, &h1_settings);
		d->p.data = st;
		/* an observer reads what was sent, even after "Connection: close"
		 * and with header bytes a strict server would refuse */
		llhttp_set_lenient_keep_alive(&d->p, 1);
		llhttp_set_lenient_headers(&d->p, 1);
		if (ci && ci->midstream)
			start_resync(d, true);
	}
	return st;
}

static void h1_destroy(void *state)
{
	struct h1_state *st = state;
	if (!st)
		return;
	for (int i = 0; i < 2; i++) {
		free(st->d[i].buf);
		free(st->d[i].hdrs);
		free(st->d[i].ubuf);
		flow_event_free(st->d[i].held);
	}
	for (size_t i = 0; i < st->q_len; i++)
		req_free(&st->q[(st->q_head + i) % st->q_cap]);
	req_free(&st->cur);
	free(st->q);
	free(st);
}

static void h1_data(void *state, struct l7_ctx *ctx, enum l7_dir dir,
                    const uint8_t *p, size_t n, uint64_t ts_ns)
{
	struct h1_state *st = state;
	if (st->switched || n == 0)
		return;
	st->ctx = ctx;
	st->ts = ts_ns;
	struct h1_dir *d = &st->d[dir];
	if (d->mode == M_RESYNC && d->carry_len == 0)
		d->line_start = true;   /* a segment often starts a message */
	feed(st, d, (const char *)p, n);
	after_call(st);
}

/* Feeds len bytes that were lost into a body whose length is known, so
 * llhttp stays in step; returns how many it took. */
static uint64_t skip_body(struct h1_state *st, struct h1_dir *d, uint64_t len)
{
	static const char zeros[4096];
	uint64_t fed = 0;
	while (fed < len && d->phase == PH_BODY && d->mode == M_PARSE && !st->switched) {
		size_t k = len - fed < sizeof(zeros) ? (size_t)(len - fed) : sizeof(zeros);
		if (d->p.content_length < k)
			k = (size_t)d->p.content_length;
		if (k == 0)
			break;
		d->gap_bytes += k;
		fed += k;
		llhttp_errno_t err = llhttp_execute(&d->p, zeros, k);
		if (err == HPE_PAUSED) {   /* the request ended */
			llhttp_resume(&d->p);
			break;
		}
		if (err != HPE_OK) {
			on_parse_error(st, d, err);
			start_resync(d, true);
			break;
		}
	}
	return fed;
}

/* A hole took bytes of messages we never parsed. Assume one message was
 * lost when they could hold one, so that the requests and responses after
 * it still pair up (exact when the hole held one message; a hole that
 * swallowed several shifts the pairing). A lost request becomes a
 * placeholder in the queue now; a lost response is settled when the next
 * response is found (the pipeline may report a response-side hole before
 * the request it answered has been read). */
static void lost_bytes(struct h1_state *st, enum l7_dir dir, uint64_t len, bool in_message)
{
	if (dir == L7_DIR_TO_SERVER) {
		if (in_message || len >= H1_MIN_MESSAGE)
			queue_placeholder(st);
		return;
	}
	struct h1_dir *d = &st->d[1];
	if (in_message) {
		st->resp_lost++;
		d->lost_between = 0;
	} else {
		d->lost_between += len;
	}
}

static void h1_gap(void *state, struct l7_ctx *ctx, enum l7_dir dir, uint64_t len, uint64_t ts_ns)
{
	struct h1_state *st = state;
	if (st->switched || len == 0)
		return;
	st->ctx = ctx;
	st->ts = ts_ns;
	struct h1_dir *d = &st->d[dir];
	d->mid_body = false;
	switch (d->mode) {
	case M_STOPPED:
		return;
	case M_WAIT_UPGRADE:
		l7_count(ctx, "http.gap_during_upgrade", 1);
		stop_parsing(st, "http.upgrade_other");
		return;
	case M_RESYNC:
		d->carry_len = 0;
		d->line_start = true;   /* data after a hole may start a message */
		lost_bytes(st, dir, len, false);
		return;
	case M_PARSE:
		break;
	}
	if (d->phase == PH_BODY && !d->interim) {
		uint16_t flags = d->p.flags;
		bool eof_body = dir == L7_DIR_TO_CLIENT && llhttp_message_needs_eof(&d->p);
		if (eof_body) {
			d->gap_bytes += len;   /* body until close: nothing to keep in step */
			return;
		}
		/* inside a Content-Length body or a chunk's data: stay in step */
		bool in_data = !(flags & F_CHUNKED) || d->p.content_length > 0;
		if (in_data && d->p.content_length > 0) {
			uint64_t fed = skip_body(st, d, len);
			if (fed == len) {
				l7_count(ctx, "http.gap_in_body", 1);
				after_call(st);
				return;
			}
			len -= fed;
			if (d->phase == PH_BODY && d->mode == M_PARSE) {
				/* a chunked body: the hole went past this chunk */
				d->gap_bytes += len;
				if (dir == L7_DIR_TO_CLIENT)
					flush_response(st, d, false);
				l7_count(ctx, "http.gap_in_body", 1);
				start_resync(d, true);
				after_call(st);
				return;
			}
			/* the message ended inside the hole: the rest of it hit
			 * what came next */
			l7_count(ctx, "http.gap_in_body", 1);
			lost_bytes(st, dir, len, false);
		} else {
			d->gap_bytes += len;
			if (dir == L7_DIR_TO_CLIENT)
				flush_response(st, d, false);
			l7_count(ctx, "http.gap_in_body", 1);
			start_resync(d, true);
			after_call(st);
			return;
		}
	} else if (d->phase == PH_HEADERS || (d->phase == PH_BODY && d->interim)) {
		l7_count(ctx, "http.gap_in_headers", 1);
		if (!d->interim)
			lost_bytes(st, dir, len, true);
	} else {
		/* the lost bytes belonged to at least one message */
		l7_count(ctx, "http.gap_between_messages", 1);
		lost_bytes(st, dir, len, false);
	}
	start_resync(d, true);
	after_call(st);
}

static void h1_close(void *state, struct l7_ctx *ctx, enum l7_dir dir, uint64_t ts_ns)
{
	struct h1_state *st = state;
	if (st->switched)
		return;
	st->ctx = ctx;
	st->ts = ts_ns;
	struct h1_dir *d = &st->d[dir];
	if (d->closed)
		return;
	d->closed = true;
	d->mid_body = false;
	if (d->mode == M_PARSE) {
		if (d->phase == PH_BODY && !d->interim) {
			if (llhttp_message_needs_eof(&d->p)) {
				/* body delimited by the close: this is its end */
				llhttp_errno_t e = llhttp_finish(&d->p);
				if (e != HPE_OK && e != HPE_PAUSED && dir == L7_DIR_TO_CLIENT)
					flush_response(st, d, true);
			} else if (dir == L7_DIR_TO_CLIENT) {
				l7_count(ctx, "http.response_truncated", 1);
				flush_response(st, d, true);
			} else {
				l7_count(ctx, "http.request_truncated", 1);
			}
		} else if (d->phase == PH_HEADERS || d->interim) {
			l7_count(ctx, dir == L7_DIR_TO_CLIENT ? "http.response_headers_truncated"
			                                      : "http.request_headers_truncated", 1);
		}
		d->phase = PH_IDLE;
	}
	if (dir == L7_DIR_TO_CLIENT) {
		uint64_t unanswered = st->q_len + st->dropped_tail;
		for (size_t i = 0; i < st->q_len; i++)
			unanswered += st->q[(st->q_head + i) % st->q_cap].dropped_before;
		if (unanswered)
			l7_count(ctx, "http.request_unanswered", unanswered);
	}
	after_call(st);
}

/* --- probe ------------------------------------------------------------------------------------- */

static int h1_probe(const uint8_t *data, size_t len, enum l7_dir dir, const struct l7_conn_info *ci)
{
	(void)ci;
	const char *s = (const char *)data;
	if (len >= 4 && memcmp(s, "PRI ", 4) == 0)
		return 0;   /* the HTTP/2 connection preface */
	int rq = message_start(s, len, false), rs = message_start(s, len, true);
	if (rs == 1)
		return dir == L7_DIR_TO_CLIENT ? 100 : 80;
	if (rq != 1)
		return rq == -1 || rs == -1 ? 20 : 0;   /* 20: a prefix of one */
	/* request line: certain once " HTTP/1." ends it */
	const char *eol = memchr(s, '\n', len);
	size_t line = eol ? (size_t)(eol - s) : len;
	if (memmem(s, line, " HTTP/1.", 8))
		return dir == L7_DIR_TO_SERVER ? 100 : 80;
	return eol ? 40 : 70;
}

const struct l7_parser_ops l7_http1_ops = {
	.name = "http",
	.proto = L7_PROTO_HTTP1,
	.probe = h1_probe,
	.create = h1_create,
	.destroy = h1_destroy,
	.data = h1_data,
	.gap = h1_gap,
	.close = h1_close,
};

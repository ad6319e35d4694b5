/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Kafka: one request event and one response event per exchange.
 *
 * Framing: every message is a 4-byte big-endian size and that many bytes.
 * Requests carry api_key, api_version, correlation_id and client_id in their
 * header; responses carry only the correlation_id, so each connection keeps
 * a bounded map of unanswered requests to know how to read the response
 * (header version, body layout) and what to report with it.
 *
 * Bodies are decoded by the streaming walker (kafka_walk.c) with the layouts
 * of kafka_api.c: topic names (and topic IDs resolved through Metadata
 * responses), error codes, Produce acks. Nothing is buffered beyond a few
 * header bytes; record batches are skipped by counting.
 *
 * Lost bytes: a gap inside a message is skipped and the message reported
 * with l7_info.gap_bytes; a gap that swallows a message boundary (or an
 * impossible size) loses the framing, and the direction resynchronises on
 * the next position that looks like a frame start (requests: a plausible
 * header; responses: a correlation id we are waiting for).
 */
#include "kafka_proto.h"
#include "l7.h"

#include <stdlib.h>
#include <string.h>

#define KAFKA_MAX_REQUEST   (128u << 20)  /* brokers refuse > 100 MiB by default */
#define KAFKA_MAX_RESPONSE  (1u << 30)
#define KAFKA_TOPICS_MAX    4096          /* the joined topic list of one message */
#define KAFKA_SCAN_MAX      512           /* resync window */
#define KAFKA_PENDING_DEFAULT 64

enum kstate {
	KS_SIZE,        /* reading the 4-byte size */
	KS_FIXED,       /* reading the fixed header part (request 8, response 4 bytes) */
	KS_HEADER,      /* client_id and tagged fields */
	KS_BODY,        /* walking the body */
	KS_SKIP,        /* skipping to the end of the frame */
	KS_RESYNC,      /* framing lost: scanning for a frame start */
};

struct kpending {
	bool used;
	int16_t api_key, api_version;
	int32_t correlation_id;
	uint64_t ts_ns;
	uint64_t seq;
	char *topics;                   /* NULL: none */
};

/* The message being read in one direction. */
struct kmsg {
	bool have_fixed;                /* api_key/version/correlation_id (response: corr) */
	int16_t api_key, api_version;
	int32_t correlation_id;
	bool client_id_set;             /* requests: kconn.client_id holds it */
	size_t topics_len;              /* kdir.topics */
	int16_t error_top, error_nested;
	bool acks_zero;
	bool body_bad;                  /* layout did not match: body fields dropped */
	bool accounted;                 /* nothing to report, already counted */
	uint64_t gap_bytes;
	/* the last topic name seen (in kdir.topics), to pair it with a topic ID
	 * of the same struct */
	size_t pair_off, pair_len;
	uint32_t pair_elem;
	bool pair_valid;
	struct kpending req;            /* responses: the request, taken out of the map */
};

struct kconn;

struct kdir {
	struct kconn *conn;
	enum l7_dir dir;
	enum kstate state;
	uint8_t fix[8];
	uint8_t fix_len;
	uint64_t frame_left;            /* bytes of the current frame not consumed yet */
	struct kwalk walk;
	struct kmsg msg;
	char *topics;                   /* distinct topic names, comma-joined; grown */
	size_t topics_cap;
	uint8_t *scan;                  /* resync window, allocated on first use */
	size_t scan_len;
	bool synced;                    /* framing found at least once */
	bool closed;
};

struct kconn {
	struct l7_ctx *ctx;             /* valid during one ops call */
	struct kdir d[2];
	struct kpending *pending;       /* n_slots entries, grown up to max_pending */
	size_t n_slots, max_pending;
	char client_id[KAFKA_NAME_MAX + 1];   /* of the request being read */
	uint64_t seq;
	unsigned n_malformed;           /* for the probe */
};

/* Header field tables: client_id (classic string even in flexible
 * versions) and tagged fields. */
static const struct kop hdr_req_v1[] = {
	{ .type = KOP_STR16, .cap = KCAP_CLIENT_ID, .vmin = 0, .vmax = KAFKA_V_MAX },
};
static const struct kop hdr_req_v2[] = {
	{ .type = KOP_STR16, .cap = KCAP_CLIENT_ID, .vmin = 0, .vmax = KAFKA_V_MAX },
	{ .type = KOP_TAGS, .vmin = 0, .vmax = KAFKA_V_MAX },
};
static const struct kop hdr_resp_v1[] = {
	{ .type = KOP_TAGS, .vmin = 0, .vmax = KAFKA_V_MAX },
};

static uint32_t rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}
static int16_t rd16(const uint8_t *b) { return (int16_t)(b[0] << 8 | b[1]); }

static void count(struct kconn *c, const char *name, uint64_t n)
{
	if (c->ctx && n)
		l7_count(c->ctx, name, n);
}

/* A frame whose content does not match its layout. */
static void malformed(struct kconn *c)
{
	c->n_malformed++;
	count(c, "kafka.malformed", 1);
}

/* --- pending requests ----------------------------------------------------- */

static void pending_release(struct kpending *p)
{
	free(p->topics);
	memset(p, 0, sizeof(*p));
}

static struct kpending *pending_find(struct kconn *c, int32_t corr)
{
	for (size_t i = 0; i < c->n_slots; i++)
		if (c->pending[i].used && c->pending[i].correlation_id == corr)
			return &c->pending[i];
	return NULL;
}

static void pending_add(struct kconn *c, const struct kdir *d, uint64_t ts)
{
	const struct kmsg *m = &d->msg;
	struct kpending *slot = pending_find(c, m->correlation_id), *oldest = NULL;
	if (slot) {                     /* a reused id: the old request got no answer */
		count(c, "kafka.unanswered", 1);
		pending_release(slot);
	}
	for (size_t i = 0; !slot && i < c->n_slots; i++) {
		if (!c->pending[i].used)
			slot = &c->pending[i];
		else if (!oldest || c->pending[i].seq < oldest->seq)
			oldest = &c->pending[i];
	}
	if (!slot && c->n_slots < c->max_pending) {
		/* most connections have a few requests in flight: grow on demand */
		size_t n = c->n_slots ? c->n_slots * 2 : 4;
		if (n > c->max_pending)
			n = c->max_pending;
		struct kpending *p = realloc(c->pending, n * sizeof(*p));
		if (p) {
			memset(p + c->n_slots, 0, (n - c->n_slots) * sizeof(*p));
			slot = p + c->n_slots;
			c->pending = p;
			c->n_slots = n;
		}
	}
	if (!slot && !oldest) {
		count(c, "kafka.pending_evicted", 1);   /* no memory: not tracked */
		return;
	}
	if (!slot) {
		count(c, "kafka.pending_evicted", 1);
		pending_release(oldest);
		slot = oldest;
	}
	slot->used = true;
	slot->api_key = m->api_key;
	slot->api_version = m->api_version;
	slot->correlation_id = m->correlation_id;
	slot->ts_ns = ts;
	slot->seq = ++c->seq;
	slot->topics = m->topics_len && !m->body_bad ? strndup(d->topics, m->topics_len) : NULL;
}

/* --- topics ----------------------------------------------------------------- */

/* Kafka topic names are [a-zA-Z0-9._-]{1,249}; anything else is not a
 * name we can report (and would make the comma-joined list ambiguous). */
static bool valid_topic(const char *s, size_t len)
{
	if (len == 0 || len > 249)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

/* Offset of the name in the list, or -1. */
static long find_topic(const struct kdir *d, const char *s, size_t len)
{
	if (!d->msg.topics_len)
		return -1;
	const char *p = d->topics, *end = d->topics + d->msg.topics_len;
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);
		if (n == len && memcmp(p, s, len) == 0)
			return p - d->topics;
		p += n + 1;
	}
	return -1;
}

/* Distinct names in order of appearance, comma-joined. Returns the name's
 * offset in the list, -1 if it did not fit. */
static long add_topic(struct kconn *c, struct kdir *d, const char *s, size_t len)
{
	struct kmsg *m = &d->msg;
	long at = find_topic(d, s, len);
	if (at >= 0)
		return at;
	size_t need = m->topics_len + (m->topics_len ? 1 : 0) + len;
	if (need > KAFKA_TOPICS_MAX) {
		count(c, "kafka.topics_truncated", 1);
		return -1;
	}
	if (need + 1 > d->topics_cap) {
		size_t cap = d->topics_cap ? d->topics_cap : 64;
		while (cap < need + 1)
			cap *= 2;
		char *t = realloc(d->topics, cap);
		if (!t) {
			count(c, "kafka.topics_truncated", 1);
			return -1;
		}
		d->topics = t;
		d->topics_cap = cap;
	}
	if (m->topics_len)
		d->topics[m->topics_len++] = ',';
	at = (long)m->topics_len;
	memcpy(d->topics + m->topics_len, s, len);
	m->topics_len += len;
	d->topics[m->topics_len] = '\0';
	return at;
}

static bool zero_uuid(const uint8_t *id)
{
	for (int i = 0; i < 16; i++)
		if (id[i])
			return false;
	return true;
}

static void msg_reset(struct kmsg *m)
{
	free(m->req.topics);
	memset(m, 0, sizeof(*m));
}

static void on_field(void *user, const struct kwalk_field *f)
{
	struct kdir *d = user;
	struct kconn *c = d->conn;
	struct kmsg *m = &d->msg;

	switch (f->cap) {
	case KCAP_CLIENT_ID:
		if (!f->null && f->s) {
			memcpy(c->client_id, f->s, f->len);
			c->client_id[f->len] = '\0';
			m->client_id_set = true;
		}
		break;
	case KCAP_TOPIC:
		m->pair_valid = false;
		if (f->null)
			break;
		if (!f->s || !valid_topic(f->s, f->len)) {
			count(c, "kafka.topic_invalid", 1);
			break;
		}
		long at = add_topic(c, d, f->s, f->len);
		if (at >= 0) {
			m->pair_off = (size_t)at;
			m->pair_len = f->len;
			m->pair_elem = f->elem;
			m->pair_valid = true;
		}
		break;
	case KCAP_TOPIC_ID: {
		if (zero_uuid(f->id))
			break;
		bool paired = m->pair_valid && m->pair_elem == f->elem;
		if (paired) {
			/* name and ID of one topic: responses teach the mapping
			 * (Metadata, CreateTopics); in requests the name is
			 * already listed. */
			if (d->dir == L7_DIR_TO_CLIENT && c->ctx) {
				char name[KAFKA_NAME_MAX + 1];
				memcpy(name, d->topics + m->pair_off, m->pair_len);
				name[m->pair_len] = '\0';
				l7_kafka_topic_set(c->ctx, f->id, name);
			}
			break;
		}
		const char *name = c->ctx ? l7_kafka_topic_get(c->ctx, f->id) : NULL;
		if (name && valid_topic(name, strlen(name)))
			add_topic(c, d, name, strlen(name));
		else
			count(c, "kafka.topic_id_unresolved", 1);
		break;
	}
	case KCAP_ERROR:
		if (f->v && !m->error_nested)
			m->error_nested = (int16_t)f->v;
		break;
	case KCAP_ERROR_TOP:
		if (f->v && !m->error_top)
			m->error_top = (int16_t)f->v;
		break;
	case KCAP_ACKS:
		m->acks_zero = f->v == 0;
		break;
	default:
		break;
	}
}

/* --- events ------------------------------------------------------------------ */

static const char *api_key_name(struct flow_event *ev, int16_t key)
{
	const char *name = kafka_api_name(key);
	return name ? name : fe_printf(ev, "%d", key);
}

static void emit(struct kconn *c, struct kdir *d, uint64_t ts, bool truncated)
{
	struct kmsg *m = &d->msg;
	bool request = d->dir == L7_DIR_TO_SERVER;
	if (!c->ctx)
		return;                 /* probing */
	struct flow_event *ev = l7_event_new(c->ctx, d->dir, ts);
	if (!ev)
		return;
	struct fe_kafka *k = &ev->l7.kafka;
	ev->l7.kind = FE_L7K_KAFKA;
	const char *topics = m->body_bad || !m->topics_len ? "" : d->topics;
	if (request) {
		k->api_key = api_key_name(ev, m->api_key);
		k->api_version = m->api_version;
		if (m->client_id_set)
			k->client_id = fe_strdup(ev, c->client_id);
	} else {
		const struct kpending *r = &m->req;
		k->api_key = api_key_name(ev, r->api_key);
		k->api_version = r->api_version;
		if (r->topics)
			topics = r->topics;
		if (!m->body_bad)
			k->error_code = m->error_top ? m->error_top : m->error_nested;
		ev->l7.latency_ns = ts >= r->ts_ns ? ts - r->ts_ns : 0;
	}
	k->correlation_id = m->correlation_id;
	k->topic = fe_strdup(ev, topics);
	ev->l7_info.gap_bytes = m->gap_bytes;
	ev->l7_info.truncated = truncated;
	l7_event_emit(c->ctx, ev);
}

static enum kwalk_status walk_no_more(struct kdir *d)
{
	size_t used;
	return kwalk_feed(&d->walk, (const uint8_t *)"", 0, &used);
}

static void header_done(struct kconn *c, struct kdir *d);

/* The frame ended (or the direction closed inside it): report the message. */
static void finish(struct kconn *c, struct kdir *d, uint64_t ts, bool truncated)
{
	struct kmsg *m = &d->msg;
	if (!truncated) {
		/* fields that need no more bytes (none left in this version) */
		if (d->state == KS_HEADER && walk_no_more(d) == KW_DONE)
			header_done(c, d);
		if (d->state == KS_BODY && walk_no_more(d) == KW_DONE)
			d->state = KS_SKIP;
		if (d->state == KS_HEADER || d->state == KS_BODY) {
			malformed(c);           /* the frame ended before its layout */
			m->body_bad = true;
		}
	}
	if (!m->have_fixed) {
		if (!m->accounted && truncated)
			count(c, "kafka.truncated", 1);
		else if (!m->accounted)
			malformed(c);
	} else if (d->dir == L7_DIR_TO_SERVER) {
		emit(c, d, ts, truncated);
		/* Produce with acks=0 gets no response. */
		bool answered = !(m->api_key == 0 && m->acks_zero && !m->body_bad);
		if (answered && !truncated)
			pending_add(c, d, ts);
	} else {
		emit(c, d, ts, truncated);
	}
	msg_reset(m);
	d->state = KS_SIZE;
	d->fix_len = 0;
	d->frame_left = 0;
}

/* --- framing ------------------------------------------------------------------ */

static void enter_resync(struct kconn *c, struct kdir *d)
{
	count(c, "kafka.desync", 1);
	if (!d->scan && !(d->scan = malloc(KAFKA_SCAN_MAX)))
		count(c, "kafka.oom", 1);       /* without a window every byte is skipped */
	msg_reset(&d->msg);
	d->state = KS_RESYNC;
	d->scan_len = 0;
	d->fix_len = 0;
	d->frame_left = 0;
}

static void start_walk(struct kdir *d, const struct kop *ops, size_t n, bool flexible)
{
	kwalk_init(&d->walk, ops, n, d->msg.api_version, flexible, d->frame_left, on_field, d);
}

/* Header done: walk the body if we know its layout, else skip it. */
static void header_done(struct kconn *c, struct kdir *d)
{
	struct kmsg *m = &d->msg;
	const struct kafka_api *api = kafka_api(m->api_key);
	bool request = d->dir == L7_DIR_TO_SERVER;
	d->state = KS_SKIP;
	if (!api || m->api_version < 0 || m->api_version > api->max_version) {
		if (request)
			count(c, "kafka.unknown_api", 1);
		return;
	}
	const struct kop *ops = request ? api->req : api->resp;
	size_t n = request ? api->n_req : api->n_resp;
	if (ops) {
		start_walk(d, ops, n, kafka_flexible(m->api_key, m->api_version));
		d->state = KS_BODY;
	}
}

/* The fixed header part is in d->fix: decide how to read the rest. */
static void fixed_done(struct kconn *c, struct kdir *d)
{
	struct kmsg *m = &d->msg;
	m->have_fixed = true;
	int hv;
	if (d->dir == L7_DIR_TO_SERVER) {
		m->api_key = rd16(d->fix);
		m->api_version = rd16(d->fix + 2);
		m->correlation_id = (int32_t)rd32(d->fix + 4);
		hv = kafka_request_header_version(m->api_key, m->api_version);
		if (hv == 0) {
			header_done(c, d);
		} else {
			/* unknown keys still have a client_id (header v1 and v2) */
			if (hv == 2)
				start_walk(d, hdr_req_v2, 2, false);
			else
				start_walk(d, hdr_req_v1, 1, false);
			d->state = KS_HEADER;
		}
		return;
	}
	m->correlation_id = (int32_t)rd32(d->fix);
	struct kpending *req = pending_find(c, m->correlation_id);
	if (!req) {
		count(c, "kafka.response_unmatched", 1);
		m->have_fixed = false;          /* nothing to report */
		m->accounted = true;
		d->state = KS_SKIP;
		return;
	}
	/* Take the request out of the map now: requests arriving meanwhile
	 * may need the slot. */
	m->req = *req;
	memset(req, 0, sizeof(*req));
	m->api_key = m->req.api_key;
	m->api_version = m->req.api_version;
	hv = kafka_response_header_version(m->api_key, m->api_version);
	if (hv == 1) {
		start_walk(d, hdr_resp_v1, 1, false);
		d->state = KS_HEADER;
	} else {
		header_done(c, d);
	}
}

static bool plausible_size(const struct kdir *d, uint32_t size)
{
	if (d->dir == L7_DIR_TO_SERVER)
		return size >= 8 && size <= KAFKA_MAX_REQUEST;
	return size >= 4 && size <= KAFKA_MAX_RESPONSE;
}

/* Does a frame start at b (n bytes available)? 1 yes, 0 no, -1 need more.
 * Requests: known api_key and version, non-negative correlation id, a
 * printable client_id that fits. Responses: a correlation id we wait for. */
static int frame_start(struct kconn *c, const struct kdir *d, const uint8_t *b, size_t n)
{
	if (n < 4)
		return -1;
	uint32_t size = rd32(b);
	if (!plausible_size(d, size))
		return 0;
	if (d->dir == L7_DIR_TO_CLIENT) {
		if (n < 8)
			return -1;
		return pending_find(c, (int32_t)rd32(b + 4)) != NULL;
	}
	if (n < 12)
		return -1;
	int16_t key = rd16(b + 4), ver = rd16(b + 6);
	const struct kafka_api *api = kafka_api(key);
	if (!api || ver < 0 || ver > api->max_version || (int32_t)rd32(b + 8) < 0)
		return 0;
	if (kafka_request_header_version(key, ver) == 0)
		return 1;
	if (n < 14)
		return -1;
	int16_t len = rd16(b + 12);
	if (len < -1 || len > KAFKA_NAME_MAX || (uint32_t)(len > 0 ? len : 0) + 10 > size)
		return 0;
	if (len > 0) {
		if (n < 14 + (size_t)len)
			return -1;
		for (int i = 0; i < len; i++)
			if (b[14 + i] < 0x20 || b[14 + i] > 0x7e)
				return 0;
	}
	return 1;
}

/* Framed mode: consume frames until the input ends or the framing is lost
 * (then the state is KS_RESYNC and the window holds the suspect bytes).
 * Returns the bytes consumed. */
static size_t frames(struct kconn *c, struct kdir *d, const uint8_t *p, size_t n, uint64_t ts)
{
	const uint8_t *start = p;
	for (;;) {
		if (d->state == KS_RESYNC)
			return (size_t)(p - start);
		if (d->state == KS_SIZE) {
			if (!n)
				break;
			size_t t = 4 - d->fix_len;
			if (t > n)
				t = n;
			memcpy(d->fix + d->fix_len, p, t);
			d->fix_len += (uint8_t)t;
			p += t;
			n -= t;
			if (d->fix_len < 4)
				break;
			uint32_t size = rd32(d->fix);
			d->fix_len = 0;
			if (!plausible_size(d, size)) {
				uint8_t head[4];
				memcpy(head, d->fix, 4);
				enter_resync(c, d);
				/* a frame may start inside the bad size bytes */
				if (d->scan) {
					memcpy(d->scan, head, 4);
					d->scan_len = 4;
				}
				continue;
			}
			d->frame_left = size;
			d->state = KS_FIXED;
			continue;
		}
		if (d->frame_left == 0) {
			finish(c, d, ts, false);
			continue;
		}
		if (!n)
			break;

		size_t chunk = n < d->frame_left ? n : (size_t)d->frame_left;
		size_t used = chunk;
		enum kwalk_status r = KW_MORE;
		switch (d->state) {
		case KS_FIXED: {
			size_t need = d->dir == L7_DIR_TO_SERVER ? 8 : 4;
			used = need - d->fix_len;
			if (used > chunk)
				used = chunk;
			memcpy(d->fix + d->fix_len, p, used);
			d->fix_len += (uint8_t)used;
			break;
		}
		case KS_HEADER:
		case KS_BODY:
			r = kwalk_feed(&d->walk, p, chunk, &used);
			break;
		default:
			break;
		}
		d->frame_left -= used;
		p += used;
		n -= used;

		if (d->state == KS_FIXED) {
			if (d->fix_len == (d->dir == L7_DIR_TO_SERVER ? 8 : 4))
				fixed_done(c, d);
		} else if (r == KW_ERROR) {
			malformed(c);
			d->msg.body_bad = true;
			d->state = KS_SKIP;
		} else if (r == KW_DONE) {
			if (d->state == KS_HEADER)
				header_done(c, d);
			else
				d->state = KS_SKIP;
		}
	}
	return (size_t)(p - start);
}

/* Scan the window for a frame start; the bytes from there on are framed
 * again. Loops, never recurses: bytes that lose the framing once more go
 * back into the window. */
static void feed(struct kconn *c, struct kdir *d, const uint8_t *p, size_t n, uint64_t ts)
{
	for (;;) {
		if (d->state != KS_RESYNC) {
			size_t u = frames(c, d, p, n, ts);
			p += u;
			n -= u;
			if (d->state != KS_RESYNC)
				return;
		}
		if (!d->scan) {
			count(c, "kafka.resync_skipped_bytes", n);
			return;
		}
		size_t take = KAFKA_SCAN_MAX - d->scan_len;
		if (take > n)
			take = n;
		memcpy(d->scan + d->scan_len, p, take);
		d->scan_len += take;
		p += take;
		n -= take;

		size_t i = 0;
		int r = 0;
		for (; i < d->scan_len; i++) {
			r = frame_start(c, d, d->scan + i, d->scan_len - i);
			if (r != 0)
				break;
		}
		count(c, "kafka.resync_skipped_bytes", i);
		if (r == 1) {
			/* joining mid-connection is not a resync */
			if (d->synced)
				count(c, "kafka.resync", 1);
			d->synced = true;
			uint8_t w[KAFKA_SCAN_MAX];
			size_t wl = d->scan_len - i;
			memcpy(w, d->scan + i, wl);
			d->scan_len = 0;
			d->state = KS_SIZE;
			size_t u = frames(c, d, w, wl, ts);
			if (u < wl) {           /* lost again: back into the window */
				memcpy(d->scan + d->scan_len, w + u, wl - u);
				d->scan_len += wl - u;
			}
			continue;
		}
		/* keep the undecided tail; a full window always decides at 0 */
		memmove(d->scan, d->scan + i, d->scan_len - i);
		d->scan_len -= i;
		if (!n)
			return;
	}
}

/* A gap of len bytes in one direction. */
static void gap(struct kconn *c, struct kdir *d, uint64_t len, uint64_t ts)
{
	if (!len)
		return;
	count(c, "kafka.gap_bytes", len);
	switch (d->state) {
	case KS_RESYNC:
		d->scan_len = 0;                /* the window is no longer contiguous */
		return;
	case KS_SIZE:                           /* the next frame's size is lost */
		enter_resync(c, d);
		return;
	default:
		break;
	}
	uint64_t inside = len < d->frame_left ? len : d->frame_left;
	if (d->state == KS_FIXED) {
		/* the header is lost: nothing certain to report */
		count(c, "kafka.gap_lost_message", 1);
		msg_reset(&d->msg);
		d->msg.accounted = true;
	} else if (d->state == KS_HEADER) {
		d->msg.client_id_set = false;   /* may be lost too */
	}
	d->msg.gap_bytes += inside;
	d->state = KS_SKIP;
	d->frame_left -= inside;
	len -= inside;
	if (d->frame_left == 0)
		finish(c, d, ts, false);
	if (len)
		enter_resync(c, d);
}

/* --- parser interface ------------------------------------------------------ */

static void kafka_destroy(void *state)
{
	struct kconn *c = state;
	if (!c)
		return;
	for (size_t i = 0; i < c->n_slots; i++)
		free(c->pending[i].topics);
	for (int i = 0; i < 2; i++) {
		free(c->d[i].msg.req.topics);
		free(c->d[i].topics);
		free(c->d[i].scan);
	}
	free(c->pending);
	free(c);
}

static void *kafka_create(const struct l7_conn_info *ci, const struct l7_config *cfg)
{
	struct kconn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->max_pending = cfg && cfg->max_pending ? cfg->max_pending : KAFKA_PENDING_DEFAULT;
	for (int i = 0; i < 2; i++) {
		c->d[i].conn = c;
		c->d[i].dir = (enum l7_dir)i;
		/* joined mid-connection: the first byte need not start a frame */
		c->d[i].synced = !(ci && ci->midstream);
		c->d[i].state = c->d[i].synced ? KS_SIZE : KS_RESYNC;
		if (!c->d[i].synced && !(c->d[i].scan = malloc(KAFKA_SCAN_MAX))) {
			kafka_destroy(c);
			return NULL;
		}
	}
	return c;
}

static void kafka_data(void *state, struct l7_ctx *ctx, enum l7_dir dir,
                       const uint8_t *p, size_t n, uint64_t ts_ns)
{
	struct kconn *c = state;
	c->ctx = ctx;
	feed(c, &c->d[dir], p, n, ts_ns);
	c->ctx = NULL;
}

static void kafka_gap(void *state, struct l7_ctx *ctx, enum l7_dir dir, uint64_t len,
                      uint64_t ts_ns)
{
	struct kconn *c = state;
	c->ctx = ctx;
	gap(c, &c->d[dir], len, ts_ns);
	c->ctx = NULL;
}

static void kafka_close(void *state, struct l7_ctx *ctx, enum l7_dir dir, uint64_t ts_ns)
{
	struct kconn *c = state;
	struct kdir *d = &c->d[dir];
	c->ctx = ctx;
	if (!d->closed) {
		d->closed = true;
		if (d->state != KS_SIZE && d->state != KS_RESYNC)
			finish(c, d, ts_ns, true);
		else if (d->state == KS_SIZE && d->fix_len)
			count(c, "kafka.truncated", 1);
		if (dir == L7_DIR_TO_CLIENT) {
			for (size_t i = 0; i < c->n_slots; i++) {
				if (c->pending[i].used) {
					count(c, "kafka.unanswered", 1);
					pending_release(&c->pending[i]);
				}
			}
		}
	}
	c->ctx = NULL;
}

static bool hint_port(uint16_t port)
{
	return port == 9092 || port == 9093 || port == 9094 || port == 29092;
}

/* Content detection: a request header that makes sense (size, known
 * api_key and version, correlation id, printable client_id); the whole
 * first frame decoding cleanly makes it certain. Responses alone are not
 * recognisable (4 bytes of correlation id). For a connection joined late
 * the data may start inside a message: a request header further in counts
 * too, and on a Kafka port a low score lets the port decide (the parser
 * then waits for a frame it can validate before reporting anything). */
static int kafka_probe(const uint8_t *data, size_t len, enum l7_dir dir,
                       const struct l7_conn_info *ci)
{
	bool port = ci && hint_port(ci->server_port);
	bool midstream = ci && ci->midstream;
	if (dir != L7_DIR_TO_SERVER)
		return midstream && port ? 5 : 0;
	struct kconn probe = { 0 };
	struct kdir *d = &probe.d[L7_DIR_TO_SERVER];
	d->conn = &probe;
	d->dir = L7_DIR_TO_SERVER;
	if (frame_start(&probe, d, data, len) != 1) {
		if (!midstream)
			return 0;
		for (size_t i = 1; i + 15 <= len; i++) {
			/* a header with a client_id of at least one character */
			if (rd16(data + i + 4) != 7 && (int16_t)rd16(data + i + 12) > 0 &&
			    frame_start(&probe, d, data + i, len - i) == 1)
				return port ? 70 : 50;
		}
		return port ? 5 : 0;
	}
	int score = port ? 80 : 60;
	uint32_t size = rd32(data);
	if (len >= 4 + (size_t)size) {
		/* the whole frame is here: it must decode without a complaint */
		probe.max_pending = 1;
		d->state = KS_SIZE;
		feed(&probe, d, data, 4 + (size_t)size, 0);
		bool clean = d->state == KS_SIZE && probe.n_malformed == 0;
		if (probe.n_slots)
			free(probe.pending[0].topics);
		free(probe.pending);
		free(d->topics);
		free(d->scan);
		if (!clean)
			return port ? 40 : 0;
		score = 95;
	}
	return score;
}

const struct l7_parser_ops l7_kafka_ops = {
	.name = "kafka",
	.proto = L7_PROTO_KAFKA,
	.probe = kafka_probe,
	.create = kafka_create,
	.destroy = kafka_destroy,
	.data = kafka_data,
	.gap = kafka_gap,
	.close = kafka_close,
};

/* A minimal l7_ctx for the parser fuzz targets (the fuzz build links lib/
 * and l7/ only, not the unit-test harness), and the driver they share: the
 * input is split into operations on one connection, so arbitrary splits of
 * the bytes in both directions, gaps and closes are all explored.
 *
 *   byte 0: bit 0 transport (0 TCP, 1 UDP), bit 1 mid-stream,
 *           bits 2-7 max_pending - 1 (so small bounds get hit)
 *   then repeated: op byte [bit 0 direction, bits 1-2: 0/1 data, 2 gap,
 *           3 close; bits 3-7: length selector], then for data that many
 *           bytes (selector 31: the rest of the input).
 * Every emitted event is checked (all strings readable) and freed. */
#ifndef FLOWD_FUZZ_L7_H
#define FLOWD_FUZZ_L7_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "l7.h"

struct fuzz_conn {
	struct l7_ctx ctx;
	struct l7_conn_info ci;
	bool switched;
	struct { uint8_t id[16]; char name[256]; } topics[4];   /* Kafka topic IDs */
	unsigned n_topics;
};

static volatile size_t fuzz_sink;

static void fuzz_str(const char *s)
{
	if (s)
		fuzz_sink += strlen(s);
}

static struct flow_event *fz_event_new(struct l7_ctx *ctx, enum l7_dir dir, uint64_t ts)
{
	struct fuzz_conn *c = ctx->owner;
	struct flow_event *ev = flow_event_new();
	if (!ev)
		return NULL;
	ev->time_ns = ts;
	ev->type = FE_TYPE_L7;
	ev->l7.type = dir == L7_DIR_TO_SERVER ? FE_L7_REQUEST : FE_L7_RESPONSE;
	ev->l4 = c->ci.transport == L7_UDP ? FE_L4_UDP : FE_L4_TCP;
	return ev;
}

static void fz_event_emit(struct l7_ctx *ctx, struct flow_event *ev)
{
	(void)ctx;
	const struct fe_l7 *l = &ev->l7;
	if (l->kind == FE_L7K_HTTP) {
		fuzz_str(l->http.method);
		fuzz_str(l->http.url);
		fuzz_str(l->http.protocol);
		for (size_t i = 0; i < l->http.n_headers; i++) {
			fuzz_str(l->http.headers[i].key);
			fuzz_str(l->http.headers[i].value);
		}
	} else if (l->kind == FE_L7K_DNS) {
		fuzz_str(l->dns.query);
		for (size_t i = 0; i < l->dns.n_ips; i++)
			fuzz_str(l->dns.ips[i]);
		for (size_t i = 0; i < l->dns.n_cnames; i++)
			fuzz_str(l->dns.cnames[i]);
		for (size_t i = 0; i < l->dns.n_qtypes; i++)
			fuzz_str(l->dns.qtypes[i]);
		for (size_t i = 0; i < l->dns.n_rrtypes; i++)
			fuzz_str(l->dns.rrtypes[i]);
	} else if (l->kind == FE_L7K_KAFKA) {
		fuzz_str(l->kafka.api_key);
		fuzz_str(l->kafka.topic);
		fuzz_str(l->kafka.client_id);
	} else {
		abort();   /* a parser must say what it filled */
	}
	flow_event_free(ev);
}

static int fz_switch(struct l7_ctx *ctx, enum l7_proto proto, enum l7_dir dir,
                     const uint8_t *rest, size_t rest_len, const struct l7_upgrade *up)
{
	(void)proto; (void)dir;
	for (size_t i = 0; i < rest_len; i++)
		fuzz_sink += rest[i];
	if (up) {   /* all readable */
		fuzz_str(up->method);
		fuzz_str(up->url);
		for (size_t i = 0; i < 2 * up->n_headers; i++)
			fuzz_str(up->headers[i]);
	}
	((struct fuzz_conn *)ctx->owner)->switched = true;
	return 0;
}

static void fz_cache_add(struct l7_ctx *ctx, const char *ip, const char *name, uint32_t ttl,
                         uint64_t ts)
{
	(void)ctx; (void)ttl; (void)ts;
	fuzz_str(ip);
	fuzz_str(name);
}

static void fz_count(struct l7_ctx *ctx, const char *name, uint64_t n)
{
	(void)ctx; (void)n;
	fuzz_str(name);
}

static void fz_topic_set(struct l7_ctx *ctx, const uint8_t id[16], const char *name)
{
	struct fuzz_conn *c = ctx->owner;
	unsigned i = c->n_topics++ % 4;
	memcpy(c->topics[i].id, id, 16);
	strncpy(c->topics[i].name, name, sizeof(c->topics[i].name) - 1);
	c->topics[i].name[sizeof(c->topics[i].name) - 1] = '\0';
}

static const char *fz_topic_get(struct l7_ctx *ctx, const uint8_t id[16])
{
	struct fuzz_conn *c = ctx->owner;
	for (unsigned i = 0; i < 4 && i < c->n_topics; i++)
		if (!memcmp(c->topics[i].id, id, 16))
			return c->topics[i].name;
	return NULL;
}

static const struct l7_ctx_ops fuzz_ctx_ops = {
	fz_event_new, fz_event_emit, fz_switch, fz_cache_add, fz_count, fz_topic_set, fz_topic_get,
};

static const size_t fuzz_lens[32] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16,
                                       20, 24, 32, 40, 48, 64, 100, 128, 200, 256, 512, 1000,
                                       1500, 4096, 65536, (size_t)-1 };

/* up: the parser starts as after a protocol switch asked by that request
 * (its upgraded op), or NULL. */
static inline int fuzz_l7_run_upgraded(const struct l7_parser_ops *ops, const uint8_t *data,
                                       size_t size, const struct l7_upgrade *up)
{
	if (size < 1)
		return 0;
	struct fuzz_conn c = { .ctx = { &fuzz_ctx_ops, NULL } };
	c.ctx.owner = &c;
	c.ci.transport = data[0] & 1 ? L7_UDP : L7_TCP;
	c.ci.midstream = data[0] & 2;
	c.ci.client_ip = "198.18.0.1";
	c.ci.server_ip = data[0] & 4 ? "2001:db8::2" : "198.18.0.2";
	c.ci.client_port = 40000;
	c.ci.server_port = data[0] & 8 ? 53 : 80;
	struct l7_config cfg = { .max_header_bytes = 2048, .max_pending = (size_t)(data[0] >> 4) + 1 };
	static const char *const redact[] = { "authorization", "cookie" };
	cfg.redact_headers = redact;
	cfg.n_redact_headers = 2;

	(void)ops->probe(data + 1, size - 1, L7_DIR_TO_SERVER, &c.ci);
	void *st = ops->create(&c.ci, &cfg);
	if (!st)
		return 0;
	if (up && ops->upgraded)
		ops->upgraded(st, up);
	size_t i = 1;
	uint64_t ts = 1000;
	bool closed[2] = { false, false };
	while (i < size && !c.switched) {
		uint8_t op = data[i++];
		enum l7_dir dir = op & 1 ? L7_DIR_TO_CLIENT : L7_DIR_TO_SERVER;
		size_t len = fuzz_lens[op >> 3];
		ts += 1000;
		switch ((op >> 1) & 3) {
		case 0:
		case 1:
			if (len > size - i)
				len = size - i;
			if (!closed[dir]) {
				/* a private copy, so reads past the segment are caught */
				uint8_t *seg = malloc(len ? len : 1);
				memcpy(seg, data + i, len);
				ops->data(st, &c.ctx, dir, seg, len, ts);
				free(seg);
			}
			i += len;
			break;
		case 2:
			if (!closed[dir])
				ops->gap(st, &c.ctx, dir, len == (size_t)-1 ? (1ull << 40) : len + 1, ts);
			break;
		case 3:
			if (!closed[dir])
				ops->close(st, &c.ctx, dir, ts);
			closed[dir] = true;
			break;
		}
	}
	if (!c.switched) {
		for (int d = 0; d < 2; d++)
			if (!closed[d])
				ops->close(st, &c.ctx, (enum l7_dir)d, ts + 1);
	}
	ops->destroy(st);
	return 0;
}

static inline int fuzz_l7_run(const struct l7_parser_ops *ops, const uint8_t *data, size_t size)
{
	return fuzz_l7_run_upgraded(ops, data, size, NULL);
}

#endif

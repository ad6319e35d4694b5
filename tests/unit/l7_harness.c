#include "l7_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct l7_harness *harness_of(struct l7_ctx *ctx)
{
	return ctx->owner;
}

static struct flow_event *h_event_new(struct l7_ctx *ctx, enum l7_dir dir, uint64_t ts_ns)
{
	struct l7_harness *h = harness_of(ctx);
	struct flow_event *ev = flow_event_new();
	if (!ev)
		return NULL;
	const bool to_server = dir == L7_DIR_TO_SERVER;
	ev->time_ns = ts_ns;
	ev->type = FE_TYPE_L7;
	ev->l7.type = to_server ? FE_L7_REQUEST : FE_L7_RESPONSE;
	ev->has_ip = true;
	ev->ip_version = strchr(h->ci.client_ip, ':') ? FE_IPV6 : FE_IPV4;
	strcpy(ev->ip_src, to_server ? h->ci.client_ip : h->ci.server_ip);
	strcpy(ev->ip_dst, to_server ? h->ci.server_ip : h->ci.client_ip);
	ev->l4 = h->ci.transport == L7_UDP ? FE_L4_UDP : FE_L4_TCP;
	ev->sport = to_server ? h->ci.client_port : h->ci.server_port;
	ev->dport = to_server ? h->ci.server_port : h->ci.client_port;
	ev->is_reply = !to_server;
	return ev;
}

static void h_event_emit(struct l7_ctx *ctx, struct flow_event *ev)
{
	struct l7_harness *h = harness_of(ctx);
	if (h->n_events < L7H_MAX_EVENTS)
		h->events[h->n_events++] = ev;
	else
		flow_event_free(ev);
}

static int h_switch(struct l7_ctx *ctx, enum l7_proto proto, enum l7_dir dir,
                    const uint8_t *rest, size_t rest_len, const struct l7_upgrade *up)
{
	(void)dir; (void)rest; (void)rest_len;
	struct l7_harness *h = harness_of(ctx);
	h->switched_to = proto;
	if (up) {
		h->upgrade.set = true;
		snprintf(h->upgrade.method, sizeof(h->upgrade.method), "%s", up->method);
		snprintf(h->upgrade.url, sizeof(h->upgrade.url), "%s", up->url ? up->url : "");
		h->upgrade.ts_ns = up->ts_ns;
		h->upgrade.n_headers = up->n_headers;
		for (size_t i = 0; i < up->n_headers && i < L7H_MAX_UP_HEADERS; i++)
			for (int k = 0; k < 2; k++)
				snprintf(h->upgrade.headers[i][k], sizeof(h->upgrade.headers[i][k]), "%s",
				         up->headers[2 * i + k]);
	}
	return 0;
}

static void h_dns_cache_add(struct l7_ctx *ctx, const char *ip, const char *name,
                            uint32_t ttl_s, uint64_t ts_ns)
{
	(void)ts_ns;
	struct l7_harness *h = harness_of(ctx);
	if (h->n_dns_cache_adds < L7H_MAX_COUNTERS) {
		snprintf(h->dns_cache[h->n_dns_cache_adds].ip, sizeof(h->dns_cache[0].ip), "%s", ip);
		snprintf(h->dns_cache[h->n_dns_cache_adds].name, sizeof(h->dns_cache[0].name), "%s", name);
		h->dns_cache[h->n_dns_cache_adds].ttl = ttl_s;
	}
	h->n_dns_cache_adds++;
}

static void h_count(struct l7_ctx *ctx, const char *name, uint64_t n)
{
	struct l7_harness *h = harness_of(ctx);
	for (size_t i = 0; i < h->n_counters; i++) {
		if (strcmp(h->counters[i].name, name) == 0) {
			h->counters[i].value += n;
			return;
		}
	}
	if (h->n_counters < L7H_MAX_COUNTERS) {
		h->counters[h->n_counters].name = name;
		h->counters[h->n_counters++].value = n;
	}
}

static void h_topic_set(struct l7_ctx *ctx, const uint8_t id[16], const char *name)
{
	struct l7_harness *h = harness_of(ctx);
	for (size_t i = 0; i < h->n_topics; i++) {
		if (memcmp(h->topics[i].id, id, 16) == 0) {
			snprintf(h->topics[i].name, sizeof(h->topics[i].name), "%s", name);
			return;
		}
	}
	if (h->n_topics < L7H_MAX_TOPICS) {
		memcpy(h->topics[h->n_topics].id, id, 16);
		snprintf(h->topics[h->n_topics++].name, sizeof(h->topics[0].name), "%s", name);
	}
}

static const char *h_topic_get(struct l7_ctx *ctx, const uint8_t id[16])
{
	struct l7_harness *h = harness_of(ctx);
	for (size_t i = 0; i < h->n_topics; i++)
		if (memcmp(h->topics[i].id, id, 16) == 0)
			return h->topics[i].name;
	return NULL;
}

static const struct l7_ctx_ops harness_ops = {
	.event_new = h_event_new,
	.event_emit = h_event_emit,
	.switch_protocol = h_switch,
	.dns_cache_add = h_dns_cache_add,
	.count = h_count,
	.kafka_topic_set = h_topic_set,
	.kafka_topic_get = h_topic_get,
};

void l7h_init(struct l7_harness *h, const struct l7_parser_ops *ops, enum l7_transport t,
              const char *client_ip, uint16_t client_port,
              const char *server_ip, uint16_t server_port)
{
	memset(h, 0, sizeof(*h));
	h->ctx.ops = &harness_ops;
	h->ctx.owner = h;
	h->ops = ops;
	h->ci.transport = t;
	h->ci.client_ip = client_ip;
	h->ci.server_ip = server_ip;
	h->ci.client_port = client_port;
	h->ci.server_port = server_port;
	h->cfg.max_header_bytes = 64 * 1024;
	h->cfg.max_pending = 64;
	h->state = ops->create(&h->ci, &h->cfg);
}

void l7h_feed(struct l7_harness *h, enum l7_dir dir, const void *data, size_t n, uint64_t ts_ns)
{
	h->ops->data(h->state, &h->ctx, dir, data, n, ts_ns);
}

void l7h_gap(struct l7_harness *h, enum l7_dir dir, uint64_t len, uint64_t ts_ns)
{
	h->ops->gap(h->state, &h->ctx, dir, len, ts_ns);
}

void l7h_close(struct l7_harness *h, enum l7_dir dir, uint64_t ts_ns)
{
	h->ops->close(h->state, &h->ctx, dir, ts_ns);
}

uint64_t l7h_counter(const struct l7_harness *h, const char *name)
{
	for (size_t i = 0; i < h->n_counters; i++)
		if (strcmp(h->counters[i].name, name) == 0)
			return h->counters[i].value;
	return 0;
}

const char *l7h_http_header(const struct flow_event *ev, const char *key)
{
	if (ev->l7.kind != FE_L7K_HTTP)
		return NULL;
	for (size_t i = 0; i < ev->l7.http.n_headers; i++)
		if (strcmp(ev->l7.http.headers[i].key, key) == 0)
			return ev->l7.http.headers[i].value;
	return NULL;
}

void l7h_free(struct l7_harness *h)
{
	if (h->state)
		h->ops->destroy(h->state);
	for (size_t i = 0; i < h->n_events; i++)
		flow_event_free(h->events[i]);
	h->n_events = 0;
	h->state = NULL;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The one interface every protocol parser in l7/ implements (one protocol per
 * file: http1.c, dns.c, http2.c, kafka.c), and the services the pipeline
 * offers to parsers.
 *
 * A parser sees one connection (TCP) or one UDP 5-tuple ("conversation").
 * TCP data arrives reassembled and in order, per direction; holes arrive as
 * gap() calls. UDP arrives one datagram per data() call. The parser never
 * sees packets, sequence numbers or timeouts.
 *
 * Parsers report transactions as events: l7_event_new() returns a flow event
 * whose IP/L4/endpoint fields are already filled for the given direction; the
 * parser fills ev->l7 (and ev->l7_info) with strings from the event's arena
 * (fe_strdup etc.) and hands it to l7_event_emit(). The pipeline sets the
 * Summary, names, verdict and writes it out. Requests use the
 * client-to-server direction, responses server-to-client.
 *
 * Errors are returned, never printed; anything a parser skips or cannot
 * decode is counted with l7_count().
 */
#ifndef FLOWD_L7_H
#define FLOWD_L7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_event.h"

enum l7_dir {
	L7_DIR_TO_SERVER = 0,   /* client -> server: requests */
	L7_DIR_TO_CLIENT = 1,   /* server -> client: responses */
};

enum l7_proto {
	L7_PROTO_NONE = 0,
	L7_PROTO_HTTP1,
	L7_PROTO_HTTP2,
	L7_PROTO_DNS,
	L7_PROTO_KAFKA,
	L7_PROTO_MAX
};

enum l7_transport { L7_TCP = 6, L7_UDP = 17 };

/* The HTTP/1.x request that switched the connection to another protocol.
 * For "Upgrade: h2c" it is the request of HTTP/2 stream 1 (RFC 9113 §3.2 /
 * RFC 7540 §3.2): its answer comes on that stream. Strings NUL-terminated. */
struct l7_upgrade {
	const char *method;            /* as sent */
	const char *url;               /* as its request event reported it; NULL if none */
	uint64_t ts_ns;                /* the request's time (its first byte) */
	const char *const *headers;    /* name, value, name, value, ...: its fields as sent */
	size_t n_headers;              /* pairs in headers */
};

/* What a parser knows about its connection. Addresses are strings as they
 * appear in events; ports in host order. "client" is the side that sent the
 * SYN (or the side the pipeline decided is the client, see pipeline.c). */
struct l7_conn_info {
	enum l7_transport transport;
	const char *client_ip, *server_ip;
	uint16_t client_port, server_port;
	bool midstream;          /* capture/attach started after the connection did */
};

/* Configuration parsers read (owned by the pipeline). */
struct l7_config {
	const char *const *redact_headers;   /* header names whose values become HUBBLE_REDACTED */
	size_t n_redact_headers;
	size_t max_header_bytes;             /* per message; beyond: truncated + counted */
	size_t max_pending;                  /* unanswered requests kept per connection */
	bool no_headers;                     /* nobody reads l7.http.headers: not built */
};

struct l7_ctx;

struct l7_parser_ops {
	const char *name;                    /* "http", "http2", "dns", "kafka" */
	enum l7_proto proto;
	/* Content detection on the first bytes of one direction. Returns a
	 * confidence 0 (not this protocol) .. 100 (certain). ports are hints. */
	int (*probe)(const uint8_t *data, size_t len, enum l7_dir dir,
	             const struct l7_conn_info *ci);
	/* Per-connection state; NULL on allocation failure. */
	void *(*create)(const struct l7_conn_info *ci, const struct l7_config *cfg);
	void (*destroy)(void *state);
	/* In-order bytes of one direction (TCP), or one whole datagram (UDP).
	 * ts_ns: capture time of the packet that carried the last byte. */
	void (*data)(void *state, struct l7_ctx *ctx, enum l7_dir dir,
	             const uint8_t *p, size_t n, uint64_t ts_ns);
	/* len bytes of this direction were lost (TCP only). */
	void (*gap)(void *state, struct l7_ctx *ctx, enum l7_dir dir,
	            uint64_t len, uint64_t ts_ns);
	/* This direction ended (FIN, RST, timeout or end of capture):
	 * complete or flush what is pending. */
	void (*close)(void *state, struct l7_ctx *ctx, enum l7_dir dir,
	              uint64_t ts_ns);
	/* Optional. The connection was handed to this parser by the request up
	 * (l7_switch_protocol_upgrade): called right after create(), before
	 * any data; up is valid during the call only. */
	void (*upgraded)(void *state, const struct l7_upgrade *up);
};

/* Registered parsers (l7/registry.c): each parser file defines its ops as
 * l7_http1_ops, l7_http2_ops, l7_dns_ops, l7_kafka_ops. NULL when a parser
 * is not linked in. */
const struct l7_parser_ops *l7_parser_by_proto(enum l7_proto proto);

/* --- services for parsers ------------------------------------------------
 *
 * The pipeline (or a unit-test harness) implements these; parsers call them
 * through the inline wrappers below. A ctx is valid only during the parser
 * call it was passed to.
 */
struct l7_ctx_ops {
	struct flow_event *(*event_new)(struct l7_ctx *ctx, enum l7_dir dir, uint64_t ts_ns);
	void (*event_emit)(struct l7_ctx *ctx, struct flow_event *ev);
	int (*switch_protocol)(struct l7_ctx *ctx, enum l7_proto proto, enum l7_dir dir,
	                       const uint8_t *rest, size_t rest_len, const struct l7_upgrade *up);
	void (*dns_cache_add)(struct l7_ctx *ctx, const char *ip, const char *name,
	                      uint32_t ttl_s, uint64_t ts_ns);
	void (*count)(struct l7_ctx *ctx, const char *name, uint64_t n);
	/* Kafka topic IDs (Fetch v13+) learnt from Metadata responses, shared
	 * by all connections of the pipeline. get returns NULL when unknown. */
	void (*kafka_topic_set)(struct l7_ctx *ctx, const uint8_t id[16], const char *name);
	const char *(*kafka_topic_get)(struct l7_ctx *ctx, const uint8_t id[16]);
};

struct l7_ctx {
	const struct l7_ctx_ops *ops;
	void *owner;   /* the pipeline's (or harness's) connection object */
};

/* A new L7 event for this connection in direction dir (request: TO_SERVER,
 * response: TO_CLIENT), timestamped ts_ns, with ev->type = FE_TYPE_L7,
 * ev->l7.type set from dir, IP/L4/endpoints filled. NULL on OOM (counted). */
static inline struct flow_event *l7_event_new(struct l7_ctx *ctx, enum l7_dir dir, uint64_t ts_ns)
{
	return ctx->ops->event_new(ctx, dir, ts_ns);
}

/* Hand the event over; the pipeline owns and frees it. */
static inline void l7_event_emit(struct l7_ctx *ctx, struct flow_event *ev)
{
	ctx->ops->event_emit(ctx, ev);
}

/* Hand the rest of the connection to another parser (HTTP Upgrade: h2c,
 * ...). `rest` holds bytes of direction dir already read past the switch
 * point; they are fed to the new parser first. The current parser's state is
 * destroyed after its call returns: it must not touch ctx afterwards.
 * Returns 0, or -1 if the protocol has no parser. */
static inline int l7_switch_protocol(struct l7_ctx *ctx, enum l7_proto proto, enum l7_dir dir,
                                     const uint8_t *rest, size_t rest_len)
{
	return ctx->ops->switch_protocol(ctx, proto, dir, rest, rest_len, NULL);
}

/* The same, handing the new parser the request that asked for the switch
 * (copied: up need only be valid during this call): the new parser's
 * upgraded() gets it. */
static inline int l7_switch_protocol_upgrade(struct l7_ctx *ctx, enum l7_proto proto,
                                             enum l7_dir dir, const uint8_t *rest,
                                             size_t rest_len, const struct l7_upgrade *up)
{
	return ctx->ops->switch_protocol(ctx, proto, dir, rest, rest_len, up);
}

/* DNS answers feed the IP -> name cache (TTL-bound, size-bound). name
 * without trailing dot. */
static inline void l7_dns_cache_add(struct l7_ctx *ctx, const char *ip, const char *name,
                                    uint32_t ttl_s, uint64_t ts_ns)
{
	ctx->ops->dns_cache_add(ctx, ip, name, ttl_s, ts_ns);
}

/* Per-parser counters (desyncs, malformed messages, drops by a bound...),
 * reported by name in the pipeline stats. name: a string literal such as
 * "http.parse_error". */
static inline void l7_count(struct l7_ctx *ctx, const char *name, uint64_t n)
{
	ctx->ops->count(ctx, name, n);
}

static inline void l7_kafka_topic_set(struct l7_ctx *ctx, const uint8_t id[16], const char *name)
{
	ctx->ops->kafka_topic_set(ctx, id, name);
}

static inline const char *l7_kafka_topic_get(struct l7_ctx *ctx, const uint8_t id[16])
{
	return ctx->ops->kafka_topic_get(ctx, id);
}

#endif /* FLOWD_L7_H */

/* A stand-in for the pipeline so each l7/ parser can be tested on its own:
 * feed bytes per direction, collect the events it emits. */
#ifndef FLOWD_L7_HARNESS_H
#define FLOWD_L7_HARNESS_H

#include "l7.h"

#define L7H_MAX_EVENTS 4096
#define L7H_MAX_COUNTERS 64
#define L7H_MAX_TOPICS 64

struct l7_harness {
	struct l7_ctx ctx;
	const struct l7_parser_ops *ops;
	void *state;
	struct l7_conn_info ci;
	struct l7_config cfg;
	struct flow_event *events[L7H_MAX_EVENTS];
	size_t n_events;
	struct { const char *name; uint64_t value; } counters[L7H_MAX_COUNTERS];
	size_t n_counters;
	struct { uint8_t id[16]; char name[256]; } topics[L7H_MAX_TOPICS];
	size_t n_topics;
	size_t n_dns_cache_adds;
	struct { char ip[64]; char name[256]; uint32_t ttl; } dns_cache[L7H_MAX_COUNTERS];   /* first adds */
	enum l7_proto switched_to;     /* set by l7_switch_protocol */
	struct {                       /* the request l7_switch_protocol_upgrade passed */
		bool set;
		char method[32], url[512];
		uint64_t ts_ns;
		size_t n_headers;          /* pairs passed (the first L7H_MAX_UP_HEADERS kept) */
		char headers[16][2][256];
	} upgrade;
};
#define L7H_MAX_UP_HEADERS 16

/* transport: L7_TCP / L7_UDP; addresses as strings. */
void l7h_init(struct l7_harness *h, const struct l7_parser_ops *ops, enum l7_transport t,
              const char *client_ip, uint16_t client_port,
              const char *server_ip, uint16_t server_port);
void l7h_feed(struct l7_harness *h, enum l7_dir dir, const void *data, size_t n, uint64_t ts_ns);
void l7h_gap(struct l7_harness *h, enum l7_dir dir, uint64_t len, uint64_t ts_ns);
void l7h_close(struct l7_harness *h, enum l7_dir dir, uint64_t ts_ns);
uint64_t l7h_counter(const struct l7_harness *h, const char *name);
/* Header value of an HTTP event by key (case-sensitive), or NULL. */
const char *l7h_http_header(const struct flow_event *ev, const char *key);
void l7h_free(struct l7_harness *h);

#endif

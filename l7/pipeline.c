/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The packet-to-events pipeline (see pipeline.h):
 *
 *   packet -> connection table -> directional flow records (L3/L4 events)
 *          -> TCP reassembly per direction (tcp_reasm.c) / UDP datagrams
 *          -> protocol detection by content -> parser (l7/<proto>.c)
 *          -> events (uuid, names, Summary) -> sink
 *
 * Connections. A connection is one bidirectional 5-tuple (plus VLAN); it
 * holds the two directional flow records, which start, update and end like
 * the BPF datapath's (idle and active timeouts, in capture time), the two
 * reassembly streams and the parser. Side 0 is the source of the first
 * packet seen. The table is bounded (max_flows connections); packets of new
 * connections beyond it are counted and not tracked.
 *
 * Client and server. The sender of a SYN (without ACK) is the client; the
 * sender of a SYN-ACK is the server. Without a handshake (capture started
 * mid-connection, UDP) the first guess is: the side whose port is a
 * well-known port of a parser we have is the server; else the side with a
 * port below 1024 while the other's is not; else the destination of the
 * first packet. Protocol detection then probes both orientations and the
 * content decides (a DNS response or an HTTP status line is sent by the
 * server), unless a handshake made it certain.
 *
 * Detection. The first bytes of each direction are offered to every
 * registered parser's probe(). A score >= 50 is accepted on content alone;
 * a lower non-zero score only when the server port is one of that parser's
 * hint ports. Bytes that no parser accepts are kept (up to DET_BUF per
 * direction, each segment start a candidate message boundary) and probed
 * again as more arrive; beyond DET_GIVE_UP bytes without a match the
 * connection is left to L3/L4 (counted). UDP: up to UDP_PROBES datagrams.
 *
 * IP fragments. Every fragment counts in its flow (later ones by the first
 * one's ports, frag_ports()). UDP fragments of connections whose L7 is on
 * or being detected are reassembled (ip_reasm.c), and the whole datagram
 * goes through udp_input() like any other, at the time of the fragment that
 * completed it; a connection without L7 keeps none of their bytes.
 */
#include "pipeline.h"

#include "dns_cache.h"
#include "flow_l34.h"
#include "identity.h"
#include "policy_bpf.h"
#include "policy_event.h"
#include "ip_reasm.h"
#include "l7.h"
#include "tcp_reasm.h"
#include "hash_mix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ACCEPT_SCORE 50
#define DET_BUF 2048           /* bytes kept per direction while detecting */
#define DET_CHUNKS 8           /* candidate message starts kept per direction */
#define DET_GIVE_UP (16 * 1024)/* undetected bytes per connection before giving up */
#define UDP_PROBES 8           /* undetected datagrams before giving up */
#define MAX_PARSER_COUNTERS 128
#define KAFKA_TOPICS_MAX 4096
#define NAMES_MAX 8

/* ---------------------------------------------------------------------------
 * Intrusive lists */
struct list {
	struct list *prev, *next;
};

static void list_init(struct list *h) { h->prev = h->next = h; }
static bool list_empty(const struct list *h) { return h->next == h; }
static void list_del(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}
static void list_add_tail(struct list *h, struct list *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* ---------------------------------------------------------------------------
 * Connections */

struct conn_key {
	uint8_t addr[2][16];
	uint16_t port[2];
	uint16_t vlan;
	uint8_t family;
	uint8_t proto;
};

/* One directional flow: the L3/L4 record, as the datapath keeps it. */
struct dflow {
	struct flow_key key;
	struct flow_rec rec;
	struct conn *conn;
	uint8_t side;
	bool live;
	uint64_t touch_ns;     /* monotonic time of the last packet: idle expiry */
	uint64_t report_ns;    /* time of the last start/update event: active expiry */
	struct list idle_link, active_link;
};

enum l7_state { L7S_DETECT = 0, L7S_ATTACHED, L7S_OFF };
enum client_how { CLIENT_GUESS = 0, CLIENT_CONTENT, CLIENT_HANDSHAKE };

struct det_side {
	uint8_t buf[DET_BUF];
	uint32_t len;
	uint32_t start[DET_CHUNKS];
	uint64_t ts[DET_CHUNKS];
	uint32_t n;
	uint32_t dropped;      /* bytes dropped from the front (unattached gap) */
};

struct detect {
	struct det_side s[2];
};

struct pending_switch {
	const struct l7_parser_ops *ops;
	enum l7_dir dir;
	uint8_t *rest;
	size_t rest_len;
	struct l7_upgrade *up;   /* copy of the switching request, in this allocation */
};

struct conn {
	struct conn *hnext;
	struct pipeline *p;
	struct conn_key key;
	uint32_t hash;
	struct dflow df[2];
	char ip[2][INET6_ADDRSTRLEN];

	uint8_t client;          /* side index of the client */
	uint8_t client_how;      /* enum client_how */
	bool midstream;

	/* TCP */
	struct tcp_reasm rs[2];
	bool syn_seen[2];
	uint32_t isn[2];
	bool fin_closed[2];      /* parser close() done for this side */

	/* L7 */
	uint8_t l7;              /* enum l7_state */
	const struct l7_parser_ops *ops;
	void *pstate;
	struct l7_conn_info ci;
	struct l7_ctx ctx;
	struct detect *det;
	uint32_t det_bytes;      /* undetected bytes seen */
	uint32_t udp_probes;
	struct pending_switch *sw;

	uint32_t ifindex;        /* where the last packet was seen */
	const char *ifname;
	uint8_t hook_dir;
};

/* ---------------------------------------------------------------------------
 * Counters */

struct pl_counters {
	uint64_t packets, bytes;
	uint64_t not_ip, l4_unknown, parse_errors;
	uint64_t parse_error[PKT_STATUS_MAX];
	uint64_t table_full;          /* packets of connections not tracked */
	uint64_t frag_unattributed;   /* later fragments whose first we did not see */
	uint64_t conns_created, conns_active;
	uint64_t flows_started, flows_updated, flows_ended;
	uint64_t tcp_syn_reuse, tcp_rst, tcp_midstream, tcp_after_close_bytes;
	uint64_t udp_datagrams, udp_truncated, udp_fragmented;
	uint64_t udp_reassembled, udp_reassembled_untracked;
	uint64_t det_attached[L7_PROTO_MAX];
	uint64_t det_by_port_hint, det_discarded_bytes, det_gave_up, det_oom;
	uint64_t events, events_l34, events_l7, events_oom, events_unwanted;
	uint64_t parser_oom, switches, switch_failed;
	uint64_t kafka_topics_dropped;
	uint64_t clock_backwards;
};

struct parser_counter {
	const char *name;
	uint64_t value;
};

struct kafka_topic {
	uint8_t id[16];
	char *name;
};

struct frag_slot {
	uint8_t saddr[16], daddr[16];
	uint32_t id;
	uint8_t proto, family, used;
	uint16_t sport, dport;
};
#define FRAG_SLOTS 1024

struct pipeline {
	struct pipeline_config cfg;
	char *node_name;
	char **redact;
	struct l7_config l7cfg;
	pipeline_sink_fn sink;
	void *user;

	struct conn **buckets;
	size_t mask;
	size_t max_buckets;           /* the table grows up to this (from max_flows) */
	size_t n_conns;
	struct list idle, active;     /* dflows by touch_ns / report_ns */

	uint64_t now_ns;              /* highest time seen (monotonic) */
	uint64_t seq;                 /* events emitted: uuid sequence */

	struct tcp_reasm_pool pool;
	struct dns_cache *dns;
	bool dns_borrowed;            /* pipeline_config.dns_cache */
	const struct l7_parser_ops *parsers[L7_PROTO_MAX];

	struct parser_counter pc[MAX_PARSER_COUNTERS];
	size_t n_pc;
	uint64_t pc_dropped;

	struct kafka_topic *topics;
	size_t n_topics;

	struct frag_slot frags[FRAG_SLOTS];
	struct ip_reasm *reasm;       /* UDP datagrams of L7 connections */

	struct conn_slab *slabs;      /* connections are carved from these */
	size_t slab_used;             /* connections handed out of slabs (the newest one) */
	struct conn *conn_free;       /* released connections, by hnext */

	struct pl_counters c;
	char error_names[PKT_STATUS_MAX][48];   /* "packets.error.<pkt_status_name>" */
};

void pipeline_config_defaults(struct pipeline_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->emit_l34 = true;
	cfg->idle_timeout_ns = 15ull * 1000000000ull;
	cfg->active_timeout_ns = 60ull * 1000000000ull;
	cfg->max_flows = 262144;
	cfg->max_conn_buffer = 1u << 20;
	cfg->max_total_buffer = 64u << 20;
	cfg->dns_cache_size = 65536;
	cfg->dns_min_ttl_s = 3600;
	cfg->max_header_bytes = 64 * 1024;
	cfg->max_pending = 64;
}

/* ---------------------------------------------------------------------------
 * Events */

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* x as 8 lower-case hex digits, without a table or a loop: each nibble
 * spread to its own byte, then '0' or 'a' - 10 added to all eight at once. */
static inline void hex8(uint32_t x, char out[8])
{
	uint64_t v = x;
	v = (v | v << 16) & 0x0000ffff0000ffffull;
	v = (v | v << 8) & 0x00ff00ff00ff00ffull;
	v = (v | v << 4) & 0x0f0f0f0f0f0f0f0full;
	uint64_t letter = ((v + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull;
	v += 0x3030303030303030ull + letter * ('a' - '0' - 10);
	v = __builtin_bswap64(v);   /* the most significant nibble first */
	memcpy(out, &v, 8);
}

/* UUID version 4 layout, derived from the seed and the event's sequence
 * number instead of randomness: the same input gives the same uuids.
 * Every event has one: written 8 digits at a time. */
static void make_uuid(char out[37], uint64_t seed, uint64_t seq)
{
	uint64_t hi = splitmix64(seed ^ splitmix64(seq));
	uint64_t lo = splitmix64(hi ^ seq);
	hi = (hi & ~0xf000ull) | 0x4000ull;                   /* version 4 */
	lo = (lo & ~(0xc0ull << 56)) | (0x80ull << 56);       /* variant 1 */
	char t[8];
	hex8((uint32_t)(hi >> 32), out);
	out[8] = '-';
	hex8((uint32_t)hi, t);
	memcpy(out + 9, t, 4);
	out[13] = '-';
	memcpy(out + 14, t + 4, 4);
	out[18] = '-';
	hex8((uint32_t)(lo >> 32), t);
	memcpy(out + 19, t, 4);
	out[23] = '-';
	memcpy(out + 24, t + 4, 4);
	hex8((uint32_t)lo, out + 28);
	out[36] = '\0';
}

/* Names of the event's addresses: by the connection's binary addresses when
 * the event carries them (always, unless a parser rewrote them). */
static size_t lookup_names(struct pipeline *p, const struct conn *c, const char *ip,
                           uint64_t ts, const char **names)
{
	for (int side = 0; c && side < 2; side++)
		if (strcmp(ip, c->ip[side]) == 0)
			return dns_cache_lookup_addr(p->dns, c->key.family, c->key.addr[side], ts,
			                             names, NAMES_MAX);
	return dns_cache_lookup(p->dns, ip, ts, names, NAMES_MAX);
}

static void set_names(struct pipeline *p, const struct conn *c, struct flow_event *ev)
{
	const char *names[NAMES_MAX];
	size_t n = lookup_names(p, c, ev->ip_src, ev->time_ns, names);
	if (n && (ev->source_names = fe_strv(ev, names, n)))
		ev->n_source_names = n;
	n = lookup_names(p, c, ev->ip_dst, ev->time_ns, names);
	if (n && (ev->destination_names = fe_strv(ev, names, n)))
		ev->n_destination_names = n;
}

/* Endpoints and policy verdict (pipeline_config.identities/policy).
 * policy_verdict: make ev its connection's policy-verdict event; false
 * when there is none. */
static bool enrich(struct pipeline *p, struct flow_event *ev, bool policy_verdict)
{
	int rc = 0;
	if (p->cfg.identities)
		rc = identity_fill_event(p->cfg.identities, ev);
	if (!p->cfg.policy || rc)
		goto out;
	if (ev->type == FE_TYPE_L7) {
		rc = policy_label_l7(p->cfg.policy, ev);
	} else if (ev->type == FE_TYPE_L3_L4) {
		struct policy_result r;
		if (policy_result_for_event(p->cfg.policy, ev, &r) != 0)
			return !policy_verdict;
		if (!policy_verdict)
			rc = policy_label_flow(&r, ev);
		else if (r.flags & (POLICY_RES_REPLY | POLICY_RES_EXEMPT))
			return false;
		else
			rc = policy_verdict_event(p->cfg.policy, &r, ev);
	}
out:
	if (rc == -ENOMEM)
		p->c.events_oom++;
	return true;
}

/* Every event leaves through here: uuid, names, endpoints and policy, the
 * early filter, Summary, then the sink. */
static void emit_ex(struct pipeline *p, const struct conn *c, struct flow_event *ev,
                    bool policy_verdict)
{
	if (p->cfg.no_uuid)
		p->seq++;
	else
		make_uuid(ev->uuid, p->cfg.uuid_seed, p->seq++);
	if (ev->verdict == FE_VERDICT_UNKNOWN)
		ev->verdict = FE_FORWARDED;
	if (ev->has_ip && !p->cfg.no_names && dns_cache_has_entries(p->dns))
		set_names(p, c, ev);
	if (!enrich(p, ev, policy_verdict)) {
		flow_event_free(ev);
		return;
	}
	if (p->cfg.want && !p->cfg.want(p->user, ev)) {
		p->c.events_unwanted++;
		flow_event_free(ev);
		return;
	}
	/* L3/L4 events come with theirs (flow_l34_event; enrichment changes
	 * nothing it says) */
	if (!ev->summary && !p->cfg.no_summary)
		fe_set_summary(ev);
	p->c.events++;
	if (ev->type == FE_TYPE_L7)
		p->c.events_l7++;
	else
		p->c.events_l34++;
	p->sink(p->user, ev);
}

static void emit(struct pipeline *p, const struct conn *c, struct flow_event *ev)
{
	emit_ex(p, c, ev, false);
}

static void fill_common(struct pipeline *p, struct conn *c, struct flow_event *ev, int src)
{
	ev->has_ip = true;
	ev->ip_version = c->key.family == 6 ? FE_IPV6 : FE_IPV4;
	memcpy(ev->ip_src, c->ip[src], sizeof(ev->ip_src));
	memcpy(ev->ip_dst, c->ip[1 - src], sizeof(ev->ip_dst));
	ev->sport = c->key.port[src];
	ev->dport = c->key.port[1 - src];
	switch (c->key.proto) {
	case IPPROTO_TCP: ev->l4 = FE_L4_TCP; break;
	case IPPROTO_UDP: ev->l4 = FE_L4_UDP; break;
	case IPPROTO_SCTP: ev->l4 = FE_L4_SCTP; break;
	case IPPROTO_ICMP: ev->l4 = FE_L4_ICMPV4; break;
	case IPPROTO_ICMPV6: ev->l4 = FE_L4_ICMPV6; break;
	default: ev->l4 = FE_L4_NONE; break;
	}
	if (p->node_name)
		ev->node_name = fe_strdup(ev, p->node_name);
	if (c->ifindex || c->ifname) {
		ev->ifindex = c->ifindex;
		ev->ifname = c->ifname ? fe_strdup(ev, c->ifname) : NULL;
	}
}

/* L3/L4 flow event for one directional flow: lib/flow_l34.c, the same
 * function flowd uses for the BPF records. */
static void emit_l34(struct pipeline *p, struct conn *c, int side,
                     enum fe_stats_event what, uint64_t ts)
{
	(void)ts;   /* flow_l34 times the event with the flow's packets */
	if (!p->cfg.emit_l34)
		return;
	if (p->cfg.l34_unwanted) {
		p->seq++;
		p->c.events_unwanted++;
		return;
	}
	struct dflow *d = &c->df[side];
	struct flow_event *ev = flow_event_new();
	if (!ev) {
		p->c.events_oom++;
		return;
	}
	const struct flow_l34_opts opts = { .node_name = p->node_name, .ifname = c->ifname };
	const struct flow_rec *rev = c->df[1 - side].live ? &c->df[1 - side].rec : NULL;
	if (flow_l34_event(ev, what, &d->key, &d->rec, rev, &opts) < 0) {
		flow_event_free(ev);
		p->c.events_oom++;
		return;
	}
	/* a policy decides a connection once, on its opening direction (as
	 * the datapath does): the policy-verdict event comes first */
	if (p->cfg.policy && what == FE_STATS_START && ev->is_reply != 1 &&
	    !(d->key.proto == IPPROTO_ICMPV6 && policy_icmp6_exempt((uint8_t)(d->key.dport >> 8)))) {
		struct flow_event *pv = flow_event_new();
		if (pv && flow_l34_event(pv, what, &d->key, &d->rec, rev, &opts) == 0) {
			emit_ex(p, c, pv, true);
		} else {
			flow_event_free(pv);
			p->c.events_oom++;
		}
	}
	emit(p, c, ev);
}

/* ---------------------------------------------------------------------------
 * Services for parsers (struct l7_ctx_ops) */

static int side_of_dir(const struct conn *c, enum l7_dir dir)
{
	return dir == L7_DIR_TO_SERVER ? c->client : 1 - c->client;
}

static enum l7_dir dir_of_side(const struct conn *c, int side)
{
	return side == c->client ? L7_DIR_TO_SERVER : L7_DIR_TO_CLIENT;
}

static struct flow_event *ctx_event_new(struct l7_ctx *ctx, enum l7_dir dir, uint64_t ts)
{
	struct conn *c = ctx->owner;
	struct flow_event *ev = flow_event_new();
	if (!ev) {
		c->p->c.events_oom++;
		return NULL;
	}
	fill_common(c->p, c, ev, side_of_dir(c, dir));
	ev->time_ns = ts;
	ev->type = FE_TYPE_L7;
	ev->event_type = 129;
	ev->l7.type = dir == L7_DIR_TO_SERVER ? FE_L7_REQUEST : FE_L7_RESPONSE;
	ev->is_reply = dir == L7_DIR_TO_CLIENT;
	ev->reply = dir == L7_DIR_TO_CLIENT;
	return ev;
}

static void ctx_event_emit(struct l7_ctx *ctx, struct flow_event *ev)
{
	struct conn *c = ctx->owner;
	if (ev)
		emit(c->p, c, ev);
}

/* Bytes for a copy of up: the struct, the header pointers, the strings. */
static size_t upgrade_size(const struct l7_upgrade *up)
{
	size_t n = sizeof(*up) + 2 * up->n_headers * sizeof(char *);
	n += strlen(up->method ? up->method : "") + 1 + (up->url ? strlen(up->url) + 1 : 0);
	for (size_t i = 0; i < 2 * up->n_headers; i++)
		n += strlen(up->headers[i]) + 1;
	return n;
}

static struct l7_upgrade *upgrade_copy(const struct l7_upgrade *up, void *mem)
{
	struct l7_upgrade *cp = mem;
	const char **h = (const char **)(cp + 1);
	char *str = (char *)(h + 2 * up->n_headers);
	*cp = *up;
	cp->method = str;
	str = stpcpy(str, up->method ? up->method : "") + 1;
	if (up->url) {
		cp->url = str;
		str = stpcpy(str, up->url) + 1;
	}
	for (size_t i = 0; i < 2 * up->n_headers; i++) {
		h[i] = str;
		str = stpcpy(str, up->headers[i]) + 1;
	}
	cp->headers = h;
	return cp;
}

static int ctx_switch(struct l7_ctx *ctx, enum l7_proto proto, enum l7_dir dir,
                      const uint8_t *rest, size_t rest_len, const struct l7_upgrade *up)
{
	struct conn *c = ctx->owner;
	const struct l7_parser_ops *ops =
		proto > L7_PROTO_NONE && proto < L7_PROTO_MAX ? c->p->parsers[proto] : NULL;
	if (!ops || c->sw) {
		c->p->c.switch_failed++;
		return -1;
	}
	struct pending_switch *sw = calloc(1, sizeof(*sw) + (up ? upgrade_size(up) : 0));
	if (!sw || (rest_len && !(sw->rest = malloc(rest_len)))) {
		free(sw);
		c->p->c.switch_failed++;
		return -1;
	}
	sw->ops = ops;
	sw->dir = dir;
	if (rest_len)
		memcpy(sw->rest, rest, rest_len);
	sw->rest_len = rest_len;
	if (up)
		sw->up = upgrade_copy(up, sw + 1);
	c->sw = sw;
	return 0;
}

static void ctx_dns_cache_add(struct l7_ctx *ctx, const char *ip, const char *name,
                              uint32_t ttl_s, uint64_t ts)
{
	struct conn *c = ctx->owner;
	dns_cache_add(c->p->dns, ip, name, ttl_s, ts);
}

static void ctx_count(struct l7_ctx *ctx, const char *name, uint64_t n)
{
	struct pipeline *p = ((struct conn *)ctx->owner)->p;
	for (size_t i = 0; i < p->n_pc; i++) {
		if (p->pc[i].name == name || strcmp(p->pc[i].name, name) == 0) {
			p->pc[i].value += n;
			return;
		}
	}
	if (p->n_pc == MAX_PARSER_COUNTERS) {
		p->pc_dropped += n;
		return;
	}
	p->pc[p->n_pc].name = name;
	p->pc[p->n_pc++].value = n;
}

static struct kafka_topic *topic_find(struct pipeline *p, const uint8_t id[16])
{
	for (size_t i = 0; i < p->n_topics; i++)
		if (memcmp(p->topics[i].id, id, 16) == 0)
			return &p->topics[i];
	return NULL;
}

static void ctx_kafka_topic_set(struct l7_ctx *ctx, const uint8_t id[16], const char *name)
{
	struct pipeline *p = ((struct conn *)ctx->owner)->p;
	struct kafka_topic *t = topic_find(p, id);
	char *copy = strdup(name ? name : "");
	if (!copy) {
		p->c.kafka_topics_dropped++;
		return;
	}
	if (t) {
		free(t->name);
		t->name = copy;
		return;
	}
	if (!p->topics)
		p->topics = calloc(KAFKA_TOPICS_MAX, sizeof(*p->topics));
	if (!p->topics || p->n_topics == KAFKA_TOPICS_MAX) {
		free(copy);
		p->c.kafka_topics_dropped++;
		return;
	}
	memcpy(p->topics[p->n_topics].id, id, 16);
	p->topics[p->n_topics++].name = copy;
}

static const char *ctx_kafka_topic_get(struct l7_ctx *ctx, const uint8_t id[16])
{
	struct kafka_topic *t = topic_find(((struct conn *)ctx->owner)->p, id);
	return t ? t->name : NULL;
}

static const struct l7_ctx_ops pipeline_ctx_ops = {
	.event_new = ctx_event_new,
	.event_emit = ctx_event_emit,
	.switch_protocol = ctx_switch,
	.dns_cache_add = ctx_dns_cache_add,
	.count = ctx_count,
	.kafka_topic_set = ctx_kafka_topic_set,
	.kafka_topic_get = ctx_kafka_topic_get,
};

/* ---------------------------------------------------------------------------
 * Parser calls. A parser may ask to hand the connection to another parser
 * (switch_protocol); that happens here, after its call returned. */

static void set_conn_info(struct conn *c, struct l7_conn_info *ci, int client_side)
{
	ci->transport = c->key.proto == IPPROTO_UDP ? L7_UDP : L7_TCP;
	ci->client_ip = c->ip[client_side];
	ci->server_ip = c->ip[1 - client_side];
	ci->client_port = c->key.port[client_side];
	ci->server_port = c->key.port[1 - client_side];
	ci->midstream = c->midstream;
}

static void parser_destroy(struct conn *c)
{
	if (c->pstate && c->ops)
		c->ops->destroy(c->pstate);
	c->pstate = NULL;
}

static void apply_switch(struct conn *c, uint64_t ts)
{
	while (c->sw) {
		struct pending_switch *sw = c->sw;
		c->sw = NULL;
		parser_destroy(c);
		c->ops = sw->ops;
		c->pstate = c->ops->create(&c->ci, &c->p->l7cfg);
		c->p->c.switches++;
		if (!c->pstate) {
			c->p->c.parser_oom++;
			c->l7 = L7S_OFF;
		} else {
			if (sw->up && c->ops->upgraded)
				c->ops->upgraded(c->pstate, sw->up);
			if (sw->rest_len)
				c->ops->data(c->pstate, &c->ctx, sw->dir, sw->rest, sw->rest_len, ts);
		}
		free(sw->rest);
		free(sw);
	}
}

static void call_data(struct conn *c, int side, const uint8_t *d, size_t n, uint64_t ts)
{
	if (c->l7 != L7S_ATTACHED || !c->pstate || !n)
		return;
	c->ops->data(c->pstate, &c->ctx, dir_of_side(c, side), d, n, ts);
	if (c->sw)
		apply_switch(c, ts);
}

static void call_gap(struct conn *c, int side, uint64_t len, uint64_t ts)
{
	if (c->l7 != L7S_ATTACHED || !c->pstate || !len)
		return;
	c->ops->gap(c->pstate, &c->ctx, dir_of_side(c, side), len, ts);
	if (c->sw)
		apply_switch(c, ts);
}

static void call_close(struct conn *c, int side, uint64_t ts)
{
	if (c->fin_closed[side])
		return;
	c->fin_closed[side] = true;
	if (c->l7 != L7S_ATTACHED || !c->pstate)
		return;
	c->ops->close(c->pstate, &c->ctx, dir_of_side(c, side), ts);
	if (c->sw)
		apply_switch(c, ts);
}

/* ---------------------------------------------------------------------------
 * Protocol detection */

static bool port_hint(enum l7_proto proto, uint16_t port)
{
	switch (proto) {
	case L7_PROTO_HTTP1:
		return port == 80 || port == 8080 || port == 8000 || port == 8008 ||
		       port == 8888 || port == 3128 || port == 81;
	case L7_PROTO_HTTP2:
		return port == 80 || port == 8080 || port == 50051;
	case L7_PROTO_DNS:
		return port == 53 || port == 5353 || port == 5355;
	case L7_PROTO_KAFKA:
		return port == 9092 || port == 9093 || port == 9094 || port == 29092;
	default:
		return false;
	}
}

static bool any_port_hint(uint16_t port)
{
	for (int pr = L7_PROTO_NONE + 1; pr < L7_PROTO_MAX; pr++)
		if (port_hint((enum l7_proto)pr, port))
			return true;
	return false;
}

struct det_choice {
	const struct l7_parser_ops *ops;
	int score;
	bool hinted;
	int client_side;
};

/* Probe d[0..n) as sent by side, for every parser and every orientation
 * still possible. True if something is accepted. */
static bool probe_all(struct conn *c, int side, const uint8_t *d, size_t n,
                      struct det_choice *best)
{
	struct pipeline *p = c->p;
	memset(best, 0, sizeof(*best));
	for (int o = 0; o < 2; o++) {
		/* o = 0: the current orientation; o = 1: the other one */
		int client_side = o == 0 ? c->client : 1 - c->client;
		if (o == 1 && c->client_how != CLIENT_GUESS)
			break;
		struct l7_conn_info ci;
		set_conn_info(c, &ci, client_side);
		enum l7_dir dir = side == client_side ? L7_DIR_TO_SERVER : L7_DIR_TO_CLIENT;
		for (int pr = L7_PROTO_NONE + 1; pr < L7_PROTO_MAX; pr++) {
			const struct l7_parser_ops *ops = p->parsers[pr];
			if (!ops || !ops->probe)
				continue;
			int score = ops->probe(d, n, dir, &ci);
			if (score <= 0)
				continue;
			bool hinted = port_hint((enum l7_proto)pr, ci.server_port);
			if (score < ACCEPT_SCORE && !hinted)
				continue;
			/* higher score wins; then a port hint; earlier ones win ties */
			if (!best->ops || score > best->score ||
			    (score == best->score && hinted && !best->hinted)) {
				best->ops = ops;
				best->score = score;
				best->hinted = hinted;
				best->client_side = client_side;
			}
			if (best->score >= 100 && best->hinted)
				return true;   /* nothing can beat it */
		}
	}
	return best->ops != NULL;
}

static void det_free(struct conn *c)
{
	if (c->det) {
		c->p->pool.used -= sizeof(*c->det);
		free(c->det);
		c->det = NULL;
	}
}

static void attach(struct conn *c, const struct det_choice *ch, uint64_t ts)
{
	struct pipeline *p = c->p;
	if (c->client_how == CLIENT_GUESS && ch->client_side != c->client) {
		c->client = (uint8_t)ch->client_side;
	}
	if (c->client_how == CLIENT_GUESS)
		c->client_how = CLIENT_CONTENT;
	set_conn_info(c, &c->ci, c->client);
	c->ops = ch->ops;
	c->pstate = ch->ops->create(&c->ci, &p->l7cfg);
	if (!c->pstate) {
		p->c.parser_oom++;
		c->l7 = L7S_OFF;
		det_free(c);
		return;
	}
	c->l7 = L7S_ATTACHED;
	p->c.det_attached[ch->ops->proto < L7_PROTO_MAX ? ch->ops->proto : 0]++;
	if (!ch->score || ch->score < ACCEPT_SCORE)
		p->c.det_by_port_hint++;
	(void)ts;
}

/* Feed what the other direction buffered while detecting. If it holds the
 * start of that direction's stream (handshake seen, nothing dropped), all
 * of it: the parser judges content its probe did not recognise (an
 * extension method, say). Otherwise from its first chunk the chosen parser
 * accepts; what comes before is a gap to it. */
static void feed_buffered(struct conn *c, int side, uint32_t from_chunk)
{
	struct det_side *s = &c->det->s[side];
	uint64_t lost = s->dropped;
	uint32_t k = from_chunk;
	if (k == UINT32_MAX && !c->midstream && !s->dropped && c->rs[side].started &&
	    c->syn_seen[side])
		k = 0;
	if (k == UINT32_MAX) {
		struct l7_conn_info ci = c->ci;
		for (k = 0; k < s->n; k++)
			if (c->ops->probe(s->buf + s->start[k], s->len - s->start[k],
			                  dir_of_side(c, side), &ci) > 0)
				break;
		if (k < s->n)
			lost += s->start[k];
		else
			lost += s->len;
		if (lost)
			call_gap(c, side, lost, s->n ? s->ts[s->n - 1] : 0);
	} else {
		c->p->c.det_discarded_bytes += s->dropped + (k < s->n ? s->start[k] : s->len);
	}
	for (; k < s->n && c->l7 == L7S_ATTACHED; k++) {
		uint32_t end = k + 1 < s->n ? s->start[k + 1] : s->len;
		call_data(c, side, s->buf + s->start[k], end - s->start[k], s->ts[k]);
	}
}

static void give_up(struct conn *c)
{
	c->p->c.det_gave_up++;
	c->l7 = L7S_OFF;
	det_free(c);
}

/* In-order bytes of one side while the protocol is unknown. */
static void detect_stream(struct conn *c, int side, const uint8_t *d, size_t n, uint64_t ts)
{
	struct pipeline *p = c->p;
	struct det_choice ch;

	/* The common case: the first segment says it all, nothing to buffer. */
	if (!c->det || (c->det->s[0].n == 0 && c->det->s[1].n == 0)) {
		if (probe_all(c, side, d, n, &ch)) {
			attach(c, &ch, ts);
			if (c->det) {
				uint32_t dropped = c->det->s[side].dropped + c->det->s[1 - side].dropped;
				p->c.det_discarded_bytes += c->det->s[side].dropped;
				if (c->det->s[1 - side].dropped && c->l7 == L7S_ATTACHED)
					call_gap(c, 1 - side, c->det->s[1 - side].dropped, ts);
				(void)dropped;
				det_free(c);
			}
			call_data(c, side, d, n, ts);
			return;
		}
	}
	c->det_bytes += (uint32_t)(n > DET_GIVE_UP ? DET_GIVE_UP : n);
	if (!c->det) {
		if (p->pool.used + sizeof(*c->det) > p->pool.max ||
		    !(c->det = calloc(1, sizeof(*c->det)))) {
			p->c.det_oom++;
			p->c.det_discarded_bytes += n;
			if (c->det_bytes >= DET_GIVE_UP)
				give_up(c);
			return;
		}
		p->pool.used += sizeof(*c->det);
		if (p->pool.used > p->pool.peak)
			p->pool.peak = p->pool.used;
	}
	struct det_side *s = &c->det->s[side];
	/* make room: drop the oldest candidate starts */
	while (s->n && (s->n == DET_CHUNKS || s->len + n > DET_BUF)) {
		uint32_t cut = s->n > 1 ? s->start[1] : s->len;
		memmove(s->buf, s->buf + cut, s->len - cut);
		s->len -= cut;
		s->dropped += cut;
		for (uint32_t i = 1; i < s->n; i++) {
			s->start[i - 1] = s->start[i] - cut;
			s->ts[i - 1] = s->ts[i];
		}
		s->n--;
	}
	size_t take = n > DET_BUF - s->len ? DET_BUF - s->len : n;
	s->start[s->n] = s->len;
	s->ts[s->n++] = ts;
	memcpy(s->buf + s->len, d, take);
	s->len += (uint32_t)take;
	if (take < n)
		s->dropped += (uint32_t)(n - take);   /* lost for the parser: reported as a gap */

	for (uint32_t k = 0; k < s->n; k++) {
		if (!probe_all(c, side, s->buf + s->start[k], s->len - s->start[k], &ch))
			continue;
		if (take < n)
			break;   /* the chunk did not fit: cannot feed it whole */
		attach(c, &ch, ts);
		if (c->l7 != L7S_ATTACHED)
			return;
		feed_buffered(c, 1 - side, UINT32_MAX);
		feed_buffered(c, side, k);
		det_free(c);
		return;
	}
	if (c->det_bytes >= DET_GIVE_UP)
		give_up(c);
}

/* ---------------------------------------------------------------------------
 * Reassembly sinks: bytes of one side in order */

struct side_ref {
	struct conn *c;
	int side;
};

static void rs_data(void *user, const uint8_t *d, size_t n, uint64_t ts)
{
	struct side_ref *r = user;
	struct conn *c = r->c;
	if (c->l7 == L7S_DETECT)
		detect_stream(c, r->side, d, n, ts);
	else
		call_data(c, r->side, d, n, ts);
}

static void rs_gap(void *user, uint64_t len, uint64_t ts)
{
	struct side_ref *r = user;
	struct conn *c = r->c;
	if (c->l7 == L7S_ATTACHED) {
		call_gap(c, r->side, len, ts);
	} else if (c->l7 == L7S_DETECT && c->det) {
		/* buffered bytes before a hole cannot start a message any more */
		struct det_side *s = &c->det->s[r->side];
		c->p->c.det_discarded_bytes += s->len;
		s->dropped += s->len + (uint32_t)(len > UINT32_MAX / 2 ? UINT32_MAX / 2 : len);
		s->len = s->n = 0;
	}
}

static void rs_fin(void *user, uint64_t ts)
{
	struct side_ref *r = user;
	call_close(r->c, r->side, ts);
}

static void sink_for(struct conn *c, int side, struct side_ref *ref, struct tcp_reasm_sink *s)
{
	ref->c = c;
	ref->side = side;
	s->data = rs_data;
	s->gap = rs_gap;
	s->fin = rs_fin;
	s->user = ref;
}

/* Stop L7 on a connection: flush both streams, close, free the parser. */
static void l7_finish(struct conn *c, uint64_t ts)
{
	struct pipeline *p = c->p;
	if (c->key.proto == IPPROTO_TCP) {
		for (int side = 0; side < 2; side++) {
			struct side_ref ref;
			struct tcp_reasm_sink s;
			sink_for(c, side, &ref, &s);
			if (c->l7 == L7S_ATTACHED && !c->rs[side].closed)
				tcp_reasm_flush(&c->rs[side], &p->pool, &s, ts);
			else
				tcp_reasm_free(&c->rs[side], &p->pool);
		}
	}
	/* client side first: a request is closed before its response */
	call_close(c, c->client, ts);
	call_close(c, 1 - c->client, ts);
	parser_destroy(c);
	det_free(c);
	if (c->sw) {
		free(c->sw->rest);
		free(c->sw);
		c->sw = NULL;
	}
	c->l7 = L7S_OFF;
}

/* ---------------------------------------------------------------------------
 * Connection table */

static uint64_t endpoint_hash(const uint8_t addr[16], uint16_t port)
{
	uint64_t a, b;
	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	return hash_mix64(a ^ hash_mix64(b ^ port));
}

/* One endpoint, cheaply: the connection key needs it twice per packet. */
static uint64_t endpoint_key(const uint8_t addr[16], uint16_t port)
{
	uint64_t a, b;
	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	uint64_t h = (a ^ (b << 21 | b >> 43) ^ port) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static uint32_t key_hash(const uint8_t *sa, const uint8_t *da, uint16_t sp, uint16_t dp,
                         uint16_t vlan, uint8_t family, uint8_t proto)
{
	/* symmetric: both directions of a connection hash alike */
	uint64_t h = endpoint_key(sa, sp) + endpoint_key(da, dp);
	return (uint32_t)hash_mix64(h ^ ((uint64_t)vlan << 16 | (uint64_t)family << 8 | proto));
}

static struct conn *conn_lookup(struct pipeline *p, const struct pkt_info *pi, uint16_t sport,
                                uint16_t dport, uint16_t vlan, uint32_t hash, int *side)
{
	for (struct conn *c = p->buckets[hash & p->mask]; c; c = c->hnext) {
		if (c->hash != hash || c->key.proto != pi->proto || c->key.family != pi->family ||
		    c->key.vlan != vlan)
			continue;
		if (c->key.port[0] == sport && c->key.port[1] == dport &&
		    memcmp(c->key.addr[0], pi->saddr, 16) == 0 &&
		    memcmp(c->key.addr[1], pi->daddr, 16) == 0) {
			*side = 0;
			return c;
		}
		if (c->key.port[1] == sport && c->key.port[0] == dport &&
		    memcmp(c->key.addr[1], pi->saddr, 16) == 0 &&
		    memcmp(c->key.addr[0], pi->daddr, 16) == 0) {
			*side = 1;
			return c;
		}
	}
	return NULL;
}

/* Initial client guess for a connection whose handshake we did not see. */
static uint8_t guess_client(const struct conn_key *k)
{
	bool h0 = any_port_hint(k->port[0]), h1 = any_port_hint(k->port[1]);
	if (h1 && !h0)
		return 0;
	if (h0 && !h1)
		return 1;
	if (k->port[1] < 1024 && k->port[0] >= 1024)
		return 0;
	if (k->port[0] < 1024 && k->port[1] >= 1024)
		return 1;
	return 0;
}

/*
 * Connection memory. A busy capture keeps hundreds of thousands of
 * connections (each lives until its flows' idle timeout), so they come from
 * 2 MiB slabs, advised as huge pages: one page fault for thousands of
 * connections instead of one per five, and no allocator header each. A
 * released connection is reused by the next one; slabs are freed with the
 * pipeline (the connection bound, max_flows, bounds them). Under
 * AddressSanitizer each connection is its own allocation, so that a use
 * after free is still caught.
 */
#if defined(__SANITIZE_ADDRESS__)
#define CONN_SLABS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CONN_SLABS 0
#endif
#endif
#ifndef CONN_SLABS
#define CONN_SLABS 1
#endif

#define CONN_SLAB_BYTES ((size_t)2 << 20)

struct conn_slab {
	struct conn_slab *next;
	_Alignas(64) struct conn conns[];
};

#define CONNS_PER_SLAB ((CONN_SLAB_BYTES - sizeof(struct conn_slab)) / sizeof(struct conn))

static struct conn *conn_alloc(struct pipeline *p)
{
	if (!CONN_SLABS)
		return calloc(1, sizeof(struct conn));
	struct conn *c = p->conn_free;
	if (c) {
		p->conn_free = c->hnext;
	} else {
		if (!p->slabs || p->slab_used == CONNS_PER_SLAB) {
			struct conn_slab *s = aligned_alloc(CONN_SLAB_BYTES, CONN_SLAB_BYTES);
			if (!s)
				return NULL;
#ifdef MADV_HUGEPAGE
			madvise(s, CONN_SLAB_BYTES, MADV_HUGEPAGE);   /* advice: ignored where unsupported */
#endif
			s->next = p->slabs;
			p->slabs = s;
			p->slab_used = 0;
		}
		c = &p->slabs->conns[p->slab_used++];
	}
	memset(c, 0, sizeof(*c));
	return c;
}

static void conn_release(struct pipeline *p, struct conn *c)
{
	if (!CONN_SLABS) {
		free(c);
		return;
	}
	c->hnext = p->conn_free;
	p->conn_free = c;
}

/* The table starts small and doubles as connections come (one per bucket
 * on average): a capture with few connections keeps it in the cache. */
static void table_grow(struct pipeline *p)
{
	size_t nb = (p->mask + 1) * 2;
	struct conn **b = calloc(nb, sizeof(*b));
	if (!b)
		return;   /* longer chains, still correct */
	for (size_t i = 0; i <= p->mask; i++) {
		struct conn *c = p->buckets[i];
		while (c) {
			struct conn *next = c->hnext;
			c->hnext = b[c->hash & (nb - 1)];
			b[c->hash & (nb - 1)] = c;
			c = next;
		}
	}
	free(p->buckets);
	p->buckets = b;
	p->mask = nb - 1;
}

static struct conn *conn_new(struct pipeline *p, const struct pkt_info *pi, uint16_t sport,
                             uint16_t dport, uint16_t vlan, uint32_t hash)
{
	if (p->n_conns >= p->cfg.max_flows) {
		p->c.table_full++;
		return NULL;
	}
	if (p->n_conns > p->mask / 2 && p->mask + 1 < p->max_buckets)
		table_grow(p);
	struct conn *c = conn_alloc(p);
	if (!c) {
		p->c.table_full++;
		return NULL;
	}
	c->p = p;
	c->hash = hash;
	memcpy(c->key.addr[0], pi->saddr, 16);
	memcpy(c->key.addr[1], pi->daddr, 16);
	c->key.port[0] = sport;
	c->key.port[1] = dport;
	c->key.vlan = vlan;
	c->key.family = pi->family;
	c->key.proto = pi->proto;
	flow_addr_format(pi->family, pi->saddr, c->ip[0]);
	flow_addr_format(pi->family, pi->daddr, c->ip[1]);
	for (int i = 0; i < 2; i++) {
		c->df[i].conn = c;
		c->df[i].side = (uint8_t)i;
		list_init(&c->df[i].idle_link);
		list_init(&c->df[i].active_link);
		tcp_reasm_init(&c->rs[i]);
	}
	c->client = guess_client(&c->key);
	c->ctx.ops = &pipeline_ctx_ops;
	c->ctx.owner = c;
	if (pi->proto != IPPROTO_TCP && pi->proto != IPPROTO_UDP)
		c->l7 = L7S_OFF;
	c->hnext = p->buckets[hash & p->mask];
	p->buckets[hash & p->mask] = c;
	p->n_conns++;
	p->c.conns_created++;
	p->c.conns_active++;
	return c;
}

static void conn_free(struct pipeline *p, struct conn *c)
{
	struct conn **pp = &p->buckets[c->hash & p->mask];
	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	for (int i = 0; i < 2; i++) {
		list_del(&c->df[i].idle_link);
		list_del(&c->df[i].active_link);
		tcp_reasm_free(&c->rs[i], &p->pool);
	}
	det_free(c);
	conn_release(p, c);
	p->n_conns--;
	p->c.conns_active--;
}

/* A directional flow ends at ts: L7 first (its last events belong before
 * the end of the flow) when the whole connection is over. */
static void dflow_end(struct pipeline *p, struct conn *c, int side, uint64_t ts)
{
	struct dflow *d = &c->df[side];
	bool last = !c->df[1 - side].live;
	if (last && c->l7 != L7S_OFF)
		l7_finish(c, ts);
	d->live = false;
	list_del(&d->idle_link);
	list_del(&d->active_link);
	p->c.flows_ended++;
	emit_l34(p, c, side, FE_STATS_END, ts);
	if (last)
		conn_free(p, c);
}

/* Keep a list ordered by key, inserting from the tail (where new entries
 * almost always belong). */
static void active_insert(struct pipeline *p, struct dflow *d)
{
	struct list *pos = p->active.prev;
	while (pos != &p->active &&
	       container_of(pos, struct dflow, active_link)->report_ns > d->report_ns)
		pos = pos->prev;
	/* insert after pos */
	d->active_link.prev = pos;
	d->active_link.next = pos->next;
	pos->next->prev = &d->active_link;
	pos->next = &d->active_link;
}

/* Fire every idle and active timeout due at or before now, in time order. */
static void expire_all(struct pipeline *p, uint64_t now)
{
	const uint64_t idle = p->cfg.idle_timeout_ns, active = p->cfg.active_timeout_ns;
	for (;;) {
		struct dflow *di = NULL, *da = NULL;
		uint64_t ti = UINT64_MAX, ta = UINT64_MAX;
		if (idle && !list_empty(&p->idle)) {
			di = container_of(p->idle.next, struct dflow, idle_link);
			ti = di->touch_ns + idle;
		}
		if (active && !list_empty(&p->active)) {
			da = container_of(p->active.next, struct dflow, active_link);
			ta = da->report_ns + active;
		}
		if (di && ti <= now && ti <= ta) {
			dflow_end(p, di->conn, di->side, ti);
		} else if (da && ta <= now) {
			da->report_ns = ta;
			list_del(&da->active_link);
			active_insert(p, da);
			p->c.flows_updated++;
			emit_l34(p, da->conn, da->side, FE_STATS_UPDATE, ta);
		} else {
			break;
		}
	}
}

/* Every packet asks: mostly nothing is due. */
static inline void expire(struct pipeline *p, uint64_t now)
{
	const uint64_t idle = p->cfg.idle_timeout_ns, active = p->cfg.active_timeout_ns;
	if ((idle && !list_empty(&p->idle) &&
	     container_of(p->idle.next, struct dflow, idle_link)->touch_ns + idle <= now) ||
	    (active && !list_empty(&p->active) &&
	     container_of(p->active.next, struct dflow, active_link)->report_ns + active <= now))
		expire_all(p, now);
}

/* ---------------------------------------------------------------------------
 * Packets */

static void tcp_restart(struct pipeline *p, struct conn *c, uint64_t ts)
{
	p->c.tcp_syn_reuse++;
	if (c->l7 != L7S_OFF)
		l7_finish(c, ts);
	for (int i = 0; i < 2; i++) {
		tcp_reasm_free(&c->rs[i], &p->pool);
		tcp_reasm_init(&c->rs[i]);
		c->syn_seen[i] = false;
		c->fin_closed[i] = false;
	}
	c->l7 = L7S_DETECT;
	c->ops = NULL;
	c->det_bytes = 0;
	c->midstream = false;
	c->client_how = CLIENT_GUESS;
}

static void tcp_input(struct pipeline *p, struct conn *c, int side, const struct pkt_info *pi,
                      const uint8_t *payload, uint32_t avail, uint64_t ts)
{
	const uint16_t fl = pi->tcp_flags;
	uint32_t seq = pi->tcp_seq;

	if (fl & FLOW_TCP_SYN) {
		const bool synack = fl & FLOW_TCP_ACK;
		bool reuse = c->syn_seen[side] ? c->isn[side] != seq : c->rs[side].started;
		if (reuse && !synack)
			tcp_restart(p, c, ts);
		if (!c->syn_seen[side] || c->isn[side] != seq) {
			c->syn_seen[side] = true;
			c->isn[side] = seq;
			tcp_reasm_free(&c->rs[side], &p->pool);
			tcp_reasm_init(&c->rs[side]);
			tcp_reasm_start(&c->rs[side], seq + 1);
			if (c->client_how != CLIENT_HANDSHAKE || !synack) {
				c->client = (uint8_t)(synack ? 1 - side : side);
				c->client_how = CLIENT_HANDSHAKE;
			}
		}
		seq += 1;   /* data on a SYN follows the SYN's sequence number */
	}
	if (c->l7 == L7S_OFF)
		return;

	const uint32_t len = pi->payload_len;
	const bool fin = fl & FLOW_TCP_FIN;
	struct side_ref ref;
	struct tcp_reasm_sink sink;
	if (len || fin) {
		struct tcp_reasm *r = &c->rs[side];
		if (!r->started) {
			tcp_reasm_start(r, seq);
			if (!c->syn_seen[0] && !c->syn_seen[1] && !c->midstream) {
				c->midstream = true;
				p->c.tcp_midstream++;
			}
		}
		sink_for(c, side, &ref, &sink);
		tcp_reasm_segment(r, &p->pool, &sink, seq, payload, avail, len, fin, ts);
	}
	else if (c->rs[side].started) {
		sink_for(c, side, &ref, &sink);
		tcp_reasm_sender_seen(&c->rs[side], &p->pool, &sink, ts);
	}
	if ((fl & FLOW_TCP_ACK) && c->l7 != L7S_OFF && c->rs[1 - side].started)
		tcp_reasm_ack(&c->rs[1 - side], pi->tcp_ack);
	if (fl & FLOW_TCP_RST) {
		p->c.tcp_rst++;
		if (c->l7 != L7S_OFF)
			l7_finish(c, ts);
	} else if (c->l7 != L7S_OFF && c->fin_closed[0] && c->fin_closed[1]) {
		l7_finish(c, ts);
	}
	if (c->l7 == L7S_OFF) {
		tcp_reasm_free(&c->rs[0], &p->pool);
		tcp_reasm_free(&c->rs[1], &p->pool);
	}
}

static void udp_input(struct pipeline *p, struct conn *c, int side, const struct pkt_info *pi,
                      const uint8_t *payload, uint32_t avail, uint64_t ts)
{
	const uint32_t len = pi->payload_len;
	if (c->l7 == L7S_OFF || !len)
		return;
	p->c.udp_datagrams++;
	if (avail < len) {
		p->c.udp_truncated++;
		return;
	}
	if (c->l7 == L7S_DETECT) {
		struct det_choice ch;
		if (!probe_all(c, side, payload, len, &ch)) {
			if (++c->udp_probes >= UDP_PROBES)
				give_up(c);
			return;
		}
		attach(c, &ch, ts);
	}
	call_data(c, side, payload, len, ts);
}

/* Later IP fragments carry no ports: take them from the first fragment. */
static size_t frag_slot(const struct pkt_info *pi)
{
	uint64_t h = endpoint_hash(pi->saddr, (uint16_t)pi->frag_id) ^
	             endpoint_hash(pi->daddr, (uint16_t)(pi->frag_id >> 16));
	return (size_t)(hash_mix64(h ^ pi->proto) % FRAG_SLOTS);
}

static bool frag_ports(struct pipeline *p, const struct pkt_info *pi, uint16_t *sport, uint16_t *dport)
{
	struct frag_slot *s = &p->frags[frag_slot(pi)];
	if (pi->frag == PKT_FRAG_FIRST) {
		memcpy(s->saddr, pi->saddr, 16);
		memcpy(s->daddr, pi->daddr, 16);
		s->id = pi->frag_id;
		s->proto = pi->proto;
		s->family = pi->family;
		s->sport = *sport;
		s->dport = *dport;
		s->used = 1;
		return true;
	}
	if (!s->used || s->id != pi->frag_id || s->proto != pi->proto || s->family != pi->family ||
	    memcmp(s->saddr, pi->saddr, 16) || memcmp(s->daddr, pi->daddr, 16))
		return false;
	*sport = s->sport;
	*dport = s->dport;
	return true;
}

/* A UDP fragment (see the top of the file). c: the connection it counted
 * in, NULL when its first fragment has not been seen (it may still come:
 * the fragment is held). The datagram's connection is found again by the
 * ports in its UDP header. */
static void frag_input(struct pipeline *p, struct conn *c, const struct pkt_info *pi,
                       const uint8_t *frame, uint32_t caplen, uint64_t ts,
                       uint32_t ifindex, const char *ifname)
{
	struct ip_frag f = {
		.family = pi->family, .proto = pi->proto, .saddr = pi->saddr, .daddr = pi->daddr,
		.id = pi->frag_id, .offset = pkt_frag_offset(pi), .more = pkt_frag_more(pi),
	};
	if (c && c->l7 == L7S_OFF) {
		ip_reasm_discard(p->reasm, &f);
		return;
	}
	/* the fragment's bytes: the first one's from its UDP header on */
	const uint32_t start = pi->frag == PKT_FRAG_FIRST ? pi->l4_off : pi->payload_off;
	f.data = frame + start;
	f.len = pi->payload_len + (pi->payload_off - start);
	f.caplen = caplen > start ? caplen - start : 0;
	if (f.caplen > f.len)
		f.caplen = f.len;
	p->c.udp_fragmented++;
	const uint8_t *dg;
	uint32_t n;
	enum ip_reasm_result rc = ip_reasm_add(p->reasm, &f, ts, &dg, &n);
	if (rc == IP_REASM_TRUNCATED)
		p->c.udp_truncated++;
	if (rc != IP_REASM_COMPLETE)
		return;
	/* 8 bytes at least: the first fragment parsed with its UDP header */
	const uint16_t sport = (uint16_t)(dg[0] << 8 | dg[1]), dport = (uint16_t)(dg[2] << 8 | dg[3]);
	const uint16_t vlan = pi->vlan_ids[0];
	int side = 0;
	struct conn *dc = conn_lookup(p, pi, sport, dport, vlan,
	                              key_hash(pi->saddr, pi->daddr, sport, dport, vlan,
	                                       pi->family, pi->proto), &side);
	if (!dc || dc->l7 == L7S_OFF || n < 8) {
		p->c.udp_reassembled_untracked++;
		return;
	}
	struct pkt_info whole = *pi;
	whole.frag = PKT_FRAG_NONE;
	whole.frag_off = 0;
	whole.sport = sport;
	whole.dport = dport;
	whole.payload_len = n - 8;
	p->c.udp_reassembled++;
	dc->ifindex = ifindex;
	dc->ifname = ifname;
	udp_input(p, dc, side, &whole, dg + 8, n - 8, ts);
	dc->ifname = NULL;
}

int pipeline_packet(struct pipeline *p, uint64_t ts, const struct pkt_info *pi,
                    const uint8_t *frame, uint32_t caplen, uint32_t wire_len,
                    uint32_t ifindex, const char *ifname, uint8_t direction)
{
	if (ts < p->now_ns)
		p->c.clock_backwards++;
	else
		p->now_ns = ts;
	expire(p, p->now_ns);
	p->c.packets++;
	p->c.bytes += wire_len;
	if (pi->family != 4 && pi->family != 6) {
		p->c.not_ip++;
		return 0;
	}

	struct flow_key fk;
	flow_key_from_pkt(pi, ifindex, direction, &fk);
	if (pi->frag != PKT_FRAG_NONE && !frag_ports(p, pi, &fk.sport, &fk.dport)) {
		p->c.frag_unattributed++;
		if (pi->proto == IPPROTO_UDP)
			frag_input(p, NULL, pi, frame, caplen, ts, ifindex, ifname);
		return 0;
	}
	if (pi->proto != IPPROTO_TCP && pi->proto != IPPROTO_UDP && pi->proto != IPPROTO_SCTP &&
	    pi->proto != IPPROTO_ICMP && pi->proto != IPPROTO_ICMPV6)
		p->c.l4_unknown++;

	/* ICMP request and reply belong to one connection: key both by the
	 * orientation with the higher type/code (echo 8/0 vs 0/0, 128 vs 129) */
	uint16_t sport = fk.sport, dport = fk.dport;
	struct flow_key rk;
	if ((pi->proto == IPPROTO_ICMP || pi->proto == IPPROTO_ICMPV6) &&
	    flow_key_reverse(&fk, &rk) && rk.dport > fk.dport) {
		sport = rk.dport;
		dport = rk.sport;
	}
	const uint16_t vlan = fk.vlan_id;
	const uint32_t hash = key_hash(pi->saddr, pi->daddr, sport, dport, vlan,
	                               pi->family, pi->proto);
	int side = 0;
	struct conn *c = conn_lookup(p, pi, sport, dport, vlan, hash, &side);
	if (!c && !(c = conn_new(p, pi, sport, dport, vlan, hash)))
		return 0;

	struct dflow *d = &c->df[side];
	bool started = false;
	if (!d->live) {
		memset(&d->rec, 0, sizeof(d->rec));
		d->key = fk;
		d->rec.first_seen_ns = ts;
		d->rec.first_tcp_flags = pi->tcp_flags;
		memcpy(d->rec.eth_src, pi->eth_src, 6);
		memcpy(d->rec.eth_dst, pi->eth_dst, 6);
		d->live = true;
		d->report_ns = p->now_ns;
		list_add_tail(&p->active, &d->active_link);
		p->c.flows_started++;
		started = true;
	}
	d->rec.packets++;
	d->rec.bytes += wire_len;
	d->rec.last_seen_ns = ts;
	d->rec.tcp_flags |= pi->tcp_flags;
	d->touch_ns = p->now_ns;
	if (d->idle_link.next != &p->idle) {   /* not already the most recent */
		list_del(&d->idle_link);
		list_add_tail(&p->idle, &d->idle_link);
	}
	c->ifindex = ifindex;
	c->ifname = ifname;
	c->hook_dir = direction;

	if (started)
		emit_l34(p, c, side, FE_STATS_START, ts);
	if (pi->frag != PKT_FRAG_NONE && pi->proto == IPPROTO_UDP) {
		frag_input(p, c, pi, frame, caplen, ts, ifindex, ifname);
		c->ifname = NULL;
		return 0;
	}
	if (pi->frag == PKT_FRAG_LATER) {
		c->ifname = NULL;
		return 0;
	}

	uint32_t avail = 0;
	if (caplen > pi->payload_off) {
		avail = caplen - pi->payload_off;
		if (avail > pi->payload_len)
			avail = pi->payload_len;
	}
	const uint8_t *payload = frame + pi->payload_off;
	if (pi->proto == IPPROTO_TCP)
		tcp_input(p, c, side, pi, payload, avail, ts);
	else if (pi->proto == IPPROTO_UDP)
		udp_input(p, c, side, pi, payload, avail, ts);
	/* the ifname pointer belongs to the caller: do not keep it */
	c->ifname = NULL;
	return 0;
}

void pipeline_parse_error(struct pipeline *p, int status)
{
	p->c.packets++;
	if (status == PKT_NOT_IP) {
		p->c.not_ip++;
		return;
	}
	p->c.parse_errors++;
	if (status >= 0 && status < PKT_STATUS_MAX)
		p->c.parse_error[status]++;
}

void pipeline_tick(struct pipeline *p, uint64_t now_ns)
{
	if (now_ns > p->now_ns)
		p->now_ns = now_ns;
	expire(p, p->now_ns);
	ip_reasm_expire(p->reasm, p->now_ns);
}

void pipeline_flush(struct pipeline *p, uint64_t now_ns)
{
	pipeline_tick(p, now_ns);
	ip_reasm_expire_all(p->reasm);   /* incomplete at the end: counted as timeouts */
	const uint64_t t = p->now_ns;
	while (!list_empty(&p->idle)) {
		struct dflow *d = container_of(p->idle.next, struct dflow, idle_link);
		struct conn *c = d->conn;
		if (c->l7 != L7S_OFF)
			l7_finish(c, t);
		dflow_end(p, c, d->side, t);
	}
}

/* ---------------------------------------------------------------------------
 * Life cycle */

struct pipeline *pipeline_new(const struct pipeline_config *cfg, pipeline_sink_fn sink, void *user)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->cfg = *cfg;
	p->sink = sink;
	p->user = user;
	list_init(&p->idle);
	list_init(&p->active);
	if (cfg->node_name && !(p->node_name = strdup(cfg->node_name)))
		goto fail;
	if (cfg->n_redact_headers) {
		p->redact = calloc(cfg->n_redact_headers, sizeof(*p->redact));
		if (!p->redact)
			goto fail;
		for (size_t i = 0; i < cfg->n_redact_headers; i++)
			if (!(p->redact[i] = strdup(cfg->redact_headers[i])))
				goto fail;
	}
	p->cfg.node_name = p->node_name;
	p->cfg.redact_headers = (const char *const *)p->redact;
	p->l7cfg.redact_headers = (const char *const *)p->redact;
	p->l7cfg.n_redact_headers = cfg->n_redact_headers;
	p->l7cfg.max_header_bytes = cfg->max_header_bytes;
	p->l7cfg.max_pending = cfg->max_pending;
	p->l7cfg.no_headers = cfg->no_http_headers;

	p->max_buckets = 1024;
	while (p->max_buckets < 2 * cfg->max_flows && p->max_buckets < ((size_t)1 << 23))
		p->max_buckets <<= 1;
	if (!(p->buckets = calloc(1024, sizeof(*p->buckets))))
		goto fail;
	p->mask = 1023;
	tcp_reasm_pool_init(&p->pool, cfg->max_total_buffer, cfg->max_conn_buffer);
	const struct ip_reasm_config rcfg = {
		.max_datagrams = IP_REASM_DEFAULT_DATAGRAMS,
		.max_bytes = IP_REASM_DEFAULT_BYTES,
		.timeout_ns = IP_REASM_DEFAULT_TIMEOUT_NS,
	};
	if (!(p->reasm = ip_reasm_new(&rcfg)))
		goto fail;
	if ((p->dns_borrowed = cfg->dns_cache != NULL))
		p->dns = cfg->dns_cache;
	else if (!(p->dns = dns_cache_new(cfg->dns_cache_size, cfg->dns_min_ttl_s)))
		goto fail;
	if (cfg->parsers) {
		for (size_t i = 0; i < cfg->n_parsers; i++) {
			const struct l7_parser_ops *ops = cfg->parsers[i];
			if (ops && ops->proto > L7_PROTO_NONE && ops->proto < L7_PROTO_MAX)
				p->parsers[ops->proto] = ops;
		}
	} else {
		for (int pr = L7_PROTO_NONE + 1; pr < L7_PROTO_MAX; pr++)
			p->parsers[pr] = l7_parser_by_proto((enum l7_proto)pr);
	}
	p->cfg.parsers = NULL;
	p->cfg.n_parsers = 0;
	for (int i = 0; i < PKT_STATUS_MAX; i++)
		snprintf(p->error_names[i], sizeof(p->error_names[i]), "packets.error.%s",
		         pkt_status_name(i));
	return p;
fail:
	pipeline_free(p);
	return NULL;
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	if (p->buckets) {
		for (size_t i = 0; p->n_conns && i <= p->mask; i++) {
			struct conn *c = p->buckets[i];
			while (c) {
				struct conn *n = c->hnext;
				parser_destroy(c);
				if (c->sw) {
					free(c->sw->rest);
					free(c->sw);
				}
				for (int s = 0; s < 2; s++)
					tcp_reasm_free(&c->rs[s], &p->pool);
				det_free(c);
				conn_release(p, c);
				c = n;
			}
		}
		free(p->buckets);
	}
	while (p->slabs) {
		struct conn_slab *s = p->slabs;
		p->slabs = s->next;
		free(s);
	}
	for (size_t i = 0; i < p->n_topics; i++)
		free(p->topics[i].name);
	free(p->topics);
	ip_reasm_free(p->reasm);
	if (!p->dns_borrowed)
		dns_cache_free(p->dns);
	if (p->redact)
		for (size_t i = 0; i < p->cfg.n_redact_headers; i++)
			free(p->redact[i]);
	free(p->redact);
	free(p->node_name);
	free(p);
}

/* ---------------------------------------------------------------------------
 * Counters */


static const char *const proto_names[L7_PROTO_MAX] = {
	[L7_PROTO_HTTP1] = "l7.detected.http",
	[L7_PROTO_HTTP2] = "l7.detected.http2",
	[L7_PROTO_DNS] = "l7.detected.dns",
	[L7_PROTO_KAFKA] = "l7.detected.kafka",
};

static int pc_cmp(const void *a, const void *b)
{
	return strcmp(((const struct parser_counter *)a)->name,
	              ((const struct parser_counter *)b)->name);
}

size_t pipeline_counters(const struct pipeline *p, struct pipeline_counter *out, size_t max)
{
	struct dns_cache_stats ds;
	dns_cache_get_stats(p->dns, &ds);
	const struct tcp_reasm_stats *rs = &p->pool.st;
	const struct ip_reasm_stats *rst = ip_reasm_get_stats(p->reasm);
	const struct pl_counters *c = &p->c;
	size_t n = 0;
#define PUT(nm, v) do { if (n < max) { out[n].name = (nm); out[n].value = (v); } n++; } while (0)
	PUT("packets", c->packets);
	PUT("bytes", c->bytes);
	PUT("packets.not_ip", c->not_ip);
	PUT("packets.l4_unknown", c->l4_unknown);
	PUT("packets.errors", c->parse_errors);
	for (int i = PKT_ERR_FIRST; i < PKT_STATUS_MAX; i++)
		PUT(p->error_names[i], c->parse_error[i]);
	PUT("packets.untracked_table_full", c->table_full);
	PUT("packets.fragment_unattributed", c->frag_unattributed);
	PUT("packets.clock_backwards", c->clock_backwards);
	PUT("conns.created", c->conns_created);
	PUT("conns.active", c->conns_active);
	PUT("flows.started", c->flows_started);
	PUT("flows.updated", c->flows_updated);
	PUT("flows.ended", c->flows_ended);
	PUT("tcp.midstream_conns", c->tcp_midstream);
	PUT("tcp.port_reuse", c->tcp_syn_reuse);
	PUT("tcp.rst", c->tcp_rst);
	PUT("tcp.segments", rs->segments);
	PUT("tcp.delivered_bytes", rs->delivered_bytes);
	PUT("tcp.retransmitted_bytes", rs->retransmitted_bytes);
	PUT("tcp.overlap_bytes", rs->overlap_bytes);
	PUT("tcp.out_of_order_segments", rs->ooo_segments);
	PUT("tcp.out_of_window_bytes", rs->out_of_window_bytes);
	PUT("tcp.gaps", rs->gaps);
	PUT("tcp.gap_bytes", rs->gap_bytes);
	PUT("tcp.gap_bytes_snaplen", rs->gap_bytes_snaplen);
	PUT("tcp.buffer_limit_skips", rs->limit_skips);
	PUT("tcp.buffer_limit_gap_bytes", rs->limit_skipped_bytes);
	PUT("memory.buffered_bytes", p->pool.used);
	PUT("memory.buffered_bytes_peak", p->pool.peak);
	PUT("udp.datagrams", c->udp_datagrams);
	PUT("udp.truncated", c->udp_truncated);
	PUT("udp.fragmented", c->udp_fragmented);
	PUT("udp.reassembled", c->udp_reassembled);
	PUT("udp.reassembled_untracked", c->udp_reassembled_untracked);
	PUT("ip_reasm.duplicates", rst->duplicates);
	PUT("ip_reasm.discarded_fragments", rst->discarded_fragments);
	PUT("ip_reasm.timeouts", rst->timeouts);
	PUT("ip_reasm.overlaps", rst->overlaps);
	PUT("ip_reasm.truncated", rst->truncated);
	PUT("ip_reasm.too_big", rst->too_big);
	PUT("ip_reasm.malformed", rst->malformed);
	PUT("ip_reasm.limit_drops", rst->limit_drops);
	PUT("ip_reasm.oom", rst->oom);
	PUT("ip_reasm.l7_off_drops", rst->discarded);
	PUT("ip_reasm.in_progress", rst->in_progress);
	PUT("memory.ip_reasm_bytes", rst->held_bytes);
	PUT("memory.ip_reasm_bytes_peak", rst->held_bytes_peak);
	for (int i = L7_PROTO_NONE + 1; i < L7_PROTO_MAX; i++)
		PUT(proto_names[i] ? proto_names[i] : "l7.detected.other", c->det_attached[i]);
	PUT("l7.detected_by_port_hint", c->det_by_port_hint);
	PUT("l7.undetected_conns", c->det_gave_up);
	PUT("l7.detect_discarded_bytes", c->det_discarded_bytes);
	PUT("l7.detect_no_buffer", c->det_oom);
	PUT("l7.protocol_switches", c->switches);
	PUT("l7.protocol_switch_failed", c->switch_failed);
	PUT("l7.parser_oom", c->parser_oom);
	PUT("l7.kafka_topics_dropped", c->kafka_topics_dropped);
	if (!p->dns_borrowed) {
		PUT("dns_cache.entries", ds.entries);
		PUT("dns_cache.adds", ds.adds);
		PUT("dns_cache.evictions", ds.evictions);
		PUT("dns_cache.names_dropped", ds.names_dropped);
		PUT("dns_cache.rejected", ds.rejected);
	}
	PUT("events", c->events);
	PUT("events.l34", c->events_l34);
	PUT("events.l7", c->events_l7);
	PUT("events.oom", c->events_oom);
	PUT("events.filtered_early", c->events_unwanted);
	PUT("parser_counters.dropped", p->pc_dropped);
	struct parser_counter sorted[MAX_PARSER_COUNTERS];
	memcpy(sorted, p->pc, p->n_pc * sizeof(sorted[0]));
	qsort(sorted, p->n_pc, sizeof(sorted[0]), pc_cmp);
	for (size_t i = 0; i < p->n_pc; i++)
		PUT(sorted[i].name, sorted[i].value);
#undef PUT
	return n;
}

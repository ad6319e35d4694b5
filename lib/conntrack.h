/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Conntrack / NAT enrichment (libnetfilter_conntrack): a bounded table of
 * the kernel's connection tracking entries, kept current from conntrack
 * events (NEW, UPDATE, DESTROY) and an initial dump, with on-demand kernel
 * queries for connections the table does not know. It answers "which
 * connection does this flow belong to, and how was it translated":
 *
 *   original tuple   the connection as its initiator sent it (pre-NAT)
 *   reply tuple      as the other side answers it (post-NAT, reversed)
 *
 * A flow seen anywhere along the path matches one of four tuples of its
 * entry: the original direction before or after NAT, the reply direction
 * before or after reverse NAT. So a flow through a DNAT is found both on
 * the client side (destination = the service address the client used) and
 * on the backend side (destination = the backend that answered).
 *
 * Without conntrack (module not loaded, no CAP_NET_ADMIN, netlink refused)
 * ct_open() fails with a one-line notice saying why and what is off; the
 * caller runs without enrichment. Conntrack is per network namespace: the
 * table sees the connections of the namespace it was opened in.
 *
 * Single-threaded: call ct_process() when ct_fd() is readable (or
 * periodically); lookups between calls see a consistent table.
 */
#ifndef FLOWD_CONNTRACK_H
#define FLOWD_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_event.h"

/* One direction of a connection. Ports in host order; ICMP/ICMPv6: the
 * echo identifier in both sport and dport. */
struct ct_tuple {
	uint8_t family;            /* 4 or 6 */
	uint8_t proto;             /* IPPROTO_* */
	uint16_t sport, dport;
	uint8_t src[16], dst[16];  /* IPv4 in the first 4 bytes, rest zero */
};

/* Conntrack status bits we report (IPS_* of linux/netfilter). */
#define CT_STATUS_SEEN_REPLY (1u << 1)
#define CT_STATUS_ASSURED (1u << 2)
#define CT_STATUS_SRC_NAT (1u << 4)
#define CT_STATUS_DST_NAT (1u << 5)

struct ct_entry {
	struct ct_tuple orig;      /* as the initiator sent it */
	struct ct_tuple reply;     /* as the responder sends back */
	uint32_t id;               /* kernel conntrack id */
	uint32_t status;           /* IPS_* bits */
	uint32_t mark;
	uint8_t tcp_state;         /* TCP_CONNTRACK_* (TCP only) */
	bool destroyed;            /* the kernel dropped it; kept for late flows */
	uint64_t updated_ns;       /* CLOCK_MONOTONIC of the last event */
};

/* Where along the path a looked-up tuple sits. */
enum ct_where {
	CT_ORIG_PRE_NAT = 0,       /* original direction, as the initiator sent it */
	CT_ORIG_POST_NAT,          /* original direction, after SNAT/DNAT */
	CT_REPLY_PRE_NAT,          /* reply direction, as the responder sent it */
	CT_REPLY_POST_NAT,         /* reply direction, after reverse NAT */
};

struct ct_table;

struct ct_opts {
	size_t max_entries;        /* 0: 65536; beyond, the least recently
	                            * updated entry is evicted (counted) */
	uint64_t destroyed_ttl_ns; /* keep destroyed entries this long (0: 120 s) */
	size_t rcvbuf;             /* netlink receive buffer (0: 4 MiB) */
	bool no_events;            /* only dump + on-demand queries */
	bool no_initial_dump;      /* do not read the kernel's table at open */
	bool offline;              /* no netlink at all: a table fed with
	                            * ct_feed() (tests, replays) */
};

struct ct_stats {
	uint64_t events_new, events_update, events_destroy;
	uint64_t dumped;           /* entries read by dumps */
	uint64_t overruns;         /* netlink buffer overflows: events lost, a
	                            * re-dump follows */
	uint64_t evicted;          /* entries dropped because the table was full */
	uint64_t expired;          /* destroyed entries dropped after the TTL */
	uint64_t queries, query_hits;
	uint64_t entries;          /* current */
};

/* Open the event subscription (and a query handle). Returns 0, or a
 * negative errno with a notice in err (e.g. "conntrack: no permission to
 * subscribe to conntrack events (CAP_NET_ADMIN needed); NAT enrichment
 * off"). */
int ct_open(struct ct_table **out, const struct ct_opts *opts, char *err, size_t errlen);
void ct_close(struct ct_table *t);

/* The event socket, for poll(); -1 with no_events. */
int ct_fd(const struct ct_table *t);
/* Read every pending event (non-blocking) and expire old destroyed
 * entries; re-dumps after an overrun. Returns the number of events, or a
 * negative errno. */
int ct_process(struct ct_table *t);
/* Read the kernel's whole table (both families). Returns entries read or a
 * negative errno. */
int ct_dump(struct ct_table *t);

/* Find the entry a tuple belongs to. Returns it (valid until the next
 * ct_process / ct_query) and where the tuple sits, or NULL. */
const struct ct_entry *ct_lookup(const struct ct_table *t, const struct ct_tuple *seen,
                                 enum ct_where *where);
/* Like ct_lookup, but asks the kernel when the table does not know the
 * tuple (as an original tuple, then as a reply tuple) and adds what it
 * finds. */
const struct ct_entry *ct_query(struct ct_table *t, const struct ct_tuple *seen,
                                enum ct_where *where);

void ct_get_stats(const struct ct_table *t, struct ct_stats *st);

/* Apply one event as if the kernel had sent it (CT_EV_*); for tests and
 * offline use. */
enum ct_event { CT_EV_NEW = 1, CT_EV_UPDATE, CT_EV_DESTROY };
void ct_feed(struct ct_table *t, enum ct_event ev, const struct ct_entry *e);

/* The tuple reversed (source and destination swapped). */
void ct_tuple_reverse(const struct ct_tuple *in, struct ct_tuple *out);
/* "tcp 198.18.0.2:40123 -> 198.18.0.1:8080" (IPv6 in brackets). */
void ct_tuple_format(const struct ct_tuple *t, char *out, size_t outlen);
/* Conntrack's TCP state name ("ESTABLISHED", ...), or NULL for non-TCP. */
const char *ct_tcp_state_name(const struct ct_entry *e);

/*
 * Put what conntrack knows on a flow event whose IP/l4 fields describe the
 * tuple found at `where`:
 *  - IP.source_xlated: the post-SNAT source, on flows of the original
 *    direction seen before SNAT (Hubble's meaning);
 *  - nothing else in Hubble's fields (Hubble has no field for the original
 *    and reply tuples): ct_entry_json() renders them for the flowd
 *    extension `flow.conntrack`.
 */
void ct_label_event(const struct ct_entry *e, enum ct_where where, struct flow_event *ev);

/*
 * The extension object (README "Conntrack"):
 * {"state":"ESTABLISHED","nat":["SNAT","DNAT"],"original":{"source":"..",
 *  "source_port":N,"destination":"..","destination_port":N},"reply":{...},
 *  "direction":"original"|"reply","destroyed":true}
 * Appended to out (no newline). Returns 0 or -ENOMEM.
 */
int ct_entry_json(const struct ct_entry *e, enum ct_where where, struct fe_buf *out);

#endif /* FLOWD_CONNTRACK_H */

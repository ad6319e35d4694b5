/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Payload capture, user-space side of the kernel interface
 * (include/payload_record.h): which flows the TC programs hand over
 * (selection), the ring size, the kernel's counters, marks on flows and
 * endpoints, and turning one ring record back into the frame that
 * `flowctl replay` would have read from a capture of the same interface.
 *
 *   struct payload_select s;
 *   payload_select_defaults(&s);                  // well-known L7 ports
 *   payload_select_parse_ports(&s, "default,8081", err, len);
 *   payload_bpf_set_ring_size(obj, 8 << 20);      // between open and load
 *   payload_bpf_configure(obj, &s, err, len);     // after load
 *   ... ring_buffer__new(payload_ring fd, cb) ... cb: payload_record_feed()
 */
#ifndef FLOWD_PAYLOAD_BPF_H
#define FLOWD_PAYLOAD_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_record.h"
#include "payload_record.h"

struct bpf_object;
struct pipeline;
struct flow_table;
struct flow_table_cfg;

struct payload_cidr {
	uint8_t family;        /* 4 or 6 */
	uint8_t prefix;        /* bits */
	uint8_t addr[16];
};

/* Which flows are captured, and how much of them. */
struct payload_select {
	bool enabled;
	bool tcp, udp;
	bool all_ports;
	uint64_t ports[PAYLOAD_PORT_WORDS];    /* bitmap; ignored when all_ports */
	struct payload_cidr cidrs[PAYLOAD_CIDRS_MAX];
	size_t n_cidrs;                        /* 0: any address */
	uint32_t snaplen;                      /* frame bytes per record */
	uint32_t budget_bytes;                 /* per directional flow and second
	                                        * (also the burst); 0: no budget */
	uint8_t probe_packets;                 /* see PAYLOAD_PROBE */
	uint32_t wakeup_bytes;                 /* see struct payload_config; 0:
	                                        * a quarter of the ring (set by
	                                        * payload_bpf_configure) */
};

/* The well-known ports of the parsers we have (HTTP, HTTP/2 and gRPC, DNS,
 * Kafka), as a 0-terminated list. */
extern const uint16_t payload_default_ports[];

/* Enabled, TCP and UDP, payload_default_ports, any address, snap length
 * PAYLOAD_SNAP_DEFAULT, budget PAYLOAD_BUDGET_DEFAULT, no probing. */
void payload_select_defaults(struct payload_select *s);

/* "80,8080,9000-9100", "default" (payload_default_ports) and "any" may be
 * mixed: "default,8081". Replaces the port set. 0, or -1 with err set. */
int payload_select_parse_ports(struct payload_select *s, const char *spec, char *err, size_t errlen);
/* "198.18.0.0/15", "2001:db8::/32", a bare address; comma-separated.
 * Adds to the CIDR set. */
int payload_select_parse_cidrs(struct payload_select *s, const char *spec, char *err, size_t errlen);
/* "tcp", "udp", "tcp,udp". Replaces the transport set. */
int payload_select_parse_l4(struct payload_select *s, const char *spec, char *err, size_t errlen);
static inline void payload_select_port(struct payload_select *s, uint16_t port)
{
	s->ports[port >> 6] |= 1ull << (port & 63);
}
static inline bool payload_select_has_port(const struct payload_select *s, uint16_t port)
{
	return s->all_ports || ((s->ports[port >> 6] >> (port & 63)) & 1);
}

/* The command-line options of live L7 (flowd's, see its --help). */
struct payload_options {
	bool on;                    /* --l7 / --no-l7 */
	struct payload_select select;
	uint64_t ring_size;         /* --ring-size, bytes */
};
/* opt: a long option's name without "--" (l7, no-l7, l7-ports, l7-cidr,
 * l7-proto, l7-budget, l7-detect, snaplen, ring-size), arg its value. Returns 1 if it
 * was one of these, 0 if not, -1 for a bad value (err says why). */
int payload_parse_option(struct payload_options *o, const char *opt, const char *arg,
                         char *err, size_t errlen);

/* Whether the kernel selects a flow between a:ap and b:bp (either
 * direction) by its transport, ports and CIDRs, as payload_decide() in
 * include/payload_capture.bpf.h does (endpoint marks and probing aside). */
bool payload_select_matches(const struct payload_select *s, uint8_t family, const uint8_t a[16],
                            uint16_t ap, const uint8_t b[16], uint16_t bp, uint8_t proto);

/* Between the TC object's open and load: the ring size in bytes (rounded
 * up to a power of two, at least a page) and a scratch buffer per possible
 * CPU. 0 or a negative errno. */
int payload_bpf_prepare(struct bpf_object *obj, uint64_t ring_bytes);

/* After load: write the selection into the object's maps. Flows already
 * decided keep their decision. 0, or a negative errno with err set. */
int payload_bpf_configure(struct bpf_object *obj, const struct payload_select *s,
                          char *err, size_t errlen);

/* Kernel counters (payload_counters summed over CPUs), enum payload_counter
 * order. 0 or a negative errno. */
int payload_bpf_read_counters(int counters_fd, uint64_t out[PAYLOAD_CNT_MAX]);

/* Endpoint mark (`payload_marks`): flow entries created from now on to or
 * from addr:port (proto 6/17) are captured (PAYLOAD_ON) or not
 * (PAYLOAD_OFF), whatever the port and CIDR selection says;
 * PAYLOAD_UNDECIDED removes the mark. The first mark turns the lookup on
 * (it costs two hash lookups per new flow). 0 or a negative errno. */
int payload_bpf_mark_endpoint(struct bpf_object *obj, uint8_t family, const uint8_t addr[16],
                              uint16_t port, uint8_t proto, uint8_t state);

/* Set the capture state of the live flow entries of key k (both the
 * duplicates flow_table.h allows) to state (PAYLOAD_ON / PAYLOAD_OFF).
 * Returns the number of entries changed. */
int payload_flow_mark(struct flow_table *t, const struct flow_table_cfg *cfg,
                      const struct flow_key *k, uint8_t state);

/* What payload_record_feed() did with records, for counters. */
struct payload_feed_stats {
	uint64_t records;
	uint64_t bad_records;     /* shorter than their header says: dropped */
	uint64_t parse_errors;    /* frames pkt_parse rejected (counted by the pipeline too) */
};

/* One ring record (data, size as the ring gave it) into the pipeline, as
 * replay would feed the same frame from a capture of that interface: the
 * VLAN tag the stack took off is put back, the frame re-parsed with
 * pkt_parse_eth, the wire length and the interface passed on. ts_ns: the
 * record's time (realtime ns). ifname: NULL or the interface's name.
 * Returns 0, or -1 for a malformed record (counted). */
int payload_record_feed(struct pipeline *pl, const void *data, size_t size, uint64_t ts_ns,
                        const char *ifname, struct payload_feed_stats *st);

#endif /* FLOWD_PAYLOAD_BPF_H */

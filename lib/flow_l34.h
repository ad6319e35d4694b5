/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * L3/L4 flow events from directional flow records (include/flow_record.h).
 *
 * One function turns a struct flow_key + struct flow_rec (+ the record of
 * the reverse direction when it is known) into a Hubble trace flow event
 * (Type L3_L4, event_type 4) with the flowd extension `flow.flow_stats`.
 * flowd (records from the BPF flow map) and the L7 pipeline (records built
 * from a capture) both use it, so the same traffic gives the same L3/L4
 * events live and replayed.
 *
 * Semantics (also in the README, "JSON schema"):
 *  - time: the packet time the event reports: the first packet for `start`,
 *    the last packet for `update` and `end`. Deterministic for a capture.
 *  - TCP flags: the first packet's flags for `start`, the union over all
 *    packets of the directional flow for `update` and `end`.
 *  - traffic_direction / trace_observation_point: the hook that saw the
 *    packets: ingress = INGRESS / FROM_NETWORK, egress = EGRESS / TO_NETWORK;
 *    event_type.sub_type carries the observation point's datapath code, as
 *    Cilium's trace events do.
 *  - is_reply: see flow_l34_is_reply().
 *  - ethernet: the MAC addresses of the first packet; absent when both are
 *    zero (no link layer: raw-IP captures, loopback).
 */
#ifndef FLOWD_FLOW_L34_H
#define FLOWD_FLOW_L34_H

#include <stdbool.h>
#include <stdint.h>

#include "flow_event.h"
#include "flow_record.h"

/* Observation points (TraceObservationPoint) and their datapath codes
 * (event_type.sub_type): the same numbers for these two. */
#define FLOW_L34_FROM_NETWORK 10
#define FLOW_L34_TO_NETWORK 11
#define FLOW_L34_EVENT_TRACE 4

struct flow_l34_opts {
	const char *node_name;    /* event node_name; NULL = absent */
	const char *ifname;       /* name of key->ifindex; NULL = index only */
	int64_t clock_offset_ns;  /* record time + offset = ns since the epoch
	                           * (flow_clock_offset_ns() for BPF records,
	                           * 0 for capture times) */
	const char *uuid;         /* 36-char UUID; NULL = absent */
};

/*
 * Fill a fresh event (flow_event_new()) with the L3/L4 event `what`
 * (FE_STATS_START/UPDATE/END) of the directional flow key/rec. rev is the
 * record of the reverse direction (flow_key_reverse()) or NULL when unknown;
 * it only informs is_reply. Strings are allocated from the event's arena.
 * Returns 0, -EINVAL for a key that is not IPv4/IPv6, -ENOMEM.
 */
int flow_l34_event(struct flow_event *ev, enum fe_stats_event what,
                   const struct flow_key *key, const struct flow_rec *rec,
                   const struct flow_rec *rev, const struct flow_l34_opts *opts);

/*
 * Is this directional flow the reply direction? 1 reply, 0 original,
 * -1 unknown (is_reply absent). Decided from stable facts only, so the
 * start, update and end events of a flow agree, in this order:
 *  1. TCP handshake: own first packet SYN without ACK -> 0; SYN+ACK -> 1.
 *     Else the reverse record's first packet: SYN -> 1, SYN+ACK -> 0.
 *  2. ICMP/ICMPv6: request types (echo, timestamp, information, address
 *     mask, router/neighbor solicitation, MLD query...) -> 0, their
 *     replies -> 1; errors are "related" packets, not replies (as in
 *     Cilium) -> 0.
 *  3. Ports (handshake not seen: flow older than flowd, UDP, SCTP): the
 *     side that looks like a server sends replies. Ranks: well-known
 *     (< 1024) > registered (1024-32767) > ephemeral (>= 32768, Linux's
 *     default ephemeral range starts there); equal ranks: the lower port is
 *     the server.
 *  4. Equal ports or no ports: the direction seen first is the original;
 *     with no reverse record known -> 0; same first-seen time -> -1.
 */
int flow_l34_is_reply(const struct flow_key *key, const struct flow_rec *rec,
                      const struct flow_rec *rev);

/*
 * The key of the reverse direction: addresses and ports swapped; ICMP echo
 * and other request/reply pairs map to the matching type (echo request
 * 8/0 <-> echo reply 0/0, same identifier). ifindex, vlan and direction are
 * kept (a caller that sees both directions on different hooks flips
 * direction itself). Returns false when the flow has no reverse (ICMP
 * errors and other one-way ICMP types).
 */
bool flow_key_reverse(const struct flow_key *key, struct flow_key *out);

/*
 * Fold one per-CPU value into an accumulator (zero-initialise it first):
 * packets and bytes add, first_seen is the earliest, last_seen the latest,
 * flags OR; first_tcp_flags and the MAC addresses come from the CPU that
 * saw the earliest packet. Values with packets == 0 are ignored.
 */
void flow_rec_merge(struct flow_rec *acc, const struct flow_rec *cpu);

/* CLOCK_REALTIME - CLOCK_MONOTONIC now, in ns: add it to bpf_ktime_get_ns()
 * (and bpf_ktime_get_coarse_ns()) values to get ns since the epoch.
 * Re-read it periodically: the offset moves when the wall clock is set. */
int64_t flow_clock_offset_ns(void);

/* Address text as Go's net.IP.String() writes it (what Hubble prints):
 * dotted quad; IPv6 lowercase with the longest run (>= 2) of zero groups
 * compressed; IPv4-mapped IPv6 as dotted quad. out: >= 46 bytes. */
void flow_addr_format(uint8_t family, const uint8_t addr[FLOW_ADDR_LEN], char out[46]);

/* Format 16 random bytes as a version 4 UUID (36 chars + NUL). */
void flow_uuid_v4(const uint8_t rnd[16], char out[37]);

#endif /* FLOWD_FLOW_L34_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Payload capture for the TC programs: hands the packets of selected flows
 * to flowd through a BPF ring buffer (record layout, selection rules and
 * counters: include/payload_record.h). BPF only; include after
 * flow_account.bpf.h.
 *
 * Maps:
 *   payload_ring      ring buffer of struct payload_record + frame bytes
 *   payload_cfg       struct payload_config (one entry)
 *   payload_ports     port bitmap, 1024 x __u64
 *   payload_cidrs     LPM trie of struct payload_cidr_key
 *   payload_marks     hash endpoint -> enum payload_state (set by flowd)
 *   payload_counters  per-CPU __u64[PAYLOAD_CNT_MAX]
 *   payload_buf       a scratch record per CPU, indexed by CPU number (the
 *                     frame is copied here, then into the ring with its
 *                     exact length; an array, not a per-CPU array, whose
 *                     values are limited to 32 KiB)
 *
 * Cost: the decision is taken once per flow entry (at its first packet on
 * a TC hook) and kept in the entry (pl_state), on the cache line the
 * accounting has just written. A packet of a flow that is not selected
 * costs one load and a branch; a selected one a clock read, the copy of
 * up to snaplen bytes and the ring buffer output.
 */
#ifndef FLOWD_PAYLOAD_CAPTURE_BPF_H
#define FLOWD_PAYLOAD_CAPTURE_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "flow_table.h"
#include "payload_record.h"
#include "pkt_parse.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);  /* flowd sets the size (--ring-size) */
} payload_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct payload_config);
} payload_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PAYLOAD_PORT_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} payload_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PAYLOAD_CIDRS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct payload_cidr_key);
	__type(value, __u8);
} payload_cidrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PAYLOAD_MARKS_MAX);
	__type(key, struct payload_mark_key);
	__type(value, __u8);
} payload_marks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PAYLOAD_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} payload_counters SEC(".maps");

struct payload_scratch {
	struct payload_record r;
	__u8 frame[PAYLOAD_SNAP_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);   /* flowd sets the number of possible CPUs */
	__type(key, __u32);
	__type(value, struct payload_scratch);
} payload_buf SEC(".maps");

static __always_inline void payload_cnt_add(__u32 idx, __u64 v)
{
	__u64 *c = bpf_map_lookup_elem(&payload_counters, &idx);

	if (c)
		*c += v;
}

static __always_inline int payload_port_on(__u16 port)
{
	__u32 w = port >> 6;
	__u64 *bits = bpf_map_lookup_elem(&payload_ports, &w);

	return bits && ((*bits >> (port & 63)) & 1);
}

static __always_inline int payload_cidr_on(const __u8 *addr, __u8 family)
{
	struct payload_cidr_key k;

	__builtin_memset(&k, 0, sizeof(k));
	k.prefixlen = 8 + (family == 4 ? 32 : 128);
	k.family = family;
	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(&payload_cidrs, &k) != NULL;
}

static __always_inline __u8 *payload_mark(const __u8 *addr, __u16 port, const struct flow_key *fk)
{
	struct payload_mark_key k;

	__builtin_memset(&k, 0, sizeof(k));
	__builtin_memcpy(k.addr, addr, 16);
	k.port = port;
	k.family = fk->family;
	k.proto = fk->proto;
	return bpf_map_lookup_elem(&payload_marks, &k);
}

/* First packet of a flow entry on a TC hook: select it or not (rules in
 * payload_record.h) by its key, start its budget. */
static __always_inline __u8 payload_decide(struct flow_entry *e, const struct payload_config *cfg,
                                           __u64 now)
{
	const struct flow_key *fk = &e->key;
	__u8 l4 = fk->proto == 6 ? PAYLOAD_L4_TCP : fk->proto == 17 ? PAYLOAD_L4_UDP : 0;
	__u8 st = PAYLOAD_OFF;

	if (cfg->enabled && (cfg->l4_mask & l4)) {
		__u8 *m = NULL;

		if (cfg->use_marks) {
			m = payload_mark(fk->daddr, fk->dport, fk);
			if (!m)
				m = payload_mark(fk->saddr, fk->sport, fk);
		}
		if (m) {
			st = *m == PAYLOAD_ON ? PAYLOAD_ON : PAYLOAD_OFF;
		} else if ((cfg->all_ports || payload_port_on(fk->sport) || payload_port_on(fk->dport)) &&
		           (!cfg->use_cidrs || payload_cidr_on(fk->saddr, fk->family) ||
		            payload_cidr_on(fk->daddr, fk->family))) {
			st = PAYLOAD_ON;
		} else if (cfg->probe_packets) {
			st = PAYLOAD_PROBE;
			e->pl_probe = cfg->probe_packets;
		}
	}
	e->pl_tokens = cfg->budget_bytes;
	e->pl_refill_ns = now;
	e->pl_state = st;
	payload_cnt_add(st == PAYLOAD_ON ? PAYLOAD_CNT_FLOWS_ON
	                : st == PAYLOAD_PROBE ? PAYLOAD_CNT_FLOWS_PROBE : PAYLOAD_CNT_FLOWS_OFF, 1);
	return st;
}

/* Token bucket of one directional flow: budget_bytes burst, refilled per
 * 2^20 ns (~1 ms). Entries are shared by all CPUs and updated without
 * atomics: a budget, not a counter (the counters are exact). */
static __always_inline void payload_refill(struct flow_entry *e, const struct payload_config *cfg,
                                           __u64 now)
{
	__u64 last = e->pl_refill_ns, units, t;

	if (now <= last)
		return;
	units = (now - last) >> 20;
	if (!units)
		return;
	if (units > (1u << 24))
		units = 1u << 24;
	t = e->pl_tokens + units * cfg->budget_per_unit;
	e->pl_tokens = t > cfg->budget_bytes ? cfg->budget_bytes : (__u32)t;
	e->pl_refill_ns = last + (units << 20);
}

/*
 * A packet of flow entry e (not PAYLOAD_OFF) at a TC hook. hdr: offset of
 * the L4 payload in the frame; plen: its length per the IP header
 * (pkt_info payload_off/payload_len). Selection uses the entry's key.
 *
 * A global function: the verifier checks it once, on its own, instead of
 * once per path through the parser and the flow table before it; and it
 * takes scalars, not the parser's struct pkt_info, whose stack slots
 * would otherwise stay live across all those paths and keep the verifier
 * from merging them.
 */
__noinline int payload_capture(struct __sk_buff *skb, struct flow_entry *e, __u32 hdr, __u32 plen)
{
	__u32 zero = 0, len, wire_len, cap, got, flags = 0;
	__u64 wake;
	struct payload_config *cfg;
	struct payload_scratch *b;
	__u64 now;
	__u8 st;

	if (!e)
		return 0;
	len = skb->len;
	wire_len = skb->vlan_present ? len + 4 : len;
	cfg = bpf_map_lookup_elem(&payload_cfg, &zero);
	if (!cfg)
		return 0;
	now = bpf_ktime_get_ns();
	st = e->pl_state;
	if (st == PAYLOAD_UNDECIDED)
		st = payload_decide(e, cfg, now);
	if (st == PAYLOAD_PROBE && plen) {
		if (!e->pl_probe) {
			e->pl_state = PAYLOAD_OFF;
			return 0;
		}
		e->pl_probe--;
	} else if (st != PAYLOAD_ON && st != PAYLOAD_PROBE) {
		return 0;
	}

	/* snap length: the payload beyond it is a gap of known size */
	cap = len < cfg->snaplen ? len : cfg->snaplen;
	got = cap > hdr ? cap - hdr : 0;
	if (got > plen)
		got = plen;
	if (got < plen) {
		flags |= PAYLOAD_F_SNAP_CUT;
		payload_cnt_add(PAYLOAD_CNT_SNAP_CUT, 1);
		payload_cnt_add(PAYLOAD_CNT_SNAP_CUT_BYTES, plen - got);
	}
	/* budget: the first head_bytes of every packet's payload are free (a
	 * message header usually starts a packet: the parsers keep finding
	 * the next message), the rest costs tokens; when they run out, the
	 * rest of the packet is a gap */
	if (cfg->budget_bytes && got > cfg->head_bytes) {
		__u32 over = got - cfg->head_bytes;

		payload_refill(e, cfg, now);
		if (over > e->pl_tokens) {
			__u32 t = e->pl_tokens;

			flags |= PAYLOAD_F_BUDGET_CUT;
			payload_cnt_add(PAYLOAD_CNT_BUDGET_CUT, 1);
			payload_cnt_add(PAYLOAD_CNT_BUDGET_CUT_BYTES, over - t);
			cap = hdr + cfg->head_bytes + t;
			e->pl_tokens = 0;
		} else {
			e->pl_tokens -= over;
		}
	}

	{
		/* TC programs run with migration disabled: this CPU's slot is ours */
		__u32 cpu = bpf_get_smp_processor_id();

		b = bpf_map_lookup_elem(&payload_buf, &cpu);
	}
	if (!b) {
		payload_cnt_add(PAYLOAD_CNT_COPY_ERR, 1);
		return 0;
	}
	b->r.ktime_ns = now;
	b->r.ifindex = skb->ifindex;
	b->r.wire_len = wire_len;
	b->r.flags = flags;
	b->r.direction = e->key.direction;
	if (skb->vlan_present) {
		b->r.flags |= PAYLOAD_F_VLAN;
		b->r.vlan_tci = skb->vlan_tci;
		b->r.vlan_proto = bpf_ntohs(skb->vlan_proto);
	} else {
		b->r.vlan_tci = 0;
		b->r.vlan_proto = 0;
	}
	/* bounds the verifier can follow: 1 <= cap <= PAYLOAD_SNAP_MAX */
	asm volatile("" : "+r"(cap));
	if (cap < 1 || cap > PAYLOAD_SNAP_MAX)
		return 0;
	b->r.cap_len = cap;
	if (bpf_skb_load_bytes(skb, 0, b->frame, cap)) {
		payload_cnt_add(PAYLOAD_CNT_COPY_ERR, 1);
		return 0;
	}
	/* wake the reader once, when the data waiting crosses wakeup_bytes
	 * (a wakeup per record beyond it would cost microseconds each) */
	wake = 0;
	if (cfg->wakeup_bytes) {
		__u64 avail = bpf_ringbuf_query(&payload_ring, BPF_RB_AVAIL_DATA);

		wake = avail < cfg->wakeup_bytes && avail + sizeof(b->r) + cap >= cfg->wakeup_bytes
		       ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	}
	if (bpf_ringbuf_output(&payload_ring, b, sizeof(b->r) + cap, wake)) {
		payload_cnt_add(PAYLOAD_CNT_RING_FULL, 1);
		payload_cnt_add(PAYLOAD_CNT_RING_FULL_BYTES, wire_len);
		return 0;
	}
	payload_cnt_add(PAYLOAD_CNT_RECORDS, 1);
	payload_cnt_add(PAYLOAD_CNT_RECORD_BYTES, cap);
	return 0;
}

/* After accounting: e = the flow's entry or NULL. The hit path of a flow
 * that is not selected ends at the pl_state test. */
static __always_inline void payload_after_account(struct __sk_buff *skb, struct flow_entry *e, int st,
                                                  const struct pkt_info *pi)
{
	if (e) {
		if (e->pl_state != PAYLOAD_OFF)
			payload_capture(skb, e, pi->payload_off, pi->payload_len);
	} else if (st == PKT_OK) {
		/* a flow key but no entry: the table is full (testing the
		 * protocol here too would multiply the verifier's states) */
		payload_cnt_add(PAYLOAD_CNT_NO_ENTRY, 1);
	}
}

#endif /* FLOWD_PAYLOAD_CAPTURE_BPF_H */

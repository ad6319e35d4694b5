/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-direction flow accounting, written once for xdp/ and tc/ so both
 * hooks have identical record semantics. BPF only.
 *
 * Maps (names are the contract with flowd; an object loaded second reuses
 * the first one's maps, bpf_map__reuse_fd()):
 *   flow_sigs      the flow table: struct flow_sig_bucket[buckets] and
 *   flows          struct flow_entry[buckets * 16], mmapable (layout and
 *                  protocol: include/flow_table.h).
 *   flow_overflow  hash struct flow_key -> struct flow_entry: when both
 *                  candidate buckets of a new flow are full, its packets
 *                  are counted in the entry of key {ifindex, direction}
 *                  (all else zero) instead, so interface totals stay exact.
 *   flow_counters  per-CPU array of __u64 indexed by enum flow_counter.
 *   frag_ports     LRU hash {addresses, IP id, proto} -> ports of a first
 *                  fragment, to attribute the later fragments to its flow.
 *   flow_clock     per-CPU {ktime ns, jiffies} anchor for last_seen.
 * Rodata: flow_cfg (struct flow_table_cfg), the same in every object.
 *
 * Hit path: parse, hash, inlined array lookups, signature scan, key
 * compare, two atomic adds and a store, all on one entry cache line plus a
 * store to the next. No helper calls: bpf_jiffies64() and array lookups
 * are inlined by the verifier.
 */
#ifndef FLOWD_FLOW_ACCOUNT_BPF_H
#define FLOWD_FLOW_ACCOUNT_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "flow_record.h"
#include "flow_table.h"
#include "pkt_parse.h"

#define FLOW_OVERFLOW_ENTRIES 4096 /* interfaces x 2 directions */
#define FRAG_PORTS_ENTRIES 8192

const volatile struct flow_table_cfg flow_cfg = FLOW_TABLE_CFG_DEFAULT;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLOW_TABLE_DEFAULT_BUCKETS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct flow_sig_bucket);
} flow_sigs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLOW_TABLE_DEFAULT_BUCKETS * FLOW_BUCKET_WAYS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct flow_entry);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FLOW_OVERFLOW_ENTRIES);
	__type(key, struct flow_key);
	__type(value, struct flow_entry);
} flow_overflow SEC(".maps");

/* Per CPU: where a new flow_overflow record is built. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct flow_entry);
} flow_overflow_init SEC(".maps");

/* Per CPU: the packet flow_account_n() last found no room for in the
 * table (key.family 0: it had no key), for a program that judges such
 * packets alone (flow_policy.bpf.h) in the same run. */
struct flow_no_room {
	struct flow_key key;
	__u16 tcp_flags;
	__u8 pad[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct flow_no_room);
} flow_no_room SEC(".maps");

struct flow_clock {
	__u64 ns;        /* bpf_ktime_get_ns() ... */
	__u64 jiffies;   /* ... taken at this jiffy */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct flow_clock);
} flow_clock SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FLOW_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} flow_counters SEC(".maps");

struct frag_key {
	__u8 saddr[FLOW_ADDR_LEN];
	__u8 daddr[FLOW_ADDR_LEN];
	__u32 id;
	__u8 family;
	__u8 proto;
	__u8 pad[2];
};

struct frag_val {
	__u16 sport;
	__u16 dport;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FRAG_PORTS_ENTRIES);
	__type(key, struct frag_key);
	__type(value, struct frag_val);
} frag_ports SEC(".maps");

/* Keep *p in memory: for a struct pkt_info, clang otherwise splits it into
 * scalars that it zeroes and spills per parse path (~20 ns per packet). */
#define flow_keep_in_memory(p) asm volatile("" : : "r"(p) : "memory")

/* CONFIG_HZ of the running kernel (libbpf reads it from the kernel config
 * at load); 0 if unknown: then last_seen uses the coarse clock (+20 ns). */
extern unsigned int CONFIG_HZ __kconfig __weak;

static __always_inline void flow_cnt_add(__u32 idx, __u64 v)
{
	__u64 *c = bpf_map_lookup_elem(&flow_counters, &idx);

	if (c)
		*c += v;
}

/* ns per jiffy: a constant for the usual HZ values (CONFIG_HZ is known at
 * load, so the verifier drops the other branches). */
static __always_inline __u64 flow_tick_ns(void)
{
	switch (CONFIG_HZ) {
	case 100: return 10000000;
	case 250: return 4000000;
	case 300: return 3333333;
	case 1000: return 1000000;
	default: return 1000000000 / CONFIG_HZ;
	}
}

/* Exact time, and it re-anchors this CPU's clock. */
static __always_inline __u64 flow_now_exact(void)
{
	__u32 k = 0;
	struct flow_clock *c = bpf_map_lookup_elem(&flow_clock, &k);
	__u64 now = bpf_ktime_get_ns();

	if (c) {
		c->ns = now;
		c->jiffies = bpf_jiffies64();
	}
	return now;
}

/* last_seen time: this CPU's anchor (an exact time taken at a known jiffy)
 * plus whole jiffies since, i.e. within one tick of the truth for the
 * price of two loads; re-anchored at least once a second.
 * bpf_ktime_get_ns() costs ~40 ns here, the coarse clock ~20 ns. */
static __always_inline __u64 flow_now_tick(void)
{
	__u32 k = 0;
	struct flow_clock *c;
	__u64 j;

	if (!CONFIG_HZ)
		return bpf_ktime_get_coarse_ns();
	c = bpf_map_lookup_elem(&flow_clock, &k);
	if (!c)
		return bpf_ktime_get_coarse_ns();
	j = bpf_jiffies64();
	if (j - c->jiffies >= CONFIG_HZ || !c->ns)
		return flow_now_exact();
	return c->ns + (j - c->jiffies) * flow_tick_ns();
}

static __always_inline void flow_entry_init(struct flow_entry *e, const struct pkt_info *pi, __u64 bytes,
                                            __u64 packets)
{
	e->bytes = bytes;
	e->packets_flags = FLOW_PKT_ONE * packets | pi->tcp_flags;
	e->first_seen_ns = flow_now_exact();
	e->last_seen_ns = e->first_seen_ns;
	e->first_tcp_flags = pi->tcp_flags;
	__builtin_memcpy(e->eth_src, pi->eth_src, 6);
	__builtin_memcpy(e->eth_dst, pi->eth_dst, 6);
	/* slots are reused: a new flow starts undecided for payload capture */
	e->pl_state = 0;
	e->pl_probe = 0;
	e->pl_tokens = 0;
	e->pl_refill_ns = 0;
	/* and unjudged by the policy (flow_policy.bpf.h) */
	e->policy.gen = 0;
}

/* In place, concurrently with other CPUs. pf: packets_flags as read with
 * the key (the flags test must not re-read after the atomics). */
static __always_inline void flow_entry_update(struct flow_entry *e, __u64 pf,
                                              const struct pkt_info *pi, __u64 bytes, __u64 packets)
{
	__u64 now = flow_now_tick();

	__sync_fetch_and_add(&e->packets_flags, FLOW_PKT_ONE * packets);
	__sync_fetch_and_add(&e->bytes, bytes);
	/* Flags only gain bits: an atomic or only when one is new (rare). It
	 * cannot disturb the packet count: adds never carry into bit 16-. */
	if ((FLOW_PF_FLAGS(pf) | pi->tcp_flags) != FLOW_PF_FLAGS(pf))
		__sync_fetch_and_or(&e->packets_flags, (__u64)pi->tcp_flags);
	e->last_seen_ns = now;
}

static __always_inline int flow_key_eq(const struct flow_key *a, const __u64 *w)
{
	const __u64 *x = (const __u64 *)(const void *)a;

	return ((x[0] ^ w[0]) | (x[1] ^ w[1]) | (x[2] ^ w[2]) | (x[3] ^ w[3]) |
	        (x[4] ^ w[4]) | (x[5] ^ w[5])) == 0;
}

/* Claim a free way of bucket bi (signatures sb) and fill it; the entry, or
 * NULL when the bucket has no free way. */
static __always_inline struct flow_entry *flow_insert(struct flow_sig_bucket *sb, __u32 bi, const struct flow_key *key,
                                       __u32 sig, const struct pkt_info *pi, __u64 bytes, __u64 packets)
{
	for (int i = 0; i < FLOW_BUCKET_WAYS; i++) {
		struct flow_entry *e;
		__u32 idx;

		if (sb->sig[i] != FLOW_SIG_FREE ||
		    __sync_val_compare_and_swap(&sb->sig[i], FLOW_SIG_FREE, FLOW_SIG_BUSY) != FLOW_SIG_FREE)
			continue;
		idx = bi * FLOW_BUCKET_WAYS + i;
		e = bpf_map_lookup_elem(&flows, &idx);
		if (!e) {
			sb->sig[i] = FLOW_SIG_FREE;
			return NULL;
		}
		e->key = *key;
		flow_entry_init(e, pi, bytes, packets);
		/* publish (a full barrier: key and record are visible first) */
		__sync_val_compare_and_swap(&sb->sig[i], FLOW_SIG_BUSY, sig);
		return e;
	}
	return NULL;
}

static __always_inline __u64 flow_free_ways(const struct flow_sig_bucket *s)
{
	__u64 n = 0;

	/* branch-free ((sig - 1) >> 63 is 1 only for sig == 0): with branches
	 * the verifier would walk 2^16 paths */
	for (int i = 0; i < FLOW_BUCKET_WAYS; i++) {
		__u64 v = s->sig[i];

		v -= 1;
		asm volatile("" : "+r"(v));
		n += v >> 63;
	}
	return n;
}

/* Account into the flow table; the flow's entry, or NULL when both buckets
 * are full. */
static __always_inline struct flow_entry *flow_table_account(const struct flow_key *key, const struct pkt_info *pi,
                                              __u64 bytes, __u64 packets)
{
	const __u64 *w = (const __u64 *)(const void *)key;
	struct flow_sig_bucket *sa, *sb;
	struct flow_hash h;

	flow_table_hash(&flow_cfg, w, &h);
	sa = bpf_map_lookup_elem(&flow_sigs, &h.a);
	sb = bpf_map_lookup_elem(&flow_sigs, &h.b);
	if (!sa || !sb)
		return NULL;  /* flow_cfg.buckets larger than the maps: misconfigured */
	/* start fetching B's signatures while A's are scanned (a load whose
	 * value nothing waits for acts as a prefetch) */
	{
		__u32 pf = sb->sig[0];

		asm volatile("" : : "r"(pf));
	}
	for (int c = 0; c < 2; c++) {
		struct flow_sig_bucket *s = c ? sb : sa;
		__u32 base = (c ? h.b : h.a) * FLOW_BUCKET_WAYS;

		for (int i = 0; i < FLOW_BUCKET_WAYS; i++) {
			struct flow_entry *e;
			__u32 idx = base + i;
			__u64 pf;

			if (s->sig[i] != h.sig)
				continue;
			e = bpf_map_lookup_elem(&flows, &idx);
			if (!e)
				continue;
			pf = e->packets_flags;
			if (flow_key_eq(&e->key, w)) {
				flow_entry_update(e, pf, pi, bytes, packets);
				return e;
			}
		}
	}
	/* miss: insert into the bucket with more free ways (lines are hot now) */
	if (flow_free_ways(sb) > flow_free_ways(sa)) {
		struct flow_sig_bucket *ts = sa;
		__u32 tb = h.a;

		sa = sb;
		h.a = h.b;
		sb = ts;
		h.b = tb;
	}
	{
		struct flow_entry *e = flow_insert(sa, h.a, key, h.sig, pi, bytes, packets);

		if (!e)
			e = flow_insert(sb, h.b, key, h.sig, pi, bytes, packets);
		if (e)
			flow_cnt_add(FLOW_CNT_NEW_FLOWS, 1);
		return e;
	}
}

/* The entry of key without accounting (a program that only reads, e.g. TC
 * ingress payload capture when XDP counts); NULL if not in the table. */
static __always_inline struct flow_entry *flow_table_find(const struct flow_key *key)
{
	const __u64 *w = (const __u64 *)(const void *)key;
	struct flow_hash h;

	flow_table_hash(&flow_cfg, w, &h);
	for (int c = 0; c < 2; c++) {
		__u32 b = c ? h.b : h.a;
		struct flow_sig_bucket *s = bpf_map_lookup_elem(&flow_sigs, &b);

		if (!s)
			return NULL;
		for (int i = 0; i < FLOW_BUCKET_WAYS; i++) {
			struct flow_entry *e;
			__u32 idx = b * FLOW_BUCKET_WAYS + i;

			if (s->sig[i] != h.sig)
				continue;
			e = bpf_map_lookup_elem(&flows, &idx);
			if (e && flow_key_eq(&e->key, w))
				return e;
		}
	}
	return NULL;
}

/* The per-interface overflow record (kernel hash: only used when the table
 * is full, so its cost does not matter). 0 on success. */
static __always_inline int flow_overflow_account(__u32 ifindex, __u8 direction,
                                                 const struct pkt_info *pi, __u64 bytes, __u64 packets)
{
	struct flow_entry *e, *init;
	struct flow_key key;
	__u32 zero = 0;

	__builtin_memset(&key, 0, sizeof(key));
	key.ifindex = ifindex;
	key.direction = direction;
	for (int tries = 0; tries < 2; tries++) {
		e = bpf_map_lookup_elem(&flow_overflow, &key);
		if (e) {
			flow_entry_update(e, e->packets_flags, pi, bytes, packets);
			return 0;
		}
		/* built in per-CPU memory: 128 bytes less stack, which the
		 * policy's functions need (flow_policy.bpf.h) */
		init = bpf_map_lookup_elem(&flow_overflow_init, &zero);
		if (!init)
			return -1;
		__builtin_memset(init, 0, sizeof(*init));
		init->key = key;
		flow_entry_init(init, pi, bytes, packets);
		if (!bpf_map_update_elem(&flow_overflow, &key, init, BPF_NOEXIST))
			return 0;
		/* EEXIST: another CPU created it; look it up again */
	}
	return -1;
}

static __always_inline void flow_frag_key(struct frag_key *fk, const struct pkt_info *pi)
{
	__builtin_memset(fk, 0, sizeof(*fk));
	__builtin_memcpy(fk->saddr, pi->saddr, FLOW_ADDR_LEN);
	__builtin_memcpy(fk->daddr, pi->daddr, FLOW_ADDR_LEN);
	fk->id = pi->frag_id;
	fk->family = pi->family;
	fk->proto = pi->proto;
}

/* Fragments: the first remembers its ports, later ones borrow them. */
static __always_inline void flow_frag(const struct pkt_info *pi, struct flow_key *key)
{
	struct frag_key fk;
	struct frag_val *fv, v;

	flow_frag_key(&fk, pi);
	if (pi->frag == PKT_FRAG_FIRST) {
		flow_cnt_add(FLOW_CNT_FRAG_FIRST, 1);
		v.sport = key->sport;
		v.dport = key->dport;
		bpf_map_update_elem(&frag_ports, &fk, &v, BPF_ANY);
		return;
	}
	flow_cnt_add(FLOW_CNT_FRAG_LATER, 1);
	fv = bpf_map_lookup_elem(&frag_ports, &fk);
	if (fv) {
		key->sport = fv->sport;
		key->dport = fv->dport;
	} else {
		flow_cnt_add(FLOW_CNT_FRAG_NO_FIRST, 1);
	}
}

/*
 * Account one parsed frame, or a GSO packet of `packets` frames. st:
 * pkt_parse_eth()'s result; pi: as parsed, with pi->vlan_ids[0] the outer
 * VID as on the wire; bytes: the frames' length at the hook incl. L2 (as
 * on the wire, all of them). Returns the flow's entry in the table, or
 * NULL: no flow key (flow_no_room.key.family is then 0), or the table is
 * full (flow_no_room holds the key).
 */
static __always_inline struct flow_entry *flow_account_n(int st, const struct pkt_info *pi,
                                                         __u64 bytes, __u64 packets,
                                                         __u32 ifindex, __u8 direction)
{
	struct flow_no_room *nr;
	struct flow_entry *e;
	struct flow_key key;
	__u32 zero = 0;

	flow_cnt_add(FLOW_CNT_PACKETS, packets);
	flow_cnt_add(FLOW_CNT_BYTES, bytes);
	if (st != PKT_OK) {
		flow_cnt_add(FLOW_CNT_FOR_STATUS(st), packets);
		if (st != PKT_L4_UNKNOWN) {
			flow_cnt_add(FLOW_CNT_NO_KEY_PACKETS, packets);
			flow_cnt_add(FLOW_CNT_NO_KEY_BYTES, bytes);
			nr = bpf_map_lookup_elem(&flow_no_room, &zero);
			if (nr)
				nr->key.family = 0;   /* no key */
			return NULL;
		}
	}
	flow_key_from_pkt(pi, ifindex, direction, &key);
	if (pi->frag != PKT_FRAG_NONE)
		flow_frag(pi, &key);
	e = flow_table_account(&key, pi, bytes, packets);
	if (e)
		return e;

	/* no room for this flow: count visibly, keep the interface totals exact */
	nr = bpf_map_lookup_elem(&flow_no_room, &zero);
	if (nr) {
		nr->key = key;
		nr->tcp_flags = pi->tcp_flags;
	}
	flow_cnt_add(FLOW_CNT_MAP_FULL_PACKETS, packets);
	flow_cnt_add(FLOW_CNT_MAP_FULL_BYTES, bytes);
	if (!flow_overflow_account(ifindex, direction, pi, bytes, packets))
		return NULL;
	flow_cnt_add(FLOW_CNT_LOST_PACKETS, packets);
	flow_cnt_add(FLOW_CNT_LOST_BYTES, bytes);
	return NULL;
}

/* One frame (XDP). */
static __always_inline struct flow_entry *flow_account(int st, const struct pkt_info *pi, __u64 bytes,
                                                       __u32 ifindex, __u8 direction)
{
	return flow_account_n(st, pi, bytes, 1, ifindex, direction);
}

#endif /* FLOWD_FLOW_ACCOUNT_BPF_H */

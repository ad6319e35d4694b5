/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The flow table shared by the BPF programs (writers) and flowd (reader,
 * evictor): two BPF_MAP_TYPE_ARRAY maps, BPF_F_MMAPABLE so flowd reads them
 * in place (flow_table_mmap()):
 *   flow_sigs  struct flow_sig_bucket[buckets]: 16 signatures per bucket
 *   flows      struct flow_entry[buckets * 16]: way i of bucket b is
 *              flows[b * FLOW_BUCKET_WAYS + i]
 * Why not a kernel hash map: on this class of machine a BPF hash lookup
 * alone costs 40-50 ns (jhash of the 48-byte key, call, memcmp), more than
 * 2x a bare XDP_PASS; two inlined array lookups plus this hash cost ~8 ns.
 * See README "Datapath: flow map choice".
 *
 * Layout: 2-choice, 16-way set-associative. A key hashes to two buckets
 * (flow_table_hash()); it lives in one way of one of them, inserted into
 * the one with more free ways ("power of two choices": simulated, no
 * insert fails below ~85% load where one choice starts failing at ~30%).
 * A bucket's signatures fill one cache line and the signature table is
 * small (4 bytes per slot), so a lookup reads one or two signature lines
 * and then the first cache line of one 128-byte entry; the packet only
 * writes the second line (last_seen).
 *
 *   sig == FLOW_SIG_FREE   way unused
 *   sig == FLOW_SIG_BUSY   a BPF program is filling it (not yet visible)
 *   sig == FLOW_SIG_EVICT  flowd is retiring it: packets no longer match it
 *   sig >= FLOW_SIG_USED   in use; the value is a hash signature of the key
 *
 * Protocol (writers are the BPF programs on all CPUs, concurrently):
 * - BPF hit: sig and key match -> atomic adds on the entry, in place.
 * - BPF miss: claim a FREE way (cmpxchg FREE->BUSY) in the emptier of the
 *   two buckets (then the other), write key + record, publish the
 *   signature (cmpxchg BUSY->sig).
 *   Two CPUs that see the first packets of the same new flow at the same
 *   moment can each insert it: readers must merge entries with equal keys
 *   (flow_table_sum() does).
 *   No free way in either bucket: the packet goes to `flow_overflow`.
 * - flowd eviction (e.g. idle flow): flow_slot_evict_begin() (sig ->
 *   FLOW_SIG_EVICT), wait at least FLOW_EVICT_GRACE_NS (a program that
 *   matched the entry just before may still add to it), read the entry
 *   (final values), flow_slot_free(). A packet of that key after the first
 *   step starts a new entry (a new flow, as after an idle timeout).
 *
 * The BPF objects take the table geometry and hash keys in rodata
 * (`flow_cfg`, struct flow_table_cfg); every object that shares the table
 * needs the same flow_cfg, with max_entries of flow_sigs = buckets and of
 * flows = buckets * FLOW_BUCKET_WAYS (flow_table_cfg_init()).
 */
#ifndef FLOWD_FLOW_TABLE_H
#define FLOWD_FLOW_TABLE_H

#include <linux/types.h>
#include "flow_record.h"

#define FLOW_BUCKET_WAYS 16
#define FLOW_SIG_FREE 0u
#define FLOW_SIG_BUSY 1u
#define FLOW_SIG_EVICT 2u
#define FLOW_SIG_USED 4u    /* lowest in-use signature; all have bit 2 set */
#define FLOW_TABLE_DEFAULT_BUCKETS 16384u  /* x 16 ways = 262144 flows, 33 MiB */
#define FLOW_EVICT_GRACE_NS 10000000ull    /* 10 ms: >> any program run */

/* packets_flags: packets in the high 48 bits, the union of the TCP flags
 * (enum flow_tcp_flag) in the low 16, so one cache line holds all a packet
 * reads (key, bytes, packets, flags). 2^48 packets: 22 days at 148 Mpps. */
#define FLOW_PKT_ONE (1ull << 16)
#define FLOW_PF_PACKETS(pf) ((pf) >> 16)
#define FLOW_PF_FLAGS(pf) ((__u16)((pf) & 0xffff))

/* 128 bytes = two whole cache lines. Read it with flow_entry_read(). */
struct flow_entry {
	/* line 1: what every packet reads */
	struct flow_key key;
	__u64 bytes;           /* frame length at the hook, L2 header included */
	__u64 packets_flags;   /* packets << 16 | union of TCP flags */
	/* line 2: written once per packet, read only on creation */
	__u64 last_seen_ns;    /* CLOCK_MONOTONIC, jiffy precision, see flow_entry_read() */
	__u64 first_seen_ns;   /* CLOCK_MONOTONIC, exact */
	__u16 first_tcp_flags;
	__u8 eth_src[6];       /* MAC addresses of the first packet */
	__u8 eth_dst[6];
	/* payload capture state (include/payload_capture.bpf.h), zeroed on
	 * insert; flowd may set pl_state (enum payload_state) to select or
	 * deselect a flow after protocol detection */
	__u8 pl_state;
	__u8 pl_probe;         /* PAYLOAD_PROBE: payload packets left to capture */
	__u32 pl_tokens;       /* payload byte budget left */
	__u32 pl_pad;
	__u64 pl_refill_ns;    /* when pl_tokens was last refilled */
	/* the policy's answer for this flow (include/flow_policy.bpf.h),
	 * written on its first packet and after policy reloads */
	struct policy_flow policy;
};

struct flow_sig_bucket {
	__u32 sig[FLOW_BUCKET_WAYS];
};

/* rodata of every BPF object that uses the table */
struct flow_table_cfg {
	__u32 buckets;      /* >= 2; == max_entries of `flow_sigs` */
	__u32 pad;
	__u64 mul[6];       /* odd multipliers of the key hash (random per run) */
};

#define FLOW_TABLE_CFG_DEFAULT { FLOW_TABLE_DEFAULT_BUCKETS, 0, \
	{ 0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full, 0x165667b19e3779f9ull, \
	  0xd6e8feb86659fd93ull, 0xff51afd7ed558ccdull, 0xc4ceb9fe1a85ec53ull } }

#define FLOW_KEY_WORDS (sizeof(struct flow_key) / 8)
_Static_assert(sizeof(struct flow_key) == 48, "flow_key is 6 words");
_Static_assert(sizeof(struct flow_entry) == 128, "entries are two cache lines");
_Static_assert(__builtin_offsetof(struct flow_entry, last_seen_ns) == 64, "line 2 starts at last_seen");
_Static_assert(__builtin_offsetof(struct flow_entry, pl_tokens) == 96, "aligned budget");
_Static_assert(__builtin_offsetof(struct flow_entry, policy) == 112, "the policy result ends the entry");
_Static_assert(sizeof(struct flow_sig_bucket) == 64, "a bucket's signatures are one cache line");

struct flow_hash {
	__u32 a, b;         /* candidate buckets */
	__u32 sig;          /* >= FLOW_SIG_USED */
};

/* Multiply-add over the key words, then a 64-bit finalizer: a handful of
 * independent multiplies. w: the key as 6 words (8-aligned). */
static inline __attribute__((always_inline)) void
flow_table_hash(const volatile struct flow_table_cfg *cfg, const __u64 *w, struct flow_hash *out)
{
	__u64 h = w[0] * cfg->mul[0] + w[1] * cfg->mul[1] + w[2] * cfg->mul[2] +
	          w[3] * cfg->mul[3] + w[4] * cfg->mul[4] + w[5] * cfg->mul[5];
	__u64 n = cfg->buckets;

	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	h ^= h >> 29;
	/* multiply-shift range reduction: any bucket count, no modulo */
	out->a = (__u32)(((h & 0xffffffffull) * n) >> 32);
	out->b = (__u32)(((h >> 32) * n) >> 32);
	if (out->b == out->a)
		out->b = out->a + 1 < n ? out->a + 1 : 0;  /* two distinct buckets */
	out->sig = (__u32)(h >> 16) | FLOW_SIG_USED;
}

#ifndef __bpf__
/* ---- user space -------------------------------------------------------- */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

static inline int flow_sig_in_use(__u32 sig)
{
	return sig >= FLOW_SIG_USED;
}

/* Buckets for a table meant to hold `flows` flows at <= 80% load. */
static inline __u32 flow_table_buckets_for(__u64 flows)
{
	__u64 b = (flows * 5 / 4 + FLOW_BUCKET_WAYS - 1) / FLOW_BUCKET_WAYS;

	return b < 2 ? 2 : b > 0x7fffffff / FLOW_BUCKET_WAYS ? 0x7fffffff / FLOW_BUCKET_WAYS : (__u32)b;
}

/* Geometry + hash keys for every object's rodata->flow_cfg (the same for
 * all objects sharing the table). buckets: >= 2 (set max_entries of
 * flow_sigs to buckets, of flows to buckets * FLOW_BUCKET_WAYS); seed:
 * anything (e.g. from getrandom) - 0 keeps the built-in multipliers. */
static inline int flow_table_cfg_init(struct flow_table_cfg *c, __u32 buckets, __u64 seed)
{
	static const struct flow_table_cfg def = FLOW_TABLE_CFG_DEFAULT;

	if (buckets < 2 || buckets > 0x7fffffff / FLOW_BUCKET_WAYS)
		return -EINVAL;
	*c = def;
	c->buckets = buckets;
	for (int i = 0; seed && i < 6; i++) {
		/* splitmix64 */
		__u64 z = (seed += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		c->mul[i] = (z ^ (z >> 31)) | 1;
	}
	return 0;
}

/* Before loading a skeleton that has the table (flow_xdp_bpf, flow_tc_bpf):
 * geometry and hash keys (cfgp: from flow_table_cfg_init(), the same for
 * every skeleton sharing the table). Needs <bpf/libbpf.h>. */
#define FLOW_TABLE_CONFIGURE(skel, cfgp)                                                   \
	do {                                                                               \
		(skel)->rodata->flow_cfg = *(cfgp);                                        \
		bpf_map__set_max_entries((skel)->maps.flow_sigs, (cfgp)->buckets);          \
		bpf_map__set_max_entries((skel)->maps.flows,                               \
		                         (cfgp)->buckets * FLOW_BUCKET_WAYS);              \
	} while (0)

struct flow_table {
	struct flow_sig_bucket *sigs;   /* [buckets] */
	struct flow_entry *e;           /* [buckets * FLOW_BUCKET_WAYS] */
	__u32 buckets;
	size_t sigs_len, e_len;
};

static inline size_t flow_table__pages(size_t len)
{
	return (len + 4095) / 4096 * 4096;
}

/* Map `flow_sigs` and `flows` (fds) of `buckets` buckets into memory,
 * read-write (eviction writes signatures). Returns 0 or -errno. */
static inline int flow_table_mmap(struct flow_table *t, int sigs_fd, int flows_fd, __u32 buckets)
{
	void *s, *e;

	t->sigs_len = flow_table__pages((size_t)buckets * sizeof(struct flow_sig_bucket));
	t->e_len = flow_table__pages((size_t)buckets * FLOW_BUCKET_WAYS * sizeof(struct flow_entry));
	s = mmap(NULL, t->sigs_len, PROT_READ | PROT_WRITE, MAP_SHARED, sigs_fd, 0);
	if (s == MAP_FAILED)
		return -errno;
	e = mmap(NULL, t->e_len, PROT_READ | PROT_WRITE, MAP_SHARED, flows_fd, 0);
	if (e == MAP_FAILED) {
		int err = -errno;
		munmap(s, t->sigs_len);
		return err;
	}
	t->sigs = (struct flow_sig_bucket *)s;
	t->e = (struct flow_entry *)e;
	t->buckets = buckets;
	return 0;
}

static inline void flow_table_munmap(struct flow_table *t)
{
	if (t->sigs)
		munmap(t->sigs, t->sigs_len);
	if (t->e)
		munmap(t->e, t->e_len);
	t->sigs = NULL;
	t->e = NULL;
}

/* Signature of way i of bucket b (acquire: a published entry is complete). */
static inline __u32 flow_table_sig(const struct flow_table *t, __u32 b, int i)
{
	return __atomic_load_n(&t->sigs[b].sig[i], __ATOMIC_ACQUIRE);
}

static inline struct flow_entry *flow_table_entry(const struct flow_table *t, __u32 b, int i)
{
	return &t->e[(size_t)b * FLOW_BUCKET_WAYS + i];
}

/* A snapshot of entry e as a struct flow_rec (fields are read one by one
 * while the datapath may be adding to them). */
static inline void flow_entry_read(const struct flow_entry *e, struct flow_rec *r)
{
	__u64 pf = __atomic_load_n(&e->packets_flags, __ATOMIC_RELAXED);

	memset(r, 0, sizeof(*r));
	r->packets = FLOW_PF_PACKETS(pf);
	r->tcp_flags = FLOW_PF_FLAGS(pf);
	r->bytes = __atomic_load_n(&e->bytes, __ATOMIC_RELAXED);
	r->first_seen_ns = e->first_seen_ns;
	r->last_seen_ns = __atomic_load_n(&e->last_seen_ns, __ATOMIC_RELAXED);
	/* last_seen is jiffy-precise: a packet in the first tick can read
	 * slightly before the exact first_seen */
	if (r->last_seen_ns < r->first_seen_ns)
		r->last_seen_ns = r->first_seen_ns;
	r->first_tcp_flags = e->first_tcp_flags;
	memcpy(r->eth_src, e->eth_src, 6);
	memcpy(r->eth_dst, e->eth_dst, 6);
	/* a packet may be judging the flow again (a policy reload): a copy
	 * whose generation did not change while it was made */
	for (int tries = 0; tries < 4; tries++) {
		__u32 gen = __atomic_load_n(&e->policy.gen, __ATOMIC_ACQUIRE);
		memcpy(&r->policy, (const void *)&e->policy, sizeof(r->policy));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&e->policy.gen, __ATOMIC_RELAXED) == gen && r->policy.gen == gen)
			break;
	}
}

/* Add src to dst (entries of one key; see "duplicates" above). */
static inline void flow_table__merge(struct flow_rec *dst, const struct flow_rec *src)
{
	if (!src->packets)
		return;
	if (!dst->packets || src->first_seen_ns < dst->first_seen_ns) {
		dst->first_seen_ns = src->first_seen_ns;
		dst->first_tcp_flags = src->first_tcp_flags;
		memcpy(dst->eth_src, src->eth_src, 6);
		memcpy(dst->eth_dst, src->eth_dst, 6);
	}
	if (src->last_seen_ns > dst->last_seen_ns)
		dst->last_seen_ns = src->last_seen_ns;
	dst->packets += src->packets;
	dst->bytes += src->bytes;
	dst->tcp_flags |= src->tcp_flags;
	if (src->policy.gen > dst->policy.gen)  /* the latest policy's decision */
		dst->policy = src->policy;
}

/* The record of key: every published entry with that key merged; returns
 * the number of entries found (0: *r is all zero). */
static inline int flow_table_lookup(const struct flow_table *t, const struct flow_table_cfg *cfg,
                                    const struct flow_key *key, struct flow_rec *r)
{
	__u64 w[FLOW_KEY_WORDS];
	struct flow_hash h;
	int n = 0;

	memset(r, 0, sizeof(*r));
	memcpy(w, key, sizeof(w));
	flow_table_hash(cfg, w, &h);
	for (int c = 0; c < 2; c++) {
		__u32 b = c ? h.b : h.a;

		for (int i = 0; i < FLOW_BUCKET_WAYS; i++) {
			struct flow_entry *e = flow_table_entry(t, b, i);
			struct flow_rec one;

			if (flow_table_sig(t, b, i) != h.sig || memcmp(&e->key, key, sizeof(*key)))
				continue;
			flow_entry_read(e, &one);
			flow_table__merge(r, &one);
			n++;
		}
	}
	return n;
}

/* Eviction, step 1: stop new packets from matching way i of bucket b.
 * sig: the value the caller read. Returns 1 if this caller now owns the
 * eviction, 0 if the slot changed meanwhile. */
static inline int flow_slot_evict_begin(struct flow_table *t, __u32 b, int i, __u32 sig)
{
	return __atomic_compare_exchange_n(&t->sigs[b].sig[i], &sig, FLOW_SIG_EVICT, 0,
	                                   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/* Eviction, step 2 (>= FLOW_EVICT_GRACE_NS after step 1, after reading the
 * final entry): the way can be reused. */
static inline void flow_slot_free(struct flow_table *t, __u32 b, int i)
{
	__atomic_store_n(&t->sigs[b].sig[i], FLOW_SIG_FREE, __ATOMIC_RELEASE);
}
#endif /* !__bpf__ */

#endif /* FLOWD_FLOW_TABLE_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/* Policy compiler and kernel map updates; see policy_bpf.h and
 * include/policy_maps.h for the map design. */
#include "policy_bpf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lpm.h"

/* --- small containers ------------------------------------------------------- */

struct u32vec {
	uint32_t *v;
	size_t n, cap;
};

static int vec_push(struct u32vec *a, uint32_t x)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 8;
		uint32_t *nv = realloc(a->v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		a->v = nv;
		a->cap = nc;
	}
	a->v[a->n++] = x;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void vec_sort_unique(struct u32vec *a)
{
	if (a->n < 2)
		return;
	qsort(a->v, a->n, sizeof(uint32_t), cmp_u32);
	size_t w = 1;
	for (size_t i = 1; i < a->n; i++)
		if (a->v[i] != a->v[w - 1])
			a->v[w++] = a->v[i];
	a->n = w;
}

static uint64_t hash_bytes(const void *p, size_t n, uint64_t h)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return h;
}

/* Interned rule sets: equal sets get the same class number (1-based;
 * the empty set is class 0 and never stored). */
struct class_tab {
	struct u32vec *sets;     /* [id - 1] */
	size_t n, cap;
	uint32_t *slots;         /* open addressing: id, 0 = empty */
	size_t mask;
};

static int ctab_init(struct class_tab *t)
{
	memset(t, 0, sizeof(*t));
	t->slots = calloc(64, sizeof(uint32_t));
	t->mask = 63;
	return t->slots ? 0 : -1;
}

static void ctab_free(struct class_tab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->sets[i].v);
	free(t->sets);
	free(t->slots);
}

static uint64_t set_hash(const uint32_t *v, size_t n)
{
	return hash_bytes(v, n * sizeof(uint32_t), 1469598103934665603ull ^ n);
}

static bool set_eq(const struct u32vec *a, const uint32_t *v, size_t n)
{
	return a->n == n && !memcmp(a->v, v, n * sizeof(uint32_t));
}

/* Returns the class of the sorted set v[0..n), adding it if new; takes
 * nothing from v. (uint32_t)-1 on allocation failure. */
static uint32_t ctab_intern(struct class_tab *t, const uint32_t *v, size_t n)
{
	if (!n)
		return 0;
	if ((t->n + 1) * 2 > t->mask + 1) {
		size_t ncap = (t->mask + 1) * 2;
		uint32_t *ns = calloc(ncap, sizeof(uint32_t));
		if (!ns)
			return (uint32_t)-1;
		for (size_t i = 0; i <= t->mask; i++) {
			uint32_t id = t->slots[i];
			if (!id)
				continue;
			size_t j = set_hash(t->sets[id - 1].v, t->sets[id - 1].n) & (ncap - 1);
			while (ns[j])
				j = (j + 1) & (ncap - 1);
			ns[j] = id;
		}
		free(t->slots);
		t->slots = ns;
		t->mask = ncap - 1;
	}
	size_t j = set_hash(v, n) & t->mask;
	for (; t->slots[j]; j = (j + 1) & t->mask)
		if (set_eq(&t->sets[t->slots[j] - 1], v, n))
			return t->slots[j];
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 16;
		struct u32vec *ns = realloc(t->sets, nc * sizeof(*ns));
		if (!ns)
			return (uint32_t)-1;
		t->sets = ns;
		t->cap = nc;
	}
	struct u32vec *s = &t->sets[t->n];
	s->v = malloc(n * sizeof(uint32_t));
	if (!s->v)
		return (uint32_t)-1;
	memcpy(s->v, v, n * sizeof(uint32_t));
	s->n = s->cap = n;
	t->n++;
	t->slots[j] = (uint32_t)t->n;
	return (uint32_t)t->n;
}

/* --- compiled form ------------------------------------------------------------ */

struct policy_compiled {
	uint64_t revision;
	uint32_t n_rules;
	uint8_t mode, def;
	struct lpm *addr;                 /* kept prefix -> index into akeys/avals */
	struct policy_addr_key *akeys;
	struct policy_addr_val *avals;
	size_t n_addr, cap_addr;
	struct policy_rule_key *rkeys;
	struct policy_rule_val *rvals;
	size_t n_rule, cap_rule;
	uint32_t *rslots;                 /* rule entry index + 1 */
	size_t rmask;
	struct policy_compile_stats st;
};

static uint64_t rkey_hash(const struct policy_rule_key *k)
{
	return hash_bytes(k, sizeof(*k), 1469598103934665603ull);
}

static int rule_entry_add(struct policy_compiled *c, const struct policy_rule_key *k,
                          const struct policy_rule_val *v)
{
	if (c->n_rule == c->cap_rule) {
		size_t nc = c->cap_rule ? c->cap_rule * 2 : 256;
		struct policy_rule_key *nk = realloc(c->rkeys, nc * sizeof(*nk));
		if (!nk)
			return -1;
		c->rkeys = nk;
		struct policy_rule_val *nv = realloc(c->rvals, nc * sizeof(*nv));
		if (!nv)
			return -1;
		c->rvals = nv;
		c->cap_rule = nc;
	}
	c->rkeys[c->n_rule] = *k;
	c->rvals[c->n_rule] = *v;
	c->n_rule++;
	return 0;
}

static int rule_index_build(struct policy_compiled *c)
{
	size_t cap = 64;
	while (cap < c->n_rule * 2 + 2)
		cap <<= 1;
	c->rslots = calloc(cap, sizeof(uint32_t));
	if (!c->rslots)
		return -1;
	c->rmask = cap - 1;
	for (size_t i = 0; i < c->n_rule; i++) {
		size_t j = rkey_hash(&c->rkeys[i]) & c->rmask;
		while (c->rslots[j])
			j = (j + 1) & c->rmask;
		c->rslots[j] = (uint32_t)i + 1;
	}
	return 0;
}

static const struct policy_rule_val *rule_get(const struct policy_compiled *c,
                                              const struct policy_rule_key *k)
{
	for (size_t j = rkey_hash(k) & c->rmask; c->rslots[j]; j = (j + 1) & c->rmask) {
		uint32_t i = c->rslots[j] - 1;
		if (!memcmp(&c->rkeys[i], k, sizeof(*k)))
			return &c->rvals[i];
	}
	return NULL;
}

/* Key bits past prefixlen are zero in stored keys: mask a lookup key. */
static void rkey_mask(struct policy_rule_key *k)
{
	if (k->prefixlen < 80)
		k->proto = 0;
	unsigned bits = k->prefixlen > 80 ? k->prefixlen - 80 : 0;
	uint16_t port = (uint16_t)(k->port[0] << 8 | k->port[1]);
	port = bits ? (uint16_t)(port & (0xffffu << (16 - bits))) : 0;
	k->port[0] = port >> 8;
	k->port[1] = port & 0xff;
}

/* The trie's longest match, emulated: prefix lengths 96..80, then 72. */
static const struct policy_rule_val *rule_lpm(const struct policy_compiled *c, uint8_t dir,
                                              uint32_t subj, uint32_t peer, uint8_t proto,
                                              uint16_t dport)
{
	if (!subj || !peer)
		return NULL;
	struct policy_rule_key k;
	memset(&k, 0, sizeof(k));
	k.subj = subj;
	k.peer = peer;
	k.dir = dir;
	for (int plen = 96; plen >= 72; plen--) {
		if (plen < 80 && plen != 72)
			continue;
		k.prefixlen = (uint32_t)plen;
		k.proto = proto;
		k.port[0] = dport >> 8;
		k.port[1] = dport & 0xff;
		rkey_mask(&k);
		const struct policy_rule_val *v = rule_get(c, &k);
		if (v)
			return v;
	}
	return NULL;
}

static void addr_classes(const struct policy_compiled *c, uint8_t family, const uint8_t addr[16],
                         uint32_t *subj, uint32_t *peer)
{
	uint32_t i;
	if (lpm_lookup(c->addr, family, addr, &i, NULL)) {
		*subj = c->avals[i].subj;
		*peer = c->avals[i].peer;
	} else {
		*subj = *peer = 0;
	}
}

void policy_compiled_lookup(const struct policy_compiled *c, uint8_t family, const uint8_t saddr[16],
                            const uint8_t daddr[16], uint8_t proto, uint16_t dport,
                            struct policy_result *res)
{
	/* line by line the same as policy_lookup_tuple() in policy.bpf.h */
	memset(res, 0, sizeof(*res));
	res->revision = c->revision;
	if (proto != 6 && proto != 17 && proto != 132)
		dport = 0;
	uint32_t s_subj, s_peer, d_subj, d_peer;
	addr_classes(c, family, saddr, &s_subj, &s_peer);
	addr_classes(c, family, daddr, &d_subj, &d_peer);
	const struct policy_rule_val *eg = rule_lpm(c, POLICY_DIR_EGRESS, s_subj, d_peer, proto, dport);
	const struct policy_rule_val *in = rule_lpm(c, POLICY_DIR_INGRESS, d_subj, s_peer, proto, dport);
	const struct policy_rule_val *win = eg;
	if (!win)
		win = in;
	else if (in && (in->action > eg->action ||
	                (in->action == eg->action && in->rule_id < eg->rule_id)))
		win = in;
	if (win) {
		res->rule_id = win->rule_id;
		res->action = win->action;
		res->match_type = win->match_type;
		res->direction = win == eg ? POLICY_DIR_EGRESS : POLICY_DIR_INGRESS;
		if (win->action == POLICY_ACT_DENY)
			res->drop_reason = POLICY_REASON_DENY;
	} else {
		res->rule_id = POLICY_RULE_NONE;
		res->action = c->def;
		if (c->def == POLICY_ACT_DENY)
			res->drop_reason = POLICY_REASON_DENIED;
	}
	if (res->action == POLICY_ACT_ALLOW)
		res->verdict = POLICY_VERDICT_FORWARDED;
	else
		res->verdict = c->mode == POLICY_MODE_AUDIT ? POLICY_VERDICT_AUDIT : POLICY_VERDICT_DROPPED;
}

void policy_compiled_free(struct policy_compiled *c)
{
	if (!c)
		return;
	lpm_free(c->addr);
	free(c->akeys);
	free(c->avals);
	free(c->rkeys);
	free(c->rvals);
	free(c->rslots);
	free(c);
}

void policy_compiled_stats(const struct policy_compiled *c, struct policy_compile_stats *st)
{
	*st = c->st;
}

void policy_result_to_verdict(const struct policy_result *r, struct policy_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->action = r->action == POLICY_ACT_DENY ? POLICY_DENY : POLICY_ALLOW;
	v->rule = r->rule_id == POLICY_RULE_NONE ? -1 : (int32_t)r->rule_id;
	v->direction = r->rule_id == POLICY_RULE_NONE ? POLICY_DIR_NONE : (enum policy_dir)r->direction;
	v->match_type = r->match_type;
	v->drop_reason = r->drop_reason;
}

int policy_label_flow(const struct policy_result *r, struct flow_event *ev)
{
	switch (r->verdict) {
	case POLICY_VERDICT_FORWARDED:
		ev->verdict = FE_FORWARDED;
		return 0;
	case POLICY_VERDICT_AUDIT:
		ev->verdict = FE_AUDIT;
		return 0;
	case POLICY_VERDICT_DROPPED:
		ev->verdict = FE_DROPPED;
		ev->drop_reason = r->drop_reason;
		ev->drop_reason_desc = r->drop_reason;
		ev->is_reply = -1;   /* Hubble: unknown for drops */
		ev->reply = false;
		/* Hubble reports dropped packets as drop events (monitor type
		 * 1, the reason as sub-type), not as traces: `--type drop`
		 * selects them and compact shows "Policy denied" */
		ev->event_type = 1;
		ev->event_sub_type = r->drop_reason;
		ev->trace_observation_point = 0;
		return 0;
	default:
		return -EINVAL;
	}
}

int policy_verdict_event(const struct policy *p, const struct policy_result *r, struct flow_event *ev)
{
	if (r->verdict == POLICY_VERDICT_NONE)
		return -EINVAL;
	struct policy_verdict v;
	policy_result_to_verdict(r, &v);
	bool names = p && policy_revision(p) == r->revision;
	if (!names)
		v.rule = -1;   /* rule ids of another revision: no name to give */
	int rc = policy_label_event(p, &v, ev, r->verdict == POLICY_VERDICT_DROPPED, true);
	if (rc)
		return rc;
	ev->event_type = 5;        /* policy-verdict */
	ev->event_sub_type = 0;
	ev->trace_observation_point = 0;
	ev->trace_reason = 0;
	ev->stats.event = FE_STATS_NONE;
	if (r->rule_id != POLICY_RULE_NONE)
		ev->traffic_direction = r->direction == POLICY_DIR_EGRESS ? FE_EGRESS : FE_INGRESS;
	ev->is_reply = r->verdict == POLICY_VERDICT_DROPPED ? -1 : 0;
	return 0;
}

/* --- compiling ------------------------------------------------------------- */

/* One prefix of the universe: identities, rule CIDRs, FQDN addresses, /0s. */
struct upfx {
	struct ipnet net;
	const char **names;      /* FQDN names of a /32 or /128 */
	size_t n_names, cap_names;
	uint32_t subj, peer;
};

/* Rule CIDRs by prefix, to find the CIDRs containing a prefix with one
 * probe per prefix length in use. */
struct cidr_ref {
	uint32_t rule;
	const struct ipnet *except;
	size_t n_except;
};

struct cbuild {
	const struct policy *p;
	const struct identity_db *ids;
	struct lpm *uidx;        /* prefix -> index into u */
	struct upfx *u;
	size_t n_u, cap_u;
	struct lpm *cidx;        /* rule CIDR -> index into cgroups */
	struct u32vec *cgroups;  /* per distinct CIDR: indices into crefs */
	size_t n_cg, cap_cg;
	struct cidr_ref *crefs;
	size_t n_cr, cap_cr;
	bool oom;
};

static int add_prefix(struct cbuild *b, const struct ipnet *n, size_t *idx)
{
	uint32_t i;
	if (lpm_get(b->uidx, n, &i)) {
		if (idx)
			*idx = i;
		return 0;
	}
	if (b->n_u == b->cap_u) {
		size_t nc = b->cap_u ? b->cap_u * 2 : 256;
		struct upfx *nu = realloc(b->u, nc * sizeof(*nu));
		if (!nu)
			return -1;
		b->u = nu;
		b->cap_u = nc;
	}
	memset(&b->u[b->n_u], 0, sizeof(b->u[0]));
	b->u[b->n_u].net = *n;
	ipnet_mask(&b->u[b->n_u].net);
	if (lpm_insert(b->uidx, n, (uint32_t)b->n_u))
		return -1;
	if (idx)
		*idx = b->n_u;
	b->n_u++;
	return 0;
}

static int walk_identity(void *user, const struct ipnet *n, const struct identity_endpoint *ep)
{
	(void)ep;
	return add_prefix(user, n, NULL);
}

static int walk_cidr(void *user, uint32_t rule, const struct ipnet *net, const struct ipnet *except,
                     size_t n_except)
{
	struct cbuild *b = user;
	if (add_prefix(b, net, NULL))
		return -1;
	for (size_t i = 0; i < n_except; i++)
		if (add_prefix(b, &except[i], NULL))
			return -1;
	uint32_t g;
	if (!lpm_get(b->cidx, net, &g)) {
		if (b->n_cg == b->cap_cg) {
			size_t nc = b->cap_cg ? b->cap_cg * 2 : 64;
			struct u32vec *ng = realloc(b->cgroups, nc * sizeof(*ng));
			if (!ng)
				return -1;
			b->cgroups = ng;
			b->cap_cg = nc;
		}
		memset(&b->cgroups[b->n_cg], 0, sizeof(b->cgroups[0]));
		g = (uint32_t)b->n_cg++;
		if (lpm_insert(b->cidx, net, g))
			return -1;
	}
	if (b->n_cr == b->cap_cr) {
		size_t nc = b->cap_cr ? b->cap_cr * 2 : 64;
		struct cidr_ref *nr = realloc(b->crefs, nc * sizeof(*nr));
		if (!nr)
			return -1;
		b->crefs = nr;
		b->cap_cr = nc;
	}
	b->crefs[b->n_cr] = (struct cidr_ref){ rule, except, n_except };
	return vec_push(&b->cgroups[g], (uint32_t)b->n_cr++);
}

/* Rules whose CIDR peers contain prefix n (appended to out). */
static int cidr_rules(struct cbuild *b, const struct ipnet *n, struct u32vec *out)
{
	struct ipnet k = *n;
	for (int plen = n->plen; plen >= 0; plen--) {
		k.plen = (uint8_t)plen;
		ipnet_mask(&k);
		uint32_t g;
		if (!lpm_get(b->cidx, &k, &g))
			continue;
		struct u32vec *grp = &b->cgroups[g];
		for (size_t i = 0; i < grp->n; i++) {
			const struct cidr_ref *r = &b->crefs[grp->v[i]];
			bool excepted = false;
			for (size_t e = 0; e < r->n_except && !excepted; e++)
				excepted = ipnet_contains(&r->except[e], n);
			if (!excepted && vec_push(out, r->rule))
				return -1;
		}
	}
	return 0;
}

/* Per identity: its subject class and the label part of its peer set. */
struct id_cache {
	const struct identity *id;
	uint32_t subj;
	struct u32vec peer_labels;
};

static struct id_cache *id_cache_get(struct id_cache **tab, size_t *n, size_t *cap,
                                     const struct identity *id)
{
	/* identities are few; a linear scan over a small array keyed by
	 * pointer would be quadratic for big files, so keep it sorted */
	size_t lo = 0, hi = *n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if ((uintptr_t)(*tab)[mid].id < (uintptr_t)id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < *n && (*tab)[lo].id == id)
		return &(*tab)[lo];
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		struct id_cache *nt = realloc(*tab, nc * sizeof(*nt));
		if (!nt)
			return NULL;
		*tab = nt;
		*cap = nc;
	}
	memmove(&(*tab)[lo + 1], &(*tab)[lo], (*n - lo) * sizeof(**tab));
	(*n)++;
	memset(&(*tab)[lo], 0, sizeof(**tab));
	(*tab)[lo].id = id;
	(*tab)[lo].subj = (uint32_t)-2;   /* not computed yet */
	return &(*tab)[lo];
}

/* One generated port prefix of a rule set. */
struct pitem {
	uint8_t plen;            /* 72, 80..96 */
	uint8_t proto;
	uint16_t port;
	uint64_t allow_key, deny_key;   /* (rule << 32 | spec), UINT64_MAX = none */
	uint8_t allow_mt, deny_mt;
};

struct pset {
	struct pitem *v;
	size_t n, cap;
	uint32_t *slots;         /* index + 1 */
	size_t mask;
};

static uint64_t pkey_hash(uint8_t plen, uint8_t proto, uint16_t port)
{
	uint64_t x = (uint64_t)plen << 24 | (uint64_t)proto << 16 | port;
	x *= 0x9e3779b97f4a7c15ull;
	return x ^ (x >> 31);
}

static struct pitem *pset_get(struct pset *s, uint8_t plen, uint8_t proto, uint16_t port, bool add)
{
	if (add && (s->n + 1) * 2 > s->mask + 1) {
		size_t ncap = s->mask ? (s->mask + 1) * 2 : 64;
		uint32_t *ns = calloc(ncap, sizeof(uint32_t));
		if (!ns)
			return NULL;
		for (size_t i = 0; i < s->n; i++) {
			size_t j = pkey_hash(s->v[i].plen, s->v[i].proto, s->v[i].port) & (ncap - 1);
			while (ns[j])
				j = (j + 1) & (ncap - 1);
			ns[j] = (uint32_t)i + 1;
		}
		free(s->slots);
		s->slots = ns;
		s->mask = ncap - 1;
	}
	if (!s->slots)
		return NULL;
	size_t j = pkey_hash(plen, proto, port) & s->mask;
	for (; s->slots[j]; j = (j + 1) & s->mask) {
		struct pitem *it = &s->v[s->slots[j] - 1];
		if (it->plen == plen && it->proto == proto && it->port == port)
			return it;
	}
	if (!add)
		return NULL;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 32;
		struct pitem *nv = realloc(s->v, nc * sizeof(*nv));
		if (!nv)
			return NULL;
		s->v = nv;
		s->cap = nc;
	}
	struct pitem *it = &s->v[s->n];
	memset(it, 0, sizeof(*it));
	it->plen = plen;
	it->proto = proto;
	it->port = port;
	it->allow_key = it->deny_key = UINT64_MAX;
	s->slots[j] = (uint32_t)++s->n;
	return it;
}

static int pset_note(struct pset *s, uint8_t plen, uint8_t proto, uint16_t port, uint64_t key,
                     bool deny, uint8_t mt)
{
	struct pitem *it = pset_get(s, plen, proto, port, true);
	if (!it)
		return -1;
	if (deny && key < it->deny_key) {
		it->deny_key = key;
		it->deny_mt = mt;
	} else if (!deny && key < it->allow_key) {
		it->allow_key = key;
		it->allow_mt = mt;
	}
	return 0;
}

/* Split [lo, hi] into port prefixes (at most 30). */
static int port_range_prefixes(struct pset *s, uint8_t proto, uint32_t lo, uint32_t hi, uint64_t key,
                               bool deny, uint8_t mt)
{
	while (lo <= hi) {
		unsigned bits = 0;   /* host bits of the block starting at lo */
		while (bits < 16 && !(lo & (1u << bits)) && lo + (2u << bits) - 1 <= hi)
			bits++;
		if (pset_note(s, (uint8_t)(96 - bits), proto, (uint16_t)lo, key, deny, mt))
			return -1;
		lo += 1u << bits;
	}
	return 0;
}

static int compile_rule_set(struct policy_compiled *c, const struct policy *p, uint8_t dir,
                            uint32_t subj, uint32_t peer, const uint32_t *rules, size_t n,
                            struct pset *ps, size_t max_rules, char *err, size_t errlen)
{
	ps->n = 0;
	if (ps->slots)
		memset(ps->slots, 0, (ps->mask + 1) * sizeof(uint32_t));
	static const uint8_t l4[] = { 6, 17, 132 };
	for (size_t i = 0; i < n; i++) {
		const struct policy_port_spec *specs;
		size_t ns = policy_rule_port_specs(p, rules[i], &specs);
		bool deny = policy_rule_action(p, rules[i]) == POLICY_DENY;
		for (size_t k = 0; k < ns; k++) {
			const struct policy_port_spec *s = &specs[k];
			if (s->l3l4_ignored)
				continue;
			uint64_t key = (uint64_t)rules[i] << 32 | k;
			uint8_t mt = (uint8_t)s->match_type;
			if (s->proto == 0 && !s->any_l4) {
				if (pset_note(ps, 72, 0, 0, key, deny, mt))
					return -ENOMEM;
				continue;
			}
			for (size_t pi = 0; pi < 3; pi++) {
				uint8_t proto = s->any_l4 ? l4[pi] : s->proto;
				int rc = (s->lo == 0 && s->hi == 65535)
				         ? pset_note(ps, 80, proto, 0, key, deny, mt)
				         : port_range_prefixes(ps, proto, s->lo, s->hi, key, deny, mt);
				if (rc)
					return -ENOMEM;
				if (!s->any_l4)
					break;
			}
		}
	}
	/* each prefix: the best rule among itself and its ancestors */
	for (size_t i = 0; i < ps->n; i++) {
		struct pitem it = ps->v[i];
		uint64_t a = it.allow_key, d = it.deny_key;
		uint8_t amt = it.allow_mt, dmt = it.deny_mt;
		for (int plen = it.plen - 1; plen >= 72; plen--) {
			if (plen < 80 && plen != 72)
				continue;
			uint8_t proto = plen >= 80 ? it.proto : 0;
			unsigned bits = plen > 80 ? (unsigned)plen - 80 : 0;
			uint16_t port = bits ? (uint16_t)(it.port & (0xffffu << (16 - bits))) : 0;
			struct pitem *anc = pset_get(ps, (uint8_t)plen, proto, port, false);
			if (!anc)
				continue;
			if (anc->allow_key < a) {
				a = anc->allow_key;
				amt = anc->allow_mt;
			}
			if (anc->deny_key < d) {
				d = anc->deny_key;
				dmt = anc->deny_mt;
			}
		}
		struct policy_rule_key k;
		struct policy_rule_val v;
		memset(&k, 0, sizeof(k));
		memset(&v, 0, sizeof(v));
		k.prefixlen = it.plen;
		k.subj = subj;
		k.peer = peer;
		k.dir = dir;
		k.proto = it.proto;
		k.port[0] = it.port >> 8;
		k.port[1] = it.port & 0xff;
		if (d != UINT64_MAX) {
			v.rule_id = (uint32_t)(d >> 32);
			v.action = POLICY_ACT_DENY;
			v.match_type = dmt;
		} else {
			v.rule_id = (uint32_t)(a >> 32);
			v.action = POLICY_ACT_ALLOW;
			v.match_type = amt;
		}
		if (c->n_rule >= max_rules) {
			snprintf(err, errlen, "the policy needs more than %zu kernel rule entries "
			         "(rules x peers x port ranges); simplify it or raise the limit", max_rules);
			return -E2BIG;
		}
		if (rule_entry_add(c, &k, &v))
			return -ENOMEM;
	}
	return 0;
}

static int cmp_upfx_len(const void *a, const void *b)
{
	const struct upfx *x = *(const struct upfx *const *)a, *y = *(const struct upfx *const *)b;
	if (x->net.plen != y->net.plen)
		return x->net.plen < y->net.plen ? -1 : 1;
	return x->net.family < y->net.family ? -1 : x->net.family > y->net.family;
}

static int names_add(struct upfx *u, const char *name)
{
	for (size_t i = 0; i < u->n_names; i++)
		if (!strcmp(u->names[i], name))
			return 0;
	if (u->n_names == u->cap_names) {
		size_t nc = u->cap_names ? u->cap_names * 2 : 4;
		const char **nn = realloc(u->names, nc * sizeof(*nn));
		if (!nn)
			return -1;
		u->names = nn;
		u->cap_names = nc;
	}
	u->names[u->n_names++] = name;
	return 0;
}

struct policy_compiled *policy_compile(const struct policy *p, const struct identity_db *ids,
                                       const struct policy_compile_opts *opts,
                                       char *err, size_t errlen)
{
	size_t max_addr = opts && opts->max_addr_entries ? opts->max_addr_entries : POLICY_ADDR_MAX_ENTRIES;
	size_t max_rules = opts && opts->max_rule_entries ? opts->max_rule_entries : POLICY_RULE_MAX_ENTRIES;
	struct cbuild b;
	struct class_tab subj_tab, peer_tab;
	struct id_cache *idc = NULL;
	size_t n_idc = 0, cap_idc = 0;
	struct u32vec tmp = { 0 }, rs = { 0 };
	struct pset ps = { 0 };
	struct upfx **order = NULL;
	int rc = -ENOMEM;
	if (err && errlen)
		err[0] = '\0';

	memset(&b, 0, sizeof(b));
	b.p = p;
	b.ids = ids;
	struct policy_compiled *c = calloc(1, sizeof(*c));
	int t1 = ctab_init(&subj_tab), t2 = ctab_init(&peer_tab);
	uint64_t *sbits = calloc(policy_rule_count(p) / 64 + 1, sizeof(uint64_t));
	b.uidx = lpm_new();
	b.cidx = lpm_new();
	if (!c || t1 || t2 || !sbits || !b.uidx || !b.cidx || !(c->addr = lpm_new()))
		goto out;
	c->revision = policy_revision(p);
	c->n_rules = (uint32_t)policy_rule_count(p);
	c->mode = policy_mode(p) == POLICY_AUDIT ? POLICY_MODE_AUDIT : POLICY_MODE_ENFORCE;
	c->def = policy_default_action(p) == POLICY_DENY ? POLICY_ACT_DENY : POLICY_ACT_ALLOW;

	/* 1. the prefix universe */
	static const struct ipnet all4 = { .family = 4 }, all6 = { .family = 6 };
	if (add_prefix(&b, &all4, NULL) || add_prefix(&b, &all6, NULL))
		goto out;
	if (identity_db_walk(ids, walk_identity, &b))
		goto out;
	if (policy_walk_cidrs(p, walk_cidr, &b))
		goto out;
	for (size_t i = 0; opts && i < opts->n_fqdn_ips; i++) {
		const struct policy_fqdn_ip *f = &opts->fqdn_ips[i];
		if (!f->name || (f->family != 4 && f->family != 6) || !policy_fqdn_relevant(p, f->name))
			continue;
		struct ipnet n;
		size_t idx;
		ipnet_host(&n, f->family, f->addr);
		if (add_prefix(&b, &n, &idx) || names_add(&b.u[idx], f->name))
			goto out;
	}
	c->st.prefixes = b.n_u;

	/* 2. classes of every prefix */
	size_t nr = policy_rule_count(p);
	for (size_t i = 0; i < b.n_u; i++) {
		struct upfx *u = &b.u[i];
		const struct identity *id = identity_lookup_net(ids, &u->net)->identity;
		struct id_cache *ic = id_cache_get(&idc, &n_idc, &cap_idc, id);
		if (!ic)
			goto out;
		if (ic->subj == (uint32_t)-2) {
			tmp.n = 0;
			for (uint32_t r = 0; r < nr; r++) {
				if (policy_rule_subject_matches(p, r, id->labels, id->n_labels) && vec_push(&tmp, r))
					goto out;
				if (policy_rule_peer_matches_labels(p, r, id->labels, id->n_labels, NULL, 0) &&
				    vec_push(&ic->peer_labels, r))
					goto out;
			}
			ic->subj = ctab_intern(&subj_tab, tmp.v, tmp.n);
			if (ic->subj == (uint32_t)-1)
				goto out;
		}
		u->subj = ic->subj;
		tmp.n = 0;
		if (u->n_names) {
			/* FQDN addresses: the names take part in peer matching */
			for (uint32_t r = 0; r < nr; r++)
				if (policy_rule_peer_matches_labels(p, r, id->labels, id->n_labels, u->names,
				                                    u->n_names) && vec_push(&tmp, r))
					goto out;
		} else {
			for (size_t k = 0; k < ic->peer_labels.n; k++)
				if (vec_push(&tmp, ic->peer_labels.v[k]))
					goto out;
		}
		if (cidr_rules(&b, &u->net, &tmp))
			goto out;
		vec_sort_unique(&tmp);
		u->peer = ctab_intern(&peer_tab, tmp.v, tmp.n);
		if (u->peer == (uint32_t)-1)
			goto out;
	}
	c->st.subject_classes = subj_tab.n;
	c->st.peer_classes = peer_tab.n;

	/* 3. address entries, shortest prefixes first, dropping those whose
	 * classes equal their nearest kept ancestor's */
	order = malloc((b.n_u + 1) * sizeof(*order));
	if (!order)
		goto out;
	for (size_t i = 0; i < b.n_u; i++)
		order[i] = &b.u[i];
	qsort(order, b.n_u, sizeof(*order), cmp_upfx_len);
	for (size_t i = 0; i < b.n_u; i++) {
		struct upfx *u = order[i];
		uint32_t anc;
		if (u->net.plen && lpm_lookup_net(c->addr, &u->net, &anc, NULL) &&
		    c->avals[anc].subj == u->subj && c->avals[anc].peer == u->peer)
			continue;
		if (c->n_addr >= max_addr) {
			snprintf(err, errlen, "the policy and identities need more than %zu kernel address "
			         "entries", max_addr);
			rc = -E2BIG;
			goto out;
		}
		if (c->n_addr == c->cap_addr) {
			size_t nc = c->cap_addr ? c->cap_addr * 2 : 256;
			struct policy_addr_key *nk = realloc(c->akeys, nc * sizeof(*nk));
			if (!nk)
				goto out;
			c->akeys = nk;
			struct policy_addr_val *nv = realloc(c->avals, nc * sizeof(*nv));
			if (!nv)
				goto out;
			c->avals = nv;
			c->cap_addr = nc;
		}
		struct policy_addr_key *k = &c->akeys[c->n_addr];
		memset(k, 0, sizeof(*k));
		k->prefixlen = 32u + u->net.plen;
		k->family = u->net.family;
		memcpy(k->addr, u->net.addr, 16);
		c->avals[c->n_addr].subj = u->subj;
		c->avals[c->n_addr].peer = u->peer;
		if (lpm_insert(c->addr, &u->net, (uint32_t)c->n_addr))
			goto out;
		c->n_addr++;
	}
	c->st.addr_entries = c->n_addr;

	/* 4. rule entries: every (subject class, peer class) pair that shares
	 * rules of a direction */
	for (uint8_t dir = POLICY_DIR_INGRESS; dir <= POLICY_DIR_EGRESS; dir++) {
		for (size_t si = 0; si < subj_tab.n; si++) {
			const struct u32vec *S = &subj_tab.sets[si];
			/* S's rules of this direction as a bitmap: each peer class
			 * is then filtered in O(its size) */
			bool any = false;
			memset(sbits, 0, (nr / 64 + 1) * sizeof(uint64_t));
			for (size_t k = 0; k < S->n; k++) {
				if ((uint8_t)policy_rule_dir(p, S->v[k]) != dir)
					continue;
				sbits[S->v[k] / 64] |= 1ull << (S->v[k] % 64);
				any = true;
			}
			if (!any)
				continue;
			for (size_t qi = 0; qi < peer_tab.n; qi++) {
				const struct u32vec *Q = &peer_tab.sets[qi];
				rs.n = 0;
				for (size_t y = 0; y < Q->n; y++)
					if ((sbits[Q->v[y] / 64] >> (Q->v[y] % 64) & 1) && vec_push(&rs, Q->v[y]))
						goto out;
				if (!rs.n)
					continue;
				rc = compile_rule_set(c, p, dir, (uint32_t)si + 1, (uint32_t)qi + 1, rs.v, rs.n,
				                      &ps, max_rules, err, errlen);
				if (rc)
					goto out;
			}
		}
	}
	c->st.rule_entries = c->n_rule;
	rc = -ENOMEM;
	if (rule_index_build(c))
		goto out;
	rc = 0;
out:
	if (rc && err && errlen && !err[0])
		snprintf(err, errlen, "compiling the policy: %s", strerror(-rc));
	for (size_t i = 0; i < n_idc; i++)
		free(idc[i].peer_labels.v);
	free(idc);
	for (size_t i = 0; i < b.n_u; i++)
		free(b.u[i].names);
	free(b.u);
	for (size_t i = 0; i < b.n_cg; i++)
		free(b.cgroups[i].v);
	free(b.cgroups);
	free(b.crefs);
	lpm_free(b.uidx);
	lpm_free(b.cidx);
	ctab_free(&subj_tab);
	ctab_free(&peer_tab);
	free(sbits);
	free(tmp.v);
	free(rs.v);
	free(ps.v);
	free(ps.slots);
	free(order);
	if (rc) {
		policy_compiled_free(c);
		return NULL;
	}
	return c;
}

/* --- kernel maps -------------------------------------------------------------- */

struct policy_bpf {
	struct policy_bpf_maps m;
	struct timespec last_flip;
	bool flipped;
};

int policy_bpf_maps_from_obj(struct bpf_object *obj, struct policy_bpf_maps *m,
                             char *err, size_t errlen)
{
	static const char *const names[] = { "policy_state", "policy_meta", "policy_addr_0",
		                             "policy_addr_1", "policy_rules_0", "policy_rules_1",
		                             "policy_counters" };
	int *fds[] = { &m->state, &m->meta, &m->addr[0], &m->addr[1], &m->rules[0], &m->rules[1],
		       &m->counters };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		*fds[i] = bpf_object__find_map_fd_by_name(obj, names[i]);
		if (*fds[i] < 0) {
			snprintf(err, errlen, "BPF object has no map \"%s\" (does it include policy.bpf.h?)",
			         names[i]);
			return -ENOENT;
		}
	}
	return 0;
}

int policy_bpf_reuse_maps(struct bpf_object *obj, const struct policy_bpf_maps *m,
                          char *err, size_t errlen)
{
	static const char *const names[] = { "policy_state", "policy_meta", "policy_addr_0",
		                             "policy_addr_1", "policy_rules_0", "policy_rules_1",
		                             "policy_counters" };
	const int fds[] = { m->state, m->meta, m->addr[0], m->addr[1], m->rules[0], m->rules[1],
		            m->counters };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, names[i]);
		if (!map) {
			snprintf(err, errlen, "BPF object has no map \"%s\" (does it include policy.bpf.h?)",
			         names[i]);
			return -ENOENT;
		}
		int rc = bpf_map__reuse_fd(map, fds[i]);
		if (rc) {
			snprintf(err, errlen, "sharing map \"%s\": %s", names[i], strerror(-rc));
			return rc;
		}
	}
	return 0;
}

struct policy_bpf *policy_bpf_open(const struct policy_bpf_maps *m)
{
	struct policy_bpf *pb = calloc(1, sizeof(*pb));
	if (pb)
		pb->m = *m;
	return pb;
}

void policy_bpf_close(struct policy_bpf *pb)
{
	free(pb);
}

static int clear_map(int fd, void *key)
{
	while (!bpf_map_get_next_key(fd, NULL, key))
		if (bpf_map_delete_elem(fd, key))
			return -errno;
	return errno == ENOENT ? 0 : -errno;
}

/* A program that read `active` just before the last flip may still be
 * reading the set we are about to clear: programs run for microseconds, so
 * a few milliseconds after a flip nobody can be. */
static void grace_period(struct policy_bpf *pb)
{
	if (!pb->flipped)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ns = (now.tv_sec - pb->last_flip.tv_sec) * 1000000000ll + now.tv_nsec - pb->last_flip.tv_nsec;
	const int64_t grace = 20 * 1000000ll;
	if (ns < grace) {
		struct timespec ts = { 0, (long)(grace - ns) };
		nanosleep(&ts, NULL);
	}
}

static int flip_to(struct policy_bpf *pb, uint32_t set, uint64_t revision)
{
	uint32_t zero = 0;
	struct policy_state st = { .active = set, .gen = (uint32_t)revision };
	if (bpf_map_update_elem(pb->m.state, &zero, &st, BPF_ANY))
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &pb->last_flip);
	pb->flipped = true;
	return 0;
}

static int idle_set(struct policy_bpf *pb, uint32_t *set)
{
	uint32_t zero = 0;
	struct policy_state st;
	if (bpf_map_lookup_elem(pb->m.state, &zero, &st))
		return -errno;
	*set = (st.active & 1) ^ 1;
	return 0;
}

int policy_bpf_apply(struct policy_bpf *pb, const struct policy_compiled *c, char *err, size_t errlen)
{
	uint32_t t;
	int rc = idle_set(pb, &t);
	if (rc) {
		snprintf(err, errlen, "reading policy_state: %s", strerror(-rc));
		return rc;
	}
	grace_period(pb);
	struct policy_meta meta = { 0 };
	struct policy_rule_key rk;
	struct policy_addr_key ak;
	if (bpf_map_update_elem(pb->m.meta, &t, &meta, BPF_ANY) ||
	    (rc = clear_map(pb->m.addr[t], &ak)) || (rc = clear_map(pb->m.rules[t], &rk))) {
		rc = rc ? rc : -errno;
		snprintf(err, errlen, "clearing the idle policy maps: %s", strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < c->n_addr; i++) {
		if (bpf_map_update_elem(pb->m.addr[t], &c->akeys[i], &c->avals[i], BPF_ANY)) {
			rc = -errno;
			snprintf(err, errlen, "policy_addr_%u: entry %zu of %zu: %s", t, i + 1, c->n_addr,
			         strerror(-rc));
			return rc;
		}
	}
	for (size_t i = 0; i < c->n_rule; i++) {
		if (bpf_map_update_elem(pb->m.rules[t], &c->rkeys[i], &c->rvals[i], BPF_ANY)) {
			rc = -errno;
			snprintf(err, errlen, "policy_rules_%u: entry %zu of %zu: %s", t, i + 1, c->n_rule,
			         strerror(-rc));
			return rc;
		}
	}
	meta.revision = c->revision;
	meta.n_rules = c->n_rules;
	meta.flags = POLICY_META_LOADED;
	meta.mode = c->mode;
	meta.default_action = c->def;
	if (bpf_map_update_elem(pb->m.meta, &t, &meta, BPF_ANY) || (rc = flip_to(pb, t, c->revision))) {
		rc = rc ? rc : -errno;
		snprintf(err, errlen, "activating the policy: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

int policy_bpf_clear(struct policy_bpf *pb)
{
	uint32_t t;
	int rc = idle_set(pb, &t);
	if (rc)
		return rc;
	grace_period(pb);
	struct policy_meta meta = { 0 };
	if (bpf_map_update_elem(pb->m.meta, &t, &meta, BPF_ANY))
		return -errno;
	return flip_to(pb, t, 0);
}

int policy_bpf_counters(struct policy_bpf *pb, uint64_t out[POLICY_CNT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	uint64_t *vals = calloc((size_t)ncpu, sizeof(uint64_t));
	if (!vals)
		return -ENOMEM;
	for (uint32_t i = 0; i < POLICY_CNT_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(pb->m.counters, &i, vals)) {
			int rc = -errno;
			free(vals);
			return rc;
		}
		for (int c = 0; c < ncpu; c++)
			out[i] += vals[c];
	}
	free(vals);
	return 0;
}

const char *policy_counter_name(int idx)
{
	static const char *const names[POLICY_CNT_MAX] = {
		[POLICY_CNT_LOOKUPS] = "policy_lookups",
		[POLICY_CNT_FORWARDED] = "policy_forwarded",
		[POLICY_CNT_DROP_DENIED] = "drop_policy_denied",
		[POLICY_CNT_DROP_DENY] = "drop_policy_deny",
		[POLICY_CNT_AUDIT_DENIED] = "audit_policy_denied",
		[POLICY_CNT_AUDIT_DENY] = "audit_policy_deny",
	};
	return idx >= 0 && idx < POLICY_CNT_MAX ? names[idx] : NULL;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IP reassembly (see ip_reasm.h). Datagrams in a hash table and in a list
 * by age (the oldest is the first to time out and the first evicted);
 * each datagram's fragments in a list sorted by offset, disjoint, appended
 * at the tail in the common in-order case.
 */
#include "ip_reasm.h"
#include "hash_mix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct frag {
	struct frag *next;
	uint32_t off, len;
	uint8_t data[];
};

struct dgram {
	struct dgram *hnext;
	struct dgram *older, *newer;   /* age list */
	uint8_t saddr[16], daddr[16];
	uint32_t id;
	uint32_t hash;
	uint8_t family, proto;
	bool dead;                     /* dropped: remembered to discard the rest */
	bool last_seen;                /* total is known */
	uint32_t total;                /* payload length, from the last fragment */
	uint32_t received;             /* bytes held (fragments are disjoint) */
	uint32_t n_frags;
	uint64_t first_ns;
	size_t cost;                   /* counted in held_bytes */
	struct frag *frags, *tail;
};

struct ip_reasm {
	struct ip_reasm_config cfg;
	struct dgram **buckets;
	size_t mask;
	size_t n;                      /* datagrams, dead ones included */
	struct dgram *oldest, *newest;
	uint64_t now;
	struct ip_reasm_stats st;
	uint8_t out[IP_REASM_MAX_PAYLOAD];
};

#define FRAG_COST(len) (sizeof(struct frag) + (size_t)(len))

struct ip_reasm *ip_reasm_new(const struct ip_reasm_config *cfg)
{
	if (!cfg->max_datagrams || !cfg->max_bytes || !cfg->timeout_ns ||
	    cfg->max_datagrams > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	struct ip_reasm *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->cfg = *cfg;
	size_t nb = 16;
	while (nb < 2 * cfg->max_datagrams)
		nb <<= 1;
	if (!(r->buckets = calloc(nb, sizeof(*r->buckets)))) {
		free(r);
		return NULL;
	}
	r->mask = nb - 1;
	return r;
}

static void frags_free(struct ip_reasm *r, struct dgram *d)
{
	struct frag *f = d->frags;
	while (f) {
		struct frag *n = f->next;
		d->cost -= FRAG_COST(f->len);
		r->st.held_bytes -= FRAG_COST(f->len);
		free(f);
		f = n;
	}
	d->frags = d->tail = NULL;
	d->received = 0;
	d->n_frags = 0;
}

/* Unlink and free a datagram (counters are the caller's). */
static void dgram_free(struct ip_reasm *r, struct dgram *d)
{
	struct dgram **pp = &r->buckets[d->hash & r->mask];
	while (*pp != d)
		pp = &(*pp)->hnext;
	*pp = d->hnext;
	if (d->older)
		d->older->newer = d->newer;
	else
		r->oldest = d->newer;
	if (d->newer)
		d->newer->older = d->older;
	else
		r->newest = d->older;
	frags_free(r, d);
	if (!d->dead)
		r->st.in_progress--;
	r->st.held_bytes -= d->cost;
	r->n--;
	free(d);
}

void ip_reasm_free(struct ip_reasm *r)
{
	if (!r)
		return;
	while (r->oldest)
		dgram_free(r, r->oldest);
	free(r->buckets);
	free(r);
}

static uint32_t key_hash(const struct ip_frag *f)
{
	uint64_t w[4];
	memcpy(w, f->saddr, 16);
	memcpy(w + 2, f->daddr, 16);
	uint64_t h = (uint64_t)f->id << 16 | (uint64_t)f->family << 8 | f->proto;
	for (int i = 0; i < 4; i++)
		h = hash_mix64(h ^ w[i]);
	return (uint32_t)h;
}

static struct dgram *lookup(struct ip_reasm *r, const struct ip_frag *f, uint32_t hash)
{
	for (struct dgram *d = r->buckets[hash & r->mask]; d; d = d->hnext)
		if (d->hash == hash && d->id == f->id && d->proto == f->proto &&
		    d->family == f->family && memcmp(d->saddr, f->saddr, 16) == 0 &&
		    memcmp(d->daddr, f->daddr, 16) == 0)
			return d;
	return NULL;
}

/* Drop the oldest datagram to make room (a bound). */
static void evict_oldest(struct ip_reasm *r)
{
	struct dgram *d = r->oldest;
	if (!d->dead)
		r->st.limit_drops++;
	dgram_free(r, d);
}

static void expire(struct ip_reasm *r, uint64_t now)
{
	while (r->oldest && r->oldest->first_ns + r->cfg.timeout_ns <= now) {
		if (!r->oldest->dead)
			r->st.timeouts++;
		dgram_free(r, r->oldest);
	}
}

void ip_reasm_expire(struct ip_reasm *r, uint64_t now_ns)
{
	if (now_ns > r->now)
		r->now = now_ns;
	expire(r, r->now);
}

void ip_reasm_expire_all(struct ip_reasm *r)
{
	while (r->oldest) {
		if (!r->oldest->dead)
			r->st.timeouts++;
		dgram_free(r, r->oldest);
	}
}

static void account(struct ip_reasm *r, struct dgram *d, size_t bytes)
{
	d->cost += bytes;
	r->st.held_bytes += bytes;
	if (r->st.held_bytes > r->st.held_bytes_peak)
		r->st.held_bytes_peak = r->st.held_bytes;
}

/* A new datagram for f's key, making room by evicting the oldest; NULL
 * when there is no room (IP_REASM_LIMIT) or memory (IP_REASM_NOMEM) in
 * *why, not counted. */
static struct dgram *dgram_new(struct ip_reasm *r, const struct ip_frag *f, uint32_t hash,
                               enum ip_reasm_result *why)
{
	while (r->oldest && (r->n >= r->cfg.max_datagrams ||
	                     r->st.held_bytes + sizeof(struct dgram) > r->cfg.max_bytes))
		evict_oldest(r);
	if (r->st.held_bytes + sizeof(struct dgram) > r->cfg.max_bytes) {
		*why = IP_REASM_LIMIT;
		return NULL;
	}
	struct dgram *d = calloc(1, sizeof(*d));
	if (!d) {
		*why = IP_REASM_NOMEM;
		return NULL;
	}
	memcpy(d->saddr, f->saddr, 16);
	memcpy(d->daddr, f->daddr, 16);
	d->id = f->id;
	d->hash = hash;
	d->family = f->family;
	d->proto = f->proto;
	d->first_ns = r->now;
	d->hnext = r->buckets[hash & r->mask];
	r->buckets[hash & r->mask] = d;
	d->older = r->newest;
	if (r->newest)
		r->newest->newer = d;
	else
		r->oldest = d;
	r->newest = d;
	r->n++;
	r->st.in_progress++;
	account(r, d, sizeof(*d));
	return d;
}

static void count_drop(struct ip_reasm *r, enum ip_reasm_result why)
{
	switch (why) {
	case IP_REASM_OVERLAP: r->st.overlaps++; break;
	case IP_REASM_TRUNCATED: r->st.truncated++; break;
	case IP_REASM_TOO_BIG: r->st.too_big++; break;
	case IP_REASM_MALFORMED: r->st.malformed++; break;
	case IP_REASM_LIMIT: r->st.limit_drops++; break;
	case IP_REASM_NOMEM: r->st.oom++; break;
	default: break;
	}
}

/* Drop d's bytes for a reason; keep it, dead, to discard its other
 * fragments until its timeout. */
static enum ip_reasm_result kill(struct ip_reasm *r, struct dgram *d, enum ip_reasm_result why)
{
	count_drop(r, why);
	frags_free(r, d);
	d->dead = true;
	r->st.in_progress--;
	return why;
}

/* Is f bad on its own, or against what d knows? */
static enum ip_reasm_result check(const struct dgram *d, const struct ip_frag *f, uint64_t end)
{
	if (f->caplen < f->len)
		return IP_REASM_TRUNCATED;
	if (end > IP_REASM_MAX_PAYLOAD)
		return IP_REASM_TOO_BIG;
	if (!f->len || (f->more && f->len % 8))
		return IP_REASM_MALFORMED;
	if (!d)
		return IP_REASM_HELD;
	if (d->last_seen && end > d->total)
		return IP_REASM_MALFORMED;
	if (!f->more) {
		if (d->last_seen && end != d->total)
			return IP_REASM_MALFORMED;
		if (d->tail && d->tail->off + d->tail->len > end)
			return IP_REASM_MALFORMED;
	}
	return IP_REASM_HELD;
}

enum ip_reasm_result ip_reasm_add(struct ip_reasm *r, const struct ip_frag *f, uint64_t ts_ns,
                                  const uint8_t **out, uint32_t *out_len)
{
	r->st.fragments++;
	if (ts_ns > r->now)
		r->now = ts_ns;
	expire(r, r->now);

	const uint32_t hash = key_hash(f);
	struct dgram *d = lookup(r, f, hash);
	if (d && d->dead) {
		r->st.discarded_fragments++;
		return IP_REASM_DISCARDED;
	}
	const uint64_t end = (uint64_t)f->offset + f->len;
	enum ip_reasm_result why = check(d, f, end);
	if (why != IP_REASM_HELD) {
		/* remembered dead (if there is room), so that its other
		 * fragments go too */
		enum ip_reasm_result unused;
		if (!d && !(d = dgram_new(r, f, hash, &unused))) {
			count_drop(r, why);
			return why;
		}
		return kill(r, d, why);
	}
	if (!d && !(d = dgram_new(r, f, hash, &why))) {
		count_drop(r, why);
		return why;
	}

	/* where it goes: before the first fragment that ends after its start */
	struct frag **pp, *next;
	if (!d->tail || d->tail->off + d->tail->len <= f->offset) {
		pp = d->tail ? &d->tail->next : &d->frags;
	} else {
		pp = &d->frags;
		while ((*pp)->off + (*pp)->len <= f->offset)
			pp = &(*pp)->next;
	}
	next = *pp;
	if (next && next->off < end) {
		if (next->off == f->offset && next->len == f->len &&
		    memcmp(next->data, f->data, f->len) == 0 &&
		    (!f->more) == (d->last_seen && end == d->total)) {
			r->st.duplicates++;
			return IP_REASM_DUPLICATE;
		}
		return kill(r, d, IP_REASM_OVERLAP);
	}
	if (d->n_frags >= IP_REASM_MAX_FRAGMENTS)
		return kill(r, d, IP_REASM_LIMIT);
	/* room: older datagrams go first, then this one */
	const size_t cost = FRAG_COST(f->len);
	while (r->st.held_bytes + cost > r->cfg.max_bytes && r->oldest != d)
		evict_oldest(r);
	if (r->st.held_bytes + cost > r->cfg.max_bytes)
		return kill(r, d, IP_REASM_LIMIT);
	struct frag *fr = malloc(cost);
	if (!fr)
		return kill(r, d, IP_REASM_NOMEM);
	fr->off = f->offset;
	fr->len = f->len;
	memcpy(fr->data, f->data, f->len);
	fr->next = next;
	*pp = fr;
	if (!next)
		d->tail = fr;
	d->n_frags++;
	d->received += f->len;
	account(r, d, cost);
	if (!f->more) {
		d->last_seen = true;
		d->total = (uint32_t)end;
	}
	if (!d->last_seen || d->received != d->total)
		return IP_REASM_HELD;

	for (struct frag *x = d->frags; x; x = x->next)
		memcpy(r->out + x->off, x->data, x->len);
	*out = r->out;
	*out_len = d->total;
	r->st.reassembled++;
	dgram_free(r, d);
	return IP_REASM_COMPLETE;
}

bool ip_reasm_discard(struct ip_reasm *r, const struct ip_frag *f)
{
	struct dgram *d = lookup(r, f, key_hash(f));
	if (!d)
		return false;
	if (!d->dead)
		r->st.discarded++;
	dgram_free(r, d);
	return true;
}

const struct ip_reasm_stats *ip_reasm_get_stats(const struct ip_reasm *r)
{
	return &r->st;
}

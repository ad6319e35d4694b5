/* SPDX-License-Identifier: BSD-2-Clause */
#include "flow_table.h"

#include <stdlib.h>
#include <string.h>

struct flow_table {
	struct ft_entry *slots;
	size_t cap;   /* power of two */
	size_t count;
};

static uint64_t key_hash(const struct flow_key *k)
{
	uint64_t w[sizeof(*k) / 8], h = 0x2545f4914f6cdd1dULL;
	memcpy(w, k, sizeof(w));
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		h = (h ^ w[i]) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 31);
}
_Static_assert(sizeof(struct flow_key) % 8 == 0, "flow_key is hashed as 64-bit words");

struct flow_table *ft_new(size_t initial)
{
	struct flow_table *ft = calloc(1, sizeof(*ft));
	if (!ft)
		return NULL;
	ft->cap = 64;
	while (ft->cap < initial)
		ft->cap <<= 1;
	ft->slots = calloc(ft->cap, sizeof(*ft->slots));
	if (!ft->slots) {
		free(ft);
		return NULL;
	}
	return ft;
}

void ft_free(struct flow_table *ft)
{
	if (ft)
		free(ft->slots);
	free(ft);
}

size_t ft_count(const struct flow_table *ft) { return ft->count; }
size_t ft_slots(const struct flow_table *ft) { return ft->cap; }

struct ft_entry *ft_slot(struct flow_table *ft, size_t i)
{
	return ft->slots[i].used ? &ft->slots[i] : NULL;
}

static size_t probe(const struct flow_table *ft, const struct flow_key *key)
{
	size_t mask = ft->cap - 1, i = key_hash(key) & mask;
	while (ft->slots[i].used && memcmp(&ft->slots[i].key, key, sizeof(*key)))
		i = (i + 1) & mask;
	return i;
}

struct ft_entry *ft_find(struct flow_table *ft, const struct flow_key *key)
{
	size_t i = probe(ft, key);
	return ft->slots[i].used ? &ft->slots[i] : NULL;
}

static int grow(struct flow_table *ft)
{
	size_t old_cap = ft->cap;
	struct ft_entry *old = ft->slots;
	struct ft_entry *slots = calloc(old_cap * 2, sizeof(*slots));
	if (!slots)
		return -1;
	ft->slots = slots;
	ft->cap = old_cap * 2;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].used)
			ft->slots[probe(ft, &old[i].key)] = old[i];
	free(old);
	return 0;
}

struct ft_entry *ft_upsert(struct flow_table *ft, const struct flow_key *key, bool *created)
{
	*created = false;
	size_t i = probe(ft, key);
	if (ft->slots[i].used)
		return &ft->slots[i];
	if ((ft->count + 1) * 4 > ft->cap * 3) { /* keep the load under 3/4 */
		if (grow(ft))
			return NULL;
		i = probe(ft, key);
	}
	struct ft_entry *e = &ft->slots[i];
	memset(e, 0, sizeof(*e));
	e->key = *key;
	e->used = true;
	ft->count++;
	*created = true;
	return e;
}

void ft_remove(struct flow_table *ft, const struct flow_key *key)
{
	size_t mask = ft->cap - 1, i = probe(ft, key);
	if (!ft->slots[i].used)
		return;
	/* Backward-shift deletion: no tombstones, probes stay short. */
	for (size_t j = (i + 1) & mask; ft->slots[j].used; j = (j + 1) & mask) {
		size_t home = key_hash(&ft->slots[j].key) & mask;
		/* Move j into the hole at i unless its home lies cyclically in (i, j]. */
		bool home_in_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!home_in_between) {
			ft->slots[i] = ft->slots[j];
			i = j;
		}
	}
	ft->slots[i].used = false;
	ft->count--;
}

/* SPDX-License-Identifier: BSD-2-Clause */
#include "flow_cache.h"

#include <stdlib.h>
#include <string.h>

struct flow_cache {
	struct fc_entry *slots;
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

struct flow_cache *fc_new(size_t initial)
{
	struct flow_cache *fc = calloc(1, sizeof(*fc));
	if (!fc)
		return NULL;
	fc->cap = 64;
	while (fc->cap < initial)
		fc->cap <<= 1;
	fc->slots = calloc(fc->cap, sizeof(*fc->slots));
	if (!fc->slots) {
		free(fc);
		return NULL;
	}
	return fc;
}

void fc_free(struct flow_cache *fc)
{
	if (fc)
		free(fc->slots);
	free(fc);
}

size_t fc_count(const struct flow_cache *fc) { return fc->count; }
size_t fc_slots(const struct flow_cache *fc) { return fc->cap; }

struct fc_entry *fc_slot(struct flow_cache *fc, size_t i)
{
	return fc->slots[i].used ? &fc->slots[i] : NULL;
}

static size_t probe(const struct flow_cache *fc, const struct flow_key *key)
{
	size_t mask = fc->cap - 1, i = key_hash(key) & mask;
	while (fc->slots[i].used && memcmp(&fc->slots[i].key, key, sizeof(*key)))
		i = (i + 1) & mask;
	return i;
}

struct fc_entry *fc_find(struct flow_cache *fc, const struct flow_key *key)
{
	size_t i = probe(fc, key);
	return fc->slots[i].used ? &fc->slots[i] : NULL;
}

static int grow(struct flow_cache *fc)
{
	size_t old_cap = fc->cap;
	struct fc_entry *old = fc->slots;
	struct fc_entry *slots = calloc(old_cap * 2, sizeof(*slots));
	if (!slots)
		return -1;
	fc->slots = slots;
	fc->cap = old_cap * 2;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].used)
			fc->slots[probe(fc, &old[i].key)] = old[i];
	free(old);
	return 0;
}

struct fc_entry *fc_upsert(struct flow_cache *fc, const struct flow_key *key, bool *created)
{
	*created = false;
	size_t i = probe(fc, key);
	if (fc->slots[i].used)
		return &fc->slots[i];
	if ((fc->count + 1) * 4 > fc->cap * 3) { /* keep the load under 3/4 */
		if (grow(fc))
			return NULL;
		i = probe(fc, key);
	}
	struct fc_entry *e = &fc->slots[i];
	memset(e, 0, sizeof(*e));
	e->key = *key;
	e->used = true;
	fc->count++;
	*created = true;
	return e;
}

void fc_remove(struct flow_cache *fc, const struct flow_key *key)
{
	size_t mask = fc->cap - 1, i = probe(fc, key);
	if (!fc->slots[i].used)
		return;
	/* Backward-shift deletion: no tombstones, probes stay short. */
	for (size_t j = (i + 1) & mask; fc->slots[j].used; j = (j + 1) & mask) {
		size_t home = key_hash(&fc->slots[j].key) & mask;
		/* Move j into the hole at i unless its home lies cyclically in (i, j]. */
		bool home_in_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!home_in_between) {
			fc->slots[i] = fc->slots[j];
			i = j;
		}
	}
	fc->slots[i].used = false;
	fc->count--;
}

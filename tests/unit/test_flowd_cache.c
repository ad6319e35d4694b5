/* Unit tests of flowd's user-space flow table (flowd/flow_cache.c): inserts,
 * growth, lookups and backward-shift removal checked against a reference. */
#include "check.h"
#include "../../flowd/flow_cache.c"

#include <stdlib.h>

#define N 20000

static struct flow_key key_of(unsigned i)
{
	struct flow_key k = { 0 };
	k.saddr[0] = 198;
	k.saddr[1] = 18;
	k.saddr[2] = (uint8_t)(i >> 8);
	k.saddr[3] = (uint8_t)i;
	k.daddr[0] = 198;
	k.daddr[1] = 19;
	k.sport = (uint16_t)(i * 7919u);
	k.dport = (uint16_t)(i % 3 ? 80 : 443);
	k.family = 4;
	k.proto = 6;
	k.ifindex = i % 5;
	k.direction = i & 1;
	return k;
}

int main(void)
{
	struct flow_cache *fc = fc_new(16);
	CHECK("new", fc && fc_count(fc) == 0);
	bool created, all_created = true, all_found = true;
	for (unsigned i = 0; i < N; i++) {
		struct flow_key k = key_of(i);
		struct fc_entry *e = fc_upsert(fc, &k, &created);
		all_created &= e && created && memcmp(&e->key, &k, sizeof(k)) == 0;
		e->rec.packets = i;
	}
	CHECK("insert: every key new", all_created);
	CHECK_U64("insert: count", fc_count(fc), N);
	CHECK("grew past the load limit", fc_slots(fc) * 3 >= (size_t)N * 4);
	struct flow_key k0 = key_of(0);
	fc_upsert(fc, &k0, &created);
	CHECK("upsert of an existing key: not created", !created && fc_count(fc) == N);
	for (unsigned i = 0; i < N; i++) {
		struct flow_key k = key_of(i);
		struct fc_entry *e = fc_find(fc, &k);
		all_found &= e && e->rec.packets == i;
	}
	CHECK("find after growth: every key with its value", all_found);

	/* Remove a pseudo-random half. */
	static bool removed[N];
	srand(7);
	unsigned n_removed = 0;
	while (n_removed < N / 2) {
		unsigned i = (unsigned)rand() % N;
		if (removed[i])
			continue;
		struct flow_key k = key_of(i);
		fc_remove(fc, &k);
		removed[i] = true;
		n_removed++;
	}
	CHECK_U64("remove: count", fc_count(fc), N - N / 2);
	bool ok = true;
	for (unsigned i = 0; i < N; i++) {
		struct flow_key k = key_of(i);
		struct fc_entry *e = fc_find(fc, &k);
		ok &= removed[i] ? e == NULL : (e && e->rec.packets == i);
	}
	CHECK("remove: removed keys gone, the others still found", ok);
	size_t seen = 0;
	for (size_t i = 0; i < fc_slots(fc); i++)
		seen += fc_slot(fc, i) != NULL;
	CHECK_U64("iteration visits every entry once", seen, N - N / 2);
	struct flow_key absent = key_of(N + 1);
	fc_remove(fc, &absent);
	CHECK_U64("removing an absent key changes nothing", fc_count(fc), N - N / 2);
	fc_free(fc);
	return CHECK_DONE();
}

/* libFuzzer target for the policy and identities files (lib/policy.c,
 * lib/identity.c, lib/ycfg.c) and, differentially, for the policy compiler
 * (lib/policy_bpf.c): whenever an input is a valid policy, its compiled form
 * must give the reference evaluation's answer for packets derived from the
 * input, or the target aborts.
 *
 * Input: first byte selects the file kind (even: policy, odd: identities);
 * the rest is the file. A policy is evaluated against a small fixed set of
 * identities. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "policy.h"
#include "policy_bpf.h"

static struct identity_db *fixed_ids(void)
{
	static struct identity_db *db;
	static const char text[] =
		"endpoints:\n"
		"  - {addresses: [10.0.0.1, \"2001:db8::1\"], namespace: a, labels: {app: web}}\n"
		"  - {addresses: [10.0.1.0/24], namespace: b, labels: {app: db}}\n"
		"networks:\n"
		"  - {cidr: 192.0.2.0/24}\n"
		"host: {detect: false, addresses: [10.0.0.254]}\n";
	static const struct identity_opts o = { .detect_host = false };
	char err[512];
	if (!db)
		db = identity_db_load_string(text, sizeof(text) - 1, "ids", &o, err, sizeof(err));
	return db;
}

static void differential(const struct policy *p, const uint8_t *data, size_t size)
{
	struct identity_db *ids = fixed_ids();
	char err[512];
	struct policy_compile_opts o = { .max_rule_entries = 200000, .max_addr_entries = 50000 };
	struct policy_compiled *c = policy_compile(p, ids, &o, err, sizeof(err));
	if (!c)
		return;   /* too big: refused, fine */
	static const char *const pool4[] = { "10.0.0.1", "10.0.1.7", "10.0.0.254", "192.0.2.9",
		                             "10.1.2.3", "8.8.8.8", "10.0.0.0", "172.16.5.4" };
	static const uint8_t protos[] = { 6, 17, 132, 1 };
	for (size_t i = 0; i + 4 <= size && i < 64; i += 4) {
		struct policy_l34_query q;
		memset(&q, 0, sizeof(q));
		q.family = 4;
		inet_pton(AF_INET, pool4[data[i] & 7], q.saddr);
		inet_pton(AF_INET, pool4[data[i + 1] & 7], q.daddr);
		if (data[i] & 0x80)   /* any address, from the input */
			memcpy(q.saddr, data + i, 4);
		q.proto = protos[data[i + 2] & 3];
		q.dport = (uint16_t)(data[i + 3] << 8 | data[i + 2]);
		if (q.proto == 1)
			q.dport = 0;
		const struct identity_endpoint *se = identity_lookup(ids, 4, q.saddr);
		const struct identity_endpoint *de = identity_lookup(ids, 4, q.daddr);
		q.src_labels = se->identity->labels;
		q.n_src_labels = se->identity->n_labels;
		q.dst_labels = de->identity->labels;
		q.n_dst_labels = de->identity->n_labels;
		struct policy_verdict ref, got;
		struct policy_result r;
		policy_eval_l34(p, &q, &ref);
		policy_compiled_lookup(c, 4, q.saddr, q.daddr, q.proto, q.dport, &r);
		policy_result_to_verdict(&r, &got);
		if (ref.action != got.action || ref.rule != got.rule || ref.match_type != got.match_type ||
		    ref.drop_reason != got.drop_reason || ref.direction != got.direction)
			abort();
	}
	policy_compiled_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	char err[4096];
	const char *text = (const char *)data + 1;
	if (data[0] & 1) {
		static const struct identity_opts o = { .detect_host = false };
		struct identity_db *db = identity_db_load_string(text, size - 1, "f", &o, err, sizeof(err));
		if (db) {
			uint8_t a[16] = { 10, 0, 0, 1 };
			identity_lookup(db, 4, a);
			identity_db_unref(db);
		}
		return 0;
	}
	struct policy *p = policy_load_string(text, size - 1, "f", err, sizeof(err));
	if (p) {
		differential(p, data, size);
		policy_unref(p);
	}
	return 0;
}

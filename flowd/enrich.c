/* SPDX-License-Identifier: BSD-2-Clause */
#include "enrich.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conntrack.h"
#include "counters.h"
#include "dns_cache.h"
#include "flow_json.h"
#include "flow_l34.h"
#include "identity.h"
#include "pipeline.h"
#include "policy.h"
#include "policy_bpf.h"

#define ERRBUF 16384
#define FQDN_MAX 8192                      /* addresses remembered for toFQDNs */
#define FQDN_TTL_NS (3600ull * 1000000000) /* as Cilium's tofqdns-min-ttl */
#define FQDN_RECOMPILE_NS 1000000000ull    /* at most one recompile a second */

/* An address a DNS answer gave for a name some toFQDNs rule names. */
struct fqdn_ip {
	char *name;
	uint8_t family;
	uint8_t addr[16];
	uint64_t seen_ns;
};

struct enrich {
	const struct flowd_config *cfg;
	struct identity_db *ids;         /* never NULL */
	struct policy *pol;              /* NULL: no policy */
	struct policy *prev;             /* the one before: names of older decisions */
	char *policy_file;
	struct policy_bpf *pb;           /* the datapath's maps; NULL before they exist */
	struct fqdn_ip *fq;
	size_t n_fq;
	bool fq_dirty;
	uint64_t fq_compiled_ns;
	struct ct_table *ct;
	struct dns_cache *names;         /* NULL: out of memory at start (counted) */
	struct {
		uint64_t reloads, reload_errors, fqdn_recompiles, fqdn_errors, oom;
		uint64_t ct_matched, ct_unmatched;
	} st;
};

static uint64_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct identity_db *load_identities(const struct enrich *en, char *err, size_t errlen)
{
	const struct identity_opts o = { .detect_host = true };
	if (en->cfg->identities_file)
		return identity_db_load_file(en->cfg->identities_file, &o, err, errlen);
	return identity_db_default(&o, err, errlen);
}

/* Compile p for ids (and the FQDN addresses) and make it the kernel's. */
static int compile_apply(struct enrich *en, const struct policy *p, const struct identity_db *ids,
                         char *err, size_t errlen)
{
	struct policy_fqdn_ip *fi = NULL;
	if (en->n_fq && !(fi = calloc(en->n_fq, sizeof(*fi)))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < en->n_fq; i++) {
		fi[i].family = en->fq[i].family;
		memcpy(fi[i].addr, en->fq[i].addr, 16);
		fi[i].name = en->fq[i].name;
	}
	struct policy_compile_opts o = { .fqdn_ips = fi, .n_fqdn_ips = en->n_fq };
	struct policy_compiled *c = policy_compile(p, ids, &o, err, errlen);
	free(fi);
	if (!c)
		return -EINVAL;
	int rc = en->pb ? policy_bpf_apply(en->pb, c, err, errlen) : 0;
	if (!rc && en->cfg->verbose) {
		struct policy_compile_stats cs;
		policy_compiled_stats(c, &cs);
		fprintf(stderr, "flowd: policy revision %llu compiled: %zu address and %zu rule entries\n",
		        (unsigned long long)policy_revision(p), cs.addr_entries, cs.rule_entries);
	}
	policy_compiled_free(c);
	return rc;
}

static void say_policy(const struct enrich *en, const char *what)
{
	fprintf(stderr, "flowd: policy %s: %s (revision %llu, %s mode, default %s, %zu rules)\n", what,
	        en->policy_file, (unsigned long long)policy_revision(en->pol),
	        policy_mode(en->pol) == POLICY_ENFORCE ? "enforce" : "audit",
	        policy_default_action(en->pol) == POLICY_DENY ? "deny" : "allow",
	        policy_rule_count(en->pol));
}

int enrich_open(const struct flowd_config *cfg, struct enrich **out, struct flowd_err *e)
{
	*out = NULL;
	struct enrich *en = calloc(1, sizeof(*en));
	char *err = calloc(1, ERRBUF);
	if (!en || !err) {
		free(en);
		free(err);
		return flowd_errf(e, -ENOMEM, "out of memory");
	}
	en->cfg = cfg;
	int rc = 0;
	if (!(en->ids = load_identities(en, err, ERRBUF)))
		rc = -EINVAL;
	if (cfg->policy_file) {
		size_t used = strlen(err);
		if (used && err[used - 1] != '\n' && used + 1 < ERRBUF)
			err[used++] = '\n';
		en->policy_file = strdup(cfg->policy_file);
		if (!en->policy_file)
			rc = -ENOMEM;
		else if (!(en->pol = policy_load_file(cfg->policy_file, err + used, ERRBUF - used)))
			rc = -EINVAL;
	}
	if (rc) {
		/* every problem of both files, one "FILE:LINE:COL: ..." per line */
		size_t n = strlen(err);
		while (n && err[n - 1] == '\n')
			err[--n] = '\0';
		flowd_errf(e, rc, "%s", err);
		free(err);
		enrich_close(en);
		return rc;
	}
	free(err);
	/* the sizes replay uses by default, so live and replayed names agree */
	struct pipeline_config pd;
	pipeline_config_defaults(&pd);
	if (!(en->names = dns_cache_new(pd.dns_cache_size, pd.dns_min_ttl_s))) {
		enrich_close(en);
		return flowd_errf(e, -ENOMEM, "out of memory (DNS cache)");
	}
	if (cfg->identities_file && cfg->verbose)
		fprintf(stderr, "flowd: identities: %s (%zu identities)\n", cfg->identities_file,
		        identity_db_count(en->ids));
	if (!cfg->no_conntrack) {
		char msg[512] = "";
		if (ct_open(&en->ct, NULL, msg, sizeof(msg)) < 0) {
			en->ct = NULL;
			fprintf(stderr, "flowd: %s\n", msg);
		}
	}
	*out = en;
	return 0;
}

void enrich_close(struct enrich *en)
{
	if (!en)
		return;
	ct_close(en->ct);
	dns_cache_free(en->names);
	policy_bpf_close(en->pb);
	policy_unref(en->pol);
	policy_unref(en->prev);
	identity_db_unref(en->ids);
	for (size_t i = 0; i < en->n_fq; i++)
		free(en->fq[i].name);
	free(en->fq);
	free(en->policy_file);
	free(en);
}

int enrich_maps_ready(struct enrich *en, const struct policy_bpf_maps *m, struct flowd_err *e)
{
	if (!(en->pb = policy_bpf_open(m)))
		return flowd_errf(e, -ENOMEM, "out of memory");
	if (!en->pol)
		return 0;
	char err[1024] = "";
	int rc = compile_apply(en, en->pol, en->ids, err, sizeof(err));
	if (rc)
		return flowd_errf(e, rc, "policy %s: %s", en->policy_file, err);
	say_policy(en, "loaded");
	return 0;
}

int enrich_reload(struct enrich *en, const char *policy_file, char *err, size_t errlen)
{
	char *buf = calloc(1, ERRBUF);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	const char *pfile = policy_file ? policy_file : en->policy_file;
	struct identity_db *ids = load_identities(en, buf, ERRBUF);
	struct policy *pol = NULL;
	char *file_copy = NULL;
	if (pfile) {
		size_t used = strlen(buf);
		if (used && buf[used - 1] != '\n' && used + 1 < ERRBUF)
			buf[used++] = '\n';
		pol = policy_load_file(pfile, buf + used, ERRBUF - used);
		if (pol && !(file_copy = strdup(pfile))) {
			snprintf(buf + used, ERRBUF - used, "out of memory");
			policy_unref(pol);
			pol = NULL;
		}
	}
	int rc = -1;
	if (ids && (!pfile || pol)) {
		/* the kernel first: if it refuses, nothing changes */
		rc = pol ? compile_apply(en, pol, ids, buf, ERRBUF) : 0;
		if (rc && pfile) {
			char tmp[1024];
			snprintf(tmp, sizeof(tmp), "%s: %s", pfile, buf);
			snprintf(buf, ERRBUF, "%s", tmp);
		}
	}
	if (rc) {
		size_t n = strlen(buf);
		while (n && buf[n - 1] == '\n')
			buf[--n] = '\0';
		snprintf(err, errlen, "%s", buf);
		en->st.reload_errors++;
		identity_db_unref(ids);
		policy_unref(pol);
		free(file_copy);
		free(buf);
		return -1;
	}
	free(buf);
	identity_db_unref(en->ids);
	en->ids = ids;
	if (pol) {
		policy_unref(en->prev);
		en->prev = en->pol;
		en->pol = pol;
		free(en->policy_file);
		en->policy_file = file_copy;
		en->fq_dirty = false;
	}
	en->st.reloads++;
	if (en->cfg->identities_file)
		fprintf(stderr, "flowd: identities reloaded: %s (%zu identities)\n", en->cfg->identities_file,
		        identity_db_count(en->ids));
	if (pol)
		say_policy(en, "reloaded");
	return 0;
}

int enrich_fd(const struct enrich *en)
{
	return en->ct ? ct_fd(en->ct) : -1;
}

void enrich_process(struct enrich *en)
{
	if (en->ct && ct_process(en->ct) < 0 && en->cfg->verbose)
		fprintf(stderr, "flowd: conntrack: reading events failed\n");
}

static void fqdn_expire(struct enrich *en, uint64_t now)
{
	size_t j = 0;
	for (size_t i = 0; i < en->n_fq; i++) {
		if (en->fq[i].seen_ns + FQDN_TTL_NS < now) {
			free(en->fq[i].name);
			en->fq_dirty = true;
			continue;
		}
		en->fq[j++] = en->fq[i];
	}
	en->n_fq = j;
}

void enrich_tick(struct enrich *en, uint64_t now_ns)
{
	enrich_process(en);
	if (!en->pol || !en->pb)
		return;
	fqdn_expire(en, now_ns);
	if (!en->fq_dirty || now_ns - en->fq_compiled_ns < FQDN_RECOMPILE_NS)
		return;
	char err[1024] = "";
	en->fq_dirty = false;
	en->fq_compiled_ns = now_ns;
	if (compile_apply(en, en->pol, en->ids, err, sizeof(err))) {
		en->st.fqdn_errors++;
		fprintf(stderr, "flowd: policy: recompiling for new DNS answers failed (the previous maps "
		        "stay): %s\n", err);
		return;
	}
	en->st.fqdn_recompiles++;
}

void enrich_dns_answer(struct enrich *en, const struct flow_event *ev)
{
	if (!en->pol || ev->type != FE_TYPE_L7 || ev->l7.kind != FE_L7K_DNS ||
	    ev->l7.type != FE_L7_RESPONSE || !ev->l7.dns.query || !ev->l7.dns.n_ips)
		return;
	char name[256];
	size_t n = strlen(ev->l7.dns.query);
	if (n && ev->l7.dns.query[n - 1] == '.')
		n--;
	if (!n || n >= sizeof(name))
		return;
	for (size_t i = 0; i < n; i++) {
		char c = ev->l7.dns.query[i];
		name[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	name[n] = '\0';
	if (!policy_fqdn_relevant(en->pol, name))
		return;
	uint64_t now = mono_now();
	for (size_t k = 0; k < ev->l7.dns.n_ips; k++) {
		struct fqdn_ip ip = { .seen_ns = now };
		if (inet_pton(AF_INET, ev->l7.dns.ips[k], ip.addr) == 1)
			ip.family = 4;
		else if (inet_pton(AF_INET6, ev->l7.dns.ips[k], ip.addr) == 1)
			ip.family = 6;
		else
			continue;
		size_t i;
		for (i = 0; i < en->n_fq; i++)
			if (en->fq[i].family == ip.family && !memcmp(en->fq[i].addr, ip.addr, 16) &&
			    !strcmp(en->fq[i].name, name))
				break;
		if (i < en->n_fq) {
			en->fq[i].seen_ns = now;
			continue;
		}
		if (!(ip.name = strdup(name))) {
			en->st.oom++;
			return;
		}
		if (!en->fq && !(en->fq = calloc(FQDN_MAX, sizeof(*en->fq)))) {
			free(ip.name);
			en->st.oom++;
			return;
		}
		if (en->n_fq == FQDN_MAX) {   /* full: the least recently seen goes */
			size_t old = 0;
			for (i = 1; i < en->n_fq; i++)
				if (en->fq[i].seen_ns < en->fq[old].seen_ns)
					old = i;
			free(en->fq[old].name);
			en->fq[old] = ip;
		} else {
			en->fq[en->n_fq++] = ip;
		}
		en->fq_dirty = true;
	}
}

/* The policy that decided revision rev (for rule names), or NULL. */
static const struct policy *policy_of(const struct enrich *en, uint64_t rev)
{
	if (en->pol && (uint32_t)policy_revision(en->pol) == rev)
		return en->pol;
	if (en->prev && (uint32_t)policy_revision(en->prev) == rev)
		return en->prev;
	return NULL;
}

static bool ct_tuple_of(const struct flow_key *k, struct ct_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = k->family;
	t->proto = k->proto;
	memcpy(t->src, k->saddr, 16);
	memcpy(t->dst, k->daddr, 16);
	switch (k->proto) {
	case 6: case 17: case 132:
		t->sport = k->sport;
		t->dport = k->dport;
		return true;
	case 1: case 58:
		t->sport = t->dport = k->sport;  /* the echo identifier */
		return true;
	default:
		return false;
	}
}

static const struct ct_entry *ct_find(struct enrich *en, const struct flow_key *key, enum ct_where *where)
{
	struct ct_tuple t;
	if (!en->ct || !ct_tuple_of(key, &t))
		return NULL;
	const struct ct_entry *e = ct_lookup(en->ct, &t, where);
	if (e)
		en->st.ct_matched++;
	else
		en->st.ct_unmatched++;
	return e;
}

static void ct_attach(struct enrich *en, struct flow_event *ev, const struct ct_entry *e, enum ct_where where)
{
	struct fe_buf b = { 0 };
	ct_label_event(e, where, ev);
	if (ct_entry_json(e, where, &b) || !(ev->conntrack_json = fe_strndup(ev, b.data, b.len)))
		en->st.oom++;
	fe_buf_free(&b);
}

/* Endpoints when the user asked for identities or a policy (whose
 * selectors need them); else `{}`, as `flowctl replay` without them. */
static void fill(struct enrich *en, struct flow_event *ev)
{
	if ((en->cfg->identities_file || en->policy_file) && identity_fill_event(en->ids, ev))
		en->st.oom++;
}

struct dns_cache *enrich_dns_cache(struct enrich *en)
{
	return en->names;
}

/* names of one address, copied into ev's arena; out untouched when none */
static void set_names(struct enrich *en, struct flow_event *ev, uint8_t family,
                      const uint8_t addr[16], const char ***out, size_t *n_out)
{
	const char *names[DNS_CACHE_NAMES_PER_IP];
	size_t n = dns_cache_lookup_addr(en->names, family, addr, ev->time_ns, names,
	                                 DNS_CACHE_NAMES_PER_IP);
	if (!n)
		return;
	if (!(*out = fe_strv(ev, names, n))) {
		en->st.oom++;
		return;
	}
	*n_out = n;
}

void enrich_l34(struct enrich *en, struct flow_event *ev, const struct flow_key *key,
                const struct flow_rec *rec)
{
	if (en->names && dns_cache_has_entries(en->names)) {
		set_names(en, ev, key->family, key->saddr, &ev->source_names, &ev->n_source_names);
		set_names(en, ev, key->family, key->daddr, &ev->destination_names,
		          &ev->n_destination_names);
	}
	fill(en, ev);
	enum ct_where where;
	const struct ct_entry *e = ct_find(en, key, &where);
	if (e)
		ct_attach(en, ev, e, where);
	if (rec->policy.gen) {
		struct policy_result r;
		policy_flow_unpack(&rec->policy, &r);
		policy_label_flow(&r, ev);
	}
}

bool enrich_policy_verdict(struct enrich *en, struct flow_event *ev, const struct flow_key *key,
                           const struct flow_rec *rec)
{
	(void)key;
	if (!rec->policy.gen || (rec->policy.flags & (POLICY_RES_REPLY | POLICY_RES_EXEMPT)))
		return false;
	struct policy_result r;
	policy_flow_unpack(&rec->policy, &r);
	fill(en, ev);
	int rc = policy_verdict_event(policy_of(en, r.revision), &r, ev);
	if (rc == -ENOMEM)
		en->st.oom++;
	return rc == 0;
}

bool enrich_translated(struct enrich *en, struct flow_event *ev, const struct flow_key *key)
{
	enum ct_where where;
	const struct ct_entry *e = ct_find(en, key, &where);
	if (!e || where != CT_ORIG_PRE_NAT || !(e->status & CT_STATUS_DST_NAT))
		return false;
	/* Hubble's trace-sock event after a service translation
	 * (post-xlate-fwd): the client and the backend it was sent to */
	ev->type = FE_TYPE_SOCK;
	ev->event_type = 7;
	ev->event_sub_type = 0;
	ev->verdict = FE_TRANSLATED;
	ev->sock_xlate_point = 2;   /* SOCK_XLATE_POINT_POST_DIRECTION_FWD */
	ev->trace_observation_point = 0;
	ev->traffic_direction = FE_DIR_UNKNOWN;
	ev->has_ethernet = false;
	ev->tcp_flags = 0;
	ev->icmp_type = ev->icmp_code = 0;
	ev->stats.event = FE_STATS_NONE;
	ev->is_reply = -1;
	ev->reply = false;
	flow_addr_format(e->reply.family, e->reply.src, ev->ip_dst);
	ev->dport = ev->l4 == FE_L4_ICMPV4 || ev->l4 == FE_L4_ICMPV6 ? 0 : e->reply.sport;
	fill(en, ev);
	ct_attach(en, ev, e, where);
	ev->summary = NULL;
	if (fe_set_summary(ev))   /* a trace-sock summary: the protocol */
		en->st.oom++;
	return true;
}

void enrich_l7(struct enrich *en, struct flow_event *ev)
{
	fill(en, ev);
	if (en->pol && policy_label_l7(en->pol, ev) == -ENOMEM)
		en->st.oom++;
}

int enrich_api_command(void *user, const char *name, const char *request, uid_t peer_uid,
                       struct fe_buf *out)
{
	struct enrich *en = user;
	if (strcmp(name, "policy_load"))
		return -1;
	static char err[16384];
	json_t *root = json_loads(request, 0, NULL);
	const char *file = json_string_value(json_object_get(root, "file"));
	int rc = 0;
	if (peer_uid != 0 && peer_uid != geteuid()) {
		snprintf(err, sizeof(err), "permission denied: only root (or flowd's user) may load a policy");
		rc = -1;
	} else if (!file || file[0] != '/' || json_object_size(root) != 2) {
		snprintf(err, sizeof(err), "a policy_load request has one more field: \"file\", an absolute path");
		rc = -1;
	} else if (enrich_reload(en, file, err, sizeof(err))) {
		rc = -1;
	}
	json_decref(root);
	char line[512];
	if (rc) {
		fprintf(stderr, "flowd: policy load refused, the running policy stays:\n");
		for (const char *l = err; *l;) {
			const char *nl = strchr(l, '\n');
			size_t n = nl ? (size_t)(nl - l) : strlen(l);
			fprintf(stderr, "flowd:   %.*s\n", (int)n, l);
			l += n + (nl ? 1 : 0);
		}
		if (fe_buf_append(out, "{\"error\":", 9) || fe_json_append_string(out, err) ||
		    fe_buf_append(out, "}\n", 2))
			en->st.oom++;
		return 0;
	}
	snprintf(line, sizeof(line), "{\"policy_load\":\"ok\",\"revision\":\"%llu\",\"mode\":\"%s\",\"rules\":%zu,\"file\":",
	         (unsigned long long)policy_revision(en->pol),
	         policy_mode(en->pol) == POLICY_ENFORCE ? "enforce" : "audit", policy_rule_count(en->pol));
	if (fe_buf_append(out, line, strlen(line)) || fe_json_append_string(out, en->policy_file) ||
	    fe_buf_append(out, "}\n", 2))
		en->st.oom++;
	return 0;
}

size_t enrich_counters(const struct enrich *en, struct flowd_counter *out, size_t n, size_t max)
{
#define ADD(nm, v, k)                                                       \
	do {                                                                \
		if (n < max)                                                \
			out[n++] = (struct flowd_counter){ .name = (nm), .value = (v), .sparse = (k) }; \
	} while (0)
	ADD("policy_revision", en->pol ? policy_revision(en->pol) : 0, 0);
	ADD("reloads", en->st.reloads, 0);
	ADD("reload_errors", en->st.reload_errors, 0);
	ADD("fqdn_addresses", en->n_fq, 0);
	ADD("fqdn_recompiles", en->st.fqdn_recompiles, 0);
	ADD("fqdn_recompile_errors", en->st.fqdn_errors, 0);
	ADD("enrich_oom", en->st.oom, 0);
	struct dns_cache_stats ds = { 0 };
	if (en->names)
		dns_cache_get_stats(en->names, &ds);
	ADD("dns_cache_entries", ds.entries, 0);
	ADD("dns_cache_adds", ds.adds, 0);
	ADD("dns_cache_evictions", ds.evictions, 0);
	ADD("dns_cache_names_dropped", ds.names_dropped, 0);
	uint64_t pc[POLICY_CNT_MAX];
	if (en->pb && !policy_bpf_counters(en->pb, pc))
		for (int i = 0; i < POLICY_CNT_MAX; i++)
			ADD(policy_counter_name(i), pc[i], 1);
	if (en->ct) {
		struct ct_stats cs;
		ct_get_stats(en->ct, &cs);
		ADD("conntrack_entries", cs.entries, 0);
		ADD("conntrack_events", cs.events_new + cs.events_update + cs.events_destroy, 0);
		ADD("conntrack_overruns", cs.overruns, 0);
		ADD("conntrack_evicted", cs.evicted, 0);
		ADD("conntrack_matched", en->st.ct_matched, 0);
		ADD("conntrack_unmatched", en->st.ct_unmatched, 0);
	}
#undef ADD
	return n;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* Policy file, model and evaluation; see policy.h for the semantics. */
#include "policy.h"
#include "regex_re2.h"

#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "identity.h"
#include "kafka_proto.h"
#include "lpm.h"
#include "pool.h"
#include "ycfg.h"

/* --- model --------------------------------------------------------------- */

enum sel_op { SEL_IN, SEL_NOTIN, SEL_EXISTS, SEL_NOTEXISTS };

struct sel_req {
	const char *source;       /* NULL: any source */
	const char *key;
	enum sel_op op;
	const char **values;
	size_t n_values;
};

struct selector {
	struct sel_req *reqs;
	size_t n;                 /* 0: the empty selector (all but world) */
};

struct cidr_peer {
	struct ipnet net;
	struct ipnet *except;
	size_t n_except;
};

struct name_match {           /* matchName xor matchPattern, lower case, no trailing dot */
	const char *name;
	const char *pattern;
};

enum l7_kind { L7R_NONE = 0, L7R_HTTP, L7R_DNS, L7R_KAFKA };

struct http_header_match { const char *name, *value; };   /* value NULL: present */

struct http_rule {
	regex_t *method, *path, *host;
	struct http_header_match *headers;
	size_t n_headers;
};

struct kafka_rule {
	const char *const *api_keys;   /* NULL: any */
	size_t n_api_keys;
	int32_t api_version;           /* -1: any */
	const char *client_id;
	const char *topic;
};

struct port_entry {
	size_t first_spec, n_specs;    /* into rule->specs */
	enum l7_kind l7;
	struct http_rule *http;
	struct name_match *dns;
	struct kafka_rule *kafka;
	size_t n_l7;
};

enum { ENT_HOST = 1, ENT_WORLD = 2, ENT_ALL = 4 };

struct rule {
	const char *name;
	unsigned line;
	enum policy_action action;
	enum policy_dir dir;
	struct selector subject;
	bool peer_any;
	struct selector *peer_sels;
	size_t n_peer_sels;
	struct cidr_peer *cidrs;
	size_t n_cidrs;
	unsigned entities;
	struct name_match *fqdns;
	size_t n_fqdns;
	struct port_entry *ports;      /* NULL/0: no toPorts */
	size_t n_ports;
	struct policy_port_spec *specs;/* flattened; one "everything" spec without toPorts */
	int32_t *spec_entry;           /* port entry of each spec, -1 without toPorts */
	size_t n_specs;
};

struct policy {
	atomic_int refs;
	struct pool pool;
	enum policy_mode mode;
	enum policy_action def;
	uint64_t revision;
	struct rule *rules;
	size_t n_rules;
	regex_t **regexes;
	size_t n_regexes, cap_regexes;
};

static atomic_uint_fast64_t revision_counter;

/* --- names and patterns ----------------------------------------------------- */

static void lower_copy(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] + 32) : src[i];
	dst[n] = '\0';
}

/* Cilium's matchPattern: '*' stands for any run of DNS characters except
 * the dot ([-a-z0-9_]*); the pattern "*" alone matches every name. Names
 * and patterns are lower case without the trailing dot. */
static bool pattern_match(const char *pat, const char *name)
{
	if (!strcmp(pat, "*"))
		return true;
	const char *star_p = NULL, *star_n = NULL;
	while (*name) {
		if (*pat == '*') {
			star_p = pat++;
			star_n = name;
		} else if (*pat == *name) {
			pat++;
			name++;
		} else if (star_p && *star_n != '.') {
			/* let the last '*' swallow one more (non-dot) character */
			pat = star_p + 1;
			name = ++star_n;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return !*pat;
}

static bool name_matches(const struct name_match *m, const char *name)
{
	char buf[256];
	size_t n = strlen(name);
	if (n && name[n - 1] == '.')
		n--;
	if (n >= sizeof(buf))
		return false;
	lower_copy(buf, name, n);
	return m->name ? !strcmp(m->name, buf) : pattern_match(m->pattern, buf);
}

/* --- matching ------------------------------------------------------------- */

static bool is_world(const char *const *labels, size_t n)
{
	return n == 0 || identity_labels_find(labels, n, "reserved", "world", NULL);
}

static bool selector_matches(const struct selector *s, const char *const *labels, size_t n)
{
	if (s->n == 0)
		return !is_world(labels, n);
	for (size_t i = 0; i < s->n; i++) {
		const struct sel_req *r = &s->reqs[i];
		const char *val;
		bool has = identity_labels_find(labels, n, r->source, r->key, &val);
		bool in = false;
		for (size_t k = 0; has && k < r->n_values && !in; k++)
			in = !strcmp(r->values[k], val);
		switch (r->op) {
		case SEL_IN:
			if (!in)
				return false;
			break;
		case SEL_NOTIN:
			if (in)
				return false;
			break;
		case SEL_EXISTS:
			if (!has)
				return false;
			break;
		case SEL_NOTEXISTS:
			if (has)
				return false;
			break;
		}
	}
	return true;
}

static bool peer_matches(const struct rule *r, const struct ipnet *net, const char *const *labels,
                         size_t n_labels, const char *const *names, size_t n_names)
{
	if (r->peer_any || (r->entities & ENT_ALL))
		return true;
	if ((r->entities & ENT_HOST) && identity_labels_find(labels, n_labels, "reserved", "host", NULL))
		return true;
	if ((r->entities & ENT_WORLD) && is_world(labels, n_labels))
		return true;
	for (size_t i = 0; i < r->n_peer_sels; i++)
		if (selector_matches(&r->peer_sels[i], labels, n_labels))
			return true;
	for (size_t i = 0; i < r->n_cidrs; i++) {
		const struct cidr_peer *c = &r->cidrs[i];
		if (!ipnet_contains(&c->net, net))
			continue;
		bool excepted = false;
		for (size_t k = 0; k < c->n_except && !excepted; k++)
			excepted = ipnet_contains(&c->except[k], net);
		if (!excepted)
			return true;
	}
	for (size_t i = 0; i < r->n_fqdns; i++)
		for (size_t k = 0; k < n_names; k++)
			if (name_matches(&r->fqdns[i], names[k]))
				return true;
	return false;
}

static bool spec_matches(const struct policy_port_spec *s, uint8_t proto, uint16_t dport)
{
	if (s->proto == 0 && !s->any_l4)
		return true;
	if (s->any_l4) {
		if (proto != 6 && proto != 17 && proto != 132)
			return false;
	} else if (proto != s->proto) {
		return false;
	}
	return dport >= s->lo && dport <= s->hi;
}

/* Subject and peer of rule r for a connection src -> dst. */
static bool endpoints_match(const struct rule *r, const struct ipnet *src, const struct ipnet *dst,
                            const char *const *sl, size_t nsl, const char *const *dl, size_t ndl,
                            const char *const *dnames, size_t ndn)
{
	if (r->dir == POLICY_EGRESS)
		return selector_matches(&r->subject, sl, nsl) &&
		       peer_matches(r, dst, dl, ndl, dnames, ndn);
	/* ingress: the peer is the source; names are known for destinations only */
	return selector_matches(&r->subject, dl, ndl) && peer_matches(r, src, sl, nsl, NULL, 0);
}

static void verdict_default(const struct policy *p, struct policy_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->action = p->def;
	v->rule = -1;
	v->drop_reason = p->def == POLICY_DENY ? POLICY_DROP_DENIED : 0;
}

static void verdict_rule(const struct policy *p, uint32_t i, uint32_t match_type,
                         struct policy_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->action = p->rules[i].action;
	v->rule = (int32_t)i;
	v->direction = p->rules[i].dir;
	v->match_type = match_type;
	v->drop_reason = v->action == POLICY_DENY ? POLICY_DROP_DENY : 0;
}

void policy_eval_l34(const struct policy *p, const struct policy_l34_query *q,
                     struct policy_verdict *v)
{
	struct ipnet src, dst;
	ipnet_host(&src, q->family, q->saddr);
	ipnet_host(&dst, q->family, q->daddr);
	int64_t allow = -1, deny = -1;
	uint32_t allow_mt = 0, deny_mt = 0;
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct rule *r = &p->rules[i];
		if (r->action == POLICY_ALLOW ? allow >= 0 : deny >= 0)
			continue;   /* an earlier rule of this action already decided */
		if (!endpoints_match(r, &src, &dst, q->src_labels, q->n_src_labels, q->dst_labels,
		                     q->n_dst_labels, q->dst_names, q->n_dst_names))
			continue;
		for (size_t k = 0; k < r->n_specs; k++) {
			const struct policy_port_spec *s = &r->specs[k];
			if (s->l3l4_ignored || !spec_matches(s, q->proto, q->dport))
				continue;
			if (r->action == POLICY_ALLOW) {
				allow = (int64_t)i;
				allow_mt = s->match_type;
			} else {
				deny = (int64_t)i;
				deny_mt = s->match_type;
			}
			break;
		}
		if (deny >= 0)
			break;   /* deny wins over any allow */
	}
	if (deny >= 0)
		verdict_rule(p, (uint32_t)deny, deny_mt, v);
	else if (allow >= 0)
		verdict_rule(p, (uint32_t)allow, allow_mt, v);
	else
		verdict_default(p, v);
}

/* --- L7 --------------------------------------------------------------------- */

static bool re_full(const regex_t *re, const char *s)
{
	return !re || regexec(re, s ? s : "", 0, NULL, 0) == 0;
}

/* "http://host:port/path?q" -> host:port and /path?q (Envoy's :authority
 * and :path). A URL without a scheme is a path. */
static void url_split(const char *url, char *host, size_t hl, char *path, size_t pl)
{
	host[0] = '\0';
	snprintf(path, pl, "%s", url ? url : "");
	if (!url)
		return;
	const char *s = strstr(url, "://");
	if (!s)
		return;
	s += 3;
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n >= hl)
		n = hl - 1;
	memcpy(host, s, n);
	host[n] = '\0';
	snprintf(path, pl, "%s", slash ? slash : "/");
}

static bool http_matches(const struct http_rule *h, const struct fe_http *e, bool request)
{
	char host[512], path[4096];
	url_split(e->url, host, sizeof(host), path, sizeof(path));
	if (!re_full(h->method, e->method) || !re_full(h->path, path) || !re_full(h->host, host))
		return false;
	if (!request)
		return true;   /* header conditions are checked on requests only */
	for (size_t i = 0; i < h->n_headers; i++) {
		bool found = false;
		for (size_t k = 0; k < e->n_headers && !found; k++) {
			const struct fe_http_header *hd = &e->headers[k];
			if (!hd->key || strcasecmp(hd->key, h->headers[i].name))
				continue;
			found = !h->headers[i].value || (hd->value && !strcmp(hd->value, h->headers[i].value));
		}
		if (!found)
			return false;
	}
	return true;
}

static bool kafka_matches(const struct kafka_rule *k, const struct fe_kafka *e, bool request)
{
	if (k->n_api_keys) {
		bool ok = false;
		for (size_t i = 0; i < k->n_api_keys && !ok; i++)
			ok = e->api_key && !strcasecmp(e->api_key, k->api_keys[i]);
		if (!ok)
			return false;
	}
	if (k->api_version >= 0 && e->api_version != k->api_version)
		return false;
	if (k->client_id && request && (!e->client_id || strcmp(e->client_id, k->client_id)))
		return false;
	if (k->topic) {
		/* every topic of the request (comma-separated in the event) */
		const char *t = e->topic ? e->topic : "";
		if (!*t)
			return false;
		size_t tl = strlen(k->topic);
		while (*t) {
			const char *c = strchr(t, ',');
			size_t n = c ? (size_t)(c - t) : strlen(t);
			if (n != tl || memcmp(t, k->topic, n))
				return false;
			t += n + (c ? 1 : 0);
		}
	}
	return true;
}

static bool l7_entry_matches(const struct port_entry *pe, const struct flow_event *ev, bool request)
{
	for (size_t i = 0; i < pe->n_l7; i++) {
		switch (pe->l7) {
		case L7R_HTTP:
			if (ev->l7.kind == FE_L7K_HTTP && http_matches(&pe->http[i], &ev->l7.http, request))
				return true;
			break;
		case L7R_DNS:
			if (ev->l7.kind == FE_L7K_DNS && ev->l7.dns.query &&
			    name_matches(&pe->dns[i], ev->l7.dns.query))
				return true;
			break;
		case L7R_KAFKA:
			if (ev->l7.kind == FE_L7K_KAFKA && kafka_matches(&pe->kafka[i], &ev->l7.kafka, request))
				return true;
			break;
		case L7R_NONE:
			break;
		}
	}
	return false;
}

static int parse_ip(const char *s, uint8_t *family, uint8_t addr[16])
{
	struct ipnet n;
	char err[100];
	if (!s || !s[0] || strchr(s, '/') || ipnet_parse(s, &n, err, sizeof(err)))
		return -1;
	*family = n.family;
	memcpy(addr, n.addr, 16);
	return 0;
}

int policy_eval_l7(const struct policy *p, const struct flow_event *ev, struct policy_verdict *v)
{
	if (ev->type != FE_TYPE_L7 || !ev->has_ip)
		return -1;
	bool request = ev->l7.type != FE_L7_RESPONSE;
	/* the connection from the client's side */
	const char *cip = request ? ev->ip_src : ev->ip_dst, *sip = request ? ev->ip_dst : ev->ip_src;
	const struct fe_endpoint *ce = request ? &ev->source : &ev->destination;
	const struct fe_endpoint *se = request ? &ev->destination : &ev->source;
	const char *const *snames = (const char *const *)(request ? ev->destination_names : ev->source_names);
	size_t n_snames = request ? ev->n_destination_names : ev->n_source_names;
	uint16_t sport = request ? ev->dport : ev->sport;
	uint8_t proto = ev->l4 == FE_L4_TCP ? 6 : ev->l4 == FE_L4_UDP ? 17 : ev->l4 == FE_L4_SCTP ? 132 : 0;
	uint8_t cf, sf, ca[16], sa[16];
	if (parse_ip(cip, &cf, ca) || parse_ip(sip, &sf, sa) || cf != sf)
		return -1;
	struct ipnet src, dst;
	ipnet_host(&src, cf, ca);
	ipnet_host(&dst, sf, sa);

	int64_t allow = -1, deny = -1, restricted = -1;
	for (size_t i = 0; i < p->n_rules && deny < 0; i++) {
		const struct rule *r = &p->rules[i];
		if (r->action == POLICY_ALLOW && allow >= 0)
			continue;
		if (!endpoints_match(r, &src, &dst, ce->labels, ce->n_labels, se->labels, se->n_labels,
		                     snames, n_snames))
			continue;
		for (size_t k = 0; k < r->n_specs; k++) {
			const struct policy_port_spec *s = &r->specs[k];
			if (!spec_matches(s, proto, sport))
				continue;
			int32_t e = r->spec_entry[k];
			const struct port_entry *pe = e >= 0 ? &r->ports[e] : NULL;
			bool hit;
			if (!pe || pe->l7 == L7R_NONE)
				hit = true;
			else
				hit = l7_entry_matches(pe, ev, request);
			if (!hit) {
				if (r->action == POLICY_ALLOW && restricted < 0)
					restricted = (int64_t)i;
				continue;
			}
			if (r->action == POLICY_ALLOW)
				allow = (int64_t)i;
			else
				deny = (int64_t)i;
			break;
		}
	}
	if (deny >= 0) {
		verdict_rule(p, (uint32_t)deny, 0, v);
	} else if (allow >= 0) {
		verdict_rule(p, (uint32_t)allow, 0, v);
	} else if (restricted >= 0) {
		memset(v, 0, sizeof(*v));
		v->action = POLICY_DENY;
		v->rule = -1;
		v->drop_reason = POLICY_DROP_DENIED;
		v->l7_unmatched = true;
	} else {
		verdict_default(p, v);
	}
	return 0;
}

int policy_label_event(const struct policy *p, const struct policy_verdict *v,
                       struct flow_event *ev, bool dropped, bool set_match_type)
{
	if (v->action == POLICY_ALLOW) {
		ev->verdict = FE_FORWARDED;
	} else if (dropped) {
		ev->verdict = FE_DROPPED;
		ev->drop_reason = v->drop_reason;
		ev->drop_reason_desc = v->drop_reason;
	} else {
		ev->verdict = FE_AUDIT;
	}
	if (set_match_type)
		ev->policy_match_type = v->match_type;
	if (v->rule < 0 || (size_t)v->rule >= p->n_rules)
		return 0;
	const struct rule *r = &p->rules[v->rule];
	struct fe_policy *fp = fe_alloc(ev, sizeof(*fp));
	if (!fp || !(fp->name = fe_strdup(ev, r->name)))
		return -ENOMEM;
	fp->kind = POLICY_KIND;
	fp->revision = p->revision;
	bool allowed = v->action == POLICY_ALLOW;
	if (r->dir == POLICY_EGRESS) {
		if (allowed) {
			ev->egress_allowed_by = fp;
			ev->n_egress_allowed_by = 1;
		} else {
			ev->egress_denied_by = fp;
			ev->n_egress_denied_by = 1;
		}
	} else {
		if (allowed) {
			ev->ingress_allowed_by = fp;
			ev->n_ingress_allowed_by = 1;
		} else {
			ev->ingress_denied_by = fp;
			ev->n_ingress_denied_by = 1;
		}
	}
	return 0;
}

int policy_label_l7(const struct policy *p, struct flow_event *ev)
{
	struct policy_verdict v;
	if (policy_eval_l7(p, ev, &v))
		return -EINVAL;
	return policy_label_event(p, &v, ev, false, false);
}

/* --- accessors ------------------------------------------------------------ */

enum policy_mode policy_mode(const struct policy *p) { return p->mode; }
enum policy_action policy_default_action(const struct policy *p) { return p->def; }
uint64_t policy_revision(const struct policy *p) { return p->revision; }
size_t policy_rule_count(const struct policy *p) { return p->n_rules; }

const char *policy_rule_name(const struct policy *p, uint32_t i)
{
	return i < p->n_rules ? p->rules[i].name : NULL;
}

enum policy_action policy_rule_action(const struct policy *p, uint32_t i)
{
	return i < p->n_rules ? p->rules[i].action : POLICY_ALLOW;
}

enum policy_dir policy_rule_dir(const struct policy *p, uint32_t i)
{
	return i < p->n_rules ? p->rules[i].dir : POLICY_DIR_NONE;
}

bool policy_fqdn_relevant(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_rules; i++)
		for (size_t k = 0; k < p->rules[i].n_fqdns; k++)
			if (name_matches(&p->rules[i].fqdns[k], name))
				return true;
	return false;
}

size_t policy_rule_port_specs(const struct policy *p, uint32_t rule,
                              const struct policy_port_spec **specs)
{
	if (rule >= p->n_rules) {
		*specs = NULL;
		return 0;
	}
	*specs = p->rules[rule].specs;
	return p->rules[rule].n_specs;
}

bool policy_rule_subject_matches(const struct policy *p, uint32_t rule,
                                 const char *const *labels, size_t n_labels)
{
	return rule < p->n_rules && selector_matches(&p->rules[rule].subject, labels, n_labels);
}

bool policy_rule_peer_any(const struct policy *p, uint32_t rule)
{
	return rule < p->n_rules && (p->rules[rule].peer_any || (p->rules[rule].entities & ENT_ALL));
}

bool policy_rule_peer_matches_labels(const struct policy *p, uint32_t rule,
                                     const char *const *labels, size_t n_labels,
                                     const char *const *names, size_t n_names)
{
	if (rule >= p->n_rules)
		return false;
	/* everything but the CIDR peers */
	struct rule r = p->rules[rule];
	r.n_cidrs = 0;
	static const struct ipnet none;
	return peer_matches(&r, &none, labels, n_labels, names, n_names);
}

int policy_walk_cidrs(const struct policy *p,
                      int (*fn)(void *user, uint32_t rule, const struct ipnet *net,
                                const struct ipnet *except, size_t n_except),
                      void *user)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct rule *r = &p->rules[i];
		for (size_t k = 0; k < r->n_cidrs; k++) {
			int ret = fn(user, (uint32_t)i, &r->cidrs[k].net, r->cidrs[k].except,
			             r->cidrs[k].n_except);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* --- parsing ------------------------------------------------------------- */

struct parser {
	struct ycfg y;
	struct policy *p;
	bool oom;
};

static void *palloc(struct parser *ps, size_t n)
{
	void *r = pool_alloc(&ps->p->pool, n ? n : 1);
	if (!r)
		ps->oom = true;
	return r;
}

static const char *pstrdup(struct parser *ps, const char *s)
{
	char *r = pool_strdup(&ps->p->pool, s);
	if (!r && s)
		ps->oom = true;
	return r;
}

static regex_t *compile_re(struct parser *ps, const ynode *n, const char *what)
{
	const char *s = ycfg_str(&ps->y, n, what);
	if (!s)
		return NULL;
	regex_t *re = malloc(sizeof(*re));
	if (!re) {
		ps->oom = true;
		return NULL;
	}
	/* RE2 syntax and bounds, as Cilium's Go code and Envoy read it; Envoy
	 * matches the whole value */
	char msg[200];
	if (re2_regcomp(re, s, true, msg, sizeof(msg))) {
		free(re);
		ycfg_error(&ps->y, n, "%s: \"%s\": %s", what, s, msg);
		return NULL;
	}
	struct policy *p = ps->p;
	if (p->n_regexes == p->cap_regexes) {
		size_t nc = p->cap_regexes ? p->cap_regexes * 2 : 8;
		regex_t **nr = realloc(p->regexes, nc * sizeof(*nr));
		if (!nr) {
			regfree(re);
			free(re);
			ps->oom = true;
			return NULL;
		}
		p->regexes = nr;
		p->cap_regexes = nc;
	}
	p->regexes[p->n_regexes++] = re;
	return re;
}

static bool dns_chars_ok(const char *s, bool star)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		char c = *s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		          c == '-' || c == '_' || c == '.' || (star && c == '*');
		if (!ok)
			return false;
	}
	return true;
}

/* {matchName: x} or {matchPattern: y} */
static int parse_name_match(struct parser *ps, const ynode *n, struct name_match *m, const char *what)
{
	static const char *const keys[] = { "matchName", "matchPattern", NULL };
	struct ycfg *y = &ps->y;
	memset(m, 0, sizeof(*m));
	if (ycfg_want_map(y, n, what))
		return -1;
	if (ycfg_check_keys(y, n, what, keys))
		return -1;
	const ynode *mn = ycfg_get(y, n, "matchName"), *mp = ycfg_get(y, n, "matchPattern");
	if (!!mn == !!mp)
		return ycfg_error(y, n, "%s: give exactly one of matchName and matchPattern", what);
	const char *s = ycfg_str(y, mn ? mn : mp, what);
	if (!s)
		return -1;
	size_t len = strlen(s);
	if (len && s[len - 1] == '.' && len > 1)
		len--;
	char buf[256];
	if (len >= sizeof(buf) || !dns_chars_ok(s, mp != NULL) || (len == 1 && s[0] == '.'))
		return ycfg_error(y, mn ? mn : mp, "%s: \"%s\" is not a valid DNS %s", what, s,
		                  mn ? "name (letters, digits, '-', '_', '.')" :
		                       "pattern (letters, digits, '-', '_', '.', '*')");
	lower_copy(buf, s, len);
	if (mn)
		m->name = pstrdup(ps, buf);
	else
		m->pattern = pstrdup(ps, buf);
	return 0;
}

static int parse_selector(struct parser *ps, const ynode *n, struct selector *sel, const char *what)
{
	static const char *const keys[] = { "matchLabels", "matchExpressions", NULL };
	static const char *const ops[] = { "In", "NotIn", "Exists", "DoesNotExist", NULL };
	struct ycfg *y = &ps->y;
	memset(sel, 0, sizeof(*sel));   /* slots of failed selectors are reused */
	if (ycfg_want_map(y, n, what))
		return -1;
	int bad = ycfg_check_keys(y, n, what, keys);
	const ynode *ml = ycfg_get(y, n, "matchLabels"), *me = ycfg_get(y, n, "matchExpressions");
	size_t cap = 0;
	if (ml && !ycfg_is_null(ml)) {
		if (ycfg_want_map(y, ml, "matchLabels"))
			return -1;
		bad += ycfg_check_keys(y, ml, "matchLabels", NULL);
		cap += ycfg_map_len(ml);
	}
	if (me && !ycfg_is_null(me)) {
		if (ycfg_want_seq(y, me, "matchExpressions"))
			return -1;
		cap += ycfg_seq_len(me);
	}
	sel->reqs = palloc(ps, (cap + 1) * sizeof(*sel->reqs));
	if (!sel->reqs)
		return -1;
	char msg[300];
	for (size_t i = 0; ml && i < ycfg_map_len(ml); i++) {
		const ynode *k = ycfg_map_key(y, ml, i), *v = ycfg_map_val(y, ml, i);
		const char *ks = ycfg_str(y, k, "matchLabels"), *vs = ycfg_is_null(v) ? "" : ycfg_str(y, v, "matchLabels");
		if (!ks || !vs) {
			bad++;
			continue;
		}
		if (identity_label_check(ks, vs, msg, sizeof(msg))) {
			ycfg_error(y, k, "matchLabels: %s", msg);
			bad++;
			continue;
		}
		struct sel_req *r = &sel->reqs[sel->n++];
		const char *colon = strchr(ks, ':');
		r->source = colon ? pool_strndup(&ps->p->pool, ks, (size_t)(colon - ks)) : NULL;
		r->key = pstrdup(ps, colon ? colon + 1 : ks);
		r->op = SEL_IN;
		r->values = palloc(ps, sizeof(char *));
		if (!r->values)
			return -1;
		r->values[0] = pstrdup(ps, vs);
		r->n_values = 1;
	}
	for (size_t i = 0; me && i < ycfg_seq_len(me); i++) {
		static const char *const ekeys[] = { "key", "operator", "values", NULL };
		const ynode *e = ycfg_seq_at(y, me, i);
		if (ycfg_want_map(y, e, "matchExpressions")) {
			bad++;
			continue;
		}
		if (ycfg_check_keys(y, e, "matchExpressions", ekeys)) {
			bad++;
			continue;
		}
		const ynode *kn = ycfg_get(y, e, "key"), *on = ycfg_get(y, e, "operator"),
		            *vn = ycfg_get(y, e, "values");
		if (!kn || !on) {
			ycfg_error(y, e, "matchExpressions: \"key\" and \"operator\" are required");
			bad++;
			continue;
		}
		const char *ks = ycfg_str(y, kn, "key");
		int op = ycfg_enum(y, on, "operator", ops);
		if (!ks || op < 0) {
			bad++;
			continue;
		}
		if (identity_label_check(ks, NULL, msg, sizeof(msg))) {
			ycfg_error(y, kn, "matchExpressions: %s", msg);
			bad++;
			continue;
		}
		bool need_values = op == SEL_IN || op == SEL_NOTIN;
		if (need_values && (!vn || ycfg_want_seq(y, vn, "values") || !ycfg_seq_len(vn))) {
			if (!vn || ycfg_is_seq(vn))
				ycfg_error(y, vn ? vn : on, "matchExpressions: operator %s needs a non-empty "
				           "\"values\" list", ops[op]);
			bad++;
			continue;
		}
		if (!need_values && vn) {
			ycfg_error(y, vn, "matchExpressions: operator %s takes no values", ops[op]);
			bad++;
			continue;
		}
		struct sel_req *r = &sel->reqs[sel->n++];
		const char *colon = strchr(ks, ':');
		r->source = colon ? pool_strndup(&ps->p->pool, ks, (size_t)(colon - ks)) : NULL;
		r->key = pstrdup(ps, colon ? colon + 1 : ks);
		r->op = (enum sel_op)op;
		size_t nv = ycfg_seq_len(vn);
		r->values = palloc(ps, (nv + 1) * sizeof(char *));
		if (!r->values)
			return -1;
		for (size_t k = 0; k < nv; k++) {
			const ynode *v = ycfg_seq_at(y, vn, k);
			const char *vs = ycfg_str(y, v, "values");
			if (!vs || identity_label_check("k8s:x", vs, msg, sizeof(msg))) {
				if (vs)
					ycfg_error(y, v, "values: %s", msg);
				bad++;
				continue;
			}
			r->values[r->n_values++] = pstrdup(ps, vs);
		}
	}
	return bad ? -1 : 0;
}

static int parse_cidr(struct parser *ps, const ynode *n, struct ipnet *out, const char *what)
{
	const char *s = ycfg_str(&ps->y, n, what);
	if (!s)
		return -1;
	char msg[200];
	if (ipnet_parse(s, out, msg, sizeof(msg)))
		return ycfg_error(&ps->y, n, "%s: %s", what, msg);
	return 0;
}

static int parse_port_number(struct parser *ps, const ynode *n, const char *what, uint16_t *out)
{
	const char *s = ycfg_str(&ps->y, n, what);
	if (!s)
		return -1;
	if (s[0] && !(s[0] >= '0' && s[0] <= '9'))
		return ycfg_error(&ps->y, n, "%s: \"%s\": named ports are not supported (flowd has no "
		                  "pod specs); give a number 0-65535", what, s);
	int64_t v;
	if (ycfg_int(&ps->y, n, what, 0, 65535, &v))
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static const char *const kafka_produce_keys[] = { "produce", "metadata", "apiversions" };
static const char *const kafka_consume_keys[] = {
	"fetch", "offsets", "metadata", "offsetcommit", "offsetfetch", "findcoordinator",
	"joingroup", "heartbeat", "leavegroup", "syncgroup", "apiversions",
};

static int parse_kafka(struct parser *ps, const ynode *n, struct kafka_rule *k)
{
	static const char *const keys[] = { "role", "apiKey", "apiVersion", "clientID", "topic", NULL };
	static const char *const roles[] = { "produce", "consume", NULL };
	struct ycfg *y = &ps->y;
	if (ycfg_want_map(y, n, "kafka"))
		return -1;
	int bad = ycfg_check_keys(y, n, "kafka", keys);
	const ynode *role = ycfg_get(y, n, "role"), *ak = ycfg_get(y, n, "apiKey");
	k->api_version = -1;
	if (role && ak) {
		ycfg_error(y, ak, "kafka: give either \"role\" or \"apiKey\", not both");
		bad++;
	} else if (role) {
		int r = ycfg_enum(y, role, "kafka.role", roles);
		if (r < 0)
			bad++;
		else if (r == 0) {
			k->api_keys = kafka_produce_keys;
			k->n_api_keys = sizeof(kafka_produce_keys) / sizeof(kafka_produce_keys[0]);
		} else {
			k->api_keys = kafka_consume_keys;
			k->n_api_keys = sizeof(kafka_consume_keys) / sizeof(kafka_consume_keys[0]);
		}
	} else if (ak) {
		const char *s = ycfg_str(y, ak, "kafka.apiKey");
		bool known = false;
		for (int16_t i = 0; s && i < KAFKA_API_KEYS && !known; i++)
			known = kafka_api_name(i) && !strcasecmp(kafka_api_name(i), s);
		if (s && !known) {
			ycfg_error(y, ak, "kafka.apiKey: unknown API key \"%s\" (names as Hubble prints "
			           "them: produce, fetch, offsets, metadata, ...)", s);
			bad++;
		} else if (s) {
			const char **one = palloc(ps, sizeof(char *));
			if (!one)
				return -1;
			char low[64];
			size_t l = strlen(s) < sizeof(low) - 1 ? strlen(s) : sizeof(low) - 1;
			lower_copy(low, s, l);
			one[0] = pstrdup(ps, low);
			k->api_keys = one;
			k->n_api_keys = 1;
		} else {
			bad++;
		}
	}
	const ynode *av = ycfg_get(y, n, "apiVersion");
	if (av) {
		int64_t v;
		if (ycfg_int(y, av, "kafka.apiVersion", 0, 32767, &v))
			bad++;
		else
			k->api_version = (int32_t)v;
	}
	const ynode *cid = ycfg_get(y, n, "clientID");
	if (cid) {
		const char *s = ycfg_str(y, cid, "kafka.clientID");
		if (!s)
			bad++;
		else
			k->client_id = pstrdup(ps, s);
	}
	const ynode *tp = ycfg_get(y, n, "topic");
	if (tp) {
		const char *s = ycfg_str(y, tp, "kafka.topic");
		bool ok = s && s[0] && strlen(s) <= 249;
		for (const char *c = s; ok && *c; c++)
			ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
			     *c == '.' || *c == '_' || *c == '-';
		if (!ok) {
			if (s)
				ycfg_error(y, tp, "kafka.topic: \"%s\" is not a Kafka topic name (1-249 of "
				           "[a-zA-Z0-9._-])", s);
			bad++;
		} else {
			k->topic = pstrdup(ps, s);
		}
	}
	return bad ? -1 : 0;
}

static int parse_http(struct parser *ps, const ynode *n, struct http_rule *h)
{
	static const char *const keys[] = { "method", "path", "host", "headers", NULL };
	struct ycfg *y = &ps->y;
	if (ycfg_want_map(y, n, "http"))
		return -1;
	int bad = ycfg_check_keys(y, n, "http", keys);
	const ynode *m = ycfg_get(y, n, "method"), *pa = ycfg_get(y, n, "path"), *ho = ycfg_get(y, n, "host");
	if (m && !(h->method = compile_re(ps, m, "http.method")))
		bad++;
	if (pa && !(h->path = compile_re(ps, pa, "http.path")))
		bad++;
	if (ho && !(h->host = compile_re(ps, ho, "http.host")))
		bad++;
	const ynode *hd = ycfg_get(y, n, "headers");
	if (hd) {
		if (ycfg_want_seq(y, hd, "http.headers"))
			return -1;
		size_t nh = ycfg_seq_len(hd);
		h->headers = palloc(ps, (nh + 1) * sizeof(*h->headers));
		if (!h->headers)
			return -1;
		for (size_t i = 0; i < nh; i++) {
			const ynode *v = ycfg_seq_at(y, hd, i);
			const char *s = ycfg_str(y, v, "http.headers");
			if (!s) {
				bad++;
				continue;
			}
			/* "Name" (present) or "Name: value" (exact value), as in Cilium */
			const char *colon = strchr(s, ':');
			size_t nl = colon ? (size_t)(colon - s) : strlen(s);
			while (nl && s[nl - 1] == ' ')
				nl--;
			bool ok = nl > 0;
			for (size_t c = 0; c < nl && ok; c++)
				ok = s[c] > 32 && s[c] < 127 && !strchr("()<>@,;:\\\"/[]?={}", s[c]);
			if (!ok) {
				ycfg_error(y, v, "http.headers: \"%s\" is not \"Name\" or \"Name: value\"", s);
				bad++;
				continue;
			}
			struct http_header_match *hm = &h->headers[h->n_headers++];
			hm->name = pool_strndup(&ps->p->pool, s, nl);
			if (colon) {
				const char *val = colon + 1;
				while (*val == ' ')
					val++;
				hm->value = pstrdup(ps, val);
			}
		}
	}
	return bad ? -1 : 0;
}

/* toPorts[i]: {ports: [...], rules: {http|dns|kafka: [...]}} */
static int parse_port_entry(struct parser *ps, const ynode *n, struct rule *r, struct port_entry *pe,
                            bool peer_any, size_t *spec_cap)
{
	static const char *const keys[] = { "ports", "rules", NULL };
	static const char *const pkeys[] = { "port", "endPort", "protocol", NULL };
	static const char *const protos[] = { "TCP", "UDP", "SCTP", "ANY", NULL };
	static const uint8_t proto_num[] = { 6, 17, 132, 0 };
	struct ycfg *y = &ps->y;
	memset(pe, 0, sizeof(*pe));   /* the slot of a failed entry is reused */
	if (ycfg_want_map(y, n, "toPorts"))
		return -1;
	int bad = ycfg_check_keys(y, n, "toPorts", keys);
	const ynode *ports = ycfg_get(y, n, "ports"), *rules = ycfg_get(y, n, "rules");
	if (!ports) {
		return ycfg_error(y, n, "toPorts: \"ports\" is required");
	}
	if (ycfg_want_seq(y, ports, "ports"))
		return -1;
	size_t np = ycfg_seq_len(ports);
	if (!np)
		return ycfg_error(y, ports, "toPorts: \"ports\" is empty");

	if (rules && !ycfg_is_null(rules)) {
		static const char *const rkeys[] = { "http", "dns", "kafka", NULL };
		if (ycfg_want_map(y, rules, "rules"))
			return -1;
		if (ycfg_check_keys(y, rules, "rules", rkeys))
			return -1;
		if (ycfg_map_len(rules) != 1)
			return ycfg_error(y, rules, "rules: give one of http, dns, kafka per toPorts entry");
		const ynode *k = ycfg_map_key(y, rules, 0), *list = ycfg_map_val(y, rules, 0);
		const char *kind = (const char *)k->data.scalar.value;
		if (ycfg_want_seq(y, list, kind))
			return -1;
		size_t nl = ycfg_seq_len(list);
		if (!nl)
			return ycfg_error(y, list, "rules.%s: empty list (remove \"rules\" to allow all)", kind);
		pe->n_l7 = 0;
		if (!strcmp(kind, "http")) {
			pe->l7 = L7R_HTTP;
			pe->http = palloc(ps, nl * sizeof(*pe->http));
		} else if (!strcmp(kind, "dns")) {
			pe->l7 = L7R_DNS;
			pe->dns = palloc(ps, nl * sizeof(*pe->dns));
		} else {
			pe->l7 = L7R_KAFKA;
			pe->kafka = palloc(ps, nl * sizeof(*pe->kafka));
		}
		if (ps->oom)
			return -1;
		for (size_t i = 0; i < nl; i++) {
			const ynode *item = ycfg_seq_at(y, list, i);
			int rc = pe->l7 == L7R_HTTP ? parse_http(ps, item, &pe->http[i]) :
			         pe->l7 == L7R_DNS ? parse_name_match(ps, item, &pe->dns[i], "dns") :
			                             parse_kafka(ps, item, &pe->kafka[i]);
			if (rc)
				bad++;
			else
				pe->n_l7++;
		}
	}

	/* grow the rule's flattened spec list */
	if (r->n_specs + np > *spec_cap) {
		size_t nc = (*spec_cap + np) * 2;
		struct policy_port_spec *ns = palloc(ps, nc * sizeof(*ns));
		int32_t *ne = palloc(ps, nc * sizeof(*ne));
		if (!ns || !ne)
			return -1;
		if (r->n_specs) {
			memcpy(ns, r->specs, r->n_specs * sizeof(*ns));
			memcpy(ne, r->spec_entry, r->n_specs * sizeof(*ne));
		}
		r->specs = ns;
		r->spec_entry = ne;
		*spec_cap = nc;
	}
	pe->first_spec = r->n_specs;
	for (size_t i = 0; i < np; i++) {
		const ynode *pn = ycfg_seq_at(y, ports, i);
		if (ycfg_want_map(y, pn, "ports")) {
			bad++;
			continue;
		}
		if (ycfg_check_keys(y, pn, "ports", pkeys)) {
			bad++;
			continue;
		}
		const ynode *portn = ycfg_get(y, pn, "port"), *endn = ycfg_get(y, pn, "endPort"),
		            *proton = ycfg_get(y, pn, "protocol");
		uint16_t port = 0, end = 0;
		int proto = 3;   /* ANY */
		if (portn && parse_port_number(ps, portn, "port", &port)) {
			bad++;
			continue;
		}
		if (proton && (proto = ycfg_enum(y, proton, "protocol", protos)) < 0) {
			bad++;
			continue;
		}
		if (endn) {
			if (parse_port_number(ps, endn, "endPort", &end)) {
				bad++;
				continue;
			}
			if (!port) {
				ycfg_error(y, endn, "endPort needs a port");
				bad++;
				continue;
			}
			if (end < port) {
				ycfg_error(y, endn, "endPort %u is below port %u", end, port);
				bad++;
				continue;
			}
		}
		struct policy_port_spec *s = &r->specs[r->n_specs];
		memset(s, 0, sizeof(*s));
		s->proto = proto_num[proto];
		if (port == 0) {
			s->lo = 0;
			s->hi = 65535;
			if (proto == 3)   /* ANY, all ports: every protocol */
				s->match_type = peer_any ? POLICY_MATCH_ALL : POLICY_MATCH_L3_ONLY;
			else
				s->match_type = peer_any ? POLICY_MATCH_PROTO_ONLY : POLICY_MATCH_L3_PROTO;
		} else {
			s->any_l4 = proto == 3;
			s->lo = port;
			s->hi = endn ? end : port;
			s->match_type = peer_any ? POLICY_MATCH_L4_ONLY : POLICY_MATCH_L3_L4;
		}
		s->l3l4_ignored = r->action == POLICY_DENY && pe->l7 != L7R_NONE;
		r->spec_entry[r->n_specs] = -1;  /* set by the caller */
		r->n_specs++;
	}
	pe->n_specs = r->n_specs - pe->first_spec;
	return bad ? -1 : 0;
}

static const char *const rule_keys[] = {
	"name", "action", "direction", "endpointSelector",
	"fromEndpoints", "fromCIDR", "fromCIDRSet", "fromEntities",
	"toEndpoints", "toCIDR", "toCIDRSet", "toEntities", "toFQDNs",
	"toPorts", NULL,
};

static bool rule_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 253)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static int parse_rule(struct parser *ps, const ynode *n, struct rule *r, size_t idx)
{
	static const char *const actions[] = { "allow", "deny", NULL };
	static const char *const dirs[] = { "ingress", "egress", NULL };
	static const char *const entities[] = { "host", "world", "all", NULL };
	struct ycfg *y = &ps->y;
	char what[64];
	snprintf(what, sizeof(what), "rules[%zu]", idx);
	r->line = ycfg_line(n);
	if (ycfg_want_map(y, n, what))
		return -1;
	int bad = ycfg_check_keys(y, n, what, rule_keys);

	const ynode *nm = ycfg_get(y, n, "name"), *ac = ycfg_get(y, n, "action"),
	            *di = ycfg_get(y, n, "direction");
	if (!nm || !ac || !di) {
		ycfg_error(y, n, "%s: \"name\", \"action\" and \"direction\" are required", what);
		return -1;
	}
	const char *name = ycfg_str(y, nm, "name");
	if (!name)
		bad++;
	else if (!rule_name_ok(name)) {
		ycfg_error(y, nm, "%s: name \"%s\" must be 1-253 characters of [A-Za-z0-9._-]", what, name);
		bad++;
	} else {
		r->name = pstrdup(ps, name);
	}
	int a = ycfg_enum(y, ac, "action", actions), d = ycfg_enum(y, di, "direction", dirs);
	if (a < 0 || d < 0)
		return -1;
	r->action = a ? POLICY_DENY : POLICY_ALLOW;
	r->dir = d ? POLICY_EGRESS : POLICY_INGRESS;
	bool egress = r->dir == POLICY_EGRESS;

	/* peer fields of the other direction are a mistake worth naming */
	static const char *const in_only[] = { "fromEndpoints", "fromCIDR", "fromCIDRSet", "fromEntities", NULL };
	static const char *const eg_only[] = { "toEndpoints", "toCIDR", "toCIDRSet", "toEntities", "toFQDNs", NULL };
	for (const char *const *k = egress ? in_only : eg_only; *k; k++) {
		const ynode *kn = ycfg_key_node(y, n, *k);
		if (!kn)
			continue;
		if (!strcmp(*k, "toFQDNs"))
			ycfg_error(y, kn, "%s: toFQDNs is for egress rules; this rule is ingress", what);
		else
			ycfg_error(y, kn, "%s: %s is for %s rules; this rule is %s (use %s%s)", what, *k,
			           egress ? "ingress" : "egress", egress ? "egress" : "ingress",
			           egress ? "to" : "from", *k + (egress ? 4 : 2));
		bad++;
	}
	const char *pfx = egress ? "to" : "from";
	char kE[32], kC[32], kS[32], kN[32];
	snprintf(kE, sizeof(kE), "%sEndpoints", pfx);
	snprintf(kC, sizeof(kC), "%sCIDR", pfx);
	snprintf(kS, sizeof(kS), "%sCIDRSet", pfx);
	snprintf(kN, sizeof(kN), "%sEntities", pfx);

	const ynode *es = ycfg_get(y, n, "endpointSelector");
	if (es && !ycfg_is_null(es) && parse_selector(ps, es, &r->subject, "endpointSelector"))
		bad++;

	bool any_peer_field = false;
	const ynode *pe = ycfg_get(y, n, kE);
	if (pe) {
		any_peer_field = true;
		if (ycfg_want_seq(y, pe, kE)) {
			bad++;
		} else {
			size_t k = ycfg_seq_len(pe);
			r->peer_sels = palloc(ps, (k + 1) * sizeof(*r->peer_sels));
			if (!r->peer_sels)
				return -1;
			for (size_t i = 0; i < k; i++) {
				if (parse_selector(ps, ycfg_seq_at(y, pe, i), &r->peer_sels[r->n_peer_sels], kE))
					bad++;
				else
					r->n_peer_sels++;
			}
		}
	}
	const ynode *pc = ycfg_get(y, n, kC), *pcs = ycfg_get(y, n, kS);
	size_t ncid = (pc && ycfg_is_seq(pc) ? ycfg_seq_len(pc) : 0) + (pcs && ycfg_is_seq(pcs) ? ycfg_seq_len(pcs) : 0);
	r->cidrs = palloc(ps, (ncid + 1) * sizeof(*r->cidrs));
	if (!r->cidrs)
		return -1;
	if (pc) {
		any_peer_field = true;
		if (ycfg_want_seq(y, pc, kC))
			bad++;
		for (size_t i = 0; i < ycfg_seq_len(pc); i++) {
			if (parse_cidr(ps, ycfg_seq_at(y, pc, i), &r->cidrs[r->n_cidrs].net, kC))
				bad++;
			else
				r->n_cidrs++;
		}
	}
	if (pcs) {
		any_peer_field = true;
		if (ycfg_want_seq(y, pcs, kS))
			bad++;
		for (size_t i = 0; i < ycfg_seq_len(pcs); i++) {
			static const char *const skeys[] = { "cidr", "except", NULL };
			const ynode *sn = ycfg_seq_at(y, pcs, i);
			if (ycfg_want_map(y, sn, kS) || ycfg_check_keys(y, sn, kS, skeys)) {
				bad++;
				continue;
			}
			const ynode *cn = ycfg_get(y, sn, "cidr"), *xn = ycfg_get(y, sn, "except");
			struct cidr_peer *c = &r->cidrs[r->n_cidrs];
			memset(c, 0, sizeof(*c));
			if (!cn) {
				ycfg_error(y, sn, "%s: \"cidr\" is required", kS);
				bad++;
				continue;
			}
			if (parse_cidr(ps, cn, &c->net, "cidr")) {
				bad++;
				continue;
			}
			if (xn) {
				if (ycfg_want_seq(y, xn, "except")) {
					bad++;
					continue;
				}
				size_t nx = ycfg_seq_len(xn);
				c->except = palloc(ps, (nx + 1) * sizeof(*c->except));
				if (!c->except)
					return -1;
				for (size_t k = 0; k < nx; k++) {
					const ynode *en = ycfg_seq_at(y, xn, k);
					struct ipnet *x = &c->except[c->n_except];
					if (parse_cidr(ps, en, x, "except")) {
						bad++;
						continue;
					}
					if (!ipnet_contains(&c->net, x) || x->plen == c->net.plen) {
						char a[64], b[64];
						ipnet_format(x, a, sizeof(a));
						ipnet_format(&c->net, b, sizeof(b));
						ycfg_error(y, en, "except: %s is not inside %s", a, b);
						bad++;
						continue;
					}
					c->n_except++;
				}
			}
			r->n_cidrs++;
		}
	}
	const ynode *en = ycfg_get(y, n, kN);
	if (en) {
		any_peer_field = true;
		if (ycfg_want_seq(y, en, kN))
			bad++;
		for (size_t i = 0; i < ycfg_seq_len(en); i++) {
			const ynode *v = ycfg_seq_at(y, en, i);
			const char *s = ycfg_is_scalar(v) ? (const char *)v->data.scalar.value : NULL;
			if (s && (!strcmp(s, "cluster") || !strcmp(s, "init") || !strcmp(s, "health") ||
			          !strcmp(s, "unmanaged") || !strcmp(s, "remote-node") ||
			          !strcmp(s, "kube-apiserver") || !strcmp(s, "ingress"))) {
				ycfg_error(y, v, "%s: entity \"%s\" exists only in Kubernetes clusters; flowd "
				           "knows host, world and all", kN, s);
				bad++;
				continue;
			}
			int e = ycfg_enum(y, v, kN, entities);
			if (e < 0)
				bad++;
			else
				r->entities |= 1u << e;
		}
	}
	const ynode *fq = egress ? ycfg_get(y, n, "toFQDNs") : NULL;
	if (fq) {
		any_peer_field = true;
		if (ycfg_want_seq(y, fq, "toFQDNs")) {
			bad++;
		} else {
			size_t k = ycfg_seq_len(fq);
			r->fqdns = palloc(ps, (k + 1) * sizeof(*r->fqdns));
			if (!r->fqdns)
				return -1;
			for (size_t i = 0; i < k; i++) {
				if (parse_name_match(ps, ycfg_seq_at(y, fq, i), &r->fqdns[r->n_fqdns], "toFQDNs"))
					bad++;
				else
					r->n_fqdns++;
			}
		}
	}
	r->peer_any = !any_peer_field;

	const ynode *tp = ycfg_get(y, n, "toPorts");
	size_t spec_cap = 0;
	if (tp && !ycfg_is_null(tp)) {
		if (ycfg_want_seq(y, tp, "toPorts"))
			return -1;
		size_t k = ycfg_seq_len(tp);
		if (!k)
			return ycfg_error(y, tp, "toPorts: empty list (remove it to match every port)");
		r->ports = palloc(ps, k * sizeof(*r->ports));
		if (!r->ports)
			return -1;
		for (size_t i = 0; i < k; i++) {
			struct port_entry *pent = &r->ports[r->n_ports];
			if (parse_port_entry(ps, ycfg_seq_at(y, tp, i), r, pent, r->peer_any, &spec_cap)) {
				bad++;
				continue;
			}
			for (size_t s = 0; s < pent->n_specs; s++)
				r->spec_entry[pent->first_spec + s] = (int32_t)r->n_ports;
			r->n_ports++;
		}
	} else {
		r->specs = palloc(ps, sizeof(*r->specs));
		r->spec_entry = palloc(ps, sizeof(*r->spec_entry));
		if (!r->specs || !r->spec_entry)
			return -1;
		r->specs[0].hi = 65535;
		r->specs[0].match_type = r->peer_any ? POLICY_MATCH_ALL : POLICY_MATCH_L3_ONLY;
		r->spec_entry[0] = -1;
		r->n_specs = 1;
	}
	return bad || ps->oom ? -1 : 0;
}

static void policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->n_regexes; i++) {
		regfree(p->regexes[i]);
		free(p->regexes[i]);
	}
	free(p->regexes);
	pool_free(&p->pool);
	free(p);
}

struct policy *policy_load_string(const char *text, size_t len, const char *fname,
                                  char *err, size_t errlen)
{
	static const char *const top[] = { "mode", "defaultAction", "rules", NULL };
	static const char *const modes[] = { "enforce", "audit", NULL };
	static const char *const actions[] = { "allow", "deny", NULL };
	struct parser ps;
	memset(&ps, 0, sizeof(ps));
	if (ycfg_load(&ps.y, text, len, fname, err, errlen)) {
		ycfg_free(&ps.y);
		return NULL;
	}
	struct ycfg *y = &ps.y;
	ps.p = calloc(1, sizeof(*ps.p));
	if (!ps.p) {
		ycfg_free(y);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&ps.p->refs, 1);
	struct policy *p = ps.p;
	int bad = 0;
	ynode *root = ycfg_root(y);
	if (ycfg_want_map(y, root, "policy file"))
		goto fail;
	bad += ycfg_check_keys(y, root, "policy file", top);
	const ynode *mo = ycfg_get(y, root, "mode"), *da = ycfg_get(y, root, "defaultAction"),
	            *rl = ycfg_get(y, root, "rules");
	if (!mo) {
		ycfg_error(y, root, "policy file: \"mode\" is required (enforce or audit)");
		bad++;
	} else {
		int m = ycfg_enum(y, mo, "mode", modes);
		if (m < 0)
			bad++;
		p->mode = m == 1 ? POLICY_AUDIT : POLICY_ENFORCE;
	}
	if (!da) {
		ycfg_error(y, root, "policy file: \"defaultAction\" is required (allow or deny)");
		bad++;
	} else {
		int a = ycfg_enum(y, da, "defaultAction", actions);
		if (a < 0)
			bad++;
		p->def = a == 1 ? POLICY_DENY : POLICY_ALLOW;
	}
	if (rl && !ycfg_is_null(rl)) {
		if (ycfg_want_seq(y, rl, "rules")) {
			bad++;
		} else {
			size_t n = ycfg_seq_len(rl);
			p->rules = pool_alloc(&p->pool, (n + 1) * sizeof(*p->rules));
			if (!p->rules)
				goto oom;
			for (size_t i = 0; i < n; i++) {
				/* a failed rule leaves its slot to the next one: start clean */
				struct rule *r = &p->rules[p->n_rules];
				memset(r, 0, sizeof(*r));
				const ynode *rn = ycfg_seq_at(y, rl, i);
				if (parse_rule(&ps, rn, r, i)) {
					bad++;
					if (ps.oom)
						goto oom;
					continue;
				}
				for (size_t k = 0; k < p->n_rules; k++) {
					if (!strcmp(p->rules[k].name, r->name)) {
						ycfg_error(y, ycfg_get(y, rn, "name"), "rules[%zu]: duplicate rule "
						           "name \"%s\" (first at line %u)", i, r->name,
						           p->rules[k].line);
						bad++;
						break;
					}
				}
				p->n_rules++;
			}
		}
	}
	if (ps.oom)
		goto oom;
	if (bad)
		goto fail;
	p->revision = atomic_fetch_add(&revision_counter, 1) + 1;
	ycfg_free(y);
	return p;
oom:
	ycfg_error(y, NULL, "out of memory");
fail:
	ycfg_free(y);
	policy_free(p);
	return NULL;
}

struct policy *policy_load_file(const char *path, char *err, size_t errlen)
{
	size_t len;
	if (err && errlen)
		err[0] = '\0';
	char *text = ycfg_read_file(path, &len, err, errlen);
	if (!text)
		return NULL;
	struct policy *p = policy_load_string(text, len, path, err, errlen);
	free(text);
	return p;
}

struct policy *policy_ref(struct policy *p)
{
	if (p)
		atomic_fetch_add(&p->refs, 1);
	return p;
}

void policy_unref(struct policy *p)
{
	if (p && atomic_fetch_sub(&p->refs, 1) == 1)
		policy_free(p);
}

/* --- store ------------------------------------------------------------------- */

struct policy_store {
	pthread_mutex_t lock;
	struct policy *cur;
};

struct policy_store *policy_store_new(struct policy *initial)
{
	struct policy_store *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->cur = initial;
	return s;
}

void policy_store_free(struct policy_store *s)
{
	if (!s)
		return;
	policy_unref(s->cur);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct policy *policy_store_get(struct policy_store *s)
{
	pthread_mutex_lock(&s->lock);
	struct policy *p = policy_ref(s->cur);
	pthread_mutex_unlock(&s->lock);
	return p;
}

int policy_store_reload(struct policy_store *s, const char *path, char *err, size_t errlen)
{
	struct policy *p = policy_load_file(path, err, errlen);
	if (!p)
		return -1;
	pthread_mutex_lock(&s->lock);
	struct policy *old = s->cur;
	s->cur = p;
	pthread_mutex_unlock(&s->lock);
	policy_unref(old);
	return 0;
}

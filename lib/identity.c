/* SPDX-License-Identifier: BSD-2-Clause */
/* Identities file and address -> endpoint lookups; see identity.h. */
#include "identity.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "ycfg.h"

#define NS_LABEL "io.kubernetes.pod.namespace"

struct identity_db {
	atomic_int refs;
	struct pool pool;
	struct lpm *lpm;                    /* prefix -> index into eps */
	struct identity_endpoint *eps;      /* [0] world, [1] host, then file entries */
	size_t n_eps;
	struct identity *ids;               /* sorted by id */
	size_t n_ids;
};

/* --- labels --------------------------------------------------------------- */

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Kubernetes "qualified name" part: 1..63, alnum at both ends, [-_.] inside. */
static bool k8s_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* DNS-1123 subdomain: lower case alnum, '-', '.', <= 253, alnum at ends. */
static bool dns_subdomain_ok(const char *s, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool lc = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!lc && c != '-' && c != '.')
			return false;
		if ((i == 0 || i == n - 1) && !lc)
			return false;
	}
	return true;
}

/* DNS-1123 label: like a subdomain without dots, <= 63. */
static bool dns_label_ok(const char *s)
{
	size_t n = strlen(s);
	return n <= 63 && dns_subdomain_ok(s, n) && !strchr(s, '.');
}

static bool source_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

int identity_label_check(const char *key, const char *value, char *err, size_t errlen)
{
	const char *colon = strchr(key, ':');
	const char *k = key;
	if (colon) {
		if (!source_ok(key, (size_t)(colon - key))) {
			snprintf(err, errlen, "label \"%s\": bad source before ':'", key);
			return -1;
		}
		k = colon + 1;
	}
	const char *slash = strchr(k, '/');
	const char *name = k;
	if (slash) {
		if (!dns_subdomain_ok(k, (size_t)(slash - k))) {
			snprintf(err, errlen, "label key \"%s\": the prefix before '/' must be a DNS subdomain", key);
			return -1;
		}
		name = slash + 1;
	}
	if (!k8s_name_ok(name, strlen(name))) {
		snprintf(err, errlen,
		         "label key \"%s\": the name must be 1-63 characters [A-Za-z0-9-_.], "
		         "starting and ending with a letter or digit", key);
		return -1;
	}
	if (value && value[0] && !k8s_name_ok(value, strlen(value))) {
		snprintf(err, errlen,
		         "label value \"%s\": at most 63 characters [A-Za-z0-9-_.], "
		         "starting and ending with a letter or digit", value);
		return -1;
	}
	return 0;
}

int identity_label_parse(const char *s, char *source, size_t slen, char *key, size_t klen,
                         char *value, size_t vlen, char *err, size_t errlen)
{
	const char *colon = strchr(s, ':');
	const char *eq = strchr(s, '=');
	if (colon && eq && eq < colon)
		colon = NULL;   /* "key=a:b": the colon is in the value */
	const char *k = colon ? colon + 1 : s;
	size_t sl = colon ? (size_t)(colon - s) : 3;
	size_t kl = eq ? (size_t)(eq - k) : strlen(k);
	const char *v = eq ? eq + 1 : "";
	if (sl >= slen || kl >= klen || strlen(v) >= vlen) {
		snprintf(err, errlen, "label \"%s\" is too long", s);
		return -1;
	}
	memcpy(source, colon ? s : "k8s", sl);
	source[sl] = '\0';
	memcpy(key, k, kl);
	key[kl] = '\0';
	strcpy(value, v);
	char full[600];
	snprintf(full, sizeof(full), "%s:%s", source, key);
	return identity_label_check(full, value, err, errlen);
}

bool identity_labels_find(const char *const *labels, size_t n, const char *source,
                          const char *key, const char **val_out)
{
	bool any = !source || !source[0] || !strcmp(source, "any");
	size_t sl = any ? 0 : strlen(source), kl = strlen(key);
	for (size_t i = 0; i < n; i++) {
		const char *l = labels[i];
		const char *colon = strchr(l, ':');
		if (!colon)
			continue;
		if (!any && ((size_t)(colon - l) != sl || memcmp(l, source, sl)))
			continue;
		const char *k = colon + 1;
		if (strncmp(k, key, kl) || (k[kl] != '=' && k[kl] != '\0'))
			continue;
		if (val_out)
			*val_out = k[kl] == '=' ? k + kl + 1 : "";
		return true;
	}
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* --- building --------------------------------------------------------------- */

struct raw_entry {
	enum identity_kind kind;
	const ynode *node, *id_node;
	uint32_t explicit_id;
	char **labels;
	size_t n_labels;
	char *setkey;                 /* kind + sorted labels joined by '\n' */
	const char *ns, *pod;
	struct fe_workload *wl;
	size_t n_wl;
	struct ipnet *nets;
	const ynode **net_nodes;
	size_t n_nets;
	struct identity *ident;
};

struct builder {
	struct ycfg y;
	struct pool tmp;              /* parse-time allocations */
	struct identity_db *db;
	struct raw_entry *ents;
	size_t n_ents;
	struct ipnet *host_nets;
	size_t n_host, cap_host;
	bool detect_host;
	bool oom;
};

static char *fmt_label(struct pool *p, const char *src, const char *key, const char *val)
{
	size_t n = strlen(src) + strlen(key) + strlen(val) + 3;
	char *s = pool_alloc(p, n);
	if (!s)
		return NULL;
	if (val[0])
		snprintf(s, n, "%s:%s=%s", src, key, val);
	else
		snprintf(s, n, "%s:%s", src, key);
	return s;
}

/* labels: a mapping {key: value} (key may carry "source:") or a list of
 * "source:key=value" strings. Labels of sources flowd assigns itself are
 * refused. */
static int parse_labels(struct builder *b, const ynode *n, struct raw_entry *e, const char *what)
{
	struct ycfg *y = &b->y;
	size_t cnt = ycfg_is_map(n) ? ycfg_map_len(n) : ycfg_is_seq(n) ? ycfg_seq_len(n) : 0;
	if (!ycfg_is_map(n) && !ycfg_is_seq(n))
		return ycfg_error(y, n, "%s: expected a mapping (key: value) or a list of "
		                  "\"source:key=value\" strings", what);
	if (ycfg_is_map(n))
		ycfg_check_keys(y, n, what, NULL);
	e->labels = pool_alloc(&b->tmp, (cnt + 4) * sizeof(char *));
	if (!e->labels) {
		b->oom = true;
		return -1;
	}
	int bad = 0;
	for (size_t i = 0; i < cnt; i++) {
		char src[64], key[320], val[128], msg[400];
		const ynode *pos;
		if (ycfg_is_map(n)) {
			const ynode *k = ycfg_map_key(y, n, i), *v = ycfg_map_val(y, n, i);
			pos = k;
			const char *ks = ycfg_str(y, k, what);
			const char *vs = ycfg_is_null(v) ? "" : ycfg_str(y, v, what);
			if (!ks || !vs) {
				bad++;
				continue;
			}
			char text[600];
			snprintf(text, sizeof(text), "%s=%s", ks, vs);
			if (strchr(ks, '=') || (vs[0] && strchr(vs, '='))) {
				ycfg_error(y, k, "%s: '=' is not allowed in a label key or value", what);
				bad++;
				continue;
			}
			if (identity_label_parse(text, src, sizeof(src), key, sizeof(key), val,
			                         sizeof(val), msg, sizeof(msg))) {
				ycfg_error(y, pos, "%s: %s", what, msg);
				bad++;
				continue;
			}
		} else {
			const ynode *v = ycfg_seq_at(y, n, i);
			pos = v;
			const char *s = ycfg_str(y, v, what);
			if (!s) {
				bad++;
				continue;
			}
			if (identity_label_parse(s, src, sizeof(src), key, sizeof(key), val, sizeof(val),
			                         msg, sizeof(msg))) {
				ycfg_error(y, v, "%s: %s", what, msg);
				bad++;
				continue;
			}
		}
		if (!strcmp(src, "reserved") || !strcmp(src, "cidr") || !strcmp(src, "any") ||
		    !strcmp(src, "fqdn")) {
			ycfg_error(y, pos, "%s: labels with source \"%s\" are assigned by flowd, not "
			           "by the identities file", what, src);
			bad++;
			continue;
		}
		char *l = fmt_label(&b->tmp, src, key, val);
		if (!l) {
			b->oom = true;
			return -1;
		}
		for (size_t j = 0; j < e->n_labels; j++) {
			const char *o = e->labels[j];
			const char *oc = strchr(o, ':'), *oe = strchr(oc, '=');
			size_t okl = oe ? (size_t)(oe - oc - 1) : strlen(oc + 1);
			if ((size_t)(oc - o) == strlen(src) && !memcmp(o, src, strlen(src)) &&
			    okl == strlen(key) && !memcmp(oc + 1, key, okl)) {
				ycfg_error(y, pos, "%s: label %s:%s given twice", what, src, key);
				bad++;
				l = NULL;
				break;
			}
		}
		if (l)
			e->labels[e->n_labels++] = l;
	}
	return bad ? -1 : 0;
}

static int add_net(struct builder *b, struct raw_entry *e, const ynode *n, const char *what)
{
	const char *s = ycfg_str(&b->y, n, what);
	if (!s)
		return -1;
	struct ipnet net;
	char msg[200];
	if (ipnet_parse(s, &net, msg, sizeof(msg)))
		return ycfg_error(&b->y, n, "%s: %s", what, msg);
	e->nets[e->n_nets] = net;
	e->net_nodes[e->n_nets] = n;
	e->n_nets++;
	return 0;
}

static int parse_workload(struct builder *b, const ynode *n, struct fe_workload *w, const char *what)
{
	static const char *const keys[] = { "name", "kind", NULL };
	struct ycfg *y = &b->y;
	if (ycfg_want_map(y, n, what))
		return -1;
	int bad = ycfg_check_keys(y, n, what, keys);
	const ynode *nm = ycfg_get(y, n, "name"), *kd = ycfg_get(y, n, "kind");
	if (!nm)
		return ycfg_error(y, n, "%s: \"name\" is required", what);
	w->name = ycfg_str(y, nm, what);
	if (w->name && !dns_subdomain_ok(w->name, strlen(w->name))) {
		ycfg_error(y, nm, "%s: name \"%s\" must be a DNS subdomain (lower case letters, "
		           "digits, '-', '.')", what, w->name);
		bad++;
	}
	if (kd) {
		w->kind = ycfg_str(y, kd, what);
		const char *k = w->kind;
		bool ok = k && ((k[0] >= 'A' && k[0] <= 'Z') || (k[0] >= 'a' && k[0] <= 'z'));
		for (const char *p = k; ok && *p; p++)
			ok = is_alnum(*p);
		if (k && (!ok || strlen(k) > 63)) {
			ycfg_error(y, kd, "%s: kind \"%s\" must be a word such as Deployment", what, k);
			bad++;
		}
	}
	return bad || !w->name || (kd && !w->kind) ? -1 : 0;
}

static int parse_endpoint(struct builder *b, const ynode *n, struct raw_entry *e, size_t idx)
{
	static const char *const keys[] = { "addresses", "namespace", "pod", "workload",
		                            "workloads", "labels", "identity", NULL };
	struct ycfg *y = &b->y;
	char what[64];
	snprintf(what, sizeof(what), "endpoints[%zu]", idx);
	e->kind = IDENTITY_ENDPOINT;
	e->node = n;
	if (ycfg_want_map(y, n, what))
		return -1;
	int bad = ycfg_check_keys(y, n, what, keys);

	const ynode *addrs = ycfg_get(y, n, "addresses");
	if (!addrs) {
		ycfg_error(y, n, "%s: \"addresses\" is required", what);
		bad++;
	} else if (!ycfg_want_seq(y, addrs, "addresses")) {
		size_t na = ycfg_seq_len(addrs);
		if (!na) {
			ycfg_error(y, addrs, "%s: \"addresses\" is empty", what);
			bad++;
		}
		e->nets = pool_alloc(&b->tmp, (na + 1) * sizeof(*e->nets));
		e->net_nodes = pool_alloc(&b->tmp, (na + 1) * sizeof(*e->net_nodes));
		if (!e->nets || !e->net_nodes) {
			b->oom = true;
			return -1;
		}
		for (size_t i = 0; i < na; i++)
			bad += add_net(b, e, ycfg_seq_at(y, addrs, i), "addresses") ? 1 : 0;
	} else {
		bad++;
	}

	const ynode *ns = ycfg_get(y, n, "namespace");
	if (ns) {
		e->ns = ycfg_str(y, ns, "namespace");
		if (!e->ns)
			bad++;
		else if (!dns_label_ok(e->ns)) {
			ycfg_error(y, ns, "%s: namespace \"%s\" must be a DNS label (1-63 lower case "
			           "letters, digits and '-')", what, e->ns);
			bad++;
		}
	}
	const ynode *pod = ycfg_get(y, n, "pod");
	if (pod) {
		e->pod = ycfg_str(y, pod, "pod");
		if (!e->pod)
			bad++;
		else if (!dns_subdomain_ok(e->pod, strlen(e->pod))) {
			ycfg_error(y, pod, "%s: pod \"%s\" must be a DNS subdomain (lower case letters, "
			           "digits, '-', '.')", what, e->pod);
			bad++;
		}
	}
	const ynode *wl = ycfg_get(y, n, "workload"), *wls = ycfg_get(y, n, "workloads");
	if (wl && wls) {
		ycfg_error(y, ycfg_key_node(y, n, "workloads"),
		           "%s: give either \"workload\" or \"workloads\", not both", what);
		bad++;
	} else if (wl) {
		e->wl = pool_alloc(&b->tmp, sizeof(*e->wl));
		if (!e->wl) {
			b->oom = true;
			return -1;
		}
		if (parse_workload(b, wl, e->wl, "workload"))
			bad++;
		else
			e->n_wl = 1;
	} else if (wls) {
		if (ycfg_want_seq(y, wls, "workloads")) {
			bad++;
		} else {
			size_t nw = ycfg_seq_len(wls);
			e->wl = pool_alloc(&b->tmp, (nw + 1) * sizeof(*e->wl));
			if (!e->wl) {
				b->oom = true;
				return -1;
			}
			for (size_t i = 0; i < nw; i++) {
				if (parse_workload(b, ycfg_seq_at(y, wls, i), &e->wl[e->n_wl], "workloads"))
					bad++;
				else
					e->n_wl++;
			}
		}
	}

	const ynode *labels = ycfg_get(y, n, "labels");
	if (labels) {
		if (parse_labels(b, labels, e, "labels"))
			bad++;
	} else {
		e->labels = pool_alloc(&b->tmp, 2 * sizeof(char *));
		if (!e->labels) {
			b->oom = true;
			return -1;
		}
	}
	if (e->ns && !bad) {
		const char *v;
		if (identity_labels_find((const char *const *)e->labels, e->n_labels, "k8s", NS_LABEL, &v)) {
			if (strcmp(v, e->ns)) {
				ycfg_error(y, labels, "%s: label k8s:" NS_LABEL "=%s contradicts namespace \"%s\"",
				           what, v, e->ns);
				bad++;
			}
		} else {
			char *l = fmt_label(&b->tmp, "k8s", NS_LABEL, e->ns);
			if (!l) {
				b->oom = true;
				return -1;
			}
			e->labels[e->n_labels++] = l;
		}
	}
	if (!bad && e->n_labels == 0) {
		ycfg_error(y, n, "%s: an endpoint needs \"labels\" or a \"namespace\" "
		           "(its identity is its label set)", what);
		bad++;
	}

	const ynode *id = ycfg_get(y, n, "identity");
	if (id) {
		int64_t v;
		if (ycfg_int(y, id, "identity", IDENTITY_USER_MIN, IDENTITY_USER_MAX, &v))
			bad++;
		else
			e->explicit_id = (uint32_t)v;
		e->id_node = id;
	}
	return bad ? -1 : 0;
}

static int parse_network(struct builder *b, const ynode *n, struct raw_entry *e, size_t idx)
{
	static const char *const keys[] = { "cidr", "labels", "identity", NULL };
	struct ycfg *y = &b->y;
	char what[64];
	snprintf(what, sizeof(what), "networks[%zu]", idx);
	e->kind = IDENTITY_NETWORK;
	e->node = n;
	if (ycfg_want_map(y, n, what))
		return -1;
	int bad = ycfg_check_keys(y, n, what, keys);
	e->nets = pool_alloc(&b->tmp, sizeof(*e->nets));
	e->net_nodes = pool_alloc(&b->tmp, sizeof(*e->net_nodes));
	if (!e->nets || !e->net_nodes) {
		b->oom = true;
		return -1;
	}
	const ynode *c = ycfg_get(y, n, "cidr");
	if (!c) {
		ycfg_error(y, n, "%s: \"cidr\" is required", what);
		bad++;
	} else if (add_net(b, e, c, "cidr")) {
		bad++;
	}
	const ynode *labels = ycfg_get(y, n, "labels");
	if (labels) {
		if (parse_labels(b, labels, e, "labels"))
			bad++;
	} else {
		e->labels = pool_alloc(&b->tmp, 4 * sizeof(char *));
		if (!e->labels) {
			b->oom = true;
			return -1;
		}
	}
	if (!bad && e->n_nets) {
		char cidr[64];
		ipnet_format(&e->nets[0], cidr, sizeof(cidr));
		char *l1 = fmt_label(&b->tmp, "cidr", cidr, ""), *l2 = fmt_label(&b->tmp, "reserved", "world", "");
		if (!l1 || !l2) {
			b->oom = true;
			return -1;
		}
		e->labels[e->n_labels++] = l1;
		e->labels[e->n_labels++] = l2;
	}
	const ynode *id = ycfg_get(y, n, "identity");
	if (id) {
		int64_t v;
		if (ycfg_int(y, id, "identity", IDENTITY_CIDR_MIN, IDENTITY_CIDR_MAX, &v))
			bad++;
		else
			e->explicit_id = (uint32_t)v;
		e->id_node = id;
	}
	return bad ? -1 : 0;
}

static int host_add(struct builder *b, const struct ipnet *n)
{
	if (b->n_host == b->cap_host) {
		size_t nc = b->cap_host ? b->cap_host * 2 : 16;
		struct ipnet *p = realloc(b->host_nets, nc * sizeof(*p));
		if (!p) {
			b->oom = true;
			return -1;
		}
		b->host_nets = p;
		b->cap_host = nc;
	}
	b->host_nets[b->n_host++] = *n;
	return 0;
}

static int parse_host(struct builder *b, const ynode *n)
{
	static const char *const keys[] = { "addresses", "detect", NULL };
	static const char *const bools[] = { "false", "true", NULL };
	struct ycfg *y = &b->y;
	if (ycfg_want_map(y, n, "host"))
		return -1;
	int bad = ycfg_check_keys(y, n, "host", keys);
	const ynode *d = ycfg_get(y, n, "detect");
	if (d) {
		int v = ycfg_enum(y, d, "host.detect", bools);
		if (v < 0)
			bad++;
		else
			b->detect_host = v == 1;
	}
	const ynode *a = ycfg_get(y, n, "addresses");
	if (a) {
		if (ycfg_want_seq(y, a, "host.addresses"))
			return -1;
		for (size_t i = 0; i < ycfg_seq_len(a); i++) {
			const ynode *v = ycfg_seq_at(y, a, i);
			const char *s = ycfg_str(y, v, "host.addresses");
			struct ipnet net;
			char msg[200];
			if (!s) {
				bad++;
			} else if (ipnet_parse(s, &net, msg, sizeof(msg))) {
				ycfg_error(y, v, "host.addresses: %s", msg);
				bad++;
			} else if (host_add(b, &net)) {
				return -1;
			}
		}
	}
	return bad ? -1 : 0;
}

static int detect_host_addrs(struct builder *b)
{
	struct ifaddrs *ifa, *i;
	if (getifaddrs(&ifa))
		return -1;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		struct ipnet n;
		memset(&n, 0, sizeof(n));
		if (i->ifa_addr->sa_family == AF_INET) {
			n.family = 4;
			n.plen = 32;
			memcpy(n.addr, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			n.family = 6;
			n.plen = 128;
			memcpy(n.addr, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		if (host_add(b, &n))
			break;
	}
	freeifaddrs(ifa);
	return b->oom ? -1 : 0;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static int cmp_ent_ptr(const void *a, const void *b)
{
	const struct raw_entry *x = *(struct raw_entry *const *)a, *y = *(struct raw_entry *const *)b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->setkey, y->setkey);
}

static int cmp_ident(const void *a, const void *b)
{
	const struct identity *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* A small open-addressing set of used identity numbers. */
struct idset {
	uint32_t *v;
	size_t mask;
};

static bool idset_has(const struct idset *s, uint32_t id)
{
	for (size_t i = (id * 2654435761u) & s->mask;; i = (i + 1) & s->mask) {
		if (!s->v[i])
			return false;
		if (s->v[i] == id)
			return true;
	}
}

static void idset_add(struct idset *s, uint32_t id)
{
	size_t i = (id * 2654435761u) & s->mask;
	while (s->v[i] && s->v[i] != id)
		i = (i + 1) & s->mask;
	s->v[i] = id;
}

/* Group entries by label set, check explicit numbers, derive the rest. */
static int assign_identities(struct builder *b)
{
	struct ycfg *y = &b->y;
	struct identity_db *db = b->db;
	size_t n = b->n_ents;
	struct raw_entry **order = calloc(n + 1, sizeof(*order));
	struct idset used = { 0 };
	size_t cap = 16;
	while (cap < 2 * (n + 4))
		cap <<= 1;
	used.v = calloc(cap, sizeof(uint32_t));
	used.mask = cap - 1;
	db->ids = pool_alloc(&db->pool, (n + 2) * sizeof(*db->ids));
	if (!order || !used.v || !db->ids) {
		free(order);
		free(used.v);
		b->oom = true;
		return -1;
	}
	idset_add(&used, IDENTITY_ID_HOST);
	idset_add(&used, IDENTITY_ID_WORLD);
	for (size_t i = 0; i < n; i++)
		order[i] = &b->ents[i];
	qsort(order, n, sizeof(*order), cmp_ent_ptr);

	int bad = 0;
	/* identities in label-set order; explicit numbers first */
	struct identity **group_of = calloc(n + 1, sizeof(*group_of));
	struct raw_entry **rep = calloc(n + 1, sizeof(*rep));
	if (!group_of || !rep) {
		free(group_of);
		free(rep);
		free(order);
		free(used.v);
		b->oom = true;
		return -1;
	}
	size_t ng = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && !cmp_ent_ptr(&order[i], &order[j]))
			j++;
		struct identity *id = &db->ids[db->n_ids++];
		id->kind = order[i]->kind;
		id->n_labels = order[i]->n_labels;
		char **labels = pool_alloc(&db->pool, (id->n_labels + 1) * sizeof(char *));
		if (!labels) {
			b->oom = true;
			bad++;
			break;
		}
		for (size_t k = 0; k < id->n_labels; k++)
			labels[k] = pool_strdup(&db->pool, order[i]->labels[k]);
		id->labels = (const char *const *)labels;
		const struct raw_entry *first_explicit = NULL;
		for (size_t k = i; k < j; k++) {
			struct raw_entry *e = order[k];
			e->ident = id;
			if (!e->explicit_id)
				continue;
			if (!first_explicit) {
				first_explicit = e;
				id->id = e->explicit_id;
			} else if (e->explicit_id != first_explicit->explicit_id) {
				ycfg_error(y, e->id_node, "identity %u differs from identity %u given at "
				           "line %u for the same labels", e->explicit_id,
				           first_explicit->explicit_id, ycfg_line(first_explicit->id_node));
				bad++;
			}
		}
		if (id->id) {
			if (idset_has(&used, id->id)) {
				ycfg_error(y, first_explicit->id_node, "identity %u is already used by "
				           "entries with other labels", id->id);
				bad++;
			}
			idset_add(&used, id->id);
		}
		rep[ng] = order[i];
		group_of[ng++] = id;
		i = j;
	}
	for (size_t g = 0; g < ng && !bad; g++) {
		struct identity *id = group_of[g];
		if (id->id)
			continue;
		uint32_t lo = id->kind == IDENTITY_NETWORK ? IDENTITY_CIDR_MIN : IDENTITY_USER_MIN;
		uint32_t hi = id->kind == IDENTITY_NETWORK ? IDENTITY_CIDR_MAX : IDENTITY_USER_ALLOC_MAX;
		uint32_t span = hi - lo + 1;
		const struct raw_entry *e = rep[g];
		uint32_t cand = lo + (uint32_t)(fnv1a(e->setkey) % span);
		for (uint32_t tries = 0; idset_has(&used, cand); tries++) {
			if (tries >= span) {
				ycfg_error(y, e->node, "no free identity number left");
				bad++;
				break;
			}
			cand = cand == hi ? lo : cand + 1;
		}
		id->id = cand;
		idset_add(&used, cand);
	}
	free(group_of);
	free(rep);
	free(order);
	free(used.v);
	return bad ? -1 : 0;
}

static struct identity_db *db_new(void)
{
	struct identity_db *db = calloc(1, sizeof(*db));
	if (!db)
		return NULL;
	atomic_init(&db->refs, 1);
	db->lpm = lpm_new();
	if (!db->lpm) {
		free(db);
		return NULL;
	}
	return db;
}

static void db_free(struct identity_db *db)
{
	lpm_free(db->lpm);
	pool_free(&db->pool);
	free(db);
}

static const char *const world_labels[] = { "reserved:world" };
static const char *const host_labels[] = { "reserved:host" };
static const struct identity world_id = { IDENTITY_ID_WORLD, IDENTITY_WORLD, world_labels, 1 };
static const struct identity host_id = { IDENTITY_ID_HOST, IDENTITY_HOST, host_labels, 1 };

static struct identity_db *build(struct builder *b, const struct identity_opts *opts, char *err,
                                 size_t errlen)
{
	struct ycfg *y = &b->y;
	struct identity_db *db = b->db;
	ynode *root = y->loaded ? ycfg_root(y) : NULL;
	int bad = 0;

	if (root) {
		static const char *const top[] = { "endpoints", "networks", "host", NULL };
		if (ycfg_want_map(y, root, "identities file"))
			goto fail;
		bad += ycfg_check_keys(y, root, "identities file", top);
		const ynode *eps = ycfg_get(y, root, "endpoints"), *nets = ycfg_get(y, root, "networks");
		const ynode *host = ycfg_get(y, root, "host");
		size_t ne = 0, nn = 0;
		if (eps && !ycfg_is_null(eps)) {
			if (ycfg_want_seq(y, eps, "endpoints"))
				bad++;
			else
				ne = ycfg_seq_len(eps);
		}
		if (nets && !ycfg_is_null(nets)) {
			if (ycfg_want_seq(y, nets, "networks"))
				bad++;
			else
				nn = ycfg_seq_len(nets);
		}
		b->ents = pool_alloc(&b->tmp, (ne + nn + 1) * sizeof(*b->ents));
		if (!b->ents)
			goto oom;
		for (size_t i = 0; i < ne; i++)
			if (parse_endpoint(b, ycfg_seq_at(y, eps, i), &b->ents[b->n_ents++], i))
				bad++;
		for (size_t i = 0; i < nn; i++)
			if (parse_network(b, ycfg_seq_at(y, nets, i), &b->ents[b->n_ents++], i))
				bad++;
		if (host && !ycfg_is_null(host) && parse_host(b, host))
			bad++;
		if (b->oom)
			goto oom;
	}
	if (bad)
		goto fail;

	/* label-set keys; kinds never share an identity */
	for (size_t i = 0; i < b->n_ents; i++) {
		struct raw_entry *e = &b->ents[i];
		qsort(e->labels, e->n_labels, sizeof(char *), cmp_str);
		size_t len = 2;
		for (size_t k = 0; k < e->n_labels; k++)
			len += strlen(e->labels[k]) + 1;
		e->setkey = pool_alloc(&b->tmp, len);
		if (!e->setkey)
			goto oom;
		char *p = e->setkey;
		for (size_t k = 0; k < e->n_labels; k++)
			p += sprintf(p, "%s%s", k ? "\n" : "", e->labels[k]);
	}

	/* endpoints: world, host, then one per entry */
	db->eps = pool_alloc(&db->pool, (b->n_ents + 2) * sizeof(*db->eps));
	if (!db->eps)
		goto oom;
	db->eps[0].identity = &world_id;
	db->eps[1].identity = &host_id;
	db->n_eps = 2;

	/* every prefix once: a temporary table remembers who claimed it */
	struct lpm *seen = lpm_new();
	if (!seen)
		goto oom;
	for (size_t i = 0; i < b->n_ents; i++) {
		struct raw_entry *e = &b->ents[i];
		for (size_t k = 0; k < e->n_nets; k++) {
			uint32_t prev;
			if (lpm_get(seen, &e->nets[k], &prev)) {
				char t[64];
				ipnet_format(&e->nets[k], t, sizeof(t));
				ycfg_error(y, e->net_nodes[k], "%s is already assigned at line %u", t, prev);
				bad++;
			} else if (lpm_insert(seen, &e->nets[k], ycfg_line(e->net_nodes[k]))) {
				lpm_free(seen);
				goto oom;
			}
		}
	}
	lpm_free(seen);
	if (bad)
		goto fail;
	if (assign_identities(b))
		goto fail;

	for (size_t i = 0; i < b->n_ents; i++) {
		struct raw_entry *e = &b->ents[i];
		struct identity_endpoint *ep = &db->eps[db->n_eps];
		ep->identity = e->ident;
		ep->namespace_ = pool_strdup(&db->pool, e->ns);
		ep->pod_name = pool_strdup(&db->pool, e->pod);
		ep->line = ycfg_line(e->node);
		if (e->n_wl) {
			struct fe_workload *w = pool_alloc(&db->pool, e->n_wl * sizeof(*w));
			if (!w)
				goto oom;
			for (size_t k = 0; k < e->n_wl; k++) {
				w[k].name = pool_strdup(&db->pool, e->wl[k].name);
				w[k].kind = pool_strdup(&db->pool, e->wl[k].kind);
			}
			ep->workloads = w;
			ep->n_workloads = e->n_wl;
		}
		for (size_t k = 0; k < e->n_nets; k++)
			if (lpm_insert(db->lpm, &e->nets[k], (uint32_t)db->n_eps))
				goto oom;
		db->n_eps++;
	}

	/* host addresses: the file's entries win over detected ones */
	if ((opts ? opts->detect_host : true) && b->detect_host && detect_host_addrs(b))
		goto oom;
	for (size_t i = 0; opts && i < opts->n_host_addrs; i++) {
		struct ipnet n;
		char msg[200];
		if (ipnet_parse(opts->host_addrs[i], &n, msg, sizeof(msg))) {
			ycfg_error(y, NULL, "host address: %s", msg);
			goto fail;
		}
		if (host_add(b, &n))
			goto oom;
	}
	for (size_t i = 0; i < b->n_host; i++)
		if (!lpm_get(db->lpm, &b->host_nets[i], NULL) && lpm_insert(db->lpm, &b->host_nets[i], 1))
			goto oom;

	/* identity list: reserved ones, then the file's, sorted by number */
	struct identity *all = pool_alloc(&db->pool, (db->n_ids + 2) * sizeof(*all));
	if (!all)
		goto oom;
	all[0] = host_id;
	all[1] = world_id;
	memcpy(all + 2, db->ids, db->n_ids * sizeof(*all));
	/* endpoints point at db->ids[]: re-point them after sorting */
	size_t nid = db->n_ids + 2;
	qsort(all, nid, sizeof(*all), cmp_ident);
	for (size_t i = 2; i < db->n_eps; i++) {
		uint32_t want = db->eps[i].identity->id;
		size_t lo = 0, hi = nid;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (all[mid].id < want)
				lo = mid + 1;
			else
				hi = mid;
		}
		db->eps[i].identity = &all[lo];
	}
	db->ids = all;
	db->n_ids = nid;
	free(b->host_nets);
	pool_free(&b->tmp);
	ycfg_free(y);
	return db;

oom:
	ycfg_error(y, NULL, "out of memory");
fail:
	(void)err;
	(void)errlen;
	free(b->host_nets);
	pool_free(&b->tmp);
	ycfg_free(y);
	db_free(db);
	return NULL;
}

struct identity_db *identity_db_load_string(const char *text, size_t len, const char *fname,
                                            const struct identity_opts *opts,
                                            char *err, size_t errlen)
{
	struct builder b;
	memset(&b, 0, sizeof(b));
	b.detect_host = true;
	if (ycfg_load(&b.y, text, len, fname, err, errlen)) {
		ycfg_free(&b.y);
		return NULL;
	}
	b.db = db_new();
	if (!b.db) {
		ycfg_free(&b.y);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return build(&b, opts, err, errlen);
}

struct identity_db *identity_db_load_file(const char *path, const struct identity_opts *opts,
                                          char *err, size_t errlen)
{
	size_t len;
	if (err && errlen)
		err[0] = '\0';
	char *text = ycfg_read_file(path, &len, err, errlen);
	if (!text)
		return NULL;
	struct identity_db *db = identity_db_load_string(text, len, path, opts, err, errlen);
	free(text);
	return db;
}

struct identity_db *identity_db_default(const struct identity_opts *opts, char *err, size_t errlen)
{
	struct builder b;
	memset(&b, 0, sizeof(b));
	b.detect_host = true;
	b.y.fname = "<default>";
	b.y.err = err;
	b.y.errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
	b.db = db_new();
	if (!b.db) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return build(&b, opts, err, errlen);
}

struct identity_db *identity_db_ref(struct identity_db *db)
{
	if (db)
		atomic_fetch_add(&db->refs, 1);
	return db;
}

void identity_db_unref(struct identity_db *db)
{
	if (db && atomic_fetch_sub(&db->refs, 1) == 1)
		db_free(db);
}

/* --- lookups ---------------------------------------------------------------- */

const struct identity_endpoint *identity_lookup(const struct identity_db *db, uint8_t family,
                                                const uint8_t addr[16])
{
	uint32_t idx;
	if (lpm_lookup(db->lpm, family, addr, &idx, NULL) && idx < db->n_eps)
		return &db->eps[idx];
	return &db->eps[0];
}

const struct identity_endpoint *identity_lookup_net(const struct identity_db *db,
                                                    const struct ipnet *n)
{
	uint32_t idx;
	if (lpm_lookup_net(db->lpm, n, &idx, NULL) && idx < db->n_eps)
		return &db->eps[idx];
	return &db->eps[0];
}

static int parse_ip(const char *ip, uint8_t *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, ip, addr) == 1) {
		*family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, ip, addr) == 1) {
		*family = 6;
		return 0;
	}
	return -1;
}

const struct identity_endpoint *identity_lookup_str(const struct identity_db *db, const char *ip)
{
	uint8_t fam, addr[16];
	if (parse_ip(ip, &fam, addr))
		return NULL;
	return identity_lookup(db, fam, addr);
}

size_t identity_db_count(const struct identity_db *db)
{
	return db->n_ids;
}

const struct identity *identity_db_at(const struct identity_db *db, size_t i)
{
	return i < db->n_ids ? &db->ids[i] : NULL;
}

const struct identity *identity_db_find(const struct identity_db *db, uint32_t id)
{
	size_t lo = 0, hi = db->n_ids;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (db->ids[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < db->n_ids && db->ids[lo].id == id ? &db->ids[lo] : NULL;
}

struct walk_ctx {
	const struct identity_db *db;
	int (*fn)(void *, const struct ipnet *, const struct identity_endpoint *);
	void *user;
};

static int walk_one(void *user, const struct ipnet *n, uint32_t v)
{
	struct walk_ctx *w = user;
	return w->fn(w->user, n, &w->db->eps[v]);
}

int identity_db_walk(const struct identity_db *db,
                     int (*fn)(void *user, const struct ipnet *n, const struct identity_endpoint *ep),
                     void *user)
{
	struct walk_ctx w = { db, fn, user };
	return lpm_walk(db->lpm, walk_one, &w);
}

int identity_fill_endpoint(const struct identity_db *db, struct flow_event *ev,
                           struct fe_endpoint *ep, uint8_t family, const uint8_t addr[16])
{
	const struct identity_endpoint *e = identity_lookup(db, family, addr);
	const struct identity *id = e->identity;
	ep->identity = id->id;
	ep->namespace_ = NULL;
	ep->pod_name = NULL;
	if (e->namespace_ && !(ep->namespace_ = fe_strdup(ev, e->namespace_)))
		return -ENOMEM;
	if (e->pod_name && !(ep->pod_name = fe_strdup(ev, e->pod_name)))
		return -ENOMEM;
	ep->labels = NULL;
	ep->n_labels = 0;
	if (id->n_labels) {
		const char **l = fe_alloc(ev, id->n_labels * sizeof(*l));
		if (!l)
			return -ENOMEM;
		for (size_t i = 0; i < id->n_labels; i++)
			if (!(l[i] = fe_strdup(ev, id->labels[i])))
				return -ENOMEM;
		ep->labels = l;
		ep->n_labels = id->n_labels;
	}
	ep->workloads = NULL;
	ep->n_workloads = 0;
	if (e->n_workloads) {
		struct fe_workload *w = fe_alloc(ev, e->n_workloads * sizeof(*w));
		if (!w)
			return -ENOMEM;
		for (size_t i = 0; i < e->n_workloads; i++) {
			w[i].name = fe_strdup(ev, e->workloads[i].name);
			w[i].kind = e->workloads[i].kind ? fe_strdup(ev, e->workloads[i].kind) : NULL;
			if (!w[i].name || (e->workloads[i].kind && !w[i].kind))
				return -ENOMEM;
		}
		ep->workloads = w;
		ep->n_workloads = e->n_workloads;
	}
	return 0;
}

int identity_fill_event(const struct identity_db *db, struct flow_event *ev)
{
	uint8_t fam, addr[16];
	int r;
	if (!ev->has_ip)
		return 0;
	if (!parse_ip(ev->ip_src, &fam, addr) &&
	    (r = identity_fill_endpoint(db, ev, &ev->source, fam, addr)))
		return r;
	if (!parse_ip(ev->ip_dst, &fam, addr) &&
	    (r = identity_fill_endpoint(db, ev, &ev->destination, fam, addr)))
		return r;
	return 0;
}

/* --- reloadable store -------------------------------------------------------- */

struct identity_store {
	pthread_mutex_t lock;
	struct identity_db *cur;
};

struct identity_store *identity_store_new(struct identity_db *initial)
{
	struct identity_store *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->cur = initial;
	return s;
}

void identity_store_free(struct identity_store *s)
{
	if (!s)
		return;
	identity_db_unref(s->cur);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct identity_db *identity_store_get(struct identity_store *s)
{
	pthread_mutex_lock(&s->lock);
	struct identity_db *db = identity_db_ref(s->cur);
	pthread_mutex_unlock(&s->lock);
	return db;
}

int identity_store_reload(struct identity_store *s, const char *path,
                          const struct identity_opts *opts, char *err, size_t errlen)
{
	struct identity_db *db = identity_db_load_file(path, opts, err, errlen);
	if (!db)
		return -1;
	pthread_mutex_lock(&s->lock);
	struct identity_db *old = s->cur;
	s->cur = db;
	pthread_mutex_unlock(&s->lock);
	identity_db_unref(old);
	return 0;
}

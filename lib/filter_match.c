/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One FlowFilter compiled into a list of predicates (an AND), each an OR
 * over its values, with Hubble's per-field semantics
 * (cilium pkg/hubble/filters). Values are parsed once here: prefixes,
 * ports, regexes, label selectors, FQDN globs; matching allocates nothing.
 */
#include "filter_int.h"
#include "flow_record.h"
#include "regex_re2.h"
#include "strbuf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int say(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* --- IP addresses ------------------------------------------------------------- */

struct ipnet {
	int family;          /* AF_INET / AF_INET6 */
	uint8_t addr[16];
	int bits;
};

static int parse_addr(const char *s, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

static int parse_ipnet(const char *s, struct ipnet *n, char *err, size_t errlen)
{
	const char *slash = strchr(s, '/');
	char buf[64];
	if (!slash) {
		if (parse_addr(s, &n->family, n->addr))
			return say(err, errlen, "invalid IP address");
		n->bits = n->family == AF_INET ? 32 : 128;
		return 0;
	}
	size_t len = (size_t)(slash - s);
	if (len >= sizeof(buf) || parse_addr((memcpy(buf, s, len), buf[len] = '\0', buf), &n->family, n->addr))
		return say(err, errlen, "invalid IP prefix");
	char *end;
	const char *b = slash + 1;
	errno = 0;
	long bits = strtol(b, &end, 10);
	int max = n->family == AF_INET ? 32 : 128;
	if (!isdigit((unsigned char)*b) || *end || errno || bits > max || (b[0] == '0' && b[1]))
		return say(err, errlen, "invalid IP prefix");
	n->bits = (int)bits;
	return 0;
}

static bool ipnet_contains(const struct ipnet *n, int family, const uint8_t addr[16])
{
	if (family != n->family)
		return false;
	int full = n->bits / 8, rest = n->bits % 8;
	if (memcmp(n->addr, addr, (size_t)full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		return (n->addr[full] & mask) == (addr[full] & mask);
	}
	return true;
}

int check_ip_or_prefix(const char *s, char *err, size_t errlen)
{
	struct ipnet n;
	return parse_ipnet(s, &n, err, errlen);
}

/* --- small value checks ---------------------------------------------------------- */

int check_port(const char *s, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	unsigned long p = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end || errno || p > 65535)
		return say(err, errlen, "expected a port number 0-65535");
	return 0;
}

static const char *const protocols[] = { "icmp", "icmpv4", "icmpv6", "tcp", "udp", "sctp",
                                         "vrrp", "igmp", "dns", "http", "kafka" };

int check_protocol(const char *s, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++)
		if (strcasecmp(s, protocols[i]) == 0)
			return 0;
	return say(err, errlen, "unknown protocol (one of tcp, udp, sctp, icmp, icmpv4, icmpv6, "
	           "vrrp, igmp, dns, http, kafka)");
}

/* ^[1-5][0-9]{2}$ (exact) or ^[1-5][0-9]?\+$ (prefix) */
struct http_status { char code[4]; bool prefix; };

static int parse_http_status(const char *s, struct http_status *st)
{
	size_t n = strlen(s);
	memset(st, 0, sizeof(*st));
	if (n == 3 && s[0] >= '1' && s[0] <= '5' && isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2])) {
		memcpy(st->code, s, 3);
		return 0;
	}
	if ((n == 2 || n == 3) && s[n - 1] == '+' && s[0] >= '1' && s[0] <= '5' &&
	    (n == 2 || isdigit((unsigned char)s[1]))) {
		memcpy(st->code, s, n - 1);
		st->prefix = true;
		return 0;
	}
	return -1;
}

int check_http_status(const char *s, char *err, size_t errlen)
{
	struct http_status st;
	if (parse_http_status(s, &st))
		return say(err, errlen, "expected a status code (404) or a prefix (5+, 40+)");
	return 0;
}

int check_namespaced_name(const char *s, char *err, size_t errlen)
{
	if (!*s)
		return say(err, errlen, "name must not be empty");
	return 0;
}

/* --- regular expressions: lib/regex_re2.h ---------------------------------------- */

int check_regex(const char *s, char *err, size_t errlen)
{
	regex_t rx;
	if (re2_regcomp(&rx, s, false, err, errlen))
		return -1;
	regfree(&rx);
	return 0;
}

/* --- FQDN and node-name globs (patterns.go) ------------------------------------------ */

/* Canonical pattern: trimmed, one trailing dot removed, lower case;
 * only [-0-9_a-z.*]. Writes into buf. */
static int fqdn_canon(const char *in, char *buf, size_t size, char *err, size_t errlen)
{
	const char *a = in, *b = in + strlen(in);
	while (a < b && isspace((unsigned char)*a))
		a++;
	while (b > a && isspace((unsigned char)b[-1]))
		b--;
	if (b > a && b[-1] == '.')
		b--;
	size_t n = (size_t)(b - a);
	if (n == 0)
		return say(err, errlen, "empty pattern");
	if (a[n - 1] == '.')
		return say(err, errlen, "multiple trailing dots in pattern");
	if (n >= size)
		return say(err, errlen, "pattern too long");
	for (size_t i = 0; i < n; i++) {
		char c = (char)tolower((unsigned char)a[i]);
		if (!(c == '.' || c == '*' || c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')))
			return say(err, errlen, "'%c': invalid rune in pattern", a[i]);
		buf[i] = c;
	}
	buf[n] = '\0';
	return 0;
}

int check_fqdn_pattern(const char *s, char *err, size_t errlen)
{
	char buf[512];
	return fqdn_canon(s, buf, sizeof(buf), err, errlen);
}

/* '*' matches any run of [-.0-9a-z] (Hubble's `[-.0-9a-z]*`). */
static bool glob_match(const char *pat, const char *s)
{
	const char *star = NULL, *ss = NULL;
	while (*s) {
		if (*pat == '*') {
			star = pat++;
			ss = s;
		} else if (*pat && *pat == *s) {
			pat++;
			s++;
		} else if (star) {
			char c = *ss;
			bool in = c == '-' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
			if (!in)
				return false;
			pat = star + 1;
			s = ++ss;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/* fqdnRegexpStr: (?:[-0-9_a-z]+(?:\.[-0-9_a-z]+)*) */
static bool any_fqdn(const char *s, size_t n)
{
	if (!n || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (s[i + 1] == '.')
				return false;
		} else if (!(c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) {
			return false;
		}
	}
	return true;
}

struct node_pat { char *cluster, *node; };  /* NULL: any name */

static int parse_node_pattern(const char *s, struct node_pat *np, char *err, size_t errlen)
{
	char buf[512];
	memset(np, 0, sizeof(*np));
	if (!*s)
		return say(err, errlen, "empty pattern");
	const char *slash = strchr(s, '/');
	if (slash && strchr(slash + 1, '/'))
		return say(err, errlen, "too many slashes in pattern");
	const char *parts[2] = { slash ? s : NULL, slash ? slash + 1 : s };
	size_t lens[2] = { slash ? (size_t)(slash - s) : 0, strlen(slash ? slash + 1 : s) };
	for (int i = 0; i < 2; i++) {
		if (!parts[i] || !lens[i])
			continue;
		char tmp[512];
		if (lens[i] >= sizeof(tmp))
			return say(err, errlen, "pattern too long");
		memcpy(tmp, parts[i], lens[i]);
		tmp[lens[i]] = '\0';
		if (fqdn_canon(tmp, buf, sizeof(buf), err, errlen))
			return -1;
		char *copy = strdup(buf);
		if (!copy)
			return say(err, errlen, "out of memory");
		if (i == 0)
			np->cluster = copy;
		else
			np->node = copy;
	}
	return 0;
}

int check_node_name_pattern(const char *s, char *err, size_t errlen)
{
	struct node_pat np;
	int rc = parse_node_pattern(s, &np, err, errlen);
	free(np.cluster);
	free(np.node);
	return rc;
}

static bool node_pat_match(const struct node_pat *np, const char *node_name)
{
	/* Names without a cluster are "default/<name>" (Cilium's default). */
	const char *slash = strchr(node_name, '/');
	const char *cl = slash ? node_name : "default";
	size_t cl_len = slash ? (size_t)(slash - node_name) : 7;
	const char *node = slash ? slash + 1 : node_name;
	char cbuf[256];
	if (strchr(node, '/') || cl_len >= sizeof(cbuf))
		return false;
	memcpy(cbuf, cl, cl_len);
	cbuf[cl_len] = '\0';
	bool c_ok = np->cluster ? glob_match(np->cluster, cbuf) : any_fqdn(cbuf, cl_len);
	bool n_ok = np->node ? glob_match(np->node, node) : any_fqdn(node, strlen(node));
	return c_ok && n_ok;
}

char *fqdn_glob_to_dns_regex(struct farena *a, const char *glob, char *err, size_t errlen)
{
	char canon[512];
	struct sbuf b = { 0 };
	if (fqdn_canon(glob, canon, sizeof(canon), err, errlen))
		return NULL;
	/* DNS names (SRV, DKIM...) often hold '_', so '*' also crosses it here. */
	sb_s(&b, "(?i)^");
	for (const char *p = canon; *p; p++) {
		if (*p == '.')
			sb_s(&b, "\\.");
		else if (*p == '*')
			sb_s(&b, "[-._0-9a-z]*");
		else
			sb_c(&b, *p);
	}
	sb_s(&b, "\\.?$");
	if (b.oom) {
		free(b.p);
		say(err, errlen, "out of memory");
		return NULL;
	}
	char *r = fa_strdup(a, b.p);
	free(b.p);
	if (!r)
		say(err, errlen, "out of memory");
	return r;
}

/* --- label selectors (k8s syntax over Cilium's source:key labels) -------------------- */

enum lop { L_EXISTS, L_NOT_EXISTS, L_EQ, L_NE, L_IN, L_NOTIN, L_GT, L_LT };

struct lreq {
	enum lop op;
	char *source;      /* "any" or a source (k8s, reserved, ...) */
	char *key;
	char **values;
	size_t n_values;
	long long num;     /* L_GT / L_LT */
};

struct lsel {
	struct lreq *reqs;
	size_t n;
};

static void lsel_free(struct lsel *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->reqs[i].source);
		free(s->reqs[i].key);
		for (size_t k = 0; k < s->reqs[i].n_values; k++)
			free(s->reqs[i].values[k]);
		free(s->reqs[i].values);
	}
	free(s->reqs);
	s->reqs = NULL;
	s->n = 0;
}

static bool is_special(char c)
{
	return c == '!' || c == '=' || c == ',' || c == '(' || c == ')' || c == '<' || c == '>' ||
	       isspace((unsigned char)c);
}

static bool valid_label_value(const char *v)
{
	size_t n = strlen(v);
	if (n == 0)
		return true;
	if (n > 63 || !isalnum((unsigned char)v[0]) || !isalnum((unsigned char)v[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && v[i] != '-' && v[i] != '_' && v[i] != '.')
			return false;
	return true;
}

static bool valid_label_key(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || !isalnum((unsigned char)k[0]) || !isalnum((unsigned char)k[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)k[i]) && !strchr("-_./", k[i]))
			return false;
	return true;
}

/* Next token: an identifier, or one of ! = == != ( ) , < >. */
static const char *next_tok(const char *p, char *tok, size_t size)
{
	while (isspace((unsigned char)*p))
		p++;
	if (!*p) {
		tok[0] = '\0';
		return p;
	}
	if ((p[0] == '=' && p[1] == '=') || (p[0] == '!' && p[1] == '=')) {
		tok[0] = p[0], tok[1] = p[1], tok[2] = '\0';
		return p + 2;
	}
	if (is_special(*p)) {
		tok[0] = *p, tok[1] = '\0';
		return p + 1;
	}
	size_t n = 0;
	while (*p && !is_special(*p)) {
		if (n + 1 < size)
			tok[n++] = *p;
		p++;
	}
	tok[n] = '\0';
	return p;
}

/* Hubble's translateSelector: "k8s:app" -> source k8s, key app; a key
 * without a source matches any source. */
static int lreq_key(struct lreq *r, const char *tok)
{
	const char *colon = strchr(tok, ':');
	r->source = colon ? strndup(tok, (size_t)(colon - tok)) : strdup("any");
	r->key = strdup(colon ? colon + 1 : tok);
	return r->source && r->key ? 0 : -1;
}

static int lsel_parse(const char *sel, struct lsel *out, char *err, size_t errlen)
{
	char tok[512];
	const char *p = sel;
	memset(out, 0, sizeof(*out));
	for (;;) {
		const char *q = next_tok(p, tok, sizeof(tok));
		if (!tok[0])
			break;
		struct lreq r = { 0 };
		bool neg = false;
		if (strcmp(tok, "!") == 0) {
			neg = true;
			q = next_tok(q, tok, sizeof(tok));
		}
		if (!tok[0] || is_special(tok[0])) {
			lsel_free(out);
			return say(err, errlen, "expected a label key");
		}
		if (lreq_key(&r, tok)) {
			free(r.source);
			free(r.key);
			lsel_free(out);
			return say(err, errlen, "out of memory");
		}
		/* The key as k8s would see it after Hubble's translation. */
		char full[600];
		snprintf(full, sizeof(full), "%s.%s", r.source, r.key);
		struct lreq *nr = realloc(out->reqs, (out->n + 1) * sizeof(*nr));
		if (!nr) {
			free(r.source);
			free(r.key);
			lsel_free(out);
			return say(err, errlen, "out of memory");
		}
		out->reqs = nr;
		out->reqs[out->n++] = r;
		struct lreq *cur = &out->reqs[out->n - 1];
		if (!valid_label_key(full) || strchr(r.key, ':')) {
			lsel_free(out);
			return say(err, errlen, "invalid label key \"%s\"", tok);
		}
		const char *after = next_tok(q, tok, sizeof(tok));
		if (neg) {
			cur->op = L_NOT_EXISTS;
			if (tok[0] && strcmp(tok, ",") != 0) {
				lsel_free(out);
				return say(err, errlen, "unexpected \"%s\" after !key", tok);
			}
			p = after;
			if (!tok[0])
				break;
			continue;
		}
		if (!tok[0] || strcmp(tok, ",") == 0) {
			cur->op = L_EXISTS;
			p = after;
			if (!tok[0])
				break;
			continue;
		}
		bool set_op = false;
		if (strcmp(tok, "=") == 0 || strcmp(tok, "==") == 0)
			cur->op = L_EQ;
		else if (strcmp(tok, "!=") == 0)
			cur->op = L_NE;
		else if (strcmp(tok, "in") == 0)
			cur->op = L_IN, set_op = true;
		else if (strcmp(tok, "notin") == 0)
			cur->op = L_NOTIN, set_op = true;
		else if (strcmp(tok, ">") == 0)
			cur->op = L_GT;
		else if (strcmp(tok, "<") == 0)
			cur->op = L_LT;
		else {
			lsel_free(out);
			return say(err, errlen, "unexpected \"%s\" after a label key", tok);
		}
		q = after;
		if (set_op) {
			q = next_tok(q, tok, sizeof(tok));
			if (strcmp(tok, "(") != 0) {
				lsel_free(out);
				return say(err, errlen, "expected '(' after in/notin");
			}
			for (;;) {
				q = next_tok(q, tok, sizeof(tok));
				if (strcmp(tok, ")") == 0 && cur->n_values == 0)
					break;
				const char *val = (strcmp(tok, ",") == 0 || strcmp(tok, ")") == 0) ? "" : tok;
				if (*val && !valid_label_value(val)) {
					lsel_free(out);
					return say(err, errlen, "invalid label value \"%s\"", val);
				}
				char **nv = realloc(cur->values, (cur->n_values + 1) * sizeof(*nv));
				if (!nv || !(nv[cur->n_values] = strdup(val))) {
					if (nv)
						cur->values = nv;
					lsel_free(out);
					return say(err, errlen, "out of memory");
				}
				cur->values = nv;
				cur->n_values++;
				if (*val)
					q = next_tok(q, tok, sizeof(tok));
				if (strcmp(tok, ")") == 0)
					break;
				if (strcmp(tok, ",") != 0) {
					lsel_free(out);
					return say(err, errlen, "expected ',' or ')' in value list");
				}
			}
		} else {
			/* one value, possibly empty ("key=") */
			const char *save = q;
			q = next_tok(q, tok, sizeof(tok));
			const char *val = tok;
			if (!tok[0] || strcmp(tok, ",") == 0) {
				val = "";
				q = save;
			} else if (is_special(tok[0])) {
				lsel_free(out);
				return say(err, errlen, "unexpected \"%s\" as a label value", tok);
			}
			if (cur->op == L_GT || cur->op == L_LT) {
				char *end;
				errno = 0;
				cur->num = strtoll(val, &end, 10);
				if (!*val || *end || errno) {
					const char *op = cur->op == L_GT ? ">" : "<";
					lsel_free(out);  /* frees cur */
					return say(err, errlen, "expected an integer after '%s'", op);
				}
			} else if (!valid_label_value(val)) {
				lsel_free(out);
				return say(err, errlen, "invalid label value \"%s\"", val);
			}
			cur->values = malloc(sizeof(*cur->values));
			if (!cur->values || !(cur->values[0] = strdup(val))) {
				lsel_free(out);
				return say(err, errlen, "out of memory");
			}
			cur->n_values = 1;
		}
		q = next_tok(q, tok, sizeof(tok));
		if (!tok[0])
			break;
		if (strcmp(tok, ",") != 0) {
			lsel_free(out);
			return say(err, errlen, "expected ',' between requirements, got \"%s\"", tok);
		}
		p = q;
	}
	return 0;
}

int check_label_selector(const char *s, char *err, size_t errlen)
{
	struct lsel sel;
	if (lsel_parse(s, &sel, err, errlen))
		return -1;
	lsel_free(&sel);
	return 0;
}

/* Cilium's parseLabel on "source:key=value" (no source: "unspec"). The
 * value is returned through *val (pointer into the label). */
static bool label_has(const char *const *labels, size_t n, const struct lreq *r, const char **val)
{
	bool any = strcmp(r->source, "any") == 0;
	size_t klen = strlen(r->key), slen = strlen(r->source);
	for (size_t i = 0; i < n; i++) {
		const char *l = labels[i];
		const char *src = "unspec", *rest = l;
		size_t src_len = 6;
		if (l[0] == '$') {
			src = "reserved", src_len = 8, rest = l + 1;
		} else {
			const char *colon = strchr(l, ':');
			if (colon)
				src = l, src_len = (size_t)(colon - l), rest = colon + 1;
		}
		const char *eq = strchr(rest, '=');
		const char *key = rest, *value = "";
		size_t key_len = eq ? (size_t)(eq - rest) : strlen(rest);
		if (eq) {
			value = eq + 1;
			if (eq == rest && src_len == 8 && strncmp(src, "reserved", 8) == 0)
				key = rest + 1, key_len = strlen(key), value = "";
		}
		if (!any && (src_len != slen || strncmp(src, r->source, slen) != 0))
			continue;
		if (key_len == klen && strncmp(key, r->key, klen) == 0) {
			*val = value;
			return true;
		}
	}
	return false;
}

static bool lsel_match(const struct lsel *s, const char *const *labels, size_t n)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct lreq *r = &s->reqs[i];
		const char *val = NULL;
		bool has = label_has(labels, n, r, &val);
		bool in = false;
		for (size_t k = 0; has && k < r->n_values; k++)
			if (strcmp(r->values[k], val) == 0)
				in = true;
		bool ok;
		switch (r->op) {
		case L_EXISTS: ok = has; break;
		case L_NOT_EXISTS: ok = !has; break;
		case L_EQ:
		case L_IN: ok = has && in; break;
		case L_NE:
		case L_NOTIN: ok = !has || !in; break;
		case L_GT:
		case L_LT: {
			char *end;
			long long v;
			if (!has)
				return false;
			errno = 0;
			v = strtoll(val, &end, 10);
			if (!*val || *end || errno)
				return false;
			ok = r->op == L_GT ? v > r->num : v < r->num;
			break;
		}
		default: ok = false;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* --- compiled filter ------------------------------------------------------------------ */

enum pk {
	P_UUID, P_EVENT_TYPE, P_VERDICT, P_DROP_REASON, P_REPLY, P_ENCRYPTED, P_SRC_IDENTITY,
	P_DST_IDENTITY, P_PROTOCOL, P_SRC_IP, P_DST_IP, P_SNAT_IP, P_SRC_POD, P_DST_POD,
	P_SRC_WORKLOAD, P_DST_WORKLOAD, P_SRC_SERVICE, P_DST_SERVICE, P_SRC_FQDN, P_DST_FQDN,
	P_DNS_QUERY, P_SRC_LABEL, P_DST_LABEL, P_NODE_LABELS, P_SRC_PORT, P_DST_PORT,
	P_HTTP_STATUS, P_HTTP_METHOD, P_HTTP_PATH, P_HTTP_URL, P_HTTP_HEADER, P_TCP_FLAGS,
	P_NODE_NAME, P_SRC_CLUSTER, P_DST_CLUSTER, P_IP_VERSION, P_TRACE_ID, P_TRAFFIC_DIRECTION,
	P_INTERFACE, P_IP_TRACE_ID,
};

struct nsname { char ns[256]; char prefix[256]; };

struct pred {
	enum pk kind;
	size_t n;
	const void *raw;      /* the FlowFilter's values (arena) */
	void *data;           /* compiled form, owned */
};

struct cfilter {
	struct pred *p;
	size_t n;
};

static void pred_free(struct pred *p)
{
	switch (p->kind) {
	case P_DNS_QUERY:
	case P_HTTP_PATH:
	case P_HTTP_URL:
		for (size_t i = 0; p->data && i < p->n; i++)
			regfree(&((regex_t *)p->data)[i]);
		break;
	case P_SRC_LABEL:
	case P_DST_LABEL:
	case P_NODE_LABELS:
		for (size_t i = 0; p->data && i < p->n; i++)
			lsel_free(&((struct lsel *)p->data)[i]);
		break;
	case P_NODE_NAME:
		for (size_t i = 0; p->data && i < p->n; i++) {
			free(((struct node_pat *)p->data)[i].cluster);
			free(((struct node_pat *)p->data)[i].node);
		}
		break;
	case P_SRC_FQDN:
	case P_DST_FQDN:
		for (size_t i = 0; p->data && i < p->n; i++)
			free(((char **)p->data)[i]);
		break;
	default:
		break;
	}
	free(p->data);
}

void cfilter_free(struct cfilter *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		pred_free(&c->p[i]);
	free(c->p);
	free(c);
}

static bool l7_compatible_types(const struct ff *f)
{
	const struct ff_evtype *t = f->event_type.v;
	if (!f->event_type.n)
		return true;
	for (size_t i = 0; i < f->event_type.n; i++)
		if (t[i].type == FE_MSG_ACCESS_LOG)
			return true;
	return false;
}

/* Compile the values of one field into a predicate; 0 or -1 (err). */
static int pred_compile(struct pred *p, const struct vec *v, char *err, size_t errlen)
{
	const char *const *s = v->v;
	size_t n = v->n;
	p->n = n;
	p->raw = v->v;
	switch (p->kind) {
	case P_SRC_IP:
	case P_DST_IP:
	case P_SNAT_IP: {
		struct ipnet *nets = calloc(n, sizeof(*nets));
		if (!(p->data = nets))
			return say(err, errlen, "out of memory");
		for (size_t i = 0; i < n; i++) {
			char why[64];
			if (parse_ipnet(s[i], &nets[i], why, sizeof(why)))
				return say(err, errlen, "%s %s in filter", why, s[i]);
		}
		return 0;
	}
	case P_SRC_PORT:
	case P_DST_PORT: {
		uint16_t *ports = calloc(n, sizeof(*ports));
		if (!(p->data = ports))
			return say(err, errlen, "out of memory");
		for (size_t i = 0; i < n; i++) {
			if (check_port(s[i], err, errlen))
				return say(err, errlen, "invalid port \"%s\"", s[i]);
			ports[i] = (uint16_t)strtoul(s[i], NULL, 10);
		}
		return 0;
	}
	case P_SRC_POD:
	case P_DST_POD:
	case P_SRC_SERVICE:
	case P_DST_SERVICE: {
		/* hubble k8s.ParseNamespaceName: "ns/name", "name" -> default/name */
		struct nsname *nn = calloc(n, sizeof(*nn));
		if (!(p->data = nn))
			return say(err, errlen, "out of memory");
		for (size_t i = 0; i < n; i++) {
			if (!*s[i])
				return say(err, errlen, "invalid filter, name must not be empty");
			const char *slash = strchr(s[i], '/');
			if (slash) {
				const char *end = strchr(slash + 1, '/');
				snprintf(nn[i].ns, sizeof(nn[i].ns), "%.*s", (int)(slash - s[i]), s[i]);
				snprintf(nn[i].prefix, sizeof(nn[i].prefix), "%.*s",
				         (int)(end ? end - slash - 1 : (long)strlen(slash + 1)), slash + 1);
			} else {
				snprintf(nn[i].ns, sizeof(nn[i].ns), "default");
				snprintf(nn[i].prefix, sizeof(nn[i].prefix), "%s", s[i]);
			}
		}
		return 0;
	}
	case P_SRC_FQDN:
	case P_DST_FQDN: {
		char **pats = calloc(n, sizeof(*pats));
		if (!(p->data = pats))
			return say(err, errlen, "out of memory");
		for (size_t i = 0; i < n; i++) {
			char buf[512];
			if (fqdn_canon(s[i], buf, sizeof(buf), err, errlen))
				return -1;
			if (!(pats[i] = strdup(buf)))
				return say(err, errlen, "out of memory");
		}
		return 0;
	}
	case P_DNS_QUERY:
	case P_HTTP_PATH:
	case P_HTTP_URL: {
		regex_t *rx = calloc(n, sizeof(*rx));
		if (!(p->data = rx))
			return say(err, errlen, "out of memory");
		for (size_t i = 0; i < n; i++) {
			char why[160];
			if (re2_regcomp(&rx[i], s[i], false, why, sizeof(why))) {
				p->n = i;  /* only the compiled ones are freed */
				return say(err, errlen, "%s: %s", s[i], why);
			}
		}
		return 0;
	}
	case P_SRC_LABEL:
	case P_DST_LABEL:
	case P_NODE_LABELS: {
		struct lsel *sel = calloc(n, sizeof(*sel));
		if (!(p->data = sel))
			return say(err, errlen, "out of memory");
		for (size_t i = 0; i < n; i++) {
			char why[160];
			if (lsel_parse(s[i], &sel[i], why, sizeof(why)))
				return say(err, errlen, "\"%s\": %s", s[i], why);
		}
		return 0;
	}
	case P_NODE_NAME: {
		struct node_pat *np = calloc(n, sizeof(*np));
		if (!(p->data = np))
			return say(err, errlen, "out of memory");
		for (size_t i = 0; i < n; i++)
			if (parse_node_pattern(s[i], &np[i], err, errlen))
				return -1;
		return 0;
	}
	case P_HTTP_STATUS: {
		struct http_status *st = calloc(n, sizeof(*st));
		if (!(p->data = st))
			return say(err, errlen, "out of memory");
		for (size_t i = 0; i < n; i++)
			if (parse_http_status(s[i], &st[i]))
				return say(err, errlen, "invalid status code prefix: \"%s\"", s[i]);
		return 0;
	}
	case P_PROTOCOL:
		for (size_t i = 0; i < n; i++)
			if (check_protocol(s[i], err, errlen))
				return say(err, errlen, "unknown protocol: \"%s\"", s[i]);
		return 0;
	case P_SRC_CLUSTER:
	case P_DST_CLUSTER:
		for (size_t i = 0; i < n; i++)
			if (!*s[i])
				return say(err, errlen, "invalid filter, name must not be empty");
		return 0;
	default:
		return 0;
	}
}

struct cfilter *cfilter_compile(const struct ff *f, char *err, size_t errlen)
{
	static const struct { size_t off; enum pk kind; const char *name; } map[] = {
#define M(field, kind) { offsetof(struct ff, field), kind, #field }
		M(uuid, P_UUID), M(event_type, P_EVENT_TYPE), M(verdict, P_VERDICT),
		M(drop_reason_desc, P_DROP_REASON), M(reply, P_REPLY), M(encrypted, P_ENCRYPTED),
		M(source_identity, P_SRC_IDENTITY), M(destination_identity, P_DST_IDENTITY),
		M(protocol, P_PROTOCOL), M(source_ip, P_SRC_IP), M(destination_ip, P_DST_IP),
		M(source_ip_xlated, P_SNAT_IP), M(source_pod, P_SRC_POD), M(destination_pod, P_DST_POD),
		M(source_workload, P_SRC_WORKLOAD), M(destination_workload, P_DST_WORKLOAD),
		M(source_service, P_SRC_SERVICE), M(destination_service, P_DST_SERVICE),
		M(source_fqdn, P_SRC_FQDN), M(destination_fqdn, P_DST_FQDN), M(dns_query, P_DNS_QUERY),
		M(source_label, P_SRC_LABEL), M(destination_label, P_DST_LABEL),
		M(node_labels, P_NODE_LABELS), M(source_port, P_SRC_PORT),
		M(destination_port, P_DST_PORT), M(http_status_code, P_HTTP_STATUS),
		M(http_method, P_HTTP_METHOD), M(http_path, P_HTTP_PATH), M(http_url, P_HTTP_URL),
		M(http_header, P_HTTP_HEADER), M(tcp_flags, P_TCP_FLAGS), M(node_name, P_NODE_NAME),
		M(source_cluster_name, P_SRC_CLUSTER), M(destination_cluster_name, P_DST_CLUSTER),
		M(ip_version, P_IP_VERSION), M(trace_id, P_TRACE_ID),
		M(traffic_direction, P_TRAFFIC_DIRECTION), M(interface, P_INTERFACE),
		M(ip_trace_id, P_IP_TRACE_ID),
#undef M
	};
	if (f->cel_expression.n) {
		say(err, errlen, "experimental.cel_expression is not supported by flowd");
		return NULL;
	}
	if (!l7_compatible_types(f)) {
		static const struct { size_t off; const char *what; } http[] = {
			{ offsetof(struct ff, http_status_code), "http status code" },
			{ offsetof(struct ff, http_method), "http method" },
			{ offsetof(struct ff, http_path), "http path" },
			{ offsetof(struct ff, http_url), "http url" },
			{ offsetof(struct ff, http_header), "http headers" },
		};
		for (size_t i = 0; i < sizeof(http) / sizeof(http[0]); i++)
			if (((const struct vec *)((const char *)f + http[i].off))->n) {
				say(err, errlen, "filtering by %s requires the event type filter to only "
				    "match 'l7' events", http[i].what);
				return NULL;
			}
	}
	struct cfilter *c = calloc(1, sizeof(*c));
	if (!c || !(c->p = calloc(sizeof(map) / sizeof(map[0]), sizeof(*c->p)))) {
		free(c);
		say(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		const struct vec *v = (const struct vec *)((const char *)f + map[i].off);
		if (!v->n)
			continue;
		struct pred *p = &c->p[c->n++];
		p->kind = map[i].kind;
		char sub[200];
		if (pred_compile(p, v, sub, sizeof(sub))) {
			say(err, errlen, "%s: %s", map[i].name, sub);
			cfilter_free(c);
			return NULL;
		}
	}
	return c;
}

/* --- matching --------------------------------------------------------------------------- */

static bool ip_match(const struct pred *p, const char *ip)
{
	const struct ipnet *nets = p->data;
	int fam;
	uint8_t addr[16];
	if (!ip[0] || parse_addr(ip, &fam, addr))
		return false;
	for (size_t i = 0; i < p->n; i++)
		if (ipnet_contains(&nets[i], fam, addr))
			return true;
	return false;
}

static bool port_of(const struct flow_event *ev, bool src, uint16_t *port)
{
	if (ev->l4 != FE_L4_TCP && ev->l4 != FE_L4_UDP && ev->l4 != FE_L4_SCTP)
		return false;
	*port = src ? ev->sport : ev->dport;
	return true;
}

static bool nsname_match(const struct pred *p, const char *ns, const char *name)
{
	const struct nsname *nn = p->data;
	ns = ns ? ns : "";
	name = name ? name : "";
	if (!*ns && !*name)
		return false;
	for (size_t i = 0; i < p->n; i++)
		if ((!nn[i].prefix[0] || strncmp(name, nn[i].prefix, strlen(nn[i].prefix)) == 0) &&
		    (!nn[i].ns[0] || strcmp(nn[i].ns, ns) == 0))
			return true;
	return false;
}

static bool str_in(const struct pred *p, const char *s)
{
	const char *const *v = p->raw;
	s = s ? s : "";
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static bool u32_in(const struct pred *p, uint32_t x)
{
	const uint32_t *v = p->raw;
	for (size_t i = 0; i < p->n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static bool bool_in(const struct pred *p, bool x)
{
	const bool *v = p->raw;
	for (size_t i = 0; i < p->n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static bool fqdn_match(const struct pred *p, const char *const *names, size_t n)
{
	char *const *pats = p->data;
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < p->n; i++)
			if (names[k] && glob_match(pats[i], names[k]))
				return true;
	return false;
}

static bool regex_any(const struct pred *p, const char *s)
{
	const regex_t *rx = p->data;
	for (size_t i = 0; i < p->n; i++)
		if (regexec(&rx[i], s, 0, NULL, 0) == 0)
			return true;
	return false;
}

static bool labels_match(const struct pred *p, const char *const *labels, size_t n)
{
	const struct lsel *sel = p->data;
	for (size_t i = 0; i < p->n; i++)
		if (lsel_match(&sel[i], labels, n))
			return true;
	return false;
}

static bool workload_match(const struct pred *p, const struct fe_endpoint *ep)
{
	const struct ff_workload *wf = p->raw;
	for (size_t k = 0; k < ep->n_workloads; k++) {
		const char *name = ep->workloads[k].name ? ep->workloads[k].name : "";
		const char *kind = ep->workloads[k].kind ? ep->workloads[k].kind : "";
		for (size_t i = 0; i < p->n; i++)
			if ((!*wf[i].name || strcmp(wf[i].name, name) == 0) &&
			    (!*wf[i].kind || strcmp(wf[i].kind, kind) == 0))
				return true;
	}
	return false;
}

/* url.ParseRequestURI(u).Path: the path of an absolute URL or of an
 * absolute path, percent-decoded; false when there is none or it is bad. */
static bool url_path(const char *u, char *out, size_t size)
{
	const char *p;
	if (u[0] == '/') {
		p = u;
	} else {
		const char *colon = strchr(u, ':');
		if (!colon || colon == u)
			return false;
		for (const char *c = u; c < colon; c++)
			if (!isalnum((unsigned char)*c) && *c != '+' && *c != '-' && *c != '.')
				return false;
		if (colon[1] == '/' && colon[2] == '/') {
			p = strchr(colon + 3, '/');
			if (!p) {
				const char *q = strchr(colon + 3, '?');
				(void)q;
				out[0] = '\0';
				return true;
			}
		} else if (colon[1] == '/') {
			p = colon + 1;
		} else {
			out[0] = '\0';  /* opaque URL: no path */
			return true;
		}
	}
	size_t n = 0;
	for (; *p && *p != '?'; p++) {
		char c = *p;
		if (c == '%') {
			int h = hexval(p[1]), l = h >= 0 ? hexval(p[2]) : -1;
			if (h < 0 || l < 0)
				return false;
			c = (char)(h * 16 + l);
			p += 2;
		}
		if (n + 1 >= size)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return true;
}

static bool pred_match(const struct pred *p, const struct flow_event *ev)
{
	uint16_t port;
	switch (p->kind) {
	case P_UUID:
		return str_in(p, ev->uuid);
	case P_EVENT_TYPE: {
		const struct ff_evtype *t = p->raw;
		if (!ev->event_type && !ev->event_sub_type)
			return false;  /* no event_type in the flow */
		for (size_t i = 0; i < p->n; i++) {
			if (t[i].type && (uint32_t)t[i].type != ev->event_type)
				continue;
			if (t[i].match_sub_type && (uint32_t)t[i].sub_type != ev->event_sub_type)
				continue;
			return true;
		}
		return false;
	}
	case P_VERDICT:
		return u32_in(p, ev->verdict);
	case P_DROP_REASON:
		return ev->verdict == FE_DROPPED && u32_in(p, ev->drop_reason_desc);
	case P_REPLY:
		if (ev->is_reply < 0 && ev->verdict != FE_DROPPED)
			return false;
		return bool_in(p, ev->is_reply > 0);
	case P_ENCRYPTED:
		return bool_in(p, ev->has_ip && ev->encrypted);
	case P_SRC_IDENTITY:
		return u32_in(p, ev->source.identity);
	case P_DST_IDENTITY:
		return u32_in(p, ev->destination.identity);
	case P_PROTOCOL: {
		const char *const *v = p->raw;
		for (size_t i = 0; i < p->n; i++) {
			const char *s = v[i];
			if ((!strcasecmp(s, "icmp") && (ev->l4 == FE_L4_ICMPV4 || ev->l4 == FE_L4_ICMPV6)) ||
			    (!strcasecmp(s, "icmpv4") && ev->l4 == FE_L4_ICMPV4) ||
			    (!strcasecmp(s, "icmpv6") && ev->l4 == FE_L4_ICMPV6) ||
			    (!strcasecmp(s, "tcp") && ev->l4 == FE_L4_TCP) ||
			    (!strcasecmp(s, "udp") && ev->l4 == FE_L4_UDP) ||
			    (!strcasecmp(s, "sctp") && ev->l4 == FE_L4_SCTP) ||
			    (!strcasecmp(s, "dns") && ev->l7.kind == FE_L7K_DNS) ||
			    (!strcasecmp(s, "http") && ev->l7.kind == FE_L7K_HTTP) ||
			    (!strcasecmp(s, "kafka") && ev->l7.kind == FE_L7K_KAFKA))
				return true;
		}
		return false;
	}
	case P_SRC_IP:
		return ev->has_ip && ip_match(p, ev->ip_src);
	case P_DST_IP:
		return ev->has_ip && ip_match(p, ev->ip_dst);
	case P_SNAT_IP:
		return ev->has_ip && ip_match(p, ev->ip_src_xlated);
	case P_SRC_POD:
		return nsname_match(p, ev->source.namespace_, ev->source.pod_name);
	case P_DST_POD:
		return nsname_match(p, ev->destination.namespace_, ev->destination.pod_name);
	case P_SRC_SERVICE:
		return nsname_match(p, ev->source_service.namespace_, ev->source_service.name);
	case P_DST_SERVICE:
		return nsname_match(p, ev->destination_service.namespace_, ev->destination_service.name);
	case P_SRC_WORKLOAD:
		return workload_match(p, &ev->source);
	case P_DST_WORKLOAD:
		return workload_match(p, &ev->destination);
	case P_SRC_FQDN:
		return fqdn_match(p, ev->source_names, ev->n_source_names);
	case P_DST_FQDN:
		return fqdn_match(p, ev->destination_names, ev->n_destination_names);
	case P_DNS_QUERY:
		return ev->l7.kind == FE_L7K_DNS && regex_any(p, ev->l7.dns.query ? ev->l7.dns.query : "");
	case P_SRC_LABEL:
		return labels_match(p, ev->source.labels, ev->source.n_labels);
	case P_DST_LABEL:
		return labels_match(p, ev->destination.labels, ev->destination.n_labels);
	case P_NODE_LABELS:
		return labels_match(p, ev->node_labels, ev->n_node_labels);
	case P_SRC_PORT:
	case P_DST_PORT: {
		const uint16_t *ports = p->data;
		if (!port_of(ev, p->kind == P_SRC_PORT, &port))
			return false;
		for (size_t i = 0; i < p->n; i++)
			if (ports[i] == port)
				return true;
		return false;
	}
	case P_HTTP_STATUS: {
		const struct http_status *st = p->data;
		char code[16];
		if (ev->l7.kind != FE_L7K_HTTP || !ev->l7.http.code)
			return false;
		snprintf(code, sizeof(code), "%03" PRIu32, ev->l7.http.code);
		for (size_t i = 0; i < p->n; i++)
			if (st[i].prefix ? strncmp(code, st[i].code, strlen(st[i].code)) == 0
			                 : strcmp(code, st[i].code) == 0)
				return true;
		return false;
	}
	case P_HTTP_METHOD: {
		const char *const *v = p->raw;
		const char *m = ev->l7.kind == FE_L7K_HTTP ? ev->l7.http.method : NULL;
		if (!m || !*m)
			return false;
		for (size_t i = 0; i < p->n; i++)
			if (strcasecmp(v[i], m) == 0)
				return true;
		return false;
	}
	case P_HTTP_PATH: {
		char path[4096];
		const char *u = ev->l7.kind == FE_L7K_HTTP ? ev->l7.http.url : NULL;
		if (!u || !*u || !url_path(u, path, sizeof(path)))
			return false;
		return regex_any(p, path);
	}
	case P_HTTP_URL: {
		const char *u = ev->l7.kind == FE_L7K_HTTP ? ev->l7.http.url : NULL;
		return u && *u && regex_any(p, u);
	}
	case P_HTTP_HEADER: {
		const struct ff_header *h = p->raw;
		if (ev->l7.kind != FE_L7K_HTTP)
			return false;
		for (size_t k = 0; k < ev->l7.http.n_headers; k++) {
			const struct fe_http_header *eh = &ev->l7.http.headers[k];
			for (size_t i = 0; i < p->n; i++)
				if (strcmp(h[i].key ? h[i].key : "", eh->key ? eh->key : "") == 0 &&
				    strcmp(h[i].value ? h[i].value : "", eh->value ? eh->value : "") == 0)
					return true;
		}
		return false;
	}
	case P_TCP_FLAGS: {
		/* all flags of one value set; L7 flows carry no flags */
		const uint16_t *fl = p->raw;
		if (ev->l4 != FE_L4_TCP || !ev->tcp_flags)
			return false;
		for (size_t i = 0; i < p->n; i++)
			if ((ev->tcp_flags & fl[i]) == fl[i])
				return true;
		return false;
	}
	case P_NODE_NAME: {
		const struct node_pat *np = p->data;
		if (!ev->node_name || !*ev->node_name)
			return false;
		for (size_t i = 0; i < p->n; i++)
			if (node_pat_match(&np[i], ev->node_name))
				return true;
		return false;
	}
	case P_SRC_CLUSTER:
		return str_in(p, ev->source.cluster_name);
	case P_DST_CLUSTER:
		return str_in(p, ev->destination.cluster_name);
	case P_IP_VERSION:
		return u32_in(p, ev->has_ip ? (uint32_t)ev->ip_version : FE_IP_NOT_USED);
	case P_TRACE_ID:
		return str_in(p, ev->trace_parent_id);
	case P_TRAFFIC_DIRECTION:
		return u32_in(p, ev->traffic_direction);
	case P_INTERFACE: {
		const struct ff_iface *fi = p->raw;
		if (!ev->ifindex && !(ev->ifname && *ev->ifname))
			return false;
		for (size_t i = 0; i < p->n; i++) {
			if (fi[i].index && fi[i].index != ev->ifindex)
				continue;
			if (fi[i].name && *fi[i].name && strcmp(fi[i].name, ev->ifname ? ev->ifname : "") != 0)
				continue;
			return true;
		}
		return false;
	}
	case P_IP_TRACE_ID: {
		const uint64_t *ids = p->raw;
		for (size_t i = 0; i < p->n; i++)
			if (ids[i] == ev->ip_trace_id)
				return true;
		return false;
	}
	}
	return false;
}

bool cfilter_match(const struct cfilter *c, const struct flow_event *ev)
{
	for (size_t i = 0; i < c->n; i++)
		if (!pred_match(&c->p[i], ev))
			return false;
	return true;
}

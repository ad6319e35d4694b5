/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Filter sets: command-line flags -> Hubble FlowFilters (the logic of
 * hubble/cmd/observe/flows_filter.go), raw FlowFilter JSON in and out,
 * --print-raw-filters YAML, and the allowlist/denylist decision. The
 * per-field matching lives in filter_match.c.
 */
#include "filter_int.h"
#include "flow_record.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- arena ---------------------------------------------------------------- */

struct fa_chunk {
	struct fa_chunk *next;
	size_t used, size;
	_Alignas(16) unsigned char mem[];
};

void *fa_alloc(struct farena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	struct fa_chunk *c = a->head;
	if (!c || c->size - c->used < size) {
		size_t cs = size > 4096 ? size : 4096;
		c = malloc(sizeof(*c) + cs);
		if (!c)
			return NULL;
		c->size = cs;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	void *p = c->mem + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

char *fa_strndup(struct farena *a, const char *s, size_t n)
{
	char *p = fa_alloc(a, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

char *fa_strdup(struct farena *a, const char *s)
{
	return fa_strndup(a, s, strlen(s));
}

void fa_free(struct farena *a)
{
	struct fa_chunk *c = a->head;
	while (c) {
		struct fa_chunk *n = c->next;
		free(c);
		c = n;
	}
	a->head = NULL;
}

int vec_push(struct farena *a, struct vec *v, const void *elem, size_t size)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4;
		void *nv = fa_alloc(a, cap * size);
		if (!nv)
			return -1;
		if (v->n)
			memcpy(nv, v->v, v->n * size);
		v->v = nv;
		v->cap = cap;
	}
	memcpy((char *)v->v + v->n * size, elem, size);
	v->n++;
	return 0;
}

int vec_copy(struct farena *a, struct vec *dst, const struct vec *src, size_t size)
{
	*dst = (struct vec){ 0 };
	for (size_t i = 0; i < src->n; i++)
		if (vec_push(a, dst, (const char *)src->v + i * size, size))
			return -1;
	return 0;
}

/* --- FlowFilter fields -------------------------------------------------------- */

const struct ff_desc ff_fields[] = {
#define FF_DESC(name, type, en) { #name, offsetof(struct ff, name), type, en },
	FF_FIELDS(FF_DESC)
#undef FF_DESC
};
const size_t ff_n_fields = sizeof(ff_fields) / sizeof(ff_fields[0]);

size_t ff_elem_size(enum ff_type t)
{
	switch (t) {
	case FT_STR:
	case FT_CEL: return sizeof(const char *);
	case FT_U32:
	case FT_ENUM: return sizeof(uint32_t);
	case FT_U64: return sizeof(uint64_t);
	case FT_BOOL: return sizeof(bool);
	case FT_WORKLOAD: return sizeof(struct ff_workload);
	case FT_IFACE: return sizeof(struct ff_iface);
	case FT_EVTYPE: return sizeof(struct ff_evtype);
	case FT_HEADER: return sizeof(struct ff_header);
	case FT_TCPFLAGS: return sizeof(uint16_t);
	}
	return 0;
}

int ff_copy(struct farena *a, struct ff *dst, const struct ff *src)
{
	memset(dst, 0, sizeof(*dst));
	return ff_merge(a, dst, src);
}

int ff_merge(struct farena *a, struct ff *dst, const struct ff *src)
{
	for (size_t i = 0; i < ff_n_fields; i++) {
		const struct ff_desc *d = &ff_fields[i];
		const struct vec *s = ff_cvec(src, d);
		size_t es = ff_elem_size(d->type);
		for (size_t k = 0; k < s->n; k++)
			if (vec_push(a, ff_vec(dst, d), (const char *)s->v + k * es, es))
				return -1;
	}
	return 0;
}

/* --- FlowFilter JSON out ------------------------------------------------------------ */

struct jo {
	struct fe_buf *b;
	bool oom;
};

static void jraw(struct jo *j, const char *s)
{
	if (!j->oom && fe_buf_append(j->b, s, strlen(s)))
		j->oom = true;
}

static void jstr(struct jo *j, const char *s)
{
	if (!j->oom && fe_json_append_string(j->b, s ? s : ""))
		j->oom = true;
}

static void jfmt(struct jo *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jfmt(struct jo *j, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	jraw(j, tmp);
}

static void jkey(struct jo *j, bool *first, const char *name)
{
	if (!*first)
		jraw(j, ",");
	*first = false;
	jraw(j, "\"");
	jraw(j, name);
	jraw(j, "\":");
}

static const struct { uint16_t bit; const char *name; } tcp_flag_names[] = {
	{ FLOW_TCP_FIN, "FIN" }, { FLOW_TCP_SYN, "SYN" }, { FLOW_TCP_RST, "RST" },
	{ FLOW_TCP_PSH, "PSH" }, { FLOW_TCP_ACK, "ACK" }, { FLOW_TCP_URG, "URG" },
	{ FLOW_TCP_ECE, "ECE" }, { FLOW_TCP_CWR, "CWR" }, { FLOW_TCP_NS, "NS" },
};

static void ff_elem_to_json(struct jo *j, const struct ff_desc *d, const void *e)
{
	bool first = true;
	switch (d->type) {
	case FT_STR:
	case FT_CEL:
		jstr(j, *(const char *const *)e);
		break;
	case FT_U32:
		jfmt(j, "%" PRIu32, *(const uint32_t *)e);
		break;
	case FT_U64:
		jfmt(j, "\"%" PRIu64 "\"", *(const uint64_t *)e);
		break;
	case FT_BOOL:
		jraw(j, *(const bool *)e ? "true" : "false");
		break;
	case FT_ENUM: {
		const char *n = fe_enum_name(d->en, *(const uint32_t *)e);
		if (n)
			jstr(j, n);
		else
			jfmt(j, "%" PRIu32, *(const uint32_t *)e);
		break;
	}
	case FT_WORKLOAD: {
		const struct ff_workload *w = e;
		jraw(j, "{");
		if (w->name && *w->name) {
			jkey(j, &first, "name");
			jstr(j, w->name);
		}
		if (w->kind && *w->kind) {
			jkey(j, &first, "kind");
			jstr(j, w->kind);
		}
		jraw(j, "}");
		break;
	}
	case FT_IFACE: {
		const struct ff_iface *i = e;
		jraw(j, "{");
		if (i->index) {
			jkey(j, &first, "index");
			jfmt(j, "%" PRIu32, i->index);
		}
		if (i->name && *i->name) {
			jkey(j, &first, "name");
			jstr(j, i->name);
		}
		jraw(j, "}");
		break;
	}
	case FT_EVTYPE: {
		const struct ff_evtype *t = e;
		jraw(j, "{");
		if (t->type) {
			jkey(j, &first, "type");
			jfmt(j, "%" PRId32, t->type);
		}
		if (t->match_sub_type) {
			jkey(j, &first, "match_sub_type");
			jraw(j, "true");
		}
		if (t->sub_type) {
			jkey(j, &first, "sub_type");
			jfmt(j, "%" PRId32, t->sub_type);
		}
		jraw(j, "}");
		break;
	}
	case FT_HEADER: {
		const struct ff_header *h = e;
		jraw(j, "{");
		if (h->key && *h->key) {
			jkey(j, &first, "key");
			jstr(j, h->key);
		}
		if (h->value && *h->value) {
			jkey(j, &first, "value");
			jstr(j, h->value);
		}
		jraw(j, "}");
		break;
	}
	case FT_TCPFLAGS: {
		uint16_t fl = *(const uint16_t *)e;
		jraw(j, "{");
		for (size_t k = 0; k < sizeof(tcp_flag_names) / sizeof(tcp_flag_names[0]); k++)
			if (fl & tcp_flag_names[k].bit) {
				jkey(j, &first, tcp_flag_names[k].name);
				jraw(j, "true");
			}
		jraw(j, "}");
		break;
	}
	}
}

int ff_to_json(const struct ff *f, struct fe_buf *out)
{
	struct jo j = { out, false };
	bool first = true;
	jraw(&j, "{");
	for (size_t i = 0; i < ff_n_fields; i++) {
		const struct ff_desc *d = &ff_fields[i];
		const struct vec *v = ff_cvec(f, d);
		if (!v->n)
			continue;
		if (d->type == FT_CEL) {
			jkey(&j, &first, "experimental");
			jraw(&j, "{\"cel_expression\":");
		} else {
			jkey(&j, &first, d->name);
		}
		jraw(&j, "[");
		size_t es = ff_elem_size(d->type);
		for (size_t k = 0; k < v->n; k++) {
			if (k)
				jraw(&j, ",");
			ff_elem_to_json(&j, d, (const char *)v->v + k * es);
		}
		jraw(&j, "]");
		if (d->type == FT_CEL)
			jraw(&j, "}");
	}
	jraw(&j, "}");
	return j.oom ? -1 : 0;
}

/* --- FlowFilter JSON in ------------------------------------------------------------ */

/* protojson accepts the proto name and its lowerCamelCase JSON name. */
static bool key_is(const char *key, const char *proto)
{
	if (strcmp(key, proto) == 0)
		return true;
	const char *k = key;
	bool under = false;
	for (const char *p = proto; *p; p++, k++) {
		if (*p == '_') {
			under = true;
			p++;
			if (!*p || toupper((unsigned char)*p) != *k)
				return false;
		} else if (*p != *k) {
			return false;
		}
	}
	return under && !*k;
}

static int jerr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int jerr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int j_u64(json_t *v, uint64_t max, uint64_t *out)
{
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (i < 0 || (uint64_t)i > max)
			return -1;
		*out = (uint64_t)i;
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		if (!isdigit((unsigned char)*s))
			return -1;
		errno = 0;
		unsigned long long u = strtoull(s, &end, 10);
		if (*end || errno || u > max)
			return -1;
		*out = u;
		return 0;
	}
	return -1;
}

static int j_i32(json_t *v, int32_t *out)
{
	long long i;
	if (json_is_integer(v)) {
		i = json_integer_value(v);
	} else if (json_is_string(v)) {
		char *end;
		const char *s = json_string_value(v);
		errno = 0;
		i = strtoll(s, &end, 10);
		if (!*s || *end || errno)
			return -1;
	} else {
		return -1;
	}
	if (i < INT32_MIN || i > INT32_MAX)
		return -1;
	*out = (int32_t)i;
	return 0;
}

static int j_str(struct farena *a, json_t *v, const char **out)
{
	if (!json_is_string(v))
		return -1;
	*out = fa_strdup(a, json_string_value(v));
	return *out ? 0 : -1;
}

static int ff_elem_from_json(struct farena *a, const struct ff_desc *d, json_t *v, void *e,
                             char *err, size_t errlen)
{
	const char *k;
	json_t *x;
	uint64_t u;
	switch (d->type) {
	case FT_STR:
	case FT_CEL:
		if (j_str(a, v, e))
			return jerr(err, errlen, "expected a string");
		return 0;
	case FT_U32:
		if (j_u64(v, UINT32_MAX, &u))
			return jerr(err, errlen, "expected an unsigned 32-bit integer");
		*(uint32_t *)e = (uint32_t)u;
		return 0;
	case FT_U64:
		if (j_u64(v, UINT64_MAX, &u))
			return jerr(err, errlen, "expected an unsigned 64-bit integer");
		*(uint64_t *)e = u;
		return 0;
	case FT_BOOL:
		if (!json_is_boolean(v))
			return jerr(err, errlen, "expected true or false");
		*(bool *)e = json_is_true(v);
		return 0;
	case FT_ENUM:
		if (json_is_string(v)) {
			if (fe_enum_value(d->en, json_string_value(v), false, (uint32_t *)e))
				return jerr(err, errlen, "invalid value \"%.40s\" for enum %s",
				            json_string_value(v), d->en->type_name);
			return 0;
		}
		if (j_u64(v, INT32_MAX, &u))
			return jerr(err, errlen, "expected an enum name or number");
		*(uint32_t *)e = (uint32_t)u;
		return 0;
	default:
		break;
	}
	if (!json_is_object(v))
		return jerr(err, errlen, "expected an object");
	json_object_foreach(v, k, x) {
		int bad = 0;
		if (json_is_null(x))
			continue;
		switch (d->type) {
		case FT_WORKLOAD: {
			struct ff_workload *w = e;
			if (key_is(k, "name"))
				bad = j_str(a, x, &w->name);
			else if (key_is(k, "kind"))
				bad = j_str(a, x, &w->kind);
			else
				goto unknown;
			break;
		}
		case FT_IFACE: {
			struct ff_iface *i = e;
			if (key_is(k, "index")) {
				bad = j_u64(x, UINT32_MAX, &u);
				i->index = (uint32_t)u;
			} else if (key_is(k, "name")) {
				bad = j_str(a, x, &i->name);
			} else {
				goto unknown;
			}
			break;
		}
		case FT_EVTYPE: {
			struct ff_evtype *t = e;
			if (key_is(k, "type")) {
				bad = j_i32(x, &t->type);
			} else if (key_is(k, "match_sub_type")) {
				bad = !json_is_boolean(x);
				t->match_sub_type = json_is_true(x);
			} else if (key_is(k, "sub_type")) {
				bad = j_i32(x, &t->sub_type);
			} else {
				goto unknown;
			}
			break;
		}
		case FT_HEADER: {
			struct ff_header *h = e;
			if (key_is(k, "key"))
				bad = j_str(a, x, &h->key);
			else if (key_is(k, "value"))
				bad = j_str(a, x, &h->value);
			else
				goto unknown;
			break;
		}
		case FT_TCPFLAGS: {
			size_t n;
			for (n = 0; n < sizeof(tcp_flag_names) / sizeof(tcp_flag_names[0]); n++)
				if (strcmp(k, tcp_flag_names[n].name) == 0)
					break;
			if (n == sizeof(tcp_flag_names) / sizeof(tcp_flag_names[0]))
				goto unknown;
			bad = !json_is_boolean(x);
			if (json_is_true(x))
				*(uint16_t *)e |= tcp_flag_names[n].bit;
			break;
		}
		default:
			break;
		}
		if (bad)
			return jerr(err, errlen, "bad value for \"%s\"", k);
		continue;
unknown:
		return jerr(err, errlen, "unknown field \"%s\"", k);
	}
	return 0;
}

static int ff_field_from_json(struct farena *a, struct ff *f, const struct ff_desc *d, json_t *v,
                              char *err, size_t errlen)
{
	char sub[160];
	if (!json_is_array(v))
		return jerr(err, errlen, "%s: expected an array", d->name);
	size_t es = ff_elem_size(d->type);
	for (size_t i = 0; i < json_array_size(v); i++) {
		unsigned char elem[64] = { 0 };
		if (ff_elem_from_json(a, d, json_array_get(v, i), elem, sub, sizeof(sub)))
			return jerr(err, errlen, "%s: %s", d->name, sub);
		if (vec_push(a, ff_vec(f, d), elem, es))
			return jerr(err, errlen, "out of memory");
	}
	return 0;
}

int ff_from_json(struct farena *a, void *json_obj, struct ff *out, char *err, size_t errlen)
{
	json_t *o = json_obj;
	const char *k;
	json_t *v;
	memset(out, 0, sizeof(*out));
	if (!json_is_object(o))
		return jerr(err, errlen, "expected a JSON object (a FlowFilter)");
	json_object_foreach(o, k, v) {
		if (json_is_null(v))
			continue;
		if (strcmp(k, "experimental") == 0) {
			json_t *x;
			const char *ek;
			if (!json_is_object(v))
				return jerr(err, errlen, "experimental: expected an object");
			json_object_foreach(v, ek, x) {
				if (!key_is(ek, "cel_expression"))
					return jerr(err, errlen, "experimental: unknown field \"%s\"", ek);
				if (!json_is_null(x) &&
				    ff_field_from_json(a, out, &ff_fields[ff_n_fields - 1], x, err, errlen))
					return -1;
			}
			continue;
		}
		size_t i;
		for (i = 0; i < ff_n_fields; i++)
			if (ff_fields[i].type != FT_CEL && key_is(k, ff_fields[i].name))
				break;
		if (i == ff_n_fields)
			return jerr(err, errlen, "unknown field \"%s\"", k);
		if (ff_field_from_json(a, out, &ff_fields[i], v, err, errlen))
			return -1;
	}
	return 0;
}

/* --- filter sets ------------------------------------------------------------------ */

/* Either-side flag groups: each group contributes a source-side and a
 * destination-side variant. pod, service and namespace share a group so
 * that -n qualifies the pods/services of the same side, as in Hubble. */
enum group { G_IP, G_FQDN, G_K8S, G_LABEL, G_PORT, G_IDENTITY, G_WORKLOAD, G_CLUSTER, G_N };

#define MAX_CHANGED 96

struct tracker {
	bool used;
	const char *changed[MAX_CHANGED];
	size_t n_changed;
	struct ff both;                 /* fields every generated filter gets */
	struct ff side[G_N][2];         /* [0] source side, [1] destination side */
	bool group_used[G_N];
	struct vec ns, src_ns, dst_ns;  /* const char *: namespace modifiers */
};

struct fe_filters {
	struct farena arena;
	struct tracker allow_t, deny_t;
	bool not_pending;
	bool finished;
	struct vec raw_allow, raw_deny;       /* struct ff * */
	struct vec allow, deny;               /* final: struct ff * */
	struct cfilter **c_allow, **c_deny;
};

struct fe_filters *fe_filters_new(void)
{
	return calloc(1, sizeof(struct fe_filters));
}

void fe_filters_free(struct fe_filters *f)
{
	if (!f)
		return;
	for (size_t i = 0; f->c_allow && i < f->allow.n; i++)
		cfilter_free(f->c_allow[i]);
	for (size_t i = 0; f->c_deny && i < f->deny.n; i++)
		cfilter_free(f->c_deny[i]);
	free(f->c_allow);
	free(f->c_deny);
	fa_free(&f->arena);
	free(f);
}

static int ferr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int ferr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Raw filters: one JSON object or several in a row. */
int fe_filters_add_json(struct fe_filters *f, bool deny, const char *json, char *err, size_t errlen)
{
	const char *flag = deny ? "--denylist" : "--allowlist";
	size_t len = strlen(json), off = 0, count = 0;
	if (f->finished)
		return ferr(err, errlen, "filters already finished");
	for (;;) {
		while (off < len && isspace((unsigned char)json[off]))
			off++;
		if (off == len)
			break;
		json_error_t je;
		json_t *o = json_loadb(json + off, len - off, JSON_DISABLE_EOF_CHECK, &je);
		if (!o)
			return ferr(err, errlen, "invalid %s flag: invalid JSON at column %d: %s", flag,
			            je.column, je.text);
		char sub[200];
		struct ff *ff = fa_alloc(&f->arena, sizeof(*ff));
		int rc = ff ? ff_from_json(&f->arena, o, ff, sub, sizeof(sub)) : -1;
		json_decref(o);
		if (!ff)
			return ferr(err, errlen, "out of memory");
		if (rc)
			return ferr(err, errlen, "invalid %s flag: %s", flag, sub);
		if (vec_push(&f->arena, deny ? &f->raw_deny : &f->raw_allow, &ff, sizeof(ff)))
			return ferr(err, errlen, "out of memory");
		off += je.position;
		count++;
	}
	if (!count)
		return ferr(err, errlen, "invalid %s flag: no FlowFilter in \"%s\"", flag, json);
	return 0;
}

/* --- flags ------------------------------------------------------------------------ */

enum flag_id {
	F_UUID, F_FQDN, F_FROM_FQDN, F_TO_FQDN, F_POD, F_FROM_POD, F_TO_POD, F_IP, F_FROM_IP,
	F_TO_IP, F_SNAT_IP, F_IPV4, F_IPV6, F_IP_VERSION, F_LABEL, F_FROM_LABEL, F_TO_LABEL,
	F_NAMESPACE, F_FROM_NAMESPACE, F_TO_NAMESPACE, F_ALL_NAMESPACES, F_FROM_ALL_NAMESPACES,
	F_TO_ALL_NAMESPACES, F_SERVICE, F_FROM_SERVICE, F_TO_SERVICE, F_PORT, F_FROM_PORT,
	F_TO_PORT, F_TRACE_ID, F_IP_TRACE_ID, F_VERDICT, F_DROP_REASON_DESC, F_HTTP_STATUS,
	F_HTTP_METHOD, F_HTTP_PATH, F_HTTP_URL, F_HTTP_HEADER, F_TYPE, F_PROTOCOL, F_WORKLOAD,
	F_FROM_WORKLOAD, F_TO_WORKLOAD, F_IDENTITY, F_FROM_IDENTITY, F_TO_IDENTITY, F_NODE_NAME,
	F_NODE_LABEL, F_CLUSTER, F_FROM_CLUSTER, F_TO_CLUSTER, F_TCP_FLAGS, F_TRAFFIC_DIRECTION,
	F_CEL_EXPRESSION, F_INTERFACE, F_ENCRYPTED, F_UNENCRYPTED, F_DNS_QUERY, F_NOT,
	F_ALLOWLIST, F_DENYLIST,
};

static const struct flag_def {
	const char *name;
	char shortname;
	bool has_value;
	enum flag_id id;
} flag_defs[] = {
	{ "uuid", 0, true, F_UUID }, { "fqdn", 0, true, F_FQDN },
	{ "from-fqdn", 0, true, F_FROM_FQDN }, { "to-fqdn", 0, true, F_TO_FQDN },
	{ "pod", 0, true, F_POD }, { "from-pod", 0, true, F_FROM_POD }, { "to-pod", 0, true, F_TO_POD },
	{ "ip", 0, true, F_IP }, { "from-ip", 0, true, F_FROM_IP }, { "to-ip", 0, true, F_TO_IP },
	{ "snat-ip", 0, true, F_SNAT_IP }, { "ipv4", '4', false, F_IPV4 }, { "ipv6", '6', false, F_IPV6 },
	{ "ip-version", 0, true, F_IP_VERSION }, { "label", 'l', true, F_LABEL },
	{ "from-label", 0, true, F_FROM_LABEL }, { "to-label", 0, true, F_TO_LABEL },
	{ "namespace", 'n', true, F_NAMESPACE }, { "from-namespace", 0, true, F_FROM_NAMESPACE },
	{ "to-namespace", 0, true, F_TO_NAMESPACE }, { "all-namespaces", 'A', false, F_ALL_NAMESPACES },
	{ "from-all-namespaces", 0, false, F_FROM_ALL_NAMESPACES },
	{ "to-all-namespaces", 0, false, F_TO_ALL_NAMESPACES },
	{ "service", 0, true, F_SERVICE }, { "from-service", 0, true, F_FROM_SERVICE },
	{ "to-service", 0, true, F_TO_SERVICE }, { "port", 0, true, F_PORT },
	{ "from-port", 0, true, F_FROM_PORT }, { "to-port", 0, true, F_TO_PORT },
	{ "trace-id", 0, true, F_TRACE_ID }, { "ip-trace-id", 0, true, F_IP_TRACE_ID },
	{ "verdict", 0, true, F_VERDICT }, { "drop-reason-desc", 0, true, F_DROP_REASON_DESC },
	{ "http-status", 0, true, F_HTTP_STATUS }, { "http-method", 0, true, F_HTTP_METHOD },
	{ "http-path", 0, true, F_HTTP_PATH }, { "http-url", 0, true, F_HTTP_URL },
	{ "http-header", 0, true, F_HTTP_HEADER }, { "type", 't', true, F_TYPE },
	{ "protocol", 0, true, F_PROTOCOL }, { "workload", 0, true, F_WORKLOAD },
	{ "from-workload", 0, true, F_FROM_WORKLOAD }, { "to-workload", 0, true, F_TO_WORKLOAD },
	{ "identity", 0, true, F_IDENTITY }, { "from-identity", 0, true, F_FROM_IDENTITY },
	{ "to-identity", 0, true, F_TO_IDENTITY }, { "node-name", 0, true, F_NODE_NAME },
	{ "node-label", 0, true, F_NODE_LABEL }, { "cluster", 0, true, F_CLUSTER },
	{ "from-cluster", 0, true, F_FROM_CLUSTER }, { "to-cluster", 0, true, F_TO_CLUSTER },
	{ "tcp-flags", 0, true, F_TCP_FLAGS }, { "traffic-direction", 0, true, F_TRAFFIC_DIRECTION },
	{ "cel-expression", 0, true, F_CEL_EXPRESSION }, { "interface", 0, true, F_INTERFACE },
	{ "encrypted", 0, false, F_ENCRYPTED }, { "unencrypted", 0, false, F_UNENCRYPTED },
	{ "dns-query", 0, true, F_DNS_QUERY }, { "not", 0, false, F_NOT },
	{ "allowlist", 0, true, F_ALLOWLIST }, { "denylist", 0, true, F_DENYLIST },
};
#define N_FLAGS (sizeof(flag_defs) / sizeof(flag_defs[0]))

/* Hubble's conflict groups (flows_filter.go), checked per allow/deny list. */
static const char *const conflicts[][9] = {
	{ "from-fqdn", "from-ip", "ip", "fqdn", "from-namespace", "namespace", "from-all-namespaces", "all-namespaces" },
	{ "from-fqdn", "from-ip", "ip", "fqdn", "from-pod", "pod" },
	{ "to-fqdn", "to-ip", "ip", "fqdn", "to-namespace", "namespace", "to-all-namespaces", "all-namespaces" },
	{ "to-fqdn", "to-ip", "ip", "fqdn", "to-pod", "pod" },
	{ "to-pod", "namespace", "all-namespaces" },
	{ "from-pod", "namespace", "all-namespaces" },
	{ "to-service", "namespace", "all-namespaces" },
	{ "from-service", "namespace", "all-namespaces" },
	{ "label", "from-label" },
	{ "label", "to-label" },
	{ "service", "from-service" },
	{ "service", "to-service" },
	{ "port", "to-port" },
	{ "port", "from-port" },
	{ "identity", "to-identity" },
	{ "identity", "from-identity" },
	{ "workload", "to-workload" },
	{ "workload", "from-workload" },
	{ "encrypted", "unencrypted" },
};

static bool changed_has(const struct tracker *t, const char *name)
{
	for (size_t i = 0; i < t->n_changed; i++)
		if (strcmp(t->changed[i], name) == 0)
			return true;
	return false;
}

static int check_conflicts(const struct tracker *t, char *err, size_t errlen)
{
	for (size_t g = 0; g < sizeof(conflicts) / sizeof(conflicts[0]); g++)
		for (size_t a = 0; a < 9 && conflicts[g][a]; a++) {
			if (!changed_has(t, conflicts[g][a]))
				continue;
			for (size_t b = 0; b < 9 && conflicts[g][b]; b++)
				if (a != b && changed_has(t, conflicts[g][b]))
					return ferr(err, errlen, "filters --%s and --%s cannot be combined",
					            conflicts[g][a], conflicts[g][b]);
		}
	return 0;
}

static const char *ns_of(const char *name)
{
	static __thread char buf[256];
	const char *slash = strchr(name, '/');
	if (!slash)
		return "";
	size_t n = (size_t)(slash - name) < sizeof(buf) - 1 ? (size_t)(slash - name) : sizeof(buf) - 1;
	memcpy(buf, name, n);
	buf[n] = '\0';
	return buf;
}

/* namespaceModifier.conflicts: a -n/--from-namespace/--to-namespace value
 * and a pod/service naming another namespace. */
static int ns_conflicts(const struct vec *ns, const struct vec *names, char *err, size_t errlen)
{
	for (size_t i = 0; i < ns->n; i++)
		for (size_t k = 0; k < names->n; k++) {
			const char *n = ((const char **)ns->v)[i], *name = ((const char **)names->v)[k];
			const char *nn = ns_of(name);
			if (*nn && strcmp(nn, n) != 0)
				return ferr(err, errlen, "namespace conflict: \"%s\" does not contain \"%s\"", n, name);
		}
	return 0;
}

static int inconsistent_ns(const struct vec *pods, const struct vec *svcs, char *err, size_t errlen)
{
	for (size_t i = 0; i < pods->n; i++) {
		char pod_ns[256];
		snprintf(pod_ns, sizeof(pod_ns), "%s", ns_of(((const char **)pods->v)[i]));
		if (!*pod_ns)
			continue;
		for (size_t k = 0; k < svcs->n; k++) {
			const char *svc = ((const char **)svcs->v)[k];
			if (strcmp(ns_of(svc), pod_ns) != 0)
				return ferr(err, errlen, "namespace of service \"%s\" conflict with pod \"%s\"", svc, pod_ns);
		}
	}
	return 0;
}

static int check_namespaces(struct fe_filters *f, struct tracker *t, char *err, size_t errlen)
{
	/* All source-side pods/services a generated filter can hold, and all
	 * destination-side ones. */
	struct vec sp = { 0 }, ss = { 0 }, dp = { 0 }, ds = { 0 };
	struct farena *a = &f->arena;
	if (vec_copy(a, &sp, &t->both.source_pod, sizeof(char *)) ||
	    vec_copy(a, &ss, &t->both.source_service, sizeof(char *)) ||
	    vec_copy(a, &dp, &t->both.destination_pod, sizeof(char *)) ||
	    vec_copy(a, &ds, &t->both.destination_service, sizeof(char *)))
		return ferr(err, errlen, "out of memory");
	const struct ff *s0 = &t->side[G_K8S][0], *s1 = &t->side[G_K8S][1];
	for (size_t i = 0; i < s0->source_pod.n; i++)
		vec_push(a, &sp, &((const char **)s0->source_pod.v)[i], sizeof(char *));
	for (size_t i = 0; i < s0->source_service.n; i++)
		vec_push(a, &ss, &((const char **)s0->source_service.v)[i], sizeof(char *));
	for (size_t i = 0; i < s1->destination_pod.n; i++)
		vec_push(a, &dp, &((const char **)s1->destination_pod.v)[i], sizeof(char *));
	for (size_t i = 0; i < s1->destination_service.n; i++)
		vec_push(a, &ds, &((const char **)s1->destination_service.v)[i], sizeof(char *));
	if (ns_conflicts(&t->ns, &sp, err, errlen) || ns_conflicts(&t->ns, &ss, err, errlen) ||
	    ns_conflicts(&t->ns, &dp, err, errlen) || ns_conflicts(&t->ns, &ds, err, errlen) ||
	    ns_conflicts(&t->src_ns, &sp, err, errlen) || ns_conflicts(&t->src_ns, &ss, err, errlen) ||
	    ns_conflicts(&t->dst_ns, &dp, err, errlen) || ns_conflicts(&t->dst_ns, &ds, err, errlen) ||
	    inconsistent_ns(&sp, &ss, err, errlen) || inconsistent_ns(&dp, &ds, err, errlen))
		return -1;
	return 0;
}

/* Push one value into a field of a FlowFilter. */
#define PUSH(ff, field, val)                                                              \
	do {                                                                              \
		__typeof__(val) v_ = (val);                                               \
		if (vec_push(&f->arena, &(ff)->field, &v_, sizeof(v_)))                   \
			return ferr(err, errlen, "out of memory");                        \
	} while (0)

/* A value for both variants / for one either-side group. */
#define BOTH(field, val) PUSH(&t->both, field, val)
#define SIDE(g, sfield, dfield, val)                                                      \
	do {                                                                              \
		t->group_used[g] = true;                                                  \
		PUSH(&t->side[g][0], sfield, val);                                        \
		PUSH(&t->side[g][1], dfield, val);                                        \
	} while (0)

static int bad_value(char *err, size_t errlen, const char *flag, const char *val, const char *why)
{
	return ferr(err, errlen, "invalid --%s value \"%s\": %s", flag, val, why);
}

/* Validate with a check_* function, prefixing the flag. */
#define CHECK_VAL(fn)                                                                     \
	do {                                                                              \
		char why_[200];                                                           \
		if (fn(val, why_, sizeof(why_)))                                          \
			return bad_value(err, errlen, def->name, val, why_);              \
	} while (0)

static const char *const agent_subtypes[] = {
	"unspecified", "message", "agent-started", "endpoint-regenerate-success",
	"endpoint-regenerate-failure", "policy-updated", "policy-deleted", "endpoint-created",
	"endpoint-deleted", "ipcache-upserted", "ipcache-deleted",
};

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	unsigned long long u = strtoull(s, &end, 10);
	if (*end || errno || u > UINT32_MAX)
		return -1;
	*out = (uint32_t)u;
	return 0;
}

static int parse_type(const char *val, struct ff_evtype *t, char *err, size_t errlen)
{
	char tname[64];
	const char *colon = strchr(val, ':');
	size_t n = colon ? (size_t)(colon - val) : strlen(val);
	uint32_t u;
	if (n >= sizeof(tname))
		n = sizeof(tname) - 1;
	memcpy(tname, val, n);
	tname[n] = '\0';
	if (fe_monitor_type_value(tname, &u) == 0 || parse_u32(tname, &u) == 0) {
		t->type = (int32_t)u;
	} else {
		return bad_value(err, errlen, "type", val,
		                 "unknown type (one of capture, drop, l7, policy-verdict, trace, "
		                 "trace-sock, debug, agent, or a number)");
	}
	if (!colon)
		return 0;
	const char *sub = colon + 1;
	if (t->type == FE_MSG_TRACE) {
		for (uint32_t i = 0; fe_trace_point_text(i); i++)
			if (strcmp(fe_trace_point_text(i), sub) == 0) {
				t->match_sub_type = true;
				t->sub_type = (int32_t)i;
				return 0;
			}
	} else if (t->type == FE_MSG_AGENT) {
		for (size_t i = 0; i < sizeof(agent_subtypes) / sizeof(agent_subtypes[0]); i++)
			if (strcmp(agent_subtypes[i], sub) == 0) {
				t->match_sub_type = true;
				t->sub_type = (int32_t)i;
				return 0;
			}
	}
	if (parse_u32(sub, &u) || u > INT32_MAX)
		return bad_value(err, errlen, "type", val,
		                 "unknown sub-type (trace: from-endpoint, to-network, ...; or a number)");
	t->match_sub_type = true;
	t->sub_type = (int32_t)u;
	return 0;
}

static int parse_identity(const char *val, uint32_t *id, char *err, size_t errlen, const char *flag)
{
	if (fe_reserved_identity_value(val, id) == 0 && *id != 0)
		return 0;
	if (parse_u32(val, id) == 0)
		return 0;
	return bad_value(err, errlen, flag, val,
	                 "expected a number or one of host, world, unmanaged, health, init, remote-node, "
	                 "kube-apiserver, ingress, world-ipv4, world-ipv6");
}

static struct ff_workload parse_workload(struct fe_filters *f, const char *s)
{
	struct ff_workload w = { "", "" };
	const char *slash = strchr(s, '/');
	if (!slash) {
		w.name = fa_strdup(&f->arena, s);
	} else {
		w.kind = fa_strndup(&f->arena, s, (size_t)(slash - s));
		w.name = fa_strdup(&f->arena, slash + 1);
	}
	return w;
}

static int tracker_set(struct fe_filters *f, struct tracker *t, const struct flag_def *def,
                       const char *val, char *err, size_t errlen)
{
	if (!changed_has(t, def->name)) {
		if (t->n_changed == MAX_CHANGED)
			return ferr(err, errlen, "too many filter flags");
		t->changed[t->n_changed++] = def->name;
	}
	if (check_conflicts(t, err, errlen))
		return -1;
	t->used = true;
	const char *v = val ? fa_strdup(&f->arena, val) : NULL;
	if (val && !v)
		return ferr(err, errlen, "out of memory");
	uint32_t u;

	switch (def->id) {
	case F_UUID:
		BOTH(uuid, v);
		break;
	case F_FQDN:
		CHECK_VAL(check_fqdn_pattern);
		SIDE(G_FQDN, source_fqdn, destination_fqdn, v);
		break;
	case F_FROM_FQDN:
		CHECK_VAL(check_fqdn_pattern);
		BOTH(source_fqdn, v);
		break;
	case F_TO_FQDN:
		CHECK_VAL(check_fqdn_pattern);
		BOTH(destination_fqdn, v);
		break;
	case F_POD:
		CHECK_VAL(check_namespaced_name);
		SIDE(G_K8S, source_pod, destination_pod, v);
		break;
	case F_FROM_POD:
		CHECK_VAL(check_namespaced_name);
		BOTH(source_pod, v);
		break;
	case F_TO_POD:
		CHECK_VAL(check_namespaced_name);
		BOTH(destination_pod, v);
		break;
	case F_IP:
		CHECK_VAL(check_ip_or_prefix);
		SIDE(G_IP, source_ip, destination_ip, v);
		break;
	case F_FROM_IP:
		CHECK_VAL(check_ip_or_prefix);
		BOTH(source_ip, v);
		break;
	case F_TO_IP:
		CHECK_VAL(check_ip_or_prefix);
		BOTH(destination_ip, v);
		break;
	case F_SNAT_IP:
		CHECK_VAL(check_ip_or_prefix);
		BOTH(source_ip_xlated, v);
		break;
	case F_IPV4:
		BOTH(ip_version, (uint32_t)FE_IPV4);
		break;
	case F_IPV6:
		BOTH(ip_version, (uint32_t)FE_IPV6);
		break;
	case F_IP_VERSION: {
		static const struct { const char *n; uint32_t v; } vers[] = {
			{ "none", FE_IP_NOT_USED }, { "4", FE_IPV4 }, { "v4", FE_IPV4 }, { "ipv4", FE_IPV4 },
			{ "ip4", FE_IPV4 }, { "6", FE_IPV6 }, { "v6", FE_IPV6 }, { "ipv6", FE_IPV6 },
			{ "ip6", FE_IPV6 },
		};
		size_t i;
		for (i = 0; i < sizeof(vers) / sizeof(vers[0]); i++)
			if (strcasecmp(val, vers[i].n) == 0)
				break;
		if (i == sizeof(vers) / sizeof(vers[0]))
			return bad_value(err, errlen, def->name, val, "expected none, v4 or v6");
		BOTH(ip_version, vers[i].v);
		break;
	}
	case F_LABEL:
		CHECK_VAL(check_label_selector);
		SIDE(G_LABEL, source_label, destination_label, v);
		break;
	case F_FROM_LABEL:
		CHECK_VAL(check_label_selector);
		BOTH(source_label, v);
		break;
	case F_TO_LABEL:
		CHECK_VAL(check_label_selector);
		BOTH(destination_label, v);
		break;
	case F_NAMESPACE:
	case F_ALL_NAMESPACES:
		t->group_used[G_K8S] = true;
		PUSH(t, ns, def->id == F_NAMESPACE ? v : "");
		break;
	case F_FROM_NAMESPACE:
	case F_FROM_ALL_NAMESPACES:
		PUSH(t, src_ns, def->id == F_FROM_NAMESPACE ? v : "");
		break;
	case F_TO_NAMESPACE:
	case F_TO_ALL_NAMESPACES:
		PUSH(t, dst_ns, def->id == F_TO_NAMESPACE ? v : "");
		break;
	case F_SERVICE:
		CHECK_VAL(check_namespaced_name);
		SIDE(G_K8S, source_service, destination_service, v);
		break;
	case F_FROM_SERVICE:
		CHECK_VAL(check_namespaced_name);
		BOTH(source_service, v);
		break;
	case F_TO_SERVICE:
		CHECK_VAL(check_namespaced_name);
		BOTH(destination_service, v);
		break;
	case F_PORT:
		CHECK_VAL(check_port);
		SIDE(G_PORT, source_port, destination_port, v);
		break;
	case F_FROM_PORT:
		CHECK_VAL(check_port);
		BOTH(source_port, v);
		break;
	case F_TO_PORT:
		CHECK_VAL(check_port);
		BOTH(destination_port, v);
		break;
	case F_TRACE_ID:
		BOTH(trace_id, v);
		break;
	case F_IP_TRACE_ID: {
		char *end;
		errno = 0;
		unsigned long long id = strtoull(val, &end, 10);
		if (strcmp(val, "0") == 0)
			return ferr(err, errlen, "invalid --ip-trace-id value; must be greater than 0");
		if (!isdigit((unsigned char)*val) || *end || errno)
			return bad_value(err, errlen, def->name, val, "expected a number greater than 0");
		BOTH(ip_trace_id, (uint64_t)id);
		break;
	}
	case F_VERDICT:
		/* Accepted in any case (Hubble wants the exact upper-case name). */
		if (fe_enum_value(&fe_enum_verdict, val, true, &u) || u == 0)
			return ferr(err, errlen, "invalid --verdict value: %s (one of FORWARDED, DROPPED, "
			            "AUDIT, REDIRECTED, ERROR, TRACED, TRANSLATED)", val);
		BOTH(verdict, u);
		break;
	case F_DROP_REASON_DESC:
		if (!*val)
			return ferr(err, errlen, "empty --drop-reason-desc value");
		if (fe_enum_value(&fe_enum_drop_reason, val, false, &u))
			return ferr(err, errlen, "invalid --drop-reason-desc value: %s", val);
		BOTH(drop_reason_desc, u);
		break;
	case F_HTTP_STATUS:
		CHECK_VAL(check_http_status);
		BOTH(http_status_code, v);
		break;
	case F_HTTP_METHOD:
		if (!*val)
			return bad_value(err, errlen, def->name, val, "empty method");
		BOTH(http_method, v);
		break;
	case F_HTTP_PATH:
		CHECK_VAL(check_regex);
		BOTH(http_path, v);
		break;
	case F_HTTP_URL:
		CHECK_VAL(check_regex);
		BOTH(http_url, v);
		break;
	case F_HTTP_HEADER: {
		const char *colon = strchr(val, ':');
		if (!colon)
			return ferr(err, errlen, "invalid http-header value \"%s\", expected name:value", val);
		struct ff_header h = { fa_strndup(&f->arena, val, (size_t)(colon - val)),
		                       fa_strdup(&f->arena, colon + 1) };
		BOTH(http_header, h);
		break;
	}
	case F_TYPE: {
		struct ff_evtype et = { 0 };
		if (parse_type(val, &et, err, errlen))
			return -1;
		BOTH(event_type, et);
		break;
	}
	case F_PROTOCOL:
		CHECK_VAL(check_protocol);
		BOTH(protocol, v);
		break;
	case F_WORKLOAD:
		SIDE(G_WORKLOAD, source_workload, destination_workload, parse_workload(f, val));
		break;
	case F_FROM_WORKLOAD:
		BOTH(source_workload, parse_workload(f, val));
		break;
	case F_TO_WORKLOAD:
		BOTH(destination_workload, parse_workload(f, val));
		break;
	case F_IDENTITY:
		if (parse_identity(val, &u, err, errlen, def->name))
			return -1;
		SIDE(G_IDENTITY, source_identity, destination_identity, u);
		break;
	case F_FROM_IDENTITY:
		if (parse_identity(val, &u, err, errlen, def->name))
			return -1;
		BOTH(source_identity, u);
		break;
	case F_TO_IDENTITY:
		if (parse_identity(val, &u, err, errlen, def->name))
			return -1;
		BOTH(destination_identity, u);
		break;
	case F_NODE_NAME:
		CHECK_VAL(check_node_name_pattern);
		BOTH(node_name, v);
		break;
	case F_NODE_LABEL:
		CHECK_VAL(check_label_selector);
		BOTH(node_labels, v);
		break;
	case F_CLUSTER:
	case F_FROM_CLUSTER:
	case F_TO_CLUSTER:
		if (!*val)
			return bad_value(err, errlen, def->name, val, "name must not be empty");
		if (def->id == F_CLUSTER)
			SIDE(G_CLUSTER, source_cluster_name, destination_cluster_name, v);
		else if (def->id == F_FROM_CLUSTER)
			BOTH(source_cluster_name, v);
		else
			BOTH(destination_cluster_name, v);
		break;
	case F_TCP_FLAGS: {
		uint16_t fl = 0;
		const char *p = val;
		for (;;) {
			const char *comma = strchr(p, ',');
			size_t n = comma ? (size_t)(comma - p) : strlen(p);
			size_t k;
			for (k = 0; k < sizeof(tcp_flag_names) / sizeof(tcp_flag_names[0]); k++)
				if (strlen(tcp_flag_names[k].name) == n && strncasecmp(p, tcp_flag_names[k].name, n) == 0)
					break;
			if (k == sizeof(tcp_flag_names) / sizeof(tcp_flag_names[0]))
				return ferr(err, errlen, "unknown tcp flag: %.*s", (int)n, p);
			fl |= tcp_flag_names[k].bit;
			if (!comma)
				break;
			p = comma + 1;
		}
		BOTH(tcp_flags, fl);
		break;
	}
	case F_TRAFFIC_DIRECTION:
		if (strcasecmp(val, "ingress") == 0)
			BOTH(traffic_direction, (uint32_t)FE_INGRESS);
		else if (strcasecmp(val, "egress") == 0)
			BOTH(traffic_direction, (uint32_t)FE_EGRESS);
		else
			return ferr(err, errlen, "%s: invalid traffic direction, expected ingress or egress", val);
		break;
	case F_CEL_EXPRESSION:
		return ferr(err, errlen, "--cel-expression is not supported by flowd");
	case F_INTERFACE: {
		if (!*val)
			return bad_value(err, errlen, def->name, val, "empty interface name");
		struct ff_iface i = { 0, v };
		BOTH(interface, i);
		break;
	}
	case F_ENCRYPTED:
		BOTH(encrypted, true);
		break;
	case F_UNENCRYPTED:
		BOTH(encrypted, false);
		break;
	case F_DNS_QUERY: {
		char why[200];
		const char *re = fqdn_glob_to_dns_regex(&f->arena, val, why, sizeof(why));
		if (!re)
			return bad_value(err, errlen, def->name, val, why);
		BOTH(dns_query, re);
		break;
	}
	default:
		break;
	}
	return check_namespaces(f, t, err, errlen);
}

int fe_filters_set(struct fe_filters *f, const char *flag, const char *value, char *err, size_t errlen)
{
	const struct flag_def *def = NULL;
	for (size_t i = 0; i < N_FLAGS; i++)
		if (strcmp(flag_defs[i].name, flag) == 0)
			def = &flag_defs[i];
	if (!def)
		return ferr(err, errlen, "unknown filter flag --%s", flag);
	if (f->finished)
		return ferr(err, errlen, "filters already finished");
	if (def->has_value && !value)
		return ferr(err, errlen, "flag needs an argument: --%s", def->name);
	if (!def->has_value && value)
		return ferr(err, errlen, "flag --%s takes no value", def->name);
	switch (def->id) {
	case F_NOT:
		if (f->not_pending)
			return ferr(err, errlen, "consecutive --not statements");
		f->not_pending = true;
		return 0;
	case F_ALLOWLIST:
	case F_DENYLIST:
		return fe_filters_add_json(f, def->id == F_DENYLIST, value, err, errlen);
	default: {
		struct tracker *t = f->not_pending ? &f->deny_t : &f->allow_t;
		f->not_pending = false;
		return tracker_set(f, t, def, value, err, errlen);
	}
	}
}

int fe_filters_parse_arg(struct fe_filters *f, int argc, char *const argv[], int *i,
                         char *err, size_t errlen)
{
	const char *arg = argv[*i];
	const struct flag_def *def = NULL;
	const char *value = NULL;
	int used = 1;

	if (arg[0] != '-' || arg[1] == '\0')
		return 0;
	if (arg[1] == '-') {
		const char *name = arg + 2, *eq = strchr(name, '=');
		size_t n = eq ? (size_t)(eq - name) : strlen(name);
		for (size_t k = 0; k < N_FLAGS; k++)
			if (strlen(flag_defs[k].name) == n && strncmp(flag_defs[k].name, name, n) == 0)
				def = &flag_defs[k];
		if (!def)
			return 0;
		if (eq)
			value = eq + 1;
	} else {
		for (size_t k = 0; k < N_FLAGS; k++)
			if (flag_defs[k].shortname && flag_defs[k].shortname == arg[1])
				def = &flag_defs[k];
		if (!def)
			return 0;
		if (arg[2]) {
			if (!def->has_value)
				return 0;  /* a bundle of short flags we do not own */
			value = arg[2] == '=' ? arg + 3 : arg + 2;
		}
	}
	if (def->has_value && !value) {
		if (*i + 1 >= argc)
			return ferr(err, errlen, "flag needs an argument: %s", arg);
		value = argv[*i + 1];
		used = 2;
	}
	if (fe_filters_set(f, def->name, value, err, errlen))
		return -1;
	*i += used;
	return 1;
}

/* Build the FlowFilters of one tracker: the "both" fields, doubled into a
 * source and a destination variant by each either-side group in use,
 * then the namespace modifiers; identical filters collapse (Hubble keeps
 * one when left == right). */
static void ns_apply(struct fe_filters *f, struct ff *ff, const struct vec *ns, bool src)
{
	struct vec *pods = src ? &ff->source_pod : &ff->destination_pod;
	struct vec *svcs = src ? &ff->source_service : &ff->destination_service;
	if (!pods->n && !svcs->n) {
		const char *empty = "";
		vec_push(&f->arena, pods, &empty, sizeof(empty));
	}
	struct vec *lists[2] = { pods, svcs };
	for (int l = 0; l < 2; l++) {
		struct vec out = { 0 };
		if (!ns->n || !lists[l]->n)
			continue;
		for (size_t i = 0; i < lists[l]->n; i++) {
			const char *name = ((const char **)lists[l]->v)[i];
			if (strchr(name, '/')) {
				vec_push(&f->arena, &out, &name, sizeof(name));
				continue;
			}
			for (size_t k = 0; k < ns->n; k++) {
				const char *n = ((const char **)ns->v)[k];
				size_t len = strlen(n) + 1 + strlen(name);
				char *s = fa_alloc(&f->arena, len + 1);
				if (!s)
					continue;
				snprintf(s, len + 1, "%s/%s", n, name);
				vec_push(&f->arena, &out, &s, sizeof(s));
			}
		}
		*lists[l] = out;
	}
}

static int tracker_build(struct fe_filters *f, struct tracker *t, struct vec *out)
{
	struct farena *a = &f->arena;
	if (!t->used)
		return 0;
	struct vec cur = { 0 };
	struct ff *base = fa_alloc(a, sizeof(*base));
	if (!base || ff_copy(a, base, &t->both) || vec_push(a, &cur, &base, sizeof(base)))
		return -1;
	for (int g = 0; g < G_N; g++) {
		if (!t->group_used[g])
			continue;
		struct vec next = { 0 };
		for (size_t i = 0; i < cur.n; i++) {
			const struct ff *c = ((struct ff **)cur.v)[i];
			for (int s = 0; s < 2; s++) {
				struct ff *n = fa_alloc(a, sizeof(*n));
				if (!n || ff_copy(a, n, c) || ff_merge(a, n, &t->side[g][s]))
					return -1;
				if (g == G_K8S && t->ns.n)
					ns_apply(f, n, &t->ns, s == 0);
				if (vec_push(a, &next, &n, sizeof(n)))
					return -1;
			}
		}
		cur = next;
	}
	for (size_t i = 0; i < cur.n; i++) {
		struct ff *c = ((struct ff **)cur.v)[i];
		if (t->dst_ns.n)
			ns_apply(f, c, &t->dst_ns, false);
		if (t->src_ns.n)
			ns_apply(f, c, &t->src_ns, true);
	}
	/* Drop duplicates (compare the JSON forms). */
	struct fe_buf b1 = { 0 }, b2 = { 0 };
	for (size_t i = 0; i < cur.n; i++) {
		struct ff *c = ((struct ff **)cur.v)[i];
		bool dup = false;
		b1.len = 0;
		if (ff_to_json(c, &b1))
			goto oom;
		for (size_t k = 0; k < out->n && !dup; k++) {
			b2.len = 0;
			if (ff_to_json(((struct ff **)out->v)[k], &b2))
				goto oom;
			dup = b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0;
		}
		if (!dup && vec_push(a, out, &c, sizeof(c)))
			goto oom;
	}
	fe_buf_free(&b1);
	fe_buf_free(&b2);
	return 0;
oom:
	fe_buf_free(&b1);
	fe_buf_free(&b2);
	return -1;
}

static int compile_list(const struct vec *list, struct cfilter ***out, const char *what,
                        char *err, size_t errlen)
{
	*out = calloc(list->n ? list->n : 1, sizeof(**out));
	if (!*out)
		return ferr(err, errlen, "out of memory");
	for (size_t i = 0; i < list->n; i++) {
		char sub[256];
		(*out)[i] = cfilter_compile(((struct ff **)list->v)[i], sub, sizeof(sub));
		if (!(*out)[i]) {
			if (list->n > 1)
				return ferr(err, errlen, "invalid %s filter %zu: %s", what, i + 1, sub);
			return ferr(err, errlen, "invalid %s filter: %s", what, sub);
		}
	}
	return 0;
}

int fe_filters_finish(struct fe_filters *f, char *err, size_t errlen)
{
	if (f->finished)
		return 0;
	if (f->not_pending)
		return ferr(err, errlen, "trailing --not found in the arguments");
	if (tracker_build(f, &f->allow_t, &f->allow) || tracker_build(f, &f->deny_t, &f->deny))
		return ferr(err, errlen, "out of memory");
	/* Raw filters come after the flag-built ones, as in Hubble. */
	for (size_t i = 0; i < f->raw_allow.n; i++)
		if (vec_push(&f->arena, &f->allow, &((struct ff **)f->raw_allow.v)[i], sizeof(struct ff *)))
			return ferr(err, errlen, "out of memory");
	for (size_t i = 0; i < f->raw_deny.n; i++)
		if (vec_push(&f->arena, &f->deny, &((struct ff **)f->raw_deny.v)[i], sizeof(struct ff *)))
			return ferr(err, errlen, "out of memory");
	f->finished = true;
	if (compile_list(&f->allow, &f->c_allow, "allowlist", err, errlen) ||
	    compile_list(&f->deny, &f->c_deny, "denylist", err, errlen))
		return -1;
	return 0;
}

size_t fe_filters_count(const struct fe_filters *f, bool deny)
{
	return deny ? f->deny.n : f->allow.n;
}

bool fe_filters_match_flow(const struct fe_filters *f, const struct flow_event *ev)
{
	if (f->allow.n) {
		bool any = false;
		for (size_t i = 0; i < f->allow.n && !any; i++)
			any = cfilter_match(f->c_allow[i], ev);
		if (!any)
			return false;
	}
	for (size_t i = 0; i < f->deny.n; i++)
		if (cfilter_match(f->c_deny[i], ev))
			return false;
	return true;
}

bool fe_filters_match(const struct fe_filters *f, const struct fe_record *rec)
{
	if (rec->kind != FE_REC_FLOW || !rec->flow)
		return true;  /* lost events bypass filters */
	return fe_filters_match_flow(f, rec->flow);
}

/* --- YAML and JSON of the whole set ------------------------------------------------- */

/* One YAML scalar the way go.yaml.in/yaml/v3 writes a JSON filter string
 * in a block sequence: single-quoted (the string starts with '{'), quotes
 * doubled, and folded at a space once the line passes 80 columns;
 * double-quoted when it holds a character YAML cannot print. */
static void yaml_scalar(struct jo *j, const char *s)
{
	bool printable = true;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			printable = false;
	if (!printable) {
		jraw(j, "\"");
		for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
			char tmp[8];
			if (*p == '"' || *p == '\\') {
				tmp[0] = '\\', tmp[1] = (char)*p, tmp[2] = 0;
			} else if (*p < 0x20 || *p == 0x7f) {
				snprintf(tmp, sizeof(tmp), "\\x%02X", *p);
			} else {
				tmp[0] = (char)*p, tmp[1] = 0;
			}
			jraw(j, tmp);
		}
		jraw(j, "\"");
		return;
	}
	size_t col = 6;  /* "    - " */
	bool prev_space = false;
	size_t len = strlen(s);
	jraw(j, "'");
	col++;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == ' ') {
			if (!prev_space && col > 80 && i > 0 && i < len - 1 && s[i + 1] != ' ') {
				jraw(j, "\n      ");
				col = 6;
			} else {
				jraw(j, " ");
				col++;
			}
			prev_space = true;
			continue;
		}
		prev_space = false;
		if (c == '\'') {
			jraw(j, "''");
			col += 2;
		} else {
			char tmp[2] = { c, 0 };
			jraw(j, tmp);
			/* columns count characters: skip UTF-8 continuation bytes */
			if (((unsigned char)c & 0xc0) != 0x80)
				col++;
		}
	}
	jraw(j, "'");
}

int fe_filters_to_yaml(const struct fe_filters *f, struct fe_buf *out)
{
	struct jo j = { out, false };
	struct fe_buf tmp = { 0 };
	if (!f->finished) {
		errno = EINVAL;
		return -1;
	}
	if (!f->allow.n && !f->deny.n) {
		jraw(&j, "{}\n");
		return j.oom ? -1 : 0;
	}
	for (int d = 0; d < 2; d++) {
		const struct vec *list = d ? &f->deny : &f->allow;
		if (!list->n)
			continue;
		jraw(&j, d ? "denylist:\n" : "allowlist:\n");
		for (size_t i = 0; i < list->n; i++) {
			tmp.len = 0;
			if (ff_to_json(((struct ff **)list->v)[i], &tmp)) {
				j.oom = true;
				break;
			}
			jraw(&j, "    - ");
			yaml_scalar(&j, tmp.data);
			jraw(&j, "\n");
		}
	}
	fe_buf_free(&tmp);
	return j.oom ? -1 : 0;
}

int fe_filters_to_json(const struct fe_filters *f, struct fe_buf *out)
{
	struct jo j = { out, false };
	bool first = true;
	if (!f->finished) {
		errno = EINVAL;
		return -1;
	}
	jraw(&j, "{");
	for (int d = 0; d < 2; d++) {
		const struct vec *list = d ? &f->deny : &f->allow;
		if (!list->n)
			continue;
		jkey(&j, &first, d ? "denylist" : "allowlist");
		jraw(&j, "[");
		for (size_t i = 0; i < list->n; i++) {
			if (i)
				jraw(&j, ",");
			if (!j.oom && ff_to_json(((struct ff **)list->v)[i], out))
				j.oom = true;
		}
		jraw(&j, "]");
	}
	jraw(&j, "}");
	return j.oom ? -1 : 0;
}

int fe_filters_from_json(struct fe_filters *f, const char *json, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(json, len, 0, &je);
	if (!root)
		return ferr(err, errlen, "invalid filter JSON at column %d: %s", je.column, je.text);
	int rc = 0;
	const char *k;
	json_t *v;
	if (!json_is_object(root)) {
		rc = ferr(err, errlen, "filters: expected a JSON object");
		goto out;
	}
	json_object_foreach(root, k, v) {
		bool deny;
		if (strcmp(k, "allowlist") == 0 || strcmp(k, "whitelist") == 0)
			deny = false;
		else if (strcmp(k, "denylist") == 0 || strcmp(k, "blacklist") == 0)
			deny = true;
		else {
			rc = ferr(err, errlen, "filters: unknown field \"%s\"", k);
			goto out;
		}
		if (json_is_null(v))
			continue;
		if (!json_is_array(v)) {
			rc = ferr(err, errlen, "filters: %s: expected an array", k);
			goto out;
		}
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *e = json_array_get(v, i);
			if (json_is_string(e)) {
				/* Hubble's exporter configs carry FlowFilters as JSON strings. */
				if ((rc = fe_filters_add_json(f, deny, json_string_value(e), err, errlen)))
					goto out;
				continue;
			}
			char sub[200];
			struct ff *ff = fa_alloc(&f->arena, sizeof(*ff));
			if (!ff || ff_from_json(&f->arena, e, ff, sub, sizeof(sub))) {
				rc = ff ? ferr(err, errlen, "filters: %s[%zu]: %s", k, i, sub)
				        : ferr(err, errlen, "out of memory");
				goto out;
			}
			if (vec_push(&f->arena, deny ? &f->raw_deny : &f->raw_allow, &ff, sizeof(ff))) {
				rc = ferr(err, errlen, "out of memory");
				goto out;
			}
		}
	}
out:
	json_decref(root);
	return rc;
}

/* --- help ----------------------------------------------------------------------------- */

const char fe_filters_help[] =
"FILTERS\n"
"    Values of the same flag are ORed, different flags are ANDed. Either-side\n"
"    flags (--ip, --port, --fqdn, --pod, --namespace, --service, --label,\n"
"    --identity, --workload, --cluster) match the source or the destination;\n"
"    each of them is its own condition, so --ip 10.0.0.5 --port 80 shows flows\n"
"    with 10.0.0.5 on either side AND port 80 on either side. --not negates\n"
"    only the next filter flag: the flow is hidden if it matches any negated\n"
"    filter. Lost-event records are never filtered.\n"
"\n"
"    --ip, --from-ip, --to-ip IP|CIDR   address or prefix (IPv4/IPv6)\n"
"    --snat-ip IP|CIDR                  post-SNAT source (IP.source_xlated)\n"
"    -4, --ipv4 / -6, --ipv6            only IPv4 / IPv6 flows\n"
"    --ip-version none|v4|v6\n"
"    --port, --from-port, --to-port N   TCP/UDP/SCTP port\n"
"    --protocol P                       tcp udp sctp icmp icmpv4 icmpv6 vrrp igmp dns http\n"
"                                       kafka (any case; tcp also matches HTTP over TCP)\n"
"    --tcp-flags F[,F...]               all listed flags set (syn ack fin rst psh urg ece\n"
"                                       cwr ns); repeat the flag for OR\n"
"    --verdict V                        FORWARDED DROPPED AUDIT REDIRECTED ERROR TRACED\n"
"                                       TRANSLATED (any case)\n"
"    --drop-reason-desc R               e.g. POLICY_DENIED\n"
"    -t, --type TYPE[:SUBTYPE]          trace, drop, l7, policy-verdict, capture,\n"
"                                       trace-sock or a number; trace sub-types\n"
"                                       from-network, to-network, to-endpoint, ...\n"
"                                       flowd's L3/L4 events are trace:from-network\n"
"                                       (ingress) and trace:to-network (egress), its\n"
"                                       L7 events are l7\n"
"    --traffic-direction ingress|egress\n"
"    --http-status CODE                 404, or a prefix: 5+, 40+ (responses only)\n"
"    --http-method M                    any case\n"
"    --http-path REGEX                  on the URL path\n"
"    --http-url REGEX                   on the full URL\n"
"    --http-header KEY:VALUE            exact header\n"
"    --dns-query PATTERN                DNS query name, a glob like --fqdn\n"
"                                       ('*.example.com'); flowd addition\n"
"    --fqdn, --from-fqdn, --to-fqdn PATTERN\n"
"                                       names of the address learnt from DNS answers;\n"
"                                       '*' matches any run of [-.0-9a-z]\n"
"    --interface NAME                   where the packet was seen\n"
"    --node-name PATTERN                [cluster/]node glob\n"
"    --uuid ID, --trace-id ID, --ip-trace-id N\n"
"    --label, --from-label, --to-label SELECTOR\n"
"                                       label selector (k=v, k!=v, k in (a,b), !k;\n"
"                                       source prefixes like k8s:app=x)\n"
"    -n, --namespace, --from-namespace, --to-namespace NS\n"
"    -A, --all-namespaces, --from-all-namespaces, --to-all-namespaces\n"
"    --pod, --from-pod, --to-pod [NS/]POD-PREFIX\n"
"    --service, --from-service, --to-service [NS/]NAME-PREFIX\n"
"    --identity, --from-identity, --to-identity N|NAME\n"
"    --workload, --from-workload, --to-workload [KIND/]NAME\n"
"    --cluster, --from-cluster, --to-cluster NAME\n"
"    --node-label SELECTOR\n"
"    --encrypted, --unencrypted\n"
"    --not                              negate the next filter flag\n"
"    --allowlist JSON, --denylist JSON  raw Hubble FlowFilters, e.g.\n"
"                                       '{\"source_ip\":[\"10.0.0.1\"],\"destination_port\":[\"80\"]}'\n"
"\n"
"    Regular expressions are POSIX extended (glibc) with RE2's \\d \\D \\s \\S \\w \\W,\n"
"    (?:...) and a leading (?i) understood; they match anywhere unless anchored.\n";

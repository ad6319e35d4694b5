/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NDJSON line -> struct fe_record, with jansson: reads our own output,
 * Hubble's `observe -o json` output and Hubble export files.
 *
 * Leniency follows protojson as Hubble's --input-file uses it: keys in
 * proto spelling ("node_name") or JSON spelling ("nodeName"), unknown keys
 * ignored, null = unset, integers as numbers or strings, enums by name or
 * number. Wrong types, out-of-range numbers, unknown enum names and bad
 * timestamps are errors with the field's path in the message.
 */
#include "flow_json.h"
#include "flow_names.h"
#include "flow_record.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dec {
	struct flow_event *ev;
	char *err;
	size_t errlen;
	bool failed;
	char path[160];     /* dotted path of the field being decoded */
};

static void fail(struct dec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct dec *d, const char *fmt, ...)
{
	if (d->failed)
		return;
	d->failed = true;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->path[0])
		snprintf(d->err, d->errlen, "%s: %s", d->path, msg);
	else
		snprintf(d->err, d->errlen, "%s", msg);
}

static void oom(struct dec *d)
{
	fail(d, "out of memory");
}

/* Enter/leave a path component for error messages. */
static size_t path_push(struct dec *d, const char *name)
{
	/* Called for every field: plain copies, no printf. */
	size_t len = strlen(d->path), n = strlen(name), at = len;
	if (at && at + 1 < sizeof(d->path))
		d->path[at++] = '.';
	if (at + n >= sizeof(d->path))
		n = sizeof(d->path) - 1 - at;
	memcpy(d->path + at, name, n);
	d->path[at + n] = '\0';
	return len;
}

static void path_pop(struct dec *d, size_t len)
{
	d->path[len] = '\0';
}

/* protojson accepts the proto name and the lowerCamelCase JSON name
 * ("source_port" / "sourcePort"). */
static bool key_is(const char *key, const char *proto)
{
	if (strcmp(key, proto) == 0)
		return true;
	const char *k = key, *p = proto;
	bool saw_underscore = false;
	while (*p) {
		if (*p == '_') {
			p++;
			saw_underscore = true;
			if (!*p || toupper((unsigned char)*p) != *k)
				return false;
		} else if (*p != *k) {
			return false;
		}
		p++;
		k++;
	}
	return saw_underscore && *k == '\0';
}

/* --- scalars --------------------------------------------------------------- */

static bool get_u64_range(struct dec *d, json_t *v, uint64_t max, uint64_t *out)
{
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (i < 0 || (uint64_t)i > max) {
			fail(d, "%" JSON_INTEGER_FORMAT " is out of range", i);
			return false;
		}
		*out = (uint64_t)i;
		return true;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		if (!isdigit((unsigned char)s[0])) {
			fail(d, "\"%.40s\" is not an unsigned integer", s);
			return false;
		}
		errno = 0;
		unsigned long long u = strtoull(s, &end, 10);
		if (*end || errno == ERANGE || u > max) {
			fail(d, "\"%.40s\" is not an unsigned integer in range", s);
			return false;
		}
		*out = u;
		return true;
	}
	if (json_is_real(v)) {
		double r = json_real_value(v);
		/* protojson accepts 1e3 style numbers with an integral value */
		if (r >= 0 && r <= (double)max && r == (double)(uint64_t)r) {
			*out = (uint64_t)r;
			return true;
		}
	}
	fail(d, "expected an unsigned integer");
	return false;
}

static void get_u32(struct dec *d, json_t *v, uint32_t *out)
{
	uint64_t u;
	if (get_u64_range(d, v, UINT32_MAX, &u))
		*out = (uint32_t)u;
}

static void get_u16(struct dec *d, json_t *v, uint16_t *out)
{
	uint64_t u;
	if (get_u64_range(d, v, UINT16_MAX, &u))
		*out = (uint16_t)u;
}

static void get_u64(struct dec *d, json_t *v, uint64_t *out)
{
	get_u64_range(d, v, UINT64_MAX, out);
}

static void get_i32(struct dec *d, json_t *v, int32_t *out)
{
	long long i;
	if (json_is_integer(v)) {
		i = json_integer_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		errno = 0;
		i = strtoll(s, &end, 10);
		if (!*s || *end || errno == ERANGE) {
			fail(d, "\"%.40s\" is not an integer", s);
			return;
		}
	} else {
		fail(d, "expected an integer");
		return;
	}
	if (i < INT32_MIN || i > INT32_MAX) {
		fail(d, "%lld is out of range", i);
		return;
	}
	*out = (int32_t)i;
}

static void get_bool(struct dec *d, json_t *v, bool *out)
{
	if (!json_is_boolean(v)) {
		fail(d, "expected true or false");
		return;
	}
	*out = json_is_true(v);
}

/* A string into the event's arena; NUL bytes end it. */
static void get_str(struct dec *d, json_t *v, const char **out)
{
	if (!json_is_string(v)) {
		fail(d, "expected a string");
		return;
	}
	const char *s = fe_strdup(d->ev, json_string_value(v));
	if (!s)
		oom(d);
	*out = s;
}

static void get_strbuf(struct dec *d, json_t *v, char *buf, size_t size)
{
	if (!json_is_string(v)) {
		fail(d, "expected a string");
		return;
	}
	const char *s = json_string_value(v);
	size_t n = strlen(s);
	if (n >= size) {
		fail(d, "\"%.40s\" is too long (at most %zu bytes)", s, size - 1);
		return;
	}
	memcpy(buf, s, n + 1);
}

static void get_strv(struct dec *d, json_t *v, const char ***out, size_t *n_out)
{
	if (!json_is_array(v)) {
		fail(d, "expected an array of strings");
		return;
	}
	size_t n = json_array_size(v);
	if (n == 0)
		return;
	const char **arr = fe_alloc(d->ev, n * sizeof(*arr));
	if (!arr) {
		oom(d);
		return;
	}
	for (size_t i = 0; i < n && !d->failed; i++) {
		char idx[24];
		snprintf(idx, sizeof(idx), "%zu", i);
		size_t pl = path_push(d, idx);
		get_str(d, json_array_get(v, i), &arr[i]);
		path_pop(d, pl);
	}
	*out = arr;
	*n_out = n;
}

static void get_enum(struct dec *d, json_t *v, const struct fe_enum *e, uint32_t *out)
{
	if (json_is_string(v)) {
		if (fe_enum_value(e, json_string_value(v), false, out))
			fail(d, "invalid value \"%.40s\" for enum %s", json_string_value(v), e->type_name);
		return;
	}
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (i < 0 || i > INT32_MAX) {
			fail(d, "invalid value %" JSON_INTEGER_FORMAT " for enum %s", i, e->type_name);
			return;
		}
		*out = (uint32_t)i;
		return;
	}
	fail(d, "expected an enum name or number");
}

static int parse_digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int64_t days_from_civil(int y, unsigned m, unsigned dd)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + dd - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* RFC 3339 (what protojson accepts for a Timestamp): date, 'T', time,
 * optional 1-9 fraction digits, 'Z' or a +hh:mm/-hh:mm offset. */
static void get_time(struct dec *d, json_t *v, uint64_t *out)
{
	if (!json_is_string(v)) {
		fail(d, "expected an RFC 3339 timestamp string");
		return;
	}
	const char *s = json_string_value(v), *p = s;
	int y, mo, dd, h, mi, sec, oh = 0, om = 0, sign = 0;
	uint32_t nanos = 0;
	if (parse_digits(&p, 4, &y) || *p++ != '-' || parse_digits(&p, 2, &mo) || *p++ != '-' ||
	    parse_digits(&p, 2, &dd) || (*p != 'T' && *p != 't') || !*p++ ||
	    parse_digits(&p, 2, &h) || *p++ != ':' || parse_digits(&p, 2, &mi) || *p++ != ':' ||
	    parse_digits(&p, 2, &sec))
		goto bad;
	if (*p == '.') {
		int n = 0;
		p++;
		while (isdigit((unsigned char)*p)) {
			if (n == 9)
				goto bad;
			nanos = nanos * 10 + (uint32_t)(*p++ - '0');
			n++;
		}
		if (n == 0)
			goto bad;
		for (; n < 9; n++)
			nanos *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (parse_digits(&p, 2, &oh) || *p++ != ':' || parse_digits(&p, 2, &om))
			goto bad;
	} else {
		goto bad;
	}
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (*p || mo < 1 || mo > 12 || dd < 1 || dd > mdays[mo - 1] || (mo == 2 && dd == 29 && !leap) ||
	    h > 23 || mi > 59 || sec > 59 || oh > 23 || om > 59)
		goto bad;
	int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)dd) * 86400 + h * 3600 + mi * 60 + sec;
	secs -= sign * (oh * 3600 + om * 60);
	if (secs < 0) {
		fail(d, "\"%.40s\" is before 1970, not supported", s);
		return;
	}
	if ((uint64_t)secs > (UINT64_MAX - nanos) / 1000000000u) {
		fail(d, "\"%.40s\" is out of range", s);
		return;
	}
	*out = (uint64_t)secs * 1000000000u + nanos;
	return;
bad:
	fail(d, "\"%.40s\" is not an RFC 3339 timestamp", s);
}

/* Iterate over the keys of an object at `name` (null = unset). */
#define FOR_KEYS(d, obj, key, val)                                                 \
	const char *key;                                                           \
	json_t *val;                                                               \
	json_object_foreach((obj), key, val) if (!json_is_null(val) && !(d)->failed)

static bool want_object(struct dec *d, json_t *v)
{
	if (json_is_object(v))
		return true;
	fail(d, "expected an object");
	return false;
}

/* Decode field `key` with the expression `stmt`, with `key` on the path. */
#define FIELD(d, key, stmt)                                                        \
	do {                                                                       \
		size_t pl_ = path_push((d), (key));                                \
		stmt;                                                              \
		path_pop((d), pl_);                                                \
	} while (0)

/* --- messages ----------------------------------------------------------------- */

static void dec_endpoint(struct dec *d, json_t *o, struct fe_endpoint *e)
{
	if (!want_object(d, o))
		return;
	FOR_KEYS(d, o, k, v) {
		if (key_is(k, "ID"))
			FIELD(d, k, get_u32(d, v, &e->id));
		else if (key_is(k, "identity"))
			FIELD(d, k, get_u32(d, v, &e->identity));
		else if (key_is(k, "cluster_name"))
			FIELD(d, k, get_str(d, v, &e->cluster_name));
		else if (key_is(k, "namespace"))
			FIELD(d, k, get_str(d, v, &e->namespace_));
		else if (key_is(k, "labels"))
			FIELD(d, k, get_strv(d, v, &e->labels, &e->n_labels));
		else if (key_is(k, "pod_name"))
			FIELD(d, k, get_str(d, v, &e->pod_name));
		else if (key_is(k, "workloads")) {
			size_t pl = path_push(d, k);
			if (!json_is_array(v)) {
				fail(d, "expected an array");
			} else if (json_array_size(v)) {
				size_t n = json_array_size(v);
				e->workloads = fe_alloc(d->ev, n * sizeof(*e->workloads));
				if (!e->workloads) {
					oom(d);
				} else {
					e->n_workloads = n;
					for (size_t i = 0; i < n && !d->failed; i++) {
						json_t *w = json_array_get(v, i);
						if (!want_object(d, w))
							break;
						FOR_KEYS(d, w, wk, wv) {
							if (key_is(wk, "name"))
								FIELD(d, wk, get_str(d, wv, &e->workloads[i].name));
							else if (key_is(wk, "kind"))
								FIELD(d, wk, get_str(d, wv, &e->workloads[i].kind));
						}
					}
				}
			}
			path_pop(d, pl);
		}
	}
}

static void dec_service(struct dec *d, json_t *o, struct fe_service *s)
{
	if (!want_object(d, o))
		return;
	FOR_KEYS(d, o, k, v) {
		if (key_is(k, "name"))
			FIELD(d, k, get_str(d, v, &s->name));
		else if (key_is(k, "namespace"))
			FIELD(d, k, get_str(d, v, &s->namespace_));
	}
}

static void dec_ports(struct dec *d, json_t *o, struct flow_event *ev)
{
	FOR_KEYS(d, o, k, v) {
		if (key_is(k, "source_port"))
			FIELD(d, k, get_u16(d, v, &ev->sport));
		else if (key_is(k, "destination_port"))
			FIELD(d, k, get_u16(d, v, &ev->dport));
	}
}

static void dec_tcp_flags(struct dec *d, json_t *o, uint16_t *flags)
{
	static const struct { const char *name; uint16_t bit; } names[] = {
		{ "FIN", FLOW_TCP_FIN }, { "SYN", FLOW_TCP_SYN }, { "RST", FLOW_TCP_RST },
		{ "PSH", FLOW_TCP_PSH }, { "ACK", FLOW_TCP_ACK }, { "URG", FLOW_TCP_URG },
		{ "ECE", FLOW_TCP_ECE }, { "CWR", FLOW_TCP_CWR }, { "NS", FLOW_TCP_NS },
	};
	if (!want_object(d, o))
		return;
	FOR_KEYS(d, o, k, v) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if (strcmp(k, names[i].name) != 0)
				continue;
			bool b = false;
			FIELD(d, k, get_bool(d, v, &b));
			if (b)
				*flags |= names[i].bit;
			else
				*flags &= (uint16_t)~names[i].bit;
		}
	}
}

static void dec_l4(struct dec *d, json_t *o, struct flow_event *ev)
{
	if (!want_object(d, o))
		return;
	FOR_KEYS(d, o, k, v) {
		enum fe_l4_kind kind;
		if (strcmp(k, "TCP") == 0)
			kind = FE_L4_TCP;
		else if (strcmp(k, "UDP") == 0)
			kind = FE_L4_UDP;
		else if (strcmp(k, "ICMPv4") == 0)
			kind = FE_L4_ICMPV4;
		else if (strcmp(k, "ICMPv6") == 0)
			kind = FE_L4_ICMPV6;
		else if (strcmp(k, "SCTP") == 0)
			kind = FE_L4_SCTP;
		else
			continue;  /* VRRP, IGMP: not modelled */
		size_t pl = path_push(d, k);
		if (ev->l4 != FE_L4_NONE)
			fail(d, "more than one member of the l4 oneof is set");
		else if (want_object(d, v)) {
			ev->l4 = kind;
			if (kind == FE_L4_ICMPV4 || kind == FE_L4_ICMPV6) {
				FOR_KEYS(d, v, ik, iv) {
					if (key_is(ik, "type"))
						FIELD(d, ik, get_u32(d, iv, &ev->icmp_type));
					else if (key_is(ik, "code"))
						FIELD(d, ik, get_u32(d, iv, &ev->icmp_code));
				}
			} else {
				dec_ports(d, v, ev);
				json_t *f = json_object_get(v, "flags");
				if (kind == FE_L4_TCP && f && !json_is_null(f))
					FIELD(d, "flags", dec_tcp_flags(d, f, &ev->tcp_flags));
			}
		}
		path_pop(d, pl);
	}
}

static void dec_http(struct dec *d, json_t *o, struct fe_http *h)
{
	if (!want_object(d, o))
		return;
	FOR_KEYS(d, o, k, v) {
		if (key_is(k, "code"))
			FIELD(d, k, get_u32(d, v, &h->code));
		else if (key_is(k, "method"))
			FIELD(d, k, get_str(d, v, &h->method));
		else if (key_is(k, "url"))
			FIELD(d, k, get_str(d, v, &h->url));
		else if (key_is(k, "protocol"))
			FIELD(d, k, get_str(d, v, &h->protocol));
		else if (key_is(k, "headers")) {
			size_t pl = path_push(d, k);
			size_t n = json_is_array(v) ? json_array_size(v) : 0;
			if (!json_is_array(v))
				fail(d, "expected an array");
			else if (n) {
				h->headers = fe_alloc(d->ev, n * sizeof(*h->headers));
				if (!h->headers)
					oom(d);
				else
					h->n_headers = n;
				for (size_t i = 0; i < n && !d->failed; i++) {
					json_t *hv = json_array_get(v, i);
					if (!want_object(d, hv))
						break;
					FOR_KEYS(d, hv, hk, hvv) {
						if (key_is(hk, "key"))
							FIELD(d, hk, get_str(d, hvv, &h->headers[i].key));
						else if (key_is(hk, "value"))
							FIELD(d, hk, get_str(d, hvv, &h->headers[i].value));
					}
				}
			}
			path_pop(d, pl);
		}
	}
}

static void dec_dns(struct dec *d, json_t *o, struct fe_dns *n)
{
	if (!want_object(d, o))
		return;
	FOR_KEYS(d, o, k, v) {
		if (key_is(k, "query"))
			FIELD(d, k, get_str(d, v, &n->query));
		else if (key_is(k, "ips"))
			FIELD(d, k, get_strv(d, v, &n->ips, &n->n_ips));
		else if (key_is(k, "ttl"))
			FIELD(d, k, get_u32(d, v, &n->ttl));
		else if (key_is(k, "cnames"))
			FIELD(d, k, get_strv(d, v, &n->cnames, &n->n_cnames));
		else if (key_is(k, "observation_source"))
			FIELD(d, k, get_str(d, v, &n->observation_source));
		else if (key_is(k, "rcode"))
			FIELD(d, k, get_u32(d, v, &n->rcode));
		else if (key_is(k, "qtypes"))
			FIELD(d, k, get_strv(d, v, &n->qtypes, &n->n_qtypes));
		else if (key_is(k, "rrtypes"))
			FIELD(d, k, get_strv(d, v, &n->rrtypes, &n->n_rrtypes));
	}
}

static void dec_kafka(struct dec *d, json_t *o, struct fe_kafka *kf)
{
	if (!want_object(d, o))
		return;
	FOR_KEYS(d, o, k, v) {
		if (key_is(k, "error_code"))
			FIELD(d, k, get_i32(d, v, &kf->error_code));
		else if (key_is(k, "api_version"))
			FIELD(d, k, get_i32(d, v, &kf->api_version));
		else if (key_is(k, "api_key"))
			FIELD(d, k, get_str(d, v, &kf->api_key));
		else if (key_is(k, "correlation_id"))
			FIELD(d, k, get_i32(d, v, &kf->correlation_id));
		else if (key_is(k, "topic"))
			FIELD(d, k, get_str(d, v, &kf->topic));
	}
}

static void dec_l7(struct dec *d, json_t *o, struct fe_l7 *l7)
{
	if (!want_object(d, o))
		return;
	FOR_KEYS(d, o, k, v) {
		uint32_t u = 0;
		enum fe_l7_kind kind = FE_L7K_NONE;
		if (key_is(k, "type")) {
			FIELD(d, k, get_enum(d, v, &fe_enum_l7_type, &u));
			l7->type = (enum fe_l7_type)u;
			continue;
		}
		if (key_is(k, "latency_ns")) {
			FIELD(d, k, get_u64(d, v, &l7->latency_ns));
			continue;
		}
		if (strcmp(k, "dns") == 0)
			kind = FE_L7K_DNS;
		else if (strcmp(k, "http") == 0)
			kind = FE_L7K_HTTP;
		else if (strcmp(k, "kafka") == 0)
			kind = FE_L7K_KAFKA;
		else
			continue;
		size_t pl = path_push(d, k);
		if (l7->kind != FE_L7K_NONE) {
			fail(d, "more than one member of the l7 record oneof is set");
		} else {
			l7->kind = kind;
			if (kind == FE_L7K_DNS)
				dec_dns(d, v, &l7->dns);
			else if (kind == FE_L7K_HTTP)
				dec_http(d, v, &l7->http);
			else
				dec_kafka(d, v, &l7->kafka);
		}
		path_pop(d, pl);
	}
}

static void dec_policies(struct dec *d, json_t *v, struct fe_policy **out, size_t *n_out)
{
	if (!json_is_array(v)) {
		fail(d, "expected an array");
		return;
	}
	size_t n = json_array_size(v);
	if (!n)
		return;
	struct fe_policy *p = fe_alloc(d->ev, n * sizeof(*p));
	if (!p) {
		oom(d);
		return;
	}
	*out = p;
	*n_out = n;
	for (size_t i = 0; i < n && !d->failed; i++) {
		json_t *o = json_array_get(v, i);
		if (!want_object(d, o))
			return;
		FOR_KEYS(d, o, k, pv) {
			if (key_is(k, "name"))
				FIELD(d, k, get_str(d, pv, &p[i].name));
			else if (key_is(k, "namespace"))
				FIELD(d, k, get_str(d, pv, &p[i].namespace_));
			else if (key_is(k, "labels"))
				FIELD(d, k, get_strv(d, pv, &p[i].labels, &p[i].n_labels));
			else if (key_is(k, "revision"))
				FIELD(d, k, get_u64(d, pv, &p[i].revision));
			else if (key_is(k, "kind"))
				FIELD(d, k, get_str(d, pv, &p[i].kind));
		}
	}
}

static void dec_flow_stats(struct dec *d, json_t *o, struct fe_flow_stats *st)
{
	if (!want_object(d, o))
		return;
	/* An object with no event is still a stats object. */
	st->event = FE_STATS_UPDATE;
	FOR_KEYS(d, o, k, v) {
		if (key_is(k, "event")) {
			size_t pl = path_push(d, k);
			const char *s = json_string_value(v);
			if (s && strcmp(s, "start") == 0)
				st->event = FE_STATS_START;
			else if (s && strcmp(s, "update") == 0)
				st->event = FE_STATS_UPDATE;
			else if (s && strcmp(s, "end") == 0)
				st->event = FE_STATS_END;
			else
				fail(d, "expected \"start\", \"update\" or \"end\"");
			path_pop(d, pl);
		} else if (key_is(k, "packets"))
			FIELD(d, k, get_u64(d, v, &st->packets));
		else if (key_is(k, "bytes"))
			FIELD(d, k, get_u64(d, v, &st->bytes));
		else if (key_is(k, "first_seen"))
			FIELD(d, k, get_time(d, v, &st->first_seen_ns));
		else if (key_is(k, "last_seen"))
			FIELD(d, k, get_time(d, v, &st->last_seen_ns));
	}
}

/* An extension object kept as compact JSON text (key order preserved). */
static void dec_raw_object(struct dec *d, json_t *v, const char **out)
{
	if (!want_object(d, v))
		return;
	char *txt = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!txt || !(*out = fe_strdup(d->ev, txt)))
		oom(d);
	free(txt);
}

static void dec_l7_info(struct dec *d, json_t *o, struct fe_l7_info *li)
{
	if (!want_object(d, o))
		return;
	FOR_KEYS(d, o, k, v) {
		if (key_is(k, "gap_bytes"))
			FIELD(d, k, get_u64(d, v, &li->gap_bytes));
		else if (key_is(k, "messages"))
			FIELD(d, k, get_u32(d, v, &li->messages));
		else if (key_is(k, "unknown_headers"))
			FIELD(d, k, get_u32(d, v, &li->unknown_headers));
		else if (key_is(k, "truncated"))
			FIELD(d, k, get_bool(d, v, &li->truncated));
	}
}

/* Two-string sub-objects: ethernet, emitter, file(name), interface(name). */
static void dec_flow(struct dec *d, json_t *o)
{
	struct flow_event *ev = d->ev;
	if (!want_object(d, o))
		return;
	FOR_KEYS(d, o, k, v) {
		uint32_t u = 0;
		size_t pl = path_push(d, k);
		if (key_is(k, "time")) {
			get_time(d, v, &ev->time_ns);
		} else if (key_is(k, "uuid")) {
			get_strbuf(d, v, ev->uuid, sizeof(ev->uuid));
		} else if (key_is(k, "emitter")) {
			if (want_object(d, v)) {
				FOR_KEYS(d, v, ek, evv) {
					if (key_is(ek, "name"))
						FIELD(d, ek, get_str(d, evv, &ev->emitter_name));
					else if (key_is(ek, "version"))
						FIELD(d, ek, get_str(d, evv, &ev->emitter_version));
				}
			}
		} else if (key_is(k, "verdict")) {
			get_enum(d, v, &fe_enum_verdict, &u);
			ev->verdict = (enum fe_verdict)u;
		} else if (key_is(k, "drop_reason")) {
			get_u32(d, v, &ev->drop_reason);
		} else if (key_is(k, "auth_type")) {
			get_enum(d, v, &fe_enum_auth_type, &ev->auth_type);
		} else if (key_is(k, "ethernet")) {
			if (want_object(d, v)) {
				ev->has_ethernet = true;
				FOR_KEYS(d, v, ek, evv) {
					if (key_is(ek, "source"))
						FIELD(d, ek, get_strbuf(d, evv, ev->eth_src, sizeof(ev->eth_src)));
					else if (key_is(ek, "destination"))
						FIELD(d, ek, get_strbuf(d, evv, ev->eth_dst, sizeof(ev->eth_dst)));
				}
			}
		} else if (strcmp(k, "IP") == 0) {
			if (want_object(d, v)) {
				ev->has_ip = true;
				FOR_KEYS(d, v, ik, iv) {
					if (key_is(ik, "source"))
						FIELD(d, ik, get_strbuf(d, iv, ev->ip_src, sizeof(ev->ip_src)));
					else if (key_is(ik, "source_xlated"))
						FIELD(d, ik, get_strbuf(d, iv, ev->ip_src_xlated, sizeof(ev->ip_src_xlated)));
					else if (key_is(ik, "destination"))
						FIELD(d, ik, get_strbuf(d, iv, ev->ip_dst, sizeof(ev->ip_dst)));
					else if (strcmp(ik, "ipVersion") == 0) {
						uint32_t iu = 0;
						FIELD(d, ik, get_enum(d, iv, &fe_enum_ip_version, &iu));
						ev->ip_version = (enum fe_ip_version)iu;
					} else if (key_is(ik, "encrypted"))
						FIELD(d, ik, get_bool(d, iv, &ev->encrypted));
				}
			}
		} else if (key_is(k, "l4")) {
			dec_l4(d, v, ev);
		} else if (key_is(k, "source")) {
			dec_endpoint(d, v, &ev->source);
		} else if (key_is(k, "destination")) {
			dec_endpoint(d, v, &ev->destination);
		} else if (strcmp(k, "Type") == 0) {
			get_enum(d, v, &fe_enum_flow_type, &u);
			ev->type = (enum fe_flow_type)u;
		} else if (key_is(k, "node_name")) {
			get_str(d, v, &ev->node_name);
		} else if (key_is(k, "node_labels")) {
			get_strv(d, v, &ev->node_labels, &ev->n_node_labels);
		} else if (key_is(k, "source_names")) {
			get_strv(d, v, &ev->source_names, &ev->n_source_names);
		} else if (key_is(k, "destination_names")) {
			get_strv(d, v, &ev->destination_names, &ev->n_destination_names);
		} else if (key_is(k, "l7")) {
			dec_l7(d, v, &ev->l7);
		} else if (key_is(k, "reply")) {
			get_bool(d, v, &ev->reply);
		} else if (key_is(k, "event_type")) {
			if (want_object(d, v)) {
				FOR_KEYS(d, v, ek, evv) {
					int32_t i = 0;
					if (key_is(ek, "type")) {
						FIELD(d, ek, get_i32(d, evv, &i));
						ev->event_type = (uint32_t)i;
					} else if (key_is(ek, "sub_type")) {
						FIELD(d, ek, get_i32(d, evv, &i));
						ev->event_sub_type = (uint32_t)i;
					}
				}
			}
		} else if (key_is(k, "source_service")) {
			dec_service(d, v, &ev->source_service);
		} else if (key_is(k, "destination_service")) {
			dec_service(d, v, &ev->destination_service);
		} else if (key_is(k, "traffic_direction")) {
			get_enum(d, v, &fe_enum_traffic_direction, &u);
			ev->traffic_direction = (enum fe_traffic_direction)u;
		} else if (key_is(k, "policy_match_type")) {
			get_u32(d, v, &ev->policy_match_type);
		} else if (key_is(k, "trace_observation_point")) {
			get_enum(d, v, &fe_enum_trace_point, &ev->trace_observation_point);
		} else if (key_is(k, "trace_reason")) {
			get_enum(d, v, &fe_enum_trace_reason, &ev->trace_reason);
		} else if (key_is(k, "file")) {
			if (want_object(d, v)) {
				FOR_KEYS(d, v, fk, fv) {
					if (key_is(fk, "name"))
						FIELD(d, fk, get_str(d, fv, &ev->file_name));
					else if (key_is(fk, "line"))
						FIELD(d, fk, get_u32(d, fv, &ev->file_line));
				}
			}
		} else if (key_is(k, "ip_trace_id")) {
			if (want_object(d, v)) {
				FOR_KEYS(d, v, tk, tv) {
					if (key_is(tk, "trace_id"))
						FIELD(d, tk, get_u64(d, tv, &ev->ip_trace_id));
					else if (key_is(tk, "ip_option_type"))
						FIELD(d, tk, get_u32(d, tv, &ev->ip_option_type));
				}
			}
		} else if (key_is(k, "drop_reason_desc")) {
			get_enum(d, v, &fe_enum_drop_reason, &ev->drop_reason_desc);
		} else if (key_is(k, "is_reply")) {
			bool b = false;
			get_bool(d, v, &b);
			ev->is_reply = b ? 1 : 0;
		} else if (key_is(k, "debug_capture_point")) {
			get_enum(d, v, &fe_enum_debug_capture, &ev->debug_capture_point);
		} else if (key_is(k, "interface")) {
			if (want_object(d, v)) {
				FOR_KEYS(d, v, ik, iv) {
					if (key_is(ik, "index"))
						FIELD(d, ik, get_u32(d, iv, &ev->ifindex));
					else if (key_is(ik, "name"))
						FIELD(d, ik, get_str(d, iv, &ev->ifname));
				}
			}
		} else if (key_is(k, "proxy_port")) {
			get_u32(d, v, &ev->proxy_port);
		} else if (key_is(k, "trace_context")) {
			if (want_object(d, v)) {
				json_t *par = json_object_get(v, "parent");
				if (par && !json_is_null(par)) {
					size_t pl2 = path_push(d, "parent");
					if (want_object(d, par)) {
						FOR_KEYS(d, par, tk, tv) {
							if (key_is(tk, "trace_id"))
								FIELD(d, tk, get_str(d, tv, &ev->trace_parent_id));
						}
					}
					path_pop(d, pl2);
				}
			}
		} else if (key_is(k, "sock_xlate_point")) {
			get_enum(d, v, &fe_enum_sock_xlate, &ev->sock_xlate_point);
		} else if (key_is(k, "socket_cookie")) {
			get_u64(d, v, &ev->socket_cookie);
		} else if (key_is(k, "cgroup_id")) {
			get_u64(d, v, &ev->cgroup_id);
		} else if (strcmp(k, "Summary") == 0) {
			get_str(d, v, &ev->summary);
		} else if (key_is(k, "egress_allowed_by")) {
			dec_policies(d, v, &ev->egress_allowed_by, &ev->n_egress_allowed_by);
		} else if (key_is(k, "ingress_allowed_by")) {
			dec_policies(d, v, &ev->ingress_allowed_by, &ev->n_ingress_allowed_by);
		} else if (key_is(k, "egress_denied_by")) {
			dec_policies(d, v, &ev->egress_denied_by, &ev->n_egress_denied_by);
		} else if (key_is(k, "ingress_denied_by")) {
			dec_policies(d, v, &ev->ingress_denied_by, &ev->n_ingress_denied_by);
		} else if (key_is(k, "policy_log")) {
			get_strv(d, v, &ev->policy_log, &ev->n_policy_log);
		} else if (key_is(k, "flow_stats")) {
			dec_flow_stats(d, v, &ev->stats);
		} else if (key_is(k, "l7_info")) {
			dec_l7_info(d, v, &ev->l7_info);
		} else if (key_is(k, "conntrack")) {
			dec_raw_object(d, v, &ev->conntrack_json);
		}
		path_pop(d, pl);
	}
}

static void dec_lost(struct dec *d, json_t *o, struct fe_lost_event *l)
{
	if (!want_object(d, o))
		return;
	l->cpu = -1;
	FOR_KEYS(d, o, k, v) {
		uint32_t u = 0;
		if (key_is(k, "source")) {
			FIELD(d, k, get_enum(d, v, &fe_enum_lost_source, &u));
			l->source = (enum fe_lost_source)u;
		} else if (key_is(k, "num_events_lost")) {
			FIELD(d, k, get_u64(d, v, &l->num_events_lost));
		} else if (key_is(k, "cpu")) {
			int32_t cpu = 0;
			FIELD(d, k, get_i32(d, v, &cpu));
			l->cpu = cpu < 0 ? -1 : cpu;
		} else if (key_is(k, "first")) {
			FIELD(d, k, get_time(d, v, &l->first_ns));
		} else if (key_is(k, "last")) {
			FIELD(d, k, get_time(d, v, &l->last_ns));
		}
	}
}

int fe_json_decode(const char *line, size_t len, struct fe_decoded *out, char *err, size_t errlen)
{
	char dummy[1];
	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	memset(out, 0, sizeof(*out));
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;

	json_error_t jerr;
	json_t *root = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
	if (!root) {
		snprintf(err, errlen, "invalid JSON at column %d: %s", jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "expected a JSON object");
		json_decref(root);
		return -1;
	}
	struct dec d = { .err = err, .errlen = errlen };
	d.ev = flow_event_new();
	if (!d.ev) {
		snprintf(err, errlen, "out of memory");
		json_decref(root);
		return -1;
	}
	out->ev = d.ev;

	json_t *flow = json_object_get(root, "flow");
	json_t *lost = json_object_get(root, "lost_events");
	if (!lost)
		lost = json_object_get(root, "lostEvents");
	const char *other[] = { "node_status", "nodeStatus", "agent_event", "agentEvent",
	                        "debug_event", "debugEvent" };
	bool is_other = false;
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (json_object_get(root, other[i]))
			is_other = true;

	uint64_t wrap_time = 0;
	const char *wrap_node = NULL;
	int rc = 0;
	if (flow && lost) {
		fail(&d, "both \"flow\" and \"lost_events\" are set");
	} else if (flow || lost || is_other) {
		/* The wrapper: GetFlowsResponse / ExportEvent. */
		FOR_KEYS(&d, root, k, v) {
			if (key_is(k, "node_name"))
				FIELD(&d, k, get_str(&d, v, &wrap_node));
			else if (key_is(k, "time"))
				FIELD(&d, k, get_time(&d, v, &wrap_time));
		}
		if (flow) {
			size_t pl = path_push(&d, "flow");
			dec_flow(&d, flow);
			path_pop(&d, pl);
			out->rec.kind = FE_REC_FLOW;
			/* The flow's own time/node_name, or the wrapper's when a
			 * field mask removed them. */
			if (!d.ev->time_ns)
				d.ev->time_ns = wrap_time;
			if (!d.ev->node_name || !d.ev->node_name[0])
				d.ev->node_name = wrap_node;
		} else if (lost) {
			size_t pl = path_push(&d, "lost_events");
			dec_lost(&d, lost, &out->rec.lost);
			path_pop(&d, pl);
			out->rec.kind = FE_REC_LOST;
			out->rec.node_name = wrap_node;
			out->rec.time_ns = wrap_time;
		} else {
			rc = 1;
		}
	} else {
		/* A bare Flow: Hubble's legacy JSON output. */
		dec_flow(&d, root);
		out->rec.kind = FE_REC_FLOW;
	}
	json_decref(root);
	if (d.failed || rc == 1) {
		fe_decoded_clear(out);
		return d.failed ? -1 : 1;
	}
	if (out->rec.kind == FE_REC_FLOW)
		out->rec.flow = d.ev;
	return rc;
}

void fe_decoded_clear(struct fe_decoded *d)
{
	flow_event_free(d->ev);
	memset(d, 0, sizeof(*d));
}

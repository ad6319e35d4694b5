/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Internal to lib/filter*.c: Hubble's FlowFilter message as a C struct,
 * the arena its values live in, and the compiled matcher.
 */
#ifndef FLOWD_FILTER_INT_H
#define FLOWD_FILTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filter.h"

/* --- arena: every value of a filter set, freed at once ---------------------- */

struct fa_chunk;
struct farena {
	struct fa_chunk *head;
};
void *fa_alloc(struct farena *a, size_t size);             /* zeroed; NULL on OOM */
char *fa_strdup(struct farena *a, const char *s);
char *fa_strndup(struct farena *a, const char *s, size_t n);
void fa_free(struct farena *a);

/* A growable array in the arena; grows by copying (the old block stays in
 * the arena: vectors are tiny). */
struct vec {
	void *v;
	size_t n, cap;
};
int vec_push(struct farena *a, struct vec *v, const void *elem, size_t size);
int vec_copy(struct farena *a, struct vec *dst, const struct vec *src, size_t size);

/* Element types of FlowFilter's repeated fields. */
struct ff_workload { const char *name, *kind; };
struct ff_iface { uint32_t index; const char *name; };
struct ff_evtype { int32_t type; bool match_sub_type; int32_t sub_type; };
struct ff_header { const char *key, *value; };

enum ff_type {
	FT_STR,       /* const char * */
	FT_U32,       /* uint32_t, JSON number */
	FT_U64,       /* uint64_t, JSON string */
	FT_BOOL,      /* bool */
	FT_ENUM,      /* uint32_t, JSON enum name */
	FT_WORKLOAD,  /* struct ff_workload */
	FT_IFACE,     /* struct ff_iface */
	FT_EVTYPE,    /* struct ff_evtype */
	FT_HEADER,    /* struct ff_header */
	FT_TCPFLAGS,  /* uint16_t, enum flow_tcp_flag bits */
	FT_CEL,       /* const char *, under "experimental" */
};

/* FlowFilter fields in flow.proto declaration order (= JSON order). */
#define FF_FIELDS(X)                                                           \
	X(uuid, FT_STR, NULL)                                                  \
	X(source_ip, FT_STR, NULL)                                             \
	X(source_ip_xlated, FT_STR, NULL)                                      \
	X(source_pod, FT_STR, NULL)                                            \
	X(source_fqdn, FT_STR, NULL)                                           \
	X(source_label, FT_STR, NULL)                                          \
	X(source_service, FT_STR, NULL)                                        \
	X(source_workload, FT_WORKLOAD, NULL)                                  \
	X(source_cluster_name, FT_STR, NULL)                                   \
	X(destination_ip, FT_STR, NULL)                                        \
	X(destination_pod, FT_STR, NULL)                                       \
	X(destination_fqdn, FT_STR, NULL)                                      \
	X(destination_label, FT_STR, NULL)                                     \
	X(destination_service, FT_STR, NULL)                                   \
	X(destination_workload, FT_WORKLOAD, NULL)                             \
	X(destination_cluster_name, FT_STR, NULL)                              \
	X(traffic_direction, FT_ENUM, &fe_enum_traffic_direction)              \
	X(verdict, FT_ENUM, &fe_enum_verdict)                                  \
	X(drop_reason_desc, FT_ENUM, &fe_enum_drop_reason)                     \
	X(interface, FT_IFACE, NULL)                                           \
	X(event_type, FT_EVTYPE, NULL)                                         \
	X(http_status_code, FT_STR, NULL)                                      \
	X(protocol, FT_STR, NULL)                                              \
	X(source_port, FT_STR, NULL)                                           \
	X(destination_port, FT_STR, NULL)                                      \
	X(reply, FT_BOOL, NULL)                                                \
	X(dns_query, FT_STR, NULL)                                             \
	X(source_identity, FT_U32, NULL)                                       \
	X(destination_identity, FT_U32, NULL)                                  \
	X(http_method, FT_STR, NULL)                                           \
	X(http_path, FT_STR, NULL)                                             \
	X(http_url, FT_STR, NULL)                                              \
	X(http_header, FT_HEADER, NULL)                                        \
	X(tcp_flags, FT_TCPFLAGS, NULL)                                        \
	X(node_name, FT_STR, NULL)                                             \
	X(node_labels, FT_STR, NULL)                                           \
	X(ip_version, FT_ENUM, &fe_enum_ip_version)                            \
	X(trace_id, FT_STR, NULL)                                              \
	X(ip_trace_id, FT_U64, NULL)                                           \
	X(encrypted, FT_BOOL, NULL)                                            \
	X(cel_expression, FT_CEL, NULL)

struct ff {
#define FF_MEMBER(name, type, en) struct vec name;
	FF_FIELDS(FF_MEMBER)
#undef FF_MEMBER
};

struct ff_desc {
	const char *name;
	size_t offset;
	enum ff_type type;
	const struct fe_enum *en;
};
extern const struct ff_desc ff_fields[];
extern const size_t ff_n_fields;
size_t ff_elem_size(enum ff_type t);

static inline struct vec *ff_vec(struct ff *f, const struct ff_desc *d)
{
	return (struct vec *)((char *)f + d->offset);
}
static inline const struct vec *ff_cvec(const struct ff *f, const struct ff_desc *d)
{
	return (const struct vec *)((const char *)f + d->offset);
}

/* Deep copy of the vectors (strings are shared, they never change). */
int ff_copy(struct farena *a, struct ff *dst, const struct ff *src);
/* Append every value of src to dst, field by field. */
int ff_merge(struct farena *a, struct ff *dst, const struct ff *src);
/* Hubble's raw JSON form of one FlowFilter (protojson, proto names). */
int ff_to_json(const struct ff *f, struct fe_buf *out);
/* Parse one FlowFilter JSON object (jansson json_t *). */
int ff_from_json(struct farena *a, void *json_obj, struct ff *out, char *err, size_t errlen);

/* --- compiled matchers (filter_match.c) ------------------------------------ */

struct cfilter;   /* one compiled FlowFilter: an AND of predicates */

/* Compile f; errors name the field ("source_ip: invalid IP address ..."). */
struct cfilter *cfilter_compile(const struct ff *f, char *err, size_t errlen);
bool cfilter_match(const struct cfilter *c, const struct flow_event *ev);
void cfilter_free(struct cfilter *c);

/* Value checks shared by the flag parser and the compiler: 0, or -1 with
 * the reason in err (no field name). */
int check_ip_or_prefix(const char *s, char *err, size_t errlen);
int check_port(const char *s, char *err, size_t errlen);
int check_protocol(const char *s, char *err, size_t errlen);
int check_http_status(const char *s, char *err, size_t errlen);
int check_regex(const char *s, char *err, size_t errlen);
int check_fqdn_pattern(const char *s, char *err, size_t errlen);
int check_node_name_pattern(const char *s, char *err, size_t errlen);
int check_label_selector(const char *s, char *err, size_t errlen);
int check_namespaced_name(const char *s, char *err, size_t errlen);

/* FQDN glob of --fqdn (Hubble's rules) as the RE2/ERE regex --dns-query
 * stores in the raw filter's dns_query; NULL on a bad pattern. */
char *fqdn_glob_to_dns_regex(struct farena *a, const char *glob, char *err, size_t errlen);

#endif /* FLOWD_FILTER_INT_H */

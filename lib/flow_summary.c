/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fe_set_summary(): the `Summary` strings Hubble's parsers write
 * (hubble.md §1.5; cilium pkg/hubble/parser/threefour and seven), which
 * the compact/dict/table printers show in their last column.
 */
#include "flow_event.h"
#include "flow_json.h"
#include "flow_names.h"
#include "flow_record.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The Summary is built in a buffer on the stack (one per event: no
 * allocation unless it is long) and copied to the event's arena. */
struct sb {
	char *p;
	size_t len, cap;
	bool oom;
	char local[256];
};

static void sb_init(struct sb *s)
{
	s->p = s->local;
	s->len = 0;
	s->cap = sizeof(s->local);
	s->oom = false;
}

static void sb_fini(struct sb *s)
{
	if (s->p != s->local)
		free(s->p);
}

/* sb_put() when the bytes do not fit: grow (off the local buffer). */
static __attribute__((noinline)) void sb_put_grow(struct sb *s, const char *p, size_t n)
{
	if (s->oom)
		return;
	size_t cap = s->cap * 2;
	while (cap - s->len < n)
		cap *= 2;
	char *np = s->p == s->local ? malloc(cap) : realloc(s->p, cap);
	if (!np) {
		s->oom = true;
		return;
	}
	if (s->p == s->local)
		memcpy(np, s->local, s->len);
	s->p = np;
	s->cap = cap;
	memcpy(s->p + s->len, p, n);
	s->len += n;
}

/* Inline, so that the literals of a Summary are copied by known length. */
static inline void sb_put(struct sb *s, const char *p, size_t n)
{
	if (s->oom || s->cap - s->len < n) {
		sb_put_grow(s, p, n);
		return;
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
}

static inline void sb_str(struct sb *s, const char *p)
{
	if (p)
		sb_put(s, p, strlen(p));
}

static void sb_u64(struct sb *s, uint64_t v)
{
	char buf[20];
	size_t i = sizeof(buf);
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sb_put(s, buf + i, sizeof(buf) - i);
}

static void sb_printf(struct sb *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sb *s, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0) {
		s->oom = true;
		return;
	}
	/* Only used for short numeric formats. */
	sb_put(s, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void sb_join(struct sb *s, const char *const *v, size_t n, const char *sep)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_str(s, sep);
		sb_str(s, v[i]);
	}
}

/* Go's strconv.Quote, which `%q` uses: printable runes kept, \" \\ and the
 * C escapes, other ASCII controls as \xNN, invalid UTF-8 bytes as \xNN,
 * non-printable runes as \uNNNN. Unicode printability is approximated by
 * the common non-printable ranges (C1 controls, soft hyphen, zero-width
 * and bidi marks, line/paragraph separators, BOM). */
static void sb_go_quote(struct sb *s, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(str ? str : "");
	sb_put(s, "\"", 1);
	while (*p) {
		unsigned char c = *p;
		char e[12];
		/* printable ASCII other than \" and \\: copied as a run */
		const unsigned char *run = p;
		while (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
			p++;
		if (p != run) {
			sb_put(s, (const char *)run, (size_t)(p - run));
			continue;
		}
		if (c < 0x80) {
			switch (c) {
			case '"': sb_put(s, "\\\"", 2); break;
			case '\\': sb_put(s, "\\\\", 2); break;
			case '\a': sb_put(s, "\\a", 2); break;
			case '\b': sb_put(s, "\\b", 2); break;
			case '\f': sb_put(s, "\\f", 2); break;
			case '\n': sb_put(s, "\\n", 2); break;
			case '\r': sb_put(s, "\\r", 2); break;
			case '\t': sb_put(s, "\\t", 2); break;
			case '\v': sb_put(s, "\\v", 2); break;
			default:
				if (c < 0x20 || c == 0x7f) {
					e[0] = '\\', e[1] = 'x', e[2] = hex[c >> 4], e[3] = hex[c & 15];
					sb_put(s, e, 4);
				} else {
					sb_put(s, (const char *)p, 1);
				}
			}
			p++;
			continue;
		}
		/* Decode one rune with Go's validity rules. */
		uint32_t r = 0;
		size_t n = 0;
		unsigned char lo = 0x80, hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			n = 2, r = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3, r = c & 0x0f, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4, r = c & 0x07, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		bool ok = n > 0 && p[1] >= lo && p[1] <= hi;
		for (size_t i = 2; ok && i < n; i++)
			ok = p[i] >= 0x80 && p[i] <= 0xbf;
		if (!ok) {
			e[0] = '\\', e[1] = 'x', e[2] = hex[c >> 4], e[3] = hex[c & 15];
			sb_put(s, e, 4);
			p++;
			continue;
		}
		for (size_t i = 1; i < n; i++)
			r = (r << 6) | (p[i] & 0x3f);
		bool printable = !(r < 0xa0 || r == 0xad || (r >= 0x200b && r <= 0x200f) ||
		                   (r >= 0x2028 && r <= 0x202e) || (r >= 0x2060 && r <= 0x206f) ||
		                   r == 0xfeff || (r >= 0xfff9 && r <= 0xfffb));
		if (printable) {
			sb_put(s, (const char *)p, n);
		} else {
			int len = snprintf(e, sizeof(e), r < 0x10000 ? "\\u%04" PRIx32 : "\\U%08" PRIx32, r);
			sb_put(s, e, (size_t)len);
		}
		p += n;
	}
	sb_put(s, "\"", 1);
}

static void tcp_summary(struct sb *s, uint16_t flags)
{
	/* Hubble's order, not the header's. */
	static const struct { uint16_t bit; const char *name; } order[] = {
		{ FLOW_TCP_SYN, "SYN" }, { FLOW_TCP_ACK, "ACK" }, { FLOW_TCP_RST, "RST" },
		{ FLOW_TCP_FIN, "FIN" }, { FLOW_TCP_PSH, "PSH" }, { FLOW_TCP_URG, "URG" },
		{ FLOW_TCP_ECE, "ECE" }, { FLOW_TCP_CWR, "CWR" }, { FLOW_TCP_NS, "NS" },
	};
	bool first = true;
	sb_str(s, "TCP Flags: ");
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(flags & order[i].bit))
			continue;
		if (!first)
			sb_str(s, ", ");
		sb_str(s, order[i].name);
		first = false;
	}
}

/* flowd extension: a gRPC response (one with a Grpc-Status header, from
 * the trailers) ends its Summary with " gRPC <status name>[: <message>]",
 * the message percent-decoded as gRPC sends it (e.g. "... gRPC NOT_FOUND:
 * no such item"). Hubble has no gRPC fields; the headers keep the raw
 * values. */
static const char *http_header(const struct fe_http *h, const char *key)
{
	for (size_t i = 0; i < h->n_headers; i++)
		if (h->headers[i].key && strcmp(h->headers[i].key, key) == 0)
			return h->headers[i].value;
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void grpc_summary(struct sb *s, const struct fe_http *h)
{
	static const char *const names[] = {
		"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
		"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
		"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
		"UNAUTHENTICATED",
	};
	const char *st = http_header(h, "Grpc-Status");
	if (!st)
		return;
	char *end;
	errno = 0;
	unsigned long code = strtoul(st, &end, 10);
	sb_str(s, " gRPC ");
	if (*st && !*end && !errno && code < sizeof(names) / sizeof(names[0]))
		sb_str(s, names[code]);
	else
		sb_str(s, st);
	const char *msg = http_header(h, "Grpc-Message");
	if (!msg || !*msg)
		return;
	sb_str(s, ": ");
	for (const char *p = msg; *p; p++) {
		int hi, lo;
		if (*p == '%' && (hi = hexval(p[1])) >= 0 && (lo = hexval(p[2])) >= 0) {
			char c = (char)(hi << 4 | lo);
			sb_put(s, &c, 1);
			p += 2;
		} else {
			sb_put(s, p, 1);
		}
	}
}

static void http_summary(struct sb *s, const struct fe_l7 *l7)
{
	const struct fe_http *h = &l7->http;
	if (l7->type == FE_L7_REQUEST) {
		sb_str(s, h->protocol);
		sb_str(s, " ");
		sb_str(s, h->method);
		sb_str(s, " ");
		sb_str(s, h->url);
	} else if (l7->type == FE_L7_RESPONSE) {
		sb_str(s, h->protocol);
		sb_put(s, " ", 1);
		sb_u64(s, h->code);
		sb_put(s, " ", 1);
		sb_u64(s, l7->latency_ns / 1000000);
		sb_put(s, "ms (", 4);
		sb_str(s, h->method);
		sb_str(s, " ");
		sb_str(s, h->url);
		sb_str(s, ")");
		grpc_summary(s, h);
	}
}

static void dns_summary(struct sb *s, const struct fe_l7 *l7)
{
	const struct fe_dns *d = &l7->dns;
	if (l7->type == FE_L7_REQUEST) {
		sb_str(s, "DNS Query ");
		sb_str(s, d->query);
		sb_str(s, " ");
		sb_join(s, d->qtypes, d->n_qtypes, ",");
	} else if (l7->type == FE_L7_RESPONSE) {
		sb_str(s, "DNS Answer ");
		if ((uint8_t)d->rcode != 0) {  /* gopacket's rcode is 8 bits */
			sb_str(s, "RCode: ");
			sb_str(s, fe_dns_rcode_text(d->rcode));
		} else {
			bool any = false;
			if (d->n_ips) {
				struct sb j;
				sb_init(&j);
				sb_join(&j, d->ips, d->n_ips, ",");
				sb_put(&j, "", 1);
				sb_go_quote(s, j.oom ? "" : j.p);
				s->oom |= j.oom;
				sb_fini(&j);
				any = true;
			}
			if (d->n_cnames) {
				struct sb j;
				sb_init(&j);
				sb_join(&j, d->cnames, d->n_cnames, ",");
				sb_put(&j, "", 1);
				if (any)
					sb_str(s, " ");
				sb_str(s, "CNAMEs: ");
				sb_go_quote(s, j.oom ? "" : j.p);
				s->oom |= j.oom;
				sb_fini(&j);
			}
		}
		sb_put(s, " TTL: ", 6);
		sb_u64(s, d->ttl);
		sb_put(s, " (", 2);
		bool proxy = d->observation_source && strcmp(d->observation_source, "proxy") == 0;
		sb_str(s, proxy ? "Proxy " : "Query ");
		sb_str(s, d->query);
		sb_str(s, " ");
		sb_join(s, d->qtypes, d->n_qtypes, ",");
		sb_str(s, ")");
	}
}

static void kafka_summary(struct sb *s, const struct fe_l7 *l7)
{
	const struct fe_kafka *k = &l7->kafka;
	sb_str(s, l7->type == FE_L7_REQUEST ? "Kafka request " : "Kafka response ");
	sb_str(s, k->api_key);
	sb_printf(s, " correlation id %" PRId32 " topic '", k->correlation_id);
	sb_str(s, k->topic);
	sb_str(s, "'");
	if (l7->type != FE_L7_REQUEST)
		sb_printf(s, " return code %" PRId32, k->error_code);
}

static const char *l4_name(enum fe_l4_kind k)
{
	switch (k) {
	case FE_L4_TCP: return "TCP";
	case FE_L4_UDP: return "UDP";
	case FE_L4_SCTP: return "SCTP";
	case FE_L4_ICMPV4: return "ICMPv4";
	case FE_L4_ICMPV6: return "ICMPv6";
	default: return NULL;
	}
}

int fe_set_summary(struct flow_event *ev)
{
	struct sb s;
	char icmp[64];
	sb_init(&s);

	if (ev->type == FE_TYPE_L7 || ev->l7.kind != FE_L7K_NONE) {
		switch (ev->l7.kind) {
		case FE_L7K_HTTP: http_summary(&s, &ev->l7); break;
		case FE_L7K_DNS: dns_summary(&s, &ev->l7); break;
		case FE_L7K_KAFKA: kafka_summary(&s, &ev->l7); break;
		default: break;
		}
	} else if (ev->type == FE_TYPE_SOCK) {
		sb_str(&s, l4_name(ev->l4));
	} else {
		switch (ev->l4) {
		case FE_L4_TCP:
			tcp_summary(&s, ev->tcp_flags);
			break;
		case FE_L4_UDP:
		case FE_L4_SCTP:
			sb_str(&s, l4_name(ev->l4));
			break;
		case FE_L4_ICMPV4:
			fe_icmpv4_text(ev->icmp_type, ev->icmp_code, icmp, sizeof(icmp));
			sb_str(&s, "ICMPv4 ");
			sb_str(&s, icmp);
			break;
		case FE_L4_ICMPV6:
			fe_icmpv6_text(ev->icmp_type, ev->icmp_code, icmp, sizeof(icmp));
			sb_str(&s, "ICMPv6 ");
			sb_str(&s, icmp);
			break;
		default:
			/* Hubble names the last decoded layer. */
			if (ev->has_ip)
				sb_str(&s, ev->ip_version == FE_IPV6 ? "IPv6" : "IPv4");
			else if (ev->has_ethernet)
				sb_str(&s, "Ethernet");
			break;
		}
	}
	if (s.oom) {
		sb_fini(&s);
		errno = ENOMEM;
		return -1;
	}
	if (s.len == 0) {
		sb_fini(&s);
		ev->summary = NULL;
		return 0;
	}
	ev->summary = fe_strndup(ev, s.p, s.len);
	sb_fini(&s);
	if (!ev->summary) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

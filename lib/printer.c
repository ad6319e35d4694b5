/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hubble's text printers (hubble/pkg/printer/printer.go) and the JSON
 * output, see printer.h.
 *
 * Each record is formatted into one buffer and written with one fwrite.
 * Field values pass through the terminal-escape sanitiser (ESC -> "^[",
 * CR -> "\r") as they are appended; the printer's own color sequences are
 * appended raw. Hubble sanitises the finished line instead and lets its
 * own color sequences through, which also lets a value containing exactly
 * such a sequence through; sanitising values first closes that hole and
 * gives the same bytes otherwise.
 */
#include "printer.h"
#include "flow_names.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* --- names ------------------------------------------------------------------- */

int fe_output_format_parse(const char *name, enum fe_output_format *out)
{
	static const struct { const char *name; enum fe_output_format f; } t[] = {
		{ "compact", FE_OUTPUT_COMPACT }, { "dict", FE_OUTPUT_DICT },
		{ "json", FE_OUTPUT_JSON }, { "jsonpb", FE_OUTPUT_JSON },
		{ "table", FE_OUTPUT_TABLE }, { "tab", FE_OUTPUT_TABLE },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(name, t[i].name) == 0) {
			*out = t[i].f;
			return 0;
		}
	return -1;
}

static const char *const time_format_names[] = {
	[FE_TIME_STAMP_MILLI] = "StampMilli",
	[FE_TIME_YEAR_MONTH_DAY] = "YearMonthDay",
	[FE_TIME_YEAR_MONTH_DAY_HOUR] = "YearMonthDayHour",
	[FE_TIME_YEAR_MONTH_DAY_HOUR_MINUTE] = "YearMonthDayHourMinute",
	[FE_TIME_RFC3339] = "RFC3339",
	[FE_TIME_RFC3339_MILLI] = "RFC3339Milli",
	[FE_TIME_RFC3339_MICRO] = "RFC3339Micro",
	[FE_TIME_RFC3339_NANO] = "RFC3339Nano",
	[FE_TIME_RFC1123Z] = "RFC1123Z",
};

const char fe_time_format_help[] =
	"  StampMilli:             Jan _2 15:04:05.000\n"
	"  YearMonthDay:           2006-01-02\n"
	"  YearMonthDayHour:       2006-01-02T15Z07:00\n"
	"  YearMonthDayHourMinute: 2006-01-02T15:04Z07:00\n"
	"  RFC3339:                2006-01-02T15:04:05Z07:00\n"
	"  RFC3339Milli:           2006-01-02T15:04:05.999Z07:00\n"
	"  RFC3339Micro:           2006-01-02T15:04:05.999999Z07:00\n"
	"  RFC3339Nano:            2006-01-02T15:04:05.999999999Z07:00\n"
	"  RFC1123Z:               Mon, 02 Jan 2006 15:04:05 -0700\n";

int fe_time_format_parse(const char *name, enum fe_time_format *out)
{
	for (size_t i = 0; i < sizeof(time_format_names) / sizeof(time_format_names[0]); i++)
		if (strcmp(name, time_format_names[i]) == 0) {
			*out = (enum fe_time_format)i;
			return 0;
		}
	return -1;
}

int fe_color_mode_parse(const char *name, enum fe_color_mode *out)
{
	if (strcasecmp(name, "auto") == 0)
		*out = FE_COLOR_AUTO;
	else if (strcasecmp(name, "always") == 0)
		*out = FE_COLOR_ALWAYS;
	else if (strcasecmp(name, "never") == 0)
		*out = FE_COLOR_NEVER;
	else
		return -1;
	return 0;
}

/* --- time ------------------------------------------------------------------------ */

struct civil {
	int year;
	unsigned mon, day, hour, min, sec, nsec, wday;
};

static void to_civil(uint64_t ns, struct civil *c)
{
	uint64_t secs = ns / 1000000000u;
	int64_t z = (int64_t)(secs / 86400);
	unsigned rem = (unsigned)(secs % 86400);
	c->nsec = (unsigned)(ns % 1000000000u);
	c->hour = rem / 3600;
	c->min = rem / 60 % 60;
	c->sec = rem % 60;
	c->wday = (unsigned)((z + 4) % 7);  /* 1970-01-01 was a Thursday */
	z += 719468;
	int64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	c->day = doy - (153 * mp + 2) / 5 + 1;
	c->mon = mp < 10 ? mp + 3 : mp - 9;
	c->year = (int)((int64_t)yoe + era * 400 + (c->mon <= 2));
}

static const char *const month_abbr[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const day_abbr[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

/* Go's ".999..." layout element: up to `digits` fraction digits with
 * trailing zeros removed, nothing at all when they are all zero. */
static int frac_trimmed(char *buf, size_t size, unsigned nsec, int digits)
{
	char d[10];
	snprintf(d, sizeof(d), "%09u", nsec);
	int n = digits;
	while (n > 0 && d[n - 1] == '0')
		n--;
	if (n == 0) {
		if (size)
			buf[0] = '\0';
		return 0;
	}
	return snprintf(buf, size, ".%.*s", n, d);
}

size_t fe_format_time(enum fe_time_format f, uint64_t ns, char *buf, size_t size)
{
	struct civil c;
	char frac[12];
	int n;
	if (ns == 0)
		return (size_t)snprintf(buf, size, "N/A");
	to_civil(ns, &c);
	switch (f) {
	case FE_TIME_YEAR_MONTH_DAY:
		n = snprintf(buf, size, "%04d-%02u-%02u", c.year, c.mon, c.day);
		break;
	case FE_TIME_YEAR_MONTH_DAY_HOUR:
		n = snprintf(buf, size, "%04d-%02u-%02uT%02uZ", c.year, c.mon, c.day, c.hour);
		break;
	case FE_TIME_YEAR_MONTH_DAY_HOUR_MINUTE:
		n = snprintf(buf, size, "%04d-%02u-%02uT%02u:%02uZ", c.year, c.mon, c.day, c.hour, c.min);
		break;
	case FE_TIME_RFC3339:
	case FE_TIME_RFC3339_MILLI:
	case FE_TIME_RFC3339_MICRO:
	case FE_TIME_RFC3339_NANO:
		frac_trimmed(frac, sizeof(frac), c.nsec,
		             f == FE_TIME_RFC3339 ? 0 : f == FE_TIME_RFC3339_MILLI ? 3 :
		             f == FE_TIME_RFC3339_MICRO ? 6 : 9);
		n = snprintf(buf, size, "%04d-%02u-%02uT%02u:%02u:%02u%sZ", c.year, c.mon, c.day,
		             c.hour, c.min, c.sec, frac);
		break;
	case FE_TIME_RFC1123Z:
		n = snprintf(buf, size, "%s, %02u %s %04d %02u:%02u:%02u +0000", day_abbr[c.wday],
		             c.day, month_abbr[c.mon - 1], c.year, c.hour, c.min, c.sec);
		break;
	case FE_TIME_STAMP_MILLI:
	default:
		n = snprintf(buf, size, "%s %2u %02u:%02u:%02u.%03u", month_abbr[c.mon - 1], c.day,
		             c.hour, c.min, c.sec, c.nsec / 1000000);
		break;
	}
	if (n < 0)
		n = 0;
	return (size_t)n < size ? (size_t)n : (size ? size - 1 : 0);
}

/* --- output building --------------------------------------------------------------- */

struct out {
	struct fe_buf *b;
	bool oom;
};

static void put_raw(struct out *o, const char *s, size_t n)
{
	if (!o->oom && n && fe_buf_append(o->b, s, n))
		o->oom = true;
}

static void put_cstr(struct out *o, const char *s)
{
	if (s)
		put_raw(o, s, strlen(s));
}

/* A field value: ESC and CR made harmless, as Hubble's terminal escaper. */
static void put_text(struct out *o, const char *s)
{
	if (!s)
		return;
	const char *run = s;
	for (; *s; s++) {
		if (*s != '\x1b' && *s != '\r')
			continue;
		put_raw(o, run, (size_t)(s - run));
		put_raw(o, *s == '\x1b' ? "^[" : "\\r", 2);
		run = s + 1;
	}
	put_raw(o, run, (size_t)(s - run));
}

static void put_fmt(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_fmt(struct out *o, const char *fmt, ...)
{
	char tmp[96];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put_raw(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* fatih/color sequences, as Hubble's colorer uses them. */
enum color { C_NONE = 0, C_RED = 31, C_GREEN = 32, C_YELLOW = 33, C_MAGENTA = 35, C_CYAN = 36 };

struct fe_printer {
	struct fe_printer_options opts;
	FILE *out;
	bool color;
	uint64_t line;              /* records printed so far */
	struct fe_buf buf;          /* one record */
	struct fe_buf table;        /* table output until flush: lines, '\t' between cells */
};

static void color_on(struct fe_printer *p, struct out *o, enum color c)
{
	if (p->color && c)
		put_fmt(o, "\x1b[%dm", (int)c);
}

static void color_off(struct fe_printer *p, struct out *o, enum color c)
{
	if (p->color && c)
		put_raw(o, "\x1b[0m", 4);
}

static void put_colored(struct fe_printer *p, struct out *o, enum color c, const char *s)
{
	color_on(p, o, c);
	put_text(o, s);
	color_off(p, o, c);
}

/* --- flow columns ---------------------------------------------------------------- */

static bool l7_present(const struct flow_event *ev)
{
	return ev->type == FE_TYPE_L7 || ev->l7.kind != FE_L7K_NONE || ev->l7.type || ev->l7.latency_ns;
}

static bool nonempty(const char *s)
{
	return s && *s;
}

/* Go's String() of a proto enum: the name, or the number. */
static const char *enum_str(const struct fe_enum *e, uint32_t v, char *tmp, size_t size)
{
	const char *n = fe_enum_name(e, v);
	if (n)
		return n;
	snprintf(tmp, size, "%" PRIu32, v);
	return tmp;
}

void fe_flow_type_text(const struct flow_event *ev, char *buf, size_t size)
{
	char tmp[24];
	if (l7_present(ev)) {
		const char *proto = "l7";
		char type[32];
		snprintf(type, sizeof(type), "%s", enum_str(&fe_enum_l7_type, ev->l7.type, tmp, sizeof(tmp)));
		for (char *c = type; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		switch (ev->l7.kind) {
		case FE_L7K_HTTP:
			proto = "http";
			break;
		case FE_L7K_DNS:
			/* Hubble appends the observation source ("proxy"), even
			 * when it is empty. */
			snprintf(buf, size, "dns-%s %s", type,
			         ev->l7.dns.observation_source ? ev->l7.dns.observation_source : "");
			return;
		case FE_L7K_KAFKA:
			proto = "kafka";
			break;
		default:
			break;
		}
		snprintf(buf, size, "%s-%s", proto, type);
		return;
	}
	uint8_t sub = (uint8_t)ev->event_sub_type;
	const char *s;
	switch (ev->event_type) {
	case FE_MSG_TRACE:
		s = fe_trace_point_text(sub);
		if (s)
			snprintf(buf, size, "%s", s);
		else
			snprintf(buf, size, "%u", sub);
		return;
	case FE_MSG_DROP:
		s = fe_drop_reason_text(sub);
		if (s)
			snprintf(buf, size, "%s", s);
		else
			snprintf(buf, size, "%u, 0", sub);
		return;
	case FE_MSG_POLICY_VERDICT:
		snprintf(buf, size, "policy-verdict:%s %s", fe_policy_match_text(ev->policy_match_type),
		         enum_str(&fe_enum_traffic_direction, ev->traffic_direction, tmp, sizeof(tmp)));
		return;
	case FE_MSG_CAPTURE:
		snprintf(buf, size, "%s", enum_str(&fe_enum_debug_capture, ev->debug_capture_point, tmp, sizeof(tmp)));
		return;
	case FE_MSG_TRACE_SOCK:
		switch (ev->sock_xlate_point) {
		case 1: s = "pre-xlate-fwd"; break;
		case 2: s = "post-xlate-fwd"; break;
		case 3: s = "pre-xlate-rev"; break;
		case 4: s = "post-xlate-rev"; break;
		default: s = enum_str(&fe_enum_sock_xlate, ev->sock_xlate_point, tmp, sizeof(tmp)); break;
		}
		snprintf(buf, size, "%s", s);
		return;
	default:
		snprintf(buf, size, "UNKNOWN");
	}
}

/* printer.go Hostname(): pod, service, DNS names or the IP, then ":port". */
static void put_host(struct fe_printer *p, struct out *o, const struct flow_event *ev, bool src)
{
	const struct fe_endpoint *ep = src ? &ev->source : &ev->destination;
	const struct fe_service *svc = src ? &ev->source_service : &ev->destination_service;
	const char *ip = src ? ev->ip_src : ev->ip_dst;
	uint16_t port = src ? ev->sport : ev->dport;
	struct fe_buf hb = { 0 };
	struct out h = { &hb, false };

	if (!ev->has_ip) {
		if (ev->has_ethernet)
			put_colored(p, o, C_CYAN, src ? ev->eth_src : ev->eth_dst);
		return;
	}
	/* A service, when present, also supplies the namespace shown. */
	const char *ns = ep->namespace_;
	bool has_svc = nonempty(svc->name) || nonempty(svc->namespace_);
	if (has_svc)
		ns = svc->namespace_;
	if (!p->opts.numeric && nonempty(ep->pod_name)) {
		if (nonempty(ns)) {
			put_cstr(&h, ns);
			put_raw(&h, "/", 1);
		}
		put_cstr(&h, ep->pod_name);
	} else if (!p->opts.numeric && nonempty(svc->name)) {
		if (nonempty(ns)) {
			put_cstr(&h, ns);
			put_raw(&h, "/", 1);
		}
		put_cstr(&h, svc->name);
	} else if (!p->opts.numeric && (src ? ev->n_source_names : ev->n_destination_names)) {
		size_t n = src ? ev->n_source_names : ev->n_destination_names;
		const char *const *names = src ? ev->source_names : ev->destination_names;
		for (size_t i = 0; i < n; i++) {
			if (i)
				put_raw(&h, ",", 1);
			put_cstr(&h, names[i]);
		}
	} else {
		put_cstr(&h, ip);
	}
	const char *host = h.oom ? "" : (hb.data ? hb.data : "");
	o->oom |= h.oom;

	bool has_port = port != 0 &&
	                (ev->l4 == FE_L4_TCP || ev->l4 == FE_L4_UDP || ev->l4 == FE_L4_SCTP);
	color_on(p, o, C_CYAN);
	if (has_port) {
		/* net.JoinHostPort: brackets when the host has a colon. */
		bool v6 = strchr(host, ':') != NULL;
		if (v6)
			put_raw(o, "[", 1);
		put_text(o, host);
		put_raw(o, v6 ? "]:" : ":", v6 ? 2 : 1);
		char pb[8];
		snprintf(pb, sizeof(pb), "%u", port);
		put_colored(p, o, C_YELLOW, pb);
	} else {
		put_text(o, host);
	}
	color_off(p, o, C_CYAN);
	fe_buf_free(&hb);
}

static void put_identity(struct fe_printer *p, struct out *o, uint32_t id)
{
	const char *name = fe_reserved_identity_name(id);
	char tmp[32];
	if (name)
		snprintf(tmp, sizeof(tmp), "(%s)", name);
	else
		snprintf(tmp, sizeof(tmp), "(ID:%" PRIu32 ")", id);
	put_colored(p, o, C_MAGENTA, tmp);
}

static void put_policy_names(struct out *o, const struct fe_policy *pol, size_t n)
{
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		if (!nonempty(pol[i].kind) || !nonempty(pol[i].name))
			continue;
		put_raw(o, shown ? ", " : " BY ", shown ? 2 : 4);
		put_text(o, pol[i].name);
		put_raw(o, " (", 2);
		put_text(o, pol[i].kind);
		put_raw(o, ")", 1);
		shown++;
	}
}

static void put_verdict(struct fe_printer *p, struct out *o, const struct flow_event *ev)
{
	char tmp[24];
	bool pv = ev->event_type == FE_MSG_POLICY_VERDICT;
	const char *msg = enum_str(&fe_enum_verdict, ev->verdict, tmp, sizeof(tmp));
	enum color c = C_NONE;
	const struct fe_policy *pol = NULL;
	size_t n_pol = 0;

	switch (ev->verdict) {
	case FE_FORWARDED:
	case FE_REDIRECTED:
		c = C_GREEN;
		if (pv) {
			msg = "ALLOWED";
			if (ev->traffic_direction == FE_EGRESS)
				pol = ev->egress_allowed_by, n_pol = ev->n_egress_allowed_by;
			else if (ev->traffic_direction == FE_INGRESS)
				pol = ev->ingress_allowed_by, n_pol = ev->n_ingress_allowed_by;
		}
		break;
	case FE_DROPPED:
	case FE_ERROR:
		c = C_RED;
		if (pv) {
			msg = "DENIED";
			if (ev->traffic_direction == FE_EGRESS)
				pol = ev->egress_denied_by, n_pol = ev->n_egress_denied_by;
			else if (ev->traffic_direction == FE_INGRESS)
				pol = ev->ingress_denied_by, n_pol = ev->n_ingress_denied_by;
		}
		break;
	case FE_AUDIT:
		c = C_YELLOW;
		if (pv)
			msg = "AUDITED";
		break;
	case FE_TRACED:
	case FE_TRANSLATED:
		c = C_YELLOW;
		break;
	default:
		break;
	}
	color_on(p, o, c);
	put_cstr(o, msg);
	if (pv && p->opts.print_policy_names)
		put_policy_names(o, pol, n_pol);
	color_off(p, o, c);
}

static void put_summary(struct fe_printer *p, struct out *o, const struct flow_event *ev)
{
	if (ev->ip_trace_id)
		put_fmt(o, "IP Trace ID: %" PRIu64 "; ", ev->ip_trace_id);
	put_text(o, ev->summary);
	if (ev->auth_type) {
		char tmp[24];
		put_raw(o, "; Auth: ", 8);
		put_colored(p, o, ev->auth_type == 2 ? C_RED : C_GREEN,
		            enum_str(&fe_enum_auth_type, ev->auth_type, tmp, sizeof(tmp)));
	}
}

static void put_time(struct fe_printer *p, struct out *o, uint64_t ns)
{
	char tb[48];
	size_t n = fe_format_time(p->opts.time_format, ns, tb, sizeof(tb));
	put_raw(o, tb, n);
}

/* --- formats --------------------------------------------------------------------------- */

static void compact_flow(struct fe_printer *p, struct out *o, const struct flow_event *ev)
{
	struct fe_buf sb = { 0 }, db = { 0 };
	struct out so = { &sb, false }, dout = { &db, false };
	char type[128];

	put_host(p, &so, ev, true);
	put_raw(&so, " ", 1);
	put_identity(p, &so, ev->source.identity);
	put_host(p, &dout, ev, false);
	put_raw(&dout, " ", 1);
	put_identity(p, &dout, ev->destination.identity);
	o->oom |= so.oom || dout.oom;

	put_time(p, o, ev->time_ns);
	if (p->opts.print_node_name) {
		put_raw(o, " [", 2);
		put_text(o, ev->node_name);
		put_raw(o, "]", 1);
	}
	put_raw(o, ": ", 2);
	/* Replies are printed initiator first, with the arrow reversed. */
	const struct fe_buf *left = &sb, *right = &db;
	const char *arrow = " -> ";
	if (ev->is_reply < 0) {
		arrow = " <> ";
	} else if (ev->is_reply > 0) {
		left = &db, right = &sb;
		arrow = " <- ";
	}
	put_raw(o, left->data, left->len);
	put_cstr(o, arrow);
	put_raw(o, right->data, right->len);
	put_raw(o, " ", 1);
	fe_flow_type_text(ev, type, sizeof(type));
	put_text(o, type);
	put_raw(o, " ", 1);
	put_verdict(p, o, ev);
	put_raw(o, " (", 2);
	put_summary(p, o, ev);
	put_raw(o, ")\n", 2);
	fe_buf_free(&sb);
	fe_buf_free(&db);
}

static void lost_summary(struct fe_printer *p, struct out *o, const struct fe_record *rec, bool dash)
{
	const struct fe_lost_event *l = &rec->lost;
	put_fmt(o, "CPU(%" PRId32 ")%s%" PRIu64, l->cpu < 0 ? 0 : l->cpu, dash ? " - " : " ",
	        l->num_events_lost);
	if (l->first_ns && l->last_ns) {
		put_raw(o, " (first: ", 9);
		put_time(p, o, l->first_ns);
		put_raw(o, ", last: ", 8);
		put_time(p, o, l->last_ns);
		put_raw(o, ")", 1);
	}
}

static const char *lost_source(const struct fe_lost_event *l, char *tmp, size_t size)
{
	return enum_str(&fe_enum_lost_source, l->source, tmp, size);
}

static void compact_lost(struct fe_printer *p, struct out *o, const struct fe_record *rec)
{
	char tmp[24];
	put_time(p, o, rec->time_ns);
	put_raw(o, " EVENTS LOST: ", 14);
	put_cstr(o, lost_source(&rec->lost, tmp, sizeof(tmp)));
	put_raw(o, " ", 1);
	lost_summary(p, o, rec, false);
	put_raw(o, "\n", 1);
}

static void dict_flow(struct fe_printer *p, struct out *o, const struct flow_event *ev)
{
	char type[128];
	if (p->line)
		put_raw(o, "------------\n", 13);
	put_raw(o, "  TIMESTAMP: ", 13);
	put_time(p, o, ev->time_ns);
	put_raw(o, "\n", 1);
	if (p->opts.print_node_name) {
		put_raw(o, "       NODE: ", 13);
		put_text(o, ev->node_name);
		put_raw(o, "\n", 1);
	}
	put_raw(o, "     SOURCE: ", 13);
	put_host(p, o, ev, true);
	put_raw(o, "\nDESTINATION: ", 14);
	put_host(p, o, ev, false);
	put_raw(o, "\n       TYPE: ", 14);
	fe_flow_type_text(ev, type, sizeof(type));
	put_text(o, type);
	put_raw(o, "\n    VERDICT: ", 14);
	put_verdict(p, o, ev);
	put_raw(o, "\n    SUMMARY: ", 14);
	put_summary(p, o, ev);
	put_raw(o, "\n", 1);
}

static void dict_lost(struct fe_printer *p, struct out *o, const struct fe_record *rec)
{
	char tmp[24];
	if (p->line)
		put_raw(o, "------------\n", 13);
	put_raw(o, "  TIMESTAMP: ", 13);
	put_time(p, o, rec->time_ns);
	put_raw(o, "\n", 1);
	if (p->opts.print_node_name) {
		put_raw(o, "       NODE: ", 13);
		put_text(o, nonempty(rec->node_name) ? rec->node_name : "-");
		put_raw(o, "\n", 1);
	}
	put_raw(o, "     SOURCE: ", 13);
	put_cstr(o, lost_source(&rec->lost, tmp, sizeof(tmp)));
	put_cstr(o, "\n       TYPE: EVENTS LOST\n    VERDICT: -\n    SUMMARY: ");
	lost_summary(p, o, rec, true);
	put_raw(o, "\n", 1);
}

static void table_header(struct fe_printer *p, struct out *o)
{
	if (p->line)
		return;
	put_cstr(o, "TIMESTAMP\t");
	if (p->opts.print_node_name)
		put_cstr(o, "NODE\t");
	put_cstr(o, "SOURCE\tDESTINATION\tTYPE\tVERDICT\tSUMMARY\n");
}

static void table_flow(struct fe_printer *p, struct out *o, const struct flow_event *ev)
{
	char type[128];
	table_header(p, o);
	put_time(p, o, ev->time_ns);
	put_raw(o, "\t", 1);
	if (p->opts.print_node_name) {
		put_text(o, ev->node_name);
		put_raw(o, "\t", 1);
	}
	put_host(p, o, ev, true);
	put_raw(o, "\t", 1);
	put_host(p, o, ev, false);
	put_raw(o, "\t", 1);
	fe_flow_type_text(ev, type, sizeof(type));
	put_text(o, type);
	put_raw(o, "\t", 1);
	put_verdict(p, o, ev);
	put_raw(o, "\t", 1);
	put_summary(p, o, ev);
	put_raw(o, "\n", 1);
}

static void table_lost(struct fe_printer *p, struct out *o, const struct fe_record *rec)
{
	char tmp[24];
	table_header(p, o);
	put_time(p, o, rec->time_ns);
	put_raw(o, "\t", 1);
	if (p->opts.print_node_name) {
		put_text(o, nonempty(rec->node_name) ? rec->node_name : "-");
		put_raw(o, "\t", 1);
	}
	put_cstr(o, lost_source(&rec->lost, tmp, sizeof(tmp)));
	put_cstr(o, "\t-\tEVENTS LOST\t-\t");
	lost_summary(p, o, rec, true);
	put_raw(o, "\n", 1);
}

/* --- table rendering: Go's text/tabwriter (minwidth 2, padding 3, spaces) --- */

struct tcell {
	const char *text;
	size_t len, width;   /* bytes, runes */
};

struct tline {
	struct tcell *cells;
	size_t n;            /* cells; the last one is not tab-terminated */
};

static size_t rune_count(const char *s, size_t n)
{
	/* Go's utf8.RuneCount: one per valid sequence or invalid byte. */
	size_t r = 0;
	for (size_t i = 0; i < n; r++) {
		unsigned char c = (unsigned char)s[i];
		size_t l = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
		           c >= 0xf0 && c <= 0xf4 ? 4 : 1;
		bool ok = i + l <= n;
		for (size_t k = 1; ok && k < l; k++)
			ok = ((unsigned char)s[i + k] & 0xc0) == 0x80;
		if (ok && l == 3) {
			unsigned char c1 = (unsigned char)s[i + 1];
			ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 > 0x9f);
		} else if (ok && l == 4) {
			unsigned char c1 = (unsigned char)s[i + 1];
			ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 > 0x8f);
		}
		i += ok ? l : 1;
	}
	return r;
}

struct tabw {
	struct tline *lines;
	size_t n_lines;
	size_t widths[64];
	size_t n_widths;
	struct out *o;
};

static void tab_write_lines(struct tabw *t, size_t l0, size_t l1)
{
	static const char spaces[] = "                                                                ";
	for (size_t i = l0; i < l1; i++) {
		const struct tline *ln = &t->lines[i];
		for (size_t j = 0; j < ln->n; j++) {
			const struct tcell *c = &ln->cells[j];
			put_raw(t->o, c->text, c->len);
			if (j < t->n_widths) {
				size_t pad = t->widths[j] > c->width ? t->widths[j] - c->width : 0;
				while (pad) {
					size_t k = pad < sizeof(spaces) - 1 ? pad : sizeof(spaces) - 1;
					put_raw(t->o, spaces, k);
					pad -= k;
				}
			}
		}
		put_raw(t->o, "\n", 1);
	}
}

/* tabwriter's format(): a column block is a run of consecutive lines
 * that all have a terminated cell in this column. */
static void tab_format(struct tabw *t, size_t l0, size_t l1)
{
	size_t column = t->n_widths;
	for (size_t this = l0; this < l1; this++) {
		if (column + 1 >= t->lines[this].n)
			continue;
		tab_write_lines(t, l0, this);
		l0 = this;
		size_t width = 2;  /* minwidth */
		for (; this < l1; this++) {
			const struct tline *ln = &t->lines[this];
			if (column + 1 >= ln->n)
				break;
			size_t w = ln->cells[column].width + 3;  /* padding */
			if (w > width)
				width = w;
		}
		if (t->n_widths < sizeof(t->widths) / sizeof(t->widths[0])) {
			t->widths[t->n_widths++] = width;
			tab_format(t, l0, this);
			t->n_widths--;
		} else {
			tab_write_lines(t, l0, this);
		}
		l0 = this;
		/* like tabwriter, the loop's this++ skips the line that ended the
		 * block: it has no cell in this column */
	}
	tab_write_lines(t, l0, l1);
}

static int table_render(struct fe_printer *p, struct out *o)
{
	struct fe_buf *tb = &p->table;
	struct tabw t = { .o = o };
	size_t n_lines = 0, cap_cells = 0;
	for (size_t i = 0; i < tb->len; i++) {
		if (tb->data[i] == '\n')
			n_lines++;
		if (tb->data[i] == '\t' || tb->data[i] == '\n')
			cap_cells++;
	}
	if (!n_lines)
		return 0;
	t.lines = calloc(n_lines, sizeof(*t.lines));
	struct tcell *cells = calloc(cap_cells, sizeof(*cells));
	if (!t.lines || !cells) {
		free(t.lines);
		free(cells);
		return -1;
	}
	size_t ci = 0, start = 0;
	for (size_t i = 0; i < tb->len; i++) {
		char ch = tb->data[i];
		if (ch != '\t' && ch != '\n')
			continue;
		struct tline *ln = &t.lines[t.n_lines];
		if (!ln->cells)
			ln->cells = &cells[ci];
		cells[ci].text = tb->data + start;
		cells[ci].len = i - start;
		cells[ci].width = rune_count(tb->data + start, i - start);
		ci++;
		ln->n++;
		start = i + 1;
		if (ch == '\n')
			t.n_lines++;
	}
	tab_format(&t, 0, t.n_lines);
	free(cells);
	free(t.lines);
	return 0;
}

/* --- printer ------------------------------------------------------------------------ */

struct fe_printer *fe_printer_new(const struct fe_printer_options *opts, FILE *out)
{
	struct fe_printer *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->opts = *opts;
	p->out = out;
	switch (opts->color) {
	case FE_COLOR_ALWAYS:
		p->color = true;
		break;
	case FE_COLOR_NEVER:
		p->color = false;
		break;
	case FE_COLOR_AUTO:
	default: {
		/* fatih/color's rule */
		const char *term = getenv("TERM");
		const char *nc = getenv("NO_COLOR");
		p->color = out && isatty(fileno(out)) && !(term && strcmp(term, "dumb") == 0) &&
		           !(nc && *nc);
		break;
	}
	}
	if (opts->format == FE_OUTPUT_TABLE || opts->format == FE_OUTPUT_JSON)
		p->color = false;
	return p;
}

int fe_printer_print(struct fe_printer *p, const struct fe_record *rec)
{
	bool is_flow = rec->kind == FE_REC_FLOW && rec->flow;
	if (!is_flow && rec->kind != FE_REC_LOST) {
		errno = EINVAL;
		return -1;
	}
	if (p->opts.format == FE_OUTPUT_JSON) {
		p->buf.len = 0;
		if (fe_record_to_json_masked(rec, p->opts.field_mask, &p->buf))
			return -1;
	} else {
		struct out o = { p->opts.format == FE_OUTPUT_TABLE ? &p->table : &p->buf, false };
		size_t mark = o.b->len;
		if (o.b == &p->buf)
			p->buf.len = mark = 0;
		switch (p->opts.format) {
		case FE_OUTPUT_DICT:
			if (is_flow)
				dict_flow(p, &o, rec->flow);
			else
				dict_lost(p, &o, rec);
			break;
		case FE_OUTPUT_TABLE:
			if (is_flow)
				table_flow(p, &o, rec->flow);
			else
				table_lost(p, &o, rec);
			break;
		case FE_OUTPUT_COMPACT:
		default:
			if (is_flow)
				compact_flow(p, &o, rec->flow);
			else
				compact_lost(p, &o, rec);
			break;
		}
		if (o.oom) {
			o.b->len = mark;
			errno = ENOMEM;
			return -1;
		}
	}
	p->line++;
	if (p->opts.format == FE_OUTPUT_TABLE)
		return 0;
	if (p->buf.len && fwrite(p->buf.data, 1, p->buf.len, p->out) != p->buf.len) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}

int fe_printer_flush(struct fe_printer *p)
{
	if (p->opts.format == FE_OUTPUT_TABLE && p->table.len) {
		struct fe_buf rendered = { 0 };
		struct out o = { &rendered, false };
		if (table_render(p, &o) || o.oom) {
			fe_buf_free(&rendered);
			errno = ENOMEM;
			return -1;
		}
		size_t n = rendered.len;
		bool ok = n == 0 || fwrite(rendered.data, 1, n, p->out) == n;
		fe_buf_free(&rendered);
		if (!ok) {
			if (!errno)
				errno = EIO;
			return -1;
		}
		p->table.len = 0;
	}
	return fflush(p->out) == 0 ? 0 : -1;
}

void fe_printer_free(struct fe_printer *p)
{
	if (!p)
		return;
	fe_buf_free(&p->buf);
	fe_buf_free(&p->table);
	free(p);
}

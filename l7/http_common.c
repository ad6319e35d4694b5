/* SPDX-License-Identifier: BSD-2-Clause */
/* Header names, header lists and URLs as Hubble prints them (see http_common.h). */
#include "http_common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- header names ------------------------------------------------------- */

/* RFC 7230 tchar (what Go's validHeaderFieldByte accepts), by what
 * canonicalisation does with it: 0 not a tchar, 1 a lower-case letter, 2 an
 * upper-case letter, 3 any other tchar. */
static const uint8_t tchar_class[256] = {
	['a' ... 'z'] = 1, ['A' ... 'Z'] = 2, ['0' ... '9'] = 3,
	['!'] = 3, ['#'] = 3, ['$'] = 3, ['%'] = 3, ['&'] = 3, ['\''] = 3, ['*'] = 3,
	['+'] = 3, ['-'] = 3, ['.'] = 3, ['^'] = 3, ['_'] = 3, ['`'] = 3, ['|'] = 3,
	['~'] = 3,
};

void http_canonical_key(const char *name, size_t n, char *out)
{
	/* A name holding a byte that is not a tchar is copied unchanged: in
	 * place, checked before anything is converted; else found on the way. */
	if (out == name) {
		for (size_t i = 0; i < n; i++)
			if (!tchar_class[(unsigned char)name[i]])
				return;
	}
	bool upper = true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		switch (tchar_class[c]) {
		case 0:
			memcpy(out, name, n);
			return;
		case 1:
			if (upper)
				c = (unsigned char)(c - 'a' + 'A');
			break;
		case 2:
			if (!upper)
				c = (unsigned char)(c - 'A' + 'a');
			break;
		default:
			break;
		}
		out[i] = (char)c;
		upper = c == '-';
	}
}

bool http_header_redacted(const struct l7_config *cfg, const char *name, size_t n)
{
	if (!cfg)
		return false;
	for (size_t i = 0; i < cfg->n_redact_headers; i++) {
		const char *r = cfg->redact_headers[i];
		if (r && strlen(r) == n && strncasecmp(r, name, n) == 0)
			return true;
	}
	return false;
}

struct sort_item {
	const char *key;
	size_t key_len;
	size_t index;   /* arrival order: makes qsort stable */
};

static int cmp_item(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);
	if (c)
		return c;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

int http_event_set_headers(struct flow_event *ev, const struct http_header_in *h, size_t n,
                           const struct l7_config *cfg)
{
	ev->l7.http.headers = NULL;
	ev->l7.http.n_headers = 0;
	if (n == 0 || (cfg && cfg->no_headers))
		return 0;
	/* a message has a handful of headers: sorted on the stack, strings
	 * in one piece of the arena */
	struct sort_item local[32];
	struct sort_item *items = n <= 32 ? local : malloc(n * sizeof(*items));
	size_t text = 0;
	for (size_t i = 0; i < n; i++)
		text += h[i].name_len + 1 + h[i].value_len + 1;
	struct fe_http_header *out = fe_alloc(ev, n * sizeof(*out));
	char *str = fe_alloc(ev, text);
	if (!items || !out || !str) {
		if (items != local)
			free(items);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		http_canonical_key(h[i].name, h[i].name_len, str);
		str[h[i].name_len] = '\0';
		struct sort_item it = { str, h[i].name_len, i };
		str += h[i].name_len + 1;
		if (n > 32) {
			items[i] = it;
			continue;
		}
		/* insertion sort: stable, and few items */
		size_t k = i;
		while (k > 0 && cmp_item(&items[k - 1], &it) > 0) {
			items[k] = items[k - 1];
			k--;
		}
		items[k] = it;
	}
	if (n > 32)
		qsort(items, n, sizeof(*items), cmp_item);
	for (size_t i = 0; i < n; i++) {
		const struct http_header_in *in = &h[items[i].index];
		out[i].key = items[i].key;
		if (http_header_redacted(cfg, in->name, in->name_len)) {
			out[i].value = HTTP_REDACTED;
		} else {
			memcpy(str, in->value, in->value_len);
			str[in->value_len] = '\0';
			out[i].value = str;
			str += in->value_len + 1;
		}
	}
	if (items != local)
		free(items);
	ev->l7.http.headers = out;
	ev->l7.http.n_headers = n;
	return 0;
}

/* --- URLs (Go net/url semantics) --------------------------------------- */

size_t http_host_from_conn(const struct l7_conn_info *ci, char *buf, size_t size)
{
	const char *ip = ci && ci->server_ip ? ci->server_ip : "";
	bool v6 = strchr(ip, ':') != NULL;
	int n;
	if (ci && ci->server_port != 80)
		n = snprintf(buf, size, v6 ? "[%s]:%u" : "%s:%u", ip, (unsigned)ci->server_port);
	else
		n = snprintf(buf, size, v6 ? "[%s]" : "%s", ip);
	if (n < 0)
		n = 0;
	return (size_t)n < size ? (size_t)n : (size ? size - 1 : 0);
}

enum url_mode { ENC_PATH, ENC_HOST, ENC_USERPASS, ENC_FRAGMENT };

/* Go's shouldEscape for the modes Hubble's URLs go through. */
static bool should_escape(unsigned char c, enum url_mode mode)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return false;
	if (mode == ENC_HOST) {
		switch (c) {
		case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+':
		case ',': case ';': case '=': case ':': case '[': case ']': case '<': case '>':
		case '"':
			return false;
		}
	}
	switch (c) {
	case '-': case '_': case '.': case '~':
		return false;
	case '$': case '&': case '+': case ',': case '/': case ':': case ';': case '=':
	case '?': case '@':
		switch (mode) {
		case ENC_PATH:
			return c == '?';
		case ENC_USERPASS:
			return c == '@' || c == '/' || c == '?' || c == ':';
		case ENC_FRAGMENT:
			return false;
		case ENC_HOST:
			break;
		}
	}
	if (mode == ENC_FRAGMENT) {
		switch (c) {
		case '!': case '(': case ')': case '*':
			return false;
		}
	}
	return true;
}

/* Go's validEncoded: s needs no further escaping to be printed. */
static bool valid_encoded(const char *s, size_t n, enum url_mode mode)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+':
		case ',': case ';': case '=': case ':': case '@': case '[': case ']': case '%':
			continue;
		}
		if (should_escape(c, mode))
			return false;
	}
	return true;
}

static int unhex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Go's unescape: decodes %XX into out (at least n bytes); returns the
 * decoded length, or -1 where url.Parse would fail. */
static long unescape(const char *s, size_t n, enum url_mode mode, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n || unhex((unsigned char)s[i + 1]) < 0 ||
			    unhex((unsigned char)s[i + 2]) < 0)
				return -1;
			/* in a host only non-ASCII bytes (and %25) may be escaped */
			if (mode == ENC_HOST && unhex((unsigned char)s[i + 1]) < 8 &&
			    memcmp(s + i, "%25", 3) != 0)
				return -1;
			out[o++] = (char)(unhex((unsigned char)s[i + 1]) << 4 |
			                  unhex((unsigned char)s[i + 2]));
			i += 3;
			continue;
		}
		if (mode == ENC_HOST && c < 0x80 && should_escape(c, mode))
			return -1;
		out[o++] = (char)c;
		i++;
	}
	return (long)o;
}

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom || n == 0)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_escape(struct sbuf *b, const char *s, size_t n, enum url_mode mode)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!should_escape(c, mode))
			continue;
		sb_put(b, s + start, i - start);
		char e[3] = { '%', hex[c >> 4], hex[c & 15] };
		sb_put(b, e, 3);
		start = i + 1;
	}
	sb_put(b, s + start, n - start);
}

/* Go's EscapedPath / EscapedFragment of a component parsed from raw: raw
 * itself when it is validly encoded, else Go's escaping of its decoding. */
static bool sb_component(struct sbuf *b, const char *raw, size_t n, enum url_mode mode)
{
	char *dec = malloc(n + 1);
	if (!dec) {
		b->oom = true;
		return false;
	}
	long d = unescape(raw, n, mode, dec);   /* url.Parse fails on a bad escape */
	if (d >= 0) {
		if (valid_encoded(raw, n, mode))
			sb_put(b, raw, n);
		else
			sb_escape(b, dec, (size_t)d, mode);
	}
	free(dec);
	return d >= 0;
}

static const char *mem_rchr(const char *s, size_t n, char c)
{
	for (size_t i = n; i > 0; i--)
		if (s[i - 1] == c)
			return s + i - 1;
	return NULL;
}

static bool valid_optional_port(const char *p, size_t n)
{
	if (n == 0)
		return true;
	if (p[0] != ':')
		return false;
	for (size_t i = 1; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* Go's parseHost + escape(host, encodeHost) on the way out. */
static bool sb_host(struct sbuf *b, const char *h, size_t n)
{
	if (n > 0 && h[0] == '[') {
		const char *rb = mem_rchr(h, n, ']');
		if (!rb)
			return false;
		if (!valid_optional_port(rb + 1, (size_t)(h + n - rb - 1)))
			return false;
	} else {
		const char *colon = mem_rchr(h, n, ':');
		if (colon && !valid_optional_port(colon, (size_t)(h + n - colon)))
			return false;
	}
	char *dec = malloc(n + 1);
	if (!dec) {
		b->oom = true;
		return false;
	}
	long d = unescape(h, n, ENC_HOST, dec);
	if (d >= 0)
		sb_escape(b, dec, (size_t)d, ENC_HOST);
	free(dec);
	return d >= 0;
}

static bool valid_userinfo(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			continue;
		if (!strchr("-._:~!$&'()*+,;=%@", c) || c == 0)
			return false;
	}
	return true;
}

static bool sb_userpass(struct sbuf *b, const char *s, size_t n)
{
	char *dec = malloc(n + 1);
	if (!dec) {
		b->oom = true;
		return false;
	}
	long d = unescape(s, n, ENC_USERPASS, dec);
	if (d >= 0)
		sb_escape(b, dec, (size_t)d, ENC_USERPASS);
	free(dec);
	return d >= 0;
}

/* Go's parseAuthority, printed back as url.String() does. */
static bool sb_authority(struct sbuf *b, const char *a, size_t n)
{
	const char *at = mem_rchr(a, n, '@');
	if (!at)
		return sb_host(b, a, n);
	size_t ui_len = (size_t)(at - a);
	if (!valid_userinfo(a, ui_len))
		return false;
	const char *colon = memchr(a, ':', ui_len);
	if (!colon) {
		if (!sb_userpass(b, a, ui_len))
			return false;
	} else {
		if (!sb_userpass(b, a, (size_t)(colon - a)))
			return false;
		sb_put(b, ":", 1);
		if (!sb_userpass(b, colon + 1, (size_t)(a + ui_len - colon - 1)))
			return false;
	}
	sb_put(b, "@", 1);
	return sb_host(b, at + 1, n - ui_len - 1);
}

/* url.Parse(raw).String() for raw = "<scheme>://...", false where Parse
 * returns an error. */
static bool go_parse_and_print(struct sbuf *b, const char *raw, size_t n)
{
	const char *hash = memchr(raw, '#', n);
	size_t un = hash ? (size_t)(hash - raw) : n;
	for (size_t i = 0; i < un; i++) {
		unsigned char c = (unsigned char)raw[i];
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	const char *sep = memchr(raw, ':', un);   /* scheme is ours: always present */
	if (!sep)
		return false;
	for (const char *p = raw; p < sep; p++) {
		char c = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		sb_put(b, &c, 1);
	}
	sb_put(b, ":", 1);
	const char *rest = sep + 1;
	size_t rn = (size_t)(raw + un - rest);

	/* query: "x?" alone keeps an empty query (ForceQuery) */
	const char *query = NULL;
	size_t qn = 0;
	bool force_query = false;
	const char *q = memchr(rest, '?', rn);
	if (q) {
		if (q == rest + rn - 1) {
			force_query = true;
		} else {
			query = q + 1;
			qn = (size_t)(rest + rn - query);
		}
		rn = (size_t)(q - rest);
	}
	if (rn >= 2 && rest[0] == '/' && rest[1] == '/') {
		const char *auth = rest + 2;
		size_t an = rn - 2;
		const char *slash = memchr(auth, '/', an);
		size_t alen = slash ? (size_t)(slash - auth) : an;
		sb_put(b, "//", 2);
		if (!sb_authority(b, auth, alen))
			return false;
		rest = auth + alen;   /* "" or starts with '/' */
		rn = an - alen;
	}
	if (!sb_component(b, rest, rn, ENC_PATH))
		return false;
	if (force_query || qn) {
		sb_put(b, "?", 1);
		sb_put(b, query, qn);
	}
	if (hash) {
		const char *frag = hash + 1;
		size_t fn = (size_t)(raw + n - frag);
		if (fn) {   /* Go prints "#" only with a non-empty fragment */
			sb_put(b, "#", 1);
			if (!sb_component(b, frag, fn, ENC_FRAGMENT))
				return false;
		}
	}
	return !b->oom;
}

/* Bytes of a path that url.Parse and String() leave as they are: unreserved,
 * sub-delims, ':', '@' and '/'. */
static const bool path_plain[256] = {
	['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true,
	['-'] = true, ['.'] = true, ['_'] = true, ['~'] = true, ['!'] = true, ['$'] = true,
	['&'] = true, ['\''] = true, ['('] = true, [')'] = true, ['*'] = true, ['+'] = true,
	[','] = true, [';'] = true, ['='] = true, [':'] = true, ['@'] = true, ['/'] = true,
};

/* The common case, without parsing and printing back: a lower-case scheme,
 * a host name or IPv4 address with an optional numeric port, a path of
 * plain bytes and a query without controls or '#'. Go prints such a URL
 * exactly as it was built. NULL when the target needs the full treatment
 * (or on allocation failure, which the full treatment then reports). */
static const char *url_as_sent(struct flow_event *ev, const char *scheme, const char *host,
                               size_t host_len, const char *path, size_t path_len)
{
	size_t sl = strlen(scheme);
	if (sl == 0 || host_len == 0)
		return NULL;
	for (size_t i = 0; i < sl; i++)
		if (scheme[i] < 'a' || scheme[i] > 'z')
			return NULL;
	bool port = false;
	for (size_t i = 0; i < host_len; i++) {
		unsigned char c = (unsigned char)host[i];
		if (c >= '0' && c <= '9')
			continue;
		if (port || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
		              c == '.' || c == '_' || c == ':'))
			return NULL;
		port = c == ':';
	}
	size_t i = 0;
	while (i < path_len && path_plain[(unsigned char)path[i]])
		i++;
	if (i < path_len && path[i] != '?')
		return NULL;
	for (; i < path_len; i++) {
		unsigned char c = (unsigned char)path[i];
		if (c < 0x20 || c == 0x7f || c == '#')
			return NULL;
	}
	size_t n = sl + 3 + host_len + 1 + path_len;
	char *out = fe_alloc(ev, n + 1);
	if (!out)
		return NULL;
	char *o = out;
	memcpy(o, scheme, sl);
	o += sl;
	memcpy(o, "://", 3);
	o += 3;
	memcpy(o, host, host_len);
	o += host_len;
	*o++ = '/';
	memcpy(o, path, path_len);
	o[path_len] = '\0';
	return out;
}

const char *http_event_url(struct flow_event *ev, const char *scheme,
                           const char *host, size_t host_len,
                           const char *target, size_t target_len,
                           const struct l7_conn_info *ci)
{
	if (!scheme || !*scheme)
		scheme = "http";
	char scheme_buf[8];
	char conn_host[80];
	if (!target)
		target_len = 0;

	/* absolute-form request target: Envoy takes scheme and authority from it */
	size_t skip = 0;
	if (target_len >= 7 && strncasecmp(target, "http://", 7) == 0)
		skip = 7;
	else if (target_len >= 8 && strncasecmp(target, "https://", 8) == 0)
		skip = 8;
	if (skip) {
		for (size_t i = 0; i < skip - 3; i++)
			scheme_buf[i] = (char)(target[i] >= 'A' && target[i] <= 'Z' ? target[i] - 'A' + 'a'
			                                                         : target[i]);
		scheme_buf[skip - 3] = '\0';
		scheme = scheme_buf;
		size_t e = skip;
		while (e < target_len && target[e] != '/' && target[e] != '?' && target[e] != '#')
			e++;
		host = target + skip;
		host_len = e - skip;
		target += e;
		target_len -= e;
	}
	if (!host || host_len == 0) {
		host_len = http_host_from_conn(ci, conn_host, sizeof(conn_host));
		host = conn_host;
	}

	/* Cilium: url.Parse(fmt.Sprintf("%s://%s/%s", scheme, host, strings.TrimPrefix(path, "/"))) */
	const char *path = target;
	size_t path_len = target_len;
	if (path_len && path[0] == '/') {
		path++;
		path_len--;
		const char *fast = url_as_sent(ev, scheme, host, host_len, path, path_len);
		if (fast)
			return fast;
	}
	struct sbuf raw = { 0 };
	sb_put(&raw, scheme, strlen(scheme));
	sb_put(&raw, "://", 3);
	sb_put(&raw, host, host_len);
	sb_put(&raw, "/", 1);
	sb_put(&raw, path, path_len);
	if (raw.oom) {
		free(raw.p);
		return NULL;
	}

	struct sbuf out = { 0 };
	if (!go_parse_and_print(&out, raw.p, raw.len) && !out.oom) {
		/* Parse failed: &url.URL{Scheme, Host, Path: path}.String() */
		out.len = 0;
		sb_put(&out, scheme, strlen(scheme));
		sb_put(&out, "://", 3);
		sb_escape(&out, host, host_len, ENC_HOST);
		if (target_len == 1 && target[0] == '*') {
			sb_put(&out, "/*", 2);
		} else {
			if (target_len && target[0] != '/' && host_len)
				sb_put(&out, "/", 1);
			sb_escape(&out, target, target_len, ENC_PATH);
		}
	}
	free(raw.p);
	const char *s = out.oom ? NULL : fe_strndup(ev, out.p ? out.p : "", out.len);
	free(out.p);
	return s;
}

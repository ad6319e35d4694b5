/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What HTTP/1.x (http1.c) and HTTP/2 (http2.c) share: turning header fields
 * and request targets into the `l7.http` fields exactly as Hubble prints
 * them. Hubble's HTTP flows come from Envoy access-log records decoded by Go
 * code (cilium/cilium pkg/envoy, pkg/hubble/parser/seven/http.go), so the
 * rules below are Go's: textproto.CanonicalMIMEHeaderKey for header names,
 * sort.Strings over the keys, net/url for the URL.
 */
#ifndef FLOWD_L7_HTTP_COMMON_H
#define FLOWD_L7_HTTP_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "flow_event.h"
#include "l7.h"

/* The value Hubble writes for a redacted header (defaults.SensitiveValueRedacted). */
#define HTTP_REDACTED "HUBBLE_REDACTED"

/* One header field as seen on the wire (not NUL-terminated). */
struct http_header_in {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/* Go's textproto.CanonicalMIMEHeaderKey: "content-type" -> "Content-Type",
 * "x-request-id" -> "X-Request-Id". A name holding a byte that is not an
 * RFC 7230 token character (space, ':', ...) is copied unchanged. Writes
 * exactly n bytes to out (no terminator); out may equal name. */
void http_canonical_key(const char *name, size_t n, char *out);

/* True if cfg lists this header (case-insensitive) for redaction. */
bool http_header_redacted(const struct l7_config *cfg, const char *name, size_t n);

/* Sets ev->l7.http.headers / n_headers from n wire headers: canonical keys,
 * stable-sorted by key (bytewise, like Go's sort.Strings over the map keys
 * with values in arrival order), one entry per value, redacted values as
 * HTTP_REDACTED. All strings go to the event's arena. Returns 0, or -1 on
 * allocation failure (headers then left empty). Leaves them empty when
 * cfg->no_headers. */
int http_event_set_headers(struct flow_event *ev, const struct http_header_in *h, size_t n,
                           const struct l7_config *cfg);

/* The server address as a URL host: "198.18.0.2", "198.18.0.2:8080",
 * "[2001:db8::2]:8080"; the port is left out when it is 80. Returns the
 * length written (always NUL-terminated; truncated to size-1). */
size_t http_host_from_conn(const struct l7_conn_info *ci, char *buf, size_t size);

/*
 * The URL Hubble prints: Envoy's scheme, authority and path go through
 * Go's url.Parse("<scheme>://<host>/<path without its leading '/'>") and
 * url.String(), so valid targets come out as sent and the rest is
 * percent-escaped the way Go does it ("/a b" -> "/a%20b", "/{x}" ->
 * "/%7Bx%7D"); a target url.Parse rejects falls back to Go's escaping of
 * the whole target as a path (a '?' then becomes %3F).
 *
 * host/host_len: the Host header or :authority; NULL or empty: the server
 * address from ci (see http_host_from_conn). target: the request target or
 * :path as sent ("/p?q", "*", "" for CONNECT). An absolute-form target
 * ("http://h/p") supplies scheme and host itself, as Envoy does.
 * Returns a string in ev's arena, or NULL on allocation failure.
 */
const char *http_event_url(struct flow_event *ev, const char *scheme,
                           const char *host, size_t host_len,
                           const char *target, size_t target_len,
                           const struct l7_conn_info *ci);

#endif /* FLOWD_L7_HTTP_COMMON_H */

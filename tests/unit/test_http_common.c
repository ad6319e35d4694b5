/* l7/http_common: header names, header lists, URLs as Hubble prints them.
 * Expected values follow Go's textproto/net/url behaviour (what Hubble runs). */
#include "check.h"
#include "http_common.h"

#include <stdlib.h>

static void canon(const char *in, const char *want)
{
	char buf[128];
	size_t n = strlen(in);
	http_canonical_key(in, n, buf);
	buf[n] = '\0';
	char name[160];
	snprintf(name, sizeof(name), "canonical key '%s'", in);
	CHECK_STR(name, buf, want);
}

static void test_canonical(void)
{
	canon("content-type", "Content-Type");
	canon("x-request-id", "X-Request-Id");
	canon("WWW-AUTHENTICATE", "Www-Authenticate");
	canon("Host", "Host");
	canon("a--b", "A--B");
	canon("x_y-z", "X_y-Z");
	canon("1abc-def", "1abc-Def");
	canon("foo bar", "foo bar");          /* space: Go leaves it alone */
	canon(":authority", ":authority");    /* ':' is no token char */
	canon("x-\xc3\xa4", "x-\xc3\xa4");    /* non-ASCII: unchanged */
	canon("", "");
	/* in place */
	char b[] = "user-agent";
	http_canonical_key(b, strlen(b), b);
	CHECK_STR("canonical key in place", b, "User-Agent");
}

static void test_headers(void)
{
	const char *redact[] = { "authorization", "X-TOKEN" };
	struct l7_config cfg = { .redact_headers = redact, .n_redact_headers = 2 };
	struct http_header_in in[] = {
		{ "User-Agent", 10, "curl/8.0", 8 },
		{ "accept", 6, "*/*", 3 },
		{ "Set-Cookie", 10, "a=1", 3 },
		{ "x-token", 7, "secret", 6 },
		{ "set-cookie", 10, "b=2", 3 },
		{ "a b", 3, "odd", 3 },
		{ "Authorization", 13, "Bearer x", 8 },
	};
	struct flow_event *ev = flow_event_new();
	CHECK("headers: set", http_event_set_headers(ev, in, 7, &cfg) == 0);
	CHECK_U64("headers: count (one per value)", ev->l7.http.n_headers, 7);
	const char *want[][2] = {
		{ "Accept", "*/*" }, { "Authorization", HTTP_REDACTED }, { "Set-Cookie", "a=1" },
		{ "Set-Cookie", "b=2" }, { "User-Agent", "curl/8.0" }, { "X-Token", HTTP_REDACTED },
		{ "a b", "odd" },
	};
	for (size_t i = 0; i < 7 && i < ev->l7.http.n_headers; i++) {
		char name[64];
		snprintf(name, sizeof(name), "headers[%zu] key", i);
		CHECK_STR(name, ev->l7.http.headers[i].key, want[i][0]);
		snprintf(name, sizeof(name), "headers[%zu] value", i);
		CHECK_STR(name, ev->l7.http.headers[i].value, want[i][1]);
	}
	CHECK("headers: no cfg, no redaction", http_event_set_headers(ev, in + 3, 1, NULL) == 0 &&
	      ev->l7.http.n_headers == 1 && strcmp(ev->l7.http.headers[0].value, "secret") == 0);
	CHECK("headers: empty list", http_event_set_headers(ev, in, 0, &cfg) == 0 &&
	      ev->l7.http.n_headers == 0 && ev->l7.http.headers == NULL);
	CHECK("redacted: case-insensitive", http_header_redacted(&cfg, "x-token", 7));
	CHECK("redacted: prefix is not a match", !http_header_redacted(&cfg, "x-tok", 5));
	flow_event_free(ev);
}

static struct l7_conn_info ci4 = { L7_TCP, "198.18.0.1", "198.18.0.2", 40000, 8080, false };
static struct l7_conn_info ci4_80 = { L7_TCP, "198.18.0.1", "198.18.0.2", 40000, 80, false };
static struct l7_conn_info ci6_80 = { L7_TCP, "2001:db8::1", "2001:db8::2", 40000, 80, false };
static struct l7_conn_info ci6 = { L7_TCP, "2001:db8::1", "2001:db8::2", 40000, 8443, false };

static void url(const char *name, const char *host, const char *target,
                const struct l7_conn_info *ci, const char *want)
{
	struct flow_event *ev = flow_event_new();
	const char *got = http_event_url(ev, "http", host, host ? strlen(host) : 0,
	                                 target, strlen(target), ci);
	CHECK_STR(name, got, want);
	flow_event_free(ev);
}

static void test_url(void)
{
	url("url: plain", "example.com", "/path?q=1&b=2", &ci4, "http://example.com/path?q=1&b=2");
	url("url: host with port kept", "Example.COM:8080", "/", &ci4, "http://Example.COM:8080/");
	url("url: no host -> server ip:port", NULL, "/x", &ci4, "http://198.18.0.2:8080/x");
	url("url: empty host -> server ip", "", "/x", &ci4_80, "http://198.18.0.2/x");
	url("url: ipv6 server, port 80", NULL, "/", &ci6_80, "http://[2001:db8::2]/");
	url("url: ipv6 server, port 8443", NULL, "/a", &ci6, "http://[2001:db8::2]:8443/a");
	url("url: empty target", "h", "", &ci4, "http://h/");
	url("url: asterisk", "h", "*", &ci4, "http://h/*");
	url("url: space escaped", "h", "/a b", &ci4, "http://h/a%20b");
	url("url: braces escaped", "h", "/{x}|", &ci4, "http://h/%7Bx%7D%7C");
	url("url: valid escapes kept", "h", "/a%2fb/%41", &ci4, "http://h/a%2fb/%41");
	url("url: bad escape -> fallback", "h", "/a%zz?q", &ci4, "http://h/a%25zz%3Fq");
	url("url: utf-8 path escaped", "h", "/\xc3\xbc", &ci4, "http://h/%C3%BC");
	url("url: query verbatim", "h", "/p?q=\xc3\xbc&x={y}", &ci4, "http://h/p?q=\xc3\xbc&x={y}");
	url("url: empty query kept", "h", "/p?", &ci4, "http://h/p?");
	url("url: second ? in query", "h", "/p?a?", &ci4, "http://h/p?a?");
	url("url: fragment", "h", "/p?x=1#frag", &ci4, "http://h/p?x=1#frag");
	url("url: empty fragment dropped", "h", "/p#", &ci4, "http://h/p");
	url("url: control char -> fallback", "h", "/a\x01", &ci4, "http://h/a%01");
	url("url: double slash kept", "h", "//a//b", &ci4, "http://h//a//b");
	url("url: relative target", "h", "a/b", &ci4, "http://h/a/b");
	url("url: host with space -> fallback", "exa mple", "/p?q", &ci4,
	    "http://exa%20mple/p%3Fq");
	url("url: host with bad port -> fallback", "h:abc", "/p", &ci4, "http://h:abc/p");
	url("url: ipv6 host header", "[2001:db8::5]:81", "/", &ci4, "http://[2001:db8::5]:81/");
	url("url: userinfo", "u:p@h", "/", &ci4, "http://u:p@h/");
	url("url: absolute-form", "ignored", "http://Other.example:81/x?y", &ci4,
	    "http://Other.example:81/x?y");
	url("url: absolute-form https, no path", "ignored", "HTTPS://a.example", &ci4,
	    "https://a.example/");
	url("url: absolute-form query only", NULL, "http://a?x=1", &ci4, "http://a/?x=1");
	url("url: host percent-escape non-ascii", "%c3%a9.example", "/", &ci4,
	    "http://%C3%A9.example/");
	url("url: host ascii escape -> fallback", "%41.example", "/", &ci4,
	    "http://%2541.example/");

	char buf[64];
	http_host_from_conn(&ci6, buf, sizeof(buf));
	CHECK_STR("host_from_conn v6", buf, "[2001:db8::2]:8443");
	size_t n = http_host_from_conn(&ci4, buf, 8);
	CHECK("host_from_conn truncates", n == 7 && strcmp(buf, "198.18.") == 0);
}

int main(void)
{
	test_canonical();
	test_headers();
	test_url();
	return CHECK_DONE();
}

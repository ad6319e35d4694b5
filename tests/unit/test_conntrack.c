/* lib/conntrack.c: the table semantics (offline, fed events), the live
 * netlink handle in this namespace, the notice without permission; and a
 * helper for tests/netns/test_conntrack.sh, which runs it inside a router
 * namespace with nftables DNAT and SNAT and real traffic:
 *
 *   test_conntrack                        unit tests
 *   test_conntrack watch DONEFILE SECS TUPLE...
 *       subscribe (no initial dump), follow events until DONEFILE exists
 *       (at most SECS), then print the lookup of each TUPLE and the counters
 *   test_conntrack get TUPLE...
 *       no events, no dump: ask the kernel for each TUPLE (on demand)
 *
 * TUPLE: proto,src,sport,dst,dport (e.g. tcp,198.18.0.2,40123,198.18.0.1,8080).
 */
#include "check.h"
#include "conntrack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct ct_tuple T(const char *proto, const char *s, uint16_t sp, const char *d, uint16_t dp)
{
	struct ct_tuple t;
	memset(&t, 0, sizeof(t));
	t.proto = !strcmp(proto, "tcp") ? 6 : !strcmp(proto, "udp") ? 17 : !strcmp(proto, "icmp") ? 1 : 58;
	if (inet_pton(AF_INET, s, t.src) == 1) {
		t.family = 4;
		inet_pton(AF_INET, d, t.dst);
	} else {
		t.family = 6;
		inet_pton(AF_INET6, s, t.src);
		inet_pton(AF_INET6, d, t.dst);
	}
	t.sport = sp;
	t.dport = dp;
	return t;
}

static int parse_tuple(const char *arg, struct ct_tuple *t)
{
	char buf[256], *f[5], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", arg);
	int n = 0;
	for (char *p = strtok_r(buf, ",", &save); p && n < 5; p = strtok_r(NULL, ",", &save))
		f[n++] = p;
	if (n != 5)
		return -1;
	*t = T(f[0], f[1], (uint16_t)atoi(f[2]), f[3], (uint16_t)atoi(f[4]));
	return 0;
}

static const char *where_name(enum ct_where w)
{
	static const char *const n[] = { "orig-pre-nat", "orig-post-nat", "reply-pre-nat", "reply-post-nat" };
	return n[w];
}

/* One line per lookup: where, both tuples, source_xlated, extension JSON. */
static void describe(const char *arg, const struct ct_entry *e, enum ct_where w, char *out, size_t n)
{
	if (!e) {
		snprintf(out, n, "%s => none", arg);
		return;
	}
	char o[120], r[120];
	ct_tuple_format(&e->orig, o, sizeof(o));
	ct_tuple_format(&e->reply, r, sizeof(r));
	struct flow_event *ev = flow_event_new();
	ct_label_event(e, w, ev);
	struct fe_buf b = { 0 };
	ct_entry_json(e, w, &b);
	snprintf(out, n, "%s => %s | %s | %s | xlated=%s | %.*s", arg, where_name(w), o, r,
	         ev->ip_src_xlated[0] ? ev->ip_src_xlated : "-", (int)b.len, b.data ? b.data : "");
	fe_buf_free(&b);
	flow_event_free(ev);
}

static int helper_watch(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	const char *done = argv[2];
	int secs = atoi(argv[3]);
	char err[300];
	struct ct_table *t;
	struct ct_opts o = { .no_initial_dump = true };
	if (ct_open(&t, &o, err, sizeof(err))) {
		printf("open failed: %s\n", err);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct stat st;
	for (;;) {
		struct pollfd p = { .fd = ct_fd(t), .events = POLLIN };
		poll(&p, 1, 100);
		ct_process(t);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!stat(done, &st) || now.tv_sec - t0.tv_sec > secs)
			break;
	}
	ct_process(t);
	for (int i = 4; i < argc; i++) {
		struct ct_tuple tu;
		char line[1200];
		if (parse_tuple(argv[i], &tu)) {
			printf("%s => bad tuple\n", argv[i]);
			continue;
		}
		enum ct_where w = 0;
		const struct ct_entry *e = ct_lookup(t, &tu, &w);
		describe(argv[i], e, w, line, sizeof(line));
		printf("%s\n", line);
	}
	struct ct_stats s;
	ct_get_stats(t, &s);
	printf("stats: new>=2 %s, dumped %llu, overruns %llu\n", s.events_new >= 2 ? "yes" : "no",
	       (unsigned long long)s.dumped, (unsigned long long)s.overruns);
	ct_close(t);
	return 0;
}

static int helper_get(int argc, char **argv)
{
	char err[300];
	struct ct_table *t;
	struct ct_opts o = { .no_events = true, .no_initial_dump = true };
	if (ct_open(&t, &o, err, sizeof(err))) {
		printf("open failed: %s\n", err);
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		struct ct_tuple tu;
		char line[1200];
		if (parse_tuple(argv[i], &tu)) {
			printf("%s => bad tuple\n", argv[i]);
			continue;
		}
		enum ct_where w = 0;
		const struct ct_entry *e = ct_query(t, &tu, &w);
		describe(argv[i], e, w, line, sizeof(line));
		printf("%s\n", line);
	}
	struct ct_stats s;
	ct_get_stats(t, &s);
	printf("stats: queries %llu, hits %llu, dumped %llu\n", (unsigned long long)s.queries,
	       (unsigned long long)s.query_hits, (unsigned long long)s.dumped);
	ct_close(t);
	return 0;
}

/* --- unit tests ----------------------------------------------------------------- */

static struct ct_entry entry_nat(void)
{
	/* client 198.18.0.2:40123 -> service 198.18.0.1:8080, DNAT to backend
	 * 198.19.0.2:80, SNAT to 198.19.0.1 */
	struct ct_entry e;
	memset(&e, 0, sizeof(e));
	e.orig = T("tcp", "198.18.0.2", 40123, "198.18.0.1", 8080);
	e.reply = T("tcp", "198.19.0.2", 80, "198.19.0.1", 40123);
	e.status = CT_STATUS_SRC_NAT | CT_STATUS_DST_NAT | CT_STATUS_SEEN_REPLY;
	e.tcp_state = 3;
	e.id = 7;
	return e;
}

static void test_offline(void)
{
	char err[200], line[1200];
	struct ct_table *t;
	struct ct_opts o = { .offline = true, .max_entries = 3, .destroyed_ttl_ns = 50 * 1000000ull };
	CHECK("offline table", ct_open(&t, &o, err, sizeof(err)) == 0);
	CHECK("offline: no fd", ct_fd(t) == -1);
	struct ct_entry e = entry_nat();
	ct_feed(t, CT_EV_NEW, &e);

	struct { const char *name; struct ct_tuple seen; const char *want; } cases[] = {
		{ "client side, forward", T("tcp", "198.18.0.2", 40123, "198.18.0.1", 8080),
		  "x => orig-pre-nat | tcp 198.18.0.2:40123 -> 198.18.0.1:8080 | tcp 198.19.0.2:80 -> "
		  "198.19.0.1:40123 | xlated=198.19.0.1 | {\"state\":\"ESTABLISHED\",\"nat\":[\"SNAT\",\"DNAT\"],"
		  "\"original\":{\"source\":\"198.18.0.2\",\"source_port\":40123,\"destination\":\"198.18.0.1\","
		  "\"destination_port\":8080},\"reply\":{\"source\":\"198.19.0.2\",\"source_port\":80,"
		  "\"destination\":\"198.19.0.1\",\"destination_port\":40123},\"direction\":\"original\"}" },
		{ "backend side, forward", T("tcp", "198.19.0.1", 40123, "198.19.0.2", 80),
		  "x => orig-post-nat | tcp 198.18.0.2:40123 -> 198.18.0.1:8080 | tcp 198.19.0.2:80 -> "
		  "198.19.0.1:40123 | xlated=- | {\"state\":\"ESTABLISHED\",\"nat\":[\"SNAT\",\"DNAT\"],"
		  "\"original\":{\"source\":\"198.18.0.2\",\"source_port\":40123,\"destination\":\"198.18.0.1\","
		  "\"destination_port\":8080},\"reply\":{\"source\":\"198.19.0.2\",\"source_port\":80,"
		  "\"destination\":\"198.19.0.1\",\"destination_port\":40123},\"direction\":\"original\"}" },
		{ "backend side, reply", T("tcp", "198.19.0.2", 80, "198.19.0.1", 40123), NULL },
		{ "client side, reply", T("tcp", "198.18.0.1", 8080, "198.18.0.2", 40123), NULL },
		{ "unknown", T("tcp", "198.18.0.2", 40124, "198.18.0.1", 8080), "x => none" },
	};
	enum ct_where want_where[] = { CT_ORIG_PRE_NAT, CT_ORIG_POST_NAT, CT_REPLY_PRE_NAT, CT_REPLY_POST_NAT, 0 };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum ct_where w = 0;
		const struct ct_entry *f = ct_lookup(t, &cases[i].seen, &w);
		if (cases[i].want) {
			describe("x", f, w, line, sizeof(line));
			CHECK_STR(cases[i].name, line, cases[i].want);
		} else {
			CHECK(cases[i].name, f && f->id == 7 && w == want_where[i]);
		}
	}

	/* no NAT: two keys, not four */
	struct ct_entry plain;
	memset(&plain, 0, sizeof(plain));
	plain.orig = T("udp", "198.18.0.2", 5000, "198.18.0.9", 53);
	plain.reply = T("udp", "198.18.0.9", 53, "198.18.0.2", 5000);
	plain.id = 8;
	ct_feed(t, CT_EV_NEW, &plain);
	enum ct_where w = 9;
	const struct ct_entry *f = ct_lookup(t, &plain.reply, &w);
	CHECK("plain reply found", f && f->id == 8 && w == CT_REPLY_PRE_NAT);
	struct fe_buf b = { 0 };
	ct_entry_json(f, w, &b);
	CHECK_STR("plain JSON (no state for UDP, no nat)",
	          b.data ? b.data : "",
	          "{\"original\":{\"source\":\"198.18.0.2\",\"source_port\":5000,\"destination\":\"198.18.0.9\","
	          "\"destination_port\":53},\"reply\":{\"source\":\"198.18.0.9\",\"source_port\":53,"
	          "\"destination\":\"198.18.0.2\",\"destination_port\":5000},\"direction\":\"reply\"}");
	fe_buf_free(&b);

	/* update moves state; destroy keeps the entry for late flows */
	e.tcp_state = 7;
	ct_feed(t, CT_EV_UPDATE, &e);
	f = ct_lookup(t, &e.orig, NULL);
	CHECK_STR("update: TIME_WAIT", f ? ct_tcp_state_name(f) : "", "TIME_WAIT");
	ct_feed(t, CT_EV_DESTROY, &e);
	f = ct_lookup(t, &e.orig, NULL);
	CHECK("destroyed entry kept", f && f->destroyed);
	struct ct_stats st;
	ct_get_stats(t, &st);
	CHECK_U64("entries", st.entries, 2);

	/* a new connection reusing the tuple replaces the destroyed one */
	struct ct_entry again = entry_nat();
	again.id = 9;
	again.tcp_state = 1;
	ct_feed(t, CT_EV_NEW, &again);
	f = ct_lookup(t, &again.orig, NULL);
	CHECK("reused tuple: new entry", f && f->id == 9 && !f->destroyed);
	ct_get_stats(t, &st);
	CHECK_U64("reused tuple: still 2 entries", st.entries, 2);

	/* bounded: the least recently updated goes */
	struct ct_entry more[3];
	for (int i = 0; i < 3; i++) {
		memset(&more[i], 0, sizeof(more[i]));
		char ip[32];
		snprintf(ip, sizeof(ip), "198.18.1.%d", i + 1);
		more[i].orig = T("tcp", ip, 1000, "198.18.0.9", 22);
		more[i].reply = T("tcp", "198.18.0.9", 22, ip, 1000);
		more[i].id = 100 + (uint32_t)i;
		ct_feed(t, CT_EV_NEW, &more[i]);
	}
	ct_get_stats(t, &st);
	CHECK_U64("bounded: 3 entries", st.entries, 3);
	CHECK_U64("bounded: 2 evicted", st.evicted, 2);
	CHECK("oldest (plain UDP) evicted", ct_lookup(t, &plain.orig, NULL) == NULL);
	CHECK("newest kept", ct_lookup(t, &more[2].orig, NULL) != NULL);

	/* destroyed entries expire after the TTL */
	ct_feed(t, CT_EV_DESTROY, &more[2]);
	usleep(80000);
	ct_process(t);
	ct_get_stats(t, &st);
	CHECK_U64("destroyed entry expired", st.expired, 1);
	CHECK("live entries stay", ct_lookup(t, &more[1].orig, NULL) != NULL);

	/* IPv6 formatting */
	struct ct_tuple v6 = T("tcp", "2001:db8::1", 443, "2001:db8::2", 50000);
	ct_tuple_format(&v6, line, sizeof(line));
	CHECK_STR("IPv6 tuple text", line, "tcp [2001:db8::1]:443 -> [2001:db8::2]:50000");
	ct_close(t);
}

static void test_live(void)
{
	char err[300];
	struct ct_table *t;
	int rc = ct_open(&t, NULL, err, sizeof(err));
	CHECK("live conntrack opens (root)", rc == 0);
	if (rc) {
		printf("  %s\n", err);
		return;
	}
	CHECK("event fd", ct_fd(t) >= 0);
	CHECK("process with nothing pending", ct_process(t) >= 0);
	struct ct_tuple nobody = T("tcp", "192.0.2.1", 1, "192.0.2.2", 1);
	CHECK("on-demand query of an unknown tuple", ct_query(t, &nobody, NULL) == NULL);
	struct ct_stats st;
	ct_get_stats(t, &st);
	CHECK_U64("one query, no hit", st.queries - st.query_hits, 1);
	ct_close(t);
}

/* Without CAP_NET_ADMIN: a clear notice, no crash. */
static void test_no_permission(void)
{
	int pfd[2];
	if (pipe(pfd))
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		if (setgid(65534) || setuid(65534))
			_exit(3);
		char err[300] = "";
		struct ct_table *t;
		int rc = ct_open(&t, NULL, err, sizeof(err));
		dprintf(pfd[1], "%d %s", rc, err);
		_exit(0);
	}
	close(pfd[1]);
	char buf[400] = "";
	ssize_t n = read(pfd[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	int status;
	waitpid(pid, &status, 0);
	char want[300];
	snprintf(want, sizeof(want), "%d conntrack: no permission to subscribe to conntrack events "
	         "(CAP_NET_ADMIN needed); NAT enrichment off", -EPERM);
	CHECK_STR("unprivileged: notice", buf, want);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "watch"))
		return helper_watch(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "get"))
		return helper_get(argc, argv);
	test_offline();
	test_live();
	test_no_permission();
	return CHECK_DONE();
}

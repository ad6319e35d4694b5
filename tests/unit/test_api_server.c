/* The socket API (flowd/api_server.c) with real Unix sockets in one
 * process: requests, server-side filters and selectors, exact output lines,
 * errors, several clients, a stalled client (loses exactly what the ring
 * overwrote, others unaffected), a vanished client, limits, socket file
 * handling. */
#include "check.h"
#include "../../flowd/api_server.h"
#include "flow_json.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SEC 1000000000ull
#define T0 (1739527200ull * SEC) /* 2025-02-14T10:00:00Z */

static char sock_path[108];
static struct api_server *srv;
static struct observer *obs;

static struct flow_event *flow(unsigned n)
{
	struct flow_event *ev = flow_event_new();
	ev->time_ns = T0 + n * SEC;
	ev->verdict = FE_FORWARDED;
	ev->has_ip = true;
	strcpy(ev->ip_src, "198.18.0.1");
	strcpy(ev->ip_dst, "198.18.0.2");
	ev->ip_version = FE_IPV4;
	ev->l4 = FE_L4_TCP;
	ev->sport = (uint16_t)(1000 + n);
	ev->dport = 80;
	ev->type = FE_TYPE_L3_L4;
	ev->event_type = 4;
	return ev;
}

/* The exact line flowd must send for flow n. */
static const char *line_of(unsigned n)
{
	static struct fe_buf bufs[4];
	static unsigned k;
	struct fe_buf *bp = &bufs[k++ % 4];
#define b (*bp)
	struct flow_event *ev = flow(n);
	struct fe_record rec = { .kind = FE_REC_FLOW, .flow = ev };
	b.len = 0;
	fe_record_to_json(&rec, &b);
	fe_buf_append(&b, "", 1);
	flow_event_free(ev);
	return b.data;
#undef b
}

static void push(unsigned from, unsigned to)
{
	for (unsigned n = from; n <= to; n++)
		observer_push_flow(obs, flow(n), T0 + n * SEC);
}

/* Let the server run until nothing happens for a few ms. */
static void serve(void)
{
	struct pollfd p = { .fd = api_server_fd(srv), .events = POLLIN };
	while (poll(&p, 1, 3) > 0)
		api_server_handle(srv, T0 + 100 * SEC);
}

static int connect_client(int rcvbuf)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, sock_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		printf("connect: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int request(const char *json, int rcvbuf)
{
	int fd = connect_client(rcvbuf);
	if (fd >= 0 && (write(fd, json, strlen(json)) < 0 || write(fd, "\n", 1) < 0))
		printf("write: %s\n", strerror(errno));
	return fd;
}

struct reader {
	char *data;
	size_t len;
	bool eof;
};

/* Read what is there without blocking (serving in between). */
static void read_some(int fd, struct reader *r)
{
	for (;;) {
		char tmp[65536];
		ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n > 0) {
			r->data = realloc(r->data, r->len + (size_t)n + 1);
			memcpy(r->data + r->len, tmp, (size_t)n);
			r->len += (size_t)n;
			r->data[r->len] = '\0';
			continue;
		}
		if (n == 0)
			r->eof = true;
		return;
	}
}

/* A whole non-following answer: serve and read until the server closes. */
static char *answer(const char *json)
{
	static struct reader r;
	free(r.data);
	r = (struct reader){ .data = calloc(1, 1) };
	int fd = request(json, 0);
	for (int i = 0; i < 500 && !r.eof; i++) {
		serve();
		read_some(fd, &r);
	}
	close(fd);
	return r.eof ? r.data : (char *)"(no EOF)";
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void start(uint32_t capacity, size_t client_buffer, size_t max_clients)
{
	char err[300];
	obs = observer_new(&(struct observer_config){ .capacity = capacity, .node_name = "node1",
	                                               .start_ns = T0 },
	                   err, sizeof(err));
	srv = api_server_new(&(struct api_server_config){ .path = sock_path, .client_buffer = client_buffer,
	                                                  .max_clients = max_clients, .version = "flowd test" },
	                     obs, err, sizeof(err));
	if (!srv)
		printf("api_server_new: %s\n", err);
}

static void stop(void)
{
	api_server_free(srv);
	observer_free(obs);
	srv = NULL;
	obs = NULL;
}

static int extra_status(void *user, struct fe_buf *out)
{
	(void)user;
	return fe_buf_append(out, ",\"interfaces\":[]", 16);
}

static void test_requests(void)
{
	char err[300];
	obs = observer_new(&(struct observer_config){ .capacity = 7, .node_name = "node1", .start_ns = T0 }, err,
	                   sizeof(err));
	srv = api_server_new(&(struct api_server_config){ .path = sock_path, .version = "flowd test",
	                                                  .status = extra_status },
	                     obs, err, sizeof(err));
	CHECK("server up", srv != NULL);
	struct stat st;
	CHECK("socket mode 0660", stat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0660);
	push(0, 9); /* the ring keeps 3..9 */

	char want[8192];
	snprintf(want, sizeof(want), "%s%s%s", line_of(7), line_of(8), line_of(9));
	CHECK_STR("last 3: exact lines", answer("{\"request\":\"flows\",\"last\":3}"), want);
	snprintf(want, sizeof(want), "%s%s", line_of(3), line_of(4));
	CHECK_STR("first 2", answer("{\"request\":\"flows\",\"first\":\"2\"}"), want);
	snprintf(want, sizeof(want), "%s", line_of(5));
	CHECK_STR("server-side filter",
	          answer("{\"request\":\"flows\",\"all\":true,\"filters\":{\"allowlist\":[{\"source_port\":[\"1005\"]}]}}"),
	          want);
	snprintf(want, sizeof(want), "%s%s", line_of(7), line_of(9));
	CHECK_STR("allow + deny, last 2",
	          answer("{\"request\":\"flows\",\"last\":2,\"filters\":{\"allowlist\":[{\"destination_port\":[\"80\"]}],"
	                 "\"denylist\":[{\"source_port\":[\"1008\"]}]}}"),
	          want);
	snprintf(want, sizeof(want), "%s%s", line_of(5), line_of(6));
	CHECK_STR("since/until",
	          answer("{\"request\":\"flows\",\"since\":\"2025-02-14T10:00:05Z\",\"until\":\"2025-02-14T10:00:06Z\"}"),
	          want);
	CHECK_STR("field mask",
	          answer("{\"request\":\"flows\",\"last\":1,\"field_mask\":[\"time\",\"l4.TCP.source_port\"]}"),
	          "{\"flow\":{\"time\":\"2025-02-14T10:00:09Z\",\"l4\":{\"TCP\":{\"source_port\":1009}}},"
	          "\"time\":\"2025-02-14T10:00:09Z\"}\n");
	CHECK_STR("no selector: nothing", answer("{\"request\":\"flows\"}"), "");

	const char *s = answer("{\"request\":\"status\"}");
	static const char status_head[] = "{\"num_flows\":\"7\",\"max_flows\":\"7\",\"seen_flows\":\"10\",\"uptime_ns\":\"100000000000\","
	                  "\"version\":\"flowd test\",\"lost_events\":{\"PERF_EVENT_RING_BUFFER\":\"0\","
	                  "\"OBSERVER_EVENTS_QUEUE\":\"0\",\"HUBBLE_RING_BUFFER\":\"0\"},\"api\":{\"socket\":";
	CHECK("status: Hubble fields", !strncmp(s, status_head, sizeof(status_head) - 1));
	CHECK("status: request counters", strstr(s, "\"requests_flows\":\"7\",\"requests_status\":\"1\",\"requests_bad\":\"0\"") != NULL);
	CHECK("status: daemon members, one line", strstr(s, ",\"interfaces\":[]}\n") && count_lines(s) == 1);

	/* bad requests: one error line, then the connection is closed */
	CHECK_STR("not JSON", answer("hello"),
	          "{\"error\":\"request is not a JSON object: '[' or '{' expected near 'hello'\"}\n");
	CHECK_STR("unknown request", answer("{\"request\":\"nope\"}"),
	          "{\"error\":\"\\\"request\\\" must be \\\"flows\\\" or \\\"status\\\"\"}\n");
	CHECK_STR("unknown field", answer("{\"request\":\"flows\",\"lats\":3}"),
	          "{\"error\":\"unknown request field \\\"lats\\\"\"}\n");
	CHECK_STR("first with follow", answer("{\"request\":\"flows\",\"first\":3,\"follow\":true}"),
	          "{\"error\":\"first cannot be specified with follow\"}\n");
	CHECK_STR("first with last", answer("{\"request\":\"flows\",\"first\":3,\"last\":2}"),
	          "{\"error\":\"first cannot be combined with last or all\"}\n");
	CHECK_STR("negative last", answer("{\"request\":\"flows\",\"last\":-3}"),
	          "{\"error\":\"\\\"last\\\" must be a non-negative integer\"}\n");
	CHECK_STR("bad time", answer("{\"request\":\"flows\",\"since\":\"yesterday\"}"),
	          "{\"error\":\"\\\"since\\\" must be an RFC 3339 time (2025-02-14T10:00:00Z)\"}\n");
	CHECK_STR("bad filter", answer("{\"request\":\"flows\",\"filters\":{\"allowlist\":[{\"source_prt\":[\"1\"]}]}}"),
	          "{\"error\":\"filters: allowlist[0]: unknown field \\\"source_prt\\\"\"}\n");
	CHECK_STR("bad mask", answer("{\"request\":\"flows\",\"field_mask\":[\"sauce\"]}"),
	          "{\"error\":\"invalid field mask path \\\"sauce\\\": unknown field \\\"sauce\\\"\"}\n");
	CHECK_STR("status with extra fields", answer("{\"request\":\"status\",\"last\":1}"),
	          "{\"error\":\"a status request has no other fields\"}\n");
	char *big = malloc(70000);
	memset(big, ' ', 69999);
	big[0] = '{';
	big[69999] = '\0';
	CHECK_STR("request too long", answer(big), "{\"error\":\"request longer than 64 KiB\"}\n");
	free(big);
	struct api_server_stats ast;
	api_server_get_stats(srv, &ast);
	CHECK_U64("bad requests counted", ast.requests_bad, 11);
	CHECK_U64("no client left", ast.clients, 0);

	/* a second server on the same live socket is refused */
	struct api_server *two = api_server_new(&(struct api_server_config){ .path = sock_path }, obs, err, sizeof(err));
	CHECK("live socket not taken over", two == NULL);
	CHECK("... with a message", strstr(err, "is in use by another flowd") != NULL);
	stop();
	CHECK("socket file removed", access(sock_path, F_OK) != 0);

	/* a stale socket file (a killed flowd) is replaced */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, sock_path);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	start(7, 0, 0);
	CHECK("stale socket replaced", srv != NULL);
	stop();
}

static void test_follow_and_slow_clients(void)
{
	/* ring of 63, 8 KiB per client, the stalled client's receive buffer small */
	start(63, 8192, 0);
	int fa = request("{\"request\":\"flows\",\"follow\":true}", 0);
	int fb = request("{\"request\":\"flows\",\"follow\":true,\"filters\":{\"allowlist\":[{\"source_port\":[\"1002\"]}]}}", 0);
	int fs = request("{\"request\":\"flows\",\"follow\":true}", 4096);
	serve();
	struct reader ra = { calloc(1, 1), 0, false }, rb = { calloc(1, 1), 0, false }, rs = { calloc(1, 1), 0, false };
	push(1, 2);
	serve();
	read_some(fa, &ra);
	read_some(fb, &rb);
	char want[4096];
	snprintf(want, sizeof(want), "%s%s", line_of(1), line_of(2));
	CHECK_STR("follower A gets both", ra.data, want);
	CHECK_STR("follower B gets its filtered one", rb.data, line_of(2));

	/* 3000 more; A keeps reading, S never reads */
	const unsigned total = 3000;
	for (unsigned n = 3; n <= total; n++) {
		push(n, n);
		if (n % 16 == 0) {
			serve();
			read_some(fa, &ra);
		}
	}
	serve();
	read_some(fa, &ra);
	CHECK_U64("A got every flow", count_lines(ra.data), total);
	CHECK("A saw no loss", strstr(ra.data, "lost_events") == NULL);
	CHECK_STR("B still only its one", rb.data, line_of(2));
	struct observer_stats os;
	observer_get_stats(obs, T0, &os);
	CHECK("the ring overwrote S's backlog", os.lost[FE_LOST_HUBBLE_RING_BUFFER] > 0);

	/* S reads now: what it got plus what it was told it lost = everything */
	for (int i = 0; i < 200; i++) {
		serve();
		read_some(fs, &rs);
	}
	uint64_t flows = 0, lost = 0, notices = 0;
	unsigned last_port = 0;
	bool ordered = true;
	for (char *l = rs.data; *l;) {
		char *nl = strchr(l, '\n');
		*nl = '\0';
		unsigned long long n;
		unsigned port;
		if (sscanf(l, "{\"lost_events\":{\"source\":\"HUBBLE_RING_BUFFER\",\"num_events_lost\":\"%llu\"", &n) == 1) {
			lost += n;
			notices++;
		} else if (strstr(l, "\"source_port\":") &&
		           sscanf(strstr(l, "\"source_port\":") + 14, "%u", &port) == 1) {
			ordered = ordered && port > last_port;
			last_port = port;
			flows++;
		}
		l = nl + 1;
	}
	CHECK("S lost some", lost > 0);
	CHECK("S was told in a few notices", notices >= 1 && notices < 10);
	CHECK_U64("S: received + announced lost = all", flows + lost, total);
	CHECK("S: in order", ordered);
	CHECK_U64("S: received up to the newest", last_port, 1000 + total);
	observer_get_stats(obs, T0, &os);
	CHECK_U64("ring loss counter = what S was told", os.lost[FE_LOST_HUBBLE_RING_BUFFER], lost);
	struct api_server_stats ast;
	api_server_get_stats(srv, &ast);
	CHECK_U64("server stats: lost sent", ast.lost_sent, lost);
	CHECK_U64("three clients", ast.clients, 3);

	/* a vanished client is dropped at the next record */
	close(fs);
	push(total + 1, total + 1);
	serve();
	api_server_get_stats(srv, &ast);
	CHECK_U64("vanished client gone", ast.clients, 2);
	close(fa);
	close(fb);
	serve();
	api_server_get_stats(srv, &ast);
	CHECK_U64("all gone", ast.clients, 0);
	observer_get_stats(obs, T0, &os);
	CHECK_U64("their readers freed", os.readers, 0);
	free(ra.data);
	free(rb.data);
	free(rs.data);
	stop();
}

static void test_limits(void)
{
	start(7, 0, 2);
	push(1, 1);
	int a = request("{\"request\":\"flows\",\"follow\":true}", 0);
	int b = request("{\"request\":\"flows\",\"follow\":true}", 0);
	serve();
	CHECK_STR("third client refused", answer("{\"request\":\"status\"}"), "{\"error\":\"too many clients\"}\n");
	close(a);
	close(b);
	serve();
	CHECK("room again", strncmp(answer("{\"request\":\"status\"}"), "{\"num_flows\":\"1\"", 16) == 0);
	/* a request without a newline, then EOF, is still answered */
	int c = connect_client(0);
	const char *q = "{\"request\":\"flows\",\"last\":1}";
	if (write(c, q, strlen(q)) < 0)
		printf("write failed\n");
	shutdown(c, SHUT_WR);
	struct reader r = { calloc(1, 1), 0, false };
	for (int i = 0; i < 100 && !r.eof; i++) {
		serve();
		read_some(c, &r);
	}
	CHECK_STR("request ended by EOF", r.data, line_of(1));
	close(c);
	free(r.data);
	stop();
}

int main(void)
{
	snprintf(sock_path, sizeof(sock_path), "/tmp/test_api.%d/sub/flowd.sock", (int)getpid());
	test_requests();
	test_follow_and_slow_clients();
	test_limits();
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf /tmp/test_api.%d", (int)getpid());
	if (system(cmd))
		return 1;
	return CHECK_DONE();
}

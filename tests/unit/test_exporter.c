/* The exporter (flowd/exporter.c): exact lines, allow/deny filters, field
 * mask, size rotation with lumberjack names, backup count, gzip, a stalled
 * destination (queue full: drops counted and announced in the file), write
 * errors (/dev/full). */
#include "check.h"
#include "../../flowd/exporter.h"
#include "flow_json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define SEC 1000000000ull
#define T0 (1739527200ull * SEC) /* 2025-02-14T10:00:00Z */

static char dir[64];

static struct flow_event *flow(unsigned n, uint16_t dport)
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
	ev->dport = dport;
	ev->type = FE_TYPE_L3_L4;
	ev->event_type = 4;
	ev->node_name = "node1";
	return ev;
}

static int write_flow(struct exporter *x, unsigned n, uint16_t dport)
{
	struct flow_event *ev = flow(n, dport);
	struct fe_record rec = { .kind = FE_REC_FLOW, .flow = ev };
	int rc = exporter_write(x, &rec, T0 + n * SEC);
	flow_event_free(ev);
	return rc;
}

static char *slurp(const char *path)
{
	static char *buf;
	free(buf);
	buf = NULL;
	gzFile f = gzopen(path, "rb"); /* reads plain files too */
	if (!f)
		return NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (cap - len < 65536) {
			cap = cap * 2 + 65536;
			buf = realloc(buf, cap + 1);
		}
		int n = gzread(f, buf + len, 65536);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	gzclose(f);
	buf[len] = '\0';
	return buf;
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;
	for (; s && *s; s++)
		n += *s == c;
	return n;
}

static struct exporter *mk(struct exporter_config cfg)
{
	char err[400];
	struct exporter *x = exporter_new(&cfg, err, sizeof(err));
	if (!x)
		printf("exporter_new: %s\n", err);
	return x;
}

static void test_lines_filters_mask(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/plain", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/plain/events.log", dir);
	struct exporter *x = mk((struct exporter_config){ .path = path });
	CHECK("plain exporter", x != NULL);
	write_flow(x, 1, 80);
	struct fe_record lost = { .kind = FE_REC_LOST, .node_name = "node1", .time_ns = T0 + 2 * SEC,
	                          .lost = { .source = FE_LOST_PERF_EVENT_RING_BUFFER, .num_events_lost = 37,
	                                    .cpu = 3 } };
	exporter_write(x, &lost, T0);
	exporter_free(x, 5000);
	CHECK_STR("export lines", slurp(path),
	          "{\"flow\":{\"time\":\"2025-02-14T10:00:01Z\",\"verdict\":\"FORWARDED\",\"IP\":{\"source\":"
	          "\"198.18.0.1\",\"destination\":\"198.18.0.2\",\"ipVersion\":\"IPv4\"},\"l4\":{\"TCP\":{"
	          "\"source_port\":1001,\"destination_port\":80}},\"source\":{},\"destination\":{},\"Type\":"
	          "\"L3_L4\",\"node_name\":\"node1\",\"event_type\":{\"type\":4}},\"node_name\":\"node1\","
	          "\"time\":\"2025-02-14T10:00:01Z\"}\n"
	          "{\"lost_events\":{\"source\":\"PERF_EVENT_RING_BUFFER\",\"num_events_lost\":\"37\","
	          "\"cpu\":3},\"node_name\":\"node1\",\"time\":\"2025-02-14T10:00:02Z\"}\n");
	struct stat st;
	CHECK("file mode 0600", stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);

	/* appends to an existing file; allow/deny lists; field mask */
	const char *mask[] = { "time,l4", "IP.destination" };
	x = mk((struct exporter_config){ .path = path, .allowlist = "{\"destination_port\":[\"80\"]}",
	                                 .denylist = "{\"source_port\":[\"1003\"]}", .field_mask = mask,
	                                 .n_field_mask = 2 });
	CHECK("filtered exporter", x != NULL);
	int rc = 0;
	for (unsigned n = 2; n <= 5; n++)
		rc |= write_flow(x, n, n == 4 ? 443 : 80); /* 3 denied, 4 not allowed */
	CHECK("writes queued", rc == 0);
	exporter_write(x, &lost, T0); /* lost events pass any filter, never masked */
	CHECK("sync", exporter_sync(x, 5000));
	struct exporter_stats s;
	exporter_get_stats(x, &s);
	CHECK_U64("records in", s.records_in, 5);
	CHECK_U64("filtered", s.filtered, 2);
	CHECK_U64("written", s.written, 3);
	CHECK_U64("dropped", s.dropped, 0);
	struct fe_buf sj = { 0 };
	exporter_status_json(x, &sj);
	fe_buf_append(&sj, "", 1);
	CHECK("status json", strstr(sj.data, "\"filters\":true,\"field_mask\":true,\"records_in\":\"5\","
	                                     "\"filtered\":\"2\",\"written\":\"3\",\"dropped\":\"0\"") != NULL);
	fe_buf_free(&sj);
	exporter_free(x, 5000);
	const char *all = slurp(path);
	const char *second = strchr(strchr(all, '\n') + 1, '\n') + 1;
	CHECK_STR("filtered and masked lines", second,
	          "{\"flow\":{\"time\":\"2025-02-14T10:00:02Z\",\"IP\":{\"destination\":\"198.18.0.2\"},"
	          "\"l4\":{\"TCP\":{\"source_port\":1002,\"destination_port\":80}}},\"node_name\":\"node1\","
	          "\"time\":\"2025-02-14T10:00:02Z\"}\n"
	          "{\"flow\":{\"time\":\"2025-02-14T10:00:05Z\",\"IP\":{\"destination\":\"198.18.0.2\"},"
	          "\"l4\":{\"TCP\":{\"source_port\":1005,\"destination_port\":80}}},\"node_name\":\"node1\","
	          "\"time\":\"2025-02-14T10:00:05Z\"}\n"
	          "{\"lost_events\":{\"source\":\"PERF_EVENT_RING_BUFFER\",\"num_events_lost\":\"37\","
	          "\"cpu\":3},\"node_name\":\"node1\",\"time\":\"2025-02-14T10:00:02Z\"}\n");

	char err[400];
	x = exporter_new(&(struct exporter_config){ .path = path, .allowlist = "{\"bogus\":[1]}" }, err,
	                 sizeof(err));
	CHECK("bad allowlist refused", x == NULL);
	CHECK_STR("bad allowlist message", err, "export filters: invalid --allowlist flag: unknown field \"bogus\"");
	x = exporter_new(&(struct exporter_config){ .path = path, .field_mask = (const char *[]){ "nope" },
	                                            .n_field_mask = 1 },
	                 err, sizeof(err));
	CHECK("bad mask refused", x == NULL);
	CHECK_STR("bad mask message", err, "export field mask: invalid field mask path \"nope\": unknown field \"nope\"");
	x = exporter_new(&(struct exporter_config){ .path = "/proc/nope/x.log" }, err, sizeof(err));
	CHECK("unopenable file refused", x == NULL);
	CHECK_STR("unopenable file message", err, "/proc/nope/x.log: No such file or directory");
}

/* Backups in d named like lumberjack's, newest first; returns how many. */
static size_t backups(const char *d, char names[][128], size_t max, bool *all_gz)
{
	regex_t re;
	regcomp(&re, "^flows-[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}\\.[0-9]{3}\\.json(\\.gz)?$",
	        REG_EXTENDED | REG_NOSUB);
	DIR *dd = opendir(d);
	struct dirent *de;
	size_t n = 0;
	*all_gz = true;
	while (dd && (de = readdir(dd))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "flows.json"))
			continue;
		if (regexec(&re, de->d_name, 0, NULL, 0) != 0) {
			printf("unexpected file %s\n", de->d_name);
			continue;
		}
		if (!strstr(de->d_name, ".gz"))
			*all_gz = false;
		if (n < max)
			snprintf(names[n], 128, "%.127s", de->d_name);
		n++;
	}
	if (dd)
		closedir(dd);
	regfree(&re);
	return n;
}

static void test_rotation(bool compress, unsigned max_backups)
{
	char d[128], path[160], name[160];
	snprintf(d, sizeof(d), "%s/rot-%d-%u", dir, compress, max_backups);
	snprintf(path, sizeof(path), "%s/flows.json", d);
	mkdir(d, 0755);
	/* each line is 332 bytes: 3 fit in 1000 */
	struct exporter *x = mk((struct exporter_config){ .path = path, .max_size = 1000,
	                                                  .max_backups = max_backups, .compress = compress });
	for (unsigned n = 1; n <= 20; n++) {
		write_flow(x, n, 80);
		if (n % 4 == 0)
			exporter_sync(x, 5000); /* several batches */
	}
	CHECK("rotation sync", exporter_sync(x, 5000));
	struct exporter_stats s;
	exporter_get_stats(x, &s);
	exporter_free(x, 5000);

	snprintf(name, sizeof(name), "rotation(compress=%d, backups=%u): ", compress, max_backups);
	char label[256];
#define L(what) (snprintf(label, sizeof(label), "%s%s", name, what), label)
	/* 20 lines of 332 bytes, 3 per file: 7 files, the last one with 2 */
	CHECK_U64(L("written"), s.written, 20);
	CHECK_U64(L("rotations"), s.rotations, 6);
	CHECK_U64(L("current file size"), s.file_size, 2 * 332);
	char names[16][128];
	bool all_gz;
	size_t nb = backups(d, names, 16, &all_gz);
	CHECK_U64(L("backups kept"), nb, max_backups ? max_backups : 6);
	CHECK_U64(L("backups removed"), s.removed, max_backups ? 6 - max_backups : 0);
	CHECK(L("gzip iff compress"), all_gz == compress);
	/* backups may be compressed before a later rotation prunes them */
	CHECK(L("compressed count"), compress ? s.compressed >= nb && s.compressed <= 6 : s.compressed == 0);
	const char *cur = slurp(path);
	CHECK(L("current file has the last 2 lines"),
	      cur && count_char(cur, '\n') == 2 && strstr(cur, "\"source_port\":1019,") &&
	              strstr(cur, "\"source_port\":1020,"));
	/* every kept backup: exactly 3 whole lines, each ≤ max size */
	size_t lines = 0;
	bool whole = true;
	for (size_t i = 0; i < nb && i < 16; i++) {
		char p[300];
		snprintf(p, sizeof(p), "%s/%s", d, names[i]);
		const char *b = slurp(p);
		lines += count_char(b, '\n');
		whole = whole && b && strlen(b) == 3 * 332 && b[strlen(b) - 1] == '\n';
	}
	CHECK(L("backups hold 3 whole lines"), whole);
	CHECK_U64(L("lines in backups"), lines, 3 * nb);
	if (!max_backups) {
		/* nothing lost: all 20 in order across the files */
		char sorted[16][128];
		memcpy(sorted, names, sizeof(sorted));
		qsort(sorted, nb, 128, (int (*)(const void *, const void *))strcmp);
		char p[300];
		snprintf(p, sizeof(p), "%s/%s", d, sorted[0]);
		CHECK(L("oldest backup starts with line 1"), strstr(slurp(p), "\"source_port\":1001,") != NULL);
	}
#undef L
}

static void test_stalled_pipe(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/fifo", dir);
	mkfifo(path, 0600);
	int rd = open(path, O_RDONLY | O_NONBLOCK);
	/* a writer stuck on a full pipe; a 4 KiB queue behind it */
	struct exporter *x = mk((struct exporter_config){ .path = path, .queue_bytes = 4096 });
	int wr_probe = open(path, O_WRONLY | O_NONBLOCK);
	fcntl(wr_probe, F_SETPIPE_SZ, 4096);
	close(wr_probe);
	unsigned dropped = 0, queued = 0;
	for (unsigned n = 1; n <= 200; n++) {
		int rc = write_flow(x, n, 80);
		if (rc == 1)
			dropped++;
		else if (rc == 0)
			queued++;
	}
	CHECK("some dropped", dropped > 0);
	CHECK_U64("all accounted", dropped + queued, 200);
	/* now read everything while the writer catches up */
	char *got = calloc(1, 1 << 20);
	size_t len = 0;
	for (int round = 0; round < 2000; round++) {
		ssize_t n = read(rd, got + len, (1 << 20) - 1 - len);
		if (n > 0)
			len += (size_t)n;
		if (exporter_sync(x, 1) && n <= 0)
			break;
	}
	struct exporter_stats s;
	exporter_get_stats(x, &s);
	exporter_free(x, 5000);
	ssize_t n;
	while ((n = read(rd, got + len, (1 << 20) - 1 - len)) > 0)
		len += (size_t)n;
	close(rd);
	CHECK_U64("stats dropped", s.dropped, dropped);
	CHECK_U64("stats written", s.written, queued);
	CHECK("at least one notice", s.notices >= 1);
	CHECK_U64("lines read = written + notices", count_char(got, '\n'), queued + s.notices);
	/* Walk the file: records in order, and each gap in the numbering is
	 * announced by notices right where it is, with the exact count. */
	unsigned expect = 1, gap = 0, bad = 0, notices = 0;
	uint64_t lost_total = 0;
	for (char *line = got; *line;) {
		char *nl = strchr(line, '\n');
		*nl = '\0';
		unsigned port;
		unsigned long long lost;
		const char *sp = strstr(line, "\"source_port\":");
		static const char pre[] = "{\"lost_events\":{\"source\":\"OBSERVER_EVENTS_QUEUE\",\"num_events_lost\":\"";
		if (!strncmp(line, pre, sizeof(pre) - 1) && sscanf(line + sizeof(pre) - 1, "%llu", &lost) == 1 && strstr(line, "\"first\":\"2025-02-14T10:") &&
		    strstr(line, "\"last\":\"2025-02-14T10:")) {
			gap += (unsigned)lost;
			lost_total += lost;
			notices++;
		} else if (sp && sscanf(sp + 14, "%u", &port) == 1) {
			if (port - 1000 - expect != gap)
				bad++;
			expect = port - 1000 + 1;
			gap = 0;
		} else {
			bad++;
		}
		line = nl + 1;
	}
	CHECK_U64("records in order, gaps announced where they are", bad, 0);
	CHECK_U64("trailing gap announced", 201 - expect, gap);
	CHECK_U64("notices in the file", notices, s.notices);
	CHECK_U64("notices add up to the drops", lost_total, dropped);
	free(got);
}

static void test_write_error(void)
{
	struct exporter *x = mk((struct exporter_config){ .path = "/dev/full" });
	for (unsigned n = 1; n <= 3; n++)
		write_flow(x, n, 80);
	exporter_sync(x, 5000);
	struct exporter_stats s;
	exporter_get_stats(x, &s);
	exporter_free(x, 5000);
	CHECK_U64("ENOSPC: nothing written", s.written, 0);
	CHECK_U64("ENOSPC: all dropped", s.dropped, 3);
	CHECK("ENOSPC: write errors counted", s.write_errors >= 1);
	CHECK_STR("ENOSPC: last error", s.last_error, "writing /dev/full: No space left on device");
	CHECK_U64("ENOSPC: errno", s.last_errno, ENOSPC);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_exporter.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	test_lines_filters_mask();
	test_rotation(false, 0);
	test_rotation(false, 2);
	test_rotation(true, 3);
	test_rotation(true, 0);
	test_stalled_pipe();
	test_write_error();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return CHECK_DONE();
}

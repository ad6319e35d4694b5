/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test harness: flowd's observer ring, socket API and exporter, fed from
 * commands instead of the kernel, so `flowctl observe/status` can be tested
 * end to end without a datapath (tests/cli/test_observe_socket.sh).
 *
 *   observer_harness --socket PATH [--capacity N] [--client-buffer BYTES]
 *       [--node-name NAME] [--export-file PATH [--export-max-size BYTES]
 *       [--export-max-backups N] [--export-compress] [--export-allowlist JSON]
 *       [--export-denylist JSON] [--export-fieldmask PATHS]] [--bpf-prog]
 *
 * Commands on standard input, one per line; each is answered "ok" (or
 * "error ...") on standard output once done:
 *   load FILE          push the flows of an NDJSON file (lost-event lines skipped)
 *   gen N              push N flows stamped now: 198.18.0.1:(10000+k) ->
 *                      198.18.0.2:(80 if k is odd, else 443), k counting from 1
 *   lost SOURCE N      count N events lost at SOURCE (PERF_EVENT_RING_BUFFER,
 *                      OBSERVER_EVENTS_QUEUE) and emit the notice now
 *   run-prog N         run the --bpf-prog program N times (BPF_PROG_TEST_RUN)
 *   sync               wait until the exporter has written everything
 *   quit
 */
#include "../../flowd/api_server.h"
#include "../../flowd/bpf_stats.h"
#include "../../flowd/exporter.h"
#include "../../flowd/observer.h"
#include "flow_json.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

struct harness {
	struct observer *obs;
	struct api_server *api;
	struct exporter *exp;
	int prog_fd, stats_fd;
	unsigned gen_k;
};

static uint64_t wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int status_extra(void *user, struct fe_buf *out)
{
	struct harness *h = user;
	int rc = 0;
	if (h->prog_fd >= 0)
		rc |= bpf_stats_status_json(out, &h->prog_fd, 1, h->stats_fd >= 0);
	if (h->exp) {
		rc |= fe_buf_append(out, ",", 1);
		rc |= exporter_status_json(h->exp, out);
	}
	return rc;
}

static void to_exporter(void *user, const struct fe_record *rec)
{
	exporter_write(user, rec, wall_now());
}

/* r0 = 0; exit */
static int load_prog(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	return bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "harness_prog", "GPL", insns, 2, NULL);
}

static const char *command(struct harness *h, char *line)
{
	static char msg[300];
	char *arg = strchr(line, ' ');
	if (arg)
		*arg++ = '\0';
	uint64_t now = wall_now();
	if (!strcmp(line, "load") && arg) {
		FILE *f = fopen(arg, "r");
		if (!f)
			return "error cannot open file";
		char *l = NULL;
		size_t cap = 0;
		ssize_t n;
		while ((n = getline(&l, &cap, f)) > 0) {
			struct fe_decoded d;
			char err[200];
			if (fe_json_decode(l, (size_t)n, &d, err, sizeof(err)) != 0)
				continue;
			if (d.rec.kind == FE_REC_FLOW) {
				observer_push_flow(h->obs, d.ev, now); /* the observer owns it now */
				d.ev = NULL;
			}
			fe_decoded_clear(&d);
		}
		free(l);
		fclose(f);
	} else if (!strcmp(line, "gen") && arg) {
		unsigned long n = strtoul(arg, NULL, 10);
		for (unsigned long i = 0; i < n; i++) {
			unsigned k = ++h->gen_k;
			struct flow_event *ev = flow_event_new();
			ev->time_ns = wall_now();
			ev->verdict = FE_FORWARDED;
			ev->has_ip = true;
			strcpy(ev->ip_src, "198.18.0.1");
			strcpy(ev->ip_dst, "198.18.0.2");
			ev->ip_version = FE_IPV4;
			ev->l4 = FE_L4_TCP;
			ev->sport = (uint16_t)(10000 + k);
			ev->dport = k % 2 ? 80 : 443;
			ev->tcp_flags = 0x10; /* ACK */
			ev->type = FE_TYPE_L3_L4;
			ev->event_type = 4;
			ev->is_reply = 0;
			ev->node_name = fe_strdup(ev, "harness");
			fe_set_summary(ev);
			observer_push_flow(h->obs, ev, ev->time_ns);
		}
	} else if (!strcmp(line, "lost") && arg) {
		char src[64];
		unsigned long long n;
		if (sscanf(arg, "%63s %llu", src, &n) != 2)
			return "error usage: lost SOURCE N";
		enum fe_lost_source s = !strcmp(src, "PERF_EVENT_RING_BUFFER")  ? FE_LOST_PERF_EVENT_RING_BUFFER
		                        : !strcmp(src, "OBSERVER_EVENTS_QUEUE") ? FE_LOST_OBSERVER_EVENTS_QUEUE
		                                                                : FE_LOST_UNKNOWN;
		if (s == FE_LOST_UNKNOWN)
			return "error unknown source";
		observer_count_lost(h->obs, s, n, now);
		observer_tick(h->obs, now + OBSERVER_LOST_INTERVAL_NS * 2);
	} else if (!strcmp(line, "run-prog") && arg) {
		if (h->prog_fd < 0)
			return "error no --bpf-prog";
		char data[64] = { 0 };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = sizeof(data),
		            .repeat = (int)strtoul(arg, NULL, 10));
		if (bpf_prog_test_run_opts(h->prog_fd, &o)) {
			snprintf(msg, sizeof(msg), "error test run: %s", strerror(errno));
			return msg;
		}
	} else if (!strcmp(line, "sync")) {
		if (h->exp && !exporter_sync(h->exp, 10000))
			return "error exporter sync timed out";
	} else if (!strcmp(line, "quit")) {
		return NULL;
	} else {
		return "error unknown command";
	}
	return "ok";
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *node = "harness";
	uint32_t capacity = 0;
	size_t client_buffer = 0;
	struct exporter_config xc = { 0 };
	const char *mask = NULL;
	bool prog = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (!strcmp(a, name) && v && ++i)
		if (OPT("--socket"))
			sock = v;
		else if (OPT("--capacity"))
			capacity = (uint32_t)strtoul(v, NULL, 10);
		else if (OPT("--client-buffer"))
			client_buffer = strtoul(v, NULL, 10);
		else if (OPT("--node-name"))
			node = v;
		else if (OPT("--export-file"))
			xc.path = v;
		else if (OPT("--export-max-size"))
			xc.max_size = strtoull(v, NULL, 10);
		else if (OPT("--export-max-backups"))
			xc.max_backups = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--export-compress"))
			xc.compress = true;
		else if (OPT("--export-allowlist"))
			xc.allowlist = v;
		else if (OPT("--export-denylist"))
			xc.denylist = v;
		else if (OPT("--export-fieldmask"))
			mask = v;
		else if (!strcmp(a, "--bpf-prog"))
			prog = true;
		else {
			fprintf(stderr, "observer_harness: bad argument %s\n", a);
			return 2;
		}
#undef OPT
	}
	if (!sock) {
		fprintf(stderr, "observer_harness: --socket PATH needed\n");
		return 2;
	}
	char err[512];
	struct harness h = { .prog_fd = -1, .stats_fd = -1 };
	h.obs = observer_new(&(struct observer_config){ .capacity = capacity, .node_name = node }, err, sizeof(err));
	if (!h.obs) {
		fprintf(stderr, "observer_harness: %s\n", err);
		return 1;
	}
	if (xc.path) {
		xc.field_mask = mask ? &mask : NULL;
		xc.n_field_mask = mask ? 1 : 0;
		xc.node_name = node;
		h.exp = exporter_new(&xc, err, sizeof(err));
		if (!h.exp) {
			fprintf(stderr, "observer_harness: %s\n", err);
			return 1;
		}
		observer_add_sink(h.obs, to_exporter, h.exp);
	}
	if (prog) {
		h.stats_fd = bpf_stats_enable();
		h.prog_fd = load_prog();
		if (h.prog_fd < 0 || h.stats_fd < 0) {
			fprintf(stderr, "observer_harness: BPF program/stats: %s\n", strerror(errno));
			return 1;
		}
	}
	h.api = api_server_new(&(struct api_server_config){ .path = sock, .client_buffer = client_buffer,
	                                                    .version = "flowd harness", .status = status_extra,
	                                                    .status_user = &h },
	                       h.obs, err, sizeof(err));
	if (!h.api) {
		fprintf(stderr, "observer_harness: %s\n", err);
		return 1;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = 0 };
	epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
	ev.data.fd = api_server_fd(h.api);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	printf("ready\n");
	fflush(stdout);

	char buf[8192];
	size_t len = 0;
	bool quit = false;
	while (!quit) {
		struct epoll_event evs[4];
		int n = epoll_wait(ep, evs, 4, 1000);
		observer_tick(h.obs, wall_now());
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd != 0) {
				api_server_handle(h.api, wall_now());
				continue;
			}
			ssize_t r = read(0, buf + len, sizeof(buf) - 1 - len);
			if (r == 0)
				quit = true;
			if (r <= 0)
				continue;
			len += (size_t)r;
			char *nl;
			while (!quit && (nl = memchr(buf, '\n', len))) {
				*nl = '\0';
				const char *res = command(&h, buf);
				if (!res)
					quit = true;
				else
					printf("%s\n", res);
				fflush(stdout);
				len -= (size_t)(nl + 1 - buf);
				memmove(buf, nl + 1, len);
			}
		}
	}
	api_server_free(h.api);
	exporter_free(h.exp, 10000);
	observer_free(h.obs);
	if (h.prog_fd >= 0)
		close(h.prog_fd);
	if (h.stats_fd >= 0)
		close(h.stats_fd);
	return 0;
}

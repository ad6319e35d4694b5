/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowd: observe flows with XDP/TC eBPF and write Hubble-schema NDJSON.
 *
 * One thread, one epoll loop. Every input is a file descriptor with a
 * handler (signals, the poll timer, the counters timer); later inputs (the
 * payload ring buffer, API socket clients) join the same loop.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "api_server.h"
#include "bpf_stats.h"
#include "counters.h"
#include "datapath.h"
#include "enrich.h"
#include "flow_record.h"
#include "flowd.h"
#include "output.h"
#include "payload.h"
#include "poller.h"
#include "status.h"

struct flowd;

struct flowd_source {
	int fd;
	int (*handle)(struct flowd *d, struct flowd_err *e);
};

struct flowd {
	struct flowd_config cfg;
	struct datapath *dp;
	struct output *out;
	struct poller *poller;
	struct payload *payload;      /* NULL: no live L7 */
	bool payload_more;            /* the ring held more than one batch */
	struct enrich *en;
	int epfd;
	struct flowd_source sig, poll_timer, stats_timer, payload_ring, conntrack;
	struct api_server *api;       /* NULL: --socket none, or the default one is taken */
	struct flowd_source api_src;
	struct flowd_status_src status;
	bool stop;
	uint64_t map_full_seen;
	uint64_t map_full_warned_ns;
};

static uint64_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int add_source(struct flowd *d, struct flowd_source *s, struct flowd_err *e)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, s->fd, &ev))
		return flowd_errf(e, -errno, "epoll: %s", strerror(errno));
	return 0;
}

static int make_timer(uint64_t interval_ns, struct flowd_err *e)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return flowd_errf(e, -errno, "timerfd: %s", strerror(errno));
	struct itimerspec its = {
		.it_interval = { (time_t)(interval_ns / 1000000000ULL), (long)(interval_ns % 1000000000ULL) },
	};
	its.it_value = its.it_interval;
	timerfd_settime(fd, 0, &its, NULL);
	return fd;
}

static void drain_timer(int fd)
{
	uint64_t expirations;
	if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		perror("flowd: timer");
}

static void log_counters(struct flowd *d, int all)
{
	struct flowd_counter c[FLOWD_MAX_COUNTERS];
	size_t n = flowd_counters(d->dp, d->poller, d->out, d->en, c, FLOWD_MAX_COUNTERS);
	n = payload_counters(d->payload, c, n, FLOWD_MAX_COUNTERS);
	flowd_counters_log(stderr, c, n, all);
}

/* A full flow map loses packets from accounting: say so right away (at
 * most every 10 s), not only in the periodic counters. */
static void check_map_full(struct flowd *d)
{
	uint64_t k[FLOW_CNT_MAX];
	int n = datapath_read_counters(d->dp, k, FLOW_CNT_MAX);
	if (n <= FLOW_CNT_MAP_FULL_PACKETS || k[FLOW_CNT_MAP_FULL_PACKETS] == d->map_full_seen)
		return;
	uint64_t now = mono_now();
	if (d->map_full_warned_ns && now - d->map_full_warned_ns < 10000000000ULL)
		return;
	fprintf(stderr,
	        "flowd: warning: the flow table is full (--map-size %u): %llu packets of new flows were "
	        "counted only per interface; raise --map-size or lower --idle-timeout\n",
	        d->cfg.map_size, (unsigned long long)(k[FLOW_CNT_MAP_FULL_PACKETS] - d->map_full_seen));
	d->map_full_seen = k[FLOW_CNT_MAP_FULL_PACKETS];
	d->map_full_warned_ns = now;
}

static int on_payload(struct flowd *d, struct flowd_err *e);

static int on_poll(struct flowd *d, struct flowd_err *e)
{
	drain_timer(d->poll_timer.fd);
	/* DNS answers waiting in the payload ring first: the flows they name
	 * get their names in this pass */
	int err = d->payload ? on_payload(d, e) : 0;
	if (err)
		return err;
	enrich_tick(d->en, mono_now());
	err = poller_poll(d->poller, false, e);
	if (err)
		return err;
	if (d->payload && (err = payload_tick(d->payload, e)))
		return err;
	check_map_full(d);
	return output_flush(d->out, e);
}

static int on_payload(struct flowd *d, struct flowd_err *e)
{
	int rc = payload_consume(d->payload, e);
	d->payload_more = rc == 1;
	return rc < 0 ? rc : 0;
}

static int on_stats(struct flowd *d, struct flowd_err *e)
{
	(void)e;
	drain_timer(d->stats_timer.fd);
	log_counters(d, 0);
	return 0;
}

static int on_api(struct flowd *d, struct flowd_err *e)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (api_server_handle(d->api, (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec))
		return flowd_errf(e, -errno, "socket API: %s", strerror(errno));
	return 0;
}

/* The socket for flowctl. A taken default socket (another flowd, e.g. on
 * other interfaces) is not fatal: this flowd runs without one. */
static int start_api(struct flowd *d, struct flowd_err *e)
{
	char path[512];
	if (d->cfg.socket_path && !strcmp(d->cfg.socket_path, "none"))
		return 0;
	if (d->cfg.socket_path)
		snprintf(path, sizeof(path), "%s", d->cfg.socket_path);
	else
		snprintf(path, sizeof(path), "%s/flowd.sock", d->cfg.run_dir);
	char err[512];
	struct api_server_config ac = {
		.path = path,
		.group = d->cfg.socket_group,
		.version = "flowd " FLOWD_VERSION,
		.status = flowd_status_json,
		.status_user = &d->status,
		.command = enrich_api_command,   /* flowctl policy load */
		.command_user = d->en,
	};
	d->api = api_server_new(&ac, output_observer(d->out), err, sizeof(err));
	if (!d->api) {
		if (errno == EADDRINUSE && !d->cfg.socket_path) {
			fprintf(stderr, "flowd: warning: %s: running without a socket for flowctl\n", err);
			return 0;
		}
		return flowd_errf(e, -EINVAL, "--socket: %s", err);
	}
	fprintf(stderr, "flowd: socket %s for flowctl, ring of %u events\n", path, d->cfg.ring_capacity);
	return 0;
}

static int on_conntrack(struct flowd *d, struct flowd_err *e)
{
	(void)e;
	enrich_process(d->en);
	return 0;
}

/* SIGHUP: identities and policy files again; on any error the running
 * ones stay. */
static void reload(struct flowd *d)
{
	static char err[16384];
	if (enrich_reload(d->en, NULL, err, sizeof(err))) {
		fprintf(stderr, "flowd: reload refused, the running identities and policy stay:\n");
		for (char *l = strtok(err, "\n"); l; l = strtok(NULL, "\n"))
			fprintf(stderr, "flowd:   %s\n", l);
	}
}

static int on_signal(struct flowd *d, struct flowd_err *e)
{
	struct signalfd_siginfo si;
	while (read(d->sig.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(d);
		} else if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
			if (d->cfg.verbose)
				fprintf(stderr, "flowd: %s: stopping\n", strsignal((int)si.ssi_signo));
			d->stop = true;
		}
	}
	(void)e;
	return 0;
}

static void describe(const struct flowd *d)
{
	for (size_t i = 0; i < datapath_n_ifaces(d->dp); i++) {
		const struct datapath_iface *f = datapath_iface(d->dp, i);
		fprintf(stderr, "flowd: %s (ifindex %d): ingress %s%s%s, egress %s\n", f->name, f->ifindex,
		        f->xdp_mode ? "XDP " : f->tc_ingress ? "TC" : "off", f->xdp_mode ? f->xdp_mode : "",
		        f->xdp_mode ? " mode" : "", f->tc_egress ? "TC" : "off");
	}
	fprintf(stderr,
	        "flowd: flow table %u flows (%u slots), idle timeout %.3gs, active timeout %.3gs, "
	        "poll every %.3gs, events to %s\n",
	        d->cfg.map_size, datapath_table_slots(d->dp), d->cfg.idle_timeout_ns / 1e9,
	        d->cfg.active_timeout_ns / 1e9,
	        d->cfg.poll_interval_ns / 1e9, d->cfg.export_file);
}

static int policy_maps_ready(void *user, const struct policy_bpf_maps *m, struct flowd_err *e)
{
	struct flowd *d = user;
	return enrich_maps_ready(d->en, m, e);
}

static int run(struct flowd *d, struct flowd_err *e)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	/* Blocked before anything is attached: a signal during start-up is
	 * handled by the loop, after which everything is detached. */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed output is a write error, handled */

	int err;
	if ((err = output_open(&d->cfg, &d->out, e)))
		return err;
	d->status.out = d->out;
	if (d->cfg.bpf_stats && (d->status.bpf_stats_fd = bpf_stats_enable()) < 0)
		fprintf(stderr, "flowd: warning: --bpf-stats: cannot turn BPF statistics on: %s\n",
		        strerror(-d->status.bpf_stats_fd));
	if ((err = enrich_open(&d->cfg, &d->en, e)))
		return err;
	const struct datapath_hooks hooks = { policy_maps_ready, d };
	if ((err = datapath_open(&d->cfg, &hooks, &d->dp, e)))
		return err;
	d->status.dp = d->dp;
	if ((err = poller_new(&d->cfg, d->dp, d->out, d->en, &d->poller, e)))
		return err;
	if ((err = payload_new(&d->cfg, d->dp, d->out, d->en, &d->payload, e)))
		return err;
	d->status.poller = d->poller;
	d->status.payload = d->payload;
	d->status.en = d->en;
	/* after the datapath: its refusals (no interface, no privileges) come first */
	if ((err = start_api(d, e)))
		return err;

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return flowd_errf(e, -errno, "epoll: %s", strerror(errno));
	d->sig = (struct flowd_source){ signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC), on_signal };
	if (d->sig.fd < 0)
		return flowd_errf(e, -errno, "signalfd: %s", strerror(errno));
	if ((err = add_source(d, &d->sig, e)))
		return err;
	d->poll_timer = (struct flowd_source){ make_timer(d->cfg.poll_interval_ns, e), on_poll };
	if (d->poll_timer.fd < 0 || (err = add_source(d, &d->poll_timer, e)))
		return e->code;
	if (d->api) {
		d->api_src = (struct flowd_source){ api_server_fd(d->api), on_api };
		if ((err = add_source(d, &d->api_src, e)))
			return err;
	}
	d->conntrack = (struct flowd_source){ enrich_fd(d->en), on_conntrack };
	if (d->conntrack.fd >= 0 && (err = add_source(d, &d->conntrack, e)))
		return err;
	d->stats_timer.fd = -1;
	if (d->cfg.stats_interval_ns) {
		d->stats_timer = (struct flowd_source){ make_timer(d->cfg.stats_interval_ns, e), on_stats };
		if (d->stats_timer.fd < 0 || (err = add_source(d, &d->stats_timer, e)))
			return e->code;
	}
	if (d->payload) {
		d->payload_ring = (struct flowd_source){ payload_fd(d->payload), on_payload };
		if ((err = add_source(d, &d->payload_ring, e)))
			return err;
	}
	describe(d);

	while (!d->stop) {
		struct epoll_event evs[8];
		/* records left in the payload ring: the kernel does not signal
		 * again until flowd has caught up, so keep reading between the
		 * other events */
		int n = epoll_wait(d->epfd, evs, 8, d->payload_more ? 0 : -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return flowd_errf(e, -errno, "epoll: %s", strerror(errno));
		}
		for (int i = 0; i < n; i++) {
			struct flowd_source *s = evs[i].data.ptr;
			if ((err = s->handle(d, e)))
				return err;
		}
		if (d->payload_more && (err = on_payload(d, e)))
			return err;
	}

	/* Stop the programs first, so the last read is final; then end every
	 * flow with those counts. */
	datapath_detach(d->dp);
	if (d->payload && (err = payload_finish(d->payload, e)))
		return err;
	if ((err = poller_poll(d->poller, true, e)))
		return err;
	err = output_flush(d->out, e);
	if (d->api) /* followers get the final events, as far as their sockets take them */
		on_api(d, e);
	return err;
}

int main(int argc, char **argv)
{
	struct flowd d = { .epfd = -1, .sig.fd = -1, .poll_timer.fd = -1, .stats_timer.fd = -1,
	                   .payload_ring.fd = -1, .status.bpf_stats_fd = -1 };
	struct flowd_err e = { 0 };
	int rc = flowd_config_parse(&d.cfg, argc, argv, &e);
	if (rc > 0)
		return 0;
	if (rc < 0) {
		fprintf(stderr, "flowd: %s\nTry 'flowd --help' for more information.\n", e.msg);
		return 2;
	}
	int err = run(&d, &e);
	if (d.dp) {
		datapath_detach(d.dp);
		if (d.poller)
			log_counters(&d, 1);
	}
	if (err && !e.msg[0])
		snprintf(e.msg, sizeof(e.msg), "%s", strerror(-err));
	if (err) /* one line per problem (a file with errors may have many) */
		for (char *l = strtok(e.msg, "\n"); l; l = strtok(NULL, "\n"))
			fprintf(stderr, "flowd: %s\n", l);
	api_server_free(d.api);
	payload_free(d.payload);
	poller_free(d.poller);
	datapath_close(d.dp);
	enrich_close(d.en);
	output_close(d.out);
	if (d.status.bpf_stats_fd >= 0)
		close(d.status.bpf_stats_fd);
	if (d.epfd >= 0)
		close(d.epfd);
	if (d.sig.fd >= 0)
		close(d.sig.fd);
	if (d.poll_timer.fd >= 0)
		close(d.poll_timer.fd);
	if (d.stats_timer.fd >= 0)
		close(d.stats_timer.fd);
	return err ? 1 : 0;
}

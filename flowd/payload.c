/* SPDX-License-Identifier: BSD-2-Clause */
/* Live L7: payload ring -> pipeline -> output (payload.h). */
#include "payload.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"
#include "enrich.h"
#include "flow_event.h"
#include "flow_table.h"
#include "payload_bpf.h"
#include "pipeline.h"

#include <arpa/inet.h>

/* Records per payload_consume(): bounds the time one call takes, so
 * signals and timers are served while the ring is busy. */
#define CONSUME_BATCH 4096
#define STOP_BATCH 1    /* sample callback's "stop here" */
/* The programs wake flowd only when a quarter of the ring is full (one
 * wakeup per batch instead of one per packet: payload_config.wakeup_bytes);
 * below that, flowd reads the ring this often. Bounds the delay of an L7
 * event. */
#define DRAIN_INTERVAL_NS 10000000ull
#define DETECTED_MAX 4096   /* server endpoints turned on after detection */

struct pl_iface {
	uint32_t ifindex;
	char name[IF_NAMESIZE];
	struct pipeline *pl;
};

struct payload {
	struct output *out;
	struct datapath *dp;
	struct ring_buffer *rb;
	int epfd;                    /* the ring's wakeups + the drain timer */
	int timer_fd;
	int counters_fd;
	char node_name[256];
	struct pl_iface ifs[FLOWD_MAX_IFACES];
	size_t n_ifs;
	int64_t mono_to_real;        /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	uint64_t last_ts;            /* realtime ns of the newest record */
	unsigned batch;              /* records in the current consume call */
	struct payload_feed_stats feed;
	struct payload_stats st;
	uint64_t kernel[PAYLOAD_CNT_MAX];
	/* --l7-detect: servers found by their traffic (selection in the kernel) */
	const struct payload_select *sel;
	struct payload_mark_key detected[DETECTED_MAX];
	size_t n_detected;
	struct enrich *en;           /* identities, L7 policy, FQDN addresses (enrich.h) */
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sync_clock(struct payload *p)
{
	/* the midpoint of two monotonic reads around the realtime read */
	uint64_t m0 = clock_ns(CLOCK_MONOTONIC), r = clock_ns(CLOCK_REALTIME);
	uint64_t m1 = clock_ns(CLOCK_MONOTONIC);

	p->mono_to_real = (int64_t)(r - (m0 + (m1 - m0) / 2));
}

static bool addr_of(const char *s, uint8_t *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = 6;
		return true;
	}
	return false;
}

/* Turn on the live flow entries of one direction of a connection on this
 * interface, at both hooks. */
static void mark_flows(struct payload *p, uint8_t family, const uint8_t *sa, uint16_t sp,
                       const uint8_t *da, uint16_t dp, uint8_t proto, uint32_t ifindex)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.saddr, sa, 16);
	memcpy(k.daddr, da, 16);
	k.sport = sp;
	k.dport = dp;
	k.ifindex = ifindex;
	k.family = family;
	k.proto = proto;
	for (int dir = FLOW_DIR_INGRESS; dir <= FLOW_DIR_EGRESS; dir++) {
		k.direction = (uint8_t)dir;
		p->st.flows_marked += (uint64_t)payload_flow_mark(datapath_table(p->dp),
		                                                  datapath_table_cfg(p->dp), &k, PAYLOAD_ON);
	}
}

/* --l7-detect: an L7 event on a connection the port/CIDR selection does
 * not cover means its probe window showed a protocol: capture the rest of
 * it, and new connections to that server from their first packet. */
static void detected(struct payload *p, const struct flow_event *ev)
{
	struct payload_mark_key srv;
	uint8_t caddr[16], family, family2;
	uint16_t cport;
	bool req = ev->l7.type == FE_L7_REQUEST;

	if (ev->type != FE_TYPE_L7 || (ev->l4 != FE_L4_TCP && ev->l4 != FE_L4_UDP))
		return;
	memset(&srv, 0, sizeof(srv));
	if (!addr_of(req ? ev->ip_dst : ev->ip_src, &family, srv.addr) ||
	    !addr_of(req ? ev->ip_src : ev->ip_dst, &family2, caddr) || family != family2)
		return;
	srv.port = req ? ev->dport : ev->sport;
	cport = req ? ev->sport : ev->dport;
	srv.family = family;
	srv.proto = ev->l4 == FE_L4_TCP ? 6 : 17;
	if (payload_select_matches(p->sel, family, srv.addr, srv.port, caddr, cport, srv.proto))
		return;   /* selected anyway: never probed */
	for (size_t i = 0; i < p->n_detected; i++)
		if (!memcmp(&p->detected[i], &srv, sizeof(srv)))
			return;   /* done already (its new flows start selected) */
	if (p->n_detected < DETECTED_MAX) {
		p->detected[p->n_detected++] = srv;
		if (payload_bpf_mark_endpoint(datapath_tc_object(p->dp), family, srv.addr, srv.port, srv.proto,
		                              PAYLOAD_ON) == 0)
			p->st.endpoints_marked++;
	}
	mark_flows(p, family, caddr, cport, srv.addr, srv.port, srv.proto, ev->ifindex);
	mark_flows(p, family, srv.addr, srv.port, caddr, cport, srv.proto, ev->ifindex);
}

static void on_event(void *user, struct flow_event *ev)
{
	struct payload *p = user;

	if (p->sel->probe_packets)
		detected(p, ev);
	if (p->en) {
		enrich_l7(p->en, ev);
		enrich_dns_answer(p->en, ev);
	}
	if (output_flow(p->out, ev) == 0) /* takes ev */
		p->st.events++;
}

static struct pl_iface *iface_of(struct payload *p, uint32_t ifindex)
{
	for (size_t i = 0; i < p->n_ifs; i++)
		if (p->ifs[i].ifindex == ifindex)
			return &p->ifs[i];
	return NULL;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct payload *p = ctx;
	const struct payload_record *r = data;
	struct pl_iface *f;
	uint64_t ts;

	p->st.records++;
	if (size < sizeof(*r)) {
		p->st.bad_records++;
		return 0;
	}
	f = iface_of(p, r->ifindex);
	if (!f) {
		p->st.unknown_iface++;
		return 0;
	}
	ts = r->ktime_ns + (uint64_t)p->mono_to_real;
	if (ts > p->last_ts)
		p->last_ts = ts;
	if (payload_record_feed(f->pl, data, size, ts, f->name, &p->feed))
		p->st.bad_records++;
	return ++p->batch >= CONSUME_BATCH ? -STOP_BATCH : 0;
}

int payload_new(const struct flowd_config *cfg, struct datapath *dp, struct output *out,
                struct enrich *en, struct payload **pp, struct flowd_err *e)
{
	struct bpf_object *obj = datapath_tc_object(dp);
	struct pipeline_config pc;
	struct bpf_map *ring, *cnt;
	struct payload *p;

	*pp = NULL;
	if (!cfg->l7.on)
		return 0;
	if (!obj) {
		fprintf(stderr, "flowd: note: no live L7 with --no-tc (payload capture runs in the TC "
		        "programs)\n");
		return 0;
	}
	ring = bpf_object__find_map_by_name(obj, "payload_ring");
	cnt = bpf_object__find_map_by_name(obj, "payload_counters");
	if (!ring || !cnt || bpf_map__fd(ring) < 0 || bpf_map__fd(cnt) < 0)
		return flowd_errf(e, -ENOENT, "the TC object has no payload ring: flowd and the BPF "
		                  "objects come from different builds");
	p = calloc(1, sizeof(*p));
	if (!p)
		return flowd_errf(e, -ENOMEM, "out of memory");
	p->out = out;
	p->en = en;
	p->dp = dp;
	p->sel = &cfg->l7.select;
	p->epfd = p->timer_fd = -1;
	p->counters_fd = bpf_map__fd(cnt);
	if (cfg->node_name)
		snprintf(p->node_name, sizeof(p->node_name), "%s", cfg->node_name);
	else if (gethostname(p->node_name, sizeof(p->node_name) - 1))
		snprintf(p->node_name, sizeof(p->node_name), "localhost");
	pipeline_config_defaults(&pc);
	pc.emit_l34 = false;          /* L3/L4 events come from the BPF flow table */
	pc.node_name = p->node_name;
	pc.idle_timeout_ns = cfg->idle_timeout_ns;
	pc.active_timeout_ns = cfg->active_timeout_ns;
	/* one cache for every interface: an answer seen on one names the
	 * flows of all, and the L3/L4 events (enrich_l34) */
	pc.dns_cache = en ? enrich_dns_cache(en) : NULL;
	{
		/* a random uuid seed: uuids of different runs must not repeat */
		uint64_t seed = clock_ns(CLOCK_REALTIME) ^ ((uint64_t)getpid() << 32);
		pc.uuid_seed = seed;
	}
	for (size_t i = 0; i < datapath_n_ifaces(dp); i++) {
		const struct datapath_iface *di = datapath_iface(dp, i);
		struct pl_iface *f = &p->ifs[p->n_ifs];

		f->ifindex = (uint32_t)di->ifindex;
		snprintf(f->name, sizeof(f->name), "%s", di->name);
		f->pl = pipeline_new(&pc, on_event, p);
		if (!f->pl) {
			payload_free(p);
			return flowd_errf(e, -ENOMEM, "out of memory (L7 pipeline)");
		}
		p->n_ifs++;
	}
	p->rb = ring_buffer__new(bpf_map__fd(ring), on_record, p, NULL);
	if (!p->rb) {
		int err = -errno;
		payload_free(p);
		return flowd_errf(e, err, "cannot open the payload ring buffer: %s", strerror(-err));
	}
	{
		struct itimerspec its = { .it_interval = { 0, DRAIN_INTERVAL_NS }, .it_value = { 0, DRAIN_INTERVAL_NS } };
		struct epoll_event ev = { .events = EPOLLIN };

		p->epfd = epoll_create1(EPOLL_CLOEXEC);
		p->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (p->epfd < 0 || p->timer_fd < 0 || timerfd_settime(p->timer_fd, 0, &its, NULL) ||
		    epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->timer_fd, &ev) ||
		    epoll_ctl(p->epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(p->rb), &ev)) {
			int err = -errno;
			payload_free(p);
			return flowd_errf(e, err, "payload ring: epoll/timer: %s", strerror(-err));
		}
	}
	sync_clock(p);
	*pp = p;
	return 0;
}

void payload_free(struct payload *p)
{
	if (!p)
		return;
	ring_buffer__free(p->rb);
	if (p->epfd >= 0)
		close(p->epfd);
	if (p->timer_fd >= 0)
		close(p->timer_fd);
	for (size_t i = 0; i < p->n_ifs; i++)
		pipeline_free(p->ifs[i].pl);
	free(p);
}

int payload_fd(const struct payload *p)
{
	return p->epfd;
}

static int consume(struct payload *p, struct flowd_err *e)
{
	int n;

	p->batch = 0;
	n = ring_buffer__consume(p->rb);
	if (n == -STOP_BATCH) {
		p->st.consume_batches_cut++;
		return 1;
	}
	if (n < 0)
		return flowd_errf(e, n, "reading the payload ring: %s", strerror(-n));
	return 0;
}

int payload_consume(struct payload *p, struct flowd_err *e)
{
	uint64_t expirations;

	if (read(p->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return flowd_errf(e, -errno, "payload drain timer: %s", strerror(errno));
	return consume(p, e);
}

/* Report what the kernel lost since the last report, as one lost_events
 * record (PERF_EVENT_RING_BUFFER, Hubble's source for the BPF->agent ring). */
static int report_losses(struct payload *p, uint64_t now_real)
{
	uint64_t k[PAYLOAD_CNT_MAX], lost;
	int err = payload_bpf_read_counters(p->counters_fd, k);

	if (err)
		return err;
	memcpy(p->kernel, k, sizeof(k));
	lost = k[PAYLOAD_CNT_RING_FULL] + k[PAYLOAD_CNT_COPY_ERR];
	p->st.kernel_lost = lost;
	if (lost > p->st.lost_reported) {
		struct fe_record rec = {
			.kind = FE_REC_LOST,
			.lost = { .source = FE_LOST_PERF_EVENT_RING_BUFFER,
			          .num_events_lost = lost - p->st.lost_reported, .cpu = -1 },
			.node_name = p->node_name,
			.time_ns = now_real,
		};

		if (output_record(p->out, &rec) == 0) {
			p->st.lost_reported = lost;
			p->st.lost_notices++;
		}
	}
	return 0;
}

int payload_tick(struct payload *p, struct flowd_err *e)
{
	uint64_t now;
	int err;

	(void)e;
	sync_clock(p);
	now = clock_ns(CLOCK_REALTIME);
	for (size_t i = 0; i < p->n_ifs; i++)
		pipeline_tick(p->ifs[i].pl, now);
	err = report_losses(p, now);
	if (err)
		fprintf(stderr, "flowd: cannot read the payload counters: %s\n", strerror(-err));
	return 0;
}

int payload_finish(struct payload *p, struct flowd_err *e)
{
	uint64_t now;
	int rc;

	/* the programs are detached: the ring only shrinks */
	while ((rc = consume(p, e)) == 1)
		;
	if (rc < 0)
		return rc;
	now = clock_ns(CLOCK_REALTIME);
	if (now < p->last_ts)
		now = p->last_ts;
	for (size_t i = 0; i < p->n_ifs; i++)
		pipeline_flush(p->ifs[i].pl, now);
	report_losses(p, now);
	return 0;
}

/* --- counters ------------------------------------------------------------------ */

#define PIPELINE_COUNTERS_MAX 320

static size_t pipelines_counters(const struct payload *p, struct flowd_counter *out, size_t n,
                                 size_t max);

size_t payload_counters(const struct payload *p, struct flowd_counter *out, size_t n, size_t max)
{
	static const char *const kname[PAYLOAD_CNT_MAX] = {
		[PAYLOAD_CNT_RECORDS] = "l7_kernel_records",
		[PAYLOAD_CNT_RECORD_BYTES] = "l7_kernel_record_bytes",
		[PAYLOAD_CNT_RING_FULL] = "l7_lost_ring_full",
		[PAYLOAD_CNT_RING_FULL_BYTES] = "l7_lost_ring_full_bytes",
		[PAYLOAD_CNT_COPY_ERR] = "l7_lost_copy_error",
		[PAYLOAD_CNT_SNAP_CUT] = "l7_snap_cut",
		[PAYLOAD_CNT_SNAP_CUT_BYTES] = "l7_snap_cut_bytes",
		[PAYLOAD_CNT_BUDGET_CUT] = "l7_budget_cut",
		[PAYLOAD_CNT_BUDGET_CUT_BYTES] = "l7_budget_cut_bytes",
		[PAYLOAD_CNT_NO_ENTRY] = "l7_no_flow_entry",
		[PAYLOAD_CNT_FLOWS_ON] = "l7_flows_selected",
		[PAYLOAD_CNT_FLOWS_PROBE] = "l7_flows_probed",
		[PAYLOAD_CNT_FLOWS_OFF] = "l7_flows_not_selected",
	};
	uint64_t k[PAYLOAD_CNT_MAX];
#define ADD(nm, v, kern)                                                         \
	do {                                                                     \
		if (n < max)                                                     \
			out[n++] = (struct flowd_counter){ .name = (nm), .value = (v), .sparse = (kern) };  \
	} while (0)
	if (!p)
		return n;
	ADD("l7_records", p->st.records, 0);
	ADD("l7_bad_records", p->st.bad_records, 0);
	ADD("l7_unknown_interface", p->st.unknown_iface, 0);
	ADD("l7_parse_errors", p->feed.parse_errors, 0);
	ADD("l7_events", p->st.events, 0);
	ADD("l7_lost_reported", p->st.lost_reported, 0);
	ADD("l7_detected_servers", p->st.endpoints_marked, 0);
	ADD("l7_detected_flows", p->st.flows_marked, 0);
	if (payload_bpf_read_counters(p->counters_fd, k) == 0)
		for (int i = 0; i < PAYLOAD_CNT_MAX; i++)
			ADD(kname[i], k[i], 1);
#undef ADD
	return pipelines_counters(p, out, n, max);
}

/* The pipelines' counters (the names of `flowctl replay --stats`, prefixed
 * "pipeline."), summed over the interfaces by name: each pipeline lists
 * the counters of the parsers it met. Names point into the pipelines. */
static size_t pipelines_counters(const struct payload *p, struct flowd_counter *out, size_t n,
                                 size_t max)
{
	struct pipeline_counter pc[PIPELINE_COUNTERS_MAX];
	size_t first = n;
	for (size_t f = 0; f < p->n_ifs; f++) {
		size_t m = pipeline_counters(p->ifs[f].pl, pc, PIPELINE_COUNTERS_MAX);
		if (m > PIPELINE_COUNTERS_MAX)
			m = PIPELINE_COUNTERS_MAX;
		for (size_t i = 0; i < m; i++) {
			size_t j = first;
			while (j < n && strcmp(out[j].name, pc[i].name))
				j++;
			if (j < n)
				out[j].value += pc[i].value;
			else if (n < max)
				out[n++] = (struct flowd_counter){ pc[i].name, pc[i].value, 1, "pipeline." };
		}
	}
	return n;
}

const struct payload_stats *payload_stats(const struct payload *p)
{
	return &p->st;
}

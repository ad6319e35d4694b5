/* SPDX-License-Identifier: BSD-2-Clause */
/* flowd: types shared by the daemon's parts (config, datapath, poller,
 * output, main loop). */
#ifndef FLOWD_FLOWD_H
#define FLOWD_FLOWD_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "payload_bpf.h"

#define FLOWD_VERSION "0.1.0"
#define FLOWD_MAX_IFACES 64

/* An error travels up to main() as a negative errno plus one message,
 * printed once there. */
struct flowd_err {
	int code;
	char msg[8192];   /* one line, or one line per problem (files) */
};
/* Sets e (first error wins) and returns code (negative). */
int flowd_errf(struct flowd_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

enum flowd_xdp_mode {
	FLOWD_XDP_AUTO = 0, /* native, falling back to skb (generic) per interface */
	FLOWD_XDP_NATIVE,
	FLOWD_XDP_SKB,
	FLOWD_XDP_OFF,      /* no XDP: TC ingress instead */
};

struct flowd_config {
	char ifnames[FLOWD_MAX_IFACES][IF_NAMESIZE];
	size_t n_ifaces;
	const char *export_file;       /* "stdout"/"-" or a path (appended to) */
	enum flowd_xdp_mode xdp_mode;
	bool tc;                       /* TC egress (and ingress when XDP is off) */
	uint64_t idle_timeout_ns;
	uint64_t active_timeout_ns;
	uint64_t poll_interval_ns;
	uint64_t stats_interval_ns;    /* 0: counters only at exit */
	uint32_t map_size;             /* 0: the BPF object's default */
	const char *node_name;         /* NULL: the host name */
	const char *run_dir;           /* lock files and the API socket */
	const char *identities_file;   /* --identities; NULL: host and world only */
	const char *policy_file;       /* --policy; NULL: no policy */
	bool no_conntrack;             /* --no-conntrack */
	int verbose;
	struct payload_options l7;     /* live L7 (flowd/payload.c) */
	/* the observer ring, its socket API and the exporter */
	uint32_t ring_capacity;        /* 2^n-1 events kept for flowctl observe */
	const char *socket_path;       /* NULL: <run_dir>/flowd.sock; "none": no socket */
	const char *socket_group;      /* NULL: the socket keeps flowd's group */
	uint64_t export_max_size;      /* rotate the export file beyond this; 0: never */
	unsigned export_max_backups;   /* rotated files kept; 0: all */
	bool export_compress;          /* gzip rotated files */
	const char *export_allowlist;  /* Hubble FlowFilter JSON; NULL: everything */
	const char *export_denylist;
	const char *export_fieldmask;  /* "time,IP,l4,..."; NULL: every field */
	bool bpf_stats;                /* kernel BPF run-time statistics while running */
};

/* Parse argv into cfg. Returns 0 to run, 1 when --help/--version was
 * handled (exit 0), -1 on a usage error (message in e, exit 2). */
int flowd_config_parse(struct flowd_config *cfg, int argc, char **argv, struct flowd_err *e);

/* Duration text: "15", "15s", "500ms", "2m", "1h" (a bare number is seconds). */
int flowd_parse_duration(const char *s, uint64_t *ns);

#endif /* FLOWD_FLOWD_H */

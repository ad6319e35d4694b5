/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Run count and run time of flowd's BPF programs, for `flowctl status`.
 * The kernel counts them only while BPF statistics are on
 * (kernel.bpf_stats_enabled=1, or a BPF_ENABLE_STATS descriptor held open:
 * what `flowd --bpf-stats` does, so the setting reverts when flowd exits).
 */
#ifndef FLOWD_BPF_STATS_H
#define FLOWD_BPF_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include "flow_event.h"

/* Turn run-time statistics on for as long as the returned descriptor is
 * open. A descriptor (>= 0), or -errno. */
int bpf_stats_enable(void);

/* Is kernel.bpf_stats_enabled set? (It does not reflect descriptors from
 * bpf_stats_enable(): the kernel counts while either is active.) */
bool bpf_stats_sysctl_enabled(void);

/* Append `,"bpf_stats_enabled":B,"bpf_programs":[{"id":N,"name":"..",
 * "type":"xdp","run_cnt":"N","run_time_ns":"N","recursion_misses":"N"},...]`
 * for these program descriptors (ones that cannot be queried are left out).
 * enabled_by_fd: the caller holds a bpf_stats_enable() descriptor.
 * 0, or -1 on allocation failure. */
int bpf_stats_status_json(struct fe_buf *out, const int *prog_fds, size_t n, bool enabled_by_fd);

#endif /* FLOWD_BPF_STATS_H */

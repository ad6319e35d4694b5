/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kernel side of flowd: loads the XDP and TC programs (skeletons from
 * xdp/ and tc/, one shared flow map), attaches them to the interfaces,
 * detaches them again, removes what a killed flowd left behind, and reads
 * the kernel counters.
 */
#ifndef FLOWD_DATAPATH_H
#define FLOWD_DATAPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowd.h"

struct datapath;
struct flow_table;
struct flow_table_cfg;
struct bpf_object;

struct datapath_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	const char *xdp_mode;     /* "native", "skb", or NULL when XDP is not attached */
	bool tc_ingress, tc_egress;
};

struct policy_bpf_maps;

/* Called once the programs' maps exist and before anything is attached:
 * the policy maps (include/policy_maps.h), created by flowd and shared by
 * the XDP and TC programs, to be filled before the first packet. */
struct datapath_hooks {
	int (*policy_maps)(void *user, const struct policy_bpf_maps *m, struct flowd_err *e);
	void *user;
};

/* Check privileges, lock the interfaces, clean up leftovers, load and
 * attach (hooks may be NULL). On error everything done so far is undone. */
int datapath_open(const struct flowd_config *cfg, const struct datapath_hooks *hooks,
                  struct datapath **out, struct flowd_err *e);
/* Detach everything and stop the programs from updating the maps; the
 * maps stay readable until datapath_close(). */
void datapath_detach(struct datapath *dp);
void datapath_close(struct datapath *dp);

size_t datapath_n_ifaces(const struct datapath *dp);
const struct datapath_iface *datapath_iface(const struct datapath *dp, size_t i);
const char *datapath_ifname(const struct datapath *dp, uint32_t ifindex);

/* The flow table the programs write (include/flow_table.h), mmapped, and
 * its geometry and hash keys; valid until datapath_close(). */
struct flow_table *datapath_table(struct datapath *dp);
/* The loaded TC object (payload ring and selection maps), NULL without TC. */
struct bpf_object *datapath_tc_object(const struct datapath *dp);
const struct flow_table_cfg *datapath_table_cfg(const struct datapath *dp);
/* Slots of the table (buckets x ways). */
uint32_t datapath_table_slots(const struct datapath *dp);

/* Descriptors of the loaded programs (XDP, TC ingress or capture, TC egress), for
 * their run-time statistics. Returns how many were written to fds. */
size_t datapath_prog_fds(const struct datapath *dp, int *fds, size_t max);

/* Kernel counters (flow_counters, summed over CPUs), in the order of enum
 * flow_counter. Returns how many were written, or a negative errno. */
int datapath_read_counters(const struct datapath *dp, uint64_t *out, size_t max);
/* Name of kernel counter i ("packets", "parse_ipv4_trunc", ...). */
const char *datapath_counter_name(size_t i);

/* rtnetlink listing of the filters on one clsact hook (tc_filters.c). */
struct tc_filter_info {
	uint32_t handle, priority, prog_id;
	bool is_bpf;
};
/* Writes up to max filters to out; *n = how many exist. 0 or -errno; no
 * clsact qdisc counts as no filters. */
int tc_list_filters(int ifindex, bool egress, struct tc_filter_info *out, size_t max, size_t *n);

#endif /* FLOWD_DATAPATH_H */

/* SPDX-License-Identifier: BSD-2-Clause */
#include "bpf_stats.h"

#include "flow_json.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int bpf_stats_enable(void)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	return fd < 0 ? -errno : fd;
}

bool bpf_stats_sysctl_enabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
	int v = 0;
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v != 0;
}

int bpf_stats_status_json(struct fe_buf *out, const int *prog_fds, size_t n, bool enabled_by_fd)
{
	char tmp[512];
	int rc = 0;
	snprintf(tmp, sizeof(tmp), ",\"bpf_stats_enabled\":%s,\"bpf_programs\":[",
	         enabled_by_fd || bpf_stats_sysctl_enabled() ? "true" : "false");
	rc |= fe_buf_append(out, tmp, strlen(tmp));
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (prog_fds[i] < 0 || bpf_obj_get_info_by_fd(prog_fds[i], &info, &len))
			continue;
		const char *type = libbpf_bpf_prog_type_str(info.type);
		snprintf(tmp, sizeof(tmp), "%s{\"id\":%u,\"name\":", first ? "" : ",", info.id);
		rc |= fe_buf_append(out, tmp, strlen(tmp));
		rc |= fe_json_append_string(out, info.name);
		rc |= fe_buf_append(out, ",\"type\":", 8);
		rc |= fe_json_append_string(out, type ? type : "unknown");
		snprintf(tmp, sizeof(tmp), ",\"run_cnt\":\"%llu\",\"run_time_ns\":\"%llu\",\"recursion_misses\":\"%llu\"}",
		         (unsigned long long)info.run_cnt, (unsigned long long)info.run_time_ns,
		         (unsigned long long)info.recursion_misses);
		rc |= fe_buf_append(out, tmp, strlen(tmp));
		first = false;
	}
	rc |= fe_buf_append(out, "]", 1);
	return rc ? -1 : 0;
}

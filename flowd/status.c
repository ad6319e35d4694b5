/* SPDX-License-Identifier: BSD-2-Clause */
#include "status.h"

#include "bpf_stats.h"
#include "counters.h"
#include "flow_json.h"

#include <stdio.h>
#include <string.h>

int flowd_status_json(void *user, struct fe_buf *out)
{
	struct flowd_status_src *src = user;
	char tmp[256];
	int rc = 0;
	if (src->dp) {
		rc |= fe_buf_append(out, ",\"interfaces\":[", 15);
		for (size_t i = 0; i < datapath_n_ifaces(src->dp); i++) {
			const struct datapath_iface *f = datapath_iface(src->dp, i);
			snprintf(tmp, sizeof(tmp), "%s{\"name\":", i ? "," : "");
			rc |= fe_buf_append(out, tmp, strlen(tmp));
			rc |= fe_json_append_string(out, f->name);
			if (f->xdp_mode)
				snprintf(tmp, sizeof(tmp), ",\"ifindex\":%d,\"ingress\":\"XDP %s mode\"", f->ifindex,
				         f->xdp_mode);
			else
				snprintf(tmp, sizeof(tmp), ",\"ifindex\":%d,\"ingress\":\"%s\"", f->ifindex,
				         f->tc_ingress ? "TC" : "off");
			rc |= fe_buf_append(out, tmp, strlen(tmp));
			snprintf(tmp, sizeof(tmp), ",\"egress\":\"%s\"}", f->tc_egress ? "TC" : "off");
			rc |= fe_buf_append(out, tmp, strlen(tmp));
		}
		rc |= fe_buf_append(out, "]", 1);
		int fds[8];
		size_t n = datapath_prog_fds(src->dp, fds, 8);
		rc |= bpf_stats_status_json(out, fds, n, src->bpf_stats_fd >= 0);
	}
	rc |= fe_buf_append(out, ",", 1);
	rc |= exporter_status_json(output_exporter(src->out), out);
	if (src->dp && src->poller) {
		output_update_stats(src->out);
		struct flowd_counter c[FLOWD_MAX_COUNTERS];
		size_t n = flowd_counters(src->dp, src->poller, src->out, src->en, c, FLOWD_MAX_COUNTERS);
		if (src->payload)
			n = payload_counters(src->payload, c, n, FLOWD_MAX_COUNTERS);
		rc |= fe_buf_append(out, ",\"counters\":{", 13);
		for (size_t i = 0; i < n; i++) {
			snprintf(tmp, sizeof(tmp), "%s\"%s%s\":\"%llu\"", i ? "," : "",
			         c[i].prefix ? c[i].prefix : "", c[i].name, (unsigned long long)c[i].value);
			rc |= fe_buf_append(out, tmp, strlen(tmp));
		}
		rc |= fe_buf_append(out, "}", 1);
	}
	return rc ? -1 : 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* List the filters of a clsact hook over rtnetlink: libbpf 1.1 can attach,
 * detach and query one filter by handle and priority, but cannot list them,
 * which is what finding our own leftovers and "is the hook empty?" need. */
#include "datapath.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef TC_H_MIN_INGRESS
#define TC_H_MIN_INGRESS 0xFFF2U
#define TC_H_MIN_EGRESS 0xFFF3U
#endif

static void parse_bpf_options(const struct rtattr *opts, struct tc_filter_info *f)
{
	int len = (int)RTA_PAYLOAD(opts);
	for (const struct rtattr *a = RTA_DATA(opts); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == TCA_BPF_ID && RTA_PAYLOAD(a) >= 4)
			memcpy(&f->prog_id, RTA_DATA(a), 4);
	}
}

int tc_list_filters(int ifindex, bool egress, struct tc_filter_info *out, size_t max, size_t *n)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req = {
		.nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)), .nlmsg_type = RTM_GETTFILTER,
		        .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.tc = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex,
		        .tcm_parent = TC_H_MAKE(TC_H_CLSACT, egress ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS) },
	};
	*n = 0;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	static _Alignas(struct nlmsghdr) char buf[32768];
	int err = 0;
	for (bool done = false; !done;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		int rest = (int)len;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, rest); nh = NLMSG_NEXT(nh, rest)) {
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *ne = NLMSG_DATA(nh);
				/* No clsact qdisc: no filters. */
				err = ne->error == -EINVAL || ne->error == -ENOENT ? 0 : ne->error;
				done = true;
				break;
			}
			if (nh->nlmsg_type != RTM_NEWTFILTER)
				continue;
			const struct tcmsg *tc = NLMSG_DATA(nh);
			/* The dump also lists each priority's classifier without a
			 * filter (handle 0): not a filter. */
			if (!tc->tcm_handle)
				continue;
			struct tc_filter_info f = { .handle = tc->tcm_handle,
				                    .priority = TC_H_MAJ(tc->tcm_info) >> 16 };
			int alen = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*tc)));
			for (const struct rtattr *a = (const struct rtattr *)(tc + 1); RTA_OK(a, alen);
			     a = RTA_NEXT(a, alen)) {
				if (a->rta_type == TCA_KIND)
					f.is_bpf = !strcmp(RTA_DATA(a), "bpf");
				else if (a->rta_type == TCA_OPTIONS)
					parse_bpf_options(a, &f);
			}
			if (*n < max)
				out[*n] = f;
			(*n)++;
		}
	}
	close(fd);
	return err;
}

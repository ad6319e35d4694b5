/* SPDX-License-Identifier: BSD-2-Clause */
#include "policy_event.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

static int parse_addr(const char *s, uint8_t family, uint8_t out[16])
{
	memset(out, 0, 16);
	return inet_pton(family == 6 ? AF_INET6 : AF_INET, s, out) == 1 ? 0 : -1;
}

static uint8_t proto_of(const struct flow_event *ev)
{
	switch (ev->l4) {
	case FE_L4_TCP: return IPPROTO_TCP;
	case FE_L4_UDP: return IPPROTO_UDP;
	case FE_L4_SCTP: return IPPROTO_SCTP;
	case FE_L4_ICMPV4: return IPPROTO_ICMP;
	case FE_L4_ICMPV6: return IPPROTO_ICMPV6;
	default: return 0;   /* only rules for every protocol can match */
	}
}

int policy_result_for_event(const struct policy *p, const struct flow_event *ev,
                            struct policy_result *r)
{
	if (!ev->has_ip || (ev->ip_version != FE_IPV4 && ev->ip_version != FE_IPV6))
		return -EINVAL;
	bool reply = ev->is_reply == 1;
	const struct fe_endpoint *src = reply ? &ev->destination : &ev->source;
	const struct fe_endpoint *dst = reply ? &ev->source : &ev->destination;
	struct policy_l34_query q = {
		.family = ev->ip_version == FE_IPV6 ? 6 : 4,
		.proto = proto_of(ev),
		.src_labels = (const char *const *)src->labels,
		.n_src_labels = src->n_labels,
		.dst_labels = (const char *const *)dst->labels,
		.n_dst_labels = dst->n_labels,
		.dst_names = (const char *const *)(reply ? ev->source_names : ev->destination_names),
		.n_dst_names = reply ? ev->n_source_names : ev->n_destination_names,
	};
	if (parse_addr(reply ? ev->ip_dst : ev->ip_src, q.family, q.saddr) ||
	    parse_addr(reply ? ev->ip_src : ev->ip_dst, q.family, q.daddr))
		return -EINVAL;
	if (q.proto == IPPROTO_TCP || q.proto == IPPROTO_UDP || q.proto == IPPROTO_SCTP) {
		q.sport = reply ? ev->dport : ev->sport;
		q.dport = reply ? ev->sport : ev->dport;
	}

	memset(r, 0, sizeof(*r));
	r->revision = policy_revision(p);
	r->rule_id = POLICY_RULE_NONE;
	/* IPv6 neighbor and multicast listener discovery are never subject to
	 * policy (as in the kernel, policy_lookup_opener()) */
	if (q.proto == IPPROTO_ICMPV6 && policy_icmp6_exempt((uint8_t)ev->icmp_type)) {
		r->verdict = POLICY_VERDICT_FORWARDED;
		r->flags = POLICY_RES_EXEMPT;
		return 0;
	}
	struct policy_verdict v;
	policy_eval_l34(p, &q, &v);
	if (v.rule >= 0) {
		r->rule_id = (uint32_t)v.rule;
		r->direction = (uint8_t)v.direction;
	}
	r->action = v.action == POLICY_DENY ? POLICY_ACT_DENY : POLICY_ACT_ALLOW;
	r->match_type = (uint8_t)v.match_type;
	r->drop_reason = (uint8_t)v.drop_reason;
	/* nothing was dropped in a capture */
	r->verdict = v.action == POLICY_DENY ? POLICY_VERDICT_AUDIT : POLICY_VERDICT_FORWARDED;
	if (reply) {
		/* the kernel's policy_as_reply(): replies of an allowed or
		 * audited connection pass */
		r->flags |= POLICY_RES_REPLY;
		r->verdict = POLICY_VERDICT_FORWARDED;
		r->drop_reason = 0;
	}
	return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Policy verdicts for L3/L4 events that did not come from the kernel:
 * `flowctl replay --policy` (and any offline use) computes here the answer
 * the datapath would have kept for the flow (struct policy_result,
 * include/policy_maps.h), so the same functions label replayed and live
 * events (policy_label_flow(), policy_verdict_event() in policy_bpf.h).
 *
 * Offline nothing was dropped: a denied connection is AUDIT whatever the
 * policy's mode. The connection is judged from its client's side, as the
 * kernel judges the first packet of a connection; the reply direction
 * (is_reply true) gets the forward direction's answer as a reply
 * (FORWARDED, POLICY_RES_REPLY), like policy_as_reply() in the kernel.
 */
#ifndef FLOWD_POLICY_EVENT_H
#define FLOWD_POLICY_EVENT_H

#include "flow_event.h"
#include "policy.h"
#include "policy_maps.h"

/*
 * ev: an L3/L4 event (Type L3_L4) with IP and l4 set and, for selectors,
 * its endpoints filled (identity_fill_event(); none = world). DNS names for
 * toFQDNs come from ev->destination_names (source_names for a reply).
 * Returns 0, or -EINVAL when ev has no IP address (r untouched).
 */
int policy_result_for_event(const struct policy *p, const struct flow_event *ev,
                            struct policy_result *r);

#endif /* FLOWD_POLICY_EVENT_H */

/* The example events of ../shared/reference/hubble.md §1.6 (and a few
 * more from §3.1), built in C for the encoder, decoder, printer and filter
 * tests. Each returns a new event (flow_event_free() it). */
#ifndef FLOWD_FE_EXAMPLES_H
#define FLOWD_FE_EXAMPLES_H

#include "flow_event.h"

/* ns since the epoch of a UTC civil time. */
uint64_t fx_time(int y, int mo, int d, int h, int mi, int s, uint32_t ns);
/* Arena copy of n strings. */
const char **fx_strv(struct flow_event *ev, size_t n, ...);

struct flow_event *fx_tcp_syn_to_endpoint(void);   /* §1.6 line 1 */
struct flow_event *fx_http_request(void);          /* line 2 */
struct flow_event *fx_http_response(void);         /* line 3 */
struct flow_event *fx_dns_response(void);          /* line 4 */
struct flow_event *fx_kafka_request(void);         /* line 5 */
struct flow_event *fx_policy_drop(void);           /* line 6 */
/* Every Hubble field flowd does not produce itself, plus both flowd
 * extensions (IPv6, trace-sock, policies...). */
struct flow_event *fx_everything_else(void);
/* Lost events of §1.6 (lines 7, 8). node_name points to a literal. */
struct fe_lost_event fx_lost_ring(uint64_t *time_ns);
struct fe_lost_event fx_lost_perf(uint64_t *time_ns);

/* The documented JSON lines, '\n'-terminated, in the same order. */
extern const char *const fx_json_lines[8];

#endif

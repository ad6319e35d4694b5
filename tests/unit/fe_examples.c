/* Example events of hubble.md §1.6, built field by field. */
#include "fe_examples.h"
#include "flow_record.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

uint64_t fx_time(int y, int mo, int d, int h, int mi, int s, uint32_t ns)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
	                 .tm_hour = h, .tm_min = mi, .tm_sec = s };
	return (uint64_t)timegm(&tm) * 1000000000ull + ns;
}

const char **fx_strv(struct flow_event *ev, size_t n, ...)
{
	const char **v = fe_alloc(ev, n * sizeof(*v));
	va_list ap;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		v[i] = fe_strdup(ev, va_arg(ap, const char *));
	va_end(ap);
	return v;
}

static void ep(struct flow_event *ev, struct fe_endpoint *e, uint32_t id, uint32_t identity,
               const char *ns, const char *pod)
{
	e->id = id;
	e->identity = identity;
	e->namespace_ = ns ? fe_strdup(ev, ns) : NULL;
	e->pod_name = pod ? fe_strdup(ev, pod) : NULL;
}

static void ipv4(struct flow_event *ev, const char *src, const char *dst)
{
	ev->has_ip = true;
	strcpy(ev->ip_src, src);
	strcpy(ev->ip_dst, dst);
	ev->ip_version = FE_IPV4;
}

struct flow_event *fx_tcp_syn_to_endpoint(void)
{
	struct flow_event *ev = flow_event_new();
	ev->time_ns = fx_time(2025, 2, 14, 10, 0, 0, 123456789);
	strcpy(ev->uuid, "0598f6e1-4542-494c-a061-711065e865dd");
	ev->verdict = FE_FORWARDED;
	ev->has_ethernet = true;
	strcpy(ev->eth_src, "76:a3:43:b7:98:5c");
	strcpy(ev->eth_dst, "aa:02:51:65:11:83");
	ipv4(ev, "10.244.1.60", "10.244.1.5");
	ev->l4 = FE_L4_TCP;
	ev->sport = 44916;
	ev->dport = 8080;
	ev->tcp_flags = FLOW_TCP_SYN;
	ep(ev, &ev->source, 2864, 32753, "shop", "frontend-7d9c8b6f4-x2k9p");
	ev->source.cluster_name = "default";
	ev->source.labels = fx_strv(ev, 2, "k8s:app=frontend", "k8s:io.kubernetes.pod.namespace=shop");
	ev->source.n_labels = 2;
	ev->source.workloads = fe_alloc(ev, sizeof(struct fe_workload));
	ev->source.workloads[0] = (struct fe_workload){ "frontend", "Deployment" };
	ev->source.n_workloads = 1;
	ep(ev, &ev->destination, 1308, 45219, "shop", "checkout-5f6c7d8b9-qwz7l");
	ev->destination.cluster_name = "default";
	ev->destination.labels = fx_strv(ev, 2, "k8s:app=checkout", "k8s:io.kubernetes.pod.namespace=shop");
	ev->destination.n_labels = 2;
	ev->destination.workloads = fe_alloc(ev, sizeof(struct fe_workload));
	ev->destination.workloads[0] = (struct fe_workload){ "checkout", "Deployment" };
	ev->destination.n_workloads = 1;
	ev->type = FE_TYPE_L3_L4;
	ev->node_name = "default/kind-worker";
	ev->event_type = 4;
	ev->traffic_direction = FE_INGRESS;
	ev->trace_observation_point = 101;
	ev->trace_reason = 1;
	ev->is_reply = 0;
	ev->ifindex = 43;
	ev->ifname = "lxcddb869735f50";
	fe_set_summary(ev);
	return ev;
}

static struct flow_event *l7_base(uint64_t t, const char *uuid)
{
	struct flow_event *ev = flow_event_new();
	ev->time_ns = t;
	strcpy(ev->uuid, uuid);
	ev->verdict = FE_FORWARDED;
	ev->type = FE_TYPE_L7;
	ev->node_name = "default/kind-worker";
	ev->event_type = 129;
	ev->traffic_direction = FE_EGRESS;
	return ev;
}

static struct fe_http_header *headers(struct flow_event *ev, size_t n, ...)
{
	struct fe_http_header *h = fe_alloc(ev, n * sizeof(*h));
	va_list ap;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		h[i].key = va_arg(ap, const char *);
		h[i].value = va_arg(ap, const char *);
	}
	va_end(ap);
	return h;
}

#define CHECKOUT_URL "http://checkout.shop.svc.cluster.local:8080/api/v1/orders"
#define REQ_ID "37c5e90f-6fcf-4111-a253-d0b0cb666832"

struct flow_event *fx_http_request(void)
{
	struct flow_event *ev = l7_base(fx_time(2025, 2, 14, 10, 0, 1, 118447289),
	                                "5c7f1d8a-2b1e-4f3a-9d0c-1a2b3c4d5e6f");
	ipv4(ev, "10.244.1.60", "10.244.1.5");
	ev->l4 = FE_L4_TCP;
	ev->sport = 44916;
	ev->dport = 8080;
	ep(ev, &ev->source, 2864, 32753, "shop", "frontend-7d9c8b6f4-x2k9p");
	ev->source.labels = fx_strv(ev, 1, "k8s:app=frontend");
	ev->source.n_labels = 1;
	ep(ev, &ev->destination, 0, 45219, "shop", "checkout-5f6c7d8b9-qwz7l");
	ev->destination.labels = fx_strv(ev, 1, "k8s:app=checkout");
	ev->destination.n_labels = 1;
	ev->l7.type = FE_L7_REQUEST;
	ev->l7.kind = FE_L7K_HTTP;
	ev->l7.http.method = "POST";
	ev->l7.http.url = CHECKOUT_URL;
	ev->l7.http.protocol = "HTTP/1.1";
	ev->l7.http.headers = headers(ev, 4, "Accept", "*/*", "User-Agent", "curl/8.5.0",
	                              "X-Forwarded-Proto", "http", "X-Request-Id", REQ_ID);
	ev->l7.http.n_headers = 4;
	ev->is_reply = 0;
	fe_set_summary(ev);
	return ev;
}

struct flow_event *fx_http_response(void)
{
	struct flow_event *ev = l7_base(fx_time(2025, 2, 14, 10, 0, 1, 162014337),
	                                "9a0e7b52-61c4-4d0f-8f25-2e8c6a1f0b77");
	ipv4(ev, "10.244.1.5", "10.244.1.60");
	ev->l4 = FE_L4_TCP;
	ev->sport = 8080;
	ev->dport = 44916;
	ep(ev, &ev->source, 0, 45219, "shop", "checkout-5f6c7d8b9-qwz7l");
	ev->source.labels = fx_strv(ev, 1, "k8s:app=checkout");
	ev->source.n_labels = 1;
	ep(ev, &ev->destination, 2864, 32753, "shop", "frontend-7d9c8b6f4-x2k9p");
	ev->destination.labels = fx_strv(ev, 1, "k8s:app=frontend");
	ev->destination.n_labels = 1;
	ev->l7.type = FE_L7_RESPONSE;
	ev->l7.latency_ns = 43567048;
	ev->l7.kind = FE_L7K_HTTP;
	ev->l7.http.code = 201;
	ev->l7.http.method = "POST";
	ev->l7.http.url = CHECKOUT_URL;
	ev->l7.http.protocol = "HTTP/1.1";
	ev->l7.http.headers = headers(ev, 4, "Content-Length", "57", "Content-Type", "application/json",
	                              "X-Envoy-Upstream-Service-Time", "43", "X-Request-Id", REQ_ID);
	ev->l7.http.n_headers = 4;
	ev->reply = true;
	ev->is_reply = 1;
	fe_set_summary(ev);
	return ev;
}

struct flow_event *fx_dns_response(void)
{
	struct flow_event *ev = l7_base(fx_time(2025, 2, 14, 10, 0, 2, 19301112),
	                                "c2d4e6f8-0a1b-4c3d-8e5f-6a7b8c9d0e1f");
	ipv4(ev, "10.244.0.12", "10.244.1.60");
	ev->l4 = FE_L4_UDP;
	ev->sport = 53;
	ev->dport = 41501;
	ep(ev, &ev->source, 0, 15410, "kube-system", "coredns-7db6d8ff4d-2q9wv");
	ev->source.labels = fx_strv(ev, 2, "k8s:io.kubernetes.pod.namespace=kube-system",
	                            "k8s:k8s-app=kube-dns");
	ev->source.n_labels = 2;
	ep(ev, &ev->destination, 2864, 32753, "shop", "frontend-7d9c8b6f4-x2k9p");
	ev->destination.labels = fx_strv(ev, 1, "k8s:app=frontend");
	ev->destination.n_labels = 1;
	ev->l7.type = FE_L7_RESPONSE;
	ev->l7.kind = FE_L7K_DNS;
	ev->l7.dns.query = "api.github.com.";
	ev->l7.dns.ips = fx_strv(ev, 1, "140.82.121.6");
	ev->l7.dns.n_ips = 1;
	ev->l7.dns.ttl = 30;
	ev->l7.dns.observation_source = "proxy";
	ev->l7.dns.qtypes = fx_strv(ev, 1, "A");
	ev->l7.dns.n_qtypes = 1;
	ev->l7.dns.rrtypes = fx_strv(ev, 1, "A");
	ev->l7.dns.n_rrtypes = 1;
	ev->reply = true;
	ev->is_reply = 1;
	fe_set_summary(ev);
	return ev;
}

struct flow_event *fx_kafka_request(void)
{
	struct flow_event *ev = l7_base(fx_time(2025, 2, 14, 10, 0, 3, 500112004),
	                                "1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b");
	ev->node_name = "default/kind-worker2";
	ipv4(ev, "10.244.2.17", "10.244.2.9");
	ev->l4 = FE_L4_TCP;
	ev->sport = 51230;
	ev->dport = 9092;
	ep(ev, &ev->source, 911, 50112, "empire", "empire-hq-6c5d4b7f9-8lq2w");
	ev->source.labels = fx_strv(ev, 1, "k8s:app=empire-hq");
	ev->source.n_labels = 1;
	ep(ev, &ev->destination, 0, 48230, "empire", "kafka-broker-0");
	ev->destination.labels = fx_strv(ev, 1, "k8s:app=kafka");
	ev->destination.n_labels = 1;
	ev->l7.type = FE_L7_REQUEST;
	ev->l7.kind = FE_L7K_KAFKA;
	ev->l7.kafka.api_version = 5;
	ev->l7.kafka.api_key = "produce";
	ev->l7.kafka.correlation_id = 8;
	ev->l7.kafka.topic = "empire-announce";
	ev->is_reply = 0;
	fe_set_summary(ev);
	return ev;
}

struct flow_event *fx_policy_drop(void)
{
	struct flow_event *ev = flow_event_new();
	ev->time_ns = fx_time(2025, 2, 14, 10, 0, 4, 700221900);
	strcpy(ev->uuid, "8b7a6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d");
	ev->verdict = FE_DROPPED;
	ev->drop_reason = 133;
	ev->has_ethernet = true;
	strcpy(ev->eth_src, "72:c0:06:45:0a:22");
	strcpy(ev->eth_dst, "76:a3:43:b7:98:5c");
	ipv4(ev, "10.244.1.60", "104.198.14.52");
	ev->l4 = FE_L4_TCP;
	ev->sport = 52200;
	ev->dport = 443;
	ev->tcp_flags = FLOW_TCP_SYN;
	ep(ev, &ev->source, 2864, 32753, "shop", "frontend-7d9c8b6f4-x2k9p");
	ev->source.labels = fx_strv(ev, 1, "k8s:app=frontend");
	ev->source.n_labels = 1;
	ev->destination.identity = 16777219;
	ev->destination.labels = fx_strv(ev, 2, "cidr:104.198.14.52/32", "reserved:world");
	ev->destination.n_labels = 2;
	ev->type = FE_TYPE_L3_L4;
	ev->node_name = "default/kind-worker";
	ev->destination_names = fx_strv(ev, 1, "cilium.io");
	ev->n_destination_names = 1;
	ev->event_type = 1;
	ev->event_sub_type = 133;
	ev->traffic_direction = FE_EGRESS;
	ev->file_name = "bpf_lxc.c";
	ev->file_line = 1337;
	ev->drop_reason_desc = 133;
	ev->is_reply = -1;
	fe_set_summary(ev);
	return ev;
}

struct fe_lost_event fx_lost_ring(uint64_t *time_ns)
{
	*time_ns = fx_time(2025, 2, 14, 10, 0, 5, 3711402);
	return (struct fe_lost_event){ .source = FE_LOST_HUBBLE_RING_BUFFER, .num_events_lost = 1,
	                               .cpu = -1 };
}

struct fe_lost_event fx_lost_perf(uint64_t *time_ns)
{
	*time_ns = fx_time(2025, 2, 14, 10, 0, 5, 100000000);
	return (struct fe_lost_event){ .source = FE_LOST_PERF_EVENT_RING_BUFFER,
	                               .num_events_lost = 37, .cpu = 3 };
}

struct flow_event *fx_everything_else(void)
{
	struct flow_event *ev = flow_event_new();
	ev->has_ip = true;
	strcpy(ev->ip_src, "2001:db8::1");
	strcpy(ev->ip_src_xlated, "2001:db8::99");
	strcpy(ev->ip_dst, "2001:db8::2");
	ev->ip_version = FE_IPV6;
	ev->encrypted = true;
	ev->type = FE_TYPE_SOCK;
	ev->auth_type = 1;
	ev->ip_trace_id = 18446744073709551615ull;
	ev->ip_option_type = 136;
	ev->sock_xlate_point = 2;
	ev->socket_cookie = 12345678901234ull;
	ev->cgroup_id = 42;
	ev->event_type = 7;
	ev->source_service.name = "web";
	ev->source_service.namespace_ = "shop";
	ev->policy_match_type = 2;
	ev->trace_parent_id = "4bf92f3577b34da6a3ce929d0e0e4736";
	ev->proxy_port = 15001;
	ev->debug_capture_point = 4;
	ev->summary = "TCP";
	ev->emitter_name = "flowd";
	ev->node_labels = fx_strv(ev, 1, "kubernetes.io/arch=amd64");
	ev->n_node_labels = 1;
	struct fe_policy *pol = fe_alloc(ev, sizeof(*pol));
	pol->name = "allow-web";
	pol->namespace_ = "shop";
	pol->kind = "CiliumNetworkPolicy";
	pol->labels = fx_strv(ev, 1, "k8s:io.cilium.k8s.policy.name=allow-web");
	pol->n_labels = 1;
	pol->revision = 7;
	ev->ingress_allowed_by = pol;
	ev->n_ingress_allowed_by = 1;
	ev->policy_log = fx_strv(ev, 1, "audit");
	ev->n_policy_log = 1;
	ev->stats = (struct fe_flow_stats){ FE_STATS_END, 10, 1500,
	                                    fx_time(2025, 1, 1, 0, 0, 0, 0), fx_time(2025, 1, 1, 0, 0, 1, 500000000) };
	ev->l7_info.gap_bytes = 4096;
	ev->l7_info.truncated = true;
	return ev;
}

/* Copied verbatim from hubble.md §1.6. */
const char *const fx_json_lines[8] = {
"{\"flow\":{\"time\":\"2025-02-14T10:00:00.123456789Z\",\"uuid\":\"0598f6e1-4542-494c-a061-711065e865dd\",\"verdict\":\"FORWARDED\",\"ethernet\":{\"source\":\"76:a3:43:b7:98:5c\",\"destination\":\"aa:02:51:65:11:83\"},\"IP\":{\"source\":\"10.244.1.60\",\"destination\":\"10.244.1.5\",\"ipVersion\":\"IPv4\"},\"l4\":{\"TCP\":{\"source_port\":44916,\"destination_port\":8080,\"flags\":{\"SYN\":true}}},\"source\":{\"ID\":2864,\"identity\":32753,\"cluster_name\":\"default\",\"namespace\":\"shop\",\"labels\":[\"k8s:app=frontend\",\"k8s:io.kubernetes.pod.namespace=shop\"],\"pod_name\":\"frontend-7d9c8b6f4-x2k9p\",\"workloads\":[{\"name\":\"frontend\",\"kind\":\"Deployment\"}]},\"destination\":{\"ID\":1308,\"identity\":45219,\"cluster_name\":\"default\",\"namespace\":\"shop\",\"labels\":[\"k8s:app=checkout\",\"k8s:io.kubernetes.pod.namespace=shop\"],\"pod_name\":\"checkout-5f6c7d8b9-qwz7l\",\"workloads\":[{\"name\":\"checkout\",\"kind\":\"Deployment\"}]},\"Type\":\"L3_L4\",\"node_name\":\"default/kind-worker\",\"event_type\":{\"type\":4},\"traffic_direction\":\"INGRESS\",\"trace_observation_point\":\"TO_ENDPOINT\",\"trace_reason\":\"NEW\",\"is_reply\":false,\"interface\":{\"index\":43,\"name\":\"lxcddb869735f50\"},\"Summary\":\"TCP Flags: SYN\"},\"node_name\":\"default/kind-worker\",\"time\":\"2025-02-14T10:00:00.123456789Z\"}\n",
"{\"flow\":{\"time\":\"2025-02-14T10:00:01.118447289Z\",\"uuid\":\"5c7f1d8a-2b1e-4f3a-9d0c-1a2b3c4d5e6f\",\"verdict\":\"FORWARDED\",\"IP\":{\"source\":\"10.244.1.60\",\"destination\":\"10.244.1.5\",\"ipVersion\":\"IPv4\"},\"l4\":{\"TCP\":{\"source_port\":44916,\"destination_port\":8080}},\"source\":{\"ID\":2864,\"identity\":32753,\"namespace\":\"shop\",\"labels\":[\"k8s:app=frontend\"],\"pod_name\":\"frontend-7d9c8b6f4-x2k9p\"},\"destination\":{\"identity\":45219,\"namespace\":\"shop\",\"labels\":[\"k8s:app=checkout\"],\"pod_name\":\"checkout-5f6c7d8b9-qwz7l\"},\"Type\":\"L7\",\"node_name\":\"default/kind-worker\",\"l7\":{\"type\":\"REQUEST\",\"http\":{\"method\":\"POST\",\"url\":\"http://checkout.shop.svc.cluster.local:8080/api/v1/orders\",\"protocol\":\"HTTP/1.1\",\"headers\":[{\"key\":\"Accept\",\"value\":\"*/*\"},{\"key\":\"User-Agent\",\"value\":\"curl/8.5.0\"},{\"key\":\"X-Forwarded-Proto\",\"value\":\"http\"},{\"key\":\"X-Request-Id\",\"value\":\"37c5e90f-6fcf-4111-a253-d0b0cb666832\"}]}},\"event_type\":{\"type\":129},\"traffic_direction\":\"EGRESS\",\"is_reply\":false,\"Summary\":\"HTTP/1.1 POST http://checkout.shop.svc.cluster.local:8080/api/v1/orders\"},\"node_name\":\"default/kind-worker\",\"time\":\"2025-02-14T10:00:01.118447289Z\"}\n",
"{\"flow\":{\"time\":\"2025-02-14T10:00:01.162014337Z\",\"uuid\":\"9a0e7b52-61c4-4d0f-8f25-2e8c6a1f0b77\",\"verdict\":\"FORWARDED\",\"IP\":{\"source\":\"10.244.1.5\",\"destination\":\"10.244.1.60\",\"ipVersion\":\"IPv4\"},\"l4\":{\"TCP\":{\"source_port\":8080,\"destination_port\":44916}},\"source\":{\"identity\":45219,\"namespace\":\"shop\",\"labels\":[\"k8s:app=checkout\"],\"pod_name\":\"checkout-5f6c7d8b9-qwz7l\"},\"destination\":{\"ID\":2864,\"identity\":32753,\"namespace\":\"shop\",\"labels\":[\"k8s:app=frontend\"],\"pod_name\":\"frontend-7d9c8b6f4-x2k9p\"},\"Type\":\"L7\",\"node_name\":\"default/kind-worker\",\"l7\":{\"type\":\"RESPONSE\",\"latency_ns\":\"43567048\",\"http\":{\"code\":201,\"method\":\"POST\",\"url\":\"http://checkout.shop.svc.cluster.local:8080/api/v1/orders\",\"protocol\":\"HTTP/1.1\",\"headers\":[{\"key\":\"Content-Length\",\"value\":\"57\"},{\"key\":\"Content-Type\",\"value\":\"application/json\"},{\"key\":\"X-Envoy-Upstream-Service-Time\",\"value\":\"43\"},{\"key\":\"X-Request-Id\",\"value\":\"37c5e90f-6fcf-4111-a253-d0b0cb666832\"}]}},\"reply\":true,\"event_type\":{\"type\":129},\"traffic_direction\":\"EGRESS\",\"is_reply\":true,\"Summary\":\"HTTP/1.1 201 43ms (POST http://checkout.shop.svc.cluster.local:8080/api/v1/orders)\"},\"node_name\":\"default/kind-worker\",\"time\":\"2025-02-14T10:00:01.162014337Z\"}\n",
"{\"flow\":{\"time\":\"2025-02-14T10:00:02.019301112Z\",\"uuid\":\"c2d4e6f8-0a1b-4c3d-8e5f-6a7b8c9d0e1f\",\"verdict\":\"FORWARDED\",\"IP\":{\"source\":\"10.244.0.12\",\"destination\":\"10.244.1.60\",\"ipVersion\":\"IPv4\"},\"l4\":{\"UDP\":{\"source_port\":53,\"destination_port\":41501}},\"source\":{\"identity\":15410,\"namespace\":\"kube-system\",\"labels\":[\"k8s:io.kubernetes.pod.namespace=kube-system\",\"k8s:k8s-app=kube-dns\"],\"pod_name\":\"coredns-7db6d8ff4d-2q9wv\"},\"destination\":{\"ID\":2864,\"identity\":32753,\"namespace\":\"shop\",\"labels\":[\"k8s:app=frontend\"],\"pod_name\":\"frontend-7d9c8b6f4-x2k9p\"},\"Type\":\"L7\",\"node_name\":\"default/kind-worker\",\"l7\":{\"type\":\"RESPONSE\",\"dns\":{\"query\":\"api.github.com.\",\"ips\":[\"140.82.121.6\"],\"ttl\":30,\"observation_source\":\"proxy\",\"qtypes\":[\"A\"],\"rrtypes\":[\"A\"]}},\"reply\":true,\"event_type\":{\"type\":129},\"traffic_direction\":\"EGRESS\",\"is_reply\":true,\"Summary\":\"DNS Answer \\\"140.82.121.6\\\" TTL: 30 (Proxy api.github.com. A)\"},\"node_name\":\"default/kind-worker\",\"time\":\"2025-02-14T10:00:02.019301112Z\"}\n",
"{\"flow\":{\"time\":\"2025-02-14T10:00:03.500112004Z\",\"uuid\":\"1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b\",\"verdict\":\"FORWARDED\",\"IP\":{\"source\":\"10.244.2.17\",\"destination\":\"10.244.2.9\",\"ipVersion\":\"IPv4\"},\"l4\":{\"TCP\":{\"source_port\":51230,\"destination_port\":9092}},\"source\":{\"ID\":911,\"identity\":50112,\"namespace\":\"empire\",\"labels\":[\"k8s:app=empire-hq\"],\"pod_name\":\"empire-hq-6c5d4b7f9-8lq2w\"},\"destination\":{\"identity\":48230,\"namespace\":\"empire\",\"labels\":[\"k8s:app=kafka\"],\"pod_name\":\"kafka-broker-0\"},\"Type\":\"L7\",\"node_name\":\"default/kind-worker2\",\"l7\":{\"type\":\"REQUEST\",\"kafka\":{\"api_version\":5,\"api_key\":\"produce\",\"correlation_id\":8,\"topic\":\"empire-announce\"}},\"event_type\":{\"type\":129},\"traffic_direction\":\"EGRESS\",\"is_reply\":false,\"Summary\":\"Kafka request produce correlation id 8 topic 'empire-announce'\"},\"node_name\":\"default/kind-worker2\",\"time\":\"2025-02-14T10:00:03.500112004Z\"}\n",
"{\"flow\":{\"time\":\"2025-02-14T10:00:04.700221900Z\",\"uuid\":\"8b7a6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d\",\"verdict\":\"DROPPED\",\"drop_reason\":133,\"ethernet\":{\"source\":\"72:c0:06:45:0a:22\",\"destination\":\"76:a3:43:b7:98:5c\"},\"IP\":{\"source\":\"10.244.1.60\",\"destination\":\"104.198.14.52\",\"ipVersion\":\"IPv4\"},\"l4\":{\"TCP\":{\"source_port\":52200,\"destination_port\":443,\"flags\":{\"SYN\":true}}},\"source\":{\"ID\":2864,\"identity\":32753,\"namespace\":\"shop\",\"labels\":[\"k8s:app=frontend\"],\"pod_name\":\"frontend-7d9c8b6f4-x2k9p\"},\"destination\":{\"identity\":16777219,\"labels\":[\"cidr:104.198.14.52/32\",\"reserved:world\"]},\"Type\":\"L3_L4\",\"node_name\":\"default/kind-worker\",\"destination_names\":[\"cilium.io\"],\"event_type\":{\"type\":1,\"sub_type\":133},\"traffic_direction\":\"EGRESS\",\"file\":{\"name\":\"bpf_lxc.c\",\"line\":1337},\"drop_reason_desc\":\"POLICY_DENIED\",\"Summary\":\"TCP Flags: SYN\"},\"node_name\":\"default/kind-worker\",\"time\":\"2025-02-14T10:00:04.700221900Z\"}\n",
"{\"lost_events\":{\"source\":\"HUBBLE_RING_BUFFER\",\"num_events_lost\":\"1\"},\"node_name\":\"default/kind-worker\",\"time\":\"2025-02-14T10:00:05.003711402Z\"}\n",
"{\"lost_events\":{\"source\":\"PERF_EVENT_RING_BUFFER\",\"num_events_lost\":\"37\",\"cpu\":3},\"node_name\":\"default/kind-worker\",\"time\":\"2025-02-14T10:00:05.100Z\"}\n",
};

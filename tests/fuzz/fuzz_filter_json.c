/* libFuzzer target for raw FlowFilter JSON (--allowlist/--denylist, the
 * flowd socket API, exporter configs) and the matcher: parsing and
 * compiling never crash; what compiles matches the example events, and its
 * JSON form parses back to the same JSON. */
#include "filter.h"
#include "flow_record.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct flow_event *example(int i)
{
	struct flow_event *ev = flow_event_new();
	ev->has_ip = true;
	strcpy(ev->ip_src, i ? "2001:db8::1" : "10.0.0.5");
	strcpy(ev->ip_dst, i ? "2001:db8::2" : "10.0.0.9");
	ev->ip_version = i ? FE_IPV6 : FE_IPV4;
	ev->l4 = FE_L4_TCP;
	ev->sport = 51000;
	ev->dport = 80;
	ev->tcp_flags = FLOW_TCP_SYN;
	ev->type = i ? FE_TYPE_L7 : FE_TYPE_L3_L4;
	ev->event_type = i ? 129 : 4;
	ev->node_name = "default/node-1";
	ev->source.labels = fe_alloc(ev, sizeof(char *));
	ev->source.labels[0] = "k8s:app=web";
	ev->source.n_labels = 1;
	ev->source.namespace_ = "shop";
	ev->source.pod_name = "web-1";
	if (i) {
		ev->l7.type = FE_L7_RESPONSE;
		ev->l7.kind = FE_L7K_HTTP;
		ev->l7.http.code = 503;
		ev->l7.http.method = "GET";
		ev->l7.http.url = "http://web/api/v1/x%20y?q=1";
	}
	return ev;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct flow_event *evs[2];
	char err[512];
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (!evs[0]) {
		evs[0] = example(0);
		evs[1] = example(1);
	}
	struct fe_filters *f = fe_filters_new();
	int rc = fe_filters_add_json(f, size % 2, s, err, sizeof(err));
	if (rc == 0)
		rc = fe_filters_finish(f, err, sizeof(err));
	if (rc && !err[0])
		abort();  /* every error carries a message */
	if (rc == 0) {
		for (int i = 0; i < 2; i++)
			(void)fe_filters_match_flow(f, evs[i]);
		struct fe_buf a = { 0 }, b = { 0 };
		struct fe_filters *g = fe_filters_new();
		if (fe_filters_to_json(f, &a) || fe_filters_from_json(g, a.data, a.len, err, sizeof(err)) ||
		    fe_filters_finish(g, err, sizeof(err)) || fe_filters_to_json(g, &b) ||
		    a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
			abort();
		for (int i = 0; i < 2; i++)
			if (fe_filters_match_flow(f, evs[i]) != fe_filters_match_flow(g, evs[i]))
				abort();
		b.len = 0;
		if (fe_filters_to_yaml(f, &b))
			abort();
		fe_filters_free(g);
		fe_buf_free(&a);
		fe_buf_free(&b);
	}
	fe_filters_free(f);
	free(s);
	return 0;
}

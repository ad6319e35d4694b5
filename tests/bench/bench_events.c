/* Benchmark of lib/: JSON encoding and decoding, compact printing, Summary
 * strings and filter matching, on realistic events (one of each kind:
 * L3/L4 trace, HTTP request and response, DNS answer, Kafka, drop).
 * Not a test: prints rates. Each measurement runs ~0.3 s.
 *
 *   make build/bench/bench_events && build/bench/bench_events
 */
#include "filter.h"
#include "flow_json.h"
#include "flow_record.h"
#include "printer.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char **strv(struct flow_event *ev, size_t n, const char *a, const char *b)
{
	const char **v = fe_alloc(ev, n * sizeof(*v));
	v[0] = a;
	if (n > 1)
		v[1] = b;
	return v;
}

/* A representative mix of events (values as flowd produces them). */
static struct flow_event *make_event(int kind)
{
	struct flow_event *ev = flow_event_new();
	ev->time_ns = 1739527200123456789ull + (uint64_t)kind * 1000;
	snprintf(ev->uuid, sizeof(ev->uuid), "0598f6e1-4542-494c-a061-71106%07d", kind);
	ev->verdict = FE_FORWARDED;
	ev->has_ip = true;
	strcpy(ev->ip_src, "198.18.0.10");
	strcpy(ev->ip_dst, "198.18.1.20");
	ev->ip_version = FE_IPV4;
	ev->l4 = FE_L4_TCP;
	ev->sport = 51000;
	ev->dport = 80;
	ev->node_name = "node-1";
	ev->is_reply = 0;
	ev->ifindex = 3;
	ev->ifname = "eth0";
	ev->traffic_direction = FE_EGRESS;
	switch (kind) {
	case 0:  /* L3/L4 start event */
		ev->has_ethernet = true;
		strcpy(ev->eth_src, "76:a3:43:b7:98:5c");
		strcpy(ev->eth_dst, "aa:02:51:65:11:83");
		ev->tcp_flags = FLOW_TCP_SYN;
		ev->type = FE_TYPE_L3_L4;
		ev->event_type = 4;
		ev->event_sub_type = 11;
		ev->trace_observation_point = 11;
		ev->stats = (struct fe_flow_stats){ FE_STATS_START, 1, 74, ev->time_ns, ev->time_ns };
		break;
	case 1:  /* HTTP request */
	case 2:  /* HTTP response */
		ev->type = FE_TYPE_L7;
		ev->event_type = 129;
		ev->l7.kind = FE_L7K_HTTP;
		ev->l7.type = kind == 1 ? FE_L7_REQUEST : FE_L7_RESPONSE;
		ev->l7.http.method = "GET";
		ev->l7.http.url = "http://198.18.1.20/api/v1/orders/42?expand=items&limit=10";
		ev->l7.http.protocol = "HTTP/1.1";
		ev->l7.http.headers = fe_alloc(ev, 4 * sizeof(struct fe_http_header));
		ev->l7.http.headers[0] = (struct fe_http_header){ "Accept", "*/*" };
		ev->l7.http.headers[1] = (struct fe_http_header){ "Host", "198.18.1.20" };
		ev->l7.http.headers[2] = (struct fe_http_header){ "User-Agent", "curl/7.88.1" };
		ev->l7.http.headers[3] = (struct fe_http_header){ "X-Request-Id", "37c5e90f-6fcf-4111-a253" };
		ev->l7.http.n_headers = 4;
		if (kind == 2) {
			strcpy(ev->ip_src, "198.18.1.20");
			strcpy(ev->ip_dst, "198.18.0.10");
			ev->sport = 80;
			ev->dport = 51000;
			ev->l7.http.code = 200;
			ev->l7.latency_ns = 1234567;
			ev->is_reply = 1;
			ev->reply = true;
		}
		break;
	case 3:  /* DNS answer */
		ev->type = FE_TYPE_L7;
		ev->event_type = 129;
		ev->l4 = FE_L4_UDP;
		ev->sport = 53;
		ev->dport = 41000;
		ev->l7.kind = FE_L7K_DNS;
		ev->l7.type = FE_L7_RESPONSE;
		ev->l7.dns.query = "api.github.com.";
		ev->l7.dns.ips = strv(ev, 2, "140.82.121.6", "140.82.121.5");
		ev->l7.dns.n_ips = 2;
		ev->l7.dns.ttl = 60;
		ev->l7.dns.qtypes = strv(ev, 1, "A", NULL);
		ev->l7.dns.n_qtypes = 1;
		ev->l7.dns.rrtypes = strv(ev, 2, "A", "A");
		ev->l7.dns.n_rrtypes = 2;
		ev->is_reply = 1;
		break;
	case 4:  /* Kafka request */
		ev->type = FE_TYPE_L7;
		ev->event_type = 129;
		ev->dport = 9092;
		ev->l7.kind = FE_L7K_KAFKA;
		ev->l7.type = FE_L7_REQUEST;
		ev->l7.kafka.api_key = "produce";
		ev->l7.kafka.api_version = 9;
		ev->l7.kafka.correlation_id = 8;
		ev->l7.kafka.topic = "orders";
		break;
	default:  /* drop */
		ev->type = FE_TYPE_L3_L4;
		ev->verdict = FE_DROPPED;
		ev->event_type = 1;
		ev->event_sub_type = 133;
		ev->drop_reason = 133;
		ev->drop_reason_desc = 133;
		ev->tcp_flags = FLOW_TCP_SYN;
		ev->is_reply = -1;
		ev->destination_names = strv(ev, 1, "cilium.io", NULL);
		ev->n_destination_names = 1;
		break;
	}
	fe_set_summary(ev);
	return ev;
}

#define N_EV 6

static void report(const char *what, double secs, unsigned long n, double bytes)
{
	printf("%-34s %10.0f /s  %7.1f ns each", what, (double)n / secs, secs * 1e9 / (double)n);
	if (bytes > 0)
		printf("  %7.1f MB/s", bytes / secs / 1e6);
	printf("\n");
}

int main(void)
{
	struct flow_event *evs[N_EV];
	struct fe_record recs[N_EV];
	for (int i = 0; i < N_EV; i++) {
		evs[i] = make_event(i);
		recs[i] = (struct fe_record){ .kind = FE_REC_FLOW, .flow = evs[i] };
	}

	/* encode */
	struct fe_buf b = { 0 };
	unsigned long n = 0;
	double bytes = 0, t0 = now(), t;
	struct mallinfo2 m0 = mallinfo2();
	do {
		for (int k = 0; k < 1000; k++) {
			b.len = 0;
			fe_record_to_json(&recs[n % N_EV], &b);
			bytes += (double)b.len;
			n++;
		}
	} while ((t = now() - t0) < 0.3);
	struct mallinfo2 m1 = mallinfo2();
	report("fe_record_to_json", t, n, bytes);
	printf("  heap in use before/after the loop: %zu / %zu bytes (no per-line allocation)\n",
	       m0.uordblks, m1.uordblks);

	/* decode */
	char *lines[N_EV];
	size_t lens[N_EV];
	for (int i = 0; i < N_EV; i++) {
		b.len = 0;
		fe_record_to_json(&recs[i], &b);
		lines[i] = strdup(b.data);
		lens[i] = b.len;
	}
	n = 0;
	bytes = 0;
	t0 = now();
	do {
		for (int k = 0; k < 200; k++) {
			struct fe_decoded d;
			char err[128];
			int i = (int)(n % N_EV);
			if (fe_json_decode(lines[i], lens[i], &d, err, sizeof(err)) == 0)
				fe_decoded_clear(&d);
			bytes += (double)lens[i];
			n++;
		}
	} while ((t = now() - t0) < 0.3);
	report("fe_json_decode (jansson)", t, n, bytes);

	/* compact printing */
	FILE *devnull = fopen("/dev/null", "w");
	struct fe_printer_options po = { .format = FE_OUTPUT_COMPACT, .color = FE_COLOR_NEVER };
	struct fe_printer *p = fe_printer_new(&po, devnull);
	n = 0;
	t0 = now();
	do {
		for (int k = 0; k < 1000; k++, n++)
			fe_printer_print(p, &recs[n % N_EV]);
	} while ((t = now() - t0) < 0.3);
	report("fe_printer_print (compact)", t, n, 0);
	fe_printer_free(p);

	/* summary */
	n = 0;
	t0 = now();
	do {
		for (int k = 0; k < 1000; k++, n++)
			fe_set_summary(evs[n % N_EV]);  /* arena grows: bounded run */
	} while ((t = now() - t0) < 0.1);
	report("fe_set_summary", t, n, 0);

	/* filters */
	const char *sets[][12] = {
		{ "--ip", "198.18.0.0/24", "--port", "80", NULL },
		{ "--protocol", "http", "--http-status", "2+", "--http-path", "^/api/v[0-9]+/", NULL },
		{ "--dns-query", "*.github.com", "--not", "--verdict", "dropped", NULL },
		{ "--from-label", "k8s:app in (web, api)", "--to-fqdn", "*.cilium.io", NULL },
	};
	const char *names[] = { "match --ip CIDR --port 80", "match http status+path regex",
	                        "match --dns-query --not --verdict", "match label selector + fqdn" };
	for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
		struct fe_filters *f = fe_filters_new();
		char err[256];
		int argc = 0;
		while (sets[s][argc])
			argc++;
		for (int i = 0; i < argc;)
			if (fe_filters_parse_arg(f, argc, (char *const *)sets[s], &i, err, sizeof(err)) != 1) {
				fprintf(stderr, "bench: %s\n", err);
				return 1;
			}
		if (fe_filters_finish(f, err, sizeof(err))) {
			fprintf(stderr, "bench: %s\n", err);
			return 1;
		}
		unsigned long hits = 0;
		n = 0;
		t0 = now();
		do {
			for (int k = 0; k < 1000; k++, n++)
				hits += fe_filters_match(f, &recs[n % N_EV]);
		} while ((t = now() - t0) < 0.3);
		report(names[s], t, n, 0);
		printf("  (%lu of %lu matched)\n", hits, n);
		fe_filters_free(f);
	}

	fclose(devnull);
	fe_buf_free(&b);
	for (int i = 0; i < N_EV; i++) {
		free(lines[i]);
		flow_event_free(evs[i]);
	}
	return 0;
}

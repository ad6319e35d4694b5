/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowctl replay: run flowd's pipeline (l7/pipeline.h) on a capture file.
 * Only the packet source differs from the live daemon: libpcap offline
 * reading instead of the TC payload ring, capture time instead of clock
 * time. Unprivileged.
 */
#include "cli.h"

#include "filter.h"
#include "flow_event.h"
#include "identity.h"
#include "policy.h"
#include "flow_json.h"
#include "pipeline.h"
#include "printer.h"
#include "pkt_parse.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define usage_error(...) cli_usage_error("replay", __VA_ARGS__)

static const char replay_help[] =
"NAME\n"
"    flowctl replay - run the flowd pipeline on a capture file\n"
"\n"
"SYNOPSIS\n"
"    flowctl replay [OPTIONS] FILE [BPF-FILTER...]\n"
"\n"
"DESCRIPTION\n"
"    Reads FILE (pcap or pcapng; \"-\" is standard input) and runs exactly the\n"
"    pipeline the flowd daemon runs live: TCP reassembly, protocol detection by\n"
"    content, the HTTP/1.1, HTTP/2, DNS and Kafka parsers. It writes one event\n"
"    per line in the Hubble flow schema, in capture order, timestamped with\n"
"    capture time: an L3/L4 event when a directional flow starts, every\n"
"    --active-timeout while it lasts (\"update\") and when it ends after\n"
"    --idle-timeout of capture time or at the end of the file (flow.flow_stats),\n"
"    and an L7 event (Type \"L7\") per request and per response. The same input\n"
"    and options always give the same bytes (event uuids derive from\n"
"    --uuid-seed), so outputs can be compared in CI. No privileges needed.\n"
"\n"
"    BPF-FILTER is a libpcap filter expression (as for tcpdump); the remaining\n"
"    arguments are joined with spaces. Frames it rejects are not seen by the\n"
"    pipeline at all.\n"
"\n"
"    Link types: Ethernet, Linux cooked (SLL, SLL2), raw IP (RAW, IPV4, IPV6),\n"
"    BSD loopback (NULL, LOOP), Linux NFLOG, PPP, Cisco HDLC.\n"
"\n"
"OPTIONS\n"
"  Output\n"
"    -o, --output FORMAT\n"
"        json (default; jsonpb is the same): one GetFlowsResponse JSON object\n"
"        per line, exactly as `hubble observe -o json` prints it. compact, dict,\n"
"        table: the text formats of `hubble observe`.\n"
"    --time-format NAME\n"
"        Time layout of the text formats (default StampMilli):\n"
"%s"
"    --color auto|always|never\n"
"        Colors in compact and dict output (default auto: on a terminal).\n"
"    --print-node-name\n"
"        Show the node name in the text formats.\n"
"    --numeric\n"
"        Show IP addresses instead of DNS names in the text formats.\n"
"    --print-policy-names\n"
"        compact: name the deciding policy rule of policy verdicts (BY ...).\n"
"    --field-mask PATHS\n"
"        json only: keep only these fields, comma-separated proto paths\n"
"        (time,IP,l4,l7.http.url,flow_stats,...). Repeatable.\n"
"    --node-name NAME\n"
"        node_name of every event (default: none).\n"
"    --print-raw-filters\n"
"        Print the filters as Hubble's allowlist/denylist YAML and exit.\n"
"  Pipeline\n"
"    --stats\n"
"        At the end, print the pipeline counters (what was parsed, reassembled,\n"
"        dropped by a bound, and why) to standard error.\n"
"    --idle-timeout DURATION\n"
"        A directional flow ends after this much capture time without a packet\n"
"        (default 15s; 0 = only at the end of the file). DURATION: 500ms, 15s,\n"
"        2m, 1h; a bare number is seconds.\n"
"    --active-timeout DURATION\n"
"        A live flow gets an \"update\" event this often (default 60s; 0 = never).\n"
"    --max-flows N\n"
"        Connections tracked at once (default 262144). Packets of further\n"
"        connections are counted (packets.untracked_table_full), not tracked.\n"
"    --max-conn-buffer SIZE\n"
"        Out-of-order bytes held per connection direction (default 1M). SIZE:\n"
"        bytes, or with k, M, G (binary). Beyond it the stream skips ahead and\n"
"        the skipped bytes are reported as a gap (tcp.buffer_limit_*).\n"
"    --max-total-buffer SIZE\n"
"        Out-of-order and detection bytes held by all connections (default 64M).\n"
"    --dns-cache-size N\n"
"        IP addresses remembered from DNS answers for source_names and\n"
"        destination_names (default 65536; 0 = off).\n"
"    --dns-min-ttl SECONDS\n"
"        A name stays known at least this long after its answer, whatever its\n"
"        TTL (default 3600, like Cilium's tofqdns-min-ttl).\n"
"    --redact-header NAME\n"
"        Replace the value of this HTTP header with HUBBLE_REDACTED (repeatable).\n"
"    --max-header-bytes SIZE\n"
"        Header bytes kept per L7 message (default 64k).\n"
"    --uuid-seed N\n"
"        Seed of the deterministic event uuids (default 0).\n"
"  Identities and policy\n"
"    --identities FILE\n"
"        Give addresses identities from FILE (YAML, README \"Identities\"):\n"
"        every event gets source/destination endpoints (identity, namespace,\n"
"        pod, labels, workloads), which the compact output shows and\n"
"        --namespace, --pod, --label and --identity filter on. Addresses of\n"
"        this machine are not detected (the capture may come from another):\n"
"        list them under host.addresses.\n"
"    --policy FILE\n"
"        Judge every connection and L7 transaction with the policy in FILE\n"
"        (YAML, README \"Policy\"): verdicts, a policy-verdict event before the\n"
"        first flow of each connection, the deciding rule in *_allowed_by and\n"
"        *_denied_by. Nothing was dropped in a capture: what the policy\n"
"        denies is reported as AUDIT, in enforce mode too.\n"
"    -h, --help\n"
"        This text.\n"
"\n"
"  Filters (as `hubble observe`; values of one flag are ORed, flags ANDed;\n"
"  --not negates the next flag)\n"
"%s"
"\n"
"EXIT STATUS\n"
"    0  the whole file was read.\n"
"    1  the file could not be opened, is not a capture, has an unsupported link\n"
"       type, or ended in a truncated or corrupt record: the message says which,\n"
"       and everything read before the problem has been written.\n"
"    2  bad option, value or filter expression.\n"
"\n"
"EXAMPLES\n"
"    flowctl replay capture.pcap\n"
"    flowctl replay --stats capture.pcapng 'tcp port 80'\n"
"    flowctl replay -o json trace.pcap | jq -c 'select(.flow.Type == \"L7\")'\n"
"    flowctl replay -o compact --type l7 --http-status 5+ trace.pcap\n"
"    flowctl replay --fqdn '*.example.com' --protocol dns trace.pcapng\n";

struct replay {
	const char *path;
	pcap_t *pc;
	int dlt;
	struct bpf_program bpf;
	bool have_bpf;
	struct pipeline *pl;
	struct fe_filters *filters;
	struct fe_printer *printer;     /* text formats */
	const struct fe_field_mask *mask;
	struct fe_buf out;              /* json: encoded here, written in blocks */
	bool write_failed;
	uint64_t events_shown;
	uint64_t frames, frames_filtered, frames_bad_link;
	uint64_t last_ts;
};

static void out_flush(struct replay *r)
{
	if (r->out.len && !r->write_failed) {
		if (fwrite(r->out.data, 1, r->out.len, stdout) != r->out.len)
			r->write_failed = true;
	}
	r->out.len = 0;
}

/* The filters run inside the pipeline, before the Summary is built (want):
 * nothing is formatted or encoded for an event nobody sees. */
static bool want(void *user, const struct flow_event *ev)
{
	struct replay *r = user;
	return !r->filters || fe_filters_match_flow(r->filters, ev);
}

/* Events arrive in capture order. */
static void sink(void *user, struct flow_event *ev)
{
	struct replay *r = user;
	struct fe_record rec = { .kind = FE_REC_FLOW, .flow = ev };
	r->events_shown++;
	if (r->printer) {
		if (fe_printer_print(r->printer, &rec) < 0)
			r->write_failed = true;
	} else {
		fe_record_to_json_masked(&rec, r->mask, &r->out);
		if (r->out.len >= (1u << 16))
			out_flush(r);
	}
	flow_event_free(ev);
}

/* Does any filter (allow or deny) test this field ("source_fqdn")? */
static bool filters_use(const struct fe_filters *f, const char *key)
{
	struct fe_buf b = { 0 };
	if (fe_filters_to_json(f, &b)) {
		fe_buf_free(&b);
		return true;
	}
	json_t *root = json_loadb(b.data, b.len, 0, NULL);
	fe_buf_free(&b);
	bool used = !root;
	for (int d = 0; d < 2 && !used; d++) {
		json_t *list = json_object_get(root, d ? "denylist" : "allowlist");
		size_t i;
		json_t *flt;
		json_array_foreach(list, i, flt)
			used |= json_object_get(flt, key) != NULL;
	}
	json_decref(root);
	return used;
}

/* True when no allowlist filter can accept an L3/L4 event: each restricts
 * the event type to others than trace (4), or the protocol to L7 ones.
 * Then the pipeline need not build them at all. */
static bool filters_exclude_l34(const struct fe_filters *f)
{
	if (!fe_filters_count(f, false))
		return false;
	struct fe_buf b = { 0 };
	if (fe_filters_to_json(f, &b)) {
		fe_buf_free(&b);
		return false;
	}
	json_t *root = json_loadb(b.data, b.len, 0, NULL);
	fe_buf_free(&b);
	json_t *allow = json_object_get(root, "allowlist");
	bool excluded = json_array_size(allow) > 0;
	size_t i;
	json_t *flt;
	json_array_foreach(allow, i, flt) {
		bool this_excludes = false;
		json_t *types = json_object_get(flt, "event_type");
		if (json_array_size(types)) {
			this_excludes = true;
			size_t k;
			json_t *t;
			json_array_foreach(types, k, t) {
				json_t *ty = json_object_get(t, "type");
				if (!json_is_integer(ty) || json_integer_value(ty) == 4)
					this_excludes = false;
			}
		}
		json_t *protos = json_object_get(flt, "protocol");
		if (!this_excludes && json_array_size(protos)) {
			this_excludes = true;
			size_t k;
			json_t *pr;
			json_array_foreach(protos, k, pr) {
				const char *v = json_string_value(pr);
				if (!v || (strcasecmp(v, "http") && strcasecmp(v, "dns") && strcasecmp(v, "kafka")))
					this_excludes = false;
			}
		}
		if (!this_excludes)
			excluded = false;
	}
	json_decref(root);
	return excluded;
}

static bool dlt_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_NFLOG:
	case DLT_PPP:
	case DLT_PPP_SERIAL:
	case DLT_C_HDLC:
		return true;
	default:
		return false;
	}
}

static uint16_t ethertype_of_ip_version(const uint8_t *p, uint32_t caplen)
{
	if (caplen < 1)
		return 0;
	switch (p[0] >> 4) {
	case 4: return 0x0800;
	case 6: return 0x86DD;
	default: return 0;
	}
}

/* BSD loopback: the address family, in the capturing host's byte order
 * (NULL) or network order (LOOP). AF_INET6 differs between systems. */
static uint16_t ethertype_of_af(uint32_t af)
{
	switch (af) {
	case 2: return 0x0800;
	case 10: case 24: case 28: case 30: return 0x86DD;
	default: return 0;
	}
}

/* Linux NFLOG: a 4-byte header (family, version, resource id), then TLVs
 * whose length and type are in the capturing host's byte order; type 9
 * (NFULA_PAYLOAD) holds the IP packet. */
static int parse_nflog(const uint8_t *d, uint32_t caplen, struct pkt_info *pi, uint32_t *hdrlen)
{
	memset(pi, 0, sizeof(*pi));
	if (caplen < 4)
		return PKT_ERR_ETH_TRUNC;
	uint16_t et = d[0] == 2 ? 0x0800 : d[0] == 10 ? 0x86DD : 0;
	uint32_t off = 4;
	bool be = false;
	/* the byte order: the first TLV's length must fit */
	if (caplen >= 8) {
		uint16_t le_len = (uint16_t)(d[4] | d[5] << 8);
		be = le_len < 4 || le_len > caplen - 4;
	}
	while (off + 4 <= caplen) {
		uint16_t len = be ? (uint16_t)(d[off] << 8 | d[off + 1]) : (uint16_t)(d[off] | d[off + 1] << 8);
		uint16_t type = be ? (uint16_t)(d[off + 2] << 8 | d[off + 3]) : (uint16_t)(d[off + 2] | d[off + 3] << 8);
		if (len < 4)
			break;
		if (type == 9) {
			uint32_t end = off + len < caplen ? off + len : caplen;
			*hdrlen = off + 4;
			if (!et)
				return PKT_NOT_IP;
			return pkt_parse_l3(d, d + end, off + 4, et, pi);
		}
		off += (len + 3u) & ~3u;
	}
	return et ? PKT_ERR_ETH_TRUNC : PKT_NOT_IP;
}

/* Parse one frame per the file's link type. *hdrlen: bytes of link-layer
 * pseudo-header not counted as part of the frame (SLL, loopback). */
static int parse_frame(int dlt, const uint8_t *d, uint32_t caplen, struct pkt_info *pi,
                       uint32_t *hdrlen)
{
	const uint8_t *end = d + caplen;
	uint16_t et = 0;
	uint32_t off = 0;
	*hdrlen = 0;
	switch (dlt) {
	case DLT_EN10MB:
		return pkt_parse_eth(d, end, pi);
	case DLT_LINUX_SLL:
		off = 16;
		if (caplen < off) {
			memset(pi, 0, sizeof(*pi));
			return PKT_ERR_ETH_TRUNC;
		}
		et = (uint16_t)(d[14] << 8 | d[15]);
		break;
	case DLT_LINUX_SLL2:
		off = 20;
		if (caplen < off) {
			memset(pi, 0, sizeof(*pi));
			return PKT_ERR_ETH_TRUNC;
		}
		et = (uint16_t)(d[0] << 8 | d[1]);
		break;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		et = ethertype_of_ip_version(d, caplen);
		break;
	case DLT_NULL:
	case DLT_LOOP: {
		off = 4;
		if (caplen < off) {
			memset(pi, 0, sizeof(*pi));
			return PKT_ERR_ETH_TRUNC;
		}
		uint32_t be = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
		uint32_t le = (uint32_t)d[3] << 24 | (uint32_t)d[2] << 16 | (uint32_t)d[1] << 8 | d[0];
		et = ethertype_of_af(dlt == DLT_LOOP ? be : (le <= 0xffff ? le : be));
		break;
	}
	case DLT_PPP:
	case DLT_PPP_SERIAL:
		/* optional address/control 0xff 0x03, then a 1- or 2-byte protocol */
		if (caplen >= 2 && d[0] == 0xff && d[1] == 0x03)
			off = 2;
		if (caplen > off && (d[off] & 1)) {
			et = d[off] == 0x21 ? 0x0800 : d[off] == 0x57 ? 0x86DD : 0;
			off += 1;
		} else if (caplen >= off + 2) {
			uint16_t proto = (uint16_t)(d[off] << 8 | d[off + 1]);
			et = proto == 0x0021 ? 0x0800 : proto == 0x0057 ? 0x86DD : 0;
			off += 2;
		}
		break;
	case DLT_C_HDLC:
		off = 4;
		if (caplen >= off)
			et = (uint16_t)(d[2] << 8 | d[3]);
		break;
	case DLT_NFLOG:
		return parse_nflog(d, caplen, pi, hdrlen);
	default:
		memset(pi, 0, sizeof(*pi));
		return PKT_NOT_IP;
	}
	*hdrlen = off;
	if (et != 0x0800 && et != 0x86DD) {
		memset(pi, 0, sizeof(*pi));
		return PKT_NOT_IP;
	}
	return pkt_parse_l3(d, end, off, et, pi);
}

static void print_stats(struct replay *r)
{
	struct pipeline_counter cs[512];
	size_t n = pipeline_counters(r->pl, cs, sizeof(cs) / sizeof(cs[0]));
	if (n > sizeof(cs) / sizeof(cs[0]))
		n = sizeof(cs) / sizeof(cs[0]);
	fprintf(stderr, "%-40s %20" PRIu64 "\n", "replay.frames", r->frames);
	fprintf(stderr, "%-40s %20" PRIu64 "\n", "replay.frames_filtered_out", r->frames_filtered);
	fprintf(stderr, "%-40s %20" PRIu64 "\n", "replay.events_shown", r->events_shown);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%-40s %20" PRIu64 "\n", cs[i].name, cs[i].value);
}

struct replay_args {
	struct pipeline_config cfg;
	struct fe_printer_options po;
	bool stats, print_raw_filters, printer_needed;
	const char *file;
	char *filter;
	size_t filter_len;
	const char **redact;
	size_t n_redact;
	const char **mask_paths;
	size_t n_mask_paths;
	const char *identities_file, *policy_file;
};

static int append_ptr(const char ***arr, size_t *n, const char *v)
{
	const char **na = realloc(*arr, (*n + 1) * sizeof(*na));
	if (!na)
		return -1;
	na[(*n)++] = v;
	*arr = na;
	return 0;
}

static int append_filter_word(struct replay_args *a, const char *w)
{
	size_t l = strlen(w);
	char *nf = realloc(a->filter, a->filter_len + l + 2);
	if (!nf)
		return -1;
	a->filter = nf;
	if (a->filter_len)
		a->filter[a->filter_len++] = ' ';
	memcpy(a->filter + a->filter_len, w, l + 1);
	a->filter_len += l;
	return 0;
}

/* Parse argv into a; filter flags go to f. Returns 0, 1 (--help printed),
 * or an exit status (usage error: message printed). */
static int parse_args(int argc, char **argv, struct replay_args *a, struct fe_filters *f)
{
	bool only_args = false;
	char err[512];
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *v;
		bool m;
		uint64_t x;
		if (!only_args && strcmp(arg, "--") == 0) {
			only_args = true;
			continue;
		}
		if (only_args || arg[0] != '-' || strcmp(arg, "-") == 0) {
			if (!a->file)
				a->file = arg;
			else if (append_filter_word(a, arg))
				return usage_error("%s", "out of memory");
			continue;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			printf(replay_help, fe_time_format_help, fe_filters_help);
			return 1;
		}
		if (strcmp(arg, "--stats") == 0) {
			a->stats = true;
			continue;
		}
		if (strcmp(arg, "--print-raw-filters") == 0) {
			a->print_raw_filters = true;
			continue;
		}
		int pr = cli_printer_option("replay", argc, argv, &i, &a->po);
		if (pr < 0)
			return -pr;
		if (pr)
			continue;
#define VALUE_OPT(name) (v = cli_opt_value(argc, argv, &i, name, &m), m)
		if (VALUE_OPT("--field-mask")) {
			if (!v || append_ptr(&a->mask_paths, &a->n_mask_paths, v))
				return usage_error("%s needs a value", "--field-mask");
		} else if (VALUE_OPT("--node-name")) {
			if (!v)
				return usage_error("%s needs a value", "--node-name");
			a->cfg.node_name = v;
		} else if (VALUE_OPT("--idle-timeout")) {
			if (!v || cli_parse_duration_ns(v, &a->cfg.idle_timeout_ns))
				return usage_error("bad --idle-timeout \"%s\"", v ? v : "");
		} else if (VALUE_OPT("--active-timeout")) {
			if (!v || cli_parse_duration_ns(v, &a->cfg.active_timeout_ns))
				return usage_error("bad --active-timeout \"%s\"", v ? v : "");
		} else if (VALUE_OPT("--max-flows")) {
			if (!v || cli_parse_u64(v, &x) || x == 0 || x > (1u << 26))
				return usage_error("bad --max-flows \"%s\" (1 .. 67108864)", v ? v : "");
			a->cfg.max_flows = (size_t)x;
		} else if (VALUE_OPT("--max-conn-buffer")) {
			if (!v || cli_parse_size(v, &x) || x > SIZE_MAX / 2)
				return usage_error("bad --max-conn-buffer \"%s\"", v ? v : "");
			a->cfg.max_conn_buffer = (size_t)x;
		} else if (VALUE_OPT("--max-total-buffer")) {
			if (!v || cli_parse_size(v, &x) || x > SIZE_MAX / 2)
				return usage_error("bad --max-total-buffer \"%s\"", v ? v : "");
			a->cfg.max_total_buffer = (size_t)x;
		} else if (VALUE_OPT("--dns-cache-size")) {
			if (!v || cli_parse_u64(v, &x) || x > (1u << 26))
				return usage_error("bad --dns-cache-size \"%s\"", v ? v : "");
			a->cfg.dns_cache_size = (size_t)x;
		} else if (VALUE_OPT("--dns-min-ttl")) {
			if (!v || cli_parse_u64(v, &x) || x > UINT32_MAX)
				return usage_error("bad --dns-min-ttl \"%s\"", v ? v : "");
			a->cfg.dns_min_ttl_s = (uint32_t)x;
		} else if (VALUE_OPT("--max-header-bytes")) {
			if (!v || cli_parse_size(v, &x) || x == 0 || x > (1u << 30))
				return usage_error("bad --max-header-bytes \"%s\"", v ? v : "");
			a->cfg.max_header_bytes = (size_t)x;
		} else if (VALUE_OPT("--uuid-seed")) {
			if (!v || cli_parse_u64(v, &a->cfg.uuid_seed))
				return usage_error("bad --uuid-seed \"%s\"", v ? v : "");
		} else if (VALUE_OPT("--identities")) {
			if (!v || !*v)
				return usage_error("%s needs a file", "--identities");
			a->identities_file = v;
		} else if (VALUE_OPT("--policy")) {
			if (!v || !*v)
				return usage_error("%s needs a file", "--policy");
			a->policy_file = v;
		} else if (VALUE_OPT("--redact-header")) {
			if (!v || !*v || append_ptr(&a->redact, &a->n_redact, v))
				return usage_error("%s needs a header name", "--redact-header");
		} else {
			int k = i;
			int r = fe_filters_parse_arg(f, argc, argv, &k, err, sizeof(err));
			if (r < 0)
				return usage_error("%s", err);
			if (r == 0)
				return usage_error("unknown option \"%s\"", arg);
			i = k - 1;
		}
#undef VALUE_OPT
	}
	if (fe_filters_finish(f, err, sizeof(err)))
		return usage_error("%s", err);
	return 0;
}

/* Read the capture into the pipeline. Returns the exit status. */
static int run(struct replay *r, const struct replay_args *a)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	const char *file = a->file;
	r->pc = pcap_open_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!r->pc) {
		fprintf(stderr, "flowctl replay: %s: %s\n", file, errbuf);
		return 1;
	}
	r->dlt = pcap_datalink(r->pc);
	if (!dlt_supported(r->dlt)) {
		const char *nm = pcap_datalink_val_to_name(r->dlt);
		fprintf(stderr, "flowctl replay: %s: link type %s (%d) is not supported "
		        "(supported: EN10MB, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP, NFLOG, PPP, PPP_SERIAL, C_HDLC)\n",
		        file, nm ? nm : "?", r->dlt);
		return 1;
	}
	if (a->filter) {
		if (pcap_compile(r->pc, &r->bpf, a->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			fprintf(stderr, "flowctl replay: bad filter expression \"%s\": %s\n", a->filter,
			        pcap_geterr(r->pc));
			return EXIT_USAGE;
		}
		r->have_bpf = true;
	}
	r->pl = pipeline_new(&a->cfg, sink, r);
	if (!r->pl) {
		fprintf(stderr, "flowctl replay: out of memory\n");
		return 1;
	}

	int rc = 0;
	struct pcap_pkthdr *h;
	const u_char *data;
	int st;
	while ((st = pcap_next_ex(r->pc, &h, &data)) == 1) {
		r->frames++;
		if (r->have_bpf && !pcap_offline_filter(&r->bpf, h, data)) {
			r->frames_filtered++;
			continue;
		}
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
		r->last_ts = ts > r->last_ts ? ts : r->last_ts;
		struct pkt_info pi;
		uint32_t hdrlen;
		int ps = parse_frame(r->dlt, data, h->caplen, &pi, &hdrlen);
		if (ps == PKT_OK || ps == PKT_L4_UNKNOWN) {
			uint32_t wire = h->len > hdrlen ? h->len - hdrlen : 0;
			pipeline_packet(r->pl, ts, &pi, data, h->caplen, wire, 0, NULL, FLOW_DIR_INGRESS);
		} else {
			pipeline_tick(r->pl, ts);
			pipeline_parse_error(r->pl, ps);
		}
	}
	/* what was read is emitted in any case; then say why we stopped */
	pipeline_flush(r->pl, r->last_ts);
	if (st == PCAP_ERROR) {
		fprintf(stderr, "flowctl replay: %s: %s (after %" PRIu64 " frames)\n", file,
		        pcap_geterr(r->pc), r->frames);
		rc = 1;
	}
	return rc;
}

/* Each line of a loader's message ("FILE:LINE:COL: ...") as one error line. */
static void print_file_errors(const char *msg)
{
	const char *line = msg;
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		if (n)
			fprintf(stderr, "flowctl replay: %.*s\n", (int)n, line);
		line += n + (nl ? 1 : 0);
	}
}

/* --identities / --policy. A policy without identities still knows host
 * and world. The capture may come from another machine: no detection of
 * this one's addresses. Returns 0 or the exit status (messages printed). */
static int load_enrichment(const struct replay_args *a, struct identity_db **ids, struct policy **pol)
{
	static char err[16384];
	const struct identity_opts io = { .detect_host = false };
	if (a->identities_file)
		*ids = identity_db_load_file(a->identities_file, &io, err, sizeof(err));
	else if (a->policy_file)
		*ids = identity_db_default(&io, err, sizeof(err));
	if ((a->identities_file || a->policy_file) && !*ids) {
		print_file_errors(err);
		return EXIT_USAGE;
	}
	if (a->policy_file && !(*pol = policy_load_file(a->policy_file, err, sizeof(err)))) {
		print_file_errors(err);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_replay(int argc, char **argv)
{
	struct replay_args a;
	memset(&a, 0, sizeof(a));
	pipeline_config_defaults(&a.cfg);
	a.po.format = FE_OUTPUT_JSON;
	struct replay r = { 0 };
	struct fe_field_mask *mask = NULL;
	struct identity_db *ids = NULL;
	struct policy *pol = NULL;
	int rc;

	struct fe_filters *f = fe_filters_new();
	if (!f) {
		fprintf(stderr, "flowctl replay: out of memory\n");
		return 1;
	}
	rc = parse_args(argc, argv, &a, f);
	if (rc == 1) {
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	if (a.print_raw_filters) {
		struct fe_buf y = { 0 };
		rc = fe_filters_to_yaml(f, &y) ? 1 : 0;
		if (!rc)
			fwrite(y.data, 1, y.len, stdout);
		fe_buf_free(&y);
		goto out;
	}
	if (!a.file) {
		fprintf(stderr, "flowctl replay: no capture file given (see flowctl replay --help)\n");
		rc = EXIT_USAGE;
		goto out;
	}
	if (a.n_mask_paths) {
		char err[512];
		if (a.po.format != FE_OUTPUT_JSON) {
			rc = usage_error("%s", "--field-mask works with json output only");
			goto out;
		}
		if (fe_field_mask_new(a.mask_paths, a.n_mask_paths, &mask, err, sizeof(err))) {
			rc = usage_error("%s", err);
			goto out;
		}
		a.po.field_mask = mask;
	}
	a.cfg.redact_headers = a.redact;
	a.cfg.n_redact_headers = a.n_redact;
	if ((rc = load_enrichment(&a, &ids, &pol)))
		goto out;
	a.cfg.identities = ids;
	a.cfg.policy = pol;
	if (fe_filters_count(f, false) || fe_filters_count(f, true)) {
		r.filters = f;
		a.cfg.want = want;
		/* with a policy, L3/L4 flows also make policy-verdict events */
		a.cfg.l34_unwanted = !pol && filters_exclude_l34(f);
	}
	/* What the field mask leaves out, no filter tests and no policy reads
	 * is not built at all (a gRPC Summary reads the headers). */
	if (mask && !ids && !pol) {
		a.cfg.no_summary = !fe_field_mask_wants(mask, "Summary");
		a.cfg.no_names = !fe_field_mask_wants(mask, "source_names") &&
		                 !fe_field_mask_wants(mask, "destination_names") &&
		                 !filters_use(f, "source_fqdn") && !filters_use(f, "destination_fqdn");
		a.cfg.no_http_headers = a.cfg.no_summary && !fe_field_mask_wants(mask, "l7.http.headers") &&
		                        !filters_use(f, "http_header");
		a.cfg.no_uuid = !fe_field_mask_wants(mask, "uuid") && !filters_use(f, "uuid");
		/* names are the DNS cache's only reader (and --stats its counters) */
		if (a.cfg.no_names && !a.stats)
			a.cfg.dns_cache_size = 0;
	}
	/* json (field mask or not) is encoded here in large blocks; the text
	 * formats go through the shared printer */
	r.mask = mask;
	if (a.po.format != FE_OUTPUT_JSON) {
		r.printer = fe_printer_new(&a.po, stdout);
		if (!r.printer) {
			fprintf(stderr, "flowctl replay: out of memory\n");
			rc = 1;
			goto out;
		}
	}

	rc = run(&r, &a);
	out_flush(&r);
	if (r.printer && fe_printer_flush(r.printer) < 0)
		r.write_failed = true;
	if (fflush(stdout) != 0 || r.write_failed) {
		fprintf(stderr, "flowctl replay: writing the output failed: %s\n", strerror(errno));
		if (!rc)
			rc = 1;
	}
	if (a.stats && r.pl)
		print_stats(&r);
out:
	pipeline_free(r.pl);
	fe_printer_free(r.printer);
	fe_buf_free(&r.out);
	if (r.have_bpf)
		pcap_freecode(&r.bpf);
	if (r.pc)
		pcap_close(r.pc);
	fe_field_mask_free(mask);
	policy_unref(pol);
	identity_db_unref(ids);
	fe_filters_free(f);
	free(a.filter);
	free(a.redact);
	free(a.mask_paths);
	return rc;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* flowd command line. */
#include "flowd.h"

#include "filter.h"
#include "flow_json.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
"Usage: flowd -i IFACE [-i IFACE ...] [OPTIONS]\n"
"\n"
"Observe network flows on the given interfaces with XDP and TC eBPF programs\n"
"and write one JSON line per flow event, in the schema of Cilium Hubble\n"
"(`hubble observe -o json`), with flowd's counters in flow.flow_stats.\n"
"\n"
"A flow is directional: A->B and B->A, and packets seen at the ingress and at\n"
"the egress hook, are separate flows. Each flow gets a \"start\" event when\n"
"flowd first sees it, an \"update\" event every --active-timeout while it is\n"
"active, and an \"end\" event after --idle-timeout of silence or when flowd\n"
"stops. Packet and byte counts are cumulative over the flow's life; bytes\n"
"are frame lengths at the hook, link-layer header included.\n"
"\n"
"Options:\n"
"  -i, --interface IFACE      Observe IFACE (repeat for several, up to 64).\n"
"  -e, --export-file PATH     Append events to PATH; \"stdout\" or \"-\" for\n"
"                             standard output (default). Written by a\n"
"                             separate thread: a slow disk or pipe costs\n"
"                             events (counted, and announced in the file by\n"
"                             a lost_events line), never packet processing.\n"
"      --export-file-max-size SIZE\n"
"                             Rotate the file before it exceeds SIZE (bytes,\n"
"                             or with k, M, G; default 10M; 0 = never): it\n"
"                             is renamed NAME-<UTC time>.EXT, e.g.\n"
"                             events-2025-02-14T10-00-00.000.json.\n"
"      --export-file-max-backups N\n"
"                             Rotated files kept (default 5; 0 = all).\n"
"      --export-file-compress gzip rotated files (NAME-<time>.EXT.gz).\n"
"      --export-allowlist JSON, --export-denylist JSON\n"
"                             Export only events matching one of these Hubble\n"
"                             FlowFilters and none of those (one or several\n"
"                             JSON objects, as `flowctl observe\n"
"                             --print-raw-filters` prints them).\n"
"      --export-fieldmask PATHS\n"
"                             Keep only these fields of exported flows\n"
"                             (comma-separated: time,verdict,IP,l4,...).\n"
"  -m, --xdp-mode MODE        How to observe ingress:\n"
"                               auto    XDP in native (driver) mode, falling\n"
"                                       back to skb (generic) mode (default)\n"
"                               native  XDP in native mode only\n"
"                               skb     XDP in generic mode\n"
"                               off     no XDP; a TC ingress program instead\n"
"                             XDP is attached through libxdp's dispatcher, so\n"
"                             other libxdp programs keep running.\n"
"      --no-tc                Do not attach TC programs: ingress only (XDP),\n"
"                             egress traffic is not observed.\n"
"      --idle-timeout DUR     End a flow after DUR without packets\n"
"                             (default 15s).\n"
"      --active-timeout DUR   Emit an update event for an active flow every\n"
"                             DUR (default 60s).\n"
"      --poll-interval DUR    Read the kernel flow table every DUR\n"
"                             (default 1s). Timeouts are checked at this\n"
"                             granularity.\n"
"      --stats-interval DUR   Log counters to stderr every DUR; 0 = only at\n"
"                             exit (default 60s).\n"
"      --map-size N           Flows the kernel table holds (default: 65536).\n"
"                             When it is full, new flows are not tracked and\n"
"                             the map_full counter says how many packets\n"
"                             were missed.\n"
"      --node-name NAME       node_name of the events (default: host name).\n"
"      --run-dir DIR          Lock files, one per observed interface, and\n"
"                             the socket (default /run/flowd).\n"
"      --ring-capacity N      Events kept in memory for `flowctl observe`\n"
"                             (2^n-1: 1023, 4095 (default), 16383, 65535...).\n"
"      --socket PATH          The socket `flowctl observe` and `flowctl\n"
"                             status` use (default RUN_DIR/flowd.sock; \"none\"\n"
"                             for no socket). Mode 0660. When the default one\n"
"                             is used by another flowd, flowd runs without.\n"
"      --socket-group GROUP   Group owning the socket, so its members can use\n"
"                             flowctl without root.\n"
"      --bpf-stats            Have the kernel count the run time of BPF\n"
"                             programs while flowd runs (kernel.bpf_stats_\n"
"                             enabled; shown by `flowctl status`).\n"
"\n"
"Live L7 (HTTP/1.x, HTTP/2 and gRPC, DNS, Kafka events; needs the TC\n"
"programs). The TC programs hand the packets of selected flows to flowd,\n"
"which parses them exactly as `flowctl replay` parses a capture.\n"
"      --no-l7                No payload capture: L3/L4 flow events only.\n"
"      --l7-ports LIST        Select flows with a port in LIST: ports, ranges\n"
"                             LO-HI, \"default\" (80,81,3128,8000,8008,8080,\n"
"                             8888,50051,53,5353,5355,9092-9094,29092) or\n"
"                             \"any\" (default: default).\n"
"      --l7-cidr LIST         ... and with an address in one of these CIDRs\n"
"                             (comma-separated, repeatable; default: any).\n"
"      --l7-proto LIST        tcp, udp or tcp,udp (default tcp,udp).\n"
"      --l7-budget SIZE       Payload bytes a directional flow may hand over\n"
"                             per second, also its burst (default 1M; 0: no\n"
"                             limit). Beyond it packets go up with their\n"
"                             headers only: the parsers see a gap of known\n"
"                             size (counter l7_budget_cut_bytes).\n"
"      --l7-detect N          Also capture the first N payload packets of\n"
"                             every other TCP/UDP flow (1-255; default 0:\n"
"                             off). When flowd recognises a protocol in them,\n"
"                             that flow, and new flows to the same server\n"
"                             address and port, are captured in full.\n"
"      --snaplen N            Frame bytes per packet, headers included\n"
"                             (default 4096, 128 to 16384).\n"
"      --ring-size SIZE       Kernel ring buffer for the packets (default 8M,\n"
"                             rounded up to a power of two). When it is full,\n"
"                             packets are lost, counted and reported as\n"
"                             lost_events (PERF_EVENT_RING_BUFFER).\n"
"\n"
"Identities, policy and NAT:\n"
"      --identities FILE      Name addresses and CIDRs with identities\n"
"                             (namespace, pod, workloads, labels; YAML, see\n"
"                             the README \"Identities\"): flows get source\n"
"                             and destination endpoints. Addresses no entry\n"
"                             names are this host (identity 1, found on its\n"
"                             interfaces) or the world (2).\n"
"      --policy FILE          Apply this network policy (YAML, README\n"
"                             \"Policy\"): in the datapath for L3/L4 (mode\n"
"                             enforce drops what it denies, audit reports\n"
"                             it), verdicts and policy-verdict events on the\n"
"                             flows. Checked strictly: flowd does not start\n"
"                             with an invalid file.\n"
"      --no-conntrack         Do not read the kernel's connection tracking\n"
"                             (NAT translations on the flows).\n"
"  -v, --verbose              More log output (repeat for libbpf/libxdp\n"
"                             debug output).\n"
"  -h, --help                 Show this help and exit.\n"
"  -V, --version              Show the version and exit.\n"
"\n"
"DUR is a number with an optional unit: ms, s (default), m, h.\n"
"\n"
"Signals: SIGINT and SIGTERM end every live flow (one \"end\" event each),\n"
"detach all programs and exit 0. SIGHUP reloads the identities and policy\n"
"files: both are read and compiled first, and an invalid file changes\n"
"nothing (the running ones stay, the problems are logged). After a SIGKILL,\n"
"the next flowd start on the same interface removes what the killed one left\n"
"attached.\n"
"\n"
"Exit status: 0 on a clean stop, 1 on a runtime error (missing interface,\n"
"missing privileges, an interface held by another XDP program that cannot\n"
"be shared, output error), 2 on a usage error.\n"
"\n"
"Example:\n"
"  flowd -i eth0 --idle-timeout 10s | flowctl observe --input-file -\n"
"  flowd -i eth0 -e /var/log/flowd/events.json --export-file-compress &\n"
"  flowctl observe -f --protocol tcp --port 443\n";

int flowd_errf(struct flowd_err *e, int code, const char *fmt, ...)
{
	if (e && !e->code) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
		e->code = code ? code : -EINVAL;
	}
	return code;
}

int flowd_parse_duration(const char *s, uint64_t *ns)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || v < 0)
		return -1;
	double mult;
	if (!*end || !strcmp(end, "s"))
		mult = 1e9;
	else if (!strcmp(end, "ms"))
		mult = 1e6;
	else if (!strcmp(end, "m"))
		mult = 60e9;
	else if (!strcmp(end, "h"))
		mult = 3600e9;
	else
		return -1;
	if (v * mult > 1e18)
		return -1;
	*ns = (uint64_t)(v * mult + 0.5);
	return 0;
}

enum {
	OPT_NO_TC = 256, OPT_IDLE, OPT_ACTIVE, OPT_POLL, OPT_STATS, OPT_MAP_SIZE,
	OPT_NODE, OPT_RUN_DIR, OPT_L7, OPT_EXP_MAX_SIZE, OPT_EXP_BACKUPS, OPT_EXP_COMPRESS,
	OPT_EXP_ALLOW, OPT_EXP_DENY, OPT_EXP_MASK, OPT_RING, OPT_SOCKET, OPT_SOCKET_GROUP, OPT_BPF_STATS,
	OPT_IDENTITIES, OPT_POLICY, OPT_NO_CONNTRACK,
};

static const struct option long_opts[] = {
	{ "interface", required_argument, NULL, 'i' },
	{ "export-file", required_argument, NULL, 'e' },
	{ "xdp-mode", required_argument, NULL, 'm' },
	{ "no-tc", no_argument, NULL, OPT_NO_TC },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "active-timeout", required_argument, NULL, OPT_ACTIVE },
	{ "poll-interval", required_argument, NULL, OPT_POLL },
	{ "stats-interval", required_argument, NULL, OPT_STATS },
	{ "map-size", required_argument, NULL, OPT_MAP_SIZE },
	{ "node-name", required_argument, NULL, OPT_NODE },
	{ "run-dir", required_argument, NULL, OPT_RUN_DIR },
	{ "l7", no_argument, NULL, OPT_L7 },
	{ "no-l7", no_argument, NULL, OPT_L7 },
	{ "l7-ports", required_argument, NULL, OPT_L7 },
	{ "l7-cidr", required_argument, NULL, OPT_L7 },
	{ "l7-proto", required_argument, NULL, OPT_L7 },
	{ "l7-budget", required_argument, NULL, OPT_L7 },
	{ "l7-detect", required_argument, NULL, OPT_L7 },
	{ "snaplen", required_argument, NULL, OPT_L7 },
	{ "ring-size", required_argument, NULL, OPT_L7 },
	{ "export-file-max-size", required_argument, NULL, OPT_EXP_MAX_SIZE },
	{ "export-file-max-backups", required_argument, NULL, OPT_EXP_BACKUPS },
	{ "export-file-compress", no_argument, NULL, OPT_EXP_COMPRESS },
	{ "export-allowlist", required_argument, NULL, OPT_EXP_ALLOW },
	{ "export-denylist", required_argument, NULL, OPT_EXP_DENY },
	{ "export-fieldmask", required_argument, NULL, OPT_EXP_MASK },
	{ "ring-capacity", required_argument, NULL, OPT_RING },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "socket-group", required_argument, NULL, OPT_SOCKET_GROUP },
	{ "bpf-stats", no_argument, NULL, OPT_BPF_STATS },
	{ "identities", required_argument, NULL, OPT_IDENTITIES },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "no-conntrack", no_argument, NULL, OPT_NO_CONNTRACK },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

static int duration_opt(const char *name, const char *arg, uint64_t min_ns, uint64_t *out,
                        struct flowd_err *e)
{
	if (flowd_parse_duration(arg, out))
		return flowd_errf(e, -1, "--%s: '%s' is not a duration (e.g. 500ms, 15s, 2m)", name, arg);
	if (*out < min_ns)
		return flowd_errf(e, -1, "--%s: '%s' is too short (minimum %llu ms)", name, arg,
		                  (unsigned long long)(min_ns / 1000000));
	return 0;
}

/* "65536", "64k", "10M", "1G" (binary units, optional "iB"). */
static int size_opt(const char *name, const char *arg, uint64_t *out, struct flowd_err *e)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	uint64_t mult = 1;
	if (end == arg || errno || arg[0] == '-')
		goto bad;
	if (*end == 'k' || *end == 'K')
		mult = 1ull << 10;
	else if (*end == 'M')
		mult = 1ull << 20;
	else if (*end == 'G')
		mult = 1ull << 30;
	if (mult > 1 && *++end && strcmp(end, "iB") && strcmp(end, "B"))
		goto bad;
	if ((mult == 1 && *end && strcmp(end, "B")) || v > UINT64_MAX / mult)
		goto bad;
	*out = v * mult;
	return 0;
bad:
	return flowd_errf(e, -1, "--%s: '%s' is not a size (e.g. 65536, 512k, 10M)", name, arg);
}

/* The exporter's filters and mask are checked here, so that a bad one is
 * a usage error like any other bad value. */
static int check_filter(const char *name, bool deny, const char *json, struct flowd_err *e)
{
	char err[400];
	struct fe_filters *f = fe_filters_new();
	int rc = !f || fe_filters_add_json(f, deny, json, err, sizeof(err)) || fe_filters_finish(f, err, sizeof(err));
	fe_filters_free(f);
	if (rc)
		return flowd_errf(e, -1, "--%s: %s", name, f ? err : "out of memory");
	return 0;
}

static int check_mask(const char *paths, struct flowd_err *e)
{
	char err[400];
	struct fe_field_mask *m = NULL;
	if (fe_field_mask_new(&paths, 1, &m, err, sizeof(err)))
		return flowd_errf(e, -1, "--export-fieldmask: %s", err);
	fe_field_mask_free(m);
	return 0;
}

static int once(const char *name, const char **slot, const char *arg, struct flowd_err *e)
{
	if (*slot)
		return flowd_errf(e, -1, "--%s given twice (several filters go in one value)", name);
	if (!*arg)
		return flowd_errf(e, -1, "--%s: empty value", name);
	*slot = arg;
	return 0;
}

int flowd_config_parse(struct flowd_config *cfg, int argc, char **argv, struct flowd_err *e)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->export_file = "stdout";
	cfg->tc = true;
	cfg->idle_timeout_ns = 15000000000ULL;
	cfg->active_timeout_ns = 60000000000ULL;
	cfg->poll_interval_ns = 1000000000ULL;
	cfg->stats_interval_ns = 60000000000ULL;
	cfg->map_size = 65536;
	cfg->run_dir = "/run/flowd";
	cfg->l7.on = true;
	payload_select_defaults(&cfg->l7.select);
	cfg->l7.ring_size = PAYLOAD_RING_DEFAULT;
	cfg->ring_capacity = 4095;
	cfg->export_max_size = 10ull << 20; /* Hubble's exporter defaults */
	cfg->export_max_backups = 5;

	optind = 1;
	opterr = 0;
	int c, li = -1;
	while ((c = getopt_long(argc, argv, ":i:e:m:vhV", long_opts, &li)) != -1) {
		switch (c) {
		case OPT_L7:
			if (payload_parse_option(&cfg->l7, long_opts[li].name, optarg, e->msg,
			                         sizeof(e->msg)) < 0) {
				e->code = -EINVAL;
				return -1;
			}
			break;
		case 'i':
			if (!*optarg || strlen(optarg) >= IF_NAMESIZE)
				return flowd_errf(e, -1, "--interface: '%s' is not an interface name", optarg);
			for (size_t i = 0; i < cfg->n_ifaces; i++)
				if (!strcmp(cfg->ifnames[i], optarg))
					return flowd_errf(e, -1, "--interface: '%s' given twice", optarg);
			if (cfg->n_ifaces == FLOWD_MAX_IFACES)
				return flowd_errf(e, -1, "--interface: at most %d interfaces", FLOWD_MAX_IFACES);
			snprintf(cfg->ifnames[cfg->n_ifaces++], IF_NAMESIZE, "%s", optarg);
			break;
		case 'e':
			if (!*optarg)
				return flowd_errf(e, -1, "--export-file: empty path");
			cfg->export_file = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "auto"))
				cfg->xdp_mode = FLOWD_XDP_AUTO;
			else if (!strcmp(optarg, "native") || !strcmp(optarg, "drv"))
				cfg->xdp_mode = FLOWD_XDP_NATIVE;
			else if (!strcmp(optarg, "skb") || !strcmp(optarg, "generic"))
				cfg->xdp_mode = FLOWD_XDP_SKB;
			else if (!strcmp(optarg, "off") || !strcmp(optarg, "none"))
				cfg->xdp_mode = FLOWD_XDP_OFF;
			else
				return flowd_errf(e, -1, "--xdp-mode: '%s' is not one of auto, native, skb, off", optarg);
			break;
		case OPT_NO_TC:
			cfg->tc = false;
			break;
		case OPT_IDLE:
			if (duration_opt("idle-timeout", optarg, 1000000, &cfg->idle_timeout_ns, e))
				return -1;
			break;
		case OPT_ACTIVE:
			if (duration_opt("active-timeout", optarg, 1000000, &cfg->active_timeout_ns, e))
				return -1;
			break;
		case OPT_POLL:
			if (duration_opt("poll-interval", optarg, 10000000, &cfg->poll_interval_ns, e))
				return -1;
			break;
		case OPT_STATS:
			if (duration_opt("stats-interval", optarg, 0, &cfg->stats_interval_ns, e))
				return -1;
			if (cfg->stats_interval_ns && cfg->stats_interval_ns < 100000000)
				return flowd_errf(e, -1, "--stats-interval: minimum 100ms (or 0)");
			break;
		case OPT_MAP_SIZE: {
			char *end;
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (end == optarg || *end || errno || v < 16 || v > 1u << 26 || optarg[0] == '-')
				return flowd_errf(e, -1, "--map-size: '%s' is not a number from 16 to %u",
				                  optarg, 1u << 26);
			cfg->map_size = (uint32_t)v;
			break;
		}
		case OPT_NODE:
			cfg->node_name = optarg;
			break;
		case OPT_RUN_DIR:
			if (optarg[0] != '/')
				return flowd_errf(e, -1, "--run-dir: '%s' is not an absolute path", optarg);
			cfg->run_dir = optarg;
			break;
		case OPT_EXP_MAX_SIZE:
			if (size_opt("export-file-max-size", optarg, &cfg->export_max_size, e))
				return -1;
			break;
		case OPT_EXP_BACKUPS: {
			char *end;
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (end == optarg || *end || errno || optarg[0] == '-' || v > 100000)
				return flowd_errf(e, -1, "--export-file-max-backups: '%s' is not a number from 0 to 100000",
				                  optarg);
			cfg->export_max_backups = (unsigned)v;
			break;
		}
		case OPT_EXP_COMPRESS:
			cfg->export_compress = true;
			break;
		case OPT_EXP_ALLOW:
			if (once("export-allowlist", &cfg->export_allowlist, optarg, e) ||
			    check_filter("export-allowlist", false, optarg, e))
				return -1;
			break;
		case OPT_EXP_DENY:
			if (once("export-denylist", &cfg->export_denylist, optarg, e) ||
			    check_filter("export-denylist", true, optarg, e))
				return -1;
			break;
		case OPT_EXP_MASK:
			if (once("export-fieldmask", &cfg->export_fieldmask, optarg, e) || check_mask(optarg, e))
				return -1;
			break;
		case OPT_RING: {
			char *end;
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (end == optarg || *end || errno || optarg[0] == '-' || v == 0 || v > (1ul << 24) - 1 ||
			    ((v + 1) & v))
				return flowd_errf(e, -1, "--ring-capacity: '%s' is not 2^n-1 (1023, 4095, 16383, 65535, ...)",
				                  optarg);
			cfg->ring_capacity = (uint32_t)v;
			break;
		}
		case OPT_SOCKET:
			if (!*optarg || (optarg[0] != '/' && strcmp(optarg, "none")))
				return flowd_errf(e, -1, "--socket: '%s' is not an absolute path (or none)", optarg);
			cfg->socket_path = optarg;
			break;
		case OPT_SOCKET_GROUP:
			if (!*optarg)
				return flowd_errf(e, -1, "--socket-group: empty value");
			cfg->socket_group = optarg;
			break;
		case OPT_BPF_STATS:
			cfg->bpf_stats = true;
			break;
		case OPT_IDENTITIES:
			if (!*optarg)
				return flowd_errf(e, -1, "--identities: empty path");
			cfg->identities_file = optarg;
			break;
		case OPT_POLICY:
			if (!*optarg)
				return flowd_errf(e, -1, "--policy: empty path");
			cfg->policy_file = optarg;
			break;
		case OPT_NO_CONNTRACK:
			cfg->no_conntrack = true;
			break;
		case 'v':
			cfg->verbose++;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case 'V':
			printf("flowd %s\n", FLOWD_VERSION);
			return 1;
		case ':':
			return flowd_errf(e, -1, "option '%s' needs a value", argv[optind - 1]);
		default:
			if (optopt)
				return flowd_errf(e, -1, "unknown option '-%c'", optopt);
			return flowd_errf(e, -1, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return flowd_errf(e, -1, "unexpected argument '%s'", argv[optind]);
	if (!cfg->n_ifaces)
		return flowd_errf(e, -1, "no interface given (-i IFACE)");
	if (cfg->xdp_mode == FLOWD_XDP_OFF && !cfg->tc)
		return flowd_errf(e, -1, "--xdp-mode off with --no-tc leaves nothing to observe");
	return 0;
}

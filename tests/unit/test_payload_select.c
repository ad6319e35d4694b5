/* Live L7 selection and options (lib/payload_bpf.c): ports, CIDRs,
 * transports, the option values flowd takes, and the record -> frame
 * checks of payload_record_feed() that need no kernel. */
#include "check.h"
#include "payload_bpf.h"

#include <string.h>

static char err[256];

static int ports(struct payload_select *s, const char *spec)
{
	err[0] = '\0';
	return payload_select_parse_ports(s, spec, err, sizeof(err));
}

static int opt(struct payload_options *o, const char *name, const char *arg)
{
	err[0] = '\0';
	return payload_parse_option(o, name, arg, err, sizeof(err));
}

int main(void)
{
	struct payload_select s;
	struct payload_options o;

	payload_select_defaults(&s);
	CHECK("defaults: on, tcp and udp", s.enabled && s.tcp && s.udp && !s.all_ports);
	CHECK("defaults: well-known ports", payload_select_has_port(&s, 80) && payload_select_has_port(&s, 53) &&
	      payload_select_has_port(&s, 9092) && payload_select_has_port(&s, 50051) &&
	      payload_select_has_port(&s, 8080));
	CHECK("defaults: not other ports", !payload_select_has_port(&s, 443) && !payload_select_has_port(&s, 22) &&
	      !payload_select_has_port(&s, 0));
	CHECK_U64("defaults: snap length", s.snaplen, PAYLOAD_SNAP_DEFAULT);
	CHECK_U64("defaults: budget", s.budget_bytes, PAYLOAD_BUDGET_DEFAULT);

	CHECK("ports: list and range", !ports(&s, "8081,9000-9002"));
	CHECK("ports: replaced", !payload_select_has_port(&s, 80) && payload_select_has_port(&s, 8081) &&
	      payload_select_has_port(&s, 9000) && payload_select_has_port(&s, 9002) &&
	      !payload_select_has_port(&s, 9003));
	CHECK("ports: default plus one", !ports(&s, "default,8081") && payload_select_has_port(&s, 80) &&
	      payload_select_has_port(&s, 8081));
	CHECK("ports: 0 and 65535", !ports(&s, "0,65535") && payload_select_has_port(&s, 0) &&
	      payload_select_has_port(&s, 65535));
	CHECK("ports: any", !ports(&s, "any") && s.all_ports && payload_select_has_port(&s, 12345));
	CHECK("ports: a list after any clears it", !ports(&s, "80") && !s.all_ports);
	CHECK("ports: 65536 refused", ports(&s, "65536") && strstr(err, "65536"));
	CHECK("ports: backwards range refused", ports(&s, "90-80") && strstr(err, "90-80"));
	CHECK("ports: junk refused", ports(&s, "http") && ports(&s, "80,") && ports(&s, "") &&
	      ports(&s, ",80") && ports(&s, "-80") && ports(&s, "80-"));
	CHECK("ports: a refused list changes nothing", payload_select_has_port(&s, 80) &&
	      !payload_select_has_port(&s, 81));

	payload_select_defaults(&s);
	CHECK("cidr: v4 and v6", !payload_select_parse_cidrs(&s, "198.18.0.0/15,2001:db8::/32", err, sizeof(err)));
	CHECK_U64("cidr: two", s.n_cidrs, 2);
	CHECK("cidr: v4 prefix", s.cidrs[0].family == 4 && s.cidrs[0].prefix == 15 &&
	      s.cidrs[0].addr[0] == 198 && s.cidrs[0].addr[1] == 18);
	CHECK("cidr: v6 prefix", s.cidrs[1].family == 6 && s.cidrs[1].prefix == 32 &&
	      s.cidrs[1].addr[0] == 0x20 && s.cidrs[1].addr[3] == 0xb8);
	CHECK("cidr: host bits cleared", !payload_select_parse_cidrs(&s, "198.19.255.255/15", err, sizeof(err)) &&
	      s.cidrs[2].addr[1] == 18 && s.cidrs[2].addr[2] == 0 && s.cidrs[2].addr[3] == 0);
	CHECK("cidr: bare address is a host", !payload_select_parse_cidrs(&s, "10.1.2.3", err, sizeof(err)) &&
	      s.cidrs[3].prefix == 32);
	CHECK("cidr: bad ones refused", payload_select_parse_cidrs(&s, "10.0.0.0/33", err, sizeof(err)) &&
	      payload_select_parse_cidrs(&s, "2001:db8::/129", err, sizeof(err)) &&
	      payload_select_parse_cidrs(&s, "10.0.0/8", err, sizeof(err)) &&
	      payload_select_parse_cidrs(&s, "10.0.0.0/", err, sizeof(err)) &&
	      payload_select_parse_cidrs(&s, "10.0.0.0/8,", err, sizeof(err)));

	CHECK("l4: udp", !payload_select_parse_l4(&s, "udp", err, sizeof(err)) && s.udp && !s.tcp);
	CHECK("l4: TCP,udp", !payload_select_parse_l4(&s, "TCP,udp", err, sizeof(err)) && s.udp && s.tcp);
	CHECK("l4: sctp refused", payload_select_parse_l4(&s, "sctp", err, sizeof(err)) && s.tcp);

	{
		uint8_t a[16] = { 198, 18, 0, 1 }, b[16] = { 198, 18, 0, 2 }, c[16] = { 10, 1, 2, 3 };

		payload_select_defaults(&s);
		CHECK("matches: tcp 80", payload_select_matches(&s, 4, a, 40000, b, 80, 6));
		CHECK("matches: either direction", payload_select_matches(&s, 4, b, 80, a, 40000, 6));
		CHECK("matches: not port 4444", !payload_select_matches(&s, 4, a, 40000, b, 4444, 6));
		CHECK("matches: not icmp", !payload_select_matches(&s, 4, a, 0, b, 80, 1));
		CHECK("matches: cidr", !payload_select_parse_cidrs(&s, "198.18.0.0/15", err, sizeof(err)) &&
		      payload_select_matches(&s, 4, c, 40000, b, 80, 6) &&
		      !payload_select_matches(&s, 4, c, 40000, c, 80, 6) &&
		      !payload_select_matches(&s, 6, a, 40000, b, 80, 6));
		s.udp = false;
		CHECK("matches: transport", !payload_select_matches(&s, 4, a, 40000, b, 53, 17));
	}

	memset(&o, 0, sizeof(o));
	o.on = true;
	payload_select_defaults(&o.select);
	CHECK("option: not ours", opt(&o, "idle-timeout", "1s") == 0);
	CHECK("option: --no-l7", opt(&o, "no-l7", NULL) == 1 && !o.on);
	CHECK("option: --l7", opt(&o, "l7", NULL) == 1 && o.on);
	CHECK("option: --snaplen 256", opt(&o, "snaplen", "256") == 1 && o.select.snaplen == 256);
	CHECK("option: --snaplen 64k", opt(&o, "snaplen", "64k") == 1 && o.select.snaplen == 65536);
	CHECK("option: --snaplen 100 refused", opt(&o, "snaplen", "100") == -1 && strstr(err, "--snaplen"));
	CHECK("option: --snaplen 65537 refused", opt(&o, "snaplen", "65537") == -1);
	CHECK("option: --ring-size 16M", opt(&o, "ring-size", "16M") == 1 && o.ring_size == 16u << 20);
	CHECK("option: --ring-size 1MiB", opt(&o, "ring-size", "1MiB") == 1 && o.ring_size == 1u << 20);
	CHECK("option: --ring-size 2G refused", opt(&o, "ring-size", "2G") == -1);
	CHECK("option: --ring-size -1 refused", opt(&o, "ring-size", "-1") == -1);
	CHECK("option: --l7-budget 0", opt(&o, "l7-budget", "0") == 1 && o.select.budget_bytes == 0);
	CHECK("option: --l7-budget 512k", opt(&o, "l7-budget", "512k") == 1 &&
	      o.select.budget_bytes == 512u << 10);
	CHECK("option: --l7-budget x refused", opt(&o, "l7-budget", "x") == -1 && strstr(err, "--l7-budget"));
	CHECK("option: --l7-ports", opt(&o, "l7-ports", "any") == 1 && o.select.all_ports);
	CHECK("option: --l7-ports bad", opt(&o, "l7-ports", "x") == -1 && strstr(err, "--l7-ports"));
	CHECK("option: --l7-cidr twice adds", opt(&o, "l7-cidr", "10.0.0.0/8") == 1 &&
	      opt(&o, "l7-cidr", "fd00::/8") == 1 && o.select.n_cidrs == 2);
	CHECK("option: --l7-proto", opt(&o, "l7-proto", "tcp") == 1 && !o.select.udp);
	CHECK("option: --l7-detect 8", opt(&o, "l7-detect", "8") == 1 && o.select.probe_packets == 8);
	CHECK("option: --l7-detect 256 refused", opt(&o, "l7-detect", "256") == -1);
	return CHECK_DONE();
}

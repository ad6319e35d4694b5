/* Unit tests of flowd's command line (flowd/config.c). */
#include "check.h"
#include "../../flowd/config.c"

static int parse(struct flowd_config *cfg, struct flowd_err *e, const char *a1, const char *a2,
                 const char *a3, const char *a4)
{
	char *argv[] = { "flowd", (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL };
	int argc = 1;
	while (argv[argc])
		argc++;
	memset(e, 0, sizeof(*e));
	return flowd_config_parse(cfg, argc, argv, e);
}

int main(void)
{
	uint64_t ns;
	CHECK("duration: bare number is seconds", !flowd_parse_duration("15", &ns) && ns == 15000000000ULL);
	CHECK("duration: ms", !flowd_parse_duration("250ms", &ns) && ns == 250000000ULL);
	CHECK("duration: fractional s", !flowd_parse_duration("1.5s", &ns) && ns == 1500000000ULL);
	CHECK("duration: m", !flowd_parse_duration("2m", &ns) && ns == 120000000000ULL);
	CHECK("duration: h", !flowd_parse_duration("1h", &ns) && ns == 3600000000000ULL);
	CHECK("duration: unknown unit", flowd_parse_duration("10x", &ns) == -1);
	CHECK("duration: negative", flowd_parse_duration("-1", &ns) == -1);
	CHECK("duration: empty", flowd_parse_duration("", &ns) == -1);
	CHECK("duration: huge", flowd_parse_duration("1e12h", &ns) == -1);

	struct flowd_config cfg;
	struct flowd_err e;
	CHECK("defaults: parse", parse(&cfg, &e, "-i", "eth0", NULL, NULL) == 0);
	CHECK("defaults: values",
	      cfg.n_ifaces == 1 && !strcmp(cfg.ifnames[0], "eth0") && !strcmp(cfg.export_file, "stdout") &&
	              cfg.xdp_mode == FLOWD_XDP_AUTO && cfg.tc && cfg.idle_timeout_ns == 15000000000ULL &&
	              cfg.active_timeout_ns == 60000000000ULL && cfg.poll_interval_ns == 1000000000ULL &&
	              cfg.map_size == 65536 && !strcmp(cfg.run_dir, "/run/flowd"));
	CHECK("options: parse",
	      parse(&cfg, &e, "--interface=a", "-ib", "--xdp-mode=skb", "--idle-timeout=2s") == 0);
	CHECK("options: values", cfg.n_ifaces == 2 && !strcmp(cfg.ifnames[1], "b") &&
	                               cfg.xdp_mode == FLOWD_XDP_SKB && cfg.idle_timeout_ns == 2000000000ULL);
	CHECK("interface name too long", parse(&cfg, &e, "-i", "abcdefghijklmnopq", NULL, NULL) == -1);
	CHECK_STR("interface name too long: message", e.msg,
	          "--interface: 'abcdefghijklmnopq' is not an interface name");
	CHECK("map size not a number", parse(&cfg, &e, "-i", "a", "--map-size", "12k") == -1);
	CHECK("relative run dir", parse(&cfg, &e, "-i", "a", "--run-dir", "run") == -1);
	CHECK_STR("relative run dir: message", e.msg, "--run-dir: 'run' is not an absolute path");
	CHECK("stats interval 0 allowed", parse(&cfg, &e, "-i", "a", "--stats-interval", "0") == 0 &&
	                                          cfg.stats_interval_ns == 0);
	return CHECK_DONE();
}

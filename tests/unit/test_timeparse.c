/* lib/timeparse.c: Go durations and Hubble's --since/--until layouts,
 * values checked against Go's time package (go doc time.ParseDuration,
 * time.Duration.String). */
#include "check.h"
#include "timeparse.h"

#include <inttypes.h>

#define SEC 1000000000ll

static void dur(const char *in, int64_t want)
{
	int64_t got = 12345;
	char name[128];
	snprintf(name, sizeof(name), "duration \"%s\"", in);
	CHECK(name, fe_parse_go_duration(in, &got) == 0 && got == want);
	if (got != want)
		printf("  got %" PRId64 " want %" PRId64 "\n", got, want);
}

static void dur_bad(const char *in)
{
	int64_t got;
	char name[128];
	snprintf(name, sizeof(name), "duration \"%s\" refused", in);
	CHECK(name, fe_parse_go_duration(in, &got) == -1);
}

static void tm(const char *in, uint64_t want)
{
	uint64_t got = 0;
	char name[128];
	snprintf(name, sizeof(name), "time \"%s\"", in);
	CHECK(name, fe_parse_time(in, &got) == 0 && got == want);
	if (got != want)
		printf("  got %" PRIu64 " want %" PRIu64 "\n", got, want);
}

static void tm_bad(const char *in)
{
	uint64_t got;
	char name[128];
	snprintf(name, sizeof(name), "time \"%s\" refused", in);
	CHECK(name, fe_parse_time(in, &got) == -1);
}

static void fmt(int64_t ns, const char *want)
{
	char buf[40], name[64];
	fe_format_go_duration(ns, buf, sizeof(buf));
	snprintf(name, sizeof(name), "format %" PRId64, ns);
	CHECK_STR(name, buf, want);
}

int main(void)
{
	dur("0", 0);
	dur("5s", 5 * SEC);
	dur("30s", 30 * SEC);
	dur("1h43m", (60 + 43) * 60 * SEC);
	dur("1.5h", 5400 * SEC);
	dur("-1.5h", -5400 * SEC);
	dur("+5m", 300 * SEC);
	dur("300ms", 300000000);
	dur("2h45m10.5s", ((2 * 60 + 45) * 60 + 10) * SEC + SEC / 2);
	dur("1us", 1000);
	dur("1\xc2\xb5s", 1000);
	dur("1\xce\xbcs", 1000);
	dur("7ns", 7);
	dur(".5s", SEC / 2);
	dur("1.s", SEC);
	dur("2562047h47m16.854775807s", INT64_MAX);
	dur_bad("");
	dur_bad("5");
	dur_bad("s");
	dur_bad(".s");
	dur_bad("5d");
	dur_bad("1h 5m");
	dur_bad("2562048h");
	dur_bad("-");

	/* 2025-02-14T10:00:00Z = 1739527200 */
	const uint64_t t = 1739527200ull * SEC;
	tm("2025-02-14T10:00:00Z", t);
	tm("2025-02-14T10:00:00.123Z", t + 123000000);
	tm("2025-02-14T10:00:00.123456789Z", t + 123456789);
	tm("2025-02-14T12:00:00+02:00", t);
	tm("2025-02-14T09:30:00.5-00:30", t + SEC / 2);
	tm("Fri, 14 Feb 2025 10:00:00 +0000", t);
	tm("Fri, 14 Feb 2025 11:00:00 +0100", t);
	tm("2025-02-14", t - 10 * 3600 * SEC);
	tm("2025-02-14T10Z", t);
	tm("2025-02-14T11+01:00", t);
	tm("2025-02-14T10:00Z", t);
	tm("2024-02-29T00:00:00Z", 1709164800ull * SEC);
	tm("1970-01-01T00:00:00Z", 0);
	tm_bad("2025-02-30T10:00:00Z");
	tm_bad("2025-13-01");
	tm_bad("2025-02-14T24:00:00Z");
	tm_bad("2025-02-14T10:00:00");
	tm_bad("2025-02-14 10:00:00Z");
	tm_bad("1969-12-31T23:59:59Z");
	tm_bad("5m");
	tm_bad("");

	fmt(0, "0s");
	fmt(1, "1ns");
	fmt(1500, "1.5\xc2\xb5s");
	fmt(1500000, "1.5ms");
	fmt(SEC, "1s");
	fmt(100 * SEC, "1m40s");
	fmt(3600 * SEC, "1h0m0s");
	fmt(3723 * SEC + SEC / 2, "1h2m3.5s");
	fmt(-90 * SEC, "-1m30s");
	fmt(INT64_MAX, "2562047h47m16.854775807s");
	return CHECK_DONE();
}

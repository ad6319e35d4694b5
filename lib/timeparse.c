/* SPDX-License-Identifier: BSD-2-Clause */
#include "timeparse.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* --- durations ---------------------------------------------------------------- */

static const struct { const char *name; uint64_t ns; } duration_units[] = {
	{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 } /* U+00B5 */, { "\xce\xbcs", 1000 } /* U+03BC */,
	{ "ms", 1000000 }, { "s", 1000000000ull }, { "m", 60000000000ull }, { "h", 3600000000000ull },
};

int fe_parse_go_duration(const char *s, int64_t *out)
{
	if (!s)
		return -1;
	bool neg = false;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (!*s)
		return -1;
	const uint64_t max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	uint64_t total = 0;
	while (*s) {
		/* [0-9]*(\.[0-9]*)? with at least one digit */
		uint64_t whole = 0, frac = 0, scale = 1;
		bool digits = false, overflow = false;
		while (*s >= '0' && *s <= '9') {
			if (whole > (UINT64_MAX - 9) / 10)
				overflow = true;
			else
				whole = whole * 10 + (uint64_t)(*s - '0');
			s++;
			digits = true;
		}
		if (*s == '.') {
			s++;
			while (*s >= '0' && *s <= '9') {
				/* digits beyond 18 cannot change the result at ns resolution */
				if (scale < 1000000000000000000ull) {
					frac = frac * 10 + (uint64_t)(*s - '0');
					scale *= 10;
				}
				s++;
				digits = true;
			}
		}
		if (!digits || overflow)
			return -1;
		size_t ulen = 0;
		while (s[ulen] && s[ulen] != '.' && !(s[ulen] >= '0' && s[ulen] <= '9'))
			ulen++;
		if (ulen == 0)
			return -1; /* "missing unit" */
		uint64_t unit = 0;
		for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++)
			if (strlen(duration_units[i].name) == ulen && memcmp(duration_units[i].name, s, ulen) == 0)
				unit = duration_units[i].ns;
		if (!unit)
			return -1;
		s += ulen;
		if (whole > max / unit)
			return -1;
		uint64_t v = whole * unit;
		if (frac) {
			/* frac/scale of a unit, rounded down like Go */
			long double f = (long double)frac * (long double)unit / (long double)scale;
			v += (uint64_t)f;
		}
		if (v > max || total > max - v)
			return -1;
		total += v;
	}
	*out = neg ? (int64_t)(0 - total) : (int64_t)total;
	return 0;
}

/* Go's Duration.String(). */
size_t fe_format_go_duration(int64_t d, char *buf, size_t size)
{
	char tmp[40];
	int w = (int)sizeof(tmp);
	uint64_t u = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
	bool neg = d < 0;
	/* fraction with `prec` digits of v, trailing zeros dropped; returns v / 10^prec */
#define FMT_FRAC(v, prec)                                                          \
	do {                                                                       \
		bool print_ = false;                                               \
		for (int i_ = 0; i_ < (prec); i_++) {                              \
			int digit_ = (int)((v) % 10);                              \
			print_ = print_ || digit_ != 0;                            \
			if (print_)                                                \
				tmp[--w] = (char)('0' + digit_);                   \
			(v) /= 10;                                                 \
		}                                                                  \
		if (print_)                                                        \
			tmp[--w] = '.';                                            \
	} while (0)
#define FMT_INT(v)                                                                 \
	do {                                                                       \
		if ((v) == 0)                                                      \
			tmp[--w] = '0';                                            \
		while ((v) > 0) {                                                  \
			tmp[--w] = (char)('0' + (v) % 10);                         \
			(v) /= 10;                                                 \
		}                                                                  \
	} while (0)
	if (u < 1000000000ull) {
		/* sub-second: the largest unit that keeps a non-zero integer part */
		int prec;
		tmp[--w] = 's';
		if (u == 0) {
			snprintf(buf, size, "0s");
			return 2;
		} else if (u < 1000) {
			prec = 0;
			tmp[--w] = 'n';
		} else if (u < 1000000) {
			prec = 3;
			tmp[--w] = '\xb5'; /* µ in UTF-8 */
			tmp[--w] = '\xc2';
		} else {
			prec = 6;
			tmp[--w] = 'm';
		}
		FMT_FRAC(u, prec);
		FMT_INT(u);
	} else {
		tmp[--w] = 's';
		FMT_FRAC(u, 9);
		uint64_t secs = u % 60;
		FMT_INT(secs);
		u /= 60;
		if (u > 0) {
			tmp[--w] = 'm';
			uint64_t mins = u % 60;
			FMT_INT(mins);
			u /= 60;
			if (u > 0) {
				tmp[--w] = 'h';
				FMT_INT(u);
			}
		}
	}
#undef FMT_FRAC
#undef FMT_INT
	if (neg)
		tmp[--w] = '-';
	size_t len = sizeof(tmp) - (size_t)w;
	snprintf(buf, size, "%.*s", (int)len, tmp + w);
	return len;
}

/* --- absolute times ------------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static unsigned days_in_month(int y, unsigned m)
{
	static const unsigned dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* Exactly n digits. */
static bool digits(const char **p, int n, int *v)
{
	int x = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		x = x * 10 + (c - '0');
	}
	*p += n;
	*v = x;
	return true;
}

static bool lit(const char **p, const char *s)
{
	size_t n = strlen(s);
	if (strncmp(*p, s, n) != 0)
		return false;
	*p += n;
	return true;
}

struct civil {
	int year, mon, day, hour, min, sec;
	uint32_t nsec;
	int offset_s; /* east of UTC */
};

static bool civil_to_ns(const struct civil *c, uint64_t *ns)
{
	if (c->mon < 1 || c->mon > 12 || c->day < 1 || (unsigned)c->day > days_in_month(c->year, (unsigned)c->mon) ||
	    c->hour > 23 || c->min > 59 || c->sec > 59)
		return false;
	int64_t days = days_from_civil(c->year, (unsigned)c->mon, (unsigned)c->day);
	int64_t secs = days * 86400 + c->hour * 3600 + c->min * 60 + c->sec - c->offset_s;
	if (secs < 0 || secs > (int64_t)(UINT64_MAX / 1000000000ull) - 1)
		return false;
	*ns = (uint64_t)secs * 1000000000ull + c->nsec;
	return true;
}

/* Z or ±hh:mm (colon form, as Go's Z07:00). */
static bool zone_colon(const char **p, int *off)
{
	if (**p == 'Z') {
		(*p)++;
		*off = 0;
		return true;
	}
	if (**p != '+' && **p != '-')
		return false;
	int sign = **p == '-' ? -1 : 1, h, m;
	(*p)++;
	if (!digits(p, 2, &h) || !lit(p, ":") || !digits(p, 2, &m) || h > 23 || m > 59)
		return false;
	*off = sign * (h * 3600 + m * 60);
	return true;
}

/* .fraction after seconds: Go accepts it in any layout with seconds. */
static bool fraction(const char **p, uint32_t *nsec)
{
	*nsec = 0;
	if (**p != '.' && **p != ',')
		return true;
	(*p)++;
	int n = 0;
	uint32_t v = 0;
	while (**p >= '0' && **p <= '9') {
		if (n < 9)
			v = v * 10 + (uint32_t)(**p - '0');
		n++;
		(*p)++;
	}
	if (n == 0)
		return false;
	for (; n < 9; n++)
		v *= 10;
	*nsec = v;
	return true;
}

static bool parse_date(const char **p, struct civil *c)
{
	return digits(p, 4, &c->year) && lit(p, "-") && digits(p, 2, &c->mon) && lit(p, "-") &&
	       digits(p, 2, &c->day);
}

int fe_parse_rfc3339(const char *s, uint64_t *ns)
{
	struct civil c = { 0 };
	const char *p = s;
	if (parse_date(&p, &c) && lit(&p, "T") && digits(&p, 2, &c.hour) && lit(&p, ":") &&
	    digits(&p, 2, &c.min) && lit(&p, ":") && digits(&p, 2, &c.sec) && fraction(&p, &c.nsec) &&
	    zone_colon(&p, &c.offset_s) && !*p && civil_to_ns(&c, ns))
		return 0;
	return -1;
}

static int month_by_name(const char **p)
{
	static const char *const names[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	for (int i = 0; i < 12; i++)
		if (lit(p, names[i]))
			return i + 1;
	return 0;
}

static bool weekday_name(const char **p)
{
	static const char *const names[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	for (int i = 0; i < 7; i++)
		if (lit(p, names[i]))
			return true;
	return false;
}

/* Mon, 02 Jan 2006 15:04:05 -0700 */
static bool parse_rfc1123z(const char *s, uint64_t *ns)
{
	struct civil c = { 0 };
	const char *p = s;
	int h, m;
	if (!weekday_name(&p) || !lit(&p, ", ") || !digits(&p, 2, &c.day) || !lit(&p, " ") ||
	    !(c.mon = month_by_name(&p)) || !lit(&p, " ") || !digits(&p, 4, &c.year) || !lit(&p, " ") ||
	    !digits(&p, 2, &c.hour) || !lit(&p, ":") || !digits(&p, 2, &c.min) || !lit(&p, ":") ||
	    !digits(&p, 2, &c.sec) || !fraction(&p, &c.nsec) || !lit(&p, " "))
		return false;
	if (*p != '+' && *p != '-')
		return false;
	int sign = *p++ == '-' ? -1 : 1;
	if (!digits(&p, 2, &h) || !digits(&p, 2, &m) || *p || h > 23 || m > 59)
		return false;
	c.offset_s = sign * (h * 3600 + m * 60);
	return civil_to_ns(&c, ns);
}

int fe_parse_time(const char *s, uint64_t *ns)
{
	if (!s)
		return -1;
	if (fe_parse_rfc3339(s, ns) == 0 || parse_rfc1123z(s, ns))
		return 0;
	struct civil c = { 0 };
	const char *p = s;
	if (!parse_date(&p, &c))
		return -1;
	if (!*p) /* 2006-01-02 */
		return civil_to_ns(&c, ns) ? 0 : -1;
	if (!lit(&p, "T") || !digits(&p, 2, &c.hour))
		return -1;
	if (lit(&p, ":") && !digits(&p, 2, &c.min)) /* 2006-01-02T15:04Z07:00 */
		return -1;
	if (!zone_colon(&p, &c.offset_s) || *p) /* 2006-01-02T15Z07:00 */
		return -1;
	return civil_to_ns(&c, ns) ? 0 : -1;
}

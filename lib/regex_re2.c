/* SPDX-License-Identifier: BSD-2-Clause */
#include "regex_re2.h"
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>

static int say(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* An escaped single character (\n, \t, \x41, \.) -> its byte; -1 when the
 * escape is not a single character. */
static int escape_char(const char **pp)
{
	const char *p = *pp;  /* points after the backslash */
	int c;
	switch (*p) {
	case 'n': c = '\n'; break;
	case 't': c = '\t'; break;
	case 'r': c = '\r'; break;
	case 'f': c = '\f'; break;
	case 'v': c = '\v'; break;
	case 'a': c = '\a'; break;
	case 'x':
		if (hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			*pp = p + 3;
			return hexval(p[1]) * 16 + hexval(p[2]);
		}
		return -1;
	default:
		if (ispunct((unsigned char)*p) || *p == ' ') {
			c = *p;
			break;
		}
		return -1;
	}
	*pp = p + 1;
	return c;
}

/* A bracket expression: collected, then written in POSIX-safe order
 * (']' first, '-' last). */
static int translate_bracket(const char **pp, struct sbuf *out, char *err, size_t errlen)
{
	const char *p = *pp + 1;
	bool neg = false, has_rbr = false, has_dash = false, has_caret = false;
	struct sbuf body = { 0 };
	if (*p == '^') {
		neg = true;
		p++;
	}
	bool first = true;
	while (*p && (*p != ']' || first)) {
		int c;
		first = false;
		if (p[0] == '[' && p[1] == ':') {
			const char *end = strstr(p + 2, ":]");
			if (!end)
				goto bad;
			sb_add(&body, p, (size_t)(end + 2 - p));
			p = end + 2;
			continue;
		}
		if (*p == '\\') {
			p++;
			switch (*p) {
			case 'd': sb_s(&body, "0-9"); p++; continue;
			case 's': sb_s(&body, "[:space:]"); p++; continue;
			case 'w': sb_s(&body, "[:alnum:]_"); p++; continue;
			default:
				if ((c = escape_char(&p)) < 0)
					goto bad;
			}
		} else {
			c = (unsigned char)*p++;
		}
		/* a range a-z (the '-' not last) */
		if (p[0] == '-' && p[1] && p[1] != ']') {
			int hi;
			p++;
			if (*p == '\\') {
				p++;
				if ((hi = escape_char(&p)) < 0)
					goto bad;
			} else {
				hi = (unsigned char)*p++;
			}
			if (hi < c)
				goto bad;
			char r[3] = { (char)c, '-', (char)hi };
			if (c == ']' || c == '-' || c == '^' || hi == ']' || hi == '-' || hi == '^')
				goto bad;  /* too unusual to reorder safely */
			sb_add(&body, r, 3);
			continue;
		}
		if (c == ']')
			has_rbr = true;
		else if (c == '-')
			has_dash = true;
		else if (c == '^')
			has_caret = true;
		else
			sb_c(&body, (char)c);
	}
	if (*p != ']')
		goto bad;
	*pp = p + 1;
	if (body.oom) {
		free(body.p);
		return say(err, errlen, "out of memory");
	}
	if (!body.len && !has_rbr && !has_dash && has_caret && !neg) {
		sb_s(out, "\\^");
		free(body.p);
		return 0;
	}
	sb_c(out, '[');
	if (neg)
		sb_c(out, '^');
	if (has_rbr)
		sb_c(out, ']');
	if (body.len)
		sb_add(out, body.p, body.len);
	if (has_caret) {
		if (!has_rbr && !body.len) {
			free(body.p);
			return say(err, errlen, "unsupported bracket expression");
		}
		sb_c(out, '^');
	}
	if (has_dash)
		sb_c(out, '-');
	sb_c(out, ']');
	free(body.p);
	return 0;
bad:
	free(body.p);
	return say(err, errlen, "unsupported or invalid bracket expression");
}

/* RE2 -> POSIX ERE for glibc: (?i) at the start, (?:...), \d \D \s \S \w
 * \W \A \z, character escapes, lazy quantifiers (matching only asks
 * "is there a match", where lazy and greedy agree). Like RE2, a quantifier
 * on a quantifier is an error and repetition counts (nested ones
 * multiplied) stop at 1000: glibc's regcomp would otherwise build
 * exponentially large automata from a short pattern. */
#define RE_MAX_LEN 4096
#define RE_MAX_REPEAT 1000
#define RE_MAX_DEPTH 64

static char *translate_regex(const char *re, bool *icase, char *err, size_t errlen)
{
	struct sbuf out = { 0 };
	const char *p = re;
	/* per open group: the largest repetition product inside it */
	long inner[RE_MAX_DEPTH + 1] = { 1 };
	int depth = 0;
	long last_group = 1;       /* product inside the group just closed */
	enum { A_NONE, A_ATOM, A_GROUP, A_QUANT } prev = A_NONE;
	*icase = false;
	if (strlen(re) > RE_MAX_LEN) {
		say(err, errlen, "regular expression longer than %d bytes", RE_MAX_LEN);
		return NULL;
	}
	if (strncmp(p, "(?i)", 4) == 0) {
		*icase = true;
		p += 4;
	}
	sb_s(&out, "");
	while (*p) {
		char c = *p;
		if (c == '*' || c == '+' || c == '?' || c == '{') {
			long count = 1;
			if (c == '{') {
				char *end;
				long lo = strtol(p + 1, &end, 10), hi = lo;
				if (end == p + 1 || (*end != '}' && *end != ',')) {
					/* not a repetition: a literal '{' as in RE2 */
					sb_s(&out, "\\{");
					p++;
					prev = A_ATOM;
					continue;
				}
				if (*end == ',') {
					const char *h = end + 1;
					hi = *h == '}' ? lo : strtol(h, &end, 10);
					if (*h != '}' && (end == h || *end != '}'))
						goto bad_repeat;
					if (*h == '}')
						end = (char *)h;
				}
				if (lo < 0 || hi < lo || lo > RE_MAX_REPEAT || hi > RE_MAX_REPEAT)
					goto too_many;
				count = hi > 1 ? hi : 1;
				sb_add(&out, p, (size_t)(end + 1 - p));
				p = end + 1;
			} else {
				sb_c(&out, c);
				p++;
			}
			if (prev == A_NONE || prev == A_QUANT)
				goto bad_repeat;
			long prod = count * (prev == A_GROUP ? last_group : 1);
			if (prod > RE_MAX_REPEAT)
				goto too_many;
			if (prod > inner[depth])
				inner[depth] = prod;
			if (*p == '?')  /* lazy */
				p++;
			prev = A_QUANT;
			continue;
		}
		if (c == '\\') {
			p++;
			const char *rep = NULL;
			switch (*p) {
			case 'd': rep = "[0-9]"; break;
			case 'D': rep = "[^0-9]"; break;
			case 's': rep = "[[:space:]]"; break;
			case 'S': rep = "[^[:space:]]"; break;
			case 'w': rep = "[[:alnum:]_]"; break;
			case 'W': rep = "[^[:alnum:]_]"; break;
			case 'A': rep = "^"; break;
			case 'z': rep = "$"; break;
			case 'b': rep = "\\b"; break;
			case 'B': rep = "\\B"; break;
			case '\0':
				free(out.p);
				say(err, errlen, "trailing backslash");
				return NULL;
			default:
				break;
			}
			if (rep) {
				sb_s(&out, rep);
				p++;
				prev = (*rep == '^' || *rep == '$' || rep[1] == 'b' || rep[1] == 'B') ? A_NONE : A_ATOM;
				continue;
			}
			int ch = escape_char(&p);
			if (ch < 0) {
				free(out.p);
				say(err, errlen, "unsupported escape \\%c", *p);
				return NULL;
			}
			if (strchr(".[]()*+?{}|^$\\", ch)) {
				char e[2] = { '\\', (char)ch };
				sb_add(&out, e, 2);
			} else {
				sb_c(&out, (char)ch);
			}
			prev = A_ATOM;
			continue;
		}
		if (c == '[') {
			if (translate_bracket(&p, &out, err, errlen)) {
				free(out.p);
				return NULL;
			}
			prev = A_ATOM;
			continue;
		}
		if (c == '(') {
			if (depth == RE_MAX_DEPTH) {
				free(out.p);
				say(err, errlen, "groups nested deeper than %d", RE_MAX_DEPTH);
				return NULL;
			}
			inner[++depth] = 1;
			if (p[1] == '?') {
				if (p[2] == ':') {
					p += 3;
				} else if ((p[2] == 'P' && p[3] == '<') || p[2] == '<') {
					const char *e = strchr(p, '>');
					if (!e)
						goto bad_group;
					p = e + 1;
				} else {
					goto bad_group;
				}
				sb_c(&out, '(');
				prev = A_NONE;
				continue;
			}
			prev = A_NONE;
		} else if (c == ')') {
			if (depth == 0) {
				free(out.p);
				say(err, errlen, "unmatched ')'");
				return NULL;
			}
			last_group = inner[depth--];
			if (last_group > inner[depth])
				inner[depth] = last_group;
			sb_c(&out, c);
			p++;
			prev = A_GROUP;
			continue;
		} else if (c == '|' || c == '^' || c == '$') {
			prev = A_NONE;
		} else {
			prev = A_ATOM;
		}
		sb_c(&out, c);
		p++;
	}
	if (out.oom) {
		free(out.p);
		say(err, errlen, "out of memory");
		return NULL;
	}
	return out.p;
bad_group:
	free(out.p);
	say(err, errlen, "unsupported group syntax \"(?\"");
	return NULL;
bad_repeat:
	free(out.p);
	say(err, errlen, "bad repetition operator");
	return NULL;
too_many:
	free(out.p);
	say(err, errlen, "repetition count above %d", RE_MAX_REPEAT);
	return NULL;
}

int re2_regcomp(regex_t *rx, const char *re, bool whole, char *err, size_t errlen)
{
	bool icase;
	char *posix = translate_regex(re, &icase, err, errlen);
	if (!posix)
		return -1;
	if (whole) {
		struct sbuf w = { 0 };
		sb_s(&w, "^(");
		sb_s(&w, posix);
		sb_s(&w, ")$");
		free(posix);
		if (w.oom) {
			free(w.p);
			return say(err, errlen, "out of memory");
		}
		posix = w.p;
	}
	int rc = regcomp(rx, posix, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0));
	free(posix);
	if (rc) {
		char msg[128];
		regerror(rc, rx, msg, sizeof(msg));
		return say(err, errlen, "invalid regular expression: %s", msg);
	}
	return 0;
}

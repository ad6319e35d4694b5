/* SPDX-License-Identifier: BSD-2-Clause */
/* Strict YAML configuration reading; see ycfg.h. */
#include "ycfg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void err_append(struct ycfg *y, const char *line)
{
	y->n_errors++;
	if (!y->err || !y->errlen)
		return;
	size_t room = y->errlen - y->errused;
	if (room <= 1)
		return;
	int n = snprintf(y->err + y->errused, room, "%s%s", y->errused ? "\n" : "", line);
	if (n < 0)
		return;
	y->errused += (size_t)n < room ? (size_t)n : room - 1;
}

int ycfg_error(struct ycfg *y, const ynode *n, const char *fmt, ...)
{
	char msg[640], line[800];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s:%u:%u: %s", y->fname, ycfg_line(n), ycfg_col(n), msg);
	err_append(y, line);
	return -1;
}

static int mark_error(struct ycfg *y, const yaml_mark_t *m, const char *what, const char *ctx)
{
	char line[800];
	snprintf(line, sizeof(line), "%s:%zu:%zu: %s%s%s", y->fname, m->line + 1, m->column + 1,
	         what ? what : "invalid YAML", ctx ? " " : "", ctx ? ctx : "");
	err_append(y, line);
	return -1;
}

char *ycfg_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n + 1 >= cap) {
			if (cap >= YCFG_MAX_FILE) {
				snprintf(err, errlen, "%s: file larger than %u bytes", path, YCFG_MAX_FILE);
				free(buf);
				buf = NULL;
				break;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0) {
			if (ferror(f)) {
				snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
				free(buf);
				buf = NULL;
			}
			break;
		}
	}
	if (!buf && err && !err[0])
		snprintf(err, errlen, "%s: out of memory", path);
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

int ycfg_load(struct ycfg *y, const char *text, size_t len, const char *fname,
              char *err, size_t errlen)
{
	memset(y, 0, sizeof(*y));
	y->fname = fname ? fname : "<input>";
	y->err = err;
	y->errlen = errlen;
	if (err && errlen)
		err[0] = '\0';

	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		err_append(y, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &y->doc)) {
		mark_error(y, p.problem_offset || p.problem_mark.line || p.problem_mark.column
		                  ? &p.problem_mark : &p.context_mark,
		           p.problem, p.context);
		yaml_parser_delete(&p);
		return -1;
	}
	y->loaded = true;
	if (!yaml_document_get_root_node(&y->doc)) {
		yaml_parser_delete(&p);
		ycfg_error(y, NULL, "empty document");
		return -1;
	}
	/* a second document would be silently ignored: refuse it */
	yaml_document_t extra;
	if (!yaml_parser_load(&p, &extra)) {
		mark_error(y, &p.problem_mark, p.problem, p.context);
		yaml_parser_delete(&p);
		return -1;
	}
	bool more = yaml_document_get_root_node(&extra) != NULL;
	yaml_mark_t m = extra.start_mark;
	yaml_document_delete(&extra);
	yaml_parser_delete(&p);
	if (more) {
		mark_error(y, &m, "more than one YAML document in the file", NULL);
		return -1;
	}
	return 0;
}

void ycfg_free(struct ycfg *y)
{
	if (y->loaded)
		yaml_document_delete(&y->doc);
	y->loaded = false;
}

ynode *ycfg_root(struct ycfg *y)
{
	return yaml_document_get_root_node(&y->doc);
}

bool ycfg_is_map(const ynode *n) { return n && n->type == YAML_MAPPING_NODE; }
bool ycfg_is_seq(const ynode *n) { return n && n->type == YAML_SEQUENCE_NODE; }
bool ycfg_is_scalar(const ynode *n) { return n && n->type == YAML_SCALAR_NODE; }

static const char *kind_name(const ynode *n)
{
	if (!n)
		return "nothing";
	switch (n->type) {
	case YAML_MAPPING_NODE: return "a mapping";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_SCALAR_NODE: return ycfg_is_null(n) ? "an empty value" : "a string";
	default: return "nothing";
	}
}

int ycfg_want_map(struct ycfg *y, const ynode *n, const char *what)
{
	if (ycfg_is_map(n))
		return 0;
	return ycfg_error(y, n, "%s: expected a mapping, got %s", what, kind_name(n));
}

int ycfg_want_seq(struct ycfg *y, const ynode *n, const char *what)
{
	if (ycfg_is_seq(n))
		return 0;
	return ycfg_error(y, n, "%s: expected a list, got %s", what, kind_name(n));
}

bool ycfg_is_null(const ynode *n)
{
	if (!ycfg_is_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *s = (const char *)n->data.scalar.value;
	return !s[0] || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

const char *ycfg_str(struct ycfg *y, const ynode *n, const char *what)
{
	if (ycfg_is_scalar(n)) {
		/* a NUL inside the scalar would cut the text silently */
		if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
			ycfg_error(y, n, "%s: NUL character in string", what);
			return NULL;
		}
		return (const char *)n->data.scalar.value;
	}
	ycfg_error(y, n, "%s: expected a string, got %s", what, kind_name(n));
	return NULL;
}

size_t ycfg_seq_len(const ynode *seq)
{
	return ycfg_is_seq(seq) ? (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start) : 0;
}

ynode *ycfg_seq_at(struct ycfg *y, const ynode *seq, size_t i)
{
	return yaml_document_get_node(&y->doc, seq->data.sequence.items.start[i]);
}

size_t ycfg_map_len(const ynode *map)
{
	return ycfg_is_map(map) ? (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start) : 0;
}

ynode *ycfg_map_key(struct ycfg *y, const ynode *map, size_t i)
{
	return yaml_document_get_node(&y->doc, map->data.mapping.pairs.start[i].key);
}

ynode *ycfg_map_val(struct ycfg *y, const ynode *map, size_t i)
{
	return yaml_document_get_node(&y->doc, map->data.mapping.pairs.start[i].value);
}

static const char *key_text(const ynode *k)
{
	return ycfg_is_scalar(k) ? (const char *)k->data.scalar.value : NULL;
}

int ycfg_check_keys(struct ycfg *y, const ynode *map, const char *what,
                    const char *const *allowed)
{
	int problems = 0;
	size_t n = ycfg_map_len(map);
	for (size_t i = 0; i < n; i++) {
		ynode *k = ycfg_map_key(y, map, i);
		const char *ks = key_text(k);
		if (!ks) {
			ycfg_error(y, k, "%s: keys must be strings", what);
			problems++;
			continue;
		}
		bool dup = false;
		for (size_t j = 0; j < i && !dup; j++) {
			const char *o = key_text(ycfg_map_key(y, map, j));
			dup = o && !strcmp(o, ks);
		}
		if (dup) {
			ycfg_error(y, k, "%s: duplicate key \"%s\"", what, ks);
			problems++;
			continue;
		}
		if (!allowed)
			continue;
		bool ok = false;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = !strcmp(*a, ks);
		if (!ok) {
			char list[400];
			size_t used = 0;
			list[0] = '\0';
			for (const char *const *a = allowed; *a && used < sizeof(list); a++) {
				int w = snprintf(list + used, sizeof(list) - used, "%s%s",
				                 a == allowed ? "" : ", ", *a);
				if (w < 0)
					break;
				used += (size_t)w;
			}
			ycfg_error(y, k, "%s: unknown key \"%s\" (expected one of: %s)", what, ks, list);
			problems++;
		}
	}
	return problems;
}

ynode *ycfg_key_node(struct ycfg *y, const ynode *map, const char *key)
{
	size_t n = ycfg_map_len(map);
	for (size_t i = 0; i < n; i++) {
		ynode *k = ycfg_map_key(y, map, i);
		const char *ks = key_text(k);
		if (ks && !strcmp(ks, key))
			return k;
	}
	return NULL;
}

ynode *ycfg_get(struct ycfg *y, const ynode *map, const char *key)
{
	size_t n = ycfg_map_len(map);
	for (size_t i = 0; i < n; i++) {
		const char *ks = key_text(ycfg_map_key(y, map, i));
		if (ks && !strcmp(ks, key))
			return ycfg_map_val(y, map, i);
	}
	return NULL;
}

int ycfg_int(struct ycfg *y, const ynode *n, const char *what, int64_t min, int64_t max,
             int64_t *out)
{
	const char *s = ycfg_str(y, n, what);
	if (!s)
		return -1;
	const char *p = s;
	bool neg = false;
	if (*p == '-' && min < 0) {
		neg = true;
		p++;
	}
	if (!*p)
		goto bad;
	int64_t v = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		if (v > (INT64_MAX - 9) / 10)
			goto range;
		v = v * 10 + (*p - '0');
	}
	if (neg)
		v = -v;
	if (v < min || v > max)
		goto range;
	*out = v;
	return 0;
bad:
	return ycfg_error(y, n, "%s: \"%s\" is not an integer", what, s);
range:
	return ycfg_error(y, n, "%s: %s is out of range (%" PRId64 "..%" PRId64 ")", what, s, min, max);
}

int ycfg_enum(struct ycfg *y, const ynode *n, const char *what, const char *const *words)
{
	const char *s = ycfg_str(y, n, what);
	if (!s)
		return -1;
	for (int i = 0; words[i]; i++)
		if (!strcmp(words[i], s))
			return i;
	char list[300];
	size_t used = 0;
	list[0] = '\0';
	for (int i = 0; words[i] && used < sizeof(list); i++) {
		int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", words[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	ycfg_error(y, n, "%s: unknown value \"%s\" (expected one of: %s)", what, s, list);
	return -1;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Strict YAML configuration reading on top of libyaml's document API, for
 * the policy and identities files: every node keeps its position, and every
 * complaint is a "FILE:LINE:COLUMN: message" line (1-based, like compilers).
 *
 * Errors are collected, not printed: a check that fails appends one line to
 * the caller's buffer and validation goes on, so a user sees every mistake
 * of a file at once (up to the buffer size; the count is exact).
 *
 * Scalars are taken as text: YAML 1.1 type guessing (yes/no, octal, ...)
 * is not applied; each field says which texts it accepts.
 */
#ifndef FLOWD_YCFG_H
#define FLOWD_YCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

struct ycfg {
	yaml_document_t doc;
	bool loaded;
	const char *fname;     /* as given; used in messages */
	char *err;             /* caller's buffer, NUL-terminated */
	size_t errlen, errused;
	unsigned n_errors;
};

typedef yaml_node_t ynode;

/* Parse text (len bytes) into a document. Syntax errors, an empty document
 * and more than one document are errors. Returns 0, or -1 with the error in
 * err. ycfg_free() is needed in both cases. */
int ycfg_load(struct ycfg *y, const char *text, size_t len, const char *fname,
              char *err, size_t errlen);
/* Read a whole file (at most YCFG_MAX_FILE bytes); a read error is reported
 * as "FILE: strerror". Returns the text (malloc'ed, NUL-terminated) or NULL. */
#define YCFG_MAX_FILE (64u << 20)
char *ycfg_read_file(const char *path, size_t *len, char *err, size_t errlen);
void ycfg_free(struct ycfg *y);

ynode *ycfg_root(struct ycfg *y);

/* Append "FNAME:LINE:COL: message" for node n (NULL: line 1, column 1).
 * Always returns -1 so callers can `return ycfg_error(...)`. */
int ycfg_error(struct ycfg *y, const ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline unsigned ycfg_line(const ynode *n) { return n ? (unsigned)n->start_mark.line + 1 : 1; }
static inline unsigned ycfg_col(const ynode *n) { return n ? (unsigned)n->start_mark.column + 1 : 1; }

bool ycfg_is_map(const ynode *n);
bool ycfg_is_seq(const ynode *n);
bool ycfg_is_scalar(const ynode *n);
/* Type checks that report "WHAT: expected a mapping/list/string". */
int ycfg_want_map(struct ycfg *y, const ynode *n, const char *what);
int ycfg_want_seq(struct ycfg *y, const ynode *n, const char *what);

/* A scalar's text (NUL-terminated by libyaml), or NULL after reporting
 * "WHAT: expected a string". Empty scalars are allowed here. */
const char *ycfg_str(struct ycfg *y, const ynode *n, const char *what);
/* A plain "null"/"~"/empty scalar. */
bool ycfg_is_null(const ynode *n);

/* Mapping access. ycfg_check_keys reports keys that are not scalars,
 * duplicate keys and keys not in `allowed` (NULL-terminated list); returns
 * the number of problems. */
int ycfg_check_keys(struct ycfg *y, const ynode *map, const char *what,
                    const char *const *allowed);
/* Value node of key, or NULL. map must be a mapping. */
ynode *ycfg_get(struct ycfg *y, const ynode *map, const char *key);
/* Key node of key (for positions), or NULL. */
ynode *ycfg_key_node(struct ycfg *y, const ynode *map, const char *key);

/* Iteration over a sequence / mapping. */
size_t ycfg_seq_len(const ynode *seq);
ynode *ycfg_seq_at(struct ycfg *y, const ynode *seq, size_t i);
size_t ycfg_map_len(const ynode *map);
ynode *ycfg_map_key(struct ycfg *y, const ynode *map, size_t i);
ynode *ycfg_map_val(struct ycfg *y, const ynode *map, size_t i);

/* Integer scalar in [min, max] (decimal digits, no sign unless min < 0).
 * Returns 0 or -1 after reporting. */
int ycfg_int(struct ycfg *y, const ynode *n, const char *what, int64_t min, int64_t max,
             int64_t *out);
/* One of the NULL-terminated words (exact). Returns its index or -1 after
 * reporting "WHAT: unknown value "x"; expected one of a, b". */
int ycfg_enum(struct ycfg *y, const ynode *n, const char *what, const char *const *words);

#endif /* FLOWD_YCFG_H */

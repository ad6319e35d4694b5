/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Regular expressions as Go's regexp (RE2) writes them, the syntax of
 * Hubble's filters and of Cilium's (Envoy's) HTTP policy rules, compiled
 * with glibc's POSIX extended engine: \d \D \s \S \w \W \A \z, (?:...),
 * named groups, lazy quantifiers and a leading (?i) are translated. RE2's
 * limits are enforced (no quantifier on a quantifier, repetition counts,
 * nested ones multiplied, up to 1000, no back-references or look-arounds),
 * so that a short pattern cannot make regcomp build an exponentially large
 * automaton.
 */
#ifndef FLOWD_REGEX_RE2_H
#define FLOWD_REGEX_RE2_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

/* Compile re into rx (REG_NOSUB; regfree() it); whole: the pattern must
 * match the whole string (as Envoy's safe_regex), else anywhere. 0, or -1
 * with the reason in err. */
int re2_regcomp(regex_t *rx, const char *re, bool whole, char *err, size_t errlen);

#endif /* FLOWD_REGEX_RE2_H */

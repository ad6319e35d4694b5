/* Minimal assertions for C tests: one "PASS: name" / "FAIL: name why" line
 * per case, as tests/run.sh expects. */
#ifndef FLOWD_TEST_CHECK_H
#define FLOWD_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(name, cond)                                                        \
	do {                                                                     \
		if (cond) {                                                      \
			printf("PASS: %s\n", (name));                            \
		} else {                                                         \
			printf("FAIL: %s (%s:%d: %s)\n", (name), __FILE__,       \
			       __LINE__, #cond);                                 \
			check_failures++;                                        \
		}                                                                \
	} while (0)

#define CHECK_STR(name, got, want)                                               \
	do {                                                                     \
		const char *g_ = (got), *w_ = (want);                            \
		if (g_ && w_ && strcmp(g_, w_) == 0) {                           \
			printf("PASS: %s\n", (name));                            \
		} else {                                                         \
			printf("FAIL: %s (%s:%d)\n  got:  %s\n  want: %s\n",     \
			       (name), __FILE__, __LINE__, g_ ? g_ : "(null)",   \
			       w_ ? w_ : "(null)");                              \
			check_failures++;                                        \
		}                                                                \
	} while (0)

#define CHECK_U64(name, got, want)                                               \
	do {                                                                     \
		unsigned long long g_ = (got), w_ = (want);                      \
		if (g_ == w_) {                                                  \
			printf("PASS: %s\n", (name));                            \
		} else {                                                         \
			printf("FAIL: %s (%s:%d) got %llu want %llu\n", (name),  \
			       __FILE__, __LINE__, g_, w_);                      \
			check_failures++;                                        \
		}                                                                \
	} while (0)

#define CHECK_DONE() (check_failures ? 1 : 0)

#endif

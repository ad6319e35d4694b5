/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Times and durations as `hubble observe` reads and writes them
 * (../shared/reference/hubble.md §4.1): Go durations ("1h30m", "500ms",
 * "1.5h") and the absolute layouts --since/--until accept, plus Go's
 * Duration.String() for uptimes. Shared by flowctl and flowd's socket API.
 */
#ifndef FLOWD_TIMEPARSE_H
#define FLOWD_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

/* Go's time.ParseDuration: a sign, then one or more decimal numbers with a
 * unit each ("300ms", "-1.5h", "2h45m"); units ns, us, µs, ms, s, m, h; a
 * bare "0" is allowed. 0, or -1 for a malformed or out-of-range value. */
int fe_parse_go_duration(const char *s, int64_t *ns);

/* An absolute time in one of Hubble's layouts, to ns since the epoch:
 *   RFC 3339 with or without fraction   2025-02-14T10:00:00.123Z, ...+02:00
 *   RFC 1123 with numeric zone          Fri, 14 Feb 2025 10:00:00 +0000
 *   2006-01-02                          (midnight UTC)
 *   2006-01-02T15Z07:00                 2025-02-14T10Z, 2025-02-14T10+01:00
 *   2006-01-02T15:04Z07:00              2025-02-14T10:30Z
 * Times before 1970 are refused. 0, or -1 when nothing matches. */
int fe_parse_time(const char *s, uint64_t *ns);

/* RFC 3339 only (the socket API's form). 0 or -1. */
int fe_parse_rfc3339(const char *s, uint64_t *ns);

/* Go's Duration.String(): "0s", "1.5ms", "1h2m3s", "2m0.5s". Returns the
 * length; buf should hold 32 bytes. */
size_t fe_format_go_duration(int64_t ns, char *buf, size_t size);

#endif /* FLOWD_TIMEPARSE_H */

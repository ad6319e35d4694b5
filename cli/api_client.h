/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The client side of flowd's socket API (README "Socket API"), shared by
 * `flowctl observe` and `flowctl status`: connect, send one request line,
 * read the answer line by line.
 */
#ifndef FLOWD_CLI_API_CLIENT_H
#define FLOWD_CLI_API_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#define FLOWD_DEFAULT_SOCKET "/run/flowd/flowd.sock"

struct api_conn {
	int fd;
	char *buf;
	size_t len, cap, off;
};

/* Connect and send request (one JSON object, without newline). 0, or -1
 * with a message in err ("cannot connect to flowd at PATH: ..."). */
int api_connect(struct api_conn *c, const char *path, const char *request, char *err, size_t errlen);

/*
 * The next line (without '\n', NUL-terminated, valid until the next call):
 * 1 a line, 0 end of the answer (flowd closed the connection), -1 error
 * (errno; EINTR when a signal interrupted the wait).
 */
int api_read_line(struct api_conn *c, char **line, size_t *len);

void api_close(struct api_conn *c);

/* If line is an error answer ({"error":"..."}), copy the message to msg
 * and return true. */
bool api_error_line(const char *line, char *msg, size_t msglen);

#endif /* FLOWD_CLI_API_CLIENT_H */

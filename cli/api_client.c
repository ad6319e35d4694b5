/* SPDX-License-Identifier: BSD-2-Clause */
#include "api_client.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int api_connect(struct api_conn *c, const char *path, const char *request, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;
		snprintf(err, errlen, "cannot connect to flowd at %s: %s%s", path, strerror(e),
		         e == ENOENT || e == ECONNREFUSED ? " (is flowd running? --socket PATH)"
		         : e == EACCES                    ? " (root or the socket's group needed)"
		                                          : "");
		api_close(c);
		return -1;
	}
	size_t n = strlen(request);
	char *msg = malloc(n + 1);
	if (!msg) {
		snprintf(err, errlen, "out of memory");
		api_close(c);
		return -1;
	}
	memcpy(msg, request, n);
	msg[n] = '\n';
	size_t off = 0;
	while (off < n + 1) {
		ssize_t w = send(c->fd, msg + off, n + 1 - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			snprintf(err, errlen, "sending the request to flowd: %s", strerror(errno));
			free(msg);
			api_close(c);
			return -1;
		}
		off += (size_t)w;
	}
	free(msg);
	return 0;
}

int api_read_line(struct api_conn *c, char **line, size_t *len)
{
	for (;;) {
		char *start = c->buf + c->off;
		char *nl = c->len > c->off ? memchr(start, '\n', c->len - c->off) : NULL;
		if (nl) {
			*nl = '\0';
			*line = start;
			*len = (size_t)(nl - start);
			c->off = (size_t)(nl - c->buf) + 1;
			return 1;
		}
		/* keep the partial line at the front, make room */
		if (c->off) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		if (c->cap - c->len < 65536) {
			size_t nc = c->cap ? c->cap * 2 : 131072;
			char *nb = realloc(c->buf, nc + 1);
			if (!nb) {
				errno = ENOMEM;
				return -1;
			}
			c->buf = nb;
			c->cap = nc;
		}
		ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n < 0)
			return -1;
		if (n == 0) {
			if (c->len) { /* a last line without newline */
				c->buf[c->len] = '\0';
				*line = c->buf;
				*len = c->len;
				c->off = c->len;
				return 1;
			}
			return 0;
		}
		c->len += (size_t)n;
	}
}

void api_close(struct api_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = c->off = 0;
}

bool api_error_line(const char *line, char *msg, size_t msglen)
{
	if (strncmp(line, "{\"error\":", 9) != 0)
		return false;
	json_t *j = json_loads(line, 0, NULL);
	const char *m = j ? json_string_value(json_object_get(j, "error")) : NULL;
	snprintf(msg, msglen, "%s", m ? m : line);
	json_decref(j);
	return true;
}

/* SPDX-License-Identifier: BSD-2-Clause */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct output {
	int fd;
	bool own_fd;
	const char *path;
	struct fe_buf buf;
	int write_err;            /* sticky: the first write error */
	struct output_stats stats;
};

#define OUTPUT_FLUSH_AT (256 * 1024)

static int write_all(struct output *o)
{
	size_t off = 0;
	while (off < o->buf.len) {
		ssize_t n = write(o->fd, o->buf.data + off, o->buf.len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			o->write_err = -errno;
			break;
		}
		off += (size_t)n;
	}
	o->stats.bytes_written += off;
	o->buf.len = 0;
	return o->write_err;
}

int output_open(const struct flowd_config *cfg, struct output **out, struct flowd_err *e)
{
	struct output *o = calloc(1, sizeof(*o));
	if (!o)
		return flowd_errf(e, -ENOMEM, "out of memory");
	o->path = cfg->export_file;
	if (!strcmp(o->path, "stdout") || !strcmp(o->path, "-")) {
		o->fd = STDOUT_FILENO;
	} else {
		o->fd = open(o->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (o->fd < 0) {
			int err = -errno;
			free(o);
			return flowd_errf(e, err, "--export-file %s: %s", cfg->export_file, strerror(-err));
		}
		o->own_fd = true;
	}
	*out = o;
	return 0;
}

int output_flow(struct output *o, const struct flow_event *ev)
{
	struct fe_record rec = { .kind = FE_REC_FLOW, .flow = ev };
	return output_record(o, &rec);
}

int output_record(struct output *o, const struct fe_record *rec)
{
	size_t before = o->buf.len;
	if (fe_record_to_json(rec, &o->buf)) {
		o->buf.len = before; /* drop a partial line */
		o->stats.encode_errors++;
		return -1;
	}
	o->stats.events++;
	if (o->buf.len >= OUTPUT_FLUSH_AT && !o->write_err)
		write_all(o);
	return 0;
}

int output_flush(struct output *o, struct flowd_err *e)
{
	if (!o->write_err)
		write_all(o);
	o->buf.len = 0;
	if (o->write_err)
		return flowd_errf(e, o->write_err, "writing events to %s: %s",
		                  o->own_fd ? o->path : "stdout", strerror(-o->write_err));
	return 0;
}

void output_close(struct output *o)
{
	if (!o)
		return;
	if (o->own_fd)
		close(o->fd);
	fe_buf_free(&o->buf);
	free(o);
}

const struct output_stats *output_stats(const struct output *o) { return &o->stats; }

/* SPDX-License-Identifier: BSD-2-Clause */
#include "exporter.h"

#include "filter.h"
#include "flow_json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

struct exporter {
	char *path, *dir, *base, *ext;   /* rotation names: dir/base-<time>ext[.gz] */
	bool to_stdout;
	uint64_t max_size;
	unsigned max_backups;
	bool compress;
	struct fe_filters *filters;      /* NULL: everything */
	struct fe_field_mask *mask;      /* NULL: every field */
	char *node_name;
	struct fe_buf scratch;           /* caller's thread: one encoded line */

	pthread_mutex_t mu;
	pthread_cond_t wake_writer, wake_mill, idle;
	/* --- protected by mu --- */
	struct fe_buf queue;             /* encoded lines waiting for the writer */
	uint64_t queue_records;
	size_t queue_max;
	bool dropping;                   /* drop until the writer takes the queue, so
	                                  * the loss notice lands where the gap is */
	uint64_t drop_n, drop_first, drop_last;
	bool writer_busy, mill_pending, mill_busy, stop;
	struct exporter_stats st;
	/* --- writer thread only --- */
	struct fe_buf batch;
	int fd;
	uint64_t size;
	pthread_t writer, mill;
	bool writer_started, mill_started;
};

static uint64_t wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void set_error(struct exporter *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Caller holds mu. */
static void set_error(struct exporter *x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->st.last_error, sizeof(x->st.last_error), fmt, ap);
	va_end(ap);
}

/* --- files ------------------------------------------------------------------------------ */

static int open_file(struct exporter *x)
{
	x->fd = open(x->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (x->fd < 0)
		return -errno;
	struct stat st;
	x->size = fstat(x->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w;
		int old;
		/* the only place the writer can be cancelled (exporter_free timeout) */
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
		w = write(fd, p, n);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* lumberjack's backup time layout, UTC: 2006-01-02T15-04-05.000 */
static void backup_name(const struct exporter *x, uint64_t ns, const char *suffix, char *out, size_t size)
{
	time_t secs = (time_t)(ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char ts[40];
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H-%M-%S", &tm);
	snprintf(out, size, "%s/%s-%s.%03u%s%s", x->dir, x->base, ts,
	         (unsigned)(ns / 1000000ull % 1000), x->ext, suffix);
}

static int rotate(struct exporter *x)
{
	char name[4096], gz[4096];
	if (x->fd >= 0) {
		close(x->fd);
		x->fd = -1;
	}
	/* a name not taken yet (several rotations in one millisecond) */
	uint64_t t = wall_now();
	for (;; t += 1000000ull) {
		backup_name(x, t, "", name, sizeof(name));
		backup_name(x, t, ".gz", gz, sizeof(gz));
		if (access(name, F_OK) != 0 && access(gz, F_OK) != 0)
			break;
	}
	int rc = 0;
	if (rename(x->path, name) && errno != ENOENT)
		rc = -errno;
	int orc = open_file(x);
	pthread_mutex_lock(&x->mu);
	if (rc)
		set_error(x, "renaming %s: %s", x->path, strerror(-rc));
	if (orc) {
		set_error(x, "opening %s: %s", x->path, strerror(-orc));
		x->st.last_errno = -orc;
	}
	if (!rc) {
		x->st.rotations++;
		if (x->mill_started) {
			x->mill_pending = true;
			pthread_cond_signal(&x->wake_mill);
		}
	}
	pthread_mutex_unlock(&x->mu);
	return orc;
}

/* Count the lines in [p, p+n). */
static uint64_t count_lines(const char *p, size_t n)
{
	uint64_t c = 0;
	for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))); p++)
		c++;
	return c;
}

/* Write whole lines, rotating before a line that would make the file
 * larger than max_size (a line longer than max_size gets a file of its own). */
static void write_batch(struct exporter *x, const char *p, size_t n, bool notice)
{
	uint64_t written = 0, failed = 0, bytes = 0;
	int err = 0;
	while (n) {
		if (x->fd < 0 && !x->to_stdout && (err = open_file(x)) != 0) {
			failed += count_lines(p, n);
			break;
		}
		/* as many whole lines as fit in the current file */
		size_t take = 0;
		for (;;) {
			const char *nl = memchr(p + take, '\n', n - take);
			size_t end = nl ? (size_t)(nl - p) + 1 : n;
			if (!x->to_stdout && x->max_size && x->size + end > x->max_size && (take || x->size))
				break;
			take = end;
			if (take == n)
				break;
		}
		if (!take) {
			if (rotate(x) && x->fd < 0) {
				failed += count_lines(p, n);
				break;
			}
			continue;
		}
		uint64_t lines = count_lines(p, take);
		if ((err = write_all(x->to_stdout ? STDOUT_FILENO : x->fd, p, take)) != 0) {
			failed += lines;
			if (!x->to_stdout) { /* reopen on the next batch */
				close(x->fd);
				x->fd = -1;
			}
			/* the rest of this batch is lost too: the destination is failing */
			failed += count_lines(p + take, n - take);
			break;
		}
		written += lines;
		bytes += take;
		x->size += take;
		p += take;
		n -= take;
	}
	pthread_mutex_lock(&x->mu);
	if (notice) {
		x->st.notices += written;
		failed = 0; /* the events it reported are counted as dropped already */
	} else {
		x->st.written += written;
	}
	x->st.bytes_written += bytes;
	x->st.file_size = x->size;
	if (failed) {
		x->st.dropped += failed;
		x->st.write_errors++;
		x->st.last_errno = -err;
		set_error(x, "writing %s: %s", x->to_stdout ? "stdout" : x->path, strerror(-err));
	}
	pthread_mutex_unlock(&x->mu);
}

static void *writer_main(void *arg)
{
	struct exporter *x = arg;
	int old;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	pthread_mutex_lock(&x->mu);
	for (;;) {
		while (!x->queue.len && !x->drop_n && !x->stop)
			pthread_cond_wait(&x->wake_writer, &x->mu);
		if (!x->queue.len && !x->drop_n && x->stop)
			break;
		/* take the queue and the drops that followed it */
		struct fe_buf t = x->queue;
		x->queue = x->batch;
		x->batch = t;
		x->queue.len = 0;
		x->queue_records = 0;
		struct fe_record notice = {
			.kind = FE_REC_LOST,
			.lost = { .source = FE_LOST_OBSERVER_EVENTS_QUEUE, .num_events_lost = x->drop_n,
			          .cpu = -1, .first_ns = x->drop_first, .last_ns = x->drop_last },
			.node_name = x->node_name,
		};
		x->drop_n = 0;
		x->dropping = false;
		x->writer_busy = true;
		x->st.queue_bytes = 0;
		pthread_mutex_unlock(&x->mu);

		write_batch(x, x->batch.data, x->batch.len, false);
		x->batch.len = 0;
		if (notice.lost.num_events_lost) {
			notice.time_ns = wall_now();
			if (fe_record_to_json(&notice, &x->batch) == 0)
				write_batch(x, x->batch.data, x->batch.len, true);
			x->batch.len = 0;
		}

		pthread_mutex_lock(&x->mu);
		x->writer_busy = false;
		pthread_cond_broadcast(&x->idle);
	}
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

/* --- backups: compress and prune (lumberjack's "mill") -------------------------------- */

struct backup {
	char name[256];
	bool gz;
};

static int cmp_backup_newest_first(const void *a, const void *b)
{
	/* the fixed-width time sorts as text */
	return -strcmp(((const struct backup *)a)->name, ((const struct backup *)b)->name);
}

/* Is name "<base>-YYYY-MM-DDTHH-MM-SS.mmm<ext>[.gz]"? */
static bool is_backup(const struct exporter *x, const char *name, bool *gz)
{
	static const char pat[] = "dddd-dd-ddTdd-dd-dd.ddd";
	size_t bl = strlen(x->base), el = strlen(x->ext), nl = strlen(name), tl = sizeof(pat) - 1;
	*gz = nl > 3 && strcmp(name + nl - 3, ".gz") == 0;
	size_t core = *gz ? nl - 3 : nl;
	if (core != bl + 1 + tl + el || strncmp(name, x->base, bl) != 0 || name[bl] != '-' ||
	    strncmp(name + bl + 1 + tl, x->ext, el) != 0)
		return false;
	for (size_t i = 0; i < tl; i++) {
		char c = name[bl + 1 + i];
		if (pat[i] == 'd' ? !(c >= '0' && c <= '9') : c != pat[i])
			return false;
	}
	return true;
}

static int gzip_file(const char *src, char *err, size_t errlen)
{
	char dst[4096 + 4];
	snprintf(dst, sizeof(dst), "%s.gz", src);
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		snprintf(err, errlen, "compressing %s: %s", src, strerror(errno));
		return -1;
	}
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	gzFile gz = out >= 0 ? gzdopen(out, "wb") : NULL;
	if (!gz) {
		snprintf(err, errlen, "compressing %s: %s", src, strerror(errno));
		if (out >= 0)
			close(out);
		close(in);
		return -1;
	}
	char buf[65536];
	ssize_t n;
	bool ok = true;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (gzwrite(gz, buf, (unsigned)n) != (int)n) {
			ok = false;
			break;
		}
	if (n < 0)
		ok = false;
	if (gzclose(gz) != Z_OK)
		ok = false;
	close(in);
	if (!ok) {
		snprintf(err, errlen, "compressing %s failed", src);
		unlink(dst);
		return -1;
	}
	unlink(src);
	return 0;
}

static void mill_run_once(struct exporter *x)
{
	DIR *d = opendir(x->dir);
	if (!d)
		return;
	struct backup *b = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		bool gz;
		if (strlen(de->d_name) >= sizeof(b->name) || !is_backup(x, de->d_name, &gz))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct backup *nb = realloc(b, nc * sizeof(*nb));
			if (!nb)
				break;
			b = nb;
			cap = nc;
		}
		snprintf(b[n].name, sizeof(b[n].name), "%s", de->d_name);
		b[n].gz = gz;
		n++;
	}
	closedir(d);
	qsort(b, n, sizeof(*b), cmp_backup_newest_first);
	uint64_t removed = 0, compressed = 0;
	char err[300] = "";
	char path[4096 + 300];
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", x->dir, b[i].name);
		if (x->max_backups && i >= x->max_backups) {
			if (unlink(path) == 0)
				removed++;
		} else if (x->compress && !b[i].gz) {
			if (gzip_file(path, err, sizeof(err)) == 0)
				compressed++;
		}
	}
	free(b);
	pthread_mutex_lock(&x->mu);
	x->st.removed += removed;
	x->st.compressed += compressed;
	if (err[0])
		set_error(x, "%s", err);
	pthread_mutex_unlock(&x->mu);
}

static void *mill_main(void *arg)
{
	struct exporter *x = arg;
	pthread_mutex_lock(&x->mu);
	for (;;) {
		while (!x->mill_pending && !x->stop)
			pthread_cond_wait(&x->wake_mill, &x->mu);
		if (!x->mill_pending && x->stop)
			break;
		x->mill_pending = false;
		x->mill_busy = true;
		pthread_mutex_unlock(&x->mu);
		mill_run_once(x);
		pthread_mutex_lock(&x->mu);
		x->mill_busy = false;
		pthread_cond_broadcast(&x->idle);
	}
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

/* --- setup -------------------------------------------------------------------------------- */

static int split_path(struct exporter *x)
{
	const char *slash = strrchr(x->path, '/');
	const char *file = slash ? slash + 1 : x->path;
	x->dir = slash ? strndup(x->path, slash == x->path ? 1 : (size_t)(slash - x->path)) : strdup(".");
	const char *dot = strrchr(file, '.');
	if (!dot || dot == file)
		dot = file + strlen(file);
	x->base = strndup(file, (size_t)(dot - file));
	x->ext = strdup(dot);
	return x->dir && x->base && x->ext ? 0 : -1;
}

struct exporter *exporter_new(const struct exporter_config *cfg, char *err, size_t errlen)
{
	struct exporter *x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->fd = -1;
	pthread_mutex_init(&x->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&x->wake_writer, &ca);
	pthread_cond_init(&x->wake_mill, &ca);
	pthread_cond_init(&x->idle, &ca);
	pthread_condattr_destroy(&ca);
	if (!cfg->path || !*cfg->path) {
		snprintf(err, errlen, "export: no file given");
		goto fail;
	}
	x->path = strdup(cfg->path);
	x->node_name = cfg->node_name ? strdup(cfg->node_name) : NULL;
	x->to_stdout = !strcmp(cfg->path, "stdout") || !strcmp(cfg->path, "-");
	x->max_size = cfg->max_size;
	x->max_backups = cfg->max_backups;
	x->compress = cfg->compress;
	x->queue_max = cfg->queue_bytes ? cfg->queue_bytes : 8u << 20;
	x->st.queue_max = x->queue_max;
	if (!x->path || (cfg->node_name && !x->node_name) || split_path(x)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (cfg->allowlist || cfg->denylist) {
		x->filters = fe_filters_new();
		char e[400];
		if (!x->filters ||
		    (cfg->allowlist && fe_filters_add_json(x->filters, false, cfg->allowlist, e, sizeof(e))) ||
		    (cfg->denylist && fe_filters_add_json(x->filters, true, cfg->denylist, e, sizeof(e))) ||
		    fe_filters_finish(x->filters, e, sizeof(e))) {
			snprintf(err, errlen, "export filters: %s", x->filters ? e : "out of memory");
			goto fail;
		}
	}
	if (cfg->n_field_mask) {
		char e[400];
		if (fe_field_mask_new((const char **)cfg->field_mask, cfg->n_field_mask, &x->mask, e, sizeof(e))) {
			snprintf(err, errlen, "export field mask: %s", e);
			goto fail;
		}
	}
	if (!x->to_stdout) {
		int rc = open_file(x);
		if (rc) {
			snprintf(err, errlen, "%s: %s", x->path, strerror(-rc));
			goto fail;
		}
		x->st.file_size = x->size;
	}
	/* the mill first: the writer signals it */
	if (!x->to_stdout && x->max_size && (x->max_backups || x->compress)) {
		x->mill_pending = true; /* backups left by an earlier run */
		if (pthread_create(&x->mill, NULL, mill_main, x)) {
			snprintf(err, errlen, "export: cannot start the compression thread");
			goto fail;
		}
		x->mill_started = true;
	}
	if (pthread_create(&x->writer, NULL, writer_main, x)) {
		snprintf(err, errlen, "export: cannot start the writer thread");
		goto fail;
	}
	x->writer_started = true;
	return x;
fail:
	exporter_free(x, 0);
	return NULL;
}

static bool wait_idle(struct exporter *x, unsigned timeout_ms)
{
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	/* the mill may be woken by this very writer: wait for both to settle */
	while (x->queue.len || x->drop_n || x->writer_busy ||
	       (x->mill_started && (x->mill_pending || x->mill_busy))) {
		if (timeout_ms) {
			if (pthread_cond_timedwait(&x->idle, &x->mu, &dl) == ETIMEDOUT)
				return false;
		} else {
			pthread_cond_wait(&x->idle, &x->mu);
		}
	}
	return true;
}

bool exporter_sync(struct exporter *x, unsigned timeout_ms)
{
	pthread_mutex_lock(&x->mu);
	if (x->mill_pending && x->mill_started)
		pthread_cond_signal(&x->wake_mill);
	bool ok = wait_idle(x, timeout_ms);
	pthread_mutex_unlock(&x->mu);
	return ok;
}

void exporter_free(struct exporter *x, unsigned timeout_ms)
{
	if (!x)
		return;
	bool idle = true;
	if (x->writer_started)
		idle = exporter_sync(x, timeout_ms);
	pthread_mutex_lock(&x->mu);
	x->stop = true;
	pthread_cond_broadcast(&x->wake_writer);
	pthread_cond_broadcast(&x->wake_mill);
	pthread_mutex_unlock(&x->mu);
	if (x->writer_started) {
		if (!idle) /* stuck in write() (a stalled pipe): give up on it */
			pthread_cancel(x->writer);
		pthread_join(x->writer, NULL);
	}
	if (x->mill_started)
		pthread_join(x->mill, NULL);
	if (x->fd >= 0)
		close(x->fd);
	fe_filters_free(x->filters);
	fe_field_mask_free(x->mask);
	fe_buf_free(&x->scratch);
	fe_buf_free(&x->queue);
	fe_buf_free(&x->batch);
	pthread_mutex_destroy(&x->mu);
	pthread_cond_destroy(&x->wake_writer);
	pthread_cond_destroy(&x->wake_mill);
	pthread_cond_destroy(&x->idle);
	free(x->path);
	free(x->dir);
	free(x->base);
	free(x->ext);
	free(x->node_name);
	free(x);
}

/* --- the caller's side ---------------------------------------------------------------------- */

int exporter_write(struct exporter *x, const struct fe_record *rec, uint64_t now_ns)
{
	if (x->filters && !fe_filters_match(x->filters, rec)) {
		pthread_mutex_lock(&x->mu);
		x->st.records_in++;
		x->st.filtered++;
		pthread_mutex_unlock(&x->mu);
		return 0;
	}
	x->scratch.len = 0;
	int enc = fe_record_to_json_masked(rec, x->mask, &x->scratch);
	pthread_mutex_lock(&x->mu);
	x->st.records_in++;
	int rc = 0;
	if (enc || x->dropping || x->queue.len + x->scratch.len > x->queue_max ||
	    fe_buf_append(&x->queue, x->scratch.data, x->scratch.len)) {
		if (!x->drop_n)
			x->drop_first = now_ns;
		x->drop_last = now_ns;
		x->drop_n++;
		x->dropping = true;
		x->st.dropped++;
		rc = enc ? -1 : 1;
		if (x->drop_n == 1) /* the writer reports it even if nothing else comes */
			pthread_cond_signal(&x->wake_writer);
	} else {
		x->queue_records++;
		x->st.queue_bytes = x->queue.len;
		if (x->queue.len == x->scratch.len) /* was empty: the writer may sleep */
			pthread_cond_signal(&x->wake_writer);
	}
	pthread_mutex_unlock(&x->mu);
	return rc;
}

void exporter_get_stats(struct exporter *x, struct exporter_stats *st)
{
	pthread_mutex_lock(&x->mu);
	*st = x->st;
	pthread_mutex_unlock(&x->mu);
}

int exporter_status_json(struct exporter *x, struct fe_buf *out)
{
	struct exporter_stats s;
	exporter_get_stats(x, &s);
	char tmp[1024];
	int rc = fe_buf_append(out, "\"exporter\":{\"path\":", 19);
	rc |= fe_json_append_string(out, x->to_stdout ? "stdout" : x->path);
	int n = snprintf(tmp, sizeof(tmp),
	                 ",\"max_size\":\"%llu\",\"max_backups\":%u,\"compress\":%s,\"filters\":%s,"
	                 "\"field_mask\":%s,\"records_in\":\"%llu\",\"filtered\":\"%llu\",\"written\":\"%llu\","
	                 "\"dropped\":\"%llu\",\"write_errors\":\"%llu\",\"bytes_written\":\"%llu\","
	                 "\"lost_notices\":\"%llu\",\"rotations\":\"%llu\",\"compressed\":\"%llu\",\"removed\":\"%llu\","
	                 "\"queue_bytes\":\"%llu\",\"queue_max\":\"%llu\",\"file_size\":\"%llu\"",
	                 (unsigned long long)x->max_size, x->max_backups, x->compress ? "true" : "false",
	                 x->filters ? "true" : "false", x->mask ? "true" : "false",
	                 (unsigned long long)s.records_in, (unsigned long long)s.filtered,
	                 (unsigned long long)s.written, (unsigned long long)s.dropped,
	                 (unsigned long long)s.write_errors, (unsigned long long)s.bytes_written,
	                 (unsigned long long)s.notices, (unsigned long long)s.rotations, (unsigned long long)s.compressed,
	                 (unsigned long long)s.removed, (unsigned long long)s.queue_bytes,
	                 (unsigned long long)s.queue_max, (unsigned long long)s.file_size);
	rc |= fe_buf_append(out, tmp, (size_t)n);
	if (s.last_error[0]) {
		rc |= fe_buf_append(out, ",\"last_error\":", 14);
		rc |= fe_json_append_string(out, s.last_error);
	}
	rc |= fe_buf_append(out, "}", 1);
	return rc ? -1 : 0;
}

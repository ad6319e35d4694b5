/* SPDX-License-Identifier: BSD-2-Clause */
#include "api_server.h"

#include "filter.h"
#include "flow_json.h"
#include "flow_names.h"
#include "timeparse.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQUEST (64 * 1024)
/* Bytes one client may be fed per api_server_handle() before the others
 * get their turn (the rest follows on EPOLLOUT). */
#define FAIR_SHARE (1024 * 1024)

enum tag { TAG_LISTEN = 1, TAG_WAKE, TAG_CLIENT };

enum client_state { C_REQUEST, C_STREAM, C_CLOSING };

struct client {
	enum tag tag;               /* first member: epoll data points here */
	int fd;
	struct client *prev, *next;
	enum client_state state;
	char *req;
	size_t req_len;
	bool rd_eof;
	uint32_t events;            /* epoll interest */
	struct fe_buf out;
	size_t out_off;
	struct observer_reader *reader;
	struct fe_filters *filters;
	struct fe_field_mask *mask;
	bool dead;                  /* closed; freed at the end of api_server_handle() */
};

struct api_server {
	struct api_server_config cfg;
	char *path;
	char *version;
	struct observer *obs;
	int epfd;
	struct { enum tag tag; int fd; } listen, wake;
	bool woken;
	struct client *clients;
	struct client *dead;        /* closed during this api_server_handle() */
	struct api_server_stats st;
};

/* --- small helpers ----------------------------------------------------------------- */

static int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int buf_printf(struct fe_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int buf_printf(struct fe_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(tmp))
		return fe_buf_append(b, tmp, (size_t)n);
	char *big = malloc((size_t)n + 1);
	if (!big)
		return -1;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int rc = fe_buf_append(b, big, (size_t)n);
	free(big);
	return rc;
}

/* A double as a JSON number: the shortest fixed-point form that reads
 * back the same (rates are far from the exponent range). */
static int buf_double(struct fe_buf *b, double v)
{
	char tmp[64];
	for (int p = 0; p <= 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*f", p, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	return fe_buf_append(b, tmp, strlen(tmp));
}

static int ep_mod(struct api_server *s, int op, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };
	return epoll_ctl(s->epfd, op, fd, &ev);
}

/* --- socket setup -------------------------------------------------------------------- */

static int mkdir_p(const char *dir, char *err, size_t errlen)
{
	char tmp[sizeof(((struct sockaddr_un *)0)->sun_path)];
	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return errf(err, errlen, "creating %s: %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return errf(err, errlen, "creating %s: %s", tmp, strerror(errno));
	return 0;
}

static int resolve_group(const char *name, gid_t *gid, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(name, &end, 10);
	if (*name && !*end && !errno) {
		*gid = (gid_t)v;
		return 0;
	}
	struct group *g = getgrnam(name);
	if (!g)
		return errf(err, errlen, "socket group \"%s\" does not exist", name);
	*gid = g->gr_gid;
	return 0;
}

static int open_listener(struct api_server *s, const char *group, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(s->path) >= sizeof(sa.sun_path))
		return errf(err, errlen, "socket path %s is too long (max %zu bytes)", s->path,
		            sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, s->path);
	char *slash = strrchr(sa.sun_path, '/');
	if (slash && slash != sa.sun_path) {
		*slash = '\0';
		if (mkdir_p(sa.sun_path, err, errlen))
			return -1;
		*slash = '/';
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errf(err, errlen, "socket: %s", strerror(errno));
	struct stat stt;
	if (lstat(s->path, &stt) == 0) {
		if (!S_ISSOCK(stt.st_mode)) {
			close(fd);
			return errf(err, errlen, "%s exists and is not a socket", s->path);
		}
		/* a live server answers: leave it alone */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			close(fd);
			errf(err, errlen, "%s is in use by another flowd (--socket PATH to use another)", s->path);
			errno = EADDRINUSE;
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(s->path);
	}
	/* created with the final mode: no window where it is wider */
	mode_t mode = s->cfg.mode ? s->cfg.mode : 0660;
	mode_t old = umask((mode_t)(~mode & 0777));
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc) {
		int e = errno;
		close(fd);
		return errf(err, errlen, "binding %s: %s", s->path, strerror(e));
	}
	if (chmod(s->path, mode)) {
		int e = errno;
		close(fd);
		unlink(s->path);
		return errf(err, errlen, "chmod %s: %s", s->path, strerror(e));
	}
	if (group) {
		gid_t gid = 0;
		int bad = resolve_group(group, &gid, err, errlen);
		if (!bad && chown(s->path, (uid_t)-1, gid))
			bad = errf(err, errlen, "chown %s: %s", s->path, strerror(errno));
		if (bad) {
			close(fd);
			unlink(s->path);
			return -1;
		}
	}
	if (listen(fd, 64)) {
		int e = errno;
		close(fd);
		unlink(s->path);
		return errf(err, errlen, "listen on %s: %s", s->path, strerror(e));
	}
	s->listen.fd = fd;
	return 0;
}

static uint64_t wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * A record entered the ring. Streaming clients take it into their buffers
 * right away, so a burst larger than the ring between two loop iterations
 * is absorbed by the client buffers; only a client whose buffer stays full
 * (it does not read) falls behind in the ring. The writing happens in
 * api_server_handle(), woken through the eventfd.
 */
static bool client_fill(struct api_server *s, struct client *c, uint64_t now_ns, bool *waiting);
static bool client_flush(struct api_server *s, struct client *c);

static void on_record(void *user, const struct fe_record *rec)
{
	(void)rec;
	struct api_server *s = user;
	if (!s->clients)
		return;
	uint64_t now_ns = 0;
	for (struct client *c = s->clients, *next; c; c = next) {
		next = c->next;
		if (c->state != C_STREAM || c->out.len - c->out_off >= s->cfg.client_buffer)
			continue;
		if (!now_ns)
			now_ns = wall_now();
		bool waiting;
		if (!client_fill(s, c, now_ns, &waiting))
			continue;
		/* full: hand what is there to the kernel now, then take more */
		if (!waiting && c->state == C_STREAM && !(c->events & EPOLLOUT) && client_flush(s, c))
			client_fill(s, c, now_ns, &waiting);
	}
	if (s->woken)
		return;
	uint64_t one = 1;
	if (write(s->wake.fd, &one, sizeof(one)) == sizeof(one))
		s->woken = true;
}

struct api_server *api_server_new(const struct api_server_config *cfg, struct observer *obs,
                                  char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	struct api_server *s = calloc(1, sizeof(*s));
	if (!s) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	if (!s->cfg.max_clients)
		s->cfg.max_clients = 64;
	if (!s->cfg.client_buffer)
		s->cfg.client_buffer = 256 * 1024;
	s->obs = obs;
	s->epfd = s->listen.fd = s->wake.fd = -1;
	s->listen.tag = TAG_LISTEN;
	s->wake.tag = TAG_WAKE;
	s->path = strdup(cfg->path ? cfg->path : API_DEFAULT_SOCKET);
	s->version = strdup(cfg->version ? cfg->version : "flowd");
	if (!s->path || !s->version) {
		errf(err, errlen, "out of memory");
		goto fail;
	}
	s->cfg.path = s->path;
	s->cfg.version = s->version;
	s->cfg.group = NULL; /* used at bind time only */
	if (open_listener(s, cfg->group, err, errlen)) {
		int e = errno;
		api_server_free(s);
		errno = e;
		return NULL;
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->epfd < 0 || s->wake.fd < 0 || ep_mod(s, EPOLL_CTL_ADD, s->listen.fd, EPOLLIN, &s->listen) ||
	    ep_mod(s, EPOLL_CTL_ADD, s->wake.fd, EPOLLIN, &s->wake)) {
		errf(err, errlen, "epoll/eventfd: %s", strerror(errno));
		goto fail;
	}
	if (observer_add_sink(obs, on_record, s)) {
		errf(err, errlen, "observer has no room for another sink");
		goto fail;
	}
	return s;
fail:
	api_server_free(s);
	return NULL;
}

/* --- clients -------------------------------------------------------------------------- */

static void client_destroy(struct client *c)
{
	observer_reader_free(c->reader);
	fe_filters_free(c->filters);
	fe_field_mask_free(c->mask);
	fe_buf_free(&c->out);
	free(c->req);
	free(c);
}

/* Unlink and close now; free later, as events of the current epoll batch
 * may still point to it. */
static void client_close(struct api_server *s, struct client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->st.clients--;
	close(c->fd); /* also removes it from the epoll set */
	observer_reader_free(c->reader);
	c->reader = NULL;
	c->dead = true;
	c->next = s->dead;
	s->dead = c;
}

static void client_interest(struct api_server *s, struct client *c, uint32_t events)
{
	if (events == c->events)
		return;
	c->events = events;
	ep_mod(s, EPOLL_CTL_MOD, c->fd, events, c);
}

/* Write what is buffered. false: the client is gone (closed here). */
static bool client_flush(struct api_server *s, struct client *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			client_close(s, c);
			return false;
		}
		c->out_off += (size_t)n;
		s->st.bytes_sent += (uint64_t)n;
	}
	if (c->out_off == c->out.len) {
		c->out.len = c->out_off = 0;
		if (c->state == C_CLOSING) {
			client_close(s, c);
			return false;
		}
	}
	uint32_t ev = (c->rd_eof ? 0 : EPOLLIN) | (c->out.len ? EPOLLOUT : 0);
	client_interest(s, c, ev);
	return true;
}

static void client_error(struct api_server *s, struct client *c, const char *msg)
{
	c->out.len = c->out_off = 0;
	fe_buf_append(&c->out, "{\"error\":", 9);
	fe_json_append_string(&c->out, msg);
	fe_buf_append(&c->out, "}\n", 2);
	c->state = C_CLOSING;
	s->st.requests_bad++;
}

/* Move records from the client's reader into its buffer while it has room.
 * false: the client was closed (out of memory). */
static bool client_fill(struct api_server *s, struct client *c, uint64_t now_ns, bool *waiting)
{
	if (c->out_off) { /* keep the unsent tail at the front */
		memmove(c->out.data, c->out.data + c->out_off, c->out.len - c->out_off);
		c->out.len -= c->out_off;
		c->out_off = 0;
	}
	*waiting = false;
	while (c->state == C_STREAM && c->out.len < s->cfg.client_buffer) {
		struct fe_record rec;
		enum observer_read r = observer_reader_next(c->reader, &rec, now_ns);
		if (r == OBS_WAIT) {
			*waiting = true;
			break;
		}
		if (r == OBS_DONE) {
			c->state = C_CLOSING;
			break;
		}
		size_t at = c->out.len;
		if (fe_record_to_json_masked(&rec, c->mask, &c->out)) {
			c->out.len = at; /* out of memory: this client cannot be served */
			client_close(s, c);
			return false;
		}
		s->st.records_sent++;
		if (rec.kind == FE_REC_LOST && rec.lost.source == FE_LOST_HUBBLE_RING_BUFFER)
			s->st.lost_sent += rec.lost.num_events_lost;
	}
	return true;
}

/* Feed the client and write, until the socket is full, the reader waits or
 * the client had its share of this round. */
static void client_pump(struct api_server *s, struct client *c, uint64_t now_ns)
{
	size_t fed = 0;
	for (;;) {
		size_t before = c->out.len - c->out_off;
		bool waiting;
		if (!client_fill(s, c, now_ns, &waiting))
			return;
		fed += c->out.len - before;
		if (!client_flush(s, c))
			return;           /* gone, or finished and closed */
		if (c->state != C_STREAM || c->out.len || waiting)
			return;           /* EPOLLOUT or the next record resumes it */
		if (fed >= FAIR_SHARE) {  /* let the others run; resume on EPOLLOUT */
			client_interest(s, c, (c->rd_eof ? 0 : EPOLLIN) | EPOLLOUT);
			return;
		}
	}
}

static bool filter_match(void *user, const struct fe_record *rec)
{
	return fe_filters_match(user, rec);
}

static int get_u64(json_t *v, const char *key, uint64_t *out, char *err, size_t errlen)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v)) { /* protojson writes 64-bit integers as strings */
		const char *s = json_string_value(v);
		char *end;
		errno = 0;
		unsigned long long x = strtoull(s, &end, 10);
		if (*s && *s != '-' && !*end && !errno) {
			*out = x;
			return 0;
		}
	}
	return errf(err, errlen, "\"%s\" must be a non-negative integer", key);
}

static int get_time(json_t *v, const char *key, uint64_t *out, char *err, size_t errlen)
{
	if (!json_is_string(v) || fe_parse_rfc3339(json_string_value(v), out))
		return errf(err, errlen, "\"%s\" must be an RFC 3339 time (2025-02-14T10:00:00Z)", key);
	if (*out == 0)
		*out = 1; /* the epoch itself still means "set" */
	return 0;
}

/* Parse a flows request into the client's reader. */
static int start_flows(struct api_server *s, struct client *c, json_t *root, char *err, size_t errlen)
{
	struct observer_query q = { 0 };
	bool all = false, have_last = false, have_first = false;
	const char *k;
	json_t *v;
	c->filters = fe_filters_new();
	if (!c->filters)
		return errf(err, errlen, "out of memory");
	json_object_foreach(root, k, v) {
		if (!strcmp(k, "request")) {
			continue;
		} else if (!strcmp(k, "last")) {
			if (get_u64(v, k, &q.last, err, errlen))
				return -1;
			have_last = q.last != 0;
		} else if (!strcmp(k, "first")) {
			if (get_u64(v, k, &q.first, err, errlen))
				return -1;
			have_first = q.first != 0;
		} else if (!strcmp(k, "all")) {
			if (!json_is_boolean(v))
				return errf(err, errlen, "\"all\" must be true or false");
			all = json_is_true(v);
		} else if (!strcmp(k, "follow")) {
			if (!json_is_boolean(v))
				return errf(err, errlen, "\"follow\" must be true or false");
			q.follow = json_is_true(v);
		} else if (!strcmp(k, "since")) {
			if (!json_is_null(v) && get_time(v, k, &q.since_ns, err, errlen))
				return -1;
		} else if (!strcmp(k, "until")) {
			if (!json_is_null(v) && get_time(v, k, &q.until_ns, err, errlen))
				return -1;
		} else if (!strcmp(k, "filters")) {
			if (json_is_null(v))
				continue;
			char *txt = json_dumps(v, JSON_COMPACT);
			if (!txt)
				return errf(err, errlen, "out of memory");
			int rc = fe_filters_from_json(c->filters, txt, strlen(txt), err, errlen);
			free(txt);
			if (rc)
				return -1;
		} else if (!strcmp(k, "field_mask")) {
			if (json_is_null(v))
				continue;
			if (!json_is_array(v))
				return errf(err, errlen, "\"field_mask\" must be an array of paths");
			size_t n = json_array_size(v);
			const char **paths = calloc(n ? n : 1, sizeof(*paths));
			if (!paths)
				return errf(err, errlen, "out of memory");
			for (size_t i = 0; i < n; i++) {
				paths[i] = json_string_value(json_array_get(v, i));
				if (!paths[i]) {
					free(paths);
					return errf(err, errlen, "\"field_mask\" must be an array of paths");
				}
			}
			int rc = n ? fe_field_mask_new(paths, n, &c->mask, err, errlen) : 0;
			free(paths);
			if (rc)
				return -1;
		} else {
			return errf(err, errlen, "unknown request field \"%s\"", k);
		}
	}
	/* Hubble's rules (hubble.md §4.1) */
	if (have_first && (have_last || all))
		return errf(err, errlen, "first cannot be combined with last or all");
	if (have_first && q.follow)
		return errf(err, errlen, "first cannot be specified with follow");
	if (all)
		q.last = UINT64_MAX;
	if (fe_filters_finish(c->filters, err, errlen))
		return -1;
	q.match = filter_match;
	q.match_user = c->filters;
	c->reader = observer_reader_new(s->obs, &q);
	if (!c->reader)
		return errf(err, errlen, "out of memory");
	return 0;
}

/* A daemon request (api_command_fn). true: answered. */
static bool run_command(struct api_server *s, struct client *c, const char *kind, json_t *root)
{
	struct ucred cred = { .uid = (uid_t)-1 };
	socklen_t len = sizeof(cred);
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		cred.uid = (uid_t)-1;
	char *req = json_dumps(root, JSON_COMPACT);
	size_t at = c->out.len;
	int rc = req ? s->cfg.command(s->cfg.command_user, kind, req, cred.uid, &c->out) : -1;
	free(req);
	if (rc)
		c->out.len = at;
	return rc == 0;
}

static void handle_request(struct api_server *s, struct client *c, uint64_t now_ns)
{
	char err[512] = "";
	json_error_t je;
	json_t *root = json_loadb(c->req, c->req_len, JSON_REJECT_DUPLICATES, &je);
	free(c->req);
	c->req = NULL;
	c->req_len = 0;
	if (!root || !json_is_object(root)) {
		snprintf(err, sizeof(err), "request is not a JSON object%s%s", root ? "" : ": ",
		         root ? "" : je.text);
		client_error(s, c, err);
		json_decref(root);
		return;
	}
	const char *kind = json_string_value(json_object_get(root, "request"));
	if (kind && !strcmp(kind, "status")) {
		if (json_object_size(root) != 1) {
			client_error(s, c, "a status request has no other fields");
		} else {
			s->st.requests_status++;
			if (api_server_status_json(s, now_ns, &c->out) || fe_buf_append(&c->out, "\n", 1))
				client_error(s, c, "out of memory");
			else
				c->state = C_CLOSING;
		}
	} else if (kind && !strcmp(kind, "flows")) {
		if (start_flows(s, c, root, err, sizeof(err))) {
			client_error(s, c, err);
		} else {
			s->st.requests_flows++;
			c->state = C_STREAM;
		}
	} else if (kind && s->cfg.command && run_command(s, c, kind, root)) {
		c->state = C_CLOSING;
	} else {
		client_error(s, c, "\"request\" must be \"flows\" or \"status\"");
	}
	json_decref(root);
}

/* false: the client was closed */
static bool client_read(struct api_server *s, struct client *c, uint64_t now_ns)
{
	char tmp[4096];
	for (;;) {
		ssize_t n = recv(c->fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return true;
			client_close(s, c);
			return false;
		}
		if (n == 0) {
			c->rd_eof = true;
			if (c->state == C_REQUEST) {
				if (!c->req_len) {
					client_close(s, c);
					return false;
				}
				handle_request(s, c, now_ns); /* a request without newline */
			}
			return true;
		}
		if (c->state != C_REQUEST)
			continue; /* one request per connection: the rest is ignored */
		char *nl = memchr(tmp, '\n', (size_t)n);
		size_t take = nl ? (size_t)(nl - tmp) : (size_t)n;
		if (c->req_len + take > MAX_REQUEST) {
			client_error(s, c, "request longer than 64 KiB");
			return true;
		}
		char *r = realloc(c->req, c->req_len + take + 1);
		if (!r) {
			client_close(s, c);
			return false;
		}
		c->req = r;
		memcpy(c->req + c->req_len, tmp, take);
		c->req_len += take;
		c->req[c->req_len] = '\0';
		if (nl)
			handle_request(s, c, now_ns);
	}
}

static void accept_clients(struct api_server *s)
{
	for (;;) {
		int fd = accept4(s->listen.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or a transient error (EMFILE...): try again later */
		s->st.connections++;
		if (s->st.clients >= s->cfg.max_clients) {
			static const char msg[] = "{\"error\":\"too many clients\"}\n";
			if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* nothing more to do for it */
			}
			close(fd);
			s->st.rejected++;
			continue;
		}
		struct client *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->tag = TAG_CLIENT;
		c->fd = fd;
		c->events = EPOLLIN;
		if (ep_mod(s, EPOLL_CTL_ADD, fd, c->events, c)) {
			close(fd);
			free(c);
			continue;
		}
		c->next = s->clients;
		if (s->clients)
			s->clients->prev = c;
		s->clients = c;
		s->st.clients++;
	}
}

static void client_event(struct api_server *s, struct client *c, uint32_t events, uint64_t now_ns)
{
	if (events & EPOLLERR) {
		client_close(s, c);
		return;
	}
	if ((events & EPOLLIN) && !c->rd_eof && !client_read(s, c, now_ns))
		return;
	if (events & EPOLLHUP) { /* the peer is gone: nobody to write to */
		client_close(s, c);
		return;
	}
	if (c->state == C_STREAM)
		client_pump(s, c, now_ns);
	else
		client_flush(s, c);
}

int api_server_handle(struct api_server *s, uint64_t now_ns)
{
	struct epoll_event evs[32];
	int n = epoll_wait(s->epfd, evs, 32, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n; i++) {
		enum tag *tag = evs[i].data.ptr;
		if (*tag == TAG_LISTEN) {
			accept_clients(s);
		} else if (*tag == TAG_WAKE) {
			uint64_t v;
			if (read(s->wake.fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				return -1;
			s->woken = false;
			struct client *c = s->clients, *next;
			for (; c; c = next) {
				next = c->next;
				/* one whose socket is full resumes on EPOLLOUT */
				if (c->events & EPOLLOUT)
					continue;
				if (c->state == C_STREAM)
					client_pump(s, c, now_ns);
				else if (c->state == C_CLOSING)
					client_flush(s, c); /* finished while being fed */
			}
		} else {
			struct client *c = (struct client *)tag;
			if (!c->dead) /* closed by an earlier event of this batch? */
				client_event(s, c, evs[i].events, now_ns);
		}
	}
	while (s->dead) {
		struct client *c = s->dead;
		s->dead = c->next;
		client_destroy(c);
	}
	return 0;
}

int api_server_fd(const struct api_server *s)
{
	return s->epfd;
}

void api_server_free(struct api_server *s)
{
	if (!s)
		return;
	while (s->clients)
		client_close(s, s->clients);
	while (s->dead) {
		struct client *c = s->dead;
		s->dead = c->next;
		client_destroy(c);
	}
	if (s->listen.fd >= 0) {
		close(s->listen.fd);
		unlink(s->path);
	}
	if (s->wake.fd >= 0)
		close(s->wake.fd);
	if (s->epfd >= 0)
		close(s->epfd);
	free(s->path);
	free(s->version);
	free(s);
}

void api_server_get_stats(const struct api_server *s, struct api_server_stats *st)
{
	*st = s->st;
}

int api_server_status_json(struct api_server *s, uint64_t now_ns, struct fe_buf *out)
{
	struct observer_stats os;
	observer_get_stats(s->obs, now_ns, &os);
	int rc = 0;
	/* Hubble's ServerStatusResponse in protojson: 64-bit numbers as
	 * strings, zero values left out. */
	rc |= fe_buf_append(out, "{", 1);
	const char *sep = "";
#define U64_FIELD(name, v)                                                                    \
	do {                                                                                  \
		if (v) {                                                                      \
			rc |= buf_printf(out, "%s\"" name "\":\"%llu\"", sep, (unsigned long long)(v)); \
			sep = ",";                                                            \
		}                                                                             \
	} while (0)
	U64_FIELD("num_flows", os.num_flows);
	U64_FIELD("max_flows", os.max_flows);
	U64_FIELD("seen_flows", os.seen_flows);
	U64_FIELD("uptime_ns", os.uptime_ns);
#undef U64_FIELD
	rc |= buf_printf(out, "%s\"version\":", sep);
	rc |= fe_json_append_string(out, s->version);
	if (os.flows_rate > 0) {
		rc |= buf_printf(out, ",\"flows_rate\":");
		rc |= buf_double(out, os.flows_rate);
	}
	/* flowd additions: always present */
	rc |= buf_printf(out, ",\"lost_events\":{");
	for (int src = 1; src < 4; src++)
		rc |= buf_printf(out, "%s\"%s\":\"%llu\"", src > 1 ? "," : "",
		                 fe_enum_name(&fe_enum_lost_source, (uint32_t)src),
		                 (unsigned long long)os.lost[src]);
	rc |= buf_printf(out, "},\"api\":{\"socket\":");
	rc |= fe_json_append_string(out, s->path);
	rc |= buf_printf(out,
	                 ",\"clients\":%llu,\"connections\":\"%llu\",\"rejected\":\"%llu\","
	                 "\"requests_flows\":\"%llu\",\"requests_status\":\"%llu\",\"requests_bad\":\"%llu\","
	                 "\"records_sent\":\"%llu\",\"bytes_sent\":\"%llu\"}",
	                 (unsigned long long)s->st.clients, (unsigned long long)s->st.connections,
	                 (unsigned long long)s->st.rejected, (unsigned long long)s->st.requests_flows,
	                 (unsigned long long)s->st.requests_status,
	                 (unsigned long long)s->st.requests_bad, (unsigned long long)s->st.records_sent,
	                 (unsigned long long)s->st.bytes_sent);
	if (s->cfg.status)
		rc |= s->cfg.status(s->cfg.status_user, out);
	rc |= fe_buf_append(out, "}", 1);
	return rc ? -1 : 0;
}

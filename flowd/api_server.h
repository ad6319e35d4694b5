/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowd's Unix-socket API: `flowctl observe` and `flowctl status` talk to
 * it. One request per connection, one JSON line; the answer is NDJSON
 * (flows: exactly the exporter's JSON lines; status: one object), then
 * flowd closes the connection (except when following). Filtering happens
 * here, against the observer ring, with lib/filter.h. The protocol is
 * described in the README ("Socket API").
 *
 * Never blocks: sockets are non-blocking, each client has a bounded output
 * buffer, and a client is fed from the ring only while its buffer has room.
 * A client that does not read falls behind in the ring; what the ring
 * overwrites before the client got it is counted and announced to that
 * client as a HUBBLE_RING_BUFFER lost-events record (observer.h), exactly
 * as Hubble does for a slow GetFlows stream. Other clients and flowd are
 * not affected.
 *
 * Event loop integration: the server keeps its own epoll set (listening
 * socket, clients, a wake-up eventfd) and exposes it as one descriptor:
 *
 *   add api_server_fd(s) to the main epoll with EPOLLIN;
 *   when it is readable: api_server_handle(s, now);
 *
 * New records in the observer wake the server through its sink, so the
 * main loop needs nothing else.
 */
#ifndef FLOWD_API_SERVER_H
#define FLOWD_API_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "flow_event.h"
#include "observer.h"

#define API_DEFAULT_SOCKET "/run/flowd/flowd.sock"

struct api_server;

/*
 * Extra members of the status answer, from the daemon: append
 * `"key":value` pairs, each preceded by a comma, to out (interfaces, BPF
 * programs, exporter, counters...). 0, or -1 on allocation failure.
 */
typedef int (*api_status_fn)(void *user, struct fe_buf *out);

/*
 * Requests other than "flows" and "status" ({"request":"NAME",...}, e.g.
 * `flowctl policy load`'s "policy_load"), answered by the daemon: append
 * the answer (JSON lines, each ending in '\n') to out. request: the whole
 * request object as compact JSON; peer_uid: the client's user
 * (SO_PEERCRED). Returns 0, or -1 when NAME is not a request it knows.
 */
typedef int (*api_command_fn)(void *user, const char *name, const char *request, uid_t peer_uid,
                              struct fe_buf *out);

struct api_server_config {
	const char *path;          /* NULL: API_DEFAULT_SOCKET; its directory is created */
	mode_t mode;               /* socket file mode; 0: 0660 */
	const char *group;         /* group name or number owning the socket; NULL: unchanged */
	size_t max_clients;        /* 0: 64; beyond, new connections get an error line */
	size_t client_buffer;      /* output bytes held per client; 0: 256 KiB */
	const char *version;       /* "flowd 0.1.0" in the status answer */
	api_status_fn status;      /* NULL: no extra status members */
	void *status_user;
	api_command_fn command;    /* NULL: only flows and status requests */
	void *command_user;
};

/* Binds and listens (a stale socket file is replaced; one a live flowd
 * answers on is not: errno is then EADDRINUSE). NULL with a message in err. */
struct api_server *api_server_new(const struct api_server_config *cfg, struct observer *obs,
                                  char *err, size_t errlen);
/* Closes every client and removes the socket file. */
void api_server_free(struct api_server *s);

int api_server_fd(const struct api_server *s);

/* Accept, read requests, stream records, write, close finished or gone
 * clients. now_ns: wall clock. Never blocks. 0, or -1 when the server's
 * own epoll failed (fatal). */
int api_server_handle(struct api_server *s, uint64_t now_ns);

struct api_server_stats {
	uint64_t clients;          /* connected now */
	uint64_t connections;      /* accepted since start */
	uint64_t rejected;         /* refused: too many clients */
	uint64_t requests_flows, requests_status, requests_bad;
	uint64_t records_sent;     /* flows and lost-event records written to clients */
	uint64_t lost_sent;        /* HUBBLE_RING_BUFFER records missed by clients (sum of notices) */
	uint64_t bytes_sent;
};
void api_server_get_stats(const struct api_server *s, struct api_server_stats *st);

/* The status answer's JSON object (without newline), as sent to clients:
 * also usable by a future metrics endpoint. */
int api_server_status_json(struct api_server *s, uint64_t now_ns, struct fe_buf *out);

#endif /* FLOWD_API_SERVER_H */

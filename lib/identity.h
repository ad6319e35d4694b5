/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Identities without Kubernetes: an identities file (YAML, README
 * "Identities") names addresses and CIDRs with a namespace, a pod, workloads
 * and labels, and gives each label set a numeric security identity, like
 * Cilium's. Flows then carry `source`/`destination` endpoints Hubble tools
 * understand, and policies select peers by label.
 *
 * Identities (numbers as in Cilium, hubble.md §2.8):
 *   1 host       addresses of this machine, found on its interfaces
 *                (getifaddrs) plus `host.addresses`; labels reserved:host
 *   2 world      every address nothing else matches; labels reserved:world
 *   >= 256       `endpoints`: one identity per distinct label set (all
 *                replicas with the same labels share it, as in Cilium)
 *   >= 16777216  `networks`: CIDR identities, labels cidr:<prefix> +
 *                reserved:world (+ the entry's own labels)
 * Numbers not given in the file are derived from a hash of the label set,
 * so they stay the same across reloads and machines.
 *
 * A database is immutable once built: share it between threads freely, and
 * replace it as a whole on reload (identity_store). Lookups are a longest
 * prefix match (lib/lpm.h): a few hash probes.
 */
#ifndef FLOWD_IDENTITY_H
#define FLOWD_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_event.h"
#include "lpm.h"

#define IDENTITY_ID_HOST 1u
#define IDENTITY_ID_WORLD 2u
#define IDENTITY_USER_MIN 256u          /* endpoint identities */
#define IDENTITY_USER_ALLOC_MAX 65535u  /* derived ones stay below (Cilium's cluster-local range) */
#define IDENTITY_USER_MAX 16777215u     /* explicit ones may use up to here */
#define IDENTITY_CIDR_MIN 16777216u     /* 1 << 24, Cilium's local (CIDR) scope */
#define IDENTITY_CIDR_MAX 33554431u

enum identity_kind {
	IDENTITY_WORLD = 0,
	IDENTITY_HOST,
	IDENTITY_ENDPOINT,    /* `endpoints` entry */
	IDENTITY_NETWORK,     /* `networks` entry (CIDR identity) */
};

/* One security identity: a label set and its number. */
struct identity {
	uint32_t id;
	enum identity_kind kind;
	const char *const *labels;   /* "source:key=value", sorted (strcmp) */
	size_t n_labels;
};

/* What an address resolves to: an identity plus per-entry names. */
struct identity_endpoint {
	const struct identity *identity;
	const char *namespace_;      /* NULL when none */
	const char *pod_name;        /* NULL when none */
	const struct fe_workload *workloads;
	size_t n_workloads;
	unsigned line;               /* entry's line in the file; 0 = host/world */
};

struct identity_db;

struct identity_opts {
	bool detect_host;            /* add the addresses of this machine's
	                              * interfaces (getifaddrs) as `host` */
	/* More host addresses (tests; flowd --host-address). */
	const char *const *host_addrs;
	size_t n_host_addrs;
};

/* Build from a file / text. On error returns NULL and writes every problem
 * found as "FILE:LINE:COLUMN: message" lines into err. opts NULL: detect
 * host addresses. */
struct identity_db *identity_db_load_file(const char *path, const struct identity_opts *opts,
                                          char *err, size_t errlen);
struct identity_db *identity_db_load_string(const char *text, size_t len, const char *fname,
                                            const struct identity_opts *opts,
                                            char *err, size_t errlen);
/* Only host and world (no identities file). */
struct identity_db *identity_db_default(const struct identity_opts *opts, char *err,
                                        size_t errlen);

/* Reference counting (atomic): a db lives until its last user lets go. */
struct identity_db *identity_db_ref(struct identity_db *db);
void identity_db_unref(struct identity_db *db);

/* Longest-prefix match; never NULL (world when nothing matches). */
const struct identity_endpoint *identity_lookup(const struct identity_db *db, uint8_t family,
                                                const uint8_t addr[16]);
/* The endpoint of every address of prefix n that no longer entry claims
 * (longest entry containing n; world when none). */
const struct identity_endpoint *identity_lookup_net(const struct identity_db *db,
                                                    const struct ipnet *n);
/* Same for an address in text form; NULL if text is not an address. */
const struct identity_endpoint *identity_lookup_str(const struct identity_db *db, const char *ip);

/* All identities (sorted by number), and one by number (NULL if unknown). */
size_t identity_db_count(const struct identity_db *db);
const struct identity *identity_db_at(const struct identity_db *db, size_t i);
const struct identity *identity_db_find(const struct identity_db *db, uint32_t id);

/* Every prefix with its endpoint (file entries and host addresses; not the
 * world fallback). Stops when fn returns non-zero and returns that value. */
int identity_db_walk(const struct identity_db *db,
                     int (*fn)(void *user, const struct ipnet *n, const struct identity_endpoint *ep),
                     void *user);

/* Does the label list (strings "source:key=value" or "source:key") hold a
 * label with this key? source NULL, "" or "any" matches any source; value
 * NULL matches any value. When found and val_out != NULL, *val_out points
 * at the label's value ("" when it has none) inside the label string. */
bool identity_labels_find(const char *const *labels, size_t n, const char *source,
                          const char *key, const char **val_out);

/* Fill an event endpoint (ev->source / ev->destination) for an address:
 * identity, namespace, labels, pod_name, workloads, copied into the
 * event's arena (events outlive reloads). Returns 0 or -ENOMEM. */
int identity_fill_endpoint(const struct identity_db *db, struct flow_event *ev,
                           struct fe_endpoint *ep, uint8_t family, const uint8_t addr[16]);
/* Both endpoints from ev->ip_src / ev->ip_dst (text); untouched when the
 * event has no IP. Returns 0 or -ENOMEM. */
int identity_fill_event(const struct identity_db *db, struct flow_event *ev);

/* A reloadable slot holding the current db (thread-safe). get() returns a
 * reference the caller must unref. reload() parses the file into a new db
 * and swaps it in only if it is valid: on error the old one stays and err
 * says why. */
struct identity_store;
struct identity_store *identity_store_new(struct identity_db *initial);  /* takes the ref */
void identity_store_free(struct identity_store *s);
struct identity_db *identity_store_get(struct identity_store *s);
int identity_store_reload(struct identity_store *s, const char *path,
                          const struct identity_opts *opts, char *err, size_t errlen);

/* Label text helpers shared with the policy parser. */
/* Parse "source:key=value" / "key=value" (source k8s) into parts written to
 * the buffers; returns 0 or -1 with a message. Validates the Kubernetes
 * label key/value syntax. */
int identity_label_parse(const char *s, char *source, size_t slen, char *key, size_t klen,
                         char *value, size_t vlen, char *err, size_t errlen);
/* Validate a label key (optionally "source:"-prefixed) and value. */
int identity_label_check(const char *key, const char *value, char *err, size_t errlen);

#endif /* FLOWD_IDENTITY_H */

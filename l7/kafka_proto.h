/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Kafka wire protocol, internal to l7/kafka*.c.
 *
 * Message bodies are described by small field tables ("schemas", one per API
 * key and direction, covering every version like Kafka's own message JSON
 * files) and decoded by a streaming walker: it consumes bytes as they arrive,
 * skips record batches and other bulk without buffering them, and reports the
 * fields we want (topic names, topic IDs, error codes, acks) through a
 * callback. Per connection and direction the state is a few hundred bytes,
 * whatever the message size.
 */
#ifndef FLOWD_KAFKA_PROTO_H
#define FLOWD_KAFKA_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KAFKA_V_MAX 127              /* "version N and later" */
#define KAFKA_NAME_MAX 255           /* topic names are <= 249 bytes */

/* Field types. Strings, bytes and arrays switch to the compact encodings
 * (unsigned varint length + 1) in flexible versions; structs inside arrays
 * then end with a tagged-field section, which the walker skips. */
enum kop_type {
	KOP_I8 = 1, KOP_I16, KOP_I32, KOP_I64, KOP_UUID,
	KOP_STR,        /* string / nullable string */
	KOP_STR16,      /* string that stays classic in flexible versions (header client_id) */
	KOP_BYTES,      /* bytes / records (nullable) */
	KOP_ARR,        /* array of structs: the ops up to the matching KOP_END */
	KOP_END,
	KOP_PARR,       /* array of a primitive type (elem: KOP_I32, KOP_I64 or KOP_STR) */
	KOP_TAGS,       /* a tagged-field section (request header v2, response header v1) */
	KOP_STOP,       /* nothing we need follows: stop decoding this message */
};

/* What to report from a field. */
enum kop_cap {
	KCAP_NONE = 0,
	KCAP_TOPIC,     /* string: a topic name */
	KCAP_TOPIC_ID,  /* uuid: a topic ID */
	KCAP_ERROR,     /* int16: an error code nested in the message (partition, topic) */
	KCAP_ERROR_TOP, /* int16: a top-level error code (wins over nested ones) */
	KCAP_ACKS,      /* int16: Produce acks (0: no response will come) */
	KCAP_CLIENT_ID, /* request header */
};

struct kop {
	uint8_t type;       /* enum kop_type */
	uint8_t elem;       /* KOP_PARR: element type */
	uint8_t cap;        /* enum kop_cap */
	int8_t vmin, vmax;  /* versions that have the field */
};

struct kafka_api {
	const char *name;            /* lower case, as Cilium/Hubble spell it */
	int8_t max_version;          /* highest version we know the layout of */
	int8_t flexible_from;        /* first flexible version, -1: none */
	const struct kop *req, *resp;/* body schemas, NULL: not decoded */
	uint16_t n_req, n_resp;
};

#define KAFKA_API_KEYS 88            /* 0..87 */

/* NULL for keys we do not know. */
const struct kafka_api *kafka_api(int16_t api_key);
/* Known name or NULL. */
const char *kafka_api_name(int16_t api_key);
/* Request header version (0, 1, 2) for a known key/version; -1 unknown. */
int kafka_request_header_version(int16_t api_key, int16_t api_version);
/* Response header version (0, 1); -1 unknown. */
int kafka_response_header_version(int16_t api_key, int16_t api_version);
bool kafka_flexible(int16_t api_key, int16_t api_version);

/* --- the walker ------------------------------------------------------------ */

struct kwalk;
/* Called for every captured field. s/len for strings (len <= KAFKA_NAME_MAX;
 * longer strings are reported with len = KAFKA_NAME_MAX + 1 and s = NULL),
 * id for uuids, v for integers. elem identifies the array element the field
 * belongs to (fields of one struct share it). */
struct kwalk_field {
	enum kop_cap cap;
	const char *s;
	size_t len;
	bool null;
	const uint8_t *id;
	int64_t v;
	uint32_t elem;
};
typedef void (*kwalk_cb)(void *user, const struct kwalk_field *f);

enum kwalk_status { KW_MORE = 0, KW_DONE = 1, KW_ERROR = -1 };

#define KW_DEPTH 6

struct kwalk {
	const struct kop *ops;
	uint16_t n_ops, pc;
	int16_t version;
	bool flexible;
	uint8_t step;               /* progress inside the current op */
	uint8_t acc[16], acc_len;   /* a fixed-size value split across calls */
	uint32_t uv;                /* unsigned varint in progress */
	uint8_t uv_bytes;
	uint64_t left;              /* bytes the message has left */
	uint64_t skip;              /* bytes to skip before the op continues */
	int64_t count;              /* length of the string being captured */
	int64_t elems;              /* KOP_PARR of strings: elements left */
	uint32_t tags_left;         /* tagged fields left in a section */
	uint8_t tag_step;
	uint8_t tag_ret;            /* step to return to after a tag section */
	char str[KAFKA_NAME_MAX + 1];
	uint16_t str_len;
	struct kwalk_frame { uint16_t begin; uint32_t left; uint32_t elem; } stack[KW_DEPTH];
	uint8_t depth;
	uint32_t elem_seq;
	kwalk_cb cb;
	void *user;
	const char *error;          /* static reason after KW_ERROR */
};

/* Start decoding a message of `len` bytes with ops (versions filtered by
 * `version`; compact encodings when flexible). */
void kwalk_init(struct kwalk *w, const struct kop *ops, size_t n_ops, int16_t version,
                bool flexible, uint64_t len, kwalk_cb cb, void *user);
/* Feed bytes of the message (never more than it has left). *used is set to
 * the bytes consumed: all of n unless the walk ended (KW_DONE / KW_ERROR). */
enum kwalk_status kwalk_feed(struct kwalk *w, const uint8_t *p, size_t n, size_t *used);

#endif /* FLOWD_KAFKA_PROTO_H */

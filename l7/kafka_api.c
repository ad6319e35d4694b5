/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Kafka API keys, their versions and the body layouts flowd decodes.
 *
 * Names: Hubble prints the api_key name Cilium's policy code uses, which is
 * Kafka's name in lower case ("produce", "apiversions"), except key 2 which
 * Cilium calls "offsets" (Kafka: ListOffsets). Cilium's table stops at key 33
 * (it prints the number beyond); we continue with the same rule for every
 * key Kafka defines, and print the number only for keys we do not know.
 *
 * Versions: max_version is the highest version whose layout we know (Apache
 * Kafka's message definitions, 2024); a higher version is framed and reported
 * with its header only, never decoded by guesswork.
 *
 * Layouts: written from the protocol definitions, with only the fields up
 * to the last one we report (topic names and IDs, error codes, acks); a
 * version range per field, like Kafka's own message files.
 */
#include "kafka_proto.h"

#include <stddef.h>

#define A KAFKA_V_MAX
#define OP(t, lo, hi)          { .type = KOP_##t, .vmin = lo, .vmax = hi }
#define CAP(t, lo, hi, c)      { .type = KOP_##t, .cap = KCAP_##c, .vmin = lo, .vmax = hi }
#define PARR(e, lo, hi)        { .type = KOP_PARR, .elem = KOP_##e, .vmin = lo, .vmax = hi }
#define PARR_CAP(e, lo, hi, c) { .type = KOP_PARR, .elem = KOP_##e, .cap = KCAP_##c, .vmin = lo, .vmax = hi }
#define END                    { .type = KOP_END, .vmin = 0, .vmax = A }
#define STOP_V(lo, hi)         { .type = KOP_STOP, .vmin = lo, .vmax = hi }
#define STOP                   STOP_V(0, A)

/* 0 Produce */
static const struct kop produce_req[] = {
	OP(STR, 3, A),                  /* transactional_id */
	CAP(I16, 0, A, ACKS),
	OP(I32, 0, A),                  /* timeout_ms */
	OP(ARR, 0, A),                  /* topic_data */
		CAP(STR, 0, A, TOPIC),
		OP(ARR, 0, A),          /* partition_data */
			OP(I32, 0, A),
			OP(BYTES, 0, A),/* records */
		END,
	END,
	STOP,
};
static const struct kop produce_resp[] = {
	OP(ARR, 0, A),
		CAP(STR, 0, A, TOPIC),
		OP(ARR, 0, A),
			OP(I32, 0, A),          /* index */
			CAP(I16, 0, A, ERROR),
			OP(I64, 0, A),          /* base_offset */
			OP(I64, 2, A),          /* log_append_time_ms */
			OP(I64, 5, A),          /* log_start_offset */
			OP(ARR, 8, A),          /* record_errors */
				OP(I32, 8, A),
				OP(STR, 8, A),
			END,
			OP(STR, 8, A),          /* error_message */
		END,
	END,
	STOP,
};

/* 1 Fetch */
static const struct kop fetch_req[] = {
	OP(I32, 0, 14),                 /* replica_id */
	OP(I32, 0, A),                  /* max_wait_ms */
	OP(I32, 0, A),                  /* min_bytes */
	OP(I32, 3, A),                  /* max_bytes */
	OP(I8, 4, A),                   /* isolation_level */
	OP(I32, 7, A),                  /* session_id */
	OP(I32, 7, A),                  /* session_epoch */
	OP(ARR, 0, A),                  /* topics */
		CAP(STR, 0, 12, TOPIC),
		CAP(UUID, 13, A, TOPIC_ID),
		OP(ARR, 0, A),          /* partitions */
			OP(I32, 0, A),  /* partition */
			OP(I32, 9, A),  /* current_leader_epoch */
			OP(I64, 0, A),  /* fetch_offset */
			OP(I32, 12, A), /* last_fetched_epoch */
			OP(I64, 5, A),  /* log_start_offset */
			OP(I32, 0, A),  /* partition_max_bytes */
		END,
	END,
	STOP,
};
static const struct kop fetch_resp[] = {
	OP(I32, 1, A),                  /* throttle_time_ms */
	CAP(I16, 7, A, ERROR_TOP),
	OP(I32, 7, A),                  /* session_id */
	OP(ARR, 0, A),                  /* responses */
		CAP(STR, 0, 12, TOPIC),
		CAP(UUID, 13, A, TOPIC_ID),
		OP(ARR, 0, A),          /* partitions */
			OP(I32, 0, A),
			CAP(I16, 0, A, ERROR),
			OP(I64, 0, A),  /* high_watermark */
			OP(I64, 4, A),  /* last_stable_offset */
			OP(I64, 5, A),  /* log_start_offset */
			OP(ARR, 4, A),  /* aborted_transactions */
				OP(I64, 4, A),
				OP(I64, 4, A),
			END,
			OP(I32, 11, A), /* preferred_read_replica */
			OP(BYTES, 0, A),/* records */
		END,
	END,
	STOP,
};

/* 2 ListOffsets */
static const struct kop list_offsets_req[] = {
	OP(I32, 0, A),                  /* replica_id */
	OP(I8, 2, A),                   /* isolation_level */
	OP(ARR, 0, A),
		CAP(STR, 0, A, TOPIC),
		OP(ARR, 0, A),
			OP(I32, 0, A),  /* partition_index */
			OP(I32, 4, A),  /* current_leader_epoch */
			OP(I64, 0, A),  /* timestamp */
			OP(I32, 0, 0),  /* max_num_offsets */
		END,
	END,
	STOP,
};
static const struct kop list_offsets_resp[] = {
	OP(I32, 2, A),
	OP(ARR, 0, A),
		CAP(STR, 0, A, TOPIC),
		OP(ARR, 0, A),
			OP(I32, 0, A),
			CAP(I16, 0, A, ERROR),
			PARR(I64, 0, 0),/* old_style_offsets */
			OP(I64, 1, A),  /* timestamp */
			OP(I64, 1, A),  /* offset */
			OP(I32, 4, A),  /* leader_epoch */
		END,
	END,
	STOP,
};

/* 3 Metadata */
static const struct kop metadata_req[] = {
	OP(ARR, 0, A),                  /* topics; null (v1+): all topics */
		CAP(UUID, 10, A, TOPIC_ID),
		CAP(STR, 0, A, TOPIC),
	END,
	STOP,
};
static const struct kop metadata_resp[] = {
	OP(I32, 3, A),
	OP(ARR, 0, A),                  /* brokers */
		OP(I32, 0, A),
		OP(STR, 0, A),          /* host */
		OP(I32, 0, A),
		OP(STR, 1, A),          /* rack */
	END,
	OP(STR, 2, A),                  /* cluster_id */
	OP(I32, 1, A),                  /* controller_id */
	OP(ARR, 0, A),                  /* topics */
		CAP(I16, 0, A, ERROR),
		CAP(STR, 0, A, TOPIC),
		CAP(UUID, 10, A, TOPIC_ID),
		OP(I8, 1, A),           /* is_internal */
		OP(ARR, 0, A),          /* partitions */
			CAP(I16, 0, A, ERROR),
			OP(I32, 0, A),  /* partition_index */
			OP(I32, 0, A),  /* leader_id */
			OP(I32, 7, A),  /* leader_epoch */
			PARR(I32, 0, A),/* replica_nodes */
			PARR(I32, 0, A),/* isr_nodes */
			PARR(I32, 5, A),/* offline_replicas */
		END,
		OP(I32, 8, A),          /* topic_authorized_operations */
	END,
	STOP,
};

/* 8 OffsetCommit */
static const struct kop offset_commit_req[] = {
	OP(STR, 0, A),                  /* group_id */
	OP(I32, 1, A),                  /* generation_id */
	OP(STR, 1, A),                  /* member_id */
	OP(STR, 7, A),                  /* group_instance_id */
	OP(I64, 2, 4),                  /* retention_time_ms */
	OP(ARR, 0, A),
		CAP(STR, 0, A, TOPIC),
		OP(ARR, 0, A),
			OP(I32, 0, A),
			OP(I64, 0, A),  /* committed_offset */
			OP(I32, 6, A),  /* committed_leader_epoch */
			OP(I64, 1, 1),  /* commit_timestamp */
			OP(STR, 0, A),  /* committed_metadata */
		END,
	END,
	STOP,
};
static const struct kop offset_commit_resp[] = {
	OP(I32, 3, A),
	OP(ARR, 0, A),
		CAP(STR, 0, A, TOPIC),
		OP(ARR, 0, A),
			OP(I32, 0, A),
			CAP(I16, 0, A, ERROR),
		END,
	END,
	STOP,
};

/* 9 OffsetFetch */
static const struct kop offset_fetch_req[] = {
	OP(STR, 0, 7),                  /* group_id */
	OP(ARR, 0, 7),                  /* topics; null (v2+): all */
		CAP(STR, 0, 7, TOPIC),
		PARR(I32, 0, 7),
	END,
	OP(ARR, 8, A),                  /* groups */
		OP(STR, 8, A),          /* group_id */
		OP(STR, 9, A),          /* member_id */
		OP(I32, 9, A),          /* member_epoch */
		OP(ARR, 8, A),
			CAP(STR, 8, A, TOPIC),
			PARR(I32, 8, A),
		END,
	END,
	STOP,
};
static const struct kop offset_fetch_resp[] = {
	OP(I32, 3, A),
	OP(ARR, 0, 7),
		CAP(STR, 0, 7, TOPIC),
		OP(ARR, 0, 7),
			OP(I32, 0, 7),
			OP(I64, 0, 7),  /* committed_offset */
			OP(I32, 5, 7),  /* committed_leader_epoch */
			OP(STR, 0, 7),  /* metadata */
			CAP(I16, 0, 7, ERROR),
		END,
	END,
	CAP(I16, 2, 7, ERROR_TOP),
	OP(ARR, 8, A),                  /* groups */
		OP(STR, 8, A),
		OP(ARR, 8, A),
			CAP(STR, 8, A, TOPIC),
			OP(ARR, 8, A),
				OP(I32, 8, A),
				OP(I64, 8, A),
				OP(I32, 8, A),
				OP(STR, 8, A),
				CAP(I16, 8, A, ERROR),
			END,
		END,
		CAP(I16, 8, A, ERROR_TOP), /* the group's error */
	END,
	STOP,
};

/* 10 FindCoordinator */
static const struct kop find_coordinator_resp[] = {
	OP(I32, 1, A),
	CAP(I16, 0, 3, ERROR_TOP),
	STOP_V(0, 3),
	OP(ARR, 4, A),                  /* coordinators */
		OP(STR, 4, A),          /* key */
		OP(I32, 4, A),
		OP(STR, 4, A),          /* host */
		OP(I32, 4, A),
		CAP(I16, 4, A, ERROR),
		OP(STR, 4, A),
	END,
	STOP,
};

/* Responses that start with [throttle_time_ms (from version t)] error_code. */
#define THROTTLE_THEN_ERROR(name, t) \
	static const struct kop name[] = { OP(I32, t, A), CAP(I16, 0, A, ERROR_TOP), STOP }
THROTTLE_THEN_ERROR(join_group_resp, 2);
THROTTLE_THEN_ERROR(heartbeat_resp, 1);
THROTTLE_THEN_ERROR(sync_group_resp, 1);
THROTTLE_THEN_ERROR(list_groups_resp, 1);
THROTTLE_THEN_ERROR(init_producer_id_resp, 0);
THROTTLE_THEN_ERROR(add_offsets_to_txn_resp, 0);
THROTTLE_THEN_ERROR(end_txn_resp, 0);
THROTTLE_THEN_ERROR(describe_cluster_resp, 0);
THROTTLE_THEN_ERROR(consumer_group_heartbeat_resp, 0);
THROTTLE_THEN_ERROR(describe_acls_resp, 0);

/* Responses that start with error_code. */
static const struct kop error_first_resp[] = { CAP(I16, 0, A, ERROR_TOP), STOP };

/* 13 LeaveGroup */
static const struct kop leave_group_resp[] = {
	OP(I32, 1, A),
	CAP(I16, 0, A, ERROR_TOP),
	OP(ARR, 3, A),                  /* members */
		OP(STR, 3, A),
		OP(STR, 3, A),
		CAP(I16, 3, A, ERROR),
	END,
	STOP,
};

/* 15 DescribeGroups */
static const struct kop describe_groups_resp[] = {
	OP(I32, 1, A),
	OP(ARR, 0, A),
		CAP(I16, 0, A, ERROR),
		OP(STR, 0, A),          /* group_id */
		OP(STR, 0, A),          /* group_state */
		OP(STR, 0, A),          /* protocol_type */
		OP(STR, 0, A),          /* protocol_data */
		OP(ARR, 0, A),          /* members */
			OP(STR, 0, A),
			OP(STR, 4, A),
			OP(STR, 0, A),
			OP(STR, 0, A),
			OP(BYTES, 0, A),
			OP(BYTES, 0, A),
		END,
		OP(I32, 3, A),
	END,
	STOP,
};

/* 19 CreateTopics */
static const struct kop create_topics_req[] = {
	OP(ARR, 0, A),
		CAP(STR, 0, A, TOPIC),
		OP(I32, 0, A),          /* num_partitions */
		OP(I16, 0, A),          /* replication_factor */
		OP(ARR, 0, A),          /* assignments */
			OP(I32, 0, A),
			PARR(I32, 0, A),
		END,
		OP(ARR, 0, A),          /* configs */
			OP(STR, 0, A),
			OP(STR, 0, A),
		END,
	END,
	STOP,
};
static const struct kop create_topics_resp[] = {
	OP(I32, 2, A),
	OP(ARR, 0, A),
		CAP(STR, 0, A, TOPIC),
		CAP(UUID, 7, A, TOPIC_ID),
		CAP(I16, 0, A, ERROR),
		OP(STR, 1, A),          /* error_message */
		OP(I32, 5, A),
		OP(I16, 5, A),
		OP(ARR, 5, A),          /* configs */
			OP(STR, 5, A),
			OP(STR, 5, A),
			OP(I8, 5, A),
			OP(I8, 5, A),
			OP(I8, 5, A),
		END,
	END,
	STOP,
};

/* 20 DeleteTopics */
static const struct kop delete_topics_req[] = {
	OP(ARR, 6, A),
		CAP(STR, 6, A, TOPIC),
		CAP(UUID, 6, A, TOPIC_ID),
	END,
	PARR_CAP(STR, 0, 5, TOPIC),
	STOP,
};
static const struct kop delete_topics_resp[] = {
	OP(I32, 1, A),
	OP(ARR, 0, A),
		CAP(STR, 0, A, TOPIC),
		CAP(UUID, 6, A, TOPIC_ID),
		CAP(I16, 0, A, ERROR),
		OP(STR, 5, A),
	END,
	STOP,
};

/* 21 DeleteRecords */
static const struct kop delete_records_req[] = {
	OP(ARR, 0, A),
		CAP(STR, 0, A, TOPIC),
		OP(ARR, 0, A),
			OP(I32, 0, A),
			OP(I64, 0, A),
		END,
	END,
	STOP,
};
static const struct kop delete_records_resp[] = {
	OP(I32, 0, A),
	OP(ARR, 0, A),
		CAP(STR, 0, A, TOPIC),
		OP(ARR, 0, A),
			OP(I32, 0, A),
			OP(I64, 0, A),  /* low_watermark */
			CAP(I16, 0, A, ERROR),
		END,
	END,
	STOP,
};

/* 23 OffsetForLeaderEpoch */
static const struct kop offset_for_leader_epoch_req[] = {
	OP(I32, 3, A),                  /* replica_id */
	OP(ARR, 0, A),
		CAP(STR, 0, A, TOPIC),
		OP(ARR, 0, A),
			OP(I32, 0, A),
			OP(I32, 2, A),
			OP(I32, 0, A),
		END,
	END,
	STOP,
};
static const struct kop offset_for_leader_epoch_resp[] = {
	OP(I32, 2, A),
	OP(ARR, 0, A),
		CAP(STR, 0, A, TOPIC),
		OP(ARR, 0, A),
			CAP(I16, 0, A, ERROR),
			OP(I32, 0, A),
			OP(I32, 1, A),
			OP(I64, 0, A),
		END,
	END,
	STOP,
};

/* 24 AddPartitionsToTxn */
static const struct kop add_partitions_to_txn_req[] = {
	OP(ARR, 4, A),                  /* transactions */
		OP(STR, 4, A),
		OP(I64, 4, A),
		OP(I16, 4, A),
		OP(I8, 4, A),           /* verify_only */
		OP(ARR, 4, A),
			CAP(STR, 4, A, TOPIC),
			PARR(I32, 4, A),
		END,
	END,
	OP(STR, 0, 3),                  /* transactional_id */
	OP(I64, 0, 3),
	OP(I16, 0, 3),
	OP(ARR, 0, 3),
		CAP(STR, 0, 3, TOPIC),
		PARR(I32, 0, 3),
	END,
	STOP,
};
static const struct kop add_partitions_to_txn_resp[] = {
	OP(I32, 0, A),
	CAP(I16, 4, A, ERROR_TOP),
	OP(ARR, 4, A),                  /* results_by_transaction */
		OP(STR, 4, A),
		OP(ARR, 4, A),
			CAP(STR, 4, A, TOPIC),
			OP(ARR, 4, A),
				OP(I32, 4, A),
				CAP(I16, 4, A, ERROR),
			END,
		END,
	END,
	OP(ARR, 0, 3),                  /* results_by_topic_v3_and_below */
		CAP(STR, 0, 3, TOPIC),
		OP(ARR, 0, 3),
			OP(I32, 0, 3),
			CAP(I16, 0, 3, ERROR),
		END,
	END,
	STOP,
};

/* 28 TxnOffsetCommit */
static const struct kop txn_offset_commit_req[] = {
	OP(STR, 0, A),                  /* transactional_id */
	OP(STR, 0, A),                  /* group_id */
	OP(I64, 0, A),
	OP(I16, 0, A),
	OP(I32, 3, A),
	OP(STR, 3, A),
	OP(STR, 3, A),
	OP(ARR, 0, A),
		CAP(STR, 0, A, TOPIC),
		OP(ARR, 0, A),
			OP(I32, 0, A),
			OP(I64, 0, A),
			OP(I32, 2, A),
			OP(STR, 0, A),
		END,
	END,
	STOP,
};
static const struct kop txn_offset_commit_resp[] = {
	OP(I32, 0, A),
	OP(ARR, 0, A),
		CAP(STR, 0, A, TOPIC),
		OP(ARR, 0, A),
			OP(I32, 0, A),
			CAP(I16, 0, A, ERROR),
		END,
	END,
	STOP,
};

/* 37 CreatePartitions */
static const struct kop create_partitions_req[] = {
	OP(ARR, 0, A),
		CAP(STR, 0, A, TOPIC),
		OP(I32, 0, A),          /* count */
		OP(ARR, 0, A),          /* assignments */
			PARR(I32, 0, A),
		END,
	END,
	STOP,
};
static const struct kop create_partitions_resp[] = {
	OP(I32, 0, A),
	OP(ARR, 0, A),
		CAP(STR, 0, A, TOPIC),
		CAP(I16, 0, A, ERROR),
		OP(STR, 0, A),
	END,
	STOP,
};

/* 42 DeleteGroups */
static const struct kop delete_groups_resp[] = {
	OP(I32, 0, A),
	OP(ARR, 0, A),
		OP(STR, 0, A),
		CAP(I16, 0, A, ERROR),
	END,
	STOP,
};

/* 47 OffsetDelete */
static const struct kop offset_delete_req[] = {
	OP(STR, 0, A),
	OP(ARR, 0, A),
		CAP(STR, 0, A, TOPIC),
		OP(ARR, 0, A),
			OP(I32, 0, A),
		END,
	END,
	STOP,
};
static const struct kop offset_delete_resp[] = {
	CAP(I16, 0, A, ERROR_TOP),
	OP(I32, 0, A),
	OP(ARR, 0, A),
		CAP(STR, 0, A, TOPIC),
		OP(ARR, 0, A),
			OP(I32, 0, A),
			CAP(I16, 0, A, ERROR),
		END,
	END,
	STOP,
};

#define N(a) (uint16_t)(sizeof(a) / sizeof((a)[0]))
#define API(nm, maxv, flex) { .name = nm, .max_version = maxv, .flexible_from = flex }
#define API_RQ(nm, maxv, flex, rq, rs) \
	{ .name = nm, .max_version = maxv, .flexible_from = flex, \
	  .req = rq, .n_req = N(rq), .resp = rs, .n_resp = N(rs) }
#define API_R(nm, maxv, flex, rs) \
	{ .name = nm, .max_version = maxv, .flexible_from = flex, .resp = rs, .n_resp = N(rs) }

static const struct kafka_api apis[KAFKA_API_KEYS] = {
	[0] = API_RQ("produce", 11, 9, produce_req, produce_resp),
	[1] = API_RQ("fetch", 17, 12, fetch_req, fetch_resp),
	[2] = API_RQ("offsets", 10, 6, list_offsets_req, list_offsets_resp),
	[3] = API_RQ("metadata", 12, 9, metadata_req, metadata_resp),
	[4] = API("leaderandisr", 7, 4),
	[5] = API("stopreplica", 4, 2),
	[6] = API("updatemetadata", 8, 6),
	[7] = API("controlledshutdown", 3, 3),
	[8] = API_RQ("offsetcommit", 9, 8, offset_commit_req, offset_commit_resp),
	[9] = API_RQ("offsetfetch", 9, 6, offset_fetch_req, offset_fetch_resp),
	[10] = API_R("findcoordinator", 6, 3, find_coordinator_resp),
	[11] = API_R("joingroup", 9, 6, join_group_resp),
	[12] = API_R("heartbeat", 4, 4, heartbeat_resp),
	[13] = API_R("leavegroup", 5, 4, leave_group_resp),
	[14] = API_R("syncgroup", 5, 4, sync_group_resp),
	[15] = API_R("describegroups", 5, 5, describe_groups_resp),
	[16] = API_R("listgroups", 5, 3, list_groups_resp),
	[17] = API_R("saslhandshake", 1, -1, error_first_resp),
	[18] = API_R("apiversions", 4, 3, error_first_resp),
	[19] = API_RQ("createtopics", 7, 5, create_topics_req, create_topics_resp),
	[20] = API_RQ("deletetopics", 6, 4, delete_topics_req, delete_topics_resp),
	[21] = API_RQ("deleterecords", 2, 2, delete_records_req, delete_records_resp),
	[22] = API_R("initproducerid", 5, 2, init_producer_id_resp),
	[23] = API_RQ("offsetforleaderepoch", 4, 4, offset_for_leader_epoch_req,
	              offset_for_leader_epoch_resp),
	[24] = API_RQ("addpartitionstotxn", 5, 3, add_partitions_to_txn_req,
	              add_partitions_to_txn_resp),
	[25] = API_R("addoffsetstotxn", 4, 3, add_offsets_to_txn_resp),
	[26] = API_R("endtxn", 5, 3, end_txn_resp),
	[27] = API("writetxnmarkers", 1, 1),
	[28] = API_RQ("txnoffsetcommit", 4, 3, txn_offset_commit_req, txn_offset_commit_resp),
	[29] = API_R("describeacls", 3, 2, describe_acls_resp),
	[30] = API("createacls", 3, 2),
	[31] = API("deleteacls", 3, 2),
	[32] = API("describeconfigs", 4, 4),
	[33] = API("alterconfigs", 2, 2),
	[34] = API("alterreplicalogdirs", 2, 2),
	[35] = API("describelogdirs", 4, 2),
	[36] = API_R("saslauthenticate", 2, 2, error_first_resp),
	[37] = API_RQ("createpartitions", 3, 2, create_partitions_req, create_partitions_resp),
	[38] = API("createdelegationtoken", 3, 2),
	[39] = API("renewdelegationtoken", 2, 2),
	[40] = API("expiredelegationtoken", 2, 2),
	[41] = API("describedelegationtoken", 3, 2),
	[42] = API_R("deletegroups", 2, 2, delete_groups_resp),
	[43] = API("electleaders", 2, 2),
	[44] = API("incrementalalterconfigs", 1, 1),
	[45] = API("alterpartitionreassignments", 0, 0),
	[46] = API("listpartitionreassignments", 0, 0),
	[47] = API_RQ("offsetdelete", 0, -1, offset_delete_req, offset_delete_resp),
	[48] = API("describeclientquotas", 1, 1),
	[49] = API("alterclientquotas", 1, 1),
	[50] = API("describeuserscramcredentials", 0, 0),
	[51] = API("alteruserscramcredentials", 0, 0),
	[52] = API("vote", 1, 0),
	[53] = API("beginquorumepoch", 1, 1),
	[54] = API("endquorumepoch", 1, 1),
	[55] = API("describequorum", 2, 0),
	[56] = API("alterpartition", 3, 0),
	[57] = API("updatefeatures", 2, 0),
	[58] = API("envelope", 0, 0),
	[59] = API("fetchsnapshot", 1, 0),
	[60] = API_R("describecluster", 1, 0, describe_cluster_resp),
	[61] = API("describeproducers", 0, 0),
	[62] = API("brokerregistration", 4, 0),
	[63] = API("brokerheartbeat", 1, 0),
	[64] = API("unregisterbroker", 0, 0),
	[65] = API("describetransactions", 0, 0),
	[66] = API("listtransactions", 1, 0),
	[67] = API("allocateproducerids", 0, 0),
	[68] = API_R("consumergroupheartbeat", 1, 0, consumer_group_heartbeat_resp),
	[69] = API("consumergroupdescribe", 0, 0),
	[70] = API("controllerregistration", 0, 0),
	[71] = API("gettelemetrysubscriptions", 0, 0),
	[72] = API("pushtelemetry", 0, 0),
	[73] = API("assignreplicastodirs", 0, 0),
	[74] = API("listclientmetricsresources", 0, 0),
	[75] = API("describetopicpartitions", 0, 0),
	[76] = API("sharegroupheartbeat", 0, 0),
	[77] = API("sharegroupdescribe", 0, 0),
	[78] = API("sharefetch", 0, 0),
	[79] = API("shareacknowledge", 0, 0),
	[80] = API("addraftvoter", 0, 0),
	[81] = API("removeraftvoter", 0, 0),
	[82] = API("updateraftvoter", 0, 0),
	[83] = API("initializesharegroupstate", 0, 0),
	[84] = API("readsharegroupstate", 0, 0),
	[85] = API("writesharegroupstate", 0, 0),
	[86] = API("deletesharegroupstate", 0, 0),
	[87] = API("readsharegroupstatesummary", 0, 0),
};

const struct kafka_api *kafka_api(int16_t api_key)
{
	if (api_key < 0 || api_key >= KAFKA_API_KEYS)
		return NULL;
	return &apis[api_key];
}

const char *kafka_api_name(int16_t api_key)
{
	const struct kafka_api *a = kafka_api(api_key);
	return a ? a->name : NULL;
}

bool kafka_flexible(int16_t api_key, int16_t api_version)
{
	const struct kafka_api *a = kafka_api(api_key);
	return a && a->flexible_from >= 0 && api_version >= a->flexible_from;
}

/* Flexible versions never become classic again, so the header version is
 * known even for versions newer than max_version. */
int kafka_request_header_version(int16_t api_key, int16_t api_version)
{
	if (!kafka_api(api_key) || api_version < 0)
		return -1;
	if (api_key == 7 && api_version == 0)
		return 0;               /* ControlledShutdown v0 has no client_id */
	return kafka_flexible(api_key, api_version) ? 2 : 1;
}

int kafka_response_header_version(int16_t api_key, int16_t api_version)
{
	if (!kafka_api(api_key) || api_version < 0)
		return -1;
	if (api_key == 18)
		return 0;               /* ApiVersions: v0 header in every version */
	return kafka_flexible(api_key, api_version) ? 1 : 0;
}

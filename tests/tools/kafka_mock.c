/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kafka_mock: a Kafka cluster for captures and tests, librdkafka's mock
 * cluster (rd_kafka_mock_cluster_new) behind a small CLI. It speaks the real
 * Kafka protocol (librdkafka's broker-side implementation) to any client.
 *
 *   kafka_mock [OPTIONS]
 *     -b N               brokers (default 1); ids 1..N
 *     -t TOPIC[:PARTS]   create a topic (repeatable; default 1 partition)
 *     -V KEY:MIN:MAX     versions the brokers accept for an API key
 *                        (clients then use older versions)
 *     -e KEY:ERR[,ERR]   the next requests of KEY fail with these error codes
 *     -E TOPIC:ERR       metadata for TOPIC reports this error
 *     -w SECONDS         exit after this long at most (default 120)
 *
 * Prints "bootstrap=HOST:PORT[,...]" on stdout once listening (brokers
 * listen on 127.0.0.1 and advertise that address), then runs until
 * SIGTERM/SIGINT or the -w limit.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: kafka_mock [-b BROKERS] [-t TOPIC[:PARTS]]... "
	                "[-V KEY:MIN:MAX]... [-e KEY:ERR[,ERR...]]... [-E TOPIC:ERR] "
	                "[-w SECONDS]\n");
	return 2;
}

#define MAX_OPTS 32

int main(int argc, char **argv)
{
	int brokers = 1, wait_s = 120;
	const char *topics[MAX_OPTS], *versions[MAX_OPTS], *errors[MAX_OPTS], *terrors[MAX_OPTS];
	int nt = 0, nv = 0, ne = 0, nte = 0;
	int opt;
	while ((opt = getopt(argc, argv, "b:t:V:e:E:w:h")) != -1) {
		switch (opt) {
		case 'b': brokers = atoi(optarg); break;
		case 't': if (nt < MAX_OPTS) topics[nt++] = optarg; break;
		case 'V': if (nv < MAX_OPTS) versions[nv++] = optarg; break;
		case 'e': if (ne < MAX_OPTS) errors[ne++] = optarg; break;
		case 'E': if (nte < MAX_OPTS) terrors[nte++] = optarg; break;
		case 'w': wait_s = atoi(optarg); break;
		default: return usage();
		}
	}
	if (brokers < 1 || brokers > 8 || wait_s < 1 || optind != argc)
		return usage();

	char errstr[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "kafka_mock: %s\n", errstr);
		return 1;
	}
	/* the rd_kafka_t only hosts the mock cluster's thread */
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "kafka_mock: %s\n", errstr);
		return 1;
	}
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
	if (!mc) {
		fprintf(stderr, "kafka_mock: cannot create the mock cluster\n");
		rd_kafka_destroy(rk);
		return 1;
	}

	int rc = 0;
	for (int i = 0; i < nt && !rc; i++) {
		char name[256];
		int parts = 1;
		snprintf(name, sizeof(name), "%s", topics[i]);
		char *colon = strchr(name, ':');
		if (colon) {
			*colon = '\0';
			parts = atoi(colon + 1);
		}
		rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, name, parts, 1);
		if (err) {
			fprintf(stderr, "kafka_mock: topic %s: %s\n", name, rd_kafka_err2str(err));
			rc = 1;
		}
	}
	for (int i = 0; i < nv && !rc; i++) {
		int key, min, max;
		if (sscanf(versions[i], "%d:%d:%d", &key, &min, &max) != 3 ||
		    rd_kafka_mock_set_apiversion(mc, (int16_t)key, (int16_t)min, (int16_t)max)) {
			fprintf(stderr, "kafka_mock: bad -V %s\n", versions[i]);
			rc = 1;
		}
	}
	for (int i = 0; i < ne && !rc; i++) {
		int key;
		char list[256];
		if (sscanf(errors[i], "%d:%255s", &key, list) != 2) {
			fprintf(stderr, "kafka_mock: bad -e %s\n", errors[i]);
			rc = 1;
			break;
		}
		rd_kafka_resp_err_t errs[64];
		size_t n = 0;
		for (char *tok = strtok(list, ","); tok && n < 64; tok = strtok(NULL, ","))
			errs[n++] = (rd_kafka_resp_err_t)atoi(tok);
		rd_kafka_mock_push_request_errors_array(mc, (int16_t)key, n, errs);
	}
	for (int i = 0; i < nte && !rc; i++) {
		char name[256];
		snprintf(name, sizeof(name), "%s", terrors[i]);
		char *colon = strrchr(name, ':');
		if (!colon) {
			fprintf(stderr, "kafka_mock: bad -E %s\n", terrors[i]);
			rc = 1;
			break;
		}
		*colon = '\0';
		rd_kafka_mock_topic_set_error(mc, name, (rd_kafka_resp_err_t)atoi(colon + 1));
	}

	if (!rc) {
		signal(SIGTERM, on_signal);
		signal(SIGINT, on_signal);
		printf("bootstrap=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
		fflush(stdout);
		time_t end = time(NULL) + wait_s;
		while (!stop && time(NULL) < end)
			poll(NULL, 0, 100);
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return rc;
}

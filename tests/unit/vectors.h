/* Test vectors extracted from peer-corpus captures by
 * tests/unit/data/make_vectors.sh: "<dir> <time_ns> <hex>" per line. */
#ifndef FLOWD_TEST_VECTORS_H
#define FLOWD_TEST_VECTORS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "l7_harness.h"

/* Feeds every payload of the file through h; returns the number fed or -1. */
static inline int vec_feed(struct l7_harness *h, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		printf("FAIL: open %s\n", path);
		return -1;
	}
	int n = 0;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		int dir;
		unsigned long long ts;
		int off = 0;
		if (sscanf(line, "%d %llu %n", &dir, &ts, &off) < 2)
			continue;
		const char *hex = line + off;
		size_t hl = strcspn(hex, "\r\n");
		uint8_t *buf = malloc(hl / 2 + 1);
		for (size_t i = 0; i + 1 < hl; i += 2) {
			unsigned v;
			sscanf(hex + i, "%2x", &v);
			buf[i / 2] = (uint8_t)v;
		}
		l7h_feed(h, dir ? L7_DIR_TO_CLIENT : L7_DIR_TO_SERVER, buf, hl / 2, ts);
		free(buf);
		n++;
	}
	free(line);
	fclose(f);
	return n;
}

#endif

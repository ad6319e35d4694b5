/* libFuzzer target for the whole replay path: frames -> pkt_parse.h ->
 * l7/pipeline.c (connection table, timeouts, TCP and IP reassembly, detection, every
 * parser linked in) -> Hubble JSON. Small bounds so that every limit is hit.
 *
 *   input: repeated [2 bytes length][1 byte: bit 0 raw IP (else Ethernet),
 *          bits 1-7 time step][frame bytes]
 *   the time step advances capture time by step^2 ms (up to ~16 s), so
 *   idle and active timeouts fire.
 * Seeds: tests/fuzz/make_seeds_pipeline.py turns captures into this format.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow_event.h"
#include "pipeline.h"
#include "pkt_parse.h"

static volatile size_t sink_bytes;

static void sink(void *user, struct flow_event *ev)
{
	struct fe_buf *b = user;
	struct fe_record rec = { .kind = FE_REC_FLOW, .flow = ev };
	b->len = 0;
	if (fe_record_to_json(&rec, b) == 0)
		sink_bytes += b->len;
	flow_event_free(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pipeline_config cfg;
	pipeline_config_defaults(&cfg);
	cfg.idle_timeout_ns = 5000000000ull;
	cfg.active_timeout_ns = 8000000000ull;
	cfg.max_flows = 16;
	cfg.max_conn_buffer = 4096;
	cfg.max_total_buffer = 3 * 4096 + 8192;
	cfg.dns_cache_size = 8;
	cfg.max_header_bytes = 2048;
	cfg.max_pending = 4;
	cfg.node_name = "fuzz";
	static const char *const redact[] = { "Authorization" };
	cfg.redact_headers = redact;
	cfg.n_redact_headers = 1;
	struct fe_buf out = { 0 };
	struct pipeline *p = pipeline_new(&cfg, sink, &out);
	if (!p)
		return 0;

	uint64_t ts = 1700000000ull * 1000000000ull;
	size_t i = 0;
	while (i + 3 <= size) {
		size_t len = (size_t)data[i] << 8 | data[i + 1];
		uint8_t flags = data[i + 2];
		i += 3;
		if (len > size - i)
			len = size - i;
		uint64_t step = flags >> 1;
		ts += step * step * 1000000ull;
		/* a private copy: ASan sees any read past the frame */
		uint8_t *frame = malloc(len ? len : 1);
		memcpy(frame, data + i, len);
		i += len;
		struct pkt_info pi;
		int st = (flags & 1) ?
			pkt_parse_l3(frame, frame + len, 0, len && (frame[0] >> 4) == 6 ? 0x86DD : 0x0800, &pi) :
			pkt_parse_eth(frame, frame + len, &pi);
		if (st == PKT_OK || st == PKT_L4_UNKNOWN)
			pipeline_packet(p, ts, &pi, frame, (uint32_t)len, (uint32_t)len + (flags & 0x40),
			                0, NULL, 0);
		else
			pipeline_parse_error(p, st);
		free(frame);
	}
	pipeline_flush(p, ts);
	struct pipeline_counter cs[512];
	size_t n = pipeline_counters(p, cs, 512);
	for (size_t k = 0; k < n && k < 512; k++)
		if ((strcmp(cs[k].name, "memory.buffered_bytes") == 0 ||
		     strcmp(cs[k].name, "memory.ip_reasm_bytes") == 0) && cs[k].value != 0)
			abort();   /* everything released at the end */
	pipeline_free(p);
	fe_buf_free(&out);
	return 0;
}

/* libFuzzer target for the JSON decoder (lib/flow_json_decode.c) and, on
 * what decodes, the encoder: decode(x) must never crash; whatever decodes
 * must encode, its encoding must decode again, and re-encoding that must
 * give the same bytes (the encoder/decoder pair is stable). Decoded
 * records also go through every text printer. */
#include "flow_json.h"
#include "printer.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fe_decoded d1, d2;
	char err[256];
	int rc = fe_json_decode((const char *)data, size, &d1, err, sizeof(err));
	if (rc == -1 && err[0] == '\0')
		abort();  /* every error carries a message */
	if (rc != 0)
		return 0;

	struct fe_buf a = { 0 }, b = { 0 };
	if (fe_record_to_json(&d1.rec, &a))
		abort();
	if (fe_json_decode(a.data, a.len, &d2, err, sizeof(err)) != 0)
		abort();  /* our own output must decode */
	if (fe_record_to_json(&d2.rec, &b))
		abort();
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();  /* and be stable */

	static FILE *devnull;
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	for (int f = FE_OUTPUT_COMPACT; f <= FE_OUTPUT_TABLE; f++) {
		struct fe_printer_options o = { .format = (enum fe_output_format)f,
		                                .color = FE_COLOR_ALWAYS, .print_node_name = true,
		                                .print_policy_names = true,
		                                .time_format = (enum fe_time_format)(size % 9) };
		struct fe_printer *p = fe_printer_new(&o, devnull);
		if (!p || fe_printer_print(p, &d2.rec) || fe_printer_print(p, &d1.rec) ||
		    fe_printer_flush(p))
			abort();
		fe_printer_free(p);
	}

	/* Exercise the Summary builder on whatever was decoded. */
	if (d2.rec.kind == FE_REC_FLOW)
		fe_set_summary(d2.ev);

	fe_decoded_clear(&d1);
	fe_decoded_clear(&d2);
	fe_buf_free(&a);
	fe_buf_free(&b);
	return 0;
}

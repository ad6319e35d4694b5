/* libFuzzer target for include/pkt_parse.h: any bytes, as Ethernet and as
 * raw IPv4/IPv6. ASan catches any read past the end; the checks below catch
 * offsets that point outside the frame on success. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkt_parse.h"

static void check(const struct pkt_info *pi, int st, size_t len)
{
	struct flow_key k;

	if (st != PKT_OK && st != PKT_L4_UNKNOWN)
		return;
	if (pi->l3_off > len || pi->l4_off > len || pi->payload_off > len || pi->l4_off < pi->l3_off)
		abort();
	if (pi->family != 4 && pi->family != 6)
		abort();
	flow_key_from_pkt(pi, 1, FLOW_DIR_INGRESS, &k);
	if (k.pad[0] | k.pad[1] | k.pad[2])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_info pi;
	uint8_t *copy = malloc(size ? size : 1);
	int st;

	memcpy(copy, data, size);
	st = pkt_parse_eth(copy, copy + size, &pi);
	if (st < 0 || st >= PKT_STATUS_MAX)
		abort();
	check(&pi, st, size);
	st = pkt_parse_l3(copy, copy + size, 0, PKT_ETH_P_IP, &pi);
	check(&pi, st, size);
	st = pkt_parse_l3(copy, copy + size, 0, PKT_ETH_P_IPV6, &pi);
	check(&pi, st, size);
	free(copy);
	return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tool_pcap_read: the bare libpcap read loop the replay benchmark compares
 * flowctl replay with: open the file as replay does (nanosecond precision),
 * read every record, touch its first and last byte. Prints packets, bytes.
 */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: tool_pcap_read FILE\n");
		return 2;
	}
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
	if (!p) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t n = 0, bytes = 0, touch = 0;
	while (pcap_next_ex(p, &h, &d) == 1) {
		n++;
		bytes += h->caplen;
		if (h->caplen)
			touch += d[0] + d[h->caplen - 1];
	}
	pcap_close(p);
	printf("%" PRIu64 " packets %" PRIu64 " bytes (%" PRIu64 ")\n", n, bytes, touch & 1);
	return 0;
}

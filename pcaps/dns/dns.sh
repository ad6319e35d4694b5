#!/usr/bin/env bash
# dns/udp.pcap: dig queries to dnsmasq over UDP: A, AAAA, a CNAME, MX,
# NXDOMAIN, and one name with 40 A records (EDNS, fits in UDP).
# dns/tcp.pcap: the same server over TCP, three queries on one connection
# (dig +keepopen) and one on its own connection.
# dns/truncated-retry.pcap: the 40-record answer without EDNS does not fit
# in 512 bytes: the UDP answer is truncated (TC) and dig retries over TCP.
. "$(dirname "$0")/../lab/lab.sh"
lab_up
dnsmasq_start
d="dig +time=2 +tries=1 @$S4"
lab_capture_start "$PCAPS/dns/udp.pcap" udp port 53
in_c $d web.test A >/dev/null
in_c $d web.test AAAA >/dev/null
in_c $d www.test A >/dev/null
in_c $d test MX >/dev/null
in_c $d nope.test A >/dev/null
in_c $d big.test A >/dev/null
lab_capture_stop
lab_capture_start "$PCAPS/dns/tcp.pcap" tcp port 53
in_c $d +tcp +keepopen web.test A api.test A www.test A >/dev/null
in_c $d +tcp nope.test AAAA >/dev/null
lab_capture_stop
lab_capture_start "$PCAPS/dns/truncated-retry.pcap" port 53
in_c $d +noedns big.test A >/dev/null
lab_capture_stop

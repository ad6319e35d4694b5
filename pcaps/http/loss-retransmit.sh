#!/usr/bin/env bash
# Real packet loss, made with nftables drop rules (the kernel here has no
# netem), while curl downloads a 64 KiB file twice over one connection and
# then a small one:
#
# http/loss-retransmit.pcap: the client's input hook drops the 8th
#   server->client packet of the connection once. tcpdump on the client's
#   interface sees a frame before netfilter drops it, so the capture holds
#   the segment twice (original and retransmission): duplicate data.
# (A drop in the server's own output hook would not show: TCP resends such
# a segment at once, in order. Reordering and capture gaps are made by
# lab/rewrite.py instead, see derive.sh.)
. "$(dirname "$0")/../lab/lab.sh"
lab_up
nginx_start
run() {
	in_c curl -s -o /dev/null -o /dev/null -o /dev/null \
		"http://$S4/blob.bin" "http://$S4/blob.bin" "http://$S4/small.txt"
}
drop_rule() {   # drop_rule NS HOOK: drop reply-direction packet number 8 of port 80 once
	ip netns exec "$1" sysctl -qw net.netfilter.nf_conntrack_acct=1
	ip netns exec "$1" nft -f - <<NFT
table inet lab {
	chain c {
		type filter hook $2 priority 0;
		tcp sport 80 ct direction reply ct reply packets 8 counter drop
	}
}
NFT
}
drop_rule "$NS_C" input
lab_capture_start "$PCAPS/http/loss-retransmit.pcap"
run
lab_capture_stop
in_c nft list ruleset | grep -q 'packets 1 ' || { echo "the drop rule did not fire" >&2; exit 1; }

#!/usr/bin/env bash
# dns/frag.pcap: DNS answers larger than the MTU, fragmented by the
# server's kernel: dnsmasq answers big TXT records (up to 4096 bytes with
# EDNS, --edns-packet-max), dig asks with +bufsize=4096 over a veth whose
# MTU is 1280: IPv4 and IPv6 answers of 3 and 4 fragments, a small answer
# between them, then (MTU 576, IPv4 only: IPv6 needs 1280) one of 8.
# dns/frag-loss.pcap: one answer whose middle fragment an nftables rule
# drops on the server's egress (before the wire, so the capture never
# sees it): dig gets no answer; the next query is answered whole.
. "$(dirname "$0")/../lab/lab.sh"
# TXT strings of 250 bytes: N of them
txt() {
	local name=$1 n=$2 i args=""
	for i in $(seq 1 "$n"); do
		args+=",\"$(printf '%s-%03d-' "$name" "$i")$(head -c 240 /dev/zero | tr '\0' "$(printf "\\x$(printf %x $((97 + i % 26)))")")\""
	done
	echo "--txt-record=$name$args"
}
lab_up
for ns in "$NS_C:$IF_C" "$NS_S:$IF_S"; do ip -n "${ns%%:*}" link set "${ns##*:}" mtu 1280; done
dnsmasq_start --edns-packet-max=4096 "$(txt txt3k.test 11)" "$(txt txt4k.test 15)"
d="dig +time=2 +tries=1 +bufsize=4096"
lab_capture_start "$PCAPS/dns/frag.pcap" port 53 or '(ip[6:2] & 0x1fff != 0)' or ip6
in_c $d @"$S4" txt3k.test TXT >/dev/null
in_c $d @"$S6" txt3k.test TXT >/dev/null
in_c $d @"$S4" web.test A >/dev/null
in_c $d @"$S4" txt4k.test TXT >/dev/null
in_c $d @"$S6" txt4k.test TXT >/dev/null
for ns in "$NS_C:$IF_C" "$NS_S:$IF_S"; do ip -n "${ns%%:*}" link set "${ns##*:}" mtu 576; done
in_c $d @"$S4" txt4k.test TXT >/dev/null
lab_capture_stop
for ns in "$NS_C:$IF_C" "$NS_S:$IF_S"; do ip -n "${ns%%:*}" link set "${ns##*:}" mtu 1280; done

lab_capture_start "$PCAPS/dns/frag-loss.pcap" port 53 or '(ip[6:2] & 0x1fff != 0)'
# the second fragment of a 1280-MTU IPv4 answer starts at 1256 bytes (157 x 8)
in_s nft -f - <<NFT
table netdev fraglab {
	chain egress {
		type filter hook egress device "$IF_S" priority 0;
		ip frag-off & 0x1fff == 157 counter drop
	}
}
NFT
in_c dig +time=1 +tries=1 +bufsize=4096 @"$S4" txt3k.test TXT >/dev/null || true
in_s nft delete table netdev fraglab
in_c $d @"$S4" txt3k.test TXT >/dev/null
lab_capture_stop

#!/usr/bin/env bash
# Fragmented DNS answers (pcaps/dns/frag*.pcap: pcaps/dns/frag.sh and
# frag_rewrite.py): every DNS message tshark decodes (it reassembles IP
# fragments) is one replay reports, with the same time (the fragment that
# completed it), endpoints, name, types and rcode, and none more
# (tests/lib/dns_tshark.py). Where we rightly differ, the filter says why.
. "$(dirname "$0")/../lib/testlib.sh"
D=$TOP/pcaps/dns

# cmp_tshark NAME [TSHARK-FILTER]
cmp_tshark() {
	local name=$1 flt=${2:-}
	if ! "$FLOWCTL" replay -o json "$D/$name.pcap" >"$T_TMP/$name.json"; then
		fail "$name: flowctl replay failed"
		return
	fi
	"$PY" "$TOP/tests/lib/dns_tshark.py" "$name" "$D/$name.pcap" "$T_TMP/$name.json" \
		${flt:+--filter "$flt"} || T_FAILS=$((T_FAILS + 1))
}

cmp_tshark frag
cmp_tshark frag-reverse
cmp_tshark frag-hole
cmp_tshark frag-loss
cmp_tshark frag-dup
# tshark decodes datagrams whose fragments overlap with other bytes and flags
# the conflict; we drop them (RFC 5722; IPv4 alike)
cmp_tshark frag-overlap '!ip.fragment.overlap.conflict && !ipv6.fragment.overlap.conflict'
# tshark decodes the start of a first fragment the snap length cut
cmp_tshark frag-snap300 '!(_ws.expert.message contains "Unreassembled")'

# the answers are the big ones: 3000-4000 bytes of TXT each
n=$(jq -r 'select(.flow.l7.type == "RESPONSE" and .flow.l7.dns.rrtypes == ["TXT"]) | .flow.l7.dns.query' \
	"$T_TMP/frag.json" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
check_eq "frag: TXT answers (txt3k v4+v6, txt4k v4+v6 and at MTU 576)" "$n" " 2 txt3k.test.; 3 txt4k.test.;"
t_done

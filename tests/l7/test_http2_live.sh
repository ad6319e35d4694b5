#!/usr/bin/env bash
# HTTP/2 and gRPC from fresh real traffic: python grpcio (unary, streaming,
# bidi, errors) and h2load against nghttpd (100 concurrent streams) in
# private namespaces (pcaps/http2/grpc.sh, h2load.sh), captured, replayed and
# cross-checked against tshark's HTTP/2 dissector and the clients' own
# account (pcaps/http2/crosscheck.py), the cut captures against the complete
# ones.
. "$(dirname "$0")/../lib/testlib.sh"
if [ "$(id -u)" != 0 ]; then
	fail "http2 live: needs root (network namespaces)"
	t_done
fi
for sc in grpc h2load; do
	if ! OUT=$T_TMP timeout 120 "$TOP/pcaps/http2/$sc.sh" >"$T_TMP/$sc.make.log" 2>&1 ||
		[ ! -s "$T_TMP/$sc.pcap" ] || [ ! -s "$T_TMP/$sc.client.log" ]; then
		fail "http2 live $sc: capture failed: $(tail -3 "$T_TMP/$sc.make.log")"
		continue
	fi
	port=50051
	[ $sc = h2load ] && port=8080
	{
		"$PY" "$TOP/pcaps/http2/crosscheck.py" "$FLOWCTL" "$T_TMP/$sc.pcap" $port --log "$T_TMP/$sc.client.log"
		"$PY" "$TOP/pcaps/http2/crosscheck.py" "$FLOWCTL" "$T_TMP/$sc-midstream.pcap" $port \
			--subset-of "$T_TMP/$sc.pcap"
	} | sed "s/^FAIL: /FAIL: http2 live $sc: /; s/^PASS: /PASS: http2 live $sc: /" >"$T_TMP/$sc.cross"
	cat "$T_TMP/$sc.cross"
	T_FAILS=$((T_FAILS + $(grep -c '^FAIL' "$T_TMP/$sc.cross")))
	check_eq "http2 live $sc: three checks ran" "$(grep -c '^PASS' "$T_TMP/$sc.cross")" 3
done
t_done

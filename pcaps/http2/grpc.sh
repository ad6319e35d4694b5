#!/usr/bin/env bash
# grpc.pcap: python3-grpcio client and server (grpc_peer.py) on one channel:
# unary, server streaming (5 replies), client streaming (4 messages, one of
# 20000 bytes), bidi (6 each way), a trailers-only NOT_FOUND, an UNAVAILABLE
# after two messages, then three more unary calls.
# grpc.client.log: the client's own account of each call.
# grpc-midstream.pcap: grpc.pcap without its first 30 packets.
. "$(dirname "$0")/h2lab.sh"
lab_up
grpc_server_start
lab_capture_start "$OUT/grpc.pcap" tcp port 50051
in_c $PY "$H2DIR/grpc_peer.py" client "$S4:50051" > "$OUT/grpc.client.log"
lab_capture_stop
cut_capture "$OUT/grpc.pcap" "$OUT/grpc-midstream.pcap" 30

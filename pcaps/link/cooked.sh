#!/usr/bin/env bash
# Linux cooked captures of one exchange (curl: GET keep-alive + 404, dig
# over UDP), taken at the same time by two tcpdumps on the "any" device:
# link/sll2.pcap (LINUX_SLL2, tcpdump's default for "any") and
# link/sll.pcap (LINUX_SLL, -y LINUX_SLL).
. "$(dirname "$0")/../lab/lab.sh"
lab_up
nginx_start
dnsmasq_start
LAB_CAPTURE_IF=any
lab_capture_start "$PCAPS/link/sll2.pcap"
first=$CAP_PID
LAB_TMP_ERR=$LAB_TMP/tcpdump.err
mv "$LAB_TMP_ERR" "$LAB_TMP/first.err"
lab_capture_start "$PCAPS/link/sll.pcap" -y LINUX_SLL
in_c dig +time=2 +tries=1 @"$S4" web.test A >/dev/null
in_c curl -s -o /dev/null -o /dev/null "http://$S4/index.html" "http://$S4/missing"
lab_capture_stop
CAP_PID=$first
lab_capture_stop

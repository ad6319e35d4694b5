#!/usr/bin/env bash
# flowd's life cycle on real interfaces: SIGTERM ends every flow and detaches
# everything; a SIGKILLed flowd's leftovers are removed by the next start;
# refusals (usage errors, missing interface, missing privileges, a foreign
# XDP program that cannot be shared, an interface another flowd observes);
# XDP mode selection; several interfaces; export to a file.
. "$(dirname "$0")/../lib/testlib.sh"

C=flc$T_ID S=fls$T_ID
netns_add "$C" && netns_add "$S" || { fail "setup: namespaces"; t_done; }
veth_pair "$C" a$T_ID "$S" x$T_ID && veth_pair "$C" b$T_ID "$S" y$T_ID || { fail "setup: veth"; t_done; }
X=x$T_ID Y=y$T_ID
addr_add "$C" a$T_ID 198.18.1.1/24; addr_add "$S" "$X" 198.18.1.2/24
addr_add "$C" b$T_ID 198.18.2.1/24; addr_add "$S" "$Y" 198.18.2.2/24
addr_add "$C" a$T_ID 2001:db8:1::1/64; addr_add "$S" "$X" 2001:db8:1::2/64

# attached NS DEV: what is attached to DEV (XDP and TC), one word per item.
attached() {
	local out=""
	ip -n "$1" -d link show dev "$2" | grep -q 'prog/xdp' && out="$out xdp"
	tc -n "$1" filter show dev "$2" ingress | grep -q bpf && out="$out tc-ingress"
	tc -n "$1" filter show dev "$2" egress | grep -q bpf && out="$out tc-egress"
	tc -n "$1" qdisc show dev "$2" | grep -q clsact && out="$out clsact"
	echo "${out# }"
}

# --- usage errors: exit 2 and a message --------------------------------------
while IFS='|' read -r args want; do
	# shellcheck disable=SC2086
	msg=$("$FLOWD" $args 2>&1 >/dev/null); rc=$?; msg=${msg%%$'\n'*}
	check_eq "usage error exits 2: flowd $args" "$rc" 2
	check_eq "usage error message: flowd $args" "$msg" "flowd: $want"
done <<USAGE
|no interface given (-i IFACE)
-i|option '-i' needs a value
-i $X --xdp-mode fast|--xdp-mode: 'fast' is not one of auto, native, skb, off
-i $X --idle-timeout soon|--idle-timeout: 'soon' is not a duration (e.g. 500ms, 15s, 2m)
-i $X --poll-interval 1ms|--poll-interval: '1ms' is too short (minimum 10 ms)
-i $X --bogus|unknown option '--bogus'
-i $X -i $X|--interface: '$X' given twice
-i $X --map-size 0|--map-size: '0' is not a number from 16 to 67108864
-i $X --xdp-mode off --no-tc|--xdp-mode off with --no-tc leaves nothing to observe
-i $X extra|unexpected argument 'extra'
USAGE
check "--help is man-page like" sh -c "'$FLOWD' --help | grep -q -- '--idle-timeout DUR'"
check_eq "--version" "$("$FLOWD" --version)" "flowd 0.1.0"

# --- refusals: exit 1, one clear line, nothing left attached -------------------
msg=$(ip netns exec "$S" "$FLOWD" -i nosuch0 2>&1); rc=$?
check_eq "missing interface: exit 1" "$rc" 1
check_eq "missing interface: message" "$msg" "flowd: nosuch0: no such interface"
msg=$(ip netns exec "$S" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$FLOWD" -i "$X" 2>&1); rc=$?
check_eq "unprivileged: exit 1" "$rc" 1
check "unprivileged: says root is needed ($msg)" grep -q "permission denied: .* needs root" <<<"$msg"
check_eq "unprivileged: nothing attached" "$(attached "$S" "$X")" ""

# --- SIGTERM: end events for every live flow, everything detached -------------
ev=$T_TMP/term.json
flowd_start "$S" "$T_TMP/term.log" -i "$X" --idle-timeout 60s --poll-interval 100ms -e "$ev" \
	|| fail "sigterm: flowd did not start"
check_eq "sigterm: attached while running (auto mode: native XDP on veth, TC ingress for L7 capture)" \
	"$(attached "$S" "$X")" "xdp tc-ingress tc-egress clsact"
check "sigterm: ip link says native XDP" sh -c "ip -n $S -d link show dev $X | grep -q 'xdp '"
# The lock file is per (network namespace inode, ifindex): ifindexes repeat
# across namespaces (tests run in parallel), so look at this namespace's only.
lock=/run/flowd/iface-$(stat -L -c %i "/run/netns/$S")-$(ip netns exec "$S" cat "/sys/class/net/$X/ifindex").lock
check "sigterm: lock file held while running ($lock)" grep -q "^pid=$FLOWD_PID " "$lock"
ip netns exec "$C" ping -q -c 3 -i 0.2 198.18.1.2 >/dev/null
ip netns exec "$C" ping -q -c 2 -i 0.2 2001:db8:1::2 >/dev/null
stop_wait "$FLOWD_PID"; rc=$?
check_eq "sigterm: exit 0" "$rc" 0
# Counted after the stop: a flow the poller had not seen yet (late on a
# loaded machine, or an ND packet after the pings) gets its start event at
# shutdown, together with its end.
starts=$(grep -c '"event":"start"' "$ev")
check "sigterm: the echo request and reply flows of both pings started ($starts)" [ "$starts" -ge 4 ]
check_eq "sigterm: one end event per started flow ($starts)" "$(grep -c '"event":"end"' "$ev")" "$starts"
check "sigterm: the echo request flow ended with its 3 packets" \
	grep -q '"IP":{"source":"198.18.1.1","destination":"198.18.1.2","ipVersion":"IPv4"},"l4":{"ICMPv4":{"type":8}}.*"flow_stats":{"event":"end","packets":3,"bytes":294,' "$ev"
check_eq "sigterm: everything detached (XDP, TC filters, our clsact qdisc)" "$(attached "$S" "$X")" ""
check "sigterm: bpftool sees nothing on the interface" \
	sh -c "! ip netns exec $S bpftool net show dev $X | grep -q 'flow_xdp\\|flow_tc'"
check "sigterm: no lock file left ($lock)" test ! -e "$lock"

# --- a second flowd on the same interface is refused -------------------------
flowd_start "$S" "$T_TMP/first.log" -i "$X" -e /dev/null || fail "busy: first flowd did not start"
msg=$(ip netns exec "$S" "$FLOWD" -i "$X" -e /dev/null 2>&1); rc=$?
check_eq "busy: second flowd exits 1" "$rc" 1
check "busy: names the owner ($msg)" grep -q "$X: already observed by another flowd (pid $FLOWD_PID)" <<<"$msg"

# --- SIGKILL, then the next start removes the leftovers ------------------------
kill -KILL "$FLOWD_PID"; wait "$FLOWD_PID" 2>/dev/null
check_eq "sigkill: programs stay attached after SIGKILL" "$(attached "$S" "$X")" "xdp tc-ingress tc-egress clsact"
flowd_start "$S" "$T_TMP/restart.log" -i "$X" -e /dev/null || fail "sigkill: restart failed"
check "sigkill: restart removed the leftover XDP program" grep -q "$X: removed leftover XDP program" "$T_TMP/restart.log"
check "sigkill: restart removed the leftover TC program" grep -q "$X: removed leftover TC egress program flow_tc_egress" "$T_TMP/restart.log"
check_eq "sigkill: exactly one set attached after the restart" \
	"$(tc -n "$S" filter show dev "$X" egress | grep -c 'flow_tc_egress')" 1
stop_wait "$FLOWD_PID"
check_eq "sigkill: all clean after the restarted flowd stops (it inherited the qdisc)" "$(attached "$S" "$X")" ""

# --- XDP modes ----------------------------------------------------------------
flowd_start "$S" "$T_TMP/skb.log" -i "$X" --xdp-mode skb -e /dev/null || fail "skb: did not start"
check "xdp-mode skb: generic XDP" sh -c "ip -n $S -d link show dev $X | grep -q 'xdpgeneric'"
stop_wait "$FLOWD_PID"
flowd_start "$S" "$T_TMP/native.log" -i "$X" --xdp-mode native -e /dev/null || fail "native: did not start"
check "xdp-mode native: driver XDP" sh -c "ip -n $S -d link show dev $X | grep -q 'xdp ' && ! ip -n $S -d link show dev $X | grep -q xdpgeneric"
stop_wait "$FLOWD_PID"
flowd_start "$S" "$T_TMP/off.log" -i "$X" --xdp-mode off -e /dev/null || fail "off: did not start"
check_eq "xdp-mode off: TC on both hooks, no XDP" "$(attached "$S" "$X")" "tc-ingress tc-egress clsact"
stop_wait "$FLOWD_PID"
flowd_start "$S" "$T_TMP/notc.log" -i "$X" --no-tc -e /dev/null || fail "no-tc: did not start"
check_eq "--no-tc: XDP only" "$(attached "$S" "$X")" "xdp"
stop_wait "$FLOWD_PID"
check_eq "modes: all clean" "$(attached "$S" "$X")" ""

# --- a foreign XDP program that cannot be shared ---------------------------------
cat >"$T_TMP/foreign.bpf.c" <<'BPF'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int foreign_pass(struct xdp_md *ctx) { return XDP_PASS; }
char LICENSE[] SEC("license") = "GPL";
BPF
if clang -g -O2 -target bpf -I/usr/include/x86_64-linux-gnu -c "$T_TMP/foreign.bpf.c" -o "$T_TMP/foreign.o" &&
	ip -n "$S" link set dev "$X" xdpgeneric obj "$T_TMP/foreign.o" sec xdp; then
	msg=$(ip netns exec "$S" "$FLOWD" -i "$X" -e /dev/null 2>&1); rc=$?
	check_eq "foreign XDP: refused with exit 1" "$rc" 1
	check "foreign XDP: says why ($msg)" grep -q "$X: XDP program 'foreign_pass' (id [0-9]*) is attached in skb mode without the libxdp dispatcher, so it cannot be shared" <<<"$msg"
	check_eq "foreign XDP: left untouched, nothing of ours attached" "$(attached "$S" "$X")" "xdp"
	check "foreign XDP: still the foreign program" sh -c "ip -n $S -d link show dev $X | grep -q foreign_pass"
	flowd_start "$S" "$T_TMP/foreign-tc.log" -i "$X" --xdp-mode off -e /dev/null
	check "foreign XDP: --xdp-mode off runs next to it" kill -0 "$FLOWD_PID"
	stop_wait "$FLOWD_PID"
	ip -n "$S" link set dev "$X" xdpgeneric off
else
	fail "foreign XDP: could not attach the foreign test program"
fi

# --- TC filters of others keep running, and keep their qdisc -----------------------
# A foreign TC program counting what reaches it; flowd's filter is added in
# front of it (automatic priority) and must let packets through to it.
cat >"$T_TMP/foreign_tc.bpf.c" <<'BPF'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
__u64 foreign_seen;
SEC("tc") int foreign_tc(struct __sk_buff *skb) { __sync_fetch_and_add(&foreign_seen, 1); return -1; }
char LICENSE[] SEC("license") = "GPL";
BPF
foreign_seen() {
	local id map
	id=$(tc -n "$S" filter show dev "$X" egress | sed -n 's/.* id \([0-9]*\) name foreign_tc .*/\1/p')
	map=$(bpftool prog show id "$id" | sed -n 's/.*map_ids \([0-9]*\).*/\1/p')
	bpftool map dump id "$map" | sed -n 's/.*"foreign_seen": \([0-9]*\).*/\1/p'
}
if clang -g -O2 -target bpf -I/usr/include/x86_64-linux-gnu -c "$T_TMP/foreign_tc.bpf.c" -o "$T_TMP/foreign_tc.o" &&
	tc -n "$S" qdisc add dev "$X" clsact && tc -n "$S" filter add dev "$X" egress bpf da obj "$T_TMP/foreign_tc.o" sec tc; then
	flowd_start "$S" "$T_TMP/tcshare.log" -i "$X" -e /dev/null || fail "tc sharing: did not start"
	pref_of() { tc -n "$S" filter show dev "$X" egress | sed -n "s/^filter protocol all pref \([0-9]*\) .* name $1 .*/\1/p"; }
	p_flowd=$(pref_of flow_tc_egress) p_foreign=$(pref_of foreign_tc)
	check "tc sharing: flowd's filter runs first (pref ${p_flowd:-?} before ${p_foreign:-?})" \
		test "${p_flowd:-99999}" -lt "${p_foreign:-0}"
	before=$(foreign_seen)
	ip netns exec "$C" ping -q -c 3 -i 0.2 198.18.1.2 >/dev/null
	after=$(foreign_seen)
	stop_wait "$FLOWD_PID"
	check "tc sharing: the filter behind flowd's still saw the echo replies ($before -> $after)" \
		test "$((after - before))" -ge 3
	check_eq "tc sharing: the foreign filter and the qdisc stay after flowd" "$(attached "$S" "$X")" "tc-egress clsact"
	check "tc sharing: it is still the foreign filter" sh -c "tc -n $S filter show dev $X egress | grep -q foreign_tc"
	tc -n "$S" qdisc del dev "$X" clsact
else
	fail "tc sharing: could not attach the foreign TC program"
fi

# --- two interfaces, events to a file --------------------------------------------
ev=$T_TMP/two.json
echo '{"existing":"line"}' >"$ev"
flowd_start "$S" "$T_TMP/two.log" -i "$X" -i "$Y" --poll-interval 100ms -e "$ev" --node-name test-node \
	|| fail "two interfaces: did not start"
ip netns exec "$C" ping -q -c 2 -i 0.2 198.18.1.2 >/dev/null
ip netns exec "$C" ping -q -c 2 -i 0.2 198.18.2.2 >/dev/null
sleep 0.3
stop_wait "$FLOWD_PID"
xi=$(ip netns exec "$S" cat /sys/class/net/$X/ifindex) yi=$(ip netns exec "$S" cat /sys/class/net/$Y/ifindex)
check "two interfaces: export file appended, not truncated" sh -c "head -1 $ev | grep -q existing"
check "two interfaces: flow on $X named and indexed" \
	grep -q "\"source\":\"198.18.1.2\".*\"interface\":{\"index\":$xi,\"name\":\"$X\"}.*\"event\":\"end\",\"packets\":2," "$ev"
check "two interfaces: flow on $Y named and indexed" \
	grep -q "\"source\":\"198.18.2.2\".*\"interface\":{\"index\":$yi,\"name\":\"$Y\"}.*\"event\":\"end\",\"packets\":2," "$ev"
check "two interfaces: node name" grep -q '"node_name":"test-node","time"' "$ev"
check_eq "two interfaces: both detached" "$(attached "$S" "$X")/$(attached "$S" "$Y")" "/"
msg=$(ip netns exec "$S" "$FLOWD" -i "$X" -e /nonexistent/dir/events.json 2>&1); rc=$?
check_eq "unwritable export file: exit 1" "$rc" 1
check "unwritable export file: message ($msg)" grep -q "export-file /nonexistent/dir/events.json: No such file or directory" <<<"$msg"

t_done

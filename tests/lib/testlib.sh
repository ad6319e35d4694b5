# Shared helpers for shell tests. Source it: . "$(dirname "$0")/../lib/testlib.sh"
#
# Every test prints "PASS: name" / "FAIL: name why" per case and exits
# non-zero if any case failed (tests/run.sh counts them). Namespaces and
# processes made through these helpers are removed on exit, also on failure.

set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
FLOWD=$BUILD/flowd
FLOWCTL=$BUILD/flowctl
PY=/usr/bin/python3          # Debian's python3 (has scapy, grpcio, kafka)
T_FAILS=0
T_NETNS=()
T_PIDS=()
T_TMP=$(mktemp -d /tmp/flowd-test.XXXXXX)

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $*"; T_FAILS=$((T_FAILS + 1)); }
# check NAME CMD...: pass if the command succeeds
check() { local n=$1; shift; if "$@"; then pass "$n"; else fail "$n"; fi; }
# check_eq NAME GOT WANT
check_eq() {
	if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}

# Unique, short names so parallel runs do not collide.
T_ID=$(printf '%04x' $(( $$ % 65536 )))

# netns_add NAME: creates namespace NAME (remembered for cleanup), lo up.
netns_add() {
	ip netns add "$1" || return 1
	T_NETNS+=("$1")
	ip -n "$1" link set lo up
}

# bg CMD...: start a background process, remembered for cleanup; sets BG_PID.
bg() { "$@" & BG_PID=$!; T_PIDS+=("$BG_PID"); }

t_cleanup() {
	local p n
	for p in "${T_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${T_PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$p" 2>/dev/null
	done
	for n in "${T_NETNS[@]}"; do
		# processes we did not track but started inside our namespace
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

# t_done: exit with the right status (call last).
t_done() { [ "$T_FAILS" -eq 0 ]; exit $?; }

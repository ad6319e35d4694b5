#!/usr/bin/env bash
# Runs every test and prints one summary line: "N passed, N failed".
#
# A test is an executable: build/tests/NAME for each tests/unit/test_*.c and
# tests/bpf/test_*.c (C programs), or tests/**/test_*.sh. It prints one line per case,
# "PASS: <name>" or "FAIL: <name> <why>", and exits non-zero if any case
# failed. A test that exits non-zero without printing a FAIL line counts as
# one failure; one that prints nothing and exits 0 counts as one pass.
#
#   tests/run.sh [PATTERN]   only tests whose path contains PATTERN
#   TEST_TIMEOUT=secs        per test program (default 300: the slowest test takes ~30 s)
set -u
cd "$(dirname "$0")/.."
pattern=${1:-}
timeout_s=${TEST_TIMEOUT:-300}
passed=0 failed=0
failed_names=()

# The list comes from the sources, not from what build/tests holds: a test
# that was not built or is not executable fails instead of being skipped,
# and a stale binary of a deleted test is not run.
mapfile -t tests < <( { ls -1 tests/unit/test_*.c tests/bpf/test_*.c 2>/dev/null |
	sed -E 's#^tests/(unit|bpf)/(.*)\.c$#build/tests/\2#'; find tests -name 'test_*.sh' -type f | sort; } )
logdir=build/test-logs
mkdir -p "$logdir"

# remove_leftovers RECORD: what a test recorded making (tests/lib/testlib.sh
# t_record: network namespaces, temporary folders) and did not remove: a
# test killed by the timeout cannot clean up. Kills the processes inside
# such a namespace, deletes it (its veths and the BPF programs attached to
# them go with it) and flowd's lock files of it. Prints what it removed.
remove_leftovers() {
	local kind what ino
	while read -r kind what; do
		case $kind in
		netns)
			[ -e "/run/netns/$what" ] || continue
			ino=$(stat -L -c %i "/run/netns/$what" 2>/dev/null)
			ip netns pids "$what" 2>/dev/null | xargs -r kill -9 2>/dev/null
			ip netns del "$what" 2>/dev/null
			[ -n "$ino" ] && rm -f /run/flowd/iface-"$ino"-*.lock
			echo -n " netns $what" ;;
		tmp)
			[ -d "$what" ] || continue
			rm -rf "$what"
			echo -n " $what" ;;
		esac
	done <"$1"
}

for t in "${tests[@]}"; do
	[ -n "$pattern" ] && [[ "$t" != *"$pattern"* ]] && continue
	name=${t#build/tests/}; name=${name#tests/}
	log="$logdir/$(echo "$name" | tr '/' '_').log"
	record=${log%.log}.made
	: >"$record"
	start=$(date +%s)
	if [ -x "$t" ]; then
		# stdin from /dev/null: CI runs with no standard input, and with fd 0
		# closed the first socket a test's program opens becomes fd 0 (dig
		# then aborts in libuv: "uv__close: Assertion `fd > STDERR_FILENO'")
		T_RECORD=$PWD/$record timeout --kill-after=10 "$timeout_s" "$t" </dev/null >"$log" 2>&1
		rc=$?
	else
		echo "FAIL: $name is not an executable file (not built? no x bit?)" >"$log"
		rc=126
	fi
	secs=$(( $(date +%s) - start ))
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	if [ "$rc" -eq 124 ] || { [ "$rc" -eq 137 ] && [ "$secs" -ge "$timeout_s" ]; }; then
		f=$((f + 1)) # a timeout is a failure of its own, whatever passed before it
		echo "FAIL: $name timed out after ${timeout_s}s (TEST_TIMEOUT)" >>"$log"
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "FAIL: $name exited with status $rc" >>"$log"
	fi
	left=$(remove_leftovers "$record")
	if [ -n "$left" ] && [ "$rc" -eq 0 ]; then
		f=$((f + 1))
		echo "FAIL: $name left behind (removed now):$left" >>"$log"
	elif [ -n "$left" ]; then
		echo "run.sh: removed what $name left behind:$left" >>"$log"
	fi
	[ "$rc" -eq 0 ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && p=1
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		echo "[FAIL] $name ($p passed, $f failed, ${secs}s) — log: $log"
		grep '^FAIL: ' "$log" | head -20 | sed 's/^/    /'
		failed_names+=("$name")
	else
		echo "[ ok ] $name ($p passed, ${secs}s)"
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

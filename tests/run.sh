#!/usr/bin/env bash
# Runs every test and prints one summary line: "N passed, N failed".
#
# A test is an executable: build/tests/* (C programs from tests/unit and
# tests/bpf) or tests/**/test_*.sh. It prints one line per case,
# "PASS: <name>" or "FAIL: <name> <why>", and exits non-zero if any case
# failed. A test that exits non-zero without printing a FAIL line counts as
# one failure; one that prints nothing and exits 0 counts as one pass.
#
#   tests/run.sh [PATTERN]   only tests whose path contains PATTERN
#   TEST_TIMEOUT=secs        per test program (default 600)
set -u
cd "$(dirname "$0")/.."
pattern=${1:-}
timeout_s=${TEST_TIMEOUT:-600}
passed=0 failed=0
failed_names=()

mapfile -t tests < <( { ls -1 build/tests/* 2>/dev/null; find tests -name 'test_*.sh' -type f | sort; } )
logdir=build/test-logs
mkdir -p "$logdir"

for t in "${tests[@]}"; do
	[ -x "$t" ] || continue
	[ -n "$pattern" ] && [[ "$t" != *"$pattern"* ]] && continue
	name=${t#build/tests/}; name=${name#tests/}
	log="$logdir/$(echo "$name" | tr '/' '_').log"
	start=$(date +%s)
	timeout --kill-after=10 "$timeout_s" "$t" >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "FAIL: $name exited with status $rc" >>"$log"
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

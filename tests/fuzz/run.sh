#!/usr/bin/env bash
# Runs every libFuzzer target in build/fuzz for FUZZ_SECONDS each (default
# 30), starting from its seed corpus tests/fuzz/corpus/<target>/ (copied to
# build/fuzz-corpus/<target>, where new inputs accumulate). A crash leaves
# its input in build/fuzz-crashes/<target>/ and fails the run; turn it into
# a named regression vector in the parser's unit test.
#   tests/fuzz/run.sh [TARGET...]
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-30}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=($(ls build/fuzz/ 2>/dev/null | grep '^fuzz_'))
failed=0
for t in "${targets[@]}"; do
	bin=build/fuzz/$t
	[ -x "$bin" ] || { echo "run.sh: $bin missing (make fuzz builds it)" >&2; failed=1; continue; }
	work=build/fuzz-corpus/$t crashes=build/fuzz-crashes/$t
	mkdir -p "$work" "$crashes"
	[ -d "tests/fuzz/corpus/$t" ] && cp -n tests/fuzz/corpus/$t/* "$work"/ 2>/dev/null
	echo "== $t (${secs}s)"
	if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$crashes/" "$work" >"build/fuzz-$t.log" 2>&1; then
		echo "FAIL: $t (log: build/fuzz-$t.log, inputs: $crashes/)"
		failed=1
	else
		grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "build/fuzz-$t.log" | tail -1
		echo "PASS: $t"
	fi
done
exit $failed

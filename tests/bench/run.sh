#!/usr/bin/env bash
# `make bench`: runs every benchmark program built from tests/bench/*.c
# (build/bench/NAME) and every tests/bench/bench_*.sh script one after the
# other and prints its report (gen_* programs are capture generators and tool_*
# helpers the
# scripts use). Benchmarks
# are not tests: they print figures, they do not pass or fail. Most need
# root (BPF_PROG_TEST_RUN). BENCH=NAME runs only that one; BENCH_ARGS are
# passed to it (e.g. BENCH=bench_policy BENCH_ARGS=-q make bench).
set -u
cd "$(dirname "$0")/../.."
rc=0
for b in build/bench/* tests/bench/bench_*.sh; do
	[ -x "$b" ] || continue
	name=$(basename "$b" .sh)
	case $name in gen_*|tool_*) continue ;; esac
	[ -n "${BENCH:-}" ] && [ "$name" != "$BENCH" ] && continue
	echo "== $name"
	# shellcheck disable=SC2086
	"$b" ${BENCH_ARGS:-} || { echo "$name failed (status $?)"; rc=1; }
	echo
done
exit $rc

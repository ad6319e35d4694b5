#!/usr/bin/env bash
# Golden replays of pcaps/TESTLIST with tshark cross-checks (golden.py).
# Regenerate after an intended output change: tests/golden/golden.py --update
exec /usr/bin/python3 "$(dirname "$0")/golden.py" "$@"

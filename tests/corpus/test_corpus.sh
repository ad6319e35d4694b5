#!/usr/bin/env bash
# Every capture of ../shared/corpus replayed; peers' HTTP/DNS results compared (corpus.py).
exec /usr/bin/python3 "$(dirname "$0")/corpus.py" "$@"

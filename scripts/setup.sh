#!/usr/bin/env bash
# Create .venv (Python 3.10-3.12) and install gesturekit into it, with EXTRAS (e.g. "test").
# Usage: bash scripts/setup.sh [EXTRAS]
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
py=""
for c in python3.11 python3.12 python3.10 python3; do
  if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(not ((3,10) <= sys.version_info[:2] <= (3,12)))'; then
    py="$c"; break
  fi
done
if [ -z "$py" ]; then
  echo "gesturekit needs Python 3.10-3.12 (mediapipe 0.10.21 has no wheels for newer Pythons)" >&2
  exit 2
fi
[ -x .venv/bin/python ] || "$py" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
spec="."
[ -n "$extras" ] && spec=".[$extras]"
echo "setting up .venv (gesturekit${extras:+[$extras]}) ..." >&2
log=$(mktemp)
# pip's build chatter goes to a log that is shown only if the install fails
if ! .venv/bin/python -m pip install -q -e "$spec" >"$log" 2>&1; then
  cat "$log" >&2; rm -f "$log"
  echo "gesturekit: installing into .venv failed (see above)" >&2
  exit 1
fi
rm -f "$log"

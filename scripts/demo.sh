#!/usr/bin/env bash
# Set up .venv and run the gesturekit demo (live with a camera, else the bundled synthetic session).
# Usage: bash scripts/demo.sh [DEMO ARGS]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/gesturekit demo "$@"

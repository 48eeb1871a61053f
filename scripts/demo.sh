#!/usr/bin/env bash
# Set up .venv and run the gesturekit demo: live with a camera, else the real tracker on the bundled
# real footage (one hand fingerspelling), printing the events and writing ./gesturekit-demo.mp4
# (an annotated copy of the clip) in the folder you run it from. No camera or display needed.
# Usage: bash scripts/demo.sh [DEMO ARGS]      e.g. --synthetic, --out FILE, --camera 0
set -euo pipefail
here="$(pwd)"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
cd "$here"
exec "$root/.venv/bin/gesturekit" demo "$@"

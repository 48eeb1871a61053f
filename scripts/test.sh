#!/usr/bin/env bash
# Set up everything the tests need (Debian packages, .venv, gesturekit[test]) and run them.
# Usage: bash scripts/test.sh [PYTEST ARGS]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .ci/apt-packages.txt ] && command -v apt-get >/dev/null 2>&1; then
  mapfile -t pkgs < <(grep -v '^\s*#' .ci/apt-packages.txt | sed '/^\s*$/d')
  missing=()
  for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
bash scripts/setup.sh test
.venv/bin/ruff check .
# pytest exits 5 when it collects no test: that fails this script too (set -e).
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"

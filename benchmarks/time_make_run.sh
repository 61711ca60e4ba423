#!/usr/bin/env bash
# Seconds from `make run` on a fresh clone of REF until the app answers its health check
# (issue 14: the newcomer's first command). Usage: benchmarks/time_make_run.sh [REF] [PORT]
# Run with PIP_NO_CACHE_DIR=1 to include the downloads a new machine would make.
set -u
ref=${1:-HEAD}; port=${2:-8501}; dest=/tmp/ledgerlens-run-$$
src=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
git clone -q "$src" "$dest" && git -C "$dest" checkout -q "$ref" && cd "$dest" || exit 1
start=$(date +%s)
make run PORT="$port" > "$dest.log" 2>&1 &
until curl -sf "http://127.0.0.1:$port/_stcore/health" > /dev/null 2>&1; do
  sleep 1
  [ $(( $(date +%s) - start )) -gt 900 ] && { echo "no healthy app after 900 s"; break; }
done
echo "$ref: make run → app healthy in $(( $(date +%s) - start )) s"
pkill -f "server.port $port" || true

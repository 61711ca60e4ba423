#!/usr/bin/env bash
# `make test` N times in a row on a fresh clone while two CPU-burning processes run beside it
# (issue 13: the suite must hold on a loaded machine). Usage: benchmarks/loaded_test.sh [N] [DIR]
# Prints one line per run: exit code, wall seconds and pytest's summary line.
set -u
runs=${1:-5}; dest=${2:-/tmp/ledgerlens-loaded}
src=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
rm -rf "$dest"; git clone -q "$src" "$dest"; cd "$dest"
python3 -c 'while True: pass' & b1=$!
python3 -c 'while True: pass' & b2=$!
trap 'kill $b1 $b2' EXIT
for i in $(seq "$runs"); do
  start=$(date +%s)
  make test > "$dest/run-$i.log" 2>&1; rc=$?
  echo "run $i: exit $rc, $(( $(date +%s) - start )) s, $(tail -1 "$dest/run-$i.log")"
done

#!/bin/bash
# Runs one fuzz target from its seed corpus for a bounded time (or run count) and fails on
# any crash, leak or sanitizer report.
#   run_fuzzer.sh TARGET_BINARY SEED_DIR WORK_DIR [libFuzzer options, e.g. -max_total_time=20]
set -euo pipefail
bin=${1:?binary}; seeds=${2:?seeds}; work=${3:?work dir}; shift 3
name=$(basename "$bin")
mkdir -p "$work/$name/corpus" "$work/$name/artifacts"
"$bin" "$work/$name/corpus" "$seeds/$name" -artifact_prefix="$work/$name/artifacts/" \
  -print_final_stats=1 -rss_limit_mb=1024 -timeout=10 "$@" 2>"$work/$name/log" || {
  tail -60 "$work/$name/log"; echo "$name: FAILED"; exit 1; }
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name/log")
echo "$name: $execs executions, no crash"

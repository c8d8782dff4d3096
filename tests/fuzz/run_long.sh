#!/bin/bash
# Long fuzz runs: every target for RUNS executions (default 10 million), in a fuzz build:
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DVSTORE_SANITIZE=ON -DVSTORE_FUZZ=ON
#   cmake --build build-fuzz -j"$(nproc)" && tests/fuzz/run_long.sh build-fuzz [RUNS]
set -euo pipefail
build=${1:?build dir}; runs=${2:-10000000}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for t in fuzz_vmailmgr_record fuzz_vpopmail_records fuzz_login fuzz_quota_limits fuzz_settings fuzz_cdb_file; do
  bash "$here/run_fuzzer.sh" "$build/tests/fuzz/$t" "$build/tests/fuzz/seeds" "$build/tests/fuzz/long" -runs="$runs"
done

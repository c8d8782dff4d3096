#!/bin/bash
# Builds the module against Dovecot 2.4.1: Debian 13's dovecot-dev, downloaded and unpacked
# into BUILD/dovecot-dev (never installed), then a build of this source with
# -DDOVECOT_ROOT pointing at it. Warnings are errors: this is the 2.4 compile check.
#   tests/dovecot24/build.sh SOURCE BUILD
set -euo pipefail
src=$(cd "${1:?usage: build.sh SOURCE BUILD}" && pwd)
build=${2:?}
mkdir -p "$build"
bash "$src/scripts/fetch-debian-dovecot-dev" trixie "$build/dovecot-dev"
cmake -S "$src" -B "$build/out" -DDOVECOT_ROOT="$build/dovecot-dev" -DVSTORE_TESTS=OFF -DVSTORE_BENCH=OFF \
      -DCMAKE_C_FLAGS=-Werror -DCMAKE_CXX_FLAGS=-Werror >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
grep -E '^-- Dovecot' "$build/configure.log"
cmake --build "$build/out" -j"$(nproc)" --target vstore_auth vstore_auth_settings
ls -l "$build/out/modules/auth" "$build/out/modules/settings"

#!/bin/bash
# Builds the module against Dovecot 2.4.1: Debian 13's dovecot-dev, downloaded and unpacked
# into BUILD/dovecot-dev (never installed), then a build of this source with
# -DDOVECOT_ROOT pointing at it. Warnings are errors: this is the 2.4 compile check. Then the
# Debian 13 package (cpack: dovecot-vstore-auth_<version>+deb13_amd64.deb in BUILD/out, which
# run.sh installs in the Debian 13 root), which must depend on dovecot-abi-2.4.abiv1, ship the
# settings module, and be lintian-clean (no error or warning).
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

# The Debian 13 package.
rm -f "$build"/out/dovecot-vstore-auth_*.deb
(cd "$build/out" && cpack -G DEB >"$build/cpack.log" 2>&1) || { cat "$build/cpack.log"; exit 1; }
deb=$(ls "$build"/out/dovecot-vstore-auth_*+deb13_amd64.deb)
echo "$(basename "$deb"): Depends: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -f "$deb" Depends | grep -qE '(^|, )dovecot-abi-2\.4\.abiv1(,|$)' ||
  { echo "build.sh: $deb does not depend on dovecot-abi-2.4.abiv1" >&2; exit 1; }
dpkg-deb -c "$deb" >"$build/deb-contents.txt"
grep -q ' \./usr/lib/dovecot/modules/settings/libvstore_auth_settings\.so$' "$build/deb-contents.txt" ||
  { echo "build.sh: $deb lacks the settings module" >&2; exit 1; }
rc=0
out=$(lintian --fail-on error,warning "$deb" 2>&1) || rc=$?
echo "lintian $(basename "$deb"): exit $rc"
printf '%s\n' "$out" | grep -v '^running with root privileges' || true
[[ $rc == 0 ]] || { echo "build.sh: lintian found errors or warnings" >&2; exit 1; }

#!/bin/bash
# Checks that the patches in patches/ apply with --fuzz=0 to the Dovecot 2.3 source package of
# each Debian suite the project supports: bullseye (2.3.13), bookworm (2.3.19.1) and
# bookworm-backports (2.3.21.1).
#   tests/patch/patch_applies.sh SOURCE_DIR WORK_DIR [SUITE...]
set -euo pipefail
src=${1:?source dir}; work=${2:?work dir}; shift 2
suites=("$@")
((${#suites[@]})) || suites=(bullseye bookworm bookworm-backports)
# The host's suite (bookworm) must be checked; another suite whose source the mirror does not
# serve is reported as not checked (fetch-dovecot-source exit 3), not as a pass.
passed=0 failed=0 unchecked=0
for suite in "${suites[@]}"; do
  rc=0
  "$src/patches/fetch-dovecot-source" "$work/$suite" "$suite" || rc=$?
  if [[ $rc == 3 && $suite != bookworm ]]; then
    echo "$suite: NOT CHECKED: the mirror does not serve this suite's dovecot source"
    unchecked=$((unchecked + 1))
    continue
  fi
  ((rc == 0)) || exit "$rc"
  for p in "$src"/patches/*.patch; do
    if patch -d "$work/$suite" -p1 --dry-run --fuzz=0 <"$p" >"$work/$suite.log" 2>&1; then
      echo "$suite: applies cleanly: $(basename "$p")"
      passed=$((passed + 1))
    else
      cat "$work/$suite.log"
      echo "$suite: does not apply: $(basename "$p")"
      failed=$((failed + 1))
    fi
  done
done
echo "patch check: $passed passed, $failed failed, $unchecked suites not checked"
((failed == 0))

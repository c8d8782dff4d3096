#!/bin/bash
# Checks that the patches in patches/ apply cleanly to Debian 12's Dovecot source package.
#   tests/patch/patch_applies.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=${1:?source dir}; work=${2:?work dir}
"$src/patches/fetch-dovecot-source" "$work/dovecot"
for p in "$src"/patches/*.patch; do
  patch -d "$work/dovecot" -p1 --dry-run --fuzz=0 < "$p" >/dev/null
  echo "applies cleanly: $(basename "$p")"
done
echo "patch check: 1 passed, 0 failed"

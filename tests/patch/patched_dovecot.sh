#!/bin/bash
# The colon patch's proof on the host's Debian 12 Dovecot (2.3.19.1): fetches Debian 12's Dovecot
# source and runs tests/patch/colon_patch_proof.sh on it (a patched libdovecot-storage.so.0, the
# patch's unit test, and the IMAP login of bob.smith@example.org with mail_location =
# maildir:%h on the stock and on the patched library). tests/roots/run.sh runs the same proof
# inside the Debian 11 and bookworm-backports roots.
#   tests/patch/patched_dovecot.sh SOURCE_DIR WORK_DIR MODULE_DIR FIXTURES_DIR
set -euo pipefail
src=${1:?source dir}; work=${2:?work dir}; module_dir=${3:?module dir}; fixtures=${4:?fixtures}
mkdir -p "$work"
"$src/patches/fetch-dovecot-source" "$work/dovecot-src" bookworm
bash "$src/tests/patch/colon_patch_proof.sh" --dovecot-source "$work/dovecot-src" \
  --module-dir "$module_dir" --fixtures "$fixtures" --work "$work"

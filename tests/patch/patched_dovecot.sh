#!/bin/bash
# Builds Debian 12's Dovecot with patches/dovecot-2.3-mail-location-colon-path.patch, runs
# lib-storage's test-mailbox-list (which the patch extends with colon-path cases), installs
# the build into WORK_DIR/prefix and logs the vmailmgr fixture user bob.smith@example.org in
# with mail_location = maildir:%h, on the patched and on the stock Dovecot.
#   tests/patch/patched_dovecot.sh SOURCE_DIR WORK_DIR MODULE_DIR FIXTURES_DIR
# Takes a while (a full Dovecot build): ctest -L patch-build, see README.
set -euo pipefail
src=${1:?source dir}; work=${2:?work dir}; module_dir=${3:?module dir}; fixtures=${4:?fixtures}
mkdir -p "$work"
work=$(cd "$work" && pwd)
prefix=$work/prefix
if [[ ! -x $prefix/sbin/dovecot || $src/patches/dovecot-2.3-mail-location-colon-path.patch -nt $prefix/sbin/dovecot ]]; then
  "$src/patches/fetch-dovecot-source" "$work/dovecot"
  patch -d "$work/dovecot" -p1 --fuzz=0 < "$src/patches/dovecot-2.3-mail-location-colon-path.patch"
  cd "$work/dovecot"
  # Only what the mail-location test and an IMAP login need.
  ./configure --prefix="$prefix" --disable-static --without-ssl --without-lzma --without-lz4 \
    --without-zstd --without-bzlib --without-libcap --without-systemd --without-icu \
    --without-stemmer --without-textcat --without-lucene --without-solr --without-ldap \
    --without-gssapi --without-sql --without-lua >"$work/configure.log" 2>&1 \
    || { tail -30 "$work/configure.log"; exit 1; }
  # Debian's fix for CVE-2025-59031 drops decode2text.sh from Makefile.am but its
  # Makefile.in still lists it; an empty stand-in lets the fts plugin build.
  [[ -e src/plugins/fts/decode2text.sh ]] || : > src/plugins/fts/decode2text.sh
  make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -40 "$work/make.log"; exit 1; }
  make -C src/lib-storage test-mailbox-list >>"$work/make.log" 2>&1
  make install >"$work/install.log" 2>&1 || { tail -30 "$work/install.log"; exit 1; }
fi
cd "$work/dovecot/src/lib-storage"
./test-mailbox-list | tee "$work/test-mailbox-list.log"
grep -q "mailbox_list_settings_parse() with ':' in the path .* : ok" "$work/test-mailbox-list.log"
cd "$src"
python3 tests/patch/run_patched.py --prefix "$prefix" --module-dir "$module_dir" \
  --fixtures "$fixtures" --work "$work/e2e"

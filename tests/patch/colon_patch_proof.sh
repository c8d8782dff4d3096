#!/bin/bash
# The proof of patches/dovecot-2.3-mail-location-colon-path.patch on the Dovecot 2.3 installed
# here: the host's Debian 12 Dovecot (tests/patch/patched_dovecot.sh), or that of a Debian root
# of tests/roots/ (run inside it). The patch changes only lib-storage, which is
# libdovecot-storage.so.0, so only that library is built, from the patched Debian source of the
# installed version; then
#   - it must export every symbol the installed libdovecot-storage.so.0 exports;
#   - the patch's unit test (test-mailbox-list-settings) must pass with it and fail with the
#     installed library;
#   - the vmailmgr fixture user bob.smith@example.org logs in over IMAP with mail_location =
#     maildir:%h on the installed Dovecot, which must cut the path at the ':' ("Unknown
#     setting: Smith"), and on the same binaries with the patched library bind-mounted over
#     the installed one in a private mount namespace, which must open users/Bob:Smith.
#   tests/patch/colon_patch_proof.sh --dovecot-source DIR --module-dir DIR --fixtures DIR --work DIR
# --dovecot-source: the Debian source package of the installed Dovecot version, as
#   patches/fetch-dovecot-source DIR SUITE unpacks it (read only: the build is in WORK)
# --module-dir: this project's auth modules built for this Dovecot (a build's modules/auth, or
#   /usr/lib/dovecot/modules/auth where the package is installed)
# --fixtures: tests/fixtures (the stores and their install.sh)
# --work: a scratch directory; a build there is reused while the source, the patch, this
#   script and the installed dovecot-dev are the same
# The library is built the way the installed one was, without running configure: the
# installed dovecot-dev's config.h and compiler flags (dovecot-config, less -g and LTO), the
# source files and include paths of the Makefile.am of each directory it is made of
# (lib-storage and its list/ and index/ drivers, lib-index, lib-imap-client,
# lib-imap-storage), linked against the installed libdovecot.so.0.
# Needs gcc, make, binutils, patch, dovecot-dev, util-linux (unshare, mount), python3; run as
# root, with /proc mounted.
# shellcheck disable=SC2016 # the printf formats below write make's $(...) and $@ as they are
set -euo pipefail
usage() { sed -n 's/^#   \(tests\/patch\/colon.*\)/\1/p' "$0" >&2; exit 2; }
dsrc='' module_dir='' fixtures='' work=''
while (($#)); do
  case $1 in
    --dovecot-source) dsrc=${2:?}; shift 2 ;;
    --module-dir) module_dir=${2:?}; shift 2 ;;
    --fixtures) fixtures=${2:?}; shift 2 ;;
    --work) work=${2:?}; shift 2 ;;
    *) usage ;;
  esac
done
[[ -n $dsrc && -n $module_dir && -n $fixtures && -n $work ]] || usage
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
patch_file=$src/patches/dovecot-2.3-mail-location-colon-path.patch
libdir=/usr/lib/dovecot
stock_config=/usr/include/dovecot/config.h
dsrc=$(cd "$dsrc" && pwd)
mkdir -p "$work"
work=$(cd "$work" && pwd)
tree=$work/dovecot out=$work/lib
lib=$out/libdovecot-storage.so.0
t0=$SECONDS
step() { echo "[$((SECONDS - t0))s] $*"; }

# The source, the installed binaries and the installed dovecot-dev must be one version.
[[ -f $stock_config && -f $libdir/dovecot-config ]] ||
  { echo "colon_patch_proof.sh: dovecot-dev is not installed" >&2; exit 1; }
installed=$(dovecot --version | cut -d' ' -f1)
dev=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$stock_config")
source=$(sed -n 's/^AC_INIT(\[Dovecot\],\[\([^]]*\)\].*/\1/p' "$dsrc/configure.ac")
debian=$(dpkg-parsechangelog -l "$dsrc/debian/changelog" -S Version 2>/dev/null || echo none)
echo "Dovecot $installed (dovecot-core $(dpkg-query -W -f='${Version}' dovecot-core 2>/dev/null || echo '?')," \
     "dovecot-dev $dev); source $source (Debian $debian) in $dsrc"
[[ $installed == "$dev" && $installed == "$source" ]] || {
  echo "colon_patch_proof.sh: the installed Dovecot ($installed), dovecot-dev ($dev) and the source ($source) differ" >&2
  exit 1
}
[[ $installed == 2.3.* ]] || { echo "colon_patch_proof.sh: the patch is for Dovecot 2.3, this is $installed" >&2; exit 1; }

am_var() { # DIR VAR: the value of VAR in the patched tree's DIR/Makefile.am
  # (automake conditionals taken as false: the directories here have only HAVE_LUA's)
  { sed '/^if /,/^endif/d' "$tree/$1/Makefile.am"; printf '\n$(info $(%s))\n__print: ;\n' "$2"; } |
    make -s -f - __print top_srcdir="$tree" top_builddir="$tree" srcdir=. \
      rundir=/run/dovecot moduledir="$libdir/modules"
}

build() {
  rm -rf "$tree" "$out"
  mkdir -p "$out/config"
  cp -a "$dsrc" "$tree"
  patch -d "$tree" -p1 --fuzz=0 <"$patch_file"
  cp "$stock_config" "$out/config/config.h"
  local cflags
  # shellcheck disable=SC1091
  cflags=$(. "$libdir/dovecot-config" && echo " $DOVECOT_CFLAGS ")
  cflags=$(sed -E 's/ -g / /g; s/ -flto(=[^ ]*)? / /g; s/ -ffat-lto-objects / /g' <<<"$cflags")
  local objs=() dir var f o cpp la
  {
    echo "CFLAGS := $cflags -fPIC"
    emit() { # DIR VAR: a rule for each C file of VAR in DIR/Makefile.am
      dir=$1 var=$2
      cpp=$(am_var "$dir" AM_CPPFLAGS)
      local n=0
      for f in $(am_var "$dir" "$var"); do
        [[ $f == *.c ]] || continue
        o=obj/$dir/${f%.c}.o
        objs+=("$o")
        n=$((n + 1))
        printf '%s: %s\n\t@mkdir -p $(@D) && $(CC) -DHAVE_CONFIG_H -I%s -I%s %s $(CFLAGS) -c $< -o $@\n' \
          "$o" "$tree/$dir/$f" "$tree/$dir" "$out/config" "$cpp"
      done
      ((n)) || { echo "colon_patch_proof.sh: no C files in $var of $dir/Makefile.am" >&2; exit 1; }
    }
    emit src/lib-storage libstorage_la_SOURCES
    # the convenience libraries libstorage.la is made of: the drivers, lib-index, ...
    for la in $(am_var src/lib-storage shlibs); do
      dir=$(realpath -m --relative-to="$tree" "$tree/src/lib-storage/$(dirname "$la")")
      emit "$dir" "$(basename "$la" .la | tr -c 'a-zA-Z0-9\n' _)_la_SOURCES"
    done
    echo "libdovecot-storage.so.0: ${objs[*]}"
    printf '\t$(CC) -shared -Wl,-soname,$@ -Wl,--no-undefined -Wl,-z,relro -Wl,-z,now -o $@ $^ -L%s -Wl,-rpath,%s -l:libdovecot.so.0\n' \
      "$libdir" "$libdir"
    # the unit test, linked with the installed libraries (LD_LIBRARY_PATH picks the patched one)
    echo "test-mailbox-list-settings: $tree/src/lib-storage/test-mailbox-list-settings.c"
    printf '\t$(CC) -DHAVE_CONFIG_H -I%s -I%s %s $(CFLAGS) -o $@ $< -L%s -Wl,-rpath,%s -l:libdovecot-storage.so.0 -l:libdovecot.so.0\n' \
      "$tree/src/lib-storage" "$out/config" "$(am_var src/lib-storage AM_CPPFLAGS)" "$libdir" "$libdir"
  } >"$out/build.mk"
  (cd "$out" && nice -n 10 make -s -j"$(nproc)" -f build.mk libdovecot-storage.so.0 test-mailbox-list-settings) \
    >"$work/make.log" 2>&1 || { tail -40 "$work/make.log" >&2; exit 1; }
  echo "$stamp" >"$out/stamp"
}

stamp="$(sha256sum "${BASH_SOURCE[0]}" "$patch_file" "$stock_config" "$libdir/dovecot-config" | cut -d' ' -f1 | tr '\n' ' ')$dsrc $debian"
if [[ -f $lib && -f $out/stamp && $(cat "$out/stamp") == "$stamp" ]]; then
  step "reusing $lib"
else
  step "building libdovecot-storage.so.0 from the patched source"
  build
  echo "$(grep -c '^obj/' "$out/build.mk") C files compiled"
fi

step "checks"
# A drop-in for the installed library: all of its symbols.
nm -D --defined-only "$libdir/libdovecot-storage.so.0" | awk '{print $3}' | sort >"$work/stock.symbols"
nm -D --defined-only "$lib" | awk '{print $3}' | sort >"$work/patched.symbols"
missing=$(comm -23 "$work/stock.symbols" "$work/patched.symbols")
if [[ -n $missing ]]; then
  echo "colon_patch_proof.sh: the patched libdovecot-storage.so.0 lacks symbols of the installed one:" >&2
  head -20 <<<"$missing" >&2
  exit 1
fi
echo "the patched libdovecot-storage.so.0 exports all $(wc -l <"$work/stock.symbols") symbols of the installed one"

# The unit test passes on the patched library and fails on the installed one.
LD_LIBRARY_PATH=$out "$out/test-mailbox-list-settings" | tee "$work/unit-patched.log"
grep -q "mailbox_list_settings_parse() with ':' in the path .* : ok" "$work/unit-patched.log"
if "$out/test-mailbox-list-settings" >"$work/unit-stock.log" 2>&1; then
  cat "$work/unit-stock.log"
  echo "colon_patch_proof.sh: the unit test passes on the installed (unpatched) library" >&2
  exit 1
fi
echo "the same unit test on the installed libdovecot-storage.so.0 fails, as it must:"
grep -m3 'failed' "$work/unit-stock.log"

step "IMAP login as bob.smith@example.org with mail_location = maildir:%h, stock and patched"
cd "$src"
python3 tests/patch/run_patched.py --storage-lib "$lib" --module-dir "$module_dir" \
  --fixtures "$fixtures" --work "$work/login"
step "done"

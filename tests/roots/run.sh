#!/bin/bash
# One Debian release's Dovecot, end to end, in a root of that release (make-root.sh makes it,
# cached): this source is built inside the root with the root's compiler and dovecot-dev
# (warnings are errors), packaged there (cpack: that release's .deb, which must be lintian-clean
# with the root's lintian), installed with dpkg -i, the integration suites of the vpopmail,
# vmailmgr and vpopmail MySQL stores run against the root's Dovecot with the installed package,
# and, on a 2.3 release, the colon patch proof run (tests/patch/colon_patch_proof.sh); then the
# package is purged (it must leave none of its files).
#   tests/roots/run.sh SUITE SOURCE FIXTURES WORK [--quick|--full] [--store STORE]... [--only SCENARIO]...
# SUITE     bullseye, bookworm-backports, trixie or sid (make-root.sh)
# FIXTURES  SOURCE/tests/fixtures (the stores and their install.sh)
# WORK      this run's directory (emptied first): the build and the .deb (WORK/build), the
#           suites' work (WORK/suites), their logs (WORK/logs)
# --full    every scenario of each store (the default for trixie)
# --quick   each store's example_config, verdicts, clients and workers scenarios (those it
#           has; the default for the other suites). VSTORE_ROOT_MODE=quick|full sets the
#           default.
# --store   only this store (vpopmail, vmailmgr, vpopmail_sql; repeat for more)
# --only    run_store.py --only, for each store run (instead of --quick/--full)
# The root is never changed: the run sees it through an overlay whose upper layer is in WORK,
# in its own mount and network namespaces (its Dovecot, MariaDB and fixture users are its
# own, so it can run beside the host's integration suites). Environment: VSTORE_ROOTS (where
# the roots are, default /var/cache/vstore-auth/roots), VSTORE_ROOT_JOBS (build jobs, default
# 2), DEBIAN_MIRROR (make-root.sh).
set -euo pipefail
usage="usage: run.sh SUITE SOURCE FIXTURES WORK [--quick|--full] [--store STORE]... [--only SCENARIO]..."
suite=${1:?$usage}
src=$(cd "${2:?$usage}" && pwd)
fixtures=$(cd "${3:?$usage}" && pwd)
work=${4:?$usage}
shift 4
# What each suite's package must be: the version suffix cmake/DebianRelease.cmake gives the
# release, and the subset or the whole of the suites by default (a full run of every suite
# does not fit CI's time; trixie is the newest stable release).
case $suite in
  bullseye) suffix=+deb11 mode=quick ;;
  bookworm-backports) suffix=+deb12bpo mode=quick ;;
  trixie) suffix=+deb13 mode=full ;;
  sid) suffix=+deb14~sid mode=quick ;;
  *) echo "run.sh: unknown suite '$suite' (bullseye, bookworm-backports, trixie, sid)" >&2; exit 2 ;;
esac
mode=${VSTORE_ROOT_MODE:-$mode}
stores=() only=()
while (($#)); do
  case $1 in
    --quick) mode=quick ;;
    --full) mode=full ;;
    --store) stores+=("${2:?$usage}"); shift ;;
    --only) only+=("${2:?$usage}"); shift ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
  shift
done
[[ $mode == quick || $mode == full ]] || { echo "run.sh: VSTORE_ROOT_MODE is quick or full, not '$mode'" >&2; exit 2; }
((${#stores[@]})) || stores=(vpopmail vmailmgr vpopmail_sql)
((${#only[@]})) && mode=only
roots=${VSTORE_ROOTS:-/var/cache/vstore-auth/roots}
root=$roots/$suite
jobs=${VSTORE_ROOT_JOBS:-2}

t=$SECONDS
bash "$src/tests/roots/make-root.sh" "$suite" "$root"
root_seconds=$((SECONDS - t))
# make-root.sh remakes a root only under its lock: holding it shared keeps the root as it is
# while this run's overlay is on it (other runs of the same root share it).
exec 8>"$root.lock"
flock -s 8

rm -rf "$work"
mkdir -p "$work"/{upper,overlay-work,root,build,suites,logs}
chmod 0755 "$work" "$work/suites"
work=$(cd "$work" && pwd)

# The Dovecot source for the colon patch proof (2.3 releases; bookworm's is the host's, proved
# by ctest patched_dovecot) is fetched here, where the mirror is reachable. A mirror that lists
# it but does not serve it (exit 3) is said in the summary, not taken for a pass.
colon_source=none
if [[ $suite == bullseye || $suite == bookworm-backports ]]; then
  rc=0
  "$src/patches/fetch-dovecot-source" "$work/suites/patch/dovecot-src" "$suite" >"$work/logs/fetch-source.log" 2>&1 || rc=$?
  case $rc in
    0) colon_source=fetched ;;
    3) colon_source=unserved; cat "$work/logs/fetch-source.log" ;;
    *) cat "$work/logs/fetch-source.log"; echo "run.sh ($suite): fetching the dovecot source failed" >&2; exit 1 ;;
  esac
fi

# A private mount and network namespace: the overlay and every mount below go away when the
# run ends, and the root's processes have their own loopback (and no other network).
VSTORE_COLON_SOURCE=$colon_source unshare --mount --net --propagation private bash -s "$suite" "$root" "$src" "$fixtures" "$work" "$suffix" \
  "$mode" "$jobs" "$root_seconds" "${#stores[@]}" "${stores[@]}" "${only[@]}" <<'INNER'
set -euo pipefail
suite=$1 lower=$2 src=$3 fixtures=$4 work=$5 suffix=$6 mode=$7 jobs=$8 root_seconds=$9 nstores=${10}
shift 10
stores=("${@:1:nstores}") only=("${@:nstores+1}")
root=$work/root
in_root() {
  chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
fail() { echo "run.sh ($suite): $*" >&2; exit 1; }
ip link set lo up  # the host's ip: the root needs no iproute2
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$work/upper,workdir=$work/overlay-work" "$root"
mkdir -p "$root"/vstore/{src,fixtures,build,work}
mount --bind "$src" "$root/vstore/src" && mount -o remount,bind,ro "$root/vstore/src"
mount --bind "$fixtures" "$root/vstore/fixtures" && mount -o remount,bind,ro "$root/vstore/fixtures"
mount --bind "$work/build" "$root/vstore/build"
mount --bind "$work/suites" "$root/vstore/work"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/run"
# A Debian system has an /etc/hosts (the installer writes it; netbase ships one since Debian 12):
# bullseye's debootstrap has none, and with no network here localhost would not resolve
# (mariadb-install-db needs it).
[[ -e $root/etc/hosts ]] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
dovecot_version=$(in_root dovecot --version | cut -d' ' -f1)
echo "== $suite: Dovecot $dovecot_version, $(in_root g++ --version | head -n 1), $(in_root cmake --version | head -n 1)"

# The build, the package and lintian, in the root.
t=$SECONDS
in_root nice -n 10 cmake -S /vstore/src -B /vstore/build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVSTORE_TESTS=OFF -DVSTORE_BENCH=OFF -DCMAKE_C_FLAGS=-Werror -DCMAKE_CXX_FLAGS=-Werror \
  >"$work/logs/configure.log" 2>&1 || { cat "$work/logs/configure.log"; fail "cmake failed"; }
grep -E '^-- (Dovecot|Debian)' "$work/logs/configure.log"
in_root nice -n 10 cmake --build /vstore/build -j"$jobs" >"$work/logs/build.log" 2>&1 ||
  { tail -n 80 "$work/logs/build.log"; fail "the build failed (all of it: $work/logs/build.log)"; }
build_seconds=$((SECONDS - t))
t=$SECONDS
in_root sh -c 'cd /vstore/build && cpack -G DEB' >"$work/logs/cpack.log" 2>&1 ||
  { cat "$work/logs/cpack.log"; fail "cpack failed"; }
debs=("$work"/build/dovecot-vstore-auth_*.deb)
[[ ${#debs[@]} == 1 && -f ${debs[0]} ]] || fail "cpack made no single package: ${debs[*]}"
deb=/vstore/build/$(basename "${debs[0]}")
field() { in_root dpkg-deb -f "$deb" "$1"; }
echo "$(basename "$deb"): Depends: $(field Depends)"
version=$(field Version)
[[ $version == *"$suffix" ]] || fail "the package's version $version does not end in $suffix"
# dpkg -i below would refuse an ABI this Dovecot does not provide; this says why.
abi=$(field Depends | grep -oE 'dovecot-abi-[0-9.]+abiv[0-9]+') || fail "the package depends on no dovecot-abi-*"
in_root dpkg-query -W -f='${Provides}\n' dovecot-core | grep -qE "(^|, )$abi(,|$| )" ||
  fail "the package depends on $abi, which the root's dovecot-core does not provide"
field Description | grep -qF "Dovecot $dovecot_version." || fail "the description does not name Dovecot $dovecot_version"
in_root dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -e 's|^\./|/|' -e 's|/$||' | grep -v '^$' >"$work/logs/deb-files.txt"
files=(/usr/lib/dovecot/modules/auth/lib20_authdb_vpopmail.so /usr/lib/dovecot/modules/auth/lib20_authdb_vmailmgr.so
       /usr/bin/vstore /usr/share/man/man1/vstore.1.gz /usr/lib/x86_64-linux-gnu/dovecot-vstore-auth/vstore-mysql.so
       /usr/share/doc/dovecot-vstore-auth/copyright /usr/share/doc/dovecot-vstore-auth/changelog.gz)
[[ $dovecot_version == 2.3.* ]] || files+=(/usr/lib/dovecot/modules/settings/libvstore_auth_settings.so)
for f in "${files[@]}"; do
  grep -qxF "$f" "$work/logs/deb-files.txt" || fail "the package lacks $f"
done
rc=0
out=$(in_root lintian --fail-on error,warning "$deb" 2>&1) || rc=$?
echo "lintian $(basename "$deb"): exit $rc"
printf '%s\n' "$out" | grep -v '^running with root privileges' || true
[[ $rc == 0 ]] || fail "lintian found errors or warnings"
package_seconds=$((SECONDS - t))

echo "== dpkg -i $(basename "$deb")"
in_root dpkg -i "$deb"
for f in "${files[@]}"; do
  [[ -e $root$f ]] || fail "the package did not install $f"
done
in_root dpkg-query -W -f='${Package} ${Version} ${Status}\n' dovecot-vstore-auth

status=0
summary=()
for store in "${stores[@]}"; do
  args=()
  case $mode in
    full) ;;
    only) for o in "${only[@]}"; do args+=(--only "$o"); done ;;
    quick)  # the scenarios of the subset that this store has
      for s in $(in_root python3 /vstore/src/tests/integration/run_store.py --store "$store" --list); do
        case $s in example_config|verdicts|clients|workers) args+=(--only "$s") ;; esac
      done ;;
  esac
  echo "== $suite: $store (${mode}${args[*]:+: ${args[*]}})"
  t=$SECONDS
  rc=0
  in_root env VSTORE_MODULE_INSTALLED=1 python3 /vstore/src/tests/integration/run_store.py --store "$store" \
    --module-dir /usr/lib/dovecot/modules/auth --fixtures /vstore/fixtures --source /vstore/src \
    --work "/vstore/work/$store" "${args[@]}" 2>&1 | tee "$work/logs/$store.log" || rc=$?
  ((rc == 0)) || status=1
  result=$(grep -E '^integration [a-z_]+.*: [0-9]+ passed, [0-9]+ failed$' "$work/logs/$store.log" | sed 's/^.*: //' || true)
  summary+=("$store ($mode): $((SECONDS - t)) s, exit $rc, ${result:-no result line}")
  while read -r line; do summary+=("  $line"); done < <(grep -E 'verdicts: agreed [0-9]+/[0-9]+' "$work/logs/$store.log" || true)
done

# The colon-path patch proof (tests/patch/colon_patch_proof.sh) on a 2.3 release: the patched
# libdovecot-storage.so.0 built here from that release's Debian source, its unit test, and an
# IMAP login on the root's own Dovecot binaries with it bind-mounted in, the package still
# installed.
if [[ $dovecot_version == 2.3.* ]]; then
  case ${VSTORE_COLON_SOURCE:-} in
    fetched)
      t=$SECONDS
      rc=0
      in_root env VSTORE_MODULE_INSTALLED=1 bash /vstore/src/tests/patch/colon_patch_proof.sh \
        --dovecot-source /vstore/work/patch/dovecot-src --module-dir /usr/lib/dovecot/modules/auth \
        --fixtures /vstore/fixtures --work /vstore/work/patch/build 2>&1 | tee "$work/logs/colon-patch.log" || rc=$?
      ((rc == 0)) || status=1
      summary+=("colon patch proof: $((SECONDS - t)) s, exit $rc") ;;
    unserved)
      summary+=("colon patch proof: NOT RUN: the mirror does not serve the dovecot source of $suite") ;;
  esac
fi

echo "== dpkg --purge dovecot-vstore-auth"
in_root dpkg --purge dovecot-vstore-auth || status=1
in_root dpkg-query -W -f='${Status}\n' dovecot-vstore-auth 2>/dev/null | grep -q ' installed$' &&
  { echo "run.sh ($suite): the package is still installed after the purge" >&2; status=1; }
# Nothing of the package is left: none of its files, and none of its directories that no
# other package owns.
left=()
while read -r f; do
  if [[ -L $root$f || -f $root$f ]] || { [[ -d $root$f ]] && ! in_root dpkg-query -S "$f" >/dev/null 2>&1; }; then
    left+=("$f")
  fi
done <"$work/logs/deb-files.txt"
((${#left[@]} == 0)) || { echo "run.sh ($suite): the purge left ${left[*]}" >&2; status=1; }

echo "== $suite (Dovecot $dovecot_version): root ${root_seconds} s (0: cached), build ${build_seconds} s, package+lintian ${package_seconds} s"
for line in "${summary[@]}"; do echo "   $line"; done
exit $status
INNER

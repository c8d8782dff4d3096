#!/bin/bash
# The vpopmail and vmailmgr integration suites against Dovecot 2.4.1 (Debian 13), in a
# debootstrap root: this build's Debian 13 package (build.sh made it with cpack, against
# Debian 13's dovecot-dev: the module, its settings module, vstore) is installed into the root
# with dpkg -i, the source and fixtures are bind-mounted read-only, and the suites run there
# as they run on 2.3 (the harness speaks 2.4's syntax). The package is purged afterwards, and
# the purge must leave none of its files.
#   tests/dovecot24/run.sh SOURCE BUILD_DIR_FOR_2.4 FIXTURES WORK
# FIXTURES is SOURCE/tests/fixtures (the stores and install.sh); the suites run its install.sh
# inside the root, so the root's own useradd and /etc get the fixture accounts.
set -euo pipefail
src=$(cd "${1:?usage: run.sh SOURCE BUILD FIXTURES WORK}" && pwd)
build=$(cd "${2:?}" && pwd)
fixtures=$(cd "${3:?}" && pwd)
work=${4:?}
root=${VSTORE_DEBIAN13_ROOT:-/var/cache/vstore-auth/debian13-root}

bash "$src/tests/dovecot24/make-root.sh" "$root"
deb=$(ls "$build"/dovecot-vstore-auth_*+deb13_amd64.deb) ||
  { echo "run.sh: no Debian 13 package in $build (tests/dovecot24/build.sh makes it)" >&2; exit 1; }
# Modules that earlier runs copied in by hand belong to no package: the package's preinst
# refuses to take them over, so they go first.
for f in auth/lib20_authdb_vpopmail.so auth/lib20_authdb_vmailmgr.so settings/libvstore_auth_settings.so; do
  if [[ -e $root/usr/lib/dovecot/modules/$f || -L $root/usr/lib/dovecot/modules/$f ]] &&
     ! chroot "$root" dpkg-query -S "/usr/lib/dovecot/modules/$f" >/dev/null 2>&1; then
    echo "run.sh: removing the unpackaged /usr/lib/dovecot/modules/$f from the root"
    rm -f "$root/usr/lib/dovecot/modules/$f"
  fi
done
mkdir -p "$root/vstore/deb"
rm -f "$root"/vstore/deb/*.deb
cp "$deb" "$root/vstore/deb/"
rm -rf "$work"
mkdir -p "$work" "$root/vstore/src" "$root/vstore/fixtures" "$root/vstore/work"
chmod 0755 "$work"

# A private mount namespace: every mount below goes away when the run ends.
unshare --mount --propagation private bash -s "$root" "$src" "$fixtures" "$work" "$(basename "$deb")" <<'INNER'
set -euo pipefail
root=$1 src=$2 fixtures=$3 work=$4 deb=$5
in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
mount --bind "$src" "$root/vstore/src" && mount -o remount,bind,ro "$root/vstore/src"
mount --bind "$fixtures" "$root/vstore/fixtures" && mount -o remount,bind,ro "$root/vstore/fixtures"
mount --bind "$work" "$root/vstore/work"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/run"
echo "Dovecot in the root: $(chroot "$root" dovecot --version)"
files=(/usr/lib/dovecot/modules/auth/lib20_authdb_vpopmail.so /usr/lib/dovecot/modules/auth/lib20_authdb_vmailmgr.so
       /usr/lib/dovecot/modules/settings/libvstore_auth_settings.so /usr/bin/vstore /usr/share/man/man1/vstore.1.gz
       /usr/lib/x86_64-linux-gnu/dovecot-vstore-auth/vstore-mysql.so
       /usr/share/doc/dovecot-vstore-auth/copyright /usr/share/doc/dovecot-vstore-auth/changelog.gz)
echo "dpkg -i $deb in the root"
in_root dpkg -i "/vstore/deb/$deb"
for f in "${files[@]}"; do
  [[ -e $root$f ]] || { echo "run.sh: the package did not install $f" >&2; exit 1; }
done
in_root dpkg-query -W -f='${Package} ${Version} ${Status}\n' dovecot-vstore-auth
status=0
for store in vpopmail vmailmgr vpopmail_sql; do
  chroot "$root" env VSTORE_MODULE_INSTALLED=1 PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    python3 /vstore/src/tests/integration/run_store.py --store "$store" \
      --module-dir /usr/lib/dovecot/modules/auth --fixtures /vstore/fixtures \
      --source /vstore/src --work "/vstore/work/$store" || status=1
done
echo "dpkg --purge dovecot-vstore-auth in the root"
in_root dpkg --purge dovecot-vstore-auth || status=1
for f in "${files[@]}"; do
  if [[ -e $root$f || -L $root$f ]]; then echo "run.sh: the purge left $f" >&2; status=1; fi
done
exit $status
INNER

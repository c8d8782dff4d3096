#!/bin/bash
# The vpopmail and vmailmgr integration suites against Dovecot 2.4.1 (Debian 13), in a
# debootstrap root: this build's module (built against Debian 13's dovecot-dev) and its
# settings module are installed into the root, the source and fixtures are bind-mounted
# read-only, and the suites run there as they run on 2.3 (the harness speaks 2.4's syntax).
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
moddir=$root/usr/lib/dovecot/modules
install -m 0755 "$build/modules/auth/lib20_authdb_vpopmail.so" "$moddir/auth/"
ln -sfn lib20_authdb_vpopmail.so "$moddir/auth/lib20_authdb_vmailmgr.so"
install -D -m 0755 "$build/modules/settings/libvstore_auth_settings.so" "$moddir/settings/libvstore_auth_settings.so"
rm -rf "$work"
mkdir -p "$work" "$root/vstore/src" "$root/vstore/fixtures" "$root/vstore/work"
chmod 0755 "$work"

# A private mount namespace: every mount below goes away when the run ends.
unshare --mount --propagation private bash -s "$root" "$src" "$fixtures" "$work" <<'INNER'
set -euo pipefail
root=$1 src=$2 fixtures=$3 work=$4
mount --bind "$src" "$root/vstore/src" && mount -o remount,bind,ro "$root/vstore/src"
mount --bind "$fixtures" "$root/vstore/fixtures" && mount -o remount,bind,ro "$root/vstore/fixtures"
mount --bind "$work" "$root/vstore/work"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/run"
echo "Dovecot in the root: $(chroot "$root" dovecot --version)"
status=0
for store in vpopmail vmailmgr vpopmail_sql; do
  chroot "$root" env VSTORE_MODULE_INSTALLED=1 PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    python3 /vstore/src/tests/integration/run_store.py --store "$store" \
      --module-dir /usr/lib/dovecot/modules/auth --fixtures /vstore/fixtures \
      --source /vstore/src --work "/vstore/work/$store" || status=1
done
exit $status
INNER

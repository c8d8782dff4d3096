#!/bin/bash
# Makes (or reuses) a Debian root of one suite with that suite's Dovecot, its toolchain and
# dovecot-dev (the module is built inside the root, with the compiler and glibc its users
# have), MariaDB and what the integration harness needs. The root is a cache: it is rebuilt
# only when missing, incomplete or made with another package list.
#   tests/roots/make-root.sh SUITE ROOT
# SUITE is one of
#   bullseye            Debian 11, Dovecot 2.3.13
#   bookworm-backports  Debian 12 with Dovecot 2.3.21.1 from bookworm-backports
#   trixie              Debian 13, Dovecot 2.4.1
#   sid                 Debian unstable (forky's Dovecot), Dovecot 2.4.5
# DEBIAN_MIRROR overrides the mirror (default http://deb.debian.org/debian).
set -euo pipefail
suite=${1:?usage: make-root.sh SUITE ROOT}
root=${2:?usage: make-root.sh SUITE ROOT}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

mysql_driver=dovecot-mysql
case $suite in
  bullseye|trixie) base=$suite ;;
  bookworm-backports) base=bookworm ;;
  sid) base=sid; mysql_driver=dovecot-mariadb ;;  # sid renamed it; dovecot-mysql is transitional
  *) echo "make-root.sh: unknown suite '$suite' (bullseye, bookworm-backports, trixie, sid)" >&2; exit 2 ;;
esac
dovecot="dovecot-core dovecot-imapd dovecot-pop3d $mysql_driver dovecot-dev"
other="mariadb-server mariadb-client python3 libcdb1 tinycdb mount passwd procps
       g++ make cmake pkg-config libcdb-dev libcrypt-dev dpkg-dev file lintian"
other=$(echo $other)  # one line: it goes into a shell command below
stamp="3 $suite $dovecot $other"
# One maker per root: CI starts the roots early in the background, and a runner that needs
# one waits here for it.
mkdir -p "$(dirname "$root")"
exec 9>"$root.lock"
flock 9
if [[ -f $root/.vstore-root && $(cat "$root/.vstore-root") == "$stamp" ]]; then
  echo "reusing the $suite root in $root ($(chroot "$root" dovecot --version))"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "make-root.sh: debootstrap is not installed" >&2; exit 1; }
# A maker killed in debootstrap can leave the /proc it mounted in the half-made root.
for m in "$root.new/proc" "$root.new/sys"; do mountpoint -q "$m" 2>/dev/null && umount -l "$m"; done
rm -rf "$root.new"
log=$root.log
# debootstrap makes the bare suite; apt (which, unlike debootstrap, knows virtual packages
# and orders maintainer scripts) then installs the rest. A backports Dovecot comes from the
# backports suite, everything else from the release.
: >"$log"
if ! debootstrap --variant=minbase "$base" "$root.new" "$mirror" >>"$log" 2>&1; then
  tail -20 "$log" >&2
  exit 1
fi
# The mirror may serve a Release file past its Valid-Until (sid is not re-signed on every
# mirror sync): the root's apt takes it as debootstrap did (its signature is still checked).
echo 'Acquire::Check-Valid-Until "false";' >"$root.new/etc/apt/apt.conf.d/99vstore-root"
# No package may start a service in the root.
printf '#!/bin/sh\nexit 101\n' >"$root.new/usr/sbin/policy-rc.d"
chmod 0755 "$root.new/usr/sbin/policy-rc.d"
# A root is a scratch machine: no fsync per file, no man page index (minutes of man-db).
echo force-unsafe-io >"$root.new/etc/dpkg/dpkg.cfg.d/99vstore-root"
echo "man-db man-db/auto-update boolean false" | chroot "$root.new" debconf-set-selections
if [[ $suite == bookworm-backports ]]; then
  echo "deb $mirror bookworm-backports main" >"$root.new/etc/apt/sources.list.d/backports.list"
  install="apt-get install -q -y --no-install-recommends $other &&
           apt-get install -q -y --no-install-recommends -t bookworm-backports $dovecot"
else
  install="apt-get install -q -y --no-install-recommends $dovecot $other"
fi
if ! chroot "$root.new" env DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin \
       sh -c "apt-get update -q && $install" >>"$log" 2>&1; then
  tail -20 "$log" >&2
  exit 1
fi
chroot "$root.new" apt-get clean
echo "$stamp" >"$root.new/.vstore-root"
rm -rf "$root"
mv "$root.new" "$root"
echo "made the $suite root in $root ($(chroot "$root" dovecot --version))"

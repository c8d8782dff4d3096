#!/bin/bash
# Makes (or reuses) a Debian 13 root with Dovecot 2.4.1 from Debian's packages, for the 2.4
# integration run. The root is a cache: it is rebuilt only when missing, incomplete or made
# with another package list (~40 s with debootstrap).
#   tests/dovecot24/make-root.sh ROOT
set -euo pipefail
root=${1:?usage: make-root.sh ROOT}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages=dovecot-core,dovecot-imapd,dovecot-pop3d,dovecot-mysql,mariadb-server,mariadb-client,python3,libcdb1,tinycdb,mount,passwd,procps
stamp="trixie $packages"
if [[ -f $root/.vstore-root && $(cat "$root/.vstore-root") == "$stamp" ]]; then
  echo "reusing the Debian 13 root in $root ($(chroot "$root" dovecot --version))"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "make-root.sh: debootstrap is not installed" >&2; exit 1; }
rm -rf "$root.new"
mkdir -p "$(dirname "$root")"
if ! debootstrap --variant=minbase --include="$packages" trixie "$root.new" "$mirror" >"$root.log" 2>&1; then
  tail -20 "$root.log" >&2
  exit 1
fi
echo "$stamp" > "$root.new/.vstore-root"
rm -rf "$root"
mv "$root.new" "$root"
echo "made the Debian 13 root in $root ($(chroot "$root" dovecot --version))"

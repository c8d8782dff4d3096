"""The .deb: cpack builds it, apt installs it, Dovecot loads the installed module from its own
module dir (no test mount), fixture users log in through both drivers, apt removes it cleanly."""

import glob
import os
import subprocess

from dovecot_harness import Dovecot
import vmailmgr_suite
import vpopmail_suite

PKG = "dovecot-vstore-auth"
FILES = ["/usr/lib/dovecot/modules/auth/lib20_authdb_vpopmail.so", "/usr/lib/dovecot/modules/auth/lib20_authdb_vmailmgr.so",
         "/usr/bin/vstore", "/usr/share/man/man1/vstore.1", f"/usr/share/doc/{PKG}/examples/auth-vpopmail.conf.ext",
         f"/usr/share/doc/{PKG}/examples/auth-vmailmgr.conf.ext", f"/usr/share/doc/{PKG}/docs/configuration.md"]


def run(args, checks):
    build = os.path.abspath(os.path.join(args.module_dir, "..", ".."))
    for old in glob.glob(os.path.join(build, f"{PKG}_*.deb")):
        os.unlink(old)
    r = subprocess.run(["cpack", "-G", "DEB"], cwd=build, capture_output=True, text=True)
    debs = glob.glob(os.path.join(build, f"{PKG}_*.deb"))
    if not checks.check("cpack -G DEB builds the package", r.returncode == 0 and len(debs) == 1, r.stdout + r.stderr):
        return
    deb = debs[0]
    info = subprocess.run(["dpkg-deb", "-f", deb, "Depends"], capture_output=True, text=True).stdout.strip()
    print(f"{os.path.basename(deb)}: Depends: {info}")
    checks.check("the package depends on the Dovecot ABI it was built against", "dovecot-abi-2.3.abiv19" in info, info)
    for store in ("vpopmail", "vmailmgr"):
        subprocess.run(["bash", os.path.join(args.fixtures, "install.sh"), store], check=True, stdout=subprocess.DEVNULL)
    try:
        r = subprocess.run(["apt-get", "install", "-y", "-q", deb], capture_output=True, text=True,
                           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        checks.check("apt-get install ./package.deb", r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:])
        for f in FILES:
            checks.check(f"installed: {f}", os.path.lexists(f))
        checks.check("the vmailmgr module name is a symlink to the same object",
                     os.path.islink(FILES[1]) and os.path.realpath(FILES[1]) == os.path.realpath(FILES[0]))
        for name, conf, login, pw in (("vpopmail", vpopmail_suite.db_config(), "alice@example.com", "Alice-pw1"),
                                      ("vmailmgr", vmailmgr_suite.db_config(), "bob.smith@example.org", "B0b-second")):
            with Dovecot(args.work + f"-package-{name}", args.module_dir, conf, installed=True) as dc:
                result, out = dc.auth_test(login, pw, "imap", "127.0.0.2")
                checks.check(f"Dovecot with the installed module logs {login} in", result == "ok", out + dc.tail(20))
        r = subprocess.run(["/usr/bin/vstore", "lookup", "vpopmail", *vpopmail_suite.ARGS.split(), "alice@example.com"],
                           capture_output=True, text=True)
        checks.check("the installed vstore runs", r.returncode == 0, r.stdout + r.stderr)
    finally:
        r = subprocess.run(["apt-get", "remove", "-y", "-q", PKG], capture_output=True, text=True,
                           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    checks.check("apt-get remove", r.returncode == 0, r.stderr)
    left = [f for f in FILES if os.path.lexists(f)]
    checks.check("removal leaves none of the package's files", not left, str(left))
    st = subprocess.run(["dpkg-query", "-W", "-f=${Status}", PKG], capture_output=True, text=True).stdout
    checks.check("the package is no longer installed", "installed" not in st or "not-installed" in st
                 or "config-files" in st, st)

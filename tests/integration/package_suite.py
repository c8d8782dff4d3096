"""The .deb: cpack builds it, lintian finds no error or warning in it, its preinst refuses to
take over a file that belongs to no package (what `cmake --install` leaves) unless
VSTORE_AUTH_TAKEOVER=1, apt installs it, Dovecot loads the installed module from its own module
dir (no test mount), fixture users log in through both drivers, apt removes it cleanly."""

import glob
import os
import subprocess

from dovecot_harness import Dovecot
import vmailmgr_suite
import vpopmail_suite
import fixtures  # noqa: E402

PKG = "dovecot-vstore-auth"
FILES = ["/usr/lib/dovecot/modules/auth/lib20_authdb_vpopmail.so", "/usr/lib/dovecot/modules/auth/lib20_authdb_vmailmgr.so",
         "/usr/bin/vstore", "/usr/lib/x86_64-linux-gnu/dovecot-vstore-auth/vstore-mysql.so", "/usr/share/man/man1/vstore.1.gz", f"/usr/share/doc/{PKG}/examples/auth-vpopmail.conf.ext",
         f"/usr/share/doc/{PKG}/examples/auth-vmailmgr.conf.ext", f"/usr/share/doc/{PKG}/docs/configuration.md",
         f"/usr/share/doc/{PKG}/copyright", f"/usr/share/doc/{PKG}/changelog.gz"]
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")


def installed():
    st = subprocess.run(["dpkg-query", "-W", "-f=${Status}", PKG], capture_output=True, text=True).stdout
    return st.endswith(" installed")


def check_lintian(deb, checks):
    r = subprocess.run(["lintian", "--fail-on", "error,warning", deb], capture_output=True, text=True)
    out = "\n".join(line for line in (r.stdout + r.stderr).splitlines() if "running with root privileges" not in line)
    print(f"lintian {os.path.basename(deb)}: exit {r.returncode}" + (f"\n{out}" if out else ""))
    checks.check("lintian: no error or warning", r.returncode == 0, out)


def check_no_takeover(deb, checks):
    """A file the package ships, put there by hand (as cmake --install does): the preinst must
    refuse, leave the file alone and name it; VSTORE_AUTH_TAKEOVER=1 lets the package have it."""
    stray = f"/usr/share/doc/{PKG}/README.md"
    os.makedirs(os.path.dirname(stray), exist_ok=True)
    with open(stray, "w") as f:
        f.write("installed by cmake --install\n")
    try:
        r = subprocess.run(["apt-get", "install", "-y", "-q", deb], capture_output=True, text=True, env=APT_ENV)
        out = r.stdout[-2000:] + r.stderr[-2000:]
        checks.check("the package refuses to take over an unpackaged file", r.returncode != 0 and not installed(), out)
        checks.check("the refusal names the file and cmake --install", stray in out and "cmake --install" in out, out)
        with open(stray) as f:
            checks.check("the refused install leaves the file alone", f.read() == "installed by cmake --install\n")
        r = subprocess.run(["dpkg", "-i", deb], capture_output=True, text=True,
                           env=dict(APT_ENV, VSTORE_AUTH_TAKEOVER="1"))
        checks.check("VSTORE_AUTH_TAKEOVER=1 lets it take the file over", r.returncode == 0 and installed(),
                     r.stdout[-2000:] + r.stderr[-2000:])
        r = subprocess.run(["dpkg", "--purge", PKG], capture_output=True, text=True, env=APT_ENV)
        checks.check("dpkg --purge after the takeover", r.returncode == 0 and not os.path.exists(stray), r.stderr)
    finally:
        if os.path.exists(stray) and not installed():
            os.unlink(stray)
            os.rmdir(os.path.dirname(stray))


# run_store.py --only NAME runs one of them, after building the package
SCENARIOS = ["lintian", "no_takeover", "install"]


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
    if checks.scenario("lintian"):
        check_lintian(deb, checks)
    if checks.scenario("no_takeover"):
        check_no_takeover(deb, checks)
    if checks.scenario("install"):
        install_and_remove(args, deb, checks)


def install_and_remove(args, deb, checks):
    for store in ("vpopmail", "vmailmgr"):
        fixtures.install(args.fixtures, store)
    try:
        r = subprocess.run(["apt-get", "install", "-y", "-q", deb], capture_output=True, text=True, env=APT_ENV)
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
        r = subprocess.run(["apt-get", "remove", "-y", "-q", PKG], capture_output=True, text=True, env=APT_ENV)
    checks.check("apt-get remove", r.returncode == 0, r.stderr)
    left = [f for f in FILES if os.path.lexists(f)]
    checks.check("removal leaves none of the package's files", not left, str(left))
    st = subprocess.run(["dpkg-query", "-W", "-f=${Status}", PKG], capture_output=True, text=True).stdout
    checks.check("the package is no longer installed", "installed" not in st or "not-installed" in st
                 or "config-files" in st, st)

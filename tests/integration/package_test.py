#!/usr/bin/env python3
"""The Linux packages (scripts/package.sh): contents, modes, conffiles, the man page,
lintian, and the Debian maintainer scripts run for real in a throwaway root.

    python3 package_test.py --binary build/release/app/outpost --source-dir . [--emulator=wine]

Builds v1.0.0 and v1.1.0 of the .deb (and the .rpm when rpmbuild is installed) from
--binary, then installs, upgrades, removes and purges the .deb with
`dpkg --root=DIR --force-script-chrootless`: dpkg's database and every file stay in
DIR, and the maintainer scripts run with DPKG_ROOT=DIR. A fake systemctl first on
PATH records what they ask of systemd; the real one never runs. lintian runs when
installed and the binary is the static release build (a dynamic dev build would
rightly fail it). Linux only; skipped under the emulator.
"""
import argparse
import gzip
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

ARGS = None
PKG = {}  # built once: {"deb1", "deb2", "rpm1"} -> path
WORK = None

FAKE_SYSTEMCTL = """#!/bin/sh
echo "$*" >> "%s"
exit 0
"""


def sh(*argv, env=None, check=True):
    p = subprocess.run(list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                       timeout=600, check=False)
    out = p.stdout.decode("utf-8", "replace")
    if check and p.returncode != 0:
        raise AssertionError("$ %s\nexit %d\n%s" % (" ".join(argv), p.returncode, out))
    return out


def is_static(binary):
    return "statically linked" in sh("file", "-L", binary, check=False)


def build_packages():
    global WORK
    WORK = tempfile.mkdtemp(prefix="outpost-package-test-")
    script = os.path.join(ARGS.source_dir, "scripts/package.sh")
    have_rpm = shutil.which("rpmbuild") is not None
    for version in ("1.0.0", "1.1.0"):
        out = os.path.join(WORK, "v" + version)
        args = [script, "--binary", ARGS.binary, "--version", version, "--out", out]
        if not have_rpm or version != "1.0.0":
            args.append("--no-rpm")
        lines = sh(*args).split()
        for p in lines:
            if p.endswith(".deb"):
                PKG["deb1" if version == "1.0.0" else "deb2"] = p
            elif p.endswith(".rpm"):
                PKG["rpm1"] = p


class PackageTest(unittest.TestCase):
    def setUp(self):
        if ARGS.emulator or not sys.platform.startswith("linux"):
            self.skipTest("Linux packages: Linux only (not run under the emulator)")
        for tool in ("dpkg-deb", "dpkg"):
            if shutil.which(tool) is None:
                self.skipTest("%s is not installed" % tool)
        if not PKG:
            build_packages()
        self.dir = tempfile.mkdtemp(prefix="outpost-package-case-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def source(self, rel):
        with open(os.path.join(ARGS.source_dir, rel), "rb") as f:
            return f.read()

    # --- .deb contents -------------------------------------------------------------
    def test_deb_contents_and_modes(self):
        listing = sh("dpkg-deb", "-c", PKG["deb1"])
        entries = {}
        for line in listing.splitlines():
            parts = line.split()
            entries[parts[5].lstrip(".")] = (parts[0], parts[1])
        expect = {
            "/usr/bin/outpost": "-rwxr-xr-x",
            "/lib/systemd/system/outpost.service": "-rw-r--r--",
            "/lib/systemd/system/outpost-once.service": "-rw-r--r--",
            "/lib/systemd/system/outpost-once.timer": "-rw-r--r--",
            "/etc/outpost/": "drwx------",
            "/etc/outpost/outpost.toml": "-rw-------",
            "/usr/share/outpost/policies/linux-baseline.toml": "-rw-r--r--",
            "/usr/share/man/man1/outpost.1.gz": "-rw-r--r--",
            "/usr/share/doc/outpost/copyright": "-rw-r--r--",
            "/usr/share/doc/outpost/changelog.gz": "-rw-r--r--",
        }
        for path, mode in expect.items():
            self.assertIn(path, entries, listing)
            self.assertEqual(entries[path], (mode, "root/root"), path)
        self.assertEqual(sh("dpkg-deb", "-f", PKG["deb1"], "Version").strip(), "1.0.0")
        self.assertEqual(sh("dpkg-deb", "-I", PKG["deb1"], "conffiles").strip(),
                         "/etc/outpost/outpost.toml")

    def test_deb_files_are_the_shipped_ones(self):
        x = os.path.join(self.dir, "x")
        sh("dpkg-deb", "-x", PKG["deb1"], x)
        for rel, src in (("lib/systemd/system/outpost.service", "installer/linux/outpost.service"),
                         ("lib/systemd/system/outpost-once.timer", "installer/linux/outpost-once.timer"),
                         ("etc/outpost/outpost.toml", "installer/outpost.example.toml"),
                         ("usr/share/outpost/policies/linux-baseline.toml",
                          "installer/policies/linux-baseline.toml")):
            with open(os.path.join(x, rel), "rb") as f:
                self.assertEqual(f.read(), self.source(src), rel)
        with open(os.path.join(x, "usr/bin/outpost"), "rb") as f, open(ARGS.binary, "rb") as g:
            self.assertEqual(f.read(), g.read())

    def test_man_page_renders_without_warnings_and_covers_every_command(self):
        x = os.path.join(self.dir, "x")
        sh("dpkg-deb", "-x", PKG["deb1"], x)
        page = os.path.join(x, "usr/share/man/man1/outpost.1.gz")
        with gzip.open(page, "rt") as f:
            roff = f.read()
        self.assertTrue(roff.startswith('.\\" Generated'), roff[:100])
        if shutil.which("man") is None:
            self.skipTest("man is not installed")
        env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="0")
        p = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", page],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertEqual(p.stderr.decode(), "", "man reported warnings")
        text = p.stdout.decode("utf-8", "replace")
        for cmd in ("outpost service install", "outpost config check", "outpost update apply",
                    "outpost run", "EXIT STATUS"):
            self.assertIn(cmd, text)

    def test_lintian_reports_no_errors_or_warnings(self):
        if shutil.which("lintian") is None:
            self.skipTest("lintian is not installed (scripts/test.sh installs it)")
        if not is_static(ARGS.binary):
            self.skipTest("lintian needs the static release binary; %s is dynamic" % ARGS.binary)
        p = subprocess.run(["lintian", "--fail-on", "error,warning", "--display-info",
                            PKG["deb1"]], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=600)
        out = p.stdout.decode("utf-8", "replace")
        print("lintian:\n" + (out or "(nothing to report)"), file=sys.stderr)
        self.assertEqual(p.returncode, 0, out)

    # --- .rpm ------------------------------------------------------------------------
    def test_rpm_contents_modes_and_config_noreplace(self):
        if "rpm1" not in PKG:
            self.skipTest("rpmbuild is not installed (apt-get install rpm)")
        q = sh("rpm", "-qp", "--qf", "[%{FILEMODES:perms} %{FILEUSERNAME} %{FILEFLAGS:fflags} "
               "%{FILENAMES}\n]", PKG["rpm1"])
        files = {}
        for line in q.splitlines():
            parts = line.split()
            flags = parts[2] if len(parts) == 4 else ""
            files[parts[-1]] = (parts[0], parts[1], flags)
        self.assertEqual(files["/usr/bin/outpost"][:2], ("-rwxr-xr-x", "root"), q)
        self.assertEqual(files["/etc/outpost/outpost.toml"], ("-rw-------", "root", "cn"), q)
        self.assertEqual(files["/etc/outpost"][0], "drwx------", q)
        self.assertEqual(files["/var/lib/outpost"][0], "drwx------", q)
        for f in ("/usr/lib/systemd/system/outpost.service", "/usr/lib/systemd/system/outpost-once.timer",
                  "/usr/share/outpost/policies/linux-baseline.toml",
                  "/usr/share/man/man1/outpost.1.gz"):
            self.assertIn(f, files, q)
        self.assertEqual(sh("rpm", "-qp", "--qf", "%{VERSION}", PKG["rpm1"]), "1.0.0")
        scripts = sh("rpm", "-qp", "--scripts", PKG["rpm1"])
        for part in ("postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet",
                     "chmod 0700 /var/lib/outpost", "systemctl enable outpost.service"):
            self.assertIn(part, scripts)
        if shutil.which("rpmlint"):
            out = sh("rpmlint", "-r", os.path.join(ARGS.source_dir, "installer/linux/rpm/rpmlintrc"),
                     PKG["rpm1"], check=False)
            print("rpmlint:\n" + out, file=sys.stderr)
            self.assertRegex(out, r"\b0 errors\b", out)

    # --- maintainer scripts in a throwaway root ---------------------------------------
    def dpkg(self, root, *args, check=True):
        env = dict(os.environ, PATH=self.fakebin + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
        return sh("dpkg", "--root=" + root, "--force-script-chrootless", "--force-unsafe-io",
                  "--log=" + os.path.join(self.dir, "dpkg.log"), *args, env=env, check=check)

    def make_root(self):
        root = os.path.join(self.dir, "root")
        for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"):
            os.makedirs(os.path.join(root, d))
        for f in ("var/lib/dpkg/status", "var/lib/dpkg/available"):
            open(os.path.join(root, f), "w").close()
        self.fakebin = os.path.join(self.dir, "fakebin")
        os.mkdir(self.fakebin)
        self.systemctl_log = os.path.join(self.dir, "systemctl.log")
        with open(os.path.join(self.fakebin, "systemctl"), "w") as f:
            f.write(FAKE_SYSTEMCTL % self.systemctl_log)
        os.chmod(os.path.join(self.fakebin, "systemctl"), 0o755)
        return root

    def calls(self):
        if not os.path.exists(self.systemctl_log):
            return []
        with open(self.systemctl_log) as f:
            return f.read().splitlines()

    def mode(self, path):
        return stat.S_IMODE(os.stat(path).st_mode)

    def test_install_upgrade_keeps_config_and_buffer_purge_removes_them(self):
        root = self.make_root()
        conf = os.path.join(root, "etc/outpost/outpost.toml")
        state = os.path.join(root, "var/lib/outpost")
        # Install v1: files, modes, the state directory, enabled (not started: DPKG_ROOT).
        self.dpkg(root, "-i", PKG["deb1"])
        self.assertTrue(os.access(os.path.join(root, "usr/bin/outpost"), os.X_OK))
        self.assertEqual(self.mode(conf), 0o600)
        self.assertEqual(self.mode(os.path.join(root, "etc/outpost")), 0o700)
        self.assertEqual(self.mode(state), 0o700)
        self.assertEqual(self.calls(), ["--root=%s enable outpost.service" % root])
        self.assertIn("Status: install ok installed", self.dpkg(root, "-s", "outpost"))
        self.assertFalse(os.path.exists("/var/lib/dpkg/info/outpost.list") and
                         "1.0.0" in sh("dpkg-query", "-W", "outpost", check=False),
                         "the real dpkg database was touched")
        # The admin edits the config; the agent has buffered data.
        with open(conf, "a") as f:
            f.write("\n# edited by the administrator\n")
        with open(conf, "rb") as f:
            edited = f.read()
        with open(os.path.join(state, "buffer.db"), "w") as f:
            f.write("buffered records")
        # Upgrade to v2: config and buffer kept, not enabled again.
        self.dpkg(root, "-i", PKG["deb2"])
        self.assertRegex(self.dpkg(root, "-s", "outpost"), r"(?m)^Version: 1\.1\.0$")
        with open(conf, "rb") as f:
            self.assertEqual(f.read(), edited)
        self.assertEqual(self.mode(conf), 0o600)
        with open(os.path.join(state, "buffer.db")) as f:
            self.assertEqual(f.read(), "buffered records")
        self.assertEqual(self.mode(state), 0o700)
        self.assertEqual(len(self.calls()), 1, self.calls())
        # Remove: binary gone, config and buffer stay.
        self.dpkg(root, "-r", "outpost")
        self.assertFalse(os.path.exists(os.path.join(root, "usr/bin/outpost")))
        self.assertTrue(os.path.exists(conf))
        self.assertTrue(os.path.exists(os.path.join(state, "buffer.db")))
        # Purge: config, state and the enablement link removed.
        os.makedirs(os.path.join(root, "etc/systemd/system/multi-user.target.wants"))
        os.symlink("/lib/systemd/system/outpost.service",
                   os.path.join(root, "etc/systemd/system/multi-user.target.wants/outpost.service"))
        self.dpkg(root, "-P", "outpost")
        self.assertFalse(os.path.exists(os.path.join(root, "etc/outpost")))
        self.assertFalse(os.path.exists(state))
        self.assertFalse(os.path.lexists(
            os.path.join(root, "etc/systemd/system/multi-user.target.wants/outpost.service")))
        self.assertNotIn("outpost", self.dpkg(root, "-l", check=False))

    def test_purge_straight_after_install(self):
        root = self.make_root()
        self.dpkg(root, "-i", PKG["deb1"])
        self.dpkg(root, "-P", "outpost")
        self.assertFalse(os.path.exists(os.path.join(root, "etc/outpost")))
        self.assertFalse(os.path.exists(os.path.join(root, "var/lib/outpost")))


def main():
    global ARGS
    parser = argparse.ArgumentParser(description="outpost package tests")
    parser.add_argument("--binary", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--emulator", default="")
    ARGS, rest = parser.parse_known_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    ARGS.source_dir = os.path.abspath(ARGS.source_dir)
    try:
        program = unittest.main(argv=[sys.argv[0], *rest], exit=False)
    finally:
        if WORK:
            shutil.rmtree(WORK, ignore_errors=True)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())

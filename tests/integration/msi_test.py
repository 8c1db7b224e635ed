#!/usr/bin/env python3
"""The Windows installer: scripts/package-msi.sh builds an MSI with wixl, and msiinfo
shows the files, directories, service, upgrade code and component flags it must hold.

    python3 msi_test.py --binary build/windows/app/outpost.exe --source-dir . \
        [--emulator=wine] [--config-tool PATH]

The MSI is only built and inspected here (msitools); installing it needs Windows.
The config it installs is checked with outpost.exe itself (`config check`, through the
emulator). Skips itself when wixl/msitools are not installed. Standard library only.
Extra arguments go to unittest (e.g. -v, -k NAME).
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ARGS = None
UPGRADE_CODE = "{6D3B2F6A-0E52-4C55-9E0B-7A1C3E5D9F41}"
# msidbComponentAttributes
ATTR_64BIT, ATTR_PERMANENT, ATTR_NEVER_OVERWRITE = 0x100, 0x10, 0x80
# msidbServiceControlEvent: start on install, stop on install, stop and delete on uninstall
SC_START_INSTALL, SC_STOP_INSTALL, SC_STOP_UNINSTALL, SC_DELETE_UNINSTALL = 0x1, 0x2, 0x20, 0x80


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def table(msi, name):
    """Rows of an MSI table as dicts (msiinfo export: header, types, key line, rows)."""
    out = subprocess.run(["msiinfo", "export", msi, name], check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    lines = out.replace("\r\n", "\n").split("\n")
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[3:] if line]


class MsiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("wixl") or not shutil.which("msiinfo"):
            raise unittest.SkipTest("wixl and msitools are not installed")
        cls.dir = tempfile.mkdtemp(prefix="outpost-msi-test-")
        cls.msi = cls.build("0.1.0")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def build(cls, version, expect_rc=0, extra=()):
        argv = ["bash", os.path.join(ARGS.source_dir, "scripts/package-msi.sh"),
                "--binary", ARGS.binary, "--out", os.path.join(cls.dir, "out-" + version),
                "--version", version, *extra]
        if ARGS.config_tool:
            argv += ["--config-tool", ARGS.config_tool]
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        if p.returncode != expect_rc:
            raise AssertionError("package-msi.sh exited %d, expected %d\n%s\n%s" % (
                p.returncode, expect_rc, p.stdout, p.stderr))
        return p.stdout.strip().splitlines()[-1] if p.returncode == 0 else p.stderr

    def test_files_and_where_they_go(self):
        files = {r["FileName"]: r for r in table(self.msi, "File")}
        self.assertEqual(set(files), {"outpost.exe", "windows-baseline.toml", "outpost.toml"})
        comps = {r["Component"]: r for r in table(self.msi, "Component")}
        dirs = {r["Directory"]: r for r in table(self.msi, "Directory")}

        def path_of(file_name):
            d = comps[files[file_name]["Component_"]]["Directory_"]
            parts = []
            while d and d != "TARGETDIR":
                # "short|long" names; "." for the standard folders (named by their key)
                name = dirs[d]["DefaultDir"].split("|")[-1]
                parts.append(d if name == "." else name)
                d = dirs[d]["Directory_Parent"]
            return "\\".join(reversed(parts)) + "\\" + file_name

        self.assertEqual(path_of("outpost.exe"), "ProgramFiles64Folder\\outpost\\outpost.exe")
        self.assertEqual(path_of("windows-baseline.toml"),
                         "ProgramFiles64Folder\\outpost\\policies\\windows-baseline.toml")
        self.assertEqual(path_of("outpost.toml"), "CommonAppDataFolder\\outpost\\outpost.toml")
        # The state directory is created (CreateFolder), and nothing is installed in it.
        created = {r["Directory_"] for r in table(self.msi, "CreateFolder")}
        self.assertIn("StateDir", created)
        self.assertEqual(dirs["StateDir"]["DefaultDir"], "state")
        self.assertEqual(dirs["StateDir"]["Directory_Parent"], "DataDir")

    def test_payload_is_the_binary_and_a_windows_config(self):
        out = os.path.join(self.dir, "extract")
        subprocess.run(["msiextract", "-C", out, self.msi], check=True, stdout=subprocess.PIPE)
        found = {}
        for base, _, names in os.walk(out):
            for n in names:
                found[n] = os.path.join(base, n)
        self.assertEqual(sha256(found["outpost.exe"]), sha256(ARGS.binary))
        policy = os.path.join(ARGS.source_dir, "installer/policies/windows-baseline.toml")
        self.assertEqual(sha256(found["windows-baseline.toml"]), sha256(policy))
        with open(found["outpost.toml"], "rb") as f:
            config = f.read()
        self.assertIn(b"\r\n", config, "CRLF line ends")
        self.assertNotIn(b"/var/log", config)
        self.assertIn(b'paths = ["C:\\\\ProgramData\\\\outpost\\\\logs\\\\*.log"]', config)
        # The installed config loads in the agent itself.
        argv = [ARGS.binary, "config", "check", found["outpost.toml"]]
        if ARGS.emulator:
            argv = [ARGS.emulator] + argv
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=300,
                           env=dict(os.environ, WINEDEBUG="-all"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_service_is_registered_started_and_removed(self):
        (svc,) = table(self.msi, "ServiceInstall")
        self.assertEqual(svc["Name"], "outpost")
        self.assertEqual(int(svc["ServiceType"]), 0x10, "own process")
        self.assertEqual(int(svc["StartType"]), 2, "automatic start")
        self.assertEqual(svc["Arguments"], "run --service")
        self.assertEqual(svc["StartName"], "", "LocalSystem")
        (ctl,) = table(self.msi, "ServiceControl")
        self.assertEqual(ctl["Name"], "outpost")
        self.assertEqual(int(ctl["Event"]),
                         SC_START_INSTALL | SC_STOP_INSTALL | SC_STOP_UNINSTALL |
                         SC_DELETE_UNINSTALL)
        self.assertEqual(ctl["Component_"], svc["Component_"])

    def test_config_and_state_survive_upgrade_and_uninstall(self):
        comps = {r["Component"]: int(r["Attributes"]) for r in table(self.msi, "Component")}
        for c in comps.values():
            self.assertTrue(c & ATTR_64BIT)
        self.assertEqual(comps["Config"] & (ATTR_PERMANENT | ATTR_NEVER_OVERWRITE),
                         ATTR_PERMANENT | ATTR_NEVER_OVERWRITE)
        self.assertTrue(comps["State"] & ATTR_PERMANENT)
        self.assertFalse(comps["AgentBinary"] & (ATTR_PERMANENT | ATTR_NEVER_OVERWRITE))

    def test_config_and_data_folders_are_locked_to_system_and_administrators(self):
        locks = {(r["LockObject"], r["Table"]): r["SDDLText"]
                 for r in table(self.msi, "MsiLockPermissionsEx")}
        self.assertEqual(locks, {
            ("DataDir", "CreateFolder"): "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)",
            ("OutpostToml", "File"): "D:P(A;;FA;;;SY)(A;;FA;;;BA)",
            ("StateDir", "CreateFolder"): "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)",
        })
        created = {(r["Directory_"], r["Component_"]) for r in table(self.msi, "CreateFolder")}
        self.assertIn(("DataDir", "Config"), created)
        self.assertIn(("StateDir", "State"), created)

    def test_upgrade_code_and_a_newer_version_replace_the_product(self):
        props = {r["Property"]: r["Value"] for r in table(self.msi, "Property")}
        self.assertEqual(props["UpgradeCode"], UPGRADE_CODE)
        self.assertEqual(props["ProductVersion"], "0.1.0")
        upgrade = table(self.msi, "Upgrade")
        self.assertTrue(all(u["UpgradeCode"] == UPGRADE_CODE for u in upgrade))
        self.assertIn("WIX_UPGRADE_DETECTED", {u["ActionProperty"] for u in upgrade})
        seq = {r["Action"] for r in table(self.msi, "InstallExecuteSequence")}
        self.assertTrue({"RemoveExistingProducts", "InstallServices", "StartServices",
                         "StopServices", "DeleteServices"} <= seq, seq)
        suminfo = subprocess.run(["msiinfo", "suminfo", self.msi], check=True,
                                 stdout=subprocess.PIPE, universal_newlines=True).stdout
        self.assertRegex(suminfo, r"Template: x64;1033")
        newer = self.build("0.2.0")
        props2 = {r["Property"]: r["Value"] for r in table(newer, "Property")}
        self.assertEqual(props2["UpgradeCode"], UPGRADE_CODE)
        self.assertEqual(props2["ProductVersion"], "0.2.0")
        self.assertNotEqual(props2["ProductCode"], props["ProductCode"])

    def test_bad_versions_are_refused(self):
        for bad in ("1.2", "1.2.3-rc1", "256.0.0"):
            err = self.build(bad, expect_rc=2)
            self.assertIn("version '%s'" % bad, err)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--source-dir", required=True)
    p.add_argument("--emulator", default="")
    p.add_argument("--config-tool", default="")
    ARGS, rest = p.parse_known_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    unittest.main(argv=[sys.argv[0]] + rest)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The Windows device tables through the real binary (under Wine in the cross build).

    python3 windows_tables_test.py --binary build/windows/app/outpost.exe --source-dir . \
        --emulator=/usr/bin/wine [-v]

`outpost query` prints os_version and parses as JSON, `outpost tables` lists the
Windows tables, the required-constraint errors are clear, hash gives known digests,
and `outpost check` runs installer/policies/windows-baseline.toml with every check
passing or failing honestly (no query errors, exit 0 or 1, never a crash or exit 3).
Windows only: skipped without --emulator on a non-Windows host. Standard library only.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ARGS = None

WINDOWS_TABLES = [
    "os_version", "system_info", "users", "groups", "processes", "programs", "services",
    "registry", "file", "hash", "interface_addresses", "listening_ports", "patches",
    "windows_firewall", "bitlocker_info",
]


def windows_path(path):
    """A host path as the Windows binary sees it (Wine maps / to drive Z:)."""
    path = os.path.abspath(path)
    if ARGS.emulator:
        return "Z:" + path.replace("/", "\\")
    return path


class WindowsTablesTest(unittest.TestCase):

    def setUp(self):
        if not ARGS.emulator and os.name != "nt":
            self.skipTest("Windows only (run with --emulator=wine under the cross build)")
        self.dir = tempfile.mkdtemp(prefix="outpost-wtables-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_outpost(self, *args):
        argv = [ARGS.binary, "--config", "absent.toml", "--no-color", *args]
        env = dict(os.environ)
        if ARGS.emulator:
            argv = [ARGS.emulator, *argv]
            env["WINEDEBUG"] = "-all"
        p = subprocess.run(argv, cwd=self.dir, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=240)
        out = p.stdout.decode("utf-8", "replace").replace("\r\n", "\n")
        err = p.stderr.decode("utf-8", "replace").replace("\r\n", "\n")
        return p.returncode, out, err

    def test_query_os_version_prints_one_row(self):
        code, out, err = self.run_outpost("query", "SELECT * FROM os_version")
        self.assertEqual(code, 0, err)
        self.assertIn("windows", out)
        code, out, err = self.run_outpost("query", "--format", "json",
                                          "SELECT name, platform, major, build FROM os_version")
        self.assertEqual(code, 0, err)
        rows = json.loads(out)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["platform"], "windows")
        self.assertTrue(rows[0]["name"])
        self.assertGreaterEqual(int(rows[0]["major"]), 6)

    def test_tables_lists_the_windows_tables(self):
        code, out, err = self.run_outpost("tables", "--json")
        self.assertEqual(code, 0, err)
        names = [t["name"] for t in json.loads(out)]
        self.assertEqual(sorted(names), sorted(WINDOWS_TABLES))
        code, out, err = self.run_outpost("tables")
        self.assertEqual(code, 0, err)
        for name in WINDOWS_TABLES:
            self.assertIn(name, out)

    def test_required_constraints_give_clear_errors(self):
        code, _, err = self.run_outpost("query", "SELECT * FROM file")
        self.assertNotEqual(code, 0)
        self.assertIn("needs a constraint on path or directory", err)
        code, _, err = self.run_outpost("query", "SELECT * FROM registry")
        self.assertNotEqual(code, 0)
        self.assertIn("needs key = '...' or path = '...'", err)

    def test_hash_and_registry_through_sql(self):
        with open(os.path.join(self.dir, "abc.txt"), "wb") as f:
            f.write(b"abc")
        path = windows_path(os.path.join(self.dir, "abc.txt"))
        code, out, err = self.run_outpost(
            "query", "--format", "json",
            "SELECT f.size, h.sha256 FROM file f JOIN hash h USING (path) WHERE f.path = '%s'"
            % path)
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out), [{
            "size": "3",
            "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}])
        code, out, err = self.run_outpost(
            "query", "--format", "json",
            "SELECT name, type FROM registry WHERE key = "
            "'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion' "
            "AND name = 'CurrentBuildNumber'")
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out), [{"name": "CurrentBuildNumber", "type": "REG_SZ"}])

    def test_processes_finds_the_binary_itself(self):
        code, out, err = self.run_outpost(
            "query", "--format", "json",
            "SELECT name FROM processes WHERE lower(name) = 'outpost.exe'")
        self.assertEqual(code, 0, err)
        self.assertGreaterEqual(len(json.loads(out)), 1)

    def test_windows_baseline_checks_pass_or_fail_honestly(self):
        policy = windows_path(os.path.join(ARGS.source_dir, "installer", "policies",
                                           "windows-baseline.toml"))
        code, out, err = self.run_outpost("check", "--policy", policy, "--format", "json")
        self.assertIn(code, (0, 1), "exit %d\n%s\n%s" % (code, out[-2000:], err))
        results = json.loads(out)
        self.assertGreaterEqual(len(results), 15)
        for r in results:
            self.assertIn(r["status"], ("pass", "fail"), "%s: %s" % (r["id"], r["error"]))
            self.assertTrue(r["remediation"], r["id"])
        ids = {r["id"]: r["status"] for r in results}
        # Wine answers these two the same on every host: its services exist and are not
        # disabled; its Explorer policy key has no NoDriveTypeAutoRun.
        if ARGS.emulator:
            self.assertEqual(ids["windows-update-service-enabled"], "pass")
            self.assertEqual(ids["autorun-disabled"], "fail")
        self.assertEqual(code, 1 if "fail" in ids.values() else 0)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description="outpost Windows tables integration tests")
    parser.add_argument("--binary", required=True, help="the outpost executable")
    parser.add_argument("--source-dir", required=True, help="the source tree")
    parser.add_argument("--emulator", default="", help="run the binary through this (wine)")
    ARGS, rest = parser.parse_known_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    program = unittest.main(argv=[sys.argv[0], *rest], exit=False)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())

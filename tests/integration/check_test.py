#!/usr/bin/env python3
"""`outpost check` end to end: the real binary runs small policies written by the test
on the Debian 12 fixture tree (tests/fixtures/linux/debian12):

    python3 check_test.py --binary build/dev/app/outpost --source-dir . [--emulator=...] [-v]

Covers the exit codes (0 all pass, 1 a failure, 2 an error or a bad policy or usage),
the JSON fields, JUnit XML (parsed with xml.etree, counts checked), the table output
with the remediation of failures, --id filtering, skipped platforms, and policy errors
naming file and line. The config is optional with --policy: every run passes a
--config that does not exist.

Linux only: skipped under --emulator (the fixture is a Linux tree). Standard library only.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

ARGS = None  # set in main()
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "ThreadSanitizer", "UndefinedBehaviorSanitizer",
                     "runtime error:")

PASSING = '''
[[check]]
id = "root-account"
title = "root account exists"
severity = "low"
query = "SELECT 1 FROM users WHERE username = 'root'"
remediation = "Create the root account"

[[check]]
id = "alice-shell"
title = "alice logs in with bash"
severity = "info"
platforms = ["posix"]
query = "SELECT username, shell FROM users WHERE username = 'alice' AND shell = '/bin/bash'"
remediation = "chsh -s /bin/bash alice"
'''

FAILING = '''
[[check]]
id = "no-zed"
title = "user zed exists"
severity = "high"
query = "SELECT 1 FROM users WHERE username = 'zed'"
remediation = "Add the user <zed> & \\"friends\\""
'''

ERRORING = '''
[[check]]
id = "bad-sql"
title = "broken query"
severity = "medium"
query = "SELECT FROM users"
remediation = "Fix the query"

[[check]]
id = "file-without-path"
title = "file needs a path"
severity = "medium"
query = "SELECT * FROM file"
remediation = "Add a path"
'''

WINDOWS_ONLY = '''
[[check]]
id = "windows-thing"
title = "a Windows-only check"
severity = "info"
platforms = ["windows"]
query = "SELECT 1 FROM nosuch_windows_table"
remediation = "n/a"
'''


def fixture_root():
    return os.path.join(ARGS.source_dir, "tests", "fixtures", "linux", "debian12")


class CheckCommandTest(unittest.TestCase):

    def setUp(self):
        if ARGS.emulator:
            self.skipTest("Linux only (the fixture is a Linux tree)")
        self.dir = tempfile.mkdtemp(prefix="outpost-check-test-")

    def tearDown(self):
        if not ARGS.emulator:
            shutil.rmtree(self.dir, ignore_errors=True)

    def policy(self, name, *parts):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(parts))
        return path

    def run_check(self, *args):
        argv = [ARGS.binary, "--config", os.path.join(self.dir, "absent.toml"), "--no-color",
                "check", "--root", fixture_root(), *args]
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        stdout = p.stdout.decode("utf-8", "replace")
        stderr = p.stderr.decode("utf-8", "replace")
        for marker in SANITIZER_MARKERS:
            self.assertNotIn(marker, stderr, "sanitizer report for %r:\n%s" % (args, stderr))
        return p.returncode, stdout, stderr

    def run_json(self, *args):
        rc, stdout, stderr = self.run_check(*args, "--format", "json")
        try:
            results = json.loads(stdout)
        except ValueError as e:
            self.fail("not JSON (%s):\n%s\n--- stderr\n%s" % (e, stdout, stderr))
        return rc, {r["id"]: r for r in results}, [r["id"] for r in results]

    # ---- exit codes ----

    def test_all_pass_exits_0(self):
        p = self.policy("pass.toml", PASSING)
        rc, stdout, stderr = self.run_check("--policy", p)
        self.assertEqual(rc, 0, stdout + stderr)
        self.assertIn("2 passed, 0 failed, 0 errors, 0 skipped", stdout)

    def test_a_failure_exits_1(self):
        p = self.policy("fail.toml", PASSING, FAILING)
        rc, stdout, stderr = self.run_check("--policy", p)
        self.assertEqual(rc, 1, stdout + stderr)

    def test_an_error_exits_2_and_wins_over_failures(self):
        p = self.policy("err.toml", PASSING, FAILING, ERRORING)
        rc, stdout, stderr = self.run_check("--policy", p)
        self.assertEqual(rc, 2, stdout + stderr)
        self.assertIn("2 passed, 1 failed, 2 errors, 0 skipped", stdout)

    def test_skipped_platform_is_ok(self):
        p = self.policy("skip.toml", PASSING, WINDOWS_ONLY)
        rc, results, _ = self.run_json("--policy", p)
        self.assertEqual(rc, 0)
        self.assertEqual(results["windows-thing"]["status"], "skipped")
        self.assertEqual(results["windows-thing"]["error"], "")

    # ---- table ----

    def test_table_shows_status_and_the_remediation_of_failures(self):
        p = self.policy("mixed.toml", PASSING, FAILING, ERRORING, WINDOWS_ONLY)
        rc, stdout, stderr = self.run_check("--policy", p)
        self.assertEqual(rc, 2, stdout + stderr)
        lines = stdout.splitlines()
        self.assertEqual(lines[0].split(), ["ID", "SEVERITY", "STATUS", "TITLE"])

        def line_of(check_id):
            return next(l for l in lines if l.startswith(check_id + " "))

        self.assertEqual(line_of("root-account").split()[:3], ["root-account", "low", "PASS"])
        self.assertEqual(line_of("no-zed").split()[:3], ["no-zed", "high", "FAIL"])
        self.assertEqual(line_of("bad-sql").split()[:3], ["bad-sql", "medium", "ERROR"])
        self.assertEqual(line_of("windows-thing").split()[:3], ["windows-thing", "info", "SKIP"])
        self.assertIn("user zed exists", line_of("no-zed"))
        self.assertIn('Add the user <zed> & "friends"', stdout)
        # Remediation is shown only for failures.
        self.assertNotIn("Create the root account", stdout)
        self.assertIn("syntax error", stdout)
        self.assertIn("2 passed, 1 failed, 2 errors, 1 skipped", stdout)
        self.assertNotIn("\x1b[", stdout)  # --no-color, and not a terminal anyway

    # ---- json ----

    def test_json_fields(self):
        p = self.policy("mixed.toml", PASSING, FAILING, ERRORING)
        rc, results, order = self.run_json("--policy", p)
        self.assertEqual(rc, 2)
        self.assertEqual(order, ["root-account", "alice-shell", "no-zed", "bad-sql",
                                 "file-without-path"])
        for r in results.values():
            for field in ("id", "title", "severity", "status", "error", "rows", "remediation",
                          "duration_ms"):
                self.assertIn(field, r)
            self.assertIsInstance(r["duration_ms"], (int, float))
            self.assertGreaterEqual(r["duration_ms"], 0)
        alice = results["alice-shell"]
        self.assertEqual(alice["status"], "pass")
        self.assertEqual(alice["severity"], "info")
        self.assertEqual(alice["rows"], [{"username": "alice", "shell": "/bin/bash"}])
        self.assertEqual(alice["error"], "")
        zed = results["no-zed"]
        self.assertEqual(zed["status"], "fail")
        self.assertEqual(zed["rows"], [])
        self.assertEqual(zed["remediation"], 'Add the user <zed> & "friends"')
        self.assertEqual(zed["title"], "user zed exists")
        bad = results["bad-sql"]
        self.assertEqual(bad["status"], "error")
        self.assertIn("syntax error", bad["error"])
        nopath = results["file-without-path"]
        self.assertEqual(nopath["status"], "error")
        self.assertIn("path", nopath["error"])

    def test_id_filters_and_unknown_id_is_a_usage_error(self):
        p = self.policy("mixed.toml", PASSING, FAILING, ERRORING)
        rc, results, order = self.run_json("--policy", p, "--id", "no-zed", "--id",
                                           "root-account")
        self.assertEqual(rc, 1)
        self.assertEqual(order, ["root-account", "no-zed"])
        rc, stdout, stderr = self.run_check("--policy", p, "--id", "nope")
        self.assertEqual(rc, 2)
        self.assertEqual(stdout, "")
        self.assertIn("nope", stderr)
        self.assertIn("root-account", stderr)  # names the ids available
        self.assertIn("file-without-path", stderr)

    def test_several_policy_files(self):
        a = self.policy("a.toml", PASSING)
        b = self.policy("b.toml", FAILING)
        rc, results, order = self.run_json("--policy", a, b)
        self.assertEqual(rc, 1)
        self.assertEqual(order, ["root-account", "alice-shell", "no-zed"])
        self.assertEqual(results["no-zed"]["policy"], b)

    # ---- junit ----

    def test_junit_xml(self):
        p = self.policy("mixed.toml", PASSING, FAILING, ERRORING, WINDOWS_ONLY)
        rc, stdout, stderr = self.run_check("--policy", p, "--format", "junit")
        self.assertEqual(rc, 2, stderr)
        try:
            root = ET.fromstring(stdout.encode("utf-8"))
        except ET.ParseError as e:
            self.fail("not XML (%s):\n%s" % (e, stdout))
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        self.assertEqual(len(suites), 1)
        suite = suites[0]
        self.assertEqual(suite.get("tests"), "6")
        self.assertEqual(suite.get("failures"), "1")
        self.assertEqual(suite.get("errors"), "2")
        self.assertEqual(suite.get("skipped"), "1")
        cases = {c.get("name"): c for c in suite.findall("testcase")}
        self.assertEqual(sorted(cases), sorted(["root-account", "alice-shell", "no-zed",
                                                "bad-sql", "file-without-path",
                                                "windows-thing"]))
        for c in cases.values():
            self.assertEqual(c.get("classname"), "mixed")
            float(c.get("time"))
        self.assertEqual(list(cases["root-account"]), [])
        failure = cases["no-zed"].find("failure")
        self.assertIsNotNone(failure)
        self.assertEqual(failure.get("message"), "user zed exists")
        self.assertEqual(failure.text, 'Add the user <zed> & "friends"')
        error = cases["bad-sql"].find("error")
        self.assertIsNotNone(error)
        self.assertIn("syntax error", error.get("message"))
        self.assertIsNotNone(cases["windows-thing"].find("skipped"))

    # ---- policy and usage errors ----

    def test_policy_errors_name_file_and_line(self):
        p = self.policy("bad.toml", '''[[check]]
id = "a"
title = "t"
severity = "hihg"
query = "SELECT 1"
remediation = "r"
platfroms = ["linux"]
''')
        rc, stdout, stderr = self.run_check("--policy", p)
        self.assertEqual(rc, 2)
        self.assertEqual(stdout, "")
        self.assertIn(p + ":4: check 'a': 'severity' is \"hihg\"", stderr)
        self.assertIn(p + ":7: check 'a': unknown key 'platfroms'", stderr)
        self.assertIn("did you mean 'platforms'?", stderr)

    def test_not_toml_and_duplicate_ids(self):
        p = self.policy("nt.toml", "this is not = = toml\n")
        rc, _, stderr = self.run_check("--policy", p)
        self.assertEqual(rc, 2)
        self.assertIn(p + ":1: not valid TOML", stderr)
        a = self.policy("a.toml", PASSING)
        b = self.policy("b.toml", PASSING)
        rc, _, stderr = self.run_check("--policy", a, b)
        self.assertEqual(rc, 2)
        self.assertIn("check 'root-account': id is already used by the check at " + a, stderr)

    def test_bad_format_and_missing_policy(self):
        p = self.policy("pass.toml", PASSING)
        rc, _, stderr = self.run_check("--policy", p, "--format", "xml")
        self.assertEqual(rc, 2)
        self.assertIn("--format", stderr)
        rc, _, stderr = self.run_check("--policy", os.path.join(self.dir, "missing.toml"))
        self.assertEqual(rc, 2)
        self.assertIn("cannot read policy file", stderr)

    def test_without_policy_the_config_is_required(self):
        rc, stdout, stderr = self.run_check()
        self.assertEqual(rc, 2)
        self.assertIn("absent.toml", stderr)

    def test_policies_from_the_config(self):
        p = self.policy("from-config.toml", FAILING)
        cfg = os.path.join(self.dir, "outpost.toml")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write('[agent]\nstate_dir = %s\n\n[checks]\npolicies = [%s]\n'
                    % (json.dumps(self.dir), json.dumps(p)))
        argv = [ARGS.binary, "--config", cfg, "check", "--root", fixture_root(), "--format",
                "json"]
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(proc.returncode, 1, proc.stderr.decode("utf-8", "replace"))
        self.assertEqual([r["id"] for r in json.loads(proc.stdout)], ["no-zed"])


def main():
    global ARGS
    parser = argparse.ArgumentParser(description="outpost check end to end")
    parser.add_argument("--binary", required=True, help="the outpost executable")
    parser.add_argument("--source-dir", required=True, help="the source tree (for the fixture)")
    parser.add_argument("--emulator", default="", help="set for a cross build: the tests are skipped")
    ARGS, rest = parser.parse_known_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    ARGS.source_dir = os.path.abspath(ARGS.source_dir)
    if not ARGS.emulator and not os.path.isfile(ARGS.binary):
        parser.error("no such binary: %s" % ARGS.binary)
    if ARGS.emulator:
        print("check_test: skipped: Linux only (the fixture is a Linux tree; not run under the "
              "emulator %s)" % ARGS.emulator, flush=True)
    program = unittest.main(argv=[sys.argv[0], *rest], exit=False)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())

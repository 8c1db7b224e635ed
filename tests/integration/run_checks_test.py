#!/usr/bin/env python3
"""Integration test of policy checks inside `outpost run`: `run --once` with a policy
writes one record per check to stream "checks" of buffer.db (`outpost buffer export`
shows them), and a second run with unchanged results writes nothing more.

    python3 run_checks_test.py --binary build/dev/app/outpost --source-dir . [-v]

Linux only (other OSes have no device tables yet: the test skips itself there).
Standard library only.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest

ARGS = None

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "ThreadSanitizer", "UndefinedBehaviorSanitizer",
                     "runtime error:")

POLICY = '''
[[check]]
id = "always-passes"
title = "A query that returns a row"
severity = "low"
query = "SELECT 1 AS one"
remediation = "Nothing to do"

[[check]]
id = "always-fails"
title = "A query that returns nothing"
severity = "high"
query = "SELECT 1 WHERE 0"
remediation = "Nothing to do: it is a test"
'''


@unittest.skipUnless(sys.platform.startswith("linux"), "device tables exist on Linux only")
class RunChecksTest(unittest.TestCase):
    def setUp(self):
        if ARGS.emulator:
            self.skipTest("device tables exist on Linux only; the Windows build says so")
        self.tmp = tempfile.TemporaryDirectory(prefix="outpost-checks-")
        self.dir = self.tmp.name
        self.state = os.path.join(self.dir, "state")
        with open(os.path.join(self.dir, "policy.toml"), "w") as f:
            f.write(POLICY)
        with open(os.path.join(self.dir, "outpost.toml"), "w") as f:
            f.write('[agent]\nstate_dir = "%s"\nhostname = "checkhost"\n\n'
                    '[checks]\npolicies = ["policy.toml"]\n' % self.state)

    def tearDown(self):
        self.tmp.cleanup()

    def outpost(self, *args):
        argv = [ARGS.binary, "--config", os.path.join(self.dir, "outpost.toml"), *args]
        p = subprocess.run(argv, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60, text=True, errors="replace")
        for marker in SANITIZER_MARKERS:
            self.assertNotIn(marker, p.stderr, p.stderr[-4000:])
        return p

    def checks(self):
        p = self.outpost("buffer", "export", "--stream", "checks")
        self.assertEqual(p.returncode, 0, p.stderr)
        return [json.loads(line) for line in p.stdout.splitlines() if line]

    def test_run_once_writes_check_results_once(self):
        p = self.outpost("run", "--once")
        self.assertEqual(p.returncode, 0, p.stderr)
        records = self.checks()
        self.assertEqual([r["check_id"] for r in records], ["always-passes", "always-fails"])
        ok, bad = records
        self.assertEqual(list(ok), ["@timestamp", "host", "agent_id", "stream", "source",
                                    "check_id", "title", "severity", "status", "rows"])
        self.assertEqual(ok["host"], "checkhost")
        self.assertEqual(ok["stream"], "checks")
        self.assertEqual(ok["source"], "check")
        self.assertEqual(ok["severity"], "low")
        self.assertEqual(ok["status"], "pass")
        self.assertEqual(ok["rows"], [{"one": "1"}])
        self.assertEqual(bad["status"], "fail")
        self.assertEqual(bad["rows"], [])
        self.assertEqual(bad["remediation"], "Nothing to do: it is a test")

        # Unchanged results are not written again.
        p = self.outpost("run", "--once")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(self.checks()), 2)

    def test_policy_errors_do_not_stop_the_agent(self):
        with open(os.path.join(self.dir, "policy.toml"), "a") as f:
            f.write('\n[[check]]\nid = "typo"\ntitle = "t"\nquery = "SELECT 1"\n'
                    'remediation = "r"\nsevrity = "low"\n')
        p = self.outpost("run", "--once")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("policy.toml:", p.stderr)
        self.assertEqual(self.checks(), [])

    def inventory(self):
        p = self.outpost("buffer", "export", "--stream", "inventory")
        self.assertEqual(p.returncode, 0, p.stderr)
        return [json.loads(line) for line in p.stdout.splitlines() if line]

    def test_inventory_sends_a_snapshot_then_differences(self):
        watched = os.path.join(self.dir, "watched")
        os.mkdir(watched)
        for name in ("a", "b"):
            open(os.path.join(watched, name), "w").close()
        with open(os.path.join(self.dir, "outpost.toml"), "a") as f:
            f.write('\n[[inventory]]\nname = "watched-files"\ninterval = "1h"\n'
                    "query = \"SELECT filename FROM file WHERE directory = '%s'\"\n" % watched)
        p = self.outpost("run", "--once")
        self.assertEqual(p.returncode, 0, p.stderr)
        records = self.inventory()
        self.assertEqual([(r["action"], r["columns"]["filename"]) for r in records],
                         [("snapshot", "a"), ("snapshot", "b")])
        self.assertEqual(records[0]["name"], "watched-files")
        self.assertEqual(records[0]["stream"], "inventory")
        self.assertEqual(records[0]["host"], "checkhost")

        # Nothing changed: nothing more.
        p = self.outpost("run", "--once")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(self.inventory()), 2)

        os.unlink(os.path.join(watched, "a"))
        open(os.path.join(watched, "c"), "w").close()
        p = self.outpost("run", "--once")
        self.assertEqual(p.returncode, 0, p.stderr)
        records = self.inventory()[2:]
        self.assertEqual([(r["action"], r["columns"]["filename"]) for r in records],
                         [("removed", "a"), ("added", "c")])

    def test_inventory_config_errors_name_the_line(self):
        with open(os.path.join(self.dir, "outpost.toml"), "a") as f:
            f.write('\n[[inventory]]\nname = "x"\nquery = "SELECT 1"\n'
                    '\n[[inventory]]\nname = "x"\n')
        p = self.outpost("run", "--once")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("outpost.toml:", p.stderr)
        self.assertIn("inventory[1].query", p.stderr)
        self.assertIn('two inventory queries are named "x"', p.stderr)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description="outpost run: policy checks")
    parser.add_argument("--binary", required=True, help="the outpost executable")
    parser.add_argument("--source-dir", required=True, help="the source tree")
    parser.add_argument("--emulator", default="", help="set for a cross build: skipped")
    ARGS, rest = parser.parse_known_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    if ARGS.emulator:
        print("run_checks_test: skipped: Linux device tables only (emulator %s)" % ARGS.emulator,
              flush=True)
    if not os.path.isfile(ARGS.binary):
        parser.error("no such binary: %s" % ARGS.binary)
    program = unittest.main(argv=[sys.argv[0], *rest], exit=False)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())

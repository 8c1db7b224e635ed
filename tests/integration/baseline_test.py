#!/usr/bin/env python3
"""The Linux baseline policy (installer/policies/linux-baseline.toml) on two fixture
hosts: tests/fixtures/linux/baseline-pass must pass every check, baseline-fail must
fail every one of them. The trees are copied to a temporary directory first, where the
file modes the checks look at are set (git keeps only 0644/0755)."""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import unittest

ARGS = None


def policy_path():
    return os.path.join(ARGS.source_dir, "installer", "policies", "linux-baseline.toml")


def host(name, modes):
    """A copy of fixture tree `name` with `modes` ({relative path: mode}) applied."""
    root = tempfile.mkdtemp(prefix="outpost-baseline-")
    dest = os.path.join(root, name)
    shutil.copytree(os.path.join(ARGS.source_dir, "tests", "fixtures", "linux", name), dest,
                    symlinks=True)
    for rel, mode in modes.items():
        path = os.path.join(dest, rel)
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write("x\n")
        os.chmod(path, mode)
    return root, dest


def run_check(root, *extra):
    argv = [ARGS.binary, "check", "--policy", policy_path(), "--root", root, "--format", "json",
            *extra]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# Checks that need the files to be owned by root: they can pass only when the test
# runs as root (CI does).
OWNER_CHECKS = {"passwd-file-permissions", "shadow-file-permissions", "crontab-permissions"}


class BaselineTest(unittest.TestCase):
    def setUp(self):
        if ARGS.emulator:
            self.skipTest("Linux device tables only")
        with open(policy_path(), "rb") as f:
            self.policy = tomllib.load(f)["check"]

    def test_policy_has_at_least_25_checks_each_with_a_remediation(self):
        self.assertGreaterEqual(len(self.policy), 25)
        ids = [c["id"] for c in self.policy]
        self.assertEqual(len(ids), len(set(ids)))
        for c in self.policy:
            self.assertTrue(c.get("remediation", "").strip(), c["id"])

    def results(self, name, modes):
        tmp, dest = host(name, modes)
        self.addCleanup(shutil.rmtree, tmp, True)
        rc, out, err = run_check(dest)
        try:
            res = json.loads(out)
        except ValueError:
            self.fail("outpost check printed no JSON (exit %d)\n%s\n%s" % (rc, out, err))
        return rc, {r["id"]: r for r in res}, err

    def test_a_healthy_host_passes_every_check(self):
        rc, res, err = self.results("baseline-pass", {
            "etc/passwd": 0o644, "etc/shadow": 0o640, "etc/crontab": 0o600,
            "etc/nftables.conf": 0o644, "usr/bin/tool": 0o755, "usr/sbin/daemon-tool": 0o755})
        expected = {c["id"] for c in self.policy}
        self.assertEqual(set(res), expected)
        bad = {i: (r["status"], r.get("error")) for i, r in res.items() if r["status"] != "pass"}
        if os.geteuid() != 0:
            bad = {i: v for i, v in bad.items() if i not in OWNER_CHECKS}
        self.assertEqual(bad, {}, err)
        if os.geteuid() == 0:
            self.assertEqual(rc, 0, err)

    def test_a_neglected_host_fails_every_check(self):
        rc, res, err = self.results("baseline-fail", {
            "etc/passwd": 0o666, "etc/shadow": 0o644, "etc/crontab": 0o666,
            "etc/motd": 0o666, "usr/bin/tool": 0o777})
        self.assertEqual(rc, 1, err)
        not_failed = {i: (r["status"], r.get("error")) for i, r in res.items()
                      if r["status"] != "fail"}
        self.assertEqual(not_failed, {}, err)
        for r in res.values():
            self.assertTrue(r["remediation"], r)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--emulator", default="")
    ARGS, rest = parser.parse_known_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    ARGS.source_dir = os.path.abspath(ARGS.source_dir)
    program = unittest.main(argv=[sys.argv[0], *rest], exit=False)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())

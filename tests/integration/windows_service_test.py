#!/usr/bin/env python3
"""`outpost service` on Windows: the real outpost.exe and Wine's Service Control Manager.

    python3 windows_service_test.py --binary build/windows/app/outpost.exe --emulator=wine

Registers the service "outpost" in the Wine prefix (WINEPREFIX) with a test config in a
temp dir, starts it, waits for the SCM and the agent itself to say it runs, stops it
(the agent's log shows the graceful stop), starts it again and uninstalls it. Leaves
nothing registered, also when a test fails. Skips itself without --emulator (the
Linux build has no SCM). Standard library only. Extra arguments go to unittest.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

ARGS = None
# Bounds for the SCM to reach a state (not timing assertions: a slow machine only
# waits longer; a state never reached fails).
STATE_BOUND_S = 90


def native(path):
    """A path as outpost.exe sees it: Wine maps / to drive Z:, and the service starts
    in C:\\windows\\system32, so every path it gets is a full drive path."""
    return "Z:" + path.replace("/", "\\")


class WindowsServiceTest(unittest.TestCase):
    def setUp(self):
        if not ARGS.emulator:
            self.skipTest("the Windows build, under the emulator")
        self.dir = tempfile.mkdtemp(prefix="outpost-winsvc-test-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.state = os.path.join(self.dir, "state")
        self.logs = os.path.join(self.dir, "logs")
        os.makedirs(self.logs)
        with open(os.path.join(self.logs, "app.log"), "w") as f:
            f.write("hello from the service test\n")
        self.config = os.path.join(self.dir, "outpost.toml")
        with open(self.config, "w", newline="\n") as f:
            f.write("[agent]\nstate_dir = '%s'\n\n[buffer]\nchunk_max_age = '100ms'\n\n"
                    "[[source.file]]\nname = 'app'\npaths = ['%s']\nstart_at = 'beginning'\n"
                    % (native(self.state), native(os.path.join(self.logs, "app.log"))))
        # Under Wine a service lives only as long as the prefix's wineserver, which shuts
        # down (taking services.exe and the service with it, without a stop control) a
        # few seconds after the last ordinary Wine process ends; the next Wine process
        # then starts an auto-start service afresh. A cmd.exe waiting on its stdin keeps
        # the wineserver up for the whole test (docs/service.md, Under Wine).
        # Started alone first: two Wine processes that start a stopped prefix at the
        # same moment left the second one hanging here.
        subprocess.run([ARGS.emulator, "cmd.exe", "/c", "exit"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180,
                       env=dict(os.environ, WINEDEBUG="-all"))
        self.holder = subprocess.Popen([ARGS.emulator, "cmd.exe"], stdin=subprocess.PIPE,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       env=dict(os.environ, WINEDEBUG="-all"))
        self.addCleanup(self.release_holder)
        # A service left by an earlier, interrupted run would make this one lie.
        self.uninstall_quietly()
        self.addCleanup(self.uninstall_quietly)

    def release_holder(self):
        try:
            self.holder.communicate(b"exit\r\n", timeout=60)
        except subprocess.TimeoutExpired:
            self.holder.kill()
            self.holder.wait()

    def run_outpost(self, *args, timeout=180):
        argv = [ARGS.emulator, ARGS.binary, *args]
        env = dict(os.environ, WINEDEBUG="-all")
        p = subprocess.run(argv, cwd=self.dir, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        p.out = p.stdout.decode("utf-8", "replace").replace("\r\n", "\n")
        p.err = p.stderr.decode("utf-8", "replace").replace("\r\n", "\n")
        p.text = "$ %s\nexit %d\n--- stdout\n%s--- stderr\n%s" % (
            " ".join(argv), p.returncode, p.out, p.err)
        return p

    def uninstall_quietly(self):
        self.run_outpost("service", "uninstall")
        self.wait_for(lambda s: not s["installed"], "not installed", fail=False)

    def service_status(self):
        r = self.run_outpost("service", "status", "--json")
        self.assertIn(r.returncode, (0, 1), r.text)
        s = json.loads(r.out)
        s["_text"] = r.text
        return s

    def wait_for(self, predicate, what, fail=True):
        deadline = time.monotonic() + STATE_BOUND_S
        s = None
        while time.monotonic() < deadline:
            s = self.service_status()
            if predicate(s):
                return s
            time.sleep(0.5)
        if fail:
            self.fail("the service did not become %s within %d s; last:\n%s"
                      % (what, STATE_BOUND_S, s and s["_text"]))
        return s

    def agent_status(self):
        r = self.run_outpost("--config", native(self.config), "status", "--json")
        self.assertIn(r.returncode, (0, 1), r.text)
        return json.loads(r.out)

    def agent_log(self):
        p = os.path.join(self.state, "agent.log")
        if not os.path.exists(p):
            return ""
        with open(p, encoding="utf-8", errors="replace") as f:
            return f.read()

    def test_dry_run_prints_the_sc_steps_and_changes_nothing(self):
        r = self.run_outpost("--config", native(self.config), "service", "install", "--dry-run")
        self.assertEqual(r.returncode, 0, r.text)
        lines = [l for l in r.out.splitlines() if l.startswith("run ")]
        self.assertEqual(len(lines), 4, r.text)
        self.assertRegex(lines[0], r"^run .*\\sc\.exe create outpost binPath= \".*outpost\.exe\" "
                         r"--config \"Z:.*outpost\.toml\" run --service start= auto "
                         r"DisplayName= outpost agent$")
        self.assertRegex(lines[1], r"sc\.exe description outpost ")
        self.assertRegex(lines[2], r"sc\.exe failure outpost reset= 86400 actions= restart/")
        self.assertRegex(lines[3], r"sc\.exe start outpost$")
        self.assertFalse(self.service_status()["installed"])

    def test_run_service_by_hand_says_what_to_run(self):
        r = self.run_outpost("--config", native(self.config), "run", "--service")
        self.assertEqual(r.returncode, 2, r.text)
        self.assertIn("run --service is for the Service Control Manager", r.err)
        self.assertIn("use outpost run", r.err)

    def test_install_start_stop_uninstall(self):
        s = self.service_status()
        self.assertEqual((s["manager"], s["service"], s["installed"]), ("scm", "outpost", False))

        r = self.run_outpost("--config", native(self.config), "service", "install")
        self.assertEqual(r.returncode, 0, r.text)
        self.assertIn("create outpost binPath=", r.out)
        s = self.wait_for(lambda s: s["running"], "running")
        self.assertTrue(s["installed"], s["_text"])
        self.assertEqual(s["unit_file_state"], "auto", s["_text"])
        self.assertGreater(s["main_pid"], 0, s["_text"])
        self.assertIn("--config", s["unit_file"], s["_text"])
        # The agent itself: the lock in the test's state dir is held.
        deadline = time.monotonic() + STATE_BOUND_S
        while not self.agent_status()["agent"]["running"] and time.monotonic() < deadline:
            time.sleep(0.5)
        self.assertTrue(self.agent_status()["agent"]["running"], self.agent_log())

        r = self.run_outpost("service", "stop")
        self.assertEqual(r.returncode, 0, r.text)
        s = self.wait_for(lambda s: s["sub_state"] == "stopped", "stopped")
        # A clean stop: exit code 0, so "inactive", not "failed".
        self.assertEqual(s["active_state"], "inactive", s["_text"])
        self.assertFalse(self.agent_status()["agent"]["running"])
        self.assertIn("stopped: ", self.agent_log())

        r = self.run_outpost("service", "start")
        self.assertEqual(r.returncode, 0, r.text)
        self.wait_for(lambda s: s["running"], "running again")

        r = self.run_outpost("service", "uninstall")
        self.assertEqual(r.returncode, 0, r.text)
        self.assertIn("delete outpost", r.out)
        self.wait_for(lambda s: not s["installed"], "not installed")
        self.assertEqual(self.agent_log().count("stopped: "), 2, self.agent_log())

        r = self.run_outpost("service", "uninstall")
        self.assertEqual(r.returncode, 0, r.text)
        self.assertIn("nothing to do", r.out)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description="outpost Windows service integration tests")
    parser.add_argument("--binary", required=True)
    parser.add_argument("--emulator", default="")
    ARGS, rest = parser.parse_known_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    program = unittest.main(argv=[sys.argv[0], *rest], exit=False)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())

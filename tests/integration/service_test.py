#!/usr/bin/env python3
"""`outpost service`: the real binary, with a fake systemctl, in temp dirs.

    python3 service_test.py --binary build/dev/app/outpost --source-dir . [--emulator=wine]

Never runs the real systemctl and never writes outside its temp dir: every command
gets --systemctl (a shell script that records its arguments) and --unit-dir or
--root. Under the emulator (the Windows build) only that the SCM answers is checked
(windows_service_test.py drives it).
Standard library only. Extra arguments go to unittest (e.g. -v, -k NAME).
"""
import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

ARGS = None

FAKE_SYSTEMCTL = r"""#!/bin/sh
# Records its arguments; with --root=DIR enable, makes the link systemd would.
echo "$*" >> "$(dirname "$0")/systemctl.log"
case "$1" in
  --root=*)
    root=${1#--root=}
    if [ "$2" = enable ]; then
      mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
      ln -sf /etc/systemd/system/outpost.service "$root/etc/systemd/system/multi-user.target.wants/outpost.service"
    fi ;;
  show) printf 'LoadState=loaded\nActiveState=%s\nSubState=%s\nUnitFileState=enabled\nMainPID=%s\nFragmentPath=%s\n' \
          "${FAKE_ACTIVE:-active}" "${FAKE_SUB:-running}" "${FAKE_PID:-4242}" "${FAKE_FRAGMENT:-}" ;;
esac
exit "${FAKE_EXIT:-0}"
"""


class ServiceTest(unittest.TestCase):
    def setUp(self):
        if ARGS.emulator and not getattr(getattr(self, self._testMethodName), "windows", False):
            self.skipTest("systemd service control: Linux only")
        self.dir = tempfile.mkdtemp(prefix="outpost-service-test-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        self.systemctl = os.path.join(self.bin, "systemctl")
        with open(self.systemctl, "w") as f:
            f.write(FAKE_SYSTEMCTL)
        os.chmod(self.systemctl, 0o755)
        self.log = os.path.join(self.bin, "systemctl.log")
        self.units = os.path.join(self.dir, "units")
        with open(os.path.join(ARGS.source_dir, "installer/linux/outpost.service")) as f:
            self.shipped = f.read()

    def run_outpost(self, *args, env_extra=None):
        argv = [ARGS.binary, *args]
        if ARGS.emulator:
            argv = [ARGS.emulator, *argv]
        env = dict(os.environ, WINEDEBUG="-all", **(env_extra or {}))
        p = subprocess.run(argv, cwd=self.dir, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=120 if ARGS.emulator else 30)
        p.out = p.stdout.decode("utf-8", "replace").replace("\r\n", "\n")
        p.err = p.stderr.decode("utf-8", "replace").replace("\r\n", "\n")
        p.text = "$ %s\nexit %d\n--- stdout\n%s--- stderr\n%s" % (
            " ".join(argv), p.returncode, p.out, p.err)
        return p

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return f.read().splitlines()

    def hooks(self):
        return ["--systemctl", self.systemctl, "--unit-dir", self.units]

    def test_dry_run_prints_the_unit_and_commands_and_changes_nothing(self):
        r = self.run_outpost("service", "install", "--dry-run", "--binary", "/usr/bin/outpost",
                             *self.hooks())
        self.assertEqual(r.returncode, 0, r.text)
        unit = os.path.join(self.units, "outpost.service")
        self.assertIn("write %s (mode 0644)\n----- begin %s -----\n%s----- end %s -----\n"
                      % (unit, unit, self.shipped, unit), r.out)
        for cmd in ("daemon-reload", "enable outpost.service", "restart outpost.service"):
            self.assertIn("run %s %s\n" % (self.systemctl, cmd), r.out)
        self.assertFalse(os.path.exists(self.units), "dry run created the unit directory")
        self.assertEqual(self.calls(), [], "dry run ran systemctl")

    def test_dry_run_without_test_hooks_names_the_real_paths(self):
        r = self.run_outpost("service", "install", "--dry-run", "--binary", "/opt/o/outpost")
        self.assertEqual(r.returncode, 0, r.text)
        self.assertIn("write /etc/systemd/system/outpost.service (mode 0644)", r.out)
        self.assertIn("\nExecStart=/opt/o/outpost run\n", r.out)
        self.assertRegex(r.out, r"run /(usr/)?bin/systemctl enable outpost.service")

    def test_install_writes_the_unit_with_this_binary_and_runs_systemctl(self):
        r = self.run_outpost("service", "install", *self.hooks())
        self.assertEqual(r.returncode, 0, r.text)
        with open(os.path.join(self.units, "outpost.service")) as f:
            unit = f.read()
        self.assertEqual(unit, self.shipped.replace(
            "\nExecStart=/usr/bin/outpost run\n", "\nExecStart=%s run\n" % ARGS.binary))
        mode = stat.S_IMODE(os.stat(os.path.join(self.units, "outpost.service")).st_mode)
        self.assertEqual(mode, 0o644)
        self.assertEqual(self.calls(), ["daemon-reload", "enable outpost.service",
                                        "restart outpost.service"])
        self.assertIn("run %s enable outpost.service: ok" % self.systemctl, r.out)

    def test_install_into_a_root_enables_there_and_starts_nothing(self):
        root = os.path.join(self.dir, "image")
        r = self.run_outpost("service", "install", "--root", root, "--binary",
                             "/usr/bin/outpost", "--systemctl", self.systemctl)
        self.assertEqual(r.returncode, 0, r.text)
        with open(os.path.join(root, "etc/systemd/system/outpost.service")) as f:
            self.assertEqual(f.read(), self.shipped)
        self.assertEqual(self.calls(), ["--root=%s enable outpost.service" % root])
        r = self.run_outpost("service", "status", "--json", "--root", root,
                             "--systemctl", self.systemctl)
        self.assertEqual(r.returncode, 0, r.text)
        j = json.loads(r.out)
        self.assertTrue(j["installed"])
        self.assertEqual(j["unit_file_state"], "enabled")
        self.assertFalse(j["queried"])
        for action in ("start", "stop"):
            r = self.run_outpost("service", action, "--root", root)
            self.assertEqual(r.returncode, 2, r.text)  # --root is not an option of start

    def test_start_stop_run_systemctl(self):
        self.assertEqual(self.run_outpost("service", "start", *self.hooks()).returncode, 0)
        self.assertEqual(self.run_outpost("service", "stop", *self.hooks()).returncode, 0)
        self.assertEqual(self.calls(), ["start outpost.service", "stop outpost.service"])

    def test_status_json_and_exit_codes(self):
        os.makedirs(self.units)
        with open(os.path.join(self.units, "outpost.service"), "w") as f:
            f.write(self.shipped)
        r = self.run_outpost("service", "status", "--json", *self.hooks())
        self.assertEqual(r.returncode, 0, r.text)
        j = json.loads(r.out)
        self.assertEqual(j["manager"], "systemd")
        self.assertEqual(j["service"], "outpost.service")
        self.assertTrue(j["installed"])
        self.assertTrue(j["running"])
        self.assertEqual(j["main_pid"], 4242)
        self.assertEqual(j["active_state"], "active")
        r = self.run_outpost("service", "status", *self.hooks())
        self.assertEqual(r.returncode, 0, r.text)
        self.assertIn("state    active (running), pid 4242", r.out)
        r = self.run_outpost("service", "status", "--json", *self.hooks(),
                             env_extra={"FAKE_ACTIVE": "failed", "FAKE_SUB": "failed",
                                        "FAKE_PID": "0"})
        self.assertEqual(r.returncode, 1, r.text)
        self.assertFalse(json.loads(r.out)["running"])

    def test_status_when_systemctl_fails_exits_3(self):
        r = self.run_outpost("service", "status", *self.hooks(), env_extra={"FAKE_EXIT": "1"})
        self.assertEqual(r.returncode, 3, r.text)
        self.assertIn("cannot ask systemd", r.err)

    def test_uninstall_stops_disables_and_removes_only_its_unit(self):
        r = self.run_outpost("service", "uninstall", *self.hooks())
        self.assertEqual(r.returncode, 0, r.text)
        self.assertIn("not installed", r.out)
        self.assertEqual(self.calls(), [])
        self.assertEqual(self.run_outpost("service", "install", *self.hooks()).returncode, 0)
        os.remove(self.log)
        r = self.run_outpost("service", "uninstall", "--dry-run", *self.hooks())
        self.assertEqual(r.returncode, 0, r.text)
        self.assertEqual(self.calls(), [])
        self.assertTrue(os.path.exists(os.path.join(self.units, "outpost.service")))
        r = self.run_outpost("service", "uninstall", *self.hooks())
        self.assertEqual(r.returncode, 0, r.text)
        self.assertFalse(os.path.exists(os.path.join(self.units, "outpost.service")))
        self.assertEqual(self.calls(), ["stop outpost.service", "disable outpost.service",
                                        "daemon-reload"])

    def test_a_failing_step_stops_the_plan_and_exits_3(self):
        r = self.run_outpost("service", "install", *self.hooks(), env_extra={"FAKE_EXIT": "5"})
        self.assertEqual(r.returncode, 3, r.text)
        self.assertIn("run %s daemon-reload: exit status 5" % self.systemctl, r.err)
        self.assertEqual(self.calls(), ["daemon-reload"])

    def test_usage_errors_exit_2(self):
        r = self.run_outpost("service", "install", "--binary", "relative/outpost", *self.hooks())
        self.assertEqual(r.returncode, 2, r.text)
        r = self.run_outpost("service", "install", "--root", "relative", *self.hooks())
        self.assertEqual(r.returncode, 2, r.text)
        self.assertEqual(self.run_outpost("service").returncode, 2)
        self.assertEqual(self.calls(), [])

    def test_shipped_units_pass_systemd_analyze_verify(self):
        tool = shutil.which("systemd-analyze")
        if tool is None:
            self.skipTest("systemd-analyze is not installed")
        # Verify checks that ExecStart's program exists: point it at this binary.
        units = []
        for name in ("outpost.service", "outpost-once.service", "outpost-once.timer"):
            with open(os.path.join(ARGS.source_dir, "installer/linux", name)) as f:
                text = f.read().replace("=/usr/bin/outpost ", "=%s " % ARGS.binary)
            units.append(os.path.join(self.dir, name))
            with open(units[-1], "w") as f:
                f.write(text)
        p = subprocess.run([tool, "verify", "--man=no", *units], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout.decode())
        self.assertEqual(p.stdout.decode().strip(), "")

    def test_help_documents_exit_status(self):
        r = self.run_outpost("service", "install", "--help")
        self.assertEqual(r.returncode, 0, r.text)
        self.assertIn("EXIT STATUS", r.out)
        self.assertIn("--dry-run", r.out)
        self.assertNotIn("--unit-dir", r.out)  # test hooks stay hidden

    def test_run_service_is_only_for_windows(self):
        if ARGS.emulator:
            self.skipTest("POSIX builds (windows_service_test.py covers Windows)")
        r = self.run_outpost("run", "--service")
        self.assertEqual(r.returncode, 2, r.text)
        self.assertIn("run --service is only for Windows", r.err)

    def test_windows_asks_the_service_control_manager(self):
        if not ARGS.emulator:
            self.skipTest("the Windows build, under the emulator")
        r = self.run_outpost("service", "status", "--json")
        self.assertIn(r.returncode, (0, 1), r.text)  # windows_service_test.py goes further
        self.assertEqual(json.loads(r.out)["manager"], "scm", r.text)

    test_windows_asks_the_service_control_manager.windows = True


def main():
    global ARGS
    parser = argparse.ArgumentParser(description="outpost service integration tests")
    parser.add_argument("--binary", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--emulator", default="")
    ARGS, rest = parser.parse_known_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    program = unittest.main(argv=[sys.argv[0], *rest], exit=False)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())

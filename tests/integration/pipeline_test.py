#!/usr/bin/env python3
"""Integration tests of the log pipeline: the real `outpost` binary tails files in temp
dirs into buffer.db, and `outpost buffer export` / `outpost status` show what it did.

    python3 pipeline_test.py --binary build/dev/app/outpost --source-dir . \
        [--emulator=/usr/bin/wine] [--seed N] [-v] [-k NAME]

Every test writes its own outpost.toml ([agent] state_dir, [[source.file]]) and log
files in a fresh temp dir. Most tests use `run --once`; the live ones start `outpost
run` in the background, poll `status --json` / `buffer export` until a deadline (no
fixed sleeps), and stop it with SIGTERM. Nothing talks to a network address.

With --emulator (a Windows build under Wine) only the tests marked
`@also_under_emulator` run; the POSIX-only ones (signals, FIFOs, chmod, inotify) are
skipped with the reason. Random data comes from --seed (printed at start, so a failure
can be replayed): each test draws from its own generator seeded by the seed and its
name, so one test's data does not depend on which others ran. Every command's stderr is
checked for sanitizer reports (the dev build has ASan+UBSan). Standard library only.
"""
import argparse
import base64
import collections
import gzip
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

ARGS = None  # set in main()
DEFAULT_SEED = 20240501

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "ThreadSanitizer", "UndefinedBehaviorSanitizer",
                     "runtime error:")


def under_emulator():
    return bool(ARGS and ARGS.emulator)


def also_under_emulator(test):
    """Marks a test portable and cheap enough to run under Wine too."""
    test.also_under_emulator = True
    return test


def posix_only(why):
    """The test needs something Windows does not have (signals, FIFOs, chmod, inotify)."""
    def mark(test):
        test.posix_only = why
        return test
    return mark


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a valid TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join("%s = %s" % (json.dumps(k), toml_value(x)) for k, x in v.items()) + " }"
    raise TypeError(v)


class Result:
    def __init__(self, argv, returncode, stdout, stderr):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def __str__(self):
        return "$ %s\nexit %s\n--- stdout\n%s--- stderr\n%s" % (
            " ".join(self.argv), self.returncode, self.stdout[-4000:], self.stderr[-4000:])


def normalise(data):
    return data.decode("utf-8", "replace").replace("\r\n", "\n")


def base(path):
    """Last component of a path as a record shows it (either separator)."""
    return path.replace("\\", "/").rsplit("/", 1)[-1]


class Agent:
    """`outpost run` in the background; its stdout+stderr go to a file (the agent's log)."""

    def __init__(self, test, args):
        self.test = test
        self.log_path = test.path("agent-%d.log" % len(test.agents))
        self.log_file = open(self.log_path, "wb")
        self.argv = test.argv("run", *args)
        self.proc = subprocess.Popen(self.argv, cwd=test.dir, env=test.env(), stdin=subprocess.DEVNULL,
                                     stdout=self.log_file, stderr=subprocess.STDOUT,
                                     preexec_fn=test.preexec())
        self.pid = self.proc.pid
        self.returncode = None

    def log(self):
        with open(self.log_path, "rb") as f:
            return normalise(f.read())

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Sends `sig`, waits; returns (exit status, seconds from signal to exit)."""
        if self.returncode is not None:
            return self.returncode, 0.0
        start = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.test.fail("the agent did not exit within %ds of signal %d\n%s" % (timeout, sig, self.log()))
        elapsed = time.monotonic() - start
        self.returncode = self.proc.returncode
        self.log_file.close()
        self.test.assertNoSanitizerReport(self.log(), "the agent's log")
        return self.returncode, elapsed

    def kill_quietly(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.log_file.closed:
            self.log_file.close()


class PipelineTestCase(unittest.TestCase):
    """A temp dir per test with logs/ and state/; it is also the binary's working dir."""

    def setUp(self):
        method = getattr(self, self._testMethodName)
        why = getattr(method, "posix_only", None)
        if why and (under_emulator() or os.name != "posix"):
            self.skipTest("POSIX only (%s)" % why)
        if under_emulator() and not getattr(method, "also_under_emulator", False):
            self.skipTest("Linux only (each start under the emulator is slow)")
        self.rng = random.Random("%d:%s" % (ARGS.seed, self._testMethodName))
        self.dir = tempfile.mkdtemp(prefix="outpost-pipeline-test-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.logs = self.path("logs")
        self.state = self.path("state")
        os.mkdir(self.logs)
        self.config_path = self.path("outpost.toml")
        self.agents = []
        self.user = None  # (uid, gid) to run outpost as, for permission tests under root
        self.addCleanup(self._kill_agents)

    def _kill_agents(self):
        for a in self.agents:
            a.kill_quietly()

    # ---- files ---------------------------------------------------------------------
    def path(self, *names):
        return os.path.join(self.dir, *names)

    def log_path(self, name):
        return os.path.join(self.logs, name)

    def native(self, path):
        """A path as the binary sees it (Wine maps / to drive Z:)."""
        return "Z:" + path if under_emulator() else path

    def append(self, name, data):
        """Appends bytes (or UTF-8 text) to logs/<name> in one write; returns its path."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        p = name if os.path.isabs(name) else self.log_path(name)
        with open(p, "ab") as f:
            f.write(data)
        return p

    def lines(self, prefix, first, count):
        return ["%s-%03d" % (prefix, i) for i in range(first, first + count)]

    def append_lines(self, name, lines):
        return self.append(name, "".join(l + "\n" for l in lines))

    # ---- config --------------------------------------------------------------------
    def source(self, pattern, **options):
        """A [[source.file]] for logs/<pattern> (start_at "beginning" unless given; pass
        start_at=None to leave it out)."""
        s = {"name": "app", "paths": [self.native(os.path.join(self.logs, pattern))],
             "start_at": "beginning"}
        s.update(options)
        return {k: v for k, v in s.items() if v is not None}

    def write_config(self, sources, agent=None, buffer=None, extra=""):
        out = ["[agent]", "state_dir = %s" % toml_value(self.native(self.state))]
        for k, v in (agent or {}).items():
            out.append("%s = %s" % (k, toml_value(v)))
        buf = {"chunk_max_age": "100ms"}
        buf.update(buffer or {})
        out.append("")
        out.append("[buffer]")
        for k, v in buf.items():
            out.append("%s = %s" % (k, toml_value(v)))
        for s in sources:
            s = dict(s)
            multiline = s.pop("multiline", None)
            out.append("")
            out.append("[[source.file]]")
            for k, v in s.items():
                out.append("%s = %s" % (k, toml_value(v)))
            if multiline:
                out.append("[source.file.multiline]")
                for k, v in multiline.items():
                    out.append("%s = %s" % (k, toml_value(v)))
        with open(self.config_path, "w", newline="\n") as f:
            f.write("\n".join(out) + "\n" + extra)
        if self.user:
            os.chown(self.config_path, *self.user)

    # ---- running the binary --------------------------------------------------------
    def env(self):
        env = dict(os.environ)
        if under_emulator():
            env["WINEDEBUG"] = "-all"
        env.update(getattr(self, "extra_env", {}))
        return env

    def preexec(self):
        if not self.user:
            return None
        uid, gid = self.user

        def drop():
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
        return drop

    def argv(self, *args):
        argv = [ARGS.binary, "--config", self.native(self.config_path), *args]
        if ARGS.emulator:
            argv = [ARGS.emulator, *argv]
        return argv

    def run_outpost(self, *args, timeout=None):
        argv = self.argv(*args)
        timeout = timeout or (180 if under_emulator() else 60)
        p = subprocess.run(argv, cwd=self.dir, env=self.env(), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           preexec_fn=self.preexec())
        r = Result(argv, p.returncode, normalise(p.stdout), normalise(p.stderr))
        self.assertNoSanitizerReport(r.stderr, str(r))
        return r

    def assertNoSanitizerReport(self, text, context):
        for marker in SANITIZER_MARKERS:
            if marker in text:
                self.fail("sanitizer report (%r) in %s" % (marker, context[-6000:]))

    def assertExit(self, r, code):
        self.assertEqual(r.returncode, code, "unexpected exit status\n%s" % r)

    def run_once(self):
        r = self.run_outpost("run", "--once")
        self.assertExit(r, 0)
        return r

    def start_agent(self, *args):
        """Starts `outpost run` and waits until it has started (its status names it)."""
        agent = Agent(self, args)
        self.agents.append(agent)
        self.wait_for("the agent (pid %d) to start" % agent.pid,
                      lambda: self._started(agent), agent=agent)
        return agent

    def _started(self, agent):
        st, _ = self.status()
        # Before the agent created buffer.db, status knows only whether it holds the lock.
        # Under the emulator the agent's pid is Windows's, not the one Python sees.
        ok = st["agent"]["running"] and (under_emulator() or st["agent"].get("pid") == agent.pid)
        return ok, st

    def status(self):
        """(`status --json` parsed or None, Result)."""
        r = self.run_outpost("status", "--json")
        self.assertIn(r.returncode, (0, 1), "status failed\n%s" % r)
        try:
            return json.loads(r.stdout), r
        except ValueError:
            self.fail("status --json printed no JSON\n%s" % r)

    def export(self, *args):
        """Records in buffer.db, oldest first ([] when there is no buffer.db yet)."""
        r = self.run_outpost("buffer", "export", *args)
        if r.returncode == 1 and not os.path.exists(os.path.join(self.state, "buffer.db")):
            return []
        self.assertExit(r, 0)
        records = []
        for line in r.stdout.split("\n"):
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except ValueError:
                self.fail("export printed a line that is not JSON: %r\n%s" % (line[:500], r))
        return records

    def messages(self, records=None):
        return [rec["message"] for rec in (self.export() if records is None else records)]

    def wait_for(self, what, fn, timeout=30.0, agent=None):
        """Calls fn() -> (done, detail) until done or the deadline; returns detail."""
        if under_emulator():
            timeout *= 4
        deadline = time.monotonic() + timeout
        detail = None
        while True:
            done, detail = fn()
            if done:
                return detail
            if agent is not None and not agent.alive():
                self.fail("the agent exited (status %s) while waiting for %s\n%s" % (
                    agent.proc.returncode, what, agent.log()))
            if time.monotonic() > deadline:
                self.fail("timed out after %.0f s waiting for %s; last seen: %s%s" % (
                    timeout, what, str(detail)[:3000],
                    "\nagent log:\n" + agent.log()[-4000:] if agent else ""))
            time.sleep(0.05)

    def wait_for_messages(self, count, agent=None, timeout=30.0):
        """Waits until export holds at least `count` records; returns the records."""
        def enough():
            recs = self.export()
            return len(recs) >= count, recs
        return self.wait_for("%d records in buffer export" % count, enough, timeout, agent)

    def assertExactlyOnce(self, got, expected, what="exported messages"):
        counts = collections.Counter(got)
        missing = [m for m in expected if counts[m] == 0]
        doubled = sorted(m for m, n in counts.items() if n > 1)
        unexpected = sorted(set(counts) - set(expected))
        self.assertFalse(missing or doubled or unexpected,
                         "%s: missing %s; more than once %s; unexpected %s\n(all: %r)" % (
                             what, missing, doubled, [u[:80] for u in unexpected],
                             [g[:80] for g in got][:200]))

    def assertBefore(self, got, earlier, later):
        pos = {m: i for i, m in enumerate(got)}
        last_early = max(pos[m] for m in earlier)
        first_late = min(pos[m] for m in later)
        self.assertLess(last_early, first_late,
                        "expected every one of %s before any of %s, got order %r" % (
                            earlier, later, got))


class StartAtTest(PipelineTestCase):
    @also_under_emulator
    def test_start_at_end_skips_old_lines_then_reads_appended_ones_and_checkpoints_win(self):
        old = self.lines("old", 0, 3)
        self.append_lines("app.log", old)
        self.write_config([self.source("*.log", start_at=None)])  # the default is "end"
        self.run_once()
        self.assertEqual(self.messages(), [], "start_at = end (the default) read existing lines")

        new = self.lines("new", 0, 2)
        self.append_lines("app.log", new)
        # A checkpoint wins over start_at: switching to "beginning" does not re-read.
        self.write_config([self.source("*.log", start_at="beginning")])
        # A file that appears after the first run is new: read from its beginning.
        self.append_lines("later.log", ["later-000"])
        self.run_once()
        got = self.messages()
        self.assertExactlyOnce(got, new + ["later-000"])
        self.assertNotIn("old-000", got)

        self.run_once()
        self.assertEqual(self.messages(), got, "a second run with nothing new read something again")

    @also_under_emulator
    def test_start_at_beginning_reads_existing_lines_once(self):
        lines = self.lines("line", 0, 5)
        self.append_lines("app.log", lines)
        self.write_config([self.source("*.log", start_at="beginning")])
        r = self.run_once()
        self.assertIn("committed 5 records", r.stdout, str(r))
        recs = self.export()
        self.assertEqual(self.messages(recs), lines)
        self.assertEqual([rec["offset"] for rec in recs], [i * 9 for i in range(5)])
        self.assertTrue(all(base(rec["path"]) == "app.log" for rec in recs), recs)
        self.run_once()
        self.append_lines("app.log", ["line-005"])
        self.run_once()
        self.assertEqual(self.messages(), lines + ["line-005"])


class RotationTest(PipelineTestCase):
    def rename(self, old, new):
        """Renames logs/<old> to logs/<new>. Under the emulator a Windows program does it
        (cmd's move: MoveFileEx), so that Windows's sharing rules apply: it fails while
        the agent holds the file open without FILE_SHARE_DELETE."""
        if not under_emulator():
            os.rename(self.log_path(old), self.log_path(new))
            return
        win = lambda name: self.native(self.log_path(name)).replace("/", "\\")
        p = subprocess.run([ARGS.emulator, "cmd.exe", "/c", "move", win(old), win(new)],
                           env=self.env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        out = normalise(p.stdout)
        self.assertEqual(p.returncode, 0, "the rename was refused: %s" % out)
        self.assertTrue(os.path.exists(self.log_path(new)) and not os.path.exists(self.log_path(old)),
                        "cmd /c move did not rename the file: %s" % out)

    def _rename_while_running(self, pattern, rotated_name, *agent_args):
        self.append_lines("app.log", self.lines("a", 0, 5))
        self.write_config([self.source(pattern, poll_interval="100ms")])
        agent = self.start_agent(*agent_args)
        self.wait_for_messages(5, agent)

        self.rename("app.log", rotated_name)
        self.append_lines(rotated_name, self.lines("a", 5, 5))  # the writer's last lines
        self.append_lines("app.log", self.lines("b", 0, 5))
        self.wait_for_messages(15, agent)
        rc, _ = agent.stop(signal.SIGINT if under_emulator() else signal.SIGTERM)
        self.assertEqual(rc, 0, agent.log())

        recs = self.export()
        got = self.messages(recs)
        self.assertExactlyOnce(got, self.lines("a", 0, 10) + self.lines("b", 0, 5))
        self.assertBefore(got, self.lines("a", 0, 10), self.lines("b", 0, 5))
        b0 = [r for r in recs if r["message"] == "b-000"][0]
        self.assertEqual((base(b0["path"]), b0["offset"]), ("app.log", 0), b0)
        if "--poll" in agent_args:
            st, _ = self.status()
            self.assertIs(st["sources"][0]["polling"], True, st)
        # Restarting reads nothing again.
        self.run_once()
        self.assertEqual(self.messages(), got)

    @also_under_emulator
    def test_rename_by_a_windows_program_while_the_agent_holds_the_file_open(self):
        # Windows (under Wine): the tailer keeps app.log open with FILE_SHARE_DELETE, so
        # the writer's rotation (a rename by another program) succeeds, and the file is
        # followed by its identity (volume serial + file index) to its end.
        if not under_emulator():
            self.skipTest("Windows sharing rules; the Linux cases are the tests below")
        self._rename_while_running("app.log", "app.log.1")

    @posix_only("signals and inotify")
    def test_rename_and_create_while_running_reads_the_old_file_to_its_end_then_the_new(self):
        self._rename_while_running("app.log", "app.log.1")

    @posix_only("signals and inotify")
    def test_rename_within_the_glob_while_running(self):
        self._rename_while_running("app*.log", "app-1.log")

    @posix_only("signals")
    def test_rename_and_create_while_running_with_polling(self):
        # --poll: the agent finds changes by looking every poll_interval (the way it
        # works where there is no kernel notification).
        self._rename_while_running("app.log", "app.log.1", "--poll")

    @also_under_emulator
    def test_copytruncate_restarts_at_offset_0(self):
        self.append_lines("app.log", self.lines("a", 0, 10))
        self.write_config([self.source("app.log")])
        self.run_once()
        shutil.copy(self.log_path("app.log"), self.log_path("app.log.1"))
        with open(self.log_path("app.log"), "r+b") as f:
            f.truncate(0)
        self.append_lines("app.log", self.lines("b", 0, 3))
        self.run_once()
        recs = self.export()
        self.assertExactlyOnce(self.messages(recs), self.lines("a", 0, 10) + self.lines("b", 0, 3))
        self.assertEqual([r["offset"] for r in recs if r["message"].startswith("b-")], [0, 6, 12])

    @posix_only("signals and inotify")
    def test_copytruncate_while_running_restarts_at_offset_0(self):
        self.append_lines("app.log", self.lines("a", 0, 10))
        self.write_config([self.source("app.log")])
        agent = self.start_agent()
        self.wait_for_messages(10, agent)
        shutil.copy(self.log_path("app.log"), self.log_path("app.log.1"))
        with open(self.log_path("app.log"), "r+b") as f:
            f.truncate(0)
        self.append_lines("app.log", self.lines("b", 0, 3))
        self.wait_for_messages(13, agent)
        self.assertEqual(agent.stop()[0], 0, agent.log())
        recs = self.export()
        self.assertExactlyOnce(self.messages(recs), self.lines("a", 0, 10) + self.lines("b", 0, 3))
        self.assertEqual([r["offset"] for r in recs if r["message"].startswith("b-")], [0, 6, 12])
        self.assertIn("truncated", agent.log())

    @posix_only("signals and inotify")
    def test_delete_and_recreate_while_running(self):
        self.append_lines("app.log", self.lines("a", 0, 5))
        self.write_config([self.source("app.log")])
        agent = self.start_agent()
        self.wait_for_messages(5, agent)
        # Lines the agent may not have read yet, then the file is deleted and recreated.
        self.append_lines("app.log", self.lines("a", 5, 3))
        os.unlink(self.log_path("app.log"))
        self.append_lines("app.log", self.lines("b", 0, 5))
        self.wait_for_messages(13, agent)
        self.assertEqual(agent.stop()[0], 0, agent.log())
        got = self.messages()
        self.assertExactlyOnce(got, self.lines("a", 0, 8) + self.lines("b", 0, 5))
        self.assertBefore(got, self.lines("a", 0, 8), self.lines("b", 0, 5))
        self.run_once()
        self.assertEqual(self.messages(), got, "a restart read the recreated file again")

    def _rotate_while_stopped(self, pattern, rotated_name):
        self.append_lines("app.log", self.lines("a", 0, 5))
        self.write_config([self.source(pattern)])
        self.run_once()
        # Unread lines, then the rotation, all while the agent is stopped.
        self.append_lines("app.log", self.lines("a", 5, 3))
        os.rename(self.log_path("app.log"), self.log_path(rotated_name))
        self.append_lines("app.log", self.lines("b", 0, 4))
        r = self.run_once()
        got = self.messages()
        self.assertExactlyOnce(got, self.lines("a", 0, 8) + self.lines("b", 0, 4))
        self.assertEqual(got, self.lines("a", 0, 8) + self.lines("b", 0, 4),
                         "the rotated file's rest must come before the new file's lines")
        self.run_once()
        self.assertEqual(self.messages(), got, "a second run read something again")
        return r

    @also_under_emulator
    def test_rotation_while_stopped_to_a_name_the_glob_does_not_match(self):
        r = self._rotate_while_stopped("app.log", "app.log.1")
        self.assertIn("rotated while the agent was stopped", r.stderr, str(r))

    def test_rotation_while_stopped_to_a_name_the_glob_matches(self):
        self._rotate_while_stopped("app*.log", "app-1.log")

    @also_under_emulator
    def test_file_rewritten_in_place_while_stopped_is_read_from_0(self):
        # The same inode with other first bytes and the same size: only the fingerprint
        # tells that this is not the file the checkpoint describes.
        old = self.lines("old", 0, 20)
        self.append_lines("app.log", old)
        self.write_config([self.source("app.log")])
        self.run_once()
        ino = os.stat(self.log_path("app.log")).st_ino
        new = self.lines("new", 0, 20)
        with open(self.log_path("app.log"), "r+b") as f:
            f.truncate(0)
            f.write("".join(l + "\n" for l in new).encode())
        self.assertEqual(os.stat(self.log_path("app.log")).st_ino, ino)
        self.run_once()
        self.assertExactlyOnce(self.messages(), old + new)
        # Its new checkpoint was kept: nothing is read again.
        self.run_once()
        self.assertExactlyOnce(self.messages(), old + new, "after a third run")

    def test_compressed_rotated_files_are_ignored_unless_the_glob_names_them(self):
        self.append_lines("app.log", ["current"])
        self.append_lines("app.log.1", ["rotated-plain"])
        with gzip.open(self.log_path("app.log.2.gz"), "wb") as f:
            f.write(b"zipped-line\n" * 50)
        self.append("app.log.3.gz", "text-in-a-gz-name\n")
        self.write_config([self.source("app.log*")])
        r = self.run_once()
        got = self.messages()
        self.assertExactlyOnce(got, ["current", "rotated-plain"])
        st, _ = self.status()
        self.assertEqual(st["sources"][0]["problems"], [], "compressed files are skipped silently")

        # Named by the glob, they are tailed like any file (the real gzip is binary).
        shutil.rmtree(self.state)
        self.write_config([self.source("*.gz", name="gz")])
        r = self.run_once()
        self.assertEqual(self.messages(), ["text-in-a-gz-name"], str(r))
        st, _ = self.status()
        problems = {base(p["path"]): p["cause"] for p in st["sources"][0]["problems"]}
        self.assertEqual(problems, {"app.log.2.gz": "binary file"}, st)


class LineTest(PipelineTestCase):
    TRACE = (
        "2024-05-01 10:00:00 ERROR request failed\n"
        "java.lang.IllegalStateException: boom\n"
        "\tat com.example.Foo.bar(Foo.java:10)\n"
        "\tat com.example.Foo.main(Foo.java:5)\n"
        "2024-05-01 10:00:01 INFO recovered\n"
        "2024-05-01 10:00:02 ERROR long trace\n"
        "\tat f1\n\tat f2\n\tat f3\n\tat f4\n\tat f5\n\tat f6\n"
        "2024-05-01 10:00:03 WARN last record\n"
        "\tat tail.frame\n")

    def test_multiline_joins_stack_traces_splits_at_max_lines_and_once_flushes_the_last(self):
        self.append("app.log", self.TRACE)
        self.write_config([self.source("app.log", multiline={"start": "^\\d{4}-", "max_lines": 4})])
        self.run_once()
        recs = self.export()
        self.assertEqual(self.messages(recs), [
            "2024-05-01 10:00:00 ERROR request failed\njava.lang.IllegalStateException: boom\n"
            "\tat com.example.Foo.bar(Foo.java:10)\n\tat com.example.Foo.main(Foo.java:5)",
            "2024-05-01 10:00:01 INFO recovered",
            "2024-05-01 10:00:02 ERROR long trace\n\tat f1\n\tat f2\n\tat f3",
            "\tat f4\n\tat f5\n\tat f6",
            "2024-05-01 10:00:03 WARN last record\n\tat tail.frame",
        ])
        self.assertEqual(recs[0]["offset"], 0)
        self.assertEqual(recs[4]["offset"], self.TRACE.index("2024-05-01 10:00:03"))
        self.run_once()
        self.assertEqual(len(self.export()), 5, "the flushed last record was read again")

    @posix_only("signals")
    def test_multiline_record_is_completed_by_its_timeout_while_running(self):
        self.write_config([self.source("app.log", multiline={"start": "^\\d{4}-", "timeout": "300ms"})])
        self.append("app.log", "")
        agent = self.start_agent()
        self.append("app.log", "2024-05-01 10:00:00 ERROR first\n\tat a.b(C.java:1)\n")
        recs = self.wait_for_messages(1, agent)
        self.assertEqual(self.messages(recs), ["2024-05-01 10:00:00 ERROR first\n\tat a.b(C.java:1)"])
        self.append("app.log", "2024-05-01 10:00:01 INFO second\n")
        recs = self.wait_for_messages(2, agent)
        self.assertEqual(agent.stop()[0], 0)
        self.assertEqual(self.messages(), ["2024-05-01 10:00:00 ERROR first\n\tat a.b(C.java:1)",
                                           "2024-05-01 10:00:01 INFO second"])

    @also_under_emulator
    def test_partial_last_line_is_held_by_once_and_read_whole_when_completed(self):
        self.append("app.log", "first\nsecond-part")
        self.write_config([self.source("app.log")])
        self.run_once()
        self.assertEqual(self.messages(), ["first"])
        st, _ = self.status()
        self.assertEqual(st["sources"][0]["files"][0]["lag_bytes"], len("second-part"), st)
        self.run_once()
        self.assertEqual(self.messages(), ["first"])
        self.append("app.log", "-rest\nthird\n")
        self.run_once()
        recs = self.export()
        self.assertEqual(self.messages(recs), ["first", "second-part-rest", "third"])
        self.assertEqual(recs[1]["offset"], 6)

    @posix_only("signals")
    def test_partial_last_line_is_sent_after_a_wait_while_running(self):
        self.append("app.log", "first\n")
        self.write_config([self.source("app.log")])
        agent = self.start_agent()
        self.wait_for_messages(1, agent)
        self.append("app.log", "no-newline-yet")
        recs = self.wait_for_messages(2, agent)
        self.assertEqual(self.messages(recs), ["first", "no-newline-yet"])
        # Its newline arrives later: no empty record for it.
        self.append("app.log", "\nnext\n")
        self.wait_for_messages(3, agent)
        self.assertEqual(agent.stop()[0], 0)
        self.assertEqual(self.messages(), ["first", "no-newline-yet", "next"])

    @also_under_emulator
    def test_long_line_is_cut_at_max_line_bytes_and_marked_and_the_next_is_intact(self):
        big = b"BIG:" + b"x" * (5 << 20)
        wide = "\u00e9" * 10000  # 20000 bytes: cut between two-byte characters
        data = b"before\n" + big + b"\n" + wide.encode() + b"\nafter the big line\n"
        self.append("app.log", data)
        self.write_config([self.source("app.log", max_line_bytes="16KiB")])
        self.run_once()
        recs = self.export()
        self.assertEqual(len(recs), 4, [r["message"][:40] for r in recs])
        self.assertEqual(recs[0]["message"], "before")
        self.assertNotIn("truncated", recs[0])
        self.assertEqual(recs[1]["message"], big[:16384].decode())
        self.assertIs(recs[1].get("truncated"), True)
        self.assertEqual(recs[2]["message"], "\u00e9" * 8192)
        self.assertIs(recs[2].get("truncated"), True)
        self.assertEqual(recs[3]["message"], "after the big line")
        self.assertNotIn("truncated", recs[3])
        self.assertEqual(recs[3]["offset"], data.index(b"after the big line"))

    @also_under_emulator
    def test_invalid_utf8_and_control_bytes_are_escaped_and_static_fields_are_in_every_record(self):
        raw_lines = [
            b"plain ascii",
            b"bad utf8 \xff\xfe end",
            b"cut sequence \xe2\x82",
            b"ctl \x01\x1b[31mred\x07 del\x7f",
            b"tab\there",
            b'quote " and backslash \\',
            "utf8 h\u00e9llo \u2713 \U0001F600".encode(),
            b"",
        ]
        self.append("app.log", b"\n".join(raw_lines[:5]) + b"\r\n" + b"\n".join(raw_lines[5:]) + b"\n")
        self.write_config(
            [self.source("app.log", fields={"app": "billing", "env": "staging", "host": "spoofed"})],
            agent={"fields": {"env": "prod", "team": "core"}})
        r = self.run_once()
        out = self.run_outpost("buffer", "export")
        self.assertExit(out, 0)
        lines = out.stdout.rstrip("\n").split("\n")
        self.assertEqual(len(lines), len(raw_lines), out.stdout)
        self.assertIn(r'"message":"bad utf8 \\xff\\xfe end"', lines[1])
        self.assertIn(r'"message":"cut sequence \\xe2\\x82"', lines[2])
        self.assertIn(r'"message":"ctl \u0001\u001b[31mred\u0007 del\u007f"', lines[3])
        recs = [json.loads(l) for l in lines]
        self.assertEqual(self.messages(recs), [
            "plain ascii", "bad utf8 \\xff\\xfe end", "cut sequence \\xe2\\x82",
            "ctl \x01\x1b[31mred\x07 del\x7f", "tab\there", 'quote " and backslash \\',
            "utf8 h\u00e9llo \u2713 \U0001F600", ""])
        for rec in recs:
            self.assertEqual((rec.get("app"), rec.get("env"), rec.get("team")), ("billing", "staging", "core"),
                             "static fields (the source's win over the agent's): %s" % rec)
            self.assertNotEqual(rec["host"], "spoofed", rec)
            for key in ("@timestamp", "agent_id", "stream", "source", "path", "offset"):
                self.assertIn(key, rec)
            self.assertEqual((rec["stream"], rec["source"]), ("app", "file"))
        self.assertIn("field 'host' is left out", r.stderr, str(r))

    @also_under_emulator
    def test_utf16_and_latin1_files_are_decoded_to_utf8(self):
        le_text = "Gr\u00fc\u00dfe aus K\u00f6ln \u2713\r\nsmile \U0001F600\n"
        be_text = "\u65e5\u672c\u8a9e\u306e\u30ed\u30b0\nsecond\n"
        self.append("le.log", b"\xff\xfe" + le_text.encode("utf-16-le"))
        self.append("be.log", be_text.encode("utf-16-be"))
        self.append("be-bom.log", b"\xfe\xff" + "with bom\n".encode("utf-16-be"))
        self.append("latin.log", b"caf\xe9 cr\xe8me br\xfbl\xe9e\n\xa9 2024\n")
        self.write_config([
            self.source("le.log", name="le", encoding="utf-16le"),
            self.source("be*.log", name="be", encoding="utf-16be"),
            self.source("latin.log", name="latin", encoding="latin1"),
        ])
        self.run_once()
        by_stream = collections.defaultdict(list)
        for rec in self.export():
            by_stream[rec["stream"]].append(rec)
        self.assertEqual(self.messages(by_stream["le"]), ["Gr\u00fc\u00dfe aus K\u00f6ln \u2713", "smile \U0001F600"])
        self.assertEqual(by_stream["le"][0]["offset"], 2, "the record starts after the BOM")
        self.assertEqual(sorted(self.messages(by_stream["be"])),
                         sorted(["\u65e5\u672c\u8a9e\u306e\u30ed\u30b0", "second", "with bom"]))
        self.assertEqual(self.messages(by_stream["latin"]), ["caf\u00e9 cr\u00e8me br\u00fbl\u00e9e", "\u00a9 2024"])


class ProblemFileTest(PipelineTestCase):
    def _run_as_unprivileged_user(self):
        """chmod 000 means nothing to root: run outpost as `nobody` where possible."""
        if os.geteuid() != 0:
            return True
        try:
            import pwd
            nobody = pwd.getpwnam("nobody")
        except (ImportError, KeyError):
            return False
        self.user = (nobody.pw_uid, nobody.pw_gid)
        for root, dirs, files in os.walk(self.dir):
            for n in dirs + files:
                os.chown(os.path.join(root, n), *self.user)
        os.chown(self.dir, *self.user)
        return os.access(ARGS.binary, os.X_OK)

    @posix_only("FIFOs, chmod and signals")
    def test_unreadable_fifo_binary_and_named_directory_are_reported_once_and_others_read(self):
        can_chmod = self._run_as_unprivileged_user()
        self.append_lines("good.log", ["good-000"])
        os.mkdir(self.log_path("dir.log"))  # a directory a wildcard matches: skipped quietly
        os.mkdir(self.log_path("named"))    # a directory named outright: a problem
        os.mkfifo(self.log_path("fifo.log"))
        self.append("bin.log", b"\x00\x01\x02binary\x00\n" * 10)
        expected = {"fifo.log": "is a FIFO", "bin.log": "binary file"}
        if can_chmod:
            self.append_lines("locked.log", ["locked-000"])
            os.chmod(self.log_path("locked.log"), 0)
            expected["locked.log"] = "permission denied"
        else:
            sys.stderr.write("\n  (no unprivileged user to run as: the chmod 000 part is skipped) ")
        if self.user:
            for root, dirs, files in os.walk(self.dir):
                for n in dirs + files:
                    os.chown(os.path.join(root, n), *self.user)
        self.write_config([self.source("*.log"), self.source("named", name="named")])
        agent = self.start_agent()
        self.wait_for_messages(1, agent)
        # New files make the agent expand the glob again (and meet the problems again).
        for i in range(3):
            self.append_lines("new-%d.log" % i, ["new-%03d" % i])
            self.wait_for_messages(2 + i, agent)

        def problems_listed():
            st, r = self.status()
            got = [{base(p["path"]): p["cause"] for p in s["problems"]} for s in st["sources"]]
            return got == [expected, {"named": "is a directory"}] and r.returncode == 1, (got, r.returncode)
        self.wait_for("status --json to list the problems and exit 1", problems_listed, agent=agent)
        log = agent.log()
        for name, cause in list(expected.items()) + [("named", "is a directory")]:
            warned = [l for l in log.split("\n") if "WARN" in l and name in l]
            self.assertEqual(len(warned), 1, "expected one warning about %s (%s) in the log:\n%s" % (
                name, cause, log))
        self.assertNotIn("dir.log", log, "a directory that a wildcard matches is skipped quietly")
        if can_chmod:
            # Readable again: taken up at the next expansion of the glob.
            os.chmod(self.log_path("locked.log"), 0o644)
            self.append_lines("new-9.log", ["new-009"])
            self.wait_for_messages(6, agent)
            self.assertIn("locked-000", self.messages())
        self.assertEqual(agent.stop()[0], 0, agent.log())
        got = self.messages()
        self.assertExactlyOnce(got, ["good-000", "new-000", "new-001", "new-002"] +
                               (["new-009", "locked-000"] if can_chmod else []))

    def test_three_thousand_files_in_one_glob_are_all_read(self):
        os.mkdir(self.log_path("many"))
        expected = []
        for i in range(3000):
            lines = ["f%04d-a" % i, "f%04d-b" % i]
            self.append_lines(os.path.join(self.logs, "many", "f%04d.log" % i), lines)
            expected += lines
        self.write_config([self.source("many/*.log")])
        r = self.run_once()
        self.assertIn("committed 6000 records", r.stdout, str(r))
        self.assertExactlyOnce(self.messages(), expected)
        st, _ = self.status()
        self.assertEqual(len(st["sources"][0]["files"]), 3000)
        self.assertEqual(st["sources"][0]["lag_bytes"], 0)


class BufferTest(PipelineTestCase):
    @posix_only("signals")
    def test_full_buffer_pauses_the_source_which_resumes_without_loss_after_purge(self):
        max_bytes = 1 << 20  # the least buffer.max_bytes the config allows
        self.write_config([self.source("app.log")],
                          buffer={"max_bytes": "1MiB", "chunk_max_bytes": "8KiB",
                                  "compression_level": 1})
        n = 16000
        lines = ["seq=%06d %s" % (i, base64.b64encode(self.rng.randbytes(150)).decode()) for i in range(n)]
        self.append_lines("app.log", lines)
        agent = self.start_agent()
        seen = collections.Counter()
        purges = 0
        saw_paused_status = False
        deadline = time.monotonic() + 120
        while True:
            self.assertTrue(agent.alive(), agent.log())
            self.assertLess(time.monotonic(), deadline, "no progress; seen %d of %d lines\n%s" % (
                len(seen), n, agent.log()))
            r = self.run_outpost("buffer", "stats", "--json")
            self.assertExit(r, 0)
            stats = json.loads(r.stdout)
            if stats["stored_bytes"] >= max_bytes:
                # Full: the agent commits no chunk until space returns, so export + purge
                # cannot miss one.
                if not saw_paused_status:
                    def paused():
                        st, r = self.status()
                        return st["buffer"]["paused"] is True and r.returncode == 1, (st["buffer"], r.returncode)
                    self.wait_for("status --json to say paused (exit 1)", paused, agent=agent)
                    saw_paused_status = True
                seen.update(self.messages())
                self.assertExit(self.run_outpost("buffer", "purge", "--yes"), 0)
                purges += 1
                continue
            final = collections.Counter(self.messages())
            if len(set(seen) | set(final)) >= n:
                seen.update(final)
                break
            time.sleep(0.1)
        self.assertEqual(agent.stop()[0], 0, agent.log())
        self.assertTrue(saw_paused_status and purges >= 1, "the buffer never filled up")
        self.assertExactlyOnce(list(seen.elements()), lines, "lines in all exports together")
        log = agent.log()
        self.assertIn("buffer.db is full", log)
        self.assertIn("has room again", log)

    @also_under_emulator
    def test_corrupt_buffer_db_is_moved_aside_and_a_fresh_one_started(self):
        self.append_lines("app.log", self.lines("a", 0, 5))
        self.write_config([self.source("app.log")])
        self.run_once()
        self.assertEqual(len(self.export()), 5)
        garbage = bytes(self.rng.getrandbits(8) for _ in range(64 << 10))
        with open(os.path.join(self.state, "buffer.db"), "r+b") as f:
            f.write(garbage)
        self.append_lines("app.log", self.lines("a", 5, 2))
        r = self.run_once()
        self.assertRegex(r.stderr, r"buffer\.db was corrupt; moved aside to .*buffer\.db\.corrupt-", str(r))
        aside = [n for n in os.listdir(self.state) if n.startswith("buffer.db.corrupt-")]
        self.assertTrue(aside, os.listdir(self.state))
        main_aside = [n for n in aside if not n.endswith(("-wal", "-shm"))]
        self.assertEqual(len(main_aside), 1, aside)
        with open(os.path.join(self.state, main_aside[0]), "rb") as f:
            self.assertEqual(f.read(len(garbage)), garbage, "the corrupt file was not kept as it was")
        # A fresh buffer without checkpoints: the file is read again from its beginning.
        self.assertEqual(self.messages(), self.lines("a", 0, 7))


class LiveAgentTest(PipelineTestCase):
    @posix_only("signals")
    def test_sigterm_commits_what_was_read_and_exits_0_within_2s(self):
        self.write_config([self.source("app.log")], buffer={"chunk_max_age": "1h"})
        self.append("app.log", "")
        agent = self.start_agent()
        lines = self.lines("line", 0, 50)
        self.append_lines("app.log", lines)
        size = os.path.getsize(self.log_path("app.log"))

        def read_not_committed():
            st, _ = self.status()
            src = st["sources"][0]
            files = src["files"]
            return (len(files) == 1 and files[0].get("read") == size and
                    src.get("open_chunk_records") == 50), src
        src = self.wait_for("the agent to read the lines into its open chunk", read_not_committed, agent=agent)
        self.assertEqual(src["files"][0]["offset"], 0, "nothing is committed before chunk_max_age")
        rc, elapsed = agent.stop(signal.SIGTERM)
        self.assertEqual(rc, 0, agent.log())
        self.assertLess(elapsed, 2.0, "SIGTERM to exit took %.2f s" % elapsed)
        self.assertEqual(self.messages(), lines)
        # stderr is a file here, not a terminal: the log went to state/agent.log too.
        with open(os.path.join(self.state, "agent.log"), encoding="utf-8") as f:
            own_log = f.read()
        self.assertIn("agent: running: 1 source(s)", own_log)
        self.assertIn("agent: stopped: 50 records committed", own_log)

    @posix_only("nice and ionice")
    def test_agent_nice_and_io_priority_apply_to_every_thread(self):
        if not os.path.exists("/proc/self/task"):
            self.skipTest("needs /proc")
        self.write_config([self.source("a.log")], agent={"nice": 7, "io_priority": "idle"})
        self.append("a.log", "")
        agent = self.start_agent()
        tasks = os.listdir("/proc/%d/task" % agent.pid)
        self.assertGreater(len(tasks), 1, "the agent runs threads")
        for tid in tasks:
            with open("/proc/%d/task/%s/stat" % (agent.pid, tid)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            self.assertEqual(int(fields[16]), 7, "nice of thread %s" % tid)  # field 19
        if shutil.which("ionice"):
            out = subprocess.run(["ionice", "-p", str(agent.pid)], stdout=subprocess.PIPE,
                                 text=True).stdout
            self.assertIn("idle", out)
        rc, _ = agent.stop(signal.SIGTERM)
        self.assertEqual(rc, 0, agent.log())

    @posix_only("SIGHUP")
    def test_sighup_with_a_good_config_restarts_with_it_and_loses_nothing(self):
        self.write_config([self.source("a.log")], buffer={"chunk_max_age": "1h"})
        self.append("a.log", "")
        agent = self.start_agent()
        a_lines = self.lines("a", 0, 20)
        self.append_lines("a.log", a_lines)
        self.wait_for("a.log read", lambda: (self.status()[0]["sources"][0].get(
            "open_chunk_records") == 20, None), agent=agent)
        # A second source, then SIGHUP: the open chunk is committed, the same process
        # starts again with both sources.
        self.write_config([self.source("a.log"), self.source("b.log", name="b")],
                          buffer={"chunk_max_age": "100ms"})
        b_lines = self.lines("b", 0, 10)
        self.append_lines("b.log", b_lines)
        agent.proc.send_signal(signal.SIGHUP)
        self.wait_for("both sources' lines", lambda: (sorted(self.messages()) ==
                                                     sorted(a_lines + b_lines), None),
                      agent=agent)
        self.assertTrue(agent.alive(), "the agent is the same process after the reload")
        self.assertEqual(self.status()[0]["agent"]["pid"], agent.pid)
        rc, _ = agent.stop(signal.SIGTERM)
        self.assertEqual(rc, 0, agent.log())
        self.assertIn("loads; restarting with it", agent.log())
        self.assertEqual(len(self.messages()), 30, "nothing doubled")

    @posix_only("the systemd notify protocol")
    def test_run_speaks_the_notify_protocol_ready_watchdog_reloading_stopping(self):
        import socket
        sock_path = self.path("notify.sock")
        sk = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sk.bind(sock_path)
        self.addCleanup(sk.close)
        sk.settimeout(20)
        self.write_config([self.source("a.log")])
        self.append("a.log", "")
        old_env = self.env
        self.env = lambda: dict(old_env(), NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="400000")
        agent = self.start_agent()
        self.env = old_env
        got = []

        def until(word):
            while not any(word in m for m in got):
                got.append(sk.recv(4096).decode())
        until("READY=1")
        self.assertIn("STATUS=running: 1 source(s)", got[0])
        until("WATCHDOG=1")
        while sum("WATCHDOG=1" in m for m in got) < 3:  # pinged again and again (200 ms)
            got.append(sk.recv(4096).decode())
        agent.proc.send_signal(signal.SIGHUP)  # the same config: reloads
        until("RELOADING=1")
        self.assertTrue(any("MONOTONIC_USEC=" in m for m in got if "RELOADING=1" in m))
        got.clear()
        until("READY=1")  # ready again after the restart
        agent.stop(signal.SIGTERM)
        until("STOPPING=1")

    @posix_only("SIGHUP")
    def test_sighup_with_a_broken_config_keeps_the_running_one(self):
        self.write_config([self.source("a.log")])
        self.append("a.log", "")
        agent = self.start_agent()
        with open(self.config_path, "a") as f:
            f.write("\n[buffer\nbroken = \n")
        agent.proc.send_signal(signal.SIGHUP)
        self.wait_for("the rejection in the log", lambda: (
            "error(s); the running config stays" in agent.log(), None), agent=agent)
        log = agent.log()
        self.write_config([self.source("a.log")])  # for `status`, `buffer export`; no SIGHUP
        # `outpost status` (which needs a config that loads) shows the refused reload,
        # with each error's file:line.
        def refused():
            st, _ = self.status()
            return st.get("reload_error") is not None, st
        status = self.wait_for("the refused reload in status", refused, agent=agent)
        reload_error = status["reload_error"]
        self.assertIn("the running config stays", reload_error["message"])
        self.assertTrue(any(os.path.basename(self.config_path) + ":12:" in e
                            for e in reload_error["errors"]), reload_error)
        self.assertTrue(status["attention"])
        text = self.run_outpost("status")
        self.assertIn("RELOAD   refused", text.stdout)
        self.assertIn(":12:", text.stdout)
        lines = self.lines("after", 0, 5)
        self.append_lines("a.log", lines)
        self.wait_for("lines read with the old config", lambda: (self.messages() == lines, None),
                      agent=agent)
        self.assertIn(os.path.basename(self.config_path) + ":12:", log, "file:line")
        rc, _ = agent.stop(signal.SIGTERM)
        self.assertEqual(rc, 0, log)

    def test_memory_limit_pauses_the_sources_and_they_resume_without_loss(self):
        # The agent's resident size comes from a file (OUTPOST_TEST_RSS_FILE), so the test
        # decides when it is over limits.max_memory.
        rss = os.path.join(self.dir, "rss")
        with open(rss, "w") as f:
            f.write(str(1 << 30))
        self.extra_env = {"OUTPOST_TEST_RSS_FILE": self.native(rss)}
        self.write_config([self.source("a.log")], extra='[limits]\nmax_memory = "64MiB"\n')
        self.append("a.log", "")
        agent = self.start_agent()
        st = self.wait_for("memory over the limit in status", lambda: (
            ((self.status()[0].get("limits") or {}).get("memory_over") is True),
            self.status()[0]), agent=agent)
        self.assertEqual(st["limits"]["max_memory"], 64 << 20)
        self.assertEqual(st["limits"]["rss_bytes"], 1 << 30)
        lines = self.lines("m", 0, 50)
        self.append_lines("a.log", lines)
        # Paused: a running agent reads new lines within 100 ms; these stay in the file.
        time.sleep(2)
        self.assertEqual(self.status()[0]["sources"][0].get("open_chunk_records"), 0)
        self.assertEqual(self.messages(), [])
        with open(rss, "w") as f:
            f.write(str(50 << 20))  # under 90% of the limit: sources resume
        self.wait_for("every line once", lambda: (self.messages() == lines, self.messages()),
                      agent=agent)
        self.wait_for("memory back under the limit in status", lambda: (
            self.status()[0]["limits"]["memory_over"] is False, None), agent=agent)
        rc, _ = agent.stop(signal.SIGTERM)
        log = agent.log()
        self.assertEqual(rc, 0, log)
        self.assertIn("is above limits.max_memory (64MiB): sources pause", log)
        self.assertIn("is back under limits.max_memory (64MiB): sources resume", log)

    @posix_only("signals and file locks")
    def test_second_agent_on_the_same_state_dir_is_refused(self):
        self.append_lines("app.log", ["x"])
        self.write_config([self.source("app.log")])
        agent = self.start_agent()
        for args in (("run",), ("run", "--once")):
            r = self.run_outpost(*args)
            self.assertExit(r, 3)
            self.assertIn("agent.lock", r.stderr, str(r))
            self.assertIn("held by pid %d" % agent.pid, r.stderr, str(r))
        self.assertTrue(agent.alive())
        self.assertEqual(agent.stop()[0], 0, agent.log())

    def test_status_run_at_the_moment_an_agent_starts_does_not_make_it_refuse_to_start(self):
        # `status` looks whether an agent holds agent.lock by taking it for a moment.
        self.append_lines("app.log", ["x"])
        self.write_config([self.source("app.log")])
        self.run_once()
        for i in range(15):
            statuses = [subprocess.Popen(self.argv("status", "--json"), cwd=self.dir, env=self.env(),
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL) for _ in range(4)]
            r = self.run_outpost("run", "--once")
            for p in statuses:
                p.wait()
            self.assertExit(r, 0)

    @posix_only("signals")
    def test_status_while_running_shows_files_offsets_and_lag_and_stats_match_export(self):
        self.append_lines("a.log", self.lines("a", 0, 30))
        self.append_lines("b.log", self.lines("b", 0, 12))
        self.write_config([self.source("a.log", name="alpha"), self.source("b.log", name="beta")])
        agent = self.start_agent()
        sizes = {"a.log": os.path.getsize(self.log_path("a.log")),
                 "b.log": os.path.getsize(self.log_path("b.log"))}

        def caught_up():
            st, r = self.status()
            files = {base(f["path"]): f for s in st["sources"] for f in s["files"]}
            ok = (set(files) == set(sizes) and r.returncode == 0 and
                  all(files[n]["offset"] == sizes[n] and files[n]["size"] == sizes[n] and
                      files[n]["lag_bytes"] == 0 for n in sizes))
            return ok, st
        st = self.wait_for("status --json to show both files caught up", caught_up, agent=agent)
        self.assertTrue(st["agent"]["running"])
        self.assertEqual(st["agent"]["pid"], agent.pid)
        self.assertGreater(st["agent"]["started_at_ms"], 1_600_000_000_000, "a wall-clock time in ms")
        self.assertEqual([s["lag_bytes"] for s in st["sources"]], [0, 0])
        r = self.run_outpost("status")
        self.assertExit(r, 0)
        self.assertRegex(r.stdout, r"agent\s+running \(pid %d\)" % agent.pid)
        for name, size in sizes.items():
            self.assertRegex(r.stdout, r"%s\s+offset %d of %d, lag 0" % (re.escape(name), size, size))

        r = self.run_outpost("buffer", "stats", "--json")
        self.assertExit(r, 0)
        stats = json.loads(r.stdout)
        recs = self.export()
        self.assertEqual(stats["records"], len(recs))
        self.assertEqual(stats["records"], 42)
        per_stream = collections.Counter(rec["stream"] for rec in recs)
        self.assertEqual({s["stream"]: s["records"] for s in stats["streams"]}, dict(per_stream))
        self.assertEqual(sum(s["chunks"] for s in stats["streams"]), stats["chunks"])
        self.assertEqual(len(self.export("--stream", "beta")), 12)

        self.assertEqual(agent.stop()[0], 0, agent.log())
        self.append("a.log", "tail without newline")
        st, r = self.status()
        self.assertFalse(st["agent"]["running"])
        a = [f for s in st["sources"] for f in s["files"] if base(f["path"]) == "a.log"][0]
        self.assertEqual(a["lag_bytes"], len("tail without newline"), a)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description="outpost log pipeline integration tests")
    parser.add_argument("--binary", required=True, help="the outpost executable")
    parser.add_argument("--source-dir", required=True, help="the source tree")
    parser.add_argument("--emulator", default="", help="run the binary through this (e.g. wine)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the random data")
    ARGS, rest = parser.parse_known_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    if not os.path.isfile(ARGS.binary):
        parser.error("no such binary: %s" % ARGS.binary)
    print("pipeline_test: seed %d (replay with --seed %d)" % (ARGS.seed, ARGS.seed), flush=True)
    program = unittest.main(argv=[sys.argv[0], *rest], exit=False)
    if not program.result.wasSuccessful():
        print("pipeline_test: FAILED with seed %d" % ARGS.seed, flush=True)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())

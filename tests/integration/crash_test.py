#!/usr/bin/env python3
"""Crash safety of the log pipeline with the real binary (DESIGN.md "Data flow").

    python3 crash_test.py --binary build/dev/app/outpost --source-dir . [--seed N] [--kills N]

A writer appends numbered lines ("seq=000123 src=a gen=2 pad=...") to three files in
logs/ (glob logs/*.log) and rotates them now and then by rename-and-create, to a name
the glob still matches (a-3.log) or to one it does not (a.log.3). Meanwhile
`outpost run` is started and killed with SIGKILL at random moments (during start-up,
while reading, while committing), at least --kills times, and the writer goes on while
it is down. At the end the writer stops, `outpost run --once` catches up, and
`outpost buffer export` must hold every line exactly once; missing and doubled
sequence numbers are listed with the file they were written to.

One rule of the design the writer respects: a file renamed out of the glob is found
again by its identity only if the agent had recorded it (a checkpoint). A file that
was created and renamed away while no agent ever saw it cannot be found by any tailer,
so the writer renames a file out of the glob only when `outpost status --json` shows a
checkpoint for it, and otherwise to a name the glob matches.

Everything random comes from --seed (printed at start; replay with the same seed).
POSIX only: under an emulator (the Windows build under Wine) the test is skipped.
Standard library only.
"""
import argparse
import collections
import json
import os
import random
import re
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time
import unittest

ARGS = None
DEFAULT_SEED = 4242
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "ThreadSanitizer", "UndefinedBehaviorSanitizer",
                     "runtime error:")
LINE_RE = re.compile(r"^seq=(\d{6}) src=([a-z]) gen=(\d+) pad=[A-Za-z0-9]*$")
STREAMS = ("a", "b", "c")


class Writer:
    """Appends numbered lines to logs/<s>.log and rotates those files."""

    def __init__(self, test, rng):
        self.test = test
        self.rng = rng
        self.seq = 0
        self.gen = {s: 0 for s in STREAMS}
        self.written = {}  # seq -> "a.log gen 2"
        self.rotations = collections.Counter()

    def current(self, s):
        return os.path.join(self.test.logs, "%s.log" % s)

    def write_batch(self):
        s = self.rng.choice(STREAMS)
        out = []
        for _ in range(self.rng.randint(1, 30)):
            pad = "".join(self.rng.choice(string.ascii_letters) for _ in range(self.rng.randint(0, 200)))
            out.append("seq=%06d src=%s gen=%d pad=%s\n" % (self.seq, s, self.gen[s], pad))
            self.written[self.seq] = "%s.log generation %d" % (s, self.gen[s])
            self.seq += 1
        with open(self.current(s), "ab") as f:
            f.write("".join(out).encode())

    def rotate(self):
        s = self.rng.choice(STREAMS)
        path = self.current(s)
        if not os.path.exists(path) or os.path.getsize(path) == 0:
            return
        gen = self.gen[s]
        outside = self.rng.random() < 0.5 and self.test.has_checkpoint(path)
        if outside:
            target = os.path.join(self.test.logs, "%s.log.%d" % (s, gen))  # not matched
        else:
            target = os.path.join(self.test.logs, "%s-%d.log" % (s, gen))  # still matched
        os.rename(path, target)
        self.gen[s] = gen + 1
        self.rotations["out of the glob" if outside else "within the glob"] += 1
        # The new file: created at once, empty, or by the next write.
        if self.rng.random() < 0.5:
            open(path, "ab").close()

    def step(self):
        if self.rng.random() < 0.04:
            self.rotate()
        else:
            self.write_batch()


class CrashTest(unittest.TestCase):
    def setUp(self):
        if ARGS.emulator or os.name != "posix":
            self.skipTest("POSIX only: SIGKILL and POSIX rename semantics (not run under the emulator)")
        self.dir = tempfile.mkdtemp(prefix="outpost-crash-test-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.logs = os.path.join(self.dir, "logs")
        self.state = os.path.join(self.dir, "state")
        os.mkdir(self.logs)
        self.config = os.path.join(self.dir, "outpost.toml")
        with open(self.config, "w") as f:
            f.write("[agent]\n"
                    "state_dir = %s\n"
                    "\n[buffer]\n"
                    'chunk_max_bytes = "4KiB"\n'
                    'chunk_max_age = "50ms"\n'
                    "\n[[source.file]]\n"
                    'name = "app"\n'
                    "paths = [%s]\n"
                    'start_at = "beginning"\n' % (json.dumps(self.state),
                                                 json.dumps(os.path.join(self.logs, "*.log"))))

    def outpost(self, *args, timeout=60):
        argv = [ARGS.binary, "--config", self.config, *args]
        p = subprocess.run(argv, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        self.check_sanitizer(err, "$ outpost %s" % " ".join(args))
        return p.returncode, out, err

    def check_sanitizer(self, text, context):
        for marker in SANITIZER_MARKERS:
            if marker in text:
                self.fail("sanitizer report (%r) from %s:\n%s" % (marker, context, text[-6000:]))

    def has_checkpoint(self, path):
        """True when buffer.db holds a checkpoint for the file now at `path`."""
        rc, out, err = self.outpost("status", "--json")
        if rc not in (0, 1):
            return False
        try:
            st = json.loads(out)
        except ValueError:
            return False
        for src in st.get("sources", []):
            for f in src.get("files", []):
                if f.get("path") == path and f.get("size") is not None:
                    return True
        return False

    def test_sigkill_at_random_moments_loses_and_doubles_no_line(self):
        rng = random.Random(ARGS.seed)
        writer = Writer(self, rng)
        for _ in range(20):
            writer.write_batch()
        kills = 0
        started = time.monotonic()
        log_path = os.path.join(self.dir, "agent.log")
        while kills < ARGS.kills:
            with open(log_path, "wb") as log:
                agent = subprocess.Popen([ARGS.binary, "--config", self.config, "run"], cwd=self.dir,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
                # Killed anywhere from start-up to well into reading and committing.
                up_until = time.monotonic() + rng.choice((rng.uniform(0.0, 0.1), rng.uniform(0.1, 1.2)))
                while time.monotonic() < up_until:
                    writer.step()
                    time.sleep(rng.uniform(0.0, 0.02))
                exited = agent.poll()
                agent.send_signal(signal.SIGKILL)
                agent.wait()
            with open(log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            self.check_sanitizer(text, "the agent killed at round %d" % kills)
            self.assertIsNone(exited, "round %d: the agent exited on its own with status %s before it "
                                      "was killed:\n%s" % (kills, exited, text[-4000:]))
            kills += 1
            # The writer goes on while the agent is down.
            for _ in range(rng.randint(0, 8)):
                writer.step()
        writer_done = time.monotonic()

        rc, out, err = self.outpost("run", "--once", timeout=120)
        self.assertEqual(rc, 0, "the catch-up run --once failed:\n%s%s" % (out, err))
        rc, out, err = self.outpost("buffer", "export", timeout=120)
        self.assertEqual(rc, 0, err)
        counts = collections.Counter()
        bad = []
        for line in out.split("\n"):
            if not line:
                continue
            m = LINE_RE.match(json.loads(line)["message"])
            if not m:
                bad.append(line[:300])
                continue
            counts[int(m.group(1))] += 1
        total = writer.seq
        missing = [s for s in range(total) if counts[s] == 0]
        doubled = {s: n for s, n in sorted(counts.items()) if n > 1}
        summary = ("seed %d: %d lines written, %d SIGKILLs, rotations %s, %.1f s; "
                   "%d missing, %d more than once, %d not from the writer" % (
                       ARGS.seed, total, kills, dict(writer.rotations), writer_done - started,
                       len(missing), len(doubled), len(bad)))
        print("\ncrash_test: " + summary, flush=True)
        if missing or doubled or bad:
            def describe(seqs):
                groups = []  # runs of consecutive seqs in one file
                for s in seqs:
                    if groups and groups[-1][1] == s - 1 and writer.written.get(s) == groups[-1][2]:
                        groups[-1][1] = s
                    else:
                        groups.append([s, s, writer.written.get(s, "?")])
                return "; ".join("%06d..%06d (%s)" % (a, b, w) if a != b else "%06d (%s)" % (a, w)
                                 for a, b, w in groups[:60])
            self.fail("%s\nmissing: %s\nmore than once: %s\nnot from the writer: %s\n"
                      "(replay: --seed %d)" % (
                          summary, describe(missing),
                          describe(list(doubled)) + (" counts %s" % dict(list(doubled.items())[:20])
                                                     if doubled else ""),
                          bad[:5], ARGS.seed))
        # Caught up means caught up: a second run reads nothing.
        rc, out, err = self.outpost("run", "--once", "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["records"], 0, "a second catch-up run read records again")


def main():
    global ARGS
    parser = argparse.ArgumentParser(description="outpost crash-safety test (SIGKILL)")
    parser.add_argument("--binary", required=True, help="the outpost executable")
    parser.add_argument("--source-dir", required=True, help="the source tree")
    parser.add_argument("--emulator", default="", help="set for a cross build: the test is skipped")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of everything random")
    parser.add_argument("--kills", type=int, default=32, help="SIGKILLs (at least 30 by default)")
    ARGS, rest = parser.parse_known_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    if not os.path.isfile(ARGS.binary):
        parser.error("no such binary: %s" % ARGS.binary)
    print("crash_test: seed %d (replay with --seed %d)" % (ARGS.seed, ARGS.seed), flush=True)
    program = unittest.main(argv=[sys.argv[0], *rest], exit=False)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())

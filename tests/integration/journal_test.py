#!/usr/bin/env python3
"""The journal source ([[source.journal]]) end to end, with a fake journalctl.

    python3 journal_test.py --binary build/dev/app/outpost --source-dir . [--seed N] [--kills N]

The fake journalctl (written into the test's temp dir) replays a journal kept as a file
in the export format (https://systemd.io/JOURNAL_EXPORT_FORMATS/), starting with the
fixtures in tests/fixtures/journal/. It honours --after-cursor (an unknown cursor is an
error, as in journalctl), --since=now, --no-tail, --follow (it then watches the file
grow), --unit, --identifier and --priority, writes its output in random small pieces,
and logs its arguments. The real `outpost run` reads through it; records are checked
in `outpost buffer export`, the source's state in `outpost status --json`.

The crash test kills the agent with SIGKILL at random moments while entries keep being
added, restarts it, and proves every entry arrives exactly once. Everything random
comes from --seed (printed at start). Linux only (the journal source is Linux-only):
skipped under an emulator and on other systems. Standard library only.
"""
import argparse
import collections
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest

ARGS = None
DEFAULT_SEED = 7007
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "ThreadSanitizer", "UndefinedBehaviorSanitizer",
                     "runtime error:")
BOOT = "0123456789abcdef0123456789abcdef"

FAKE_JOURNALCTL = r'''#!/usr/bin/env python3
# A stand-in for journalctl -o export over the export-format file JOURNAL.
import json, os, random, struct, sys, time
JOURNAL = %(journal)r
ARGLOG = %(arglog)r

def parse(buf):
    """Complete entries in buf: [(raw bytes, {name: value})], and the bytes they span."""
    entries, pos, start, fields = [], 0, 0, {}
    while True:
        nl = buf.find(b"\n", pos)
        if nl < 0:
            break
        if nl == pos:
            if fields:
                entries.append((buf[start:nl + 1], fields))
            pos = start = nl + 1
            fields = {}
            continue
        line = buf[pos:nl]
        if b"=" in line:
            name, value = line.split(b"=", 1)
            fields[name.decode()] = value
            pos = nl + 1
        else:
            if len(buf) < nl + 9:
                break
            (n,) = struct.unpack("<Q", buf[nl + 1:nl + 9])
            if len(buf) < nl + 9 + n + 1:
                break
            fields[line.decode()] = buf[nl + 9:nl + 9 + n]
            pos = nl + 9 + n + 1
    return entries, start

def main():
    args = sys.argv[1:]
    with open(ARGLOG, "a") as f:
        f.write(json.dumps(args) + "\n")
    opt = {"follow": False, "after": None, "since_now": False, "units": [], "idents": [], "prio": None}
    for a in args:
        if a == "--follow": opt["follow"] = True
        elif a.startswith("--after-cursor="): opt["after"] = a.split("=", 1)[1].encode()
        elif a == "--since=now": opt["since_now"] = True
        elif a.startswith("--unit="): opt["units"].append(a.split("=", 1)[1].encode())
        elif a.startswith("--identifier="): opt["idents"].append(a.split("=", 1)[1].encode())
        elif a.startswith("--priority="): opt["prio"] = int(a.split("=", 1)[1])
        elif a in ("--output=export", "--no-pager", "--no-tail"): pass
        else:
            sys.stderr.write("journalctl: unrecognized option '%%s'\n" %% a)
            return 1
    rng = random.Random(os.getpid())
    offset = 0
    skipping = opt["after"] is not None
    if opt["since_now"]:
        with open(JOURNAL, "rb") as f:
            _, offset = parse(f.read())
    out = sys.stdout.buffer
    first = True
    while True:
        with open(JOURNAL, "rb") as f:
            f.seek(offset)
            entries, used = parse(f.read())
        offset += used
        chunk = b""
        for raw, fields in entries:
            if skipping:
                if fields.get("__CURSOR") == opt["after"]:
                    skipping = False
                continue
            if opt["units"] and fields.get("_SYSTEMD_UNIT") not in opt["units"]: continue
            if opt["idents"] and fields.get("SYSLOG_IDENTIFIER") not in opt["idents"]: continue
            if opt["prio"] is not None and int(fields.get("PRIORITY", b"6")) > opt["prio"]: continue
            chunk += raw
        if skipping and first:
            sys.stderr.write("Failed to seek to cursor: Invalid argument\n")
            return 1
        first = False
        # In random small pieces, so the agent's parser sees entries split anywhere.
        while chunk:
            n = rng.randint(1, 700)
            out.write(chunk[:n])
            out.flush()
            chunk = chunk[n:]
        if not opt["follow"]:
            return 0
        time.sleep(0.02)

try:
    sys.exit(main())
except (BrokenPipeError, KeyboardInterrupt):
    try:
        sys.stdout = None
    except Exception:
        pass
    os._exit(0)
'''


def text_field(name, value):
    return name.encode() + b"=" + value.encode() + b"\n"


def binary_field(name, value):
    return name.encode() + b"\n" + struct.pack("<Q", len(value)) + value + b"\n"


def make_entry(seq, message, unit="app.service", ident="app", prio=6, pid=4242):
    out = text_field("__CURSOR", "s=test;i=%x;b=%s" % (seq, BOOT))
    out += text_field("__REALTIME_TIMESTAMP", str(1764547200000000 + seq * 1000))
    out += text_field("_BOOT_ID", BOOT)
    out += text_field("PRIORITY", str(prio))
    out += text_field("_SYSTEMD_UNIT", unit)
    out += text_field("SYSLOG_IDENTIFIER", ident)
    out += text_field("_PID", str(pid))
    raw = message.encode() if isinstance(message, str) else message
    if b"\n" in raw or b"\0" in raw:
        out += binary_field("MESSAGE", raw)
    else:
        out += b"MESSAGE=" + raw + b"\n"
    return out + b"\n"


class JournalTest(unittest.TestCase):
    def setUp(self):
        if ARGS.emulator or not sys.platform.startswith("linux"):
            self.skipTest("Linux only: the journal source (not run under the emulator)")
        self.dir = tempfile.mkdtemp(prefix="outpost-journal-test-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.state = os.path.join(self.dir, "state")
        self.journal = os.path.join(self.dir, "journal.export")
        self.arglog = os.path.join(self.dir, "journalctl-args.log")
        self.fake = os.path.join(self.dir, "fake-journalctl")
        with open(self.fake, "w") as f:
            f.write(FAKE_JOURNALCTL % {"journal": self.journal, "arglog": self.arglog})
        os.chmod(self.fake, 0o755)
        open(self.journal, "wb").close()
        self.config = os.path.join(self.dir, "outpost.toml")
        self.agents = []
        self.addCleanup(self.stop_agents)

    def write_config(self, journal_extra="", journalctl=None, file_source=None):
        text = ("[agent]\nstate_dir = %s\n\n[buffer]\nchunk_max_bytes = \"4KiB\"\n"
                "chunk_max_age = \"50ms\"\n\n[[source.journal]]\nname = \"sys\"\n"
                "journalctl = %s\nread_from = \"head\"\n%s" % (
                    json.dumps(self.state), json.dumps(journalctl or self.fake), journal_extra))
        if file_source:
            text += ("\n[[source.file]]\nname = \"app\"\npaths = [%s]\nstart_at = \"beginning\"\n"
                     % json.dumps(file_source))
        with open(self.config, "w") as f:
            f.write(text)

    def append(self, data):
        with open(self.journal, "ab") as f:
            f.write(data)

    def outpost(self, *args, timeout=90):
        p = subprocess.run([ARGS.binary, "--config", self.config, *args], cwd=self.dir,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        self.check_sanitizer(err, "$ outpost %s" % " ".join(args))
        return p.returncode, out, err

    def check_sanitizer(self, text, context):
        for marker in SANITIZER_MARKERS:
            if marker in text:
                self.fail("sanitizer report (%r) from %s:\n%s" % (marker, context, text[-6000:]))

    def start_agent(self):
        log = open(os.path.join(self.dir, "agent.log"), "ab")
        p = subprocess.Popen([ARGS.binary, "--config", self.config, "run"], cwd=self.dir,
                             stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.agents.append(p)
        return p

    def stop_agents(self):
        for p in self.agents:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()

    def records(self):
        rc, out, err = self.outpost("buffer", "export")
        if rc != 0 and ("has not run with this state dir yet" in err or
                        "the agent may be creating it" in err):
            return []  # the agent is still starting (buffer.db not there or still empty)
        self.assertEqual(rc, 0, err)
        return [json.loads(l) for l in out.split("\n") if l]

    def status(self):
        rc, out, err = self.outpost("status", "--json")
        self.assertIn(rc, (0, 1), err)
        return rc, json.loads(out)

    def wait_for(self, what, predicate, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.2)
        self.fail("timed out waiting for %s" % what)

    def fake_args(self):
        if not os.path.exists(self.arglog):
            return []
        with open(self.arglog) as f:
            return [json.loads(l) for l in f if l.strip()]

    def fixture(self, name):
        with open(os.path.join(ARGS.source_dir, "tests", "fixtures", "journal", name), "rb") as f:
            return f.read()

    def test_fixture_entries_become_records_and_the_cursor_resumes(self):
        self.write_config('units = ["sshd.service", "app.service", "init.scope"]\n'
                          'priority = "info"\nidentifiers = ["sshd", "app", "systemd"]\n'
                          'fields = { team = "sre" }\n')
        self.append(self.fixture("text.export") + self.fixture("binary.export"))
        rc, out, err = self.outpost("run", "--once")
        self.assertEqual(rc, 0, out + err)
        recs = self.records()
        self.assertEqual(len(recs), 6, recs)
        by_msg = {r["message"]: r for r in recs}
        first = by_msg["Server listening on 0.0.0.0 port 22."]
        self.assertEqual(first["source"], "journal")
        self.assertEqual(first["stream"], "sys")
        self.assertEqual(first["unit"], "sshd.service")
        self.assertEqual(first["identifier"], "sshd")
        self.assertEqual(first["priority"], 6)
        self.assertEqual(first["pid"], 812)
        self.assertEqual(first["boot_id"], "3c5b7e2f6d7a4b1e9a0c1d2e3f405162")
        self.assertEqual(first["@timestamp"], "2025-12-01T00:00:00.001Z")
        self.assertEqual(first["team"], "sre")
        self.assertTrue(first["journal_cursor"].startswith("s=6f1e2d3c"))
        # Multi-line, NUL and invalid UTF-8 in binary MESSAGE fields come through intact.
        self.assertIn("Traceback (most recent call last):\n  File \"app.py\", line 3\n"
                      "ValueError: bad\n", by_msg)
        self.assertIn("before\0after r\\xe9sum\\xe9", by_msg)
        args = self.fake_args()
        self.assertEqual(len(args), 1)
        self.assertNotIn("--follow", args[0])
        for a in ("--output=export", "--no-tail", "--unit=sshd.service", "--unit=init.scope",
                  "--priority=6", "--identifier=systemd"):
            self.assertIn(a, args[0])
        # The next run resumes after the committed cursor: only new entries.
        self.append(make_entry(1, "one more"))
        rc, out, err = self.outpost("run", "--once")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual([r["message"] for r in self.records()].count("one more"), 1)
        self.assertEqual(len(self.records()), 7)
        last = self.fake_args()[-1]
        fixture_cursor = re.findall(rb"__CURSOR=(.*)\n", self.fixture("binary.export"))[-1]
        self.assertIn("--after-cursor=" + fixture_cursor.decode(), last)
        rc, st = self.status()
        src = [s for s in st["sources"] if s["name"] == "sys"][0]
        self.assertEqual(src["type"], "journal")
        self.assertEqual(src["cursor"], "s=test;i=1;b=%s" % BOOT)

    def test_sigkill_at_random_moments_loses_and_doubles_no_entry(self):
        rng = random.Random(ARGS.seed)
        self.write_config()
        seq = 0

        def add(n):
            nonlocal seq
            data = b""
            for _ in range(n):
                if rng.random() < 0.2:
                    msg = "seq=%06d\nsecond line\n\tthird line" % seq
                else:
                    msg = "seq=%06d %s" % (seq, "x" * rng.randint(0, 300))
                data += make_entry(seq, msg)
                seq += 1
            self.append(data)

        add(50)
        kills = 0
        while kills < ARGS.kills:
            agent = self.start_agent()
            up_until = time.monotonic() + rng.choice((rng.uniform(0.0, 0.15), rng.uniform(0.15, 1.5)))
            while time.monotonic() < up_until:
                add(rng.randint(1, 20))
                time.sleep(rng.uniform(0.0, 0.03))
            exited = agent.poll()
            agent.send_signal(signal.SIGKILL)
            agent.wait()
            self.assertIsNone(exited, "round %d: the agent exited on its own (%s)" % (kills, exited))
            kills += 1
            add(rng.randint(0, 10))  # the journal goes on while the agent is down
        with open(os.path.join(self.dir, "agent.log"), "rb") as f:
            self.check_sanitizer(f.read().decode("utf-8", "replace"), "the killed agents")
        rc, out, err = self.outpost("run", "--once", timeout=180)
        self.assertEqual(rc, 0, out + err)
        counts = collections.Counter()
        for r in self.records():
            first_line = r["message"].split("\n")[0]
            self.assertTrue(first_line.startswith("seq="), r)
            n = int(first_line[4:10])
            counts[n] += 1
            if "\n" in r["message"]:
                self.assertEqual(r["message"], "seq=%06d\nsecond line\n\tthird line" % n)
        missing = [s for s in range(seq) if counts[s] == 0]
        doubled = {s: c for s, c in counts.items() if c > 1}
        print("\njournal_test: seed %d: %d entries, %d SIGKILLs, %d missing, %d doubled" % (
            ARGS.seed, seq, kills, len(missing), len(doubled)), flush=True)
        self.assertEqual(missing, [], "entries lost (replay: --seed %d)" % ARGS.seed)
        self.assertEqual(doubled, {}, "entries doubled (replay: --seed %d)" % ARGS.seed)
        # Every restart after the first resumed from a cursor.
        self.assertTrue(any(any(a.startswith("--after-cursor=") for a in args)
                            for args in self.fake_args()))
        rc, out, err = self.outpost("run", "--once", "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["records"], 0, "a second catch-up run read entries again")

    def test_missing_journalctl_is_reported_and_other_sources_go_on(self):
        logs = os.path.join(self.dir, "logs")
        os.mkdir(logs)
        log_file = os.path.join(logs, "app.log")
        with open(log_file, "w") as f:
            f.write("file line 1\n")
        self.write_config(journalctl=os.path.join(self.dir, "no-such-journalctl"),
                          file_source=os.path.join(logs, "*.log"))
        agent = self.start_agent()
        self.wait_for("the file line", lambda: any(r["message"] == "file line 1" for r in self.records()))

        def problem():
            rc, st = self.status()
            src = [s for s in st["sources"] if s["name"] == "sys"][0]
            return (rc, src) if src["problems"] else None
        rc, src = self.wait_for("the journal problem in status", problem)
        self.assertEqual(rc, 1, "status exits 1 (needs attention)")
        self.assertEqual(src["problems"][0]["cause"], "cannot run journalctl")
        self.assertIn("No such file or directory", src["problems"][0]["message"])
        rc, out, err = self.outpost("status")
        self.assertIn("cannot run", out)
        # The file source goes on.
        with open(log_file, "a") as f:
            f.write("file line 2\n")
        self.wait_for("the second file line",
                      lambda: any(r["message"] == "file line 2" for r in self.records()))
        self.assertIsNone(agent.poll(), "the agent is still running")
        agent.send_signal(signal.SIGTERM)
        self.assertEqual(agent.wait(timeout=30), 0)

    def test_journalctl_that_exits_is_restarted_and_reported(self):
        # First start: the stored cursor is unknown to the fake, which exits 1 like
        # journalctl; the agent reports it and retries with backoff.
        self.write_config()
        self.append(make_entry(0, "first"))
        rc, out, err = self.outpost("run", "--once")
        self.assertEqual(rc, 0, out + err)
        open(self.journal, "wb").close()  # the journal was vacuumed: the cursor is gone
        agent = self.start_agent()

        def exited_problem():
            rc, st = self.status()
            src = [s for s in st["sources"] if s["name"] == "sys"][0]
            p = src["problems"]
            return p[0] if p and p[0]["cause"] == "journalctl exited" else None
        p = self.wait_for("the exit in status", exited_problem)
        self.assertIn("exited with status 1", p["message"])
        self.assertIn("Failed to seek to cursor", p["message"])
        self.wait_for("a restart", lambda: len(self.fake_args()) >= 3, timeout=30)
        self.assertIsNone(agent.poll())
        agent.send_signal(signal.SIGTERM)
        self.assertEqual(agent.wait(timeout=30), 0)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description="outpost journal source test")
    parser.add_argument("--binary", required=True, help="the outpost executable")
    parser.add_argument("--source-dir", required=True, help="the source tree")
    parser.add_argument("--emulator", default="", help="set for a cross build: the test is skipped")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of everything random")
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs in the crash test")
    ARGS, rest = parser.parse_known_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    ARGS.source_dir = os.path.abspath(ARGS.source_dir)
    if not os.path.isfile(ARGS.binary):
        parser.error("no such binary: %s" % ARGS.binary)
    print("journal_test: seed %d (replay with --seed %d)" % (ARGS.seed, ARGS.seed), flush=True)
    program = unittest.main(argv=[sys.argv[0], *rest], exit=False)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Crash safety of shipping with the real binary: kill -9 during uploads, many times;
every line arrives, and after de-duplication by Idempotency-Key exactly once.

    python3 ship_crash_test.py --binary build/dev/app/outpost --source-dir . \
        [--seed N] [--kills N]

A writer appends numbered lines ("seq=000123 src=a pad=...") to logs/a.log and
logs/b.log (two sources, so two streams). Meanwhile `outpost run` ships to the
development receiver (scripts/dev-receiver.py) over HTTPS on 127.0.0.1 and is killed
with SIGKILL at random moments, at least --kills times: during start-up, while reading
and committing, while requests are in flight. Before every start the receiver's fault
rules are refilled at random (POST /_faults): 5xx answers, connection resets, stalls,
and answers lost after the body was stored (after_store), so retries, resends of a key
the receiver already holds and kills in the middle of a request all happen. The writer
goes on while the agent is down.

At the end the writer stops, the faults are cleared, `outpost run --once` ships what
is left (it exits 0 only when buffer.db holds no live chunk), and the receiver's stored
bodies (one per accepted key: it de-duplicates by Idempotency-Key) must hold every line
exactly once; missing and doubled sequence numbers are listed.

Everything random comes from --seed (printed at start; replay with the same seed).
POSIX only: under an emulator the test is skipped. Standard library only.
"""
import argparse
import collections
import json
import os
import random
import re
import shutil
import signal
import ssl
import string
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

ARGS = None
DEFAULT_SEED = 7312
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "ThreadSanitizer", "UndefinedBehaviorSanitizer",
                     "runtime error:")
LINE_RE = re.compile(r"^seq=(\d{6}) src=([a-z]) pad=[A-Za-z0-9]*$")
STREAMS = ("a", "b")
TOKEN = "crash-test-token-0a1b2c"
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
              "ALL_PROXY", "NO_PROXY")


def clean_env():
    env = dict(os.environ)
    for v in PROXY_VARS:
        env.pop(v, None)
    return env


class Writer:
    def __init__(self, logs, rng):
        self.logs = logs
        self.rng = rng
        self.seq = 0
        self.written = {}  # seq -> stream

    def step(self):
        s = self.rng.choice(STREAMS)
        out = []
        for _ in range(self.rng.randint(1, 25)):
            pad = "".join(self.rng.choice(string.ascii_letters + string.digits)
                          for _ in range(self.rng.randint(0, 160)))
            out.append("seq=%06d src=%s pad=%s\n" % (self.seq, s, pad))
            self.written[self.seq] = s
            self.seq += 1
        with open(os.path.join(self.logs, "%s.log" % s), "ab") as f:
            f.write("".join(out).encode())


def random_faults(rng):
    """A few fault rules, applied in order to the next requests (counts are small: the
    agent must also make progress between kills)."""
    kinds = [
        lambda: {"status": rng.choice((500, 502, 503))},
        lambda: {"action": "reset"},
        lambda: {"status": 500, "after_store": True},  # stored, answer lost
        lambda: {"action": "reset", "after_store": True},
        lambda: {"action": "stall", "seconds": round(rng.uniform(0.05, 0.4), 2)},
        lambda: {"status": 429, "retry_after": "0"},
        lambda: {"status": 408},
    ]
    rules = []
    for _ in range(rng.randint(0, 4)):
        rule = rng.choice(kinds)()
        rule["count"] = rng.randint(1, 3)
        rules.append(rule)
    return rules


class ShipCrashTest(unittest.TestCase):
    def setUp(self):
        if ARGS.emulator or os.name != "posix":
            self.skipTest("POSIX only: SIGKILL, the development receiver and openssl (not run "
                          "under the emulator)")
        if shutil.which("openssl") is None:
            self.skipTest("no openssl command for scripts/make-test-ca.sh")
        self.dir = tempfile.mkdtemp(prefix="outpost-ship-crash-test-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.logs = os.path.join(self.dir, "logs")
        self.state = os.path.join(self.dir, "state")
        self.store = os.path.join(self.dir, "store")
        self.ca = os.path.join(self.dir, "ca")
        os.mkdir(self.logs)
        subprocess.run([os.path.join(ARGS.source_dir, "scripts", "make-test-ca.sh"), self.ca],
                       check=True, stdout=subprocess.DEVNULL)
        self.start_receiver()
        self.config = os.path.join(self.dir, "outpost.toml")
        sources = "".join('\n[[source.file]]\nname = "%s"\npaths = [%s]\nstart_at = "beginning"\n'
                          % (s, json.dumps(os.path.join(self.logs, "%s.log" % s)))
                          for s in STREAMS)
        fd = os.open(self.config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("[agent]\n"
                    "state_dir = %s\n"
                    "\n[buffer]\n"
                    'chunk_max_bytes = "4KiB"\n'
                    'chunk_max_age = "50ms"\n'
                    "%s"
                    "\n[output]\n"
                    "endpoint = %s\n"
                    "token = %s\n"
                    "ca_file = %s\n"
                    'timeout = "5s"\n'
                    "\n[output.retry]\n"
                    'initial = "50ms"\n'
                    'max = "500ms"\n' % (
                        json.dumps(self.state), sources,
                        json.dumps("https://127.0.0.1:%d/ingest" % self.port),
                        json.dumps(TOKEN), json.dumps(os.path.join(self.ca, "ca.pem"))))

    def start_receiver(self):
        port_file = os.path.join(self.dir, "port")
        self.receiver_err = os.path.join(self.dir, "receiver.err")
        with open(self.receiver_err, "wb") as err:
            self.receiver = subprocess.Popen(
                [sys.executable, os.path.join(ARGS.source_dir, "scripts", "dev-receiver.py"),
                 "--port", "0", "--port-file", port_file, "--store", self.store,
                 "--tls-dir", self.ca, "--token", TOKEN],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=clean_env())
        self.addCleanup(self.stop_receiver)
        deadline = time.monotonic() + 15
        while not os.path.exists(port_file):
            if self.receiver.poll() is not None or time.monotonic() > deadline:
                self.fail("the dev receiver did not start:\n" + self.receiver_log())
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())
        ctx = ssl.create_default_context(cafile=os.path.join(self.ca, "ca.pem"))
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                  urllib.request.HTTPSHandler(context=ctx))

    def stop_receiver(self):
        if self.receiver.poll() is None:
            self.receiver.terminate()
            try:
                self.receiver.wait(10)
            except subprocess.TimeoutExpired:
                self.receiver.kill()
                self.receiver.wait()

    def receiver_log(self):
        with open(self.receiver_err, "rb") as f:
            return f.read().decode("utf-8", "replace")[-4000:]

    def control(self, path, rules=None):
        data = None if rules is None else json.dumps(rules).encode()
        req = urllib.request.Request("https://127.0.0.1:%d%s" % (self.port, path), data=data,
                                     method="GET" if data is None else "POST")
        with self.opener.open(req, timeout=20) as resp:
            return json.loads(resp.read())

    def outpost(self, *args, timeout=60):
        argv = [ARGS.binary, "--config", self.config, *args]
        p = subprocess.run(argv, cwd=self.dir, env=clean_env(), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        self.check_sanitizer(err, "$ outpost %s" % " ".join(args))
        return p.returncode, out, err

    def check_sanitizer(self, text, context):
        for marker in SANITIZER_MARKERS:
            if marker in text:
                self.fail("sanitizer report (%r) from %s:\n%s" % (marker, context, text[-6000:]))

    def stored_lines(self):
        """Sequence numbers in the receiver's stored bodies (one per accepted key)."""
        counts = collections.Counter()
        bad = []
        for name in sorted(os.listdir(self.store)):
            if name.endswith(".ndjson.zst"):
                self.fail("the receiver could not decode zstd (no python3-zstandard, no zstd "
                          "command): %s" % name)
            if not name.endswith(".ndjson"):
                continue
            with open(os.path.join(self.store, name), encoding="utf-8") as f:
                for line in f:
                    if not line.strip():
                        continue
                    m = LINE_RE.match(json.loads(line)["message"])
                    if m:
                        counts[int(m.group(1))] += 1
                    else:
                        bad.append("%s: %s" % (name, line[:200]))
        return counts, bad

    def test_sigkill_during_uploads_delivers_every_line_exactly_once(self):
        rng = random.Random(ARGS.seed)
        writer = Writer(self.logs, rng)
        for _ in range(10):
            writer.step()
        kills = 0
        faults_set = 0
        started = time.monotonic()
        log_path = os.path.join(self.dir, "agent.log")
        while kills < ARGS.kills:
            rules = random_faults(rng)
            faults_set += sum(r["count"] for r in rules)
            self.control("/_faults", rules)
            with open(log_path, "wb") as log:
                agent = subprocess.Popen([ARGS.binary, "--config", self.config, "run"],
                                         cwd=self.dir, env=clean_env(), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT)
                # Killed anywhere from start-up to well into uploading.
                up_until = time.monotonic() + rng.choice((rng.uniform(0.0, 0.15),
                                                          rng.uniform(0.15, 1.5)))
                while time.monotonic() < up_until:
                    writer.step()
                    time.sleep(rng.uniform(0.0, 0.03))
                exited = agent.poll()
                agent.send_signal(signal.SIGKILL)
                agent.wait()
            with open(log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            self.check_sanitizer(text, "the agent killed at round %d" % kills)
            self.assertIsNone(exited, "round %d: the agent exited on its own with status %s "
                                      "before it was killed:\n%s" % (kills, exited, text[-4000:]))
            kills += 1
            for _ in range(rng.randint(0, 6)):
                writer.step()
        during = self.control("/_stats")
        writer_done = time.monotonic()

        self.control("/_faults", [])
        rc, out, err = self.outpost("run", "--once", timeout=120)
        catch_up = time.monotonic() - writer_done
        self.assertEqual(rc, 0, "the catch-up run --once failed:\n%s%s" % (out, err))
        rc, out, err = self.outpost("buffer", "stats", "--json")
        self.assertEqual(rc, 0, err)
        buf = json.loads(out)
        self.assertEqual((buf["chunks"], buf["dead_chunks"]), (0, 0), buf)

        counts, bad = self.stored_lines()
        total = writer.seq
        missing = [s for s in range(total) if counts[s] == 0]
        doubled = {s: n for s, n in sorted(counts.items()) if n > 1}
        final = self.control("/_stats")
        summary = ("seed %d: %d lines written, %d SIGKILLs in %.1f s; receiver: %d requests "
                   "during the kills (%s), %d fault applications set, %d duplicates by key in "
                   "all; catch-up run --once %.1f s; "
                   "%d missing, %d more than once, %d not from the writer" % (
                       ARGS.seed, total, kills, writer_done - started, during["received"],
                       ", ".join("%s: %s" % kv for kv in sorted(during["by_status"].items())),
                       faults_set, final["duplicates"], catch_up, len(missing), len(doubled), len(bad)))
        print("\nship_crash_test: " + summary, flush=True)
        self.assertFalse(missing or doubled or bad,
                         "%s\nmissing: %s\nmore than once: %s\nnot from the writer: %s\n"
                         "(replay: --seed %d)" % (summary, missing[:60], list(doubled.items())[:30],
                                                  bad[:5], ARGS.seed))
        # The test proves something only if uploads were going on when the agent died.
        self.assertGreater(during["received"], kills, "too few uploads during the kills: %s" % during)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description="outpost shipping crash-safety test (SIGKILL)")
    parser.add_argument("--binary", required=True, help="the outpost executable")
    parser.add_argument("--source-dir", required=True, help="the source tree")
    parser.add_argument("--emulator", default="", help="set for a cross build: the test is skipped")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of everything random")
    parser.add_argument("--kills", type=int, default=24, help="SIGKILLs (at least 20 by default)")
    ARGS, rest = parser.parse_known_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    ARGS.source_dir = os.path.abspath(ARGS.source_dir)
    if not ARGS.emulator and not os.path.isfile(ARGS.binary):
        parser.error("no such binary: %s" % ARGS.binary)
    print("ship_crash_test: seed %d (replay with --seed %d)" % (ARGS.seed, ARGS.seed), flush=True)
    program = unittest.main(argv=[sys.argv[0], *rest], exit=False)
    if not program.result.wasSuccessful():
        print("ship_crash_test: FAILED with seed %d" % ARGS.seed, flush=True)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())

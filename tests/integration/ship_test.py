#!/usr/bin/env python3
"""Integration tests of shipping: the real `outpost` binary uploads what it buffered to
the development receiver (scripts/dev-receiver.py) over HTTPS on 127.0.0.1, with a
throwaway CA from scripts/make-test-ca.sh.

    python3 ship_test.py --binary build/dev/app/outpost --source-dir . \
        [--emulator=...] [--seed N] [-v] [-k NAME]

Every test writes its own outpost.toml (mode 0600: it holds a token) with a
[[source.file]] over logs/*.log and an [output] pointing at a receiver it starts on a
free port, then runs `outpost run --once` (ships everything and exits 0 only when the
buffer is empty) or `outpost run` in the background (stopped with SIGTERM). What
arrived is read from the receiver's store (decoded bodies, one file per accepted
Idempotency-Key) and its requests.log (one JSON line per request: arrival and answer
times, status, headers, fault applied); the agent's side from `buffer stats --json`,
`buffer export`, `status --json` and its log (stderr).

Covered (DESIGN.md "Data flow", lib/ship/shipper.h): delivery exactly once with the
headers of the native output, by `run --once` and by a live `run`; SIGTERM with uploads
hanging; 5xx and connection resets, then recovery (duplicates only for a resent key);
429 with Retry-After; 401 keeps everything until the token is fixed; 413 splits (and
dead-letters a single record too large); 400 dead-letters one chunk; TLS refusals
(unknown CA, wrong host, pin mismatch, missing client certificate) that lose nothing,
and `run --once` giving up on them with the reason; the working cases (pin, mTLS,
CONNECT proxy with and without credentials, HTTPS_PROXY / NO_PROXY, plain http and
insecure_skip_verify with a warning); the token and proxy password never shown; a
config holding a token must be mode 0600; no [output] only buffers.

Nothing listens or connects beyond 127.0.0.1, and the proxy variables of the
environment are removed. Retries use [output.retry] initial = 100ms, max = 2s; waits
use deadlines, not fixed sleeps. Every command's stderr is checked for sanitizer
reports (the dev build has ASan+UBSan). POSIX only: skipped under --emulator (the
receiver is a development tool and needs openssl). Standard library only.
"""
import argparse
import collections
import json
import os
import pty
import random
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

ARGS = None  # set in main()
DEFAULT_SEED = 20240611
WORK = None  # temp dir of the whole run
CA = None  # the test CA directory (make-test-ca.sh)
TOKEN = "tok-9f8e7d6c5b4a-NEVER-SHOWN"
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "ThreadSanitizer", "UndefinedBehaviorSanitizer",
                     "runtime error:")
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
              "ALL_PROXY", "NO_PROXY")


def script(name):
    return os.path.join(ARGS.source_dir, "scripts", name)


def clean_env():
    env = dict(os.environ)
    for v in PROXY_VARS:
        env.pop(v, None)
    return env


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a valid TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(v)


def normalise(data):
    return data.decode("utf-8", "replace").replace("\r\n", "\n")


def setUpModule():
    global WORK, CA
    if ARGS.emulator or os.name != "posix":
        raise unittest.SkipTest("POSIX only: the development receiver and the test CA are not "
                                "run under the emulator")
    if shutil.which("openssl") is None:
        raise unittest.SkipTest("no openssl command for scripts/make-test-ca.sh "
                                "(apt-get install openssl)")
    WORK = tempfile.mkdtemp(prefix="outpost-ship-test-")
    CA = os.path.join(WORK, "ca")
    subprocess.run([script("make-test-ca.sh"), CA], check=True, stdout=subprocess.DEVNULL)


def tearDownModule():
    if WORK:
        shutil.rmtree(WORK, ignore_errors=True)


def ca(name):
    return os.path.join(CA, name)


def read_pin(name):
    with open(ca(name)) as f:
        return f.read().strip()


class Receiver:
    """dev-receiver.py on a free port of 127.0.0.1 with its own store (or, with
    proxy=True, its CONNECT proxy)."""

    def __init__(self, test, *extra, tls=True, proxy=False, faults=None):
        self.test = test
        self.dir = tempfile.mkdtemp(dir=test.dir, prefix="receiver-")
        self.store = os.path.join(self.dir, "store")
        self.tls = tls and not proxy
        self.port_file = os.path.join(self.dir, "port")
        self.err_path = os.path.join(self.dir, "stderr")
        argv = [sys.executable, script("dev-receiver.py"), "--port", "0",
                "--port-file", self.port_file, "--store", self.store]
        if proxy:
            argv.append("--proxy")
        elif tls:
            argv += ["--tls-dir", CA]
        if faults is not None:
            path = os.path.join(self.dir, "faults.json")
            with open(path, "w") as f:
                json.dump(faults, f)
            argv += ["--faults", path]
        argv += list(extra)
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=err, env=clean_env())
        test.addCleanup(self.stop)
        self.stopped = False
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if os.path.exists(self.port_file):
                with open(self.port_file) as f:
                    self.port = int(f.read())
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError("the dev receiver did not start:\n" + self.stderr())

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        else:
            raise AssertionError("the dev receiver died (status %s):\n%s"
                                 % (self.proc.returncode, self.stderr()))

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return normalise(f.read())

    def url(self, path="/ingest"):
        return "%s://127.0.0.1:%d%s" % ("https" if self.tls else "http", self.port, path)

    def requests(self):
        """requests.log: one dict per data request, in the order answers were sent."""
        path = os.path.join(self.store, "requests.log")
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def proxy_log(self):
        path = os.path.join(self.store, "proxy.log")
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def stored(self):
        """{stored file name: [records]} of every accepted (de-duplicated) body."""
        out = {}
        if not os.path.isdir(self.store):
            return out
        for name in sorted(os.listdir(self.store)):
            if name.endswith(".ndjson.zst"):
                self.test.fail("the receiver could not decode zstd (no python3-zstandard, no "
                               "zstd command): %s" % name)
            if not name.endswith(".ndjson"):
                continue
            with open(os.path.join(self.store, name), encoding="utf-8") as f:
                out[name] = [json.loads(line) for line in f if line.strip()]
        return out

    def messages(self):
        return [r["message"] for recs in self.stored().values() for r in recs]

    def _control(self, path, body=None):
        handlers = [urllib.request.ProxyHandler({})]
        if self.tls:
            ctx = ssl.create_default_context(cafile=ca("ca.pem"))
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # control endpoint only; any of our certs
            handlers.append(urllib.request.HTTPSHandler(context=ctx))
        opener = urllib.request.build_opener(*handlers)
        req = urllib.request.Request(self.url(path), data=body,
                                     method="POST" if body is not None else "GET")
        with opener.open(req, timeout=20) as resp:
            return json.loads(resp.read())

    def stats(self):
        return self._control("/_stats")

    def set_faults(self, rules):
        return self._control("/_faults", json.dumps(rules).encode())


class Result:
    def __init__(self, argv, returncode, stdout, stderr):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def __str__(self):
        return "$ %s\nexit %s\n--- stdout\n%s--- stderr\n%s" % (
            " ".join(self.argv), self.returncode, self.stdout[-4000:], self.stderr[-6000:])


class Agent:
    """`outpost run` in the background; stdout+stderr (its log) go to a file."""

    def __init__(self, test, *args):
        self.test = test
        self.log_path = test.path("agent-%d.log" % len(test.agents))
        self.log_file = open(self.log_path, "wb")
        self.argv = test.argv("run", *args)
        self.proc = subprocess.Popen(self.argv, cwd=test.dir, env=clean_env(),
                                     stdin=subprocess.DEVNULL, stdout=self.log_file,
                                     stderr=subprocess.STDOUT)
        test.agents.append(self)

    def log(self):
        with open(self.log_path, "rb") as f:
            return normalise(f.read())

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=15):
        """SIGTERM; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.test.fail("the agent did not exit within %d s of SIGTERM\n%s"
                           % (timeout, self.log()[-4000:]))
        if not self.log_file.closed:
            self.log_file.close()
        self.test.assertNoSanitizerReport(self.log(), "the agent's log")
        return self.proc.returncode

    def kill_quietly(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.log_file.closed:
            self.log_file.close()


class ShipTestCase(unittest.TestCase):
    def setUp(self):
        self.rng = random.Random("%d:%s" % (ARGS.seed, self._testMethodName))
        self.dir = tempfile.mkdtemp(dir=WORK, prefix="t-")
        self.logs = self.path("logs")
        self.state = self.path("state")
        os.mkdir(self.logs)
        self.config_path = self.path("outpost.toml")
        self.agents = []
        self.written = []  # every message appended to logs/, in order
        self.addCleanup(self._kill_agents)

    def _kill_agents(self):
        for a in self.agents:
            a.kill_quietly()

    def path(self, *names):
        return os.path.join(self.dir, *names)

    # ---- data ----------------------------------------------------------------------
    def write_lines(self, count, name="app.log", pad=40, tag=None):
        """Appends `count` numbered lines with `pad` random letters and digits each."""
        tag = tag or self._testMethodName[5:]
        alphabet = string.ascii_letters + string.digits
        lines = []
        for _ in range(count):
            lines.append("%s n=%06d %s" % (tag, len(self.written),
                                          "".join(self.rng.choice(alphabet) for _ in range(pad))))
            self.written.append(lines[-1])
        with open(os.path.join(self.logs, name), "a", encoding="utf-8") as f:
            f.write("".join(l + "\n" for l in lines))
        return lines

    # ---- config --------------------------------------------------------------------
    def output_for(self, rcv, **options):
        """[output] for receiver `rcv`: its /ingest URL, the test CA and TOKEN, unless
        `options` say otherwise (None removes a key)."""
        out = {"endpoint": rcv.url(), "token": TOKEN, "ca_file": ca("ca.pem")}
        if not rcv.tls:
            del out["ca_file"]
        out.update(options)
        return {k: v for k, v in out.items() if v is not None}

    def write_config(self, output=None, retry=None, buffer=None):
        """outpost.toml (mode 0600) with logs/*.log as source "app", small chunks, and
        `output` ([output], omitted when None) with [output.retry] 100ms..2s."""
        buf = {"chunk_max_age": "100ms", "chunk_max_bytes": "2KiB"}
        buf.update(buffer or {})
        lines = ["[agent]", "state_dir = %s" % toml_value(self.state), "", "[buffer]"]
        lines += ["%s = %s" % (k, toml_value(v)) for k, v in buf.items()]
        lines += ["", "[[source.file]]", 'name = "app"',
                  "paths = %s" % toml_value([os.path.join(self.logs, "*.log")]),
                  'start_at = "beginning"']
        if output is not None:
            lines += ["", "[output]"]
            lines += ["%s = %s" % (k, toml_value(v)) for k, v in output.items()]
            r = {"initial": "100ms", "max": "2s"}
            r.update(retry or {})
            lines += ["", "[output.retry]"]
            lines += ["%s = %s" % (k, toml_value(v)) for k, v in r.items()]
        fd = os.open(self.config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.config_path, 0o600)

    # ---- running the binary --------------------------------------------------------
    def argv(self, *args):
        return [ARGS.binary, "--config", self.config_path, *args]

    def run_outpost(self, *args, timeout=60, env=None):
        argv = self.argv(*args)
        full_env = clean_env()
        full_env.update(env or {})
        p = subprocess.run(argv, cwd=self.dir, env=full_env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        r = Result(argv, p.returncode, normalise(p.stdout), normalise(p.stderr))
        self.assertNoSanitizerReport(r.stderr, str(r))
        return r

    def run_once(self, expect=0, env=None):
        r = self.run_outpost("run", "--once", env=env)
        if expect is not None:
            self.assertEqual(r.returncode, expect, "run --once: unexpected exit status\n%s" % r)
        return r

    def assertNoSanitizerReport(self, text, context):
        for marker in SANITIZER_MARKERS:
            if marker in text:
                self.fail("sanitizer report (%r) in %s" % (marker, context[-8000:]))

    def buffer_stats(self):
        r = self.run_outpost("buffer", "stats", "--json")
        self.assertEqual(r.returncode, 0, "buffer stats failed\n%s" % r)
        return json.loads(r.stdout)

    def status(self):
        r = self.run_outpost("status", "--json")
        self.assertIn(r.returncode, (0, 1), "status failed\n%s" % r)
        return json.loads(r.stdout), r

    def export(self, *args):
        r = self.run_outpost("buffer", "export", *args)
        self.assertEqual(r.returncode, 0, "buffer export failed\n%s" % r)
        return [json.loads(l) for l in r.stdout.split("\n") if l]

    def wait_for(self, what, fn, timeout=20.0, agent=None):
        """Calls fn() -> (done, detail) until done or the deadline; returns detail."""
        deadline = time.monotonic() + timeout
        while True:
            done, detail = fn()
            if done:
                return detail
            if agent is not None and not agent.alive():
                self.fail("the agent exited (status %s) while waiting for %s\n%s"
                          % (agent.proc.returncode, what, agent.log()[-4000:]))
            if time.monotonic() > deadline:
                self.fail("timed out after %.0f s waiting for %s; last seen: %s%s" % (
                    timeout, what, str(detail)[:3000],
                    "\nagent log:\n" + agent.log()[-4000:] if agent else ""))
            time.sleep(0.05)

    # ---- assertions ----------------------------------------------------------------
    def assertExactlyOnce(self, got, expected, what):
        counts = collections.Counter(got)
        missing = [m for m in expected if counts[m] == 0]
        doubled = sorted(m for m, n in counts.items() if n > 1)
        unexpected = sorted(set(counts) - set(expected))
        self.assertFalse(missing or doubled or unexpected,
                         "%s: %d of %d expected; missing %d %s; more than once %d %s; "
                         "unexpected %d %s" % (
                             what, len(got), len(expected), len(missing), missing[:10],
                             len(doubled), doubled[:10], len(unexpected), unexpected[:10]))

    def assertAllDelivered(self, rcv, what="records the receiver stored"):
        self.assertExactlyOnce(rcv.messages(), self.written, what)

    def assertBufferEmpty(self):
        st = self.buffer_stats()
        self.assertEqual(st["chunks"], 0, "buffer stats still shows live chunks: %s" % st)
        return st

    def assertKeptEverything(self):
        """Nothing shipped, nothing dead-lettered: buffer.db holds every line written."""
        st = self.buffer_stats()
        self.assertEqual(st["dead_chunks"], 0, "chunks were dead-lettered: %s" % st)
        self.assertGreater(st["chunks"], 0, st)
        self.assertExactlyOnce([r["message"] for r in self.export()], self.written,
                               "records still in buffer.db")
        return st

    def agent_id(self):
        st, _ = self.status()
        self.assertRegex(st["agent"]["agent_id"], r"^[0-9a-f]{32}$", st["agent"])
        return st["agent"]["agent_id"]

    def refused(self, rcv, what, **output):
        """Runs the agent in the background against `rcv` with [output] overrides until
        its status shows an upload error, stops it, and checks that nothing arrived and
        nothing was lost. Returns the upload error the status showed."""
        self.write_lines(12)
        self.write_config(self.output_for(rcv, **output))
        agent = Agent(self)

        def failed():
            st, _ = self.status()
            o = st.get("output") or {}
            return bool(o.get("last_error")), o
        o = self.wait_for("an upload error (%s)" % what, failed, agent=agent)
        self.assertEqual(agent.stop(), 0, agent.log())
        self.assertEqual(o["last_status"], 0, "%s: expected a transport error, got %s" % (what, o))
        self.assertEqual(o["chunks_sent"], 0, o)
        self.assertEqual(rcv.stored(), {}, "%s: the receiver stored something" % what)
        self.assertEqual([r for r in rcv.requests() if r.get("status") is not None], [],
                         "%s: a request reached the receiver" % what)
        self.assertKeptEverything()
        self.assertIn("not delivered", agent.log(), agent.log()[-3000:])
        return o["last_error"], agent.log()


class DeliveryTest(ShipTestCase):
    def test_happy_path_every_record_once_with_the_native_headers(self):
        rcv = Receiver(self, "--token", TOKEN)
        self.write_lines(150)
        self.write_config(self.output_for(rcv))
        r = self.run_once()
        self.assertAllDelivered(rcv)
        self.assertBufferEmpty()

        agent_id = self.agent_id()
        v = json.loads(self.run_outpost("version", "--json").stdout)
        ua = "outpost/%s (%s; %s)" % (v["version"], v["os"], v["arch"])
        reqs = rcv.requests()
        self.assertGreater(len(reqs), 3, "expected several chunks (chunk_max_bytes 2KiB)")
        keys = []
        for q in reqs:
            self.assertEqual(q["status"], 200, q)
            self.assertEqual(q["method"], "POST", q)
            self.assertEqual(q["path"], "/ingest", q)
            self.assertTrue(q["tls"], q)
            self.assertRegex(q["idempotency_key"] or "", r"^%s-[0-9]+$" % agent_id, q)
            self.assertEqual(q["user_agent"], ua, q)
            self.assertEqual(q["content_encoding"], "zstd", q)
            self.assertEqual(q["content_type"], "application/x-ndjson", q)
            self.assertEqual(q["auth_scheme"], "Bearer", q)
            self.assertTrue(q["decoded"], q)
            self.assertFalse(q["duplicate"], q)
            keys.append(q["idempotency_key"])
        self.assertEqual(len(keys), len(set(keys)), "a key was used twice: %s" % keys)
        # Every stored body is one chunk: its records carry this agent's id.
        for name, recs in rcv.stored().items():
            for rec in recs:
                self.assertEqual(rec["agent_id"], agent_id, name)
                self.assertEqual(rec["stream"], "app", name)
        st, _ = self.status()
        o = st["output"]
        self.assertEqual(o["records_sent"], len(self.written), o)
        self.assertEqual(o["chunks_sent"], len(reqs), o)
        self.assertEqual((o["dead"], o["retries"], o["last_error"], o["auth_rejected"]),
                         (0, 0, "", False), o)
        self.assertFalse(st["attention"], st)

    def test_delivered_json_keeps_what_was_delivered_when_buffer_db_is_lost(self):
        """delivered.json (docs/buffer.md, "Delivered positions"): once everything is
        delivered it holds the file's length; when buffer.db is destroyed with lines in
        it not yet delivered, the next run sends exactly those (and newer) lines: none
        is lost, none of those delivered before is sent again."""
        rcv = Receiver(self)
        self.write_lines(40)
        self.write_config(self.output_for(rcv))
        self.run_once()
        self.assertAllDelivered(rcv)
        log = os.path.join(self.logs, "app.log")
        with open(os.path.join(self.state, "delivered.json"), encoding="utf-8") as f:
            doc = json.load(f)
        self.assertEqual((doc["format"], doc["version"]), ("outpost delivered positions", 1),
                         doc)
        st = os.stat(log)
        self.assertEqual([(p["source"], p["inode"], p["offset"], p["path"])
                          for p in doc["positions"]], [("app", st.st_ino, st.st_size, log)], doc)
        # Ten more lines buffered only (no [output]), then buffer.db destroyed.
        self.write_lines(10)
        self.write_config()
        self.run_once()
        with open(os.path.join(self.state, "buffer.db"), "r+b") as f:
            f.write(b"\x5a" * os.path.getsize(f.name))
        self.write_lines(5)
        self.write_config(self.output_for(rcv))
        r = self.run_once()
        self.assertIn("reading on from there", r.stderr, r)
        self.assertAllDelivered(rcv)
        self.assertTrue(any(n.startswith("buffer.db.corrupt-") for n in os.listdir(self.state)))

    def test_live_agent_ships_new_lines_as_they_come(self):
        rcv = Receiver(self)
        self.write_lines(20)
        self.write_config(self.output_for(rcv))
        agent = Agent(self)
        for round_ in range(3):
            want = len(self.written)
            self.wait_for("%d records at the receiver" % want,
                          lambda: (len(rcv.messages()) >= want, len(rcv.messages())), agent=agent)
            self.write_lines(15)
        want = len(self.written)
        self.wait_for("%d records at the receiver" % want,
                      lambda: (len(rcv.messages()) >= want, len(rcv.messages())), agent=agent)
        self.assertEqual(agent.stop(), 0, agent.log())
        self.assertAllDelivered(rcv)
        self.assertBufferEmpty()

    def test_sigterm_during_a_stalled_upload_exits_promptly_and_keeps_the_chunks(self):
        # Both requests in flight hang for 30 s, then would be refused.
        stall = {"action": "stall", "seconds": 30, "status": 503}
        rcv = Receiver(self, faults=[dict(stall), dict(stall)])
        self.write_lines(30)
        self.write_config(self.output_for(rcv))
        agent = Agent(self)
        self.wait_for("both requests to hang in the receiver",
                      lambda: (rcv.stats()["faults_left"] == 0, rcv.stats()), agent=agent)
        started = time.monotonic()
        self.assertEqual(agent.stop(), 0, agent.log())
        took = time.monotonic() - started
        self.assertLess(took, 5, "SIGTERM took %.1f s with uploads in flight" % took)
        self.assertKeptEverything()
        self.assertEqual(rcv.stored(), {})
        self.run_once()
        self.assertAllDelivered(rcv)
        self.assertBufferEmpty()

    def test_5xx_and_resets_then_recovery_loses_nothing(self):
        faults = [{"status": 500, "count": 2},
                  {"action": "reset", "count": 2},
                  {"status": 503, "count": 1, "body": "overloaded"},
                  # Stored, then the answer is lost: the agent must resend the same key.
                  {"status": 500, "after_store": True, "count": 2},
                  {"action": "reset", "after_store": True, "count": 1},
                  {"status": 502, "count": 1}]
        rcv = Receiver(self, faults=faults)
        self.write_lines(120)
        self.write_config(self.output_for(rcv))
        self.run_once()
        self.assertEqual(rcv.stats()["faults_left"], 0, "not every fault was used")
        self.assertAllDelivered(rcv)
        self.assertBufferEmpty()

        reqs = rcv.requests()
        by_key = collections.defaultdict(list)
        for q in sorted(reqs, key=lambda q: q["seq"]):
            by_key[q["idempotency_key"]].append(q)
        stored_after_fault = set()
        for key, qs in by_key.items():
            accepted = [q for q in qs if q["status"] == 200 and not q["duplicate"]]
            ok = [q for q in qs if q["status"] == 200]
            self.assertTrue(ok, "key %s never answered 200: %s" % (key, qs))
            # Every attempt before the last was a failure; nothing after a 200.
            self.assertIs(qs[-1], ok[-1], "key %s was sent again after a 200: %s" % (key, qs))
            self.assertEqual(len(ok), 1, "key %s answered 200 more than once: %s" % (key, qs))
            for q in qs[:-1]:
                self.assertIsNotNone(q["fault"], "key %s resent without a fault: %s" % (key, qs))
            if any(q["fault"] and q["fault"]["rule"] in (3, 4) for q in qs):
                stored_after_fault.add(key)
            if not accepted:
                self.assertIn(key, stored_after_fault, qs)
        dups = {q["idempotency_key"] for q in reqs if q["duplicate"]}
        # The only duplicates: keys the receiver stored before losing the answer.
        self.assertEqual(dups, stored_after_fault, "duplicates by key")
        self.assertTrue(dups, "no answer was lost after storing; the test proves nothing")
        self.assertEqual(sum(q["duplicate"] for q in reqs),
                         sum(1 for q in reqs if q["fault"] and q["fault"]["rule"] in (3, 4)),
                         "every answer lost after storing causes exactly one duplicate")
        st, _ = self.status()
        # Each answered fault is one retry of the shipper; a reset on a reused
        # connection may be re-sent by libcurl itself at once (same key), unseen.
        answered = sum(1 for q in reqs if q["fault"] and q["status"] is not None)
        self.assertGreaterEqual(st["output"]["retries"], answered, st["output"])
        self.assertLessEqual(st["output"]["retries"], sum(f["count"] for f in faults), st["output"])
        self.assertEqual(st["output"]["dead"], 0, st["output"])

    def test_429_retry_after_is_honoured(self):
        rcv = Receiver(self, faults=[{"status": 429, "retry_after": "2", "count": 1}])
        self.write_lines(30)
        self.write_config(self.output_for(rcv))
        self.run_once()
        self.assertAllDelivered(rcv)
        reqs = rcv.requests()
        limited = [q for q in reqs if q["status"] == 429]
        self.assertEqual(len(limited), 1, reqs)
        first = limited[0]
        again = [q for q in reqs if q["idempotency_key"] == first["idempotency_key"]
                 and q["seq"] != first["seq"]]
        self.assertEqual(len(again), 1, "the 429'd chunk should be sent once more: %s" % again)
        # Tolerance in the allowed direction only: the retry arrives (`time`, once its
        # headers are read) at least 2 s after the 429 was answered (`time_done`).
        gap = again[0]["time"] - first["time_done"]
        self.assertGreaterEqual(gap, 2.0, "retried %.3f s after a 429 with Retry-After: 2" % gap)
        self.assertLess(gap, 8.0, "retried only %.3f s after a 429 with Retry-After: 2 "
                                  "(retry.max is 2s)" % gap)

    def test_401_keeps_every_chunk_until_the_token_is_fixed(self):
        rcv = Receiver(self, "--token", TOKEN)
        self.write_lines(40)
        # retry.max 1m: the deferral after a 401 lasts 30..60 s, longer than run
        # --once waits; the agent must try again at its next start anyway.
        wrong = "wrong-" + TOKEN
        self.write_config(self.output_for(rcv, token=wrong), retry={"max": "1m"})
        r = self.run_once(expect=None)
        self.assertNotEqual(r.returncode, 0, "run --once succeeded against a 401\n%s" % r)
        self.assertIn("authentication rejected", r.stderr, r)
        self.assertIn("401", r.stderr, r)
        self.assertKeptEverything()
        self.assertEqual(rcv.stored(), {})
        reqs = rcv.requests()
        self.assertTrue(reqs and all(q["status"] == 401 for q in reqs), reqs)
        self.assertLessEqual(len(reqs), 2, "the agent kept sending after a 401: %s" % reqs)
        st, sr = self.status()
        self.assertTrue(st["output"]["auth_rejected"], st["output"])
        self.assertIn("authentication rejected", st["output"]["last_error"])
        self.assertTrue(st["attention"], st)
        self.assertEqual(st["output"]["dead"], 0)
        text = self.run_outpost("status")
        self.assertIn("authentication rejected", text.stdout, text)
        for out in (r.stdout, r.stderr, sr.stdout, text.stdout):
            self.assertNotIn(wrong, out)

        self.write_config(self.output_for(rcv), retry={"max": "1m"})
        started = time.monotonic()
        self.run_once()
        self.assertLess(time.monotonic() - started, 15, "the fixed token waited for the deferral")
        self.assertAllDelivered(rcv)
        self.assertBufferEmpty()
        st, _ = self.status()
        self.assertFalse(st["output"]["auth_rejected"], st["output"])
        self.assertFalse(st["attention"], st)

    def test_413_splits_the_chunk_and_every_record_arrives_once(self):
        limit = 2500
        rcv = Receiver(self, faults=[{"status": 413, "if_bytes_over": limit, "count": -1}])
        # Random letters compress poorly: 16 KiB chunks stay well over the limit.
        self.write_lines(160, pad=120)
        self.write_config(self.output_for(rcv), buffer={"chunk_max_bytes": "16KiB"})
        r = self.run_once()
        self.assertAllDelivered(rcv)
        self.assertBufferEmpty()
        reqs = rcv.requests()
        too_big = [q for q in reqs if q["status"] == 413]
        self.assertTrue(too_big, "no request was over %d bytes; the test proves nothing" % limit)
        for q in reqs:
            if q["status"] == 200:
                self.assertLessEqual(q["bytes"], limit, q)
        # A 413'd key is never sent again: its halves are new chunks with new keys.
        refused = {q["idempotency_key"] for q in too_big}
        self.assertFalse(refused & {q["idempotency_key"] for q in reqs if q["status"] == 200})
        st, _ = self.status()
        self.assertGreaterEqual(st["output"]["splits"], len(too_big), st["output"])
        self.assertEqual(st["output"]["dead"], 0, st["output"])
        self.assertIn("split", r.stderr, r)

    def test_413_for_a_single_record_dead_letters_it_and_the_rest_flows(self):
        rcv = Receiver(self, faults=[{"status": 413, "if_bytes_over": 3000, "count": -1}])
        self.write_lines(10)
        huge = self.write_lines(1, pad=8000)[0]  # random letters: > 3000 bytes compressed
        self.write_lines(10)
        self.write_config(self.output_for(rcv), buffer={"chunk_max_bytes": "16KiB"})
        r = self.run_once()
        self.assertEqual([rec["message"] for rec in self.export("--dead")], [huge])
        self.assertExactlyOnce(rcv.messages(), [m for m in self.written if m != huge],
                               "records the receiver stored")
        self.assertIn("cannot be split", r.stderr, r)
        st = self.buffer_stats()
        self.assertEqual((st["chunks"], st["dead_chunks"]), (0, 1), st)

    def test_400_dead_letters_that_chunk_and_the_rest_flows(self):
        rcv = Receiver(self, faults=[{"status": 400, "count": 1,
                                      "body": "record 1: field @timestamp malformed"}])
        self.write_lines(60)
        self.write_config(self.output_for(rcv))
        r = self.run_once()
        reqs = rcv.requests()
        bad = [q for q in reqs if q["status"] == 400]
        self.assertEqual(len(bad), 1, reqs)
        self.assertEqual([q for q in reqs if q["idempotency_key"] == bad[0]["idempotency_key"]],
                         bad, "a dead-lettered chunk was sent again")
        st = self.buffer_stats()
        self.assertEqual((st["chunks"], st["dead_chunks"]), (0, 1), st)
        dead = [rec["message"] for rec in self.export("--dead")]
        self.assertTrue(dead)
        stored = rcv.messages()
        self.assertFalse(set(dead) & set(stored), "dead-lettered records were also delivered")
        self.assertExactlyOnce(stored + dead, self.written, "delivered + dead-lettered records")
        self.assertIn("HTTP 400", r.stderr, r)
        self.assertIn("field @timestamp malformed", r.stderr, r)
        self.assertIn("dead_chunks", r.stderr, r)
        status, _ = self.status()
        self.assertEqual(status["output"]["dead"], 1, status["output"])


class TlsTest(ShipTestCase):
    def test_unknown_ca_is_refused_and_nothing_is_lost(self):
        # The agent trusts the system CAs only: the test CA is unknown to it.
        rcv = Receiver(self)
        err, _ = self.refused(rcv, "no ca_file", ca_file=None)
        self.assertRegex(err, r"(?i)certificate|SSL", err)
        self.assertGreaterEqual(rcv.stats()["tls_errors"], 1)

    def test_server_certificate_from_another_ca_is_refused(self):
        rcv = Receiver(self, "--cert-name", "other-server")
        err, _ = self.refused(rcv, "other CA")
        self.assertRegex(err, r"(?i)certificate|SSL", err)

    def test_run_once_gives_up_with_the_reason_when_tls_is_refused(self):
        rcv = Receiver(self, "--cert-name", "other-server")
        self.write_lines(10)
        self.write_config(self.output_for(rcv))
        started = time.monotonic()
        r = self.run_once(expect=None)
        took = time.monotonic() - started
        self.assertNotEqual(r.returncode, 0, r)
        self.assertIn("not everything was shipped", r.stderr, r)
        self.assertRegex(r.stderr, r"(?i)certificate|SSL", r)
        self.assertLess(took, 30, "run --once retried for %.0f s" % took)
        self.assertKeptEverything()

    def test_wrong_hostname_is_refused(self):
        rcv = Receiver(self, "--cert-name", "wrong-host")
        err, _ = self.refused(rcv, "wrong host")
        self.assertRegex(err, r"(?i)certificate|host|name|SSL", err)

    def test_pin_mismatch_is_refused_and_the_right_pin_works(self):
        rcv = Receiver(self)
        err, _ = self.refused(rcv, "pin of other-server", pinned_pubkey=read_pin("other-server.pin"))
        self.assertRegex(err, r"(?i)pin|public key", err)
        self.write_config(self.output_for(rcv, pinned_pubkey=read_pin("server.pin")))
        self.run_once()
        self.assertAllDelivered(rcv)
        self.assertBufferEmpty()

    def test_mtls_works_with_the_client_certificate_and_is_refused_without(self):
        rcv = Receiver(self, "--require-client-cert")
        self.refused(rcv, "no client certificate")
        self.write_config(self.output_for(rcv, client_cert=ca("client.pem"),
                                          client_key=ca("client.key")))
        self.run_once()
        self.assertAllDelivered(rcv)
        self.assertBufferEmpty()
        ok = [q for q in rcv.requests() if q["status"] == 200]
        self.assertTrue(ok)
        for q in ok:
            self.assertTrue(q["client_cert"], "no client certificate seen: %s" % q)

    def test_through_the_connect_proxy(self):
        rcv = Receiver(self)
        proxy = Receiver(self, proxy=True)
        self.write_lines(30)
        self.write_config(self.output_for(rcv, proxy="http://127.0.0.1:%d" % proxy.port))
        self.run_once()
        self.assertAllDelivered(rcv)
        self.assertBufferEmpty()
        connects = [p for p in proxy.proxy_log() if p["method"] == "CONNECT"]
        self.assertTrue(connects, "proxy.log shows no CONNECT: %s" % proxy.proxy_log())
        for p in connects:
            self.assertEqual(p["target"], "127.0.0.1:%d" % rcv.port, p)
            self.assertEqual(p["status"], 200, p)
            self.assertTrue(p["allowed"], p)

    def test_through_a_proxy_with_credentials(self):
        rcv = Receiver(self)
        password = "pr0xy-pass-word-never-shown"
        proxy = Receiver(self, "--proxy-user", "agent:" + password, proxy=True)
        self.write_lines(10)
        self.write_config(self.output_for(rcv, proxy="http://127.0.0.1:%d" % proxy.port,
                                          proxy_username="agent", proxy_password=password))
        r = self.run_once()
        self.assertAllDelivered(rcv)
        connects = [p for p in proxy.proxy_log() if p["method"] == "CONNECT"]
        self.assertTrue(connects and all(p["proxy_authorization"] and p["status"] == 200
                                         for p in connects), proxy.proxy_log())
        for args in (("config", "show"), ("status", "--json")):
            r2 = self.run_outpost(*args)
            self.assertNotIn(password, r2.stdout + r2.stderr, "the proxy password in " + str(args))
        self.assertNotIn(password, r.stdout + r.stderr)

    def test_https_proxy_from_the_environment_and_no_proxy(self):
        rcv = Receiver(self)
        proxy = Receiver(self, proxy=True)
        self.write_lines(10)
        self.write_config(self.output_for(rcv))
        self.run_once(env={"HTTPS_PROXY": "http://127.0.0.1:%d" % proxy.port})
        self.assertAllDelivered(rcv)
        tunnels = len([p for p in proxy.proxy_log() if p["method"] == "CONNECT"])
        self.assertGreaterEqual(tunnels, 1, "HTTPS_PROXY was not used: %s" % proxy.proxy_log())
        # NO_PROXY names the endpoint's host: straight there, the proxy sees nothing new.
        self.write_lines(10)
        self.run_once(env={"HTTPS_PROXY": "http://127.0.0.1:%d" % proxy.port,
                           "NO_PROXY": "127.0.0.1"})
        self.assertAllDelivered(rcv)
        self.assertEqual(len([p for p in proxy.proxy_log() if p["method"] == "CONNECT"]), tunnels,
                         "NO_PROXY was not honoured: %s" % proxy.proxy_log())

    def test_insecure_skip_verify_works_with_a_warning(self):
        rcv = Receiver(self, "--cert-name", "other-server")
        self.write_lines(20)
        self.write_config(self.output_for(rcv, ca_file=None, insecure_skip_verify=True))
        r = self.run_once()
        self.assertAllDelivered(rcv)
        self.assertRegex(r.stderr, r"WARN.*insecure_skip_verify", r)

    def test_plain_http_endpoint_works_with_a_warning(self):
        rcv = Receiver(self, tls=False)
        self.write_lines(20)
        self.write_config(self.output_for(rcv))
        r = self.run_once()
        self.assertAllDelivered(rcv)
        self.assertBufferEmpty()
        self.assertRegex(r.stderr, r"WARN.*plain http", r)
        self.assertTrue(all(not q["tls"] for q in rcv.requests()))


class SecretsAndModesTest(ShipTestCase):
    def assertNoToken(self, text, where, token=TOKEN):
        self.assertNotIn(token, text, "the token appears in %s" % where)
        # Nor a long piece of it.
        self.assertNotIn(token[4:20], text, "part of the token appears in %s" % where)

    def test_token_is_never_shown(self):
        rcv = Receiver(self, "--token", TOKEN, faults=[{"status": 500, "count": 1},
                                                       {"status": 400, "count": 1}])
        self.write_lines(40)
        self.write_config(self.output_for(rcv))
        seen = []
        r = self.run_outpost("--log-level", "trace", "run", "--once")
        self.assertEqual(r.returncode, 0, r)
        seen.append(("run --once --log-level trace", r.stdout + r.stderr))
        self.assertAllDelivered_or_dead(rcv)
        agent = Agent(self, "--log-level", "trace")
        self.write_lines(10)
        want = len(self.written) - len(self.export("--dead"))
        self.wait_for("the new lines at the receiver",
                      lambda: (len(rcv.messages()) >= want, len(rcv.messages())), agent=agent)
        self.assertEqual(agent.stop(), 0)
        seen.append(("the log of outpost run", agent.log()))
        for args in (("config", "show"), ("config", "show", "--json"), ("config", "check"),
                     ("status",), ("status", "--json"), ("buffer", "stats", "--json")):
            r = self.run_outpost(*args)
            seen.append(("outpost " + " ".join(args), r.stdout + r.stderr))
        for where, text in seen:
            self.assertNoToken(text, where)
        # The receiver did get it, as a Bearer token.
        self.assertTrue(all(q["auth_scheme"] == "Bearer" for q in rcv.requests()))

    def assertAllDelivered_or_dead(self, rcv):
        dead = [rec["message"] for rec in self.export("--dead")]
        self.assertExactlyOnce(rcv.messages() + dead, self.written, "delivered + dead")

    def test_token_file_works_and_is_never_shown(self):
        rcv = Receiver(self, "--token", TOKEN)
        token_file = self.path("token")
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(TOKEN + "\n")
        self.write_lines(20)
        self.write_config(self.output_for(rcv, token=None, token_file=token_file))
        r = self.run_outpost("--log-level", "trace", "run", "--once")
        self.assertEqual(r.returncode, 0, r)
        self.assertAllDelivered(rcv)
        texts = [r.stdout + r.stderr]
        for args in (("config", "show"), ("status", "--json")):
            texts.append(self.run_outpost(*args).stdout)
        for t in texts:
            self.assertNoToken(t, "output")

    def test_config_holding_a_token_must_be_private(self):
        rcv = Receiver(self)
        self.write_lines(5)
        self.write_config(self.output_for(rcv))
        os.chmod(self.config_path, 0o644)
        r = self.run_once(expect=2)
        self.assertIn("chmod 600", r.stderr, r)
        self.assertNoToken(r.stdout + r.stderr, "the error")
        self.assertEqual(rcv.requests(), [])

    def test_without_output_run_once_only_buffers_and_says_so(self):
        self.write_lines(25)
        self.write_config(output=None)
        r = self.run_once()
        self.assertIn("no [output]", r.stderr, r)
        st = self.assertKeptEverything()
        self.assertEqual(st["records"], 25)
        status, _ = self.status()
        self.assertIsNone(status["output"], status)
        text = self.run_outpost("status").stdout
        self.assertRegex(text, r"output\s+none", text)


def payload_messages(kind, stored):
    """The log messages in the bodies the receiver stored for output `kind`."""
    out = []
    for docs in stored.values():
        for doc in docs:
            if kind == "otlp":
                for rl in doc["resourceLogs"]:
                    for sl in rl["scopeLogs"]:
                        out += [lr["body"]["stringValue"] for lr in sl["logRecords"]]
            elif kind == "loki":
                for st in doc["streams"]:
                    out += [v[1] for v in st["values"]]
            elif kind == "elasticsearch":
                if "message" in doc:  # a document; action lines have none
                    out.append(doc["message"])
            elif kind == "splunk_hec":
                out.append(doc["event"]["message"])
    return out


class OutputsTest(ShipTestCase):
    """Every output end to end: the real binary, HTTPS, the receiver's protocol paths."""

    PATHS = {"otlp": "/v1/logs", "loki": "/loki/api/v1/push", "elasticsearch": "/_bulk",
             "splunk_hec": "/services/collector/event"}

    def ship_with(self, kind, faults=None, **options):
        rcv = Receiver(self, "--token", TOKEN, faults=faults)
        self.write_lines(120)
        self.write_config(self.output_for(rcv, type=kind, endpoint=rcv.url(""), **options))
        r = self.run_once()
        return rcv, r

    def check_delivered(self, kind, rcv):
        self.assertExactlyOnce(payload_messages(kind, rcv.stored()), self.written,
                               "%s: messages the receiver stored" % kind)
        self.assertBufferEmpty()
        agent_id = self.agent_id()
        reqs = rcv.requests()
        self.assertGreater(len(reqs), 3, reqs)
        for q in reqs:
            self.assertEqual(q["path"], self.PATHS[kind], q)
            self.assertEqual(q["status"] // 100, 2, q)
            self.assertEqual(q["content_encoding"], "gzip", q)
            self.assertTrue(q["decoded"], q)
            self.assertRegex(q["idempotency_key"] or "", r"^%s-[0-9]+$" % agent_id, q)
            self.assertEqual(q["auth_scheme"], "Splunk" if kind == "splunk_hec" else "Bearer", q)

    def test_otlp(self):
        rcv, _ = self.ship_with("otlp")
        self.check_delivered("otlp", rcv)
        doc = next(iter(rcv.stored().values()))[0]
        attrs = {a["key"]: a["value"] for a in doc["resourceLogs"][0]["resource"]["attributes"]}
        self.assertEqual(attrs["service.name"], {"stringValue": "outpost"}, attrs)
        self.assertIn("host.name", attrs)

    def test_loki(self):
        rcv, _ = self.ship_with("loki")
        self.check_delivered("loki", rcv)
        doc = next(iter(rcv.stored().values()))[0]
        labels = doc["streams"][0]["stream"]
        self.assertEqual(labels["stream"], "app", labels)
        self.assertNotIn("message", labels)

    def test_elasticsearch(self):
        rcv, _ = self.ship_with("elasticsearch", index="logs-outpost")
        self.check_delivered("elasticsearch", rcv)
        actions = [d for docs in rcv.stored().values() for d in docs if "message" not in d]
        self.assertEqual(len(actions), len(self.written))
        self.assertTrue(all(a["create"]["_index"] == "logs-outpost" for a in actions), actions[:3])

    def test_splunk_hec(self):
        rcv, _ = self.ship_with("splunk_hec", sourcetype="outpost:log")
        self.check_delivered("splunk_hec", rcv)
        ev = next(iter(rcv.stored().values()))[0]
        self.assertEqual(ev["sourcetype"], "outpost:log", ev)
        self.assertIsInstance(ev["time"], (int, float), ev)

    def test_elasticsearch_partial_failures_retry_some_and_dead_letter_others(self):
        # The first _bulk answer refuses items: 429 (retry) and 400 (for good).
        rcv, r = self.ship_with(
            "elasticsearch", faults=[{"if_path": "/_bulk", "item_status": [201, 429, 400],
                                      "count": 1}])
        delivered = payload_messages("elasticsearch", rcv.stored())
        dead = [rec["message"] for rec in self.export("--dead")]
        self.assertTrue(dead, "no record was dead-lettered\n%s" % r)
        self.assertFalse(set(dead) & set(delivered), "dead-lettered records were also delivered")
        self.assertExactlyOnce(delivered + dead, self.written, "delivered + dead-lettered records")
        st = self.buffer_stats()
        self.assertEqual((st["chunks"], st["dead_chunks"]), (0, 1), st)
        first = [q for q in rcv.requests() if q.get("item_errors")]
        self.assertEqual(len(first), 1, rcv.requests())
        # item_errors counts the 429 items (retried, then delivered) and the 400 ones.
        self.assertGreater(first[0]["item_errors"], len(dead), first[0])
        status, _ = self.status()
        o = status["output"]
        self.assertEqual((o["partial"], o["records_refused"]), (1, len(dead)), o)
        self.assertEqual(o["records_sent"], len(self.written) - len(dead), o)
        self.assertIn("mapper_parsing_exception", r.stderr, r)

    def test_splunk_token_is_sent_in_its_own_scheme_only(self):
        rcv, r = self.ship_with("splunk_hec")
        for q in rcv.requests():
            self.assertEqual(q["auth_scheme"], "Splunk", q)
        self.assertNotIn(TOKEN, r.stdout + r.stderr)


class FlushTest(ShipTestCase):
    def buffer_without_output(self, lines):
        """Buffers `lines` lines with no [output] (run --once only buffers)."""
        self.write_lines(lines)
        self.write_config(output=None)
        self.run_once()
        self.assertEqual(self.buffer_stats()["records"], lines)

    def test_flush_ships_what_is_buffered_and_prints_a_summary(self):
        self.buffer_without_output(80)
        rcv = Receiver(self)
        self.write_config(self.output_for(rcv))
        self.write_lines(5)  # in the file, not in the buffer: flush does not read sources
        r = self.run_outpost("flush")
        self.assertEqual(r.returncode, 0, r)
        self.assertRegex(r.stdout, r"^flushed 80 records in \d+ chunks \(.*\) to https://127\.0\.0\.1:\d+/ingest "
                         r"in .*; 0 retries, 0 dead\n$", r)
        self.assertNotIn("\r", r.stdout, "a progress bar was drawn although stdout is a pipe")
        self.assertExactlyOnce(rcv.messages(), self.written[:80], "records flushed")
        self.assertBufferEmpty()

    def test_flush_on_a_terminal_draws_a_progress_bar(self):
        self.buffer_without_output(40)
        rcv = Receiver(self)
        self.write_config(self.output_for(rcv))
        master, slave = pty.openpty()
        try:
            p = subprocess.Popen(self.argv("flush"), cwd=self.dir, env=clean_env(),
                                 stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE)
            os.close(slave)
            slave = None
            out = b""
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                out += data
            err = p.communicate(timeout=60)[1]
        finally:
            os.close(master)
            if slave is not None:
                os.close(slave)
        text = normalise(out)
        self.assertEqual(p.returncode, 0, text + normalise(err))
        self.assertRegex(text, r"\r\[#{24}\] (\d+)/\1 chunks  .* sent  .*/s  ETA 0s", text)
        self.assertIn("flushed 40 records", text)
        self.assertAllDelivered(rcv)

    def test_flush_json_and_endpoint_down(self):
        self.buffer_without_output(30)
        rcv = Receiver(self, faults=[{"status": 503, "count": -1}])
        self.write_config(self.output_for(rcv), retry={"initial": "50ms", "max": "200ms"})
        r = self.run_outpost("flush", "--json", "--patience", "1s")
        self.assertEqual(r.returncode, 3, r)
        j = json.loads(r.stdout)
        self.assertFalse(j["ok"], j)
        self.assertGreater(j["chunks_left"], 0, j)
        self.assertEqual(j["records"], 0, j)
        self.assertGreater(j["retries"], 0, j)
        self.assertIn("nothing delivered for 1s", j["error"], j)
        self.assertIn("not everything was shipped", r.stderr, r)
        self.assertKeptEverything()
        rcv.set_faults([])
        r = self.run_outpost("flush", "--json")
        self.assertEqual(r.returncode, 0, r)
        j = json.loads(r.stdout)
        self.assertEqual((j["ok"], j["records"], j["chunks_left"], j["dead"]), (True, 30, 0, 0), j)
        self.assertAllDelivered(rcv)

    def test_flush_refuses_without_output_and_beside_a_running_agent(self):
        self.buffer_without_output(3)
        r = self.run_outpost("flush")
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("has no [output]", r.stderr, r)
        rcv = Receiver(self)
        self.write_config(self.output_for(rcv))
        agent = Agent(self)
        self.wait_for("the agent to ship", lambda: (len(rcv.messages()) == 3, rcv.messages()),
                      agent=agent)
        r = self.run_outpost("flush")
        self.assertEqual(r.returncode, 3, r)
        self.assertIn("an agent is running", r.stderr, r)
        self.assertEqual(agent.stop(), 0, agent.log())

    def test_status_counters_go_on_across_runs(self):
        rcv = Receiver(self)
        self.write_config(self.output_for(rcv))
        self.write_lines(20)
        r1 = self.run_once()
        self.assertIn("shipped 20 records", r1.stdout, r1)
        self.write_lines(15)
        r2 = self.run_once()
        self.assertIn("shipped 15 records", r2.stdout, r2)  # this run's own count
        status, _ = self.status()
        self.assertEqual(status["output"]["records_sent"], 35, status["output"])
        self.assertGreater(status["output"]["last_success_ms"], 0, status["output"])
        self.assertAllDelivered(rcv)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description="outpost shipping integration tests")
    parser.add_argument("--binary", required=True, help="the outpost executable")
    parser.add_argument("--source-dir", required=True, help="the source tree")
    parser.add_argument("--emulator", default="", help="set for a cross build: the tests are skipped")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the random data")
    ARGS, rest = parser.parse_known_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    ARGS.source_dir = os.path.abspath(ARGS.source_dir)
    if not ARGS.emulator and not os.path.isfile(ARGS.binary):
        parser.error("no such binary: %s" % ARGS.binary)
    if ARGS.emulator:
        print("ship_test: skipped: POSIX only (the dev receiver is not run under the emulator "
              "%s)" % ARGS.emulator, flush=True)
    print("ship_test: seed %d (replay with --seed %d)" % (ARGS.seed, ARGS.seed), flush=True)
    program = unittest.main(argv=[sys.argv[0], *rest], exit=False)
    if not program.result.wasSuccessful():
        print("ship_test: FAILED with seed %d" % ARGS.seed, flush=True)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())

"""The pieces every chaos scenario is built from (tests/chaos/chaos.py runs them).

- Receiver: scripts/dev-receiver.py over HTTPS on 127.0.0.1 with its own store, fault
  rules and certificate switch (POST /_faults, POST /_tls).
- Agent: the real `outpost run` in a scenario's directory; started, killed with
  SIGKILL, stopped with SIGTERM; `outpost status --json` and other commands.
- Writer: appends lines the harness can recognise to log files and remembers each one.
- Tally: the counting behind every summary line (see Tally's docstring).

Standard library only. Everything random comes from the scenario's random.Random.
"""
import collections
import json
import os
import random
import re
import signal
import sqlite3
import ssl
import string
import subprocess
import sys
import threading
import time
import urllib.request

TOKEN = "chaos-token-5f1e2d"
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
              "ALL_PROXY", "NO_PROXY")
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                     "runtime error:")
# Every line the harness writes starts "chaos:<scenario>:<id>:" (id: 7 digits, unique in
# the scenario), so a record's message names the line it came from even when the agent
# cut it at max_line_bytes.
LINE_RE = re.compile(r"^chaos:([a-z0-9-]+):(\d{7}):")
PAD_CHARS = string.ascii_letters + string.digits


class ScenarioFailed(Exception):
    """The scenario could not go on (the agent died, a wait timed out, ...)."""


class Skipped(Exception):
    """The scenario cannot run here (not root, no tmpfs, ...): reported as SKIPPED."""


def clean_env(extra=None):
    env = dict(os.environ)
    for v in PROXY_VARS:
        env.pop(v, None)
    env.update(extra or {})
    return env


def wait_for(what, predicate, timeout, interval=0.1, alive=None):
    """Polls predicate() until it returns a true value, which is returned. Raises
    ScenarioFailed after `timeout` seconds, or at once when alive() says no."""
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got:
            return got
        if alive is not None and not alive():
            raise ScenarioFailed("while waiting for %s: the agent exited"
                                 % (what() if callable(what) else what))
        if time.monotonic() > deadline:
            raise ScenarioFailed("timed out after %.0f s waiting for %s" % (
                timeout, what() if callable(what) else what))
        time.sleep(interval)


class Receiver:
    """The development receiver, HTTPS on 127.0.0.1, storing what it accepts in
    <dir>/store (one file per accepted Idempotency-Key)."""

    def __init__(self, ctx, dir, name="receiver"):
        self.ctx = ctx
        self.store = os.path.join(dir, name + "-store")
        port_file = os.path.join(dir, name + ".port")
        self.err_path = os.path.join(dir, name + ".err")
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, os.path.join(ctx.source_dir, "scripts", "dev-receiver.py"),
                 "--port", "0", "--port-file", port_file, "--store", self.store,
                 "--tls-dir", ctx.ca, "--token", TOKEN],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=clean_env())
        deadline = time.monotonic() + 15
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise ScenarioFailed("the dev receiver did not start:\n" + self.log()[-2000:])
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())
        # Control requests go over a context that does not verify: the receiver may be
        # serving the untrusted certificate at the time. Loopback only.
        ctl = ssl.create_default_context()
        ctl.check_hostname = False
        ctl.verify_mode = ssl.CERT_NONE
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                  urllib.request.HTTPSHandler(context=ctl))
        self._parsed = {}  # stored file name -> Counter of (scenario, id)
        self.foreign = []  # records in stored bodies that no writer wrote

    @property
    def endpoint(self):
        return "https://127.0.0.1:%d/ingest" % self.port

    def control(self, path, payload=None):
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request("https://127.0.0.1:%d%s" % (self.port, path), data=data,
                                     method="GET" if data is None else "POST")
        with self.opener.open(req, timeout=20) as resp:
            return json.loads(resp.read())

    def set_faults(self, rules):
        self.control("/_faults", rules)

    def stats(self):
        return self.control("/_stats")

    def serve_certificate(self, name):
        """Serves scripts/make-test-ca.sh's pair `name` from now on and drops the open
        connections, so the agent's next request meets it."""
        self.control("/_tls", {"cert_name": name, "drop_connections": True})

    def log(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def counts(self):
        """Counter of (scenario, id) over every stored body, parsed once each. The
        receiver stores the body of an accepted request once per Idempotency-Key (a
        resend of a key it holds is answered but not stored again), so these are the
        records of the accepted, non-duplicate requests."""
        total = collections.Counter()
        try:
            names = sorted(os.listdir(self.store))
        except FileNotFoundError:
            names = []
        for name in names:
            if name.startswith(".") or not (name.endswith(".ndjson") or name.endswith(".zst")):
                continue
            if name not in self._parsed:
                if name.endswith(".zst"):
                    raise ScenarioFailed("the receiver cannot decode zstd (no python3-zstandard, "
                                         "no zstd command): %s" % name)
                c = collections.Counter()
                with open(os.path.join(self.store, name), "rb") as f:
                    for raw in f:
                        if not raw.strip():
                            continue
                        msg = json.loads(raw).get("message", "")
                        m = LINE_RE.match(msg)
                        if m:
                            c[(m.group(1), int(m.group(2)))] += 1
                        else:
                            self.foreign.append("%s: %s" % (name, msg[:120]))
                self._parsed[name] = c
            total.update(self._parsed[name])
        return total


class Tally:
    """How a summary line is counted.

    written     lines the harness wrote to log files (Writer.ids), each unique.
    delivered   written lines found at least once in the receiver's stored bodies.
    lost        written - delivered.
    duplicated  after de-duplication: the receiver already drops a request whose
                Idempotency-Key it has accepted before (a resend of the same chunk), so
                its stored bodies are the accepted non-duplicate requests; a line found
                n > 1 times in them counts n - 1. Those are copies a real receiver that
                de-duplicates by key would keep too.
    A record that names no written line (foreign) fails the scenario as well.
    """

    def __init__(self, name, writer, receiver):
        self.name = name
        self.writer = writer
        self.receiver = receiver

    def compute(self):
        counts = self.receiver.counts()
        ids = self.writer.ids
        delivered = sum(1 for i in ids if counts[(self.name, i)] > 0)
        duplicated = sum(n - 1 for (s, i), n in counts.items() if s == self.name and n > 1)
        others = [k for k in counts if k[0] != self.name or k[1] not in ids]
        return {"written": len(ids), "delivered": delivered, "lost": len(ids) - delivered,
                "duplicated": duplicated, "foreign": len(self.receiver.foreign) + len(others)}

    def missing(self, limit=20):
        counts = self.receiver.counts()
        return [i for i in sorted(self.writer.ids) if counts[(self.name, i)] == 0][:limit]

    def all_delivered(self):
        return self.compute()["lost"] == 0


class Writer:
    """Appends recognisable lines to log files; thread-safe."""

    def __init__(self, name, rng, pad=(0, 120)):
        self.name = name
        self.rng = rng
        self.pad = pad
        self.next_id = 0
        self.ids = set()
        self.where = {}  # id -> file (for messages)
        self.lock = threading.Lock()

    def line(self, extra=""):
        with self.lock:
            i = self.next_id
            self.next_id += 1
            pad = "".join(self.rng.choice(PAD_CHARS)
                          for _ in range(self.rng.randint(*self.pad)))
        return i, "chaos:%s:%07d:%s%s\n" % (self.name, i, extra, pad)

    def append(self, path, n=1):
        lines, ids = [], []
        for _ in range(n):
            i, text = self.line()
            lines.append(text)
            ids.append(i)
        with open(path, "ab") as f:
            f.write("".join(lines).encode())
        with self.lock:
            self.ids.update(ids)
            for i in ids:
                self.where[i] = os.path.basename(path)
        return ids

    def append_raw(self, path, i, data):
        """Writes one prepared line (data, ending in "\\n") with id i."""
        with open(path, "ab") as f:
            f.write(data)
        with self.lock:
            self.ids.add(i)
            self.where[i] = os.path.basename(path)

    def take_id(self):
        with self.lock:
            i = self.next_id
            self.next_id += 1
            return i


class BackgroundWriter:
    """Writes a few lines every `interval` seconds to a file chosen by `target()`
    until stopped."""

    def __init__(self, writer, target, rng, interval=0.05, lines=(1, 20)):
        self.writer = writer
        self.target = target
        self.rng = rng
        self.interval = interval
        self.lines = lines
        self.stop_event = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while not self.stop_event.is_set():
                self.writer.append(self.target(), self.rng.randint(*self.lines))
                self.stop_event.wait(self.interval)
        except Exception as e:  # reported by stop()
            self.error = e

    def stop(self):
        self.stop_event.set()
        self.thread.join(30)
        if self.error is not None:
            raise ScenarioFailed("the writer failed: %r" % self.error)


class Agent:
    """`outpost run` with the scenario's config; its output goes to agent.log in the
    scenario's directory (appended across restarts)."""

    def __init__(self, ctx, dir, config, env=None):
        self.ctx = ctx
        self.dir = dir
        self.config = config
        self.env = clean_env(env)
        self.log_path = os.path.join(dir, "agent.log")
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(b"=== chaos: start %d\n" % self.starts)
            log.flush()
            self.proc = subprocess.Popen([self.ctx.binary, "--config", self.config, "run"],
                                         cwd=self.dir, env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL. Returns the exit status if the agent had already exited by itself."""
        exited = self.proc.poll()
        if exited is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.check_sanitizer()
        return exited

    def stop(self, timeout=30):
        """SIGTERM and wait; returns the exit status (SIGKILL after `timeout`)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise ScenarioFailed("the agent did not exit within %d s of SIGTERM" % timeout)
        self.check_sanitizer()
        return self.proc.returncode

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def check_sanitizer(self):
        text = self.log()
        for marker in SANITIZER_MARKERS:
            if marker in text:
                raise ScenarioFailed("sanitizer report (%s) in the agent's log:\n%s"
                                     % (marker, text[-4000:]))

    def run(self, *args, timeout=120):
        p = subprocess.run([self.ctx.binary, "--config", self.config, *args], cwd=self.dir,
                           env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        return (p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace"))

    def status(self):
        rc, out, err = self.run("status", "--json", timeout=60)
        if rc not in (0, 1):
            raise ScenarioFailed("outpost status --json exited %d: %s" % (rc, err[-1000:]))
        return json.loads(out)

    def checkpointed(self, path):
        """True when buffer.db holds a checkpoint for the file now at `path`."""
        try:
            st = self.status()
        except (ScenarioFailed, ValueError, subprocess.TimeoutExpired):
            return False
        for src in st.get("sources", []):
            for f in src.get("files", []):
                if f.get("path") == path and f.get("size") is not None:
                    return True
        return False


def write_config(path, state_dir, sources, receiver=None, ctx=None, buffer=None, output=None,
                 agent=None):
    """An outpost.toml: `sources` is a list of dicts (name, paths, and more keys)."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return str(v)
        return json.dumps(v)

    def table(name, d):
        return "\n[%s]\n" % name + "".join("%s = %s\n" % (k, value(v)) for k, v in d.items())

    text = table("agent", dict({"state_dir": state_dir}, **(agent or {})))
    text += table("buffer", dict({"chunk_max_bytes": "16KiB", "chunk_max_age": "200ms"},
                                 **(buffer or {})))
    for s in sources:
        s = dict({"start_at": "beginning"}, **s)
        text += "\n[[source.file]]\n" + "".join("%s = %s\n" % (k, value(v)) for k, v in s.items())
    if receiver is not None:
        out = {"endpoint": receiver.endpoint, "token": TOKEN,
               "ca_file": os.path.join(ctx.ca, "ca.pem"), "timeout": "5s"}
        out.update(output or {})
        text += table("output", out)
        text += table("output.retry", {"initial": "50ms", "max": "1s"})
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def integrity(db_path):
    """PRAGMA integrity_check of a buffer.db (agent stopped): "ok" or SQLite's report."""
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=10)
        try:
            rows = con.execute("PRAGMA integrity_check").fetchall()
        finally:
            con.close()
    except sqlite3.Error as e:
        return "cannot check: %s" % e
    return "; ".join(r[0] for r in rows)[:500]


def random_pad(rng, n):
    return "".join(rng.choice(PAD_CHARS) for _ in range(n))


def new_rng(seed, name):
    """The scenario's own generator: the run's seed and the scenario's name, so that
    --scenario X replays X exactly as in a full run."""
    return random.Random("%d/%s" % (seed, name))

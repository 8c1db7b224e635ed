#!/usr/bin/env python3
"""Self-test of the development receiver (scripts/dev-receiver.py) and the test CA
(scripts/make-test-ca.sh), which the upload tests rely on.

    python3 receiver_selftest.py --source-dir . [--emulator=...] [-v] [-k NAME]

Starts the receiver over HTTPS with a throwaway CA in a temp dir and talks to it with the
curl command and Python's urllib: storing, zstd and gzip bodies, de-duplication by
Idempotency-Key, the token, fault rules (status schedule, resets, Retry-After, 413 by
size, stalls, after_store), protocol-shaped answers, bad requests, the TLS refusals the
agent must make (unknown CA, wrong host, pin mismatch, mTLS) and the CONNECT proxy.
Everything binds and connects to 127.0.0.1 only. POSIX only: skipped under an emulator.
The curl tests are skipped (and say so) when curl is missing; scripts/test.sh installs it.
Standard library only. Extra arguments go to unittest.
"""
import argparse
import gzip
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

ARGS = None  # set in main()
WORK = None  # temp dir of the whole run
CA = None  # the test CA directory
CURL = shutil.which("curl")
TOKEN = "dev-T0KEN-never-logged"
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
              "ALL_PROXY", "NO_PROXY")


def script(name):
    return os.path.join(ARGS.source_dir, "scripts", name)


def clean_env():
    env = dict(os.environ)
    for v in PROXY_VARS:
        env.pop(v, None)
    return env


def zstd_compress(data):
    """zstd frame of data, or None when neither the zstandard module nor zstd exists."""
    try:
        import zstandard
        return zstandard.ZstdCompressor().compress(data)
    except ImportError:
        pass
    exe = shutil.which("zstd")
    if exe is None:
        return None
    return subprocess.run([exe, "-q", "-c"], input=data, stdout=subprocess.PIPE,
                          check=True).stdout


def setUpModule():
    global WORK, CA
    if ARGS.emulator or os.name != "posix":
        raise unittest.SkipTest("POSIX only: the receiver is a development tool (not run "
                                "under the emulator)")
    if shutil.which("openssl") is None:
        raise unittest.SkipTest("no openssl command (apt-get install openssl)")
    WORK = tempfile.mkdtemp(prefix="outpost-receiver-selftest-")
    CA = os.path.join(WORK, "ca")
    subprocess.run([script("make-test-ca.sh"), CA], check=True, stdout=subprocess.DEVNULL)


def tearDownModule():
    if WORK:
        shutil.rmtree(WORK, ignore_errors=True)


class Receiver:
    """dev-receiver.py in a subprocess, on a port it picks, with its own store."""

    def __init__(self, test, *extra, tls=True, store=None, proxy=False, check_start=True):
        self.dir = tempfile.mkdtemp(dir=WORK)
        self.store = store or os.path.join(self.dir, "store")
        self.tls = tls and not proxy
        self.port_file = os.path.join(self.dir, "port")
        self.err_path = os.path.join(self.dir, "stderr")
        argv = [sys.executable, script("dev-receiver.py"), "--port", "0",
                "--port-file", self.port_file, "--store", self.store]
        if proxy:
            argv.append("--proxy")
        elif tls:
            argv += ["--tls-dir", CA]
        argv += list(extra)
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err,
                                         env=clean_env())
        test.addCleanup(self.stop)
        self.stopped = False
        self.port = None
        if not check_start:
            return
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if os.path.exists(self.port_file):
                with open(self.port_file) as f:
                    self.port = int(f.read())
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError("receiver did not start:\n" + self.stderr())

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
            return
        if self.port is not None:  # started, then died: never acceptable
            raise AssertionError("the receiver died (rc %s):\n%s"
                                 % (self.proc.returncode, self.stderr()))

    def alive(self):
        return self.proc.poll() is None

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def url(self, path="/"):
        return "%s://127.0.0.1:%d%s" % ("https" if self.tls else "http", self.port, path)

    def requests(self):
        path = os.path.join(self.store, "requests.log")
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f]

    def files(self):
        return sorted(n for n in os.listdir(self.store)
                      if n.endswith(".ndjson") or n.endswith(".ndjson.zst"))

    def read(self, name):
        with open(os.path.join(self.store, name), "rb") as f:
            return f.read()


def ssl_context(cafile=None, client=False):
    ctx = ssl.create_default_context(cafile=cafile or os.path.join(CA, "ca.pem"))
    if client:
        ctx.load_cert_chain(os.path.join(CA, "client.pem"), os.path.join(CA, "client.key"))
    return ctx


def request(rcv, path="/", body=b"", headers=None, method="POST", ctx=None, proxy=None,
            timeout=20):
    """urllib; returns (status, headers, body) for any status; raises on network errors."""
    handlers = [urllib.request.ProxyHandler({"https": proxy, "http": proxy} if proxy else {})]
    if rcv.tls:
        handlers.append(urllib.request.HTTPSHandler(context=ctx or ssl_context()))
    opener = urllib.request.build_opener(*handlers)
    req = urllib.request.Request(rcv.url(path), data=body if method != "GET" else None,
                                 method=method, headers=headers or {})
    try:
        with opener.open(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.headers, e.read()


def post(rcv, body, key=None, path="/", headers=None, **kw):
    h = {"Content-Type": "application/x-ndjson"}
    if key:
        h["Idempotency-Key"] = key
    h.update(headers or {})
    return request(rcv, path, body, h, **kw)


def stats(rcv, ctx=None):
    status, _, body = request(rcv, "/_stats", method="GET", ctx=ctx)
    assert status == 200, status
    return json.loads(body)


def set_faults(rcv, rules, ctx=None):
    status, _, body = request(rcv, "/_faults", json.dumps(rules).encode(),
                              {"Content-Type": "application/json"}, ctx=ctx)
    return status, json.loads(body)


def curl(*args, data=None, timeout=20):
    """Runs curl (no ~/.curlrc, no proxy from the environment); returns
    (exit code, HTTP status as int or 0, response headers text, body bytes)."""
    with tempfile.TemporaryDirectory(dir=WORK) as d:
        body_path, head_path = os.path.join(d, "body"), os.path.join(d, "head")
        argv = [CURL, "-q", "-sS", "--max-time", str(timeout), "-o", body_path,
                "-D", head_path, "-w", "%{http_code}"]
        if data is not None:
            data_path = os.path.join(d, "data")
            with open(data_path, "wb") as f:
                f.write(data)
            argv += ["--data-binary", "@" + data_path]
        argv += list(args)
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=clean_env(), timeout=timeout + 10)
        code = p.stdout.decode().strip()
        head, body = "", b""
        if os.path.exists(head_path):
            with open(head_path, encoding="latin-1") as f:
                head = f.read()
        if os.path.exists(body_path):
            with open(body_path, "rb") as f:
                body = f.read()
    return p.returncode, int(code) if code.isdigit() else 0, head, body


def need_curl(test):
    if CURL is None:
        test.skipTest("no curl command (apt-get install curl; scripts/test.sh installs it)")


def cacert(name="ca.pem"):
    return ["--cacert", os.path.join(CA, name)]


NDJSON = b'{"message":"one","stream":"app"}\n{"message":"two","stream":"app"}\n'


class CaScriptTest(unittest.TestCase):
    def test_files_pins_and_idempotence(self):
        names = ["ca", "other-ca", "server", "client", "other-server", "wrong-host"]
        for n in names:
            for ext in (".pem", ".key"):
                self.assertTrue(os.path.getsize(os.path.join(CA, n + ext)) > 0, n + ext)
        for n in ("server", "other-server", "wrong-host"):
            with open(os.path.join(CA, n + ".pin")) as f:
                self.assertRegex(f.read(), r"^sha256//[A-Za-z0-9+/]{43}=\n$")
        before = {n: os.stat(os.path.join(CA, n)).st_mtime_ns for n in os.listdir(CA)}
        out = subprocess.run([script("make-test-ca.sh"), CA], check=True,
                             stdout=subprocess.PIPE).stdout.decode()
        after = {n: os.stat(os.path.join(CA, n)).st_mtime_ns for n in os.listdir(CA)}
        self.assertEqual(before, after, "a second run must change nothing")
        with open(os.path.join(CA, "server.pin")) as f:
            self.assertEqual(out.strip().splitlines()[-1], f.read().strip())

        def verify(ca, *certs):
            return subprocess.run(["openssl", "verify", "-CAfile", os.path.join(CA, ca)]
                                  + [os.path.join(CA, c) for c in certs],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT).returncode
        self.assertEqual(verify("ca.pem", "server.pem", "client.pem", "wrong-host.pem"), 0)
        self.assertEqual(verify("other-ca.pem", "other-server.pem"), 0)
        self.assertNotEqual(verify("ca.pem", "other-server.pem"), 0)
        text = subprocess.run(["openssl", "x509", "-noout", "-text", "-in",
                               os.path.join(CA, "wrong-host.pem")],
                              stdout=subprocess.PIPE, check=True).stdout.decode()
        self.assertIn("DNS:wrong.example", text)
        self.assertNotIn("127.0.0.1", text)
        self.assertIn("prime256v1", text)

    def test_force_makes_a_new_set(self):
        d = os.path.join(WORK, "ca-force")
        subprocess.run([script("make-test-ca.sh"), d], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(d, "ca.pem")) as f:
            first = f.read()
        subprocess.run([script("make-test-ca.sh"), d, "--force"], check=True,
                       stdout=subprocess.DEVNULL)
        with open(os.path.join(d, "ca.pem")) as f:
            self.assertNotEqual(first, f.read())
        self.assertFalse([n for n in os.listdir(d) if n.startswith(".")], "temp dir left")


class ReceiverTest(unittest.TestCase):
    def test_store_and_requests_log(self):
        need_curl(self)
        rcv = Receiver(self)
        rc, code, _, body = curl(*cacert(), "-H", "Content-Type: application/x-ndjson",
                                 "-H", "Idempotency-Key: agent1-0001",
                                 "-A", "outpost/0.0.0 (linux; x86_64)",
                                 rcv.url("/ingest?x=1"), data=NDJSON)
        self.assertEqual((rc, code), (0, 200), rcv.stderr())
        self.assertEqual(json.loads(body)["accepted"], True)
        self.assertEqual(rcv.files(), ["000001-agent1-0001.ndjson"])
        self.assertEqual(rcv.read("000001-agent1-0001.ndjson"), NDJSON)
        [entry] = rcv.requests()
        for k in ("seq", "time", "time_done", "method", "path", "query", "status",
                  "idempotency_key", "content_encoding", "content_type", "user_agent",
                  "authorization", "bytes", "duplicate", "file", "fault", "tls"):
            self.assertIn(k, entry)
        self.assertIsInstance(entry["time"], float)
        self.assertLessEqual(entry["time"], entry["time_done"])
        self.assertLess(abs(entry["time"] - time.time()), 60)
        self.assertEqual((entry["method"], entry["path"], entry["query"], entry["status"]),
                         ("POST", "/ingest", "x=1", 200))
        self.assertEqual(entry["idempotency_key"], "agent1-0001")
        self.assertEqual(entry["content_type"], "application/x-ndjson")
        self.assertEqual(entry["user_agent"], "outpost/0.0.0 (linux; x86_64)")
        self.assertIs(entry["authorization"], False)
        self.assertEqual(entry["bytes"], len(NDJSON))
        self.assertIs(entry["tls"], True)
        self.assertRegex(rcv.stderr(), r"POST /ingest -> 200 key=agent1-0001")

    def test_gzip_and_zstd_bodies(self):
        rcv = Receiver(self)
        status, _, _ = post(rcv, gzip.compress(NDJSON), "k-gzip",
                            headers={"Content-Encoding": "gzip"})
        self.assertEqual(status, 200, rcv.stderr())
        self.assertEqual(rcv.read("000001-k-gzip.ndjson"), NDJSON)
        z = zstd_compress(NDJSON)
        if z is None:
            self.skipTest("neither the zstandard module nor the zstd command")
        status, _, _ = post(rcv, z, "k-zstd", headers={"Content-Encoding": "zstd"})
        self.assertEqual(status, 200, rcv.stderr())
        self.assertEqual(rcv.read("000002-k-zstd.ndjson"), NDJSON)
        # Two frames back to back are one body.
        status, _, _ = post(rcv, z + zstd_compress(b'{"message":"three"}\n'), "k-frames",
                            headers={"Content-Encoding": "zstd"})
        self.assertEqual(status, 200)
        self.assertEqual(rcv.read("000003-k-frames.ndjson"), NDJSON + b'{"message":"three"}\n')
        entries = rcv.requests()
        self.assertEqual([e["content_encoding"] for e in entries], ["gzip", "zstd", "zstd"])
        self.assertTrue(all(e["decoded"] for e in entries))
        self.assertEqual(entries[1]["decoded_bytes"], len(NDJSON))
        self.assertIn(stats(rcv)["zstd_decoder"], ("module", "cli"))

    def test_without_a_zstd_decoder_raw_bodies_are_stored(self):
        z = zstd_compress(NDJSON)
        if z is None:
            self.skipTest("neither the zstandard module nor the zstd command")
        rcv = Receiver(self, "--zstd-decoder", "none")
        self.assertIn("stored raw", rcv.stderr())
        status, _, _ = post(rcv, z, "raw", headers={"Content-Encoding": "zstd"})
        self.assertEqual(status, 200)
        self.assertEqual(rcv.files(), ["000001-raw.ndjson.zst"])
        self.assertEqual(rcv.read("000001-raw.ndjson.zst"), z)
        self.assertIs(rcv.requests()[0]["decoded"], False)
        self.assertEqual(stats(rcv)["zstd_decoder"], "unavailable")

    def test_dedup_by_idempotency_key_survives_a_restart(self):
        store = os.path.join(WORK, "dedup-store")
        rcv = Receiver(self, store=store)
        for key in ("a-1", "a-1", "a-2"):
            status, _, body = post(rcv, NDJSON, key)
            self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["duplicate"], False)
        self.assertEqual(rcv.files(), ["000001-a-1.ndjson", "000003-a-2.ndjson"])
        self.assertEqual([e["duplicate"] for e in rcv.requests()], [False, True, False])
        st = stats(rcv)
        self.assertEqual((st["received"], st["stored"], st["duplicates"]), (3, 2, 1))
        rcv.stop()
        again = Receiver(self, store=store)
        status, _, body = post(again, NDJSON, "a-2")
        self.assertEqual((status, json.loads(body)["duplicate"]), (200, True))
        status, _, _ = post(again, NDJSON, "a-3")
        self.assertEqual(again.files(), ["000001-a-1.ndjson", "000003-a-2.ndjson",
                                         "000005-a-3.ndjson"])

    def test_token(self):
        rcv = Receiver(self, "--token", TOKEN)
        status, headers, _ = post(rcv, NDJSON, "t-1")
        self.assertEqual(status, 401)
        self.assertIn("Bearer", headers["WWW-Authenticate"])
        status, _, _ = post(rcv, NDJSON, "t-1", headers={"Authorization": "Bearer wrong"})
        self.assertEqual(status, 401)
        self.assertEqual(rcv.files(), [], "nothing stored without the token")
        status, _, _ = post(rcv, NDJSON, "t-1", headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(status, 200)
        status, _, body = post(rcv, NDJSON, "t-2", path="/services/collector/event",
                               headers={"Authorization": "Splunk " + TOKEN})
        self.assertEqual((status, json.loads(body)), (200, {"text": "Success", "code": 0}))
        entries = rcv.requests()
        self.assertEqual([e["status"] for e in entries], [401, 401, 200, 200])
        self.assertEqual([e["authorization"] for e in entries], [False, True, True, True])
        self.assertEqual(entries[3]["auth_scheme"], "Splunk")
        with open(os.path.join(rcv.store, "requests.log")) as f:
            self.assertNotIn(TOKEN, f.read())
        self.assertNotIn(TOKEN, rcv.stderr())
        self.assertEqual(stats(rcv)["by_status"], {"401": 2, "200": 2})

    def test_500_twice_then_200(self):
        rcv = Receiver(self)
        self.assertEqual(set_faults(rcv, [{"count": 2, "status": 500}]), (200, {"rules": 1}))
        got = [post(rcv, NDJSON, "f-1")[0] for _ in range(3)]
        self.assertEqual(got, [500, 500, 200])
        self.assertEqual(rcv.files(), ["000003-f-1.ndjson"])
        entries = rcv.requests()
        self.assertEqual([e["fault"] for e in entries],
                         [{"rule": 0, "action": "respond"}] * 2 + [None])
        st = stats(rcv)
        self.assertEqual((st["by_status"], st["faults_left"], st["duplicates"]),
                         ({"500": 2, "200": 1}, 0, 0))

    def test_faults_file_resets_then_recovers(self):
        need_curl(self)
        rules = os.path.join(WORK, "reset-rules.json")
        with open(rules, "w") as f:
            json.dump([{"count": 2, "action": "reset"}], f)
        rcv = Receiver(self, "--faults", rules)
        rc, code, _, _ = curl(*cacert(), "-H", "Idempotency-Key: r-1", rcv.url(), data=NDJSON)
        self.assertNotEqual(rc, 0)
        self.assertEqual(code, 0, "a reset sends no answer")
        with self.assertRaises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
            post(rcv, NDJSON, "r-1")
        status, _, _ = post(rcv, NDJSON, "r-1")
        self.assertEqual(status, 200)
        self.assertEqual(rcv.files(), ["000003-r-1.ndjson"])
        entries = rcv.requests()
        self.assertEqual([e["status"] for e in entries], [None, None, 200])
        self.assertEqual(entries[0]["fault"], {"rule": 0, "action": "reset"})
        self.assertEqual(stats(rcv)["by_status"], {"reset": 2, "200": 1})

    def test_reset_after_store_makes_a_duplicate(self):
        rcv = Receiver(self)
        set_faults(rcv, [{"count": 1, "action": "reset", "after_store": True}])
        with self.assertRaises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
            post(rcv, NDJSON, "s-1")
        self.assertEqual(rcv.files(), ["000001-s-1.ndjson"])
        status, _, body = post(rcv, NDJSON, "s-1")
        self.assertEqual((status, json.loads(body)["duplicate"]), (200, True))
        self.assertEqual(rcv.files(), ["000001-s-1.ndjson"])

    def test_429_with_retry_after(self):
        rcv = Receiver(self)
        set_faults(rcv, [{"count": 1, "status": 429, "retry_after": "2"},
                         {"count": 1, "status": 503, "retry_after": 7}])
        status, headers, _ = post(rcv, NDJSON, "q-1")
        self.assertEqual((status, headers["Retry-After"]), (429, "2"))
        if CURL:
            rc, code, head, _ = curl(*cacert(), rcv.url(), data=NDJSON)
            self.assertEqual((rc, code), (0, 503))
            self.assertRegex(head, r"(?im)^Retry-After: 7\r?$")
        status, headers, _ = post(rcv, NDJSON, "q-1")
        self.assertEqual(status, 200)
        self.assertIsNone(headers["Retry-After"])

    def test_413_only_over_a_size(self):
        rcv = Receiver(self)
        set_faults(rcv, [{"count": 1, "status": 413, "if_bytes_over": 1000}])
        self.assertEqual(post(rcv, b"x" * 100 + b"\n", "b-1")[0], 200)
        self.assertEqual(post(rcv, b"x" * 2000 + b"\n", "b-2")[0], 413)
        self.assertEqual(post(rcv, b"x" * 2000 + b"\n", "b-2")[0], 200)
        self.assertEqual(rcv.files(), ["000001-b-1.ndjson", "000003-b-2.ndjson"])

    def test_stall_then_answer(self):
        rcv = Receiver(self)
        set_faults(rcv, [{"count": 1, "action": "stall", "seconds": 1.0},
                         {"count": 1, "action": "stall", "seconds": 0.5, "status": 503},
                         {"count": -1, "status": 400, "if_path": "/bad"}])
        t0 = time.monotonic()
        self.assertEqual(post(rcv, NDJSON, "st-1")[0], 200)
        self.assertGreaterEqual(time.monotonic() - t0, 1.0)
        t0 = time.monotonic()
        self.assertEqual(post(rcv, NDJSON, "st-2")[0], 503)
        self.assertGreaterEqual(time.monotonic() - t0, 0.5)
        for _ in range(3):  # count -1: for ever, on its path only
            self.assertEqual(post(rcv, NDJSON, path="/bad")[0], 400)
        self.assertEqual(post(rcv, NDJSON, "st-2")[0], 200)
        self.assertEqual(stats(rcv)["faults_left"], 1)
        first = rcv.requests()[0]
        self.assertGreaterEqual(first["time_done"] - first["time"], 1.0)

    def test_bad_fault_rules_are_refused(self):
        rcv = Receiver(self)
        for rules in ({"count": 1}, [{"count": 1}], [{"count": 1, "status": 500, "stauts": 1}],
                      [{"count": 0, "status": 500}], [{"action": "reset", "status": 500}],
                      [{"action": "stall"}], [{"status": 99}]):
            status, body = set_faults(rcv, rules)
            self.assertEqual(status, 400, rules)
            self.assertTrue(body["error"])
        bad = os.path.join(WORK, "bad-rules.json")
        with open(bad, "w") as f:
            f.write("[{\"count\": 1, \"action\": \"explode\"}]")
        broken = Receiver(self, "--faults", bad, check_start=False)
        self.assertNotEqual(broken.proc.wait(15), 0)
        self.assertIn("action must be one of", broken.stderr())

    def test_protocol_shaped_answers(self):
        rcv = Receiver(self)
        status, _, body = post(rcv, b"{}", "p-1", path="/loki/api/v1/push",
                               headers={"Content-Type": "application/json"})
        self.assertEqual((status, body), (204, b""))
        status, _, body = post(rcv, b"{}", "p-2", path="/v1/logs")
        self.assertEqual((status, json.loads(body)), (200, {"partialSuccess": {}}))
        bulk = (b'{"create":{"_index":"logs"}}\n{"message":"a"}\n'
                b'{"create":{"_index":"logs"}}\n{"message":"b"}\n')
        status, _, body = post(rcv, bulk, "p-3", path="/_bulk")
        answer = json.loads(body)
        self.assertEqual((status, answer["errors"], len(answer["items"])), (200, False, 2))
        self.assertEqual(answer["items"][0]["create"]["status"], 201)
        # Partial failure: item statuses cycled; only the 2xx items stored; the key may
        # come again (not a duplicate).
        set_faults(rcv, [{"count": 1, "item_status": [201, 429]}])
        status, _, body = post(rcv, bulk, "p-4", path="/logs/_bulk")
        answer = json.loads(body)
        self.assertEqual((status, answer["errors"]), (200, True))
        self.assertEqual([i["create"]["status"] for i in answer["items"]], [201, 429])
        self.assertIn("error", answer["items"][1]["create"])
        self.assertEqual(rcv.read("000004-p-4.ndjson"),
                         b'{"create":{"_index":"logs"}}\n{"message":"a"}\n')
        status, _, body = post(rcv, b'{"create":{}}\n{"message":"b"}\n', "p-4",
                               path="/logs/_bulk")
        self.assertEqual((status, json.loads(body)["errors"]), (200, False))
        self.assertIn("000005-p-4.ndjson", rcv.files())
        self.assertEqual([e["path"] for e in rcv.requests()],
                         ["/loki/api/v1/push", "/v1/logs", "/_bulk", "/logs/_bulk",
                          "/logs/_bulk"])
        self.assertEqual(rcv.requests()[3]["item_errors"], 1)

    def test_bad_requests_never_kill_it(self):
        rcv = Receiver(self)
        ctx = ssl_context()

        def raw(data, read=True):
            with socket.create_connection(("127.0.0.1", rcv.port), timeout=10) as s:
                with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                    t.sendall(data)
                    if not read:
                        return b""
                    out = b""
                    while True:
                        try:
                            chunk = t.recv(65536)
                        except (ConnectionError, ssl.SSLError):
                            break
                        if not chunk:
                            break
                        out += chunk
                    return out

        self.assertIn(b" 400 ", raw(b"NONSENSE\r\n\r\n"))
        self.assertIn(b" 400 ", raw(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                                    b"\r\n\r\nzz\r\n"))
        self.assertIn(b" 400 ", raw(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -3\r\n\r\n"))
        self.assertIn(b" 411 ", raw(b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        raw(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort", read=False)
        for enc, status in (("gzip", 400), ("zstd", 400), ("br", 415)):
            got, _, body = post(rcv, b"not compressed", headers={"Content-Encoding": enc})
            if enc == "zstd" and stats(rcv)["zstd_decoder"] == "unavailable":
                continue
            self.assertEqual(got, status, (enc, body))
        self.assertEqual(request(rcv, "/", method="GET")[0], 405)
        # Not TLS at all on the TLS port, and a connection closed at once.
        with socket.create_connection(("127.0.0.1", rcv.port), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                s.recv(100)
            except ConnectionError:
                pass
        socket.create_connection(("127.0.0.1", rcv.port), timeout=10).close()
        deadline = time.monotonic() + 5
        while stats(rcv)["tls_errors"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertGreaterEqual(stats(rcv)["tls_errors"], 1)
        self.assertEqual(post(rcv, NDJSON, "still-alive")[0], 200)
        self.assertTrue(rcv.alive())
        self.assertIn("still-alive", " ".join(rcv.files()))

    def test_keep_alive_across_faults_and_errors(self):
        rcv = Receiver(self, "--token", TOKEN)
        set_faults(rcv, [{"count": 1, "status": 500},
                         {"count": 1, "status": 413, "if_bytes_over": 5000}])
        conn = http.client.HTTPSConnection("127.0.0.1", rcv.port, context=ssl_context(),
                                           timeout=20)
        self.addCleanup(conn.close)
        auth = {"Authorization": "Bearer " + TOKEN}
        got = []
        for key, body, headers in (("k-1", NDJSON, auth), ("k-1", NDJSON, {}),
                                   ("k-1", NDJSON, auth), ("k-2", b"y" * 9000, auth),
                                   ("k-2", b"y" * 9000, auth), ("k-1", NDJSON, auth)):
            conn.request("POST", "/", body, {"Idempotency-Key": key, **headers})
            resp = conn.getresponse()
            resp.read()
            got.append(resp.status)
            if len(got) == 1:
                sock = conn.sock
            self.assertIs(conn.sock, sock, "the connection is kept")
        self.assertEqual(got, [500, 401, 200, 413, 200, 200])
        self.assertEqual(rcv.files(), ["000003-k-1.ndjson", "000005-k-2.ndjson"])

    def test_concurrent_requests(self):
        import threading
        rcv = Receiver(self)
        set_faults(rcv, [{"count": 1, "action": "stall", "seconds": 3, "if_path": "/slow"}])
        results = []

        def send(key, path="/"):
            results.append((key, post(rcv, NDJSON, key, path=path)[0]))
        slow = threading.Thread(target=send, args=("slow", "/slow"))
        slow.start()
        time.sleep(0.2)
        t0 = time.monotonic()
        threads = [threading.Thread(target=send, args=("same",)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertLess(time.monotonic() - t0, 2.5, "a stalled request holds up no other")
        slow.join()
        self.assertEqual(sorted(results), [("same", 200)] * 8 + [("slow", 200)])
        self.assertEqual(len([f for f in rcv.files() if f.endswith("-same.ndjson")]), 1)
        self.assertEqual(stats(rcv)["duplicates"], 7)

    def test_large_body_with_expect_100_continue(self):
        need_curl(self)
        rcv = Receiver(self)
        big = NDJSON * 40000  # > 1 MiB: curl sends Expect: 100-continue
        rc, code, _, _ = curl(*cacert(), "-H", "Idempotency-Key: big", "-H",
                              "Content-Encoding: gzip", rcv.url(), data=gzip.compress(big))
        self.assertEqual((rc, code), (0, 200), rcv.stderr())
        self.assertEqual(rcv.read("000001-big.ndjson"), big)
        rcv2 = Receiver(self, "--max-body-bytes", "1000")
        rc, code, _, _ = curl(*cacert(), rcv2.url(), data=big)
        self.assertEqual(code, 413)
        self.assertEqual(rcv2.files(), [])

    def test_chunked_upload_over_plain_http(self):
        need_curl(self)
        rcv = Receiver(self, tls=False)
        rc, code, _, _ = curl("-H", "Transfer-Encoding: chunked", "-H", "Idempotency-Key: c-1",
                              rcv.url("/v1/logs"), data=NDJSON * 50)
        self.assertEqual((rc, code), (0, 200), rcv.stderr())
        self.assertEqual(rcv.read("000001-c-1.ndjson"), NDJSON * 50)
        self.assertIs(rcv.requests()[0]["tls"], False)

    def test_refuses_other_bind_addresses(self):
        for addr in ("0.0.0.0", "localhost", "::1", "192.168.1.1"):
            p = subprocess.run([sys.executable, script("dev-receiver.py"), "--bind", addr,
                                "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=20)
            self.assertEqual(p.returncode, 2, addr)
            self.assertIn(b"127.0.0.1 only", p.stderr)


class TlsTest(unittest.TestCase):
    def setUp(self):
        need_curl(self)

    def test_unknown_ca_and_pins(self):
        rcv = Receiver(self)
        self.assertEqual(curl(*cacert(), rcv.url("/_stats"))[:2], (0, 200))
        self.assertEqual(curl(*cacert(), rcv.url("/_stats").replace("127.0.0.1", "localhost"))[:2],
                         (0, 200))
        self.assertEqual(curl(*cacert("other-ca.pem"), rcv.url("/_stats"))[0], 60)
        self.assertEqual(curl(rcv.url("/_stats"))[0], 60, "not trusted by the system CAs")
        with open(os.path.join(CA, "server.pin")) as f:
            good = f.read().strip()
        with open(os.path.join(CA, "other-server.pin")) as f:
            bad = f.read().strip()
        self.assertEqual(curl(*cacert(), "--pinnedpubkey", good, rcv.url("/_stats"))[:2],
                         (0, 200))
        self.assertEqual(curl(*cacert(), "--pinnedpubkey", bad, rcv.url("/_stats"))[0], 90)
        with self.assertRaises(urllib.error.URLError):
            request(rcv, "/_stats", method="GET", ctx=ssl_context(os.path.join(CA, "other-ca.pem")))

    def test_server_cert_from_the_other_ca(self):
        rcv = Receiver(self, "--cert-name", "other-server")
        self.assertEqual(curl(*cacert(), rcv.url("/_stats"))[0], 60)
        self.assertEqual(curl(*cacert("other-ca.pem"), rcv.url("/_stats"))[:2], (0, 200))

    def test_wrong_host(self):
        rcv = Receiver(self, "--cert-name", "wrong-host")
        self.assertEqual(curl(*cacert(), rcv.url("/_stats"))[0], 60)
        with self.assertRaises(urllib.error.URLError):
            request(rcv, "/_stats", method="GET")
        # The certificate itself is fine: valid for wrong.example (still 127.0.0.1).
        self.assertEqual(curl(*cacert(), "--resolve", "wrong.example:%d:127.0.0.1" % rcv.port,
                              "https://wrong.example:%d/_stats" % rcv.port)[:2], (0, 200))

    def test_mtls(self):
        rcv = Receiver(self, "--require-client-cert")
        rc, code, _, _ = curl(*cacert(), "-H", "Idempotency-Key: m-0", rcv.url(), data=NDJSON)
        self.assertNotEqual(rc, 0)
        self.assertEqual(code, 0)
        with self.assertRaises((urllib.error.URLError, ConnectionError, ssl.SSLError)):
            post(rcv, NDJSON, "m-0")
        client = ["--cert", os.path.join(CA, "client.pem"), "--key", os.path.join(CA, "client.key")]
        rc, code, _, _ = curl(*cacert(), *client, "-H", "Idempotency-Key: m-1", rcv.url(),
                              data=NDJSON)
        self.assertEqual((rc, code), (0, 200), rcv.stderr())
        self.assertEqual(post(rcv, NDJSON, "m-2", ctx=ssl_context(client=True))[0], 200)
        self.assertEqual(rcv.files(), ["000001-m-1.ndjson", "000002-m-2.ndjson"])
        self.assertEqual(rcv.requests()[0]["client_cert"], "outpost-test-client")
        self.assertGreaterEqual(stats(rcv, ctx=ssl_context(client=True))["tls_errors"], 2)

    def test_tls_1_2_only(self):
        rcv = Receiver(self, "--tls-max-version", "1.2")
        self.assertEqual(curl(*cacert(), "--tlsv1.2", rcv.url("/_stats"))[:2], (0, 200))
        self.assertNotEqual(curl(*cacert(), "--tlsv1.3", rcv.url("/_stats"))[0], 0)


class ProxyTest(unittest.TestCase):
    def test_connect_to_127_0_0_1_only(self):
        need_curl(self)
        rcv = Receiver(self)
        proxy = Receiver(self, proxy=True, store=os.path.join(WORK, "proxy-store"))
        via = ["-x", "http://127.0.0.1:%d" % proxy.port]
        rc, code, _, _ = curl(*via, *cacert(), "-H", "Idempotency-Key: x-1", rcv.url(),
                              data=NDJSON)
        self.assertEqual((rc, code), (0, 200), proxy.stderr())
        rc, code, _, _ = curl(*via, *cacert(), "-H", "Idempotency-Key: x-2",
                              rcv.url().replace("127.0.0.1", "localhost"), data=NDJSON)
        self.assertEqual((rc, code), (0, 200), proxy.stderr())
        status, _, _ = post(rcv, NDJSON, "x-3", proxy="http://127.0.0.1:%d" % proxy.port)
        self.assertEqual(status, 200)
        self.assertEqual(rcv.files(), ["000001-x-1.ndjson", "000002-x-2.ndjson",
                                       "000003-x-3.ndjson"])
        # Refused: another host (never resolved, never connected), a plain HTTP request.
        rc, _, _, _ = curl(*via, *cacert(), "https://example.invalid:%d/" % rcv.port)
        self.assertNotEqual(rc, 0)
        rc, code, _, _ = curl(*via, "http://127.0.0.1:%d/" % rcv.port)
        self.assertEqual(code, 405)
        with open(os.path.join(proxy.store, "proxy.log")) as f:
            log = [json.loads(line) for line in f]
        self.assertEqual([(e["method"], e["target"], e["status"], e["allowed"]) for e in log],
                         [("CONNECT", "127.0.0.1:%d" % rcv.port, 200, True),
                          ("CONNECT", "localhost:%d" % rcv.port, 200, True),
                          ("CONNECT", "127.0.0.1:%d" % rcv.port, 200, True),
                          ("CONNECT", "example.invalid:%d" % rcv.port, 403, False),
                          ("GET", "http://127.0.0.1:%d/" % rcv.port, 405, False)])
        self.assertIsInstance(log[0]["time"], float)

    def test_proxy_credentials(self):
        need_curl(self)
        rcv = Receiver(self)
        proxy = Receiver(self, "--proxy-user", "alice:s3cret", proxy=True)
        via = ["-x", "http://127.0.0.1:%d" % proxy.port]
        rc, _, _, _ = curl(*via, *cacert(), rcv.url("/_stats"))
        self.assertNotEqual(rc, 0)
        self.assertIn("-> 407", proxy.stderr())
        rc, code, _, _ = curl(*via, "--proxy-user", "alice:s3cret", *cacert(), rcv.url("/_stats"))
        self.assertEqual((rc, code), (0, 200), proxy.stderr())
        self.assertNotIn("s3cret", proxy.stderr())


def main():
    global ARGS
    parser = argparse.ArgumentParser(description="dev-receiver.py and make-test-ca.sh self-test")
    parser.add_argument("--source-dir", default=os.path.join(os.path.dirname(__file__), "..", ".."),
                        help="the source tree")
    parser.add_argument("--emulator", default="", help="set for a cross build: the test is skipped")
    ARGS, rest = parser.parse_known_args()
    ARGS.source_dir = os.path.abspath(ARGS.source_dir)
    program = unittest.main(argv=[sys.argv[0], *rest], exit=False)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())

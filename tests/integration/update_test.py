#!/usr/bin/env python3
"""Self-update end to end: the real binary fetches a feed signed with the real `minisign`
tool from an HTTPS server on 127.0.0.1 (test CA from scripts/make-test-ca.sh), and
checks, applies, resumes, refuses and rolls back.

    python3 update_test.py --binary build/dev/app/outpost --source-dir . [-v]

The binary being updated is a stand-in in a temporary directory (the hidden --binary
option), never the build's own. The "new" release is a small executable script that
answers --self-test like outpost does. POSIX only (the test skips itself under the
Windows emulator). Standard library only, plus the minisign and openssl commands.
"""
import argparse
import datetime
import hashlib
import http.server
import json
import os
import shutil
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

ARGS = None
WORK = None
CA = None
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "ThreadSanitizer", "UndefinedBehaviorSanitizer",
                     "runtime error:")


def script(name):
    return os.path.join(ARGS.source_dir, "scripts", name)


def new_binary(version, exit_code=0):
    return ("#!/bin/sh\nif [ \"$1\" = --self-test ]; then echo 'outpost %s'; echo 'self-test: ok';"
            " exit %d; fi\necho 'new binary %s'\n" % (version, exit_code, version)).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves the site directory with Range support, and faults by path prefix:
    /cut/NAME sends half of NAME then closes; /endless/NAME never stops sending;
    /slow/NAME trickles 100 bytes a second."""
    server_version = "update-test"

    def log_message(self, *a):
        pass

    def do_GET(self):
        self.server.requests.append((self.path, self.headers.get("Range")))
        path = self.path
        mode = ""
        for prefix in ("/cut/", "/endless/", "/slow/"):
            if path.startswith(prefix):
                mode, path = prefix.strip("/"), "/" + path[len(prefix):]
        full = os.path.join(self.server.site, path.lstrip("/"))
        if mode == "endless":
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(100000):
                    self.wfile.write(b"x" * 65536)
            except OSError:
                pass
            return
        if not os.path.isfile(full):
            self.send_error(404)
            return
        with open(full, "rb") as f:
            data = f.read()
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "slow":  # 100 bytes a second: far below the agent's floor
            try:
                for i in range(0, len(body), 100):
                    self.wfile.write(body[i:i + 100])
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass
            return
        if mode == "cut":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


class Site:
    def __init__(self, root):
        self.root = root
        os.makedirs(root, exist_ok=True)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(CA, "server.pem"), os.path.join(CA, "server.key"))
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.httpd.site = root
        self.httpd.requests = []
        self.url = "https://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@unittest.skipUnless(os.name == "posix", "POSIX only")
class UpdateTest(unittest.TestCase):
    def setUp(self):
        if ARGS.emulator:
            self.skipTest("the update tests run the POSIX build; the Windows swap is compiled only")
        self.tmp = tempfile.TemporaryDirectory(prefix="outpost-update-")
        self.dir = self.tmp.name
        self.site = Site(os.path.join(self.dir, "site"))
        self.key = os.path.join(self.dir, "key")
        subprocess.run(["minisign", "-G", "-W", "-f", "-p", self.key + ".pub", "-s", self.key],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(self.key + ".pub") as f:
            self.pub = f.read().splitlines()[1]
        self.bindir = os.path.join(self.dir, "bin")
        os.mkdir(self.bindir)
        self.installed = os.path.join(self.bindir, "outpost")
        with open(self.installed, "wb") as f:
            f.write(new_binary("0.1.0"))
        os.chmod(self.installed, 0o755)
        self.state = os.path.join(self.dir, "state")
        self.write_config()
        self.seq = 0

    def tearDown(self):
        self.site.close()
        self.tmp.cleanup()

    def write_config(self, extra=""):
        with open(os.path.join(self.dir, "outpost.toml"), "w") as f:
            f.write('[agent]\nstate_dir = "%s"\n\n[update]\nurl = "%s"\npublic_keys = ["%s"]\n'
                    'ca_file = "%s"\n%s' % (self.state, self.site.url, self.pub,
                                            os.path.join(CA, "ca.pem"), extra))

    def publish(self, version="99.0.0", body=None, url=None, size=None, sha=None, expires_days=7,
                sign=True, channel="stable", extra=None):
        """Writes site/<name> and site/stable.json(.minisig); returns the binary's bytes."""
        body = new_binary(version) if body is None else body
        name = "outpost-%s" % version
        with open(os.path.join(self.site.root, name), "wb") as f:
            f.write(body)
        self.seq += 1
        expires = (datetime.datetime.now(datetime.timezone.utc) +
                   datetime.timedelta(days=expires_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        feed = {
            "schema": 1, "channel": channel, "seq": self.seq, "keyset_epoch": 1,
            "issued_at": "2026-01-01T00:00:00Z", "expires": expires,
            "release": {
                "version": version, "min_version": "0.0.0", "critical": False,
                "rollout": {"percent": 100, "salt": "s"},
                "targets": [{"os": "linux", "arch": os.uname().machine,
                             "url": url or name,
                             "size": size if size is not None else len(body),
                             "sha256": sha or hashlib.sha256(body).hexdigest()}],
            },
        }
        if extra:
            feed.update(extra)
        path = os.path.join(self.site.root, "stable.json")
        with open(path, "w") as f:
            json.dump(feed, f)
        sig = path + ".minisig"
        if os.path.exists(sig):
            os.unlink(sig)
        if sign:
            comment = "outpost-feed schema=1 channel=%s seq=%d expires=%s" % (channel, self.seq,
                                                                              expires)
            subprocess.run(["minisign", "-S", "-s", self.key, "-m", path, "-t", comment],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return body

    def outpost(self, *args, env=None):
        argv = [ARGS.binary, "--config", os.path.join(self.dir, "outpost.toml"), *args]
        if args and args[0] == "update":
            argv += ["--binary", self.installed]
        p = subprocess.run(argv, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120, text=True, errors="replace",
                           env=dict(os.environ, **(env or {})))
        for marker in SANITIZER_MARKERS:
            self.assertNotIn(marker, p.stderr, p.stderr[-4000:])
        return p

    def update(self, verb, *args):
        p = self.outpost("update", verb, "--json", *args)
        try:
            j = json.loads(p.stdout) if p.stdout.strip() else {}
        except ValueError:
            self.fail("not JSON: %r / %s" % (p.stdout, p.stderr))
        return p.returncode, j, p.stderr

    def installed_bytes(self):
        with open(self.installed, "rb") as f:
            return f.read()

    # ---- check ----

    def test_check_verifies_and_raises_the_seq(self):
        self.publish()
        rc, j, err = self.update("check")
        self.assertEqual(rc, 0, err)
        self.assertEqual(j["verdict"], "update")
        self.assertEqual(j["version"], "99.0.0")
        self.assertEqual(j["seq"], 1)
        self.assertEqual(j["target"]["url"], self.site.url + "/outpost-99.0.0")
        p = self.outpost("update", "status", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["highest_seq"], 1)
        self.assertEqual(self.installed_bytes(), new_binary("0.1.0"))  # check installs nothing

    def test_unsigned_and_wrongly_signed_feeds_are_rejected(self):
        self.publish(sign=False)
        rc, j, err = self.update("check")
        self.assertEqual(rc, 1, err)
        self.assertEqual(j["verdict"], "rejected")
        # Signed by a key that is not trusted.
        self.publish()
        other = os.path.join(self.dir, "other")
        subprocess.run(["minisign", "-G", "-W", "-f", "-p", other + ".pub", "-s", other],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(other + ".pub") as f:
            self.pub = f.read().splitlines()[1]
        self.write_config()
        rc, j, err = self.update("check")
        self.assertEqual(rc, 1, err)
        self.assertEqual(j["verdict"], "rejected")
        self.assertIn("key", j["reason"])

    def test_a_feed_that_cannot_be_fetched_exits_3(self):
        self.write_config()
        rc, j, err = self.update("check")
        self.assertEqual(rc, 3, err)
        self.assertIn("stable.json", err)

    # ---- apply ----

    def test_apply_installs_keeps_the_previous_binary_and_does_not_download_twice(self):
        body = self.publish()
        rc, j, err = self.update("apply")
        self.assertEqual(rc, 0, err)
        self.assertTrue(j["installed"], j)
        self.assertEqual(j["step"], "swapped")
        self.assertEqual(self.installed_bytes(), body)
        self.assertTrue(os.stat(self.installed).st_mode & stat.S_IXUSR)
        with open(self.installed + ".previous", "rb") as f:
            self.assertEqual(f.read(), new_binary("0.1.0"))
        self.assertFalse(os.path.exists(self.installed + ".download"))
        downloads = [r for r in self.site.httpd.requests if r[0].endswith("outpost-99.0.0")]
        self.assertEqual(len(downloads), 1)
        rc, j, err = self.update("apply")
        self.assertEqual(rc, 0, err)
        self.assertFalse(j["installed"])
        downloads = [r for r in self.site.httpd.requests if r[0].endswith("outpost-99.0.0")]
        self.assertEqual(len(downloads), 1, "installed already: not downloaded again")

    def test_an_interrupted_download_resumes_with_a_range(self):
        body = self.publish(body=new_binary("99.0.0") + b"#" * 300000, url="cut/outpost-99.0.0")
        rc, j, err = self.update("apply")
        self.assertEqual(rc, 3, err)
        partial = os.path.getsize(self.installed + ".download")
        self.assertTrue(0 < partial < len(body), partial)
        self.assertEqual(self.installed_bytes(), new_binary("0.1.0"))
        self.publish(body=body)  # the same target, now served whole
        rc, j, err = self.update("apply")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.installed_bytes(), body)
        ranges = [r[1] for r in self.site.httpd.requests if r[0] == "/outpost-99.0.0"]
        self.assertEqual(ranges, ["bytes=%d-" % partial])

    def test_a_corrupted_resumed_part_is_caught_and_downloaded_again(self):
        body = self.publish(body=new_binary("99.0.0") + b"#" * 300000, url="cut/outpost-99.0.0")
        rc, _, err = self.update("apply")
        self.assertEqual(rc, 3, err)
        with open(self.installed + ".download", "r+b") as f:
            f.write(b"garbage!")
        self.publish(body=body)
        rc, j, err = self.update("apply")
        self.assertEqual(rc, 3, err)
        self.assertIn("SHA-256", err)
        self.assertFalse(os.path.exists(self.installed + ".download"))
        self.assertEqual(self.installed_bytes(), new_binary("0.1.0"))
        rc, j, err = self.update("apply")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.installed_bytes(), body)

    def test_an_endless_or_oversize_download_is_stopped_at_its_size(self):
        self.publish(url="endless/outpost-99.0.0")
        rc, j, err = self.update("apply")
        self.assertEqual(rc, 3, err)
        self.assertIn("longer than", err)
        self.assertFalse(os.path.exists(self.installed + ".download"))
        self.assertEqual(self.installed_bytes(), new_binary("0.1.0"))

    def test_a_very_slow_download_is_given_up_and_resumed_later(self):
        body = self.publish(body=new_binary("99.0.0") + b"#" * 4000, url="slow/outpost-99.0.0")
        t0 = time.time()
        p = self.outpost("update", "apply", "--json",
                         env={"OUTPOST_TEST_UPDATE_LOW_SPEED_SECONDS": "2"})
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertLess(time.time() - t0, 30, "given up well before the 40 s it would take")
        self.assertIn("Operation too slow", p.stdout + p.stderr)
        self.assertEqual(self.installed_bytes(), new_binary("0.1.0"))
        staged = self.installed + ".download"
        self.assertTrue(0 < os.path.getsize(staged) < len(body), "the part is kept to resume")
        self.publish(body=body)  # served at full speed again: resumed, then installed
        rc, j, err = self.update("apply")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.installed_bytes(), body)
        ranges = [r for path, r in self.site.httpd.requests if path.endswith("outpost-99.0.0")]
        self.assertTrue(ranges[-1] and ranges[-1].startswith("bytes="), ranges)

    def test_an_oversize_binary_is_refused_before_downloading(self):
        self.publish(size=300 * 1024 * 1024)
        rc, j, err = self.update("apply")
        self.assertEqual(rc, 2, err)
        self.assertIn("refuses binaries over", err)
        self.assertFalse([r for r in self.site.httpd.requests if "outpost-99" in r[0]])

    def test_a_binary_that_fails_preflight_is_not_installed(self):
        for body, why in ((new_binary("98.0.0"), "says"), (new_binary("99.0.0", 3), "exited")):
            self.publish(body=body)
            rc, j, err = self.update("apply")
            self.assertEqual(rc, 3, err)
            self.assertIn("preflight", err)
            self.assertIn(why, err)
            self.assertEqual(self.installed_bytes(), new_binary("0.1.0"))
            self.assertFalse(os.path.exists(self.installed + ".download"))
        p = self.outpost("update", "status", "--json")
        self.assertEqual(json.loads(p.stdout)["journal"]["step"], "failed")

    def test_rollback_puts_the_previous_binary_back_and_blocks_the_version(self):
        body = self.publish()
        rc, _, err = self.update("apply")
        self.assertEqual(rc, 0, err)
        rc, j, err = self.update("rollback")
        self.assertEqual(rc, 0, err)
        self.assertEqual(j["blocked"], "99.0.0")
        self.assertEqual(self.installed_bytes(), new_binary("0.1.0"))
        with open(self.installed + ".previous", "rb") as f:
            self.assertEqual(f.read(), body)
        before = len(self.site.httpd.requests)
        rc, j, err = self.update("apply")
        self.assertEqual(rc, 0, err)
        self.assertFalse(j["installed"])
        self.assertTrue(j["locally_blocked"])
        self.assertFalse([r for r in self.site.httpd.requests[before:] if "outpost-99" in r[0]])
        p = self.outpost("update", "status", "--json")
        self.assertEqual(json.loads(p.stdout)["blocked"], ["99.0.0"])

    def test_apply_from_a_directory_needs_no_server(self):
        body = self.publish()
        offline = os.path.join(self.dir, "offline")
        shutil.copytree(self.site.root, offline)
        self.site.close()
        rc, j, err = self.update("check", "--from", offline)
        self.assertEqual(rc, 0, err)
        self.assertEqual(j["target"]["url"], "file://" + offline + "/outpost-99.0.0")
        rc, j, err = self.update("apply", "--from", offline)
        self.assertEqual(rc, 0, err)
        self.assertTrue(j["installed"])
        self.assertEqual(self.installed_bytes(), body)
        self.site = Site(os.path.join(self.dir, "site2"))  # for tearDown

    def test_a_kill_at_every_step_leaves_one_working_binary_and_the_next_apply_finishes(self):
        old = new_binary("0.1.0")
        for point in ("download", "verify", "preflight", "swap", "between-renames", "installed"):
            with self.subTest(point=point):
                with open(self.installed, "wb") as f:
                    f.write(old)
                for leftover in (".download", ".previous"):
                    if os.path.exists(self.installed + leftover):
                        os.unlink(self.installed + leftover)
                if os.path.exists(self.state):
                    shutil.rmtree(self.state)
                body = self.publish(body=new_binary("99.0.0") + b"#" * 200000)
                p = self.outpost("update", "apply", "--json",
                                 env={"OUTPOST_TEST_UPDATE_CRASH_AT": point})
                self.assertEqual(p.returncode, 137, p.stderr)
                # Exactly one complete binary at the installed path, old or new.
                now = self.installed_bytes()
                self.assertIn(now, (old, body))
                if point in ("download", "verify", "preflight", "swap", "between-renames"):
                    self.assertEqual(now, old)
                rc, j, err = self.update("apply")
                self.assertEqual(rc, 0, err)
                self.assertEqual(self.installed_bytes(), body)
                with open(self.installed + ".previous", "rb") as f:
                    self.assertEqual(f.read(), old)
                self.assertFalse(os.path.exists(self.installed + ".download"))
                p = self.outpost("update", "status", "--json")
                self.assertEqual(json.loads(p.stdout)["journal"]["step"], "swapped")
                if point == "download":  # the second apply resumed rather than restarted
                    ranges = [r[1] for r in self.site.httpd.requests
                              if r[0] == "/outpost-99.0.0" and r[1]]
                    self.assertTrue(ranges, self.site.httpd.requests)

    def test_release_script_publishes_a_feed_the_agent_installs(self):
        binary = os.path.join(self.dir, "built-outpost")
        with open(binary, "wb") as f:
            f.write(new_binary("99.1.0"))
        os.chmod(binary, 0o755)
        out = os.path.join(self.dir, "published")
        arch = os.uname().machine
        for expected_seq in (1, 2):  # republishing raises the seq
            p = subprocess.run([script("release.sh"), "--key", self.key, "--out", out,
                                "--no-build", "--binary", "linux-%s=%s" % (arch, binary),
                                "--binary", "windows-x86_64=%s" % binary],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(out, "stable.json")) as f:
                feed = json.load(f)
            self.assertEqual(feed["seq"], expected_seq)
        self.assertEqual(feed["release"]["version"], "99.1.0")
        self.assertEqual(sorted(t["url"] for t in feed["release"]["targets"]),
                         ["outpost-99.1.0-linux-%s" % arch, "outpost-99.1.0-windows-x86_64.exe"])
        rc, j, err = self.update("apply", "--from", out)
        self.assertEqual(rc, 0, err)
        self.assertTrue(j["installed"])
        self.assertEqual(j["seq"], 2)
        self.assertEqual(self.installed_bytes(), new_binary("99.1.0"))

    # ---- outpost run: install, restart, first start watched by the old binary ----

    def start_agent(self, extra_env=None):
        """Starts a copy of the real binary as the installed agent (`outpost run`, stderr
        to a file: a watcher may outlive the process and keep its stderr open)."""
        agent = os.path.join(self.bindir, "outpost-agent")
        shutil.copy2(ARGS.binary, agent)  # the agent updates the binary it runs from
        self.log_path = os.path.join(self.dir, "agent.log")
        log = open(self.log_path, "w")
        env = {k: v for k, v in os.environ.items()
               if k not in ("INVOCATION_ID", "NOTIFY_SOCKET")}  # not under systemd
        env.update(extra_env or {})
        proc = subprocess.Popen([agent, "--config", os.path.join(self.dir, "outpost.toml"),
                                 "run"], cwd=self.dir, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, env=env)
        log.close()
        self.addCleanup(self.stop_lock_holder)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        return agent, proc

    def agent_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_for(self, what, pred, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if pred():
                return
            time.sleep(0.2)
        self.fail("timed out waiting for %s; agent log:\n%s" % (what, self.agent_log()[-4000:]))

    def lock_holder(self):
        """The pid in agent.lock when that process is alive, else 0."""
        try:
            with open(os.path.join(self.state, "agent.lock")) as f:
                pid = int(f.read().strip() or 0)
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return 0

    def stop_lock_holder(self):
        pid = self.lock_holder()
        if pid:
            os.kill(pid, 15)
            deadline = time.time() + 30
            while self.lock_holder() == pid and time.time() < deadline:
                time.sleep(0.1)

    def journal(self):
        with open(os.path.join(self.state, "update-journal.json")) as f:
            return json.load(f)

    def test_the_running_agent_installs_and_restarts_into_the_new_binary(self):
        self.write_config('enabled = true\ninterval = "1m"\n')
        # The new release records its arguments and starts the real agent (which
        # confirms its start), with self-update off: the real binary's version is below
        # the feed's, and it would install the release again.
        config2 = os.path.join(self.dir, "outpost2.toml")
        with open(config2, "w") as f:
            f.write('[agent]\nstate_dir = "%s"\n' % self.state)
        args_file = os.path.join(self.dir, "args")
        body = ("#!/bin/sh\nif [ \"$1\" = --self-test ]; then echo 'outpost 99.0.0'; "
                "echo 'self-test: ok'; exit 0; fi\necho \"$@\" > '%s'\n"
                "exec '%s' --config '%s' run\n" % (args_file, ARGS.binary, config2)).encode()
        self.publish(body=body)
        agent, proc = self.start_agent()
        self.wait_for("the restart", lambda: self.agent_log().count("running:") >= 2)
        self.assertIsNone(proc.poll(), "the restarted agent is the same process")
        self.assertEqual(self.lock_holder(), proc.pid)
        time.sleep(1)  # a watcher that wrongly rolled back would have done so by now
        proc.terminate()
        self.assertEqual(proc.wait(timeout=60), 0)
        log = self.agent_log()
        for marker in SANITIZER_MARKERS:
            self.assertNotIn(marker, log, log[-4000:])
        self.assertIn("version 99.0.0 is installed; restarting into it", log)
        with open(args_file) as f:  # the restart keeps the command line
            self.assertEqual(f.read().strip(),
                             "--config %s run" % os.path.join(self.dir, "outpost.toml"))
        self.assertIn("restarting for the self-update", log)
        self.assertNotIn("rolled back", log)
        with open(agent, "rb") as f:
            self.assertEqual(f.read(), body)
        self.assertEqual(self.journal()["step"], "swapped")
        self.assertTrue(os.path.getsize(agent + ".previous") > 100000)  # the real binary

    def check_rolled_back_by_the_watcher(self, agent, proc, why):
        self.wait_for("the rollback", lambda: os.path.exists(
            os.path.join(self.state, "update-journal.json")) and
            self.journal()["step"] == "rolled_back")
        proc.wait(timeout=60)
        jn = self.journal()
        self.assertIn(why, jn["error"])
        with open(os.path.join(self.state, "update-state.json")) as f:
            self.assertEqual(json.load(f)["blocked"], ["99.0.0"])
        with open(agent, "rb") as f, open(ARGS.binary, "rb") as g:
            self.assertEqual(f.read(), g.read(), "the previous binary is back")
        # Outside a service manager the watcher starts the previous binary itself; it
        # checks the feed again and does not download the blocked version again.
        self.wait_for("the previous binary running", lambda: self.lock_holder() not in
                      (0, proc.pid))
        self.wait_for("its next check", lambda: self.feed_checks_after_rollback() >= 1)
        downloads = [p for p, _ in self.site.httpd.requests if p.endswith("outpost-99.0.0")]
        self.assertEqual(len(downloads), 1, self.site.httpd.requests)
        self.stop_lock_holder()
        log = self.agent_log()
        for marker in SANITIZER_MARKERS:
            self.assertNotIn(marker, log, log[-4000:])

    def feed_checks_after_rollback(self):
        reqs = [p for p, _ in self.site.httpd.requests]
        last_download = max(i for i, p in enumerate(reqs) if p.endswith("outpost-99.0.0"))
        return sum(1 for p in reqs[last_download:] if p.endswith("stable.json"))

    def test_a_new_binary_that_dies_before_its_code_runs_is_rolled_back_by_the_old_one(self):
        self.write_config('enabled = true\ninterval = "1m"\n')
        body = ("#!/bin/sh\nif [ \"$1\" = --self-test ]; then echo 'outpost 99.0.0'; "
                "echo 'self-test: ok'; exit 0; fi\nkill -SEGV $$\n").encode()
        self.publish(body=body)
        agent, proc = self.start_agent()
        self.check_rolled_back_by_the_watcher(agent, proc, "exited before it started")
        self.assertEqual(proc.returncode, -11)

    def test_a_new_binary_that_hangs_at_start_is_stopped_and_rolled_back(self):
        self.write_config('enabled = true\ninterval = "1m"\n')
        body = ("#!/bin/sh\nif [ \"$1\" = --self-test ]; then echo 'outpost 99.0.0'; "
                "echo 'self-test: ok'; exit 0; fi\nexec sleep 600\n").encode()
        self.publish(body=body)
        agent, proc = self.start_agent({"OUTPOST_TEST_START_WATCH_MS": "3000"})
        self.check_rolled_back_by_the_watcher(agent, proc, "did not start within 3 s")
        self.assertEqual(proc.returncode, -9)

    def test_a_new_binary_that_never_becomes_healthy_is_rolled_back(self):
        # The running binary is the "new" one (journal "swapped" to its version); its
        # uploads all fail (nothing listens at the endpoint) and there are no checks,
        # so at the end of update.health_window it is not healthy.
        agent = os.path.join(self.bindir, "outpost-agent")
        shutil.copy2(ARGS.binary, agent)
        with open(agent + ".previous", "wb") as f:
            f.write(new_binary("0.0.9"))
        os.chmod(agent + ".previous", 0o755)
        version = subprocess.run([agent, "--self-test"], stdout=subprocess.PIPE,
                                 text=True).stdout.splitlines()[0].split()[1]
        os.makedirs(self.state, exist_ok=True)
        with open(os.path.join(self.state, "update-journal.json"), "w") as f:
            json.dump({"step": "swapped", "from_version": "0.0.9", "to_version": version,
                       "starts": 0}, f)
        logs = os.path.join(self.dir, "logs")
        os.mkdir(logs)
        with open(os.path.join(logs, "a.log"), "w") as f:
            f.write("one line\n")
        import socket
        with socket.socket() as sk:  # a port nothing listens on
            sk.bind(("127.0.0.1", 0))
            port = sk.getsockname()[1]
        self.write_config('health_window = "5s"\n\n[[source.file]]\npaths = ["%s/*.log"]\n'
                          'start_at = "beginning"\n\n[output]\nendpoint = "https://127.0.0.1:%d/ingest"\ntoken = "t"\n'
                          'ca_file = "%s"\n' % (logs, port, os.path.join(CA, "ca.pem")))
        os.chmod(os.path.join(self.dir, "outpost.toml"), 0o600)
        try:
            p = subprocess.run([agent, "--config", os.path.join(self.dir, "outpost.toml"),
                                "run"], cwd=self.dir, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=40)
        except subprocess.TimeoutExpired as e:
            self.fail("still running after 120 s: %s" % (e.stderr or b"")[-3000:])
        for marker in SANITIZER_MARKERS:
            self.assertNotIn(marker, p.stderr, p.stderr[-4000:])
        # It rolled back and restarted into the previous binary, which here just prints.
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        self.assertIn("new binary 0.0.9", p.stdout)
        jn = self.journal()
        self.assertEqual(jn["step"], "rolled_back")
        self.assertIn("not healthy after 5s: no upload worked", jn["error"])
        with open(agent, "rb") as f:
            self.assertEqual(f.read(), new_binary("0.0.9"))
        with open(os.path.join(self.state, "update-state.json")) as f:
            self.assertEqual(json.load(f)["blocked"], [version])

    def test_a_new_binary_that_keeps_restarting_is_rolled_back(self):
        agent = os.path.join(self.bindir, "outpost-agent")
        shutil.copy2(ARGS.binary, agent)
        with open(agent + ".previous", "wb") as f:
            f.write(new_binary("0.0.9"))
        version = subprocess.run([agent, "--self-test"], stdout=subprocess.PIPE,
                                 text=True).stdout.splitlines()[0].split()[1]
        os.makedirs(self.state, exist_ok=True)
        with open(os.path.join(self.state, "update-journal.json"), "w") as f:
            json.dump({"step": "swapped", "from_version": "0.0.9", "to_version": version,
                       "starts": 0}, f)
        argv = [agent, "--config", os.path.join(self.dir, "outpost.toml"), "run"]
        for n in range(3):  # starts that end before the health window: counted
            proc = subprocess.Popen(argv, cwd=self.dir, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            deadline = time.time() + 60  # until this start is counted (slow under load)
            while time.time() < deadline:
                with open(os.path.join(self.state, "update-journal.json")) as f:
                    if json.load(f).get("starts") == n + 1:
                        break
                time.sleep(0.1)
            time.sleep(0.3)
            proc.terminate()
            _, err = proc.communicate(timeout=60)
            self.assertIn("starts (%d of 3" % (n + 1), err)
        p = subprocess.run(argv, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        for marker in SANITIZER_MARKERS:
            self.assertNotIn(marker, p.stderr, p.stderr[-4000:])
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("crash loop", p.stderr)
        with open(agent, "rb") as f:
            self.assertEqual(f.read(), new_binary("0.0.9"))
        with open(os.path.join(self.state, "update-state.json")) as f:
            self.assertEqual(json.load(f)["blocked"], [version])

    def test_a_healthy_one_shot_run_makes_the_update_final(self):
        version = subprocess.run([ARGS.binary, "--self-test"], stdout=subprocess.PIPE,
                                 text=True).stdout.splitlines()[0].split()[1]
        os.makedirs(self.state, exist_ok=True)
        with open(os.path.join(self.state, "update-journal.json"), "w") as f:
            json.dump({"step": "swapped", "from_version": "0.0.9", "to_version": version}, f)
        for _ in range(5):  # never a crash loop: the first run makes it final
            p = self.outpost("run", "--once")
            self.assertEqual(p.returncode, 0, p.stderr)
        p = self.outpost("update", "status", "--json")
        self.assertEqual(json.loads(p.stdout)["journal"]["step"], "healthy")

    def test_rollback_without_a_previous_binary_exits_1(self):
        rc, j, err = self.update("rollback")
        self.assertEqual(rc, 1, err)
        self.assertIn("no previous binary", err)


def main():
    global ARGS, WORK, CA
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--emulator", default="")
    ap.add_argument("-v", "--verbose", action="store_true")
    ARGS, rest = ap.parse_known_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    WORK = tempfile.mkdtemp(prefix="outpost-update-ca-")
    try:
        if not ARGS.emulator:
            CA = os.path.join(WORK, "ca")
            subprocess.run([script("make-test-ca.sh"), CA], check=True, stdout=subprocess.DEVNULL)
        unittest.main(argv=[sys.argv[0]] + rest, verbosity=2 if ARGS.verbose else 1)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""outpost's development receiver: an HTTP(S) server on 127.0.0.1 that accepts uploads,
stores them decompressed, de-duplicates them by Idempotency-Key and injects faults.

    dev-receiver.py [--port N] [--port-file FILE] [--tls-dir DIR [--cert-name NAME]
                    [--require-client-cert] [--tls-max-version 1.2|1.3]]
                    [--store DIR] [--token TOKEN] [--faults FILE]
                    [--zstd-decoder auto|module|cli|none]
                    [--max-body-bytes N] [--max-decoded-bytes N] [--discard]
    dev-receiver.py --proxy [--port N] [--port-file FILE] [--store DIR]
                    [--proxy-user USER:PASSWORD]

--port 0 (the default) picks a free port. --tls-dir is a directory made by
scripts/make-test-ca.sh; --cert-name other-server or wrong-host serves those pairs
instead of server.pem/server.key; --require-client-cert verifies client certificates
against DIR/ca.pem. Without --tls-dir it serves plain HTTP.

It binds to 127.0.0.1 only (--bind refuses anything else) and, as a proxy, connects to
127.0.0.1 only. Standard library only; Content-Encoding zstd is decoded with Debian's
python3-zstandard module when it is importable, else with the `zstd` command, else the
raw body is kept as <seq>-<key>.ndjson.zst (said at start, in /_stats and in
requests.log as "decoded": false).

Receiver
  Any path is accepted for POST (/, /v1/logs, /loki/api/v1/push, .../_bulk,
  /services/collector/event, ...) and recorded. Success answers have each protocol's
  shape: Loki 204, OTLP {"partialSuccess": {}}, Elasticsearch _bulk {"errors", "items"},
  Splunk HEC {"text": "Success", "code": 0}, anything else {"accepted": true, ...}.
  Other methods on data paths get 405.
  --token T: `Authorization: Bearer T` (or `Splunk T`) required, else 401.
  --store DIR: each accepted body, decoded, as DIR/<seq>-<key>.ndjson (seq: 6 digits,
  the request's arrival number; key: the Idempotency-Key made file-name safe, "nokey"
  when absent), written to a temporary name and renamed. A key already accepted is
  answered 200 again but recorded as a duplicate and not stored twice. At start the
  keys and the last seq of an existing DIR/requests.log are loaded, so a restarted
  receiver still de-duplicates.
  --discard (for benchmarks): bodies are neither decoded nor stored; requests are
  answered, de-duplicated, counted and logged as usual, with "records" (the
  X-Outpost-Records header as a number, or null) in requests.log.
  DIR/requests.log: one JSON object per line per request (control endpoints excepted),
  appended after the answer was sent:
    seq, time (arrival, float epoch seconds, once the headers are read), time_done
    (answer sent or socket reset), method, path, query, status (int; null for a reset
    or when the client went away),
    idempotency_key, content_encoding, content_type, user_agent, authorization (bool:
    header present; never its value), auth_scheme ("Bearer", "Splunk", ... or null),
    bytes (body as received), decoded_bytes, decoded (bool: decoded and processed),
    duplicate (bool),
    file (stored file name or null), fault (null or {"rule", "action"}), tls (bool),
    client_cert (subject CN or null), error (string or null), and for _bulk
    item_errors (number of items answered with an error status).

Fault rules (--faults FILE, or POST /_faults with the same JSON; GET /_faults shows the
rules with what is left): a JSON list of objects. Each data POST is matched against the
rules in order; the first rule with count left whose conditions hold is applied and its
count decreased by one; no such rule, normal handling. Keys:
    count          requests the rule applies to (default 1; -1: no limit)
    status         HTTP status to answer (100..599)
    retry_after    Retry-After header value (string or number) sent with the status
    body           answer body (string) sent with the status
    action         "respond" (default), "reset" (socket closed with SO_LINGER 0, no
                   answer) or "stall" (sleep `seconds`, then answer `status` if given,
                   else handle normally)
    seconds        stall duration (float)
    if_bytes_over  only requests whose body as received is larger than this
    if_path        only requests to exactly this path
    after_bytes    with action "reset" only: reset mid-body, once this many bytes of the
                   body (at most its Content-Length) have been read. Such rules are
                   matched when the headers are in, before the body is read (the other
                   rules are matched after it), with the Content-Length as the size
    after_store    true: store (and de-duplicate) first, then apply the fault, as if the
                   answer was lost on the way back
    item_status    _bulk only: list of per-item statuses, cycled over the items (e.g.
                   [201, 429, 400]); the answer is 200 with "errors": true and only the
                   2xx items are stored; such a request's key is not marked as accepted
A data POST goes: body read, fault rules, token, decoding, de-duplication, storage;
so a fault is applied whatever the token, and the body is always read first.

Control endpoints (no token, never faulted, not in requests.log):
  GET /_stats   {"received", "stored", "duplicates", "by_status", "bytes",
                 "tls_errors", "zstd_decoder", "faults_left"}; by_status keys are the
                status codes as strings, "reset" (fault) and "lost" (the client went
                away before the answer).
  GET /_faults  the rules; POST /_faults  replace them (400 with the reason if invalid).
  GET /_tls     {"cert_name"} the pair served (HTTPS only; 400 on plain HTTP).
  POST /_tls    {"cert_name": NAME, "drop_connections": bool}: serve --tls-dir's NAME
                pair (server, other-server, wrong-host) from the next handshake on;
                drop_connections closes the open connections (this one excepted), so
                clients must handshake again. 400 if the pair cannot be loaded.

Proxy (--proxy): CONNECT only, to 127.0.0.1 or localhost (always connected to as
127.0.0.1), any port; other targets 403, other methods 405. --proxy-user U:P requires
Proxy-Authorization: Basic (407 otherwise). Each request to the proxy (CONNECT or
refused) is appended to DIR/proxy.log when the tunnel opens or is refused, as {"time", "method", "target", "status", "allowed",
"proxy_authorization" (bool), "error"}.

The chosen port is written to --port-file (atomically) once the socket listens. One line
per request goes to stderr. SIGTERM or SIGINT stops the server.
"""
import argparse
import base64
import binascii
import gzip
import http.server
import io
import json
import os
import re
import selectors
import shutil
import signal
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import threading
import time
import zlib

LOOPBACK = "127.0.0.1"
MAX_DECODED_DEFAULT = 1 << 30
CONTROL_PATHS = ("/_stats", "/_faults", "/_tls")
RULE_KEYS = {"count", "status", "retry_after", "body", "action", "seconds", "if_bytes_over",
             "if_path", "after_store", "item_status", "after_bytes"}
ACTIONS = ("respond", "reset", "stall")


def log(msg):
    now = time.time()
    stamp = "%s.%03d" % (time.strftime("%H:%M:%S", time.localtime(now)), int(now * 1000) % 1000)
    try:
        sys.stderr.write("dev-receiver %s %s\n" % (stamp, msg))
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


class BadRequest(Exception):
    def __init__(self, status, message, close=False):
        super().__init__(message)
        self.status = status
        self.close = close


# --- fault rules ------------------------------------------------------------------------

def validate_rules(rules):
    """Returns the rules as a list of normalised dicts with a "left" count; raises
    ValueError with a readable reason."""
    if not isinstance(rules, list):
        raise ValueError("fault rules must be a JSON list of objects")
    out = []
    for i, rule in enumerate(rules):
        where = "rule %d" % i
        if not isinstance(rule, dict):
            raise ValueError("%s: must be an object" % where)
        unknown = sorted(set(rule) - RULE_KEYS)
        if unknown:
            raise ValueError("%s: unknown key(s) %s (known: %s)"
                             % (where, ", ".join(unknown), ", ".join(sorted(RULE_KEYS))))
        r = dict(rule)
        count = r.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or (count < 1 and count != -1):
            raise ValueError("%s: count must be a positive integer or -1" % where)
        action = r.get("action", "respond")
        if action not in ACTIONS:
            raise ValueError("%s: action must be one of %s" % (where, ", ".join(ACTIONS)))
        status = r.get("status")
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)
                                   or not 100 <= status <= 599):
            raise ValueError("%s: status must be an integer from 100 to 599" % where)
        item_status = r.get("item_status")
        if item_status is not None:
            if (not isinstance(item_status, list) or not item_status
                    or not all(isinstance(s, int) and not isinstance(s, bool)
                               and 100 <= s <= 599 for s in item_status)):
                raise ValueError("%s: item_status must be a non-empty list of statuses" % where)
        if action == "respond" and status is None and item_status is None:
            raise ValueError("%s: a respond rule needs a status (or item_status)" % where)
        if action == "reset" and (status is not None or item_status is not None):
            raise ValueError("%s: a reset sends no answer; drop status" % where)
        seconds = r.get("seconds")
        if action == "stall":
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
                raise ValueError("%s: stall needs seconds >= 0" % where)
        elif seconds is not None:
            raise ValueError("%s: seconds is for action \"stall\" only" % where)
        over = r.get("if_bytes_over")
        if over is not None and (isinstance(over, bool) or not isinstance(over, int) or over < 0):
            raise ValueError("%s: if_bytes_over must be a non-negative integer" % where)
        path = r.get("if_path")
        if path is not None and not isinstance(path, str):
            raise ValueError("%s: if_path must be a string" % where)
        retry_after = r.get("retry_after")
        if retry_after is not None:
            if isinstance(retry_after, bool) or not isinstance(retry_after, (str, int, float)):
                raise ValueError("%s: retry_after must be a string or a number" % where)
            r["retry_after"] = (retry_after if isinstance(retry_after, str)
                                else ("%g" % retry_after))
        body = r.get("body")
        if body is not None and not isinstance(body, str):
            raise ValueError("%s: body must be a string" % where)
        if not isinstance(r.get("after_store", False), bool):
            raise ValueError("%s: after_store must be true or false" % where)
        after_bytes = r.get("after_bytes")
        if after_bytes is not None:
            if (isinstance(after_bytes, bool) or not isinstance(after_bytes, int)
                    or after_bytes < 0):
                raise ValueError("%s: after_bytes must be a non-negative integer" % where)
            if action != "reset" or r.get("after_store"):
                raise ValueError("%s: after_bytes goes with action \"reset\" (and no "
                                 "after_store)" % where)
        r["count"] = count
        r["action"] = action
        r["left"] = count
        out.append(r)
    return out


# --- body decoding ----------------------------------------------------------------------

class ZstdDecoder:
    """zstd via the zstandard module, else the zstd command, else none."""

    def __init__(self, choice):
        self.module = None
        self.cli = None
        if choice in ("auto", "module"):
            try:
                import zstandard  # Debian: python3-zstandard
                self.module = zstandard
            except ImportError:
                if choice == "module":
                    raise SystemExit("dev-receiver: --zstd-decoder module: the zstandard "
                                     "module is not importable (apt-get install "
                                     "python3-zstandard)")
        if self.module is None and choice in ("auto", "cli"):
            self.cli = shutil.which("zstd")
            if self.cli is None and choice == "cli":
                raise SystemExit("dev-receiver: --zstd-decoder cli: no zstd command")

    @property
    def name(self):
        if self.module is not None:
            return "module"
        if self.cli is not None:
            return "cli"
        return "unavailable"

    def decode(self, data, limit):
        if self.module is not None:
            reader = self.module.ZstdDecompressor().stream_reader(
                io.BytesIO(data), read_across_frames=True)
            try:
                out = reader.read(limit + 1)
            except self.module.ZstdError as e:
                raise BadRequest(400, "invalid zstd body: %s" % e)
            # read() may stop early at a frame end; read on until EOF or the limit.
            parts = [out]
            total = len(out)
            while out and total <= limit:
                try:
                    out = reader.read(limit + 1 - total)
                except self.module.ZstdError as e:
                    raise BadRequest(400, "invalid zstd body: %s" % e)
                parts.append(out)
                total += len(out)
            result = b"".join(parts)
        elif self.cli is not None:
            try:
                proc = subprocess.run([self.cli, "-d", "-c", "-q"], input=data,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      timeout=120, check=False)
            except (OSError, subprocess.SubprocessError) as e:
                raise BadRequest(500, "zstd command failed: %s" % e)
            if proc.returncode != 0:
                raise BadRequest(400, "invalid zstd body: %s"
                                 % proc.stderr.decode("utf-8", "replace").strip())
            result = proc.stdout
        else:
            return None
        if len(result) > limit:
            raise BadRequest(413, "decoded body over %d bytes" % limit)
        return result


def gunzip(data, limit):
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            out = f.read(limit + 1)
    except (OSError, EOFError, zlib.error) as e:
        raise BadRequest(400, "invalid gzip body: %s" % e)
    if len(out) > limit:
        raise BadRequest(413, "decoded body over %d bytes" % limit)
    return out


# --- receiver state ---------------------------------------------------------------------

def safe_key(key):
    if not key:
        return "nokey"
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", key)[:120]
    return cleaned.lstrip(".") or "nokey"


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.seq = 0
        self.accepted = set()
        self.rules = []
        self.received = 0
        self.stored = 0
        self.duplicates = 0
        self.bytes = 0
        self.tls_errors = 0
        self.by_status = {}
        self.zstd = ZstdDecoder(args.zstd_decoder)
        self.store = args.store
        self.log_fd = None
        if self.store:
            os.makedirs(self.store, exist_ok=True)
            self._load_log()
            self.log_fd = os.open(os.path.join(self.store, "requests.log"),
                                  os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def _load_log(self):
        path = os.path.join(self.store, "requests.log")
        try:
            with open(path, "rb") as f:
                for raw in f:
                    try:
                        entry = json.loads(raw)
                    except ValueError:
                        continue
                    if not isinstance(entry, dict):
                        continue
                    if isinstance(entry.get("seq"), int):
                        self.seq = max(self.seq, entry["seq"])
                    if entry.get("file") and not entry.get("item_errors") \
                            and entry.get("idempotency_key"):
                        self.accepted.add(entry["idempotency_key"])
        except FileNotFoundError:
            return
        except OSError as e:
            log("cannot read %s: %s" % (path, e))

    def next_seq(self):
        with self.lock:
            self.seq += 1
            self.received += 1
            return self.seq

    def match_rule(self, path, nbytes, mid_body=False):
        """mid_body: match only the after_bytes rules (headers in, body not read);
        else only the others."""
        with self.lock:
            for i, rule in enumerate(self.rules):
                if rule["left"] == 0:
                    continue
                if (rule.get("after_bytes") is not None) != mid_body:
                    continue
                if rule.get("if_bytes_over") is not None and nbytes <= rule["if_bytes_over"]:
                    continue
                if rule.get("if_path") is not None and path != rule["if_path"]:
                    continue
                if rule["left"] > 0:
                    rule["left"] -= 1
                return i, dict(rule)
        return None, None

    def set_rules(self, rules):
        with self.lock:
            self.rules = rules

    def rules_view(self):
        with self.lock:
            return [dict(r) for r in self.rules]

    def faults_left(self):
        with self.lock:
            return sum(1 for r in self.rules if r["left"] != 0)

    def claim_key(self, key):
        """True when the key is new: it is reserved at once, so that two requests with
        the same key at the same time are stored once. False for a duplicate."""
        with self.lock:
            if key and key in self.accepted:
                self.duplicates += 1
                return False
            if key:
                self.accepted.add(key)
            return True

    def release_key(self, key):
        with self.lock:
            self.accepted.discard(key)

    def count_stored(self):
        with self.lock:
            self.stored += 1

    def record(self, entry):
        with self.lock:
            if entry["status"] is not None:
                label = str(entry["status"])
            elif entry["fault"] and entry["fault"]["action"] == "reset":
                label = "reset"
            else:
                label = "lost"  # the client went away before an answer
            self.by_status[label] = self.by_status.get(label, 0) + 1
            self.bytes += entry.get("bytes") or 0
        if self.log_fd is not None:
            line = (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8")
            try:
                os.write(self.log_fd, line)  # O_APPEND: one write, one whole line
            except OSError as e:
                log("cannot append to requests.log: %s" % e)

    def tls_error(self):
        with self.lock:
            self.tls_errors += 1

    def stats(self):
        with self.lock:
            return {
                "received": self.received,
                "stored": self.stored,
                "duplicates": self.duplicates,
                "by_status": dict(self.by_status),
                "bytes": self.bytes,
                "tls_errors": self.tls_errors,
                "zstd_decoder": self.zstd.name,
                "faults_left": sum(1 for r in self.rules if r["left"] != 0),
            }

    def write_body(self, seq, key, data, suffix):
        name = "%06d-%s%s" % (seq, safe_key(key), suffix)
        final = os.path.join(self.store, name)
        tmp = os.path.join(self.store, ".%s.tmp" % name)
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, final)
        return name


# --- protocol-shaped answers ------------------------------------------------------------

def is_bulk(path):
    return path == "/_bulk" or path.endswith("/_bulk")


def is_hec(path):
    return path.startswith("/services/collector")


def bulk_items(decoded, item_status):
    """Parses a _bulk body; returns (items for the answer, the accepted lines as bytes,
    the number of items with an error status)."""
    lines = [ln for ln in decoded.split(b"\n") if ln.strip()]
    items, kept, errors = [], [], 0
    i = 0
    n = 0
    while i < len(lines):
        try:
            action = json.loads(lines[i])
        except ValueError as e:
            raise BadRequest(400, "_bulk line %d is not JSON: %s" % (i + 1, e))
        if not isinstance(action, dict) or len(action) != 1:
            raise BadRequest(400, "_bulk line %d is not an action" % (i + 1))
        op = next(iter(action))
        meta = action[op] if isinstance(action[op], dict) else {}
        if op not in ("index", "create", "update", "delete"):
            raise BadRequest(400, "_bulk line %d: unknown action %r" % (i + 1, op))
        pair = [lines[i]]
        if op != "delete":
            if i + 1 >= len(lines):
                raise BadRequest(400, "_bulk line %d: action without a document" % (i + 1))
            pair.append(lines[i + 1])
            i += 2
        else:
            i += 1
        status = item_status[n % len(item_status)] if item_status else 201
        n += 1
        item = {"_index": meta.get("_index", "outpost"),
                "_id": meta.get("_id", "dev-%d" % n), "status": status}
        if 200 <= status < 300:
            item["result"] = "created"
            kept.extend(pair)
        else:
            errors += 1
            kind = {429: "es_rejected_execution_exception",
                    400: "mapper_parsing_exception"}.get(status, "dev_receiver_exception")
            item["error"] = {"type": kind, "reason": "injected by dev-receiver fault rule"}
        items.append({op: item})
    kept_bytes = b"".join(ln + b"\n" for ln in kept)
    return items, kept_bytes, errors


# --- receiver handler -------------------------------------------------------------------

class ReceiverHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "outpost-dev-receiver/1"
    sys_version = ""
    timeout = 120  # idle keep-alive connections

    # BaseHTTPRequestHandler's own logging: errors become our one-line format.
    def log_request(self, code="-", size="-"):
        pass

    def log_error(self, format, *args):  # noqa: A002 (the base class's name)
        log("%s: %s" % (self.client_address[1] if self.client_address else "-",
                        format % args))

    def log_message(self, format, *args):  # noqa: A002
        log(format % args)

    @property
    def state(self):
        return self.server.state

    def do_POST(self):
        self.dispatch()

    def do_GET(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def handle_expect_100(self):
        """Says 100 Continue only to a body we will read: to one over the limit
        the client gets the 413 before it sends anything (answering 413 after
        100 Continue races the client's upload against our close, and the
        client may see the reset instead of the answer)."""
        path = self.path.partition("?")[0]
        limit = (1 << 20) if path in CONTROL_PATHS else self.server.args.max_body_bytes
        try:
            too_big = int(self.headers.get("Content-Length") or 0) > limit
        except ValueError:
            too_big = True  # read_body answers 400
        if too_big:
            return True
        return super().handle_expect_100()

    def dispatch(self):
        try:
            path, _, query = self.path.partition("?")
            if path in CONTROL_PATHS:
                self.control(path)
            else:
                self.data(path, query)
        except (ConnectionError, TimeoutError, ssl.SSLError) as e:
            log("connection lost: %s" % e)
            self.close_connection = True
        except Exception as e:  # a bad request never kills the server
            log("internal error on %s %s: %r" % (self.command, self.path, e))
            self.close_connection = True
            try:
                self.answer(500, {"error": "internal error: %r" % e})
            except Exception:
                pass

    # -- plumbing

    def read_body(self, limit):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            return self.read_chunked(limit)
        length = self.headers.get("Content-Length")
        if length is None:
            if self.command in ("POST", "PUT", "PATCH"):
                raise BadRequest(411, "Content-Length required", close=True)
            return b""
        try:
            n = int(length)
            if n < 0:
                raise ValueError
        except ValueError:
            raise BadRequest(400, "bad Content-Length %r" % length, close=True)
        if n > limit:
            raise BadRequest(413, "body of %d bytes over the limit of %d" % (n, limit),
                             close=True)
        data = self.rfile.read(n)
        if len(data) != n:
            raise ConnectionError("body cut short (%d of %d bytes)" % (len(data), n))
        return data

    def read_chunked(self, limit):
        parts, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            if not line:
                raise ConnectionError("chunked body cut short")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size < 0:
                    raise ValueError
            except ValueError:
                raise BadRequest(400, "bad chunk size line %r" % line[:40], close=True)
            if size == 0:
                break
            total += size
            if total > limit:
                raise BadRequest(413, "chunked body over the limit of %d" % limit, close=True)
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.read(2) != b"\r\n":
                raise BadRequest(400, "bad chunk framing", close=True)
            parts.append(chunk)
        while True:  # trailers
            line = self.rfile.readline(8192)
            if line in (b"\r\n", b"\n", b""):
                break
        return b"".join(parts)

    def answer(self, status, body=None, headers=None, content_type="application/json"):
        if isinstance(body, (dict, list)):
            payload = json.dumps(body).encode("utf-8")
        elif isinstance(body, str):
            payload = body.encode("utf-8")
            if content_type == "application/json":
                content_type = "text/plain; charset=utf-8"
        else:
            payload = body or b""
        self.record_pending()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if payload or status not in (204, 304):
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()

    def reset(self):
        """Closes the connection with a TCP RST and no answer."""
        self.close_connection = True
        sock = self.connection
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.rfile.close()  # drop the makefile reference so close() closes the fd
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass

    # -- control endpoints

    def control(self, path):
        body = self.read_body(1 << 20)
        if path == "/_stats" and self.command in ("GET", "HEAD"):
            self.answer(200, self.state.stats())
        elif path == "/_faults" and self.command in ("GET", "HEAD"):
            self.answer(200, self.state.rules_view())
        elif path == "/_faults" and self.command in ("POST", "PUT"):
            try:
                rules = validate_rules(json.loads(body.decode("utf-8")))
            except (ValueError, UnicodeDecodeError) as e:
                self.answer(400, {"error": str(e)})
                return
            self.state.set_rules(rules)
            log("fault rules replaced: %d rule(s)" % len(rules))
            self.answer(200, {"rules": len(rules)})
        elif path == "/_tls" and self.server.tls_context is None:
            self.answer(400, {"error": "not serving HTTPS (no --tls-dir)"})
        elif path == "/_tls" and self.command in ("GET", "HEAD"):
            self.answer(200, {"cert_name": self.server.cert_name})
        elif path == "/_tls" and self.command in ("POST", "PUT"):
            try:
                req = json.loads(body.decode("utf-8"))
                name = req["cert_name"]
                if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", name):
                    raise ValueError("cert_name must be a pair's name, e.g. other-server")
                self.server.switch_certificate(name, bool(req.get("drop_connections")),
                                               self.connection)
            except (ValueError, KeyError, TypeError, UnicodeDecodeError, OSError,
                    ssl.SSLError) as e:
                self.answer(400, {"error": "cannot serve that pair: %s" % e})
                return
            self.answer(200, {"cert_name": name})
        else:
            self.answer(405, {"error": "method not allowed"}, {"Allow": "GET, POST"})

    # -- data

    def data(self, path, query):
        state = self.state
        args = self.server.args
        seq = state.next_seq()
        auth = self.headers.get("Authorization")
        entry = {
            "seq": seq,
            "time": time.time(),
            "time_done": None,
            "method": self.command,
            "path": path,
            "query": query,
            "status": None,
            "idempotency_key": self.headers.get("Idempotency-Key"),
            "content_encoding": self.headers.get("Content-Encoding"),
            "content_type": self.headers.get("Content-Type"),
            "user_agent": self.headers.get("User-Agent"),
            "authorization": auth is not None,
            "auth_scheme": auth.split(None, 1)[0] if auth and auth.split() else None,
            "bytes": 0,
            "decoded_bytes": None,
            "decoded": False,
            "duplicate": False,
            "file": None,
            "fault": None,
            "tls": isinstance(self.connection, ssl.SSLSocket),
            "client_cert": self.server.peer_cn(self.connection),
            "error": None,
        }
        self.pending_entry = entry  # recorded by answer(), before the answer goes out
        try:
            self.handle_data(path, entry, args)
        except BadRequest as e:
            entry["error"] = str(e)
            if e.close:
                self.close_connection = True
            entry["status"] = e.status
            self.answer(e.status, {"error": str(e)})
        except (ConnectionError, TimeoutError, ssl.SSLError) as e:
            entry["error"] = "connection lost: %s" % e
            raise
        except Exception as e:  # a bug here must not kill the server; answer 500
            entry["error"] = "internal error: %r" % e
            entry["status"] = 500
            self.close_connection = True
            try:
                self.answer(500, {"error": entry["error"]})
            except Exception:
                pass
        finally:
            self.record_pending()  # no answer went out (reset, connection lost)

    def record_pending(self):
        """Writes the current data request to the log once. It runs before the answer
        is sent, so a client that has its answer always finds its request logged."""
        entry, self.pending_entry = getattr(self, "pending_entry", None), None
        if entry is None:
            return
        if entry["time_done"] is None:
            entry["time_done"] = time.time()
        self.state.record(entry)
        self.log_line(entry)

    def log_line(self, entry):
        status = str(entry["status"])
        if entry["status"] is None:
            status = "RESET" if entry["fault"] else "(no answer)"
        parts = ["%s %s -> %s" % (entry["method"], entry["path"], status),
                 "key=%s" % (entry["idempotency_key"] or "-"),
                 "bytes=%d" % entry["bytes"]]
        if entry["content_encoding"]:
            parts.append("enc=%s" % entry["content_encoding"])
        if entry["fault"]:
            parts.append("fault=rule%d:%s" % (entry["fault"]["rule"], entry["fault"]["action"]))
        if entry["duplicate"]:
            parts.append("duplicate")
        if entry["file"]:
            parts.append("stored=%s" % entry["file"])
        if entry["error"]:
            parts.append("error=%r" % entry["error"])
        log(" ".join(parts))

    def handle_data(self, path, entry, args):
        state = self.state
        if self.command != "POST":
            self.read_body(args.max_body_bytes)
            entry["status"] = 405
            self.answer(405, {"error": "POST only"}, {"Allow": "POST"})
            return
        if self.mid_body_reset(path, entry):
            return
        body = self.read_body(args.max_body_bytes)
        entry["bytes"] = len(body)

        index, rule = state.match_rule(path, len(body))
        bulk_rule = rule if rule is not None and "item_status" in rule else None
        if rule is not None and not rule.get("after_store"):
            if self.apply_fault(index, rule, entry):
                return
            rule = None  # a stall without status, or item_status only: go on normally
        status, payload, headers = self.accept(path, body, entry, args, bulk_rule)
        if rule is not None and 200 <= status < 300:  # after_store
            if self.apply_fault(index, rule, entry):
                return
        entry["status"] = status
        self.answer(status, payload, headers)

    def mid_body_reset(self, path, entry):
        """Applies an after_bytes rule, if one matches: reads that much of the body,
        then resets. Returns True when it did."""
        try:
            declared = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            declared = 0
        index, rule = self.state.match_rule(path, declared, mid_body=True)
        if rule is None:
            return False
        want = rule["after_bytes"]
        if self.headers.get("Content-Length") is not None:
            want = min(want, declared)
        got = 0
        while got < want:
            part = self.rfile.read(min(65536, want - got))
            if not part:
                break
            got += len(part)
        entry["bytes"] = got
        entry["fault"] = {"rule": index, "action": "reset"}
        entry["time_done"] = time.time()
        self.reset()
        return True

    def apply_fault(self, index, rule, entry):
        """Applies a rule; returns True when it answered (or reset) the request."""
        action = rule["action"]
        entry["fault"] = {"rule": index, "action": action}
        if action == "reset":
            entry["time_done"] = time.time()
            self.reset()
            return True
        if action == "stall":
            time.sleep(rule["seconds"])
            if rule.get("status") is None:
                return False
        if rule.get("status") is None:  # item_status only: handled in accept()
            return False
        headers = {}
        if rule.get("retry_after") is not None:
            headers["Retry-After"] = rule["retry_after"]
        entry["status"] = rule["status"]
        body = rule.get("body")
        if body is None:
            body = {"error": "injected by dev-receiver fault rule %d" % index}
        self.answer(rule["status"], body, headers)
        return True

    def accept(self, path, body, entry, args, bulk_rule):
        """Auth, decoding, de-duplication and storage. Returns (status, body, headers)."""
        state = self.state
        if args.token is not None:
            auth = self.headers.get("Authorization") or ""
            scheme, _, value = auth.partition(" ")
            if scheme.lower() not in ("bearer", "splunk") or value.strip() != args.token:
                entry["error"] = "missing token" if not auth else "wrong token"
                return 401, {"error": "authentication required"}, \
                    {"WWW-Authenticate": 'Bearer realm="outpost-dev-receiver"'}

        if args.discard:  # count and log only: no decoding, no storage
            records = self.headers.get("X-Outpost-Records") or ""
            entry["records"] = int(records) if records.isdigit() else None
            if state.claim_key(entry["idempotency_key"]):
                state.count_stored()
            else:
                entry["duplicate"] = True
            return self.success(path, entry, None, 0)

        decoded, suffix = self.decode(body, entry, args)
        key = entry["idempotency_key"]
        item_status = bulk_rule.get("item_status") if bulk_rule else None
        item_errors = 0
        items = None
        to_store = decoded
        if is_bulk(path) and entry["decoded"]:
            items, kept, item_errors = bulk_items(decoded, item_status)
            if item_errors:
                to_store = kept
                entry["item_errors"] = item_errors

        if not state.claim_key(key):
            entry["duplicate"] = True
        else:
            try:
                if state.store:
                    entry["file"] = state.write_body(entry["seq"], key, to_store, suffix)
            except BaseException:
                state.release_key(key)
                raise
            if item_errors:  # partly accepted: a resend of the key is not a duplicate
                state.release_key(key)
            state.count_stored()
        return self.success(path, entry, items, item_errors)

    def decode(self, body, entry, args):
        data = body
        decoded = True
        encodings = [e.strip().lower() for e in (entry["content_encoding"] or "").split(",")
                     if e.strip()]
        for enc in reversed(encodings):
            if enc in ("identity", "none"):
                continue
            if enc == "gzip" or enc == "x-gzip":
                data = gunzip(data, args.max_decoded_bytes)
            elif enc == "zstd":
                out = self.state.zstd.decode(data, args.max_decoded_bytes)
                if out is None:
                    decoded = False
                    break
                data = out
            else:
                raise BadRequest(415, "unsupported Content-Encoding %r" % enc)
        entry["decoded"] = decoded
        entry["decoded_bytes"] = len(data) if decoded else None
        return data, (".ndjson" if decoded else ".ndjson.zst")

    def success(self, path, entry, items, item_errors):
        if path.startswith("/loki/"):
            return 204, None, {}
        if path == "/v1/logs" or path.endswith("/v1/logs"):
            return 200, {"partialSuccess": {}}, {}
        if is_bulk(path):
            return 200, {"took": 1, "errors": bool(item_errors), "items": items or []}, {}
        if is_hec(path):
            return 200, {"text": "Success", "code": 0}, {}
        return 200, {"accepted": True, "duplicate": entry["duplicate"], "seq": entry["seq"]}, {}


# --- servers ----------------------------------------------------------------------------

class LoopbackServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def server_bind(self):
        # No reverse DNS lookup (HTTPServer.server_bind calls getfqdn).
        socketserver.TCPServer.server_bind(self)
        self.server_name = "localhost"
        self.server_port = self.server_address[1]

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        log("connection from port %s: %r" % (client_address[1] if client_address else "-", e))


class ReceiverServer(LoopbackServer):
    def __init__(self, address, args, state, tls_context):
        self.args = args
        self.state = state
        self.tls_context = tls_context
        self.cert_name = args.cert_name
        self.conns_lock = threading.Lock()
        self.conns = set()  # open TLS connections (POST /_tls drop_connections)
        super().__init__(address, ReceiverHandler)

    def switch_certificate(self, name, drop_connections, keep):
        """Serves --tls-dir's pair `name` from the next handshake on; raises OSError or
        ssl.SSLError when it cannot be loaded (nothing changes then)."""
        ctx = tls_context(self.args, name)
        self.tls_context = ctx
        self.cert_name = name
        log("now serving the %s certificate" % name)
        if not drop_connections:
            return
        with self.conns_lock:
            others = [c for c in self.conns if c is not keep]
        for c in others:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        log("dropped %d open connection(s)" % len(others))

    @staticmethod
    def peer_cn(conn):
        if not isinstance(conn, ssl.SSLSocket):
            return None
        try:
            cert = conn.getpeercert()
        except (ValueError, OSError):
            return None
        for rdn in (cert or {}).get("subject", ()):
            for k, v in rdn:
                if k == "commonName":
                    return v
        return None

    def finish_request(self, request, client_address):
        # Answers go out at once: without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK hold every keep-alive answer back by ~40 ms.
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        # The TLS handshake runs here, in the connection's thread, so a slow or broken
        # client never holds up accept().
        if self.tls_context is None:
            self.RequestHandlerClass(request, client_address, self)
            return
        request.settimeout(15)
        try:
            conn = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.state.tls_error()
            log("TLS handshake from port %d failed: %s" % (client_address[1], e))
            return
        with self.conns_lock:
            self.conns.add(conn)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            with self.conns_lock:
                self.conns.discard(conn)
            self.shutdown_request(conn)  # OSError (already reset) is ignored there


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "outpost-dev-proxy/1"
    sys_version = ""
    rbufsize = 0  # unbuffered: nothing of the tunnelled stream is read ahead
    timeout = 60

    def log_request(self, code="-", size="-"):
        pass

    def log_error(self, format, *args):  # noqa: A002
        log("proxy: " + format % args)

    def log_message(self, format, *args):  # noqa: A002
        log("proxy: " + format % args)

    def record(self, status, allowed, error=None):
        entry = {"time": time.time(), "method": self.command, "target": self.path,
                 "status": status, "allowed": allowed,
                 "proxy_authorization": self.headers.get("Proxy-Authorization") is not None,
                 "error": error}
        self.server.append_log(entry)
        log("proxy: %s %s -> %d%s" % (self.command, self.path, status,
                                      " (%s)" % error if error else ""))

    def refuse(self, status, error, headers=None):
        self.record(status, False, error)
        payload = (error + "\n").encode("utf-8")
        self.close_connection = True
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def not_connect(self):
        self.refuse(405, "CONNECT only", {"Allow": "CONNECT"})

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = not_connect

    def do_CONNECT(self):
        try:
            self.connect_tunnel()
        except (ConnectionError, TimeoutError, OSError) as e:
            log("proxy: tunnel %s ended: %s" % (self.path, e))
            self.close_connection = True

    def connect_tunnel(self):
        want = self.server.proxy_auth
        if want is not None:
            got = self.headers.get("Proxy-Authorization") or ""
            scheme, _, value = got.partition(" ")
            try:
                ok = scheme.lower() == "basic" and base64.b64decode(value.strip(),
                                                                    validate=True) == want
            except (binascii.Error, ValueError):
                ok = False
            if not ok:
                self.refuse(407, "proxy authentication required",
                            {"Proxy-Authenticate": 'Basic realm="outpost-dev-proxy"'})
                return
        host, sep, port_text = self.path.rpartition(":")
        try:
            port = int(port_text)
        except ValueError:
            port = 0
        if not sep or not 1 <= port <= 65535:
            self.refuse(400, "CONNECT target must be host:port")
            return
        if host not in (LOOPBACK, "localhost"):
            self.refuse(403, "only 127.0.0.1 is allowed")
            return
        try:
            upstream = socket.create_connection((LOOPBACK, port), timeout=10)
        except OSError as e:
            self.refuse(502, "cannot connect to 127.0.0.1:%d: %s" % (port, e))
            return
        self.record(200, True)
        self.close_connection = True
        try:
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.relay(self.connection, upstream)
        finally:
            upstream.close()

    @staticmethod
    def relay(client, upstream):
        client.settimeout(None)
        upstream.settimeout(None)
        peers = {client: upstream, upstream: client}
        open_reads = {client, upstream}
        with selectors.DefaultSelector() as sel:
            for s in open_reads:
                sel.register(s, selectors.EVENT_READ)
            while open_reads:
                for key, _ in sel.select():
                    src = key.fileobj
                    try:
                        data = src.recv(65536)
                    except OSError:
                        data = b""
                    if data:
                        try:
                            peers[src].sendall(data)
                        except OSError:
                            return
                        continue
                    # EOF: pass the half-close on, stop reading this side.
                    sel.unregister(src)
                    open_reads.discard(src)
                    try:
                        peers[src].shutdown(socket.SHUT_WR)
                    except OSError:
                        return


class ProxyServer(LoopbackServer):
    def __init__(self, address, args):
        self.args = args
        self.log_lock = threading.Lock()
        self.proxy_auth = args.proxy_user.encode("utf-8") if args.proxy_user else None
        self.log_path = os.path.join(args.store, "proxy.log") if args.store else None
        if self.log_path:
            os.makedirs(args.store, exist_ok=True)
        super().__init__(address, ProxyHandler)

    def append_log(self, entry):
        if not self.log_path:
            return
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self.log_lock:
            try:
                with open(self.log_path, "a", encoding="utf-8") as f:
                    f.write(line)
            except OSError as e:
                log("cannot append to proxy.log: %s" % e)


# --- main -------------------------------------------------------------------------------

def tls_context(args, cert_name=None):
    base = os.path.join(args.tls_dir, cert_name or args.cert_name)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if args.tls_max_version == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(base + ".pem", base + ".key")
    if args.require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(os.path.join(args.tls_dir, "ca.pem"))
    return ctx


def write_port_file(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="outpost development receiver (HTTP(S) on 127.0.0.1 only)",
        epilog="Fault rules, the requests.log format and the control endpoints are "
               "described at the top of this file.")
    p.add_argument("--bind", default=LOOPBACK, help="must be 127.0.0.1 (anything else is refused)")
    p.add_argument("--port", type=int, default=0, help="0 (default): pick a free port")
    p.add_argument("--port-file", help="write the port here once listening")
    p.add_argument("--tls-dir", help="serve HTTPS with DIR/<cert-name>.pem and .key "
                                     "(scripts/make-test-ca.sh DIR)")
    p.add_argument("--cert-name", default="server",
                   help="certificate pair in --tls-dir: server (default), other-server, wrong-host")
    p.add_argument("--require-client-cert", action="store_true",
                   help="mTLS: a client certificate from --tls-dir/ca.pem is required")
    p.add_argument("--tls-max-version", choices=("1.2", "1.3"), default="1.3")
    p.add_argument("--store", help="directory for stored bodies and requests.log (proxy.log)")
    p.add_argument("--token", help="require Authorization: Bearer TOKEN (or Splunk TOKEN)")
    p.add_argument("--faults", help="JSON file with the initial fault rules")
    p.add_argument("--zstd-decoder", choices=("auto", "module", "cli", "none"), default="auto",
                   help="auto (default): zstandard module, else the zstd command, else none "
                        "(raw bodies stored as .ndjson.zst)")
    p.add_argument("--max-body-bytes", type=int, default=256 << 20)
    p.add_argument("--max-decoded-bytes", type=int, default=MAX_DECODED_DEFAULT)
    p.add_argument("--discard", action="store_true",
                   help="benchmarks: answer, de-duplicate and log requests (with their "
                        "X-Outpost-Records) but neither decode nor store bodies")
    p.add_argument("--proxy", action="store_true",
                   help="run a CONNECT-only forward proxy to 127.0.0.1 instead")
    p.add_argument("--proxy-user", help="USER:PASSWORD required as Proxy-Authorization: Basic")
    args = p.parse_args(argv)
    if args.bind != LOOPBACK:
        p.error("refusing to bind to %r: the development receiver listens on 127.0.0.1 only"
                % args.bind)
    if not 0 <= args.port <= 65535:
        p.error("--port must be 0..65535")
    if args.proxy:
        for name in ("tls_dir", "token", "faults", "require_client_cert", "discard"):
            if getattr(args, name):
                p.error("--%s is not used with --proxy" % name.replace("_", "-"))
    else:
        if args.proxy_user:
            p.error("--proxy-user goes with --proxy")
        if args.require_client_cert and not args.tls_dir:
            p.error("--require-client-cert needs --tls-dir")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    address = (LOOPBACK, args.port)
    if args.proxy:
        server = ProxyServer(address, args)
        what = "CONNECT proxy on http://%s:%d (targets: 127.0.0.1 only)"
    else:
        rules = []
        if args.faults:
            try:
                with open(args.faults, encoding="utf-8") as f:
                    rules = validate_rules(json.load(f))
            except (OSError, ValueError) as e:
                raise SystemExit("dev-receiver: --faults %s: %s" % (args.faults, e))
        state = State(args)
        state.set_rules(rules)
        try:
            ctx = tls_context(args) if args.tls_dir else None
        except (OSError, ssl.SSLError) as e:
            raise SystemExit("dev-receiver: TLS setup from %s failed: %s" % (args.tls_dir, e))
        server = ReceiverServer(address, args, state, ctx)
        scheme = "https" if ctx else "http"
        what = scheme + "://%s:%d"
        if ctx and args.require_client_cert:
            what += " (client certificate required)"
        if state.zstd.name == "unavailable":
            log("zstd: no zstandard module and no zstd command: zstd bodies are stored "
                "raw as .ndjson.zst (apt-get install python3-zstandard)")
        else:
            log("zstd decoder: %s" % state.zstd.name)
        if rules:
            log("%d fault rule(s) from %s" % (len(rules), args.faults))
    port = server.server_address[1]
    if args.port_file:
        write_port_file(args.port_file, port)
    log("listening: " + what % (LOOPBACK, port))

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        server.server_close()
        log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

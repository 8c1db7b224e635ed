#!/usr/bin/env bash
# scripts/demo.sh — outpost's main job, end to end, on a fresh Debian 12 machine.
# Install and build the dependencies, build the static release binary, then:
#   1. the config commands: write a config (`config init`), check it, show it, print
#      the version, and show how a broken config is reported;
#   2. the log pipeline: generate a sample log, tail it into buffer.db with
#      `run --once`, then run the agent in the background while the log grows and is
#      rotated (rename + create), wait until `status --json` shows no lag, stop it
#      with SIGTERM, and show `status`, `buffer stats` and the first records of
#      `buffer export`; finally check that every record arrived exactly once.
#   3. upload: a throwaway CA and the development HTTPS receiver on 127.0.0.1, an
#      [output] with a token, `run --once` ships everything buffered with certificate
#      verification; then `status` and what the receiver stored.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# What the demo itself runs besides the build: python3 (JSON checks, the receiver),
# openssl (the throwaway CA), curl, and a zstd decoder for the receiver.
tools=(python3 openssl curl python3-zstandard zstd)
missing=()
for p in "${tools[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=(); [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi
prefix=$(scripts/deps.sh linux | tail -n 1)
OUTPOST_DEPS_PREFIX="$prefix" cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" 2>&1 | grep -E "warning|error|outpost binary" || true
bin="$root/build/release/app/outpost"
[[ -x "$bin" ]] || { echo "build failed" >&2; exit 1; }

work=$(mktemp -d /tmp/outpost-demo.XXXXXX)
agent_pid=
receiver_pid=
cleanup() {
  if [[ -n "$agent_pid" ]]; then kill "$agent_pid" 2>/dev/null || true; fi
  if [[ -n "$receiver_pid" ]]; then kill "$receiver_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
run() { printf '\n$ %s\n' "$*"; "$@"; }

run file "$bin"
run "$bin" version
run "$bin" config init "$work/outpost.toml"
run "$bin" config check "$work/outpost.toml"
run "$bin" --config "$work/outpost.toml" --state-dir "$work/state" config show
printf '\n# a broken config: every problem at once, with file:line:column and a hint\n'
cat >"$work/broken.toml" <<'TOML'
[buffer]
max_byte = "1GiB"
chunk_max_age = "5 parsecs"

[output]
endpoint = "https://ingest.example.com"
token = "s3cret"
TOML
chmod 644 "$work/broken.toml"
run "$bin" config check "$work/broken.toml" || echo "(exit status $?)"

# ---------------------------------------------------------------------------------------
# The log pipeline: a log file tailed into buffer.db, through growth and rotation.
demo="$work/pipeline"
mkdir -p "$demo/logs"
cfg="$demo/outpost.toml"
log="$demo/logs/app.log"
op() { printf '\n$ outpost %s\n' "$*"; "$bin" --config "$cfg" "$@"; }
now_ms() { date +%s%3N; }

# Writes COUNT records numbered from FIRST (seq=N in each) to FILE, appending. Lines look
# like an application's log; a few records are special: a Java stack trace (one record
# of several lines), a non-UTF-8 byte, control characters, and a line longer than
# max_line_bytes.
cat >"$demo/genlog.py" <<'PY'
import random, sys
path, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(first)
ips = ["10.0.%d.%d" % (rng.randrange(4), rng.randrange(1, 255)) for _ in range(30)]
users = ["alice", "bob", "carol", "dave", "erin", "svc-backup", "root"]
paths = ["/api/v1/items", "/api/v1/items/42", "/login", "/healthz", "/static/app.js",
         "/api/v1/search?q=disk+full", "/api/v2/orders"]
def message(comp):
    if comp == "http":
        return '%s "%s %s HTTP/1.1" %d %d %dms' % (
            rng.choice(ips), rng.choice(["GET", "GET", "GET", "POST", "PUT", "DELETE"]),
            rng.choice(paths), rng.choice([200] * 12 + [201, 204, 301, 404, 500, 503]),
            rng.randrange(0, 90000), rng.randrange(1, 900))
    if comp == "db":
        return "query took %dms rows=%d table=%s" % (
            rng.randrange(1, 2500), rng.randrange(0, 10000), rng.choice(["items", "orders", "users"]))
    if comp == "auth":
        return "login %s user=%s from %s" % (
            rng.choice(["ok", "ok", "ok", "failed"]), rng.choice(users), rng.choice(ips))
    if comp == "worker":
        return "job %06d %s queue=%s attempts=%d" % (
            rng.randrange(10**6), rng.choice(["started", "done", "done", "retrying"]),
            rng.choice(["mail", "thumbs", "billing"]), rng.randrange(1, 5))
    return "hit ratio %.2f evictions=%d size=%dMiB" % (
        rng.random(), rng.randrange(0, 500), rng.randrange(16, 512))
out = []
for seq in range(first, first + count):
    ts = "2026-11-25T%02d:%02d:%02d.%03dZ" % (
        10 + seq // 36000, seq // 600 % 60, seq // 10 % 60, seq % 10 * 100 + rng.randrange(100))
    head = ("%s %%-5s %%s: seq=%d " % (ts, seq)).encode()
    if seq == 1500:  # a Latin-1 file name in a UTF-8 log: \xe9 is not UTF-8
        out.append(head % (b"WARN", b"upload") + b"cannot store 'r\xe9sum\xe9.pdf'\n")
    elif seq == 2222:  # a tab and terminal colour escapes
        out.append(head % (b"DEBUG", b"tty") + b"colour\ton: \x1b[31mred\x1b[0m\n")
    elif seq == 2500:  # longer than max_line_bytes (4KiB): cut, marked truncated
        out.append(head % (b"DEBUG", b"http") + b"request body: " + b"x" * 10000 + b"\n")
    elif seq % 1000 == 0:
        out.append(head % (b"ERROR", b"worker") + b"job failed: queue closed\n"
                   b"java.lang.IllegalStateException: queue closed\n"
                   b"\tat com.example.queue.Queue.take(Queue.java:87)\n"
                   b"\tat com.example.worker.Worker.run(Worker.java:42)\n"
                   b"\tat java.base/java.lang.Thread.run(Thread.java:833)\n"
                   b"Caused by: java.io.IOException: Broken pipe\n"
                   b"\tat com.example.queue.Channel.read(Channel.java:120)\n"
                   b"\t... 3 more\n")
    else:
        comp = rng.choice(["http"] * 5 + ["db", "db", "auth", "worker", "worker", "cache"])
        level = rng.choice(["INFO"] * 14 + ["DEBUG"] * 3 + ["WARN"] * 2 + ["ERROR"])
        out.append(head % (level.encode(), comp.encode()) + message(comp).encode() + b"\n")
with open(path, "ab") as f:
    f.write(b"".join(out))
PY
gen() { python3 "$demo/genlog.py" "$log" "$1" "$2"; }

printf '\n# ---- the log pipeline ----\n'
gen 1 3000
printf '# %s: %d lines, %d bytes, 3000 records (stack traces at seq=1000, 2000, 3000)\n' \
  "$log" "$(wc -l <"$log")" "$(wc -c <"$log")"
cat >"$cfg" <<'TOML'
[agent]
state_dir = "state"            # relative paths are relative to this file's directory
fields = { env = "demo" }      # added to every record

[[source.file]]
name = "app"
paths = ["logs/app.log"]
start_at = "beginning"         # the very first run reads what is there (default: "end")
max_line_bytes = "4KiB"

[source.file.multiline]        # a record starts with a date; other lines are joined to it
start = '^\d{4}-\d{2}-\d{2}T'
timeout = "500ms"
TOML
printf '\n$ cat outpost.toml\n'
cat "$cfg"
printf '\n# outpost below is: %s --config %s\n' "$bin" "$cfg"
op run --once

# The agent in the background, while the log grows and is rotated.
printf '\n$ outpost run &   (its log to agent.log)\n'
"$bin" --config "$cfg" run 2>"$demo/agent.log" &
agent_pid=$!
status_json() { "$bin" --config "$cfg" status --json 2>/dev/null || true; }
wait_for() {  # wait_for WHAT SECONDS PYTHON-EXPRESSION-ON-d (the status JSON)
  local what=$1 deadline=$(($(now_ms) + $2 * 1000)) start
  start=$(now_ms)
  until status_json | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($3) else 1)"; do
    if (($(now_ms) > deadline)); then
      echo "demo: timed out after $2 s waiting for $what" >&2
      cat "$demo/agent.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  printf '# %s after %d ms\n' "$what" $(($(now_ms) - start))
}
wait_for "the agent is running" 10 "d['agent']['running']"

printf '\n$ genlog 3001..3600 >> logs/app.log; mv logs/app.log logs/app.log.1; genlog 3601..4000 > logs/app.log\n'
gen 3001 600
mv "$log" "$log.1"
gen 3601 400
# The agent notices the rotation at once: status lists the old checkpoint as no longer at
# its path while the old file is read to its end, and the new file from offset 0.
wait_for "status shows the rotated file" 20 \
  "any(f['lag_bytes'] is None for f in d['sources'][0]['files'])"
op status || echo "(exit status $?)"
# Caught up: every file's lag is 0, and the rotated file (no longer at logs/app.log)
# has been read to its end and let go (5 s after its last data).
wait_for "status --json shows lag 0" 60 \
  "d['sources'][0]['files'] and all(f['lag_bytes'] == 0 for f in d['sources'][0]['files'])"

printf '\n$ kill -TERM %s\n' "$agent_pid"
stop_start=$(now_ms)
kill -TERM "$agent_pid"
rc=0
wait "$agent_pid" || rc=$?
agent_pid=
printf '# the agent exited with status %d after %d ms; its log:\n' "$rc" $(($(now_ms) - stop_start))
cat "$demo/agent.log"
op status || echo "(exit status $?)"
op buffer stats
printf '\n$ outpost buffer export > export.ndjson; head -n 3 export.ndjson\n'
"$bin" --config "$cfg" buffer export >"$demo/export.ndjson"
head -n 3 "$demo/export.ndjson"
printf '\n# the records of the stack trace (seq=1000), the non-UTF-8 bytes (seq=1500), the\n'
printf '# control characters (seq=2222) and the over-long line (seq=2500), as exported:\n'
python3 - "$demo/export.ndjson" <<'PY'
import json, re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
records = [json.loads(line) for line in lines]
for seq in (1000, 1500, 2222, 2500):
    i = next(i for i, r in enumerate(records) if re.search(r"seq=%d " % seq, r["message"]))
    line = lines[i]
    print(line if len(line) <= 1000 else "%s ... (%d bytes) ... %s" % (line[:500], len(line) - 560, line[-60:]))
seqs = [int(re.search(r"seq=(\d+) ", r["message"]).group(1)) for r in records]
missing = sorted(set(range(1, 4001)) - set(seqs))
doubled = len(seqs) - len(set(seqs))
print("\n# %d records exported; seq=1..4000: %d missing, %d doubled" % (len(records), len(missing), doubled))
sys.exit(0 if not missing and not doubled else 1)
PY

# ---------------------------------------------------------------------------------------
# Upload: the buffer shipped over HTTPS to a local receiver, certificate checked.
printf '\n# upload: a throwaway CA and the development receiver on 127.0.0.1\n'
run scripts/make-test-ca.sh "$demo/ca" >/dev/null
python3 scripts/dev-receiver.py --tls-dir "$demo/ca" --port 0 --port-file "$demo/recv.port" \
  --store "$demo/received" --token demo-token 2>"$demo/receiver.log" &
receiver_pid=$!
for _ in $(seq 1 100); do [[ -s "$demo/recv.port" ]] && break; sleep 0.1; done
port=$(cat "$demo/recv.port")
cat >>"$cfg" <<TOML

[output]
endpoint = "https://127.0.0.1:$port/ingest"
token = "demo-token"
ca_file = "$demo/ca/ca.pem"
TOML
chmod 600 "$cfg"
printf '\n# [output] added to %s:\n' "$cfg"
tail -n 5 "$cfg" | sed 's/token = .*/token = "***"/'
op run --once
op status || echo "(exit status $?)"
printf '\n# what the receiver stored (decompressed NDJSON, de-duplicated by Idempotency-Key):\n'
curl -s --cacert "$demo/ca/ca.pem" "https://127.0.0.1:$port/_stats"
echo
python3 - "$demo/received" <<'PY'
import glob, json, re, sys
seqs = []
for path in sorted(glob.glob(sys.argv[1] + "/*.ndjson")):
    for line in open(path, encoding="utf-8"):
        seqs.append(int(re.search(r"seq=(\d+) ", json.loads(line)["message"]).group(1)))
missing = sorted(set(range(1, 4001)) - set(seqs))
doubled = len(seqs) - len(set(seqs))
print("# %d records received; seq=1..4000: %d missing, %d doubled" % (len(seqs), len(missing), doubled))
sys.exit(0 if not missing and not doubled else 1)
PY

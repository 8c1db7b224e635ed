#!/usr/bin/env bash
# scripts/bench.sh — every benchmark program, one table (issue 9).
#
#   scripts/bench.sh [--quick] [--no-write] [--build-dir DIR] [--keep-json DIR]
#
# Builds the release preset's outpost binary and bench/ programs if needed (dependencies
# from `scripts/deps.sh linux --print-prefix`), runs each program with --json:
#   outpost_bench_ingest  file -> buffer.db through the real pipeline (in-process)
#   outpost_bench_ship    `outpost run --once`, file -> buffer.db -> HTTPS -> receiver
#                         (zstd level 1, the default, three times: the median run
#                         counts; and once at level 3)
#   outpost_bench_idle    `outpost run`: startup to READY=1, idle RSS, CPU and wakeups
#   outpost_bench_checks  `outpost check` with the baseline policy, `outpost version`
#   outpost_bench_limits  CPU share under limits.max_cpu_percent
#   outpost_bench_config  config parse time, zstd level 3 throughput
# and prints one table (measure, value, target, ok). Unless --no-write, it writes the
# table, the machine and the command between the markers of docs/performance.md (the
# text around them, which explains the figures, is kept).
#
# Full run: about 3 minutes on a 2-core VM (1 GiB end to end, a 60 s idle window).
# --quick: smaller sizes (128 MiB end to end, a 10 s idle window), about a minute.
# Linux only. Needs python3 (the receiver is Python) and ~3 GiB free in $TMPDIR.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

quick=0
write=1
build_dir=build/release
keep_json=""
usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case $1 in
    --quick) quick=1 ;;
    --no-write) write=0 ;;
    --build-dir) build_dir=$2; shift ;;
    --keep-json) keep_json=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
command_line=scripts/bench.sh
if ((quick)); then command_line+=" --quick"; fi

if [[ $(uname -s) != Linux ]]; then
  echo "bench.sh: Linux only (the benchmarks read /proc)" >&2
  exit 2
fi

targets=(outpost outpost_bench_ingest outpost_bench_ship outpost_bench_idle
         outpost_bench_checks outpost_bench_limits outpost_bench_config)
echo "==> building ${targets[*]} in $build_dir" >&2
# A re-configure (a CMakeLists.txt changed) needs the prefix too.
OUTPOST_DEPS_PREFIX=${OUTPOST_DEPS_PREFIX:-$(scripts/deps.sh linux --print-prefix)}
export OUTPOST_DEPS_PREFIX
if [[ ! -f $build_dir/build.ninja && ! -f $build_dir/Makefile ]]; then
  if [[ $build_dir == build/release ]]; then
    cmake --preset release >&2
  else
    cmake --preset release -B "$build_dir" >&2
  fi
fi
cmake --build "$build_dir" -j2 --target "${targets[@]}" >&2
bin=$build_dir/app/outpost
bench=$build_dir/bench

if ((quick)); then
  ingest_lines=500000; ship_bytes=128MiB; idle_seconds=10; starts=5; check_runs=5
  limits_mib=16
else
  ingest_lines=5000000; ship_bytes=1GiB; idle_seconds=60; starts=11; check_runs=11
  limits_mib=64
fi

out=$(mktemp -d "${TMPDIR:-/tmp}/outpost-bench.XXXXXX")
trap 'rm -rf "$out"' EXIT
run() {  # run NAME PROGRAM ARGS...: its JSON to $out/NAME.json, its stderr to NAME.err
  local name=$1; shift
  echo "==> $name: ${*#"$root/"}" >&2
  local t0=$SECONDS
  if ! "$@" --json >"$out/$name.json" 2>"$out/$name.err"; then
    echo "bench.sh: $name failed:" >&2
    tail -n 30 "$out/$name.err" >&2
    echo '{"failed": true}' >"$out/$name.json"
  fi
  echo "    $((SECONDS - t0)) s" >&2
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
run ingest "$bench/outpost_bench_ingest" --lines "$ingest_lines"
# End to end three times on the same log (the VM's speed drifts by +-15% between runs;
# the table shows the median run, the details all three), then once at level 3.
ship_dir=$out/ship-work
run ship_1 "$bench/outpost_bench_ship" --bytes "$ship_bytes" --dir "$ship_dir" --keep
run ship_2 "$bench/outpost_bench_ship" --bytes "$ship_bytes" --dir "$ship_dir" --reuse
run ship_3 "$bench/outpost_bench_ship" --bytes "$ship_bytes" --dir "$ship_dir" --reuse
run ship_level3 "$bench/outpost_bench_ship" --bytes "$ship_bytes" --dir "$ship_dir" --reuse \
  --level 3
rm -rf "$ship_dir"
run idle "$bench/outpost_bench_idle" --output --seconds "$idle_seconds" --starts "$starts"
run startup "$bench/outpost_bench_idle" --seconds 1 --starts "$starts"
run checks "$bench/outpost_bench_checks" --runs "$check_runs"
run limits "$bench/outpost_bench_limits" --mib "$limits_mib" --limits 0,25
# outpost_bench_config has no options: two lines of text.
echo "==> config: outpost_bench_config" >&2
"$bench/outpost_bench_config" >"$out/config.txt" 2>"$out/config.err" || true
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
if [[ -n $keep_json ]]; then mkdir -p "$keep_json" && cp "$out"/* "$keep_json"/; fi

# The machine.
cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
cores=$(nproc)
ram=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
kernel=$(uname -r)
debian=$(cat /etc/debian_version 2>/dev/null || echo unknown)
compiler=$(sed -n 's/^CMAKE_CXX_COMPILER:FILEPATH=//p' "$build_dir/CMakeCache.txt" 2>/dev/null)
compiler="$(${compiler:-c++} --version | head -n1) ($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' \
  "$build_dir/CMakeCache.txt" 2>/dev/null))"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- lib app platform bench 2>/dev/null || commit="$commit + local changes"

BENCH_OUT=$out BENCH_BIN=$bin BENCH_WRITE=$write BENCH_DOC=docs/performance.md \
BENCH_CPU=$cpu BENCH_CORES=$cores BENCH_RAM=$ram BENCH_KERNEL=$kernel BENCH_DEBIAN=$debian \
BENCH_COMPILER=$compiler BENCH_COMMIT=$commit BENCH_COMMAND=$command_line \
BENCH_LOAD="$load_before -> $load_after" python3 - <<'PY'
import json, os, re, datetime

out = os.environ["BENCH_OUT"]

def load(name):
    try:
        with open(os.path.join(out, name + ".json")) as f:
            return json.loads(f.read().strip() or "{}")
    except (OSError, ValueError):
        return {"failed": True}

ingest, ship3, idle, startup, checks, limits = (
    load(n) for n in ("ingest", "ship_level3", "idle", "startup", "checks", "limits"))
ship_runs = [load(n) for n in ("ship_1", "ship_2", "ship_3")]
ship_ok = sorted((r for r in ship_runs if not r.get("failed")), key=lambda r: r["mb_per_s"])
ship = ship_ok[len(ship_ok) // 2] if len(ship_ok) == 3 else {"failed": True}
config_text = open(os.path.join(out, "config.txt")).read() if os.path.exists(
    os.path.join(out, "config.txt")) else ""

rows = []  # (measure, value text, target text, ok text)

def row(measure, value, fmt, target=None, better=None):
    """better: 'min' (value >= target) or 'max' (value <= target)."""
    if value is None:
        rows.append((measure, "failed", target_text(target, better), "no"))
        return
    ok = ""
    if target is not None:
        ok = "yes" if (value >= target if better == "min" else value <= target) else "**no**"
    rows.append((measure, fmt.format(value), target_text(target, better), ok))

def target_text(target, better):
    if target is None:
        return ""
    return (">= " if better == "min" else "<= ") + str(target)

def get(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d

mib = 1024 * 1024
row("ingest, file -> buffer.db (MB/s of input)", get(ingest, "mb_per_s"), "{:.0f}")
row("ingest (lines/s)", get(ingest, "lines_per_s"), "{:,.0f}")
row("ingest CPU (s per GB of input)", get(ingest, "cpu_s_per_gb"), "{:.1f}")
row("end to end, file -> HTTPS receiver (MB/s of input)", get(ship, "mb_per_s"), "{:.0f}",
    200, "min")
row("end to end (records/s)", get(ship, "records_per_s"), "{:,.0f}")
row("end to end CPU (s per GB of input)", get(ship, "cpu_s_per_gb"), "{:.1f}", 3, "max")
row("zstd alone at level 1 over the NDJSON, one thread (CPU s per GB of input)",
    get(ingest, "zstd_ndjson_cpu_s_per_gb"), "{:.1f}")
row("zstd alone at level 1 over the log text itself (CPU s per GB of input)",
    get(ingest, "zstd_log_cpu_s_per_gb"), "{:.1f}")
row("end to end, buffer.compression_level = 3 (MB/s)", get(ship3, "mb_per_s"), "{:.0f}")
row("end to end, compression_level = 3 (CPU s per GB)", get(ship3, "cpu_s_per_gb"), "{:.1f}")
row("peak RSS under load, end to end (MiB)", get(ship, "peak_rss_mib"), "{:.1f}", 40, "max")
row("idle RSS, with [output] (MiB, peak over the window)", get(idle, "idle_rss_mib_peak"),
    "{:.1f}", 10, "max")
row("idle RSS, no [output] (MiB)", get(startup, "idle_rss_mib_peak"), "{:.1f}", 10, "max")
secs = get(idle, "idle_seconds")
row("idle CPU over {:.0f} s (CPU s)".format(secs or 0), get(idle, "idle_cpu_seconds"), "{:.3f}")
row("idle wakeups (per second)", get(idle, "idle_wakeups_per_second"), "{:.2f}", 1, "max")
row("startup to READY=1, no [output] (ms, median)", get(startup, "startup_ms_median"), "{:.1f}",
    20, "max")
row("startup to READY=1, HTTPS [output] (ms, median)", get(idle, "startup_ms_median"), "{:.1f}",
    20, "max")
row("stop, SIGTERM to exit (ms, median)", get(idle, "stop_ms_median"), "{:.1f}")
row("`outpost version` spawn to exit (ms, median)", get(checks, "version", "wall_ms_median"),
    "{:.1f}")
row("`outpost check`, baseline policy (ms, median)", get(checks, "check", "wall_ms_median"),
    "{:.0f}")
row("`outpost query` processes (ms, median)", get(checks, "query_processes", "wall_ms_median"),
    "{:.0f}")
for r in get(limits, "runs") or []:
    if r.get("max_cpu_percent") == 25:
        row("limits.max_cpu_percent = 25: CPU share (% avg, worst 1 s window)",
            r.get("avg_cpu_percent"), "{:.0f}")
        rows[-1] = (rows[-1][0], "{:.0f} ({:.0f})".format(
            r.get("avg_cpu_percent", 0), r.get("max_window_cpu_percent", 0)), "", "")
m = re.search(r"zstd level 3: ([0-9.]+) MB/s, ratio ([0-9.]+)", config_text)
if m:
    rows.append(("zstd level 3, bench/config's repetitive NDJSON (MB/s, ratio)", "{} ({})".format(m.group(1), m.group(2)),
                 "", ""))
m = re.search(r"config parse: ([0-9.]+) us", config_text)
if m:
    rows.append(("config parse, example config (us)", m.group(1), "", ""))
size = os.path.getsize(os.environ["BENCH_BIN"]) if os.path.exists(os.environ["BENCH_BIN"]) else None
row("binary size, static and stripped (MiB)", size / mib if size else None, "{:.2f}")

# The table, for the terminal.
w = [max(len(r[i]) for r in rows + [("measure", "value", "target", "ok")]) for i in range(4)]
line = lambda r: "  ".join(r[i].ljust(w[i]) for i in range(4)).rstrip()
print(line(("measure", "value", "target", "ok")))
for r in rows:
    print(line(tuple(c.replace("**", "") for c in r)))

details = []
if not ship.get("failed"):
    details.append("end to end: {:.0f} MB, {:,} lines in {:.2f} s ({:.2f} s to the first "
                   "request: `run --once` uploads while it reads); agent CPU {:.2f} s "
                   "({:.2f} s of it before the first request); {:.0f} MB of request bodies in "
                   "{} requests".format(ship["input_mb"], ship["lines"], ship["wall_s"],
                                        ship["first_request_s"], ship["cpu_s"],
                                        ship["cpu_s_before_upload"], ship["wire_mb"],
                                        ship["requests"]))
if len(ship_ok) == 3:
    details.append("end to end, the three runs: " + ", ".join(
        "{:.0f} MB/s at {:.1f} CPU s per GB".format(r["mb_per_s"], r["cpu_s_per_gb"])
        for r in ship_runs) + " (the table shows the median run)")
if not ship3.get("failed"):
    details.append("end to end at compression_level = 3: {:.0f} MB of request bodies against "
                   "{:.0f} MB at level 1, the default".format(ship3["wire_mb"], ship.get("wire_mb", 0)))
if not ingest.get("failed"):
    details.append("ingest: {:.0f} MB, {:,} lines, {} chunks, zstd level {}; buffer.db is {:.3f} "
                   "bytes per input byte; peak RSS {:.1f} MiB (the benchmark process)".format(
                       ingest["input_mb"], ingest["lines"], ingest["chunks"], ingest["level"],
                       ingest["buffer_per_input"], ingest["peak_rss_mib"]))
if not idle.get("failed"):
    details.append("idle ({:.0f} s window, one file source and an HTTPS [output]): RSS {:.1f} MiB "
                   "(anon {:.1f}, file-backed {:.1f}), {} threads, CPU {:.3f}% of one core; "
                   "startup {:.1f} ms on a fresh state directory, {:.1f} ms median, {:.1f} ms "
                   "worst of {} starts".format(
                       idle["idle_seconds"], idle["idle_rss_mib_peak"], idle["idle_rss_anon_mib"],
                       idle["idle_rss_file_mib"], len(idle["threads"]), idle["idle_cpu_percent"],
                       idle["startup_ms_first"], idle["startup_ms_median"],
                       idle["startup_ms_worst"], idle["starts"]))
if not startup.get("failed"):
    details.append("startup without [output]: {:.1f} ms on a fresh state directory, {:.1f} ms "
                   "median, {:.1f} ms worst of {} starts".format(
                       startup["startup_ms_first"], startup["startup_ms_median"],
                       startup["startup_ms_worst"], startup["starts"]))
if not get(checks, "check") is None:
    c = checks["check"]
    details.append("`outpost check`: {:.0f} ms wall, {:.0f} ms CPU, peak RSS {:.1f} MiB (exit {}: "
                   "1 means a check failed on this machine, a result)".format(
                       c["wall_ms_median"], c["cpu_ms_median"], c["rss_mib_median"], c["exit"]))
for d in details:
    print("  " + d)

if os.environ["BENCH_WRITE"] != "1":
    raise SystemExit(0)

md = ["| measure | value | target | ok |", "|---|---|---|---|"]
md += ["| {} | {} | {} | {} |".format(*r) for r in rows]
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
block = "\n".join([
    "<!-- bench:begin (written by scripts/bench.sh; edit the text outside the markers) -->",
    "Measured {} with `{}` (commit {}).".format(now, os.environ["BENCH_COMMAND"],
                                             os.environ["BENCH_COMMIT"]),
    "",
    *md,
    "",
    *["- " + d for d in details],
    "",
    "Machine: {}, {} cores, {} RAM; Linux {}; Debian {}; {}. Load average (1, 5, 15 min) "
    "before and after: {}.".format(os.environ["BENCH_CPU"], os.environ["BENCH_CORES"],
                                   os.environ["BENCH_RAM"], os.environ["BENCH_KERNEL"],
                                   os.environ["BENCH_DEBIAN"], os.environ["BENCH_COMPILER"],
                                   os.environ["BENCH_LOAD"]),
    "<!-- bench:end -->",
])
doc = os.environ["BENCH_DOC"]
text = open(doc).read() if os.path.exists(doc) else "# Performance\n\n<!-- bench:begin -->\n<!-- bench:end -->\n"
new, n = re.subn(r"<!-- bench:begin.*?<!-- bench:end -->", lambda _: block, text, flags=re.S)
if n != 1:
    raise SystemExit("bench.sh: {} has no <!-- bench:begin --> ... <!-- bench:end --> markers".format(doc))
with open(doc, "w") as f:
    f.write(new)
print("wrote " + doc)
PY

#!/usr/bin/env bash
# scripts/fuzz.sh — build and run outpost's libFuzzer targets (docs/fuzzing.md).
#
#   scripts/fuzz.sh TARGET SECONDS [--merge]   run one target for SECONDS
#   scripts/fuzz.sh all SECONDS [--merge]      run every target, OUTPOST_FUZZ_JOBS (2) at a time
#   scripts/fuzz.sh --list                     the target names
#
# Installs clang-14 and its sanitizer/libFuzzer runtime (libclang-rt-14-dev) when they
# are missing, builds the deps (scripts/deps.sh linux) and the `fuzz` preset
# (build/fuzz), then runs each target on a copy-free seed: tests/fuzz/corpus/<target>/
# is read, never written; new inputs go to a temp dir, unless --merge, which merges
# the inputs that add coverage into tests/fuzz/corpus/<target>/ afterwards.
# Crash, leak and timeout inputs are written to a temp dir printed in the summary and
# kept; the temp dir of a clean run is removed. Exits 1 if any target failed.
# OUTPOST_FUZZ_WORK sets where the temp dirs go (default: $TMPDIR or /tmp).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

usage() {
  echo "usage: scripts/fuzz.sh TARGET|all SECONDS [--merge] | --list" >&2
  exit 2
}
targets() { # every tests/fuzz/<name>_fuzz.cc
  local f
  for f in tests/fuzz/*_fuzz.cc; do
    f=${f##*/}
    echo "${f%_fuzz.cc}"
  done
}

[[ $# -ge 1 ]] || usage
if [[ $1 == --list ]]; then
  targets
  exit 0
fi
[[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || usage
target=$1
seconds=$2
merge=${3:-}
[[ -z "$merge" || "$merge" == --merge ]] || usage
if [[ $target == all ]]; then
  mapfile -t run_list < <(targets)
else
  targets | grep -qx -- "$target" || { echo "no fuzz target '$target' (see --list)" >&2; exit 2; }
  run_list=("$target")
fi

# ------------------------------------------------------------------ tools and build
need=(clang-14 libclang-rt-14-dev)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=(); [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  echo "installing ${missing[*]}" >&2
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

prefix=$(scripts/deps.sh linux | tail -n 1)
OUTPOST_DEPS_PREFIX="$prefix" cmake --preset fuzz >/dev/null
mkdir -p build
log=build/fuzz-build.log
if ! cmake --build --preset fuzz -j"$(nproc 2>/dev/null || echo 2)" >"$log" 2>&1; then
  tail -n 60 "$log" >&2
  echo "fuzz build failed (full log: $log)" >&2
  exit 1
fi

# ------------------------------------------------------------------ running
work_base=${OUTPOST_FUZZ_WORK:-${TMPDIR:-/tmp}}
mkdir -p "$work_base"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# run_one NAME -> prints one summary line; the status says whether it found anything.
run_one() {
  local name=$1
  local exe=build/fuzz/tests/fuzz/${name}_fuzz
  local seeds=tests/fuzz/corpus/$name
  if [[ ! -x "$exe" ]]; then
    printf '%-16s FAILED  not built: add it to tests/fuzz/CMakeLists.txt\n' "$name"
    return 1
  fi
  local work
  work=$(mktemp -d "$work_base/outpost-fuzz-$name.XXXXXX")
  mkdir -p "$work/corpus" "$work/crashes" "$seeds"
  local start=$SECONDS rc=0
  "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/crashes/" "$work/corpus" "$seeds" >"$work/log" 2>&1 || rc=$?
  local took=$((SECONDS - start))
  local execs cov
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1) || true
  cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -n 1 | cut -d' ' -f2) || true
  if ((rc == 0)); then
    if [[ -n "$merge" ]]; then
      "$exe" -merge=1 "$seeds" "$work/corpus" >"$work/merge.log" 2>&1
    fi
    rm -rf "$work"
    printf '%-16s ok      %4d s %10s execs  cov %5s\n' "$name" "$took" "${execs:-?}" "${cov:-?}"
    return 0
  fi
  local found
  found=$(ls "$work/crashes" 2>/dev/null | head -n 5 | tr '\n' ' ') || true
  printf '%-16s FAILED  %4d s %10s execs  cov %5s  rc %d  inputs: %s/crashes/ %s\n' \
    "$name" "$took" "${execs:-?}" "${cov:-?}" "$rc" "$work" "$found"
  {
    echo "---- $name: last lines of $work/log"
    grep -v '^#[0-9]' "$work/log" | tail -n 40 || true
    echo "---- reproduce: $exe $work/crashes/<input>"
  } >&2
  return 1
}

jobs=${OUTPOST_FUZZ_JOBS:-2}
((${#run_list[@]} > 1)) || jobs=1
echo "fuzzing ${#run_list[@]} target(s) x ${seconds} s, $jobs at a time"
failed=0
running=0
for name in "${run_list[@]}"; do
  if ((running >= jobs)); then
    wait -n || failed=1
    running=$((running - 1))
  fi
  run_one "$name" &
  running=$((running + 1))
done
while ((running > 0)); do
  wait -n || failed=1
  running=$((running - 1))
done
if ((failed)); then
  echo "fuzzing found a problem (inputs kept; see above)" >&2
  exit 1
fi
echo "fuzzing: no crashes"

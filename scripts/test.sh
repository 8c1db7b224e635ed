#!/usr/bin/env bash
# scripts/test.sh — everything CI checks, from a fresh Debian 12 machine:
#   1. dependencies for Linux and Windows (scripts/deps.sh; cached after the first run)
#   2. dev build (Debug, ASan+UBSan, -Werror) and all its tests
#   3. release build (static, stripped) and all its tests, including the static-link check,
#      then a ThreadSanitizer build and the tests of the threaded parts,
#      then every fuzz target for OUTPOST_FUZZ_SECONDS (30) each (scripts/fuzz.sh)
#   4. Windows cross build and its tests under Wine, then `outpost.exe version`
#   5. formatting check (clang-format)
# Compiles go through ccache (Debian's), cached in ~/.cache/outpost-ccache across runs
# and clones: a run after a build of the same sources compiles almost nothing.
# Prints how long each step took. Exits non-zero on the first failure.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=$(nproc 2>/dev/null || echo 2)
timings=()
step_start=0
step() {
  step_start=$SECONDS
  step_name=$1
  printf '\n==> %s\n' "$1"
}
step_done() { timings+=("$(printf '%-44s %4d s' "$step_name" $((SECONDS - step_start)))"); }
summary() {
  printf '\n==> timings\n'
  printf '  %s\n' "${timings[@]}"
}
trap 'rc=$?; if [[ $rc -ne 0 ]]; then summary; echo "FAILED in step: $step_name" >&2; fi' EXIT

step "test tools"
# rpm, lintian, rpmlint, man-db, wixl, msitools: scripts/package.sh and its tests.
tools=(ccache clang-format file python3 curl python3-zstandard zstd minisign rpm lintian rpmlint man-db wixl msitools)
missing=()
for p in "${tools[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=(); [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
step_done

# The project's own objects, cached outside the clone: CCACHE_BASEDIR makes the paths
# in each command relative to this clone and CCACHE_NOHASHDIR leaves the working
# directory out of the key, so another clone of the same commit hits the same entries
# (tests get the source path at run time, tests/source_dir.h). The sloppiness settings
# are what ccache needs to cache the tests' precompiled headers.
export CCACHE_DIR=${OUTPOST_CCACHE_DIR:-$HOME/.cache/outpost-ccache}
export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-10G}
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
ccache --zero-stats >/dev/null

step "dependencies (linux)"
linux_prefix=$(scripts/deps.sh linux | tail -n 1)
step_done

step "dependencies (windows)"
windows_prefix=$(scripts/deps.sh windows | tail -n 1)
step_done

build_and_test() { # build_and_test PRESET PREFIX [CTEST ARGS...]
  local preset=$1 prefix=$2
  shift 2
  local ctest_args=("$@")
  ((${#ctest_args[@]})) || ctest_args=(-j"$jobs" --timeout 600)
  step "build $preset"
  OUTPOST_DEPS_PREFIX="$prefix" cmake --preset "$preset" >/dev/null
  local log="build/$preset-build.log"
  if ! cmake --build --preset "$preset" -j"$jobs" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "build $preset failed (full log: $log)" >&2
    exit 1
  fi
  grep -E "warning|outpost binary" "$log" || true
  step_done
  step "test $preset"
  [[ "$preset" != windows ]] || wine_warm_up
  ctest --preset "$preset" "${ctest_args[@]}"
  step_done
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
build_and_test dev "$linux_prefix"
build_and_test release "$linux_prefix"
ls -l build/release/app/outpost
file build/release/app/outpost

# ThreadSanitizer over the threaded parts (docs/building.md): the unit tests (sealer,
# subprocess reader, change watcher wake-ups, pipeline, shipper, governor) and the
# integration tests that run `outpost run` with its threads (pipeline, sealer,
# uploader, check scheduler, journal reader). A report fails the test (halt_on_error).
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4"
build_and_test tsan "$linux_prefix" -j"$jobs" --timeout 900 \
  -R '^(lib_unit_tests|platform_unit_tests|pipeline_integration|run_checks_integration|journal_integration|ship_crash_safety)$'
unset TSAN_OPTIONS

# Every libFuzzer target (docs/fuzzing.md), two at a time (the CI machine has 2 cores);
# any crash, leak, timeout or failed check fails CI, its input kept in a temp dir.
fuzz_seconds=${OUTPOST_FUZZ_SECONDS:-30}
step "fuzz ($(scripts/fuzz.sh --list | wc -l) targets x $fuzz_seconds s)"
OUTPOST_FUZZ_JOBS=2 scripts/fuzz.sh all "$fuzz_seconds"
step_done

# Wine: a throwaway prefix, and one wineserver kept alive around ctest so each test
# does not pay for starting one.
export WINEPREFIX
WINEPREFIX=$(mktemp -d /tmp/outpost-wine.XXXXXX)
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
cleanup_wine() { wineserver -k 2>/dev/null || true; rm -rf "$WINEPREFIX"; }
trap 'rc=$?; cleanup_wine; if [[ $rc -ne 0 ]]; then summary; echo "FAILED in step: $step_name" >&2; fi' EXIT
# The first start of a program in a new prefix can stall while Wine finishes setting
# the prefix up; one bounded start before the tests keeps that out of them.
wine_warm_up() { timeout 120 wine build/windows/app/outpost.exe --help >/dev/null || true; }
step "wine prefix"
wineboot --init >/dev/null 2>&1 || true
wineserver -w # the server wineboot started exits on its own; then keep one alive
wineserver -p
step_done
# Serially, each test bounded; a test that stalls in Wine's start-up is run once more
# (after-timeout only: a test that fails is never retried).
build_and_test windows "$windows_prefix" -j1 --timeout 180 --repeat after-timeout:2
step "outpost.exe: static, system DLLs only, runs under Wine"
# A static outpost.exe imports only DLLs that every Windows has.
imports=$(x86_64-w64-mingw32-objdump -p build/windows/app/outpost.exe | sed -n 's/.*DLL Name: //p')
echo "imports: $(echo $imports)"
for dll in $imports; do
  case "${dll,,}" in
    kernel32.dll | advapi32.dll | bcrypt.dll | crypt32.dll | msvcrt.dll | ws2_32.dll | secur32.dll | user32.dll | winmm.dll | ntdll.dll | wevtapi.dll | netapi32.dll | iphlpapi.dll | version.dll) ;;
    *) echo "outpost.exe imports a non-system DLL: $dll" >&2; exit 1 ;;
  esac
done
ls -l build/windows/app/outpost.exe
wine build/windows/app/outpost.exe version
step_done

step "clang-format check"
if command -v clang-format >/dev/null; then
  git ls-files '*.cc' '*.h' | xargs clang-format --dry-run -Werror
else
  echo "clang-format not installed; skipped" >&2
fi
step_done

printf '\n==> ccache\n'
ccache --show-stats | grep -E 'Hits|Misses|Cache size' || true
summary
echo "all tests passed"

#!/usr/bin/env bash
# scripts/chaos.sh — outpost's fault-injection suite (docs/chaos.md): the real binary,
# a real HTTPS receiver on 127.0.0.1, seeded randomness; one summary line per scenario:
#   <scenario>: N records written, N delivered, N lost, N duplicated after de-duplication
#
#   scripts/chaos.sh [--short|--long] [--seed N] [--scenario NAME...] [--binary PATH]
#                    [--keep] [--list]
#
# --short (default) takes under ~2 minutes and runs in ctest (chaos_short, release
# build); --long runs the full sizes (100 SIGKILLs, 30 s stalls, 10,000 files, a 50 MB
# line). Without --binary the release binary is built first (cmake --preset release,
# dependencies from scripts/deps.sh). Exits non-zero if any scenario lost or duplicated
# records or failed. The disk-full scenario mounts a tmpfs: it needs root, and says
# SKIPPED otherwise.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
binary=""
args=()
while (($#)); do
  case $1 in
    --binary)
      [[ $# -ge 2 ]] || { echo "chaos.sh: --binary needs a path" >&2; exit 2; }
      binary=$2
      shift 2
      ;;
    --binary=*)
      binary=${1#--binary=}
      shift
      ;;
    -h | --help)
      sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      args+=("$1")
      shift
      ;;
  esac
done

if [[ -z $binary ]]; then
  cd "$root"
  OUTPOST_DEPS_PREFIX=${OUTPOST_DEPS_PREFIX:-$(scripts/deps.sh linux --print-prefix)}
  export OUTPOST_DEPS_PREFIX
  cmake --preset release >/dev/null
  cmake --build build/release -j"$(nproc 2>/dev/null || echo 2)" --target outpost >/dev/null
  binary=$root/build/release/app/outpost
fi

exec python3 "$root/tests/chaos/chaos.py" --binary "$binary" --source-dir "$root" "${args[@]}"

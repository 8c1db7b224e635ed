#!/usr/bin/env bash
# scripts/demo.sh — outpost's main job, end to end, on a fresh Debian 12 machine.
# Today: install and build the dependencies, build the static release binary, then
# write a config (`config init`), check it (`config check`), show it and print the
# version. Later work grows this into tail -> buffer -> upload.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
prefix=$(scripts/deps.sh linux | tail -n 1)
OUTPOST_DEPS_PREFIX="$prefix" cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" 2>&1 | grep -E "warning|error|outpost binary" || true
bin="$root/build/release/app/outpost"
[[ -x "$bin" ]] || { echo "build failed" >&2; exit 1; }

work=$(mktemp -d /tmp/outpost-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
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

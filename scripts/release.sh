#!/usr/bin/env bash
# scripts/release.sh — the publisher side of self-update (docs/releasing.md).
#
#   scripts/release.sh --key KEY --out DIR [--channel stable] [--seq N]
#                      [--expires-days 30] [--rollout PERCENT] [--salt TEXT]
#                      [--min-version V] [--critical] [--block V]... [--rollback-to V]
#                      [--binary OS-ARCH=PATH]... [--no-build]
#
# Builds the static Linux binary (release preset) and outpost.exe (windows preset),
# unless --no-build and --binary name them, copies each to DIR as
# outpost-<version>-<os>-<arch>[.exe], writes DIR/<channel>.json (schema 1; targets with
# relative urls, size and sha256) and signs it with `minisign -S` with the trusted
# comment "outpost-feed schema=1 channel=<c> seq=<n> expires=<t>". The version is what
# the binaries print for --self-test (they must agree). seq defaults to the seq of the
# feed already in DIR plus one (1 for a new channel), so republishing never goes back.
# Upload DIR to any web server; agents fetch <url>/<channel>.json. With DIR copied to a
# machine, `outpost update apply --from DIR` works offline.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
die() { echo "release.sh: $*" >&2; exit 2; }

key="" out="" channel=stable seq="" expires_days=30 rollout=100 salt="" min_version=0.0.0
critical=false rollback_to="" build=1
blocked=() binaries=()
while (($#)); do
  case "$1" in
    --key) key=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --channel) channel=$2; shift 2 ;;
    --seq) seq=$2; shift 2 ;;
    --expires-days) expires_days=$2; shift 2 ;;
    --rollout) rollout=$2; shift 2 ;;
    --salt) salt=$2; shift 2 ;;
    --min-version) min_version=$2; shift 2 ;;
    --critical) critical=true; shift ;;
    --block) blocked+=("$2"); shift 2 ;;
    --rollback-to) rollback_to=$2; shift 2 ;;
    --binary) binaries+=("$2"); shift 2 ;;
    --no-build) build=0; shift ;;
    -h | --help) usage 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[[ -n "$key" && -f "$key" ]] || die "--key must name a minisign secret key file (minisign -G)"
[[ -n "$out" ]] || die "--out DIR is required"
[[ "$channel" =~ ^[A-Za-z0-9._-]+$ ]] || die "--channel may hold only letters, digits, '.', '_' and '-'"
command -v minisign >/dev/null || die "minisign is not installed (apt-get install minisign)"

if ((build)); then
  prefix=$("$root/scripts/deps.sh" linux --print-prefix)
  (cd "$root" && OUTPOST_DEPS_PREFIX=$prefix cmake --preset release >/dev/null &&
    cmake --build --preset release -j"$(nproc)" >/dev/null)
  binaries+=("linux-$(uname -m)=$root/build/release/app/outpost")
  wprefix=$("$root/scripts/deps.sh" windows --print-prefix)
  (cd "$root" && OUTPOST_DEPS_PREFIX=$wprefix cmake --preset windows >/dev/null &&
    cmake --build --preset windows -j"$(nproc)" >/dev/null)
  binaries+=("windows-x86_64=$root/build/windows/app/outpost.exe")
fi
((${#binaries[@]})) || die "no binaries: give --binary OS-ARCH=PATH or drop --no-build"

# The version: what a binary this machine can run prints for --self-test.
version=""
for b in "${binaries[@]}"; do
  target=${b%%=*} path=${b#*=}
  [[ -f "$path" ]] || die "$path does not exist"
  case "$target" in
    linux-* | macos-*)
      if [[ "$target" == "$(uname -s | tr A-Z a-z)-$(uname -m)" ]]; then
        v=$("$path" --self-test | head -n 1 | sed -n 's/^outpost //p')
        [[ -n "$v" ]] || die "$path --self-test did not print 'outpost <version>'"
        [[ -z "$version" || "$version" == "$v" ]] || die "binaries disagree on the version: $version, $v"
        version=$v
      fi
      ;;
  esac
done
[[ -n "$version" ]] || die "no binary for this machine to read the version from"

mkdir -p "$out"
feed="$out/$channel.json"
if [[ -z "$seq" ]]; then
  seq=1
  if [[ -f "$feed" ]]; then
    seq=$(($(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seq"])' "$feed") + 1))
  fi
fi
[[ -n "$salt" ]] || salt="$channel-$version"

targets=()
for b in "${binaries[@]}"; do
  target=${b%%=*} path=${b#*=}
  os=${target%%-*} arch=${target#*-}
  ext=""
  [[ "$os" != windows ]] || ext=.exe
  name="outpost-$version-$os-$arch$ext"
  cp "$path" "$out/$name.tmp" && mv "$out/$name.tmp" "$out/$name"
  targets+=("$os" "$arch" "$name" "$(stat -c %s "$out/$name")" "$(sha256sum "$out/$name" | cut -d' ' -f1)")
done

expires=$(date -u -d "+$expires_days days" +%Y-%m-%dT%H:%M:%SZ)
issued=$(date -u +%Y-%m-%dT%H:%M:%SZ)
python3 - "$feed.tmp" "$channel" "$seq" "$issued" "$expires" "$version" "$min_version" \
  "$critical" "$rollout" "$salt" "$rollback_to" "${#blocked[@]}" "${blocked[@]}" "${targets[@]}" <<'EOF'
import json, sys
a = sys.argv[1:]
path, channel, seq, issued, expires, version, min_version, critical, rollout, salt, rollback_to = a[:11]
nblocked = int(a[11])
blocked = a[12:12 + nblocked]
t = a[12 + nblocked:]
targets = [{"os": t[i], "arch": t[i + 1], "url": t[i + 2], "size": int(t[i + 3]), "sha256": t[i + 4]}
           for i in range(0, len(t), 5)]
feed = {"schema": 1, "channel": channel, "seq": int(seq), "keyset_epoch": 1,
        "issued_at": issued, "expires": expires,
        "release": {"version": version, "min_version": min_version,
                    "critical": critical == "true",
                    "rollout": {"percent": float(rollout), "salt": salt},
                    "targets": targets}}
if blocked:
    feed["blocked_versions"] = blocked
if rollback_to:
    feed["rollback_to"] = rollback_to
with open(path, "w") as f:
    json.dump(feed, f, indent=2)
    f.write("\n")
EOF
mv "$feed.tmp" "$feed"
rm -f "$feed.minisig"
minisign -S -s "$key" -m "$feed" -x "$feed.minisig" \
  -t "outpost-feed schema=1 channel=$channel seq=$seq expires=$expires" </dev/null >/dev/null
echo "release.sh: $feed: version $version, seq $seq, expires $expires, ${#binaries[@]} target(s), signed"

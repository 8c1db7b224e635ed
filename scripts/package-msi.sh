#!/usr/bin/env bash
# scripts/package-msi.sh — build the Windows installer on Linux (docs/packaging.md).
#
#   scripts/package-msi.sh [--binary PATH] [--version V] [--out DIR] [--policy FILE]
#                          [--config-tool PATH]
#
# Makes outpost-<V>-x64.msi in DIR (default build/packages) with wixl (Debian: wixl,
# msitools) from installer/windows/outpost.wxs and the static outpost.exe (default
# build/windows/app/outpost.exe, built with the windows preset when missing). V (a.b.c,
# the MSI ProductVersion) defaults to the project version in CMakeLists.txt. It holds:
#   %ProgramFiles%\outpost\outpost.exe
#   %ProgramFiles%\outpost\policies\windows-baseline.toml   (--policy; default
#                                                          installer/policies/)
#   %ProgramData%\outpost\outpost.toml    the example config with Windows paths, written
#                                         by `outpost config init --os windows` (run by
#                                         --config-tool: a native outpost binary,
#                                         default build/release or build/dev); never
#                                         overwritten by an upgrade, kept on uninstall
#   %ProgramData%\outpost\state\          created, kept on uninstall (buffer.db)
# and the service "outpost" (automatic start, `outpost.exe run --service`), started at
# install and stopped at upgrade and uninstall. The data folder, config and state folder
# are locked to SYSTEM and Administrators (MsiLockPermissionsEx, SDDL). wixl has no attribute for permanent or
# never-overwrite components, so those two bits are set in the Component table after
# the build (msibuild). Exit 0 with the package path printed, 2 on a usage error, 1 on
# failure.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
usage() { sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
die() { echo "package-msi.sh: $*" >&2; exit 2; }
fail() { echo "package-msi.sh: $*" >&2; exit 1; }

binary="" version="" out="$root/build/packages" policy="$root/installer/policies/windows-baseline.toml"
config_tool=""
while (($#)); do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --policy) policy=$2; shift 2 ;;
    --config-tool) config_tool=$2; shift 2 ;;
    -h | --help) usage 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

command -v wixl >/dev/null || fail "wixl is not installed (apt-get install wixl)"
command -v msibuild >/dev/null || fail "msibuild is not installed (apt-get install msitools)"

if [[ -z "$binary" ]]; then
  binary="$root/build/windows/app/outpost.exe"
  if [[ ! -f "$binary" ]]; then
    echo "package-msi.sh: building outpost.exe (windows preset)" >&2
    prefix=$("$root/scripts/deps.sh" windows --print-prefix)
    (cd "$root" && OUTPOST_DEPS_PREFIX=$prefix cmake --preset windows >/dev/null &&
      cmake --build build/windows -j"$(nproc)" --target outpost >/dev/null)
  fi
fi
[[ -f "$binary" ]] || die "$binary does not exist (--binary)"
[[ -f "$policy" ]] || die "$policy does not exist (--policy)"
if [[ -z "$config_tool" ]]; then
  for c in "$root/build/release/app/outpost" "$root/build/dev/app/outpost"; do
    [[ -x "$c" ]] && { config_tool=$c; break; }
  done
fi
[[ -n "$config_tool" && -x "$config_tool" ]] ||
  die "no native outpost binary to write the example config (--config-tool PATH)"

if [[ -z "$version" ]]; then
  version=$(sed -n 's/^project(outpost VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
fi
# ProductVersion: major.minor.build, at most 255.255.65535.
[[ "$version" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] ||
  die "version '$version' must be a.b.c (an MSI ProductVersion)"
((BASH_REMATCH[1] <= 255 && BASH_REMATCH[2] <= 255 && BASH_REMATCH[3] <= 65535)) ||
  die "version '$version' is out of range (at most 255.255.65535)"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$binary" "$stage/outpost.exe"
cp "$policy" "$stage/windows-baseline.toml"
"$config_tool" config init --os windows "$stage/outpost.toml" >/dev/null ||
  fail "$config_tool config init --os windows failed"
# The MSI installs text files byte for byte: Windows line endings for Notepad.
sed -i 's/$/\r/' "$stage/outpost.toml"

mkdir -p "$out"
msi="$out/outpost-$version-x64.msi"
rm -f "$msi"
# wixl resolves File/@Source against the working directory.
(cd "$stage" && wixl -a x64 -D Version="$version" -D Binary=outpost.exe -D Config=outpost.toml \
  -D Policy=windows-baseline.toml -o "$stage/outpost.msi" "$root/installer/windows/outpost.wxs") ||
  fail "wixl failed on installer/windows/outpost.wxs"
# msidbComponentAttributes: 64bit 0x100, Permanent 0x10, NeverOverwrite 0x80.
msibuild "$stage/outpost.msi" \
  -q "UPDATE \`Component\` SET \`Attributes\` = 400 WHERE \`Component\` = 'Config'" ||
  fail "msibuild could not mark the config permanent and never overwritten"
msibuild "$stage/outpost.msi" \
  -q "UPDATE \`Component\` SET \`Attributes\` = 272 WHERE \`Component\` = 'State'" ||
  fail "msibuild could not mark the state directory permanent"
# Protected ACLs (SDDL; Windows Installer 5): SYSTEM and Administrators only, on the
# data folder, the config (it may hold a token) and the state folder (buffer.db holds
# the logs), inherited by what the agent creates inside.
msibuild "$stage/outpost.msi" -q "CREATE TABLE \`MsiLockPermissionsEx\` (\`MsiLockPermissionsEx\` CHAR(72) NOT NULL, \`LockObject\` CHAR(72) NOT NULL, \`Table\` CHAR(32) NOT NULL, \`SDDLText\` LONGCHAR NOT NULL, \`Condition\` CHAR(255) PRIMARY KEY \`MsiLockPermissionsEx\`)" ||
  fail "msibuild could not add the MsiLockPermissionsEx table"
lock() {
  msibuild "$stage/outpost.msi" -q "INSERT INTO \`MsiLockPermissionsEx\` (\`MsiLockPermissionsEx\`, \`LockObject\`, \`Table\`, \`SDDLText\`) VALUES ('$1', '$2', '$3', '$4')" ||
    fail "msibuild could not lock $2"
}
lock LockDataDir DataDir CreateFolder 'D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)'
lock LockConfig OutpostToml File 'D:P(A;;FA;;;SY)(A;;FA;;;BA)'
lock LockState StateDir CreateFolder 'D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)'
mv "$stage/outpost.msi" "$msi"
echo "$msi"

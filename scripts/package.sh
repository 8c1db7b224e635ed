#!/usr/bin/env bash
# scripts/package.sh — build the Linux packages (docs/packaging.md).
#
#   scripts/package.sh [--binary PATH] [--version V] [--out DIR] [--no-deb] [--no-rpm]
#
# Makes outpost_<V>_<arch>.deb (dpkg-deb) and outpost-<V>-1.<arch>.rpm (rpmbuild) in DIR
# (default build/packages) from the static binary (default build/release/app/outpost,
# built with the release preset when missing). V defaults to the version the binary
# prints for --self-test. Both packages hold:
#   /usr/bin/outpost                                    0755
#   <unitdir>/outpost.service, outpost-once.service, outpost-once.timer
#                                     (deb: /lib/systemd/system, rpm: /usr/lib/systemd/system)
#   /etc/outpost/outpost.toml                           0600, a conffile / %config(noreplace)
#   /usr/share/outpost/policies/linux-baseline.toml
#   /usr/share/man/man1/outpost.1.gz                    (scripts/gen-man.py, gzip -9n)
#   /usr/share/doc/outpost/copyright, changelog.gz     (deb; the rpm has %license, %doc)
# and maintainer scripts that create /var/lib/outpost (0700), enable and start
# outpost.service where systemd runs, keep config and buffer across upgrades, and remove
# /etc/outpost and /var/lib/outpost only on purge (deb). They honour DPKG_ROOT.
# OUTPOST_PACKAGE_MAINTAINER ("Name <address>") names the maintainer. Needs: dpkg-deb
# (no fakeroot: --root-owner-group), rpmbuild (apt: rpm), gzip, python3.
# Exit 0 with the package paths printed, 2 on a usage error, 1 on failure.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
die() { echo "package.sh: $*" >&2; exit 2; }
fail() { echo "package.sh: $*" >&2; exit 1; }

binary="" version="" out="$root/build/packages" make_deb=1 make_rpm=1
while (($#)); do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-deb) make_deb=0; shift ;;
    --no-rpm) make_rpm=0; shift ;;
    -h | --help) usage 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

if [[ -z "$binary" ]]; then
  binary="$root/build/release/app/outpost"
  if [[ ! -x "$binary" ]]; then
    echo "package.sh: building the static release binary" >&2
    prefix=$("$root/scripts/deps.sh" linux --print-prefix)
    (cd "$root" && OUTPOST_DEPS_PREFIX=$prefix cmake --preset release >/dev/null &&
      cmake --build --preset release -j"$(nproc)" --target outpost >/dev/null)
  fi
fi
[[ -x "$binary" ]] || die "$binary is not an executable"
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
if [[ -z "$version" ]]; then
  version=$("$binary" --self-test | head -n 1 | sed -n 's/^outpost //p')
  [[ -n "$version" ]] || fail "$binary --self-test did not print 'outpost <version>'"
fi
[[ "$version" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || die "version '$version' must start with a digit and hold only letters, digits and . + ~ -"
# Both formats order "1.0~rc1" before "1.0"; a '-' would split off a Debian revision.
pkg_version=${version//-/\~}
mkdir -p "$out"
out=$(cd "$out" && pwd)

case "$(uname -m)" in
  x86_64) deb_arch=amd64 rpm_arch=x86_64 ;;
  aarch64) deb_arch=arm64 rpm_arch=aarch64 ;;
  *) deb_arch=$(uname -m) rpm_arch=$(uname -m) ;;
esac

# Who the packages name as maintainer (deb Maintainer, rpm Packager and changelog).
maintainer=${OUTPOST_PACKAGE_MAINTAINER:-outpost maintainers <outpost-maintainers@example.com>}
[[ "$maintainer" =~ ^[^\|]+\ \<[^\|\ ]+@[^\|\ ]+\>$ ]] || die "OUTPOST_PACKAGE_MAINTAINER must read 'Name <address>'"

work=$(mktemp -d "${TMPDIR:-/tmp}/outpost-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
inst="$root/installer"
# Reproducible: file dates and the man page's date from SOURCE_DATE_EPOCH, else the
# last commit, else now.
: "${SOURCE_DATE_EPOCH:=$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)}"
export SOURCE_DATE_EPOCH

# The files both packages ship, below $1, with the unit directory $2.
stage() {
  local dest=$1 unitdir=$2
  install -D -m 0755 "$binary" "$dest/usr/bin/outpost"
  for u in outpost.service outpost-once.service outpost-once.timer; do
    install -D -m 0644 "$inst/linux/$u" "$dest$unitdir/$u"
  done
  install -d -m 0700 "$dest/etc/outpost"
  install -m 0600 "$inst/outpost.example.toml" "$dest/etc/outpost/outpost.toml"
  install -D -m 0644 "$inst/policies/linux-baseline.toml" \
    "$dest/usr/share/outpost/policies/linux-baseline.toml"
  install -d -m 0755 "$dest/usr/share/man/man1"
  python3 "$root/scripts/gen-man.py" "$binary" --version "$version" |
    gzip -9n >"$dest/usr/share/man/man1/outpost.1.gz"
  chmod 0644 "$dest/usr/share/man/man1/outpost.1.gz"
}

# A Debian changelog entry for this version (lintian wants one, gzip -9n).
debian_changelog() {
  local date
  date=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
  printf 'outpost (%s) unstable; urgency=medium\n\n' "$pkg_version"
  printf '  * Release %s. The full history is in CHANGELOG.md of the source.\n\n' "$version"
  printf ' -- %s  %s\n' "$maintainer" "$date"
}

if ((make_deb)); then
  d="$work/deb"
  stage "$d" /lib/systemd/system
  install -d -m 0755 "$d/usr/share/doc/outpost" "$d/usr/share/lintian/overrides"
  install -m 0644 "$inst/linux/copyright" "$d/usr/share/doc/outpost/copyright"
  debian_changelog | gzip -9n >"$d/usr/share/doc/outpost/changelog.gz"
  chmod 0644 "$d/usr/share/doc/outpost/changelog.gz"
  install -m 0644 "$inst/linux/deb/lintian-overrides" "$d/usr/share/lintian/overrides/outpost"
  install -d -m 0755 "$d/DEBIAN"
  for s in postinst prerm postrm; do
    install -m 0755 "$inst/linux/deb/$s" "$d/DEBIAN/$s"
  done
  echo /etc/outpost/outpost.toml >"$d/DEBIAN/conffiles"
  chmod 0644 "$d/DEBIAN/conffiles"
  size=$(du -k -s --exclude=DEBIAN "$d" | cut -f1)
  sed -e "s/@VERSION@/$pkg_version/" -e "s/@ARCH@/$deb_arch/" -e "s/@SIZE@/$size/" \
    -e "s|@MAINTAINER@|$maintainer|" \
    "$inst/linux/deb/control.in" >"$d/DEBIAN/control"
  (cd "$d" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
    xargs -0 md5sum >DEBIAN/md5sums)
  chmod 0644 "$d/DEBIAN/control" "$d/DEBIAN/md5sums"
  find "$d" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  deb="$out/outpost_${pkg_version}_${deb_arch}.deb"
  dpkg-deb --root-owner-group -Zxz --build "$d" "$deb" >/dev/null
  echo "$deb"
fi

if ((make_rpm)); then
  command -v rpmbuild >/dev/null || fail "rpmbuild is not installed (apt-get install rpm)"
  r="$work/rpm"
  stage "$r/stage" /usr/lib/systemd/system
  install -m 0644 "$inst/linux/copyright" "$r/stage/copyright"
  mkdir -p "$r/top"
  sed -e "s/@VERSION@/$pkg_version/g" -e "s|@MAINTAINER@|$maintainer|g" -e "s/@DATE@/$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+%a %b %d %Y')/" \
    "$inst/linux/rpm/outpost.spec.in" >"$r/outpost.spec"
  rpmbuild -bb --quiet --target "$rpm_arch" \
    --define "_topdir $r/top" --define "_rpmdir $out" --define "outpost_stage $r/stage" \
    --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
    --define "use_source_date_epoch_as_buildtime 1" --define "clamp_mtime_to_source_date_epoch 1" \
    "$r/outpost.spec" >"$r/rpmbuild.log" 2>&1 || { cat "$r/rpmbuild.log" >&2; fail "rpmbuild failed"; }
  echo "$out/outpost-$pkg_version-1.$rpm_arch.rpm"
fi

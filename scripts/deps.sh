#!/usr/bin/env bash
# scripts/deps.sh TARGET — install and build outpost's dependencies for TARGET.
#
#   TARGET = linux     static libcurl (HTTP/HTTPS only, OpenSSL, c-ares, zlib, zstd,
#                      nghttp2) and a static SQLite without load_extension; the rest
#                      are Debian's own static archives and headers.
#   TARGET = windows   MinGW-w64 (posix threads) static curl (Schannel), SQLite, zstd,
#                      libsodium, plus the header-only libraries copied into the prefix.
#
# Debian packages come from apt; what Debian does not ship in a usable static form is
# built from Debian's source packages (apt-get source, versions pinned in
# scripts/deps.lock) into a cache prefix outside the clone:
#
#   ${OUTPOST_DEPS_CACHE:-$HOME/.cache/outpost-deps}/<target>-<hash>
#
# where <hash> covers this script, deps.lock, the MinGW toolchain file and the versions
# of the Debian -dev packages the builds use, so a second run takes seconds.
# The prefix path is the last line printed on stdout; `--print-prefix` prints only it.
set -euo pipefail

usage() {
  echo "usage: scripts/deps.sh linux|windows [--print-prefix]" >&2
  exit 2
}
[[ $# -ge 1 ]] || usage
target=$1
print_only=${2:-}
case "$target" in linux | windows) ;; *) usage ;; esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lock="$here/deps.lock"
cache_root=${OUTPOST_DEPS_CACHE:-$HOME/.cache/outpost-deps}
# The key also covers the Debian packages whose headers and archives the builds use, so
# a Debian point release of one of them rebuilds the prefix. It is computed after the
# apt step, so the first run and later runs agree.
keyed_pkgs=(libssl-dev libc-ares-dev libnghttp2-dev libzstd-dev zlib1g-dev)
[[ "$target" == windows ]] && keyed_pkgs=(g++-mingw-w64-x86-64-posix libz-mingw-w64-dev)
compute_prefix() {
  local key
  key=$({
    cat "${BASH_SOURCE[0]}" "$lock" "$here/../cmake/mingw-w64.cmake"
    dpkg-query -W -f='${Package}=${Version}\n' "${keyed_pkgs[@]}" 2>/dev/null || true
  } | sha256sum | cut -c1-16)
  echo "$cache_root/$target-$key"
}
if [[ "$print_only" == "--print-prefix" ]]; then
  compute_prefix
  exit 0
fi

jobs=$(nproc 2>/dev/null || echo 2)
log() { printf '[deps %s] %s\n' "$target" "$*" >&2; }
die() { printf '[deps %s] error: %s\n' "$target" "$*" >&2; exit 1; }
sudo_if_needed() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

pin() { # pin PACKAGE -> pinned Debian version from deps.lock
  local v
  v=$(sed -n "s/^$1=//p" "$lock")
  [[ -n "$v" ]] || die "no pin for '$1' in $lock"
  echo "$v"
}

# ---------------------------------------------------------------------------- apt
common_pkgs=(build-essential cmake ninja-build pkg-config file git ca-certificates
  dpkg-dev tcl python3 openssl libcli11-dev libtomlplusplus-dev catch2
  nlohmann-json3-dev)
linux_pkgs=(libssl-dev libc-ares-dev libnghttp2-dev libzstd-dev zlib1g-dev
  libsodium-dev)
windows_pkgs=(g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix mingw-w64-tools
  wine wine64 libz-mingw-w64-dev autoconf automake libtool)

want=("${common_pkgs[@]}")
if [[ "$target" == linux ]]; then want+=("${linux_pkgs[@]}"); else want+=("${windows_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

ensure_deb_src() {
  # A deb-src twin of Debian's own sources list, so apt-get source works.
  local src=/etc/apt/sources.list.d/debian.sources
  local twin=/etc/apt/sources.list.d/outpost-deb-src.sources
  if [[ ! -f "$twin" ]]; then
    [[ -f "$src" ]] || die "$src not found; add a deb-src line for Debian bookworm by hand"
    sed 's/^Types: deb$/Types: deb-src/' "$src" | sudo_if_needed tee "$twin" >/dev/null
    apt_updated=
  fi
}

apt_updated=
apt_update_once() {
  if [[ -z "$apt_updated" ]]; then
    log "apt-get update"
    sudo_if_needed apt-get update -qq
    apt_updated=1
  fi
}

if ((${#missing[@]})); then
  t0=$SECONDS
  ensure_deb_src
  apt_update_once
  log "apt-get install ${missing[*]}"
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  log "apt packages installed in $((SECONDS - t0)) s"
fi

print_versions() {
  log "pinned Debian source packages (scripts/deps.lock):"
  grep -v '^#' "$lock" | sed 's/^/    /' >&2
  log "Debian packages used as-is:"
  local p
  for p in "${want[@]}"; do
    case "$p" in lib*-dev | zlib1g-dev | catch2 | nlohmann-json3-dev | g++-mingw*)
      printf '    %s=%s\n' "$p" "$(dpkg-query -W -f='${Version}' "$p")" >&2 ;;
    esac
  done
}

prefix=$(compute_prefix)
if [[ -f "$prefix/.complete" ]]; then
  print_versions
  log "cached: $prefix"
  echo "$prefix"
  exit 0
fi

# -------------------------------------------------------------------- sources
srcdir="$cache_root/src"
mkdir -p "$srcdir"

fetch_source() { # fetch_source PACKAGE -> prints the extracted directory
  local pkg=$1 ver dsc dir
  ver=$(pin "$pkg")
  dsc="$srcdir/${pkg}_${ver#*:}.dsc"
  dir="$srcdir/$pkg-$ver"
  if [[ ! -f "$dsc" ]]; then
    ensure_deb_src
    apt_update_once
    log "apt-get source $pkg=$ver"
    (cd "$srcdir" && apt-get source --download-only -qq "$pkg=$ver" >&2) ||
      die "Debian no longer serves $pkg=$ver; update its line in $lock (apt-cache showsrc $pkg)"
  fi
  if [[ ! -d "$dir" ]]; then
    rm -rf "$dir.tmp"
    dpkg-source --no-check -x "$dsc" "$dir.tmp" >/dev/null
    mv "$dir.tmp" "$dir"
  fi
  echo "$dir"
}

# The SQLite amalgamation is generated once on the host (needs tclsh) and shared.
sqlite_amalgamation() {
  local dir out="$srcdir/sqlite-amalgamation-$(pin sqlite3)"
  if [[ ! -f "$out/sqlite3.c" ]]; then
    dir=$(fetch_source sqlite3)
    log "generating sqlite3.c"
    rm -rf "$srcdir/sqlite-bld" && mkdir -p "$srcdir/sqlite-bld"
    (cd "$srcdir/sqlite-bld" && "$dir/configure" >/dev/null && make -s -j"$jobs" sqlite3.c >/dev/null)
    mkdir -p "$out.tmp"
    cp "$srcdir/sqlite-bld/sqlite3.c" "$srcdir/sqlite-bld/sqlite3.h" "$out.tmp/"
    rm -rf "$out" && mv "$out.tmp" "$out"
    rm -rf "$srcdir/sqlite-bld"
  fi
  echo "$out"
}

sqlite_flags=(-O2 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_THREADSAFE=1 -DSQLITE_DQS=0
  -DSQLITE_DEFAULT_WAL_SYNCHRONOUS=1 -DSQLITE_OMIT_DEPRECATED
  -DSQLITE_DEFAULT_FOREIGN_KEYS=1 -DSQLITE_USE_ALLOCA -ffunction-sections -fdata-sections)

build_sqlite() { # build_sqlite CC AR
  local cc=$1 ar=$2 am
  am=$(sqlite_amalgamation)
  log "building static SQLite ($(pin sqlite3))"
  mkdir -p "$prefix/lib" "$prefix/include" "$prefix/build"
  "$cc" "${sqlite_flags[@]}" -c "$am/sqlite3.c" -o "$prefix/build/sqlite3.o"
  rm -f "$prefix/lib/libsqlite3.a"
  "$ar" rcs "$prefix/lib/libsqlite3.a" "$prefix/build/sqlite3.o"
  cp "$am/sqlite3.h" "$prefix/include/"
}

curl_common=(-DBUILD_SHARED_LIBS=OFF -DBUILD_CURL_EXE=OFF -DBUILD_TESTING=OFF
  -DHTTP_ONLY=ON -DCURL_DISABLE_NETRC=ON -DCURL_USE_LIBSSH2=OFF -DCURL_USE_LIBSSH=OFF
  -DCURL_USE_GSSAPI=OFF -DUSE_LIBIDN2=OFF -DCURL_USE_LIBPSL=OFF -DCURL_BROTLI=OFF
  -DCURL_DISABLE_LDAP=ON -DCURL_DISABLE_LDAPS=ON -DUSE_LIBRTMP=OFF -DENABLE_MANUAL=OFF
  -DCURL_ZLIB=ON -DCURL_ZSTD=ON -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_POSITION_INDEPENDENT_CODE=OFF
  -DCMAKE_C_FLAGS="-ffunction-sections -fdata-sections"
  -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib)

build_linux() {
  local t0=$SECONDS dir
  build_sqlite gcc ar
  dir=$(fetch_source curl)
  log "building static libcurl ($(pin curl)) for Linux"
  rm -rf "$prefix/build/curl"
  cmake -S "$dir" -B "$prefix/build/curl" -G Ninja "${curl_common[@]}" \
    -DCURL_USE_OPENSSL=ON -DOPENSSL_USE_STATIC_LIBS=ON \
    -DCURL_DISABLE_OPENSSL_AUTO_LOAD_CONFIG=ON -DENABLE_ARES=ON -DUSE_NGHTTP2=ON \
    -DZLIB_USE_STATIC_LIBS=ON \
    -DCURL_CA_BUNDLE=none -DCURL_CA_PATH=none -DCURL_CA_FALLBACK=ON >/dev/null
  cmake --build "$prefix/build/curl" -j"$jobs" >/dev/null
  cmake --install "$prefix/build/curl" >/dev/null
  log "linux dependencies built in $((SECONDS - t0)) s"
}

mingw=x86_64-w64-mingw32
mingw_toolchain="$here/../cmake/mingw-w64.cmake"

build_windows() {
  local t0=$SECONDS dir
  command -v $mingw-gcc-posix >/dev/null || die "$mingw-gcc-posix not found"
  build_sqlite $mingw-gcc-posix $mingw-ar

  dir=$(fetch_source libzstd)
  log "building static zstd ($(pin libzstd)) for Windows"
  rm -rf "$prefix/build/zstd"
  cmake -S "$dir/build/cmake" -B "$prefix/build/zstd" -G Ninja \
    -DCMAKE_TOOLCHAIN_FILE="$mingw_toolchain" -DCMAKE_BUILD_TYPE=Release \
    -DZSTD_BUILD_SHARED=OFF -DZSTD_BUILD_STATIC=ON -DZSTD_BUILD_PROGRAMS=OFF \
    -DZSTD_BUILD_TESTS=OFF -DZSTD_LEGACY_SUPPORT=OFF -DZSTD_MULTITHREAD_SUPPORT=OFF \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib >/dev/null
  cmake --build "$prefix/build/zstd" -j"$jobs" >/dev/null
  cmake --install "$prefix/build/zstd" >/dev/null

  dir=$(fetch_source libsodium)
  log "building static libsodium ($(pin libsodium)) for Windows"
  rm -rf "$prefix/build/sodium" && cp -a "$dir" "$prefix/build/sodium"
  (cd "$prefix/build/sodium" &&
    ./autogen.sh -s >/dev/null 2>&1 &&
    ./configure --host=$mingw --prefix="$prefix" --disable-shared --enable-static \
      --disable-dependency-tracking CC=$mingw-gcc-posix >/dev/null &&
    make -s -j"$jobs" >/dev/null 2>&1 && make -s install >/dev/null)

  dir=$(fetch_source curl)
  log "building static libcurl ($(pin curl)) for Windows (Schannel)"
  rm -rf "$prefix/build/curl"
  cmake -S "$dir" -B "$prefix/build/curl" -G Ninja "${curl_common[@]}" \
    -DCMAKE_TOOLCHAIN_FILE="$mingw_toolchain" -DOUTPOST_DEPS_PREFIX="$prefix" \
    -DCURL_USE_SCHANNEL=ON -DCURL_USE_OPENSSL=OFF -DENABLE_ARES=OFF \
    -DENABLE_UNICODE=OFF -DUSE_WIN32_IDN=OFF -DUSE_WIN32_LDAP=OFF -DUSE_NGHTTP2=OFF \
    -DCURL_CA_BUNDLE=none -DCURL_CA_PATH=none >/dev/null
  cmake --build "$prefix/build/curl" -j"$jobs" >/dev/null
  cmake --install "$prefix/build/curl" >/dev/null

  # Header-only libraries: copied, because -I/usr/include must never reach MinGW.
  log "copying header-only libraries into the prefix"
  mkdir -p "$prefix/include"
  cp -r /usr/include/CLI "$prefix/include/"
  cp -r /usr/include/toml++ "$prefix/include/"
  cp -r /usr/include/catch2 "$prefix/include/"
  cp -r /usr/include/nlohmann "$prefix/include/"
  log "windows dependencies built in $((SECONDS - t0)) s"
}

rm -rf "$prefix"
mkdir -p "$prefix"
"build_$target"
rm -rf "$prefix/build"
touch "$prefix/.complete"
print_versions
log "ready: $prefix"
echo "$prefix"

# Imported targets for outpost's dependencies, as scripts/deps.sh leaves them.
#
# Everything links from static archives, in the order BUILD-NOTES.md verified, so
# that the release build can be `-static`. curl's own CMake package is not used: it
# records Debian's shared-library paths for c-ares, nghttp2 and zstd.
#
#   outpost::curl     libcurl and what it needs (TLS, resolver, compression)
#   outpost::sqlite   SQLite amalgamation without load_extension
#   outpost::zstd     zstd
#   outpost::sodium   libsodium
#   outpost::headers  header-only libraries (CLI11, toml++, nlohmann-json)
#   outpost::catch2   Catch2 (single header)

if(NOT OUTPOST_DEPS_PREFIX)
  message(FATAL_ERROR
    "OUTPOST_DEPS_PREFIX is not set. Run `scripts/deps.sh linux` (or windows) and pass "
    "-DOUTPOST_DEPS_PREFIX=$(scripts/deps.sh linux --print-prefix), or use the presets "
    "with OUTPOST_DEPS_PREFIX in the environment.")
endif()
if(NOT EXISTS "${OUTPOST_DEPS_PREFIX}/.complete")
  message(FATAL_ERROR "${OUTPOST_DEPS_PREFIX} is not a complete deps prefix; run scripts/deps.sh")
endif()

function(outpost_archive var)
  # outpost_archive(VAR name...) -> full path of the first static archive found.
  find_library(${var} NAMES ${ARGN} NO_CACHE
    PATHS "${OUTPOST_DEPS_PREFIX}/lib" NO_DEFAULT_PATH)
  if(NOT ${var})
    find_library(${var} NAMES ${ARGN} NO_CACHE)
  endif()
  if(NOT ${var})
    message(FATAL_ERROR "static archive ${ARGN} not found (run scripts/deps.sh)")
  endif()
  set(${var} "${${var}}" PARENT_SCOPE)
endfunction()

add_library(outpost_deps_headers INTERFACE)
add_library(outpost::headers ALIAS outpost_deps_headers)
add_library(outpost_deps_catch2 INTERFACE)
add_library(outpost::catch2 ALIAS outpost_deps_catch2)
if(CMAKE_CROSSCOMPILING)
  # Header-only libraries were copied into the prefix: -I/usr/include must never
  # reach the MinGW compiler.
  target_include_directories(outpost_deps_headers SYSTEM INTERFACE "${OUTPOST_DEPS_PREFIX}/include")
  target_include_directories(outpost_deps_catch2 SYSTEM INTERFACE "${OUTPOST_DEPS_PREFIX}/include/catch2")
else()
  find_path(OUTPOST_CATCH2_DIR catch.hpp PATH_SUFFIXES catch2 REQUIRED)
  target_include_directories(outpost_deps_catch2 SYSTEM INTERFACE "${OUTPOST_CATCH2_DIR}")
endif()

outpost_archive(OUTPOST_LIB_SQLITE libsqlite3.a)
add_library(outpost_deps_sqlite INTERFACE)
add_library(outpost::sqlite ALIAS outpost_deps_sqlite)
target_include_directories(outpost_deps_sqlite SYSTEM INTERFACE "${OUTPOST_DEPS_PREFIX}/include")
target_link_libraries(outpost_deps_sqlite INTERFACE "${OUTPOST_LIB_SQLITE}")

outpost_archive(OUTPOST_LIB_ZSTD libzstd.a)
add_library(outpost_deps_zstd INTERFACE)
add_library(outpost::zstd ALIAS outpost_deps_zstd)
target_link_libraries(outpost_deps_zstd INTERFACE "${OUTPOST_LIB_ZSTD}")

outpost_archive(OUTPOST_LIB_SODIUM libsodium.a)
add_library(outpost_deps_sodium INTERFACE)
add_library(outpost::sodium ALIAS outpost_deps_sodium)
target_compile_definitions(outpost_deps_sodium INTERFACE SODIUM_STATIC)
target_link_libraries(outpost_deps_sodium INTERFACE "${OUTPOST_LIB_SODIUM}")

outpost_archive(OUTPOST_LIB_CURL libcurl.a)
outpost_archive(OUTPOST_LIB_Z libz.a)
add_library(outpost_deps_curl INTERFACE)
add_library(outpost::curl ALIAS outpost_deps_curl)
target_include_directories(outpost_deps_curl SYSTEM INTERFACE "${OUTPOST_DEPS_PREFIX}/include")
target_compile_definitions(outpost_deps_curl INTERFACE CURL_STATICLIB)
if(WIN32)
  target_link_libraries(outpost_deps_curl INTERFACE
    "${OUTPOST_LIB_CURL}" "${OUTPOST_LIB_ZSTD}" "${OUTPOST_LIB_Z}"
    ws2_32 crypt32 secur32 bcrypt advapi32 winmm)
else()
  outpost_archive(OUTPOST_LIB_NGHTTP2 libnghttp2.a)
  outpost_archive(OUTPOST_LIB_CARES libcares.a)
  outpost_archive(OUTPOST_LIB_SSL libssl.a)
  outpost_archive(OUTPOST_LIB_CRYPTO libcrypto.a)
  find_package(Threads REQUIRED)
  target_link_libraries(outpost_deps_curl INTERFACE
    "${OUTPOST_LIB_CURL}" "${OUTPOST_LIB_NGHTTP2}" "${OUTPOST_LIB_CARES}"
    "${OUTPOST_LIB_SSL}" "${OUTPOST_LIB_CRYPTO}" "${OUTPOST_LIB_ZSTD}" "${OUTPOST_LIB_Z}"
    Threads::Threads ${CMAKE_DL_LIBS} m)
endif()

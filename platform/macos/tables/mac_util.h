// Small helpers shared by the macOS table files: bounded file and plist reads under the
// table's root, sysctl values, and row values.
// Not compiled here (no macOS toolchain on the build machines); see docs/macos.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/plist_xml.h"
#include "outpost/platform/table.h"

namespace outpost::platform::macos_tables {

// The file's contents, at most `max_bytes` (default 4 MiB); nullopt when it cannot be
// read (missing, a directory, no permission) or is longer.
std::optional<std::string> ReadFile(const std::filesystem::path& path, size_t max_bytes = 4u << 20);

// A property list file, XML or binary; nullopt when it cannot be read or parsed.
std::optional<plist::Value> ReadPlist(const std::filesystem::path& path);

// sysctlbyname() values of the running system: a string, or an integer of 4 or 8 bytes.
std::optional<std::string> SysctlString(const char* name);
std::optional<int64_t> SysctlInt(const char* name);

// uname()'s machine: "arm64" or "x86_64" (what osquery shows as arch on macOS).
std::string MachineName();

// The first string of a directory-service attribute ({"name": ["alice"]}), or of a
// plain string value.
std::optional<std::string> FirstString(const plist::Value& record, std::string_view key);

inline Value Text(std::string_view s) { return std::string(s); }
inline Value Int(std::optional<int64_t> v) { return v ? Value(*v) : Value(std::monostate{}); }
inline Value NonEmpty(const std::optional<std::string>& s) {
  return s && !s->empty() ? Value(*s) : Value(std::monostate{});
}

}  // namespace outpost::platform::macos_tables

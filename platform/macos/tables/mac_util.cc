// Helpers of the macOS tables; see mac_util.h.
// Not compiled here (no macOS toolchain on the build machines); see docs/macos.md.
#include "macos/tables/mac_util.h"

#include <sys/sysctl.h>
#include <sys/types.h>
#include <sys/utsname.h>

#include <algorithm>
#include <fstream>
#include <system_error>
#include <vector>

namespace outpost::platform::macos_tables {

std::optional<std::string> ReadFile(const std::filesystem::path& path, size_t max_bytes) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || size > max_bytes) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string out(static_cast<size_t>(size), '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<size_t>(in.gcount()));
  if (in.bad()) return std::nullopt;
  return out;
}

std::optional<plist::Value> ReadPlist(const std::filesystem::path& path) {
  const std::optional<std::string> bytes = ReadFile(path, 16u << 20);
  if (!bytes) return std::nullopt;
  plist::Value v;
  if (!plist::Parse(*bytes, v, nullptr)) return std::nullopt;
  return v;
}

std::optional<std::string> SysctlString(const char* name) {
  size_t size = 0;
  if (sysctlbyname(name, nullptr, &size, nullptr, 0) != 0 || size == 0 || size > (1u << 20))
    return std::nullopt;
  std::vector<char> buf(size + 1, '\0');
  if (sysctlbyname(name, buf.data(), &size, nullptr, 0) != 0) return std::nullopt;
  std::string out(buf.data(), std::min(size, buf.size()));
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

std::optional<int64_t> SysctlInt(const char* name) {
  int64_t v64 = 0;
  size_t size = sizeof v64;
  if (sysctlbyname(name, &v64, &size, nullptr, 0) != 0) return std::nullopt;
  if (size == sizeof v64) return v64;
  if (size == sizeof(int32_t)) {
    int32_t v32 = 0;
    size = sizeof v32;
    if (sysctlbyname(name, &v32, &size, nullptr, 0) != 0 || size != sizeof v32) return std::nullopt;
    return v32;
  }
  return std::nullopt;
}

std::string MachineName() {
  struct utsname u {};
  if (uname(&u) != 0) return "";
  return u.machine;
}

std::optional<std::string> FirstString(const plist::Value& record, std::string_view key) {
  const plist::Value* v = record.Find(key);
  if (!v) return std::nullopt;
  if (v->type == plist::Type::kArray) {
    if (v->array.empty()) return std::nullopt;
    return v->array.front().AsText();
  }
  return v->AsText();
}

}  // namespace outpost::platform::macos_tables

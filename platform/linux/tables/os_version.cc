// os_version: the distribution's name and version from /etc/os-release (or
// /usr/lib/os-release), one row. osquery's columns; Windows/macOS-only ones are hidden
// and NULL here.
#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"
#include "outpost/platform/system.h"

namespace outpost::platform::linux_tables {
namespace {

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  std::optional<std::string> text = ReadFile(env.Path("/etc/os-release"), 64 << 10);
  if (!text) text = ReadFile(env.Path("/usr/lib/os-release"), 64 << 10);
  if (!text) return "";  // no os-release: no row (a minimal container)
  const std::map<std::string, std::string> kv = ParseKeyValues(*text);
  auto get = [&](const char* key) {
    const auto it = kv.find(key);
    return it == kv.end() ? std::string() : it->second;
  };
  // VERSION_ID "12", "22.04", "9.3": major.minor.patch, missing parts NULL.
  const std::string version_id = get("VERSION_ID");
  const std::vector<std::string_view> parts = Split(version_id, '.');
  auto part = [&](size_t i) -> Value {
    return i < parts.size() && !version_id.empty() ? Int(ToInt(parts[i])) : Value();
  };
  std::string version = get("VERSION");
  if (version.empty()) version = version_id;
  rows.Add({Text(get("NAME")), Text(version), part(0), part(1), part(2), Text(get("BUILD_ID")),
            Text(get("ID")), Text(get("ID_LIKE")), Text(get("VERSION_CODENAME")), Text(ArchName()),
            Value(), Value(), Value(), Value(), Value()});
  return "";
}

}  // namespace

TableDef OsVersionTable() {
  using T = ColumnType;
  return TableDef{"os_version",
                  "The operating system's name and version (one row).",
                  {{"name", T::kText},
                   {"version", T::kText},
                   {"major", T::kInteger},
                   {"minor", T::kInteger},
                   {"patch", T::kInteger},
                   {"build", T::kText},
                   {"platform", T::kText},
                   {"platform_like", T::kText},
                   {"codename", T::kText},
                   {"arch", T::kText},
                   {"extra", T::kText, false, false, true},
                   {"install_date", T::kBigInt, false, false, true},
                   {"revision", T::kInteger, false, false, true},
                   {"pid_with_namespace", T::kInteger, false, false, true},
                   {"mount_namespace_id", T::kText, false, false, true}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables

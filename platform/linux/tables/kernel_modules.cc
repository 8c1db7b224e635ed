// kernel_modules: loaded modules from /proc/modules, one row per line:
//   "ext4 1048576 1 - Live 0xffffffffc0a00000"
//   name size refcount used_by state address
// used_by is the comma-separated list without its trailing ',' ("-" when none), as in
// osquery. Like osquery, only loaded modules are listed (not the ones on disk). A line
// with fewer than 6 words or a non-numeric size is skipped.
#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  const std::optional<std::string> text = ReadFile(env.Path("/proc/modules"));
  if (!text) return "";
  for (const std::string_view line : Lines(*text)) {
    const std::vector<std::string_view> f = Fields(line, " \t");
    if (f.size() < 6) continue;
    const std::optional<int64_t> size = ToInt(f[1]);
    if (!size) continue;
    std::string_view used_by = f[3];
    if (used_by.size() > 1 && used_by.back() == ',') used_by.remove_suffix(1);
    if (!rows.Add({Text(f[0]), Value(*size), Text(used_by), Text(f[4]), Text(f[5])})) break;
  }
  return "";
}

}  // namespace

TableDef KernelModulesTable() {
  using T = ColumnType;
  return TableDef{"kernel_modules",
                  "Loaded kernel modules from /proc/modules.",
                  {{"name", T::kText},
                   {"size", T::kBigInt},
                   {"used_by", T::kText},
                   {"status", T::kText},
                   {"address", T::kText}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables

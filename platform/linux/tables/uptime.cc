// uptime: time since boot from /proc/uptime ("12345.67 54321.00": the first number is
// seconds since boot), split into days/hours/minutes/seconds like osquery. One row; no
// row when the file is missing or does not start with a number.
#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  const std::optional<std::string> text = ReadFile(env.Path("/proc/uptime"), 4096);
  if (!text) return "";
  const std::vector<std::string_view> fields = Fields(*text, " \t\n");
  if (fields.empty()) return "";
  // Whole seconds: the part before the '.' of "12345.67".
  const std::optional<int64_t> total = ToInt(fields[0].substr(0, fields[0].find('.')));
  if (!total || *total < 0) return "";
  const int64_t t = *total;
  rows.Add(
      {Value(t / 86400), Value(t % 86400 / 3600), Value(t % 3600 / 60), Value(t % 60), Value(t)});
  return "";
}

}  // namespace

TableDef UptimeTable() {
  using T = ColumnType;
  return TableDef{"uptime",
                  "Time since the last boot (one row).",
                  {{"days", T::kInteger},
                   {"hours", T::kInteger},
                   {"minutes", T::kInteger},
                   {"seconds", T::kInteger},
                   {"total_seconds", T::kBigInt}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables

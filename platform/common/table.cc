// The OS-independent parts of device tables; see table.h.
#include "outpost/platform/table.h"

#include <string>

namespace outpost::platform {

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kText:
      return "TEXT";
    case ColumnType::kInteger:
      return "INTEGER";
    case ColumnType::kBigInt:
      return "BIGINT";
    case ColumnType::kDouble:
      return "DOUBLE";
  }
  return "TEXT";
}

std::vector<std::string> TableQuery::Texts(size_t column, ConstraintOp op) const {
  std::vector<std::string> out;
  for (const Constraint& c : constraints) {
    if (c.column != column || c.op != op) continue;
    if (const auto* s = std::get_if<std::string>(&c.value))
      out.push_back(*s);
    else if (const auto* i = std::get_if<int64_t>(&c.value))
      out.push_back(std::to_string(*i));
    else if (const auto* d = std::get_if<double>(&c.value))
      out.push_back(std::to_string(*d));
  }
  return out;
}

bool TableQuery::Has(size_t column) const {
  for (const Constraint& c : constraints)
    if (c.column == column) return true;
  return false;
}

std::filesystem::path TableEnv::Path(std::string_view absolute) const {
  while (!absolute.empty() && (absolute.front() == '/' || absolute.front() == '\\'))
    absolute.remove_prefix(1);
  return root / std::filesystem::path(std::string(absolute));
}

std::optional<size_t> TableDef::Column(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i].name == name) return i;
  return std::nullopt;
}

}  // namespace outpost::platform

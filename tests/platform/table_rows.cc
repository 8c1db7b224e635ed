// See table_rows.h.
#include "platform/table_rows.h"
#include "source_dir.h"

#include <catch.hpp>

#include <cstdio>

namespace outpost::test {
namespace {

class VectorSink final : public platform::RowSink {
 public:
  VectorSink(size_t columns, std::vector<std::vector<platform::Value>>& rows)
      : columns_(columns), rows_(rows) {}
  bool Add(std::vector<platform::Value> row) override {
    REQUIRE(row.size() <= columns_);
    row.resize(columns_);
    rows_.push_back(std::move(row));
    return true;
  }

 private:
  size_t columns_;
  std::vector<std::vector<platform::Value>>& rows_;
};

}  // namespace

TableRun RunTable(const platform::TableDef& table, const std::string& root,
                  const std::vector<std::pair<std::string, std::string>>& equals) {
  platform::TableEnv env;
  env.root = root;
  return RunTable(table, env, equals);
}

TableRun RunTable(const platform::TableDef& table, const platform::TableEnv& env,
                  const std::vector<std::pair<std::string, std::string>>& equals) {
  platform::TableQuery q;
  for (const auto& [name, value] : equals) {
    const std::optional<size_t> col = table.Column(name);
    REQUIRE(col.has_value());
    q.constraints.push_back({*col, platform::ConstraintOp::kEquals, value});
  }
  TableRun run;
  VectorSink sink(table.columns.size(), run.rows);
  run.error = table.generate(env, q, sink);
  return run;
}

const platform::TableDef& FindTable(const std::string& name) {
  for (const platform::TableDef& t : platform::DeviceTables())
    if (t.name == name) return t;
  FAIL("no device table " << name);
  throw std::logic_error("unreachable");
}

std::string Cell(const platform::TableDef& table, const std::vector<platform::Value>& row,
                 const std::string& column) {
  const std::optional<size_t> col = table.Column(column);
  REQUIRE(col.has_value());
  REQUIRE(*col < row.size());
  const platform::Value& v = row[*col];
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", *d);
    return buf;
  }
  return "";
}

std::string LinuxFixture(const std::string& name) {
  return std::string(OUTPOST_SOURCE_DIR) + "/tests/fixtures/linux/" + name;
}

}  // namespace outpost::test

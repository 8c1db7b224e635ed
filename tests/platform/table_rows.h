// Running a device table's generator directly (no SQLite) in tests.
#pragma once

#include <string>
#include <vector>
#include "source_dir.h"

#include "outpost/platform/table.h"

namespace outpost::test {

struct TableRun {
  std::string error;  // what the generator returned
  std::vector<std::vector<platform::Value>> rows;
};

// Runs `table` with `root` as TableEnv::root and the "=" constraints `equals`
// ({column name, value}), collecting every row (padded to the column count).
TableRun RunTable(const platform::TableDef& table, const std::string& root,
                  const std::vector<std::pair<std::string, std::string>>& equals = {});

// The same with a whole TableEnv (an injected read_sqlite, say).
TableRun RunTable(const platform::TableDef& table, const platform::TableEnv& env,
                  const std::vector<std::pair<std::string, std::string>>& equals = {});

// The table from DeviceTables() named `name` (fails the test when there is none).
const platform::TableDef& FindTable(const std::string& name);

// A row's value as text ("" for NULL, integers in decimal), by column name.
std::string Cell(const platform::TableDef& table, const std::vector<platform::Value>& row,
                 const std::string& column);

// The directory of a fixture tree: OUTPOST_SOURCE_DIR/tests/fixtures/linux/<name>.
std::string LinuxFixture(const std::string& name);

}  // namespace outpost::test

// QueryEngine: SQL over the device tables (`outpost query`, checks, inventory).
//
// An in-memory SQLite connection in which every platform TableDef is an eponymous
// virtual table (lib/query/virtual_table.cc): `SELECT * FROM processes` needs no
// CREATE. Constraints on a table's index and required columns are pushed down, so
// `file` and `hash` never walk the disk without a path. Only reading is allowed (an
// authorizer refuses writes, ATTACH, PRAGMA and extension loading), every query has a
// time limit (sqlite3_progress_handler, and tables stop their walks) and a row limit,
// and a table that fails fails its query with the table's message, never the agent.
//
// Not thread-safe: one engine per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/platform/table.h"
#include "util/clock.h"
#include "util/status.h"
#include "util/units.h"

namespace outpost {

struct QueryLimits {
  Duration timeout = std::chrono::seconds(10);
  int64_t max_rows = 10000;  // result rows, and rows one table scan may yield
};

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<platform::Value>> rows;
};

class QueryEngine {
 public:
  // Registers `tables` (which must outlive the engine); `root` is every table's
  // TableEnv::root ("/" on a real host; a fixture tree in tests).
  static Result<std::unique_ptr<QueryEngine>> Create(const std::vector<platform::TableDef>& tables,
                                                     std::filesystem::path root,
                                                     const Clock& clock);
  ~QueryEngine();
  QueryEngine(const QueryEngine&) = delete;
  QueryEngine& operator=(const QueryEngine&) = delete;

  // Runs one SELECT (a trailing ';' is fine; a second statement is refused). Errors:
  // kInvalidArgument for bad SQL, a refused statement, a missing required constraint
  // or a table's own failure (the message names the table); kUnavailable when the
  // time limit or the row limit was hit.
  Result<QueryResult> Run(std::string_view sql, const QueryLimits& limits);

  struct Impl;

 private:
  explicit QueryEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A value as osquery prints it: NULL as "", integers in decimal, reals with up to 15
// significant digits, text as is.
std::string ValueText(const platform::Value& value);

}  // namespace outpost

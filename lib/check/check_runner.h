// CheckRunner: runs policy checks through a QueryEngine and says pass, fail or error.
//
// A check passes when its query returns at least one row, fails when it returns none
// (osquery fleets' convention), and is an error when the query cannot run (bad SQL, a
// missing required constraint, a failing table, a time or row limit): the result
// carries the engine's message. A check whose `platforms` exclude this OS is skipped
// (not run). Every check runs inside a fault barrier: one that errors or throws never
// stops the others.
//
// Not thread-safe (the engine is not): one runner per thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "check/policy.h"
#include "query/query_engine.h"
#include "util/clock.h"

namespace outpost {

enum class CheckStatus { kPass, kFail, kError, kSkipped };

// "pass", "fail", "error", "skipped"
std::string_view CheckStatusName(CheckStatus status);

struct CheckResult {
  Check check;
  CheckStatus status = CheckStatus::kError;
  std::string error;                           // kError: what went wrong; else empty
  std::vector<std::string> columns;            // of the query's result
  std::vector<std::vector<std::string>> rows;  // the first max_reported_rows, as text
  int64_t row_count = 0;                       // all rows the query returned
  std::chrono::microseconds duration{0};       // time the query took
};

struct CheckRunOptions {
  QueryLimits limits;             // per check
  size_t max_reported_rows = 20;  // rows kept in CheckResult::rows
  std::string os;                 // this OS, platform::DeviceTablesOs()
};

class CheckRunner {
 public:
  // `engine` and `clock` must outlive the runner.
  CheckRunner(QueryEngine& engine, const Clock& clock, CheckRunOptions options);

  CheckResult Run(const Check& check);
  // Runs each check in order; never stops early.
  std::vector<CheckResult> RunAll(const std::vector<Check>& checks);

 private:
  QueryEngine& engine_;
  const Clock& clock_;
  CheckRunOptions options_;
};

}  // namespace outpost

#include "check/check_runner.h"

#include <chrono>
#include <exception>

namespace outpost {

std::string_view CheckStatusName(CheckStatus status) {
  switch (status) {
    case CheckStatus::kPass:
      return "pass";
    case CheckStatus::kFail:
      return "fail";
    case CheckStatus::kError:
      return "error";
    case CheckStatus::kSkipped:
      return "skipped";
  }
  return "error";
}

CheckRunner::CheckRunner(QueryEngine& engine, const Clock& clock, CheckRunOptions options)
    : engine_(engine), clock_(clock), options_(std::move(options)) {}

CheckResult CheckRunner::Run(const Check& check) {
  CheckResult result;
  result.check = check;
  if (!CheckAppliesTo(check, options_.os)) {
    result.status = CheckStatus::kSkipped;
    return result;
  }
  const MonoTime start = clock_.Monotonic();
  // Fault barrier (STYLE.md rule 6): whatever happens in one check stays in it.
  try {
    Result<QueryResult> r = engine_.Run(check.query, options_.limits);
    if (!r.ok()) {
      result.status = CheckStatus::kError;
      result.error = r.status().message();
    } else {
      result.status = r->rows.empty() ? CheckStatus::kFail : CheckStatus::kPass;
      result.columns = r->columns;
      result.row_count = static_cast<int64_t>(r->rows.size());
      for (const auto& row : r->rows) {
        if (result.rows.size() >= options_.max_reported_rows) break;
        auto& text = result.rows.emplace_back();
        for (const auto& value : row) text.push_back(ValueText(value));
      }
    }
  } catch (const std::exception& e) {
    result.status = CheckStatus::kError;
    result.error = std::string("internal error: ") + e.what();
  } catch (...) {
    result.status = CheckStatus::kError;
    result.error = "internal error";
  }
  result.duration =
      std::chrono::duration_cast<std::chrono::microseconds>(clock_.Monotonic() - start);
  return result;
}

std::vector<CheckResult> CheckRunner::RunAll(const std::vector<Check>& checks) {
  std::vector<CheckResult> out;
  out.reserve(checks.size());
  for (const Check& c : checks) out.push_back(Run(c));
  return out;
}

}  // namespace outpost

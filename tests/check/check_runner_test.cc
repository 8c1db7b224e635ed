// CheckRunner over fake tables: pass, fail, error, skipped, and one error never stops
// the others.
#include <catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "check/check_runner.h"

namespace outpost {
namespace {

using platform::ColumnType;
using platform::TableDef;
using platform::Value;

// "accounts": name, uid (three rows).
TableDef Accounts() {
  return TableDef{"accounts",
                  "three accounts",
                  {{"name", ColumnType::kText}, {"uid", ColumnType::kInteger}},
                  [](const platform::TableEnv&, const platform::TableQuery&,
                     platform::RowSink& rows) -> std::string {
                    rows.Add({std::string("root"), int64_t(0)});
                    rows.Add({std::string("alice"), int64_t(1000)});
                    rows.Add({std::string("bob"), Value()});
                    return "";
                  }};
}

// "paths": path is required, so `SELECT * FROM paths` cannot run.
TableDef Paths() {
  return TableDef{"paths",
                  "needs a path",
                  {{"path", ColumnType::kText, true}},
                  [](const platform::TableEnv&, const platform::TableQuery& q,
                     platform::RowSink& rows) -> std::string {
                    for (const std::string& p : q.Texts(0)) rows.Add({p});
                    return "";
                  }};
}

TableDef Broken() {
  return TableDef{"broken",
                  "always fails",
                  {{"x", ColumnType::kText}},
                  [](const platform::TableEnv&, const platform::TableQuery&,
                     platform::RowSink&) -> std::string { return "cannot read /proc/broken"; }};
}

TableDef Throws() {
  return TableDef{"throws",
                  "throws from its generator",
                  {{"x", ColumnType::kText}},
                  [](const platform::TableEnv&, const platform::TableQuery&,
                     platform::RowSink&) -> std::string { throw std::runtime_error("boom"); }};
}

// "many": n = 1..100.
TableDef Many() {
  return TableDef{"many",
                  "a hundred rows",
                  {{"n", ColumnType::kInteger}},
                  [](const platform::TableEnv&, const platform::TableQuery&,
                     platform::RowSink& rows) -> std::string {
                    for (int64_t n = 1; n <= 100; ++n)
                      if (!rows.Add({n})) break;
                    return "";
                  }};
}

Check MakeCheck(std::string id, std::string query, std::vector<std::string> platforms = {"all"}) {
  Check c;
  c.id = std::move(id);
  c.title = "title of " + c.id;
  c.severity = CheckSeverity::kMedium;
  c.query = std::move(query);
  c.remediation = "fix " + c.id;
  c.platforms = std::move(platforms);
  return c;
}

struct Fixture {
  FakeClock clock;
  std::vector<TableDef> tables = {Accounts(), Paths(), Broken(), Throws(), Many()};
  std::unique_ptr<QueryEngine> engine;
  std::unique_ptr<CheckRunner> runner;
  Fixture() {
    auto e = QueryEngine::Create(tables, "/", clock);
    REQUIRE(e.ok());
    engine = std::move(e).value();
    CheckRunOptions options;
    options.os = "linux";
    runner = std::make_unique<CheckRunner>(*engine, clock, options);
  }
};

TEST_CASE("a check passes when its query returns a row, and keeps the rows", "[check]") {
  Fixture f;
  CheckResult r = f.runner->Run(MakeCheck("root", "SELECT name, uid FROM accounts WHERE uid = 0"));
  CHECK(r.status == CheckStatus::kPass);
  CHECK(r.error.empty());
  CHECK(r.check.id == "root");
  CHECK(r.columns == std::vector<std::string>{"name", "uid"});
  CHECK(r.rows == std::vector<std::vector<std::string>>{{"root", "0"}});
  CHECK(r.row_count == 1);
  CHECK(CheckStatusName(r.status) == "pass");

  // NULL is a row too: the row count decides, not the values.
  CHECK(f.runner->Run(MakeCheck("null", "SELECT uid FROM accounts WHERE name = 'bob'")).status ==
        CheckStatus::kPass);
}

TEST_CASE("a check fails when its query returns no row", "[check]") {
  Fixture f;
  CheckResult r = f.runner->Run(MakeCheck("zed", "SELECT 1 FROM accounts WHERE name = 'zed'"));
  CHECK(r.status == CheckStatus::kFail);
  CHECK(r.error.empty());
  CHECK(r.rows.empty());
  CHECK(r.row_count == 0);
  CHECK(CheckStatusName(r.status) == "fail");
}

TEST_CASE("a query that cannot run is an error carrying the engine's message", "[check]") {
  Fixture f;
  CheckResult bad_sql = f.runner->Run(MakeCheck("bad", "SELECT FROM accounts"));
  CHECK(bad_sql.status == CheckStatus::kError);
  CHECK(bad_sql.error.find("syntax error") != std::string::npos);

  CheckResult no_table = f.runner->Run(MakeCheck("nt", "SELECT 1 FROM nosuch"));
  CHECK(no_table.status == CheckStatus::kError);
  CHECK(no_table.error.find("nosuch") != std::string::npos);

  CheckResult constraint = f.runner->Run(MakeCheck("c", "SELECT * FROM paths"));
  CHECK(constraint.status == CheckStatus::kError);
  CHECK(constraint.error.find("path") != std::string::npos);
  // With the constraint it runs.
  CHECK(f.runner->Run(MakeCheck("c2", "SELECT * FROM paths WHERE path = '/etc/passwd'")).status ==
        CheckStatus::kPass);

  CheckResult broken = f.runner->Run(MakeCheck("b", "SELECT * FROM broken"));
  CHECK(broken.status == CheckStatus::kError);
  CHECK(broken.error.find("cannot read /proc/broken") != std::string::npos);
  CHECK(CheckStatusName(broken.status) == "error");

  CheckResult write = f.runner->Run(MakeCheck("w", "DELETE FROM accounts"));
  CHECK(write.status == CheckStatus::kError);
}

TEST_CASE("a table that throws is an error, not a crash", "[check]") {
  Fixture f;
  CheckResult r = f.runner->Run(MakeCheck("t", "SELECT * FROM throws"));
  CHECK(r.status == CheckStatus::kError);
  CHECK_FALSE(r.error.empty());
}

TEST_CASE("a check for another OS is skipped, not run", "[check]") {
  Fixture f;
  CheckResult win = f.runner->Run(MakeCheck("w", "SELECT * FROM broken", {"windows"}));
  CHECK(win.status == CheckStatus::kSkipped);
  CHECK(win.error.empty());
  CHECK(CheckStatusName(win.status) == "skipped");
  CHECK(f.runner->Run(MakeCheck("p", "SELECT 1", {"posix"})).status == CheckStatus::kPass);
  CHECK(f.runner->Run(MakeCheck("m", "SELECT 1", {"macos", "linux"})).status == CheckStatus::kPass);
}

TEST_CASE("one check's error does not stop the others", "[check]") {
  Fixture f;
  const std::vector<Check> checks = {
      MakeCheck("a", "SELECT 1 FROM accounts WHERE name = 'root'"),
      MakeCheck("b", "SELECT * FROM broken"),
      MakeCheck("c", "SELECT * FROM throws"),
      MakeCheck("d", "SELECT 1 FROM accounts WHERE name = 'zed'"),
      MakeCheck("e", "SELECT 1", {"windows"}),
      MakeCheck("f", "SELECT name FROM accounts"),
  };
  const std::vector<CheckResult> results = f.runner->RunAll(checks);
  REQUIRE(results.size() == 6);
  std::vector<CheckStatus> got;
  std::vector<std::string> ids;
  for (const auto& r : results) {
    got.push_back(r.status);
    ids.push_back(r.check.id);
  }
  CHECK(ids == std::vector<std::string>{"a", "b", "c", "d", "e", "f"});
  CHECK(got == std::vector<CheckStatus>{CheckStatus::kPass, CheckStatus::kError,
                                        CheckStatus::kError, CheckStatus::kFail,
                                        CheckStatus::kSkipped, CheckStatus::kPass});
  CHECK(results[5].row_count == 3);
}

TEST_CASE("reported rows are capped; the count is not", "[check]") {
  Fixture f;
  CheckResult r = f.runner->Run(MakeCheck("many", "SELECT n FROM many"));
  CHECK(r.status == CheckStatus::kPass);
  CHECK(r.row_count == 100);
  REQUIRE(r.rows.size() == 20);
  CHECK(r.rows[19] == std::vector<std::string>{"20"});
}

TEST_CASE("the row limit of a check makes it an error", "[check]") {
  FakeClock clock;
  std::vector<TableDef> tables = {Many()};
  auto e = QueryEngine::Create(tables, "/", clock);
  REQUIRE(e.ok());
  CheckRunOptions options;
  options.os = "linux";
  options.limits.max_rows = 10;
  CheckRunner runner(**e, clock, options);
  CheckResult r = runner.Run(MakeCheck("many", "SELECT n FROM many"));
  CHECK(r.status == CheckStatus::kError);
  CHECK_FALSE(r.error.empty());
}

}  // namespace
}  // namespace outpost

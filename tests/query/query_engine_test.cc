// The virtual-table adaptor and the engine: push-down, required constraints, limits,
// failing tables, and refusal of anything but reading.
#include <catch.hpp>
#include "source_dir.h"

#include <string>
#include <vector>

#include "query/query_engine.h"
#include "test_files.h"

namespace outpost {
namespace {

using platform::ColumnDef;
using platform::ColumnType;
using platform::TableDef;
using platform::Value;

struct Seen {
  std::vector<platform::TableQuery> queries;
};

// "numbers": n = 1..count, with n an index column; records what was pushed down.
TableDef Numbers(Seen& seen, int64_t count) {
  return TableDef{"numbers",
                  "1..count",
                  {{"n", ColumnType::kInteger, false, true},
                   {"name", ColumnType::kText},
                   {"secret", ColumnType::kText, false, false, true}},
                  [&seen, count](const platform::TableEnv&, const platform::TableQuery& q,
                                 platform::RowSink& rows) -> std::string {
                    seen.queries.push_back(q);
                    const std::vector<std::string> wanted = q.Texts(0);
                    for (int64_t n = 1; n <= count; ++n) {
                      if (!wanted.empty() && std::find(wanted.begin(), wanted.end(),
                                                       std::to_string(n)) == wanted.end())
                        continue;
                      if (!rows.Add({n, "n" + std::to_string(n), std::string("hidden")})) break;
                    }
                    return "";
                  }};
}

// "files": path is required.
TableDef Files(Seen& seen) {
  return TableDef{"files",
                  "needs a path",
                  {{"path", ColumnType::kText, true},
                   {"directory", ColumnType::kText, true},
                   {"size", ColumnType::kBigInt}},
                  [&seen](const platform::TableEnv&, const platform::TableQuery& q,
                          platform::RowSink& rows) -> std::string {
                    seen.queries.push_back(q);
                    for (const std::string& p : q.Texts(0)) rows.Add({p, Value(), int64_t(7)});
                    for (const std::string& p : q.Texts(0, platform::ConstraintOp::kLike))
                      rows.Add({p, Value(), int64_t(8)});
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

// Advances the fake clock by 1 s per row until told to stop.
TableDef Slow(FakeClock& clock) {
  return TableDef{"slow",
                  "never ends by itself",
                  {{"x", ColumnType::kInteger}},
                  [&clock](const platform::TableEnv& env, const platform::TableQuery&,
                           platform::RowSink& rows) -> std::string {
                    for (int64_t i = 0; !env.stopped(); ++i) {
                      clock.Advance(std::chrono::seconds(1));
                      if (!rows.Add({i})) break;
                    }
                    return "";
                  }};
}

struct Fixture {
  Seen seen;
  FakeClock clock;
  std::vector<TableDef> tables;
  std::unique_ptr<QueryEngine> engine;
  explicit Fixture(int64_t count = 5) {
    tables = {Numbers(seen, count), Files(seen), Broken(), Slow(clock)};
    auto e = QueryEngine::Create(tables, "/", clock);
    REQUIRE(e.ok());
    engine = std::move(e).value();
  }
  Result<QueryResult> Run(const std::string& sql, QueryLimits limits = {}) {
    return engine->Run(sql, limits);
  }
};

std::vector<std::string> Column0(const QueryResult& r) {
  std::vector<std::string> out;
  for (const auto& row : r.rows) out.push_back(ValueText(row[0]));
  return out;
}

TEST_CASE("tables need no CREATE; SELECT * leaves hidden columns out", "[query]") {
  Fixture f;
  Result<QueryResult> r = f.Run("SELECT * FROM numbers");
  REQUIRE(r.ok());
  CHECK(r->columns == std::vector<std::string>{"n", "name"});
  CHECK(Column0(*r) == std::vector<std::string>{"1", "2", "3", "4", "5"});
  Result<QueryResult> h = f.Run("SELECT secret FROM numbers WHERE n = 2");
  REQUIRE(h.ok());
  CHECK(Column0(*h) == std::vector<std::string>{"hidden"});
}

TEST_CASE("= and IN on an index column are pushed down", "[query]") {
  Fixture f;
  Result<QueryResult> r = f.Run("SELECT name FROM numbers WHERE n = 3");
  REQUIRE(r.ok());
  CHECK(Column0(*r) == std::vector<std::string>{"n3"});
  REQUIRE(f.seen.queries.size() == 1);
  CHECK(f.seen.queries[0].Texts(0) == std::vector<std::string>{"3"});

  f.seen.queries.clear();
  r = f.Run("SELECT n FROM numbers WHERE n IN (2, 4) ORDER BY n");
  REQUIRE(r.ok());
  CHECK(Column0(*r) == std::vector<std::string>{"2", "4"});
  for (const auto& q : f.seen.queries) CHECK(q.Texts(0).size() == 1);  // one call per value

  // A constraint on a plain column is not pushed down; SQLite filters.
  f.seen.queries.clear();
  r = f.Run("SELECT n FROM numbers WHERE name = 'n5'");
  REQUIRE(r.ok());
  CHECK(Column0(*r) == std::vector<std::string>{"5"});
  REQUIRE(f.seen.queries.size() == 1);
  CHECK(f.seen.queries[0].constraints.empty());
}

TEST_CASE("a required column without a constraint is a clear error", "[query]") {
  Fixture f;
  Result<QueryResult> r = f.Run("SELECT * FROM files");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalidArgument);
  CHECK(r.status().message().find("table files needs a constraint on path or directory") !=
        std::string::npos);
  CHECK(f.seen.queries.empty());  // the table never ran

  r = f.Run("SELECT path, size FROM files WHERE path = '/etc/passwd'");
  REQUIRE(r.ok());
  CHECK(Column0(*r) == std::vector<std::string>{"/etc/passwd"});
  r = f.Run("SELECT size FROM files WHERE path LIKE '/etc/%'");
  REQUIRE(r.ok());
  CHECK(Column0(*r) == std::vector<std::string>{"8"});

  // A join can feed the required column.
  r = f.Run("SELECT f.path FROM numbers AS x JOIN files AS f ON f.path = x.name WHERE x.n < 3");
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(Column0(*r) == std::vector<std::string>{"n1", "n2"});
}

TEST_CASE("a failing table fails its query with its message", "[query]") {
  Fixture f;
  Result<QueryResult> r = f.Run("SELECT * FROM broken");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("table broken: cannot read /proc/broken") != std::string::npos);
  CHECK(f.Run("SELECT count(*) FROM numbers").ok());  // the engine goes on
}

TEST_CASE("time and row limits stop a query", "[query]") {
  Fixture f(50);
  QueryLimits limits;
  limits.timeout = std::chrono::seconds(5);
  Result<QueryResult> r = f.Run("SELECT * FROM slow", limits);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(r.status().message().find("time limit") != std::string::npos);

  limits.timeout = std::chrono::seconds(100);
  limits.max_rows = 10;
  r = f.Run("SELECT * FROM numbers", limits);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(r.status().message().find("more than 10 rows") != std::string::npos);
  r = f.Run("SELECT * FROM numbers LIMIT 3", limits);
  // The table scan itself is capped too (it yields 50 rows), so even LIMIT fails here.
  CHECK_FALSE(r.ok());
  r = f.Run("SELECT * FROM numbers WHERE n = 7", limits);
  REQUIRE(r.ok());
  CHECK(r->rows.size() == 1);
}

TEST_CASE("only reading is allowed", "[query]") {
  Fixture f;
  for (const char* sql :
       {"CREATE TABLE t(x)", "ATTACH DATABASE '/tmp/x.db' AS x", "PRAGMA journal_mode = WAL",
        "INSERT INTO numbers VALUES (1, 'x', 'y')", "SELECT 1; SELECT 2",
        "SELECT load_extension('/tmp/x.so')", "SELECT * FROM no_such_table", "SELEKT 1"}) {
    INFO(sql);
    Result<QueryResult> r = f.Run(sql);
    CHECK_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
  }
  // osquery's SQLite takes a double-quoted word that names no column as a string.
  Result<QueryResult> dq = f.Run("SELECT n FROM numbers WHERE name = \"n2\"");
  REQUIRE(dq.ok());
  CHECK(Column0(*dq) == std::vector<std::string>{"2"});
  Result<QueryResult> ok = f.Run("SELECT 1 AS one, 2.5, NULL, 'x';");
  REQUIRE(ok.ok());
  CHECK(ok->columns[0] == "one");
  CHECK(ValueText(ok->rows[0][1]) == "2.5");
  CHECK(ValueText(ok->rows[0][2]) == "");
}

// rpm_packages reads rpmdb.sqlite through TableEnv::read_sqlite, which this engine
// supplies (platform has no SQLite): the fixture written by make_rpmdb.py, end to end.
TEST_CASE("rpm_packages reads rpmdb.sqlite through the engine's SQLite reader", "[query]") {
  if (platform::DeviceTablesOs() != "linux") return;  // a Linux table
  FakeClock clock;
  auto e =
      QueryEngine::Create(platform::DeviceTables(),
                          std::string(OUTPOST_SOURCE_DIR) + "/tests/fixtures/linux/rpmhost", clock);
  REQUIRE(e.ok());
  Result<QueryResult> r = (*e)->Run(
      "SELECT name, version, release, epoch, arch, size, install_time, vendor, "
      "package_group, source, sha1 FROM rpm_packages",
      {});
  REQUIRE(r.ok());
  std::vector<std::string> lines;
  for (const auto& row : r->rows) {
    std::string line;
    for (const platform::Value& v : row) line += ValueText(v) + "|";
    lines.push_back(line);
  }
  // The corrupt third blob is skipped.
  CHECK(lines == std::vector<std::string>{
                     "bash|5.1.8|9.el9||x86_64|7738634|1700000100|Red Hat, Inc.|Unspecified|"
                     "bash-5.1.8-9.el9.src.rpm|4c5b1f3c1d0e0e4a6f1c8a1b2d3e4f5a6b7c8d9e|",
                     "openssl-libs|3.0.7|27.el9|1|x86_64|6502904|1700000200|Red Hat, Inc.|"
                     "Unspecified|openssl-3.0.7-27.el9.src.rpm|"
                     "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567|",
                     "tzdata|2024a|1.el9||noarch|1725473|1700000300||System Environment/Base|"
                     "tzdata-2024a-1.el9.src.rpm||",
                 });
  Result<QueryResult> epoch = (*e)->Run("SELECT name FROM rpm_packages WHERE epoch = 1", {});
  REQUIRE(epoch.ok());
  CHECK(Column0(*epoch) == std::vector<std::string>{"openssl-libs"});

  // A file that is not a database fails the query with SQLite's reason.
  testing::TempDir corrupt;
  corrupt.Write("var/lib/rpm/rpmdb.sqlite", std::string(4096, 'x'));
  auto c = QueryEngine::Create(platform::DeviceTables(), corrupt.path(), clock);
  REQUIRE(c.ok());
  Result<QueryResult> bad = (*c)->Run("SELECT * FROM rpm_packages", {});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("rpmdb.sqlite") != std::string::npos);
  CHECK(bad.status().message().find("not a database") != std::string::npos);
}

}  // namespace
}  // namespace outpost

// file on the fixture tree debian12/opt/filetest: path =, path LIKE (one level and
// '%%' recursion), directory =, symlinks followed inside the root.
#include <catch.hpp>

#include "platform/table_rows.h"

namespace outpost::test {
namespace {

struct Sink : platform::RowSink {
  size_t columns = 0;
  std::vector<std::vector<platform::Value>> rows;
  bool Add(std::vector<platform::Value> row) override {
    REQUIRE(row.size() <= columns);
    row.resize(columns);
    rows.push_back(std::move(row));
    return true;
  }
};

std::vector<std::vector<platform::Value>> RunLike(const platform::TableDef& t,
                                                  const std::string& pattern) {
  platform::TableEnv env;
  env.root = LinuxFixture("debian12");
  platform::TableQuery q;
  q.constraints.push_back({0, platform::ConstraintOp::kLike, pattern});
  Sink sink;
  sink.columns = t.columns.size();
  REQUIRE(t.generate(env, q, sink).empty());
  return sink.rows;
}

std::vector<std::string> Paths(const platform::TableDef& t,
                               const std::vector<std::vector<platform::Value>>& rows) {
  std::vector<std::string> out;
  for (const auto& row : rows) out.push_back(Cell(t, row, "path"));
  return out;
}

TEST_CASE("file with path = stats that path and reports it as queried", "[tables]") {
  const platform::TableDef& t = FindTable("file");
  TableRun r = RunTable(t, LinuxFixture("debian12"), {{"path", "/opt/filetest/a.txt"}});
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 1);
  const auto& row = r.rows[0];
  CHECK(Cell(t, row, "path") == "/opt/filetest/a.txt");  // not prefixed by the root
  CHECK(Cell(t, row, "directory") == "/opt/filetest");
  CHECK(Cell(t, row, "filename") == "a.txt");
  CHECK(Cell(t, row, "size") == "12");
  CHECK(Cell(t, row, "type") == "regular");
  CHECK(Cell(t, row, "symlink") == "0");
  CHECK(Cell(t, row, "symlink_target_path") == "");
  CHECK(Cell(t, row, "hard_links") == "1");
  CHECK(Cell(t, row, "mode").size() == 4);
  CHECK(Cell(t, row, "mode")[0] == '0');
  CHECK(Cell(t, row, "attributes") == "");

  TableRun dir = RunTable(t, LinuxFixture("debian12"), {{"path", "/opt/filetest/sub"}});
  REQUIRE(dir.rows.size() == 1);
  CHECK(Cell(t, dir.rows[0], "type") == "directory");
  CHECK(Cell(t, dir.rows[0], "directory") == "/opt/filetest");

  CHECK(RunTable(t, LinuxFixture("debian12"), {{"path", "/opt/filetest/nope"}}).rows.empty());
  CHECK(RunTable(t, LinuxFixture("debian12"), {{"path", "opt/filetest/a.txt"}}).rows.empty());
}

TEST_CASE("file follows symlinks inside the root", "[tables]") {
  const platform::TableDef& t = FindTable("file");
  // An absolute target: /opt/filetest/a.txt under the root, not on this machine.
  TableRun abs = RunTable(t, LinuxFixture("debian12"), {{"path", "/opt/filetest/link-to-a"}});
  REQUIRE(abs.rows.size() == 1);
  CHECK(Cell(t, abs.rows[0], "symlink") == "1");
  CHECK(Cell(t, abs.rows[0], "symlink_target_path") == "/opt/filetest/a.txt");
  CHECK(Cell(t, abs.rows[0], "type") == "regular");
  CHECK(Cell(t, abs.rows[0], "size") == "12");
  // A relative target with "..".
  TableRun rel = RunTable(t, LinuxFixture("debian12"), {{"path", "/opt/filetest/rel-link"}});
  REQUIRE(rel.rows.size() == 1);
  CHECK(Cell(t, rel.rows[0], "symlink_target_path") == "/opt/filetest/sub/c.txt");
  CHECK(Cell(t, rel.rows[0], "size") == "4");
  // Dangling: the link itself.
  TableRun dangling = RunTable(t, LinuxFixture("debian12"), {{"path", "/opt/filetest/dangling"}});
  REQUIRE(dangling.rows.size() == 1);
  CHECK(Cell(t, dangling.rows[0], "symlink") == "1");
  CHECK(Cell(t, dangling.rows[0], "type") == "symlink");
  CHECK(Cell(t, dangling.rows[0], "symlink_target_path") == "");
}

TEST_CASE("file path LIKE lists one level, %% recurses", "[tables]") {
  const platform::TableDef& t = FindTable("file");
  CHECK(Paths(t, RunLike(t, "/opt/filetest/%")) ==
        std::vector<std::string>{"/opt/filetest/a.txt", "/opt/filetest/b.conf",
                                 "/opt/filetest/dangling", "/opt/filetest/link-to-a",
                                 "/opt/filetest/rel-link", "/opt/filetest/sub"});
  CHECK(Paths(t, RunLike(t, "/opt/filetest/%.TXT")) ==
        std::vector<std::string>{"/opt/filetest/a.txt"});  // LIKE ignores ASCII case
  CHECK(Paths(t, RunLike(t, "/opt/%/sub/c.tx_")) ==
        std::vector<std::string>{"/opt/filetest/sub/c.txt"});
  CHECK(Paths(t, RunLike(t, "/opt/filetest/sub/%%")) ==
        std::vector<std::string>{"/opt/filetest/sub/c.txt", "/opt/filetest/sub/deeper",
                                 "/opt/filetest/sub/deeper/d.txt"});
  const auto deep = RunLike(t, "/opt/filetest/sub/%%");
  CHECK(Cell(t, deep[2], "directory") == "/opt/filetest/sub/deeper");
  CHECK(RunLike(t, "/opt/missing/%").empty());
}

TEST_CASE("file directory = lists its entries without recursing", "[tables]") {
  const platform::TableDef& t = FindTable("file");
  TableRun r = RunTable(t, LinuxFixture("debian12"), {{"directory", "/opt/filetest/sub"}});
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 2);
  CHECK(Cell(t, r.rows[0], "path") == "/opt/filetest/sub/c.txt");
  CHECK(Cell(t, r.rows[0], "directory") == "/opt/filetest/sub");
  CHECK(Cell(t, r.rows[1], "path") == "/opt/filetest/sub/deeper");
  CHECK(Cell(t, r.rows[1], "type") == "directory");
}

TEST_CASE("file stops when the time limit passes", "[tables]") {
  const platform::TableDef& t = FindTable("file");
  platform::TableEnv env;
  env.root = LinuxFixture("debian12");
  env.should_stop = [] { return true; };
  platform::TableQuery q;
  q.constraints.push_back({0, platform::ConstraintOp::kLike, std::string("/opt/%%")});
  Sink sink;
  sink.columns = t.columns.size();
  CHECK(t.generate(env, q, sink).empty());
  CHECK(sink.rows.empty());
}

}  // namespace
}  // namespace outpost::test

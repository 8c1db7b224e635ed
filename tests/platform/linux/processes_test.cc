// processes on fixture trees: stat parsing (names with spaces and ')'), units, pid
// push-down, and cut or garbage stat files.
#include <catch.hpp>

#include "platform/table_rows.h"

namespace outpost::test {
namespace {

TEST_CASE("processes reads stat, status, cmdline, io, cgroup and links", "[tables]") {
  const platform::TableDef& t = FindTable("processes");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 2);  // 1 and 4242; 99 has no "(name)" in its stat
  const auto& init = r.rows[0];
  CHECK(Cell(t, init, "pid") == "1");
  CHECK(Cell(t, init, "name") == "systemd");
  CHECK(Cell(t, init, "path") == "/usr/lib/systemd/systemd");
  CHECK(Cell(t, init, "on_disk") == "1");
  CHECK(Cell(t, init, "cmdline") == "/sbin/init splash");
  CHECK(Cell(t, init, "state") == "S");
  CHECK(Cell(t, init, "cwd") == "/");
  CHECK(Cell(t, init, "root") == "/");
  CHECK(Cell(t, init, "uid") == "0");
  CHECK(Cell(t, init, "parent") == "0");
  CHECK(Cell(t, init, "pgroup") == "1");
  CHECK(Cell(t, init, "user_time") == "3650");         // 365 ticks at 100 Hz
  CHECK(Cell(t, init, "system_time") == "11610");      // 1161 ticks
  CHECK(Cell(t, init, "start_time") == "1700000012");  // btime + 1234 ticks
  CHECK(Cell(t, init, "resident_size") == "12582912");
  CHECK(Cell(t, init, "total_size") == "171704320");
  CHECK(Cell(t, init, "wired_size") == "0");
  CHECK(Cell(t, init, "disk_bytes_read") == "4096");
  CHECK(Cell(t, init, "disk_bytes_written") == "8192");
  CHECK(Cell(t, init, "threads") == "1");
  CHECK(Cell(t, init, "nice") == "0");
  CHECK(Cell(t, init, "cgroup_path") == "/init.scope");
  CHECK(Cell(t, init, "elevated_token") == "");

  const auto& mine = r.rows[1];
  CHECK(Cell(t, mine, "pid") == "4242");
  CHECK(Cell(t, mine, "name") == "my proc) x");  // up to the LAST ')'
  CHECK(Cell(t, mine, "state") == "R");
  CHECK(Cell(t, mine, "parent") == "1");
  CHECK(Cell(t, mine, "cmdline") == "my proc --flag");
  CHECK(Cell(t, mine, "path") == "/opt/app/bin/x");
  CHECK(Cell(t, mine, "on_disk") == "0");  // "(deleted)"
  CHECK(Cell(t, mine, "cwd") == "/home/alice");
  CHECK(Cell(t, mine, "root") == "");  // no root link
  CHECK(Cell(t, mine, "uid") == "1000");
  CHECK(Cell(t, mine, "euid") == "1001");
  CHECK(Cell(t, mine, "suid") == "1002");
  CHECK(Cell(t, mine, "gid") == "100");
  CHECK(Cell(t, mine, "egid") == "101");
  CHECK(Cell(t, mine, "sgid") == "102");
  CHECK(Cell(t, mine, "user_time") == "2500");
  CHECK(Cell(t, mine, "system_time") == "500");
  CHECK(Cell(t, mine, "nice") == "5");
  CHECK(Cell(t, mine, "threads") == "3");
  CHECK(Cell(t, mine, "start_time") == "1700005000");
  CHECK(Cell(t, mine, "disk_bytes_read") == "");  // no io file
  CHECK(Cell(t, mine, "cgroup_path") == "/user.slice/user-1000.slice/session-2.scope");
}

TEST_CASE("processes with pid = N reads only /proc/N", "[tables]") {
  const platform::TableDef& t = FindTable("processes");
  // The generator asks should_stop once per process it reads.
  int reads = 0;
  platform::TableEnv env;
  env.root = LinuxFixture("debian12");
  env.should_stop = [&] {
    ++reads;
    return false;
  };
  platform::TableQuery q;
  q.constraints.push_back({0, platform::ConstraintOp::kEquals, int64_t{4242}});
  struct Sink : platform::RowSink {
    std::vector<std::vector<platform::Value>> rows;
    bool Add(std::vector<platform::Value> row) override {
      rows.push_back(std::move(row));
      return true;
    }
  } sink;
  REQUIRE(t.generate(env, q, sink).empty());
  REQUIRE(sink.rows.size() == 1);
  CHECK(std::get<int64_t>(sink.rows[0][0]) == 4242);
  CHECK(reads == 1);

  CHECK(RunTable(t, LinuxFixture("debian12"), {{"pid", "99"}}).rows.empty());
  CHECK(RunTable(t, LinuxFixture("debian12"), {{"pid", "31337"}}).rows.empty());
  CHECK(RunTable(t, LinuxFixture("debian12"), {{"pid", "1"}}).rows.size() == 1);
}

TEST_CASE("processes survives cut and garbage stat files", "[tables]") {
  const platform::TableDef& t = FindTable("processes");
  TableRun r = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 1);  // 8 (binary) and 9 ("9 (") have no name
  const auto& row = r.rows[0];
  CHECK(Cell(t, row, "pid") == "7");
  CHECK(Cell(t, row, "name") == "kworker/0:1-events");
  CHECK(Cell(t, row, "state") == "S");
  CHECK(Cell(t, row, "parent") == "2");
  CHECK(Cell(t, row, "pgroup") == "0");
  CHECK(Cell(t, row, "user_time") == "");
  CHECK(Cell(t, row, "uid") == "");
  CHECK(Cell(t, row, "resident_size") == "");
  CHECK(Cell(t, row, "start_time") == "-1");  // no btime, no start tick
  CHECK(Cell(t, row, "on_disk") == "-1");
  CHECK(RunTable(t, LinuxFixture("does-not-exist")).rows.empty());
}

}  // namespace
}  // namespace outpost::test

// listening_ports on fixture trees: LISTEN/bound filtering, v4/v6 decoding, inode ->
// pid/fd mapping, garbage lines skipped.
#include <catch.hpp>

#include "platform/table_rows.h"

namespace outpost::test {
namespace {

std::string Line(const platform::TableDef& t, const std::vector<platform::Value>& row) {
  std::string out;
  for (const char* c :
       {"pid", "port", "protocol", "family", "address", "fd", "socket", "path", "net_namespace"})
    out += Cell(t, row, c) + "|";
  return out;
}

TEST_CASE("listening_ports lists listening and bound sockets with their process", "[tables]") {
  const platform::TableDef& t = FindTable("listening_ports");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  std::vector<std::string> lines;
  for (const auto& row : r.rows) lines.push_back(Line(t, row));
  CHECK(lines == std::vector<std::string>{
                     "1|22|6|2|0.0.0.0|3|12345||4026531840|",  // ESTABLISHED and CLOSE skipped
                     "1|443|6|10|::|4|23456||4026531840|",
                     "-1|8080|6|10|::1|-1|45678|||",      // no process holds it
                     "-1|53|17|2|127.0.0.1|-1|56789|||",  // the connected UDP socket skipped
                     "1||0|1||5|11111|/run/systemd/private|4026531840|",
                     "-1||0|1||-1|33333|@/tmp/.X11-unix/X0||",
                 });
}

TEST_CASE("listening_ports skips garbage lines", "[tables]") {
  const platform::TableDef& t = FindTable("listening_ports");
  TableRun r = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 1);
  CHECK(Line(t, r.rows[0]) == "-1|80|6|2|0.0.0.0|-1|777|||");
  CHECK(RunTable(t, LinuxFixture("does-not-exist")).rows.empty());
}

}  // namespace
}  // namespace outpost::test

// os_version on fixture trees.
#include <catch.hpp>

#include "outpost/platform/system.h"
#include "platform/table_rows.h"

namespace outpost::test {
namespace {

TEST_CASE("os_version reads os-release", "[tables]") {
  const platform::TableDef& t = FindTable("os_version");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 1);
  const auto& row = r.rows[0];
  CHECK(Cell(t, row, "name") == "Debian GNU/Linux");
  CHECK(Cell(t, row, "version") == "12 (bookworm)");
  CHECK(Cell(t, row, "major") == "12");
  CHECK(Cell(t, row, "minor") == "");
  CHECK(Cell(t, row, "platform") == "debian");
  CHECK(Cell(t, row, "codename") == "bookworm");
  CHECK(Cell(t, row, "arch") == std::string(platform::ArchName()));
}

TEST_CASE("os_version survives garbage and a missing file", "[tables]") {
  const platform::TableDef& t = FindTable("os_version");
  TableRun g = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(g.error.empty());
  REQUIRE(g.rows.size() == 1);
  CHECK(Cell(t, g.rows[0], "platform") == "ubuntu");
  CHECK(Cell(t, g.rows[0], "platform_like") == "debian");
  TableRun none = RunTable(t, LinuxFixture("does-not-exist"));
  CHECK(none.error.empty());
  CHECK(none.rows.empty());
}

}  // namespace
}  // namespace outpost::test

// deb_packages on fixture trees: installed and held packages listed, config-files ones
// not; revision, source and size as osquery gives them; a truncated status file.
#include <catch.hpp>

#include <string>
#include <vector>

#include "platform/table_rows.h"

namespace outpost::test {
namespace {

TEST_CASE("deb_packages lists installed packages from dpkg's status", "[tables]") {
  const platform::TableDef& t = FindTable("deb_packages");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  std::vector<std::string> names;
  for (const auto& row : r.rows) names.push_back(Cell(t, row, "name"));
  CHECK(names == std::vector<std::string>{"libc6", "openssh-server", "tzdata"});
  REQUIRE(r.rows.size() == 3);

  const auto& libc = r.rows[0];
  CHECK(Cell(t, libc, "version") == "2.36-9+deb12u4");
  CHECK(Cell(t, libc, "revision") == "9+deb12u4");
  CHECK(Cell(t, libc, "source") == "glibc");
  CHECK(Cell(t, libc, "size") == "12985");
  CHECK(Cell(t, libc, "arch") == "amd64");
  CHECK(Cell(t, libc, "status") == "install ok installed");
  CHECK(Cell(t, libc, "maintainer") == "GNU Libc Maintainers <debian-glibc@lists.debian.org>");
  CHECK(Cell(t, libc, "section") == "libs");
  CHECK(Cell(t, libc, "priority") == "optional");
  CHECK(Cell(t, libc, "admindir") == "/var/lib/dpkg");

  const auto& ssh = r.rows[1];
  CHECK(Cell(t, ssh, "status") == "hold ok installed");
  CHECK(Cell(t, ssh, "version") == "1:9.2p1-2+deb12u3");
  CHECK(Cell(t, ssh, "revision") == "2+deb12u3");
  CHECK(Cell(t, ssh, "source") == "openssh (1:9.2p1-2+deb12u3)");

  const auto& tz = r.rows[2];
  CHECK(Cell(t, tz, "revision") == "");  // native package
  CHECK(Cell(t, tz, "source") == "");
  CHECK(Cell(t, tz, "arch") == "all");

  CHECK(t.columns[*t.Column("mount_namespace_id")].hidden);
  CHECK(RunTable(t, LinuxFixture("debian12"), {{"admindir", "/var/lib/dpkg/"}}).rows.size() == 3);
  CHECK(RunTable(t, LinuxFixture("debian12"), {{"admindir", "/nowhere"}}).rows.empty());
}

TEST_CASE("deb_packages tolerates a truncated, partly binary status file", "[tables]") {
  const platform::TableDef& t = FindTable("deb_packages");
  TableRun r = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 2);
  CHECK(Cell(t, r.rows[0], "name") == "good");
  CHECK(Cell(t, r.rows[0], "version") == "1.2-3");
  CHECK(Cell(t, r.rows[0], "size") == "");     // "not-a-number": NULL
  CHECK(Cell(t, r.rows[1], "name") == "cut");  // cut mid-stanza: the fields it has
  CHECK(Cell(t, r.rows[1], "version") == "");
  CHECK(RunTable(t, LinuxFixture("does-not-exist")).rows.empty());
}

}  // namespace
}  // namespace outpost::test

// systemd_units on fixture trees: enabled (also through a template instance), masked,
// alias, static and disabled unit files; /etc hiding /lib; broken links in garbage/.
#include <catch.hpp>

#include <string>
#include <vector>

#include "platform/table_rows.h"

namespace outpost::test {
namespace {

TEST_CASE("systemd_units reads unit files and their enablement", "[tables]") {
  const platform::TableDef& t = FindTable("systemd_units");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  std::vector<std::string> got;
  for (const auto& row : r.rows)
    got.push_back(Cell(t, row, "id") + " " + Cell(t, row, "unit_file_state") + " " +
                  Cell(t, row, "load_state") + " " + Cell(t, row, "fragment_path"));
  CHECK(got ==
        std::vector<std::string>{
            "backup.service enabled loaded /etc/systemd/system/backup.service",
            "ctrl-alt-del.target masked masked ",
            "getty@.service enabled loaded /lib/systemd/system/getty@.service",
            "rsync.service disabled loaded /lib/systemd/system/rsync.service",
            "ssh.service enabled loaded /lib/systemd/system/ssh.service",
            "sshd.service alias loaded /usr/lib/systemd/system/ssh.service",
            "systemd-journald.service static loaded /lib/systemd/system/systemd-journald.service",
        });
  REQUIRE(r.rows.size() == 7);
  CHECK(Cell(t, r.rows[0], "description") == "Nightly backup");
  CHECK(Cell(t, r.rows[0], "user") == "backup");
  CHECK(Cell(t, r.rows[4], "description") == "OpenBSD Secure Shell server");
  CHECK(Cell(t, r.rows[4], "user") == "");
  CHECK(Cell(t, r.rows[4], "object_path") == "/org/freedesktop/systemd1/unit/ssh_2eservice");
  CHECK(Cell(t, r.rows[2], "object_path") == "/org/freedesktop/systemd1/unit/getty_40_2eservice");
  CHECK(Cell(t, r.rows[5], "description") == "OpenBSD Secure Shell server");
  CHECK(Cell(t, r.rows[1], "description") == "");  // masked: the /lib file is not read
  // Runtime state needs D-Bus: NULL.
  CHECK(std::holds_alternative<std::monostate>(r.rows[4][*t.Column("active_state")]));
  CHECK(std::holds_alternative<std::monostate>(r.rows[4][*t.Column("sub_state")]));
  CHECK(std::holds_alternative<std::monostate>(r.rows[4][*t.Column("job_id")]));
}

TEST_CASE("systemd_units skips broken links and parses garbage", "[tables]") {
  const platform::TableDef& t = FindTable("systemd_units");
  TableRun r = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 1);  // loop.service and dangling.service lead nowhere
  CHECK(Cell(t, r.rows[0], "id") == "bad.service");
  CHECK(Cell(t, r.rows[0], "unit_file_state") == "static");  // "WantedBy" without '='
  CHECK(Cell(t, r.rows[0], "description") == "");            // in a section that is not [Unit]
  CHECK(RunTable(t, LinuxFixture("does-not-exist")).rows.empty());
}

}  // namespace
}  // namespace outpost::test

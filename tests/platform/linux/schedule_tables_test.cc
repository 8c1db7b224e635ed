// crontab on fixture trees.
#include <catch.hpp>

#include "platform/table_rows.h"

namespace outpost::test {
namespace {

TEST_CASE("crontab reads /etc/crontab, /etc/cron.d and user crontabs", "[tables]") {
  const platform::TableDef& t = FindTable("crontab");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 5);
  const auto& hourly = r.rows[0];
  CHECK(Cell(t, hourly, "minute") == "17");
  CHECK(Cell(t, hourly, "hour") == "*");
  CHECK(Cell(t, hourly, "day_of_month") == "*");
  CHECK(Cell(t, hourly, "month") == "*");
  CHECK(Cell(t, hourly, "day_of_week") == "*");
  CHECK(Cell(t, hourly, "command") == "root cd / && run-parts --report /etc/cron.hourly");
  CHECK(Cell(t, hourly, "path") == "/etc/crontab");
  CHECK(Cell(t, hourly, "event") == "");
  CHECK(Cell(t, r.rows[1], "hour") == "6");
  CHECK(Cell(t, r.rows[2], "day_of_week") == "0");
  CHECK(Cell(t, r.rows[2], "path") == "/etc/cron.d/e2scrub_all");
  const auto& reboot = r.rows[3];
  CHECK(Cell(t, reboot, "event") == "@reboot");
  CHECK(Cell(t, reboot, "minute") == "");
  CHECK(Cell(t, reboot, "command") == "root /usr/local/bin/warmup --quiet");
  const auto& alice = r.rows[4];
  CHECK(Cell(t, alice, "minute") == "*/5");
  CHECK(Cell(t, alice, "command") == "/home/alice/bin/sync.sh >/dev/null 2>&1");
  CHECK(Cell(t, alice, "path") == "/var/spool/cron/crontabs/alice");
}

TEST_CASE("crontab skips garbage lines and binary files", "[tables]") {
  const platform::TableDef& t = FindTable("crontab");
  TableRun g = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(g.error.empty());
  // "17", "@", "@hourly" and "* * * * *" have no command; NUL bytes skip a line.
  REQUIRE(g.rows.size() == 1);
  CHECK(Cell(t, g.rows[0], "minute") == "1");
  CHECK(Cell(t, g.rows[0], "day_of_week") == "5");
  CHECK(Cell(t, g.rows[0], "command") == "/bin/true with spaces");
  CHECK(RunTable(t, LinuxFixture("does-not-exist")).rows.empty());
}

}  // namespace
}  // namespace outpost::test

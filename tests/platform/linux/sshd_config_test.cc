// sshd_config on fixture trees: first value wins, repeatable keywords, Include globs
// (absolute, relative, nested), Match blocks skipped, defaults for unset keywords, and
// garbage / Include loops in garbage/.
#include <catch.hpp>

#include <string>
#include <vector>

#include "platform/table_rows.h"

namespace outpost::test {
namespace {

std::vector<std::string> Render(const platform::TableDef& t, const TableRun& r) {
  std::vector<std::string> out;
  for (const auto& row : r.rows)
    out.push_back(Cell(t, row, "keyword") + "=" + Cell(t, row, "value") + " @" +
                  Cell(t, row, "file") + ":" + Cell(t, row, "line"));
  return out;
}

TEST_CASE("sshd_config follows Includes, keeps the first value, skips Match", "[tables]") {
  const platform::TableDef& t = FindTable("sshd_config");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  const std::string d = "/etc/ssh/sshd_config.d/";
  const std::string m = "/etc/ssh/sshd_config";
  CHECK(Render(t, r) == std::vector<std::string>{
                            "permitrootlogin=no @" + d + "10-hardening.conf:1",
                            "maxauthtries=3 @" + d + "10-hardening.conf:2",
                            "loglevel=VERBOSE @" + d + "20-extra.conf:2",
                            "allowusers=alice @" + d + "nested/deep.conf:1",
                            "allowusers=bob @" + d + "20-extra.conf:4",
                            "port=22 @" + m + ":4",
                            "port=2222 @" + m + ":5",
                            "passwordauthentication=no @" + m + ":8",
                            "kbdinteractiveauthentication=no @" + m + ":9",
                            "usepam=yes @" + m + ":10",
                            "x11forwarding=yes @" + m + ":11",
                            "printmotd=no @" + m + ":12",
                            "acceptenv=LANG LC_* @" + m + ":13",
                            "subsystem=sftp\t/usr/lib/openssh/sftp-server @" + m + ":14",
                            "hostkey=/etc/ssh/ssh_host_ed25519_key @" + m + ":15",
                            "clientaliveinterval=300 @" + m + ":16",
                            "permitemptypasswords=no @(default):0",
                            "pubkeyauthentication=yes @(default):0",
                            "ignorerhosts=yes @(default):0",
                            "hostbasedauthentication=no @(default):0",
                            "logingracetime=120 @(default):0",
                            "allowtcpforwarding=yes @(default):0",
                            "permituserenvironment=no @(default):0",
                        });
}

TEST_CASE("sshd_config survives binary garbage and Include loops", "[tables]") {
  const platform::TableDef& t = FindTable("sshd_config");
  TableRun r = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(r.error.empty());
  std::vector<std::string> set;  // the rows read from files
  for (const std::string& row : Render(t, r))
    if (row.find("(default)") == std::string::npos) set.push_back(row);
  CHECK(set == std::vector<std::string>{
                   "maxauthtries=4 @/etc/ssh/sshd_config.d/loop.conf:2",
                   "permitrootlogin=no @/etc/ssh/sshd_config:4",
                   "port=22 @/etc/ssh/sshd_config:5",
               });
  CHECK(r.rows.size() == 3 + 12);  // 14 defaults, two of them set
  CHECK(Render(t, r).back() == "permituserenvironment=no @(default):0");

  // No sshd_config: no rows, not even defaults.
  TableRun none = RunTable(t, LinuxFixture("does-not-exist"));
  CHECK(none.error.empty());
  CHECK(none.rows.empty());
}

}  // namespace
}  // namespace outpost::test

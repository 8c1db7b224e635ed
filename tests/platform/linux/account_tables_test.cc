// users, groups, shadow, authorized_keys and logged_in_users on fixture trees.
#include <catch.hpp>

#include <set>

#include "platform/table_rows.h"

namespace outpost::test {
namespace {

TEST_CASE("users parses /etc/passwd", "[tables]") {
  const platform::TableDef& t = FindTable("users");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 7);
  CHECK(Cell(t, r.rows[0], "username") == "root");
  CHECK(Cell(t, r.rows[0], "uid") == "0");
  CHECK(Cell(t, r.rows[0], "directory") == "/root");
  CHECK(Cell(t, r.rows[0], "shell") == "/bin/bash");
  const auto& alice = r.rows[4];
  CHECK(Cell(t, alice, "username") == "alice");
  CHECK(Cell(t, alice, "uid") == "1000");
  CHECK(Cell(t, alice, "gid") == "1000");
  CHECK(Cell(t, alice, "uid_signed") == "1000");
  CHECK(Cell(t, alice, "description") == "Alice Example,,,");
  CHECK(Cell(t, alice, "directory") == "/home/alice");
  CHECK(Cell(t, alice, "uuid") == "");
  CHECK(Cell(t, r.rows[3], "description") == "");  // sshd: empty GECOS
  const auto& odd = r.rows[6];
  CHECK(Cell(t, odd, "uid") == "4294967294");
  CHECK(Cell(t, odd, "uid_signed") == "-2");
  CHECK(Cell(t, odd, "gid_signed") == "-2");
  CHECK(t.columns[*t.Column("uid")].index);
  CHECK(t.columns[*t.Column("include_remote")].hidden);
}

TEST_CASE("users skips binary garbage and malformed passwd lines", "[tables]") {
  const platform::TableDef& t = FindTable("users");
  TableRun g = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(g.error.empty());
  std::vector<std::string> names;
  for (const auto& row : g.rows) names.push_back(Cell(t, row, "username"));
  CHECK(names == std::vector<std::string>{"root", "eve", "escape"});
  CHECK(RunTable(t, LinuxFixture("does-not-exist")).rows.empty());
}

TEST_CASE("groups parses /etc/group; a missing file gives no rows", "[tables]") {
  const platform::TableDef& t = FindTable("groups");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 6);
  CHECK(Cell(t, r.rows[3], "groupname") == "sudo");
  CHECK(Cell(t, r.rows[3], "gid") == "27");
  CHECK(Cell(t, r.rows[5], "groupname") == "nogroup");
  CHECK(Cell(t, r.rows[5], "gid_signed") == "65534");
  TableRun g = RunTable(t, LinuxFixture("garbage"));  // no /etc/group there
  CHECK(g.error.empty());
  CHECK(g.rows.empty());
}

// No cell of any row holds any part of a password hash.
void CheckNoHash(const platform::TableDef& t, const TableRun& r) {
  for (const auto& row : r.rows)
    for (const auto& col : t.columns) {
      const std::string v = Cell(t, row, col.name);
      CHECK(v.find("fakehash") == std::string::npos);
      CHECK(v.find("fakesalt") == std::string::npos);
      CHECK(v.find('$') == std::string::npos);
    }
}

TEST_CASE("shadow reports password status and ages, never the hash", "[tables]") {
  const platform::TableDef& t = FindTable("shadow");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 8);
  CheckNoHash(t, r);
  auto status = [&](size_t i) { return Cell(t, r.rows[i], "password_status"); };
  auto alg = [&](size_t i) { return Cell(t, r.rows[i], "hash_alg"); };
  CHECK(Cell(t, r.rows[0], "username") == "root");
  CHECK(status(0) == "active");
  CHECK(alg(0) == "6");
  CHECK(status(1) == "locked");  // daemon: "*"
  CHECK(alg(1) == "");
  CHECK(status(3) == "locked");  // sshd: "!"
  const auto& alice = r.rows[4];
  CHECK(Cell(t, alice, "username") == "alice");
  CHECK(status(4) == "active");
  CHECK(alg(4) == "y");
  CHECK(Cell(t, alice, "last_change") == "19600");
  CHECK(Cell(t, alice, "min") == "1");
  CHECK(Cell(t, alice, "max") == "90");
  CHECK(Cell(t, alice, "warning") == "14");
  CHECK(Cell(t, alice, "inactive") == "30");
  CHECK(Cell(t, alice, "expire") == "20000");
  CHECK(Cell(t, alice, "flag") == "-1");  // empty field
  CHECK(Cell(t, r.rows[3], "min") == "-1");
  CHECK(status(5) == "locked");  // bob: "!$6$..." (a locked hash has no hash_alg)
  CHECK(alg(5) == "");
  CHECK(status(6) == "not_set");  // "!!"
  CHECK(status(7) == "empty");
}

TEST_CASE("shadow honours a username constraint and skips malformed lines", "[tables]") {
  const platform::TableDef& t = FindTable("shadow");
  TableRun one = RunTable(t, LinuxFixture("debian12"), {{"username", "alice"}});
  REQUIRE(one.rows.size() == 1);
  CHECK(Cell(t, one.rows[0], "expire") == "20000");
  CHECK(RunTable(t, LinuxFixture("debian12"), {{"username", "mallory"}}).rows.empty());
  TableRun g = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(g.error.empty());
  CheckNoHash(t, g);
  REQUIRE(g.rows.size() == 2);  // root and zed; the rest are cut, non-numeric or too long
  CHECK(Cell(t, g.rows[0], "username") == "root");
  CHECK(Cell(t, g.rows[1], "username") == "zed");
  CHECK(Cell(t, g.rows[1], "hash_alg") == "5");
  CHECK(RunTable(t, LinuxFixture("does-not-exist")).rows.empty());
}

TEST_CASE("authorized_keys reads every user's key files under the root", "[tables]") {
  const platform::TableDef& t = FindTable("authorized_keys");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 4);
  // root first (passwd order), then alice's two files.
  CHECK(Cell(t, r.rows[0], "uid") == "0");
  CHECK(Cell(t, r.rows[0], "algorithm") == "sk-ssh-ed25519@openssh.com");
  CHECK(Cell(t, r.rows[0], "key_file") == "/root/.ssh/authorized_keys");
  const auto& laptop = r.rows[1];
  CHECK(Cell(t, laptop, "uid") == "1000");
  CHECK(Cell(t, laptop, "algorithm") == "ssh-ed25519");
  CHECK(Cell(t, laptop, "key") == "AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyAliceLaptop");
  CHECK(Cell(t, laptop, "comment") == "alice@laptop");
  CHECK(Cell(t, laptop, "options") == "");
  CHECK(Cell(t, laptop, "key_file") == "/home/alice/.ssh/authorized_keys");
  const auto& backup = r.rows[2];
  CHECK(Cell(t, backup, "options") == "from=\"10.0.0.0/8\",command=\"echo hello world\"");
  CHECK(Cell(t, backup, "algorithm") == "ssh-rsa");
  CHECK(Cell(t, backup, "key") == "AAAAB3NzaC1yc2EAAAADAQABFakeRsaKey");
  CHECK(Cell(t, backup, "comment") == "backup key 2024");
  CHECK(Cell(t, r.rows[3], "algorithm") == "ecdsa-sha2-nistp256");
  CHECK(Cell(t, r.rows[3], "key_file") == "/home/alice/.ssh/authorized_keys2");
  CHECK(r.rows[3][*t.Column("comment")].index() == 0);
}

TEST_CASE("authorized_keys honours a uid constraint and tolerates garbage", "[tables]") {
  const platform::TableDef& t = FindTable("authorized_keys");
  TableRun alice = RunTable(t, LinuxFixture("debian12"), {{"uid", "1000"}});
  REQUIRE(alice.rows.size() == 3);
  for (const auto& row : alice.rows) CHECK(Cell(t, row, "uid") == "1000");
  CHECK(RunTable(t, LinuxFixture("debian12"), {{"uid", "1"}}).rows.empty());
  TableRun g = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(g.error.empty());
  REQUIRE(g.rows.size() == 1);
  CHECK(Cell(t, g.rows[0], "uid") == "1001");
  CHECK(Cell(t, g.rows[0], "comment") == "eve@host");
}

TEST_CASE("logged_in_users parses utmp records", "[tables]") {
  const platform::TableDef& t = FindTable("logged_in_users");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 6);  // 7 records, init's (pid 1) skipped
  CHECK(Cell(t, r.rows[0], "type") == "boot_time");
  CHECK(Cell(t, r.rows[0], "user") == "reboot");
  CHECK(Cell(t, r.rows[0], "time") == "1700000000");
  CHECK(Cell(t, r.rows[1], "type") == "runlevel");
  CHECK(Cell(t, r.rows[2], "type") == "login");
  CHECK(Cell(t, r.rows[2], "tty") == "tty1");
  const auto& alice = r.rows[3];
  CHECK(Cell(t, alice, "type") == "user");
  CHECK(Cell(t, alice, "user") == "alice");
  CHECK(Cell(t, alice, "tty") == "pts/0");
  CHECK(Cell(t, alice, "host") == "203.0.113.7");
  CHECK(Cell(t, alice, "time") == "1700001000");
  CHECK(Cell(t, alice, "pid") == "4242");
  CHECK(Cell(t, r.rows[4], "type") == "dead");
  CHECK(Cell(t, r.rows[4], "user") == "");
  const auto& odd = r.rows[5];
  CHECK(Cell(t, odd, "type") == "unknown");
  CHECK(Cell(t, odd, "user") == "abcdefghijklmnopqrstuvwxyz012345");  // no NUL in 32 bytes
  CHECK(Cell(t, odd, "host") == std::string(256, 'h'));
  CHECK(Cell(t, odd, "time") == "-1");
}

TEST_CASE("logged_in_users ignores a cut last record", "[tables]") {
  const platform::TableDef& t = FindTable("logged_in_users");
  TableRun g = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(g.error.empty());
  REQUIRE(g.rows.size() == 1);
  CHECK(Cell(t, g.rows[0], "user") == "alice");
  CHECK(RunTable(t, LinuxFixture("does-not-exist")).rows.empty());
}

}  // namespace
}  // namespace outpost::test

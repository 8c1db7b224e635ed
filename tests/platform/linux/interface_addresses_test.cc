// interface_addresses: osquery's columns; IPv4 from fib_trie + route + sysfs flags and
// IPv6 from if_inet6 on fixture trees; garbage skipped; on this machine, the file
// reading agrees with getifaddrs.
#include <catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "platform/table_rows.h"
#include "test_files.h"

namespace outpost::test {
namespace {

std::string Line(const platform::TableDef& t, const std::vector<platform::Value>& row) {
  std::string out;
  for (const char* c :
       {"interface", "address", "mask", "broadcast", "point_to_point", "type", "friendly_name"})
    out += Cell(t, row, c) + "|";
  return out;
}

std::vector<std::string> Lines(const platform::TableDef& t, const TableRun& r) {
  std::vector<std::string> out;
  for (const auto& row : r.rows) out.push_back(Line(t, row));
  return out;
}

TEST_CASE("interface_addresses has osquery's columns", "[tables][interface_addresses]") {
  const platform::TableDef& t = FindTable("interface_addresses");
  std::vector<std::string> names;
  for (const auto& c : t.columns) {
    names.push_back(c.name);
    CHECK(c.type == platform::ColumnType::kText);
    CHECK(c.hidden == (c.name == "friendly_name"));
  }
  CHECK(names == std::vector<std::string>{"interface", "address", "mask", "broadcast",
                                          "point_to_point", "type", "friendly_name"});
}

TEST_CASE("interface_addresses reads fib_trie, route, sysfs flags and if_inet6",
          "[tables][interface_addresses]") {
  const platform::TableDef& t = FindTable("interface_addresses");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  // 192.168.99.5 has no prefix route, so no interface: left out.
  CHECK(Lines(t, r) ==
        std::vector<std::string>{
            "eth0|10.0.2.15|255.255.255.0|10.0.2.255||unknown||",
            "lo|127.0.0.1|255.0.0.0||127.0.0.1|unknown||",           // no IFF_BROADCAST: itself
            "docker0|172.17.0.1|255.255.0.0|172.17.0.1||unknown||",  // no BROADCAST leaf
            "eth0|2001:db8::15|ffff:ffff:ffff:ffff::|||unknown||",
            "eth0|fe80::a00:27ff:fe4e:6a3b%eth0|ffff:ffff:ffff:ffff::|||unknown||",
            "lo|::1|ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff|||unknown||",
        });
}

TEST_CASE("interface_addresses skips garbage and missing files", "[tables][interface_addresses]") {
  const platform::TableDef& t = FindTable("interface_addresses");
  TableRun r = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(r.error.empty());
  CHECK(Lines(t, r) == std::vector<std::string>{
                           "wlan0|192.168.0.7|255.255.255.0|||unknown||",  // no sysfs flags
                           "lo|::1|ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff|||unknown||",
                       });
  TableRun none = RunTable(t, LinuxFixture("does-not-exist"));
  CHECK(none.error.empty());
  CHECK(none.rows.empty());
}

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_CASE("interface_addresses from files agrees with getifaddrs on this machine",
          "[tables][interface_addresses]") {
  const platform::TableDef& t = FindTable("interface_addresses");
  TableRun live = RunTable(t, "/");
  REQUIRE(live.error.empty());
  // The same machine's files, copied under another root, take the file path.
  testing::TempDir root;
  for (const char* f : {"fib_trie", "route", "if_inet6"})
    root.Write(std::string("proc/net/") + f, Slurp(std::string("/proc/net/") + f));
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/sys/class/net", ec))
    root.Write("sys/class/net/" + e.path().filename().string() + "/flags",
               Slurp(e.path() / "flags"));
  TableRun files = RunTable(t, root.path().string());
  REQUIRE(files.error.empty());
  const std::vector<std::string> live_lines = Lines(t, live);
  for (const std::string& line : Lines(t, files)) {
    INFO(line);
    CHECK(std::find(live_lines.begin(), live_lines.end(), line) != live_lines.end());
  }
}

}  // namespace
}  // namespace outpost::test

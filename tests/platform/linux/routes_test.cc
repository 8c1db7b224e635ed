// routes on fixture trees: /proc/net/route and ipv6_route decoding, garbage skipped.
#include <catch.hpp>

#include "platform/table_rows.h"

namespace outpost::test {
namespace {

std::string Line(const platform::TableDef& t, const std::vector<platform::Value>& row) {
  std::string out;
  for (const char* c : {"destination", "netmask", "gateway", "source", "flags", "interface", "mtu",
                        "metric", "type", "hopcount"})
    out += Cell(t, row, c) + "|";
  return out;
}

TEST_CASE("routes reads IPv4 and IPv6 routes", "[tables]") {
  const platform::TableDef& t = FindTable("routes");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  std::vector<std::string> lines;
  for (const auto& row : r.rows) lines.push_back(Line(t, row));
  CHECK(lines == std::vector<std::string>{
                     "0.0.0.0|0|10.0.2.1||3|eth0|0|100|gateway||",
                     "10.0.2.0|24|0.0.0.0||1|eth0|0|100|gateway||",
                     "172.17.0.0|16|0.0.0.0||1|docker0|1500|0|gateway||",
                     "fe80::|64|::||1|eth0||256|gateway||",
                     "::|0|fe80::1||3|eth0||1024|gateway||",
                     "::1|128|::||2149580801|lo||0|local||",
                 });
}

TEST_CASE("routes skips garbage lines", "[tables]") {
  const platform::TableDef& t = FindTable("routes");
  TableRun r = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 1);
  CHECK(Line(t, r.rows[0]) == "192.168.0.0|24|0.0.0.0||1|wlan0|0|600|gateway||");
}

}  // namespace
}  // namespace outpost::test

// firewall on fixture trees: nftables base chains (explicit and default policies, sets
// and anonymous sets stepped over), iptables-save chains, missing and garbage files.
#include <catch.hpp>

#include <string>
#include <vector>

#include "platform/table_rows.h"

namespace outpost::test {
namespace {

std::vector<std::string> Render(const platform::TableDef& t, const TableRun& r) {
  std::vector<std::string> out;
  for (const auto& row : r.rows) {
    std::string line;
    for (const char* c :
         {"backend", "present", "family", "table_name", "chain", "hook", "policy", "file"})
      line += (line.empty() ? "" : "|") + Cell(t, row, c);
    out.push_back(line);
  }
  return out;
}

TEST_CASE("firewall reads nftables.conf and iptables-save files", "[tables]") {
  const platform::TableDef& t = FindTable("firewall");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  const std::string nft = "|/etc/nftables.conf";
  const std::string v4 = "|/etc/iptables/rules.v4";
  CHECK(Render(t, r) == std::vector<std::string>{
                            "nftables|1|inet|filter|input|input|drop" + nft,
                            "nftables|1|inet|filter|forward|forward|drop" + nft,
                            "nftables|1|inet|filter|output|output|accept" + nft,
                            "nftables|1|ip|nat|postrouting|postrouting|accept" + nft,
                            "iptables|1|ip|nat|PREROUTING|prerouting|accept" + v4,
                            "iptables|1|ip|nat|POSTROUTING|postrouting|accept" + v4,
                            "iptables|1|ip|filter|INPUT|input|drop" + v4,
                            "iptables|1|ip|filter|FORWARD|forward|drop" + v4,
                            "iptables|1|ip|filter|OUTPUT|output|accept" + v4,
                        });
}

TEST_CASE("firewall without configuration, and with garbage", "[tables]") {
  const platform::TableDef& t = FindTable("firewall");
  TableRun none = RunTable(t, LinuxFixture("does-not-exist"));
  REQUIRE(none.error.empty());
  CHECK(Render(t, none) == std::vector<std::string>{"nftables|0||||||", "iptables|0||||||"});

  TableRun g = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(g.error.empty());
  // After the stray "{{{" everything is nested in unknown blocks: nothing more.
  CHECK(Render(t, g) == std::vector<std::string>{
                            "nftables|1|inet|filter|input|input|drop|/etc/nftables.conf",
                            "iptables|1|ip|filter|OUTPUT|output|accept|/etc/iptables/rules.v4",
                        });
}

}  // namespace
}  // namespace outpost::test

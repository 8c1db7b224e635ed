// disk_encryption on fixture trees: LUKS2 and plain dm-crypt mappings, LVM on LUKS,
// the disks underneath them; garbage dm uuids and a slaves/ loop.
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
         {"name", "encrypted", "type", "uuid", "encryption_status", "encrypted_holders"})
      line += (line.empty() ? "" : "|") + Cell(t, row, c);
    out.push_back(line);
  }
  return out;
}

TEST_CASE("disk_encryption finds dm-crypt devices and what they sit on", "[tables]") {
  const platform::TableDef& t = FindTable("disk_encryption");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  CHECK(Render(t, r) ==
        std::vector<std::string>{
            "/dev/dm-0|1|luks|01234567-89ab-cdef-0123-456789abcdef|encrypted|",
            "/dev/dm-1|1|luks|01234567-89ab-cdef-0123-456789abcdef|encrypted|",  // LVM on LUKS
            "/dev/dm-2|1|dm-crypt||encrypted|",
            "/dev/sda|0|||not encrypted|dm-0",
            "/dev/sdb|0|||not encrypted|dm-2",
            "/dev/sr0|0|||not encrypted|",
        });
  CHECK(t.columns[*t.Column("filevault_status")].hidden);
}

TEST_CASE("disk_encryption tolerates garbage and slave loops", "[tables]") {
  const platform::TableDef& t = FindTable("disk_encryption");
  TableRun r = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(r.error.empty());
  CHECK(Render(t, r) == std::vector<std::string>{
                            "/dev/dm-0|0|||not encrypted|",
                            "/dev/dm-1|0|||not encrypted|",
                            "/dev/dm-2|0|||not encrypted|",
                            "/dev/dm-3|1|luks||encrypted|",
                        });
  CHECK(RunTable(t, LinuxFixture("does-not-exist")).rows.empty());
}

}  // namespace
}  // namespace outpost::test

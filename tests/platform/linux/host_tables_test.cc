// system_info, uptime and mounts on fixture trees.
#include <catch.hpp>

#include "outpost/platform/system.h"
#include "platform/table_rows.h"

namespace outpost::test {
namespace {

TEST_CASE("system_info reads cpuinfo, meminfo, hostname and DMI ids", "[tables]") {
  const platform::TableDef& t = FindTable("system_info");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 1);
  const auto& row = r.rows[0];
  CHECK(Cell(t, row, "hostname") == "web01");
  CHECK(Cell(t, row, "computer_name") == "web01");
  CHECK(Cell(t, row, "local_hostname") == "web01");
  CHECK(Cell(t, row, "uuid") == "4C4C4544-0042-3510-8052-B4C04F4B4E32");
  CHECK(Cell(t, row, "cpu_type") == std::string(platform::ArchName()));
  CHECK(Cell(t, row, "cpu_subtype") == "85");
  CHECK(Cell(t, row, "cpu_brand") == "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz");
  CHECK(Cell(t, row, "cpu_microcode") == "0x5003604");
  CHECK(Cell(t, row, "cpu_logical_cores") == "2");
  CHECK(Cell(t, row, "cpu_physical_cores") == "2");
  CHECK(Cell(t, row, "cpu_sockets") == "1");
  CHECK(Cell(t, row, "physical_memory") == "8239460352");  // 8046348 kB
  CHECK(Cell(t, row, "hardware_vendor") == "Amazon EC2");
  CHECK(Cell(t, row, "hardware_model") == "m5.large");
  CHECK(Cell(t, row, "hardware_version") == "1.0");
  CHECK(Cell(t, row, "hardware_serial") == "ec2abc-serial");
  CHECK(Cell(t, row, "board_vendor") == "Amazon EC2");
  CHECK(Cell(t, row, "board_model") == "");   // an empty file
  CHECK(Cell(t, row, "board_serial") == "");  // no file
  CHECK(row[*t.Column("board_serial")].index() == 0);
  CHECK(t.columns[*t.Column("emulated_cpu_type")].hidden);
}

TEST_CASE("system_info survives a cut cpuinfo and a missing DMI tree", "[tables]") {
  const platform::TableDef& t = FindTable("system_info");
  TableRun g = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(g.error.empty());
  REQUIRE(g.rows.size() == 1);
  const auto& row = g.rows[0];
  CHECK(Cell(t, row, "cpu_brand") == "AMD EPYC 7R13 Processor");
  CHECK(Cell(t, row, "cpu_logical_cores") == "2");   // the cut block still counts
  CHECK(Cell(t, row, "cpu_physical_cores") == "1");  // only one core id was read
  CHECK(Cell(t, row, "cpu_sockets") == "1");
  CHECK(Cell(t, row, "physical_memory") == "");  // "MemTotal: lots kB"
  CHECK(Cell(t, row, "hostname") == "");
  CHECK(Cell(t, row, "uuid") == "");
  TableRun none = RunTable(t, LinuxFixture("does-not-exist"));
  REQUIRE(none.rows.size() == 1);
  CHECK(Cell(t, none.rows[0], "cpu_logical_cores") == "-1");
}

TEST_CASE("uptime splits /proc/uptime into days, hours, minutes and seconds", "[tables]") {
  const platform::TableDef& t = FindTable("uptime");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 1);
  // 350000 s = 4 days 1 h 13 min 20 s
  CHECK(Cell(t, r.rows[0], "days") == "4");
  CHECK(Cell(t, r.rows[0], "hours") == "1");
  CHECK(Cell(t, r.rows[0], "minutes") == "13");
  CHECK(Cell(t, r.rows[0], "seconds") == "20");
  CHECK(Cell(t, r.rows[0], "total_seconds") == "350000");
  TableRun g = RunTable(t, LinuxFixture("garbage"));
  CHECK(g.error.empty());
  CHECK(g.rows.empty());
  CHECK(RunTable(t, LinuxFixture("does-not-exist")).rows.empty());
}

TEST_CASE("mounts decodes /proc/mounts and leaves statvfs numbers NULL off the live root",
          "[tables]") {
  const platform::TableDef& t = FindTable("mounts");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 5);
  const auto& root = r.rows[2];
  CHECK(Cell(t, root, "device") == "/dev/nvme0n1p1");
  CHECK(Cell(t, root, "device_alias") == "/dev/nvme0n1p1");
  CHECK(Cell(t, root, "path") == "/");
  CHECK(Cell(t, root, "type") == "ext4");
  CHECK(Cell(t, root, "flags") == "rw,relatime,discard,errors=remount-ro");
  for (const char* c :
       {"blocks_size", "blocks", "blocks_free", "blocks_available", "inodes", "inodes_free"})
    CHECK(root[*t.Column(c)].index() == 0);
  CHECK(Cell(t, r.rows[3], "path") == "/mnt/My Disk");
  CHECK(Cell(t, r.rows[4], "device") == "tmpfs");

  TableRun g = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(g.error.empty());
  REQUIRE(g.rows.size() == 3);
  CHECK(Cell(t, g.rows[1], "path") == "/mnt/trail\\");  // a lone '\' kept
  CHECK(Cell(t, g.rows[2], "path") == "/mnt/bad\\9zz");
}

TEST_CASE("mounts on the live root fills block counts", "[tables]") {
  const platform::TableDef& t = FindTable("mounts");
  TableRun r = RunTable(t, "/");
  REQUIRE(r.error.empty());
  bool found_root = false;
  for (const auto& row : r.rows) {
    if (Cell(t, row, "path") != "/") continue;
    found_root = true;
    CHECK(Cell(t, row, "blocks_size") != "");
    CHECK(Cell(t, row, "blocks") != "");
  }
  CHECK(found_root);
}

}  // namespace
}  // namespace outpost::test

// kernel_info, kernel_modules and system_controls on fixture trees.
#include <catch.hpp>

#include "platform/table_rows.h"

namespace outpost::test {
namespace {

TEST_CASE("kernel_info reads osrelease and the boot command line", "[tables]") {
  const platform::TableDef& t = FindTable("kernel_info");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 1);
  CHECK(Cell(t, r.rows[0], "version") == "6.1.0-18-amd64");
  CHECK(Cell(t, r.rows[0], "path") == "/boot/vmlinuz-6.1.0-18-amd64");
  CHECK(Cell(t, r.rows[0], "device") == "UUID=0b6a3c2e-1111-2222-3333-444455556666");
  CHECK(Cell(t, r.rows[0], "arguments") == "ro quiet console=ttyS0,115200");
}

TEST_CASE("kernel_info tolerates a short /proc/version and a garbage cmdline", "[tables]") {
  const platform::TableDef& t = FindTable("kernel_info");
  TableRun g = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(g.error.empty());
  REQUIRE(g.rows.size() == 1);
  CHECK(g.rows[0][*t.Column("version")].index() == 0);  // "Linux version" has no 3rd word
  CHECK(Cell(t, g.rows[0], "arguments") == std::string("\0\xff"
                                                       "BOOT_IMAGE=",
                                                       13));
  CHECK(Cell(t, g.rows[0], "path") == "");
  CHECK(RunTable(t, LinuxFixture("does-not-exist")).rows.empty());
}

TEST_CASE("kernel_modules parses /proc/modules", "[tables]") {
  const platform::TableDef& t = FindTable("kernel_modules");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 4);
  CHECK(Cell(t, r.rows[0], "name") == "tls");
  CHECK(Cell(t, r.rows[0], "size") == "139264");
  CHECK(Cell(t, r.rows[0], "used_by") == "-");
  CHECK(Cell(t, r.rows[0], "status") == "Live");
  CHECK(Cell(t, r.rows[0], "address") == "0xffffffffc0a5e000");
  CHECK(Cell(t, r.rows[1], "used_by") == "nf_nat,xt_conntrack");
  CHECK(Cell(t, r.rows[3], "used_by") == "ext4");
  TableRun g = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(g.error.empty());
  REQUIRE(g.rows.size() == 1);
  CHECK(Cell(t, g.rows[0], "name") == "good");
  CHECK(RunTable(t, LinuxFixture("does-not-exist")).rows.empty());
}

TEST_CASE("system_controls walks /proc/sys with sysctl.d config values", "[tables]") {
  const platform::TableDef& t = FindTable("system_controls");
  TableRun r = RunTable(t, LinuxFixture("debian12"));
  REQUIRE(r.error.empty());
  std::vector<std::string> names;
  for (const auto& row : r.rows) names.push_back(Cell(t, row, "name"));
  CHECK(names == std::vector<std::string>{"kernel.hostname", "kernel.osrelease", "kernel.ostype",
                                          "kernel.printk", "kernel.randomize_va_space",
                                          "net.ipv4.conf.all.rp_filter", "net.ipv4.ip_forward",
                                          "vm.swappiness"});
  auto row = [&](const std::string& name) {
    for (const auto& x : r.rows)
      if (Cell(t, x, "name") == name) return x;
    FAIL("no row " << name);
    return r.rows[0];
  };
  CHECK(Cell(t, row("kernel.printk"), "current_value") == "4\t4\t1\t7");
  CHECK(Cell(t, row("kernel.printk"), "subsystem") == "kernel");
  CHECK(Cell(t, row("kernel.printk"), "type") == "string");
  CHECK(row("kernel.printk")[*t.Column("config_value")].index() == 0);
  CHECK(row("kernel.printk")[*t.Column("oid")].index() == 0);
  // sysctl.conf is applied after sysctl.d, so its 1 wins over 99-tuning.conf's 0.
  CHECK(Cell(t, row("net.ipv4.ip_forward"), "current_value") == "0");
  CHECK(Cell(t, row("net.ipv4.ip_forward"), "config_value") == "1");
  CHECK(Cell(t, row("vm.swappiness"), "config_value") == "10");
  CHECK(Cell(t, row("kernel.randomize_va_space"), "config_value") == "2");  // "kernel/..."
  CHECK(Cell(t, row("net.ipv4.conf.all.rp_filter"), "subsystem") == "net");
}

TEST_CASE("system_controls with a name reads that one file only", "[tables]") {
  const platform::TableDef& t = FindTable("system_controls");
  CHECK(t.columns[0].index);
  TableRun r = RunTable(t, LinuxFixture("debian12"), {{"name", "kernel.randomize_va_space"}});
  REQUIRE(r.rows.size() == 1);
  CHECK(Cell(t, r.rows[0], "current_value") == "2");
  CHECK(RunTable(t, LinuxFixture("debian12"), {{"name", "kernel"}}).rows.empty());  // a dir
  CHECK(RunTable(t, LinuxFixture("debian12"), {{"name", "kernel.nope"}}).rows.empty());
  CHECK(RunTable(t, LinuxFixture("debian12"), {{"name", "..kernel"}}).rows.empty());
  CHECK(RunTable(t, LinuxFixture("debian12"), {{"name", "/etc/passwd"}}).rows.empty());
  TableRun vm = RunTable(t, LinuxFixture("debian12"), {{"subsystem", "vm"}});
  REQUIRE(vm.rows.size() == 1);
  CHECK(Cell(t, vm.rows[0], "name") == "vm.swappiness");
  TableRun g = RunTable(t, LinuxFixture("garbage"));
  REQUIRE(g.rows.size() == 1);
  CHECK(Cell(t, g.rows[0], "current_value") == "1");
  CHECK(RunTable(t, LinuxFixture("does-not-exist")).rows.empty());
}

TEST_CASE("system_controls walks the live /proc/sys", "[tables]") {
  const platform::TableDef& t = FindTable("system_controls");
  TableRun r = RunTable(t, "/");
  REQUIRE(r.error.empty());
  bool ostype = false;
  for (const auto& row : r.rows)
    if (Cell(t, row, "name") == "kernel.ostype") ostype = Cell(t, row, "current_value") == "Linux";
  CHECK(ostype);
  TableRun one = RunTable(t, "/", {{"name", "kernel.ostype"}});
  REQUIRE(one.rows.size() == 1);
  CHECK(Cell(t, one.rows[0], "current_value") == "Linux");
}

TEST_CASE("host and account tables run on the live root", "[tables]") {
  for (const char* name :
       {"system_info", "uptime", "kernel_info", "users", "groups", "logged_in_users", "mounts",
        "kernel_modules", "shadow", "crontab", "authorized_keys"}) {
    const platform::TableDef& t = FindTable(name);
    TableRun r = RunTable(t, "/");
    INFO(name);
    CHECK(r.error.empty());
  }
  const platform::TableDef& k = FindTable("kernel_info");
  TableRun r = RunTable(k, "/");
  REQUIRE(r.rows.size() == 1);
  CHECK(Cell(k, r.rows[0], "version") != "");
}

}  // namespace
}  // namespace outpost::test

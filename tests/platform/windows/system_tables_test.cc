// The Windows tables that describe the running system (os_version, system_info,
// processes, users, groups, services, programs, patches, interface_addresses,
// listening_ports, windows_firewall, bitlocker_info), run against the real machine
// (Wine in CI): each yields sane rows and never fails on what the host answers.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
// winsock2.h before windows.h.
#include <winsock2.h>

#include <windows.h>
#include <ws2tcpip.h>

#include <catch.hpp>

#include <algorithm>
#include <set>

#include "platform/table_rows.h"

namespace outpost::test {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Wine answers some APIs like a bare Windows (no local groups, no socket owners).
bool UnderWine() {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

TEST_CASE("os_version has one row with platform windows and the kernel's numbers", "[tables]") {
  const platform::TableDef& t = FindTable("os_version");
  TableRun r = RunTable(t, "");
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 1);
  const auto& row = r.rows[0];
  CHECK(Cell(t, row, "platform") == "windows");
  CHECK_FALSE(Cell(t, row, "name").empty());
  const std::string major = Cell(t, row, "major"), minor = Cell(t, row, "minor");
  CHECK(std::stoi(major) >= 6);
  CHECK(Cell(t, row, "version").rfind(major + "." + minor + ".", 0) == 0);
  CHECK(Cell(t, row, "version") == major + "." + minor + "." + Cell(t, row, "build"));
  CHECK(Cell(t, row, "arch") == "x86_64");
}

TEST_CASE("system_info reports the host name, CPUs and memory", "[tables]") {
  const platform::TableDef& t = FindTable("system_info");
  TableRun r = RunTable(t, "");
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 1);
  const auto& row = r.rows[0];
  wchar_t name[256];
  DWORD len = 256;
  REQUIRE(GetComputerNameExW(ComputerNameDnsHostname, name, &len));
  CHECK(Lower(Cell(t, row, "hostname")).size() == len);
  SYSTEM_INFO si;
  GetNativeSystemInfo(&si);
  CHECK(Cell(t, row, "cpu_logical_cores") == std::to_string(si.dwNumberOfProcessors));
  CHECK(std::stoll(Cell(t, row, "physical_memory")) > (int64_t{64} << 20));
  CHECK(Cell(t, row, "cpu_type") == "x86_64");
}

TEST_CASE("processes lists this test with its name, and pid = N reads one process", "[tables]") {
  const platform::TableDef& t = FindTable("processes");
  const std::string self = std::to_string(GetCurrentProcessId());
  TableRun all = RunTable(t, "");
  REQUIRE(all.error.empty());
  CHECK(all.rows.size() > 1);
  bool found = false;
  for (const auto& row : all.rows) found |= Cell(t, row, "pid") == self;
  CHECK(found);

  TableRun one = RunTable(t, "", {{"pid", self}});
  REQUIRE(one.error.empty());
  REQUIRE(one.rows.size() == 1);
  const auto& row = one.rows[0];
  CHECK(Lower(Cell(t, row, "name")) == "outpost_platform_tests.exe");
  CHECK(Lower(Cell(t, row, "path")).find("outpost_platform_tests.exe") != std::string::npos);
  CHECK(Cell(t, row, "on_disk") == "1");
  CHECK(std::stoll(Cell(t, row, "threads")) >= 1);
  CHECK(std::stoll(Cell(t, row, "start_time")) > 1500000000);

  CHECK(RunTable(t, "", {{"pid", "999999999"}}).rows.empty());
}

TEST_CASE("users and groups list local accounts with SIDs", "[tables]") {
  const platform::TableDef& u = FindTable("users");
  TableRun users = RunTable(u, "");
  REQUIRE(users.error.empty());
  REQUIRE_FALSE(users.rows.empty());
  for (const auto& row : users.rows) {
    CHECK_FALSE(Cell(u, row, "username").empty());
    const std::string sid = Cell(u, row, "uuid");
    if (sid.empty()) continue;  // an account whose SID lookup failed: NULL, not a crash
    CHECK(sid.rfind("S-1-", 0) == 0);
    CHECK(sid.substr(sid.rfind('-') + 1) == Cell(u, row, "uid"));
  }
  const platform::TableDef& g = FindTable("groups");
  TableRun groups = RunTable(g, "");
  REQUIRE(groups.error.empty());
  if (UnderWine() && groups.rows.empty()) return;  // Wine keeps no local groups
  bool admins = false;
  for (const auto& row : groups.rows) admins |= Cell(g, row, "group_sid") == "S-1-5-32-544";
  CHECK(admins);  // BUILTIN\Administrators exists on every Windows
}

TEST_CASE("services spell status and start type as osquery", "[tables]") {
  const platform::TableDef& t = FindTable("services");
  TableRun r = RunTable(t, "");
  REQUIRE(r.error.empty());
  REQUIRE_FALSE(r.rows.empty());
  const std::set<std::string> statuses = {"STOPPED", "START_PENDING",    "STOP_PENDING",
                                          "RUNNING", "CONTINUE_PENDING", "PAUSE_PENDING",
                                          "PAUSED"};
  const std::set<std::string> starts = {"",           "BOOT_START",   "SYSTEM_START",
                                        "AUTO_START", "DEMAND_START", "DISABLED"};
  for (const auto& row : r.rows) {
    CHECK_FALSE(Cell(t, row, "name").empty());
    CHECK(statuses.count(Cell(t, row, "status")) == 1);
    CHECK(starts.count(Cell(t, row, "start_type")) == 1);
  }
}

TEST_CASE("programs and patches read their registry lists without failing", "[tables]") {
  const platform::TableDef& p = FindTable("programs");
  TableRun programs = RunTable(p, "");
  REQUIRE(programs.error.empty());
  for (const auto& row : programs.rows) CHECK_FALSE(Cell(p, row, "name").empty());
  const platform::TableDef& k = FindTable("patches");
  TableRun patches = RunTable(k, "");
  REQUIRE(patches.error.empty());
  for (const auto& row : patches.rows) CHECK(Cell(k, row, "hotfix_id").rfind("KB", 0) == 0);
}

TEST_CASE("listening_ports shows a socket this test listens on, with its pid", "[tables]") {
  WSADATA wsa;
  REQUIRE(WSAStartup(MAKEWORD(2, 2), &wsa) == 0);
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  REQUIRE(s != INVALID_SOCKET);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(s, 1) == 0);
  int len = sizeof addr;
  REQUIRE(getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const std::string port = std::to_string(ntohs(addr.sin_port));

  const platform::TableDef& t = FindTable("listening_ports");
  TableRun r = RunTable(t, "");
  closesocket(s);
  WSACleanup();
  REQUIRE(r.error.empty());
  bool found = false;
  for (const auto& row : r.rows) {
    if (Cell(t, row, "port") != port || Cell(t, row, "protocol") != "6") continue;
    found = true;
    CHECK(Cell(t, row, "address") == "127.0.0.1");
    CHECK(Cell(t, row, "family") == "2");
    // Wine does not track socket owners: it reports pid 0.
    const std::string pid = Cell(t, row, "pid");
    CHECK((pid == std::to_string(GetCurrentProcessId()) || (UnderWine() && pid == "0")));
  }
  CHECK(found);
}

TEST_CASE("interface_addresses lists addresses with masks", "[tables]") {
  const platform::TableDef& t = FindTable("interface_addresses");
  TableRun r = RunTable(t, "");
  REQUIRE(r.error.empty());
  for (const auto& row : r.rows) {
    CHECK_FALSE(Cell(t, row, "address").empty());
    CHECK_FALSE(Cell(t, row, "interface").empty());
    const std::string type = Cell(t, row, "type");
    CHECK((type == "dhcp" || type == "manual" || type == "auto" || type == "other" ||
           type == "unknown"));
    if (Cell(t, row, "address") == "127.0.0.1") CHECK(Cell(t, row, "mask") == "255.0.0.0");
  }
}

TEST_CASE("windows_firewall has one row per profile and an honest status", "[tables]") {
  const platform::TableDef& t = FindTable("windows_firewall");
  TableRun r = RunTable(t, "");
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 3);
  CHECK(Cell(t, r.rows[0], "profile") == "domain");
  CHECK(Cell(t, r.rows[1], "profile") == "private");
  CHECK(Cell(t, r.rows[2], "profile") == "public");
  for (const auto& row : r.rows) {
    const std::string status = Cell(t, row, "status");
    if (status.rfind("ok", 0) == 0) {
      CHECK((Cell(t, row, "enabled") == "0" || Cell(t, row, "enabled") == "1"));
      CHECK((Cell(t, row, "default_inbound_action") == "block" ||
             Cell(t, row, "default_inbound_action") == "allow"));
    } else {
      CHECK(status.rfind("error: ", 0) == 0);
      CHECK(Cell(t, row, "enabled").empty());
    }
  }
}

TEST_CASE("bitlocker_info gives every fixed drive a status that says what is known", "[tables]") {
  const platform::TableDef& t = FindTable("bitlocker_info");
  TableRun r = RunTable(t, "");
  REQUIRE(r.error.empty());
  for (const auto& row : r.rows) {
    CHECK(Cell(t, row, "drive_letter").size() == 2);
    const std::string status = Cell(t, row, "status");
    const std::string encrypted = Cell(t, row, "encrypted");
    if (status.rfind("ok: not encrypted", 0) == 0)
      CHECK(encrypted == "0");
    else if (status.rfind("ok: BitLocker", 0) == 0)
      CHECK(encrypted == "1");
    else
      CHECK(((status.rfind("error: ", 0) == 0 || status.rfind("unknown: ", 0) == 0) &&
             encrypted.empty()));
  }
}

// A sink that wants one row: every table must stop at the first refusal, and no row
// may have more values than the table has columns.
class OneRowSink final : public platform::RowSink {
 public:
  explicit OneRowSink(size_t columns) : columns_(columns) {}
  bool Add(std::vector<platform::Value> row) override {
    ++calls;
    CHECK(row.size() <= columns_);
    return false;
  }
  int calls = 0;

 private:
  size_t columns_;
};

TEST_CASE("every Windows table stops when the sink wants no more rows", "[tables]") {
  for (const platform::TableDef& t : platform::DeviceTables()) {
    INFO(t.name);
    bool needs_constraint = t.name == "registry";
    for (const platform::ColumnDef& c : t.columns) needs_constraint |= c.required;
    if (needs_constraint) continue;
    OneRowSink sink(t.columns.size());
    const std::string error = t.generate(platform::TableEnv{}, platform::TableQuery{}, sink);
    CHECK(error.empty());
    CHECK(sink.calls <= 1);
  }
}

}  // namespace
}  // namespace outpost::test

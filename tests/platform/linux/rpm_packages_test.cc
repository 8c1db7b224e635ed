// rpm_packages: osquery's columns; header blobs decoded from an injected SQLite reader
// (platform has no SQLite; tests/query reads the real fixture rpmdb.sqlite); corrupt
// and hostile headers skipped without reading out of bounds; Berkeley DB and ndb
// databases refused by name; no database, no rows.
#include <catch.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "platform/table_rows.h"
#include "test_files.h"

namespace outpost::test {
namespace {

constexpr uint32_t kInt32 = 4, kString = 6, kStringArray = 8, kI18n = 9;

std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

struct Entry {
  uint32_t tag, type;
  std::string data;  // the value's bytes (a string with its NUL, or Be32)
};

// A header blob as rpmdb.sqlite stores it: il, dl, index, data.
std::string Header(const std::vector<Entry>& entries) {
  std::string index, data;
  for (const Entry& e : entries) {
    index += Be32(e.tag) + Be32(e.type) + Be32(static_cast<uint32_t>(data.size())) + Be32(1);
    data += e.data;
  }
  return Be32(static_cast<uint32_t>(entries.size())) + Be32(static_cast<uint32_t>(data.size())) +
         index + data;
}

Entry Str(uint32_t tag, const std::string& s, uint32_t type = kString) {
  return {tag, type, s + std::string(1, '\0')};
}
Entry Num(uint32_t tag, uint32_t v) { return {tag, kInt32, Be32(v)}; }

std::string Bash() {
  return Header({Str(1000, "bash"), Str(1001, "5.1.8"), Str(1002, "9.el9"),
                 Str(1044, "bash-5.1.8-9.el9.src.rpm"), Num(1009, 7738634),
                 Str(269, "4c5b1f3c1d0e0e4a6f1c8a1b2d3e4f5a6b7c8d9e"), Str(1022, "x86_64"),
                 Num(1008, 1700000100), Str(1011, "Red Hat, Inc."),
                 Str(1016, "Unspecified", kI18n)});
}

// An env whose read_sqlite yields `blobs` for <root>/var/lib/rpm/rpmdb.sqlite.
platform::TableEnv FakeRpmdb(const testing::TempDir& root, std::vector<std::string> blobs) {
  root.Write("var/lib/rpm/rpmdb.sqlite", "not read: the reader below is a fake");
  platform::TableEnv env;
  env.root = root.path();
  env.read_sqlite = [blobs = std::move(blobs)](const std::filesystem::path& file,
                                               std::string_view sql,
                                               const platform::TableEnv::SqliteRows& row) {
    CHECK(file.filename() == "rpmdb.sqlite");
    CHECK(sql.find("Packages") != std::string_view::npos);
    for (const std::string& b : blobs)
      if (!row(b)) break;
    return std::string();
  };
  return env;
}

TEST_CASE("rpm_packages has osquery's columns", "[tables][rpm_packages]") {
  const platform::TableDef& t = FindTable("rpm_packages");
  using T = platform::ColumnType;
  const std::vector<std::pair<std::string, T>> expected = {{"name", T::kText},
                                                           {"version", T::kText},
                                                           {"release", T::kText},
                                                           {"source", T::kText},
                                                           {"size", T::kBigInt},
                                                           {"sha1", T::kText},
                                                           {"arch", T::kText},
                                                           {"epoch", T::kInteger},
                                                           {"install_time", T::kInteger},
                                                           {"vendor", T::kText},
                                                           {"package_group", T::kText},
                                                           {"pid_with_namespace", T::kInteger},
                                                           {"mount_namespace_id", T::kText}};
  REQUIRE(t.columns.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(t.columns[i].name == expected[i].first);
    CHECK(t.columns[i].type == expected[i].second);
    CHECK(t.columns[i].hidden == (i >= 11));
  }
}

TEST_CASE("rpm_packages decodes header blobs", "[tables][rpm_packages]") {
  const platform::TableDef& t = FindTable("rpm_packages");
  testing::TempDir root;
  const std::string ssl =
      Header({Str(1000, "openssl-libs"), Num(1003, 1), Str(1001, "3.0.7"), Str(1002, "27.el9"),
              Str(1022, "x86_64"), Str(1016, "Unspecified", kStringArray)});
  TableRun r = RunTable(t, FakeRpmdb(root, {Bash(), ssl}));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 2);
  const auto& bash = r.rows[0];
  CHECK(Cell(t, bash, "name") == "bash");
  CHECK(Cell(t, bash, "version") == "5.1.8");
  CHECK(Cell(t, bash, "release") == "9.el9");
  CHECK(Cell(t, bash, "source") == "bash-5.1.8-9.el9.src.rpm");
  CHECK(Cell(t, bash, "size") == "7738634");
  CHECK(Cell(t, bash, "sha1") == "4c5b1f3c1d0e0e4a6f1c8a1b2d3e4f5a6b7c8d9e");
  CHECK(Cell(t, bash, "arch") == "x86_64");
  CHECK(std::holds_alternative<std::monostate>(bash[*t.Column("epoch")]));  // none: NULL
  CHECK(Cell(t, bash, "install_time") == "1700000100");
  CHECK(Cell(t, bash, "vendor") == "Red Hat, Inc.");
  CHECK(Cell(t, bash, "package_group") == "Unspecified");
  const auto& s = r.rows[1];
  CHECK(Cell(t, s, "epoch") == "1");
  CHECK(Cell(t, s, "package_group") == "Unspecified");  // first string of an array
  CHECK(std::holds_alternative<std::monostate>(s[*t.Column("vendor")]));
  CHECK(std::holds_alternative<std::monostate>(s[*t.Column("size")]));
}

TEST_CASE("rpm_packages skips corrupt and hostile headers", "[tables][rpm_packages]") {
  const platform::TableDef& t = FindTable("rpm_packages");
  const std::string good = Bash();
  std::vector<std::string> bad = {
      "",                                                 // empty
      std::string("\0\0\0", 3),                           // shorter than il/dl
      Be32(0xffffffff) + Be32(0xffffffff),                // il and dl far too big
      Be32(2) + Be32(0),                                  // claims 2 entries, has none
      Be32(1) + Be32(100) + std::string(16, '\0') + "x",  // dl beyond the blob
      good.substr(0, good.size() - 1),                    // the last byte cut
  };
  // NAME at an offset past the data.
  bad.push_back(Be32(1) + Be32(4) + Be32(1000) + Be32(kString) + Be32(4) + Be32(1) + "bash");
  // NAME without its NUL: the string runs to the end of the data.
  bad.push_back(Be32(1) + Be32(4) + Be32(1000) + Be32(kString) + Be32(0) + Be32(1) + "bash");
  // NAME of type INT32, and no name at all.
  bad.push_back(Header({Num(1000, 7)}));
  bad.push_back(Header({Str(1001, "1.0")}));
  // An INT32 whose 4 bytes would cross the end of the data: the row stays, size NULL.
  const std::string cut_size = Be32(2) + Be32(7) + Be32(1000) + Be32(kString) + Be32(0) + Be32(1) +
                               Be32(1009) + Be32(kInt32) + Be32(5) + Be32(1) +
                               std::string("abc\0", 4) + "\x01\x02\x03";
  std::vector<std::string> blobs = bad;
  blobs.push_back(cut_size);
  blobs.push_back(good);
  testing::TempDir root;
  TableRun r = RunTable(t, FakeRpmdb(root, blobs));
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 2);
  CHECK(Cell(t, r.rows[0], "name") == "abc");
  CHECK(Cell(t, r.rows[0], "size") == "");
  CHECK(Cell(t, r.rows[1], "name") == "bash");
}

TEST_CASE("rpm_packages refuses Berkeley DB and ndb databases by name", "[tables][rpm_packages]") {
  const platform::TableDef& t = FindTable("rpm_packages");
  testing::TempDir bdb;
  bdb.Write("var/lib/rpm/Packages", std::string(64, '\0'));
  TableRun r = RunTable(t, bdb.path().string());
  CHECK(r.error == "rpm database format bdb not supported (/var/lib/rpm/Packages)");
  CHECK(r.rows.empty());
  testing::TempDir ndb;
  ndb.Write("usr/lib/sysimage/rpm/Packages.db", "RpmP");
  r = RunTable(t, ndb.path().string());
  CHECK(r.error == "rpm database format ndb not supported (/usr/lib/sysimage/rpm/Packages.db)");
}

TEST_CASE("rpm_packages: no rpm database, no rows; no SQLite reader, an error",
          "[tables][rpm_packages]") {
  const platform::TableDef& t = FindTable("rpm_packages");
  TableRun deb = RunTable(t, LinuxFixture("debian12"));
  CHECK(deb.error.empty());
  CHECK(deb.rows.empty());
  TableRun rpm = RunTable(t, LinuxFixture("rpmhost"));  // env.read_sqlite left empty
  CHECK(rpm.error == "cannot read /var/lib/rpm/rpmdb.sqlite: no SQLite reader");
  CHECK(rpm.rows.empty());
}

TEST_CASE("rpm_packages reports the SQLite reader's failure", "[tables][rpm_packages]") {
  const platform::TableDef& t = FindTable("rpm_packages");
  testing::TempDir root;
  platform::TableEnv env = FakeRpmdb(root, {});
  env.read_sqlite = [](const std::filesystem::path&, std::string_view,
                       const platform::TableEnv::SqliteRows&) {
    return std::string("file is not a database");
  };
  CHECK(RunTable(t, env).error == "/var/lib/rpm/rpmdb.sqlite: file is not a database");
}

}  // namespace
}  // namespace outpost::test

// The Windows tables that need a constraint: registry on a key this test creates under
// HKCU, file and hash on a temporary file with known digests.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <catch.hpp>

#include <algorithm>

#include "platform/table_rows.h"
#include "test_files.h"

namespace outpost::test {
namespace {

// HKCU\Software\outpost-test-<pid>, deleted (with its subkeys) at the end.
class TestKey {
 public:
  TestKey() : sub_(L"Software\\outpost-test-" + std::to_wstring(GetCurrentProcessId())) {
    RegDeleteTreeW(HKEY_CURRENT_USER, sub_.c_str());
    REQUIRE(RegCreateKeyExW(HKEY_CURRENT_USER, sub_.c_str(), 0, nullptr, 0, KEY_ALL_ACCESS, nullptr,
                            &key_, nullptr) == ERROR_SUCCESS);
  }
  ~TestKey() {
    RegCloseKey(key_);
    RegDeleteTreeW(HKEY_CURRENT_USER, sub_.c_str());
  }
  HKEY get() const { return key_; }
  std::string text() const {
    return "HKEY_CURRENT_USER\\Software\\outpost-test-" + std::to_string(GetCurrentProcessId());
  }

 private:
  std::wstring sub_;
  HKEY key_ = nullptr;
};

void SetValue(HKEY k, const wchar_t* name, DWORD type, const void* data, size_t size) {
  REQUIRE(RegSetValueExW(k, name, 0, type, static_cast<const BYTE*>(data),
                         static_cast<DWORD>(size)) == ERROR_SUCCESS);
}

const std::vector<platform::Value>* RowNamed(const platform::TableDef& t, const TableRun& r,
                                             const std::string& name) {
  for (const auto& row : r.rows)
    if (Cell(t, row, "name") == name) return &row;
  return nullptr;
}

TEST_CASE("registry reads the subkeys and values of a key the test created", "[tables]") {
  TestKey key;
  const wchar_t text[] = L"hello";
  SetValue(key.get(), L"text", REG_SZ, text, sizeof text);
  const DWORD number = 42;
  SetValue(key.get(), L"number", REG_DWORD, &number, sizeof number);
  const unsigned char blob[] = {0x00, 0xab, 0xff};
  SetValue(key.get(), L"blob", REG_BINARY, blob, sizeof blob);
  const wchar_t multi[] = L"a\0b\0";
  SetValue(key.get(), L"multi", REG_MULTI_SZ, multi, sizeof multi);
  SetValue(key.get(), L"", REG_SZ, text, sizeof text);
  // A REG_DWORD of 3 bytes: shown as hex, not misread.
  SetValue(key.get(), L"short", REG_DWORD, blob, 3);
  HKEY child = nullptr;
  REQUIRE(RegCreateKeyExW(key.get(), L"child", 0, nullptr, 0, KEY_ALL_ACCESS, nullptr, &child,
                          nullptr) == ERROR_SUCCESS);
  RegCloseKey(child);

  const platform::TableDef& t = FindTable("registry");
  TableRun r = RunTable(t, "", {{"key", key.text()}});
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 7);
  auto check = [&](const std::string& name, const std::string& type, const std::string& data) {
    const auto* row = RowNamed(t, r, name);
    REQUIRE(row != nullptr);
    CHECK(Cell(t, *row, "key") == key.text());
    CHECK(Cell(t, *row, "path") == key.text() + "\\" + name);
    CHECK(Cell(t, *row, "type") == type);
    CHECK(Cell(t, *row, "data") == data);
    CHECK(std::stoll(Cell(t, *row, "mtime")) > 1500000000);
  };
  check("text", "REG_SZ", "hello");
  check("number", "REG_DWORD", "42");
  check("blob", "REG_BINARY", "00abff");
  check("multi", "REG_MULTI_SZ", "a,b");
  check("(Default)", "REG_SZ", "hello");
  check("short", "REG_DWORD", "00abff");
  check("child", "subkey", "");

  // path = names one value (the engine filters the key's rows by it).
  TableRun p = RunTable(t, "", {{"path", key.text() + "\\number"}});
  REQUIRE(p.error.empty());
  CHECK(RowNamed(t, p, "number") != nullptr);

  // The short hive names work too; a missing key has no rows and no error.
  TableRun hkcu = RunTable(
      t, "", {{"key", "HKCU\\Software\\outpost-test-" + std::to_string(GetCurrentProcessId())}});
  CHECK(hkcu.rows.size() == 7);
  TableRun missing = RunTable(t, "", {{"key", key.text() + "\\no-such-key"}});
  CHECK(missing.error.empty());
  CHECK(missing.rows.empty());
}

TEST_CASE("registry without a key or path constraint fails with a clear message", "[tables]") {
  const platform::TableDef& t = FindTable("registry");
  TableRun none = RunTable(t, "");
  CHECK(none.error.find("needs key = '...' or path = '...'") != std::string::npos);
  CHECK(none.rows.empty());
  TableRun bad = RunTable(t, "", {{"key", "HKEY_NOWHERE\\x"}});
  CHECK(bad.error.find("does not start with a hive") != std::string::npos);
}

TEST_CASE("file and hash describe a temporary file with known digests", "[tables]") {
  testing::TempDir dir;
  const std::string file = dir.Write("abc.txt", "abc").string();
  const std::string folder = dir.path().string();

  const platform::TableDef& h = FindTable("hash");
  TableRun hr = RunTable(h, "", {{"path", file}});
  REQUIRE(hr.error.empty());
  REQUIRE(hr.rows.size() == 1);
  CHECK(Cell(h, hr.rows[0], "path") == file);
  CHECK(Cell(h, hr.rows[0], "directory") == folder);
  CHECK(Cell(h, hr.rows[0], "md5") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(Cell(h, hr.rows[0], "sha1") == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(Cell(h, hr.rows[0], "sha256") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  const platform::TableDef& f = FindTable("file");
  TableRun fr = RunTable(f, "", {{"path", file}});
  REQUIRE(fr.error.empty());
  REQUIRE(fr.rows.size() == 1);
  CHECK(Cell(f, fr.rows[0], "filename") == "abc.txt");
  CHECK(Cell(f, fr.rows[0], "size") == "3");
  CHECK(Cell(f, fr.rows[0], "type") == "regular");
  CHECK(Cell(f, fr.rows[0], "symlink") == "0");
  CHECK(std::stoll(Cell(f, fr.rows[0], "mtime")) > 1500000000);

  // directory = lists the entries (the file and a subdirectory), hash skips the latter.
  dir.Write("sub\\x.txt", "x");
  TableRun listing = RunTable(f, "", {{"directory", folder}});
  REQUIRE(listing.rows.size() == 2);
  TableRun hashes = RunTable(h, "", {{"directory", folder}});
  REQUIRE(hashes.rows.size() == 1);
  CHECK(Cell(h, hashes.rows[0], "path") == folder + "\\abc.txt");

  // LIKE: '%' within a component; a final '%%' recurses.
  platform::TableQuery like;
  like.constraints.push_back({0, platform::ConstraintOp::kLike, folder + "\\%%"});
  std::vector<std::string> found;
  struct Sink : platform::RowSink {
    std::vector<std::string>* out;
    bool Add(std::vector<platform::Value> row) override {
      out->push_back(std::get<std::string>(row[0]));
      return true;
    }
  } sink;
  sink.out = &found;
  platform::TableEnv env;
  REQUIRE(f.generate(env, like, sink).empty());
  std::sort(found.begin(), found.end());
  CHECK(found ==
        std::vector<std::string>{folder + "\\abc.txt", folder + "\\sub", folder + "\\sub\\x.txt"});

  // A system DLL has a version resource: file_version and product_version are set.
  wchar_t system[MAX_PATH];
  const UINT n = GetSystemDirectoryW(system, MAX_PATH);
  REQUIRE((n > 0 && n < MAX_PATH));
  std::string dll;
  for (UINT i = 0; i < n; ++i) dll += static_cast<char>(system[i]);  // ASCII on every system
  dll += "\\kernel32.dll";
  TableRun k = RunTable(f, "", {{"path", dll}});
  REQUIRE(k.rows.size() == 1);
  const std::string version = Cell(f, k.rows[0], "file_version");
  CHECK(std::count(version.begin(), version.end(), '.') == 3);
  CHECK_FALSE(Cell(f, k.rows[0], "product_version").empty());
  CHECK(Cell(f, fr.rows[0], "file_version").empty());  // abc.txt has none

  // Missing and relative paths name nothing.
  CHECK(RunTable(f, "", {{"path", folder + "\\nope.txt"}}).rows.empty());
  CHECK(RunTable(h, "", {{"path", "abc.txt"}}).rows.empty());
}

}  // namespace
}  // namespace outpost::test

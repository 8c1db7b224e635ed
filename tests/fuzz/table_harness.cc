// See table_harness.h.
#include "fuzz/table_harness.h"

#include <stdlib.h>  // mkdtemp

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <system_error>
#include <variant>

#include "fuzz/fuzz_input.h"
#include "outpost/platform/table.h"

namespace outpost::fuzz {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "table fuzz: %s\n", what.c_str());
  std::abort();
}

// The private root, made on first use and removed when the process exits normally
// (after a crash it stays, as the input that caused it does).
const fs::path& Root() {
  static const fs::path root = [] {
    std::error_code ec;
    fs::path base = "/dev/shm";
    if (!fs::is_directory(base, ec)) base = fs::temp_directory_path(ec);
    std::string pattern = (base / "outpost-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) Fail("cannot make a directory in " + base.string());
    std::atexit([] {
      std::error_code ignored;
      fs::remove_all(Root(), ignored);
    });
    return fs::path(pattern);
  }();
  return root;
}

fs::path UnderRoot(std::string_view absolute) {
  return Root() / fs::path(absolute).relative_path();
}

void MakeStructure(const TableFuzzSpec& spec) {
  std::error_code ec;
  for (const std::string& dir : spec.dirs) fs::create_directories(UnderRoot(dir), ec);
  for (const auto& [path, target] : spec.links) {
    const fs::path link = UnderRoot(path);
    fs::create_directories(link.parent_path(), ec);
    fs::create_symlink(target, link, ec);
  }
}

void WriteFile(const fs::path& path, std::string_view content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) Fail("cannot write " + path.string());
}

const platform::TableDef& FindTable(const std::string& name) {
  for (const platform::TableDef& t : platform::DeviceTables())
    if (t.name == name) return t;
  Fail("no device table " + name);
}

class CheckingSink final : public platform::RowSink {
 public:
  explicit CheckingSink(const platform::TableDef& table) : table_(table) {}

  bool Add(std::vector<platform::Value> row) override {
    if (row.size() > table_.columns.size())
      Fail(table_.name + ": a row of " + std::to_string(row.size()) + " values for " +
           std::to_string(table_.columns.size()) + " columns");
    for (const platform::Value& v : row)
      if (const auto* s = std::get_if<std::string>(&v))
        for (const char c : *s) checksum_ += static_cast<unsigned char>(c);
    return true;
  }

  size_t checksum() const { return checksum_; }

 private:
  const platform::TableDef& table_;
  size_t checksum_ = 0;
};

}  // namespace

int FuzzTables(const TableFuzzSpec& spec, const uint8_t* data, size_t size) {
  static const bool structure_made = (MakeStructure(spec), true);
  (void)structure_made;
  const std::vector<std::string_view> parts =
      SplitParts(std::string_view(reinterpret_cast<const char*>(data), size), spec.files.size());
  for (size_t i = 0; i < spec.files.size(); ++i) {
    const fs::path path = UnderRoot(spec.files[i]);
    if (i < parts.size()) {
      WriteFile(path, parts[i]);
    } else {
      std::error_code ec;
      fs::remove(path, ec);
    }
  }
  platform::TableEnv env;
  env.root = Root();
  for (const std::string& name : spec.tables) {
    const platform::TableDef& table = FindTable(name);
    CheckingSink sink(table);
    const std::string error = table.generate(env, platform::TableQuery{}, sink);
    static volatile size_t sink_hole = 0;
    sink_hole = sink_hole + sink.checksum() + error.size();
  }
  return 0;
}

}  // namespace outpost::fuzz

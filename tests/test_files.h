// Temporary files and directories for tests, removed when the object goes away.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace outpost::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `contents` to path()/name and returns the full path.
  std::filesystem::path Write(const std::string& name, std::string_view contents) const;

 private:
  std::filesystem::path path_;
};

}  // namespace outpost::testing

// The platform layer answers for the OS it was built for.
#include <catch.hpp>

#include <algorithm>
#include <string>

#include "outpost/platform/file_security.h"
#include "outpost/platform/paths.h"
#include "outpost/platform/system.h"
#include "outpost/platform/tls.h"
#include "test_files.h"

namespace outpost {

TEST_CASE("OS and architecture names are the documented ones") {
  const std::string os(platform::OsName());
  CHECK((os == "linux" || os == "windows" || os == "macos"));
  CHECK(platform::ArchName() != "unknown");
  CHECK_FALSE(platform::HostName().empty());
}

TEST_CASE("default paths follow DESIGN.md for this OS") {
  const auto p = platform::GetDefaultPaths();
  const std::string os(platform::OsName());
  if (os == "linux") {
    CHECK(p.config_file == "/etc/outpost/outpost.toml");
    CHECK(p.state_dir == "/var/lib/outpost");
  } else if (os == "windows") {
    CHECK(p.config_file.filename() == "outpost.toml");
    CHECK(p.config_file.parent_path().filename() == "outpost");
    CHECK(p.state_dir.filename() == "state");
  }
  CHECK_FALSE(p.example_log_glob.empty());
}

TEST_CASE("CA trust: a bundle on POSIX systems, the system store on Windows") {
  if (platform::UsesSystemCertStore()) {
    CHECK(platform::CaBundleCandidates().empty());
    CHECK_FALSE(platform::FindCaBundle().has_value());
  } else {
    const auto c = platform::CaBundleCandidates();
    REQUIRE_FALSE(c.empty());
    if (platform::OsName() == "linux") {
      CHECK(c[0] == "/etc/ssl/certs/ca-certificates.crt");
      CHECK(std::find(c.begin(), c.end(), "/etc/pki/tls/certs/ca-bundle.crt") != c.end());
      CHECK(std::find(c.begin(), c.end(), "/etc/ssl/ca-bundle.pem") != c.end());
    }
    if (auto found = platform::FindCaBundle()) CHECK(std::filesystem::is_regular_file(*found));
  }
}

TEST_CASE("file privacy is checked on POSIX and honestly unavailable on Windows") {
  testing::TempDir dir;
  const auto path = dir.Write("f", "x");
  namespace fs = std::filesystem;
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read,
                  fs::perm_options::replace);
  const auto p = platform::CheckFilePrivacy(path);
  if (!p.supported) {
    CHECK(platform::OsName() == "windows");
    CHECK(p.detail.find("not available on Windows yet") != std::string::npos);
    return;
  }
  CHECK(p.checked);
  CHECK(p.exposed);
  CHECK(p.detail == "mode 0604 lets others read or change it");
  CHECK(p.fix == "chmod 600 " + path.string());
  const auto missing = platform::CheckFilePrivacy(dir.path() / "missing");
  CHECK_FALSE(missing.checked);
  CHECK_FALSE(missing.detail.empty());
}

}  // namespace outpost

// The platform layer answers for the OS it was built for.
#include <catch.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>

#ifdef _WIN32
#include <windows.h>
// After windows.h:
#include <sddl.h>
#endif

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

namespace {

// Makes `p` (an existing file) readable by every account: mode 0604 on POSIX; on
// Windows a new file whose ACL lets Everyone read (created with it: Wine keeps ACLs
// given at creation, not ones set later).
void MakeReadableByEveryone(const std::filesystem::path& p) {
#ifdef _WIN32
  PSECURITY_DESCRIPTOR sd = nullptr;
  REQUIRE(ConvertStringSecurityDescriptorToSecurityDescriptorW(
      L"D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;WD)", SDDL_REVISION_1, &sd, nullptr));
  SECURITY_ATTRIBUTES sa{sizeof sa, sd, FALSE};
  std::filesystem::remove(p);
  HANDLE h = CreateFileW(p.wstring().c_str(), GENERIC_WRITE, 0, &sa, CREATE_NEW,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  LocalFree(sd);
  REQUIRE(h != INVALID_HANDLE_VALUE);
  DWORD wrote = 0;
  WriteFile(h, "x", 1, &wrote, nullptr);
  CloseHandle(h);
#else
  namespace fs = std::filesystem;
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read,
                  fs::perm_options::replace);
#endif
}

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("file privacy: a file others may read is exposed, with the fix") {
  testing::TempDir dir;
  const auto path = dir.Write("f", "x");
  MakeReadableByEveryone(path);
  const auto p = platform::CheckFilePrivacy(path);
  REQUIRE(p.supported);
  CHECK(p.checked);
  CHECK(p.exposed);
  if (platform::OsName() == "windows") {
    CHECK(p.detail.rfind("its ACL lets ", 0) == 0);
    CHECK(p.fix.find("icacls \"" + path.string() + "\" /inheritance:r /grant:r") == 0);
  } else {
    CHECK(p.detail == "mode 0604 lets others read or change it");
    CHECK(p.fix == "chmod 600 " + path.string());
  }
  const auto missing = platform::CheckFilePrivacy(dir.path() / "missing");
  CHECK_FALSE(missing.checked);
  CHECK_FALSE(missing.detail.empty());
}

TEST_CASE("file privacy: WritePrivateFile makes a file nobody else may read") {
  testing::TempDir dir;
  const auto path = dir.path() / "secret.toml";
  REQUIRE(platform::WritePrivateFile(path, "token = \"t\"\n") == "");
  auto p = platform::CheckFilePrivacy(path);
  CHECK(p.checked);
  CHECK_FALSE(p.exposed);
  CHECK(ReadAll(path) == "token = \"t\"\n");
  // An existing, exposed file is made private when it is written again.
  MakeReadableByEveryone(path);
  REQUIRE(platform::CheckFilePrivacy(path).exposed);
  REQUIRE(platform::WritePrivateFile(path, "x") == "");
  p = platform::CheckFilePrivacy(path);
  CHECK_FALSE(p.exposed);
  CHECK(ReadAll(path) == "x");
}

TEST_CASE("CreatePrivateDirectory: new directories are private, existing ones untouched") {
  testing::TempDir dir;
  namespace fs = std::filesystem;
  const auto state = dir.path() / "a" / "state";
  REQUIRE(platform::CreatePrivateDirectory(state) == "");
  CHECK(fs::is_directory(state));
  CHECK_FALSE(platform::CheckFilePrivacy(state).exposed);
  // What is created inside inherits it (Windows) or is reached only through it (POSIX).
  REQUIRE(platform::CreatePrivateDirectory(state) == "");  // exists: fine
  const auto open_dir = dir.path() / "open";
  fs::create_directory(open_dir);
  const bool was_exposed = platform::CheckFilePrivacy(open_dir).exposed;
  REQUIRE(platform::CreatePrivateDirectory(open_dir) == "");
  CHECK(platform::CheckFilePrivacy(open_dir).exposed == was_exposed);  // left as it was
  const auto blocked = dir.Write("file", "x") / "sub";
  CHECK_FALSE(platform::CreatePrivateDirectory(blocked).empty());
}

}  // namespace outpost

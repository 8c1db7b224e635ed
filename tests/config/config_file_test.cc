// LoadConfigFile: reading from disk, secret permissions, token files.
#include <catch.hpp>

#include "config/config_loader.h"
#include "config/test_options.h"
#include "outpost/platform/file_security.h"
#include "outpost/platform/system.h"
#include "test_files.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;

ConfigParseOptions Opts() { return testing::LinuxDefaults(); }

// POSIX mode bits (Linux, macOS); Windows checks ACLs instead.
bool PosixPermissions() { return platform::OsName() != "windows"; }

void SetMode(const fs::path& p, fs::perms perms) {
  fs::permissions(p, perms, fs::perm_options::replace);
}

constexpr const char* kWithToken =
    "[output]\nendpoint = \"https://ingest.example\"\ntoken = \"s3cret\"\n";

}  // namespace

TEST_CASE("a missing config file is an error that suggests config init") {
  testing::TempDir dir;
  auto r = LoadConfigFile(dir.path() / "nope.toml", Opts());
  REQUIRE(r.error_count() == 1);
  CHECK(r.diagnostics[0].line == 0);
  CHECK(r.diagnostics[0].message.find("cannot read config file") != std::string::npos);
  CHECK(r.diagnostics[0].hint.find("outpost config init") != std::string::npos);
}

TEST_CASE("a directory or an oversized file is refused before parsing") {
  testing::TempDir dir;
  auto as_dir = LoadConfigFile(dir.path(), Opts());
  REQUIRE(as_dir.error_count() == 1);
  CHECK(as_dir.diagnostics[0].message == "config path is not a regular file");

  const auto big = dir.Write("big.toml", std::string((1 << 20) + 1, '#'));
  auto too_big = LoadConfigFile(big, Opts());
  REQUIRE(too_big.error_count() == 1);
  CHECK(too_big.diagnostics[0].message.find("more than the 1MiB") != std::string::npos);
}

TEST_CASE("a config holding a secret must be private to its owner") {
  testing::TempDir dir;
  const auto path = dir.Write("outpost.toml", kWithToken);
  if (!PosixPermissions()) {
    // Windows: the file's ACL decides. A file other accounts may read (Wine shows the
    // temp file's mode 0644 as Everyone: read) is refused with the icacls fix; once
    // written private it loads.
    if (platform::CheckFilePrivacy(path).exposed) {
      auto open = LoadConfigFile(path, Opts());
      REQUIRE(open.error_count() == 1);
      CHECK(open.diagnostics[0].message.find("file holds a secret (a token, passphrase or "
                                             "password) but its ACL lets ") == 0);
      CHECK(open.diagnostics[0].hint.find("fix: icacls \"" + path.string() + "\"") == 0);
    }
    REQUIRE(platform::WritePrivateFile(path, kWithToken) == "");
    auto r = LoadConfigFile(path, Opts());
    CHECK(r.ok());
    CHECK(r.diagnostics.empty());
    return;
  }
  SetMode(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                    fs::perms::others_read);
  auto open = LoadConfigFile(path, Opts());
  REQUIRE(open.error_count() == 1);
  const auto& d = open.diagnostics[0];
  CHECK(d.file == path.string());
  CHECK(d.message ==
        "file holds a secret (a token, passphrase or password) but mode 0644 lets "
        "group and others read or change it");
  CHECK(d.hint == "fix: chmod 600 " + path.string());

  SetMode(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  auto group = LoadConfigFile(path, Opts());
  REQUIRE(group.error_count() == 1);
  CHECK(group.diagnostics[0].message.find("mode 0640 lets its group") != std::string::npos);

  SetMode(path, fs::perms::owner_read | fs::perms::owner_write);
  CHECK(LoadConfigFile(path, Opts()).ok());
}

TEST_CASE("a config without secrets may be world-readable") {
  testing::TempDir dir;
  const auto path = dir.Write("outpost.toml", "[buffer]\nmax_bytes = \"1GiB\"\n");
  SetMode(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                    fs::perms::others_read);
  auto r = LoadConfigFile(path, Opts());
  CHECK(r.ok());
  CHECK(r.diagnostics.empty());
}

TEST_CASE("a token_file must exist and be private") {
  testing::TempDir dir;
  const auto token = dir.Write("token", "s3cret\n");
  const auto path = dir.Write(
      "outpost.toml", "[output]\nendpoint = \"https://ingest.example\"\ntoken_file = \"token\"\n");
  if (!PosixPermissions()) return;  // Windows: the ACL case is covered above
  SetMode(token, fs::perms::owner_read | fs::perms::others_read);
  auto open = LoadConfigFile(path, Opts());
  REQUIRE(open.error_count() == 1);
  CHECK(open.diagnostics[0].line == 3);
  CHECK(open.diagnostics[0].hint == "fix: chmod 600 " + (dir.path() / "token").string());

  SetMode(token, fs::perms::owner_read);
  auto ok = LoadConfigFile(path, Opts());
  CHECK(ok.ok());
  CHECK(ok.config.output->token_file == dir.path() / "token");  // relative to the config

  fs::remove(token);
  auto gone = LoadConfigFile(path, Opts());
  REQUIRE(gone.error_count() == 1);
  CHECK(gone.diagnostics[0].message.find("cannot read 'output.token_file'") != std::string::npos);
}

TEST_CASE("the example config from config init is valid as written") {
  testing::TempDir dir;
  ConfigParseOptions o = Opts();
  o.example_log_glob = "/var/log/*.log";
  const std::string text = ExampleConfig(o);
  const auto path = dir.Write("outpost.toml", text);
  auto r = LoadConfigFile(path, o);
  for (const auto& d : r.diagnostics) UNSCOPED_INFO(d.ToString());
  REQUIRE(r.ok());
  CHECK(r.diagnostics.empty());
  REQUIRE(r.config.file_sources.size() == 1);
  REQUIRE(r.config.file_sources[0].paths.size() == 1);
#ifdef _WIN32
  // Without a drive the glob is relative to the config file's drive: "C:/var/log/*.log".
  const std::string& glob = r.config.file_sources[0].paths[0];
  CHECK(glob.size() > 14);
  CHECK(glob.substr(glob.size() - 14) == "/var/log/*.log");
#else
  CHECK(r.config.file_sources[0].paths == std::vector<std::string>{"/var/log/*.log"});
#endif
  CHECK_FALSE(r.config.output.has_value());
  // Every documented key appears in the example, so operators see them all.
  for (const auto& d : DescribeConfig())
    if (!d.key.empty()) CHECK(text.find(d.key + " = ") != std::string::npos);
}

TEST_CASE("platform writes private files readable by the owner only") {
  testing::TempDir dir;
  const auto path = dir.path() / "secret.toml";
  REQUIRE(platform::WritePrivateFile(path, "token = \"x\"\n").empty());
  const auto privacy = platform::CheckFilePrivacy(path);
  if (privacy.supported) {
    CHECK(privacy.checked);
    CHECK_FALSE(privacy.exposed);
  }
}

}  // namespace outpost

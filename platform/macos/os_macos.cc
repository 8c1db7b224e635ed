// macOS defaults: OS name, file locations, CA bundle locations.
// Not compiled here (no macOS toolchain on the build machines); see README.
#include "outpost/platform/paths.h"
#include "outpost/platform/system.h"
#include "outpost/platform/tls.h"

namespace outpost::platform {

std::string_view OsName() { return "macos"; }

DefaultPaths GetDefaultPaths() {
  return {"/Library/Application Support/outpost/outpost.toml",
          "/Library/Application Support/outpost/state", "/var/log/*.log"};
}

// curl is built with OpenSSL on macOS too; the system keychain is exported to
// /etc/ssl/cert.pem by the OS.
bool UsesSystemCertStore() { return false; }

std::vector<std::filesystem::path> CaBundleCandidates() {
  return {"/etc/ssl/cert.pem", "/usr/local/etc/openssl/cert.pem",
          "/opt/homebrew/etc/openssl@3/cert.pem"};
}

}  // namespace outpost::platform

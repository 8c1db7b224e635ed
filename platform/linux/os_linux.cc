// Linux defaults: OS name, file locations, CA bundle locations.
#include "outpost/platform/paths.h"
#include "outpost/platform/system.h"
#include "outpost/platform/tls.h"

namespace outpost::platform {

std::string_view OsName() { return "linux"; }

DefaultPaths GetDefaultPaths() {
  return {"/etc/outpost/outpost.toml", "/var/lib/outpost", "/var/log/*.log"};
}

bool UsesSystemCertStore() { return false; }

std::vector<std::filesystem::path> CaBundleCandidates() {
  return {
      "/etc/ssl/certs/ca-certificates.crt",                 // Debian, Ubuntu, Alpine, Arch
      "/etc/pki/tls/certs/ca-bundle.crt",                   // RHEL, Fedora, CentOS
      "/etc/ssl/ca-bundle.pem",                             // SUSE
      "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  // RHEL 7+
      "/etc/ssl/cert.pem",                                  // Alpine, LibreSSL systems
  };
}

}  // namespace outpost::platform

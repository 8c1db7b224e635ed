// Which certificates the uploader trusts, decided once per configuration:
// `ca_file` when set; else the OS's store where its TLS library reads it itself
// (Schannel on Windows); else the first CA bundle found at the paths this OS's
// distributions use (platform/tls.h).
#pragma once

#include <filesystem>
#include <string>

namespace outpost {

struct TlsTrust {
  enum class Source { kCaFile, kSystemStore, kSystemBundle, kNone };
  Source source = Source::kNone;
  std::filesystem::path ca_file;  // for kCaFile and kSystemBundle
  // "ca_file /x.pem", "system store (Schannel)", "system bundle /etc/...", or why none.
  std::string Describe() const;
};

TlsTrust ResolveTlsTrust(const std::filesystem::path& configured_ca_file);

}  // namespace outpost

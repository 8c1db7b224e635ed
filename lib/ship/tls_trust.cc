#include "ship/tls_trust.h"

#include "outpost/platform/tls.h"

namespace outpost {

std::string TlsTrust::Describe() const {
  switch (source) {
    case Source::kCaFile:
      return "ca_file " + ca_file.string();
    case Source::kSystemStore:
      return "system certificate store (Schannel)";
    case Source::kSystemBundle:
      return "system CA bundle " + ca_file.string();
    case Source::kNone:
      break;
  }
  std::string tried;
  for (const auto& p : platform::CaBundleCandidates())
    tried += (tried.empty() ? "" : ", ") + p.string();
  return "no CA bundle found (tried " + tried + "); set output.ca_file";
}

TlsTrust ResolveTlsTrust(const std::filesystem::path& configured_ca_file) {
  TlsTrust t;
  if (!configured_ca_file.empty()) {
    t.source = TlsTrust::Source::kCaFile;
    t.ca_file = configured_ca_file;
  } else if (platform::UsesSystemCertStore()) {
    t.source = TlsTrust::Source::kSystemStore;
  } else if (auto bundle = platform::FindCaBundle()) {
    t.source = TlsTrust::Source::kSystemBundle;
    t.ca_file = *bundle;
  }
  return t;
}

}  // namespace outpost

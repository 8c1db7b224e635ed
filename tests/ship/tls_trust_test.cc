#include <catch.hpp>

#include "outpost/platform/tls.h"
#include "ship/tls_trust.h"

namespace outpost {

TEST_CASE("a configured ca_file always wins") {
  TlsTrust t = ResolveTlsTrust("/etc/outpost/ca.pem");
  CHECK(t.source == TlsTrust::Source::kCaFile);
  CHECK(t.ca_file == "/etc/outpost/ca.pem");
  CHECK(t.Describe() == "ca_file " + std::filesystem::path("/etc/outpost/ca.pem").string());
}

TEST_CASE("without ca_file, trust comes from the OS store or the first bundle found") {
  TlsTrust t = ResolveTlsTrust("");
  if (platform::UsesSystemCertStore()) {
    CHECK(t.source == TlsTrust::Source::kSystemStore);
    CHECK(t.Describe() == "system certificate store (Schannel)");
  } else if (auto bundle = platform::FindCaBundle()) {
    CHECK(t.source == TlsTrust::Source::kSystemBundle);
    CHECK(t.ca_file == *bundle);
  } else {
    CHECK(t.source == TlsTrust::Source::kNone);
    CHECK(t.Describe().find("set output.ca_file") != std::string::npos);
  }
}

}  // namespace outpost

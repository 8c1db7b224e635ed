// Fuzzes the [[check]] policy parser: TOML text -> ParsePolicy, every error's text and
// every check's platform test. A policy either has errors or checks, never both.
#include <cstdlib>
#include <string_view>

#include "check/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const outpost::PolicyParseResult result = outpost::ParsePolicy(text, "fuzz.toml", {});
  if (!result.ok() && !result.checks.empty()) std::abort();
  size_t chars = 0;
  for (const outpost::PolicyError& e : result.errors) chars += e.ToString().size();
  for (const outpost::Check& c : result.checks) {
    if (c.id.empty() || c.query.empty()) std::abort();
    for (const char* os : {"linux", "windows", "macos"})
      chars += outpost::CheckAppliesTo(c, os) ? 1 : 0;
    chars += outpost::CheckSeverityName(c.severity).size();
  }
  static volatile size_t sink = 0;
  sink = sink + chars;
  return 0;
}

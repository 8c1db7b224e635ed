// Fuzzes the config loader: TOML text -> ParseConfig (syntax, schema, validation),
// every diagnostic's text, and the effective config rendered back to TOML. A config
// without errors must render to TOML that parses without errors to the same effective
// config (the property `config show` relies on); anything else aborts.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config_loader.h"

namespace {

outpost::ConfigParseOptions Options() {
  outpost::ConfigParseOptions options;
  options.default_state_dir = "/var/lib/outpost";
  options.base_dir = "/etc/outpost";
  return options;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::ConfigParseOptions options = Options();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const outpost::ConfigParseResult first = outpost::ParseConfig(text, "fuzz.toml", options);
  size_t chars = 0;
  for (const outpost::ConfigDiagnostic& d : first.diagnostics) chars += d.ToString().size();
  const std::string rendered = outpost::RenderConfigToml(first.effective);
  static volatile size_t sink = 0;
  sink = sink + chars;
  if (!first.ok()) return 0;
  const outpost::ConfigParseResult second =
      outpost::ParseConfig(rendered, "rendered.toml", options);
  if (!second.ok()) {
    std::fprintf(stderr, "the rendered config does not parse:\n%s\n", rendered.c_str());
    for (const outpost::ConfigDiagnostic& d : second.diagnostics)
      std::fprintf(stderr, "%s\n", d.ToString().c_str());
    std::abort();
  }
  if (outpost::RenderConfigToml(second.effective) != rendered) {
    std::fprintf(stderr, "rendering is not stable:\n%s\n---\n%s\n", rendered.c_str(),
                 outpost::RenderConfigToml(second.effective).c_str());
    std::abort();
  }
  return 0;
}

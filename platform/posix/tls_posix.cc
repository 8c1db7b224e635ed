// Finding a CA bundle file by probing the OS's known locations.
#include <system_error>

#include "outpost/platform/tls.h"

namespace outpost::platform {

std::optional<std::filesystem::path> FindCaBundle() {
  for (const auto& p : CaBundleCandidates()) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec)) return p;
  }
  return std::nullopt;
}

}  // namespace outpost::platform

// Subprocess on Windows: not implemented yet (the journal source, its only user, is
// Linux-only).
#include "outpost/platform/subprocess.h"

namespace outpost::platform {

std::unique_ptr<Subprocess> StartSubprocess(const std::vector<std::string>&, std::function<void()>,
                                            std::string* error) {
  if (error) *error = "running a program is not supported on this platform";
  return nullptr;
}

}  // namespace outpost::platform

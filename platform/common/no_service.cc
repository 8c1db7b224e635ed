// Where no service control is written yet (Windows: the service control manager;
// macOS: launchd): say so instead of pretending.
#include "outpost/platform/service.h"
#include "outpost/platform/system.h"

namespace outpost::platform {

std::unique_ptr<ServiceControl> CreateServiceControl(const ServiceSettings&, std::string* error) {
  if (error)
    *error = "service control is not available on " + std::string(OsName()) +
             " yet (it exists on Linux, with systemd)";
  return nullptr;
}

}  // namespace outpost::platform

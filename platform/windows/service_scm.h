// Internal to the platform layer (Windows): the plan of the Service Control Manager's
// service control (service_scm.cc) as pure functions, so that tests can check the
// steps for an installed and a missing service without touching the SCM.
#pragma once

#include <string>
#include <vector>

#include "outpost/platform/service.h"

namespace outpost::platform {

// The service's command line, as the SCM stores it (binPath): the binary quoted,
// then `--config "FILE"` when settings.config is set, then `run --service`. False
// with *error when a path is not absolute or holds a double quote.
bool ScmCommandLine(const ServiceSettings& settings, std::string& out, std::string* error);

// The steps for `action`, given whether the service is registered now.
bool PlanScm(ServiceAction action, const ServiceSettings& settings, bool installed,
             std::vector<ServiceStep>& steps, std::string* error);

}  // namespace outpost::platform

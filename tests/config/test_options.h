// Parse options the config tests share: Linux defaults, no base directory.
#pragma once

#include "config/config_loader.h"

namespace outpost::testing {

inline ConfigParseOptions LinuxDefaults() {
  ConfigParseOptions o;
  o.default_state_dir = "/var/lib/outpost";
  o.example_log_glob = "/var/log/*.log";
  return o;
}

}  // namespace outpost::testing

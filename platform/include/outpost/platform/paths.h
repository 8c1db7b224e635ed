// Where outpost keeps its files by default on this OS (DESIGN.md, "Where things
// live"). `--config` and `--state-dir` override these; tests always do.
#pragma once

#include <filesystem>
#include <string>

namespace outpost::platform {

struct DefaultPaths {
  std::filesystem::path config_file;  // e.g. /etc/outpost/outpost.toml
  std::filesystem::path state_dir;    // e.g. /var/lib/outpost
  std::string example_log_glob;       // for `config init`, e.g. /var/log/*.log
};

DefaultPaths GetDefaultPaths();

}  // namespace outpost::platform

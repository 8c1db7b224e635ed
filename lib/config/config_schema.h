// Internal to lib/config: the schema declarations (config_schema.cc).
#pragma once

#include "config/toml_reader.h"

namespace outpost::config_internal {

// Reads (or, in describe mode, documents) a whole outpost.toml into `cfg`.
void ReadConfigDocument(TableReader& root, Config& cfg, const ConfigParseOptions& options);

}  // namespace outpost::config_internal

// The keys that may sign release feeds: a set compiled into the binary plus
// update.trusted_keys from the config. Several keys are trusted at once so a key
// rotation never strands a machine (docs/update-feed.md, "Key rotation").
//
// The compiled-in set holds no release key in the source tree: the release process
// adds it to kBuiltinKeys in trusted_keys.cc before building a release (see
// docs/update-feed.md). Development builds trust only config keys.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "update/minisign.h"
#include "util/status.h"

namespace outpost::update {

struct BuiltinKey {
  std::string_view name;        // "release-2026" — for people and logs
  std::string_view public_key;  // the base64 line of the minisign .pub file
};

struct BuiltinKeySet {
  uint32_t epoch = 0;  // raised by the release process whenever the set changes
  std::vector<BuiltinKey> keys;
};

// The set compiled into this binary.
const BuiltinKeySet& BuiltinKeys();

// The compiled-in keys followed by `config_keys` (base64 lines), duplicates removed.
// Error: kInvalidArgument naming the config key (by position) that does not parse;
// kInternal if a compiled-in key does not parse (a broken release build).
Result<std::vector<PublicKey>> TrustedKeys(const std::vector<std::string>& config_keys);

// Same, over an explicit compiled-in set (tests).
Result<std::vector<PublicKey>> TrustedKeys(const BuiltinKeySet& builtin,
                                           const std::vector<std::string>& config_keys);

}  // namespace outpost::update

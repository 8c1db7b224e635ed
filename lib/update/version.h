// Release versions: MAJOR.MINOR.PATCH[-prerelease], compared with semver precedence.
//
// The feed names versions (release.version, min_version, blocked_versions,
// rollback_to) and the agent knows its own; every comparison in the update policy
// goes through here. Build metadata ("+...") and a leading "v" are not accepted:
// a signed feed should say exactly one thing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace outpost::update {

struct Version {
  uint64_t major = 0;
  uint64_t minor = 0;
  uint64_t patch = 0;
  std::string prerelease;  // "" for a release; "rc.1", "beta" ...

  // "1.2.3" or "1.2.3-rc.1".
  std::string ToString() const;
};

// Parses "MAJOR.MINOR.PATCH[-prerelease]". Numbers are decimal without leading zeros
// (semver); pre-release identifiers are dot-separated, non-empty, [0-9A-Za-z-], and a
// numeric one has no leading zero. Error: kInvalidArgument naming what is wrong.
Result<Version> ParseVersion(std::string_view text);

// Semver precedence: <0 when a < b, 0 when equal, >0 when a > b. A pre-release is
// lower than its release (1.2.0-rc.1 < 1.2.0); numeric identifiers compare
// numerically and sort before alphanumeric ones.
int CompareVersions(const Version& a, const Version& b);

inline bool operator==(const Version& a, const Version& b) { return CompareVersions(a, b) == 0; }
inline bool operator<(const Version& a, const Version& b) { return CompareVersions(a, b) < 0; }
inline bool operator>(const Version& a, const Version& b) { return CompareVersions(a, b) > 0; }

}  // namespace outpost::update

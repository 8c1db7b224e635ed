#include "update/version.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace outpost::update {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}
bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsDigit);
}

// A decimal number without a leading zero that fits in uint64_t.
bool ParseNumber(std::string_view s, uint64_t& out) {
  if (!AllDigits(s) || (s.size() > 1 && s[0] == '0')) return false;
  out = 0;
  for (char c : s) {
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (out > (UINT64_MAX - digit) / 10) return false;  // does not fit
    out = out * 10 + digit;
  }
  return true;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string_view::npos ? s.npos : pos - start));
    if (pos == std::string_view::npos) return parts;
    start = pos + 1;
  }
}

// Semver rule 11.4 for one pre-release identifier.
int CompareIdentifier(std::string_view a, std::string_view b) {
  const bool na = AllDigits(a), nb = AllDigits(b);
  if (na && nb) {
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;  // no leading zeros
    return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
  }
  if (na != nb) return na ? -1 : 1;
  const int c = a.compare(b);
  return c < 0 ? -1 : (c == 0 ? 0 : 1);
}

}  // namespace

std::string Version::ToString() const {
  std::string s = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  if (!prerelease.empty()) s += "-" + prerelease;
  return s;
}

Result<Version> ParseVersion(std::string_view text) {
  const std::string quoted = "'" + std::string(text.substr(0, 64)) + "'";
  if (text.empty()) return InvalidArgument("empty version (expected MAJOR.MINOR.PATCH)");
  if (text.size() > 128) return InvalidArgument("version longer than 128 characters");
  const size_t dash = text.find('-');
  const std::string_view core = text.substr(0, dash);
  const std::vector<std::string_view> nums = Split(core, '.');
  Version v;
  if (nums.size() != 3 || !ParseNumber(nums[0], v.major) || !ParseNumber(nums[1], v.minor) ||
      !ParseNumber(nums[2], v.patch)) {
    return InvalidArgument("version " + quoted +
                           " is not MAJOR.MINOR.PATCH[-prerelease] (decimal numbers without "
                           "leading zeros)");
  }
  if (dash != std::string_view::npos) {
    const std::string_view pre = text.substr(dash + 1);
    for (std::string_view id : Split(pre, '.')) {
      if (id.empty() || !std::all_of(id.begin(), id.end(), IsIdentChar)) {
        return InvalidArgument("version " + quoted +
                               ": pre-release identifiers must be non-empty [0-9A-Za-z-]");
      }
      if (AllDigits(id) && id.size() > 1 && id[0] == '0') {
        return InvalidArgument("version " + quoted +
                               ": numeric pre-release identifier with a leading zero");
      }
    }
    v.prerelease = std::string(pre);
  }
  return v;
}

int CompareVersions(const Version& a, const Version& b) {
  if (a.major != b.major) return a.major < b.major ? -1 : 1;
  if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
  if (a.prerelease.empty() || b.prerelease.empty()) {
    if (a.prerelease.empty() && b.prerelease.empty()) return 0;
    return a.prerelease.empty() ? 1 : -1;  // a release is higher than its pre-release
  }
  const std::vector<std::string_view> pa = Split(a.prerelease, '.');
  const std::vector<std::string_view> pb = Split(b.prerelease, '.');
  for (size_t i = 0; i < std::min(pa.size(), pb.size()); ++i) {
    const int c = CompareIdentifier(pa[i], pb[i]);
    if (c != 0) return c;
  }
  if (pa.size() == pb.size()) return 0;
  return pa.size() < pb.size() ? -1 : 1;
}

}  // namespace outpost::update

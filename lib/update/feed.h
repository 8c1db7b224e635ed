// The release feed: <base>/<channel>.json, parsed strictly after its signature has
// been verified (update_policy.h drives the order). The format is documented in
// docs/update-feed.md; unknown keys are refused so a misspelt field in a signed feed
// never goes unnoticed.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "update/rejection.h"
#include "update/version.h"
#include "util/clock.h"
#include "util/status.h"

namespace outpost::update {

inline constexpr size_t kMaxFeedBytes = 64 * 1024;
inline constexpr int kFeedSchema = 1;

struct Target {
  std::string os;      // "linux", "windows", "macos"
  std::string arch;    // "x86_64", "aarch64", ...
  std::string url;     // absolute: a relative url is resolved against the feed's URL
  uint64_t size = 0;   // bytes, > 0
  std::string sha256;  // 64 lower-case hex digits
};

struct Rollout {
  double percent = 0;  // 0..100, may be fractional (12.5)
  std::string salt;
};

struct Release {
  Version version;
  Version min_version;  // a running version below this cannot install the release
  bool critical = false;
  Rollout rollout;
  std::vector<Target> targets;
};

struct Feed {
  int schema = 0;
  std::string channel;
  uint64_t seq = 0;
  uint64_t keyset_epoch = 0;
  std::string issued_at;  // RFC 3339 UTC text as signed ("2026-01-01T00:00:00Z")
  std::string expires;    // idem; compared verbatim with the trusted comment
  WallTime issued_at_time;
  WallTime expires_time;
  Release release;
  std::vector<Version> blocked_versions;
  std::optional<Version> rollback_to;
};

// The trusted comment's fields: "outpost-feed schema=1 channel=<c> seq=<n> expires=<t>".
struct TrustedComment {
  int schema = 0;
  std::string channel;
  uint64_t seq = 0;
  std::string expires;
};

// Parses the trusted comment exactly (one space between fields, fields in order,
// decimal without leading zeros). Error: kInvalidArgument.
Result<TrustedComment> ParseTrustedComment(std::string_view text);

// Parses the feed JSON; `feed_url` is the URL it was fetched from, against which a
// relative target url is resolved. Rejections: feed_too_large (over kMaxFeedBytes,
// checked before parsing), schema_unsupported, feed_malformed (not JSON, a missing or
// unknown key, a wrong type, a bad version, time, size, digest or url).
Checked<Feed> ParseFeed(std::string_view json, std::string_view feed_url);

// "<base>/<channel>.json" (one slash between, however `base` ends). The signature is
// the same URL plus ".minisig".
std::string ChannelFeedUrl(std::string_view base, std::string_view channel);

// Resolves `ref` (absolute http(s) URL, "//host/...", "/path" or a relative path)
// against `base` as RFC 3986 does, dot segments removed. Error: kInvalidArgument
// (a scheme other than http/https, or a base that is not an absolute URL).
Result<std::string> ResolveUrl(std::string_view base, std::string_view ref);

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (UTC only). Error: kInvalidArgument.
Result<WallTime> ParseUtcTimestamp(std::string_view text);

}  // namespace outpost::update

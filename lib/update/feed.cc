#include "update/feed.h"

namespace outpost::update {

Result<TrustedComment> ParseTrustedComment(std::string_view) {
  return Unsupported("not implemented yet");
}

Checked<Feed> ParseFeed(std::string_view, std::string_view) {
  return Checked<Feed>(reason::kFeedMalformed, "not implemented yet");
}

Result<std::string> ResolveUrl(std::string_view, std::string_view) {
  return Unsupported("not implemented yet");
}

Result<WallTime> ParseUtcTimestamp(std::string_view) { return Unsupported("not implemented yet"); }

}  // namespace outpost::update

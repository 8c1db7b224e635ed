// Why the update code refused something: a stable reason code and a message for people.
//
// Reason codes are API (docs/update-feed.md lists every one): they are logged, shown
// by `outpost status` and matched by fleet tooling, so they are never renamed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace outpost::update {

// Stable reason codes. Rejections first, then the codes of the other verdicts.
namespace reason {
// Signature and key.
inline constexpr std::string_view kFeedTooLarge = "feed_too_large";
inline constexpr std::string_view kSignatureTooLarge = "signature_too_large";
inline constexpr std::string_view kSignatureMissing = "signature_missing";
inline constexpr std::string_view kSignatureMalformed = "signature_malformed";
inline constexpr std::string_view kSignatureLegacy = "signature_legacy";
inline constexpr std::string_view kSignatureAlgorithmUnknown = "signature_algorithm_unknown";
inline constexpr std::string_view kKeyUnknown = "key_unknown";
inline constexpr std::string_view kSignatureInvalid = "signature_invalid";
inline constexpr std::string_view kTrustedCommentSignatureInvalid =
    "trusted_comment_signature_invalid";
inline constexpr std::string_view kNoTrustedKeys = "no_trusted_keys";
// Trusted comment and feed content.
inline constexpr std::string_view kTrustedCommentMalformed = "trusted_comment_malformed";
inline constexpr std::string_view kSchemaUnsupported = "schema_unsupported";
inline constexpr std::string_view kFeedMalformed = "feed_malformed";
inline constexpr std::string_view kTrustedCommentMismatch = "trusted_comment_mismatch";
inline constexpr std::string_view kChannelMismatch = "channel_mismatch";
inline constexpr std::string_view kFeedExpired = "feed_expired";
inline constexpr std::string_view kSeqRollback = "seq_rollback";
inline constexpr std::string_view kSeqReused = "seq_reused";
inline constexpr std::string_view kNoTarget = "no_target";
inline constexpr std::string_view kAmbiguousTarget = "ambiguous_target";
inline constexpr std::string_view kRunningVersionMalformed = "running_version_malformed";
inline constexpr std::string_view kDowngradeNotAllowed = "downgrade_not_allowed";
// Verdicts other than a rejection.
inline constexpr std::string_view kVersionBlocked = "version_blocked";
inline constexpr std::string_view kSteppingStoneRequired = "stepping_stone_required";
inline constexpr std::string_view kNotInRollout = "not_in_rollout";
inline constexpr std::string_view kUpToDate = "up_to_date";
inline constexpr std::string_view kUpdateAvailable = "update_available";
inline constexpr std::string_view kRollback = "rollback";
}  // namespace reason

struct Rejection {
  std::string code;     // one of reason::k*
  std::string message;  // what and why, for people
};

// Either a T or a Rejection; the update module's Result<T>.
template <typename T>
class [[nodiscard]] Checked {
 public:
  Checked(T value) : value_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Checked(Rejection r) : rejection_(std::move(r)) {}  // NOLINT(google-explicit-constructor)
  Checked(std::string_view code, std::string message)
      : rejection_(Rejection{std::string(code), std::move(message)}) {}

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  // Precondition: ok().
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T* operator->() const { return &*value_; }
  // Precondition: !ok().
  const Rejection& rejection() const { return rejection_; }

 private:
  std::optional<T> value_;
  Rejection rejection_;
};

}  // namespace outpost::update

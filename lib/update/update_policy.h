// The update decision: given the feed and signature bytes as fetched, the agent's
// identity and the persisted feed state, decide whether to install, and what.
//
// This is the whole of the accept/reject logic for self-update; the download,
// journal and swap act on a Decision and never look at the feed themselves. Every
// outcome carries a stable reason code (rejection.h, docs/update-feed.md).
//
// Pure function of its input (time comes in as `now`, read from the Clock by the
// caller); thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "update/feed.h"
#include "update/minisign.h"
#include "update/rejection.h"
#include "util/clock.h"

namespace outpost::update {

// Persisted by the caller between checks (buffer.db state): the highest seq seen in
// a feed that verified, and the digest of that feed's bytes. A fresh install starts
// with {0, ""}.
struct FeedState {
  uint64_t highest_seq = 0;
  std::string highest_seq_digest;  // FeedDigest() of the feed with highest_seq

  bool operator==(const FeedState&) const = default;
};

// Lower-case hex SHA-256 of the feed bytes, as kept in FeedState.
std::string FeedDigest(std::string_view feed_bytes);

struct EvaluateInput {
  std::string channel;                  // update.channel
  std::string feed_url;                 // where the feed came from: resolves relative target urls
  std::string running_version;          // this binary's version
  std::string os;                       // platform::OsName()
  std::string arch;                     // platform::ArchName()
  std::string agent_id;                 // rollout bucket
  WallTime now;                         // Clock::Now()
  std::vector<PublicKey> trusted_keys;  // TrustedKeys(config.update.trusted_keys)
  FeedState state;
};

struct Decision {
  enum class Verdict {
    kUpToDate,               // nothing to install
    kUpdate,                 // install `target` (a higher version)
    kRollback,               // install `target` (lower; the feed's rollback_to names it)
    kNotInRollout,           // a newer release exists; this machine is not in it yet
    kBlocked,                // the release version is in blocked_versions
    kSteppingStoneRequired,  // running < min_version: cannot install directly
    kRejected,               // the feed was refused; see reason_code
  };
  Verdict verdict = Verdict::kRejected;
  std::string reason_code;  // reason::k*
  std::string reason;       // what and why, for people

  // The new state to persist: raised when the feed verified (signature, trusted
  // comment, channel, expiry, seq) even if nothing is installed; otherwise the input
  // state unchanged.
  FeedState new_state;

  std::string key_id;            // the signing key (minisign's hex), once the signature verified
  std::optional<Feed> feed;      // set once the feed verified and parsed
  std::optional<Target> target;  // this os/arch's target, when the feed has exactly one
  bool running_blocked = false;  // the running version is in blocked_versions
  int rollout_bucket = -1;       // 0..9999 when the rollout gate was consulted

  // True for kUpdate and kRollback.
  bool ShouldInstall() const {
    return verdict == Verdict::kUpdate || verdict == Verdict::kRollback;
  }
};

// "up_to_date", "update", "rollback", "not_in_rollout", "blocked",
// "stepping_stone_required", "rejected".
std::string_view VerdictName(Decision::Verdict verdict);

// Verifies and evaluates a fetched feed (docs/update-feed.md, "Rules", in that order).
Decision Evaluate(std::string_view feed_bytes, std::string_view signature_bytes,
                  const EvaluateInput& input);

// 0..9999: the first 8 bytes of SHA-256(agent_id || salt), big-endian, mod 10000.
int RolloutBucket(std::string_view agent_id, std::string_view salt);

// The rollout threshold for a percent: round(percent * 100), clamped to 0..10000.
// A machine is in the rollout when RolloutBucket(...) < RolloutThreshold(percent).
int RolloutThreshold(double percent);

}  // namespace outpost::update

#include "update/update_policy.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace outpost::update {
namespace {

using Verdict = Decision::Verdict;

std::array<uint8_t, crypto_hash_sha256_BYTES> Sha256(std::string_view a, std::string_view b = {}) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(a.data()), a.size());
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(b.data()), b.size());
  std::array<uint8_t, crypto_hash_sha256_BYTES> out{};
  crypto_hash_sha256_final(&state, out.data());
  return out;
}

Decision Finish(Decision d, Verdict verdict, std::string_view code, std::string reason) {
  d.verdict = verdict;
  d.reason_code = std::string(code);
  d.reason = std::move(reason);
  return d;
}

bool Contains(const std::vector<Version>& list, const Version& v) {
  return std::any_of(list.begin(), list.end(), [&](const Version& x) { return x == v; });
}

// The rules after the feed verified: target, versions, rollout.
Decision Decide(Decision d, const EvaluateInput& in) {
  const Feed& feed = *d.feed;
  const Release& release = feed.release;
  const std::string version = release.version.ToString();

  std::vector<const Target*> matches;
  for (const Target& t : release.targets) {
    if (t.os == in.os && t.arch == in.arch) matches.push_back(&t);
  }
  if (matches.empty()) {
    return Finish(std::move(d), Verdict::kRejected, reason::kNoTarget,
                  "release " + version + " has no target for " + in.os + "/" + in.arch);
  }
  if (matches.size() > 1) {
    return Finish(std::move(d), Verdict::kRejected, reason::kAmbiguousTarget,
                  "release " + version + " has " + std::to_string(matches.size()) +
                      " targets for " + in.os + "/" + in.arch + "; exactly one is expected");
  }
  d.target = *matches.front();

  Result<Version> running = ParseVersion(in.running_version);
  if (!running.ok()) {
    return Finish(std::move(d), Verdict::kRejected, reason::kRunningVersionMalformed,
                  "running version: " + running.status().message());
  }
  const std::string running_text = running->ToString();
  d.running_blocked = Contains(feed.blocked_versions, *running);
  const std::string running_note =
      d.running_blocked ? " (the running version " + running_text + " is blocked too)" : "";

  if (Contains(feed.blocked_versions, release.version)) {
    return Finish(
        std::move(d), Verdict::kBlocked, reason::kVersionBlocked,
        "release " + version + " is in blocked_versions; not installing it" + running_note);
  }
  const int order = CompareVersions(release.version, *running);
  if (order == 0) {
    return Finish(std::move(d), Verdict::kUpToDate, reason::kUpToDate,
                  "running " + running_text + ", the channel's release");
  }
  const bool rollback = order < 0;
  if (rollback && !(feed.rollback_to && *feed.rollback_to == release.version)) {
    const std::string names = feed.rollback_to ? "rollback_to names " + feed.rollback_to->ToString()
                                               : "the feed has no rollback_to";
    return Finish(std::move(d), Verdict::kRejected, reason::kDowngradeNotAllowed,
                  "release " + version + " is lower than the running " + running_text + " and " +
                      names + running_note);
  }
  if (CompareVersions(*running, release.min_version) < 0) {
    return Finish(std::move(d), Verdict::kSteppingStoneRequired, reason::kSteppingStoneRequired,
                  "release " + version + " needs at least " + release.min_version.ToString() +
                      " and " + running_text +
                      " is running: a stepping-stone release must be installed first, and "
                      "this feed names none");
  }
  if (!release.critical) {
    d.rollout_bucket = RolloutBucket(in.agent_id, release.rollout.salt);
    const int threshold = RolloutThreshold(release.rollout.percent);
    if (d.rollout_bucket >= threshold) {
      return Finish(std::move(d), Verdict::kNotInRollout, reason::kNotInRollout,
                    "release " + version + " is rolling out to " + std::to_string(threshold) +
                        "/10000 of machines; this one (bucket " + std::to_string(d.rollout_bucket) +
                        ") is not among them yet");
    }
  }
  if (rollback) {
    return Finish(std::move(d), Verdict::kRollback, reason::kRollback,
                  "rolling back from " + running_text + " to " + version + " (rollback_to)");
  }
  return Finish(
      std::move(d), Verdict::kUpdate, reason::kUpdateAvailable,
      "updating from " + running_text + " to " + version + (release.critical ? " (critical)" : ""));
}

}  // namespace

std::string FeedDigest(std::string_view feed_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : Sha256(feed_bytes)) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kUpToDate:
      return "up_to_date";
    case Verdict::kUpdate:
      return "update";
    case Verdict::kRollback:
      return "rollback";
    case Verdict::kNotInRollout:
      return "not_in_rollout";
    case Verdict::kBlocked:
      return "blocked";
    case Verdict::kSteppingStoneRequired:
      return "stepping_stone_required";
    case Verdict::kRejected:
      return "rejected";
  }
  return "rejected";
}

Decision Evaluate(std::string_view feed_bytes, std::string_view signature_bytes,
                  const EvaluateInput& in) {
  Decision d;
  d.new_state = in.state;
  const auto reject = [&](std::string_view code, std::string reason) {
    return Finish(std::move(d), Verdict::kRejected, code, std::move(reason));
  };

  // Size caps before anything reads the bytes.
  if (feed_bytes.size() > kMaxFeedBytes) {
    return reject(reason::kFeedTooLarge, "feed is " + std::to_string(feed_bytes.size()) +
                                             " bytes, over the limit of " +
                                             std::to_string(kMaxFeedBytes));
  }
  Checked<VerifiedSignature> sig = VerifyMinisign(feed_bytes, signature_bytes, in.trusted_keys);
  if (!sig.ok()) return reject(sig.rejection().code, sig.rejection().message);
  d.key_id = KeyIdHex(sig->key_id);

  // The trusted comment is checked before the feed's content is used.
  Result<TrustedComment> comment = ParseTrustedComment(sig->trusted_comment);
  if (!comment.ok()) return reject(reason::kTrustedCommentMalformed, comment.status().message());
  if (comment->schema != kFeedSchema) {
    return reject(reason::kSchemaUnsupported, "feed schema " + std::to_string(comment->schema) +
                                                  " is not supported (this agent reads schema " +
                                                  std::to_string(kFeedSchema) + ")");
  }
  Checked<Feed> feed = ParseFeed(feed_bytes, in.feed_url);
  if (!feed.ok()) return reject(feed.rejection().code, feed.rejection().message);
  if (comment->channel != feed->channel || comment->seq != feed->seq ||
      comment->expires != feed->expires || comment->schema != feed->schema) {
    return reject(reason::kTrustedCommentMismatch,
                  "the signed trusted comment (channel=" + comment->channel +
                      " seq=" + std::to_string(comment->seq) + " expires=" + comment->expires +
                      ") disagrees with the feed (channel=" + feed->channel +
                      " seq=" + std::to_string(feed->seq) + " expires=" + feed->expires + ")");
  }

  if (feed->channel != in.channel) {
    return reject(reason::kChannelMismatch, "feed is for channel '" + feed->channel +
                                                "', this agent follows '" + in.channel + "'");
  }
  if (in.now >= feed->expires_time) {
    return reject(reason::kFeedExpired, "feed expired at " + feed->expires);
  }
  if (feed->seq < in.state.highest_seq) {
    return reject(reason::kSeqRollback, "feed seq " + std::to_string(feed->seq) +
                                            " is lower than seq " +
                                            std::to_string(in.state.highest_seq) +
                                            " already seen (a replayed older feed)");
  }
  const std::string digest = FeedDigest(feed_bytes);
  if (feed->seq == in.state.highest_seq && !in.state.highest_seq_digest.empty() &&
      digest != in.state.highest_seq_digest) {
    return reject(reason::kSeqReused, "feed seq " + std::to_string(feed->seq) +
                                          " was seen before with different content; a changed "
                                          "feed must raise seq");
  }
  d.new_state = FeedState{feed->seq, digest};
  d.feed = std::move(feed).value();
  return Decide(std::move(d), in);
}

int RolloutBucket(std::string_view agent_id, std::string_view salt) {
  const auto digest = Sha256(agent_id, salt);
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | digest[i];
  return static_cast<int>(v % 10000);
}

int RolloutThreshold(double percent) {
  if (!(percent > 0)) return 0;  // also NaN
  if (percent >= 100) return 10000;
  return static_cast<int>(std::llround(percent * 100));
}

}  // namespace outpost::update

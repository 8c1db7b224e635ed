#include "update/update_policy.h"

#include <catch.hpp>
#include <nlohmann/json.hpp>
#include <random>

#include "update/minisign_test_signer.h"

namespace outpost::update {
namespace {

using nlohmann::json;
using testing::LoadTestKey;
using testing::SignMinisign;
using testing::UpdateFixture;
using Verdict = Decision::Verdict;

constexpr std::string_view kFeedUrl = "https://updates.example.com/outpost/stable.json";

PublicKey Key(std::string_view pub_file) {
  Result<PublicKey> k = ParsePublicKey(UpdateFixture(pub_file));
  REQUIRE(k.ok());
  return *k;
}

WallTime At(std::string_view rfc3339) {
  Result<WallTime> t = ParseUtcTimestamp(rfc3339);
  REQUIRE(t.ok());
  return *t;
}

json BaseFeed() { return json::parse(UpdateFixture("stable.json")); }

std::string CommentFor(const json& doc) {
  return "outpost-feed schema=" + doc["schema"].dump() +
         " channel=" + doc["channel"].get<std::string>() + " seq=" + doc["seq"].dump() +
         " expires=" + doc["expires"].get<std::string>();
}

// A feed and its signature, signed by a test key with the matching trusted comment
// unless `comment` says otherwise.
struct SignedFeed {
  std::string feed;
  std::string sig;
};
SignedFeed Sign(const json& doc, std::string_view key = "test.key",
                std::optional<std::string> comment = std::nullopt) {
  SignedFeed s;
  s.feed = doc.dump(2);
  s.sig = SignMinisign(LoadTestKey(key), s.feed, comment.value_or(CommentFor(doc)));
  return s;
}

EvaluateInput BaseInput() {
  EvaluateInput in;
  in.channel = "stable";
  in.feed_url = std::string(kFeedUrl);
  in.running_version = "1.3.0";
  in.os = "linux";
  in.arch = "x86_64";
  in.agent_id = "agent-1";
  in.now = At("2026-06-01T00:00:00Z");
  in.trusted_keys = {Key("test.pub")};
  in.state = FeedState{3, "earlier"};
  return in;
}

Decision Run(const SignedFeed& s, const EvaluateInput& in = BaseInput()) {
  Decision d = Evaluate(s.feed, s.sig, in);
  INFO(d.reason_code << ": " << d.reason);
  CHECK_FALSE(d.reason.empty());
  return d;
}

// A rejection leaves the persisted state as it was.
void CheckRejected(const Decision& d, std::string_view code,
                   const EvaluateInput& in = BaseInput()) {
  INFO(d.reason);
  CHECK(d.verdict == Verdict::kRejected);
  CHECK(d.reason_code == code);
  CHECK(d.new_state == in.state);
  CHECK_FALSE(d.ShouldInstall());
}

TEST_CASE("the minisign-signed fixture feed yields an update", "[update][policy]") {
  const SignedFeed s{UpdateFixture("stable.json"), UpdateFixture("stable.json.minisig")};
  const Decision d = Run(s);
  CHECK(d.verdict == Verdict::kUpdate);
  CHECK(d.reason_code == reason::kUpdateAvailable);
  CHECK(d.ShouldInstall());
  REQUIRE(d.target.has_value());
  CHECK(d.target->url == "https://updates.example.com/outpost/outpost-1.4.0-linux-x86_64");
  CHECK(d.target->size == 8123456);
  REQUIRE(d.feed.has_value());
  CHECK(d.feed->release.version.ToString() == "1.4.0");
  CHECK(d.new_state == FeedState{5, FeedDigest(s.feed)});
  CHECK(d.rollout_bucket == 1030);  // SHA-256("agent-1" "1.4.0-stable"), see below
  CHECK(d.key_id == KeyIdHex(Key("test.pub").key_id));
  CHECK_FALSE(d.running_blocked);
}

TEST_CASE("rule: an unsigned feed is rejected", "[update][policy]") {
  CheckRejected(Run({UpdateFixture("stable.json"), ""}), reason::kSignatureMissing);
}

TEST_CASE("rule: a wrongly signed feed is rejected", "[update][policy]") {
  SignedFeed s = Sign(BaseFeed());
  s.feed.insert(s.feed.size() - 1, " ");
  CheckRejected(Run(s), reason::kSignatureInvalid);
}

TEST_CASE("rule: a feed signed by an unknown key is rejected", "[update][policy]") {
  CheckRejected(Run(Sign(BaseFeed(), "untrusted.key")), reason::kKeyUnknown);
}

TEST_CASE("rule: a legacy Ed signature is rejected", "[update][policy]") {
  CheckRejected(Run({UpdateFixture("stable.json"), UpdateFixture("stable.json.legacy.minisig")}),
                reason::kSignatureLegacy);
}

TEST_CASE("rule: a malformed trusted comment is rejected", "[update][policy]") {
  CheckRejected(Run(Sign(BaseFeed(), "test.key", "timestamp:1767225600\tfile:stable.json")),
                reason::kTrustedCommentMalformed);
}

TEST_CASE("rule: a trusted comment that disagrees with the JSON is rejected", "[update][policy]") {
  const json doc = BaseFeed();
  for (const std::string& comment :
       {std::string("outpost-feed schema=1 channel=stable seq=6 expires=2030-01-01T00:00:00Z"),
        std::string("outpost-feed schema=1 channel=beta seq=5 expires=2030-01-01T00:00:00Z"),
        std::string("outpost-feed schema=1 channel=stable seq=5 expires=2031-01-01T00:00:00Z"),
        // The same instant written differently is still a disagreement.
        std::string("outpost-feed schema=1 channel=stable seq=5 expires=2030-01-01T00:00:00.0Z")}) {
    INFO(comment);
    CheckRejected(Run(Sign(doc, "test.key", comment)), reason::kTrustedCommentMismatch);
  }
}

TEST_CASE("rule: a schema other than 1 is unsupported", "[update][policy]") {
  json doc = BaseFeed();
  doc["schema"] = 2;
  CheckRejected(Run(Sign(doc)), reason::kSchemaUnsupported);
}

TEST_CASE("rule: a signed but malformed feed is rejected", "[update][policy]") {
  json doc = BaseFeed();
  doc["release"]["version"] = "1.4";
  CheckRejected(Run(Sign(doc)), reason::kFeedMalformed);
}

TEST_CASE("rule: an oversize feed is rejected before its signature is checked",
          "[update][policy]") {
  json doc = BaseFeed();
  doc["release"]["rollout"]["salt"] = std::string(kMaxFeedBytes, 's');
  CheckRejected(Run(Sign(doc)), reason::kFeedTooLarge);
}

TEST_CASE("rule: an expired feed is rejected (now >= expires)", "[update][policy]") {
  EvaluateInput in = BaseInput();
  in.now = At("2030-01-01T00:00:00Z");
  CheckRejected(Run(Sign(BaseFeed()), in), reason::kFeedExpired, in);
  in.now = At("2029-12-31T23:59:59.999Z");
  CHECK(Run(Sign(BaseFeed()), in).verdict == Verdict::kUpdate);
}

TEST_CASE("rule: a seq lower than the highest seen is rejected", "[update][policy]") {
  EvaluateInput in = BaseInput();
  in.state = FeedState{6, "digest-of-6"};
  CheckRejected(Run(Sign(BaseFeed()), in), reason::kSeqRollback, in);
}

TEST_CASE("rule: the same seq with different bytes is rejected, with the same bytes accepted",
          "[update][policy]") {
  const SignedFeed s = Sign(BaseFeed());
  EvaluateInput in = BaseInput();
  in.state = FeedState{5, FeedDigest(s.feed)};
  const Decision again = Run(s, in);
  CHECK(again.verdict == Verdict::kUpdate);
  CHECK(again.new_state == in.state);

  json changed = BaseFeed();
  changed["release"]["rollout"]["percent"] = 50;
  CheckRejected(Run(Sign(changed), in), reason::kSeqReused, in);
}

TEST_CASE("a feed that verifies raises the persisted seq, even when nothing is installed",
          "[update][policy]") {
  json doc = BaseFeed();
  doc["seq"] = 42;
  doc["release"]["rollout"]["percent"] = 0;
  const SignedFeed s = Sign(doc);
  const Decision d = Run(s);
  CHECK(d.verdict == Verdict::kNotInRollout);
  CHECK(d.new_state == FeedState{42, FeedDigest(s.feed)});
  // The fresh state of a new install accepts any seq, 0 included.
  EvaluateInput fresh = BaseInput();
  fresh.state = FeedState{};
  doc["seq"] = 0;
  const SignedFeed zero = Sign(doc);
  CHECK(Run(zero, fresh).new_state == FeedState{0, FeedDigest(zero.feed)});
}

TEST_CASE("rule: a feed for another channel is rejected", "[update][policy]") {
  json doc = BaseFeed();
  doc["channel"] = "beta";
  CheckRejected(Run(Sign(doc)), reason::kChannelMismatch);
}

TEST_CASE("rule: no target for this os/arch is rejected", "[update][policy]") {
  EvaluateInput in = BaseInput();
  in.arch = "aarch64";
  const Decision d = Run(Sign(BaseFeed()), in);
  CHECK(d.verdict == Verdict::kRejected);
  CHECK(d.reason_code == reason::kNoTarget);
  CHECK(d.reason.find("linux/aarch64") != std::string::npos);
  CHECK(d.new_state.highest_seq == 5);  // the feed itself verified
  json doc = BaseFeed();
  doc["release"]["targets"] = json::array();
  CHECK(Run(Sign(doc)).reason_code == reason::kNoTarget);
}

TEST_CASE("rule: several targets for this os/arch are rejected", "[update][policy]") {
  json doc = BaseFeed();
  doc["release"]["targets"].push_back(doc["release"]["targets"][0]);
  const Decision d = Run(Sign(doc));
  CHECK(d.verdict == Verdict::kRejected);
  CHECK(d.reason_code == reason::kAmbiguousTarget);
  CHECK_FALSE(d.target.has_value());
}

TEST_CASE("rule: a malformed running version is reported", "[update][policy]") {
  EvaluateInput in = BaseInput();
  in.running_version = "1.3";
  const Decision d = Run(Sign(BaseFeed()), in);
  CHECK(d.verdict == Verdict::kRejected);
  CHECK(d.reason_code == reason::kRunningVersionMalformed);
}

TEST_CASE("the running version is up to date", "[update][policy]") {
  EvaluateInput in = BaseInput();
  in.running_version = "1.4.0";
  const Decision d = Run(Sign(BaseFeed()), in);
  CHECK(d.verdict == Verdict::kUpToDate);
  CHECK(d.reason_code == reason::kUpToDate);
  CHECK_FALSE(d.ShouldInstall());
  CHECK(d.new_state.highest_seq == 5);
}

TEST_CASE("rule: a lower version is refused unless rollback_to names exactly it",
          "[update][policy]") {
  EvaluateInput in = BaseInput();
  in.running_version = "1.5.0";
  json doc = BaseFeed();
  Decision d = Run(Sign(doc), in);
  CHECK(d.verdict == Verdict::kRejected);
  CHECK(d.reason_code == reason::kDowngradeNotAllowed);

  doc["rollback_to"] = "1.3.9";
  d = Run(Sign(doc), in);
  CHECK(d.reason_code == reason::kDowngradeNotAllowed);
  CHECK(d.reason.find("1.3.9") != std::string::npos);

  doc["rollback_to"] = "1.4.0";
  d = Run(Sign(doc), in);
  CHECK(d.verdict == Verdict::kRollback);
  CHECK(d.reason_code == reason::kRollback);
  CHECK(d.ShouldInstall());
  REQUIRE(d.target.has_value());

  // A pre-release of the running version is lower than it.
  in.running_version = "1.4.0";
  doc["release"]["version"] = "1.4.0-rc.2";
  doc.erase("rollback_to");
  CHECK(Run(Sign(doc), in).reason_code == reason::kDowngradeNotAllowed);
}

TEST_CASE("rule: a blocked release version is not installed", "[update][policy]") {
  json doc = BaseFeed();
  doc["blocked_versions"] = {"1.3.1", "1.4.0"};
  const Decision d = Run(Sign(doc));
  CHECK(d.verdict == Verdict::kBlocked);
  CHECK(d.reason_code == reason::kVersionBlocked);
  CHECK_FALSE(d.ShouldInstall());
  CHECK_FALSE(d.running_blocked);
}

TEST_CASE("a blocked running version is reported, and a good release still installs",
          "[update][policy]") {
  EvaluateInput in = BaseInput();
  in.running_version = "1.3.1";
  Decision d = Run(Sign(BaseFeed()), in);
  CHECK(d.verdict == Verdict::kUpdate);
  CHECK(d.running_blocked);

  json doc = BaseFeed();
  doc["release"]["version"] = "1.3.1";
  d = Run(Sign(doc), in);
  CHECK(d.verdict == Verdict::kBlocked);
  CHECK(d.running_blocked);
  CHECK(d.reason.find("blocked too") != std::string::npos);
}

TEST_CASE("rule: below min_version a stepping stone is required", "[update][policy]") {
  EvaluateInput in = BaseInput();
  in.running_version = "0.9.5";
  const Decision d = Run(Sign(BaseFeed()), in);
  CHECK(d.verdict == Verdict::kSteppingStoneRequired);
  CHECK(d.reason_code == reason::kSteppingStoneRequired);
  CHECK_FALSE(d.ShouldInstall());
  CHECK(d.reason.find("names none") != std::string::npos);
  in.running_version = "1.0.0";
  CHECK(Run(Sign(BaseFeed()), in).verdict == Verdict::kUpdate);
}

TEST_CASE("rule: a machine outside the rollout waits; critical skips the rollout gate",
          "[update][policy]") {
  json doc = BaseFeed();
  doc["release"]["rollout"]["percent"] = 10;  // agent-1 is in bucket 1030: out
  Decision d = Run(Sign(doc));
  CHECK(d.verdict == Verdict::kNotInRollout);
  CHECK(d.reason_code == reason::kNotInRollout);
  CHECK(d.rollout_bucket == 1030);
  CHECK(d.target.has_value());

  doc["release"]["rollout"]["percent"] = 10.31;  // threshold 1031: in
  CHECK(Run(Sign(doc)).verdict == Verdict::kUpdate);

  doc["release"]["rollout"]["percent"] = 0;
  doc["release"]["critical"] = true;
  d = Run(Sign(doc));
  CHECK(d.verdict == Verdict::kUpdate);
  CHECK(d.rollout_bucket == -1);
  CHECK(d.reason.find("critical") != std::string::npos);
}

TEST_CASE("rollout buckets are SHA-256(agent_id || salt), big-endian, mod 10000",
          "[update][policy]") {
  // Expected values computed independently (Python hashlib).
  CHECK(RolloutBucket("agent-1", "1.4.0-stable") == 1030);
  CHECK(RolloutBucket("3f2a9c1e-7b4d-4e21-9a0b-5c6d7e8f9012", "salt") == 4167);
  CHECK(RolloutBucket("", "") == 1652);
  CHECK(RolloutThreshold(12.5) == 1250);
  CHECK(RolloutThreshold(0.01) == 1);
  CHECK(RolloutThreshold(0.1) == 10);
  CHECK(RolloutThreshold(0) == 0);
  CHECK(RolloutThreshold(100) == 10000);
  CHECK(RolloutThreshold(-3) == 0);
}

TEST_CASE("machines in the rollout stay in as the percentage grows; about p% are in",
          "[update][policy]") {
  std::mt19937_64 rng(20261130);
  std::vector<std::string> ids;
  for (int i = 0; i < 10000; ++i) ids.push_back("agent-" + std::to_string(rng()));
  const std::string salt = "1.4.0-stable";
  for (double percent : {0.5, 1.0, 5.0, 10.0, 12.5, 20.0, 50.0, 90.0}) {
    const int threshold = RolloutThreshold(percent);
    const int wider = RolloutThreshold(percent * 2 > 100 ? 100 : percent * 2);
    int in = 0;
    for (const std::string& id : ids) {
      const int bucket = RolloutBucket(id, salt);
      REQUIRE(bucket >= 0);
      REQUIRE(bucket < 10000);
      if (bucket < threshold) {
        ++in;
        CHECK(bucket < wider);  // in at p% -> in at 2p%
      }
    }
    INFO(percent << "%: " << in << " of 10000");
    // Binomial: 5 standard deviations.
    const double expected = percent * 100;
    const double sd = std::sqrt(10000 * (percent / 100) * (1 - percent / 100));
    CHECK(std::abs(in - expected) <= 5 * sd + 1);
  }
}

TEST_CASE("key rotation: with two trusted keys a feed signed by either is accepted",
          "[update][policy]") {
  EvaluateInput in = BaseInput();
  in.trusted_keys = {Key("test.pub"), Key("test2.pub")};
  CHECK(Run(Sign(BaseFeed(), "test.key"), in).verdict == Verdict::kUpdate);
  CHECK(Run(Sign(BaseFeed(), "test2.key"), in).verdict == Verdict::kUpdate);
  CheckRejected(Run(Sign(BaseFeed(), "untrusted.key"), in), reason::kKeyUnknown, in);
  // After the old key is dropped only the new one verifies.
  in.trusted_keys = {Key("test2.pub")};
  CheckRejected(Run(Sign(BaseFeed(), "test.key"), in), reason::kKeyUnknown, in);
}

TEST_CASE("verdicts have stable names", "[update][policy]") {
  CHECK(VerdictName(Verdict::kUpToDate) == "up_to_date");
  CHECK(VerdictName(Verdict::kUpdate) == "update");
  CHECK(VerdictName(Verdict::kRollback) == "rollback");
  CHECK(VerdictName(Verdict::kNotInRollout) == "not_in_rollout");
  CHECK(VerdictName(Verdict::kBlocked) == "blocked");
  CHECK(VerdictName(Verdict::kSteppingStoneRequired) == "stepping_stone_required");
  CHECK(VerdictName(Verdict::kRejected) == "rejected");
}

}  // namespace
}  // namespace outpost::update

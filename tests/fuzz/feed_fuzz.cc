// Fuzzes the release feed's parsers and verifier: the feed JSON (ParseFeed), the
// trusted comment (ParseTrustedComment), the minisign signature file (VerifyMinisign)
// and the whole decision (Evaluate) with a test key trusted. Nothing may crash, hang or
// read out of bounds, and a decision must be consistent: an install needs a target.
//
// Input: 2 bytes (little-endian) length of the feed part, the feed bytes, then the
// signature file's bytes.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "update/feed.h"
#include "update/minisign.h"
#include "update/update_policy.h"

namespace {

// tests/fixtures/update/test.pub (test-only key).
constexpr std::string_view kTestKey = "RWT4fKTFoj8QS6K2fw7EZ9YjPMMpG+eItnWVqEHeeqNSoUJ4zIypr/fc";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t feed_len = std::min<size_t>(size - 2, data[0] | (data[1] << 8));
  const std::string_view feed(reinterpret_cast<const char*>(data) + 2, feed_len);
  const std::string_view sig(reinterpret_cast<const char*>(data) + 2 + feed_len,
                             size - 2 - feed_len);
  using namespace outpost::update;
  (void)ParseFeed(feed, "https://updates.example.com/outpost/stable.json");
  (void)ParseTrustedComment(sig);
  static const std::vector<PublicKey> keys = [] {
    std::vector<PublicKey> k;
    auto key = ParsePublicKey(kTestKey);
    if (key.ok()) k.push_back(*key);
    return k;
  }();
  (void)VerifyMinisign(feed, sig, keys);
  EvaluateInput in;
  in.channel = "stable";
  in.feed_url = "https://updates.example.com/outpost/stable.json";
  in.running_version = "1.0.0";
  in.os = "linux";
  in.arch = "x86_64";
  in.agent_id = "fuzz";
  in.trusted_keys = keys;
  const Decision d = Evaluate(feed, sig, in);
  if (d.ShouldInstall() && !d.target) {
    std::fprintf(stderr, "a decision to install without a target\n");
    std::abort();
  }
  return 0;
}

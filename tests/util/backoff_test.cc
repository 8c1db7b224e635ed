// Retry timing: full-jitter bounds and Retry-After parsing.
#include <catch.hpp>

#include "util/backoff.h"

namespace outpost {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("full jitter stays within [0, min(max, initial * 2^attempt)]", "[util]") {
  std::mt19937_64 rng(7);
  for (int64_t attempt = 0; attempt < 40; ++attempt) {
    const int64_t ceiling = std::min<int64_t>(60000, 1000LL << std::min<int64_t>(attempt, 20));
    Duration max_seen(0);
    for (int i = 0; i < 200; ++i) {
      const Duration d = FullJitterBackoff(attempt, seconds(1), seconds(60), rng);
      CHECK(d.count() >= 0);
      CHECK(d.count() <= ceiling);
      max_seen = std::max(max_seen, d);
    }
    CHECK(max_seen.count() > ceiling / 2);  // it does spread over the range
  }
}

TEST_CASE("Retry-After in seconds and as an HTTP-date", "[util]") {
  FakeClock clock;  // 2026-01-01T00:00:00Z
  CHECK(ParseRetryAfter("2", clock.Now()) == milliseconds(2000));
  CHECK(ParseRetryAfter(" 120 ", clock.Now()) == milliseconds(120000));
  CHECK(ParseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", clock.Now()) == milliseconds(30000));
  CHECK(ParseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", clock.Now()) == milliseconds(0));
  CHECK(ParseRetryAfter("99999999999", clock.Now()) == std::chrono::hours(24));
  CHECK_FALSE(ParseRetryAfter("soon", clock.Now()).has_value());
  CHECK_FALSE(ParseRetryAfter("", clock.Now()).has_value());
  CHECK_FALSE(ParseRetryAfter("-5", clock.Now()).has_value());
  CHECK_FALSE(ParseRetryAfter("Thu, 01 Jan 2026 00:00:30 PST", clock.Now()).has_value());
}

}  // namespace
}  // namespace outpost

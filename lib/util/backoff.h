// Retry timing for the uploader: exponential backoff with full jitter, and the
// Retry-After header (seconds or HTTP-date). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

#include "util/clock.h"
#include "util/units.h"

namespace outpost {

// A delay drawn uniformly from [0, min(max, initial * 2^attempt)] ("full jitter"):
// retries of many agents spread out instead of arriving together. attempt counts from 0.
Duration FullJitterBackoff(int64_t attempt, Duration initial, Duration max, std::mt19937_64& rng);

// The wait a Retry-After value asks for, relative to `now`: "120" (seconds) or an
// HTTP-date ("Wed, 21 Oct 2026 07:28:00 GMT"; a date in the past means 0). nullopt for
// anything else. Capped at 24 hours so a hostile server cannot park the agent forever.
std::optional<Duration> ParseRetryAfter(std::string_view value, WallTime now);

}  // namespace outpost

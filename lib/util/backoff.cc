// Backoff and Retry-After; see backoff.h.
#include "util/backoff.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <string>

namespace outpost {
namespace {

constexpr Duration kRetryAfterCap = std::chrono::hours(24);

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

Duration FullJitterBackoff(int64_t attempt, Duration initial, Duration max, std::mt19937_64& rng) {
  const int64_t base = std::max<int64_t>(initial.count(), 1);
  const int64_t cap = std::max<int64_t>(max.count(), base);
  int64_t ceiling = base;
  for (int64_t i = 0; i < attempt && ceiling < cap; ++i) ceiling = std::min(cap, ceiling * 2);
  std::uniform_int_distribution<int64_t> dist(0, ceiling);
  return Duration(dist(rng));
}

std::optional<Duration> ParseRetryAfter(std::string_view value, WallTime now) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front())))
    value.remove_prefix(1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
    value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (value.size() > 9) return kRetryAfterCap;
    const int64_t secs = std::stoll(std::string(value));
    return std::min<Duration>(std::chrono::seconds(secs), kRetryAfterCap);
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::string text(value);
  char wday[4] = {}, mon[4] = {}, zone[4] = {};
  int day = 0, year = 0, h = 0, mi = 0, s = 0, n = 0;
  if (std::sscanf(text.c_str(), "%3s, %2d %3s %4d %2d:%2d:%2d %3s%n", wday, &day, mon, &year, &h,
                  &mi, &s, zone, &n) != 8 ||
      static_cast<size_t>(n) != text.size() || std::string(zone) != "GMT")
    return std::nullopt;
  unsigned month = 0;
  for (unsigned i = 0; i < kMonths.size(); ++i)
    if (std::string(mon) == kMonths[i]) month = i + 1;
  if (month == 0 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  const int64_t at_s =
      DaysFromCivil(year, month, static_cast<unsigned>(day)) * 86400 + h * 3600 + mi * 60 + s;
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const int64_t wait_ms = at_s * 1000 - now_ms;
  if (wait_ms <= 0) return Duration(0);
  return std::min<Duration>(Duration(wait_ms), kRetryAfterCap);
}

}  // namespace outpost

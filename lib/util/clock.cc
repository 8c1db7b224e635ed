#include "util/clock.h"

#include <cstdio>
#include <fstream>
#include <utility>

namespace outpost {
namespace {

constexpr int64_t kStartWallNs = 1767225600LL * 1000000000LL;  // 2026-01-01T00:00:00Z

// Days since 1970-01-01 -> civil date (Howard Hinnant's well-known algorithm,
// written from its published description).
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

}  // namespace

FakeClock::FakeClock() : wall_ns_(kStartWallNs), mono_ns_(0) {}

WallTime FakeClock::Now() const {
  return WallTime(
      std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(wall_ns_.load())));
}

MonoTime FakeClock::Monotonic() const {
  return MonoTime(
      std::chrono::duration_cast<MonoTime::duration>(std::chrono::nanoseconds(mono_ns_.load())));
}

void FakeClock::Advance(std::chrono::nanoseconds d) {
  if (d.count() < 0) return;
  wall_ns_ += d.count();
  mono_ns_ += d.count();
}

void FakeClock::JumpWall(std::chrono::nanoseconds d) { wall_ns_ += d.count(); }

void FakeClock::SetWall(WallTime t) {
  wall_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

OffsetFileClock::OffsetFileClock(std::string path, const Clock& base)
    : path_(std::move(path)), base_(base) {}

std::chrono::milliseconds OffsetFileClock::Offset() const {
  const MonoTime now = base_.Monotonic();
  std::lock_guard<std::mutex> lock(mu_);
  if (!read_once_ || now >= next_read_) {
    read_once_ = true;
    next_read_ = now + kRereadInterval;
    std::ifstream in(path_);
    long long ms = 0;
    offset_ = std::chrono::milliseconds((in >> ms) ? ms : 0);
  }
  return offset_;
}

WallTime OffsetFileClock::Now() const {
  return base_.Now() + std::chrono::duration_cast<WallTime::duration>(Offset());
}

std::string FormatRfc3339Millis(WallTime t) {
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  int64_t days = ms / 86400000;
  int64_t rem = ms % 86400000;
  if (rem < 0) {
    rem += 86400000;
    --days;
  }
  int64_t y;
  unsigned mo, d;
  CivilFromDays(days, y, mo, d);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<long long>(y),
                mo, d, static_cast<int>(rem / 3600000), static_cast<int>(rem / 60000 % 60),
                static_cast<int>(rem / 1000 % 60), static_cast<int>(rem % 1000));
  return buf;
}

}  // namespace outpost

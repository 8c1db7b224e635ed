#include <catch.hpp>

#include "util/clock.h"

namespace outpost {

using namespace std::chrono_literals;

TEST_CASE("the fake clock starts at a fixed wall time and moves only when told") {
  FakeClock clock;
  CHECK(FormatRfc3339Millis(clock.Now()) == "2026-01-01T00:00:00.000Z");
  const MonoTime m0 = clock.Monotonic();
  clock.Advance(1500ms);
  CHECK(FormatRfc3339Millis(clock.Now()) == "2026-01-01T00:00:01.500Z");
  CHECK(clock.Monotonic() - m0 == 1500ms);
}

TEST_CASE("a wall clock jump backwards leaves monotonic time alone") {
  FakeClock clock;
  const MonoTime m0 = clock.Monotonic();
  clock.JumpWall(-std::chrono::hours(24));
  CHECK(FormatRfc3339Millis(clock.Now()) == "2025-12-31T00:00:00.000Z");
  CHECK(clock.Monotonic() == m0);
  clock.Advance(-5s);  // ignored: time does not run backwards
  CHECK(clock.Monotonic() == m0);
}

TEST_CASE("RFC 3339 formatting handles leap days and times before 1970") {
  FakeClock clock;
  clock.SetWall(WallTime(std::chrono::seconds(951782400)));  // 2000-02-29
  CHECK(FormatRfc3339Millis(clock.Now()) == "2000-02-29T00:00:00.000Z");
  clock.SetWall(WallTime(std::chrono::milliseconds(-1)));
  CHECK(FormatRfc3339Millis(clock.Now()) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("the system clock's monotonic time never decreases") {
  SystemClock clock;
  MonoTime prev = clock.Monotonic();
  for (int i = 0; i < 1000; ++i) {
    const MonoTime now = clock.Monotonic();
    CHECK(now >= prev);
    prev = now;
  }
}

}  // namespace outpost

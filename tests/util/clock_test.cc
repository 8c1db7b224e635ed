#include <catch.hpp>

#include "test_files.h"
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

TEST_CASE("the offset file clock jumps the wall clock as the file says and leaves monotonic time") {
  testing::TempDir dir;
  FakeClock base;
  const auto file = dir.path() / "offset";
  OffsetFileClock clock(file.string(), base);
  // No file yet: no offset.
  CHECK(clock.Now() == base.Now());
  CHECK(clock.Monotonic() == base.Monotonic());

  dir.Write("offset", "86400000\n");  // a day forward
  // Read again only once 100 ms of monotonic time have passed.
  base.Advance(50ms);
  CHECK(clock.Now() == base.Now());
  base.Advance(50ms);
  CHECK(FormatRfc3339Millis(clock.Now()) == "2026-01-02T00:00:00.100Z");
  CHECK(clock.Offset() == std::chrono::hours(24));

  dir.Write("offset", "-3600000");  // an hour back
  base.Advance(100ms);
  CHECK(FormatRfc3339Millis(clock.Now()) == "2025-12-31T23:00:00.200Z");
  CHECK(clock.Monotonic() == base.Monotonic());

  dir.Write("offset", "not a number");  // unreadable: no offset
  base.Advance(100ms);
  CHECK(clock.Now() == base.Now());
}

}  // namespace outpost

// ResourceGovernor ([limits]): the CPU bucket with fake CPU time and a FakeClock (the
// average over a long run stays at the limit, bursts are allowed, the wait ends when
// the debt is paid), and memory pausing with hysteresis and cache release.
#include <catch.hpp>

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "collect/governor.h"

namespace outpost {
namespace {

using namespace std::chrono_literals;

struct Fake {
  FakeClock clock;
  std::chrono::nanoseconds cpu{0};
  uint64_t rss = 0;
  int releases = 0;

  ResourceGovernor::Probes Probes() {
    ResourceGovernor::Probes p;
    p.cpu_time = [this] { return cpu; };
    p.rss_bytes = [this] { return rss; };
    p.release_memory = [this] { ++releases; };
    return p;
  }
};

LimitsConfig Limits(int64_t cpu_percent, uint64_t memory = 0) {
  LimitsConfig l;
  l.max_cpu_percent = cpu_percent;
  l.max_memory = memory;
  return l;
}

TEST_CASE("governor: no limits never holds anything back", "[governor]") {
  Fake f;
  ResourceGovernor g(Limits(0), f.clock, f.Probes());
  CHECK_FALSE(g.enabled());
  f.cpu += 10s;  // whatever the process burns
  f.rss = 1ULL << 40;
  CHECK_FALSE(g.MustWait());
  CHECK_FALSE(g.ResumeAt().has_value());
}

TEST_CASE("governor: a burst within one second's budget runs at full speed", "[governor]") {
  Fake f;
  ResourceGovernor g(Limits(50), f.clock, f.Probes());
  // 50%: the bucket starts full with 500 ms of CPU and holds no more than that.
  f.cpu += 300ms;
  f.clock.Advance(300ms);  // busy at 100% for 0.3 s: 500 - 300 = 200 left
  CHECK_FALSE(g.MustWait());
  f.cpu += 300ms;
  f.clock.Advance(300ms);  // 200 + 150 earned - 300 = 50 left
  CHECK_FALSE(g.MustWait());
  f.cpu += 300ms;
  f.clock.Advance(300ms);
  // 50 + 150 - 300 = 100 ms in debt, paid back at 0.5 in 200 ms.
  REQUIRE(g.MustWait());
  CHECK(g.cpu_throttled());
  REQUIRE(g.ResumeAt().has_value());
  const auto wait = *g.ResumeAt() - f.clock.Monotonic();
  CHECK(wait >= 199ms);
  CHECK(wait <= 201ms);
  f.clock.Advance(100ms);
  CHECK(g.MustWait());  // half paid
  f.clock.Advance(101ms);
  CHECK_FALSE(g.MustWait());
  CHECK(g.cpu_waits() == 1);
  CHECK(g.cpu_wait_total() >= 200ms);
}

TEST_CASE("governor: over a long busy run the CPU used averages out at the limit", "[governor]") {
  for (int percent : {10, 25, 50, 150}) {
    Fake f;
    ResourceGovernor g(Limits(percent), f.clock, f.Probes());
    // A reader that burns CPU for 5 ms whenever it may run, and is otherwise woken at
    // the moment the governor names (as the pipeline's loop does), for 120 s.
    const auto start = f.clock.Monotonic();
    const auto end = start + 120s;
    while (f.clock.Monotonic() < end) {
      if (g.MustWait()) {
        f.clock.Advance(*g.ResumeAt() - f.clock.Monotonic());
        continue;
      }
      // Single-threaded work: 5 ms of CPU in 5 ms of wall time; with several threads
      // (percent > 100) CPU runs faster than the wall clock.
      const auto step = 5ms;
      f.cpu += percent > 100 ? step * 2 : step;
      f.clock.Advance(step);
    }
    const double secs = std::chrono::duration<double>(f.clock.Monotonic() - start).count();
    const double used = std::chrono::duration<double>(f.cpu).count();
    const double share = used / secs * 100.0;
    INFO("limit " << percent << "%, used " << share << "%");
    // At most the limit plus the one-second burst spread over the run, and not far below.
    CHECK(share <= percent * (1.0 + 1.0 / 120.0) + 0.5);
    CHECK(share >= percent * 0.95);
  }
}

TEST_CASE("governor: CPU time that goes backwards is not a credit", "[governor]") {
  Fake f;
  f.cpu = 10s;
  ResourceGovernor g(Limits(10), f.clock, f.Probes());
  f.cpu = 1s;  // a probe glitch
  f.clock.Advance(1ms);
  CHECK_FALSE(g.MustWait());
  f.cpu = 10s + 150ms;  // 150 ms beyond the highest value seen; budget 100 ms + 0.2 ms
  f.clock.Advance(1ms);
  CHECK(g.MustWait());
}

TEST_CASE("governor: memory above the limit pauses until under 90%, releasing caches",
          "[governor]") {
  Fake f;
  const uint64_t limit = 64ULL << 20;
  ResourceGovernor g(Limits(0, limit), f.clock, f.Probes());
  f.rss = 40ULL << 20;
  CHECK_FALSE(g.MustWait());
  CHECK(g.TakeMemoryNotice().empty());
  f.rss = 70ULL << 20;
  CHECK_FALSE(g.MustWait());  // sampled at most once per second
  f.clock.Advance(1s);
  REQUIRE(g.MustWait());
  CHECK(g.memory_over());
  CHECK(f.releases == 1);
  const std::string notice = g.TakeMemoryNotice();
  CHECK(notice.find("above limits.max_memory") != std::string::npos);
  CHECK(notice.find("(64MiB)") != std::string::npos);
  REQUIRE(g.ResumeAt().has_value());
  CHECK(*g.ResumeAt() == f.clock.Monotonic() + 1s);
  // Under the limit but above 90% of it: still paused, caches released again.
  f.rss = 60ULL << 20;
  f.clock.Advance(1s);
  CHECK(g.MustWait());
  CHECK(f.releases == 2);
  f.rss = 57ULL << 20;  // < 57.6 MiB
  f.clock.Advance(1s);
  CHECK_FALSE(g.MustWait());
  CHECK(g.TakeMemoryNotice().find("back under") != std::string::npos);
  CHECK(f.releases == 2);
}

TEST_CASE("governor: an OS that does not report memory never pauses", "[governor]") {
  Fake f;
  ResourceGovernor g(Limits(0, 32ULL << 20), f.clock, f.Probes());
  f.rss = 0;
  f.clock.Advance(5s);
  CHECK_FALSE(g.MustWait());
}

TEST_CASE("governor: status JSON", "[governor]") {
  Fake f;
  ResourceGovernor g(Limits(20, 128ULL << 20), f.clock, f.Probes());
  f.rss = 200ULL << 20;
  f.cpu += 1s;
  f.clock.Advance(1s);
  const uint64_t v0 = g.status_version();
  REQUIRE(g.MustWait());
  CHECK(g.status_version() != v0);
  const nlohmann::json j = nlohmann::json::parse(g.StatusJson());
  CHECK(j["max_cpu_percent"] == 20);
  CHECK(j["cpu_throttled"] == true);
  CHECK(j["cpu_waits"] == 1);
  CHECK(j["max_memory"] == 128ULL << 20);
  CHECK(j["rss_bytes"] == 200ULL << 20);
  CHECK(j["memory_over"] == true);
}

}  // namespace
}  // namespace outpost

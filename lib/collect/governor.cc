// The [limits] governor; see governor.h.
#include "collect/governor.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "outpost/platform/system.h"
#include "util/units.h"

namespace outpost {

namespace {

// Memory is sampled at most this often (reading /proc/self/statm is a file read).
constexpr Duration kMemorySampleInterval = std::chrono::seconds(1);
// The CPU bucket holds at most this much wall time's worth of budget: a burst as long
// as this runs at full speed.
constexpr std::chrono::nanoseconds kCpuBurstWindow = std::chrono::seconds(1);
// Sources resume when resident memory is back under this share of max_memory.
constexpr double kMemoryResumeShare = 0.9;

}  // namespace

ResourceGovernor::Probes ResourceGovernor::ProcessProbes() {
  Probes p;
  p.cpu_time = [] { return platform::ProcessCpuTime(); };
  p.rss_bytes = [] { return platform::ProcessResidentBytes(); };
  // Tests: the resident size is read from this file instead (a decimal byte count), so
  // an integration test can push the agent over max_memory and back.
  if (const char* file = std::getenv("OUTPOST_TEST_RSS_FILE"); file != nullptr && *file) {
    p.rss_bytes = [path = std::string(file)]() -> uint64_t {
      std::ifstream in(path);
      unsigned long long v = 0;
      return (in >> v) ? static_cast<uint64_t>(v) : 0;
    };
  }
  p.release_memory = [] { platform::ReleaseFreeMemory(); };
  return p;
}

ResourceGovernor::ResourceGovernor(const LimitsConfig& limits, const Clock& clock, Probes probes)
    : limits_(limits), clock_(clock), probes_(std::move(probes)) {
  rate_ = static_cast<double>(limits_.max_cpu_percent) / 100.0;
  burst_ns_ = rate_ * static_cast<double>(kCpuBurstWindow.count());
  tokens_ns_ = burst_ns_;
  last_wall_ = clock_.Monotonic();
  if (cpu_limited() && probes_.cpu_time) last_cpu_ = probes_.cpu_time();
  next_memory_sample_ = last_wall_;
}

void ResourceGovernor::Update() {
  const MonoTime now = clock_.Monotonic();
  if (cpu_limited() && probes_.cpu_time) ChargeCpu(now);
  if (memory_limited() && probes_.rss_bytes && now >= next_memory_sample_) SampleMemory(now);
}

bool ResourceGovernor::MustWait() {
  if (!enabled()) return false;
  Update();
  return cpu_throttled_ || memory_over_;
}

std::optional<MonoTime> ResourceGovernor::ResumeAt() const {
  std::optional<MonoTime> at;
  if (cpu_throttled_) at = cpu_resume_at_;
  if (memory_over_ && (!at || next_memory_sample_ < *at)) at = next_memory_sample_;
  return at;
}

void ResourceGovernor::ChargeCpu(MonoTime now) {
  const std::chrono::nanoseconds cpu = probes_.cpu_time();
  const double used = static_cast<double>(std::max<int64_t>(0, (cpu - last_cpu_).count()));
  const double elapsed = static_cast<double>(std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_wall_).count()));
  last_cpu_ = std::max(cpu, last_cpu_);
  last_wall_ = now;
  tokens_ns_ = std::min(tokens_ns_ + elapsed * rate_, burst_ns_) - used;
  const bool throttled = tokens_ns_ < 0;
  if (throttled) {
    // The debt is paid back at `rate_` CPU ns per wall ns.
    const auto wait = std::chrono::nanoseconds(static_cast<int64_t>(-tokens_ns_ / rate_) + 1);
    cpu_resume_at_ = now + std::chrono::duration_cast<MonoTime::duration>(wait);
  }
  if (throttled && !cpu_throttled_) {
    ++cpu_waits_;
    throttled_since_ = now;
    ++status_version_;
  } else if (!throttled && cpu_throttled_) {
    cpu_wait_total_ += std::chrono::duration_cast<std::chrono::nanoseconds>(now - throttled_since_);
    ++status_version_;
  }
  cpu_throttled_ = throttled;
}

void ResourceGovernor::SampleMemory(MonoTime now) {
  next_memory_sample_ = now + kMemorySampleInterval;
  const uint64_t rss = probes_.rss_bytes();
  last_rss_ = rss;
  if (rss == 0) return;  // the OS does not say: no pausing on a guess
  const uint64_t limit = limits_.max_memory;
  if (!memory_over_ && rss > limit) {
    memory_over_ = true;
    ++status_version_;
    memory_notice_ = "memory use " + FormatBytes(rss) + " is above limits.max_memory (" +
                     FormatSize(limit) + "): sources pause and caches are released";
  } else if (memory_over_ &&
             static_cast<double>(rss) < static_cast<double>(limit) * kMemoryResumeShare) {
    memory_over_ = false;
    ++status_version_;
    memory_notice_ = "memory use " + FormatBytes(rss) + " is back under limits.max_memory (" +
                     FormatSize(limit) + "): sources resume";
  }
  if (memory_over_ && probes_.release_memory) probes_.release_memory();
}

std::string ResourceGovernor::TakeMemoryNotice() {
  std::string notice;
  notice.swap(memory_notice_);
  return notice;
}

std::string ResourceGovernor::StatusJson() const {
  nlohmann::json j;
  j["max_cpu_percent"] = limits_.max_cpu_percent;
  j["cpu_throttled"] = cpu_throttled_;
  j["cpu_waits"] = cpu_waits_;
  j["cpu_wait_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(cpu_wait_total_).count();
  j["max_memory"] = limits_.max_memory;
  j["rss_bytes"] = last_rss_;
  j["memory_over"] = memory_over_;
  return j.dump();
}

}  // namespace outpost

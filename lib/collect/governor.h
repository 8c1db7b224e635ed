// ResourceGovernor: keeps `outpost run` within [limits] (max_cpu_percent, max_memory)
// by slowing the sources down, never by dropping data.
//
// CPU is a token bucket over the process's CPU time (every thread: reading, sealing,
// compression, uploads, checks): the budget fills at max_cpu_percent of one core per
// second of wall time and holds at most one second's worth, so a short burst runs at
// full speed and a sustained load averages out at the limit. The pipeline asks the
// governor before each read; when the bucket is empty reading waits (the loop sleeps in
// the kernel until the bucket is back at zero) and the data waits in the files and the
// journal, which is what a source does anyway when the buffer is full.
//
// Memory is sampled at most once per second: above max_memory the sources pause, the
// owner is asked to release caches (SQLite pages, free heap), and they resume below 90%
// of the limit.
//
// Both probes and the clock are injected, so tests drive the governor with fake CPU
// time and RSS. Not thread-safe: the pipeline's thread owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "config/config.h"
#include "util/clock.h"

namespace outpost {

class ResourceGovernor {
 public:
  struct Probes {
    std::function<std::chrono::nanoseconds()> cpu_time;  // the process's CPU time so far
    std::function<uint64_t()> rss_bytes;                 // resident memory; 0 when unknown
    std::function<void()> release_memory;                // gives caches back (may be empty)
  };

  // Probes of this process (platform/system.h).
  static Probes ProcessProbes();

  ResourceGovernor(const LimitsConfig& limits, const Clock& clock, Probes probes);

  bool enabled() const { return cpu_limited() || memory_limited(); }
  bool cpu_limited() const { return limits_.max_cpu_percent > 0; }
  bool memory_limited() const { return limits_.max_memory > 0; }

  // Charges the CPU used since the last call and samples memory when due. Cheap enough
  // to call before every read (one clock_gettime; the RSS read once per second).
  void Update();

  // True while reading must wait. Calls Update() itself.
  bool MustWait();

  // When reading may go on (the CPU bucket back at zero, or the next memory sample);
  // nullopt when nothing waits.
  std::optional<MonoTime> ResumeAt() const;

  bool cpu_throttled() const { return cpu_throttled_; }
  bool memory_over() const { return memory_over_; }
  // Times reading had to wait for CPU, and total wall time spent waiting.
  uint64_t cpu_waits() const { return cpu_waits_; }
  std::chrono::nanoseconds cpu_wait_total() const { return cpu_wait_total_; }
  uint64_t last_rss() const { return last_rss_; }
  // Changes whenever what StatusJson shows changed (not on every CPU charge).
  uint64_t status_version() const { return status_version_; }
  // {"max_cpu_percent":..,"cpu_throttled":..,"cpu_waits":..,"max_memory":..,
  //  "rss_bytes":..,"memory_over":..} as JSON text.
  std::string StatusJson() const;

  // A line for the log when the memory state changed at the last Update(), else empty.
  std::string TakeMemoryNotice();

 private:
  void ChargeCpu(MonoTime now);
  void SampleMemory(MonoTime now);

  LimitsConfig limits_;
  const Clock& clock_;
  Probes probes_;
  // CPU bucket, in nanoseconds of CPU time; negative: in debt.
  double tokens_ns_ = 0;
  double rate_ = 0;  // CPU ns granted per wall ns
  double burst_ns_ = 0;
  std::chrono::nanoseconds last_cpu_{};
  MonoTime last_wall_{};
  bool cpu_throttled_ = false;
  MonoTime throttled_since_{};
  MonoTime cpu_resume_at_{};
  uint64_t cpu_waits_ = 0;
  std::chrono::nanoseconds cpu_wait_total_{};
  bool memory_over_ = false;
  uint64_t last_rss_ = 0;
  MonoTime next_memory_sample_{};
  std::string memory_notice_;
  uint64_t status_version_ = 0;
};

}  // namespace outpost

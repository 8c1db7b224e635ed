// Clock: the seam through which all of outpost reads time.
//
// lib/ never calls std::chrono::system_clock::now() directly; it is handed a Clock,
// so tests can jump the wall clock forwards and backwards (FakeClock) without
// sleeping. Wall time ("real") stamps records; monotonic time drives timers,
// backoff and ages, and never goes backwards. Both implementations are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace outpost {

using WallTime = std::chrono::system_clock::time_point;
using MonoTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime Now() const = 0;        // real (wall) time, may jump
  virtual MonoTime Monotonic() const = 0;  // never decreases
};

// The process's real clocks.
class SystemClock final : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  MonoTime Monotonic() const override { return std::chrono::steady_clock::now(); }
};

// A clock moved by hand. Starts at 2026-01-01T00:00:00Z wall time.
class FakeClock final : public Clock {
 public:
  FakeClock();
  WallTime Now() const override;
  MonoTime Monotonic() const override;

  // Moves both clocks forward by `d` (d >= 0).
  void Advance(std::chrono::nanoseconds d);
  // Moves only the wall clock, forwards or backwards (a clock jump); the
  // monotonic clock is untouched, as on a real machine.
  void JumpWall(std::chrono::nanoseconds d);
  void SetWall(WallTime t);

 private:
  std::atomic<int64_t> wall_ns_;
  std::atomic<int64_t> mono_ns_;
};

// Tests only (OUTPOST_TEST_CLOCK_FILE, set up in app/): `base`'s wall time shifted by
// an offset in milliseconds read from a file (a decimal integer, may be negative), so
// a test can jump the wall clock of the real binary forwards and back. The file is
// read again at most every 100 ms of `base`'s monotonic time; a missing or unreadable
// file means offset 0. Monotonic time is `base`'s, untouched. Thread-safe; `base` must
// outlive it.
class OffsetFileClock final : public Clock {
 public:
  static constexpr std::chrono::milliseconds kRereadInterval{100};

  OffsetFileClock(std::string path, const Clock& base);
  WallTime Now() const override;
  MonoTime Monotonic() const override { return base_.Monotonic(); }

  // The offset in force now (reads the file if it is due).
  std::chrono::milliseconds Offset() const;

 private:
  std::string path_;
  const Clock& base_;
  mutable std::mutex mu_;
  mutable bool read_once_ = false;
  mutable MonoTime next_read_{};
  mutable std::chrono::milliseconds offset_{0};
};

// RFC 3339 UTC with milliseconds: "2026-01-01T00:00:00.000Z".
std::string FormatRfc3339Millis(WallTime t);

}  // namespace outpost

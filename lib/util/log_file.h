// The agent's own log file (agent.log_file in the state dir): every record the logger
// writes, also appended to a file that rotates by size, so an agent left running for
// years on a machine nobody watches keeps a bounded, readable history of itself.
//
// Rotation: when a record would take the file past max_bytes, <file> becomes <file>.1,
// <file>.1 becomes <file>.2 ... up to <file>.<keep> (the oldest is dropped), and a new
// <file> is started. A file that cannot be opened or written costs its records only:
// the other sink (stderr) still gets them, and opening is tried again after a minute.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <mutex>

#include "util/logger.h"

namespace outpost {

class RotatingFileLogSink final : public LogSink {
 public:
  RotatingFileLogSink(std::filesystem::path path, uint64_t max_bytes, int keep, LogFormat format);
  ~RotatingFileLogSink() override;
  RotatingFileLogSink(const RotatingFileLogSink&) = delete;
  RotatingFileLogSink& operator=(const RotatingFileLogSink&) = delete;

  void Write(const LogRecord& record) override;

  const std::filesystem::path& path() const { return path_; }

 private:
  bool Open(int64_t now_ms);
  void Rotate();

  std::filesystem::path path_;
  uint64_t max_bytes_;
  int keep_;
  LogFormat format_;
  std::mutex mu_;
  std::FILE* file_ = nullptr;
  uint64_t size_ = 0;
  int64_t retry_at_ms_ = 0;
};

// Writes every record to two sinks (neither owned).
class TeeLogSink final : public LogSink {
 public:
  TeeLogSink(LogSink* a, LogSink* b) : a_(a), b_(b) {}
  void Write(const LogRecord& record) override {
    if (a_) a_->Write(record);
    if (b_) b_->Write(record);
  }

 private:
  LogSink* a_;
  LogSink* b_;
};

}  // namespace outpost

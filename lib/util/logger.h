// Logger: leveled, component-tagged logging for everything below app/.
//
// lib/ never writes to stdout or stderr itself; it is handed a Logger, built in app/
// with a sink (STYLE.md rule 18). Sinks format a record as a human line
// ("2026-01-01T00:00:00.000Z WARN  config: message", ANSI colours on a terminal) or as
// one JSON object per line (--log-format json). Logger and the sinks here are
// thread-safe; a sink that fails to write drops the line rather than throwing.
#pragma once

#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "util/clock.h"

namespace outpost {

enum class LogLevel { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };
enum class LogFormat { kText, kJson };

// "trace", "debug", "info", "warn", "error", "off"; nullopt for anything else.
std::optional<LogLevel> ParseLogLevel(std::string_view name);
std::string_view LogLevelName(LogLevel level);
std::optional<LogFormat> ParseLogFormat(std::string_view name);

struct LogRecord {
  WallTime time;
  LogLevel level;
  std::string_view component;
  std::string_view message;
};

class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(const LogRecord& record) = 0;
};

// Writes to a C stream (not owned), one line per record, flushed at once.
class StreamLogSink final : public LogSink {
 public:
  StreamLogSink(std::FILE* stream, LogFormat format, bool color);
  void Write(const LogRecord& record) override;

 private:
  std::FILE* stream_;
  LogFormat format_;
  bool color_;
  std::mutex mu_;
};

// Formats one record as the sinks do, without a trailing newline. Exposed for tests.
std::string FormatLogRecord(const LogRecord& record, LogFormat format, bool color);

class Logger {
 public:
  // `sink` may be null: everything is discarded. Neither pointer is owned.
  Logger(LogSink* sink, const Clock* clock, LogLevel min_level);

  // A logger that discards everything; handy default for tests.
  static Logger& Discard();

  bool Enabled(LogLevel level) const {
    return sink_ && level >= min_level_ && level != LogLevel::kOff;
  }
  void Log(LogLevel level, std::string_view component, std::string_view message) const;
  void set_min_level(LogLevel level) { min_level_ = level; }
  // Changes where records go (before other threads log).
  void set_sink(LogSink* sink) { sink_ = sink; }
  LogLevel min_level() const { return min_level_; }

 private:
  LogSink* sink_;
  const Clock* clock_;
  LogLevel min_level_;
};

// A Logger bound to one component name, as each part of lib/ holds it.
class ComponentLogger {
 public:
  ComponentLogger(const Logger& logger, std::string_view component)
      : logger_(&logger), component_(component) {}
  void Debug(std::string_view m) const { logger_->Log(LogLevel::kDebug, component_, m); }
  void Info(std::string_view m) const { logger_->Log(LogLevel::kInfo, component_, m); }
  void Warn(std::string_view m) const { logger_->Log(LogLevel::kWarn, component_, m); }
  void Error(std::string_view m) const { logger_->Log(LogLevel::kError, component_, m); }

 private:
  const Logger* logger_;
  std::string component_;
};

}  // namespace outpost

#include "util/logger.h"

#include "util/json_text.h"

namespace outpost {
namespace {

class DiscardSink final : public LogSink {
 public:
  void Write(const LogRecord&) override {}
};

std::string_view PaddedName(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "TRACE";
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO ";
    case LogLevel::kWarn:
      return "WARN ";
    case LogLevel::kError:
      return "ERROR";
    case LogLevel::kOff:
      break;
  }
  return "OFF  ";
}

std::string_view Colour(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
    case LogLevel::kDebug:
      return "\x1b[2m";  // dim
    case LogLevel::kInfo:
      return "\x1b[32m";  // green
    case LogLevel::kWarn:
      return "\x1b[33m";  // yellow
    case LogLevel::kError:
      return "\x1b[31m";  // red
    case LogLevel::kOff:
      break;
  }
  return "";
}

}  // namespace

std::optional<LogLevel> ParseLogLevel(std::string_view name) {
  if (name == "trace") return LogLevel::kTrace;
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn" || name == "warning") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  if (name == "off") return LogLevel::kOff;
  return std::nullopt;
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      return "off";
  }
  return "off";
}

std::optional<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return std::nullopt;
}

std::string FormatLogRecord(const LogRecord& r, LogFormat format, bool color) {
  std::string line;
  const std::string ts = FormatRfc3339Millis(r.time);
  if (format == LogFormat::kJson) {
    line += "{\"@timestamp\":\"" + ts + "\",\"level\":\"";
    line += LogLevelName(r.level);
    line += "\",\"component\":";
    AppendJsonString(line, r.component);
    line += ",\"message\":";
    AppendJsonString(line, r.message);
    line += "}";
    return line;
  }
  line += ts;
  line += ' ';
  if (color) line += Colour(r.level);
  line += PaddedName(r.level);
  if (color) line += "\x1b[0m";
  line += ' ';
  line += r.component;
  line += ": ";
  line += r.message;
  return line;
}

StreamLogSink::StreamLogSink(std::FILE* stream, LogFormat format, bool color)
    : stream_(stream), format_(format), color_(color && format == LogFormat::kText) {}

void StreamLogSink::Write(const LogRecord& record) {
  std::string line = FormatLogRecord(record, format_, color_);
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line.data(), 1, line.size(), stream_);
  std::fflush(stream_);
}

Logger::Logger(LogSink* sink, const Clock* clock, LogLevel min_level)
    : sink_(sink), clock_(clock), min_level_(min_level) {}

Logger& Logger::Discard() {
  static DiscardSink sink;
  static SystemClock clock;
  static Logger logger(&sink, &clock, LogLevel::kOff);
  return logger;
}

void Logger::Log(LogLevel level, std::string_view component, std::string_view message) const {
  if (!Enabled(level)) return;
  const WallTime now = clock_ ? clock_->Now() : std::chrono::system_clock::now();
  sink_->Write(LogRecord{now, level, component, message});
}

}  // namespace outpost

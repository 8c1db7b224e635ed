#include <catch.hpp>

#include <vector>

#include "util/logger.h"

namespace outpost {
namespace {

class CapturingSink final : public LogSink {
 public:
  void Write(const LogRecord& r) override {
    lines.push_back(FormatLogRecord(r, LogFormat::kText, false));
    json.push_back(FormatLogRecord(r, LogFormat::kJson, false));
  }
  std::vector<std::string> lines;
  std::vector<std::string> json;
};

}  // namespace

TEST_CASE("the logger drops records below its level and tags the rest with the component") {
  CapturingSink sink;
  FakeClock clock;
  Logger logger(&sink, &clock, LogLevel::kWarn);
  ComponentLogger log(logger, "config");
  log.Info("not shown");
  log.Warn("shown");
  log.Error("also shown");
  REQUIRE(sink.lines.size() == 2);
  CHECK(sink.lines[0] == "2026-01-01T00:00:00.000Z WARN  config: shown");
  CHECK(sink.lines[1] == "2026-01-01T00:00:00.000Z ERROR config: also shown");
}

TEST_CASE("JSON log lines are valid JSON with escaped messages") {
  CapturingSink sink;
  FakeClock clock;
  Logger logger(&sink, &clock, LogLevel::kDebug);
  logger.Log(LogLevel::kInfo, "ship", "said \"hi\"\n");
  REQUIRE(sink.json.size() == 1);
  CHECK(sink.json[0] ==
        "{\"@timestamp\":\"2026-01-01T00:00:00.000Z\",\"level\":\"info\",\"component\":\"ship\","
        "\"message\":\"said \\\"hi\\\"\\n\"}");
}

TEST_CASE("colour codes appear only when asked for") {
  LogRecord r{WallTime(), LogLevel::kError, "x", "m"};
  CHECK(FormatLogRecord(r, LogFormat::kText, true).find("\x1b[31m") != std::string::npos);
  CHECK(FormatLogRecord(r, LogFormat::kText, false).find('\x1b') == std::string::npos);
}

TEST_CASE("level names parse both ways and 'off' silences everything") {
  for (LogLevel l : {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn,
                     LogLevel::kError, LogLevel::kOff})
    CHECK(ParseLogLevel(LogLevelName(l)) == l);
  CHECK_FALSE(ParseLogLevel("loud").has_value());
  CapturingSink sink;
  Logger logger(&sink, nullptr, LogLevel::kOff);
  logger.Log(LogLevel::kError, "x", "y");
  CHECK(sink.lines.empty());
  Logger::Discard().Log(LogLevel::kError, "x", "nothing happens");
}

}  // namespace outpost

// The agent's own log file: records appended, rotation by size into .1 .. .keep with
// the oldest dropped, and a file that cannot be opened costs nothing but its records.
#include <catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "test_files.h"
#include "util/clock.h"
#include "util/log_file.h"

namespace outpost {
namespace {

using testing::TempDir;

std::string Read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("the log file gets every record and rotates by size, keeping `keep` old files") {
  TempDir dir;
  const std::filesystem::path file = dir.path() / "agent.log";
  RotatingFileLogSink sink(file, 300, 2, LogFormat::kText);
  FakeClock clock;
  Logger logger(&sink, &clock, LogLevel::kInfo);
  ComponentLogger log(logger, "t");
  for (int i = 0; i < 40; ++i) log.Info("record number " + std::to_string(i));
  REQUIRE(std::filesystem::exists(file));
  CHECK(std::filesystem::exists(dir.path() / "agent.log.1"));
  CHECK(std::filesystem::exists(dir.path() / "agent.log.2"));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "agent.log.3"));
  for (const char* name : {"agent.log", "agent.log.1", "agent.log.2"})
    CHECK(std::filesystem::file_size(dir.path() / name) <= 300);
  const std::string newest = Read(file);
  CHECK(newest.find("record number 39\n") != std::string::npos);
  // .1 holds the records just before the current file's, .2 the ones before those.
  const std::string older = Read(dir.path() / "agent.log.1");
  const std::string oldest = Read(dir.path() / "agent.log.2");
  CHECK_FALSE(older.empty());
  CHECK(oldest.find("record number 0\n") == std::string::npos);  // dropped
  CHECK(older.find("INFO  t: record number") != std::string::npos);
}

TEST_CASE("an existing log file is appended to and its size counts") {
  TempDir dir;
  const std::filesystem::path file = dir.path() / "agent.log";
  std::ofstream(file, std::ios::binary) << std::string(250, 'x') << "\n";
  RotatingFileLogSink sink(file, 300, 1, LogFormat::kText);
  FakeClock clock;
  Logger logger(&sink, &clock, LogLevel::kInfo);
  ComponentLogger(logger, "t").Info("a record long enough to pass the three hundred bytes");
  CHECK(Read(dir.path() / "agent.log.1").size() == 251);
  CHECK(Read(file).find("a record long enough") != std::string::npos);
}

TEST_CASE("a log file that cannot be opened drops its records and nothing else") {
  TempDir dir;
  RotatingFileLogSink sink(dir.path() / "no-such-dir" / "agent.log", 1000, 1, LogFormat::kText);
  FakeClock clock;
  Logger logger(&sink, &clock, LogLevel::kInfo);
  ComponentLogger(logger, "t").Info("lost");
  CHECK_FALSE(std::filesystem::exists(dir.path() / "no-such-dir"));
}

}  // namespace outpost

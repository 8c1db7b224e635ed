// `log stream --style ndjson` parsing (lib/collect/unified_log_ndjson.h) on recorded
// lines (tests/fixtures/macos/unified_log.ndjson): entries, the banner and the closing
// line of `log`, garbage, lines split anywhere, huge lines and deep nesting.
#include <catch.hpp>
#include "source_dir.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "collect/unified_log_ndjson.h"

namespace outpost {
namespace {

std::string Fixture() {
  std::ifstream in(std::string(OUTPOST_SOURCE_DIR) + "/tests/fixtures/macos/unified_log.ndjson",
                   std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int64_t Micros(WallTime t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

nlohmann::json Record(const UnifiedLogEntry& e, uint64_t max_message_bytes = 64 << 10) {
  RecordEncoder encoder(
      RecordContext{"mac1", "agent-1", "unified", "unifiedlog", {{"team", "it"}}});
  std::string out;
  AppendUnifiedLogRecord(encoder, out, e, max_message_bytes,
                         WallTime(std::chrono::milliseconds(1000)));
  REQUIRE(!out.empty());
  REQUIRE(out.back() == '\n');
  REQUIRE(out.find('\n') == out.size() - 1);
  return nlohmann::json::parse(out);
}

TEST_CASE("unified log: the fixture's entries, ignored lines and garbage", "[unifiedlog]") {
  UnifiedLogReader reader;
  std::vector<UnifiedLogEntry> entries;
  reader.Feed(Fixture(), entries);
  reader.Finish(entries);
  REQUIRE(entries.size() == 6);
  CHECK(reader.entries() == 6);
  CHECK(reader.ignored() == 3);  // the banner, a blank line, {"count":7,"finished":1}
  CHECK(reader.garbage() == 4);  // a cut line, binary bytes, an array, an object without fields
  CHECK(reader.oversized() == 0);

  const UnifiedLogEntry& a = entries[0];
  CHECK(a.message == "Volume update from PID = 8484 Control ID = 262");
  CHECK(a.message_type == "Default");
  CHECK(a.event_type == "logEvent");
  CHECK(a.subsystem == "com.apple.bluetooth");
  CHECK(a.category == "BTAudio");
  CHECK(a.process_path == "/usr/sbin/coreaudiod");
  CHECK(a.pid == 342);
  CHECK(a.thread_id == 46308219u);
  CHECK(a.trace_id == 5073052195487748u);
  REQUIRE(a.time);
  // 2026-10-07 10:19:55.713745 at +08:00 is 02:19:55.713745 UTC.
  CHECK(Micros(*a.time) == 1791339595713745);

  const UnifiedLogEntry& b = entries[1];
  CHECK(b.message ==
        "sshd[991]: Failed password for root from 192.0.2.7\nsecond line "
        "\xC3\xA9\xE2\x80\x94\xF0\x9F\x98\x80");
  CHECK(b.trace_id == UINT64_MAX);
  REQUIRE(b.time);
  CHECK(Micros(*b.time) == 1791357601000001);  // -05:00

  CHECK(entries[2].message_type == "Fault");
  CHECK(entries[2].pid == 0);
  // Wrong types are left out, not guessed.
  CHECK(entries[3].event_type == "activityCreateEvent");
  CHECK(!entries[3].pid);
  CHECK(!entries[3].thread_id);
  CHECK(!entries[4].time);  // "yesterday at noon"
  CHECK(entries[4].message == "bad time");
  CHECK(entries[5].event_type == "signpostEvent");  // the line ended with "\r\n"
  CHECK(entries[5].pid == 4242);
}

TEST_CASE("unified log: records", "[unifiedlog]") {
  UnifiedLogReader reader;
  std::vector<UnifiedLogEntry> entries;
  reader.Feed(Fixture(), entries);
  REQUIRE(entries.size() == 6);

  const nlohmann::json r = Record(entries[0]);
  CHECK(r["@timestamp"] == "2026-10-07T02:19:55.713Z");
  CHECK(r["host"] == "mac1");
  CHECK(r["source"] == "unifiedlog");
  CHECK(r["message"] == "Volume update from PID = 8484 Control ID = 262");
  CHECK(r["level"] == "default");
  CHECK(r["event_type"] == "logEvent");
  CHECK(r["subsystem"] == "com.apple.bluetooth");
  CHECK(r["category"] == "BTAudio");
  CHECK(r["process"] == "coreaudiod");
  CHECK(r["process_path"] == "/usr/sbin/coreaudiod");
  CHECK(r["pid"] == 342);
  CHECK(r["sender"] == "BTAudioHALPlugin");
  CHECK(r["thread_id"] == 46308219);
  CHECK(r["trace_id"] == 5073052195487748u);
  CHECK(r["log_timestamp"] == "2026-10-07 10:19:55.713745+0800");
  CHECK(r["team"] == "it");
  CHECK(!r.contains("truncated"));

  const nlohmann::json big = Record(entries[1]);
  CHECK(big["trace_id"].get<uint64_t>() == UINT64_MAX);
  CHECK(big["level"] == "error");
  CHECK(big["message"].get<std::string>().find("\nsecond line") != std::string::npos);

  // Absent fields are left out; a bad time falls back to the agent's clock.
  const nlohmann::json bad_time = Record(entries[4]);
  CHECK(bad_time["@timestamp"] == "1970-01-01T00:00:01.000Z");
  CHECK(!bad_time.contains("subsystem"));
  CHECK(!bad_time.contains("pid"));
  CHECK(bad_time["level"] == "info");
  const nlohmann::json activity = Record(entries[3]);
  CHECK(activity["message"] == "");
  CHECK(!activity.contains("level"));
}

TEST_CASE("unified log: a long message is cut at a character boundary", "[unifiedlog]") {
  UnifiedLogEntry e;
  // "é" is two bytes: a cut at an odd byte count must not split it.
  for (int i = 0; i < 1000; ++i) e.message += "\xC3\xA9";
  const nlohmann::json r = Record(e, 101);
  CHECK(r["truncated"] == true);
  CHECK(r["message"].get<std::string>().size() == 100);
}

TEST_CASE("unified log: input split anywhere reads the same", "[unifiedlog]") {
  const std::string all = Fixture();
  UnifiedLogReader whole;
  std::vector<UnifiedLogEntry> expected;
  whole.Feed(all, expected);
  for (const size_t step : {size_t{1}, size_t{7}, size_t{64}}) {
    UnifiedLogReader reader;
    std::vector<UnifiedLogEntry> got;
    for (size_t at = 0; at < all.size(); at += step)
      reader.Feed(std::string_view(all).substr(at, step), got);
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) CHECK(got[i].message == expected[i].message);
    CHECK(reader.garbage() == whole.garbage());
    CHECK(reader.ignored() == whole.ignored());
  }
}

TEST_CASE("unified log: huge lines are skipped without being buffered", "[unifiedlog]") {
  const std::string good =
      R"({"timestamp":"2026-10-07 10:00:00.000000+0000","eventMessage":"after"})"
      "\n";
  SECTION("a line over the limit, fed in pieces") {
    UnifiedLogReader reader(1 << 20);
    std::vector<UnifiedLogEntry> got;
    reader.Feed(R"({"timestamp":"2026-10-07 10:00:00.000000+0000","eventMessage":")", got);
    const std::string chunk(64 << 10, 'x');
    for (int i = 0; i < 40; ++i) reader.Feed(chunk, got);  // 2.5 MiB
    reader.Feed("\"}\n" + good, got);
    REQUIRE(got.size() == 1);
    CHECK(got[0].message == "after");
    CHECK(reader.oversized() == 1);
    CHECK(reader.garbage() == 1);
    CHECK(reader.last_error().find("longer than") != std::string::npos);
  }
  SECTION("a line under the limit is parsed, whatever its size") {
    UnifiedLogReader reader;
    std::vector<UnifiedLogEntry> got;
    const std::string message(3 << 20, 'y');
    reader.Feed(R"({"timestamp":"2026-10-07 10:00:00.000000+0000","eventMessage":")" + message +
                    "\"}\n" + good,
                got);
    REQUIRE(got.size() == 2);
    CHECK(got[0].message.size() == message.size());
    CHECK(Record(got[0])["truncated"] == true);
  }
  SECTION("the last line without a newline") {
    UnifiedLogReader reader;
    std::vector<UnifiedLogEntry> got;
    reader.Feed(good.substr(0, good.size() - 1), got);
    CHECK(got.empty());
    reader.Finish(got);
    REQUIRE(got.size() == 1);
  }
}

TEST_CASE("unified log: hostile lines are garbage, never a crash", "[unifiedlog]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"a\":" + std::string(100000, '['), "nested too deeply"},
      {std::string(100000, '{'), "nested too deeply"},
      {"{\"timestamp\":\"x\",\"eventMessage\":\"\xFF\xFE\"}", "not valid JSON"},
      {"{\"eventMessage\":\"unterminated", "not valid JSON"},
      {"{} trailing", "not valid JSON"},
      {"{}", "no timestamp"},
      {"[]", "not a JSON object"},
      {"\x80\x81", "not a JSON object"},
  };
  for (const auto& [line, why] : cases) {
    INFO(line.substr(0, 60));
    UnifiedLogEntry e;
    std::string error;
    CHECK(ParseUnifiedLogLine(line, e, &error) == UnifiedLogLine::kGarbage);
    CHECK(error.find(why) != std::string::npos);
  }
  UnifiedLogEntry e;
  CHECK(ParseUnifiedLogLine("   ", e, nullptr) == UnifiedLogLine::kIgnored);
  CHECK(ParseUnifiedLogLine("Filtering the log data", e, nullptr) == UnifiedLogLine::kIgnored);
  // Strings that look like nesting do not count.
  const std::string brackets = R"({"timestamp":"2026-10-07 10:00:00+0000","eventMessage":")" +
                               std::string(1000, '[') + R"(\"{{{"})";
  REQUIRE(ParseUnifiedLogLine(brackets, e, nullptr) == UnifiedLogLine::kEntry);
  CHECK(e.message.size() == 1004);
}

TEST_CASE("unified log: timestamps", "[unifiedlog]") {
  const auto us = [](std::string_view t) -> int64_t {
    const std::optional<WallTime> w = ParseUnifiedLogTimestamp(t);
    return w ? Micros(*w) : -1;
  };
  CHECK(us("1970-01-01 00:00:00.000000+0000") == 0);
  CHECK(us("1970-01-01 01:00:00.000001+0100") == 1);
  CHECK(us("2026-10-07T02:19:55.713745Z") == 1791339595713745);
  CHECK(us("2026-10-07 10:19:55.713745+08:00") == 1791339595713745);
  CHECK(us("2026-10-07 10:19:55+0800") == 1791339595000000);
  CHECK(us("2026-10-07 10:19:55.713745") == -1);  // no zone
  CHECK(us("2026-13-07 10:19:55.713745+0800") == -1);
  CHECK(us("9999-10-07 10:19:55.713745+0800") == -1);  // past 2200
  CHECK(us("1969-12-31 23:59:59.000000+0000") == -1);
  CHECK(us("") == -1);
  CHECK(us("2026-10-07 10:19:55.713745+08") == -1);
}

TEST_CASE("unified log: record field names", "[unifiedlog]") {
  CHECK(IsUnifiedLogRecordField("subsystem"));
  CHECK(IsUnifiedLogRecordField("trace_id"));
  CHECK(!IsUnifiedLogRecordField("team"));
}

}  // namespace
}  // namespace outpost

// NDJSON records and the open chunk: field order, escaping, sealing rules.
#include <catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "chunk/chunk_builder.h"
#include "chunk/record_encoder.h"
#include "chunk/zstd_codec.h"
#include "util/clock.h"

namespace outpost {
namespace {

RecordContext Context() {
  RecordContext c;
  c.host = "web-1";
  c.agent_id = "abc";
  c.stream = "nginx";
  c.source = "file";
  c.fields = {{"env", "prod"}, {"host", "spoofed"}, {"message", "spoofed"}};
  return c;
}

TEST_CASE("a log record carries the common fields in a fixed order", "[chunk]") {
  RecordEncoder enc(Context());
  FakeClock clock;
  std::string out;
  enc.AppendLogLine(out, clock.Now(), "\"/var/log/a.log\"", 42, "GET / 200", false);
  REQUIRE(out ==
          "{\"@timestamp\":\"2026-01-01T00:00:00.000Z\",\"host\":\"web-1\",\"agent_id\":\"abc\","
          "\"stream\":\"nginx\",\"source\":\"file\",\"path\":\"/var/log/a.log\",\"offset\":42,"
          "\"message\":\"GET / 200\",\"env\":\"prod\"}\n");
}

TEST_CASE("static fields never replace a common field", "[chunk]") {
  RecordEncoder enc(Context());
  REQUIRE(enc.reserved() == std::vector<std::string>{"host", "message"});
  std::string out;
  enc.AppendLogLine(out, FakeClock().Now(), "\"p\"", 0, "m", false);
  const auto j = nlohmann::json::parse(out);
  CHECK(j["host"] == "web-1");
  CHECK(j["message"] == "m");
  CHECK(j["env"] == "prod");
}

TEST_CASE("invalid UTF-8 and control bytes are escaped, never dropped", "[chunk]") {
  RecordEncoder enc(Context());
  std::string out;
  const std::string msg = std::string("a\xff") + '\0' + "b\x01\"\\\x7f" + "\xc3\xa9";
  enc.AppendLogLine(out, FakeClock().Now(), "\"p\"", 0, msg, true);
  const auto j = nlohmann::json::parse(out);  // valid JSON
  CHECK(j["message"] == std::string("a\\xff") + '\0' + "b\x01\"\\\x7f" + "\xc3\xa9");
  CHECK(j["truncated"] == true);
}

TEST_CASE("long plain runs and special bytes at every position escape exactly", "[chunk]") {
  // Every position across two 16-byte blocks (the SSE2 scan) and an 8-byte tail, each
  // kind of byte that leaves the plain run: quote, backslash, control, DEL, a UTF-8
  // sequence (kept) and an invalid byte (written as \\xNN).
  RecordEncoder enc(Context());
  const std::vector<std::pair<std::string, std::string>> kinds = {
      {"\"", "\""},     {"\\", "\\"},     {"\x01", "\x01"},
      {"\n", "\n"},     {"\x7f", "\x7f"}, {"\xc3\xa9", "\xc3\xa9"},
      {"\xff", "\\xff"}};
  for (const auto& [raw, decoded] : kinds) {
    for (size_t pos = 0; pos <= 40; ++pos) {
      std::string msg(40, 'x');
      std::string want = msg;
      msg.insert(pos, raw);
      want.insert(pos, decoded);
      std::string out;
      enc.AppendLogLine(out, FakeClock().Now(), "\"p\"", 0, msg, false);
      INFO("byte " << static_cast<int>(static_cast<unsigned char>(raw[0])) << " at " << pos);
      CHECK(nlohmann::json::parse(out)["message"] == want);
    }
  }
}

TEST_CASE("timestamps follow the clock to the millisecond", "[chunk]") {
  RecordEncoder enc(Context());
  FakeClock clock;
  std::string a, b;
  enc.AppendLogLine(a, clock.Now(), "\"p\"", 0, "m", false);
  clock.Advance(std::chrono::milliseconds(1500));
  enc.AppendLogLine(b, clock.Now(), "\"p\"", 0, "m", false);
  CHECK(nlohmann::json::parse(a)["@timestamp"] == "2026-01-01T00:00:00.000Z");
  CHECK(nlohmann::json::parse(b)["@timestamp"] == "2026-01-01T00:00:01.500Z");
}

TEST_CASE("a chunk is due at its size cap or its age", "[chunk]") {
  FakeClock clock;
  ChunkBuilder b("s", 100, std::chrono::seconds(1), 3);
  CHECK(b.empty());
  CHECK_FALSE(b.Deadline().has_value());
  CHECK_FALSE(b.Due(clock.Monotonic()));
  b.body() += "{\"a\":1}\n";
  b.Added(clock.Now(), clock.Monotonic());
  CHECK_FALSE(b.Due(clock.Monotonic()));
  clock.Advance(std::chrono::milliseconds(999));
  CHECK_FALSE(b.Due(clock.Monotonic()));
  clock.Advance(std::chrono::milliseconds(1));
  CHECK(b.Due(clock.Monotonic()));

  ChunkBuilder c("s", 100, std::chrono::hours(1), 3);
  while (!c.Full()) {
    c.body() += "{\"line\":\"0123456789\"}\n";
    c.Added(clock.Now(), clock.Monotonic());
  }
  CHECK(c.Due(clock.Monotonic()));
}

TEST_CASE("sealing compresses the records and empties the builder", "[chunk]") {
  FakeClock clock;
  ChunkBuilder b("app", 1 << 20, std::chrono::seconds(1), 3);
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    const std::string line = "{\"n\":" + std::to_string(i) + "}\n";
    b.body() += line;
    expected += line;
    b.Added(clock.Now(), clock.Monotonic());
  }
  Result<SealedChunk> c = b.Seal();
  REQUIRE(c.ok());
  CHECK(c->stream == "app");
  CHECK(c->records == 1000);
  CHECK(c->raw_bytes == expected.size());
  CHECK(c->created_at_ms == 1767225600000);
  CHECK(c->body.size() < expected.size());
  CHECK(*ZstdDecompress(c->body, expected.size()) == expected);
  CHECK(b.empty());
  CHECK(b.raw_bytes() == 0);
}

}  // namespace
}  // namespace outpost

// Multiline joining: stack traces become one record with the file range of all their
// lines; records complete on the next start line, on max_lines, on timeout (driven by
// hand-made MonoTime values, never by sleeping) or when forced; max_bytes cuts the
// text but not the range.
#include <catch.hpp>

#include <chrono>
#include <string>

#include "collect/multiline.h"

namespace outpost {
namespace {

using namespace std::chrono_literals;

const MonoTime kT0 = MonoTime{} + 1000s;

MultilineConfig JoinConfig(int64_t max_lines = 500, Duration timeout = 1s) {
  MultilineConfig c;
  c.start = "^\\d{4}-\\d{2}-\\d{2} ";
  c.max_lines = max_lines;
  c.timeout = timeout;
  return c;
}

// Feeds lines as if read back to back from one file with "\n" endings.
class Feed {
 public:
  explicit Feed(MultilineJoiner& joiner) : joiner_(joiner) {}

  std::optional<LogLine> Push(const std::string& text, MonoTime now = kT0, bool truncated = false) {
    LogLine line;
    line.text = text;
    line.offset = offset_;
    line.end_offset = offset_ + text.size() + 1;
    line.truncated = truncated;
    offset_ = line.end_offset;
    return joiner_.Push(std::move(line), now);
  }
  uint64_t offset() const { return offset_; }

 private:
  MultilineJoiner& joiner_;
  uint64_t offset_ = 0;
};

const char* const kTrace[] = {
    "2026-01-01 12:00:00 ERROR request failed",
    "java.lang.IllegalStateException: boom",
    "\tat com.example.Service.handle(Service.java:42)",
    "\tat com.example.Server.run(Server.java:7)",
    "Caused by: java.io.IOException: disk full",
    "\t... 2 more",
};

std::string Joined() {
  std::string out;
  for (const char* line : kTrace) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

}  // namespace

TEST_CASE("a Java stack trace is joined into one record ended by the next start line",
          "[collect]") {
  MultilineJoiner joiner(JoinConfig(), 1 << 20);
  Feed feed(joiner);
  for (const char* line : kTrace) CHECK_FALSE(feed.Push(line).has_value());
  CHECK(joiner.pending());
  CHECK(joiner.pending_offset() == 0);
  const uint64_t trace_end = feed.offset();

  const auto record = feed.Push("2026-01-01 12:00:01 INFO next");
  REQUIRE(record.has_value());
  CHECK(record->text == Joined());
  CHECK(record->offset == 0);
  CHECK(record->end_offset == trace_end);
  CHECK_FALSE(record->truncated);
  // The start line is pending now; checkpoints must stop at it.
  CHECK(joiner.pending());
  CHECK(joiner.pending_offset() == trace_end);
}

TEST_CASE("consecutive start lines are records of one line each", "[collect]") {
  MultilineJoiner joiner(JoinConfig(), 1 << 20);
  Feed feed(joiner);
  CHECK_FALSE(feed.Push("2026-01-01 a").has_value());
  auto r = feed.Push("2026-01-01 b");
  REQUIRE(r);
  CHECK(r->text == "2026-01-01 a");
  CHECK(r->offset == 0);
  CHECK(r->end_offset == 13);
  r = feed.Push("2026-01-01 c");
  REQUIRE(r);
  CHECK(r->text == "2026-01-01 b");
  CHECK(r->offset == 13);
  CHECK(r->end_offset == 26);
}

TEST_CASE("lines before the first start line form a record of their own", "[collect]") {
  MultilineJoiner joiner(JoinConfig(), 1 << 20);
  Feed feed(joiner);
  CHECK_FALSE(feed.Push("\tat com.example.A.b(A.java:1)").has_value());
  CHECK(joiner.pending_offset() == 0);
  CHECK_FALSE(feed.Push("\tat com.example.C.d(C.java:2)").has_value());
  const uint64_t orphan_end = feed.offset();
  const auto r = feed.Push("2026-01-01 12:00:00 INFO started");
  REQUIRE(r);
  CHECK(r->text == "\tat com.example.A.b(A.java:1)\n\tat com.example.C.d(C.java:2)");
  CHECK(r->offset == 0);
  CHECK(r->end_offset == orphan_end);
}

TEST_CASE("a pending record is flushed once the timeout has passed since its last line",
          "[collect]") {
  MultilineJoiner joiner(JoinConfig(500, 1000ms), 1 << 20);
  Feed feed(joiner);
  CHECK_FALSE(joiner.Deadline().has_value());
  CHECK_FALSE(joiner.Flush(kT0 + 1h, false).has_value());  // nothing pending

  feed.Push(kTrace[0], kT0);
  CHECK(joiner.Deadline() == kT0 + 1000ms);
  feed.Push(kTrace[1], kT0 + 400ms);  // a continuation moves the deadline
  CHECK(joiner.Deadline() == kT0 + 1400ms);

  CHECK_FALSE(joiner.Flush(kT0 + 1000ms, false).has_value());
  CHECK_FALSE(joiner.Flush(kT0 + 1399ms, false).has_value());
  CHECK(joiner.pending());
  const auto r = joiner.Flush(kT0 + 1400ms, false);
  REQUIRE(r);
  CHECK(r->text == std::string(kTrace[0]) + "\n" + kTrace[1]);
  CHECK(r->offset == 0);
  CHECK(r->end_offset == feed.offset());
  CHECK_FALSE(joiner.pending());
  CHECK_FALSE(joiner.Deadline().has_value());
  CHECK(joiner.pending_offset() == 0);

  // A continuation arriving after the flush starts a record of its own.
  const uint64_t late_offset = feed.offset();
  CHECK_FALSE(feed.Push(kTrace[2], kT0 + 5s).has_value());
  CHECK(joiner.pending_offset() == late_offset);
  const auto late = joiner.Flush(kT0 + 6s, false);
  REQUIRE(late);
  CHECK(late->text == kTrace[2]);
}

TEST_CASE("a forced flush returns the pending record at once", "[collect]") {
  MultilineJoiner joiner(JoinConfig(), 1 << 20);
  Feed feed(joiner);
  CHECK_FALSE(joiner.Flush(kT0, true).has_value());
  feed.Push(kTrace[0], kT0);
  feed.Push(kTrace[1], kT0);
  const auto r = joiner.Flush(kT0, true);
  REQUIRE(r);
  CHECK(r->text == std::string(kTrace[0]) + "\n" + kTrace[1]);
  CHECK(r->end_offset == feed.offset());
  CHECK_FALSE(joiner.pending());
  CHECK_FALSE(joiner.Flush(kT0, true).has_value());
}

TEST_CASE("a full record of max_lines ends when the next line arrives, which starts another",
          "[collect]") {
  MultilineJoiner joiner(JoinConfig(3), 1 << 20);
  Feed feed(joiner);
  CHECK_FALSE(feed.Push("2026-01-01 start").has_value());
  CHECK_FALSE(feed.Push("one").has_value());
  CHECK_FALSE(feed.Push("two").has_value());
  const uint64_t full_end = feed.offset();
  auto r = feed.Push("three");
  REQUIRE(r);
  CHECK(r->text == "2026-01-01 start\none\ntwo");
  CHECK(r->end_offset == full_end);
  CHECK(joiner.pending_offset() == full_end);
  CHECK_FALSE(feed.Push("four").has_value());
  r = joiner.Flush(kT0, true);
  REQUIRE(r);
  CHECK(r->text == "three\nfour");
  CHECK(r->offset == full_end);
}

TEST_CASE("max_lines of 1 makes every line a record", "[collect]") {
  MultilineJoiner joiner(JoinConfig(1), 1 << 20);
  Feed feed(joiner);
  feed.Push("a");
  auto r = feed.Push("b");
  REQUIRE(r);
  CHECK(r->text == "a");
  r = feed.Push("c");
  REQUIRE(r);
  CHECK(r->text == "b");
}

TEST_CASE("max_bytes cuts the joined text but later lines still extend the range", "[collect]") {
  MultilineJoiner joiner(JoinConfig(), 20);
  Feed feed(joiner);
  feed.Push("2026-01-01 12345");    // 16 bytes
  feed.Push("abcdefgh");            // joined would be 25: cut to 20
  feed.Push("more text not kept");  // adds nothing to the text
  feed.Push("x");
  const uint64_t end = feed.offset();
  const auto r = joiner.Flush(kT0, true);
  REQUIRE(r);
  CHECK(r->text == "2026-01-01 12345\nabc");
  CHECK(r->text.size() == 20);
  CHECK(r->truncated);
  CHECK(r->offset == 0);
  CHECK(r->end_offset == end);
}

TEST_CASE("max_bytes never cuts a UTF-8 character in half", "[collect]") {
  MultilineJoiner joiner(JoinConfig(), 15);
  Feed feed(joiner);
  feed.Push("2026-01-01 ab");     // 13 bytes
  feed.Push("\xC3\xA9\xC3\xA9");  // after "\n", the first é would need bytes 14 and 15
  const auto r = joiner.Flush(kT0, true);
  REQUIRE(r);
  CHECK(r->text == "2026-01-01 ab\n");
  CHECK(r->truncated);
}

TEST_CASE("a start line longer than max_bytes is cut and marked truncated", "[collect]") {
  MultilineJoiner joiner(JoinConfig(), 12);
  Feed feed(joiner);
  feed.Push("2026-01-01 a long first line");
  feed.Push("continued");
  const auto r = joiner.Flush(kT0, true);
  REQUIRE(r);
  CHECK(r->text == "2026-01-01 a");
  CHECK(r->truncated);
  CHECK(r->end_offset == feed.offset());
}

TEST_CASE("a line cut at max_line_bytes marks its record truncated", "[collect]") {
  MultilineJoiner joiner(JoinConfig(), 1 << 20);
  Feed feed(joiner);
  feed.Push("2026-01-01 start");
  feed.Push("a cut continuation", kT0, /*truncated=*/true);
  feed.Push("after");  // text is still added: the record is not at max_bytes
  auto r = feed.Push("2026-01-01 next");
  REQUIRE(r);
  CHECK(r->truncated);
  CHECK(r->text == "2026-01-01 start\na cut continuation\nafter");
  r = joiner.Flush(kT0, true);
  REQUIRE(r);
  CHECK_FALSE(r->truncated);

  feed.Push("2026-01-01 cut start", kT0, /*truncated=*/true);
  r = joiner.Flush(kT0, true);
  REQUIRE(r);
  CHECK(r->truncated);
}

TEST_CASE("an invalid start pattern makes every line a record instead of failing", "[collect]") {
  MultilineConfig c = JoinConfig();
  c.start = "([unclosed";
  MultilineJoiner joiner(c, 1 << 20);
  Feed feed(joiner);
  feed.Push("a");
  const auto r = feed.Push("b");
  REQUIRE(r);
  CHECK(r->text == "a");
}

TEST_CASE("a very long line is matched without exhausting the regex matcher's stack", "[collect]") {
  MultilineConfig c = JoinConfig();
  c.start = "^(a|b)*c";  // recursion per character in libstdc++
  MultilineJoiner joiner(c, 1 << 20);
  Feed feed(joiner);
  feed.Push("ac");
  CHECK_FALSE(feed.Push(std::string(200000, 'a') + "c").has_value());  // not seen as a start
  CHECK(feed.Push("abc").has_value());
}

}  // namespace outpost

// The journal export parser on the fixtures in tests/fixtures/journal/ (made by
// make_fixtures.py there), fed whole, split at every byte boundary, and byte by byte;
// and the records a journal entry becomes.
#include "collect/journal_export.h"
#include "source_dir.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chunk/record_encoder.h"
#include "collect/journal_source.h"

namespace outpost {
namespace {

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(OUTPOST_SOURCE_DIR) + "/tests/fixtures/journal/" + name,
                   std::ios::binary);
  REQUIRE(in.good());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<JournalEntry> ParseAll(std::string_view data) {
  JournalExportParser p;
  std::vector<JournalEntry> entries;
  p.Feed(data, entries);
  return entries;
}

std::string Value(const JournalEntry& e, std::string_view name) {
  const JournalField* f = e.Find(name);
  return f ? f->value : std::string("<absent>");
}

// A stable picture of what was parsed, to compare feeds split differently.
std::string Describe(const std::vector<JournalEntry>& entries) {
  std::string d;
  for (const JournalEntry& e : entries) {
    d += e.truncated ? "E!" : "E";
    for (const JournalField& f : e.fields) {
      d += "|" + f.name + (f.truncated ? "!" : "") + "=" + std::to_string(f.value.size()) + ":";
      d += f.value;
    }
    d += "\n";
  }
  return d;
}

}  // namespace

TEST_CASE("text fields become entries, one per empty line") {
  const std::vector<JournalEntry> e = ParseAll(Fixture("text.export"));
  REQUIRE(e.size() == 3);
  CHECK(Value(e[0], "MESSAGE") == "Server listening on 0.0.0.0 port 22.");
  CHECK(Value(e[0], "_SYSTEMD_UNIT") == "sshd.service");
  CHECK(Value(e[1], "_PID") == "9001");
  CHECK(Value(e[2], "SYSLOG_IDENTIFIER") == "systemd");
  CHECK(Value(e[2], "PRIORITY") == "5");
  CHECK(Value(e[0], "__CURSOR").rfind("s=6f1e2d3c", 0) == 0);
  CHECK(e[0].fields.size() == 9);
  CHECK_FALSE(e[0].truncated);
}

TEST_CASE("binary fields keep newlines, NUL and invalid UTF-8 intact") {
  const std::vector<JournalEntry> e = ParseAll(Fixture("binary.export"));
  REQUIRE(e.size() == 3);
  CHECK(Value(e[0], "MESSAGE") ==
        "Traceback (most recent call last):\n  File \"app.py\", line 3\nValueError: bad\n");
  CHECK(Value(e[1], "MESSAGE") == std::string("before\0after r\xe9sum\xe9", 19));
  CHECK(Value(e[2], "COREDUMP_BLOB") == std::string("\0\x01\n\n\xff", 5));
  CHECK(Value(e[2], "MESSAGE") == "text after binary");
}

TEST_CASE("a truncated entry is not emitted, and Finish says bytes were pending") {
  JournalExportParser p;
  std::vector<JournalEntry> e;
  p.Feed(Fixture("truncated.export"), e);
  REQUIRE(e.size() == 1);
  CHECK(Value(e[0], "MESSAGE") == "complete entry");
  CHECK_FALSE(p.idle());
  CHECK(p.Finish());
  CHECK(p.idle());
  CHECK_FALSE(p.Finish());
}

TEST_CASE("garbage lines and a broken binary field are skipped to the next entry") {
  JournalExportParser p;
  std::vector<JournalEntry> e;
  p.Feed(Fixture("garbage.export"), e);
  REQUIRE(e.size() == 2);
  CHECK(Value(e[0], "MESSAGE") == "first good entry after garbage");
  CHECK(Value(e[1], "MESSAGE") == "second good entry after garbage");
  CHECK(p.errors() == 3);
}

TEST_CASE("every fixture parses the same when split at every byte boundary") {
  for (const char* name : {"text.export", "binary.export", "truncated.export", "garbage.export"}) {
    const std::string data = Fixture(name);
    const std::string whole = Describe(ParseAll(data));
    REQUIRE_FALSE(whole.empty());
    for (size_t cut = 0; cut <= data.size(); ++cut) {
      JournalExportParser p;
      std::vector<JournalEntry> e;
      p.Feed(std::string_view(data).substr(0, cut), e);
      p.Feed(std::string_view(data).substr(cut), e);
      INFO(name << " cut at " << cut);
      REQUIRE(Describe(e) == whole);
    }
    JournalExportParser p;
    std::vector<JournalEntry> e;
    for (char c : data) p.Feed(std::string_view(&c, 1), e);
    INFO(name << " byte by byte");
    CHECK(Describe(e) == whole);
  }
}

TEST_CASE("a field over the cap is cut and marked, the rest of the entry survives") {
  JournalExportParser p(16);
  std::vector<JournalEntry> e;
  std::string big(100, 'x');
  std::string data = "__CURSOR=c1\nMESSAGE=" + big + "\nBLOB\n";
  const uint64_t len = big.size();
  for (int i = 0; i < 8; ++i) data += static_cast<char>((len >> (8 * i)) & 0xff);
  data += big + "\nPRIORITY=3\n\n";
  p.Feed(data, e);
  REQUIRE(e.size() == 1);
  CHECK(Value(e[0], "MESSAGE") == std::string(16, 'x'));
  CHECK(e[0].Find("MESSAGE")->truncated);
  CHECK(Value(e[0], "BLOB") == std::string(16, 'x'));
  CHECK(e[0].Find("BLOB")->truncated);
  CHECK(Value(e[0], "PRIORITY") == "3");
  CHECK_FALSE(e[0].Find("PRIORITY")->truncated);
}

TEST_CASE("an entry keeps at most kJournalMaxFields fields") {
  std::string data;
  for (size_t i = 0; i < kJournalMaxFields + 10; ++i) data += "F" + std::to_string(i) + "=v\n";
  data += "\n";
  const std::vector<JournalEntry> e = ParseAll(data);
  REQUIRE(e.size() == 1);
  CHECK(e[0].fields.size() == kJournalMaxFields);
  CHECK(e[0].truncated);
}

TEST_CASE("a huge binary length is garbage, not a reason to wait for 2^64 bytes") {
  std::string data = "MESSAGE\n";
  data += std::string(8, '\xff');
  data += "\n\n__CURSOR=c2\nMESSAGE=ok\n\n";
  JournalExportParser p;
  std::vector<JournalEntry> e;
  p.Feed(data, e);
  REQUIRE(e.size() == 1);
  CHECK(Value(e[0], "MESSAGE") == "ok");
  CHECK(p.errors() == 1);
}

TEST_CASE("a journal entry becomes a record with the mapped fields") {
  RecordContext ctx{"vm", "a1", "journal.0", "journal", {{"env", "prod"}}};
  RecordEncoder enc(ctx);
  const std::vector<JournalEntry> e = ParseAll(Fixture("binary.export"));
  REQUIRE(e.size() == 3);
  std::string out;
  const std::optional<std::string> cursor =
      AppendJournalRecord(enc, out, e[1], 1 << 20, WallTime{});
  REQUIRE(cursor);
  CHECK(*cursor == Value(e[1], "__CURSOR"));
  REQUIRE(out.back() == '\n');
  const nlohmann::json j = nlohmann::json::parse(out);
  CHECK(j["@timestamp"] == "2025-12-01T00:00:00.011Z");
  CHECK(j["source"] == "journal");
  CHECK(j["stream"] == "journal.0");
  CHECK(j["message"] == std::string("before\0after r\\xe9sum\\xe9", 25));
  CHECK(j["priority"] == 4);
  CHECK(j["unit"] == "app.service");
  CHECK(j["identifier"] == "app");
  CHECK(j["pid"] == 812);
  CHECK(j["boot_id"] == "3c5b7e2f6d7a4b1e9a0c1d2e3f405162");
  CHECK(j["journal_cursor"] == *cursor);
  CHECK(j["env"] == "prod");
  CHECK_FALSE(j.contains("truncated"));

  out.clear();
  REQUIRE(AppendJournalRecord(enc, out, e[0], 256, WallTime{}));
  const nlohmann::json multi = nlohmann::json::parse(out);
  CHECK(multi["message"] ==
        "Traceback (most recent call last):\n  File \"app.py\", line 3\nValueError: bad\n");

  out.clear();
  REQUIRE(AppendJournalRecord(enc, out, e[0], 10, WallTime{}));
  const nlohmann::json cut = nlohmann::json::parse(out);
  CHECK(cut["message"] == "Traceback ");
  CHECK(cut["truncated"] == true);
}

TEST_CASE("an entry without __CURSOR gives no record") {
  RecordContext ctx{"vm", "a1", "j", "journal", {}};
  RecordEncoder enc(ctx);
  const std::vector<JournalEntry> e = ParseAll("MESSAGE=no cursor\n\n");
  REQUIRE(e.size() == 1);
  std::string out;
  CHECK_FALSE(AppendJournalRecord(enc, out, e[0], 1024, WallTime{}));
  CHECK(out.empty());
}

TEST_CASE("journalctl arguments follow the cursor, read_from and the filters") {
  JournalSourceConfig c;
  c.journalctl = "/usr/bin/journalctl";
  using V = std::vector<std::string>;
  CHECK(JournalctlArgs(c, "", true) ==
        V{"/usr/bin/journalctl", "--output=export", "--no-pager", "--follow", "--since=now"});
  c.read_from = JournalReadFrom::kHead;
  CHECK(JournalctlArgs(c, "", false) ==
        V{"/usr/bin/journalctl", "--output=export", "--no-pager", "--no-tail"});
  c.units = {"sshd.service", "cron.service"};
  c.priority = 4;
  c.identifiers = {"sudo"};
  CHECK(JournalctlArgs(c, "s=1;i=2", true) == V{"/usr/bin/journalctl", "--output=export",
                                                "--no-pager", "--follow", "--after-cursor=s=1;i=2",
                                                "--unit=sshd.service", "--unit=cron.service",
                                                "--priority=4", "--identifier=sudo"});
}

}  // namespace outpost

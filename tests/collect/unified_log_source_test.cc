// The unified log source inside the pipeline, with a fake `log` script in a temp dir
// (POSIX: /bin/sh and awk) that answers `show [--start S]` from a data file of NDJSON
// lines and `stream` from another, and logs its arguments. Where /bin/sh is missing
// (Windows) only the parts that need no child run.
#include <catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "buffer/buffer_store.h"
#include "chunk/zstd_codec.h"
#include "collect/pipeline.h"
#include "collect/unified_log_source.h"
#include "outpost/platform/change_watcher.h"
#include "outpost/platform/system.h"
#include "test_files.h"
#include "util/clock.h"
#include "util/logger.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;

bool HasShell() { return platform::OsName() != "windows" && fs::exists("/bin/sh"); }

std::string Entry(const std::string& ts, const std::string& message) {
  return R"({"timestamp":")" + ts + R"(","eventMessage":")" + message +
         R"(","messageType":"Default","eventType":"logEvent","processImagePath":"/usr/sbin/sshd","processID":7})";
}

class Harness {
 public:
  Harness() {
    config.agent.state_dir = dir.path() / "state";
    fs::create_directories(config.agent.state_dir);
    UnifiedLogSourceConfig uc;
    uc.name = "ul";
    uc.read_from = UnifiedLogReadFrom::kHead;
    uc.predicate = "process == 'sshd'";
    uc.log = (dir.path() / "log").string();
    config.unifiedlog_sources.push_back(uc);
    watcher = platform::CreateChangeWatcher(false);
    BufferStore::Options o;
    o.file = config.agent.state_dir / "buffer.db";
    auto s = BufferStore::Open(o, clock, Logger::Discard());
    REQUIRE(s.ok());
    store = std::move(s).value();
    WriteScript();
  }

  // `show` prints the banner `log` prints, then the lines of show.ndjson whose
  // timestamp's first 19 characters are at or after --start's; `stream` prints
  // stream.ndjson and then waits, as `log stream` does.
  void WriteScript() {
    const fs::path script = dir.path() / "log";
    std::ofstream out(script, std::ios::binary | std::ios::trunc);
    const std::string d = dir.path().string();
    out << "#!/bin/sh\n"
        << "echo \"$@\" >> '" << d << "/args.log'\n"
        << "mode=$1; start=''\n"
        << "while [ $# -gt 0 ]; do [ \"$1\" = --start ] && start=$2; shift; done\n"
        << "echo 'Filtering the log data using \"process == sshd\"'\n"
        << "if [ \"$mode\" = stream ]; then cat '" << d << "/stream.ndjson' 2>/dev/null;"
        << " exec sleep 30; fi\n"
        << "awk -v s=\"$(printf %.19s \"$start\")\" "
        << "'{ i = index($0, \"\\\"timestamp\\\":\\\"\"); t = substr($0, i + 13, 19);"
        << " if (s == \"\" || t >= s) print }' '" << d << "/show.ndjson'\n";
    out.close();
    fs::permissions(script, fs::perms::owner_all);
  }

  void SetShow(const std::vector<std::string>& lines) { Write("show.ndjson", lines); }
  void SetStream(const std::vector<std::string>& lines) { Write("stream.ndjson", lines); }
  void Write(const std::string& name, const std::vector<std::string>& lines) {
    std::ofstream out(dir.path() / name, std::ios::binary | std::ios::trunc);
    for (const std::string& l : lines) out << l << "\n";
  }

  std::vector<std::string> Args() {
    std::ifstream in(dir.path() / "args.log");
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }

  void RunOnce() {
    Pipeline p(config, {"id", "host", "test", 1}, *store, *watcher, clock, Logger::Discard());
    REQUIRE(p.Start().ok());
    REQUIRE(p.RunOnce().ok());
  }

  std::vector<std::string> Messages() {
    std::vector<std::string> out;
    REQUIRE(store
                ->ForEachChunk({},
                               [&](const StoredChunk& c) {
                                 auto raw = ZstdDecompress(c.chunk.body, 64 << 20);
                                 REQUIRE(raw.ok());
                                 size_t start = 0;
                                 while (start < raw->size()) {
                                   const size_t nl = raw->find('\n', start);
                                   auto j = nlohmann::json::parse(raw->substr(start, nl - start));
                                   CHECK(j["source"] == "unifiedlog");
                                   CHECK(j["stream"] == "ul");
                                   out.push_back(j["message"].get<std::string>());
                                   start = nl + 1;
                                 }
                                 return true;
                               })
                .ok());
    return out;
  }

  std::string StoredPosition() {
    auto cps = store->LoadCheckpoints("ul");
    REQUIRE(cps.ok());
    for (const Checkpoint& cp : *cps)
      if (!cp.cursor.empty()) return cp.cursor;
    return "";
  }

  testing::TempDir dir;
  FakeClock clock;
  Config config;
  std::unique_ptr<platform::ChangeWatcher> watcher;
  std::unique_ptr<BufferStore> store;
};

}  // namespace

TEST_CASE("unified log positions round-trip and bad ones are refused", "[unifiedlog]") {
  auto p = ParseUnifiedLogPosition("2 2026-10-07 10:19:55.713745+0800");
  REQUIRE(p);
  CHECK(p->count == 2);
  CHECK(p->timestamp == "2026-10-07 10:19:55.713745+0800");
  CHECK(p->time == *ParseUnifiedLogTimestamp("2026-10-07 02:19:55.713745+0000"));
  CHECK(FormatUnifiedLogPosition(*p) == "2 2026-10-07 10:19:55.713745+0800");
  for (const char* bad : {"", "2", " 2026-10-07 10:19:55+0000", "0 2026-10-07 10:19:55+0000",
                          "x 2026-10-07 10:19:55+0000", "2 yesterday",
                          "99999999999999999999 2026-10-07 10:19:55+0000"})
    CHECK_FALSE(ParseUnifiedLogPosition(bad));
}

TEST_CASE("log's arguments: stream takes --level, show takes --info/--debug and a UTC --start",
          "[unifiedlog]") {
  UnifiedLogSourceConfig c;
  c.log = "/usr/bin/log";
  CHECK(UnifiedLogArgs(c, true, std::nullopt) ==
        std::vector<std::string>{"/usr/bin/log", "stream", "--style", "ndjson"});
  c.level = UnifiedLogLevel::kDebug;
  c.predicate = "subsystem == 'com.apple.securityd'";
  CHECK(UnifiedLogArgs(c, true, std::nullopt) ==
        std::vector<std::string>{"/usr/bin/log", "stream", "--style", "ndjson", "--level", "debug",
                                 "--predicate", "subsystem == 'com.apple.securityd'"});
  const WallTime t = *ParseUnifiedLogTimestamp("2026-10-07 10:19:55.713745+0800");
  CHECK(UnifiedLogArgs(c, false, t) ==
        std::vector<std::string>{"/usr/bin/log", "show", "--style", "ndjson", "--info", "--debug",
                                 "--predicate", "subsystem == 'com.apple.securityd'", "--start",
                                 "2026-10-07 02:19:55+0000"});
  c.level = UnifiedLogLevel::kInfo;
  CHECK(UnifiedLogArgs(c, false, std::nullopt)[4] == "--info");
}

TEST_CASE("unified log entries land in buffer.db with their position; a rerun resumes after it",
          "[unifiedlog]") {
  if (!HasShell()) return;
  Harness h;
  // Two entries share a microsecond: the position counts them.
  h.SetShow({Entry("2026-10-07 10:00:00.000001+0000", "a"), "this line is garbage {",
             Entry("2026-10-07 10:00:01.500000+0000", "b"),
             Entry("2026-10-07 10:00:01.500000+0000", "c")});
  h.RunOnce();
  CHECK(h.Messages() == std::vector<std::string>{"a", "b", "c"});
  CHECK(h.StoredPosition() == "2 2026-10-07 10:00:01.500000+0000");
  // Nothing new: the rerun shows from that second and skips what the position covers.
  h.RunOnce();
  CHECK(h.Messages() == std::vector<std::string>{"a", "b", "c"});
  // New entries, one in the same microsecond as the position.
  h.SetShow(
      {Entry("2026-10-07 10:00:00.000001+0000", "a"), Entry("2026-10-07 10:00:01.500000+0000", "b"),
       Entry("2026-10-07 10:00:01.500000+0000", "c"), Entry("2026-10-07 10:00:01.500000+0000", "d"),
       Entry("2026-10-07 10:00:02.000000+0000", "e")});
  h.RunOnce();
  CHECK(h.Messages() == std::vector<std::string>{"a", "b", "c", "d", "e"});
  CHECK(h.StoredPosition() == "1 2026-10-07 10:00:02.000000+0000");
  const auto args = h.Args();
  REQUIRE(args.size() == 3);
  CHECK(args[0] == "show --style ndjson --predicate process == 'sshd'");
  CHECK(args[1] ==
        "show --style ndjson --predicate process == 'sshd' --start 2026-10-07 10:00:01+0000");
  CHECK(args[2] ==
        "show --style ndjson --predicate process == 'sshd' --start 2026-10-07 10:00:01+0000");
}

TEST_CASE("unified log entries read but not committed are read again, once", "[unifiedlog]") {
  if (!HasShell()) return;
  Harness h;
  h.SetShow({Entry("2026-10-07 10:00:00.000001+0000", "a"),
             Entry("2026-10-07 10:00:01.000000+0000", "b")});
  {
    RecordContext ctx{"host", "id", "ul", "unifiedlog", {}};
    UnifiedLogSource s(h.config.unifiedlog_sources[0], ctx, h.config.buffer, h.clock,
                       Logger::Discard());
    REQUIRE(s.Start(*h.store, *h.watcher).ok());
    REQUIRE(s.Read(/*flush_all=*/true) == Source::ReadOutcome::kIdle);
    CHECK(s.builder().records() == 2);
    // Dropped without a commit: the kill -9 case.
  }
  CHECK(h.StoredPosition().empty());
  h.RunOnce();
  h.RunOnce();
  CHECK(h.Messages() == std::vector<std::string>{"a", "b"});
}

TEST_CASE("under run, log show catches up from the position, then log stream takes over",
          "[unifiedlog]") {
  if (!HasShell()) return;
  Harness h;
  h.SetShow({Entry("2026-10-07 10:00:00.000001+0000", "a")});
  h.RunOnce();
  REQUIRE(h.StoredPosition() == "1 2026-10-07 10:00:00.000001+0000");
  // While the agent was away: b; then the stream brings c.
  h.SetShow({Entry("2026-10-07 10:00:00.000001+0000", "a"),
             Entry("2026-10-07 10:00:03.000000+0000", "b")});
  h.SetStream({Entry("2026-10-07 10:00:04.000000+0000", "c")});
  RecordContext ctx{"host", "id", "ul", "unifiedlog", {}};
  UnifiedLogSource s(h.config.unifiedlog_sources[0], ctx, h.config.buffer, h.clock,
                     Logger::Discard());
  REQUIRE(s.Start(*h.store, *h.watcher).ok());
  for (int i = 0; i < 500 && s.builder().records() < 2; ++i) {
    s.Tick();
    s.Read(false);
    h.watcher->Wait(std::chrono::milliseconds(10));
  }
  CHECK(s.builder().records() == 2);
  const auto js = nlohmann::json::parse(s.StatusJson());
  CHECK(js["unifiedlog"]["mode"] == "stream");
  CHECK(js["unifiedlog"]["running"] == true);
  CHECK(js["unifiedlog"]["replayed_skipped"] == 1);
  CHECK(js["problems"].empty());
  const auto args = h.Args();
  REQUIRE(args.size() == 3);
  CHECK(args[1].rfind("show --style ndjson", 0) == 0);
  CHECK(args[2] == "stream --style ndjson --predicate process == 'sshd'");
}

TEST_CASE("a missing log program is a problem, retried; the default one only runs on macOS",
          "[unifiedlog]") {
  Harness h;
  fs::remove(h.dir.path() / "log");
  RecordContext ctx{"host", "id", "ul", "unifiedlog", {}};
  {
    UnifiedLogSource s(h.config.unifiedlog_sources[0], ctx, h.config.buffer, h.clock,
                       Logger::Discard());
    REQUIRE(s.Start(*h.store, *h.watcher).ok());
    CHECK(s.Read(false) == Source::ReadOutcome::kIdle);
    const auto js = nlohmann::json::parse(s.StatusJson());
    REQUIRE(js["problems"].size() == 1);
    CHECK(js["problems"][0]["cause"] == "cannot run log");
    REQUIRE(s.Deadline());
    CHECK(*s.Deadline() - h.clock.Monotonic() == kUnifiedLogRetryMin);
  }
  if (platform::OsName() == "macos") return;
  UnifiedLogSourceConfig def = h.config.unifiedlog_sources[0];
  def.log = "/usr/bin/log";
  UnifiedLogSource s(def, ctx, h.config.buffer, h.clock, Logger::Discard());
  REQUIRE(s.Start(*h.store, *h.watcher).ok());
  CHECK(s.Read(false) == Source::ReadOutcome::kIdle);
  const auto js = nlohmann::json::parse(s.StatusJson());
  REQUIRE(js["problems"].size() == 1);
  CHECK(js["problems"][0]["cause"] == "not available");
  CHECK_FALSE(s.Deadline());
}

}  // namespace outpost

// The journal source inside the pipeline, with fake journalctl scripts in a temp dir
// (Linux), a FakeClock for the retry timer and the polling watcher. Elsewhere the
// source must say that the journal is not available.
#include <catch.hpp>
#include "source_dir.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "buffer/buffer_store.h"
#include "chunk/zstd_codec.h"
#include "collect/journal_source.h"
#include "collect/pipeline.h"
#include "outpost/platform/change_watcher.h"
#include "outpost/platform/system.h"
#include "test_files.h"
#include "util/clock.h"
#include "util/logger.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(OUTPOST_SOURCE_DIR) / "tests" / "fixtures" / "journal";

bool OnLinux() { return platform::OsName() == "linux"; }

class Harness {
 public:
  Harness() {
    config.agent.state_dir = dir.path() / "state";
    fs::create_directories(config.agent.state_dir);
    JournalSourceConfig jc;
    jc.name = "sys";
    jc.read_from = JournalReadFrom::kHead;
    jc.journalctl = (dir.path() / "journalctl").string();
    config.journal_sources.push_back(jc);
    watcher = platform::CreateChangeWatcher(false);
    BufferStore::Options o;
    o.file = config.agent.state_dir / "buffer.db";
    auto s = BufferStore::Open(o, clock, Logger::Discard());
    REQUIRE(s.ok());
    store = std::move(s).value();
  }

  // A fake journalctl: logs its arguments, prints `fixture` unless resumed from a
  // cursor (then nothing: the fixture holds no entry after its last one).
  void FakeJournalctl(const std::string& fixture) {
    const fs::path script = dir.path() / "journalctl";
    std::ofstream out(script, std::ios::binary | std::ios::trunc);
    out << "#!/bin/sh\n"
        << "echo \"$@\" >> '" << (dir.path() / "args.log").string() << "'\n"
        << "case \"$*\" in *--after-cursor=*) exit 0;; esac\n"
        << "cat '" << (kFixtures / fixture).string() << "'\n";
    out.close();
    fs::permissions(script, fs::perms::owner_all);
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

  std::vector<nlohmann::json> Records() {
    std::vector<nlohmann::json> out;
    REQUIRE(store
                ->ForEachChunk({},
                               [&](const StoredChunk& c) {
                                 auto raw = ZstdDecompress(c.chunk.body, 64 << 20);
                                 REQUIRE(raw.ok());
                                 size_t start = 0;
                                 while (start < raw->size()) {
                                   const size_t nl = raw->find('\n', start);
                                   out.push_back(
                                       nlohmann::json::parse(raw->substr(start, nl - start)));
                                   start = nl + 1;
                                 }
                                 return true;
                               })
                .ok());
    return out;
  }

  std::string StoredCursor() {
    auto cps = store->LoadCheckpoints("sys");
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

std::string LastCursorOf(const std::string& fixture) {
  std::ifstream in(kFixtures / fixture, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = data.rfind("__CURSOR=");
  return data.substr(at + 9, data.find('\n', at) - at - 9);
}

}  // namespace

TEST_CASE("journal entries land in buffer.db with their cursor, and a rerun resumes after it",
          "[collect]") {
  if (!OnLinux()) return;  // covered by the "not available" case below
  Harness h;
  h.FakeJournalctl("binary.export");
  h.RunOnce();
  auto r = h.Records();
  REQUIRE(r.size() == 3);
  CHECK(r[0]["message"] ==
        "Traceback (most recent call last):\n  File \"app.py\", line 3\nValueError: bad\n");
  CHECK(r[0]["source"] == "journal");
  CHECK(r[0]["stream"] == "sys");
  CHECK(h.StoredCursor() == LastCursorOf("binary.export"));
  h.RunOnce();
  CHECK(h.Records().size() == 3);
  const auto args = h.Args();
  REQUIRE(args.size() == 2);
  CHECK(args[0] == "--output=export --no-pager --no-tail");
  CHECK(args[1] == "--output=export --no-pager --after-cursor=" + LastCursorOf("binary.export"));
}

TEST_CASE("journal entries read but not committed are read again, once", "[collect]") {
  if (!OnLinux()) return;
  Harness h;
  h.FakeJournalctl("text.export");
  {
    RecordContext ctx{"host", "id", "sys", "journal", {}};
    JournalSource s(h.config.journal_sources[0], ctx, h.config.buffer, h.clock, Logger::Discard());
    REQUIRE(s.Start(*h.store, *h.watcher).ok());
    REQUIRE(s.Read(/*flush_all=*/true) == Source::ReadOutcome::kIdle);
    CHECK(s.builder().records() == 3);
    // Dropped without a commit: the kill -9 case.
  }
  CHECK(h.StoredCursor().empty());
  h.RunOnce();
  CHECK(h.Records().size() == 3);
  h.RunOnce();
  CHECK(h.Records().size() == 3);
}

TEST_CASE("a missing journalctl is a problem, retried with a doubling backoff", "[collect]") {
  Harness h;  // no script written: the program does not exist
  RecordContext ctx{"host", "id", "sys", "journal", {}};
  JournalSource s(h.config.journal_sources[0], ctx, h.config.buffer, h.clock, Logger::Discard());
  REQUIRE(s.Start(*h.store, *h.watcher).ok());
  nlohmann::json js;
  if (!OnLinux()) {
    CHECK(s.Read(false) == Source::ReadOutcome::kIdle);
    js = nlohmann::json::parse(s.StatusJson());
    REQUIRE(js["problems"].size() == 1);
    CHECK(js["problems"][0]["cause"] == "not available");
    CHECK_FALSE(s.Deadline());
    return;
  }
  CHECK(s.Read(false) == Source::ReadOutcome::kIdle);
  js = nlohmann::json::parse(s.StatusJson());
  REQUIRE(js["problems"].size() == 1);
  CHECK(js["problems"][0]["cause"] == "cannot run journalctl");
  CHECK(js["journal"]["starts"] == 0);
  const MonoTime t0 = h.clock.Monotonic();
  REQUIRE(s.Deadline());
  CHECK(*s.Deadline() - t0 == kJournalRetryMin);
  // Not due yet: nothing happens.
  const uint64_t v = s.status_version();
  CHECK(s.Tick() == Source::ReadOutcome::kIdle);
  CHECK(s.status_version() == v);
  h.clock.Advance(kJournalRetryMin);
  CHECK(s.Tick() == Source::ReadOutcome::kIdle);
  CHECK(*s.Deadline() - h.clock.Monotonic() == 2 * kJournalRetryMin);
  for (int i = 0; i < 10; ++i) {
    h.clock.Advance(kJournalRetryMax);
    s.Tick();
  }
  CHECK(*s.Deadline() - h.clock.Monotonic() == kJournalRetryMax);
  // The program appears: the next attempt runs it and the problem clears.
  h.FakeJournalctl("text.export");
  h.clock.Advance(kJournalRetryMax);
  for (int i = 0; i < 200 && s.builder().records() < 3; ++i) {
    s.Tick();
    s.Read(false);
    h.watcher->Wait(std::chrono::milliseconds(10));
  }
  CHECK(s.builder().records() == 3);
  nlohmann::json after;
  after = nlohmann::json::parse(s.StatusJson());
  // A follow-mode journalctl that exits (this one does after its output) is a problem
  // of its own; the one about starting it is gone.
  for (const auto& p : after["problems"]) CHECK(p["cause"] == "journalctl exited");
  CHECK(after["journal"]["starts"] == 1);
}

}  // namespace outpost

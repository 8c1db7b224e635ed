// The event log source with a fake platform reader (an in-memory channel that honours
// bookmarks like the OS does): records and the bookmark committed with the chunk, a
// restart that resumes after the bookmark, a corrupt stored bookmark, a full chunk,
// retries with backoff. And the real platform reader through the pipeline: on Linux
// it must say that the Event Log is only available on Windows; on Windows (under Wine
// in CI) it either reads the Application channel or reports honestly why not.
#include <catch2/catch.hpp>

#include <memory>

#include <nlohmann/json.hpp>

#include "buffer/buffer_store.h"
#include "chunk/zstd_codec.h"
#include "collect/eventlog_source.h"
#include "collect/eventlog_xml.h"
#include "collect/pipeline.h"
#include "outpost/platform/change_watcher.h"
#include "outpost/platform/system.h"
#include "test_files.h"
#include "util/clock.h"
#include "util/logger.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;

std::string EventXml(uint64_t id) {
  return "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
         "<Provider Name='Service Control Manager'/><EventID Qualifiers='16384'>7036</EventID>"
         "<Level>4</Level><TimeCreated SystemTime='2026-11-30T10:15:32.1234567Z'/>"
         "<EventRecordID>" +
         std::to_string(id) +
         "</EventRecordID><Channel>System</Channel><Computer>w1</Computer></System>"
         "<EventData><Data Name='param1'>svc " +
         std::to_string(id) + "</Data></EventData></Event>";
}

std::string BookmarkXml(uint64_t id) {
  return "<BookmarkList>\r\n  <Bookmark Channel='System' RecordId='" + std::to_string(id) +
         "' IsCurrent='true'/>\r\n</BookmarkList>";
}

// The channel: events with record ids 1..n. What the fake OS was asked is kept.
struct FakeChannel {
  uint64_t events = 0;
  std::optional<platform::EventLogError> open_error;
  std::optional<platform::EventLogError> next_error;  // once, after the first batch
  std::vector<platform::EventLogOpenOptions> opens;
};

class FakeReader final : public platform::EventLogReader {
 public:
  FakeReader(FakeChannel& ch, uint64_t after, bool follow)
      : ch_(ch), next_(after + 1), follow_(follow) {}

  NextResult Next(size_t max, std::vector<platform::EventLogEntry>& out,
                  platform::EventLogError* error) override {
    if (served_ > 0 && ch_.next_error) {
      *error = *ch_.next_error;
      ch_.next_error.reset();
      return NextResult::kError;
    }
    if (next_ > ch_.events) return follow_ ? NextResult::kNone : NextResult::kEnd;
    for (size_t i = 0; i < max && next_ <= ch_.events; ++i, ++next_)
      out.push_back({EventXml(next_), BookmarkXml(next_), ""});
    ++served_;
    return NextResult::kEvents;
  }

 private:
  FakeChannel& ch_;
  uint64_t next_;
  bool follow_;
  int served_ = 0;
};

EventLogOpener FakeOpener(FakeChannel& ch) {
  return [&ch](const platform::EventLogOpenOptions& o,
               platform::EventLogError* error) -> std::unique_ptr<platform::EventLogReader> {
    ch.opens.push_back(o);
    if (ch.open_error) {
      *error = *ch.open_error;
      return nullptr;
    }
    uint64_t after = o.from_oldest ? 0 : ch.events;
    if (!o.bookmark_xml.empty()) {
      Result<std::vector<EventLogBookmark>> bm = ParseBookmarkXml(o.bookmark_xml);
      REQUIRE(bm.ok());  // the source never passes a bookmark it has not checked
      after = bm->front().record_id;
    }
    return std::make_unique<FakeReader>(ch, after, o.follow);
  };
}

class Harness {
 public:
  Harness() {
    config.agent.state_dir = dir.path() / "state";
    fs::create_directories(config.agent.state_dir);
    ec.name = "win";
    ec.channel = "System";
    ec.read_from = EventLogReadFrom::kHead;
    config.eventlog_sources.push_back(ec);
    watcher = platform::CreateChangeWatcher(false);
    BufferStore::Options o;
    o.file = config.agent.state_dir / "buffer.db";
    auto s = BufferStore::Open(o, clock, Logger::Discard());
    REQUIRE(s.ok());
    store = std::move(s).value();
  }

  std::unique_ptr<EventLogSource> Source() {
    return std::make_unique<EventLogSource>(ec, RecordContext{"host", "id", "win", "eventlog", {}},
                                            config.buffer, clock, Logger::Discard(),
                                            FakeOpener(channel));
  }

  // What the pipeline does at a commit: the chunk and the checkpoint in one batch.
  void Commit(EventLogSource& s) {
    CommitBatch batch;
    if (!s.builder().empty()) {
      Result<SealedChunk> chunk = s.builder().Seal();
      REQUIRE(chunk.ok());
      batch.chunk = std::move(chunk).value();
    }
    s.CollectCheckpoints(batch);
    REQUIRE(store->Commit(batch).ok());
    s.Committed();
  }

  void StoreCursor(const std::string& cursor) {
    CommitBatch batch;
    Checkpoint cp;
    cp.source = "win";
    cp.path = "eventlog:System";
    cp.cursor = cursor;
    batch.upserts.push_back(cp);
    REQUIRE(store->Commit(batch).ok());
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
    auto cps = store->LoadCheckpoints("win");
    REQUIRE(cps.ok());
    for (const Checkpoint& cp : *cps)
      if (!cp.cursor.empty()) return cp.cursor;
    return "";
  }

  testing::TempDir dir;
  FakeClock clock;
  Config config;
  EventLogSourceConfig ec;
  FakeChannel channel;
  std::unique_ptr<platform::ChangeWatcher> watcher;
  std::unique_ptr<BufferStore> store;
};

}  // namespace

TEST_CASE("eventlog source: events land with their bookmark; a restart resumes after it",
          "[collect]") {
  Harness h;
  h.channel.events = 100;
  {
    auto s = h.Source();
    REQUIRE(s->Start(*h.store, *h.watcher).ok());
    CHECK(s->Read(/*flush_all=*/true) == Source::ReadOutcome::kIdle);
    CHECK(s->builder().records() == 100);
    h.Commit(*s);
    CHECK(s->committed_bookmark() == BookmarkXml(100));
    const nlohmann::json st = nlohmann::json::parse(s->StatusJson());
    CHECK(st["problems"].empty());
    CHECK(st["eventlog"]["last_record_id"] == 100);
    CHECK(st["eventlog"]["events_read"] == 100);
    CHECK(st["eventlog"]["channel"] == "System");
  }
  REQUIRE(h.channel.opens.size() == 1);
  CHECK(h.channel.opens[0].bookmark_xml.empty());
  CHECK(h.channel.opens[0].from_oldest);
  CHECK_FALSE(h.channel.opens[0].follow);
  CHECK(h.StoredCursor() == BookmarkXml(100));
  auto r = h.Records();
  REQUIRE(r.size() == 100);
  CHECK(r[0]["record_id"] == 1);
  CHECK(r[0]["event_id"] == 7036);
  CHECK(r[0]["source"] == "eventlog");
  CHECK(r[0]["stream"] == "win");
  CHECK(r[0]["event_data"]["param1"] == "svc 1");
  CHECK(r[99]["record_id"] == 100);

  // New events, then a restart: only those are read.
  h.channel.events = 130;
  {
    auto s = h.Source();
    REQUIRE(s->Start(*h.store, *h.watcher).ok());
    CHECK(s->Read(true) == Source::ReadOutcome::kIdle);
    CHECK(s->builder().records() == 30);
    h.Commit(*s);
  }
  REQUIRE(h.channel.opens.size() == 2);
  CHECK(h.channel.opens[1].bookmark_xml == BookmarkXml(100));
  r = h.Records();
  REQUIRE(r.size() == 130);
  CHECK(r[100]["record_id"] == 101);
  CHECK(h.StoredCursor() == BookmarkXml(130));
}

TEST_CASE("eventlog source: events read but not committed are read again, once", "[collect]") {
  Harness h;
  h.channel.events = 10;
  {
    auto s = h.Source();
    REQUIRE(s->Start(*h.store, *h.watcher).ok());
    s->Read(true);
    CHECK(s->builder().records() == 10);
    // Dropped without a commit: the kill -9 case.
  }
  CHECK(h.StoredCursor().empty());
  auto s = h.Source();
  REQUIRE(s->Start(*h.store, *h.watcher).ok());
  s->Read(true);
  h.Commit(*s);
  CHECK(h.Records().size() == 10);
}

TEST_CASE("eventlog source: a full chunk checkpoints the last event in it, not the last read",
          "[collect]") {
  Harness h;
  h.config.buffer.chunk_max_bytes = 2000;  // a few events per chunk
  h.channel.events = 50;
  auto s = h.Source();
  REQUIRE(s->Start(*h.store, *h.watcher).ok());
  REQUIRE(s->Read(true) == Source::ReadOutcome::kChunkFull);
  const uint64_t first = s->builder().records();
  CHECK(first > 0);
  CHECK(first < 50);
  h.Commit(*s);
  CHECK(h.StoredCursor() == BookmarkXml(first));
  int guard = 0;
  while (s->Read(true) == Source::ReadOutcome::kChunkFull && ++guard < 100) h.Commit(*s);
  h.Commit(*s);
  const auto r = h.Records();
  REQUIRE(r.size() == 50);
  for (size_t i = 0; i < r.size(); ++i) CHECK(r[i]["record_id"] == i + 1);
  CHECK(h.StoredCursor() == BookmarkXml(50));
}

TEST_CASE("eventlog source: a corrupt stored bookmark is reported and not used", "[collect]") {
  Harness h;
  h.channel.events = 5;
  SECTION("not bookmark XML") { h.StoreCursor("<BookmarkList><Bookmark Channel='System' RecordI"); }
  SECTION("another channel") {
    h.StoreCursor("<BookmarkList><Bookmark Channel='Application' RecordId='3'/></BookmarkList>");
  }
  auto s = h.Source();
  REQUIRE(s->Start(*h.store, *h.watcher).ok());
  nlohmann::json st = nlohmann::json::parse(s->StatusJson());
  REQUIRE(st["problems"].size() == 1);
  CHECK(st["problems"][0]["cause"] == "bookmark not usable");
  CHECK(st["problems"][0]["message"].get<std::string>().find("starts from the oldest event") !=
        std::string::npos);
  s->Read(true);
  REQUIRE(h.channel.opens.size() == 1);
  CHECK(h.channel.opens[0].bookmark_xml.empty());  // never passed to the OS
  CHECK(s->builder().records() == 5);              // read_from = head
  h.Commit(*s);
  CHECK(h.StoredCursor() == BookmarkXml(5));  // replaced by a good one
  st = nlohmann::json::parse(s->StatusJson());
  CHECK(st["problems"].empty());
}

TEST_CASE("eventlog source: a missing channel is a problem, retried with a doubling backoff",
          "[collect]") {
  Harness h;
  h.channel.open_error = platform::EventLogError{platform::EventLogErrorKind::kChannelNotFound,
                                                 15007, "The channel could not be found"};
  auto s = h.Source();
  REQUIRE(s->Start(*h.store, *h.watcher).ok());
  CHECK(s->Read(false) == Source::ReadOutcome::kIdle);
  nlohmann::json st = nlohmann::json::parse(s->StatusJson());
  REQUIRE(st["problems"].size() == 1);
  CHECK(st["problems"][0]["cause"] == "channel not found");
  CHECK(st["problems"][0]["path"] == "System");
  CHECK(st["eventlog"]["open"] == false);
  const MonoTime t0 = h.clock.Monotonic();
  REQUIRE(s->Deadline());
  CHECK(*s->Deadline() - t0 == kEventLogRetryMin);
  CHECK(s->Tick() == Source::ReadOutcome::kIdle);  // not due: no attempt
  CHECK(h.channel.opens.size() == 1);
  h.clock.Advance(kEventLogRetryMin);
  CHECK(s->Tick() == Source::ReadOutcome::kIdle);
  CHECK(h.channel.opens.size() == 2);
  CHECK(*s->Deadline() - h.clock.Monotonic() == 2 * kEventLogRetryMin);
  for (int i = 0; i < 10; ++i) {
    h.clock.Advance(kEventLogRetryMax);
    s->Tick();
  }
  CHECK(*s->Deadline() - h.clock.Monotonic() == kEventLogRetryMax);
  // The channel appears (e.g. Sysmon installed): events flow and the problem clears.
  h.channel.open_error.reset();
  h.channel.events = 3;
  h.clock.Advance(kEventLogRetryMax);
  s->Tick();
  CHECK(s->builder().records() == 3);
  CHECK_FALSE(s->Deadline());  // open: its signal wakes the loop
  st = nlohmann::json::parse(s->StatusJson());
  CHECK(st["problems"].empty());
  CHECK(h.channel.opens.back().follow);
}

TEST_CASE("eventlog source: a read error reopens after the last event read", "[collect]") {
  Harness h;
  h.channel.events = 100;  // two batches
  h.channel.next_error = platform::EventLogError{platform::EventLogErrorKind::kOther, 1726,
                                                 "The remote procedure call failed"};
  auto s = h.Source();
  REQUIRE(s->Start(*h.store, *h.watcher).ok());
  s->Read(false);
  CHECK(s->builder().records() == kEventLogBatch);
  nlohmann::json st = nlohmann::json::parse(s->StatusJson());
  REQUIRE(st["problems"].size() == 1);
  CHECK(st["problems"][0]["cause"] == "event log error");
  h.clock.Advance(kEventLogRetryMin);
  s->Tick();
  REQUIRE(h.channel.opens.size() == 2);
  CHECK(h.channel.opens[1].bookmark_xml == BookmarkXml(kEventLogBatch));
  CHECK(s->builder().records() == 100);
  h.Commit(*s);
  CHECK(h.Records().size() == 100);
}

TEST_CASE("eventlog source: an unreadable event is kept as a record with its error", "[collect]") {
  Harness h;
  auto opener = [](const platform::EventLogOpenOptions&,
                   platform::EventLogError*) -> std::unique_ptr<platform::EventLogReader> {
    class One final : public platform::EventLogReader {
     public:
      NextResult Next(size_t, std::vector<platform::EventLogEntry>& out,
                      platform::EventLogError*) override {
        if (done_) return NextResult::kEnd;
        done_ = true;
        out.push_back({"<Event><System><EventID>1</Even", BookmarkXml(1), ""});
        out.push_back({"", BookmarkXml(2), "cannot render an event: error 15027"});
        return NextResult::kEvents;
      }
      bool done_ = false;
    };
    return std::make_unique<One>();
  };
  EventLogSource s(h.ec, RecordContext{"host", "id", "win", "eventlog", {}}, h.config.buffer,
                   h.clock, Logger::Discard(), opener);
  REQUIRE(s.Start(*h.store, *h.watcher).ok());
  s.Read(true);
  h.Commit(s);
  const auto r = h.Records();
  REQUIRE(r.size() == 2);
  CHECK(r[0]["message"] == "<Event><System><EventID>1</Even");
  CHECK(r[0]["xml_error"].get<std::string>().starts_with("truncated"));
  CHECK(r[1]["xml_error"] == "cannot render an event: error 15027");
  CHECK(h.StoredCursor() == BookmarkXml(2));
  CHECK(nlohmann::json::parse(s.StatusJson())["eventlog"]["unreadable_events"] == 2);
}

TEST_CASE("eventlog source: not available on this OS: says so and stays idle", "[collect]") {
  Harness h;
  h.channel.open_error =
      platform::EventLogError{platform::EventLogErrorKind::kNotAvailable, 0, "not here"};
  auto s = h.Source();
  REQUIRE(s->Start(*h.store, *h.watcher).ok());
  CHECK(s->Read(false) == Source::ReadOutcome::kIdle);
  CHECK(s->Read(false) == Source::ReadOutcome::kIdle);
  CHECK(h.channel.opens.size() == 1);  // no retries
  CHECK_FALSE(s->Deadline());
  const nlohmann::json st = nlohmann::json::parse(s->StatusJson());
  REQUIRE(st["problems"].size() == 1);
  CHECK(st["problems"][0]["cause"] == "not available");
}

TEST_CASE("eventlog source: the real platform reader through the pipeline", "[collect]") {
  Harness h;
  h.config.eventlog_sources[0].channel = "Application";
  h.config.eventlog_sources[0].name = "app";
  {
    Pipeline p(h.config, {"id", "host", "test", 1}, *h.store, *h.watcher, h.clock,
               Logger::Discard());
    REQUIRE(p.Start().ok());
    REQUIRE(p.RunOnce().ok());  // never fails the run, whatever the OS says
  }
  auto text = h.store->GetState(kStatusKey);
  REQUIRE(text.ok());
  REQUIRE(text->has_value());
  const nlohmann::json status = nlohmann::json::parse(**text);
  REQUIRE(status["sources"].size() == 1);
  const nlohmann::json& src = status["sources"][0];
  CHECK(src["type"] == "eventlog");
  CHECK(src["started"] == true);
  CHECK(src["eventlog"]["channel"] == "Application");
  const nlohmann::json& problems = src["problems"];
  INFO(src.dump());
  if (platform::OsName() != "windows") {
    REQUIRE(problems.size() == 1);
    CHECK(problems[0]["cause"] == "not available");
    CHECK(problems[0]["message"].get<std::string>().find(
              "the Windows Event Log is only available on Windows") != std::string::npos);
    CHECK(src["eventlog"]["opens"] == 0);
    return;
  }
  // Windows (Wine in CI): either the channel was read, or the reason it could not be is
  // the OS's own error, with its code, under a known cause.
  if (problems.empty()) {
    CHECK(src["eventlog"]["opens"] == 1);
    return;
  }
  REQUIRE(problems.size() == 1);
  const std::string cause = problems[0]["cause"];
  CHECK((cause == "not implemented" || cause == "channel not found" || cause == "access denied" ||
         cause == "event log error"));
  CHECK(problems[0]["message"].get<std::string>().find("(error ") != std::string::npos);
  CHECK(src["eventlog"]["opens"] == 0);
}

}  // namespace outpost

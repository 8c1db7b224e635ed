// The file source and the pipeline over real files in a temp dir, with a FakeClock
// for every timer and the polling watcher (no sleeping, no kernel events needed).
// The crash cases drop a source or pipeline without committing, which is exactly
// what a kill -9 does to the in-memory state.
#include <catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "buffer/buffer_store.h"
#include "buffer/delivered_positions.h"
#include "chunk/zstd_codec.h"
#include "collect/file_source.h"
#include "collect/pipeline.h"
#include "outpost/platform/change_watcher.h"
#include "outpost/platform/file_system.h"
#include "test_files.h"
#include "util/clock.h"
#include "util/logger.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;

void Append(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::app);
  out << text;
}

void Overwrite(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string Lines(int from, int to) {
  std::string s;
  for (int i = from; i <= to; ++i) s += "line " + std::to_string(i) + "\n";
  return s;
}

class Harness {
 public:
  Harness() {
    config.agent.state_dir = dir.path() / "state";
    fs::create_directories(config.agent.state_dir);
    FileSourceConfig fc;
    fc.name = "app";
    fc.paths = {(dir.path() / "*.log").string()};
    fc.start_at = StartAt::kBeginning;
    config.file_sources.push_back(fc);
    watcher = platform::CreateChangeWatcher(false);
    Reopen();
  }

  FileSourceConfig& source() { return config.file_sources[0]; }
  fs::path log(const std::string& name = "app.log") const { return dir.path() / name; }

  void Reopen() {
    store.reset();
    BufferStore::Options o;
    o.file = config.agent.state_dir / "buffer.db";
    auto s = BufferStore::Open(o, clock, Logger::Discard());
    REQUIRE(s.ok());
    store = std::move(s).value();
  }

  // One `outpost run --once`.
  void RunOnce() {
    Pipeline p(config, {"id", "host", "test", 1}, *store, *watcher, clock, Logger::Discard());
    REQUIRE(p.Start().ok());
    REQUIRE(p.RunOnce().ok());
  }

  std::unique_ptr<FileSource> NewSource() {
    RecordContext ctx{"host", "id", "app", "file", {}};
    auto s = std::make_unique<FileSource>(source(), ctx, config.buffer, clock, Logger::Discard());
    REQUIRE(s->Start(*store, *watcher).ok());
    return s;
  }

  // Seals the source's chunk and commits it with its checkpoints.
  void Commit(FileSource& s) {
    CommitBatch batch;
    if (!s.builder().empty()) batch.chunk = std::move(s.builder().Seal()).value();
    s.CollectCheckpoints(batch);
    REQUIRE(store->Commit(batch).ok());
    s.Committed();
  }

  std::vector<nlohmann::json> Records() {
    std::vector<nlohmann::json> out;
    REQUIRE(store
                ->ForEachChunk({},
                               [&](const StoredChunk& c) {
                                 std::string body = *ZstdDecompress(c.chunk.body, 1 << 30);
                                 size_t pos = 0;
                                 while (pos < body.size()) {
                                   const size_t nl = body.find('\n', pos);
                                   out.push_back(nlohmann::json::parse(body.substr(pos, nl - pos)));
                                   pos = nl + 1;
                                 }
                                 return true;
                               })
                .ok());
    return out;
  }

  std::vector<std::string> Messages() {
    std::vector<std::string> m;
    for (const auto& r : Records()) m.push_back(r["message"]);
    return m;
  }

  testing::TempDir dir;
  FakeClock clock;
  Config config;
  std::unique_ptr<platform::ChangeWatcher> watcher;
  std::unique_ptr<BufferStore> store;
};

std::vector<std::string> Expect(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i <= to; ++i) v.push_back("line " + std::to_string(i));
  return v;
}

TEST_CASE("lines read but not committed are read again after a crash, once", "[collect]") {
  Harness h;
  Append(h.log(), Lines(1, 100));
  {
    auto s = h.NewSource();
    REQUIRE(s->Read() == FileSource::ReadOutcome::kIdle);
    CHECK(s->builder().records() == 100);
    // Dropped without a commit: the kill -9 case.
  }
  h.RunOnce();
  CHECK(h.Messages() == Expect(1, 100));
  Append(h.log(), Lines(101, 150));
  h.RunOnce();
  h.RunOnce();
  CHECK(h.Messages() == Expect(1, 150));
}

TEST_CASE("offsets in records point at each line's first byte", "[collect]") {
  Harness h;
  Overwrite(h.log(), "a\nbb\r\nccc\n");
  h.RunOnce();
  auto r = h.Records();
  REQUIRE(r.size() == 3);
  CHECK(r[0]["offset"] == 0);
  CHECK(r[1]["offset"] == 2);
  CHECK(r[1]["message"] == "bb");  // CR of CRLF removed
  CHECK(r[2]["offset"] == 6);
}

TEST_CASE("a partial last line is held until it is completed", "[collect]") {
  Harness h;
  Overwrite(h.log(), "first\nsec");
  h.RunOnce();
  CHECK(h.Messages() == std::vector<std::string>{"first"});
  Append(h.log(), "ond\n");
  h.RunOnce();
  CHECK(h.Messages() == std::vector<std::string>{"first", "second"});
}

TEST_CASE("a partial last line is sent as is once kPartialLineWait passes", "[collect]") {
  Harness h;
  Overwrite(h.log(), "no newline yet");
  auto s = h.NewSource();
  s->Read();
  CHECK(s->builder().empty());
  REQUIRE(s->Deadline().has_value());
  h.clock.Advance(kPartialLineWait);
  s->Tick();
  CHECK(s->builder().records() == 1);
  h.Commit(*s);
  CHECK(h.Messages() == std::vector<std::string>{"no newline yet"});
}

TEST_CASE("copytruncate rotation resumes at offset 0", "[collect]") {
  Harness h;
  Append(h.log(), Lines(1, 50));
  auto s = h.NewSource();
  s->Read();
  h.Commit(*s);
  Overwrite(h.log(), Lines(51, 52));  // shorter than what was read
  s->Read();
  h.Commit(*s);
  CHECK(h.Messages() == Expect(1, 52));
}

TEST_CASE("rename-and-create: the old file is read to its end, then the new one", "[collect]") {
  Harness h;
  h.source().paths = {h.log().string()};  // only app.log, not app.log.1
  Append(h.log(), Lines(1, 10));
  auto s = h.NewSource();
  s->Read();
  h.Commit(*s);
  fs::rename(h.log(), h.log("app.log.1"));
  Append(h.log("app.log.1"), Lines(11, 20));  // the writer had not reopened yet
  Append(h.log(), Lines(21, 30));
  s->Rescan();
  s->Read();
  h.Commit(*s);
  CHECK(h.Messages() == Expect(1, 30));
  // The rotated file is let go once it has been idle for kRotateWait.
  h.clock.Advance(kRotateWait);
  s->Tick();
  h.Commit(*s);
  auto cps = h.store->LoadCheckpoints("app");
  REQUIRE(cps.ok());
  REQUIRE(cps->size() == 1);
  CHECK(cps->front().path == h.log().string());
}

TEST_CASE("a file rotated while the agent was down is read to its end before its successor",
          "[collect]") {
  Harness h;
  h.source().paths = {h.log().string()};
  Append(h.log(), Lines(1, 10));
  h.RunOnce();
  Append(h.log(), Lines(11, 15));  // written after the agent stopped
  fs::rename(h.log(), h.log("app.log.1"));
  Append(h.log(), Lines(16, 20));
  h.RunOnce();
  CHECK(h.Messages() == Expect(1, 20));
}

TEST_CASE("--once lets go of a rotated file it has read to its end", "[collect]") {
  Harness h;
  h.source().paths = {h.log().string()};
  Append(h.log(), Lines(1, 10));
  h.RunOnce();
  fs::rename(h.log(), h.log("app.log.1"));
  Append(h.log("app.log.1"), Lines(11, 12));
  Append(h.log(), Lines(13, 14));
  h.RunOnce();
  CHECK(h.Messages() == Expect(1, 14));
  auto cps = h.store->LoadCheckpoints("app");
  REQUIRE(cps.ok());
  REQUIRE(cps->size() == 1);
  CHECK(cps->front().path == h.log().string());
}

TEST_CASE("a file shorter than its checkpoint after a stop is read from the start", "[collect]") {
  Harness h;
  Append(h.log(), Lines(1, 10) + std::string(300, 'x') + "\n");
  h.RunOnce();
  // Truncated in place and refilled with less than before, same first bytes.
  Overwrite(h.log(), Lines(1, 10));
  h.RunOnce();
  auto m = h.Messages();
  REQUIRE(m.size() == 21);
  CHECK(std::vector<std::string>(m.begin() + 11, m.end()) == Expect(1, 10));
}

TEST_CASE("a checkpoint whose fingerprint does not match is a new file, read from 0", "[collect]") {
  Harness h;
  Append(h.log(), Lines(1, 10));
  h.RunOnce();
  // Same inode, same size, different first bytes: not the file the checkpoint is for.
  std::string other = Lines(1, 10);
  other[0] = 'L';
  {
    std::fstream f(h.log(), std::ios::in | std::ios::out | std::ios::binary);
    f << other;
  }
  h.RunOnce();
  auto m = h.Messages();
  REQUIRE(m.size() == 20);
  CHECK(m[10] == "Line 1");
}

// What the shipper writes to delivered.json once every chunk of the source is delivered.
void SaveDelivered(Harness& h) {
  auto cps = h.store->LoadCheckpoints("app");
  REQUIRE(cps.ok());
  DeliveredPositions p;
  p["app"] = *cps;
  REQUIRE(SaveDeliveredPositions(DeliveredPositionsPath(h.store->file()), p).ok());
}

// buffer.db destroyed while the agent was down (a fresh one replaces it).
void LoseBuffer(Harness& h) {
  h.store.reset();
  for (const char* name : {"buffer.db", "buffer.db-wal", "buffer.db-shm"})
    fs::remove(h.config.agent.state_dir / name);
  h.Reopen();
}

TEST_CASE("after buffer.db is lost, a file resumes at its delivered offset", "[collect]") {
  Harness h;
  Append(h.log(), Lines(1, 10));
  h.RunOnce();
  SaveDelivered(h);  // lines 1-10 delivered
  Append(h.log(), Lines(11, 15));
  h.RunOnce();  // 11-15 only in buffer.db
  SECTION("start_at = beginning") {}
  SECTION("start_at = end: the fresh buffer.db is not a first run for a known file") {
    h.source().start_at = StartAt::kEnd;
  }
  LoseBuffer(h);
  Append(h.log(), Lines(16, 17));
  h.RunOnce();
  CHECK(h.Messages() == Expect(11, 17));  // nothing lost, nothing delivered sent again
}

TEST_CASE("delivered.json is not used for a file whose first bytes changed", "[collect]") {
  Harness h;
  Append(h.log(), Lines(1, 10));
  h.RunOnce();
  SaveDelivered(h);
  std::string other = Lines(1, 12);  // same inode, other content
  other[0] = 'L';
  {
    std::fstream f(h.log(), std::ios::in | std::ios::out | std::ios::binary);
    f << other;
  }
  LoseBuffer(h);
  h.RunOnce();
  auto m = h.Messages();
  REQUIRE(m.size() == 12);
  CHECK(m[0] == "Line 1");
}

TEST_CASE("a checkpoint past the end with unchanged first bytes resumes at the delivered offset",
          "[collect]") {
  Harness h;
  Append(h.log(), Lines(1, 10));
  h.RunOnce();
  SaveDelivered(h);
  Append(h.log(), Lines(11, 12));
  h.RunOnce();  // 11-12 committed, not delivered
  auto cps = h.store->LoadCheckpoints("app");
  REQUIRE(cps.ok());
  REQUIRE(cps->size() == 1);
  CommitBatch damage;  // the row damaged: an offset far past the end
  damage.upserts = {cps->front()};
  damage.upserts[0].offset += 1000000;
  REQUIRE(h.store->Commit(damage).ok());
  Append(h.log(), Lines(13, 13));
  h.RunOnce();
  std::vector<std::string> want = Expect(1, 12);
  for (const std::string& line : Expect(11, 13)) want.push_back(line);
  CHECK(h.Messages() == want);  // 11-12 again (not known delivered), 1-10 not
}

TEST_CASE("start_at = end skips what exists on the very first run only", "[collect]") {
  Harness h;
  h.source().start_at = StartAt::kEnd;
  Append(h.log(), Lines(1, 10));
  h.RunOnce();
  CHECK(h.Messages().empty());
  Append(h.log(), Lines(11, 12));
  Append(h.log("new.log"), "fresh\n");  // a new file after the first run: from 0
  h.RunOnce();
  auto m = h.Messages();
  std::sort(m.begin(), m.end());
  CHECK(m == std::vector<std::string>{"fresh", "line 11", "line 12"});
}

TEST_CASE("an over-long line is cut at max_line_bytes and the next line is intact", "[collect]") {
  Harness h;
  h.source().max_line_bytes = 1024;
  Overwrite(h.log(), std::string(3 * kReadBlock, 'x') + "\nafter\n");
  h.RunOnce();
  auto r = h.Records();
  REQUIRE(r.size() == 2);
  CHECK(r[0]["message"].get<std::string>() == std::string(1024, 'x'));
  CHECK(r[0]["truncated"] == true);
  CHECK(r[1]["message"] == "after");
  CHECK(r[1]["offset"] == 3 * kReadBlock + 1);
}

TEST_CASE("UTF-16LE with a BOM and Latin-1 are decoded to UTF-8", "[collect]") {
  Harness h;
  h.source().encoding = TextEncoding::kUtf16Le;
  std::string u16 = "\xff\xfe";
  for (char c : std::string("hi\r\n")) u16 += std::string{c, '\0'};
  u16 += std::string("\xe9\x00\n\x00", 4);
  Overwrite(h.log(), u16);
  h.RunOnce();
  CHECK(h.Messages() == std::vector<std::string>{"hi", "\xc3\xa9"});

  Harness l;
  l.source().encoding = TextEncoding::kLatin1;
  Overwrite(l.log(), "caf\xe9\n");
  l.RunOnce();
  CHECK(l.Messages() == std::vector<std::string>{"caf\xc3\xa9"});
}

TEST_CASE("multiline joins a stack trace into one record with the range of its lines",
          "[collect]") {
  Harness h;
  h.source().multiline = MultilineConfig{"^\\d{4}-", 500, std::chrono::seconds(1)};
  Overwrite(h.log(),
            "2026-01-01 ERROR boom\n  at a.b(C.java:1)\n  at d.e(F.java:2)\n2026-01-01 INFO ok\n");
  h.RunOnce();
  auto r = h.Records();
  REQUIRE(r.size() == 2);
  CHECK(r[0]["message"] == "2026-01-01 ERROR boom\n  at a.b(C.java:1)\n  at d.e(F.java:2)");
  CHECK(r[0]["offset"] == 0);
  CHECK(r[1]["message"] == "2026-01-01 INFO ok");
}

TEST_CASE("a binary file is reported once and the other files go on", "[collect]") {
  Harness h;
  Overwrite(h.log("bin.log"), std::string("\x7f"
                                          "ELF\0\0\0",
                                          7) +
                                  std::string(100, '\0'));
  Overwrite(h.log(), "text\n");
  auto s = h.NewSource();
  s->Read();
  h.Commit(*s);
  CHECK(h.Messages() == std::vector<std::string>{"text"});
  const FileSourceStatus st = s->status();
  REQUIRE(st.problems.size() == 1);
  CHECK(st.problems[0].cause == "binary file");
  CHECK(st.problems[0].path == h.log("bin.log").string());
}

TEST_CASE("a full chunk is sealed mid-file and the rest follows in the next", "[collect]") {
  Harness h;
  h.config.buffer.chunk_max_bytes = 4096;
  Append(h.log(), Lines(1, 2000));
  h.RunOnce();
  CHECK(h.Messages() == Expect(1, 2000));
  auto st = h.store->Stats();
  REQUIRE(st.ok());
  CHECK(st->chunks > 10);
}

}  // namespace
}  // namespace outpost

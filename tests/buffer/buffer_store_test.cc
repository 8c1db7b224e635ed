#include <catch.hpp>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "buffer/buffer_store.h"
#include "buffer/sqlite_db.h"
#include "test_files.h"
#include "util/clock.h"
#include "util/logger.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr int64_t kStartMs = 1767225600000;  // FakeClock's 2026-01-01T00:00:00Z

std::string ReadBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(gen() & 0xff);
  return out;
}

SealedChunk MakeChunk(std::string stream, int64_t created_at_ms, std::string body) {
  SealedChunk c;
  c.stream = std::move(stream);
  c.created_at_ms = created_at_ms;
  c.records = 3;
  c.raw_bytes = body.size() * 4;
  c.body = std::move(body);
  return c;
}

Checkpoint MakeCheckpoint(std::string source, uint64_t inode, uint64_t offset) {
  Checkpoint cp;
  cp.source = std::move(source);
  cp.device = 2049;
  cp.inode = inode;
  cp.fingerprint = 0x1234;
  cp.fingerprint_len = 1024;
  cp.path = "/var/log/app-" + std::to_string(inode) + ".log";
  cp.offset = offset;
  return cp;
}

// A SQLite connection of its own, as another process would have.
Db OtherConnection(const fs::path& file, int busy_timeout_ms = 5000) {
  Result<Db> db =
      Db::Open(file, {.read_only = false, .create = false, .busy_timeout_ms = busy_timeout_ms});
  REQUIRE(db.ok());
  return std::move(*db);
}

// Moves a live chunk to dead_chunks the way the shipper will.
void KillChunk(const fs::path& file, int64_t id, const std::string& reason) {
  Db db = OtherConnection(file);
  const std::string n = std::to_string(id);
  REQUIRE(db.Exec("INSERT INTO dead_chunks SELECT id, stream, created_at, records, raw_bytes, "
                  "stored_bytes, codec, format, attempts, next_attempt_at, last_error, '" +
                  reason + "', 42, body FROM chunks WHERE id = " + n +
                  "; DELETE FROM chunks WHERE id = " + n)
              .ok());
}

std::vector<StoredChunk> AllChunks(BufferStore& store, const ChunkFilter& filter = {}) {
  std::vector<StoredChunk> out;
  REQUIRE(store
              .ForEachChunk(filter,
                            [&](const StoredChunk& c) {
                              out.push_back(c);
                              return true;
                            })
              .ok());
  return out;
}

class CapturingSink final : public LogSink {
 public:
  void Write(const LogRecord& r) override {
    lines.push_back(std::string(LogLevelName(r.level)) + " " + std::string(r.component) + ": " +
                    std::string(r.message));
  }
  std::vector<std::string> lines;
};

struct Fixture {
  TempDir dir;
  FakeClock clock;
  fs::path file = dir.path() / "buffer.db";

  BufferStore::Options Options() const {
    BufferStore::Options o;
    o.file = file;
    return o;
  }
  std::unique_ptr<BufferStore> Open(BufferStore::Options o) {
    auto store = BufferStore::Open(o, clock, Logger::Discard());
    INFO(store.status().ToString());
    REQUIRE(store.ok());
    return std::move(*store);
  }
  std::unique_ptr<BufferStore> Open() { return Open(Options()); }
};

}  // namespace

TEST_CASE("a fresh buffer is created with schema version 1 in WAL mode", "[buffer]") {
  Fixture f;
  auto store = f.Open();
  CHECK_FALSE(store->quarantined());
  auto stats = store->Stats();
  REQUIRE(stats.ok());
  CHECK(stats->schema_version == 1);
  CHECK(stats->chunks == 0);
  CHECK(stats->oldest_created_at_ms == 0);
  CHECK(stats->file == f.file);
  CHECK(stats->file_bytes > 0);
  CHECK(store->used_bytes() == 0);

  Db db = OtherConnection(f.file);
  auto mode = db.Prepare("PRAGMA journal_mode");
  REQUIRE(mode.ok());
  REQUIRE(*mode->Step());
  CHECK(mode->ColumnText(0) == "wal");
  auto version = db.Prepare("SELECT value FROM state WHERE key = 'schema_version'");
  REQUIRE(version.ok());
  REQUIRE(*version->Step());
  CHECK(version->ColumnText(0) == "1");
  auto tables = db.Prepare(
      "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'table' "
      "AND name NOT LIKE 'sqlite_%' ORDER BY name)");
  REQUIRE(tables.ok());
  REQUIRE(*tables->Step());
  CHECK(tables->ColumnText(0) == "check_state,checkpoints,chunks,dead_chunks,state");
}

TEST_CASE("a chunk and its checkpoints are committed together and survive a reopen", "[buffer]") {
  Fixture f;
  int64_t id = 0;
  {
    auto store = f.Open();
    CommitBatch batch;
    batch.chunk = MakeChunk("app", kStartMs - 5, "zstd-body");
    batch.upserts = {MakeCheckpoint("app", 7, 100), MakeCheckpoint("app", 8, 200)};
    auto committed = store->Commit(batch);
    REQUIRE(committed.ok());
    id = *committed;
    CHECK(id > 0);
    CHECK(store->used_bytes() == 9);
  }
  f.clock.Advance(std::chrono::seconds(3));
  auto store = f.Open();
  auto chunks = AllChunks(*store);
  REQUIRE(chunks.size() == 1);
  const StoredChunk& c = chunks[0];
  CHECK(c.id == id);
  CHECK(c.chunk.stream == "app");
  CHECK(c.chunk.created_at_ms == kStartMs - 5);
  CHECK(c.chunk.records == 3);
  CHECK(c.chunk.raw_bytes == 36);
  CHECK(c.chunk.codec == "zstd");
  CHECK(c.chunk.format == "ndjson");
  CHECK(c.chunk.body == "zstd-body");
  CHECK(c.attempts == 0);
  CHECK(c.next_attempt_at_ms == 0);
  CHECK(c.last_error.empty());
  CHECK_FALSE(c.dead);
  CHECK(store->used_bytes() == 9);

  auto cps = store->LoadCheckpoints("app");
  REQUIRE(cps.ok());
  REQUIRE(cps->size() == 2);
  CHECK((*cps)[0].inode == 7);
  CHECK((*cps)[0].offset == 100);
  CHECK((*cps)[0].path == "/var/log/app-7.log");
  CHECK((*cps)[0].updated_at_ms == kStartMs);  // set by Commit from the clock
  CHECK((*cps)[1].offset == 200);

  // A batch without a chunk: move one checkpoint on, forget the other.
  CommitBatch next;
  next.upserts = {MakeCheckpoint("app", 7, 150)};
  next.deletes = {CheckpointId{"app", 2049, 8}};
  auto r = store->Commit(next);
  REQUIRE(r.ok());
  CHECK(*r == 0);
  cps = store->LoadCheckpoints();
  REQUIRE(cps.ok());
  REQUIRE(cps->size() == 1);
  CHECK((*cps)[0].offset == 150);
  CHECK((*cps)[0].updated_at_ms == kStartMs + 3000);
  CHECK(store->LoadCheckpoints("other")->empty());
}

TEST_CASE("a batch that fails half-way writes nothing", "[buffer]") {
  Fixture f;
  auto store = f.Open();
  REQUIRE(store->Commit({MakeChunk("app", kStartMs, "first"), {MakeCheckpoint("app", 1, 10)}, {}})
              .ok());
  // Fault injection: any checkpoint of source "boom" makes its upsert fail, after the
  // chunk and the first checkpoint of the batch were already written.
  {
    Db db = OtherConnection(f.file);
    REQUIRE(db.Exec("CREATE TRIGGER fail_boom BEFORE INSERT ON checkpoints "
                    "WHEN NEW.source = 'boom' BEGIN SELECT RAISE(ABORT, 'injected'); END")
                .ok());
  }
  CommitBatch batch;
  batch.chunk = MakeChunk("app", kStartMs, "second");
  batch.upserts = {MakeCheckpoint("app", 1, 99), MakeCheckpoint("boom", 2, 5)};
  batch.deletes = {CheckpointId{"app", 2049, 1}};
  auto failed = store->Commit(batch);
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.status().message().find("injected") != std::string::npos);

  auto chunks = AllChunks(*store);
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0].chunk.body == "first");
  auto cps = store->LoadCheckpoints();
  REQUIRE(cps->size() == 1);
  CHECK((*cps)[0].offset == 10);
  CHECK(store->used_bytes() == 5);

  // The store goes on working: the cached statements were reset.
  batch.upserts.pop_back();
  auto ok = store->Commit(batch);
  REQUIRE(ok.ok());
  CHECK(*ok > chunks[0].id);
  CHECK(store->LoadCheckpoints()->empty());
  CHECK(store->used_bytes() == 11);
}

TEST_CASE("a write lock held by another process past busy_timeout is kUnavailable", "[buffer]") {
  Fixture f;
  auto o = f.Options();
  o.busy_timeout_ms = 0;
  auto store = f.Open(o);
  Db other = OtherConnection(f.file);
  REQUIRE(other.Exec("BEGIN IMMEDIATE").ok());
  auto busy = store->Commit({MakeChunk("app", kStartMs, "x"), {}, {}});
  REQUIRE_FALSE(busy.ok());
  CHECK(busy.status().code() == Code::kUnavailable);
  CHECK(store->used_bytes() == 0);
  REQUIRE(other.Exec("ROLLBACK").ok());
  CHECK(store->Commit({MakeChunk("app", kStartMs, "x"), {}, {}}).ok());
  CHECK(store->used_bytes() == 1);
}

TEST_CASE("a full disk is kUnavailable, writes nothing, and space comes back after a purge",
          "[buffer]") {
  Fixture f;
  auto o = f.Options();
  o.max_pages = 64;  // 256 KiB
  auto store = f.Open(o);
  uint64_t stored = 0;
  Status full;
  for (uint32_t i = 0; i < 20 && full.ok(); ++i) {
    const std::string body = RandomBytes(40000, i);
    auto r = store->Commit({MakeChunk("app", kStartMs, body), {MakeCheckpoint("app", 1, i)}, {}});
    if (r.ok()) stored += body.size();
    full = r.status();
  }
  REQUIRE_FALSE(full.ok());
  CHECK(full.code() == Code::kUnavailable);
  CHECK(full.message().find("disk full") != std::string::npos);
  CHECK(store->used_bytes() == stored);
  CHECK(store->Stats()->stored_bytes == stored);
  const uint64_t committed = store->Stats()->chunks;
  CHECK((*store->LoadCheckpoints())[0].offset == committed - 1);

  auto purged = store->Purge(std::nullopt);
  REQUIRE(purged.ok());
  CHECK(*purged == committed);
  CHECK(store->used_bytes() == 0);
  CHECK(store->Commit({MakeChunk("app", kStartMs, RandomBytes(40000, 99)), {}, {}}).ok());
}

TEST_CASE("used_bytes counts live and dead bodies and Full() trips at max_bytes", "[buffer]") {
  Fixture f;
  auto o = f.Options();
  o.max_bytes = 100;
  auto store = f.Open(o);
  CHECK(store->max_bytes() == 100);
  auto first = store->Commit({MakeChunk("app", kStartMs, std::string(60, 'a')), {}, {}});
  REQUIRE(first.ok());
  CHECK(store->used_bytes() == 60);
  CHECK_FALSE(store->Full());
  REQUIRE(store->Commit({MakeChunk("app", kStartMs, std::string(40, 'b')), {}, {}}).ok());
  CHECK(store->used_bytes() == 100);
  CHECK(store->Full());

  // Another process moves a chunk to dead_chunks: still counted. Another deletes one:
  // RefreshUsage sees it.
  KillChunk(f.file, *first, "400 bad request");
  REQUIRE(store->RefreshUsage().ok());
  CHECK(store->used_bytes() == 100);
  {
    Db db = OtherConnection(f.file);
    REQUIRE(db.Exec("DELETE FROM chunks").ok());
  }
  CHECK(store->used_bytes() == 100);  // not yet re-read
  REQUIRE(store->RefreshUsage().ok());
  CHECK(store->used_bytes() == 60);
  CHECK_FALSE(store->Full());
  store.reset();
  CHECK(f.Open(o)->used_bytes() == 60);  // loaded at Open
}

TEST_CASE("ForEachChunk returns oldest first and honours stream, since and include_dead",
          "[buffer]") {
  Fixture f;
  auto store = f.Open();
  std::vector<int64_t> ids;
  const std::pair<const char*, int64_t> rows[] = {
      {"app", 300}, {"sys", 100}, {"app", 100}, {"sys", 400}, {"app", 500}};
  for (const auto& [stream, at] : rows) {
    auto r = store->Commit({MakeChunk(stream, at, stream + std::to_string(at)), {}, {}});
    REQUIRE(r.ok());
    ids.push_back(*r);
  }
  KillChunk(f.file, ids[2], "413 too large");  // app@100

  auto all = AllChunks(*store);
  REQUIRE(all.size() == 4);
  for (size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1].id < all[i].id);

  ChunkFilter app;
  app.stream = "app";
  auto apps = AllChunks(*store, app);
  REQUIRE(apps.size() == 2);
  CHECK(apps[0].chunk.body == "app300");
  CHECK(apps[1].chunk.body == "app500");

  app.include_dead = true;
  apps = AllChunks(*store, app);
  REQUIRE(apps.size() == 3);
  CHECK(apps[2].dead);  // dead chunks come after the live ones
  CHECK(apps[2].id == ids[2]);
  CHECK(apps[2].chunk.body == "app100");
  CHECK(apps[2].dead_reason == "413 too large");
  CHECK(apps[2].dead_at_ms == 42);

  ChunkFilter since;
  since.since_ms = 300;
  auto recent = AllChunks(*store, since);
  REQUIRE(recent.size() == 3);
  CHECK(recent[0].chunk.body == "app300");
  CHECK(recent[1].chunk.body == "sys400");
  CHECK(recent[2].chunk.body == "app500");
  since.stream = "sys";
  since.include_dead = true;
  auto sys = AllChunks(*store, since);
  REQUIRE(sys.size() == 1);
  CHECK(sys[0].chunk.body == "sys400");

  int seen = 0;
  REQUIRE(store->ForEachChunk({}, [&](const StoredChunk&) { return ++seen < 2; }).ok());
  CHECK(seen == 2);
}

TEST_CASE("Purge deletes one stream's or every chunk, live and dead", "[buffer]") {
  Fixture f;
  auto store = f.Open();
  std::vector<int64_t> ids;
  for (const char* stream : {"app", "app", "sys", "app"}) {
    auto r = store->Commit({MakeChunk(stream, kStartMs, "body"), {}, {}});
    REQUIRE(r.ok());
    ids.push_back(*r);
  }
  KillChunk(f.file, ids[0], "gone");
  REQUIRE(store->RefreshUsage().ok());
  CHECK(store->used_bytes() == 16);

  auto purged = store->Purge("app");
  REQUIRE(purged.ok());
  CHECK(*purged == 3);
  CHECK(store->used_bytes() == 4);
  ChunkFilter everything;
  everything.include_dead = true;
  auto left = AllChunks(*store, everything);
  REQUIRE(left.size() == 1);
  CHECK(left[0].chunk.stream == "sys");
  CHECK(*store->Purge("nothing-here") == 0);
  CHECK(*store->Purge(std::nullopt) == 1);
  CHECK(store->used_bytes() == 0);
  // Ids are never reused after a purge: the idempotency keys stay unique.
  auto next = store->Commit({MakeChunk("app", kStartMs, "body"), {}, {}});
  REQUIRE(next.ok());
  CHECK(*next > ids.back());
}

TEST_CASE("Stats counts chunks per stream, dead chunks and the file size", "[buffer]") {
  Fixture f;
  auto o = f.Options();
  o.max_bytes = 1000;
  auto store = f.Open(o);
  REQUIRE(store->Commit({MakeChunk("sys", 500, "12345"), {}, {}}).ok());
  REQUIRE(store->Commit({MakeChunk("app", 300, "123"), {}, {}}).ok());
  auto dead = store->Commit({MakeChunk("app", 100, "1234567"), {}, {}});
  REQUIRE(dead.ok());
  REQUIRE(store->Commit({MakeChunk("app", 200, "12"), {}, {}}).ok());
  KillChunk(f.file, *dead, "refused");
  auto stats = store->Stats();
  REQUIRE(stats.ok());
  CHECK(stats->chunks == 3);
  CHECK(stats->records == 9);
  CHECK(stats->dead_chunks == 1);
  CHECK(stats->stored_bytes == 17);
  CHECK(store->used_bytes() == 17);  // Stats re-reads the usage
  CHECK(stats->max_bytes == 1000);
  CHECK(stats->oldest_created_at_ms == 200);
  CHECK(stats->file_bytes >= fs::file_size(f.file));
  REQUIRE(stats->streams.size() == 2);
  CHECK(stats->streams[0].stream == "app");
  CHECK(stats->streams[0].chunks == 2);
  CHECK(stats->streams[0].records == 6);
  CHECK(stats->streams[0].raw_bytes == 20);
  CHECK(stats->streams[0].stored_bytes == 5);
  CHECK(stats->streams[0].oldest_created_at_ms == 200);
  CHECK(stats->streams[1].stream == "sys");
  CHECK(stats->streams[1].stored_bytes == 5);
}

TEST_CASE("uint64 file identities round-trip, also above INT64_MAX", "[buffer]") {
  Fixture f;
  auto store = f.Open();
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  constexpr uint64_t kHigh = (1ULL << 63) + 5;
  Checkpoint cp;
  cp.source = "app";
  cp.device = kHigh;
  cp.inode = kMax - 1;
  cp.fingerprint = kMax;
  cp.fingerprint_len = 1ULL << 63;
  cp.offset = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1;
  cp.cursor = "s=abc;i=1";
  REQUIRE(store->Commit({std::nullopt, {cp}, {}}).ok());
  store.reset();
  store = f.Open();
  auto cps = store->LoadCheckpoints("app");
  REQUIRE(cps.ok());
  REQUIRE(cps->size() == 1);
  const Checkpoint& back = (*cps)[0];
  CHECK(back.device == kHigh);
  CHECK(back.inode == kMax - 1);
  CHECK(back.fingerprint == kMax);
  CHECK(back.fingerprint_len == 1ULL << 63);
  CHECK(back.offset == cp.offset);
  CHECK(back.cursor == "s=abc;i=1");
  // The same identity finds the row again: updated in place, then deleted.
  cp.offset = 7;
  REQUIRE(store->Commit({std::nullopt, {cp}, {}}).ok());
  REQUIRE(store->LoadCheckpoints()->size() == 1);
  CHECK((*store->LoadCheckpoints())[0].offset == 7);
  REQUIRE(store->Commit({std::nullopt, {}, {CheckpointId{"app", kHigh, kMax - 1}}}).ok());
  CHECK(store->LoadCheckpoints()->empty());
}

TEST_CASE("a file of garbage is moved aside, kept byte for byte, and a fresh buffer starts",
          "[buffer]") {
  Fixture f;
  const std::string garbage = RandomBytes(4096, 7);
  const std::string wal = RandomBytes(1000, 8);
  f.dir.Write("buffer.db", garbage);
  f.dir.Write("buffer.db-wal", wal);
  CapturingSink sink;
  Logger logger(&sink, &f.clock, LogLevel::kInfo);
  auto opened = BufferStore::Open(f.Options(), f.clock, logger);
  INFO(opened.status().ToString());
  REQUIRE(opened.ok());
  auto& store = *opened;

  const fs::path moved = f.dir.path() / "buffer.db.corrupt-20260101T000000Z";
  REQUIRE(store->quarantined());
  CHECK(*store->quarantined() == moved);
  CHECK(ReadBytes(moved) == garbage);
  CHECK(ReadBytes(f.dir.path() / "buffer.db.corrupt-20260101T000000Z-wal") == wal);
  bool warned = false;
  for (const std::string& line : sink.lines)
    warned |= line.rfind("warn buffer: ", 0) == 0 && line.find("corrupt") != std::string::npos &&
              line.find(moved.filename().string()) != std::string::npos;
  CHECK(warned);

  REQUIRE(store->Commit({MakeChunk("app", kStartMs, "after"), {}, {}}).ok());
  CHECK(AllChunks(*store).size() == 1);
  CHECK(store->Stats()->schema_version == 1);
  store.reset();

  // A second corrupt file within the same second gets its own name.
  f.dir.Write("buffer.db", garbage);
  fs::remove(f.dir.path() / "buffer.db-wal");
  fs::remove(f.dir.path() / "buffer.db-shm");
  auto again = f.Open();
  REQUIRE(again->quarantined());
  CHECK(again->quarantined()->filename() == "buffer.db.corrupt-20260101T000000Z-2");
  CHECK(ReadBytes(moved) == garbage);
}

TEST_CASE("a database with damaged pages is moved aside too", "[buffer]") {
  Fixture f;
  {
    auto store = f.Open();
    for (int i = 0; i < 20; ++i)
      REQUIRE(store->Commit({MakeChunk("app", kStartMs, RandomBytes(3000, i)), {}, {}}).ok());
  }
  // Keep page 1 (the header and the schema), scramble every page after it.
  std::string bytes = ReadBytes(f.file);
  REQUIRE(bytes.size() > 8192);
  const std::string noise = RandomBytes(bytes.size() - 4096, 1);
  bytes.replace(4096, noise.size(), noise);
  f.dir.Write("buffer.db", bytes);

  auto store = f.Open();
  REQUIRE(store->quarantined());
  CHECK(ReadBytes(*store->quarantined()) == bytes);
  CHECK(store->used_bytes() == 0);
  CHECK(store->Commit({MakeChunk("app", kStartMs, "fresh"), {}, {}}).ok());
}

TEST_CASE("read-only open of a missing buffer is kNotFound and creates nothing", "[buffer]") {
  Fixture f;
  auto o = f.Options();
  o.read_only = true;
  auto r = BufferStore::Open(o, f.clock, Logger::Discard());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kNotFound);
  CHECK(r.status().message().find("has not run with this state dir") != std::string::npos);
  CHECK_FALSE(fs::exists(f.file));
}

TEST_CASE("a read-only store sees commits of a writer that keeps the file open", "[buffer]") {
  Fixture f;
  auto writer = f.Open();
  REQUIRE(
      writer->Commit({MakeChunk("app", kStartMs, "one"), {MakeCheckpoint("app", 1, 3)}, {}}).ok());
  REQUIRE(writer->SetState("agent_id", "a-1").ok());
  auto o = f.Options();
  o.read_only = true;
  auto reader = f.Open(o);
  CHECK(AllChunks(*reader).size() == 1);
  CHECK(reader->used_bytes() == 3);
  CHECK(*reader->GetState("agent_id") == std::optional<std::string>("a-1"));

  REQUIRE(
      writer->Commit({MakeChunk("app", kStartMs, "two"), {MakeCheckpoint("app", 1, 6)}, {}}).ok());
  CHECK(AllChunks(*reader).size() == 2);
  CHECK((*reader->LoadCheckpoints())[0].offset == 6);
  REQUIRE(reader->RefreshUsage().ok());
  CHECK(reader->used_bytes() == 6);
  CHECK(reader->Stats()->chunks == 2);

  CHECK(reader->Commit({MakeChunk("app", kStartMs, "x"), {}, {}}).status().code() ==
        Code::kPermissionDenied);
  CHECK(reader->SetState("k", "v").code() == Code::kPermissionDenied);
  CHECK(reader->Purge(std::nullopt).status().code() == Code::kPermissionDenied);
  CHECK(writer->Commit({MakeChunk("app", kStartMs, "three"), {}, {}}).ok());
}

TEST_CASE("a file from a newer outpost is refused and left untouched", "[buffer]") {
  Fixture f;
  REQUIRE(f.Open()->Commit({MakeChunk("app", kStartMs, "keep"), {}, {}}).ok());
  {
    Db db = OtherConnection(f.file);
    REQUIRE(db.Exec("UPDATE state SET value = '99' WHERE key = 'schema_version'").ok());
  }
  const std::string before = ReadBytes(f.file);
  for (bool read_only : {false, true}) {
    auto o = f.Options();
    o.read_only = read_only;
    auto r = BufferStore::Open(o, f.clock, Logger::Discard());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(r.status().message().find("schema version 99") != std::string::npos);
  }
  CHECK(ReadBytes(f.file) == before);
  for (const auto& entry : fs::directory_iterator(f.dir.path()))
    CHECK(entry.path().filename().string().find("corrupt") == std::string::npos);
}

TEST_CASE("an SQLite file that is not an outpost buffer is refused, not quarantined", "[buffer]") {
  Fixture f;
  {
    Result<Db> db = Db::Open(f.file, {});
    REQUIRE(db.ok());
    REQUIRE(db->Exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')").ok());
  }
  auto r = BufferStore::Open(f.Options(), f.clock, Logger::Discard());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalidArgument);
  CHECK(r.status().message().find("not an outpost buffer") != std::string::npos);
  CHECK(fs::exists(f.file));
  Db db = OtherConnection(f.file);
  auto notes = db.Prepare("SELECT text FROM notes");
  REQUIRE(notes.ok());
  REQUIRE(*notes->Step());
  CHECK(notes->ColumnText(0) == "mine");
}

TEST_CASE("reopening a current buffer migrates nothing and keeps its data", "[buffer]") {
  Fixture f;
  auto o = f.Options();
  o.durability = Durability::kPower;
  {
    auto store = f.Open(o);
    REQUIRE(store->Commit({MakeChunk("app", kStartMs, "kept"), {MakeCheckpoint("app", 1, 4)}, {}})
                .ok());
    REQUIRE(store->SetState("agent_id", "a-1").ok());
  }
  CapturingSink sink;
  Logger logger(&sink, &f.clock, LogLevel::kDebug);
  auto store = BufferStore::Open(o, f.clock, logger);
  REQUIRE(store.ok());
  CHECK(sink.lines.empty());  // neither "created" nor "migrated"
  CHECK((*store)->Stats()->schema_version == 1);
  CHECK(AllChunks(**store).size() == 1);
  CHECK((*store)->LoadCheckpoints()->size() == 1);
  CHECK(*(*store)->GetState("agent_id") == std::optional<std::string>("a-1"));
}

TEST_CASE("key/value state reads back, overwrites, and protects schema_version", "[buffer]") {
  Fixture f;
  auto store = f.Open();
  auto missing = store->GetState("agent_id");
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());
  REQUIRE(store->SetState("agent_id", "first").ok());
  REQUIRE(store->SetState("agent_id", "second").ok());
  REQUIRE(store->SetState("empty", "").ok());
  CHECK(*store->GetState("agent_id") == std::optional<std::string>("second"));
  CHECK(*store->GetState("empty") == std::optional<std::string>(""));
  CHECK(store->SetState("schema_version", "2").code() == Code::kInvalidArgument);
  CHECK(*store->GetState("schema_version") == std::optional<std::string>("1"));
}

TEST_CASE("the SQLite wrapper maps result codes and binds empty values as values", "[buffer]") {
  CHECK(SqliteCode(13) == Code::kUnavailable);         // SQLITE_FULL
  CHECK(SqliteCode(5) == Code::kUnavailable);          // SQLITE_BUSY
  CHECK(SqliteCode(11) == Code::kCorrupt);             // SQLITE_CORRUPT
  CHECK(SqliteCode(26) == Code::kCorrupt);             // SQLITE_NOTADB
  CHECK(SqliteCode(14) == Code::kIoError);             // SQLITE_CANTOPEN
  CHECK(SqliteCode(10 | (1 << 8)) == Code::kIoError);  // SQLITE_IOERR_READ
  CHECK(SqliteCode(8) == Code::kPermissionDenied);     // SQLITE_READONLY
  CHECK(SqliteCode(3) == Code::kPermissionDenied);     // SQLITE_PERM
  CHECK(SqliteCode(19) == Code::kInvalidArgument);     // SQLITE_CONSTRAINT
  CHECK_FALSE(SqliteVersion().empty());

  TempDir dir;
  Result<Db> db = Db::Open(dir.path() / "t.db", {});
  REQUIRE(db.ok());
  REQUIRE(db->Exec("CREATE TABLE t (a, b)").ok());
  auto insert = db->Prepare("INSERT INTO t VALUES (?1, ?2)");
  REQUIRE(insert.ok());
  REQUIRE(insert->BindText(1, std::string_view()).ok());
  REQUIRE(insert->BindBlob(2, std::string_view()).ok());
  REQUIRE(insert->StepDone().ok());
  auto read = db->Prepare("SELECT typeof(a), typeof(b), length(b) FROM t");
  REQUIRE(read.ok());
  REQUIRE(*read->Step());
  CHECK(read->ColumnText(0) == "text");
  CHECK(read->ColumnText(1) == "blob");
  CHECK(read->ColumnInt64(2) == 0);
  REQUIRE_FALSE(*read->Step());

  auto bad = db->Prepare("SELEKT 1");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::kInvalidArgument);
  CHECK(bad.status().message().find("syntax error") != std::string::npos);
  Result<Db> missing = Db::Open(dir.path() / "no" / "such.db", {});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Code::kIoError);
}

}  // namespace outpost

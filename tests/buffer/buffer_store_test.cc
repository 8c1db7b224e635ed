#include <catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "buffer/buffer_schema.h"
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

int64_t QueryOne(Db& db, const std::string& sql) {
  auto st = db.Prepare(sql);
  INFO(sql);
  REQUIRE(st.ok());
  auto row = st->Step();
  REQUIRE(row.ok());
  REQUIRE(*row);
  return st->ColumnInt64(0);
}

int64_t QueryOne(const fs::path& file, const std::string& sql) {
  Db db = OtherConnection(file);
  return QueryOne(db, sql);
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

  // Moves a live chunk to dead_chunks through a store of its own, as the shipper does.
  void KillChunk(int64_t id, const std::string& reason) {
    REQUIRE(Open()->MoveToDead(id, reason).ok());
  }
};

// The ids of chunks, in the order given.
std::vector<int64_t> Ids(const std::vector<StoredChunk>& chunks) {
  std::vector<int64_t> out;
  for (const StoredChunk& c : chunks) out.push_back(c.id);
  return out;
}

std::vector<std::string> Bodies(const std::vector<StoredChunk>& chunks) {
  std::vector<std::string> out;
  for (const StoredChunk& c : chunks) out.push_back(c.chunk.body);
  return out;
}

int64_t Commit(BufferStore& store, const std::string& stream, const std::string& body,
               int64_t created_at_ms = kStartMs) {
  auto r = store.Commit({MakeChunk(stream, created_at_ms, body), {}, {}, {}});
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("a fresh buffer is created with schema version 2 in WAL mode", "[buffer]") {
  Fixture f;
  auto store = f.Open();
  CHECK_FALSE(store->quarantined());
  auto stats = store->Stats();
  REQUIRE(stats.ok());
  CHECK(stats->schema_version == 2);
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
  CHECK(version->ColumnText(0) == "2");
  auto tables = db.Prepare(
      "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'table' "
      "AND name NOT LIKE 'sqlite_%' ORDER BY name)");
  REQUIRE(tables.ok());
  REQUIRE(*tables->Step());
  CHECK(tables->ColumnText(0) == "check_state,checkpoints,chunk_bodies,chunks,dead_chunks,state");
}

TEST_CASE("connections use the VFS whose sleep is as short as asked", "[buffer]") {
  // Without it, SQLite built without HAVE_USLEEP turns every wait for the other
  // connection's lock into a one-second sleep (sqlite_db.cc).
  Fixture f;
  auto store = f.Open();
  CHECK(SqliteDefaultVfs() == "outpost");
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
  REQUIRE(
      store->Commit({MakeChunk("app", kStartMs, "first"), {MakeCheckpoint("app", 1, 10)}, {}, {}})
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
  auto busy = store->Commit({MakeChunk("app", kStartMs, "x"), {}, {}, {}});
  REQUIRE_FALSE(busy.ok());
  CHECK(busy.status().code() == Code::kUnavailable);
  CHECK(store->used_bytes() == 0);
  REQUIRE(other.Exec("ROLLBACK").ok());
  CHECK(store->Commit({MakeChunk("app", kStartMs, "x"), {}, {}, {}}).ok());
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
    auto r =
        store->Commit({MakeChunk("app", kStartMs, body), {MakeCheckpoint("app", 1, i)}, {}, {}});
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
  CHECK(store->Commit({MakeChunk("app", kStartMs, RandomBytes(40000, 99)), {}, {}, {}}).ok());
}

TEST_CASE("after a full disk the WAL is truncated and then kept small", "[buffer]") {
  Fixture f;
  auto o = f.Options();
  o.max_pages = 64;  // 256 KiB
  auto store = f.Open(o);
  const fs::path wal = f.file.string() + "-wal";
  Status full;
  for (uint32_t i = 0; i < 20 && full.ok(); ++i)
    full = store->Commit({MakeChunk("app", kStartMs, RandomBytes(40000, i)), {}, {}, {}}).status();
  REQUIRE(full.message().find("disk full") != std::string::npos);
  // The committed chunks were checkpointed into the database and the WAL truncated:
  // its space goes back to the file system.
  CHECK(fs::file_size(wal) == 0);
  REQUIRE(store->Purge(std::nullopt).ok());
  // From now on the WAL is checkpointed every 1 MiB (not 16 MiB), so 2.4 MB of commits
  // do not grow it past that.
  for (uint32_t i = 0; i < 60; ++i) {
    REQUIRE(
        store->Commit({MakeChunk("app", kStartMs, RandomBytes(40000, 100 + i)), {}, {}, {}}).ok());
    REQUIRE(store->Purge(std::nullopt).ok());
  }
  CHECK(fs::file_size(wal) < (3u << 19));  // 1.5 MiB
}

TEST_CASE("used_bytes counts live and dead bodies and Full() trips at max_bytes", "[buffer]") {
  Fixture f;
  auto o = f.Options();
  o.max_bytes = 100;
  auto store = f.Open(o);
  CHECK(store->max_bytes() == 100);
  auto first = store->Commit({MakeChunk("app", kStartMs, std::string(60, 'a')), {}, {}, {}});
  REQUIRE(first.ok());
  CHECK(store->used_bytes() == 60);
  CHECK_FALSE(store->Full());
  auto second = store->Commit({MakeChunk("app", kStartMs, std::string(40, 'b')), {}, {}, {}});
  REQUIRE(second.ok());
  CHECK(store->used_bytes() == 100);
  CHECK(store->Full());

  // Another store moves a chunk to dead_chunks: still counted. Another acknowledges
  // one: RefreshUsage sees it.
  f.KillChunk(*first, "400 bad request");
  REQUIRE(store->RefreshUsage().ok());
  CHECK(store->used_bytes() == 100);
  REQUIRE(f.Open()->Acknowledge(*second).ok());
  CHECK(store->used_bytes() == 100);  // not yet re-read
  REQUIRE(store->RefreshUsage().ok());
  CHECK(store->used_bytes() == 60);
  CHECK_FALSE(store->Full());
  // Its own commits it knows without a re-read; a refresh with no other writer
  // keeps them.
  Commit(*store, "app", std::string(10, 'c'));
  CHECK(store->used_bytes() == 70);
  REQUIRE(store->RefreshUsage().ok());
  CHECK(store->used_bytes() == 70);
  store.reset();
  CHECK(f.Open(o)->used_bytes() == 70);  // loaded at Open
}

TEST_CASE("ForEachChunk returns oldest first and honours stream, since and include_dead",
          "[buffer]") {
  Fixture f;
  auto store = f.Open();
  std::vector<int64_t> ids;
  const std::pair<const char*, int64_t> rows[] = {
      {"app", 300}, {"sys", 100}, {"app", 100}, {"sys", 400}, {"app", 500}};
  for (const auto& [stream, at] : rows) {
    auto r = store->Commit({MakeChunk(stream, at, stream + std::to_string(at)), {}, {}, {}});
    REQUIRE(r.ok());
    ids.push_back(*r);
  }
  f.KillChunk(ids[2], "413 too large");  // app@100

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
  CHECK(apps[2].dead_at_ms == kStartMs);

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
    auto r = store->Commit({MakeChunk(stream, kStartMs, "body"), {}, {}, {}});
    REQUIRE(r.ok());
    ids.push_back(*r);
  }
  f.KillChunk(ids[0], "gone");
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
  CHECK(QueryOne(f.file, "SELECT count(*) FROM chunk_bodies") == 1);  // sys's
  CHECK(*store->Purge(std::nullopt) == 1);
  CHECK(store->used_bytes() == 0);
  CHECK(QueryOne(f.file, "SELECT count(*) FROM chunk_bodies") == 0);
  // Ids are never reused after a purge: the idempotency keys stay unique.
  auto next = store->Commit({MakeChunk("app", kStartMs, "body"), {}, {}, {}});
  REQUIRE(next.ok());
  CHECK(*next > ids.back());
}

TEST_CASE("Stats counts chunks per stream, dead chunks and the file size", "[buffer]") {
  Fixture f;
  auto o = f.Options();
  o.max_bytes = 1000;
  auto store = f.Open(o);
  REQUIRE(store->Commit({MakeChunk("sys", 500, "12345"), {}, {}, {}}).ok());
  REQUIRE(store->Commit({MakeChunk("app", 300, "123"), {}, {}, {}}).ok());
  auto dead = store->Commit({MakeChunk("app", 100, "1234567"), {}, {}, {}});
  REQUIRE(dead.ok());
  REQUIRE(store->Commit({MakeChunk("app", 200, "12"), {}, {}, {}}).ok());
  f.KillChunk(*dead, "refused");
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
  REQUIRE(store->Commit({std::nullopt, {cp}, {}, {}}).ok());
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
  REQUIRE(store->Commit({std::nullopt, {cp}, {}, {}}).ok());
  REQUIRE(store->LoadCheckpoints()->size() == 1);
  CHECK((*store->LoadCheckpoints())[0].offset == 7);
  REQUIRE(store->Commit({std::nullopt, {}, {CheckpointId{"app", kHigh, kMax - 1}}, {}}).ok());
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

  REQUIRE(store->Commit({MakeChunk("app", kStartMs, "after"), {}, {}, {}}).ok());
  CHECK(AllChunks(*store).size() == 1);
  CHECK(store->Stats()->schema_version == 2);
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
      REQUIRE(store->Commit({MakeChunk("app", kStartMs, RandomBytes(3000, i)), {}, {}, {}}).ok());
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
  CHECK(store->Commit({MakeChunk("app", kStartMs, "fresh"), {}, {}, {}}).ok());
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
  REQUIRE(writer->Commit({MakeChunk("app", kStartMs, "one"), {MakeCheckpoint("app", 1, 3)}, {}, {}})
              .ok());
  REQUIRE(writer->SetState("agent_id", "a-1").ok());
  auto o = f.Options();
  o.read_only = true;
  auto reader = f.Open(o);
  CHECK(AllChunks(*reader).size() == 1);
  CHECK(reader->used_bytes() == 3);
  CHECK(*reader->GetState("agent_id") == std::optional<std::string>("a-1"));

  REQUIRE(writer->Commit({MakeChunk("app", kStartMs, "two"), {MakeCheckpoint("app", 1, 6)}, {}, {}})
              .ok());
  CHECK(AllChunks(*reader).size() == 2);
  CHECK((*reader->LoadCheckpoints())[0].offset == 6);
  REQUIRE(reader->RefreshUsage().ok());
  CHECK(reader->used_bytes() == 6);
  CHECK(reader->Stats()->chunks == 2);

  CHECK(reader->Commit({MakeChunk("app", kStartMs, "x"), {}, {}, {}}).status().code() ==
        Code::kPermissionDenied);
  CHECK(reader->SetState("k", "v").code() == Code::kPermissionDenied);
  CHECK(reader->Purge(std::nullopt).status().code() == Code::kPermissionDenied);
  const int64_t id = AllChunks(*reader)[0].id;
  CHECK(reader->Acknowledge(id).code() == Code::kPermissionDenied);
  CHECK(reader->ScheduleRetry(id, 1, "x").code() == Code::kPermissionDenied);
  CHECK(reader->DeferAll(1, "x").code() == Code::kPermissionDenied);
  CHECK(reader->MoveToDead(id, "x").code() == Code::kPermissionDenied);
  CHECK(reader->Split(id, {}, {}).status().code() == Code::kPermissionDenied);
  auto due = reader->DueChunks(kStartMs, 10);  // reading is fine
  REQUIRE(due.ok());
  CHECK(due->size() == 2);
  CHECK(AllChunks(*reader).size() == 2);
  CHECK(writer->Commit({MakeChunk("app", kStartMs, "three"), {}, {}, {}}).ok());
}

TEST_CASE("a file from a newer outpost is refused and left untouched", "[buffer]") {
  Fixture f;
  REQUIRE(f.Open()->Commit({MakeChunk("app", kStartMs, "keep"), {}, {}, {}}).ok());
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
    REQUIRE(
        store->Commit({MakeChunk("app", kStartMs, "kept"), {MakeCheckpoint("app", 1, 4)}, {}, {}})
            .ok());
    REQUIRE(store->SetState("agent_id", "a-1").ok());
  }
  CapturingSink sink;
  Logger logger(&sink, &f.clock, LogLevel::kDebug);
  auto store = BufferStore::Open(o, f.clock, logger);
  REQUIRE(store.ok());
  CHECK(sink.lines.empty());  // neither "created" nor "migrated"
  CHECK((*store)->Stats()->schema_version == 2);
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
  CHECK(store->SetState("schema_version", "3").code() == Code::kInvalidArgument);
  CHECK(*store->GetState("schema_version") == std::optional<std::string>("2"));
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

// ---- Delivery ----

TEST_CASE("DueChunks: oldest first, a chunk not yet due holds back its stream only", "[buffer]") {
  Fixture f;
  auto store = f.Open();
  CHECK(store->DueChunks(kStartMs, 10)->empty());
  CHECK_FALSE(store->NextAttemptAt()->has_value());
  const int64_t a1 = Commit(*store, "app", "a1");
  const int64_t s1 = Commit(*store, "sys", "s1");
  const int64_t a2 = Commit(*store, "app", "a2");
  const int64_t w1 = Commit(*store, "web", "w1");
  const int64_t s2 = Commit(*store, "sys", "s2");
  const int64_t a3 = Commit(*store, "app", "a3");
  const int64_t s3 = Commit(*store, "sys", "s3");

  auto all = store->DueChunks(kStartMs, 10);
  REQUIRE(all.ok());
  CHECK(Ids(*all) == std::vector<int64_t>{a1, s1, a2, w1, s2, a3, s3});
  CHECK(Bodies(*all) == std::vector<std::string>{"a1", "s1", "a2", "w1", "s2", "a3", "s3"});
  CHECK((*all)[1].chunk.stream == "sys");
  CHECK((*all)[1].chunk.records == 3);
  CHECK(Ids(*store->DueChunks(kStartMs, 3)) == std::vector<int64_t>{a1, s1, a2});
  CHECK(store->DueChunks(kStartMs, 0)->empty());
  CHECK(*store->NextAttemptAt() == std::optional<int64_t>(0));

  // app's oldest waits 1 s: all of app waits. sys's second waits 0.5 s: sys's first
  // goes, its second and third wait.
  REQUIRE(store->ScheduleRetry(a1, kStartMs + 1000, "503 Service Unavailable").ok());
  REQUIRE(store->ScheduleRetry(s2, kStartMs + 500, "connection reset").ok());
  CHECK(Ids(*store->DueChunks(kStartMs, 10)) == std::vector<int64_t>{s1, w1});
  CHECK(Ids(*store->DueChunks(kStartMs + 499, 10)) == std::vector<int64_t>{s1, w1});
  CHECK(Ids(*store->DueChunks(kStartMs + 500, 10)) == std::vector<int64_t>{s1, w1, s2, s3});
  CHECK(Ids(*store->DueChunks(kStartMs + 1000, 10)) ==
        std::vector<int64_t>{a1, s1, a2, w1, s2, a3, s3});

  // In flight (excluded): a due chunk does not hold its stream back, one that is not
  // due does.
  CHECK(Ids(*store->DueChunks(kStartMs + 1000, 10, {a1, s1})) ==
        std::vector<int64_t>{a2, w1, s2, a3, s3});
  CHECK(Ids(*store->DueChunks(kStartMs, 10, {a1, w1})) == std::vector<int64_t>{s1});
  CHECK(Ids(*store->DueChunks(kStartMs + 500, 2, {s1})) == std::vector<int64_t>{w1, s2});

  // NextAttemptAt: the earliest time DueChunks has something, never a chunk that is
  // held back by an older one.
  CHECK(*store->NextAttemptAt() == std::optional<int64_t>(0));                       // s1, w1: now
  CHECK(*store->NextAttemptAt({s1, w1}) == std::optional<int64_t>(kStartMs + 500));  // s2
  REQUIRE(store->ScheduleRetry(a2, kStartMs + 10, "x").ok());
  CHECK(*store->NextAttemptAt({s1, w1, s2, s3}) == std::optional<int64_t>(kStartMs + 1000));
  CHECK(store->DueChunks(kStartMs + 999, 10, {s1, w1, s2, s3})->empty());
  CHECK_FALSE(store->NextAttemptAt({a1, s1, a2, w1, s2, a3, s3})->has_value());
}

TEST_CASE("DueChunks and NextAttemptAt agree with a simple model on random queues", "[buffer]") {
  Fixture f;
  auto store = f.Open();
  std::mt19937 gen(12345);
  struct Row {
    int64_t id;
    std::string stream;
    int64_t next;
  };
  std::vector<Row> rows;
  for (int i = 0; i < 60; ++i) {
    const std::string stream = "s" + std::to_string(gen() % 4);
    const int64_t id = Commit(*store, stream, "b" + std::to_string(i));
    int64_t next = 0;
    if (gen() % 3 == 0) {
      next = kStartMs + static_cast<int64_t>(gen() % 1000);
      REQUIRE(store->ScheduleRetry(id, next, "e").ok());
    }
    rows.push_back({id, stream, next});
  }
  for (int round = 0; round < 50; ++round) {
    const int64_t now = kStartMs + static_cast<int64_t>(gen() % 1200) - 100;
    std::vector<int64_t> exclude;
    for (const Row& r : rows)
      if (gen() % 5 == 0) exclude.push_back(r.id);
    const size_t limit = 1 + gen() % 30;
    const std::set<int64_t> ex(exclude.begin(), exclude.end());
    std::map<std::string, int64_t> gate;
    std::vector<int64_t> due;
    std::optional<int64_t> earliest;
    for (const Row& r : rows) {  // by id: the delivery order without splits
      gate[r.stream] = std::max(gate[r.stream], r.next);
      if (ex.count(r.id)) continue;
      if (!earliest || gate[r.stream] < *earliest) earliest = gate[r.stream];
      if (gate[r.stream] <= now && due.size() < limit) due.push_back(r.id);
    }
    INFO("round " << round);
    CHECK(Ids(*store->DueChunks(now, limit, exclude)) == due);
    CHECK(*store->NextAttemptAt(exclude) == earliest);
    if (earliest) CHECK_FALSE(store->DueChunks(*earliest, 1, exclude)->empty());
  }
}

TEST_CASE("Acknowledge deletes a chunk and its body, and is idempotent", "[buffer]") {
  Fixture f;
  auto store = f.Open();
  const int64_t a = Commit(*store, "app", "12345");
  const int64_t b = Commit(*store, "app", "678");
  CHECK(store->used_bytes() == 8);
  REQUIRE(store->Acknowledge(a).ok());
  CHECK(store->used_bytes() == 3);
  CHECK(Ids(AllChunks(*store)) == std::vector<int64_t>{b});
  CHECK(QueryOne(f.file, "SELECT count(*) FROM chunk_bodies") == 1);
  REQUIRE(store->Acknowledge(a).ok());       // again
  REQUIRE(store->Acknowledge(b + 99).ok());  // never existed
  CHECK(store->used_bytes() == 3);
  REQUIRE(store->Acknowledge(b).ok());
  CHECK(store->used_bytes() == 0);
  CHECK(AllChunks(*store).empty());
  CHECK(QueryOne(f.file, "SELECT count(*) FROM chunk_bodies") == 0);
  // A store that did not see the commit cannot go below zero.
  auto other = f.Open();
  const int64_t c = Commit(*store, "app", "9");
  REQUIRE(other->Acknowledge(c).ok());
  CHECK(other->used_bytes() == 0);
  // Acknowledged ids are not reused.
  CHECK(Commit(*store, "app", "x") > c);
}

TEST_CASE("ScheduleRetry counts attempts and records the time and the error", "[buffer]") {
  Fixture f;
  auto store = f.Open();
  const int64_t id = Commit(*store, "app", "body");
  REQUIRE(store->ScheduleRetry(id, kStartMs + 100, "500 Internal Server Error").ok());
  REQUIRE(store->ScheduleRetry(id, kStartMs + 300, "connection refused").ok());
  auto chunks = AllChunks(*store);
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0].attempts == 2);
  CHECK(chunks[0].next_attempt_at_ms == kStartMs + 300);
  CHECK(chunks[0].last_error == "connection refused");
  CHECK(chunks[0].chunk.body == "body");
  REQUIRE(store->Acknowledge(id).ok());
  CHECK(store->ScheduleRetry(id, 0, "x").code() == Code::kNotFound);
}

TEST_CASE("DeferAll holds every live chunk and leaves attempts alone", "[buffer]") {
  Fixture f;
  auto store = f.Open();
  const int64_t a1 = Commit(*store, "app", "a1");
  const int64_t s1 = Commit(*store, "sys", "s1");
  REQUIRE(store->ScheduleRetry(a1, kStartMs + 5, "503").ok());
  REQUIRE(store->DeferAll(kStartMs + 60000, "401 Unauthorized: authentication rejected").ok());
  for (const StoredChunk& c : AllChunks(*store)) {
    CHECK(c.next_attempt_at_ms == kStartMs + 60000);
    CHECK(c.last_error == "401 Unauthorized: authentication rejected");
    CHECK(c.attempts == (c.id == a1 ? 1 : 0));
  }
  CHECK(store->DueChunks(kStartMs + 59999, 10)->empty());
  CHECK(*store->NextAttemptAt() == std::optional<int64_t>(kStartMs + 60000));
  // Chunks committed afterwards are not deferred, but wait behind their stream.
  const int64_t a2 = Commit(*store, "app", "a2");
  const int64_t n1 = Commit(*store, "new", "n1");
  CHECK(Ids(*store->DueChunks(kStartMs, 10)) == std::vector<int64_t>{n1});
  CHECK(Ids(*store->DueChunks(kStartMs + 60000, 10)) == std::vector<int64_t>{a1, s1, a2, n1});
  REQUIRE(store->DeferAll(0, "").ok());
  CHECK(Ids(*store->DueChunks(kStartMs, 10)) == std::vector<int64_t>{a1, s1, a2, n1});
}

TEST_CASE("RescheduleAfterClockJump moves pending retries back, not before now, none too late",
          "[buffer]") {
  Fixture f;
  auto store = f.Open();
  const int64_t due = Commit(*store, "a", "due");
  const int64_t soon = Commit(*store, "b", "soon");
  const int64_t later = Commit(*store, "c", "later");
  const int64_t far = Commit(*store, "d", "far");
  REQUIRE(store->ScheduleRetry(due, kStartMs - 10, "503").ok());
  REQUIRE(store->ScheduleRetry(soon, kStartMs + 1000, "503").ok());
  REQUIRE(store->ScheduleRetry(later, kStartMs + 90000, "503").ok());
  REQUIRE(store->ScheduleRetry(far, kStartMs + 86400000LL * 3, "503").ok());
  // The clock went back one minute; nothing may wait longer than 10 minutes from now.
  REQUIRE(store->RescheduleAfterClockJump(kStartMs, 60000, kStartMs + 600000).ok());
  std::map<int64_t, int64_t> at;
  for (const StoredChunk& c : AllChunks(*store)) {
    at[c.id] = c.next_attempt_at_ms;
    CHECK(c.attempts == 1);
    CHECK(c.last_error == "503");
  }
  CHECK(at[due] == kStartMs - 10);       // already due: untouched
  CHECK(at[soon] == kStartMs);           // not before now
  CHECK(at[later] == kStartMs + 30000);  // 60 s earlier
  CHECK(at[far] == kStartMs + 600000);   // capped
  // Nothing to move: no change.
  REQUIRE(store->RescheduleAfterClockJump(kStartMs, 0, kStartMs + 600000).ok());
  CHECK(AllChunks(*store)[2].next_attempt_at_ms == kStartMs + 30000);
}

TEST_CASE("MoveToDead keeps the body, the delivery state and the reason", "[buffer]") {
  Fixture f;
  auto store = f.Open();
  const int64_t a1 = Commit(*store, "app", "bad-body", kStartMs - 7);
  const int64_t a2 = Commit(*store, "app", "good");
  REQUIRE(store->ScheduleRetry(a1, kStartMs + 1, "500").ok());
  f.clock.Advance(std::chrono::seconds(5));
  const std::string reason = "400 Bad Request: {\"error\":\"mapper_parsing_exception\"}";
  REQUIRE(store->MoveToDead(a1, reason).ok());
  CHECK(store->used_bytes() == 12);  // dead chunks still count
  CHECK(*store->CountDead() == 1);
  CHECK(store->Stats()->dead_chunks == 1);
  CHECK(Ids(*store->DueChunks(kStartMs + 10, 10)) == std::vector<int64_t>{a2});
  CHECK(QueryOne(f.file, "SELECT count(*) FROM chunk_bodies") == 1);

  ChunkFilter everything;
  everything.include_dead = true;
  auto chunks = AllChunks(*store, everything);
  REQUIRE(chunks.size() == 2);
  const StoredChunk& dead = chunks[1];
  CHECK(dead.dead);
  CHECK(dead.id == a1);
  CHECK(dead.chunk.body == "bad-body");
  CHECK(dead.chunk.stream == "app");
  CHECK(dead.chunk.created_at_ms == kStartMs - 7);
  CHECK(dead.chunk.records == 3);
  CHECK(dead.attempts == 1);
  CHECK(dead.last_error == "500");
  CHECK(dead.dead_reason == reason);
  CHECK(dead.dead_at_ms == kStartMs + 5000);

  REQUIRE(store->MoveToDead(a1, "again").ok());  // already dead: nothing changes
  CHECK(AllChunks(*store, everything)[1].dead_reason == reason);
  CHECK(store->MoveToDead(a2 + 99, "x").code() == Code::kNotFound);
  CHECK(store->ScheduleRetry(a1, 0, "x").code() == Code::kNotFound);
  REQUIRE(store->Acknowledge(a1).ok());  // not live: nothing to do
  CHECK(*store->CountDead() == 1);
}

TEST_CASE("Split: the halves take the original's place in its stream", "[buffer]") {
  Fixture f;
  auto store = f.Open();
  const int64_t a1 = Commit(*store, "app", std::string(100, 'a'));
  const int64_t s1 = Commit(*store, "sys", "s1");
  const int64_t a2 = Commit(*store, "app", "a2");
  REQUIRE(store->ScheduleRetry(a1, 0, "413 Payload Too Large").ok());
  CHECK(store->used_bytes() == 104);

  auto ids = store->Split(a1, MakeChunk("", kStartMs, "a1-x"), MakeChunk("app", kStartMs, "a1-y"));
  INFO(ids.status().ToString());
  REQUIRE(ids.ok());
  const auto [x, y] = *ids;
  CHECK(x > a2);  // new ids: new idempotency keys
  CHECK(y > x);
  CHECK(store->used_bytes() == 12);
  auto due = store->DueChunks(kStartMs, 10);
  CHECK(Bodies(*due) == std::vector<std::string>{"a1-x", "a1-y", "s1", "a2"});
  CHECK(Ids(*due) == std::vector<int64_t>{x, y, s1, a2});
  CHECK((*due)[0].chunk.stream == "app");
  CHECK((*due)[0].attempts == 0);
  CHECK((*due)[0].last_error.empty());

  // Either half can be split again; the order holds.
  auto y2 = store->Split(y, MakeChunk("", kStartMs, "a1-y1"), MakeChunk("", kStartMs, "a1-y2"));
  REQUIRE(y2.ok());
  auto x2 = store->Split(x, MakeChunk("", kStartMs, "a1-x1"), MakeChunk("", kStartMs, "a1-x2"));
  REQUIRE(x2.ok());
  const std::vector<std::string> order = {"a1-x1", "a1-x2", "a1-y1", "a1-y2", "s1", "a2"};
  CHECK(Bodies(*store->DueChunks(kStartMs, 10)) == order);
  CHECK(Bodies(AllChunks(*store)) == order);

  // A half that is not due holds back the rest of its stream.
  REQUIRE(store->ScheduleRetry(x2->second, kStartMs + 100, "503").ok());
  CHECK(Bodies(*store->DueChunks(kStartMs, 10)) == std::vector<std::string>{"a1-x1", "s1"});

  // The order survives a reopen.
  store.reset();
  store = f.Open();
  CHECK(Bodies(AllChunks(*store)) == order);

  CHECK(store->Split(a1, MakeChunk("", 0, "p"), MakeChunk("", 0, "q")).status().code() ==
        Code::kNotFound);
  auto wrong = store->Split(s1, MakeChunk("app", 0, "p"), MakeChunk("", 0, "q"));
  CHECK(wrong.status().code() == Code::kInvalidArgument);
  CHECK(Bodies(AllChunks(*store)) == order);  // nothing changed
}

TEST_CASE("Replace: one or three parts take the original's place, in order", "[buffer]") {
  Fixture f;
  auto store = f.Open();
  const int64_t a1 = Commit(*store, "app", "a1");
  const int64_t a2 = Commit(*store, "app", "a2");
  const int64_t s1 = Commit(*store, "sys", "s1");

  std::vector<SealedChunk> one;
  one.push_back(MakeChunk("", kStartMs, "a1-rest"));
  auto r1 = store->Replace(a1, std::move(one));
  REQUIRE(r1.ok());
  REQUIRE(r1->size() == 1);
  CHECK(Bodies(AllChunks(*store)) == std::vector<std::string>{"a1-rest", "a2", "s1"});

  std::vector<SealedChunk> three;
  for (const char* b : {"p", "q", "r"}) three.push_back(MakeChunk("", kStartMs, b));
  auto r3 = store->Replace((*r1)[0], std::move(three));
  REQUIRE(r3.ok());
  REQUIRE(r3->size() == 3);
  CHECK((*r3)[0] < (*r3)[1]);
  CHECK((*r3)[1] < (*r3)[2]);
  CHECK(Bodies(AllChunks(*store)) == std::vector<std::string>{"p", "q", "r", "a2", "s1"});
  CHECK(store->used_bytes() == 1 + 1 + 1 + 2 + 2);

  // A part moved to dead_chunks leaves the others in place.
  REQUIRE(store->MoveToDead((*r3)[1], "400 mapper_parsing_exception").ok());
  CHECK(Bodies(*store->DueChunks(kStartMs, 10)) == std::vector<std::string>{"p", "r", "a2", "s1"});
  CHECK(*store->CountDead() == 1);

  CHECK(store->Replace(a1, {}).status().code() == Code::kInvalidArgument);
  std::vector<SealedChunk> gone;
  gone.push_back(MakeChunk("", 0, "x"));
  CHECK(store->Replace(a1, std::move(gone)).status().code() == Code::kNotFound);
  CHECK(Ids(AllChunks(*store)).back() == s1);
  (void)a2;
}

TEST_CASE("Split works 62 levels deep from one chunk, then refuses", "[buffer]") {
  Fixture f;
  auto store = f.Open();
  int64_t first = Commit(*store, "app", "first");
  const int64_t later = Commit(*store, "app", "later");
  std::vector<std::string> expected = {"later"};
  for (int level = 1; level <= 62; ++level) {
    const std::string second = "h" + std::to_string(level);
    auto ids = store->Split(first, MakeChunk("", 0, "first"), MakeChunk("", 0, second));
    INFO("level " << level << ": " << ids.status().ToString());
    REQUIRE(ids.ok());
    first = ids->first;
    expected.insert(expected.begin(), second);
  }
  expected.insert(expected.begin(), "first");
  auto too_deep = store->Split(first, MakeChunk("", 0, "p"), MakeChunk("", 0, "q"));
  CHECK(too_deep.status().code() == Code::kInvalidArgument);
  CHECK(too_deep.status().message().find("split too many times") != std::string::npos);
  CHECK(Bodies(AllChunks(*store)) == expected);
  CHECK(AllChunks(*store).back().id == later);
}

TEST_CASE("a delivery write on a full disk is kUnavailable and changes nothing", "[buffer]") {
  Fixture f;
  auto o = f.Options();
  o.max_pages = 64;  // 256 KiB
  auto store = f.Open(o);
  std::vector<int64_t> ids;
  for (uint32_t i = 0; i < 20; ++i) {
    auto r = store->Commit({MakeChunk("app", kStartMs, RandomBytes(40000, i)), {}, {}, {}});
    if (!r.ok()) break;
    ids.push_back(*r);
  }
  REQUIRE(ids.size() >= 2);
  const uint64_t used = store->used_bytes();
  auto split = store->Split(ids[0], MakeChunk("", 0, RandomBytes(60000, 50)),
                            MakeChunk("", 0, RandomBytes(60000, 51)));
  REQUIRE_FALSE(split.ok());
  CHECK(split.status().code() == Code::kUnavailable);
  CHECK(split.status().message().find("disk full") != std::string::npos);
  CHECK(store->used_bytes() == used);
  CHECK(Ids(AllChunks(*store)) == ids);
  // Acknowledging makes room again.
  REQUIRE(store->Acknowledge(ids[0]).ok());
  REQUIRE(store->Acknowledge(ids[1]).ok());
  CHECK(store->Commit({MakeChunk("app", kStartMs, RandomBytes(40000, 99)), {}, {}, {}}).ok());
}

TEST_CASE("a pipeline store commits while a shipper store on the same file delivers", "[buffer]") {
  Fixture f;
  auto writer = f.Open();
  auto shipper = f.Open();
  constexpr int kChunks = 300;
  const char* streams[] = {"app", "sys", "web"};
  std::atomic<bool> writing{true};
  std::atomic<int> acknowledged{0};
  std::string writer_error;
  std::thread pipeline([&] {
    for (int i = 0; i < kChunks && writer_error.empty(); ++i) {
      // Half-way, wait for the shipper to have delivered something: the rest is
      // committed while it acknowledges.
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (i == kChunks / 2 && acknowledged == 0 && std::chrono::steady_clock::now() < give_up)
        std::this_thread::yield();
      const std::string stream = streams[i % 3];
      auto r = writer->Commit({MakeChunk(stream, kStartMs, stream + "-" + std::to_string(i)),
                               {MakeCheckpoint(stream, 1, static_cast<uint64_t>(i))},
                               {},
                               {}});
      if (!r.ok()) writer_error = r.status().ToString();
    }
    writing = false;
  });
  // The shipper: fetch what is due, fail every 7th chunk once (due again at once, so
  // the rest of its stream waits for the next round), split one, acknowledge the rest.
  std::map<std::string, std::vector<std::string>> delivered;
  std::string split_body;
  std::string shipper_error;
  std::set<int64_t> retried;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (shipper_error.empty() && std::chrono::steady_clock::now() < deadline) {
    const bool writer_done = !writing;
    auto due = shipper->DueChunks(kStartMs, 8);
    if (!due.ok()) {
      shipper_error = due.status().ToString();
      break;
    }
    if (due->empty()) {
      if (writer_done) break;
      std::this_thread::yield();
      continue;
    }
    std::set<std::string> stalled;
    for (const StoredChunk& c : *due) {
      if (stalled.count(c.chunk.stream)) continue;
      Status st;
      if (c.id % 7 == 0 && retried.insert(c.id).second) {
        st = shipper->ScheduleRetry(c.id, 0, "503");
        stalled.insert(c.chunk.stream);
      } else if (split_body.empty() && c.id % 5 == 0) {
        split_body = c.chunk.body;
        st = shipper
                 ->Split(c.id, MakeChunk("", 0, c.chunk.body + "/1"),
                         MakeChunk("", 0, c.chunk.body + "/2"))
                 .status();
        stalled.insert(c.chunk.stream);
      } else {
        delivered[c.chunk.stream].push_back(c.chunk.body);
        st = shipper->Acknowledge(c.id);
        ++acknowledged;
      }
      if (!st.ok()) {
        shipper_error = st.ToString();
        break;
      }
    }
  }
  pipeline.join();
  INFO(writer_error);
  INFO(shipper_error);
  REQUIRE(writer_error.empty());
  REQUIRE(shipper_error.empty());
  REQUIRE_FALSE(split_body.empty());
  CHECK(retried.size() > 10);
  // Every stream arrived whole, once, in commit order, the split chunk as its halves.
  std::map<std::string, std::vector<std::string>> expected;
  for (int i = 0; i < kChunks; ++i) {
    const std::string stream = streams[i % 3];
    const std::string body = stream + "-" + std::to_string(i);
    if (body == split_body) {
      expected[stream].push_back(body + "/1");
      expected[stream].push_back(body + "/2");
    } else {
      expected[stream].push_back(body);
    }
  }
  CHECK(delivered == expected);
  REQUIRE(writer->RefreshUsage().ok());  // sees the shipper's acknowledgements
  CHECK(writer->used_bytes() == 0);
  CHECK(writer->Stats()->chunks == 0);
  CHECK(QueryOne(f.file, "SELECT count(*) FROM chunk_bodies") == 0);
  CHECK(writer->LoadCheckpoints()->size() == 3);
}

// ---- Ids and schema versions ----

TEST_CASE("a new file starts its chunk ids at its creation time in ms * 1000", "[buffer]") {
  Fixture f;
  int64_t last_old = 0;
  {
    auto store = f.Open();
    CHECK(Commit(*store, "app", "one") == kStartMs * 1000 + 1);
    for (int i = 0; i < 50; ++i) last_old = Commit(*store, "app", "more");
  }
  // The file is lost to corruption a second later: the fresh one's ids are beyond
  // every id of the old one, so no idempotency key repeats.
  f.clock.Advance(std::chrono::seconds(1));
  f.dir.Write("buffer.db", RandomBytes(4096, 3));
  fs::remove(f.dir.path() / "buffer.db-wal");
  fs::remove(f.dir.path() / "buffer.db-shm");
  auto store = f.Open();
  REQUIRE(store->quarantined());
  const int64_t first_new = Commit(*store, "app", "after");
  CHECK(first_new == (kStartMs + 1000) * 1000 + 1);
  CHECK(first_new > last_old);
}

namespace {

// A buffer.db as outpost 0.x (schema version 1) left it: built with the released v1
// step, never to be edited.
void WriteVersion1File(const fs::path& file) {
  Result<Db> db = Db::Open(file, {});
  REQUIRE(db.ok());
  REQUIRE(db->Exec("PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL").ok());
  REQUIRE(db->Exec(buffer_schema::kMigrations[0].sql).ok());
  REQUIRE(db->Exec("INSERT INTO state VALUES ('schema_version', '1'), ('agent_id', 'a-1')").ok());
}

void AddVersion1Chunk(Db& db, const std::string& stream, const std::string& body,
                      int64_t attempts = 0, int64_t next = 0, const std::string& error = "") {
  auto st = db.Prepare(
      "INSERT INTO chunks (stream, created_at, records, raw_bytes, stored_bytes, codec, format, "
      "attempts, next_attempt_at, last_error, body) VALUES (?1, ?2, 2, 40, ?3, 'zstd', "
      "'ndjson', ?4, ?5, ?6, ?7)");
  REQUIRE(st.ok());
  REQUIRE(st->BindText(1, stream).ok());
  REQUIRE(st->BindInt64(2, kStartMs - 1000).ok());
  REQUIRE(st->BindInt64(3, static_cast<int64_t>(body.size())).ok());
  REQUIRE(st->BindInt64(4, attempts).ok());
  REQUIRE(st->BindInt64(5, next).ok());
  REQUIRE(st->BindText(6, error).ok());
  REQUIRE(st->BindBlob(7, body).ok());
  REQUIRE(st->StepDone().ok());
}

}  // namespace

TEST_CASE("a version 1 file is migrated to version 2 and keeps everything", "[buffer]") {
  Fixture f;
  WriteVersion1File(f.file);
  {
    Db db = OtherConnection(f.file);
    AddVersion1Chunk(db, "app", "app-1");                                                 // id 1
    AddVersion1Chunk(db, "sys", "sys-1", 2, kStartMs + 5000, "503 Service Unavailable");  // 2
    AddVersion1Chunk(db, "app", "app-2");                                                 // id 3
    AddVersion1Chunk(db, "app", "dead");                                                  // id 4
    AddVersion1Chunk(db, "app", "sent");                                                  // id 5
    REQUIRE(db.Exec("INSERT INTO dead_chunks SELECT id, stream, created_at, records, raw_bytes, "
                    "stored_bytes, codec, format, attempts, next_attempt_at, last_error, "
                    "'400 Bad Request', 77, body FROM chunks WHERE id = 4; "
                    "DELETE FROM chunks WHERE id IN (4, 5)")
                .ok());
    REQUIRE(db.Exec("INSERT INTO checkpoints (source, device, inode, \"offset\") "
                    "VALUES ('app', 1, 2, 300)")
                .ok());
  }
  // Not migrated by a reader.
  auto ro = f.Options();
  ro.read_only = true;
  auto reader = BufferStore::Open(ro, f.clock, Logger::Discard());
  REQUIRE_FALSE(reader.ok());
  CHECK(reader.status().message().find("run the agent once to migrate it") != std::string::npos);

  CapturingSink sink;
  Logger logger(&sink, &f.clock, LogLevel::kInfo);
  auto opened = BufferStore::Open(f.Options(), f.clock, logger);
  INFO(opened.status().ToString());
  REQUIRE(opened.ok());
  auto& store = *opened;
  REQUIRE(sink.lines.size() == 1);
  CHECK(sink.lines[0].find("migrated") != std::string::npos);
  CHECK(sink.lines[0].find("from schema version 1 to 2") != std::string::npos);
  CHECK(store->Stats()->schema_version == 2);
  CHECK(store->used_bytes() == 5 + 5 + 5 + 4);

  ChunkFilter everything;
  everything.include_dead = true;
  auto chunks = AllChunks(*store, everything);
  REQUIRE(chunks.size() == 4);
  CHECK(Ids(chunks) == std::vector<int64_t>{1, 2, 3, 4});
  CHECK(Bodies(chunks) == std::vector<std::string>{"app-1", "sys-1", "app-2", "dead"});
  CHECK(chunks[1].attempts == 2);
  CHECK(chunks[1].next_attempt_at_ms == kStartMs + 5000);
  CHECK(chunks[1].last_error == "503 Service Unavailable");
  CHECK(chunks[0].chunk.created_at_ms == kStartMs - 1000);
  CHECK(chunks[0].chunk.raw_bytes == 40);
  CHECK(chunks[3].dead);
  CHECK(chunks[3].dead_reason == "400 Bad Request");
  CHECK(chunks[3].dead_at_ms == 77);
  CHECK((*store->LoadCheckpoints("app"))[0].offset == 300);
  CHECK(*store->GetState("agent_id") == std::optional<std::string>("a-1"));

  // Delivery works on the migrated rows: sys waits for its retry, app flows.
  CHECK(Ids(*store->DueChunks(kStartMs, 10)) == std::vector<int64_t>{1, 3});
  CHECK(*store->NextAttemptAt({1, 3}) == std::optional<int64_t>(kStartMs + 5000));
  // The id sequence went along: 5 was used (and sent), so the next chunk is 6.
  CHECK(Commit(*store, "app", "new") == 6);
  {
    Db db = OtherConnection(f.file);
    CHECK(QueryOne(db, "SELECT count(*) FROM chunks WHERE seq = id AND sub = 0") == 4);
    CHECK(QueryOne(db,
                   "SELECT count(*) FROM sqlite_master WHERE name IN ('chunks_v2', "
                   "'chunks_stream_id')") == 0);
    CHECK(QueryOne(db,
                   "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                   "('chunks_order', 'chunks_stream_order')") == 2);
    CHECK(QueryOne(db, "SELECT count(*) FROM sqlite_sequence") == 1);
  }
  store.reset();
  // Reopening migrates nothing more.
  CapturingSink quiet;
  Logger quiet_logger(&quiet, &f.clock, LogLevel::kInfo);
  auto again = BufferStore::Open(f.Options(), f.clock, quiet_logger);
  REQUIRE(again.ok());
  CHECK(quiet.lines.empty());
  CHECK(AllChunks(**again).size() == 4);
}

TEST_CASE("a version 1 file that never had a chunk gets a time-based id start", "[buffer]") {
  Fixture f;
  WriteVersion1File(f.file);
  auto store = f.Open();
  CHECK(Commit(*store, "app", "first") == kStartMs * 1000 + 1);
}

TEST_CASE("a migration that fails leaves the version 1 file as it was", "[buffer]") {
  Fixture f;
  WriteVersion1File(f.file);
  {
    Db db = OtherConnection(f.file);
    AddVersion1Chunk(db, "app", "app-1");
    // Step 2 creates chunk_bodies: a table of that name makes it fail half-way.
    REQUIRE(db.Exec("CREATE TABLE chunk_bodies (x)").ok());
  }
  auto r = BufferStore::Open(f.Options(), f.clock, Logger::Discard());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("schema step to version 2") != std::string::npos);
  Db db = OtherConnection(f.file);
  CHECK(QueryOne(db, "SELECT value FROM state WHERE key = 'schema_version'") == 1);
  CHECK(QueryOne(db, "SELECT length(body) FROM chunks WHERE id = 1") == 5);
  CHECK(QueryOne(db, "SELECT count(*) FROM sqlite_master WHERE name = 'chunks_v2'") == 0);
  CHECK(QueryOne(db, "SELECT seq FROM sqlite_sequence WHERE name = 'chunks'") == 1);
}

}  // namespace outpost

// Sealer: chunks compressed on several threads are still committed in the order they
// were handed over, checkpoints never ahead of the chunk before them, and a failing
// commit is retried in place without losing or reordering anything.
#include <catch.hpp>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "buffer/buffer_store.h"
#include "buffer/sqlite_db.h"
#include "chunk/zstd_codec.h"
#include "collect/sealer.h"
#include "test_files.h"
#include "util/clock.h"
#include "util/logger.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::unique_ptr<BufferStore> OpenStore(const fs::path& file, const Clock& clock) {
  BufferStore::Options o;
  o.file = file;
  auto store = BufferStore::Open(o, clock, Logger::Discard());
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  return std::move(*store);
}

// Raw NDJSON of chunk `n`: a few hundred records, sizes varying so that compression
// times differ and a later chunk often finishes before an earlier one.
std::string Body(int n) {
  std::string body;
  const int records = 50 + (n * 37) % 400;
  for (int i = 0; i < records; ++i)
    body +=
        "{\"n\":" + std::to_string(n) + ",\"i\":" + std::to_string(i) + ",\"message\":\"" +
        std::string(static_cast<size_t>(20 + (i * 13 + n) % 200), static_cast<char>('a' + n % 26)) +
        "\"}\n";
  return body;
}

Checkpoint MakeCheckpoint(uint64_t inode, uint64_t offset) {
  Checkpoint cp;
  cp.source = "app";
  cp.device = 2049;
  cp.inode = inode;
  cp.fingerprint = 0x1234;
  cp.fingerprint_len = 1024;
  cp.offset = offset;
  return cp;
}

// Chunk `n`, with the checkpoint of inode 1 at offset n + 1 in the same batch.
Sealer::Job ChunkJob(int n) {
  Sealer::Job job;
  job.stream = static_cast<size_t>(n % 3);
  job.raw = Body(n);
  SealedChunk c;
  c.stream = "s" + std::to_string(n % 3);
  c.created_at_ms = 1767225600000 + n;
  c.records = static_cast<uint64_t>(n) + 1;  // tells the chunks apart in Done
  c.raw_bytes = job.raw.size();
  job.batch.chunk = std::move(c);
  job.batch.upserts = {MakeCheckpoint(1, static_cast<uint64_t>(n) + 1)};
  return job;
}

void SubmitAll(Sealer& sealer, std::vector<Sealer::Job> jobs) {
  for (Sealer::Job& job : jobs) {
    REQUIRE(sealer.WaitForRoom(std::chrono::seconds(30)));
    REQUIRE(sealer.Submit(std::move(job)));  // takes the job only when there is room
  }
}

std::vector<StoredChunk> AllChunks(BufferStore& store) {
  std::vector<StoredChunk> out;
  REQUIRE(store
              .ForEachChunk({},
                            [&](const StoredChunk& c) {
                              out.push_back(c);
                              return true;
                            })
              .ok());
  return out;
}

TEST_CASE("chunks compressed side by side are committed in the order handed over",
          "[collect][sealer]") {
  TempDir dir;
  FakeClock clock;
  auto store = OpenStore(dir.path() / "buffer.db", clock);
  std::mutex store_mu;
  const size_t workers = GENERATE(1, 2, 4);
  INFO("workers " << workers);
  constexpr int kChunks = 40;
  std::vector<Sealer::Done> done;
  {
    Sealer sealer(*store, store_mu, 1, workers + 1, nullptr, workers);
    CHECK(sealer.workers() == workers);
    std::vector<Sealer::Job> jobs;
    for (int n = 0; n < kChunks; ++n) {
      jobs.push_back(ChunkJob(n));
      if (n % 5 == 4) {  // a checkpoint-only batch: nothing to compress, still in order
        Sealer::Job cp;
        cp.stream = 7;
        cp.batch.upserts = {MakeCheckpoint(2, static_cast<uint64_t>(n))};
        jobs.push_back(std::move(cp));
      }
    }
    std::thread taker([&] {
      // TakeDone from another thread while the workers run, as the agent's loop does.
      while (done.size() < kChunks + kChunks / 5) {
        for (const Sealer::Done& d : sealer.TakeDone()) done.push_back(d);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    SubmitAll(sealer, std::move(jobs));
    REQUIRE(sealer.Drain(std::chrono::seconds(60)));
    taker.join();
    CHECK(sealer.error().empty());
  }
  // Done comes back in submission order.
  REQUIRE(done.size() == kChunks + kChunks / 5);
  size_t at = 0;
  for (int n = 0; n < kChunks; ++n) {
    CHECK(done[at].stream == static_cast<size_t>(n % 3));
    CHECK(done[at].records == static_cast<uint64_t>(n) + 1);
    ++at;
    if (n % 5 == 4) {
      CHECK(done[at].stream == 7);
      CHECK(done[at].records == 0);
      ++at;
    }
  }
  // buffer.db holds the chunks in order (ids ascending with n), each body the zstd frame
  // of its own records.
  const std::vector<StoredChunk> chunks = AllChunks(*store);
  REQUIRE(chunks.size() == kChunks);
  for (int n = 0; n < kChunks; ++n) {
    const StoredChunk& c = chunks[static_cast<size_t>(n)];
    CHECK(c.chunk.created_at_ms == 1767225600000 + n);
    if (n > 0) CHECK(c.id > chunks[static_cast<size_t>(n) - 1].id);
    Result<std::string> raw = ZstdDecompress(c.chunk.body, 1 << 24);
    INFO("chunk " << n << ": " << raw.status().ToString() << ", " << c.chunk.body.size()
                  << " bytes");
    REQUIRE(raw.ok());
    CHECK(*raw == Body(n));
  }
  // The last batch to touch each checkpoint won: a later batch was never overtaken.
  auto cps = store->LoadCheckpoints("app");
  REQUIRE(cps.ok());
  REQUIRE(cps->size() == 2);
  for (const Checkpoint& cp : *cps) CHECK(cp.offset == (cp.inode == 1 ? kChunks : kChunks - 1));
}

TEST_CASE("a commit that fails is retried in place; later batches wait behind it",
          "[collect][sealer]") {
  TempDir dir;
  FakeClock clock;
  const fs::path file = dir.path() / "buffer.db";
  auto store = OpenStore(file, clock);
  std::mutex store_mu;
  // Fault injection: every chunk commit fails until the trigger is dropped.
  Result<Db> other = Db::Open(file, {.read_only = false, .create = false, .busy_timeout_ms = 5000});
  REQUIRE(other.ok());
  REQUIRE(other
              ->Exec("CREATE TRIGGER fail_all BEFORE INSERT ON chunks "
                     "BEGIN SELECT RAISE(ABORT, 'injected'); END")
              .ok());
  Sealer sealer(*store, store_mu, 1, 3, nullptr, 2);
  std::vector<Sealer::Job> jobs;
  for (int n = 0; n < 3; ++n) jobs.push_back(ChunkJob(n));
  SubmitAll(sealer, std::move(jobs));
  CHECK(sealer.Full());
  // The head fails; nothing is committed, the queue stays full, the error is told.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (sealer.error().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(sealer.error().find("injected") != std::string::npos);
  CHECK_FALSE(sealer.Drain(std::chrono::milliseconds(300)));
  CHECK(sealer.TakeDone().empty());
  CHECK(sealer.Full());
  CHECK_FALSE(sealer.Submit(ChunkJob(3)));
  // Space returns: everything goes in, in order, and the error clears.
  REQUIRE(other->Exec("DROP TRIGGER fail_all").ok());
  REQUIRE(sealer.Drain(std::chrono::seconds(30)));
  CHECK(sealer.error().empty());
  const std::vector<Sealer::Done> done = sealer.TakeDone();
  REQUIRE(done.size() == 3);
  for (int n = 0; n < 3; ++n)
    CHECK(done[static_cast<size_t>(n)].records == static_cast<uint64_t>(n) + 1);
  std::lock_guard<std::mutex> lk(store_mu);
  const std::vector<StoredChunk> chunks = AllChunks(*store);
  REQUIRE(chunks.size() == 3);
  for (int n = 0; n < 3; ++n) {
    Result<std::string> raw = ZstdDecompress(chunks[static_cast<size_t>(n)].chunk.body, 1 << 24);
    REQUIRE(raw.ok());
    CHECK(*raw == Body(n));
  }
}

}  // namespace
}  // namespace outpost

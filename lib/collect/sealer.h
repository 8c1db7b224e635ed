// Sealer: compresses chunks and commits them to buffer.db on its own threads, in the
// order they were handed over, so that reading and encoding (the agent's thread) and
// zstd (these) overlap. With more than one worker, chunks are compressed side by side
// (zstd is most of the agent's CPU under load) and still committed one by one, in order.
//
// Order is the whole point: a batch (chunk + the checkpoints of its lines, or
// checkpoints alone) is committed only after every batch submitted before it, so a
// checkpoint never gets ahead of the records it covers. A commit that fails (disk
// full) is retried every second, in place; later batches wait behind it, the queue
// fills, and the agent stops reading (Full()). Nothing is lost: uncommitted batches
// hold only lines whose checkpoints were not stored, which a restart reads again.
//
// Thread-safe: Submit/Full/TakeDone/Drain/error from the agent's thread, the workers on
// their own. Any worker may compress any batch; only one commits at a time. The
// BufferStore is shared: every user takes `store_mu`.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "buffer/buffer_store.h"
#include "chunk/zstd_codec.h"
#include "outpost/platform/change_watcher.h"

namespace outpost {

class Sealer {
 public:
  struct Job {
    size_t stream = 0;  // the caller's index for it
    std::string raw;    // uncompressed NDJSON; empty for a checkpoint-only batch
    CommitBatch batch;  // batch.chunk, if set, has no body yet
  };
  struct Done {
    size_t stream = 0;
    uint64_t records = 0;  // 0 for a checkpoint-only batch
  };

  // `wake` (may be null) is woken after every commit and failure, so the agent's loop
  // notices room in the queue and new errors without polling. `workers` threads (at
  // least 1) compress; `capacity` batches may wait (at least `workers` + 1 keeps them
  // all busy while the agent fills the next chunk).
  Sealer(BufferStore& store, std::mutex& store_mu, int level, size_t capacity,
         platform::ChangeWatcher* wake, size_t workers = 1);
  ~Sealer();  // stops the threads; batches not yet committed are dropped
  Sealer(const Sealer&) = delete;
  Sealer& operator=(const Sealer&) = delete;

  bool Full() const;
  // Queues a batch (moving from `job`); false when Full(), and `job` is left as it was.
  bool Submit(Job&& job);
  // Waits up to `timeout` for room in the queue; true when there is room.
  bool WaitForRoom(std::chrono::milliseconds timeout);
  // Waits up to `timeout` until everything queued is committed; true when it is.
  bool Drain(std::chrono::milliseconds timeout);
  // Batches committed since the last call, oldest first.
  std::vector<Done> TakeDone();
  // Why the batch at the head of the queue does not commit, or empty.
  std::string error() const;
  // The store's used_bytes() after the last commit (read without the store lock, so
  // the agent's thread never waits for a commit in progress just to check the cap).
  uint64_t used_bytes() const { return used_bytes_.load(std::memory_order_relaxed); }
  // The agent re-read the usage (another process purged or shipped chunks).
  void NoteUsage(uint64_t bytes) { used_bytes_.store(bytes, std::memory_order_relaxed); }

  size_t workers() const { return threads_.size(); }

 private:
  struct Entry {
    Job job;
    bool claimed = false;  // a worker compresses it (or did)
    bool ready = false;    // compressed, or nothing to compress: may be committed
  };

  void Loop(int level);
  // With mu_ held: whether the head is ready and nobody commits; the oldest batch no
  // worker has taken yet (nullptr when none).
  bool CanCommit() const;
  Entry* Unclaimed();
  // With mu_ held (unlocked while working): commit the head / compress `e`.
  void CommitHead(std::unique_lock<std::mutex>& lk);
  void Compress(std::unique_lock<std::mutex>& lk, Entry& e, ZstdCompressor& compressor);
  void Failed(std::unique_lock<std::mutex>& lk, const std::string& failure);

  BufferStore& store_;
  std::mutex& store_mu_;
  size_t capacity_;
  platform::ChangeWatcher* wake_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // a job, a compressed job, the end of a commit, stop
  std::condition_variable done_cv_;  // a job was committed
  // Oldest first; only the head is committed. Entries stay queued (and counted by
  // Full) until committed; deque references survive push_back and pop_front of other
  // entries, so a worker works on one without the lock.
  std::deque<Entry> queue_;
  std::vector<Done> done_;
  std::string error_;
  bool committing_ = false;
  // After a failure (disk full, out of memory) nothing is tried again before this.
  std::chrono::steady_clock::time_point retry_at_{};
  bool stop_ = false;
  std::atomic<uint64_t> used_bytes_;
  std::vector<std::thread> threads_;
};

}  // namespace outpost

// Source: what the pipeline (pipeline.h) drives. One per configured [[source.*]]
// entry; each owns its stream's open chunk and the checkpoints of the records in it.
//
// The contract that makes collection exactly once: records go into builder(); when the
// pipeline commits, CollectCheckpoints() adds the position just past the last record in
// the builder to the same CommitBatch as the chunk (one buffer.db transaction), and
// Committed() is called once that batch is stored. After a crash a source resumes at
// its committed position. Not thread-safe: the pipeline's thread owns every source.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "buffer/buffer_store.h"
#include "chunk/chunk_builder.h"
#include "outpost/platform/change_watcher.h"
#include "util/clock.h"
#include "util/status.h"

namespace outpost {

class Source {
 public:
  virtual ~Source() = default;

  virtual const std::string& name() const = 0;
  // "file", "journal": the status JSON's `type`.
  virtual std::string_view type() const = 0;
  virtual ChunkBuilder& builder() = 0;

  // Loads checkpoints and prepares reading; checkpoint changes wait for the next commit.
  virtual Status Start(BufferStore& store, platform::ChangeWatcher& watcher) = 0;
  // Called once the checkpoints Start set up are committed.
  virtual Status MarkStarted(BufferStore& store) = 0;

  virtual void OnEvents(const platform::WatchEvents& events) = 0;
  virtual void Rescan() = 0;

  enum class ReadOutcome { kIdle, kChunkFull };
  // Reads what is available into the open chunk; kChunkFull: seal, commit, call again.
  // `flush_all`: end of input (--once): read to the current end, complete what waits.
  virtual ReadOutcome Read(bool flush_all) = 0;
  // Timers (partial lines, retries); like Read.
  virtual ReadOutcome Tick() = 0;
  // The earliest moment Tick() has something to do; nullopt when none.
  virtual std::optional<MonoTime> Deadline() const = 0;
  virtual bool needs_polling() const = 0;
  virtual Duration poll_interval() const = 0;

  virtual void CollectCheckpoints(CommitBatch& batch) = 0;
  virtual void Committed() = 0;
  virtual bool HasCheckpointChanges() const = 0;

  // Changes whenever what StatusJson shows changed.
  virtual uint64_t status_version() const = 0;
  // The source's own part of the agent status (files, problems, ...) as a JSON object
  // whose members the pipeline adds to the source's entry (name, type, ...). Text, so
  // that lib's headers need no JSON library.
  virtual std::string StatusJson() const = 0;
};

// The checkpoint of a source whose position is one opaque cursor (the journal's
// __CURSOR, the Event Log's bookmark XML): the cursor stored in buffer.db, the one the
// open chunk reaches, and those collected into batches not yet committed.
class CursorCheckpoint {
 public:
  // After loading: `stored` is what buffer.db holds (empty: none).
  void Reset(std::string stored) {
    committed_ = emitted_ = collected_ = std::move(stored);
    in_flight_.clear();
  }
  // The cursor of the last record put into the open chunk.
  void Emit(std::string cursor) { emitted_ = std::move(cursor); }
  bool HasChanges() const { return emitted_ != collected_; }
  // Source::CollectCheckpoints: adds the emitted cursor to `batch` when it moved.
  void Collect(CommitBatch& batch, const std::string& source, const std::string& path) {
    if (!HasChanges()) return;
    Checkpoint cp;
    cp.source = source;
    cp.path = path;
    cp.cursor = emitted_;
    batch.upserts.push_back(std::move(cp));
    in_flight_.push_back(emitted_);
    collected_ = emitted_;
  }
  // Source::Committed: the oldest collected cursor is stored now. False when none was.
  bool Committed() {
    if (in_flight_.empty()) return false;
    committed_ = std::move(in_flight_.front());
    in_flight_.pop_front();
    return true;
  }
  const std::string& committed() const { return committed_; }

 private:
  std::string committed_;              // stored in buffer.db
  std::string emitted_;                // of the last record in the open chunk
  std::string collected_;              // of the last Collect
  std::deque<std::string> in_flight_;  // collected, not yet committed
};

}  // namespace outpost

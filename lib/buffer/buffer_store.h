// BufferStore: buffer.db, the agent's crash-safe local store (docs/buffer.md).
//
// One SQLite file in WAL mode holding sealed chunks, checkpoints, dead chunks and
// key/value state. The log pipeline's guarantee rests on Commit(): a sealed chunk and
// the checkpoints of the lines it holds are written in ONE transaction, so a kill -9
// at any moment neither loses nor doubles a line between a file and the buffer.
//
// Open() creates or migrates the schema (schema_version in `state`); a file that is
// not a database or is corrupt is moved aside (buffer.db.corrupt-<time>, never
// deleted) and a fresh one is started, reported through quarantined(). A read-only
// store (status, export) never creates, migrates or quarantines anything.
//
// Not thread-safe: one owner per BufferStore. Several processes may open the same file
// (WAL readers never block the writer); the writer is the agent.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "util/clock.h"
#include "util/logger.h"
#include "util/status.h"

namespace outpost {

// Where one source stands in one file (or, later, a journal cursor / event bookmark).
struct Checkpoint {
  std::string source;        // the source's stream name
  uint64_t device = 0;       // file identity: device (or volume serial)
  uint64_t inode = 0;        //   and inode (or file index)
  uint64_t fingerprint = 0;  // hash of the file's first fingerprint_len bytes
  uint64_t fingerprint_len = 0;
  std::string path;           // where the file was last seen
  uint64_t offset = 0;        // bytes of the file that are in committed chunks
  std::string cursor;         // non-file sources: their position; empty for files
  int64_t updated_at_ms = 0;  // wall clock, ms since the epoch (set by Commit)
};

struct CheckpointId {
  std::string source;
  uint64_t device = 0;
  uint64_t inode = 0;
};

// A chunk ready to be stored: NDJSON records compressed as one zstd frame.
struct SealedChunk {
  std::string stream;
  int64_t created_at_ms = 0;  // wall clock of its first record
  uint64_t records = 0;
  uint64_t raw_bytes = 0;  // uncompressed NDJSON size
  std::string codec = "zstd";
  std::string format = "ndjson";
  std::string body;  // compressed
};

// Everything one transaction writes.
struct CommitBatch {
  std::optional<SealedChunk> chunk;
  std::vector<Checkpoint> upserts;
  std::vector<CheckpointId> deletes;
};

// A chunk as stored (export, status, the shipper).
struct StoredChunk {
  int64_t id = 0;
  SealedChunk chunk;
  int64_t attempts = 0;
  int64_t next_attempt_at_ms = 0;
  std::string last_error;
  bool dead = false;        // from dead_chunks
  std::string dead_reason;  // why a server refused it for good
  int64_t dead_at_ms = 0;   // when it was moved to dead_chunks
};

struct StreamStats {
  std::string stream;
  uint64_t chunks = 0;
  uint64_t records = 0;
  uint64_t raw_bytes = 0;
  uint64_t stored_bytes = 0;
  int64_t oldest_created_at_ms = 0;
};

struct BufferStats {
  std::filesystem::path file;
  uint64_t file_bytes = 0;    // buffer.db + -wal on disk
  uint64_t stored_bytes = 0;  // compressed chunk bodies, live and dead: what max_bytes caps
  uint64_t max_bytes = 0;
  uint64_t chunks = 0;   // live chunks (waiting to be sent)
  uint64_t records = 0;  //   and the records in them
  uint64_t dead_chunks = 0;
  int64_t oldest_created_at_ms = 0;  // of the live chunks; 0 when there are none
  int schema_version = 0;
  std::vector<StreamStats> streams;  // live chunks per stream, sorted by name (bytewise)
};

struct ChunkFilter {
  std::optional<std::string> stream;
  std::optional<int64_t> since_ms;  // chunks created at or after
  bool include_dead = false;
};

class BufferStore {
 public:
  struct Options {
    std::filesystem::path file;  // <state_dir>/buffer.db
    Durability durability = Durability::kCrash;
    uint64_t max_bytes = 256ULL << 20;
    bool read_only = false;
    // How long to wait for another process's lock before failing with kUnavailable.
    int busy_timeout_ms = 5000;
    // Fault injection for tests: when > 0, the file may grow to at most this many
    // pages (4 KiB each), after which writes fail as on a full disk. 0 in production.
    uint64_t max_pages = 0;
  };

  // The schema version this build writes; older files are migrated in place.
  static constexpr int kSchemaVersion = 1;

  static Result<std::unique_ptr<BufferStore>> Open(const Options& options, const Clock& clock,
                                                   const Logger& logger);
  ~BufferStore();
  BufferStore(const BufferStore&) = delete;
  BufferStore& operator=(const BufferStore&) = delete;

  // Where a corrupt file was moved to during Open(), if it was.
  const std::optional<std::filesystem::path>& quarantined() const;

  // Writes the batch in one transaction (chunk insert, checkpoint upserts with
  // updated_at set, checkpoint deletes). Returns the new chunk id, or 0 without a
  // chunk. On failure nothing of the batch is written. A full disk is kUnavailable.
  Result<int64_t> Commit(const CommitBatch& batch);

  // Checkpoints of one source, or of every source when `source` is empty.
  Result<std::vector<Checkpoint>> LoadCheckpoints(std::string_view source = {});

  // Compressed bytes stored (live + dead chunks), as max_bytes counts them. Kept up to
  // date by Commit/Purge; RefreshUsage() re-reads it after another process changed
  // the file (the shipper deleting, `buffer purge`).
  uint64_t used_bytes() const;
  uint64_t max_bytes() const;
  bool Full() const { return used_bytes() >= max_bytes(); }
  Status RefreshUsage();

  Result<BufferStats> Stats();

  // Calls `fn` for each matching chunk, oldest first: live chunks by id, then (with
  // include_dead) dead chunks by id. Stops early when fn returns false. All rows come
  // from one read snapshot; `fn` must not call back into this store.
  Status ForEachChunk(const ChunkFilter& filter, const std::function<bool(const StoredChunk&)>& fn);

  // Deletes chunks (all, or one stream's), live and dead; returns how many.
  Result<uint64_t> Purge(std::optional<std::string> stream);

  // Key/value state (agent id, source status, ...). "schema_version" is the store's
  // own and cannot be set.
  Result<std::optional<std::string>> GetState(std::string_view key);
  Status SetState(std::string_view key, std::string_view value);

 private:
  struct Impl;
  explicit BufferStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace outpost

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
// Chunk ids (the shipper's idempotency keys, <agent_id>-<chunk_id>) are never reused
// by a file, and a new file (first start, or after a quarantine) starts its ids at its
// creation time in ms * 1000, beyond those of any file created before it.
//
// Not thread-safe: one owner per BufferStore. Several BufferStores (each with its own
// connection) may use the same file at once, from threads of one process or from other
// processes: the pipeline commits chunks through one, the shipper delivers them through
// another. WAL readers never block a writer; writers wait for each other's short
// transactions up to busy_timeout_ms.
//
// Delivery order (docs/buffer.md, "Delivery"): each stream's live chunks are delivered
// in their order key (seq, sub), which is the commit order except that the halves of a
// split chunk take the original's place. A chunk is due when its next_attempt_at and
// that of every chunk before it in its stream have passed, so a chunk waiting for a
// retry holds its stream back and the other streams flow.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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
  // State keys written in the same transaction (what a scheduler remembers about the
  // records of this chunk); no value deletes the key.
  std::vector<std::pair<std::string, std::optional<std::string>>> state;
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
  static constexpr int kSchemaVersion = 2;

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

  // The file checkpoints (no cursor) of every source none of whose chunks is live,
  // read in one statement, so one snapshot: every line before these offsets has been
  // delivered (or dead-lettered). What delivered.json keeps (delivered_positions.h).
  Result<std::vector<Checkpoint>> DeliveredCheckpoints();

  // buffer.db's path.
  const std::filesystem::path& file() const;

  // Compressed bytes stored (live + dead chunks), as max_bytes counts them. Kept up to
  // date by this store's own writes (Commit, Purge, Acknowledge, Split). Writes through
  // another store or process (the shipper's store acknowledging chunks, `buffer
  // purge`) are seen after RefreshUsage(), which re-reads the sum only when another
  // connection has committed since the last read (PRAGMA data_version), so it is cheap
  // to call often, e.g. while the pipeline waits for room.
  uint64_t used_bytes() const;
  uint64_t max_bytes() const;
  bool Full() const { return used_bytes() >= max_bytes(); }
  Status RefreshUsage();
  // Gives SQLite's unused cache pages back ([limits] max_memory).
  void ReleaseMemory();

  Result<BufferStats> Stats();

  // Calls `fn` for each matching chunk, oldest first: live chunks in delivery order
  // (seq, sub: by id, except that split halves take the original's place), then (with
  // include_dead) dead chunks by id. Stops early when fn returns false. All rows come
  // from one read snapshot; `fn` must not call back into this store.
  Status ForEachChunk(const ChunkFilter& filter, const std::function<bool(const StoredChunk&)>& fn);

  // ---- Delivery (the shipper) ----
  // The writes below each run in one BEGIN IMMEDIATE transaction: all or nothing. A full
  // disk or a lock held past busy_timeout_ms is kUnavailable; a read-only store is
  // kPermissionDenied.

  // Up to `limit` chunks that may be sent now, with their bodies, in delivery order
  // (oldest first across streams). A chunk is due when its next_attempt_at <= now_ms
  // and so is every chunk before it in its stream: a chunk that is not yet due holds
  // back every later chunk of its stream, while other streams flow. Chunks in
  // `exclude_ids` (in flight) are not returned but still hold their stream back when
  // they are not due; a due one does not, so later chunks of its stream may be sent
  // while it is in flight (a shipper that wants one request per stream at a time leaves
  // out the streams it has in flight).
  Result<std::vector<StoredChunk>> DueChunks(int64_t now_ms, size_t limit,
                                             const std::vector<int64_t>& exclude_ids = {});

  // The earliest time at which DueChunks(t, ..., exclude_ids) returns a chunk: the
  // smallest, over the streams, of the next_attempt_at of the stream's first chunk not
  // in `exclude_ids` and of every chunk before it. Sleeping until then never wakes
  // the shipper for nothing. nullopt when no live chunk is left outside exclude_ids.
  Result<std::optional<int64_t>> NextAttemptAt(const std::vector<int64_t>& exclude_ids = {});

  // Deletes a delivered chunk and its body. A missing id is OK (already acknowledged,
  // or purged meanwhile). used_bytes() goes down by its stored size.
  Status Acknowledge(int64_t id);

  // After a failed attempt: attempts += 1, next_attempt_at, last_error. kNotFound when
  // the chunk is not live (purged meanwhile).
  Status ScheduleRetry(int64_t id, int64_t next_attempt_at_ms, std::string_view last_error);

  // After the wall clock went back by `back_ms` (next_attempt_at is wall time): every
  // retry still ahead of `now_ms` moves back by as much (not before now_ms), and none
  // stays later than `latest_ms`. Attempts and errors are left alone.
  Status RescheduleAfterClockJump(int64_t now_ms, int64_t back_ms, int64_t latest_ms);

  // Sets next_attempt_at and last_error of every live chunk, leaving attempts alone
  // (401/403: keep every chunk, try again much later). Chunks committed afterwards are
  // not affected, but wait behind their stream's deferred chunks.
  Status DeferAll(int64_t next_attempt_at_ms, std::string_view last_error);

  // Moves a live chunk, with its body and delivery state, to dead_chunks with `reason`
  // and dead_at = now (the store's clock), keeping its id. used_bytes() is unchanged
  // (dead chunks count). OK when the chunk is already dead with this id; kNotFound when
  // it is neither live nor dead.
  Status MoveToDead(int64_t id, std::string_view reason);

  // Replaces a live chunk by two (HTTP 413: the server wants smaller requests) and
  // returns the halves' new ids, first < second. The halves take the original's place
  // in its stream: they are delivered in order (first, then second) before any later
  // chunk of the stream, although their ids are newer than those chunks'. New ids
  // mean new idempotency keys for new content. They start with attempts = 0,
  // next_attempt_at = 0 and no last_error. Their stream must be empty (taken from the
  // original) or the original's: otherwise kInvalidArgument. kNotFound when the chunk
  // is not live. A chunk can be split again, down to 62 levels deep from one committed
  // chunk; past that kInvalidArgument (the shipper dead-letters it).
  Result<std::pair<int64_t, int64_t>> Split(int64_t id, SealedChunk first, SealedChunk second);

  // Replaces a live chunk by one or more parts, in this order, in its place: Split's
  // rules for any number of parts. Used for a partial answer (Elasticsearch _bulk
  // with per-record errors): the records still to send, and those to dead-letter,
  // replace the chunk in one transaction, so the delivered ones are never sent again.
  Result<std::vector<int64_t>> Replace(int64_t id, std::vector<SealedChunk> parts);

  // The number of live chunks (waiting to be sent): cheaper than Stats().
  Result<uint64_t> CountLive();

  // The number of dead chunks.
  Result<uint64_t> CountDead();

  // Deletes chunks (all, or one stream's), live and dead; returns how many.
  Result<uint64_t> Purge(std::optional<std::string> stream);

  // Key/value state (agent id, source status, ...). "schema_version" is the store's
  // own and cannot be set.
  Result<std::optional<std::string>> GetState(std::string_view key);
  Status SetState(std::string_view key, std::string_view value);
  // The state keys that start with `prefix`, in order.
  Result<std::vector<std::string>> StateKeys(std::string_view prefix);

 private:
  // Runs a checkpoints query (the columns of LoadCheckpoints; ?1 = source if not empty).
  Result<std::vector<Checkpoint>> ReadCheckpoints(const std::string& sql, std::string_view source);

  struct Impl;
  explicit BufferStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace outpost

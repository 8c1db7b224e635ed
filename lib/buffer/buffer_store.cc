// BufferStore on top of the SQLite wrapper. Map of this file:
//   helpers        integer and time conversions, transactions, the schema version
//   Impl           the connection, Open's two paths (read-write, read-only), quarantine
//   BufferStore    Commit (the hot path, cached statements), reads, Purge, state,
//                  delivery (DueChunks ... Split: the shipper's side)
#include "buffer/buffer_store.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "buffer/buffer_schema.h"
#include "buffer/sqlite_db.h"
#include "util/text.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;

// SQLite integers are signed 64-bit. uint64 values (file identities, fingerprints)
// are stored as the int64 with the same bits; C++20 defines both conversions as
// modulo 2^64, so every value round-trips.
int64_t ToDb(uint64_t v) { return static_cast<int64_t>(v); }
uint64_t FromDb(int64_t v) { return static_cast<uint64_t>(v); }

int64_t UnixMillis(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string PathText(const fs::path& p) { return Utf8FromPath(p); }

fs::path WithSuffix(const fs::path& p, std::string_view suffix) {
  fs::path out = p;
  out += fs::path(std::u8string(suffix.begin(), suffix.end()));
  return out;
}

// "2026-01-01T00:00:00.000Z" -> "20260101T000000Z": safe in a file name on every OS.
std::string CompactUtc(WallTime t) {
  std::string out;
  for (char c : FormatRfc3339Millis(t)) {
    if (c == '.') break;
    if (c != '-' && c != ':') out.push_back(c);
  }
  out.push_back('Z');
  return out;
}

// Runs `fn` between `begin` and COMMIT; rolls back when anything fails.
template <typename Fn>
Status InTransaction(Db& db, std::string_view begin, Fn&& fn) {
  OUTPOST_RETURN_IF_ERROR(db.Exec(begin));
  Status status = fn();
  if (status.ok()) status = db.Exec("COMMIT");
  if (!status.ok() && db.InTransaction()) (void)db.Exec("ROLLBACK");
  return status;
}

// Steps a bound statement that returns no row, and makes it ready for the next use.
Status RunOnce(Statement& statement) {
  Status status = statement.StepDone();
  statement.Reset();
  return status;
}

Result<int64_t> QueryInt64(Db& db, std::string_view sql) {
  Result<Statement> st = db.Prepare(sql);
  if (!st.ok()) return st.status();
  Result<bool> row = st->Step();
  if (!row.ok()) return row.status();
  return *row ? st->ColumnInt64(0) : 0;
}

Status NewerSchema(const fs::path& file, int version) {
  return InvalidArgument(PathText(file) + " has schema version " + std::to_string(version) +
                         ", newer than the " + std::to_string(BufferStore::kSchemaVersion) +
                         " this outpost understands: it was written by a newer outpost. It was "
                         "left untouched; run that version, or move the file away to start "
                         "an empty buffer");
}

// The file's schema version: 0 for an empty database, state.schema_version otherwise.
Result<int> ReadSchemaVersion(Db& db, const fs::path& file) {
  Result<int64_t> objects = QueryInt64(db, "SELECT count(*) FROM sqlite_master");
  if (!objects.ok()) return objects.status();
  if (*objects == 0) return 0;
  Result<int64_t> has_state =
      QueryInt64(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'state'");
  if (!has_state.ok()) return has_state.status();
  const Status foreign =
      InvalidArgument(PathText(file) +
                      " is an SQLite database but not an outpost buffer (no schema_version in "
                      "its state table); move it away to start an empty buffer");
  if (*has_state == 0) return foreign;
  Result<Statement> st = db.Prepare("SELECT \"value\" FROM state WHERE \"key\" = 'schema_version'");
  if (!st.ok()) return st.status();
  Result<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) return foreign;
  const std::string_view text = st->ColumnTextView(0);
  int version = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || end != text.data() + text.size() || version < 1)
    return InvalidArgument(PathText(file) + " has an invalid schema_version '" + std::string(text) +
                           "'");
  return version;
}

// The id AUTOINCREMENT would give the next chunk (the larger of the sequence and the
// largest id, plus one). Commit sets it explicitly so that the chunk's order key can be
// the same number (seq = id) in the same INSERT.
constexpr std::string_view kNextChunkId =
    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'chunks'), 0), "
    "coalesce((SELECT max(id) FROM chunks), 0)) + 1";
constexpr std::string_view kInsertChunk =
    "INSERT INTO chunks (id, stream, created_at, records, raw_bytes, stored_bytes, codec, format, "
    "seq, sub) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?1, 0)";
constexpr std::string_view kInsertBody = "INSERT INTO chunk_bodies (id, body) VALUES (?1, ?2)";
constexpr std::string_view kUpsertCheckpoint =
    "INSERT INTO checkpoints (source, device, inode, fingerprint, fingerprint_len, path, "
    "\"offset\", cursor, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT (source, device, inode) DO UPDATE SET fingerprint = excluded.fingerprint, "
    "fingerprint_len = excluded.fingerprint_len, path = excluded.path, "
    "\"offset\" = excluded.\"offset\", cursor = excluded.cursor, updated_at = excluded.updated_at";
constexpr std::string_view kDeleteCheckpoint =
    "DELETE FROM checkpoints WHERE source = ?1 AND device = ?2 AND inode = ?3";
constexpr std::string_view kUsage =
    "SELECT (SELECT coalesce(sum(stored_bytes), 0) FROM chunks) + "
    "(SELECT coalesce(sum(stored_bytes), 0) FROM dead_chunks)";
// Column layouts read by ReadChunk: live chunks (joined with their bodies as `c` and
// `b`) and dead chunks, which add reason and dead_at as columns 11 and 12.
constexpr std::string_view kLiveChunkColumns =
    "c.id, c.stream, c.created_at, c.records, c.raw_bytes, c.codec, c.format, c.attempts, "
    "c.next_attempt_at, c.last_error, b.body";
constexpr std::string_view kLiveChunkFrom = " FROM chunks c JOIN chunk_bodies b ON b.id = c.id";
constexpr std::string_view kDeadChunkColumns =
    "id, stream, created_at, records, raw_bytes, codec, format, attempts, next_attempt_at, "
    "last_error, body, reason, dead_at";

void ReadChunk(const Statement& st, bool dead, StoredChunk* c) {
  c->id = st.ColumnInt64(0);
  c->chunk.stream = st.ColumnText(1);
  c->chunk.created_at_ms = st.ColumnInt64(2);
  c->chunk.records = FromDb(st.ColumnInt64(3));
  c->chunk.raw_bytes = FromDb(st.ColumnInt64(4));
  c->chunk.codec = st.ColumnText(5);
  c->chunk.format = st.ColumnText(6);
  c->attempts = st.ColumnInt64(7);
  c->next_attempt_at_ms = st.ColumnInt64(8);
  c->last_error = st.ColumnText(9);
  c->chunk.body = st.ColumnBlob(10);
  c->dead = dead;
  c->dead_reason = dead ? st.ColumnText(11) : std::string();
  c->dead_at_ms = dead ? st.ColumnInt64(12) : 0;
}

// Every live chunk with its gate: the latest next_attempt_at of the chunk and of every
// chunk before it in its stream. A chunk may go when its gate has passed. Reads the
// small chunks rows only, never a body.
constexpr std::string_view kGates =
    "SELECT id, max(next_attempt_at) OVER (PARTITION BY stream ORDER BY seq, sub "
    "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS gate, seq, sub FROM chunks";

// Subs of split halves live in [0, kSubEnd): a committed chunk has sub 0, and each
// split takes the midpoint of the gap to the next sub (or to kSubEnd), so one
// committed chunk can be split 62 levels deep.
constexpr int64_t kSubEnd = int64_t{1} << 62;

// A new file's first chunk id: its creation time in ms * 1000 (+ 1), so that ids of a
// file started after a quarantine are beyond every id of the file before it (which
// would need more than 1000 chunks per ms of its life to catch up).
int64_t FirstIdBase(int64_t now_ms) {
  constexpr int64_t kMaxMs = std::numeric_limits<int64_t>::max() / 2000;
  return std::clamp<int64_t>(now_ms, 0, kMaxMs) * 1000;
}

uint64_t SaturatingSub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

}  // namespace

struct BufferStore::Impl {
  // Commit's statements, compiled on first use and kept: Commit runs hundreds of
  // times a second and must not re-parse SQL each time.
  struct CommitStatements {
    Statement begin, commit, rollback, next_chunk_id, insert_chunk, insert_body, upsert_checkpoint,
        delete_checkpoint;
  };

  Impl(const Options& o, const Clock& c, const Logger& logger)
      : options(o), clock(&c), log(logger, "buffer") {}

  Status OpenWritable();
  Status OpenReadOnly();
  Status ApplyPragmas();
  Status Migrate(int from);
  Status Quarantine(const Status& why);
  Status LoadUsage();
  Status RequireWritable() const;
  Status PrepareCommitStatements();
  // A statement of the shipper's hot path (DueChunks, Acknowledge, ...), compiled on
  // first use and kept: the shipper runs them for every chunk it sends, and compiling
  // them each time was most of its SQLite time. Use through CachedUse, which resets it
  // when done (a statement left mid-way would hold its read snapshot open).
  Result<Statement*> Cached(const std::string& sql);
  void ForgetStatements() {
    commit_statements.reset();
    cached.clear();
  }
  Status WriteBatch(const CommitBatch& batch, int64_t now_ms, int64_t* chunk_id);
  std::string Name() const { return PathText(options.file); }
  void AfterWrite(const Status& status);
  // A write transaction (InTransaction) followed by AfterWrite.
  template <typename Fn>
  Status Write(std::string_view begin, Fn&& fn) {
    Status status = InTransaction(db, begin, std::forward<Fn>(fn));
    AfterWrite(status);
    return status;
  }

  Options options;
  const Clock* clock;
  ComponentLogger log;
  Db db;
  std::optional<CommitStatements> commit_statements;  // declared after db: finalized first
  std::unordered_map<std::string, Statement> cached;  // the same
  std::optional<fs::path> quarantined;
  int schema_version = 0;
  uint64_t used_bytes = 0;
  // PRAGMA data_version when used_bytes was last summed: it changes when another
  // connection commits, so RefreshUsage() can skip the sum when nothing changed.
  std::optional<int64_t> usage_data_version;
  // Set by the first write that failed for a full disk (AfterWrite).
  bool low_on_space = false;
  MonoTime next_space_checkpoint{};
};

// A write that failed for a full disk: the WAL may hold most of the space the file
// system has. Copy it into the database and truncate it (at most once a second; it
// fails while the database itself cannot grow), and from now on checkpoint every
// 1 MiB of WAL rather than every 16 MiB: otherwise, once space returns, the WAL grows
// back into it before its next checkpoint, fills the disk again and, with no room
// left for the checkpoint to grow the database, stays full for good.
void BufferStore::Impl::AfterWrite(const Status& status) {
  if (status.ok() || status.code() != Code::kUnavailable ||
      status.message().find("disk full") == std::string::npos)
    return;
  if (!low_on_space) {
    low_on_space = true;
    (void)db.Exec("PRAGMA wal_autocheckpoint = 256");
    log.Warn("the disk holding " + Name() +
             " is full; the WAL is now checkpointed every 1 MiB to keep it small");
  }
  const MonoTime now = clock->Monotonic();
  if (now < next_space_checkpoint || db.InTransaction()) return;
  next_space_checkpoint = now + std::chrono::seconds(1);
  (void)db.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

Status BufferStore::Impl::OpenWritable() {
  ForgetStatements();
  Result<Db> opened =
      Db::Open(options.file,
               {.read_only = false, .create = true, .busy_timeout_ms = options.busy_timeout_ms});
  if (!opened.ok()) return opened.status();
  db = std::move(*opened);
  // The version is read before anything is written, so a newer file is not touched.
  Result<int> version = ReadSchemaVersion(db, options.file);
  if (!version.ok()) return version.status();
  if (*version > kSchemaVersion) return NewerSchema(options.file, *version);
  OUTPOST_RETURN_IF_ERROR(ApplyPragmas());
  if (*version < kSchemaVersion) OUTPOST_RETURN_IF_ERROR(Migrate(*version));
  schema_version = kSchemaVersion;
  // Indexes for the shipper: delivery order, and "is any chunk waiting for a retry".
  // Not part of the versioned schema: an agent without them reads the file the same.
  OUTPOST_RETURN_IF_ERROR(
      db.Exec("CREATE INDEX IF NOT EXISTS chunks_by_order ON chunks (seq, sub);"
              "CREATE INDEX IF NOT EXISTS chunks_by_retry ON chunks (next_attempt_at)"));
  return LoadUsage();
}

Status BufferStore::Impl::ApplyPragmas() {
  {
    Result<Statement> wal = db.Prepare("PRAGMA journal_mode = WAL");
    if (!wal.ok()) return wal.status();
    Result<bool> row = wal->Step();
    if (!row.ok()) return row.status();
    const std::string mode = *row ? wal->ColumnText(0) : "";
    if (mode != "wal")
      return IoError("cannot put " + Name() + " in WAL mode (journal_mode is '" + mode +
                     "'); the file system may not support shared memory");
  }
  const char* sync = options.durability == Durability::kPower ? "FULL" : "NORMAL";
  OUTPOST_RETURN_IF_ERROR(db.Exec(std::string("PRAGMA synchronous = ") + sync));
  // The build defaults foreign keys on; the schema has none and wants none.
  OUTPOST_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys = OFF"));
  // 2 MiB of page cache: the agent's memory matters more than read speed here.
  OUTPOST_RETURN_IF_ERROR(db.Exec("PRAGMA cache_size = -2048"));
  // After a checkpoint the WAL is truncated back to 8 MiB rather than keeping the
  // size of its largest burst.
  OUTPOST_RETURN_IF_ERROR(db.Exec("PRAGMA journal_size_limit = 8388608"));
  // Checkpoint the WAL into the database every 16 MiB instead of every 4 MiB: each
  // checkpoint costs two fsyncs, a large part of a busy agent's commit time on a real
  // disk (bench/ingest on this VM: 218 -> 230 MB/s).
  OUTPOST_RETURN_IF_ERROR(db.Exec("PRAGMA wal_autocheckpoint = 4096"));
  if (options.max_pages > 0)
    OUTPOST_RETURN_IF_ERROR(
        db.Exec("PRAGMA max_page_count = " + std::to_string(options.max_pages)));
  return Status::Ok();
}

Status BufferStore::Impl::Migrate(int from) {
  // Only possible before the first table exists; lets a later version return free
  // pages to the file system with PRAGMA incremental_vacuum.
  if (from == 0) OUTPOST_RETURN_IF_ERROR(db.Exec("PRAGMA auto_vacuum = INCREMENTAL"));
  int reached = from;
  Status status = InTransaction(db, "BEGIN IMMEDIATE", [&]() -> Status {
    // Another process may have migrated between our first look and the write lock.
    Result<int> now = ReadSchemaVersion(db, options.file);
    if (!now.ok()) return now.status();
    if (*now > kSchemaVersion) return NewerSchema(options.file, *now);
    reached = *now;
    for (const buffer_schema::Migration& step : buffer_schema::kMigrations) {
      if (step.version <= reached) continue;
      Status applied = db.Exec(step.sql);
      if (!applied.ok())
        return applied.WithContext("schema step to version " + std::to_string(step.version));
      reached = step.version;
    }
    // A file whose chunks never had an id yet (a new one, or an old one never used)
    // starts its ids beyond those of any file created before it. A sequence row of 0
    // (left by copying no rows in step 2) means the same as none.
    OUTPOST_RETURN_IF_ERROR(
        db.Exec("DELETE FROM sqlite_sequence WHERE name = 'chunks' AND seq = 0"));
    Result<Statement> seed = db.Prepare(
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'chunks', ?1 "
        "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'chunks') "
        "AND NOT EXISTS (SELECT 1 FROM chunks)");
    if (!seed.ok()) return seed.status();
    OUTPOST_RETURN_IF_ERROR(seed->BindInt64(1, FirstIdBase(UnixMillis(clock->Now()))));
    OUTPOST_RETURN_IF_ERROR(seed->StepDone());
    Result<Statement> set = db.Prepare(
        "INSERT INTO state (\"key\", \"value\") VALUES ('schema_version', ?1) "
        "ON CONFLICT (\"key\") DO UPDATE SET \"value\" = excluded.\"value\"");
    if (!set.ok()) return set.status();
    OUTPOST_RETURN_IF_ERROR(set->BindText(1, std::to_string(reached)));
    return set->StepDone();
  });
  if (!status.ok()) return status;
  if (from == 0)
    log.Info("created " + Name() + " (schema version " + std::to_string(reached) + ")");
  else
    log.Info("migrated " + Name() + " from schema version " + std::to_string(from) + " to " +
             std::to_string(reached));
  return Status::Ok();
}

Status BufferStore::Impl::Quarantine(const Status& why) {
  ForgetStatements();
  // A normal close would checkpoint the WAL into the file, or delete a WAL it cannot
  // make sense of: the evidence goes aside as it was found.
  db.CloseWithoutCheckpoint();
  const std::string stamp = ".corrupt-" + CompactUtc(clock->Now());
  // Two quarantines within one second get "-2", "-3", ... rather than overwriting.
  fs::path target;
  for (int n = 1;; ++n) {
    target = WithSuffix(options.file, n == 1 ? stamp : stamp + "-" + std::to_string(n));
    std::error_code ec;
    if (!fs::exists(target, ec) && !fs::exists(WithSuffix(target, "-wal"), ec)) break;
    if (n == 100) return IoError("cannot find a free name to move corrupt " + Name() + " to");
  }
  // The -wal and -shm files go along under the same name: left behind, a stale WAL
  // would be replayed into the fresh database.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const fs::path from = WithSuffix(options.file, suffix);
    const fs::path to = WithSuffix(target, suffix);
    std::error_code ec;
    if (*suffix != '\0' && !fs::exists(from, ec)) continue;
    fs::rename(from, to, ec);
    if (ec)
      return IoError(Name() + " is corrupt (" + why.message() + ") and cannot be moved to " +
                     PathText(to) + ": " + ec.message() + "; move it away by hand");
  }
  quarantined = target;
  log.Warn(Name() + " is corrupt (" + why.message() + "); moved it to " + PathText(target) +
           " and started an empty buffer");
  return Status::Ok();
}

Status BufferStore::Impl::OpenReadOnly() {
  ForgetStatements();
  std::error_code ec;
  const bool exists = fs::exists(options.file, ec);
  if (ec) return IoError("cannot look at " + Name() + ": " + ec.message());
  if (!exists)
    return NotFound("no buffer at " + Name() + ": the agent has not run with this state dir yet");
  Result<Db> opened =
      Db::Open(options.file,
               {.read_only = true, .create = false, .busy_timeout_ms = options.busy_timeout_ms});
  if (!opened.ok()) return opened.status();
  db = std::move(*opened);
  Result<int> version = ReadSchemaVersion(db, options.file);
  if (!version.ok()) return version.status();
  if (*version == 0)
    return NotFound("no buffer at " + Name() +
                    ": the file is empty (the agent may be creating it)");
  if (*version > kSchemaVersion) return NewerSchema(options.file, *version);
  if (*version < kSchemaVersion)
    return InvalidArgument(Name() + " has schema version " + std::to_string(*version) +
                           "; this outpost reads version " + std::to_string(kSchemaVersion) +
                           ": run the agent once to migrate it");
  schema_version = *version;
  OUTPOST_RETURN_IF_ERROR(db.Exec("PRAGMA cache_size = -2048"));
  return LoadUsage();
}

Status BufferStore::Impl::LoadUsage() {
  // The version first: a commit between the two reads is then seen again next time.
  Result<int64_t> version = QueryInt64(db, "PRAGMA data_version");
  if (!version.ok()) return version.status();
  Result<int64_t> usage = QueryInt64(db, kUsage);
  if (!usage.ok()) return usage.status();
  used_bytes = FromDb(*usage);
  usage_data_version = *version;
  return Status::Ok();
}

Status BufferStore::Impl::RequireWritable() const {
  if (options.read_only) return PermissionDenied(Name() + " is open read-only");
  return Status::Ok();
}

Status BufferStore::Impl::PrepareCommitStatements() {
  if (commit_statements) return Status::Ok();
  CommitStatements s;
  const std::pair<Statement*, std::string_view> all[] = {
      {&s.begin, "BEGIN IMMEDIATE"},
      {&s.commit, "COMMIT"},
      {&s.rollback, "ROLLBACK"},
      {&s.next_chunk_id, kNextChunkId},
      {&s.insert_chunk, kInsertChunk},
      {&s.insert_body, kInsertBody},
      {&s.upsert_checkpoint, kUpsertCheckpoint},
      {&s.delete_checkpoint, kDeleteCheckpoint},
  };
  for (const auto& [statement, sql] : all) {
    Result<Statement> prepared = db.Prepare(sql, /*persistent=*/true);
    if (!prepared.ok()) return prepared.status();
    *statement = std::move(*prepared);
  }
  commit_statements = std::move(s);
  return Status::Ok();
}

Result<Statement*> BufferStore::Impl::Cached(const std::string& sql) {
  auto it = cached.find(sql);
  if (it != cached.end()) return &it->second;
  Result<Statement> prepared = db.Prepare(sql, /*persistent=*/true);
  if (!prepared.ok()) return prepared.status();
  return &cached.emplace(sql, std::move(*prepared)).first->second;
}

namespace {

// A cached statement for one use: reset (bindings cleared, read snapshot let go) when
// the scope ends, however it ends.
class CachedUse {
 public:
  explicit CachedUse(Statement* st) : st_(st) {}
  ~CachedUse() { st_->Reset(); }
  CachedUse(const CachedUse&) = delete;
  CachedUse& operator=(const CachedUse&) = delete;
  Statement* operator->() const { return st_; }
  Statement& operator*() const { return *st_; }

 private:
  Statement* st_;
};

}  // namespace

Status BufferStore::Impl::WriteBatch(const CommitBatch& batch, int64_t now_ms, int64_t* chunk_id) {
  CommitStatements& s = *commit_statements;
  if (batch.chunk) {
    const SealedChunk& c = *batch.chunk;
    Result<bool> row = s.next_chunk_id.Step();
    const int64_t id = row.ok() && *row ? s.next_chunk_id.ColumnInt64(0) : 0;
    s.next_chunk_id.Reset();
    if (!row.ok()) return row.status();
    if (id <= 0) return Internal("no next chunk id");
    Statement& st = s.insert_chunk;
    OUTPOST_RETURN_IF_ERROR(st.BindInt64(1, id));
    OUTPOST_RETURN_IF_ERROR(st.BindText(2, c.stream));
    OUTPOST_RETURN_IF_ERROR(st.BindInt64(3, c.created_at_ms));
    OUTPOST_RETURN_IF_ERROR(st.BindInt64(4, ToDb(c.records)));
    OUTPOST_RETURN_IF_ERROR(st.BindInt64(5, ToDb(c.raw_bytes)));
    OUTPOST_RETURN_IF_ERROR(st.BindInt64(6, ToDb(c.body.size())));
    OUTPOST_RETURN_IF_ERROR(st.BindText(7, c.codec));
    OUTPOST_RETURN_IF_ERROR(st.BindText(8, c.format));
    OUTPOST_RETURN_IF_ERROR(RunOnce(st));
    Statement& body = s.insert_body;
    OUTPOST_RETURN_IF_ERROR(body.BindInt64(1, id));
    OUTPOST_RETURN_IF_ERROR(body.BindBlob(2, c.body));
    OUTPOST_RETURN_IF_ERROR(RunOnce(body));
    *chunk_id = id;
  }
  for (const Checkpoint& cp : batch.upserts) {
    Statement& st = s.upsert_checkpoint;
    OUTPOST_RETURN_IF_ERROR(st.BindText(1, cp.source));
    OUTPOST_RETURN_IF_ERROR(st.BindInt64(2, ToDb(cp.device)));
    OUTPOST_RETURN_IF_ERROR(st.BindInt64(3, ToDb(cp.inode)));
    OUTPOST_RETURN_IF_ERROR(st.BindInt64(4, ToDb(cp.fingerprint)));
    OUTPOST_RETURN_IF_ERROR(st.BindInt64(5, ToDb(cp.fingerprint_len)));
    OUTPOST_RETURN_IF_ERROR(st.BindText(6, cp.path));
    OUTPOST_RETURN_IF_ERROR(st.BindInt64(7, ToDb(cp.offset)));
    OUTPOST_RETURN_IF_ERROR(st.BindText(8, cp.cursor));
    OUTPOST_RETURN_IF_ERROR(st.BindInt64(9, now_ms));
    OUTPOST_RETURN_IF_ERROR(RunOnce(st));
  }
  for (const CheckpointId& id : batch.deletes) {
    Statement& st = s.delete_checkpoint;
    OUTPOST_RETURN_IF_ERROR(st.BindText(1, id.source));
    OUTPOST_RETURN_IF_ERROR(st.BindInt64(2, ToDb(id.device)));
    OUTPOST_RETURN_IF_ERROR(st.BindInt64(3, ToDb(id.inode)));
    OUTPOST_RETURN_IF_ERROR(RunOnce(st));
  }
  for (const auto& [key, value] : batch.state) {
    if (key == "schema_version")
      return InvalidArgument("state 'schema_version' belongs to the buffer and cannot be set");
    Result<Statement> st =
        db.Prepare(value ? "INSERT INTO state (\"key\", \"value\") VALUES (?1, ?2) "
                           "ON CONFLICT (\"key\") DO UPDATE SET \"value\" = excluded.\"value\""
                         : "DELETE FROM state WHERE \"key\" = ?1");
    if (!st.ok()) return st.status();
    OUTPOST_RETURN_IF_ERROR(st->BindText(1, key));
    if (value) OUTPOST_RETURN_IF_ERROR(st->BindText(2, *value));
    Status status = st->StepDone();
    if (!status.ok()) return status.WithContext("writing state '" + key + "'");
  }
  return Status::Ok();
}

// ---- BufferStore ----

BufferStore::BufferStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BufferStore::~BufferStore() = default;

Result<std::unique_ptr<BufferStore>> BufferStore::Open(const Options& options, const Clock& clock,
                                                       const Logger& logger) {
  auto impl = std::make_unique<Impl>(options, clock, logger);
  const std::string context = "opening buffer " + impl->Name();
  if (options.read_only) {
    Status status = impl->OpenReadOnly();
    if (!status.ok())
      return status.code() == Code::kNotFound ? status : status.WithContext(context);
  } else {
    Status status = impl->OpenWritable();
    if (status.code() == Code::kCorrupt) {
      OUTPOST_RETURN_IF_ERROR(impl->Quarantine(status));
      status = impl->OpenWritable();
      if (!status.ok()) return status.WithContext("starting an empty buffer " + impl->Name());
    } else if (!status.ok()) {
      return status.WithContext(context);
    }
  }
  return std::unique_ptr<BufferStore>(new BufferStore(std::move(impl)));
}

const std::optional<std::filesystem::path>& BufferStore::quarantined() const {
  return impl_->quarantined;
}

Result<int64_t> BufferStore::Commit(const CommitBatch& batch) {
  Impl& m = *impl_;
  OUTPOST_RETURN_IF_ERROR(m.RequireWritable());
  OUTPOST_RETURN_IF_ERROR(m.PrepareCommitStatements());
  Impl::CommitStatements& s = *m.commit_statements;
  int64_t chunk_id = 0;
  Status status = RunOnce(s.begin);
  if (status.ok()) status = m.WriteBatch(batch, UnixMillis(m.clock->Now()), &chunk_id);
  if (status.ok()) status = RunOnce(s.commit);
  if (!status.ok()) {
    // SQLite may already have rolled back by itself (a full disk, an I/O error).
    if (m.db.InTransaction()) (void)RunOnce(s.rollback);
    m.AfterWrite(status);
    return status.WithContext("committing to " + m.Name());
  }
  if (batch.chunk) m.used_bytes += batch.chunk->body.size();
  return chunk_id;
}

const std::filesystem::path& BufferStore::file() const { return impl_->options.file; }

Result<std::vector<Checkpoint>> BufferStore::LoadCheckpoints(std::string_view source) {
  std::string sql =
      "SELECT source, device, inode, fingerprint, fingerprint_len, path, \"offset\", cursor, "
      "updated_at FROM checkpoints";
  if (!source.empty()) sql += " WHERE source = ?1";
  sql += " ORDER BY source, device, inode";
  return ReadCheckpoints(sql, source);
}

Result<std::vector<Checkpoint>> BufferStore::DeliveredCheckpoints() {
  return ReadCheckpoints(
      "SELECT source, device, inode, fingerprint, fingerprint_len, path, \"offset\", cursor, "
      "updated_at FROM checkpoints WHERE cursor = '' AND source NOT IN "
      "(SELECT stream FROM chunks) ORDER BY source, device, inode",
      {});
}

Result<std::vector<Checkpoint>> BufferStore::ReadCheckpoints(const std::string& sql,
                                                             std::string_view source) {
  Result<Statement> st = impl_->db.Prepare(sql);
  if (!st.ok()) return st.status().WithContext("reading checkpoints");
  if (!source.empty()) OUTPOST_RETURN_IF_ERROR(st->BindText(1, source));
  std::vector<Checkpoint> out;
  for (;;) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.status().WithContext("reading checkpoints");
    if (!*row) break;
    Checkpoint& cp = out.emplace_back();
    cp.source = st->ColumnText(0);
    cp.device = FromDb(st->ColumnInt64(1));
    cp.inode = FromDb(st->ColumnInt64(2));
    cp.fingerprint = FromDb(st->ColumnInt64(3));
    cp.fingerprint_len = FromDb(st->ColumnInt64(4));
    cp.path = st->ColumnText(5);
    cp.offset = FromDb(st->ColumnInt64(6));
    cp.cursor = st->ColumnText(7);
    cp.updated_at_ms = st->ColumnInt64(8);
  }
  return out;
}

uint64_t BufferStore::used_bytes() const { return impl_->used_bytes; }
uint64_t BufferStore::max_bytes() const { return impl_->options.max_bytes; }

void BufferStore::ReleaseMemory() { impl_->db.ReleaseMemory(); }

Status BufferStore::RefreshUsage() {
  Result<int64_t> version = QueryInt64(impl_->db, "PRAGMA data_version");
  if (!version.ok()) return version.status().WithContext("reading the usage of " + impl_->Name());
  if (impl_->usage_data_version == *version) return Status::Ok();
  Status status = impl_->LoadUsage();
  return status.ok() ? status : status.WithContext("reading the usage of " + impl_->Name());
}

Result<BufferStats> BufferStore::Stats() {
  Impl& m = *impl_;
  BufferStats stats;
  stats.file = m.options.file;
  stats.max_bytes = m.options.max_bytes;
  stats.schema_version = m.schema_version;
  Status status = InTransaction(m.db, "BEGIN", [&]() -> Status {
    Result<Statement> live = m.db.Prepare(
        "SELECT count(*), coalesce(sum(records), 0), coalesce(sum(stored_bytes), 0), "
        "coalesce(min(created_at), 0) FROM chunks");
    if (!live.ok()) return live.status();
    OUTPOST_RETURN_IF_ERROR(live->Step().status());
    stats.chunks = FromDb(live->ColumnInt64(0));
    stats.records = FromDb(live->ColumnInt64(1));
    stats.stored_bytes = FromDb(live->ColumnInt64(2));
    stats.oldest_created_at_ms = live->ColumnInt64(3);
    Result<Statement> dead =
        m.db.Prepare("SELECT count(*), coalesce(sum(stored_bytes), 0) FROM dead_chunks");
    if (!dead.ok()) return dead.status();
    OUTPOST_RETURN_IF_ERROR(dead->Step().status());
    stats.dead_chunks = FromDb(dead->ColumnInt64(0));
    stats.stored_bytes += FromDb(dead->ColumnInt64(1));
    Result<Statement> streams = m.db.Prepare(
        "SELECT stream, count(*), sum(records), sum(raw_bytes), sum(stored_bytes), "
        "min(created_at) FROM chunks GROUP BY stream ORDER BY stream");
    if (!streams.ok()) return streams.status();
    for (;;) {
      Result<bool> row = streams->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      StreamStats& s = stats.streams.emplace_back();
      s.stream = streams->ColumnText(0);
      s.chunks = FromDb(streams->ColumnInt64(1));
      s.records = FromDb(streams->ColumnInt64(2));
      s.raw_bytes = FromDb(streams->ColumnInt64(3));
      s.stored_bytes = FromDb(streams->ColumnInt64(4));
      s.oldest_created_at_ms = streams->ColumnInt64(5);
    }
    return Status::Ok();
  });
  if (!status.ok()) return status.WithContext("reading the statistics of " + m.Name());
  m.used_bytes = stats.stored_bytes;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code ec;
    const uintmax_t size = fs::file_size(WithSuffix(m.options.file, suffix), ec);
    if (!ec) stats.file_bytes += size;
  }
  return stats;
}

Status BufferStore::ForEachChunk(const ChunkFilter& filter,
                                 const std::function<bool(const StoredChunk&)>& fn) {
  Impl& m = *impl_;
  auto where = [&](std::string_view prefix) {
    std::string out;
    if (filter.stream) out += " WHERE " + std::string(prefix) + "stream = ?1";
    if (filter.since_ms)
      out +=
          std::string(out.empty() ? " WHERE " : " AND ") + std::string(prefix) + "created_at >= ?2";
    return out;
  };
  const std::string queries[] = {
      "SELECT " + std::string(kLiveChunkColumns) + std::string(kLiveChunkFrom) + where("c.") +
          " ORDER BY c.seq, c.sub",
      "SELECT " + std::string(kDeadChunkColumns) + " FROM dead_chunks" + where("") + " ORDER BY id",
  };
  bool stopped = false;
  Status status = InTransaction(m.db, "BEGIN", [&]() -> Status {
    for (int table = 0; table < (filter.include_dead ? 2 : 1) && !stopped; ++table) {
      Result<Statement> st = m.db.Prepare(queries[table]);
      if (!st.ok()) return st.status();
      if (filter.stream) OUTPOST_RETURN_IF_ERROR(st->BindText(1, *filter.stream));
      if (filter.since_ms) OUTPOST_RETURN_IF_ERROR(st->BindInt64(2, *filter.since_ms));
      StoredChunk c;
      while (!stopped) {
        Result<bool> row = st->Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        ReadChunk(*st, table == 1, &c);
        stopped = !fn(c);
      }
    }
    return Status::Ok();
  });
  return status.ok() ? status : status.WithContext("reading chunks from " + m.Name());
}

Result<uint64_t> BufferStore::Purge(std::optional<std::string> stream) {
  Impl& m = *impl_;
  OUTPOST_RETURN_IF_ERROR(m.RequireWritable());
  uint64_t deleted = 0;
  Status status = m.Write("BEGIN IMMEDIATE", [&]() -> Status {
    // The bodies first: which ones to delete is read from chunks.
    const std::string statements[] = {
        stream ? "DELETE FROM chunk_bodies WHERE id IN (SELECT id FROM chunks WHERE stream = ?1)"
               : "DELETE FROM chunk_bodies",
        std::string("DELETE FROM chunks") + (stream ? " WHERE stream = ?1" : ""),
        std::string("DELETE FROM dead_chunks") + (stream ? " WHERE stream = ?1" : ""),
    };
    for (size_t i = 0; i < std::size(statements); ++i) {
      Result<Statement> st = m.db.Prepare(statements[i]);
      if (!st.ok()) return st.status();
      if (stream) OUTPOST_RETURN_IF_ERROR(st->BindText(1, *stream));
      OUTPOST_RETURN_IF_ERROR(st->StepDone());
      if (i > 0) deleted += FromDb(m.db.Changes());
    }
    return Status::Ok();
  });
  if (!status.ok()) return status.WithContext("purging " + m.Name());
  status = m.LoadUsage();
  if (!status.ok()) return status.WithContext("reading the usage of " + m.Name());
  return deleted;
}

Result<std::optional<std::string>> BufferStore::GetState(std::string_view key) {
  Result<Statement> st = impl_->db.Prepare("SELECT \"value\" FROM state WHERE \"key\" = ?1");
  if (!st.ok()) return st.status();
  OUTPOST_RETURN_IF_ERROR(st->BindText(1, key));
  Result<bool> row = st->Step();
  if (!row.ok()) return row.status().WithContext("reading state '" + std::string(key) + "'");
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(st->ColumnText(0));
}

Result<std::vector<std::string>> BufferStore::StateKeys(std::string_view prefix) {
  // substr() rather than LIKE: '_' and '%' in a prefix are literal.
  Result<Statement> st = impl_->db.Prepare(
      "SELECT \"key\" FROM state WHERE substr(\"key\", 1, length(?1)) = ?1 ORDER BY \"key\"");
  if (!st.ok()) return st.status();
  OUTPOST_RETURN_IF_ERROR(st->BindText(1, prefix));
  std::vector<std::string> keys;
  for (;;) {
    Result<bool> row = st->Step();
    if (!row.ok()) return row.status().WithContext("listing state keys");
    if (!*row) break;
    keys.push_back(st->ColumnText(0));
  }
  return keys;
}

Status BufferStore::SetState(std::string_view key, std::string_view value) {
  OUTPOST_RETURN_IF_ERROR(impl_->RequireWritable());
  if (key == "schema_version")
    return InvalidArgument("state 'schema_version' belongs to the buffer and cannot be set");
  Result<Statement> st = impl_->db.Prepare(
      "INSERT INTO state (\"key\", \"value\") VALUES (?1, ?2) "
      "ON CONFLICT (\"key\") DO UPDATE SET \"value\" = excluded.\"value\"");
  if (!st.ok()) return st.status();
  OUTPOST_RETURN_IF_ERROR(st->BindText(1, key));
  OUTPOST_RETURN_IF_ERROR(st->BindText(2, value));
  Status status = st->StepDone();
  impl_->AfterWrite(status);
  return status.ok() ? status : status.WithContext("writing state '" + std::string(key) + "'");
}

// ---- Delivery ----

Result<std::vector<StoredChunk>> BufferStore::DueChunks(int64_t now_ms, size_t limit,
                                                        const std::vector<int64_t>& exclude_ids) {
  Impl& m = *impl_;
  std::vector<StoredChunk> out;
  if (limit == 0) return out;
  const std::unordered_set<int64_t> excluded(exclude_ids.begin(), exclude_ids.end());
  Status status = InTransaction(m.db, "BEGIN", [&]() -> Status {
    // First the ids (small rows, no body), then each chosen chunk with its body, all
    // from one snapshot.
    // When no chunk waits for a later retry (the usual case) every chunk is due and
    // the first ones in delivery order are the answer: an index walk instead of
    // computing every stream's gate over the whole table.
    bool any_waiting = false;
    {
      Result<Statement*> st =
          m.Cached("SELECT EXISTS (SELECT 1 FROM chunks WHERE next_attempt_at > ?1)");
      if (!st.ok()) return st.status();
      CachedUse waiting(*st);
      OUTPOST_RETURN_IF_ERROR(waiting->BindInt64(1, now_ms));
      Result<bool> w = waiting->Step();
      if (!w.ok()) return w.status();
      any_waiting = *w && waiting->ColumnInt64(0) != 0;
    }
    Result<Statement*> due_st = m.Cached(
        any_waiting
            ? "SELECT id FROM (" + std::string(kGates) + ") WHERE gate <= ?1 ORDER BY seq, sub"
            : std::string("SELECT id FROM chunks WHERE ?1 IS NOT NULL ORDER BY seq, sub"));
    if (!due_st.ok()) return due_st.status();
    CachedUse due(*due_st);
    OUTPOST_RETURN_IF_ERROR(due->BindInt64(1, now_ms));
    std::vector<int64_t> ids;
    while (ids.size() < limit) {
      Result<bool> row = due->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      const int64_t id = due->ColumnInt64(0);
      if (!excluded.contains(id)) ids.push_back(id);
    }
    Result<Statement*> one_st = m.Cached("SELECT " + std::string(kLiveChunkColumns) +
                                         std::string(kLiveChunkFrom) + " WHERE c.id = ?1");
    if (!one_st.ok()) return one_st.status();
    CachedUse one(*one_st);
    for (int64_t id : ids) {
      OUTPOST_RETURN_IF_ERROR(one->BindInt64(1, id));
      Result<bool> row = one->Step();
      if (!row.ok()) return row.status();
      if (!*row) return Internal("chunk " + std::to_string(id) + " has no body");
      ReadChunk(*one, false, &out.emplace_back());
      one->Reset();
    }
    return Status::Ok();
  });
  if (!status.ok()) return status.WithContext("reading due chunks from " + m.Name());
  return out;
}

Result<std::optional<int64_t>> BufferStore::NextAttemptAt(const std::vector<int64_t>& exclude_ids) {
  Impl& m = *impl_;
  const std::unordered_set<int64_t> excluded(exclude_ids.begin(), exclude_ids.end());
  std::optional<int64_t> earliest;
  Status status = [&]() -> Status {
    // A stream's gates never decrease along it, so the smallest gate of the chunks not
    // excluded is that of its first such chunk.
    Result<Statement> st = m.db.Prepare("SELECT id, gate FROM (" + std::string(kGates) + ")");
    if (!st.ok()) return st.status();
    for (;;) {
      Result<bool> row = st->Step();
      if (!row.ok()) return row.status();
      if (!*row) return Status::Ok();
      if (excluded.contains(st->ColumnInt64(0))) continue;
      const int64_t gate = st->ColumnInt64(1);
      if (!earliest || gate < *earliest) earliest = gate;
    }
  }();
  if (!status.ok()) return status.WithContext("reading the next attempt time from " + m.Name());
  return earliest;
}

Status BufferStore::Acknowledge(int64_t id) {
  Impl& m = *impl_;
  OUTPOST_RETURN_IF_ERROR(m.RequireWritable());
  uint64_t freed = 0;
  Status status = m.Write("BEGIN IMMEDIATE", [&]() -> Status {
    {
      Result<Statement*> st = m.Cached("SELECT stored_bytes FROM chunks WHERE id = ?1");
      if (!st.ok()) return st.status();
      CachedUse size(*st);
      OUTPOST_RETURN_IF_ERROR(size->BindInt64(1, id));
      Result<bool> row = size->Step();
      if (!row.ok()) return row.status();
      if (!*row) return Status::Ok();  // already acknowledged or purged
      freed = FromDb(size->ColumnInt64(0));
    }
    for (const char* sql :
         {"DELETE FROM chunk_bodies WHERE id = ?1", "DELETE FROM chunks WHERE id = ?1"}) {
      Result<Statement*> st = m.Cached(sql);
      if (!st.ok()) return st.status();
      CachedUse del(*st);
      OUTPOST_RETURN_IF_ERROR(del->BindInt64(1, id));
      OUTPOST_RETURN_IF_ERROR(del->StepDone());
    }
    return Status::Ok();
  });
  if (!status.ok())
    return status.WithContext("acknowledging chunk " + std::to_string(id) + " in " + m.Name());
  m.used_bytes = SaturatingSub(m.used_bytes, freed);
  return Status::Ok();
}

Status BufferStore::ScheduleRetry(int64_t id, int64_t next_attempt_at_ms,
                                  std::string_view last_error) {
  Impl& m = *impl_;
  OUTPOST_RETURN_IF_ERROR(m.RequireWritable());
  Status status = m.Write("BEGIN IMMEDIATE", [&]() -> Status {
    Result<Statement> st = m.db.Prepare(
        "UPDATE chunks SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 "
        "WHERE id = ?1");
    if (!st.ok()) return st.status();
    OUTPOST_RETURN_IF_ERROR(st->BindInt64(1, id));
    OUTPOST_RETURN_IF_ERROR(st->BindInt64(2, next_attempt_at_ms));
    OUTPOST_RETURN_IF_ERROR(st->BindText(3, last_error));
    OUTPOST_RETURN_IF_ERROR(st->StepDone());
    if (m.db.Changes() == 0) return NotFound("no live chunk " + std::to_string(id));
    return Status::Ok();
  });
  return status.ok() ? status
                     : status.WithContext("scheduling a retry of chunk " + std::to_string(id) +
                                          " in " + m.Name());
}

Status BufferStore::RescheduleAfterClockJump(int64_t now_ms, int64_t back_ms, int64_t latest_ms) {
  Impl& m = *impl_;
  OUTPOST_RETURN_IF_ERROR(m.RequireWritable());
  Status status = InTransaction(m.db, "BEGIN IMMEDIATE", [&]() -> Status {
    Result<Statement> st = m.db.Prepare(
        "UPDATE chunks SET next_attempt_at = min(max(?1, next_attempt_at - ?2), ?3) "
        "WHERE next_attempt_at > ?1 AND next_attempt_at <> min(max(?1, next_attempt_at - ?2), ?3)");
    if (!st.ok()) return st.status();
    OUTPOST_RETURN_IF_ERROR(st->BindInt64(1, now_ms));
    OUTPOST_RETURN_IF_ERROR(st->BindInt64(2, std::max<int64_t>(back_ms, 0)));
    OUTPOST_RETURN_IF_ERROR(st->BindInt64(3, std::max(latest_ms, now_ms)));
    return st->StepDone();
  });
  return status.ok() ? status : status.WithContext("rescheduling retries in " + m.Name());
}

Status BufferStore::DeferAll(int64_t next_attempt_at_ms, std::string_view last_error) {
  Impl& m = *impl_;
  OUTPOST_RETURN_IF_ERROR(m.RequireWritable());
  Status status = m.Write("BEGIN IMMEDIATE", [&]() -> Status {
    Result<Statement> st = m.db.Prepare("UPDATE chunks SET next_attempt_at = ?1, last_error = ?2");
    if (!st.ok()) return st.status();
    OUTPOST_RETURN_IF_ERROR(st->BindInt64(1, next_attempt_at_ms));
    OUTPOST_RETURN_IF_ERROR(st->BindText(2, last_error));
    return st->StepDone();
  });
  return status.ok() ? status : status.WithContext("deferring every chunk in " + m.Name());
}

Status BufferStore::MoveToDead(int64_t id, std::string_view reason) {
  Impl& m = *impl_;
  OUTPOST_RETURN_IF_ERROR(m.RequireWritable());
  const int64_t now_ms = UnixMillis(m.clock->Now());
  Status status = m.Write("BEGIN IMMEDIATE", [&]() -> Status {
    Result<Statement> copy = m.db.Prepare(
        "INSERT INTO dead_chunks (id, stream, created_at, records, raw_bytes, stored_bytes, "
        "codec, format, attempts, next_attempt_at, last_error, reason, dead_at, body) "
        "SELECT c.id, c.stream, c.created_at, c.records, c.raw_bytes, c.stored_bytes, c.codec, "
        "c.format, c.attempts, c.next_attempt_at, c.last_error, ?2, ?3, b.body" +
        std::string(kLiveChunkFrom) + " WHERE c.id = ?1");
    if (!copy.ok()) return copy.status();
    OUTPOST_RETURN_IF_ERROR(copy->BindInt64(1, id));
    OUTPOST_RETURN_IF_ERROR(copy->BindText(2, reason));
    OUTPOST_RETURN_IF_ERROR(copy->BindInt64(3, now_ms));
    OUTPOST_RETURN_IF_ERROR(copy->StepDone());
    if (m.db.Changes() == 0) {
      Result<Statement> dead = m.db.Prepare("SELECT 1 FROM dead_chunks WHERE id = ?1");
      if (!dead.ok()) return dead.status();
      OUTPOST_RETURN_IF_ERROR(dead->BindInt64(1, id));
      Result<bool> row = dead->Step();
      if (!row.ok()) return row.status();
      return *row ? Status::Ok() : NotFound("no chunk " + std::to_string(id));
    }
    for (const char* sql :
         {"DELETE FROM chunk_bodies WHERE id = ?1", "DELETE FROM chunks WHERE id = ?1"}) {
      Result<Statement> del = m.db.Prepare(sql);
      if (!del.ok()) return del.status();
      OUTPOST_RETURN_IF_ERROR(del->BindInt64(1, id));
      OUTPOST_RETURN_IF_ERROR(del->StepDone());
    }
    return Status::Ok();
  });
  return status.ok() ? status
                     : status.WithContext("moving chunk " + std::to_string(id) +
                                          " to dead_chunks in " + m.Name());
}

Result<std::pair<int64_t, int64_t>> BufferStore::Split(int64_t id, SealedChunk first,
                                                       SealedChunk second) {
  std::vector<SealedChunk> parts;
  parts.push_back(std::move(first));
  parts.push_back(std::move(second));
  Result<std::vector<int64_t>> ids = Replace(id, std::move(parts));
  if (!ids.ok()) return ids.status();
  return std::make_pair((*ids)[0], (*ids)[1]);
}

Result<std::vector<int64_t>> BufferStore::Replace(int64_t id, std::vector<SealedChunk> parts) {
  Impl& m = *impl_;
  OUTPOST_RETURN_IF_ERROR(m.RequireWritable());
  if (parts.empty())
    return InvalidArgument("replacing chunk " + std::to_string(id) + " by nothing");
  std::vector<int64_t> ids;
  uint64_t old_bytes = 0;
  Status status = m.Write("BEGIN IMMEDIATE", [&]() -> Status {
    ids.clear();
    Result<Statement> orig =
        m.db.Prepare("SELECT stream, seq, sub, stored_bytes FROM chunks WHERE id = ?1");
    if (!orig.ok()) return orig.status();
    OUTPOST_RETURN_IF_ERROR(orig->BindInt64(1, id));
    Result<bool> row = orig->Step();
    if (!row.ok()) return row.status();
    if (!*row) return NotFound("no live chunk " + std::to_string(id));
    const std::string stream = orig->ColumnText(0);
    const int64_t seq = orig->ColumnInt64(1);
    const int64_t sub = orig->ColumnInt64(2);
    old_bytes = FromDb(orig->ColumnInt64(3));
    for (SealedChunk& part : parts) {
      if (part.stream.empty()) part.stream = stream;
      if (part.stream != stream)
        return InvalidArgument("a part of chunk " + std::to_string(id) + " is for stream '" +
                               part.stream + "', not the chunk's '" + stream + "'");
    }
    // The parts take (seq, sub) and evenly spaced subs up to the next sub of this seq
    // (a part of an earlier split), or kSubEnd.
    Result<Statement> next =
        m.db.Prepare("SELECT min(sub) FROM chunks WHERE seq = ?1 AND sub > ?2");
    if (!next.ok()) return next.status();
    OUTPOST_RETURN_IF_ERROR(next->BindInt64(1, seq));
    OUTPOST_RETURN_IF_ERROR(next->BindInt64(2, sub));
    row = next->Step();
    if (!row.ok()) return row.status();
    const int64_t end = next->ColumnIsNull(0) ? kSubEnd : next->ColumnInt64(0);
    const int64_t step = (end - sub) / static_cast<int64_t>(parts.size());
    if (parts.size() > 1 && step == 0)
      return InvalidArgument("chunk " + std::to_string(id) +
                             " was split too many times to be split again");
    for (const char* sql :
         {"DELETE FROM chunk_bodies WHERE id = ?1", "DELETE FROM chunks WHERE id = ?1"}) {
      Result<Statement> del = m.db.Prepare(sql);
      if (!del.ok()) return del.status();
      OUTPOST_RETURN_IF_ERROR(del->BindInt64(1, id));
      OUTPOST_RETURN_IF_ERROR(del->StepDone());
    }
    Result<Statement> insert = m.db.Prepare(
        "INSERT INTO chunks (stream, created_at, records, raw_bytes, stored_bytes, codec, format, "
        "seq, sub) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    if (!insert.ok()) return insert.status();
    Result<Statement> body = m.db.Prepare(kInsertBody);
    if (!body.ok()) return body.status();
    for (size_t i = 0; i < parts.size(); ++i) {
      const SealedChunk& part = parts[i];
      OUTPOST_RETURN_IF_ERROR(insert->BindText(1, part.stream));
      OUTPOST_RETURN_IF_ERROR(insert->BindInt64(2, part.created_at_ms));
      OUTPOST_RETURN_IF_ERROR(insert->BindInt64(3, ToDb(part.records)));
      OUTPOST_RETURN_IF_ERROR(insert->BindInt64(4, ToDb(part.raw_bytes)));
      OUTPOST_RETURN_IF_ERROR(insert->BindInt64(5, ToDb(part.body.size())));
      OUTPOST_RETURN_IF_ERROR(insert->BindText(6, part.codec));
      OUTPOST_RETURN_IF_ERROR(insert->BindText(7, part.format));
      OUTPOST_RETURN_IF_ERROR(insert->BindInt64(8, seq));
      OUTPOST_RETURN_IF_ERROR(insert->BindInt64(9, sub + step * static_cast<int64_t>(i)));
      OUTPOST_RETURN_IF_ERROR(RunOnce(*insert));
      const int64_t part_id = m.db.LastInsertRowId();
      OUTPOST_RETURN_IF_ERROR(body->BindInt64(1, part_id));
      OUTPOST_RETURN_IF_ERROR(body->BindBlob(2, part.body));
      OUTPOST_RETURN_IF_ERROR(RunOnce(*body));
      ids.push_back(part_id);
    }
    return Status::Ok();
  });
  if (!status.ok())
    return status.WithContext("replacing chunk " + std::to_string(id) + " in " + m.Name());
  m.used_bytes = SaturatingSub(m.used_bytes, old_bytes);
  for (const SealedChunk& part : parts) m.used_bytes += part.body.size();
  return ids;
}

Result<uint64_t> BufferStore::CountLive() {
  Result<int64_t> n = QueryInt64(impl_->db, "SELECT count(*) FROM chunks");
  if (!n.ok()) return n.status().WithContext("counting chunks in " + impl_->Name());
  return FromDb(*n);
}

Result<uint64_t> BufferStore::CountDead() {
  Result<int64_t> n = QueryInt64(impl_->db, "SELECT count(*) FROM dead_chunks");
  if (!n.ok()) return n.status().WithContext("counting dead chunks in " + impl_->Name());
  return FromDb(*n);
}

}  // namespace outpost

// BufferStore on top of the SQLite wrapper. Map of this file:
//   helpers        integer and time conversions, transactions, the schema version
//   Impl           the connection, Open's two paths (read-write, read-only), quarantine
//   BufferStore    Commit (the hot path, cached statements), reads, Purge, state
#include "buffer/buffer_store.h"

#include <charconv>
#include <system_error>
#include <utility>

#include "buffer/buffer_schema.h"
#include "buffer/sqlite_db.h"

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

std::string PathText(const fs::path& p) {
  const std::u8string u8 = p.u8string();
  return std::string(reinterpret_cast<const char*>(u8.data()), u8.size());
}

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

constexpr std::string_view kInsertChunk =
    "INSERT INTO chunks (stream, created_at, records, raw_bytes, stored_bytes, codec, format, "
    "body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
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
// Column layout shared by both chunk tables in ForEachChunk; dead_chunks adds 11, 12.
constexpr std::string_view kChunkColumns =
    "id, stream, created_at, records, raw_bytes, codec, format, attempts, next_attempt_at, "
    "last_error, body";

}  // namespace

struct BufferStore::Impl {
  // Commit's statements, compiled on first use and kept: Commit runs hundreds of
  // times a second and must not re-parse SQL each time.
  struct CommitStatements {
    Statement begin, commit, rollback, insert_chunk, upsert_checkpoint, delete_checkpoint;
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
  Status WriteBatch(const CommitBatch& batch, int64_t now_ms, int64_t* chunk_id);
  std::string Name() const { return PathText(options.file); }

  Options options;
  const Clock* clock;
  ComponentLogger log;
  Db db;
  std::optional<CommitStatements> commit_statements;  // declared after db: finalized first
  std::optional<fs::path> quarantined;
  int schema_version = 0;
  uint64_t used_bytes = 0;
};

Status BufferStore::Impl::OpenWritable() {
  commit_statements.reset();
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
  commit_statements.reset();
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
  Result<int64_t> usage = QueryInt64(db, kUsage);
  if (!usage.ok()) return usage.status();
  used_bytes = FromDb(*usage);
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
      {&s.insert_chunk, kInsertChunk},
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

Status BufferStore::Impl::WriteBatch(const CommitBatch& batch, int64_t now_ms, int64_t* chunk_id) {
  CommitStatements& s = *commit_statements;
  if (batch.chunk) {
    const SealedChunk& c = *batch.chunk;
    Statement& st = s.insert_chunk;
    OUTPOST_RETURN_IF_ERROR(st.BindText(1, c.stream));
    OUTPOST_RETURN_IF_ERROR(st.BindInt64(2, c.created_at_ms));
    OUTPOST_RETURN_IF_ERROR(st.BindInt64(3, ToDb(c.records)));
    OUTPOST_RETURN_IF_ERROR(st.BindInt64(4, ToDb(c.raw_bytes)));
    OUTPOST_RETURN_IF_ERROR(st.BindInt64(5, ToDb(c.body.size())));
    OUTPOST_RETURN_IF_ERROR(st.BindText(6, c.codec));
    OUTPOST_RETURN_IF_ERROR(st.BindText(7, c.format));
    OUTPOST_RETURN_IF_ERROR(st.BindBlob(8, c.body));
    OUTPOST_RETURN_IF_ERROR(RunOnce(st));
    *chunk_id = db.LastInsertRowId();
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
    return status.WithContext("committing to " + m.Name());
  }
  if (batch.chunk) m.used_bytes += batch.chunk->body.size();
  return chunk_id;
}

Result<std::vector<Checkpoint>> BufferStore::LoadCheckpoints(std::string_view source) {
  std::string sql =
      "SELECT source, device, inode, fingerprint, fingerprint_len, path, \"offset\", cursor, "
      "updated_at FROM checkpoints";
  if (!source.empty()) sql += " WHERE source = ?1";
  sql += " ORDER BY source, device, inode";
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

Status BufferStore::RefreshUsage() {
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
  std::string where;
  if (filter.stream) where += " WHERE stream = ?1";
  if (filter.since_ms)
    where += std::string(where.empty() ? " WHERE" : " AND") + " created_at >= ?2";
  const std::string queries[] = {
      "SELECT " + std::string(kChunkColumns) + " FROM chunks" + where + " ORDER BY id",
      "SELECT " + std::string(kChunkColumns) + ", reason, dead_at FROM dead_chunks" + where +
          " ORDER BY id",
  };
  bool stopped = false;
  Status status = InTransaction(m.db, "BEGIN", [&]() -> Status {
    for (int table = 0; table < (filter.include_dead ? 2 : 1) && !stopped; ++table) {
      Result<Statement> st = m.db.Prepare(queries[table]);
      if (!st.ok()) return st.status();
      if (filter.stream) OUTPOST_RETURN_IF_ERROR(st->BindText(1, *filter.stream));
      if (filter.since_ms) OUTPOST_RETURN_IF_ERROR(st->BindInt64(2, *filter.since_ms));
      StoredChunk c;
      c.dead = table == 1;
      while (!stopped) {
        Result<bool> row = st->Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        c.id = st->ColumnInt64(0);
        c.chunk.stream = st->ColumnText(1);
        c.chunk.created_at_ms = st->ColumnInt64(2);
        c.chunk.records = FromDb(st->ColumnInt64(3));
        c.chunk.raw_bytes = FromDb(st->ColumnInt64(4));
        c.chunk.codec = st->ColumnText(5);
        c.chunk.format = st->ColumnText(6);
        c.attempts = st->ColumnInt64(7);
        c.next_attempt_at_ms = st->ColumnInt64(8);
        c.last_error = st->ColumnText(9);
        c.chunk.body = st->ColumnBlob(10);
        if (c.dead) {
          c.dead_reason = st->ColumnText(11);
          c.dead_at_ms = st->ColumnInt64(12);
        }
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
  Status status = InTransaction(m.db, "BEGIN IMMEDIATE", [&]() -> Status {
    for (const char* table : {"chunks", "dead_chunks"}) {
      Result<Statement> st =
          m.db.Prepare(std::string("DELETE FROM ") + table + (stream ? " WHERE stream = ?1" : ""));
      if (!st.ok()) return st.status();
      if (stream) OUTPOST_RETURN_IF_ERROR(st->BindText(1, *stream));
      OUTPOST_RETURN_IF_ERROR(st->StepDone());
      deleted += FromDb(m.db.Changes());
    }
    return Status::Ok();
  });
  if (!status.ok()) return status.WithContext("purging " + m.Name());
  OUTPOST_RETURN_IF_ERROR(RefreshUsage());
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
  return status.ok() ? status : status.WithContext("writing state '" + std::string(key) + "'");
}

}  // namespace outpost

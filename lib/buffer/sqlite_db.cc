#include "buffer/sqlite_db.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <thread>
#include <utility>

#include "util/text.h"

namespace outpost {
namespace {

// SQLite built without HAVE_USLEEP, as the amalgamation from scripts/deps.sh is, waits
// in whole seconds: its default busy handler sleeps a second per try, and the unix
// VFS rounds every sleep up to a second (the WAL read retries ask for microseconds).
// Any wait for the other connection's lock (the pipeline and the shipper share
// buffer.db) became a one-second stall: a second at start-up, at SIGTERM, in a
// rotation storm. So connections get BusyWait below instead of sqlite3_busy_timeout,
// and this VFS, the platform's default with xSleep sleeping for the time asked, is
// made the default before the first connection is opened.
sqlite3_vfs g_vfs;

int PreciseSleep(sqlite3_vfs*, int microseconds) {
  std::this_thread::sleep_for(std::chrono::microseconds(microseconds));
  return microseconds;
}

// The busy handler: waits 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, then 100 ms between
// tries (SQLite's own steps) until the connection's busy timeout (the pointer's value,
// in ms) is used up; then the statement fails with SQLITE_BUSY.
int BusyWait(void* timeout_ms, int count) {
  static constexpr int kDelayMs[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
  constexpr int kSteps = static_cast<int>(std::size(kDelayMs));
  const auto limit = static_cast<int64_t>(reinterpret_cast<intptr_t>(timeout_ms));
  int64_t waited = 0;
  for (int i = 0; i < std::min(count, kSteps); ++i) waited += kDelayMs[i];
  if (count > kSteps) waited += int64_t{100} * (count - kSteps);
  const int64_t delay = std::min<int64_t>(count < kSteps ? kDelayMs[count] : 100, limit - waited);
  if (delay <= 0) return 0;
  std::this_thread::sleep_for(std::chrono::milliseconds(delay));
  return 1;
}

void UsePreciseSleep() {
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
    if (base == nullptr) return;
    g_vfs = *base;
    g_vfs.zName = "outpost";
    g_vfs.xSleep = PreciseSleep;
    sqlite3_vfs_register(&g_vfs, /*makeDflt=*/1);
  });
}

Status MakeStatus(int rc, std::string_view context, std::string_view sqlite_message) {
  std::string message(context);
  message += ": ";
  if ((rc & 0xff) == SQLITE_FULL) message += "disk full: ";
  message += sqlite_message;
  message += " (sqlite " + std::to_string(rc) + ")";
  return Status(SqliteCode(rc), std::move(message));
}

// The error of the last call on `db`, or the generic text of `rc` without a handle.
Status ConnectionStatus(sqlite3* db, int rc, std::string_view context) {
  const char* text = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return MakeStatus(rc, context, text != nullptr ? text : "unknown error");
}

Status NotOpen() { return Internal("sqlite: the connection or statement is not open"); }

}  // namespace

std::string SqliteVersion() { return sqlite3_libversion(); }

std::string SqliteDefaultVfs() {
  const sqlite3_vfs* vfs = sqlite3_vfs_find(nullptr);
  return vfs != nullptr && vfs->zName != nullptr ? vfs->zName : "";
}

void SetSqliteSoftHeapLimit(uint64_t bytes) {
  sqlite3_soft_heap_limit64(static_cast<sqlite3_int64>(bytes));
}

Code SqliteCode(int result_code) {
  switch (result_code & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return Code::kOk;
    case SQLITE_FULL:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_NOMEM:
      return Code::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Code::kCorrupt;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
      return Code::kIoError;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return Code::kPermissionDenied;
    case SQLITE_ERROR:
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
      return Code::kInvalidArgument;
    default:
      return Code::kInternal;
  }
}

// ---- Db ----

Result<Db> Db::Open(const std::filesystem::path& file, const OpenOptions& options) {
  int flags = SQLITE_OPEN_NOMUTEX;
  if (options.read_only) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE;
    if (options.create) flags |= SQLITE_OPEN_CREATE;
  }
  UsePreciseSleep();
  const std::string name = Utf8FromPath(file);
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
  Db db(raw);  // closes the handle on every path, also when the open failed
  if (rc != SQLITE_OK) return ConnectionStatus(raw, rc, "opening " + name);
  sqlite3_extended_result_codes(raw, 1);
  const int brc = sqlite3_busy_handler(
      raw, BusyWait, reinterpret_cast<void*>(static_cast<intptr_t>(options.busy_timeout_ms)));
  if (brc != SQLITE_OK) return ConnectionStatus(raw, brc, "setting the busy timeout of " + name);
  return db;
}

Db::~Db() { Close(); }

Db::Db(Db&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    Close();
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

void Db::Close() {
  // close_v2 never fails for a valid handle: with statements still alive it defers
  // the close until the last one is finalized.
  if (db_ != nullptr) sqlite3_close_v2(db_);
  db_ = nullptr;
}

void Db::CloseWithoutCheckpoint() {
  if (db_ != nullptr) sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  Close();
}

Status Db::Exec(std::string_view sql) {
  if (db_ == nullptr) return NotOpen();
  const std::string text(sql);
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::Ok();
  const std::string message = error != nullptr ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  const std::string context = "sqlite: " + (text.size() > 60 ? text.substr(0, 60) + "..." : text);
  return MakeStatus(rc, context, message);
}

Result<Statement> Db::Prepare(std::string_view sql, bool persistent) {
  if (db_ == nullptr) return NotOpen();
  sqlite3_stmt* stmt = nullptr;
  const unsigned flags = persistent ? SQLITE_PREPARE_PERSISTENT : 0;
  const int rc =
      sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), flags, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return ConnectionStatus(db_, rc, "sqlite: preparing " + std::string(sql.substr(0, 60)));
  }
  if (stmt == nullptr) return InvalidArgument("sqlite: no statement in '" + std::string(sql) + "'");
  return Statement(db_, stmt);
}

int64_t Db::LastInsertRowId() const { return db_ != nullptr ? sqlite3_last_insert_rowid(db_) : 0; }

int64_t Db::Changes() const { return db_ != nullptr ? sqlite3_changes64(db_) : 0; }

void Db::ReleaseMemory() {
  if (db_ != nullptr) sqlite3_db_release_memory(db_);
}

bool Db::InTransaction() const { return db_ != nullptr && sqlite3_get_autocommit(db_) == 0; }

// ---- Statement ----

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Status Statement::Check(int rc, std::string_view what) const {
  if (rc == SQLITE_OK) return Status::Ok();
  const char* sql = sqlite3_sql(stmt_);
  std::string context = "sqlite: ";
  context += what;
  if (sql != nullptr) {
    const std::string_view text(sql);
    context += " in '" + std::string(text.substr(0, 60)) + (text.size() > 60 ? "...'" : "'");
  }
  return ConnectionStatus(db_, rc, context);
}

Status Statement::BindInt64(int index, int64_t value) {
  if (stmt_ == nullptr) return NotOpen();
  return Check(sqlite3_bind_int64(stmt_, index, value), "binding an integer");
}

Status Statement::BindText(int index, std::string_view value) {
  if (stmt_ == nullptr) return NotOpen();
  // A null pointer would bind NULL; an empty view may have one.
  const char* data = value.data() != nullptr ? value.data() : "";
  return Check(sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
               "binding text");
}

Status Statement::BindBlob(int index, std::string_view value) {
  if (stmt_ == nullptr) return NotOpen();
  const char* data = value.data() != nullptr ? value.data() : "";
  return Check(sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_TRANSIENT),
               "binding a blob");
}

Status Statement::BindNull(int index) {
  if (stmt_ == nullptr) return NotOpen();
  return Check(sqlite3_bind_null(stmt_, index), "binding NULL");
}

Result<bool> Statement::Step() {
  if (stmt_ == nullptr) return NotOpen();
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Check(rc, "running");
}

Status Statement::StepDone() {
  Result<bool> row = Step();
  if (!row.ok()) return row.status();
  if (*row) return Internal("sqlite: a statement expected to return nothing returned a row");
  return Status::Ok();
}

bool Statement::ColumnIsNull(int index) const {
  return stmt_ == nullptr || sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

int64_t Statement::ColumnInt64(int index) const {
  return stmt_ != nullptr ? sqlite3_column_int64(stmt_, index) : 0;
}

std::string_view Statement::ColumnTextView(int index) const {
  if (stmt_ == nullptr) return {};
  // The pointer first, then the size: the documented order for a stable result.
  const unsigned char* text = sqlite3_column_text(stmt_, index);
  if (text == nullptr) return {};
  const int size = sqlite3_column_bytes(stmt_, index);
  return std::string_view(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
}

std::string_view Statement::ColumnBlobView(int index) const {
  if (stmt_ == nullptr) return {};
  const void* blob = sqlite3_column_blob(stmt_, index);
  if (blob == nullptr) return {};
  const int size = sqlite3_column_bytes(stmt_, index);
  return std::string_view(static_cast<const char*>(blob), static_cast<size_t>(size));
}

void Statement::Reset() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

}  // namespace outpost

// The SQLite wrapper: the only code that includes sqlite3.h (STYLE.md rule 4).
//
// Db owns one connection, Statement one prepared statement; both release their
// handle when they go away. Every SQLite failure comes back as a Status whose code
// follows the SQLite result code (SqliteStatus below) and whose message carries
// SQLite's own message and code, so a caller can tell a full disk from a corrupt file
// from a locked one without knowing SQLite.
//
// Not thread-safe: a Db and its Statements belong to one thread at a time (the
// connection is opened without SQLite's own mutex). Several processes may open the
// same file; the busy timeout makes them wait for each other's locks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "util/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace outpost {

// "3.40.1"
std::string SqliteVersion();

// The name of SQLite's default VFS: "outpost" once a Db was opened (sqlite_db.cc: the
// platform's VFS with a sleep of the length asked for).
std::string SqliteDefaultVfs();

// Caps the memory SQLite's page caches may hold, process-wide, in bytes (0: no cap).
// Soft: SQLite gives cached pages back first and only grows past it when it must.
void SetSqliteSoftHeapLimit(uint64_t bytes);

// How SQLite result codes become outpost codes:
//   SQLITE_FULL                       -> kUnavailable ("disk full")
//   SQLITE_BUSY, SQLITE_LOCKED        -> kUnavailable (another connection holds a lock)
//   SQLITE_NOMEM                      -> kUnavailable
//   SQLITE_CORRUPT, SQLITE_NOTADB     -> kCorrupt
//   SQLITE_CANTOPEN, SQLITE_IOERR     -> kIoError
//   SQLITE_READONLY, SQLITE_PERM, SQLITE_AUTH -> kPermissionDenied
//   SQLITE_ERROR, SQLITE_CONSTRAINT, SQLITE_MISMATCH, SQLITE_RANGE, SQLITE_TOOBIG
//                                     -> kInvalidArgument (bad SQL or values)
//   anything else                     -> kInternal
// The message is "<context>: <SQLite message> (sqlite <extended code>)".
Code SqliteCode(int result_code);

class Statement;

class Db {
 public:
  struct OpenOptions {
    bool read_only = false;      // SQLITE_OPEN_READONLY; never creates the file
    bool create = true;          // read-write only: create the file when missing
    int busy_timeout_ms = 5000;  // how long to wait for another connection's lock
  };

  // Opens `file` (a UTF-8 path is passed to SQLite). SQLite reads nothing at open: a
  // file that is not a database is reported by the first statement (kCorrupt).
  static Result<Db> Open(const std::filesystem::path& file, const OpenOptions& options);

  Db() = default;  // not open; every call fails with kInternal
  ~Db();
  Db(Db&& other) noexcept;
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  bool is_open() const { return db_ != nullptr; }

  // Runs one or more statements that return no rows we need (DDL, PRAGMA, BEGIN).
  Status Exec(std::string_view sql);

  // Compiles one statement. `persistent`: it will be kept and reused many times.
  Result<Statement> Prepare(std::string_view sql, bool persistent = false);

  int64_t LastInsertRowId() const;
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t Changes() const;
  // True between BEGIN and COMMIT/ROLLBACK (SQLite may roll back by itself after
  // SQLITE_FULL or an I/O error, which ends the transaction).
  bool InTransaction() const;

  // Gives this connection's unused cache pages back to the heap.
  void ReleaseMemory();

  // Closes the connection now (also done by the destructor). Statements prepared on
  // it must be gone first.
  void Close();
  // Closes without the checkpoint SQLite runs when the last connection to a WAL
  // database closes, so the file, its -wal and its -shm stay exactly as they were:
  // for a file about to be moved aside as corrupt.
  void CloseWithoutCheckpoint();

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement() = default;  // empty; every call fails with kInternal
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are numbered from 1, as in SQL ("?1"). Text and blobs are copied, so
  // the arguments need not outlive the call. An empty string binds an empty value,
  // never NULL.
  Status BindInt64(int index, int64_t value);
  Status BindText(int index, std::string_view value);
  Status BindBlob(int index, std::string_view value);
  Status BindNull(int index);

  // Runs the statement one step: true when a row is ready, false when done.
  Result<bool> Step();
  // Step() that must finish without a row (INSERT, UPDATE, DELETE).
  Status StepDone();

  // Columns are numbered from 0. NULL reads as 0 or "". The views stay valid until
  // the next Step(), Reset() or column call on the same column.
  bool ColumnIsNull(int index) const;
  int64_t ColumnInt64(int index) const;
  std::string_view ColumnTextView(int index) const;
  std::string ColumnText(int index) const { return std::string(ColumnTextView(index)); }
  std::string_view ColumnBlobView(int index) const;
  std::string ColumnBlob(int index) const { return std::string(ColumnBlobView(index)); }

  // Makes the statement ready to run again and clears its bindings. An error of the
  // last Step() was already returned by it and is not repeated here.
  void Reset();

 private:
  friend class Db;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Status Check(int rc, std::string_view what) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace outpost

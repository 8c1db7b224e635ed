// The schema of buffer.db and the ordered steps that build it (docs/buffer.md).
//
// kMigrations[i] takes a file from version kMigrations[i].version - 1 to
// kMigrations[i].version. Open() runs, in one transaction, every step above the
// file's version and then records the last one in state.schema_version. A step is
// never edited once released: a later version appends a step (ALTER TABLE, a new
// table, a data copy) and raises BufferStore::kSchemaVersion.
//
// Column order matters: `body` is the last column of the chunk tables, so reading the
// small columns of a chunk (the shipper's queue scan, the usage sum) never walks the
// overflow pages of a large body.
#pragma once

#include <array>

namespace outpost::buffer_schema {

struct Migration {
  int version;      // the version the file has after this step
  const char* sql;  // one or more statements
};

inline constexpr const char* kVersion1 = R"sql(
CREATE TABLE chunks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  stream TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  records INTEGER NOT NULL,
  raw_bytes INTEGER NOT NULL,
  stored_bytes INTEGER NOT NULL,
  codec TEXT NOT NULL,
  format TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  body BLOB NOT NULL
);
CREATE INDEX chunks_stream_id ON chunks (stream, id);

CREATE TABLE dead_chunks (
  id INTEGER PRIMARY KEY,
  stream TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  records INTEGER NOT NULL,
  raw_bytes INTEGER NOT NULL,
  stored_bytes INTEGER NOT NULL,
  codec TEXT NOT NULL,
  format TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  dead_at INTEGER NOT NULL DEFAULT 0,
  body BLOB NOT NULL
);
CREATE INDEX dead_chunks_stream_id ON dead_chunks (stream, id);

CREATE TABLE checkpoints (
  source TEXT NOT NULL,
  device INTEGER NOT NULL,
  inode INTEGER NOT NULL,
  fingerprint INTEGER NOT NULL DEFAULT 0,
  fingerprint_len INTEGER NOT NULL DEFAULT 0,
  path TEXT NOT NULL DEFAULT '',
  "offset" INTEGER NOT NULL DEFAULT 0,
  cursor TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (source, device, inode)
);

CREATE TABLE check_state (
  check_id TEXT PRIMARY KEY,
  status TEXT NOT NULL DEFAULT '',
  result TEXT NOT NULL DEFAULT '',
  changed_at INTEGER NOT NULL DEFAULT 0,
  checked_at INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE state (
  "key" TEXT PRIMARY KEY,
  "value" TEXT NOT NULL
);
)sql";

inline constexpr std::array<Migration, 1> kMigrations = {{
    {1, kVersion1},
}};

}  // namespace outpost::buffer_schema

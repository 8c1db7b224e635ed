// The schema of buffer.db and the ordered steps that build it (docs/buffer.md).
//
// kMigrations[i] takes a file from version kMigrations[i].version - 1 to
// kMigrations[i].version. Open() runs, in one transaction, every step above the
// file's version and then records the last one in state.schema_version. A step is
// never edited once released: a later version appends a step (ALTER TABLE, a new
// table, a data copy) and raises BufferStore::kSchemaVersion.
//
// Version 2 keeps the live chunks' bodies in a table of their own (chunk_bodies), so
// the rows the shipper reads and updates all the time (attempts, next_attempt_at,
// last_error, the order key) are small: updating one never rewrites a body, and the
// queue scan reads no body page. dead_chunks rows are never updated and keep their
// body inline, as the last column, so reading their small columns never walks the
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

// Version 2: the delivery order key and the bodies moved out of `chunks`.
//
// chunks.seq and chunks.sub are the order in which a stream's chunks are delivered
// (ORDER BY seq, sub). A committed chunk gets seq = its id and sub = 0; the two halves
// of a split chunk get the original's seq and subs between the original's and the
// next one's, so they go before every later chunk of the stream although their ids
// are newer (BufferStore::Split).
//
// The step rebuilds `chunks` (SQLite cannot insert columns in the middle of a table):
// bodies are copied to chunk_bodies, the other columns to a new table that then takes
// the old one's name. The AUTOINCREMENT counter of `chunks` (its sqlite_sequence row)
// is carried over by renaming the row to the new table before the copy: dropping
// `chunks` would otherwise delete it, and ids of chunks already sent could come back.
inline constexpr const char* kVersion2 = R"sql(
CREATE TABLE chunk_bodies (
  id INTEGER PRIMARY KEY,
  body BLOB NOT NULL
);
INSERT INTO chunk_bodies (id, body) SELECT id, body FROM chunks;

CREATE TABLE chunks_v2 (
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
  seq INTEGER NOT NULL,
  sub INTEGER NOT NULL DEFAULT 0
);
UPDATE sqlite_sequence SET name = 'chunks_v2' WHERE name = 'chunks';
INSERT INTO chunks_v2 (id, stream, created_at, records, raw_bytes, stored_bytes, codec, format,
                       attempts, next_attempt_at, last_error, seq, sub)
  SELECT id, stream, created_at, records, raw_bytes, stored_bytes, codec, format, attempts,
         next_attempt_at, last_error, id, 0
  FROM chunks ORDER BY id;
DROP TABLE chunks;
ALTER TABLE chunks_v2 RENAME TO chunks;
CREATE UNIQUE INDEX chunks_order ON chunks (seq, sub);
CREATE INDEX chunks_stream_order ON chunks (stream, seq, sub);
)sql";

inline constexpr std::array<Migration, 2> kMigrations = {{
    {1, kVersion1},
    {2, kVersion2},
}};

}  // namespace outpost::buffer_schema

// ChunkBuilder: the open chunk of one stream (DESIGN.md "Data flow").
//
// Records are appended as NDJSON lines; the chunk is due for sealing when its raw
// size reaches chunk_max_bytes or its first record is chunk_max_age old. Seal()
// compresses the body as one zstd frame and starts a new, empty chunk. The builder
// knows nothing of checkpoints: its owner commits the sealed chunk together with the
// checkpoints of the lines it holds. Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "buffer/buffer_store.h"
#include "chunk/zstd_codec.h"
#include "util/clock.h"
#include "util/status.h"

namespace outpost {

class ChunkBuilder {
 public:
  ChunkBuilder(std::string stream, uint64_t max_bytes, Duration max_age, int level);

  // The NDJSON body being built; append one record, then call Added().
  std::string& body() { return body_; }
  void Added(WallTime wall, MonoTime mono);

  bool empty() const { return records_ == 0; }
  uint64_t records() const { return records_; }
  uint64_t raw_bytes() const { return body_.size(); }
  bool Full() const { return body_.size() >= max_bytes_; }
  // When the open chunk reaches chunk_max_age; nullopt while empty.
  std::optional<MonoTime> Deadline() const;
  bool Due(MonoTime now) const { return Full() || (!empty() && now >= *Deadline()); }

  // Compresses the open chunk. On success the builder is empty again; on failure it
  // keeps its records so a later Seal() can retry.
  Result<SealedChunk> Seal();

  // Hands the open chunk over uncompressed: its records go to `raw` and the returned
  // chunk carries everything but the body (compress `raw` into it later, e.g. on
  // another thread). The builder is empty again.
  SealedChunk TakeRaw(std::string& raw);

  const std::string& stream() const { return stream_; }

 private:
  std::string stream_;
  uint64_t max_bytes_;
  Duration max_age_;
  ZstdCompressor compressor_;
  std::string body_;
  uint64_t records_ = 0;
  WallTime first_wall_{};
  MonoTime first_mono_{};
};

}  // namespace outpost

// The open chunk of one stream; see chunk_builder.h.
#include "chunk/chunk_builder.h"

namespace outpost {

ChunkBuilder::ChunkBuilder(std::string stream, uint64_t max_bytes, Duration max_age, int level)
    : stream_(std::move(stream)), max_bytes_(max_bytes), max_age_(max_age), compressor_(level) {
  // One line past the cap fits without a reallocation in the common case.
  body_.reserve(static_cast<size_t>(max_bytes_) + (64 << 10));
}

void ChunkBuilder::Added(WallTime wall, MonoTime mono) {
  if (records_ == 0) {
    first_wall_ = wall;
    first_mono_ = mono;
  }
  ++records_;
}

std::optional<MonoTime> ChunkBuilder::Deadline() const {
  if (records_ == 0) return std::nullopt;
  return first_mono_ + max_age_;
}

Result<SealedChunk> ChunkBuilder::Seal() {
  Result<std::string> body = compressor_.Compress(body_);
  if (!body.ok()) return body.status().WithContext("sealing a chunk of " + stream_);
  SealedChunk c;
  c.stream = stream_;
  c.created_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(first_wall_.time_since_epoch()).count();
  c.records = records_;
  c.raw_bytes = body_.size();
  c.body = std::move(body).value();
  body_.clear();
  records_ = 0;
  return c;
}

SealedChunk ChunkBuilder::TakeRaw(std::string& raw) {
  SealedChunk c;
  c.stream = stream_;
  c.created_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(first_wall_.time_since_epoch()).count();
  c.records = records_;
  c.raw_bytes = body_.size();
  raw.swap(body_);
  body_.clear();
  body_.reserve(static_cast<size_t>(max_bytes_) + (64 << 10));
  records_ = 0;
  return c;
}

}  // namespace outpost

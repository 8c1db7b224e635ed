// zstd compression of chunk bodies: the only file that includes zstd.h.
//
// Both functions are thread-safe (no shared state) and bounded: decompression
// refuses output larger than `max_output`, so a hostile or corrupt frame cannot make
// the agent allocate without limit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

namespace outpost {

// Compresses `data` as one zstd frame at `level` (1..22).
Result<std::string> ZstdCompress(std::string_view data, int level);

// A compressor that keeps its zstd context and output buffer between calls: what a
// chunk builder uses on the hot path (no per-chunk allocation or table clearing beyond
// what zstd itself needs). Not thread-safe; one per owner.
class ZstdCompressor {
 public:
  explicit ZstdCompressor(int level);
  ~ZstdCompressor();
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;

  // One frame holding `data`, at the level given at construction.
  Result<std::string> Compress(std::string_view data);

 private:
  struct Ctx;
  int level_;
  std::unique_ptr<Ctx> ctx_;
};

// Decompresses one or more concatenated zstd frames; fails with kCorrupt on bad
// input and kInvalidArgument when the output would exceed `max_output` bytes.
Result<std::string> ZstdDecompress(std::string_view frame, uint64_t max_output);

// The size of the steps ZstdDecompress writes its output in (zstd's recommended stream
// output size, 128 KiB): content sizes around its multiples are the boundary cases.
size_t ZstdDecompressStep();

// "1.5.4"
std::string ZstdVersion();

}  // namespace outpost

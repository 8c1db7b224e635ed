// zstd compression of chunk bodies: the only file that includes zstd.h.
//
// Both functions are thread-safe (no shared state) and bounded: decompression
// refuses output larger than `max_output`, so a hostile or corrupt frame cannot make
// the agent allocate without limit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace outpost {

// Compresses `data` as one zstd frame at `level` (1..22).
Result<std::string> ZstdCompress(std::string_view data, int level);

// Decompresses one or more concatenated zstd frames; fails with kCorrupt on bad
// input and kInvalidArgument when the output would exceed `max_output` bytes.
Result<std::string> ZstdDecompress(std::string_view frame, uint64_t max_output);

// "1.5.4"
std::string ZstdVersion();

}  // namespace outpost

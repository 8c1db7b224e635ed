// LogLine: one line (or, after multiline joining, one record) read from a log file,
// with the byte range of the file it came from. Offsets are what checkpoints store.
#pragma once

#include <cstdint>
#include <string>

namespace outpost {

struct LogLine {
  std::string text;         // UTF-8 (invalid bytes kept; the JSON encoder escapes them)
  uint64_t offset = 0;      // file offset of the line's first byte
  uint64_t end_offset = 0;  // file offset just past its newline (or its last byte)
  bool truncated = false;   // cut at max_line_bytes
};

}  // namespace outpost

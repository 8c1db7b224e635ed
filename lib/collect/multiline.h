// MultilineJoiner: joins continuation lines (stack traces) into one record.
//
// A line matching `start` begins a new record; other lines are appended to the record
// before them with "\n". A record is complete when the next start line arrives, when
// it holds max_lines lines and another line arrives (that line begins the next record),
// or when no line has followed it for `timeout`. The joined
// record keeps the file range of all its lines (offset of the first, end_offset of the
// last) and is cut at max_bytes (truncated = true; later lines still extend its range
// but not its text). A line that does not match `start` while nothing is pending
// begins a record too: lines before the first start line (the tail of a record that
// began before reading did, or lines after a timeout) are joined into a record of
// their own, never into the next start line's. Only the first 2048 bytes of a line are
// searched for `start` (it describes how a line begins; this bounds the regex's stack
// use). Not thread-safe; one per file.
#pragma once

#include <cstddef>
#include <optional>
#include <regex>
#include <string>

#include "collect/log_line.h"
#include "config/config.h"
#include "util/clock.h"

namespace outpost {

class MultilineJoiner {
 public:
  // `config.start` must be a valid ECMAScript regex (the config loader checks it).
  MultilineJoiner(const MultilineConfig& config, size_t max_bytes);

  // Feeds the next complete line, read at `now`. Returns the record this line
  // completed, if any.
  std::optional<LogLine> Push(LogLine line, MonoTime now);

  // Returns the pending record if `timeout` has passed since its last line at `now`,
  // or unconditionally when `force` (end of input at shutdown / --once).
  std::optional<LogLine> Flush(MonoTime now, bool force);

  // When the pending record times out, if one is pending.
  std::optional<MonoTime> Deadline() const;

  bool pending() const { return pending_.has_value(); }
  // File offset where the pending record starts (checkpoints must not pass it).
  uint64_t pending_offset() const { return pending_ ? pending_->offset : 0; }

 private:
  bool StartsRecord(const std::string& text) const;
  void Append(LogLine line);  // a continuation line onto pending_
  std::optional<LogLine> Take();

  std::regex start_;
  size_t max_lines_;
  Duration timeout_;
  size_t max_bytes_;
  std::optional<LogLine> pending_;
  size_t pending_lines_ = 0;
  bool text_full_ = false;  // pending_'s text reached max_bytes_; later lines add no text
  MonoTime last_line_at_{};
};

}  // namespace outpost

// MultilineJoiner (see multiline.h): one pending record, extended by continuation lines
// and handed out when the next start line arrives, when max_lines is full, or on Flush.
#include "collect/multiline.h"

#include <algorithm>
#include <exception>
#include <string_view>
#include <utility>

#include "collect/text_encoding.h"

namespace outpost {
namespace {

// libstdc++'s regex matcher recurses once per character a repetition consumes, so a
// pattern like "(a|b)*" over a long line can exhaust a thread's stack. Start patterns
// describe how a line begins, so only this much of each line is searched.
constexpr size_t kMaxStartSearchBytes = 2048;

// The config loader has already checked the pattern; if it is invalid anyway, every
// line starts a record (joining is off) rather than the agent failing.
std::regex CompileStart(const std::string& pattern) {
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::exception&) {
    return std::regex("", std::regex::ECMAScript);
  }
}

}  // namespace

MultilineJoiner::MultilineJoiner(const MultilineConfig& config, size_t max_bytes)
    : start_(CompileStart(config.start)),
      max_lines_(static_cast<size_t>(std::max<int64_t>(config.max_lines, 1))),
      timeout_(config.timeout),
      max_bytes_(max_bytes) {}

bool MultilineJoiner::StartsRecord(const std::string& text) const {
  const std::string_view head = std::string_view(text).substr(0, kMaxStartSearchBytes);
  try {
    return std::regex_search(head.begin(), head.end(), start_);
  } catch (const std::exception&) {
    return false;  // regex_error (complexity, stack): treat as a continuation line
  }
}

std::optional<LogLine> MultilineJoiner::Push(LogLine line, MonoTime now) {
  std::optional<LogLine> done;
  if (pending_) {
    if (!StartsRecord(line.text) && pending_lines_ < max_lines_) {
      Append(std::move(line));
      last_line_at_ = now;
      return std::nullopt;
    }
    done = Take();
  }
  // A start line, or a continuation with nothing before it (the tail of a record that
  // began before we started reading, or arrived after a timeout): a new record.
  pending_ = std::move(line);
  pending_lines_ = 1;
  text_full_ = TruncateUtf8(pending_->text, max_bytes_);
  if (text_full_) pending_->truncated = true;
  last_line_at_ = now;
  return done;
}

void MultilineJoiner::Append(LogLine line) {
  LogLine& record = *pending_;
  if (!text_full_) {
    record.text += '\n';
    // Copy no more than can be kept, plus the 3 bytes TruncateUtf8 needs to see whether
    // the byte at the limit is inside a character (append clamps to the line's size).
    const size_t room = max_bytes_ > record.text.size() ? max_bytes_ - record.text.size() : 0;
    record.text.append(line.text, 0, room + 3);
    if (TruncateUtf8(record.text, max_bytes_)) {
      text_full_ = true;
      record.truncated = true;
    }
  }
  if (line.truncated) record.truncated = true;
  record.end_offset = line.end_offset;
  ++pending_lines_;
}

std::optional<LogLine> MultilineJoiner::Take() {
  std::optional<LogLine> out = std::move(pending_);
  pending_.reset();
  pending_lines_ = 0;
  text_full_ = false;
  return out;
}

std::optional<LogLine> MultilineJoiner::Flush(MonoTime now, bool force) {
  if (!pending_) return std::nullopt;
  if (!force && now < last_line_at_ + timeout_) return std::nullopt;
  return Take();
}

std::optional<MonoTime> MultilineJoiner::Deadline() const {
  if (!pending_) return std::nullopt;
  return last_line_at_ + timeout_;
}

}  // namespace outpost

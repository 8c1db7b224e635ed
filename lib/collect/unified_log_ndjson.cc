// Parsing `log stream --style ndjson` lines; see unified_log_ndjson.h.
#include "collect/unified_log_ndjson.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <nlohmann/json.hpp>

#include "collect/text_encoding.h"
#include "ship/outputs/reencode.h"
#include "util/json_text.h"

namespace outpost {
namespace {

std::string_view Trim(std::string_view s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string_view::npos) return {};
  const size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

// The deepest nesting of arrays and objects in `json`, counted outside strings, stopping
// once it passes `limit` (so that a line of a million '[' is refused before it reaches
// the JSON parser).
size_t NestingDepth(std::string_view json, size_t limit) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : json) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

std::string StringField(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::optional<uint64_t> UnsignedField(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer() && it->get<int64_t>() >= 0)
    return static_cast<uint64_t>(it->get<int64_t>());
  return std::nullopt;
}

std::string_view BaseName(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

void AppendString(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  out += ",\"";
  out += key;
  out += "\":";
  AppendJsonString(out, value);
}

template <typename Int>
void AppendNumber(std::string& out, std::string_view key, std::optional<Int> value) {
  if (!value) return;
  out += ",\"";
  out += key;
  out += "\":";
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, *value);
  out.append(digits, r.ptr);
}

}  // namespace

std::optional<WallTime> ParseUnifiedLogTimestamp(std::string_view text) {
  text = Trim(text);
  // Years 1970..2200 only: nanoseconds since the epoch must fit in 64 bits.
  if (text.size() < 20) return std::nullopt;
  int year = 0;
  const auto y = std::from_chars(text.data(), text.data() + 4, year);
  if (y.ec != std::errc() || y.ptr != text.data() + 4 || year < 1970 || year > 2200)
    return std::nullopt;
  // `log` writes the offset as +HHMM; RFC 3339 wants +HH:MM.
  std::string normal(text);
  const size_t n = normal.size();
  if (n >= 5 && (normal[n - 5] == '+' || normal[n - 5] == '-') &&
      normal.find(':', n - 4) == std::string::npos)
    normal.insert(n - 2, 1, ':');
  const std::optional<int64_t> ns = ParseRfc3339Nanos(normal);
  if (!ns) return std::nullopt;
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(*ns)));
}

UnifiedLogLine ParseUnifiedLogLine(std::string_view line, UnifiedLogEntry& out,
                                   std::string* error) {
  const auto garbage = [&](const char* why) {
    if (error) *error = why;
    return UnifiedLogLine::kGarbage;
  };
  line = Trim(line);
  if (line.empty()) return UnifiedLogLine::kIgnored;
  if (line.front() != '{') {
    // `log` itself prints a line of text before the stream ("Filtering the log data
    // using ..."); anything else that is not JSON is garbage.
    if (line.front() == '[' || static_cast<unsigned char>(line.front()) < 0x20 ||
        static_cast<unsigned char>(line.front()) >= 0x7F)
      return garbage("not a JSON object");
    return UnifiedLogLine::kIgnored;
  }
  if (NestingDepth(line, kUnifiedLogMaxDepth) > kUnifiedLogMaxDepth)
    return garbage("nested too deeply");
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return garbage("not valid JSON");
  if (!j.is_object()) return garbage("not a JSON object");
  const bool has_message = j.contains("eventMessage");
  const bool has_time = j.contains("timestamp");
  // `log show` ends with {"count":N,"finished":1}.
  if (!has_message && !has_time && j.contains("finished")) return UnifiedLogLine::kIgnored;
  if (!has_message && !has_time) return garbage("no timestamp and no eventMessage");

  out = UnifiedLogEntry{};
  out.timestamp = StringField(j, "timestamp");
  out.time = ParseUnifiedLogTimestamp(out.timestamp);
  out.message = StringField(j, "eventMessage");
  out.message_type = StringField(j, "messageType");
  out.event_type = StringField(j, "eventType");
  out.subsystem = StringField(j, "subsystem");
  out.category = StringField(j, "category");
  out.process_path = StringField(j, "processImagePath");
  out.sender_path = StringField(j, "senderImagePath");
  if (const std::optional<uint64_t> pid = UnsignedField(j, "processID"); pid && *pid <= INT32_MAX)
    out.pid = static_cast<int64_t>(*pid);
  out.thread_id = UnsignedField(j, "threadID");
  out.trace_id = UnsignedField(j, "traceID");
  return UnifiedLogLine::kEntry;
}

bool IsUnifiedLogRecordField(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kFields = {
      "truncated",    "level", "event_type", "subsystem", "category", "process",
      "process_path", "pid",   "sender",     "thread_id", "trace_id", "log_timestamp"};
  return std::find(kFields.begin(), kFields.end(), name) != kFields.end();
}

void AppendUnifiedLogRecord(RecordEncoder& encoder, std::string& out, const UnifiedLogEntry& entry,
                            uint64_t max_message_bytes, WallTime now) {
  std::string own;
  own.reserve(256 + std::min<size_t>(entry.message.size(), max_message_bytes));
  own += ",\"message\":";
  bool truncated = false;
  if (entry.message.size() > max_message_bytes) {
    std::string cut = entry.message;
    TruncateUtf8(cut, static_cast<size_t>(max_message_bytes));
    AppendJsonString(own, cut);
    truncated = true;
  } else {
    AppendJsonString(own, entry.message);
  }
  if (truncated) own += ",\"truncated\":true";
  std::string level = entry.message_type;
  std::transform(level.begin(), level.end(), level.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  AppendString(own, "level", level);
  AppendString(own, "event_type", entry.event_type);
  AppendString(own, "subsystem", entry.subsystem);
  AppendString(own, "category", entry.category);
  AppendString(own, "process", BaseName(entry.process_path));
  AppendString(own, "process_path", entry.process_path);
  AppendNumber(own, "pid", entry.pid);
  AppendString(own, "sender", BaseName(entry.sender_path));
  AppendNumber(own, "thread_id", entry.thread_id);
  AppendNumber(own, "trace_id", entry.trace_id);
  // The original time keeps its microseconds and zone; @timestamp has milliseconds.
  AppendString(own, "log_timestamp", entry.timestamp);
  encoder.AppendRecord(out, entry.time.value_or(now), own);
}

UnifiedLogReader::UnifiedLogReader(size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

void UnifiedLogReader::Line(std::string_view line, std::vector<UnifiedLogEntry>& out) {
  UnifiedLogEntry entry;
  std::string error;
  switch (ParseUnifiedLogLine(line, entry, &error)) {
    case UnifiedLogLine::kEntry:
      ++entries_;
      out.push_back(std::move(entry));
      break;
    case UnifiedLogLine::kIgnored:
      ++ignored_;
      break;
    case UnifiedLogLine::kGarbage:
      ++garbage_;
      last_error_ = std::move(error);
      break;
  }
}

void UnifiedLogReader::Feed(std::string_view data, std::vector<UnifiedLogEntry>& out) {
  while (!data.empty()) {
    const size_t nl = data.find('\n');
    if (skipping_) {
      if (nl == std::string_view::npos) return;
      data.remove_prefix(nl + 1);
      skipping_ = false;
      continue;
    }
    const std::string_view piece = data.substr(0, nl);
    if (pending_.size() + piece.size() > max_line_bytes_) {
      pending_.clear();
      pending_.shrink_to_fit();
      ++oversized_;
      ++garbage_;
      last_error_ = "a line longer than " + std::to_string(max_line_bytes_) + " bytes";
      if (nl == std::string_view::npos) {
        skipping_ = true;
        return;
      }
      data.remove_prefix(nl + 1);
      continue;
    }
    if (nl == std::string_view::npos) {
      pending_.append(piece);
      return;
    }
    if (pending_.empty()) {
      Line(piece, out);
    } else {
      pending_.append(piece);
      Line(pending_, out);
      pending_.clear();
      if (pending_.capacity() > (1u << 20)) pending_.shrink_to_fit();
    }
    data.remove_prefix(nl + 1);
  }
}

void UnifiedLogReader::Finish(std::vector<UnifiedLogEntry>& out) {
  if (!skipping_ && !pending_.empty()) Line(pending_, out);
  pending_.clear();
  skipping_ = false;
}

}  // namespace outpost

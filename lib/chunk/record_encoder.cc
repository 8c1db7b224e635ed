// NDJSON encoding of records; see record_encoder.h.
#include "chunk/record_encoder.h"

#include <array>
#include <charconv>
#include <cstring>

#include "util/json_text.h"

namespace outpost {

bool IsCommonRecordField(std::string_view name) {
  // Log records' fields and check results' fields (DESIGN.md "Records and wire format").
  static constexpr std::array<std::string_view, 14> kCommon = {
      "@timestamp", "host",      "agent_id", "stream", "source",   "path",   "offset",
      "message",    "truncated", "check_id", "title",  "severity", "status", "rows"};
  for (std::string_view c : kCommon)
    if (c == name) return true;
  return false;
}

RecordEncoder::RecordEncoder(const RecordContext& context) {
  prefix_ += ",\"host\":";
  AppendJsonString(prefix_, context.host);
  prefix_ += ",\"agent_id\":";
  AppendJsonString(prefix_, context.agent_id);
  prefix_ += ",\"stream\":";
  AppendJsonString(prefix_, context.stream);
  prefix_ += ",\"source\":";
  AppendJsonString(prefix_, context.source);
  for (const auto& [key, value] : context.fields) {
    if (IsCommonRecordField(key)) {
      reserved_.push_back(key);
      continue;
    }
    suffix_ += ',';
    AppendJsonString(suffix_, key);
    suffix_ += ':';
    AppendJsonString(suffix_, value);
  }
  tail_ = suffix_ + "}\n";
}

std::string_view RecordEncoder::Timestamp(WallTime time) {
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  if (ms != cached_ms_) {
    cached_ms_ = ms;
    cached_ts_ = FormatRfc3339Millis(time);
  }
  return cached_ts_;
}

namespace {

char* Put(char* at, std::string_view s) {
  std::memcpy(at, s.data(), s.size());
  return at + s.size();
}

}  // namespace

void RecordEncoder::AppendLogLine(std::string& out, WallTime time, std::string_view path_json,
                                  uint64_t offset, std::string_view message, bool truncated) {
  // Everything before the message is written with one resize and a few copies rather
  // than one append per piece: this runs once per line, and per-piece appends (each a
  // capacity check, and a strlen for a literal) were a tenth of the ingest's instructions
  // (callgrind, bench/ingest).
  static constexpr std::string_view kTimestamp = "{\"@timestamp\":\"";
  static constexpr std::string_view kPath = ",\"path\":";
  static constexpr std::string_view kOffset = ",\"offset\":";
  static constexpr std::string_view kMessage = ",\"message\":";
  static constexpr std::string_view kTruncated = ",\"truncated\":true";
  const std::string_view ts = Timestamp(time);
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, offset);
  const std::string_view offset_text(digits, static_cast<size_t>(r.ptr - digits));
  const size_t at = out.size();
  out.resize(at + kTimestamp.size() + ts.size() + 1 + prefix_.size() + kPath.size() +
             path_json.size() + kOffset.size() + offset_text.size() + kMessage.size());
  char* p = out.data() + at;
  p = Put(p, kTimestamp);
  p = Put(p, ts);
  *p++ = '"';
  p = Put(p, prefix_);
  p = Put(p, kPath);
  p = Put(p, path_json);
  p = Put(p, kOffset);
  p = Put(p, offset_text);
  Put(p, kMessage);
  AppendJsonString(out, message);
  if (truncated) out.append(kTruncated);
  out.append(tail_);
}

void RecordEncoder::AppendRecord(std::string& out, WallTime time,
                                 std::string_view own_fields_json) {
  out += "{\"@timestamp\":\"";
  out += Timestamp(time);
  out += '"';
  out += prefix_;
  out += own_fields_json;
  out += suffix_;
  out += "}\n";
}

}  // namespace outpost

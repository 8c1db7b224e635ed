// NDJSON encoding of records; see record_encoder.h.
#include "chunk/record_encoder.h"

#include <array>
#include <charconv>

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

void RecordEncoder::AppendLogLine(std::string& out, WallTime time, std::string_view path_json,
                                  uint64_t offset, std::string_view message, bool truncated) {
  out += "{\"@timestamp\":\"";
  out += Timestamp(time);
  out += '"';
  out += prefix_;
  out += ",\"path\":";
  out += path_json;
  out += ",\"offset\":";
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, offset);
  out.append(digits, r.ptr);
  out += ",\"message\":";
  AppendJsonString(out, message);
  if (truncated) out += ",\"truncated\":true";
  out += suffix_;
  out += "}\n";
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

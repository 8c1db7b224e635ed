// The otlp output; see otlp.h and docs/outputs.md#otlp.
//
// OTLP's JSON encoding is the protobuf JSON mapping with OTLP's own rules: keys in
// lowerCamelCase, 64-bit integers (times, intValue) as decimal strings, enums
// (severityNumber) as integers, fields at their default value left out.
#include "ship/outputs/otlp.h"

#include <array>
#include <cctype>
#include <limits>
#include <optional>
#include <string_view>

#include "ship/outputs/reencode.h"

namespace outpost {
namespace {

using nlohmann::json;

// Level words and their OTLP SeverityNumber (TRACE 1, DEBUG 5, INFO 9, INFO2 10, WARN 13,
// ERROR 17, FATAL 21). high/medium/low are the severities of device checks; they count
// only in a record's field, never as a word in a message.
struct LevelWord {
  std::string_view word;  // lower case
  int number;
  bool in_messages;
};
constexpr std::array<LevelWord, 14> kLevelWords = {{
    {"trace", 1, true},
    {"debug", 5, true},
    {"info", 9, true},
    {"notice", 10, true},
    {"warn", 13, true},
    {"warning", 13, true},
    {"err", 17, true},
    {"error", 17, true},
    {"crit", 21, true},
    {"critical", 21, true},
    {"fatal", 21, true},
    {"high", 17, false},
    {"medium", 13, false},
    {"low", 9, false},
}};

// Only words starting in a message's first bytes count: that is where a logger puts
// the level, after a time stamp; later words are the text ("... returned ERROR 5").
constexpr size_t kLevelScanBytes = 80;

struct Severity {
  int number = 0;    // 0: SEVERITY_NUMBER_UNSPECIFIED, left out of the JSON
  std::string text;  // as the record spelled it
};

// The SeverityNumber of `word` (any case), or 0 when it is not a level word.
int LevelNumber(std::string_view word, bool in_message) {
  if (word.size() > 8) return 0;
  std::string lower(word);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const LevelWord& l : kLevelWords)
    if (l.word == lower && (l.in_messages || !in_message)) return l.number;
  return 0;
}

bool IsWordByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || u >= 0x80;
}

// The first upper-case level word that is a whole token ("INFO", "[ERROR]", "WARN:"),
// not part of one ("INFORMATION", "ERROR_CODE"), among the message's first bytes.
std::optional<Severity> MessageSeverity(std::string_view message) {
  size_t i = 0;
  while (i < message.size() && i < kLevelScanBytes) {
    if (!IsWordByte(message[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < message.size() && IsWordByte(message[end])) ++end;
    const std::string_view token = message.substr(i, end - i);
    bool upper = true;
    for (char c : token) upper = upper && std::isupper(static_cast<unsigned char>(c));
    if (upper)
      if (const int n = LevelNumber(token, /*in_message=*/true); n != 0)
        return Severity{n, std::string(token)};
    i = end;
  }
  return std::nullopt;
}

// From a `severity` or `level` field when the record has one (its text is kept even
// when it is not a known word), else from the message, else none.
Severity RecordSeverity(const json& record) {
  for (const char* field : {"severity", "level"}) {
    auto it = record.find(field);
    if (it != record.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
      const std::string& text = it->get_ref<const std::string&>();
      return Severity{LevelNumber(text, /*in_message=*/false), text};
    }
  }
  auto message = record.find("message");
  if (message != record.end() && message->is_string())
    if (auto s = MessageSeverity(message->get_ref<const std::string&>())) return *s;
  return Severity{};
}

// An OTLP AnyValue. JSON null (never in a record outpost wrote) is the empty AnyValue.
json AnyValue(const json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return json::object({{"stringValue", v}});
    case json::value_t::boolean:
      return json::object({{"boolValue", v}});
    case json::value_t::number_integer:
      return json::object({{"intValue", std::to_string(v.get<int64_t>())}});
    case json::value_t::number_unsigned: {
      const auto u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return json::object({{"stringValue", std::to_string(u)}});  // beyond int64
      return json::object({{"intValue", std::to_string(u)}});
    }
    case json::value_t::number_float:
      return json::object({{"doubleValue", v}});
    case json::value_t::array: {
      json values = json::array();
      for (const json& e : v) values.push_back(AnyValue(e));
      return json::object({{"arrayValue", json::object({{"values", std::move(values)}})}});
    }
    case json::value_t::object: {
      json values = json::array();
      for (auto it = v.begin(); it != v.end(); ++it)
        values.push_back(json::object({{"key", it.key()}, {"value", AnyValue(it.value())}}));
      return json::object({{"kvlistValue", json::object({{"values", std::move(values)}})}});
    }
    default:
      return json::object();
  }
}

json KeyValue(std::string key, const json& value) {
  return json::object({{"key", std::move(key)}, {"value", AnyValue(value)}});
}

// The attribute key of a record field: a semantic-convention name where OpenTelemetry
// (or the Collector's filelog receiver) has one, "outpost.*" for outpost's own common
// fields, the field's own name for static fields and check results.
std::string AttributeKey(const std::string& field) {
  if (field == "path") return "log.file.path";
  if (field == "offset") return "log.file.record_offset";
  if (field == "stream" || field == "source" || field == "agent_id" || field == "truncated")
    return "outpost." + field;
  return field;
}

std::string OsType(const std::string& os) { return os == "macos" ? "darwin" : os; }

json OtlpLogRecord(std::string_view line, int64_t fallback_ns) {
  const json record = ParseRecord(line);
  const std::string time = std::to_string(RecordTimeNanos(record, fallback_ns));
  json out = json::object({{"timeUnixNano", time}, {"observedTimeUnixNano", time}});
  const Severity severity = RecordSeverity(record);
  if (severity.number != 0) out["severityNumber"] = severity.number;
  if (!severity.text.empty()) out["severityText"] = severity.text;
  auto message = record.find("message");
  out["body"] = message != record.end() ? AnyValue(*message)
                                        : json::object({{"stringValue", std::string(line)}});
  json attributes = json::array();
  for (auto it = record.begin(); it != record.end(); ++it) {
    if (it.key() == "@timestamp" || it.key() == "message" || it.key() == "host") continue;
    attributes.push_back(KeyValue(AttributeKey(it.key()), it.value()));
  }
  out["attributes"] = std::move(attributes);
  return out;
}

}  // namespace

Result<HttpRequest> OtlpOutput::Encode(const StoredChunk& chunk) {
  Result<ChunkRecords> records = ReadChunkRecords(chunk);
  if (!records.ok()) return records.status();
  const int64_t fallback_ns = chunk.chunk.created_at_ms * 1000000;
  json log_records = json::array();
  for (std::string_view line : records->lines)
    log_records.push_back(OtlpLogRecord(line, fallback_ns));

  json resource_attributes =
      json::array({KeyValue("host.name", context_.host), KeyValue("service.name", "outpost")});
  if (!context_.version.empty())
    resource_attributes.push_back(KeyValue("service.version", context_.version));
  if (!context_.os.empty()) resource_attributes.push_back(KeyValue("os.type", OsType(context_.os)));
  json scope = json::object({{"name", "outpost"}});
  if (!context_.version.empty()) scope["version"] = context_.version;
  json scope_logs =
      json::object({{"scope", std::move(scope)}, {"logRecords", std::move(log_records)}});
  json resource_logs =
      json::object({{"resource", json::object({{"attributes", std::move(resource_attributes)}})},
                    {"scopeLogs", json::array({std::move(scope_logs)})}});
  const json request = json::object({{"resourceLogs", json::array({std::move(resource_logs)})}});

  HttpRequest r;
  r.tag = static_cast<uint64_t>(chunk.id);
  r.url = EndpointUrl(context_.endpoint, "/v1/logs");
  r.headers = {{"Content-Type", "application/json"},
               {"Idempotency-Key", IdempotencyKey(context_.agent_id, chunk.id)}};
  if (Status s = SetBody(context_.config.compression, DumpJson(request), r); !s.ok()) return s;
  return r;
}

}  // namespace outpost

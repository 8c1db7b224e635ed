// The loki output; see loki.h and docs/outputs.md#loki.
//
// Body: {"streams":[{"stream":{<labels>},"values":[["<unix ns>","<line>"], ...]}, ...]}.
// Streams are in the order of their first record, each stream's values in record order.
#include "ship/outputs/loki.h"

#include <map>

#include "ship/outputs/reencode.h"

namespace outpost {
namespace {

using nlohmann::json;

// A Loki label name matches [a-zA-Z_][a-zA-Z0-9_]*: every other character becomes '_',
// and a name starting with a digit gets a leading '_' ("k8s.pod" -> "k8s_pod",
// "1x" -> "_1x").
std::string LabelName(const std::string& field) {
  std::string name;
  if (!field.empty() && field[0] >= '0' && field[0] <= '9') name = "_";
  for (char c : field) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    name += ok ? c : '_';
  }
  return name;
}

// A label value is text: strings as they are, other JSON values as their JSON text.
std::string LabelValue(const json& v) { return v.is_string() ? v.get<std::string>() : DumpJson(v); }

// Fields that never become labels: one value per line would make a stream per line.
bool NeverLabel(const std::string& field) {
  return field == "message" || field == "offset" || field == "@timestamp";
}

}  // namespace

Result<HttpRequest> LokiOutput::Encode(const StoredChunk& chunk) {
  Result<ChunkRecords> records = ReadChunkRecords(chunk);
  if (!records.ok()) return records.status();
  const int64_t fallback_ns = chunk.chunk.created_at_ms * 1000000;

  json streams = json::array();
  std::map<std::string, size_t> stream_of_labels;  // labels as JSON text -> index in streams
  for (std::string_view line : records->lines) {
    const json record = ParseRecord(line);
    const auto text = [&](const char* field, const std::string& fallback) {
      auto it = record.find(field);
      return it != record.end() ? LabelValue(*it) : fallback;
    };
    json labels = json::object();
    labels["stream"] = text("stream", chunk.chunk.stream);
    labels["host"] = text("host", context_.host);
    if (std::string source = text("source", ""); !source.empty()) labels["source"] = source;
    for (const std::string& field : context_.config.labels) {
      auto it = record.find(field);
      if (it == record.end() || NeverLabel(field)) continue;
      const std::string name = LabelName(field);
      std::string value = LabelValue(*it);
      // The first of two fields with one label name wins; an empty value is no label.
      if (!labels.contains(name) && !value.empty()) labels[name] = std::move(value);
    }

    auto message = record.find("message");
    std::string entry_line = message == record.end() ? std::string(line)
                             : message->is_string()  ? message->get<std::string>()
                                                     : DumpJson(*message);
    json value =
        json::array({std::to_string(RecordTimeNanos(record, fallback_ns)), std::move(entry_line)});

    auto [it, added] = stream_of_labels.emplace(DumpJson(labels), streams.size());
    if (added)
      streams.push_back(json::object({{"stream", std::move(labels)}, {"values", json::array()}}));
    streams[it->second]["values"].push_back(std::move(value));
  }

  HttpRequest r;
  r.tag = static_cast<uint64_t>(chunk.id);
  r.url = EndpointUrl(context_.endpoint, "/loki/api/v1/push");
  r.headers = {{"Content-Type", "application/json"},
               {"Idempotency-Key", IdempotencyKey(context_.agent_id, chunk.id)}};
  const json body = json::object({{"streams", std::move(streams)}});
  if (Status s = SetBody(context_.config.compression, DumpJson(body), r); !s.ok()) return s;
  return r;
}

}  // namespace outpost

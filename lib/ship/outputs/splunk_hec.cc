// The splunk_hec output; see splunk_hec.h and docs/outputs.md.
#include "ship/outputs/splunk_hec.h"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ship/outputs/reencode.h"

namespace outpost {
namespace {

constexpr std::string_view kDefaultPath = "/services/collector/event";
constexpr std::string_view kDefaultSourcetype = "_json";
constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

// Seconds since the epoch with exactly 3 decimals ("1795604292.212"), written as text
// so that no binary floating point rounding shows in the request.
std::string EpochSeconds(int64_t ns) {
  const int64_t ms = ns / 1000000;  // toward zero; the sign is written on its own
  const uint64_t abs_ms = ms < 0 ? static_cast<uint64_t>(-ms) : static_cast<uint64_t>(ms);
  std::string frac = std::to_string(abs_ms % 1000);
  frac.insert(0, 3 - frac.size(), '0');
  return (ms < 0 ? "-" : "") + std::to_string(abs_ms / 1000) + "." + frac;
}

// The record's string field `key`, or `fallback` when it is absent, empty or not a string.
std::string StringField(const nlohmann::json& record, const char* key,
                        const std::string& fallback) {
  auto it = record.find(key);
  if (it == record.end() || !it->is_string() || it->get_ref<const std::string&>().empty())
    return fallback;
  return it->get<std::string>();
}

// The event's "event" member: the line itself when it is the record (every record outpost
// writes parses as a JSON object), else the record ParseRecord made of it.
std::string EventText(std::string_view line, const nlohmann::json& record) {
  // ParseRecord's fallback for a non-object line is {"message": <the line>}; a real
  // record cannot hold its own text as its message.
  auto message = record.find("message");
  const bool fallback = record.size() == 1 && message != record.end() && message->is_string() &&
                        message->get_ref<const std::string&>() == line;
  return fallback ? DumpJson(record) : std::string(line);
}

}  // namespace

Result<HttpRequest> SplunkHecOutput::Encode(const StoredChunk& chunk) {
  Result<ChunkRecords> records = ReadChunkRecords(chunk);
  if (!records.ok()) return records.status();

  // Members that are the same for every event of the chunk.
  const std::string sourcetype =
      DumpJson(context_.config.sourcetype.empty() ? std::string(kDefaultSourcetype)
                                                  : context_.config.sourcetype);
  const std::string index =
      context_.config.index.empty() ? "" : ",\"index\":" + DumpJson(context_.config.index);

  std::string body;
  body.reserve(records->text->size() * 3 / 2 + records->lines.size() * 128);
  for (size_t n = 0; n < records->lines.size(); ++n) {
    const std::string_view line = records->lines[n];
    const nlohmann::json record = ParseRecord(line);
    const std::string stream = StringField(record, "stream", chunk.chunk.stream);
    if (n > 0) body += '\n';
    body += '{';
    // No @timestamp: no "time", and Splunk uses the time it receives the event.
    if (const int64_t ns = RecordTimeNanos(record, kNoTime); ns != kNoTime)
      body += "\"time\":" + EpochSeconds(ns) + ",";
    body += "\"host\":" + DumpJson(StringField(record, "host", context_.host));
    body += ",\"source\":" + DumpJson(StringField(record, "path", stream));
    body += ",\"sourcetype\":" + sourcetype;
    body += index;
    body += ",\"event\":" + EventText(line, record);
    // Indexed fields: HEC takes only strings (or arrays of strings) here.
    body += ",\"fields\":{\"stream\":" + DumpJson(stream) +
            ",\"agent_id\":" + DumpJson(StringField(record, "agent_id", context_.agent_id)) + "}}";
  }

  HttpRequest r;
  r.tag = static_cast<uint64_t>(chunk.id);
  r.url = EndpointUrl(context_.endpoint, kDefaultPath);
  r.headers = {{"Content-Type", "application/json"},
               {"Idempotency-Key", IdempotencyKey(context_.agent_id, chunk.id)}};
  if (!context_.token.empty()) r.headers.emplace_back("Authorization", "Splunk " + context_.token);
  // A channel, so that a token with indexer acknowledgement turned on accepts the
  // events too (without one it answers 400, code 10, and every chunk would be
  // dead-lettered). The agent id (32 hex digits) in GUID form: one channel per agent.
  if (context_.agent_id.size() == 32) {
    const std::string& a = context_.agent_id;
    r.headers.emplace_back("X-Splunk-Request-Channel", a.substr(0, 8) + "-" + a.substr(8, 4) + "-" +
                                                           a.substr(12, 4) + "-" + a.substr(16, 4) +
                                                           "-" + a.substr(20));
  }
  Status st = SetBody(context_.config.compression, std::move(body), r);
  if (!st.ok()) return st;
  return r;
}

}  // namespace outpost

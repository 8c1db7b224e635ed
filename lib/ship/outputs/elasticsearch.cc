// The elasticsearch output; see elasticsearch.h and docs/outputs.md.
#include "ship/outputs/elasticsearch.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ship/outputs/reencode.h"

namespace outpost {
namespace {

constexpr std::string_view kDefaultPath = "/_bulk";
constexpr std::string_view kDefaultIndex = "outpost";
// Only what ReadAnswer reads: the "errors" flag and each item's status and error.
// Elasticsearch and OpenSearch both take filter_path on every REST call.
constexpr std::string_view kFilterPath =
    "filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason";

// The document for a record: the line itself when it is a JSON object on one line (every
// record outpost writes is), else the record as ParseRecord keeps it. An empty or
// non-object line sent as is would break the action/document pairing of _bulk.
std::string Document(std::string_view line) {
  if (line.size() >= 2 && line.front() == '{' && line.back() == '}') return std::string(line);
  return DumpJson(ParseRecord(line));
}

// `text` with control characters blanked and cut to at most `max` bytes, on a UTF-8
// character boundary: safe for a status line and the log.
std::string Printable(std::string text, size_t max) {
  for (char& c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) c = ' ';
  }
  if (text.size() <= max) return text;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return text + "...";
}

std::string JsonText(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : DumpJson(value);
}

// "type: reason" of an item's error, or its status when it has none.
std::string ItemReason(const nlohmann::json& result, int64_t status) {
  auto error = result.find("error");
  if (error == result.end() || error->is_null()) return "status " + std::to_string(status);
  if (!error->is_object()) return Printable(JsonText(*error), ElasticsearchOutput::kMaxReasonBytes);
  std::string text;
  if (auto type = error->find("type"); type != error->end()) text = JsonText(*type);
  if (auto reason = error->find("reason"); reason != error->end() && !reason->is_null())
    text += (text.empty() ? "" : ": ") + JsonText(*reason);
  if (text.empty()) text = "status " + std::to_string(status);
  return Printable(std::move(text), ElasticsearchOutput::kMaxReasonBytes);
}

}  // namespace

std::string ElasticsearchOutput::Url() const {
  // A query of the endpoint's own (?pipeline=...) is kept, after the path.
  std::string endpoint = context_.endpoint;
  std::string query;
  if (const size_t q = endpoint.find('?'); q != std::string::npos) {
    query = endpoint.substr(q + 1);
    endpoint.resize(q);
  }
  std::string url = EndpointUrl(endpoint, kDefaultPath);
  const bool own_filter = ("&" + query).find("&filter_path=") != std::string::npos;
  if (!own_filter) {
    if (!query.empty()) query += '&';
    query += kFilterPath;
  }
  return url + "?" + query;
}

Result<HttpRequest> ElasticsearchOutput::Encode(const StoredChunk& chunk) {
  Result<ChunkRecords> records = ReadChunkRecords(chunk);
  if (!records.ok()) return records.status();

  const std::string index =
      context_.config.index.empty() ? std::string(kDefaultIndex) : context_.config.index;
  // {"create":{"_index":<index>,"_id":"<agent_id>-<chunk_id>-
  const std::string action_head = "{\"create\":{\"_index\":" + DumpJson(index) + ",\"_id\":";
  const std::string id_prefix = context_.agent_id + "-" + std::to_string(chunk.id) + "-";

  std::string body;
  body.reserve(records->text->size() + records->lines.size() * (action_head.size() + 64));
  for (size_t n = 0; n < records->lines.size(); ++n) {
    body += action_head;
    body += DumpJson(id_prefix + std::to_string(n));
    body += "}}\n";
    body += Document(records->lines[n]);
    body += '\n';  // _bulk wants a newline after the last line too
  }

  HttpRequest r;
  r.tag = static_cast<uint64_t>(chunk.id);
  r.url = Url();
  r.headers = {{"Content-Type", "application/x-ndjson"},
               {"Idempotency-Key", IdempotencyKey(context_.agent_id, chunk.id)}};
  r.keep_body_bytes =
      std::max(kMinAnswerBytes, static_cast<size_t>(chunk.chunk.records) * kAnswerBytesPerRecord);
  Status st = SetBody(context_.config.compression, std::move(body), r);
  if (!st.ok()) return st;
  return r;
}

Result<RecordFailures> ElasticsearchOutput::ReadAnswer(const HttpResponse& response,
                                                       const StoredChunk& chunk) {
  if (response.body_cut)
    return Corrupt("the _bulk answer is longer than the " +
                   std::to_string(response.keep_body_bytes) + " bytes kept");
  const nlohmann::json answer =
      nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!answer.is_object()) return Corrupt("the _bulk answer is not a JSON object");

  // Fast path: nothing failed.
  if (auto errors = answer.find("errors"); errors != answer.end() && *errors == false)
    return RecordFailures{};

  auto items = answer.find("items");
  if (items == answer.end() || !items->is_array())
    return Corrupt("the _bulk answer reports errors but has no items");
  if (items->size() != chunk.chunk.records)
    return Corrupt("the _bulk answer has " + std::to_string(items->size()) + " items for " +
                   std::to_string(chunk.chunk.records) + " records");

  RecordFailures failures;
  for (size_t i = 0; i < items->size(); ++i) {
    // {"<op>":{"status":N,"error":{...}}}: one key, the action's name.
    const nlohmann::json& item = (*items)[i];
    if (!item.is_object() || item.size() != 1 || !item.begin()->is_object())
      return Corrupt("_bulk item " + std::to_string(i) + " is not an action result");
    const nlohmann::json& result = *item.begin();
    auto status_it = result.find("status");
    if (status_it == result.end() || !status_it->is_number_integer())
      return Corrupt("_bulk item " + std::to_string(i) + " has no status");
    const int64_t status = status_it->get<int64_t>();
    // 409 for `create`: the document exists, sent by an earlier attempt.
    if ((status >= 200 && status < 300) || status == 409) continue;
    const auto index = static_cast<uint32_t>(i);
    if (status == 429 || status >= 500) {
      failures.retry.push_back(index);
      if (failures.retry_reason.empty()) failures.retry_reason = ItemReason(result, status);
    } else {
      failures.dead.push_back(index);
      if (failures.dead_reason.empty()) failures.dead_reason = ItemReason(result, status);
    }
  }
  return failures;
}

}  // namespace outpost

// Shared by the outputs that re-encode a chunk (otlp, loki, elasticsearch,
// splunk_hec): the chunk's records decompressed and parsed, timestamps, the request
// body's compression and the request URL. The native output needs none of it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "buffer/buffer_store.h"
#include "config/config.h"
#include "ship/http_client.h"
#include "util/status.h"

namespace outpost {

// The records of a chunk: its NDJSON body decompressed and split into lines (each
// without its '\n'). `lines` point into the text, which lives on the heap so that
// moving the struct keeps them valid; keep the struct alive while using them.
struct ChunkRecords {
  std::unique_ptr<const std::string> text;
  std::vector<std::string_view> lines;
};

// Decompresses the chunk (bounded by its raw size) and splits it into lines. Errors:
// a body that is not ndjson/zstd or does not decompress (kCorrupt), or a record count
// that differs from the stored one (kCorrupt): the shipper dead-letters such a chunk.
Result<ChunkRecords> ReadChunkRecords(const StoredChunk& chunk);

// One record parsed. A line that is not a JSON object (it cannot happen for records
// outpost wrote) yields an object {"message": <the line as text>} so nothing is lost.
nlohmann::json ParseRecord(std::string_view line);

// Nanoseconds since the Unix epoch of an RFC 3339 time such as
// "2026-11-25T10:58:12.212Z" or "2026-11-25T12:58:12.212+02:00"; nullopt when the text
// is not one.
std::optional<int64_t> ParseRfc3339Nanos(std::string_view text);

// The record's "@timestamp" in ns since the epoch, or `fallback_ns` when absent or not
// RFC 3339.
int64_t RecordTimeNanos(const nlohmann::json& record, int64_t fallback_ns);

// Serialises JSON for a request body: compact, invalid UTF-8 replaced (records are
// valid UTF-8 already, so this never changes a record outpost wrote).
std::string DumpJson(const nlohmann::json& value);

// Sets request.body to `raw` compressed as `compression` says and adds the matching
// Content-Encoding header (none for Compression::kNone; kAuto means gzip).
Status SetBody(Compression compression, std::string raw, HttpRequest& request);

// The URL to POST to: `endpoint` itself when it has a path beyond "/", otherwise
// `endpoint` + `default_path` ("https://loki:3100" -> "https://loki:3100/loki/api/v1/push").
std::string EndpointUrl(const std::string& endpoint, std::string_view default_path);

}  // namespace outpost

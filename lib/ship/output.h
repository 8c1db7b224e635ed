// Output: turns one stored chunk into the HTTP request an ingest endpoint expects.
//
// An output knows only its protocol (URL path, headers, body encoding); retries,
// backoff, auth, TLS and proxies live once, in the shipper and the transport. Every
// request carries Idempotency-Key: <agent_id>-<chunk_id>. One file per output in
// lib/ship/outputs/, one line per output in MakeOutput (output.cc).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "buffer/buffer_store.h"
#include "config/config.h"
#include "ship/http_client.h"
#include "util/status.h"

namespace outpost {

struct OutputContext {
  std::string endpoint;  // [output] endpoint
  std::string agent_id;
  std::string host;
  std::string os;       // "linux", "windows", "macos"
  std::string version;  // outpost's version
  std::string token;    // secret; only for outputs with bearer_auth() false
  OutputConfig config;  // compression, index, labels, sourcetype, ...
};

// What a 2xx answer said about single records, for protocols that answer per record
// (Elasticsearch _bulk). Indices are record positions in the chunk, 0-based, ascending.
// Records in neither list were delivered.
struct RecordFailures {
  std::vector<uint32_t> retry;  // refused for now (429, 5xx): sent again later
  std::vector<uint32_t> dead;   // refused for good (a mapping error): dead-lettered
  std::string retry_reason;     // the first retryable error, for status and the log
  std::string dead_reason;      // the first permanent error
  bool empty() const { return retry.empty() && dead.empty(); }
};

class Output {
 public:
  virtual ~Output() = default;
  virtual std::string_view name() const = 0;
  // The request for `chunk` (its tag is the chunk id). An error means the chunk itself
  // cannot be sent (corrupt body): the shipper dead-letters it.
  virtual Result<HttpRequest> Encode(const StoredChunk& chunk) = 0;

  // Whether the transport adds "Authorization: Bearer <token>". An output with its own
  // scheme (Splunk HEC: "Splunk <token>") returns false and sets the header itself
  // from OutputContext::token.
  virtual bool bearer_auth() const { return true; }

  // For a 2xx answer to Encode(chunk)'s request: the records it refused. The default,
  // for protocols that accept or refuse a request as a whole, is none. An error means
  // the answer could not be read (garbage from the server): the chunk is retried.
  virtual Result<RecordFailures> ReadAnswer(const HttpResponse& response,
                                            const StoredChunk& chunk) {
    (void)response;
    (void)chunk;
    return RecordFailures{};
  }
};

// "<agent_id>-<chunk_id>"
std::string IdempotencyKey(const std::string& agent_id, int64_t chunk_id);

// The output that context.config.type names.
Result<std::unique_ptr<Output>> MakeOutput(const OutputContext& context);

}  // namespace outpost

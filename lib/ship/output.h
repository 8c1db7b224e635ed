// Output: turns one stored chunk into the HTTP request an ingest endpoint expects.
//
// An output knows only its protocol (URL path, headers, body encoding); retries,
// backoff, auth, TLS and proxies live once, in the shipper and the transport. Every
// request carries Idempotency-Key: <agent_id>-<chunk_id>. One file per output in
// lib/ship/outputs/, one line per output in MakeOutput (output.cc).
#pragma once

#include <memory>
#include <string>

#include "buffer/buffer_store.h"
#include "config/config.h"
#include "ship/http_client.h"
#include "util/status.h"

namespace outpost {

struct OutputContext {
  std::string endpoint;  // [output] endpoint
  std::string agent_id;
  std::string host;
  std::string os;
};

class Output {
 public:
  virtual ~Output() = default;
  virtual std::string_view name() const = 0;
  // The request for `chunk` (its tag is the chunk id). An error means the chunk itself
  // cannot be sent (corrupt body): the shipper dead-letters it.
  virtual Result<HttpRequest> Encode(const StoredChunk& chunk) = 0;
};

// "<agent_id>-<chunk_id>"
std::string IdempotencyKey(const std::string& agent_id, int64_t chunk_id);

// The output [output] type names, or kUnsupported for one not built yet.
Result<std::unique_ptr<Output>> MakeOutput(const OutputConfig& config,
                                           const OutputContext& context);

}  // namespace outpost

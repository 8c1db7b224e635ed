// The native output; see native.h and docs/records.md.
#include "ship/outputs/native.h"

namespace outpost {

Result<HttpRequest> NativeOutput::Encode(const StoredChunk& chunk) {
  if (chunk.chunk.codec != "zstd" || chunk.chunk.format != "ndjson")
    return InvalidArgument("chunk " + std::to_string(chunk.id) + " is " + chunk.chunk.format + "/" +
                           chunk.chunk.codec + ", not ndjson/zstd");
  HttpRequest r;
  r.tag = static_cast<uint64_t>(chunk.id);
  r.url = context_.endpoint;
  r.headers = {{"Content-Type", "application/x-ndjson"},
               {"Content-Encoding", "zstd"},
               {"Idempotency-Key", IdempotencyKey(context_.agent_id, chunk.id)},
               {"X-Outpost-Stream", chunk.chunk.stream},
               {"X-Outpost-Records", std::to_string(chunk.chunk.records)}};
  r.body = chunk.chunk.body;
  return r;
}

}  // namespace outpost

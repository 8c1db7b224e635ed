// The elasticsearch output: a chunk as one Elasticsearch / OpenSearch _bulk request.
//
// Every record becomes a `create` action with a deterministic _id,
// "<agent_id>-<chunk_id>-<n>" (n: the record's position in the chunk, from 0), followed
// by the record line itself as the document (it is a JSON object with @timestamp, which
// is what a data stream needs). Because the _id is derived from the chunk, sending a
// chunk again after a lost answer creates nothing twice: the cluster answers 409
// version_conflict for a document it already has, and that counts as delivered.
//
// _bulk answers 200 for the request and a status per item; ReadAnswer maps them to
// records: 2xx and 409 delivered, 429 and 5xx retried, anything else dead-lettered.
// The URL asks for a filtered answer (filter_path) so that it stays small.
// See docs/outputs.md "elasticsearch".
#pragma once

#include <cstddef>

#include "ship/output.h"

namespace outpost {

class ElasticsearchOutput final : public Output {
 public:
  // The answer body kept for ReadAnswer: at least this many bytes ...
  static constexpr size_t kMinAnswerBytes = size_t{8} << 20;
  // ... or this many per record when that is more (a resend answers every record
  // with a 409 error object of roughly 200 bytes).
  static constexpr size_t kAnswerBytesPerRecord = 512;
  // At most this many bytes of a reason are kept for the status and the log.
  static constexpr size_t kMaxReasonBytes = 200;

  explicit ElasticsearchOutput(OutputContext context) : context_(std::move(context)) {}
  std::string_view name() const override { return "elasticsearch"; }

  // POST <endpoint>/_bulk?filter_path=... (an endpoint with a path of its own, such as
  // https://es/logs/_bulk, keeps it, and its query). Errors: the chunk's records cannot
  // be read (kCorrupt, from ReadChunkRecords), compression failed.
  Result<HttpRequest> Encode(const StoredChunk& chunk) override;

  // Reads the per-item statuses of a 2xx _bulk answer; item i is record i. Errors (the
  // shipper retries the whole chunk, which the _ids make harmless): a cut or non-JSON
  // body, "errors" not false without an "items" array, an item count that is not the
  // chunk's record count, an item without a status.
  Result<RecordFailures> ReadAnswer(const HttpResponse& response,
                                    const StoredChunk& chunk) override;

 private:
  std::string Url() const;

  OutputContext context_;
};

}  // namespace outpost

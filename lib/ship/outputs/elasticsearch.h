// The elasticsearch output: Elasticsearch / OpenSearch _bulk NDJSON. SKELETON: being written.
#pragma once

#include "ship/output.h"

namespace outpost {

class ElasticsearchOutput final : public Output {
 public:
  explicit ElasticsearchOutput(OutputContext context) : context_(std::move(context)) {}
  std::string_view name() const override { return "elasticsearch"; }
  Result<HttpRequest> Encode(const StoredChunk& chunk) override;

 private:
  OutputContext context_;
};

}  // namespace outpost

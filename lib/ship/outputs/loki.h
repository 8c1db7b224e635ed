// The loki output: Loki push API JSON (/loki/api/v1/push). SKELETON: being written.
#pragma once

#include "ship/output.h"

namespace outpost {

class LokiOutput final : public Output {
 public:
  explicit LokiOutput(OutputContext context) : context_(std::move(context)) {}
  std::string_view name() const override { return "loki"; }
  Result<HttpRequest> Encode(const StoredChunk& chunk) override;

 private:
  OutputContext context_;
};

}  // namespace outpost

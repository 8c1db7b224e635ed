// The otlp output: OTLP/HTTP JSON logs (/v1/logs). SKELETON: being written.
#pragma once

#include "ship/output.h"

namespace outpost {

class OtlpOutput final : public Output {
 public:
  explicit OtlpOutput(OutputContext context) : context_(std::move(context)) {}
  std::string_view name() const override { return "otlp"; }
  Result<HttpRequest> Encode(const StoredChunk& chunk) override;

 private:
  OutputContext context_;
};

}  // namespace outpost

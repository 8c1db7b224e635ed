// The splunk_hec output: Splunk HTTP Event Collector (/services/collector/event). SKELETON: being
// written.
#pragma once

#include "ship/output.h"

namespace outpost {

class SplunkHecOutput final : public Output {
 public:
  explicit SplunkHecOutput(OutputContext context) : context_(std::move(context)) {}
  std::string_view name() const override { return "splunk_hec"; }
  Result<HttpRequest> Encode(const StoredChunk& chunk) override;

 private:
  OutputContext context_;
};

}  // namespace outpost

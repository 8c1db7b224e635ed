// The output registry: one explicit line per output (STYLE.md rule 17).
#include "ship/output.h"

#include "ship/outputs/native.h"

namespace outpost {

std::string IdempotencyKey(const std::string& agent_id, int64_t chunk_id) {
  return agent_id + "-" + std::to_string(chunk_id);
}

Result<std::unique_ptr<Output>> MakeOutput(const OutputConfig& config,
                                           const OutputContext& context) {
  switch (config.type) {
    case OutputType::kNative:
      return std::unique_ptr<Output>(std::make_unique<NativeOutput>(context));
    case OutputType::kOtlp:
    case OutputType::kLoki:
    case OutputType::kElasticsearch:
    case OutputType::kSplunkHec:
      break;
  }
  return Unsupported(
      "this build ships with output type \"native\" only; otlp, loki, elasticsearch and "
      "splunk_hec are not available yet (set [output] type = \"native\")");
}

}  // namespace outpost

// The output registry: one explicit line per output (STYLE.md rule 17).
#include "ship/output.h"

#include "ship/outputs/elasticsearch.h"
#include "ship/outputs/loki.h"
#include "ship/outputs/native.h"
#include "ship/outputs/otlp.h"
#include "ship/outputs/splunk_hec.h"

namespace outpost {

std::string IdempotencyKey(const std::string& agent_id, int64_t chunk_id) {
  return agent_id + "-" + std::to_string(chunk_id);
}

Result<std::unique_ptr<Output>> MakeOutput(const OutputContext& context) {
  switch (context.config.type) {
    case OutputType::kNative:
      return std::unique_ptr<Output>(std::make_unique<NativeOutput>(context));
    case OutputType::kOtlp:
      return std::unique_ptr<Output>(std::make_unique<OtlpOutput>(context));
    case OutputType::kLoki:
      return std::unique_ptr<Output>(std::make_unique<LokiOutput>(context));
    case OutputType::kElasticsearch:
      return std::unique_ptr<Output>(std::make_unique<ElasticsearchOutput>(context));
    case OutputType::kSplunkHec:
      return std::unique_ptr<Output>(std::make_unique<SplunkHecOutput>(context));
  }
  return InvalidArgument("unknown output type");
}

}  // namespace outpost

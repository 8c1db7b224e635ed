// The otlp output: each chunk becomes one OTLP/HTTP JSON ExportLogsServiceRequest,
// POSTed to <endpoint>/v1/logs (an OpenTelemetry Collector, or any backend that takes
// OTLP logs over HTTP with JSON bodies).
//
// The agent (host, OS, version) is the resource; each record is one LogRecord whose body
// is the message and whose attributes are the record's other fields, with OpenTelemetry
// semantic-convention names where one exists. The mapping, including how a severity is
// found, is documented in docs/outputs.md#otlp; the tests compare against fixtures of it.
#pragma once

#include "ship/output.h"

namespace outpost {

class OtlpOutput final : public Output {
 public:
  explicit OtlpOutput(OutputContext context) : context_(std::move(context)) {}
  std::string_view name() const override { return "otlp"; }
  // Thread-compatible (no shared state). Errors: a chunk that does not decompress or
  // whose record count is wrong (kCorrupt), a body that does not compress.
  Result<HttpRequest> Encode(const StoredChunk& chunk) override;

 private:
  OutputContext context_;
};

}  // namespace outpost

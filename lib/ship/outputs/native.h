// The native output: the stored chunk is the request body, as is (NDJSON compressed
// with zstd), POSTed to the endpoint. No decompression, no re-encoding on this path.
#pragma once

#include "ship/output.h"

namespace outpost {

class NativeOutput final : public Output {
 public:
  explicit NativeOutput(OutputContext context) : context_(std::move(context)) {}
  std::string_view name() const override { return "native"; }
  Result<HttpRequest> Encode(const StoredChunk& chunk) override;

 private:
  OutputContext context_;
};

}  // namespace outpost

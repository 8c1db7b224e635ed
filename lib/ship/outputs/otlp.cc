// The otlp output; see otlp.h.
#include "ship/outputs/otlp.h"

namespace outpost {

Result<HttpRequest> OtlpOutput::Encode(const StoredChunk& chunk) {
  (void)chunk;
  return Unsupported("the otlp output is not written yet");
}

}  // namespace outpost

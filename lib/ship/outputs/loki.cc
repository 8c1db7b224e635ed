// The loki output; see loki.h.
#include "ship/outputs/loki.h"

namespace outpost {

Result<HttpRequest> LokiOutput::Encode(const StoredChunk& chunk) {
  (void)chunk;
  return Unsupported("the loki output is not written yet");
}

}  // namespace outpost

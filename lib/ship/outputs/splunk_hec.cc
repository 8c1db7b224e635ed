// The splunk_hec output; see splunk_hec.h.
#include "ship/outputs/splunk_hec.h"

namespace outpost {

Result<HttpRequest> SplunkHecOutput::Encode(const StoredChunk& chunk) {
  (void)chunk;
  return Unsupported("the splunk_hec output is not written yet");
}

}  // namespace outpost

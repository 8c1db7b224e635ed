// The elasticsearch output; see elasticsearch.h.
#include "ship/outputs/elasticsearch.h"

namespace outpost {

Result<HttpRequest> ElasticsearchOutput::Encode(const StoredChunk& chunk) {
  (void)chunk;
  return Unsupported("the elasticsearch output is not written yet");
}

}  // namespace outpost

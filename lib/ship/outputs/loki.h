// The loki output: each chunk becomes one Loki push request (JSON), POSTed to
// <endpoint>/loki/api/v1/push.
//
// A record's labels are `stream`, `host`, `source` and the record fields named in
// [output] labels (names made valid for Loki); records with the same labels form one
// Loki stream. The log line is the record's message (a record without one, such as a
// check result, is sent as its JSON text). Other fields (path, offset, ...) are not
// sent: labels must stay few and bounded. See docs/outputs.md#loki.
#pragma once

#include "ship/output.h"

namespace outpost {

class LokiOutput final : public Output {
 public:
  explicit LokiOutput(OutputContext context) : context_(std::move(context)) {}
  std::string_view name() const override { return "loki"; }
  // Thread-compatible (no shared state). Errors: a chunk that does not decompress or
  // whose record count is wrong (kCorrupt), a body that does not compress.
  Result<HttpRequest> Encode(const StoredChunk& chunk) override;

 private:
  OutputContext context_;
};

}  // namespace outpost

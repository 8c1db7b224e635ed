// The splunk_hec output: a chunk as one Splunk HTTP Event Collector request
// (POST /services/collector/event).
//
// Every record becomes one HEC event object; the objects are sent one after the other,
// separated by '\n' (HEC reads stacked JSON objects as a batch):
//
//   {"time":<@timestamp as seconds, 3 decimals>,"host":<host>,"source":<path or stream>,
//    "sourcetype":<sourcetype or "_json">,"index":<index, only when configured>,
//    "event":<the record>,"fields":{"stream":<stream>,"agent_id":<agent_id>}}
//
// HEC authenticates with "Authorization: Splunk <token>", not Bearer: bearer_auth() is
// false and the output sets the header itself. HEC accepts or refuses a request as a
// whole, so the shipper's handling of HTTP statuses is enough (no ReadAnswer).
// See docs/outputs.md "splunk_hec".
#pragma once

#include "ship/output.h"

namespace outpost {

class SplunkHecOutput final : public Output {
 public:
  explicit SplunkHecOutput(OutputContext context) : context_(std::move(context)) {}
  std::string_view name() const override { return "splunk_hec"; }
  bool bearer_auth() const override { return false; }

  // POST <endpoint>/services/collector/event (an endpoint with a path of its own keeps
  // it). Errors: the chunk's records cannot be read (kCorrupt, from ReadChunkRecords),
  // compression failed.
  Result<HttpRequest> Encode(const StoredChunk& chunk) override;

 private:
  OutputContext context_;
};

}  // namespace outpost

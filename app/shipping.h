// The uploader as `run` builds it: transport, output, its own buffer.db connection and
// the Shipper, from the [output] section (app/ builds concrete objects; lib/ gets them).
#pragma once

#include <memory>
#include <string>

#include "buffer/buffer_store.h"
#include "cli.h"
#include "ship/http_client.h"
#include "ship/output.h"
#include "ship/shipper.h"

namespace outpost::app {

struct Shipping {
  std::unique_ptr<BufferStore> store;  // the shipper's own connection
  std::unique_ptr<HttpTransport> transport;
  std::unique_ptr<Output> output;
  std::unique_ptr<Shipper> shipper;
};

// Builds the uploader for config.output (which must be set). Errors name what to fix
// (an unreadable token_file, an output type not built yet, a TLS setting libcurl
// refuses); warnings (plain http, insecure_skip_verify) go to the log at every start.
Result<std::unique_ptr<Shipping>> SetUpShipping(Cli& cli, const Config& config,
                                                const std::string& agent_id,
                                                const std::string& host);

}  // namespace outpost::app

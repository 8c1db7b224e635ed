// gzip (RFC 1952) request bodies for the outputs whose endpoints expect
// Content-Encoding: gzip (Loki, Elasticsearch, Splunk HEC, OTLP). The only file that
// includes zlib.h; zlib is already linked for libcurl.
//
// Both functions are thread-safe and bounded: decompression refuses output larger than
// `max_output`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace outpost {

// One gzip member holding `data`, at zlib `level` (1..9).
Result<std::string> GzipCompress(std::string_view data, int level = 6);

// Decompresses one or more concatenated gzip members; kCorrupt on bad input,
// kInvalidArgument when the output would exceed `max_output` bytes.
Result<std::string> GzipDecompress(std::string_view data, uint64_t max_output);

}  // namespace outpost

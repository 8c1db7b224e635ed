// The libcurl wrapper: the only code that includes curl.h. The uploader's HTTP
// client (multi interface, TLS, proxies) is built on it by the shipper work; for now
// it reports what libcurl this binary carries and with which features.
#pragma once

#include <string>
#include <vector>

namespace outpost {

struct HttpLibraryInfo {
  std::string curl;      // "7.88.1"
  std::string tls;       // "OpenSSL/3.0.19" or "Schannel"
  std::string zlib;      // "1.2.13"
  std::string resolver;  // "c-ares 1.18.1" or "system"
  std::string http2;     // "nghttp2 1.52.0" or "" when absent
  std::vector<std::string> protocols;
};

HttpLibraryInfo GetHttpLibraryInfo();

}  // namespace outpost

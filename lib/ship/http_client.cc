#include "ship/http_client.h"

#include <curl/curl.h>

namespace outpost {

HttpLibraryInfo GetHttpLibraryInfo() {
  HttpLibraryInfo info;
  const curl_version_info_data* v = curl_version_info(CURLVERSION_NOW);
  if (v == nullptr) return info;
  info.curl = v->version ? v->version : "";
  info.tls = v->ssl_version ? v->ssl_version : "";
  info.zlib = v->libz_version ? v->libz_version : "";
  if (v->ares)
    info.resolver = std::string("c-ares ") + v->ares;
  else
    info.resolver = "system";
  if (v->age >= CURLVERSION_FOURTH && v->nghttp2_version)
    info.http2 = std::string("nghttp2 ") + v->nghttp2_version;
  for (const char* const* p = v->protocols; p && *p; ++p) info.protocols.emplace_back(*p);
  return info;
}

}  // namespace outpost

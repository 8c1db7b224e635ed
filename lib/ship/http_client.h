// The libcurl wrapper: the only code that includes curl.h.
//
// HttpTransport sends POST requests over one libcurl multi handle: up to
// `max_in_flight` transfers at once, keep-alive connections reused between them,
// TLS 1.2 or newer verified against a TlsTrust, optional client certificate, key
// pinning and proxy. It knows nothing about chunks, retries or outputs: the shipper
// decides what to send and what a response means (issue 4, DESIGN.md "Records and
// wire format").
//
// Secrets: the bearer token and the proxy password go to libcurl only. Verbose output
// is off, error texts come from libcurl's error buffer (which never holds request
// headers) and are scrubbed of both secrets anyway.
//
// GetHttpLibraryInfo reports what libcurl this binary carries, for `outpost version`.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ship/tls_trust.h"
#include "util/status.h"

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

// One POST. Nothing is added to the body; set Content-Type (and Content-Encoding)
// in `headers`, or libcurl sends its default form Content-Type.
struct HttpRequest {
  uint64_t tag = 0;  // the caller's id, returned in the response
  std::string url;   // http:// or https:// only; redirects are never followed
  // Extra headers, sent as "name: value" (an empty value sends the header empty).
  // A name or value with CR, LF or NUL, or a name with ':', fails the request.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // POSTed as is
  // Keep up to this many bytes of the response body in HttpResponse::body (for
  // protocols that answer per record, such as Elasticsearch _bulk). 0: only body_head.
  size_t keep_body_bytes = 0;
};

struct HttpResponse {
  uint64_t tag = 0;
  // HTTP status of a complete exchange. 0 when there was no complete response
  // (connect, TLS, timeout, reset; also a response cut off mid-body): retryable.
  int status = 0;
  // Why status is 0: libcurl's text and code, e.g. "Failed to connect to 127.0.0.1
  // port 9 after 0 ms: Couldn't connect to server (curl 7)". Never holds the token.
  std::string error;
  bool tls_error = false;      // certificate, pin or handshake problem
  std::string retry_after;     // raw Retry-After value of the final response, if any
  std::string body_head;       // first 512 bytes of the response body
  std::string body;            // up to the request's keep_body_bytes of the body
  bool body_cut = false;       // the body was longer than keep_body_bytes
  size_t keep_body_bytes = 0;  // copied from the request
  double seconds = 0;          // total time of the transfer
  uint64_t bytes_sent = 0;     // request body bytes sent
};

struct TransportOptions {
  std::string user_agent;    // "outpost/<version> (<os>; <arch>)"
  std::string bearer_token;  // empty: no Authorization header
  size_t max_in_flight = 2;
  std::chrono::milliseconds timeout{30000};  // whole transfer; 0 = none
  std::chrono::milliseconds connect_timeout{10000};
  // Abort a transfer slower than low_speed_bytes/s for low_speed_time (0 bytes: never).
  uint64_t low_speed_bytes = 1;
  std::chrono::seconds low_speed_time{30};
  uint64_t rate_limit = 0;  // upload bytes/s per transfer, 0 = none
  TlsTrust trust;           // kCaFile / kSystemBundle: that PEM file; kSystemStore: Schannel
  // mTLS. With OpenSSL: PEM (or .p12/.pfx) certificate and PEM key. With Schannel: a
  // .p12/.pfx file holding both (client_key stays empty) or a store path such as
  // "CurrentUser\MY\<thumbprint>".
  std::filesystem::path client_cert, client_key;
  std::string client_key_passphrase;  // also the .p12/.pfx password
  std::string pinned_pubkey;          // "sha256//<base64>[;sha256//...]" or a key file
  bool insecure_skip_verify = false;  // turns off peer and host name verification
  // Empty proxy: libcurl reads http_proxy / HTTPS_PROXY / ALL_PROXY from the
  // environment. "http://host:port" tunnels https:// with CONNECT.
  std::string proxy, proxy_username, proxy_password;
  // Hosts that bypass the proxy ("a.example,10.0.0.1", "*"); empty: NO_PROXY env.
  std::string no_proxy;
};

class HttpTransport {
 public:
  static constexpr size_t kBodyHeadBytes = 512;

  // Validates the options (files that must exist, pinning support of this build's
  // TLS library, header-safe token) and sets libcurl up. Errors: kInvalidArgument,
  // kNotFound (a file), kUnsupported (an option this libcurl cannot do),
  // kInternal (libcurl could not initialise). Never mentions the token.
  static Result<std::unique_ptr<HttpTransport>> Create(const TransportOptions& options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // Not thread-safe, except Wake(): one thread owns the transport.

  size_t in_flight() const { return in_flight_; }
  bool CanSubmit() const { return in_flight_ < options_.max_in_flight; }

  // Starts a transfer. Every submitted request yields exactly one HttpResponse from a
  // later Poll(). A request that cannot start (CanSubmit() false, an invalid header,
  // libcurl refusing the URL) comes back from the next Poll() with status 0 and an
  // error, without touching the network.
  void Submit(HttpRequest request);

  // Drives the transfers, waiting up to `timeout` for network progress or Wake()
  // (curl_multi_poll), and returns the responses that finished. It may return early
  // with none. With nothing in flight it simply waits, so it can serve as the owner
  // thread's sleep.
  std::vector<HttpResponse> Poll(std::chrono::milliseconds timeout);

  // Makes a waiting (or the next) Poll() return early. Thread-safe.
  void Wake();

 private:
  struct Slot;
  struct Curl;
  explicit HttpTransport(const TransportOptions& options);

  Status Init();
  Result<Slot*> IdleSlot();
  // Ends the slot's transfer: libcurl's result, or `failure` when not empty.
  void Finish(Slot& slot, int curl_code, const std::string& failure);
  std::string Scrub(std::string text) const;

  TransportOptions options_;
  std::unique_ptr<Curl> curl_;                // the multi handle
  std::vector<std::unique_ptr<Slot>> slots_;  // at most max_in_flight, reused
  std::vector<HttpResponse> done_;            // finished, not yet returned by Poll
  size_t in_flight_ = 0;
};

// One blocking GET, for the release feed and update downloads: the same TLS, proxy
// and timeout settings as uploads (TransportOptions; max_in_flight and rate_limit are
// not used). The body is handed to on_data as it arrives, never held whole.
struct HttpGetRequest {
  std::string url;
  // Ask for the body from this byte on (Range: bytes=N-). A server that answers 200
  // instead of 206 sends it from the start: on_data's offset says where bytes go.
  uint64_t resume_from = 0;
  // The transfer is aborted once the body would pass this offset (total size, counting
  // resume_from); 0: no limit. HttpGetResult::too_big tells.
  uint64_t max_bytes = 0;
  // `offset` is where `data` starts in the whole body. Returning false aborts.
  std::function<bool(uint64_t offset, std::string_view data)> on_data;
  // Called as bytes arrive: body bytes so far (counting resume_from) and the total
  // when the server said (0 when unknown).
  std::function<void(uint64_t received, uint64_t total)> on_progress;
};

struct HttpGetResult {
  int status = 0;     // HTTP status of a complete exchange; 0 when there was none
  std::string error;  // why status is 0 or the transfer stopped
  bool tls_error = false;
  bool too_big = false;  // aborted at max_bytes
  bool aborted = false;  // on_data returned false
  bool resumed = false;  // the server honoured the Range (206)
  uint64_t bytes = 0;    // body bytes received in this transfer
};

HttpGetResult HttpGet(const TransportOptions& options, const HttpGetRequest& request);

}  // namespace outpost

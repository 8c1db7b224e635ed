// HttpTransport over libcurl's multi interface. Map:
//   - process-wide libcurl set-up (curl_global_init once);
//   - facts about this libcurl build (TLS backend, HTTP/2) and CURLcode classes;
//   - the libcurl callbacks that fill a response (body head, Retry-After);
//   - Slot: one reusable easy handle with the state of its current transfer;
//   - EasyOptions: the options every handle shares, set once when a slot is made;
//   - HttpTransport: Create, Submit, Poll, Wake.
#include "ship/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <mutex>
#include <string_view>
#include <system_error>

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

namespace {

// libcurl must be initialised once per process before any handle exists; it is never
// cleaned up (other threads may still hold handles at exit).
CURLcode GlobalInit() {
  static std::once_flag once;
  static CURLcode result = CURLE_FAILED_INIT;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

std::string TlsBackend() {
  const curl_version_info_data* v = curl_version_info(CURLVERSION_NOW);
  return v != nullptr && v->ssl_version != nullptr ? v->ssl_version : "";
}

// Schannel reads client certificates from PKCS#12 files or the certificate store,
// not from PEM files, and needs best-effort revocation checks for private CAs.
bool IsSchannel() { return TlsBackend().find("Schannel") != std::string::npos; }

bool HasHttp2() {
  const curl_version_info_data* v = curl_version_info(CURLVERSION_NOW);
  return v != nullptr && (v->features & CURL_VERSION_HTTP2) != 0;
}

// A TLS alert from the peer after the handshake (TLS 1.3 refusing our client
// certificate: "tlsv13 alert certificate required") surfaces as a receive error.
bool IsTlsError(CURLcode code, std::string_view text) {
  if ((code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR) &&
      text.find(" alert ") != std::string_view::npos)
    return true;
  switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
      return true;
    default:
      return false;
  }
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    const char a = text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] + 32) : text[i];
    if (a != prefix[i]) return false;  // prefix is lower case
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool HasControlBreak(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool IsPkcs12(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  return ext == ".p12" || ext == ".pfx";
}

long ClampLong(int64_t v) {
  return static_cast<long>(std::clamp<int64_t>(v, 0, static_cast<int64_t>(LONG_MAX)));
}

bool FileExists(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

// The text with the bearer token and the proxy password replaced by "[redacted]".
std::string ScrubSecrets(std::string text, const TransportOptions& o) {
  for (const std::string* secret : {&o.bearer_token, &o.proxy_password}) {
    if (secret->empty()) continue;
    static constexpr std::string_view kRedacted = "[redacted]";
    // Searching on after the replacement: a secret found inside "[redacted]" (a token
    // such as "t") would otherwise be replaced forever.
    for (size_t at = text.find(*secret); at != std::string::npos;
         at = text.find(*secret, at + kRedacted.size()))
      text.replace(at, secret->size(), kRedacted);
  }
  return text;
}

// libcurl callbacks, with the transfer's HttpResponse as user data. They run in C
// frames, so nothing may throw through them; returning a count other than the one
// given aborts the transfer.
size_t OnBody(char* data, size_t size, size_t count, void* user) noexcept {
  auto* response = static_cast<HttpResponse*>(user);
  std::string& head = response->body_head;
  const size_t n = size * count;
  try {
    const size_t room =
        HttpTransport::kBodyHeadBytes - std::min(head.size(), HttpTransport::kBodyHeadBytes);
    head.append(data, std::min(n, room));
    if (response->keep_body_bytes > 0) {
      const size_t keep =
          response->keep_body_bytes - std::min(response->body.size(), response->keep_body_bytes);
      response->body.append(data, std::min(n, keep));
      if (n > keep) response->body_cut = true;
    }
  } catch (...) {
    return 0;
  }
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) noexcept {
  auto* response = static_cast<HttpResponse*>(user);
  const size_t n = size * count;
  const std::string_view line(data, n);
  constexpr std::string_view kRetryAfter = "retry-after:";
  try {
    if (StartsWithNoCase(line, "http/"))  // a new response (after a 1xx): forget the old one
      response->retry_after.clear();
    else if (StartsWithNoCase(line, kRetryAfter))
      response->retry_after.assign(Trim(line.substr(kRetryAfter.size())));
  } catch (...) {
    return 0;
  }
  return n;
}

}  // namespace

struct HttpTransport::Curl {
  CURLM* multi = nullptr;
  ~Curl() {
    if (multi != nullptr) curl_multi_cleanup(multi);
  }
};

// One easy handle, reused transfer after transfer so that its TLS session cache and
// the multi handle's connections carry over.
struct HttpTransport::Slot {
  CURL* easy = nullptr;
  bool busy = false;
  curl_slist* headers = nullptr;  // this transfer's request headers
  std::string body;               // this transfer's request body (CURLOPT_POSTFIELDS)
  HttpResponse response;          // filled by OnBody and OnHeader
  char error[CURL_ERROR_SIZE] = {};

  Slot() = default;
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
  ~Slot() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
  }

  // The request's memory can go once the handle no longer points at it.
  void ReleaseRequest() {
    static const char kEmpty[] = "";
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(0));
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, kEmpty);
    curl_slist_free_all(headers);
    headers = nullptr;
    std::string().swap(body);
  }
};

namespace {

// Sets options on one easy handle and remembers the first one libcurl refused.
class EasyOptions {
 public:
  explicit EasyOptions(CURL* easy) : easy_(easy) {}

  // `what` names the option for people (a config key); default: libcurl's name.
  template <typename T>
  void Set(CURLoption option, T value, const char* what = nullptr) {
    if (failed_ != CURLE_OK) return;
    const CURLcode c = curl_easy_setopt(easy_, option, value);
    if (c == CURLE_OK) return;
    failed_ = c;
    if (what != nullptr) {
      failed_what_ = what;
    } else {
      const curl_easyoption* o = curl_easy_option_by_id(option);
      failed_what_ = std::string("CURLOPT_") + (o != nullptr ? o->name : "?");
    }
  }

  Status status() const {
    if (failed_ == CURLE_OK) return Status::Ok();
    std::string why = failed_what_ + ": " + curl_easy_strerror(failed_);
    switch (failed_) {
      case CURLE_NOT_BUILT_IN:
      case CURLE_UNKNOWN_OPTION:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return Unsupported(why + " (libcurl " + LIBCURL_VERSION + " with " + TlsBackend() + ")");
      case CURLE_OUT_OF_MEMORY:
        return Internal(why);
      default:
        return InvalidArgument(why);
    }
  }

 private:
  CURL* easy_;
  CURLcode failed_ = CURLE_OK;
  std::string failed_what_;
};

// Options every transfer shares; set once per easy handle.
Status ConfigureEasy(CURL* easy, HttpResponse* response, char* error_buffer,
                     const TransportOptions& o) {
  const bool schannel = IsSchannel();
  EasyOptions set(easy);
  set.Set(CURLOPT_NOSIGNAL, 1L);
  set.Set(CURLOPT_VERBOSE, 0L);  // verbose output would print the Authorization header
  set.Set(CURLOPT_ERRORBUFFER, error_buffer);
  set.Set(CURLOPT_WRITEFUNCTION, &OnBody);
  set.Set(CURLOPT_WRITEDATA, static_cast<void*>(response));
  set.Set(CURLOPT_HEADERFUNCTION, &OnHeader);
  set.Set(CURLOPT_HEADERDATA, static_cast<void*>(response));
  set.Set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);  // a proxy's CONNECT reply is not the response
  set.Set(CURLOPT_PROTOCOLS_STR, "http,https");
  // Redirects are never followed; should that ever change, only to https.
  set.Set(CURLOPT_FOLLOWLOCATION, 0L);
  set.Set(CURLOPT_REDIR_PROTOCOLS_STR, "https");
  set.Set(CURLOPT_HTTP_VERSION,
          static_cast<long>(HasHttp2() ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1));
  set.Set(CURLOPT_POST, 1L);
  set.Set(CURLOPT_TCP_KEEPALIVE, 1L);
  if (!o.user_agent.empty()) set.Set(CURLOPT_USERAGENT, o.user_agent.c_str());

  set.Set(CURLOPT_TIMEOUT_MS, ClampLong(o.timeout.count()));
  set.Set(CURLOPT_CONNECTTIMEOUT_MS, ClampLong(o.connect_timeout.count()));
  set.Set(CURLOPT_LOW_SPEED_LIMIT,
          ClampLong(static_cast<int64_t>(std::min<uint64_t>(o.low_speed_bytes, LONG_MAX))));
  set.Set(CURLOPT_LOW_SPEED_TIME, ClampLong(o.low_speed_time.count()));
  if (o.rate_limit > 0)
    set.Set(CURLOPT_MAX_SEND_SPEED_LARGE,
            static_cast<curl_off_t>(std::min<uint64_t>(o.rate_limit, INT64_MAX)), "rate_limit");

  // TLS: 1.2 or newer, verified unless insecure_skip_verify says otherwise.
  set.Set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  set.Set(CURLOPT_SSL_VERIFYPEER, o.insecure_skip_verify ? 0L : 1L);
  set.Set(CURLOPT_SSL_VERIFYHOST, o.insecure_skip_verify ? 0L : 2L);
  switch (o.trust.source) {
    case TlsTrust::Source::kCaFile:
    case TlsTrust::Source::kSystemBundle:
      set.Set(CURLOPT_CAINFO, o.trust.ca_file.string().c_str(), "ca_file");
      break;
    case TlsTrust::Source::kSystemStore:  // Schannel's own store
    case TlsTrust::Source::kNone:         // nothing to trust: https fails verification
      set.Set(CURLOPT_CAINFO, static_cast<const char*>(nullptr));
      break;
  }
  if (schannel) {
    // Private CAs rarely publish revocation lists; a revoked certificate still fails.
    set.Set(CURLOPT_SSL_OPTIONS, static_cast<long>(CURLSSLOPT_REVOKE_BEST_EFFORT));
  } else {
    set.Set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));  // no build-time directory
  }
  if (!o.client_cert.empty()) {
    set.Set(CURLOPT_SSLCERT, o.client_cert.string().c_str(), "client_cert");
    if (IsPkcs12(o.client_cert)) set.Set(CURLOPT_SSLCERTTYPE, "P12", "client_cert");
  }
  if (!o.client_key.empty()) set.Set(CURLOPT_SSLKEY, o.client_key.string().c_str(), "client_key");
  if (!o.client_key_passphrase.empty())
    set.Set(CURLOPT_KEYPASSWD, o.client_key_passphrase.c_str(), "client_key_passphrase");
  if (!o.pinned_pubkey.empty())
    set.Set(CURLOPT_PINNEDPUBLICKEY, o.pinned_pubkey.c_str(), "pinned_pubkey");

  // Proxy: with none configured libcurl reads the environment itself.
  if (!o.proxy.empty()) set.Set(CURLOPT_PROXY, o.proxy.c_str(), "proxy");
  if (!o.proxy_username.empty())
    set.Set(CURLOPT_PROXYUSERNAME, o.proxy_username.c_str(), "proxy_username");
  if (!o.proxy_password.empty())
    set.Set(CURLOPT_PROXYPASSWORD, o.proxy_password.c_str(), "proxy_password");
  if (!o.no_proxy.empty()) set.Set(CURLOPT_NOPROXY, o.no_proxy.c_str(), "no_proxy");
  return set.status();
}

Status ValidateOptions(const TransportOptions& o) {
  if (o.max_in_flight == 0) return InvalidArgument("max_in_flight must be at least 1");
  if (o.max_in_flight > 64) return InvalidArgument("max_in_flight must be at most 64");
  if (HasControlBreak(o.bearer_token))
    return InvalidArgument("the token holds a line break or NUL character");
  if (HasControlBreak(o.user_agent))
    return InvalidArgument("the User-Agent holds a line break or NUL character");
  const bool file_trust = o.trust.source == TlsTrust::Source::kCaFile ||
                          o.trust.source == TlsTrust::Source::kSystemBundle;
  if (file_trust && !FileExists(o.trust.ca_file))
    return NotFound("ca_file " + o.trust.ca_file.string() + " does not exist");
  const bool schannel = IsSchannel();
  if (!o.client_key.empty() && o.client_cert.empty())
    return InvalidArgument("client_key is set but client_cert is not");
  if (schannel && !o.client_key.empty())
    return Unsupported(
        "client_key: with Schannel the key comes from a PKCS#12 client_cert (.p12/.pfx) or "
        "the certificate store; leave client_key empty");
  // With Schannel a client_cert that is not a PKCS#12 file is a certificate store path.
  if (!o.client_cert.empty() && (!schannel || IsPkcs12(o.client_cert)) &&
      !FileExists(o.client_cert))
    return NotFound("client_cert " + o.client_cert.string() + " does not exist");
  if (!o.client_key.empty() && !FileExists(o.client_key))
    return NotFound("client_key " + o.client_key.string() + " does not exist");
  if (!o.pinned_pubkey.empty() && !StartsWithNoCase(o.pinned_pubkey, "sha256//") &&
      !FileExists(o.pinned_pubkey))
    return InvalidArgument("pinned_pubkey must be \"sha256//<base64>\" or a public key file");
  return Status::Ok();
}

}  // namespace

HttpTransport::HttpTransport(const TransportOptions& options)
    : options_(options), curl_(std::make_unique<Curl>()) {}

HttpTransport::~HttpTransport() {
  for (auto& slot : slots_)
    if (slot->busy) curl_multi_remove_handle(curl_->multi, slot->easy);
  slots_.clear();  // easy handles before the multi handle
}

Result<std::unique_ptr<HttpTransport>> HttpTransport::Create(const TransportOptions& options) {
  OUTPOST_RETURN_IF_ERROR(ValidateOptions(options));
  const CURLcode init = GlobalInit();
  if (init != CURLE_OK)
    return Internal(std::string("curl_global_init: ") + curl_easy_strerror(init));
  std::unique_ptr<HttpTransport> transport(new HttpTransport(options));
  OUTPOST_RETURN_IF_ERROR(transport->Init());
  return transport;
}

Status HttpTransport::Init() {
  curl_->multi = curl_multi_init();
  if (curl_->multi == nullptr) return Internal("curl_multi_init failed");
  const long n = static_cast<long>(options_.max_in_flight);
  if (curl_multi_setopt(curl_->multi, CURLMOPT_MAX_HOST_CONNECTIONS, n) != CURLM_OK ||
      curl_multi_setopt(curl_->multi, CURLMOPT_MAXCONNECTS, n) != CURLM_OK)
    return Internal("curl_multi_setopt failed");
  // The first handle is made now, so that an option libcurl refuses fails Create.
  Result<Slot*> first = IdleSlot();
  return first.status();
}

Result<HttpTransport::Slot*> HttpTransport::IdleSlot() {
  for (auto& slot : slots_)
    if (!slot->busy) return slot.get();
  if (slots_.size() >= options_.max_in_flight) return Internal("no idle transfer slot");
  auto slot = std::make_unique<Slot>();
  slot->easy = curl_easy_init();
  if (slot->easy == nullptr) return Internal("curl_easy_init failed");
  OUTPOST_RETURN_IF_ERROR(ConfigureEasy(slot->easy, &slot->response, slot->error, options_));
  slots_.push_back(std::move(slot));
  return slots_.back().get();
}

std::string HttpTransport::Scrub(std::string text) const {
  return ScrubSecrets(std::move(text), options_);
}

void HttpTransport::Submit(HttpRequest request) {
  HttpResponse refused;
  refused.tag = request.tag;
  if (!CanSubmit()) {
    refused.error = "not sent: " + std::to_string(in_flight_) + " requests already in flight";
    done_.push_back(std::move(refused));
    return;
  }
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || name.find(':') != std::string::npos || HasControlBreak(name) ||
        HasControlBreak(value)) {
      refused.error = "not sent: invalid request header '" + Scrub(name) + "'";
      done_.push_back(std::move(refused));
      return;
    }
  }
  Result<Slot*> found = IdleSlot();
  if (!found.ok()) {
    refused.error = "not sent: " + found.status().message();
    done_.push_back(std::move(refused));
    return;
  }
  Slot& slot = **found;
  slot.response = HttpResponse{};
  slot.response.tag = request.tag;
  slot.response.keep_body_bytes = request.keep_body_bytes;
  slot.body = std::move(request.body);
  slot.error[0] = '\0';

  bool ok = true;
  const auto append = [&](const std::string& line) {
    curl_slist* next = ok ? curl_slist_append(slot.headers, line.c_str()) : nullptr;
    if (next == nullptr)
      ok = false;
    else
      slot.headers = next;
  };
  append("Expect:");  // no 100-continue round trip before each body
  if (!options_.bearer_token.empty()) append("Authorization: Bearer " + options_.bearer_token);
  for (const auto& [name, value] : request.headers)
    append(value.empty() ? name + ";" : name + ": " + value);

  EasyOptions set(slot.easy);
  set.Set(CURLOPT_URL, request.url.c_str(), "url");
  set.Set(CURLOPT_HTTPHEADER, slot.headers);
  set.Set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(slot.body.size()));
  set.Set(CURLOPT_POSTFIELDS, slot.body.data());
  Status status = set.status();
  if (!ok) status = Internal("out of memory building the request headers");
  if (status.ok() && curl_multi_add_handle(curl_->multi, slot.easy) != CURLM_OK)
    status = Internal("curl_multi_add_handle failed");
  if (!status.ok()) {
    slot.ReleaseRequest();
    refused.error = "not sent: " + Scrub(status.message());
    done_.push_back(std::move(refused));
    return;
  }
  slot.busy = true;
  ++in_flight_;
}

void HttpTransport::Finish(Slot& slot, int curl_code, const std::string& failure) {
  const auto code = static_cast<CURLcode>(curl_code);
  curl_multi_remove_handle(curl_->multi, slot.easy);
  slot.busy = false;
  --in_flight_;
  HttpResponse r = std::move(slot.response);
  long status = 0;
  curl_off_t total_us = 0, sent = 0;
  curl_easy_getinfo(slot.easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(slot.easy, CURLINFO_TOTAL_TIME_T, &total_us);
  curl_easy_getinfo(slot.easy, CURLINFO_SIZE_UPLOAD_T, &sent);
  r.seconds = static_cast<double>(total_us) / 1e6;
  r.bytes_sent = sent > 0 ? static_cast<uint64_t>(sent) : 0;
  if (!failure.empty()) {
    r.error = failure;
  } else if (code == CURLE_OK) {
    r.status = static_cast<int>(status);
  } else {
    // libcurl's error buffer says what and where; it never holds request headers.
    std::string text = slot.error[0] != '\0' ? slot.error : curl_easy_strerror(code);
    text += " (curl " + std::to_string(static_cast<int>(code));
    if (status != 0) text += ", after HTTP " + std::to_string(status) + " response headers";
    r.tls_error = IsTlsError(code, text);
    r.error = Scrub(text + ")");
    r.status = 0;
  }
  slot.ReleaseRequest();
  done_.push_back(std::move(r));
}

std::vector<HttpResponse> HttpTransport::Poll(std::chrono::milliseconds timeout) {
  const auto collect = [this] {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(curl_->multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;  // msg dies with curl_multi_remove_handle
      const CURLcode code = msg->data.result;
      for (auto& slot : slots_)
        if (slot->busy && slot->easy == easy) Finish(*slot, code, {});
    }
  };
  int running = 0;
  CURLMcode m = curl_multi_perform(curl_->multi, &running);
  collect();
  if (m == CURLM_OK && done_.empty()) {
    const int wait_ms = static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, INT_MAX));
    m = curl_multi_poll(curl_->multi, nullptr, 0, wait_ms, nullptr);
    if (m == CURLM_OK) m = curl_multi_perform(curl_->multi, &running);
    collect();
  }
  if (m != CURLM_OK) {
    // The multi handle is broken: end every transfer rather than leave it hanging.
    const std::string failure = std::string(curl_multi_strerror(m)) + " (curl multi " +
                                std::to_string(static_cast<int>(m)) + ")";
    for (auto& slot : slots_)
      if (slot->busy) Finish(*slot, CURLE_OK, failure);
  }
  return std::exchange(done_, {});
}

void HttpTransport::Wake() {
  if (curl_ != nullptr && curl_->multi != nullptr) curl_multi_wakeup(curl_->multi);
}

// ---- HttpGet ----

namespace {

struct GetState {
  const HttpGetRequest* request = nullptr;
  CURL* easy = nullptr;
  bool started = false;
  uint64_t offset = 0;  // where the next byte goes
  uint64_t bytes = 0;
  uint64_t total = 0;
  bool too_big = false;
  bool aborted = false;
  bool resumed = false;
};

size_t OnGetBody(char* data, size_t size, size_t count, void* user) noexcept {
  auto* g = static_cast<GetState*>(user);
  const size_t n = size * count;
  try {
    if (!g->started) {
      g->started = true;
      long code = 0;
      curl_easy_getinfo(g->easy, CURLINFO_RESPONSE_CODE, &code);
      g->resumed = code == 206 && g->request->resume_from > 0;
      g->offset = g->resumed ? g->request->resume_from : 0;
      curl_off_t length = -1;
      curl_easy_getinfo(g->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
      if (length >= 0) g->total = g->offset + static_cast<uint64_t>(length);
      if (code < 200 || code >= 300) return n;  // an error page: not the body we want
    }
    long code = 0;
    curl_easy_getinfo(g->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || code >= 300) return n;
    const uint64_t max = g->request->max_bytes;
    if (max > 0 && g->offset + n > max) {
      g->too_big = true;
      return 0;
    }
    if (g->request->on_data && !g->request->on_data(g->offset, std::string_view(data, n))) {
      g->aborted = true;
      return 0;
    }
    g->offset += n;
    g->bytes += n;
    if (g->request->on_progress) g->request->on_progress(g->offset, g->total);
  } catch (...) {
    g->aborted = true;
    return 0;
  }
  return n;
}

}  // namespace

HttpGetResult HttpGet(const TransportOptions& options, const HttpGetRequest& request) {
  HttpGetResult result;
  if (GlobalInit() != CURLE_OK) {
    result.error = "libcurl could not initialise";
    return result;
  }
  if (Status v = ValidateOptions(options); !v.ok()) {
    result.error = v.message();
    return result;
  }
  CURL* easy = curl_easy_init();
  if (easy == nullptr) {
    result.error = "curl_easy_init failed";
    return result;
  }
  HttpResponse headers_seen;  // OnHeader's user data; unused beyond that
  char error[CURL_ERROR_SIZE] = {};
  GetState g;
  g.request = &request;
  g.easy = easy;
  Status st = ConfigureEasy(easy, &headers_seen, error, options);
  curl_slist* header_list = nullptr;
  if (st.ok()) {
    EasyOptions set(easy);
    set.Set(CURLOPT_HTTPGET, 1L);
    set.Set(CURLOPT_URL, request.url.c_str(), "url");
    set.Set(CURLOPT_WRITEFUNCTION, &OnGetBody);
    set.Set(CURLOPT_WRITEDATA, static_cast<void*>(&g));
    set.Set(CURLOPT_ACCEPT_ENCODING, static_cast<const char*>(nullptr));  // bytes as served
    // CURLOPT_RANGE rather than RESUME_FROM: a 200 answer is then taken, not an error.
    const std::string range = std::to_string(request.resume_from) + "-";
    if (request.resume_from > 0) set.Set(CURLOPT_RANGE, range.c_str());
    if (!options.bearer_token.empty()) {
      header_list =
          curl_slist_append(nullptr, ("Authorization: Bearer " + options.bearer_token).c_str());
      set.Set(CURLOPT_HTTPHEADER, header_list);
    }
    st = set.status();
  }
  if (!st.ok()) {
    result.error = st.message();
  } else {
    const CURLcode code = curl_easy_perform(easy);
    long http = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &http);
    result.too_big = g.too_big;
    result.aborted = g.aborted;
    result.resumed = g.resumed;
    result.bytes = g.bytes;
    if (code == CURLE_OK) {
      result.status = static_cast<int>(http);
    } else if (g.too_big) {
      result.error = "the download passed " + std::to_string(request.max_bytes) + " bytes";
    } else if (g.aborted) {
      result.error = "the download was stopped";
    } else {
      const std::string text = error[0] != '\0' ? error : curl_easy_strerror(code);
      result.error = text + " (curl " + std::to_string(static_cast<int>(code)) + ")";
      result.tls_error = IsTlsError(code, text);
    }
  }
  curl_slist_free_all(header_list);
  curl_easy_cleanup(easy);
  result.error = ScrubSecrets(std::move(result.error), options);  // never the token
  return result;
}

}  // namespace outpost

// HttpTransport against real servers on 127.0.0.1: a Python http.server started by
// the test (plain HTTP, HTTPS and HTTPS with client certificates), with certificates
// made by the openssl CLI in a temporary directory. Those tests are POSIX only; the
// option checks and Wake() run everywhere.
#include <catch.hpp>

#include <chrono>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ship/http_client.h"
#include "test_files.h"

#ifndef _WIN32
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;
#endif

namespace outpost {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

TransportOptions LocalOptions() {
  TransportOptions o;
  o.user_agent = "outpost/test (linux; x86_64)";
  o.no_proxy = "*";  // a proxy in the test environment must not see these requests
  o.timeout = milliseconds(5000);
  o.connect_timeout = milliseconds(2000);
  return o;
}

TEST_CASE("transport options are checked when the transport is made", "[ship]") {
  TransportOptions o = LocalOptions();
  o.max_in_flight = 0;
  CHECK(HttpTransport::Create(o).status().code() == Code::kInvalidArgument);

  o = LocalOptions();
  o.bearer_token = "s3cret\r\nX-Injected: 1";
  auto bad_token = HttpTransport::Create(o);
  CHECK(bad_token.status().code() == Code::kInvalidArgument);
  CHECK(bad_token.status().message().find("s3cret") == std::string::npos);

  o = LocalOptions();
  o.trust = ResolveTlsTrust("/nonexistent/outpost-ca.pem");
  CHECK(HttpTransport::Create(o).status().code() == Code::kNotFound);

  o = LocalOptions();
  o.pinned_pubkey = "md5//abc";
  CHECK(HttpTransport::Create(o).status().code() == Code::kInvalidArgument);

  // Pinning: supported by this build's TLS library, or refused with a clear reason.
  o = LocalOptions();
  o.pinned_pubkey = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  auto pinned = HttpTransport::Create(o);
  if (!pinned.ok()) {
    CHECK(pinned.status().code() == Code::kUnsupported);
    CHECK(pinned.status().message().find("pinned_pubkey") != std::string::npos);
  }

  CHECK(HttpTransport::Create(LocalOptions()).ok());
}

TEST_CASE("Wake makes a waiting Poll return early", "[ship]") {
  auto t = HttpTransport::Create(LocalOptions());
  REQUIRE(t.ok());
  HttpTransport& transport = **t;

  auto start = Clock::now();
  transport.Wake();  // before the Poll: remembered
  CHECK(transport.Poll(milliseconds(10000)).empty());
  CHECK(Clock::now() - start < std::chrono::seconds(2));

  start = Clock::now();
  std::thread waker([&] { transport.Wake(); });
  CHECK(transport.Poll(milliseconds(10000)).empty());
  waker.join();
  CHECK(Clock::now() - start < std::chrono::seconds(2));
}

#ifndef _WIN32

// Answers POSTs by path: /ok, /retry (503 + Retry-After), /echo (the request headers
// and body), /big (2000 bytes), /slow (0.2 s, answers with the client's port),
// /hang (3 s). Args: [cert key [client_ca]] for HTTPS (and required client certs).
// Prints its port on stdout once listening.
constexpr const char* kServerScript = R"PY(
import http.server, ssl, sys, time
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, extra, out = 200, [], b"hello from the test server"
        if self.path == "/retry":
            status, extra, out = 503, [("retry-AFTER", " 7 ")], b"busy"
        elif self.path == "/echo":
            out = "".join("%s: %s\n" % kv for kv in self.headers.items()).encode() + b"\n" + body
        elif self.path == "/big":
            out = b"x" * 2000
        elif self.path == "/slow":
            time.sleep(0.2)
            out = str(self.client_address[1]).encode()
        elif self.path == "/hang":
            time.sleep(3)
        self.send_response(status)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    def handle_error(self, request, client_address):
        pass
server = Server(("127.0.0.1", 0), Handler)
if len(sys.argv) > 2:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    if len(sys.argv) > 3:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(sys.argv[3])
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
)PY";

std::vector<char*> Argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

// Runs a command (no shell) with its output discarded; true when it exits 0.
bool Run(std::vector<std::string> args) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  auto argv = Argv(args);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return false;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The test server, stopped when this goes away.
class TestServer {
 public:
  explicit TestServer(std::vector<std::string> tls_args = {}) {
    std::vector<std::string> args = {"python3", "-c", kServerScript};
    args.insert(args.end(), tls_args.begin(), tls_args.end());
    int fds[2];
    if (pipe(fds) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    auto argv = Argv(args);
    if (posix_spawnp(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    std::string line;
    char c = 0;
    while (pid_ > 0 && read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    close(fds[0]);
    if (!line.empty()) port_ = std::stoi(line);
  }
  ~TestServer() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  int port() const { return port_; }
  std::string Url(const std::string& scheme, const std::string& path) const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// A port on 127.0.0.1 that nothing listens on (bound by us, then released).
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

HttpRequest Post(uint64_t tag, std::string url, std::string body = "data") {
  HttpRequest r;
  r.tag = tag;
  r.url = std::move(url);
  r.body = std::move(body);
  r.headers = {{"Content-Type", "application/x-ndjson"}};
  return r;
}

// Polls until `count` responses arrived or 5 s passed.
std::vector<HttpResponse> Collect(HttpTransport& t, size_t count) {
  std::vector<HttpResponse> out;
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (out.size() < count && Clock::now() < deadline)
    for (auto& r : t.Poll(milliseconds(100))) out.push_back(std::move(r));
  return out;
}

HttpResponse SendOne(HttpTransport& t, HttpRequest request) {
  t.Submit(std::move(request));
  auto got = Collect(t, 1);
  REQUIRE(got.size() == 1);
  return got[0];
}

std::unique_ptr<HttpTransport> Make(const TransportOptions& o) {
  auto t = HttpTransport::Create(o);
  INFO(t.status().ToString());
  REQUIRE(t.ok());
  return std::move(*t);
}

// A throwaway CA, a server certificate for localhost and 127.0.0.1, a client
// certificate, and the server key's pin; made once per test run.
struct TestPki {
  testing::TempDir dir;
  bool ok = false;
  std::string pin;  // "sha256//..."
  std::filesystem::path File(const char* name) const { return dir.path() / name; }
  std::string Path(const char* name) const { return File(name).string(); }

  TestPki() {
    const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt",
                                         "ec_paramgen_curve:prime256v1", "-nodes"};
    const auto req = [&](std::vector<std::string> args) {
      std::vector<std::string> all = {"openssl", "req"};
      all.insert(all.end(), ec.begin(), ec.end());
      all.insert(all.end(), args.begin(), args.end());
      return Run(all);
    };
    dir.Write("server.ext", "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    dir.Write("client.ext", "extendedKeyUsage=clientAuth\n");
    ok =
        req({"-x509", "-days", "2", "-subj", "/CN=outpost test CA", "-keyout", Path("ca.key"),
             "-out", Path("ca.pem")}) &&
        req({"-subj", "/CN=localhost", "-keyout", Path("server.key"), "-out",
             Path("server.csr")}) &&
        Run({"openssl", "x509", "-req", "-days", "2", "-in", Path("server.csr"), "-CA",
             Path("ca.pem"), "-CAkey", Path("ca.key"), "-CAcreateserial", "-extfile",
             Path("server.ext"), "-out", Path("server.pem")}) &&
        req({"-subj", "/CN=outpost test agent", "-keyout", Path("client.key"), "-out",
             Path("client.csr")}) &&
        Run({"openssl", "x509", "-req", "-days", "2", "-in", Path("client.csr"), "-CA",
             Path("ca.pem"), "-CAkey", Path("ca.key"), "-CAcreateserial", "-extfile",
             Path("client.ext"), "-out", Path("client.pem")}) &&
        Run({"openssl", "pkey", "-in", Path("server.key"), "-pubout", "-outform", "DER", "-out",
             Path("server.pub.der")}) &&
        Run({"openssl", "dgst", "-sha256", "-binary", "-out", Path("server.pin"),
             Path("server.pub.der")}) &&
        Run({"openssl", "base64", "-A", "-in", Path("server.pin"), "-out", Path("server.pin.b64")});
    std::ifstream in(File("server.pin.b64"));
    std::string b64((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!b64.empty() && (b64.back() == '\n' || b64.back() == '\r')) b64.pop_back();
    pin = "sha256//" + b64;
    ok = ok && b64.size() == 44;
  }
};

const TestPki& Pki() {
  static TestPki pki;
  return pki;
}

TEST_CASE("a 200 response brings its status and the head of its body", "[ship]") {
  TestServer server;
  REQUIRE(server.port() > 0);
  auto t = Make(LocalOptions());
  HttpResponse r = SendOne(*t, Post(41, server.Url("http", "/ok"), "some records"));
  CHECK(r.tag == 41);
  CHECK(r.status == 200);
  CHECK(r.error.empty());
  CHECK_FALSE(r.tls_error);
  CHECK(r.body_head == "hello from the test server");
  CHECK(r.bytes_sent == 12);
  CHECK(r.seconds > 0);
  CHECK(t->in_flight() == 0);

  r = SendOne(*t, Post(42, server.Url("http", "/big")));
  CHECK(r.status == 200);
  CHECK(r.body_head == std::string(HttpTransport::kBodyHeadBytes, 'x'));
}

TEST_CASE("a 503 response brings its Retry-After value", "[ship]") {
  TestServer server;
  REQUIRE(server.port() > 0);
  auto t = Make(LocalOptions());
  HttpResponse r = SendOne(*t, Post(7, server.Url("http", "/retry")));
  CHECK(r.status == 503);
  CHECK(r.retry_after == "7");
  CHECK(r.body_head == "busy");
  CHECK(r.error.empty());

  r = SendOne(*t, Post(8, server.Url("http", "/ok")));  // the same handle, reused
  CHECK(r.status == 200);
  CHECK(r.retry_after.empty());
}

TEST_CASE("a refused connection is status 0 with curl's error", "[ship]") {
  auto t = Make(LocalOptions());
  HttpResponse r = SendOne(*t, Post(3, "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/ok"));
  CHECK(r.tag == 3);
  CHECK(r.status == 0);
  CHECK_FALSE(r.tls_error);
  CHECK(r.error.find("(curl 7)") != std::string::npos);
}

TEST_CASE("a token that occurs in error texts is redacted, even one letter long", "[ship]") {
  // Regression: a token found inside "[redacted]" itself made the scrubber loop for
  // ever (the shipper hung on its first error with token = "t").
  TransportOptions o = LocalOptions();
  o.bearer_token = "t";
  auto t = Make(o);
  HttpResponse r = SendOne(*t, Post(3, "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/ok"));
  CHECK(r.status == 0);
  CHECK(r.error.find("(curl 7)") != std::string::npos);
  CHECK(r.error.find("connect") == std::string::npos);  // "Failed to connect": its t is gone
  CHECK(r.error.find("[redac") != std::string::npos);
  CHECK(r.error.size() < 2000);
}

TEST_CASE("a request slower than the timeout ends with status 0", "[ship]") {
  TestServer server;
  REQUIRE(server.port() > 0);
  TransportOptions o = LocalOptions();
  o.timeout = milliseconds(300);
  auto t = Make(o);
  HttpResponse r = SendOne(*t, Post(1, server.Url("http", "/hang")));
  CHECK(r.status == 0);
  CHECK(r.error.find("(curl 28") != std::string::npos);
}

TEST_CASE("the User-Agent, the bearer token and extra headers arrive", "[ship]") {
  TestServer server;
  REQUIRE(server.port() > 0);
  TransportOptions o = LocalOptions();
  o.bearer_token = "tok-123";
  auto t = Make(o);
  HttpRequest req = Post(5, server.Url("http", "/echo"), "{\"a\":1}\n");
  req.headers.emplace_back("Idempotency-Key", "agent-17");
  req.headers.emplace_back("Content-Encoding", "zstd");
  HttpResponse r = SendOne(*t, std::move(req));
  REQUIRE(r.status == 200);
  INFO(r.body_head);
  CHECK(r.body_head.find("User-Agent: outpost/test (linux; x86_64)\n") != std::string::npos);
  CHECK(r.body_head.find("Authorization: Bearer tok-123\n") != std::string::npos);
  CHECK(r.body_head.find("Idempotency-Key: agent-17\n") != std::string::npos);
  CHECK(r.body_head.find("Content-Encoding: zstd\n") != std::string::npos);
  CHECK(r.body_head.find("Content-Type: application/x-ndjson\n") != std::string::npos);
  CHECK(r.body_head.find("Content-Length: 8\n") != std::string::npos);
  CHECK(r.body_head.find("Expect") == std::string::npos);
  CHECK(r.body_head.find("\n\n{\"a\":1}\n") != std::string::npos);
}

TEST_CASE("a header with a line break is refused without sending", "[ship]") {
  auto t = Make(LocalOptions());
  HttpRequest req = Post(9, "http://127.0.0.1:9/never");
  req.headers.emplace_back("X-Evil", "a\r\nHost: elsewhere");
  t->Submit(std::move(req));
  CHECK(t->in_flight() == 0);
  auto got = t->Poll(milliseconds(0));
  REQUIRE(got.size() == 1);
  CHECK(got[0].tag == 9);
  CHECK(got[0].status == 0);
  CHECK(got[0].error.find("not sent") != std::string::npos);
}

TEST_CASE("no more than max_in_flight requests run, on reused connections", "[ship]") {
  TestServer server;
  REQUIRE(server.port() > 0);
  TransportOptions o = LocalOptions();
  o.max_in_flight = 2;
  auto t = Make(o);
  const size_t total = 6;
  size_t submitted = 0, most = 0;
  std::vector<HttpResponse> got;
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (got.size() < total && Clock::now() < deadline) {
    while (submitted < total && t->CanSubmit()) {
      t->Submit(Post(submitted, server.Url("http", "/slow")));
      ++submitted;
    }
    most = std::max(most, t->in_flight());
    for (auto& r : t->Poll(milliseconds(50))) got.push_back(std::move(r));
  }
  REQUIRE(got.size() == total);
  CHECK(most == 2);
  std::set<uint64_t> tags;
  std::set<std::string> client_ports;
  for (const auto& r : got) {
    CHECK(r.status == 200);
    tags.insert(r.tag);
    client_ports.insert(r.body_head);
  }
  CHECK(tags.size() == total);
  CHECK(client_ports.size() <= 2);  // keep-alive: later requests reuse the connections

  // Beyond the limit a request comes back unsent instead of queueing.
  TransportOptions one = LocalOptions();
  one.max_in_flight = 1;
  auto single = Make(one);
  single->Submit(Post(1, server.Url("http", "/slow")));
  CHECK_FALSE(single->CanSubmit());
  single->Submit(Post(2, server.Url("http", "/slow")));
  auto both = Collect(*single, 2);
  REQUIRE(both.size() == 2);
  for (const auto& r : both) CHECK(r.status == (r.tag == 1 ? 200 : 0));
}

TEST_CASE("https is trusted through ca_file and refused otherwise", "[ship]") {
  const TestPki& pki = Pki();
  REQUIRE(pki.ok);
  TestServer server({pki.Path("server.pem"), pki.Path("server.key")});
  REQUIRE(server.port() > 0);

  TransportOptions o = LocalOptions();
  o.trust = ResolveTlsTrust(pki.File("ca.pem"));
  HttpResponse r = SendOne(*Make(o), Post(1, server.Url("https", "/ok")));
  CHECK(r.status == 200);
  CHECK(r.body_head == "hello from the test server");

  o.trust = ResolveTlsTrust("");  // the system's CAs do not know the test CA
  r = SendOne(*Make(o), Post(2, server.Url("https", "/ok")));
  CHECK(r.status == 0);
  CHECK(r.tls_error);
  CHECK_FALSE(r.error.empty());

  o.insecure_skip_verify = true;
  r = SendOne(*Make(o), Post(3, server.Url("https", "/ok")));
  CHECK(r.status == 200);
}

TEST_CASE("a pinned public key must match the server's", "[ship]") {
  const TestPki& pki = Pki();
  REQUIRE(pki.ok);
  TestServer server({pki.Path("server.pem"), pki.Path("server.key")});
  REQUIRE(server.port() > 0);

  TransportOptions o = LocalOptions();
  o.trust = ResolveTlsTrust(pki.File("ca.pem"));
  o.pinned_pubkey = pki.pin;
  HttpResponse r = SendOne(*Make(o), Post(1, server.Url("https", "/ok")));
  CHECK(r.status == 200);

  o.pinned_pubkey = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  r = SendOne(*Make(o), Post(2, server.Url("https", "/ok")));
  CHECK(r.status == 0);
  CHECK(r.tls_error);
  CHECK(r.error.find("(curl 90)") != std::string::npos);
}

TEST_CASE("a server that requires a client certificate gets ours", "[ship]") {
  const TestPki& pki = Pki();
  REQUIRE(pki.ok);
  TestServer server({pki.Path("server.pem"), pki.Path("server.key"), pki.Path("ca.pem")});
  REQUIRE(server.port() > 0);

  TransportOptions o = LocalOptions();
  o.trust = ResolveTlsTrust(pki.File("ca.pem"));
  HttpResponse r = SendOne(*Make(o), Post(1, server.Url("https", "/ok")));
  // Refused without one. TLS 1.3 refuses after the handshake, so libcurl reports a
  // send or receive error (tls_error only when it names the alert).
  CHECK(r.status == 0);

  o.client_cert = pki.File("client.pem");
  o.client_key = pki.File("client.key");
  r = SendOne(*Make(o), Post(2, server.Url("https", "/ok")));
  CHECK(r.status == 200);
}

#endif  // _WIN32

}  // namespace
}  // namespace outpost

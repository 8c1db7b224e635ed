// Fixture tests of the splunk_hec output: the HEC event request a chunk becomes
// (docs/outputs.md "splunk_hec").
#include <catch.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chunk/gzip_codec.h"
#include "chunk/zstd_codec.h"
#include "ship/outputs/splunk_hec.h"

namespace outpost {
namespace {

constexpr const char* kAgent = "b1828039ca213a8aee70b5e41b0ccae6";

// Records as outpost writes them (docs/records.md): a static field, a cut line,
// non-ASCII text with an escaped invalid byte, and a record without a path.
const std::vector<std::string> kRecords = {
    R"({"@timestamp":"2026-11-25T10:58:12.212Z","host":"vm","agent_id":"b1828039ca213a8aee70b5e41b0ccae6","stream":"app","source":"file","path":"/var/log/app.log","offset":81,"message":"GET /api/v2/orders 500 604ms","env":"demo"})",
    R"({"@timestamp":"2026-11-25T10:58:12.212Z","host":"vm","agent_id":"b1828039ca213a8aee70b5e41b0ccae6","stream":"app","source":"file","path":"/var/log/app.log","offset":139297,"message":"payload=aaaaaaaa","truncated":true,"env":"demo"})",
    R"({"@timestamp":"2026-11-25T10:58:13.005Z","host":"vm","agent_id":"b1828039ca213a8aee70b5e41b0ccae6","stream":"app","source":"file","path":"/var/log/app.log","offset":206977,"message":"Grüße aus 東京: cannot store 'r\\xe9sum\\xe9.pdf'","env":"demo"})",
    R"({"@timestamp":"1969-12-31T23:59:59.250Z","host":"vm","agent_id":"b1828039ca213a8aee70b5e41b0ccae6","stream":"checks","source":"check","check_id":"ssh-root-login-disabled","status":"pass"})",
};

StoredChunk MakeChunk(const std::vector<std::string>& lines, int64_t id = 42) {
  std::string ndjson;
  for (const std::string& line : lines) ndjson += line + "\n";
  StoredChunk c;
  c.id = id;
  c.chunk.stream = "app";
  c.chunk.records = lines.size();
  c.chunk.raw_bytes = ndjson.size();
  c.chunk.body = *ZstdCompress(ndjson, 3);
  return c;
}

OutputContext Context(std::string endpoint = "https://splunk.example:8088") {
  OutputContext c;
  c.endpoint = std::move(endpoint);
  c.agent_id = kAgent;
  c.host = "agent-host";
  c.os = "linux";
  c.version = "0.9.0";
  c.token = "tok";
  c.config.type = OutputType::kSplunkHec;
  return c;
}

std::optional<std::string> Header(const HttpRequest& r, std::string_view name) {
  for (const auto& [key, value] : r.headers)
    if (key == name) return value;
  return std::nullopt;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  out.push_back(text.substr(start));
  return out;
}

nlohmann::json Parse(const std::string& text) {
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

TEST_CASE("splunk_hec sends one event per record with HEC metadata", "[ship]") {
  SplunkHecOutput out(Context());
  Result<HttpRequest> r = out.Encode(MakeChunk(kRecords));
  REQUIRE(r.ok());
  CHECK(r->tag == 42);
  CHECK(r->url == "https://splunk.example:8088/services/collector/event");
  CHECK(Header(*r, "Content-Type") == "application/json");
  CHECK(Header(*r, "Content-Encoding") == "gzip");
  CHECK(Header(*r, "Idempotency-Key") == std::string(kAgent) + "-42");
  CHECK(Header(*r, "X-Splunk-Request-Channel") == "b1828039-ca21-3a8a-ee70-b5e41b0ccae6");

  Result<std::string> body = GzipDecompress(r->body, 1 << 20);
  REQUIRE(body.ok());
  const std::vector<std::string> events = Lines(*body);
  const std::vector<nlohmann::json> expected = {
      {{"time", 1795604292.212},
       {"host", "vm"},
       {"source", "/var/log/app.log"},
       {"sourcetype", "_json"},
       {"event", Parse(kRecords[0])},
       {"fields", {{"stream", "app"}, {"agent_id", kAgent}}}},
      {{"time", 1795604292.212},
       {"host", "vm"},
       {"source", "/var/log/app.log"},
       {"sourcetype", "_json"},
       {"event",
        {{"@timestamp", "2026-11-25T10:58:12.212Z"},
         {"host", "vm"},
         {"agent_id", kAgent},
         {"stream", "app"},
         {"source", "file"},
         {"path", "/var/log/app.log"},
         {"offset", 139297},
         {"message", "payload=aaaaaaaa"},
         {"truncated", true},
         {"env", "demo"}}},
       {"fields", {{"stream", "app"}, {"agent_id", kAgent}}}},
      {{"time", 1795604293.005},
       {"host", "vm"},
       {"source", "/var/log/app.log"},
       {"sourcetype", "_json"},
       {"event", Parse(kRecords[2])},
       {"fields", {{"stream", "app"}, {"agent_id", kAgent}}}},
      {{"time", -0.75},
       {"host", "vm"},
       {"source", "checks"},  // no path: the stream
       {"sourcetype", "_json"},
       {"event", Parse(kRecords[3])},
       {"fields", {{"stream", "checks"}, {"agent_id", kAgent}}}},
  };
  REQUIRE(events.size() == expected.size());
  for (size_t i = 0; i < events.size(); ++i) {
    INFO("event " << i << ": " << events[i]);
    CHECK(Parse(events[i]) == expected[i]);
  }
  // The record travels as written (field order, escapes), and time has 3 decimals.
  CHECK(events[0].find(",\"event\":" + kRecords[0] + ",") != std::string::npos);
  CHECK(events[2].find(",\"event\":" + kRecords[2] + ",") != std::string::npos);
  CHECK(events[0].rfind("{\"time\":1795604292.212,", 0) == 0);
  CHECK(events[2].rfind("{\"time\":1795604293.005,", 0) == 0);
  CHECK(events[3].rfind("{\"time\":-0.750,", 0) == 0);
  CHECK(Parse(events[2])["event"]["message"] ==
        "Grüße aus 東京: cannot store 'r\\xe9sum\\xe9.pdf'");
}

TEST_CASE("splunk_hec authenticates with the Splunk scheme, never Bearer", "[ship]") {
  SplunkHecOutput out(Context());
  CHECK_FALSE(out.bearer_auth());
  Result<HttpRequest> r = out.Encode(MakeChunk({kRecords[0]}));
  REQUIRE(r.ok());
  CHECK(Header(*r, "Authorization") == "Splunk tok");
  for (const auto& [key, value] : r->headers) CHECK(value.find("Bearer") == std::string::npos);

  OutputContext no_token = Context();
  no_token.token.clear();
  SplunkHecOutput anonymous(no_token);
  Result<HttpRequest> a = anonymous.Encode(MakeChunk({kRecords[0]}));
  REQUIRE(a.ok());
  CHECK_FALSE(Header(*a, "Authorization"));
}

TEST_CASE("splunk_hec sets index and sourcetype when configured, body uncompressed on request",
          "[ship]") {
  OutputContext context = Context();
  context.config.index = "endpoint_logs";
  context.config.sourcetype = "outpost:log";
  context.config.compression = Compression::kNone;
  SplunkHecOutput out(context);
  Result<HttpRequest> r = out.Encode(MakeChunk({kRecords[1]}, 7));
  REQUIRE(r.ok());
  CHECK_FALSE(Header(*r, "Content-Encoding"));
  CHECK(Header(*r, "Idempotency-Key") == std::string(kAgent) + "-7");
  const nlohmann::json expected = {{"time", 1795604292.212},
                                   {"host", "vm"},
                                   {"source", "/var/log/app.log"},
                                   {"sourcetype", "outpost:log"},
                                   {"index", "endpoint_logs"},
                                   {"event", Parse(kRecords[1])},
                                   {"fields", {{"stream", "app"}, {"agent_id", kAgent}}}};
  CHECK(Parse(r->body) == expected);
}

TEST_CASE("splunk_hec falls back to the agent's values for a line that is not a record", "[ship]") {
  OutputContext context = Context();
  context.config.compression = Compression::kNone;
  SplunkHecOutput out(context);
  Result<HttpRequest> r = out.Encode(MakeChunk({"this line is not JSON"}));
  REQUIRE(r.ok());
  // No @timestamp: no "time" (Splunk stamps it on arrival).
  const nlohmann::json expected = {{"host", "agent-host"},
                                   {"source", "app"},
                                   {"sourcetype", "_json"},
                                   {"event", {{"message", "this line is not JSON"}}},
                                   {"fields", {{"stream", "app"}, {"agent_id", kAgent}}}};
  CHECK(Parse(r->body) == expected);
}

TEST_CASE("splunk_hec keeps an endpoint's own path", "[ship]") {
  auto url = [](const std::string& endpoint) {
    SplunkHecOutput out(Context(endpoint));
    Result<HttpRequest> r = out.Encode(MakeChunk({kRecords[0]}));
    REQUIRE(r.ok());
    return r->url;
  };
  CHECK(url("https://splunk.example:8088/") ==
        "https://splunk.example:8088/services/collector/event");
  CHECK(url("https://gw.example/hec/services/collector/event/1.0") ==
        "https://gw.example/hec/services/collector/event/1.0");
}

TEST_CASE("splunk_hec refuses a chunk whose records cannot be read", "[ship]") {
  StoredChunk bad = MakeChunk(kRecords);
  bad.chunk.body = "not zstd";
  SplunkHecOutput out(Context());
  Result<HttpRequest> r = out.Encode(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kCorrupt);
}

}  // namespace
}  // namespace outpost

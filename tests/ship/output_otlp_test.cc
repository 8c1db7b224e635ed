// Fixture tests of the otlp output: records as outpost writes them in, the OTLP/HTTP JSON
// request docs/outputs.md#otlp describes out, compared as whole JSON documents.
#include <catch.hpp>
#include <nlohmann/json.hpp>

#include "chunk/gzip_codec.h"
#include "chunk/zstd_codec.h"
#include "ship/outputs/otlp.h"

namespace outpost {
namespace {

using nlohmann::json;

StoredChunk MakeChunk(const std::string& ndjson, uint64_t records, int64_t id = 7) {
  StoredChunk c;
  c.id = id;
  c.chunk.stream = "app";
  c.chunk.created_at_ms = 1795604292000;
  c.chunk.records = records;
  c.chunk.raw_bytes = ndjson.size();
  c.chunk.body = *ZstdCompress(ndjson, 3);
  return c;
}

OutputContext MakeContext(Compression compression = Compression::kAuto) {
  OutputContext context;
  context.endpoint = "https://otel.example:4318";
  context.agent_id = "b1828039ca213a8aee70b5e41b0ccae6";
  context.host = "vm";
  context.os = "macos";
  context.version = "0.4.0";
  context.config.type = OutputType::kOtlp;
  context.config.compression = compression;
  return context;
}

std::string Header(const HttpRequest& r, const std::string& name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return "<absent>";
}

// Three records of a source "app" with [agent] fields = { env = "demo" }: an INFO line,
// a WARN line holding an escaped invalid byte, non-ASCII text and cut at max_line_bytes,
// and a line without a level word (lower-case "error" in prose is not one).
const char* const kRecords =
    R"({"@timestamp":"2026-11-25T10:58:12.212Z","host":"vm","agent_id":"b1828039ca213a8aee70b5e41b0ccae6","stream":"app","source":"file","path":"/var/log/app.log","offset":81,"message":"2026-11-25T10:00:00.224Z INFO  http: \"POST /api/v2/orders HTTP/1.1\" 500","env":"demo"}
{"@timestamp":"2026-11-25T10:58:12.213Z","host":"vm","agent_id":"b1828039ca213a8aee70b5e41b0ccae6","stream":"app","source":"file","path":"/var/log/app.log","offset":139297,"message":"2026-11-25T10:02:30.054Z WARN  upload: cannot store 'r\\xe9sum\\xe9.pdf' for Zoë\tcolour \u001b[31mred","truncated":true,"env":"demo"}
{"@timestamp":"2026-11-25T12:58:12.5+02:00","host":"vm","agent_id":"b1828039ca213a8aee70b5e41b0ccae6","stream":"app","source":"file","path":"/var/log/app.log","offset":206977,"message":"retrying after a connection error","env":"demo"}
)";

// The request those records make: written out by hand from docs/outputs.md#otlp.
const char* const kExpected = R"({"resourceLogs":[{
  "resource":{"attributes":[
    {"key":"host.name","value":{"stringValue":"vm"}},
    {"key":"service.name","value":{"stringValue":"outpost"}},
    {"key":"service.version","value":{"stringValue":"0.4.0"}},
    {"key":"os.type","value":{"stringValue":"darwin"}}]},
  "scopeLogs":[{"scope":{"name":"outpost","version":"0.4.0"},"logRecords":[
    {"timeUnixNano":"1795604292212000000","observedTimeUnixNano":"1795604292212000000",
     "severityNumber":9,"severityText":"INFO",
     "body":{"stringValue":"2026-11-25T10:00:00.224Z INFO  http: \"POST /api/v2/orders HTTP/1.1\" 500"},
     "attributes":[
       {"key":"outpost.agent_id","value":{"stringValue":"b1828039ca213a8aee70b5e41b0ccae6"}},
       {"key":"env","value":{"stringValue":"demo"}},
       {"key":"log.file.record_offset","value":{"intValue":"81"}},
       {"key":"log.file.path","value":{"stringValue":"/var/log/app.log"}},
       {"key":"outpost.source","value":{"stringValue":"file"}},
       {"key":"outpost.stream","value":{"stringValue":"app"}}]},
    {"timeUnixNano":"1795604292213000000","observedTimeUnixNano":"1795604292213000000",
     "severityNumber":13,"severityText":"WARN",
     "body":{"stringValue":"2026-11-25T10:02:30.054Z WARN  upload: cannot store 'r\\xe9sum\\xe9.pdf' for Zoë\tcolour \u001b[31mred"},
     "attributes":[
       {"key":"outpost.agent_id","value":{"stringValue":"b1828039ca213a8aee70b5e41b0ccae6"}},
       {"key":"env","value":{"stringValue":"demo"}},
       {"key":"log.file.record_offset","value":{"intValue":"139297"}},
       {"key":"log.file.path","value":{"stringValue":"/var/log/app.log"}},
       {"key":"outpost.source","value":{"stringValue":"file"}},
       {"key":"outpost.stream","value":{"stringValue":"app"}},
       {"key":"outpost.truncated","value":{"boolValue":true}}]},
    {"timeUnixNano":"1795604292500000000","observedTimeUnixNano":"1795604292500000000",
     "body":{"stringValue":"retrying after a connection error"},
     "attributes":[
       {"key":"outpost.agent_id","value":{"stringValue":"b1828039ca213a8aee70b5e41b0ccae6"}},
       {"key":"env","value":{"stringValue":"demo"}},
       {"key":"log.file.record_offset","value":{"intValue":"206977"}},
       {"key":"log.file.path","value":{"stringValue":"/var/log/app.log"}},
       {"key":"outpost.source","value":{"stringValue":"file"}},
       {"key":"outpost.stream","value":{"stringValue":"app"}}]}
  ]}]}]})";

json GzipBody(const HttpRequest& r) {
  Result<std::string> raw = GzipDecompress(r.body, 1 << 20);
  REQUIRE(raw.ok());
  return json::parse(*raw);
}

// The severityNumber of each record of a chunk (0 when left out).
std::vector<int> SeverityNumbers(const std::string& ndjson, uint64_t records) {
  OtlpOutput output(MakeContext(Compression::kNone));
  Result<HttpRequest> r = output.Encode(MakeChunk(ndjson, records));
  REQUIRE(r.ok());
  std::vector<int> out;
  const json body = json::parse(r->body);
  for (const json& l : body["resourceLogs"][0]["scopeLogs"][0]["logRecords"])
    out.push_back(l.value("severityNumber", 0));
  return out;
}

TEST_CASE("otlp encodes a chunk as the documented ExportLogsServiceRequest", "[ship]") {
  OtlpOutput output(MakeContext());
  CHECK(output.name() == "otlp");
  Result<HttpRequest> r = output.Encode(MakeChunk(kRecords, 3));
  REQUIRE(r.ok());
  CHECK(r->tag == 7);
  CHECK(r->url == "https://otel.example:4318/v1/logs");
  CHECK(Header(*r, "Content-Type") == "application/json");
  CHECK(Header(*r, "Content-Encoding") == "gzip");
  CHECK(Header(*r, "Idempotency-Key") == "b1828039ca213a8aee70b5e41b0ccae6-7");
  const json body = GzipBody(*r);
  const json expected = json::parse(kExpected);
  INFO("got:  " << body.dump(1) << "\nwant: " << expected.dump(1));
  CHECK(body == expected);
}

TEST_CASE("otlp keeps an endpoint's own path and sends plain JSON without compression", "[ship]") {
  OutputContext context = MakeContext(Compression::kNone);
  context.endpoint = "https://gw.example/tenant-a/otlp/v1/logs";
  OtlpOutput output(context);
  Result<HttpRequest> r = output.Encode(MakeChunk(kRecords, 3));
  REQUIRE(r.ok());
  CHECK(r->url == "https://gw.example/tenant-a/otlp/v1/logs");
  CHECK(Header(*r, "Content-Encoding") == "<absent>");
  CHECK(json::parse(r->body) == json::parse(kExpected));
}

TEST_CASE("otlp compresses with zstd when configured", "[ship]") {
  OtlpOutput output(MakeContext(Compression::kZstd));
  Result<HttpRequest> r = output.Encode(MakeChunk(kRecords, 3));
  REQUIRE(r.ok());
  CHECK(Header(*r, "Content-Encoding") == "zstd");
  Result<std::string> raw = ZstdDecompress(r->body, 1 << 20);
  REQUIRE(raw.ok());
  CHECK(json::parse(*raw) == json::parse(kExpected));
}

TEST_CASE("otlp sends a check result as its JSON text with its severity", "[ship]") {
  const std::string line =
      R"({"@timestamp":"2026-11-25T10:58:12.212Z","host":"vm","agent_id":"a1","stream":"checks","source":"check","check_id":"ssh-root","title":"SSH denies root","severity":"high","status":"fail","rows":[{"value":"yes","n":2}]})";
  OtlpOutput output(MakeContext(Compression::kNone));
  Result<HttpRequest> r = output.Encode(MakeChunk(line + "\n", 1));
  REQUIRE(r.ok());
  const json record = json::parse(r->body)["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
  const json expected = json::parse(R"({
    "timeUnixNano":"1795604292212000000","observedTimeUnixNano":"1795604292212000000",
    "severityNumber":17,"severityText":"high",
    "body":{"stringValue":)" + json(line).dump() +
                                    R"(},
    "attributes":[
      {"key":"outpost.agent_id","value":{"stringValue":"a1"}},
      {"key":"check_id","value":{"stringValue":"ssh-root"}},
      {"key":"rows","value":{"arrayValue":{"values":[{"kvlistValue":{"values":[
        {"key":"n","value":{"intValue":"2"}},{"key":"value","value":{"stringValue":"yes"}}]}}]}}},
      {"key":"severity","value":{"stringValue":"high"}},
      {"key":"outpost.source","value":{"stringValue":"check"}},
      {"key":"status","value":{"stringValue":"fail"}},
      {"key":"outpost.stream","value":{"stringValue":"checks"}},
      {"key":"title","value":{"stringValue":"SSH denies root"}}]})");
  INFO("got:  " << record.dump(1));
  CHECK(record == expected);
}

TEST_CASE("otlp finds a level word only as a whole upper-case token near the start", "[ship]") {
  const std::string ndjson =
      "{\"message\":\"[ERROR] disk full\"}\n"
      "{\"message\":\"2026-11-25 10:00:00,224 FATAL main - bye\"}\n"
      "{\"message\":\"W: WARNING: low space\"}\n"
      "{\"message\":\"ts=1 DEBUG: x\"}\n"
      "{\"message\":\"INFORMATION ERROR_CODE=5\"}\n"
      "{\"message\":\"an error happened\"}\n"
      "{\"message\":\"" +
      std::string(80, '.') +
      " ERROR late\"}\n"
      "{\"message\":\"ERROR here\",\"level\":\"debug\"}\n"
      "{\"message\":\"x\",\"severity\":\"Crit\"}\n"
      "{\"message\":\"NOTICE x\",\"level\":\"verbose\"}\n";
  CHECK(SeverityNumbers(ndjson, 10) == std::vector<int>{17, 21, 13, 5, 0, 0, 0, 5, 21, 0});
}

TEST_CASE("otlp refuses a corrupt chunk", "[ship]") {
  StoredChunk bad = MakeChunk(kRecords, 3);
  bad.chunk.body = "not zstd at all";
  OtlpOutput output(MakeContext());
  Result<HttpRequest> r = output.Encode(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kCorrupt);
  CHECK(output.Encode(MakeChunk(kRecords, 4)).status().code() == Code::kCorrupt);
}

}  // namespace
}  // namespace outpost

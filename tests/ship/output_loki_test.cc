// Fixture tests of the loki output: records as outpost writes them in, the Loki push
// request docs/outputs.md#loki describes out, compared as whole JSON documents.
#include <catch.hpp>
#include <nlohmann/json.hpp>

#include "chunk/gzip_codec.h"
#include "chunk/zstd_codec.h"
#include "ship/outputs/loki.h"

namespace outpost {
namespace {

using nlohmann::json;

StoredChunk MakeChunk(const std::string& ndjson, uint64_t records, int64_t id = 9) {
  StoredChunk c;
  c.id = id;
  c.chunk.stream = "app";
  c.chunk.created_at_ms = 1795604292000;
  c.chunk.records = records;
  c.chunk.raw_bytes = ndjson.size();
  c.chunk.body = *ZstdCompress(ndjson, 3);
  return c;
}

OutputContext MakeContext(Compression compression = Compression::kAuto,
                          std::vector<std::string> labels = {}) {
  OutputContext context;
  context.endpoint = "http://loki.example:3100";
  context.agent_id = "b1828039ca213a8aee70b5e41b0ccae6";
  context.host = "vm";
  context.os = "linux";
  context.version = "0.4.0";
  context.config.type = OutputType::kLoki;
  context.config.compression = compression;
  context.config.labels = std::move(labels);
  return context;
}

std::string Header(const HttpRequest& r, const std::string& name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return "<absent>";
}

// Three records of a source "app" with [agent] fields = { env = "demo" }: an INFO line,
// a WARN line holding an escaped invalid byte, non-ASCII text and cut at max_line_bytes,
// and an ERROR line.
const char* const kRecords =
    R"({"@timestamp":"2026-11-25T10:58:12.212Z","host":"vm","agent_id":"b1828039ca213a8aee70b5e41b0ccae6","stream":"app","source":"file","path":"/var/log/app.log","offset":81,"message":"2026-11-25T10:00:00.224Z INFO  http: \"POST /api/v2/orders HTTP/1.1\" 500","env":"demo"}
{"@timestamp":"2026-11-25T10:58:12.213Z","host":"vm","agent_id":"b1828039ca213a8aee70b5e41b0ccae6","stream":"app","source":"file","path":"/var/log/app.log","offset":139297,"message":"2026-11-25T10:02:30.054Z WARN  upload: cannot store 'r\\xe9sum\\xe9.pdf' for Zoë\tcolour \u001b[31mred","truncated":true,"env":"demo"}
{"@timestamp":"2026-11-25T12:58:12.5+02:00","host":"vm","agent_id":"b1828039ca213a8aee70b5e41b0ccae6","stream":"app","source":"file","path":"/var/log/app.log","offset":206977,"message":"2026-11-25T10:03:42.280Z ERROR db: connection refused","env":"demo"}
)";

// The request those records make with labels = ["env"]: written out by hand from
// docs/outputs.md#loki. path, offset, agent_id and truncated are not sent.
const char* const kExpected = R"({"streams":[
  {"stream":{"stream":"app","host":"vm","source":"file","env":"demo"},
   "values":[
     ["1795604292212000000","2026-11-25T10:00:00.224Z INFO  http: \"POST /api/v2/orders HTTP/1.1\" 500"],
     ["1795604292213000000","2026-11-25T10:02:30.054Z WARN  upload: cannot store 'r\\xe9sum\\xe9.pdf' for Zoë\tcolour \u001b[31mred"],
     ["1795604292500000000","2026-11-25T10:03:42.280Z ERROR db: connection refused"]]}]})";

json GzipBody(const HttpRequest& r) {
  Result<std::string> raw = GzipDecompress(r.body, 1 << 20);
  REQUIRE(raw.ok());
  return json::parse(*raw);
}

TEST_CASE("loki encodes a chunk as the documented push request", "[ship]") {
  LokiOutput output(MakeContext(Compression::kAuto, {"env"}));
  CHECK(output.name() == "loki");
  Result<HttpRequest> r = output.Encode(MakeChunk(kRecords, 3));
  REQUIRE(r.ok());
  CHECK(r->tag == 9);
  CHECK(r->url == "http://loki.example:3100/loki/api/v1/push");
  CHECK(Header(*r, "Content-Type") == "application/json");
  CHECK(Header(*r, "Content-Encoding") == "gzip");
  CHECK(Header(*r, "Idempotency-Key") == "b1828039ca213a8aee70b5e41b0ccae6-9");
  const json body = GzipBody(*r);
  const json expected = json::parse(kExpected);
  INFO("got:  " << body.dump(1) << "\nwant: " << expected.dump(1));
  CHECK(body == expected);
}

TEST_CASE("loki keeps an endpoint's own path and sends plain JSON without compression", "[ship]") {
  OutputContext context = MakeContext(Compression::kNone, {"env"});
  context.endpoint = "https://gw.example/tenant-a/push";
  LokiOutput output(context);
  Result<HttpRequest> r = output.Encode(MakeChunk(kRecords, 3));
  REQUIRE(r.ok());
  CHECK(r->url == "https://gw.example/tenant-a/push");
  CHECK(Header(*r, "Content-Encoding") == "<absent>");
  CHECK(json::parse(r->body) == json::parse(kExpected));
}

TEST_CASE("loki labels are stream, host and source unless labels names more", "[ship]") {
  LokiOutput output(MakeContext(Compression::kNone));
  Result<HttpRequest> r = output.Encode(MakeChunk(kRecords, 3));
  REQUIRE(r.ok());
  const json streams = json::parse(r->body)["streams"];
  REQUIRE(streams.size() == 1);
  CHECK(streams[0]["stream"] == json::parse(R"({"stream":"app","host":"vm","source":"file"})"));
  CHECK(streams[0]["values"].size() == 3);
}

TEST_CASE("loki groups records by label set in first-appearance order", "[ship]") {
  // Labels: a static field with a dot (sanitised to '_'), one starting with a digit,
  // message and offset (never labels), and a field only some records have.
  const std::string ndjson =
      R"({"@timestamp":"2026-11-25T10:58:12.212Z","host":"vm","stream":"app","source":"file","offset":1,"message":"a","k8s.ns":"prod","2fa":"on"}
{"@timestamp":"2026-11-25T10:58:12.213Z","host":"vm","stream":"app","source":"file","offset":2,"message":"b","k8s.ns":"dev"}
{"@timestamp":"2026-11-25T10:58:12.214Z","host":"vm","stream":"app","source":"file","offset":3,"message":"c","k8s.ns":"prod","2fa":"on"}
{"@timestamp":"2026-11-25T10:58:12.215Z","host":"vm","stream":"app","source":"file","offset":4,"message":"d"}
{"@timestamp":"2026-11-25T10:58:12.216Z","host":"vm","stream":"checks","source":"check","check_id":"ssh","status":"pass"}
)";
  LokiOutput output(
      MakeContext(Compression::kGzip, {"k8s.ns", "2fa", "message", "offset", "missing"}));
  Result<HttpRequest> r = output.Encode(MakeChunk(ndjson, 5));
  REQUIRE(r.ok());
  const json expected = json::parse(R"({"streams":[
    {"stream":{"stream":"app","host":"vm","source":"file","k8s_ns":"prod","_2fa":"on"},
     "values":[["1795604292212000000","a"],["1795604292214000000","c"]]},
    {"stream":{"stream":"app","host":"vm","source":"file","k8s_ns":"dev"},
     "values":[["1795604292213000000","b"]]},
    {"stream":{"stream":"app","host":"vm","source":"file"},
     "values":[["1795604292215000000","d"]]},
    {"stream":{"stream":"checks","host":"vm","source":"check"},
     "values":[["1795604292216000000",
       "{\"@timestamp\":\"2026-11-25T10:58:12.216Z\",\"host\":\"vm\",\"stream\":\"checks\",\"source\":\"check\",\"check_id\":\"ssh\",\"status\":\"pass\"}"]]}]})");
  const json body = GzipBody(*r);
  INFO("got:  " << body.dump(1));
  CHECK(body == expected);
}

TEST_CASE("loki falls back to the chunk's stream, the agent's host and creation time", "[ship]") {
  LokiOutput output(MakeContext(Compression::kNone));
  Result<HttpRequest> r = output.Encode(MakeChunk("{\"message\":\"bare\"}\n", 1));
  REQUIRE(r.ok());
  CHECK(json::parse(r->body) == json::parse(R"({"streams":[{"stream":{"stream":"app","host":"vm"},
    "values":[["1795604292000000000","bare"]]}]})"));
}

TEST_CASE("loki refuses a corrupt chunk", "[ship]") {
  StoredChunk bad = MakeChunk(kRecords, 3);
  bad.chunk.body = "not zstd at all";
  LokiOutput output(MakeContext());
  Result<HttpRequest> r = output.Encode(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kCorrupt);
  CHECK(output.Encode(MakeChunk(kRecords, 2)).status().code() == Code::kCorrupt);
}

}  // namespace
}  // namespace outpost

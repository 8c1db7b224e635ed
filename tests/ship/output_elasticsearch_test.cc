// Fixture tests of the elasticsearch output: the _bulk request a chunk becomes, and how
// a _bulk answer maps to records (docs/outputs.md "elasticsearch").
#include <catch.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chunk/gzip_codec.h"
#include "chunk/zstd_codec.h"
#include "ship/outputs/elasticsearch.h"

namespace outpost {
namespace {

constexpr const char* kAgent = "b1828039ca213a8aee70b5e41b0ccae6";
constexpr const char* kFilter =
    "filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason";

// Records as the file source writes them (docs/records.md): a static field, a cut line,
// non-ASCII text and an escaped invalid byte.
const std::vector<std::string> kRecords = {
    R"({"@timestamp":"2026-11-25T10:58:12.212Z","host":"vm","agent_id":"b1828039ca213a8aee70b5e41b0ccae6","stream":"app","source":"file","path":"/var/log/app.log","offset":81,"message":"GET /api/v2/orders 500 604ms","env":"demo"})",
    R"({"@timestamp":"2026-11-25T10:58:12.212Z","host":"vm","agent_id":"b1828039ca213a8aee70b5e41b0ccae6","stream":"app","source":"file","path":"/var/log/app.log","offset":139297,"message":"payload=aaaaaaaa","truncated":true,"env":"demo"})",
    R"({"@timestamp":"2026-11-25T10:58:13.005Z","host":"vm","agent_id":"b1828039ca213a8aee70b5e41b0ccae6","stream":"app","source":"file","path":"/var/log/app.log","offset":206977,"message":"Grüße aus 東京: cannot store 'r\\xe9sum\\xe9.pdf'","env":"demo"})",
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

OutputContext Context(std::string endpoint = "https://es.example:9200") {
  OutputContext c;
  c.endpoint = std::move(endpoint);
  c.agent_id = kAgent;
  c.host = "vm";
  c.os = "linux";
  c.version = "0.9.0";
  c.token = "secret";
  c.config.type = OutputType::kElasticsearch;
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
  if (start < text.size()) out.push_back(text.substr(start));
  return out;
}

HttpResponse Answer(std::string body) {
  HttpResponse r;
  r.tag = 42;
  r.status = 200;
  r.body = std::move(body);
  r.keep_body_bytes = ElasticsearchOutput::kMinAnswerBytes;
  return r;
}

TEST_CASE("elasticsearch sends a create action with a deterministic _id per record", "[ship]") {
  ElasticsearchOutput out(Context());
  Result<HttpRequest> r = out.Encode(MakeChunk(kRecords));
  REQUIRE(r.ok());
  CHECK(r->tag == 42);
  CHECK(r->url == std::string("https://es.example:9200/_bulk?") + kFilter);
  CHECK(Header(*r, "Content-Type") == "application/x-ndjson");
  CHECK(Header(*r, "Content-Encoding") == "gzip");
  CHECK(Header(*r, "Idempotency-Key") == std::string(kAgent) + "-42");
  CHECK_FALSE(Header(*r, "Authorization"));  // Bearer is the transport's
  CHECK(out.bearer_auth());
  CHECK(r->keep_body_bytes >= ElasticsearchOutput::kMinAnswerBytes);

  Result<std::string> body = GzipDecompress(r->body, 1 << 20);
  REQUIRE(body.ok());
  const std::vector<std::string> expected = {
      R"({"create":{"_index":"outpost","_id":"b1828039ca213a8aee70b5e41b0ccae6-42-0"}})",
      kRecords[0],
      R"({"create":{"_index":"outpost","_id":"b1828039ca213a8aee70b5e41b0ccae6-42-1"}})",
      kRecords[1],
      R"({"create":{"_index":"outpost","_id":"b1828039ca213a8aee70b5e41b0ccae6-42-2"}})",
      kRecords[2],
  };
  CHECK(Lines(*body) == expected);
  CHECK(body->back() == '\n');  // _bulk needs the final newline
}

TEST_CASE("elasticsearch uses the configured index and sends uncompressed on request", "[ship]") {
  OutputContext context = Context();
  context.config.index = "logs-outpost-default";
  context.config.compression = Compression::kNone;
  ElasticsearchOutput out(context);
  Result<HttpRequest> r = out.Encode(MakeChunk({kRecords[2]}, 7));
  REQUIRE(r.ok());
  CHECK_FALSE(Header(*r, "Content-Encoding"));
  CHECK(Header(*r, "Idempotency-Key") == std::string(kAgent) + "-7");
  CHECK(
      r->body ==
      R"({"create":{"_index":"logs-outpost-default","_id":"b1828039ca213a8aee70b5e41b0ccae6-7-0"}})"
      "\n" +
          kRecords[2] + "\n");
}

TEST_CASE("elasticsearch keeps an endpoint's own path and query", "[ship]") {
  const std::string filter = kFilter;
  auto url = [](const std::string& endpoint) {
    ElasticsearchOutput out(Context(endpoint));
    Result<HttpRequest> r = out.Encode(MakeChunk({kRecords[0]}));
    REQUIRE(r.ok());
    return r->url;
  };
  CHECK(url("https://es.example:9200/") == "https://es.example:9200/_bulk?" + filter);
  CHECK(url("https://gw.example/logs-outpost/_bulk") ==
        "https://gw.example/logs-outpost/_bulk?" + filter);
  CHECK(url("https://gw.example/es/_bulk?pipeline=p") ==
        "https://gw.example/es/_bulk?pipeline=p&" + filter);
  CHECK(url("https://es.example:9200?pipeline=p") ==
        "https://es.example:9200/_bulk?pipeline=p&" + filter);
  CHECK(url("https://es.example:9200/_bulk?filter_path=items") ==
        "https://es.example:9200/_bulk?filter_path=items");
}

TEST_CASE("elasticsearch refuses a chunk whose records cannot be read", "[ship]") {
  StoredChunk bad = MakeChunk(kRecords);
  bad.chunk.records = 5;
  ElasticsearchOutput out(Context());
  Result<HttpRequest> r = out.Encode(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kCorrupt);
}

TEST_CASE("elasticsearch sends a line that is not a JSON object as a message document", "[ship]") {
  OutputContext context = Context();
  context.config.compression = Compression::kNone;
  ElasticsearchOutput out(context);
  Result<HttpRequest> r = out.Encode(MakeChunk({"this line is not JSON", ""}));
  REQUIRE(r.ok());
  const std::vector<std::string> expected = {
      R"({"create":{"_index":"outpost","_id":"b1828039ca213a8aee70b5e41b0ccae6-42-0"}})",
      R"({"message":"this line is not JSON"})",
      R"({"create":{"_index":"outpost","_id":"b1828039ca213a8aee70b5e41b0ccae6-42-1"}})",
      R"({"message":""})",
  };
  CHECK(Lines(r->body) == expected);
}

TEST_CASE("elasticsearch: errors false means every record was delivered", "[ship]") {
  ElasticsearchOutput out(Context());
  const StoredChunk chunk = MakeChunk(kRecords);
  Result<RecordFailures> f = out.ReadAnswer(
      Answer(R"({"errors":false,"items":[{"create":{"status":201}},{"create":{"status":201}},)"
             R"({"create":{"status":201}}]})"),
      chunk);
  REQUIRE(f.ok());
  CHECK(f->empty());
  // The fast path does not need the items.
  f = out.ReadAnswer(Answer(R"({"errors":false})"), chunk);
  REQUIRE(f.ok());
  CHECK(f->empty());
}

TEST_CASE("elasticsearch maps item statuses to delivered, retried and dead records", "[ship]") {
  ElasticsearchOutput out(Context());
  const StoredChunk chunk =
      MakeChunk({kRecords[0], kRecords[1], kRecords[2], kRecords[0], kRecords[1]});
  Result<RecordFailures> f = out.ReadAnswer(Answer(R"j({"errors":true,"items":[
      {"create":{"status":201}},
      {"create":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"}}},
      {"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [offset] of type [long]"}}},
      {"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"[b18-42-3]: version conflict, document already exists (current version [1])"}}},
      {"index":{"status":503,"error":{"type":"unavailable_shards_exception","reason":"primary shard is not active"}}}
  ]})j"),
                                            chunk);
  REQUIRE(f.ok());
  CHECK(f->retry == std::vector<uint32_t>{1, 4});
  CHECK(f->dead == std::vector<uint32_t>{2});
  CHECK(f->retry_reason ==
        "es_rejected_execution_exception: rejected execution of coordinating operation");
  CHECK(f->dead_reason ==
        "mapper_parsing_exception: failed to parse field [offset] of type [long]");
}

TEST_CASE("elasticsearch counts 409 on a resend as delivered", "[ship]") {
  ElasticsearchOutput out(Context());
  Result<RecordFailures> f = out.ReadAnswer(
      Answer(
          R"({"errors":true,"items":[{"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"exists"}}},)"
          R"({"create":{"status":201}},{"create":{"status":409}}]})"),
      MakeChunk(kRecords));
  REQUIRE(f.ok());
  CHECK(f->empty());
}

TEST_CASE("elasticsearch keeps an item's reason short and printable", "[ship]") {
  ElasticsearchOutput out(Context());
  std::string long_reason;
  for (int i = 0; i < 150; ++i) long_reason += "é";
  Result<RecordFailures> f = out.ReadAnswer(
      Answer(
          R"({"errors":true,"items":[{"create":{"status":400,"error":{"type":"xy","reason":"a\nb)" +
          long_reason + R"("}}},{"create":{"status":500}},{"create":{"status":201}}]})"),
      MakeChunk(kRecords));
  REQUIRE(f.ok());
  CHECK(f->dead == std::vector<uint32_t>{0});
  CHECK(f->retry == std::vector<uint32_t>{1});
  CHECK(f->retry_reason == "status 500");
  CHECK(f->dead_reason.rfind("xy: a b\xc3\xa9", 0) == 0);
  CHECK(f->dead_reason.size() <= ElasticsearchOutput::kMaxReasonBytes + 3);
  CHECK(f->dead_reason.substr(f->dead_reason.size() - 5) == "\xc3\xa9...");  // whole characters
}

TEST_CASE("elasticsearch cannot read a cut, garbage or mismatched answer", "[ship]") {
  ElasticsearchOutput out(Context());
  const StoredChunk chunk = MakeChunk(kRecords);
  auto read = [&](HttpResponse r) { return out.ReadAnswer(r, chunk); };
  const std::string two_items =
      R"({"errors":true,"items":[{"create":{"status":201}},{"create":{"status":400}}]})";
  CHECK_FALSE(read(Answer(two_items)).ok());                   // 2 items for 3 records
  CHECK_FALSE(read(Answer("<html>bad gateway</html>")).ok());  // not JSON
  CHECK_FALSE(read(Answer("")).ok());
  CHECK_FALSE(read(Answer("[]")).ok());
  CHECK_FALSE(read(Answer(R"({"errors":true})")).ok());  // no items
  CHECK_FALSE(read(Answer(R"({"took":3})")).ok());       // neither
  CHECK_FALSE(
      read(
          Answer(
              R"({"errors":true,"items":[{"create":{"status":201}},{"create":{}},{"create":{"status":201}}]})"))
          .ok());  // no status
  CHECK_FALSE(
      read(
          Answer(
              R"({"errors":true,"items":[{"create":{"status":201}},17,{"create":{"status":201}}]})"))
          .ok());  // not an action result
  HttpResponse cut = Answer(R"({"errors":false})");
  cut.body_cut = true;
  Result<RecordFailures> f = read(cut);
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().code() == Code::kCorrupt);
}

}  // namespace
}  // namespace outpost

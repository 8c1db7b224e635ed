// Helpers shared by the re-encoding outputs: chunk records, timestamps, URLs, bodies.
#include <catch.hpp>

#include "chunk/gzip_codec.h"
#include "chunk/zstd_codec.h"
#include "ship/outputs/reencode.h"

namespace outpost {
namespace {

StoredChunk MakeChunk(const std::string& ndjson, uint64_t records) {
  StoredChunk c;
  c.id = 42;
  c.chunk.stream = "app";
  c.chunk.records = records;
  c.chunk.raw_bytes = ndjson.size();
  c.chunk.body = *ZstdCompress(ndjson, 3);
  return c;
}

TEST_CASE("ReadChunkRecords splits the decompressed body into lines", "[ship]") {
  Result<ChunkRecords> r = ReadChunkRecords(MakeChunk("{\"a\":1}\n{\"b\":2}\n", 2));
  REQUIRE(r.ok());
  REQUIRE(r->lines.size() == 2);
  CHECK(r->lines[0] == "{\"a\":1}");
  CHECK(r->lines[1] == "{\"b\":2}");
}

TEST_CASE("ReadChunkRecords refuses a count mismatch and a corrupt body", "[ship]") {
  Result<ChunkRecords> r = ReadChunkRecords(MakeChunk("{\"a\":1}\n", 2));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kCorrupt);
  StoredChunk bad = MakeChunk("{\"a\":1}\n", 1);
  bad.chunk.body = "not zstd";
  CHECK(ReadChunkRecords(bad).status().code() == Code::kCorrupt);
}

TEST_CASE("ParseRecord keeps a line that is not a JSON object as its message", "[ship]") {
  CHECK(ParseRecord("{\"message\":\"x\"}")["message"] == "x");
  CHECK(ParseRecord("[1,2]")["message"] == "[1,2]");
  CHECK(ParseRecord("not json")["message"] == "not json");
}

TEST_CASE("ParseRfc3339Nanos reads UTC and offsets, refuses other text", "[ship]") {
  CHECK(ParseRfc3339Nanos("1970-01-01T00:00:00Z") == 0);
  CHECK(ParseRfc3339Nanos("1970-01-01T00:00:01.5Z") == 1500000000);
  CHECK(ParseRfc3339Nanos("2026-11-25T10:58:12.212Z") == int64_t(1795604292212) * 1000000);
  CHECK(ParseRfc3339Nanos("2026-11-25T12:58:12.212+02:00") == int64_t(1795604292212) * 1000000);
  CHECK(ParseRfc3339Nanos("2000-02-29T00:00:00.000000001Z") == int64_t(951782400) * 1000000000 + 1);
  CHECK_FALSE(ParseRfc3339Nanos("2026-11-25 nope"));
  CHECK_FALSE(ParseRfc3339Nanos("2026-13-25T10:58:12Z"));
  CHECK_FALSE(ParseRfc3339Nanos("2026-11-25T10:58:12"));
  CHECK_FALSE(ParseRfc3339Nanos("2026-11-25T10:58:12.Z"));
  CHECK_FALSE(ParseRfc3339Nanos("2026-11-25T10:58:12Zjunk"));
}

TEST_CASE("EndpointUrl adds the protocol path only to a bare endpoint", "[ship]") {
  CHECK(EndpointUrl("https://loki:3100", "/loki/api/v1/push") ==
        "https://loki:3100/loki/api/v1/push");
  CHECK(EndpointUrl("https://loki:3100/", "/loki/api/v1/push") ==
        "https://loki:3100/loki/api/v1/push");
  CHECK(EndpointUrl("https://gw.example/tenant/push", "/loki/api/v1/push") ==
        "https://gw.example/tenant/push");
  CHECK(EndpointUrl("https://splunk:8088?channel=x", "/services/collector/event") ==
        "https://splunk:8088/services/collector/event?channel=x");
  CHECK(EndpointUrl("https://splunk:8088/?a=b", "/p") == "https://splunk:8088/p?a=b");
}

TEST_CASE("SetBody compresses as configured and names the encoding", "[ship]") {
  const std::string raw(5000, 'x');
  HttpRequest none, gz, zs, autoz;
  REQUIRE(SetBody(Compression::kNone, raw, none).ok());
  CHECK(none.body == raw);
  CHECK(none.headers.empty());
  REQUIRE(SetBody(Compression::kGzip, raw, gz).ok());
  REQUIRE(gz.headers.size() == 1);
  CHECK(gz.headers[0].second == "gzip");
  CHECK(*GzipDecompress(gz.body, raw.size()) == raw);
  REQUIRE(SetBody(Compression::kAuto, raw, autoz).ok());
  CHECK(autoz.headers[0].second == "gzip");
  REQUIRE(SetBody(Compression::kZstd, raw, zs).ok());
  CHECK(zs.headers[0].second == "zstd");
  CHECK(*ZstdDecompress(zs.body, raw.size()) == raw);
}

}  // namespace
}  // namespace outpost

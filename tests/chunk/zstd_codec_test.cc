#include <catch.hpp>

#include "chunk/zstd_codec.h"

namespace outpost {

TEST_CASE("zstd round-trips NDJSON and shrinks it") {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "{\"message\":\"line " + std::to_string(i) + "\"}\n";
  auto packed = ZstdCompress(text, 3);
  REQUIRE(packed.ok());
  CHECK(packed->size() < text.size() / 4);
  auto back = ZstdDecompress(*packed, 1 << 20);
  REQUIRE(back.ok());
  CHECK(*back == text);
}

TEST_CASE("zstd handles empty input and binary bytes") {
  auto empty = ZstdCompress("", 3);
  REQUIRE(empty.ok());
  CHECK(ZstdDecompress(*empty, 10).value_or("x").empty());
  std::string bin;
  for (int i = 0; i < 256; ++i) bin.push_back(static_cast<char>(i));
  CHECK(*ZstdDecompress(*ZstdCompress(bin, 19), 1000) == bin);
}

TEST_CASE("a frame that would decompress beyond the cap is refused") {
  const std::string zeros(1 << 20, '\0');
  auto bomb = ZstdCompress(zeros, 3);
  REQUIRE(bomb.ok());
  auto r = ZstdDecompress(*bomb, 4096);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalidArgument);
}

TEST_CASE("corrupt and truncated frames are errors, not crashes") {
  auto packed = ZstdCompress(std::string(10000, 'a') + "tail", 3);
  REQUIRE(packed.ok());
  auto truncated = ZstdDecompress(std::string_view(*packed).substr(0, packed->size() - 3), 1 << 20);
  CHECK_FALSE(truncated.ok());
  CHECK(ZstdDecompress("definitely not zstd", 1 << 20).status().code() == Code::kCorrupt);
  CHECK_FALSE(ZstdDecompress("", 1 << 20).ok());
}

TEST_CASE("out-of-range levels are refused") {
  CHECK(ZstdCompress("x", 0).status().code() == Code::kInvalidArgument);
  CHECK(ZstdCompress("x", 23).status().code() == Code::kInvalidArgument);
}

}  // namespace outpost

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

TEST_CASE("content that is an exact multiple of the decoder's buffer round-trips") {
  // A chunk sealed at exactly 1 MiB (8 x 128 KiB) was reported as truncated: the last
  // call filled the output buffer exactly and the loop asked once more, with no input.
  // 5 of 1,952 chunks of bench/ingest's 5 M lines ended so.
  const size_t block = ZstdDecompressStep();
  for (size_t size : {block - 1, block, block + 1, 2 * block, 8 * block, 8 * block + 7}) {
    std::string text;
    for (size_t i = 0; text.size() < size; ++i)
      text += "{\"n\":" + std::to_string(i) + ",\"message\":\"line " + std::to_string(i * 7919) +
              "\"}\n";
    text.resize(size);
    for (int level : {1, 3}) {
      INFO("size " << size << ", level " << level);
      auto packed = ZstdCompress(text, level);
      REQUIRE(packed.ok());
      auto back = ZstdDecompress(*packed, size);
      INFO(back.status().ToString());
      REQUIRE(back.ok());
      CHECK(*back == text);
      // One byte short is still an error, whatever the size.
      CHECK_FALSE(
          ZstdDecompress(std::string_view(*packed).substr(0, packed->size() - 1), size).ok());
    }
  }
}

TEST_CASE("concatenated frames decompress to the concatenated content") {
  auto a = ZstdCompress("first\n", 1);
  auto b = ZstdCompress(std::string(300000, 'b'), 1);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  auto back = ZstdDecompress(*a + *b, 1 << 20);
  REQUIRE(back.ok());
  CHECK(*back == "first\n" + std::string(300000, 'b'));
  CHECK_FALSE(ZstdDecompress(*a + "junk", 1 << 20).ok());
}

TEST_CASE("out-of-range levels are refused") {
  CHECK(ZstdCompress("x", 0).status().code() == Code::kInvalidArgument);
  CHECK(ZstdCompress("x", 23).status().code() == Code::kInvalidArgument);
}

}  // namespace outpost

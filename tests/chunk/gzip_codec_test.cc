// gzip request bodies: round trips, concatenated members, and refusal of bad input.
#include <catch.hpp>

#include <random>
#include <string>

#include "chunk/gzip_codec.h"

namespace outpost {
namespace {

std::string RandomText(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s;
  s.reserve(n);
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + rng() % 7));
  return s;
}

TEST_CASE("gzip round trip of empty, small and large bodies", "[chunk]") {
  for (size_t n : {size_t(0), size_t(1), size_t(1000), size_t(3) << 20}) {
    const std::string in = RandomText(n, static_cast<uint32_t>(n));
    Result<std::string> z = GzipCompress(in);
    REQUIRE(z.ok());
    REQUIRE(z->size() >= 18);  // header + trailer
    CHECK(static_cast<unsigned char>((*z)[0]) == 0x1f);
    CHECK(static_cast<unsigned char>((*z)[1]) == 0x8b);
    Result<std::string> out = GzipDecompress(*z, n + 1);
    REQUIRE(out.ok());
    CHECK(*out == in);
    if (n > 1000) CHECK(z->size() < n / 2);
  }
}

TEST_CASE("gzip decompression reads concatenated members", "[chunk]") {
  Result<std::string> a = GzipCompress("first\n");
  Result<std::string> b = GzipCompress("second\n");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  Result<std::string> out = GzipDecompress(*a + *b, 100);
  REQUIRE(out.ok());
  CHECK(*out == "first\nsecond\n");
}

TEST_CASE("gzip decompression refuses corrupt, cut and oversized input", "[chunk]") {
  const std::string in = RandomText(100000, 7);
  Result<std::string> z = GzipCompress(in);
  REQUIRE(z.ok());
  SECTION("cut short") {
    Result<std::string> out = GzipDecompress(z->substr(0, z->size() / 2), in.size() + 1);
    REQUIRE_FALSE(out.ok());
    CHECK(out.status().code() == Code::kCorrupt);
  }
  SECTION("garbage") {
    Result<std::string> out = GzipDecompress("this is not gzip at all", 1000);
    REQUIRE_FALSE(out.ok());
    CHECK(out.status().code() == Code::kCorrupt);
  }
  SECTION("flipped byte in the deflate data") {
    std::string bad = *z;
    bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x55);
    CHECK_FALSE(GzipDecompress(bad, in.size() + 1).ok());
  }
  SECTION("over the output limit") {
    Result<std::string> out = GzipDecompress(*z, 1000);
    REQUIRE_FALSE(out.ok());
    CHECK(out.status().code() == Code::kInvalidArgument);
  }
}

}  // namespace
}  // namespace outpost

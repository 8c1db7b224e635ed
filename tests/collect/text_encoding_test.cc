// Text encodings of log files: byte-order marks, newline search at code-unit
// boundaries, decoding UTF-16 (surrogates, CRLF, broken input) and Latin-1 to UTF-8,
// UTF-8 passed through as it is, binary sniffing, and cutting UTF-8 at a character.
#include <catch.hpp>

#include <string>
#include <string_view>

#include "collect/text_encoding.h"

namespace outpost {
namespace {

constexpr auto kUtf8 = TextEncoding::kUtf8;
constexpr auto kLe = TextEncoding::kUtf16Le;
constexpr auto kBe = TextEncoding::kUtf16Be;
constexpr auto kLatin1 = TextEncoding::kLatin1;
constexpr auto npos = std::string_view::npos;

// UTF-16 bytes for code units given as a u16string.
std::string Utf16(std::u16string_view units, TextEncoding e) {
  std::string out;
  for (char16_t u : units) {
    const char hi = static_cast<char>(u >> 8);
    const char lo = static_cast<char>(u & 0xFF);
    if (e == TextEncoding::kUtf16Le) {
      out += lo;
      out += hi;
    } else {
      out += hi;
      out += lo;
    }
  }
  return out;
}

std::string Decode(TextEncoding e, std::string_view raw) {
  std::string out;
  DecodeLine(e, raw, out);
  return out;
}

// Splits `data` into lines the way the tailer does: skip the BOM, find each newline,
// decode what is before it.
std::vector<std::string> Lines(TextEncoding e, std::string_view data) {
  std::vector<std::string> out;
  data.remove_prefix(ByteOrderMarkLength(e, data));
  for (;;) {
    const size_t nl = FindNewline(e, data);
    if (nl == npos) break;
    out.push_back(Decode(e, data.substr(0, nl)));
    data.remove_prefix(nl + CodeUnitBytes(e));
  }
  if (!data.empty()) out.push_back(Decode(e, data));
  return out;
}

const std::string kReplacement = "\xEF\xBF\xBD";

}  // namespace

TEST_CASE("code units are two bytes for UTF-16 and one otherwise", "[collect]") {
  CHECK(CodeUnitBytes(kUtf8) == 1);
  CHECK(CodeUnitBytes(kLatin1) == 1);
  CHECK(CodeUnitBytes(kLe) == 2);
  CHECK(CodeUnitBytes(kBe) == 2);
}

TEST_CASE("a byte-order mark is recognised only for its own encoding", "[collect]") {
  CHECK(ByteOrderMarkLength(kUtf8, "\xEF\xBB\xBFhello") == 3);
  CHECK(ByteOrderMarkLength(kUtf8, "\xEF\xBB") == 0);
  CHECK(ByteOrderMarkLength(kUtf8, "hello") == 0);
  CHECK(ByteOrderMarkLength(kUtf8, "") == 0);
  CHECK(ByteOrderMarkLength(kLe, std::string_view("\xFF\xFEh\0", 4)) == 2);
  CHECK(ByteOrderMarkLength(kLe, "\xFE\xFF") == 0);
  CHECK(ByteOrderMarkLength(kBe, "\xFE\xFF") == 2);
  CHECK(ByteOrderMarkLength(kBe, "\xFF\xFE") == 0);
  CHECK(ByteOrderMarkLength(kBe, "\xFE") == 0);
  CHECK(ByteOrderMarkLength(kLatin1, "\xEF\xBB\xBF") == 0);
}

TEST_CASE("UTF-8 and Latin-1 newlines are found at any byte", "[collect]") {
  CHECK(FindNewline(kUtf8, "abc\ndef\n") == 3);
  CHECK(FindNewline(kUtf8, "\n") == 0);
  CHECK(FindNewline(kUtf8, "no newline") == npos);
  CHECK(FindNewline(kUtf8, "") == npos);
  CHECK(FindNewline(kUtf8, "\xFF\xC3\n") == 2);
  CHECK(FindNewline(kLatin1, "\xE9t\xE9\n") == 3);
  const std::string big = std::string(1 << 20, 'x') + "\n";
  CHECK(FindNewline(kUtf8, big) == (1u << 20));
}

TEST_CASE("UTF-16 newlines are found only as whole, aligned code units", "[collect]") {
  CHECK(FindNewline(kLe, Utf16(u"ab\ncd", kLe)) == 4);
  CHECK(FindNewline(kBe, Utf16(u"ab\ncd", kBe)) == 4);
  // U+0A0A and U+010A hold a 0x0A byte but are not newlines.
  CHECK(FindNewline(kLe, Utf16(u"\u0A0A\u010A\n", kLe)) == 4);
  CHECK(FindNewline(kBe, Utf16(u"\u0A0A\u0A01\n", kBe)) == 4);
  // A 0A 00 pair straddling two units is not a newline.
  CHECK(FindNewline(kLe, Utf16(u"\u0A41\u0000", kLe)) == npos);  // bytes 41 0A 00 00
  CHECK(FindNewline(kBe, Utf16(u"\u4100\u0A00", kBe)) == npos);  // bytes 41 00 0A 00
  // Half a newline at the end of the data is not one (yet).
  CHECK(FindNewline(kLe, std::string_view("a\0\n", 3)) == npos);
  CHECK(FindNewline(kBe, std::string_view("\0a\0", 3)) == npos);
  CHECK(FindNewline(kLe, "") == npos);
  CHECK(FindNewline(kBe, "\n") == npos);
}

TEST_CASE("UTF-16LE with a BOM and CRLF decodes to UTF-8 lines", "[collect]") {
  const std::string file = "\xFF\xFE" + Utf16(u"h\u00e9llo\r\nw\u00f6rld\n\u20ac 5\r\n", kLe);
  CHECK(Lines(kLe, file) ==
        std::vector<std::string>{"h\xC3\xA9llo", "w\xC3\xB6rld", "\xE2\x82\xAC 5"});
}

TEST_CASE("UTF-16BE with a BOM and CRLF decodes to UTF-8 lines", "[collect]") {
  const std::string file = "\xFE\xFF" + Utf16(u"h\u00e9llo\r\nw\u00f6rld\n\u20ac 5", kBe);
  CHECK(Lines(kBe, file) ==
        std::vector<std::string>{"h\xC3\xA9llo", "w\xC3\xB6rld", "\xE2\x82\xAC 5"});
}

TEST_CASE("UTF-16 surrogate pairs become one 4-byte UTF-8 character", "[collect]") {
  // U+1F600 is D83D DE00; U+10FFFF is DBFF DFFF; U+10000 is D800 DC00.
  for (auto e : {kLe, kBe}) {
    CHECK(Decode(e, Utf16(u"a\U0001F600b", e)) ==
          "a\xF0\x9F\x98\x80"
          "b");
    CHECK(Decode(e, Utf16(u"\U0010FFFF\U00010000", e)) == "\xF4\x8F\xBF\xBF\xF0\x90\x80\x80");
  }
}

TEST_CASE("lone UTF-16 surrogates and a half code unit become U+FFFD", "[collect]") {
  for (auto e : {kLe, kBe}) {
    INFO("big endian: " << (e == kBe));
    const std::u16string high_then_a = {0xD83D, u'a'};
    const std::u16string lone_low = {u'a', 0xDE00, u'b'};
    const std::u16string high_at_end = {u'a', 0xD83D};
    const std::u16string two_highs = {0xD83D, 0xD83D, 0xDE00};
    CHECK(Decode(e, Utf16(high_then_a, e)) == kReplacement + "a");
    CHECK(Decode(e, Utf16(lone_low, e)) == "a" + kReplacement + "b");
    CHECK(Decode(e, Utf16(high_at_end, e)) == "a" + kReplacement);
    CHECK(Decode(e, Utf16(two_highs, e)) == kReplacement + "\xF0\x9F\x98\x80");
    CHECK(Decode(e, Utf16(u"ab", e) + "x") == "ab" + kReplacement);
    CHECK(Decode(e, "x") == kReplacement);
    CHECK(Decode(e, "").empty());
  }
}

TEST_CASE("only one trailing CR is removed, in the encoding's code unit", "[collect]") {
  CHECK(Decode(kUtf8, "a\r") == "a");
  CHECK(Decode(kUtf8, "a\r\r") == "a\r");
  CHECK(Decode(kUtf8, "a\rb") == "a\rb");
  CHECK(Decode(kUtf8, "\r").empty());
  CHECK(Decode(kLatin1, "\xE9\r") == "\xC3\xA9");
  CHECK(Decode(kLe, Utf16(u"a\r\r", kLe)) == "a\r");
  CHECK(Decode(kBe, Utf16(u"a\r", kBe)) == "a");
  // U+0D00 and U+000D in the wrong byte order are not CR.
  CHECK(Decode(kLe, Utf16(u"a\u0D00", kLe)) == "a\xE0\xB4\x80");
  // A CR followed by half a unit is not the last unit, so it stays.
  CHECK(Decode(kLe, Utf16(u"a\r", kLe) + "x") == "a\r" + kReplacement);
}

TEST_CASE("UTF-8 is passed through unchanged, invalid bytes included", "[collect]") {
  const std::string raw = "ok \xFF\xFE \xC3 \xE2\x82 \xED\xA0\x80 caf\xC3\xA9";
  CHECK(Decode(kUtf8, raw) == raw);
  const std::string with_nul("a\0b", 3);
  CHECK(Decode(kUtf8, with_nul) == with_nul);
}

TEST_CASE("decoding appends to the output", "[collect]") {
  std::string out = "prefix:";
  DecodeLine(kUtf8, "one", out);
  DecodeLine(kLatin1, "\xE9", out);
  DecodeLine(kLe, Utf16(u"\u00e9", kLe), out);
  CHECK(out == "prefix:one\xC3\xA9\xC3\xA9");
}

TEST_CASE("Latin-1 maps every byte 0x80-0xFF to its code point in UTF-8", "[collect]") {
  CHECK(Decode(kLatin1, "caf\xE9") == "caf\xC3\xA9");
  CHECK(Decode(kLatin1, "\x80") == "\xC2\x80");
  CHECK(Decode(kLatin1, "\xA0") == "\xC2\xA0");
  CHECK(Decode(kLatin1, "\xFF") == "\xC3\xBF");
  std::string all;
  for (int b = 0x80; b <= 0xFF; ++b) all += static_cast<char>(b);
  const std::string utf8 = Decode(kLatin1, all);
  REQUIRE(utf8.size() == 2 * all.size());
  for (int b = 0x80; b <= 0xFF; ++b) {
    const size_t i = 2 * static_cast<size_t>(b - 0x80);
    const auto lead = static_cast<unsigned char>(utf8[i]);
    const auto cont = static_cast<unsigned char>(utf8[i + 1]);
    CHECK((((lead & 0x1F) << 6) | (cont & 0x3F)) == b);
  }
  CHECK(Decode(kLatin1, "plain ascii") == "plain ascii");
}

TEST_CASE("binary is a NUL code unit", "[collect]") {
  CHECK(LooksBinary(kUtf8, std::string_view("ab\0cd", 5)));
  CHECK_FALSE(LooksBinary(kUtf8, "plain text\n"));
  CHECK_FALSE(LooksBinary(kUtf8, ""));
  CHECK_FALSE(LooksBinary(kUtf8, "\xFF\xFE\x01\x02"));
  CHECK(LooksBinary(kLatin1, std::string_view("\0", 1)));
  CHECK_FALSE(LooksBinary(kLe, Utf16(u"text\r\n", kLe)));
  CHECK_FALSE(LooksBinary(kBe, Utf16(u"text\r\n", kBe)));
  CHECK(LooksBinary(kLe, Utf16(std::u16string_view(u"a\0b", 3), kLe)));
  CHECK(LooksBinary(kBe, Utf16(std::u16string_view(u"a\0b", 3), kBe)));
  // Two zero bytes from different units (U+0100 U+0041 in LE: 00 01 41 00) are text.
  CHECK_FALSE(LooksBinary(kLe, std::string_view("a\0\0b", 4)));
  CHECK_FALSE(LooksBinary(kLe, std::string_view("\0", 1)));
}

TEST_CASE("UTF-8 truncation never cuts a character in half", "[collect]") {
  std::string s = "h\xC3\xA9llo";  // h é l l o
  CHECK(TruncateUtf8(s, 2));
  CHECK(s == "h");

  s = "h\xC3\xA9llo";
  CHECK(TruncateUtf8(s, 3));
  CHECK(s == "h\xC3\xA9");

  s = "h\xC3\xA9llo";
  CHECK_FALSE(TruncateUtf8(s, 6));
  CHECK(s == "h\xC3\xA9llo");
  CHECK_FALSE(TruncateUtf8(s, 100));

  const std::string emoji = "\xF0\x9F\x98\x80";
  for (size_t max = 0; max < 4; ++max) {
    s = "ab" + emoji + "c";
    CHECK(TruncateUtf8(s, 2 + max));
    CHECK(s == "ab");
  }
  s = "ab" + emoji + "c";
  CHECK(TruncateUtf8(s, 6));
  CHECK(s == "ab" + emoji);

  s = "\xE2\x82\xAC\xE2\x82\xAC";  // two euro signs
  CHECK(TruncateUtf8(s, 5));
  CHECK(s == "\xE2\x82\xAC");
  s = "\xE2\x82\xAC";
  CHECK(TruncateUtf8(s, 0));
  CHECK(s.empty());
}

TEST_CASE("UTF-8 truncation cuts invalid bytes at exactly max_bytes", "[collect]") {
  std::string s = "a\xA9\xA9\xA9\xA9\xA9";  // stray continuation bytes
  CHECK(TruncateUtf8(s, 3));
  CHECK(s == "a\xA9\xA9");

  s = "ab\xE2\x82";  // a euro sign missing its last byte
  CHECK(TruncateUtf8(s, 3));
  CHECK(s == "ab\xE2");

  s = "a\xC3X";  // a lead byte without continuation
  CHECK(TruncateUtf8(s, 2));
  CHECK(s == "a\xC3");

  s = "a\xE0\x80\x80";  // overlong
  CHECK(TruncateUtf8(s, 2));
  CHECK(s == "a\xE0");

  s = "a\xED\xA0\x80";  // an encoded surrogate
  CHECK(TruncateUtf8(s, 3));
  CHECK(s == "a\xED\xA0");

  s = "a\xC3\xA9\xA9";  // a character, then a stray byte
  CHECK(TruncateUtf8(s, 3));
  CHECK(s == "a\xC3\xA9");
}

}  // namespace outpost

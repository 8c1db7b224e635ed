// Fuzzes the log text decoders (UTF-8 pass-through, UTF-16LE/BE, Latin-1), the newline
// search, byte-order marks, binary sniffing and UTF-8 truncation, as the tailer uses
// them: the input is cut into lines with FindNewline and each line decoded. Checked:
// newlines found are aligned LF code units; UTF-8 lines pass unchanged (invalid bytes
// included); UTF-16 and Latin-1 decode to valid UTF-8 and, without U+FFFD, encode back
// to the same bytes; TruncateUtf8 cuts a prefix no longer than asked and keeps valid
// UTF-8 valid. Input: 1 byte encoding, 2 bytes truncation limit, then the text.
#include <cstdlib>
#include <string>
#include <string_view>

#include "collect/text_encoding.h"
#include "fuzz/fuzz_input.h"

namespace {

using outpost::TextEncoding;

// UTF-8 (valid, from the decoder) back to UTF-16 or Latin-1; false when a code point
// has no encoding there.
bool Encode(TextEncoding e, std::string_view utf8, std::string& out) {
  size_t i = 0;
  while (i < utf8.size()) {
    const auto b0 = static_cast<unsigned char>(utf8[i]);
    const size_t len = b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
    char32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (size_t k = 1; k < len; ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
    i += len;
    if (e == TextEncoding::kLatin1) {
      if (cp > 0xFF) return false;
      out.push_back(static_cast<char>(cp));
      continue;
    }
    auto unit = [&](char32_t u) {
      const char hi = static_cast<char>(u >> 8), lo = static_cast<char>(u & 0xFF);
      if (e == TextEncoding::kUtf16Le) {
        out.push_back(lo);
        out.push_back(hi);
      } else {
        out.push_back(hi);
        out.push_back(lo);
      }
    };
    if (cp >= 0x10000) {
      unit(0xD800 + ((cp - 0x10000) >> 10));
      unit(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      unit(cp);
    }
  }
  return true;
}

void CheckLine(TextEncoding e, std::string_view raw, size_t limit) {
  std::string decoded = "prefix";
  outpost::DecodeLine(e, raw, decoded);
  if (decoded.compare(0, 6, "prefix") != 0) std::abort();  // DecodeLine appends
  decoded.erase(0, 6);
  const size_t unit = outpost::CodeUnitBytes(e);
  // The line without its CR, as DecodeLine documents.
  std::string_view body = raw;
  if (unit == 1 && !body.empty() && body.back() == '\r') body.remove_suffix(1);
  if (unit == 2 && body.size() % 2 == 0 && body.size() >= 2) {
    const std::string_view last = body.substr(body.size() - 2);
    if (last ==
        (e == TextEncoding::kUtf16Le ? std::string_view("\r\0", 2) : std::string_view("\0\r", 2)))
      body.remove_suffix(2);
  }
  if (e == TextEncoding::kUtf8) {
    if (decoded != body) std::abort();
  } else {
    if (!outpost::fuzz::IsValidUtf8(decoded)) std::abort();
    if (decoded.find("\xEF\xBF\xBD") == std::string::npos) {
      std::string back;
      if (Encode(e, decoded, back) && back != body) std::abort();
    }
  }
  const bool valid = outpost::fuzz::IsValidUtf8(decoded);
  std::string cut = decoded;
  const bool did_cut = outpost::TruncateUtf8(cut, limit);
  if (did_cut != (decoded.size() > limit)) std::abort();
  if (cut.size() > limit || decoded.compare(0, cut.size(), cut) != 0) std::abort();
  if (valid && !outpost::fuzz::IsValidUtf8(cut)) std::abort();
  // A cut never drops a whole character it had room for.
  if (valid && did_cut && limit - cut.size() >= 4) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  outpost::fuzz::InputBytes in(std::string_view(reinterpret_cast<const char*>(data), size));
  const auto e = static_cast<TextEncoding>(in.Byte() % 4);
  const size_t limit = (size_t{in.Byte()} << 8) | in.Byte();
  std::string_view text = in.rest();
  const size_t bom = outpost::ByteOrderMarkLength(e, text);
  if (bom > text.size()) std::abort();
  text.remove_prefix(bom);
  const size_t unit = outpost::CodeUnitBytes(e);
  bool nul_unit = false;
  for (size_t i = 0; i + unit <= text.size(); i += unit)
    nul_unit |= text.substr(i, unit).find_first_not_of('\0') == std::string_view::npos;
  if (outpost::LooksBinary(e, text) != nul_unit) std::abort();
  while (!text.empty()) {
    const size_t nl = outpost::FindNewline(e, text);
    if (nl == std::string_view::npos) {
      CheckLine(e, text, limit);
      break;
    }
    if (nl % unit != 0 || nl + unit > text.size()) std::abort();
    const std::string_view lf = text.substr(nl, unit);
    if (lf != (unit == 1                     ? std::string_view("\n")
               : e == TextEncoding::kUtf16Le ? std::string_view("\n\0", 2)
                                             : std::string_view("\0\n", 2)))
      std::abort();
    CheckLine(e, text.substr(0, nl), limit);
    text.remove_prefix(nl + unit);
  }
  return 0;
}

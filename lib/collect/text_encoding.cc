// Text encodings of log files (see text_encoding.h): newline search, byte-order marks,
// binary sniffing, decoding one line to UTF-8, and cutting UTF-8 at a character
// boundary. The UTF-8 and Latin-1 newline search is memchr, the hot path of the tailer;
// UTF-16 uses memchr for the 0x0A byte and then checks its alignment and partner byte.
#include "collect/text_encoding.h"

#include <cstdint>
#include <cstring>

namespace outpost {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

unsigned char Byte(std::string_view s, size_t i) { return static_cast<unsigned char>(s[i]); }

bool IsUtf16(TextEncoding e) { return e == TextEncoding::kUtf16Le || e == TextEncoding::kUtf16Be; }

// The UTF-16 code unit at byte offset i (i + 1 < size).
uint16_t Unit(TextEncoding e, std::string_view s, size_t i) {
  if (e == TextEncoding::kUtf16Le) return static_cast<uint16_t>(Byte(s, i) | (Byte(s, i + 1) << 8));
  return static_cast<uint16_t>((Byte(s, i) << 8) | Byte(s, i + 1));
}

void AppendUtf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

void DecodeUtf16(TextEncoding e, std::string_view raw, std::string& out) {
  out.reserve(out.size() + raw.size());  // exact for ASCII text, a good start otherwise
  size_t i = 0;
  while (i + 1 < raw.size()) {
    const uint16_t u = Unit(e, raw, i);
    i += 2;
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (i + 1 < raw.size()) {
        const uint16_t low = Unit(e, raw, i);
        if (low >= 0xDC00 && low <= 0xDFFF) {
          i += 2;
          AppendUtf8(0x10000 + ((char32_t{u} - 0xD800) << 10) + (low - 0xDC00), out);
          continue;
        }
      }
      AppendUtf8(kReplacement, out);  // a high surrogate without its low half
    } else if (u >= 0xDC00 && u <= 0xDFFF) {
      AppendUtf8(kReplacement, out);  // a low surrogate on its own
    } else {
      AppendUtf8(u, out);
    }
  }
  if (i < raw.size()) AppendUtf8(kReplacement, out);  // half a code unit
}

void DecodeLatin1(std::string_view raw, std::string& out) {
  out.reserve(out.size() + raw.size());
  for (char c : raw) AppendUtf8(static_cast<unsigned char>(c), out);
}

bool IsContinuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// Length of the UTF-8 sequence a lead byte announces, 0 for a byte that cannot lead.
size_t SequenceLength(unsigned char lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// True when text[start, start + len) is one well-formed UTF-8 sequence (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF).
bool IsValidSequence(std::string_view text, size_t start, size_t len) {
  if (start + len > text.size()) return false;
  for (size_t k = 1; k < len; ++k) {
    if (!IsContinuation(Byte(text, start + k))) return false;
  }
  const unsigned char lead = Byte(text, start);
  const unsigned char second = len > 1 ? Byte(text, start + 1) : 0;
  if (lead == 0xE0 && second < 0xA0) return false;
  if (lead == 0xED && second > 0x9F) return false;
  if (lead == 0xF0 && second < 0x90) return false;
  if (lead == 0xF4 && second > 0x8F) return false;
  return true;
}

}  // namespace

size_t CodeUnitBytes(TextEncoding encoding) { return IsUtf16(encoding) ? 2 : 1; }

size_t ByteOrderMarkLength(TextEncoding encoding, std::string_view data) {
  switch (encoding) {
    case TextEncoding::kUtf8:
      return data.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
    case TextEncoding::kUtf16Le:
      return data.substr(0, 2) == "\xFF\xFE" ? 2 : 0;
    case TextEncoding::kUtf16Be:
      return data.substr(0, 2) == "\xFE\xFF" ? 2 : 0;
    case TextEncoding::kLatin1:
      return 0;
  }
  return 0;
}

size_t FindNewline(TextEncoding encoding, std::string_view data) {
  const char* base = data.data();
  if (!IsUtf16(encoding)) {
    const void* hit = data.empty() ? nullptr : std::memchr(base, '\n', data.size());
    return hit ? static_cast<size_t>(static_cast<const char*>(hit) - base) : std::string_view::npos;
  }
  // LE: 0A 00 at an even offset. BE: 00 0A, so the 0A byte sits at an odd offset.
  const bool le = encoding == TextEncoding::kUtf16Le;
  size_t from = 0;
  while (from < data.size()) {
    const void* hit = std::memchr(base + from, '\n', data.size() - from);
    if (!hit) break;
    const auto pos = static_cast<size_t>(static_cast<const char*>(hit) - base);
    if (le) {
      if (pos % 2 == 0 && pos + 1 < data.size() && data[pos + 1] == '\0') return pos;
    } else {
      if (pos % 2 == 1 && data[pos - 1] == '\0') return pos - 1;
    }
    from = pos + 1;
  }
  return std::string_view::npos;
}

void DecodeLine(TextEncoding encoding, std::string_view raw, std::string& out) {
  switch (encoding) {
    case TextEncoding::kUtf8:
      if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
      out.append(raw);
      return;
    case TextEncoding::kLatin1:
      if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
      DecodeLatin1(raw, out);
      return;
    case TextEncoding::kUtf16Le:
    case TextEncoding::kUtf16Be:
      // Only a whole, aligned last unit can be a CR; after an odd byte it is not last.
      if (raw.size() >= 2 && raw.size() % 2 == 0 && Unit(encoding, raw, raw.size() - 2) == '\r') {
        raw.remove_suffix(2);
      }
      DecodeUtf16(encoding, raw, out);
      return;
  }
}

bool LooksBinary(TextEncoding encoding, std::string_view sample) {
  if (!IsUtf16(encoding)) {
    return !sample.empty() && std::memchr(sample.data(), '\0', sample.size()) != nullptr;
  }
  for (size_t i = 0; i + 1 < sample.size(); i += 2) {
    if (sample[i] == '\0' && sample[i + 1] == '\0') return true;
  }
  return false;
}

bool TruncateUtf8(std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return false;
  size_t cut = max_bytes;
  // Cutting before a continuation byte may split a character: find where it starts
  // and cut there instead, but only if it is a well-formed character (stray bytes are
  // not characters, and cutting through them loses nothing).
  if (IsContinuation(Byte(text, cut))) {
    size_t start = cut;
    while (start > 0 && cut - start < 3 && IsContinuation(Byte(text, start - 1))) --start;
    if (start > 0) {
      const size_t lead = start - 1;
      const size_t len = SequenceLength(Byte(text, lead));
      if (len > 0 && lead + len > cut && IsValidSequence(text, lead, len)) cut = lead;
    }
  }
  text.resize(cut);
  return true;
}

}  // namespace outpost

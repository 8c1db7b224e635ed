// Property list parsing, XML and binary; see plist_xml.h.
//
// Map: shared helpers (UTF-8 output, dates, Value accessors); XmlParser (a recursive
// descent over the text: tags, entities, CDATA, base64); BinaryParser (the "bplist00"
// object table: trailer, offset table, objects by marker byte); Parse.
#include "common/plist_xml.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace outpost::platform::plist {
namespace {

// Seconds from 1970-01-01 to 2001-01-01, the binary format's epoch.
constexpr double kAppleEpoch = 978307200.0;

// Appends code point `cp` as UTF-8; false for a surrogate, 0 or a value past U+10FFFF.
bool AppendUtf8(std::string& out, uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date, and back (the standard
// era-based conversion: 400-year eras of 146097 days, years starting in March).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, int64_t& m, int64_t& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = yoe + era * 400 + (m <= 2);
}

std::optional<int64_t> Digits(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

std::string_view TrimSpace(std::string_view s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string_view::npos) return {};
  const size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

// "0x1F", "-12", "+7" -> the number; nullopt otherwise (also on overflow).
std::optional<int64_t> ParseInteger(std::string_view s) {
  s = TrimSpace(s);
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  if (negative) {
    if (v > static_cast<uint64_t>(INT64_MAX) + 1) return std::nullopt;
    return v == static_cast<uint64_t>(INT64_MAX) + 1 ? INT64_MIN : -static_cast<int64_t>(v);
  }
  if (v > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(v);
}

// strtod (not from_chars: older libc++ on macOS has no floating-point from_chars). The
// agent never calls setlocale, so the decimal point is '.'.
std::optional<double> ParseReal(std::string_view s) {
  s = TrimSpace(s);
  if (s.empty() || s.size() > 64) return std::nullopt;
  const std::string copy(s);
  char* end = nullptr;
  const double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  return v;
}

int Base64Digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Base64 with any whitespace in between; '=' ends the data.
bool DecodeBase64(std::string_view in, std::string& out) {
  uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') break;
    const int d = Base64Digit(c);
    if (d < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return true;
}

std::string FormatReal(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

// ------------------------------------------------------------------------------ XML

class XmlParser {
 public:
  XmlParser(std::string_view text, const Limits& limits) : t_(text), limits_(limits) {}

  bool Run(Value& out, std::string* error) {
    const bool ok = Document(out);
    if (!ok && error) *error = err_;
    return ok;
  }

 private:
  struct Tag {
    std::string name;
    bool closing = false;
    bool empty = false;  // <name/>
  };

  bool Document(Value& out) {
    if (t_.size() > limits_.max_bytes) return Fail("the file is larger than the limit");
    if (t_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    if (!SkipMisc()) return false;
    Tag tag;
    if (!ReadTag(tag)) return false;
    if (tag.name == "plist" && !tag.closing) {
      if (tag.empty) return Fail("<plist/> holds no value");
      if (!SkipMisc()) return false;
      Tag inner;
      if (!ReadTag(inner)) return false;
      if (inner.closing) return Fail("<plist> holds no value");
      if (!ParseValue(inner, out, 0)) return false;
      if (!SkipMisc()) return false;
      Tag end;
      if (!ReadTag(end)) return false;
      if (!end.closing || end.name != "plist")
        return Fail("expected </plist>, found <" + std::string(end.closing ? "/" : "") + end.name +
                    ">");
    } else if (!ParseValue(tag, out, 0)) {
      return false;
    }
    if (!SkipMisc()) return false;
    while (pos_ < t_.size() && t_[pos_] == '\0') ++pos_;  // padding some writers leave
    if (pos_ != t_.size()) return Fail("text after the end of the plist");
    return true;
  }

  bool Fail(const std::string& message) {
    if (err_.empty()) {
      size_t line = 1;
      for (size_t i = 0; i < pos_ && i < t_.size(); ++i) line += t_[i] == '\n';
      err_ = "line " + std::to_string(line) + ": " + message;
    }
    return false;
  }

  bool StartsWith(std::string_view s) const { return t_.substr(pos_, s.size()) == s; }

  void SkipSpace() {
    while (pos_ < t_.size() &&
           (t_[pos_] == ' ' || t_[pos_] == '\t' || t_[pos_] == '\r' || t_[pos_] == '\n'))
      ++pos_;
  }

  // Skips to just past `end`; false at the end of the text.
  bool SkipPast(std::string_view end, const char* what) {
    const size_t at = t_.find(end, pos_);
    if (at == std::string_view::npos) return Fail(std::string(what) + " is not closed");
    pos_ = at + end.size();
    return true;
  }

  // Whitespace, <?xml ...?>, comments and <!DOCTYPE ...> (with an internal subset).
  bool SkipMisc() {
    for (;;) {
      SkipSpace();
      if (StartsWith("<?")) {
        if (!SkipPast("?>", "<?...?>")) return false;
      } else if (StartsWith("<!--")) {
        if (!SkipPast("-->", "a comment")) return false;
      } else if (StartsWith("<!DOCTYPE")) {
        const size_t gt = t_.find('>', pos_);
        const size_t bracket = t_.find('[', pos_);
        if (bracket != std::string_view::npos && (gt == std::string_view::npos || bracket < gt)) {
          pos_ = bracket;
          if (!SkipPast("]", "<!DOCTYPE [") || !SkipPast(">", "<!DOCTYPE")) return false;
        } else if (!SkipPast(">", "<!DOCTYPE")) {
          return false;
        }
      } else {
        return true;
      }
    }
  }

  static bool NameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == ':' || c == '.' || c == '-';
  }

  // At '<': <name attr="...">, </name> or <name/>.
  bool ReadTag(Tag& tag) {
    tag = Tag{};
    if (pos_ >= t_.size()) return Fail("unexpected end of the file");
    if (t_[pos_] != '<') return Fail("expected an element, found text");
    ++pos_;
    if (pos_ < t_.size() && t_[pos_] == '/') {
      tag.closing = true;
      ++pos_;
    }
    const size_t start = pos_;
    while (pos_ < t_.size() && NameChar(t_[pos_])) ++pos_;
    if (pos_ == start) return Fail("an element without a name");
    tag.name = std::string(t_.substr(start, pos_ - start));
    // Attributes (plist version="1.0") are skipped, quotes respected.
    while (pos_ < t_.size()) {
      const char c = t_[pos_];
      if (c == '"' || c == '\'') {
        const size_t close = t_.find(c, pos_ + 1);
        if (close == std::string_view::npos) return Fail("an attribute value is not closed");
        pos_ = close + 1;
      } else if (c == '/' && pos_ + 1 < t_.size() && t_[pos_ + 1] == '>') {
        if (tag.closing) return Fail("</" + tag.name + "/> is not an element");
        tag.empty = true;
        pos_ += 2;
        return true;
      } else if (c == '>') {
        ++pos_;
        return true;
      } else if (c == '<') {
        return Fail("<" + tag.name + " is not closed with '>'");
      } else {
        ++pos_;
      }
    }
    return Fail("<" + tag.name + " is not closed with '>'");
  }

  // The character data of <name>...</name> after its opening tag, entities and CDATA
  // decoded, up to and including the closing tag. No child element is allowed.
  bool ReadText(const std::string& name, std::string& out) {
    for (;;) {
      const size_t next = t_.find_first_of("<&", pos_);
      if (next == std::string_view::npos) {
        pos_ = t_.size();
        return Fail("<" + name + "> is not closed");
      }
      out.append(t_.substr(pos_, next - pos_));
      pos_ = next;
      if (out.size() > limits_.max_bytes) return Fail("a value is larger than the limit");
      if (t_[pos_] == '&') {
        if (!Entity(out)) return false;
      } else if (StartsWith("<![CDATA[")) {
        const size_t end = t_.find("]]>", pos_ + 9);
        if (end == std::string_view::npos) return Fail("a CDATA section is not closed");
        out.append(t_.substr(pos_ + 9, end - pos_ - 9));
        pos_ = end + 3;
      } else if (StartsWith("<!--")) {
        if (!SkipPast("-->", "a comment")) return false;
      } else {
        Tag tag;
        if (!ReadTag(tag)) return false;
        if (tag.closing && tag.name == name) return true;
        return Fail("<" + std::string(tag.closing ? "/" : "") + tag.name + "> inside <" + name +
                    ">");
      }
    }
  }

  // At '&': &lt; &gt; &amp; &quot; &apos; &#NNN; &#xHH;
  bool Entity(std::string& out) {
    const size_t semi = t_.find(';', pos_);
    if (semi == std::string_view::npos || semi - pos_ > 12) return Fail("a bare '&' in text");
    const std::string_view name = t_.substr(pos_ + 1, semi - pos_ - 1);
    if (name == "lt") {
      out += '<';
    } else if (name == "gt") {
      out += '>';
    } else if (name == "amp") {
      out += '&';
    } else if (name == "quot") {
      out += '"';
    } else if (name == "apos") {
      out += '\'';
    } else if (name.size() >= 2 && name[0] == '#') {
      const bool hex = name[1] == 'x' || name[1] == 'X';
      const std::string_view digits = name.substr(hex ? 2 : 1);
      uint32_t cp = 0;
      const auto r =
          std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (digits.empty() || r.ec != std::errc() || r.ptr != digits.data() + digits.size() ||
          !AppendUtf8(out, cp))
        return Fail("bad character reference &" + std::string(name) + ";");
    } else {
      return Fail("unknown entity &" + std::string(name) + ";");
    }
    pos_ = semi + 1;
    return true;
  }

  // The content of an element that must hold text: "" for <name/>.
  bool Content(const Tag& tag, std::string& out) {
    out.clear();
    return tag.empty || ReadText(tag.name, out);
  }

  bool ParseValue(const Tag& tag, Value& out, size_t depth) {
    if (tag.closing) return Fail("unexpected </" + tag.name + ">");
    if (++values_ > limits_.max_values) return Fail("more values than the limit");
    out = Value{};
    const std::string& n = tag.name;
    if (n == "dict" || n == "array") {
      out.type = n == "dict" ? Type::kDict : Type::kArray;
      if (tag.empty) return true;
      if (depth + 1 > limits_.max_depth) return Fail("nested deeper than the limit");
      for (;;) {
        if (!SkipMisc()) return false;
        Tag child;
        if (!ReadTag(child)) return false;
        if (child.closing) {
          if (child.name == n) return true;
          return Fail("</" + child.name + "> closes <" + n + ">");
        }
        if (out.type == Type::kArray) {
          out.array.emplace_back();
          if (!ParseValue(child, out.array.back(), depth + 1)) return false;
          continue;
        }
        if (child.name != "key") return Fail("<" + child.name + "> where a <key> belongs");
        std::string key;
        if (!Content(child, key)) return false;
        if (!SkipMisc()) return false;
        Tag value_tag;
        if (!ReadTag(value_tag)) return false;
        if (value_tag.closing) return Fail("key '" + key + "' has no value");
        if (value_tag.name == "key") return Fail("key '" + key + "' has no value");
        out.dict.push_back(DictEntry{std::move(key), Value{}});
        if (!ParseValue(value_tag, out.dict.back().value, depth + 1)) return false;
      }
    }
    if (n == "key") return Fail("<key> outside a <dict>");
    if (n != "string" && n != "true" && n != "false" && n != "integer" && n != "real" &&
        n != "date" && n != "data")
      return Fail("unknown element <" + n + ">");
    std::string text;
    if (n == "string") {
      out.type = Type::kString;
      return Content(tag, out.text);
    }
    if (n == "true" || n == "false") {
      out.type = Type::kBool;
      out.integer = n == "true";
      if (!Content(tag, text)) return false;
      return TrimSpace(text).empty() || Fail("<" + n + "> holds text");
    }
    if (!Content(tag, text)) return false;
    if (n == "integer") {
      out.type = Type::kInteger;
      const std::optional<int64_t> v = ParseInteger(text);
      if (!v) return Fail("bad <integer> '" + std::string(TrimSpace(text).substr(0, 40)) + "'");
      out.integer = *v;
      return true;
    }
    if (n == "real") {
      out.type = Type::kReal;
      const std::optional<double> v = ParseReal(text);
      if (!v) return Fail("bad <real> '" + std::string(TrimSpace(text).substr(0, 40)) + "'");
      out.real = *v;
      return true;
    }
    if (n == "date") {
      out.type = Type::kDate;
      const std::optional<double> v = ParseDate(TrimSpace(text));
      if (!v) return Fail("bad <date> '" + std::string(TrimSpace(text).substr(0, 40)) + "'");
      out.real = *v;
      out.text = FormatDate(*v);
      return true;
    }
    out.type = Type::kData;  // <data>
    return DecodeBase64(text, out.text) || Fail("bad base64 in <data>");
  }

  std::string_view t_;
  const Limits& limits_;
  size_t pos_ = 0;
  size_t values_ = 0;
  std::string err_;
};

// --------------------------------------------------------------------------- binary

class BinaryParser {
 public:
  BinaryParser(std::string_view bytes, const Limits& limits) : b_(bytes), limits_(limits) {}

  bool Run(Value& out, std::string* error) {
    const bool ok = Document(out);
    if (!ok && error) *error = "binary plist: " + err_;
    return ok;
  }

 private:
  bool Fail(const std::string& message) {
    if (err_.empty()) err_ = message;
    return false;
  }

  const unsigned char* At(uint64_t offset) const {
    return reinterpret_cast<const unsigned char*>(b_.data()) + offset;
  }

  // A big-endian unsigned number of `n` (1..8) bytes at `offset` (checked by the caller).
  uint64_t BigEndian(uint64_t offset, size_t n) const {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | At(offset)[i];
    return v;
  }

  bool Document(Value& out) {
    if (b_.size() > limits_.max_bytes) return Fail("the file is larger than the limit");
    if (b_.size() < 8 + 32 || !IsBinary(b_)) return Fail("too short or no bplist header");
    const uint64_t trailer = b_.size() - 32;
    offset_size_ = At(trailer)[6];
    ref_size_ = At(trailer)[7];
    objects_ = BigEndian(trailer + 8, 8);
    const uint64_t top = BigEndian(trailer + 16, 8);
    table_ = BigEndian(trailer + 24, 8);
    if (offset_size_ < 1 || offset_size_ > 8 || ref_size_ < 1 || ref_size_ > 8)
      return Fail("bad integer sizes in the trailer");
    if (objects_ == 0 || top >= objects_) return Fail("bad object count in the trailer");
    // The offset table lies between the objects and the trailer.
    if (table_ < 9 || table_ > trailer || objects_ > (trailer - table_) / offset_size_)
      return Fail("the offset table is outside the file");
    return Object(top, out, 0);
  }

  // The start of object `index`, inside the object area [8, table_).
  bool Offset(uint64_t index, uint64_t& offset) {
    if (index >= objects_) return Fail("an object reference past the object count");
    offset = BigEndian(table_ + index * offset_size_, offset_size_);
    if (offset < 8 || offset >= table_) return Fail("an object offset outside the file");
    return true;
  }

  // Bytes available from `at` up to the offset table.
  uint64_t Room(uint64_t at) const { return at <= table_ ? table_ - at : 0; }

  // The length of a string, data, array or dict: the marker's low nibble, or (0xF) an
  // integer object that follows it. `at` is advanced past what was read.
  bool Count(unsigned nibble, uint64_t& at, uint64_t& count) {
    if (nibble != 0xF) {
      count = nibble;
      return true;
    }
    if (Room(at) < 1) return Fail("a length past the end of the objects");
    const unsigned marker = At(at)[0];
    if ((marker >> 4) != 0x1 || (marker & 0xF) > 3) return Fail("a bad length marker");
    const size_t n = size_t{1} << (marker & 0xF);
    if (Room(at + 1) < n) return Fail("a length past the end of the objects");
    count = BigEndian(at + 1, n);
    at += 1 + n;
    return true;
  }

  bool Budget(size_t bytes) {
    output_ += bytes;
    if (output_ > 4 * limits_.max_bytes) return Fail("the values are larger than the limit");
    return true;
  }

  bool Refs(uint64_t at, uint64_t count, std::vector<uint64_t>& refs) {
    if (count > Room(at) / ref_size_) return Fail("a collection past the end of the objects");
    refs.resize(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) refs[i] = BigEndian(at + i * ref_size_, ref_size_);
    return true;
  }

  bool Object(uint64_t index, Value& out, size_t depth) {
    if (depth > limits_.max_depth) return Fail("nested deeper than the limit");
    if (++values_ > limits_.max_values) return Fail("more values than the limit");
    uint64_t at = 0;
    if (!Offset(index, at)) return false;
    out = Value{};
    const unsigned marker = At(at)[0];
    const unsigned kind = marker >> 4, nibble = marker & 0xF;
    ++at;
    switch (kind) {
      case 0x0:
        if (marker == 0x08 || marker == 0x09) {
          out.type = Type::kBool;
          out.integer = marker == 0x09;
          return true;
        }
        return Fail("a null or fill object where a value belongs");
      case 0x1: {
        if (nibble > 4) return Fail("an integer wider than 16 bytes");
        const size_t n = size_t{1} << nibble;
        if (Room(at) < n) return Fail("an integer past the end of the objects");
        out.type = Type::kInteger;
        // 1, 2 and 4 bytes are unsigned; 8 are signed; of 16 the low 8 are kept.
        const uint64_t v = n == 16 ? BigEndian(at + 8, 8) : BigEndian(at, n);
        out.integer = static_cast<int64_t>(v);
        return true;
      }
      case 0x2:
      case 0x3: {
        if (kind == 0x3 && nibble != 3) return Fail("a date that is not 8 bytes");
        if (nibble != 2 && nibble != 3) return Fail("a real that is not 4 or 8 bytes");
        const size_t n = size_t{1} << nibble;
        if (Room(at) < n) return Fail("a real past the end of the objects");
        const uint64_t bits = BigEndian(at, n);
        double v = 0;
        if (n == 4) {
          const uint32_t b32 = static_cast<uint32_t>(bits);
          float f = 0;
          std::memcpy(&f, &b32, 4);
          v = f;
        } else {
          std::memcpy(&v, &bits, 8);
        }
        if (kind == 0x2) {
          out.type = Type::kReal;
          out.real = v;
        } else {
          out.type = Type::kDate;
          out.real = v + kAppleEpoch;
          out.text = FormatDate(out.real);
        }
        return true;
      }
      case 0x4:
      case 0x5:
      case 0x7: {
        uint64_t count = 0;
        if (!Count(nibble, at, count)) return false;
        if (count > Room(at)) return Fail("a string or data past the end of the objects");
        if (!Budget(static_cast<size_t>(count))) return false;
        const std::string_view raw(reinterpret_cast<const char*>(At(at)), count);
        out.type = kind == 0x4 ? Type::kData : Type::kString;
        if (kind == 0x5) {
          // "ASCII" strings: bytes past 0x7F are taken as Latin-1.
          for (const char c : raw) AppendUtf8(out.text, static_cast<unsigned char>(c));
        } else {
          out.text.assign(raw);
        }
        return true;
      }
      case 0x6: {
        uint64_t count = 0;
        if (!Count(nibble, at, count)) return false;
        if (count > Room(at) / 2) return Fail("a string past the end of the objects");
        if (!Budget(static_cast<size_t>(count) * 3)) return false;
        out.type = Type::kString;
        for (uint64_t i = 0; i < count; ++i) {
          uint32_t cp = static_cast<uint32_t>(BigEndian(at + 2 * i, 2));
          if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < count) {
            const uint32_t low = static_cast<uint32_t>(BigEndian(at + 2 * (i + 1), 2));
            if (low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
              ++i;
            }
          }
          if (cp == 0) {
            out.text += '\0';
          } else if (!AppendUtf8(out.text, cp)) {
            AppendUtf8(out.text, 0xFFFD);  // an unpaired surrogate
          }
        }
        return true;
      }
      case 0x8: {
        const size_t n = nibble + 1;
        if (Room(at) < n) return Fail("a UID past the end of the objects");
        out.type = Type::kInteger;
        out.integer = static_cast<int64_t>(BigEndian(at + (n > 8 ? n - 8 : 0), n > 8 ? 8 : n));
        return true;
      }
      case 0xA:
      case 0xC: {
        uint64_t count = 0;
        std::vector<uint64_t> refs;
        if (!Count(nibble, at, count) || !Refs(at, count, refs)) return false;
        out.type = Type::kArray;
        out.array.resize(refs.size());
        for (size_t i = 0; i < refs.size(); ++i)
          if (!Object(refs[i], out.array[i], depth + 1)) return false;
        return true;
      }
      case 0xD: {
        uint64_t count = 0;
        std::vector<uint64_t> refs;
        if (!Count(nibble, at, count)) return false;
        if (count > UINT64_MAX / 2) return Fail("a dict past the end of the objects");
        if (!Refs(at, count * 2, refs)) return false;
        out.type = Type::kDict;
        out.dict.resize(static_cast<size_t>(count));
        for (size_t i = 0; i < count; ++i) {
          Value key;
          if (!Object(refs[i], key, depth + 1)) return false;
          if (key.type != Type::kString) return Fail("a dict key that is not a string");
          out.dict[i].key = std::move(key.text);
          if (!Object(refs[count + i], out.dict[i].value, depth + 1)) return false;
        }
        return true;
      }
      default:
        return Fail("an unknown object marker");
    }
  }

  std::string_view b_;
  const Limits& limits_;
  size_t offset_size_ = 0;
  size_t ref_size_ = 0;
  uint64_t objects_ = 0;
  uint64_t table_ = 0;
  size_t values_ = 0;
  size_t output_ = 0;
  std::string err_;
};

}  // namespace

const Value* Value::Find(std::string_view key) const {
  if (type != Type::kDict) return nullptr;
  for (const DictEntry& e : dict)
    if (e.key == key) return &e.value;
  return nullptr;
}

std::optional<std::string> Value::AsText() const {
  switch (type) {
    case Type::kString:
      return text;
    case Type::kInteger:
      return std::to_string(integer);
    case Type::kBool:
      return std::string(integer ? "1" : "0");
    case Type::kReal:
      return FormatReal(real);
    default:
      return std::nullopt;
  }
}

std::optional<std::string> Value::Text(std::string_view key) const {
  const Value* v = Find(key);
  return v ? v->AsText() : std::nullopt;
}

bool IsBinary(std::string_view bytes) { return bytes.substr(0, 7) == "bplist0"; }

bool ParseXml(std::string_view text, Value& out, std::string* error, const Limits& limits) {
  return XmlParser(text, limits).Run(out, error);
}

bool ParseBinary(std::string_view bytes, Value& out, std::string* error, const Limits& limits) {
  return BinaryParser(bytes, limits).Run(out, error);
}

bool Parse(std::string_view bytes, Value& out, std::string* error, const Limits& limits) {
  if (IsBinary(bytes)) return ParseBinary(bytes, out, error, limits);
  return ParseXml(bytes, out, error, limits);
}

std::string FormatDate(double unix_seconds) {
  // Years 1..9999 only: outside them the text form has no meaning (and NaN none at all).
  if (!(unix_seconds >= -62135596800.0 && unix_seconds < 253402300800.0))
    unix_seconds = unix_seconds > 0 ? 253402300799.0 : -62135596800.0;
  const int64_t s = static_cast<int64_t>(std::floor(unix_seconds));
  int64_t days = s / 86400, rem = s % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y = 0, m = 0, d = 0;
  CivilFromDays(days, y, m, d);
  // Sized for any six long longs (the compiler cannot see the ranges above).
  char buf[128];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
                static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                static_cast<long long>(rem % 60));
  return buf;
}

std::optional<double> ParseDate(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SSZ
  if (t.size() != 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
      t[16] != ':' || t[19] != 'Z')
    return std::nullopt;
  const auto y = Digits(t.substr(0, 4)), mo = Digits(t.substr(5, 2)), d = Digits(t.substr(8, 2)),
             h = Digits(t.substr(11, 2)), mi = Digits(t.substr(14, 2)), s = Digits(t.substr(17, 2));
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  if (*mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 || *s > 60)
    return std::nullopt;
  const int64_t days = DaysFromCivil(*y, *mo, *d);
  return static_cast<double>(days * 86400 + *h * 3600 + *mi * 60 + *s);
}

std::optional<std::string> EscapeXmlText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7F) return std::nullopt;
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

VersionParts SplitVersion(std::string_view version) {
  VersionParts out;
  std::optional<int64_t>* parts[3] = {&out.major, &out.minor, &out.patch};
  version = TrimSpace(version);
  for (int i = 0; i < 3 && !version.empty(); ++i) {
    const size_t dot = version.find('.');
    *parts[i] = Digits(version.substr(0, dot));
    if (dot == std::string_view::npos) break;
    version.remove_prefix(dot + 1);
  }
  return out;
}

}  // namespace outpost::platform::plist
